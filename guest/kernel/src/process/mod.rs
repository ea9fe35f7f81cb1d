//! Processes: what a running Linux program owns (memory, descriptors,
//! working directory, TLS base, signal state, limits) and the one
//! `System` the system calls act on.
//!
//! Process 1 is the program the host named; it may fork and start
//! threads. Each process has its own address space (CR3) and descriptor
//! table, shared by its threads; `sched` switches between threads when
//! one blocks, exits or (with the tick) has used its slice. When process
//! 1 exits, the guest exits with its status.
//!
//! | module | what |
//! | --- | --- |
//! | `sched` | the process table, blocking, context switches, threads, exit and zombies |
//! | `futex` | futex wait queues, the clear-tid wake and robust lists at a thread's exit |
//! | `table` | wait statuses, which children a wait selects, zombies, pids |
//! | `pipe` | pipes: Linux's ring of 16 page slots, bytes moved by copy hypercall |
//! | `exec` | loads an ELF program and its start stack into a new address space |
//! | `mm`, `vmas` | memory areas, lazy and eager mapping, brk/mmap/mprotect |
//! | `stack` | the System V start stack (argv, envp, auxv) |
//! | `fd` | descriptor table and open file descriptions |
//! | `signal` | dispositions, masks, what kills |
//! | `fault` | CPU exceptions from ring 3: map a page, or kill like Linux |

pub mod boot;
pub mod deliver;
pub mod elf;
pub mod exec;
pub mod fault;
pub mod fd;
pub mod futex;
pub mod mm;
pub mod pipe;
pub mod ptimer;
pub mod sched;
pub mod signal;
pub mod spans;
pub mod stack;
pub mod table;
pub mod trap;
pub mod vmas;

use crate::host::hypercall;
use crate::arch::idt::TrapFrame;
use crate::sync::Global;
use crate::syscall::user_ptr::Pod;
use crate::syscall::Errno;
use crate::vfs::{NodeId, Vfs};
use alloc::boxed::Box;
use alloc::vec::Vec;
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

/// A task: one thread of a process. Threads of one process (the same
/// `pid`, their thread group) share its address space, descriptors,
/// working directory, umask, limits and timers: the running thread holds
/// them (`holds`) and `sched` hands them over on a switch between threads
/// of one process, so a system call always finds them in `System::proc`
/// (see `sched`, "Threads"). Signal dispositions are copied into every
/// thread and changed in all of them at once.
pub struct Process {
    /// The process id (the thread group's: the first thread's tid).
    pub pid: u32,
    /// The thread id (`gettid`; equal to `pid` for the first thread).
    pub tid: u32,
    /// Holds its process's shared state (`mm`, `fds`, `cwd`, `umask`,
    /// `rlimits`, timers); the other threads of the process have empty
    /// placeholders there until they run.
    pub holds: bool,
    /// The parent (0 for process 1, as on Linux).
    pub ppid: u32,
    /// Process group (inherited; `setpgid`, `setsid`).
    pub pgid: u32,
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
    /// The user registers while the process is not running (`sched`).
    pub regs: TrapFrame,
    /// Ready to run, or blocked (and on what).
    pub state: sched::State,
    /// A vfork child: the parent, waiting for this process to exec or
    /// exit, whose address space it borrows meanwhile (0: none).
    pub vfork_parent: u32,
    /// Bytes a blocked pipe write had written before it blocked: the
    /// restarted call carries on after them (`sched`, "restart").
    pub restart_done: usize,
    /// The deadline (monotonic ns) of a sleep that blocked: the restarted
    /// call waits for it instead of starting over (`syscall::time`).
    pub restart_deadline: Option<u64>,
    /// ITIMER_REAL (`alarm`, `setitimer`): when it expires (monotonic ns,
    /// the host's) and its interval (0: once). Kept across exec, not
    /// inherited by a fork child, as on Linux.
    pub itimer: Option<(u64, u64)>,
    /// ITIMER_VIRTUAL and ITIMER_PROF: the CPU time (ns) left and the
    /// interval, counted down a tick at a time (`sched::tick`); kept
    /// across exec, not inherited by a fork child, as on Linux.
    pub cpu_itimers: [Option<(u64, u64)>; 2],
    /// POSIX timers (`timer_create`): not inherited by a fork child,
    /// deleted by exec.
    pub timers: ptimer::Timers,
    /// The signal mask from before `rt_sigsuspend` replaced it: the first
    /// handler's frame holds it, so `rt_sigreturn` puts it back.
    pub sigsuspend_saved: Option<u64>,
    /// The user's FPU/SSE state while the process is not running (`sched`;
    /// `None` until it first stops).
    pub fpu: Option<Box<deliver::Fx>>,
    /// `/proc/self/exe` while the process is not running (the running
    /// one's is in the vfs; `sched` swaps them).
    pub exe_path: Vec<u8>,
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
    /// The running process (boxed: a switch swaps two pointers, not two
    /// kilobytes of signal state in emulated ring 0).
    pub proc: Box<Process>,
    /// Every other live process, ready or blocked, in round-robin order.
    pub others: Vec<Box<Process>>,
    /// Processes that exited and were not reaped yet.
    pub zombies: table::Zombies,
    /// The last pid handed out.
    pub last_pid: u32,
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

/// Ends the guest with `status & 0xff`, before there are processes (a
/// program that cannot start).
pub fn exit(status: u32) -> ! {
    hypercall::exit(status & 0xff)
}

/// The running process (pid `pid`) dies of `sig` once the current system
/// call or exception returns (`sched`). For process 1, whose death ends
/// the guest, a shell-style line first (`Segmentation fault` and the
/// details), then the guest's exit status is 128 + `sig`; a child's
/// death is for its parent to report (`wait4`), as on Linux.
pub fn die(pid: u32, sig: u32, details: core::fmt::Arguments<'_>) {
    if pid == 1 {
        crate::notice!("{}{}", signal::describe(sig), details);
    } else {
        crate::diagnostic!("kvmos: pid {pid}: {}{}", signal::describe(sig), details);
    }
    sched::exit_current(table::Status::Signaled(sig));
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
