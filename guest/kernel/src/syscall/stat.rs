//! `stat`, `lstat`, `fstat`, `newfstatat`, `statx`, `statfs`, `fstatfs`.

use super::path::{
    lookup_at, lookup_user_at, PathBuf, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT,
    AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW,
};
use super::user_ptr::Pod;
use super::{Args, Errno, UserPtr};
use crate::process::{self, System};
use crate::vfs::{FsKind, NodeId};
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
fn stat_at(sys: &mut System, dirfd: u64, path: u64, flags: u64) -> Result<Stat, Errno> {
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
/// What Linux reports for the initramfs (rootfs is a ramfs or tmpfs;
/// ramfs when it is read-only here).
const RAMFS_MAGIC: i64 = 0x8584_58f6;
const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const ST_RDONLY: i64 = 1;
const ST_NOSUID: i64 = 2;
const ST_NODEV: i64 = 4;
const ST_NOEXEC: i64 = 8;

/// `statfs` of the file system `node` is on. A tmpfs may fill its size
/// (half of RAM, Linux's default); what its files take is counted in
/// pages.
fn statfs_of(sys: &System, node: NodeId, buf: u64) -> Result<usize, Errno> {
    let m = sys.vfs.mount_of(node);
    if let FsKind::Host { writable, .. } = m.kind {
        // The host's file system, as it reports it (read-only for --ro-bind).
        let h = sys.vfs.host_statfs(node)?;
        let ro = if writable { 0 } else { ST_RDONLY as u64 };
        let s = Statfs {
            f_type: h.kind as i64,
            f_bsize: h.bsize as i64,
            f_blocks: h.blocks,
            f_bfree: h.bfree,
            f_bavail: h.bavail,
            f_files: h.files,
            f_ffree: h.ffree,
            f_fsid: [h.fsid as i32, (h.fsid >> 32) as i32],
            f_namelen: h.namelen as i64,
            f_frsize: h.frsize as i64,
            f_flags: (h.flags | ro | 0x20) as i64,
            ..Statfs::default()
        };
        UserPtr::new(buf).copy_to_user(&sys.proc.mm, &[s])?;
        return Ok(0);
    }
    let bsize = 4096u64;
    let (f_type, f_blocks, f_bfree, f_files, f_ffree, f_flags) = match m.kind {
        FsKind::Initramfs => (RAMFS_MAGIC, 0, 0, 0, 0, ST_RDONLY),
        FsKind::Proc => (PROC_SUPER_MAGIC, 0, 0, 0, 0, ST_NOSUID | ST_NODEV | ST_NOEXEC),
        FsKind::Host { .. } => unreachable!("answered above"),
        FsKind::Tmpfs => {
            let blocks = m.usage.limit.get() / bsize;
            let used = m.usage.bytes.get() / bsize;
            // Linux's default inode limit: one per page of RAM/2 (its
            // default size).
            let files = m.usage.limit.get() / bsize;
            let used_files = m.usage.inodes.get();
            (
                TMPFS_MAGIC,
                blocks,
                blocks.saturating_sub(used),
                files,
                files.saturating_sub(used_files),
                ST_NOSUID | ST_NODEV,
            )
        }
    };
    let dev = m.dev;
    let s = Statfs {
        f_type,
        f_bsize: bsize as i64,
        f_blocks,
        f_bfree,
        f_bavail: f_bfree,
        f_files,
        f_ffree,
        f_fsid: [dev as i32, (dev >> 32) as i32],
        f_namelen: 255,
        f_frsize: bsize as i64,
        // ST_VALID: the flags are meaningful.
        f_flags: f_flags | 0x20,
        ..Statfs::default()
    };
    UserPtr::new(buf).copy_to_user(&sys.proc.mm, &[s])?;
    Ok(0)
}

pub(super) fn statfs(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let p = PathBuf::read(sys, a[0])?;
        let node = lookup_at(sys, AT_FDCWD as u64, p.as_bytes(), 0, true)?;
        statfs_of(sys, node, a[1])
    })
}

pub(super) fn fstatfs(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let node = super::path::fd_node(sys, a[0])?;
        statfs_of(sys, node, a[1])
    })
}
