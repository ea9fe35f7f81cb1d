//! Builds the vDSO (`vdso/`): `as` and `ld` from binutils (which
//! guest/build.sh requires anyway) turn `vdso.S` into `$OUT_DIR/vdso.so`,
//! a tiny shared object that `src/vdso.rs` embeds and maps into every
//! process. Checked here: an ELF64 shared object with no relocations (the
//! kernel maps it as is).

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command, what: &str) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {what} ({cmd:?}): {e}; install binutils"));
    assert!(status.success(), "{what} failed: {cmd:?}");
}

/// `u64` at `at` of `b`, little-endian.
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

/// Panics unless `so` is an ELF64 x86-64 shared object whose dynamic
/// section asks for no relocation.
fn check(so: &Path) {
    let b = std::fs::read(so).unwrap();
    assert!(b.starts_with(b"\x7fELF\x02\x01"), "vdso.so: not ELF64 little-endian");
    assert_eq!(u16_at(&b, 16), 3, "vdso.so: not ET_DYN");
    assert_eq!(u16_at(&b, 18), 62, "vdso.so: not x86-64");
    let (phoff, phentsize, phnum) = (u64_at(&b, 32) as usize, u16_at(&b, 54) as usize, u16_at(&b, 56) as usize);
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32::from_le_bytes(b[ph..ph + 4].try_into().unwrap()) != 2 {
            continue; // not PT_DYNAMIC
        }
        let (off, size) = (u64_at(&b, ph + 8) as usize, u64_at(&b, ph + 32) as usize);
        for d in (off..off + size).step_by(16) {
            // DT_RELA, DT_REL, DT_TEXTREL, DT_JMPREL, DT_RELR
            let tag = u64_at(&b, d);
            assert!(!matches!(tag, 7 | 17 | 22 | 23 | 36), "vdso.so has relocations (dynamic tag {tag})");
        }
    }
}

fn main() {
    let src = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("vdso");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for f in ["vdso.S", "vdso.lds", "vdso.ver"] {
        println!("cargo:rerun-if-changed=vdso/{f}");
    }
    let obj = out.join("vdso.o");
    let so = out.join("vdso.so");
    run(
        Command::new("as").arg("--64").arg("-o").arg(&obj).arg(src.join("vdso.S")),
        "as (the vDSO)",
    );
    run(
        Command::new("ld")
            .args(["-shared", "-nostdlib", "-soname=linux-vdso.so.1", "--hash-style=both"])
            .args(["-z", "max-page-size=4096", "-z", "noexecstack", "--build-id=none", "-Bsymbolic", "-s"])
            .arg("-T")
            .arg(src.join("vdso.lds"))
            .arg(format!("--version-script={}", src.join("vdso.ver").display()))
            .arg("-o")
            .arg(&so)
            .arg(&obj),
        "ld (the vDSO)",
    );
    check(&so);
}
