//! Processes: what a running Linux program owns (memory, descriptors,
//! working directory, TLS base, signal state, limits) and the one
//! `System` the system calls act on.
//!
//! kvmos runs one process (pid 1) with one thread; when it exits, the
//! guest exits with its status.
//!
//! | module | what |
//! | --- | --- |
//! | `exec` | loads an ELF program and its start stack into a new address space |
//! | `mm`, `vmas` | memory areas, lazy and eager mapping, brk/mmap/mprotect |
//! | `stack` | the System V start stack (argv, envp, auxv) |
//! | `fd` | descriptor table and open file descriptions |
//! | `signal` | dispositions, masks, what kills |
//! | `fault` | CPU exceptions from ring 3: map a page, or kill like Linux |

pub mod boot;
pub mod exec;
pub mod fault;
pub mod fd;
pub mod mm;
pub mod signal;
pub mod stack;
pub mod vmas;

use crate::hypercall;
use crate::sync::Global;
use crate::syscall::user_ptr::Pod;
use crate::syscall::Errno;
use crate::vfs::{NodeId, Vfs};
use fd::FdTable;
use mm::Mm;
use signal::Signals;

/// `struct rlimit`: soft and hard limit.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

// SAFETY: two u64.
unsafe impl Pod for Rlimit {}

pub const RLIM_INFINITY: u64 = u64::MAX;
pub const RLIM_NLIMITS: usize = 16;
pub const RLIMIT_STACK: usize = 3;
pub const RLIMIT_NOFILE: usize = 7;

/// Linux's defaults for pid 1 (the values `ulimit -a` shows on Debian).
pub const DEFAULT_RLIMITS: [Rlimit; RLIM_NLIMITS] = {
    const INF: Rlimit = Rlimit {
        cur: RLIM_INFINITY,
        max: RLIM_INFINITY,
    };
    let mut r = [INF; RLIM_NLIMITS];
    r[RLIMIT_STACK] = Rlimit {
        cur: mm::STACK_SIZE,
        max: RLIM_INFINITY,
    };
    r[4] = Rlimit {
        cur: 0,
        max: RLIM_INFINITY,
    }; // RLIMIT_CORE
    r[6] = Rlimit {
        cur: 15_000,
        max: 15_000,
    }; // RLIMIT_NPROC
    r[RLIMIT_NOFILE] = Rlimit {
        cur: fd::MAX_FDS as u64,
        max: fd::MAX_FDS as u64,
    };
    r[8] = Rlimit {
        cur: 8 << 20,
        max: 8 << 20,
    }; // RLIMIT_MEMLOCK
    r[11] = Rlimit {
        cur: 15_000,
        max: 15_000,
    }; // RLIMIT_SIGPENDING
    r[12] = Rlimit {
        cur: 819_200,
        max: 819_200,
    }; // RLIMIT_MSGQUEUE
    r[13] = Rlimit { cur: 0, max: 0 }; // RLIMIT_NICE
    r[14] = Rlimit { cur: 0, max: 0 }; // RLIMIT_RTPRIO
    r
};

pub struct Process {
    pub pid: u32,
    pub mm: Mm,
    pub fds: FdTable,
    pub cwd: NodeId,
    /// The program file (what `/proc/self/exe` resolves to).
    pub exe: NodeId,
    /// FS base (`arch_prctl(ARCH_SET_FS)`): the TLS pointer.
    pub fs_base: u64,
    /// GS base (`arch_prctl(ARCH_SET_GS)`).
    pub gs_base: u64,
    pub umask: u32,
    pub signals: Signals,
    /// `prctl(PR_SET_NAME)`: 15 bytes and a NUL.
    pub comm: [u8; 16],
    pub rlimits: [Rlimit; RLIM_NLIMITS],
    /// `set_tid_address`.
    pub clear_child_tid: u64,
    /// `set_robust_list`: head and length.
    pub robust_list: (u64, u64),
    /// The nice value, -20..=19 (`setpriority`).
    pub nice: i32,
    /// `prctl` state: dumpable, parent-death signal, no_new_privs, child
    /// subreaper.
    pub dumpable: bool,
    pub pdeathsig: u32,
    pub no_new_privs: bool,
    pub child_subreaper: bool,
}

impl Process {
    /// The comm of a program at `path`: its last component, 15 bytes.
    pub fn comm_of(path: &[u8]) -> [u8; 16] {
        let name = path.rsplit(|&c| c == b'/').next().unwrap_or(path);
        let mut comm = [0u8; 16];
        let n = name.len().min(15);
        comm[..n].copy_from_slice(&name[..n]);
        comm
    }
}

/// Everything the Linux system calls act on.
pub struct System {
    pub vfs: Vfs<'static>,
    pub proc: Process,
}

// SAFETY: kvmos runs on one CPU and has no threads of its own; the
// System (with the `Rc`s of its descriptor table) is only reached through
// SYSTEM's guard, never from two contexts at once.
unsafe impl Send for System {}

pub static SYSTEM: Global<Option<System>> = Global::new(None);

/// Runs `f` on the system (ENOSYS before there is one).
pub fn with(f: impl FnOnce(&mut System) -> Result<usize, Errno>) -> Result<usize, Errno> {
    let mut g = SYSTEM.lock();
    match g.as_mut() {
        Some(s) => f(s),
        None => Err(Errno::ENOSYS),
    }
}

/// Runs `f` on the system and returns its value (ENOSYS before there is
/// one).
pub fn with_value<T>(f: impl FnOnce(&mut System) -> Result<T, Errno>) -> Result<T, Errno> {
    let mut g = SYSTEM.lock();
    match g.as_mut() {
        Some(s) => f(s),
        None => Err(Errno::ENOSYS),
    }
}

/// The process exits with `status`: the guest exits with `status & 0xff`
/// (what a parent would see).
pub fn exit(status: u32) -> ! {
    hypercall::exit(status & 0xff)
}

/// The process dies of `sig`: a shell-style line (`Segmentation fault`
/// and the details), then exit status 128 + `sig`.
pub fn kill(sig: u32, details: core::fmt::Arguments<'_>) -> ! {
    crate::notice!("{}{}", signal::describe(sig), details);
    exit(128 + sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_is_the_last_component() {
        assert_eq!(&Process::comm_of(b"/bin/busybox")[..8], b"busybox\0");
        let long = Process::comm_of(b"a-very-long-program-name");
        assert_eq!(&long[..15], b"a-very-long-pro");
        assert_eq!(long[15], 0);
        assert_eq!(DEFAULT_RLIMITS[RLIMIT_STACK].cur, 8 << 20);
    }
}
