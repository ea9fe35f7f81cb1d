//! Triangles into an XRGB8888 buffer with a depth buffer.
//!
//! Vertices are snapped to 1/16 pixel; coverage is decided by exact integer
//! edge functions at pixel centres with the top-left fill rule, so two
//! triangles sharing an edge never both draw a pixel and never leave a gap
//! between them. Counter-clockwise triangles (as seen on screen, y down:
//! clockwise on the page is positive area here) are back faces and are
//! culled. Depth is 1/z, linear in screen space: larger is nearer, 0 is
//! the cleared "infinitely far".

/// Subpixel steps a pixel (4 bits).
pub const SUBPIXEL: i32 = 16;
/// Coordinates are clamped to +-2^20 pixels before snapping, so edge
/// function products stay far inside i64.
const COORD_LIMIT: f32 = 1_048_576.0;

/// A colour buffer with stride and its depth buffer (stride = width).
pub struct Frame<'a> {
    pub color: &'a mut [u32],
    pub depth: &'a mut [f32],
    pub width: usize,
    pub height: usize,
    /// Pixels from one colour row to the next.
    pub stride: usize,
}

impl<'a> Frame<'a> {
    pub fn new(color: &'a mut [u32], depth: &'a mut [f32], width: usize, height: usize, stride: usize) -> Frame<'a> {
        assert!(stride >= width, "stride {stride} < width {width}");
        assert!(height == 0 || color.len() >= stride * (height - 1) + width, "colour buffer too small");
        assert!(depth.len() >= width * height, "depth buffer too small");
        Frame { color, depth, width, height, stride }
    }

    /// Colour to `rgb`, depth to "infinitely far".
    pub fn clear(&mut self, rgb: u32) {
        let (w, h, s) = (self.width, self.height, self.stride);
        if s == w {
            self.color[..w * h].fill(rgb);
        } else {
            for y in 0..h {
                self.color[y * s..y * s + w].fill(rgb);
            }
        }
        self.depth[..w * h].fill(0.0);
    }

    pub fn pixel(&self, x: usize, y: usize) -> u32 {
        self.color[y * self.stride + x]
    }
}

/// A projected vertex: position in 1/16 pixels, depth as 1/z.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScreenVert {
    pub x: i32,
    pub y: i32,
    pub inv_z: f32,
}

impl ScreenVert {
    /// From a position in pixels (pixel (i, j) covers [i, i+1) x [j, j+1);
    /// its centre is (i + 0.5, j + 0.5)).
    #[inline(always)]
    pub fn from_pixels(x: f32, y: f32, inv_z: f32) -> ScreenVert {
        let snap = |v: f32| {
            let v = v.clamp(-COORD_LIMIT, COORD_LIMIT) * SUBPIXEL as f32;
            // Round to nearest: `as` truncates towards zero.
            if v >= 0.0 {
                (v + 0.5) as i32
            } else {
                (v - 0.5) as i32
            }
        };
        ScreenVert { x: snap(x), y: snap(y), inv_z }
    }
}

/// Twice the signed area in subpixel units: positive for front faces.
#[inline(always)]
pub fn area2(a: &ScreenVert, b: &ScreenVert, c: &ScreenVert) -> i64 {
    (b.x as i64 - a.x as i64) * (c.y as i64 - a.y as i64) - (b.y as i64 - a.y as i64) * (c.x as i64 - a.x as i64)
}

/// An edge a->b: E(p) = (b - a) x (p - a), positive on the inside of a
/// front-facing triangle.
struct Edge {
    /// E at the first pixel centre of the row, with the fill-rule bias.
    row: i64,
    /// E step one pixel right.
    dx: i64,
    /// E step one pixel down.
    dy: i64,
}

impl Edge {
    #[inline(always)]
    fn new(a: &ScreenVert, b: &ScreenVert, px: i64, py: i64) -> Edge {
        let (ex, ey) = (b.x as i64 - a.x as i64, b.y as i64 - a.y as i64);
        // Top-left rule (y down, interior on the positive side): a left
        // edge goes up (ey < 0), a top edge is horizontal going right.
        let top_left = ey < 0 || (ey == 0 && ex > 0);
        let e = ex * (py - a.y as i64) - ey * (px - a.x as i64);
        // A pixel whose centre lies exactly on the edge belongs to the
        // triangle only on a top or left edge: w = E - 1 on other edges,
        // and the test is w >= 0.
        Edge { row: e - if top_left { 0 } else { 1 }, dx: -ey * SUBPIXEL as i64, dy: ex * SUBPIXEL as i64 }
    }
}

/// Draws a front-facing triangle with depth test (nearer = larger 1/z
/// wins; ties keep the earlier pixel). Returns false if it was culled
/// (back-facing or degenerate).
pub fn fill_triangle(frame: &mut Frame<'_>, v0: &ScreenVert, v1: &ScreenVert, v2: &ScreenVert, rgb: u32) -> bool {
    let area = area2(v0, v1, v2);
    if area <= 0 {
        return false;
    }
    if frame.width == 0 || frame.height == 0 {
        return true;
    }
    let s = SUBPIXEL as i64;
    let half = s / 2;
    // Pixels whose centres (i*16 + 8) lie in the bounding box.
    let min_x = v0.x.min(v1.x).min(v2.x) as i64;
    let max_x = v0.x.max(v1.x).max(v2.x) as i64;
    let min_y = v0.y.min(v1.y).min(v2.y) as i64;
    let max_y = v0.y.max(v1.y).max(v2.y) as i64;
    let x0 = (min_x - half + s - 1).div_euclid(s).max(0);
    let x1 = (max_x - half).div_euclid(s).min(frame.width as i64 - 1);
    let y0 = (min_y - half + s - 1).div_euclid(s).max(0);
    let y1 = (max_y - half).div_euclid(s).min(frame.height as i64 - 1);
    if x0 > x1 || y0 > y1 {
        return true;
    }
    let (px, py) = (x0 * s + half, y0 * s + half);
    let mut e0 = Edge::new(v1, v2, px, py);
    let mut e1 = Edge::new(v2, v0, px, py);
    let mut e2 = Edge::new(v0, v1, px, py);

    // 1/z as a plane over the screen (in pixels).
    let to_px = 1.0 / SUBPIXEL as f32;
    let (ax, ay) = (v0.x as f32 * to_px, v0.y as f32 * to_px);
    let (bx, by) = ((v1.x - v0.x) as f32 * to_px, (v1.y - v0.y) as f32 * to_px);
    let (cx, cy) = ((v2.x - v0.x) as f32 * to_px, (v2.y - v0.y) as f32 * to_px);
    let (dz1, dz2) = (v1.inv_z - v0.inv_z, v2.inv_z - v0.inv_z);
    let det = bx * cy - by * cx;
    let dzdx = (dz1 * cy - dz2 * by) / det;
    let dzdy = (bx * dz2 - cx * dz1) / det;
    let z_at = |x: i64, y: i64| v0.inv_z + dzdx * (x as f32 + 0.5 - ax) + dzdy * (y as f32 + 0.5 - ay);

    let (w, stride) = (frame.width, frame.stride);
    let n = (x1 - x0 + 1) as usize;
    for y in y0..=y1 {
        let (mut w0, mut w1, mut w2) = (e0.row, e1.row, e2.row);
        let mut z = z_at(x0, y);
        let c_start = y as usize * stride + x0 as usize;
        let d_start = y as usize * w + x0 as usize;
        let crow = &mut frame.color[c_start..c_start + n];
        let drow = &mut frame.depth[d_start..d_start + n];
        let mut inside = false;
        for (c, d) in crow.iter_mut().zip(drow.iter_mut()) {
            if (w0 | w1 | w2) >= 0 {
                inside = true;
                if z > *d {
                    *d = z;
                    *c = rgb;
                }
            } else if inside {
                // Convex: once out again, the rest of the row is outside.
                break;
            }
            w0 += e0.dx;
            w1 += e1.dx;
            w2 += e2.dx;
            z += dzdx;
        }
        e0.row += e0.dy;
        e1.row += e1.dy;
        e2.row += e2.dy;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    struct Buf {
        color: Vec<u32>,
        depth: Vec<f32>,
        w: usize,
        h: usize,
        stride: usize,
    }

    impl Buf {
        fn new(w: usize, h: usize, stride: usize) -> Buf {
            Buf { color: vec![0; stride * h], depth: vec![0.0; w * h], w, h, stride }
        }
        fn frame(&mut self) -> Frame<'_> {
            Frame::new(&mut self.color, &mut self.depth, self.w, self.h, self.stride)
        }
    }

    fn v(x: f32, y: f32) -> ScreenVert {
        ScreenVert::from_pixels(x, y, 1.0)
    }

    /// Draws each triangle in its own colour bit into an additive count,
    /// by drawing into fresh buffers and summing coverage.
    fn coverage(w: usize, h: usize, tris: &[[ScreenVert; 3]]) -> Vec<u32> {
        let mut count = vec![0u32; w * h];
        for t in tris {
            let mut b = Buf::new(w, h, w);
            assert!(fill_triangle(&mut b.frame(), &t[0], &t[1], &t[2], 1), "culled {t:?}");
            for (c, px) in count.iter_mut().zip(&b.color) {
                *c += px;
            }
        }
        count
    }

    #[test]
    fn covers_pixel_centres_inside() {
        // Right triangle (0,0),(8,0),(0,8): centres with x+y < 8 (x,y at .5)
        // are inside; on the hypotenuse x+y = 8 exactly (e.g. 3.5+4.5), the
        // edge goes down-left: neither top nor left, so excluded.
        let mut b = Buf::new(10, 10, 12);
        assert!(fill_triangle(&mut b.frame(), &v(0.0, 0.0), &v(8.0, 0.0), &v(0.0, 8.0), 7));
        for y in 0..10 {
            for x in 0..10 {
                let inside = (x as f32 + 0.5) + (y as f32 + 0.5) < 8.0;
                assert_eq!(b.color[y * 12 + x] == 7, inside, "pixel {x},{y}");
            }
        }
        // Stride padding untouched.
        assert!((0..10).all(|y| b.color[y * 12 + 10] == 0 && b.color[y * 12 + 11] == 0));
    }

    #[test]
    fn top_left_rule_on_pixel_centres() {
        // A 4x4 square from (2.5,2.5) to (6.5,6.5): edges pass through
        // pixel centres. Top-left rule: the top row and left column are
        // in, the bottom row and right column are out: exactly 4x4 pixels.
        let (a, b, c, d) = (v(2.5, 2.5), v(6.5, 2.5), v(6.5, 6.5), v(2.5, 6.5));
        let count = coverage(10, 10, &[[a, b, c], [a, c, d]]);
        for y in 0..10 {
            for x in 0..10 {
                let want = (2..6).contains(&x) && (2..6).contains(&y);
                assert_eq!(count[y * 10 + x], want as u32, "pixel {x},{y}");
            }
        }
    }

    #[test]
    fn shared_edges_no_gaps_no_overlap() {
        // A fan of triangles around an off-grid centre, inside a convex
        // polygon: every pixel centre inside the polygon is drawn exactly
        // once, including centres exactly on shared edges and vertices.
        let (w, h) = (64, 64);
        let center = v(31.5, 30.5); // on a pixel centre
        let mut rim = Vec::new();
        let n = 23;
        for i in 0..n {
            let a = -(i as f32) / n as f32 * core::f32::consts::TAU;
            // Rim points snapped to a coarse grid so many edges hit centres.
            let x = (32.0 + 27.0 * a.cos()).round() + if i % 3 == 0 { 0.5 } else { 0.0 };
            let y = (32.0 + 25.0 * a.sin()).round() + if i % 2 == 0 { 0.5 } else { 0.0 };
            rim.push(v(x, y));
        }
        let tris: Vec<[ScreenVert; 3]> = (0..n).map(|i| [center, rim[(i + 1) % n], rim[i]]).collect();
        // Orientation check: every fan triangle must be front-facing.
        for t in &tris {
            assert!(area2(&t[0], &t[1], &t[2]) > 0);
        }
        let count = coverage(w, h, &tris);
        assert!(count.iter().all(|&c| c <= 1), "overlap");
        // Inside test for the polygon itself (with the same fill rule: a
        // pixel centre strictly inside is covered exactly once).
        let mut inside_strict = 0;
        for y in 0..h {
            for x in 0..w {
                let p = ScreenVert { x: x as i32 * 16 + 8, y: y as i32 * 16 + 8, inv_z: 0.0 };
                let strictly = (0..n).all(|i| area2(&rim[(i + 1) % n], &rim[i], &p) > 0);
                if strictly {
                    inside_strict += 1;
                    assert_eq!(count[y * w + x], 1, "gap at {x},{y}");
                }
            }
        }
        assert!(inside_strict > 1500);
        // And a shared diagonal of a quad through many centres.
        let (a, b, c, d) = (v(1.5, 1.5), v(40.5, 3.5), v(45.5, 40.5), v(3.5, 42.5));
        let count = coverage(w, h, &[[a, b, c], [a, c, d]]);
        assert!(count.iter().all(|&c| c <= 1), "overlap on the diagonal");
        let diag_pixels = (0..h * w).filter(|&i| count[i] == 1).count();
        assert!(diag_pixels > 1000);
    }

    #[test]
    fn back_faces_and_degenerates_are_culled() {
        let mut b = Buf::new(16, 16, 16);
        let (p, q, r) = (v(1.0, 1.0), v(14.0, 2.0), v(3.0, 13.0));
        assert!(area2(&p, &q, &r) > 0);
        assert!(!fill_triangle(&mut b.frame(), &p, &r, &q, 5), "reversed winding drawn");
        assert!(b.color.iter().all(|&c| c == 0));
        assert!(!fill_triangle(&mut b.frame(), &p, &p, &q, 5));
        assert!(!fill_triangle(&mut b.frame(), &v(1.0, 1.0), &v(5.0, 5.0), &v(9.0, 9.0), 5));
        assert!(b.color.iter().all(|&c| c == 0));
        assert!(fill_triangle(&mut b.frame(), &p, &q, &r, 5));
        assert!(b.color.iter().filter(|&&c| c == 5).count() > 50);
    }

    #[test]
    fn depth_test_keeps_the_nearest() {
        let tri = |z: f32| [ScreenVert::from_pixels(2.0, 2.0, z), ScreenVert::from_pixels(30.0, 4.0, z), ScreenVert::from_pixels(5.0, 28.0, z)];
        let (near, far) = (tri(1.0 / 2.0), tri(1.0 / 5.0));
        for order in [[near, far], [far, near]] {
            let mut b = Buf::new(32, 32, 32);
            let mut f = b.frame();
            f.clear(0);
            fill_triangle(&mut f, &order[0][0], &order[0][1], &order[0][2], if order[0] == near { 0xff0000 } else { 0x0000ff });
            fill_triangle(&mut f, &order[1][0], &order[1][1], &order[1][2], if order[1] == near { 0xff0000 } else { 0x0000ff });
            assert!(b.color.iter().all(|&c| c == 0 || c == 0xff0000), "far triangle showed through");
            assert!(b.color.iter().filter(|&&c| c == 0xff0000).count() > 100);
        }
        // Interpenetrating: a tilted triangle crosses a flat one; both show.
        let mut b = Buf::new(32, 32, 32);
        let mut f = b.frame();
        let flat = [ScreenVert::from_pixels(0.0, 0.0, 0.5), ScreenVert::from_pixels(32.0, 0.0, 0.5), ScreenVert::from_pixels(0.0, 32.0, 0.5)];
        let tilt = [ScreenVert::from_pixels(0.0, 0.0, 0.2), ScreenVert::from_pixels(32.0, 0.0, 0.8), ScreenVert::from_pixels(0.0, 32.0, 0.2)];
        fill_triangle(&mut f, &flat[0], &flat[1], &flat[2], 1);
        fill_triangle(&mut f, &tilt[0], &tilt[1], &tilt[2], 2);
        // 1/z = 0.2 + 0.6 x/32 > 0.5 exactly where x > 16.
        assert_eq!(f.pixel(4, 4), 1);
        assert_eq!(f.pixel(24, 2), 2);
    }

    #[test]
    fn offscreen_and_huge_triangles_are_clipped() {
        let mut b = Buf::new(20, 10, 24);
        let mut f = b.frame();
        let big = [ScreenVert::from_pixels(-1e9, -1e9, 1.0), ScreenVert::from_pixels(1e9, -10.0, 1.0), ScreenVert::from_pixels(-10.0, 1e9, 1.0)];
        assert!(fill_triangle(&mut f, &big[0], &big[1], &big[2], 3));
        for y in 0..10 {
            for x in 0..24 {
                assert_eq!(b.color[y * 24 + x], if x < 20 { 3 } else { 0 });
            }
        }
    }
}
