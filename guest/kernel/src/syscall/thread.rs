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

const MEMBARRIER_CMD_QUERY: u64 = 0;
const MEMBARRIER_CMD_GLOBAL: u32 = 1;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: u32 = 2;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: u32 = 4;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: u32 = 8;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: u32 = 16;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE: u32 = 32;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: u32 = 64;
const MEMBARRIER_CMD_GET_REGISTRATIONS: u32 = 512;
/// What kvmos answers to MEMBARRIER_CMD_QUERY (no rseq).
const MEMBARRIER_SUPPORTED: u32 = MEMBARRIER_CMD_GLOBAL
    | MEMBARRIER_CMD_GLOBAL_EXPEDITED
    | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED
    | MEMBARRIER_CMD_PRIVATE_EXPEDITED
    | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
    | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
    | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    | MEMBARRIER_CMD_GET_REGISTRATIONS;

/// `membarrier(cmd, flags, cpu)`: with one CPU and a kernel entered on
/// every switch, every thread has passed a full barrier by the time the
/// call returns, so each barrier is just its checks: flags 0, a known
/// command, and the expedited ones registered first (EPERM), as Linux
/// checks them (musl's dynamic loader and `pthread` barriers use it).
pub(super) fn membarrier(a: &Args) -> Result<usize, Errno> {
    // `int cmd, unsigned int flags`.
    let (cmd, flags) = (a[0] as u32 as i32 as u64, a[1] as u32);
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if cmd == MEMBARRIER_CMD_QUERY {
        return Ok(MEMBARRIER_SUPPORTED as usize);
    }
    let cmd = u32::try_from(cmd).map_err(|_| Errno::EINVAL)?;
    if !cmd.is_power_of_two() || cmd & MEMBARRIER_SUPPORTED == 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let registered = &mut sys.proc.mm.membarrier;
        match cmd {
            MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED
            | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
            | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE => {
                *registered |= cmd;
                Ok(0)
            }
            MEMBARRIER_CMD_GET_REGISTRATIONS => Ok(*registered as usize),
            // Registration of the command twice as large.
            MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
                if *registered & (cmd << 1) == 0 =>
            {
                Err(Errno::EPERM)
            }
            _ => Ok(0),
        }
    })
}
