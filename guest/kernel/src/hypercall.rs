//! Hypercalls: `out dx, eax` to the ports of docs/protocol.md, from ring 0.
//! Each costs one exit to the host (~8 us here), so callers batch.

use crate::addr::VirtAddr;
use crate::cpu;
use crate::layout::{
    PORT_CLOCK, PORT_CONSOLE, PORT_CONSOLE_READ, PORT_COPY, PORT_EXIT, PORT_FAULT, PORT_LOG,
    PORT_RANDOM, PORT_TRACE, PORT_TTY, PORT_UNKNOWN_SYSCALL,
};
use crate::protocol::{
    Clock, ConsoleWrite, Copy, FaultReport, IoVec, Log, Segment, Termios, Trace, Tty,
    COPY_FLAG_ZERO, LOG_MESSAGE_MAX, TTY_OP_SET_MODES, TTY_OP_WAIT_INPUT,
};

/// The 32-bit physical address of a hypercall argument. Arguments live in
/// the kernel image, on a kernel stack or in the direct map, whose
/// physical addresses are known without a page walk.
fn phys_of<T>(arg: &T) -> u32 {
    VirtAddr::from_ptr(arg)
        .kernel_to_phys()
        .and_then(|pa| u32::try_from(pa.as_u64()).ok())
        .expect("hypercall argument outside the kernel windows")
}

/// The physical address of kernel bytes (image or direct map), as a u64.
pub fn phys_of_bytes(bytes: &[u8]) -> u64 {
    VirtAddr::from_ptr(bytes.as_ptr())
        .kernel_to_phys()
        .expect("hypercall buffer outside the kernel windows")
        .as_u64()
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

/// Sends an IoVec request (`consoleRead` or `random`) and returns the
/// host's result. An empty request is not sent (result 0).
fn send_iovec(port: u16, msg: &mut IoVec) -> i64 {
    if msg.count() == 0 {
        return 0;
    }
    let pa = phys_of(msg);
    // SAFETY: `msg` is an initialized IoVec request at `pa` whose segments
    // are guest RAM the host may write (the caller owns them).
    unsafe { cpu::out32(port, pa) };
    // SAFETY: a field of a live value; volatile because the host wrote it.
    unsafe { core::ptr::read_volatile(&msg.result) }
}

/// One read of the host's stdin into the physical segments of `msg` (fd
/// 0): bytes read (0 at end of file) or `-errno`.
pub fn console_read(msg: &mut IoVec) -> i64 {
    send_iovec(PORT_CONSOLE_READ, msg)
}

/// Fills the physical segments of `msg` (fd 0) with random bytes; returns
/// how many.
pub fn random(msg: &mut IoVec) -> i64 {
    send_iovec(PORT_RANDOM, msg)
}

fn send_copy(c: &Copy) {
    if c.len == 0 {
        return;
    }
    let pa = phys_of(c);
    // SAFETY: `c` is an initialized Copy; both ranges are guest RAM the
    // caller owns (the host checks they lie in RAM).
    unsafe { cpu::out32(PORT_COPY, pa) };
}

/// `memmove(dst, src, len)` on guest-physical memory, done by the host in
/// one exit (instead of ~len emulated instructions in ring 0).
pub fn copy(dst: u64, src: u64, len: u64) {
    send_copy(&Copy {
        dst,
        src,
        len,
        flags: 0,
    });
}

/// Fills guest-physical `[dst, dst + len)` with zeros, in one exit.
pub fn zero(dst: u64, len: u64) {
    send_copy(&Copy {
        dst,
        src: 0,
        len,
        flags: COPY_FLAG_ZERO,
    });
}

/// The host's clocks.
pub fn clock() -> Clock {
    let mut c = Clock::default();
    let p: *mut Clock = &mut c;
    let pa = phys_of(&c);
    // SAFETY: `c` is a Clock the host fills in.
    unsafe { cpu::out32(PORT_CLOCK, pa) };
    // SAFETY: a live value; volatile because the host wrote it.
    unsafe { core::ptr::read_volatile(p) }
}

fn send_tty(t: &mut Tty) -> i64 {
    let p: *mut Tty = t;
    let pa = phys_of(t);
    // SAFETY: `t` is an initialized Tty; the host writes only its result.
    unsafe { cpu::out32(PORT_TTY, pa) };
    // SAFETY: a live value; volatile because the host wrote it.
    unsafe { core::ptr::read_volatile(p) }.result
}

/// Sets the host terminal's modes to `termios` (`action`: TTY_ACTION_*);
/// the host's result: 0 or -errno.
pub fn tty_set_modes(action: u32, termios: &Termios) -> i64 {
    send_tty(&mut Tty {
        op: TTY_OP_SET_MODES,
        action,
        termios: *termios,
        ..Tty::default()
    })
}

/// Waits up to `timeout_ms` (-1: for ever; 0: only looks) for input on
/// the host's terminal; true if there is some.
pub fn tty_wait_input(timeout_ms: i64) -> bool {
    send_tty(&mut Tty {
        op: TTY_OP_WAIT_INPUT,
        timeout_ms,
        ..Tty::default()
    }) > 0
}

/// One strace-like line on the host's stderr.
pub fn trace(nr: u64, args: &[u64; 6], result: i64) {
    let t = Trace {
        nr,
        args: *args,
        result,
    };
    let pa = phys_of(&t);
    // SAFETY: `t` is an initialized Trace; the host only reads it (and,
    // for string arguments, user memory through the current page tables).
    unsafe { cpu::out32(PORT_TRACE, pa) };
}

/// A message on the host's stderr: `kind` 1 always, 0 with `--verbose`.
/// `message` must be in kernel memory (image or direct map); it is cut at
/// `LOG_MESSAGE_MAX` bytes.
pub fn log(kind: u32, message: &[u8]) {
    let len = message.len().min(LOG_MESSAGE_MAX);
    let l = Log {
        kind,
        len: len as u32,
        addr: phys_of_bytes(message),
    };
    let pa = phys_of(&l);
    // SAFETY: `l` is an initialized Log whose message lies in RAM.
    unsafe { cpu::out32(PORT_LOG, pa) };
}

/// Tells the host the program called system call `nr`, which the kernel
/// does not implement (the host reports each number once).
pub fn unknown_syscall(nr: u64) {
    // SAFETY: the port takes a plain value.
    unsafe { cpu::out32(PORT_UNKNOWN_SYSCALL, nr as u32) };
}
