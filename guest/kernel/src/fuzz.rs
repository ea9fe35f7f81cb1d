//! Seeded fuzzing of the kernel's parsers of outside input (issue 10):
//! `process/elf.rs` (programs from the initramfs, execve), `vfs/initramfs.rs` (the
//! archive the host builds) and the command line (`host/cmdline.rs`). Host-
//! compiled tests (a debug build: overflow checks on, so a wrapped sum is
//! a panic) with a small xorshift generator; crates.io is out of reach.
//!
//! `cargo test` runs each target with KVMOS_FUZZ_TEST_N inputs (default
//! 3000); the `#[ignore]`d `*_long` variants run KVMOS_FUZZ_N (default
//! 100,000) for `pnpm fuzz`, which reads their `fuzz-result` lines.

use crate::host::cmdline::{parse_u64, Cmdline};
use crate::process::elf::{self, IMAGE_LIMIT, PF_X};
use crate::vfs::initramfs::Reader;
use std::{env, println, time::Instant, vec::Vec};

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1))
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 16) % n
    }
    /// 0, small, a power of two +-1, near 2^64, or anything.
    fn edgy(&mut self) -> u64 {
        match self.below(5) {
            0 => 0,
            1 => self.below(8192),
            2 => (1u64 << self.below(64)).wrapping_add(self.below(3)).wrapping_sub(1),
            3 => 0u64.wrapping_sub(self.below(8192)),
            _ => self.next(),
        }
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// `base` with a few bytes or words changed, maybe cut or grown.
    fn mutate(&mut self, base: &[u8]) -> Vec<u8> {
        let mut b = base.to_vec();
        for _ in 0..1 + self.below(8) {
            if b.is_empty() {
                break;
            }
            let at = self.below(b.len() as u64) as usize;
            match self.below(4) {
                0 => b[at] = self.next() as u8,
                1 => b[at] ^= 1 << self.below(8),
                2 if at + 8 <= b.len() => {
                    let v = self.edgy();
                    b[at..at + 8].copy_from_slice(&v.to_le_bytes())
                }
                _ => b[at] = [0u8, 0xff, b'0', b'f', b'!'][self.below(5) as usize],
            }
        }
        match self.below(8) {
            0 => {
                let n = self.below(b.len() as u64 + 1) as usize;
                b.truncate(n)
            }
            1 => {
                let extra = self.below(64) as usize;
                b.extend(self.bytes(extra))
            }
            _ => {}
        }
        b
    }
}

fn inputs(var: &str, default: u64) -> u64 {
    env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `n` inputs (input i from seed + i); a panic fails the test, naming the seed.
/// `one` says whether the input was accepted (parsed without error): the
/// count shows the generator gets past the first checks.
fn run(name: &str, what: &str, n: u64, mut one: impl FnMut(&mut Rng) -> bool) {
    let seed = inputs("KVMOS_FUZZ_SEED", 1);
    let (mut slowest, mut slowest_seed, mut accepted) = (0u128, seed, 0u64);
    let start = Instant::now();
    for i in 0..n {
        let s = seed + i;
        let t = Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| one(&mut Rng::new(s))));
        accepted += u64::from(r.unwrap_or_else(|_| panic!("fuzz {name}: input with seed {s} panicked")));
        let us = t.elapsed().as_micros();
        if us > slowest {
            (slowest, slowest_seed) = (us, s);
        }
    }
    println!(
        "fuzz-result {name}|{what}|{n}|0|{slowest}|{slowest_seed}|{}|{accepted}",
        start.elapsed().as_millis()
    );
}

// ---- elf.rs ----

fn elf_one(rng: &mut Rng) -> bool {
    let rx = PF_X | 4;
    let seed = match rng.below(4) {
        3 => {
            // A PIE naming its loader.
            let mut f = elf::tests::elf(
                elf::ET_DYN,
                0x1100,
                &[(3, 4, 0x200, 0x200, 28, 28, 1), (1, rx, 0, 0, 0x2000, 0x2000, 0x1000)],
                0x2000,
            );
            f[0x200..0x21c].copy_from_slice(b"/lib64/ld-linux-x86-64.so.2\0");
            f
        }
        0 => elf::tests::elf(elf::ET_EXEC, 0x401000, &[(1, rx, 0, 0x400000, 0x2000, 0x2000, 0x1000)], 0x2000),
        1 => elf::tests::elf(
            elf::ET_DYN,
            0x1100,
            &[(6, 4, 64, 64, 112, 112, 8), (1, rx, 0, 0, 0x2000, 0x2000, 0x200000), (1, 6, 0x2000, 0x3000, 0x100, 0x5000, 0x1000)],
            0x2100,
        ),
        _ => {
            let n = rng.below(512) as usize;
            rng.bytes(n)
        }
    };
    let file = if rng.below(8) == 0 { seed } else { rng.mutate(&seed) };
    if let Ok(p) = elf::parse(&file) {
        // What the loader relies on: segments in order, inside user space,
        // their file bytes inside the file, the entry in an executable one.
        let mut prev_end = 0;
        for s in &p.segments {
            let end = s.vaddr.checked_add(s.memsz).expect("segment end wraps");
            assert!(end <= IMAGE_LIMIT && s.vaddr >= prev_end && s.filesz <= s.memsz);
            assert!(s.offset.checked_add(s.filesz).is_some_and(|e| e <= file.len() as u64));
            let (lo, hi) = s.pages();
            assert!(lo <= s.vaddr && hi >= end);
            prev_end = end;
        }
        assert!(p.end <= IMAGE_LIMIT);
        assert!(p
            .segments
            .iter()
            .any(|s| s.flags & PF_X != 0 && s.vaddr <= p.entry && p.entry < s.vaddr + s.memsz));
        assert!(p.interp.is_none_or(|i| !i.is_empty() && !i.contains(&0)));
        // The same file as a dynamic loader, placed near the top of the
        // mmap area (exec's `load_loader`): inside the limit, span exact.
        let top = crate::process::mm::MMAP_TOP;
        let base = rng.below(top);
        if let Ok(l) = elf::parse_at(&file, base, top) {
            assert!(l.end <= top && l.segments.iter().all(|s| s.vaddr + s.memsz <= top));
            let first = l.segments[0].pages().0;
            assert_eq!(first + l.span(), (l.end + 4095) & !4095);
            if l.dynamic {
                assert!(first >= base && l.bias % l.align == 0);
            }
        }
        return true;
    }
    false
}

#[test]
fn elf() {
    run("elf.rs", "elf::parse: valid ET_EXEC/ET_DYN mutated, or random bytes", inputs("KVMOS_FUZZ_TEST_N", 3000), elf_one);
}

#[test]
#[ignore = "long: pnpm fuzz"]
fn elf_long() {
    run("elf.rs", "elf::parse: valid ET_EXEC/ET_DYN mutated, or random bytes", inputs("KVMOS_FUZZ_N", 100_000), elf_one);
}

// ---- initramfs.rs ----

fn initramfs_one(rng: &mut Rng) -> bool {
    let seed = crate::vfs::initramfs::tests::archive(&[
        ("bin", 0o040755, b""),
        ("bin/sh", 0o100755, b"#!/bin/sh\necho hello\n"),
        ("lib", 0o120777, b"bin"),
        ("dev/fb0", 0o020666, b""),
    ]);
    let bytes = match rng.below(8) {
        0 => {
            let n = rng.below(600) as usize;
            rng.bytes(n)
        }
        _ => rng.mutate(&seed),
    };
    // Every entry lies inside the archive, and the walk ends: at most one
    // entry per header's worth of bytes, plus the error that ends it.
    let mut n = 0;
    for e in Reader::new(&bytes) {
        n += 1;
        assert!(n <= bytes.len() / crate::vfs::initramfs::HEADER_SIZE + 2, "the reader does not end");
        match e {
            Ok(e) => {
                assert!(e.data_offset.checked_add(e.data.len()).is_some_and(|end| end <= bytes.len()));
            }
            Err(_) => return false,
        }
    }
    true
}

#[test]
fn initramfs() {
    run("initramfs.rs", "initramfs::Reader: a valid newc archive mutated, or random bytes", inputs("KVMOS_FUZZ_TEST_N", 3000), initramfs_one);
}

#[test]
#[ignore = "long: pnpm fuzz"]
fn initramfs_long() {
    run("initramfs.rs", "initramfs::Reader: a valid newc archive mutated, or random bytes", inputs("KVMOS_FUZZ_N", 100_000), initramfs_one);
}

// ---- cmdline.rs ----

fn cmdline_one(rng: &mut Rng) -> bool {
    const ALPHABET: &[u8] = b"ab= \t0123456789xXinit/cwd=-\0\xff";
    let len = rng.below(80) as usize;
    let bytes: Vec<u8> = (0..len).map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize]).collect();
    let c = Cmdline::new(&bytes);
    for w in c.words() {
        assert!(!w.key.is_empty() || w.value.is_some());
        let _ = c.get(core::str::from_utf8(w.key).unwrap_or("a"));
    }
    for key in ["init", "cwd", "a", "b", ""] {
        let _ = (c.get_str(key), c.get_u64(key), c.has_flag(key));
    }
    // parse_u64 agrees with the standard library on decimal text.
    let digits: Vec<u8> = (0..rng.below(24)).map(|_| b'0' + rng.below(10) as u8).collect();
    if let Ok(s) = core::str::from_utf8(&digits) {
        if !s.is_empty() && !s.starts_with('0') {
            assert_eq!(parse_u64(&digits).ok(), s.parse::<u64>().ok(), "{s}");
        }
    }
    parse_u64(&bytes).is_ok() || c.words().next().is_some()
}

#[test]
fn cmdline() {
    run("cmdline.rs", "Cmdline words/get/get_u64 and parse_u64 on random words", inputs("KVMOS_FUZZ_TEST_N", 3000), cmdline_one);
}

#[test]
#[ignore = "long: pnpm fuzz"]
fn cmdline_long() {
    run("cmdline.rs", "Cmdline words/get/get_u64 and parse_u64 on random words", inputs("KVMOS_FUZZ_N", 100_000), cmdline_one);
}
