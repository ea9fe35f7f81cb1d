//! The vDSO: code every process may call without entering the kernel,
//! as on Linux (`AT_SYSINFO_EHDR`, symbols of version `LINUX_2.6`).
//!
//! On PVM a system call costs ~17 us of transitions plus ~0.75 us for
//! every instruction the kernel then runs in emulated ring 0 (a
//! `clock_gettime` ~190 us in all), while ring 3 runs natively. So what
//! needs no privilege is done in ring 3: `__vdso_clock_gettime` reads the
//! frame clock of the display from a page the kernel shares read-only
//! (the "vvar" page) and falls back to the system call for every other
//! clock, and when no display is attached. The code is `../vdso/vdso.S`,
//! linked into a small shared object by `build.rs`.
//!
//! Every process gets, right above its mmap area (below the stack gap):
//!
//! | address | what |
//! | --- | --- |
//! | `VVAR_VA` | the vvar page, read-only: `Vvar` |
//! | `VDSO_VA` | the image (`AT_SYSINFO_EHDR`), read + execute |
//!
//! Both are the kernel's own pages (its image), mapped, never copied and
//! never freed (they lie below the frame allocator's floor); `mprotect`
//! can never make them writable. The vvar page is written only in ring 0
//! while no user code runs (one CPU, no preemption of ring 3), so the
//! vDSO needs no sequence count.

use crate::mm::addr::VirtAddr;
use crate::host::layout::PAGE_SIZE;
use crate::process::mm::{Mm, MMAP_TOP};
use crate::process::vmas::{Backing, VmaKind, PROT_EXEC, PROT_READ};
use crate::syscall::Errno;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The shared object, as `build.rs` linked it.
const BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));
/// The image in whole pages.
pub const LEN: usize = (BYTES.len() + PAGE_SIZE as usize - 1) & !(PAGE_SIZE as usize - 1);

/// The image, page-aligned, zero after the file's bytes (so mapping its
/// last page shows nothing else of the kernel).
#[repr(C, align(4096))]
struct Image([u8; LEN]);

static IMAGE: Image = Image(padded());

const fn padded() -> [u8; LEN] {
    let mut a = [0u8; LEN];
    let mut i = 0;
    while i < BYTES.len() {
        a[i] = BYTES[i];
        i += 1;
    }
    a
}

/// The vvar page: what the vDSO reads (offsets fixed by `vdso.S`).
#[repr(C, align(4096))]
pub struct Vvar {
    /// `CLOCK_MODE_*`.
    clock_mode: AtomicU32,
    _reserved: AtomicU32,
    /// The frame clock (`CLOCK_MODE_FRAME`), ns.
    frame_ns: AtomicU64,
}

const _: () = {
    assert!(core::mem::size_of::<Vvar>() == PAGE_SIZE as usize);
    assert!(core::mem::offset_of!(Vvar, clock_mode) == 0);
    assert!(core::mem::offset_of!(Vvar, frame_ns) == 8);
};

/// No clock in the vvar page: the vDSO makes the system call.
pub const CLOCK_MODE_NONE: u32 = 0;
/// The monotonic clocks are the display's frame clock, `frame_ns`.
pub const CLOCK_MODE_FRAME: u32 = 1;

static VVAR: Vvar = Vvar {
    clock_mode: AtomicU32::new(CLOCK_MODE_NONE),
    _reserved: AtomicU32::new(0),
    frame_ns: AtomicU64::new(0),
};

/// Where the vvar page is in every process: just above the mmap area.
pub const VVAR_VA: u64 = MMAP_TOP;
/// Where the image is: the page after the vvar page (`vdso.S` finds the
/// vvar page one page below its first byte).
pub const VDSO_VA: u64 = VVAR_VA + PAGE_SIZE;

/// The monotonic clocks read `ns` from now on (a display's frame clock;
/// `display` calls this whenever the mailbox's time changes).
pub fn set_frame_clock(ns: u64) {
    VVAR.frame_ns.store(ns, Ordering::Relaxed);
    VVAR.clock_mode.store(CLOCK_MODE_FRAME, Ordering::Relaxed);
}

/// Maps the vvar page and the image into `mm` (a new address space) and
/// returns the image's address, for `AT_SYSINFO_EHDR`.
pub fn map(mm: &mut Mm) -> Result<u64, Errno> {
    let phys = |p: *const u8| {
        VirtAddr::from_ptr(p)
            .kernel_to_phys()
            .expect("the vDSO is in the kernel image")
            .as_u64()
    };
    let areas = [
        (VVAR_VA, PAGE_SIZE, phys((&raw const VVAR).cast()), PROT_READ),
        (VDSO_VA, LEN as u64, phys(IMAGE.0.as_ptr()), PROT_READ | PROT_EXEC),
    ];
    for (va, len, phys, prot) in areas {
        mm.add_file_area(va, va + len, prot, VmaKind::Device, Some(Backing { va, phys, len }));
        if let Some(v) = mm.vmas.find_mut(va) {
            v.max_prot = prot;
        }
    }
    mm.populate(VVAR_VA, VDSO_VA + LEN as u64)?;
    Ok(VDSO_VA)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    /// The dynamic symbols by name, as a libc finds them: PT_DYNAMIC's
    /// DT_SYMTAB, DT_STRTAB and DT_HASH (the symbol count), addresses
    /// relative to the image (it is linked at 0).
    fn symbols(b: &[u8]) -> Vec<(String, u64)> {
        let (phoff, phnum) = (u64_at(b, 32) as usize, u16_at(b, 56) as usize);
        let dynamic = (0..phnum)
            .map(|i| phoff + i * 56)
            .find(|&ph| u32_at(b, ph) == 2)
            .map(|ph| u64_at(b, ph + 8) as usize)
            .expect("PT_DYNAMIC");
        let (mut symtab, mut strtab, mut hash) = (0, 0, 0);
        for d in (dynamic..).step_by(16) {
            match u64_at(b, d) {
                0 => break,
                4 => hash = u64_at(b, d + 8) as usize,
                5 => strtab = u64_at(b, d + 8) as usize,
                6 => symtab = u64_at(b, d + 8) as usize,
                _ => {}
            }
        }
        let count = u32_at(b, hash + 4) as usize;
        (0..count)
            .map(|i| {
                let s = symtab + i * 24;
                let name = strtab + u32_at(b, s) as usize;
                let end = name + b[name..].iter().position(|&c| c == 0).unwrap();
                (String::from_utf8(b[name..end].to_vec()).unwrap(), u64_at(b, s + 8))
            })
            .collect()
    }

    #[test]
    fn the_image_is_a_shared_object_with_clock_gettime() {
        assert!(BYTES.starts_with(b"\x7fELF\x02\x01"));
        assert_eq!(u16_at(BYTES, 16), 3, "ET_DYN");
        assert!(BYTES.len() <= LEN && LEN % 4096 == 0);
        assert!(IMAGE.0[BYTES.len()..].iter().all(|&b| b == 0), "zero padding");
        let syms = symbols(BYTES);
        let at = |n: &str| syms.iter().find(|s| s.0 == n).map(|s| s.1);
        let f = at("__vdso_clock_gettime").expect("__vdso_clock_gettime");
        assert!(f > 0 && (f as usize) < BYTES.len());
        assert_eq!(at("clock_gettime"), Some(f));
    }

    /// `vdso.S` hard-codes where the vvar fields are: they must be `Vvar`'s.
    #[test]
    fn vdso_s_agrees_with_vvar() {
        let src = include_str!("../../vdso/vdso.S");
        let set = |name: &str| {
            src.lines()
                .find_map(|l| l.trim().strip_prefix(&format!(".set {name}, ")))
                .unwrap_or_else(|| panic!("{name} in vdso.S"))
                .to_string()
        };
        assert_eq!(set("VVAR"), format!("-{PAGE_SIZE}"));
        assert_eq!(VDSO_VA - VVAR_VA, PAGE_SIZE);
        assert_eq!(set("VVAR_CLOCK_MODE"), "VVAR + 0");
        assert_eq!(set("VVAR_FRAME_NS"), "VVAR + 8");
        assert_eq!(set("CLOCK_MODE_FRAME"), CLOCK_MODE_FRAME.to_string());
        assert_eq!(set("SYS_clock_gettime"), crate::syscall::nr::CLOCK_GETTIME.to_string());
        // The frame clock stands for exactly the clocks `now` gives it to.
        let mask = (0..32u64)
            .filter(|&c| {
                matches!(
                    c,
                    crate::syscall::time::CLOCK_MONOTONIC
                        | crate::syscall::time::CLOCK_MONOTONIC_RAW
                        | crate::syscall::time::CLOCK_MONOTONIC_COARSE
                        | crate::syscall::time::CLOCK_BOOTTIME
                        | crate::syscall::time::CLOCK_BOOTTIME_ALARM
                )
            })
            .map(|c| format!("(1 << {c})"))
            .collect::<Vec<_>>()
            .join(" | ");
        assert_eq!(set("FRAME_CLOCKS"), mask);
    }
}
