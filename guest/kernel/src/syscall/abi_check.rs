//! The Linux structs the kernel writes to user memory, checked against
//! the C compiler's layout of the real headers: every size and field
//! offset must agree. (The fbdev and evdev structs the kernel shares
//! with ulib are checked once, in the `uapi` crate: uapi/tests/headers.rs.) Without `cc` or the headers the test fails, naming
//! the Debian packages to install.

use core::mem::{offset_of, size_of};
use std::collections::HashMap;
use std::process::Command;

/// What these checks need, for the panic messages.
const NEEDS: &str = "the struct layouts are checked against the C headers: install the Debian packages gcc, \
                     libc6-dev (<sys/stat.h>, <signal.h>, ...) and linux-libc-dev (<linux/fb.h>, <linux/input.h>); \
                     scripts/setup.sh installs them";

/// Compiles and runs a C program that prints `name value` lines; panics
/// (naming the Debian packages) when there is no C compiler or header.
fn native(body: &str) -> HashMap<String, usize> {
    let dir = std::env::temp_dir().join(format!("kvmos-abi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let src = dir.join("abi.c");
    let exe = dir.join("abi");
    let program = format!(
        "#define _GNU_SOURCE\n#include <stdio.h>\n#include <stddef.h>\n#include <sys/stat.h>\n#include <sys/statfs.h>\n\
         #include <sys/utsname.h>\n#include <sys/sysinfo.h>\n#include <sys/time.h>\n#include <sys/times.h>\n\
         #include <sys/resource.h>\n#include <sys/uio.h>\n#include <poll.h>\n#include <signal.h>\n#include <dirent.h>\n\
         #include <time.h>\n#include <linux/fb.h>\n#include <linux/input.h>\n#define O(t, f) printf(\"%s.%s %zu\\n\", #t, #f, offsetof(t, f))\n\
         #define Z(t) printf(\"%s %zu\\n\", #t, sizeof(t))\nint main(void) {{\n{body}\nreturn 0; }}\n"
    );
    std::fs::write(&src, program).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let cc = Command::new("cc")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cc ({e}): {NEEDS}"));
    assert!(
        cc.status.success(),
        "cc failed: {}\n{NEEDS}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new(&exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    assert!(out.status.success(), "{} failed: {:?}", exe.display(), out.status);
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

#[test]
fn structs_match_the_c_headers() {
    let body = r#"
        Z(struct stat); O(struct stat, st_dev); O(struct stat, st_ino); O(struct stat, st_nlink);
        O(struct stat, st_mode); O(struct stat, st_uid); O(struct stat, st_gid); O(struct stat, st_rdev);
        O(struct stat, st_size); O(struct stat, st_blksize); O(struct stat, st_blocks);
        O(struct stat, st_atim); O(struct stat, st_mtim); O(struct stat, st_ctim);
        Z(struct statx); O(struct statx, stx_mask); O(struct statx, stx_blksize); O(struct statx, stx_nlink);
        O(struct statx, stx_mode); O(struct statx, stx_ino); O(struct statx, stx_size); O(struct statx, stx_blocks);
        O(struct statx, stx_atime); O(struct statx, stx_mtime); O(struct statx, stx_rdev_major); O(struct statx, stx_dev_minor);
        Z(struct statfs); O(struct statfs, f_bsize); O(struct statfs, f_fsid); O(struct statfs, f_namelen); O(struct statfs, f_flags);
        Z(struct utsname); O(struct utsname, nodename); O(struct utsname, machine);
        Z(struct sysinfo); O(struct sysinfo, totalram); O(struct sysinfo, procs); O(struct sysinfo, totalhigh); O(struct sysinfo, mem_unit);
        Z(struct timespec); Z(struct timeval); Z(struct tms); Z(struct rusage); O(struct rusage, ru_maxrss);
        Z(struct rlimit); Z(struct iovec); Z(struct pollfd); O(struct pollfd, revents);
        Z(stack_t); O(stack_t, ss_flags); O(stack_t, ss_size);
        O(struct dirent64, d_off); O(struct dirent64, d_reclen); O(struct dirent64, d_type); O(struct dirent64, d_name);
    "#;
    let c = native(body);
    use crate::process::signal::StackT;
    use crate::process::Rlimit;
    use crate::syscall::poll::PollFd;
    use crate::syscall::read::IoVecEntry;
    use crate::syscall::stat::Statfs;
    use crate::syscall::sysinfo::Sysinfo;
    use crate::syscall::time::{Rusage, Timespec, Timeval, Tms};
    use crate::syscall::uname::Utsname;
    use crate::vfs::stat::{Stat, Statx};
    let ours: &[(&str, usize)] = &[
        ("struct stat", size_of::<Stat>()),
        ("struct stat.st_dev", offset_of!(Stat, st_dev)),
        ("struct stat.st_ino", offset_of!(Stat, st_ino)),
        ("struct stat.st_nlink", offset_of!(Stat, st_nlink)),
        ("struct stat.st_mode", offset_of!(Stat, st_mode)),
        ("struct stat.st_uid", offset_of!(Stat, st_uid)),
        ("struct stat.st_gid", offset_of!(Stat, st_gid)),
        ("struct stat.st_rdev", offset_of!(Stat, st_rdev)),
        ("struct stat.st_size", offset_of!(Stat, st_size)),
        ("struct stat.st_blksize", offset_of!(Stat, st_blksize)),
        ("struct stat.st_blocks", offset_of!(Stat, st_blocks)),
        ("struct stat.st_atim", offset_of!(Stat, st_atime)),
        ("struct stat.st_mtim", offset_of!(Stat, st_mtime)),
        ("struct stat.st_ctim", offset_of!(Stat, st_ctime)),
        ("struct statx", size_of::<Statx>()),
        ("struct statx.stx_mask", offset_of!(Statx, stx_mask)),
        ("struct statx.stx_blksize", offset_of!(Statx, stx_blksize)),
        ("struct statx.stx_nlink", offset_of!(Statx, stx_nlink)),
        ("struct statx.stx_mode", offset_of!(Statx, stx_mode)),
        ("struct statx.stx_ino", offset_of!(Statx, stx_ino)),
        ("struct statx.stx_size", offset_of!(Statx, stx_size)),
        ("struct statx.stx_blocks", offset_of!(Statx, stx_blocks)),
        ("struct statx.stx_atime", offset_of!(Statx, stx_atime)),
        ("struct statx.stx_mtime", offset_of!(Statx, stx_mtime)),
        (
            "struct statx.stx_rdev_major",
            offset_of!(Statx, stx_rdev_major),
        ),
        (
            "struct statx.stx_dev_minor",
            offset_of!(Statx, stx_dev_minor),
        ),
        ("struct statfs", size_of::<Statfs>()),
        ("struct statfs.f_bsize", offset_of!(Statfs, f_bsize)),
        ("struct statfs.f_fsid", offset_of!(Statfs, f_fsid)),
        ("struct statfs.f_namelen", offset_of!(Statfs, f_namelen)),
        ("struct statfs.f_flags", offset_of!(Statfs, f_flags)),
        ("struct utsname", size_of::<Utsname>()),
        ("struct utsname.nodename", 65),
        ("struct utsname.machine", 4 * 65),
        ("struct sysinfo", size_of::<Sysinfo>()),
        ("struct sysinfo.totalram", offset_of!(Sysinfo, totalram)),
        ("struct sysinfo.procs", offset_of!(Sysinfo, procs)),
        ("struct sysinfo.totalhigh", offset_of!(Sysinfo, totalhigh)),
        ("struct sysinfo.mem_unit", offset_of!(Sysinfo, mem_unit)),
        ("struct timespec", size_of::<Timespec>()),
        ("struct timeval", size_of::<Timeval>()),
        ("struct tms", size_of::<Tms>()),
        ("struct rusage", size_of::<Rusage>()),
        ("struct rusage.ru_maxrss", offset_of!(Rusage, rest)),
        ("struct rlimit", size_of::<Rlimit>()),
        ("struct iovec", size_of::<IoVecEntry>()),
        ("struct pollfd", size_of::<PollFd>()),
        ("struct pollfd.revents", offset_of!(PollFd, revents)),
        ("stack_t", size_of::<StackT>()),
        ("stack_t.ss_flags", offset_of!(StackT, flags)),
        ("stack_t.ss_size", offset_of!(StackT, size)),
        ("struct dirent64.d_off", 8),
        ("struct dirent64.d_reclen", 16),
        ("struct dirent64.d_type", 18),
        ("struct dirent64.d_name", crate::vfs::dirent::NAME_OFFSET),
    ];
    for (name, value) in ours {
        assert_eq!(c.get(*name), Some(value), "{name}");
    }
    assert_eq!(c.len(), ours.len(), "every C line is checked");
}
