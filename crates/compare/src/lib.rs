//! The regression check between two runs: per common benchmark, the ratio of median times
//! (current ÷ baseline) with a seeded bootstrap 95 % CI, and a verdict; the same check on
//! repeatable counts (instructions, analytic FLOPs and bytes); change points across many runs
//! ([`changepoint`]); and the exports to dashboards ([`export`]).
//!
//! Everything here is a pure function of the rows of `summary.csv` and `samples.csv`; the
//! caller loads them. `braingap report --baseline` renders the result as a table, and
//! `braingap compare` exits on it ([`render`] writes its markdown form).
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
//! differ, the thread counts differ, the analytic FLOPs or bytes per call differ (the
//! benchmark's work changed), or a side has no usable timing. Rows are sorted
//! regressions first (worst first), then changed counts, improvements, unchanged,
//! incomparable.
//!
//! Counts ([`compare_counts`]). Instruction counts per call repeat to a fraction of a percent
//! on a noisy machine, so their ratio is judged against the threshold alone, without a CI:
//! above `1 + threshold` is `regressed`, below `1 − threshold` `improved`. They depend on the
//! machine (its code path) and on how they were counted (callgrind or hardware counters), so
//! different fingerprints or sources are `incomparable`. Analytic FLOPs and bytes per call
//! depend on neither: they are compared for equality on any machine, and any difference is
//! `changed`, with both values named; a changed count means the benchmark no longer does the
//! same work, so the two runs' timings of it are not comparable either.

pub mod ab;
pub mod changepoint;
pub mod export;
#[cfg(test)]
mod fixtures;
pub mod history;
pub mod relative;
pub mod render;

// The layers below, under the names the rest of braingap uses for them.
use braingap_core::{error, machine, units};
use braingap_measure as measure;
use braingap_store as store;

use crate::machine::fnv1a;
use crate::measure::stats::{median, quantile_sorted};
use crate::store::rows::MetricSource;
use crate::store::{SampleRow, SummaryRow};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;

/// Default relative change below which a significant difference is still `unchanged`.
pub const DEFAULT_THRESHOLD: f64 = 0.05;

/// Which figure of each benchmark is compared or followed across runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Median wall time per call: noisy, judged with a bootstrap CI of the ratio.
    Time,
    /// Instructions per call: repeatable, judged against the threshold alone.
    Instructions,
    /// Analytic FLOPs per call: exact, compared for equality.
    Flops,
    /// Analytic compulsory bytes per call: exact, compared for equality.
    Bytes,
}

impl Metric {
    /// Name used on the command line and in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Time => "time",
            Metric::Instructions => "instructions",
            Metric::Flops => "flops",
            Metric::Bytes => "bytes",
        }
    }

    /// Unit of one value.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Time => "s",
            Metric::Instructions => "instructions",
            Metric::Flops => "FLOP",
            Metric::Bytes => "B",
        }
    }

    /// Whether values are exact analytic counts (compared for equality, machine-independent).
    pub fn is_exact(self) -> bool {
        matches!(self, Metric::Flops | Metric::Bytes)
    }

    /// The value of a summary row: median seconds or instructions per call for `ok` rows,
    /// the analytic count per call for any row (it is a property of the benchmark, known even
    /// when it failed).
    pub fn value(self, row: &SummaryRow) -> Option<f64> {
        let ok = row.status == crate::measure::Status::Ok;
        match self {
            Metric::Time => row.median_s.filter(|_| ok),
            Metric::Instructions => row.instructions.filter(|_| ok),
            Metric::Flops => Some(row.flops),
            Metric::Bytes => Some(row.bytes),
        }
    }
}

/// When a comparison should fail a CI job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailOn {
    /// A benchmark regressed, or an exact count changed.
    Regression,
    /// A benchmark regressed or improved, or an exact count changed.
    AnyChange,
    /// Never: report only.
    Never,
}

impl FailOn {
    /// Name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Regression => "regression",
            FailOn::AnyChange => "any-change",
            FailOn::Never => "never",
        }
    }
}

/// Settings of the check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompareOptions {
    /// Relative change a difference must exceed to count (0.05 = 5 %).
    pub threshold: f64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// Base seed of the bootstrap.
    pub seed: u64,
    /// Instruction counts only: compare callgrind counts of runs from different machines when
    /// their counting environments ([`counting_environment`]) match, instead of calling them
    /// incomparable.
    pub across_machines: bool,
}

impl Default for CompareOptions {
    fn default() -> CompareOptions {
        CompareOptions {
            threshold: DEFAULT_THRESHOLD,
            resamples: 2000,
            seed: 0x00B2_C0DE,
            across_machines: false,
        }
    }
}

/// Outcome for one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly slower by more than the threshold.
    Regressed,
    /// An exact count (analytic FLOPs or bytes) differs: the benchmark's work changed.
    Changed,
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
            Verdict::Changed => "changed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Incomparable => "incomparable",
        }
    }
}

/// One run as the check sees it.
#[derive(Debug, Clone)]
pub struct RunSide<'a> {
    /// Run id.
    pub run_id: &'a str,
    /// `meta.machine.fingerprint`, if recorded.
    pub fingerprint: Option<&'a str>,
    /// Rows of `summary.csv`.
    pub summary: &'a [SummaryRow],
    /// Rows of `samples.csv` (may be empty).
    pub samples: &'a [SampleRow],
    /// What fixes the run's callgrind instruction counts besides the code
    /// ([`counting_environment`]); `None` for timed runs and runs that do not record it.
    pub counting_environment: Option<String>,
}

impl<'a> RunSide<'a> {
    /// A stored run and its samples as the check sees them: its id, fingerprint and
    /// counting environment from `meta.json`.
    pub fn of(run: &'a store::RunInfo, samples: &'a [SampleRow]) -> RunSide<'a> {
        RunSide {
            run_id: &run.meta.run_id,
            fingerprint: run.meta.machine["fingerprint"].as_str(),
            summary: &run.summary,
            samples,
            counting_environment: counting_environment(&run.meta.config, &run.meta.machine),
        }
    }
}

/// What fixes a callgrind instruction count apart from the code itself, read from a run's
/// `meta.json` (`config`, `machine`): the counted code path, the valgrind and rustc versions,
/// the build profile with its optimisation level, and the target. Two runs with the same
/// environment ran the same machine code under the same simulated CPU, so their counts are
/// comparable even from different machines, up to what valgrind passes through from the host
/// (the C library's CPUID-dispatched `memcpy`, cache sizes read for blocking), which is why
/// crossing machines is an option ([`CompareOptions::across_machines`]), not the default.
/// `None` when the run is not a callgrind run or lacks one of these fields (runs recorded
/// before braingap stored the build profile).
pub fn counting_environment(config: &serde_json::Value, machine: &serde_json::Value) -> Option<String> {
    if config["metric_source"].as_str() != Some(MetricSource::Callgrind.as_str()) {
        return None;
    }
    let field = |v: &serde_json::Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    Some(format!(
        "code path {}, {}, {}, build {}, target {}",
        field(&config["code_path"])?,
        field(&config["valgrind"])?,
        field(&machine["rustc"]["value"])?,
        field(&config["build_profile"])?,
        field(&config["target"])?,
    ))
}

/// The check for one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchmarkComparison {
    /// Benchmark name (`kernel/dtype/params`).
    pub benchmark: String,
    /// Backend.
    pub backend: braingap_core::backend_kind::BackendKind,
    /// Baseline value in the metric's unit (median seconds per call for time).
    pub baseline_value: Option<f64>,
    /// Current value in the metric's unit.
    pub current_value: Option<f64>,
    /// Current ÷ baseline (> 1: slower, or more work).
    pub ratio: Option<f64>,
    /// 95 % CI of the ratio, low.
    pub ci_low: Option<f64>,
    /// 95 % CI of the ratio, high.
    pub ci_high: Option<f64>,
    /// `bootstrap` (from samples), `summary` (from the two median CIs) or `exact` (counts:
    /// no CI).
    pub ci_method: &'static str,
    /// Verdict.
    pub verdict: Verdict,
    /// Why the verdict is `incomparable` or `changed`, when it is.
    pub reason: Option<String>,
}

/// The whole check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Current run id.
    pub current_run_id: String,
    /// Baseline run id.
    pub baseline_run_id: String,
    /// What was compared.
    pub metric: Metric,
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

/// Ratio of medians `current / baseline` and its percentile-bootstrap 95 % CI, resampling
/// each side independently. Both slices must be non-empty and positive. Deterministic for a
/// given `seed`.
pub fn ratio_ci(current: &[f64], baseline: &[f64], resamples: usize, seed: u64) -> (f64, f64, f64) {
    let ratio = median(current) / median(baseline);
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
        ratios.push(median(&a) / median(&b));
    }
    ratios.sort_by(f64::total_cmp);
    (ratio, quantile_sorted(&ratios, 0.025), quantile_sorted(&ratios, 0.975))
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
            backend: cur.backend,
            baseline_value: base.median_s,
            current_value: cur.median_s,
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
        if cur.status != crate::measure::Status::Ok || base.status != crate::measure::Status::Ok {
            row.reason = Some(format!("status {} (current) vs {} (baseline)", cur.status, base.status));
            rows.push(row);
            continue;
        }
        if cur.threads != base.threads {
            row.reason = Some(format!(
                "{} threads (current) vs {} (baseline)",
                cur.threads, base.threads
            ));
            rows.push(row);
            continue;
        }
        if let Some(reason) = work_changed(cur, base) {
            row.reason = Some(reason);
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
        metric: Metric::Time,
        same_machine,
        options: *options,
        rows,
        only_in_current,
        only_in_baseline,
    }
}

/// The verdict on a repeatable count's ratio (current ÷ baseline): beyond the threshold
/// either way is a change, with no CI needed.
pub fn count_verdict(ratio: f64, threshold: f64) -> Verdict {
    if ratio > 1.0 + threshold {
        Verdict::Regressed
    } else if ratio < 1.0 - threshold {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    }
}

/// Formats a count for a reason: whole numbers in full, others to one decimal.
fn count_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Compares a count metric (`instructions`, `flops` or `bytes`) benchmark by benchmark
/// (matched on name and backend). See the module docs for the method; `metric` must not be
/// [`Metric::Time`] (use [`compare_runs`]).
pub fn compare_counts(
    current: &RunSide<'_>,
    baseline: &RunSide<'_>,
    metric: Metric,
    options: &CompareOptions,
) -> Comparison {
    debug_assert!(metric != Metric::Time, "time is compared by compare_runs");
    let same_machine = matches!((current.fingerprint, baseline.fingerprint), (Some(a), Some(b)) if a == b);
    let machine_reason = if metric.is_exact() {
        None
    } else if options.across_machines && metric == Metric::Instructions {
        match (&current.counting_environment, &baseline.counting_environment) {
            (Some(a), Some(b)) if a == b => None,
            (Some(a), Some(b)) => Some(format!("different counting environments ({a} vs {b})")),
            _ => Some(
                "a run records no callgrind counting environment (code path, valgrind, rustc, build \
                 profile, target), so it cannot be compared across machines"
                    .to_string(),
            ),
        }
    } else {
        match (current.fingerprint, baseline.fingerprint) {
            (Some(a), Some(b)) if a != b => Some(format!("different machines (fingerprint {a} vs {b})")),
            (None, _) | (_, None) => Some("a run has no machine fingerprint".to_string()),
            _ => None,
        }
    };
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
        let Some(base) = baseline_rows.get(&(cur.benchmark.as_str(), cur.backend.as_str())) else {
            only_in_current.push(cur.benchmark.clone());
            continue;
        };
        let (current_value, baseline_value) = (metric.value(cur), metric.value(base));
        let mut row = BenchmarkComparison {
            benchmark: cur.benchmark.clone(),
            backend: cur.backend,
            baseline_value,
            current_value,
            ratio: None,
            ci_low: None,
            ci_high: None,
            ci_method: "exact",
            verdict: Verdict::Incomparable,
            reason: None,
        };
        let (c, b) = match (current_value, baseline_value) {
            (Some(c), Some(b)) if c.is_finite() && b.is_finite() => (c, b),
            _ => {
                let missing = |value: Option<f64>, row: &SummaryRow, side: &str| match value {
                    Some(_) => None,
                    None if row.status != crate::measure::Status::Ok => Some(format!("status {} ({side})", row.status)),
                    None => Some(format!("no {} count ({side})", metric.as_str())),
                };
                let reasons: Vec<String> = [
                    missing(current_value, cur, "current"),
                    missing(baseline_value, base, "baseline"),
                ]
                .into_iter()
                .flatten()
                .collect();
                row.reason = Some(if reasons.is_empty() {
                    "value is not finite".into()
                } else {
                    reasons.join(", ")
                });
                rows.push(row);
                continue;
            }
        };
        if metric.is_exact() {
            row.ratio = (b != 0.0).then(|| c / b);
            if c == b {
                row.verdict = Verdict::Unchanged;
            } else {
                row.verdict = Verdict::Changed;
                let change = row
                    .ratio
                    .map_or(String::new(), |r| format!(" ({:+.1} %)", (r - 1.0) * 100.0));
                row.reason = Some(format!(
                    "{} per call {} -> {}{change}",
                    metric.unit(),
                    count_text(b),
                    count_text(c)
                ));
            }
            rows.push(row);
            continue;
        }
        let (cur_source, base_source) = (instruction_source(cur), instruction_source(base));
        if let Some(reason) = &machine_reason {
            row.reason = Some(reason.clone());
        } else if cur_source != base_source {
            row.reason = Some(format!(
                "{} counted by {cur_source} (current) vs {base_source} (baseline)",
                metric.as_str()
            ));
        } else if let Some((c, b)) = differing(&cur.code_path, &base.code_path) {
            row.reason = Some(format!("code path {c} (current) vs {b} (baseline)"));
        } else if cur.threads != base.threads {
            row.reason = Some(format!(
                "{} threads (current) vs {} (baseline)",
                cur.threads, base.threads
            ));
        } else if let Some(reason) = work_changed(cur, base) {
            row.reason = Some(reason);
        } else if b <= 0.0 {
            row.reason = Some(format!("baseline {} count is {}", metric.as_str(), count_text(b)));
        } else {
            let ratio = c / b;
            row.ratio = Some(ratio);
            row.verdict = count_verdict(ratio, options.threshold);
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
        metric,
        same_machine,
        options: *options,
        rows,
        only_in_current,
        only_in_baseline,
    }
}

/// Compares `metric` between two runs: [`compare_runs`] for time, [`compare_counts`]
/// otherwise.
pub fn compare_metric(
    current: &RunSide<'_>,
    baseline: &RunSide<'_>,
    metric: Metric,
    options: &CompareOptions,
) -> Comparison {
    match metric {
        Metric::Time => compare_runs(current, baseline, options),
        _ => compare_counts(current, baseline, metric, options),
    }
}

/// How a row's instructions were counted: `callgrind` in an instruction-count run, hardware
/// `perf counters` in a timed one.
pub fn instruction_source(row: &SummaryRow) -> &'static str {
    if row.metric_source == Some(MetricSource::Callgrind) {
        "callgrind"
    } else {
        "perf counters"
    }
}

/// Why two rows of the same benchmark do different work, if they do: their analytic FLOPs or
/// bytes per call differ (a changed counting convention or kernel), so their times and
/// instruction counts are not comparable.
fn work_changed(current: &SummaryRow, baseline: &SummaryRow) -> Option<String> {
    if current.flops != baseline.flops {
        Some(format!(
            "work changed: FLOP per call {} (current) vs {} (baseline)",
            count_text(current.flops),
            count_text(baseline.flops)
        ))
    } else if current.bytes != baseline.bytes {
        Some(format!(
            "work changed: B per call {} (current) vs {} (baseline)",
            count_text(current.bytes),
            count_text(baseline.bytes)
        ))
    } else {
        None
    }
}

/// Both values when both are recorded and they differ.
fn differing<'a>(a: &'a Option<String>, b: &'a Option<String>) -> Option<(&'a str, &'a str)> {
    match (a.as_deref(), b.as_deref()) {
        (Some(x), Some(y)) if x != y => Some((x, y)),
        _ => None,
    }
}

impl Comparison {
    /// Whether `policy` fails on this comparison: `regression` on a regressed benchmark or a
    /// changed count, `any-change` also on an improvement, `never` never.
    pub fn fails(&self, policy: FailOn) -> bool {
        self.rows.iter().any(|r| match policy {
            FailOn::Regression => matches!(r.verdict, Verdict::Regressed | Verdict::Changed),
            FailOn::AnyChange => matches!(r.verdict, Verdict::Regressed | Verdict::Changed | Verdict::Improved),
            FailOn::Never => false,
        })
    }
}

/// Regressions first (largest ratio first), then changed counts (largest ratio first), then
/// improvements (smallest ratio first), then unchanged and incomparable by name.
pub fn sort_rows(rows: &mut [BenchmarkComparison]) {
    rows.sort_by(|a, b| {
        a.verdict.cmp(&b.verdict).then_with(|| match a.verdict {
            Verdict::Regressed | Verdict::Changed => b.ratio.unwrap_or(0.0).total_cmp(&a.ratio.unwrap_or(0.0)),
            Verdict::Improved => a.ratio.unwrap_or(0.0).total_cmp(&b.ratio.unwrap_or(0.0)),
            _ => a
                .benchmark
                .cmp(&b.benchmark)
                .then_with(|| a.backend.as_str().cmp(b.backend.as_str())),
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
            backend: braingap_core::backend_kind::BackendKind::Fake,
            device: "cpu".into(),
            dtype: braingap_core::dtype::Dtype::F32,
            threads: 1,
            params: "{}".into(),
            median_s: Some(median),
            ci_low_s: Some(median * 0.99),
            ci_high_s: Some(median * 1.01),
            samples: 10,
            iters_per_sample: 1,
            outliers: 0,
            flops: 1e9,
            bytes: 1e6,
            energy_source: braingap_meters::EnergySource::Unavailable,
            status: crate::measure::Status::Ok,
            ..SummaryRow::default()
        }
    }

    fn samples(benchmark: &str, center: f64, n: usize) -> Vec<SampleRow> {
        (0..n)
            .map(|i| SampleRow {
                run_id: "r".into(),
                benchmark: benchmark.into(),
                backend: braingap_core::backend_kind::BackendKind::Fake,
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
            counting_environment: None,
        };
        let base = RunSide {
            run_id: "base",
            fingerprint: Some("m1"),
            summary: &base_summary,
            samples: &base_samples,
            counting_environment: None,
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

    fn side<'a>(fingerprint: &'a str, summary: &'a [SummaryRow], samples: &'a [SampleRow]) -> RunSide<'a> {
        RunSide {
            run_id: fingerprint,
            fingerprint: Some(fingerprint),
            summary,
            samples,
            counting_environment: None,
        }
    }

    /// Per-call samples with seeded Gaussian noise of relative size `noise`.
    fn noisy_samples(benchmark: &str, center: f64, noise: f64, n: usize, seed: u64) -> Vec<SampleRow> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let u: f64 = rng.random_range(f64::EPSILON..1.0);
                let v: f64 = rng.random();
                let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
                SampleRow {
                    run_id: "r".into(),
                    benchmark: benchmark.into(),
                    backend: braingap_core::backend_kind::BackendKind::Fake,
                    sample: i as u64,
                    iterations: 1,
                    batch_time_s: 0.0,
                    time_per_call_s: center * (1.0 + noise * z),
                    outlier: String::new(),
                }
            })
            .collect()
    }

    #[test]
    fn a_known_shift_is_found_and_no_shift_is_not() {
        let summary = vec![summary("x/f32/n=1", 1.0)];
        for seed in 0..20 {
            let base = noisy_samples("x/f32/n=1", 1.0, 0.03, 20, seed);
            // 10 % slower under 3 % noise: regressed, the CI excludes 1.
            let slower = noisy_samples("x/f32/n=1", 1.1, 0.03, 20, 1000 + seed);
            let cmp = compare_runs(
                &side("m", &summary, &slower),
                &side("m", &summary, &base),
                &CompareOptions::default(),
            );
            let r = &cmp.rows[0];
            assert_eq!(r.verdict, Verdict::Regressed, "seed {seed}: {r:?}");
            assert!(r.ci_low.unwrap() > 1.0 && (r.ratio.unwrap() - 1.1).abs() < 0.05);
            // Same distribution: unchanged, and the CI straddles 1.
            let same = noisy_samples("x/f32/n=1", 1.0, 0.03, 20, 2000 + seed);
            let cmp = compare_runs(
                &side("m", &summary, &same),
                &side("m", &summary, &base),
                &CompareOptions::default(),
            );
            let r = &cmp.rows[0];
            assert_eq!(r.verdict, Verdict::Unchanged, "seed {seed}: {r:?}");
            assert!(r.ratio.unwrap() < 1.05 && r.ratio.unwrap() > 0.95);
        }
    }

    #[test]
    fn a_shift_below_the_threshold_or_inside_the_ci_is_unchanged() {
        let summary = vec![summary("x/f32/n=1", 1.0)];
        // 3 % slower with little noise: significant, but under the 5 % threshold.
        let base = noisy_samples("x/f32/n=1", 1.0, 0.002, 30, 1);
        let small = noisy_samples("x/f32/n=1", 1.03, 0.002, 30, 2);
        let cmp = compare_runs(
            &side("m", &summary, &small),
            &side("m", &summary, &base),
            &CompareOptions::default(),
        );
        let r = &cmp.rows[0];
        assert!(r.ci_low.unwrap() > 1.0, "{r:?}");
        assert_eq!(r.verdict, Verdict::Unchanged);
        // 20 % slower in the median but 40 % noise on 5 samples: the CI straddles 1.
        let base = noisy_samples("x/f32/n=1", 1.0, 0.4, 5, 3);
        let wild = noisy_samples("x/f32/n=1", 1.2, 0.4, 5, 4);
        let cmp = compare_runs(
            &side("m", &summary, &wild),
            &side("m", &summary, &base),
            &CompareOptions::default(),
        );
        let r = &cmp.rows[0];
        assert!(r.ci_low.unwrap() < 1.0 && r.ci_high.unwrap() > 1.0, "{r:?}");
        assert_eq!(r.verdict, Verdict::Unchanged);
    }

    #[test]
    fn different_thread_counts_are_incomparable() {
        let cur = vec![summary("x/f32/n=1", 1.0)];
        let mut base = vec![summary("x/f32/n=1", 1.0)];
        base[0].threads = 2;
        let cmp = compare_runs(
            &side("m", &cur, &[]),
            &side("m", &base, &[]),
            &CompareOptions::default(),
        );
        assert_eq!(cmp.rows[0].verdict, Verdict::Incomparable);
        assert!(cmp.rows[0].reason.as_deref().unwrap().contains("threads"));
        // Same name, different work: not comparable either.
        base[0].threads = 1;
        base[0].flops = 2e9;
        let cmp = compare_runs(
            &side("m", &cur, &[]),
            &side("m", &base, &[]),
            &CompareOptions::default(),
        );
        assert_eq!(cmp.rows[0].verdict, Verdict::Incomparable);
        assert_eq!(
            cmp.rows[0].reason.as_deref(),
            Some("work changed: FLOP per call 1000000000 (current) vs 2000000000 (baseline)")
        );
    }

    fn with_instructions(name: &str, instructions: Option<f64>) -> SummaryRow {
        SummaryRow {
            instructions,
            ..summary(name, 1.0)
        }
    }

    #[test]
    fn instruction_counts_need_no_ci_only_the_threshold() {
        let base = vec![
            with_instructions("a/f32/n=1", Some(1e9)),
            with_instructions("b/f32/n=1", Some(1e9)),
            with_instructions("c/f32/n=1", Some(1e9)),
            with_instructions("d/f32/n=1", Some(1e9)),
        ];
        let cur = vec![
            with_instructions("a/f32/n=1", Some(1.10e9)),
            with_instructions("b/f32/n=1", Some(1.04e9)),
            with_instructions("c/f32/n=1", Some(0.90e9)),
            with_instructions("d/f32/n=1", None),
        ];
        let options = CompareOptions::default();
        let cmp = compare_counts(
            &side("m", &cur, &[]),
            &side("m", &base, &[]),
            Metric::Instructions,
            &options,
        );
        let verdicts: Vec<(&str, Verdict)> = cmp.rows.iter().map(|r| (r.benchmark.as_str(), r.verdict)).collect();
        assert_eq!(
            verdicts,
            vec![
                ("a/f32/n=1", Verdict::Regressed),
                ("c/f32/n=1", Verdict::Improved),
                ("b/f32/n=1", Verdict::Unchanged),
                ("d/f32/n=1", Verdict::Incomparable),
            ]
        );
        assert_eq!(cmp.rows[0].ci_method, "exact");
        assert_eq!(cmp.rows[0].ci_low, None);
        assert!(cmp.rows[3]
            .reason
            .as_deref()
            .unwrap()
            .contains("no instructions count (current)"));
        assert!(cmp.fails(FailOn::Regression) && cmp.fails(FailOn::AnyChange) && !cmp.fails(FailOn::Never));
        // Other machine, or another way of counting: nothing is compared.
        let cmp = compare_counts(
            &side("m1", &cur, &[]),
            &side("m2", &base, &[]),
            Metric::Instructions,
            &options,
        );
        assert!(cmp.rows.iter().all(|r| r.verdict == Verdict::Incomparable));
        assert!(!cmp.same_machine && !cmp.fails(FailOn::AnyChange));
        let callgrind: Vec<SummaryRow> = cur
            .iter()
            .map(|r| SummaryRow {
                metric_source: Some(MetricSource::Callgrind),
                code_path: Some("avx2_fma".into()),
                ..r.clone()
            })
            .collect();
        let cmp = compare_metric(
            &side("m", &callgrind, &[]),
            &side("m", &base, &[]),
            Metric::Instructions,
            &options,
        );
        assert!(cmp.rows.iter().all(|r| r.verdict == Verdict::Incomparable), "{cmp:?}");
        assert_eq!(
            cmp.rows[0].reason.as_deref(),
            Some("instructions counted by callgrind (current) vs perf counters (baseline)")
        );
        let other_path: Vec<SummaryRow> = callgrind
            .iter()
            .map(|r| SummaryRow {
                code_path: Some("scalar".into()),
                ..r.clone()
            })
            .collect();
        let cmp = compare_metric(
            &side("m", &callgrind, &[]),
            &side("m", &other_path, &[]),
            Metric::Instructions,
            &options,
        );
        let with_counts = cmp.rows.iter().find(|r| r.benchmark == "a/f32/n=1").unwrap();
        assert_eq!(with_counts.verdict, Verdict::Incomparable);
        assert_eq!(
            with_counts.reason.as_deref(),
            Some("code path avx2_fma (current) vs scalar (baseline)")
        );
    }

    #[test]
    fn callgrind_counts_cross_machines_only_when_asked_and_the_environment_matches() {
        let rows = |scale: f64| -> Vec<SummaryRow> {
            ["a/f32/n=1", "b/f32/n=1"]
                .iter()
                .map(|name| SummaryRow {
                    metric_source: Some(MetricSource::Callgrind),
                    code_path: Some("avx2_fma".into()),
                    ..with_instructions(name, Some(1e9 * scale))
                })
                .collect()
        };
        let (base, cur) = (rows(1.0), rows(1.2));
        let env = "code path avx2_fma, valgrind-3.24.0, rustc 1.91.0, build debug (opt-level 2), target x86_64-linux";
        let with_env = |run_id: &'static str, summary: &'static [SummaryRow], env: Option<&str>| RunSide {
            counting_environment: env.map(str::to_string),
            ..side(run_id, summary, &[])
        };
        let (base, cur): (&'static [SummaryRow], &'static [SummaryRow]) =
            (Box::leak(base.into_boxed_slice()), Box::leak(cur.into_boxed_slice()));
        let across = CompareOptions {
            across_machines: true,
            ..CompareOptions::default()
        };
        // Default: other machine, incomparable even with the same environment.
        let strict = compare_counts(
            &with_env("m1", cur, Some(env)),
            &with_env("m2", base, Some(env)),
            Metric::Instructions,
            &CompareOptions::default(),
        );
        assert!(strict.rows.iter().all(|r| r.verdict == Verdict::Incomparable));
        // Asked, same environment: the 20 % rise is a regression.
        let cmp = compare_counts(
            &with_env("m1", cur, Some(env)),
            &with_env("m2", base, Some(env)),
            Metric::Instructions,
            &across,
        );
        assert!(cmp.rows.iter().all(|r| r.verdict == Verdict::Regressed), "{cmp:?}");
        assert!(!cmp.same_machine && cmp.fails(FailOn::Regression));
        // Asked, another rustc: incomparable, naming both environments.
        let other = env.replace("rustc 1.91.0", "rustc 1.92.0");
        let cmp = compare_counts(
            &with_env("m1", cur, Some(&other)),
            &with_env("m2", base, Some(env)),
            Metric::Instructions,
            &across,
        );
        assert!(cmp.rows.iter().all(|r| r.verdict == Verdict::Incomparable));
        let reason = cmp.rows[0].reason.as_deref().unwrap();
        assert!(
            reason.contains("rustc 1.92.0") && reason.contains("rustc 1.91.0"),
            "{reason}"
        );
        // Asked, a side without a recorded environment: incomparable.
        let cmp = compare_counts(
            &with_env("m1", cur, Some(env)),
            &with_env("m2", base, None),
            Metric::Instructions,
            &across,
        );
        assert!(cmp.rows[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("records no callgrind counting environment"));
    }

    #[test]
    fn counting_environment_reads_a_callgrind_runs_meta() {
        let config = serde_json::json!({
            "metric_source": MetricSource::Callgrind.as_str(),
            "code_path": "avx2_fma",
            "valgrind": "valgrind-3.24.0",
            "build_profile": "debug (opt-level 2)",
            "target": "x86_64-linux",
        });
        let machine = serde_json::json!({"rustc": {"value": "rustc 1.91.0", "source": "build script"}});
        assert_eq!(
            counting_environment(&config, &machine).as_deref(),
            Some("code path avx2_fma, valgrind-3.24.0, rustc 1.91.0, build debug (opt-level 2), target x86_64-linux")
        );
        let mut old = config.clone();
        old.as_object_mut().unwrap().remove("build_profile");
        assert_eq!(counting_environment(&old, &machine), None);
        let mut timed = config;
        timed["metric_source"] = serde_json::json!("timer");
        assert_eq!(counting_environment(&timed, &machine), None);
    }

    #[test]
    fn analytic_counts_compare_for_equality_across_machines() {
        let base = vec![summary("a/f32/n=1", 1.0), summary("b/f32/n=1", 1.0)];
        let mut cur = vec![summary("a/f32/n=1", 2.0), summary("b/f32/n=1", 1.0)];
        cur[1].flops = 1.1e9;
        cur[1].status = crate::measure::Status::Failed;
        let cmp = compare_counts(
            &side("m1", &cur, &[]),
            &side("m2", &base, &[]),
            Metric::Flops,
            &CompareOptions::default(),
        );
        assert_eq!(cmp.rows[0].benchmark, "b/f32/n=1");
        assert_eq!(cmp.rows[0].verdict, Verdict::Changed);
        assert_eq!(
            cmp.rows[0].reason.as_deref(),
            Some("FLOP per call 1000000000 -> 1100000000 (+10.0 %)")
        );
        // A 2x slower time does not matter to an analytic count.
        assert_eq!(cmp.rows[1].verdict, Verdict::Unchanged);
        assert!(cmp.fails(FailOn::Regression));
        let cmp = compare_counts(
            &side("m1", &cur, &[]),
            &side("m2", &base, &[]),
            Metric::Bytes,
            &CompareOptions::default(),
        );
        assert!(cmp.rows.iter().all(|r| r.verdict == Verdict::Unchanged));
        assert!(!cmp.fails(FailOn::AnyChange));
    }

    #[test]
    fn improvements_fail_only_any_change() {
        let base = vec![with_instructions("a/f32/n=1", Some(1e9))];
        let cur = vec![with_instructions("a/f32/n=1", Some(0.5e9))];
        let cmp = compare_counts(
            &side("m", &cur, &[]),
            &side("m", &base, &[]),
            Metric::Instructions,
            &CompareOptions::default(),
        );
        assert!(!cmp.fails(FailOn::Regression));
        assert!(cmp.fails(FailOn::AnyChange));
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
            counting_environment: None,
        };
        let base = RunSide {
            run_id: "base",
            fingerprint: Some("m"),
            summary: &base_summary,
            samples: &[],
            counting_environment: None,
        };
        let cmp = compare_runs(&cur, &base, &CompareOptions::default());
        assert_eq!(cmp.rows[0].ci_method, "summary");
        assert_eq!(cmp.rows[0].verdict, Verdict::Regressed);
    }
}
