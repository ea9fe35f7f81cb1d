//! The system calls that would change the file system. The initramfs is
//! read-only: each makes the checks Linux makes before it would write
//! (bad flags, a missing or non-directory parent, `.` and `..`, an
//! existing name) in Linux's order, and then fails with EROFS, which is
//! where Linux's `mnt_want_write` fails on a read-only mount. `fsync`
//! and friends have nothing to do.

use super::path::{
    fd_node, lookup_at, lookup_user_at, start_dir, PathBuf, AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR,
    AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW,
};
use super::{Args, Errno, UserPtr};
use crate::process::{self, System};
use crate::vfs::path::Parent;

const CWD: u64 = AT_FDCWD as u64;

/// The directory `path` (from `dirfd`) would be created or removed in.
fn parent<'p>(sys: &System, dirfd: u64, path: &'p [u8]) -> Result<Parent<'p>, Errno> {
    let start = start_dir(sys, dirfd, path)?;
    sys.vfs.lookup_parent(start, path)
}

/// The checks of Linux's `filename_create`: the parent must exist, and
/// the name must not (`.`, `..` and `/` exist); then EROFS.
fn create_checks(sys: &System, dirfd: u64, path: &[u8]) -> Result<usize, Errno> {
    let p = parent(sys, dirfd, path)?;
    if p.name.is_empty()
        || p.name == b"."
        || p.name == b".."
        || sys.vfs.child(p.dir, p.name).is_some()
    {
        return Err(Errno::EEXIST);
    }
    Err(Errno::EROFS)
}

fn create_at(dirfd: u64, path: u64) -> Result<usize, Errno> {
    process::with(|sys| {
        let p = PathBuf::read(sys, path)?;
        create_checks(sys, dirfd, p.as_bytes())
    })
}

/// The path must exist (following symlinks if `follow`): then EROFS.
fn existing(dirfd: u64, path: u64, follow: bool) -> Result<usize, Errno> {
    process::with(|sys| {
        let p = PathBuf::read(sys, path)?;
        lookup_at(sys, dirfd, p.as_bytes(), 0, follow)?;
        Err(Errno::EROFS)
    })
}

pub(super) fn mkdir(a: &Args) -> Result<usize, Errno> {
    create_at(CWD, a[0])
}
pub(super) fn mkdirat(a: &Args) -> Result<usize, Errno> {
    create_at(a[0], a[1])
}
pub(super) fn mknod(a: &Args) -> Result<usize, Errno> {
    create_at(CWD, a[0])
}
pub(super) fn mknodat(a: &Args) -> Result<usize, Errno> {
    create_at(a[0], a[1])
}

fn symlink_at(target: u64, dirfd: u64, path: u64) -> Result<usize, Errno> {
    process::with(|sys| {
        if PathBuf::read(sys, target)?.as_bytes().is_empty() {
            return Err(Errno::ENOENT);
        }
        let p = PathBuf::read(sys, path)?;
        create_checks(sys, dirfd, p.as_bytes())
    })
}
pub(super) fn symlink(a: &Args) -> Result<usize, Errno> {
    symlink_at(a[0], CWD, a[1])
}
pub(super) fn symlinkat(a: &Args) -> Result<usize, Errno> {
    symlink_at(a[0], a[1], a[2])
}

fn link_at(olddir: u64, old: u64, newdir: u64, new: u64, flags: u64) -> Result<usize, Errno> {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let o = PathBuf::read(sys, old)?;
        lookup_at(
            sys,
            olddir,
            o.as_bytes(),
            flags,
            flags & AT_SYMLINK_FOLLOW != 0,
        )?;
        let n = PathBuf::read(sys, new)?;
        create_checks(sys, newdir, n.as_bytes())
    })
}
pub(super) fn link(a: &Args) -> Result<usize, Errno> {
    link_at(CWD, a[0], CWD, a[1], 0)
}
pub(super) fn linkat(a: &Args) -> Result<usize, Errno> {
    link_at(a[0], a[1], a[2], a[3], a[4])
}

/// Linux's `do_rmdir` and `do_unlinkat` up to `mnt_want_write`.
fn remove_at(dirfd: u64, path: u64, dir: bool) -> Result<usize, Errno> {
    process::with(|sys| {
        let p = PathBuf::read(sys, path)?;
        let pa = parent(sys, dirfd, p.as_bytes())?;
        match (pa.name, dir) {
            (b".", true) => Err(Errno::EINVAL),
            (b"..", true) => Err(Errno::ENOTEMPTY),
            (b"", true) => Err(Errno::EBUSY),
            (b"." | b".." | b"", false) => Err(Errno::EISDIR),
            _ => Err(Errno::EROFS),
        }
    })
}
pub(super) fn rmdir(a: &Args) -> Result<usize, Errno> {
    remove_at(CWD, a[0], true)
}
pub(super) fn unlink(a: &Args) -> Result<usize, Errno> {
    remove_at(CWD, a[0], false)
}
pub(super) fn unlinkat(a: &Args) -> Result<usize, Errno> {
    if a[2] & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    remove_at(a[0], a[1], a[2] & AT_REMOVEDIR != 0)
}

const RENAME_NOREPLACE: u64 = 1;
const RENAME_EXCHANGE: u64 = 2;
const RENAME_WHITEOUT: u64 = 4;

/// Linux's `do_renameat2` up to `mnt_want_write`.
fn rename_at(olddir: u64, old: u64, newdir: u64, new: u64, flags: u64) -> Result<usize, Errno> {
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
        || (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0 && flags & RENAME_EXCHANGE != 0)
    {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let o = PathBuf::read(sys, old)?;
        let n = PathBuf::read(sys, new)?;
        let op = parent(sys, olddir, o.as_bytes())?;
        let np = parent(sys, newdir, n.as_bytes())?;
        let special = |name: &[u8]| name.is_empty() || name == b"." || name == b"..";
        if special(op.name) {
            return Err(Errno::EBUSY);
        }
        if special(np.name) {
            return Err(if flags & RENAME_NOREPLACE != 0 {
                Errno::EEXIST
            } else {
                Errno::EBUSY
            });
        }
        Err(Errno::EROFS)
    })
}
pub(super) fn rename(a: &Args) -> Result<usize, Errno> {
    rename_at(CWD, a[0], CWD, a[1], 0)
}
pub(super) fn renameat(a: &Args) -> Result<usize, Errno> {
    rename_at(a[0], a[1], a[2], a[3], 0)
}
pub(super) fn renameat2(a: &Args) -> Result<usize, Errno> {
    rename_at(a[0], a[1], a[2], a[3], a[4])
}

pub(super) fn chmod(a: &Args) -> Result<usize, Errno> {
    existing(CWD, a[0], true)
}
pub(super) fn fchmodat(a: &Args) -> Result<usize, Errno> {
    existing(a[0], a[1], true)
}
pub(super) fn chown(a: &Args) -> Result<usize, Errno> {
    existing(CWD, a[0], true)
}
pub(super) fn lchown(a: &Args) -> Result<usize, Errno> {
    existing(CWD, a[0], false)
}
pub(super) fn fchownat(a: &Args) -> Result<usize, Errno> {
    if a[4] & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        lookup_user_at(sys, a[0], a[1], a[4])?;
        Err(Errno::EROFS)
    })
}

const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

pub(super) fn utimensat(a: &Args) -> Result<usize, Errno> {
    let (dirfd, path, times, flags) = (a[0], a[1], a[2], a[3]);
    process::with(|sys| {
        if times != 0 {
            let mut ts = [super::time::Timespec::default(); 2];
            UserPtr::new(times).copy_from_user(&sys.proc.mm, &mut ts)?;
            if ts.iter().any(|t| {
                t.nsec != UTIME_NOW && t.nsec != UTIME_OMIT && !(0..1_000_000_000).contains(&t.nsec)
            }) {
                return Err(Errno::EINVAL);
            }
        }
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        if path == 0 {
            fd_node(sys, dirfd)?;
        } else {
            lookup_user_at(sys, dirfd, path, flags)?;
        }
        Err(Errno::EROFS)
    })
}
pub(super) fn utimes(a: &Args) -> Result<usize, Errno> {
    existing(CWD, a[0], true)
}
pub(super) fn truncate(a: &Args) -> Result<usize, Errno> {
    if (a[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let p = PathBuf::read(sys, a[0])?;
        let node = lookup_at(sys, CWD, p.as_bytes(), 0, true)?;
        if sys.vfs.node(node).is_dir() {
            return Err(Errno::EISDIR);
        }
        Err(Errno::EROFS)
    })
}
/// fchmod, fchown: the descriptor must be open.
pub(super) fn fd_erofs(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        fd_node(sys, a[0])?;
        Err(Errno::EROFS)
    })
}
/// ftruncate: Linux wants a regular file open for writing (EINVAL), and
/// nothing is.
pub(super) fn ftruncate(a: &Args) -> Result<usize, Errno> {
    if (a[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        sys.proc.fds.get(a[0])?;
        Err(Errno::EINVAL)
    })
}
/// fallocate: nothing is open for writing (EBADF).
pub(super) fn fallocate(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let f = sys.proc.fds.get(a[0])?;
        if (a[2] as i64) < 0 || (a[3] as i64) <= 0 {
            return Err(Errno::EINVAL);
        }
        if f.file.borrow().writable() {
            Err(Errno::EOPNOTSUPP)
        } else {
            Err(Errno::EBADF)
        }
    })
}
/// fsync, fdatasync: nothing to write back.
pub(super) fn fd_ok(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| sys.proc.fds.get(a[0]).map(|_| 0))
}

/// fadvise64(fd, offset, len, advice): advice 0..=5, len >= 0.
pub(super) fn fadvise64(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        sys.proc.fds.get(a[0])?;
        if a[3] > 5 || (a[2] as i64) < 0 {
            return Err(Errno::EINVAL);
        }
        Ok(0)
    })
}

const LOCK_SH: u64 = 1;
const LOCK_EX: u64 = 2;
const LOCK_NB: u64 = 4;
const LOCK_UN: u64 = 8;

/// flock: one process, so every lock is granted.
pub(super) fn flock(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        sys.proc.fds.get(a[0])?;
        match a[1] & !LOCK_NB {
            LOCK_SH | LOCK_EX | LOCK_UN => Ok(0),
            _ => Err(Errno::EINVAL),
        }
    })
}

pub(super) fn sync(_: &Args) -> Result<usize, Errno> {
    Ok(0)
}
