//! exec: an ELF program from the file system into a new address space,
//! with the start stack Linux builds (`stack`). A program with PT_INTERP
//! gets its dynamic loader loaded too, as Linux's `load_elf_binary`
//! does: the loader where mmap would put it (top down below the stack),
//! a PIE at `elf::DYN_BASE`, entry at the loader's entry point, and the
//! auxiliary vector telling the loader where the program is.
//!
//! Segments become areas backed by their bytes in the initramfs: pages
//! are mapped when first touched and filled by copy hypercall (`mm`), so
//! exec costs the same for a 2 MiB program as for a small one; bss is
//! zero already. Ring 0 touches only headers and the few words of the
//! stack's pointer arrays.

use super::mm::{page_up, Mm, MMAP_BOTTOM, MMAP_TOP, STACK_SIZE, STACK_TOP};
use super::stack::{self, Aux};
use super::vmas::{Backing, VmaKind, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::mm::addr::VirtAddr;
use crate::process::elf::{self, ElfError, Segment, PF_R, PF_W, PF_X};
use crate::host::layout::PAGE_SIZE;
use crate::syscall::user_ptr::UserPtr;
use crate::syscall::Errno;
use crate::vfs::{Kind, NodeId, Vfs};
use alloc::vec::Vec;
use core::fmt;

/// Pages mapped below the start stack's lowest byte, for the program's
/// first frames (the rest of the stack comes on first touch).
const STACK_HEADROOM_PAGES: u64 = 4;
/// Segments up to this size are mapped at exec, bigger ones on demand.
const EAGER_SEGMENT_MAX: u64 = 16 << 20;
/// The start stack may take this much (args block, execfn, auxv).
const START_STACK_MAX: u64 = 256 * 1024;

/// A loaded program, ready to enter.
pub struct Image {
    pub mm: Mm,
    pub entry: u64,
    pub sp: u64,
    pub exe: NodeId,
}

/// Why exec failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecError {
    /// Finding or opening the file.
    File(Errno),
    /// The file is not a program kvmos can run.
    Elf(ElfError<'static>),
    /// Building the address space.
    Memory(Errno),
    /// The dynamic loader PT_INTERP names cannot be used (ENOENT if it
    /// is not in the file system, ELIBBAD if it is not a loadable ELF).
    Loader(Errno, &'static [u8]),
}

impl ExecError {
    /// What `execve` returns.
    pub fn errno(&self) -> Errno {
        match *self {
            ExecError::File(e) | ExecError::Memory(e) | ExecError::Loader(e, _) => e,
            ExecError::Elf(_) => Errno::ENOEXEC,
        }
    }

    /// The exit status a shell gives for it: 127 for a missing program
    /// (or a missing dynamic loader), 126 for one that cannot run.
    pub fn exit_status(&self) -> u32 {
        match self.errno() {
            Errno::ENOENT | Errno::ENOTDIR => 127,
            _ => 126,
        }
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::File(e) | ExecError::Memory(e) => f.write_str(e.description()),
            ExecError::Elf(e) => write!(f, "{e}"),
            ExecError::Loader(e, path) => {
                let path = core::str::from_utf8(path).unwrap_or("?");
                if *e == Errno::ENOENT {
                    write!(
                        f,
                        "its dynamic loader {path} is not in the guest's file system \
                         (add it with --file {path}:{path}, or link the program with -static)"
                    )
                } else {
                    write!(f, "cannot use its dynamic loader {path}: {}", e.description())
                }
            }
        }
    }
}

fn prot_of(flags: u32) -> u32 {
    let mut prot = 0;
    if flags & PF_R != 0 {
        prot |= PROT_READ;
    }
    if flags & PF_W != 0 {
        prot |= PROT_WRITE;
    }
    if flags & PF_X != 0 {
        prot |= PROT_EXEC;
    }
    prot
}

/// Loads the program at `path` (from directory `start`; a relative
/// PT_INTERP path starts at the working directory `cwd`) with the strings
/// `strings`: `argc` arguments then `envc` environment entries, each
/// NUL-terminated, back to back (the args block's layout). `strings`
/// must be in kernel memory with a physical address (image or direct
/// map): it is copied to the stack by hypercall.
pub fn load(
    vfs: &mut Vfs<'static>,
    cwd: NodeId,
    start: NodeId,
    path: &[u8],
    strings: &[u8],
    argc: usize,
    envc: usize,
) -> Result<Image, ExecError> {
    load_at_depth(vfs, cwd, start, path, strings, argc, envc, 0)
}

/// Scripts an exec may go through before reaching a program (Linux's
/// binfmt_script allows a few levels: an interpreter that is a script).
const MAX_SCRIPT_DEPTH: u32 = 4;
/// How much of a script's first line Linux reads (BINPRM_BUF_SIZE).
const SCRIPT_LINE_MAX: usize = 256;

/// A `#!` line's interpreter and its one optional argument, as Linux's
/// binfmt_script splits it: blanks after `#!` skipped, the interpreter up
/// to the next blank, the rest (blanks around it trimmed) one argument.
/// None if there is no interpreter.
pub fn script_line(data: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let line = data.get(2..data.len().min(SCRIPT_LINE_MAX))?;
    let line = &line[..line.iter().position(|&c| c == b'\n').unwrap_or(line.len())];
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let start = line.iter().position(|c| !blank(c))?;
    let line = &line[start..];
    let end = line.iter().rposition(|c| !blank(c)).map_or(0, |i| i + 1);
    let line = &line[..end];
    let split = line.iter().position(blank).unwrap_or(line.len());
    let (interp, rest) = line.split_at(split);
    let rest = &rest[rest.iter().position(|c| !blank(c)).unwrap_or(rest.len())..];
    Some((interp, (!rest.is_empty()).then_some(rest)))
}

/// The strings block for a script's interpreter: `interp [arg] path`, then
/// the script's arguments after its argv[0], then the environment; and
/// the new argc.
pub fn script_strings(interp: &[u8], arg: Option<&[u8]>, path: &[u8], strings: &[u8], argc: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(interp.len() + path.len() + strings.len() + 3 + arg.map_or(0, |a| a.len() + 1));
    for s in [Some(interp), arg, Some(path)].into_iter().flatten() {
        out.extend_from_slice(s);
        out.push(0);
    }
    // Everything after argv[0] as it is: the other arguments and the environment.
    let after_argv0 = strings.iter().position(|&c| c == 0).map_or(strings.len(), |i| i + 1);
    out.extend_from_slice(&strings[after_argv0..]);
    let new_argc = argc.saturating_sub(1) + 2 + usize::from(arg.is_some());
    (out, new_argc)
}

#[allow(clippy::too_many_arguments)]
fn load_at_depth(
    vfs: &mut Vfs<'static>,
    cwd: NodeId,
    start: NodeId,
    path: &[u8],
    strings: &[u8],
    argc: usize,
    envc: usize,
    depth: u32,
) -> Result<Image, ExecError> {
    let node = vfs.lookup(start, path, true).map_err(ExecError::File)?;
    let n = vfs.node(node);
    // The permissions as stat reports them (a tmpfs inode has the current ones).
    if !matches!(n.kind, Kind::File { .. } | Kind::Host | Kind::Mem(_)) || !n.is_regular() || vfs.stat(node).st_mode & 0o111 == 0 {
        return Err(ExecError::File(Errno::EACCES));
    }
    // A host file is read whole into guest memory first (then mapped
    // like an archive file).
    vfs.ensure_cached(node).map_err(ExecError::File)?;
    let data = file_bytes(vfs, node);
    if data.starts_with(b"#!") {
        // A script: run its interpreter with the script's path as an
        // argument (Linux's binfmt_script); ELOOP past a few levels.
        if depth >= MAX_SCRIPT_DEPTH {
            return Err(ExecError::File(Errno::ELOOP));
        }
        let (interp, arg) = script_line(data).ok_or(ExecError::Elf(ElfError::NotElf))?;
        let (strings, argc) = script_strings(interp, arg, path, strings, argc);
        return load_at_depth(vfs, cwd, cwd, interp, &strings, argc, envc, depth + 1);
    }
    let program = elf::parse(data).map_err(ExecError::Elf)?;
    // The loader is looked up as Linux's open_exec does: from the
    // working directory if relative, symlinks followed, and it must be
    // an executable regular file.
    let loader = match program.interp {
        None => None,
        Some(ipath) => {
            let lnode = vfs
                .lookup(cwd, ipath, true)
                .map_err(|e| ExecError::Loader(e, ipath))?;
            let n = vfs.node(lnode);
            // The permissions as stat reports them (a tmpfs inode has the current ones).
            if !matches!(n.kind, Kind::File { .. } | Kind::Host | Kind::Mem(_)) || !n.is_regular() || vfs.stat(lnode).st_mode & 0o111 == 0 {
                return Err(ExecError::Loader(Errno::EACCES, ipath));
            }
            vfs.ensure_cached(lnode).map_err(|e| ExecError::Loader(e, ipath))?;
            Some((lnode, ipath))
        }
    };
    let (offsets, strings_len) =
        stack::string_offsets(strings, argc + envc).ok_or(ExecError::Memory(Errno::EINVAL))?;
    let strings_phys = VirtAddr::from_ptr(strings.as_ptr())
        .kernel_to_phys()
        .ok_or(ExecError::Memory(Errno::EFAULT))?
        .as_u64();

    let mut mm = Mm::new().map_err(ExecError::Memory)?;
    // Out of memory (or a bad stack) past this point: the new address
    // space goes back whole, and execve fails (ENOMEM) as on Linux.
    match build(&mut mm, vfs, node, &program, loader, path, strings_phys, &offsets, strings_len, argc) {
        Ok((entry, sp)) => Ok(Image {
            mm,
            entry,
            sp,
            exe: node,
        }),
        Err(e) => {
            mm.release();
            Err(e)
        }
    }
}

/// Fills the new address space `mm` for `load`: segments, break, vDSO,
/// stack. Returns the entry point and the stack pointer.
#[allow(clippy::too_many_arguments)]
fn build(
    mm: &mut Mm,
    vfs: &mut Vfs<'static>,
    node: NodeId,
    program: &elf::Program,
    loader: Option<(NodeId, &'static [u8])>,
    path: &[u8],
    strings_phys: u64,
    offsets: &[u32],
    strings_len: usize,
    argc: usize,
) -> Result<(u64, u64), ExecError> {
    for seg in &program.segments {
        load_segment(mm, vfs, node, seg).map_err(ExecError::Memory)?;
    }
    mm.brk_start = page_up(program.end);
    mm.brk = mm.brk_start;
    let vdso = crate::dev::vdso::map(mm).map_err(ExecError::Memory)?;
    let (entry, base) = match loader {
        None => (program.entry, 0),
        Some((lnode, lpath)) => {
            let l = load_loader(mm, vfs, lnode).map_err(|e| match e {
                LoaderError::Elf => ExecError::Loader(Errno::ELIBBAD, lpath),
                LoaderError::Memory(e) => ExecError::Memory(e),
            })?;
            (l.entry, l.bias)
        }
    };

    let aux = Aux {
        phdr: program.phdr,
        phnum: program.phnum as u64,
        entry: program.entry,
        base,
        hwcap: crate::arch::cpu::cpuid(1, 0)[3] as u64,
        vdso,
    };
    let l = stack::layout(
        STACK_TOP,
        strings_len,
        offsets,
        argc,
        path.len(),
        &aux,
        START_STACK_MAX,
    )
    .map_err(ExecError::Memory)?;
    mm.add_area(
        STACK_TOP - STACK_SIZE,
        STACK_TOP,
        PROT_READ | PROT_WRITE,
        VmaKind::Stack,
    );
    let low = (l.sp & !(PAGE_SIZE - 1)) - STACK_HEADROOM_PAGES * PAGE_SIZE;
    mm.populate(low, STACK_TOP).map_err(ExecError::Memory)?;
    mm.copy_in(l.strings, strings_phys, strings_len as u64);
    let fill = |va: u64, bytes: &[u8]| UserPtr::<u8>::new(va).copy_to_user(mm, bytes);
    fill(l.execfn, path)
        .and_then(|_| fill(l.execfn + path.len() as u64, &[0]))
        .and_then(|_| fill(l.platform, stack::PLATFORM))
        .and_then(|_| fill(l.platform + stack::PLATFORM.len() as u64, &[0]))
        .and_then(|_| crate::syscall::segments::fill_random(mm, UserPtr::new(l.random), 16))
        .and_then(|_| UserPtr::<u64>::new(l.sp).copy_to_user(mm, &l.words))
        .map_err(ExecError::Memory)?;

    let exe_path = vfs.path_of(node);
    vfs.set_self_exe(&exe_path);
    Ok((entry, l.sp))
}

/// The bytes of a file that exec reads headers from (one place, so that
/// files not in the initramfs can be served here later).
fn file_bytes(vfs: &Vfs<'static>, node: NodeId) -> &'static [u8] {
    vfs.file_data(node).unwrap_or(&[])
}

/// How much free space an image of `span` bytes needs to start at an
/// `align` boundary (a power of two, at least a page) somewhere inside.
fn room_for(span: u64, align: u64) -> Option<u64> {
    span.checked_add(align - PAGE_SIZE)
}

/// Where an image of `span` bytes starts in the free range `[at, at +
/// room)` (`room_for`): as high as it fits, on an `align` boundary. The
/// top start, rounded down, stays inside: at + room - span >= it >= at.
fn top_aligned(at: u64, room: u64, span: u64, align: u64) -> u64 {
    (at + room - span) & !(align - 1)
}

enum LoaderError {
    Elf,
    Memory(Errno),
}

/// Maps the dynamic loader `node` where mmap would put an area of its
/// size (the highest free range below the stack, aligned as its
/// segments ask), as Linux maps the interpreter. Returns it, moved.
fn load_loader(
    mm: &mut Mm,
    vfs: &Vfs<'static>,
    node: NodeId,
) -> Result<elf::Program<'static>, LoaderError> {
    let data = file_bytes(vfs, node);
    let planned = elf::parse_at(data, elf::DYN_BASE, MMAP_TOP).map_err(|_| LoaderError::Elf)?;
    let base = if !planned.dynamic {
        // ET_EXEC: where it says.
        0
    } else {
        let room = room_for(planned.span(), planned.align).ok_or(LoaderError::Memory(Errno::ENOMEM))?;
        let at = mm
            .vmas
            .find_free(room, MMAP_BOTTOM, MMAP_TOP)
            .ok_or(LoaderError::Memory(Errno::ENOMEM))?;
        top_aligned(at, room, planned.span(), planned.align)
    };
    let l = if !planned.dynamic {
        planned
    } else {
        elf::parse_at(data, base, MMAP_TOP).map_err(|_| LoaderError::Elf)?
    };
    let (first, _) = l.segments[0].pages();
    if !mm.vmas.is_free(first, first + l.span()) {
        // An ET_EXEC loader over the program: Linux fails with EINVAL.
        return Err(LoaderError::Memory(Errno::EINVAL));
    }
    for seg in &l.segments {
        load_segment(mm, vfs, node, seg).map_err(LoaderError::Memory)?;
    }
    Ok(l)
}

/// Adds one PT_LOAD segment as an area backed by its file bytes (mapped
/// on first touch). A first page shared with the previous segment (they
/// may meet inside a page) is mapped now with the previous segment's
/// bytes, gets this segment's bytes too and the union of both
/// protections.
fn load_segment(mm: &mut Mm, vfs: &Vfs<'static>, node: NodeId, seg: &Segment) -> Result<(), Errno> {
    let prot = prot_of(seg.flags);
    let (first, end) = seg.pages();
    let src = vfs.file_phys(node, seg.offset).ok_or(Errno::EIO)?;
    let backing = Backing {
        va: seg.vaddr,
        phys: src,
        len: seg.filesz,
    };
    let mut start = first;
    if let Some(prev) = mm.vmas.find(first).copied() {
        let page_end = first + PAGE_SIZE;
        mm.populate(first, page_end)?;
        if let Some((from, src, len)) = backing.within(first, page_end) {
            mm.copy_in(from, src, len);
        }
        mm.protect(first, page_end, prev.prot | prot)?;
        // Bytes of two segments: no backing makes this page again.
        mm.vmas.mark_written(first, page_end);
        start = page_end;
    }
    if start < end {
        mm.add_file_area(start, end, prot, VmaKind::Image, Some(backing));
        // Mapping a segment at once costs a few instructions a page and
        // one copy hypercall; page by page it would cost a fault (~0.5 ms)
        // per 16 pages touched. Huge programs stay lazy.
        if end - start <= EAGER_SEGMENT_MAX {
            mm.populate(start, end)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loader's place in the free range find_free gives: the highest
    /// aligned start from which its whole span fits.
    #[test]
    fn script_lines_split_as_linux() {
        assert_eq!(script_line(b"#!/bin/sh\necho"), Some((&b"/bin/sh"[..], None)));
        assert_eq!(script_line(b"#! /usr/bin/env  python3 -u \n"), Some((&b"/usr/bin/env"[..], Some(&b"python3 -u"[..]))));
        assert_eq!(script_line(b"#!/bin/awk\t-f\n"), Some((&b"/bin/awk"[..], Some(&b"-f"[..]))));
        assert_eq!(script_line(b"#!\n"), None);
        assert_eq!(script_line(b"#!   \n"), None);
        assert_eq!(script_line(b"#!/bin/sh"), Some((&b"/bin/sh"[..], None)));
        let long = [b"#!/bin/".as_slice(), &[b'x'; 300]].concat();
        assert_eq!(script_line(&long).map(|(i, _)| i.len()), Some(254));
    }

    #[test]
    fn script_arguments_replace_argv0() {
        let (s, argc) = script_strings(b"/bin/sh", None, b"./s.sh", b"s.sh\0a\0b\0HOME=/\0", 3);
        assert_eq!(s, b"/bin/sh\0./s.sh\0a\0b\0HOME=/\0");
        assert_eq!(argc, 4);
        let (s, argc) = script_strings(b"/usr/bin/env", Some(b"python3"), b"/x", b"x\0", 1);
        assert_eq!(s, b"/usr/bin/env\0python3\0/x\0");
        assert_eq!(argc, 3);
    }

    #[test]
    fn loader_placement() {
        let span = 0x3b000;
        // Page alignment: exactly the range, at its top.
        let room = room_for(span, PAGE_SIZE).unwrap();
        assert_eq!(room, span);
        assert_eq!(top_aligned(0x7fff_effc_5000, room, span, PAGE_SIZE), 0x7fff_effc_5000);
        // 2 MiB alignment: a range of span + 2 MiB - 4 KiB, wherever it
        // starts, holds a 2 MiB-aligned start with the span after it.
        let align = 0x20_0000;
        let room = room_for(span, align).unwrap();
        for at in [0x7fff_efc0_0000u64, 0x7fff_efc0_1000, 0x7fff_efdf_f000] {
            let base = top_aligned(at, room, span, align);
            assert_eq!(base % align, 0);
            assert!(base >= at && base + span <= at + room, "{at:#x} -> {base:#x}");
        }
        assert_eq!(room_for(u64::MAX - 0x1000, align), None);
    }
}
