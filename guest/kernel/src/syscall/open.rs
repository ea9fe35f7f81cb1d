//! `open`, `openat`, `creat`, `close`, `close_range`. The checks
//! Linux makes come first (ENOENT, ENOTDIR, EEXIST, EISDIR), then the
//! file system's: the initramfs is read-only (EROFS for writing,
//! truncating or creating), a tmpfs takes all three, /proc files are
//! generated into a snapshot the description holds.

use super::path::{start_dir, PathBuf, AT_FDCWD};
use super::{Args, Errno};
use crate::process::fd::*;
use crate::process::{self, System, RLIMIT_NOFILE};
use crate::vfs::{Device, Kind, NewNode};

/// Opens `path` (from `dirfd`) with `flags`, creating a file with the
/// permissions `mode` (less the umask) under O_CREAT; returns the
/// descriptor.
pub fn open_at(
    sys: &mut System,
    dirfd: u64,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<usize, Errno> {
    let acc = flags & O_ACCMODE;
    let start = start_dir(sys, dirfd, path)?;
    if flags & O_TMPFILE == O_TMPFILE {
        if acc == O_RDONLY {
            return Err(Errno::EINVAL);
        }
        // Unnamed files are not supported: EROFS where Linux would fail
        // so, EOPNOTSUPP (what glibc's tmpfile falls back on) elsewhere.
        let dir = sys.vfs.lookup(start, path, true)?;
        sys.vfs.writable(dir)?;
        return Err(Errno::EOPNOTSUPP);
    }
    let path_only = flags & O_PATH != 0;
    let creat = flags & O_CREAT != 0 && !path_only;
    let excl = creat && flags & O_EXCL != 0;
    // O_CREAT|O_EXCL never follows a final symlink (Linux: EEXIST).
    let follow = flags & O_NOFOLLOW == 0 && !excl;
    if creat && path.ends_with(b"/") {
        // Linux: O_CREAT never makes a directory (after the parent's checks).
        sys.vfs.lookup_parent(start, path)?;
        return Err(Errno::EISDIR);
    }
    let mut created = false;
    let node = match sys.vfs.lookup(start, path, follow) {
        Ok(n) => {
            if excl {
                return Err(Errno::EEXIST);
            }
            n
        }
        Err(Errno::ENOENT) if creat => {
            let perm = mode & 0o7777 & !sys.proc.umask;
            created = true;
            create_file(sys, start, path, follow, perm)?
        }
        Err(e) => return Err(e),
    };
    let n = sys.vfs.node(node);
    if flags & O_DIRECTORY != 0 && !n.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let mut held = None;
    let kind = if path_only {
        FileKind::Path
    } else if n.is_symlink() {
        return Err(Errno::ELOOP);
    } else {
        match &n.kind {
            Kind::Dir(_) => {
                if acc != O_RDONLY || creat {
                    return Err(Errno::EISDIR);
                }
                FileKind::Directory
            }
            Kind::File { .. } | Kind::Mem(_) | Kind::Proc(_) | Kind::Host => {
                if acc == 3 {
                    return Err(Errno::EINVAL);
                }
                let proc_file = match n.kind {
                    Kind::Proc(p) => Some(p),
                    _ => None,
                };
                if acc != O_RDONLY || flags & O_TRUNC != 0 {
                    sys.vfs.writable(node)?;
                }
                if let Some(p) = proc_file {
                    held = Some(super::procfs::snapshot(sys, p).map_err(|_| Errno::ENOMEM)?);
                } else {
                    held = sys.vfs.inode(node);
                    if flags & O_TRUNC != 0 && !created {
                        sys.vfs.truncate(node, None, 0)?;
                    }
                }
                FileKind::Regular
            }
            Kind::Device(Device::Other(..)) | Kind::Special => return Err(Errno::ENXIO),
            // The archive's nodes when no display is attached: no driver.
            Kind::Device(Device::Fb0 | Device::Event0) if !crate::dev::display::present() => {
                return Err(Errno::ENXIO)
            }
            Kind::Device(d) => FileKind::Device(*d),
            Kind::Symlink(_) | Kind::SelfExe => return Err(Errno::ELOOP),
        }
    };
    // Every description of a tmpfs node holds its inode (O_PATH too):
    // the node's slot is not reused while it is open.
    if held.is_none() {
        held = sys.vfs.inode(node);
    }
    // 64-bit Linux opens every file O_LARGEFILE (F_GETFL shows it).
    let file = OpenFile::new(kind, node, flags | O_LARGEFILE);
    file.borrow_mut().held = held;
    let fd = Fd {
        file,
        cloexec: flags & O_CLOEXEC != 0,
    };
    let limit = sys.proc.rlimits[RLIMIT_NOFILE].cur as usize;
    sys.proc.fds.allocate(0, fd, limit)
}

/// O_CREAT of a missing `path`: a new regular file, or, where the last
/// component is a dangling symlink that may be followed, one where it
/// points (Linux's rule), through at most MAX_SYMLINKS links.
fn create_file(
    sys: &mut System,
    mut start: crate::vfs::NodeId,
    path: &[u8],
    follow: bool,
    perm: u32,
) -> Result<crate::vfs::NodeId, Errno> {
    let mut path = path.to_vec();
    for _ in 0..=crate::vfs::path::MAX_SYMLINKS {
        let parent = sys.vfs.lookup_parent(start, &path)?;
        let Some(existing) = sys.vfs.child(parent.dir, parent.name) else {
            return sys.vfs.create(parent.dir, parent.name, NewNode::File, perm, 0, 0);
        };
        // Only a symlink can be there (the lookup found nothing).
        if !follow || !sys.vfs.node(existing).is_symlink() {
            return Err(Errno::ENOENT);
        }
        let target = sys.vfs.link_target(existing).ok_or(Errno::ENOENT)?;
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        // A target ending in a slash names a directory: EISDIR (Linux).
        if target.ends_with(b"/") {
            return Err(Errno::EISDIR);
        }
        start = parent.dir;
        path = target;
    }
    Err(Errno::ELOOP)
}

fn open_user(dirfd: u64, path: u64, flags: u64, mode: u64) -> Result<usize, Errno> {
    process::with(|sys| {
        let p = PathBuf::read(sys, path)?;
        open_at(sys, dirfd, p.as_bytes(), flags as u32, mode as u32)
    })
}

pub(super) fn open(a: &Args) -> Result<usize, Errno> {
    open_user(AT_FDCWD as u64, a[0], a[1], a[2])
}

pub(super) fn openat(a: &Args) -> Result<usize, Errno> {
    open_user(a[0], a[1], a[2], a[3])
}

pub(super) fn creat(a: &Args) -> Result<usize, Errno> {
    open_user(AT_FDCWD as u64, a[0], (O_CREAT | O_WRONLY | O_TRUNC) as u64, a[1])
}

pub(super) fn close(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| sys.proc.fds.close(a[0]).map(|_| 0))
}

const CLOSE_RANGE_UNSHARE: u64 = 2;
const CLOSE_RANGE_CLOEXEC: u64 = 4;

pub(super) fn close_range(a: &Args) -> Result<usize, Errno> {
    let (first, last, flags) = (a[0] as u32 as u64, a[1] as u32 as u64, a[2]);
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let open: alloc::vec::Vec<usize> = sys
            .proc
            .fds
            .open_fds()
            .filter(|&fd| (first..=last).contains(&(fd as u64)))
            .collect();
        for fd in open {
            if flags & CLOSE_RANGE_CLOEXEC != 0 {
                sys.proc.fds.get_mut(fd as u64)?.cloexec = true;
            } else {
                sys.proc.fds.close(fd as u64)?;
            }
        }
        Ok(0)
    })
}
