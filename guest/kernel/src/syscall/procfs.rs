//! The contents of `/proc`'s files, made from the running process when
//! one is opened (the vfs knows the tree, not the processes: `vfs::proc`).

use crate::process::fd::{FileKind, O_ACCMODE, O_RDONLY, O_WRONLY};
use crate::process::vmas::{VmaKind, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::process::System;
use crate::syscall::Errno;
use crate::vfs::proc::{Digits, FdEntry, ProcFile};
use crate::vfs::tmpfs::Inode;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt::Write;

/// Tells the vfs what `/proc/self/fd` lists: each open descriptor and
/// what Linux's symlink there names.
pub fn refresh_fds(sys: &mut System) {
    let mut list = Vec::new();
    for fd in sys.proc.fds.open_fds() {
        let Ok(slot) = sys.proc.fds.get(fd as u64) else {
            continue;
        };
        // A description borrowed by the caller (none should be) is left out
        // rather than a panic.
        let Ok(f) = slot.file.try_borrow() else {
            continue;
        };
        let target = match f.kind {
            FileKind::Pipe => {
                let mut t = Vec::new();
                let ino = super::pipe::stat(&f).st_ino;
                let _ = write!(Digits(&mut t), "pipe:[{ino}]");
                t
            }
            _ => {
                let mut t = sys.vfs.path_of(f.node);
                if sys.vfs.stat(f.node).st_nlink == 0 {
                    t.extend_from_slice(b" (deleted)");
                }
                t
            }
        };
        let mode = match f.flags & O_ACCMODE {
            O_RDONLY => 0o500,
            O_WRONLY => 0o300,
            _ => 0o700,
        };
        list.push(FdEntry {
            fd: fd as u32,
            mode,
            target,
        });
    }
    sys.vfs.set_proc_fds(list);
}

/// A snapshot of `which` for an open file description to read (ENOMEM
/// when there is no memory for it).
pub fn snapshot(sys: &System, which: ProcFile) -> Result<Rc<RefCell<Inode>>, Errno> {
    let data = match which {
        ProcFile::Maps => maps(sys),
        ProcFile::Mounts => sys.vfs.mounts_text(),
        ProcFile::Cpuinfo => cpuinfo(),
        ProcFile::Meminfo => meminfo(),
        // Symlinks are not opened.
        ProcFile::FdLink(_) => Vec::new(),
    };
    Inode::snapshot(&data)
}

/// `/proc/self/maps`: `start-end perms offset dev inode name`, one line
/// an area, in address order, as Linux prints them.
fn maps(sys: &System) -> Vec<u8> {
    let mut out = Vec::new();
    let exe = sys.vfs.self_exe();
    for v in sys.proc.mm.vmas.iter() {
        let perm = |bit: u32, c: char| if v.prot & bit != 0 { c } else { '-' };
        let name: &[u8] = match v.kind {
            VmaKind::Image => exe,
            VmaKind::Heap => b"[heap]",
            VmaKind::Stack => b"[stack]",
            VmaKind::Device if v.start == crate::dev::vdso::VDSO_VA => b"[vdso]",
            VmaKind::Device if v.start == crate::dev::vdso::VVAR_VA => b"[vvar]",
            _ => b"",
        };
        let shared = if v.kind == VmaKind::Device && v.start < crate::dev::vdso::VVAR_VA {
            's'
        } else {
            'p'
        };
        let _ = write!(
            Digits(&mut out),
            "{:08x}-{:08x} {}{}{}{} 00000000 00:00 0",
            v.start,
            v.end,
            perm(PROT_READ, 'r'),
            perm(PROT_WRITE, 'w'),
            perm(PROT_EXEC, 'x'),
            shared
        );
        if !name.is_empty() {
            // Linux pads the name to column 74.
            let col = out.len() - out.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
            out.resize(out.len() + 73usize.saturating_sub(col).max(1), b' ');
            out.extend_from_slice(name);
        }
        out.push(b'\n');
    }
    out
}

/// `/proc/cpuinfo`: one processor, named by CPUID.
fn cpuinfo() -> Vec<u8> {
    let id = core::arch::x86_64::__cpuid_count;
    let mut vendor = Vec::new();
    let l0 = id(0, 0);
    for r in [l0.ebx, l0.edx, l0.ecx] {
        vendor.extend_from_slice(&r.to_le_bytes());
    }
    let mut model_name = Vec::new();
    if id(0x8000_0000, 0).eax >= 0x8000_0004 {
        for leaf in 0x8000_0002..=0x8000_0004u32 {
            let r = id(leaf, 0);
            for x in [r.eax, r.ebx, r.ecx, r.edx] {
                model_name.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
    let model_name: Vec<u8> = model_name.into_iter().take_while(|&c| c != 0).collect();
    let l1 = id(1, 0);
    let family = (l1.eax >> 8) & 0xf;
    let ext_family = (l1.eax >> 20) & 0xff;
    let model = ((l1.eax >> 4) & 0xf) | (((l1.eax >> 16) & 0xf) << 4);
    let l7 = if l0.eax >= 7 { id(7, 0) } else { id(0, 0) };
    let flags: [(u32, u32, &str); 14] = [
        (l1.edx, 0, "fpu"),
        (l1.edx, 15, "cmov"),
        (l1.edx, 23, "mmx"),
        (l1.edx, 25, "sse"),
        (l1.edx, 26, "sse2"),
        (l1.ecx, 0, "pni"),
        (l1.ecx, 9, "ssse3"),
        (l1.ecx, 19, "sse4_1"),
        (l1.ecx, 20, "sse4_2"),
        (l1.ecx, 23, "popcnt"),
        (l1.ecx, 25, "aes"),
        (l1.ecx, 28, "avx"),
        (if l0.eax >= 7 { l7.ebx } else { 0 }, 5, "avx2"),
        (if l0.eax >= 7 { l7.ebx } else { 0 }, 3, "bmi1"),
    ];
    let mut out = Vec::new();
    let mut d = Digits(&mut out);
    let _ = write!(
        d,
        "processor\t: 0\nvendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}\nmodel name\t: {}\nstepping\t: {}\nphysical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\nflags\t\t:",
        core::str::from_utf8(&vendor).unwrap_or("unknown"),
        if family == 0xf { family + ext_family } else { family },
        model,
        core::str::from_utf8(&model_name).unwrap_or("unknown").trim(),
        l1.eax & 0xf,
    );
    for (reg, bit, name) in flags {
        if reg & (1 << bit) != 0 {
            let _ = write!(d, " {name}");
        }
    }
    let _ = write!(d, "\n\n");
    out
}

/// `/proc/meminfo`: RAM and what is free of it, in kB.
fn meminfo() -> Vec<u8> {
    let total = crate::boot_info().ram_size / 1024;
    let free = crate::mm::paging::free_frames() * crate::host::layout::PAGE_SIZE / 1024;
    let mut out = Vec::new();
    for (name, kb) in [
        ("MemTotal", total),
        ("MemFree", free),
        ("MemAvailable", free),
        ("Buffers", 0),
        ("Cached", 0),
        ("SwapCached", 0),
        ("SwapTotal", 0),
        ("SwapFree", 0),
    ] {
        let _ = writeln!(Digits(&mut out), "{:<16}{:>8} kB", [name, ":"].concat(), kb);
    }
    out
}
