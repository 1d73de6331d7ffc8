//! `braingap compare`: the regression gate between two stored runs, for CI.

use super::table;
use crate::compare::render::{self, value};
use crate::compare::{compare_metric, CompareOptions, Comparison, FailOn, Metric, RunSide, Verdict};
use crate::error::Error;
use crate::store::{RunInfo, Store, SCHEMA_VERSION};
use anyhow::{bail, Context};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Which figure to compare (`--metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricArg {
    /// Median time per call, judged with a bootstrap 95 % CI of the ratio.
    Time,
    /// Instructions per call (from `braingap run --metric instructions`), judged against the
    /// threshold alone.
    Instructions,
    /// Analytic FLOPs per call, compared for equality.
    Flops,
    /// Analytic compulsory bytes per call, compared for equality.
    Bytes,
}

impl From<MetricArg> for Metric {
    fn from(arg: MetricArg) -> Metric {
        match arg {
            MetricArg::Time => Metric::Time,
            MetricArg::Instructions => Metric::Instructions,
            MetricArg::Flops => Metric::Flops,
            MetricArg::Bytes => Metric::Bytes,
        }
    }
}

/// Output form (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    /// A table for the terminal.
    Text,
    /// GitHub-flavoured markdown for a CI job summary or a pull-request comment.
    Markdown,
    /// The whole comparison as JSON.
    Json,
}

/// When to exit 1 (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOnArg {
    /// A benchmark regressed, or (flops, bytes) an analytic count changed.
    Regression,
    /// Any benchmark regressed, improved or changed.
    AnyChange,
    /// Never: report only.
    Never,
}

impl From<FailOnArg> for FailOn {
    fn from(arg: FailOnArg) -> FailOn {
        match arg {
            FailOnArg::Regression => FailOn::Regression,
            FailOnArg::AnyChange => FailOn::AnyChange,
            FailOnArg::Never => FailOn::Never,
        }
    }
}

/// Arguments of `braingap compare`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Verdicts per benchmark (matched by name and backend): regressed, improved, unchanged, changed \
(an analytic count differs), incomparable (different machine fingerprints, thread counts, \
instruction-counting methods or code paths, or a side without a value; the reason is given). \
Time is regressed only when the 95 % bootstrap CI of the ratio of medians excludes 1 and the \
ratio exceeds 1 + PCT/100; instruction counts repeat, so their ratio is judged against the \
threshold alone.

Exit status: 0 when nothing fails under --fail-on, 1 when something does, 2 on bad input (a \
run that does not exist or cannot be read, runs of different schema versions, no benchmark \
in common, a run without the metric asked for).")]
pub struct CompareArgs {
    /// Baseline run: a run id under RESULTS/runs/, `latest`, or a run directory.
    #[arg(value_name = "BASE")]
    pub base: String,

    /// Current run: a run id under RESULTS/runs/, `latest`, or a run directory.
    #[arg(value_name = "CURRENT")]
    pub current: String,

    /// Change, in percent, that a difference must exceed to count (5 = 5 %). Ignored for
    /// flops and bytes, where any difference counts.
    #[arg(long, default_value_t = 5.0, value_name = "PCT", allow_negative_numbers = true)]
    pub threshold: f64,

    /// What to compare.
    #[arg(long, value_enum, default_value_t = MetricArg::Time)]
    pub metric: MetricArg,

    /// Output form.
    #[arg(long, value_enum, default_value_t = CompareFormat::Text)]
    pub format: CompareFormat,

    /// What makes the command exit 1.
    #[arg(long, value_enum, default_value_t = FailOnArg::Regression)]
    pub fail_on: FailOnArg,

    /// With `--metric instructions`: compare callgrind counts of runs from different machines
    /// when both ran the same code path under the same valgrind, rustc, build profile and
    /// target (a CI runner against a baseline committed from another machine). Small
    /// differences can remain from what valgrind passes through from the host CPU (the C
    /// library's dispatched memcpy, cache sizes used for blocking).
    #[arg(long)]
    pub across_machines: bool,

    /// Results directory that run ids are looked up in.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results: PathBuf,
}

/// The JSON form: the comparison plus the policy's outcome.
#[derive(Serialize)]
struct CompareJson<'a> {
    #[serde(flatten)]
    comparison: &'a Comparison,
    threshold_percent: f64,
    fail_on: &'static str,
    failed: bool,
}

/// Loads one side, naming the argument in every error.
fn load(store: &Store, id: &str, side: &str) -> anyhow::Result<RunInfo> {
    store.load(id).with_context(|| format!("cannot read {side} run `{id}`"))
}

/// Refuses a run that has none of the values `metric` needs.
fn require_values(run: &RunInfo, side: &str, metric: Metric) -> anyhow::Result<()> {
    if run.summary.is_empty() {
        bail!(
            "{side} run {} has no benchmark results ({})",
            run.meta.run_id,
            run.dir.display()
        );
    }
    if run.summary.iter().any(|r| metric.value(r).is_some()) {
        return Ok(());
    }
    match metric {
        Metric::Instructions => bail!(
            "no instruction counts in {side} run {} (run with `braingap run --metric instructions`)",
            run.meta.run_id
        ),
        Metric::Time
            if run
                .summary
                .iter()
                .any(|r| r.instructions.is_some() && r.median_s.is_none()) =>
        {
            bail!(
                "no timings in {side} run {} (an instruction-count run: compare it with --metric instructions)",
                run.meta.run_id
            )
        }
        Metric::Time => bail!(
            "no timings in {side} run {}: no benchmark has status ok",
            run.meta.run_id
        ),
        Metric::Flops | Metric::Bytes => Ok(()),
    }
}

/// The run a timed run is compared with at its end: the newest earlier complete run in the
/// same store of the same machine fingerprint, backend and schema with a timed benchmark in
/// common; `None` when there is none.
pub(super) fn previous_run(results: &std::path::Path, current: &RunInfo) -> Option<RunInfo> {
    let fingerprint = current.meta.machine["fingerprint"].as_str()?;
    let (runs, _) = Store::new(results).list();
    runs.into_iter().rev().find(|r| {
        r.meta.run_id < current.meta.run_id
            && r.meta.status == crate::store::RunStatus::Complete
            && r.meta.schema_version == current.meta.schema_version
            && r.meta.backend == current.meta.backend
            && r.meta.machine["fingerprint"].as_str() == Some(fingerprint)
            && r.summary
                .iter()
                .any(|row| row.median_s.is_some() && current.summary.iter().any(|c| c.benchmark == row.benchmark))
    })
}

/// What changed since `previous` ([`previous_run`]), judged by `compare`'s rules (default
/// threshold, bootstrap CI of the ratio of medians); a run whose samples cannot be read says
/// so instead.
pub(super) fn since_previous(previous: &RunInfo, current: &RunInfo) -> String {
    let samples = |run: &RunInfo| crate::report::files::read_run_samples(run);
    let (base_samples, current_samples) = match (samples(previous), samples(current)) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => {
            return format!(
                "Not compared with the previous run {}: {}",
                previous.meta.run_id,
                super::error_line(&e.into())
            )
        }
    };
    let comparison = compare_metric(
        &RunSide::of(current, &current_samples),
        &RunSide::of(previous, &base_samples),
        Metric::Time,
        &CompareOptions::default(),
    );
    let short = crate::compare::render::short_names(current.summary.iter());
    let name = |full: &String| short.get(full).cloned().unwrap_or_else(|| full.clone());
    let mut text = table::wrap(
        &format!(
            "Since the previous run on this machine ({}): {} faster, {} slower, {} unchanged, {} not comparable \
         (`braingap compare`'s rule: a ratio of medians beyond ±{:.0} % whose 95 % CI excludes 1).",
            previous.meta.run_id,
            comparison.count(Verdict::Improved),
            comparison.count(Verdict::Regressed),
            comparison.count(Verdict::Unchanged),
            comparison.count(Verdict::Incomparable),
            100.0 * comparison.options.threshold
        ),
        table::MAX_COLUMNS,
    );
    for (verdict, word) in [(Verdict::Regressed, "slower"), (Verdict::Improved, "faster")] {
        for row in comparison.rows.iter().filter(|r| r.verdict == verdict) {
            if let (Some(ratio), Some(low), Some(high)) = (row.ratio, row.ci_low, row.ci_high) {
                text.push_str(&format!(
                    "\n  {word}: {} takes {ratio:.2}× the time (95 % CI {low:.2}–{high:.2})",
                    name(&row.benchmark)
                ));
            }
        }
    }
    text
}

/// Runs `braingap compare`: exit 0 when nothing fails under `--fail-on`, 1 when something
/// does; errors (exit 2) name the run or argument at fault.
pub fn run(args: &CompareArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    if args.across_machines && args.metric != MetricArg::Instructions {
        return Err(Error::InvalidArgument {
            arg: "--across-machines".into(),
            reason: "only instruction counts (--metric instructions) are compared across machines".into(),
        }
        .into());
    }
    if !args.threshold.is_finite() || !(0.0..100.0).contains(&args.threshold) {
        return Err(Error::InvalidArgument {
            arg: "--threshold".into(),
            reason: format!("{} is not a percentage in [0, 100)", args.threshold),
        }
        .into());
    }
    let metric = Metric::from(args.metric);
    let policy = FailOn::from(args.fail_on);
    let store = Store::new(&args.results);
    let base = load(&store, &args.base, "BASE")?;
    let current = load(&store, &args.current, "CURRENT")?;
    if base.meta.run_id == current.meta.run_id {
        return Err(Error::InvalidArgument {
            arg: format!("BASE {} and CURRENT {}", args.base, args.current),
            reason: format!(
                "both name run {}: a run compared with itself can show no change",
                base.meta.run_id
            ),
        }
        .into());
    }
    if base.meta.schema_version != current.meta.schema_version {
        bail!(
            "BASE run {} has schema version {} but CURRENT run {} has {} (this braingap writes {SCHEMA_VERSION})",
            base.meta.run_id,
            base.meta.schema_version,
            current.meta.run_id,
            current.meta.schema_version
        );
    }
    require_values(&base, "BASE", metric)?;
    require_values(&current, "CURRENT", metric)?;
    let (base_samples, current_samples) = if metric == Metric::Time {
        (
            crate::report::files::read_run_samples(&base).with_context(|| format!("BASE run {}", base.meta.run_id))?,
            crate::report::files::read_run_samples(&current)
                .with_context(|| format!("CURRENT run {}", current.meta.run_id))?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let options = CompareOptions {
        threshold: args.threshold / 100.0,
        across_machines: args.across_machines,
        ..CompareOptions::default()
    };
    let comparison = compare_metric(
        &RunSide::of(&current, &current_samples),
        &RunSide::of(&base, &base_samples),
        metric,
        &options,
    );
    if comparison.rows.is_empty() {
        let backends = if base.meta.backend == current.meta.backend {
            String::new()
        } else {
            format!(
                "; BASE ran backend {}, CURRENT {}",
                base.meta.backend, current.meta.backend
            )
        };
        bail!(
            "BASE run {} ({} benchmarks) and CURRENT run {} ({} benchmarks) have no benchmark in common{backends}",
            base.meta.run_id,
            base.summary.len(),
            current.meta.run_id,
            current.summary.len()
        );
    }
    if comparison.count(Verdict::Incomparable) == comparison.rows.len() {
        let reason = comparison.rows[0].reason.as_deref().unwrap_or("no usable values");
        crate::diag!("warning: no benchmark could be compared: {reason}");
    }
    let failed = comparison.fails(policy);
    match args.format {
        CompareFormat::Text => write!(
            out,
            "{}",
            text(
                &comparison,
                policy,
                &crate::compare::render::short_names(base.summary.iter().chain(&current.summary))
            )
        )?,
        CompareFormat::Markdown => writeln!(out, "{}", render::markdown(&comparison, policy))?,
        CompareFormat::Json => {
            let json = CompareJson {
                comparison: &comparison,
                threshold_percent: args.threshold,
                fail_on: policy.as_str(),
                failed,
            };
            writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The terminal form: a heading, every common benchmark in a table (by short name, see
/// [`crate::compare::render::short_names`]), the unmatched ones, the outcome.
fn text(c: &Comparison, policy: FailOn, short: &std::collections::HashMap<String, String>) -> String {
    let name = |full: &String| short.get(full).cloned().unwrap_or_else(|| full.clone());
    let metric = c.metric;
    let mut out = format!(
        "compare {}: baseline {} -> current {}\n{}.\n\n",
        metric.as_str(),
        c.baseline_run_id,
        c.current_run_id,
        render::method(c)
    );
    let mut header = vec!["benchmark", "backend", "baseline", "current", "change"];
    if metric == Metric::Time {
        header.push("95% CI of ratio");
    }
    header.extend(["verdict", "note"]);
    let rows: Vec<Vec<String>> = c
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                name(&r.benchmark),
                r.backend.to_string(),
                value(metric, r.baseline_value),
                value(metric, r.current_value),
                render::change(r.ratio),
            ];
            if metric == Metric::Time {
                cells.push(render::ci(r.ci_low, r.ci_high));
            }
            cells.push(r.verdict.as_str().into());
            cells.push(r.reason.clone().unwrap_or_default());
            cells
        })
        .collect();
    let right: Vec<usize> = if metric == Metric::Time {
        vec![2, 3, 4, 5]
    } else {
        vec![2, 3, 4]
    };
    out.push_str(&table::render(&header, &rows, &right));
    for (names, label) in [
        (&c.only_in_current, "only in the current run"),
        (&c.only_in_baseline, "only in the baseline"),
    ] {
        if !names.is_empty() {
            let names: Vec<String> = names.iter().map(name).collect();
            out.push_str(&format!("\n{label} ({}): {}\n", names.len(), names.join(", ")));
        }
    }
    let nothing_compared = !c.rows.is_empty() && c.count(Verdict::Incomparable) == c.rows.len();
    out.push_str(&format!(
        "\n{}. {} (--fail-on {}).\n",
        render::counts(c),
        if c.fails(policy) {
            "FAILED"
        } else if nothing_compared {
            "Nothing compared: no verdict, not a pass"
        } else {
            "Passed"
        },
        policy.as_str()
    ));
    out
}
