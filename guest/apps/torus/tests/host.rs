//! On a machine without a framebuffer (like the build machines), the
//! programs must fail cleanly: one line on stderr, exit status 1. They are
//! real static Linux programs, so they run here as they are.

use std::path::Path;
use std::process::Command;

fn check(exe: &str, name: &str) {
    assert!(
        !Path::new("/dev/fb0").exists(),
        "this test checks how {name} fails without a framebuffer, and this machine has /dev/fb0 ({name} would draw on it): run it where there is none (build machines and CI have none)"
    );
    let out = Command::new(exe).output().expect("cannot run the program");
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("{name}: cannot open /dev/fb0: No such file or directory\n"));
    assert!(out.stdout.is_empty());
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn torus_without_a_framebuffer() {
    check(env!("CARGO_BIN_EXE_torus"), "torus");
}

#[test]
fn static_elf_without_interpreter() {
    let elf = std::fs::read(env!("CARGO_BIN_EXE_torus")).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(elf[4], 2, "not ELF64");
    assert_eq!(u16::from_le_bytes([elf[18], elf[19]]), 62, "not x86-64");
    assert_eq!(u16::from_le_bytes([elf[16], elf[17]]), 2, "not ET_EXEC");
    let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16::from_le_bytes([elf[54], elf[55]]) as usize, u16::from_le_bytes([elf[56], elf[57]]) as usize);
    for i in 0..phnum {
        let p_type = u32::from_le_bytes(elf[phoff + i * phentsize..][..4].try_into().unwrap());
        assert_ne!(p_type, 3, "PT_INTERP");
        assert_ne!(p_type, 2, "PT_DYNAMIC");
    }
}
