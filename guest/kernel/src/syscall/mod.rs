//! System calls, Linux x86-64 convention: number in RAX, arguments in RDI,
//! RSI, RDX, R10, R8, R9, result in RAX (`-errno` on error); RCX and R11
//! are clobbered, every other register is preserved. One dispatch table
//! keyed by Linux's numbers; an unknown number returns ENOSYS.
//!
//! Entry (`entry.rs`) works on PVM, where a ring-3 `syscall` lands on
//! LSTAR still in ring 3 and traps to ring 0 as #UD, and on hardware KVM,
//! where it lands in ring 0: both end in `try_handle`.

#[cfg(test)]
mod abi_check;
mod access;
mod arch_prctl;
mod brk;
mod copy_range;
mod cwd;
mod dup;
pub mod entry;
pub mod errno;
mod execve;
mod exit;
mod fcntl;
mod fork;
mod getdents;
mod ids;
mod ioctl;
pub mod linux;
mod lseek;
mod mmap;
mod open;
pub mod path;
mod pipe;
pub mod poll;
mod prctl;
mod random;
pub mod read;
mod readlink;
mod rlimit;
mod fschange;
mod futex;
mod procfs;
mod sched;
pub mod segments;
mod sendfile;
mod signal;
mod socket;
pub mod stat;
pub mod sysinfo;
mod termios;
mod thread;
pub mod time;
mod timer;
mod umask;
pub mod uname;
pub mod user_ptr;
mod wait;
mod write;
mod xattr;

#[cfg(target_os = "none")]
pub use crate::arch::syscall::init;
pub use entry::try_handle;
pub use errno::Errno;
pub use exit::{sys_exit, sys_exit_group};
pub use open::open_at;
pub use user_ptr::UserPtr;
pub use write::sys_write;

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

/// Linux x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
pub mod nr {
    macro_rules! numbers {
        ($($name:ident = $value:literal,)*) => {
            $(pub const $name: u64 = $value;)*
            /// Every number by name, for the test against Linux's header.
            #[cfg(test)]
            pub const ALL: &[(&str, u64)] = &[$((stringify!($name), $value)),*];
        };
    }
    numbers! {
        READ = 0,
        WRITE = 1,
        OPEN = 2,
        CLOSE = 3,
        STAT = 4,
        FSTAT = 5,
        LSTAT = 6,
        POLL = 7,
        LSEEK = 8,
        MMAP = 9,
        MPROTECT = 10,
        MUNMAP = 11,
        BRK = 12,
        RT_SIGACTION = 13,
        RT_SIGPROCMASK = 14,
        RT_SIGRETURN = 15,
        IOCTL = 16,
        PREAD64 = 17,
        PWRITE64 = 18,
        READV = 19,
        WRITEV = 20,
        ACCESS = 21,
        PIPE = 22,
        SELECT = 23,
        SCHED_YIELD = 24,
        MREMAP = 25,
        MSYNC = 26,
        MINCORE = 27,
        MADVISE = 28,
        DUP = 32,
        DUP2 = 33,
        PAUSE = 34,
        NANOSLEEP = 35,
        GETITIMER = 36,
        ALARM = 37,
        SETITIMER = 38,
        GETPID = 39,
        SENDFILE = 40,
        SOCKET = 41,
        CONNECT = 42,
        ACCEPT = 43,
        SENDTO = 44,
        RECVFROM = 45,
        SENDMSG = 46,
        RECVMSG = 47,
        SHUTDOWN = 48,
        BIND = 49,
        LISTEN = 50,
        GETSOCKNAME = 51,
        GETPEERNAME = 52,
        SOCKETPAIR = 53,
        SETSOCKOPT = 54,
        GETSOCKOPT = 55,
        CLONE = 56,
        FORK = 57,
        VFORK = 58,
        EXECVE = 59,
        EXECVEAT = 322,
        EXIT = 60,
        WAIT4 = 61,
        WAITID = 247,
        KILL = 62,
        UNAME = 63,
        FCNTL = 72,
        FLOCK = 73,
        FSYNC = 74,
        FDATASYNC = 75,
        TRUNCATE = 76,
        FTRUNCATE = 77,
        GETDENTS = 78,
        GETCWD = 79,
        CHDIR = 80,
        FCHDIR = 81,
        RENAME = 82,
        MKDIR = 83,
        RMDIR = 84,
        CREAT = 85,
        LINK = 86,
        UNLINK = 87,
        SYMLINK = 88,
        READLINK = 89,
        CHMOD = 90,
        FCHMOD = 91,
        CHOWN = 92,
        FCHOWN = 93,
        LCHOWN = 94,
        UMASK = 95,
        GETTIMEOFDAY = 96,
        GETRLIMIT = 97,
        GETRUSAGE = 98,
        SYSINFO = 99,
        TIMES = 100,
        GETUID = 102,
        GETGID = 104,
        SETUID = 105,
        SETGID = 106,
        GETEUID = 107,
        GETEGID = 108,
        SETPGID = 109,
        GETPPID = 110,
        GETPGRP = 111,
        SETSID = 112,
        SETREUID = 113,
        SETREGID = 114,
        GETGROUPS = 115,
        SETGROUPS = 116,
        SETRESUID = 117,
        GETRESUID = 118,
        SETRESGID = 119,
        GETRESGID = 120,
        GETPGID = 121,
        SETFSUID = 122,
        SETFSGID = 123,
        GETSID = 124,
        RT_SIGPENDING = 127,
        RT_SIGTIMEDWAIT = 128,
        RT_SIGQUEUEINFO = 129,
        RT_SIGSUSPEND = 130,
        SIGALTSTACK = 131,
        UTIME = 132,
        MKNOD = 133,
        STATFS = 137,
        FSTATFS = 138,
        GETPRIORITY = 140,
        SETPRIORITY = 141,
        SCHED_GETPARAM = 143,
        SCHED_GETSCHEDULER = 145,
        PRCTL = 157,
        ARCH_PRCTL = 158,
        SETRLIMIT = 160,
        SYNC = 162,
        GETTID = 186,
        SETXATTR = 188,
        LSETXATTR = 189,
        FSETXATTR = 190,
        GETXATTR = 191,
        LGETXATTR = 192,
        FGETXATTR = 193,
        LISTXATTR = 194,
        LLISTXATTR = 195,
        FLISTXATTR = 196,
        REMOVEXATTR = 197,
        LREMOVEXATTR = 198,
        FREMOVEXATTR = 199,
        TKILL = 200,
        TIME = 201,
        FUTEX = 202,
        SCHED_SETAFFINITY = 203,
        SCHED_GETAFFINITY = 204,
        GETDENTS64 = 217,
        SET_TID_ADDRESS = 218,
        FADVISE64 = 221,
        TIMER_CREATE = 222,
        TIMER_SETTIME = 223,
        TIMER_GETTIME = 224,
        TIMER_GETOVERRUN = 225,
        TIMER_DELETE = 226,
        CLOCK_GETTIME = 228,
        CLOCK_GETRES = 229,
        CLOCK_NANOSLEEP = 230,
        EXIT_GROUP = 231,
        TGKILL = 234,
        UTIMES = 235,
        OPENAT = 257,
        MKDIRAT = 258,
        MKNODAT = 259,
        FCHOWNAT = 260,
        NEWFSTATAT = 262,
        UNLINKAT = 263,
        RENAMEAT = 264,
        LINKAT = 265,
        SYMLINKAT = 266,
        READLINKAT = 267,
        FCHMODAT = 268,
        FACCESSAT = 269,
        PSELECT6 = 270,
        PPOLL = 271,
        SET_ROBUST_LIST = 273,
        GET_ROBUST_LIST = 274,
        UTIMENSAT = 280,
        FALLOCATE = 285,
        DUP3 = 292,
        PIPE2 = 293,
        PREADV = 295,
        PWRITEV = 296,
        PRLIMIT64 = 302,
        GETCPU = 309,
        RENAMEAT2 = 316,
        GETRANDOM = 318,
        MEMBARRIER = 324,
        COPY_FILE_RANGE = 326,
        PREADV2 = 327,
        PWRITEV2 = 328,
        STATX = 332,
        RSEQ = 334,
        CLONE3 = 435,
        CLOSE_RANGE = 436,
        FACCESSAT2 = 439,
    }
}

/// RDI, RSI, RDX, R10, R8, R9.
pub type Args = [u64; 6];
pub type Handler = fn(&Args) -> Result<usize, Errno>;

/// Covers every Linux x86-64 number in use (the highest is in the 400s).
pub const TABLE_LEN: usize = 512;

/// A dispatch table: the handler of each system call number.
pub type Table = [Option<Handler>; TABLE_LEN];

/// Builds a table at compile time; two handlers for a number fail the
/// build.
pub const fn table(entries: &[(u64, Handler)]) -> Table {
    let mut t: Table = [None; TABLE_LEN];
    let mut i = 0;
    while i < entries.len() {
        let (nr, handler) = entries[i];
        assert!(
            t[nr as usize].is_none(),
            "two handlers for one syscall number"
        );
        t[nr as usize] = Some(handler);
        i += 1;
    }
    t
}

/// The table of an image with no processes (hello): console `write` and
/// `exit`/`exit_group`, which end the guest.
pub static MINIMAL: Table = table(&[
    (nr::WRITE, write::handle),
    (nr::EXIT, exit::handle_exit),
    (nr::EXIT_GROUP, exit::handle_exit_group),
]);

static ACTIVE: AtomicPtr<Table> = AtomicPtr::new(&raw const MINIMAL as *mut Table);
/// BootInfo flags bit 1: a trace hypercall after each system call.
static TRACE: AtomicBool = AtomicBool::new(false);
/// Report unknown numbers to the host (once each).
static REPORT_UNKNOWN: AtomicBool = AtomicBool::new(false);
/// Numbers reported already, one bit each.
static REPORTED: [AtomicU64; TABLE_LEN / 64] = [const { AtomicU64::new(0) }; TABLE_LEN / 64];

/// Makes `table` the one system calls use; with `report_unknown`, a
/// number without a handler is reported to the host once (it still
/// returns ENOSYS); with `trace`, every call is.
pub fn install(table: &'static Table, report_unknown: bool, trace: bool) {
    ACTIVE.store(table as *const Table as *mut Table, Ordering::Relaxed);
    REPORT_UNKNOWN.store(report_unknown, Ordering::Relaxed);
    TRACE.store(trace, Ordering::Relaxed);
}

fn report_unknown(nr: u64) {
    if !REPORT_UNKNOWN.load(Ordering::Relaxed) {
        return;
    }
    if let Some(word) = REPORTED.get(nr as usize / 64) {
        let bit = 1u64 << (nr % 64);
        if word.fetch_or(bit, Ordering::Relaxed) & bit != 0 {
            return;
        }
    }
    crate::host::hypercall::unknown_syscall(nr.min(u32::MAX as u64));
}

/// Runs system call `nr` and returns the RAX value for the caller.
#[inline]
pub fn dispatch(nr: u64, args: &Args) -> u64 {
    // The untraced call keeps nothing live across the handler: every
    // instruction here runs emulated on PVM, for every system call.
    if TRACE.load(Ordering::Relaxed) {
        return dispatch_traced(nr, args);
    }
    call(nr, args)
}

#[inline(always)]
fn call(nr: u64, args: &Args) -> u64 {
    // SAFETY: ACTIVE always points at a `'static` table (MINIMAL or one
    // given to `install`).
    let table = unsafe { &*ACTIVE.load(Ordering::Relaxed) };
    match usize::try_from(nr)
        .ok()
        .and_then(|n| table.get(n).copied().flatten())
    {
        Some(h) => return_value(h(args)),
        None => unknown(nr),
    }
}

#[cold]
#[inline(never)]
fn unknown(nr: u64) -> u64 {
    report_unknown(nr);
    Errno::ENOSYS.to_return_value()
}

#[cold]
#[inline(never)]
fn dispatch_traced(nr: u64, args: &Args) -> u64 {
    let ret = call(nr, args);
    crate::host::hypercall::trace(nr, args, ret as i64);
    ret
}

/// The RAX value for a result: the count, or `-errno`.
pub const fn return_value(r: Result<usize, Errno>) -> u64 {
    match r {
        Ok(n) => n as u64,
        Err(e) => e.to_return_value(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_keyed_by_linux_numbers() {
        assert!(MINIMAL[1].is_some(), "write");
        assert!(MINIMAL[60].is_some(), "exit");
        assert!(MINIMAL[231].is_some(), "exit_group");
        assert_eq!(MINIMAL.iter().filter(|h| h.is_some()).count(), 3);
    }

    #[test]
    fn unknown_numbers_are_enosys() {
        let args = [0; 6];
        for nr in [0, 2, 59, 335, 511, 512, u64::MAX] {
            assert_eq!(dispatch(nr, &args), (-38i64) as u64, "nr {nr}");
        }
    }

    #[test]
    fn write_to_a_bad_fd_is_ebadf() {
        assert_eq!(
            dispatch(nr::WRITE, &[3, 0x1000, 1, 0, 0, 0]),
            (-9i64) as u64
        );
        assert_eq!(
            dispatch(nr::WRITE, &[u64::MAX, 0x1000, 1, 0, 0, 0]),
            (-9i64) as u64
        );
    }

    #[test]
    fn numbers_are_linux_numbers() {
        let path = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
        let h = std::fs::read_to_string(path).unwrap_or_else(|e| {
            panic!("{path}: {e}: the syscall numbers are checked against Linux's uapi headers: install the Debian package linux-libc-dev (scripts/setup.sh does)")
        });
        let linux: std::collections::HashMap<String, u64> = h
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                match (w.next(), w.next(), w.next()) {
                    (Some("#define"), Some(n), Some(v)) => {
                        Some((n.strip_prefix("__NR_")?.to_uppercase(), v.parse().ok()?))
                    }
                    _ => None,
                }
            })
            .collect();
        for (name, value) in nr::ALL {
            assert_eq!(linux.get(*name), Some(value), "{name}");
        }
    }

    #[test]
    fn return_values() {
        assert_eq!(return_value(Ok(5)), 5);
        assert_eq!(return_value(Err(Errno::EFAULT)), 0xffff_ffff_ffff_fff2);
    }
}
