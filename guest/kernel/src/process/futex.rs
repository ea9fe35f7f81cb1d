//! Futex wait queues: the threads blocked in `futex` waits, found by
//! their key, woken in the order they began to wait (Linux's FIFO for
//! one priority), requeued from one key to another; and the futex work
//! of a thread's exit (the clear-tid wake, the robust list).
//!
//! A futex is keyed by its process and user address: kvmos has no memory
//! shared between processes (`fork` copies), so this is Linux's key for
//! private memory; as on Linux, a shared operation (without
//! `FUTEX_PRIVATE_FLAG`) has a key of its own, which a private one on
//! the same word does not match.

use super::sched::{self, State, Wait};
use super::{Process, System};
use crate::syscall::UserPtr;
use core::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub pid: u32,
    pub addr: u64,
    /// Made without FUTEX_PRIVATE_FLAG (Linux's FUT_OFF_MMSHARED).
    pub shared: bool,
}

/// A blocked futex wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiter {
    pub key: Key,
    /// FUTEX_WAIT_BITSET's mask (all ones for FUTEX_WAIT).
    pub bitset: u32,
    /// When the wait times out (monotonic host ns).
    pub deadline: Option<u64>,
    /// The order of waiting: lower waits longer.
    pub seq: u64,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// The wait of the running thread on `key`.
pub fn waiter(key: Key, bitset: u32, deadline: Option<u64>) -> Waiter {
    Waiter {
        key,
        bitset,
        deadline,
        seq: SEQ.fetch_add(1, Ordering::Relaxed),
    }
}

fn waiting_on(p: &Process, key: Key, bitset: u32) -> Option<u64> {
    match &p.state {
        State::Blocked(Wait::Futex(w)) if w.key == key && w.bitset & bitset != 0 => Some(w.seq),
        _ => None,
    }
}

/// The indexes in `others` of up to `n` waiters on `key` whose bitset
/// meets `bitset`, longest waiting first.
fn waiters(sys: &System, key: Key, bitset: u32, n: usize) -> alloc::vec::Vec<usize> {
    let mut found: alloc::vec::Vec<(u64, usize)> = sys
        .others
        .iter()
        .enumerate()
        .filter_map(|(i, p)| waiting_on(p, key, bitset).map(|seq| (seq, i)))
        .collect();
    found.sort_unstable();
    found.into_iter().take(n).map(|(_, i)| i).collect()
}

/// Wakes up to `n` waiters on `key` (their wait returns 0); returns how
/// many.
pub fn wake(sys: &mut System, key: Key, bitset: u32, n: usize) -> usize {
    let woken = waiters(sys, key, bitset, n);
    for &i in &woken {
        sched::finish(&mut sys.others[i], 0);
    }
    woken.len()
}

/// Wakes up to `n_wake` waiters on `from` and moves up to `n_move` more
/// to `to`; returns how many were woken and moved.
pub fn requeue(sys: &mut System, from: Key, to: Key, n_wake: usize, n_move: usize) -> usize {
    let all = waiters(sys, from, u32::MAX, n_wake.saturating_add(n_move));
    for (k, &i) in all.iter().enumerate() {
        if k < n_wake {
            sched::finish(&mut sys.others[i], 0);
        } else if let State::Blocked(Wait::Futex(w)) = &mut sys.others[i].state {
            w.key = to;
        }
    }
    all.len()
}

/// `CLONE_CHILD_CLEARTID` / `set_tid_address` at a thread's exit: 0 at
/// the address and one waiter woken (what `pthread_join` waits for). A
/// bad address is ignored, as Linux does.
pub fn clear_child_tid(sys: &mut System) {
    let addr = core::mem::take(&mut sys.proc.clear_child_tid);
    if addr == 0 || !addr.is_multiple_of(4) {
        return;
    }
    if UserPtr::<u32>::new(addr).write(&sys.proc.mm, 0).is_ok() {
        // Linux's wake here is a shared one (what glibc's join waits on).
        let key = Key {
            pid: sys.proc.pid,
            addr,
            shared: true,
        };
        wake(sys, key, u32::MAX, 1);
    }
}

pub const FUTEX_WAITERS: u32 = 0x8000_0000;
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// Entries of a robust list walked at most (Linux's ROBUST_LIST_LIMIT).
const ROBUST_LIST_LIMIT: usize = 2048;

/// The robust futex list of the exiting running thread
/// (`set_robust_list`): every futex on it that the thread holds gets
/// FUTEX_OWNER_DIED and one waiter woken, so the next locker sees
/// EOWNERDEAD. `struct robust_list_head { next; futex_offset;
/// list_op_pending }`; the list is circular through `head`. Any bad
/// pointer ends the walk, as on Linux.
pub fn exit_robust_list(sys: &mut System) {
    let (head, _) = core::mem::take(&mut sys.proc.robust_list);
    if head == 0 {
        return;
    }
    let mm = &sys.proc.mm;
    let Ok(words) = UserPtr::<[u64; 3]>::new(head).read(mm) else {
        return;
    };
    // Bit 0 of an entry pointer marks a PI futex.
    let (mut entry, offset, pending) = (words[0] & !1, words[1] as i64, words[2] & !1);
    let mut held = alloc::vec::Vec::new();
    let mut walked = 0;
    while entry != head && entry != 0 && walked < ROBUST_LIST_LIMIT {
        if entry != pending {
            held.push(entry.wrapping_add(offset as u64));
        }
        match UserPtr::<u64>::new(entry).read(mm) {
            Ok(next) => entry = next & !1,
            Err(_) => break,
        }
        walked += 1;
    }
    if pending != 0 {
        held.push(pending.wrapping_add(offset as u64));
    }
    for addr in held {
        owner_died(sys, addr);
    }
}

/// One robust futex of the exiting thread: if it holds it, the word
/// keeps only FUTEX_WAITERS and gains FUTEX_OWNER_DIED, and a waiter is
/// woken.
fn owner_died(sys: &mut System, addr: u64) {
    if !addr.is_multiple_of(4) {
        return;
    }
    let ptr = UserPtr::<u32>::new(addr);
    let Ok(word) = ptr.read(&sys.proc.mm) else {
        return;
    };
    if word & FUTEX_TID_MASK != sys.proc.tid {
        return;
    }
    let new = (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
    if ptr.write(&sys.proc.mm, new).is_ok() && word & FUTEX_WAITERS != 0 {
        // Shared, as Linux's handle_futex_death (glibc's robust mutexes
        // wait so).
        let key = Key {
            pid: sys.proc.pid,
            addr,
            shared: true,
        };
        wake(sys, key, u32::MAX, 1);
    }
}
