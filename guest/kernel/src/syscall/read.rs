//! `read`, `pread64`, `readv`, `preadv`: bytes into user memory without
//! copying them in ring 0. A regular file's bytes go from the initramfs
//! by copy hypercall (a tmpfs file's are copied from kernel memory),
//! the console's from the host's stdin by consoleRead,
//! random ones by the random hypercall, zeros by the copy hypercall's
//! zero fill.

use super::segments::{console_read, copy_from_phys, fill_random, gather, host_result};
use super::user_ptr::{Pod, UserMemory};
use super::{Args, Errno, UserPtr};
use crate::host::hypercall;
use crate::process::fd::{FileKind, OpenFile};
use crate::process::{self, sched, System};
use crate::host::protocol::{IoVec, STDIN};
use crate::vfs::{Device, Source};
use alloc::vec::Vec;

/// Linux's MAX_RW_COUNT: one call moves at most this much.
pub const MAX_RW: usize = 0x7fff_f000;
/// Linux's UIO_MAXIOV.
pub const IOV_MAX: usize = 1024;

/// `struct iovec`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct IoVecEntry {
    pub base: u64,
    pub len: u64,
}

// SAFETY: two u64.
unsafe impl Pod for IoVecEntry {}

/// Reads an iovec array (EINVAL beyond IOV_MAX or if the lengths add up
/// beyond what a call may return).
pub fn read_iovecs(mem: &impl UserMemory, ptr: u64, count: u64) -> Result<Vec<IoVecEntry>, Errno> {
    if count > IOV_MAX as u64 {
        return Err(Errno::EINVAL);
    }
    let mut v = alloc::vec![IoVecEntry::default(); count as usize];
    UserPtr::new(ptr).copy_from_user(mem, &mut v)?;
    let mut total: u64 = 0;
    for e in &v {
        total = total.checked_add(e.len).ok_or(Errno::EINVAL)?;
        if total > isize::MAX as u64 {
            return Err(Errno::EINVAL);
        }
    }
    // Every buffer must be user memory before anything moves (Linux's
    // access_ok on each); whether its pages are mapped shows later.
    for e in &v {
        if e.len > 0 {
            UserPtr::<u8>::new(e.base).check_range(e.len as usize)?;
        }
    }
    Ok(v)
}

/// Reads up to `len` bytes of `f` at `at` (or its offset) into `buf`.
pub fn read_file(
    sys: &System,
    f: &mut OpenFile,
    buf: UserPtr<u8>,
    len: usize,
    at: Option<u64>,
) -> Result<usize, Errno> {
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    let len = len.min(MAX_RW);
    // The input device is read once a frame, mostly for nothing (EAGAIN):
    // its path stays clear of the other kinds' stack frames and saved
    // registers (each instruction is emulated in ring 0).
    if f.kind == FileKind::Device(Device::Event0) {
        if at.is_some() {
            return Err(Errno::ESPIPE);
        }
        return read_events(&sys.proc.mm, buf, len);
    }
    read_other(sys, f, buf, len, at)
}

/// `read_file` of every kind but the input device.
#[inline(never)]
fn read_other(
    sys: &System,
    f: &mut OpenFile,
    buf: UserPtr<u8>,
    len: usize,
    at: Option<u64>,
) -> Result<usize, Errno> {
    let mm = &sys.proc.mm;
    match f.kind {
        FileKind::Console { .. } | FileKind::Device(Device::Console | Device::Tty) => {
            if at.is_some() {
                return Err(Errno::ESPIPE);
            }
            console_read(mm, buf, len)
        }
        FileKind::Device(Device::Null) => Ok(0),
        FileKind::Device(Device::Zero | Device::Full) => copy_from_phys(mm, buf, None, len),
        FileKind::Device(Device::Random | Device::Urandom) => fill_random(mm, buf, len),
        FileKind::Device(Device::Other(..)) => Err(Errno::ENXIO),
        // The pixels are only mapped (fbdev's read would copy them).
        FileKind::Device(Device::Fb0) => Err(Errno::EINVAL),
        FileKind::Device(Device::Event0) => unreachable!("read_file reads the input device"),
        FileKind::Regular => {
            let off = at.unwrap_or(f.offset);
            let mut to = buf.addr();
            let done = sys.vfs.read_at(f.node, f.held.as_ref(), off, len, |src, n| {
                let dst = UserPtr::new(to);
                let took = match src {
                    Source::Phys(phys) => copy_from_phys(mm, dst, Some(phys), n)?,
                    Source::Bytes(bytes) => dst.copy_to_user(mm, bytes).map(|_| n)?,
                };
                to += took as u64;
                Ok(took)
            })?;
            if at.is_none() {
                f.offset += done as u64;
            }
            Ok(done)
        }
        FileKind::Directory => Err(Errno::EISDIR),
        FileKind::Path => Err(Errno::EBADF),
        // `read_may_block` reads pipes.
        FileKind::Pipe => Err(Errno::ESPIPE),
    }
}

/// A read of `/dev/input/event0`: whole `struct input_event` records from
/// the mailbox events not read yet (EINVAL for a buffer smaller than one).
/// Never blocks: with nothing to read it is EAGAIN, with or without
/// O_NONBLOCK (nothing can arrive before the program presents a frame);
/// after the window was closed and the events are read, 0 (end of file).
fn read_events(mm: &crate::process::mm::Mm, buf: UserPtr<u8>, len: usize) -> Result<usize, Errno> {
    use crate::dev::display::{self, INPUT_EVENT_SIZE};
    if len < INPUT_EVENT_SIZE {
        return Err(Errno::EINVAL);
    }
    match display::take_events(len)? {
        None => Ok(0),
        Some(records) => copy_events(mm, buf, &records),
    }
}

/// Hands `records` (taken already) to the reader; on EFAULT they are
/// given back to be read again.
#[inline(never)]
fn copy_events(
    mm: &crate::process::mm::Mm,
    buf: UserPtr<u8>,
    records: &[crate::dev::display::InputEvent],
) -> Result<usize, Errno> {
    use crate::dev::display::{self, InputEvent, INPUT_EVENT_SIZE};
    let out = UserPtr::<InputEvent>::new(buf.addr());
    if let Err(e) = out.copy_to_user(mm, records) {
        display::unread(records.len());
        return Err(e);
    }
    Ok(records.len() * INPUT_EVENT_SIZE)
}

/// Kinds whose read may have to wait for another process (a pipe; the
/// terminal, read in the host, which waits there for input).
fn may_block(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Pipe | FileKind::Console { .. } | FileKind::Device(Device::Console | Device::Tty)
    )
}

fn read_fd(fd: u64, buf: u64, len: usize, at: Option<u64>) -> Result<usize, Errno> {
    process::with(|sys| {
        {
            let sys = &*sys;
            let mut f = sys.proc.fds.get(fd)?.file.borrow_mut();
            if !may_block(f.kind) {
                return read_file(sys, &mut f, UserPtr::new(buf), len, at);
            }
        }
        let one = IoVecEntry {
            base: buf,
            len: len.min(MAX_RW) as u64,
        };
        read_may_block(sys, fd, &[one], at)
    })
}

/// A read of a pipe or the terminal into the user buffers `ranges`. A
/// pipe blocks when empty (`pipe::read`); the terminal is read in the
/// host (which waits for input there, stopping the whole guest) only
/// when no other process could run meanwhile, else the process blocks
/// and is tried again once the others wait (`process::sched`).
#[inline(never)]
fn read_may_block(
    sys: &mut System,
    fd: u64,
    ranges: &[IoVecEntry],
    at: Option<u64>,
) -> Result<usize, Errno> {
    let file = sys.proc.fds.get(fd)?.file.clone();
    let f = file.borrow();
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    if at.is_some() {
        return Err(Errno::ESPIPE);
    }
    if f.kind == FileKind::Pipe {
        return super::pipe::read(sys, &f, ranges);
    }
    // Others run first; so do others that will at a deadline, while the
    // scheduler waits for the terminal's input (`sched::next`).
    if sched::others_runnable(sys)
        || (crate::dev::tty::present() && sched::next_wake(sys).is_some())
    {
        return Err(sched::block(sys, sched::Wait::Console));
    }
    // One read of the terminal for all buffers: a second read would wait
    // for more input (musl's stdio reads with readv).
    let mut msg = IoVec::new(STDIN);
    for r in ranges.iter().filter(|r| r.len > 0) {
        let (base, len) = (r.base, r.len as usize);
        let n = gather(&sys.proc.mm, UserPtr::new(base), len, true, &mut msg)?;
        if n < len {
            break;
        }
    }
    if msg.count() == 0 {
        return Ok(0);
    }
    match host_result(hypercall::console_read(&mut msg)) {
        // A key of the terminal raised a signal while the host waited:
        // it goes to the foreground group, and the read is interrupted or
        // tried again as the scheduler decides (`Wait::Console`).
        Err(Errno::EINTR) if crate::dev::tty::present() => {
            drop(f);
            sched::terminal_signals(sys);
            Err(sched::block(sys, sched::Wait::Console))
        }
        r => r,
    }
}

pub(super) fn read(a: &Args) -> Result<usize, Errno> {
    read_fd(a[0], a[1], a[2] as usize, None)
}

pub(super) fn pread64(a: &Args) -> Result<usize, Errno> {
    let off = a[3] as i64;
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    read_fd(a[0], a[1], a[2] as usize, Some(off as u64))
}

fn readv_fd(fd: u64, iov: u64, count: u64, at: Option<u64>) -> Result<usize, Errno> {
    process::with(|sys| {
        let file = sys.proc.fds.get(fd)?.file.clone();
        let mut f = file.borrow_mut();
        if !f.readable() {
            return Err(Errno::EBADF);
        }
        let v = read_iovecs(&sys.proc.mm, iov, count)?;
        if may_block(f.kind) {
            drop(f);
            return read_may_block(sys, fd, &v, at);
        }
        let mut total = 0;
        for e in &v {
            let n = match read_file(
                sys,
                &mut f,
                UserPtr::new(e.base),
                e.len as usize,
                at.map(|o| o.saturating_add(total as u64)),
            ) {
                Ok(n) => n,
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            };
            total += n;
            if n < e.len as usize {
                break;
            }
        }
        Ok(total)
    })
}

pub(super) fn readv(a: &Args) -> Result<usize, Errno> {
    readv_fd(a[0], a[1], a[2], None)
}

pub(super) fn preadv(a: &Args) -> Result<usize, Errno> {
    let off = a[3] as i64;
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    readv_fd(a[0], a[1], a[2], Some(off as u64))
}
