//! The shared protocol vectors (`packages/protocol/vectors/*.vec`, also
//! run by the TypeScript codecs): every valid case must encode to exactly
//! its `bytes` and decode back to its fields; every invalid case must be
//! rejected naming the same field.

use kernel::host::fs::{FsRequest, HostStat, HostStatfs};
use kernel::host::protocol::{BootInfo, ConsoleWrite, DecodeError, FaultReport, Segment, Tty};
use std::path::PathBuf;

#[derive(Debug, Default)]
struct Case {
    name: String,
    valid: bool,
    /// (field, value) in file order; `segment` lines appear as "segment".
    fields: Vec<(String, String)>,
    bytes: Vec<u8>,
    error: Option<String>,
    line: usize,
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn parse(src: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut cur: Option<Case> = None;
    for (i, line) in src.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match (word, cur.as_mut()) {
            ("case" | "invalid", None) => {
                cur = Some(Case {
                    name: rest.to_string(),
                    valid: word == "case",
                    line: i + 1,
                    ..Default::default()
                })
            }
            ("end", Some(_)) => cases.push(cur.take().unwrap()),
            ("bytes", Some(c)) => c.bytes = hex(rest),
            ("error", Some(c)) => c.error = Some(rest.to_string()),
            (_, Some(c)) => c.fields.push((word.to_string(), rest.to_string())),
            _ => panic!("line {}: unexpected {line:?}", i + 1),
        }
    }
    assert!(cur.is_none(), "unterminated case");
    cases
}

/// Decimal (optionally negative) or 0x-hex, as a u64 bit pattern.
fn int(s: &str) -> u64 {
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16).unwrap_or_else(|_| panic!("bad hex {s}"))
    } else if let Some(d) = s.strip_prefix('-') {
        (d.parse::<i64>().map(|v| v.wrapping_neg()).or_else(|_| {
            if d == "9223372036854775808" {
                Ok(i64::MIN)
            } else {
                Err(())
            }
        }))
        .unwrap_or_else(|_| panic!("bad number {s}")) as u64
    } else {
        s.parse().unwrap_or_else(|_| panic!("bad number {s}"))
    }
}

fn vectors_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../packages/protocol/vectors");
    assert!(
        dir.is_dir(),
        "{} is missing: the shared vectors live in this repo",
        dir.display()
    );
    dir
}

fn load(file: &str) -> Vec<Case> {
    let path = vectors_dir().join(file);
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases = parse(&src);
    assert!(cases.iter().any(|c| c.valid), "{file} has no valid case");
    cases
}

fn check_invalid<T: std::fmt::Debug>(c: &Case, result: Result<T, DecodeError>) {
    let want = c
        .error
        .as_deref()
        .unwrap_or_else(|| panic!("invalid {} has no error line", c.name));
    match result {
        Err(e) => assert_eq!(e.field, want, "invalid {} (line {})", c.name, c.line),
        Ok(v) => panic!("invalid {} (line {}) decoded as {v:?}", c.name, c.line),
    }
}

#[test]
fn boot_info() {
    let cases = load("boot_info.vec");
    for c in &cases {
        if !c.valid {
            check_invalid(c, BootInfo::decode(&c.bytes));
            continue;
        }
        let mut info = BootInfo::empty();
        for (field, value) in &c.fields {
            match field.as_str() {
                "magic" => info.magic = int(value) as u32,
                "version" => info.version = int(value) as u32,
                "ramSize" => info.ram_size = int(value),
                "freeMemoryStart" => info.free_memory_start = int(value),
                "initramfsAddr" => info.initramfs_addr = int(value),
                "initramfsSize" => info.initramfs_size = int(value),
                "cmdlineAddr" => info.cmdline_addr = int(value),
                "cmdlineSize" => info.cmdline_size = int(value),
                "framebufferAddr" => info.framebuffer_addr = int(value),
                "framebufferWidth" => info.framebuffer_width = int(value) as u32,
                "framebufferHeight" => info.framebuffer_height = int(value) as u32,
                "framebufferStride" => info.framebuffer_stride = int(value) as u32,
                "framebufferFormat" => info.framebuffer_format = int(value) as u32,
                "mailboxAddr" => info.mailbox_addr = int(value),
                "bootTimeNs" => info.boot_time_ns = int(value),
                "randomSeed" => {
                    info.random_seed = hex(value).try_into().expect("randomSeed is 32 bytes")
                }
                "flags" => info.flags = int(value),
                "argsAddr" => info.args_addr = int(value),
                "argsSize" => info.args_size = int(value),
                "ttyRows" => info.tty_rows = int(value) as u16,
                "ttyCols" => info.tty_cols = int(value) as u16,
                other => panic!("case {}: unknown BootInfo field {other}", c.name),
            }
        }
        assert_eq!(
            info.encode().as_slice(),
            c.bytes.as_slice(),
            "case {} (line {})",
            c.name,
            c.line
        );
        assert_eq!(
            BootInfo::decode(&c.bytes),
            Ok(info),
            "case {} decodes back",
            c.name
        );
    }
}

#[test]
fn console_write() {
    let cases = load("console_write.vec");
    for c in &cases {
        if !c.valid {
            check_invalid(c, ConsoleWrite::decode(&c.bytes));
            continue;
        }
        let (mut fd, mut result, mut count, mut segments) = (None, 0i64, None, Vec::new());
        for (field, value) in &c.fields {
            match field.as_str() {
                "fd" => fd = Some(int(value) as u32),
                "count" => count = Some(int(value) as usize),
                "result" => result = int(value) as i64,
                "segment" => {
                    let (addr, len) = value.split_once(' ').expect("segment <addr> <len>");
                    segments.push(Segment {
                        addr: int(addr),
                        len: int(len),
                    });
                }
                other => panic!("case {}: unknown ConsoleWrite field {other}", c.name),
            }
        }
        if let Some(n) = count {
            assert_eq!(n, segments.len(), "case {}: count vs segment lines", c.name);
        }
        let msg = ConsoleWrite::from_segments(fd.expect("fd"), result, &segments)
            .unwrap_or_else(|e| panic!("case {}: {e}", c.name));
        let mut out = vec![0u8; msg.encoded_len()];
        msg.encode(&mut out);
        assert_eq!(out, c.bytes, "case {} (line {})", c.name, c.line);
        let back =
            ConsoleWrite::decode(&c.bytes).unwrap_or_else(|e| panic!("case {}: {e}", c.name));
        assert_eq!(
            (back.fd, back.result, back.segments()),
            (msg.fd, result, segments.as_slice()),
            "case {}",
            c.name
        );
    }
}

#[test]
fn fault_report() {
    let cases = load("fault_report.vec");
    for c in &cases {
        if !c.valid {
            check_invalid(c, FaultReport::decode(&c.bytes));
            continue;
        }
        let mut r = FaultReport::default();
        for (field, value) in &c.fields {
            let v = int(value);
            match field.as_str() {
                "vector" => r.vector = v,
                "errorCode" => r.error_code = v,
                "rip" => r.rip = v,
                "cs" => r.cs = v,
                "rflags" => r.rflags = v,
                "rsp" => r.rsp = v,
                "ss" => r.ss = v,
                "cr2" => r.cr2 = v,
                "cr3" => r.cr3 = v,
                "messageAddr" => r.message_addr = v,
                "messageLen" => r.message_len = v,
                other => panic!("case {}: unknown FaultReport field {other}", c.name),
            }
        }
        assert_eq!(
            r.encode().as_slice(),
            c.bytes.as_slice(),
            "case {} (line {})",
            c.name,
            c.line
        );
        assert_eq!(
            FaultReport::decode(&c.bytes),
            Ok(r),
            "case {} decodes back",
            c.name
        );
    }
}

#[test]
fn tty() {
    let cases = load("tty.vec");
    for c in &cases {
        if !c.valid {
            check_invalid(c, Tty::decode(&c.bytes));
            continue;
        }
        let mut t = Tty::default();
        for (field, value) in &c.fields {
            match field.as_str() {
                "op" => t.op = int(value) as u32,
                "action" => t.action = int(value) as u32,
                "result" => t.result = int(value) as i64,
                "timeoutMs" => t.timeout_ms = int(value) as i64,
                "iflag" => t.termios.iflag = int(value) as u32,
                "oflag" => t.termios.oflag = int(value) as u32,
                "cflag" => t.termios.cflag = int(value) as u32,
                "lflag" => t.termios.lflag = int(value) as u32,
                "line" => t.termios.line = int(value) as u8,
                "cc" => t.termios.cc = hex(value).try_into().expect("cc is 19 bytes"),
                other => panic!("case {}: unknown Tty field {other}", c.name),
            }
        }
        assert_eq!(
            t.encode().as_slice(),
            c.bytes.as_slice(),
            "case {} (line {})",
            c.name,
            c.line
        );
        assert_eq!(Tty::decode(&c.bytes), Ok(t), "case {} decodes back", c.name);
    }
}

#[test]
fn fs_request() {
    for c in &load("fs_request.vec") {
        if !c.valid {
            check_invalid(c, FsRequest::decode(&c.bytes));
            continue;
        }
        let mut r = FsRequest::default();
        for (field, value) in &c.fields {
            let v = int(value);
            match field.as_str() {
                "op" => r.op = v as u32,
                "mount" => r.mount = v as u32,
                "result" => r.result = v as i64,
                "pathAddr" => r.path_addr = v,
                "pathLen" => r.path_len = v as u32,
                "path2Len" => r.path2_len = v as u32,
                "path2Addr" => r.path2_addr = v,
                "bufAddr" => r.buf_addr = v,
                "bufLen" => r.buf_len = v,
                "offset" => r.offset = v,
                "flags" => r.flags = v as u32,
                "mode" => r.mode = v as u32,
                other => panic!("case {}: unknown FsRequest field {other}", c.name),
            }
        }
        assert_eq!(
            r.encode().as_slice(),
            c.bytes.as_slice(),
            "case {} (line {})",
            c.name,
            c.line
        );
        assert_eq!(
            FsRequest::decode(&c.bytes),
            Ok(r),
            "case {} decodes back",
            c.name
        );
        // The struct's memory is the wire format.
        // SAFETY: FsRequest is repr(C), 80 bytes of plain integers.
        let raw: [u8; 80] = unsafe { core::mem::transmute(r) };
        assert_eq!(
            raw.as_slice(),
            c.bytes.as_slice(),
            "case {} in memory",
            c.name
        );
    }
}

#[test]
fn fs_stat() {
    for c in &load("fs_stat.vec") {
        if !c.valid {
            check_invalid(c, HostStat::decode(&c.bytes));
            continue;
        }
        let mut s = HostStat::default();
        for (field, value) in &c.fields {
            let v = int(value);
            match field.as_str() {
                "ino" => s.ino = v,
                "dev" => s.dev = v,
                "rdev" => s.rdev = v,
                "size" => s.size = v as i64,
                "blocks" => s.blocks = v as i64,
                "blksize" => s.blksize = v as u32,
                "mode" => s.mode = v as u32,
                "nlink" => s.nlink = v as u32,
                "uid" => s.uid = v as u32,
                "gid" => s.gid = v as u32,
                "atimeSec" => s.atime_sec = v as i64,
                "atimeNsec" => s.atime_nsec = v as i64,
                "mtimeSec" => s.mtime_sec = v as i64,
                "mtimeNsec" => s.mtime_nsec = v as i64,
                "ctimeSec" => s.ctime_sec = v as i64,
                "ctimeNsec" => s.ctime_nsec = v as i64,
                other => panic!("case {}: unknown HostStat field {other}", c.name),
            }
        }
        assert_eq!(
            s.encode().as_slice(),
            c.bytes.as_slice(),
            "case {} (line {})",
            c.name,
            c.line
        );
        assert_eq!(
            HostStat::decode(&c.bytes),
            Ok(s),
            "case {} decodes back",
            c.name
        );
    }
}

#[test]
fn fs_statfs() {
    for c in &load("fs_statfs.vec") {
        if !c.valid {
            check_invalid(c, HostStatfs::decode(&c.bytes));
            continue;
        }
        let mut s = HostStatfs::default();
        for (field, value) in &c.fields {
            let v = int(value);
            match field.as_str() {
                "type" => s.kind = v,
                "bsize" => s.bsize = v,
                "blocks" => s.blocks = v,
                "bfree" => s.bfree = v,
                "bavail" => s.bavail = v,
                "files" => s.files = v,
                "ffree" => s.ffree = v,
                "fsid" => s.fsid = v,
                "namelen" => s.namelen = v,
                "frsize" => s.frsize = v,
                "flags" => s.flags = v,
                other => panic!("case {}: unknown HostStatfs field {other}", c.name),
            }
        }
        assert_eq!(
            s.encode().as_slice(),
            c.bytes.as_slice(),
            "case {} (line {})",
            c.name,
            c.line
        );
        assert_eq!(
            HostStatfs::decode(&c.bytes),
            Ok(s),
            "case {} decodes back",
            c.name
        );
    }
}

#[test]
fn parser() {
    let cases = parse(
        "# c\ncase a\nfd 1\nsegment 0x10 -0\nbytes 00ff\nend\n\ninvalid b\nbytes 01\nerror size\nend\n",
    );
    assert_eq!(cases.len(), 2);
    assert!(cases[0].valid && !cases[1].valid);
    assert_eq!(cases[0].bytes, [0, 255]);
    assert_eq!(
        cases[0].fields[1],
        ("segment".to_string(), "0x10 -0".to_string())
    );
    assert_eq!(cases[1].error.as_deref(), Some("size"));
    assert_eq!(int("-32") as i64, -32);
    assert_eq!(int("-9223372036854775808") as i64, i64::MIN);
    assert_eq!(int("0x7fffffffffffffff"), i64::MAX as u64);
}
