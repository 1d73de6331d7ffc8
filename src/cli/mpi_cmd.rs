//! `braingap run --suite collectives` under `mpirun` (feature `mpi`), the microcircuit
//! over MPI ranks (`mpirun -np N braingap run --profile microcircuit`), and
//! `braingap merge-ranks`.
//!
//! Every rank runs this; rank 0 creates the run and tells the others where it is, each rank
//! writes its own file, and rank 0 merges them at the end (see `crate::ranks`).

#[cfg(any(feature = "mpi", feature = "nccl"))]
use super::plan::Filter;
use super::plan::RunPlan;
#[cfg(any(feature = "mpi", feature = "nccl"))]
use super::run_cmd::RunArgs;
use super::table;
use crate::error::Error;
#[cfg(feature = "mpi")]
use crate::kernels::registry::Profile;
use crate::ranks::{self, CollectiveRow, MergeOutcome};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Test hook: `BRAINGAP_MPI_DIE=RANK:N` makes rank RANK exit abruptly (status 3, no
/// MPI_Finalize) after recording N benchmarks, to test that a run with a dead rank is
/// merged as incomplete with the other ranks' data kept.
#[cfg(any(feature = "mpi", feature = "nccl"))]
pub const DIE_ENV: &str = "BRAINGAP_MPI_DIE";

/// Runs the microcircuit over MPI ranks (needs the `mpi` feature).
#[cfg(not(feature = "mpi"))]
pub fn run_microcircuit(_plan: &RunPlan, _out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    Err(Error::InvalidArgument {
        arg: "--profile microcircuit".into(),
        reason: "this braingap was built without the `mpi` feature: build with `cargo build --features mpi`".into(),
    }
    .into())
}

/// Parses a message size: bytes, or a number with B, KiB, MiB or GiB.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => return Err(format!("{s:?}: unknown unit (use bytes, or KiB, MiB, GiB)")),
    };
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 4MiB, 1GiB, 65536)"))?;
    value
        .checked_mul(scale)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("{s:?} must be a positive size"))
}

/// The message sizes of a run, checked.
#[cfg(any(feature = "mpi", feature = "nccl"))]
pub fn sizes(args: &RunArgs) -> Result<Vec<u64>, Error> {
    let min = args.min_message.unwrap_or(crate::collectives::MIN_MESSAGE_BYTES);
    let max = args.max_message.unwrap_or(crate::collectives::MAX_MESSAGE_BYTES);
    if min > max {
        return Err(Error::InvalidArgument {
            arg: format!("--min-message {min}"),
            reason: format!("is larger than --max-message {max}"),
        });
    }
    Ok(crate::collectives::message_sizes(min, max))
}

/// The end-of-run table of a data-parallel run.
pub fn scaling_table(rows: &[ranks::ScalingRow]) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.mode.clone(),
                r.ranks.to_string(),
                r.global_batch.to_string(),
                r.step_median_s.map_or("-".into(), |t| format!("{:.3}", t * 1e3)),
                r.compute_median_s.map_or("-".into(), |t| format!("{:.3}", t * 1e3)),
                r.allreduce_median_s.map_or("-".into(), |t| format!("{:.3}", t * 1e3)),
                table::num(r.efficiency, 2),
                r.status.to_string(),
            ]
        })
        .collect();
    table::render(
        &[
            "mode",
            "ranks",
            "global_batch",
            "step_ms",
            "compute_ms",
            "allreduce_ms",
            "efficiency",
            "status",
        ],
        &body,
        &[1, 2, 3, 4, 5, 6],
    )
}

/// The end-of-run table of a collectives run.
pub fn collectives_table(rows: &[CollectiveRow]) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.collective.clone(),
                r.bytes.to_string(),
                r.ranks.to_string(),
                r.time_median_s.map_or("-".into(), |t| format!("{:.2}", t * 1e6)),
                table::num(r.algbw_gbytes_per_s, 3),
                table::num(r.busbw_gbytes_per_s, 3),
                r.status.to_string(),
            ]
        })
        .collect();
    table::render(
        &[
            "collective",
            "bytes",
            "ranks",
            "time_us",
            "algbw_GB/s",
            "busbw_GB/s",
            "status",
        ],
        &body,
        &[1, 2, 3, 4, 5],
    )
}

fn merge_report(outcome: &MergeOutcome, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "merged {} rows into {}: {}{}{}",
        outcome.summary_rows,
        outcome.dir.display(),
        outcome.status,
        if outcome.missing_ranks.is_empty() {
            String::new()
        } else {
            format!("; no file from rank(s) {:?}", outcome.missing_ranks)
        },
        if outcome.unfinished_ranks.is_empty() {
            String::new()
        } else {
            format!("; unfinished rank(s) {:?}", outcome.unfinished_ranks)
        },
    )?;
    Ok(())
}

/// Arguments of `braingap merge-ranks`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Run id, `latest`, or path to the run directory of a distributed run.
    pub run: String,
    /// Results directory (for run ids).
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results: PathBuf,
}

/// Runs `braingap merge-ranks`: merges the rank files again (after a job that died before
/// rank 0 merged); exit 1 when the run is incomplete.
pub fn run_merge(args: &MergeArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let info = crate::store::Store::new(&args.results).load(&args.run)?;
    let outcome = ranks::merge(&info.dir)?;
    merge_report(&outcome, out)?;
    let rows = ranks::read_collectives(&info.dir)?;
    if !rows.is_empty() {
        write!(out, "{}", collectives_table(&rows))?;
    }
    let scaling = ranks::read_scaling(&info.dir)?;
    if !scaling.is_empty() {
        write!(out, "{}", scaling_table(&scaling))?;
    }
    Ok(if outcome.status == crate::store::RunStatus::Complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs an MPI profile on this rank.
#[cfg(not(feature = "mpi"))]
pub fn run(plan: &RunPlan, _out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    Err(Error::InvalidArgument {
        arg: format!("--profile {}", plan.profile.as_str()),
        reason: "this braingap was built without the `mpi` feature; run `bash scripts/setup-mpi.sh`, \
                 build with `cargo build --features mpi`, then `mpirun -np N braingap run --suite collectives`"
            .into(),
    }
    .into())
}

/// What the MPI and NCCL collective runs share: the run directory rank 0 creates, the rank
/// files and progress, the sweep itself (`crate::collectives::run_collectives` over an
/// engine), and rank 0's merge at the end.
#[cfg(any(feature = "mpi", feature = "nccl"))]
pub(super) mod sweep {
    use super::*;
    use crate::cli::lifecycle::{no_meters_over_ranks, Opening};
    use crate::collectives::{self, CollectiveConfig, CollectiveEngine, Layout, RankRecord, RankSink};
    use crate::comm::{Communicator, LaunchInfo};
    use crate::measure::Status;
    use crate::ranks::RankWriter;
    use crate::store::DistributedMeta;

    /// Passes records to the rank files of the ranks played here; reports rank 0's progress
    /// through the observer; applies the MPI die hook.
    struct Progress<'o> {
        writers: Vec<(usize, RankWriter)>,
        observer: &'o mut dyn crate::measure::Observer,
        done: usize,
        die_after: Option<usize>,
    }

    impl RankSink for Progress<'_> {
        fn record(&mut self, rank: usize, record: &RankRecord) -> Result<(), Error> {
            let Some((_, writer)) = self.writers.iter_mut().find(|(r, _)| *r == rank) else {
                unreachable!("rank {rank} is not played by this process");
            };
            writer.record(rank, record)?;
            if rank != self.writers[0].0 {
                return Ok(());
            }
            self.done += 1;
            if rank == 0 {
                let time = record
                    .samples_s
                    .iter()
                    .copied()
                    .reduce(f64::min)
                    .map_or("-".into(), |t| format!("{:.2} us (fastest sample, rank 0)", t * 1e6));
                self.observer
                    .item_finished(&record.benchmark, record.status, record.reason.as_deref(), &time);
            }
            if self.die_after == Some(self.done) {
                crate::diag!(
                    "rank {rank}: {DIE_ENV}: exiting abruptly after {} benchmarks",
                    self.done
                );
                std::process::exit(3);
            }
            Ok(())
        }
    }

    /// How a collectives run is recorded: the backend and library in `meta.json`.
    pub struct RunIdentity {
        /// `mpi` or `nccl`.
        pub backend: crate::backends::BackendKind,
        /// The communication library (and, for NCCL, the GPUs).
        pub library: String,
        /// Ranks in the run.
        pub world_size: usize,
    }

    /// Rank 0 opens the run; every process learns its directory and id. `comm` coordinates
    /// the processes (NCCL's one process: `SelfComm`).
    pub fn create_run(
        comm: &dyn Communicator,
        identity: &RunIdentity,
        plan: &RunPlan,
        planned: usize,
        config: serde_json::Value,
    ) -> anyhow::Result<(PathBuf, String)> {
        let opened = plan.open_run_on_rank_zero(comm, &|| {
            let machine = super::super::env::machine(crate::clock::probe_ghz());
            let opening = Opening {
                backend: identity.backend,
                device: identity.library.clone(),
                threads: identity.world_size as u64,
                planned,
                settings: config.clone(),
                meters: no_meters_over_ranks(),
                distributed: Some(DistributedMeta::new(identity.world_size, identity.library.clone())),
                power_timeline: false,
            };
            Ok((machine, opening))
        })?;
        // Rank 0's merge finishes the run from the rank files, not through this writer.
        Ok((opened.dir, opened.run_id))
    }

    /// Keeps the items whose name matches `--filter`; none left is bad input.
    pub fn filter_names<T>(
        items: &mut Vec<T>,
        name: impl Fn(&T) -> String,
        filter: Option<&Filter>,
        example: &str,
    ) -> anyhow::Result<()> {
        let Some(filter) = filter else { return Ok(()) };
        items.retain(|l| filter.is_match(&name(l)));
        if items.is_empty() {
            return Err(Error::InvalidArgument {
                arg: format!("--filter {:?}", filter.as_str()),
                reason: format!("matches no benchmark of this suite (names look like {example})"),
            }
            .into());
        }
        Ok(())
    }

    /// The collective benchmarks of a run over `world_size` ranks, after `--filter`.
    pub fn plan(args: &RunArgs, world_size: usize) -> anyhow::Result<Vec<Layout>> {
        let mut layouts = collectives::plan(&collectives::Collective::ALL, &sizes(args)?, world_size);
        filter_names(
            &mut layouts,
            |l| l.name(),
            args.filter.as_ref(),
            &format!("allreduce/f32/bytes=1024,ranks={world_size}"),
        )?;
        Ok(layouts)
    }

    /// What `meta.json` records as the run's configuration.
    pub fn run_config(config: &CollectiveConfig, time_across_ranks: &str) -> serde_json::Value {
        serde_json::json!({
            "metric": "time",
            "samples": config.samples,
            "warmup_samples": config.warmup_samples,
            "node_memory_bytes": config.node_memory_bytes,
            "memory_domain": config.memory_domain,
            "ranks_per_node": config.ranks_per_node,
            "iterations_per_sample": "clamp(64 MiB / bytes, 1, 1000)",
            "time_across_ranks": time_across_ranks,
        })
    }

    /// Creates the run, sweeps `layouts` on `engine`'s ranks (each with its own rank file,
    /// placed by `launch`), and merges on rank 0.
    #[allow(clippy::too_many_arguments)] // the run's parts, each from a different place
    pub fn run_sweep<E: CollectiveEngine + ?Sized>(
        comm: &dyn Communicator,
        engine: &mut E,
        identity: &RunIdentity,
        layouts: &[Layout],
        config: &CollectiveConfig,
        run_config: serde_json::Value,
        launch: &dyn Fn(usize) -> LaunchInfo,
        die_after: Option<usize>,
        plan: &RunPlan,
        out: &mut dyn Write,
    ) -> anyhow::Result<ExitCode> {
        let (dir, run_id) = create_run(comm, identity, plan, layouts.len(), run_config)?;
        if comm.rank() == 0 {
            crate::diag!(
                "braingap run {run_id} ({} collective benchmarks, {} ranks, {}) -> {}",
                layouts.len(),
                identity.world_size,
                identity.library,
                dir.display()
            );
        }
        let mut writers = Vec::new();
        for rank in engine.local_ranks() {
            writers.push((
                rank,
                RankWriter::create(&dir, &run_id, rank, identity.world_size, launch(rank))?,
            ));
        }
        let mut bar = super::super::progress::ProgressObserver::new();
        let observer: &mut dyn crate::measure::Observer = if comm.rank() == 0 { &mut bar } else { &mut () };
        observer.run_started(layouts.len());
        let mut progress = Progress {
            writers,
            observer,
            done: 0,
            die_after,
        };
        let records = collectives::run_collectives(engine, layouts, config, &mut progress)?;
        progress.observer.items_finished();
        for (_, writer) in progress.writers {
            writer.finish()?;
        }
        let failed = records.iter().any(|r| r.status == Status::Failed);
        finish_run(comm, plan, &dir, &run_id, failed, out)
    }

    /// Rank 0's end of a run: merge, table, report, exit code.
    pub fn finish_run(
        comm: &dyn Communicator,
        plan: &RunPlan,
        dir: &std::path::Path,
        run_id: &str,
        any_failed: bool,
        out: &mut dyn Write,
    ) -> anyhow::Result<ExitCode> {
        comm.barrier();
        if comm.rank() != 0 {
            return Ok(ExitCode::SUCCESS);
        }
        let outcome = ranks::merge(dir)?;
        let rows = ranks::read_collectives(dir)?;
        if !rows.is_empty() {
            write!(out, "{}", collectives_table(&rows))?;
        }
        let scaling = ranks::read_scaling(dir)?;
        if !scaling.is_empty() {
            write!(out, "{}", scaling_table(&scaling))?;
        }
        merge_report(&outcome, out)?;
        crate::cli::lifecycle::write_report(plan, run_id, None, out)?;
        Ok(if any_failed || outcome.status != crate::store::RunStatus::Complete {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }
}

#[cfg(feature = "mpi")]
pub use with_mpi::run;

#[cfg(feature = "mpi")]
mod with_mpi {
    use super::sweep::{self, RunIdentity};
    use super::*;
    use crate::collectives::{CollectiveConfig, HostEngine};
    use crate::comm::mpi::{initialize, MpiComm};
    use crate::comm::{reduce_scalar, Communicator, LaunchInfo, ReduceOp};
    use crate::machine::Machine;
    use crate::measure::Status;
    use crate::ranks::RankWriter;

    fn die_hook(rank: usize) -> anyhow::Result<Option<usize>> {
        let Ok(value) = std::env::var(DIE_ENV) else {
            return Ok(None);
        };
        let parsed = value
            .split_once(':')
            .and_then(|(r, n)| Some((r.parse::<usize>().ok()?, n.parse::<usize>().ok()?)));
        match parsed {
            Some((r, n)) => Ok((r == rank).then_some(n)),
            None => Err(Error::InvalidArgument {
                arg: DIE_ENV.into(),
                reason: format!("{value:?} is not RANK:N"),
            }
            .into()),
        }
    }

    /// Runs `braingap run --suite collectives` or `--suite dataparallel` on this rank.
    pub fn run(plan: &RunPlan, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
        let profile = plan.profile;
        let universe = initialize().map_err(|reason| Error::InvalidArgument {
            arg: format!("--suite {}", profile.as_str()),
            reason,
        })?;
        let world = MpiComm::world(&universe);
        let comm: &dyn Communicator = &world;
        match profile {
            Profile::DataParallel => run_dataparallel(comm, plan, out),
            _ => run_collectives(comm, plan, out),
        }
    }

    fn run_collectives(comm: &dyn Communicator, plan: &RunPlan, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
        let args = plan.args;
        let rank = comm.rank();
        let layouts = sweep::plan(args, comm.size())?;
        if args.list {
            if rank == 0 {
                for l in &layouts {
                    writeln!(out, "{}", l.name())?;
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        let die_after = die_hook(rank)?;
        let launch = LaunchInfo::from_process();
        // Buffers of all ranks on a node share its memory: the smallest memory any rank
        // sees, and the most ranks any node runs (all of them when the launcher says nothing).
        let available = match args.max_memory_gib {
            Some(gib) => Some(gib * (1u64 << 30) as f64),
            None => Machine::available_memory_now().map(|b| b as f64),
        };
        let node_memory = reduce_scalar(comm, available.unwrap_or(f64::INFINITY), ReduceOp::Min);
        let ranks_per_node = reduce_scalar(
            comm,
            launch.local_size.unwrap_or(comm.size() as u64) as f64,
            ReduceOp::Max,
        ) as usize;
        let config = CollectiveConfig {
            node_memory_bytes: node_memory.is_finite().then_some(node_memory as u64),
            ranks_per_node,
            samples: args.samples.unwrap_or(super::super::run_cmd::DEFAULT_SUITE_SAMPLES) as usize,
            ..CollectiveConfig::default()
        };
        if rank == 0 && config.node_memory_bytes.is_none() {
            crate::diag!("warning: available memory unknown (sysinfo); buffer sizes not checked");
        }
        let identity = RunIdentity {
            backend: crate::backends::BackendKind::Mpi,
            library: comm.library(),
            world_size: comm.size(),
        };
        sweep::run_sweep(
            comm,
            &mut HostEngine::new(comm),
            &identity,
            &layouts,
            &config,
            sweep::run_config(&config, "mean of the ranks' times per sample"),
            &|_| launch.clone(),
            die_after,
            plan,
            out,
        )
    }

    fn run_dataparallel(comm: &dyn Communicator, plan: &RunPlan, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
        let (args, threads) = (plan.args, plan.threads);
        use crate::dataparallel::{self, ScalingConfig, TrainableModel};
        let rank = comm.rank();
        let config = ScalingConfig {
            samples: args.samples.unwrap_or(super::super::run_cmd::DEFAULT_SUITE_SAMPLES) as usize,
            ..ScalingConfig::default()
        };
        let max_batch = config.global_batch.max(config.per_rank_batch * comm.size());
        let make_model = || dataparallel::MlpModel::new(max_batch);
        let counts = dataparallel::runner::rank_counts(comm.size());
        if args.list {
            if rank == 0 {
                for k in counts {
                    writeln!(out, "strong and weak scaling on {k} rank(s)")?;
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        let run_config = serde_json::json!({
            "metric": "time",
            "samples": config.samples,
            "steps_per_sample": config.steps_per_sample,
            "global_batch": config.global_batch,
            "per_rank_batch": config.per_rank_batch,
            "learning_rate": config.learning_rate,
            "tolerance": config.tolerance,
            "rank_counts": counts,
            "model": make_model().name(),
            "gemm_threads_per_rank": "--threads, else the node's cores ÷ its ranks",
            "time_across_ranks": "mean of the ranks' times per sample",
        });
        let identity = RunIdentity {
            backend: crate::backends::BackendKind::Mpi,
            library: comm.library(),
            world_size: comm.size(),
        };
        let (dir, run_id) = sweep::create_run(comm, &identity, plan, 2 * counts.len(), run_config)?;
        if rank == 0 {
            crate::diag!(
                "braingap run {run_id} (data-parallel {} on 1..{} ranks, {}) -> {}",
                make_model().name(),
                comm.size(),
                comm.library(),
                dir.display()
            );
        }
        let launch = LaunchInfo::from_process();
        // The MLP's GEMMs run on rayon: this rank's share of its node's cores (--threads; the
        // plan's default).
        // The global pool, so that MPI stays on this (main) thread: MPI is initialised
        // without thread support.
        if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global() {
            crate::diag!("warning: rank {rank}: GEMM thread pool not resized to {threads}: {e}");
        }
        let mut writer = RankWriter::create(&dir, &run_id, rank, comm.size(), launch)?;
        let mut bar = super::super::progress::ProgressObserver::new();
        let observer: &mut dyn crate::measure::Observer = if rank == 0 { &mut bar } else { &mut () };
        observer.run_started(2 * counts.len());
        let records = dataparallel::run_scaling(comm, &make_model, &config, &mut |r| {
            let measured = if r.step_s.is_empty() {
                String::new()
            } else {
                format!(
                    "{:.2} ms per step (median)",
                    crate::measure::stats::median(&r.step_s) * 1e3
                )
            };
            observer.item_finished(&r.benchmark, r.status, r.reason.as_deref(), &measured);
            writer.record_scaling(r)
        })?;
        observer.items_finished();
        writer.finish()?;
        let failed = records.iter().any(|r| r.status == Status::Failed);
        sweep::finish_run(comm, plan, &dir, &run_id, failed, out)
    }
}

/// The microcircuit over MPI ranks: every rank runs the ordinary benchmark lifecycle
/// (`measure::run_benchmarks`: verification, warm-up, calibrated timed samples) on its share
/// of the network ([`MicrocircuitRun::partitioned`](crate::backends::microcircuit::MicrocircuitRun::partitioned)),
/// in lockstep; rank 0 writes the run as a one-process run is written, with `ranks` among the
/// row's parameters.
#[cfg(feature = "mpi")]
mod microcircuit_ranks {
    use super::*;
    use crate::backends::microcircuit::MicrocircuitRun;
    use crate::backends::{Backend, BackendError, Prepared};
    use crate::comm::mpi::{initialize, MpiComm};
    use crate::comm::Communicator;
    use crate::kernels::registry::RegistryContext;
    use crate::kernels::{BenchSpec, Dtype, Kernel, ParamValue};
    use crate::measure::{self, BenchRecord, RecordSink};
    use crate::meters::MeterSet;
    use crate::store::RunWriter;
    use anyhow::Context;

    /// The cpu backend's microcircuit, split over the ranks of `comm`.
    struct RanksBackend<'c> {
        comm: &'c dyn Communicator,
        threads: usize,
    }

    impl Backend for RanksBackend<'_> {
        fn kind(&self) -> crate::backend_kind::BackendKind {
            crate::backend_kind::BackendKind::Cpu
        }
        fn device(&self) -> String {
            "cpu".into()
        }
        fn threads(&self) -> u64 {
            self.threads as u64
        }
        fn supports(&self, spec: &BenchSpec) -> Result<(), BackendError> {
            match &spec.kernel {
                Kernel::Microcircuit(_) if spec.dtype == Dtype::F64 => Ok(()),
                _ => Err(BackendError::Unsupported {
                    backend: "cpu".into(),
                    benchmark: spec.name(),
                    reason: "over MPI ranks, only the microcircuit (f64) runs".into(),
                }),
            }
        }
        fn prepare<'a>(&'a self, spec: &BenchSpec) -> Result<Box<dyn Prepared + 'a>, BackendError> {
            self.supports(spec)?;
            let Kernel::Microcircuit(k) = &spec.kernel else {
                unreachable!("supports() let only the microcircuit through");
            };
            // A communicator of the run's own (collective: every rank prepares in lockstep).
            let comm = self
                .comm
                .first_ranks(self.comm.size())
                .expect("every rank is among all ranks");
            Ok(Box::new(MicrocircuitRun::partitioned(
                k,
                self.threads,
                &spec.name(),
                comm,
            )?))
        }
    }

    /// Rank 0 writes to the store, with `ranks` among each row's parameters; the others
    /// write nothing.
    struct RankZeroSink {
        writer: Option<RunWriter>,
        ranks: usize,
    }

    impl RecordSink for RankZeroSink {
        fn record(&mut self, record: &BenchRecord) -> Result<(), Error> {
            let Some(writer) = self.writer.as_mut() else {
                return Ok(());
            };
            let mut record = record.clone();
            record.params.push(("ranks", ParamValue::Int(self.ranks as u64)));
            writer.record(&record)
        }
    }

    /// `ranks × threads` parts must each own at least one 128-neuron block.
    fn check_parts(specs: &[BenchSpec], ranks: usize, threads: usize) -> Result<(), Error> {
        for spec in specs {
            let Kernel::Microcircuit(k) = &spec.kernel else {
                continue;
            };
            let Ok(d) = k
                .sim_params(threads)
                .and_then(|p| braingap_microcircuit::Derived::new(&p).map_err(|e| e.to_string()))
            else {
                continue; // the backend reports why
            };
            let blocks = braingap_microcircuit::connect::blocks(&d).len();
            if ranks * threads > blocks {
                return Err(Error::InvalidArgument {
                    arg: format!("--threads {threads}"),
                    reason: format!(
                        "{ranks} MPI ranks × {threads} threads = {} parts, more than the {blocks} blocks of 128 \
                         neurons of {} (each part owns whole blocks): use fewer --threads per rank, fewer ranks \
                         (mpirun -np), or a larger --scale",
                        ranks * threads,
                        spec.name()
                    ),
                });
            }
        }
        Ok(())
    }

    /// `braingap run --profile microcircuit` on this rank of an MPI job.
    pub fn run_microcircuit(plan: &RunPlan, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
        let (args, profile, threads) = (plan.args, plan.profile, plan.threads);
        if args.backend != crate::backends::BackendKind::Cpu {
            return Err(Error::InvalidArgument {
                arg: format!("--backend {}", args.backend),
                reason: "the microcircuit over MPI ranks runs on the cpu backend".into(),
            }
            .into());
        }
        let universe = initialize().map_err(|reason| Error::InvalidArgument {
            arg: "--profile microcircuit".into(),
            reason,
        })?;
        let world = MpiComm::world(&universe);
        let comm: &dyn Communicator = &world;
        let (rank, ranks) = (comm.rank(), comm.size());
        // By default the node's cores are shared among the ranks on it (the plan's threads).
        let machine = super::super::env::machine(crate::clock::probe_ghz());
        let ctx = RegistryContext {
            threads: threads as u64,
            last_level_cache_bytes: machine.last_level_cache_bytes.value,
            simd: machine.simd_level,
        };
        let mut specs = super::super::plan::select(profile, args.filter.as_ref(), &ctx, false)?;
        // The profile's single-machine limits of spike delivery (scatter_add) are not distributed.
        specs.retain(|s| matches!(s.kernel, crate::kernels::Kernel::Microcircuit(_)));
        super::super::run_cmd::apply_microcircuit_options(args, &mut specs)?;
        if args.list {
            if rank == 0 {
                for spec in &specs {
                    writeln!(out, "{}", spec.name())?;
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        check_parts(&specs, ranks, threads)?;
        let config = super::super::run_cmd::run_config(args, Profile::Microcircuit)?;
        let library = comm.library();
        let opened = plan.open_run_on_rank_zero(comm, &|| {
            let mut settings = crate::cli::lifecycle::timing_settings(&config);
            settings.insert("ranks".into(), ranks.into());
            settings.insert("threads_per_rank".into(), threads.into());
            settings.insert("mpi_library".into(), library.clone().into());
            settings.insert("time_across_ranks".into(), "the slowest rank's time per batch".into());
            let opening = crate::cli::lifecycle::Opening {
                backend: crate::backends::BackendKind::Cpu,
                device: "cpu".into(),
                threads: threads as u64,
                planned: specs.len(),
                settings: settings.into(),
                meters: crate::cli::lifecycle::no_meters_over_ranks(),
                distributed: None,
                power_timeline: false,
            };
            Ok((machine.clone(), opening))
        })?;
        let writer = opened.writer;
        if let Some(w) = &writer {
            crate::diag!(
                "braingap run {} ({} benchmarks, profile {}, {ranks} MPI ranks × {threads} threads, {library}) -> {}",
                w.run_id(),
                specs.len(),
                profile.as_str(),
                w.dir().display()
            );
        }
        let backend = RanksBackend { comm, threads };
        let mut sink = RankZeroSink { writer, ranks };
        let mut progress = super::super::progress::ProgressObserver::new();
        let mut quiet = ();
        let observer: &mut dyn measure::Observer = if rank == 0 { &mut progress } else { &mut quiet };
        let peak = |dtype: Dtype| machine.theoretical_peak(dtype);
        let records = measure::run_benchmarks(
            &backend,
            &specs,
            &config,
            &mut MeterSet::none(),
            measure::MachineLimits {
                theoretical_peak: &peak,
                cache_capacities: &[],
            },
            observer,
            &mut sink,
        )?;
        let Some(writer) = sink.writer else {
            return Ok(ExitCode::SUCCESS);
        };
        let info = writer.finish().context("cannot finish the run")?;
        super::super::run_cmd::finish_output(plan, &info, &records, &format!(" over {ranks} MPI ranks"), out)
    }
}

#[cfg(feature = "mpi")]
pub use microcircuit_ranks::run_microcircuit;

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_units_and_bad_ones_say_why() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("4MiB"), Ok(4 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("8 B"), Ok(8));
        assert!(parse_size("4MB").unwrap_err().contains("unknown unit"));
        assert!(parse_size("0").unwrap_err().contains("positive"));
        assert!(parse_size("MiB").unwrap_err().contains("not a size"));
    }
}
