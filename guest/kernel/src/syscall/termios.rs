//! The terminal's `ioctl`s (`<asm-generic/ioctls.h>`), on descriptors
//! that are the terminal (`crate::dev::tty`): TCGETS, TCSETS/TCSETSW/TCSETSF
//! (stored, and passed to the host, whose real terminal is the line
//! discipline), TIOCGWINSZ/TIOCSWINSZ, TIOCGPGRP/TIOCSPGRP (the
//! foreground process group: `tcgetpgrp`/`tcsetpgrp`, which the
//! terminal's ISIG keys signal, `sched::terminal_signals`), TIOCGSID, and the ones with nothing to do
//! here (TIOCSCTTY, TIOCNOTTY, TCSBRK, TCSBRKP, TCXONC, TCFLSH). Other
//! 0x54xx requests are ENOTTY, as Linux's tty layer answers unknown ones.

use super::{Errno, UserPtr};
use crate::process::System;
use crate::host::protocol::{Termios, TTY_ACTION_DRAIN, TTY_ACTION_FLUSH, TTY_ACTION_NOW};
use crate::dev::tty::{self, Winsize};

pub const TCGETS: u64 = 0x5401;
pub const TCSETS: u64 = 0x5402;
pub const TCSETSW: u64 = 0x5403;
pub const TCSETSF: u64 = 0x5404;
const TCSBRK: u64 = 0x5409;
const TCXONC: u64 = 0x540a;
const TCFLSH: u64 = 0x540b;
const TIOCSCTTY: u64 = 0x540e;
const TIOCGPGRP: u64 = 0x540f;
const TIOCSPGRP: u64 = 0x5410;
const TIOCGWINSZ: u64 = 0x5413;
const TIOCSWINSZ: u64 = 0x5414;
const TIOCNOTTY: u64 = 0x5422;
const TCSBRKP: u64 = 0x5425;
const TIOCGSID: u64 = 0x5429;

/// Whether `req` is one of the terminal's (`'T'` << 8 | nr).
pub fn is_tty_request(req: u64) -> bool {
    req & !0xff == 0x5400
}

/// A terminal request on a descriptor that is the terminal.
#[inline(never)]
pub(super) fn tty_ioctl(sys: &mut System, req: u64, arg: u64) -> Result<usize, Errno> {
    let mm = &sys.proc.mm;
    match req {
        TCGETS => {
            let t = tty::with(|t| Ok(t.termios))?;
            UserPtr::new(arg).write(mm, t)?;
            Ok(0)
        }
        TCSETS | TCSETSW | TCSETSF => {
            let new: Termios = UserPtr::new(arg).read(mm)?;
            let action = match req {
                TCSETS => TTY_ACTION_NOW,
                TCSETSW => TTY_ACTION_DRAIN,
                _ => TTY_ACTION_FLUSH,
            };
            tty::with(|t| {
                t.termios = new;
                Ok(())
            })?;
            super::segments::host_result(crate::host::hypercall::tty_set_modes(action, &new)).map(|_| 0)
        }
        TIOCGWINSZ => {
            let w = tty::with(|t| Ok(t.winsize))?;
            UserPtr::new(arg).write(mm, w)?;
            Ok(0)
        }
        TIOCSWINSZ => {
            let w: Winsize = UserPtr::new(arg).read(mm)?;
            tty::with(|t| {
                t.winsize = w;
                Ok(0)
            })
        }
        TIOCGPGRP => {
            let g = tty::with(|t| Ok(t.pgrp))?;
            UserPtr::new(arg).write(mm, g as i32)?;
            Ok(0)
        }
        TIOCSPGRP => {
            let g: i32 = UserPtr::new(arg).read(mm)?;
            if g < 0 {
                return Err(Errno::EINVAL);
            }
            // Linux: no such pid is ESRCH; a pid that is no group's, EPERM.
            let g = g as u32;
            let exists = sys.proc.pgid == g || sys.others.iter().any(|p| p.pgid == g);
            if !exists {
                let pid = sys.proc.pid == g || sys.others.iter().any(|p| p.pid == g);
                return Err(if pid { Errno::EPERM } else { Errno::ESRCH });
            }
            tty::with(|t| {
                t.pgrp = g;
                Ok(0)
            })
        }
        // Every process is in process 1's session, whose terminal this is.
        TIOCGSID => {
            tty::with(|_| Ok(()))?;
            UserPtr::new(arg).write(mm, 1i32)?;
            Ok(0)
        }
        TIOCSCTTY | TIOCNOTTY | TCSBRK | TCSBRKP | TCXONC | TCFLSH => tty::with(|_| Ok(0)),
        _ => Err(Errno::ENOTTY),
    }
}
