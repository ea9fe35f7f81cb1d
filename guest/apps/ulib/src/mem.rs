//! Memory without an allocator: anonymous mappings, zero-filled by the
//! kernel (on kvmos mapped on first touch; nothing is copied or zeroed in
//! ring 0 up front).

use crate::sys::{self, Errno};

/// `n` zeroed `T`s that live until the program exits.
///
/// # Safety
/// All-zero bytes must be a valid `T` (plain numbers, arrays of them).
pub unsafe fn alloc_zeroed<T>(n: usize) -> Result<&'static mut [T], Errno> {
    let bytes = n.checked_mul(core::mem::size_of::<T>()).ok_or(Errno::ENOMEM)?;
    if bytes == 0 {
        return Ok(&mut []);
    }
    let p = sys::mmap(0, bytes, sys::PROT_READ | sys::PROT_WRITE, sys::MAP_PRIVATE | sys::MAP_ANONYMOUS, -1, 0)?;
    // mmap returns page-aligned memory: aligned for any T we use.
    Ok(core::slice::from_raw_parts_mut(p as *mut T, n))
}
