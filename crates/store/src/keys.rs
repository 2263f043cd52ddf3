//! What an import session knows about the `(source, source_key)` keys of one
//! table, so that PostgreSQL loads need not look up keys that cannot be stored.
//!
//! When the session first touches a (table, source), it asks whether the table
//! holds any row of that source. If not, the only keys that can be stored are
//! the ones this session inserted, and those are remembered in a split-block
//! Bloom filter (about 2 bytes a key, no false negatives): a key the filter has
//! never seen is new without a query; a key it may have seen is looked up. When
//! the source had rows before, or the filters grow past [`MAX_FILTER_BYTES`],
//! every key is looked up (still one index probe per key).

use std::hash::{BuildHasher, Hasher};

/// Keys the first filter is sized for; each further filter holds twice as many.
const FIRST_CAPACITY: usize = 1 << 18;
/// Filter bits per key at capacity (false positives about 0.2% per full filter).
const BITS_PER_KEY: usize = 16;
/// Above this, the session stops remembering keys and looks every key up.
pub(crate) const MAX_FILTER_BYTES: usize = 256 << 20;

/// Salts of the split-block Bloom filter (those of Apache Parquet's SBBF).
const SALT: [u32; 8] = [
    0x47b6_137b,
    0x4497_4d91,
    0x8824_ad5b,
    0xa2b7_289d,
    0x7054_95c7,
    0x2df1_424b,
    0x9efc_4947,
    0x5c6b_fb31,
];

/// One filter: blocks of 256 bits, each key sets one bit in each of a block's
/// eight 32-bit words.
struct Filter {
    blocks: Vec<[u32; 8]>,
    capacity: usize,
    len: usize,
}

impl Filter {
    fn new(capacity: usize) -> Self {
        let blocks = (capacity * BITS_PER_KEY / 256).max(1);
        Filter {
            blocks: vec![[0; 8]; blocks],
            capacity,
            len: 0,
        }
    }

    fn bytes(&self) -> usize {
        self.blocks.len() * 32
    }

    fn masks(h: u64) -> (usize, [u32; 8]) {
        let low = h as u32;
        let mut m = [0u32; 8];
        for (w, salt) in m.iter_mut().zip(SALT) {
            *w = 1 << (low.wrapping_mul(salt) >> 27);
        }
        ((h >> 32) as usize, m)
    }

    fn block(&self, h: u64) -> usize {
        // Multiply-shift onto the block count (upper 32 bits of the hash).
        (((h >> 32) * self.blocks.len() as u64) >> 32) as usize
    }

    fn insert(&mut self, h: u64) {
        let (_, m) = Self::masks(h);
        let b = self.block(h);
        if let Some(block) = self.blocks.get_mut(b) {
            for (w, bit) in block.iter_mut().zip(m) {
                *w |= bit;
            }
        }
        self.len += 1;
    }

    fn might_hold(&self, h: u64) -> bool {
        let (_, m) = Self::masks(h);
        self.blocks
            .get(self.block(h))
            .is_some_and(|block| block.iter().zip(m).all(|(w, bit)| w & bit != 0))
    }
}

/// The session's knowledge of one (table, source)'s keys.
pub(crate) struct KeyState {
    /// Every key must be looked up (the source had rows, or the filters are full).
    check_all: bool,
    filters: Vec<Filter>,
    hasher: std::hash::RandomState,
}

impl KeyState {
    /// `stored_before`: whether the table held rows of the source when the session began.
    pub(crate) fn new(stored_before: bool) -> Self {
        KeyState {
            check_all: stored_before,
            filters: Vec::new(),
            hasher: std::hash::RandomState::new(),
        }
    }

    pub(crate) fn check_all(&self) -> bool {
        self.check_all
    }

    fn hash(&self, key: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write(key.as_bytes());
        h.finish()
    }

    /// Whether `key` may have been inserted by this session (always true when checking all).
    pub(crate) fn might_hold(&self, key: &str) -> bool {
        if self.check_all {
            return true;
        }
        let h = self.hash(key);
        self.filters.iter().any(|f| f.might_hold(h))
    }

    /// Remembers a key this session inserted.
    pub(crate) fn insert(&mut self, key: &str) {
        if self.check_all {
            return;
        }
        let h = self.hash(key);
        let full = self.filters.last().is_none_or(|f| f.len >= f.capacity);
        if full {
            let capacity = self
                .filters
                .last()
                .map_or(FIRST_CAPACITY, |f| f.capacity * 2);
            let used: usize = self.filters.iter().map(Filter::bytes).sum();
            if used + capacity * BITS_PER_KEY / 8 > MAX_FILTER_BYTES {
                self.check_all = true;
                self.filters = Vec::new();
                return;
            }
            self.filters.push(Filter::new(capacity));
        }
        if let Some(f) = self.filters.last_mut() {
            f.insert(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_keys_are_always_found_and_others_rarely() {
        let mut s = KeyState::new(false);
        let n = FIRST_CAPACITY * 3;
        for i in 0..n {
            s.insert(&format!("T{i}"));
        }
        assert_eq!(s.filters.len(), 2);
        assert!((0..n).all(|i| s.might_hold(&format!("T{i}"))));
        let false_hits = (0..100_000)
            .filter(|i| s.might_hold(&format!("X{i}")))
            .count();
        assert!(false_hits < 1_000, "{false_hits} false positives");
    }

    #[test]
    fn a_source_stored_before_checks_every_key() {
        let s = KeyState::new(true);
        assert!(s.check_all());
        assert!(s.might_hold("anything"));
    }
}
