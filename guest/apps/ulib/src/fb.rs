//! `/dev/fb0`: Linux fbdev. Geometry from `FBIOGET_VSCREENINFO` and
//! `FBIOGET_FSCREENINFO` (the structs of `<linux/fb.h>`), the pixels
//! mapped shared (no copy), a frame presented with `FBIOPAN_DISPLAY`
//! (on kvmos: returns once the host has shown it).

use crate::sys::{self, Errno};
use core::fmt;

pub const FBIOGET_VSCREENINFO: usize = uapi::fb::FBIOGET_VSCREENINFO as usize;
pub const FBIOPUT_VSCREENINFO: usize = uapi::fb::FBIOPUT_VSCREENINFO as usize;
pub const FBIOGET_FSCREENINFO: usize = uapi::fb::FBIOGET_FSCREENINFO as usize;
pub const FBIOPAN_DISPLAY: usize = uapi::fb::FBIOPAN_DISPLAY as usize;

/// `struct fb_bitfield`, `struct fb_var_screeninfo` (160 bytes) and
/// `struct fb_fix_screeninfo` (80 bytes), declared once for ulib and the
/// kernel in the `uapi` crate.
pub use uapi::fb::{FbBitfield, FbFixScreeninfo, FbVarScreeninfo};

/// Why the framebuffer cannot be used; `Display` gives the message after
/// the program's name (`torus: cannot open /dev/fb0: No such file or directory`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FbError {
    Open(Errno),
    Ioctl(&'static str, Errno),
    Map(Errno),
    /// Not 32-bit XRGB8888 (bits per pixel, red offset, line length).
    Format(u32, u32, u32),
}

impl fmt::Display for FbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FbError::Open(e) => write!(f, "cannot open {PATH}: {e}"),
            FbError::Ioctl(name, e) => write!(f, "{PATH}: {name}: {e}"),
            FbError::Map(e) => write!(f, "cannot map {PATH}: {e}"),
            FbError::Format(bpp, red, line) => write!(
                f,
                "{PATH}: unsupported pixel format ({bpp} bits per pixel, red at bit {red}, {line} bytes a line); XRGB8888 is needed"
            ),
        }
    }
}

pub const PATH: &str = "/dev/fb0";

/// Is this geometry 32-bit XRGB8888 (bytes B, G, R, X) with whole-pixel lines?
pub fn is_xrgb8888(var: &FbVarScreeninfo, fix: &FbFixScreeninfo) -> bool {
    let bf = |b: &FbBitfield, off| b.offset == off && b.length == 8 && b.msb_right == 0;
    var.bits_per_pixel == 32
        && bf(&var.red, 16)
        && bf(&var.green, 8)
        && bf(&var.blue, 0)
        && fix.line_length.is_multiple_of(4)
        && fix.line_length / 4 >= var.xres
}

/// The mapped framebuffer. With `yres_virtual >= 2 * yres` (and panning)
/// it is double-buffered: drawing goes to the hidden page, `present` pans
/// to it. Otherwise drawing goes to the visible page and `present` pans to
/// offset 0, which on kvmos shows the frame.
pub struct Framebuffer {
    fd: i32,
    var: FbVarScreeninfo,
    pub fix: FbFixScreeninfo,
    mem: *mut u32,
    map_len: usize,
    /// Visible pixels a row.
    pub width: usize,
    /// Visible rows.
    pub height: usize,
    /// Pixels (u32) from one row to the next.
    pub stride: usize,
    pages: usize,
    back: usize,
    /// false once Linux said FBIOPAN_DISPLAY is not supported (EINVAL
    /// from a driver without panning): frames are then visible as drawn.
    pan: bool,
}

impl Framebuffer {
    pub fn open() -> Result<Framebuffer, FbError> {
        let fd = sys::open(PATH, sys::O_RDWR).map_err(FbError::Open)?;
        Self::from_fd(fd).inspect_err(|_| {
            let _ = sys::close(fd);
        })
    }

    fn from_fd(fd: i32) -> Result<Framebuffer, FbError> {
        let mut var = FbVarScreeninfo::default();
        let mut fix = FbFixScreeninfo::default();
        // SAFETY: each request fills the struct it is given.
        unsafe {
            sys::ioctl(fd, FBIOGET_VSCREENINFO, &mut var as *mut _ as usize)
                .map_err(|e| FbError::Ioctl("FBIOGET_VSCREENINFO", e))?;
            sys::ioctl(fd, FBIOGET_FSCREENINFO, &mut fix as *mut _ as usize)
                .map_err(|e| FbError::Ioctl("FBIOGET_FSCREENINFO", e))?;
        }
        if !is_xrgb8888(&var, &fix) {
            return Err(FbError::Format(var.bits_per_pixel, var.red.offset, fix.line_length));
        }
        let width = var.xres as usize;
        let height = var.yres as usize;
        let stride = fix.line_length as usize / 4;
        let rows = (var.yres_virtual as usize).max(height);
        let pages = if rows >= 2 * height && fix.ypanstep != 0 && height.is_multiple_of(fix.ypanstep as usize) { 2 } else { 1 };
        let map_len = fix.line_length as usize * rows;
        // SAFETY: a fresh shared mapping of the device; nothing else aliases it.
        let mem = unsafe {
            sys::mmap(0, map_len, sys::PROT_READ | sys::PROT_WRITE, sys::MAP_SHARED, fd, 0).map_err(FbError::Map)?
        } as *mut u32;
        let visible = if pages == 2 && var.yoffset as usize >= height { 1 } else { 0 };
        Ok(Framebuffer { fd, var, fix, mem, map_len, width, height, stride, pages, back: (visible + 1) % pages, pan: true })
    }

    /// The page to draw the next frame into: `stride * height` pixels.
    pub fn back_buffer(&mut self) -> &mut [u32] {
        let n = self.stride * self.height;
        // SAFETY: the page lies inside the mapping, which lives as long as self.
        unsafe { core::slice::from_raw_parts_mut(self.mem.add(self.back * n), n) }
    }

    /// Shows the back buffer (on kvmos: rings the doorbell and returns once
    /// the host has shown the frame).
    pub fn present(&mut self) -> Result<(), Errno> {
        if self.pan {
            let mut var = self.var;
            var.xoffset = 0;
            var.yoffset = (self.back * self.height) as u32;
            // SAFETY: FBIOPAN_DISPLAY reads the struct.
            match unsafe { sys::ioctl(self.fd, FBIOPAN_DISPLAY, &mut var as *mut _ as usize) } {
                Ok(_) => {}
                Err(Errno::EINVAL) if self.pages == 1 => self.pan = false,
                Err(e) => return Err(e),
            }
        }
        self.back = (self.back + 1) % self.pages;
        Ok(())
    }

    /// 2 when double-buffered.
    pub fn pages(&self) -> usize {
        self.pages
    }
}

impl Drop for Framebuffer {
    fn drop(&mut self) {
        // SAFETY: the slices handed out borrowed self, so they are gone.
        unsafe {
            let _ = sys::munmap(self.mem as *mut u8, self.map_len);
        }
        let _ = sys::close(self.fd);
    }
}
