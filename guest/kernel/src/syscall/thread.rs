//! Thread bookkeeping of a single-threaded process: `set_tid_address`,
//! `set_robust_list`, `get_robust_list`, `gettid`, `rseq` (ENOSYS: glibc
//! and musl carry on without it), `futex` (nobody else can wake or be
//! woken).

use super::{Args, Errno, UserPtr};
use crate::process;

pub(super) fn set_tid_address(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        sys.proc.clear_child_tid = a[0];
        Ok(sys.proc.pid as usize)
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
        if a[0] as i32 != 0 && a[0] as u32 != sys.proc.pid {
            return Err(Errno::ESRCH);
        }
        let (head, len) = sys.proc.robust_list;
        UserPtr::<u64>::new(a[1]).copy_to_user(&sys.proc.mm, &[head])?;
        UserPtr::<u64>::new(a[2]).copy_to_user(&sys.proc.mm, &[len])?;
        Ok(0)
    })
}

pub(super) fn gettid(_: &Args) -> Result<usize, Errno> {
    process::with(|sys| Ok(sys.proc.pid as usize))
}

pub(super) fn rseq(_: &Args) -> Result<usize, Errno> {
    Err(Errno::ENOSYS)
}

const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_CMD_MASK: u64 = !(128 | 256);

/// futex with one thread: a wake wakes nobody; a wait on the expected
/// value sleeps until its timeout (for ever without one, as Linux would:
/// nobody else can wake it).
pub(super) fn futex(a: &Args) -> Result<usize, Errno> {
    let (uaddr, op, val, timeout, bitset) =
        (a[0], a[1] & FUTEX_CMD_MASK, a[2] as u32, a[3], a[5] as u32);
    match op {
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            if op == FUTEX_WAKE_BITSET && bitset == 0 {
                return Err(Errno::EINVAL);
            }
            if uaddr % 4 != 0 {
                return Err(Errno::EINVAL);
            }
            Ok(0)
        }
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let ns = if timeout != 0 {
                Some(super::time::read_timespec(timeout)?.to_ns())
            } else {
                None
            };
            if op == FUTEX_WAIT_BITSET && bitset == 0 {
                return Err(Errno::EINVAL);
            }
            if uaddr % 4 != 0 {
                return Err(Errno::EINVAL);
            }
            let cur: u32 = process::with_value(|sys| UserPtr::new(uaddr).read(&sys.proc.mm))?;
            if cur != val {
                return Err(Errno::EAGAIN);
            }
            match ns {
                // WAIT's timeout is relative, WAIT_BITSET's an absolute
                // CLOCK_MONOTONIC time.
                Some(t) if op == FUTEX_WAIT => super::time::sleep(t),
                Some(t) => super::time::sleep_until(super::time::CLOCK_MONOTONIC, t),
                None => loop {
                    super::time::sleep(u64::MAX);
                },
            }
            Err(Errno::ETIMEDOUT)
        }
        _ => Err(Errno::ENOSYS),
    }
}
