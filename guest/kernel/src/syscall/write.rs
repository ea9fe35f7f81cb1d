//! `write`, `pwrite64`, `writev`, `pwritev`. To the console: the user's
//! pages go to the host as physical segments in one ConsoleWrite (no
//! copying in ring 0; each emulated instruction costs ~0.5 us here).
//! `/dev/null` and friends swallow; regular files (tmpfs) are written
//! through `Vfs::write_at`.
//!
//! `sys_write` is the console-only `write` of images without processes
//! (hello): fds 1 and 2 go to the host's stdout and stderr.

use super::read::{read_iovecs, IoVecEntry};
use super::segments::host_result;
use super::user_ptr::UserMemory;
use super::{Args, Errno, UserPtr};
use crate::process::fd::{FileKind, OpenFile, O_APPEND};
use crate::process::signal::{SIGPIPE, SIG_DFL};
use crate::process::{self, System};
use crate::host::protocol::{
    ConsoleWrite, CONSOLE_WRITE_MAX_SEGMENTS, CONSOLE_WRITE_MAX_TOTAL, STDERR, STDOUT,
};
use crate::vfs::Device;

pub(super) fn handle(a: &Args) -> Result<usize, Errno> {
    sys_write(a[0], UserPtr::new(a[1]), a[2] as usize)
}

pub fn sys_write(fd: u64, buf: UserPtr<u8>, len: usize) -> Result<usize, Errno> {
    let fd = match fd {
        1 => STDOUT,
        2 => STDERR,
        _ => return Err(Errno::EBADF),
    };
    if len == 0 {
        return Ok(0);
    }
    let space = crate::mm::paging::AddressSpace::current();
    let mut msg = ConsoleWrite::new(fd);
    gather(&space, buf, len, &mut msg)?;
    let result = crate::host::hypercall::send_console_write(&mut msg);
    if result >= 0 {
        Ok(result as usize)
    } else {
        Err(Errno::from_raw(-result).unwrap_or(Errno::EIO))
    }
}

/// Where a file's writes go on the host (1 or 2), if it is a terminal.
fn console_out(kind: FileKind) -> Option<u32> {
    match kind {
        FileKind::Console { out, .. } => Some(out),
        FileKind::Device(Device::Console | Device::Tty) => Some(STDERR),
        _ => None,
    }
}

/// Sends a console message; a closed pipe on the host's side is EPIPE,
/// and SIGPIPE (default: die quietly, status 141) as on Linux.
fn send(sys: &System, msg: &mut ConsoleWrite) -> Result<usize, Errno> {
    let r = host_result(crate::host::hypercall::send_console_write(msg));
    if r == Err(Errno::EPIPE) && sys.proc.signals.actions[SIGPIPE as usize - 1].handler == SIG_DFL {
        process::sched::exit_current(process::table::Status::Signaled(SIGPIPE));
    }
    r
}

/// Checks that `f` takes writes; `Some(n)` if it swallows them whole.
fn sink(f: &OpenFile, len: usize) -> Result<Option<usize>, Errno> {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    match f.kind {
        FileKind::Device(Device::Full) => Err(Errno::ENOSPC),
        FileKind::Device(Device::Null | Device::Zero | Device::Random | Device::Urandom) => {
            Ok(Some(len))
        }
        FileKind::Device(Device::Other(..)) => Err(Errno::ENXIO),
        // Pixels are drawn through the mapping; injected input is not
        // supported (evdev would take input_event records).
        FileKind::Device(Device::Fb0 | Device::Event0) => Err(Errno::EINVAL),
        _ if console_out(f.kind).is_some() => Ok(None),
        _ => Err(Errno::EBADF),
    }
}

/// Writes the user buffers `ranges` to the host's fd `out`: as many
/// ConsoleWrites (64 segments, 1 MiB each) as it takes, in order; stops
/// at a short write or at a page that is not readable (a short write, as
/// on Linux; EFAULT if nothing was written).
fn console_write(sys: &System, out: u32, ranges: &[IoVecEntry]) -> Result<usize, Errno> {
    let mm = &sys.proc.mm;
    let (mut i, mut off, mut total) = (0, 0, 0);
    loop {
        let mut msg = ConsoleWrite::new(out);
        let mut batch = 0;
        let mut fault = false;
        while i < ranges.len() {
            let (base, len) = (ranges[i].base, ranges[i].len as usize);
            if off == len {
                i += 1;
                off = 0;
                continue;
            }
            match super::segments::gather(
                mm,
                UserPtr::new(base + off as u64),
                len - off,
                false,
                &mut msg,
            ) {
                Ok(n) => {
                    batch += n;
                    off += n;
                    if off < len {
                        let full = msg.count() == CONSOLE_WRITE_MAX_SEGMENTS
                            || msg.total_len() == CONSOLE_WRITE_MAX_TOTAL;
                        fault = !full;
                        break;
                    }
                }
                Err(e) if total == 0 && batch == 0 => return Err(e),
                Err(_) => {
                    fault = true;
                    break;
                }
            }
        }
        if batch == 0 {
            return Ok(total);
        }
        let written = match send(sys, &mut msg) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => return Ok(total),
        };
        total += written;
        if written < batch || fault || i >= ranges.len() {
            return Ok(total);
        }
    }
}

/// Writes the user buffers `ranges` into regular file `f` at `at`, or
/// at its offset (which moves), or at its end under O_APPEND (always,
/// pwrite too, as on Linux).
fn file_write(
    sys: &mut System,
    f: &mut OpenFile,
    ranges: &[IoVecEntry],
    at: Option<u64>,
) -> Result<usize, Errno> {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let (vfs, mm) = (&mut sys.vfs, &sys.proc.mm);
    let mut off = if f.flags & O_APPEND != 0 {
        vfs.size(f.node)
    } else {
        at.unwrap_or(f.offset)
    };
    let mut total = 0usize;
    for r in ranges.iter().filter(|r| r.len > 0) {
        let len = (r.len as usize).min(super::read::MAX_RW - total);
        let mut src = r.base;
        let n = match vfs.write_at(f.node, f.held.as_ref(), off, len, |dst| {
            UserPtr::new(src).copy_from_user(mm, dst)?;
            src += dst.len() as u64;
            Ok(())
        }) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        off += n as u64;
        if total >= super::read::MAX_RW {
            break;
        }
    }
    if at.is_none() || f.flags & O_APPEND != 0 {
        f.offset = off;
    }
    Ok(total)
}

fn write_fd(fd: u64, buf: u64, len: usize, at: Option<u64>) -> Result<usize, Errno> {
    process::with(|sys| {
        let file = sys.proc.fds.get(fd)?.file.clone();
        let len = len.min(super::read::MAX_RW);
        if file.borrow().kind == FileKind::Regular {
            let one = [IoVecEntry {
                base: buf,
                len: len as u64,
            }];
            return file_write(sys, &mut file.borrow_mut(), &one, at);
        }
        let f = file.borrow();
        if f.kind == FileKind::Pipe {
            if !f.writable() {
                return Err(Errno::EBADF);
            }
            if at.is_some() {
                return Err(Errno::ESPIPE);
            }
            return super::pipe::write(
                sys,
                &f,
                &[IoVecEntry {
                    base: buf,
                    len: len as u64,
                }],
            );
        }
        if let Some(n) = sink(&f, len)? {
            return Ok(n);
        }
        if at.is_some() {
            return Err(Errno::ESPIPE);
        }
        console_write(
            sys,
            console_out(f.kind).unwrap_or(STDOUT),
            &[IoVecEntry {
                base: buf,
                len: len as u64,
            }],
        )
    })
}

pub(super) fn write(a: &Args) -> Result<usize, Errno> {
    write_fd(a[0], a[1], a[2] as usize, None)
}

pub(super) fn pwrite64(a: &Args) -> Result<usize, Errno> {
    if (a[3] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    write_fd(a[0], a[1], a[2] as usize, Some(a[3]))
}

fn writev_fd(fd: u64, iov: u64, count: u64, at: Option<u64>) -> Result<usize, Errno> {
    process::with(|sys| {
        let file = sys.proc.fds.get(fd)?.file.clone();
        if !file.borrow().writable() {
            return Err(Errno::EBADF);
        }
        let v = read_iovecs(&sys.proc.mm, iov, count)?;
        if file.borrow().kind == FileKind::Regular {
            return file_write(sys, &mut file.borrow_mut(), &v, at);
        }
        let f = file.borrow();
        if f.kind == FileKind::Pipe {
            if at.is_some() {
                return Err(Errno::ESPIPE);
            }
            return super::pipe::write(sys, &f, &v);
        }
        let total: u64 = v.iter().map(|e| e.len).sum();
        if let Some(n) = sink(&f, total as usize)? {
            return Ok(n);
        }
        if at.is_some() {
            return Err(Errno::ESPIPE);
        }
        // All buffers in as few messages as fit: one exit for the usual
        // two or three (musl's stdio writes with writev).
        console_write(sys, console_out(f.kind).unwrap_or(STDOUT), &v)
    })
}

pub(super) fn writev(a: &Args) -> Result<usize, Errno> {
    writev_fd(a[0], a[1], a[2], None)
}

pub(super) fn pwritev(a: &Args) -> Result<usize, Errno> {
    if (a[3] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    writev_fd(a[0], a[1], a[2], Some(a[3]))
}

/// `segments::gather` for reading user memory (kept under this name for
/// the tests below).
pub(crate) fn gather(
    mem: &impl UserMemory,
    buf: UserPtr<u8>,
    len: usize,
    msg: &mut ConsoleWrite,
) -> Result<usize, Errno> {
    super::segments::gather(mem, buf, len, false, msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::addr::{PhysAddr, VirtAddr};
    use crate::host::layout::USER_END;
    use crate::host::protocol::{Segment, CONSOLE_WRITE_MAX_SEGMENTS, CONSOLE_WRITE_MAX_TOTAL};

    /// User page `n` (at `n * 4096`) is physical `0x100_0000 + map(n) * 4096`.
    struct Pages(fn(u64) -> Option<u64>);

    impl UserMemory for Pages {
        fn translate_user(&self, va: VirtAddr, _write: bool) -> Option<PhysAddr> {
            assert!(va.is_user());
            let frame = (self.0)(va.as_u64() / 4096)?;
            Some(PhysAddr::new(0x100_0000 + frame * 4096 + va.page_offset()))
        }
        fn phys_ptr(&self, _pa: PhysAddr) -> *mut u8 {
            unreachable!("write never copies")
        }
    }

    #[test]
    fn contiguous_pages_make_one_segment() {
        let identity = Pages(Some);
        let mut msg = ConsoleWrite::new(STDOUT);
        assert_eq!(
            gather(&identity, UserPtr::new(0x1ff0), 0x2020, &mut msg),
            Ok(0x2020)
        );
        assert_eq!(
            msg.segments(),
            &[Segment {
                addr: 0x100_1ff0,
                len: 0x2020
            }]
        );
    }

    #[test]
    fn scattered_pages_make_one_segment_each() {
        let reversed = Pages(|n| Some(100 - n));
        let mut msg = ConsoleWrite::new(STDOUT);
        assert_eq!(
            gather(&reversed, UserPtr::new(0x1800), 0x1000, &mut msg),
            Ok(0x1000)
        );
        assert_eq!(
            msg.segments(),
            &[
                Segment {
                    addr: 0x100_0000 + 99 * 4096 + 0x800,
                    len: 0x800
                },
                Segment {
                    addr: 0x100_0000 + 98 * 4096,
                    len: 0x800
                }
            ]
        );
    }

    #[test]
    fn limits_make_short_writes() {
        let reversed = Pages(|n| Some(1000 - n));
        let mut msg = ConsoleWrite::new(STDOUT);
        let n = gather(&reversed, UserPtr::new(0), 100 * 4096, &mut msg).unwrap();
        assert_eq!(
            (n, msg.count()),
            (
                CONSOLE_WRITE_MAX_SEGMENTS * 4096,
                CONSOLE_WRITE_MAX_SEGMENTS
            )
        );
        let identity = Pages(Some);
        let mut msg = ConsoleWrite::new(STDOUT);
        assert_eq!(
            gather(&identity, UserPtr::new(0), 1 << 30, &mut msg),
            Ok(CONSOLE_WRITE_MAX_TOTAL as usize)
        );
    }

    #[test]
    fn faults() {
        let first_two = Pages(|n| (n < 2).then_some(n));
        let mut msg = ConsoleWrite::new(STDOUT);
        assert_eq!(
            gather(&first_two, UserPtr::new(0x1000), 0x2000, &mut msg),
            Ok(0x1000),
            "short write"
        );
        let mut msg = ConsoleWrite::new(STDOUT);
        assert_eq!(
            gather(&first_two, UserPtr::new(0x2000), 1, &mut msg),
            Err(Errno::EFAULT)
        );
        assert_eq!(
            gather(&first_two, UserPtr::new(USER_END - 1), 2, &mut msg),
            Err(Errno::EFAULT)
        );
        assert_eq!(
            gather(
                &first_two,
                UserPtr::new(crate::host::layout::KERNEL_BASE),
                1,
                &mut msg
            ),
            Err(Errno::EFAULT)
        );
        assert_eq!(msg.count(), 0);
    }
}
