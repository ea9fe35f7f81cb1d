//! torus: a spinning, lit torus, rendered in software every frame.
//! Drag with the left button to orbit, the wheel zooms, space stops and
//! restarts the spin, Q or Esc quits; so does the end of input (a read of
//! 0 bytes from the event device: on kvmos, the window was closed).
//!
//! A static Linux x86-64 program without libc: /dev/fb0 (fbdev),
//! /dev/input/event0 (evdev), CLOCK_MONOTONIC. All the pixel work is here,
//! in ring 3.
#![no_std]
#![no_main]

use gfx::app::TorusApp;
use gfx::raster::Frame;
use gfx::scene::Scene;
use ulib::AppError;
use ulib::fb::Framebuffer;
use ulib::input::{self, Input, InputDevice, Status};

ulib::entry!(main);

fn main(_args: ulib::Args) -> i32 {
    ulib::exit_status("torus", run())
}

fn run() -> Result<(), AppError> {
    let mut fb = Framebuffer::open().map_err(AppError::Fb)?;
    let (w, h, stride) = (fb.width, fb.height, fb.stride);
    let mut input = InputDevice::open(w, h).map_err(|e| AppError::Sys("cannot open", input::PATH, e))?;
    // SAFETY: zero is a valid f32 and a valid (empty) Scene.
    let depth = unsafe { ulib::mem::alloc_zeroed::<f32>(w * h) }.map_err(|e| AppError::Sys("cannot allocate", "the depth buffer", e))?;
    let scene = unsafe { ulib::mem::alloc_zeroed::<Scene>(1) }.map_err(|e| AppError::Sys("cannot allocate", "the scene", e))?;
    let scene = &mut scene[0];
    scene.init();

    let mut app = TorusApp::new();
    // The pointer is where the decoder starts it (the screen's centre)
    // until it moves; a drag that starts there before any motion must
    // orbit from its first move, not from its second (evdev drops an
    // ABS_X/ABS_Y that repeats the current value, so no motion may ever
    // say "here"). paint does the same.
    app.pointer(input.decoder.x, input.decoder.y);
    let mut last = ulib::time::monotonic_ns();
    loop {
        let mut quit = false;
        let status = input
            .poll(|ev| match ev {
                Input::Key { code: input::KEY_Q | input::KEY_ESC, value: 1 } => quit = true,
                Input::Key { code: input::KEY_SPACE, value: 1 } => app.toggle_spin(),
                Input::Key { code: input::BTN_LEFT, value } => app.button(value != 0),
                Input::Motion { x, y } => app.pointer(x, y),
                Input::Wheel(steps) => app.wheel(steps),
                _ => {}
            })
            .map_err(|e| AppError::Sys("cannot read", input::PATH, e))?;
        if quit || status == Status::End {
            return Ok(());
        }
        let now = ulib::time::monotonic_ns();
        app.advance(now.saturating_sub(last));
        last = now;

        let mut frame = Frame::new(fb.back_buffer(), depth, w, h, stride);
        app.render(scene, &mut frame);
        fb.present().map_err(|e| AppError::Sys("cannot present a frame on", ulib::fb::PATH, e))?;
    }
}
