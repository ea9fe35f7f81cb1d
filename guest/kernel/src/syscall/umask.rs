//! `umask`: kept (nothing is created on a read-only file system).

use super::{Args, Errno};
use crate::process;

pub(super) fn umask(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let old = sys.proc.umask;
        sys.proc.umask = a[0] as u32 & 0o777;
        Ok(old as usize)
    })
}
