//! Process and user identity: pids, the parent, process groups (one
//! session), root (uid and gid 0). Root may "change" ids: the calls
//! succeed.

use super::{Args, Errno, UserPtr};
use crate::process::{self, sched};

pub(super) fn getpid(_: &Args) -> Result<usize, Errno> {
    process::with(|sys| Ok(sys.proc.pid as usize))
}

/// The parent of pid 1 is nobody (0), as on Linux; orphans are init's.
pub(super) fn getppid(_: &Args) -> Result<usize, Errno> {
    process::with(|sys| Ok(sys.proc.ppid as usize))
}

/// getuid, geteuid, getgid, getegid.
pub(super) fn zero(_: &Args) -> Result<usize, Errno> {
    Ok(0)
}

/// setuid, setgid, setreuid, setregid, setresuid, setresgid: root may.
pub(super) fn set_ids(_: &Args) -> Result<usize, Errno> {
    Ok(0)
}

/// setfsuid, setfsgid: return the previous id (0).
pub(super) fn set_fs_id(_: &Args) -> Result<usize, Errno> {
    Ok(0)
}

/// Linux's NGROUPS_MAX.
const NGROUPS_MAX: u64 = 65536;

/// setgroups: a size beyond NGROUPS_MAX is EINVAL; root may set any
/// list (kvmos keeps none: checks run as root).
pub(super) fn setgroups(a: &Args) -> Result<usize, Errno> {
    if a[0] as i32 as i64 as u64 > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let mut first = [0u32; 1];
        if a[0] as i32 > 0 {
            UserPtr::new(a[1]).copy_from_user(&sys.proc.mm, &mut first)?;
        }
        Ok(0)
    })
}

pub(super) fn getgroups(a: &Args) -> Result<usize, Errno> {
    if (a[0] as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// getresuid, getresgid: three zeros.
pub(super) fn getres_ids(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        for &p in &a[..3] {
            UserPtr::<u32>::new(p).copy_to_user(&sys.proc.mm, &[0])?;
        }
        Ok(0)
    })
}

/// getpgid: of this process (0 or its pid) or another live one.
pub(super) fn getpgid(a: &Args) -> Result<usize, Errno> {
    let pid = a[0] as i32;
    process::with(|sys| {
        if pid == 0 {
            return Ok(sys.proc.pgid as usize);
        }
        if pid < 0 {
            return Err(Errno::ESRCH);
        }
        sched::find_mut(sys, pid as u32)
            .map(|p| p.pgid as usize)
            .ok_or(Errno::ESRCH)
    })
}

/// getsid: every process is in process 1's session.
pub(super) fn getsid(a: &Args) -> Result<usize, Errno> {
    getpgid(a).map(|_| 1)
}

pub(super) fn getpgrp(_: &Args) -> Result<usize, Errno> {
    process::with(|sys| Ok(sys.proc.pgid as usize))
}

/// setpgid(pid, pgid): this process or a child of it joins group `pgid`
/// (0: its own pid) of the session. Process 1, the session leader,
/// keeps its group (EPERM).
pub(super) fn setpgid(a: &Args) -> Result<usize, Errno> {
    let (pid, pgid) = (a[0] as i32, a[1] as i32);
    process::with(|sys| {
        let me = sys.proc.pid;
        // Linux's order: 0 is the caller, a group of 0 the target's pid,
        // then a negative group is EINVAL (so setpgid(-1, 0) is).
        let pid = if pid == 0 { me as i32 } else { pid };
        let pgid = if pgid == 0 { pid } else { pgid };
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        if pid < 0 {
            return Err(Errno::ESRCH);
        }
        let (target, pgid) = (pid as u32, pgid as u32);
        let exists = |g: u32| sys.proc.pgid == g || sys.others.iter().any(|p| p.pgid == g);
        if pgid != target && !exists(pgid) {
            return Err(Errno::EPERM);
        }
        if target == 1 {
            return if pgid == 1 { Ok(0) } else { Err(Errno::EPERM) };
        }
        match sched::find_mut(sys, target) {
            Some(p) if p.pid == me || p.ppid == me => {}
            _ => return Err(Errno::ESRCH),
        };
        set_pgid(sys, target, pgid);
        Ok(0)
    })
}

/// setsid: a process group leader may not (EPERM); another process
/// becomes the leader of a new group (kvmos keeps one session).
pub(super) fn setsid(_: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let pid = sys.proc.pid;
        if sys.proc.pgid == pid {
            return Err(Errno::EPERM);
        }
        set_pgid(sys, pid, pid);
        Ok(pid as usize)
    })
}

/// Process `pid` (all its threads) joins group `pgid`.
fn set_pgid(sys: &mut process::System, pid: u32, pgid: u32) {
    let threads = core::iter::once(&mut *sys.proc).chain(sys.others.iter_mut().map(|p| &mut **p));
    for p in threads.filter(|p| p.pid == pid) {
        p.pgid = pgid;
    }
}
