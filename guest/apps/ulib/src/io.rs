//! `eprint!`/`eprintln!`: formatted messages on stderr, one `write` per
//! message (system calls are costly on kvmos), with nothing allocated.

use core::fmt;

/// Formats into a fixed buffer and writes it to fd 2 in one go when full
/// or dropped.
pub struct Stderr {
    buf: [u8; 512],
    len: usize,
}

impl Stderr {
    pub const fn new() -> Self {
        Stderr { buf: [0; 512], len: 0 }
    }

    pub fn flush(&mut self) {
        if self.len > 0 {
            let _ = crate::sys::write_all(2, &self.buf[..self.len]);
            self.len = 0;
        }
    }
}

impl Default for Stderr {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for Stderr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut bytes = s.as_bytes();
        while !bytes.is_empty() {
            if self.len == self.buf.len() {
                self.flush();
            }
            let n = bytes.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

impl Drop for Stderr {
    fn drop(&mut self) {
        self.flush();
    }
}

#[doc(hidden)]
pub fn _eprint(args: fmt::Arguments<'_>) {
    let mut w = Stderr::new();
    let _ = fmt::Write::write_fmt(&mut w, args);
}

/// Prints to stderr.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::io::_eprint(format_args!($($arg)*)) };
}

/// Prints a line to stderr.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::io::_eprint(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::io::_eprint(format_args!("{}\n", format_args!($($arg)*))) };
}
