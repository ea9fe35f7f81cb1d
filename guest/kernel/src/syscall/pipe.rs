//! `pipe`, `pipe2`, and reading and writing pipes (`read`, `write`,
//! `readv`, `writev` come here for a pipe end; `process::pipe` has the
//! ring). As on Linux: a read returns what is there (up to its length),
//! 0 once no writer is left, EAGAIN with O_NONBLOCK, else it blocks; a
//! write of at most PIPE_BUF bytes goes in whole or not at all, a longer
//! one in pieces as room appears (blocking writers are restarted with
//! the bytes written so far in `restart_done`), and with no reader left
//! a write is EPIPE after SIGPIPE (whose default action kills).

use super::read::IoVecEntry;
use super::{Args, Errno, UserPtr};
use crate::process::fd::{Fd, FileKind, OpenFile, O_CLOEXEC, O_NONBLOCK};
use crate::process::pipe::{Pipe, CAPACITY};
use crate::process::sched::{self, Wait};
use crate::process::signal::{Fate, SIGPIPE};
use crate::process::table::Status;
use crate::process::{self, System, RLIMIT_NOFILE};
use crate::vfs::stat::{Stat, BLOCK_SIZE};
use crate::vfs::{NodeId, ROOT};
use alloc::rc::Rc;
use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

/// Pipes made so far (their inode numbers).
static PIPES: AtomicU32 = AtomicU32::new(0);
/// The node a pipe's descriptors point at for calls that look at the
/// tree (`/dev/null`: not a directory, not seekable), found once.
static PIPE_NODE: AtomicU32 = AtomicU32::new(u32::MAX);

const S_IFIFO: u32 = 0o010_000;
/// `st_dev` of Linux's pipefs (an anonymous device).
const PIPEFS_DEV: u64 = crate::vfs::makedev(0, 13);

fn pipe_node(sys: &System) -> NodeId {
    let n = PIPE_NODE.load(Ordering::Relaxed);
    if n != u32::MAX {
        return n;
    }
    let dev = sys.vfs.child(ROOT, b"dev");
    let n = dev.and_then(|d| sys.vfs.child(d, b"null")).unwrap_or(ROOT);
    PIPE_NODE.store(n, Ordering::Relaxed);
    n
}

fn make(fds: u64, flags: u64) -> Result<usize, Errno> {
    if flags & !((O_CLOEXEC | O_NONBLOCK) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let flags = flags as u32;
    process::with(|sys| {
        let id = PIPES.fetch_add(1, Ordering::Relaxed) + 1;
        let pipe = Rc::new(RefCell::new(Pipe::new(id)));
        let node = pipe_node(sys);
        let cloexec = flags & O_CLOEXEC != 0;
        let limit = sys.proc.rlimits[RLIMIT_NOFILE].cur as usize;
        let r = sys.proc.fds.allocate(
            0,
            Fd {
                file: OpenFile::pipe(&pipe, false, node, flags),
                cloexec,
            },
            limit,
        )?;
        let w = match sys.proc.fds.allocate(
            0,
            Fd {
                file: OpenFile::pipe(&pipe, true, node, flags),
                cloexec,
            },
            limit,
        ) {
            Ok(w) => w,
            Err(e) => {
                let _ = sys.proc.fds.close(r as u64);
                return Err(e);
            }
        };
        if let Err(e) = UserPtr::<i32>::new(fds).copy_to_user(&sys.proc.mm, &[r as i32, w as i32]) {
            let _ = sys.proc.fds.close(r as u64);
            let _ = sys.proc.fds.close(w as u64);
            return Err(e);
        }
        Ok(0)
    })
}

pub(super) fn pipe(a: &Args) -> Result<usize, Errno> {
    make(a[0], 0)
}

pub(super) fn pipe2(a: &Args) -> Result<usize, Errno> {
    make(a[0], a[1])
}

/// `fstat` of a pipe end: a FIFO of pipefs.
pub fn stat(f: &OpenFile) -> Stat {
    let ino = f.pipe.as_ref().map_or(0, |e| e.pipe.borrow().id);
    Stat {
        st_dev: PIPEFS_DEV,
        st_ino: ino as u64,
        st_nlink: 1,
        st_mode: S_IFIFO | 0o600,
        st_blksize: BLOCK_SIZE,
        ..Stat::default()
    }
}

/// `F_GETPIPE_SZ`.
pub fn capacity() -> usize {
    CAPACITY
}

/// Reads from the pipe end `f` into the user buffers `ranges`, in order.
pub fn read(sys: &mut System, f: &OpenFile, ranges: &[IoVecEntry]) -> Result<usize, Errno> {
    let end = f.pipe.as_ref().ok_or(Errno::EBADF)?;
    if f.kind != FileKind::Pipe || end.write {
        return Err(Errno::EBADF);
    }
    let want: usize = ranges.iter().map(|r| r.len as usize).sum();
    if want == 0 {
        return Ok(0);
    }
    let pipe = end.pipe.clone();
    let mut p = pipe.borrow_mut();
    let mut total = 0;
    for r in ranges.iter().filter(|r| r.len > 0) {
        let (base, len) = (r.base, r.len as usize);
        let n = match p.read_into(&sys.proc.mm, UserPtr::new(base), len) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        if n < len {
            break;
        }
    }
    if total > 0 {
        sched::bump();
        return Ok(total);
    }
    if p.writers == 0 {
        return Ok(0);
    }
    if f.flags & O_NONBLOCK != 0 {
        return Err(Errno::EAGAIN);
    }
    drop(p);
    Err(sched::block(sys, Wait::PipeRead(pipe)))
}

/// Writes the user buffers `ranges` to the pipe end `f`.
pub fn write(sys: &mut System, f: &OpenFile, ranges: &[IoVecEntry]) -> Result<usize, Errno> {
    let end = f.pipe.as_ref().ok_or(Errno::EBADF)?;
    if f.kind != FileKind::Pipe || !end.write {
        return Err(Errno::EBADF);
    }
    // What a write that blocked had written already (it is restarted).
    let before = core::mem::take(&mut sys.proc.restart_done);
    let pipe = end.pipe.clone();
    let mut p = pipe.borrow_mut();
    if p.readers == 0 {
        let info = crate::process::signal::Info::user(0, sys.proc.pid);
        match sys.proc.signals.send_info(SIGPIPE, info) {
            // Shells print nothing for SIGPIPE.
            Some(Fate::Kill) => sched::exit_current(Status::Signaled(SIGPIPE)),
            Some(Fate::Handler) => sched::signal_pending(),
            _ => {}
        }
        return if before > 0 {
            Ok(before)
        } else {
            Err(Errno::EPIPE)
        };
    }
    let want: usize = ranges
        .iter()
        .map(|r| r.len as usize)
        .sum::<usize>()
        .min(super::read::MAX_RW);
    if want == 0 {
        return Ok(0);
    }
    let mut done = before;
    let mut skip = before;
    let mut full = false;
    for r in ranges {
        let (base, len) = (r.base, r.len as usize);
        if skip >= len {
            skip -= len;
            continue;
        }
        let (start, left) = (base + skip as u64, len - skip);
        skip = 0;
        let merge = done == 0;
        match p.write_from(&sys.proc.mm, UserPtr::new(start), left, merge) {
            Ok(n) => {
                done += n;
                if n < left {
                    // Full, or a page of the buffer is not readable (a
                    // short write).
                    full = p.ring.is_full();
                    if !full {
                        sched::bump();
                        return Ok(done);
                    }
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => return Ok(done),
        }
    }
    if done > before {
        sched::bump();
    }
    if !full || done >= want {
        return Ok(done);
    }
    if f.flags & O_NONBLOCK != 0 {
        return if done > 0 {
            Ok(done)
        } else {
            Err(Errno::EAGAIN)
        };
    }
    drop(p);
    sys.proc.restart_done = done;
    Err(sched::block(sys, Wait::PipeWrite(pipe)))
}
