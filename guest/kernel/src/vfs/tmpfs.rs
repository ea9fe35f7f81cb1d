//! tmpfs: regular files and symlinks whose bytes are in kernel memory,
//! a page (4 KiB on the heap) at a time: holes take no memory and read
//! as zeros, a file grows without moving what it has. The bytes and the
//! attributes are in an `Inode` that every hard link (`Kind::Mem`) and
//! every open file description hold through an `Rc`: when the last name
//! goes (`Handle::unlink`) the node keeps only a `Weak`, so the memory
//! is freed when the last descriptor closes, or at once if none is open.
//! Directories are ordinary `Kind::Dir` nodes of the tree.

use super::{Source, Time, Times};
use crate::syscall::Errno;
use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

/// Linux's limit on a file's size (`MAX_LFS_FILESIZE`).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;
pub const PAGE: usize = 4096;

/// What holes read as (a page of zeros that is never written).
static ZERO: [u8; PAGE] = [0; PAGE];

/// Bytes of file data held by one tmpfs, and how many it may hold (its
/// size: a write that would go beyond is ENOSPC, as on Linux).
#[derive(Debug)]
pub struct Usage {
    pub bytes: Cell<u64>,
    pub inodes: Cell<u64>,
    pub limit: Cell<u64>,
}

impl Default for Usage {
    fn default() -> Self {
        Self {
            bytes: Cell::new(0),
            inodes: Cell::new(0),
            limit: Cell::new(u64::MAX),
        }
    }
}

/// A file's bytes: `len` of them, in pages (`None`: a hole).
#[derive(Debug, Default)]
pub struct Pages {
    pages: Vec<Option<Box<[u8; PAGE]>>>,
    len: u64,
}

impl Pages {
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of memory the pages take.
    pub fn allocated(&self) -> u64 {
        self.pages.iter().filter(|p| p.is_some()).count() as u64 * PAGE as u64
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Errno> {
        let mut p = Self::default();
        let mut at = 0;
        // Not counted against a mount's size (targets, /proc snapshots).
        let mut unlimited = u64::MAX;
        p.write(0, bytes.len(), &mut unlimited, |dst| {
            dst.copy_from_slice(&bytes[at..at + dst.len()]);
            at += dst.len();
            Ok(())
        })?;
        Ok(p)
    }

    /// All the bytes (symlink targets, tests).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len as usize);
        let _ = self.read(0, self.len as usize, |c| {
            out.extend_from_slice(c);
            Ok(c.len())
        });
        out
    }

    /// Hands the bytes `[off, off + len)` (cut at the end) to `take` a
    /// page-sized chunk at a time, while it takes whole chunks; returns
    /// how many it took.
    pub fn read(
        &self,
        off: u64,
        len: usize,
        mut take: impl FnMut(&[u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        if off >= self.len {
            return Ok(0);
        }
        let end = off.saturating_add(len as u64).min(self.len);
        let mut at = off;
        let mut done = 0;
        while at < end {
            let (page, inner) = ((at / PAGE as u64) as usize, (at % PAGE as u64) as usize);
            let n = (PAGE - inner).min((end - at) as usize);
            let bytes: &[u8] = match self.pages.get(page) {
                Some(Some(p)) => &p[inner..inner + n],
                _ => &ZERO[..n],
            };
            let took = match take(bytes) {
                Ok(t) => t,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            done += took;
            at += took as u64;
            if took < n {
                break;
            }
        }
        Ok(done)
    }

    /// Writes `len` bytes at `off`: `fill` is given the destination a
    /// chunk at a time, in order. A failure after some bytes is a short
    /// write (Linux's), before any the error. ENOSPC when no memory is
    /// left or new pages would take more than `budget` bytes (which goes
    /// down by what they take), EFBIG past Linux's limit.
    pub fn write(
        &mut self,
        off: u64,
        len: usize,
        budget: &mut u64,
        mut fill: impl FnMut(&mut [u8]) -> Result<(), Errno>,
    ) -> Result<usize, Errno> {
        if len == 0 {
            return Ok(0);
        }
        let end = off
            .checked_add(len as u64)
            .filter(|&e| e <= MAX_FILE_SIZE)
            .ok_or(Errno::EFBIG)?;
        let mut at = off;
        while at < end {
            let (page, inner) = ((at / PAGE as u64) as usize, (at % PAGE as u64) as usize);
            let n = (PAGE - inner).min((end - at) as usize);
            let r = self.page_mut(page, budget).and_then(|p| fill(&mut p[inner..inner + n]));
            if let Err(e) = r {
                if at == off {
                    return Err(e);
                }
                break;
            }
            at += n as u64;
            self.len = self.len.max(at);
        }
        Ok((at - off) as usize)
    }

    /// Page `i`, allocated (zeros) if it is a hole.
    fn page_mut(&mut self, i: usize, budget: &mut u64) -> Result<&mut [u8; PAGE], Errno> {
        let new = self.pages.get(i).is_none_or(|p| p.is_none());
        if new && *budget < PAGE as u64 {
            return Err(Errno::ENOSPC);
        }
        if self.pages.len() <= i {
            self.pages.try_reserve(i + 1 - self.pages.len()).map_err(|_| Errno::ENOSPC)?;
            self.pages.resize_with(i + 1, || None);
        }
        let slot = &mut self.pages[i];
        if slot.is_none() {
            *slot = Some(try_zeroed_page()?);
            *budget -= PAGE as u64;
        }
        match slot {
            Some(p) => Ok(p),
            None => Err(Errno::ENOSPC),
        }
    }

    /// Cuts or extends (with a hole) to `len` bytes; cut pages are freed.
    pub fn truncate(&mut self, len: u64) -> Result<(), Errno> {
        if len > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        if len < self.len {
            let keep = len.div_ceil(PAGE as u64) as usize;
            self.pages.truncate(keep);
            self.pages.shrink_to_fit();
            // The rest of the last page must read as zeros if it grows.
            let inner = (len % PAGE as u64) as usize;
            if inner != 0 {
                if let Some(Some(p)) = self.pages.last_mut() {
                    p[inner..].fill(0);
                }
            }
        }
        self.len = len;
        Ok(())
    }
}

/// A page of zeros from the heap, or ENOSPC when there is none.
fn try_zeroed_page() -> Result<Box<[u8; PAGE]>, Errno> {
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(PAGE).map_err(|_| Errno::ENOSPC)?;
    v.resize(PAGE, 0);
    v.into_boxed_slice().try_into().map_err(|_| Errno::ENOSPC)
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
    pub data: Pages,
    usage: Rc<Usage>,
    /// What `usage` counts for this inode (its allocated pages).
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
        data: &[u8],
    ) -> Result<Self, Errno> {
        let mut i = Self {
            mode,
            uid,
            gid,
            times: Times::all(now),
            nlink: 1,
            ino,
            data: Pages::from_bytes(data)?,
            usage,
            counted: 0,
        };
        i.usage.inodes.set(i.usage.inodes.get() + 1);
        i.recount();
        Ok(i)
    }

    /// An inode of no file system (a /proc file's contents, generated
    /// at open and held by the description).
    pub fn snapshot(data: &[u8]) -> Result<Rc<RefCell<Self>>, Errno> {
        let i = Self::new(
            super::initramfs::S_IFREG | 0o444,
            0,
            0,
            Time::default(),
            0,
            Rc::default(),
            data,
        )?;
        Ok(Rc::new(RefCell::new(i)))
    }

    /// Updates `usage` after pages came or went.
    fn recount(&mut self) {
        let now = self.data.allocated();
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
    mut copy: impl FnMut(Source<'_>, usize) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let i = inode.borrow();
    i.data.read(off, len, |bytes| copy(Source::Bytes(bytes), bytes.len()))
}

/// `Vfs::write_at` of an inode.
pub fn write(
    inode: &RefCell<Inode>,
    off: u64,
    len: usize,
    fill: impl FnMut(&mut [u8]) -> Result<(), Errno>,
    now: Time,
    headroom: u64,
) -> Result<usize, Errno> {
    let mut i = inode.borrow_mut();
    let mut budget = i.usage.limit.get().saturating_sub(i.usage.bytes.get()).min(headroom);
    let r = i.data.write(off, len, &mut budget, fill);
    i.recount();
    if matches!(r, Ok(n) if n > 0) {
        i.times.mtime = now;
        i.times.ctime = now;
    }
    r
}

/// `Vfs::truncate` of an inode.
pub fn truncate(inode: &RefCell<Inode>, len: u64, now: Time) -> Result<(), Errno> {
    let mut i = inode.borrow_mut();
    i.data.truncate(len)?;
    i.recount();
    i.times.mtime = now;
    i.times.ctime = now;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_holes_and_chunks() {
        let mut p = Pages::default();
        let mut budget = 3 * PAGE as u64;
        assert_eq!(p.write(5000, 3, &mut budget, |d| {
            d.copy_from_slice(b"abc");
            Ok(())
        }), Ok(3));
        assert_eq!(budget, 2 * PAGE as u64);
        assert_eq!(p.len(), 5003);
        assert_eq!(p.allocated(), 4096, "the hole before takes nothing");
        let v = p.to_vec();
        assert!(v[..5000].iter().all(|&b| b == 0));
        assert_eq!(&v[5000..], b"abc");
        // Chunks stop at page boundaries.
        let mut sizes = Vec::new();
        p.read(100, 9000, |c| {
            sizes.push(c.len());
            Ok(c.len())
        })
        .unwrap();
        assert_eq!(sizes, [3996, 907]);
        // A taker that stops short ends the read.
        assert_eq!(p.read(0, 9000, |c| Ok(c.len().min(10))), Ok(10));
        // A write across pages, failing in the second: a short write.
        let mut calls = 0;
        let r = p.write(4090, 20, &mut budget, |d| {
            calls += 1;
            if calls == 2 {
                return Err(Errno::EFAULT);
            }
            d.fill(b'x');
            Ok(())
        });
        assert_eq!(r, Ok(6));
        assert_eq!(p.write(0, 1, &mut budget, |_| Err(Errno::EFAULT)), Err(Errno::EFAULT));
        // Past the budget: what fits, then ENOSPC.
        let mut small = PAGE as u64;
        let mut q = Pages::default();
        assert_eq!(q.write(0, 3 * PAGE, &mut small, |_| Ok(())), Ok(PAGE));
        assert_eq!(q.write(PAGE as u64, 1, &mut small, |_| Ok(())), Err(Errno::ENOSPC));
        assert_eq!(q.write(10, 1, &mut small, |_| Ok(())), Ok(1), "a page it has");
        // Cut inside a page, then grown: the cut bytes read as zeros.
        p.truncate(4093).unwrap();
        p.truncate(6000).unwrap();
        let v = p.to_vec();
        assert_eq!(&v[4090..4093], b"xxx");
        assert!(v[4093..].iter().all(|&b| b == 0));
        p.truncate(0).unwrap();
        assert_eq!(p.allocated(), 0);
        assert_eq!(p.write(u64::MAX - 1, 2, &mut budget, |_| Ok(())), Err(Errno::EFBIG));
    }
}
