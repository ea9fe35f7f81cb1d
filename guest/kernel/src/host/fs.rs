//! Host directories in the guest: the client of the `fs` port
//! (docs/protocol.md, "Host directories"), mirroring
//! `packages/protocol/src/fs-hypercalls.ts` (checked by the shared vectors
//! in tests/vectors.rs).
//!
//! The host mounts a directory per `bind=<id>,<ro|rw>,<guest path>` word of
//! the command line ([`binds`]); a request names the mount id and a path
//! *relative to that mount's root*. The host follows no symlink at all
//! (any symlink in a path is `ELOOP`), so the kernel resolves `.`, `..` and
//! symlinks itself (readlink, then walk) and sends only paths of real
//! directories plus one last name. Paths are checked here first
//! ([`check_relative_path`]): the host stops the guest on a bad one.
//!
//! Data buffers are guest-physical and written by the host behind the
//! CPU's back: on TCG, bytes the guest has executed would keep running
//! from stale translations, so a buffer the host writes must never hold
//! code. The kernel reads and writes file data through a bounce buffer of
//! its own and copies in the guest (a store by the guest itself is what
//! makes TCG drop its translations). `HostStat`/`HostStatfs` results live
//! on the kernel stack, which is never code either.
//!
//! Every call is one hypercall (~8 us on KVM, more on TCG): callers cache.

use crate::host::cmdline::Cmdline;
use crate::host::layout::PORT_FS;
use crate::sync::Global;
use crate::syscall::Errno;
use core::mem::{offset_of, size_of};

/// FsRequest: 80 bytes, 8-byte aligned.
pub const FS_REQUEST_SIZE: usize = 80;
/// Longest path (either of a request's two), bytes, without a NUL.
pub const FS_PATH_MAX: usize = 4096;
/// Longest name in a path.
pub const FS_NAME_MAX: usize = 255;
/// Most bytes one read, write, readdir or readlink moves.
pub const FS_DATA_MAX: u64 = 0x10_0000;
/// Mount ids are `0..FS_MOUNTS_MAX`.
pub const FS_MOUNTS_MAX: u32 = 64;
pub const FS_STAT_SIZE: usize = 112;
pub const FS_STATFS_SIZE: usize = 88;
pub const FS_TIMES_SIZE: usize = 32;
/// utimens: a `nsec` meaning "now" / "leave as it is" (Linux's values).
pub const UTIME_NOW: i64 = 0x3fff_ffff;
pub const UTIME_OMIT: i64 = 0x3fff_fffe;
/// HostStatfs::flags of a read-only mount (ST_RDONLY).
pub const FS_STATFS_RDONLY: u64 = 1;
/// A readdir record's fixed part (linux_dirent64's: ino, next, reclen, type).
pub const FS_DIRENT_HEADER: usize = 19;

/// FsRequest::op values.
pub mod op {
    pub const LSTAT: u32 = 0;
    pub const READDIR: u32 = 1;
    pub const READLINK: u32 = 2;
    pub const READ: u32 = 3;
    pub const WRITE: u32 = 4;
    pub const CREATE: u32 = 5;
    pub const MKDIR: u32 = 6;
    pub const UNLINK: u32 = 7;
    pub const RMDIR: u32 = 8;
    pub const RENAME: u32 = 9;
    pub const LINK: u32 = 10;
    pub const SYMLINK: u32 = 11;
    pub const TRUNCATE: u32 = 12;
    pub const UTIMENS: u32 = 13;
    pub const CHMOD: u32 = 14;
    pub const STATFS: u32 = 15;
    pub const FSYNC: u32 = 16;
    /// One past the last op.
    pub const COUNT: u32 = 17;
}

/// write: append at the end (`offset` 0).
pub const FS_WRITE_APPEND: u32 = 1;
/// create: EEXIST if the name exists (O_EXCL).
pub const FS_CREATE_EXCL: u32 = 1;
/// create: truncate an existing regular file (O_TRUNC).
pub const FS_CREATE_TRUNC: u32 = 2;
/// fsync: data only (fdatasync).
pub const FS_FSYNC_DATA: u32 = 1;

/// The argument of the `fs` port (docs/protocol.md, "Host directories").
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FsRequest {
    pub op: u32,
    pub mount: u32,
    /// Written by the host: >= 0, or -errno.
    pub result: i64,
    pub path_addr: u64,
    pub path_len: u32,
    pub path2_len: u32,
    pub path2_addr: u64,
    pub buf_addr: u64,
    pub buf_len: u64,
    /// read/write: file offset; readdir: cookie; truncate: new size.
    pub offset: u64,
    pub flags: u32,
    pub mode: u32,
    pub reserved: u64,
}

const _: () = {
    assert!(size_of::<FsRequest>() == FS_REQUEST_SIZE);
    assert!(offset_of!(FsRequest, result) == 8);
    assert!(offset_of!(FsRequest, path_addr) == 16);
    assert!(offset_of!(FsRequest, path_len) == 24);
    assert!(offset_of!(FsRequest, path2_len) == 28);
    assert!(offset_of!(FsRequest, path2_addr) == 32);
    assert!(offset_of!(FsRequest, buf_addr) == 40);
    assert!(offset_of!(FsRequest, buf_len) == 48);
    assert!(offset_of!(FsRequest, offset) == 56);
    assert!(offset_of!(FsRequest, flags) == 64);
    assert!(offset_of!(FsRequest, mode) == 68);
    assert!(offset_of!(FsRequest, reserved) == 72);
};

/// How each op uses the request (the host checks the same, per op).
#[derive(Clone, Copy)]
enum Path2 {
    None,
    Relative,
    Target,
}

#[derive(Clone, Copy)]
enum Buf {
    None,
    Exact(u64),
    UpTo(u64),
}

struct Shape {
    path2: Path2,
    buf: Buf,
    flags: u32,
    mode: bool,
    offset: bool,
}

const fn shape(op: u32) -> Shape {
    const fn s(path2: Path2, buf: Buf, flags: u32, mode: bool, offset: bool) -> Shape {
        Shape {
            path2,
            buf,
            flags,
            mode,
            offset,
        }
    }
    let data = Buf::UpTo(FS_DATA_MAX);
    match op {
        op::LSTAT => s(
            Path2::None,
            Buf::Exact(FS_STAT_SIZE as u64),
            0,
            false,
            false,
        ),
        op::READDIR => s(Path2::None, data, 0, false, true),
        op::READLINK => s(Path2::None, data, 0, false, false),
        op::READ => s(Path2::None, data, 0, false, true),
        op::WRITE => s(Path2::None, data, FS_WRITE_APPEND, false, true),
        op::CREATE => s(
            Path2::None,
            Buf::None,
            FS_CREATE_EXCL | FS_CREATE_TRUNC,
            true,
            false,
        ),
        op::MKDIR | op::CHMOD => s(Path2::None, Buf::None, 0, true, false),
        op::RENAME | op::LINK => s(Path2::Relative, Buf::None, 0, false, false),
        op::SYMLINK => s(Path2::Target, Buf::None, 0, false, false),
        op::TRUNCATE => s(Path2::None, Buf::None, 0, false, true),
        op::UTIMENS => s(
            Path2::None,
            Buf::Exact(FS_TIMES_SIZE as u64),
            0,
            false,
            false,
        ),
        op::STATFS => s(
            Path2::None,
            Buf::Exact(FS_STATFS_SIZE as u64),
            0,
            false,
            false,
        ),
        op::FSYNC => s(Path2::None, Buf::None, FS_FSYNC_DATA, false, false),
        // UNLINK, RMDIR
        _ => s(Path2::None, Buf::None, 0, false, false),
    }
}

use crate::host::protocol::DecodeError;

fn bad<T>(field: &'static str) -> Result<T, DecodeError> {
    Err(DecodeError { field })
}

impl FsRequest {
    pub fn encode(&self) -> [u8; FS_REQUEST_SIZE] {
        let mut out = [0u8; FS_REQUEST_SIZE];
        let mut put = |at: usize, b: &[u8]| out[at..at + b.len()].copy_from_slice(b);
        put(0, &self.op.to_le_bytes());
        put(4, &self.mount.to_le_bytes());
        put(8, &self.result.to_le_bytes());
        put(16, &self.path_addr.to_le_bytes());
        put(24, &self.path_len.to_le_bytes());
        put(28, &self.path2_len.to_le_bytes());
        put(32, &self.path2_addr.to_le_bytes());
        put(40, &self.buf_addr.to_le_bytes());
        put(48, &self.buf_len.to_le_bytes());
        put(56, &self.offset.to_le_bytes());
        put(64, &self.flags.to_le_bytes());
        put(68, &self.mode.to_le_bytes());
        put(72, &self.reserved.to_le_bytes());
        out
    }

    /// Reads an FsRequest, refusing what the host refuses (same field names).
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        if b.len() < FS_REQUEST_SIZE {
            return bad("size");
        }
        let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        let r = Self {
            op: u32_at(0),
            mount: u32_at(4),
            result: u64_at(8) as i64,
            path_addr: u64_at(16),
            path_len: u32_at(24),
            path2_len: u32_at(28),
            path2_addr: u64_at(32),
            buf_addr: u64_at(40),
            buf_len: u64_at(48),
            offset: u64_at(56),
            flags: u32_at(64),
            mode: u32_at(68),
            reserved: u64_at(72),
        };
        if r.op >= op::COUNT {
            return bad("op");
        }
        let sh = shape(r.op);
        if r.mount >= FS_MOUNTS_MAX {
            return bad("mount");
        }
        if r.path_len as usize > FS_PATH_MAX {
            return bad("pathLen");
        }
        let path2_ok = match sh.path2 {
            Path2::None => r.path2_len == 0 && r.path2_addr == 0,
            Path2::Relative => r.path2_len as usize <= FS_PATH_MAX,
            Path2::Target => (1..=FS_PATH_MAX).contains(&(r.path2_len as usize)),
        };
        if !path2_ok {
            return bad("path2Len");
        }
        let buf_ok = match sh.buf {
            Buf::None => r.buf_len == 0 && r.buf_addr == 0,
            Buf::Exact(n) => r.buf_len == n,
            Buf::UpTo(n) => (1..=n).contains(&r.buf_len),
        };
        if !buf_ok {
            return bad("bufLen");
        }
        if (!sh.offset && r.offset != 0) || r.offset > i64::MAX as u64 {
            return bad("offset");
        }
        if r.op == op::WRITE && r.flags & FS_WRITE_APPEND != 0 && r.offset != 0 {
            return bad("offset");
        }
        if r.flags & !sh.flags != 0 {
            return bad("flags");
        }
        if (sh.mode && r.mode > 0o7777) || (!sh.mode && r.mode != 0) {
            return bad("mode");
        }
        if r.reserved != 0 {
            return bad("reserved");
        }
        Ok(r)
    }
}

/// What lstat returns: Linux `struct stat`'s fields, times with nanoseconds.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostStat {
    pub ino: u64,
    pub dev: u64,
    pub rdev: u64,
    pub size: i64,
    /// 512-byte units.
    pub blocks: i64,
    pub blksize: u32,
    /// Type and permission bits (S_IFMT | 0o7777).
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub reserved: u32,
    pub atime_sec: i64,
    pub atime_nsec: i64,
    pub mtime_sec: i64,
    pub mtime_nsec: i64,
    pub ctime_sec: i64,
    pub ctime_nsec: i64,
}

const _: () = {
    assert!(size_of::<HostStat>() == FS_STAT_SIZE);
    assert!(offset_of!(HostStat, blksize) == 40);
    assert!(offset_of!(HostStat, gid) == 56);
    assert!(offset_of!(HostStat, atime_sec) == 64);
    assert!(offset_of!(HostStat, ctime_nsec) == 104);
};

/// What statfs returns: Linux `struct statfs`'s fields.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostStatfs {
    pub kind: u64,
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub fsid: u64,
    pub namelen: u64,
    pub frsize: u64,
    /// ST_* bits; `FS_STATFS_RDONLY` for a read-only mount.
    pub flags: u64,
}

const _: () = assert!(size_of::<HostStatfs>() == FS_STATFS_SIZE);

/// One time of utimens: seconds and nanoseconds (or `UTIME_NOW`, `UTIME_OMIT`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

const _: () = assert!(size_of::<[Timespec; 2]>() == FS_TIMES_SIZE);

/// Reads the `u64`s of a byte buffer in order (HostStat, HostStatfs as bytes).
fn words<const N: usize>(b: &[u8]) -> [u64; N] {
    core::array::from_fn(|i| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap()))
}

impl HostStat {
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        if b.len() < FS_STAT_SIZE {
            return bad("size");
        }
        let w: [u64; 14] = words(b);
        let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        Ok(Self {
            ino: w[0],
            dev: w[1],
            rdev: w[2],
            size: w[3] as i64,
            blocks: w[4] as i64,
            blksize: u32_at(40),
            mode: u32_at(44),
            nlink: u32_at(48),
            uid: u32_at(52),
            gid: u32_at(56),
            reserved: 0,
            atime_sec: w[8] as i64,
            atime_nsec: w[9] as i64,
            mtime_sec: w[10] as i64,
            mtime_nsec: w[11] as i64,
            ctime_sec: w[12] as i64,
            ctime_nsec: w[13] as i64,
        })
    }

    pub fn encode(&self) -> [u8; FS_STAT_SIZE] {
        // SAFETY: HostStat is repr(C), 112 bytes with no padding (asserted
        // above), all plain integers: its memory is the wire format.
        unsafe { core::mem::transmute(*self) }
    }
}

impl HostStatfs {
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        if b.len() < FS_STATFS_SIZE {
            return bad("size");
        }
        let w: [u64; 11] = words(b);
        Ok(Self {
            kind: w[0],
            bsize: w[1],
            blocks: w[2],
            bfree: w[3],
            bavail: w[4],
            files: w[5],
            ffree: w[6],
            fsid: w[7],
            namelen: w[8],
            frsize: w[9],
            flags: w[10],
        })
    }

    pub fn encode(&self) -> [u8; FS_STATFS_SIZE] {
        // SAFETY: repr(C), eleven u64s, no padding.
        unsafe { core::mem::transmute(*self) }
    }
}

/// One readdir record (`linux_dirent64`'s layout; `.` and `..` never come).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dirent<'a> {
    pub ino: u64,
    /// The cookie that resumes readdir after this entry.
    pub next: u64,
    /// DT_* (Linux's d_type).
    pub kind: u8,
    pub name: &'a [u8],
}

/// The records of what a readdir wrote (its `result` bytes), in order;
/// a malformed record ends the walk with `Err(EIO)`.
pub fn dirents(bytes: &[u8]) -> impl Iterator<Item = Result<Dirent<'_>, Errno>> {
    let mut at = 0usize;
    core::iter::from_fn(move || {
        if at >= bytes.len() {
            return None;
        }
        let rec = &bytes[at..];
        let reclen = rec
            .get(16..18)
            .map(|r| u16::from_le_bytes([r[0], r[1]]) as usize)
            .unwrap_or(0);
        let name = rec.get(FS_DIRENT_HEADER..reclen).and_then(|n| {
            let nul = n.iter().position(|&c| c == 0)?;
            (nul > 0).then_some(&n[..nul])
        });
        match name {
            Some(name) if reclen % 8 == 0 => {
                let d = Dirent {
                    ino: u64::from_le_bytes(rec[0..8].try_into().unwrap()),
                    next: u64::from_le_bytes(rec[8..16].try_into().unwrap()),
                    kind: rec[18],
                    name,
                };
                at += reclen;
                Some(Ok(d))
            }
            _ => {
                at = bytes.len();
                Some(Err(Errno::EIO))
            }
        }
    })
}

/// Checks a mount-relative path as the host will: empty (the mount's
/// root) or names joined by single `/`, none empty, `.` or `..`, none
/// holding NUL. Too long (the path or a name) is ENAMETOOLONG, the rest
/// EINVAL (the kernel must have resolved them away before asking).
pub fn check_relative_path(path: &[u8]) -> Result<(), Errno> {
    if path.len() > FS_PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if path.is_empty() {
        return Ok(());
    }
    for name in path.split(|&c| c == b'/') {
        if name.len() > FS_NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if name.is_empty() || name == b"." || name == b".." || name.contains(&0) {
            return Err(Errno::EINVAL);
        }
    }
    Ok(())
}

/// How a request reaches the host: [`Hypercalls`] in the kernel; tests
/// put a fake host behind it.
pub trait Transport {
    /// The guest-physical address of kernel bytes the host will read or write.
    fn phys(&self, bytes: *const u8) -> u64;
    /// Sends `req`; returns when the host has written its result (and buffers).
    fn send(&self, req: &mut FsRequest);
}

/// The real transport: the `fs` port through `hypercall::send`.
pub struct Hypercalls;

impl Transport for Hypercalls {
    fn phys(&self, bytes: *const u8) -> u64 {
        crate::mm::addr::VirtAddr::from_ptr(bytes)
            .kernel_to_phys()
            .expect("fs hypercall buffer outside the kernel windows")
            .as_u64()
    }

    fn send(&self, req: &mut FsRequest) {
        let pa = u32::try_from(self.phys((req as *mut FsRequest).cast()))
            .expect("FsRequest above 4 GiB");
        // SAFETY: `req` is an initialized FsRequest at `pa`; every address
        // in it was taken from live kernel memory by `phys` (the caller
        // owns the buffers the host writes).
        unsafe { crate::host::hypercall::send(PORT_FS, pa) };
        // SAFETY: a field of a live value; volatile because the host wrote it.
        req.result = unsafe { core::ptr::read_volatile(&req.result) };
    }
}

/// `write`'s position: an offset, or the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteAt {
    Offset(u64),
    Append,
}

/// The client: typed calls over a [`Transport`]. Paths are mount-relative
/// (see [`check_relative_path`]) and must lie in kernel memory; `phys_buf`
/// arguments are guest-physical ranges the caller owns and never executes.
pub struct Client<T: Transport>(pub T);

/// The kernel's client.
pub static HOST: Client<Hypercalls> = Client(Hypercalls);

impl<T: Transport> Client<T> {
    fn request(&self, op: u32, mount: u32, path: &[u8]) -> Result<FsRequest, Errno> {
        check_relative_path(path)?;
        if mount >= FS_MOUNTS_MAX {
            return Err(Errno::ENODEV);
        }
        Ok(FsRequest {
            op,
            mount,
            path_addr: if path.is_empty() {
                0
            } else {
                self.0.phys(path.as_ptr())
            },
            path_len: path.len() as u32,
            ..FsRequest::default()
        })
    }

    fn with_path2(&self, mut req: FsRequest, path2: &[u8]) -> FsRequest {
        req.path2_addr = self.0.phys(path2.as_ptr());
        req.path2_len = path2.len() as u32;
        req
    }

    fn send(&self, mut req: FsRequest) -> Result<u64, Errno> {
        self.0.send(&mut req);
        if req.result < 0 {
            Err(Errno::from_raw(-req.result).unwrap_or(Errno::EIO))
        } else {
            Ok(req.result as u64)
        }
    }

    fn unit(&self, req: FsRequest) -> Result<(), Errno> {
        self.send(req).map(|_| ())
    }

    /// lstat: never follows `path`'s last name.
    pub fn lstat(&self, mount: u32, path: &[u8]) -> Result<HostStat, Errno> {
        let mut st = HostStat::default();
        let mut req = self.request(op::LSTAT, mount, path)?;
        req.buf_addr = self.0.phys((&mut st as *mut HostStat).cast());
        req.buf_len = FS_STAT_SIZE as u64;
        self.send(req)?;
        // SAFETY: a live value the host wrote; volatile so the compiler
        // does not assume it still holds the default.
        Ok(unsafe { core::ptr::read_volatile(&st) })
    }

    /// Records (see [`dirents`]) from `cookie` (0 = start) into
    /// `[phys_buf, +len)`: bytes written, 0 at the end; EINVAL if not
    /// even one record fits. `len` is capped at `FS_DATA_MAX`.
    pub fn readdir(
        &self,
        mount: u32,
        path: &[u8],
        cookie: u64,
        phys_buf: u64,
        len: u64,
    ) -> Result<usize, Errno> {
        if len == 0 || cookie > i64::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        let mut req = self.request(op::READDIR, mount, path)?;
        (req.offset, req.buf_addr, req.buf_len) = (cookie, phys_buf, len.min(FS_DATA_MAX));
        self.send(req).map(|n| n as usize)
    }

    /// The target of the symlink `path`, cut to `len` bytes (as readlink(2)); EINVAL if not a symlink.
    pub fn readlink(
        &self,
        mount: u32,
        path: &[u8],
        phys_buf: u64,
        len: u64,
    ) -> Result<usize, Errno> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let mut req = self.request(op::READLINK, mount, path)?;
        (req.buf_addr, req.buf_len) = (phys_buf, len.min(FS_DATA_MAX));
        self.send(req).map(|n| n as usize)
    }

    /// Reads at `off` into `[phys_buf, +len)`: bytes read (fewer only at
    /// the end of the file, or when `len` exceeds `FS_DATA_MAX`), 0 at the end.
    pub fn read(
        &self,
        mount: u32,
        path: &[u8],
        off: u64,
        phys_buf: u64,
        len: u64,
    ) -> Result<usize, Errno> {
        if len == 0 {
            return Ok(0);
        }
        if off > i64::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        let mut req = self.request(op::READ, mount, path)?;
        (req.offset, req.buf_addr, req.buf_len) = (off, phys_buf, len.min(FS_DATA_MAX));
        self.send(req).map(|n| n as usize)
    }

    /// Writes `[phys_buf, +len)` (at most `FS_DATA_MAX`: callers loop) at
    /// `at`; bytes written, all of them unless the host's disk filled up.
    pub fn write(
        &self,
        mount: u32,
        path: &[u8],
        at: WriteAt,
        phys_buf: u64,
        len: u64,
    ) -> Result<usize, Errno> {
        if len == 0 {
            return Ok(0);
        }
        let mut req = self.request(op::WRITE, mount, path)?;
        match at {
            WriteAt::Offset(off) if off > i64::MAX as u64 => return Err(Errno::EFBIG),
            WriteAt::Offset(off) => req.offset = off,
            WriteAt::Append => req.flags = FS_WRITE_APPEND,
        }
        (req.buf_addr, req.buf_len) = (phys_buf, len.min(FS_DATA_MAX));
        self.send(req).map(|n| n as usize)
    }

    /// Creates a regular file (`mode & 0o7777` exactly, no umask: apply the
    /// guest's before), or opens an existing one as O_CREAT does: `excl`
    /// makes that EEXIST, `trunc` empties it.
    pub fn create(
        &self,
        mount: u32,
        path: &[u8],
        mode: u32,
        excl: bool,
        trunc: bool,
    ) -> Result<(), Errno> {
        let mut req = self.request(op::CREATE, mount, path)?;
        req.mode = mode & 0o7777;
        req.flags = if excl { FS_CREATE_EXCL } else { 0 } | if trunc { FS_CREATE_TRUNC } else { 0 };
        self.unit(req)
    }

    pub fn mkdir(&self, mount: u32, path: &[u8], mode: u32) -> Result<(), Errno> {
        let mut req = self.request(op::MKDIR, mount, path)?;
        req.mode = mode & 0o7777;
        self.unit(req)
    }

    pub fn unlink(&self, mount: u32, path: &[u8]) -> Result<(), Errno> {
        self.unit(self.request(op::UNLINK, mount, path)?)
    }

    pub fn rmdir(&self, mount: u32, path: &[u8]) -> Result<(), Errno> {
        self.unit(self.request(op::RMDIR, mount, path)?)
    }

    /// Renames inside one mount (across mounts is the caller's EXDEV).
    pub fn rename(&self, mount: u32, from: &[u8], to: &[u8]) -> Result<(), Errno> {
        check_relative_path(to)?;
        let req = self.request(op::RENAME, mount, from)?;
        self.unit(self.with_path2(req, to))
    }

    /// A hard link `new` to `existing` (not followed if a symlink), inside one mount.
    pub fn link(&self, mount: u32, existing: &[u8], new: &[u8]) -> Result<(), Errno> {
        check_relative_path(new)?;
        let req = self.request(op::LINK, mount, existing)?;
        self.unit(self.with_path2(req, new))
    }

    /// A symlink at `path` holding `target` (any bytes but NUL, stored as given).
    pub fn symlink(&self, mount: u32, path: &[u8], target: &[u8]) -> Result<(), Errno> {
        if target.is_empty() || target.contains(&0) {
            return Err(if target.is_empty() {
                Errno::ENOENT
            } else {
                Errno::EINVAL
            });
        }
        if target.len() > FS_PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let req = self.request(op::SYMLINK, mount, path)?;
        self.unit(self.with_path2(req, target))
    }

    pub fn truncate(&self, mount: u32, path: &[u8], size: u64) -> Result<(), Errno> {
        if size > i64::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        let mut req = self.request(op::TRUNCATE, mount, path)?;
        req.offset = size;
        self.unit(req)
    }

    /// Sets atime and mtime (`UTIME_NOW`, `UTIME_OMIT` as utimensat); never follows a symlink.
    pub fn utimens(&self, mount: u32, path: &[u8], times: &[Timespec; 2]) -> Result<(), Errno> {
        let mut req = self.request(op::UTIMENS, mount, path)?;
        req.buf_addr = self.0.phys(times.as_ptr().cast());
        req.buf_len = FS_TIMES_SIZE as u64;
        self.unit(req)
    }

    /// Sets the permission bits; EOPNOTSUPP on a symlink (no-follow).
    pub fn chmod(&self, mount: u32, path: &[u8], mode: u32) -> Result<(), Errno> {
        let mut req = self.request(op::CHMOD, mount, path)?;
        req.mode = mode & 0o7777;
        self.unit(req)
    }

    pub fn statfs(&self, mount: u32, path: &[u8]) -> Result<HostStatfs, Errno> {
        let mut st = HostStatfs::default();
        let mut req = self.request(op::STATFS, mount, path)?;
        req.buf_addr = self.0.phys((&mut st as *mut HostStatfs).cast());
        req.buf_len = FS_STATFS_SIZE as u64;
        self.send(req)?;
        // SAFETY: a live value the host wrote.
        Ok(unsafe { core::ptr::read_volatile(&st) })
    }

    pub fn fsync(&self, mount: u32, path: &[u8], data_only: bool) -> Result<(), Errno> {
        let mut req = self.request(op::FSYNC, mount, path)?;
        req.flags = if data_only { FS_FSYNC_DATA } else { 0 };
        self.unit(req)
    }

    /// `read` into kernel memory `dst` (a page-cache page, say) through
    /// `bounce`, a buffer only the host writes and only the guest reads:
    /// the copy into `dst` is a guest store, so TCG drops any translation
    /// of `dst` (see the module doc). Loops until `dst` is full or the
    /// file ends; bytes read.
    pub fn read_to(
        &self,
        bounce: &mut [u8],
        mount: u32,
        path: &[u8],
        off: u64,
        dst: &mut [u8],
    ) -> Result<usize, Errno> {
        let chunk = bounce.len().min(FS_DATA_MAX as usize);
        let phys = self.0.phys(bounce.as_ptr());
        let mut done = 0;
        while done < dst.len() {
            let want = chunk.min(dst.len() - done);
            let n = self.read(mount, path, off + done as u64, phys, want as u64)?;
            dst[done..done + n].copy_from_slice(&bounce[..n]);
            done += n;
            if n < want {
                break;
            }
        }
        Ok(done)
    }

    /// `write` of kernel memory `src` (the host only reads it, so no
    /// bounce), in `FS_DATA_MAX` pieces; stops at a short write. Bytes
    /// written; an error only if nothing was.
    pub fn write_from(
        &self,
        mount: u32,
        path: &[u8],
        at: WriteAt,
        src: &[u8],
    ) -> Result<usize, Errno> {
        let mut done = 0;
        while done < src.len() {
            let piece = &src[done..src.len().min(done + FS_DATA_MAX as usize)];
            let at = match at {
                WriteAt::Offset(off) => WriteAt::Offset(off + done as u64),
                WriteAt::Append => WriteAt::Append,
            };
            match self.write(
                mount,
                path,
                at,
                self.0.phys(piece.as_ptr()),
                piece.len() as u64,
            ) {
                Ok(n) => {
                    done += n;
                    if n < piece.len() {
                        break;
                    }
                }
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(done)
    }

    /// `readlink` into `dst` through `bounce` (as [`Client::read_to`]).
    pub fn readlink_to(
        &self,
        bounce: &mut [u8],
        mount: u32,
        path: &[u8],
        dst: &mut [u8],
    ) -> Result<usize, Errno> {
        let want = bounce.len().min(dst.len());
        let n = self.readlink(mount, path, self.0.phys(bounce.as_ptr()), want as u64)?;
        dst[..n].copy_from_slice(&bounce[..n]);
        Ok(n)
    }

    /// `readdir` records (see [`dirents`]) into `dst` through `bounce`.
    pub fn readdir_to(
        &self,
        bounce: &mut [u8],
        mount: u32,
        path: &[u8],
        cookie: u64,
        dst: &mut [u8],
    ) -> Result<usize, Errno> {
        let want = bounce.len().min(dst.len());
        let n = self.readdir(
            mount,
            path,
            cookie,
            self.0.phys(bounce.as_ptr()),
            want as u64,
        )?;
        dst[..n].copy_from_slice(&bounce[..n]);
        Ok(n)
    }
}

/// The bounce buffer of the kernel's `*_to` calls: in the kernel image's
/// .bss (direct-mapped, physically contiguous, never executed).
pub const BOUNCE_SIZE: usize = 0x1_0000;

#[repr(C, align(4096))]
struct Bounce([u8; BOUNCE_SIZE]);

static BOUNCE: Global<Bounce> = Global::new(Bounce([0; BOUNCE_SIZE]));

/// `read` into kernel memory through the bounce buffer ([`Client::read_to`]).
pub fn fs_read_to(mount: u32, path: &[u8], off: u64, dst: &mut [u8]) -> Result<usize, Errno> {
    HOST.read_to(&mut BOUNCE.lock().0, mount, path, off, dst)
}
/// `read` of up to `len` bytes (at most the bounce buffer) at `off` into
/// the bounce buffer, whose bytes are handed to `take` while it is held:
/// the reader copies them once, to where they go (ring 0 is emulated on
/// PVM: no copy in between).
pub fn fs_read_with<R>(
    mount: u32,
    path: &[u8],
    off: u64,
    len: usize,
    take: impl FnOnce(&[u8]) -> R,
) -> Result<R, Errno> {
    let bounce = BOUNCE.lock();
    let want = len.min(BOUNCE_SIZE);
    let n = HOST.read(mount, path, off, HOST.0.phys(bounce.0.as_ptr()), want as u64)?;
    Ok(take(&bounce.0[..n]))
}
/// `write` of kernel memory ([`Client::write_from`]).
pub fn fs_write_from(mount: u32, path: &[u8], at: WriteAt, src: &[u8]) -> Result<usize, Errno> {
    HOST.write_from(mount, path, at, src)
}
/// `readlink` into kernel memory through the bounce buffer.
pub fn fs_readlink_to(mount: u32, path: &[u8], dst: &mut [u8]) -> Result<usize, Errno> {
    HOST.readlink_to(&mut BOUNCE.lock().0, mount, path, dst)
}
/// `readdir` into kernel memory through the bounce buffer.
pub fn fs_readdir_to(mount: u32, path: &[u8], cookie: u64, dst: &mut [u8]) -> Result<usize, Errno> {
    HOST.readdir_to(&mut BOUNCE.lock().0, mount, path, cookie, dst)
}

// The kernel's calls, by the names the VFS will use.

pub fn fs_lstat(mount: u32, path: &[u8]) -> Result<HostStat, Errno> {
    HOST.lstat(mount, path)
}
pub fn fs_readdir(
    mount: u32,
    path: &[u8],
    cookie: u64,
    phys_buf: u64,
    len: u64,
) -> Result<usize, Errno> {
    HOST.readdir(mount, path, cookie, phys_buf, len)
}
pub fn fs_readlink(mount: u32, path: &[u8], phys_buf: u64, len: u64) -> Result<usize, Errno> {
    HOST.readlink(mount, path, phys_buf, len)
}
pub fn fs_read(mount: u32, path: &[u8], off: u64, phys_buf: u64, len: u64) -> Result<usize, Errno> {
    HOST.read(mount, path, off, phys_buf, len)
}
pub fn fs_write(
    mount: u32,
    path: &[u8],
    at: WriteAt,
    phys_buf: u64,
    len: u64,
) -> Result<usize, Errno> {
    HOST.write(mount, path, at, phys_buf, len)
}
pub fn fs_create(mount: u32, path: &[u8], mode: u32, excl: bool, trunc: bool) -> Result<(), Errno> {
    HOST.create(mount, path, mode, excl, trunc)
}
pub fn fs_mkdir(mount: u32, path: &[u8], mode: u32) -> Result<(), Errno> {
    HOST.mkdir(mount, path, mode)
}
pub fn fs_unlink(mount: u32, path: &[u8]) -> Result<(), Errno> {
    HOST.unlink(mount, path)
}
pub fn fs_rmdir(mount: u32, path: &[u8]) -> Result<(), Errno> {
    HOST.rmdir(mount, path)
}
pub fn fs_rename(mount: u32, from: &[u8], to: &[u8]) -> Result<(), Errno> {
    HOST.rename(mount, from, to)
}
pub fn fs_link(mount: u32, existing: &[u8], new: &[u8]) -> Result<(), Errno> {
    HOST.link(mount, existing, new)
}
pub fn fs_symlink(mount: u32, path: &[u8], target: &[u8]) -> Result<(), Errno> {
    HOST.symlink(mount, path, target)
}
pub fn fs_truncate(mount: u32, path: &[u8], size: u64) -> Result<(), Errno> {
    HOST.truncate(mount, path, size)
}
pub fn fs_utimens(mount: u32, path: &[u8], times: &[Timespec; 2]) -> Result<(), Errno> {
    HOST.utimens(mount, path, times)
}
pub fn fs_chmod(mount: u32, path: &[u8], mode: u32) -> Result<(), Errno> {
    HOST.chmod(mount, path, mode)
}
pub fn fs_statfs(mount: u32, path: &[u8]) -> Result<HostStatfs, Errno> {
    HOST.statfs(mount, path)
}
pub fn fs_fsync(mount: u32, path: &[u8], data_only: bool) -> Result<(), Errno> {
    HOST.fsync(mount, path, data_only)
}

// ------------------------------------------------------------ bind= words

/// One `bind=<id>,<ro|rw>,<guest path>` word: host directory `id` is
/// mounted at `guest_path` (absolute, no spaces), writable or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindMount<'a> {
    pub id: u32,
    pub writable: bool,
    pub guest_path: &'a [u8],
}

/// A `bind=` value that does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindError<'a> {
    pub value: &'a [u8],
}

/// Parses a `bind=` value: `0` or `[1-9][0-9]?` below `FS_MOUNTS_MAX`,
/// `ro` or `rw`, an absolute path (the same rule as
/// `parseBindValue` in fs-hypercalls.ts).
pub fn parse_bind(value: &[u8]) -> Result<BindMount<'_>, BindError<'_>> {
    let fail = BindError { value };
    let mut parts = value.splitn(3, |&c| c == b',');
    let (id, access, path) = match (parts.next(), parts.next(), parts.next()) {
        (Some(i), Some(a), Some(p)) => (i, a, p),
        _ => return Err(fail),
    };
    let id = match id {
        [d @ b'0'..=b'9'] => u32::from(d - b'0'),
        [a @ b'1'..=b'9', b @ b'0'..=b'9'] => u32::from(a - b'0') * 10 + u32::from(b - b'0'),
        _ => return Err(fail),
    };
    let writable = match access {
        b"ro" => false,
        b"rw" => true,
        _ => return Err(fail),
    };
    if id >= FS_MOUNTS_MAX || path.first() != Some(&b'/') {
        return Err(fail);
    }
    Ok(BindMount {
        id,
        writable,
        guest_path: path,
    })
}

/// Every `bind=` word of `cmdline`, in order (the host numbers them from
/// 0); a bare `bind` word is an error too. Split as `Cmdline::words` does.
pub fn binds<'a>(
    cmdline: &Cmdline<'a>,
) -> impl Iterator<Item = Result<BindMount<'a>, BindError<'a>>> + 'a {
    let bytes: &'a [u8] = cmdline.as_bytes();
    bytes
        .split(|&c| c == b' ')
        .filter_map(|w| match w.strip_prefix(b"bind") {
            Some([]) => Some(parse_bind(b"")),
            Some([b'=', value @ ..]) => Some(parse_bind(value)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::vec::Vec;

    #[test]
    fn relative_paths() {
        for ok in [
            &b""[..],
            b"a",
            b"usr/lib/libc.so.6",
            b"...",
            b".x/..y",
            &[0xff, 0xfe],
        ] {
            assert_eq!(check_relative_path(ok), Ok(()), "{ok:?}");
        }
        for bad in [
            &b"/"[..],
            b"/etc",
            b"a/",
            b"a//b",
            b".",
            b"..",
            b"a/./b",
            b"a/../b",
            b"a\0b",
        ] {
            assert_eq!(check_relative_path(bad), Err(Errno::EINVAL), "{bad:?}");
        }
        assert_eq!(check_relative_path(&[b'n'; 255]), Ok(()));
        assert_eq!(check_relative_path(&[b'n'; 256]), Err(Errno::ENAMETOOLONG));
        let long: Vec<u8> = b"a/".repeat(2048).into_iter().chain([b'a']).collect();
        assert_eq!(long.len(), 4097);
        assert_eq!(check_relative_path(&long), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn bind_words() {
        let c = Cmdline::new(b"init=/bin/sh bind=0,ro,/usr cwd=/ bind=1,rw,/out,x bind=63,ro,/ bind=64,ro,/x bind=1,rx,/y bind=2,ro,rel bind=01,ro,/z bind");
        let got: Vec<_> = binds(&c).collect();
        assert_eq!(
            got[..3],
            [
                Ok(BindMount {
                    id: 0,
                    writable: false,
                    guest_path: b"/usr"
                }),
                Ok(BindMount {
                    id: 1,
                    writable: true,
                    guest_path: b"/out,x"
                }),
                Ok(BindMount {
                    id: 63,
                    writable: false,
                    guest_path: b"/"
                }),
            ]
        );
        assert_eq!(got.len(), 8);
        assert!(got[3..].iter().all(|r| r.is_err()), "{got:?}");
        assert_eq!(binds(&Cmdline::new(b"init=/x")).count(), 0);
    }

    #[test]
    fn dirent_records() {
        // Two records as the host packs them: ino 7 "a.txt" (32 bytes), ino 9 "d" (24).
        let mut b = std::vec![0u8; 56];
        b[0] = 7;
        b[8] = 100;
        b[16] = 32;
        b[18] = 8;
        b[19..24].copy_from_slice(b"a.txt");
        b[32] = 9;
        b[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
        b[48] = 24;
        b[50] = 4;
        b[51] = b'd';
        let got: Vec<_> = dirents(&b).collect();
        assert_eq!(
            got,
            [
                Ok(Dirent {
                    ino: 7,
                    next: 100,
                    kind: 8,
                    name: b"a.txt"
                }),
                Ok(Dirent {
                    ino: 9,
                    next: u64::MAX,
                    kind: 4,
                    name: b"d"
                }),
            ]
        );
        // Cut off, a zero reclen, a name without its NUL: EIO, then the walk ends.
        assert_eq!(dirents(&b[..40]).collect::<Vec<_>>()[1], Err(Errno::EIO));
        let mut zero = b.clone();
        zero[16] = 0;
        assert_eq!(dirents(&zero).collect::<Vec<_>>(), [Err(Errno::EIO)]);
        assert_eq!(dirents(&[]).count(), 0);
    }

    /// A fake host: "physical" addresses are the test's pointers; it
    /// records each request (with its paths) and answers from `answer`.
    struct Fake {
        log: RefCell<Vec<(FsRequest, Vec<u8>, Vec<u8>)>>,
        answer: fn(&FsRequest) -> i64,
    }

    impl Transport for Fake {
        fn phys(&self, bytes: *const u8) -> u64 {
            bytes as u64
        }
        fn send(&self, req: &mut FsRequest) {
            // What the host checks first: the request decodes.
            FsRequest::decode(&req.encode()).expect("the client sent a request the host refuses");
            // SAFETY: the addresses are the test's own live pointers.
            let bytes = |addr: u64, len: u32| {
                unsafe { std::slice::from_raw_parts(addr as *const u8, len as usize) }.to_vec()
            };
            let path = if req.path_len == 0 {
                Vec::new()
            } else {
                bytes(req.path_addr, req.path_len)
            };
            let path2 = if req.path2_len == 0 {
                Vec::new()
            } else {
                bytes(req.path2_addr, req.path2_len)
            };
            req.result = (self.answer)(req);
            if req.op == op::LSTAT && req.result == 0 {
                let st = HostStat {
                    ino: 42,
                    mode: 0o100644,
                    size: 5,
                    mtime_nsec: 7,
                    ..HostStat::default()
                };
                // SAFETY: buf is the client's HostStat, FS_STAT_SIZE bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        st.encode().as_ptr(),
                        req.buf_addr as *mut u8,
                        FS_STAT_SIZE,
                    )
                };
            }
            self.log.borrow_mut().push((*req, path, path2));
        }
    }

    fn fake(answer: fn(&FsRequest) -> i64) -> Client<Fake> {
        Client(Fake {
            log: RefCell::new(Vec::new()),
            answer,
        })
    }

    #[test]
    fn the_client_sends_what_the_host_accepts_and_maps_results() {
        let c = fake(|r| match r.op {
            op::READ => 3,
            op::UNLINK => -2,
            op::WRITE => r.buf_len as i64,
            _ => 0,
        });
        let st = c.lstat(1, b"sub/file").unwrap();
        assert_eq!(
            (st.ino, st.mode, st.size, st.mtime_nsec),
            (42, 0o100644, 5, 7)
        );
        assert_eq!(c.read(1, b"f", 10, 0x5000, 64), Ok(3));
        assert_eq!(c.unlink(0, b"gone"), Err(Errno::ENOENT));
        assert_eq!(
            c.write(2, b"log", WriteAt::Append, 0x6000, 2 * FS_DATA_MAX),
            Ok(FS_DATA_MAX as usize),
            "capped at FS_DATA_MAX"
        );
        c.rename(0, b"a", b"d/b").unwrap();
        c.symlink(0, b"l", b"../../etc/passwd").unwrap();
        c.create(0, b"n", 0o100644, true, true).unwrap();
        c.utimens(
            0,
            b"n",
            &[
                Timespec {
                    sec: 1,
                    nsec: UTIME_NOW,
                },
                Timespec {
                    sec: 0,
                    nsec: UTIME_OMIT,
                },
            ],
        )
        .unwrap();
        c.statfs(3, b"").unwrap();
        c.fsync(0, b"n", true).unwrap();
        let log = c.0.log.borrow();
        assert_eq!(log[0].1, b"sub/file");
        assert_eq!(
            (log[0].0.op, log[0].0.mount, log[0].0.buf_len),
            (op::LSTAT, 1, FS_STAT_SIZE as u64)
        );
        assert_eq!(
            (log[1].0.offset, log[1].0.buf_addr, log[1].0.buf_len),
            (10, 0x5000, 64)
        );
        assert_eq!((log[3].0.flags, log[3].0.offset), (FS_WRITE_APPEND, 0));
        assert_eq!(
            (log[4].1.as_slice(), log[4].2.as_slice()),
            (&b"a"[..], &b"d/b"[..])
        );
        assert_eq!(
            log[5].2, b"../../etc/passwd",
            "a symlink target is sent as given"
        );
        assert_eq!(
            (log[6].0.mode, log[6].0.flags),
            (0o644, FS_CREATE_EXCL | FS_CREATE_TRUNC),
            "mode: permission bits only"
        );
        assert_eq!(
            log[8].0.path_len, 0,
            "the root of a mount is the empty path"
        );
        assert_eq!(log[9].0.flags, FS_FSYNC_DATA);
    }

    #[test]
    fn read_to_goes_through_the_bounce_buffer_in_pieces_and_write_from_in_data_max_pieces() {
        // A fake host serving a 10-byte file: it writes only into the bounce buffer.
        let c = fake(|r| match r.op {
            op::READ => {
                let file = b"0123456789";
                let start = (r.offset as usize).min(file.len());
                let n = (r.buf_len as usize).min(file.len() - start);
                // SAFETY: buf is the test's bounce buffer, buf_len bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(file[start..].as_ptr(), r.buf_addr as *mut u8, n)
                };
                n as i64
            }
            op::WRITE => r.buf_len.min(FS_DATA_MAX - 1) as i64,
            _ => 0,
        });
        let mut bounce = [0u8; 4];
        let mut dst = [0u8; 16];
        assert_eq!(c.read_to(&mut bounce, 0, b"f", 1, &mut dst), Ok(9));
        assert_eq!(&dst[..9], b"123456789");
        {
            let log = c.0.log.borrow();
            assert_eq!(log.len(), 3, "4 + 4 + 1 bytes: three requests");
            assert!(
                log.iter()
                    .all(|(r, _, _)| r.buf_addr == bounce.as_ptr() as u64),
                "the host writes only the bounce buffer"
            );
            assert_eq!(
                log.iter().map(|(r, _, _)| r.offset).collect::<Vec<_>>(),
                [1, 5, 9]
            );
        }
        let src = std::vec![7u8; 3 * FS_DATA_MAX as usize];
        // The host writes one byte less than asked: a short write ends the loop.
        assert_eq!(
            c.write_from(0, b"f", WriteAt::Offset(100), &src),
            Ok(FS_DATA_MAX as usize - 1)
        );
        let log = c.0.log.borrow();
        let w = log.last().unwrap().0;
        assert_eq!(
            (w.op, w.offset, w.buf_len, w.buf_addr),
            (op::WRITE, 100, FS_DATA_MAX, src.as_ptr() as u64)
        );
    }

    #[test]
    fn the_client_refuses_locally_what_the_host_would_stop_the_guest_for() {
        let c = fake(|_| panic!("must not reach the host"));
        assert_eq!(
            c.read(0, b"a/../b", 0, 0x1000, 1).unwrap_err(),
            Errno::EINVAL
        );
        assert_eq!(c.lstat(0, b"/abs").unwrap_err(), Errno::EINVAL);
        assert_eq!(c.rename(0, b"a", b"../b"), Err(Errno::EINVAL));
        assert_eq!(c.mkdir(64, b"d", 0o755), Err(Errno::ENODEV));
        assert_eq!(c.symlink(0, b"l", b""), Err(Errno::ENOENT));
        assert_eq!(c.symlink(0, b"l", b"a\0"), Err(Errno::EINVAL));
        assert_eq!(c.readdir(0, b"", 0, 0x1000, 0), Err(Errno::EINVAL));
        assert_eq!(c.read(0, b"f", 0, 0x1000, 0), Ok(0));
        assert_eq!(
            c.write(0, b"f", WriteAt::Offset(1 << 63), 0x1000, 1),
            Err(Errno::EFBIG)
        );
        assert_eq!(c.truncate(0, b"f", 1 << 63), Err(Errno::EINVAL));
        assert!(c.0.log.borrow().is_empty());
    }
}
