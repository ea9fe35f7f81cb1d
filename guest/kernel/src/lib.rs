//! The kvmos kernel library: everything a kvmos guest image links.
//!
//! The host enters a kernel image in 64-bit ring 0 (docs/protocol.md); the
//! image's `_start` calls [`init`], which first keeps the entry state
//! ([`entry`]) and chooses the hypercall transport from the BootInfo flags
//! ([`hypercall::select_transport`]), then sets up, in order: the GDT and
//! TSS (the boot GDT's linear address is not mapped, so nothing may load a
//! segment or take an exception before this), the IDT (from then on every
//! exception is reported), paging (frame allocator, kernel address space)
//! and the system call entry.
//!
//! Ring 0 is emulated at ~2 M instructions/s on PVM and cannot run SSE
//! arithmetic, so this crate is built soft-float and kept small: no big
//! loops, no copying or zeroing of large buffers in ring 0 (except on
//! QEMU TCG, where ring 0 is fast and the guest must write program text
//! itself: `hypercall::send`).
//!
//! Off the guest (`cargo test`), the pure logic compiles and is tested;
//! privileged instructions panic (see `cpu`).

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

pub mod arch;
pub mod bytes;
pub mod dev;
#[cfg(test)]
mod fuzz;
pub mod host;
pub mod mm;
pub mod process;
pub mod sync;
pub mod syscall;
pub mod vfs;

use core::sync::atomic::{AtomicPtr, Ordering};
use arch::{entry, gdt, idt};
use host::{hypercall, layout, protocol};
use mm::{addr, paging};
use protocol::BootInfo;

static BOOT_INFO: AtomicPtr<BootInfo> = AtomicPtr::new(core::ptr::null_mut());

/// Sets up the CPU and memory management; `boot_info_phys` is what the
/// host put in RDI (`BOOT_INFO_ADDR`). Panics (reported to the host) if
/// the BootInfo is not one this kernel understands.
pub fn init(boot_info_phys: u64) -> &'static BootInfo {
    // First, before anything changes them (gdt::init reloads CS, paging
    // CR3): the registers the host entered with, for `entry::get`.
    entry::capture();
    // Before any hypercall can happen (a panic sends one).
    hypercall::select_transport(raw_boot_flags(boot_info_phys));
    gdt::init();
    idt::init();
    let info = read_boot_info(boot_info_phys);
    paging::init(info);
    #[cfg(target_os = "none")]
    syscall::init();
    info
}

/// BootInfo.flags read raw, before `read_boot_info` validates it (which
/// may panic, and a panic is a hypercall: the transport must be chosen
/// first). 0 (KVM's transport) if `phys` cannot hold a BootInfo inside the
/// RAM every guest has; `read_boot_info` then reports it.
fn raw_boot_flags(phys: u64) -> u64 {
    let fits = phys
        .checked_add(protocol::BOOT_INFO_SIZE as u64)
        .is_some_and(|end| end <= layout::MIN_RAM_SIZE);
    if !phys.is_multiple_of(8) || !fits {
        return 0;
    }
    let at = phys + core::mem::offset_of!(BootInfo, flags) as u64;
    // SAFETY: inside the smallest RAM, which the boot direct map covers;
    // the host wrote the BootInfo before entry.
    unsafe { core::ptr::read_volatile(addr::PhysAddr::new(at).to_direct_map().as_ptr::<u64>()) }
}

fn read_boot_info(phys: u64) -> &'static BootInfo {
    let va = addr::PhysAddr::new(phys).to_direct_map();
    assert!(
        va.is_aligned(8),
        "BootInfo address {phys:#x} is not 8-byte aligned"
    );
    let ptr = va.as_mut_ptr::<BootInfo>();
    // SAFETY: the host wrote a BootInfo at `phys` (docs/protocol.md), which
    // the direct map covers; nothing writes it afterwards.
    let info: &'static BootInfo = unsafe { &*ptr };
    if let Err(e) = info.validate() {
        panic!(
            "BootInfo at {phys:#x}: {e} (magic {:#x}, version {})",
            info.magic, info.version
        );
    }
    BOOT_INFO.store(ptr, Ordering::Relaxed);
    info
}

/// The BootInfo `init` accepted.
pub fn boot_info() -> &'static BootInfo {
    let ptr = BOOT_INFO.load(Ordering::Relaxed);
    assert!(!ptr.is_null(), "kernel::init has not run");
    // SAFETY: set once by `init` to a validated, never-written BootInfo.
    unsafe { &*ptr }
}
