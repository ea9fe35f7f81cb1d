//! fbtest: a display test pattern, the smallest guest with a screen.
//!
//! Each frame it reads the mailbox, moves a 16x16 square to the pointer
//! (its top-left pixel at the last `EV_ABS` `ABS_X`/`ABS_Y`, clamped so the
//! square stays whole; the centre of the screen before any), changes the
//! square's colour at each `KEY_C` press, writes the frame number into the
//! first 4 pixels (pixel k = byte k of the number, little-endian, as a grey
//! level) and rings the doorbell.
//!
//! Ring 0 is emulated on PVM (~0.5 us an instruction), so a frame touches
//! only what changed: the square drawn last time is cleared, the new one
//! drawn, one `rep stosd` a row.
//!
//! Exit status: 0 when the mailbox says quit; 3 if, with fixed time, the
//! mailbox time is not `frame * FRAME_PERIOD_NS`; 2 without a display.
//! Command line (for the host's tests): `ignore_quit` keeps drawing after
//! quit; `spin_on_quit` loops forever without a VM exit instead of exiting.

#![no_std]
#![no_main]

mod mailbox;

use kernel::mm::addr::PhysAddr;
use kernel::eprintln;
use kernel::host::hypercall;
use kernel::host::layout::PORT_DOORBELL;
use kernel::host::protocol::{BootInfo, BOOT_FLAG_FIXED_TIME, FRAMEBUFFER_FORMAT_XRGB8888};
use mailbox::{
    Mailbox, ABS_X, ABS_Y, EV_ABS, EV_KEY, FRAME_PERIOD_NS, KEY_C, KEY_PRESSED, MAILBOX_FLAG_QUIT,
    MAILBOX_MAGIC,
};

/// Side of the square, in pixels.
const SIZE: u32 = 16;
/// XRGB8888 as a little-endian u32: 0x00RRGGBB.
const PALETTE: [u32; 8] = [
    0x00ff_0000, // red
    0x0000_ff00, // green
    0x0000_00ff, // blue
    0x00ff_ff00, // yellow
    0x00ff_00ff, // magenta
    0x0000_ffff, // cyan
    0x00ff_ffff, // white
    0x00ff_8000, // orange
];
const BLACK: u32 = 0;

/// Exit codes.
const EXIT_NO_DISPLAY: u32 = 2;
const EXIT_BAD_TIME: u32 = 3;

struct Framebuffer {
    base: *mut u32,
    /// Pixels per row (stride / 4).
    pitch: usize,
    width: u32,
    height: u32,
}

impl Framebuffer {
    fn from_boot_info(info: &BootInfo) -> Option<Self> {
        let ok = info.framebuffer_addr != 0
            && info.mailbox_addr != 0
            && info.framebuffer_format == FRAMEBUFFER_FORMAT_XRGB8888
            && info.framebuffer_width >= SIZE
            && info.framebuffer_height >= SIZE
            && info.framebuffer_stride >= info.framebuffer_width * 4
            && info.framebuffer_stride % 4 == 0;
        ok.then(|| Self {
            base: PhysAddr::new(info.framebuffer_addr)
                .to_direct_map()
                .as_mut_ptr(),
            pitch: info.framebuffer_stride as usize / 4,
            width: info.framebuffer_width,
            height: info.framebuffer_height,
        })
    }

    /// Fills a `SIZE`x`SIZE` square whose top-left pixel is (x, y); the
    /// caller keeps it on screen.
    fn square(&self, x: u32, y: u32, colour: u32) {
        for row in y..y + SIZE {
            let at = row as usize * self.pitch + x as usize;
            // SAFETY: x + SIZE <= width and row < height, so the row lies
            // inside the framebuffer the host mapped; DF is clear (Rust ABI).
            unsafe {
                core::arch::asm!(
                    "rep stosd",
                    inout("rdi") self.base.add(at) => _,
                    inout("rcx") SIZE as usize => _,
                    in("eax") colour,
                    options(nostack, preserves_flags),
                );
            }
        }
    }

    fn put(&self, x: u32, y: u32, colour: u32) {
        // SAFETY: callers pass x < width, y < height.
        unsafe {
            core::ptr::write_volatile(self.base.add(y as usize * self.pitch + x as usize), colour)
        }
    }
}

/// A pointer coordinate clamped so that a square there stays on screen.
fn clamp(value: i32, limit: u32) -> u32 {
    (value.max(0) as u32).min(limit - SIZE)
}

#[no_mangle]
pub extern "C" fn _start(boot_info_phys: u64) -> ! {
    let info = kernel::init(boot_info_phys);
    let cmdline = kernel::host::cmdline::boot();
    let ignore_quit = cmdline.has_flag("ignore_quit");
    let spin_on_quit = cmdline.has_flag("spin_on_quit");

    let Some(fb) = Framebuffer::from_boot_info(info) else {
        eprintln!("fbtest: no display (an XRGB8888 framebuffer and a mailbox): run it as `kvmos fbtest`");
        hypercall::exit(EXIT_NO_DISPLAY)
    };
    // SAFETY: the host put the mailbox page at mailbox_addr, which the direct map covers.
    let mailbox = unsafe { Mailbox::at(PhysAddr::new(info.mailbox_addr).to_direct_map()) };
    let fixed_time = info.flags & BOOT_FLAG_FIXED_TIME != 0;

    let (mut x, mut y) = ((fb.width - SIZE) / 2, (fb.height - SIZE) / 2);
    let mut colour = 0usize;
    let mut drawn: Option<(u32, u32)> = None;
    loop {
        let magic = mailbox.magic();
        assert!(magic == MAILBOX_MAGIC, "mailbox magic {magic:#x}, not {MAILBOX_MAGIC:#x}");
        let frame = mailbox.frame();
        if mailbox.flags() & MAILBOX_FLAG_QUIT != 0 && !ignore_quit {
            if spin_on_quit {
                #[allow(clippy::empty_loop)]
                loop {}
            }
            hypercall::exit(0)
        }
        if fixed_time && mailbox.time_ns() != frame.wrapping_mul(FRAME_PERIOD_NS) {
            hypercall::exit(EXIT_BAD_TIME)
        }
        for i in 0..mailbox.event_count() {
            let e = mailbox.event(i);
            match (e.kind, e.code) {
                (EV_ABS, ABS_X) => x = clamp(e.value, fb.width),
                (EV_ABS, ABS_Y) => y = clamp(e.value, fb.height),
                (EV_KEY, KEY_C) if e.value == KEY_PRESSED => colour = (colour + 1) % PALETTE.len(),
                _ => {}
            }
        }

        if let Some((ox, oy)) = drawn {
            fb.square(ox, oy, BLACK);
        }
        fb.square(x, y, PALETTE[colour]);
        drawn = Some((x, y));
        // After the square, so the counter is never covered.
        for k in 0..4 {
            let byte = ((frame >> (8 * k)) & 0xff) as u32;
            fb.put(k, 0, byte * 0x0001_0101);
        }

        // SAFETY: the doorbell port takes 0; the host shows the frame and
        // rewrites the mailbox before this returns.
        unsafe { kernel::host::hypercall::send(PORT_DOORBELL, 0) };
    }
}
