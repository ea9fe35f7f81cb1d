//! Clocks from the host's clock hypercall: `clock_gettime`,
//! `clock_getres`, `gettimeofday`, `time`, `times`, `getrusage`, and the
//! sleeps. Without a timer interrupt (a KVM with no in-kernel irqchip) a
//! sleep asks the host for the
//! time until the deadline has passed (one exit, ~10 us, a round); with
//! one (`arch::apic`) it blocks the process (`Wait::Sleep`) so others run
//! meanwhile, and the CPU halts when nothing can.
//!
//! While a display is attached the monotonic clocks (CLOCK_MONOTONIC,
//! _RAW, _COARSE, CLOCK_BOOTTIME, _ALARM) are the frame clock: the
//! mailbox's `timeNs` (docs/protocol.md, "The screen"), which only moves
//! when a frame is presented, so a `--fixed-time` run is reproducible. An
//! absolute sleep on them to a later time returns at once (waiting could
//! never end: only the program's next frame advances that clock).

use super::user_ptr::Pod;
use super::{Args, Errno, UserPtr};
use crate::host::hypercall;
use crate::process;

pub const CLOCK_REALTIME: u64 = 0;
pub const CLOCK_MONOTONIC: u64 = 1;
pub const CLOCK_PROCESS_CPUTIME_ID: u64 = 2;
pub const CLOCK_THREAD_CPUTIME_ID: u64 = 3;
pub const CLOCK_MONOTONIC_RAW: u64 = 4;
pub const CLOCK_REALTIME_COARSE: u64 = 5;
pub const CLOCK_MONOTONIC_COARSE: u64 = 6;
pub const CLOCK_BOOTTIME: u64 = 7;
pub const CLOCK_REALTIME_ALARM: u64 = 8;
pub const CLOCK_BOOTTIME_ALARM: u64 = 9;
pub const CLOCK_TAI: u64 = 11;
const NS: u64 = 1_000_000_000;
/// Resolution of the coarse clocks (Linux: one tick at HZ=250).
const COARSE_NS: i64 = 4_000_000;

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

// SAFETY: two i64.
unsafe impl Pod for Timespec {}

impl Timespec {
    pub const fn from_ns(ns: u64) -> Self {
        Self {
            sec: (ns / NS) as i64,
            nsec: (ns % NS) as i64,
        }
    }

    /// A valid duration/time: nsec in [0, 1e9), sec >= 0.
    pub const fn is_valid(&self) -> bool {
        self.sec >= 0 && self.nsec >= 0 && self.nsec < NS as i64
    }
}

/// `struct timeval` and `struct timezone` share a shape: two longs /
/// two ints.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeval {
    pub sec: i64,
    pub usec: i64,
}

// SAFETY: two i64.
unsafe impl Pod for Timeval {}

/// Where the monotonic clocks start: their zero is an unspecified point
/// (POSIX); kvmos puts it 1000 s before boot, so that a program that
/// takes a small absolute deadline such as {1, 0} for "long past" (as it
/// is on any machine that has been up a while) sees it so here too,
/// although the guest booted milliseconds ago.
pub const MONOTONIC_START_NS: u64 = 1000 * NS;

/// Nanoseconds of `clock` now; EINVAL for a clock Linux does not have.
pub fn now(clock: u64) -> Result<u64, Errno> {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_REALTIME_ALARM | CLOCK_TAI => {
            Ok(hypercall::clock().realtime_ns)
        }
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME
        | CLOCK_BOOTTIME_ALARM => Ok(match crate::dev::display::time_ns() {
            Some(frame_ns) => frame_ns,
            None => hypercall::clock().monotonic_ns + MONOTONIC_START_NS,
        }),
        // Not accounted per task yet: the time since boot.
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => Ok(hypercall::clock().monotonic_ns),
        _ => Err(Errno::EINVAL),
    }
}

fn valid_clock(clock: u64) -> Result<(), Errno> {
    match clock {
        0..=9 | CLOCK_TAI => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

pub(super) fn clock_gettime(a: &Args) -> Result<usize, Errno> {
    valid_clock(a[0])?;
    process::with(|sys| {
        let ts = Timespec::from_ns(now(a[0])?);
        UserPtr::new(a[1]).copy_to_user(&sys.proc.mm, &[ts])?;
        Ok(0)
    })
}

pub(super) fn clock_getres(a: &Args) -> Result<usize, Errno> {
    valid_clock(a[0])?;
    if a[1] == 0 {
        return Ok(0);
    }
    let nsec = match a[0] {
        CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => COARSE_NS,
        _ => 1,
    };
    process::with(|sys| {
        UserPtr::new(a[1]).copy_to_user(&sys.proc.mm, &[Timespec { sec: 0, nsec }])?;
        Ok(0)
    })
}

pub(super) fn gettimeofday(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        if a[0] != 0 {
            let ns = hypercall::clock().realtime_ns;
            let tv = Timeval {
                sec: (ns / NS) as i64,
                usec: (ns % NS / 1000) as i64,
            };
            UserPtr::new(a[0]).copy_to_user(&sys.proc.mm, &[tv])?;
        }
        if a[1] != 0 {
            UserPtr::new(a[1]).copy_to_user(&sys.proc.mm, &[Timeval::default()])?;
        }
        Ok(0)
    })
}

pub(super) fn time(a: &Args) -> Result<usize, Errno> {
    let secs = hypercall::clock().realtime_ns / NS;
    if a[0] != 0 {
        process::with(|sys| {
            UserPtr::<u64>::new(a[0]).copy_to_user(&sys.proc.mm, &[secs])?;
            Ok(0)
        })?;
    }
    Ok(secs as usize)
}

/// Waits until `clock` reads at least `deadline` (ns).
pub fn sleep_until(clock: u64, deadline: u64) {
    if matches!(clock, CLOCK_MONOTONIC | CLOCK_BOOTTIME) && crate::dev::display::present() {
        return;
    }
    while now(clock).is_ok_and(|t| t < deadline) {}
}

/// Waits `ns` nanoseconds (monotonic).
pub fn sleep(ns: u64) {
    if ns > 0 {
        let start = hypercall::clock().monotonic_ns;
        let deadline = start.saturating_add(ns);
        while hypercall::clock().monotonic_ns < deadline {}
    }
}

impl Timespec {
    pub const fn to_ns(&self) -> u64 {
        (self.sec as u64)
            .saturating_mul(NS)
            .saturating_add(self.nsec as u64)
    }
}

/// Reads and validates a timespec argument (EFAULT, EINVAL).
pub fn read_timespec(ptr: u64) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    process::with(|sys| {
        ts = UserPtr::new(ptr).read(&sys.proc.mm)?;
        Ok(0)
    })?;
    if !ts.is_valid() {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

pub(super) fn nanosleep(a: &Args) -> Result<usize, Errno> {
    let ts = read_timespec(a[0])?;
    if crate::arch::apic::timer_running() {
        return block_until(ts.to_ns());
    }
    sleep(ts.to_ns());
    Ok(0)
}

/// A sleep with the timer: blocks until `ns` from now on the host's
/// monotonic clock. The call is restarted while blocked; the deadline
/// set when it first blocked (`restart_deadline`) holds across restarts.
fn block_until(ns: u64) -> Result<usize, Errno> {
    let now = hypercall::clock().monotonic_ns;
    process::with(|sys| {
        let deadline = sys
            .proc
            .restart_deadline
            .take()
            .unwrap_or_else(|| now.saturating_add(ns));
        if now >= deadline {
            return Ok(0);
        }
        sys.proc.restart_deadline = Some(deadline);
        Err(process::sched::block(
            sys,
            process::sched::Wait::Sleep(deadline),
        ))
    })
}

const TIMER_ABSTIME: u64 = 1;

pub(super) fn clock_nanosleep(a: &Args) -> Result<usize, Errno> {
    let clock = a[0];
    match clock {
        CLOCK_REALTIME
        | CLOCK_MONOTONIC
        | CLOCK_BOOTTIME
        | CLOCK_TAI
        | CLOCK_PROCESS_CPUTIME_ID => {}
        _ => return Err(Errno::EINVAL),
    }
    let ts = read_timespec(a[2])?;
    if crate::arch::apic::timer_running() {
        let ns = if a[1] & TIMER_ABSTIME == 0 {
            ts.to_ns()
        } else if matches!(clock, CLOCK_MONOTONIC | CLOCK_BOOTTIME)
            && crate::dev::display::present()
        {
            // The frame clock moves only with frames: as `sleep_until`.
            0
        } else {
            // The time left, from the clock's own reading: the deadline
            // is then kept on the host's monotonic clock.
            ts.to_ns().saturating_sub(now(clock)?)
        };
        return block_until(ns);
    }
    if a[1] & TIMER_ABSTIME != 0 {
        sleep_until(clock, ts.to_ns());
    } else {
        sleep(ts.to_ns());
    }
    Ok(0)
}

/// `struct tms`: four clock_t.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Tms {
    pub utime: i64,
    pub stime: i64,
    pub cutime: i64,
    pub cstime: i64,
}

// SAFETY: four i64.
unsafe impl Pod for Tms {}

pub(super) fn times(a: &Args) -> Result<usize, Errno> {
    let ticks =
        (hypercall::clock().monotonic_ns / (NS / crate::process::stack::CLOCK_TICKS)) as i64;
    if a[0] != 0 {
        process::with(|sys| {
            let t = Tms {
                utime: ticks,
                ..Tms::default()
            };
            UserPtr::new(a[0]).copy_to_user(&sys.proc.mm, &[t])?;
            Ok(0)
        })?;
    }
    Ok(ticks as usize)
}

/// `struct rusage` (144 bytes): two timevals, then 14 longs.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Rusage {
    pub utime: Timeval,
    pub stime: Timeval,
    pub rest: [i64; 14],
}

// SAFETY: integers only.
unsafe impl Pod for Rusage {}

pub(super) fn getrusage(a: &Args) -> Result<usize, Errno> {
    let who = a[0] as i32;
    if !(-1..=1).contains(&who) {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let mut r = Rusage::default();
        if who != -1 {
            let ns = hypercall::clock().monotonic_ns;
            r.utime = Timeval {
                sec: (ns / NS) as i64,
                usec: (ns % NS / 1000) as i64,
            };
        }
        UserPtr::new(a[1]).copy_to_user(&sys.proc.mm, &[r])?;
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespecs() {
        assert_eq!(
            Timespec::from_ns(1_500_000_001),
            Timespec {
                sec: 1,
                nsec: 500_000_001
            }
        );
        assert!(Timespec {
            sec: 0,
            nsec: 999_999_999
        }
        .is_valid());
        assert!(!Timespec {
            sec: 0,
            nsec: 1_000_000_000
        }
        .is_valid());
        assert!(!Timespec { sec: -1, nsec: 0 }.is_valid());
        assert_eq!(valid_clock(CLOCK_TAI), Ok(()));
        assert_eq!(valid_clock(10), Err(Errno::EINVAL));
        assert_eq!(
            valid_clock(u64::MAX),
            Err(Errno::EINVAL),
            "CPU clocks of other pids"
        );
    }
}

/// `struct itimerval`: the interval, then the time left.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Itimerval {
    pub interval: Timeval,
    pub value: Timeval,
}

// SAFETY: two Timevals, integers only.
unsafe impl Pod for Itimerval {}

const ITIMER_REAL: u64 = 0;
const US: u64 = 1000;

impl Timeval {
    const fn to_ns(self) -> u64 {
        (self.sec as u64)
            .saturating_mul(NS)
            .saturating_add(self.usec as u64 * US)
    }

    const fn from_ns(ns: u64) -> Self {
        Self {
            sec: (ns / NS) as i64,
            // Linux rounds the time left up to a whole microsecond.
            usec: (ns % NS).div_ceil(US) as i64,
        }
    }

    const fn is_valid(&self) -> bool {
        self.sec >= 0 && self.usec >= 0 && self.usec < 1_000_000
    }
}

/// The running process's ITIMER_REAL as Linux reports it: interval and
/// time left (zero when disarmed).
fn itimer_now(timer: Option<(u64, u64)>, now: u64) -> Itimerval {
    match timer {
        None => Itimerval::default(),
        Some((deadline, interval)) => Itimerval {
            interval: Timeval::from_ns(interval),
            // An expired one not yet fired reads as a microsecond left.
            value: Timeval::from_ns(deadline.saturating_sub(now).max(US)),
        },
    }
}

/// Arms (a non-zero value) or disarms ITIMER_REAL; the previous setting.
fn set_itimer(new: Itimerval) -> Result<Itimerval, Errno> {
    let now = hypercall::clock().monotonic_ns;
    process::with_value(|sys| {
        let old = itimer_now(sys.proc.itimer, now);
        let value = new.value.to_ns();
        sys.proc.itimer = (value > 0).then(|| (now.saturating_add(value), new.interval.to_ns()));
        Ok(old)
    })
}

const ITIMER_VIRTUAL: u64 = 1;
const ITIMER_PROF: u64 = 2;

/// Which of the CPU-time timers `which` is (`Process::cpu_itimers`);
/// EINVAL for an unknown one, and for both where there is no tick to
/// count CPU time with (a KVM with no irqchip: `apic::timer_running`).
fn cpu_timer(which: u64) -> Result<usize, Errno> {
    match which {
        ITIMER_VIRTUAL | ITIMER_PROF if crate::arch::apic::timer_running() => {
            Ok(which as usize - 1)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// A CPU-time timer as `getitimer` reports it.
fn cpu_itimer_now(timer: Option<(u64, u64)>) -> Itimerval {
    match timer {
        None => Itimerval::default(),
        Some((left, interval)) => Itimerval {
            interval: Timeval::from_ns(interval),
            value: Timeval::from_ns(left),
        },
    }
}

/// `setitimer`: ITIMER_REAL (SIGALRM when it expires) and, with the
/// tick, ITIMER_VIRTUAL and ITIMER_PROF (SIGVTALRM, SIGPROF after that
/// much CPU time). A null new value disarms, as Linux still accepts.
pub(super) fn setitimer(a: &Args) -> Result<usize, Errno> {
    let cpu = if a[0] == ITIMER_REAL {
        None
    } else {
        Some(cpu_timer(a[0])?)
    };
    let new = if a[1] == 0 {
        Itimerval::default()
    } else {
        let mut v = Itimerval::default();
        process::with(|sys| {
            v = UserPtr::new(a[1]).read(&sys.proc.mm)?;
            Ok(0)
        })?;
        v
    };
    if !new.value.is_valid() || !new.interval.is_valid() {
        return Err(Errno::EINVAL);
    }
    let old = match cpu {
        None => set_itimer(new)?,
        Some(i) => process::with_value(|sys| {
            let slot = &mut sys.proc.cpu_itimers[i];
            let old = cpu_itimer_now(*slot);
            let value = new.value.to_ns();
            // Linux adds a tick to the value (set_cpu_itimer): the tick
            // under way is not counted as a whole.
            *slot = (value > 0).then(|| {
                let with_tick = value.saturating_add(crate::arch::apic::TICK_NS);
                (with_tick, new.interval.to_ns())
            });
            Ok(old)
        })?,
    };
    if a[2] != 0 {
        process::with(|sys| {
            UserPtr::new(a[2]).copy_to_user(&sys.proc.mm, &[old])?;
            Ok(0)
        })?;
    }
    Ok(0)
}

/// `getitimer`: the timers `setitimer` sets.
pub(super) fn getitimer(a: &Args) -> Result<usize, Errno> {
    let cpu = if a[0] == ITIMER_REAL {
        None
    } else {
        Some(cpu_timer(a[0])?)
    };
    let now = hypercall::clock().monotonic_ns;
    process::with(|sys| {
        let v = match cpu {
            None => itimer_now(sys.proc.itimer, now),
            Some(i) => cpu_itimer_now(sys.proc.cpu_itimers[i]),
        };
        UserPtr::new(a[1]).copy_to_user(&sys.proc.mm, &[v])?;
        Ok(0)
    })
}

/// `alarm`: ITIMER_REAL for whole seconds, once; the seconds the previous
/// one had left, rounded as Linux does (to nearest, at least 1).
pub(super) fn alarm(a: &Args) -> Result<usize, Errno> {
    let secs = a[0] as u32 as i64;
    let old = set_itimer(Itimerval {
        interval: Timeval::default(),
        value: Timeval { sec: secs, usec: 0 },
    })?;
    Ok(alarm_seconds(old.value) as usize)
}

/// What `alarm` returns for the time the previous alarm had left: whole
/// seconds to the nearest, and 1 rather than 0 if any was left (Linux).
const fn alarm_seconds(left: Timeval) -> i64 {
    if (left.sec == 0 && left.usec != 0) || left.usec >= 500_000 {
        left.sec + 1
    } else {
        left.sec
    }
}

/// `pause`: waits for a signal that runs a handler (then EINTR) or kills.
pub(super) fn pause(_a: &Args) -> Result<usize, Errno> {
    process::with(|sys| Err(process::sched::block(sys, process::sched::Wait::Signal)))
}

#[cfg(test)]
mod itimer_tests {
    use super::*;

    #[test]
    fn alarm_rounds_to_the_nearest_second_and_never_to_zero() {
        let tv = |sec, usec| Timeval { sec, usec };
        assert_eq!(alarm_seconds(tv(0, 0)), 0);
        assert_eq!(alarm_seconds(tv(0, 1)), 1);
        assert_eq!(alarm_seconds(tv(4, 499_999)), 4);
        assert_eq!(alarm_seconds(tv(4, 500_000)), 5);
    }

    #[test]
    fn time_left_rounds_up_to_a_microsecond() {
        let t = Timeval::from_ns(2_500_000_001);
        assert_eq!((t.sec, t.usec), (2, 500_001));
        assert_eq!(Timeval { sec: 2, usec: 5 }.to_ns(), 2_000_005_000);
        assert!(!Timeval { sec: 0, usec: 1_000_000 }.is_valid());
        assert!(!Timeval { sec: -1, usec: 0 }.is_valid());
    }

    #[test]
    fn cpu_timers_count_down_and_rearm_with_the_excess_carried() {
        use crate::process::sched::cpu_timer_step;
        assert_eq!(cpu_timer_step(10, 0, 4), (Some((6, 0)), false));
        assert_eq!(cpu_timer_step(4, 0, 4), (None, true));
        assert_eq!(cpu_timer_step(3, 5, 4), (Some((4, 5)), true));
        assert_eq!(cpu_timer_step(1, 2, 4), (Some((1, 2)), true), "one signal a tick");
        assert_eq!(cpu_itimer_now(Some((2_500_000_001, 0))).value.usec, 500_001);
    }

    #[test]
    fn an_expired_timer_reads_as_a_microsecond_left() {
        assert_eq!(itimer_now(None, 5).value.usec, 0);
        let v = itimer_now(Some((100, 7_000)), 200);
        assert_eq!((v.value.sec, v.value.usec, v.interval.usec), (0, 1, 7));
    }
}
