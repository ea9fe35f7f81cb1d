//! Where an address space may have page tables and pages: the ranges in
//! which a page was ever mapped (sorted, disjoint, page aligned). A
//! superset is always right, so ranges are never trimmed when pages go
//! away, and when there would be more than `MAX_SPANS` the two closest
//! neighbours merge. Walks of the page tables (fork's copy, teardown,
//! munmap, mprotect) visit only these ranges: on PVM every ring-0
//! instruction is emulated (~0.75 us), and reading the 512 entries of a
//! page table that maps a few pages, or the empty tables of an 8 MiB
//! stack, is most of what a walk would cost.

use alloc::vec::Vec;

/// At most this many ranges are kept (more merge: a superset).
pub const MAX_SPANS: usize = 32;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Spans {
    list: Vec<(u64, u64)>,
}

impl Spans {
    pub const fn new() -> Self {
        Self { list: Vec::new() }
    }

    pub fn as_slice(&self) -> &[(u64, u64)] {
        &self.list
    }

    /// Adds `[start, end)`, merging with ranges it overlaps or touches.
    pub fn add(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        // The first range ending at or after `start` (it may touch).
        let i = self.list.partition_point(|r| r.1 < start);
        if let Some(r) = self.list.get_mut(i) {
            if r.0 <= start && end <= r.1 {
                return; // the common case: inside a known range
            }
        }
        // Ranges [i, j) overlap or touch [start, end).
        let j = i + self.list[i..].partition_point(|r| r.0 <= end);
        if i == j {
            self.list.insert(i, (start, end));
        } else {
            let merged = (start.min(self.list[i].0), end.max(self.list[j - 1].1));
            self.list[i] = merged;
            self.list.drain(i + 1..j);
        }
        if self.list.len() > MAX_SPANS {
            self.merge_closest();
        }
    }

    /// Joins the two neighbours with the smallest gap.
    fn merge_closest(&mut self) {
        let Some(k) = (1..self.list.len()).min_by_key(|&k| self.list[k].0 - self.list[k - 1].1)
        else {
            return;
        };
        self.list[k - 1].1 = self.list[k].1;
        self.list.remove(k);
    }

    /// The parts of the ranges inside `[start, end)`, in order.
    pub fn within(&self, start: u64, end: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        let i = self.list.partition_point(|r| r.1 <= start);
        self.list[i..]
            .iter()
            .take_while(move |r| r.0 < end)
            .map(move |r| (r.0.max(start), r.1.min(end)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_merges_overlapping_and_touching_ranges() {
        let mut s = Spans::new();
        s.add(0x5000, 0x6000);
        s.add(0x1000, 0x2000);
        s.add(0x9000, 0xa000);
        assert_eq!(
            s.as_slice(),
            [(0x1000, 0x2000), (0x5000, 0x6000), (0x9000, 0xa000)]
        );
        s.add(0x5000, 0x5000);
        s.add(0x5400, 0x5800);
        assert_eq!(s.as_slice().len(), 3, "empty and inside: no change");
        s.add(0x2000, 0x3000);
        assert_eq!(s.as_slice()[0], (0x1000, 0x3000), "touching");
        s.add(0x4000, 0x9800);
        assert_eq!(s.as_slice(), [(0x1000, 0x3000), (0x4000, 0xa000)]);
        s.add(0, 0x10000);
        assert_eq!(s.as_slice(), [(0, 0x10000)]);
    }

    #[test]
    fn too_many_ranges_merge_the_closest() {
        let mut s = Spans::new();
        for i in 0..MAX_SPANS as u64 {
            s.add(i * 0x10_0000, i * 0x10_0000 + 0x1000);
        }
        assert_eq!(s.as_slice().len(), MAX_SPANS);
        // A range just below the 4th leaves the smallest gap there.
        s.add(0x30_0000 - 0x2000, 0x30_0000 - 0x1000);
        assert_eq!(s.as_slice().len(), MAX_SPANS);
        assert_eq!(s.as_slice()[3], (0x30_0000 - 0x2000, 0x30_1000));
        // Still a superset of everything added.
        for i in 0..MAX_SPANS as u64 {
            let a = i * 0x10_0000;
            assert!(s.as_slice().iter().any(|r| r.0 <= a && a + 0x1000 <= r.1));
        }
    }

    #[test]
    fn parts_within_a_range() {
        let mut s = Spans::new();
        s.add(0x1000, 0x3000);
        s.add(0x5000, 0x8000);
        s.add(0x9000, 0xa000);
        let parts: Vec<_> = s.within(0x2000, 0x9000).collect();
        assert_eq!(parts, [(0x2000, 0x3000), (0x5000, 0x8000)]);
        assert_eq!(s.within(0x3000, 0x5000).count(), 0);
        assert_eq!(s.within(0, 0x10_0000).count(), 3);
    }
}
