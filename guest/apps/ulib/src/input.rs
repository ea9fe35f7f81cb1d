//! `/dev/input/event0`: evdev. `read` returns whole `struct input_event`
//! records (24 bytes on x86-64); the device is opened non-blocking, so an
//! empty queue is `EAGAIN`, and a read of 0 bytes means the input has ended
//! (on kvmos: the window was closed), which ends the program.
//!
//! The `Decoder` turns raw records into what the programs act on: pointer
//! positions (one per report, at `SYN_REPORT`, from `ABS_X`/`ABS_Y` in
//! framebuffer pixels or accumulated `REL_X`/`REL_Y`), keys and buttons
//! (`EV_KEY`, Linux codes), and wheel steps (`REL_WHEEL`).

use crate::sys::{self, Errno};

pub const PATH: &str = "/dev/input/event0";

// <linux/input-event-codes.h> and `struct input_event` (x86-64: `struct
// timeval` is two longs), declared once for ulib and the kernel in the
// `uapi` crate.
pub use uapi::input::{
    InputEvent, ABS_X, ABS_Y, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, EV_ABS, EV_KEY, EV_REL, EV_SYN, KEY_C, KEY_ESC, KEY_Q,
    KEY_SPACE, REL_WHEEL, REL_X, REL_Y, SYN_DROPPED, SYN_REPORT,
};

pub const EVENT_SIZE: usize = core::mem::size_of::<InputEvent>();

/// A decoded input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The pointer is at (x, y) (framebuffer pixels, inside the screen).
    Motion { x: i32, y: i32 },
    /// A key or button (`BTN_LEFT`...): value 1 press, 0 release, 2 repeat.
    Key { code: u16, value: i32 },
    /// Wheel steps: positive away from the user.
    Wheel(i32),
}

/// Raw records to `Input`s. Pointer motion is reported once per report
/// (so a diagonal move is one motion, not two), before any key or wheel
/// event that follows it.
#[derive(Clone, Copy, Debug)]
pub struct Decoder {
    pub x: i32,
    pub y: i32,
    max_x: i32,
    max_y: i32,
    moved: bool,
}

impl Decoder {
    /// For a `width` x `height` screen; the pointer starts at its centre.
    pub fn new(width: usize, height: usize) -> Decoder {
        let (w, h) = (width.max(1) as i32, height.max(1) as i32);
        Decoder { x: w / 2, y: h / 2, max_x: w - 1, max_y: h - 1, moved: false }
    }

    pub fn feed(&mut self, ev: &InputEvent, out: &mut impl FnMut(Input)) {
        match (ev.type_, ev.code) {
            (EV_SYN, SYN_REPORT) => self.finish(out),
            (EV_ABS, ABS_X) => self.move_to(ev.value, self.y),
            (EV_ABS, ABS_Y) => self.move_to(self.x, ev.value),
            (EV_REL, REL_X) => self.move_to(self.x.saturating_add(ev.value), self.y),
            (EV_REL, REL_Y) => self.move_to(self.x, self.y.saturating_add(ev.value)),
            (EV_REL, REL_WHEEL) => {
                self.finish(out);
                out(Input::Wheel(ev.value));
            }
            (EV_KEY, code) => {
                self.finish(out);
                out(Input::Key { code, value: ev.value });
            }
            _ => {}
        }
    }

    /// Reports pending motion.
    pub fn finish(&mut self, out: &mut impl FnMut(Input)) {
        if self.moved {
            self.moved = false;
            out(Input::Motion { x: self.x, y: self.y });
        }
    }

    fn move_to(&mut self, x: i32, y: i32) {
        let (x, y) = (x.clamp(0, self.max_x), y.clamp(0, self.max_y));
        if (x, y) != (self.x, self.y) {
            self.x = x;
            self.y = y;
            self.moved = true;
        }
    }
}

/// Has the input ended?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Open,
    /// `read` returned 0: no more input will come; the program should exit.
    End,
}

const BATCH: usize = 64;

/// The opened event device.
pub struct InputDevice {
    fd: i32,
    pub decoder: Decoder,
    buf: [InputEvent; BATCH],
}

impl InputDevice {
    /// Opens `/dev/input/event0` non-blocking, for a `width` x `height` screen.
    pub fn open(width: usize, height: usize) -> Result<InputDevice, Errno> {
        let fd = sys::open(PATH, sys::O_RDONLY | sys::O_NONBLOCK)?;
        Ok(InputDevice { fd, decoder: Decoder::new(width, height), buf: [InputEvent::default(); BATCH] })
    }

    /// Decodes everything queued, never blocking. One `read` per 64
    /// records: a short read means the queue was empty, so a frame with
    /// little input costs one system call.
    pub fn poll(&mut self, mut out: impl FnMut(Input)) -> Result<Status, Errno> {
        loop {
            // SAFETY: InputEvent is plain data, any bytes are valid.
            let bytes = unsafe {
                core::slice::from_raw_parts_mut(self.buf.as_mut_ptr() as *mut u8, BATCH * EVENT_SIZE)
            };
            match sys::read(self.fd, bytes) {
                Ok(0) => {
                    self.decoder.finish(&mut out);
                    return Ok(Status::End);
                }
                Ok(n) => {
                    for ev in &self.buf[..n / EVENT_SIZE] {
                        self.decoder.feed(ev, &mut out);
                    }
                    if n < BATCH * EVENT_SIZE {
                        break;
                    }
                }
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        self.decoder.finish(&mut out);
        Ok(Status::Open)
    }
}

impl Drop for InputDevice {
    fn drop(&mut self) {
        let _ = sys::close(self.fd);
    }
}
