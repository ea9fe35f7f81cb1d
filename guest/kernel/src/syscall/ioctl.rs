//! `ioctl`. The generic requests work on any descriptor (FIOCLEX,
//! FIONCLEX, FIONBIO, FIOASYNC; FIONREAD on files). The terminal has no
//! termios yet: TCGETS, TIOCGWINSZ and the rest are ENOTTY, as for a
//! pipe, so programs behave as when their output is redirected.
//!
//! `/dev/fb0` (`display`): FBIOGET_VSCREENINFO, FBIOGET_FSCREENINFO,
//! FBIOPAN_DISPLAY (presents the frame: rings the doorbell and returns
//! once the host has shown it; EINVAL for an offset outside the one-page
//! virtual screen), FBIOPUT_VSCREENINFO (accepted when it asks for the
//! mode there is, else EINVAL); others ENOTTY, as fbdev's default.

use super::{Args, Errno, UserPtr};
use crate::process;
use crate::display::{self, FbVarScreeninfo};
use crate::process::fd::{FileKind, O_NONBLOCK};
use crate::process::mm::Mm;
use crate::vfs::Device;

const FIONREAD: u64 = 0x541b;
const FIONBIO: u64 = 0x5421;
const FIONCLEX: u64 = 0x5450;
const FIOCLEX: u64 = 0x5451;
const FIOASYNC: u64 = 0x5452;

pub(super) fn ioctl(a: &Args) -> Result<usize, Errno> {
    let (fd, req, arg) = (a[0], a[1] as u32 as u64, a[2]);
    process::with(|sys| {
        let slot = sys.proc.fds.get_mut(fd)?;
        if slot.file.borrow().kind == FileKind::Path {
            return Err(Errno::EBADF);
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
                        let size = sys.vfs.file_data(f.node).map_or(0, |d| d.len()) as u64;
                        let left = size.saturating_sub(f.offset).min(i32::MAX as u64) as i32;
                        UserPtr::<i32>::new(arg).copy_to_user(&sys.proc.mm, &[left])?;
                        Ok(0)
                    }
                    FileKind::Directory => Err(Errno::EINVAL),
                    _ => Err(Errno::ENOTTY),
                }
            }
            _ if slot.file.borrow().kind == FileKind::Device(Device::Fb0) => {
                fb_ioctl(&sys.proc.mm, req, arg)
            }
            _ => Err(Errno::ENOTTY),
        }
    })
}

/// The framebuffer's requests.
fn fb_ioctl(mm: &Mm, req: u64, arg: u64) -> Result<usize, Errno> {
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
        display::FBIOPAN_DISPLAY => {
            let var: FbVarScreeninfo = UserPtr::new(arg).read(mm)?;
            if !g.pan_ok(&var) {
                return Err(Errno::EINVAL);
            }
            display::ring_doorbell();
            Ok(0)
        }
        _ => Err(Errno::ENOTTY),
    }
}
