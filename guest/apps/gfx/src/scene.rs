//! The torus scene: an orbiting camera, perspective projection, flat
//! per-face lighting (Lambert + ambient) in a warm orange on black.

use crate::math::{vec3, Mat3, Vec3};
use crate::mesh::{TorusMesh, BOUNDING_RADIUS, TRIANGLES, VERTICES};
use crate::raster::{area2, fill_triangle, Frame, ScreenVert};

/// Nothing nearer than this to the eye is ever drawn; the camera keeps the
/// whole torus beyond it, so no triangle is ever clipped against it.
pub const NEAR: f32 = 0.25;
pub const MIN_DISTANCE: f32 = 2.2;
pub const MAX_DISTANCE: f32 = 12.0;
pub const DEFAULT_DISTANCE: f32 = 3.6;
/// Pitch limit (radians), short of the poles where "up" degenerates.
pub const MAX_PITCH: f32 = 1.45;
/// Focal length as a fraction of the smaller screen side (about 58 degrees).
pub const FOCAL: f32 = 0.9;

/// Ambient light, and the base colour (linear 0..255 per channel).
pub const AMBIENT: f32 = 0.13;
pub const BASE_COLOR: Vec3 = vec3(255.0, 146.0, 54.0);
/// Direction towards the light in view space: up, left, towards the viewer.
pub const LIGHT: Vec3 = vec3(-0.4364, 0.6547, -0.6172);

const _: () = assert!(MIN_DISTANCE - BOUNDING_RADIUS > NEAR);

/// Orbits the origin: yaw about the world's y axis, pitch up and down.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    pub yaw: f32,
    pub pitch: f32,
    pub distance: f32,
}

impl Default for Camera {
    fn default() -> Self {
        Camera { yaw: 0.0, pitch: 0.0, distance: DEFAULT_DISTANCE }
    }
}

impl Camera {
    /// World to view: rows right, up, forward (view space: x right, y up,
    /// z away from the eye), and the eye's position.
    pub fn view(&self) -> (Mat3, Vec3) {
        let pitch = self.pitch.clamp(-MAX_PITCH, MAX_PITCH);
        let distance = self.distance.clamp(MIN_DISTANCE, MAX_DISTANCE);
        let (sy, cy) = crate::math::sin_cos(self.yaw);
        let (sp, cp) = crate::math::sin_cos(pitch);
        let eye = vec3(cp * sy, sp, -cp * cy) * distance;
        let forward = (-eye).normalize();
        let right = vec3(0.0, 1.0, 0.0).cross(forward).normalize();
        let up = forward.cross(right);
        (Mat3 { rows: [right, up, forward] }, eye)
    }
}

/// The torus's orientation after `t` seconds of spinning.
pub fn model_rotation(t: f32) -> Mat3 {
    Mat3::rotation_y(0.53 * t).mul(&Mat3::rotation_x(-1.05 + 0.71 * t)).mul(&Mat3::rotation_z(0.29 * t))
}

/// Packs a linear 0..255 colour as XRGB8888 (0x00RRGGBB).
#[inline(always)]
pub fn pack(c: Vec3) -> u32 {
    let ch = |v: f32| (v.clamp(0.0, 255.0) + 0.5) as u32;
    (ch(c.x) << 16) | (ch(c.y) << 8) | ch(c.z)
}

/// The mesh and the per-frame projected vertices. About 59 KiB; all-zero
/// bytes are a valid (empty) scene: call `init` before `render`.
pub struct Scene {
    pub mesh: TorusMesh,
    screen: [ScreenVert; VERTICES],
}

impl Scene {
    pub fn init(&mut self) {
        self.mesh.build();
    }

    /// Draws the torus (spun for `t` seconds) seen by `camera` over what
    /// is in `frame` (clear it first). Returns the triangles drawn (front
    /// faces).
    pub fn render(&mut self, frame: &mut Frame<'_>, t: f32, camera: &Camera) -> usize {
        let (view, eye) = camera.view();
        let vm = view.mul(&model_rotation(t));
        let offset = -view.mul_vec(eye);
        let focal = FOCAL * frame.width.min(frame.height) as f32;
        let (cx, cy) = (frame.width as f32 * 0.5, frame.height as f32 * 0.5);
        for (s, v) in self.screen.iter_mut().zip(self.mesh.vertices.iter()) {
            let p = vm.mul_vec(*v) + offset;
            // p.z >= MIN_DISTANCE - BOUNDING_RADIUS > NEAR > 0.
            let inv_z = 1.0 / p.z;
            *s = ScreenVert::from_pixels(cx + focal * p.x * inv_z, cy - focal * p.y * inv_z, inv_z);
        }
        let mut drawn = 0;
        for t in 0..TRIANGLES {
            let [a, b, c] = self.mesh.triangles[t];
            let (a, b, c) = (&self.screen[a as usize], &self.screen[b as usize], &self.screen[c as usize]);
            if area2(a, b, c) <= 0 {
                continue; // back face: skip the lighting too
            }
            let n = vm.mul_vec(self.mesh.normals[t]);
            let lambert = n.dot(LIGHT).max(0.0);
            let color = pack(BASE_COLOR * (AMBIENT + (1.0 - AMBIENT) * lambert));
            drawn += fill_triangle(frame, a, b, c, color) as usize;
        }
        drawn
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::image::hash;
    use std::boxed::Box;
    use std::vec;
    use std::vec::Vec;

    pub fn scene() -> Box<Scene> {
        // SAFETY: all-zero bytes are a valid Scene.
        let mut s: Box<Scene> = unsafe { Box::new_zeroed().assume_init() };
        s.init();
        s
    }

    pub fn render(scene: &mut Scene, w: usize, h: usize, stride: usize, t: f32, cam: &Camera) -> Vec<u32> {
        let mut color = vec![0xdead_beef; stride * h];
        let mut depth = vec![0.0; w * h];
        let mut f = Frame::new(&mut color, &mut depth, w, h, stride);
        f.clear(0);
        scene.render(&mut f, t, cam);
        color
    }

    #[test]
    fn torus_frame_lit_black_centered() {
        let mut s = scene();
        let (w, h, stride) = (640, 480, 650);
        let img = render(&mut s, w, h, stride, 1.5, &Camera::default());
        let (mut lit, mut sx, mut sy) = (0usize, 0f64, 0f64);
        let (mut x0, mut x1, mut y0, mut y1) = (w, 0, h, 0);
        for y in 0..h {
            for x in 0..w {
                let p = img[y * stride + x];
                assert_eq!(p >> 24, 0, "X byte set");
                if p != 0 {
                    lit += 1;
                    sx += x as f64;
                    sy += y as f64;
                    (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
                    // Warm: red >= green >= blue, and never black.
                    let (r, g, b) = ((p >> 16) & 255, (p >> 8) & 255, p & 255);
                    assert!(r >= g && g >= b && b > 0, "colour {p:06x} at {x},{y}");
                }
            }
            // Stride padding untouched.
            assert!(img[y * stride + w..(y + 1) * stride].iter().all(|&p| p == 0xdead_beef));
        }
        // Enough of the screen, not all of it; background pixels exactly 0.
        assert!(lit > w * h / 10 && lit < w * h / 2, "lit {lit}");
        let (mx, my) = (sx / lit as f64, sy / lit as f64);
        assert!((mx - w as f64 / 2.0).abs() < w as f64 * 0.06, "centroid x {mx}");
        assert!((my - h as f64 / 2.0).abs() < h as f64 * 0.06, "centroid y {my}");
        let (bx, by) = ((x0 + x1) as f64 / 2.0, (y0 + y1) as f64 / 2.0);
        assert!((bx - w as f64 / 2.0).abs() < w as f64 * 0.06 && (by - h as f64 / 2.0).abs() < h as f64 * 0.06, "bbox {x0}..{x1} {y0}..{y1}");
        // A range of shades: the lighting is per face.
        let mut shades: Vec<u32> = img.iter().filter(|&&p| p != 0 && p != 0xdead_beef).map(|&p| p >> 16).collect();
        shades.sort();
        shades.dedup();
        assert!(shades.len() > 60, "{} shades of red", shades.len());
        // The corners are background.
        assert_eq!(img[0], 0);
        assert_eq!(img[(h - 1) * stride + w - 1], 0);
    }

    #[test]
    fn frames_are_deterministic() {
        let mut s = scene();
        let cam = Camera { yaw: 0.4, pitch: -0.3, distance: 3.0 };
        let a = render(&mut s, 320, 240, 320, 2.0, &cam);
        let _ = render(&mut s, 320, 240, 320, 7.0, &Camera::default());
        let b = render(&mut s, 320, 240, 320, 2.0, &cam);
        assert_eq!(hash(&a, 320, 240, 320), hash(&b, 320, 240, 320));
        let c = render(&mut s, 320, 240, 320, 2.1, &cam);
        assert_ne!(hash(&a, 320, 240, 320), hash(&c, 320, 240, 320), "time does not move the torus");
        // A fresh scene renders the same bits.
        let mut s2 = scene();
        assert_eq!(a, render(&mut s2, 320, 240, 320, 2.0, &cam));
    }

    /// Frame 90 of a --fixed-time run (t = 90 * 16_666_667 ns) at 640x480
    /// with the default camera. The whole pipeline is IEEE arithmetic
    /// without FMA contraction and with our own sin/cos, so this is the
    /// same on every x86-64 machine, and in the kvmos guest. If a change
    /// to the rendering is intended, update the value.
    #[test]
    fn golden_frame_hash() {
        let mut s = scene();
        let t = (90u64 * 16_666_667) as f64 * 1e-9;
        let img = render(&mut s, 640, 480, 640, t as f32, &Camera::default());
        assert_eq!(hash(&img, 640, 480, 640), GOLDEN_HASH_F90, "got {:#018x}", hash(&img, 640, 480, 640));
    }
    pub const GOLDEN_HASH_F90: u64 = 0x94d4_de0e_cea7_3713;

    #[test]
    fn culling_changes_nothing_visible() {
        // Back faces of a closed mesh are hidden by front faces: drawing
        // them too (reversed, so they pass culling) must give the same
        // image, save a few silhouette pixels where depths tie.
        let mut s = scene();
        let (w, h) = (320, 240);
        let cam = Camera { yaw: 0.9, pitch: 0.5, distance: 2.6 };
        let culled = render(&mut s, w, h, w, 0.7, &cam);
        let mut color = vec![0; w * h];
        let mut depth = vec![0.0; w * h];
        let mut f = Frame::new(&mut color, &mut depth, w, h, w);
        f.clear(0);
        s.render(&mut f, 0.7, &cam);
        let mut back = 0;
        for t in 0..TRIANGLES {
            let [a, b, c] = s.mesh.triangles[t];
            let (a, b, c) = (s.screen[a as usize], s.screen[b as usize], s.screen[c as usize]);
            if area2(&a, &b, &c) < 0 {
                back += 1;
                fill_triangle(&mut f, &a, &c, &b, 0x00ff00);
            }
        }
        assert!(back > TRIANGLES / 3, "{back} back faces");
        let differ = color.iter().zip(&culled).filter(|(a, b)| a != b).count();
        let lit = culled.iter().filter(|&&p| p != 0).count();
        assert!(differ * 200 < lit, "{differ} of {lit} pixels differ");
        // And with the winding reversed (as if culling kept the wrong
        // side), the inside of the torus shows: most pixels change.
        let mut color2 = vec![0; w * h];
        let mut depth2 = vec![0.0; w * h];
        let mut f2 = Frame::new(&mut color2, &mut depth2, w, h, w);
        f2.clear(0);
        for t in 0..TRIANGLES {
            let [a, b, c] = s.mesh.triangles[t];
            fill_triangle(&mut f2, &s.screen[a as usize], &s.screen[c as usize], &s.screen[b as usize], 0x00ff00);
        }
        let inside = color2.iter().zip(&culled).filter(|(a, b)| (**a != 0) && (**b != 0)).count();
        assert!(inside > lit / 2);
    }

    #[test]
    fn zoom_limits_keep_the_torus_beyond_near() {
        let mut s = scene();
        for (d, pitch) in [(0.1, 0.0), (MIN_DISTANCE, 2.0), (100.0, -2.0)] {
            let cam = Camera { yaw: 1.0, pitch, distance: d };
            let img = render(&mut s, 200, 150, 200, 3.0, &cam);
            assert!(img.iter().any(|&p| p != 0));
            for v in s.screen.iter() {
                assert!(v.inv_z > 0.0 && v.inv_z < 1.0 / NEAR, "vertex at 1/z {}", v.inv_z);
            }
        }
    }
}
