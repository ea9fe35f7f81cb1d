//! The kernel heap (`alloc`'s global allocator, guest only).
//!
//! Power-of-two size classes from 16 bytes to 64 KiB, each with a free
//! list threaded through the free blocks; new blocks are carved from
//! arenas of contiguous frames (through the direct map). Bigger requests
//! get their own run of frames, given back to the frame allocator when
//! freed. Every path is a handful of instructions (ring 0 is emulated at
//! ~0.5 us an instruction); nothing is zeroed here.
//!
//! Out of memory: a failed allocation here ends in `alloc`'s error
//! handler, a kernel panic. That is left for the kernel's own bookkeeping
//! (process structures, descriptor tables, fork's list of runs, exec's
//! argument copy), whose requests are small and come from the class free
//! lists or an arena (which falls back to a single page when no 64-page
//! run is free even after the frame allocator coalesced its free memory),
//! so it happens only when memory is all but gone. Memory for programs
//! does not come from here: pages, page tables and pipe buffers come from
//! `paging`'s frame allocator, whose failures the system calls turn into
//! ENOMEM (fork, exec, mmap with MAP_POPULATE, pipes) or, for a page a
//! program touches, into the death of that process.

use crate::mm::paging;
use crate::sync::Global;
use core::alloc::{GlobalAlloc, Layout};

const MIN_SHIFT: u32 = 4;
const MAX_SHIFT: u32 = 16;
const CLASSES: usize = (MAX_SHIFT - MIN_SHIFT + 1) as usize;
const PAGE: usize = crate::host::layout::PAGE_SIZE as usize;
/// Frames taken for an arena at a time.
const ARENA_PAGES: u64 = 64;

/// The size class of a request (`None`: a run of frames of its own).
pub fn class_of(size: usize, align: usize) -> Option<usize> {
    let need = size.max(align).max(1 << MIN_SHIFT);
    if need > 1 << MAX_SHIFT {
        return None;
    }
    let shift = usize::BITS - (need - 1).leading_zeros();
    Some((shift - MIN_SHIFT) as usize)
}

struct State {
    /// Head of each class's free list (a kernel address, 0 if empty).
    free: [usize; CLASSES],
    arena_next: usize,
    arena_end: usize,
}

static STATE: Global<State> = Global::new(State {
    free: [0; CLASSES],
    arena_next: 0,
    arena_end: 0,
});

fn frames_to_ptr(pages: u64) -> *mut u8 {
    match paging::allocate_contiguous(pages) {
        Some(pa) => pa.to_direct_map().as_mut_ptr(),
        None => core::ptr::null_mut(),
    }
}

pub struct Heap;

// SAFETY: blocks handed out are disjoint (a block is either on one free
// list or owned by one caller), at least `size` bytes and aligned to
// their class size (arenas are page aligned and carving keeps blocks
// aligned to min(class, page)); alignments above a page get no class and
// are refused.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout.size(), layout.align()) else {
            if layout.align() > PAGE {
                return core::ptr::null_mut();
            }
            return frames_to_ptr(layout.size().div_ceil(PAGE) as u64);
        };
        let size = 1usize << (class as u32 + MIN_SHIFT);
        let mut st = STATE.lock();
        let head = st.free[class];
        if head != 0 {
            // SAFETY: a block on the free list; its first word is the link.
            st.free[class] = unsafe { (head as *const usize).read() };
            return head as *mut u8;
        }
        let align = size.min(PAGE);
        let mut at = (st.arena_next + align - 1) & !(align - 1);
        if at + size > st.arena_end {
            // A whole arena, else (no run that long is free even after
            // coalescing) the least this class needs: the kernel's own
            // bookkeeping fails only when memory is all but gone.
            let need = ((size / PAGE) as u64).max(1);
            let mut pages = ARENA_PAGES.max(need);
            let mut base = frames_to_ptr(pages) as usize;
            if base == 0 && pages > need {
                pages = need;
                base = frames_to_ptr(pages) as usize;
            }
            if base == 0 {
                return core::ptr::null_mut();
            }
            at = base;
            st.arena_end = base + pages as usize * PAGE;
        }
        st.arena_next = at + size;
        at as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class_of(layout.size(), layout.align()) {
            Some(class) => {
                let mut st = STATE.lock();
                // SAFETY: the caller returns a block of this class that
                // nothing uses any more; its first word becomes the link.
                unsafe { (ptr as *mut usize).write(st.free[class]) };
                st.free[class] = ptr as usize;
            }
            None => {
                let pa = crate::mm::addr::VirtAddr::from_ptr(ptr)
                    .kernel_to_phys()
                    .expect("heap block outside the direct map");
                // One run: it can serve a big allocation again.
                paging::free_run(pa, layout.size().div_ceil(PAGE) as u64);
            }
        }
    }
}

#[cfg(target_os = "none")]
#[global_allocator]
static HEAP: Heap = Heap;

#[cfg(test)]
mod tests {
    use super::class_of;

    #[test]
    fn classes() {
        assert_eq!(class_of(1, 1), Some(0));
        assert_eq!(class_of(16, 8), Some(0));
        assert_eq!(class_of(17, 8), Some(1));
        assert_eq!(class_of(32, 8), Some(1));
        assert_eq!(class_of(8, 64), Some(2));
        assert_eq!(class_of(4096, 8), Some(8));
        assert_eq!(class_of(65536, 8), Some(12));
        assert_eq!(class_of(65537, 8), None);
        assert_eq!(class_of(0, 1), Some(0));
    }
}
