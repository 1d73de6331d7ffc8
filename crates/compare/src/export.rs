//! A run's results in the JSON that dashboards already read: Bencher Metric Format (BMF) and
//! github-action-benchmark's `customSmallerIsBetter` / `customBiggerIsBetter` arrays. Pure
//! functions from summary rows to JSON bytes; only `ok` rows are exported.
//!
//! BMF (<https://bencher.dev/docs/reference/bencher-metric-format>): an object keyed by
//! benchmark, each an object keyed by measure, each `{"value", "lower_value", "upper_value"}`
//! (the bounds optional). braingap writes, per benchmark, `latency` (median nanoseconds per
//! call, bounds = the 95 % bootstrap CI of the median; Bencher's built-in Latency measure is
//! in ns), `throughput` (FLOP/s at the median, bounds from the same CI; only for benchmarks
//! that do floating-point work), `bandwidth` (compulsory bytes per second, likewise; only
//! for benchmarks that move bytes) and `instructions` (per call; only when counted).
//!
//! github-action-benchmark (`tool: customSmallerIsBetter` or `customBiggerIsBetter`): an
//! array of `{"name", "unit", "value", "range", "extra"}`, `range` and `extra` free text.
//! One metric per file, since the tool decides the direction: time (ns per call, smaller is
//! better), instructions (per call, smaller is better) or throughput (GFLOP/s, or GB/s for
//! kernels without FLOPs; bigger is better).
//!
//! Benchmark names are `kernel/dtype/params (backend)`, so runs of several backends can feed
//! one dashboard without colliding.

use crate::store::SummaryRow;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which figure a github-action-benchmark file carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionMetric {
    /// Median nanoseconds per call (`customSmallerIsBetter`).
    Time,
    /// Instructions per call (`customSmallerIsBetter`).
    Instructions,
    /// GFLOP/s, or GB/s without FLOPs (`customBiggerIsBetter`).
    Throughput,
}

impl ActionMetric {
    /// The github-action-benchmark `tool` that reads this file.
    pub fn tool(self) -> &'static str {
        match self {
            ActionMetric::Time | ActionMetric::Instructions => "customSmallerIsBetter",
            ActionMetric::Throughput => "customBiggerIsBetter",
        }
    }
}

/// One BMF measure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BmfMetric {
    /// The value.
    pub value: f64,
    /// Lower bound (95 % CI), if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower_value: Option<f64>,
    /// Upper bound (95 % CI), if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper_value: Option<f64>,
}

/// One github-action-benchmark entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionEntry {
    /// Benchmark name.
    pub name: String,
    /// Unit shown on the chart.
    pub unit: String,
    /// The value.
    pub value: f64,
    /// Spread, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// Tooltip text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
}

/// Run-level facts for the tooltips.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunFacts<'a> {
    /// Run id.
    pub run_id: &'a str,
    /// Git commit of the build, if recorded.
    pub git_commit: Option<&'a str>,
    /// Machine fingerprint, if recorded.
    pub fingerprint: Option<&'a str>,
}

/// The exported name of a row: `benchmark (backend)`.
pub fn export_name(row: &SummaryRow) -> String {
    format!("{} ({})", row.benchmark, row.backend)
}

fn ok_rows(summary: &[SummaryRow]) -> impl Iterator<Item = &SummaryRow> {
    summary
        .iter()
        .filter(|r| r.status == crate::measure::Status::Ok && r.median_s.is_some_and(|m| m.is_finite() && m > 0.0))
}

/// A rate `work / time` with bounds from the time's CI (a slower bound gives a lower rate).
fn rate(work: f64, row: &SummaryRow, scale: f64) -> Option<BmfMetric> {
    let median = row.median_s?;
    (work > 0.0).then(|| BmfMetric {
        value: work / median * scale,
        lower_value: row.ci_high_s.filter(|t| *t > 0.0).map(|t| work / t * scale),
        upper_value: row.ci_low_s.filter(|t| *t > 0.0).map(|t| work / t * scale),
    })
}

/// The run as BMF: `{benchmark: {measure: {value, lower_value, upper_value}}}`.
pub fn bmf(summary: &[SummaryRow]) -> BTreeMap<String, BTreeMap<&'static str, BmfMetric>> {
    ok_rows(summary)
        .map(|row| {
            let mut measures = BTreeMap::new();
            if let Some(median) = row.median_s {
                measures.insert(
                    "latency",
                    BmfMetric {
                        value: median * 1e9,
                        lower_value: row.ci_low_s.map(|s| s * 1e9),
                        upper_value: row.ci_high_s.map(|s| s * 1e9),
                    },
                );
            }
            if let Some(m) = rate(row.flops, row, 1.0) {
                measures.insert("throughput", m);
            }
            if let Some(m) = rate(row.bytes, row, 1.0) {
                measures.insert("bandwidth", m);
            }
            if let Some(instructions) = row.instructions.filter(|i| i.is_finite()) {
                measures.insert(
                    "instructions",
                    BmfMetric {
                        value: instructions,
                        lower_value: None,
                        upper_value: None,
                    },
                );
            }
            (export_name(row), measures)
        })
        .collect()
}

fn extra(row: &SummaryRow, facts: &RunFacts<'_>) -> String {
    let mut lines = vec![
        format!("run: {}", facts.run_id),
        format!("threads: {}", row.threads),
        format!("samples: {} x {} calls", row.samples, row.iters_per_sample),
    ];
    if let Some(commit) = facts.git_commit {
        lines.push(format!("commit: {commit}"));
    }
    if let Some(fp) = facts.fingerprint {
        lines.push(format!("machine: {fp}"));
    }
    lines.join("\n")
}

/// The run as a github-action-benchmark array for `metric`; rows without the figure (no
/// instruction count, no work for a throughput) are left out.
pub fn github_action(summary: &[SummaryRow], metric: ActionMetric, facts: &RunFacts<'_>) -> Vec<ActionEntry> {
    ok_rows(summary)
        .filter_map(|row| {
            let (unit, value, range) = match metric {
                ActionMetric::Time => {
                    let median = row.median_s?;
                    let range = match (row.ci_low_s, row.ci_high_s) {
                        (Some(lo), Some(hi)) => Some(format!("95% CI {:.1}-{:.1} ns", lo * 1e9, hi * 1e9)),
                        _ => None,
                    };
                    ("ns".to_string(), median * 1e9, range)
                }
                ActionMetric::Instructions => ("instructions".to_string(), row.instructions?, None),
                ActionMetric::Throughput => {
                    let (work, unit) = if row.flops > 0.0 {
                        (row.flops, "GFLOP/s")
                    } else {
                        (row.bytes, "GB/s")
                    };
                    let m = rate(work, row, 1e-9)?;
                    let range = match (m.lower_value, m.upper_value) {
                        (Some(lo), Some(hi)) => Some(format!("95% CI {lo:.3}-{hi:.3} {unit}")),
                        _ => None,
                    };
                    (unit.to_string(), m.value, range)
                }
            };
            value.is_finite().then(|| ActionEntry {
                name: export_name(row),
                unit,
                value,
                range,
                extra: Some(extra(row, facts)),
            })
        })
        .collect()
}

/// Pretty JSON with a trailing newline.
pub fn to_json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("export serializes");
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::row;

    #[test]
    fn bmf_has_latency_in_ns_and_rates_with_bounds() {
        let mut rows = vec![
            row("gemm/f32/n=1", "ok", 2e-3, 2e9, 1e6),
            row("stream_copy/f64/n=1", "ok", 1e-3, 0.0, 1e7),
            row("lif_step/f32/n=1", "failed", 0.0, 1e6, 1e6),
        ];
        rows[0].instructions = Some(5e8);
        let json = serde_json::to_value(bmf(&rows)).unwrap();
        let gemm = &json["gemm/f32/n=1 (cpu)"];
        assert_eq!(gemm["latency"]["value"], 2e6);
        assert!((gemm["latency"]["lower_value"].as_f64().unwrap() - 1.8e6).abs() < 1e-3);
        assert_eq!(gemm["throughput"]["value"], 1e12);
        assert!(gemm["throughput"]["lower_value"].as_f64().unwrap() < 1e12);
        assert!(gemm["throughput"]["upper_value"].as_f64().unwrap() > 1e12);
        assert_eq!(gemm["instructions"], serde_json::json!({"value": 5e8}));
        let copy = &json["stream_copy/f64/n=1 (cpu)"];
        assert!(copy.get("throughput").is_none());
        assert_eq!(copy["bandwidth"]["value"], 1e10);
        assert!(json.get("lif_step/f32/n=1 (cpu)").is_none());
    }

    #[test]
    fn github_action_entries_per_metric() {
        let rows = vec![
            row("gemm/f32/n=1", "ok", 2e-3, 2e9, 1e6),
            row("stream_copy/f64/n=1", "ok", 1e-3, 0.0, 1e7),
        ];
        let facts = RunFacts {
            run_id: "run-1",
            git_commit: Some("abc"),
            fingerprint: None,
        };
        let time = github_action(&rows, ActionMetric::Time, &facts);
        assert_eq!(time.len(), 2);
        assert_eq!(time[0].unit, "ns");
        assert_eq!(time[0].value, 2e6);
        assert!(time[0].extra.as_deref().unwrap().contains("commit: abc"));
        let throughput = github_action(&rows, ActionMetric::Throughput, &facts);
        assert_eq!(throughput[0].unit, "GFLOP/s");
        assert_eq!(throughput[1].unit, "GB/s");
        assert!((throughput[1].value - 10.0).abs() < 1e-9);
        assert!(github_action(&rows, ActionMetric::Instructions, &facts).is_empty());
        assert_eq!(ActionMetric::Throughput.tool(), "customBiggerIsBetter");
        let json: serde_json::Value = serde_json::from_slice(&to_json_bytes(&time)).unwrap();
        let keys: Vec<&str> = json[0].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["extra", "name", "range", "unit", "value"]);
    }
}
