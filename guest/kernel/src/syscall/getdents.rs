//! `getdents64`: the records are packed in a small kernel buffer (names
//! are short) and copied out chunk by chunk.

use super::{Args, Errno, UserPtr};
use crate::process;
use crate::process::fd::FileKind;
use crate::vfs::dirent;

const CHUNK: usize = 1024;

pub(super) fn getdents64(a: &Args) -> Result<usize, Errno> {
    let (fd, buf, count) = (a[0], a[1], a[2] as u32 as usize);
    process::with(|sys| {
        let file = sys.proc.fds.get(fd)?.file.clone();
        // /proc/self/fd lists the descriptors, this one included: before
        // it is borrowed.
        let node = file.borrow().node;
        if node == sys.vfs.fd_dir() && file.borrow().kind == FileKind::Directory {
            super::procfs::refresh_fds(sys);
        }
        let mut f = file.borrow_mut();
        match f.kind {
            FileKind::Directory => {}
            FileKind::Path => return Err(Errno::EBADF),
            _ => return Err(Errno::ENOTDIR),
        }
        let dir = f.node;
        // Linux: a removed directory lists nothing, not even . and ..
        if sys.vfs.removed(dir) {
            return Err(Errno::ENOENT);
        }
        sys.vfs.ensure_loaded(dir);
        let mut written = 0;
        let mut chunk = [0u8; CHUNK];
        loop {
            let room = (count - written).min(CHUNK);
            let (n, next) =
                dirent::pack(&mut chunk[..room], f.offset, |p| sys.vfs.dir_entry(dir, p));
            if n == 0 {
                break;
            }
            UserPtr::new(buf.checked_add(written as u64).ok_or(Errno::EFAULT)?).copy_to_user(&sys.proc.mm, &chunk[..n])?;
            written += n;
            f.offset = next;
        }
        if written == 0 && sys.vfs.dir_entry(dir, f.offset).is_some() {
            return Err(Errno::EINVAL);
        }
        Ok(written)
    })
}
