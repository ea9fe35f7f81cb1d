//! The initramfs: a cpio archive in the "newc" format (`cpio -H newc`,
//! the one Linux's initramfs uses), left by the host at
//! `BootInfo.initramfsAddr`. Only headers are parsed: file data stays
//! where it is and is referred to by offset (the VFS hands it to the copy
//! hypercall), never copied in ring 0.
//!
//! An entry: a 110-byte ASCII header (`070701` or `070702`, then 13
//! eight-digit hex fields), the NUL-terminated name, padding to 4 bytes,
//! the data, padding to 4 bytes. `TRAILER!!!` ends an archive; as in
//! Linux, zero padding and further archives may follow.

use core::fmt;

pub const HEADER_SIZE: usize = 110;
const TRAILER: &[u8] = b"TRAILER!!!";

/// File type bits of `mode` (as in `st_mode`).
pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_IFSOCK: u32 = 0o140000;

/// One archive member. `name` is as stored (e.g. `bin/sh` or `./bin/sh`);
/// `data` borrows the archive; `data_offset` is where it starts in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    pub name: &'a [u8],
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub data: &'a [u8],
    pub data_offset: usize,
}

/// Why an archive is unreadable, and at which byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpioError {
    pub offset: usize,
    pub what: &'static str,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "initramfs: {} at byte {}", self.what, self.offset)
    }
}

/// The members of an archive, in order (trailers and padding skipped).
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            done: false,
        }
    }

    fn fail(&mut self, what: &'static str) -> Option<Result<Entry<'a>, CpioError>> {
        self.done = true;
        Some(Err(CpioError {
            offset: self.pos,
            what,
        }))
    }
}

/// Eight ASCII hex digits (either case), all at once: ~25 instructions
/// instead of ~70 for a byte loop (ring-0 instructions cost ~1 us here).
pub fn hex8(b: &[u8]) -> Option<u32> {
    const NIBBLE: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    const BIT6: u64 = 0x4040_4040_4040_4040;
    let w = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
    // Letters have bit 6 set: their value is the low nibble + 9.
    let letter = (w & BIT6) >> 6;
    let v = (w & NIBBLE) + letter * 9;
    // Valid iff each byte is exactly the digit its value spells: '0'-'9'
    // for 0-9, 'a'-'f' for 10-15 (letters compared in lower case).
    let over9 = ((v + 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010) >> 4;
    let canonical = v + 0x3030_3030_3030_3030 + over9 * 0x27;
    if canonical != w | (letter << 5) || v & !NIBBLE != 0 {
        return None;
    }
    let v = (v | (v >> 4)) & 0x00ff_00ff_00ff_00ff;
    let v = (v | (v >> 8)) & 0x0000_ffff_0000_ffff;
    Some(((v | (v >> 16)) & 0xffff_ffff) as u32)
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Entry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            // Padding between archives: NUL bytes, in whole words.
            while self.pos + 4 <= self.bytes.len() && self.bytes[self.pos..self.pos + 4] == [0; 4] {
                self.pos += 4;
            }
            let rest = &self.bytes[self.pos.min(self.bytes.len())..];
            // (After the word loop at most 3 bytes can be all-zero padding.)
            if rest.len() < 4 && rest.iter().all(|&b| b == 0) {
                self.done = true;
                return None;
            }
            if rest.len() < HEADER_SIZE {
                return self.fail("truncated header");
            }
            if &rest[..5] != b"07070" || !(rest[5] == b'1' || rest[5] == b'2') {
                return self.fail("not a cpio newc header (magic 070701)");
            }
            // Most fields are zero in practice (uid, gid, devices): one
            // compare instead of a parse.
            let field = |i: usize| {
                let f = &rest[6 + 8 * i..6 + 8 * i + 8];
                if f == b"00000000" {
                    Some(0)
                } else {
                    hex8(f)
                }
            };
            let fields = (
                field(1),
                field(2),
                field(3),
                field(4),
                field(5),
                field(6),
                field(9),
                field(10),
                field(11),
            );
            let (
                Some(mode),
                Some(uid),
                Some(gid),
                Some(nlink),
                Some(mtime),
                Some(filesize),
                Some(rdev_major),
                Some(rdev_minor),
                Some(namesize),
            ) = fields
            else {
                return self.fail("header field is not hex");
            };
            let name_start = self.pos + HEADER_SIZE;
            let namesize = namesize as usize;
            let Some(name_end) = name_start.checked_add(namesize) else {
                return self.fail("name size overflows");
            };
            if namesize == 0 || name_end > self.bytes.len() {
                return self.fail("name runs past the end");
            }
            if self.bytes[name_end - 1] != 0 {
                return self.fail("name is not NUL-terminated");
            }
            let name = &self.bytes[name_start..name_end - 1];
            let data_start = align4(name_end);
            let Some(data_end) = data_start.checked_add(filesize as usize) else {
                return self.fail("file size overflows");
            };
            if data_end > self.bytes.len() {
                return self.fail("file data runs past the end");
            }
            self.pos = align4(data_end);
            if name == TRAILER {
                continue;
            }
            return Some(Ok(Entry {
                name,
                mode,
                uid,
                gid,
                nlink,
                mtime,
                rdev_major,
                rdev_minor,
                data: &self.bytes[data_start..data_end],
                data_offset: data_start,
            }));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    /// Builds a newc archive with GNU cpio from a directory tree made by
    /// `populate`; panics, naming the Debian package, if `cpio` fails.
    pub(crate) fn gnu_cpio(name: &str, populate: impl FnOnce(&Path)) -> Vec<u8> {
        let dir = std::env::temp_dir().join(format!("kvmos-cpio-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        populate(&dir);
        let out = Command::new("sh")
            .arg("-c")
            .arg("find . | LC_ALL=C sort | cpio --quiet -o -H newc")
            .current_dir(&dir)
            .output();
        let _ = std::fs::remove_dir_all(&dir);
        let needs = "this test reads an archive made by GNU cpio: install the Debian package cpio (scripts/setup.sh does)";
        let o = out.unwrap_or_else(|e| panic!("cannot run sh: {e}"));
        assert!(
            o.status.success() && !o.stdout.is_empty(),
            "find | cpio -o -H newc failed ({}): {}\n{needs}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        o.stdout
    }

    /// A hand-made newc entry (the host's builder makes the same bytes).
    pub(crate) fn entry(name: &str, mode: u32, mtime: u32, data: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            1,
            mode,
            0,
            0,
            1,
            mtime,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        )
        .into_bytes();
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    pub(crate) fn archive(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, mode, data) in entries {
            out.extend(entry(name, *mode, 1_700_000_000, data));
        }
        out.extend(entry("TRAILER!!!", 0, 0, b""));
        out
    }

    #[test]
    fn reads_a_gnu_cpio_archive() {
        let bytes = gnu_cpio("read", |d| {
            std::fs::create_dir(d.join("bin")).unwrap();
            std::fs::write(d.join("bin/hello"), b"hello, world\n").unwrap();
            std::fs::write(d.join("empty"), b"").unwrap();
            std::os::unix::fs::symlink("bin/hello", d.join("link")).unwrap();
        });
        let entries: Vec<_> = Reader::new(&bytes).map(|e| e.unwrap()).collect();
        let names: Vec<_> = entries
            .iter()
            .map(|e| std::str::from_utf8(e.name).unwrap())
            .collect();
        assert_eq!(names, [".", "bin", "bin/hello", "empty", "link"]);
        let hello = entries[2];
        assert_eq!(hello.mode & S_IFMT, S_IFREG);
        assert_eq!(hello.data, b"hello, world\n");
        assert_eq!(
            &bytes[hello.data_offset..hello.data_offset + 13],
            b"hello, world\n"
        );
        assert_eq!(hello.data_offset % 4, 0);
        assert_eq!(entries[1].mode & S_IFMT, S_IFDIR);
        assert_eq!(entries[3].data, b"");
        assert_eq!(entries[4].mode & S_IFMT, S_IFLNK);
        assert_eq!(entries[4].data, b"bin/hello");
        assert!(hello.mtime > 1_600_000_000);
    }

    #[test]
    fn hex_fields() {
        assert_eq!(hex8(b"00000000"), Some(0));
        assert_eq!(hex8(b"000081a4"), Some(0o100644));
        assert_eq!(hex8(b"DEADbeef"), Some(0xdead_beef));
        assert_eq!(hex8(b"ffffffff"), Some(u32::MAX));
        assert_eq!(hex8(b"12345678"), Some(0x1234_5678));
        for bad in [
            &b"0000000g"[..],
            b"0000000G",
            b"/0000000",
            b":0000000",
            b"@0000000",
            b"`0000000",
            b"0000 000",
            b"0000000\0",
            b"0000000q",
            b"0000000Q",
            b"0000000P",
            b"0000000\x99",
        ] {
            assert_eq!(hex8(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        // Every byte value in every position agrees with a plain parser.
        for pos in 0..8 {
            for c in 0..=255u8 {
                let mut f = *b"00000000";
                f[pos] = c;
                let plain = std::str::from_utf8(&f)
                    .ok()
                    .and_then(|s| u32::from_str_radix(s, 16).ok())
                    .filter(|_| c.is_ascii_hexdigit());
                assert_eq!(hex8(&f), plain, "byte {c:#x} at {pos}");
            }
        }
        assert_eq!(hex8(b"1234567"), None, "short");
    }

    #[test]
    fn concatenated_archives_and_padding() {
        let mut bytes = archive(&[("a", S_IFREG | 0o644, b"1")]);
        bytes.extend([0u8; 512]);
        bytes.extend(archive(&[("b", S_IFREG | 0o644, b"22")]));
        bytes.extend([0u8; 3]);
        let names: Vec<_> = Reader::new(&bytes).map(|e| e.unwrap().name).collect();
        assert_eq!(names, [&b"a"[..], &b"b"[..]]);
        assert_eq!(Reader::new(&[]).count(), 0);
    }

    #[test]
    fn rejects_malformed_archives() {
        let good = archive(&[("file", S_IFREG | 0o644, b"data")]);
        let err = |b: &[u8]| Reader::new(b).find_map(|e| e.err()).map(|e| e.what);
        assert_eq!(err(&good), None);
        assert_eq!(err(&good[..50]), Some("truncated header"));
        assert_eq!(
            err(&good[..HEADER_SIZE + 3]),
            Some("name runs past the end")
        );
        assert_eq!(
            err(&good[..HEADER_SIZE + 8]),
            Some("file data runs past the end")
        );
        let mut bad = good.clone();
        bad[0] = b'1';
        assert_eq!(err(&bad), Some("not a cpio newc header (magic 070701)"));
        let mut bad = good.clone();
        bad[6 + 8] = b'g';
        assert_eq!(err(&bad), Some("header field is not hex"));
        let mut bad = good.clone();
        bad[HEADER_SIZE + 4] = b'x'; // the name's NUL
        assert_eq!(err(&bad), Some("name is not NUL-terminated"));
        let mut bad = good.clone();
        bad[6 + 8 * 6..6 + 8 * 7].copy_from_slice(b"ffffffff");
        assert_eq!(err(&bad), Some("file data runs past the end"));
        // An error ends the iteration.
        assert_eq!(Reader::new(&bad).count(), 1);
    }
}
