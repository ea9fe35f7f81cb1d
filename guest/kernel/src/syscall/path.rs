//! What the path-taking system calls share: reading a path from user
//! memory and finding where it starts (`AT_FDCWD`, a directory fd, `/`).

use super::user_ptr::UserMemory;
use super::{Errno, UserPtr};
use crate::mm::addr::VirtAddr;
use crate::bytes::find_nul;
use crate::host::layout::PAGE_SIZE;
use crate::process::System;
use crate::vfs::path::PATH_MAX;
use crate::vfs::{NodeId, ROOT};
use core::mem::MaybeUninit;

pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
pub const AT_EACCESS: u64 = 0x200;
pub const AT_REMOVEDIR: u64 = 0x200;
pub const AT_SYMLINK_FOLLOW: u64 = 0x400;
pub const AT_NO_AUTOMOUNT: u64 = 0x800;
pub const AT_EMPTY_PATH: u64 = 0x1000;
/// statx's sync flags (nothing to sync here).
pub const AT_STATX_SYNC_TYPE: u64 = 0x6000;

/// A path from user memory. Usually it lies inside one page and is used
/// where it is, through the direct map (no copy: ring 0 moves about a
/// byte a microsecond): the kernel is never preempted and a call never
/// sleeps midway (a blocked one restarts), so no other thread of the
/// process can unmap the memory during a path system call. A path that
/// crosses a page is copied into `buf`.
pub struct PathBuf {
    direct: *const u8,
    len: usize,
    buf: MaybeUninit<[u8; PATH_MAX]>,
}

impl PathBuf {
    /// The NUL-terminated path at `ptr`: EFAULT, or ENAMETOOLONG when it
    /// has no NUL within PATH_MAX bytes.
    pub fn read(sys: &System, ptr: u64) -> Result<Self, Errno> {
        let mm = &sys.proc.mm;
        let va = VirtAddr::try_new(ptr)
            .filter(|v| v.is_user())
            .ok_or(Errno::EFAULT)?;
        let phys = mm.translate_user(va, false).ok_or(Errno::EFAULT)?;
        let in_page = (PAGE_SIZE - va.page_offset()) as usize;
        // SAFETY: `in_page` bytes of one mapped user page, through kernel
        // memory; they do not change while this system call runs (see
        // the type's comment).
        let head = unsafe { core::slice::from_raw_parts(mm.phys_ptr(phys), in_page) };
        if let Some(len) = find_nul(head) {
            return Ok(Self {
                direct: head.as_ptr(),
                len,
                buf: MaybeUninit::uninit(),
            });
        }
        let mut p = Self {
            direct: core::ptr::null(),
            len: 0,
            buf: MaybeUninit::uninit(),
        };
        // SAFETY: a byte array may be viewed as uninitialized bytes;
        // read_cstr only writes initialized bytes into it.
        let buf = unsafe { &mut *(p.buf.as_mut_ptr() as *mut [MaybeUninit<u8>; PATH_MAX]) };
        p.len = UserPtr::<u8>::new(ptr).read_cstr_uninit(mm, buf)?.len();
        Ok(p)
    }

    pub fn as_bytes(&self) -> &[u8] {
        if self.direct.is_null() {
            // SAFETY: `read` initialized the first `len` bytes of `buf`.
            unsafe { core::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), self.len) }
        } else {
            // SAFETY: see `read`: `len` bytes of a user page that stays
            // mapped for the rest of the system call.
            unsafe { core::slice::from_raw_parts(self.direct, self.len) }
        }
    }
}

/// The node behind descriptor `fd`.
pub fn fd_node(sys: &System, fd: u64) -> Result<NodeId, Errno> {
    Ok(sys.proc.fds.get(fd)?.file.borrow().node)
}

/// Where a relative `path` starts for `dirfd` (`AT_FDCWD` or an open
/// directory); absolute paths ignore `dirfd`, as on Linux. Every path
/// lookup of a system call starts here, so this is where `/proc/self/fd`
/// learns the process's descriptors (when the path may go there).
pub fn start_dir(sys: &mut System, dirfd: u64, path: &[u8]) -> Result<NodeId, Errno> {
    // An empty path fails before `dirfd` is looked at, as on Linux.
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let start = if path.first() == Some(&b'/') {
        ROOT
    } else if dirfd as i32 == AT_FDCWD {
        sys.proc.cwd
    } else {
        let node = fd_node(sys, dirfd)?;
        if !sys.vfs.node(node).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        node
    };
    if start == sys.vfs.fd_dir() || path.windows(3).any(|w| w == b"fd/") || path.ends_with(b"fd") {
        super::procfs::refresh_fds(sys);
    }
    Ok(start)
}

/// The node `dirfd` + `path` names; with AT_EMPTY_PATH in `flags` an
/// empty path means `dirfd` itself.
pub fn lookup_at(
    sys: &mut System,
    dirfd: u64,
    path: &[u8],
    flags: u64,
    follow: bool,
) -> Result<NodeId, Errno> {
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        if dirfd as i32 == AT_FDCWD {
            return Ok(sys.proc.cwd);
        }
        return fd_node(sys, dirfd);
    }
    let start = start_dir(sys, dirfd, path)?;
    sys.vfs.lookup(start, path, follow)
}

/// The node the user path at `path` names from `dirfd`, following a
/// final symlink unless `flags` has AT_SYMLINK_NOFOLLOW (the `*at` calls
/// with AT_* flags: faccessat2, newfstatat, statx, fchownat, utimensat).
pub fn lookup_user_at(sys: &mut System, dirfd: u64, path: u64, flags: u64) -> Result<NodeId, Errno> {
    let p = PathBuf::read(sys, path)?;
    lookup_at(
        sys,
        dirfd,
        p.as_bytes(),
        flags,
        flags & AT_SYMLINK_NOFOLLOW == 0,
    )
}
