//! Where every trap reaches the OS. The CPU layer (`arch::idt`) knows
//! nothing of system calls or processes: each exception stub, and the
//! system call entry, hands its `TrapFrame` to `dispatch` (through the
//! link-time hook `kvmos_os_trap`), which decides between rescheduling
//! after a system call, a system call, an exception of a user program
//! (the image's policy: a lazy page, a signal) and a fault reported to
//! the host.

use super::sched;
use crate::arch::apic;
use crate::arch::idt::{fault_report, TrapFrame, SCHEDULE_VECTOR};
use crate::host::hypercall;
use core::sync::atomic::{AtomicPtr, Ordering};

/// An image's policy for exceptions from ring 3 (see
/// `set_user_fault_handler`): true resumes the user program.
pub type UserFaultHandler = fn(&mut TrapFrame) -> bool;

static USER_FAULT_HANDLER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Routes exceptions from ring 3 to `handler` instead of the fault port
/// (linux-exec: map a lazy page or kill the program like Linux). Images
/// that do not call this report every exception to the host, as hello's
/// tests expect. Exceptions in ring 0 always go to the fault port.
pub fn set_user_fault_handler(handler: UserFaultHandler) {
    USER_FAULT_HANDLER.store(handler as *mut (), Ordering::Relaxed);
}

/// Handles a trap with the saved state in `frame`.
pub fn dispatch(frame: &mut TrapFrame) {
    if frame.vector == apic::TIMER_VECTOR {
        apic::eoi();
        // In ring 0 only while idle (`sched::idle_until`, which holds the
        // system): the tick just wakes the CPU.
        if frame.cs & 3 == 3 {
            sched::tick(frame);
        }
        return;
    }
    if frame.vector == apic::SPURIOUS_VECTOR {
        return;
    }
    if frame.vector == SCHEDULE_VECTOR {
        sched::after_trap(frame);
        return;
    }
    if crate::syscall::try_handle(frame) {
        if sched::PENDING.load(Ordering::Relaxed) != sched::NONE {
            sched::after_trap(frame);
        }
        return;
    }
    if frame.cs & 3 == 3 {
        let h = USER_FAULT_HANDLER.load(Ordering::Relaxed);
        if !h.is_null() {
            // SAFETY: only `set_user_fault_handler` stores here, from a
            // `UserFaultHandler`.
            let handler: UserFaultHandler = unsafe { core::mem::transmute(h) };
            if handler(frame) {
                if sched::PENDING.load(Ordering::Relaxed) != sched::NONE {
                    sched::after_trap(frame);
                }
                return;
            }
        }
    }
    hypercall::fault(&fault_report(frame))
}

/// The hook `arch::idt` calls with every trap.
#[no_mangle]
pub fn kvmos_os_trap(frame: &mut TrapFrame) {
    dispatch(frame)
}
