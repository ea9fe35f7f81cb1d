//! CPU exceptions from ring 3, for images that run Linux programs (they
//! install `user_exception` with `idt::set_user_fault_handler`; others
//! keep reporting every exception through the fault port).
//!
//! A page fault on a page not mapped yet inside an area is the lazy
//! mapping of `mm`: the page (and its neighbours) are mapped and the
//! program continues. Anything else kills the process as Linux would
//! (its parent sees the signal in `wait4`); for process 1 a shell-style
//! line (`Segmentation fault (RIP 0x401234, address 0x0)`) and exit
//! status 128 + the signal.

use super::signal;
use crate::idt::{TrapFrame, PAGE_FAULT};

/// #PF error code bits.
const PF_PRESENT: u64 = 1;
const PF_WRITE: u64 = 2;
const PF_FETCH: u64 = 16;

/// Handles an exception from ring 3; returns true to resume the program.
pub fn user_exception(frame: &mut TrapFrame) -> bool {
    let address = if frame.vector == PAGE_FAULT {
        crate::cpu::read_cr2()
    } else {
        0
    };
    if frame.vector == PAGE_FAULT && frame.error_code & PF_PRESENT == 0 {
        if let Some(mut g) = super::SYSTEM.try_lock() {
            if let Some(s) = g.as_mut() {
                let write = frame.error_code & PF_WRITE != 0;
                let fetch = frame.error_code & PF_FETCH != 0;
                if s.proc.mm.fault_in(address, write, fetch, true) {
                    return true;
                }
            }
        }
    }
    let sig = signal::for_exception(frame.vector);
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
