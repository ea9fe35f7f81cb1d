//! `fork`, `vfork`, `clone`: a new process.
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
//! execs or exits, when it gets it back. Other sharing (threads,
//! CLONE_VM without CLONE_VFORK, shared descriptor tables) is ENOSYS:
//! kvmos processes have one thread.

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
    if has(CLONE_THREAD | CLONE_SIGHAND | CLONE_FS | CLONE_FILES | CLONE_PIDFD | CLONE_NEW) {
        return Err(Errno::ENOSYS);
    }
    if has(CLONE_VM) && !has(CLONE_VFORK) {
        // Two processes running in one address space.
        return Err(Errno::ENOSYS);
    }
    Ok(())
}

/// Makes the child of the running process; returns its pid.
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
    let share = flags & CLONE_VM != 0;
    // Sharing: the child borrows the parent's space below and the parent
    // holds an empty one meanwhile.
    let mm = if share {
        Mm::new()?
    } else {
        sys.proc.mm.duplicate()?
    };
    let p = &sys.proc;
    let mut child = Box::new(Process {
        pid,
        ppid: if flags & CLONE_PARENT != 0 {
            p.ppid
        } else {
            p.pid
        },
        pgid: p.pgid,
        mm,
        fds: p.fds.clone(),
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
            altstack: p.signals.altstack,
            infos: [Default::default(); crate::process::signal::NSIG],
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
        vfork_parent: if flags & CLONE_VFORK != 0 { p.pid } else { 0 },
        restart_done: 0,
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
        let _ = UserPtr::<i32>::new(child_tid).write(&child.mm, pid as i32);
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(check_flags(thread), Err(Errno::ENOSYS));
        assert_eq!(check_flags(CLONE_THREAD), Err(Errno::EINVAL));
        assert_eq!(check_flags(CLONE_SIGHAND), Err(Errno::EINVAL));
        assert_eq!(check_flags(CLONE_VM | SIGCHLD), Err(Errno::ENOSYS));
        assert_eq!(
            check_flags(CLONE_PIDFD | CLONE_DETACHED),
            Err(Errno::EINVAL)
        );
    }
}
