//! Extended attributes: kvmos's file systems keep none. Reads answer as a
//! Linux file system with xattr support and no attributes set (ENODATA,
//! an empty list), which is what `ls -l` and `cp -a` see natively on
//! ext4 or tmpfs; setting one is EOPNOTSUPP. The file must exist all the
//! same (ENOENT, EBADF first, as on Linux).

use super::path::{fd_node, lookup_user_at, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use super::{Args, Errno};
use crate::process;

/// Linux's `XATTR_NAME_MAX`.
const XATTR_NAME_MAX: usize = 255;

/// The attribute name at `name`: ERANGE if empty or too long.
fn check_name(sys: &process::System, name: u64) -> Result<(), Errno> {
    let mut buf = [0u8; XATTR_NAME_MAX + 1];
    let n = super::UserPtr::<u8>::new(name)
        .read_cstr(&sys.proc.mm, &mut buf)
        .map_err(|e| if e == Errno::ENAMETOOLONG { Errno::ERANGE } else { e })?;
    if n.is_empty() {
        return Err(Errno::ERANGE);
    }
    Ok(())
}

fn at_path(path: u64, follow: bool, name: Option<u64>) -> Result<(), Errno> {
    process::with(|sys| {
        let flags = if follow { 0 } else { AT_SYMLINK_NOFOLLOW };
        lookup_user_at(sys, AT_FDCWD as u64, path, flags)?;
        if let Some(name) = name {
            check_name(sys, name)?;
        }
        Ok(0)
    })
    .map(|_| ())
}

fn at_fd(fd: u64, name: Option<u64>) -> Result<(), Errno> {
    process::with(|sys| {
        fd_node(sys, fd)?;
        if let Some(name) = name {
            check_name(sys, name)?;
        }
        Ok(0)
    })
    .map(|_| ())
}

pub(super) fn getxattr(a: &Args) -> Result<usize, Errno> {
    at_path(a[0], true, Some(a[1]))?;
    Err(Errno::ENODATA)
}

pub(super) fn lgetxattr(a: &Args) -> Result<usize, Errno> {
    at_path(a[0], false, Some(a[1]))?;
    Err(Errno::ENODATA)
}

pub(super) fn fgetxattr(a: &Args) -> Result<usize, Errno> {
    at_fd(a[0], Some(a[1]))?;
    Err(Errno::ENODATA)
}

pub(super) fn listxattr(a: &Args) -> Result<usize, Errno> {
    at_path(a[0], true, None).map(|_| 0)
}

pub(super) fn llistxattr(a: &Args) -> Result<usize, Errno> {
    at_path(a[0], false, None).map(|_| 0)
}

pub(super) fn flistxattr(a: &Args) -> Result<usize, Errno> {
    at_fd(a[0], None).map(|_| 0)
}

pub(super) fn setxattr(a: &Args) -> Result<usize, Errno> {
    at_path(a[0], true, Some(a[1]))?;
    Err(Errno::EOPNOTSUPP)
}

pub(super) fn lsetxattr(a: &Args) -> Result<usize, Errno> {
    at_path(a[0], false, Some(a[1]))?;
    Err(Errno::EOPNOTSUPP)
}

pub(super) fn fsetxattr(a: &Args) -> Result<usize, Errno> {
    at_fd(a[0], Some(a[1]))?;
    Err(Errno::EOPNOTSUPP)
}

pub(super) fn removexattr(a: &Args) -> Result<usize, Errno> {
    at_path(a[0], true, Some(a[1]))?;
    Err(Errno::ENODATA)
}

pub(super) fn lremovexattr(a: &Args) -> Result<usize, Errno> {
    at_path(a[0], false, Some(a[1]))?;
    Err(Errno::ENODATA)
}

pub(super) fn fremovexattr(a: &Args) -> Result<usize, Errno> {
    at_fd(a[0], Some(a[1]))?;
    Err(Errno::ENODATA)
}
