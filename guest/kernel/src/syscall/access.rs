//! `access`, `faccessat`, `faccessat2`, for root on a read-only file
//! system: W_OK is EROFS (devices excepted), X_OK needs an execute bit on
//! a file, everything else is allowed.

use super::path::{lookup_user_at, AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use super::{Args, Errno};
use crate::process;
use crate::vfs::Kind;

const W_OK: u64 = 2;
const X_OK: u64 = 1;

fn access_at(dirfd: u64, path: u64, mode: u64, flags: u64) -> Result<usize, Errno> {
    if mode & !7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let node = lookup_user_at(sys, dirfd, path, flags)?;
        let n = sys.vfs.node(node);
        let device = matches!(n.kind, Kind::Device(_));
        if mode & W_OK != 0 && !device {
            sys.vfs.writable(node)?;
        }
        let perm = sys.vfs.stat(node).st_mode;
        if mode & X_OK != 0 && !n.is_dir() && perm & 0o111 == 0 {
            return Err(Errno::EACCES);
        }
        Ok(0)
    })
}

pub(super) fn access(a: &Args) -> Result<usize, Errno> {
    access_at(AT_FDCWD as u64, a[0], a[1], 0)
}

pub(super) fn faccessat(a: &Args) -> Result<usize, Errno> {
    access_at(a[0], a[1], a[2], 0)
}

pub(super) fn faccessat2(a: &Args) -> Result<usize, Errno> {
    access_at(a[0], a[1], a[2], a[3])
}
