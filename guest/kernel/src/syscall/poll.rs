//! `poll`, `ppoll`, `select`, `pselect6`. Every descriptor kvmos has is
//! ready for what its access mode allows (files and devices like Linux's
//! default poll mask; the console on a host pipe or file is reported
//! readable and a read waits for the host's stdin). The terminal
//! (`crate::dev::tty`) is readable when the host says input is there. When
//! nothing is ready they wait out the timeout (nothing can become ready
//! meanwhile: there is no other thread; with the terminal among the
//! descriptors the host waits for its input, up to the timeout) unless
//! another process can run: then the call blocks (`wait`). Pipes are
//! ready as Linux's `pipe_poll` says.
//! `/dev/input/event0` is readable when the mailbox has events not read
//! yet, or the window was closed (a read then returns 0), like evdev.

use super::user_ptr::Pod;
use super::{Args, Errno, UserPtr};
use crate::process::fd::FileKind;
use crate::process::{self, sched, System, RLIMIT_NOFILE};
use crate::vfs::Device;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

/// Whether the call being served looked at the terminal's input.
static TERMINAL_POLLED: AtomicBool = AtomicBool::new(false);

pub const POLLIN: i16 = 0x001;
pub const POLLOUT: i16 = 0x004;
pub const POLLERR: i16 = 0x008;
pub const POLLHUP: i16 = 0x010;
pub const POLLNVAL: i16 = 0x020;
pub const POLLRDNORM: i16 = 0x040;
pub const POLLWRNORM: i16 = 0x100;

/// `struct pollfd`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

// SAFETY: integers, no padding.
unsafe impl Pod for PollFd {}

/// What `fd` is ready for (POLLIN/POLLOUT and the NORM twins), None if
/// it is not an open descriptor poll can use.
fn readiness(sys: &System, fd: i32) -> Option<i16> {
    let slot = sys.proc.fds.get(fd as u64).ok()?;
    let f = slot.file.borrow();
    if f.kind == FileKind::Path {
        return None;
    }
    if let Some(end) = &f.pipe {
        // Linux's pipe_poll: the read end is readable with data, hung up
        // with no writer; the write end writable with a free slot, in
        // error with no reader.
        let p = end.pipe.borrow();
        return Some(if end.write {
            let mut r = 0;
            if !p.ring.is_full() {
                r |= POLLOUT | POLLWRNORM;
            }
            if p.readers == 0 {
                r |= POLLERR;
            }
            r
        } else {
            let mut r = 0;
            if !p.ring.is_empty() {
                r |= POLLIN | POLLRDNORM;
            }
            if p.writers == 0 {
                r |= POLLHUP;
            }
            r
        });
    }
    // Files and devices have no poll of their own on Linux: always both
    // ways (DEFAULT_POLLMASK). The terminal is like the pipe it usually
    // is: ready for what its access mode allows.
    let console = matches!(
        f.kind,
        FileKind::Console { .. } | FileKind::Device(Device::Console | Device::Tty)
    );
    if f.kind == FileKind::Device(Device::Event0) {
        let r = POLLOUT | POLLWRNORM;
        return Some(if crate::dev::display::readable() {
            r | POLLIN | POLLRDNORM
        } else {
            r
        });
    }
    let mut r = 0;
    if console && f.readable() && crate::dev::tty::is_terminal(f.kind) {
        TERMINAL_POLLED.store(true, Ordering::Relaxed);
        if crate::host::hypercall::tty_wait_input(0) {
            r |= POLLIN | POLLRDNORM;
        }
    } else if !console || f.readable() {
        r |= POLLIN | POLLRDNORM;
    }
    if !console || f.writable() {
        r |= POLLOUT | POLLWRNORM;
    }
    Some(r)
}

/// When nothing was ready: blocks if another task can run, or will at
/// some deadline (a sleep, a timer: it may make something ready; the call
/// is tried again once the others wait, `process::sched`, and its
/// deadline holds across tries), else waits out the timeout (None: for
/// ever), as nothing can change meanwhile, but for terminal input: with
/// the terminal polled the host waits for it (until the others' next
/// deadline at most), and true says it came (poll again).
fn wait(ready: usize, timeout: Option<u64>) -> Result<bool, Errno> {
    let terminal = TERMINAL_POLLED.swap(false, Ordering::Relaxed);
    // The deadline of an earlier try, taken whatever this try does: a
    // call that completes now must not leave it to the next call.
    let restarted = process::with_value(|sys| Ok(sys.proc.restart_deadline.take()))?;
    if ready != 0 || timeout == Some(0) {
        return Ok(false);
    }
    let now = crate::host::hypercall::clock().monotonic_ns;
    // (deadline, the earliest other wake-up), or None: timed out.
    let times = process::with_value(|sys| {
        let deadline = restarted.or_else(|| timeout.map(|t| now.saturating_add(t)));
        if deadline.is_some_and(|d| now >= d) {
            return Ok(None);
        }
        let wake = sched::next_wake(sys);
        if sched::others_runnable(sys) || (!terminal && wake.is_some()) {
            sys.proc.restart_deadline = deadline;
            let gen = sched::generation();
            return Err(sched::block(sys, sched::Wait::Poll(gen, deadline)));
        }
        Ok(Some((deadline, wake)))
    })?;
    let Some((deadline, wake)) = times else {
        return Ok(false);
    };
    let left = deadline.map(|d| d - now);
    if terminal {
        let until = match (deadline, wake) {
            (Some(d), Some(w)) => Some(d.min(w)),
            (d, w) => d.or(w),
        };
        let ms = until.map_or(-1, |u| {
            u.saturating_sub(now).div_ceil(1_000_000).min(i64::MAX as u64) as i64
        });
        if crate::host::hypercall::tty_wait_input(ms) {
            return Ok(true);
        }
        // No input: the time ran out, a key raised a signal (the call is
        // then interrupted or tried again, `sched`), or another task's
        // deadline came (it runs; the call is tried again after).
        let now = crate::host::hypercall::clock().monotonic_ns;
        process::with(|sys| {
            let due = wake.is_some_and(|w| now >= w) && deadline.is_none_or(|d| now < d);
            if sched::terminal_signals(sys) || due {
                sys.proc.restart_deadline = deadline;
                Err(sched::block(sys, sched::Wait::Poll(sched::generation(), deadline)))
            } else {
                Ok(0)
            }
        })?;
        return Ok(false);
    }
    sleep(ready, left);
    Ok(false)
}

fn sleep(ready: usize, timeout: Option<u64>) {
    if ready == 0 {
        match timeout {
            Some(ns) => super::time::sleep(ns),
            None => loop {
                super::time::sleep(u64::MAX);
            },
        }
    }
}

/// Reads a signal mask argument (`sigsetsize` must be 8), for EFAULT.
fn check_sigmask(mask: u64, size: u64) -> Result<(), Errno> {
    if mask == 0 {
        return Ok(());
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| UserPtr::<u64>::new(mask).read(&sys.proc.mm).map(|_| 0))?;
    Ok(())
}

/// Writes what is left of a timeout back (ppoll, select, pselect6).
fn write_back_timespec(ptr: u64, left: u64) -> Result<(), Errno> {
    process::with(|sys| {
        UserPtr::new(ptr).copy_to_user(&sys.proc.mm, &[super::time::Timespec::from_ns(left)])?;
        Ok(0)
    })?;
    Ok(())
}

fn do_poll(fds: u64, nfds: u64) -> Result<usize, Errno> {
    TERMINAL_POLLED.store(false, Ordering::Relaxed);
    process::with(|sys| {
        if nfds > sys.proc.rlimits[RLIMIT_NOFILE].cur {
            return Err(Errno::EINVAL);
        }
        let mut v: Vec<PollFd> = alloc::vec![PollFd::default(); nfds as usize];
        UserPtr::new(fds).copy_from_user(&sys.proc.mm, &mut v)?;
        let mut n = 0;
        for p in &mut v {
            p.revents = if p.fd < 0 {
                0
            } else {
                match readiness(sys, p.fd) {
                    // Errors and hang-ups are reported unasked.
                    Some(r) => (p.events | POLLERR | POLLHUP) & r,
                    None => POLLNVAL,
                }
            };
            if p.revents != 0 {
                n += 1;
            }
        }
        UserPtr::new(fds).copy_to_user(&sys.proc.mm, &v)?;
        Ok(n)
    })
}

pub(super) fn poll(a: &Args) -> Result<usize, Errno> {
    let mut n = do_poll(a[0], a[1])?;
    let ms = a[2] as i32;
    if wait(n, (ms >= 0).then_some(ms as u64 * 1_000_000))? {
        n = do_poll(a[0], a[1])?;
    }
    Ok(n)
}

pub(super) fn ppoll(a: &Args) -> Result<usize, Errno> {
    let timeout = if a[2] != 0 {
        Some(super::time::read_timespec(a[2])?.to_ns())
    } else {
        None
    };
    check_sigmask(a[3], a[4])?;
    let mut n = do_poll(a[0], a[1])?;
    if wait(n, timeout)? {
        n = do_poll(a[0], a[1])?;
    }
    if let Some(t) = timeout {
        if t != 0 {
            write_back_timespec(a[2], if n == 0 { 0 } else { t })?;
        }
    }
    Ok(n)
}

/// `select` on `nfds` descriptors: the read and write sets come back as
/// given (all ready), the exception set empty.
/// `do_select`, waiting when nothing is ready. The sets are written back
/// only with the final answer (a blocked call is tried again with them).
fn select_wait(nfds: u64, sets: [u64; 3], timeout: Option<u64>) -> Result<usize, Errno> {
    let n = do_select(nfds, sets, false)?;
    wait(n, timeout)?;
    if n > 0 {
        return Ok(n);
    }
    do_select(nfds, sets, true)
}

fn do_select(nfds: u64, sets: [u64; 3], write_empty: bool) -> Result<usize, Errno> {
    TERMINAL_POLLED.store(false, Ordering::Relaxed);
    let nfds = nfds as i32;
    if !(0..=crate::process::fd::MAX_FDS as i32).contains(&nfds) {
        return Err(Errno::EINVAL);
    }
    let words = (nfds as usize).div_ceil(64);
    process::with(|sys| {
        let mut bits = [
            alloc::vec![0u64; words],
            alloc::vec![0u64; words],
            alloc::vec![0u64; words],
        ];
        for (set, b) in sets.iter().zip(bits.iter_mut()) {
            if *set != 0 {
                UserPtr::new(*set).copy_from_user(&sys.proc.mm, b)?;
            }
        }
        let mut n = 0;
        for fd in 0..nfds as usize {
            let (w, bit) = (fd / 64, 1u64 << (fd % 64));
            let wanted = bits.iter().any(|b| b[w] & bit != 0);
            if !wanted {
                continue;
            }
            let Some(ready) = readiness(sys, fd as i32) else {
                return Err(Errno::EBADF);
            };
            // Linux's POLLIN_SET and POLLOUT_SET.
            if ready & (POLLIN | POLLHUP | POLLERR) == 0 {
                bits[0][w] &= !bit;
            }
            if ready & (POLLOUT | POLLERR) == 0 {
                bits[1][w] &= !bit;
            }
            bits[2][w] &= !bit;
            n += (bits[0][w] & bit != 0) as usize + (bits[1][w] & bit != 0) as usize;
        }
        if n == 0 && !write_empty {
            return Ok(0);
        }
        for (set, b) in sets.iter().zip(bits.iter()) {
            if *set != 0 {
                UserPtr::new(*set).copy_to_user(&sys.proc.mm, b)?;
            }
        }
        Ok(n)
    })
}

pub(super) fn select(a: &Args) -> Result<usize, Errno> {
    let timeout = if a[4] != 0 {
        let tv: super::time::Timeval =
            process::with_value(|sys| UserPtr::new(a[4]).read(&sys.proc.mm))?;
        if tv.sec < 0 || tv.usec < 0 || tv.usec >= 1_000_000 {
            return Err(Errno::EINVAL);
        }
        // A timeout of centuries is forever: saturate rather than wrap to a short one.
        Some((tv.sec as u64).saturating_mul(1_000_000_000).saturating_add(tv.usec as u64 * 1000))
    } else {
        None
    };
    let n = select_wait(a[0], [a[1], a[2], a[3]], timeout)?;
    if let Some(t) = timeout {
        let left = if n == 0 { 0 } else { t };
        let tv = super::time::Timeval {
            sec: (left / 1_000_000_000) as i64,
            usec: (left % 1_000_000_000 / 1000) as i64,
        };
        process::with(|sys| {
            UserPtr::new(a[4])
                .copy_to_user(&sys.proc.mm, &[tv])
                .map(|_| 0)
        })?;
    }
    Ok(n)
}

/// pselect6's sixth argument: `{ const sigset_t *ss; size_t ss_len; }`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct SigsetArg {
    set: u64,
    len: u64,
}

// SAFETY: two u64.
unsafe impl Pod for SigsetArg {}

pub(super) fn pselect6(a: &Args) -> Result<usize, Errno> {
    let timeout = if a[4] != 0 {
        Some(super::time::read_timespec(a[4])?.to_ns())
    } else {
        None
    };
    if a[5] != 0 {
        let arg: SigsetArg = process::with_value(|sys| UserPtr::new(a[5]).read(&sys.proc.mm))?;
        check_sigmask(arg.set, arg.len)?;
    }
    let n = select_wait(a[0], [a[1], a[2], a[3]], timeout)?;
    if let Some(t) = timeout {
        if t != 0 {
            write_back_timespec(a[4], if n == 0 { 0 } else { t })?;
        }
    }
    Ok(n)
}
