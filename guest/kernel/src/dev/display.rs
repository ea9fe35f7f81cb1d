//! The screen for ring 3 (docs/protocol.md, "The screen"): the state
//! behind `/dev/fb0` and `/dev/input/event0`, and the frame clock.
//!
//! The host hands over a framebuffer (XRGB8888) and a mailbox page when it
//! attaches a display (BootInfo.framebufferAddr / mailboxAddr non-zero).
//! Ring 3 maps the framebuffer's own pages (`mmap` of fb0: no copy),
//! presents a frame with `ioctl(FBIOPAN_DISPLAY)`, which rings the
//! doorbell; while the vCPU is stopped there the host shows the frame and
//! rewrites the mailbox (the input since the last frame, the time, the
//! quit flag). Reads of event0 turn the mailbox's events that were not
//! read yet into `struct input_event` records, and `CLOCK_MONOTONIC` is
//! the mailbox's `timeNs`, so a fixed-time run is reproducible.
//!
//! Everything here is a few loads and stores in ring 0 (emulated at ~1 us
//! an instruction); the pixels are never touched by the kernel.

use crate::host::layout::{
    MAILBOX_EVENT_SIZE, MAILBOX_FLAG_QUIT, MAILBOX_HEADER_SIZE, MAILBOX_MAGIC, MAILBOX_MAX_EVENTS,
    PAGE_SIZE,
};
use crate::host::protocol::{BootInfo, FRAMEBUFFER_FORMAT_XRGB8888};
use crate::sync::Global;
use crate::syscall::user_ptr::Pod;
use crate::syscall::Errno;

// ------------------------------------------- <linux/fb.h>, <linux/input.h>

// The structs are declared once, for the kernel and ulib, in the `uapi`
// crate (checked there against the C headers).
pub use uapi::fb::{
    FbBitfield, FbFixScreeninfo, FbVarScreeninfo, FB_ACTIVATE_NOW, FB_TYPE_PACKED_PIXELS,
    FB_VISUAL_TRUECOLOR,
};
pub use uapi::input::{InputEvent, INPUT_EVENT_SIZE};

pub const FBIOGET_VSCREENINFO: u64 = uapi::fb::FBIOGET_VSCREENINFO as u64;
pub const FBIOPUT_VSCREENINFO: u64 = uapi::fb::FBIOPUT_VSCREENINFO as u64;
pub const FBIOGET_FSCREENINFO: u64 = uapi::fb::FBIOGET_FSCREENINFO as u64;
pub const FBIOPAN_DISPLAY: u64 = uapi::fb::FBIOPAN_DISPLAY as u64;

// SAFETY: u32s only, no padding (160 bytes, asserted in `uapi`).
unsafe impl Pod for FbVarScreeninfo {}

// SAFETY: integers only; the padding C would have is spelled out.
unsafe impl Pod for FbFixScreeninfo {}

// SAFETY: integers, no padding (24 bytes).
unsafe impl Pod for InputEvent {}

/// The `struct input_event` record for mailbox event `raw` (its 8 bytes
/// as a little-endian u64), stamped with `time_ns`: a `timeval`, then the
/// mailbox's `{u16 type, u16 code, i32 value}`.
pub const fn event_from_mailbox(raw: u64, time_ns: u64) -> InputEvent {
    InputEvent {
        tv_sec: (time_ns / 1_000_000_000) as i64,
        tv_usec: (time_ns % 1_000_000_000 / 1000) as i64,
        type_: raw as u16,
        code: (raw >> 16) as u16,
        value: (raw >> 32) as u32 as i32,
    }
}

// ------------------------------------------------------------- geometry

/// The framebuffer the host gave (BootInfo.framebuffer*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub phys: u64,
    pub width: u32,
    pub height: u32,
    /// Bytes per row.
    pub stride: u32,
}

impl Geometry {
    /// The display of `info`, if it has one this kernel can use (both the
    /// framebuffer and the mailbox, XRGB8888, rows of at least width * 4
    /// bytes, page-aligned pixels).
    pub fn of(info: &BootInfo) -> Option<Self> {
        let ok = info.framebuffer_addr != 0
            && info.mailbox_addr != 0
            && info.framebuffer_addr.is_multiple_of(PAGE_SIZE)
            && info.mailbox_addr.is_multiple_of(8)
            && info.framebuffer_format == FRAMEBUFFER_FORMAT_XRGB8888
            && info.framebuffer_width > 0
            && info.framebuffer_height > 0
            && info.framebuffer_stride as u64 >= info.framebuffer_width as u64 * 4;
        ok.then_some(Self {
            phys: info.framebuffer_addr,
            width: info.framebuffer_width,
            height: info.framebuffer_height,
            stride: info.framebuffer_stride,
        })
    }

    /// Bytes of pixels: `stride * height` (`smem_len`).
    pub const fn len(&self) -> u64 {
        self.stride as u64 * self.height as u64
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What `mmap` may map: the pixels rounded up to whole pages.
    pub const fn map_len(&self) -> u64 {
        (self.len() + PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
    }

    /// FBIOGET_VSCREENINFO: one page, no panning, XRGB8888.
    pub fn var_screeninfo(&self) -> FbVarScreeninfo {
        let bits = |offset| FbBitfield {
            offset,
            length: 8,
            msb_right: 0,
        };
        FbVarScreeninfo {
            xres: self.width,
            yres: self.height,
            xres_virtual: self.width,
            yres_virtual: self.height,
            bits_per_pixel: 32,
            red: bits(16),
            green: bits(8),
            blue: bits(0),
            activate: FB_ACTIVATE_NOW,
            height: u32::MAX,
            width: u32::MAX,
            ..FbVarScreeninfo::default()
        }
    }

    /// FBIOGET_FSCREENINFO.
    pub fn fix_screeninfo(&self) -> FbFixScreeninfo {
        let mut id = [0u8; 16];
        id[..5].copy_from_slice(b"kvmos");
        FbFixScreeninfo {
            id,
            smem_start: self.phys,
            smem_len: self.len() as u32,
            type_: FB_TYPE_PACKED_PIXELS,
            visual: FB_VISUAL_TRUECOLOR,
            line_length: self.stride,
            ..FbFixScreeninfo::default()
        }
    }

    /// FBIOPAN_DISPLAY's check (Linux's `fb_pan_display`): the visible
    /// window must lie inside the virtual screen, which is the screen.
    pub fn pan_ok(&self, var: &FbVarScreeninfo) -> bool {
        self.pan_ok_at(var.xoffset, var.yoffset)
    }

    /// `pan_ok` of a struct with these offsets.
    pub fn pan_ok_at(&self, xoffset: u32, yoffset: u32) -> bool {
        xoffset as u64 + self.width as u64 <= self.width as u64
            && yoffset as u64 + self.height as u64 <= self.height as u64
    }
}

// --------------------------------------------------------------- mailbox

/// The mailbox header, as read at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxHeader {
    pub magic: u32,
    /// Clamped to `MAILBOX_MAX_EVENTS` whatever the host wrote.
    pub event_count: u32,
    pub frame: u64,
    pub time_ns: u64,
    pub flags: u32,
}

impl MailboxHeader {
    pub const fn quit(&self) -> bool {
        self.flags & MAILBOX_FLAG_QUIT != 0
    }
}

/// The mailbox page: 8-byte words, read volatile (the host rewrites it at
/// every doorbell, behind the compiler's back).
#[derive(Debug, Clone, Copy)]
pub struct Mailbox {
    base: *const u64,
}

impl Mailbox {
    /// # Safety
    /// `base` must point at a readable, 8-byte-aligned page (the mailbox)
    /// for as long as this value is used.
    pub const unsafe fn at(base: *const u64) -> Self {
        Self { base }
    }

    /// Word `i` of the page.
    fn word(&self, i: usize) -> u64 {
        debug_assert!(i < PAGE_SIZE as usize / 8);
        // SAFETY: `at`'s contract: a readable page; i < 512.
        unsafe { core::ptr::read_volatile(self.base.add(i)) }
    }

    /// The header's `timeNs` alone.
    pub fn time_ns(&self) -> u64 {
        self.word(2)
    }

    pub fn header(&self) -> MailboxHeader {
        let (w0, w3) = (self.word(0), self.word(3));
        MailboxHeader {
            magic: w0 as u32,
            event_count: ((w0 >> 32) as u32).min(MAILBOX_MAX_EVENTS as u32),
            frame: self.word(1),
            time_ns: self.word(2),
            flags: w3 as u32,
        }
    }

    /// Event `i` (< event_count) as its raw little-endian u64.
    pub fn event(&self, i: u32) -> u64 {
        self.word((MAILBOX_HEADER_SIZE / MAILBOX_EVENT_SIZE) as usize + i as usize)
    }
}

/// What event0 has handed out of the current mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The mailbox `frame` the count is about.
    pub frame: u64,
    /// Events of that mailbox read already.
    pub consumed: u32,
}

impl Cursor {
    pub const NEW: Self = Self {
        frame: u64::MAX,
        consumed: 0,
    };

    /// The range of unread events of `h` (a new frame starts from 0).
    pub fn pending(&mut self, h: &MailboxHeader) -> core::ops::Range<u32> {
        if h.frame != self.frame {
            self.frame = h.frame;
            self.consumed = 0;
        }
        self.consumed.min(h.event_count)..h.event_count
    }
}

/// What a read of event0 gets: `count` records to copy, `Eof` (the window
/// was closed and nothing is left), or `Empty` (EAGAIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadPlan {
    Events { from: u32, count: u32 },
    Eof,
    Empty,
}

/// Plans a read of `len` bytes (at least one record: the caller checks).
/// Pending events come first, even after quit.
pub fn plan_read(cursor: &mut Cursor, h: &MailboxHeader, len: usize) -> ReadPlan {
    let r = cursor.pending(h);
    if r.is_empty() {
        return if h.quit() {
            ReadPlan::Eof
        } else {
            ReadPlan::Empty
        };
    }
    let count = (r.end - r.start).min((len / INPUT_EVENT_SIZE).min(u32::MAX as usize) as u32);
    ReadPlan::Events {
        from: r.start,
        count,
    }
}

// ----------------------------------------------------------------- state

struct State {
    geometry: Geometry,
    mailbox: Mailbox,
    cursor: Cursor,
}

// SAFETY: one CPU; the mailbox pointer is into the direct map, valid for
// good.
unsafe impl Send for State {}

static STATE: Global<Option<State>> = Global::new(None);

/// Takes the display of `info`, if any; true if there is one.
pub fn init(info: &BootInfo) -> bool {
    let Some(geometry) = Geometry::of(info) else {
        return false;
    };
    let va = crate::mm::addr::PhysAddr::new(info.mailbox_addr).to_direct_map();
    // SAFETY: the host's mailbox page, in RAM (the direct map covers all of
    // it), 8-byte aligned (checked by `Geometry::of`).
    let mailbox = unsafe { Mailbox::at(va.as_ptr::<u64>()) };
    *STATE.lock() = Some(State {
        geometry,
        mailbox,
        cursor: Cursor::NEW,
    });
    // The vDSO reads the frame clock from ring 3 (`vdso`).
    crate::dev::vdso::set_frame_clock(mailbox.time_ns());
    true
}

/// The framebuffer, if a display is attached.
pub fn geometry() -> Option<Geometry> {
    STATE.lock().as_ref().map(|s| s.geometry)
}

pub fn present() -> bool {
    STATE.lock().is_some()
}

/// The frame clock: the mailbox's `timeNs`, if a display is attached.
pub fn time_ns() -> Option<u64> {
    STATE.lock().as_ref().map(|s| s.mailbox.header().time_ns)
}

/// Rings the doorbell: the host shows the framebuffer and rewrites the
/// mailbox before this returns. Does nothing without a display.
pub fn ring_doorbell() {
    let s = STATE.lock();
    let Some(s) = s.as_ref() else {
        return;
    };
    // SAFETY: the doorbell port takes 0; the host writes only the mailbox
    // (and reads the framebuffer) meanwhile.
    unsafe { crate::host::hypercall::send(crate::host::layout::PORT_DOORBELL, 0) };
    // The new frame's time, for the vDSO's clock_gettime.
    crate::dev::vdso::set_frame_clock(s.mailbox.time_ns());
}

/// Event0 has something for a read: events, or end of file after quit.
pub fn readable() -> bool {
    let mut s = STATE.lock();
    let Some(s) = s.as_mut() else {
        return false;
    };
    let h = s.mailbox.header();
    !s.cursor.pending(&h).is_empty() || h.quit()
}

/// A read of event0 of `len` bytes: the records to write (consumed
/// already), or end of file (`Ok(None)`), or EAGAIN when there is nothing
/// (ENXIO without a display).
pub fn take_events(len: usize) -> Result<Option<alloc::vec::Vec<InputEvent>>, Errno> {
    let mut s = STATE.lock();
    let s = s.as_mut().ok_or(Errno::ENXIO)?;
    let h = s.mailbox.header();
    if h.magic != MAILBOX_MAGIC {
        return Err(Errno::EAGAIN);
    }
    match plan_read(&mut s.cursor, &h, len) {
        ReadPlan::Empty => Err(Errno::EAGAIN),
        ReadPlan::Eof => Ok(None),
        ReadPlan::Events { from, count } => Ok(Some(take(s, h.time_ns, from, count))),
    }
}

/// Records `from .. from + count` of the mailbox, consumed. Out of line:
/// the common read, with nothing to take (EAGAIN), then saves and
/// restores fewer registers (each instruction is emulated in ring 0).
#[inline(never)]
fn take(s: &mut State, time_ns: u64, from: u32, count: u32) -> alloc::vec::Vec<InputEvent> {
    let mut v = alloc::vec::Vec::with_capacity(count as usize);
    for i in from..from + count {
        v.push(event_from_mailbox(s.mailbox.event(i), time_ns));
    }
    s.cursor.consumed = from + count;
    v
}

/// Gives back the last `n` records `take_events` handed out (the copy to
/// user memory failed): they are read again next time.
pub fn unread(n: usize) {
    if let Some(s) = STATE.lock().as_mut() {
        s.cursor.consumed = s.cursor.consumed.saturating_sub(n as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(header: [u64; 4], events: &[u64]) -> Vec<u64> {
        let mut p = vec![0u64; 512];
        p[..4].copy_from_slice(&header);
        p[4..4 + events.len()].copy_from_slice(events);
        p
    }

    fn raw(kind: u16, code: u16, value: i32) -> u64 {
        kind as u64 | (code as u64) << 16 | (value as u32 as u64) << 32
    }

    #[test]
    fn input_event_records() {
        let e = event_from_mailbox(raw(3, 1, -7), 12_345_678_901);
        assert_eq!(
            e,
            InputEvent {
                tv_sec: 12,
                tv_usec: 345_678,
                type_: 3,
                code: 1,
                value: -7
            }
        );
        let mut bytes = [0u8; 24];
        // SAFETY: InputEvent is 24 bytes of integers, no padding.
        bytes.copy_from_slice(unsafe {
            core::slice::from_raw_parts(&e as *const InputEvent as *const u8, 24)
        });
        assert_eq!(&bytes[0..8], &12i64.to_le_bytes());
        assert_eq!(&bytes[8..16], &345_678i64.to_le_bytes());
        assert_eq!(&bytes[16..18], &3u16.to_le_bytes());
        assert_eq!(&bytes[18..20], &1u16.to_le_bytes());
        assert_eq!(&bytes[20..24], &(-7i32).to_le_bytes());
    }

    #[test]
    fn mailbox_header_and_events() {
        let p = page(
            [
                MAILBOX_MAGIC as u64 | 3 << 32,
                5,
                5 * 16_666_667,
                MAILBOX_FLAG_QUIT as u64,
            ],
            &[raw(3, 0, 100), raw(3, 1, 200), raw(0, 0, 0)],
        );
        // SAFETY: a live 4 KiB, 8-aligned buffer.
        let m = unsafe { Mailbox::at(p.as_ptr()) };
        let h = m.header();
        assert_eq!(
            h,
            MailboxHeader {
                magic: MAILBOX_MAGIC,
                event_count: 3,
                frame: 5,
                time_ns: 83_333_335,
                flags: 1
            }
        );
        assert!(h.quit());
        assert_eq!(m.event(1), raw(3, 1, 200));
        let big = page([MAILBOX_MAGIC as u64 | 9999 << 32, 0, 0, 0], &[]);
        // SAFETY: as above.
        let m = unsafe { Mailbox::at(big.as_ptr()) };
        assert_eq!(m.header().event_count, 508, "clamped");
    }

    #[test]
    fn reads_consume_until_the_next_frame() {
        let h = |frame, count, flags| MailboxHeader {
            magic: MAILBOX_MAGIC,
            event_count: count,
            frame,
            time_ns: 0,
            flags,
        };
        let mut c = Cursor::NEW;
        assert_eq!(plan_read(&mut c, &h(0, 0, 0), 24), ReadPlan::Empty);
        let f1 = h(1, 5, 0);
        assert_eq!(
            plan_read(&mut c, &f1, 24 * 2 + 23),
            ReadPlan::Events { from: 0, count: 2 }
        );
        c.consumed = 2;
        assert_eq!(
            plan_read(&mut c, &f1, 24 * 64),
            ReadPlan::Events { from: 2, count: 3 }
        );
        c.consumed = 5;
        assert_eq!(plan_read(&mut c, &f1, 24), ReadPlan::Empty);
        // The next frame: its events from the start.
        assert_eq!(
            plan_read(&mut c, &h(2, 1, 1), 24),
            ReadPlan::Events { from: 0, count: 1 }
        );
        c.consumed = 1;
        assert_eq!(plan_read(&mut c, &h(2, 1, 1), 24), ReadPlan::Eof);
    }

    #[test]
    fn screeninfo() {
        let g = Geometry {
            phys: 0x100_0000,
            width: 640,
            height: 480,
            stride: 2560,
        };
        let v = g.var_screeninfo();
        assert_eq!((v.xres, v.yres, v.bits_per_pixel), (640, 480, 32));
        assert_eq!((v.red.offset, v.green.offset, v.blue.offset), (16, 8, 0));
        assert_eq!(v.transp.length, 0);
        let f = g.fix_screeninfo();
        assert_eq!(&f.id[..6], b"kvmos\0");
        assert_eq!((f.smem_len, f.line_length, f.visual), (1_228_800, 2560, 2));
        assert_eq!(g.map_len(), 1_228_800);
        assert!(g.pan_ok(&v));
        assert!(!g.pan_ok(&FbVarScreeninfo { yoffset: 480, ..v }));
        assert!(!g.pan_ok(&FbVarScreeninfo { xoffset: 1, ..v }));
        let mut info = BootInfo::empty();
        assert_eq!(Geometry::of(&info), None);
        info.framebuffer_addr = 0x100_0000;
        info.framebuffer_width = 640;
        info.framebuffer_height = 480;
        info.framebuffer_stride = 2560;
        info.framebuffer_format = FRAMEBUFFER_FORMAT_XRGB8888;
        assert_eq!(Geometry::of(&info), None, "no mailbox");
        info.mailbox_addr = 0x2000;
        assert_eq!(Geometry::of(&info), Some(g));
    }
}
