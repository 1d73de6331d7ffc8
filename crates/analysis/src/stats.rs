//! Small statistical primitives the fits share: quantiles of samples, the Student t
//! quantile, and a fast seeded generator for bootstrap indices.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// The `p`-quantile of an ascending-sorted sample, type 7 (Hyndman & Fan 1996; R's and
/// NumPy's default), as [`braingap_core::stats::quantile_sorted`] computes it; `None` for an
/// empty sample. `p` is clamped to `[0, 1]`.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    (!sorted.is_empty()).then(|| braingap_core::stats::quantile_sorted(sorted, p))
}

/// The median of a sample, as [`braingap_core::stats::median`] computes it; `None` for an
/// empty sample.
pub fn median(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| braingap_core::stats::median(values))
}

/// `ln Γ(x)` for `x > 0`, Lanczos approximation (g = 7, n = 9; |error| < 1e-14 over
/// the range the t quantile needs).
pub fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Regularized incomplete beta `I_x(a, b)`, by the continued fraction of Numerical
/// Recipes §6.4 (modified Lentz), using the symmetry `I_x(a,b) = 1 − I_{1−x}(b,a)`
/// where the fraction converges faster.
pub fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + even * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + even / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + odd * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + odd / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// CDF of Student's t with `df` degrees of freedom:
/// `F(t) = 1 − ½·I_{df/(df+t²)}(df/2, ½)` for `t ≥ 0`, and `1 − F(−t)` below zero.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * regularized_incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The `p`-quantile of Student's t with `df > 0` degrees of freedom, found by bisection
/// on [`student_t_cdf`] to 1e-12 (e.g. `student_t_quantile(0.975, 10.0) ≈ 2.228139`).
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -student_t_quantile(1.0 - p, df);
    }
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    while student_t_cdf(high, df) < p && high < 1e12 {
        high *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if student_t_cdf(mid, df) < p {
            low = mid;
        } else {
            high = mid;
        }
        if high - low < 1e-12 * high.max(1.0) {
            break;
        }
    }
    0.5 * (low + high)
}

/// A xoshiro256++ generator (Blackman & Vigna 2018), seeded from `StdRng`, used only
/// to draw bootstrap indices: it is several times faster than ChaCha and its
/// statistical quality is ample for resampling.
#[derive(Debug, Clone)]
pub struct IndexRng {
    state: [u64; 4],
}

impl IndexRng {
    /// Seeds the generator deterministically: the same `seed` gives the same stream.
    pub fn seed_from_u64(seed: u64) -> IndexRng {
        let mut seeder = StdRng::seed_from_u64(seed);
        let mut state = [0u64; 4];
        for word in &mut state {
            *word = seeder.next_u64();
        }
        if state == [0; 4] {
            state[0] = 1;
        }
        IndexRng { state }
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform index in `0..n` by Lemire's multiply-shift; the bias is below
    /// `n / 2^64`, negligible for any sample that fits in memory.
    #[inline]
    pub fn index(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Two-sided 95 % critical values from standard tables.
        for (df, expected) in [
            (1.0, 12.7062),
            (2.0, 4.3027),
            (5.0, 2.5706),
            (10.0, 2.2281),
            (30.0, 2.0423),
            (1000.0, 1.9623),
        ] {
            let q = student_t_quantile(0.975, df);
            assert!((q - expected).abs() < 1e-3, "df {df}: {q} vs {expected}");
        }
        assert!((student_t_quantile(0.025, 10.0) + 2.2281).abs() < 1e-3);
    }

    #[test]
    fn quantiles_interpolate() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&sorted, 0.0), Some(1.0));
        assert_eq!(quantile_sorted(&sorted, 1.0), Some(4.0));
        assert_eq!(quantile_sorted(&sorted, 0.5), Some(2.5));
        assert_eq!(quantile_sorted(&[], 0.5), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    }

    #[test]
    fn index_rng_is_deterministic_and_in_range() {
        let mut a = IndexRng::seed_from_u64(7);
        let mut b = IndexRng::seed_from_u64(7);
        for _ in 0..1000 {
            let i = a.index(13);
            assert_eq!(i, b.index(13));
            assert!(i < 13);
        }
    }
}
