//! `sendfile` from a file to the terminal: the initramfs bytes go to the
//! host as one console segment, copied by nobody in ring 0 (busybox `cat`
//! uses it); a tmpfs file's as one segment a page of kernel memory. Other pairs are EINVAL; callers fall back to read/write.

use super::segments::host_result;
use super::{Args, Errno, UserPtr};
use crate::process;
use crate::process::fd::FileKind;
use crate::host::protocol::{ConsoleWrite, CONSOLE_WRITE_MAX_TOTAL, STDERR};
use crate::vfs::{Device, Source};

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
        if inp.kind != FileKind::Regular {
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
        let n = (count as u64).min(CONSOLE_WRITE_MAX_TOTAL) as usize;
        let held = inp.held.clone();
        // One message for all the chunks (tmpfs pages, each a segment):
        // the bytes stay borrowed while the host reads them.
        let mut msg = host_fd.map(ConsoleWrite::new);
        // A host file's bytes come in a buffer that lives only for the
        // call: keep copies until the host has read them.
        let transient = sys.vfs.host_node(inp.node).is_some();
        let mut kept: alloc::vec::Vec<alloc::vec::Vec<u8>> = alloc::vec::Vec::new();
        let mut done = sys.vfs.read_at(inp.node, held.as_ref(), off, n, |src, n| {
            let Some(msg) = msg.as_mut() else {
                return Ok(n);
            };
            let took = match src {
                Source::Phys(phys) => msg.push(phys, n as u64),
                Source::Bytes(bytes) if transient => {
                    kept.push(bytes.to_vec());
                    push_bytes(msg, kept.last().map_or(&[][..], |k| &k[..]))
                }
                Source::Bytes(bytes) => push_bytes(msg, bytes),
            };
            if took == 0 && msg.count() == 0 {
                return Err(Errno::EIO);
            }
            Ok(took as usize)
        })? as u64;
        if let Some(msg) = msg.as_mut().filter(|m| m.count() > 0) {
            done = host_result(crate::host::hypercall::send_console_write(msg))? as u64;
        }
        off += done;
        if off_ptr != 0 {
            UserPtr::<i64>::new(off_ptr).copy_to_user(&sys.proc.mm, &[off as i64])?;
        } else {
            inp.offset = off;
        }
        Ok(done as usize)
    })
}

/// Adds the kernel bytes `bytes` to `msg`, a segment per page (pages
/// that follow each other physically make one), as many as a message
/// takes (a short write says how many went).
fn push_bytes(msg: &mut ConsoleWrite, bytes: &[u8]) -> u64 {
    use crate::mm::addr::VirtAddr;
    const PAGE: usize = crate::host::layout::PAGE_SIZE as usize;
    let mut at = 0;
    while at < bytes.len() {
        let ptr = bytes[at..].as_ptr();
        let n = (PAGE - ptr as usize % PAGE).min(bytes.len() - at);
        let Some(pa) = VirtAddr::from_ptr(ptr).kernel_to_phys() else {
            break;
        };
        let took = msg.push(pa.as_u64(), n as u64) as usize;
        at += took;
        if took < n {
            break;
        }
    }
    at as u64
}
