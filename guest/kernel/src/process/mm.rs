//! A process's memory: its page tables and areas (`vmas`), the break,
//! and the operations behind exec, brk, mmap, munmap, mprotect, mremap.
//!
//! Pages are mapped on first touch: a ring-3 #PF inside an area, or a
//! system call reaching a user buffer (`UserMemory::translate_user`
//! faults pages in too), maps a block of up to `FAULT_AROUND` pages at
//! once, on contiguous fresh frames, and fills the part an area's
//! `Backing` covers (program segments, file mappings) from the initramfs
//! with one copy hypercall. Fresh frames are zero (the host zeroes free
//! RAM; reused ones are zeroed by hypercall), which is what anonymous
//! memory and bss need. Ring 0 is emulated (~1 us a memory access), so
//! mapping on demand beats mapping a 2 MiB program page by page at exec.
//! Every mapped user frame belongs to exactly one page and is freed when
//! it is unmapped. `mapped` remembers where pages were ever mapped, so
//! that walks of the tables (fork, teardown, munmap, mprotect) skip the
//! empty rest of the address space.

use super::spans::Spans;
use super::vmas::{Backing, Vma, VmaKind, Vmas, PROT_ALL, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::mm::addr::{PhysAddr, VirtAddr};
use crate::host::hypercall;
use crate::host::layout::PAGE_SIZE;
use crate::mm::paging::{self, AddressSpace, KernelFrames, MapError, PageTableFlags, PhysMemory};
use crate::syscall::user_ptr::UserMemory;
use crate::syscall::Errno;
use core::cell::{Cell, RefCell};

/// The main thread's stack ends here (one page below the top of user
/// space, as hello's) and may grow to `STACK_SIZE`.
pub const STACK_TOP: u64 = 0x7fff_ffff_f000;
pub const STACK_SIZE: u64 = 8 << 20;
/// `mmap` without a usable hint searches down from here (below the stack
/// and a gap) to `MMAP_BOTTOM` (Linux's `mmap_min_addr`).
pub const MMAP_TOP: u64 = 0x7fff_f000_0000;
pub const MMAP_BOTTOM: u64 = 0x1_0000;
/// Pages mapped by one fault (a 64 KiB aligned block).
pub const FAULT_AROUND: u64 = 16;

/// Linux's heuristic overcommit: one request for more than all of RAM
/// fails (ENOMEM), smaller ones are promised and mapped on first touch.
pub fn may_commit(bytes: u64) -> bool {
    bytes <= crate::boot_info().ram_size
}

pub const fn page_up(x: u64) -> u64 {
    // Wraps to 0 near u64::MAX, as Linux's PAGE_ALIGN: callers treat 0 as too big.
    x.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

pub const fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// Page-table flags for a protection: user pages, writable with
/// PROT_WRITE, no-execute without PROT_EXEC (EFER.NXE is on). PROT_NONE
/// pages stay mapped but supervisor-only, so ring 3 faults on them and
/// `UserPtr` refuses them.
pub fn page_flags(prot: u32) -> PageTableFlags {
    if prot & (PROT_READ | PROT_WRITE | PROT_EXEC) == 0 {
        return PageTableFlags::NO_EXECUTE;
    }
    let mut f = PageTableFlags::USER;
    if prot & PROT_WRITE != 0 {
        f |= PageTableFlags::WRITABLE;
    }
    if prot & PROT_EXEC == 0 {
        f |= PageTableFlags::NO_EXECUTE;
    }
    f
}

/// Gives back the frames of the run `base` (`count` frames, meant for
/// the pages from `va` on) that a failed `map_run` left unmapped.
fn free_unmapped(space: &AddressSpace, va: u64, base: PhysAddr, count: u64) {
    for i in 0..count {
        let frame = base + i * PAGE_SIZE;
        if space
            .translate(VirtAddr::new(va + i * PAGE_SIZE))
            .is_none_or(|t| t.phys != frame)
        {
            paging::free_frame(frame);
        }
    }
}

fn map_error(e: MapError) -> Errno {
    match e {
        MapError::OutOfMemory => Errno::ENOMEM,
        _ => Errno::EINVAL,
    }
}

/// Entries of the translation cache (`Mm::translate_user`).
const TLB_SIZE: usize = 4;
/// Fork copies the mapped pages of areas that were never written up to
/// this size; bigger ones (a 2 MiB program text) stay lazy in the child,
/// which faults in from the backing only what it touches before it
/// execs: a fault (~0.3 ms) beats the per-page work of copying hundreds
/// of pages, a copy beats the fault for a few.
const SHARE_LAZILY_MIN: u64 = 64 * PAGE_SIZE;

pub struct Mm {
    pub space: AddressSpace,
    pub vmas: Vmas,
    /// A tiny software TLB for system calls: (user page | 1 valid | 2
    /// writable, frame). A page walk costs ~50 emulated instructions, and
    /// calls keep touching the same few pages (the stack, a buffer).
    /// Emptied by everything that unmaps or changes a mapping. One
    /// `Cell` per entry: a hit reads one entry, not a copy of the table.
    tlb: [Cell<(u64, u64)>; TLB_SIZE],
    /// Where pages were ever mapped (a superset of where page tables
    /// are): walks visit only these ranges.
    mapped: RefCell<Spans>,
    /// Where the break started and where it is now.
    pub brk_start: u64,
    pub brk: u64,
    /// The `membarrier` commands this address space registered for (not
    /// kept by fork or exec, as on Linux).
    pub membarrier: u32,
}

impl Mm {
    /// An empty user address space.
    pub fn new() -> Result<Self, Errno> {
        Ok(Self {
            space: AddressSpace::new_user_space().map_err(map_error)?,
            vmas: Vmas::new(),
            tlb: [const { Cell::new((0, 0)) }; TLB_SIZE],
            mapped: RefCell::new(Spans::new()),
            brk_start: 0,
            brk: 0,
            membarrier: 0,
        })
    }

    /// Forgets the cached translations (a mapping changed).
    fn forget(&self) {
        for e in &self.tlb {
            e.set((0, 0));
        }
    }

    /// Flushes the TLB if this address space is the live one.
    fn flush(&self) {
        self.forget();
        if crate::arch::cpu::read_cr3() & paging::PageTableEntry::ADDR_MASK == self.space.root().as_u64()
        {
            self.space.activate();
        }
    }

    /// Maps the pages of `[start, start + count pages)` (inside area `v`)
    /// that are not mapped yet and fills them from the area's backing.
    fn fill(&self, start: u64, count: u64, v: &Vma) -> Result<(), Errno> {
        // Never a page past the end of a mapped file (SIGBUS there).
        let count = match v.file_end() {
            Some(eof) if start >= eof => return Err(Errno::EFAULT),
            Some(eof) => count.min((eof - start) / PAGE_SIZE),
            None => count,
        };
        let flags = page_flags(v.prot);
        let end = start + count * PAGE_SIZE;
        // Before mapping: tables may be made even if mapping fails.
        self.mapped.borrow_mut().add(start, end);
        // A handle on the same tables: mapping needs `&mut`, and faulting
        // in is invisible to the owner (the pages were promised already).
        let mut space = self.space.clone();
        if v.kind == VmaKind::Device {
            // The device's own pages; none beyond its memory (EFAULT, a
            // SIGSEGV in ring 3, where Linux would give SIGBUS).
            let (from, phys, len) = v
                .backing
                .and_then(|b| b.within(start, end))
                .ok_or(Errno::EFAULT)?;
            let pages = page_up(len) / PAGE_SIZE;
            return space
                .map_run(
                    VirtAddr::new(from),
                    pages as usize,
                    PhysAddr::new(phys),
                    flags,
                    &mut KernelFrames,
                    &mut |_| {},
                )
                .map(|_| ())
                .map_err(map_error);
        }
        if let Some(base) = paging::allocate_contiguous(count) {
            let mut unused = alloc::vec::Vec::new();
            let r = space.map_run(
                VirtAddr::new(start),
                count as usize,
                base,
                flags,
                &mut KernelFrames,
                &mut |p| unused.push(p),
            );
            if r.is_ok() {
                if let Some((from, src, len)) = v.backing.and_then(|b| b.within(start, end)) {
                    // Frames of pages that were mapped already get bytes
                    // too; they are unused and freed below.
                    hypercall::copy(base.as_u64() + (from - start), src, len);
                }
            } else {
                // Out of memory for a page table part way: the frames
                // not mapped go back.
                free_unmapped(&space, start, base, count);
            }
            for p in unused {
                paging::free_frame(p);
            }
            return r.map(|_| ()).map_err(map_error);
        }
        // No contiguous fresh memory left: a page at a time.
        for i in 0..count {
            let page = start + i * PAGE_SIZE;
            if space.translate(VirtAddr::new(page)).is_some() {
                continue;
            }
            let frame = paging::allocate_frame().ok_or(Errno::ENOMEM)?;
            space
                .map(VirtAddr::new(page), frame, flags, &mut KernelFrames)
                .map_err(map_error)?;
            if let Some((from, src, len)) = v.backing.and_then(|b| b.within(page, page + PAGE_SIZE))
            {
                hypercall::copy(frame.as_u64() + (from - page), src, len);
            }
        }
        Ok(())
    }

    /// Maps pages of the area around `va` that are not mapped yet: the
    /// page itself, and with `around` the rest of its `FAULT_AROUND`
    /// block inside the area. False if `va` is in no area or the access
    /// (`write`, `exec`) is not allowed there.
    pub fn fault_in(&self, va: u64, write: bool, exec: bool, around: bool) -> bool {
        let Some(v) = self.vmas.find(va) else {
            return false;
        };
        if v.prot & (PROT_READ | PROT_WRITE | PROT_EXEC) == 0
            || (write && v.prot & PROT_WRITE == 0)
            || (exec && v.prot & PROT_EXEC == 0)
        {
            return false;
        }
        let (start, end) = if around {
            let block = FAULT_AROUND * PAGE_SIZE;
            (
                (va & !(block - 1)).max(v.start),
                ((va & !(block - 1)) + block).min(v.end),
            )
        } else {
            (page_down(va), page_down(va) + PAGE_SIZE)
        };
        self.fill(start, (end - start) / PAGE_SIZE, v).is_ok()
            && self.space.translate(VirtAddr::new(va)).is_some()
    }

    /// `va` is in a mapping of a file, past the end of the file: a
    /// touch is SIGBUS (BUS_ADRERR), as on Linux.
    pub fn past_file_end(&self, va: u64) -> bool {
        self.vmas
            .find(va)
            .and_then(|v| v.file_end())
            .is_some_and(|eof| va >= eof)
    }

    /// Adds an area over free space; its pages come on first touch.
    pub fn add_area(&mut self, start: u64, end: u64, prot: u32, kind: VmaKind) {
        self.add_file_area(start, end, prot, kind, None);
    }

    /// Adds an area over free space whose bytes come from `backing`.
    pub fn add_file_area(
        &mut self,
        start: u64,
        end: u64,
        prot: u32,
        kind: VmaKind,
        backing: Option<Backing>,
    ) {
        self.vmas.insert(Vma {
            start,
            end,
            prot,
            max_prot: PROT_ALL,
            kind,
            backing,
            written: prot & PROT_WRITE != 0,
        });
    }

    /// Maps every page of `[start, end)` now (each inside an area).
    pub fn populate(&mut self, start: u64, end: u64) -> Result<(), Errno> {
        let mut at = start;
        while at < end {
            let v = *self.vmas.find(at).ok_or(Errno::ENOMEM)?;
            let to = end.min(v.end);
            self.fill(at, (to - at) / PAGE_SIZE, &v)?;
            at = to;
        }
        Ok(())
    }

    /// Copies `len` bytes from guest-physical `src` to mapped user
    /// memory at `dst`, one hypercall per page.
    pub fn copy_in(&self, dst: u64, src: u64, len: u64) {
        let mut done = 0;
        while done < len {
            let va = dst + done;
            let Some(t) = self.space.translate(VirtAddr::new(va)) else {
                return;
            };
            let n = (PAGE_SIZE - va % PAGE_SIZE).min(len - done);
            hypercall::copy(t.phys.as_u64(), src + done, n);
            done += n;
        }
    }

    /// Unmaps `[start, end)`: areas and pages; frames are freed.
    pub fn unmap(&mut self, start: u64, end: u64) {
        if self.vmas.remove(start, end) {
            self.discard(start, end);
        }
    }

    /// Frees the pages of `[start, end)` but keeps the areas: the next
    /// touch brings zero pages (MADV_DONTNEED).
    pub fn discard(&mut self, start: u64, end: u64) {
        self.forget();
        let mut any = false;
        // Physically consecutive frames go back as one run (first, count),
        // as `release` gives them: one free-list write, not one per page.
        let mut run = (0u64, 0u64);
        for (from, to) in self.mapped.borrow().within(start, end) {
            self.space.for_each_leaf_run(from, to, &mut |_, entries| {
                for e in entries.iter_mut() {
                    if *e & PageTableFlags::PRESENT.bits() != 0 {
                        let frame = *e & paging::PageTableEntry::ADDR_MASK;
                        paging::extend_run(&mut run, frame, &mut paging::free_run);
                        *e = 0;
                        any = true;
                    }
                }
            });
        }
        if run.1 != 0 {
            paging::free_run(PhysAddr::new(run.0), run.1);
        }
        if any {
            self.flush();
        }
    }

    /// mprotect: ENOMEM unless `[start, end)` is all inside areas,
    /// EACCES if one of them may not have `prot`.
    pub fn protect(&mut self, start: u64, end: u64, prot: u32) -> Result<(), Errno> {
        if !self.vmas.covers(start, end) {
            return Err(Errno::ENOMEM);
        }
        if self.vmas.forbidden(start, end) & prot != 0 {
            return Err(Errno::EACCES);
        }
        self.vmas.set_prot(start, end, prot);
        for (from, to) in self.mapped.borrow().within(start, end) {
            self.space.protect_range(from, to, page_flags(prot));
        }
        self.flush();
        Ok(())
    }

    /// Moves the pages of `[old, old + len)` to `new` (free space) with
    /// their area: page-table entries move, no byte is copied.
    pub fn move_area(&mut self, old: u64, len: u64, new: u64, new_len: u64) -> Result<(), Errno> {
        let v = *self.vmas.find(old).ok_or(Errno::EFAULT)?;
        let mut moved = alloc::vec::Vec::new();
        for (from, to) in self.mapped.borrow().within(old, old + len) {
            self.space.unmap_range(from, to, &mut |va, frame| {
                moved.push((va.as_u64() - old, frame))
            });
        }
        self.mapped.borrow_mut().add(new, new + new_len);
        self.vmas.remove(old, old + len);
        self.vmas.insert(Vma {
            start: new,
            end: new + new_len,
            backing: v.backing.map(|b| Backing {
                va: b.va.wrapping_add(new).wrapping_sub(old),
                ..b
            }),
            ..v
        });
        let flags = page_flags(v.prot);
        for (off, frame) in moved {
            if let Err(e) =
                self.space
                    .map(VirtAddr::new(new + off), frame, flags, &mut KernelFrames)
            {
                paging::free_frame(frame);
                if e == MapError::OutOfMemory {
                    return Err(Errno::ENOMEM);
                }
            }
        }
        self.flush();
        Ok(())
    }

    /// brk: moves the break to `new` if it can and returns the break
    /// (unchanged on failure). Linux's rules (mm/mmap.c, `brk`):
    /// - below the start of the break, or beyond what programs may use:
    ///   fails;
    /// - within the same page: only the break moves;
    /// - shrinking unmaps `[page_up(new), page_up(old))`, whatever is
    ///   mapped there (a `MAP_FIXED` mapping inside the heap goes too),
    ///   and fails if nothing is;
    /// - growing maps `[page_up(old), page_up(new))` as a read-write area
    ///   of its own (merged with the area that ends where it starts if
    ///   that one is heap too, as `do_brk_flags` expands the brk VMA),
    ///   and fails if any mapping starts before `page_up(new)` plus one
    ///   page (Linux keeps a page free below the next mapping); it never
    ///   changes another area. (Linux also keeps `stack_guard_gap` below a
    ///   grows-down stack: here the stack is far above `IMAGE_LIMIT`.)
    ///
    /// So a guard page a program maps at the start of the heap (musl's
    /// malloc maps a PROT_NONE page at the old break) stays what it is,
    /// and the break grows past it.
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start || new > crate::process::elf::IMAGE_LIMIT {
            return self.brk;
        }
        let old_end = page_up(self.brk);
        let new_end = page_up(new);
        if new_end < old_end {
            if self.vmas.is_free(new_end, old_end) {
                return self.brk;
            }
            self.unmap(new_end, old_end);
        } else if new_end > old_end {
            if !self.vmas.is_free(old_end, new_end + PAGE_SIZE) || !may_commit(new_end - old_end) {
                return self.brk;
            }
            self.vmas.insert_merged(Vma {
                start: old_end,
                end: new_end,
                prot: PROT_READ | PROT_WRITE,
                max_prot: PROT_ALL,
                kind: VmaKind::Heap,
                backing: None,
                written: true,
            });
        }
        self.brk = new;
        self.brk
    }
}

impl Mm {
    /// Gives every frame of this address space back (user pages, page
    /// tables, the PML4), visiting only where pages were ever mapped. It
    /// must not be the live one (exec switches first).
    pub fn release(mut self) {
        let mapped = self.mapped.take();
        self.space.free_ranges(
            mapped.as_slice(),
            &mut |first, count| paging::free_run(first, count),
            &mut paging::free_frame,
        );
        paging::free_frame(self.space.root());
    }

    /// A copy for `fork`: the same areas and break, and every page mapped
    /// now copied into a frame of its own. Pages are gathered in runs
    /// (consecutive in both address and frame, same flags: the parent
    /// mapped them in blocks) and each run is copied by the host in one
    /// copy hypercall into contiguous frames, so ring 0 spends a few
    /// instructions a page on the walk and none on the bytes. Pages not
    /// mapped yet stay lazy in the child too (their areas' backing is the
    /// initramfs, which never changes), and so do the pages of big areas
    /// that were never written (`SHARE_LAZILY_MIN`: a program's text):
    /// the backing makes them again. Device pages (the framebuffer, the
    /// vDSO) are shared, as a shared mapping is on Linux.
    pub fn duplicate(&self) -> Result<Mm, Errno> {
        const DEVICE: u64 = 1 << 9; // an ignored PTE bit: a run of device pages
        const KEEP: u64 = PageTableFlags::PRESENT.bits()
            | PageTableFlags::WRITABLE.bits()
            | PageTableFlags::USER.bits()
            | PageTableFlags::NO_EXECUTE.bits();
        const ADDR: u64 = paging::PageTableEntry::ADDR_MASK;
        let mut child = Mm::new()?;
        child.vmas = self.vmas.clone();
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        // (start, first frame, pages, flags)
        let mut runs: alloc::vec::Vec<(u64, u64, u64, u64)> = alloc::vec::Vec::new();
        let mut space = self.space.clone();
        let mapped = self.mapped.borrow();
        for v in self.vmas.iter() {
            let device = if v.kind == VmaKind::Device { DEVICE } else { 0 };
            if device == 0 && !v.written && v.end - v.start >= SHARE_LAZILY_MIN {
                continue;
            }
            for (from, to) in mapped.within(v.start, v.end) {
                space.for_each_leaf_run(from, to, &mut |va, entries| {
                    // The run being extended: (next va, next frame | flags).
                    let (mut next_va, mut want) = match runs.last() {
                        Some(r) => (r.0 + r.2 * PAGE_SIZE, (r.1 + r.2 * PAGE_SIZE) | r.3),
                        None => (u64::MAX, 0),
                    };
                    let mut at = va;
                    for &e in entries.iter() {
                        if e & PageTableFlags::PRESENT.bits() != 0 {
                            let key = (e & (ADDR | KEEP)) | device;
                            if at == next_va && key == want {
                                if let Some(r) = runs.last_mut() {
                                    r.2 += 1;
                                }
                            } else {
                                runs.push((at, e & ADDR, 1, key & !ADDR));
                            }
                            next_va = at + PAGE_SIZE;
                            want = key + PAGE_SIZE;
                        }
                        at += PAGE_SIZE;
                    }
                });
            }
        }
        drop(mapped);
        *child.mapped.borrow_mut() = self.mapped.borrow().clone();
        let copied = runs.iter().try_for_each(|&(va, frame, pages, flags)| {
            let f = PageTableFlags::from_bits_truncate(flags & !DEVICE);
            let base = if flags & DEVICE != 0 {
                PhysAddr::new(frame)
            } else if let Some(base) = paging::allocate_contiguous_uninit(pages) {
                hypercall::copy(base.as_u64(), frame, pages * PAGE_SIZE);
                base
            } else {
                // No contiguous memory left: a frame at a time.
                for i in 0..pages {
                    let to = paging::allocate_frame().ok_or(Errno::ENOMEM)?;
                    hypercall::copy(to.as_u64(), frame + i * PAGE_SIZE, PAGE_SIZE);
                    if let Err(e) =
                        child
                            .space
                            .map(VirtAddr::new(va + i * PAGE_SIZE), to, f, &mut KernelFrames)
                    {
                        paging::free_frame(to);
                        return Err(map_error(e));
                    }
                }
                return Ok(());
            };
            let r = child.space.map_run(
                VirtAddr::new(va),
                pages as usize,
                base,
                f,
                &mut KernelFrames,
                &mut |_| {},
            );
            if r.is_err() && flags & DEVICE == 0 {
                free_unmapped(&child.space, va, base, pages);
            }
            r.map(|_| ()).map_err(map_error)
        });
        match copied {
            Ok(()) => Ok(child),
            Err(e) => {
                child.release();
                Err(e)
            }
        }
    }
}

impl Mm {
    /// The frame behind user page `page` if the cache has it (mapped for
    /// user access, and writable if `write`): the system calls' common
    /// case, a few instructions.
    #[inline(always)]
    fn cached(&self, page: u64, write: bool) -> Option<u64> {
        let (key, frame) = self.tlb[(page >> 12) as usize % TLB_SIZE].get();
        (key & !0xfff == page && key & 1 != 0 && (!write || key & 2 != 0)).then_some(frame)
    }

    /// The frame behind user page `page` if it is mapped for user access
    /// (and writable, if `write`), through the cache.
    fn lookup(&self, page: u64, write: bool) -> Option<u64> {
        if let Some(frame) = self.cached(page, write) {
            return Some(frame);
        }
        let t = self.space.translate(VirtAddr::new(page))?;
        if !t.flags.contains(PageTableFlags::USER) {
            return None;
        }
        let writable = t.flags.contains(PageTableFlags::WRITABLE);
        self.tlb[(page >> 12) as usize % TLB_SIZE]
            .set((page | 1 | ((writable as u64) << 1), t.phys.as_u64()));
        (!write || writable).then_some(t.phys.as_u64())
    }

    /// `translate_user` past the cache: a page walk, and the page faulted
    /// in if it is not mapped yet. Kept out of line so that the cached
    /// path saves and restores no registers.
    #[inline(never)]
    fn translate_slow(&self, va: u64, write: bool) -> Option<u64> {
        let page = va & !0xfff;
        match self.lookup(page, write) {
            Some(f) => Some(f),
            None => {
                if !self.fault_in(va, write, false, true) {
                    return None;
                }
                self.lookup(page, write)
            }
        }
    }
}

impl UserMemory for Mm {
    /// Pages of an area are faulted in here too, so a system call may
    /// write into memory the program has not touched yet.
    fn translate_user(&self, va: VirtAddr, write: bool) -> Option<PhysAddr> {
        if !va.is_user() {
            return None;
        }
        let page = va.as_u64() & !0xfff;
        let frame = match self.cached(page, write) {
            Some(f) => f,
            None => self.translate_slow(va.as_u64(), write)?,
        };
        Some(PhysAddr::new(frame | va.page_offset()))
    }

    fn phys_ptr(&self, pa: PhysAddr) -> *mut u8 {
        self.space.memory().ptr(pa)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_for_protections() {
        type F = PageTableFlags;
        assert_eq!(page_flags(PROT_READ), F::USER | F::NO_EXECUTE);
        assert_eq!(
            page_flags(PROT_READ | PROT_WRITE),
            F::USER | F::WRITABLE | F::NO_EXECUTE
        );
        assert_eq!(page_flags(PROT_READ | PROT_EXEC), F::USER);
        assert_eq!(page_flags(0), F::NO_EXECUTE, "PROT_NONE: supervisor only");
        assert_eq!(
            (page_up(1), page_up(4096), page_down(4097)),
            (4096, 4096, 4096)
        );
    }
}
