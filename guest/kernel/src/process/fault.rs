//! CPU exceptions from ring 3, for images that run Linux programs (they
//! install `user_exception` with `trap::set_user_fault_handler`; others
//! keep reporting every exception through the fault port).
//!
//! A page fault on a page not mapped yet inside an area is the lazy
//! mapping of `mm`: the page (and its neighbours) are mapped and the
//! program continues. Anything else raises the signal Linux raises; if the
//! program catches it (and it is not blocked) its handler runs, with
//! Linux's siginfo (si_code, si_addr); else the process dies as Linux would
//! (its parent sees the signal in `wait4`); for process 1 a shell-style
//! line (`Segmentation fault (RIP 0x401234, address 0x0)`) and exit
//! status 128 + the signal.

use super::signal;
use crate::arch::idt::{TrapFrame, PAGE_FAULT};

/// #PF error code bits.
const PF_PRESENT: u64 = 1;
const PF_WRITE: u64 = 2;
const PF_FETCH: u64 = 16;

/// Handles an exception from ring 3; returns true to resume the program.
pub fn user_exception(frame: &mut TrapFrame) -> bool {
    let address = if frame.vector == PAGE_FAULT {
        crate::arch::cpu::read_cr2()
    } else {
        0
    };
    let mut bus = false;
    if frame.vector == PAGE_FAULT && frame.error_code & PF_PRESENT == 0 {
        if let Some(mut g) = super::SYSTEM.try_lock() {
            if let Some(s) = g.as_mut() {
                let write = frame.error_code & PF_WRITE != 0;
                let fetch = frame.error_code & PF_FETCH != 0;
                if s.proc.mm.fault_in(address, write, fetch, true) {
                    return true;
                }
                bus = s.proc.mm.past_file_end(address);
            }
        }
    }
    let sig = if bus {
        signal::SIGBUS
    } else {
        signal::for_exception(frame.vector)
    };
    if let Some(mut g) = super::SYSTEM.try_lock() {
        if let Some(s) = g.as_mut() {
            let sigs = &mut s.proc.signals;
            if sigs.blocked & signal::bit(sig) == 0 && sigs.fate(sig) == signal::Fate::Handler {
                let mapped = s.proc.mm.vmas.find(address).is_some();
                let info = fault_info(frame, address, mapped, bus);
                // A fault replaces what a `kill` left pending.
                sigs.pending &= !signal::bit(sig);
                sigs.send_info(sig, info);
                super::sched::signal_pending();
                return true;
            }
        }
    }
    let pid = super::SYSTEM
        .try_lock()
        .and_then(|g| g.as_ref().map(|s| s.proc.pid))
        .unwrap_or(1);
    if frame.vector == PAGE_FAULT {
        super::die(
            pid,
            sig,
            format_args!(" (RIP {:#x}, address {:#x})", frame.rip, address),
        )
    } else {
        super::die(pid, sig, format_args!(" (RIP {:#x})", frame.rip))
    }
    // The process is gone once the trap returns (`sched::after_trap`).
    true
}

/// Linux's siginfo for exception `frame` (`address`: CR2 of a page fault,
/// `mapped`: inside an area, `bus`: past the end of a mapped file).
fn fault_info(frame: &TrapFrame, address: u64, mapped: bool, bus: bool) -> signal::Info {
    const SEGV_MAPERR: i32 = 1;
    const SEGV_ACCERR: i32 = 2;
    const ILL_ILLOPN: i32 = 2;
    const FPE_INTDIV: i32 = 1;
    const BUS_ADRALN: i32 = 1;
    const BUS_ADRERR: i32 = 2;
    let (code, addr) = match frame.vector {
        PAGE_FAULT if bus => (BUS_ADRERR, address),
        PAGE_FAULT if frame.error_code & PF_PRESENT != 0 || mapped => (SEGV_ACCERR, address),
        PAGE_FAULT => (SEGV_MAPERR, address),
        0 => (FPE_INTDIV, frame.rip),
        6 => (ILL_ILLOPN, frame.rip),
        17 => (BUS_ADRALN, 0),
        _ => (signal::SI_KERNEL, 0),
    };
    signal::Info {
        code,
        addr,
        fault: true,
        trapno: frame.vector,
        error: frame.error_code,
        ..Default::default()
    }
}
