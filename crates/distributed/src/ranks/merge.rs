//! Rank 0's merge: every rank file of a distributed run read, its benchmarks joined across
//! ranks ([`super::across`]), and the run's `summary.csv`, `samples.csv`, `collectives.csv`,
//! `scaling.csv` and `meta.json` written.

use super::across::{merge_samples, merged_status, min_max, Merged};
use super::{rank_file_path, read_rank_file, CollectiveRow, RankFile, ScalingRow, COLLECTIVE_COLUMNS, SCALING_COLUMNS};
use crate::collectives::RankRecord;
use crate::dataparallel::{ScalingMode, ScalingRecord};
use crate::error::{Error, Result};
use crate::kernels::Dtype;
use crate::measure::stats;
use crate::measure::Status;
use crate::store::rows::{self, SampleRow, SummaryRow};
use crate::store::{load_run_dir, write_atomic, RunMeta, RunStatus};
use braingap_core::backend_kind::BackendKind;
use braingap_meters::EnergySource;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a merge found.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    /// The merged run's directory.
    pub dir: PathBuf,
    /// `complete` or `incomplete`.
    pub status: RunStatus,
    /// Summary rows written.
    pub summary_rows: usize,
    /// Ranks with no file.
    pub missing_ranks: Vec<usize>,
    /// Ranks whose file is not complete.
    pub unfinished_ranks: Vec<usize>,
}

#[allow(clippy::too_many_arguments)] // one argument per column group of the row
fn summary_row(
    run_id: &str,
    backend: BackendKind,
    benchmark: &str,
    kernel: &str,
    device: &str,
    ranks: usize,
    params: serde_json::Value,
    merged: &Merged,
    iters: u64,
    flops: f64,
    bytes: f64,
    status: Status,
    reason: Option<String>,
    verification: Option<String>,
) -> SummaryRow {
    let ok = status == Status::Ok;
    let s = merged.summary.filter(|_| ok);
    SummaryRow {
        run_id: run_id.into(),
        benchmark: benchmark.into(),
        kernel: kernel.into(),
        backend,
        device: device.into(),
        dtype: Dtype::F32,
        threads: ranks as u64,
        params: params.to_string(),
        median_s: s.map(|s| s.median),
        ci_low_s: s.map(|s| s.ci_low),
        ci_high_s: s.map(|s| s.ci_high),
        mad_s: s.map(|s| s.mad),
        min_s: s.map(|s| s.min),
        max_s: s.map(|s| s.max),
        samples: merged.samples.len() as u64,
        iters_per_sample: iters,
        outliers: s.map_or(0, |s| s.outliers as u64),
        flops,
        bytes,
        gflops_per_s: s.filter(|_| flops > 0.0).map(|s| flops / s.median / 1e9),
        gbytes_per_s: s.filter(|_| bytes > 0.0).map(|s| bytes / s.median / 1e9),
        arithmetic_intensity: (flops > 0.0 && bytes > 0.0).then(|| flops / bytes),
        energy_source: EnergySource::Unavailable,
        energy_note: Some("energy is not metered in distributed runs".into()),
        counters_note: Some("counters are not read in distributed runs".into()),
        metric_source: Some(rows::MetricSource::WallClock),
        verification,
        status,
        reason,
        ..SummaryRow::default()
    }
}

fn sample_rows(run_id: &str, backend: BackendKind, benchmark: &str, merged: &Merged, iters: u64) -> Vec<SampleRow> {
    let outliers = stats::classify_outliers(&merged.samples);
    merged
        .samples
        .iter()
        .zip(outliers)
        .enumerate()
        .map(|(i, (&t, o))| SampleRow {
            run_id: run_id.into(),
            benchmark: benchmark.into(),
            backend,
            sample: i as u64,
            iterations: iters,
            batch_time_s: t * iters as f64,
            time_per_call_s: t,
            outlier: o.as_str().into(),
        })
        .collect()
}

/// Benchmarks in order of first appearance over the rank files (rank order).
fn ordered_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    names
        .filter(|n| seen.insert(n.to_string()))
        .map(str::to_string)
        .collect()
}

/// Merges the rank files of the distributed run in `run_dir` into the run's CSV files and
/// `meta.json`. Safe to repeat (the rank files are only read).
pub fn merge(run_dir: &Path) -> Result<MergeOutcome> {
    let info = load_run_dir(run_dir)?;
    let mut meta: RunMeta = info.meta;
    let meta_path = run_dir.join("meta.json");
    let Some(mut dist) = meta.distributed.clone() else {
        return Err(Error::Corrupt {
            path: meta_path,
            line: 0,
            reason: "not a distributed run (no `distributed` key); nothing to merge".into(),
        });
    };
    let run_id = meta.run_id.clone();
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for rank in 0..dist.world_size {
        match read_rank_file(&rank_file_path(run_dir, rank))? {
            Some(file) => files.push(file),
            None => missing.push(rank),
        }
    }
    let unfinished: Vec<usize> = files
        .iter()
        .filter(|f| f.status != RunStatus::Complete)
        .map(|f| f.rank)
        .collect();
    let source = Source {
        files: &files,
        run_id: &run_id,
        // `mpi`, or `nccl` for a run of one process driving its GPUs.
        backend: meta.backend,
        device: &dist.mpi_library,
    };
    let mut rows = MergedRows::default();
    merge_collectives(&source, &mut rows);
    merge_scaling(&source, &mut rows);
    rows.write(run_dir)?;

    let mut nodes: Vec<String> = Vec::new();
    for f in &files {
        if !nodes.contains(&f.launch.host) {
            nodes.push(f.launch.host.clone());
        }
    }
    let complete = missing.is_empty() && unfinished.is_empty();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    dist.nodes = nodes;
    dist.placements = files.iter().map(|f| (f.rank, f.launch.clone())).collect();
    dist.ranks_reported = files.iter().map(|f| f.rank).collect();
    dist.missing_ranks = missing.clone();
    dist.unfinished_ranks = unfinished.clone();
    dist.merged_at = Some(now.clone());
    meta.status = if complete {
        RunStatus::Complete
    } else {
        RunStatus::Incomplete
    };
    meta.finished_at = complete.then_some(now);
    meta.distributed = Some(dist);
    write_atomic(&meta_path, &serde_json::to_vec_pretty(&meta).expect("meta serializes"))?;
    Ok(MergeOutcome {
        dir: run_dir.to_path_buf(),
        status: meta.status,
        summary_rows: rows.summary.len(),
        missing_ranks: missing,
        unfinished_ranks: unfinished,
    })
}

/// Seed of the bootstrap CIs of merged benchmarks.
const SEED: u64 = 0x00B2_A1A6;

/// Where the rows come from: the rank files read, and the run's identity.
struct Source<'a> {
    files: &'a [RankFile],
    run_id: &'a str,
    backend: BackendKind,
    device: &'a str,
}

/// The rows a merge writes.
#[derive(Default)]
struct MergedRows {
    summary: Vec<SummaryRow>,
    samples: Vec<SampleRow>,
    collectives: Vec<CollectiveRow>,
    scaling: Vec<ScalingRow>,
}

impl MergedRows {
    /// Writes `summary.csv`, `samples.csv`, `collectives.csv` and `scaling.csv`, each
    /// atomically.
    fn write(&self, run_dir: &Path) -> Result<()> {
        write_atomic(
            &run_dir.join("summary.csv"),
            &rows::to_csv(&self.summary, rows::SUMMARY_COLUMNS),
        )?;
        write_atomic(
            &run_dir.join("samples.csv"),
            &rows::to_csv(&self.samples, rows::SAMPLE_COLUMNS),
        )?;
        write_atomic(
            &run_dir.join("collectives.csv"),
            &rows::to_csv(&self.collectives, COLLECTIVE_COLUMNS),
        )?;
        write_atomic(
            &run_dir.join("scaling.csv"),
            &rows::to_csv(&self.scaling, SCALING_COLUMNS),
        )?;
        Ok(())
    }
}

/// One collectives row, one summary row and its samples per collective benchmark any rank
/// reported: the ranks' times averaged per sample, bus bandwidth from the mean.
fn merge_collectives(source: &Source, rows: &mut MergedRows) {
    for name in ordered_names(
        source
            .files
            .iter()
            .flat_map(|f| f.collectives.iter().map(|r| r.benchmark.as_str())),
    ) {
        let per_rank: Vec<(usize, &RankRecord)> = source
            .files
            .iter()
            .filter_map(|f| f.collectives.iter().find(|r| r.benchmark == name).map(|r| (f.rank, r)))
            .collect();
        let first = per_rank[0].1;
        let reporting: BTreeSet<usize> = per_rank.iter().map(|(r, _)| *r).collect();
        let absent: Vec<usize> = (0..first.ranks).filter(|r| !reporting.contains(r)).collect();
        let times: Vec<&[f64]> = per_rank.iter().map(|(_, r)| r.samples_s.as_slice()).collect();
        let merged = merge_samples(&times, SEED);
        let statuses: Vec<Status> = per_rank.iter().map(|(_, r)| r.status).collect();
        let reasons: Vec<Option<String>> = per_rank.iter().map(|(_, r)| r.reason.clone()).collect();
        let (status, reason) = merged_status(&statuses, &reasons, &absent);
        let hosts: BTreeSet<&str> = per_rank
            .iter()
            .filter_map(|(rank, _)| {
                source
                    .files
                    .iter()
                    .find(|f| f.rank == *rank)
                    .map(|f| f.launch.host.as_str())
            })
            .collect();
        let collective = first.collective;
        let layout = collective.layout(first.bytes, first.ranks);
        let median = merged.summary.map(|s| s.median);
        let (fastest, slowest) = min_max(&merged.rank_medians);
        let verification = first.verification.clone().map(|v| {
            format!(
                "{v}; each of {} reporting rank(s) checked its own buffer",
                per_rank.len()
            )
        });
        rows.collectives.push(CollectiveRow {
            run_id: source.run_id.into(),
            benchmark: name.clone(),
            collective: collective.as_str().into(),
            dtype: Dtype::F32,
            bytes: first.bytes,
            ranks: first.ranks,
            nodes: hosts.len(),
            iters_per_sample: first.iters_per_sample,
            samples: merged.samples.len(),
            time_median_s: median,
            time_min_s: merged.summary.map(|s| s.min),
            time_max_s: merged.summary.map(|s| s.max),
            algbw_gbytes_per_s: median.zip(layout).map(|(t, l)| l.algbw(t) / 1e9),
            busbw_gbytes_per_s: median.zip(layout).map(|(t, l)| l.busbw(t) / 1e9),
            bus_factor: collective.bus_factor(first.ranks),
            fastest_rank_median_s: fastest,
            slowest_rank_median_s: slowest,
            ranks_reported: per_rank.len(),
            verification: verification.clone(),
            status,
            reason: reason.clone(),
        });
        let params = serde_json::json!({"bytes": first.bytes, "ranks": first.ranks,
            "send_elements": first.send_len, "recv_elements": first.recv_len});
        rows.summary.push(summary_row(
            source.run_id,
            source.backend,
            &name,
            collective.as_str(),
            source.device,
            first.ranks,
            params,
            &merged,
            first.iters_per_sample,
            0.0,
            first.bytes as f64,
            status,
            reason,
            verification,
        ));
        rows.samples.extend(sample_rows(
            source.run_id,
            source.backend,
            &name,
            &merged,
            first.iters_per_sample,
        ));
    }
}

/// One scaling row, and three summary rows (step, compute, all-reduce) with their samples,
/// per data-parallel benchmark; efficiency against the same mode's one-rank configuration.
fn merge_scaling(source: &Source, rows: &mut MergedRows) {
    let mut base_step: Vec<(ScalingMode, usize, f64)> = Vec::new();
    for name in ordered_names(
        source
            .files
            .iter()
            .flat_map(|f| f.scaling.iter().map(|r| r.benchmark.as_str())),
    ) {
        let per_rank: Vec<(usize, &ScalingRecord)> = source
            .files
            .iter()
            .filter_map(|f| f.scaling.iter().find(|r| r.benchmark == name).map(|r| (f.rank, r)))
            .collect();
        let first = per_rank[0].1;
        let reporting: BTreeSet<usize> = per_rank.iter().map(|(r, _)| *r).collect();
        let absent: Vec<usize> = (0..first.ranks).filter(|r| !reporting.contains(r)).collect();
        let pick = |f: fn(&ScalingRecord) -> &[f64]| -> Vec<&[f64]> { per_rank.iter().map(|(_, r)| f(r)).collect() };
        let step = merge_samples(&pick(|r| &r.step_s), SEED);
        let compute = merge_samples(&pick(|r| &r.compute_s), SEED);
        let allreduce = merge_samples(&pick(|r| &r.allreduce_s), SEED);
        let statuses: Vec<Status> = per_rank.iter().map(|(_, r)| r.status).collect();
        let reasons: Vec<Option<String>> = per_rank.iter().map(|(_, r)| r.reason.clone()).collect();
        let (status, reason) = merged_status(&statuses, &reasons, &absent);
        let ok = status == Status::Ok;
        let step_median = step.summary.map(|s| s.median).filter(|_| ok);
        // The 1-rank configuration of a mode is its baseline: same global batch (strong) or
        // same per-rank batch (weak).
        let key = match first.mode {
            ScalingMode::Strong => first.global_batch,
            ScalingMode::Weak => first.per_rank_batch,
        };
        if first.ranks == 1 {
            if let Some(t) = step_median {
                base_step.push((first.mode, key, t));
            }
        }
        let efficiency = base_step
            .iter()
            .find(|(m, k, _)| *m == first.mode && *k == key)
            .zip(step_median)
            .map(|((_, _, base), t)| first.mode.efficiency(*base, t, first.ranks));
        let compute_median = compute.summary.map(|s| s.median).filter(|_| ok);
        let allreduce_median = allreduce.summary.map(|s| s.median).filter(|_| ok);
        rows.scaling.push(ScalingRow {
            run_id: source.run_id.into(),
            benchmark: name.clone(),
            model: first.model.clone(),
            mode: first.mode.as_str().into(),
            ranks: first.ranks,
            per_rank_batch: first.per_rank_batch,
            global_batch: first.global_batch,
            parameters: first.parameters,
            step_median_s: step_median,
            compute_median_s: compute_median,
            allreduce_median_s: allreduce_median,
            communication_fraction: allreduce_median.zip(step_median).map(|(a, s)| a / s),
            examples_per_s: step_median.map(|t| first.global_batch as f64 / t),
            gflops_per_s: step_median.map(|t| first.flops_per_step / t / 1e9),
            efficiency,
            ranks_reported: per_rank.len(),
            verification: first.verification.clone(),
            status,
            reason: reason.clone(),
        });
        let params = |part: f64| {
            serde_json::json!({"ranks": first.ranks, "per_rank_batch": first.per_rank_batch,
                "global_batch": first.global_batch, "strong": if first.mode == ScalingMode::Strong {1} else {0},
                "parameters": first.parameters, "part": part})
        };
        // Three rows: the step, and its compute and all-reduce parts (part 0, 1, 2), so the
        // summary keeps the split and the report can draw it.
        let parts: [(&str, &Merged, f64, f64); 3] = [
            ("dataparallel_step", &step, first.flops_per_step, 0.0),
            ("dataparallel_compute", &compute, first.flops_per_step, 0.0),
            (
                "dataparallel_allreduce",
                &allreduce,
                0.0,
                (first.parameters * crate::collectives::ELEMENT_BYTES) as f64,
            ),
        ];
        for (i, (kernel, merged, flops, bytes)) in parts.into_iter().enumerate() {
            let bench = name.replacen("dataparallel_step", kernel, 1);
            rows.summary.push(summary_row(
                source.run_id,
                source.backend,
                &bench,
                kernel,
                source.device,
                first.ranks,
                params(i as f64),
                merged,
                first.steps_per_sample,
                flops,
                bytes,
                status,
                reason.clone(),
                first.verification.clone(),
            ));
            rows.samples.extend(sample_rows(
                source.run_id,
                source.backend,
                &bench,
                merged,
                first.steps_per_sample,
            ));
        }
    }
}
