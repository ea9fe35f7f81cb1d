//! Process and user identity: pid 1, root (uid and gid 0), its own
//! process group and session. Root may "change" ids: the calls succeed.

use super::{Args, Errno, UserPtr};
use crate::process;

pub(super) fn getpid(_: &Args) -> Result<usize, Errno> {
    process::with(|sys| Ok(sys.proc.pid as usize))
}

/// The parent of pid 1 is nobody (0), as on Linux.
pub(super) fn getppid(_: &Args) -> Result<usize, Errno> {
    Ok(0)
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

fn is_self(pid: u64) -> bool {
    pid as i32 == 0 || pid as i32 == 1
}

/// getpgrp, and getpgid/getsid of this process: 1.
pub(super) fn getpgid(a: &Args) -> Result<usize, Errno> {
    if is_self(a[0]) {
        Ok(1)
    } else {
        Err(Errno::ESRCH)
    }
}

pub(super) fn getpgrp(_: &Args) -> Result<usize, Errno> {
    Ok(1)
}

/// A session leader keeps its group (EPERM), as Linux says for pid 1.
pub(super) fn setpgid(a: &Args) -> Result<usize, Errno> {
    if (a[1] as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    if !is_self(a[0]) {
        return Err(Errno::ESRCH);
    }
    if a[1] as i32 == 0 || a[1] as i32 == 1 {
        Ok(0)
    } else {
        Err(Errno::EPERM)
    }
}

/// Already a process group leader: EPERM.
pub(super) fn setsid(_: &Args) -> Result<usize, Errno> {
    Err(Errno::EPERM)
}

/// wait4, waitid: kvmos never creates a child (no fork yet), so there is
/// nothing to wait for.
pub(super) fn wait_child(_: &Args) -> Result<usize, Errno> {
    Err(Errno::ECHILD)
}
