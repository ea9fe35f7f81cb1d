//! The areas of a user address space (Linux's VMAs): sorted, disjoint
//! page-aligned ranges, each with its protection and what it is for.
//! Pure bookkeeping; `mm` maps and unmaps the pages.

use alloc::vec::Vec;

pub const PROT_READ: u32 = 1;
pub const PROT_WRITE: u32 = 2;
pub const PROT_EXEC: u32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmaKind {
    /// A PT_LOAD segment of the program.
    Image,
    /// The break (`brk`).
    Heap,
    /// The main thread's stack.
    Stack,
    /// `mmap`: anonymous or a private copy of a file.
    Mmap,
    /// `mmap` of a device's memory (the framebuffer): the pages of the
    /// backing are mapped themselves, not copied, and never freed.
    Device,
}

/// Where an area's bytes come from: user addresses `[va, va + len)`
/// hold the guest-physical bytes `[phys, phys + len)` (a file in the
/// initramfs); the rest of the area is zero. Pages are filled when they
/// are first touched (the initramfs never changes, so a late copy is a
/// private copy all the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backing {
    pub va: u64,
    pub phys: u64,
    pub len: u64,
}

impl Backing {
    /// The part of `[start, end)` that has file bytes: (user address,
    /// guest-physical source, length).
    pub fn within(&self, start: u64, end: u64) -> Option<(u64, u64, u64)> {
        let from = start.max(self.va);
        let to = end.min(self.va + self.len);
        (from < to).then(|| (from, self.phys + (from - self.va), to - from))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: u32,
    /// What `mprotect` may grant (a shared mapping of a file opened
    /// read-only may never be writable: EACCES).
    pub max_prot: u32,
    pub kind: VmaKind,
    /// File bytes, for areas that map a file.
    pub backing: Option<Backing>,
    /// Its pages may hold bytes other than the ones `backing` gives (the
    /// area was writable at some time, or the kernel wrote into it).
    /// While false a page can always be made again from the backing, so
    /// fork need not copy it (the child faults it in when it touches it).
    pub written: bool,
}

impl Vma {
    /// For a mapping of a file (`mmap`), where the pages with file bytes
    /// end: Linux raises SIGBUS for a page past the end of the file (and
    /// a system call touching it gets EFAULT). None for other areas (a
    /// program's bss is zero, not past anything).
    pub fn file_end(&self) -> Option<u64> {
        const PAGE: u64 = crate::host::layout::PAGE_SIZE;
        match (self.kind, self.backing) {
            (VmaKind::Mmap, Some(b)) => Some((b.va + b.len + PAGE - 1) & !(PAGE - 1)),
            _ => None,
        }
    }
}

/// Every protection.
pub const PROT_ALL: u32 = PROT_READ | PROT_WRITE | PROT_EXEC;

#[derive(Debug, Default, Clone)]
pub struct Vmas {
    list: Vec<Vma>,
}

impl Vmas {
    pub const fn new() -> Self {
        Self { list: Vec::new() }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.list.iter()
    }

    /// Index of the first area ending above `addr`.
    fn first_ending_above(&self, addr: u64) -> usize {
        self.list.partition_point(|v| v.end <= addr)
    }

    /// The area containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        let i = self.first_ending_above(addr);
        self.list.get(i).filter(|v| v.start <= addr)
    }

    /// The area containing `addr`, to change in place.
    pub fn find_mut(&mut self, addr: u64) -> Option<&mut Vma> {
        let i = self.first_ending_above(addr);
        self.list.get_mut(i).filter(|v| v.start <= addr)
    }

    /// No area meets `[start, end)`.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        let i = self.first_ending_above(start);
        self.list.get(i).is_none_or(|v| v.start >= end)
    }

    /// Every byte of `[start, end)` is in some area.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        let mut i = self.first_ending_above(start);
        while at < end {
            match self.list.get(i) {
                Some(v) if v.start <= at => {
                    at = v.end;
                    i += 1;
                }
                _ => return false,
            }
        }
        true
    }

    /// Adds an area over free space (the caller checked `is_free`).
    pub fn insert(&mut self, vma: Vma) {
        debug_assert!(vma.start < vma.end && self.is_free(vma.start, vma.end));
        let i = self.first_ending_above(vma.start);
        self.list.insert(i, vma);
        self.debug_check();
    }

    /// Every lookup (`partition_point`) relies on this: each area is
    /// non-empty and ends at or below the next one's start. Checked after
    /// every change in debug builds (the host-compiled tests).
    fn debug_check(&self) {
        debug_assert!(
            self.list.iter().all(|v| v.start < v.end)
                && self.list.windows(2).all(|w| w[0].end <= w[1].start),
            "areas out of order: {:x?}",
            self.list.iter().map(|v| (v.start, v.end)).collect::<Vec<_>>()
        );
    }

    /// `insert`, then joined with the neighbours it touches if they
    /// agree (brk's growth: the heap stays one area, as on Linux).
    pub fn insert_merged(&mut self, vma: Vma) {
        self.insert(vma);
        self.merge();
    }

    /// Makes `addr` an area boundary if an area straddles it.
    fn split_at(&mut self, addr: u64) {
        let i = self.first_ending_above(addr);
        if let Some(&v) = self.list.get(i) {
            if v.start < addr && addr < v.end {
                self.list[i].end = addr;
                self.list.insert(i + 1, Vma { start: addr, ..v });
            }
        }
    }

    /// The indexes of the areas inside `[start, end)` after splitting at
    /// both ends.
    fn isolate(&mut self, start: u64, end: u64) -> core::ops::Range<usize> {
        self.split_at(start);
        self.split_at(end);
        let first = self.first_ending_above(start);
        let last = self.list.partition_point(|v| v.start < end);
        first..last.max(first)
    }

    /// Forgets `[start, end)`; returns whether any area was there.
    pub fn remove(&mut self, start: u64, end: u64) -> bool {
        let r = self.isolate(start, end);
        let any = !r.is_empty();
        self.list.drain(r);
        self.debug_check();
        any
    }

    /// The union of what the areas of `[start, end)` may not be given.
    pub fn forbidden(&self, start: u64, end: u64) -> u32 {
        let first = self.first_ending_above(start);
        self.list[first..]
            .iter()
            .take_while(|v| v.start < end)
            .fold(0, |acc, v| acc | (PROT_ALL & !v.max_prot))
    }

    /// Sets the protection of `[start, end)` (which `covers` checked).
    pub fn set_prot(&mut self, start: u64, end: u64, prot: u32) {
        let r = self.isolate(start, end);
        for v in &mut self.list[r] {
            v.prot = prot;
            v.written |= prot & PROT_WRITE != 0;
        }
        self.merge();
    }

    /// The pages of `[start, end)` may differ from their backing now.
    pub fn mark_written(&mut self, start: u64, end: u64) {
        let r = self.isolate(start, end);
        for v in &mut self.list[r] {
            v.written = true;
        }
        self.merge();
    }

    /// Joins neighbours that touch and agree (keeps the list short).
    fn merge(&mut self) {
        let mut i = 1;
        while i < self.list.len() {
            let (a, b) = (self.list[i - 1], self.list[i]);
            if a.end == b.start
                && a.prot == b.prot
                && a.kind == b.kind
                && a.max_prot == b.max_prot
                && a.backing == b.backing
                && a.written == b.written
            {
                self.list[i - 1].end = b.end;
                self.list.remove(i);
            } else {
                i += 1;
            }
        }
        self.debug_check();
    }

    /// Grows or shrinks the area that ends at `old_end` to end at
    /// `new_end` (the caller checked the space is free).
    pub fn resize(&mut self, start: u64, new_end: u64) {
        if let Some(v) = self.list.iter_mut().find(|v| v.start == start) {
            v.end = new_end;
        }
        self.debug_check();
    }

    /// The highest `len` bytes of free space in `[bottom, top)`,
    /// searching down from `top` (Linux's top-down mmap layout).
    pub fn find_free(&self, len: u64, bottom: u64, top: u64) -> Option<u64> {
        let mut hole_end = top;
        for v in self.list.iter().rev() {
            if v.start >= hole_end {
                continue;
            }
            if v.end <= hole_end && hole_end - v.end >= len {
                return Some(hole_end - len).filter(|&s| s >= bottom);
            }
            hole_end = hole_end.min(v.start);
            if hole_end < bottom.saturating_add(len) {
                return None;
            }
        }
        hole_end.checked_sub(len).filter(|&s| s >= bottom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vma(start: u64, end: u64, prot: u32) -> Vma {
        Vma {
            start,
            end,
            prot,
            max_prot: PROT_ALL,
            kind: VmaKind::Mmap,
            backing: None,
            written: prot & PROT_WRITE != 0,
        }
    }

    fn ranges(v: &Vmas) -> Vec<(u64, u64, u32)> {
        v.iter().map(|v| (v.start, v.end, v.prot)).collect()
    }

    /// What the unchecked mremap did with `old + new_len` wrapped past
    /// 2^64: an area ending below its start. The debug check catches it.
    #[test]
    #[should_panic(expected = "areas out of order")]
    fn an_area_ending_below_its_start_is_caught() {
        let mut v = Vmas::new();
        v.insert(vma(0x7000_0000, 0x7000_2000, 3));
        v.resize(0x7000_0000, 0x1000);
    }

    #[test]
    fn an_area_grown_into_the_next_is_caught() {
        let mut v = Vmas::new();
        v.insert(vma(0x1000, 0x2000, 3));
        v.insert(vma(0x3000, 0x4000, 1));
        let r = std::panic::catch_unwind(move || {
            let mut v = v;
            v.resize(0x1000, 0x3800);
        });
        assert!(r.is_err());
    }

    #[test]
    fn insert_find_remove() {
        let mut v = Vmas::new();
        v.insert(vma(0x5000, 0x8000, 3));
        v.insert(vma(0x1000, 0x2000, 1));
        v.insert(vma(0x9000, 0xa000, 5));
        assert_eq!(
            ranges(&v),
            [
                (0x1000, 0x2000, 1),
                (0x5000, 0x8000, 3),
                (0x9000, 0xa000, 5)
            ]
        );
        assert_eq!(v.find(0x5fff).map(|v| v.start), Some(0x5000));
        assert_eq!(v.find(0x8000), None);
        assert_eq!(v.find(0x0), None);
        assert!(v.is_free(0x2000, 0x5000));
        assert!(!v.is_free(0x2000, 0x5001));
        assert!(v.covers(0x5000, 0x8000));
        assert!(!v.covers(0x5000, 0x9000));
        assert!(v.covers(0x6000, 0x6000));
        // Punch a hole in the middle one and drop the last.
        assert!(v.remove(0x6000, 0x7000));
        assert!(v.remove(0x8800, 0xb000));
        assert!(!v.remove(0x2000, 0x5000));
        assert_eq!(
            ranges(&v),
            [
                (0x1000, 0x2000, 1),
                (0x5000, 0x6000, 3),
                (0x7000, 0x8000, 3)
            ]
        );
    }

    #[test]
    fn protections_split_and_merge() {
        let mut v = Vmas::new();
        v.insert(vma(0x1000, 0x5000, 3));
        v.set_prot(0x2000, 0x3000, 1);
        assert_eq!(
            ranges(&v),
            [
                (0x1000, 0x2000, 3),
                (0x2000, 0x3000, 1),
                (0x3000, 0x5000, 3)
            ]
        );
        v.set_prot(0x2000, 0x3000, 3);
        assert_eq!(ranges(&v), [(0x1000, 0x5000, 3)]);
        // Once writable, an area stays `written`: it no longer merges
        // with a neighbour that never was.
        let mut w = Vmas::new();
        w.insert(vma(0x1000, 0x4000, 1));
        w.set_prot(0x2000, 0x3000, 3);
        w.set_prot(0x2000, 0x3000, 1);
        assert_eq!(w.iter().filter(|v| v.written).count(), 1);
        assert_eq!(ranges(&w).len(), 3);
        w.mark_written(0x1000, 0x2000);
        w.mark_written(0x3000, 0x4000);
        assert_eq!(ranges(&w), [(0x1000, 0x4000, 1)]);
        v.resize(0x1000, 0x9000);
        assert_eq!(ranges(&v), [(0x1000, 0x9000, 3)]);
    }

    /// brk's growth next to a guard page at the start of the heap: the
    /// new pages join the heap area, never the guard.
    #[test]
    fn insert_merged_joins_only_agreeing_neighbours() {
        let heap = |start, end| Vma {
            kind: VmaKind::Heap,
            ..vma(start, end, 3)
        };
        let mut v = Vmas::new();
        v.insert(vma(0x1000, 0x2000, 0));
        v.insert(heap(0x2000, 0x3000));
        v.insert_merged(heap(0x3000, 0x5000));
        assert_eq!(ranges(&v), [(0x1000, 0x2000, 0), (0x2000, 0x5000, 3)]);
        v.insert_merged(vma(0x5000, 0x6000, 3));
        assert_eq!(ranges(&v).len(), 3, "an mmap area stays apart");
    }

    #[test]
    fn backing_ranges() {
        let b = Backing {
            va: 0x401234,
            phys: 0x200_0000,
            len: 0x2000,
        };
        assert_eq!(
            b.within(0x400000, 0x410000),
            Some((0x401234, 0x200_0000, 0x2000))
        );
        assert_eq!(
            b.within(0x402000, 0x403000),
            Some((0x402000, 0x200_0dcc, 0x1000))
        );
        assert_eq!(
            b.within(0x403000, 0x404000),
            Some((0x403000, 0x200_1dcc, 0x234))
        );
        assert_eq!(b.within(0x404000, 0x405000), None, "bss");
        assert_eq!(b.within(0x300000, 0x401000), None);
    }

    #[test]
    fn file_mappings_end_with_the_file() {
        let file = |len| Vma {
            backing: Some(Backing {
                va: 0x10000,
                phys: 0x200_0000,
                len,
            }),
            ..vma(0x10000, 0x14000, 1)
        };
        assert_eq!(file(0x1001).file_end(), Some(0x12000), "the page holding the last byte");
        assert_eq!(file(0x1000).file_end(), Some(0x11000));
        assert_eq!(file(0).file_end(), Some(0x10000), "mapped wholly past the end");
        assert_eq!(vma(0x10000, 0x14000, 1).file_end(), None, "anonymous");
        let image = Vma {
            kind: VmaKind::Image,
            ..file(0x10)
        };
        assert_eq!(image.file_end(), None, "bss");
    }

    #[test]
    fn top_down_search() {
        let mut v = Vmas::new();
        assert_eq!(v.find_free(0x1000, 0x10000, 0x100000), Some(0xff000));
        v.insert(vma(0xf0000, 0x100000, 3));
        v.insert(vma(0xd0000, 0xe0000, 3));
        assert_eq!(v.find_free(0x10000, 0x10000, 0x100000), Some(0xe0000));
        assert_eq!(
            v.find_free(0x10001, 0x10000, 0x100000),
            Some(0xd0000 - 0x10001)
        );
        assert_eq!(v.find_free(0xc0000, 0x10000, 0x100000), Some(0x10000));
        assert_eq!(v.find_free(0xc1000, 0x10000, 0x100000), None);
        // Areas above `top` are ignored.
        v.insert(vma(0x200000, 0x300000, 3));
        assert_eq!(v.find_free(0x1000, 0x10000, 0x100000), Some(0xef000));
    }
}
