//! `brk`: moves the break; returns the break (unchanged on failure, as
//! Linux does; libc checks).

use super::{Args, Errno};
use crate::process;

pub(super) fn brk(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| Ok(sys.proc.mm.set_brk(a[0]) as usize))
}
