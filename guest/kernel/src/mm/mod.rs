//! Memory: addresses, the physical frame allocator, the kernel heap and
//! page tables (address spaces).

pub mod addr;
pub mod frames;
pub mod heap;
pub mod paging;
