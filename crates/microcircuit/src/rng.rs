//! Seeded random streams: one `StdRng` per (purpose, index, index), derived from the master seed.
//!
//! Each stream's seed is `splitmix64` chained over the master seed, a purpose tag and two indices, then
//! passed to `StdRng::seed_from_u64`. Streams are indexed by fixed network units (population pairs,
//! 128-neuron blocks), never by thread, so the numbers drawn do not depend on the thread count.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

/// Stream purpose: splitting a pair's synapse total over the target blocks.
pub const TAG_SPLIT: u64 = 1;
/// Stream purpose: drawing one block's synapses from one source population.
pub const TAG_SYNAPSES: u64 = 2;
/// Stream purpose: initial membrane potentials of one block.
pub const TAG_V0: u64 = 3;
/// Stream purpose: Poisson background of one block.
pub const TAG_POISSON: u64 = 4;
/// Stream purpose: the thalamic Poisson trains.
pub const TAG_THALAMUS: u64 = 5;

/// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective mix, so distinct inputs give distinct seeds.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seed of stream (`tag`, `a`, `b`) under `master`.
pub fn stream_seed(master: u64, tag: u64, a: u64, b: u64) -> u64 {
    splitmix64(splitmix64(splitmix64(splitmix64(master) ^ tag) ^ a) ^ b)
}

/// The stream (`tag`, `a`, `b`) under `master`.
pub fn stream(master: u64, tag: u64, a: u64, b: u64) -> StdRng {
    StdRng::seed_from_u64(stream_seed(master, tag, a, b))
}

/// NEST's `nest.math.redraw(normal, min, max)` (`parameter.cpp`, `RedrawParameter::value`): draw again while the
/// value is `< min` or `> max`. NEST gives up after 1000 redraws; at the microcircuit's SDs the chance of a
/// single redraw is below 1e-20 for weights and ~2.3 % for delays, so the loop ends.
pub fn normal_redraw<R: Rng + ?Sized>(rng: &mut R, normal: &Normal<f64>, min: f64, max: f64) -> f64 {
    loop {
        let v = normal.sample(rng);
        if !(v < min || v > max) {
            return v;
        }
    }
}

/// Poisson sampling by inversion: one `u64` per draw against the CDF scaled to 2⁶⁴ (thresholds rounded
/// to 2⁻⁶⁴; the table stops where the CDF rounds to 1 in f64, i.e. tail mass below ~1e-16). About 2.5× fewer
/// random numbers than Knuth's multiplication method at the background's λ ≈ 1.2–2.3, and its loop is shorter.
#[derive(Debug, Clone, PartialEq)]
pub struct PoissonTable {
    /// The first `HEAD` thresholds, padded with `u64::MAX`.
    head: [u64; HEAD],
    thresholds: Vec<u64>,
}

/// Thresholds compared without branches; past them (P ≈ 0.2 % at λ = 2.3) a loop takes over.
const HEAD: usize = 8;

impl PoissonTable {
    /// For mean `lambda` (>= 0).
    pub fn new(lambda: f64) -> PoissonTable {
        let mut thresholds = Vec::new();
        let (mut p, mut cdf) = ((-lambda).exp(), 0.0f64);
        let mut k = 0u32;
        while cdf < 1.0 && k < 1000 {
            cdf += p;
            // 2^64 · cdf, saturating at u64::MAX: values u >= threshold[k] mean "more than k".
            thresholds.push(if cdf >= 1.0 {
                u64::MAX
            } else {
                (cdf * 18446744073709551616.0) as u64
            });
            k += 1;
            p *= lambda / k as f64;
        }
        let mut head = [u64::MAX; HEAD];
        for (h, &t) in head.iter_mut().zip(&thresholds) {
            *h = t;
        }
        PoissonTable { head, thresholds }
    }

    /// One draw.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        let u = rng.next_u64();
        // Counting thresholds at or below u is the inverse CDF; branch-free, as the count is unpredictable.
        let mut k = self.head.iter().map(|&t| (u >= t) as usize).sum::<usize>();
        if k == HEAD {
            while k < self.thresholds.len() && u >= self.thresholds[k] {
                k += 1;
            }
        }
        k as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_repeat() {
        let a: u64 = stream(1, TAG_V0, 0, 0).random();
        let b: u64 = stream(1, TAG_V0, 0, 1).random();
        let c: u64 = stream(1, TAG_V0, 0, 0).random();
        assert_ne!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn poisson_table_matches_the_distribution() {
        for lambda in [0.012f64, 1.28, 2.32] {
            let table = PoissonTable::new(lambda);
            let mut rng = stream(9, TAG_POISSON, 1, 0);
            let n = 400_000;
            let mut hist = [0u64; 12];
            for _ in 0..n {
                hist[(table.sample(&mut rng) as usize).min(11)] += 1;
            }
            let mut p = (-lambda).exp();
            for (k, &h) in hist.iter().enumerate().take(8) {
                let expected = n as f64 * p;
                // 5 SD of a binomial count, plus 3 for tiny cells.
                assert!(
                    (h as f64 - expected).abs() < 5.0 * expected.sqrt() + 3.0,
                    "λ {lambda} k {k}: {h} vs {expected}"
                );
                p *= lambda / (k + 1) as f64;
            }
        }
    }
}
