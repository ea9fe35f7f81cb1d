//! hello: the smallest kvmos guest. Greets from ring 0, then runs a few
//! instructions in ring 3 that compute sqrt(3*3 + 4*4) with the hardware
//! `sqrtss`, print it with `write` and end with `exit_group(exit_code)`.
//!
//! Command line: `exit_code=N` (default 0) is the guest's exit status.
//! `crash=ring0-ud|ring0-pf|ring0-df|panic|ring3-pf|ring3-ud` makes it fail
//! on purpose instead, to exercise fault reporting: a #UD or a #PF in ring
//! 0, a double fault (bad kernel stack; reported from the #DF IST stack), a
//! kernel panic, a ring-3 read of a kernel address (#PF), a ring-3 `ud2`.
//! `selftest=cpl0-syscall` enters ring 3 through the syscall stub's
//! hardware-KVM (CPL 0) path, which a PVM machine otherwise never runs.
//! `selftest=fs` drives the `fs` port through `kernel::host::fs` on the
//! host directories of its `bind=` words (see [`fs_selftest`]), printing
//! one line a call, then goes on as usual.
//! `report=entry-state` prints, right after the greeting, one line on
//! stdout with the registers the host entered the kernel with (read by
//! `kernel::init` before it changes any), then goes on as usual:
//! `entry: cr0=0x80050033 cr3=0x10000 cr4=0x620 efer=0xd01 cs=0x10`:
//! the words `cr0=`, `cr3=`, `cr4=`, `efer=`, `cs=` in this order, one
//! space apart, each value lowercase hex with `0x` and no leading zeros.

#![no_std]
#![no_main]

mod user;

use kernel::mm::addr::VirtAddr;
use kernel::host::layout::PAGE_SIZE;
use kernel::mm::paging::{self, AddressSpace, KernelFrames, PageTableFlags};
use kernel::{eprintln, println};

/// Where the `.user` section appears in the user address space.
const USER_CODE_VA: u64 = 0x40_0000;
/// Initial user RSP; the page below it is the stack.
const USER_STACK_TOP: u64 = 0x7fff_ffff_f000;

#[no_mangle]
pub extern "C" fn _start(boot_info_phys: u64) -> ! {
    kernel::init(boot_info_phys);
    println!("Hello from the kvmos kernel in ring 0!");

    let cmdline = kernel::host::cmdline::boot();
    let exit_code = match cmdline.get_u64("exit_code") {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!(
                "hello: exit_code={} is not a number; using 0",
                cmdline.get_str("exit_code").unwrap_or("?")
            );
            0
        }
    };
    let user_crash = match cmdline.get_str("crash") {
        None => user::CRASH_NONE,
        Some("ring0-ud") => ring0_ud(),
        Some("ring0-pf") => ring0_page_fault(),
        Some("ring0-df") => ring0_double_fault(),
        Some("panic") => panic!("crash=panic asked for a kernel panic"),
        Some("ring3-pf") => user::CRASH_READ_KERNEL,
        Some("ring3-ud") => user::CRASH_UD,
        Some(other) => {
            eprintln!("hello: unknown crash={other}; not crashing");
            user::CRASH_NONE
        }
    };
    let via_cpl0_path = match cmdline.get_str("selftest") {
        None => false,
        Some("cpl0-syscall") => true,
        Some("fs") => {
            fs_selftest(&cmdline);
            false
        }
        Some(other) => {
            eprintln!("hello: unknown selftest={other}; ignored");
            false
        }
    };
    match cmdline.get_str("report") {
        None => {}
        Some("entry-state") => match kernel::arch::entry::get() {
            Some(state) => println!("{state}"),
            None => eprintln!("hello: report=entry-state: the entry state was not captured"),
        },
        Some(other) => eprintln!("hello: unknown report={other}; ignored"),
    }
    run_user(exit_code, user_crash, via_cpl0_path)
}

/// Maps hello's ring-3 code (the `.user` section, read-only and
/// executable) and a one-page stack into a new address space and enters
/// it. The user code ends the guest with `exit_group`.
fn run_user(exit_code: u64, crash: u64, via_cpl0_path: bool) -> ! {
    let mut space = AddressSpace::new_user_space().expect("creating the user address space");
    let (start, end, entry) = user::symbols();
    let phys = start
        .kernel_to_phys()
        .expect(".user is in the kernel image");
    space
        .map_range(
            VirtAddr::new(USER_CODE_VA),
            phys,
            end - start,
            PageTableFlags::USER,
            &mut KernelFrames,
        )
        .expect("mapping the user code");
    let stack = paging::allocate_frame().expect("out of memory for the user stack");
    let flags = PageTableFlags::USER | PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE;
    space
        .map(
            VirtAddr::new(USER_STACK_TOP - PAGE_SIZE),
            stack,
            flags,
            &mut KernelFrames,
        )
        .expect("mapping the user stack");
    let entry = VirtAddr::new(USER_CODE_VA + (entry - start));
    let stack_top = VirtAddr::new(USER_STACK_TOP);
    if via_cpl0_path {
        kernel::arch::user::enter_via_cpl0_syscall_path(&space, entry, stack_top, exit_code, crash)
    }
    kernel::arch::user::enter(&space, entry, stack_top, exit_code, crash)
}

fn ring0_ud() -> ! {
    // SAFETY: raises #UD on purpose; the kernel reports it and stops.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}

fn ring0_double_fault() -> ! {
    // SAFETY: on purpose: with RSP on an unmapped page, delivering the #UD
    // faults (#PF), delivering that #PF faults again: a #DF, which runs on
    // its own IST stack and is reported.
    unsafe { core::arch::asm!("mov rsp, 0x1000", "ud2", options(noreturn)) }
}

fn ring0_page_fault() -> ! {
    // SAFETY: reads an unmapped address on purpose (#PF, reported; the
    // kernel's lower half is empty), never returns from the fault.
    unsafe { core::arch::asm!("mov rax, qword ptr [0x1234]", "ud2", options(noreturn)) }
}

/// The `fs` port end to end, from ring 0 through the real transport: the
/// first `bind=` mount (writable) must hold `hello.txt` and a symlink
/// `escape` pointing out of it; the second (read-only) may be anything.
/// Each call prints `fs: <what> <result>`; the host test compares the
/// lines and the host directory afterwards (cli test/host-fs-guest.test.ts).
fn fs_selftest(cmdline: &kernel::host::cmdline::Cmdline) {
    use kernel::host::fs::{self, WriteAt};
    for b in fs::binds(cmdline) {
        match b {
            Ok(m) => println!(
                "fs: bind {} {} {}",
                m.id,
                if m.writable { "rw" } else { "ro" },
                core::str::from_utf8(m.guest_path).unwrap_or("?")
            ),
            Err(e) => println!("fs: bad bind word {:?}", e.value),
        }
    }
    // A frame of its own for the data the host writes: never executed.
    let frame = paging::allocate_frame().expect("out of memory for the fs buffer");
    let buf_phys = frame.as_u64();
    // SAFETY: the frame is ours, mapped in the direct map, PAGE_SIZE bytes.
    let buf = unsafe { core::slice::from_raw_parts_mut(frame.to_direct_map().as_mut_ptr::<u8>(), PAGE_SIZE as usize) };
    let show = |what: &str, r: Result<usize, kernel::syscall::Errno>| match r {
        Ok(n) => println!("fs: {what} {n}"),
        Err(e) => println!("fs: {what} {}", e.name()),
    };
    match fs::fs_lstat(0, b"") {
        Ok(st) => println!("fs: lstat root type {:o}", st.mode & 0o170000),
        Err(e) => println!("fs: lstat root {}", e.name()),
    }
    let n = fs::fs_read(0, b"hello.txt", 0, buf_phys, 64);
    show("read hello.txt", n);
    if let Ok(n) = n {
        println!("fs: hello.txt says {}", core::str::from_utf8(&buf[..n]).unwrap_or("?").trim_end());
    }
    // Through the kernel's bounce buffer (in .bss) into a stack buffer.
    let mut dst = [0u8; 32];
    let n = fs::fs_read_to(0, b"hello.txt", 6, &mut dst);
    show("read_to hello.txt at 6", n);
    if let Ok(n) = n {
        println!("fs: read_to got {}", core::str::from_utf8(&dst[..n]).unwrap_or("?").trim_end());
    }
    show("create made", fs::fs_create(0, b"made", 0o640, true, false).map(|()| 0));
    show("create made again", fs::fs_create(0, b"made", 0o640, true, false).map(|()| 0));
    show("write made", fs::fs_write(0, b"made", WriteAt::Offset(0), kernel::host::hypercall::phys_of_bytes(b"written by the guest\n"), 21));
    show("append made", fs::fs_write(0, b"made", WriteAt::Append, kernel::host::hypercall::phys_of_bytes(b"again\n"), 6));
    show("mkdir d", fs::fs_mkdir(0, b"d", 0o750).map(|()| 0));
    show("rename made", fs::fs_rename(0, b"made", b"d/moved").map(|()| 0));
    show("symlink d/link", fs::fs_symlink(0, b"d/link", b"../hello.txt").map(|()| 0));
    let n = fs::fs_readlink(0, b"d/link", buf_phys, 64);
    show("readlink d/link", n);
    if let Ok(n) = n {
        println!("fs: d/link is {}", core::str::from_utf8(&buf[..n]).unwrap_or("?"));
    }
    match fs::fs_lstat(0, b"escape") {
        Ok(st) => println!("fs: lstat escape type {:o}", st.mode & 0o170000),
        Err(e) => println!("fs: lstat escape {}", e.name()),
    }
    show("read escape/passwd", fs::fs_read(0, b"escape/passwd", 0, buf_phys, 64));
    let n = fs::fs_readdir(0, b"", 0, buf_phys, PAGE_SIZE);
    show("readdir root", n);
    if let Ok(n) = n {
        let mut names: [&[u8]; 8] = [b""; 8];
        let mut count = 0;
        for d in fs::dirents(&buf[..n]).flatten() {
            if count < names.len() {
                names[count] = d.name;
                count += 1;
            }
        }
        names[..count].sort_unstable();
        for name in &names[..count] {
            println!("fs: entry {}", core::str::from_utf8(name).unwrap_or("?"));
        }
    }
    match fs::fs_statfs(1, b"") {
        Ok(st) => println!("fs: statfs ro flag {}", st.flags & fs::FS_STATFS_RDONLY),
        Err(e) => println!("fs: statfs ro {}", e.name()),
    }
    show("unlink on ro", fs::fs_unlink(1, b"hello.txt").map(|()| 0));
    show("read ../x refused in the guest", fs::fs_read(0, b"../x", 0, buf_phys, 1));
    paging::free_frame(frame);
}
