//! The OS side of the system call entry. The mechanism (the stub at
//! LSTAR, the #UD fast path, the MSRs) is `arch::syscall`; it recognizes
//! a system call and hands it here, by number, to the dispatch table.

use super::{dispatch, Args};
use crate::arch::idt::TrapFrame;
use crate::arch::syscall::{take, SYSCALL_NR};
use core::sync::atomic::Ordering;

pub use crate::arch::syscall::USER_RFLAGS;

/// Handles `frame` if it is a system call and returns true; false means a
/// real exception (or a forged entry whose return address is not a user
/// address) for the caller to report.
pub fn try_handle(frame: &mut TrapFrame) -> bool {
    if !take(frame) {
        return false;
    }
    let args = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    SYSCALL_NR.store(frame.rax, Ordering::Relaxed);
    frame.rax = dispatch(frame.rax, &args);
    true
}

/// The PVM fast path's call (see `arch::idt`'s #UD stub, which calls it
/// by this symbol name): the trap was a system call at the stub's `ud2`;
/// `args` are the saved RDI..R9.
#[no_mangle]
pub extern "C" fn kvmos_os_syscall(nr: u64, args: &Args) -> u64 {
    dispatch(nr, args)
}
