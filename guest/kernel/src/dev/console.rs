//! Kernel console: `print!`/`println!` (stdout) and `eprint!`/`eprintln!`
//! (stderr). Each macro call formats into one buffer and flushes it with a
//! single console hypercall (more only when the text outgrows the buffer),
//! never one per byte.

use crate::mm::addr::VirtAddr;
use crate::host::hypercall;
use crate::host::protocol::Segment;
use crate::sync::Global;
use core::fmt::{self, Write};

const CAPACITY: usize = 1024;

struct Buffer {
    bytes: [u8; CAPACITY],
    len: usize,
}

static BUFFER: Global<Buffer> = Global::new(Buffer {
    bytes: [0; CAPACITY],
    len: 0,
});

struct Writer<'a> {
    fd: u32,
    buf: &'a mut Buffer,
}

impl Writer<'_> {
    fn flush(&mut self) {
        if self.buf.len == 0 {
            return;
        }
        let pa = VirtAddr::from_ptr(self.buf.bytes.as_ptr())
            .kernel_to_phys()
            .expect("console buffer in the kernel image");
        let segment = Segment {
            addr: pa.as_u64(),
            len: self.buf.len as u64,
        };
        hypercall::console_write(self.fd, &[segment]);
        self.buf.len = 0;
    }
}

impl Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut s = s.as_bytes();
        while !s.is_empty() {
            if self.buf.len == CAPACITY {
                self.flush();
            }
            let n = s.len().min(CAPACITY - self.buf.len);
            self.buf.bytes[self.buf.len..self.buf.len + n].copy_from_slice(&s[..n]);
            self.buf.len += n;
            s = &s[n..];
        }
        Ok(())
    }
}

/// Formats `args` (and a newline) to `fd` and flushes. Output from a print
/// nested inside another (a panic in a `Display` impl) is dropped.
#[doc(hidden)]
pub fn _print(fd: u32, args: fmt::Arguments<'_>, newline: bool) {
    let Some(mut buf) = BUFFER.try_lock() else {
        return;
    };
    let mut w = Writer { fd, buf: &mut buf };
    let _ = w.write_fmt(args);
    if newline {
        let _ = w.write_str("\n");
    }
    w.flush();
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::dev::console::_print($crate::host::protocol::STDOUT, format_args!($($arg)*), false));
}

#[macro_export]
macro_rules! println {
    () => ($crate::dev::console::_print($crate::host::protocol::STDOUT, format_args!(""), true));
    ($($arg:tt)*) => ($crate::dev::console::_print($crate::host::protocol::STDOUT, format_args!($($arg)*), true));
}

#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => ($crate::dev::console::_print($crate::host::protocol::STDERR, format_args!($($arg)*), false));
}

#[macro_export]
macro_rules! eprintln {
    () => ($crate::dev::console::_print($crate::host::protocol::STDERR, format_args!(""), true));
    ($($arg:tt)*) => ($crate::dev::console::_print($crate::host::protocol::STDERR, format_args!($($arg)*), true));
}
