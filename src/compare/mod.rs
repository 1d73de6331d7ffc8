//! The regression check between two runs: per common benchmark, the ratio of median times
//! (current ÷ baseline) with a seeded bootstrap 95 % CI, and a verdict.
//!
//! Everything here is a pure function of the rows of `summary.csv` and `samples.csv`; the
//! caller loads them. `braingap report --baseline` renders the result as a table, and
//! `braingap compare` (issue 7) exits on it.
//!
//! Method. For a benchmark present in both runs with status `ok`, the point estimate is
//! `median(current per-call times) / median(baseline per-call times)`; a ratio above 1 means
//! the current run is slower. The CI resamples each run's per-call samples with
//! replacement (independently, `resamples` times, seed derived from `seed` and the benchmark
//! name so the result does not depend on row order) and takes the 2.5 % and 97.5 %
//! percentiles of the resampled ratio (percentile bootstrap; Efron & Tibshirani 1993,
//! ch. 13). When either run has no samples for the benchmark, the CI falls back to the
//! conservative `[current ci_low / baseline ci_high, current ci_high / baseline ci_low]`
//! from the two runs' own median CIs.
//!
//! Verdicts: `regressed` when the CI lies wholly above 1 and the ratio exceeds
//! `1 + threshold`; `improved` when the CI lies wholly below 1 and the ratio is below
//! `1 − threshold`; `unchanged` otherwise; `incomparable` when the machines' fingerprints
//! differ or a side has no usable timing. Rows are sorted regressions first (worst first),
//! then improvements, unchanged, incomparable.

use crate::store::{SampleRow, SummaryRow};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;

/// Default relative change below which a significant difference is still `unchanged`.
pub const DEFAULT_THRESHOLD: f64 = 0.05;

/// Settings of the check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompareOptions {
    /// Relative change a difference must exceed to count (0.05 = 5 %).
    pub threshold: f64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// Base seed of the bootstrap.
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> CompareOptions {
        CompareOptions {
            threshold: DEFAULT_THRESHOLD,
            resamples: 2000,
            seed: 0x00B2_C0DE,
        }
    }
}

/// Outcome for one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly slower by more than the threshold.
    Regressed,
    /// Significantly faster by more than the threshold.
    Improved,
    /// No significant change beyond the threshold.
    Unchanged,
    /// Different machines, or a side without usable timing.
    Incomparable,
}

impl Verdict {
    /// Name shown in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Incomparable => "incomparable",
        }
    }
}

/// One run as the check sees it.
#[derive(Debug, Clone, Copy)]
pub struct RunSide<'a> {
    /// Run id.
    pub run_id: &'a str,
    /// `meta.machine.fingerprint`, if recorded.
    pub fingerprint: Option<&'a str>,
    /// Rows of `summary.csv`.
    pub summary: &'a [SummaryRow],
    /// Rows of `samples.csv` (may be empty).
    pub samples: &'a [SampleRow],
}

/// The check for one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchmarkComparison {
    /// Benchmark name (`kernel/dtype/params`).
    pub benchmark: String,
    /// Backend.
    pub backend: String,
    /// Baseline median time per call.
    pub baseline_median_s: Option<f64>,
    /// Current median time per call.
    pub current_median_s: Option<f64>,
    /// Current ÷ baseline median time (> 1: slower).
    pub ratio: Option<f64>,
    /// 95 % CI of the ratio, low.
    pub ci_low: Option<f64>,
    /// 95 % CI of the ratio, high.
    pub ci_high: Option<f64>,
    /// `bootstrap` (from samples) or `summary` (from the two median CIs).
    pub ci_method: &'static str,
    /// Verdict.
    pub verdict: Verdict,
    /// Why the verdict is `incomparable`, when it is.
    pub reason: Option<String>,
}

/// The whole check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Current run id.
    pub current_run_id: String,
    /// Baseline run id.
    pub baseline_run_id: String,
    /// Whether the machine fingerprints match.
    pub same_machine: bool,
    /// Settings used.
    pub options: CompareOptions,
    /// Common benchmarks, regressions first.
    pub rows: Vec<BenchmarkComparison>,
    /// Benchmarks only the current run has.
    pub only_in_current: Vec<String>,
    /// Benchmarks only the baseline has.
    pub only_in_baseline: Vec<String>,
}

impl Comparison {
    /// Number of rows with `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == verdict).count()
    }
}

/// Median of a slice (NaN-free input; empty gives NaN).
fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        0.5 * (xs[n / 2 - 1] + xs[n / 2])
    }
}

/// Percentile of sorted values by linear interpolation, `q` in [0, 1].
fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// FNV-1a of a string, to derive per-benchmark seeds.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Ratio of medians `current / baseline` and its percentile-bootstrap 95 % CI, resampling
/// each side independently. Both slices must be non-empty and positive. Deterministic for a
/// given `seed`.
pub fn ratio_ci(current: &[f64], baseline: &[f64], resamples: usize, seed: u64) -> (f64, f64, f64) {
    let ratio = median(&mut current.to_vec()) / median(&mut baseline.to_vec());
    if resamples == 0 {
        return (ratio, ratio, ratio);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut a = vec![0.0; current.len()];
    let mut b = vec![0.0; baseline.len()];
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for slot in a.iter_mut() {
            *slot = current[rng.random_range(0..current.len())];
        }
        for slot in b.iter_mut() {
            *slot = baseline[rng.random_range(0..baseline.len())];
        }
        ratios.push(median(&mut a) / median(&mut b));
    }
    ratios.sort_by(f64::total_cmp);
    (
        ratio,
        percentile_sorted(&ratios, 0.025),
        percentile_sorted(&ratios, 0.975),
    )
}

/// The verdict for a ratio (current ÷ baseline time) and its CI.
pub fn verdict(ratio: f64, ci_low: f64, ci_high: f64, threshold: f64) -> Verdict {
    if ci_low > 1.0 && ratio > 1.0 + threshold {
        Verdict::Regressed
    } else if ci_high < 1.0 && ratio < 1.0 - threshold {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    }
}

fn samples_by_key(samples: &[SampleRow]) -> BTreeMap<(&str, &str), Vec<f64>> {
    let mut map: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    for s in samples {
        if s.time_per_call_s.is_finite() && s.time_per_call_s > 0.0 {
            map.entry((s.benchmark.as_str(), s.backend.as_str()))
                .or_default()
                .push(s.time_per_call_s);
        }
    }
    map
}

/// Compares `current` against `baseline` benchmark by benchmark (matched on name and
/// backend). See the module docs for the method.
pub fn compare_runs(current: &RunSide<'_>, baseline: &RunSide<'_>, options: &CompareOptions) -> Comparison {
    let same_machine = match (current.fingerprint, baseline.fingerprint) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    };
    let machine_reason = match (current.fingerprint, baseline.fingerprint) {
        (Some(a), Some(b)) if a != b => Some(format!("different machines (fingerprint {a} vs {b})")),
        (None, _) | (_, None) => Some("a run has no machine fingerprint".to_string()),
        _ => None,
    };
    let current_samples = samples_by_key(current.samples);
    let baseline_samples = samples_by_key(baseline.samples);
    let baseline_rows: BTreeMap<(&str, &str), &SummaryRow> = baseline
        .summary
        .iter()
        .map(|r| ((r.benchmark.as_str(), r.backend.as_str()), r))
        .collect();
    let current_keys: std::collections::BTreeSet<(&str, &str)> = current
        .summary
        .iter()
        .map(|r| (r.benchmark.as_str(), r.backend.as_str()))
        .collect();

    let mut rows = Vec::new();
    let mut only_in_current = Vec::new();
    for cur in current.summary {
        let key = (cur.benchmark.as_str(), cur.backend.as_str());
        let Some(base) = baseline_rows.get(&key) else {
            only_in_current.push(cur.benchmark.clone());
            continue;
        };
        let mut row = BenchmarkComparison {
            benchmark: cur.benchmark.clone(),
            backend: cur.backend.clone(),
            baseline_median_s: base.median_s,
            current_median_s: cur.median_s,
            ratio: None,
            ci_low: None,
            ci_high: None,
            ci_method: "bootstrap",
            verdict: Verdict::Incomparable,
            reason: None,
        };
        if let Some(reason) = &machine_reason {
            row.reason = Some(reason.clone());
            rows.push(row);
            continue;
        }
        if cur.status != "ok" || base.status != "ok" {
            row.reason = Some(format!("status {} (current) vs {} (baseline)", cur.status, base.status));
            rows.push(row);
            continue;
        }
        let estimate = match (current_samples.get(&key), baseline_samples.get(&key)) {
            (Some(c), Some(b)) if !c.is_empty() && !b.is_empty() => {
                Some(ratio_ci(c, b, options.resamples, options.seed ^ fnv1a(&cur.benchmark)))
            }
            _ => {
                row.ci_method = "summary";
                match (
                    cur.median_s,
                    base.median_s,
                    cur.ci_low_s,
                    cur.ci_high_s,
                    base.ci_low_s,
                    base.ci_high_s,
                ) {
                    (Some(cm), Some(bm), Some(cl), Some(ch), Some(bl), Some(bh))
                        if bm > 0.0 && bl > 0.0 && bh > 0.0 =>
                    {
                        Some((cm / bm, cl / bh, ch / bl))
                    }
                    _ => None,
                }
            }
        };
        match estimate {
            Some((ratio, lo, hi)) if ratio.is_finite() && lo.is_finite() && hi.is_finite() => {
                row.ratio = Some(ratio);
                row.ci_low = Some(lo);
                row.ci_high = Some(hi);
                row.verdict = verdict(ratio, lo, hi, options.threshold);
            }
            _ => row.reason = Some("no usable timing on one side".into()),
        }
        rows.push(row);
    }
    let only_in_baseline = baseline
        .summary
        .iter()
        .filter(|r| !current_keys.contains(&(r.benchmark.as_str(), r.backend.as_str())))
        .map(|r| r.benchmark.clone())
        .collect();
    sort_rows(&mut rows);
    Comparison {
        current_run_id: current.run_id.to_string(),
        baseline_run_id: baseline.run_id.to_string(),
        same_machine,
        options: *options,
        rows,
        only_in_current,
        only_in_baseline,
    }
}

/// Regressions first (largest ratio first), then improvements (smallest ratio first), then
/// unchanged and incomparable by name.
pub fn sort_rows(rows: &mut [BenchmarkComparison]) {
    rows.sort_by(|a, b| {
        a.verdict.cmp(&b.verdict).then_with(|| match a.verdict {
            Verdict::Regressed => b.ratio.unwrap_or(0.0).total_cmp(&a.ratio.unwrap_or(0.0)),
            Verdict::Improved => a.ratio.unwrap_or(0.0).total_cmp(&b.ratio.unwrap_or(0.0)),
            _ => a.benchmark.cmp(&b.benchmark).then_with(|| a.backend.cmp(&b.backend)),
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(benchmark: &str, median: f64) -> SummaryRow {
        SummaryRow {
            run_id: "r".into(),
            benchmark: benchmark.into(),
            kernel: benchmark.split('/').next().unwrap_or("").into(),
            backend: "fake".into(),
            device: "cpu".into(),
            dtype: "f32".into(),
            threads: 1,
            params: "{}".into(),
            median_s: Some(median),
            ci_low_s: Some(median * 0.99),
            ci_high_s: Some(median * 1.01),
            mad_s: None,
            min_s: None,
            max_s: None,
            samples: 10,
            iters_per_sample: 1,
            outliers: 0,
            flops: 1e9,
            bytes: 1e6,
            gflops_per_s: None,
            gbytes_per_s: None,
            arithmetic_intensity: None,
            attainment: None,
            theoretical_peak_gflops_per_s: None,
            clock_ghz_before: None,
            clock_ghz_after: None,
            flops_per_cycle_per_core: None,
            event_kind: None,
            events_per_call: None,
            energy_j: None,
            avg_power_w: None,
            gflops_per_joule: None,
            joules_per_synaptic_event: None,
            energy_source: "unavailable".into(),
            energy_note: None,
            instructions: None,
            cycles: None,
            llc_misses: None,
            measured_flops: None,
            measured_bytes: None,
            counters_note: None,
            verification: None,
            status: "ok".into(),
            reason: None,
        }
    }

    fn samples(benchmark: &str, center: f64, n: usize) -> Vec<SampleRow> {
        (0..n)
            .map(|i| SampleRow {
                run_id: "r".into(),
                benchmark: benchmark.into(),
                backend: "fake".into(),
                sample: i as u64,
                iterations: 1,
                batch_time_s: 0.0,
                // ±1 % spread, deterministic
                time_per_call_s: center * (1.0 + 0.01 * ((i * 7 % 11) as f64 / 5.0 - 1.0)),
                outlier: String::new(),
            })
            .collect()
    }

    #[test]
    fn verdict_needs_both_significance_and_threshold() {
        assert_eq!(verdict(1.10, 1.05, 1.15, 0.05), Verdict::Regressed);
        // significant but below the threshold
        assert_eq!(verdict(1.03, 1.01, 1.05, 0.05), Verdict::Unchanged);
        // large but CI includes 1
        assert_eq!(verdict(1.20, 0.95, 1.40, 0.05), Verdict::Unchanged);
        assert_eq!(verdict(0.80, 0.75, 0.85, 0.05), Verdict::Improved);
    }

    #[test]
    fn ratio_ci_is_seeded_and_brackets_the_ratio() {
        let a: Vec<f64> = samples("x", 2.0, 15).iter().map(|s| s.time_per_call_s).collect();
        let b: Vec<f64> = samples("x", 1.0, 15).iter().map(|s| s.time_per_call_s).collect();
        let first = ratio_ci(&a, &b, 500, 7);
        assert_eq!(first, ratio_ci(&a, &b, 500, 7));
        let (r, lo, hi) = first;
        assert!((r - 2.0).abs() < 0.03, "{r}");
        assert!(lo <= r && r <= hi && lo > 1.9 && hi < 2.1, "{lo} {hi}");
    }

    #[test]
    fn regressions_sort_first_and_machines_must_match() {
        let cur_summary = vec![
            summary("a/f32/n=1", 1.0),
            summary("b/f32/n=1", 1.5),
            summary("c/f32/n=1", 0.5),
            summary("d/f32/n=1", 1.0),
        ];
        let base_summary = vec![
            summary("a/f32/n=1", 1.0),
            summary("b/f32/n=1", 1.0),
            summary("c/f32/n=1", 1.0),
            summary("e/f32/n=1", 1.0),
        ];
        let mut cur_samples = samples("a/f32/n=1", 1.0, 12);
        cur_samples.extend(samples("b/f32/n=1", 1.5, 12));
        cur_samples.extend(samples("c/f32/n=1", 0.5, 12));
        let mut base_samples = samples("a/f32/n=1", 1.0, 12);
        base_samples.extend(samples("b/f32/n=1", 1.0, 12));
        base_samples.extend(samples("c/f32/n=1", 1.0, 12));
        let cur = RunSide {
            run_id: "cur",
            fingerprint: Some("m1"),
            summary: &cur_summary,
            samples: &cur_samples,
        };
        let base = RunSide {
            run_id: "base",
            fingerprint: Some("m1"),
            summary: &base_summary,
            samples: &base_samples,
        };
        let cmp = compare_runs(&cur, &base, &CompareOptions::default());
        let verdicts: Vec<(&str, Verdict)> = cmp.rows.iter().map(|r| (r.benchmark.as_str(), r.verdict)).collect();
        assert_eq!(
            verdicts,
            vec![
                ("b/f32/n=1", Verdict::Regressed),
                ("c/f32/n=1", Verdict::Improved),
                ("a/f32/n=1", Verdict::Unchanged)
            ]
        );
        assert_eq!(cmp.only_in_current, vec!["d/f32/n=1".to_string()]);
        assert_eq!(cmp.only_in_baseline, vec!["e/f32/n=1".to_string()]);

        let other = RunSide {
            fingerprint: Some("m2"),
            ..base
        };
        let cmp = compare_runs(&cur, &other, &CompareOptions::default());
        assert!(!cmp.same_machine);
        assert!(cmp
            .rows
            .iter()
            .all(|r| r.verdict == Verdict::Incomparable && r.reason.is_some()));
    }

    #[test]
    fn summary_fallback_without_samples() {
        let cur_summary = vec![summary("a/f32/n=1", 1.2)];
        let base_summary = vec![summary("a/f32/n=1", 1.0)];
        let cur = RunSide {
            run_id: "cur",
            fingerprint: Some("m"),
            summary: &cur_summary,
            samples: &[],
        };
        let base = RunSide {
            run_id: "base",
            fingerprint: Some("m"),
            summary: &base_summary,
            samples: &[],
        };
        let cmp = compare_runs(&cur, &base, &CompareOptions::default());
        assert_eq!(cmp.rows[0].ci_method, "summary");
        assert_eq!(cmp.rows[0].verdict, Verdict::Regressed);
    }
}
