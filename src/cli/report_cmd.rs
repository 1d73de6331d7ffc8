//! `braingap report`: renders a run's self-contained HTML report with its figures.

use crate::compare::{CompareOptions, Verdict};
use crate::report;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `braingap report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Results directory.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results: PathBuf,

    /// Run to report on: a run id, `latest`, or a run directory.
    #[arg(long, default_value = "latest", value_name = "ID")]
    pub run: String,

    /// Compare against this run (id or directory): ratio of medians with a bootstrap CI
    /// per common benchmark, regressions first.
    #[arg(long, value_name = "ID")]
    pub baseline: Option<String>,

    /// With --baseline: percent change a significant difference must exceed to count as a
    /// regression, in [0, 100) (the same convention as `compare --threshold`).
    #[arg(long, default_value_t = 100.0 * crate::compare::DEFAULT_THRESHOLD, value_name = "PCT", allow_negative_numbers = true)]
    pub threshold: f64,

    /// Output directory: index.html and figures/*.png, figures/*.svg.
    #[arg(long, default_value = "reports", value_name = "DIR")]
    pub out: PathBuf,

    /// Reference datasets for the history, projections and claims
    /// [default: $BRAINGAP_DATA_DIR or the bundled data/].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Leave out the history, projections and claims (no reference data read).
    #[arg(long)]
    pub no_history: bool,
}

/// Runs `braingap report`; prints the page's path. Exits 0, or 1 when `--baseline` finds a
/// regression.
pub fn run(args: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    if !args.threshold.is_finite() || !(0.0..100.0).contains(&args.threshold) {
        return Err(crate::error::Error::InvalidArgument {
            arg: format!("--threshold {}", args.threshold),
            reason: "is not a percentage in [0, 100)".into(),
        }
        .into());
    }
    let data_dir = if args.no_history {
        None
    } else {
        Some(args.data.clone().unwrap_or_else(super::env::data_dir))
    };
    let mut input = report::load_input(&args.results, &args.run, args.baseline.as_deref(), data_dir.as_deref())?;
    input.compare = CompareOptions {
        threshold: args.threshold / 100.0,
        ..CompareOptions::default()
    };
    let rendered = report::render(&input)?;
    let index = report::write_report(&rendered, &args.out)?;
    for note in &input.references.notes {
        crate::diag!("note: {note}");
    }
    writeln!(out, "{} ({} figures)", index.display(), rendered.figures.len())?;
    let regressed = rendered.comparison.as_ref().map_or(0, |c| c.count(Verdict::Regressed));
    if regressed > 0 {
        writeln!(
            out,
            "{regressed} benchmark(s) regressed against {}",
            args.baseline.as_deref().unwrap_or("")
        )?;
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
