//! Host directories (`bind=<id>,<ro|rw>,<guest path>` words): file systems
//! whose files the host serves through the `fs` port (`host::fs`).
//!
//! The tree is filled lazily and cached for the whole run: a directory's
//! entries are fetched the first time a lookup or a listing passes
//! through it (`list`), a node's attributes the first time a lookup
//! reaches it (`ensure_attrs`: one lstat, and a readlink for a symlink).
//! The guest resolves every `.`, `..` and symlink itself and sends the
//! host only paths of real directories plus one name, relative to the
//! mount's root (the host follows nothing: a symlink swapped in is ELOOP
//! there, never an escape). A lookup of a name the cached listing lacks
//! is ENOENT without a hypercall. Changes are made on the host first
//! (`commit`), then in the cache, so the cache is what the host has as
//! far as this guest changed it; changes made on the host by others
//! during the run are not seen.
//!
//! File data is not cached, except whole files that are executed or
//! mapped (`ensure_cached`): those are read once into physically
//! contiguous frames, which exec and mmap map lazily like the archive's
//! files. Reads and writes otherwise go to the host 64 KiB at a time
//! through the client's bounce buffer (the host never writes memory the
//! guest may execute: see `host::fs`).

use super::initramfs::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use super::{Cow, FsKind, Kind, Node, NodeId, Source, Time, Times, Vfs};
use crate::host::fs::{self as client, HostStat, Timespec, WriteAt};
use crate::syscall::Errno;
use alloc::vec;
use alloc::vec::Vec;

/// What the guest knows of a host node beyond `Node`'s fields.
#[derive(Debug, Default)]
pub struct HostNode {
    /// The host's mount id.
    pub mount: u32,
    /// A directory whose entries were fetched.
    pub listed: bool,
    /// The host's attributes (lstat), once fetched.
    pub stat: Option<HostStat>,
    /// A symlink's target, once fetched.
    pub target: Option<Vec<u8>>,
    /// The host's inode number (from the listing, then lstat).
    pub ino: u64,
    /// The whole file in guest-physical frames (exec, mmap): address
    /// and frame count.
    pub cache: Option<(u64, u64)>,
}

/// Bytes one request moves (the client's bounce buffer).
const CHUNK: usize = client::BOUNCE_SIZE;

/// `d_type` values of readdir records.
const DT_FIFO: u8 = 1;
const DT_CHR: u8 = 2;
const DT_DIR: u8 = 4;
const DT_BLK: u8 = 6;
const DT_REG: u8 = 8;
const DT_LNK: u8 = 10;
const DT_SOCK: u8 = 12;

fn type_bits(d_type: u8) -> Option<u32> {
    Some(match d_type {
        DT_FIFO => 0o010000,
        DT_CHR => 0o020000,
        DT_DIR => S_IFDIR,
        DT_BLK => 0o060000,
        DT_REG => S_IFREG,
        DT_LNK => S_IFLNK,
        DT_SOCK => 0o140000,
        _ => return None,
    })
}

/// The node kind for a host entry of type `mode`.
fn kind_for<'a>(mode: u32) -> Kind<'a> {
    match mode & S_IFMT {
        S_IFDIR => Kind::Dir(Vec::new()),
        S_IFREG | S_IFLNK => Kind::Host,
        // Devices, FIFOs and sockets of the host are listed but never
        // opened (the host refuses their data: ENXIO).
        _ => Kind::Special,
    }
}

fn time(sec: i64, nsec: i64) -> Time {
    Time {
        sec,
        nsec: nsec.clamp(0, 999_999_999) as u32,
    }
}

impl<'a> Vfs<'a> {
    /// Mounts host directory `id` on the directory `path` (from the root,
    /// symlinks followed). Its root's attributes come from the host; an
    /// error if the host cannot stat it or `path` is not a directory.
    pub fn mount_host(&mut self, path: &[u8], id: u32, writable: bool) -> Result<NodeId, Errno> {
        let point = self.lookup(super::ROOT, path, true)?;
        if !self.node(point).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let st = client::fs_lstat(id, b"")?;
        if st.mode & S_IFMT != S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        let root = self.mount(point, FsKind::Host { id, writable }, st.mode & 0o7777, Times::default());
        self.host.insert(root, HostNode { mount: id, ino: st.ino, ..HostNode::default() });
        self.apply_stat(root, st);
        Ok(root)
    }

    /// The host's extra knowledge of `id` (None: not a host node).
    pub fn host_node(&self, id: NodeId) -> Option<&HostNode> {
        self.host.get(&id)
    }

    /// `id`'s path relative to its mount's root, as the host wants it.
    pub fn host_path(&self, id: NodeId) -> Vec<u8> {
        let root = self.mount_of(id).root;
        let mut parts = Vec::new();
        let mut cur = id;
        while cur != root && cur != super::ROOT && parts.len() <= self.nodes.len() {
            parts.push(cur);
            cur = self.nodes[cur as usize].parent;
        }
        let mut out = Vec::new();
        for &p in parts.iter().rev() {
            if !out.is_empty() {
                out.push(b'/');
            }
            out.extend_from_slice(&self.nodes[p as usize].name);
        }
        out
    }

    /// `host_path(dir)` + `/` + `name`.
    fn host_child_path(&self, dir: NodeId, name: &[u8]) -> Vec<u8> {
        let mut p = self.host_path(dir);
        if !p.is_empty() {
            p.push(b'/');
        }
        p.extend_from_slice(name);
        p
    }

    fn host_mount(&self, id: NodeId) -> Option<u32> {
        match self.fs_kind(id) {
            FsKind::Host { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Copies the host's attributes into node `id`.
    fn apply_stat(&mut self, id: NodeId, st: HostStat) {
        let n = &mut self.nodes[id as usize];
        // The type stays what the node is; the host may have replaced
        // the file by another kind since the listing (then the node keeps
        // its kind and only its permissions follow).
        n.mode = (n.mode & S_IFMT) | (st.mode & 0o7777);
        if n.mode & S_IFMT == 0 {
            n.mode = st.mode;
        }
        n.uid = st.uid;
        n.gid = st.gid;
        n.times = Times {
            atime: time(st.atime_sec, st.atime_nsec),
            mtime: time(st.mtime_sec, st.mtime_nsec),
            ctime: time(st.ctime_sec, st.ctime_nsec),
        };
        if let Some(h) = self.host.get_mut(&id) {
            h.ino = st.ino;
            h.stat = Some(st);
        }
    }

    /// Fetches host directory `dir`'s entries into the tree (once).
    pub(super) fn host_list(&mut self, dir: NodeId) {
        let Some(h) = self.host.get(&dir) else { return };
        if h.listed || !self.node(dir).is_dir() {
            return;
        }
        let mount = h.mount;
        let path = self.host_path(dir);
        let fs = self.node(dir).fs;
        let mut buf = vec![0u8; CHUNK];
        let mut cookie = 0;
        let mut entries: Vec<(Vec<u8>, u64, u8)> = Vec::new();
        loop {
            let n = match client::fs_readdir_to(mount, &path, cookie, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut last = cookie;
            for d in client::dirents(&buf[..n]).map_while(Result::ok) {
                entries.push((d.name.to_vec(), d.ino, d.kind));
                last = d.next;
            }
            if last == cookie {
                break;
            }
            cookie = last;
        }
        if let Some(h) = self.host.get_mut(&dir) {
            h.listed = true;
        }
        for (name, ino, d_type) in entries {
            // A mount point made in the archive under a host directory
            // (a bind inside a bind) is not shadowed by the host's entry.
            if self.child(dir, &name).is_some() {
                continue;
            }
            let mode = match type_bits(d_type) {
                Some(m) => m,
                None => match client::fs_lstat(mount, &self.host_child_path(dir, &name)) {
                    Ok(st) => st.mode & S_IFMT,
                    Err(_) => continue,
                },
            };
            let node = self.add_child(dir, Node {
                name: Cow::Owned(name),
                parent: dir,
                fs,
                mounted: None,
                seq: 0,
                mode,
                uid: 0,
                gid: 0,
                times: Times::default(),
                kind: kind_for(mode),
            });
            self.host.insert(node, HostNode { mount, ino, ..HostNode::default() });
        }
    }

    /// Makes sure a host node's attributes (and a symlink's target) are
    /// known: one lstat (and one readlink) the first time. ENOENT if the
    /// host no longer has it.
    pub fn ensure_attrs(&mut self, id: NodeId) -> Result<(), Errno> {
        let Some(h) = self.host.get(&id) else { return Ok(()) };
        let (mount, need_stat) = (h.mount, h.stat.is_none());
        let need_target = self.node(id).is_symlink() && h.target.is_none();
        if !need_stat && !need_target {
            return Ok(());
        }
        let path = self.host_path(id);
        if need_stat {
            let st = client::fs_lstat(mount, &path)?;
            self.apply_stat(id, st);
        }
        if need_target {
            let mut buf = vec![0u8; super::path::PATH_MAX];
            let n = client::fs_readlink_to(mount, &path, &mut buf)?;
            buf.truncate(n);
            if let Some(h) = self.host.get_mut(&id) {
                h.target = Some(buf);
            }
        }
        Ok(())
    }

    /// A host file's size (as this guest last knew it).
    pub(super) fn host_size(&self, id: NodeId) -> Option<u64> {
        let h = self.host.get(&id)?;
        if self.node(id).is_symlink() {
            return h.target.as_ref().map(|t| t.len() as u64);
        }
        h.stat.map(|s| s.size.max(0) as u64)
    }

    /// `read_at` of a host file: from its cached frames, else from the
    /// host a chunk at a time.
    pub(super) fn host_read(
        &self,
        id: NodeId,
        off: u64,
        len: usize,
        mut copy: impl FnMut(Source<'_>, usize) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let h = self.host.get(&id).ok_or(Errno::EIO)?;
        let size = self.host_size(id).unwrap_or(0);
        if let Some((phys, _)) = h.cache {
            if off >= size || len == 0 {
                return Ok(0);
            }
            let n = (len as u64).min(size - off) as usize;
            return copy(Source::Phys(phys + off), n);
        }
        let path = self.host_path(id);
        let mut done = 0;
        while done < len {
            let want = (len - done).min(CHUNK);
            let step = client::fs_read_with(h.mount, &path, off + done as u64, want, |bytes| {
                if bytes.is_empty() {
                    return Ok((0, 0));
                }
                copy(Source::Bytes(bytes), bytes.len()).map(|took| (bytes.len(), took))
            });
            let (n, took) = match step.and_then(|r| r) {
                Ok(r) => r,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            if n == 0 {
                break;
            }
            done += took;
            if took < n || n < want {
                break;
            }
        }
        Ok(done)
    }

    /// `write_at` of a host file: `fill` fills a chunk, the host writes
    /// it whole (or says why not) before the next.
    pub(super) fn host_write(
        &mut self,
        id: NodeId,
        off: u64,
        len: usize,
        mut fill: impl FnMut(&mut [u8]) -> Result<(), Errno>,
    ) -> Result<usize, Errno> {
        let mount = self.host_mount(id).ok_or(Errno::EIO)?;
        let path = self.host_path(id);
        let mut buf = vec![0u8; len.min(CHUNK)];
        let mut done = 0;
        let mut failure = None;
        while done < len {
            let want = (len - done).min(CHUNK);
            if let Err(e) = fill(&mut buf[..want]) {
                failure = Some(e);
                break;
            }
            let at = off.checked_add(done as u64).ok_or(Errno::EFBIG)?;
            match client::fs_write_from(mount, &path, WriteAt::Offset(at), &buf[..want]) {
                Ok(n) => {
                    done += n;
                    if n < want {
                        break;
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if done > 0 {
            let end = off + done as u64;
            let now = (self.clock)();
            self.host_changed(id, Some(end), now);
        }
        match failure {
            Some(e) if done == 0 => Err(e),
            _ => Ok(done),
        }
    }

    /// The host file `id` changed through this guest: its size grew to
    /// at least `end` (or is `end` exactly, for a truncate: `exact`), its
    /// times are now; cached frames no longer hold its bytes.
    fn host_changed(&mut self, id: NodeId, end: Option<u64>, now: Time) {
        self.host_resize(id, end, false);
        let t = &mut self.nodes[id as usize].times;
        t.mtime = now;
        t.ctime = now;
    }

    fn host_resize(&mut self, id: NodeId, end: Option<u64>, exact: bool) {
        if let Some(h) = self.host.get_mut(&id) {
            if let (Some(st), Some(end)) = (h.stat.as_mut(), end) {
                let end = end.min(i64::MAX as u64) as i64;
                st.size = if exact { end } else { st.size.max(end) };
                st.blocks = (st.size + 511) / 512;
            }
            // Frames something may still map stay theirs (never freed:
            // a file both mapped and written in one run is rare).
            h.cache = None;
        }
    }

    /// `truncate` of a host file.
    pub(super) fn host_truncate(&mut self, id: NodeId, len: u64) -> Result<(), Errno> {
        let mount = self.host_mount(id).ok_or(Errno::EIO)?;
        client::fs_truncate(mount, &self.host_path(id), len)?;
        let now = (self.clock)();
        self.host_resize(id, Some(len), true);
        let t = &mut self.nodes[id as usize].times;
        t.mtime = now;
        t.ctime = now;
        Ok(())
    }

    /// Loads a whole host file into contiguous frames (once), for exec
    /// and mmap, which map it like an archive file (`file_phys`).
    ///
    /// A tmpfs file is copied the same way (a snapshot, made again once
    /// the file changed: a program written and then run, as a compiler's
    /// output is). Copies are never given back (a process may map them);
    /// each version of a file that is executed costs its size once.
    pub fn ensure_cached(&mut self, id: NodeId) -> Result<(), Errno> {
        if let Some(inode) = self.inode(id) {
            let i = inode.borrow();
            let (size, mtime) = (i.data.len(), i.times.mtime);
            if self.snapshots.get(&id).is_some_and(|&(_, _, s, m)| s == size && m == mtime) {
                return Ok(());
            }
            let pages = size.div_ceil(crate::host::layout::PAGE_SIZE).max(1);
            let phys = crate::mm::paging::allocate_contiguous(pages).ok_or(Errno::ENOMEM)?;
            let base = phys.to_direct_map().as_mut_ptr::<u8>();
            let mut at = 0usize;
            i.data.read(0, size as usize, |chunk| {
                // SAFETY: `pages` frames just allocated for this copy,
                // direct-mapped; `at + chunk.len()` stays within `size`.
                unsafe { core::ptr::copy_nonoverlapping(chunk.as_ptr(), base.add(at), chunk.len()) };
                at += chunk.len();
                Ok(chunk.len())
            })?;
            drop(i);
            self.snapshots.insert(id, (phys.as_u64(), pages, size, mtime));
            return Ok(());
        }
        let Some(h) = self.host.get(&id) else { return Ok(()) };
        if h.cache.is_some() {
            return Ok(());
        }
        let mount = h.mount;
        let size = self.host_size(id).ok_or(Errno::EIO)?;
        let pages = size.div_ceil(crate::host::layout::PAGE_SIZE).max(1);
        let phys = crate::mm::paging::allocate_contiguous(pages).ok_or(Errno::ENOMEM)?;
        // SAFETY: `pages` frames (at least `size` bytes) were just
        // allocated to this cache and nothing else refers to them; RAM is
        // direct-mapped.
        let dst = unsafe {
            core::slice::from_raw_parts_mut(phys.to_direct_map().as_mut_ptr::<u8>(), size as usize)
        };
        let path = self.host_path(id);
        match client::fs_read_to(mount, &path, 0, dst) {
            Ok(n) if n as u64 == size => {}
            Ok(_) => {
                crate::mm::paging::free_run(phys, pages);
                return Err(Errno::EIO);
            }
            Err(e) => {
                crate::mm::paging::free_run(phys, pages);
                return Err(e);
            }
        }
        if let Some(h) = self.host.get_mut(&id) {
            h.cache = Some((phys.as_u64(), pages));
        }
        Ok(())
    }

    /// The change `change` made on the host first (`commit`'s host arm).
    pub(super) fn host_commit(&mut self, mount: u32, change: super::Change<'_>) -> Result<(), Errno> {
        use super::{Change, NewNode, RENAME_EXCHANGE};
        match change {
            Change::Create { dir, name, what, perm } => {
                let path = self.host_child_path(dir, name);
                match what {
                    NewNode::File => client::fs_create(mount, &path, perm, true, false),
                    NewNode::Dir => client::fs_mkdir(mount, &path, perm),
                    NewNode::Symlink(t) => client::fs_symlink(mount, &path, t),
                }
            }
            Change::Unlink { dir, name, is_dir } => {
                let path = self.host_child_path(dir, name);
                if is_dir {
                    client::fs_rmdir(mount, &path)
                } else {
                    client::fs_unlink(mount, &path)
                }
            }
            Change::Link { target, dir, name } => {
                client::fs_link(mount, &self.host_path(target), &self.host_child_path(dir, name))
            }
            Change::Rename { odir, oname, ndir, nname, flags } => {
                if flags & RENAME_EXCHANGE != 0 {
                    return Err(Errno::EINVAL);
                }
                client::fs_rename(mount, &self.host_child_path(odir, oname), &self.host_child_path(ndir, nname))
            }
            Change::SetAttr { node, attr } => {
                let n = self.node(node);
                // The host keeps its own owners: only root's "change to
                // the same" succeeds.
                if attr.uid.is_some_and(|u| u != n.uid) || attr.gid.is_some_and(|g| g != n.gid) {
                    return Err(Errno::EPERM);
                }
                let path = self.host_path(node);
                if let Some(m) = attr.mode {
                    client::fs_chmod(mount, &path, m & 0o7777)?;
                }
                if attr.atime.is_some() || attr.mtime.is_some() {
                    let ts = |t: Option<Time>| match t {
                        Some(t) => Timespec { sec: t.sec, nsec: t.nsec as i64 },
                        None => Timespec { sec: 0, nsec: client::UTIME_OMIT },
                    };
                    client::fs_utimens(mount, &path, &[ts(attr.atime), ts(attr.mtime)])?;
                }
                Ok(())
            }
        }
    }

    /// After a host `create` (file, directory or symlink) or `link`: the
    /// new node's bookkeeping and the host's attributes.
    pub(super) fn host_created(&mut self, node: NodeId, mount: u32, listed: bool) {
        self.host.insert(node, HostNode { mount, listed, ..HostNode::default() });
        let _ = self.ensure_attrs(node);
    }

    /// `statfs` of a host mount.
    pub fn host_statfs(&self, id: NodeId) -> Result<client::HostStatfs, Errno> {
        let mount = self.host_mount(id).ok_or(Errno::EIO)?;
        client::fs_statfs(mount, &self.host_path(id))
    }

    /// `fsync` of a host file.
    pub fn host_fsync(&self, id: NodeId, data_only: bool) -> Result<(), Errno> {
        match self.host_mount(id) {
            Some(mount) => client::fs_fsync(mount, &self.host_path(id), data_only),
            None => Ok(()),
        }
    }
}
