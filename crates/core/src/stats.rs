//! Robust statistics over samples, as pure functions.
//!
//! Conventions: the median of an even count is the mean of the two middle values; MAD is
//! the raw median absolute deviation (not scaled by 1.4826); quartiles use linear
//! interpolation between order statistics (type 7, as R and numpy default). Outliers are
//! classified with Tukey's fences, as criterion.rs does: beyond 1.5·IQR from the quartiles
//! is mild, beyond 3·IQR severe. Outliers are flagged, never dropped.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Tukey classification of one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outlier {
    /// Inside the inner fences.
    None,
    /// Between 1.5 and 3 IQR below Q1.
    LowMild,
    /// More than 3 IQR below Q1.
    LowSevere,
    /// Between 1.5 and 3 IQR above Q3.
    HighMild,
    /// More than 3 IQR above Q3.
    HighSevere,
}

impl Outlier {
    /// Name stored in `samples.csv` (empty for none).
    pub fn as_str(self) -> &'static str {
        match self {
            Outlier::None => "",
            Outlier::LowMild => "low_mild",
            Outlier::LowSevere => "low_severe",
            Outlier::HighMild => "high_mild",
            Outlier::HighSevere => "high_severe",
        }
    }
}

/// Summary statistics of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// Median.
    pub median: f64,
    /// Median absolute deviation from the median.
    pub mad: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Lower end of the bootstrap 95% CI of the median.
    pub ci_low: f64,
    /// Upper end of the bootstrap 95% CI of the median.
    pub ci_high: f64,
    /// Samples flagged as outliers (mild or severe).
    pub outliers: usize,
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Median of an already sorted slice; NaN when empty.
pub fn median_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Median; NaN when empty.
pub fn median(xs: &[f64]) -> f64 {
    median_sorted(&sorted(xs))
}

/// Median absolute deviation from the median.
pub fn mad(xs: &[f64]) -> f64 {
    let m = median(xs);
    median(&xs.iter().map(|x| (x - m).abs()).collect::<Vec<_>>())
}

/// Quantile `q` in [0, 1] of a sorted slice, type-7 interpolation.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Tukey classification of every sample (same order as `xs`).
pub fn classify_outliers(xs: &[f64]) -> Vec<Outlier> {
    let s = sorted(xs);
    let (q1, q3) = (quantile_sorted(&s, 0.25), quantile_sorted(&s, 0.75));
    let iqr = q3 - q1;
    xs.iter()
        .map(|&x| {
            if x < q1 - 3.0 * iqr {
                Outlier::LowSevere
            } else if x < q1 - 1.5 * iqr {
                Outlier::LowMild
            } else if x > q3 + 3.0 * iqr {
                Outlier::HighSevere
            } else if x > q3 + 1.5 * iqr {
                Outlier::HighMild
            } else {
                Outlier::None
            }
        })
        .collect()
}

/// Percentile bootstrap CI of the median: `resamples` resamples with replacement drawn
/// from a generator seeded with `seed`, the `(1−confidence)/2` and `(1+confidence)/2`
/// quantiles of their medians. Deterministic for a given seed.
pub fn bootstrap_median_ci(xs: &[f64], resamples: usize, confidence: f64, seed: u64) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    if xs.len() == 1 || resamples == 0 {
        return (xs[0], xs[0]);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut buf = vec![0.0; xs.len()];
    let mut medians: Vec<f64> = (0..resamples)
        .map(|_| {
            for slot in buf.iter_mut() {
                *slot = xs[rng.random_range(0..xs.len())];
            }
            buf.sort_by(f64::total_cmp);
            median_sorted(&buf)
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence) / 2.0;
    (quantile_sorted(&medians, alpha), quantile_sorted(&medians, 1.0 - alpha))
}

/// All summary statistics of `xs`, with a seeded 95% bootstrap CI of the median.
pub fn summarize(xs: &[f64], resamples: usize, seed: u64) -> Summary {
    let s = sorted(xs);
    let (ci_low, ci_high) = bootstrap_median_ci(xs, resamples, 0.95, seed);
    Summary {
        count: xs.len(),
        median: median_sorted(&s),
        mad: mad(xs),
        min: s.first().copied().unwrap_or(f64::NAN),
        max: s.last().copied().unwrap_or(f64::NAN),
        mean: if xs.is_empty() {
            f64::NAN
        } else {
            xs.iter().sum::<f64>() / xs.len() as f64
        },
        ci_low,
        ci_high,
        outliers: classify_outliers(xs).iter().filter(|o| **o != Outlier::None).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_worked_values() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
        // deviations from 3: 2,1,0,1,2,... → |1-3|,|2-3|,|3-3|,|4-3|,|5-3| = 2,1,0,1,2 → 1
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 5.0]), 1.0);
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
    }

    #[test]
    fn tukey_fences_flag_but_keep() {
        let xs = [10.0, 10.1, 9.9, 10.0, 10.2, 9.8, 10.0, 50.0];
        let flags = classify_outliers(&xs);
        assert_eq!(flags.len(), xs.len());
        assert_eq!(flags[7], Outlier::HighSevere);
        assert!(flags[..7].iter().all(|f| *f == Outlier::None));
        let s = summarize(&xs, 1000, 1);
        assert_eq!(s.count, 8);
        assert_eq!(s.outliers, 1);
        assert_eq!(s.max, 50.0);
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_median() {
        let xs: Vec<f64> = (0..50).map(|i| 1.0 + (i as f64 * 0.37).sin() * 0.1).collect();
        let a = bootstrap_median_ci(&xs, 2000, 0.95, 42);
        let b = bootstrap_median_ci(&xs, 2000, 0.95, 42);
        assert_eq!(a, b);
        let m = median(&xs);
        assert!(a.0 <= m && m <= a.1, "{a:?} vs {m}");
        assert!(a.1 - a.0 < 0.1);
        assert_eq!(bootstrap_median_ci(&[2.0], 100, 0.95, 1), (2.0, 2.0));
    }

    proptest! {
        #[test]
        fn order_invariants(xs in proptest::collection::vec(0.0f64..1e3, 1..60)) {
            let s = summarize(&xs, 200, 7);
            prop_assert!(s.min <= s.median && s.median <= s.max);
            prop_assert!(s.min <= s.ci_low && s.ci_low <= s.ci_high && s.ci_high <= s.max);
            prop_assert!(s.mad >= 0.0);
            prop_assert!(s.min <= s.mean && s.mean <= s.max);
        }
    }
}
