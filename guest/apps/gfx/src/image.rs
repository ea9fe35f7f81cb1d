//! Frame checks: a stable hash of the visible pixels.

/// FNV-1a (64-bit) over the visible pixels, row by row, each pixel as its
/// 4 little-endian bytes (B, G, R, X).
pub fn hash(pixels: &[u32], width: usize, height: usize, stride: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for y in 0..height {
        for &p in &pixels[y * stride..y * stride + width] {
            for b in p.to_le_bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    h
}
