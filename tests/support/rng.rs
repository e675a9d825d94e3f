//! A tiny, dependency-free, seeded pseudo-random number generator for tests.
//!
//! The generator is xoshiro256** (Blackman and Vigna), seeded through SplitMix64 so that any
//! `u64` (including 0 and small consecutive numbers) gives a well-mixed, independent-looking
//! stream. It is fast, deterministic on every platform, and **not** cryptographic: use it only to
//! drive property tests, fuzzers and simulations, where a failing case must be reproducible from
//! its seed.
//!
//! Part of the shared test harness (`tests/support/`): take it from any integration test with:
//!
//! ```ignore
//! mod support;
//! use support::rng::Rng;
//!
//! let mut rng = Rng::new(42);
//! let n = rng.below(10); // 0..10
//! if rng.chance(0.25) { /* a quarter of the time */ }
//! let name = *rng.pick(&["a", "b", "c"]);
//! let noise = rng.bytes(16);
//! ```
//!
//! A common pattern is one generator per case, `Rng::for_case(seed, case)`, so that a failure
//! report only needs the seed and the case number to be replayed on its own.
//!
//! Every helper panics on an empty range (`below(0)`, `pick(&[])`, ...) instead of returning
//! something arbitrary, because that is always a bug in the test.

// Each test binary uses a different subset of the helpers.
#![allow(dead_code)]

/// A seeded xoshiro256** generator. `Clone` it to fork an identical stream.
#[derive(Clone, Debug)]
pub struct Rng {
    state: [u64; 4],
}

/// One step of SplitMix64: advances `state` and returns a well-mixed output.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let state = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        // SplitMix64 never yields four zero words in a row, but keep the invariant explicit:
        // xoshiro's all-zero state is a fixed point.
        debug_assert!(state.iter().any(|&w| w != 0));
        Rng { state }
    }

    /// The generator for case number `case` of a run seeded with `seed`: independent of the
    /// other cases, so one case can be replayed without replaying the ones before it.
    pub fn for_case(seed: u64, case: u64) -> Rng {
        let mut sm = seed ^ case.wrapping_mul(0xD1B5_4A32_D192_ED03);
        Rng::new(splitmix64(&mut sm))
    }

    /// A new generator seeded from this one's stream (advances `self` by one step).
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }

    /// The next 64 uniformly random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// The next 32 uniformly random bits.
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A uniformly random `f64` in `[0, 1)` (53 bits of precision).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniformly random bool.
    pub fn coin(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }

    /// A uniformly random number in `0..n`, without modulo bias (Lemire's method).
    ///
    /// Panics if `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below(0): empty range");
        let threshold = n.wrapping_neg() % n; // (2^64 - n) mod n
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// A uniformly random index in `0..len`. Panics if `len == 0`.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// A uniformly random number in `lo..=hi`. Panics if `lo > hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "Rng::range({lo}, {hi}): empty range");
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            None => self.next_u64(), // the full u64 range
        }
    }

    /// A uniformly random `usize` in `lo..=hi`. Panics if `lo > hi`.
    pub fn range_usize(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as u64, hi as u64) as usize
    }

    /// A size in `0..=max` skewed towards small values: each bit-width is equally likely, so
    /// `0`, `1`, a few, dozens and hundreds all turn up often, and `max` itself now and then.
    pub fn small_size(&mut self, max: usize) -> usize {
        let bits = 64 - (max as u64).leading_zeros();
        let width = self.below(u64::from(bits) + 1);
        let cap = if width >= 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        self.range(0, cap.min(max as u64)) as usize
    }

    /// `true` with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// `true` with probability `numerator / denominator`, exactly. Panics if `denominator == 0`.
    pub fn ratio(&mut self, numerator: u64, denominator: u64) -> bool {
        self.below(denominator) < numerator
    }

    /// A uniformly chosen element. Panics if `items` is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        assert!(!items.is_empty(), "Rng::pick on an empty slice");
        &items[self.index(items.len())]
    }

    /// A uniformly chosen element, by value. Panics if `items` is empty.
    ///
    /// Prefer this to `*rng.pick(..)` for `Copy` items: in argument position that deref trips
    /// clippy's `explicit_auto_deref`, and dropping it can make `T` infer as `str`.
    pub fn pick_copied<T: Copy>(&mut self, items: &[T]) -> T {
        *self.pick(items)
    }

    /// An index chosen with probability proportional to `weights[i]`. Panics if all are zero.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        assert!(total > 0, "Rng::weighted: all weights are zero");
        let mut roll = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if roll < w {
                return i;
            }
            roll -= w;
        }
        unreachable!("roll < total")
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }

    /// Fills `buf` with random bytes.
    pub fn fill_bytes(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let word = self.next_u64().to_le_bytes();
            rest.copy_from_slice(&word[..rest.len()]);
        }
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut buf = vec![0; len];
        self.fill_bytes(&mut buf);
        buf
    }
}

#[cfg(test)]
mod tests {
    // Unused where `#[test]` functions are compiled out (the benchmark, `harness = false`).
    #[allow(unused_imports)]
    use super::Rng;

    #[test]
    fn streams_are_deterministic_and_seed_dependent() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let c = Rng::new(8).next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
    }

    #[test]
    fn helpers_stay_in_range() {
        let mut r = Rng::new(1);
        for n in 1..200u64 {
            assert!(r.below(n) < n);
            let x = r.range(n, n + 3);
            assert!((n..=n + 3).contains(&x));
            assert!(r.small_size(n as usize) <= n as usize);
        }
        assert_eq!(r.bytes(13).len(), 13);
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
        let _ = r.range(0, u64::MAX);
    }
}
