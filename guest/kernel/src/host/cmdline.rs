//! The boot command line: words separated by spaces, each `key=value` or a
//! bare word (docs/protocol.md; the same split as
//! `packages/protocol/src/cmdline.ts`). Values are bytes; `get_str` and
//! `get_u64` interpret them.

/// One word: `key` and the text after the first `=` (`None` for a bare word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'a> {
    pub key: &'a [u8],
    pub value: Option<&'a [u8]>,
}

/// A command line borrowed from memory (the boot one lives in guest RAM
/// for the kernel's whole life).
#[derive(Debug, Clone, Copy)]
pub struct Cmdline<'a> {
    bytes: &'a [u8],
}

/// Why a value did not parse as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseIntError;

impl<'a> Cmdline<'a> {
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The words, in order; repeated keys are all returned.
    pub fn words(&self) -> impl Iterator<Item = Word<'a>> + 'a {
        self.bytes
            .split(|&b| b == b' ')
            .filter(|w| !w.is_empty())
            .map(|w| match w.iter().position(|&b| b == b'=') {
                Some(eq) => Word {
                    key: &w[..eq],
                    value: Some(&w[eq + 1..]),
                },
                None => Word {
                    key: w,
                    value: None,
                },
            })
    }

    /// The value of the last `key=value` word (later words override
    /// earlier ones, as on Linux).
    pub fn get(&self, key: &str) -> Option<&'a [u8]> {
        self.words()
            .filter(|w| w.key == key.as_bytes())
            .filter_map(|w| w.value)
            .last()
    }

    /// `get` as UTF-8 (`None` if absent or not UTF-8).
    pub fn get_str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// `get` as a number: decimal, or hex with a `0x` prefix.
    pub fn get_u64(&self, key: &str) -> Option<Result<u64, ParseIntError>> {
        self.get(key).map(parse_u64)
    }

    /// True if `word` appears as a bare word.
    pub fn has_flag(&self, word: &str) -> bool {
        self.words()
            .any(|w| w.key == word.as_bytes() && w.value.is_none())
    }
}

/// Decimal, or hex with a `0x` prefix; no sign, no spaces, no overflow.
pub fn parse_u64(s: &[u8]) -> Result<u64, ParseIntError> {
    let (digits, radix) = match s {
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16),
        _ => (s, 10),
    };
    if digits.is_empty() {
        return Err(ParseIntError);
    }
    digits.iter().try_fold(0u64, |acc, &c| {
        let d = (c as char).to_digit(radix).ok_or(ParseIntError)? as u64;
        acc.checked_mul(radix as u64)
            .and_then(|a| a.checked_add(d))
            .ok_or(ParseIntError)
    })
}

/// The boot command line (`kernel::init` must have run).
pub fn boot() -> Cmdline<'static> {
    let info = crate::boot_info();
    let len = info.cmdline_size.min(crate::host::layout::CMDLINE_MAX);
    if info.cmdline_addr == 0 || len == 0 {
        return Cmdline::new(&[]);
    }
    let va = crate::mm::addr::PhysAddr::new(info.cmdline_addr).to_direct_map();
    // SAFETY: the host wrote `cmdline_size` bytes at `cmdline_addr` in RAM
    // (all of it is in the direct map) and nothing ever writes them again.
    Cmdline::new(unsafe { core::slice::from_raw_parts(va.as_ptr::<u8>(), len as usize) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        let c = Cmdline::new(b"  exit_code=7 quiet  a=b=c empty= ");
        let w: Vec<_> = c.words().collect();
        assert_eq!(w.len(), 4);
        assert_eq!(
            w[0],
            Word {
                key: b"exit_code",
                value: Some(b"7")
            }
        );
        assert_eq!(
            w[1],
            Word {
                key: b"quiet",
                value: None
            }
        );
        assert_eq!(
            w[2],
            Word {
                key: b"a",
                value: Some(b"b=c")
            }
        );
        assert_eq!(
            w[3],
            Word {
                key: b"empty",
                value: Some(b"")
            }
        );
        assert!(c.has_flag("quiet"));
        assert!(!c.has_flag("exit_code"));
    }

    #[test]
    fn lookup() {
        let c = Cmdline::new(b"exit_code=7 x=1 exit_code=0x2a bad=12z");
        assert_eq!(c.get("exit_code"), Some(&b"0x2a"[..]));
        assert_eq!(c.get_u64("exit_code"), Some(Ok(42)));
        assert_eq!(c.get_u64("x"), Some(Ok(1)));
        assert_eq!(c.get_u64("bad"), Some(Err(ParseIntError)));
        assert_eq!(c.get_u64("missing"), None);
        assert_eq!(c.get_str("x"), Some("1"));
        assert_eq!(Cmdline::new(b"").words().count(), 0);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"0"), Ok(0));
        assert_eq!(parse_u64(b"255"), Ok(255));
        assert_eq!(parse_u64(b"0xFF"), Ok(255));
        assert_eq!(parse_u64(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), Err(ParseIntError));
        assert_eq!(parse_u64(b""), Err(ParseIntError));
        assert_eq!(parse_u64(b"0x"), Err(ParseIntError));
        assert_eq!(parse_u64(b"-1"), Err(ParseIntError));
        assert_eq!(parse_u64(b"1 "), Err(ParseIntError));
    }
}
