//! Virtual and physical addresses as distinct types (in the style of the
//! `x86_64` crate), so the two cannot be mixed up silently.

use crate::host::layout::{DIRECT_MAP_BASE, KERNEL_BASE, KERNEL_WINDOW_SIZE, MAX_RAM_SIZE, USER_END};
use core::fmt;
use core::ops::{Add, Sub};

/// A canonical 64-bit virtual address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct VirtAddr(u64);

/// A physical address (at most 52 bits).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct PhysAddr(u64);

impl VirtAddr {
    /// `addr`, which must be canonical (bits 63..47 all equal).
    ///
    /// # Panics
    /// If `addr` is not canonical.
    pub const fn new(addr: u64) -> Self {
        match Self::try_new(addr) {
            Some(v) => v,
            None => panic!("non-canonical virtual address"),
        }
    }

    /// `addr` if it is canonical.
    pub const fn try_new(addr: u64) -> Option<Self> {
        if Self::new_truncate(addr).0 == addr {
            Some(Self(addr))
        } else {
            None
        }
    }

    /// `addr` with bits 63..48 replaced by copies of bit 47.
    pub const fn new_truncate(addr: u64) -> Self {
        Self((((addr << 16) as i64) >> 16) as u64)
    }

    pub const fn zero() -> Self {
        Self(0)
    }

    pub const fn as_u64(self) -> u64 {
        self.0
    }

    pub fn from_ptr<T: ?Sized>(ptr: *const T) -> Self {
        Self::new(ptr as *const u8 as u64)
    }

    pub const fn as_ptr<T>(self) -> *const T {
        self.0 as *const T
    }

    pub const fn as_mut_ptr<T>(self) -> *mut T {
        self.0 as *mut T
    }

    /// True if this address lies in user space, below `USER_END`.
    pub const fn is_user(self) -> bool {
        self.0 < USER_END
    }

    pub const fn is_aligned(self, align: u64) -> bool {
        self.0 & (align - 1) == 0
    }

    pub const fn align_down(self, align: u64) -> Self {
        Self(self.0 & !(align - 1))
    }

    /// Offset inside its 4 KiB page.
    pub const fn page_offset(self) -> u64 {
        self.0 & 0xfff
    }

    /// Index into the page table of `level` (4 = PML4 .. 1 = PT).
    pub const fn table_index(self, level: u32) -> usize {
        ((self.0 >> (12 + 9 * (level - 1))) & 0x1ff) as usize
    }

    /// The physical address behind a kernel-image address (`KERNEL_BASE`
    /// window) or a direct-map address, without walking page tables. These
    /// two windows are fixed by the boot page tables (docs/protocol.md).
    pub const fn kernel_to_phys(self) -> Option<PhysAddr> {
        if self.0 >= KERNEL_BASE && self.0 - KERNEL_BASE < KERNEL_WINDOW_SIZE {
            Some(PhysAddr(self.0 - KERNEL_BASE))
        } else if self.0 >= DIRECT_MAP_BASE && self.0 - DIRECT_MAP_BASE < MAX_RAM_SIZE {
            Some(PhysAddr(self.0 - DIRECT_MAP_BASE))
        } else {
            None
        }
    }

    /// `self + offset`, or `None` if that overflows or is not canonical.
    pub const fn checked_add(self, offset: u64) -> Option<Self> {
        match self.0.checked_add(offset) {
            Some(v) => Self::try_new(v),
            None => None,
        }
    }
}

impl PhysAddr {
    /// One past the largest physical address x86-64 can have.
    pub const LIMIT: u64 = 1 << 52;

    /// # Panics
    /// If `addr` does not fit in 52 bits.
    pub const fn new(addr: u64) -> Self {
        assert!(addr < Self::LIMIT, "physical address wider than 52 bits");
        Self(addr)
    }

    pub const fn as_u64(self) -> u64 {
        self.0
    }

    pub const fn is_aligned(self, align: u64) -> bool {
        self.0 & (align - 1) == 0
    }

    pub const fn align_down(self, align: u64) -> Self {
        Self(self.0 & !(align - 1))
    }

    pub const fn align_up(self, align: u64) -> Self {
        Self((self.0 + align - 1) & !(align - 1))
    }

    /// Where this byte appears in the direct map.
    pub const fn to_direct_map(self) -> VirtAddr {
        VirtAddr(DIRECT_MAP_BASE + self.0)
    }
}

impl Add<u64> for VirtAddr {
    type Output = Self;
    fn add(self, rhs: u64) -> Self {
        Self::new(self.0 + rhs)
    }
}

impl Sub<u64> for VirtAddr {
    type Output = Self;
    fn sub(self, rhs: u64) -> Self {
        Self::new(self.0 - rhs)
    }
}

impl Sub<VirtAddr> for VirtAddr {
    type Output = u64;
    fn sub(self, rhs: VirtAddr) -> u64 {
        self.0 - rhs.0
    }
}

impl Add<u64> for PhysAddr {
    type Output = Self;
    fn add(self, rhs: u64) -> Self {
        Self::new(self.0 + rhs)
    }
}

impl Sub<PhysAddr> for PhysAddr {
    type Output = u64;
    fn sub(self, rhs: PhysAddr) -> u64 {
        self.0 - rhs.0
    }
}

impl fmt::Debug for VirtAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VirtAddr({:#x})", self.0)
    }
}

impl fmt::Debug for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhysAddr({:#x})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical() {
        assert!(VirtAddr::try_new(0x0000_7fff_ffff_ffff).is_some());
        assert!(VirtAddr::try_new(0x0000_8000_0000_0000).is_none());
        assert!(VirtAddr::try_new(0xffff_8000_0000_0000).is_some());
        assert_eq!(
            VirtAddr::new_truncate(0x0000_8000_0000_0000).as_u64(),
            0xffff_8000_0000_0000
        );
        assert!(VirtAddr::new(USER_END - 1).is_user());
        assert!(!VirtAddr::new(KERNEL_BASE).is_user());
    }

    #[test]
    fn table_indexes() {
        let v = VirtAddr::new(crate::host::layout::SYSCALL_STUB_VA);
        assert_eq!(
            (
                v.table_index(4),
                v.table_index(3),
                v.table_index(2),
                v.table_index(1)
            ),
            (510, 0, 0, 0)
        );
        let k = VirtAddr::new(KERNEL_BASE + 0x10_1234);
        assert_eq!(
            (
                k.table_index(4),
                k.table_index(3),
                k.table_index(2),
                k.table_index(1)
            ),
            (511, 510, 0, 0x101)
        );
        assert_eq!(k.page_offset(), 0x234);
    }

    #[test]
    fn kernel_windows() {
        assert_eq!(
            VirtAddr::new(KERNEL_BASE + 0x10_0000).kernel_to_phys(),
            Some(PhysAddr::new(0x10_0000))
        );
        assert_eq!(
            VirtAddr::new(DIRECT_MAP_BASE + 0x5000).kernel_to_phys(),
            Some(PhysAddr::new(0x5000))
        );
        assert_eq!(VirtAddr::new(0x40_0000).kernel_to_phys(), None);
        assert_eq!(VirtAddr::new(KERNEL_BASE - 0x1000).kernel_to_phys(), None);
        assert_eq!(
            PhysAddr::new(0x1234).to_direct_map().as_u64(),
            DIRECT_MAP_BASE + 0x1234
        );
        assert_eq!(
            PhysAddr::new(0x1234).align_up(0x1000),
            PhysAddr::new(0x2000)
        );
    }
}
