//! `exit(code)` ends the calling thread, and its process if it is the
//! last one; `exit_group(code)` ends the process with all its threads
//! (`process::sched`: its descriptors close, it becomes a zombie for its
//! parent, another process runs; the guest exits with process 1's
//! status, `code & 0xff` as a Linux parent would see it). Images without
//! processes (hello) end the guest at once.

use super::{Args, Errno};
use crate::process::{self, sched, table::Status};

pub(super) fn handle_exit(a: &Args) -> Result<usize, Errno> {
    if process::SYSTEM.lock().is_none() {
        sys_exit(a[0] as i32)
    }
    sched::exit_thread(a[0] as u8);
    Ok(0)
}

pub(super) fn handle_exit_group(a: &Args) -> Result<usize, Errno> {
    exit_process(a[0] as i32)
}

fn exit_process(code: i32) -> Result<usize, Errno> {
    if process::SYSTEM.lock().is_none() {
        sys_exit(code)
    }
    sched::exit_current(Status::Exited(code as u8));
    Ok(0)
}

pub fn sys_exit(code: i32) -> ! {
    crate::host::hypercall::exit(code as u32)
}

pub fn sys_exit_group(code: i32) -> ! {
    crate::host::hypercall::exit(code as u32)
}
