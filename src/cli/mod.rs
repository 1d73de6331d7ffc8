//! The command line: one Args struct per subcommand, each in its own module. Errors from
//! here are printed once by `main` and exit with status 2 (bad input); `compare`-style
//! verdicts return their own exit codes.

pub mod analysis_cmds;
mod machine_cmd;
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
    /// write the results under RESULTS/runs/<run-id>/.
    Run(run_cmd::RunArgs),
    /// Show this machine's fingerprint: CPU, cores, clock, memory, SIMD, caches, peaks, meters.
    Machine(machine_cmd::MachineArgs),
    /// List the runs in a results directory.
    Runs(runs_cmd::RunsArgs),
    /// Render the self-contained HTML report (with PNG and SVG figures) of a run.
    Report(report_cmd::ReportArgs),
    /// Fit a trend (exponential, power, logistic, piecewise) to a dataset's columns, with
    /// bootstrap CIs, and optionally project when it crosses a target.
    Fit(analysis_cmds::FitArgs),
    /// List the bundled reference datasets and their columns.
    Datasets(analysis_cmds::DatasetsArgs),
    /// Check the seed report's quantitative claims against the bundled data.
    Claims(analysis_cmds::ClaimsArgs),
}

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match cli.command {
        Command::Run(args) => run_cmd::run(&args, &mut stdout),
        Command::Machine(args) => machine_cmd::run(&args, &mut stdout),
        Command::Runs(args) => runs_cmd::run(&args, &mut stdout),
        Command::Report(args) => report_cmd::run(&args, &mut stdout),
        Command::Fit(args) => analysis_cmds::run_fit(&args, &mut stdout).map(|()| ExitCode::SUCCESS),
        Command::Datasets(args) => analysis_cmds::run_datasets(&args, &mut stdout).map(|()| ExitCode::SUCCESS),
        Command::Claims(args) => analysis_cmds::run_claims(&args, &mut stdout).map(|()| ExitCode::SUCCESS),
    }
}
