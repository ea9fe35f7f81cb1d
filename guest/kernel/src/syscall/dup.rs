//! `dup`, `dup2`, `dup3`: another descriptor for the same open file.

use super::{Args, Errno};
use crate::process::fd::{fd_number, Fd, O_CLOEXEC};
use crate::process::{self, RLIMIT_NOFILE};

pub(super) fn dup(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let file = sys.proc.fds.get(a[0])?.file.clone();
        let limit = sys.proc.rlimits[RLIMIT_NOFILE].cur as usize;
        sys.proc.fds.allocate(
            0,
            Fd {
                file,
                cloexec: false,
            },
            limit,
        )
    })
}

fn dup_to(old: u64, new: u64, cloexec: bool) -> Result<usize, Errno> {
    process::with(|sys| {
        let file = sys.proc.fds.get(old)?.file.clone();
        let n = fd_number(new)?;
        if n >= sys.proc.rlimits[RLIMIT_NOFILE].cur as usize {
            return Err(Errno::EBADF);
        }
        sys.proc.fds.install(n, Fd { file, cloexec });
        Ok(n)
    })
}

pub(super) fn dup2(a: &Args) -> Result<usize, Errno> {
    if a[0] as i32 == a[1] as i32 {
        return process::with(|sys| sys.proc.fds.get(a[0]).map(|_| a[1] as i32 as usize));
    }
    dup_to(a[0], a[1], false)
}

pub(super) fn dup3(a: &Args) -> Result<usize, Errno> {
    if a[2] & !(O_CLOEXEC as u64) != 0 || a[0] as i32 == a[1] as i32 {
        return Err(Errno::EINVAL);
    }
    dup_to(a[0], a[1], a[2] != 0)
}
