//! The command line: one Args struct per subcommand, each in its own module. Errors from
//! here are printed once by `main` and exit with status 2 (bad input); `compare`-style
//! verdicts return their own exit codes.

mod ab_cmd;
pub mod analysis_cmds;
mod calibrate_cmd;
mod compare_cmd;
mod dry_run;
pub mod env;
mod export_cmd;
mod history_cmd;
mod instructions_cmd;
mod lifecycle;
mod machine_cmd;
mod mpi_cmd;
mod nccl_cmd;
mod plan;
mod progress;
mod report_cmd;
mod run_cmd;
mod runs_cmd;
pub mod table;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// braingap: how much neural-network work this machine does per second, per byte and per
/// joule, set against the brain and against history.
#[derive(Debug, Parser)]
#[command(name = "braingap", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run benchmarks: verify every kernel against its reference, then measure it, and
    /// write the results under RESULTS/runs/<run-id>/; print a table of them (short names,
    /// rows with a CI beyond ±5% marked), related benchmarks side by side, what changed since
    /// the previous run of this machine in RESULTS (compare's rule) and, last, the report's
    /// answer.
    Run(run_cmd::RunArgs),
    /// Show this machine's fingerprint: CPU, cores, clock, memory, SIMD, caches, peaks, meters.
    Machine(machine_cmd::MachineArgs),
    /// List the runs in a results directory.
    Runs(runs_cmd::RunsArgs),
    /// Render the self-contained HTML report (with PNG and SVG figures) of a run.
    Report(report_cmd::ReportArgs),
    /// Fit a trend (exponential, power, logistic, piecewise) to a dataset's columns, with
    /// bootstrap CIs, and optionally project when it crosses a target; or redo a published
    /// study (--study). The output names the data snapshot and counts every row dropped.
    Fit(analysis_cmds::FitArgs),
    /// List the bundled reference datasets and their columns.
    Datasets(analysis_cmds::DatasetsArgs),
    /// Check the seed report's quantitative claims against the bundled data.
    Claims(analysis_cmds::ClaimsArgs),
    /// Redo published trend analyses (Goodfellow 2016, OpenAI 2018, Sevilla et al. 2022's
    /// eras, Koomey 2011 and 2016, Epoch 2023-2025, Hobbhahn & Besiroglu 2022) on the
    /// bundled data with each paper's selection rule: published figure and CI beside
    /// braingap's, with a verdict.
    Studies(analysis_cmds::StudiesArgs),
    /// Compare two stored runs benchmark by benchmark (time with a bootstrap CI, instruction
    /// counts against a threshold, analytic FLOPs or bytes for equality): exit 1 on a
    /// regression (see --fail-on), 2 on bad input. Text, markdown (CI summaries) or JSON.
    Compare(compare_cmd::CompareArgs),
    /// Export a run as Bencher Metric Format or github-action-benchmark JSON.
    Export(export_cmd::ExportArgs),
    /// Show one metric of each benchmark across runs, ordered by start time, with change
    /// points from a penalised L1 step fit (reported, never failing).
    History(history_cmd::HistoryArgs),
    /// Fit the energy model (P_idle, J/FLOP, J/byte) to the energies RAPL or NVML measured in
    /// this machine's runs and store it as RESULTS/energy-calibration.json, which later runs
    /// on this machine use instead of the published defaults.
    #[command(name = "calibrate-energy")]
    CalibrateEnergy(calibrate_cmd::CalibrateArgs),
    /// Paired A/B timing of two builds on this machine: interleaved rounds, per-round medians
    /// (or minima) tested with Mann-Whitney U plus an A/A-calibrated effect-size floor
    /// (`--calibrate` measures the floor). Exit 1 when a benchmark regressed, 2 on bad input.
    Ab(ab_cmd::AbArgs),
    /// Merge the per-rank files of a distributed (MPI) run into the run's CSV files again,
    /// e.g. after a job whose rank 0 died before merging; exit 1 when ranks are missing or
    /// unfinished (the run stays incomplete, the other ranks' data is kept).
    #[command(name = "merge-ranks")]
    MergeRanks(mpi_cmd::MergeArgs),
    /// Internal: one benchmark under valgrind for `run --metric instructions`.
    #[command(name = "callgrind-child", hide = true)]
    CallgrindChild(instructions_cmd::ChildArgs),
}

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let mut stdout = ClosableStdout::default();
    match cli.command {
        Command::Run(args) => run_cmd::run(&args, &mut stdout),
        Command::Machine(args) => machine_cmd::run(&args, &mut stdout),
        Command::Runs(args) => runs_cmd::run(&args, &mut stdout),
        Command::Report(args) => report_cmd::run(&args, &mut stdout),
        Command::Fit(args) => analysis_cmds::run_fit(&args, &mut stdout).map(|()| ExitCode::SUCCESS),
        Command::Datasets(args) => analysis_cmds::run_datasets(&args, &mut stdout).map(|()| ExitCode::SUCCESS),
        Command::Claims(args) => analysis_cmds::run_claims(&args, &mut stdout).map(|()| ExitCode::SUCCESS),
        Command::Studies(args) => analysis_cmds::run_studies(&args, &mut stdout).map(|()| ExitCode::SUCCESS),
        Command::Compare(args) => compare_cmd::run(&args, &mut stdout),
        Command::Export(args) => export_cmd::run(&args, &mut stdout),
        Command::History(args) => history_cmd::run(&args, &mut stdout),
        Command::CalibrateEnergy(args) => calibrate_cmd::run(&args, &mut stdout),
        Command::Ab(args) => ab_cmd::run(&args, &mut stdout),
        Command::MergeRanks(args) => mpi_cmd::run_merge(&args, &mut stdout),
        Command::CallgrindChild(args) => instructions_cmd::run_child(&args, &mut stdout),
    }
}

/// An error and its causes on one line, `outer: inner: …`, each cause printed once: a
/// typed error that already shows its source (`path: Not a directory (os error 20)`) is
/// not followed by the same text again, as `{:#}` would print it.
pub fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Standard output that a closed pipe cannot fail: once the reader went away (`braingap runs
/// | head -1`), further output is dropped and the command carries on to its own exit status
/// (a regression found by `compare` still exits 1), as cargo and ripgrep do.
#[derive(Default)]
struct ClosableStdout {
    closed: bool,
}

impl ClosableStdout {
    fn quietly(&mut self, result: std::io::Result<usize>, len: usize) -> std::io::Result<usize> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(len)
            }
            other => other,
        }
    }
}

impl std::io::Write for ClosableStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = std::io::stdout().lock().write(buf);
        self.quietly(result, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = std::io::stdout().lock().flush().map(|()| 0);
        self.quietly(result, 0).map(|_| ())
    }
}

/// The store rule of every reading command: `--results DIR` must exist (exit 2 naming it).
pub(crate) fn require_store(results: &std::path::Path) -> Result<(), crate::error::Error> {
    if results.is_dir() {
        return Ok(());
    }
    Err(crate::error::Error::InvalidArgument {
        arg: format!("--results {}", results.display()),
        reason: "no such results directory (`braingap run --results DIR` creates one)".into(),
    })
}
