//! The torus: 40 x 25 quads, 2000 triangles, wound counter-clockwise seen
//! from outside (normal = (v1 - v0) x (v2 - v0) points out).

use crate::math::{sin_cos, vec3, Vec3, TAU};

/// Segments around the ring (the big circle).
pub const MAJOR_SEGMENTS: usize = 40;
/// Segments around the tube.
pub const MINOR_SEGMENTS: usize = 25;
pub const VERTICES: usize = MAJOR_SEGMENTS * MINOR_SEGMENTS;
pub const TRIANGLES: usize = 2 * VERTICES;

/// Ring radius (centre to tube centre) and tube radius.
pub const MAJOR_RADIUS: f32 = 1.0;
pub const MINOR_RADIUS: f32 = 0.42;
/// No point of the torus is farther than this from its centre.
pub const BOUNDING_RADIUS: f32 = MAJOR_RADIUS + MINOR_RADIUS;

/// Vertices, triangles and flat face normals. About 47 KiB: build it in
/// place (all-zero bytes are a valid, empty mesh).
#[derive(Clone)]
pub struct TorusMesh {
    pub vertices: [Vec3; VERTICES],
    pub triangles: [[u16; 3]; TRIANGLES],
    pub normals: [Vec3; TRIANGLES],
}

impl TorusMesh {
    /// The torus around the z axis, centred at the origin.
    pub fn build(&mut self) {
        let index = |i: usize, j: usize| ((i % MAJOR_SEGMENTS) * MINOR_SEGMENTS + j % MINOR_SEGMENTS) as u16;
        for i in 0..MAJOR_SEGMENTS {
            let (su, cu) = sin_cos(TAU * i as f32 / MAJOR_SEGMENTS as f32);
            for j in 0..MINOR_SEGMENTS {
                let (sv, cv) = sin_cos(TAU * j as f32 / MINOR_SEGMENTS as f32);
                let ring = MAJOR_RADIUS + MINOR_RADIUS * cv;
                self.vertices[index(i, j) as usize] = vec3(ring * cu, ring * su, MINOR_RADIUS * sv);
            }
        }
        for i in 0..MAJOR_SEGMENTS {
            for j in 0..MINOR_SEGMENTS {
                // a -> b along the ring, a -> d around the tube: (b - a) x (d - a) points out.
                let (a, b, c, d) = (index(i, j), index(i + 1, j), index(i + 1, j + 1), index(i, j + 1));
                let t = 2 * (i * MINOR_SEGMENTS + j);
                self.triangles[t] = [a, b, c];
                self.triangles[t + 1] = [a, c, d];
            }
        }
        for t in 0..TRIANGLES {
            let [a, b, c] = self.triangles[t].map(|k| self.vertices[k as usize]);
            self.normals[t] = (b - a).cross(c - a).normalize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;

    pub fn mesh() -> Box<TorusMesh> {
        // SAFETY: all-zero bytes are a valid TorusMesh.
        let mut m: Box<TorusMesh> = unsafe { Box::new_zeroed().assume_init() };
        m.build();
        m
    }

    #[test]
    fn closed_and_outward() {
        let m = mesh();
        assert_eq!(TRIANGLES, 2000);
        // Every vertex on the torus surface.
        for v in &m.vertices {
            let ring = crate::math::sqrt(v.x * v.x + v.y * v.y) - MAJOR_RADIUS;
            assert!((ring * ring + v.z * v.z - MINOR_RADIUS * MINOR_RADIUS).abs() < 1e-5);
        }
        // Normals point away from the tube's centre line.
        for (t, n) in m.triangles.iter().zip(&m.normals) {
            let c = (m.vertices[t[0] as usize] + m.vertices[t[1] as usize] + m.vertices[t[2] as usize]) * (1.0 / 3.0);
            let axis = vec3(c.x, c.y, 0.0).normalize() * MAJOR_RADIUS;
            assert!(n.dot(c - axis) > 0.0, "inward face {t:?}");
            assert!((n.length() - 1.0).abs() < 1e-5);
        }
        // Closed: every directed edge appears once, and its reverse once.
        let mut edges = std::collections::HashMap::new();
        for t in m.triangles.iter() {
            for k in 0..3 {
                *edges.entry((t[k], t[(k + 1) % 3])).or_insert(0) += 1;
            }
        }
        assert_eq!(edges.len(), 3 * TRIANGLES);
        for (&(a, b), &n) in &edges {
            assert_eq!(n, 1);
            assert_eq!(edges.get(&(b, a)), Some(&1), "open edge {a}-{b}");
        }
    }
}
