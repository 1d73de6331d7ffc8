//! The life of a run, the same for every executor (timed, instruction counts, the MPI and
//! NCCL suites, the microcircuit over ranks):
//!
//! 1. the arguments become a [`RunPlan`] (`plan.rs`);
//! 2. the executor opens the run in the store through [`RunPlan::open_run`] (one process) or
//!    [`RunPlan::open_run_on_rank_zero`] (ranks): the one place a run's `meta.json` is
//!    started, from the plan's label, profile, filter and command line and what the executor
//!    adds ([`Opening`]);
//! 3. it loops, reporting progress through `measure::Observer` and storing through the
//!    store's writer (`RecordSink`, or a rank file's sink);
//! 4. it finishes the run, and [`write_report`] renders the report unless `--no-report`.

use super::plan::RunPlan;
use crate::machine::Machine;
use crate::measure::RunConfig;
use crate::store::{DistributedMeta, RunMeta, RunStart, RunWriter, Store};
use anyhow::Context;
use std::io::Write;

/// What an executor adds to the plan when it opens its run.
pub struct Opening {
    /// The backend `meta.json` records (`cpu`, `fake`, `torch`, `mpi`, `nccl`).
    pub backend: crate::backends::BackendKind,
    /// Its device (for a collectives run: the communication library).
    pub device: String,
    /// Worker threads (ranks, for a collectives run).
    pub threads: u64,
    /// Benchmarks planned.
    pub planned: usize,
    /// The executor's settings (`meta.json`'s `config`).
    pub settings: serde_json::Value,
    /// The meters' description (`meta.json`'s `meters`).
    pub meters: serde_json::Value,
    /// Set for a run spread over ranks.
    pub distributed: Option<DistributedMeta>,
    /// Whether the run keeps a power timeline.
    pub power_timeline: bool,
}

#[cfg(any(feature = "mpi", feature = "nccl"))]
/// `meta.json`'s `meters` of a run over ranks.
pub fn no_meters_over_ranks() -> serde_json::Value {
    serde_json::json!({"note": "no meters in distributed runs: time only"})
}

/// The timing settings every timed executor records (`meta.json`'s `config`), to which it
/// adds its own.
pub fn timing_settings(config: &RunConfig) -> serde_json::Map<String, serde_json::Value> {
    let value = serde_json::json!({
        "warmup_s": config.warmup.0,
        "min_sample_time_s": config.min_sample_time.0,
        "samples": config.samples,
        "max_sampling_time_s": config.max_sampling_time.0,
        "min_samples": config.min_samples,
        "bootstrap_resamples": config.bootstrap_resamples,
        "bootstrap_seed": config.seed,
        "metric": "time",
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

#[cfg(any(feature = "mpi", feature = "nccl"))]
/// A run opened by rank 0 of a run over ranks, as every rank knows it.
pub struct OpenedOnRanks {
    /// Rank 0's writer (`None` on the other ranks); a collectives run's merge finishes the
    /// run from the rank files instead.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub writer: Option<RunWriter>,
    /// The run's directory.
    pub dir: std::path::PathBuf,
    /// The run's id.
    pub run_id: String,
}

impl RunPlan<'_> {
    /// Opens this plan's run in the store: `meta.json` says `running`.
    pub fn open_run(&self, machine: &Machine, opening: Opening) -> anyhow::Result<RunWriter> {
        let args = self.args;
        let power_timeline = opening.power_timeline;
        let meta = self.starting_meta(machine, opening)?;
        Store::new(&args.results)
            .create_run(meta, power_timeline)
            .with_context(|| format!("cannot write results under {}", args.results.display()))
    }

    #[cfg(any(feature = "mpi", feature = "nccl"))]
    /// Rank 0 opens the run (`opening` is called there only); every rank learns its
    /// directory and id, or that rank 0 failed.
    pub fn open_run_on_rank_zero(
        &self,
        comm: &dyn crate::comm::Communicator,
        opening: &dyn Fn() -> anyhow::Result<(Machine, Opening)>,
    ) -> anyhow::Result<OpenedOnRanks> {
        let mut shared = Vec::new();
        let mut writer = None;
        let mut failure = None;
        if comm.rank() == 0 {
            match opening().and_then(|(machine, opening)| self.open_run(&machine, opening)) {
                Ok(w) => {
                    shared = format!("{}\n{}", w.dir().display(), w.run_id()).into_bytes();
                    writer = Some(w);
                }
                Err(e) => failure = Some(e),
            }
        }
        comm.broadcast_bytes(&mut shared, 0);
        if let Some(e) = failure {
            return Err(e);
        }
        let text = String::from_utf8(shared)?;
        match text.split_once('\n') {
            Some((dir, id)) => Ok(OpenedOnRanks {
                writer,
                dir: std::path::PathBuf::from(dir),
                run_id: id.to_string(),
            }),
            None => anyhow::bail!("rank 0 could not create the run under {}", self.args.results.display()),
        }
    }

    /// The `meta.json` of a run that starts now.
    fn starting_meta(&self, machine: &Machine, opening: Opening) -> anyhow::Result<RunMeta> {
        let start = RunStart {
            label: self.args.label.clone(),
            profile: self.profile.as_str().into(),
            filter: self.filter_text(),
            backend: opening.backend,
            device: opening.device,
            threads: opening.threads,
            benchmarks_planned: opening.planned,
            command_line: super::env::command_line(),
            timer_overhead_s: crate::measure::timer_overhead(10_000).0,
        };
        let mut meta = RunMeta::starting(start, machine, opening.settings, opening.meters)?;
        meta.distributed = opening.distributed;
        Ok(meta)
    }
}

/// The end of a run: its report (unless `--no-report`), against `baseline` when given; a
/// report that cannot be written is a warning, not a failed run.
pub fn write_report(plan: &RunPlan, run_id: &str, baseline: Option<&str>, out: &mut dyn Write) -> anyhow::Result<()> {
    let args = plan.args;
    if args.no_report {
        return Ok(());
    }
    match crate::report::render_run_report(
        &args.results,
        run_id,
        baseline,
        &args.report_dir,
        &super::env::data_dir(),
    ) {
        Ok(path) => writeln!(out, "Report: {}", path.display())?,
        Err(e) => crate::diag!("warning: report not written: {}", crate::cli::error_line(&e.into())),
    }
    Ok(())
}
