//! Linux x86-64 system calls by `syscall` (number in rax, arguments in rdi,
//! rsi, rdx, r10, r8, r9; rcx and r11 clobbered; -errno on failure).

use core::arch::asm;
use core::fmt;

pub const SYS_READ: usize = 0;
pub const SYS_WRITE: usize = 1;
pub const SYS_OPEN: usize = 2;
pub const SYS_CLOSE: usize = 3;
pub const SYS_MMAP: usize = 9;
pub const SYS_MUNMAP: usize = 11;
pub const SYS_IOCTL: usize = 16;
pub const SYS_CLOCK_GETTIME: usize = 228;
pub const SYS_EXIT_GROUP: usize = 231;

pub const O_RDONLY: usize = 0;
pub const O_RDWR: usize = 2;
pub const O_NONBLOCK: usize = 0o4000;
pub const O_CLOEXEC: usize = 0o2000000;

pub const PROT_READ: usize = 1;
pub const PROT_WRITE: usize = 2;
pub const MAP_SHARED: usize = 1;
pub const MAP_PRIVATE: usize = 2;
pub const MAP_ANONYMOUS: usize = 0x20;

pub const CLOCK_MONOTONIC: usize = 1;

/// # Safety
/// The arguments must be valid for system call `n`.
#[inline(always)]
pub unsafe fn syscall1(n: usize, a1: usize) -> isize {
    let ret: isize;
    asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a1,
         lateout("rcx") _, lateout("r11") _, options(nostack));
    ret
}

/// # Safety
/// The arguments must be valid for system call `n`.
#[inline(always)]
pub unsafe fn syscall2(n: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a1, in("rsi") a2,
         lateout("rcx") _, lateout("r11") _, options(nostack));
    ret
}

/// # Safety
/// The arguments must be valid for system call `n`.
#[inline(always)]
pub unsafe fn syscall3(n: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a1, in("rsi") a2,
         in("rdx") a3, lateout("rcx") _, lateout("r11") _, options(nostack));
    ret
}

/// # Safety
/// The arguments must be valid for system call `n`.
#[inline(always)]
pub unsafe fn syscall6(n: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize) -> isize {
    let ret: isize;
    asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a1, in("rsi") a2,
         in("rdx") a3, in("r10") a4, in("r8") a5, in("r9") a6,
         lateout("rcx") _, lateout("r11") _, options(nostack));
    ret
}

/// A Linux error number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ENOENT: Errno = Errno(2);
    pub const EINTR: Errno = Errno(4);
    pub const EIO: Errno = Errno(5);
    pub const ENXIO: Errno = Errno(6);
    pub const EBADF: Errno = Errno(9);
    pub const EAGAIN: Errno = Errno(11);
    pub const ENOMEM: Errno = Errno(12);
    pub const EACCES: Errno = Errno(13);
    pub const EFAULT: Errno = Errno(14);
    pub const EBUSY: Errno = Errno(16);
    pub const ENODEV: Errno = Errno(19);
    pub const EINVAL: Errno = Errno(22);
    pub const ENOTTY: Errno = Errno(25);
    pub const ENOSYS: Errno = Errno(38);

    /// glibc's `strerror` text for the errors these programs can meet.
    pub fn message(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "Operation not permitted",
            2 => "No such file or directory",
            4 => "Interrupted system call",
            5 => "Input/output error",
            6 => "No such device or address",
            9 => "Bad file descriptor",
            11 => "Resource temporarily unavailable",
            12 => "Cannot allocate memory",
            13 => "Permission denied",
            14 => "Bad address",
            16 => "Device or resource busy",
            19 => "No such device",
            20 => "Not a directory",
            21 => "Is a directory",
            22 => "Invalid argument",
            24 => "Too many open files",
            25 => "Inappropriate ioctl for device",
            30 => "Read-only file system",
            38 => "Function not implemented",
            95 => "Operation not supported",
            _ => return None,
        })
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(m) => f.write_str(m),
            None => write!(f, "error {}", self.0),
        }
    }
}

/// A raw result: `Ok(value)` or the negated errno.
pub fn check(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// `open(path, flags, 0)`; `path` without NUL (at most 255 bytes).
pub fn open(path: &str, flags: usize) -> Result<i32, Errno> {
    let mut buf = [0u8; 256];
    let bytes = path.as_bytes();
    if bytes.len() >= buf.len() || bytes.contains(&0) {
        return Err(Errno::EINVAL);
    }
    buf[..bytes.len()].copy_from_slice(bytes);
    // SAFETY: buf is a NUL-terminated path.
    check(unsafe { syscall3(SYS_OPEN, buf.as_ptr() as usize, flags | O_CLOEXEC, 0) }).map(|fd| fd as i32)
}

pub fn close(fd: i32) -> Result<(), Errno> {
    // SAFETY: closing a descriptor touches no memory of ours.
    check(unsafe { syscall1(SYS_CLOSE, fd as usize) }).map(|_| ())
}

pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most buf.len() bytes into buf.
    check(unsafe { syscall3(SYS_READ, fd as usize, buf.as_mut_ptr() as usize, buf.len()) })
}

pub fn write(fd: i32, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel reads buf.
    check(unsafe { syscall3(SYS_WRITE, fd as usize, buf.as_ptr() as usize, buf.len()) })
}

/// Writes all of `buf` (retrying short writes and EINTR).
pub fn write_all(fd: i32, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// # Safety
/// `arg` must be what `request` expects (here: a pointer to its struct).
pub unsafe fn ioctl(fd: i32, request: usize, arg: usize) -> Result<usize, Errno> {
    check(syscall3(SYS_IOCTL, fd as usize, request, arg))
}

/// # Safety
/// As Linux's `mmap`: a fixed or shared mapping can alias memory.
pub unsafe fn mmap(addr: usize, len: usize, prot: usize, flags: usize, fd: i32, offset: usize) -> Result<*mut u8, Errno> {
    check(syscall6(SYS_MMAP, addr, len, prot, flags, fd as isize as usize, offset)).map(|a| a as *mut u8)
}

/// # Safety
/// Nothing may use `[addr, addr + len)` afterwards.
pub unsafe fn munmap(addr: *mut u8, len: usize) -> Result<(), Errno> {
    check(syscall2(SYS_MUNMAP, addr as usize, len)).map(|_| ())
}

/// Linux's `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

/// Through the vDSO when there is one (no system call), as a libc does.
pub fn clock_gettime(clock: usize) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    let r = match crate::vdso::clock_gettime() {
        // SAFETY: the vDSO's clock_gettime fills ts (or returns -errno).
        Some(f) => (unsafe { f(clock as i32, &mut ts) }) as isize,
        // SAFETY: the kernel fills ts.
        None => unsafe { syscall2(SYS_CLOCK_GETTIME, clock, &mut ts as *mut Timespec as usize) },
    };
    check(r)?;
    Ok(ts)
}

pub fn exit_group(status: i32) -> ! {
    // SAFETY: exit_group does not return.
    unsafe {
        syscall1(SYS_EXIT_GROUP, status as usize);
        asm!("ud2", options(noreturn))
    }
}
