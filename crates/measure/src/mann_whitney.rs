//! The Mann-Whitney U test (Wilcoxon rank-sum test), as a pure function over two samples.
//!
//! U of the first sample `x` is `R_x − n₁(n₁+1)/2`, where `R_x` is the sum of the ranks of
//! `x` in the pooled sample (tied values get the mean of the ranks they span); U of `y` is
//! `n₁n₂ − U_x`. Mann & Whitney (1947), *Ann. Math. Statist.* 18(1):50–60.
//!
//! P-values:
//!
//! * **exact**: the permutation distribution of x's rank sum given the pooled ranks: every
//!   choice of n₁ of the n₁ + n₂ (mid-)ranks is equally likely under the null, and a
//!   subset-sum count in exact integer arithmetic gives each sum's frequency. Without ties
//!   these frequencies are the coefficients of the Gaussian binomial [n₁+n₂ choose n₁]_q
//!   and the p-values equal SciPy's `mannwhitneyu(method="exact")`; with ties the test is
//!   the exact conditional one (SciPy's exact method ignores ties instead).
//! * **asymptotic**: SciPy's `method="asymptotic"`: the normal approximation with mean
//!   n₁n₂/2, variance n₁n₂/12 · ((n+1) − Σ(t³−t)/(n(n−1))) (the tie correction sums over
//!   groups of t tied values) and a continuity correction of ½.
//!
//! [`Method::Auto`] takes the exact distribution when n₁ + n₂ ≤ [`EXACT_MAX_TOTAL`] (where
//! the normal approximation is poorest, worst with ties), the normal approximation
//! otherwise. The alternative `Greater` means `x` tends to be larger than `y`; the
//! two-sided p-value is twice the smaller tail, capped at 1.

use serde::Serialize;

/// Largest n₁ + n₂ for which [`Method::Auto`] uses the exact distribution (the counts stay
/// far inside `u128`: C(60, 30) ≈ 1.2 × 10¹⁷; the table has n₁ × n(n+1) entries).
pub const EXACT_MAX_TOTAL: usize = 60;

/// Which p-value computation to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Exact for n₁ + n₂ ≤ [`EXACT_MAX_TOTAL`], asymptotic otherwise.
    Auto,
    /// The exact permutation distribution (conditional on ties).
    Exact,
    /// The normal approximation with tie and continuity corrections.
    Asymptotic,
}

/// The alternative hypothesis, about the first sample `x` relative to `y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    /// The distributions differ.
    TwoSided,
    /// `x` tends to be larger.
    Greater,
    /// `x` tends to be smaller.
    Less,
}

/// Result of the test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannWhitney {
    /// U of the first sample.
    pub u_x: f64,
    /// The p-value.
    pub p_value: f64,
    /// The method actually used (never `Auto`).
    pub method: Method,
    /// Whether the pooled sample had ties.
    pub ties: bool,
}

/// Tests `x` against `y`. `None` when a sample is empty or holds a NaN.
pub fn mann_whitney_u(x: &[f64], y: &[f64], alternative: Alternative, method: Method) -> Option<MannWhitney> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 || x.iter().chain(y).any(|v| v.is_nan()) {
        return None;
    }
    let (ranks, doubled_sum_x, tie_term) = doubled_ranks(x, y);
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let u_x = doubled_sum_x as f64 / 2.0 - n1f * (n1f + 1.0) / 2.0;
    let u_y = n1f * n2f - u_x;
    let ties = tie_term > 0.0;
    let method = match method {
        Method::Auto if n1 + n2 <= EXACT_MAX_TOTAL => Method::Exact,
        Method::Auto => Method::Asymptotic,
        m => m,
    };
    let p_value = match method {
        Method::Exact => {
            let (upper, lower) = exact_tails(&ranks, n1, doubled_sum_x);
            match alternative {
                Alternative::Greater => upper,
                Alternative::Less => lower,
                Alternative::TwoSided => 2.0 * upper.min(lower),
            }
        }
        _ => {
            let (u, factor) = match alternative {
                Alternative::Greater => (u_x, 1.0),
                Alternative::Less => (u_y, 1.0),
                Alternative::TwoSided => (u_x.max(u_y), 2.0),
            };
            let n = n1f + n2f;
            let variance = n1f * n2f / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
            if variance <= 0.0 {
                1.0
            } else {
                factor * normal_sf((u - n1f * n2f / 2.0 - 0.5) / variance.sqrt())
            }
        }
    };
    Some(MannWhitney {
        u_x,
        p_value: p_value.clamp(0.0, 1.0),
        method,
        ties,
    })
}

/// The pooled sample's doubled mid-ranks (1-based ranks × 2, so ties stay integral), the
/// doubled rank sum of `x`, and Σ(t³ − t) over groups of t tied values.
fn doubled_ranks(x: &[f64], y: &[f64]) -> (Vec<u64>, u64, f64) {
    let mut pooled: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranks = Vec::with_capacity(pooled.len());
    let (mut sum_x, mut tie_term) = (0u64, 0.0);
    let mut start = 0;
    while start < pooled.len() {
        let mut end = start + 1;
        while end < pooled.len() && pooled[end].0 == pooled[start].0 {
            end += 1;
        }
        // Ranks start+1 ..= end share their mean (start + 1 + end) / 2; doubled, an integer.
        let doubled = (start + 1 + end) as u64;
        for p in &pooled[start..end] {
            ranks.push(doubled);
            if p.1 {
                sum_x += doubled;
            }
        }
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    (ranks, sum_x, tie_term)
}

/// The exact permutation distribution of the first sample's rank sum, conditional on the
/// pooled (mid-)ranks: `counts[s]` is the number of ways to choose n₁ of the ranks whose
/// doubled sum is `s` (doubling keeps mid-ranks integral). Without ties these are the
/// coefficients of the Gaussian binomial [n₁+n₂ choose n₁]_q, shifted by n₁(n₁+1).
fn rank_sum_counts(doubled_ranks: &[u64], n1: usize) -> Vec<u128> {
    let max_sum: u64 = doubled_ranks.iter().sum();
    let width = max_sum as usize + 1;
    // ways[k * width + s]: subsets of size k with doubled rank sum s.
    let mut ways = vec![0u128; (n1 + 1) * width];
    ways[0] = 1;
    for (i, &r) in doubled_ranks.iter().enumerate() {
        let r = r as usize;
        for k in (1..=n1.min(i + 1)).rev() {
            for s in (r..width).rev() {
                let add = ways[(k - 1) * width + s - r];
                ways[k * width + s] += add;
            }
        }
    }
    ways[n1 * width..].to_vec()
}

/// Exact P(R ≥ observed) and P(R ≤ observed) for the doubled rank sum of the first sample.
fn exact_tails(doubled_ranks: &[u64], n1: usize, observed: u64) -> (f64, f64) {
    let counts = rank_sum_counts(doubled_ranks, n1);
    let total: u128 = counts.iter().sum();
    let upper: u128 = counts.iter().skip(observed as usize).sum();
    let lower: u128 = counts.iter().take(observed as usize + 1).sum();
    (upper as f64 / total as f64, lower as f64 / total as f64)
}

/// Survival function of the standard normal, 1 − Φ(z) = erfc(z/√2)/2.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function: the Chebyshev fit of *Numerical Recipes* (2nd ed., §6.2,
/// `erfcc`), fractional error below 1.2 × 10⁻⁷ everywhere.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let ans = t * poly.exp();
    if x >= 0.0 {
        ans
    } else {
        2.0 - ans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn exact_counts_without_ties_are_gaussian_binomials() {
        // [4 choose 2]_q = 1 + q + 2q² + q³ + q⁴: U of 2 vs 2 values; doubled rank sums of
        // 2 of the ranks 1..4 run from 2·3 = 6 to 2·7 = 14 in steps of 2.
        let counts = rank_sum_counts(&[2, 4, 6, 8], 2);
        let nonzero: Vec<u128> = counts.iter().copied().skip(6).step_by(2).take(5).collect();
        assert_eq!(nonzero, vec![1, 1, 2, 1, 1]);
        // The counts sum to C(n₁+n₂, n₁) and are symmetric.
        let ranks: Vec<u64> = (1..=16).map(|r| 2 * r).collect();
        let c: Vec<u128> = rank_sum_counts(&ranks, 7)
            .into_iter()
            .skip(2 * 28)
            .step_by(2)
            .take(7 * 9 + 1)
            .collect();
        assert_eq!(c.iter().sum::<u128>(), 11_440);
        assert!(c.iter().eq(c.iter().rev()));
    }

    #[test]
    fn exact_with_ties_is_conditional_on_them() {
        // Three tied values against three tied larger values: 1 of the C(6,3) = 20 choices
        // puts x on the three larger ranks, so the one-sided p is 1/20, two-sided 1/10;
        // the normal approximation would call it significant (p ≈ 0.047).
        let r = mann_whitney_u(&[2.0, 2.0, 2.0], &[1.0, 1.0, 1.0], Alternative::TwoSided, Method::Auto).unwrap();
        assert_eq!((r.method, r.ties), (Method::Exact, true));
        assert!(close(r.p_value, 0.1, 1e-12), "{}", r.p_value);
        let r = mann_whitney_u(
            &[2.0, 2.0, 2.0],
            &[1.0, 1.0, 1.0],
            Alternative::TwoSided,
            Method::Asymptotic,
        )
        .unwrap();
        assert!(r.p_value < 0.05, "{}", r.p_value);
        // Pooled 1, 2, 2, 3 with x = {2, 3}: doubled ranks 2, 5, 5, 8; x's sum 13 of the
        // six pairs' sums {7, 7, 10, 10, 13, 13}: P(≥ 13) = 2/6.
        let r = mann_whitney_u(&[2.0, 3.0], &[1.0, 2.0], Alternative::Greater, Method::Exact).unwrap();
        assert!(close(r.p_value, 2.0 / 6.0, 1e-12), "{}", r.p_value);
    }

    #[test]
    fn hand_computed_exact_p_values() {
        // Complete separation of 3 vs 3: U_x = 9 is the only arrangement of 20 at the top.
        let r = mann_whitney_u(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0], Alternative::Greater, Method::Auto).unwrap();
        assert_eq!((r.u_x, r.method), (9.0, Method::Exact));
        assert!(close(r.p_value, 1.0 / 20.0, 1e-12));
        let r = mann_whitney_u(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0], Alternative::TwoSided, Method::Auto).unwrap();
        assert!(close(r.p_value, 0.1, 1e-12));
        let r = mann_whitney_u(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0], Alternative::Less, Method::Auto).unwrap();
        assert!(close(r.p_value, 1.0, 1e-12));
        // 2 vs 2, x = {1, 4}, y = {2, 3}: U_x = 2, the middle of the distribution; P(U ≥ 2) = 4/6.
        let r = mann_whitney_u(&[1.0, 4.0], &[2.0, 3.0], Alternative::Greater, Method::Exact).unwrap();
        assert_eq!(r.u_x, 2.0);
        assert!(close(r.p_value, 4.0 / 6.0, 1e-12));
    }

    #[test]
    fn ranks_ties_by_their_mean() {
        // Pooled 1, 2, 2, 3: the two 2s share rank 2.5; x = {2, 3} has rank sum 6.5, U_x = 3.5.
        let r = mann_whitney_u(&[2.0, 3.0], &[1.0, 2.0], Alternative::TwoSided, Method::Auto).unwrap();
        assert_eq!(r.u_x, 3.5);
        assert!(r.ties);
        // Large samples go to the normal approximation.
        let big: Vec<f64> = (0..40).map(f64::from).collect();
        let r = mann_whitney_u(&big, &big, Alternative::TwoSided, Method::Auto).unwrap();
        assert_eq!(r.method, Method::Asymptotic);
    }

    /// Figures from SciPy 1.17.1, `scipy.stats.mannwhitneyu(x, y, alternative=..., method=...)`.
    #[test]
    fn matches_scipy() {
        let x = [19.0, 22.0, 16.0, 29.0, 24.0];
        let y = [20.0, 11.0, 17.0, 12.0];
        // U = 17.0; exact two-sided p = 0.1111111111111111, greater 0.05555555555555555,
        // asymptotic two-sided (continuity) p = 0.11134688653314041.
        let r = mann_whitney_u(&x, &y, Alternative::TwoSided, Method::Exact).unwrap();
        assert_eq!(r.u_x, 17.0);
        assert!(close(r.p_value, SCIPY_EXACT_TWO_SIDED, 1e-12), "{}", r.p_value);
        let r = mann_whitney_u(&x, &y, Alternative::Greater, Method::Exact).unwrap();
        assert!(close(r.p_value, SCIPY_EXACT_GREATER, 1e-12), "{}", r.p_value);
        let r = mann_whitney_u(&x, &y, Alternative::TwoSided, Method::Asymptotic).unwrap();
        assert!(close(r.p_value, SCIPY_ASYMPTOTIC_TWO_SIDED, 1e-6), "{}", r.p_value);

        // With ties (tie-corrected variance), asymptotic.
        let a = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 9.0];
        let b = [2.0, 3.0, 3.0, 6.0, 7.0, 8.0, 8.0, 10.0, 11.0, 12.0];
        let r = mann_whitney_u(&a, &b, Alternative::TwoSided, Method::Asymptotic).unwrap();
        assert_eq!(r.method, Method::Asymptotic);
        assert_eq!(r.u_x, SCIPY_TIES_U);
        assert!(close(r.p_value, SCIPY_TIES_TWO_SIDED, 1e-6), "{}", r.p_value);
        let r = mann_whitney_u(&a, &b, Alternative::Less, Method::Asymptotic).unwrap();
        assert!(close(r.p_value, SCIPY_TIES_LESS, 1e-6), "{}", r.p_value);

        // Larger samples, no ties: exact and asymptotic side by side.
        let big_x: Vec<f64> = (0..12)
            .map(|i| 1.0 + 0.37 * i as f64 + 0.011 * (i * i) as f64)
            .collect();
        let big_y: Vec<f64> = (0..12).map(|i| 1.9 + 0.41 * i as f64).collect();
        let r = mann_whitney_u(&big_x, &big_y, Alternative::TwoSided, Method::Exact).unwrap();
        assert_eq!(r.u_x, SCIPY_BIG_U);
        assert!(close(r.p_value, SCIPY_BIG_EXACT, 1e-10), "{}", r.p_value);
        let r = mann_whitney_u(&big_x, &big_y, Alternative::TwoSided, Method::Asymptotic).unwrap();
        assert!(close(r.p_value, SCIPY_BIG_ASYMPTOTIC, 1e-6), "{}", r.p_value);
    }

    const SCIPY_EXACT_TWO_SIDED: f64 = 0.111_111_111_111_111_1;
    const SCIPY_EXACT_GREATER: f64 = 0.055_555_555_555_555_55;
    const SCIPY_ASYMPTOTIC_TWO_SIDED: f64 = 0.111_346_886_533_140_41;
    const SCIPY_TIES_U: f64 = 22.0;
    const SCIPY_TIES_TWO_SIDED: f64 = 0.064_648_280_428_302_38;
    const SCIPY_TIES_LESS: f64 = 0.032_324_140_214_151_19;
    const SCIPY_BIG_U: f64 = 54.0;
    const SCIPY_BIG_EXACT: f64 = 0.318_585_170_382_182_15;
    const SCIPY_BIG_ASYMPTOTIC: f64 = 0.312_321_421_676_216_1;

    #[test]
    fn a_known_shift_is_found_and_no_shift_is_not() {
        // Ten rounds each; the current build 10 % slower with ±2 % spread.
        let spread = [0.99, 1.01, 0.985, 1.02, 1.0, 0.995, 1.015, 0.98, 1.005, 1.01];
        let base: Vec<f64> = spread.iter().map(|s| 1.0 * s).collect();
        let slower: Vec<f64> = spread.iter().rev().map(|s| 1.1 * s).collect();
        let r = mann_whitney_u(&slower, &base, Alternative::TwoSided, Method::Auto).unwrap();
        assert!(r.p_value < 1e-4, "{}", r.p_value);
        // Complete separation of 10 vs 10: p = 2 / C(20, 10).
        assert!(close(r.p_value, 2.0 / 184_756.0, 1e-12), "{}", r.p_value);
        // Another draw of the same ±2 % noise: SciPy's exact p is 0.7959.
        let same = [1.0, 0.99, 1.012, 0.988, 1.005, 1.018, 0.983, 0.996, 1.008, 0.992];
        let r = mann_whitney_u(&same, &base, Alternative::TwoSided, Method::Auto).unwrap();
        assert!(r.p_value > 0.5, "{}", r.p_value);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(mann_whitney_u(&[], &[1.0], Alternative::TwoSided, Method::Auto).is_none());
        assert!(mann_whitney_u(&[f64::NAN], &[1.0], Alternative::TwoSided, Method::Auto).is_none());
        // All values tied: no evidence either way.
        let r = mann_whitney_u(&[1.0, 1.0], &[1.0, 1.0], Alternative::TwoSided, Method::Auto).unwrap();
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn normal_tail_matches_known_values() {
        assert!(close(normal_sf(0.0), 0.5, 1e-7));
        assert!(close(normal_sf(1.959_963_984_540_054), 0.025, 1e-6));
        assert!(close(normal_sf(-1.0), 0.841_344_746_068_542_9, 1e-6));
        assert!(close(normal_sf(5.0), 2.866_515_718_791_933e-7, 1e-6));
    }
}
