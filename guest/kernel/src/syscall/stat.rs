//! `stat`, `lstat`, `fstat`, `newfstatat`, `statx`, `statfs`, `fstatfs`.

use super::path::{
    lookup_at, lookup_user_at, PathBuf, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT,
    AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW,
};
use super::user_ptr::Pod;
use super::{Args, Errno, UserPtr};
use crate::process::{self, System};
use crate::vfs::stat::Stat;

/// What the descriptor `fd` is (a pipe has no node), as fstat tells it.
fn stat_fd(sys: &System, fd: u64) -> Result<Stat, Errno> {
    let file = sys.proc.fds.get(fd)?.file.clone();
    if file.borrow().kind == crate::process::fd::FileKind::Pipe {
        return Ok(super::pipe::stat(&file.borrow()));
    }
    let node = super::path::fd_node(sys, fd)?;
    Ok(sys.vfs.stat(node))
}

/// What `dirfd` and the user path `path` name for the `*stat*at` calls:
/// with AT_EMPTY_PATH and "" the descriptor itself (glibc's fstat is
/// `newfstatat(fd, "", buf, AT_EMPTY_PATH)`, on pipes too).
fn stat_at(sys: &System, dirfd: u64, path: u64, flags: u64) -> Result<Stat, Errno> {
    if flags & AT_EMPTY_PATH != 0 && dirfd as i32 != AT_FDCWD {
        let p = PathBuf::read(sys, path)?;
        if p.as_bytes().is_empty() {
            return stat_fd(sys, dirfd);
        }
    }
    let node = lookup_user_at(sys, dirfd, path, flags)?;
    Ok(sys.vfs.stat(node))
}

fn fstatat(dirfd: u64, path: u64, buf: u64, flags: u64) -> Result<usize, Errno> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let st = stat_at(sys, dirfd, path, flags)?;
        UserPtr::new(buf).copy_to_user(&sys.proc.mm, &[st])?;
        Ok(0)
    })
}

pub(super) fn stat(a: &Args) -> Result<usize, Errno> {
    fstatat(AT_FDCWD as u64, a[0], a[1], 0)
}

pub(super) fn lstat(a: &Args) -> Result<usize, Errno> {
    fstatat(AT_FDCWD as u64, a[0], a[1], AT_SYMLINK_NOFOLLOW)
}

pub(super) fn newfstatat(a: &Args) -> Result<usize, Errno> {
    fstatat(a[0], a[1], a[2], a[3])
}

pub(super) fn fstat(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let st = stat_fd(sys, a[0])?;
        UserPtr::new(a[1]).copy_to_user(&sys.proc.mm, &[st])?;
        Ok(0)
    })
}

const STATX_RESERVED: u64 = 0x8000_0000;

pub(super) fn statx(a: &Args) -> Result<usize, Errno> {
    let (dirfd, path, flags, mask, buf) = (a[0], a[1], a[2], a[3], a[4]);
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0
        || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE
        || mask & STATX_RESERVED != 0
    {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let x = stat_at(sys, dirfd, path, flags)?.to_statx();
        UserPtr::new(buf).copy_to_user(&sys.proc.mm, &[x])?;
        Ok(0)
    })
}

/// `struct statfs` (x86-64, 120 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Statfs {
    pub f_type: i64,
    pub f_bsize: i64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [i32; 2],
    pub f_namelen: i64,
    pub f_frsize: i64,
    pub f_flags: i64,
    pub f_spare: [i64; 4],
}

// SAFETY: integers, no padding.
unsafe impl Pod for Statfs {}

const TMPFS_MAGIC: i64 = 0x0102_1994;
const ST_RDONLY: i64 = 1;

fn statfs_of(sys: &System, buf: u64) -> Result<usize, Errno> {
    let s = Statfs {
        f_type: TMPFS_MAGIC,
        f_bsize: 4096,
        f_blocks: sys.vfs.len() as u64,
        f_files: sys.vfs.len() as u64,
        f_namelen: 255,
        f_frsize: 4096,
        f_flags: ST_RDONLY,
        ..Statfs::default()
    };
    UserPtr::new(buf).copy_to_user(&sys.proc.mm, &[s])?;
    Ok(0)
}

pub(super) fn statfs(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let p = PathBuf::read(sys, a[0])?;
        lookup_at(sys, AT_FDCWD as u64, p.as_bytes(), 0, true)?;
        statfs_of(sys, a[1])
    })
}

pub(super) fn fstatfs(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        super::path::fd_node(sys, a[0])?;
        statfs_of(sys, a[1])
    })
}
