//! Portable random helpers.
//!
//! Everything is derived from `ChaCha8Rng::next_u64`, whose output stream is
//! value-stable across platforms and `rand_chacha` 0.3.x releases. We do not
//! use `rand`'s distribution machinery (`gen_range`, `choose`, `gen_bool`),
//! whose algorithms may differ between `rand` releases or by `usize` width.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) struct Rng(ChaCha8Rng);

impl Rng {
    /// A generator for `seed`, on an independent `stream` (one per phase).
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream);
        Rng(r)
    }

    /// Uniform in `0..n` (`n > 0`), multiply-shift on 128 bits (bias < 2^-32).
    pub(crate) fn below64(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.0.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub(crate) fn below(&mut self, n: u32) -> u32 {
        self.below64(u64::from(n)) as u32
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        debug_assert!(lo <= hi);
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range_i64(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        lo + self.below64((hi - lo) as u64 + 1) as i64
    }

    /// True with probability `p / 1000`.
    pub(crate) fn per_mille(&mut self, p: u32) -> bool {
        self.below(1000) < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }

    /// Index chosen with the given integer weights.
    pub(crate) fn weighted_index(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    pub(crate) fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| *w).sum();
        let mut x = self.below(total);
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[items.len() - 1].0
    }
}

/// SplitMix64 finalizer: a good, portable 64-bit mixer.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A keyed bijection on `0..domain` (balanced Feistel network on
/// `2 * half_bits` bits with cycle walking). Used to turn sequential indices
/// into unique, random-looking identifiers.
pub(crate) struct Permutation {
    keys: [u64; 4],
    half_bits: u32,
    domain: u64,
}

impl Permutation {
    pub(crate) fn new(seed: u64, salt: u64, half_bits: u32, domain: u64) -> Self {
        assert!(domain <= 1u64 << (2 * half_bits), "domain too large");
        let mut keys = [0u64; 4];
        for (i, k) in keys.iter_mut().enumerate() {
            *k = mix64(seed ^ mix64(salt.wrapping_mul(31).wrapping_add(i as u64)));
        }
        Permutation {
            keys,
            half_bits,
            domain,
        }
    }

    fn feistel(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let mut l = x >> self.half_bits;
        let mut r = x & mask;
        for k in self.keys {
            let f = mix64(r ^ k) & mask;
            let nl = r;
            r = l ^ f;
            l = nl;
        }
        (l << self.half_bits) | r
    }

    pub(crate) fn apply(&self, x: u64) -> u64 {
        assert!(x < self.domain, "index outside permutation domain");
        let mut y = self.feistel(x);
        while y >= self.domain {
            y = self.feistel(y);
        }
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_bijective_on_small_domain() {
        let p = Permutation::new(42, 1, 6, 1000);
        let mut seen = vec![false; 1000];
        for i in 0..1000 {
            let y = p.apply(i) as usize;
            assert!(!seen[y]);
            seen[y] = true;
        }
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::new(7, 0);
        for n in 1..200u32 {
            assert!(r.below(n) < n);
            let v = r.range(n, n + 3);
            assert!((n..=n + 3).contains(&v));
        }
    }
}
