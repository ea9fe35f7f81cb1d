//! `UserPtr<T>`: the only way the kernel touches user memory.
//!
//! A user pointer is a number until proven otherwise: every access checks
//! that the range lies below `USER_END` and walks the current page tables
//! to see that each page is mapped user-accessible (and writable, for
//! writes). Bytes are then reached through the direct map, never through
//! the user address itself.

use super::Errno;
use crate::mm::addr::{PhysAddr, VirtAddr};
use crate::host::layout::{PAGE_SIZE, USER_END};
use crate::mm::paging::{AddressSpace, PageTableFlags, PhysMemory};
use core::marker::PhantomData;
use core::mem::size_of;
use core::mem::MaybeUninit;

/// What `UserPtr` needs from an address space.
pub trait UserMemory {
    /// The physical byte behind user address `va`, if its page is present
    /// and user-accessible (and writable if `write`).
    fn translate_user(&self, va: VirtAddr, write: bool) -> Option<PhysAddr>;
    /// A kernel pointer to physical byte `pa`.
    fn phys_ptr(&self, pa: PhysAddr) -> *mut u8;
}

impl<M: PhysMemory> UserMemory for AddressSpace<M> {
    fn translate_user(&self, va: VirtAddr, write: bool) -> Option<PhysAddr> {
        if !va.is_user() {
            return None;
        }
        let t = self.translate(va)?;
        let mut need = PageTableFlags::USER;
        if write {
            need |= PageTableFlags::WRITABLE;
        }
        t.flags.contains(need).then_some(t.phys)
    }

    fn phys_ptr(&self, pa: PhysAddr) -> *mut u8 {
        // The same memory the walk went through.
        self.memory().ptr(pa)
    }
}

/// Types for which any bytes are a valid value, so user bytes may be
/// copied into them.
///
/// # Safety
/// Every bit pattern of `size_of::<Self>()` bytes must be a valid `Self`,
/// and `Self` must have no padding.
pub unsafe trait Pod: Copy {}

// SAFETY: integers and arrays of them accept any bit pattern, no padding.
unsafe impl Pod for u8 {}
// SAFETY: as above.
unsafe impl Pod for u16 {}
// SAFETY: as above.
unsafe impl Pod for u32 {}
// SAFETY: as above.
unsafe impl Pod for u64 {}
// SAFETY: as above.
unsafe impl Pod for i16 {}
// SAFETY: as above.
unsafe impl Pod for i32 {}
// SAFETY: as above.
unsafe impl Pod for i64 {}
// SAFETY: as above.
unsafe impl Pod for usize {}
// SAFETY: an array of Pod is Pod.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// An address in user space, as a system call received it.
#[repr(transparent)]
pub struct UserPtr<T> {
    addr: u64,
    _type: PhantomData<*mut T>,
}

impl<T> Clone for UserPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for UserPtr<T> {}

impl<T> core::fmt::Debug for UserPtr<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "UserPtr({:#x})", self.addr)
    }
}

/// One physically contiguous piece of a user range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysChunk {
    pub phys: PhysAddr,
    pub len: usize,
}

impl<T> UserPtr<T> {
    pub const fn new(addr: u64) -> Self {
        Self {
            addr,
            _type: PhantomData,
        }
    }

    pub const fn addr(self) -> u64 {
        self.addr
    }

    /// `[addr, addr + bytes)` lies in user space (no wrap, end <= USER_END).
    pub fn check_range(self, bytes: usize) -> Result<(), Errno> {
        match self.addr.checked_add(bytes as u64) {
            Some(end) if end <= USER_END => Ok(()),
            _ => Err(Errno::EFAULT),
        }
    }

    /// The physical pieces of `[addr, addr + bytes)`, one per page (at most
    /// 4 KiB each), each checked for user access (and writability if
    /// `write`). The range itself is checked first.
    pub fn phys_chunks<'m, M: UserMemory>(
        self,
        mem: &'m M,
        bytes: usize,
        write: bool,
    ) -> PhysChunks<'m, M> {
        let ok = self.check_range(bytes).is_ok();
        PhysChunks {
            mem,
            next: self.addr,
            left: if ok { bytes } else { 0 },
            write,
            failed: !ok,
        }
    }
}

/// Iterator of `UserPtr::phys_chunks`: `Err(EFAULT)` once, at the first
/// page that is not accessible, then nothing.
pub struct PhysChunks<'m, M> {
    mem: &'m M,
    next: u64,
    left: usize,
    write: bool,
    failed: bool,
}

impl<M: UserMemory> Iterator for PhysChunks<'_, M> {
    type Item = Result<PhysChunk, Errno>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            self.failed = false;
            self.left = 0;
            return Some(Err(Errno::EFAULT));
        }
        if self.left == 0 {
            return None;
        }
        let va = VirtAddr::new(self.next); // below USER_END: canonical
        let len = (PAGE_SIZE - va.page_offset()).min(self.left as u64) as usize;
        match self.mem.translate_user(va, self.write) {
            Some(phys) => {
                self.next += len as u64;
                self.left -= len;
                Some(Ok(PhysChunk { phys, len }))
            }
            None => {
                self.left = 0;
                Some(Err(Errno::EFAULT))
            }
        }
    }
}

impl<T: Pod> UserPtr<T> {
    /// Where `bytes` bytes from this address are, if they lie in one page
    /// (accessible, and writable if `write`): the common case, done with
    /// one page walk instead of the chunk iterator (ring-0 instructions
    /// cost ~1 us each here).
    fn in_one_page(self, mem: &impl UserMemory, bytes: usize, write: bool) -> Option<*mut u8> {
        let end = self.addr.checked_add(bytes as u64)?;
        if bytes == 0 || end > USER_END || (self.addr ^ (end - 1)) >= PAGE_SIZE {
            return None;
        }
        let phys = mem.translate_user(VirtAddr::new(self.addr), write)?;
        Some(mem.phys_ptr(phys))
    }

    /// Copies `dst.len()` values from user memory into `dst`. On EFAULT,
    /// `dst` may be partly written.
    pub fn copy_from_user(self, mem: &impl UserMemory, dst: &mut [T]) -> Result<(), Errno> {
        let bytes = core::mem::size_of_val(dst);
        if let Some(p) = self.in_one_page(mem, bytes, false) {
            // SAFETY: `bytes` bytes inside one mapped user page (checked)
            // into `dst`, which has exactly that many; T is Pod.
            unsafe { core::ptr::copy_nonoverlapping(p, dst.as_mut_ptr().cast::<u8>(), bytes) };
            return Ok(());
        }
        let mut out = dst.as_mut_ptr().cast::<u8>();
        for chunk in self.phys_chunks(mem, bytes, false) {
            let chunk = chunk?;
            // SAFETY: the source is `chunk.len` bytes inside one mapped
            // user page (checked), reached through kernel memory; the
            // destination has room (chunk lengths add up to `bytes`); T is
            // Pod so any bytes are a valid T.
            unsafe {
                core::ptr::copy_nonoverlapping(mem.phys_ptr(chunk.phys), out, chunk.len);
                out = out.add(chunk.len);
            }
        }
        Ok(())
    }

    /// Copies `src` to user memory (every page must be user-writable).
    /// On EFAULT, a prefix may have been written.
    pub fn copy_to_user(self, mem: &impl UserMemory, src: &[T]) -> Result<(), Errno> {
        let bytes = core::mem::size_of_val(src);
        if let Some(p) = self.in_one_page(mem, bytes, true) {
            // SAFETY: `bytes` bytes inside one mapped, user-writable page
            // (checked), from `src`, which has that many.
            unsafe { core::ptr::copy_nonoverlapping(src.as_ptr().cast::<u8>(), p, bytes) };
            return Ok(());
        }
        let mut from = src.as_ptr().cast::<u8>();
        for chunk in self.phys_chunks(mem, bytes, true) {
            let chunk = chunk?;
            // SAFETY: the destination is `chunk.len` bytes inside one
            // mapped, user-writable page (checked), reached through kernel
            // memory; the source has that many bytes left.
            unsafe {
                core::ptr::copy_nonoverlapping(from, mem.phys_ptr(chunk.phys), chunk.len);
                from = from.add(chunk.len);
            }
        }
        Ok(())
    }

    /// The value at this address.
    pub fn read(self, mem: &impl UserMemory) -> Result<T, Errno> {
        if let Some(p) = self.in_one_page(mem, size_of::<T>(), false) {
            // SAFETY: size_of::<T>() bytes in one mapped user page
            // (checked); T is Pod, so any bytes are a valid T.
            return Ok(unsafe { p.cast::<T>().read_unaligned() });
        }
        let mut v = core::mem::MaybeUninit::<T>::uninit();
        // SAFETY: a one-element slice over `v`; copy_from_user writes all
        // of it or fails, and on failure `v` is dropped uninitialized
        // (T: Copy has no drop).
        let slot = unsafe { core::slice::from_raw_parts_mut(v.as_mut_ptr(), 1) };
        self.copy_from_user(mem, slot)?;
        // SAFETY: fully written by the successful copy.
        Ok(unsafe { v.assume_init() })
    }

    /// The `U` at byte `offset` of the value at this address. The whole
    /// `T` must be readable, as for `read` (else EFAULT), but only the
    /// field is copied: in emulated ring 0 a 160-byte copy costs some 20
    /// instructions more than an 8-byte one.
    pub fn read_field<U: Pod>(self, mem: &impl UserMemory, offset: usize) -> Result<U, Errno> {
        assert!(offset + size_of::<U>() <= size_of::<T>(), "field outside the struct");
        if let Some(p) = self.in_one_page(mem, size_of::<T>(), false) {
            // SAFETY: size_of::<T>() bytes in one mapped user page
            // (checked), the field inside them (asserted); U is Pod.
            return Ok(unsafe { p.add(offset).cast::<U>().read_unaligned() });
        }
        let v = self.read(mem)?;
        // SAFETY: the field lies inside `v` (asserted); T and U are Pod,
        // so the bytes are initialized and any of them a valid U.
        Ok(unsafe { (&v as *const T).cast::<u8>().add(offset).cast::<U>().read_unaligned() })
    }

    /// Writes `value` at this address (user-writable memory).
    pub fn write(self, mem: &impl UserMemory, value: T) -> Result<(), Errno> {
        if let Some(p) = self.in_one_page(mem, size_of::<T>(), true) {
            // SAFETY: size_of::<T>() bytes in one mapped, user-writable
            // page (checked).
            unsafe { p.cast::<T>().write_unaligned(value) };
            return Ok(());
        }
        self.copy_to_user(mem, core::slice::from_ref(&value))
    }

    /// The pointer `n` elements further (no check: accesses check).
    pub fn offset(self, n: usize) -> Self {
        Self::new(self.addr.wrapping_add((n * size_of::<T>()) as u64))
    }
}

impl UserPtr<u8> {
    /// Reads a NUL-terminated string of at most `buf.len() - 1` bytes
    /// into `buf` and returns it (without the NUL). ENAMETOOLONG if no NUL
    /// comes within `buf.len()` bytes, EFAULT if a page is not readable
    /// before the NUL.
    pub fn read_cstr<'b>(
        self,
        mem: &impl UserMemory,
        buf: &'b mut [u8],
    ) -> Result<&'b [u8], Errno> {
        // SAFETY: viewing initialized bytes as possibly-uninitialized ones
        // is sound as long as only initialized bytes are written back,
        // which `read_cstr_uninit` does.
        let buf = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        self.read_cstr_uninit(mem, buf)
    }

    /// `read_cstr` into a buffer that need not be initialized (zeroing
    /// 4 KiB costs ~0.3 ms in emulated ring 0).
    pub fn read_cstr_uninit<'b>(
        self,
        mem: &impl UserMemory,
        buf: &'b mut [MaybeUninit<u8>],
    ) -> Result<&'b [u8], Errno> {
        let max = buf.len();
        let mut n = 0;
        let mut va = self.addr;
        while n < max {
            if va >= USER_END {
                return Err(Errno::EFAULT);
            }
            let v = VirtAddr::new(va);
            let phys = mem.translate_user(v, false).ok_or(Errno::EFAULT)?;
            let len = ((PAGE_SIZE - v.page_offset()) as usize).min(max - n);
            // SAFETY: `len` bytes inside one mapped user page (checked),
            // through kernel memory.
            let src = unsafe { core::slice::from_raw_parts(mem.phys_ptr(phys), len) };
            let (take, done) = match crate::bytes::find_nul(src) {
                Some(nul) => (nul, true),
                None => (len, false),
            };
            // SAFETY: `take` bytes from the page into `buf[n..]`, which
            // has room (take <= len <= max - n).
            unsafe {
                core::ptr::copy_nonoverlapping(
                    src.as_ptr(),
                    buf.as_mut_ptr().add(n).cast::<u8>(),
                    take,
                )
            };
            n += take;
            if done {
                // SAFETY: the first `n` bytes were written above.
                return Ok(unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) });
            }
            va += len as u64;
        }
        Err(Errno::ENAMETOOLONG)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A fake page walker: user pages backed by boxed buffers.
    #[derive(Default)]
    struct FakeWalker {
        /// page VA -> (buffer, writable)
        pages: HashMap<u64, (Box<[u8; 4096]>, bool)>,
    }

    impl FakeWalker {
        fn map(&mut self, va: u64, writable: bool, fill: u8) {
            self.pages.insert(va, (Box::new([fill; 4096]), writable));
        }
        fn byte(&self, va: u64) -> u8 {
            self.pages[&(va & !0xfff)].0[(va & 0xfff) as usize]
        }
    }

    impl UserMemory for FakeWalker {
        fn translate_user(&self, va: VirtAddr, write: bool) -> Option<PhysAddr> {
            assert!(va.is_user(), "UserPtr asked about a kernel address");
            let (buf, writable) = self.pages.get(&va.align_down(4096).as_u64())?;
            if write && !writable {
                return None;
            }
            // "Physical" address = the host address of the buffer byte.
            Some(PhysAddr::new(buf.as_ptr() as u64 + va.page_offset()))
        }
        fn phys_ptr(&self, pa: PhysAddr) -> *mut u8 {
            pa.as_u64() as *mut u8
        }
    }

    #[test]
    fn range_checks() {
        let p = UserPtr::<u8>::new(USER_END - 4);
        assert_eq!(p.check_range(4), Ok(()));
        assert_eq!(p.check_range(5), Err(Errno::EFAULT));
        assert_eq!(
            UserPtr::<u8>::new(u64::MAX).check_range(2),
            Err(Errno::EFAULT),
            "wraps"
        );
        assert_eq!(
            UserPtr::<u8>::new(crate::host::layout::KERNEL_BASE).check_range(1),
            Err(Errno::EFAULT)
        );
        let w = FakeWalker::default();
        let mut b = [0u8; 4];
        // The kernel half is refused before any page walk (the fake asserts).
        assert_eq!(
            UserPtr::new(crate::host::layout::KERNEL_BASE).copy_from_user(&w, &mut b),
            Err(Errno::EFAULT)
        );
        assert_eq!(
            UserPtr::new(USER_END - 2).copy_from_user(&w, &mut b),
            Err(Errno::EFAULT)
        );
    }

    #[test]
    fn copies_across_pages_and_checks_each() {
        let mut w = FakeWalker::default();
        w.map(0x1000, true, 0xaa);
        w.map(0x2000, false, 0xbb);
        let mut b = [0u8; 8];
        UserPtr::new(0x1ffc).copy_from_user(&w, &mut b).unwrap();
        assert_eq!(b, [0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xbb, 0xbb]);
        assert_eq!(
            UserPtr::new(0x2ffc).copy_from_user(&w, &mut b),
            Err(Errno::EFAULT),
            "0x3000 unmapped"
        );
        UserPtr::new(0x1ffe).copy_to_user(&w, &[1u8, 2]).unwrap();
        assert_eq!((w.byte(0x1ffe), w.byte(0x1fff)), (1, 2));
        assert_eq!(
            UserPtr::new(0x1ffe).copy_to_user(&w, &[1u8, 2, 3]),
            Err(Errno::EFAULT),
            "0x2000 read-only"
        );
        let v: u32 = UserPtr::new(0x1ffe).read(&w).unwrap();
        assert_eq!(v, u32::from_le_bytes([1, 2, 0xbb, 0xbb]));
        assert_eq!(UserPtr::<u64>::new(0x1000).offset(2).addr(), 0x1010);
        let mut empty: [u8; 0] = [];
        assert_eq!(
            UserPtr::new(0x9000).copy_from_user(&w, &mut empty),
            Ok(()),
            "zero bytes touch nothing"
        );
    }

    #[test]
    fn a_field_needs_the_whole_struct() {
        let mut w = FakeWalker::default();
        w.map(0x1000, false, 0);
        w.pages.get_mut(&0x1000).unwrap().0[0xff4..0xffc].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        // A [u32; 4] at 0x1ff0: its second and third words, in one page ...
        let p = UserPtr::<[u32; 4]>::new(0x1ff0);
        assert_eq!(p.read_field::<u64>(&w, 4), Ok(0x0807_0605_0403_0201));
        // ... and across two: the whole struct is checked, not just the field.
        let q = UserPtr::<[u32; 8]>::new(0x1ff0);
        assert_eq!(q.read_field::<u32>(&w, 4), Err(Errno::EFAULT), "0x2000 unmapped");
        w.map(0x2000, false, 9);
        assert_eq!(q.read_field::<u32>(&w, 4), Ok(0x0403_0201));
        assert_eq!(q.read_field::<u8>(&w, 31), Ok(9));
    }

    #[test]
    fn chunks() {
        let mut w = FakeWalker::default();
        w.map(0x1000, true, 0);
        w.map(0x2000, true, 0);
        let c: Vec<_> = UserPtr::<u8>::new(0x1800)
            .phys_chunks(&w, 0x1000, false)
            .collect();
        assert_eq!(
            c.iter().map(|c| c.unwrap().len).collect::<Vec<_>>(),
            [0x800, 0x800]
        );
        let c: Vec<_> = UserPtr::<u8>::new(0x2800)
            .phys_chunks(&w, 0x1000, false)
            .collect();
        assert_eq!(c.len(), 2);
        assert!(c[0].is_ok());
        assert_eq!(c[1], Err(Errno::EFAULT));
        let c: Vec<_> = UserPtr::<u8>::new(u64::MAX - 1)
            .phys_chunks(&w, 4, false)
            .collect();
        assert_eq!(c, [Err(Errno::EFAULT)]);
    }

    #[test]
    fn cstr() {
        let mut w = FakeWalker::default();
        w.map(0x1000, true, b'a');
        w.map(0x2000, true, 0);
        let mut buf = [0u8; 64];
        assert_eq!(
            UserPtr::new(0x1ffd).read_cstr(&w, &mut buf),
            Ok(&b"aaa"[..])
        );
        assert_eq!(UserPtr::new(0x2000).read_cstr(&w, &mut buf), Ok(&b""[..]));
        assert_eq!(
            UserPtr::new(0x1000).read_cstr(&w, &mut buf),
            Err(Errno::ENAMETOOLONG)
        );
        let mut big = [0u8; 8192];
        assert_eq!(
            UserPtr::new(0x1000)
                .read_cstr(&w, &mut big)
                .map(|s| s.len()),
            Ok(4096)
        );
        w.pages.remove(&0x2000);
        assert_eq!(
            UserPtr::new(0x1000).read_cstr(&w, &mut big),
            Err(Errno::EFAULT)
        );
        assert_eq!(
            UserPtr::new(USER_END - 1).read_cstr(&w, &mut buf),
            Err(Errno::EFAULT)
        );
    }

    #[test]
    fn real_page_tables_as_walker() {
        use crate::mm::paging::fake::{space, FakeMemory};
        use crate::mm::paging::FrameAllocator;
        let mem = FakeMemory::new();
        let mut s = space(&mem);
        let mut frames = &mem;
        let data = frames.allocate_frame().unwrap();
        s.map(
            VirtAddr::new(0x40_0000),
            data,
            PageTableFlags::USER,
            &mut frames,
        )
        .unwrap();
        s.map(
            VirtAddr::new(0x40_1000),
            data,
            PageTableFlags::empty(),
            &mut frames,
        )
        .unwrap();
        assert_eq!(
            s.translate_user(VirtAddr::new(0x40_0010), false),
            Some(data + 0x10)
        );
        assert_eq!(
            s.translate_user(VirtAddr::new(0x40_0010), true),
            None,
            "read-only"
        );
        assert_eq!(
            s.translate_user(VirtAddr::new(0x40_1000), false),
            None,
            "supervisor page"
        );
        assert_eq!(
            s.translate_user(VirtAddr::new(crate::host::layout::KERNEL_BASE), false),
            None
        );
        UserPtr::<u8>::new(0x40_0000)
            .copy_from_user(&s, &mut [0u8; 16])
            .unwrap();
    }
}
