//! Messages for the host's stderr through the `log` port: `notice!`
//! lines are always shown (a killed program's `Segmentation fault`, why a
//! program cannot run), `diagnostic!` lines only with `--verbose`. Each
//! is formatted into one buffer and sent in one exit.

use crate::host::hypercall;
use crate::host::protocol::{LOG_KIND_DIAGNOSTIC, LOG_KIND_NOTICE, LOG_MESSAGE_MAX};
use crate::sync::Global;
use core::fmt::{self, Write};

struct Buffer {
    bytes: [u8; LOG_MESSAGE_MAX],
    len: usize,
}

impl Write for Buffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

static BUFFER: Global<Buffer> = Global::new(Buffer {
    bytes: [0; LOG_MESSAGE_MAX],
    len: 0,
});

#[doc(hidden)]
pub fn _log(kind: u32, args: fmt::Arguments<'_>) {
    let Some(mut b) = BUFFER.try_lock() else {
        return;
    };
    b.len = 0;
    let _ = b.write_fmt(args);
    let len = b.len;
    hypercall::log(kind, &b.bytes[..len]);
}

pub fn notice_args(args: fmt::Arguments<'_>) {
    _log(LOG_KIND_NOTICE, args)
}

pub fn diagnostic_args(args: fmt::Arguments<'_>) {
    _log(LOG_KIND_DIAGNOSTIC, args)
}

/// A line the host always shows on its stderr.
#[macro_export]
macro_rules! notice {
    ($($arg:tt)*) => ($crate::host::log::notice_args(format_args!($($arg)*)));
}

/// A line the host shows with `--verbose`.
#[macro_export]
macro_rules! diagnostic {
    ($($arg:tt)*) => ($crate::host::log::diagnostic_args(format_args!($($arg)*)));
}
