//! Distributed runs: one results file per rank, merged into one run by rank 0.
//!
//! Rank 0 creates the run directory (its `meta.json` says `running` and carries a
//! [`DistributedMeta`](crate::store::DistributedMeta)); every rank, rank 0 included, writes only
//! `ranks/rank-NNNNN.json`, atomically, after every benchmark, so no two ranks write the
//! same file and a rank that dies keeps what it finished. [`merge`] (called by rank 0 at
//! the end, or by `braingap merge-ranks` after a failed job) reads every rank file and
//! writes the run's `summary.csv`, `samples.csv`, `collectives.csv` and `scaling.csv`, then
//! marks the run `complete`, or `incomplete` naming the ranks that are missing or unfinished.
//!
//! Across ranks, the time of a sample is the mean of the ranks' times for that sample
//! (nccl-tests averages over ranks too); the per-rank medians' spread is kept.

use crate::collectives::{Collective, RankRecord, RankSink};
use crate::comm::LaunchInfo;
use crate::dataparallel::ScalingRecord;
use crate::error::{Error, Result};
use crate::kernels::Dtype;
use crate::measure::Status;
use crate::store::{write_atomic, RunMeta, RunStatus, SCHEMA_VERSION};
use braingap_core::backend_kind::BackendKind;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// Directory of the per-rank files inside a run directory.
pub const RANKS_DIR: &str = "ranks";

/// Columns of `collectives.csv`.
pub const COLLECTIVE_COLUMNS: &[&str] = &[
    "run_id",
    "benchmark",
    "collective",
    "dtype",
    "bytes",
    "ranks",
    "nodes",
    "iters_per_sample",
    "samples",
    "time_median_s",
    "time_min_s",
    "time_max_s",
    "algbw_gbytes_per_s",
    "busbw_gbytes_per_s",
    "bus_factor",
    "fastest_rank_median_s",
    "slowest_rank_median_s",
    "ranks_reported",
    "verification",
    "status",
    "reason",
];

/// Columns of `scaling.csv`.
pub const SCALING_COLUMNS: &[&str] = &[
    "run_id",
    "benchmark",
    "model",
    "mode",
    "ranks",
    "per_rank_batch",
    "global_batch",
    "parameters",
    "step_median_s",
    "compute_median_s",
    "allreduce_median_s",
    "communication_fraction",
    "examples_per_s",
    "gflops_per_s",
    "efficiency",
    "ranks_reported",
    "verification",
    "status",
    "reason",
];

/// One rank's results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankFile {
    /// Layout version.
    pub schema_version: u32,
    /// The run.
    pub run_id: String,
    /// This rank.
    pub rank: usize,
    /// Ranks in the world.
    pub world_size: usize,
    /// Where it ran.
    pub launch: LaunchInfo,
    /// `running`, then `complete` when the rank finished every benchmark.
    pub status: RunStatus,
    /// Collective benchmarks, in run order.
    pub collectives: Vec<RankRecord>,
    /// Data-parallel configurations, in run order.
    #[serde(default)]
    pub scaling: Vec<ScalingRecord>,
}

/// Path of rank `rank`'s file in `run_dir`.
pub fn rank_file_path(run_dir: &Path, rank: usize) -> PathBuf {
    run_dir.join(RANKS_DIR).join(format!("rank-{rank:05}.json"))
}

/// Writes one rank's file, whole and atomically, after every record.
#[derive(Debug)]
pub struct RankWriter {
    path: PathBuf,
    file: RankFile,
}

impl RankWriter {
    /// Starts rank `rank`'s file in `run_dir` (the directory must exist).
    pub fn create(
        run_dir: &Path,
        run_id: &str,
        rank: usize,
        world_size: usize,
        launch: LaunchInfo,
    ) -> Result<RankWriter> {
        let dir = run_dir.join(RANKS_DIR);
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let writer = RankWriter {
            path: rank_file_path(run_dir, rank),
            file: RankFile {
                schema_version: SCHEMA_VERSION,
                run_id: run_id.to_string(),
                rank,
                world_size,
                launch,
                status: RunStatus::Running,
                collectives: Vec::new(),
                scaling: Vec::new(),
            },
        };
        writer.write()?;
        Ok(writer)
    }

    fn write(&self) -> Result<()> {
        write_atomic(
            &self.path,
            &serde_json::to_vec_pretty(&self.file).expect("rank file serializes"),
        )
    }

    /// Persists a data-parallel record.
    pub fn record_scaling(&mut self, record: &ScalingRecord) -> Result<()> {
        self.file.scaling.push(record.clone());
        self.write()
    }

    /// Marks this rank's part finished.
    pub fn finish(mut self) -> Result<()> {
        self.file.status = RunStatus::Complete;
        self.write()
    }
}

impl RankSink for RankWriter {
    /// Persists a record of this writer's rank (another rank's is a bug: each rank has its own
    /// writer).
    fn record(&mut self, rank: usize, record: &RankRecord) -> Result<()> {
        assert_eq!(
            rank, self.file.rank,
            "a record of rank {rank} sent to rank {}'s file",
            self.file.rank
        );
        self.file.collectives.push(record.clone());
        self.write()
    }
}

/// Reads one rank file; `None` when it does not exist.
pub fn read_rank_file(path: &Path) -> Result<Option<RankFile>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let file: RankFile = serde_json::from_str(&text).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        line: e.line() as u64,
        reason: e.to_string(),
    })?;
    // Every time a rank recorded is finite and positive; a rank's NaN would otherwise pass
    // into the merged means.
    let times = file
        .collectives
        .iter()
        .flat_map(|r| r.samples_s.iter().map(move |t| (r.benchmark.as_str(), "samples_s", *t)))
        .chain(file.scaling.iter().flat_map(|r| {
            [
                ("step_s", &r.step_s),
                ("compute_s", &r.compute_s),
                ("allreduce_s", &r.allreduce_s),
            ]
            .into_iter()
            .flat_map(move |(field, values)| values.iter().map(move |t| (r.benchmark.as_str(), field, *t)))
        }));
    for (benchmark, field, t) in times {
        if !t.is_finite() || t < 0.0 {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                line: 0,
                reason: format!("field {field} of {benchmark}: {t} is not a non-negative finite time"),
            });
        }
    }
    Ok(Some(file))
}

/// One row of `collectives.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectiveRow {
    /// Run id.
    pub run_id: String,
    /// `collective/f32/bytes=B,ranks=N`.
    pub benchmark: String,
    /// Collective name.
    pub collective: String,
    /// Element type.
    pub dtype: Dtype,
    /// Message size (nccl-tests' sense), bytes.
    pub bytes: u64,
    /// Ranks taking part.
    pub ranks: usize,
    /// Distinct hosts among the reporting ranks.
    pub nodes: usize,
    /// Calls per sample.
    pub iters_per_sample: u64,
    /// Samples.
    pub samples: usize,
    /// Median time per call (rank-averaged samples), the latency.
    pub time_median_s: Option<f64>,
    /// Fastest sample.
    pub time_min_s: Option<f64>,
    /// Slowest sample.
    pub time_max_s: Option<f64>,
    /// Algorithm bandwidth at the median, GB/s.
    pub algbw_gbytes_per_s: Option<f64>,
    /// Bus bandwidth at the median, GB/s.
    pub busbw_gbytes_per_s: Option<f64>,
    /// busbw ÷ algbw.
    pub bus_factor: f64,
    /// Smallest per-rank median.
    pub fastest_rank_median_s: Option<f64>,
    /// Largest per-rank median.
    pub slowest_rank_median_s: Option<f64>,
    /// Ranks whose file holds this benchmark.
    pub ranks_reported: usize,
    /// Rank 0's check (every rank checks its own buffer).
    pub verification: Option<String>,
    /// `ok`, `failed` or `skipped`.
    pub status: Status,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
}

/// One row of `scaling.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingRow {
    /// Run id.
    pub run_id: String,
    /// Benchmark name.
    pub benchmark: String,
    /// Model name.
    pub model: String,
    /// `strong` or `weak`.
    pub mode: String,
    /// Ranks taking part.
    pub ranks: usize,
    /// Examples per rank per step.
    pub per_rank_batch: usize,
    /// Examples per step.
    pub global_batch: usize,
    /// Trainable parameters.
    pub parameters: u64,
    /// Median step time (rank-averaged samples).
    pub step_median_s: Option<f64>,
    /// Median compute time.
    pub compute_median_s: Option<f64>,
    /// Median all-reduce time.
    pub allreduce_median_s: Option<f64>,
    /// allreduce ÷ step at the medians.
    pub communication_fraction: Option<f64>,
    /// Global examples per second at the median step time.
    pub examples_per_s: Option<f64>,
    /// Analytic FLOP per step ÷ median step time, GFLOP/s.
    pub gflops_per_s: Option<f64>,
    /// Against the 1-rank configuration of the same mode (see `crate::dataparallel`).
    pub efficiency: Option<f64>,
    /// Ranks whose file holds this configuration.
    pub ranks_reported: usize,
    /// What the check compared.
    pub verification: Option<String>,
    /// `ok`, `failed` or `skipped`.
    pub status: Status,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
}

mod across;
mod merge;

pub use merge::{merge, MergeOutcome};

/// Reads `collectives.csv` of a run directory (empty when the file is absent).
pub fn read_collectives(run_dir: &Path) -> Result<Vec<CollectiveRow>> {
    read_rows(&run_dir.join("collectives.csv"))
}

/// Reads `scaling.csv` of a run directory (empty when the file is absent).
pub fn read_scaling(run_dir: &Path) -> Result<Vec<ScalingRow>> {
    read_rows(&run_dir.join("scaling.csv"))
}

fn read_rows<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        line: 0,
        reason: e.to_string(),
    })?;
    reader
        .deserialize()
        .map(|row| {
            row.map_err(|e| Error::Corrupt {
                path: path.to_path_buf(),
                line: e.position().map_or(0, |p| p.line()),
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Whether `collective` names one of the benchmarked collectives (for readers of the CSV).
pub fn is_collective_kernel(kernel: &str) -> bool {
    Collective::from_name(kernel).is_some()
}

/// Fixtures for tests of this crate and the crates above it (the report's distributed
/// section); not part of any run.
#[doc(hidden)]
pub mod fixtures {
    use super::*;
    use crate::store::DistributedMeta;

    /// The meta of a distributed run of `world` ranks, as rank 0 writes it at the start.
    pub fn meta(world: usize) -> RunMeta {
        RunMeta {
            schema_version: SCHEMA_VERSION,
            run_id: "20260101T000000.000Z-abcd".into(),
            status: RunStatus::Running,
            label: None,
            command_line: vec![],
            profile: "collectives".into(),
            filter: None,
            backend: BackendKind::Mpi,
            device: "Open MPI v4.1.4 (MPI 3.1)".into(),
            threads: world as u64,
            started_at: "2026-01-01T00:00:00.000Z".into(),
            finished_at: None,
            git_commit: None,
            benchmarks_planned: 2,
            timer_overhead_s: 0.0,
            config: serde_json::json!({}),
            machine: serde_json::json!({}),
            meters: serde_json::json!({}),
            distributed: Some(DistributedMeta::new(world, "Open MPI v4.1.4 (MPI 3.1)".into())),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::collectives::Layout;
    use crate::store::{load_run_dir, Store};

    fn launch(host: &str, rank: usize) -> LaunchInfo {
        LaunchInfo {
            host: host.into(),
            pid: 1000 + rank as u32,
            local_rank: Some(rank as u64),
            local_size: None,
            slurm: None,
        }
    }

    pub(crate) use super::fixtures::meta;

    /// A record as rank `rank` would write it, with per-call times `times`.
    fn record(layout: &Layout, times: &[f64]) -> RankRecord {
        RankRecord {
            benchmark: layout.name(),
            collective: layout.collective,
            bytes: layout.bytes(),
            ranks: layout.ranks,
            send_len: layout.send_len,
            recv_len: layout.recv_len,
            iters_per_sample: 10,
            samples_s: times.to_vec(),
            status: Status::Ok,
            reason: None,
            verification: Some("exact".into()),
            started_at: String::new(),
            finished_at: String::new(),
        }
    }

    #[test]
    fn merge_averages_ranks_per_sample_and_derives_bus_bandwidth() {
        let tmp = tempfile::tempdir().unwrap();
        let writer = Store::new(tmp.path()).create_run(meta(2), false).unwrap();
        let dir = writer.dir().to_path_buf();
        let layout = Collective::AllReduce.layout(1 << 20, 2).unwrap();
        for (rank, times) in [(0, [1e-3, 2e-3, 3e-3]), (1, [3e-3, 4e-3, 5e-3])] {
            let mut w = RankWriter::create(&dir, "x", rank, 2, launch("node1", rank)).unwrap();
            w.record(rank, &record(&layout, &times)).unwrap();
            w.finish().unwrap();
        }
        let outcome = merge(&dir).unwrap();
        assert_eq!(outcome.status, RunStatus::Complete);
        let rows = read_collectives(&dir).unwrap();
        assert_eq!(rows.len(), 1);
        // Samples 2, 3, 4 ms: median 3 ms; all-reduce on 2 ranks: busbw = algbw.
        assert!((rows[0].time_median_s.unwrap() - 3e-3).abs() < 1e-12);
        let algbw = (1u64 << 20) as f64 / 3e-3 / 1e9;
        assert!((rows[0].algbw_gbytes_per_s.unwrap() - algbw).abs() < 1e-9);
        assert_eq!(rows[0].busbw_gbytes_per_s, rows[0].algbw_gbytes_per_s);
        assert_eq!(
            (rows[0].fastest_rank_median_s, rows[0].slowest_rank_median_s),
            (Some(2e-3), Some(4e-3))
        );
        assert_eq!(rows[0].nodes, 1);
        let info = load_run_dir(&dir).unwrap();
        assert!(info.is_complete());
        assert_eq!(info.summary.len(), 1);
        assert_eq!(info.summary[0].kernel, "allreduce");
        assert_eq!(info.summary[0].backend, BackendKind::Mpi);
        let dist = info.meta.distributed.unwrap();
        assert_eq!(dist.nodes, vec!["node1".to_string()]);
        assert_eq!(dist.ranks_reported, vec![0, 1]);
    }

    #[test]
    fn a_rank_that_died_leaves_the_run_incomplete_with_the_others_data_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let writer = Store::new(tmp.path()).create_run(meta(3), false).unwrap();
        let dir = writer.dir().to_path_buf();
        let first = Collective::AllReduce.layout(1 << 10, 3).unwrap();
        let second = Collective::AllReduce.layout(1 << 11, 3).unwrap();
        // Rank 0 finished both; rank 1 died after the first (file still `running`); rank 2
        // died before writing anything.
        let mut w0 = RankWriter::create(&dir, "x", 0, 3, launch("a", 0)).unwrap();
        w0.record(0, &record(&first, &[1e-6, 1e-6])).unwrap();
        w0.record(0, &record(&second, &[2e-6, 2e-6])).unwrap();
        w0.finish().unwrap();
        let mut w1 = RankWriter::create(&dir, "x", 1, 3, launch("b", 1)).unwrap();
        w1.record(1, &record(&first, &[3e-6, 3e-6])).unwrap();
        drop(w1);
        let outcome = merge(&dir).unwrap();
        assert_eq!(outcome.status, RunStatus::Incomplete);
        assert_eq!(outcome.missing_ranks, vec![2]);
        assert_eq!(outcome.unfinished_ranks, vec![1]);
        let info = load_run_dir(&dir).unwrap();
        assert!(!info.is_complete());
        assert_eq!(info.meta.status, RunStatus::Incomplete);
        let rows = read_collectives(&dir).unwrap();
        assert_eq!(rows.len(), 2, "both benchmarks kept");
        assert_eq!(rows[0].ranks_reported, 2);
        assert_eq!(rows[1].ranks_reported, 1);
        assert!(rows.iter().all(|r| r.status == Status::Failed));
        assert!(
            rows[1].reason.as_deref().unwrap().contains("rank(s) 1,2"),
            "{:?}",
            rows[1].reason
        );
        // The figures of the ranks that reported are kept: mean of 1 and 3 µs.
        assert!((rows[0].time_median_s.unwrap() - 2e-6).abs() < 1e-15);
        assert!(info.meta.distributed.unwrap().nodes == vec!["a".to_string(), "b".to_string()]);
        // The rank files themselves are untouched.
        assert!(rank_file_path(&dir, 0).exists() && rank_file_path(&dir, 1).exists());
    }

    #[test]
    fn merging_a_run_that_is_not_distributed_is_an_error_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let mut m = meta(1);
        m.distributed = None;
        let writer = Store::new(tmp.path()).create_run(m, false).unwrap();
        let err = merge(writer.dir()).unwrap_err().to_string();
        assert!(
            err.contains("meta.json") && err.contains("not a distributed run"),
            "{err}"
        );
    }
}
