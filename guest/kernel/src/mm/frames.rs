//! The free frames: what `paging`'s frame allocator has taken back.
//!
//! Freed memory is kept as runs of consecutive frames on two lists
//! threaded through the free frames themselves (word 0 of a run's first
//! frame: the next run, word 1: its frame count): single frames (page
//! tables, heap and pipe pages, pages unmapped one at a time) on one list,
//! runs of 2 or more on the other. Freeing is two writes however long the
//! run; taking a single frame is a few instructions (ring 0 is emulated on
//! PVM, ~0.75 us an instruction), and a contiguous request takes the best
//! fit among the first `RUNS_SEARCHED` runs.
//!
//! Lists alone fragment: a run taken whole and given back a page at a time
//! (fault blocks unmapped page by page, fork's copies, exec's segments)
//! comes back as single frames, and nothing ever joins them again, so after
//! a few hundred process lifetimes no run was long enough for a 64-page
//! kernel heap arena although most of memory was free. So when no run fits
//! (`coalesce`, called by the allocator before it gives up), every free
//! frame is marked in a bitmap (one bit a frame, reserved once at boot and
//! zero between two coalesces) and the lists are rebuilt from it as the
//! longest runs there are. That costs one step per list entry plus one per
//! 64 frames of RAM, and happens only when a request would fail otherwise,
//! and only if something was freed since the last time (else it cannot
//! help).
//!
//! The bytes of free frames other than the headers are left as they were:
//! the allocator zeroes what it hands out (by hypercall, a write the
//! hypervisor's shadow paging does not see: a frame that was a page table
//! is emptied by ring-0 stores before it is freed, see
//! `paging::AddressSpace::free_ranges`; coalescing writes only headers and
//! the bitmap, both ring-0 stores).

use crate::mm::addr::PhysAddr;
use crate::host::layout::PAGE_SIZE;
use crate::mm::paging::PhysMemory;

/// Runs of the list a contiguous request compares for the best fit (each
/// costs a few emulated instructions); it looks further only if none of
/// them fits.
pub const RUNS_SEARCHED: usize = 64;

/// Frames one bitmap page covers.
const FRAMES_PER_BITMAP_PAGE: u64 = PAGE_SIZE * 8;

pub struct FreeFrames<M: PhysMemory> {
    mem: M,
    /// The frames `[base, limit)` are the allocator's; others given back
    /// (device memory below `base`: the framebuffer) are ignored.
    base: u64,
    limit: u64,
    /// Physical address of the bitmap (one bit a frame of `[base,
    /// limit)`, all zero outside `coalesce`), 0 if there is none.
    bitmap: u64,
    /// The first free run of 2 or more frames, 0 if none.
    runs_head: u64,
    /// The first free single frame, 0 if none.
    single_head: u64,
    count: u64,
    /// Frames given back since the last coalesce.
    freed_since: u64,
}

impl<M: PhysMemory> FreeFrames<M> {
    /// No frames (`init` gives it its range).
    pub const fn new(mem: M) -> Self {
        Self {
            mem,
            base: 0,
            limit: 0,
            bitmap: 0,
            runs_head: 0,
            single_head: 0,
            count: 0,
            freed_since: 0,
        }
    }

    /// Bitmap pages `init` needs for the frames of `[base, limit)`.
    pub const fn bitmap_pages(base: u64, limit: u64) -> u64 {
        let frames = limit.saturating_sub(base) / PAGE_SIZE;
        frames.div_ceil(FRAMES_PER_BITMAP_PAGE)
    }

    /// Manages the frames of `[base, limit)` (page aligned). `bitmap`:
    /// `bitmap_pages` zeroed frames, contiguous, never given back (0:
    /// no coalescing).
    pub fn init(&mut self, base: u64, limit: u64, bitmap: u64) {
        debug_assert!(base.is_multiple_of(PAGE_SIZE) && limit.is_multiple_of(PAGE_SIZE));
        self.base = base;
        self.limit = limit;
        self.bitmap = bitmap;
    }

    /// Free frames.
    pub fn count(&self) -> u64 {
        self.count
    }

    fn words(&self, at: u64) -> *mut u64 {
        self.mem.ptr(PhysAddr::new(at)).cast::<u64>()
    }

    /// The header of the free run at `run`: (next run, frames).
    fn header(&self, run: u64) -> (u64, u64) {
        // SAFETY: a run on a free list: ours; its first two words are
        // the header (`link`), and `mem` reaches the whole frame.
        unsafe {
            let p = self.words(run);
            (p.read(), p.add(1).read())
        }
    }

    fn set_header(&mut self, run: u64, next: u64, count: u64) {
        // SAFETY: as `header`; the frame is free, so ours to write.
        unsafe {
            let p = self.words(run);
            p.write(next);
            p.add(1).write(count);
        }
    }

    /// Puts the run `(first, count)` at the head of its list.
    fn link(&mut self, first: u64, count: u64) {
        if count == 1 {
            let head = self.single_head;
            self.set_header(first, head, 1);
            self.single_head = first;
        } else {
            let head = self.runs_head;
            self.set_header(first, head, count);
            self.runs_head = first;
        }
    }

    /// Gives back `count` frames from `first` (two writes however many);
    /// the part outside `[base, limit)` is ignored.
    pub fn free(&mut self, first: u64, count: u64) {
        let first_ok = first.max(self.base);
        let end = (first + count * PAGE_SIZE).min(self.limit);
        if first_ok >= end {
            return;
        }
        let count = (end - first_ok) / PAGE_SIZE;
        self.link(first_ok, count);
        self.count += count;
        self.freed_since += count;
    }

    /// Takes `count` frames off the end of the free run at `run` (whose
    /// predecessor on its list is `prev`, `None` for the head); returns
    /// the first.
    fn take_from(&mut self, prev: Option<u64>, run: u64, count: u64) -> u64 {
        let (next, have) = self.header(run);
        if have == count {
            match prev {
                None if run == self.single_head => self.single_head = next,
                None => self.runs_head = next,
                Some(prev) => {
                    let (_, n) = self.header(prev);
                    self.set_header(prev, next, n);
                }
            }
        } else {
            self.set_header(run, next, have - count);
        }
        self.count -= count;
        run + (have - count) * PAGE_SIZE
    }

    /// One frame: the last single frame freed, else the end of the first
    /// run. Its bytes are whatever they were.
    pub fn take_one(&mut self) -> Option<u64> {
        if self.single_head != 0 {
            let head = self.single_head;
            Some(self.take_from(None, head, 1))
        } else if self.runs_head != 0 {
            let head = self.runs_head;
            Some(self.take_from(None, head, 1))
        } else {
            None
        }
    }

    /// `count` consecutive frames: the end of the smallest run that holds
    /// them among the first `RUNS_SEARCHED` (a small request must not cut
    /// up the one run a program's segments could take whole; first fit
    /// on this LIFO list did), past them only while none fits. A single
    /// frame may come from the single list. None if no run is long
    /// enough (`coalesce` may make one).
    pub fn take(&mut self, count: u64) -> Option<u64> {
        if count == 0 {
            return None;
        }
        if count == 1 && self.single_head != 0 {
            return self.take_one();
        }
        let (mut prev, mut run) = (None, self.runs_head);
        let mut best: Option<(Option<u64>, u64, u64)> = None;
        let mut searched = 0;
        while run != 0 && (searched < RUNS_SEARCHED || best.is_none()) {
            searched += 1;
            let (next, have) = self.header(run);
            if have >= count && best.is_none_or(|b| have < b.2) {
                best = Some((prev, run, have));
                if have == count {
                    break;
                }
            }
            (prev, run) = (Some(run), next);
        }
        let (prev, run, _) = best?;
        Some(self.take_from(prev, run, count))
    }

    fn bitmap_word(&self, w: u64) -> *mut u64 {
        self.words(self.bitmap + w * 8)
    }

    /// Sets the bits of frames `[index, index + count)`.
    fn mark(&mut self, index: u64, count: u64) {
        let end = index + count;
        let mut i = index;
        while i < end {
            let bit = i % 64;
            let n = (64 - bit).min(end - i);
            let mask = if n == 64 { u64::MAX } else { ((1u64 << n) - 1) << bit };
            let p = self.bitmap_word(i / 64);
            // SAFETY: word i / 64 < bitmap_pages * 512 of the bitmap
            // (`init`: i < the frames of [base, limit)), which is ours.
            unsafe {
                let w = p.read();
                debug_assert!(w & mask == 0, "a frame is on the free lists twice");
                p.write(w | mask);
            }
            i += n;
        }
    }

    /// Rebuilds the free lists as the longest runs of free frames there
    /// are (see the module docs). False (and nothing done) if nothing was
    /// freed since the last time or there is no bitmap.
    pub fn coalesce(&mut self) -> bool {
        if self.bitmap == 0 || self.freed_since == 0 {
            return false;
        }
        for head in [self.single_head, self.runs_head] {
            let mut run = head;
            while run != 0 {
                let (next, n) = self.header(run);
                self.mark((run - self.base) / PAGE_SIZE, n);
                run = next;
            }
        }
        self.single_head = 0;
        self.runs_head = 0;
        let words = ((self.limit - self.base) / PAGE_SIZE).div_ceil(64);
        // The first frame of the run being scanned.
        let mut start: Option<u64> = None;
        for w in 0..words {
            let p = self.bitmap_word(w);
            // SAFETY: w < the bitmap's words (`init`), ours.
            let word = unsafe { p.read() };
            if word == 0 {
                if let Some(s) = start.take() {
                    self.link(self.base + s * PAGE_SIZE, w * 64 - s);
                }
                continue;
            }
            // Zero again for the next time.
            // SAFETY: as above.
            unsafe { p.write(0) };
            if word == u64::MAX {
                if start.is_none() {
                    start = Some(w * 64);
                }
                continue;
            }
            let mut bit = 0u32;
            while bit < 64 {
                let rest = word >> bit;
                match start {
                    None => {
                        if rest == 0 {
                            break;
                        }
                        bit += rest.trailing_zeros();
                        start = Some(w * 64 + bit as u64);
                    }
                    Some(s) => {
                        // The ones from `bit` on (`!rest` has the shifted-in
                        // top bits set, so at most 64 - bit).
                        bit += (!rest).trailing_zeros();
                        if bit < 64 {
                            self.link(self.base + s * PAGE_SIZE, w * 64 + bit as u64 - s);
                            start = None;
                        }
                    }
                }
            }
        }
        if let Some(s) = start {
            // Bits past the last frame are never set: the run ends there.
            self.link(self.base + s * PAGE_SIZE, words * 64 - s);
        }
        self.freed_since = 0;
        true
    }

    /// Every free run, singles first (for tests and checks).
    #[cfg(test)]
    pub fn runs(&self) -> std::vec::Vec<(u64, u64)> {
        let mut out = std::vec::Vec::new();
        for head in [self.single_head, self.runs_head] {
            let mut run = head;
            while run != 0 {
                let (next, n) = self.header(run);
                out.push((run, n));
                run = next;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::paging::fake::FakeMemory;
    use crate::mm::paging::FrameAllocator;

    const P: u64 = PAGE_SIZE;

    /// Free frames over `frames` frames of fake memory (frame n at
    /// physical (n + 1) * 4096), the last `bitmap_pages` of them the
    /// bitmap; nothing free yet.
    fn setup(mem: &FakeMemory, frames: u64) -> (FreeFrames<&FakeMemory>, u64, u64) {
        let mut m = mem;
        let bitmap_pages = FreeFrames::<&FakeMemory>::bitmap_pages(P, (frames + 1) * P);
        for _ in 0..frames + bitmap_pages {
            m.allocate_frame().unwrap();
        }
        let base = P;
        let limit = base + frames * P;
        let mut f = FreeFrames::new(mem);
        f.init(base, limit, limit);
        (f, base, limit)
    }

    fn sorted(f: &FreeFrames<&FakeMemory>) -> Vec<(u64, u64)> {
        let mut r = f.runs();
        r.sort();
        r
    }

    #[test]
    fn coalescing_joins_neighbours_into_the_longest_runs() {
        let mem = FakeMemory::new();
        let (mut f, base, _) = setup(&mem, 300);
        // Frames 0..10 one at a time in a scrambled order, 10..20 as two
        // runs, 30..32 as a run, 40 alone, 63..66 across a word boundary,
        // 127..129 and all of 130..300 (several whole words).
        for i in [3, 0, 9, 1, 2, 8, 4, 7, 5, 6] {
            f.free(base + i * P, 1);
        }
        f.free(base + 15 * P, 5);
        f.free(base + 10 * P, 5);
        f.free(base + 30 * P, 2);
        f.free(base + 40 * P, 1);
        f.free(base + 64 * P, 2);
        f.free(base + 63 * P, 1);
        f.free(base + 127 * P, 3);
        f.free(base + 130 * P, 170);
        let total = f.count();
        assert_eq!(total, 10 + 10 + 2 + 1 + 3 + 3 + 170);
        assert_eq!(f.take(171), None, "no single run is long enough yet");
        assert!(f.coalesce());
        assert_eq!(
            sorted(&f),
            [
                (base, 20),
                (base + 30 * P, 2),
                (base + 40 * P, 1),
                (base + 63 * P, 3),
                (base + 127 * P, 173),
            ]
        );
        assert_eq!(f.count(), total);
        assert!(!f.coalesce(), "nothing freed since: nothing to do");
        // The bitmap is zero again: a second round gives the same runs.
        f.free(base + 20 * P, 1);
        assert!(f.coalesce());
        assert_eq!(sorted(&f)[0], (base, 21));
        assert_eq!(f.take(21), Some(base));
        assert_eq!(f.take(173), Some(base + 127 * P));
        assert_eq!(f.count(), total + 1 - 21 - 173);
    }

    #[test]
    fn best_fit_and_single_frames() {
        let mem = FakeMemory::new();
        let (mut f, base, _) = setup(&mem, 200);
        f.free(base, 10);
        f.free(base + 20 * P, 4);
        f.free(base + 30 * P, 6);
        f.free(base + 50 * P, 1);
        // The smallest run that holds 3 is the 4-frame one: its end.
        assert_eq!(f.take(3), Some(base + 21 * P));
        assert_eq!(f.take(6), Some(base + 30 * P), "an exact fit");
        // A single frame: the single list first.
        assert_eq!(f.take_one(), Some(base + 50 * P));
        assert_eq!(f.take_one(), Some(base + 20 * P), "then a run's end");
        assert_eq!(f.take(11), None);
        assert_eq!(f.take(10), Some(base));
        assert_eq!((f.count(), f.take_one()), (0, None));
        // Frames outside the allocator's range are ignored.
        f.free(0, 1);
        f.free(base + 199 * P, 3);
        assert_eq!(sorted(&f), [(base + 199 * P, 1)]);
    }

    /// A synthetic churn like a shell loop's: each round takes contiguous
    /// blocks (fault blocks, a fork's copy, a heap arena now and then)
    /// and single frames (page tables), and gives blocks back a page at a
    /// time in a scrambled order. Without coalescing the free memory ends
    /// up as single frames and a 64-frame request fails with most of
    /// memory free; with it (as the allocator does: coalesce when no run
    /// fits) every request is served.
    fn churn(coalescing: bool) -> Option<usize> {
        let mem = FakeMemory::new();
        let (mut f, base, _) = setup(&mem, 4096);
        f.free(base, 4096);
        let mut seed = 1u64;
        let mut rand = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut held: Vec<(u64, u64)> = Vec::new();
        for round in 0..3000 {
            let mut want: Vec<u64> = vec![16, 16, 16, 8, 1, 1, 1, 1, 1];
            if round % 7 == 0 {
                want.push(64);
            }
            for n in want {
                let got = f.take(n).or_else(|| {
                    if coalescing && f.coalesce() {
                        f.take(n)
                    } else {
                        None
                    }
                });
                match got {
                    Some(first) => held.push((first, n)),
                    None => return Some(round),
                }
            }
            // Keep about 1/4 of memory in use; give back page by page.
            while held.iter().map(|h| h.1).sum::<u64>() > 1024 {
                let (first, n) = held.swap_remove(rand(held.len() as u64) as usize);
                let mut pages: Vec<u64> = (0..n).collect();
                for i in (1..pages.len()).rev() {
                    pages.swap(i, rand(i as u64 + 1) as usize);
                }
                for p in pages {
                    f.free(first + p * P, 1);
                }
            }
        }
        let used: u64 = held.iter().map(|h| h.1).sum();
        assert_eq!(f.count() + used, 4096, "no frame lost or made up");
        None
    }

    #[test]
    fn churn_fragments_without_coalescing_but_not_with_it() {
        let died = churn(false);
        assert!(died.is_some(), "the lists alone fragment");
        assert_eq!(churn(true), None, "coalescing keeps runs long");
    }
}
