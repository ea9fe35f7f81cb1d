//! Hypercalls: `out dx, eax` to the ports of docs/protocol.md, from ring 0.
//! Each costs one exit to the host (~8 us here), so callers batch.

use crate::addr::VirtAddr;
use crate::cpu;
use crate::layout::{PORT_CONSOLE, PORT_EXIT, PORT_FAULT};
use crate::protocol::{ConsoleWrite, FaultReport, Segment};

/// The 32-bit physical address of a hypercall argument. Arguments live in
/// the kernel image, on a kernel stack or in the direct map, whose
/// physical addresses are known without a page walk.
fn phys_of<T>(arg: &T) -> u32 {
    VirtAddr::from_ptr(arg)
        .kernel_to_phys()
        .and_then(|pa| u32::try_from(pa.as_u64()).ok())
        .expect("hypercall argument outside the kernel windows")
}

/// Ends the guest; the host exits with `code & 0xff`.
pub fn exit(code: u32) -> ! {
    // SAFETY: the exit port takes a plain value and does not return.
    unsafe { cpu::out32(PORT_EXIT, code) };
    cpu::halt_forever()
}

/// Writes the physical `segments` (at most 64, 1 MiB in all; the rest is
/// dropped) to the host's `fd` (1 or 2) in one hypercall and returns the
/// host's result: bytes written, or `-errno`.
pub fn console_write(fd: u32, segments: &[Segment]) -> i64 {
    let mut msg = ConsoleWrite::new(fd);
    for s in segments {
        msg.push(s.addr, s.len);
    }
    send_console_write(&mut msg)
}

/// Sends a prepared `msg` (fd and physical segments) to the host's
/// stdout/stderr and returns the host's result: bytes written, or
/// `-errno`. An empty message is not sent.
pub fn send_console_write(msg: &mut ConsoleWrite) -> i64 {
    if msg.count() == 0 {
        return 0;
    }
    let pa = phys_of(msg);
    // SAFETY: `msg` is an initialized ConsoleWrite at `pa` (header and
    // `count` segments); the host checks that each segment lies in RAM.
    unsafe { cpu::out32(PORT_CONSOLE, pa) };
    // SAFETY: a field of a live value; volatile because the host wrote it.
    unsafe { core::ptr::read_volatile(&msg.result) }
}

/// Reports an exception or panic; the host prints it and stops the guest.
pub fn fault(report: &FaultReport) -> ! {
    let pa = phys_of(report);
    // SAFETY: `report` is an initialized FaultReport at `pa`.
    unsafe { cpu::out32(PORT_FAULT, pa) };
    cpu::halt_forever()
}
