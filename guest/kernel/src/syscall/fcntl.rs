//! `fcntl`: descriptor flags, status flags, duplication; locks always
//! succeed (one process) and `F_GETLK` reports no lock.

use super::{Args, Errno, UserPtr};
use crate::process::fd::{Fd, SETFL_MASK};
use crate::process::{self, RLIMIT_NOFILE};

const F_DUPFD: u64 = 0;
const F_GETFD: u64 = 1;
const F_SETFD: u64 = 2;
const F_GETFL: u64 = 3;
const F_SETFL: u64 = 4;
const F_GETLK: u64 = 5;
const F_SETLK: u64 = 6;
const F_SETLKW: u64 = 7;
const F_SETOWN: u64 = 8;
const F_GETOWN: u64 = 9;
const F_OFD_GETLK: u64 = 36;
const F_OFD_SETLK: u64 = 37;
const F_OFD_SETLKW: u64 = 38;
const F_DUPFD_CLOEXEC: u64 = 1030;
const F_GETPIPE_SZ: u64 = 1032;
const FD_CLOEXEC: u64 = 1;
const F_UNLCK: i16 = 2;

pub(super) fn fcntl(a: &Args) -> Result<usize, Errno> {
    let (fd, cmd, arg) = (a[0], a[1] as u32 as u64, a[2]);
    process::with(|sys| {
        let limit = sys.proc.rlimits[RLIMIT_NOFILE].cur as usize;
        let slot = sys.proc.fds.get_mut(fd)?;
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                let min = arg as i32;
                if min < 0 || min as usize >= limit {
                    return Err(Errno::EINVAL);
                }
                let new = Fd {
                    file: slot.file.clone(),
                    cloexec: cmd == F_DUPFD_CLOEXEC,
                };
                sys.proc.fds.allocate(min as usize, new, limit)
            }
            F_GETFD => Ok(slot.cloexec as usize),
            F_SETFD => {
                slot.cloexec = arg & FD_CLOEXEC != 0;
                Ok(0)
            }
            F_GETFL => Ok(slot.file.borrow().flags as usize),
            F_SETFL => {
                let mut f = slot.file.borrow_mut();
                f.flags = (f.flags & !SETFL_MASK) | (arg as u32 & SETFL_MASK);
                Ok(0)
            }
            F_GETLK | F_OFD_GETLK => {
                // struct flock starts with `short l_type`.
                UserPtr::<i16>::new(arg).copy_to_user(&sys.proc.mm, &[F_UNLCK])?;
                Ok(0)
            }
            F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW => Ok(0),
            F_GETPIPE_SZ => {
                if slot.file.borrow().kind == crate::process::fd::FileKind::Pipe {
                    Ok(super::pipe::capacity())
                } else {
                    Err(Errno::EBADF)
                }
            }
            F_SETOWN => Ok(0),
            F_GETOWN => Ok(0),
            _ => Err(Errno::EINVAL),
        }
    })
}
