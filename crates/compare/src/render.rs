//! A comparison as markdown, ready to paste as a CI job summary or a pull-request comment,
//! and the value formatting that the text and markdown forms share. Pure functions to
//! strings; `braingap compare` writes them.

use super::{Comparison, FailOn, Metric, Verdict};
use crate::units::si;
use std::fmt::Write;

/// A value of `metric` for people: SI-prefixed seconds for time, whole counts in full (with
/// thin-space-free comma grouping) for counts.
pub fn value(metric: Metric, value: Option<f64>) -> String {
    match value {
        None => "–".into(),
        Some(v) if metric == Metric::Time => si(v, "s"),
        Some(v) => grouped(v),
    }
}

/// `1234567.0` as `1,234,567`; non-integers keep one decimal.
pub fn grouped(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = if value.fract() == 0.0 {
        format!("{:.0}", value.abs())
    } else {
        format!("{:.1}", value.abs())
    };
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    if value < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// The relative change of a ratio, e.g. `+12.3 %`.
pub fn change(ratio: Option<f64>) -> String {
    ratio.map_or("–".into(), |r| format!("{:+.1} %", (r - 1.0) * 100.0))
}

/// The CI of a ratio as `lo – hi`, or `–`.
pub fn ci(low: Option<f64>, high: Option<f64>) -> String {
    match (low, high) {
        (Some(lo), Some(hi)) => format!("{lo:.3} – {hi:.3}"),
        _ => "–".into(),
    }
}

/// A fraction as a percentage without needless decimals: `0.05` as `5`, `0.025` as `2.5`.
pub fn percent(fraction: f64) -> String {
    let text = format!("{:.3}", fraction * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One sentence on what was compared and how.
pub fn method(comparison: &Comparison) -> String {
    let threshold = percent(comparison.options.threshold);
    match comparison.metric {
        Metric::Time => format!(
            "median time per call; ratio = current ÷ baseline with a 95 % bootstrap CI; regressed only when \
             the CI excludes 1 and the change exceeds {threshold} %"
        ),
        Metric::Instructions => {
            let across = if comparison.options.across_machines {
                "; across machines where the counting environment matches"
            } else {
                ""
            };
            format!("instructions per call (repeatable counts, no CI); a change beyond {threshold} % counts{across}")
        }
        Metric::Flops => "analytic FLOP per call, compared for equality on any machine".into(),
        Metric::Bytes => "analytic compulsory bytes per call, compared for equality on any machine".into(),
    }
}

/// Counts of each verdict, e.g. `1 regressed, 0 changed, 2 improved, 9 unchanged, 0 incomparable`.
pub fn counts(comparison: &Comparison) -> String {
    [
        Verdict::Regressed,
        Verdict::Changed,
        Verdict::Improved,
        Verdict::Unchanged,
        Verdict::Incomparable,
    ]
    .iter()
    .map(|v| format!("{} {}", comparison.count(*v), v.as_str()))
    .collect::<Vec<_>>()
    .join(", ")
}

/// Text that is safe inside a GitHub-flavoured markdown table cell: pipes escaped, angle
/// brackets as entities (no HTML from run data reaches the page), newlines as spaces.
pub fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// A benchmark name as inline code in a table cell.
fn code(text: &str) -> String {
    format!(
        "`{}`",
        text.replace('`', "'").replace('|', "\\|").replace(['\n', '\r'], " ")
    )
}

fn table(comparison: &Comparison, rows: &[&super::BenchmarkComparison], out: &mut String) {
    let metric = comparison.metric;
    let with_ci = metric == Metric::Time;
    let _ = write!(out, "| Benchmark | Baseline | Current | Change |");
    if with_ci {
        out.push_str(" 95 % CI of ratio |");
    }
    out.push_str(" Verdict | Note |\n|---|---:|---:|---:|");
    if with_ci {
        out.push_str("---:|");
    }
    out.push_str("---|---|\n");
    for r in rows {
        let verdict = match r.verdict {
            Verdict::Regressed | Verdict::Changed => format!("**{}**", r.verdict.as_str()),
            v => v.as_str().to_string(),
        };
        let _ = write!(
            out,
            "| {} | {} | {} | {} |",
            code(&r.benchmark),
            value(metric, r.baseline_value),
            value(metric, r.current_value),
            change(r.ratio)
        );
        if with_ci {
            let _ = write!(out, " {} |", ci(r.ci_low, r.ci_high));
        }
        let _ = writeln!(out, " {verdict} | {} |", cell(r.reason.as_deref().unwrap_or("")));
    }
}

/// The comparison as markdown: a heading with the counts, whether `policy` fails, the
/// method, the notable rows (regressed, changed, improved, incomparable) in a table, the
/// unchanged ones folded in a `<details>` block, and the benchmarks only one run has.
pub fn markdown(comparison: &Comparison, policy: FailOn) -> String {
    let mut out = String::new();
    let failed = comparison.fails(policy);
    let _ = writeln!(
        out,
        "### braingap compare ({}): {}\n",
        comparison.metric.as_str(),
        counts(comparison)
    );
    let _ = writeln!(
        out,
        "**{}** (`--fail-on {}`). Baseline `{}`, current `{}`; {}.\n",
        if failed { "Failed" } else { "Passed" },
        policy.as_str(),
        cell(&comparison.baseline_run_id),
        cell(&comparison.current_run_id),
        method(comparison)
    );
    if !comparison.same_machine && comparison.options.across_machines && comparison.metric == Metric::Instructions {
        out.push_str(
            "The runs come from different machines; callgrind counts are compared where both ran the \
             same code path under the same valgrind, rustc, build profile and target \
             (`--across-machines`).\n\n",
        );
    } else if !comparison.same_machine && !comparison.metric.is_exact() {
        out.push_str(
            "**The runs come from different machines (or one has no fingerprint): their benchmarks are \
             incomparable.**\n\n",
        );
    }
    let notable: Vec<_> = comparison
        .rows
        .iter()
        .filter(|r| r.verdict != Verdict::Unchanged)
        .collect();
    let unchanged: Vec<_> = comparison
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Unchanged)
        .collect();
    if notable.is_empty() && comparison.metric.is_exact() {
        out.push_str("No count changed.\n\n");
    } else if notable.is_empty() {
        out.push_str("No benchmark changed beyond the threshold.\n\n");
    } else {
        table(comparison, &notable, &mut out);
        out.push('\n');
    }
    if !unchanged.is_empty() {
        let _ = writeln!(out, "<details><summary>{} unchanged</summary>\n", unchanged.len());
        table(comparison, &unchanged, &mut out);
        out.push_str("\n</details>\n\n");
    }
    for (names, label) in [
        (&comparison.only_in_current, "Only in the current run"),
        (&comparison.only_in_baseline, "Only in the baseline"),
    ] {
        if !names.is_empty() {
            let list: Vec<String> = names.iter().map(|n| code(n)).collect();
            let _ = writeln!(out, "{label} ({}): {}\n", names.len(), list.join(", "));
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Each stored benchmark's short display name (`braingap_kernels::short_name`, from the row's
/// kernel, dtype and parameter object), for the terminal's tables; a name whose short name
/// another benchmark shares stays as it is.
pub fn short_names<'a>(
    rows: impl IntoIterator<Item = &'a crate::store::SummaryRow>,
) -> std::collections::HashMap<String, String> {
    let mut names = std::collections::HashMap::new();
    for row in rows {
        let short = braingap_kernels::short_name(&row.kernel, row.dtype.as_str(), &|key| row.param(key));
        names.insert(row.benchmark.clone(), short);
    }
    // Two benchmarks that differ only in a parameter the short name leaves out keep their full
    // names, so no two rows read alike.
    let mut count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for short in names.values() {
        *count.entry(short.clone()).or_default() += 1;
    }
    for (full, short) in names.iter_mut() {
        if count[short.as_str()] > 1 {
            *short = full.clone();
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BenchmarkComparison, CompareOptions};

    fn row(name: &str, verdict: Verdict, ratio: f64, reason: Option<&str>) -> BenchmarkComparison {
        BenchmarkComparison {
            benchmark: name.into(),
            backend: braingap_core::backend_kind::BackendKind::Cpu,
            baseline_value: Some(1e-3),
            current_value: Some(1e-3 * ratio),
            ratio: Some(ratio),
            ci_low: Some(ratio * 0.98),
            ci_high: Some(ratio * 1.02),
            ci_method: "bootstrap",
            verdict,
            reason: reason.map(str::to_string),
        }
    }

    fn comparison() -> Comparison {
        Comparison {
            current_run_id: "20250602T120000.000Z-beef".into(),
            baseline_run_id: "20250601T120000.000Z-cafe".into(),
            metric: Metric::Time,
            same_machine: true,
            options: CompareOptions::default(),
            rows: vec![
                row("gemm/f32/m=512,n=512,k=512", Verdict::Regressed, 1.2, None),
                row("stream_triad/f64/n=1048576", Verdict::Improved, 0.8, None),
                row("lif_step/f32/n=1048576", Verdict::Unchanged, 1.01, None),
                row(
                    "attention/f32/n=512,d=64",
                    Verdict::Incomparable,
                    1.0,
                    Some("status failed (current) | <b>"),
                ),
            ],
            only_in_current: vec!["conv2d_nhwc/f32/c=64".into()],
            only_in_baseline: vec![],
        }
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(markdown(&comparison(), FailOn::Regression));
    }

    #[test]
    fn markdown_escapes_and_reports_the_policy() {
        let text = markdown(&comparison(), FailOn::Never);
        assert!(text.contains("**Passed** (`--fail-on never`)"));
        assert!(text.contains("status failed (current) \\| &lt;b&gt;"));
        assert!(!text.contains("<b>"));
        let mut counts_only = comparison();
        counts_only.metric = Metric::Flops;
        counts_only.rows.truncate(0);
        let text = markdown(&counts_only, FailOn::Regression);
        assert!(text.contains("No count changed."));
        assert!(!text.contains("95 % CI of ratio"));
    }

    #[test]
    fn values_format_per_metric() {
        assert_eq!(value(Metric::Time, Some(1.5e-3)), "1.500 ms");
        assert_eq!(value(Metric::Flops, Some(268_435_456.0)), "268,435,456");
        assert_eq!(value(Metric::Instructions, Some(1234.56)), "1,234.6");
        assert_eq!(value(Metric::Bytes, None), "–");
        assert_eq!(grouped(-1000.0), "-1,000");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(change(Some(1.123)), "+12.3 %");
        assert_eq!(percent(0.05), "5");
        assert_eq!(percent(0.025), "2.5");
        assert_eq!(percent(0.0), "0");
    }
}
