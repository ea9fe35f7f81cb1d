//! `wait4`, `waitid`: reap a child that exited (a zombie), with Linux's
//! status encoding (`process::table::Status`), ECHILD when there is no
//! child to wait for, WNOHANG; with WUNTRACED / WCONTINUED, a child that
//! stopped or continued since it was last reported (`table::Job`). Without WNOHANG a wait with live children
//! blocks (`sched`: the call is restarted once a selected child is a
//! zombie). Resource usage is reported as zero (kvmos does not account
//! CPU time per process).

use super::{Args, Errno, UserPtr};
use crate::process::sched::{self, Wait};
use crate::process::signal::SIGCHLD;
use crate::process::table::{JobWait, Which};
use crate::process::{self, System};

const WNOHANG: u64 = 1;
const WUNTRACED: u64 = 2;
const WEXITED: u64 = 4;
const WCONTINUED: u64 = 8;
const WNOWAIT: u64 = 0x0100_0000;
const WNOTHREAD: u64 = 0x2000_0000;
const WALL: u64 = 0x4000_0000;
const WCLONE: u64 = 0x8000_0000;

const P_ALL: u64 = 0;
const P_PID: u64 = 1;
const P_PGID: u64 = 2;
const P_PIDFD: u64 = 3;

/// `sizeof(struct rusage)`.
const RUSAGE_WORDS: usize = 18;

fn zero_rusage(sys: &System, ru: u64) -> Result<(), Errno> {
    if ru != 0 {
        UserPtr::<u64>::new(ru).copy_to_user(&sys.proc.mm, &[0; RUSAGE_WORDS])?;
    }
    Ok(())
}

pub(super) fn wait4(a: &Args) -> Result<usize, Errno> {
    let (pid, wstatus, options, ru) = (a[0] as i32, a[1], a[2], a[3]);
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WCLONE | WALL) != 0 {
        return Err(Errno::EINVAL);
    }
    // -INT_MIN does not exist.
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    process::with(|sys| {
        let me = sys.proc.pid;
        let which = Which::from_wait4(pid, sys.proc.pgid);
        if let Some(z) = sys.zombies.find(me, which) {
            // Reaped even if the status cannot be stored (Linux: EFAULT
            // after the child is gone).
            sys.zombies.remove(z.pid);
            if wstatus != 0 {
                UserPtr::<i32>::new(wstatus).write(&sys.proc.mm, z.status.wait_status() as i32)?;
            }
            zero_rusage(sys, ru)?;
            return Ok(z.pid as usize);
        }
        let (stopped, continued) = (options & WUNTRACED != 0, options & WCONTINUED != 0);
        if let Some(e) = sys.zombies.find_job(me, which, stopped, continued) {
            sys.zombies.forget_job(e.pid);
            if wstatus != 0 {
                UserPtr::<i32>::new(wstatus).write(&sys.proc.mm, e.job.wait_status() as i32)?;
            }
            zero_rusage(sys, ru)?;
            return Ok(e.pid as usize);
        }
        if !sched::has_child(sys, me, which) {
            return Err(Errno::ECHILD);
        }
        if options & WNOHANG != 0 {
            return Ok(0);
        }
        Err(sched::block(sys, child_wait(which, true, stopped, continued)))
    })
}

/// What a wait that must block waits for.
fn child_wait(which: Which, exited: bool, stopped: bool, continued: bool) -> Wait {
    if stopped || continued {
        Wait::ChildJob(
            which,
            JobWait {
                exited,
                stopped,
                continued,
            },
        )
    } else {
        Wait::Child(which)
    }
}

/// Stores waitid's siginfo fields as Linux does: si_signo, si_errno,
/// si_code, then si_pid, si_uid, si_status at offset 16 (the rest of
/// the 128 bytes is left alone).
fn put_siginfo(sys: &System, info: u64, head: [i32; 3], body: [i32; 3]) -> Result<(), Errno> {
    if info != 0 {
        UserPtr::<i32>::new(info).copy_to_user(&sys.proc.mm, &head)?;
        UserPtr::<i32>::new(info.checked_add(16).ok_or(Errno::EFAULT)?).copy_to_user(&sys.proc.mm, &body)?;
    }
    Ok(())
}

pub(super) fn waitid(a: &Args) -> Result<usize, Errno> {
    let (idtype, id, info, options, ru) = (a[0], a[1] as i32, a[2], a[3], a[4]);
    if options & !(WNOHANG | WNOWAIT | WEXITED | WUNTRACED | WCONTINUED | WNOTHREAD | WCLONE | WALL)
        != 0
        || options & (WEXITED | WUNTRACED | WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let which = match idtype {
            P_ALL => Which::Any,
            P_PID if id > 0 => Which::Pid(id as u32),
            P_PGID if id > 0 => Which::Group(id as u32),
            P_PGID if id == 0 => Which::Group(sys.proc.pgid),
            P_PIDFD => return Err(Errno::EBADF),
            _ => return Err(Errno::EINVAL),
        };
        let me = sys.proc.pid;
        if options & WEXITED != 0 {
            if let Some(z) = sys.zombies.find(me, which) {
                if options & WNOWAIT == 0 {
                    sys.zombies.remove(z.pid);
                }
                let (code, status) = z.status.siginfo();
                zero_rusage(sys, ru)?;
                put_siginfo(
                    sys,
                    info,
                    [SIGCHLD as i32, 0, code],
                    [z.pid as i32, 0, status],
                )?;
                return Ok(0);
            }
        }
        let (stopped, continued) = (options & WUNTRACED != 0, options & WCONTINUED != 0);
        if let Some(e) = sys.zombies.find_job(me, which, stopped, continued) {
            if options & WNOWAIT == 0 {
                sys.zombies.forget_job(e.pid);
            }
            let (code, status) = e.job.siginfo();
            zero_rusage(sys, ru)?;
            put_siginfo(sys, info, [SIGCHLD as i32, 0, code], [e.pid as i32, 0, status])?;
            return Ok(0);
        }
        if !sched::has_child(sys, me, which) {
            return Err(Errno::ECHILD);
        }
        if options & WNOHANG != 0 {
            put_siginfo(sys, info, [0; 3], [0; 3])?;
            return Ok(0);
        }
        let exited = options & WEXITED != 0;
        Err(sched::block(sys, child_wait(which, exited, stopped, continued)))
    })
}
