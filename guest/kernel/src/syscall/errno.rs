//! Linux's errno values (asm-generic/errno-base.h and errno.h): system
//! calls return `-errno` in RAX, as on Linux.

macro_rules! errnos {
    ($($(#[$m:meta])* $name:ident = $value:literal,)*) => {
        /// A Linux error number.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(i32)]
        pub enum Errno {
            $($(#[$m])* $name = $value,)*
        }

        impl Errno {
            /// The errno with this number, if kvmos knows it.
            pub const fn from_raw(n: i64) -> Option<Self> {
                match n {
                    $($value => Some(Self::$name),)*
                    _ => None,
                }
            }

            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$name => stringify!($name),)*
                }
            }

            /// Every errno, for tests.
            #[cfg(test)]
            pub(crate) const ALL: &'static [Errno] = &[$(Self::$name),*];
        }
    };
}

errnos! {
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    ENOEXEC = 8,
    EBADF = 9,
    ECHILD = 10,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    ENOTBLK = 15,
    EBUSY = 16,
    EEXIST = 17,
    EXDEV = 18,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    ENFILE = 23,
    EMFILE = 24,
    ENOTTY = 25,
    ETXTBSY = 26,
    EFBIG = 27,
    ENOSPC = 28,
    ESPIPE = 29,
    EROFS = 30,
    EMLINK = 31,
    EPIPE = 32,
    EDOM = 33,
    ERANGE = 34,
    EDEADLK = 35,
    ENAMETOOLONG = 36,
    ENOLCK = 37,
    ENOSYS = 38,
    ENOTEMPTY = 39,
    ELOOP = 40,
    ENODATA = 61,
    EOVERFLOW = 75,
    ELIBBAD = 80,
    EILSEQ = 84,
    ENOTSOCK = 88,
    EOPNOTSUPP = 95,
    EAFNOSUPPORT = 97,
    EADDRINUSE = 98,
    ECONNRESET = 104,
    ENOTCONN = 107,
    ETIMEDOUT = 110,
    ECONNREFUSED = 111,
}

impl Errno {
    pub const fn as_i32(self) -> i32 {
        self as i32
    }

    /// glibc's `strerror` text.
    pub const fn description(self) -> &'static str {
        match self {
            Self::EPERM => "Operation not permitted",
            Self::ENOENT => "No such file or directory",
            Self::ESRCH => "No such process",
            Self::EINTR => "Interrupted system call",
            Self::EIO => "Input/output error",
            Self::ENXIO => "No such device or address",
            Self::E2BIG => "Argument list too long",
            Self::ENOEXEC => "Exec format error",
            Self::EBADF => "Bad file descriptor",
            Self::ECHILD => "No child processes",
            Self::EAGAIN => "Resource temporarily unavailable",
            Self::ENOMEM => "Cannot allocate memory",
            Self::EACCES => "Permission denied",
            Self::EFAULT => "Bad address",
            Self::EBUSY => "Device or resource busy",
            Self::EEXIST => "File exists",
            Self::ENODEV => "No such device",
            Self::ENOTDIR => "Not a directory",
            Self::EISDIR => "Is a directory",
            Self::EINVAL => "Invalid argument",
            Self::EMFILE => "Too many open files",
            Self::ENOTTY => "Inappropriate ioctl for device",
            Self::ENOSPC => "No space left on device",
            Self::ESPIPE => "Illegal seek",
            Self::EROFS => "Read-only file system",
            Self::EPIPE => "Broken pipe",
            Self::ERANGE => "Numerical result out of range",
            Self::ENAMETOOLONG => "File name too long",
            Self::ENOSYS => "Function not implemented",
            Self::ENOTEMPTY => "Directory not empty",
            Self::ELOOP => "Too many levels of symbolic links",
            Self::ELIBBAD => "Accessing a corrupted shared library",
            _ => self.name(),
        }
    }

    /// The RAX value a failing syscall returns: `-errno`.
    pub const fn to_return_value(self) -> u64 {
        (-(self as i64)) as u64
    }
}

impl core::fmt::Display for Errno {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Errno;
    use std::collections::HashMap;

    /// `#define ENAME value` lines of the Linux uapi headers; panics
    /// naming the Debian package when they are missing.
    fn linux_errnos() -> HashMap<String, i64> {
        let mut out = HashMap::new();
        for path in [
            "/usr/include/asm-generic/errno-base.h",
            "/usr/include/asm-generic/errno.h",
        ] {
            let src = std::fs::read_to_string(path).unwrap_or_else(|e| {
                panic!("{path}: {e}: the errno values are checked against Linux's uapi headers: install the Debian package linux-libc-dev (scripts/setup.sh does)")
            });
            for line in src.lines() {
                let mut it = line.split_whitespace();
                if let (Some("#define"), Some(name), Some(value)) =
                    (it.next(), it.next(), it.next())
                {
                    if let Ok(v) = value.parse() {
                        out.insert(name.to_string(), v);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn values_are_linux_values() {
        // Spot checks that need no headers.
        assert_eq!(Errno::EBADF as i32, 9);
        assert_eq!(Errno::EFAULT as i32, 14);
        assert_eq!(Errno::EINVAL as i32, 22);
        assert_eq!(Errno::ENAMETOOLONG as i32, 36);
        assert_eq!(Errno::ENOSYS as i32, 38);
        assert_eq!(Errno::ENOSYS.to_return_value(), (-38i64) as u64);
        let linux = linux_errnos();
        for &e in Errno::ALL {
            assert_eq!(linux.get(e.name()), Some(&(e as i64)), "{}", e.name());
        }
    }

    #[test]
    fn from_raw_round_trips() {
        for &e in Errno::ALL {
            assert_eq!(Errno::from_raw(e as i64), Some(e));
        }
        assert_eq!(Errno::from_raw(0), None);
        assert_eq!(Errno::from_raw(4096), None);
    }
}
