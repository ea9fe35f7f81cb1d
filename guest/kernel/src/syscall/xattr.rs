//! `getxattr`, `lgetxattr`, `fgetxattr`, `listxattr`, `llistxattr`,
//! `flistxattr`: extended attributes as tmpfs has them when none is set
//! (kvmos's files carry none): a name in a namespace tmpfs knows is
//! ENODATA, other names EOPNOTSUPP, and every list is empty. `ls -l`
//! asks for POSIX ACLs this way. As Linux, `user.` names are ENODATA on
//! anything but files and directories before the name is looked at, a
//! pipe has no other attributes, and a symlink no ACLs.

use super::path::{fd_node, lookup_user_at, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use super::{Args, Errno, UserPtr};
use crate::process::fd::FileKind;
use crate::process::{self, System};

/// XATTR_NAME_MAX.
const NAME_MAX: usize = 255;

/// Why a name cannot be read, as Linux's `import_xattr_name`: ERANGE for
/// an empty or too long one.
fn read_name(sys: &System, ptr: u64, buf: &mut [u8; NAME_MAX + 1]) -> Result<usize, Errno> {
    match UserPtr::<u8>::new(ptr).read_cstr(&sys.proc.mm, buf) {
        Ok([]) => Err(Errno::ERANGE),
        Ok(n) => Ok(n.len()),
        Err(Errno::ENAMETOOLONG) => Err(Errno::ERANGE),
        Err(e) => Err(e),
    }
}

/// What tmpfs answers for a name with no value: ENODATA in its
/// namespaces (user., trusted., security., and the two POSIX ACLs),
/// EINVAL for a bare prefix, EOPNOTSUPP for the rest.
pub fn lookup_result(name: &[u8]) -> Errno {
    const ACLS: [&[u8]; 2] = [b"system.posix_acl_access", b"system.posix_acl_default"];
    if ACLS.contains(&name) {
        return Errno::ENODATA;
    }
    for prefix in [&b"user."[..], b"trusted.", b"security."] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return if rest.is_empty() { Errno::EINVAL } else { Errno::ENODATA };
        }
    }
    Errno::EOPNOTSUPP
}

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
/// A pipe: not a node of the file system.
const PIPE: u32 = 0o010_000;

/// What getxattr of `name` answers on a file of type `ifmt` (S_IFMT
/// bits, `PIPE` for a pipe) that has no attributes.
pub fn get_result(ifmt: u32, name: &[u8]) -> Errno {
    const ACLS: [&[u8]; 2] = [b"system.posix_acl_access", b"system.posix_acl_default"];
    if name.starts_with(b"user.") && ifmt != S_IFREG && ifmt != S_IFDIR {
        return Errno::ENODATA;
    }
    if ifmt == PIPE || (ifmt == S_IFLNK && ACLS.contains(&name)) {
        return Errno::EOPNOTSUPP;
    }
    lookup_result(name)
}

/// The type of what `fd` is open on (`PIPE` for a pipe).
fn fd_type(sys: &System, fd: u64) -> Result<u32, Errno> {
    if sys.proc.fds.get(fd)?.file.borrow().kind == FileKind::Pipe {
        return Ok(PIPE);
    }
    Ok(sys.vfs.node(fd_node(sys, fd)?).mode & S_IFMT)
}

fn path_type(sys: &mut System, path: u64, flags: u64) -> Result<u32, Errno> {
    let node = lookup_user_at(sys, AT_FDCWD as u64, path, flags)?;
    Ok(sys.vfs.node(node).mode & S_IFMT)
}

fn get(path: Option<u64>, fd: u64, name: u64, flags: u64) -> Result<usize, Errno> {
    process::with(|sys| {
        let mut buf = [0u8; NAME_MAX + 1];
        let n = read_name(sys, name, &mut buf)?;
        let ifmt = match path {
            Some(p) => path_type(sys, p, flags)?,
            None => fd_type(sys, fd)?,
        };
        Err(get_result(ifmt, &buf[..n]))
    })
}

fn list(path: Option<u64>, fd: u64, flags: u64) -> Result<usize, Errno> {
    process::with(|sys| {
        match path {
            Some(p) => path_type(sys, p, flags)?,
            None => fd_type(sys, fd)?,
        };
        // No names: a list of 0 bytes, whatever the buffer.
        Ok(0)
    })
}

pub(super) fn getxattr(a: &Args) -> Result<usize, Errno> {
    get(Some(a[0]), 0, a[1], 0)
}

pub(super) fn lgetxattr(a: &Args) -> Result<usize, Errno> {
    get(Some(a[0]), 0, a[1], AT_SYMLINK_NOFOLLOW)
}

pub(super) fn fgetxattr(a: &Args) -> Result<usize, Errno> {
    get(None, a[0], a[1], 0)
}

pub(super) fn listxattr(a: &Args) -> Result<usize, Errno> {
    list(Some(a[0]), 0, 0)
}

pub(super) fn llistxattr(a: &Args) -> Result<usize, Errno> {
    list(Some(a[0]), 0, AT_SYMLINK_NOFOLLOW)
}

pub(super) fn flistxattr(a: &Args) -> Result<usize, Errno> {
    list(None, a[0], 0)
}

/// The set and remove calls: the file and the name are checked as for
/// a get; kvmos keeps no attributes, so a set is EOPNOTSUPP and a remove
/// finds nothing to remove (what a get of that name answers).
fn change(path: Option<u64>, fd: u64, name: u64, flags: u64, set: bool) -> Result<usize, Errno> {
    match get(path, fd, name, flags) {
        Err(e) if set && e == Errno::ENODATA => Err(Errno::EOPNOTSUPP),
        other => other,
    }
}

pub(super) fn setxattr(a: &Args) -> Result<usize, Errno> {
    change(Some(a[0]), 0, a[1], 0, true)
}

pub(super) fn lsetxattr(a: &Args) -> Result<usize, Errno> {
    change(Some(a[0]), 0, a[1], AT_SYMLINK_NOFOLLOW, true)
}

pub(super) fn fsetxattr(a: &Args) -> Result<usize, Errno> {
    change(None, a[0], a[1], 0, true)
}

pub(super) fn removexattr(a: &Args) -> Result<usize, Errno> {
    change(Some(a[0]), 0, a[1], 0, false)
}

pub(super) fn lremovexattr(a: &Args) -> Result<usize, Errno> {
    change(Some(a[0]), 0, a[1], AT_SYMLINK_NOFOLLOW, false)
}

pub(super) fn fremovexattr(a: &Args) -> Result<usize, Errno> {
    change(None, a[0], a[1], 0, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_tmpfs_answers_them() {
        assert_eq!(lookup_result(b"user.x"), Errno::ENODATA);
        assert_eq!(lookup_result(b"security.selinux"), Errno::ENODATA);
        assert_eq!(lookup_result(b"trusted.overlay.opaque"), Errno::ENODATA);
        assert_eq!(lookup_result(b"system.posix_acl_access"), Errno::ENODATA);
        assert_eq!(lookup_result(b"system.posix_acl_default"), Errno::ENODATA);
        assert_eq!(lookup_result(b"system.other"), Errno::EOPNOTSUPP);
        assert_eq!(lookup_result(b"foo.x"), Errno::EOPNOTSUPP);
        assert_eq!(lookup_result(b"user."), Errno::EINVAL);
    }

    /// What Linux 6.18 answered for a pipe and a symlink.
    #[test]
    fn pipes_and_symlinks() {
        assert_eq!(get_result(PIPE, b"user.x"), Errno::ENODATA);
        assert_eq!(get_result(PIPE, b"system.posix_acl_access"), Errno::EOPNOTSUPP);
        assert_eq!(get_result(PIPE, b"security.selinux"), Errno::EOPNOTSUPP);
        assert_eq!(get_result(S_IFLNK, b"system.posix_acl_access"), Errno::EOPNOTSUPP);
        assert_eq!(get_result(S_IFLNK, b"security.selinux"), Errno::ENODATA);
        assert_eq!(get_result(S_IFLNK, b"user."), Errno::ENODATA);
        assert_eq!(get_result(S_IFLNK, b"foo.x"), Errno::EOPNOTSUPP);
        assert_eq!(get_result(S_IFREG, b"user."), Errno::EINVAL);
        assert_eq!(get_result(S_IFDIR, b"system.posix_acl_default"), Errno::ENODATA);
    }
}
