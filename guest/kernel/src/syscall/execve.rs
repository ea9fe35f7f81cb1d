//! `execve`, `execveat`: a new program in this process. The argument and
//! environment strings are gathered into one kernel buffer (the layout
//! of linux-exec's args block), the program is loaded into a new address
//! space (`process::exec`), and only then is the old one dropped (or,
//! for a vfork child, handed back to the parent): a failed exec returns
//! to the old program. Close-on-exec descriptors are
//! closed, caught signals reset, the FS/GS bases cleared; the new program
//! starts from its entry point and never returns here.

use super::path::{start_dir, PathBuf, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use super::{Args, Errno, UserPtr};
use crate::process::exec::{self, ExecError};
use crate::process::signal::{SigAction, StackT, SIG_DFL, SIG_IGN, SS_DISABLE};
use crate::process::{self, Process, System};
use alloc::vec::Vec;

/// Linux's MAX_ARG_STRLEN (32 pages) and the total it allows with an
/// 8 MiB stack (a quarter of it).
const MAX_ARG_STRLEN: usize = 32 * 4096;
const MAX_ARG_TOTAL: usize = 2 << 20;

/// Appends the NUL-terminated strings of the pointer array at `list`
/// (NULL-terminated; a NULL `list` is empty) to `out`; returns how many.
fn gather_strings(sys: &System, list: u64, out: &mut Vec<u8>) -> Result<usize, Errno> {
    if list == 0 {
        return Ok(0);
    }
    let mut n = 0;
    loop {
        let p: u64 = UserPtr::new((8 * n as u64).checked_add(list).ok_or(Errno::EFAULT)?).read(&sys.proc.mm)?;
        if p == 0 {
            return Ok(n);
        }
        let at = out.len();
        out.reserve(256);
        let room = (MAX_ARG_TOTAL - at.min(MAX_ARG_TOTAL)).min(MAX_ARG_STRLEN);
        if out.capacity() - at < room {
            out.reserve(room);
        }
        let spare = &mut out.spare_capacity_mut()[..room];
        let len = match UserPtr::<u8>::new(p).read_cstr_uninit(&sys.proc.mm, spare) {
            Ok(s) => s.len(),
            Err(Errno::ENAMETOOLONG) => return Err(Errno::E2BIG),
            Err(e) => return Err(e),
        };
        // SAFETY: read_cstr_uninit initialized `len` bytes after `at`;
        // the NUL goes right after them (room > len).
        unsafe {
            out.as_mut_ptr().add(at + len).write(0);
            out.set_len(at + len + 1);
        }
        n += 1;
    }
}

fn exec_at(dirfd: u64, path: u64, argv: u64, envp: u64, flags: u64) -> Result<usize, Errno> {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let (entry, sp, space, old) = process::with_value(|sys| {
        let p = PathBuf::read(sys, path)?;
        let mut strings = Vec::new();
        let mut argc = gather_strings(sys, argv, &mut strings)?;
        if argc == 0 {
            // As Linux since 5.18: an empty argv gets argv[0] = "".
            strings.push(0);
            argc = 1;
        }
        let envc = gather_strings(sys, envp, &mut strings)?;
        let path = p.as_bytes();
        let start = start_dir(sys, dirfd, path)?;
        let image = match exec::load(&mut sys.vfs, sys.proc.cwd, start, path, &strings, argc, envc) {
            Ok(i) => i,
            Err(e @ ExecError::Loader(..)) => {
                // The caller sees only ENOENT (as from Linux); say which
                // file is missing, since it is not the one it named.
                crate::notice!("kvmos: {}: {e}", core::str::from_utf8(path).unwrap_or("?"));
                return Err(e.errno());
            }
            Err(e) => return Err(e.errno()),
        };
        // The point of no return: the new program replaces the old one,
        // in the only thread left, which takes the process's id (Linux's
        // de_thread).
        crate::process::sched::kill_siblings(sys);
        let proc = &mut sys.proc;
        proc.tid = proc.pid;
        let old = core::mem::replace(&mut proc.mm, image.mm);
        let cloexec: Vec<usize> = proc
            .fds
            .open_fds()
            .filter(|&fd| proc.fds.get(fd as u64).is_ok_and(|f| f.cloexec))
            .collect();
        for fd in cloexec {
            let _ = proc.fds.close(fd as u64);
        }
        for a in proc.signals.actions.iter_mut() {
            if a.handler != SIG_IGN {
                *a = SigAction::default();
                a.handler = SIG_DFL;
            }
        }
        // POSIX timers do not survive exec (Linux's exit_itimers).
        proc.timers = Default::default();
        proc.signals.altstack = StackT {
            flags: SS_DISABLE,
            ..StackT::default()
        };
        proc.comm = Process::comm_of(path);
        proc.exe = image.exe;
        proc.fs_base = 0;
        proc.gs_base = 0;
        proc.clear_child_tid = 0;
        proc.robust_list = (0, 0);
        // A vfork child gives its parent's address space back (and the
        // parent runs again); what is left to free is the parent's
        // placeholder.
        let parent = core::mem::replace(&mut proc.vfork_parent, 0);
        let old = crate::process::sched::vfork_done(sys, parent, old);
        Ok((image.entry, image.sp, sys.proc.mm.space.clone(), old))
    })?;
    reset_bases();
    space.activate();
    old.release();
    crate::arch::user::enter(
        &space,
        crate::mm::addr::VirtAddr::new(entry),
        crate::mm::addr::VirtAddr::new(sp),
        0,
        0,
    )
}

#[cfg(target_os = "none")]
fn reset_bases() {
    // SAFETY: zero is a valid FS/GS base; the kernel does not use them.
    unsafe {
        crate::arch::cpu::wrmsr(crate::arch::cpu::MSR_FS_BASE, 0);
        crate::arch::cpu::wrmsr(0xc000_0101, 0);
    }
}

#[cfg(not(target_os = "none"))]
fn reset_bases() {}

pub(super) fn execve(a: &Args) -> Result<usize, Errno> {
    exec_at(AT_FDCWD as u64, a[0], a[1], a[2], 0)
}

pub(super) fn execveat(a: &Args) -> Result<usize, Errno> {
    exec_at(a[0], a[1], a[2], a[3], a[4])
}
