//! Hypercalls: the ports of docs/protocol.md, from ring 0. Every one goes
//! through [`send`], which picks the transport chosen at boot
//! ([`select_transport`]): `out dx, eax` on KVM, or the HypercallSlot and
//! a one-byte doorbell on QEMU TCG (docs/protocol.md, "Hypercall
//! transports"). Each costs one exit to the host (~8 us here), so callers
//! batch.

use crate::mm::addr::{PhysAddr, VirtAddr};
use crate::arch::cpu;
use crate::host::layout::{
    DIRECT_MAP_BASE, HYPERCALL_DOORBELL_PORT, HYPERCALL_SLOT_ADDR, MAX_RAM_SIZE, PORT_CLOCK,
    PORT_CONSOLE, PORT_CONSOLE_READ, PORT_COPY, PORT_EXIT, PORT_FAULT, PORT_LOG, PORT_RANDOM,
    PORT_TRACE, PORT_TTY, PORT_UNKNOWN_SYSCALL,
};
use crate::host::protocol::{
    Clock, ConsoleWrite, Copy, FaultReport, HypercallSlot, IoVec, Log, Segment, Termios, Trace,
    Tty, BOOT_FLAG_HYPERCALL_SLOT, COPY_FLAG_ZERO, LOG_MESSAGE_MAX, TTY_OP_SET_MODES,
    TTY_OP_SIGNALS, TTY_OP_WAIT_INPUT,
};
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{compiler_fence, AtomicBool, AtomicU32, Ordering};

// ---------------------------------------------------------------- transport

/// Set once by [`select_transport`] when BootInfo flags bit 5 asks for the
/// slot transport (TCG); false (KVM's `out dx, eax`) otherwise.
static SLOT_MODE: AtomicBool = AtomicBool::new(false);
/// The `seq` of the last request written to the slot.
static SLOT_SEQ: AtomicU32 = AtomicU32::new(0);

/// Chooses the hypercall transport from the BootInfo `flags` (read raw,
/// before the BootInfo is validated). `kernel::init` calls it first
/// thing, before any hypercall can happen (a panic is one). In slot mode
/// the sequence numbers continue from the host's `done`, so the first
/// request can never look answered already.
pub fn select_transport(flags: u64) {
    if flags & BOOT_FLAG_HYPERCALL_SLOT == 0 {
        return;
    }
    // SAFETY: the slot page is guest RAM below MIN_RAM_SIZE, in the
    // direct map; the host writes `done`, hence volatile.
    let done = unsafe { read_volatile(&raw const (*slot()).done) };
    SLOT_SEQ.store(done, Ordering::Relaxed);
    SLOT_MODE.store(true, Ordering::Relaxed);
}

/// True when hypercalls go through the HypercallSlot (TCG).
pub fn slot_mode() -> bool {
    SLOT_MODE.load(Ordering::Relaxed)
}

fn slot() -> *mut HypercallSlot {
    PhysAddr::new(HYPERCALL_SLOT_ADDR)
        .to_direct_map()
        .as_mut_ptr()
}

/// Sends one hypercall: `port` (a `PORT_*`) with `value`, and returns when
/// the host has finished it (for `exit` and `fault`, which the host never
/// answers, the caller halts next).
///
/// KVM (the default): `out dx, eax`, one load and branch more than the
/// bare instruction. Slot mode: see [`send_slot`].
///
/// # Safety
/// Ring 0 only; the host acts on `value` (for most ports the physical
/// address of an argument struct that must be valid and initialized).
#[inline(always)]
pub unsafe fn send(port: u16, value: u32) {
    if SLOT_MODE.load(Ordering::Relaxed) {
        // SAFETY: the caller upholds the port's contract.
        unsafe { send_slot(port, value) }
    } else {
        // SAFETY: the caller upholds the port's contract.
        unsafe { cpu::out32(port, value) }
    }
}

/// The slot transport: the request goes into the HypercallSlot and the
/// doorbell rings ([`slot_request`]). A `copy` request is done here
/// instead, with ring-0 stores ([`apply_copy`]): TCG drops its
/// translations of guest code only when the guest itself stores to it,
/// not when the host writes guest RAM, and `copy` writes program text.
#[cold]
#[inline(never)]
unsafe fn send_slot(port: u16, value: u32) {
    if port == PORT_COPY {
        let ram_size = crate::boot_info().ram_size.min(MAX_RAM_SIZE);
        // SAFETY: `value` is the physical address of an initialized Copy
        // (send's contract), which the direct map covers.
        let c = unsafe { core::ptr::read(PhysAddr::new(value.into()).to_direct_map().as_ptr()) };
        // SAFETY: the direct map covers `[0, ram_size)`; the caller owns
        // both ranges (send's contract, as for the host's copy).
        if let Err(e) = unsafe { apply_copy(DIRECT_MAP_BASE as *mut u8, ram_size, &c) } {
            panic!("copy hypercall: {e} ({c:?}, RAM {ram_size:#x})");
        }
        return;
    }
    let answered = port != PORT_EXIT && port != PORT_FAULT;
    // SAFETY: the slot page is guest RAM in the direct map that only this
    // function (one CPU, interrupts off) and the host use; the doorbell
    // port takes 0.
    unsafe {
        slot_request(slot(), &SLOT_SEQ, port, value, answered, || {
            cpu::out8(HYPERCALL_DOORBELL_PORT, 0)
        })
    }
}

/// The slot handshake (docs/protocol.md, "Hypercall transports"): writes
/// `port` and `value`, then the next sequence number into `seq`, calls
/// `ring` (the doorbell), and unless the request is never `answered`
/// spins until the host's `done` equals that number. The compiler fences
/// keep the request (and the argument struct `value` points at) before
/// `seq` and the doorbell, and the host's answer after `done`; x86 keeps
/// stores in order and loads in order by itself.
///
/// # Safety
/// `slot` must be valid for volatile reads and writes, and only the
/// caller and the host may use it meanwhile.
unsafe fn slot_request(
    slot: *mut HypercallSlot,
    seq: &AtomicU32,
    port: u16,
    value: u32,
    answered: bool,
    ring: impl FnOnce(),
) {
    let n = seq.load(Ordering::Relaxed).wrapping_add(1);
    seq.store(n, Ordering::Relaxed);
    // SAFETY: the caller guarantees `slot` is valid and ours.
    unsafe {
        write_volatile(&raw mut (*slot).port, u32::from(port));
        write_volatile(&raw mut (*slot).value, value);
    }
    compiler_fence(Ordering::SeqCst);
    // SAFETY: as above.
    unsafe { write_volatile(&raw mut (*slot).seq, n) };
    compiler_fence(Ordering::SeqCst);
    ring();
    if !answered {
        return;
    }
    // SAFETY: as above; the host writes `done`, hence volatile.
    while unsafe { read_volatile(&raw const (*slot).done) } != n {
        core::hint::spin_loop(); // `pause`
    }
    compiler_fence(Ordering::SeqCst);
}

/// Why [`apply_copy`] refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyError {
    OutsideRam,
    Flags,
}

impl core::fmt::Display for CopyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CopyError::OutsideRam => "a range is not wholly inside guest RAM",
            CopyError::Flags => "unknown flags",
        })
    }
}

/// Does what the host does for a Copy request, with ordinary stores:
/// `memmove` (overlapping ranges are fine) or a zero fill, on the
/// physical memory that starts at `ram` and is `ram_size` bytes long.
/// Checked as the host checks: both ranges wholly inside RAM (`src` only
/// without `COPY_FLAG_ZERO`), no other flag.
///
/// # Safety
/// `ram` must be valid for reads and writes of `ram_size` bytes, and the
/// caller must own both ranges.
unsafe fn apply_copy(ram: *mut u8, ram_size: u64, c: &Copy) -> Result<(), CopyError> {
    let inside = |at: u64| at.checked_add(c.len).is_some_and(|end| end <= ram_size);
    let zero = c.flags & COPY_FLAG_ZERO != 0;
    if c.flags & !COPY_FLAG_ZERO != 0 {
        return Err(CopyError::Flags);
    }
    if !inside(c.dst) || (!zero && !inside(c.src)) {
        return Err(CopyError::OutsideRam);
    }
    // Inside `[0, ram_size)`, which fits in usize: the casts are exact.
    let len = c.len as usize;
    // SAFETY: both ranges lie in the caller's `ram` (checked above);
    // `core::ptr::copy` is memmove.
    unsafe {
        let dst = ram.add(c.dst as usize);
        if zero {
            core::ptr::write_bytes(dst, 0, len);
        } else {
            core::ptr::copy(ram.add(c.src as usize), dst, len);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- the calls

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
    unsafe { send(PORT_EXIT, code) };
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
    unsafe { send(PORT_CONSOLE, pa) };
    // SAFETY: a field of a live value; volatile because the host wrote it.
    unsafe { core::ptr::read_volatile(&msg.result) }
}

/// Reports an exception or panic; the host prints it and stops the guest.
pub fn fault(report: &FaultReport) -> ! {
    let pa = phys_of(report);
    // SAFETY: `report` is an initialized FaultReport at `pa`.
    unsafe { send(PORT_FAULT, pa) };
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
    unsafe { send(port, pa) };
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
    unsafe { send(PORT_COPY, pa) };
}

/// `memmove(dst, src, len)` on guest-physical memory, done by the host in
/// one exit (instead of ~len emulated instructions in ring 0); in slot
/// mode (TCG) by the guest itself, see [`send_slot`].
pub fn copy(dst: u64, src: u64, len: u64) {
    send_copy(&Copy {
        dst,
        src,
        len,
        flags: 0,
    });
}

/// Fills guest-physical `[dst, dst + len)` with zeros, in one exit (in
/// slot mode by the guest itself, as [`copy`]).
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
    unsafe { send(PORT_CLOCK, pa) };
    // SAFETY: a live value; volatile because the host wrote it.
    unsafe { core::ptr::read_volatile(p) }
}

fn send_tty(t: &mut Tty) -> i64 {
    let p: *mut Tty = t;
    let pa = phys_of(t);
    // SAFETY: `t` is an initialized Tty; the host writes only its result.
    unsafe { send(PORT_TTY, pa) };
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

/// The signals the host terminal's keys (VINTR, VQUIT, VSUSP, with ISIG)
/// raised since last asked: bit `sig - 1`.
pub fn tty_signals() -> u64 {
    send_tty(&mut Tty {
        op: TTY_OP_SIGNALS,
        ..Tty::default()
    })
    .max(0) as u64
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
    unsafe { send(PORT_TRACE, pa) };
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
    unsafe { send(PORT_LOG, pa) };
}

/// Tells the host the program called system call `nr`, which the kernel
/// does not implement (the host reports each number once).
pub fn unknown_syscall(nr: u64) {
    // SAFETY: the port takes a plain value.
    unsafe { send(PORT_UNKNOWN_SYSCALL, nr as u32) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// A slot the test owns, shared with a "host" thread by address.
    fn new_slot(done: u32) -> Box<HypercallSlot> {
        Box::new(HypercallSlot {
            done,
            ..HypercallSlot::default()
        })
    }

    #[test]
    fn a_request_is_written_before_the_doorbell_and_waits_for_done() {
        let mut slot = new_slot(7);
        let p: *mut HypercallSlot = &mut *slot;
        let seq = AtomicU32::new(7);
        let mut rung = 0;
        // SAFETY: `p` is a live slot; the doorbell plays the host, in order.
        unsafe {
            slot_request(p, &seq, PORT_CONSOLE, 0x1234_5678, true, || {
                rung += 1;
                let s = read_volatile(p);
                assert_eq!((s.port, s.value, s.seq), (u32::from(PORT_CONSOLE), 0x1234_5678, 8));
                write_volatile(&raw mut (*p).done, s.seq);
            })
        };
        assert_eq!(rung, 1);
        assert_eq!(seq.load(Ordering::Relaxed), 8);
        assert_eq!(slot.seq, 8);
    }

    #[test]
    fn exit_and_fault_do_not_wait_for_an_answer() {
        let mut slot = new_slot(0);
        let p: *mut HypercallSlot = &mut *slot;
        let seq = AtomicU32::new(0);
        // SAFETY: `p` is a live slot; `done` never changes, so waiting would hang.
        unsafe { slot_request(p, &seq, PORT_EXIT, 3, false, || {}) };
        assert_eq!((slot.port, slot.value, slot.seq, slot.done), (0x400, 3, 1, 0));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut slot = new_slot(u32::MAX);
        let p: *mut HypercallSlot = &mut *slot;
        let seq = AtomicU32::new(u32::MAX);
        // SAFETY: as above; the doorbell answers at once.
        unsafe {
            slot_request(p, &seq, PORT_CLOCK, 1, true, || {
                write_volatile(&raw mut (*p).done, read_volatile(&raw const (*p).seq))
            })
        };
        assert_eq!((slot.seq, slot.done), (0, 0));
    }

    #[test]
    fn spins_until_a_late_host_answers_this_request() {
        let mut slot = new_slot(41);
        let addr = &mut *slot as *mut HypercallSlot as usize;
        let seq = AtomicU32::new(41);
        let answered = Arc::new(AtomicBool::new(false));
        let host = {
            let answered = answered.clone();
            std::thread::spawn(move || {
                let p = addr as *mut HypercallSlot;
                // SAFETY: the slot outlives the thread (joined below).
                unsafe {
                    while read_volatile(&raw const (*p).seq) != 42 {
                        std::hint::spin_loop();
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    // A stale answer first: not this request's.
                    write_volatile(&raw mut (*p).done, 40);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    answered.store(true, Ordering::SeqCst);
                    write_volatile(&raw mut (*p).done, 42);
                }
            })
        };
        // SAFETY: the slot is live; only the "host" thread shares it.
        unsafe { slot_request(addr as *mut HypercallSlot, &seq, PORT_TTY, 9, true, || {}) };
        assert!(answered.load(Ordering::SeqCst), "returned before the host answered");
        host.join().unwrap();
    }

    fn ram() -> Vec<u8> {
        (0..64u8).collect()
    }

    fn run(ram: &mut [u8], c: Copy) -> Result<(), CopyError> {
        // SAFETY: `ram` is valid for its length.
        unsafe { apply_copy(ram.as_mut_ptr(), ram.len() as u64, &c) }
    }

    fn copy_req(dst: u64, src: u64, len: u64) -> Copy {
        Copy {
            dst,
            src,
            len,
            flags: 0,
        }
    }

    #[test]
    fn copy_is_memmove_in_both_directions() {
        let mut up = ram();
        run(&mut up, copy_req(4, 0, 8)).unwrap();
        assert_eq!(&up[..14], &[0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 12, 13]);
        let mut down = ram();
        run(&mut down, copy_req(0, 4, 8)).unwrap();
        assert_eq!(&down[..14], &[4, 5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11, 12, 13]);
        let mut apart = ram();
        run(&mut apart, copy_req(60, 0, 4)).unwrap();
        assert_eq!(&apart[56..], &[56, 57, 58, 59, 0, 1, 2, 3]);
    }

    #[test]
    fn zero_fills_and_ignores_src() {
        let mut m = ram();
        let c = Copy {
            dst: 62,
            src: u64::MAX,
            len: 2,
            flags: COPY_FLAG_ZERO,
        };
        run(&mut m, c).unwrap();
        assert_eq!(&m[60..], &[60, 61, 0, 0]);
        let empty = Copy { len: 0, ..c };
        run(&mut m, Copy { dst: 64, ..empty }).unwrap();
    }

    #[test]
    fn copy_refuses_what_the_host_refuses() {
        let mut m = ram();
        assert_eq!(run(&mut m, copy_req(60, 0, 5)), Err(CopyError::OutsideRam));
        assert_eq!(run(&mut m, copy_req(0, 60, 5)), Err(CopyError::OutsideRam));
        assert_eq!(run(&mut m, copy_req(u64::MAX, 0, 2)), Err(CopyError::OutsideRam));
        let bad_flags = Copy {
            flags: 2,
            ..copy_req(0, 8, 4)
        };
        assert_eq!(run(&mut m, bad_flags), Err(CopyError::Flags));
        assert_eq!(m, ram(), "a refused request writes nothing");
    }
}
