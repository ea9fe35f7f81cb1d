//! Devices: the console, the terminal (tty), the framebuffer and input
//! (`display`) and the vDSO image.

pub mod console;
pub mod display;
pub mod tty;
pub mod vdso;
