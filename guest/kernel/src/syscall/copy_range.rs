//! `copy_file_range`: bytes from one regular file to another inside the
//! kernel (coreutils' cp tries it first). Linux's checks: flags must be
//! 0, both descriptors regular files (EISDIR for a directory, EINVAL for
//! anything else), the input readable and the output writable without
//! O_APPEND (EBADF), an overlapping range of one file EINVAL; offsets
//! given by pointer are read and written back, else the descriptors'
//! offsets move. Bytes go through a kernel buffer a chunk at a time.

use super::{Args, Errno, UserPtr};
use crate::process::{self, fd::FileKind, fd::O_APPEND};
use alloc::vec;

/// Bytes one call copies at most (Linux's MAX_RW_COUNT is ~2 GiB; a
/// bounded chunk keeps one call short, and callers loop).
const MAX_COPY: usize = 1 << 20;
const CHUNK: usize = 64 * 1024;

pub(super) fn copy_file_range(a: &Args) -> Result<usize, Errno> {
    let (fd_in, off_in_ptr, fd_out, off_out_ptr, len, flags) = (a[0], a[1], a[2], a[3], a[4] as usize, a[5]);
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        let fin = sys.proc.fds.get(fd_in)?.file.clone();
        let fout = sys.proc.fds.get(fd_out)?.file.clone();
        let (in_node, in_held, in_off, out_node, out_held, out_off) = {
            let (i, o) = (fin.borrow(), fout.borrow());
            if !i.readable() || !o.writable() || o.flags & O_APPEND != 0 {
                return Err(Errno::EBADF);
            }
            for f in [&*i, &*o] {
                match f.kind {
                    FileKind::Regular => {}
                    FileKind::Directory => return Err(Errno::EISDIR),
                    _ => return Err(Errno::EINVAL),
                }
            }
            (i.node, i.held.clone(), i.offset, o.node, o.held.clone(), o.offset)
        };
        let read_off = |ptr: u64, cur: u64| -> Result<u64, Errno> {
            if ptr == 0 {
                return Ok(cur);
            }
            let v: i64 = UserPtr::new(ptr).read(&sys.proc.mm)?;
            u64::try_from(v).map_err(|_| Errno::EINVAL)
        };
        let mut from = read_off(off_in_ptr, in_off)?;
        let mut to = read_off(off_out_ptr, out_off)?;
        let len = len.min(MAX_COPY);
        if from.checked_add(len as u64).is_none() || to.checked_add(len as u64).is_none() {
            return Err(Errno::EOVERFLOW);
        }
        let same = sys.vfs.ino(in_node) == sys.vfs.ino(out_node) && sys.vfs.mount_of(in_node).dev == sys.vfs.mount_of(out_node).dev;
        if same && from < to + len as u64 && to < from + len as u64 {
            return Err(Errno::EINVAL);
        }
        let mut buf = vec![0u8; len.min(CHUNK)];
        let mut done = 0usize;
        while done < len {
            let want = (len - done).min(CHUNK);
            let mut got = 0usize;
            sys.vfs.read_at(in_node, in_held.as_ref(), from, want, |src, n| {
                let dst = &mut buf[got..got + n];
                match src {
                    crate::vfs::Source::Bytes(b) => dst.copy_from_slice(&b[..n]),
                    crate::vfs::Source::Phys(p) => {
                        let va = crate::mm::addr::PhysAddr::new(p).to_direct_map();
                        // SAFETY: `n` bytes of a file at a guest-physical
                        // address the file system handed out (the archive,
                        // a cached file), inside RAM, direct-mapped.
                        dst.copy_from_slice(unsafe { core::slice::from_raw_parts(va.as_ptr::<u8>(), n) });
                    }
                }
                got += n;
                Ok(n)
            })?;
            if got == 0 {
                break;
            }
            let mut at = 0usize;
            let wrote = match sys.vfs.write_at(out_node, out_held.as_ref(), to, got, |dst| {
                dst.copy_from_slice(&buf[at..at + dst.len()]);
                at += dst.len();
                Ok(())
            }) {
                Ok(n) => n,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            done += wrote;
            from += wrote as u64;
            to += wrote as u64;
            if wrote < got || got < want {
                break;
            }
        }
        if off_in_ptr != 0 {
            UserPtr::<i64>::new(off_in_ptr).copy_to_user(&sys.proc.mm, &[from as i64])?;
        } else {
            fin.borrow_mut().offset = from;
        }
        if off_out_ptr != 0 {
            UserPtr::<i64>::new(off_out_ptr).copy_to_user(&sys.proc.mm, &[to as i64])?;
        } else {
            fout.borrow_mut().offset = to;
        }
        Ok(done)
    })
}
