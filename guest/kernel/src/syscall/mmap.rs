//! `mmap`, `munmap`, `mprotect`, `mremap`, `madvise`, `msync`, `mincore`.
//!
//! Mappings are areas whose pages come on first touch (`mm`): zero for
//! anonymous ones (private or shared: there is one process), the file's
//! bytes from the initramfs for a file mapping (a private copy; zero
//! after the file's last byte in its last page, SIGBUS on the pages past
//! it, as on Linux). A mapping of `/dev/fb0` maps the framebuffer's own pages at once (shared or
//! private alike: writes reach the screen; offset + length at most the
//! pixels rounded up to a page, else EINVAL). Placement is
//! Linux's: MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses (EEXIST), a
//! free hint is taken, otherwise the highest free range below the stack.

use super::{Args, Errno};
use crate::host::layout::{PAGE_SIZE, USER_END};
use crate::process::fd::FileKind;
use crate::process::mm::{may_commit, page_up, MMAP_BOTTOM, MMAP_TOP};
use crate::process::vmas::{Backing, VmaKind, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::process::{self, System};
use crate::vfs::Device;

pub const MAP_SHARED: u64 = 0x01;
pub const MAP_PRIVATE: u64 = 0x02;
pub const MAP_SHARED_VALIDATE: u64 = 0x03;
pub const MAP_TYPE: u64 = 0x0f;
pub const MAP_FIXED: u64 = 0x10;
pub const MAP_ANONYMOUS: u64 = 0x20;
pub const MAP_NORESERVE: u64 = 0x4000;
pub const MAP_POPULATE: u64 = 0x8000;
pub const MAP_HUGETLB: u64 = 0x40000;
pub const MAP_FIXED_NOREPLACE: u64 = 0x100000;
const PROT_GROWSDOWN: u64 = 0x0100_0000;
const PROT_GROWSUP: u64 = 0x0200_0000;
const PROT_ALL: u64 = (PROT_READ | PROT_WRITE | PROT_EXEC) as u64;

fn aligned(x: u64) -> bool {
    x.is_multiple_of(PAGE_SIZE)
}

/// `[addr, addr + len)` is page-aligned user space: the range, else EINVAL.
fn user_range(addr: u64, len: u64) -> Result<(u64, u64), Errno> {
    if !aligned(addr) {
        return Err(Errno::EINVAL);
    }
    let end = addr
        .checked_add(page_up(len))
        .filter(|&e| e <= USER_END && len <= USER_END)
        .ok_or(Errno::EINVAL)?;
    Ok((addr, end))
}

fn map(sys: &mut System, a: &Args) -> Result<usize, Errno> {
    let (addr, len, prot, flags, fd, off) = (a[0], a[1], a[2], a[3], a[4], a[5]);
    // The checks in Linux's order (do_mmap, get_unmapped_area).
    if prot & !(PROT_ALL | PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
        return Err(Errno::EINVAL);
    }
    let kind = flags & MAP_TYPE;
    if kind != MAP_SHARED && kind != MAP_PRIVATE && kind != MAP_SHARED_VALIDATE {
        return Err(Errno::EINVAL);
    }
    if len == 0 || !aligned(off) || flags & MAP_HUGETLB != 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_up(len);
    if len == 0 || len > MMAP_TOP {
        return Err(Errno::ENOMEM);
    }
    let prot = (prot & PROT_ALL) as u32;
    // What backs it: nothing, or a regular file's bytes from `off`.
    let mut file = None;
    let mut copy = None;
    let mut device = None;
    let mut max_prot = PROT_ALL as u32;
    if flags & MAP_ANONYMOUS == 0 {
        let f = sys.proc.fds.get(fd)?.file.borrow();
        if f.kind == FileKind::Path {
            return Err(Errno::EBADF);
        }
        if !f.readable() {
            return Err(Errno::EACCES);
        }
        let shared = kind != MAP_PRIVATE;
        if shared && !f.writable() {
            if prot & PROT_WRITE != 0 {
                return Err(Errno::EACCES);
            }
            max_prot &= !PROT_WRITE;
        }
        match f.kind {
            FileKind::Regular => {
                if off > i64::MAX as u64 - len {
                    return Err(Errno::EOVERFLOW);
                }
                if let Some(inode) = &f.held {
                    // Bytes in kernel memory (tmpfs): a private copy,
                    // made now; a shared mapping is not supported.
                    if shared {
                        return Err(Errno::ENODEV);
                    }
                    copy = Some(inode.clone());
                } else {
                    file = Some(f.node);
                }
            }
            FileKind::Device(Device::Zero) => {}
            FileKind::Device(Device::Fb0) => {
                let g = crate::dev::display::geometry().ok_or(Errno::ENODEV)?;
                if off > g.map_len() || len > g.map_len() - off {
                    return Err(Errno::EINVAL);
                }
                device = Some(Backing {
                    va: 0,
                    phys: g.phys + off,
                    len,
                });
            }
            _ => return Err(Errno::ENODEV),
        }
    }
    if let Some(node) = file.filter(|&n| sys.vfs.host_node(n).is_some()) {
        // A host file is mapped from a copy of it in guest memory, made
        // once: writes through a shared mapping would never reach the
        // host, so a shared mapping of one is read-only.
        if kind != MAP_PRIVATE {
            if prot & PROT_WRITE != 0 {
                return Err(Errno::ENODEV);
            }
            max_prot &= !PROT_WRITE;
        }
        sys.vfs.ensure_cached(node)?;
    }
    let mm = &mut sys.proc.mm;
    let start = if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
        if !aligned(addr) {
            return Err(Errno::EINVAL);
        }
        let end = addr
            .checked_add(len)
            .filter(|&e| e <= USER_END)
            .ok_or(Errno::ENOMEM)?;
        if addr < MMAP_BOTTOM {
            return Err(Errno::EPERM);
        }
        if !mm.vmas.is_free(addr, end) {
            if flags & MAP_FIXED_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            mm.unmap(addr, end);
        }
        addr
    } else {
        let hint = addr & !(PAGE_SIZE - 1);
        match hint.checked_add(len) {
            Some(end) if hint >= MMAP_BOTTOM && end <= MMAP_TOP && mm.vmas.is_free(hint, end) => {
                hint
            }
            _ => mm
                .vmas
                .find_free(len, MMAP_BOTTOM, MMAP_TOP)
                .ok_or(Errno::ENOMEM)?,
        }
    };
    if let Some(b) = device {
        let backing = Backing { va: start, ..b };
        mm.add_file_area(start, start + len, prot, VmaKind::Device, Some(backing));
        if let Some(v) = mm.vmas.find_mut(start) {
            v.max_prot = max_prot;
        }
        // All pages now: one short loop, rather than a fault per 16 pages.
        mm.populate(start, start + len)?;
        return Ok(start as usize);
    }
    // Private writable memory is accounted: more than RAM is ENOMEM.
    if kind == MAP_PRIVATE
        && prot & PROT_WRITE != 0
        && flags & MAP_NORESERVE == 0
        && !may_commit(len)
    {
        return Err(Errno::ENOMEM);
    }
    // Kept even with no bytes (mapped wholly past the end of the file):
    // the area's pages past the file are SIGBUS.
    let backing = file.and_then(|node| {
        let size = sys.vfs.size(node);
        let n = size.saturating_sub(off).min(len);
        sys.vfs.file_phys(node, off).map(|phys| Backing {
            va: start,
            phys,
            len: n,
        })
    });
    mm.add_file_area(start, start + len, prot, VmaKind::Mmap, backing);
    if let Some(inode) = copy {
        copy_into(mm, start, len, &inode.borrow().data, off)?;
    }
    if flags & MAP_POPULATE != 0 {
        // As Linux's mm_populate: best effort, the mapping stands (pages
        // that could not be had now come on first touch, or not).
        let _ = mm.populate(start, start + len);
    }
    if let Some(v) = mm.vmas.find_mut(start) {
        v.max_prot = max_prot;
    }
    Ok(start as usize)
}

pub(super) fn mmap(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| map(sys, a))
}

pub(super) fn munmap(a: &Args) -> Result<usize, Errno> {
    if a[1] == 0 {
        return Err(Errno::EINVAL);
    }
    let (start, end) = user_range(a[0], a[1])?;
    process::with(|sys| {
        sys.proc.mm.unmap(start, end);
        Ok(0)
    })
}

pub(super) fn mprotect(a: &Args) -> Result<usize, Errno> {
    let prot = a[2];
    if prot & !(PROT_ALL | PROT_GROWSDOWN | PROT_GROWSUP) != 0
        || prot & (PROT_GROWSDOWN | PROT_GROWSUP) == PROT_GROWSDOWN | PROT_GROWSUP
    {
        return Err(Errno::EINVAL);
    }
    let (start, end) =
        user_range(a[0], a[1]).map_err(|e| if a[0] >= USER_END { Errno::ENOMEM } else { e })?;
    if start == end {
        return Ok(0);
    }
    process::with(|sys| {
        let mm = &mut sys.proc.mm;
        // Only a stack grows down (x86 has no upward-growing areas).
        if prot & PROT_GROWSUP != 0
            || (prot & PROT_GROWSDOWN != 0
                && mm.vmas.find(start).is_none_or(|v| v.kind != VmaKind::Stack))
        {
            return Err(Errno::EINVAL);
        }
        mm.protect(start, end, (prot & PROT_ALL) as u32).map(|_| 0)
    })
}

const MREMAP_MAYMOVE: u64 = 1;
const MREMAP_FIXED: u64 = 2;
const MREMAP_DONTUNMAP: u64 = 4;

pub(super) fn mremap(a: &Args) -> Result<usize, Errno> {
    let (old, old_len, new_len, flags, new_addr) = (a[0], page_up(a[1]), page_up(a[2]), a[3], a[4]);
    if !aligned(old)
        || new_len == 0
        || flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0
        || (flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0)
        || flags & MREMAP_DONTUNMAP != 0
        || old_len == 0
        // Ranges that wrap past 2^64 (Linux: EINVAL).
        || old.checked_add(old_len).is_none()
        || old.checked_add(new_len).is_none()
    {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let mm = &mut sys.proc.mm;
        let v = *mm.vmas.find(old).ok_or(Errno::EFAULT)?;
        // Every sum below is checked: a wrapped end would pass `<= MMAP_TOP`
        // and leave an area ending below its start.
        let old_end = old
            .checked_add(old_len)
            .filter(|&e| e <= v.end)
            .ok_or(Errno::EFAULT)?;
        if flags & MREMAP_FIXED != 0 {
            let (dst, dst_end) = user_range(new_addr, new_len)?;
            if dst < old_end && old < dst_end {
                return Err(Errno::EINVAL);
            }
            mm.unmap(dst, dst_end);
            mm.move_area(old, old_len.min(new_len), dst, new_len)?;
            if old_len > new_len {
                mm.unmap(old + new_len, old_end);
            }
            return Ok(dst as usize);
        }
        if new_len <= old_len {
            // old + new_len <= old_end: no overflow.
            mm.unmap(old + new_len, old_end);
            return Ok(old as usize);
        }
        // Grow in place when the pages after it are free (and the area
        // ends where the old range does).
        let new_end = old.checked_add(new_len).filter(|&e| e <= MMAP_TOP);
        if let Some(new_end) = new_end.filter(|&e| old_end == v.end && mm.vmas.is_free(v.end, e)) {
            mm.vmas.resize(v.start, new_end);
            return Ok(old as usize);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return Err(Errno::ENOMEM);
        }
        let dst = mm
            .vmas
            .find_free(new_len, MMAP_BOTTOM, MMAP_TOP)
            .ok_or(Errno::ENOMEM)?;
        mm.move_area(old, old_len, dst, new_len)?;
        Ok(dst as usize)
    })
}

const MADV_DONTNEED: u64 = 4;
const MADV_REMOVE: u64 = 9;

pub(super) fn madvise(a: &Args) -> Result<usize, Errno> {
    let (addr, len, advice) = (a[0], a[1], a[2]);
    let known = matches!(advice, 0..=4 | 8..=25 | 100 | 101);
    if !known || !aligned(addr) {
        return Err(Errno::EINVAL);
    }
    let (start, end) = user_range(addr, len)?;
    if start == end {
        return Ok(0);
    }
    process::with(|sys| {
        // Mapped parts get the advice even when there are holes; holes
        // make it ENOMEM, as on Linux.
        if advice == MADV_DONTNEED || advice == MADV_REMOVE {
            sys.proc.mm.discard(start, end);
        }
        if sys.proc.mm.vmas.covers(start, end) {
            Ok(0)
        } else {
            Err(Errno::ENOMEM)
        }
    })
}

pub(super) fn msync(a: &Args) -> Result<usize, Errno> {
    if !aligned(a[0]) || a[2] & !7 != 0 || a[2] & 5 == 5 {
        return Err(Errno::EINVAL);
    }
    let (start, end) = user_range(a[0], a[1])?;
    process::with(|sys| {
        if sys.proc.mm.vmas.covers(start, end) {
            Ok(0)
        } else {
            Err(Errno::ENOMEM)
        }
    })
}

/// Fills the new private mapping `[start, start + len)` with `data`
/// from byte `off` (a tmpfs file), through the kernel's view of its
/// pages (the area may be read-only for the program).
fn copy_into(
    mm: &mut crate::process::mm::Mm,
    start: u64,
    len: u64,
    data: &crate::vfs::tmpfs::Pages,
    off: u64,
) -> Result<(), Errno> {
    use super::user_ptr::UserMemory;
    let n = data.len().saturating_sub(off).min(len);
    if n == 0 {
        return Ok(());
    }
    mm.populate(start, start + page_up(n))?;
    if let Some(v) = mm.vmas.find_mut(start) {
        v.written = true;
    }
    let mut done = 0u64;
    data.read(off, n as usize, |chunk| {
        // Chunks end at the file's page boundaries and `off` is page
        // aligned, so each lies in one page of the mapping.
        let va = crate::mm::addr::VirtAddr::new(start + done);
        let pa = mm.space.translate(va).ok_or(Errno::ENOMEM)?.phys;
        let dst = mm.phys_ptr(pa);
        // SAFETY: `pa` is a frame of this process's new mapping (just
        // populated, not shared with anything), with `chunk.len()` bytes
        // to the end of its page (see above); the source is kernel memory.
        unsafe {
            core::ptr::copy_nonoverlapping(chunk.as_ptr(), dst, chunk.len());
        }
        done += chunk.len() as u64;
        Ok(chunk.len())
    })?;
    Ok(())
}

/// One byte per page of `[start, end)` for mincore: 1 if the page is in
/// memory, which here means mapped in the page tables, or backed by file
/// bytes (the initramfs is always in RAM, as a file in Linux's page
/// cache); 0 for anonymous pages never touched. None at a hole.
fn residency(mm: &crate::process::mm::Mm, start: u64, end: u64, out: &mut [u8]) -> Option<()> {
    for (i, va) in (start..end).step_by(PAGE_SIZE as usize).enumerate() {
        let v = mm.vmas.find(va)?;
        let mapped = mm
            .space
            .translate(crate::mm::addr::VirtAddr::new(va))
            .is_some();
        let cached = v
            .backing
            .is_some_and(|b| b.within(va, va + PAGE_SIZE).is_some());
        out[i] = u8::from(mapped || cached);
    }
    Some(())
}

/// mincore(addr, len, vec), checked in Linux's order: EINVAL for an
/// unaligned address, ENOMEM for a range outside user space or with a
/// hole (the pages before it are reported), EFAULT for a bad vector.
pub(super) fn mincore(a: &Args) -> Result<usize, Errno> {
    let (addr, len, vec) = (a[0], a[1], a[2]);
    if !aligned(addr) {
        return Err(Errno::EINVAL);
    }
    let end = addr
        .checked_add(page_up(len))
        .filter(|&e| e <= USER_END && len <= USER_END)
        .ok_or(Errno::ENOMEM)?;
    let pages = (end - addr) / PAGE_SIZE;
    if vec.checked_add(pages).is_none_or(|e| e > USER_END) {
        return Err(Errno::EFAULT);
    }
    process::with(|sys| {
        let mm = &sys.proc.mm;
        // In chunks, as Linux does (a page of results at a time).
        const CHUNK: u64 = 256;
        let mut at = addr;
        let mut out = vec;
        let mut buf = [0u8; CHUNK as usize];
        while at < end {
            let n = ((end - at) / PAGE_SIZE).min(CHUNK);
            let to = at + n * PAGE_SIZE;
            residency(mm, at, to, &mut buf[..n as usize]).ok_or(Errno::ENOMEM)?;
            crate::syscall::UserPtr::<u8>::new(out).copy_to_user(mm, &buf[..n as usize])?;
            at = to;
            out += n;
        }
        Ok(0)
    })
}
