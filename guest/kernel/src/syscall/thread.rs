//! Thread bookkeeping: `set_tid_address`, `set_robust_list`,
//! `get_robust_list`, `gettid`, `rseq` (ENOSYS: glibc and musl carry on
//! without it). Threads are made by `clone` (`fork`), end by `exit`
//! (`exit`), and wait on each other with `futex`.

use super::{Args, Errno, UserPtr};
use crate::process;

pub(super) fn set_tid_address(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        sys.proc.clear_child_tid = a[0];
        Ok(sys.proc.tid as usize)
    })
}

/// `sizeof(struct robust_list_head)`.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

pub(super) fn set_robust_list(a: &Args) -> Result<usize, Errno> {
    if a[1] != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        sys.proc.robust_list = (a[0], a[1]);
        Ok(0)
    })
}

pub(super) fn get_robust_list(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let (head, len) = match a[0] as i32 {
            0 => sys.proc.robust_list,
            tid => match process::sched::find_tid(sys, tid as u32) {
                Some(w) => process::sched::task_mut(sys, w).robust_list,
                None => return Err(Errno::ESRCH),
            },
        };
        UserPtr::<u64>::new(a[1]).copy_to_user(&sys.proc.mm, &[head])?;
        UserPtr::<u64>::new(a[2]).copy_to_user(&sys.proc.mm, &[len])?;
        Ok(0)
    })
}

pub(super) fn gettid(_: &Args) -> Result<usize, Errno> {
    process::with(|sys| Ok(sys.proc.tid as usize))
}

pub(super) fn rseq(_: &Args) -> Result<usize, Errno> {
    Err(Errno::ENOSYS)
}
