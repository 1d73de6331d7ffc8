//! Deterministic, seeded input data.
//!
//! Element `i` of a buffer is a pure function of `(seed, i)` (SplitMix64), so buffers can be
//! filled in parallel, regenerated element by element by a reference check, and are the
//! same whatever the thread count.

use super::Real;
use rayon::prelude::*;

/// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform value in [0, 1) for element `index` of stream `seed` (53 random bits).
pub fn unit(seed: u64, index: u64) -> f64 {
    let bits = splitmix64(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ index);
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform value in [lo, hi) for element `index` of stream `seed`.
pub fn uniform(seed: u64, index: u64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * unit(seed, index)
}

/// Fills `buf` with uniform values in [lo, hi), in parallel, deterministically.
pub fn fill_uniform<T: Real>(buf: &mut [T], seed: u64, lo: f64, hi: f64) {
    const CHUNK: usize = 1 << 14;
    buf.par_chunks_mut(CHUNK).enumerate().for_each(|(chunk, part)| {
        let base = (chunk * CHUNK) as u64;
        for (offset, slot) in part.iter_mut().enumerate() {
            *slot = T::from_f64(uniform(seed, base + offset as u64, lo, hi));
        }
    });
}

/// Allocates and fills a buffer of `len` uniform values in [lo, hi).
pub fn uniform_vec<T: Real>(len: usize, seed: u64, lo: f64, hi: f64) -> Vec<T> {
    let mut buf = vec![T::default(); len];
    fill_uniform(&mut buf, seed, lo, hi);
    buf
}

/// `count` distinct-ish sample positions in `0..len` (seeded; duplicates possible, harmless).
pub fn sample_positions(len: usize, count: usize, seed: u64) -> Vec<usize> {
    if len <= count {
        return (0..len).collect();
    }
    (0..count as u64)
        .map(|i| (splitmix64(seed ^ (i << 20) ^ 0xA5A5) % len as u64) as usize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_deterministic_and_in_range() {
        let a: Vec<f64> = uniform_vec(100_000, 7, -1.0, 1.0);
        let b: Vec<f64> = uniform_vec(100_000, 7, -1.0, 1.0);
        assert_eq!(a, b);
        assert!(a.iter().all(|&x| (-1.0..1.0).contains(&x)));
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        let c: Vec<f64> = uniform_vec(10, 8, -1.0, 1.0);
        assert_ne!(a[..10], c[..]);
        assert_eq!(a[12345], uniform(7, 12345, -1.0, 1.0));
    }

    #[test]
    fn sample_positions_stay_in_bounds() {
        assert_eq!(sample_positions(5, 10, 1), vec![0, 1, 2, 3, 4]);
        let s = sample_positions(1000, 64, 3);
        assert_eq!(s.len(), 64);
        assert!(s.iter().all(|&i| i < 1000));
    }
}
