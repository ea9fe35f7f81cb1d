//! POSIX per-process timers (`timer_create` and friends, `syscall::timer`):
//! the table of a process's timers and their arithmetic, kept apart from
//! the calls so that it can be tested on the host.
//!
//! Deadlines are on the host's monotonic clock (ns) whatever the timer's
//! clock: `timer_settime` converts an absolute time once, when it arms
//! the timer (a later step of CLOCK_REALTIME does not move it, unlike
//! Linux). A periodic timer is re-armed when it fires, from its previous
//! deadline, skipping the periods that went by meanwhile (they count as
//! overruns, as Linux's `hrtimer_forward` counts them); an expiry while
//! the timer's signal is still pending adds to that signal's overrun
//! instead of sending another one. Timers are not inherited by a fork
//! child and are deleted by exec, as on Linux.

use alloc::vec::Vec;

use crate::syscall::Errno;

/// `sigev_notify` values (the kernel's view: glibc turns SIGEV_THREAD
/// into SIGEV_THREAD_ID with a helper thread of its own).
pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;
pub const SIGEV_THREAD_ID: i32 = 4;
/// `si_code` of a timer's signal.
pub const SI_TIMER: i32 = -2;
/// The most timers a process may have at once (Linux's limit is memory
/// and the id space; past it timer_create is EAGAIN there too).
pub const MAX_TIMERS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub id: i32,
    pub clock: u64,
    /// The signal it sends; 0 for SIGEV_NONE.
    pub signo: u32,
    /// `sigev_value`, for the signal's `si_value`.
    pub value: u64,
    /// SIGEV_THREAD_ID's thread (0: the process: a thread that takes it).
    pub tid: u32,
    /// When it expires next (host monotonic ns); `None`: disarmed.
    pub deadline: Option<u64>,
    /// Its period (0: once).
    pub interval: u64,
    /// What `timer_getoverrun` says: the overrun of the last signal it
    /// delivered.
    pub overrun_last: i32,
}

impl Timer {
    /// If the timer has expired at `now`: re-arms a periodic one (or
    /// disarms a one-shot one) and returns the periods missed besides
    /// this expiry.
    pub fn expire(&mut self, now: u64) -> Option<u64> {
        let deadline = self.deadline?;
        if now < deadline {
            return None;
        }
        if self.interval == 0 {
            self.deadline = None;
            return Some(0);
        }
        let missed = (now - deadline) / self.interval;
        let step = missed.saturating_add(1).saturating_mul(self.interval);
        self.deadline = Some(deadline.saturating_add(step));
        Some(missed)
    }

    /// Interval and time left at `now`, as `timer_gettime` reports them
    /// (ns): an expired timer whose signal has not gone yet reads as 1 ns
    /// left (Linux); an expired SIGEV_NONE timer as disarmed, or, if
    /// periodic, as the time to its next period.
    pub fn left(&mut self, now: u64) -> (u64, u64) {
        if self.signo == 0 {
            self.expire(now);
        }
        let left = match self.deadline {
            None => 0,
            Some(d) => d.saturating_sub(now).max(1),
        };
        (self.interval, left)
    }
}

/// A process's timers.
#[derive(Debug, Default)]
pub struct Timers {
    pub list: Vec<Timer>,
    /// The id the next timer gets, if free (Linux hands them out in order
    /// from 0).
    next_id: i32,
}

impl Timers {
    /// A new disarmed timer; `value` None means the id itself (a null
    /// `sevp`: sival_int is the timer's id).
    pub fn create(&mut self, clock: u64, signo: u32, value: Option<u64>) -> Result<i32, Errno> {
        if self.list.len() >= MAX_TIMERS {
            return Err(Errno::EAGAIN);
        }
        let mut id = self.next_id;
        while self.list.iter().any(|t| t.id == id) {
            id = if id == i32::MAX { 0 } else { id + 1 };
        }
        self.next_id = if id == i32::MAX { 0 } else { id + 1 };
        self.list.push(Timer {
            id,
            clock,
            signo,
            value: value.unwrap_or(id as u32 as u64),
            tid: 0,
            deadline: None,
            interval: 0,
            overrun_last: 0,
        });
        Ok(id)
    }

    /// The timer `id`; EINVAL if there is none.
    pub fn get(&mut self, id: i32) -> Result<&mut Timer, Errno> {
        self.list.iter_mut().find(|t| t.id == id).ok_or(Errno::EINVAL)
    }

    pub fn delete(&mut self, id: i32) -> Result<Timer, Errno> {
        let i = self.list.iter().position(|t| t.id == id).ok_or(Errno::EINVAL)?;
        Ok(self.list.swap_remove(i))
    }

    /// The earliest deadline of a timer that sends a signal.
    pub fn earliest(&self) -> Option<u64> {
        self.list.iter().filter(|t| t.signo != 0).filter_map(|t| t.deadline).min()
    }

    /// Whether a timer that sends a signal is armed.
    pub fn any_armed(&self) -> bool {
        self.earliest().is_some()
    }
}

/// The overrun count after `more` expirations on top of `count`, capped
/// as Linux caps it (it never reads as negative).
pub const fn add_overrun(count: i32, more: u64) -> i32 {
    let sum = (count as u64).saturating_add(more);
    if sum > i32::MAX as u64 {
        i32::MAX
    } else {
        sum as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_up_from_zero_and_skip_those_in_use() {
        let mut t = Timers::default();
        assert_eq!(t.create(1, 14, None), Ok(0));
        assert_eq!(t.create(1, 14, Some(7)), Ok(1));
        assert_eq!(t.get(0).unwrap().value, 0, "a null sevp: sival_int = id");
        assert_eq!(t.get(1).unwrap().value, 7);
        assert!(t.delete(0).is_ok());
        assert_eq!(t.delete(0), Err(Errno::EINVAL));
        assert_eq!(t.create(1, 14, None), Ok(2));
        assert_eq!(t.get(5).err(), Some(Errno::EINVAL));
        t.next_id = i32::MAX;
        assert_eq!(t.create(1, 14, None), Ok(i32::MAX));
        assert_eq!(t.create(1, 14, None), Ok(0), "wraps to a free id");
        assert_eq!(t.create(1, 14, None), Ok(3), "1 and 2 are taken");
    }

    #[test]
    fn expiry_rearms_periodic_timers_and_counts_missed_periods() {
        let mut t = Timers::default();
        let id = t.create(1, 14, None).unwrap();
        let timer = t.get(id).unwrap();
        timer.deadline = Some(100);
        timer.interval = 10;
        assert_eq!(timer.expire(99), None);
        assert_eq!(timer.expire(100), Some(0));
        assert_eq!(timer.deadline, Some(110));
        assert_eq!(timer.expire(135), Some(2), "110, then 120 and 130 missed");
        assert_eq!(timer.deadline, Some(140));
        timer.interval = 0;
        assert_eq!(timer.expire(140), Some(0));
        assert_eq!(timer.deadline, None);
        assert_eq!(timer.expire(1000), None);
        assert!(!t.any_armed());
    }

    #[test]
    fn time_left_as_timer_gettime_reports_it() {
        let mut t = Timers::default();
        let sig = t.create(1, 14, None).unwrap();
        let none = t.create(1, 0, None).unwrap();
        t.get(sig).unwrap().deadline = Some(100);
        assert_eq!(t.get(sig).unwrap().left(40), (0, 60));
        assert_eq!(t.get(sig).unwrap().left(150), (0, 1), "expired, not yet sent");
        let n = t.get(none).unwrap();
        n.deadline = Some(100);
        assert_eq!(n.left(150), (0, 0), "SIGEV_NONE: over");
        n.deadline = Some(100);
        n.interval = 30;
        assert_eq!(n.left(150), (30, 10), "periodic: the next period");
        assert_eq!(t.earliest(), Some(100), "SIGEV_NONE timers wake nobody");
        assert_eq!(add_overrun(i32::MAX - 1, 5), i32::MAX);
        assert_eq!(add_overrun(2, 3), 5);
    }
}
