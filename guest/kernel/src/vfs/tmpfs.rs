//! tmpfs: regular files and symlinks whose bytes are in kernel memory
//! (a `Vec` on the heap; holes are zeros there too). The bytes and the
//! attributes are in an `Inode` that every hard link (`Kind::Mem`) and
//! every open file description hold through an `Rc`: when the last name
//! goes (`Handle::unlink`) the node keeps only a `Weak`, so the memory
//! is freed when the last descriptor closes, or at once if none is open.
//! Directories are ordinary `Kind::Dir` nodes of the tree.

use super::{Source, Time, Times};
use crate::syscall::Errno;
use alloc::rc::{Rc, Weak};
use alloc::vec::Vec;
use core::cell::{Cell, Ref, RefCell};

/// Linux's limit on a file's size (`MAX_LFS_FILESIZE`).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;
/// Bytes a file takes are counted in pages, as `st_blocks` shows them.
const PAGE: u64 = 4096;

/// Bytes of file data held by one tmpfs (for `statfs`).
#[derive(Debug, Default)]
pub struct Usage {
    pub bytes: Cell<u64>,
    pub inodes: Cell<u64>,
}

fn pages(len: u64) -> u64 {
    len.div_ceil(PAGE) * PAGE
}

#[derive(Debug)]
pub struct Inode {
    /// Type and permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub times: Times,
    /// Names it has (0 once unlinked: only descriptors hold it).
    pub nlink: u32,
    pub ino: u64,
    /// The file's bytes, or the symlink's target.
    pub data: Vec<u8>,
    usage: Rc<Usage>,
    /// What `usage` counts for this inode (whole pages of `data`).
    counted: u64,
}

impl Inode {
    pub fn new(
        mode: u32,
        uid: u32,
        gid: u32,
        now: Time,
        ino: u64,
        usage: Rc<Usage>,
        data: Vec<u8>,
    ) -> Result<Self, Errno> {
        let mut i = Self {
            mode,
            uid,
            gid,
            times: Times::all(now),
            nlink: 1,
            ino,
            data,
            usage,
            counted: 0,
        };
        i.usage.inodes.set(i.usage.inodes.get() + 1);
        i.recount();
        Ok(i)
    }

    /// An inode of no file system (a /proc file's contents, generated
    /// at open and held by the description).
    pub fn snapshot(data: Vec<u8>) -> Rc<RefCell<Self>> {
        let i = Self::new(super::initramfs::S_IFREG | 0o444, 0, 0, Time::default(), 0, Rc::default(), data)
            .unwrap_or_else(|_| unreachable!("Inode::new does not fail"));
        Rc::new(RefCell::new(i))
    }

    /// Updates `usage` after `data` changed length.
    fn recount(&mut self) {
        let now = pages(self.data.len() as u64);
        let u = &self.usage.bytes;
        u.set(u.get() - self.counted + now);
        self.counted = now;
    }
}

impl Drop for Inode {
    fn drop(&mut self) {
        let u = &self.usage;
        u.bytes.set(u.bytes.get() - self.counted);
        u.inodes.set(u.inodes.get() - 1);
    }
}

/// A node's hold on its inode: strong while it is a name of the file.
#[derive(Debug)]
pub enum Handle {
    Linked(Rc<RefCell<Inode>>),
    Unlinked(Weak<RefCell<Inode>>),
}

impl Handle {
    /// The inode, while a name or a descriptor holds it.
    pub fn get(&self) -> Option<Rc<RefCell<Inode>>> {
        match self {
            Handle::Linked(i) => Some(i.clone()),
            Handle::Unlinked(w) => w.upgrade(),
        }
    }

    /// This name is gone: one link less, and no longer a hold.
    pub fn unlink(&mut self, now: Time) {
        if let Handle::Linked(i) = self {
            {
                let mut b = i.borrow_mut();
                b.nlink = b.nlink.saturating_sub(1);
                b.times.ctime = now;
            }
            *self = Handle::Unlinked(Rc::downgrade(i));
        }
    }
}

/// `Vfs::read_at` of an inode.
pub fn read(
    inode: &RefCell<Inode>,
    off: u64,
    len: usize,
    copy: impl FnOnce(Source<'_>, usize) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let i = inode.borrow();
    let size = i.data.len() as u64;
    if off >= size || len == 0 {
        return Ok(0);
    }
    // off < size <= usize::MAX, so both fit.
    let (from, n) = (off as usize, (len as u64).min(size - off) as usize);
    let bytes = Ref::map(i, |i| &i.data[from..from + n]);
    copy(Source::Bytes(bytes), n)
}

/// Grows `data` to `len` bytes of zeros: ENOSPC (not a panic) when the
/// heap cannot have them, EFBIG past Linux's limit.
fn grow(data: &mut Vec<u8>, len: u64) -> Result<(), Errno> {
    if len > MAX_FILE_SIZE {
        return Err(Errno::EFBIG);
    }
    let len = usize::try_from(len).map_err(|_| Errno::EFBIG)?;
    if len > data.len() {
        data.try_reserve(len - data.len()).map_err(|_| Errno::ENOSPC)?;
        data.resize(len, 0);
    }
    Ok(())
}

/// `Vfs::write_at` of an inode.
pub fn write(
    inode: &RefCell<Inode>,
    off: u64,
    len: usize,
    fill: impl FnOnce(&mut [u8]) -> Result<(), Errno>,
    now: Time,
) -> Result<usize, Errno> {
    if len == 0 {
        return Ok(0);
    }
    let end = off.checked_add(len as u64).ok_or(Errno::EFBIG)?;
    let mut i = inode.borrow_mut();
    let old_len = i.data.len();
    grow(&mut i.data, end)?;
    // off + len fits (grow succeeded), so the range is in `data`.
    let r = fill(&mut i.data[off as usize..end as usize]);
    if let Err(e) = r {
        // Nothing written: as it was.
        i.data.truncate(old_len);
        i.recount();
        return Err(e);
    }
    i.recount();
    i.times.mtime = now;
    i.times.ctime = now;
    Ok(len)
}

/// `Vfs::truncate` of an inode.
pub fn truncate(inode: &RefCell<Inode>, len: u64, now: Time) -> Result<(), Errno> {
    let mut i = inode.borrow_mut();
    if len > MAX_FILE_SIZE {
        return Err(Errno::EFBIG);
    }
    if len < i.data.len() as u64 {
        i.data.truncate(len as usize);
        // Give the memory back (a file cut to nothing keeps none).
        i.data.shrink_to_fit();
    } else {
        grow(&mut i.data, len)?;
    }
    i.recount();
    i.times.mtime = now;
    i.times.ctime = now;
    Ok(())
}
