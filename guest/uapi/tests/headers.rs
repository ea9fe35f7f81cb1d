//! Every struct size, field offset and number of this crate against
//! Linux's own headers, compiled with `cc`. The one check of these
//! declarations for both the kernel and ulib (which checked them each
//! before: kernel/src/syscall/abi_check.rs and apps/ulib/src/tests.rs).

use core::mem::{offset_of, size_of};
use std::collections::HashMap;
use std::process::Command;
use uapi::fb::{self, FbBitfield, FbFixScreeninfo, FbVarScreeninfo};
use uapi::input::{self, InputEvent};

const C_PROGRAM: &str = r#"
#include <stdio.h>
#include <stddef.h>
#include <linux/fb.h>
#include <linux/input.h>
#define P(name, v) printf("%s %lld\n", name, (long long)(v))
#define V(f) P("var." #f, offsetof(struct fb_var_screeninfo, f))
#define F(f) P("fix." #f, offsetof(struct fb_fix_screeninfo, f))
#define E(f) P("ev." #f, offsetof(struct input_event, f))
#define C(n) P(#n, n)
int main(void) {
    P("sizeof.var", sizeof(struct fb_var_screeninfo));
    P("sizeof.fix", sizeof(struct fb_fix_screeninfo));
    P("sizeof.bitfield", sizeof(struct fb_bitfield));
    P("sizeof.input_event", sizeof(struct input_event));
    V(xres); V(yres); V(xres_virtual); V(yres_virtual); V(xoffset); V(yoffset);
    V(bits_per_pixel); V(grayscale); V(red); V(green); V(blue); V(transp);
    V(nonstd); V(activate); V(height); V(width); V(accel_flags); V(pixclock);
    V(left_margin); V(right_margin); V(upper_margin); V(lower_margin);
    V(hsync_len); V(vsync_len); V(sync); V(vmode); V(rotate); V(colorspace); V(reserved);
    F(id); F(smem_start); F(smem_len); F(type); F(type_aux); F(visual); F(xpanstep);
    F(ypanstep); F(ywrapstep); F(line_length); F(mmio_start); F(mmio_len); F(accel);
    F(capabilities); F(reserved);
    E(time); E(type); E(code); E(value);
    C(FBIOGET_VSCREENINFO); C(FBIOPUT_VSCREENINFO); C(FBIOGET_FSCREENINFO); C(FBIOPAN_DISPLAY);
    C(FB_TYPE_PACKED_PIXELS); C(FB_VISUAL_TRUECOLOR); C(FB_ACTIVATE_NOW);
    C(EV_SYN); C(EV_KEY); C(EV_REL); C(EV_ABS); C(SYN_REPORT); C(SYN_DROPPED);
    C(REL_X); C(REL_Y); C(REL_WHEEL); C(ABS_X); C(ABS_Y);
    C(KEY_ESC); C(KEY_Q); C(KEY_C); C(KEY_SPACE); C(BTN_LEFT); C(BTN_RIGHT); C(BTN_MIDDLE);
    return 0;
}
"#;

/// What the check needs, for the panic messages.
const NEEDS: &str = "the layouts and numbers are checked against Linux's headers: install the Debian packages gcc, \
                     libc6-dev (<stdio.h>, <stddef.h>) and linux-libc-dev (<linux/fb.h>, <linux/input.h>); \
                     scripts/setup.sh installs them";

/// name -> value as Linux's headers say; panics, naming the Debian
/// packages, without a C compiler or the headers.
fn from_headers() -> HashMap<String, i64> {
    let dir = std::env::temp_dir().join(format!("uapi-abi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let (src, exe) = (dir.join("abi.c"), dir.join("abi"));
    std::fs::write(&src, C_PROGRAM).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let cc = Command::new("cc")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cc ({e}): {NEEDS}"));
    assert!(cc.status.success(), "cc failed: {}\n{NEEDS}", String::from_utf8_lossy(&cc.stderr));
    let out = Command::new(&exe).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    assert!(out.status.success(), "{} failed: {:?}", exe.display(), out.status);
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn layouts_and_numbers_match_linux_headers() {
    let c = from_headers();
    let mut ours: Vec<(&str, i64)> = vec![
        ("sizeof.var", size_of::<FbVarScreeninfo>() as i64),
        ("sizeof.fix", size_of::<FbFixScreeninfo>() as i64),
        ("sizeof.bitfield", size_of::<FbBitfield>() as i64),
        ("sizeof.input_event", size_of::<InputEvent>() as i64),
    ];
    macro_rules! var { ($($f:ident),*) => { $( ours.push((concat!("var.", stringify!($f)), offset_of!(FbVarScreeninfo, $f) as i64)); )* } }
    macro_rules! fix { ($($f:ident),*) => { $( ours.push((concat!("fix.", stringify!($f)), offset_of!(FbFixScreeninfo, $f) as i64)); )* } }
    var!(xres, yres, xres_virtual, yres_virtual, xoffset, yoffset, bits_per_pixel, grayscale, red, green, blue, transp,
         nonstd, activate, height, width, accel_flags, pixclock, left_margin, right_margin, upper_margin, lower_margin,
         hsync_len, vsync_len, sync, vmode, rotate, colorspace, reserved);
    fix!(id, smem_start, smem_len, type_aux, visual, xpanstep, ypanstep, ywrapstep, line_length, mmio_start, mmio_len,
         accel, capabilities, reserved);
    ours.push(("fix.type", offset_of!(FbFixScreeninfo, type_) as i64));
    ours.push(("ev.time", offset_of!(InputEvent, tv_sec) as i64));
    ours.push(("ev.type", offset_of!(InputEvent, type_) as i64));
    ours.push(("ev.code", offset_of!(InputEvent, code) as i64));
    ours.push(("ev.value", offset_of!(InputEvent, value) as i64));
    let consts: &[(&str, i64)] = &[
        ("FBIOGET_VSCREENINFO", fb::FBIOGET_VSCREENINFO as i64),
        ("FBIOPUT_VSCREENINFO", fb::FBIOPUT_VSCREENINFO as i64),
        ("FBIOGET_FSCREENINFO", fb::FBIOGET_FSCREENINFO as i64),
        ("FBIOPAN_DISPLAY", fb::FBIOPAN_DISPLAY as i64),
        ("FB_TYPE_PACKED_PIXELS", fb::FB_TYPE_PACKED_PIXELS as i64),
        ("FB_VISUAL_TRUECOLOR", fb::FB_VISUAL_TRUECOLOR as i64),
        ("FB_ACTIVATE_NOW", fb::FB_ACTIVATE_NOW as i64),
        ("EV_SYN", input::EV_SYN as i64),
        ("EV_KEY", input::EV_KEY as i64),
        ("EV_REL", input::EV_REL as i64),
        ("EV_ABS", input::EV_ABS as i64),
        ("SYN_REPORT", input::SYN_REPORT as i64),
        ("SYN_DROPPED", input::SYN_DROPPED as i64),
        ("REL_X", input::REL_X as i64),
        ("REL_Y", input::REL_Y as i64),
        ("REL_WHEEL", input::REL_WHEEL as i64),
        ("ABS_X", input::ABS_X as i64),
        ("ABS_Y", input::ABS_Y as i64),
        ("KEY_ESC", input::KEY_ESC as i64),
        ("KEY_Q", input::KEY_Q as i64),
        ("KEY_C", input::KEY_C as i64),
        ("KEY_SPACE", input::KEY_SPACE as i64),
        ("BTN_LEFT", input::BTN_LEFT as i64),
        ("BTN_RIGHT", input::BTN_RIGHT as i64),
        ("BTN_MIDDLE", input::BTN_MIDDLE as i64),
    ];
    ours.extend_from_slice(consts);
    assert_eq!(ours.len(), c.len(), "the C program and the Rust list check different things");
    for (name, value) in ours {
        assert_eq!(c.get(name), Some(&value), "{name}");
    }
    assert_eq!(size_of::<FbVarScreeninfo>(), 160);
    assert_eq!(size_of::<FbFixScreeninfo>(), 80);
    assert_eq!(size_of::<InputEvent>(), input::INPUT_EVENT_SIZE);
}
