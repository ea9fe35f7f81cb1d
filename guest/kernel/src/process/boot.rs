//! Starting process 1 from what the host handed over (docs/protocol.md,
//! "Running Linux programs"): the initramfs becomes the file system, the
//! args block argv and envp, `init=PATH` the program, `cwd=PATH` its
//! working directory. Images that run Linux programs call `run_init`.

use super::exec::{self, ExecError};
use super::fd::{Fd, FdTable, FileKind, OpenFile, O_RDONLY, O_WRONLY};
use super::signal::Signals;
use super::{Process, System, DEFAULT_RLIMITS, SYSTEM};
use crate::mm::addr::PhysAddr;
use crate::host::protocol::BootInfo;
use crate::vfs::{Vfs, ROOT};
use alloc::boxed::Box;
use alloc::vec::Vec;

/// The strings of an args block: `argc` arguments, then `envc`
/// environment entries, each NUL-terminated, back to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgsBlock<'a> {
    pub strings: &'a [u8],
    pub argc: usize,
    pub envc: usize,
}

/// Checks an args block: `u32 argc, u32 envc`, then the strings, each
/// with its NUL inside the block.
pub fn parse_args_block(b: &[u8]) -> Result<ArgsBlock<'_>, &'static str> {
    if b.len() < 8 {
        return Err("shorter than its header");
    }
    let argc = u32::from_le_bytes(b[0..4].try_into().unwrap()) as usize;
    let envc = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
    if argc == 0 {
        return Err("argc is 0");
    }
    let strings = &b[8..];
    if argc.saturating_add(envc) > strings.len() {
        return Err("more strings than bytes");
    }
    if super::stack::string_offsets(strings, argc + envc).is_none() {
        return Err("a string has no NUL");
    }
    Ok(ArgsBlock {
        strings,
        argc,
        envc,
    })
}

/// Bytes of guest-physical memory the host wrote and nobody writes again
/// (the initramfs, the args block).
fn phys_bytes(addr: u64, len: u64) -> &'static [u8] {
    if addr == 0 || len == 0 {
        return &[];
    }
    let va = PhysAddr::new(addr).to_direct_map();
    // SAFETY: the host placed `len` bytes at `addr` in RAM (the direct map
    // covers all of it) and neither side writes them afterwards.
    unsafe { core::slice::from_raw_parts(va.as_ptr::<u8>(), len as usize) }
}

/// The whole of an image that runs one Linux program with the Linux
/// system calls (`torus`, `paint`): `kernel::init`, the Linux table and
/// ring-3 fault policy, then `init=PATH` of the command line, or
/// `default_init`, from `cwd=PATH` (default `/`). The display devices are
/// there when the host attached a display.
pub fn run_linux_image(boot_info_phys: u64, default_init: &[u8]) -> ! {
    let info = crate::init(boot_info_phys);
    let trace = info.flags & crate::host::protocol::BOOT_FLAG_TRACE != 0;
    crate::syscall::install(&crate::syscall::linux::LINUX, true, trace);
    super::trap::set_user_fault_handler(super::fault::user_exception);
    let cmdline = crate::host::cmdline::boot();
    let init = cmdline
        .get("init")
        .filter(|p| !p.is_empty())
        .unwrap_or(default_init);
    let cwd = cmdline.get("cwd").unwrap_or(b"/");
    run_init(info, init, cwd)
}

/// The time for new and changed files: the host's clock.
fn fs_clock() -> crate::vfs::Time {
    let ns = crate::host::hypercall::clock().realtime_ns;
    crate::vfs::Time {
        sec: (ns / 1_000_000_000) as i64,
        nsec: (ns % 1_000_000_000) as u32,
    }
}

/// Memory tmpfs pages may still take: what is free less an eighth of
/// RAM (at least 8 MiB), kept for page tables, the heap and programs.
fn fs_headroom() -> u64 {
    let free = crate::mm::paging::free_frames() * crate::host::layout::PAGE_SIZE;
    let reserve = (crate::boot_info().ram_size / 8).max(8 << 20);
    free.saturating_sub(reserve)
}

/// Runs `init` (from `cwd`) as process 1; never returns: the program
/// runs in ring 3 until it exits, which ends the guest. If it cannot
/// start, says why on the host's stderr and exits 127 (not found, or
/// needs a dynamic loader) or 126 (cannot run), as a shell would.
pub fn run_init(info: &BootInfo, init: &[u8], cwd: &[u8]) -> ! {
    let name = core::str::from_utf8(init).unwrap_or("?");
    let archive = phys_bytes(info.initramfs_addr, info.initramfs_size);
    let now = (info.boot_time_ns / 1_000_000_000) as i64;
    let mut vfs = match Vfs::new(archive, info.initramfs_addr, now) {
        Ok(v) => v,
        Err(e) => {
            crate::notice!("kvmos: {e}");
            super::exit(127)
        }
    };
    if crate::dev::display::init(info) {
        vfs.add_display_devices(now);
    }
    vfs.clock = fs_clock;
    vfs.headroom = fs_headroom;
    // /tmp is a tmpfs (when the archive has the directory: the host's
    // always does), and so is each `tmpfs=PATH` of the command line.
    // Linux's default size for a tmpfs: half of RAM.
    let size = info.ram_size / 2;
    if vfs.lookup(ROOT, b"/tmp", true).is_ok_and(|n| vfs.node(n).is_dir()) {
        let _ = vfs.mount_tmpfs(b"/tmp", size);
    }
    let cmdline = crate::host::cmdline::boot();
    for path in cmdline.words().filter(|w| w.key == b"tmpfs").filter_map(|w| w.value) {
        if let Err(e) = vfs.mount_tmpfs(path, size) {
            crate::notice!(
                "kvmos: cannot mount a tmpfs on {}: {}",
                core::str::from_utf8(path).unwrap_or("?"),
                e.description()
            );
            super::exit(127)
        }
    }
    // Host directories (`bind=` words), in order: a later one may be
    // mounted inside an earlier one.
    for bind in crate::host::fs::binds(&cmdline) {
        let b = match bind {
            Ok(b) => b,
            Err(e) => {
                crate::notice!("kvmos: bad bind= word: {}", core::str::from_utf8(e.value).unwrap_or("?"));
                super::exit(127)
            }
        };
        if let Err(e) = vfs.mount_host(b.guest_path, b.id, b.writable) {
            crate::notice!(
                "kvmos: cannot mount host directory {} on {}: {}",
                b.id,
                core::str::from_utf8(b.guest_path).unwrap_or("?"),
                e.description()
            );
            super::exit(127)
        }
    }
    let block = phys_bytes(info.args_addr, info.args_size.min(crate::host::layout::ARGS_MAX));
    let own: Vec<u8>;
    let args = if block.is_empty() {
        own = [init, b"\0"].concat();
        ArgsBlock {
            strings: &own,
            argc: 1,
            envc: 0,
        }
    } else {
        match parse_args_block(block) {
            Ok(a) => a,
            Err(why) => {
                crate::notice!("kvmos: bad args block: {why}");
                super::exit(127)
            }
        }
    };
    let cwd_node = match vfs.lookup(ROOT, cwd, true) {
        Ok(n) if vfs.node(n).is_dir() => n,
        _ => {
            crate::notice!(
                "kvmos: cannot use {} as the working directory: not a directory in the file system",
                core::str::from_utf8(cwd).unwrap_or("?")
            );
            super::exit(127)
        }
    };
    let image = match exec::load(&mut vfs, cwd_node, cwd_node, init, args.strings, args.argc, args.envc) {
        Ok(i) => i,
        Err(e @ (ExecError::Elf(_) | ExecError::Loader(..))) => {
            crate::notice!("kvmos: {name}: {e}");
            super::exit(e.exit_status())
        }
        Err(e) => {
            crate::notice!("kvmos: cannot run {name}: {e}");
            super::exit(e.exit_status())
        }
    };
    let console = vfs.lookup(ROOT, b"/dev/console", true).unwrap_or(ROOT);
    let mut fds = FdTable::new();
    // Like the pipes a program usually gets: stdin read-only, stdout and
    // stderr write-only (`write(0, ..)` is EBADF, as with a pipe).
    crate::dev::tty::init(info);
    for (fd, out, mode) in [(0, 1, O_RDONLY), (1, 1, O_WRONLY), (2, 2, O_WRONLY)] {
        let tty = crate::dev::tty::host_fd_is_terminal(fd as u32);
        fds.install(
            fd,
            Fd {
                file: OpenFile::new(FileKind::Console { out, tty }, console, mode),
                cloexec: false,
            },
        );
    }
    let (entry, sp) = (image.entry, image.sp);
    let space = image.mm.space.clone();
    let comm = Process::comm_of(init);
    *SYSTEM.lock() = Some(System {
        vfs,
        proc: Box::new(Process {
            pid: 1,
            tid: 1,
            holds: true,
            ppid: 0,
            pgid: 1,
            mm: image.mm,
            fds,
            cwd: cwd_node,
            exe: image.exe,
            fs_base: 0,
            gs_base: 0,
            umask: 0o022,
            signals: Signals::default(),
            comm,
            rlimits: DEFAULT_RLIMITS,
            clear_child_tid: 0,
            robust_list: (0, 0),
            nice: 0,
            dumpable: true,
            pdeathsig: 0,
            no_new_privs: false,
            child_subreaper: false,
            regs: crate::arch::idt::TrapFrame::default(),
            state: super::sched::State::Ready,
            vfork_parent: 0,
            restart_done: 0,
            restart_deadline: None,
            itimer: None,
            timers: Default::default(),
            cpu_itimers: [None; 2],
            sigsuspend_saved: None,
            fpu: None,
            exe_path: Vec::new(),
        }),
        others: Vec::new(),
        zombies: super::table::Zombies::new(),
        last_pid: 1,
    });
    crate::arch::user::enter(
        &space,
        crate::mm::addr::VirtAddr::new(entry),
        crate::mm::addr::VirtAddr::new(sp),
        0,
        0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_blocks() {
        let mut b = Vec::new();
        b.extend(2u32.to_le_bytes());
        b.extend(1u32.to_le_bytes());
        b.extend(b"busybox\0echo\0HOME=/\0");
        let a = parse_args_block(&b).unwrap();
        assert_eq!((a.argc, a.envc), (2, 1));
        assert_eq!(a.strings, b"busybox\0echo\0HOME=/\0");
        assert_eq!(parse_args_block(&b[..7]), Err("shorter than its header"));
        assert_eq!(
            parse_args_block(&b[..b.len() - 1]),
            Err("a string has no NUL")
        );
        let mut zero = b.clone();
        zero[0] = 0;
        assert_eq!(parse_args_block(&zero), Err("argc is 0"));
        let mut many = b.clone();
        many[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse_args_block(&many), Err("more strings than bytes"));
    }
}
