//! Scheduling on one CPU: `sched_yield`, `sched_getaffinity`,
//! `sched_setaffinity`, `getpriority`, `setpriority`, `getcpu`.

use super::{Args, Errno, UserPtr};
use crate::process;

/// Another ready task (thread or process) runs first, if there is one.
pub(super) fn sched_yield(_: &Args) -> Result<usize, Errno> {
    process::sched::yield_now();
    Ok(0)
}

/// A thread id of the affinity calls: 0 (the caller) or a live thread.
fn check_pid(pid: u64) -> Result<(), Errno> {
    match pid as i32 {
        0 => Ok(()),
        p if p < 0 => Err(Errno::EINVAL),
        p => process::with(|sys| {
            process::sched::find_tid(sys, p as u32)
                .map(|_| 0)
                .ok_or(Errno::ESRCH)
        })
        .map(|_| ()),
    }
}

pub(super) fn sched_getaffinity(a: &Args) -> Result<usize, Errno> {
    let len = a[1] as u32 as u64;
    check_pid(a[0])?;
    if len < 8 || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        UserPtr::<u64>::new(a[2]).copy_to_user(&sys.proc.mm, &[1])?;
        Ok(8)
    })
}

pub(super) fn sched_setaffinity(a: &Args) -> Result<usize, Errno> {
    check_pid(a[0])?;
    if a[1] < 8 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let mask: u64 = UserPtr::new(a[2]).read(&sys.proc.mm)?;
        if mask & 1 == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(0)
    })
}

const PRIO_PROCESS: u64 = 0;
const PRIO_PGRP: u64 = 1;
const PRIO_USER: u64 = 2;

/// `which`/`who` of get/setpriority name this process (ids 1, uid 0)?
fn is_us(which: u64, who: u64) -> Result<(), Errno> {
    let who = who as i32;
    match which {
        PRIO_PROCESS | PRIO_PGRP if who == 0 || who == 1 => Ok(()),
        PRIO_USER if who == 0 => Ok(()),
        PRIO_PROCESS | PRIO_PGRP | PRIO_USER => Err(Errno::ESRCH),
        _ => Err(Errno::EINVAL),
    }
}

/// The system call returns 20 - nice (never negative), libc converts.
pub(super) fn getpriority(a: &Args) -> Result<usize, Errno> {
    is_us(a[0], a[1])?;
    process::with(|sys| Ok((20 - sys.proc.nice) as usize))
}

/// Root may set any nice value; it is clamped to -20..=19.
pub(super) fn setpriority(a: &Args) -> Result<usize, Errno> {
    is_us(a[0], a[1])?;
    let nice = (a[2] as i32).clamp(-20, 19);
    process::with(|sys| {
        sys.proc.nice = nice;
        Ok(0)
    })
}

pub(super) fn getcpu(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        for &p in &a[..2] {
            if p != 0 {
                UserPtr::<u32>::new(p).copy_to_user(&sys.proc.mm, &[0])?;
            }
        }
        Ok(0)
    })
}
