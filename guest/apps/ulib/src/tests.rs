//! Host tests: the numbers against Linux's own headers (compiled with
//! `cc`; the fbdev and evdev structs are checked in the uapi crate), the
//! input decoder, and the system calls on the host kernel.

use crate::fb::{self, FbFixScreeninfo, FbVarScreeninfo};
use crate::input::{self, Decoder, Input, InputEvent};
use crate::sys::{self, Errno};
use core::mem::size_of;
use std::collections::HashMap;
use std::process::Command;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

const C_PROGRAM: &str = r#"
#include <stdio.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <time.h>
#define P(name, v) printf("%s %lld\n", name, (long long)(v))
#define C(n) P(#n, n)
int main(void) {
    C(SYS_read); C(SYS_write); C(SYS_open); C(SYS_close); C(SYS_mmap); C(SYS_munmap);
    C(SYS_ioctl); C(SYS_clock_gettime); C(SYS_exit_group);
    C(O_RDONLY); C(O_RDWR); C(O_NONBLOCK); C(O_CLOEXEC); C(PROT_READ); C(PROT_WRITE);
    C(MAP_SHARED); C(MAP_PRIVATE); C(MAP_ANONYMOUS); C(CLOCK_MONOTONIC);
    return 0;
}
"#;

/// What the header check needs, for the panic messages.
const NEEDS: &str = "the layouts and numbers are checked against Linux's headers: install the Debian packages gcc, \
                     libc6-dev (<stdio.h>, <sys/syscall.h>, ...) and linux-libc-dev (<linux/fb.h>, <linux/input.h>); \
                     scripts/setup.sh installs them";

/// name -> value as Linux's headers say; panics, naming the Debian
/// packages, without a C compiler or the headers.
fn from_headers() -> HashMap<String, i64> {
    let dir = std::env::temp_dir().join(format!("ulib-abi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (src, exe) = (dir.join("abi.c"), dir.join("abi"));
    std::fs::write(&src, C_PROGRAM).unwrap();
    let cc = Command::new("cc").arg("-o").arg(&exe).arg(&src).output().unwrap_or_else(|e| panic!("cannot run cc ({e}): {NEEDS}"));
    assert!(cc.status.success(), "cc failed: {}\n{NEEDS}", String::from_utf8_lossy(&cc.stderr));
    let out = Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn layouts_and_numbers_match_linux_headers() {
    let c = from_headers();
    // The fbdev and evdev structs and numbers (ulib's fb and input
    // re-export them) are checked once, in the uapi crate
    // (guest/uapi/tests/headers.rs); ulib's own numbers here.
    let mut ours: Vec<(&str, i64)> = Vec::new();
    let consts: &[(&str, i64)] = &[
        ("SYS_read", sys::SYS_READ as i64),
        ("SYS_write", sys::SYS_WRITE as i64),
        ("SYS_open", sys::SYS_OPEN as i64),
        ("SYS_close", sys::SYS_CLOSE as i64),
        ("SYS_mmap", sys::SYS_MMAP as i64),
        ("SYS_munmap", sys::SYS_MUNMAP as i64),
        ("SYS_ioctl", sys::SYS_IOCTL as i64),
        ("SYS_clock_gettime", sys::SYS_CLOCK_GETTIME as i64),
        ("SYS_exit_group", sys::SYS_EXIT_GROUP as i64),
        ("O_RDONLY", sys::O_RDONLY as i64),
        ("O_RDWR", sys::O_RDWR as i64),
        ("O_NONBLOCK", sys::O_NONBLOCK as i64),
        ("O_CLOEXEC", sys::O_CLOEXEC as i64),
        ("PROT_READ", sys::PROT_READ as i64),
        ("PROT_WRITE", sys::PROT_WRITE as i64),
        ("MAP_SHARED", sys::MAP_SHARED as i64),
        ("MAP_PRIVATE", sys::MAP_PRIVATE as i64),
        ("MAP_ANONYMOUS", sys::MAP_ANONYMOUS as i64),
        ("CLOCK_MONOTONIC", sys::CLOCK_MONOTONIC as i64),
    ];
    ours.extend_from_slice(consts);
    assert_eq!(ours.len(), c.len(), "the C program and the Rust list check different things");
    for (name, value) in ours {
        assert_eq!(c.get(name), Some(&value), "{name}");
    }
    assert_eq!(size_of::<FbVarScreeninfo>(), 160);
    assert_eq!(size_of::<FbFixScreeninfo>(), 80);
    assert_eq!(input::EVENT_SIZE, 24);
}

fn ev(type_: u16, code: u16, value: i32) -> InputEvent {
    InputEvent { type_, code, value, ..Default::default() }
}

fn decode(d: &mut Decoder, evs: &[InputEvent]) -> Vec<Input> {
    let mut out = Vec::new();
    for e in evs {
        d.feed(e, &mut |i| out.push(i));
    }
    out
}

#[test]
fn decoder_reports_motion_per_report_before_keys() {
    use input::*;
    let mut d = Decoder::new(640, 480);
    assert_eq!((d.x, d.y), (320, 240));
    // A diagonal move is one motion at SYN_REPORT.
    let got = decode(&mut d, &[ev(EV_ABS, ABS_X, 10), ev(EV_ABS, ABS_Y, 20), ev(EV_SYN, SYN_REPORT, 0)]);
    assert_eq!(got, vec![Input::Motion { x: 10, y: 20 }]);
    // Motion then press in one report: the motion comes first.
    let got = decode(&mut d, &[ev(EV_ABS, ABS_X, 30), ev(EV_KEY, BTN_LEFT, 1), ev(EV_SYN, SYN_REPORT, 0)]);
    assert_eq!(got, vec![Input::Motion { x: 30, y: 20 }, Input::Key { code: BTN_LEFT, value: 1 }]);
    // Clamped to the screen; relative motion accumulates; no motion, no event.
    let got = decode(&mut d, &[ev(EV_ABS, ABS_X, 5000), ev(EV_ABS, ABS_Y, -3), ev(EV_SYN, SYN_REPORT, 0)]);
    assert_eq!(got, vec![Input::Motion { x: 639, y: 0 }]);
    let got = decode(&mut d, &[ev(EV_REL, REL_X, -39), ev(EV_REL, REL_Y, 5), ev(EV_SYN, SYN_REPORT, 0), ev(EV_SYN, SYN_REPORT, 0)]);
    assert_eq!(got, vec![Input::Motion { x: 600, y: 5 }]);
    let got = decode(&mut d, &[ev(EV_ABS, ABS_X, 600), ev(EV_SYN, SYN_REPORT, 0)]);
    assert_eq!(got, vec![]);
    // Wheel, keys with repeat, unknown events ignored.
    let got = decode(&mut d, &[ev(EV_REL, REL_WHEEL, -2), ev(EV_KEY, KEY_SPACE, 2), ev(0x04, 4, 7), ev(EV_SYN, SYN_REPORT, 0)]);
    assert_eq!(got, vec![Input::Wheel(-2), Input::Key { code: KEY_SPACE, value: 2 }]);
}

#[test]
fn system_calls_on_the_host() {
    assert_eq!(sys::open("/nonexistent/ulib", sys::O_RDONLY), Err(Errno::ENOENT));
    assert_eq!(std::format!("{}", Errno::ENOENT), "No such file or directory");
    assert_eq!(std::format!("{}", Errno(4000)), "error 4000");
    let fd = sys::open("/dev/null", sys::O_RDWR).unwrap();
    assert_eq!(sys::write(fd, b"hello"), Ok(5));
    assert_eq!(sys::read(fd, &mut [0u8; 8]), Ok(0));
    // SAFETY: /dev/null has no FBIOGET_VSCREENINFO; the kernel writes nothing.
    let mut var = FbVarScreeninfo::default();
    assert_eq!(unsafe { sys::ioctl(fd, fb::FBIOGET_VSCREENINFO, &mut var as *mut _ as usize) }, Err(Errno::ENOTTY));
    sys::close(fd).unwrap();
    let t0 = crate::time::monotonic_ns();
    let t1 = crate::time::monotonic_ns();
    assert!(t0 > 0 && t1 >= t0);
    // SAFETY: u64 is valid zeroed.
    let mem = unsafe { crate::mem::alloc_zeroed::<u64>(100_000) }.unwrap();
    assert!(mem.iter().all(|&v| v == 0));
    mem[99_999] = 7;
    assert!(sys::open(&"x".repeat(300), sys::O_RDONLY).is_err());
}

#[test]
fn pixel_format_check() {
    let mut var = FbVarScreeninfo { xres: 640, yres: 480, bits_per_pixel: 32, ..Default::default() };
    var.red = fb::FbBitfield { offset: 16, length: 8, msb_right: 0 };
    var.green = fb::FbBitfield { offset: 8, length: 8, msb_right: 0 };
    var.blue = fb::FbBitfield { offset: 0, length: 8, msb_right: 0 };
    let fix = FbFixScreeninfo { line_length: 2560, ..Default::default() };
    assert!(fb::is_xrgb8888(&var, &fix));
    assert!(!fb::is_xrgb8888(&var, &FbFixScreeninfo { line_length: 2000, ..Default::default() }));
    var.red.offset = 0;
    assert!(!fb::is_xrgb8888(&var, &fix));
    assert_eq!(
        std::format!("{}", fb::FbError::Open(Errno::ENOENT)),
        "cannot open /dev/fb0: No such file or directory"
    );
}

#[test]
fn the_host_vdso_clock_gettime() {
    extern "C" {
        fn getauxval(kind: u64) -> u64;
    }
    // SAFETY: getauxval is libc's, always callable.
    let ehdr = unsafe { getauxval(crate::vdso::AT_SYSINFO_EHDR as u64) } as usize;
    assert_ne!(ehdr, 0, "the host kernel gave this process no vDSO (AT_SYSINFO_EHDR is 0; booted with vdso=0?): the lookup needs one to check");
    // SAFETY: AT_SYSINFO_EHDR is the kernel's vDSO, mapped for the process's life.
    let f = unsafe { crate::vdso::lookup(ehdr, b"__vdso_clock_gettime", b"LINUX_2.6") }.expect("__vdso_clock_gettime");
    // SAFETY: as above.
    assert_eq!(unsafe { crate::vdso::lookup(ehdr, b"__vdso_clock_gettime", b"LINUX_9.9") }, None, "other version");
    // SAFETY: as above.
    assert_eq!(unsafe { crate::vdso::lookup(ehdr, b"__vdso_nothing", b"LINUX_2.6") }, None);
    // SAFETY: f is the vDSO's __vdso_clock_gettime (Linux's signature).
    let vdso: crate::vdso::ClockGettime = unsafe { core::mem::transmute(f) };
    let mut ts = sys::Timespec::default();
    let before = sys::clock_gettime(sys::CLOCK_MONOTONIC).unwrap();
    // SAFETY: ts is a valid timespec to fill.
    assert_eq!(unsafe { vdso(sys::CLOCK_MONOTONIC as i32, &mut ts) }, 0);
    let after = sys::clock_gettime(sys::CLOCK_MONOTONIC).unwrap();
    let ns = |t: sys::Timespec| t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128;
    assert!(ns(before) <= ns(ts) && ns(ts) <= ns(after));
    // SAFETY: as above; an invalid clock is EINVAL, returned as -errno.
    assert_eq!(unsafe { vdso(-1000, &mut ts) }, -(Errno::EINVAL.0));
}
