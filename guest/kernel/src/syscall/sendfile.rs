//! `sendfile` from a file to the terminal: the initramfs bytes go to the
//! host as one console segment, copied by nobody in ring 0 (busybox `cat`
//! uses it). Other pairs are EINVAL; callers fall back to read/write.

use super::segments::host_result;
use super::{Args, Errno, UserPtr};
use crate::process;
use crate::process::fd::FileKind;
use crate::host::protocol::{ConsoleWrite, CONSOLE_WRITE_MAX_TOTAL, STDERR};
use crate::vfs::Device;

pub(super) fn sendfile(a: &Args) -> Result<usize, Errno> {
    let (out_fd, in_fd, off_ptr, count) = (a[0], a[1], a[2], a[3] as usize);
    process::with(|sys| {
        let input = sys.proc.fds.get(in_fd)?.file.clone();
        let output = sys.proc.fds.get(out_fd)?.file.clone();
        let mut inp = input.borrow_mut();
        let out = output.borrow();
        if !inp.readable() || !out.writable() {
            return Err(Errno::EBADF);
        }
        // Only archive files (tmpfs and /proc bytes are in kernel memory:
        // EINVAL, callers fall back to read and write).
        if inp.kind != FileKind::Regular || inp.held.is_some() {
            return Err(Errno::EINVAL);
        }
        let host_fd = match out.kind {
            FileKind::Console { out, .. } => Some(out),
            FileKind::Device(Device::Console | Device::Tty) => Some(STDERR),
            FileKind::Device(Device::Null) => None,
            _ => return Err(Errno::EINVAL),
        };
        let mut off = if off_ptr != 0 {
            let o: i64 = UserPtr::new(off_ptr).read(&sys.proc.mm)?;
            if o < 0 {
                return Err(Errno::EINVAL);
            }
            o as u64
        } else {
            inp.offset
        };
        let size = sys.vfs.size(inp.node);
        let n = (count as u64)
            .min(size.saturating_sub(off))
            .min(CONSOLE_WRITE_MAX_TOTAL);
        let done = match host_fd {
            Some(fd) if n > 0 => {
                let mut msg = ConsoleWrite::new(fd);
                msg.push(sys.vfs.file_phys(inp.node, off).ok_or(Errno::EIO)?, n);
                host_result(crate::host::hypercall::send_console_write(&mut msg))? as u64
            }
            _ => n,
        };
        off += done;
        if off_ptr != 0 {
            UserPtr::<i64>::new(off_ptr).copy_to_user(&sys.proc.mm, &[off as i64])?;
        } else {
            inp.offset = off;
        }
        Ok(done as usize)
    })
}
