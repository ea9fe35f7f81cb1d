//! Sockets: kvmos has no socket families yet (a network is future work),
//! so `socket` and `socketpair` fail as Linux does for a family it was
//! built without: EAFNOSUPPORT. Programs that merely probe (glibc asking
//! nscd over AF_UNIX, Python's `import socket`) carry on, and no notice of
//! a missing system call is printed for them.

use super::{Args, Errno};

/// Linux's `AF_MAX` bound: a family past it is EAFNOSUPPORT too, a bad
/// type is EINVAL only once a family exists, so every call ends here.
pub(super) fn socket(_: &Args) -> Result<usize, Errno> {
    Err(Errno::EAFNOSUPPORT)
}

pub(super) fn socketpair(_: &Args) -> Result<usize, Errno> {
    Err(Errno::EAFNOSUPPORT)
}

/// The calls on a socket descriptor (connect, bind, getpeername, ...):
/// no descriptor is a socket, so a valid one is ENOTSOCK and any other
/// EBADF, as Linux answers for a file (bash asks getpeername of its stdin).
pub(super) fn on_socket_fd(a: &Args) -> Result<usize, Errno> {
    crate::process::with(|sys| {
        sys.proc.fds.get(a[0])?;
        Err(Errno::ENOTSOCK)
    })
}
