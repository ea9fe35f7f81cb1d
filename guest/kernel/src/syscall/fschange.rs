//! The system calls that change the file system. Each makes the checks
//! Linux makes (bad flags, a missing or non-directory parent, `.` and
//! `..`, an existing name) in Linux's order, then asks the vfs, whose
//! file system says EROFS (the initramfs), EACCES (/proc) or does it
//! (tmpfs). `fsync` and friends have nothing to do: memory is the store.

use super::path::{
    fd_node, lookup_at, lookup_user_at, start_dir, PathBuf, AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR,
    AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW,
};
use super::{Args, Errno, UserPtr};
use crate::process::fd::FileKind;
use crate::process::{self, System};
use crate::vfs::path::Parent;
use crate::vfs::{NewNode, SetAttr, Time, RENAME_EXCHANGE, RENAME_NOREPLACE};

const CWD: u64 = AT_FDCWD as u64;
const S_IFMT: u64 = 0o170000;
const S_IFREG: u64 = 0o100000;

/// The directory `path` (from `dirfd`) would be created or removed in.
fn parent<'p>(sys: &mut System, dirfd: u64, path: &'p [u8]) -> Result<Parent<'p>, Errno> {
    let start = start_dir(sys, dirfd, path)?;
    sys.vfs.lookup_parent(start, path)
}

/// The checks of Linux's `filename_create`: the parent must exist, and
/// the name must not (`.`, `..` and `/` exist).
fn create_checks<'p>(sys: &mut System, dirfd: u64, path: &'p [u8]) -> Result<Parent<'p>, Errno> {
    let p = parent(sys, dirfd, path)?;
    sys.vfs.ensure_loaded(p.dir);
    if p.name.is_empty()
        || p.name == b"."
        || p.name == b".."
        || sys.vfs.child(p.dir, p.name).is_some()
    {
        return Err(Errno::EEXIST);
    }
    Ok(p)
}

fn make_at(dirfd: u64, path: u64, what: NewNode<'_>, mode: u64) -> Result<usize, Errno> {
    process::with(|sys| {
        let p = PathBuf::read(sys, path)?;
        let pa = create_checks(sys, dirfd, p.as_bytes())?;
        // A file's name cannot end in a slash (a directory's may).
        if pa.trailing_slash && !matches!(what, NewNode::Dir) {
            return Err(Errno::ENOENT);
        }
        let perm = mode as u32 & 0o7777 & !sys.proc.umask;
        sys.vfs.create(pa.dir, pa.name, what, perm, 0, 0)?;
        Ok(0)
    })
}

pub(super) fn mkdir(a: &Args) -> Result<usize, Errno> {
    make_at(CWD, a[0], NewNode::Dir, a[1] & 0o1777)
}
pub(super) fn mkdirat(a: &Args) -> Result<usize, Errno> {
    make_at(a[0], a[1], NewNode::Dir, a[2] & 0o1777)
}

/// mknod: regular files only (FIFOs and devices: EPERM, as for a user
/// without CAP_MKNOD; tmpfs has no FIFOs here).
fn mknod_at(dirfd: u64, path: u64, mode: u64) -> Result<usize, Errno> {
    match mode & S_IFMT {
        0 | S_IFREG => make_at(dirfd, path, NewNode::File, mode),
        0o040000 => Err(Errno::EINVAL),
        _ => process::with(|sys| {
            let p = PathBuf::read(sys, path)?;
            let pa = create_checks(sys, dirfd, p.as_bytes())?;
            sys.vfs.writable(pa.dir)?;
            Err(Errno::EPERM)
        }),
    }
}
pub(super) fn mknod(a: &Args) -> Result<usize, Errno> {
    mknod_at(CWD, a[0], a[1])
}
pub(super) fn mknodat(a: &Args) -> Result<usize, Errno> {
    mknod_at(a[0], a[1], a[2])
}

fn symlink_at(target: u64, dirfd: u64, path: u64) -> Result<usize, Errno> {
    process::with(|sys| {
        let t = PathBuf::read(sys, target)?;
        if t.as_bytes().is_empty() {
            return Err(Errno::ENOENT);
        }
        let p = PathBuf::read(sys, path)?;
        let pa = create_checks(sys, dirfd, p.as_bytes())?;
        if pa.trailing_slash {
            return Err(Errno::ENOENT);
        }
        sys.vfs.create(pa.dir, pa.name, NewNode::Symlink(t.as_bytes()), 0o777, 0, 0)?;
        Ok(0)
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
        let target = lookup_at(
            sys,
            olddir,
            o.as_bytes(),
            flags,
            flags & AT_SYMLINK_FOLLOW != 0,
        )?;
        let n = PathBuf::read(sys, new)?;
        let pa = create_checks(sys, newdir, n.as_bytes())?;
        if pa.trailing_slash {
            return Err(Errno::ENOENT);
        }
        sys.vfs.link(target, pa.dir, pa.name)?;
        Ok(0)
    })
}
pub(super) fn link(a: &Args) -> Result<usize, Errno> {
    link_at(CWD, a[0], CWD, a[1], 0)
}
pub(super) fn linkat(a: &Args) -> Result<usize, Errno> {
    link_at(a[0], a[1], a[2], a[3], a[4])
}

/// Linux's `do_rmdir` and `do_unlinkat`.
fn remove_at(dirfd: u64, path: u64, dir: bool) -> Result<usize, Errno> {
    process::with(|sys| {
        let p = PathBuf::read(sys, path)?;
        let pa = parent(sys, dirfd, p.as_bytes())?;
        match (pa.name, dir) {
            (b".", true) => return Err(Errno::EINVAL),
            (b"..", true) => return Err(Errno::ENOTEMPTY),
            (b"", true) => return Err(Errno::EBUSY),
            (b"." | b".." | b"", false) => return Err(Errno::EISDIR),
            _ => {}
        }
        if !dir && pa.trailing_slash {
            // unlink("x/"): a directory is EISDIR, anything else ENOTDIR.
            sys.vfs.ensure_loaded(pa.dir);
            let c = sys.vfs.child(pa.dir, pa.name).ok_or(Errno::ENOENT)?;
            if !sys.vfs.node(c).is_dir() {
                return Err(Errno::ENOTDIR);
            }
        }
        sys.vfs.unlink(pa.dir, pa.name, dir)?;
        Ok(0)
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

const RENAME_WHITEOUT: u64 = 4;

/// Linux's `do_renameat2`.
fn rename_at(olddir: u64, old: u64, newdir: u64, new: u64, flags: u64) -> Result<usize, Errno> {
    let (noreplace, exchange) = (RENAME_NOREPLACE as u64, RENAME_EXCHANGE as u64);
    if flags & !(noreplace | exchange | RENAME_WHITEOUT) != 0
        || (flags & (noreplace | RENAME_WHITEOUT) != 0 && flags & exchange != 0)
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
            return Err(if flags & noreplace != 0 {
                Errno::EEXIST
            } else {
                Errno::EBUSY
            });
        }
        if flags & RENAME_WHITEOUT != 0 {
            sys.vfs.writable(op.dir)?;
            return Err(Errno::EINVAL);
        }
        // A trailing slash needs a directory (Linux: ENOTDIR).
        sys.vfs.ensure_loaded(op.dir);
        let src = sys.vfs.child(op.dir, op.name).ok_or(Errno::ENOENT)?;
        if (op.trailing_slash || np.trailing_slash) && !sys.vfs.node(src).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        sys.vfs
            .rename(op.dir, op.name, np.dir, np.name, flags as u32)?;
        Ok(0)
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

/// Changes the node `path` names (following a final symlink if `follow`).
fn setattr_path(dirfd: u64, path: u64, follow: bool, attr: SetAttr) -> Result<usize, Errno> {
    process::with(|sys| {
        let p = PathBuf::read(sys, path)?;
        let node = lookup_at(sys, dirfd, p.as_bytes(), 0, follow)?;
        sys.vfs.setattr(node, attr)?;
        Ok(0)
    })
}

fn mode_attr(mode: u64) -> SetAttr {
    SetAttr {
        mode: Some(mode as u32 & 0o7777),
        ..SetAttr::default()
    }
}

/// chown's ids: -1 leaves one as it is.
fn owner_attr(uid: u64, gid: u64) -> SetAttr {
    let id = |v: u64| (v as u32 != u32::MAX).then_some(v as u32);
    SetAttr {
        uid: id(uid),
        gid: id(gid),
        ..SetAttr::default()
    }
}

pub(super) fn chmod(a: &Args) -> Result<usize, Errno> {
    setattr_path(CWD, a[0], true, mode_attr(a[1]))
}
pub(super) fn fchmodat(a: &Args) -> Result<usize, Errno> {
    setattr_path(a[0], a[1], true, mode_attr(a[2]))
}
pub(super) fn chown(a: &Args) -> Result<usize, Errno> {
    setattr_path(CWD, a[0], true, owner_attr(a[1], a[2]))
}
pub(super) fn lchown(a: &Args) -> Result<usize, Errno> {
    setattr_path(CWD, a[0], false, owner_attr(a[1], a[2]))
}
pub(super) fn fchownat(a: &Args) -> Result<usize, Errno> {
    if a[4] & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let node = lookup_user_at(sys, a[0], a[1], a[4])?;
        sys.vfs.setattr(node, owner_attr(a[2], a[3]))?;
        Ok(0)
    })
}

/// fchmod, fchown: the node behind an open descriptor.
fn fd_setattr(fd: u64, attr: SetAttr) -> Result<usize, Errno> {
    process::with(|sys| {
        let node = fd_node(sys, fd)?;
        sys.vfs.setattr(node, attr)?;
        Ok(0)
    })
}
pub(super) fn fchmod(a: &Args) -> Result<usize, Errno> {
    fd_setattr(a[0], mode_attr(a[1]))
}
pub(super) fn fchown(a: &Args) -> Result<usize, Errno> {
    fd_setattr(a[0], owner_attr(a[1], a[2]))
}

const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

fn now() -> Time {
    let ns = super::time::now(super::time::CLOCK_REALTIME).unwrap_or(0);
    Time {
        sec: (ns / 1_000_000_000) as i64,
        nsec: (ns % 1_000_000_000) as u32,
    }
}

/// Access and modification times from `utimensat`'s two timespecs.
fn times_attr(ts: Option<[super::time::Timespec; 2]>) -> SetAttr {
    let t = now();
    let pick = |x: &super::time::Timespec| match x.nsec {
        UTIME_NOW => Some(t),
        UTIME_OMIT => None,
        nsec => Some(Time {
            sec: x.sec,
            nsec: nsec as u32,
        }),
    };
    match ts {
        None => SetAttr {
            atime: Some(t),
            mtime: Some(t),
            ..SetAttr::default()
        },
        Some([a, m]) => SetAttr {
            atime: pick(&a),
            mtime: pick(&m),
            ..SetAttr::default()
        },
    }
}

pub(super) fn utimensat(a: &Args) -> Result<usize, Errno> {
    let (dirfd, path, times, flags) = (a[0], a[1], a[2], a[3]);
    process::with(|sys| {
        let mut ts = None;
        if times != 0 {
            let mut t = [super::time::Timespec::default(); 2];
            UserPtr::new(times).copy_from_user(&sys.proc.mm, &mut t)?;
            if t.iter().any(|t| {
                t.nsec != UTIME_NOW && t.nsec != UTIME_OMIT && !(0..1_000_000_000).contains(&t.nsec)
            }) {
                return Err(Errno::EINVAL);
            }
            ts = Some(t);
        }
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let node = if path == 0 {
            fd_node(sys, dirfd)?
        } else {
            lookup_user_at(sys, dirfd, path, flags)?
        };
        let attr = times_attr(ts);
        if attr.atime.is_none() && attr.mtime.is_none() {
            return Ok(0);
        }
        sys.vfs.setattr(node, attr)?;
        Ok(0)
    })
}

/// utimes(path, timeval[2]) and utime(path, utimbuf): `micro` says
/// whether the second word of each time is microseconds (utimes) or the
/// times are two plain seconds (utime).
fn utimes_common(path: u64, times: u64, micro: bool) -> Result<usize, Errno> {
    process::with(|sys| {
        let ts = if times == 0 {
            None
        } else if micro {
            let mut tv = [0i64; 4];
            UserPtr::new(times).copy_from_user(&sys.proc.mm, &mut tv)?;
            if [tv[1], tv[3]].iter().any(|&us| !(0..1_000_000).contains(&us)) {
                return Err(Errno::EINVAL);
            }
            let t = |s: i64, us: i64| super::time::Timespec { sec: s, nsec: us * 1000 };
            Some([t(tv[0], tv[1]), t(tv[2], tv[3])])
        } else {
            let mut tv = [0i64; 2];
            UserPtr::new(times).copy_from_user(&sys.proc.mm, &mut tv)?;
            let t = |s: i64| super::time::Timespec { sec: s, nsec: 0 };
            Some([t(tv[0]), t(tv[1])])
        };
        let p = PathBuf::read(sys, path)?;
        let node = lookup_at(sys, CWD, p.as_bytes(), 0, true)?;
        sys.vfs.setattr(node, times_attr(ts))?;
        Ok(0)
    })
}
pub(super) fn utimes(a: &Args) -> Result<usize, Errno> {
    utimes_common(a[0], a[1], true)
}
pub(super) fn utime(a: &Args) -> Result<usize, Errno> {
    utimes_common(a[0], a[1], false)
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
        sys.vfs.truncate(node, None, a[1])?;
        Ok(0)
    })
}

/// ftruncate: a regular file open for writing (else EINVAL, as Linux).
pub(super) fn ftruncate(a: &Args) -> Result<usize, Errno> {
    if (a[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let file = sys.proc.fds.get(a[0])?.file.clone();
        let f = file.borrow();
        if f.kind != FileKind::Regular || !f.writable() {
            return Err(Errno::EINVAL);
        }
        sys.vfs.truncate(f.node, f.held.as_ref(), a[1])?;
        Ok(0)
    })
}

/// fallocate: mode 0 (allocate, growing the file) on a file open for
/// writing; the other modes are EOPNOTSUPP.
pub(super) fn fallocate(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let file = sys.proc.fds.get(a[0])?.file.clone();
        let f = file.borrow();
        let (mode, off, len) = (a[1], a[2] as i64, a[3] as i64);
        if off < 0 || len <= 0 {
            return Err(Errno::EINVAL);
        }
        if !f.writable() {
            return Err(Errno::EBADF);
        }
        if f.kind != FileKind::Regular {
            return Err(Errno::ENODEV);
        }
        let end = (off as u64).checked_add(len as u64).filter(|&e| e <= i64::MAX as u64).ok_or(Errno::EFBIG)?;
        if mode != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let size = match &f.held {
            Some(i) => i.borrow().data.len(),
            None => sys.vfs.size(f.node),
        };
        if end > size {
            sys.vfs.truncate(f.node, f.held.as_ref(), end)?;
        }
        Ok(0)
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
