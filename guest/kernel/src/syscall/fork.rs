//! `fork`, `vfork`, `clone`, `clone3`: a new process.
//!
//! A forked child gets a copy of the address space (`Mm::duplicate`: the
//! host copies the mapped pages), the descriptor table (sharing the open
//! file descriptions), working directory, signal dispositions and mask
//! (nothing pending), limits and the rest; it returns 0 from the same
//! call with the parent's registers (`sched::after_trap` copies them).
//!
//! `vfork` and `clone(CLONE_VM | CLONE_VFORK)` (musl's and glibc's
//! posix_spawn) share the address space for real: the child borrows the
//! parent's (nothing is copied) and the parent waits until the child
//! execs or exits, when it gets it back. (A process with several
//! threads lends nothing: its child gets a copy, as from `fork`.)
//!
//! `clone(CLONE_THREAD | CLONE_VM | CLONE_SIGHAND | CLONE_FS |
//! CLONE_FILES ...)`, what `pthread_create` passes, makes a thread of
//! the caller's process (`process::sched`, "Threads"): a new tid, the
//! same pid, the address space, descriptors, working directory and
//! dispositions shared; the caller's mask; its own stack and TLS. Other
//! sharing (CLONE_VM or CLONE_FILES or CLONE_FS between processes) is
//! ENOSYS.

use super::{Args, Errno, UserPtr};
use crate::process::sched::{self, State};
use crate::process::signal::Signals;
use crate::process::table;
use crate::process::{self, mm::Mm, Process, System};
use alloc::boxed::Box;

pub const CSIGNAL: u64 = 0xff;
pub const CLONE_VM: u64 = 0x100;
pub const CLONE_FS: u64 = 0x200;
pub const CLONE_FILES: u64 = 0x400;
pub const CLONE_SIGHAND: u64 = 0x800;
pub const CLONE_PIDFD: u64 = 0x1000;
pub const CLONE_VFORK: u64 = 0x4000;
pub const CLONE_PARENT: u64 = 0x8000;
pub const CLONE_THREAD: u64 = 0x10000;
pub const CLONE_SETTLS: u64 = 0x80000;
pub const CLONE_PARENT_SETTID: u64 = 0x10_0000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
pub const CLONE_DETACHED: u64 = 0x40_0000;
pub const CLONE_CHILD_SETTID: u64 = 0x100_0000;
/// The namespace flags (NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER,
/// NEWPID, NEWNET): kvmos has one of each.
const CLONE_NEW: u64 =
    0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000;

/// Checks `flags` as Linux's `copy_process` does (EINVAL for
/// combinations that make no sense), then refuses what kvmos cannot do.
pub fn check_flags(flags: u64) -> Result<(), Errno> {
    let has = |f: u64| flags & f != 0;
    if has(CLONE_NEW) && has(CLONE_FS) {
        return Err(Errno::EINVAL);
    }
    if has(CLONE_THREAD) && !has(CLONE_SIGHAND) {
        return Err(Errno::EINVAL);
    }
    if has(CLONE_SIGHAND) && !has(CLONE_VM) {
        return Err(Errno::EINVAL);
    }
    if has(CLONE_PIDFD) && has(CLONE_DETACHED) {
        return Err(Errno::EINVAL);
    }
    if has(CLONE_PIDFD | CLONE_NEW) {
        return Err(Errno::ENOSYS);
    }
    let thread = CLONE_THREAD | CLONE_VM | CLONE_SIGHAND | CLONE_FS | CLONE_FILES;
    if has(CLONE_THREAD) {
        // A thread shares all of these, or kvmos cannot make it.
        return if flags & thread == thread && !has(CLONE_VFORK) {
            Ok(())
        } else {
            Err(Errno::ENOSYS)
        };
    }
    if has(CLONE_SIGHAND | CLONE_FS | CLONE_FILES) {
        return Err(Errno::ENOSYS);
    }
    if has(CLONE_VM) && !has(CLONE_VFORK) {
        // Two processes running in one address space.
        return Err(Errno::ENOSYS);
    }
    Ok(())
}

/// Makes the child of the running process, or a thread of it
/// (CLONE_THREAD); returns its pid (tid).
fn spawn(
    sys: &mut System,
    flags: u64,
    stack: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
) -> Result<u32, Errno> {
    let last = sys.last_pid;
    let pid = table::next_pid(last, |p| sched::pid_in_use(sys, p)).ok_or(Errno::EAGAIN)?;
    let thread = flags & CLONE_THREAD != 0;
    if thread && sys.proc.vfork_parent != 0 {
        // A vfork child may only exec or exit (POSIX); threads would take
        // the borrowed address space out of its hands.
        return Err(Errno::ENOSYS);
    }
    // A multi-threaded process lends its space to nobody (its other
    // threads run meanwhile): a vfork child gets a copy, and the caller
    // goes on at once, as after fork.
    let flags = if !thread && sched::has_siblings(sys) {
        flags & !(CLONE_VM | CLONE_VFORK)
    } else {
        flags
    };
    let share = flags & CLONE_VM != 0 && !thread;
    // Sharing: the child borrows the parent's space below and the parent
    // holds an empty one meanwhile. A thread gets an empty one too: it
    // runs with its process's (`sched::take_shared`).
    let mm = if share || thread {
        Mm::new()?
    } else {
        sys.proc.mm.duplicate()?
    };
    let p = &sys.proc;
    let mut child = Box::new(Process {
        pid: if thread { p.pid } else { pid },
        tid: pid,
        holds: !thread,
        ppid: if flags & CLONE_PARENT != 0 || thread {
            p.ppid
        } else {
            p.pid
        },
        pgid: p.pgid,
        mm,
        fds: if thread { Default::default() } else { p.fds.clone() },
        cwd: p.cwd,
        exe: p.exe,
        fs_base: if flags & CLONE_SETTLS != 0 {
            tls
        } else {
            p.fs_base
        },
        gs_base: p.gs_base,
        umask: p.umask,
        signals: Signals {
            actions: p.signals.actions,
            blocked: p.signals.blocked,
            pending: 0,
            // A new thread starts without an alternate stack (Linux's
            // rule for CLONE_VM without CLONE_VFORK).
            altstack: if thread {
                Signals::default().altstack
            } else {
                p.signals.altstack
            },
            infos: [Default::default(); crate::process::signal::NSIG],
            rt: Default::default(),
        },
        comm: p.comm,
        rlimits: p.rlimits,
        clear_child_tid: if flags & CLONE_CHILD_CLEARTID != 0 {
            child_tid
        } else {
            0
        },
        robust_list: (0, 0),
        nice: p.nice,
        dumpable: p.dumpable,
        pdeathsig: 0,
        no_new_privs: p.no_new_privs,
        child_subreaper: false,
        // The stack the child starts on (0: the parent's); `after_trap`
        // fills in the rest.
        regs: crate::arch::idt::TrapFrame {
            rsp: stack,
            ..Default::default()
        },
        state: State::Ready,
        vfork_parent: if flags & CLONE_VFORK != 0 { p.tid } else { 0 },
        restart_done: 0,
        restart_deadline: None,
        itimer: None,
        timers: Default::default(),
        cpu_itimers: [None; 2],
        sigsuspend_saved: None,
        fpu: None,
        exe_path: sys.vfs.self_exe_mut().clone(),
    });
    if flags & CLONE_PARENT_SETTID != 0 {
        // Linux ignores a bad pointer here too.
        let _ = UserPtr::<i32>::new(parent_tid).write(&sys.proc.mm, pid as i32);
    }
    if share {
        core::mem::swap(&mut child.mm, &mut sys.proc.mm);
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        // In the child's memory (the same as the parent's when shared);
        // a bad pointer is ignored, as Linux does.
        let mm = if thread { &sys.proc.mm } else { &child.mm };
        let _ = UserPtr::<i32>::new(child_tid).write(mm, pid as i32);
    }
    sys.last_pid = pid;
    sys.others.push(child);
    if flags & CLONE_VFORK != 0 {
        sched::vforked(pid);
    } else {
        sched::forked(pid);
    }
    Ok(pid)
}

pub(super) fn fork(_: &Args) -> Result<usize, Errno> {
    process::with(|sys| spawn(sys, 0, 0, 0, 0, 0).map(|p| p as usize))
}

pub(super) fn vfork(_: &Args) -> Result<usize, Errno> {
    process::with(|sys| spawn(sys, CLONE_VM | CLONE_VFORK, 0, 0, 0, 0).map(|p| p as usize))
}

/// x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
pub(super) fn clone(a: &Args) -> Result<usize, Errno> {
    let flags = a[0];
    check_flags(flags)?;
    process::with(|sys| spawn(sys, flags & !CSIGNAL, a[1], a[2], a[3], a[4]).map(|p| p as usize))
}

/// `struct clone_args` of clone3 (its first version, 64 bytes, is what
/// every caller passes at least; later fields must then be zero here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
}

/// CLONE_ARGS_SIZE_VER0.
const CLONE_ARGS_MIN: u64 = 64;
/// set_tid, set_tid_size, cgroup: the fields after version 0.
const CLONE_ARGS_KNOWN: u64 = 88;
const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Checks clone3's arguments as Linux's `copy_clone_args_from_user` and
/// `clone3_args_valid` do, given the struct's words (`words[..size/8]`,
/// the rest zero). Returns the flags for `spawn` and the child's stack
/// pointer (the top of the given stack: x86 stacks grow down).
pub fn check_clone3(words: &[u64; 11]) -> Result<(CloneArgs, u64), Errno> {
    let a = CloneArgs {
        flags: words[0],
        pidfd: words[1],
        child_tid: words[2],
        parent_tid: words[3],
        exit_signal: words[4],
        stack: words[5],
        stack_size: words[6],
        tls: words[7],
    };
    let (set_tid, set_tid_size, cgroup) = (words[8], words[9], words[10]);
    if set_tid_size > 32 || (set_tid == 0 && set_tid_size != 0) || (set_tid != 0 && set_tid_size == 0) {
        return Err(Errno::EINVAL);
    }
    if a.exit_signal & !CSIGNAL != 0 || cgroup > i32::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    if a.flags & !((u32::MAX as u64 & !CSIGNAL) | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) != 0
        || a.flags & (CLONE_DETACHED | CSIGNAL) != 0
        || (a.flags & (CLONE_THREAD | CLONE_PARENT) != 0 && a.exit_signal != 0)
        || (a.stack == 0) != (a.stack_size == 0)
        || (a.flags & CLONE_CLEAR_SIGHAND != 0 && a.flags & CLONE_SIGHAND != 0)
    {
        return Err(Errno::EINVAL);
    }
    check_flags(a.flags & u32::MAX as u64)?;
    // Choosing pids and cgroups: not in kvmos (one pid namespace, no
    // cgroups), refused as the other sharing it cannot do.
    if set_tid_size != 0 || a.flags & CLONE_INTO_CGROUP != 0 {
        return Err(Errno::ENOSYS);
    }
    let sp = if a.stack == 0 {
        0
    } else {
        a.stack.checked_add(a.stack_size).ok_or(Errno::EINVAL)?
    };
    Ok((a, sp))
}

/// clone3(args, size): clone with its arguments in a struct.
pub(super) fn clone3(a: &Args) -> Result<usize, Errno> {
    let (ptr, size) = (a[0], a[1]);
    if size < CLONE_ARGS_MIN {
        return Err(Errno::EINVAL);
    }
    if size > crate::host::layout::PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    process::with(|sys| {
        let mut words = [0u64; 11];
        let known = size.min(CLONE_ARGS_KNOWN) as usize / 8;
        UserPtr::<u64>::new(ptr).copy_from_user(&sys.proc.mm, &mut words[..known])?;
        // A newer caller's struct: what kvmos does not know must be zero
        // (E2BIG otherwise, as copy_struct_from_user).
        let mut at = CLONE_ARGS_KNOWN;
        while at < size {
            let n = (size - at).min(8);
            let mut b = [0u8; 8];
            let p = ptr.checked_add(at).ok_or(Errno::EFAULT)?;
            UserPtr::<u8>::new(p).copy_from_user(&sys.proc.mm, &mut b[..n as usize])?;
            if b != [0; 8] {
                return Err(Errno::E2BIG);
            }
            at += n;
        }
        // A size that is not a whole number of words: the last word's
        // bytes past it are not the caller's.
        if size < CLONE_ARGS_KNOWN && size % 8 != 0 {
            let mut b = [0u8; 8];
            let tail = size % 8;
            let p = ptr.checked_add(size - tail).ok_or(Errno::EFAULT)?;
            UserPtr::<u8>::new(p).copy_from_user(&sys.proc.mm, &mut b[..tail as usize])?;
            words[known] = u64::from_le_bytes(b);
        }
        let (c, sp) = check_clone3(&words)?;
        spawn(sys, c.flags & u32::MAX as u64, sp, c.parent_tid, c.child_tid, c.tls).map(|p| p as usize)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's posix_spawn (CLONE_VM | CLONE_VFORK, its own stack, SIGCHLD)
    /// and the errors Linux gives for bad argument structs.
    #[test]
    fn clone3_arguments() {
        let spawn_args = |flags: u64, stack: u64, size: u64| {
            let mut w = [0u64; 11];
            w[0] = flags;
            w[4] = 17;
            w[5] = stack;
            w[6] = size;
            w
        };
        let w = spawn_args(CLONE_VM | CLONE_VFORK, 0x7fff_0000_0000, 0x9000);
        let (a, sp) = check_clone3(&w).unwrap();
        assert_eq!(a.flags, CLONE_VM | CLONE_VFORK);
        assert_eq!(sp, 0x7fff_0000_9000, "the top of the stack");
        assert_eq!(check_clone3(&spawn_args(0, 0, 0)).map(|r| r.1), Ok(0), "fork");
        // A stack without a size, or a size without a stack.
        assert_eq!(check_clone3(&spawn_args(0, 0x1000, 0)), Err(Errno::EINVAL));
        assert_eq!(check_clone3(&spawn_args(0, 0, 0x1000)), Err(Errno::EINVAL));
        // The signal goes in exit_signal, not in the flags.
        assert_eq!(check_clone3(&spawn_args(17, 0, 0)), Err(Errno::EINVAL));
        let mut w = spawn_args(0, 0, 0);
        w[4] = 0x100;
        assert_eq!(check_clone3(&w), Err(Errno::EINVAL));
        // Stack wrapping past 2^64.
        assert_eq!(check_clone3(&spawn_args(0, u64::MAX - 10, 0x1000)), Err(Errno::EINVAL));
        // set_tid without its size, and the reverse.
        let mut w = spawn_args(0, 0, 0);
        w[8] = 0x1000;
        assert_eq!(check_clone3(&w), Err(Errno::EINVAL));
        // Threads (glibc's pthread_create uses clone3), and sharing only
        // part of what a thread shares.
        let t = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
        let mut w = spawn_args(t, 0x1000, 0x1000);
        w[4] = 0;
        assert!(check_clone3(&w).is_ok());
        let mut w = spawn_args(t & !CLONE_FILES, 0x1000, 0x1000);
        w[4] = 0;
        assert_eq!(check_clone3(&w), Err(Errno::ENOSYS));
    }

    #[test]
    fn flag_sets_of_libc() {
        const SIGCHLD: u64 = 17;
        // fork (musl, glibc), vfork / posix_spawn.
        assert_eq!(check_flags(SIGCHLD), Ok(()));
        assert_eq!(
            check_flags(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD),
            Ok(())
        );
        assert_eq!(check_flags(CLONE_VM | CLONE_VFORK | SIGCHLD), Ok(()));
        // Threads: pthread_create's flags.
        let thread = CLONE_VM
            | CLONE_FS
            | CLONE_FILES
            | CLONE_SIGHAND
            | CLONE_THREAD
            | 0x40000 // CLONE_SYSVSEM
            | CLONE_SETTLS
            | CLONE_PARENT_SETTID
            | CLONE_CHILD_CLEARTID;
        assert_eq!(check_flags(thread), Ok(()));
        assert_eq!(check_flags(thread | CLONE_VFORK), Err(Errno::ENOSYS));
        assert_eq!(check_flags(CLONE_VM | CLONE_FILES | SIGCHLD), Err(Errno::ENOSYS));
        assert_eq!(check_flags(CLONE_THREAD), Err(Errno::EINVAL));
        assert_eq!(check_flags(CLONE_SIGHAND), Err(Errno::EINVAL));
        assert_eq!(check_flags(CLONE_VM | SIGCHLD), Err(Errno::ENOSYS));
        assert_eq!(
            check_flags(CLONE_PIDFD | CLONE_DETACHED),
            Err(Errno::EINVAL)
        );
    }
}
