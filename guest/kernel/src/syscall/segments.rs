//! User buffers as physical segments, for the hypercalls that move bytes
//! (console, consoleRead, random, copy): the kernel translates a buffer
//! page by page and hands the host physical ranges, merged where pages
//! are contiguous. Ring 0 never loops over the bytes themselves.

use super::user_ptr::UserMemory;
use super::{Errno, UserPtr};
use crate::host::hypercall;
use crate::host::protocol::{IoVec, STDIN};

/// Adds the physical segments of `[buf, buf + len)` to `msg` and returns
/// how many bytes they cover: all of them, or fewer when the message is
/// full (64 segments, 1 MiB) or a later page is not accessible (a short
/// transfer, as on Linux). EFAULT if the range is not in user space or
/// its first page is not accessible (writable, if `write`).
pub fn gather(
    mem: &impl UserMemory,
    buf: UserPtr<u8>,
    len: usize,
    write: bool,
    msg: &mut IoVec,
) -> Result<usize, Errno> {
    let mut total = 0;
    for chunk in buf.phys_chunks(mem, len, write) {
        match chunk {
            Ok(c) => {
                let took = msg.push(c.phys.as_u64(), c.len as u64) as usize;
                total += took;
                if took < c.len {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// The host's result of an IoVec hypercall: a count or `-errno`.
pub fn host_result(r: i64) -> Result<usize, Errno> {
    if r >= 0 {
        Ok(r as usize)
    } else {
        Err(Errno::from_raw(-r).unwrap_or(Errno::EIO))
    }
}

/// Fills `[buf, buf + len)` with random bytes from the host; returns how
/// many (at most 1 MiB per call).
pub fn fill_random(mem: &impl UserMemory, buf: UserPtr<u8>, len: usize) -> Result<usize, Errno> {
    if len == 0 {
        return Ok(0);
    }
    let mut msg = IoVec::new(STDIN);
    gather(mem, buf, len, true, &mut msg)?;
    host_result(hypercall::random(&mut msg))
}

/// One read of the host's stdin into `[buf, buf + len)`.
pub fn console_read(mem: &impl UserMemory, buf: UserPtr<u8>, len: usize) -> Result<usize, Errno> {
    if len == 0 {
        return Ok(0);
    }
    let mut msg = IoVec::new(STDIN);
    gather(mem, buf, len, true, &mut msg)?;
    host_result(hypercall::console_read(&mut msg))
}

/// Copies `len` bytes from guest-physical `src` (or zeros, if `src` is
/// None) into `[dst, dst + len)`: one copy hypercall per physically
/// contiguous run of the user's pages. Returns the bytes done: short if
/// a later page is not writable, EFAULT if the first is not.
pub fn copy_from_phys(
    mem: &impl UserMemory,
    dst: UserPtr<u8>,
    src: Option<u64>,
    len: usize,
) -> Result<usize, Errno> {
    let mut done = 0u64;
    let mut run: Option<(u64, u64)> = None; // (phys start, length)
    let flush = |run: (u64, u64), at: u64| match src {
        Some(s) => hypercall::copy(run.0, s + at, run.1),
        None => hypercall::zero(run.0, run.1),
    };
    for chunk in dst.phys_chunks(mem, len, true) {
        let c = match chunk {
            Ok(c) => c,
            Err(e) if done == 0 && run.is_none() => return Err(e),
            Err(_) => break,
        };
        let (phys, n) = (c.phys.as_u64(), c.len as u64);
        match run {
            Some((start, l)) if start + l == phys => run = Some((start, l + n)),
            Some(r) => {
                flush(r, done);
                done += r.1;
                run = Some((phys, n));
            }
            None => run = Some((phys, n)),
        }
    }
    if let Some(r) = run {
        flush(r, done);
        done += r.1;
    }
    Ok(done as usize)
}
