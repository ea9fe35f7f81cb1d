//! `rt_sigaction`, `rt_sigprocmask`, `rt_sigpending`, `sigaltstack`,
//! `kill`, `tkill`, `tgkill`, `rt_sigreturn`. A signal the process sends
//! itself with the default action "terminate" ends it as Linux would
//! (status 128 + signal, after the shell's line, e.g. `Aborted`); a
//! caught one runs its handler on the way back (`process::deliver`).

use super::{Args, Errno, UserPtr};
use crate::process::signal::Fate;
use crate::process::signal::*;
use crate::process::table::Status;
use crate::process::sched::Where;
use crate::process::{self, System};

const SIGSET_SIZE: u64 = 8;
const SIG_BLOCK: u64 = 0;
const SIG_UNBLOCK: u64 = 1;
const SIG_SETMASK: u64 = 2;
/// Linux's UAPI_SA_FLAGS on x86: NOCLDSTOP, NOCLDWAIT, SIGINFO,
/// EXPOSE_TAGBITS, RESTORER, ONSTACK, RESTART, NODEFER, RESETHAND.
const SA_KNOWN: u64 =
    0x1 | 0x2 | 0x4 | 0x800 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x4000_0000 | 0x8000_0000;
const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

fn valid(sig: u64) -> Result<usize, Errno> {
    if (1..=NSIG as u64).contains(&sig) {
        Ok(sig as usize)
    } else {
        Err(Errno::EINVAL)
    }
}

pub(super) fn rt_sigaction(a: &Args) -> Result<usize, Errno> {
    let (sig, act, old, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let sig = valid(sig)?;
    if act != 0 && (sig as u32 == SIGKILL || sig as u32 == SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let new = if act != 0 {
            Some(UserPtr::<SigAction>::new(act).read(&sys.proc.mm)?)
        } else {
            None
        };
        let slot = &mut sys.proc.signals.actions[sig - 1];
        if old != 0 {
            UserPtr::new(old).copy_to_user(&sys.proc.mm, &[*slot])?;
        }
        if let Some(mut n) = new {
            n.mask &= !UNBLOCKABLE;
            // Unknown flags are dropped (SA_UNSUPPORTED, 0x400, is how
            // programs detect that).
            n.flags &= SA_KNOWN;
            *slot = n;
            sys.proc.signals.discard_ignored(sig as u32);
            // Dispositions are the process's: every thread has them.
            let pid = sys.proc.pid;
            for t in sys.others.iter_mut().filter(|t| t.pid == pid) {
                t.signals.actions[sig - 1] = n;
                t.signals.discard_ignored(sig as u32);
            }
        }
        Ok(0)
    })
}

pub(super) fn rt_sigprocmask(a: &Args) -> Result<usize, Errno> {
    let (how, set, old, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let blocked = sys.proc.signals.blocked;
        let new = if set != 0 {
            let s: u64 = UserPtr::new(set).read(&sys.proc.mm)?;
            Some(match how {
                SIG_BLOCK => blocked | s,
                SIG_UNBLOCK => blocked & !s,
                SIG_SETMASK => s,
                _ => return Err(Errno::EINVAL),
            })
        } else {
            None
        };
        if old != 0 {
            UserPtr::<u64>::new(old).copy_to_user(&sys.proc.mm, &[blocked])?;
        }
        if let Some(n) = new {
            sys.proc.signals.blocked = n & !UNBLOCKABLE;
            // The process's signals its other threads kept now come here.
            process::sched::gather(sys, !sys.proc.signals.blocked);
            act_on_unblocked(sys);
        }
        Ok(0)
    })
}

/// `rt_sigsuspend`: the mask becomes `set` until a signal runs a handler
/// (EINTR, the old mask back when the handler returns) or kills.
pub(super) fn rt_sigsuspend(a: &Args) -> Result<usize, Errno> {
    if a[1] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let set: u64 = UserPtr::new(a[0]).read(&sys.proc.mm)?;
        let old = sys.proc.signals.blocked;
        sys.proc.sigsuspend_saved.get_or_insert(old);
        sys.proc.signals.blocked = set & !UNBLOCKABLE;
        process::sched::gather(sys, !sys.proc.signals.blocked);
        Err(process::sched::block(sys, process::sched::Wait::Signal))
    })
}

/// Pending signals that are no longer blocked take effect: they kill
/// now, or are delivered on the way back (`process::deliver`).
fn act_on_unblocked(sys: &mut System) {
    loop {
        let s = &sys.proc.signals;
        let ready = s.pending & !s.blocked;
        if ready == 0 {
            return;
        }
        let sig = ready.trailing_zeros() + 1;
        match s.fate(sig) {
            Fate::Handler | Fate::Stop => {
                process::sched::signal_pending();
                return;
            }
            Fate::Kill => {
                sys.proc.signals.take(sig);
                die_of(sys, sig);
                return;
            }
            Fate::Discard => {
                sys.proc.signals.take(sig);
            }
        }
    }
}

/// `rt_sigreturn`: the registers come back from the signal frame once
/// the call returns (`sched::after_trap`, which has them all).
pub(super) fn rt_sigreturn(_a: &Args) -> Result<usize, Errno> {
    process::with(|_| {
        process::sched::sigreturn();
        Ok(0)
    })
}

pub(super) fn rt_sigpending(a: &Args) -> Result<usize, Errno> {
    let size = a[1] as usize;
    if size > SIGSET_SIZE as usize {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let pending = sys.proc.signals.pending | process::sched::siblings_pending(sys);
        let set = pending & sys.proc.signals.blocked;
        UserPtr::<u8>::new(a[0]).copy_to_user(&sys.proc.mm, &set.to_le_bytes()[..size])?;
        Ok(0)
    })
}

const SS_ONSTACK: i32 = 1;
const SS_AUTODISARM: i32 = 1 << 31;

pub(super) fn sigaltstack(a: &Args) -> Result<usize, Errno> {
    let (ss, old) = (a[0], a[1]);
    process::with(|sys| {
        let cur = sys.proc.signals.altstack;
        let new = if ss != 0 {
            let n: StackT = UserPtr::new(ss).read(&sys.proc.mm)?;
            let mode = n.flags & !SS_AUTODISARM;
            if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
                return Err(Errno::EINVAL);
            }
            if mode == SS_DISABLE {
                Some(StackT {
                    flags: SS_DISABLE,
                    ..StackT::default()
                })
            } else if n.size < stack_min() {
                return Err(Errno::ENOMEM);
            } else {
                Some(StackT {
                    flags: n.flags & SS_AUTODISARM,
                    ..n
                })
            }
        } else {
            None
        };
        if old != 0 {
            UserPtr::new(old).copy_to_user(&sys.proc.mm, &[cur])?;
        }
        if let Some(n) = new {
            sys.proc.signals.altstack = n;
        }
        Ok(0)
    })
}

fn stack_min() -> u64 {
    crate::process::stack::MIN_SIGNAL_STACK
}

/// The running process dies of `sig` when the call returns, as a shell
/// would tell (for process 1: nothing for SIGPIPE and SIGINT).
fn die_of(sys: &System, sig: u32) {
    if sig == SIGPIPE || sig == SIGINT {
        process::sched::exit_current(Status::Signaled(sig));
        return;
    }
    process::die(sys.proc.pid, sig, format_args!(""))
}

/// `sig` (not 0) with `info` to one thread (`at`): delivered on the way
/// back for the running one; another one takes a caught signal when it runs next (a
/// blocked call of it is interrupted), and one that kills ends its whole
/// process (the caller's own, through `die_of`).
/// A stop is delivered as a caught signal is (`sched`). SIGCONT
/// continues a stopped process; a stopped one keeps a signal that kills
/// (but SIGKILL) pending until then, as on Linux.
fn to_thread(sys: &mut System, at: Where, sig: u32, info: Info) {
    let pid = process::sched::task(sys, at).pid;
    if sig == SIGCONT {
        process::sched::cont(sys, pid);
    }
    match at {
        Where::Running => match sys.proc.signals.send_info(sig, info) {
            Some(Fate::Kill) => die_of(sys, sig),
            Some(Fate::Handler | Fate::Stop) => process::sched::signal_pending(),
            _ => {}
        },
        Where::Other(i) => {
            if sys.others[i].signals.send_info(sig, info) == Some(Fate::Kill) {
                if pid == sys.proc.pid {
                    die_of(sys, sig);
                } else if sig != SIGKILL && process::sched::is_stopped(sys, pid) {
                    sys.others[i].signals.pending |= bit(sig);
                } else {
                    process::sched::kill_other(sys, i, Status::Signaled(sig));
                }
            }
        }
    }
}

/// `sig` (0: none, only the check) to process `pid`: one of its threads
/// takes it (`sched::pick_thread`). ESRCH if there is no such process.
fn to_process(sys: &mut System, pid: u32, sig: u32, info: Info) -> Result<(), Errno> {
    let at = process::sched::pick_thread(sys, pid, sig.max(1)).ok_or(Errno::ESRCH)?;
    if sig != 0 {
        let info = Info {
            to_process: true,
            ..info
        };
        to_thread(sys, at, sig, info);
    }
    Ok(())
}

/// kill: to a process, a process group (0: the caller's, -pgid), or
/// every process but 1 (-1; the caller included). ESRCH if none.
pub(super) fn kill(a: &Args) -> Result<usize, Errno> {
    let pid = a[0] as i32;
    if a[1] != 0 {
        valid(a[1])?;
    }
    let sig = a[1] as u32;
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    process::with(|sys| {
        let selects = |p: &crate::process::Process| match pid {
            -1 => p.pid != 1,
            0 => p.pgid == sys.proc.pgid,
            p_ if p_ < 0 => p.pgid == p_.unsigned_abs(),
            // A thread's id names its process too, as on Linux.
            p_ => p.pid == p_ as u32 || p.tid == p_ as u32,
        };
        let me = sys.proc.pid;
        // Each process once (threads share a pid), the caller's last.
        let mut targets: alloc::vec::Vec<u32> = sys
            .others
            .iter()
            .filter(|p| p.pid != me && selects(p))
            .map(|p| p.pid)
            .collect();
        targets.sort_unstable();
        targets.dedup();
        // -1 leaves out the caller, as on Linux.
        let me_too = pid != -1
            && (selects(&sys.proc) || sys.others.iter().any(|p| p.pid == me && selects(p)));
        if targets.is_empty() && !me_too {
            return Err(Errno::ESRCH);
        }
        let info = Info::user(SI_USER, me);
        for t in targets {
            to_process(sys, t, sig, info)?;
        }
        if me_too {
            to_process(sys, me, sig, info)?;
        }
        Ok(0)
    })
}

pub(super) fn tkill(a: &Args) -> Result<usize, Errno> {
    let tid = a[0] as i32;
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| to_tid(sys, None, tid as u32, a[1]))
}

/// `tkill`, `tgkill`: `sig` to thread `tid` (of process `tgid`).
fn to_tid(sys: &mut System, tgid: Option<u32>, tid: u32, sig: u64) -> Result<usize, Errno> {
    let at = process::sched::find_tid(sys, tid).ok_or(Errno::ESRCH)?;
    if tgid.is_some_and(|g| process::sched::task_mut(sys, at).pid != g) {
        return Err(Errno::ESRCH);
    }
    if sig == 0 {
        return Ok(0);
    }
    let sig = valid(sig)? as u32;
    let info = Info::user(SI_TKILL, sys.proc.pid);
    to_thread(sys, at, sig, info);
    Ok(0)
}

pub(super) fn tgkill(a: &Args) -> Result<usize, Errno> {
    let (tgid, tid) = (a[0] as i32, a[1] as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| to_tid(sys, Some(tgid as u32), tid as u32, a[2]))
}

/// `rt_sigqueueinfo`: `sig` with the caller's `siginfo` (its si_code,
/// si_pid, si_uid and si_value are what the handler sees). To another
/// process only codes a program may forge (negative ones but SI_TKILL),
/// as Linux allows; EAGAIN when the real-time queue is full.
pub(super) fn rt_sigqueueinfo(a: &Args) -> Result<usize, Errno> {
    let (pid, sig, uinfo) = (a[0] as i32, a[1], a[2]);
    process::with(|sys| {
        let raw: [u64; 16] = UserPtr::new(uinfo).read(&sys.proc.mm)?;
        let word = |i: usize| raw[i];
        let info = Info {
            code: (word(1) & 0xffff_ffff) as u32 as i32,
            pid: (word(2) & 0xffff_ffff) as u32,
            uid: (word(2) >> 32) as u32,
            value: word(3),
            ..Info::default()
        };
        let me = pid as u32 == sys.proc.pid;
        if (info.code >= 0 || info.code == SI_TKILL) && !me {
            return Err(Errno::EPERM);
        }
        if pid <= 0 {
            return Err(Errno::ESRCH);
        }
        let choose = valid(sig).map_or(1, |s| s as u32);
        let at = process::sched::pick_thread(sys, pid as u32, choose).ok_or(Errno::ESRCH)?;
        if sig == 0 {
            return Ok(0);
        }
        let sig = valid(sig)? as u32;
        if sig >= SIGRTMIN && !process::sched::task_mut(sys, at).signals.can_queue() {
            return Err(Errno::EAGAIN);
        }
        let info = Info {
            to_process: true,
            ..info
        };
        to_thread(sys, at, sig, info);
        Ok(0)
    })
}

/// `rt_sigtimedwait` (sigwaitinfo, sigtimedwait): takes the lowest
/// pending signal of the set (a real-time one in the order sent) and
/// returns it, its `siginfo` written; else blocks until one comes (the
/// set's signals should be blocked, as POSIX asks), the timeout passes
/// (EAGAIN; a zero one polls) or another signal runs a handler (EINTR).
pub(super) fn rt_sigtimedwait(a: &Args) -> Result<usize, Errno> {
    let (uset, uinfo, uts, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let set = process::with_value(|sys| UserPtr::<u64>::new(uset).read(&sys.proc.mm))? & !UNBLOCKABLE;
    let timeout = if uts != 0 {
        Some(super::time::read_timespec(uts)?.to_ns())
    } else {
        None
    };
    let now = crate::host::hypercall::clock().monotonic_ns;
    process::with(|sys| {
        // The deadline set when the call first blocked holds across its
        // restarts.
        let deadline = sys.proc.restart_deadline.take();
        process::sched::gather(sys, set);
        let ready = sys.proc.signals.pending & set;
        if ready != 0 {
            let sig = ready.trailing_zeros() + 1;
            let info = sys.proc.signals.take(sig);
            if uinfo != 0 {
                let bytes = process::deliver::siginfo(sig, &info);
                UserPtr::<u8>::new(uinfo).copy_to_user(&sys.proc.mm, &bytes)?;
            }
            return Ok(sig as usize);
        }
        let deadline = deadline.or_else(|| timeout.map(|t| now.saturating_add(t)));
        if deadline.is_some_and(|d| now >= d) {
            return Err(Errno::EAGAIN);
        }
        sys.proc.restart_deadline = deadline;
        Err(process::sched::block(sys, process::sched::Wait::SigWait(set, deadline)))
    })
}
