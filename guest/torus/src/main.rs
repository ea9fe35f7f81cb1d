//! torus: runs the ring-3 demo `/bin/torus` (a static Linux program built by
//! `guest/apps`, put in the initramfs by the host) as process 1, with the
//! Linux system calls and the display devices `/dev/fb0` and
//! `/dev/input/event0` (docs/protocol.md, "The screen"). The guest exits
//! with the program's status. `init=PATH` on the command line runs
//! another program instead.

#![no_std]
#![no_main]

#[no_mangle]
pub extern "C" fn _start(boot_info_phys: u64) -> ! {
    kernel::process::boot::run_linux_image(boot_info_phys, b"/bin/torus")
}
