//! `futex`: decoded and checked as Linux's `do_futex` does (timeouts,
//! alignment, bitsets, counts), then carried out on the wait queues of
//! `process::futex`.
//!
//! | op | what |
//! | --- | --- |
//! | WAIT, WAIT_BITSET | block while the word holds `val` (EAGAIN if not); relative timeout for WAIT, absolute for WAIT_BITSET (CLOCK_MONOTONIC, or CLOCK_REALTIME with FUTEX_CLOCK_REALTIME) |
//! | WAKE, WAKE_BITSET | wake up to `val` waiters (whose bitset meets the given one) |
//! | REQUEUE, CMP_REQUEUE | wake `val`, move up to `val2` to the second futex (CMP: only while the word holds `val3`) |
//! | WAKE_OP | change the second word atomically, wake on the first, and on the second if its old value compares true |
//!
//! The PI operations and FUTEX_FD are ENOSYS (as on a kernel without
//! them): glibc and musl use them only for PI mutexes.

use super::time::{Timespec, CLOCK_REALTIME};
use super::{Args, Errno, UserPtr};
use crate::host::hypercall;
use crate::host::layout::USER_END;
use crate::process::futex::{self as queue, Key};
use crate::process::{self, sched};

pub const FUTEX_WAIT: u64 = 0;
pub const FUTEX_WAKE: u64 = 1;
pub const FUTEX_REQUEUE: u64 = 3;
pub const FUTEX_CMP_REQUEUE: u64 = 4;
pub const FUTEX_WAKE_OP: u64 = 5;
pub const FUTEX_WAIT_BITSET: u64 = 9;
pub const FUTEX_WAKE_BITSET: u64 = 10;
pub const FUTEX_PRIVATE_FLAG: u64 = 128;
pub const FUTEX_CLOCK_REALTIME: u64 = 256;
const FUTEX_CMD_MASK: u64 = !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
const MATCH_ANY: u32 = u32::MAX;

/// A decoded futex call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Wait {
        addr: u64,
        val: u32,
        bitset: u32,
        /// Relative (WAIT) or absolute on `clock` (WAIT_BITSET).
        timeout: Option<Timeout>,
    },
    Wake {
        addr: u64,
        n: usize,
        bitset: u32,
    },
    Requeue {
        addr: u64,
        addr2: u64,
        n_wake: usize,
        n_move: usize,
        /// CMP_REQUEUE's expected value of the first word.
        expect: Option<u32>,
    },
    WakeOp {
        addr: u64,
        addr2: u64,
        n_wake: usize,
        n_wake2: usize,
        op: WakeOp,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    Relative(u64),
    Absolute { clock: u64, ns: u64 },
}

/// FUTEX_WAKE_OP's encoded operation: `*addr2 = oldval OP oparg`, then
/// `oldval CMP cmparg` decides the second wake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WakeOp {
    pub op: u32,
    pub oparg: i32,
    pub cmp: u32,
    pub cmparg: i32,
}

impl WakeOp {
    pub fn decode(encoded: u32) -> Self {
        let sign_extend12 = |v: u32| ((v << 20) as i32) >> 20;
        let op = (encoded >> 28) & 7;
        let mut oparg = sign_extend12((encoded >> 12) & 0xfff);
        // FUTEX_OP_OPARG_SHIFT: the argument is a shift count.
        if encoded & (8 << 28) != 0 {
            oparg = 1i32.wrapping_shl(oparg as u32 & 31);
        }
        Self {
            op,
            oparg,
            cmp: (encoded >> 24) & 15,
            cmparg: sign_extend12(encoded & 0xfff),
        }
    }

    /// The new value of the word (None: an unknown op, ENOSYS).
    pub fn apply(&self, old: u32) -> Option<u32> {
        let a = self.oparg as u32;
        Some(match self.op {
            0 => a,
            1 => old.wrapping_add(a),
            2 => old | a,
            3 => old & !a,
            4 => old ^ a,
            _ => return None,
        })
    }

    /// Whether the old value compares true (None: an unknown comparison).
    pub fn compare(&self, old: u32) -> Option<bool> {
        let (o, c) = (old as i32, self.cmparg);
        Some(match self.cmp {
            0 => o == c,
            1 => o != c,
            2 => o < c,
            3 => o <= c,
            4 => o > c,
            5 => o >= c,
            _ => return None,
        })
    }
}

fn aligned(addr: u64) -> Result<u64, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    Ok(addr)
}

/// A count argument: an `int` that may not be negative.
fn count(v: u64) -> Result<usize, Errno> {
    let n = v as u32 as i32;
    if n < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(n as usize)
}

/// Decodes a futex call as Linux checks it; `read_ts` reads the timeout
/// (EFAULT, EINVAL). Also whether it is shared (no FUTEX_PRIVATE_FLAG).
pub fn decode(
    a: &Args,
    read_ts: impl FnOnce(u64) -> Result<Timespec, Errno>,
) -> Result<(Request, bool), Errno> {
    let (addr, op, val, utime, addr2, val3) = (a[0], a[1], a[2] as u32, a[3], a[4], a[5] as u32);
    let cmd = op & FUTEX_CMD_MASK;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let timeout = if utime != 0 && matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET) {
        let ts = read_ts(utime)?;
        Some(if cmd == FUTEX_WAIT {
            Timeout::Relative(ts.to_ns())
        } else {
            let clock = if realtime { CLOCK_REALTIME } else { super::time::CLOCK_MONOTONIC };
            Timeout::Absolute { clock, ns: ts.to_ns() }
        })
    } else {
        None
    };
    if realtime && !matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET) {
        return Err(Errno::ENOSYS);
    }
    // The second value travels in the timeout argument.
    let val2 = utime as u32;
    let req = match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { MATCH_ANY } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(Request::Wait {
                addr: aligned(addr)?,
                val,
                bitset,
                timeout,
            })
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { MATCH_ANY } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(Request::Wake {
                addr: aligned(addr)?,
                // Linux takes the count as an int; 0 or less wakes one.
                n: (val as i32).max(1) as usize,
                bitset,
            })
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            let (n_wake, n_move) = (count(val as u64)?, count(val2 as u64)?);
            Ok(Request::Requeue {
                addr: aligned(addr)?,
                addr2: aligned(addr2)?,
                n_wake,
                n_move,
                expect: (cmd == FUTEX_CMP_REQUEUE).then_some(val3),
            })
        }
        FUTEX_WAKE_OP => Ok(Request::WakeOp {
            addr: aligned(addr)?,
            addr2: aligned(addr2)?,
            // As for WAKE, a count of 0 or less still wakes one.
            n_wake: (val as i32).max(1) as usize,
            n_wake2: (val2 as i32).max(1) as usize,
            op: WakeOp::decode(val3),
        }),
        _ => Err(Errno::ENOSYS),
    };
    req.map(|r| (r, !private))
}

pub(super) fn futex(a: &Args) -> Result<usize, Errno> {
    let (req, shared) = decode(a, super::time::read_timespec)?;
    process::with(|sys| {
        let pid = sys.proc.pid;
        let key = |addr: u64| Key { pid, addr, shared };
        // A shared key is found through the word's page (Linux's
        // get_futex_key): EFAULT before anything else when it is not
        // mapped.
        let resolve = |sys: &process::System, addr: u64| -> Result<(), Errno> {
            if shared {
                UserPtr::<u32>::new(addr).read(&sys.proc.mm)?;
            }
            Ok(())
        };
        match req {
            Request::Wait {
                addr,
                val,
                bitset,
                timeout,
            } => {
                let now = hypercall::clock();
                // A restarted wait keeps the deadline of its first try.
                let restarted = sys.proc.restart_deadline.take();
                if restarted.is_some_and(|d| now.monotonic_ns >= d) {
                    return Err(Errno::ETIMEDOUT);
                }
                let cur: u32 = UserPtr::new(addr).read(&sys.proc.mm)?;
                if cur != val {
                    return Err(Errno::EAGAIN);
                }
                let deadline = restarted.or_else(|| {
                    timeout.map(|t| match t {
                        Timeout::Relative(ns) => now.monotonic_ns.saturating_add(ns),
                        // An absolute time on the host's monotonic clock.
                        Timeout::Absolute { clock, ns } if clock == CLOCK_REALTIME => {
                            now.monotonic_ns.saturating_add(ns.saturating_sub(now.realtime_ns))
                        }
                        // CLOCK_MONOTONIC as programs read it: from
                        // MONOTONIC_START_NS before boot, or the frame
                        // clock while a display is attached.
                        Timeout::Absolute { ns, .. } => {
                            let read = crate::dev::display::time_ns().unwrap_or(
                                now.monotonic_ns + super::time::MONOTONIC_START_NS,
                            );
                            now.monotonic_ns.saturating_add(ns.saturating_sub(read))
                        }
                    })
                });
                if deadline.is_some_and(|d| now.monotonic_ns >= d) {
                    return Err(Errno::ETIMEDOUT);
                }
                sys.proc.restart_deadline = deadline;
                let w = queue::waiter(key(addr), bitset, deadline);
                Err(sched::block(sys, sched::Wait::Futex(w)))
            }
            Request::Wake { addr, n, bitset } => {
                if addr >= USER_END {
                    return Err(Errno::EFAULT);
                }
                resolve(sys, addr)?;
                Ok(queue::wake(sys, key(addr), bitset, n))
            }
            Request::Requeue {
                addr,
                addr2,
                n_wake,
                n_move,
                expect,
            } => {
                if addr2 >= USER_END {
                    return Err(Errno::EFAULT);
                }
                resolve(sys, addr)?;
                resolve(sys, addr2)?;
                if let Some(v) = expect {
                    let cur: u32 = UserPtr::new(addr).read(&sys.proc.mm)?;
                    if cur != v {
                        return Err(Errno::EAGAIN);
                    }
                }
                Ok(queue::requeue(sys, key(addr), key(addr2), n_wake, n_move))
            }
            Request::WakeOp {
                addr,
                addr2,
                n_wake,
                n_wake2,
                op,
            } => {
                if addr >= USER_END {
                    return Err(Errno::EFAULT);
                }
                resolve(sys, addr)?;
                let p2 = UserPtr::<u32>::new(addr2);
                let old = p2.read(&sys.proc.mm)?;
                let new = op.apply(old).ok_or(Errno::ENOSYS)?;
                p2.write(&sys.proc.mm, new)?;
                let second = op.compare(old).ok_or(Errno::ENOSYS)?;
                let mut woken = queue::wake(sys, key(addr), MATCH_ANY, n_wake);
                if second {
                    woken += queue::wake(sys, key(addr2), MATCH_ANY, n_wake2);
                }
                Ok(woken)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: [u64; 6]) -> Args {
        v
    }

    fn no_ts(_: u64) -> Result<Timespec, Errno> {
        Ok(Timespec { sec: 1, nsec: 0 })
    }

    #[test]
    fn checks_as_linux() {
        let wait_bitset0 = args([0x1000, FUTEX_WAIT_BITSET, 0, 0, 0, 0]);
        assert_eq!(decode(&wait_bitset0, no_ts), Err(Errno::EINVAL));
        let unaligned = args([0x1002, FUTEX_WAKE, 1, 0, 0, 0]);
        assert_eq!(decode(&unaligned, no_ts), Err(Errno::EINVAL));
        let rt_wake = args([0x1000, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, 0, 0, 0]);
        assert_eq!(decode(&rt_wake, no_ts), Err(Errno::ENOSYS));
        let pi = args([0x1000, 6, 0, 0, 0, 0]);
        assert_eq!(decode(&pi, no_ts), Err(Errno::ENOSYS));
        let neg = args([0x1000, FUTEX_REQUEUE, 1, u32::MAX as u64, 0x2000, 0]);
        assert_eq!(decode(&neg, no_ts), Err(Errno::EINVAL));
        let wait = args([0x1000, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 7, 0x5000, 0, 0]);
        assert_eq!(
            decode(&wait, no_ts).map(|(r, _)| r),
            Ok(Request::Wait {
                addr: 0x1000,
                val: 7,
                bitset: MATCH_ANY,
                timeout: Some(Timeout::Relative(1_000_000_000)),
            })
        );
    }

    #[test]
    fn wake_op_encoding() {
        // FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0): glibc's.
        let op = WakeOp::decode((1 << 28) | (4 << 24) | (1 << 12));
        assert_eq!(op.apply(5), Some(6));
        assert_eq!(op.compare(1), Some(true));
        assert_eq!(op.compare(0), Some(false));
        // Negative arguments are sign-extended 12-bit values.
        let op = WakeOp::decode((0xfff << 12) | 0xfff);
        assert_eq!(op.oparg, -1);
        assert_eq!(op.compare(u32::MAX), Some(true));
        // FUTEX_OP_OPARG_SHIFT.
        let op = WakeOp::decode((8 << 28) | (2 << 28) | (3 << 12));
        assert_eq!(op.apply(0), Some(8));
        assert_eq!(WakeOp::decode(7 << 28).apply(0), None);
        assert_eq!(WakeOp::decode(9 << 24).compare(0), None);
    }
}
