//! Byte searches eight bytes a step. Ring-0 instructions cost ~1 us
//! each on PVM, so a byte-at-a-time loop over a path or an argument
//! block is measurable; these look at a u64 per round (the classic
//! has-zero-byte test) and finish byte by byte in the last word only.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// True if some byte of `w` is zero.
const fn has_zero(w: u64) -> bool {
    w.wrapping_sub(ONES) & !w & HIGHS != 0
}

/// The offset of the first `byte` in `b`.
pub fn find(b: &[u8], byte: u8) -> Option<usize> {
    let pattern = ONES * byte as u64;
    let mut i = 0;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        if has_zero(w ^ pattern) {
            break;
        }
        i += 8;
    }
    b[i..].iter().position(|&c| c == byte).map(|p| i + p)
}

/// The offset of the first NUL in `b`.
pub fn find_nul(b: &[u8]) -> Option<usize> {
    find(b, 0)
}

/// The offset of the last `byte` in `b`.
pub fn rfind(b: &[u8], byte: u8) -> Option<usize> {
    let pattern = ONES * byte as u64;
    let mut end = b.len();
    while end >= 8 {
        let w = u64::from_le_bytes(b[end - 8..end].try_into().unwrap());
        if has_zero(w ^ pattern) {
            break;
        }
        end -= 8;
    }
    b[..end].iter().rposition(|&c| c == byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches() {
        assert_eq!(find_nul(b"\0"), Some(0));
        assert_eq!(find_nul(b"abc"), None);
        assert_eq!(find_nul(b""), None);
        for n in 0..40 {
            let mut v = vec![b'x'; n];
            v.push(0);
            v.extend_from_slice(b"yy\0");
            assert_eq!(find_nul(&v), Some(n), "{n}");
            let mut p = vec![b'/'];
            p.extend(vec![b'a'; n]);
            assert_eq!(rfind(&p, b'/'), Some(0), "{n}");
            p.push(b'/');
            assert_eq!(rfind(&p, b'/'), Some(n + 1), "{n}");
            assert_eq!(find(&p[1..], b'/'), Some(n), "{n}");
        }
        assert_eq!(find_nul(&[0x80, 0x81, 0xff, 1, 2, 3, 4, 5, 0]), Some(8));
        assert_eq!(rfind(b"abcdefghijkl", b'/'), None);
        assert_eq!(find(b"\x2e\x2f\x30\xaf", b'/'), Some(1));
    }
}
