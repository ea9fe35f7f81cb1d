//! paint: strokes on a black canvas while the left button is held (fast
//! moves are joined by thick lines; a new press starts a new stroke), C
//! cycles the brush colour, space clears, a pulsing crosshair follows the
//! pointer (drawn over the frame, never into the canvas). Q or Esc quits;
//! so does the end of input (a read of 0 bytes from the event device).
//!
//! A static Linux x86-64 program without libc: /dev/fb0 (fbdev),
//! /dev/input/event0 (evdev), CLOCK_MONOTONIC. Each frame: one memcpy of
//! the canvas into the framebuffer, then the crosshair.
#![no_std]
#![no_main]

use gfx::app::PaintApp;
use ulib::AppError;
use ulib::fb::Framebuffer;
use ulib::input::{self, Input, InputDevice, Status};

ulib::entry!(main);

fn main(_args: ulib::Args) -> i32 {
    ulib::exit_status("paint", run())
}

fn run() -> Result<(), AppError> {
    let mut fb = Framebuffer::open().map_err(AppError::Fb)?;
    let (w, h, stride) = (fb.width, fb.height, fb.stride);
    let mut input = InputDevice::open(w, h).map_err(|e| AppError::Sys("cannot open", input::PATH, e))?;
    // SAFETY: zero is a valid u32.
    let canvas = unsafe { ulib::mem::alloc_zeroed::<u32>(w * h) }.map_err(|e| AppError::Sys("cannot allocate", "the canvas", e))?;
    let mut app = PaintApp::new(canvas, w, h);
    let (x, y) = (input.decoder.x, input.decoder.y);
    app.pointer(x, y);

    let start = ulib::time::monotonic_ns();
    loop {
        let mut quit = false;
        let status = input
            .poll(|ev| match ev {
                Input::Key { code: input::KEY_Q | input::KEY_ESC, value: 1 } => quit = true,
                Input::Key { code: input::KEY_C, value: 1 } => app.cycle_color(),
                Input::Key { code: input::KEY_SPACE, value: 1 } => app.clear(),
                Input::Key { code: input::BTN_LEFT, value } => app.button(value != 0),
                Input::Motion { x, y } => app.pointer(x, y),
                _ => {}
            })
            .map_err(|e| AppError::Sys("cannot read", input::PATH, e))?;
        if quit || status == Status::End {
            return Ok(());
        }
        let t = (ulib::time::monotonic_ns().saturating_sub(start) as f64 * 1e-9) as f32;
        app.compose(fb.back_buffer(), stride, t);
        fb.present().map_err(|e| AppError::Sys("cannot present a frame on", ulib::fb::PATH, e))?;
    }
}
