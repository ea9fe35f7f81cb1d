//! Time: `clock_gettime(CLOCK_MONOTONIC)`. On kvmos with a display this is
//! the mailbox's frame time (fixed-step in `--fixed-time` runs).

use crate::sys;

/// Nanoseconds on the monotonic clock (0 if the clock is unavailable,
/// which Linux never does).
pub fn monotonic_ns() -> u64 {
    match sys::clock_gettime(sys::CLOCK_MONOTONIC) {
        Ok(ts) => (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64),
        Err(_) => 0,
    }
}
