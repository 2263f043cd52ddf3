//! Dense numbering of sparse ids: a store id maps once to an index `0..n`
//! so that aggregations write into arrays instead of hash maps (an array
//! indexed by a dense number is several times faster than any map; see
//! DESIGN.md, "Facts measured on this machine").

use std::collections::HashMap;

/// Maps each of a set of distinct `i64` ids to its position in the list it
/// was built from. Ids from the store are mostly consecutive, so the map is a
/// direct table over `[min, max]` when that range is not much larger than the
/// set, and a hash map otherwise.
#[derive(Debug, Clone)]
pub struct DenseIndex {
    len: usize,
    map: Map,
}

#[derive(Debug, Clone)]
enum Map {
    Direct { min: i64, slots: Vec<u32> },
    Hashed(HashMap<i64, u32>),
}

const NO_SLOT: u32 = u32::MAX;

impl DenseIndex {
    /// Numbers `ids` by position (`ids[i]` ↦ `i`). A repeated id keeps its
    /// first position. At most `u32::MAX - 1` ids.
    pub fn new(ids: &[i64]) -> Self {
        let len = ids.len();
        let (Some(&min), Some(&max)) = (ids.iter().min(), ids.iter().max()) else {
            return DenseIndex {
                len,
                map: Map::Hashed(HashMap::new()),
            };
        };
        let span = u64::try_from(i128::from(max) - i128::from(min) + 1).unwrap_or(u64::MAX);
        let dense_enough = span <= (len as u64).saturating_mul(4).saturating_add(1024);
        if dense_enough {
            let mut slots = vec![NO_SLOT; span as usize];
            for (i, &id) in ids.iter().enumerate() {
                if let Some(slot) = slots.get_mut((id - min) as usize) {
                    if *slot == NO_SLOT {
                        *slot = i as u32;
                    }
                }
            }
            DenseIndex {
                len,
                map: Map::Direct { min, slots },
            }
        } else {
            let mut map = HashMap::with_capacity(len);
            for (i, &id) in ids.iter().enumerate() {
                map.entry(id).or_insert(i as u32);
            }
            DenseIndex {
                len,
                map: Map::Hashed(map),
            }
        }
    }

    /// The dense index of `id`, if it was in the set.
    #[inline]
    pub fn get(&self, id: i64) -> Option<u32> {
        match &self.map {
            Map::Direct { min, slots } => {
                let off = id.checked_sub(*min)?;
                let slot = *slots.get(usize::try_from(off).ok()?)?;
                (slot != NO_SLOT).then_some(slot)
            }
            Map::Hashed(m) => m.get(&id).copied(),
        }
    }

    /// Number of ids numbered.
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_ids_map_to_their_positions() {
        let ix = DenseIndex::new(&[10, 11, 13, 12]);
        assert_eq!(ix.get(10), Some(0));
        assert_eq!(ix.get(13), Some(2));
        assert_eq!(ix.get(12), Some(3));
        assert_eq!(ix.get(9), None);
        assert_eq!(ix.get(14), None);
        assert_eq!(ix.get(i64::MIN), None);
        assert_eq!(ix.len(), 4);
    }

    #[test]
    fn sparse_ids_map_through_a_hash_map() {
        let ix = DenseIndex::new(&[1, 1_000_000_000, -5]);
        assert!(matches!(ix.map, Map::Hashed(_)));
        assert_eq!(ix.get(1_000_000_000), Some(1));
        assert_eq!(ix.get(-5), Some(2));
        assert_eq!(ix.get(2), None);
    }

    #[test]
    fn an_empty_set_maps_nothing() {
        let ix = DenseIndex::new(&[]);
        assert!(ix.is_empty());
        assert_eq!(ix.get(0), None);
    }
}
