//! Math without libm: `sqrt` is the SSE instruction, `sin`/`cos` reduce
//! the argument to [-pi/4, pi/4] and evaluate Taylor polynomials there (in
//! f64, so the f32 results are within 1 ulp or so). Small 3D vectors and
//! 3x3 matrices.

use core::ops::{Add, Mul, Neg, Sub};

/// Square root (`sqrtss`: correctly rounded, like `f32::sqrt`).
#[inline(always)]
pub fn sqrt(x: f32) -> f32 {
    use core::arch::x86_64::{_mm_cvtss_f32, _mm_set_ss, _mm_sqrt_ss};
    // SSE is part of the x86-64 baseline.
    #[allow(unused_unsafe)]
    unsafe {
        _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x)))
    }
}

#[inline(always)]
pub fn abs(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & 0x7fff_ffff)
}

/// Rounds to the nearest integer (halves away from zero); |x| < 2^62.
#[inline(always)]
fn round_i64(x: f64) -> i64 {
    if x >= 0.0 {
        (x + 0.5) as i64
    } else {
        (x - 0.5) as i64
    }
}

// pi/2 split in three parts (Cody-Waite): k * PIO2_1 is exact for |k| < 2^20.
const PIO2_1: f64 = 1.570_796_326_734_125_6; // first 33 bits of pi/2
const PIO2_2: f64 = 6.077_100_506_303_966e-11;
const PIO2_3: f64 = 2.022_266_248_795_950_6e-21;
const TWO_OVER_PI: f64 = core::f64::consts::FRAC_2_PI;

/// sin(r), cos(r) for |r| <= pi/4 (Taylor to x^11 / x^12: error < 1e-10).
#[inline(always)]
fn kernel(r: f64) -> (f64, f64) {
    let r2 = r * r;
    let s = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362_880.0 + r2 * (-1.0 / 39_916_800.0))))));
    let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40_320.0 + r2 * (-1.0 / 3_628_800.0 + r2 * (1.0 / 479_001_600.0))))));
    (s, c)
}

/// (sin x, cos x). Accurate for |x| up to about 1e6 (the demo's angles
/// are far smaller); NaN and infinities give NaN.
pub fn sin_cos(x: f32) -> (f32, f32) {
    if !x.is_finite() {
        return (f32::NAN, f32::NAN);
    }
    let x = x as f64;
    let k = round_i64(x * TWO_OVER_PI);
    let kf = k as f64;
    let r = ((x - kf * PIO2_1) - kf * PIO2_2) - kf * PIO2_3;
    let (s, c) = kernel(r);
    let (s, c) = match k & 3 {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    };
    (s as f32, c as f32)
}

pub fn sin(x: f32) -> f32 {
    sin_cos(x).0
}

pub fn cos(x: f32) -> f32 {
    sin_cos(x).1
}

pub const PI: f32 = core::f32::consts::PI;
pub const TAU: f32 = core::f32::consts::TAU;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Vec3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

#[inline(always)]
pub const fn vec3(x: f32, y: f32, z: f32) -> Vec3 {
    Vec3 { x, y, z }
}

impl Vec3 {
    #[inline(always)]
    pub fn dot(self, o: Vec3) -> f32 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }

    #[inline(always)]
    pub fn cross(self, o: Vec3) -> Vec3 {
        vec3(self.y * o.z - self.z * o.y, self.z * o.x - self.x * o.z, self.x * o.y - self.y * o.x)
    }

    #[inline(always)]
    pub fn length(self) -> f32 {
        sqrt(self.dot(self))
    }

    /// The unit vector along self (self if it is zero).
    #[inline(always)]
    pub fn normalize(self) -> Vec3 {
        let l = self.length();
        if l > 0.0 {
            self * (1.0 / l)
        } else {
            self
        }
    }
}

impl Add for Vec3 {
    type Output = Vec3;
    #[inline(always)]
    fn add(self, o: Vec3) -> Vec3 {
        vec3(self.x + o.x, self.y + o.y, self.z + o.z)
    }
}

impl Sub for Vec3 {
    type Output = Vec3;
    #[inline(always)]
    fn sub(self, o: Vec3) -> Vec3 {
        vec3(self.x - o.x, self.y - o.y, self.z - o.z)
    }
}

impl Mul<f32> for Vec3 {
    type Output = Vec3;
    #[inline(always)]
    fn mul(self, s: f32) -> Vec3 {
        vec3(self.x * s, self.y * s, self.z * s)
    }
}

impl Neg for Vec3 {
    type Output = Vec3;
    #[inline(always)]
    fn neg(self) -> Vec3 {
        vec3(-self.x, -self.y, -self.z)
    }
}

/// A 3x3 matrix by rows: `m * v` is (row0 . v, row1 . v, row2 . v).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mat3 {
    pub rows: [Vec3; 3],
}

impl Mat3 {
    pub const IDENTITY: Mat3 = Mat3 { rows: [vec3(1.0, 0.0, 0.0), vec3(0.0, 1.0, 0.0), vec3(0.0, 0.0, 1.0)] };

    /// Rotation by `a` radians about x (y towards z).
    pub fn rotation_x(a: f32) -> Mat3 {
        let (s, c) = sin_cos(a);
        Mat3 { rows: [vec3(1.0, 0.0, 0.0), vec3(0.0, c, -s), vec3(0.0, s, c)] }
    }

    /// Rotation by `a` radians about y (z towards x).
    pub fn rotation_y(a: f32) -> Mat3 {
        let (s, c) = sin_cos(a);
        Mat3 { rows: [vec3(c, 0.0, s), vec3(0.0, 1.0, 0.0), vec3(-s, 0.0, c)] }
    }

    /// Rotation by `a` radians about z (x towards y).
    pub fn rotation_z(a: f32) -> Mat3 {
        let (s, c) = sin_cos(a);
        Mat3 { rows: [vec3(c, -s, 0.0), vec3(s, c, 0.0), vec3(0.0, 0.0, 1.0)] }
    }

    #[inline(always)]
    pub fn mul_vec(&self, v: Vec3) -> Vec3 {
        vec3(self.rows[0].dot(v), self.rows[1].dot(v), self.rows[2].dot(v))
    }

    pub fn transpose(&self) -> Mat3 {
        let [a, b, c] = self.rows;
        Mat3 { rows: [vec3(a.x, b.x, c.x), vec3(a.y, b.y, c.y), vec3(a.z, b.z, c.z)] }
    }

    /// self * o (apply o first).
    pub fn mul(&self, o: &Mat3) -> Mat3 {
        let t = o.transpose();
        let row = |r: Vec3| vec3(r.dot(t.rows[0]), r.dot(t.rows[1]), r.dot(t.rows[2]));
        Mat3 { rows: [row(self.rows[0]), row(self.rows[1]), row(self.rows[2])] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sin_cos_match_std() {
        let mut worst = (0.0f64, 0.0f32);
        let mut x = -200.0f32;
        while x <= 200.0 {
            let (s, c) = sin_cos(x);
            let es = (s as f64 - (x as f64).sin()).abs();
            let ec = (c as f64 - (x as f64).cos()).abs();
            if es.max(ec) > worst.0 {
                worst = (es.max(ec), x);
            }
            x += 0.000_731;
        }
        // f32 results: half an ulp of 1.0 is 6e-8.
        assert!(worst.0 < 1.2e-7, "worst error {} at x = {}", worst.0, worst.1);
        for &x in &[0.0f32, PI / 2.0, PI, -PI / 2.0, 1e-20, -3.0, 1000.0, 12345.678] {
            assert!((sin(x) as f64 - (x as f64).sin()).abs() < 2e-7, "sin {x}");
            assert!((cos(x) as f64 - (x as f64).cos()).abs() < 2e-7, "cos {x}");
        }
        assert_eq!(sin(0.0), 0.0);
        assert_eq!(cos(0.0), 1.0);
        assert!(sin(f32::NAN).is_nan() && cos(f32::INFINITY).is_nan());
    }

    #[test]
    fn sqrt_is_exact() {
        for i in 0..100_000u32 {
            let x = i as f32 * 0.37 + (i as f32).powi(2) * 1e-3;
            assert_eq!(sqrt(x).to_bits(), x.sqrt().to_bits(), "sqrt {x}");
        }
        assert_eq!(sqrt(4.0), 2.0);
        assert!(sqrt(-1.0).is_nan());
        assert_eq!(abs(-2.5), 2.5);
    }

    #[test]
    fn rotations_are_rotations() {
        let m = Mat3::rotation_x(0.3).mul(&Mat3::rotation_y(-1.1)).mul(&Mat3::rotation_z(2.0));
        let p = m.mul(&m.transpose());
        for i in 0..3 {
            let want = Mat3::IDENTITY.rows[i];
            assert!((p.rows[i] - want).length() < 1e-6);
        }
        // Right-handed: x cross y = z survives.
        let (x, y, z) = (m.mul_vec(vec3(1.0, 0.0, 0.0)), m.mul_vec(vec3(0.0, 1.0, 0.0)), m.mul_vec(vec3(0.0, 0.0, 1.0)));
        assert!((x.cross(y) - z).length() < 1e-6);
        let r = Mat3::rotation_z(PI / 2.0).mul_vec(vec3(1.0, 0.0, 0.0));
        assert!((r - vec3(0.0, 1.0, 0.0)).length() < 1e-6);
    }
}
