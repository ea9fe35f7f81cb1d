//! `lseek`: regular files and directories have positions; terminals are
//! ESPIPE; `/dev/null` and friends stay at 0, as on Linux.

use super::{Args, Errno};
use crate::process;
use crate::process::fd::FileKind;
use crate::vfs::Device;

pub const SEEK_SET: u64 = 0;
pub const SEEK_CUR: u64 = 1;
pub const SEEK_END: u64 = 2;
pub const SEEK_DATA: u64 = 3;
pub const SEEK_HOLE: u64 = 4;

/// The new position for a file of `size` bytes at `cur`.
pub fn seek(cur: u64, size: u64, off: i64, whence: u64) -> Result<u64, Errno> {
    let base = match whence {
        SEEK_SET => 0,
        SEEK_CUR => cur as i64,
        SEEK_END => size as i64,
        SEEK_DATA | SEEK_HOLE => {
            if off < 0 || off as u64 >= size {
                return Err(Errno::ENXIO);
            }
            return Ok(if whence == SEEK_DATA {
                off as u64
            } else {
                size
            });
        }
        _ => return Err(Errno::EINVAL),
    };
    match base.checked_add(off) {
        Some(p) if p >= 0 => Ok(p as u64),
        Some(_) => Err(Errno::EINVAL),
        None => Err(Errno::EOVERFLOW),
    }
}

pub(super) fn lseek(a: &Args) -> Result<usize, Errno> {
    let (off, whence) = (a[1] as i64, a[2]);
    process::with(|sys| {
        let file = sys.proc.fds.get(a[0])?.file.clone();
        let mut f = file.borrow_mut();
        match f.kind {
            FileKind::Regular => {
                let size = match &f.held {
                    Some(i) => i.borrow().data.len(),
                    None => sys.vfs.size(f.node),
                };
                f.offset = seek(f.offset, size, off, whence)?;
            }
            FileKind::Directory => {
                if whence >= SEEK_END {
                    return Err(Errno::EINVAL);
                }
                f.offset = seek(f.offset, 0, off, whence)?;
            }
            FileKind::Console { .. }
            | FileKind::Device(Device::Console | Device::Tty)
            | FileKind::Pipe => return Err(Errno::ESPIPE),
            FileKind::Device(_) => {
                if whence > SEEK_END {
                    return Err(Errno::EINVAL);
                }
                f.offset = 0;
            }
            FileKind::Path => return Err(Errno::EBADF),
        }
        Ok(f.offset as usize)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(seek(5, 10, 3, SEEK_SET), Ok(3));
        assert_eq!(seek(5, 10, 3, SEEK_CUR), Ok(8));
        assert_eq!(seek(5, 10, -3, SEEK_END), Ok(7));
        assert_eq!(seek(5, 10, 20, SEEK_END), Ok(30), "past the end is fine");
        assert_eq!(seek(5, 10, -6, SEEK_CUR), Err(Errno::EINVAL));
        assert_eq!(seek(5, 10, i64::MAX, SEEK_CUR), Err(Errno::EOVERFLOW));
        assert_eq!(seek(0, 10, 4, SEEK_DATA), Ok(4));
        assert_eq!(seek(0, 10, 4, SEEK_HOLE), Ok(10));
        assert_eq!(seek(0, 10, 10, SEEK_DATA), Err(Errno::ENXIO));
        assert_eq!(seek(0, 10, 0, 9), Err(Errno::EINVAL));
    }
}
