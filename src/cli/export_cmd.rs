//! `braingap export`: one run's results as Bencher Metric Format or github-action-benchmark
//! JSON, for the dashboards users already run.

use crate::compare::export::{bmf, github_action, to_json_bytes, ActionMetric, RunFacts};
use crate::error::Error;
use crate::store::{write_atomic, Store};
use anyhow::{bail, Context};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Bencher Metric Format: {benchmark: {latency, throughput, bandwidth, instructions}}.
    Bmf,
    /// github-action-benchmark's custom format: [{name, unit, value, range, extra}].
    GithubAction,
}

/// What a github-action-benchmark file carries (`--metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportMetric {
    /// Median ns per call (tool: customSmallerIsBetter).
    Time,
    /// Instructions per call (tool: customSmallerIsBetter).
    Instructions,
    /// GFLOP/s, or GB/s for kernels without FLOPs (tool: customBiggerIsBetter).
    Throughput,
}

/// Arguments of `braingap export`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
bmf writes, per benchmark named `kernel/dtype/params (backend)`: latency (median ns per call, \
lower/upper = its 95 % bootstrap CI), throughput (FLOP/s), bandwidth (bytes/s) and \
instructions (per call), each only where the run has it. Feed it to `bencher run --adapter \
json --file FILE`.

github-action writes one metric per file, because the action's tool fixes the direction: \
--metric time or instructions for `tool: customSmallerIsBetter`, throughput for \
`tool: customBiggerIsBetter` (the tool to use is printed on stderr). Only benchmarks with \
status ok are exported.")]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,

    /// Run to export: a run id, `latest`, or a run directory.
    #[arg(long, default_value = "latest", value_name = "ID")]
    pub run: String,

    /// Results directory.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results: PathBuf,

    /// Write here (atomically: temporary file, then rename) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The metric of a github-action file [default: time]; bmf always carries all of them.
    #[arg(long, value_enum, value_name = "METRIC")]
    pub metric: Option<ExportMetric>,
}

/// Runs `braingap export`; errors (exit 2) name the run or argument at fault.
pub fn run(args: &ExportArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    if args.format == ExportFormat::Bmf && args.metric.is_some() {
        return Err(Error::InvalidArgument {
            arg: "--metric".into(),
            reason: "applies to --format github-action only (bmf carries every metric)".into(),
        }
        .into());
    }
    let store = Store::new(&args.results);
    let run = store
        .load(&args.run)
        .with_context(|| format!("cannot read run `{}`", args.run))?;
    let ok = run
        .summary
        .iter()
        .filter(|r| r.status == crate::measure::Status::Ok)
        .count();
    let timed = run.summary.iter().filter(|r| r.median_s.is_some()).count();
    let counted = run.summary.iter().filter(|r| r.instructions.is_some()).count();
    if ok == 0 {
        bail!("run {} has no benchmark with status ok to export", run.meta.run_id);
    }
    let skipped = run.summary.len() - ok;
    if skipped > 0 {
        crate::diag!("note: {skipped} benchmark(s) not ok (failed or skipped) are left out");
    }
    let bytes = match args.format {
        ExportFormat::Bmf => {
            let value = bmf(&run.summary);
            if value.values().all(|measures| measures.is_empty()) {
                bail!(
                    "run {} has neither timings nor instruction counts to export",
                    run.meta.run_id
                );
            }
            to_json_bytes(&value)
        }
        ExportFormat::GithubAction => {
            let metric = match args.metric.unwrap_or(ExportMetric::Time) {
                ExportMetric::Time => ActionMetric::Time,
                ExportMetric::Instructions => ActionMetric::Instructions,
                ExportMetric::Throughput => ActionMetric::Throughput,
            };
            match metric {
                ActionMetric::Instructions if counted == 0 => bail!(
                    "no instruction counts in run {} (run with `braingap run --metric instructions`)",
                    run.meta.run_id
                ),
                ActionMetric::Time | ActionMetric::Throughput if timed == 0 => bail!(
                    "no timings in run {} (an instruction-count run? export it with --metric instructions)",
                    run.meta.run_id
                ),
                _ => {}
            }
            let facts = RunFacts {
                run_id: &run.meta.run_id,
                git_commit: run.meta.git_commit.as_deref(),
                fingerprint: run.meta.machine["fingerprint"].as_str(),
            };
            crate::diag!("github-action-benchmark tool: {}", metric.tool());
            to_json_bytes(&github_action(&run.summary, metric, &facts))
        }
    };
    match &args.output {
        Some(path) => {
            write_atomic(path, &bytes)?;
            crate::diag!("wrote {}", path.display());
        }
        None => out.write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}
