//! A fast hasher for the maps of ids and names that the planner and the desired state's
//! validation build per account (std's SipHash was about 5 % of a 100,000-account plan).
//! Deterministic; neither depends on a map's iteration order (they sort or use ordered maps
//! wherever order reaches their output), so this changes no output. Keys are orgctl's own
//! inputs (the YAML and the organization it manages), so flooding resistance is not needed.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
/// A `HashSet` with [`FastHasher`].
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

/// FxHash's word step (a rotate, xor and multiply per 8 bytes) with SplitMix64's finalizer, so
/// every bit of the result depends on every input bit (hashbrown uses both the low and the high
/// bits).
#[derive(Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 60));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let mut z = self.hash;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash(s: &str) -> u64 {
        BuildHasherDefault::<FastHasher>::default().hash_one(s)
    }

    #[test]
    fn account_ids_spread_over_the_low_bits() {
        // 100,000 twelve-digit ids in 2^17 buckets by the low bits (as hashbrown indexes): no
        // bucket much fuller than chance allows.
        let mut buckets = vec![0u32; 1 << 17];
        for i in 0..100_000u64 {
            let id = format!("{:012}", 200_000_000_000 + i);
            buckets[(hash(&id) & ((1 << 17) - 1)) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&n| n <= 8),
            "{:?}",
            buckets.iter().max()
        );
        // And the top 7 bits (hashbrown's control bytes) take every value.
        let mut top = [false; 128];
        for i in 0..10_000u64 {
            top[(hash(&format!("acct-{i}")) >> 57) as usize] = true;
        }
        assert!(top.iter().all(|&t| t));
    }

    #[test]
    fn equal_keys_hash_equal_and_prefixes_apart() {
        assert_eq!(hash("ou-root-p0000001"), hash("ou-root-p0000001"));
        assert_ne!(hash("a"), hash("a\0"));
        assert_ne!(hash(""), hash("\0"));
        let map: FastMap<&str, u32> = [("a", 1), ("b", 2)].into_iter().collect();
        assert_eq!(map.get("b"), Some(&2));
    }
}
