//! Software 3D and 2D for the kvmos demo programs: math without libm,
//! a torus mesh, a rasterizer (integer edge functions, top-left rule,
//! 1/z depth buffer, back-face culling), flat lighting, strokes and the
//! programs' state (`app`). Plain `core` Rust: it runs in ring 3 of kvmos
//! and, the very same code, natively in `torus-bench` and `cargo test`.
#![cfg_attr(not(test), no_std)]

pub mod app;
pub mod draw;
pub mod image;
pub mod math;
pub mod mesh;
pub mod raster;
pub mod scene;
