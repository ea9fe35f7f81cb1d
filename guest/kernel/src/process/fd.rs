//! File descriptors: a per-process table of slots, each pointing at an
//! open file description (shared by `dup`s and by a forked child's
//! table: offset and status flags), as on Linux.

use super::pipe::{Pipe, PipeEnd};
use crate::syscall::Errno;
use crate::vfs::tmpfs::Inode;
use crate::vfs::{Device, NodeId};
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

pub const O_ACCMODE: u32 = 0o3;
pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 0o1;
pub const O_RDWR: u32 = 0o2;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_LARGEFILE: u32 = 0o100000;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_NOFOLLOW: u32 = 0o400000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const O_PATH: u32 = 0o10000000;
pub const O_TMPFILE: u32 = 0o20000000 | O_DIRECTORY;
/// The status flags `F_SETFL` may change.
pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | 0o20000 | 0o40000 | 0o1000000;

/// Linux's default `RLIMIT_NOFILE` soft limit.
pub const MAX_FDS: usize = 1024;

/// What an open file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The host's stdin, stdout or stderr: reads come from its stdin,
    /// writes go to its fd `out` (1 or 2). `tty`: that host fd is the
    /// terminal (`crate::dev::tty`), else it is ENOTTY like the pipe or file
    /// it is on the host.
    Console {
        out: u32,
        tty: bool,
    },
    Device(Device),
    Regular,
    Directory,
    /// `O_PATH`: only a place in the tree.
    Path,
    /// An end of a pipe (`OpenFile::pipe` says which).
    Pipe,
}

#[derive(Debug)]
pub struct OpenFile {
    pub kind: FileKind,
    /// The node it was opened from.
    pub node: NodeId,
    /// Byte offset (regular files) or position (directories).
    pub offset: u64,
    /// Access mode and status flags (`O_*`, without O_CLOEXEC).
    pub flags: u32,
    /// The pipe, for `FileKind::Pipe`.
    pub pipe: Option<PipeEnd>,
    /// The inode of a tmpfs file (so its bytes outlive an unlink while
    /// it is open) or of a /proc file's snapshot: what `Vfs::read_at`
    /// and friends read instead of the node's.
    pub held: Option<Rc<RefCell<Inode>>>,
}

impl OpenFile {
    pub fn new(kind: FileKind, node: NodeId, flags: u32) -> Rc<RefCell<Self>> {
        Rc::new(RefCell::new(Self {
            kind,
            node,
            offset: 0,
            flags: flags & !O_CLOEXEC,
            pipe: None,
            held: None,
        }))
    }

    /// An open end of `pipe` (`node`: what `fstat` and friends see).
    pub fn pipe(
        pipe: &Rc<RefCell<Pipe>>,
        write: bool,
        node: NodeId,
        flags: u32,
    ) -> Rc<RefCell<Self>> {
        let mode = if write { O_WRONLY } else { O_RDONLY };
        Rc::new(RefCell::new(Self {
            kind: FileKind::Pipe,
            node,
            offset: 0,
            flags: (flags & !(O_CLOEXEC | O_ACCMODE)) | mode,
            pipe: Some(PipeEnd::new(pipe, write)),
            held: None,
        }))
    }

    pub fn readable(&self) -> bool {
        self.kind != FileKind::Path && self.flags & O_ACCMODE != O_WRONLY
    }

    pub fn writable(&self) -> bool {
        self.kind != FileKind::Path && self.flags & O_ACCMODE != O_RDONLY
    }
}

#[derive(Clone)]
pub struct Fd {
    pub file: Rc<RefCell<OpenFile>>,
    pub cloexec: bool,
}

/// Cloned by fork: the child's descriptors share the parent's open file
/// descriptions (offsets, status flags), as on Linux.
#[derive(Default, Clone)]
pub struct FdTable {
    slots: Vec<Option<Fd>>,
}

/// A descriptor number from a system call argument (an `int`).
pub fn fd_number(raw: u64) -> Result<usize, Errno> {
    let fd = raw as i32;
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    Ok(fd as usize)
}

impl FdTable {
    pub const fn new() -> Self {
        Self { slots: Vec::new() }
    }

    pub fn get(&self, raw: u64) -> Result<&Fd, Errno> {
        let fd = fd_number(raw)?;
        self.slots
            .get(fd)
            .and_then(|s| s.as_ref())
            .ok_or(Errno::EBADF)
    }

    pub fn get_mut(&mut self, raw: u64) -> Result<&mut Fd, Errno> {
        let fd = fd_number(raw)?;
        self.slots
            .get_mut(fd)
            .and_then(|s| s.as_mut())
            .ok_or(Errno::EBADF)
    }

    /// The lowest free descriptor `>= min`; EMFILE when none is below
    /// `limit`.
    pub fn allocate(&mut self, min: usize, fd: Fd, limit: usize) -> Result<usize, Errno> {
        let limit = limit.min(MAX_FDS);
        let free = (min..limit).find(|&i| self.slots.get(i).is_none_or(|s| s.is_none()));
        let i = free.ok_or(Errno::EMFILE)?;
        self.install(i, fd);
        Ok(i)
    }

    /// Puts `fd` at `i` and returns what was there.
    pub fn install(&mut self, i: usize, fd: Fd) -> Option<Fd> {
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i].replace(fd)
    }

    pub fn close(&mut self, raw: u64) -> Result<(), Errno> {
        let fd = fd_number(raw)?;
        match self.slots.get_mut(fd).and_then(|s| s.take()) {
            Some(_) => Ok(()),
            None => Err(Errno::EBADF),
        }
    }

    /// Every open descriptor number, in order.
    pub fn open_fds(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Fd {
        Fd {
            file: OpenFile::new(FileKind::Regular, 3, O_RDONLY),
            cloexec: false,
        }
    }

    #[test]
    fn lowest_free_descriptor() {
        let mut t = FdTable::new();
        assert_eq!(t.allocate(0, file(), 1024), Ok(0));
        assert_eq!(t.allocate(0, file(), 1024), Ok(1));
        assert_eq!(t.allocate(5, file(), 1024), Ok(5));
        assert_eq!(t.allocate(0, file(), 1024), Ok(2));
        t.close(1).unwrap();
        assert_eq!(t.close(1), Err(Errno::EBADF));
        assert_eq!(t.allocate(0, file(), 1024), Ok(1));
        assert_eq!(t.allocate(0, file(), 4), Ok(3));
        assert_eq!(t.allocate(0, file(), 4), Err(Errno::EMFILE));
        assert_eq!(t.get(u64::MAX).err(), Some(Errno::EBADF), "fd -1");
        assert_eq!(t.get(4).err(), Some(Errno::EBADF));
        assert_eq!(t.open_fds().collect::<Vec<_>>(), [0, 1, 2, 3, 5]);
    }

    #[test]
    fn dups_share_the_description() {
        let mut t = FdTable::new();
        let a = file();
        t.install(0, a.clone());
        t.install(7, a);
        t.get(0).unwrap().file.borrow_mut().offset = 9;
        assert_eq!(t.get(7).unwrap().file.borrow().offset, 9);
        let f = OpenFile::new(FileKind::Path, 0, O_RDWR | O_CLOEXEC);
        assert!(!f.borrow().readable() && !f.borrow().writable());
        assert_eq!(f.borrow().flags, O_RDWR);
    }
}
