//! `uname`: Linux on x86_64, as kvmos.

use super::user_ptr::Pod;
use super::{Args, Errno, UserPtr};
use crate::process;

/// `struct utsname`: six fields of 65 bytes.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Utsname {
    pub fields: [[u8; 65]; 6],
}

// SAFETY: bytes only.
unsafe impl Pod for Utsname {}

const fn field(s: &[u8]) -> [u8; 65] {
    let mut f = [0u8; 65];
    let mut i = 0;
    while i < s.len() {
        f[i] = s[i];
        i += 1;
    }
    f
}

pub const SYSNAME: &[u8] = b"Linux";
pub const NODENAME: &[u8] = b"kvmos";
pub const RELEASE: &[u8] = b"6.1.0-kvmos";
pub const VERSION: &[u8] = b"#1 SMP kvmos";
pub const MACHINE: &[u8] = b"x86_64";

pub static UTSNAME: Utsname = Utsname {
    fields: [
        field(SYSNAME),
        field(NODENAME),
        field(RELEASE),
        field(VERSION),
        field(MACHINE),
        field(b"(none)"),
    ],
};

pub(super) fn uname(a: &Args) -> Result<usize, Errno> {
    process::with(|sys| {
        UserPtr::new(a[0]).copy_to_user(&sys.proc.mm, &[UTSNAME])?;
        Ok(0)
    })
}
