//! The little a libc-free static Linux x86-64 program needs: `_start`, a
//! panic handler, system calls by inline asm, `/dev/fb0` (fbdev), evdev
//! input, the monotonic clock, anonymous memory and `eprintln!`.
//!
//! Everything here is Linux's own ABI (numbers, structs, errnos), so the
//! programs run on kvmos (docs/protocol.md, "The screen") and on Linux with
//! a framebuffer alike. Under `cargo test` the crate builds with std for the
//! host (start-up, panic handler and mem functions are left out).
#![cfg_attr(not(test), no_std)]

pub mod fb;
pub mod input;
pub mod io;
pub mod mem;
pub mod sys;
pub mod time;
pub mod vdso;

#[cfg(not(test))]
mod rt;

pub use sys::Errno;

/// The command line and environment, as `_start` found them on the stack.
#[derive(Clone, Copy)]
pub struct Args {
    pub argc: usize,
    pub argv: *const *const u8,
    pub envp: *const *const u8,
}

impl Args {
    /// Argument `i` as bytes (without its NUL), if there is one.
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: the kernel put argc valid NUL-terminated strings there.
        unsafe { Some(cstr(*self.argv.add(i))) }
    }
}

/// The bytes of a NUL-terminated string.
///
/// # Safety
/// `p` must point to a NUL-terminated string that lives forever.
pub unsafe fn cstr(p: *const u8) -> &'static [u8] {
    let mut n = 0;
    while *p.add(n) != 0 {
        n += 1;
    }
    core::slice::from_raw_parts(p, n)
}

/// Declares the program's entry: `ulib::entry!(main)` with
/// `fn main(args: ulib::Args) -> i32`; its result is the exit status.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        extern "C" fn __ulib_main(
            argc: usize,
            argv: *const *const u8,
            envp: *const *const u8,
        ) -> i32 {
            let f: fn($crate::Args) -> i32 = $main;
            f($crate::Args { argc, argv, envp })
        }
    };
}

/// Why a demo program gave up: the framebuffer would not open, or a system
/// call on a named thing failed (`cannot read /dev/input/event0: EAGAIN`).
pub enum AppError {
    Fb(fb::FbError),
    Sys(&'static str, &'static str, Errno),
}

impl core::fmt::Display for AppError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AppError::Fb(e) => write!(f, "{e}"),
            AppError::Sys(what, path, e) => write!(f, "{what} {path}: {e}"),
        }
    }
}

/// A program's exit status from the outcome of its run: 0, or 1 after one
/// line `NAME: what went wrong` on stderr.
pub fn exit_status(name: &str, outcome: Result<(), AppError>) -> i32 {
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{name}: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests;
