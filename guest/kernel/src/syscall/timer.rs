//! POSIX timers: `timer_create`, `timer_settime`, `timer_gettime`,
//! `timer_getoverrun`, `timer_delete` (the table and its arithmetic are
//! `process::ptimer`; the scheduler fires them with the interval timer).
//! Clocks: CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME and CLOCK_TAI;
//! the clocks Linux has no timers for are EOPNOTSUPP as there (the alarm
//! clocks too, as on a machine without an RTC); the CPU-time clocks are
//! not implemented (EINVAL).

use super::time::{now, Timespec};
use super::user_ptr::Pod;
use super::{Args, Errno, UserPtr};
use crate::host::hypercall;
use crate::process;
use crate::process::ptimer::{SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID};
use crate::process::signal::{NSIG, SIGALRM};

/// `struct sigevent` (64 bytes): sigev_value, sigev_signo, sigev_notify,
/// then a union whose first int is the thread id of SIGEV_THREAD_ID.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct Sigevent {
    value: u64,
    signo: i32,
    notify: i32,
    tid: i32,
    rest: [i32; 11],
}

// SAFETY: integers only, no padding (8 + 4 * 14 = 64 bytes).
unsafe impl Pod for Sigevent {}

/// `struct itimerspec`: the interval, then the value.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct Itimerspec {
    interval: Timespec,
    value: Timespec,
}

// SAFETY: two Timespecs, integers only.
unsafe impl Pod for Itimerspec {}

const TIMER_ABSTIME: u64 = 1;

/// Whether timers exist for `clock` (Linux's `timer_create` per clock).
fn timer_clock(clock: u64) -> Result<(), Errno> {
    use super::time::*;
    match clock {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI => Ok(()),
        CLOCK_MONOTONIC_RAW
        | CLOCK_REALTIME_COARSE
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_REALTIME_ALARM
        | CLOCK_BOOTTIME_ALARM => Err(Errno::EOPNOTSUPP),
        _ => Err(Errno::EINVAL),
    }
}

/// The signal a `sigevent` asks for (0: none), as Linux's
/// `good_sigevent` checks it: SIGEV_THREAD_ID's thread must be one of
/// the caller's process (`mine`).
fn signal_of(ev: &Sigevent, mine: impl Fn(u32) -> bool) -> Result<u32, Errno> {
    if ev.notify & SIGEV_THREAD_ID != 0 && (ev.tid <= 0 || !mine(ev.tid as u32)) {
        return Err(Errno::EINVAL);
    }
    match ev.notify & !SIGEV_THREAD_ID {
        SIGEV_SIGNAL | SIGEV_THREAD if (1..=NSIG as i32).contains(&ev.signo) => {
            Ok(ev.signo as u32)
        }
        SIGEV_NONE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub(super) fn timer_create(a: &Args) -> Result<usize, Errno> {
    let (clock, sevp, idp) = (a[0], a[1], a[2]);
    process::with(|sys| {
        // The event is read before the clock is looked at, as on Linux.
        let ev = if sevp != 0 {
            Some(UserPtr::<Sigevent>::new(sevp).read(&sys.proc.mm)?)
        } else {
            None
        };
        timer_clock(clock)?;
        let pid = sys.proc.pid;
        let mine = |tid: u32| {
            process::sched::find_tid(sys, tid)
                .is_some_and(|w| process::sched::task(sys, w).pid == pid)
        };
        let (signo, value) = match ev {
            Some(ev) => (signal_of(&ev, mine)?, Some(ev.value)),
            None => (SIGALRM, None),
        };
        let id = sys.proc.timers.create(clock, signo, value)?;
        if let Some(ev) = ev.filter(|e| e.notify & SIGEV_THREAD_ID != 0) {
            sys.proc.timers.get(id)?.tid = ev.tid as u32;
        }
        if let Err(e) = UserPtr::<i32>::new(idp).copy_to_user(&sys.proc.mm, &[id]) {
            // Linux takes the timer back when it cannot say its id.
            let _ = sys.proc.timers.delete(id);
            return Err(e);
        }
        Ok(0)
    })
}

fn timespec_ns(ts: &Timespec) -> Result<u64, Errno> {
    if ts.is_valid() {
        Ok(ts.to_ns())
    } else {
        Err(Errno::EINVAL)
    }
}

/// The current setting of timer `id` as `timer_gettime` reports it.
fn current(sys: &mut process::System, id: i32, mono: u64) -> Result<Itimerspec, Errno> {
    let (interval, left) = sys.proc.timers.get(id)?.left(mono);
    Ok(Itimerspec {
        interval: Timespec::from_ns(interval),
        value: Timespec::from_ns(left),
    })
}

pub(super) fn timer_settime(a: &Args) -> Result<usize, Errno> {
    let (id, flags, new, old) = (a[0] as i32, a[1], a[2], a[3]);
    if new == 0 {
        return Err(Errno::EINVAL);
    }
    let mut spec = Itimerspec::default();
    process::with(|sys| {
        spec = UserPtr::new(new).read(&sys.proc.mm)?;
        Ok(0)
    })?;
    let interval = timespec_ns(&spec.interval)?;
    let value = timespec_ns(&spec.value)?;
    let clock = process::with_value(|sys| Ok(sys.proc.timers.get(id)?.clock))?;
    // An absolute time is turned into a deadline on the host's monotonic
    // clock from the timer's clock's reading now.
    let clock_now = if flags & TIMER_ABSTIME != 0 {
        now(clock)?
    } else {
        0
    };
    let mono = hypercall::clock().monotonic_ns;
    process::with(|sys| {
        let prev = current(sys, id, mono)?;
        let t = sys.proc.timers.get(id)?;
        t.interval = interval;
        t.overrun_last = 0;
        t.deadline = (value > 0).then(|| {
            let rel = if flags & TIMER_ABSTIME != 0 {
                // A time already past expires at once (but later than now).
                value.saturating_sub(clock_now).max(1)
            } else {
                value
            };
            mono.saturating_add(rel)
        });
        if old != 0 {
            UserPtr::new(old).copy_to_user(&sys.proc.mm, &[prev])?;
        }
        Ok(0)
    })
}

pub(super) fn timer_gettime(a: &Args) -> Result<usize, Errno> {
    let id = a[0] as i32;
    let mono = hypercall::clock().monotonic_ns;
    process::with(|sys| {
        let cur = current(sys, id, mono)?;
        UserPtr::new(a[1]).copy_to_user(&sys.proc.mm, &[cur])?;
        Ok(0)
    })
}

pub(super) fn timer_getoverrun(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| Ok(sys.proc.timers.get(a[0] as i32)?.overrun_last as usize))
}

/// `timer_delete`: a signal of the timer still pending goes with it.
pub(super) fn timer_delete(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        let t = sys.proc.timers.delete(a[0] as i32)?;
        if t.signo != 0 {
            sys.proc.signals.drop_from_timer(t.signo, t.id);
        }
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscall::time::CLOCK_MONOTONIC;

    #[test]
    fn sigevents_as_linux_checks_them() {
        let ev = |notify, signo, tid| Sigevent {
            notify,
            signo,
            tid,
            ..Default::default()
        };
        let mine = |tid: u32| tid == 5 || tid == 7;
        assert_eq!(signal_of(&ev(SIGEV_SIGNAL, 10, 0), mine), Ok(10));
        assert_eq!(signal_of(&ev(SIGEV_SIGNAL, 0, 0), mine), Err(Errno::EINVAL));
        assert_eq!(signal_of(&ev(SIGEV_SIGNAL, 65, 0), mine), Err(Errno::EINVAL));
        assert_eq!(signal_of(&ev(SIGEV_NONE, 0, 0), mine), Ok(0));
        assert_eq!(signal_of(&ev(SIGEV_THREAD_ID, 34, 5), mine), Ok(34));
        assert_eq!(signal_of(&ev(SIGEV_THREAD_ID, 34, 7), mine), Ok(34));
        assert_eq!(signal_of(&ev(SIGEV_THREAD_ID, 34, 6), mine), Err(Errno::EINVAL));
        assert_eq!(signal_of(&ev(3, 10, 0), mine), Err(Errno::EINVAL));
        assert_eq!(core::mem::size_of::<Sigevent>(), 64);
        assert_eq!(timer_clock(CLOCK_MONOTONIC), Ok(()));
        assert_eq!(timer_clock(4), Err(Errno::EOPNOTSUPP));
        assert_eq!(timer_clock(10), Err(Errno::EINVAL));
    }
}
