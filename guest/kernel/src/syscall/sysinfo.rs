//! `sysinfo`: uptime from the host's clock, RAM from the BootInfo and
//! the frame allocator.

use super::user_ptr::Pod;
use super::{Args, Errno, UserPtr};
use crate::process;

/// `struct sysinfo` (x86-64, 112 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Sysinfo {
    pub uptime: i64,
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub sharedram: u64,
    pub bufferram: u64,
    pub totalswap: u64,
    pub freeswap: u64,
    pub procs: u16,
    pub pad: u16,
    pub pad2: u32,
    pub totalhigh: u64,
    pub freehigh: u64,
    pub mem_unit: u32,
    pub pad3: u32,
}

// SAFETY: integers, explicit padding.
unsafe impl Pod for Sysinfo {}

pub(super) fn sysinfo(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let info = Sysinfo {
            uptime: (crate::host::hypercall::clock().monotonic_ns / 1_000_000_000) as i64,
            totalram: crate::boot_info().ram_size,
            freeram: crate::mm::paging::free_frames() * crate::host::layout::PAGE_SIZE,
            procs: 1,
            mem_unit: 1,
            ..Sysinfo::default()
        };
        UserPtr::new(a[0]).copy_to_user(&sys.proc.mm, &[info])?;
        Ok(0)
    })
}
