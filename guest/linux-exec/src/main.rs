//! linux-exec: runs an unmodified, statically linked Linux x86-64 program
//! as process 1 in ring 3 (docs/protocol.md, "Running Linux programs").
//!
//! The host puts the program and its files in the initramfs, argv and
//! envp in the args block, and `init=PATH cwd=PATH` on the command line.
//! This image installs the Linux system call table and the Linux policy
//! for ring-3 exceptions (lazy pages; a crash kills the program with
//! 128 + signal), then hands over to `kernel::process::boot::run_init`.
//! When the program exits, the guest exits with its status.

#![no_std]
#![no_main]

use kernel::host::protocol::{BOOT_FLAG_TIMER, BOOT_FLAG_TRACE};

#[no_mangle]
pub extern "C" fn _start(boot_info_phys: u64) -> ! {
    let info = kernel::init(boot_info_phys);
    let trace = info.flags & BOOT_FLAG_TRACE != 0;
    // The tick that preempts programs, where the host has a local APIC
    // (TCG); before any process exists, so every address space maps it.
    if info.flags & BOOT_FLAG_TIMER != 0 {
        kernel::arch::apic::start();
    }
    kernel::syscall::install(&kernel::syscall::linux::LINUX, true, trace);
    kernel::process::trap::set_user_fault_handler(kernel::process::fault::user_exception);
    let cmdline = kernel::host::cmdline::boot();
    let Some(init) = cmdline.get("init").filter(|p| !p.is_empty()) else {
        kernel::notice!("linux-exec: no init=PATH on the kernel command line: nothing to run");
        kernel::process::exit(127)
    };
    let cwd = cmdline.get("cwd").unwrap_or(b"/");
    kernel::process::boot::run_init(info, init, cwd)
}
