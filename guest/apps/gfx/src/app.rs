//! The two demo programs' state and behaviour, apart from devices: the
//! ring-3 binaries feed them decoded input and time and hand them the
//! framebuffer; tests and torus-bench drive them directly.

use crate::draw;
use crate::math::{sin, TAU};
use crate::raster::Frame;
use crate::scene::{Camera, Scene, MAX_DISTANCE, MAX_PITCH, MIN_DISTANCE};

/// Radians of orbit per pixel dragged.
pub const ORBIT_PER_PIXEL: f32 = 0.01;
/// Distance factor per wheel step towards the user (and its inverse away).
pub const ZOOM_STEP: f32 = 0.9;

/// `torus`: a spinning torus; drag with the left button to orbit, wheel to
/// zoom, space to stop and restart the spin.
#[derive(Clone, Debug)]
pub struct TorusApp {
    pub camera: Camera,
    pub spinning: bool,
    /// Time spun so far.
    pub spin_ns: u64,
    dragging: bool,
    pointer: Option<(i32, i32)>,
}

impl Default for TorusApp {
    fn default() -> Self {
        Self::new()
    }
}

impl TorusApp {
    pub fn new() -> TorusApp {
        TorusApp { camera: Camera::default(), spinning: true, spin_ns: 0, dragging: false, pointer: None }
    }

    /// The pointer moved to (x, y); while dragging the camera follows.
    pub fn pointer(&mut self, x: i32, y: i32) {
        if let (true, Some((lx, ly))) = (self.dragging, self.pointer) {
            // Grab and turn: the torus's near side follows the pointer.
            self.camera.yaw -= (x - lx) as f32 * ORBIT_PER_PIXEL;
            self.camera.pitch = (self.camera.pitch + (y - ly) as f32 * ORBIT_PER_PIXEL).clamp(-MAX_PITCH, MAX_PITCH);
            if self.camera.yaw.abs() > TAU {
                self.camera.yaw %= TAU;
            }
        }
        self.pointer = Some((x, y));
    }

    /// The left button went down (true) or up.
    pub fn button(&mut self, down: bool) {
        self.dragging = down;
    }

    /// Wheel steps: positive (away from the user) zooms in.
    pub fn wheel(&mut self, steps: i32) {
        let factor = if steps > 0 { ZOOM_STEP } else { 1.0 / ZOOM_STEP };
        for _ in 0..steps.unsigned_abs().min(64) {
            self.camera.distance *= factor;
        }
        self.camera.distance = self.camera.distance.clamp(MIN_DISTANCE, MAX_DISTANCE);
    }

    pub fn toggle_spin(&mut self) {
        self.spinning = !self.spinning;
    }

    /// `dt_ns` of wall (or fixed-step) time passed.
    pub fn advance(&mut self, dt_ns: u64) {
        if self.spinning {
            self.spin_ns += dt_ns;
        }
    }

    /// The spin angle's time, in seconds.
    pub fn spin_seconds(&self) -> f32 {
        (self.spin_ns as f64 * 1e-9) as f32
    }

    /// Clears `frame` to black and draws the torus.
    pub fn render(&self, scene: &mut Scene, frame: &mut Frame<'_>) {
        frame.clear(0);
        scene.render(frame, self.spin_seconds(), &self.camera);
    }
}

/// Brush colours, cycled by `C`; the first is the torus's warm orange.
pub const PALETTE: [u32; 6] = [0xff9236, 0x37c8ff, 0xff3f86, 0x9ee35a, 0xffe04a, 0xffffff];
pub const BRUSH_RADIUS: i32 = 4;
/// Crosshair pulses a second.
pub const PULSE_HZ: f32 = 1.25;

/// `paint`: strokes on a black canvas while the left button is held.
pub struct PaintApp<'a> {
    /// `width * height` pixels (stride = width).
    pub canvas: &'a mut [u32],
    pub width: usize,
    pub height: usize,
    pub color: usize,
    pub x: i32,
    pub y: i32,
    down: bool,
}

impl<'a> PaintApp<'a> {
    /// `canvas` must hold `width * height` pixels; it is cleared.
    pub fn new(canvas: &'a mut [u32], width: usize, height: usize) -> PaintApp<'a> {
        assert!(canvas.len() >= width * height);
        canvas[..width * height].fill(0);
        PaintApp { canvas, width, height, color: 0, x: width as i32 / 2, y: height as i32 / 2, down: false }
    }

    pub fn brush(&self) -> u32 {
        PALETTE[self.color % PALETTE.len()]
    }

    fn stroke(&mut self, to: (i32, i32)) {
        let rgb = self.brush();
        draw::capsule(self.canvas, self.width, self.width, self.height, (self.x, self.y), to, BRUSH_RADIUS, rgb);
    }

    /// The pointer moved: while the button is held, the stroke follows
    /// with a solid segment from the previous position.
    pub fn pointer(&mut self, x: i32, y: i32) {
        if self.down {
            self.stroke((x, y));
        }
        self.x = x;
        self.y = y;
    }

    /// The left button went down (a new stroke starts with a dot where the
    /// pointer is) or up (the stroke ends; the next one does not join it).
    pub fn button(&mut self, down: bool) {
        if down && !self.down {
            self.stroke((self.x, self.y));
        }
        self.down = down;
    }

    pub fn cycle_color(&mut self) {
        self.color = (self.color + 1) % PALETTE.len();
    }

    pub fn clear(&mut self) {
        self.canvas[..self.width * self.height].fill(0);
    }

    /// The frame at time `t` seconds: the canvas, then over it (not into
    /// it) the pulsing crosshair and a swatch of the brush colour.
    pub fn compose(&self, dst: &mut [u32], dst_stride: usize, t: f32) {
        let (w, h) = (self.width, self.height);
        draw::copy_rows(dst, dst_stride, self.canvas, w, w, h);
        // Swatch in the top-left corner, outlined.
        draw::fill_rect(dst, dst_stride, w, h, 7, 7, 25, 25, draw::grey(200));
        draw::fill_rect(dst, dst_stride, w, h, 8, 8, 24, 24, 0);
        draw::fill_rect(dst, dst_stride, w, h, 9, 9, 23, 23, self.brush());
        // Phase from t modulo the period keeps sin's argument small.
        let period = 1.0 / PULSE_HZ;
        let phase = (t % period) / period;
        let pulse = 0.5 + 0.5 * sin(TAU * phase);
        draw::crosshair(dst, dst_stride, w, h, self.x, self.y, pulse, self.brush());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn torus_controls() {
        let mut app = TorusApp::new();
        let cam0 = app.camera;
        app.pointer(100, 100);
        app.pointer(150, 120); // not dragging: no orbit
        assert_eq!(app.camera, cam0);
        app.button(true);
        app.pointer(170, 90);
        assert!((app.camera.yaw - -0.2).abs() < 1e-6 && (app.camera.pitch - -0.3).abs() < 1e-6);
        app.button(false);
        app.pointer(400, 400);
        assert!((app.camera.yaw - -0.2).abs() < 1e-6);
        for _ in 0..100 {
            app.wheel(1);
        }
        assert_eq!(app.camera.distance, MIN_DISTANCE);
        app.wheel(-1000);
        assert_eq!(app.camera.distance, MAX_DISTANCE);
        app.advance(1_000_000_000);
        app.toggle_spin();
        app.advance(5_000_000_000);
        assert_eq!(app.spin_ns, 1_000_000_000);
        app.toggle_spin();
        app.advance(500);
        assert_eq!(app.spin_ns, 1_000_000_500);
        app.button(true);
        app.pointer(400, 10_000);
        assert_eq!(app.camera.pitch, MAX_PITCH);
    }

    #[test]
    fn paint_strokes_colours_and_clear() {
        let (w, h) = (120, 80);
        let mut canvas = vec![7u32; w * h];
        let mut app = PaintApp::new(&mut canvas, w, h);
        assert!(app.canvas.iter().all(|&p| p == 0));
        app.pointer(10, 10); // moving without the button paints nothing
        assert!(app.canvas.iter().all(|&p| p == 0));
        app.button(true);
        assert_eq!(app.canvas[10 * w + 10], PALETTE[0]);
        app.pointer(100, 10); // one fast move: a solid line
        assert!((10..=100).all(|x| app.canvas[10 * w + x] == PALETTE[0]));
        app.button(false);
        app.pointer(100, 60); // released: no line down
        assert_eq!(app.canvas[35 * w + 100], 0);
        app.cycle_color();
        app.button(true); // new stroke, new colour, not joined to the old
        app.pointer(10, 60);
        app.button(false);
        assert_eq!(app.canvas[60 * w + 50], PALETTE[1]);
        assert_eq!(app.canvas[35 * w + 55], 0);
        assert_eq!(app.canvas[10 * w + 50], PALETTE[0]);
        // The crosshair is drawn over the frame, not into the canvas.
        let mut frame = vec![0u32; 130 * h];
        app.compose(&mut frame, 130, 0.2);
        assert_eq!(frame[60 * 130 + 10], PALETTE[1]); // pointer centre: brush swatch
        assert_ne!(frame[60 * 130 + 10 + 8], app.canvas[60 * w + 18]); // an arm
        assert_eq!(frame[10 * 130 + 50], PALETTE[0]);
        assert_eq!(frame[16 * 130 + 16], PALETTE[1]); // swatch
        let painted = app.canvas.iter().filter(|&&p| p != 0).count();
        app.pointer(60, 40);
        let mut frame2 = vec![0u32; 130 * h];
        app.compose(&mut frame2, 130, 0.2);
        assert_eq!(app.canvas.iter().filter(|&&p| p != 0).count(), painted);
        app.clear();
        assert!(app.canvas.iter().all(|&p| p == 0));
    }
}
