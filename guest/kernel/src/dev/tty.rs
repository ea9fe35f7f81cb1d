//! The terminal: when the host's stdin is one (BootInfo flag
//! `BOOT_FLAG_STDIN_TTY`), the console is a Linux terminal to programs.
//! The kernel keeps its `struct termios` (initialised as Linux's n_tty
//! does for a pseudo-terminal: ICANON, ECHO, ISIG..., `INIT_C_CC`), the
//! window size (the host's at boot; TIOCSWINSZ replaces it), and the
//! foreground process group. The line discipline itself is the host's
//! real terminal: every TCSETS* is passed to the host (the `tty` port),
//! which sets its terminal's input, output and local modes and control
//! characters to the program's, so a program that turns ICANON and ECHO
//! off gets raw input and echoes itself, as on Linux. The host puts its
//! terminal back when the program does, and always when kvmos ends.
//!
//! Without a terminal on stdin none of this exists: terminal requests
//! are ENOTTY, as for the pipe stdin then is.

use crate::host::protocol::{
    BootInfo, Termios, BOOT_FLAG_STDERR_TTY, BOOT_FLAG_STDIN_TTY, BOOT_FLAG_STDOUT_TTY,
    TERMIOS_NCCS,
};
use crate::sync::Global;

// `<asm-generic/termbits.h>`
pub const ICRNL: u32 = 0o400;
pub const IXON: u32 = 0o2000;
pub const OPOST: u32 = 0o1;
pub const ONLCR: u32 = 0o4;
pub const B38400: u32 = 0o17;
pub const CS8: u32 = 0o60;
pub const CREAD: u32 = 0o200;
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHOCTL: u32 = 0o1000;
pub const ECHOKE: u32 = 0o4000;
pub const IEXTEN: u32 = 0o100000;

/// `c_cc` indices.
pub const VINTR: usize = 0;
pub const VERASE: usize = 2;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;

/// Linux's `INIT_C_CC` (`<linux/tty.h>`): ^C ^\ DEL ^U ^D, VTIME 0,
/// VMIN 1, VSWTC 0, ^Q ^S ^Z, VEOL 0, ^R ^O ^W ^V, VEOL2 0.
pub const INIT_C_CC: [u8; TERMIOS_NCCS] = [
    3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0,
];

/// Linux's `tty_std_termios` with a pseudo-terminal's `c_cflag`
/// (`B38400 | CS8 | CREAD`, no HUPCL): what a program sees on the
/// terminal a fresh `ssh` or `script` session gives it.
pub const DEFAULT_TERMIOS: Termios = Termios {
    iflag: ICRNL | IXON,
    oflag: OPOST | ONLCR,
    cflag: B38400 | CS8 | CREAD,
    lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
    line: 0,
    cc: INIT_C_CC,
};

/// `struct winsize`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Winsize {
    pub row: u16,
    pub col: u16,
    pub xpixel: u16,
    pub ypixel: u16,
}

// SAFETY: integers, no padding.
unsafe impl crate::syscall::user_ptr::Pod for Winsize {}
// SAFETY: integers and bytes, no padding (36 bytes, checked in protocol).
unsafe impl crate::syscall::user_ptr::Pod for Termios {}

/// The terminal's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    pub termios: Termios,
    pub winsize: Winsize,
    /// The foreground process group (TIOCGPGRP/TIOCSPGRP).
    pub pgrp: u32,
    /// Which of the host's stdin, stdout, stderr are this terminal.
    pub host_fds: [bool; 3],
}

impl Terminal {
    /// The terminal BootInfo describes, None if the host's stdin is not one.
    pub fn from_boot_info(info: &BootInfo) -> Option<Self> {
        if info.flags & BOOT_FLAG_STDIN_TTY == 0 {
            return None;
        }
        Some(Self {
            termios: DEFAULT_TERMIOS,
            winsize: Winsize {
                row: info.tty_rows,
                col: info.tty_cols,
                xpixel: 0,
                ypixel: 0,
            },
            pgrp: 1,
            host_fds: [
                true,
                info.flags & BOOT_FLAG_STDOUT_TTY != 0,
                info.flags & BOOT_FLAG_STDERR_TTY != 0,
            ],
        })
    }
}

static TERMINAL: Global<Option<Terminal>> = Global::new(None);

/// Sets the terminal up from BootInfo (at boot, before any process runs).
pub fn init(info: &BootInfo) {
    *TERMINAL.lock() = Terminal::from_boot_info(info);
}

/// Whether the host's fd `host_fd` (0, 1, 2) is the terminal.
pub fn host_fd_is_terminal(host_fd: u32) -> bool {
    TERMINAL
        .lock()
        .as_ref()
        .is_some_and(|t| t.host_fds.get(host_fd as usize) == Some(&true))
}

/// Whether there is a terminal (the host's stdin).
pub fn present() -> bool {
    TERMINAL.lock().is_some()
}

/// Whether a file of `kind` is the terminal.
pub fn is_terminal(kind: crate::process::fd::FileKind) -> bool {
    use crate::process::fd::FileKind;
    use crate::vfs::Device;
    match kind {
        FileKind::Console { tty, .. } => tty,
        FileKind::Device(Device::Console | Device::Tty) => present(),
        _ => false,
    }
}

/// Runs `f` on the terminal; ENOTTY without one.
pub fn with<R>(
    f: impl FnOnce(&mut Terminal) -> Result<R, crate::syscall::Errno>,
) -> Result<R, crate::syscall::Errno> {
    match TERMINAL.lock().as_mut() {
        Some(t) => f(t),
        None => Err(crate::syscall::Errno::ENOTTY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_linux_n_tty_on_a_pty() {
        // What `ioctl(0, TCGETS)` gives on a fresh Linux pseudo-terminal
        // (strace: c_iflag=ICRNL|IXON, c_oflag=OPOST|ONLCR,
        // c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|
        // IEXTEN|ECHOCTL|ECHOKE), as the bytes TCGETS copies out.
        let t = DEFAULT_TERMIOS;
        assert_eq!(t.iflag, 0x500);
        assert_eq!(t.oflag, 0x5);
        assert_eq!(t.cflag, 0xbf);
        assert_eq!(t.lflag, 0x8a3b);
        assert_eq!(t.cc[VINTR], 3);
        assert_eq!(t.cc[VERASE], 0x7f);
        assert_eq!(t.cc[VEOF], 4);
        assert_eq!((t.cc[VMIN], t.cc[VTIME]), (1, 0));
        // SAFETY: Termios is plain integers and bytes without padding.
        let bytes: [u8; 36] = unsafe { core::mem::transmute(t) };
        assert_eq!(
            bytes,
            [
                0x00, 0x05, 0, 0, 0x05, 0, 0, 0, 0xbf, 0, 0, 0, 0x3b, 0x8a, 0, 0, 0, 3, 0x1c, 0x7f,
                0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0
            ]
        );
    }

    #[test]
    fn winsize_is_linux_struct_winsize() {
        assert_eq!(core::mem::size_of::<Winsize>(), 8);
        assert_eq!(core::mem::offset_of!(Winsize, col), 2);
    }

    #[test]
    fn terminal_only_when_stdin_is_one() {
        let mut info = BootInfo::empty();
        info.tty_rows = 24;
        info.tty_cols = 80;
        info.flags = BOOT_FLAG_STDOUT_TTY;
        assert_eq!(Terminal::from_boot_info(&info), None);
        info.flags = BOOT_FLAG_STDIN_TTY | BOOT_FLAG_STDERR_TTY;
        let t = Terminal::from_boot_info(&info).unwrap();
        assert_eq!(t.host_fds, [true, false, true]);
        assert_eq!((t.winsize.row, t.winsize.col), (24, 80));
        assert_eq!(t.termios, DEFAULT_TERMIOS);
        assert_eq!(t.pgrp, 1);
    }
}
