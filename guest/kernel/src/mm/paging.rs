//! 4-level paging: entry flags, a frame allocator and address spaces.
//!
//! Page tables are reached through the direct map (`DIRECT_MAP_BASE + p`),
//! set up by the host for all of RAM. Frames come from a bump allocator
//! over `[freeMemoryStart, ramSize)`, which the host hands over zeroed, so
//! a new table needs no clearing (clearing 4 KiB costs ~1 ms in emulated
//! ring 0). The kernel's address space is the boot PML4 (CR3 at entry);
//! a user address space is a fresh PML4 whose upper half copies the
//! kernel's entries, so kernel mappings are shared, user ones are private.

use crate::mm::addr::{PhysAddr, VirtAddr};
use crate::host::layout::PAGE_SIZE;
use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign, Not};

/// Flags of a page-table entry (Intel SDM vol. 3, 4.5).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct PageTableFlags(u64);

impl PageTableFlags {
    pub const PRESENT: Self = Self(1 << 0);
    pub const WRITABLE: Self = Self(1 << 1);
    /// Ring 3 may access (needed at every level of the walk).
    pub const USER: Self = Self(1 << 2);
    pub const WRITE_THROUGH: Self = Self(1 << 3);
    pub const NO_CACHE: Self = Self(1 << 4);
    pub const ACCESSED: Self = Self(1 << 5);
    pub const DIRTY: Self = Self(1 << 6);
    /// In a PDPT or PD entry: a 1 GiB or 2 MiB page instead of a table.
    pub const HUGE_PAGE: Self = Self(1 << 7);
    pub const GLOBAL: Self = Self(1 << 8);
    pub const NO_EXECUTE: Self = Self(1 << 63);

    pub const fn empty() -> Self {
        Self(0)
    }
    pub const fn bits(self) -> u64 {
        self.0
    }
    /// The flag bits of `bits` (address bits dropped).
    pub const fn from_bits_truncate(bits: u64) -> Self {
        Self(bits & !PageTableEntry::ADDR_MASK)
    }
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl BitOr for PageTableFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}
impl BitOrAssign for PageTableFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}
impl BitAnd for PageTableFlags {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}
impl Not for PageTableFlags {
    type Output = Self;
    fn not(self) -> Self {
        Self::from_bits_truncate(!self.0)
    }
}

impl fmt::Debug for PageTableFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(PageTableFlags, &str); 10] = [
            (PageTableFlags::PRESENT, "P"),
            (PageTableFlags::WRITABLE, "W"),
            (PageTableFlags::USER, "U"),
            (PageTableFlags::WRITE_THROUGH, "PWT"),
            (PageTableFlags::NO_CACHE, "PCD"),
            (PageTableFlags::ACCESSED, "A"),
            (PageTableFlags::DIRTY, "D"),
            (PageTableFlags::HUGE_PAGE, "PS"),
            (PageTableFlags::GLOBAL, "G"),
            (PageTableFlags::NO_EXECUTE, "NX"),
        ];
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                f.write_str(if first { "" } else { "|" })?;
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// One 64-bit entry: a physical frame address and flags.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct PageTableEntry(u64);

impl PageTableEntry {
    /// Bits 51..12: the frame.
    pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

    pub const fn new(addr: PhysAddr, flags: PageTableFlags) -> Self {
        Self((addr.as_u64() & Self::ADDR_MASK) | flags.bits())
    }
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }
    pub const fn raw(self) -> u64 {
        self.0
    }
    pub const fn addr(self) -> PhysAddr {
        PhysAddr::new(self.0 & Self::ADDR_MASK)
    }
    pub const fn flags(self) -> PageTableFlags {
        PageTableFlags::from_bits_truncate(self.0)
    }
    pub const fn is_present(self) -> bool {
        self.flags().contains(PageTableFlags::PRESENT)
    }
}

impl fmt::Debug for PageTableEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PageTableEntry({:#x} {:?})",
            self.0 & Self::ADDR_MASK,
            self.flags()
        )
    }
}

pub const ENTRY_COUNT: usize = 512;

/// One page-table page.
#[repr(C, align(4096))]
pub struct PageTable {
    pub entries: [PageTableEntry; ENTRY_COUNT],
}

/// How the kernel reaches physical memory.
pub trait PhysMemory {
    /// A pointer through which physical byte `pa` can be read and written.
    fn ptr(&self, pa: PhysAddr) -> *mut u8;
}

/// Physical memory through `DIRECT_MAP_BASE`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DirectMap;

impl PhysMemory for DirectMap {
    fn ptr(&self, pa: PhysAddr) -> *mut u8 {
        pa.to_direct_map().as_mut_ptr()
    }
}

/// A source of zeroed 4 KiB frames.
pub trait FrameAllocator {
    fn allocate_frame(&mut self) -> Option<PhysAddr>;
}

/// Hands out `[next, end)` one frame at a time and never takes one back:
/// every frame it returns is still zero from the host.
#[derive(Debug, Clone)]
pub struct BumpAllocator {
    next: u64,
    end: u64,
}

impl BumpAllocator {
    pub const fn empty() -> Self {
        Self { next: 0, end: 0 }
    }

    /// Frames in `[start, end)`, both rounded inward to page boundaries.
    pub const fn new(start: u64, end: u64) -> Self {
        Self {
            next: (start + PAGE_SIZE - 1) & !(PAGE_SIZE - 1),
            end: end & !(PAGE_SIZE - 1),
        }
    }

    pub const fn remaining(&self) -> u64 {
        if self.end > self.next {
            (self.end - self.next) / PAGE_SIZE
        } else {
            0
        }
    }
}

impl FrameAllocator for BumpAllocator {
    fn allocate_frame(&mut self) -> Option<PhysAddr> {
        if self.remaining() == 0 {
            return None;
        }
        let frame = self.next;
        self.next += PAGE_SIZE;
        Some(PhysAddr::new(frame))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    OutOfMemory,
    /// The page is mapped already.
    AlreadyMapped,
    /// A 2 MiB / 1 GiB page covers the address.
    HugePage,
    /// An address or length is not page aligned.
    Unaligned,
}

/// Where a virtual address leads, and the access the whole walk allows:
/// `WRITABLE`/`USER` only if every level has them, `NO_EXECUTE` if any has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    pub phys: PhysAddr,
    pub flags: PageTableFlags,
}

/// A PML4 and everything reachable from it.
/// Adds `frame` to `run`, a run of physically consecutive frames
/// `(first, count)` (count 0: none yet); a run `frame` does not continue
/// goes to `done` first. The caller hands the last run to `done`.
#[inline(always)]
pub fn extend_run<F: FnMut(PhysAddr, u64) + ?Sized>(
    run: &mut (u64, u64),
    frame: u64,
    done: &mut F,
) {
    if run.1 != 0 && run.0 + run.1 * PAGE_SIZE == frame {
        run.1 += 1;
    } else {
        if run.1 != 0 {
            done(PhysAddr::new(run.0), run.1);
        }
        *run = (frame, 1);
    }
}

#[derive(Clone)]
pub struct AddressSpace<M: PhysMemory = DirectMap> {
    root: PhysAddr,
    mem: M,
}

impl<M: PhysMemory> AddressSpace<M> {
    /// # Safety
    /// `root` and every table reachable from it must be valid page tables
    /// reachable through `mem`, not in use as anything else. With
    /// `DirectMap`, the upper half must map the kernel as the boot tables
    /// do (`activate` relies on it).
    pub const unsafe fn from_root(root: PhysAddr, mem: M) -> Self {
        Self { root, mem }
    }

    /// Physical address of the PML4 (the CR3 value).
    pub fn root(&self) -> PhysAddr {
        self.root
    }

    /// How this address space reaches physical memory.
    pub fn memory(&self) -> &M {
        &self.mem
    }

    fn entry(&self, table: PhysAddr, index: usize) -> *mut PageTableEntry {
        debug_assert!(index < ENTRY_COUNT);
        // The type invariant (see `from_root`) makes `table` a page table
        // reachable through `mem`; the pointer stays inside it.
        self.mem
            .ptr(table)
            .cast::<PageTableEntry>()
            .wrapping_add(index)
    }

    fn read(&self, table: PhysAddr, index: usize) -> PageTableEntry {
        // SAFETY: `entry` points into a live page table (type invariant).
        unsafe { self.entry(table, index).read() }
    }

    fn write(&mut self, table: PhysAddr, index: usize, e: PageTableEntry) {
        // SAFETY: `entry` points into a live page table (type invariant),
        // and `&mut self` makes this the only writer.
        unsafe { self.entry(table, index).write(e) }
    }

    /// Walks the tables for `va`. Written out level by level with plain
    /// integers: on PVM every ring-0 instruction costs ~1 us, and system
    /// calls translate user pointers all the time.
    pub fn translate(&self, va: VirtAddr) -> Option<Translation> {
        const P: u64 = PageTableFlags::PRESENT.bits();
        const PS: u64 = PageTableFlags::HUGE_PAGE.bits();
        const ADDR: u64 = PageTableEntry::ADDR_MASK;
        let v = va.as_u64();
        let entry = |table: u64, shift: u32| -> u64 {
            let index = ((v >> shift) & 0x1ff) as usize;
            // SAFETY: `table` is a page table reachable through `mem`
            // (type invariant: it comes from the root or a present
            // non-leaf entry), and index < 512.
            unsafe {
                self.mem
                    .ptr(PhysAddr::new(table))
                    .cast::<u64>()
                    .add(index)
                    .read()
            }
        };
        let done = |path: u64, nx: u64, leaf: u64, size: u64| {
            Some(Translation {
                phys: PhysAddr::new((leaf & ADDR & !(size - 1)) | (v & (size - 1))),
                flags: PageTableFlags::from_bits_truncate(
                    P | (path & (PageTableFlags::WRITABLE.bits() | PageTableFlags::USER.bits()))
                        | (nx & PageTableFlags::NO_EXECUTE.bits()),
                ),
            })
        };
        let e4 = entry(self.root.as_u64(), 39);
        if e4 & P == 0 {
            return None;
        }
        let e3 = entry(e4 & ADDR, 30);
        if e3 & P == 0 {
            return None;
        }
        if e3 & PS != 0 {
            return done(e4 & e3, e4 | e3, e3, 1 << 30);
        }
        let e2 = entry(e3 & ADDR, 21);
        if e2 & P == 0 {
            return None;
        }
        if e2 & PS != 0 {
            return done(e4 & e3 & e2, e4 | e3 | e2, e2, 1 << 21);
        }
        let e1 = entry(e2 & ADDR, 12);
        if e1 & P == 0 {
            return None;
        }
        done(e4 & e3 & e2 & e1, e4 | e3 | e2 | e1, e1, 1 << 12)
    }

    /// Maps the 4 KiB page at `va` to frame `pa` with `flags` (PRESENT is
    /// implied). Missing tables come from `frames`; the entries leading to
    /// a USER page get USER too. Does not flush the TLB: mapping a page
    /// that was not present needs no flush.
    pub fn map(
        &mut self,
        va: VirtAddr,
        pa: PhysAddr,
        flags: PageTableFlags,
        frames: &mut impl FrameAllocator,
    ) -> Result<(), MapError> {
        if !va.is_aligned(PAGE_SIZE) || !pa.is_aligned(PAGE_SIZE) {
            return Err(MapError::Unaligned);
        }
        let table = self.leaf_table(va, flags.contains(PageTableFlags::USER), frames)?;
        let index = va.table_index(1);
        if self.read(table, index).is_present() {
            return Err(MapError::AlreadyMapped);
        }
        self.write(
            table,
            index,
            PageTableEntry::new(pa, flags | PageTableFlags::PRESENT),
        );
        Ok(())
    }

    /// `map` for each page of `[va, va + len)` -> `[pa, pa + len)`.
    pub fn map_range(
        &mut self,
        va: VirtAddr,
        pa: PhysAddr,
        len: u64,
        flags: PageTableFlags,
        frames: &mut impl FrameAllocator,
    ) -> Result<(), MapError> {
        if !len.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::Unaligned);
        }
        for off in (0..len).step_by(PAGE_SIZE as usize) {
            self.map(va + off, pa + off, flags, frames)?;
        }
        Ok(())
    }

    /// The page table (level 1) that maps `va`, created (from `frames`)
    /// with the tables above it if missing; entries leading to it get
    /// USER if `user`.
    fn leaf_table(
        &mut self,
        va: VirtAddr,
        user: bool,
        frames: &mut impl FrameAllocator,
    ) -> Result<PhysAddr, MapError> {
        let user = if user {
            PageTableFlags::USER
        } else {
            PageTableFlags::empty()
        };
        let mut table = self.root;
        for level in (2..=4u32).rev() {
            let index = va.table_index(level);
            let e = self.read(table, index);
            if e.is_present() {
                if e.flags().contains(PageTableFlags::HUGE_PAGE) {
                    return Err(MapError::HugePage);
                }
                if !e.flags().contains(user) {
                    self.write(
                        table,
                        index,
                        PageTableEntry::new(e.addr(), e.flags() | user),
                    );
                }
                table = e.addr();
            } else {
                let frame = frames.allocate_frame().ok_or(MapError::OutOfMemory)?;
                self.write(
                    table,
                    index,
                    PageTableEntry::new(
                        frame,
                        PageTableFlags::PRESENT | PageTableFlags::WRITABLE | user,
                    ),
                );
                table = frame;
            }
        }
        Ok(table)
    }

    /// Maps `count` consecutive pages from `va`, page `i` to the frame
    /// `frame_for(i)` returns, with `flags` (PRESENT implied). Walks the
    /// upper tables once per 2 MiB, not once per page: a page costs a few
    /// instructions (each ~0.5 us in emulated ring 0). Stops with
    /// `AlreadyMapped` at the first page that is mapped (earlier pages
    /// stay mapped), `OutOfMemory` if `frame_for` or a table fails.
    pub fn map_pages(
        &mut self,
        va: VirtAddr,
        count: usize,
        flags: PageTableFlags,
        frames: &mut impl FrameAllocator,
        frame_for: impl FnMut(usize) -> Option<PhysAddr>,
    ) -> Result<(), MapError> {
        if !va.is_aligned(PAGE_SIZE) {
            return Err(MapError::Unaligned);
        }
        self.map_each(va, count, flags, frames, false, frame_for)
            .map(|_| ())
    }

    /// Maps `count` pages from `va` to the contiguous frames from `base`
    /// (page `i` to `base + i * 4096`) with `flags` (PRESENT implied).
    /// A page that is mapped already stays as it is, and its frame is
    /// handed to `unused`. Returns how many pages were mapped. The inner
    /// loop is a few instructions a page (ring 0 is emulated: ~1 us per
    /// memory access); the upper tables are walked once per 2 MiB.
    pub fn map_run(
        &mut self,
        va: VirtAddr,
        count: usize,
        base: PhysAddr,
        flags: PageTableFlags,
        frames: &mut impl FrameAllocator,
        unused: &mut dyn FnMut(PhysAddr),
    ) -> Result<usize, MapError> {
        if !va.is_aligned(PAGE_SIZE) || !base.is_aligned(PAGE_SIZE) {
            return Err(MapError::Unaligned);
        }
        let user = flags.contains(PageTableFlags::USER);
        let bits = (flags | PageTableFlags::PRESENT).bits();
        let mut done = 0;
        let mut mapped = 0;
        while done < count {
            let page = va + done as u64 * PAGE_SIZE;
            let table = self.leaf_table(page, user, frames)?;
            let first = page.table_index(1);
            let n = (count - done).min(ENTRY_COUNT - first);
            let slots = self.entry(table, first).cast::<u64>();
            let mut entry = (base.as_u64() + done as u64 * PAGE_SIZE) | bits;
            for k in 0..n {
                // SAFETY: `slots` points at entry `first` of a live page
                // table (`leaf_table`); first + k < 512; `&mut self`
                // makes this the only writer.
                unsafe {
                    let slot = slots.add(k);
                    if slot.read() & PageTableFlags::PRESENT.bits() != 0 {
                        unused(PhysAddr::new(entry & PageTableEntry::ADDR_MASK));
                    } else {
                        slot.write(entry);
                        mapped += 1;
                    }
                }
                entry += PAGE_SIZE;
            }
            done += n;
        }
        Ok(mapped)
    }

    /// Maps the pages of `[va, va + count pages)` that are not mapped yet
    /// (present ones are left alone), taking frames from `next_frame`;
    /// returns how many were mapped. One walk per 2 MiB, as `map_pages`.
    pub fn fill_pages(
        &mut self,
        va: VirtAddr,
        count: usize,
        flags: PageTableFlags,
        frames: &mut impl FrameAllocator,
        mut next_frame: impl FnMut() -> Option<PhysAddr>,
    ) -> Result<usize, MapError> {
        if !va.is_aligned(PAGE_SIZE) {
            return Err(MapError::Unaligned);
        }
        self.map_each(va, count, flags, frames, true, |_| next_frame())
    }

    /// `map_pages` (`skip_mapped` false: stop at a mapped page) and
    /// `fill_pages` (true: leave it alone): maps the pages of
    /// `[va, va + count pages)`, page `i` to `frame_for(i)`, walking the
    /// upper tables once per 2 MiB; returns how many were mapped.
    fn map_each(
        &mut self,
        va: VirtAddr,
        count: usize,
        flags: PageTableFlags,
        frames: &mut impl FrameAllocator,
        skip_mapped: bool,
        mut frame_for: impl FnMut(usize) -> Option<PhysAddr>,
    ) -> Result<usize, MapError> {
        let user = flags.contains(PageTableFlags::USER);
        let mut table = PhysAddr::new(0);
        let mut mapped = 0;
        for i in 0..count {
            let page = va + i as u64 * PAGE_SIZE;
            let index = page.table_index(1);
            if i == 0 || index == 0 {
                table = self.leaf_table(page, user, frames)?;
            }
            if self.read(table, index).is_present() {
                if skip_mapped {
                    continue;
                }
                return Err(MapError::AlreadyMapped);
            }
            let frame = frame_for(i).ok_or(MapError::OutOfMemory)?;
            self.write(
                table,
                index,
                PageTableEntry::new(frame, flags | PageTableFlags::PRESENT),
            );
            mapped += 1;
        }
        Ok(mapped)
    }

    /// Calls `f(va, entry)` for every present 4 KiB leaf entry mapping a
    /// page in `[start, end)` (lower half only), skipping absent tables
    /// whole; `f` may rewrite the entry. The caller flushes the TLB.
    pub fn for_each_page(
        &mut self,
        start: u64,
        end: u64,
        f: &mut dyn FnMut(VirtAddr, &mut PageTableEntry),
    ) {
        // The leaf-run walk, entry by entry: one walker for both.
        self.for_each_leaf_run(start, end, &mut |base, entries| {
            for (i, raw) in entries.iter_mut().enumerate() {
                let e = PageTableEntry::from_raw(*raw);
                if !e.is_present() {
                    continue;
                }
                let mut entry = e;
                f(VirtAddr::new(base + i as u64 * PAGE_SIZE), &mut entry);
                if entry != e {
                    *raw = entry.raw();
                }
            }
        });
    }

    /// Unmaps every page of `[start, end)` and hands each frame to
    /// `freed`. Page tables stay. The caller flushes the TLB.
    pub fn unmap_range(&mut self, start: u64, end: u64, freed: &mut dyn FnMut(VirtAddr, PhysAddr)) {
        self.for_each_page(start, end, &mut |va, e| {
            freed(va, e.addr());
            *e = PageTableEntry::default();
        });
    }

    /// Gives every mapped page of `[start, end)` the flags `flags`
    /// (PRESENT implied), keeping its frame. The caller flushes the TLB.
    pub fn protect_range(&mut self, start: u64, end: u64, flags: PageTableFlags) {
        self.for_each_page(start, end, &mut |_, e| {
            *e = PageTableEntry::new(e.addr(), flags | PageTableFlags::PRESENT);
        });
    }

    /// Calls `f(va, entries)` for each run of leaf (level-1) entries
    /// that map `[start, end)` (lower half only): `entries` are the
    /// entries of one page table from the one for `va` on, present or
    /// not, and `f` may rewrite them. Absent upper tables are skipped
    /// whole, and only the entries inside the range are read, so a
    /// caller's loop over `entries` is the whole per-page cost (ring 0
    /// is emulated: a call per page costs more than the page's work).
    /// The caller flushes the TLB.
    pub fn for_each_leaf_run(&mut self, start: u64, end: u64, f: &mut impl FnMut(u64, &mut [u64])) {
        let end = end.min(crate::host::layout::USER_END);
        if start < end {
            self.leaf_runs(self.root, 4, 0, start, end, f);
        }
    }

    fn leaf_runs(
        &mut self,
        table: PhysAddr,
        level: u32,
        base: u64,
        start: u64,
        end: u64,
        f: &mut impl FnMut(u64, &mut [u64]),
    ) {
        let shift = 12 + 9 * (level - 1);
        let lo = (start.saturating_sub(base) >> shift) as usize;
        let hi = (((end - 1 - base) >> shift) as usize).min(ENTRY_COUNT - 1);
        if level == 1 {
            // SAFETY: entries lo..=hi of a live page table (type
            // invariant; lo <= hi < 512); `&mut self` makes this the only
            // access while `f` runs.
            let entries = unsafe {
                core::slice::from_raw_parts_mut(self.entry(table, lo).cast::<u64>(), hi + 1 - lo)
            };
            f(base + ((lo as u64) << shift), entries);
            return;
        }
        for i in lo..=hi {
            let e = self.read(table, i);
            if !e.is_present() || e.flags().contains(PageTableFlags::HUGE_PAGE) {
                continue;
            }
            let va = base + ((i as u64) << shift);
            let size = 1u64 << shift;
            self.leaf_runs(
                e.addr(),
                level - 1,
                va,
                start.max(va),
                end.min(va + size),
                f,
            );
        }
    }

    /// Takes apart the lower half where `ranges` (sorted, disjoint) say
    /// tables may be: hands every mapped user frame to `leaf`, as runs of
    /// physically consecutive frames `(first, count)`, and every page
    /// table below the PML4 to `table`, once each. Tables and pages
    /// outside `ranges` must not exist. Every entry visited is cleared
    /// (the PML4's lower-half ones too) before its table is handed on:
    /// see "Why tables are emptied before they are freed" below. The
    /// caller frees the PML4 next (the space must not be live).
    ///
    /// # Why tables are emptied before they are freed
    ///
    /// Under shadow paging (PVM, and KVM without EPT/NPT) the hypervisor
    /// builds its own tables from the guest's and keeps them by guest
    /// frame, after the guest stops using them too (a later CR3 load or
    /// table with the same frame finds them again). It keeps them right
    /// by tracking the guest's *CPU* writes to frames that are page
    /// tables (write protection; in emulated ring 0 every store is
    /// tracked). Writes by the host program into guest RAM (the `copy`
    /// hypercall: zeroing reused frames, fork's copies, segment bytes,
    /// pipe data) are not tracked. So a freed table frame still holding
    /// entries, zeroed by hypercall when it is handed out again and made
    /// a page table again, came back with the old shadow entries for
    /// every slot the new owner had not written: pages the guest thinks
    /// unmapped still led to the old owner's frames (no #PF, so no fault
    /// in; a forked child or a pipeline stage read another process's
    /// stale bytes and crashed). Clearing the entries here, by ring-0
    /// stores the hypervisor sees, leaves no shadow entry derived from
    /// the frame, so whatever the host writes into it later cannot be
    /// stale. (The PML4's upper half, the kernel's, is not cleared: a
    /// frame only becomes a PML4 again through `new_user`, whose copy of
    /// that half is tracked stores too.)
    pub fn free_ranges(
        &mut self,
        ranges: &[(u64, u64)],
        leaf: &mut dyn FnMut(PhysAddr, u64),
        table: &mut dyn FnMut(PhysAddr),
    ) {
        let mut run = (0u64, 0u64);
        self.free_in(self.root, 4, 0, ranges, &mut run, leaf, table);
        if run.1 != 0 {
            leaf(PhysAddr::new(run.0), run.1);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn free_in(
        &mut self,
        t: PhysAddr,
        level: u32,
        base: u64,
        ranges: &[(u64, u64)],
        run: &mut (u64, u64),
        leaf: &mut dyn FnMut(PhysAddr, u64),
        table: &mut dyn FnMut(PhysAddr),
    ) {
        const P: u64 = PageTableFlags::PRESENT.bits();
        const PS: u64 = PageTableFlags::HUGE_PAGE.bits();
        const ADDR: u64 = PageTableEntry::ADDR_MASK;
        let shift = 12 + 9 * (level - 1);
        let span = 1u64 << (shift + 9);
        let top = if level == 4 {
            crate::host::layout::USER_END
        } else {
            base + span
        };
        // The next entry not visited yet: ranges may share an entry.
        let mut next = 0usize;
        for &(start, end) in ranges {
            let (start, end) = (start.max(base), end.min(top));
            if start >= end {
                continue;
            }
            let lo = (((start - base) >> shift) as usize).max(next);
            let hi = (((end - 1 - base) >> shift) as usize).min(ENTRY_COUNT - 1);
            if lo > hi {
                continue;
            }
            next = hi + 1;
            let slots = self.entry(t, lo).cast::<u64>();
            for k in 0..=hi - lo {
                // SAFETY: entry lo + k <= hi < 512 of a live page table.
                let e = unsafe { slots.add(k).read() };
                if e & P == 0 {
                    continue;
                }
                let frame = e & ADDR;
                if level == 1 {
                    extend_run(run, frame, leaf);
                } else if e & PS == 0 {
                    let va = base + (((lo + k) as u64) << shift);
                    self.free_in(
                        PhysAddr::new(frame),
                        level - 1,
                        va,
                        ranges,
                        run,
                        leaf,
                        table,
                    );
                    table(PhysAddr::new(frame));
                }
            }
            // Empties what was visited, by stores the hypervisor tracks
            // (see `free_ranges`): one `rep stos` over the slots.
            // SAFETY: entries lo..=hi < 512 of a live page table, which
            // `&mut self` makes ours; the space is not live (`free_ranges`).
            unsafe { core::ptr::write_bytes(slots, 0, hi + 1 - lo) };
        }
    }

    /// A new address space: empty lower half, upper half sharing this
    /// one's PML4 entries (so the kernel and `SYSCALL_STUB_VA` stay
    /// mapped). Upper-half PML4 entries the kernel adds later are not
    /// propagated: create them before the first user address space.
    pub fn new_user(&self, frames: &mut impl FrameAllocator) -> Result<Self, MapError>
    where
        M: Clone,
    {
        let root = frames.allocate_frame().ok_or(MapError::OutOfMemory)?;
        let half = ENTRY_COUNT / 2;
        // SAFETY: both are page tables (the new one a fresh zeroed frame,
        // distinct from ours); one `rep movs` beats 256 emulated loads.
        unsafe {
            core::ptr::copy_nonoverlapping(
                self.entry(self.root, half),
                self.entry(root, half),
                half,
            )
        };
        // SAFETY: `root` is a zeroed frame plus valid upper-half entries.
        Ok(unsafe { Self::from_root(root, self.mem.clone()) })
    }
}

mod global {
    use super::*;
    use crate::mm::frames::FreeFrames;
    use crate::host::protocol::BootInfo;
    use crate::sync::Global;
    use core::sync::atomic::{AtomicU64, Ordering};

    /// Fresh frames come from the bump allocator (zero from the host);
    /// freed frames are kept by `FreeFrames` (`crate::mm::frames`: lists of
    /// runs and single frames, coalesced when no run is long enough) and
    /// zeroed (copy hypercall, one exit per run) when handed out again.
    /// Freed runs serve `allocate_contiguous` (fault blocks, fork's
    /// copies, program segments, heap arenas) before fresh memory does:
    /// without reuse, fresh memory runs out after a few hundred execs.
    /// (The zeroing hypercall is a write the hypervisor's shadow paging
    /// does not see: a frame that was a page table is emptied by ring-0
    /// stores before it is freed, see `AddressSpace::free_ranges`.)
    struct Frames {
        bump: BumpAllocator,
        free: FreeFrames<DirectMap>,
    }

    static FRAMES: Global<Frames> = Global::new(Frames {
        bump: BumpAllocator::empty(),
        free: FreeFrames::new(DirectMap),
    });
    static KERNEL_ROOT: AtomicU64 = AtomicU64::new(0);

    /// The kernel's frame allocator, as a `FrameAllocator` value.
    pub struct KernelFrames;

    impl FrameAllocator for KernelFrames {
        fn allocate_frame(&mut self) -> Option<PhysAddr> {
            allocate_frame()
        }
    }

    /// Takes over `[freeMemoryStart, ramSize)` (as far as the direct map
    /// reaches) and the boot PML4. The first fresh frames become the free
    /// frames' coalescing bitmap (one page per 128 MiB of RAM; zero from
    /// the host, and never given back). Frames below `freeMemoryStart`
    /// (the framebuffer, mapped into a process by `mmap` of /dev/fb0) are
    /// not the allocator's and are never put on the free lists.
    pub fn init(info: &BootInfo) {
        assert!(
            info.free_memory_start <= info.ram_size,
            "freeMemoryStart is beyond ramSize"
        );
        // Everything below belongs to the boot structures, the
        // accelerator (ACCEL_BOOT, HYPERCALL_SLOT) and the kernel image:
        // never hand it out.
        assert!(
            info.free_memory_start >= crate::host::layout::KERNEL_IMAGE_END,
            "freeMemoryStart {:#x} is below KERNEL_IMAGE_END",
            info.free_memory_start
        );
        let end = info.ram_size.min(crate::host::layout::MAX_RAM_SIZE);
        let mut f = FRAMES.lock();
        f.bump = BumpAllocator::new(info.free_memory_start, end);
        let (base, limit) = (f.bump.next, f.bump.end);
        let pages = FreeFrames::<DirectMap>::bitmap_pages(base, limit);
        let bitmap = if f.bump.remaining() > pages {
            f.bump.next += pages * PAGE_SIZE;
            base
        } else {
            0
        };
        f.free.init(base, limit.max(base), bitmap);
        drop(f);
        KERNEL_ROOT.store(
            crate::arch::cpu::read_cr3() & PageTableEntry::ADDR_MASK,
            Ordering::Relaxed,
        );
    }

    /// A zeroed frame: a freed single frame (the last freed first), else
    /// one from a free run, else a fresh one, so that fresh memory is
    /// kept for what needs it contiguous. Freed page tables come back
    /// here at once: that is safe because `free_ranges` empties a table
    /// before it is freed (handing them out first used to crash busybox
    /// pipelines: the hypervisor's shadow of a freed table outlived the
    /// hypercall that zeroed its frame; see `free_ranges`).
    pub fn allocate_frame() -> Option<PhysAddr> {
        let mut f = FRAMES.lock();
        let Some(frame) = f.free.take_one() else {
            return f.bump.allocate_frame();
        };
        drop(f);
        crate::host::hypercall::zero(frame, PAGE_SIZE);
        Some(PhysAddr::new(frame))
    }

    /// `count` physically contiguous zeroed frames: the end of the best
    /// fitting free run (zeroed by one hypercall), else fresh ones, else
    /// (memory is fragmented) a run the free frames make once coalesced;
    /// so that one copy hypercall can fill them. None only when no `count`
    /// consecutive frames are free at all.
    pub fn allocate_contiguous(count: u64) -> Option<PhysAddr> {
        allocate_run(count, true)
    }

    /// `allocate_contiguous`, but reused frames keep their old bytes:
    /// for callers that overwrite every byte (fork's copy).
    pub fn allocate_contiguous_uninit(count: u64) -> Option<PhysAddr> {
        allocate_run(count, false)
    }

    fn allocate_run(count: u64, zero: bool) -> Option<PhysAddr> {
        if count == 0 {
            return None;
        }
        let mut f = FRAMES.lock();
        let mut reused = f.free.take(count);
        if reused.is_none() {
            if f.bump.remaining() >= count {
                let start = f.bump.next;
                f.bump.next += count * PAGE_SIZE;
                return Some(PhysAddr::new(start));
            }
            if f.free.coalesce() {
                reused = f.free.take(count);
            }
        }
        drop(f);
        let first = reused?;
        if zero {
            crate::host::hypercall::zero(first, count * PAGE_SIZE);
        }
        Some(PhysAddr::new(first))
    }

    /// Gives back a frame nothing maps or uses any more.
    /// Frames that were never the allocator's (device memory) are ignored.
    pub fn free_frame(frame: PhysAddr) {
        free_run(frame, 1);
    }

    /// Gives back `count` consecutive frames from `first` (two writes
    /// however many). Frames that were never the allocator's are ignored.
    pub fn free_run(first: PhysAddr, count: u64) {
        if count != 0 {
            FRAMES.lock().free.free(first.as_u64(), count);
        }
    }

    /// Frames still available (fresh and freed).
    pub fn free_frames() -> u64 {
        let f = FRAMES.lock();
        f.bump.remaining() + f.free.count()
    }

    impl AddressSpace<DirectMap> {
        /// The kernel's address space (the boot PML4).
        pub fn kernel() -> Self {
            let root = KERNEL_ROOT.load(Ordering::Relaxed);
            assert!(root != 0, "paging::init has not run");
            // SAFETY: the boot tables are valid and map the kernel.
            unsafe { Self::from_root(PhysAddr::new(root), DirectMap) }
        }

        /// The address space CR3 points at.
        pub fn current() -> Self {
            // SAFETY: CR3 is the live PML4, which maps the running kernel.
            unsafe {
                Self::from_root(
                    PhysAddr::new(crate::arch::cpu::read_cr3() & PageTableEntry::ADDR_MASK),
                    DirectMap,
                )
            }
        }

        /// Loads CR3 (flushes non-global TLB entries).
        pub fn activate(&self) {
            // SAFETY: every AddressSpace<DirectMap> maps the kernel as the
            // boot tables do (see `from_root`), so execution continues.
            unsafe { crate::arch::cpu::write_cr3(self.root.as_u64()) }
        }

        /// A new user address space sharing the kernel's upper half.
        pub fn new_user_space() -> Result<Self, MapError> {
            Self::kernel().new_user(&mut KernelFrames)
        }
    }
}

pub use global::*;

#[cfg(test)]
pub(crate) mod fake {
    //! Physical memory simulated with boxed pages, for tests.
    use super::*;
    use std::cell::RefCell;

    /// Frame `n` (physical `(n + 1) * 4096`) is `pages[n]`: 0 stays unused.
    #[derive(Default)]
    pub struct FakeMemory {
        pages: RefCell<Vec<Box<PageTable>>>,
    }

    impl FakeMemory {
        pub fn new() -> Self {
            Self::default()
        }
        pub fn frames_used(&self) -> usize {
            self.pages.borrow().len()
        }
    }

    impl PhysMemory for &FakeMemory {
        fn ptr(&self, pa: PhysAddr) -> *mut u8 {
            let n = (pa.as_u64() / PAGE_SIZE) as usize - 1;
            let mut pages = self.pages.borrow_mut();
            let page: *mut PageTable = &mut *pages[n];
            page.cast::<u8>()
                .wrapping_add((pa.as_u64() % PAGE_SIZE) as usize)
        }
    }

    impl FrameAllocator for &FakeMemory {
        fn allocate_frame(&mut self) -> Option<PhysAddr> {
            let mut pages = self.pages.borrow_mut();
            pages.push(Box::new(PageTable {
                entries: [PageTableEntry::default(); ENTRY_COUNT],
            }));
            Some(PhysAddr::new(pages.len() as u64 * PAGE_SIZE))
        }
    }

    /// An empty address space in `mem`.
    pub fn space(mem: &FakeMemory) -> AddressSpace<&FakeMemory> {
        let mut m = mem;
        let root = m.allocate_frame().unwrap();
        // SAFETY: a fresh zeroed table in `mem`.
        unsafe { AddressSpace::from_root(root, mem) }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{space, FakeMemory};
    use super::*;
    use crate::host::layout::{KERNEL_BASE, USER_END};
    type F = PageTableFlags;

    #[test]
    fn flag_bits_are_the_architectural_ones() {
        assert_eq!(F::PRESENT.bits(), 0x1);
        assert_eq!(F::WRITABLE.bits(), 0x2);
        assert_eq!(F::USER.bits(), 0x4);
        assert_eq!(F::HUGE_PAGE.bits(), 0x80);
        assert_eq!(F::GLOBAL.bits(), 0x100);
        assert_eq!(F::NO_EXECUTE.bits(), 1 << 63);
        let e = PageTableEntry::new(
            PhysAddr::new(0x1234_5000),
            F::PRESENT | F::USER | F::NO_EXECUTE,
        );
        assert_eq!(e.raw(), 0x8000_0000_1234_5005);
        assert_eq!(e.addr(), PhysAddr::new(0x1234_5000));
        assert_eq!(e.flags(), F::PRESENT | F::USER | F::NO_EXECUTE);
        assert_eq!(format!("{:?}", e.flags()), "P|U|NX");
        assert!(!(!F::USER).contains(F::USER));
        assert!((!F::USER).contains(F::NO_EXECUTE));
    }

    #[test]
    fn bump_allocator() {
        let mut a = BumpAllocator::new(0x2000_0001, 0x2000_4800);
        assert_eq!(a.remaining(), 3);
        assert_eq!(a.allocate_frame(), Some(PhysAddr::new(0x2000_1000)));
        assert_eq!(a.allocate_frame(), Some(PhysAddr::new(0x2000_2000)));
        assert_eq!(a.allocate_frame(), Some(PhysAddr::new(0x2000_3000)));
        assert_eq!(a.allocate_frame(), None);
        assert_eq!(BumpAllocator::new(0x5000, 0x1000).remaining(), 0);
    }

    #[test]
    fn map_and_translate() {
        let mem = FakeMemory::new();
        let mut s = space(&mem);
        let mut frames = &mem;
        let va = VirtAddr::new(0x40_0000);
        s.map(va, PhysAddr::new(0x9000), F::USER, &mut frames)
            .unwrap();
        assert_eq!(mem.frames_used(), 4, "PML4 + PDPT + PD + PT");
        let t = s.translate(va + 0x123).unwrap();
        assert_eq!(t.phys, PhysAddr::new(0x9123));
        assert_eq!(t.flags, F::PRESENT | F::USER);
        assert_eq!(s.translate(va + 0x1000), None);
        assert_eq!(
            s.map(va, PhysAddr::new(0xa000), F::USER, &mut frames),
            Err(MapError::AlreadyMapped)
        );
        assert_eq!(
            s.map(va + 1, PhysAddr::new(0xa000), F::USER, &mut frames),
            Err(MapError::Unaligned)
        );
        // A neighbour reuses the tables.
        s.map(
            va + 0x1000,
            PhysAddr::new(0xa000),
            F::USER | F::WRITABLE | F::NO_EXECUTE,
            &mut frames,
        )
        .unwrap();
        assert_eq!(mem.frames_used(), 4);
        assert_eq!(
            s.translate(va + 0x1fff).unwrap().flags,
            F::PRESENT | F::USER | F::WRITABLE | F::NO_EXECUTE
        );
        // A supervisor page is not USER even where the tables are.
        s.map(va + 0x2000, PhysAddr::new(0xb000), F::WRITABLE, &mut frames)
            .unwrap();
        assert_eq!(
            s.translate(va + 0x2000).unwrap().flags,
            F::PRESENT | F::WRITABLE
        );
    }

    #[test]
    fn effective_flags_and_huge_pages() {
        let mem = FakeMemory::new();
        let mut s = space(&mem);
        let mut frames = &mem;
        // Supervisor page first: its tables lack USER...
        let va = VirtAddr::new(KERNEL_BASE);
        s.map(va, PhysAddr::new(0x1000), F::WRITABLE, &mut frames)
            .unwrap();
        assert!(!s.translate(va).unwrap().flags.contains(F::USER));
        // ...until a user page below them needs it.
        s.map(va + 0x1000, PhysAddr::new(0x2000), F::USER, &mut frames)
            .unwrap();
        assert!(s.translate(va + 0x1000).unwrap().flags.contains(F::USER));
        assert!(
            !s.translate(va).unwrap().flags.contains(F::USER),
            "the leaf still says supervisor"
        );
        // A 2 MiB page in a PD, as the boot tables have.
        let pd_entry = {
            let pml4 = s.read(s.root(), 0);
            assert!(!pml4.is_present());
            let pdpt = (&mem).allocate_frame().unwrap();
            let pd = (&mem).allocate_frame().unwrap();
            s.write(
                s.root(),
                0,
                PageTableEntry::new(pdpt, F::PRESENT | F::WRITABLE),
            );
            s.write(pdpt, 0, PageTableEntry::new(pd, F::PRESENT | F::WRITABLE));
            s.write(
                pd,
                1,
                PageTableEntry::new(
                    PhysAddr::new(0x4020_0000),
                    F::PRESENT | F::WRITABLE | F::HUGE_PAGE,
                ),
            );
            pd
        };
        let _ = pd_entry;
        let t = s.translate(VirtAddr::new(0x20_1234)).unwrap();
        assert_eq!(t.phys, PhysAddr::new(0x4020_1234));
        assert_eq!(t.flags, F::PRESENT | F::WRITABLE);
        assert_eq!(
            s.map(
                VirtAddr::new(0x20_0000),
                PhysAddr::new(0x1000),
                F::USER,
                &mut frames
            ),
            Err(MapError::HugePage)
        );
    }

    #[test]
    fn page_runs_and_range_walks() {
        let mem = FakeMemory::new();
        let mut s = space(&mem);
        let mut frames = &mem;
        // 3 pages before and 2 after a 2 MiB boundary: two page tables.
        let va = VirtAddr::new(0x40_0000 - 3 * 4096);
        s.map_pages(va, 5, F::USER | F::WRITABLE, &mut frames, |i| {
            Some(PhysAddr::new(0x100_0000 + i as u64 * 4096))
        })
        .unwrap();
        assert_eq!(mem.frames_used(), 5, "PML4 PDPT PD + 2 PTs");
        for i in 0..5u64 {
            assert_eq!(
                s.translate(va + i * 4096 + 7).unwrap().phys,
                PhysAddr::new(0x100_0007 + i * 4096)
            );
        }
        assert_eq!(
            s.map_pages(va + 4 * 4096, 1, F::USER, &mut frames, |_| Some(
                PhysAddr::new(0x5000)
            )),
            Err(MapError::AlreadyMapped)
        );
        let mut seen = Vec::new();
        s.for_each_page(0, USER_END, &mut |v, _| seen.push(v.as_u64()));
        assert_eq!(
            seen,
            (0..5).map(|i| va.as_u64() + i * 4096).collect::<Vec<_>>()
        );
        let v = va.as_u64();
        s.protect_range(v + 4096, v + 3 * 4096, F::USER | F::NO_EXECUTE);
        assert_eq!(
            s.translate(va + 4096).unwrap().flags,
            F::PRESENT | F::USER | F::NO_EXECUTE
        );
        assert!(s.translate(va).unwrap().flags.contains(F::WRITABLE));
        assert!(s
            .translate(va + 3 * 4096)
            .unwrap()
            .flags
            .contains(F::WRITABLE));
        let mut freed = Vec::new();
        s.unmap_range(v + 2 * 4096, v + 4 * 4096 + 1, &mut |v, p| {
            freed.push((v.as_u64() - va.as_u64(), p.as_u64()))
        });
        assert_eq!(
            freed,
            [
                (0x2000, 0x100_2000),
                (0x3000, 0x100_3000),
                (0x4000, 0x100_4000)
            ]
        );
        assert_eq!(s.translate(va + 2 * 4096), None);
        assert!(s.translate(va + 4096).is_some());
        // A run over a hole: only the hole is mapped.
        let mut spare = Vec::new();
        let n = s
            .map_run(
                va,
                2,
                PhysAddr::new(0x300_0000),
                F::USER,
                &mut frames,
                &mut |p| spare.push(p.as_u64()),
            )
            .unwrap();
        assert_eq!((n, spare.len()), (0, 2), "both mapped already");
        // Filling maps only the holes.
        let mut next = 0x200_0000u64;
        let n = s
            .fill_pages(va, 6, F::USER, &mut frames, || {
                next += 4096;
                Some(PhysAddr::new(next))
            })
            .unwrap();
        assert_eq!(n, 4, "pages 2, 3, 4 were unmapped, 5 never mapped");
        assert_eq!(s.translate(va).unwrap().phys, PhysAddr::new(0x100_0000));
        assert_eq!(
            s.translate(va + 2 * 4096).unwrap().phys,
            PhysAddr::new(0x200_1000)
        );
        assert_eq!(
            s.translate(va + 5 * 4096).unwrap().phys,
            PhysAddr::new(0x200_4000)
        );
        s.unmap_range(v, v + 6 * 4096, &mut |_, _| {});
        let mut spare = Vec::new();
        s.map(va + 4096, PhysAddr::new(0x900_0000), F::USER, &mut frames)
            .unwrap();
        let n = s
            .map_run(
                va,
                5,
                PhysAddr::new(0x300_0000),
                F::USER | F::WRITABLE,
                &mut frames,
                &mut |p| spare.push(p.as_u64()),
            )
            .unwrap();
        assert_eq!((n, spare), (4, vec![0x300_1000]));
        assert_eq!(
            s.translate(va + 4096).unwrap().phys,
            PhysAddr::new(0x900_0000)
        );
        assert_eq!(
            s.translate(va + 4 * 4096 + 5).unwrap().phys,
            PhysAddr::new(0x300_4005),
            "across the 2 MiB boundary"
        );
        assert!(s
            .translate(va + 3 * 4096)
            .unwrap()
            .flags
            .contains(F::WRITABLE));
        // Unaligned start, empty and out-of-range walks.
        assert_eq!(
            s.map_pages(va + 1, 1, F::USER, &mut frames, |_| None),
            Err(MapError::Unaligned)
        );
        s.for_each_page(v, v, &mut |_, _| panic!("empty range"));
    }

    #[test]
    fn leaf_runs_and_teardown_by_ranges() {
        let mem = FakeMemory::new();
        let mut s = space(&mem);
        let mut frames = &mem;
        // 3 pages low, 2 + 2 across a 2 MiB boundary high (two runs of
        // frames), one table each: PDPT, PD and 3 PTs below the PML4.
        s.map_run(
            VirtAddr::new(0x40_0000),
            3,
            PhysAddr::new(0x100_0000),
            F::USER,
            &mut frames,
            &mut |_| {},
        )
        .unwrap();
        let top = 0x7fff_ffe0_0000u64;
        s.map_run(
            VirtAddr::new(top - 0x2000),
            2,
            PhysAddr::new(0x200_0000),
            F::USER,
            &mut frames,
            &mut |_| {},
        )
        .unwrap();
        s.map_run(
            VirtAddr::new(top),
            2,
            PhysAddr::new(0x200_2000),
            F::USER,
            &mut frames,
            &mut |_| {},
        )
        .unwrap();
        let tables = mem.frames_used() - 1;
        assert_eq!(tables, 2 + 2 + 3);
        let mut seen = Vec::new();
        s.for_each_leaf_run(0x40_1000, top + 0x1000, &mut |va, entries| {
            seen.push((va, entries.iter().filter(|e| **e & 1 != 0).count()));
        });
        assert_eq!(
            seen,
            [(0x40_1000, 2), (top - 0x20_0000, 2), (top, 1)]
        );
        let ranges = [(0x40_0000, 0x41_0000), (top - 0x10_0000, top + 0x10_0000)];
        let (mut leaves, mut freed) = (Vec::new(), Vec::new());
        s.free_ranges(
            &ranges,
            &mut |p, n| leaves.push((p.as_u64(), n)),
            &mut |t| freed.push(t.as_u64()),
        );
        assert_eq!(
            leaves,
            [(0x100_0000, 3), (0x200_0000, 4)],
            "runs of consecutive frames"
        );
        assert_eq!(freed.len(), tables, "every table once");
        freed.sort();
        freed.dedup();
        assert_eq!(freed.len(), tables, "every table once");
        assert!(!freed.contains(&s.root().as_u64()));
    }

    /// A table frame is handed to `table` (freed) only once it is empty,
    /// and the PML4's lower half is emptied (its upper half, the
    /// kernel's, stays): frames are zeroed by the host when reused, a
    /// write a shadow-paging hypervisor does not see, so entries left in
    /// a freed table would live on in its shadow (see `free_ranges`).
    #[test]
    fn teardown_empties_every_table_before_freeing_it() {
        let mem = FakeMemory::new();
        let mut s = space(&mem);
        let mut frames = &mem;
        let kernel = VirtAddr::new(KERNEL_BASE);
        s.map(kernel, PhysAddr::new(0x9000), F::WRITABLE, &mut frames)
            .unwrap();
        let top = 0x7fff_ffe0_0000u64;
        for (va, n, pa) in [
            (0x40_0000u64, 20usize, 0x100_0000u64),
            (0x60_0000, 3, 0x180_0000),
            (top - 0x2000, 4, 0x200_0000),
        ] {
            s.map_run(
                VirtAddr::new(va),
                n,
                PhysAddr::new(pa),
                F::USER,
                &mut frames,
                &mut |_| {},
            )
            .unwrap();
        }
        let entries = |t: PhysAddr| {
            let p = (&mem).ptr(t).cast::<u64>();
            // SAFETY: a page table of `mem`: 512 entries.
            (0..ENTRY_COUNT).map(move |i| unsafe { p.add(i).read() })
        };
        let ranges = [(0x40_0000, 0x61_0000), (top - 0x2000, top + 0x2000)];
        let mut freed = Vec::new();
        s.free_ranges(&ranges, &mut |_, _| {}, &mut |t| {
            assert!(
                entries(t).all(|e| e == 0),
                "table {t:?} freed with entries left in it"
            );
            freed.push(t);
        });
        assert_eq!(freed.len(), 4 + 2 + 2, "PTs, PDs, PDPTs");
        let root: Vec<u64> = entries(s.root()).collect();
        assert!(
            root[..ENTRY_COUNT / 2].iter().all(|&e| e == 0),
            "lower half emptied"
        );
        assert_ne!(root[kernel.table_index(4)], 0, "the kernel's half stays");
    }

    #[test]
    fn user_space_shares_the_upper_half() {
        let mem = FakeMemory::new();
        let mut kernel = space(&mem);
        let mut frames = &mem;
        let kva = VirtAddr::new(KERNEL_BASE + 0x10_0000);
        kernel
            .map(kva, PhysAddr::new(0x10_0000), F::WRITABLE, &mut frames)
            .unwrap();
        kernel
            .map(
                VirtAddr::new(0x1000),
                PhysAddr::new(0x1000),
                F::USER,
                &mut frames,
            )
            .unwrap();
        let user = kernel.new_user(&mut frames).unwrap();
        assert_eq!(user.translate(kva), kernel.translate(kva));
        assert_eq!(
            user.translate(VirtAddr::new(0x1000)),
            None,
            "lower half starts empty"
        );
        assert!(VirtAddr::new(USER_END - 1).is_user());
    }
}
