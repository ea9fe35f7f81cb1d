//! Native benchmark of the guest's renderer: the very same `gfx` code the
//! `torus` program runs in kvmos's ring 3, here on the host with std,
//! rendering into a memory buffer. Prints one line of JSON:
//! `{"fps":...,"frames":...,"width":...,"height":...}`.
//!
//!     torus-bench [--frames N] [--size WxH] [--snapshot DIR] [--snapshot-frame F]
//!
//! `--snapshot DIR` also writes DIR/torus.png (frame F, default 90, of a
//! `--fixed-time` run with the default camera: what `kvmos torus
//! --fixed-time` shows as frame F, bit for bit) and DIR/paint.png (a
//! scripted drawing).

mod png;

use gfx::app::{PaintApp, TorusApp};
use gfx::raster::Frame;
use gfx::scene::Scene;
use std::process::ExitCode;
use std::time::Instant;

/// The kvmos frame period with `--fixed-time` (docs/protocol.md).
const FRAME_NS: u64 = 16_666_667;

fn scene() -> Box<Scene> {
    // SAFETY: all-zero bytes are a valid Scene (gfx::scene::Scene docs).
    let mut s: Box<Scene> = unsafe { Box::new_zeroed().assume_init() };
    s.init();
    s
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("torus-bench: {msg}\nusage: torus-bench [--frames N] [--size WxH] [--snapshot DIR] [--snapshot-frame F]");
    ExitCode::from(2)
}

/// The torus at frame `n` of a fixed-time run.
fn torus_frame(scene: &mut Scene, w: usize, h: usize, n: u64) -> Vec<u32> {
    let mut app = TorusApp::new();
    app.advance(n * FRAME_NS);
    let (mut color, mut depth) = (vec![0u32; w * h], vec![0f32; w * h]);
    app.render(scene, &mut Frame::new(&mut color, &mut depth, w, h, w));
    color
}

/// A scripted drawing: a sine wave in fast, coarse steps, a circle, a
/// zigzag of very fast strokes, then the pointer parked elsewhere.
fn paint_frame(w: usize, h: usize) -> Vec<u32> {
    let mut canvas = vec![0u32; w * h];
    let mut app = PaintApp::new(&mut canvas, w, h);
    let (wf, hf) = (w as f32, h as f32);
    // Stroke 1 (orange): a sine wave, one event every 24 pixels.
    app.pointer((0.08 * wf) as i32, (0.3 * hf) as i32);
    app.button(true);
    let mut x = 0.08 * wf;
    while x < 0.92 * wf {
        x += 24.0;
        let y = 0.3 * hf + 0.14 * hf * gfx::math::sin((x - 0.08 * wf) / wf * 12.0);
        app.pointer(x as i32, y as i32);
    }
    app.button(false);
    // Stroke 2 (blue): a circle in 40 steps.
    app.cycle_color();
    let (cx, cy, r) = (0.3 * wf, 0.68 * hf, 0.17 * hf);
    app.pointer((cx + r) as i32, cy as i32);
    app.button(true);
    for i in 1..=40 {
        let (s, c) = gfx::math::sin_cos(i as f32 / 40.0 * gfx::math::TAU);
        app.pointer((cx + r * c) as i32, (cy + r * s) as i32);
    }
    app.button(false);
    // Stroke 3 (pink): a zigzag of 5 huge jumps.
    app.cycle_color();
    app.pointer((0.55 * wf) as i32, (0.52 * hf) as i32);
    app.button(true);
    for i in 1..=5 {
        let y = if i % 2 == 1 { 0.88 } else { 0.52 };
        app.pointer(((0.55 + 0.07 * i as f32) * wf) as i32, (y * hf) as i32);
    }
    app.button(false);
    // A click (a dot) in green, then the pointer parked (no line to it).
    app.cycle_color();
    app.pointer((0.5 * wf) as i32, (0.9 * hf) as i32);
    app.button(true);
    app.button(false);
    app.pointer((0.47 * wf) as i32, (0.62 * hf) as i32);
    let mut frame = vec![0u32; w * h];
    app.compose(&mut frame, w, 0.2);
    frame
}

fn main() -> ExitCode {
    let (mut frames, mut w, mut h, mut snapshot, mut snapshot_frame) = (600u64, 640usize, 480usize, None::<String>, 90u64);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next();
        match a.as_str() {
            "--frames" => match value().and_then(|v| v.parse().ok()) {
                Some(n) if n > 0 => frames = n,
                _ => return usage("--frames needs a positive number"),
            },
            "--size" => match value().and_then(|v| {
                let (a, b) = v.split_once('x')?;
                Some((a.parse().ok()?, b.parse().ok()?))
            }) {
                Some((a, b)) if a > 0 && b > 0 && a <= 8192 && b <= 8192 => (w, h) = (a, b),
                _ => return usage("--size needs WxH, e.g. 640x480"),
            },
            "--snapshot" => match value() {
                Some(d) => snapshot = Some(d),
                None => return usage("--snapshot needs a directory"),
            },
            "--snapshot-frame" => match value().and_then(|v| v.parse().ok()) {
                Some(n) => snapshot_frame = n,
                None => return usage("--snapshot-frame needs a frame number"),
            },
            "-h" | "--help" => {
                println!("usage: torus-bench [--frames N] [--size WxH] [--snapshot DIR] [--snapshot-frame F]");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other}")),
        }
    }

    let mut scene = scene();
    if let Some(dir) = snapshot {
        let write = |name: &str, img: &[u32]| -> Result<(), String> {
            let path = std::path::Path::new(&dir).join(name);
            std::fs::write(&path, png::encode(img, w, h, w)).map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        let torus = torus_frame(&mut scene, w, h, snapshot_frame);
        if let Err(e) = write("torus.png", &torus).and_then(|_| write("paint.png", &paint_frame(w, h))) {
            eprintln!("torus-bench: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("torus-bench: wrote {dir}/torus.png (frame {snapshot_frame}, hash {:#018x}) and {dir}/paint.png", gfx::image::hash(&torus, w, h, w));
    }

    // What the guest's loop does each frame, minus the devices: advance
    // the fixed-step clock, clear, render.
    let mut app = TorusApp::new();
    let (mut color, mut depth) = (vec![0u32; w * h], vec![0f32; w * h]);
    let mut checksum = 0u64;
    let start = Instant::now();
    for _ in 0..frames {
        app.advance(FRAME_NS);
        let mut frame = Frame::new(&mut color, &mut depth, w, h, w);
        app.render(&mut scene, &mut frame);
        checksum = checksum.wrapping_add(color[(h / 2) * w + w / 2] as u64);
    }
    let secs = start.elapsed().as_secs_f64();
    std::hint::black_box(checksum);
    println!("{{\"fps\":{:.1},\"frames\":{frames},\"width\":{w},\"height\":{h}}}", frames as f64 / secs);
    ExitCode::SUCCESS
}
