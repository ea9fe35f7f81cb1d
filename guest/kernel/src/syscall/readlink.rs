//! `readlink`, `readlinkat` (`/proc/self/exe` names the program,
//! `/proc/self/fd/N` what descriptor N is).

use super::path::{lookup_at, PathBuf, AT_FDCWD};
use super::{Args, Errno, UserPtr};
use crate::process;

fn readlink_at(dirfd: u64, path: u64, buf: u64, size: u64) -> Result<usize, Errno> {
    let size = size as i32;
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let p = PathBuf::read(sys, path)?;
        let node = lookup_at(sys, dirfd, p.as_bytes(), 0, false)?;
        if !sys.vfs.node(node).is_symlink() {
            return Err(Errno::EINVAL);
        }
        let target = sys.vfs.link_target(node).ok_or(Errno::EINVAL)?;
        let n = target.len().min(size as usize);
        UserPtr::new(buf).copy_to_user(&sys.proc.mm, &target[..n])?;
        Ok(n)
    })
}

pub(super) fn readlink(a: &Args) -> Result<usize, Errno> {
    readlink_at(AT_FDCWD as u64, a[0], a[1], a[2])
}

pub(super) fn readlinkat(a: &Args) -> Result<usize, Errno> {
    readlink_at(a[0], a[1], a[2], a[3])
}
