//! `ioctl`. The generic requests work on any descriptor (FIOCLEX,
//! FIONCLEX, FIONBIO, FIOASYNC; FIONREAD on files). The terminal has no
//! termios yet: TCGETS, TIOCGWINSZ and the rest are ENOTTY, as for a
//! pipe, so programs behave as when their output is redirected.

use super::{Args, Errno, UserPtr};
use crate::process;
use crate::process::fd::{FileKind, O_NONBLOCK};

const FIONREAD: u64 = 0x541b;
const FIONBIO: u64 = 0x5421;
const FIONCLEX: u64 = 0x5450;
const FIOCLEX: u64 = 0x5451;
const FIOASYNC: u64 = 0x5452;

pub(super) fn ioctl(a: &Args) -> Result<usize, Errno> {
    let (fd, req, arg) = (a[0], a[1] as u32 as u64, a[2]);
    process::with(|sys| {
        let slot = sys.proc.fds.get_mut(fd)?;
        if slot.file.borrow().kind == FileKind::Path {
            return Err(Errno::EBADF);
        }
        match req {
            FIOCLEX | FIONCLEX => {
                slot.cloexec = req == FIOCLEX;
                Ok(0)
            }
            FIONBIO => {
                let file = slot.file.clone();
                let on: i32 = UserPtr::new(arg).read(&sys.proc.mm)?;
                let mut f = file.borrow_mut();
                if on != 0 {
                    f.flags |= O_NONBLOCK;
                } else {
                    f.flags &= !O_NONBLOCK;
                }
                Ok(0)
            }
            FIOASYNC => Ok(0),
            FIONREAD => {
                let f = slot.file.borrow();
                match f.kind {
                    FileKind::Regular => {
                        let size = sys.vfs.file_data(f.node).map_or(0, |d| d.len()) as u64;
                        let left = size.saturating_sub(f.offset).min(i32::MAX as u64) as i32;
                        UserPtr::<i32>::new(arg).copy_to_user(&sys.proc.mm, &[left])?;
                        Ok(0)
                    }
                    FileKind::Directory => Err(Errno::EINVAL),
                    _ => Err(Errno::ENOTTY),
                }
            }
            _ => Err(Errno::ENOTTY),
        }
    })
}
