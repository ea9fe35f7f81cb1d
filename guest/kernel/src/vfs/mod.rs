//! The file system: a read-only tree over the initramfs, plus the device
//! nodes of `/dev` and `/proc/self/exe`.
//!
//! The archive is indexed once at boot (`Vfs::new`): one node per member,
//! directories implied by paths created on the way, so a lookup never
//! scans the archive. File data stays in the archive; a node knows its
//! offset, and `read` hands the physical range to the copy hypercall.
//!
//! Submodules: `path` (resolution with symlinks, like Linux's namei),
//! `dirent` (getdents64 records), `stat` (`struct stat`/`statx`).

pub mod dirent;
pub mod initramfs;
pub mod path;
pub mod stat;

use initramfs::{CpioError, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use alloc::vec::Vec;

/// Index of a node; the root is 0.
pub type NodeId = u32;
pub const ROOT: NodeId = 0;

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

#[derive(Debug)]
pub enum Kind<'a> {
    /// Children in archive order.
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
}

#[derive(Debug)]
pub struct Node<'a> {
    pub name: &'a [u8],
    pub parent: NodeId,
    /// Type and permission bits, as `st_mode`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Seconds since the epoch.
    pub mtime: i64,
    pub kind: Kind<'a>,
}

impl Node<'_> {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }
    pub fn is_symlink(&self) -> bool {
        matches!(self.kind, Kind::Symlink(_) | Kind::SelfExe)
    }
}

/// The whole tree. `'a` is the archive's lifetime (`'static` in the
/// kernel: the host's initramfs stays in RAM for good).
pub struct Vfs<'a> {
    nodes: Vec<Node<'a>>,
    archive_phys: u64,
    self_exe: Vec<u8>,
}

impl<'a> Vfs<'a> {
    /// Indexes `archive` (at guest-physical `archive_phys`); nodes the
    /// archive does not date get `now` (seconds since the epoch).
    pub fn new(archive: &'a [u8], archive_phys: u64, now: i64) -> Result<Self, CpioError> {
        let mut vfs = Self {
            nodes: Vec::new(),
            archive_phys,
            self_exe: Vec::new(),
        };
        vfs.nodes.push(Node {
            name: b"/",
            parent: ROOT,
            mode: S_IFDIR | 0o755,
            uid: 0,
            gid: 0,
            mtime: now,
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
            if path.is_empty() {
                let root = &mut vfs.nodes[ROOT as usize];
                if e.mode & S_IFMT == S_IFDIR {
                    root.mode = e.mode;
                    root.mtime = e.mtime as i64;
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
            vfs.insert(
                parent,
                Node {
                    name,
                    parent,
                    mode: e.mode,
                    uid: e.uid,
                    gid: e.gid,
                    mtime: e.mtime as i64,
                    kind,
                },
            );
        }
        let fresh = vfs.child(ROOT, b"dev").is_none();
        let dev = vfs.make_dirs(b"dev", now);
        for (name, device, perm) in DEVICES {
            // A /dev of the archive may have some already (a new one has
            // none: no need to look).
            if fresh || vfs.child(dev, name).is_none() {
                vfs.add_child(
                    dev,
                    Node {
                        name,
                        parent: dev,
                        mode: S_IFCHR | perm,
                        uid: 0,
                        gid: 0,
                        mtime: now,
                        kind: Kind::Device(device),
                    },
                );
            }
        }
        let proc_self = vfs.make_dirs(b"proc/self", now);
        vfs.insert(
            proc_self,
            Node {
                name: b"exe",
                parent: proc_self,
                mode: S_IFLNK | 0o777,
                uid: 0,
                gid: 0,
                mtime: now,
                kind: Kind::SelfExe,
            },
        );
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
                self.add_child(
                    dir,
                    Node {
                        name,
                        parent: dir,
                        mode: S_IFCHR | 0o660,
                        uid: 0,
                        gid: 0,
                        mtime: now,
                        kind: Kind::Device(device),
                    },
                );
            }
        }
    }

    /// The directory at `path` (relative to the root, no `.`/`..`),
    /// created with its parents where missing.
    fn make_dirs(&mut self, path: &'a [u8], mtime: i64) -> NodeId {
        let mut cur = ROOT;
        for name in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            cur = match self.child(cur, name) {
                Some(n) if self.node(n).is_dir() => n,
                _ => self.insert(
                    cur,
                    Node {
                        name,
                        parent: cur,
                        mode: S_IFDIR | 0o755,
                        uid: 0,
                        gid: 0,
                        mtime,
                        kind: Kind::Dir(Vec::new()),
                    },
                ),
            };
        }
        cur
    }

    /// Adds `node` to directory `parent`, which has no child of that name.
    fn add_child(&mut self, parent: NodeId, node: Node<'a>) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(node);
        if let Kind::Dir(children) = &mut self.nodes[parent as usize].kind {
            children.push(id);
        }
        id
    }

    /// Adds `node` to directory `parent`, replacing a child of that name
    /// (a directory replaced by a directory keeps its children).
    fn insert(&mut self, parent: NodeId, mut node: Node<'a>) -> NodeId {
        if let Some(old) = self.child(parent, node.name) {
            let slot = &mut self.nodes[old as usize];
            if let (Kind::Dir(children), Kind::Dir(_)) = (&mut slot.kind, &node.kind) {
                node.kind = Kind::Dir(core::mem::take(children));
            }
            *slot = node;
            return old;
        }
        self.add_child(parent, node)
    }

    pub fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id as usize]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The child `name` of directory `dir`.
    pub fn child(&self, dir: NodeId, name: &[u8]) -> Option<NodeId> {
        let Kind::Dir(children) = &self.nodes[dir as usize].kind else {
            return None;
        };
        // Length and first byte before a full compare (a call to memcmp).
        let first = *name.first()?;
        children.iter().copied().find(|&c| {
            let n = self.nodes[c as usize].name;
            n.len() == name.len() && n[0] == first && n == name
        })
    }

    /// A directory's children (empty for anything else).
    pub fn children(&self, dir: NodeId) -> &[NodeId] {
        match &self.nodes[dir as usize].kind {
            Kind::Dir(children) => children,
            _ => &[],
        }
    }

    /// Guest-physical address of byte `offset` of a regular file.
    pub fn file_phys(&self, id: NodeId, offset: u64) -> Option<u64> {
        match self.nodes[id as usize].kind {
            Kind::File { offset: at, .. } => Some(self.archive_phys + at as u64 + offset),
            _ => None,
        }
    }

    /// The bytes of a regular file (headers of programs are read here).
    pub fn file_data(&self, id: NodeId) -> Option<&'a [u8]> {
        match self.nodes[id as usize].kind {
            Kind::File { data, .. } => Some(data),
            _ => None,
        }
    }

    /// A symlink's target.
    pub fn link_target(&self, id: NodeId) -> Option<&[u8]> {
        match &self.nodes[id as usize].kind {
            Kind::Symlink(t) => Some(t),
            Kind::SelfExe => Some(&self.self_exe),
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

    /// The absolute path of `id` (for getcwd and `/proc/self/exe`).
    pub fn path_of(&self, id: NodeId) -> Vec<u8> {
        if id == ROOT {
            return b"/".to_vec();
        }
        let mut parts = Vec::new();
        let mut cur = id;
        while cur != ROOT {
            parts.push(cur);
            cur = self.nodes[cur as usize].parent;
        }
        let mut out = Vec::new();
        for &p in parts.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(self.nodes[p as usize].name);
        }
        out
    }

    /// Inode number: the node index + 1 (the root is 1, as on tmpfs).
    pub fn ino(&self, id: NodeId) -> u64 {
        id as u64 + 1
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
        assert_eq!(vfs.node(passwd).mtime, 1_700_000_000);
        let dev = vfs.child(ROOT, b"dev").unwrap();
        let null = vfs.child(dev, b"null").unwrap();
        assert!(matches!(vfs.node(null).kind, Kind::Device(Device::Null)));
        assert_eq!(vfs.node(null).mtime, 42);
        assert_eq!(vfs.path_of(null), b"/dev/null");
        assert_eq!(vfs.path_of(ROOT), b"/");
        assert_eq!(vfs.ino(ROOT), 1);
        let names: Vec<&[u8]> = vfs
            .children(ROOT)
            .iter()
            .map(|&c| vfs.node(c).name)
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
        let vfs = Vfs::new(&bytes, 0, 0).unwrap();
        let y = vfs.lookup(ROOT, b"/usr/y", true).unwrap();
        assert_eq!(vfs.file_data(y), Some(&b"x"[..]));
        assert_eq!(vfs.path_of(y), b"/usr/share/x");
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
