//! `getdents64` records (`struct linux_dirent64`): `u64 d_ino`, `i64
//! d_off` (the position of the next entry: what `lseek` takes), `u16
//! d_reclen`, `u8 d_type`, the NUL-terminated name, padded to 8 bytes.
//!
//! A directory's positions: 0 is `.`, 1 is `..`, `2 + s` the first
//! child whose sequence number (`Node::seq`, increasing in a directory's
//! list) is at least `s`. So a position stays valid while entries are
//! added and removed: a reader that deletes what it read (`rm -r`)
//! misses nothing, and an entry added meanwhile comes at the end.

use super::{NodeId, Vfs};

pub const DT_UNKNOWN: u8 = 0;
pub const DT_DIR: u8 = 4;
pub const DT_REG: u8 = 8;
pub const DT_LNK: u8 = 10;
pub const DT_CHR: u8 = 2;

/// Offset of `d_name` in a record.
pub const NAME_OFFSET: usize = 19;

/// `d_type` from an `st_mode` (Linux's `S_DT`).
pub const fn dtype(mode: u32) -> u8 {
    ((mode >> 12) & 15) as u8
}

/// The length of the record for a name of `name_len` bytes.
pub const fn reclen(name_len: usize) -> usize {
    (NAME_OFFSET + name_len + 1 + 7) & !7
}

/// One entry as `getdents64` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntry<'n> {
    pub ino: u64,
    pub dtype: u8,
    pub name: &'n [u8],
}

/// Writes the records of positions `pos..` that fit into `buf`; returns
/// the bytes written and the next position. `entry(p)` is the entry at
/// position `p` and the position after it, `None` past the end.
pub fn pack<'n>(
    buf: &mut [u8],
    mut pos: u64,
    entry: impl Fn(u64) -> Option<(DirEntry<'n>, u64)>,
) -> (usize, u64) {
    let mut used = 0;
    while let Some((e, next)) = entry(pos) {
        let len = reclen(e.name.len());
        if used + len > buf.len() {
            break;
        }
        let r = &mut buf[used..used + len];
        r[0..8].copy_from_slice(&e.ino.to_le_bytes());
        r[8..16].copy_from_slice(&next.to_le_bytes());
        r[16..18].copy_from_slice(&(len as u16).to_le_bytes());
        r[18] = e.dtype;
        r[NAME_OFFSET..NAME_OFFSET + e.name.len()].copy_from_slice(e.name);
        // The NUL and the padding.
        r[NAME_OFFSET + e.name.len()..].fill(0);
        used += len;
        pos = next;
    }
    (used, pos)
}

impl Vfs<'_> {
    /// Position `pos` of directory `dir` (see the module comment).
    /// The entry at position `pos` of directory `dir` (see the module
    /// comment; call `ensure_loaded` first) and the position after it.
    pub fn dir_entry(&self, dir: NodeId, pos: u64) -> Option<(DirEntry<'_>, u64)> {
        let n = self.node(dir);
        match pos {
            0 => Some((
                DirEntry {
                    ino: self.ino(dir),
                    dtype: DT_DIR,
                    name: b".",
                },
                1,
            )),
            1 => Some((
                DirEntry {
                    ino: self.ino(n.parent),
                    dtype: DT_DIR,
                    name: b"..",
                },
                2,
            )),
            _ => {
                let children = self.children(dir);
                let seq = pos - 2;
                let i = children.partition_point(|&c| self.node(c).seq < seq);
                let &child = children.get(i)?;
                let c = self.node(child);
                Some((
                    DirEntry {
                        ino: self.ino(child),
                        dtype: dtype(c.mode),
                        name: &c.name,
                    },
                    c.seq.saturating_add(3),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::{tests::sample, ROOT};

    #[test]
    fn record_lengths() {
        assert_eq!(reclen(1), 24);
        assert_eq!(reclen(4), 24);
        assert_eq!(reclen(5), 32);
        assert_eq!(reclen(12), 32);
        assert_eq!(reclen(13), 40);
        assert_eq!(dtype(0o040755), DT_DIR);
        assert_eq!(dtype(0o100644), DT_REG);
        assert_eq!(dtype(0o120777), DT_LNK);
        assert_eq!(dtype(0o020666), DT_CHR);
    }

    /// Parses records the way glibc's readdir does.
    fn parse(buf: &[u8]) -> Vec<(u64, i64, u8, Vec<u8>)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < buf.len() {
            let r = &buf[at..];
            let reclen = u16::from_le_bytes([r[16], r[17]]) as usize;
            assert_eq!(reclen % 8, 0);
            let name = &r[NAME_OFFSET..reclen];
            let nul = name.iter().position(|&b| b == 0).unwrap();
            out.push((
                u64::from_le_bytes(r[0..8].try_into().unwrap()),
                i64::from_le_bytes(r[8..16].try_into().unwrap()),
                r[18],
                name[..nul].to_vec(),
            ));
            at += reclen;
        }
        out
    }

    #[test]
    fn packs_whole_records_and_resumes() {
        let bytes = sample();
        let mut vfs = Vfs::new(&bytes, 0, 0).unwrap();
        let data = vfs.lookup(ROOT, b"/data", true).unwrap();
        assert_eq!(vfs.children(data).len(), 6);
        let mut buf = [0xffu8; 80];
        let (n, next) = pack(&mut buf, 0, |p| vfs.dir_entry(data, p));
        // ".", ".." (24 each) and "a.txt" (32): 80 bytes exactly.
        let a_txt = vfs.child(data, b"a.txt").unwrap();
        assert_eq!((n, next), (80, vfs.node(a_txt).seq + 3));
        let recs = parse(&buf[..n]);
        assert_eq!(recs[0], (vfs.ino(data), 1, DT_DIR, b".".to_vec()));
        assert_eq!(recs[1], (1, 2, DT_DIR, b"..".to_vec()));
        assert_eq!(recs[2].1 as u64, next);
        assert_eq!(recs[2].2, DT_REG);
        assert_eq!(recs[2].3, b"a.txt");
        let mut rest = [0u8; 1024];
        let (n, end) = pack(&mut rest, next, |p| vfs.dir_entry(data, p));
        let names: Vec<_> = parse(&rest[..n]).into_iter().map(|r| (r.2, r.3)).collect();
        assert_eq!(
            names,
            [
                (DT_DIR, b"sub".to_vec()),
                (DT_LNK, b"loop".to_vec()),
                (DT_LNK, b"up".to_vec()),
                (DT_LNK, b"abs".to_vec()),
                (DT_LNK, b"dangling".to_vec())
            ]
        );
        assert_eq!(pack(&mut rest, end, |p| vfs.dir_entry(data, p)), (0, end));
        let mut tiny = [0u8; 23];
        assert_eq!(pack(&mut tiny, 0, |p| vfs.dir_entry(data, p)), (0, 0));
    }
}
