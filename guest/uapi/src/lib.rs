//! The Linux UAPI that the kvmos kernel and ring-3 programs (`ulib`) both
//! speak: the structs and numbers of `<linux/fb.h>` and `<linux/input.h>`,
//! declared once for both workspaces (the kernel's and `guest/apps`).
//! `tests/headers.rs` checks every size, field offset and number against
//! the C headers. Plain data only: no_std, no dependencies, no floating
//! point (the kernel builds it soft-float for ring 0).

#![no_std]

pub mod fb;
pub mod input;
