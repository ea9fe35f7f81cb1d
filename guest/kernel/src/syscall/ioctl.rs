//! `ioctl`. The generic requests work on any descriptor (FIOCLEX,
//! FIONCLEX, FIONBIO, FIOASYNC; FIONREAD on files). Descriptors that are
//! the terminal (the host's stdin is one: `crate::dev::tty`) take the
//! terminal's requests (`termios`); on every other one, the console on a
//! host pipe or file included, TCGETS, TIOCGWINSZ and the rest are
//! ENOTTY, so programs behave as when their input is redirected.
//!
//! `/dev/fb0` (`display`): FBIOGET_VSCREENINFO, FBIOGET_FSCREENINFO,
//! FBIOPAN_DISPLAY (presents the frame: rings the doorbell and returns
//! once the host has shown it; EINVAL for an offset outside the one-page
//! virtual screen), FBIOPUT_VSCREENINFO (accepted when it asks for the
//! mode there is, else EINVAL); others ENOTTY, as fbdev's default.

use super::{termios, Args, Errno, UserPtr};
use crate::dev::display::{self, FbVarScreeninfo};
use crate::process;
use crate::process::fd::{FileKind, O_NONBLOCK};
use crate::process::mm::Mm;
use crate::vfs::Device;

const FIONREAD: u64 = 0x541b;
const FIONBIO: u64 = 0x5421;
const FIONCLEX: u64 = 0x5450;
const FIOCLEX: u64 = 0x5451;
const FIOASYNC: u64 = 0x5452;
/// The 0x54xx requests that are not the terminal's.
const GENERIC: [u64; 5] = [FIONREAD, FIONBIO, FIONCLEX, FIOCLEX, FIOASYNC];

pub(super) fn ioctl(a: &Args) -> Result<usize, Errno> {
    let (fd, req, arg) = (a[0], a[1] as u32 as u64, a[2]);
    process::with(|sys| {
        let slot = sys.proc.fds.get_mut(fd)?;
        let kind = slot.file.borrow().kind;
        if kind == FileKind::Path {
            return Err(Errno::EBADF);
        }
        // The framebuffer's own requests (never one of the generic ones
        // below) first: presenting a frame is the hot one.
        if kind == FileKind::Device(Device::Fb0) && req & !0xff == FB_IOCTL_BASE {
            return fb_ioctl(&sys.proc.mm, req, arg);
        }
        if termios::is_tty_request(req) && !GENERIC.contains(&req) && crate::dev::tty::is_terminal(kind)
        {
            return termios::tty_ioctl(sys, req, arg);
        }
        match req {
            FIOCLEX | FIONCLEX => {
                slot.cloexec = req == FIOCLEX;
                Ok(0)
            }
            FIONBIO => {
                let file = slot.file.clone();
                let on: i32 = UserPtr::new(arg).read(&sys.proc.mm)?;
                let mut f = file.borrow_mut();
                if on != 0 {
                    f.flags |= O_NONBLOCK;
                } else {
                    f.flags &= !O_NONBLOCK;
                }
                Ok(0)
            }
            FIOASYNC => Ok(0),
            FIONREAD => {
                let f = slot.file.borrow();
                match f.kind {
                    FileKind::Regular => {
                        let size = match &f.held {
                    Some(i) => i.borrow().data.len(),
                    None => sys.vfs.size(f.node),
                };
                        let left = size.saturating_sub(f.offset).min(i32::MAX as u64) as i32;
                        UserPtr::<i32>::new(arg).copy_to_user(&sys.proc.mm, &[left])?;
                        Ok(0)
                    }
                    FileKind::Directory => Err(Errno::EINVAL),
                    _ => Err(Errno::ENOTTY),
                }
            }
            _ => Err(Errno::ENOTTY),
        }
    })
}

/// `<linux/fb.h>`'s requests are 0x46xx ('F').
const FB_IOCTL_BASE: u64 = 0x4600;
const _: () = assert!(
    display::FBIOGET_VSCREENINFO & !0xff == FB_IOCTL_BASE
        && display::FBIOPUT_VSCREENINFO & !0xff == FB_IOCTL_BASE
        && display::FBIOGET_FSCREENINFO & !0xff == FB_IOCTL_BASE
        && display::FBIOPAN_DISPLAY & !0xff == FB_IOCTL_BASE
);

/// The framebuffer's requests: FBIOPAN_DISPLAY (once a frame) here, the
/// rest out of line (their 160-byte structs would make every call save
/// and restore more, and each instruction is emulated in ring 0).
fn fb_ioctl(mm: &Mm, req: u64, arg: u64) -> Result<usize, Errno> {
    if req != display::FBIOPAN_DISPLAY {
        return fb_ioctl_other(mm, req, arg);
    }
    let g = display::geometry().ok_or(Errno::ENXIO)?;
    // Linux copies the whole struct (EFAULT unless all of it is
    // readable) and looks at the offsets: here only they are copied,
    // after the same check (`read_field`).
    const OFFSETS: usize = core::mem::offset_of!(FbVarScreeninfo, xoffset);
    const _: () = assert!(core::mem::offset_of!(FbVarScreeninfo, yoffset) == OFFSETS + 4);
    let offsets: u64 = UserPtr::<FbVarScreeninfo>::new(arg).read_field(mm, OFFSETS)?;
    if !g.pan_ok_at(offsets as u32, (offsets >> 32) as u32) {
        return Err(Errno::EINVAL);
    }
    display::ring_doorbell();
    Ok(0)
}

#[inline(never)]
fn fb_ioctl_other(mm: &Mm, req: u64, arg: u64) -> Result<usize, Errno> {
    let g = display::geometry().ok_or(Errno::ENXIO)?;
    match req {
        display::FBIOGET_VSCREENINFO => {
            UserPtr::new(arg).write(mm, g.var_screeninfo())?;
            Ok(0)
        }
        display::FBIOGET_FSCREENINFO => {
            UserPtr::new(arg).write(mm, g.fix_screeninfo())?;
            Ok(0)
        }
        display::FBIOPUT_VSCREENINFO => {
            let var: FbVarScreeninfo = UserPtr::new(arg).read(mm)?;
            let cur = g.var_screeninfo();
            let same = var.xres == cur.xres
                && var.yres == cur.yres
                && var.xres_virtual <= cur.xres_virtual
                && var.yres_virtual <= cur.yres_virtual
                && var.bits_per_pixel == cur.bits_per_pixel
                && g.pan_ok(&var);
            if !same {
                return Err(Errno::EINVAL);
            }
            UserPtr::new(arg).write(mm, cur)?;
            Ok(0)
        }
        _ => Err(Errno::ENOTTY),
    }
}
