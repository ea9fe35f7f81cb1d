//! `struct stat` (x86-64, 144 bytes) and `struct statx` (256 bytes) as
//! Linux fills them, for the nodes of the tree. Sizes and blocks follow
//! tmpfs (Linux's initramfs): a file takes whole 4 KiB pages, a
//! directory's size is 20 bytes an entry plus 40.

use super::{makedev, Kind, NodeId, Vfs};
use crate::vfs::initramfs::S_IFDIR;
use crate::syscall::user_ptr::Pod;

/// `st_dev` of the root file system's nodes (others: `Mount::dev`).
pub const DEV: u64 = makedev(0, 1);
pub const BLOCK_SIZE: i64 = 4096;

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub pad0: u32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    pub st_blocks: i64,
    pub st_atime: i64,
    pub st_atime_nsec: i64,
    pub st_mtime: i64,
    pub st_mtime_nsec: i64,
    pub st_ctime: i64,
    pub st_ctime_nsec: i64,
    pub unused: [i64; 3],
}

const _: () = assert!(core::mem::size_of::<Stat>() == 144);

// SAFETY: integers only, no padding (pad0 is explicit): any bytes are valid.
unsafe impl Pod for Stat {}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatxTimestamp {
    pub tv_sec: i64,
    pub tv_nsec: u32,
    pub reserved: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Statx {
    pub stx_mask: u32,
    pub stx_blksize: u32,
    pub stx_attributes: u64,
    pub stx_nlink: u32,
    pub stx_uid: u32,
    pub stx_gid: u32,
    pub stx_mode: u16,
    pub spare0: u16,
    pub stx_ino: u64,
    pub stx_size: u64,
    pub stx_blocks: u64,
    pub stx_attributes_mask: u64,
    pub stx_atime: StatxTimestamp,
    pub stx_btime: StatxTimestamp,
    pub stx_ctime: StatxTimestamp,
    pub stx_mtime: StatxTimestamp,
    pub stx_rdev_major: u32,
    pub stx_rdev_minor: u32,
    pub stx_dev_major: u32,
    pub stx_dev_minor: u32,
    pub stx_mnt_id: u64,
    pub stx_dio_mem_align: u32,
    pub stx_dio_offset_align: u32,
    pub spare3: [u64; 12],
}

const _: () = assert!(core::mem::size_of::<Statx>() == 256);

// SAFETY: integers only, no implicit padding: any bytes are valid.
unsafe impl Pod for Statx {}

/// `STATX_BASIC_STATS`: what `to_statx` fills in.
pub const STATX_BASIC_STATS: u32 = 0x7ff;

impl Stat {
    /// The same facts as a `statx` (the basic stats).
    pub fn to_statx(&self) -> Statx {
        let ts = |sec: i64, nsec: i64| StatxTimestamp {
            tv_sec: sec,
            tv_nsec: nsec as u32,
            reserved: 0,
        };
        let dev = |d: u64| {
            (
                (((d >> 32) & 0xffff_f000) | ((d >> 8) & 0xfff)) as u32,
                (((d >> 12) & 0xffff_ff00) | (d & 0xff)) as u32,
            )
        };
        let (rdev_major, rdev_minor) = dev(self.st_rdev);
        let (dev_major, dev_minor) = dev(self.st_dev);
        Statx {
            stx_mask: STATX_BASIC_STATS,
            stx_blksize: self.st_blksize as u32,
            stx_nlink: self.st_nlink as u32,
            stx_uid: self.st_uid,
            stx_gid: self.st_gid,
            stx_mode: self.st_mode as u16,
            stx_ino: self.st_ino,
            stx_size: self.st_size as u64,
            stx_blocks: self.st_blocks as u64,
            stx_atime: ts(self.st_atime, self.st_atime_nsec),
            stx_ctime: ts(self.st_ctime, self.st_ctime_nsec),
            stx_mtime: ts(self.st_mtime, self.st_mtime_nsec),
            stx_rdev_major: rdev_major,
            stx_rdev_minor: rdev_minor,
            stx_dev_major: dev_major,
            stx_dev_minor: dev_minor,
            ..Statx::default()
        }
    }
}

impl Vfs<'_> {
    /// What `stat` reports for `id`.
    pub fn stat(&self, id: NodeId) -> Stat {
        let n = self.node(id);
        if let Some(st) = self.host.get(&id).and_then(|h| h.stat) {
            // A host node: the host's numbers (its device and inode, so
            // `find` and `ls -i` see what they see natively), with the
            // attributes and size as this guest last set them.
            return Stat {
                st_dev: st.dev,
                st_ino: self.ino(id),
                st_nlink: st.nlink as u64,
                st_mode: n.mode,
                st_uid: n.uid,
                st_gid: n.gid,
                st_rdev: st.rdev,
                st_size: self.host_size(id).unwrap_or(0) as i64,
                st_blksize: st.blksize as i64,
                st_blocks: st.blocks,
                st_atime: n.times.atime.sec,
                st_atime_nsec: n.times.atime.nsec as i64,
                st_mtime: n.times.mtime.sec,
                st_mtime_nsec: n.times.mtime.nsec as i64,
                st_ctime: n.times.ctime.sec,
                st_ctime_nsec: n.times.ctime.nsec as i64,
                ..Stat::default()
            };
        }
        let (mut mode, mut uid, mut gid, mut times) = (n.mode, n.uid, n.gid, n.times);
        let (size, blocks, nlink, rdev) = match &n.kind {
            Kind::Dir(children) => {
                let subdirs = children
                    .iter()
                    .filter(|&&c| self.node(c).mode & 0o170000 == S_IFDIR)
                    .count();
                (40 + 20 * children.len() as i64, 0, 2 + subdirs as u64, 0)
            }
            Kind::File { data, .. } => {
                let size = data.len() as i64;
                (size, (size + BLOCK_SIZE - 1) / BLOCK_SIZE * 8, 1, 0)
            }
            Kind::Mem(h) => match h.get() {
                Some(inode) => {
                    let i = inode.borrow();
                    (mode, uid, gid, times) = (i.mode, i.uid, i.gid, i.times);
                    let size = i.data.len() as i64;
                    // Pages it has, holes not (a symlink's target is not
                    // counted: tmpfs keeps short ones in the inode).
                    let blocks = if n.is_symlink() {
                        0
                    } else {
                        (i.data.allocated() / 512) as i64
                    };
                    (size, blocks, i.nlink as u64, 0)
                }
                None => (0, 0, 0, 0),
            },
            Kind::Symlink(target) => (target.len() as i64, 0, 1, 0),
            // Linux's size for the links of /proc/self/fd.
            Kind::Proc(_) if n.is_symlink() => (64, 0, 1, 0),
            Kind::SelfExe => {
                (self.link_target(id).map_or(0, |t| t.len()) as i64, 0, 1, 0)
            }
            Kind::Proc(_) => (0, 0, 1, 0),
            Kind::Device(d) => {
                let (major, minor) = d.numbers();
                (0, 0, 1, makedev(major, minor))
            }
            Kind::Special | Kind::Host => (0, 0, 1, 0),
        };
        Stat {
            st_dev: self.mount_of(id).dev,
            st_ino: self.ino(id),
            st_nlink: nlink,
            st_mode: mode,
            st_uid: uid,
            st_gid: gid,
            st_rdev: rdev,
            st_size: size,
            st_blksize: BLOCK_SIZE,
            st_blocks: blocks,
            st_atime: times.atime.sec,
            st_atime_nsec: times.atime.nsec as i64,
            st_mtime: times.mtime.sec,
            st_mtime_nsec: times.mtime.nsec as i64,
            st_ctime: times.ctime.sec,
            st_ctime_nsec: times.ctime.nsec as i64,
            ..Stat::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::initramfs::{S_IFCHR, S_IFLNK, S_IFREG};
    use crate::vfs::{tests::sample, ROOT};

    #[test]
    fn stats_like_tmpfs() {
        let bytes = sample();
        let mut vfs = Vfs::new(&bytes, 0, 7).unwrap();
        let mut st = |p: &[u8]| {
            let n = vfs.lookup(ROOT, p, false).unwrap();
            vfs.stat(n)
        };
        let passwd = st(b"/etc/passwd");
        assert_eq!(passwd.st_mode, S_IFREG | 0o644);
        assert_eq!(passwd.st_size, 22);
        assert_eq!(passwd.st_blocks, 8);
        assert_eq!(passwd.st_blksize, 4096);
        assert_eq!(passwd.st_nlink, 1);
        assert_eq!(passwd.st_mtime, 1_700_000_000);
        let data = st(b"/data");
        assert_eq!(data.st_mode & 0o170000, S_IFDIR);
        assert_eq!(data.st_nlink, 3, "one subdirectory");
        assert_eq!(data.st_size, 40 + 20 * 6);
        let up = st(b"/data/up");
        assert_eq!((up.st_mode, up.st_size), (S_IFLNK | 0o777, 6));
        let null = st(b"/dev/null");
        assert_eq!((null.st_mode, null.st_rdev), (S_IFCHR | 0o666, 0x103));
        assert_eq!(null.st_mtime, 7);
        assert_ne!(st(b"/etc").st_ino, st(b"/").st_ino);
        let x = passwd.to_statx();
        assert_eq!(x.stx_mode as u32, S_IFREG | 0o644);
        assert_eq!((x.stx_size, x.stx_blocks), (22, 8));
        assert_eq!(x.stx_mtime.tv_sec, 1_700_000_000);
        assert_eq!(
            (
                null.to_statx().stx_rdev_major,
                null.to_statx().stx_rdev_minor
            ),
            (1, 3)
        );
        assert_eq!((x.stx_dev_major, x.stx_dev_minor), (0, 1));
    }
}
