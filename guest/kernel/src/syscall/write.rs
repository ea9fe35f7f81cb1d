//! `write(fd, buf, count)`: fds 1 and 2 go to the host's console.
//!
//! No copying in ring 0 (each emulated instruction costs ~0.5 us here):
//! the user buffer is translated page by page into physical segments and
//! handed to the host in one ConsoleWrite.

use super::user_ptr::UserMemory;
use super::{Args, Errno, UserPtr};
use crate::protocol::{ConsoleWrite, STDERR, STDOUT};

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
    let space = crate::paging::AddressSpace::current();
    let mut msg = ConsoleWrite::new(fd);
    gather(&space, buf, len, &mut msg)?;
    let result = crate::hypercall::send_console_write(&mut msg);
    if result >= 0 {
        Ok(result as usize)
    } else {
        Err(Errno::from_raw(-result).unwrap_or(Errno::EIO))
    }
}

/// Adds the physical segments of `[buf, buf + len)` to `msg` and returns
/// how many bytes they cover: all of them, or fewer when the message is
/// full (64 segments, 1 MiB) or a later page is not readable (a short
/// write, as on Linux). EFAULT if the range is not in user space or its
/// first page is not readable.
pub(crate) fn gather(
    mem: &impl UserMemory,
    buf: UserPtr<u8>,
    len: usize,
    msg: &mut ConsoleWrite,
) -> Result<usize, Errno> {
    let mut total = 0;
    for chunk in buf.phys_chunks(mem, len, false) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{PhysAddr, VirtAddr};
    use crate::layout::USER_END;
    use crate::protocol::{Segment, CONSOLE_WRITE_MAX_SEGMENTS, CONSOLE_WRITE_MAX_TOTAL};

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
                UserPtr::new(crate::layout::KERNEL_BASE),
                1,
                &mut msg
            ),
            Err(Errno::EFAULT)
        );
        assert_eq!(msg.count(), 0);
    }
}
