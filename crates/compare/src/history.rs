//! One metric of each benchmark across runs, in run order, with its change points
//! ([`super::changepoint`]). Pure: the caller loads the runs.
//!
//! A series holds only values that are comparable with each other: the same benchmark,
//! backend and thread count, and, for measured metrics, the same machine fingerprint (and,
//! for instructions, the same counting method and code path). Runs on another machine start
//! another series instead of showing up as a phantom step. Analytic FLOPs and bytes do not
//! depend on the machine, so their series span machines.

use super::changepoint::{detect, ChangePointOptions};
use super::{instruction_source, Metric};
use crate::store::SummaryRow;
use serde::Serialize;
use std::collections::BTreeMap;

/// One run as the history sees it.
#[derive(Debug, Clone, Copy)]
pub struct HistoryRun<'a> {
    /// Run id.
    pub run_id: &'a str,
    /// UTC start, RFC 3339.
    pub started_at: &'a str,
    /// Git commit of the build, if recorded.
    pub git_commit: Option<&'a str>,
    /// Machine fingerprint, if recorded.
    pub fingerprint: Option<&'a str>,
    /// Rows of `summary.csv`.
    pub summary: &'a [SummaryRow],
}

/// One value of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Run id.
    pub run_id: String,
    /// UTC start of the run.
    pub started_at: String,
    /// Git commit of the run's build.
    pub git_commit: Option<String>,
    /// The value, in the metric's unit.
    pub value: f64,
}

/// A step found in a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangePoint {
    /// Index of the first point after the change.
    pub index: usize,
    /// Run id of that point.
    pub run_id: String,
    /// Git commit of that run.
    pub git_commit: Option<String>,
    /// Median of the segment before.
    pub before: f64,
    /// Median of the segment after.
    pub after: f64,
    /// `after / before` (`None` when `before` is 0).
    pub ratio: Option<f64>,
}

/// One benchmark's values across runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Benchmark name.
    pub benchmark: String,
    /// Backend.
    pub backend: braingap_core::backend_kind::BackendKind,
    /// Worker threads.
    pub threads: u64,
    /// Machine fingerprint (`None` for analytic counts, which span machines).
    pub fingerprint: Option<String>,
    /// For instructions: how they were counted and on which code path.
    pub source: Option<String>,
    /// Values in run order.
    pub points: Vec<HistoryPoint>,
    /// Steps found, in order.
    pub change_points: Vec<ChangePoint>,
    /// Noise scale used for the penalty.
    pub sigma: f64,
    /// Penalty per segment.
    pub penalty: f64,
}

type SeriesKey = (
    String,
    braingap_core::backend_kind::BackendKind,
    u64,
    Option<String>,
    Option<String>,
);

/// The series of `metric` over `runs` (taken in the order given; sort them by start time
/// first) for the benchmarks `keep` accepts, each with its change points. Rows without a
/// value (failed, or not measured) are left out. Series are ordered by benchmark, then
/// backend, threads, machine.
pub fn build(
    runs: &[HistoryRun<'_>],
    metric: Metric,
    keep: &dyn Fn(&str) -> bool,
    options: &ChangePointOptions,
) -> Vec<Series> {
    let mut grouped: BTreeMap<SeriesKey, Vec<HistoryPoint>> = BTreeMap::new();
    for run in runs {
        for row in run.summary {
            if !keep(&row.benchmark) {
                continue;
            }
            let Some(value) = metric.value(row).filter(|v| v.is_finite()) else {
                continue;
            };
            let fingerprint = if metric.is_exact() {
                None
            } else {
                Some(run.fingerprint.unwrap_or("unknown").to_string())
            };
            let source = (metric == Metric::Instructions).then(|| match &row.code_path {
                Some(path) => format!("{}, {path} path", instruction_source(row)),
                None => instruction_source(row).to_string(),
            });
            let threads = if metric.is_exact() { 0 } else { row.threads };
            grouped
                .entry((row.benchmark.clone(), row.backend, threads, fingerprint, source))
                .or_default()
                .push(HistoryPoint {
                    run_id: run.run_id.to_string(),
                    started_at: run.started_at.to_string(),
                    git_commit: run.git_commit.map(str::to_string),
                    value,
                });
        }
    }
    grouped
        .into_iter()
        .map(|((benchmark, backend, threads, fingerprint, source), points)| {
            let values: Vec<f64> = points.iter().map(|p| p.value).collect();
            let fit = detect(&values, options);
            let change_points = fit
                .segments
                .windows(2)
                .map(|w| {
                    let point = &points[w[1].start];
                    ChangePoint {
                        index: w[1].start,
                        run_id: point.run_id.clone(),
                        git_commit: point.git_commit.clone(),
                        before: w[0].median,
                        after: w[1].median,
                        ratio: (w[0].median != 0.0).then(|| w[1].median / w[0].median),
                    }
                })
                .collect();
            Series {
                benchmark,
                backend,
                threads,
                fingerprint,
                source,
                points,
                change_points,
                sigma: fit.sigma,
                penalty: fit.penalty,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(benchmark: &str, median: f64, flops: f64) -> SummaryRow {
        let mut r: SummaryRow = crate::fixtures::row(benchmark, "ok", median, flops, 1e6);
        r.backend = braingap_core::backend_kind::BackendKind::Fake;
        r
    }

    #[test]
    fn a_planted_step_is_found_per_machine_series() {
        // 16 runs on machine A, a 20 % slowdown from run 8; then 3 runs on machine B that are
        // 3x faster, which must not look like a step of A's series.
        let summaries: Vec<Vec<SummaryRow>> = (0..19)
            .map(|i| {
                let jitter = 1.0 + 0.005 * (((i * 7) % 5) as f64 - 2.0);
                let median = if i >= 16 {
                    0.33e-3
                } else if i >= 8 {
                    1.2e-3
                } else {
                    1e-3
                };
                vec![
                    row("gemm/f32/n=1", median * jitter, 2e9),
                    row("other/f32/n=1", 1.0, 1.0),
                ]
            })
            .collect();
        let ids: Vec<String> = (0..19).map(|i| format!("run{i:02}")).collect();
        let runs: Vec<HistoryRun<'_>> = (0..19)
            .map(|i| HistoryRun {
                run_id: &ids[i],
                started_at: "2025-01-01T00:00:00.000Z",
                git_commit: Some("c0ffee"),
                fingerprint: Some(if i >= 16 { "B" } else { "A" }),
                summary: &summaries[i],
            })
            .collect();
        let keep = |name: &str| name.starts_with("gemm");
        let series = build(&runs, Metric::Time, &keep, &ChangePointOptions::default());
        assert_eq!(series.len(), 2, "{series:?}");
        let a = &series[0];
        assert_eq!(a.fingerprint.as_deref(), Some("A"));
        assert_eq!(a.points.len(), 16);
        assert_eq!(a.change_points.len(), 1);
        assert_eq!(a.change_points[0].run_id, "run08");
        assert!((a.change_points[0].ratio.unwrap() - 1.2).abs() < 0.02);
        assert!(series[1].change_points.is_empty());
        // FLOPs never changed and span both machines: one series, no step.
        let flops = build(&runs, Metric::Flops, &keep, &ChangePointOptions::default());
        assert_eq!(flops.len(), 1);
        assert_eq!(flops[0].points.len(), 19);
        assert!(flops[0].change_points.is_empty());
    }

    #[test]
    fn flat_history_has_no_change_point() {
        let summaries: Vec<Vec<SummaryRow>> = (0..12)
            .map(|i| {
                vec![row(
                    "gemm/f32/n=1",
                    1e-3 * (1.0 + 0.01 * (((i * 5) % 7) as f64 - 3.0)),
                    2e9,
                )]
            })
            .collect();
        let ids: Vec<String> = (0..12).map(|i| format!("run{i:02}")).collect();
        let runs: Vec<HistoryRun<'_>> = (0..12)
            .map(|i| HistoryRun {
                run_id: &ids[i],
                started_at: "2025-01-01T00:00:00.000Z",
                git_commit: None,
                fingerprint: Some("A"),
                summary: &summaries[i],
            })
            .collect();
        let series = build(&runs, Metric::Time, &|_| true, &ChangePointOptions::default());
        assert_eq!(series.len(), 1);
        assert!(series[0].change_points.is_empty(), "{:?}", series[0].change_points);
        assert!(build(&runs, Metric::Instructions, &|_| true, &ChangePointOptions::default()).is_empty());
    }
}
