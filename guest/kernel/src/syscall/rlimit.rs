//! `prlimit64`, `getrlimit`, `setrlimit`: kept per process (the stack
//! and descriptor limits are the ones kvmos enforces).

use super::{Args, Errno, UserPtr};
use crate::process::{self, Rlimit, RLIM_NLIMITS};

fn prlimit(pid: u64, resource: u64, new: u64, old: u64) -> Result<usize, Errno> {
    if resource >= RLIM_NLIMITS as u64 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        if pid as i32 != 0 && pid as u32 != sys.proc.pid {
            return Err(Errno::ESRCH);
        }
        let r = resource as usize;
        let n = if new != 0 {
            let n: Rlimit = UserPtr::new(new).read(&sys.proc.mm)?;
            if n.cur > n.max {
                return Err(Errno::EINVAL);
            }
            Some(n)
        } else {
            None
        };
        if old != 0 {
            UserPtr::new(old).copy_to_user(&sys.proc.mm, &[sys.proc.rlimits[r]])?;
        }
        if let Some(n) = n {
            sys.proc.rlimits[r] = n;
        }
        Ok(0)
    })
}

pub(super) fn prlimit64(a: &Args) -> Result<usize, Errno> {
    prlimit(a[0], a[1], a[2], a[3])
}

pub(super) fn getrlimit(a: &Args) -> Result<usize, Errno> {
    prlimit(0, a[0], 0, a[1])
}

pub(super) fn setrlimit(a: &Args) -> Result<usize, Errno> {
    prlimit(0, a[0], a[1], 0)
}
