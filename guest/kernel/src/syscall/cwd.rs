//! `getcwd`, `chdir`, `fchdir`.

use super::path::{fd_node, PathBuf, AT_FDCWD};
use super::{Args, Errno, UserPtr};
use crate::process;

pub(super) fn getcwd(a: &Args) -> Result<usize, Errno> {
    let (buf, size) = (a[0], a[1] as usize);
    process::with(|sys| {
        // Linux: a removed working directory has no path.
        if sys.vfs.removed(sys.proc.cwd) {
            return Err(Errno::ENOENT);
        }
        let mut path = sys.vfs.path_of(sys.proc.cwd);
        path.push(0);
        if size < path.len() {
            return Err(Errno::ERANGE);
        }
        UserPtr::new(buf).copy_to_user(&sys.proc.mm, &path)?;
        Ok(path.len())
    })
}

pub(super) fn chdir(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let p = PathBuf::read(sys, a[0])?;
        let start = super::path::start_dir(sys, AT_FDCWD as u64, p.as_bytes())?;
        let node = sys.vfs.lookup(start, p.as_bytes(), true)?;
        if !sys.vfs.node(node).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        sys.proc.cwd = node;
        Ok(0)
    })
}

pub(super) fn fchdir(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let node = fd_node(sys, a[0])?;
        if !sys.vfs.node(node).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        sys.proc.cwd = node;
        Ok(0)
    })
}
