//! 2D drawing into XRGB8888 buffers with a stride: thick strokes (round
//! capsules, exact integer test), rectangles, row copies, the crosshair.

/// A stroke segment: every pixel within `radius + 0.5` of the segment
/// a-b (pixel coordinates), clipped to `width` x `height`. a == b draws a
/// disc. Consecutive segments sharing an end point join without a gap
/// (round caps).
#[allow(clippy::too_many_arguments)]
pub fn capsule(buf: &mut [u32], stride: usize, width: usize, height: usize, a: (i32, i32), b: (i32, i32), radius: i32, rgb: u32) {
    let r = radius.max(0) as i64;
    let (ax, ay, bx, by) = (a.0 as i64, a.1 as i64, b.0 as i64, b.1 as i64);
    let x0 = (ax.min(bx) - r).max(0);
    let x1 = (ax.max(bx) + r).min(width as i64 - 1);
    let y0 = (ay.min(by) - r).max(0);
    let y1 = (ay.max(by) + r).min(height as i64 - 1);
    if x0 > x1 || y0 > y1 {
        return;
    }
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    // (r + 0.5)^2 rounded down, in integers: r^2 + r.
    let rr = r * r + r;
    for y in y0..=y1 {
        let row = &mut buf[y as usize * stride..y as usize * stride + width];
        let py = y - ay;
        for x in x0..=x1 {
            let px = x - ax;
            let t = px * dx + py * dy;
            let inside = if t <= 0 {
                px * px + py * py <= rr
            } else if t >= len2 {
                let (qx, qy) = (x - bx, y - by);
                qx * qx + qy * qy <= rr
            } else {
                // Distance to the line: cross^2 / len2 <= rr (len2 > 0 here).
                let cross = px * dy - py * dx;
                cross as i128 * cross as i128 <= rr as i128 * len2 as i128
            };
            if inside {
                row[x as usize] = rgb;
            }
        }
    }
}

/// Fills [x0, x1) x [y0, y1), clipped.
#[allow(clippy::too_many_arguments)]
pub fn fill_rect(buf: &mut [u32], stride: usize, width: usize, height: usize, x0: i32, y0: i32, x1: i32, y1: i32, rgb: u32) {
    let (x0, x1) = (x0.clamp(0, width as i32) as usize, x1.clamp(0, width as i32) as usize);
    let (y0, y1) = (y0.clamp(0, height as i32) as usize, y1.clamp(0, height as i32) as usize);
    if x0 >= x1 {
        return;
    }
    for y in y0..y1 {
        buf[y * stride + x0..y * stride + x1].fill(rgb);
    }
}

/// Copies a `width` x `height` image between buffers of different strides
/// (one `memcpy` a row, or one in all when both are packed).
pub fn copy_rows(dst: &mut [u32], dst_stride: usize, src: &[u32], src_stride: usize, width: usize, height: usize) {
    if height == 0 {
        return;
    }
    if dst_stride == width && src_stride == width {
        dst[..width * height].copy_from_slice(&src[..width * height]);
    } else {
        for y in 0..height {
            dst[y * dst_stride..y * dst_stride + width].copy_from_slice(&src[y * src_stride..y * src_stride + width]);
        }
    }
}

/// Grey level `v` (0..255) as XRGB8888.
#[inline(always)]
pub fn grey(v: u32) -> u32 {
    let v = v.min(255);
    (v << 16) | (v << 8) | v
}

#[allow(clippy::too_many_arguments)]
/// The pointer: a crosshair whose arms pulse in length and brightness with
/// `pulse` (0..1), outlined in dark grey so it shows on any colour, with a
/// small square of `center_rgb` (the brush) in the middle.
pub fn crosshair(buf: &mut [u32], stride: usize, width: usize, height: usize, x: i32, y: i32, pulse: f32, center_rgb: u32) {
    let pulse = pulse.clamp(0.0, 1.0);
    let arm = 6 + (5.0 * pulse + 0.5) as i32;
    let gap = 4;
    let bright = grey((150.0 + 105.0 * pulse + 0.5) as u32);
    let dark = grey(32);
    let mut rect = |x0, y0, x1, y1, c| fill_rect(buf, stride, width, height, x0, y0, x1, y1, c);
    // Outlines, then the bright 1-pixel arms over them.
    rect(x - gap - arm - 1, y - 1, x - gap + 1, y + 2, dark);
    rect(x + gap, y - 1, x + gap + arm + 2, y + 2, dark);
    rect(x - 1, y - gap - arm - 1, x + 2, y - gap + 1, dark);
    rect(x - 1, y + gap, x + 2, y + gap + arm + 2, dark);
    rect(x - 2, y - 2, x + 3, y + 3, dark);
    rect(x - gap - arm, y, x - gap, y + 1, bright);
    rect(x + gap + 1, y, x + gap + arm + 1, y + 1, bright);
    rect(x, y - gap - arm, x + 1, y - gap, bright);
    rect(x, y + gap + 1, x + 1, y + gap + arm + 1, bright);
    rect(x - 1, y - 1, x + 2, y + 2, center_rgb);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn capsule_is_round_and_clipped() {
        let (w, h) = (40, 30);
        let mut b = vec![0u32; w * h];
        capsule(&mut b, w, w, h, (20, 15), (20, 15), 4, 9);
        // A disc of radius 4.5: 69 pixels (centre offsets with dx^2+dy^2 <= 20).
        assert_eq!(b.iter().filter(|&&p| p == 9).count(), 69);
        assert_eq!(b[15 * w + 24], 9);
        assert_eq!(b[15 * w + 25], 0);
        assert_eq!(b[11 * w + 20], 9);
        assert_eq!(b[19 * w + 23], 0);
        // Clipped at the edges, no panic.
        capsule(&mut b, w, w, h, (-10, -10), (100, 100), 3, 5);
        capsule(&mut b, w, w, h, (-100, 5), (-50, 5), 3, 6);
        assert!(b.iter().all(|&p| p != 6));
        assert_eq!(b[0], 5);
    }

    #[test]
    fn fast_stroke_has_no_gaps() {
        // A long diagonal segment is one solid band of constant width.
        let (w, h) = (200, 100);
        let mut b = vec![0u32; w * h];
        capsule(&mut b, w, w, h, (10, 10), (190, 90), 3, 1);
        for x in 15..185 {
            let col: Vec<usize> = (0..h).filter(|&y| b[y * w + x] == 1).collect();
            assert!(!col.is_empty(), "gap at column {x}");
            assert_eq!(col.len(), col[col.len() - 1] - col[0] + 1, "hole in column {x}");
            assert!((6..=10).contains(&col.len()), "width {} at column {x}", col.len());
        }
    }

    #[test]
    fn copy_rows_respects_strides() {
        let src: Vec<u32> = (0..12).collect();
        let mut dst = vec![99u32; 5 * 3];
        copy_rows(&mut dst, 5, &src, 4, 4, 3);
        assert_eq!(dst, vec![0, 1, 2, 3, 99, 4, 5, 6, 7, 99, 8, 9, 10, 11, 99]);
    }

    #[test]
    fn crosshair_pulses_and_clips() {
        let (w, h) = (64, 64);
        let draw = |pulse: f32, x: i32, y: i32| {
            let mut b = vec![0u32; w * h];
            crosshair(&mut b, w, w, h, x, y, pulse, 0xff0000);
            b
        };
        let dim = draw(0.0, 32, 32);
        let bright = draw(1.0, 32, 32);
        assert_eq!(dim[32 * w + 32], 0xff0000);
        let count = |b: &Vec<u32>| b.iter().filter(|&&p| p != 0).count();
        assert!(count(&bright) > count(&dim), "arms do not grow");
        assert!(bright[32 * w + 32 + 10] > dim[32 * w + 32 + 10]);
        let _ = draw(0.5, 0, 0);
        let _ = draw(0.5, 63, 63);
        let _ = draw(0.5, -50, 500);
    }
}
