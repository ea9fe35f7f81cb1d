//! `/proc`: a small generated file system where programs look.
//!
//! ```text
//! /proc/self/exe      symlink to the running program   (Kind::SelfExe)
//! /proc/self/fd/N     symlink per open descriptor      (filled on lookup)
//! /proc/self/maps     the process's areas, Linux's format
//! /proc/self/mounts   the mount table (also /proc/mounts)
//! /proc/cpuinfo, /proc/meminfo
//! ```
//!
//! Files are generated when opened (by the system call layer, which
//! knows the process: `syscall::procfs`) into a snapshot the open file
//! description holds. `/proc/self/fd` is listed from `Vfs::proc_fds`,
//! which the system call layer sets before it resolves a path there.

use super::{FsKind, Kind, Node, NodeId, Times, Vfs, ROOT};
use super::initramfs::{S_IFDIR, S_IFLNK, S_IFREG};
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt::Write;

/// An entry of `/proc/self/fd`: descriptor `fd`, a symlink to `target`
/// whose permission bits (`mode`) say how the file is open (Linux: r-x,
/// -wx or rwx for the owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdEntry {
    pub fd: u32,
    pub mode: u32,
    pub target: Vec<u8>,
}

/// Which file of /proc a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcFile {
    /// `/proc/self/fd/N`.
    FdLink(u32),
    Maps,
    Mounts,
    Cpuinfo,
    Meminfo,
}

impl ProcFile {
    pub fn is_symlink(self) -> bool {
        matches!(self, ProcFile::FdLink(_))
    }
}

impl<'a> Vfs<'a> {
    /// Mounts /proc on `point` with its fixed entries.
    pub(super) fn mount_proc(&mut self, point: NodeId, times: Times) {
        let root = self.mount(point, FsKind::Proc, 0o555, times);
        let fs = self.node(root).fs;
        let add = |vfs: &mut Self, dir: NodeId, name: &'static [u8], mode: u32, kind: Kind<'a>| {
            vfs.add_child(dir, Node {
                name: Cow::Borrowed(name),
                parent: dir,
                fs,
                mounted: None,
                seq: 0,
                mode,
                uid: 0,
                gid: 0,
                times,
                kind,
            })
        };
        let dir = || Kind::Dir(Vec::new());
        let me = add(self, root, b"self", S_IFDIR | 0o555, dir());
        add(self, me, b"exe", S_IFLNK | 0o777, Kind::SelfExe);
        self.fd_dir = add(self, me, b"fd", S_IFDIR | 0o500, dir());
        add(self, me, b"maps", S_IFREG | 0o444, Kind::Proc(ProcFile::Maps));
        add(self, me, b"mounts", S_IFREG | 0o444, Kind::Proc(ProcFile::Mounts));
        add(self, root, b"cpuinfo", S_IFREG | 0o444, Kind::Proc(ProcFile::Cpuinfo));
        add(self, root, b"meminfo", S_IFREG | 0o444, Kind::Proc(ProcFile::Meminfo));
        add(self, root, b"mounts", S_IFREG | 0o444, Kind::Proc(ProcFile::Mounts));
    }

    /// The node of `/proc/self/fd`.
    pub fn fd_dir(&self) -> NodeId {
        self.fd_dir
    }

    /// Sets what `/proc/self/fd` lists: (descriptor, target) in order.
    pub fn set_proc_fds(&mut self, fds: Vec<FdEntry>) {
        self.proc_fds = fds;
    }

    /// Makes `/proc/self/fd`'s children match `proc_fds`, reusing the
    /// nodes it had (ids are never freed: a lookup's result stays valid).
    pub(super) fn load_fd_dir(&mut self) {
        let dir = self.fd_dir;
        let mut old = match &mut self.nodes[dir as usize].kind {
            Kind::Dir(c) => core::mem::take(c),
            _ => return,
        };
        // Free nodes from earlier listings sit after the live ones.
        old.extend(core::mem::take(&mut self.fd_pool));
        let (fs, times) = (self.nodes[dir as usize].fs, self.nodes[dir as usize].times);
        let mut live = Vec::with_capacity(self.proc_fds.len());
        for i in 0..self.proc_fds.len() {
            let (fd, perm) = (self.proc_fds[i].fd, self.proc_fds[i].mode & 0o777);
            let mut name = Vec::new();
            let _ = write!(Digits(&mut name), "{fd}");
            let node = Node {
                name: Cow::Owned(name),
                parent: dir,
                fs,
                mounted: None,
                // Positions by descriptor number: stable across listings
                // (the list is in descriptor order).
                seq: fd as u64 + 1,
                mode: S_IFLNK | perm,
                uid: 0,
                gid: 0,
                times,
                kind: Kind::Proc(ProcFile::FdLink(fd)),
            };
            let id = match old.get(i) {
                Some(&id) => {
                    self.nodes[id as usize] = node;
                    id
                }
                None => self.add_detached(node),
            };
            live.push(id);
        }
        self.fd_pool = old.split_off(live.len().min(old.len()));
        self.nodes[dir as usize].kind = Kind::Dir(live);
    }

    /// `/proc/mounts`: one line per mount, as Linux writes them.
    pub fn mounts_text(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for m in &self.mounts {
            let (dev, fstype, opts): (&[u8], &[u8], &[u8]) = match m.kind {
                FsKind::Initramfs => (b"rootfs", b"rootfs", b"ro"),
                FsKind::Tmpfs => (b"tmpfs", b"tmpfs", b"rw,nosuid,nodev"),
                FsKind::Proc => (b"proc", b"proc", b"rw,nosuid,nodev,noexec"),
                FsKind::Host { writable: true, .. } => (b"kvmos-host", b"hostfs", b"rw"),
                FsKind::Host { .. } => (b"kvmos-host", b"hostfs", b"ro"),
            };
            let point = if m.point == ROOT && m.root == ROOT {
                alloc::vec![b'/']
            } else {
                self.path_of(m.root)
            };
            for part in [dev, b" ", &escape(&point), b" ", fstype, b" ", opts, b" 0 0\n"] {
                out.extend_from_slice(part);
            }
        }
        out
    }
}

/// Spaces, tabs, newlines and backslashes as octal escapes (Linux's
/// `mangle` in /proc/mounts).
fn escape(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for &c in path {
        if matches!(c, b' ' | b'\t' | b'\n' | b'\\') {
            out.extend_from_slice(&[b'\\', b'0' + (c >> 6), b'0' + ((c >> 3) & 7), b'0' + (c & 7)]);
        } else {
            out.push(c);
        }
    }
    out
}

/// `fmt::Write` into bytes.
pub struct Digits<'v>(pub &'v mut Vec<u8>);

impl Write for Digits<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
