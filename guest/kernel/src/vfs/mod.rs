//! The file system: a tree of nodes made of mounted file systems. The
//! root is the initramfs (read-only: every change is EROFS), with the
//! device nodes of `/dev`; `/proc` is generated (`proc`); `/tmp` and
//! the `tmpfs=` mounts are in kernel memory and writable (`tmpfs`).
//!
//! The archive is indexed once at boot (`Vfs::new`): one node per member,
//! directories implied by paths created on the way, so a lookup never
//! scans the archive. File data stays in the archive; a node knows its
//! offset, and `read` hands the physical range to the copy hypercall.
//!
//! Submodules: `path` (resolution with symlinks, like Linux's namei),
//! `dirent` (getdents64 records), `stat` (`struct stat`/`statx`),
//! `tmpfs` (files in memory), `proc` (`/proc`).
//!
//! # Nodes, mounts and file system kinds
//!
//! Every node lives in one arena (`NodeId` indexes it). A slot is
//! reused only when no id of it can be kept anywhere: an unlinked tmpfs
//! file or symlink once its inode is gone (open descriptions hold the
//! inode, `OpenFile::held`), and `/proc/self/fd`'s entries. Directories
//! keep their slots, so a cwd or an open directory stays valid. A node
//! belongs to one mounted file system (`Node::fs`, an index into
//! `Vfs::mounts`, whose `FsKind` says what it is). A mount point is a
//! directory node whose `mounted` names the root of the file system on
//! it; lookups step over it (`Vfs::cross`). A mounted root's `parent`
//! and `name` are those of the mount point, so `..` and `path_of` need
//! no special case.
//!
//! The API the system calls use (and nothing else touches a node's
//! kind to get at data or to change the tree):
//!
//! - finding: `lookup`, `lookup_parent` (both `&mut self`: they may load
//!   directories), `ensure_loaded` before `child`/`children`/`dir_entry`
//!   of a directory not reached by `lookup`;
//! - data: `size`, `read_at` (chunks handed to a closure as
//!   `Source::Phys` or `Source::Bytes`), `write_at`, `truncate`; each
//!   takes the inode an open file description holds (`OpenFile::held`),
//!   if any, so an unlinked file stays readable;
//! - changes: `create`, `unlink`, `link`, `rename`, `setattr`, with
//!   `writable` as the common EROFS/EACCES check; the system call layer
//!   makes Linux's checks on names and parents first (`syscall::fschange`).
//!
//! # Adding a file system kind (for example files served by the host)
//!
//! 1. A variant of `FsKind`, a `mount_*` that creates its root node with
//!    `mount`, and node kinds (`Kind`) for its files if `Kind::Mem`
//!    (data in kernel memory, `tmpfs::Pages`) does not fit.
//! 2. Directories filled lazily: `ensure_loaded` is called before a
//!    directory's children are read (`walk` calls it on each directory
//!    it passes, getdents before listing); add an arm that fetches the
//!    entries and adds child nodes with `add_child`.
//! 3. Data: `size`, `read_at`, `write_at`, `truncate` each have one
//!    match on the node's kind: add an arm (`read_at` may hand out
//!    cached pages as `Source::Bytes`, or guest-physical ranges).
//! 4. Changes: `writable` has one match on `FsKind` (EROFS early, where
//!    Linux checks it); `create`, `unlink`, `link`, `rename` and
//!    `setattr` then make their checks and call `commit` with the
//!    `Change` right before they change the nodes: add an arm there that
//!    makes the change on the other side first.
//! 5. `stat` (`stat.rs`), `statfs` (`syscall/stat.rs`) and `/proc/mounts`
//!    (`proc.rs`) each have one match on the kind too.

pub mod dirent;
pub mod hostfs;
pub mod initramfs;
pub mod path;
pub mod proc;
pub mod stat;
pub mod tmpfs;

use crate::syscall::Errno;
use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use initramfs::{CpioError, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use tmpfs::{Handle, Inode, Usage};

/// Index of a node; the root is 0.
pub type NodeId = u32;
pub const ROOT: NodeId = 0;
/// Index of a mounted file system in `Vfs::mounts`; the root's is 0.
pub type FsId = u16;

/// The character devices kvmos implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Null,
    Zero,
    Full,
    Random,
    Urandom,
    Tty,
    Console,
    /// `/dev/fb0`: the display's framebuffer (only with a display).
    Fb0,
    /// `/dev/input/event0`: the display's input (only with a display).
    Event0,
    /// A device node of the archive that kvmos has no driver for.
    Other(u32, u32),
}

impl Device {
    /// Linux's (major, minor).
    pub const fn numbers(self) -> (u32, u32) {
        match self {
            Device::Null => (1, 3),
            Device::Zero => (1, 5),
            Device::Full => (1, 7),
            Device::Random => (1, 8),
            Device::Urandom => (1, 9),
            Device::Tty => (5, 0),
            Device::Console => (5, 1),
            Device::Fb0 => (29, 0),
            Device::Event0 => (13, 64),
            Device::Other(major, minor) => (major, minor),
        }
    }

    pub const fn from_numbers(major: u32, minor: u32) -> Self {
        match (major, minor) {
            (1, 3) => Device::Null,
            (1, 5) => Device::Zero,
            (1, 7) => Device::Full,
            (1, 8) => Device::Random,
            (1, 9) => Device::Urandom,
            (5, 0) => Device::Tty,
            (5, 1) => Device::Console,
            (29, 0) => Device::Fb0,
            (13, 64) => Device::Event0,
            (major, minor) => Device::Other(major, minor),
        }
    }
}

/// glibc's `makedev`.
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}

/// The nodes `Vfs::new` adds under `/dev` unless the archive has them.
const DEVICES: [(&[u8], Device, u32); 7] = [
    (b"console", Device::Console, 0o600),
    (b"full", Device::Full, 0o666),
    (b"null", Device::Null, 0o666),
    (b"random", Device::Random, 0o666),
    (b"tty", Device::Tty, 0o666),
    (b"urandom", Device::Urandom, 0o666),
    (b"zero", Device::Zero, 0o666),
];

/// A point in time (`struct timespec`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    pub sec: i64,
    pub nsec: u32,
}

impl Time {
    pub const fn from_secs(sec: i64) -> Self {
        Self { sec, nsec: 0 }
    }
}

/// Access, modification and status change times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub atime: Time,
    pub mtime: Time,
    pub ctime: Time,
}

impl Times {
    pub const fn all(t: Time) -> Self {
        Self {
            atime: t,
            mtime: t,
            ctime: t,
        }
    }
}

/// What a mounted file system is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsKind {
    /// The archive the host built (with `/dev`): read-only.
    Initramfs,
    /// Files in kernel memory.
    Tmpfs,
    /// `/proc`: generated.
    Proc,
    /// A host directory (`hostfs`): mount `id` of the `fs` port.
    Host { id: u32, writable: bool },
}

/// A mounted file system.
#[derive(Debug)]
pub struct Mount {
    pub kind: FsKind,
    /// Its root directory.
    pub root: NodeId,
    /// The directory it covers (the root covers itself).
    pub point: NodeId,
    /// `st_dev` of its nodes.
    pub dev: u64,
    /// Bytes of file data it holds (tmpfs; shared with its inodes, which
    /// give theirs back when they are freed).
    pub usage: Rc<Usage>,
}

#[derive(Debug)]
pub enum Kind<'a> {
    /// Children in the order they were added.
    Dir(Vec<NodeId>),
    /// `data` borrows the archive at byte `offset`.
    File {
        data: &'a [u8],
        offset: usize,
    },
    Symlink(&'a [u8]),
    /// `/proc/self/exe`: a symlink to the running program.
    SelfExe,
    Device(Device),
    /// A FIFO, socket or block device of the archive (cannot be opened).
    Special,
    /// A tmpfs regular file or symlink: data and attributes in an inode
    /// that hard links and open file descriptions share.
    Mem(Handle),
    /// A file of `/proc` (`proc::ProcFile` says which).
    Proc(proc::ProcFile),
    /// A regular file or symlink of a host directory (`hostfs`; the
    /// type is in `Node::mode`, the rest in `Vfs::host_node`).
    Host,
}

#[derive(Debug)]
pub struct Node<'a> {
    pub name: Cow<'a, [u8]>,
    pub parent: NodeId,
    /// The file system it belongs to.
    pub fs: FsId,
    /// The root of the file system mounted here.
    pub mounted: Option<NodeId>,
    /// Type and permission bits, as `st_mode` (for `Kind::Mem` the inode
    /// has the current permissions: `Vfs::stat`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub times: Times,
    /// Its place in its directory's list (increasing along the list;
    /// `dirent` positions are made of it). Set by `add_child`.
    pub seq: u64,
    pub kind: Kind<'a>,
}

impl Node<'_> {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }
    pub fn is_symlink(&self) -> bool {
        match &self.kind {
            Kind::Symlink(_) | Kind::SelfExe => true,
            Kind::Proc(p) => p.is_symlink(),
            Kind::Mem(_) | Kind::Host => self.mode & S_IFMT == S_IFLNK,
            _ => false,
        }
    }
    /// A regular file (what `open` makes a `FileKind::Regular` of).
    pub fn is_regular(&self) -> bool {
        match &self.kind {
            Kind::File { .. } => true,
            Kind::Mem(_) | Kind::Host => self.mode & S_IFMT == S_IFREG,
            Kind::Proc(p) => !p.is_symlink(),
            _ => false,
        }
    }
}

/// Where a read's bytes are: a guest-physical range (the archive) or
/// kernel memory (one chunk of it: a read may come in several). A host
/// file's bytes (`hostfs`) are valid only during the call: a caller that
/// keeps their address (sendfile) copies them first.
pub enum Source<'s> {
    Phys(u64),
    Bytes(&'s [u8]),
}

/// What `create` makes.
#[derive(Debug, Clone, Copy)]
pub enum NewNode<'t> {
    File,
    Dir,
    Symlink(&'t [u8]),
}

/// The changes `setattr` makes (None: leave as is).
#[derive(Debug, Clone, Copy, Default)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub atime: Option<Time>,
    pub mtime: Option<Time>,
}

/// A change to the tree, as `Vfs::commit` hands it to the file system.
#[derive(Debug, Clone, Copy)]
pub enum Change<'c> {
    Create {
        dir: NodeId,
        name: &'c [u8],
        what: NewNode<'c>,
        perm: u32,
    },
    Unlink {
        dir: NodeId,
        name: &'c [u8],
        is_dir: bool,
    },
    Link {
        target: NodeId,
        dir: NodeId,
        name: &'c [u8],
    },
    Rename {
        odir: NodeId,
        oname: &'c [u8],
        ndir: NodeId,
        nname: &'c [u8],
        flags: u32,
    },
    SetAttr {
        node: NodeId,
        attr: SetAttr,
    },
}

/// rename flags (Linux's values).
pub const RENAME_NOREPLACE: u32 = 1;
pub const RENAME_EXCHANGE: u32 = 2;

/// The whole tree. `'a` is the archive's lifetime (`'static` in the
/// kernel: the host's initramfs stays in RAM for good).
pub struct Vfs<'a> {
    nodes: Vec<Node<'a>>,
    archive_phys: u64,
    self_exe: Vec<u8>,
    pub mounts: Vec<Mount>,
    /// The time for new and changed nodes (the host's clock in the
    /// kernel; a fixed one in tests).
    pub clock: fn() -> Time,
    /// Bytes of memory new file pages may still take (in the kernel: what
    /// is free less a reserve for the kernel and the processes, so a full
    /// tmpfs is ENOSPC rather than a guest out of memory).
    pub headroom: fn() -> u64,
    /// `/proc/self/fd`'s entries for the running process, refreshed by
    /// the system call layer (`proc::set_fds`).
    proc_fds: Vec<proc::FdEntry>,
    /// `/proc/self/fd` (filled from `proc_fds` when read).
    fd_dir: NodeId,
    /// Nodes `/proc/self/fd` listed before and does not now (reused).
    fd_pool: Vec<NodeId>,
    /// The last `Node::seq` handed out.
    seq: u64,
    /// Unlinked tmpfs nodes whose inode may still be held (`sweep`).
    orphans: Vec<NodeId>,
    /// Slots free for new nodes.
    free: Vec<NodeId>,
    /// What the guest knows of host nodes (`hostfs`).
    host: BTreeMap<NodeId, hostfs::HostNode>,
    /// Copies of tmpfs files made to be executed (`ensure_cached`):
    /// frames, frame count, and the size and mtime copied.
    snapshots: BTreeMap<NodeId, (u64, u64, u64, Time)>,
}

fn epoch() -> Time {
    Time::default()
}

fn unlimited() -> u64 {
    u64::MAX
}

impl<'a> Vfs<'a> {
    /// Indexes `archive` (at guest-physical `archive_phys`); nodes the
    /// archive does not date get `now` (seconds since the epoch).
    pub fn new(archive: &'a [u8], archive_phys: u64, now: i64) -> Result<Self, CpioError> {
        let mut vfs = Self {
            nodes: Vec::new(),
            archive_phys,
            self_exe: Vec::new(),
            mounts: alloc::vec![Mount {
                kind: FsKind::Initramfs,
                root: ROOT,
                point: ROOT,
                dev: stat::DEV,
                usage: Rc::default(),
            }],
            clock: epoch,
            headroom: unlimited,
            proc_fds: Vec::new(),
            fd_dir: ROOT,
            fd_pool: Vec::new(),
            seq: 0,
            orphans: Vec::new(),
            free: Vec::new(),
            host: BTreeMap::new(),
            snapshots: BTreeMap::new(),
        };
        let now_t = Times::all(Time::from_secs(now));
        vfs.nodes.push(Node {
            name: Cow::Borrowed(b"/"),
            parent: ROOT,
            fs: 0,
            mounted: None,
            seq: 0,
            mode: S_IFDIR | 0o755,
            uid: 0,
            gid: 0,
            times: now_t,
            kind: Kind::Dir(Vec::new()),
        });
        // Members usually come parents first: remember the last parent.
        let mut last_parent: (&[u8], NodeId) = (b"", ROOT);
        for entry in initramfs::Reader::new(archive) {
            let e = entry?;
            let path = normalize(e.name);
            // `..` members would be unreachable anyway; skip them (the SWAR
            // search keeps the common dot-free path cheap).
            if crate::bytes::find(path, b'.').is_some()
                && path.split(|&c| c == b'/').any(|c| c == b"..")
            {
                continue;
            }
            let times = Times::all(Time::from_secs(e.mtime as i64));
            if path.is_empty() {
                let root = &mut vfs.nodes[ROOT as usize];
                if e.mode & S_IFMT == S_IFDIR {
                    root.mode = e.mode;
                    root.times = times;
                }
                continue;
            }
            let (parent_path, name) = match crate::bytes::rfind(path, b'/') {
                Some(i) => (&path[..i], &path[i + 1..]),
                None => (&b""[..], path),
            };
            let parent = if parent_path == last_parent.0 {
                last_parent.1
            } else {
                let p = vfs.make_dirs(parent_path, e.mtime as i64);
                last_parent = (parent_path, p);
                p
            };
            let kind = match e.mode & S_IFMT {
                S_IFDIR => Kind::Dir(Vec::new()),
                S_IFREG => Kind::File {
                    data: e.data,
                    offset: e.data_offset,
                },
                S_IFLNK => Kind::Symlink(e.data),
                S_IFCHR => Kind::Device(Device::from_numbers(e.rdev_major, e.rdev_minor)),
                _ => Kind::Special,
            };
            vfs.insert(parent, Node {
                name: Cow::Borrowed(name),
                parent,
                fs: 0,
                mounted: None,
                seq: 0,
                mode: e.mode,
                uid: e.uid,
                gid: e.gid,
                times,
                kind,
            });
        }
        let fresh = vfs.child(ROOT, b"dev").is_none();
        let dev = vfs.make_dirs(b"dev", now);
        for (name, device, perm) in DEVICES {
            // A /dev of the archive may have some already (a new one has
            // none: no need to look).
            if fresh || vfs.child(dev, name).is_none() {
                vfs.add_child(dev, Node {
                    name: Cow::Borrowed(name),
                    parent: dev,
                    fs: 0,
                    mounted: None,
                    seq: 0,
                    mode: S_IFCHR | perm,
                    uid: 0,
                    gid: 0,
                    times: now_t,
                    kind: Kind::Device(device),
                });
            }
        }
        let proc_dir = vfs.make_dirs(b"proc", now);
        vfs.mount_proc(proc_dir, now_t);
        Ok(vfs)
    }

    /// Adds `/dev/fb0` and `/dev/input/event0` (a display is attached),
    /// unless the archive has them.
    pub fn add_display_devices(&mut self, now: i64) {
        let dev = self.make_dirs(b"dev", now);
        let input = self.make_dirs(b"dev/input", now);
        for (dir, name, device) in [
            (dev, &b"fb0"[..], Device::Fb0),
            (input, &b"event0"[..], Device::Event0),
        ] {
            if self.child(dir, name).is_none() {
                self.add_child(dir, Node {
                    name: Cow::Borrowed(name),
                    parent: dir,
                    fs: 0,
                    mounted: None,
                    seq: 0,
                    mode: S_IFCHR | 0o660,
                    uid: 0,
                    gid: 0,
                    times: Times::all(Time::from_secs(now)),
                    kind: Kind::Device(device),
                });
            }
        }
    }

    /// The directory at `path` (relative to the root, no `.`/`..`),
    /// created with its parents where missing (in the initramfs).
    fn make_dirs(&mut self, path: &'a [u8], mtime: i64) -> NodeId {
        let mut cur = ROOT;
        for name in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            cur = match self.child(cur, name) {
                Some(n) if self.node(n).is_dir() => n,
                _ => self.insert(cur, Node {
                    name: Cow::Borrowed(name),
                    parent: cur,
                    fs: 0,
                    mounted: None,
                    seq: 0,
                    mode: S_IFDIR | 0o755,
                    uid: 0,
                    gid: 0,
                    times: Times::all(Time::from_secs(mtime)),
                    kind: Kind::Dir(Vec::new()),
                }),
            };
        }
        cur
    }

    /// Adds `node` to directory `parent` (which has no child of that name).
    pub fn add_child(&mut self, parent: NodeId, mut node: Node<'a>) -> NodeId {
        node.seq = self.next_seq();
        let id = self.alloc(node);
        if let Kind::Dir(children) = &mut self.nodes[parent as usize].kind {
            children.push(id);
        }
        id
    }

    /// A slot for `node`: a freed one, or a new one.
    fn alloc(&mut self, node: Node<'a>) -> NodeId {
        if self.free.is_empty() {
            self.sweep();
        }
        match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as NodeId
            }
        }
    }

    /// Frees the slots of unlinked tmpfs files and symlinks whose inode
    /// is gone: no name and no descriptor holds it, so no NodeId of it
    /// is kept anywhere (descriptors hold the inode: `OpenFile::held`).
    fn sweep(&mut self) {
        let (nodes, free) = (&self.nodes, &mut self.free);
        self.orphans.retain(|&o| match &nodes[o as usize].kind {
            Kind::Mem(h) if h.get().is_some() => true,
            _ => {
                free.push(o);
                false
            }
        });
    }

    /// A sequence number higher than every one handed out.
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Adds `node` to directory `parent`, replacing a child of that name
    /// (a directory replaced by a directory keeps its children).
    fn insert(&mut self, parent: NodeId, mut node: Node<'a>) -> NodeId {
        if let Some(old) = self.child(parent, &node.name) {
            let slot = &mut self.nodes[old as usize];
            if let (Kind::Dir(children), Kind::Dir(_)) = (&mut slot.kind, &node.kind) {
                node.kind = Kind::Dir(core::mem::take(children));
            }
            node.seq = slot.seq;
            *slot = node;
            return old;
        }
        self.add_child(parent, node)
    }

    /// A node not in any directory (a mounted root, a /proc entry).
    fn add_detached(&mut self, node: Node<'a>) -> NodeId {
        self.alloc(node)
    }

    /// Mounts a file system of `kind` whose root is a new directory on
    /// directory `point`; returns its root.
    fn mount(&mut self, point: NodeId, kind: FsKind, mode: u32, times: Times) -> NodeId {
        let fs = self.mounts.len() as FsId;
        let (name, parent) = {
            let p = self.node(point);
            (p.name.clone(), p.parent)
        };
        let root = self.add_detached(Node {
            name,
            parent: if point == ROOT { ROOT } else { parent },
            fs,
            mounted: None,
            seq: 0,
            mode: S_IFDIR | mode,
            uid: 0,
            gid: 0,
            times,
            kind: Kind::Dir(Vec::new()),
        });
        // Anonymous devices as Linux numbers them (0:N), after the root's 0:1.
        let dev = makedev(0, 20 + fs as u32);
        self.mounts.push(Mount {
            kind,
            root,
            point,
            dev,
            usage: Rc::default(),
        });
        // What was mounted there before is covered (still reachable from
        // descriptors, as on Linux).
        let top = self.cross(point);
        self.nodes[top as usize].mounted = Some(root);
        root
    }

    /// Mounts an empty tmpfs on the directory `path` (from the root,
    /// symlinks followed) that may hold `size` bytes of file data: `/tmp`
    /// at boot and the `tmpfs=` words of the command line. ENOTDIR if it
    /// is not a directory.
    pub fn mount_tmpfs(&mut self, path: &[u8], size: u64) -> Result<NodeId, Errno> {
        let point = self.lookup(ROOT, path, true)?;
        if !self.node(point).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        // Linux's tmpfs root: 1777 for /tmp is set by whoever mounts it;
        // mount(8) leaves tmpfs roots at 1777 by default.
        let t = Times::all((self.clock)());
        let root = self.mount(point, FsKind::Tmpfs, 0o1777, t);
        self.mount_of(root).usage.limit.set(size);
        Ok(root)
    }

    /// The node to use for `id`: the root of what is mounted on it.
    pub fn cross(&self, mut id: NodeId) -> NodeId {
        while let Some(root) = self.nodes[id as usize].mounted {
            id = root;
        }
        id
    }

    pub fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id as usize]
    }

    /// The file system `id` belongs to.
    pub fn mount_of(&self, id: NodeId) -> &Mount {
        &self.mounts[self.nodes[id as usize].fs as usize]
    }

    pub fn fs_kind(&self, id: NodeId) -> FsKind {
        self.mount_of(id).kind
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Fills directory `dir` if its file system lists directories lazily
    /// (call before `children`, `child` or `dir_entry`; `lookup` does).
    pub fn ensure_loaded(&mut self, dir: NodeId) {
        if dir == self.fd_dir {
            self.load_fd_dir();
        } else if self.host.contains_key(&dir) {
            self.host_list(dir);
        }
    }

    /// The child `name` of directory `dir` (as loaded: see `ensure_loaded`).
    pub fn child(&self, dir: NodeId, name: &[u8]) -> Option<NodeId> {
        let Kind::Dir(children) = &self.nodes[dir as usize].kind else {
            return None;
        };
        // Length and first byte before a full compare (a call to memcmp).
        let first = *name.first()?;
        children.iter().copied().find(|&c| {
            let n: &[u8] = &self.nodes[c as usize].name;
            n.len() == name.len() && n[0] == first && n == name
        })
    }

    /// A directory's children (empty for anything else; as loaded: see
    /// `ensure_loaded`).
    pub fn children(&self, dir: NodeId) -> &[NodeId] {
        match &self.nodes[dir as usize].kind {
            Kind::Dir(children) => children,
            _ => &[],
        }
    }

    /// Guest-physical address of byte `offset` of an archive file.
    /// Guest-physical address of byte `offset` of an archive file, or of
    /// a host file loaded whole (`ensure_cached`).
    pub fn file_phys(&self, id: NodeId, offset: u64) -> Option<u64> {
        match self.nodes[id as usize].kind {
            Kind::File { offset: at, .. } => Some(self.archive_phys + at as u64 + offset),
            Kind::Host => self.host.get(&id)?.cache.map(|(phys, _)| phys + offset),
            Kind::Mem(_) => self.snapshots.get(&id).map(|&(phys, ..)| phys + offset),
            _ => None,
        }
    }

    /// The bytes of an archive file (headers of programs are read here).
    pub fn file_data(&self, id: NodeId) -> Option<&'a [u8]> {
        match self.nodes[id as usize].kind {
            Kind::File { data, .. } => Some(data),
            Kind::Mem(_) => {
                let &(phys, _, size, _) = self.snapshots.get(&id)?;
                let va = crate::mm::addr::PhysAddr::new(phys).to_direct_map();
                // SAFETY: a tmpfs file's copy made by `ensure_cached`, in
                // frames never given back, `size` bytes, direct-mapped.
                Some(unsafe { core::slice::from_raw_parts(va.as_ptr::<u8>(), size as usize) })
            }
            Kind::Host => {
                let (phys, _) = self.host.get(&id)?.cache?;
                let size = self.host_size(id)? as usize;
                let va = crate::mm::addr::PhysAddr::new(phys).to_direct_map();
                // SAFETY: a host file loaded whole (`ensure_cached`) into
                // frames that are never given back (`hostfs`), `size` bytes
                // of them, direct-mapped; only ring-0 stores of the load
                // ever wrote them.
                Some(unsafe { core::slice::from_raw_parts(va.as_ptr::<u8>(), size) })
            }
            _ => None,
        }
    }

    /// The inode of a tmpfs node (while something holds it).
    pub fn inode(&self, id: NodeId) -> Option<Rc<RefCell<Inode>>> {
        match &self.nodes[id as usize].kind {
            Kind::Mem(h) => h.get(),
            _ => None,
        }
    }

    /// A symlink's target.
    pub fn link_target(&self, id: NodeId) -> Option<Vec<u8>> {
        let n = &self.nodes[id as usize];
        match &n.kind {
            Kind::Symlink(t) => Some(t.to_vec()),
            Kind::SelfExe => Some(self.self_exe.clone()),
            Kind::Mem(h) if n.is_symlink() => Some(h.get()?.borrow().data.to_vec()),
            Kind::Host if n.is_symlink() => self.host.get(&id)?.target.clone(),
            Kind::Proc(proc::ProcFile::FdLink(fd)) => self
                .proc_fds
                .iter()
                .find(|e| e.fd == *fd)
                .map(|e| e.target.clone()),
            _ => None,
        }
    }

    /// What `/proc/self/exe` points to (the running program's path).
    pub fn set_self_exe(&mut self, path: &[u8]) {
        self.self_exe.clear();
        self.self_exe.extend_from_slice(path);
    }

    /// `/proc/self/exe`'s target, to swap with another process's when
    /// the running process changes (`process::sched`).
    pub fn self_exe_mut(&mut self) -> &mut Vec<u8> {
        &mut self.self_exe
    }

    /// `/proc/self/exe`'s target.
    pub fn self_exe(&self) -> &[u8] {
        &self.self_exe
    }

    /// The absolute path of `id` (for getcwd and `/proc/self/exe`).
    pub fn path_of(&self, id: NodeId) -> Vec<u8> {
        if id == ROOT {
            return b"/".to_vec();
        }
        let mut parts = Vec::new();
        let mut cur = id;
        while cur != ROOT && parts.len() <= self.nodes.len() {
            parts.push(cur);
            cur = self.nodes[cur as usize].parent;
        }
        let mut out = Vec::new();
        for &p in parts.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(&self.nodes[p as usize].name);
        }
        out
    }

    /// Inode number: the node index + 1 (the root is 1, as on tmpfs); a
    /// tmpfs file's is its first name's (hard links share it).
    pub fn ino(&self, id: NodeId) -> u64 {
        if let Some(h) = self.host.get(&id) {
            return h.ino;
        }
        match &self.nodes[id as usize].kind {
            Kind::Mem(h) => h.get().map_or(id as u64 + 1, |i| i.borrow().ino),
            _ => id as u64 + 1,
        }
    }

    // ---- data: one match per operation on what holds the bytes ----

    /// The size of a regular file in bytes (0 for anything else).
    pub fn size(&self, id: NodeId) -> u64 {
        match &self.nodes[id as usize].kind {
            Kind::File { data, .. } => data.len() as u64,
            Kind::Mem(h) => h.get().map_or(0, |i| i.borrow().data.len()),
            Kind::Host => self.host_size(id).unwrap_or(0),
            _ => 0,
        }
    }

    /// Hands up to `len` bytes of file `id` from `off` to `copy`, in
    /// order, in one or more chunks (a `Source` and its length); `copy`
    /// returns how many it took, and a short count (or an error after
    /// some bytes) ends the read. Returns the bytes taken; 0 at or past
    /// the end. `held`: the inode an open file description holds (a
    /// tmpfs file that may be unlinked, or a /proc snapshot), read
    /// instead of the node's.
    pub fn read_at(
        &self,
        id: NodeId,
        held: Option<&Rc<RefCell<Inode>>>,
        off: u64,
        len: usize,
        mut copy: impl FnMut(Source<'_>, usize) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        if let Some(inode) = held {
            return tmpfs::read(inode, off, len, copy);
        }
        match &self.nodes[id as usize].kind {
            Kind::File { data, .. } => {
                let size = data.len() as u64;
                if off >= size || len == 0 {
                    return Ok(0);
                }
                let n = (len as u64).min(size - off) as usize;
                let src = self.file_phys(id, off).ok_or(Errno::EIO)?;
                copy(Source::Phys(src), n)
            }
            Kind::Mem(h) => {
                let inode = h.get().ok_or(Errno::EIO)?;
                tmpfs::read(&inode, off, len, copy)
            }
            Kind::Host => self.host_read(id, off, len, copy),
            Kind::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Writes `len` bytes at `off` of file `id` (`held` as for
    /// `read_at`); `fill` copies them into the slices it is given, in
    /// order (one or more). Writes past the end leave a hole of zeros. A
    /// failure after some bytes is a short write.
    pub fn write_at(
        &mut self,
        id: NodeId,
        held: Option<&Rc<RefCell<Inode>>>,
        off: u64,
        len: usize,
        fill: impl FnMut(&mut [u8]) -> Result<(), Errno>,
    ) -> Result<usize, Errno> {
        if held.is_none() && matches!(self.nodes[id as usize].kind, Kind::Host) {
            return match self.fs_kind(id) {
                FsKind::Host { writable: true, .. } => self.host_write(id, off, len, fill),
                _ => Err(Errno::EROFS),
            };
        }
        let now = (self.clock)();
        let inode = match (held, &self.nodes[id as usize].kind) {
            (Some(i), _) => i.clone(),
            (None, Kind::Mem(h)) => h.get().ok_or(Errno::EIO)?,
            (None, Kind::Dir(_)) => return Err(Errno::EISDIR),
            (None, _) => return Err(Errno::EROFS),
        };
        match self.fs_kind(id) {
            FsKind::Tmpfs => tmpfs::write(&inode, off, len, fill, now, (self.headroom)()),
            FsKind::Initramfs | FsKind::Host { .. } => Err(Errno::EROFS),
            // /proc's files take no writes here.
            FsKind::Proc => Err(Errno::EACCES),
        }
    }

    /// Sets the size of file `id` to `len` (cut, or grown with zeros).
    pub fn truncate(
        &mut self,
        id: NodeId,
        held: Option<&Rc<RefCell<Inode>>>,
        len: u64,
    ) -> Result<(), Errno> {
        let now = (self.clock)();
        let n = &self.nodes[id as usize];
        if n.is_dir() {
            return Err(Errno::EISDIR);
        }
        match self.fs_kind(id) {
            FsKind::Tmpfs => {
                if !n.is_regular() {
                    return Err(Errno::EINVAL);
                }
                let inode = match held {
                    Some(i) => i.clone(),
                    None => self.inode(id).ok_or(Errno::EIO)?,
                };
                tmpfs::truncate(&inode, len, now)
            }
            FsKind::Host { writable: true, .. } if n.is_regular() => self.host_truncate(id, len),
            FsKind::Host { writable: true, .. } => Err(Errno::EINVAL),
            FsKind::Initramfs | FsKind::Host { .. } => Err(Errno::EROFS),
            FsKind::Proc => Err(Errno::EACCES),
        }
    }

    // ---- changes to the tree: `writable`, then one match on the kind ----

    /// EROFS unless nodes may be added to, removed from or changed in
    /// the file system of `id`.
    pub fn writable(&self, id: NodeId) -> Result<(), Errno> {
        match self.fs_kind(id) {
            FsKind::Tmpfs | FsKind::Host { writable: true, .. } => Ok(()),
            FsKind::Initramfs | FsKind::Host { .. } => Err(Errno::EROFS),
            // Linux: EACCES for files of /proc (nothing here is writable).
            FsKind::Proc => Err(Errno::EACCES),
        }
    }

    /// The one place where a change to the tree reaches the file system
    /// that holds it, after every check and before the nodes change: a
    /// file system that keeps its files elsewhere (the host) makes the
    /// change there first and fails it with the errno it got.
    fn commit(&mut self, on: NodeId, change: Change<'_>) -> Result<(), Errno> {
        match self.fs_kind(on) {
            // Memory is the store: changing the nodes is the change.
            FsKind::Tmpfs => Ok(()),
            // The host's directory is: change it there first.
            FsKind::Host { id, writable: true } => self.host_commit(id, change),
            FsKind::Host { .. } => Err(Errno::EROFS),
            FsKind::Initramfs | FsKind::Proc => self.writable(on),
        }
    }

    /// Creates `name` in directory `dir` (which has no child of that
    /// name: the caller checked, with Linux's order of errors) with the
    /// permission bits `perm`.
    pub fn create(
        &mut self,
        dir: NodeId,
        name: &[u8],
        what: NewNode<'_>,
        perm: u32,
        uid: u32,
        gid: u32,
    ) -> Result<NodeId, Errno> {
        if !self.node(dir).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        self.writable(dir)?;
        if self.removed(dir) {
            // Linux: nothing is created in a directory that was removed
            // (a process's cwd, an open descriptor).
            return Err(Errno::ENOENT);
        }
        self.commit(dir, Change::Create { dir, name, what, perm })?;
        let now = (self.clock)();
        let fs = self.node(dir).fs;
        let (mode, kind) = match (self.mounts[fs as usize].kind, what) {
            (FsKind::Tmpfs, NewNode::Dir) => (S_IFDIR | (perm & 0o7777), Kind::Dir(Vec::new())),
            (FsKind::Tmpfs, NewNode::File | NewNode::Symlink(_)) => {
                let (mode, data) = match what {
                    NewNode::Symlink(t) => (S_IFLNK | 0o777, t),
                    _ => (S_IFREG | (perm & 0o7777), &[][..]),
                };
                let usage = self.mounts[fs as usize].usage.clone();
                // Its inode number is its first node's (set below).
                let inode = Inode::new(mode, uid, gid, now, 0, usage, data)?;
                (mode, Kind::Mem(Handle::Linked(Rc::new(RefCell::new(inode)))))
            }
            (FsKind::Host { .. }, NewNode::Dir) => (S_IFDIR | (perm & 0o7777), Kind::Dir(Vec::new())),
            (FsKind::Host { .. }, NewNode::File) => (S_IFREG | (perm & 0o7777), Kind::Host),
            (FsKind::Host { .. }, NewNode::Symlink(_)) => (S_IFLNK | 0o777, Kind::Host),
            _ => return Err(Errno::EROFS),
        };
        let node = self.add_child(dir, Node {
            name: Cow::Owned(name.to_vec()),
            parent: dir,
            fs,
            mounted: None,
            seq: 0,
            mode,
            uid,
            gid,
            times: Times::all(now),
            kind,
        });
        if let Some(inode) = self.inode(node) {
            inode.borrow_mut().ino = node as u64 + 1;
        }
        if let FsKind::Host { id, .. } = self.mounts[fs as usize].kind {
            // A new directory has nothing to list; the host's attributes
            // (inode, times) replace the guest's guesses.
            self.host_created(node, id, matches!(what, NewNode::Dir));
        }
        self.touch_dir(dir, now);
        Ok(node)
    }

    /// Removes `name` from directory `dir`: a directory (`rmdir`) if
    /// `is_dir`, else anything but one (`unlink`). A file's memory goes
    /// when its last link is gone and no descriptor holds it.
    pub fn unlink(&mut self, dir: NodeId, name: &[u8], is_dir: bool) -> Result<(), Errno> {
        self.ensure_loaded(dir);
        let victim = self.child(dir, name).ok_or(Errno::ENOENT)?;
        let v = self.node(victim);
        if is_dir {
            if !v.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if v.mounted.is_some() || self.mounts.iter().any(|m| m.root == victim) {
                return Err(Errno::EBUSY);
            }
        } else if v.is_dir() {
            return Err(Errno::EISDIR);
        }
        self.writable(dir)?;
        if is_dir && !self.children(victim).is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.commit(dir, Change::Unlink { dir, name, is_dir })?;
        let now = (self.clock)();
        self.detach(dir, victim, now);
        Ok(())
    }

    /// Directory `dir` was removed (rmdir, or replaced by a rename).
    pub fn removed(&self, dir: NodeId) -> bool {
        if dir == ROOT || self.mounts.iter().any(|m| m.root == dir) {
            return false;
        }
        let parent = self.node(dir).parent;
        !self.children(parent).contains(&dir)
    }

    /// Takes `victim` out of `dir`: one link less (a directory's last).
    fn detach(&mut self, dir: NodeId, victim: NodeId, now: Time) {
        if let Kind::Dir(children) = &mut self.nodes[dir as usize].kind {
            children.retain(|&c| c != victim);
        }
        let n = &mut self.nodes[victim as usize];
        n.times.ctime = now;
        if let Kind::Mem(h) = &mut n.kind {
            h.unlink(now);
            // Its slot is freed once nothing holds the inode (`sweep`).
            self.orphans.push(victim);
        }
        self.touch_dir(dir, now);
    }

    /// A directory's contents changed: new mtime and ctime.
    fn touch_dir(&mut self, dir: NodeId, now: Time) {
        let t = &mut self.nodes[dir as usize].times;
        t.mtime = now;
        t.ctime = now;
    }

    /// Makes `name` in directory `dir` another link to `target` (not a
    /// directory; on the same file system, else EXDEV).
    pub fn link(&mut self, target: NodeId, dir: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        if self.node(target).fs != self.node(dir).fs {
            return Err(Errno::EXDEV);
        }
        if self.node(target).is_dir() {
            return Err(Errno::EPERM);
        }
        self.writable(dir)?;
        let host = match self.fs_kind(dir) {
            FsKind::Host { id, .. } => Some(id),
            _ => None,
        };
        // A tmpfs link shares the inode; a host file's is on the host.
        let inode = match host {
            Some(_) => None,
            None => {
                let inode = self.inode(target).ok_or(Errno::EPERM)?;
                if inode.borrow().nlink == 0 {
                    // An unlinked file cannot get a name back (linkat with
                    // AT_EMPTY_PATH of an O_TMPFILE aside).
                    return Err(Errno::ENOENT);
                }
                Some(inode)
            }
        };
        self.commit(dir, Change::Link { target, dir, name })?;
        let now = (self.clock)();
        if let Some(inode) = &inode {
            let mut i = inode.borrow_mut();
            i.nlink += 1;
            i.times.ctime = now;
        }
        let t = self.node(target);
        let node = Node {
            name: Cow::Owned(name.to_vec()),
            parent: dir,
            fs: t.fs,
            mounted: None,
            seq: 0,
            mode: t.mode,
            uid: t.uid,
            gid: t.gid,
            times: t.times,
            kind: inode.map_or(Kind::Host, |i| Kind::Mem(Handle::Linked(i))),
        };
        let id = self.add_child(dir, node);
        if let Some(mount) = host {
            self.host_created(id, mount, false);
            // The target's link count and ctime changed on the host.
            if let Some(h) = self.host.get_mut(&target) {
                h.stat = None;
            }
            let _ = self.ensure_attrs(target);
        }
        self.touch_dir(dir, now);
        Ok(id)
    }

    /// Moves `oname` of `odir` to `nname` of `ndir` with Linux's rules
    /// (`flags`: RENAME_NOREPLACE, RENAME_EXCHANGE). The caller checked
    /// the names (`.`, `..`, empty) and the parents.
    pub fn rename(
        &mut self,
        odir: NodeId,
        oname: &[u8],
        ndir: NodeId,
        nname: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if self.node(odir).fs != self.node(ndir).fs {
            return Err(Errno::EXDEV);
        }
        self.ensure_loaded(odir);
        self.ensure_loaded(ndir);
        let old = self.child(odir, oname).ok_or(Errno::ENOENT)?;
        let new = self.child(ndir, nname);
        if flags & RENAME_NOREPLACE != 0 && new.is_some() {
            return Err(Errno::EEXIST);
        }
        if flags & RENAME_EXCHANGE != 0 && new.is_none() {
            return Err(Errno::ENOENT);
        }
        let old_dir = self.node(old).is_dir();
        if let Some(new) = new {
            let new_dir = self.node(new).is_dir();
            if flags & RENAME_EXCHANGE == 0 {
                if old_dir && !new_dir {
                    return Err(Errno::ENOTDIR);
                }
                if !old_dir && new_dir {
                    return Err(Errno::EISDIR);
                }
            }
        }
        // A directory cannot move under itself; what would be replaced
        // cannot be an ancestor of what moves.
        if self.is_ancestor(old, ndir) {
            return Err(Errno::EINVAL);
        }
        if let Some(new) = new {
            if self.is_ancestor(new, odir) {
                return Err(if flags & RENAME_EXCHANGE != 0 {
                    Errno::EINVAL
                } else {
                    Errno::ENOTEMPTY
                });
            }
        }
        let busy = |v: &Self, n: NodeId| v.node(n).mounted.is_some() || v.mounts.iter().any(|m| m.root == n);
        if busy(self, old) || new.is_some_and(|n| busy(self, n)) {
            return Err(Errno::EBUSY);
        }
        self.writable(odir)?;
        if new == Some(old) || new.is_some_and(|n| self.same_inode(n, old)) {
            // Two names of one file: Linux does nothing.
            return Ok(());
        }
        if flags & RENAME_EXCHANGE == 0 {
            if let Some(new) = new {
                if self.node(new).is_dir() && !self.children(new).is_empty() {
                    return Err(Errno::ENOTEMPTY);
                }
            }
        }
        self.commit(odir, Change::Rename { odir, oname, ndir, nname, flags })?;
        let now = (self.clock)();
        if flags & RENAME_EXCHANGE != 0 {
            let new = new.ok_or(Errno::ENOENT)?;
            // Both slots first, then both writes (one directory or two).
            let oi = self.children(odir).iter().position(|&c| c == old);
            let ni = self.children(ndir).iter().position(|&c| c == new);
            self.set_child_at(odir, oi, new);
            self.set_child_at(ndir, ni, old);
            let (on, nn) = (self.nodes[old as usize].name.clone(), self.nodes[new as usize].name.clone());
            self.nodes[old as usize].name = nn;
            self.nodes[old as usize].parent = ndir;
            self.nodes[new as usize].name = on;
            self.nodes[new as usize].parent = odir;
            let (os, ns) = (self.nodes[old as usize].seq, self.nodes[new as usize].seq);
            self.nodes[old as usize].seq = ns;
            self.nodes[new as usize].seq = os;
            for n in [old, new] {
                self.set_ctime(n, now);
            }
        } else {
            if let Some(new) = new {
                self.detach(ndir, new, now);
            }
            if let Kind::Dir(children) = &mut self.nodes[odir as usize].kind {
                children.retain(|&c| c != old);
            }
            if let Kind::Dir(children) = &mut self.nodes[ndir as usize].kind {
                children.push(old);
            }
            let seq = self.next_seq();
            let n = &mut self.nodes[old as usize];
            n.seq = seq;
            n.name = Cow::Owned(nname.to_vec());
            n.parent = ndir;
            self.set_ctime(old, now);
        }
        self.touch_dir(odir, now);
        self.touch_dir(ndir, now);
        Ok(())
    }

    fn set_child_at(&mut self, dir: NodeId, at: Option<usize>, to: NodeId) {
        if let (Kind::Dir(children), Some(i)) = (&mut self.nodes[dir as usize].kind, at) {
            children[i] = to;
        }
    }

    fn set_ctime(&mut self, id: NodeId, now: Time) {
        match self.inode(id) {
            Some(i) => i.borrow_mut().times.ctime = now,
            None => self.nodes[id as usize].times.ctime = now,
        }
    }

    fn same_inode(&self, a: NodeId, b: NodeId) -> bool {
        if let (Some(x), Some(y)) = (self.host.get(&a), self.host.get(&b)) {
            return x.ino == y.ino && x.ino != 0;
        }
        match (self.inode(a), self.inode(b)) {
            (Some(x), Some(y)) => Rc::ptr_eq(&x, &y),
            _ => false,
        }
    }

    /// `a` is `b` or one of its ancestors (within one file system).
    fn is_ancestor(&self, a: NodeId, mut b: NodeId) -> bool {
        for _ in 0..=self.nodes.len() {
            if a == b {
                return true;
            }
            if b == ROOT || self.mounts.iter().any(|m| m.root == b) {
                return false;
            }
            b = self.nodes[b as usize].parent;
        }
        false
    }

    /// chmod, chown, utimensat: changes the attributes of `id`; the
    /// status change time becomes now.
    pub fn setattr(&mut self, id: NodeId, a: SetAttr) -> Result<(), Errno> {
        self.writable(id)?;
        self.commit(id, Change::SetAttr { node: id, attr: a })?;
        let now = (self.clock)();
        let apply = |mode: &mut u32, uid: &mut u32, gid: &mut u32, times: &mut Times| {
            if let Some(m) = a.mode {
                *mode = (*mode & S_IFMT) | (m & 0o7777);
            }
            if let Some(u) = a.uid {
                *uid = u;
            }
            if let Some(g) = a.gid {
                *gid = g;
            }
            if let Some(t) = a.atime {
                times.atime = t;
            }
            if let Some(t) = a.mtime {
                times.mtime = t;
            }
            times.ctime = now;
        };
        match self.inode(id) {
            Some(inode) => {
                let i = &mut *inode.borrow_mut();
                apply(&mut i.mode, &mut i.uid, &mut i.gid, &mut i.times);
            }
            None => {
                let n = &mut self.nodes[id as usize];
                apply(&mut n.mode, &mut n.uid, &mut n.gid, &mut n.times);
            }
        }
        Ok(())
    }
}

/// `./bin/sh`, `/bin/sh`, `bin//sh/` -> `bin/sh` (a suffix of the input
/// when it has no doubled slashes inside; `.` -> empty).
fn normalize(mut name: &[u8]) -> &[u8] {
    loop {
        if let Some(rest) = name.strip_prefix(b"./") {
            name = rest;
        } else if let Some(rest) = name.strip_prefix(b"/") {
            name = rest;
        } else {
            break;
        }
    }
    while let Some(rest) = name.strip_suffix(b"/") {
        name = rest;
    }
    if name == b"." {
        return b"";
    }
    name
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::vfs::initramfs::tests::{archive, gnu_cpio};

    pub(crate) fn sample() -> Vec<u8> {
        archive(&[
            ("bin", S_IFDIR | 0o755, b""),
            ("bin/busybox", S_IFREG | 0o755, b"\x7fELF..."),
            ("bin/sh", S_IFLNK | 0o777, b"busybox"),
            ("etc/passwd", S_IFREG | 0o644, b"root:x:0:0::/:/bin/sh\n"),
            ("data/a.txt", S_IFREG | 0o644, b"alpha\n"),
            ("data/sub", S_IFDIR | 0o700, b""),
            ("data/loop", S_IFLNK | 0o777, b"loop"),
            ("data/up", S_IFLNK | 0o777, b"../etc"),
            ("data/abs", S_IFLNK | 0o777, b"/etc/passwd"),
            ("data/dangling", S_IFLNK | 0o777, b"nowhere"),
        ])
    }

    #[test]
    fn indexes_members_and_implied_dirs() {
        let bytes = sample();
        let vfs = Vfs::new(&bytes, 0x200_0000, 42).unwrap();
        let etc = vfs.child(ROOT, b"etc").unwrap();
        assert!(vfs.node(etc).is_dir(), "etc is implied by etc/passwd");
        assert_eq!(vfs.node(etc).mode, S_IFDIR | 0o755);
        let passwd = vfs.child(etc, b"passwd").unwrap();
        let data = vfs.file_data(passwd).unwrap();
        assert_eq!(data, b"root:x:0:0::/:/bin/sh\n");
        let phys = vfs.file_phys(passwd, 5).unwrap();
        let off = (phys - 0x200_0000 - 5) as usize;
        assert_eq!(&bytes[off..off + data.len()], data);
        assert_eq!(vfs.node(passwd).times.mtime.sec, 1_700_000_000);
        let dev = vfs.child(ROOT, b"dev").unwrap();
        let null = vfs.child(dev, b"null").unwrap();
        assert!(matches!(vfs.node(null).kind, Kind::Device(Device::Null)));
        assert_eq!(vfs.node(null).times.mtime.sec, 42);
        assert_eq!(vfs.path_of(null), b"/dev/null");
        assert_eq!(vfs.path_of(ROOT), b"/");
        assert_eq!(vfs.ino(ROOT), 1);
        let names: Vec<&[u8]> = vfs
            .children(ROOT)
            .iter()
            .map(|&c| &*vfs.node(c).name)
            .collect();
        assert_eq!(names, [&b"bin"[..], b"etc", b"data", b"dev", b"proc"]);
    }

    #[test]
    fn later_members_replace_earlier_ones() {
        let bytes = archive(&[
            ("d/x", S_IFREG | 0o644, b"1"),
            ("d", S_IFDIR | 0o700, b""),
            ("d/x", S_IFREG | 0o600, b"22"),
        ]);
        let vfs = Vfs::new(&bytes, 0, 0).unwrap();
        let d = vfs.child(ROOT, b"d").unwrap();
        assert_eq!(vfs.node(d).mode, S_IFDIR | 0o700, "explicit entry wins");
        assert_eq!(vfs.children(d).len(), 1, "children kept");
        let x = vfs.child(d, b"x").unwrap();
        assert_eq!(vfs.file_data(x), Some(&b"22"[..]));
    }

    #[test]
    fn display_devices() {
        let bytes = sample();
        let mut vfs = Vfs::new(&bytes, 0, 7).unwrap();
        assert!(vfs.lookup(ROOT, b"/dev/fb0", true).is_err());
        vfs.add_display_devices(7);
        let fb = vfs.lookup(ROOT, b"/dev/fb0", true).unwrap();
        assert!(matches!(vfs.node(fb).kind, Kind::Device(Device::Fb0)));
        let ev = vfs.lookup(ROOT, b"/dev/input/event0", true).unwrap();
        assert!(matches!(vfs.node(ev).kind, Kind::Device(Device::Event0)));
        assert_eq!(vfs.path_of(ev), b"/dev/input/event0");
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize(b"./bin/sh"), b"bin/sh");
        assert_eq!(normalize(b"/bin/"), b"bin");
        assert_eq!(normalize(b"."), b"");
        assert_eq!(normalize(b"./"), b"");
        assert_eq!(normalize(b""), b"");
    }

    #[test]
    fn devices() {
        assert_eq!(makedev(1, 3), 0x103);
        assert_eq!(makedev(5, 1), 0x501);
        assert_eq!(makedev(0x1234, 0x56789), 0x0000_1000_5672_3489);
        for d in DEVICES.iter().map(|e| e.1).chain([Device::Fb0, Device::Event0]) {
            let (major, minor) = d.numbers();
            assert_eq!(Device::from_numbers(major, minor), d);
        }
    }

    #[test]
    fn indexes_a_gnu_cpio_archive() {
        let bytes = gnu_cpio("vfs", |d| {
            std::fs::create_dir_all(d.join("usr/share")).unwrap();
            std::fs::write(d.join("usr/share/x"), b"x").unwrap();
            std::os::unix::fs::symlink("share/x", d.join("usr/y")).unwrap();
        });
        let mut vfs = Vfs::new(&bytes, 0, 0).unwrap();
        let y = vfs.lookup(ROOT, b"/usr/y", true).unwrap();
        assert_eq!(vfs.file_data(y), Some(&b"x"[..]));
        assert_eq!(vfs.path_of(y), b"/usr/share/x");
    }
}

#[cfg(test)]
mod tmpfs_tests {
    use super::tests::sample;
    use super::*;

    fn clock() -> Time {
        Time { sec: 1_800_000_000, nsec: 5 }
    }

    fn with_tmp(bytes: &[u8]) -> Vfs<'_> {
        let mut vfs = Vfs::new(bytes, 0, 0).unwrap();
        vfs.clock = clock;
        vfs.make_dirs(b"tmp", 0);
        vfs.mount_tmpfs(b"/tmp", 1 << 20).unwrap();
        vfs
    }

    fn read_all(vfs: &Vfs<'_>, id: NodeId) -> Vec<u8> {
        let mut out = Vec::new();
        vfs.read_at(id, None, 0, usize::MAX, |src, n| match src {
            Source::Bytes(b) => {
                out.extend_from_slice(b);
                Ok(n)
            }
            Source::Phys(_) => panic!("tmpfs bytes are in memory"),
        })
        .unwrap();
        out
    }

    fn write(vfs: &mut Vfs<'_>, id: NodeId, off: u64, data: &[u8]) -> Result<usize, Errno> {
        let mut at = 0;
        vfs.write_at(id, None, off, data.len(), |dst| {
            dst.copy_from_slice(&data[at..at + dst.len()]);
            at += dst.len();
            Ok(())
        })
    }

    #[test]
    fn root_is_read_only_and_tmp_is_writable() {
        let bytes = sample();
        let mut vfs = with_tmp(&bytes);
        let etc = vfs.lookup(ROOT, b"/etc", true).unwrap();
        assert_eq!(vfs.create(etc, b"x", NewNode::File, 0o644, 0, 0), Err(Errno::EROFS));
        assert_eq!(vfs.unlink(etc, b"passwd", false), Err(Errno::EROFS));
        let passwd = vfs.lookup(ROOT, b"/etc/passwd", true).unwrap();
        assert_eq!(vfs.truncate(passwd, None, 0), Err(Errno::EROFS));
        assert_eq!(vfs.setattr(passwd, SetAttr::default()), Err(Errno::EROFS));
        let tmp = vfs.lookup(ROOT, b"/tmp", true).unwrap();
        assert_eq!(vfs.fs_kind(tmp), FsKind::Tmpfs);
        assert_eq!(vfs.path_of(tmp), b"/tmp");
        let f = vfs.create(tmp, b"f", NewNode::File, 0o600, 0, 0).unwrap();
        assert_eq!(vfs.lookup(ROOT, b"/tmp/../tmp/f", true), Ok(f));
        assert_eq!(vfs.path_of(f), b"/tmp/f");
        let st = vfs.stat(f);
        assert_eq!(st.st_mode, S_IFREG | 0o600);
        assert_ne!(st.st_dev, vfs.stat(ROOT).st_dev);
        assert_eq!((st.st_mtime, st.st_mtime_nsec), (1_800_000_000, 5));
        // Cross-device link and rename.
        assert_eq!(vfs.link(passwd, tmp, b"p"), Err(Errno::EXDEV));
        assert_eq!(vfs.rename(tmp, b"f", etc, b"f", 0), Err(Errno::EXDEV));
        let mounts = vfs.mounts_text();
        assert_eq!(
            core::str::from_utf8(&mounts).unwrap(),
            "rootfs / rootfs ro 0 0\nproc /proc proc rw,nosuid,nodev,noexec 0 0\ntmpfs /tmp tmpfs rw,nosuid,nodev 0 0\n"
        );
    }

    #[test]
    fn files_holes_truncate_and_memory() {
        let bytes = sample();
        let mut vfs = with_tmp(&bytes);
        let tmp = vfs.lookup(ROOT, b"/tmp", true).unwrap();
        let usage = vfs.mount_of(tmp).usage.clone();
        let f = vfs.create(tmp, b"f", NewNode::File, 0o644, 0, 0).unwrap();
        assert_eq!(write(&mut vfs, f, 0, b"hello"), Ok(5));
        assert_eq!(write(&mut vfs, f, 10, b"!"), Ok(1));
        assert_eq!(read_all(&vfs, f), b"hello\0\0\0\0\0!");
        assert_eq!(vfs.size(f), 11);
        assert_eq!(vfs.stat(f).st_blocks, 8);
        assert_eq!(usage.bytes.get(), 4096);
        vfs.truncate(f, None, 3).unwrap();
        assert_eq!(read_all(&vfs, f), b"hel");
        vfs.truncate(f, None, 5).unwrap();
        assert_eq!(read_all(&vfs, f), b"hel\0\0");
        assert_eq!(write(&mut vfs, f, u64::MAX - 1, b"xx"), Err(Errno::EFBIG));
        assert_eq!(vfs.truncate(f, None, u64::MAX), Err(Errno::EFBIG));
        // The mount's size (1 MiB here) is a limit.
        assert_eq!(write(&mut vfs, f, 0, &[7u8; 2 << 20]), Ok(1 << 20));
        assert_eq!(write(&mut vfs, f, 1 << 20, b"x"), Err(Errno::ENOSPC));
        assert_eq!(usage.bytes.get(), 1 << 20);
        vfs.truncate(f, None, 0).unwrap();
        write(&mut vfs, f, 0, b"hel").unwrap();
        vfs.truncate(f, None, 5).unwrap();
        // A failed copy leaves the file as it was.
        assert_eq!(
            vfs.write_at(f, None, 100, 4, |_| Err(Errno::EFAULT)),
            Err(Errno::EFAULT)
        );
        assert_eq!(vfs.size(f), 5);
        // Unlinked while "open": the bytes stay until the hold goes.
        let held = vfs.inode(f).unwrap();
        vfs.unlink(tmp, b"f", false).unwrap();
        assert_eq!(vfs.lookup(ROOT, b"/tmp/f", true), Err(Errno::ENOENT));
        assert_eq!(vfs.stat(f).st_nlink, 0);
        assert_eq!(usage.bytes.get(), 4096);
        assert_eq!(read_all(&vfs, f), b"hel\0\0");
        drop(held);
        assert_eq!(usage.bytes.get(), 0, "memory given back");
        assert_eq!(usage.inodes.get(), 0);
    }

    #[test]
    fn links_symlinks_and_dirs() {
        let bytes = sample();
        let mut vfs = with_tmp(&bytes);
        let tmp = vfs.lookup(ROOT, b"/tmp", true).unwrap();
        let a = vfs.create(tmp, b"a", NewNode::File, 0o644, 0, 0).unwrap();
        write(&mut vfs, a, 0, b"data").unwrap();
        let b = vfs.link(a, tmp, b"b").unwrap();
        assert_eq!(vfs.stat(a).st_nlink, 2);
        assert_eq!(vfs.stat(a).st_ino, vfs.stat(b).st_ino);
        vfs.setattr(b, SetAttr { mode: Some(0o600), ..SetAttr::default() }).unwrap();
        assert_eq!(vfs.stat(a).st_mode, S_IFREG | 0o600, "one inode");
        vfs.unlink(tmp, b"a", false).unwrap();
        assert_eq!(vfs.stat(b).st_nlink, 1);
        assert_eq!(read_all(&vfs, b), b"data");
        let d = vfs.create(tmp, b"d", NewNode::Dir, 0o755, 0, 0).unwrap();
        assert_eq!(vfs.stat(tmp).st_nlink, 3);
        let l = vfs.create(d, b"l", NewNode::Symlink(b"../b"), 0o777, 0, 0).unwrap();
        assert!(vfs.node(l).is_symlink());
        assert_eq!(vfs.link_target(l), Some(b"../b".to_vec()));
        assert_eq!(vfs.lookup(ROOT, b"/tmp/d/l", true), Ok(b));
        assert_eq!(vfs.stat(l).st_size, 4);
        assert_eq!(vfs.link(d, tmp, b"d2"), Err(Errno::EPERM));
        assert_eq!(vfs.unlink(tmp, b"d", true), Err(Errno::ENOTEMPTY));
        assert_eq!(vfs.unlink(tmp, b"d", false), Err(Errno::EISDIR));
        assert_eq!(vfs.unlink(tmp, b"b", true), Err(Errno::ENOTDIR));
        vfs.unlink(d, b"l", false).unwrap();
        vfs.unlink(tmp, b"d", true).unwrap();
        assert_eq!(
            vfs.create(d, b"late", NewNode::File, 0o644, 0, 0),
            Err(Errno::ENOENT),
            "created in a removed directory"
        );
        assert_eq!(vfs.stat(tmp).st_nlink, 2);
        let root = vfs.cross(vfs.child(ROOT, b"tmp").unwrap());
        assert_eq!(root, tmp);
        assert_eq!(vfs.unlink(ROOT, b"tmp", true), Err(Errno::EBUSY));
    }

    #[test]
    fn rename_like_linux() {
        let bytes = sample();
        let mut vfs = with_tmp(&bytes);
        let tmp = vfs.lookup(ROOT, b"/tmp", true).unwrap();
        let f = vfs.create(tmp, b"f", NewNode::File, 0o644, 0, 0).unwrap();
        let g = vfs.create(tmp, b"g", NewNode::File, 0o644, 0, 0).unwrap();
        write(&mut vfs, f, 0, b"F").unwrap();
        let d = vfs.create(tmp, b"d", NewNode::Dir, 0o755, 0, 0).unwrap();
        let e = vfs.create(tmp, b"e", NewNode::Dir, 0o755, 0, 0).unwrap();
        let sub = vfs.create(d, b"sub", NewNode::Dir, 0o755, 0, 0).unwrap();
        assert_eq!(vfs.rename(tmp, b"f", tmp, b"d", 0), Err(Errno::EISDIR));
        assert_eq!(vfs.rename(tmp, b"d", tmp, b"f", 0), Err(Errno::ENOTDIR));
        assert_eq!(vfs.rename(tmp, b"d", sub, b"x", 0), Err(Errno::EINVAL));
        assert_eq!(vfs.rename(tmp, b"d", d, b"x", 0), Err(Errno::EINVAL));
        assert_eq!(vfs.rename(tmp, b"e", tmp, b"d", 0), Err(Errno::ENOTEMPTY));
        assert_eq!(vfs.rename(tmp, b"f", tmp, b"g", RENAME_NOREPLACE), Err(Errno::EEXIST));
        assert_eq!(vfs.rename(tmp, b"nope", tmp, b"g", 0), Err(Errno::ENOENT));
        // A file over a file: the old one's name is gone.
        vfs.rename(tmp, b"f", tmp, b"g", 0).unwrap();
        assert_eq!(vfs.lookup(ROOT, b"/tmp/g", true), Ok(f));
        assert_eq!(vfs.lookup(ROOT, b"/tmp/f", true), Err(Errno::ENOENT));
        assert_eq!(vfs.stat(g).st_nlink, 0);
        // A directory over an empty one, into another directory.
        vfs.rename(tmp, b"e", sub, b"moved", 0).unwrap();
        assert_eq!(vfs.path_of(e), b"/tmp/d/sub/moved");
        let empty = vfs.create(tmp, b"empty", NewNode::Dir, 0o755, 0, 0).unwrap();
        vfs.rename(tmp, b"d", tmp, b"empty", 0).unwrap();
        assert_eq!(vfs.lookup(ROOT, b"/tmp/empty/sub/moved", true), Ok(e));
        assert_eq!(vfs.lookup(ROOT, b"/tmp/d", true), Err(Errno::ENOENT));
        assert!(vfs.children(empty).is_empty());
        // Exchange.
        vfs.rename(tmp, b"g", tmp, b"empty", RENAME_EXCHANGE).unwrap();
        assert_eq!(vfs.lookup(ROOT, b"/tmp/empty", true), Ok(f));
        assert_eq!(vfs.lookup(ROOT, b"/tmp/g", true), Ok(d));
        // Renaming onto itself does nothing.
        vfs.rename(tmp, b"g", tmp, b"g", 0).unwrap();
        assert_eq!(vfs.lookup(ROOT, b"/tmp/g", true), Ok(d));
    }

    #[test]
    fn slots_of_dead_files_are_reused() {
        let bytes = sample();
        let mut vfs = with_tmp(&bytes);
        let tmp = vfs.lookup(ROOT, b"/tmp", true).unwrap();
        let held = vfs.create(tmp, b"held", NewNode::File, 0o644, 0, 0).unwrap();
        let hold = vfs.inode(held).unwrap();
        vfs.unlink(tmp, b"held", false).unwrap();
        let before = vfs.len();
        for _ in 0..100 {
            let f = vfs.create(tmp, b"t", NewNode::File, 0o644, 0, 0).unwrap();
            assert_ne!(f, held, "a held inode keeps its node");
            vfs.unlink(tmp, b"t", false).unwrap();
        }
        assert!(vfs.len() <= before + 1, "{} nodes for 100 files made and removed", vfs.len() - before);
        assert_eq!(vfs.stat(held).st_nlink, 0);
        drop(hold);
        let again = vfs.create(tmp, b"u", NewNode::File, 0o644, 0, 0).unwrap();
        let other = vfs.create(tmp, b"v", NewNode::File, 0o644, 0, 0).unwrap();
        assert!(again == held || other == held, "the freed slot is used");
        assert_eq!(vfs.stat(again).st_ino, again as u64 + 1);
        assert_eq!(vfs.lookup(ROOT, b"/tmp/u", true), Ok(again));
    }

    #[test]
    fn listing_while_deleting_misses_nothing() {
        let bytes = sample();
        let mut vfs = with_tmp(&bytes);
        let tmp = vfs.lookup(ROOT, b"/tmp", true).unwrap();
        for i in 0..50u8 {
            let name = [b'n', b'0' + i / 10, b'0' + i % 10];
            vfs.create(tmp, &name, NewNode::File, 0o644, 0, 0).unwrap();
        }
        // Read 10 entries at a time and delete what was read (rm -r).
        let mut pos = 2;
        let mut seen = 0;
        loop {
            let mut batch = Vec::new();
            for _ in 0..10 {
                let Some((e, next)) = vfs.dir_entry(tmp, pos) else { break };
                batch.push(e.name.to_vec());
                pos = next;
            }
            if batch.is_empty() {
                break;
            }
            for name in batch {
                vfs.unlink(tmp, &name, false).unwrap();
                seen += 1;
            }
        }
        assert_eq!(seen, 50);
        assert!(vfs.children(tmp).is_empty());
        // An entry added behind the reader comes at the end.
        let (_, after_dots) = vfs.dir_entry(tmp, 1).unwrap();
        vfs.create(tmp, b"late", NewNode::File, 0o644, 0, 0).unwrap();
        let (e, _) = vfs.dir_entry(tmp, after_dots).unwrap();
        assert_eq!(e.name, b"late");
    }

    #[test]
    fn proc_fd_lists_what_it_is_told() {
        let fd = |fd: u32, target: &[u8]| proc::FdEntry {
            fd,
            mode: 0o500,
            target: target.to_vec(),
        };
        let bytes = sample();
        let mut vfs = with_tmp(&bytes);
        vfs.set_proc_fds(alloc::vec![fd(0, b"/dev/null"), fd(3, b"/tmp/x")]);
        let three = vfs.lookup(ROOT, b"/proc/self/fd/3", false).unwrap();
        assert!(vfs.node(three).is_symlink());
        assert_eq!(vfs.stat(three).st_mode, S_IFLNK | 0o500);
        assert_eq!(vfs.stat(three).st_size, 64);
        assert_eq!(vfs.link_target(three), Some(b"/tmp/x".to_vec()));
        let null = vfs.lookup(ROOT, b"/proc/self/fd/0", true).unwrap();
        assert_eq!(vfs.path_of(null), b"/dev/null");
        vfs.set_proc_fds(alloc::vec![fd(0, b"/dev/null")]);
        assert_eq!(vfs.lookup(ROOT, b"/proc/self/fd/3", false), Err(Errno::ENOENT));
        let dir = vfs.fd_dir();
        vfs.set_proc_fds(alloc::vec![fd(0, b"/a"), fd(4, b"/b"), fd(9, b"/c")]);
        vfs.ensure_loaded(dir);
        let (mut pos, mut names) = (0, Vec::new());
        while let Some((e, next)) = vfs.dir_entry(dir, pos) {
            names.push(e.name.to_vec());
            pos = next;
            if names.len() == 3 {
                // A listing made again (each getdents) keeps positions.
                vfs.ensure_loaded(dir);
            }
        }
        assert_eq!(names, [&b"."[..], b"..", b"0", b"4", b"9"]);
        let before = vfs.len();
        vfs.set_proc_fds(alloc::vec![fd(0, b"/a"), fd(1, b"/b")]);
        vfs.lookup(ROOT, b"/proc/self/fd/1", false).unwrap();
        assert_eq!(vfs.len(), before, "nodes reused");
        let maps = vfs.lookup(ROOT, b"/proc/self/maps", true).unwrap();
        assert!(vfs.node(maps).is_regular());
        assert_eq!(vfs.writable(maps), Err(Errno::EACCES));
    }
}

#[cfg(test)]
mod bench {
    /// For instruction counts under valgrind: `cargo test --release
    /// --lib vfs::bench -- --ignored` with KVMOS_BENCH_CPIO set.
    #[test]
    #[ignore]
    fn index_an_archive() {
        let path = std::env::var("KVMOS_BENCH_CPIO")
            .expect("set KVMOS_BENCH_CPIO to the newc archive to index (this benchmark has no default)");
        let bytes = std::fs::read(path).unwrap();
        let vfs = super::Vfs::new(&bytes, 0, 0).unwrap();
        assert!(vfs.len() > 3);
    }
}
