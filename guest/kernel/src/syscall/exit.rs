//! `exit(code)` and `exit_group(code)`: kvmos runs one single-threaded
//! process, so both end the guest with the exit hypercall (the host exits
//! with `code & 0xff`, as a Linux parent would see it).

use super::{Args, Errno};

pub(super) fn handle_exit(a: &Args) -> Result<usize, Errno> {
    sys_exit(a[0] as i32)
}

pub(super) fn handle_exit_group(a: &Args) -> Result<usize, Errno> {
    sys_exit_group(a[0] as i32)
}

pub fn sys_exit(code: i32) -> ! {
    crate::hypercall::exit(code as u32)
}

pub fn sys_exit_group(code: i32) -> ! {
    crate::hypercall::exit(code as u32)
}
