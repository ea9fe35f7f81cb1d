//! The stack a program starts on, laid out as Linux's `create_elf_tables`
//! does (System V x86-64 ABI), from the top down:
//!
//! ```text
//! top - 8          8 zero bytes (end marker)
//!                  execfn: the program's path, NUL-terminated
//!                  argv strings, then envp strings (the args block's,
//!                  contiguous, copied by one hypercall)
//!                  (aligned down to 16)
//!                  "x86_64\0" (AT_PLATFORM)
//!                  16 random bytes (AT_RANDOM)
//! sp (16-aligned)  argc, argv[0..argc], NULL, envp[0..envc], NULL,
//!                  auxv pairs, AT_NULL
//! ```

use crate::syscall::Errno;
use alloc::vec::Vec;

pub const AT_NULL: u64 = 0;
pub const AT_PHDR: u64 = 3;
pub const AT_PHENT: u64 = 4;
pub const AT_PHNUM: u64 = 5;
pub const AT_PAGESZ: u64 = 6;
pub const AT_BASE: u64 = 7;
pub const AT_FLAGS: u64 = 8;
pub const AT_ENTRY: u64 = 9;
pub const AT_UID: u64 = 11;
pub const AT_EUID: u64 = 12;
pub const AT_GID: u64 = 13;
pub const AT_EGID: u64 = 14;
pub const AT_PLATFORM: u64 = 15;
pub const AT_HWCAP: u64 = 16;
pub const AT_CLKTCK: u64 = 17;
pub const AT_SECURE: u64 = 23;
pub const AT_RANDOM: u64 = 25;
pub const AT_HWCAP2: u64 = 26;
pub const AT_EXECFN: u64 = 31;
pub const AT_SYSINFO_EHDR: u64 = 33;
pub const AT_MINSIGSTKSZ: u64 = 51;

pub const PLATFORM: &[u8] = b"x86_64";
/// Linux's `MINSIGSTKSZ` (what AT_MINSIGSTKSZ reports here).
pub const MIN_SIGNAL_STACK: u64 = 2048;
/// Linux's USER_HZ.
pub const CLOCK_TICKS: u64 = 100;

/// What the auxiliary vector tells the program about itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Aux {
    pub phdr: u64,
    pub phnum: u64,
    pub entry: u64,
    /// Where the dynamic loader is (its load bias), 0 without one.
    pub base: u64,
    /// CPUID.1:EDX, as Linux's ELF_HWCAP.
    pub hwcap: u64,
    /// Where the vDSO is mapped (`AT_SYSINFO_EHDR`).
    pub vdso: u64,
}

/// Where everything goes, and the words to write at `sp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub sp: u64,
    pub strings: u64,
    pub execfn: u64,
    pub platform: u64,
    pub random: u64,
    pub words: Vec<u64>,
}

pub use crate::bytes::find_nul;

/// Where each of the first `count` NUL-terminated strings of `block`
/// starts, and the length of those strings with their NULs. None if one
/// has no NUL.
pub fn string_offsets(block: &[u8], count: usize) -> Option<(Vec<u32>, usize)> {
    let mut offsets = Vec::with_capacity(count);
    let mut at = 0;
    for _ in 0..count {
        offsets.push(at as u32);
        at += find_nul(block.get(at..)?)? + 1;
    }
    Some((offsets, at))
}

/// Plans the stack below `top` for `offsets.len()` strings (`argc` of
/// them arguments, the rest environment) taking `strings_len` bytes.
/// E2BIG if it needs more than `max` bytes.
pub fn layout(
    top: u64,
    strings_len: usize,
    offsets: &[u32],
    argc: usize,
    execfn_len: usize,
    aux: &Aux,
    max: u64,
) -> Result<Layout, Errno> {
    let envc = offsets.len() - argc;
    let execfn = top - 8 - (execfn_len as u64 + 1);
    let strings = execfn - strings_len as u64;
    let platform = (strings & !15) - (PLATFORM.len() as u64 + 1);
    let random = platform - 16;
    let ptr = |i: usize| strings + offsets[i] as u64;
    let mut words = Vec::with_capacity(3 + offsets.len() + 2 * 22);
    words.push(argc as u64);
    words.extend((0..argc).map(ptr));
    words.push(0);
    words.extend((argc..argc + envc).map(ptr));
    words.push(0);
    let auxv = [
        (AT_SYSINFO_EHDR, aux.vdso),
        (AT_MINSIGSTKSZ, MIN_SIGNAL_STACK),
        (AT_HWCAP, aux.hwcap),
        (AT_PAGESZ, crate::host::layout::PAGE_SIZE),
        (AT_CLKTCK, CLOCK_TICKS),
        (AT_PHDR, aux.phdr),
        (AT_PHENT, crate::process::elf::PHDR_SIZE as u64),
        (AT_PHNUM, aux.phnum),
        (AT_BASE, aux.base),
        (AT_FLAGS, 0),
        (AT_ENTRY, aux.entry),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_SECURE, 0),
        (AT_RANDOM, random),
        (AT_HWCAP2, 0),
        (AT_EXECFN, execfn),
        (AT_PLATFORM, platform),
        (AT_NULL, 0),
    ];
    for (k, v) in auxv {
        words.push(k);
        words.push(v);
    }
    let sp = (random - 8 * words.len() as u64) & !15;
    if top - sp > max {
        return Err(Errno::E2BIG);
    }
    Ok(Layout {
        sp,
        strings,
        execfn,
        platform,
        random,
        words,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        let (o, len) = string_offsets(b"busybox\0echo\0\0PATH=/bin\0junk", 4).unwrap();
        assert_eq!(o, [0, 8, 13, 14]);
        assert_eq!(len, 24);
        assert_eq!(string_offsets(b"a\0b", 2), None);
        assert_eq!(string_offsets(b"a\0", 2), None);
        assert_eq!(string_offsets(b"", 0), Some((vec![], 0)));
    }

    /// Walks the layout the way a libc's `_start` and `getauxval` do.
    #[test]
    fn reads_back_like_a_libc() {
        let block = b"busybox\0echo\0hi\0PATH=/bin\0HOME=/\0";
        let (offsets, len) = string_offsets(block, 5).unwrap();
        let aux = Aux {
            phdr: 0x400040,
            phnum: 10,
            entry: 0x401000,
            base: 0x7fff_e7fc_3000,
            hwcap: 0x178bfbff,
            vdso: 0x7fff_f000_1000,
        };
        let top = 0x7fff_ffff_f000u64;
        let l = layout(top, len, &offsets, 3, b"/bin/busybox".len(), &aux, 65536).unwrap();
        assert_eq!(l.sp % 16, 0, "the ABI wants RSP 16-aligned at entry");
        assert_eq!(l.execfn + 13 + 8, top);
        assert_eq!(l.strings + len as u64, l.execfn);
        assert!(l.random + 16 <= l.platform && l.platform + 7 <= l.strings);
        assert!(l.sp + 8 * l.words.len() as u64 <= l.random);
        let w = &l.words;
        assert_eq!(w[0], 3, "argc");
        assert_eq!(w[1..4], [l.strings, l.strings + 8, l.strings + 13]);
        assert_eq!(w[4], 0);
        assert_eq!(w[5..7], [l.strings + 16, l.strings + 26]);
        assert_eq!(w[7], 0);
        let auxv: Vec<(u64, u64)> = w[8..].chunks(2).map(|p| (p[0], p[1])).collect();
        let get = |k| auxv.iter().find(|p| p.0 == k).map(|p| p.1);
        assert_eq!(get(AT_PHDR), Some(0x400040));
        assert_eq!(get(AT_PHENT), Some(56));
        assert_eq!(get(AT_PHNUM), Some(10));
        assert_eq!(get(AT_PAGESZ), Some(4096));
        assert_eq!(get(AT_ENTRY), Some(0x401000));
        assert_eq!(get(AT_BASE), Some(0x7fff_e7fc_3000), "the loader's base");
        assert_eq!(get(AT_RANDOM), Some(l.random));
        assert_eq!(get(AT_EXECFN), Some(l.execfn));
        assert_eq!(get(AT_PLATFORM), Some(l.platform));
        assert_eq!(get(AT_HWCAP), Some(0x178bfbff));
        assert_eq!(auxv[0], (AT_SYSINFO_EHDR, 0x7fff_f000_1000), "first, as Linux's ARCH_DLINFO");
        assert_eq!(get(AT_CLKTCK), Some(100));
        assert_eq!(get(AT_SECURE), Some(0));
        assert_eq!(auxv.last(), Some(&(AT_NULL, 0)));
        assert_eq!(
            layout(top, len, &offsets, 3, 12, &aux, 256),
            Err(Errno::E2BIG)
        );
    }
}
