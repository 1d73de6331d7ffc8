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

/// A Poisson count by Knuth's multiplication method, given `exp_neg_lambda` = e^−λ: exact in distribution and
/// cheap for the λ ≈ 1.2–2.3 of the background input per 0.1 ms step.
#[inline]
pub fn poisson_knuth<R: Rng + ?Sized>(rng: &mut R, exp_neg_lambda: f64) -> u32 {
    let mut k = 0;
    let mut p: f64 = rng.random();
    while p > exp_neg_lambda {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
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
    fn poisson_mean_and_variance() {
        let lambda: f64 = 1.7;
        let l = (-lambda).exp();
        let mut rng = stream(7, TAG_POISSON, 0, 0);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| poisson_knuth(&mut rng, l) as f64).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // SE of the mean is sqrt(1.7/2e5) ≈ 0.003; 5 SE.
        assert!((mean - lambda).abs() < 0.015, "mean {mean}");
        assert!((var - lambda).abs() < 0.05, "var {var}");
    }
}
