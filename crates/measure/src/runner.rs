//! Runs benchmarks on a backend and turns samples into records.
//!
//! Per benchmark: prepare (allocation and seeded inputs, untimed) → clock probe → one
//! verified call (a mismatch ends the benchmark as `failed`, never as fast) → warm-up →
//! calibration of the iterations per sample so that each sample lasts at least
//! `min_sample_time` → `samples` samples, metered → clock probe → statistics.

use super::stats::{self, Outlier, Summary};
use crate::backends::Backend;
use crate::error::Error;
use crate::kernels::{BenchSpec, Dtype, EventKind, Kernel, Params, StreamOp, Verification};
use crate::meters::{EnergyRecord, MeterSet, WorkDone};
use crate::units::{Bytes, BytesPerSecond, Flops, FlopsPerSecond, Seconds};
use std::time::Instant;

/// How hard the runner samples.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Time spent running the kernel before sampling.
    pub warmup: Seconds,
    /// Minimum duration of one sample (iterations are batched to reach it).
    pub min_sample_time: Seconds,
    /// Samples per benchmark.
    pub samples: usize,
    /// Samples are cut (to no fewer than `min_samples`) when they would exceed this.
    pub max_sampling_time: Seconds,
    /// Floor on samples when `max_sampling_time` cuts.
    pub min_samples: usize,
    /// Bootstrap resamples for the CI of the median.
    pub bootstrap_resamples: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
}

impl RunConfig {
    /// Settings for the `quick` profile.
    pub fn quick() -> RunConfig {
        RunConfig {
            warmup: Seconds(0.1),
            min_sample_time: Seconds(0.02),
            samples: 10,
            max_sampling_time: Seconds(2.0),
            min_samples: 5,
            bootstrap_resamples: 2000,
            seed: 0x00B2_A1A6,
        }
    }

    /// Settings for the `microcircuit` profile: samples of at least a second of wall time (a
    /// call is 1 ms of biological time), so the timed windows add up to seconds of biological
    /// time as the model's benchmarking recipe asks.
    pub fn microcircuit() -> RunConfig {
        RunConfig {
            warmup: Seconds(1.0),
            min_sample_time: Seconds(1.0),
            samples: 10,
            max_sampling_time: Seconds(60.0),
            min_samples: 5,
            ..RunConfig::quick()
        }
    }

    /// Exactly one warm-up call and `calls` one-call samples, whatever the machine's speed:
    /// runs with the same `calls` simulate the same biological time (`--bio-time`), so their
    /// spike counts and fingerprints can be compared (one process against MPI ranks).
    pub fn fixed_calls(calls: usize) -> RunConfig {
        RunConfig {
            warmup: Seconds(0.0),
            min_sample_time: Seconds(0.0),
            samples: calls,
            max_sampling_time: Seconds(f64::INFINITY),
            min_samples: calls,
            ..RunConfig::quick()
        }
    }

    /// Settings for the `standard`, `full` and `peers` profiles.
    pub fn standard() -> RunConfig {
        RunConfig {
            warmup: Seconds(0.3),
            min_sample_time: Seconds(0.05),
            samples: 20,
            max_sampling_time: Seconds(6.0),
            min_samples: 7,
            ..RunConfig::quick()
        }
    }
}

/// Outcome of a benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Verified and measured.
    Ok,
    /// Output did not match the reference, or the backend failed; no timing counts.
    Failed,
    /// The backend cannot run it (the reason is recorded).
    Skipped,
}

impl Status {
    /// Name stored in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything measured about one benchmark.
#[derive(Debug, Clone)]
pub struct BenchRecord {
    /// The benchmark.
    pub spec: BenchSpec,
    /// Unique name, `kernel/dtype/params`.
    pub benchmark: String,
    /// Backend name.
    pub backend: crate::backends::BackendKind,
    /// Device name.
    pub device: String,
    /// Worker threads.
    pub threads: u64,
    /// Parameters as numbers.
    pub params: Params,
    /// Outcome.
    pub status: Status,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// Result of the reference check (absent when skipped before running).
    pub verification: Option<Verification>,
    /// Calls per sample.
    pub iters_per_sample: u64,
    /// Time per call of each sample.
    pub samples: Vec<Seconds>,
    /// Tukey class of each sample.
    pub outliers: Vec<Outlier>,
    /// Statistics of the per-call times.
    pub stats: Option<Summary>,
    /// Analytic FLOP per call.
    pub flops: Flops,
    /// Analytic compulsory bytes per call.
    pub bytes: Bytes,
    /// Discrete events per call (exact, averaged over the sampled calls).
    pub events: Option<(EventKind, f64)>,
    /// Core clock before the benchmark, GHz.
    pub clock_ghz_before: Option<f64>,
    /// Core clock after the benchmark, GHz.
    pub clock_ghz_after: Option<f64>,
    /// Roofline attainment = achieved / min(peak, intensity × bandwidth) of this run, the
    /// bandwidth being that of the memory level that holds the working set.
    pub attainment: Option<f64>,
    /// The ceiling `attainment` is taken against: the memory level that holds the working
    /// set, or the compute peak.
    pub roof_level: Option<RoofLevel>,
    /// Theoretical peak FLOP/s of the dtype on this machine.
    pub theoretical_peak_flops_per_s: Option<FlopsPerSecond>,
    /// Energy of the sampled region (all samples), with its source.
    pub energy: EnergyRecord,
    /// Wall time of the sampled region (all samples, all iterations).
    pub sampled_time: Seconds,
    /// Calls in the sampled region.
    pub sampled_calls: u64,
    /// UTC start time, RFC 3339.
    pub started_at: String,
    /// UTC end time, RFC 3339.
    pub finished_at: String,
    /// Tables the benchmark observed beyond its timing ([`Prepared::observations`]).
    pub observations: Vec<crate::backends::Observation>,
}

impl BenchRecord {
    /// Median time per call.
    pub fn median(&self) -> Option<Seconds> {
        self.stats.map(|s| Seconds(s.median))
    }

    /// Achieved FLOP/s at the median.
    pub fn flops_per_s(&self) -> Option<FlopsPerSecond> {
        self.median().map(|t| self.flops.per(t))
    }

    /// Achieved bytes/s at the median.
    pub fn bytes_per_s(&self) -> Option<BytesPerSecond> {
        self.median().map(|t| self.bytes.per(t))
    }

    /// Mean core clock of the two probes, GHz.
    pub fn clock_ghz(&self) -> Option<f64> {
        match (self.clock_ghz_before, self.clock_ghz_after) {
            (Some(a), Some(b)) => Some((a + b) / 2.0),
            (a, b) => a.or(b),
        }
    }

    /// FLOP per cycle per core: FLOP/s ÷ (GHz × threads). CPU devices only: the probe times
    /// a CPU core, which says nothing about a GPU's cycles.
    pub fn flops_per_cycle_per_core(&self) -> Option<f64> {
        if self.device != "cpu" {
            return None;
        }
        let ghz = self.clock_ghz()?;
        Some(self.flops_per_s()?.0 / (ghz * 1e9 * self.threads as f64))
    }
}

/// Progress of one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Allocating and filling buffers.
    Preparing,
    /// Checking one call against the reference.
    Verifying,
    /// Warming up.
    WarmingUp,
    /// Taking sample `index` of `total`.
    Sampling {
        /// 0-based sample index.
        index: usize,
        /// Samples planned.
        total: usize,
    },
}

/// Receives progress; every method defaults to doing nothing.
pub trait Observer {
    /// The run is about to start `total` benchmarks.
    fn run_started(&mut self, _total: usize) {}
    /// Benchmark `index` is starting.
    fn benchmark_started(&mut self, _index: usize, _spec: &BenchSpec) {}
    /// A phase of the current benchmark began.
    fn phase(&mut self, _phase: Phase) {}
    /// A benchmark finished (whatever its status).
    fn benchmark_finished(&mut self, _record: &BenchRecord) {}
    /// All benchmarks finished.
    fn run_finished(&mut self, _records: &[BenchRecord]) {}
    /// The instruction count of a benchmark finished (`--metric instructions`, whatever its
    /// status), after `wall_seconds` under valgrind.
    fn count_finished(&mut self, _spec: &BenchSpec, _count: &crate::instructions::InstructionMeasurement) {}
    /// All instruction counts finished.
    fn counts_finished(&mut self) {}
    /// A benchmark that is not a [`BenchSpec`] finished: a collective at one message size, a
    /// data-parallel configuration. `measured` says what it measured, in words; `reason`
    /// why it failed or was skipped.
    fn item_finished(&mut self, _name: &str, _status: Status, _reason: Option<&str>, _measured: &str) {}
    /// All such benchmarks finished.
    fn items_finished(&mut self) {}
}

/// An observer that ignores everything.
impl Observer for () {}

/// Where finished records go (the results store); called before the next benchmark starts.
pub trait RecordSink {
    /// Persists one finished record.
    fn record(&mut self, record: &BenchRecord) -> Result<(), Error>;
    /// Persists one instruction count of `spec` taken by `tool` (valgrind's version). A sink
    /// that stores no counts refuses it.
    fn record_count(
        &mut self,
        spec: &BenchSpec,
        _count: &crate::instructions::InstructionMeasurement,
        _tool: &str,
    ) -> Result<(), Error> {
        Err(Error::Unavailable {
            what: format!("storing the instruction count of {}", spec.name()),
            reason: "this sink stores timed records only".into(),
        })
    }
}

/// What a run knows of the machine's limits before it measures any.
#[derive(Clone, Copy)]
pub struct MachineLimits<'a> {
    /// Theoretical peak FLOP/s of a dtype, where known.
    pub theoretical_peak: &'a dyn Fn(Dtype) -> Option<f64>,
    /// Data capacity of each cache level the run's threads can use, `(level, bytes)`
    /// (`braingap_core::machine::cache_capacities`); empty: every kernel is set against
    /// DRAM.
    pub cache_capacities: &'a [(u32, u64)],
}

/// The ceiling a record's roofline attainment is taken against: the memory level that holds
/// its working set, or the compute peak. Stored as `L1`, `L2`, ..., `DRAM` or `compute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum RoofLevel {
    /// A cache level (1 = L1).
    Cache(u32),
    /// Main memory.
    Dram,
    /// The compute peak.
    Compute,
}

impl std::fmt::Display for RoofLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RoofLevel::Cache(level) => write!(f, "L{level}"),
            RoofLevel::Dram => f.write_str("DRAM"),
            RoofLevel::Compute => f.write_str("compute"),
        }
    }
}

impl From<RoofLevel> for String {
    fn from(level: RoofLevel) -> String {
        level.to_string()
    }
}

impl TryFrom<String> for RoofLevel {
    type Error = String;
    fn try_from(text: String) -> Result<RoofLevel, String> {
        match text.as_str() {
            "DRAM" => Ok(RoofLevel::Dram),
            "compute" => Ok(RoofLevel::Compute),
            _ => text
                .strip_prefix('L')
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n > 0)
                .map(RoofLevel::Cache)
                .ok_or_else(|| format!("not a roofline level (L1, L2, ..., DRAM, compute): {text:?}")),
        }
    }
}

/// Roofline ceilings measured so far in this run.
///
/// Compute: `peak_fma` per dtype. Bandwidth: one ceiling per cache level from the triad
/// sweep with ordinary stores (a point belongs to the smallest level that holds its working
/// set, see [`Ceilings::level_holding`]), and DRAM as the better of the non-temporal triad and the plain-store
/// triad points beyond twice the last-level cache: a ceiling taken from one kind of store
/// alone can understate the machine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ceilings {
    /// Measured `peak_fma` f32 FLOP/s.
    pub peak_f32: Option<FlopsPerSecond>,
    /// Measured `peak_fma` f64 FLOP/s.
    pub peak_f64: Option<FlopsPerSecond>,
    /// DRAM bytes/s: the best `stream_triad` beyond the caches.
    pub triad_bytes_per_s: Option<BytesPerSecond>,
    /// Cache levels `(level, capacity in bytes for this run's threads, measured bytes/s)`,
    /// smallest first.
    pub levels: Vec<(u32, u64, Option<BytesPerSecond>)>,
}

impl Ceilings {
    /// Ceilings for a run whose threads can use these cache capacities (`(level, bytes)`,
    /// as `braingap_core::machine::cache_capacities` gives them); none known: DRAM only.
    pub fn with_cache_capacities(capacities: &[(u32, u64)]) -> Ceilings {
        Ceilings {
            levels: capacities.iter().map(|&(level, bytes)| (level, bytes, None)).collect(),
            ..Ceilings::default()
        }
    }

    fn last_level_capacity(&self) -> Option<u64> {
        self.levels.last().map(|l| l.1)
    }

    /// Index of the level that holds `working_set` bytes, `None`: beyond the caches. A level
    /// holds a working set that fits in half its capacity: a set as large as the cache does
    /// not stay in it (other data, associativity, and on a shared machine the other
    /// tenants), and the sweep measures each level at half its capacity or less (the L3 point
    /// is LLC/2).
    pub fn level_holding(&self, working_set: u64) -> Option<usize> {
        self.levels.iter().position(|l| working_set <= l.1 / 2)
    }

    /// Updates the ceilings from a finished record.
    pub fn observe(&mut self, record: &BenchRecord) {
        if record.status != Status::Ok {
            return;
        }
        match &record.spec.kernel {
            Kernel::PeakFma(_) => {
                let slot = match record.spec.dtype {
                    Dtype::F32 => &mut self.peak_f32,
                    Dtype::F64 => &mut self.peak_f64,
                    _ => return,
                };
                *slot = max_option(*slot, record.flops_per_s());
            }
            Kernel::Stream(s) if s.op == StreamOp::Triad && s.nontemporal => {
                self.triad_bytes_per_s = max_option(self.triad_bytes_per_s, record.bytes_per_s());
            }
            Kernel::Stream(s) if s.op == StreamOp::Triad => {
                let working_set = record.spec.buffer_bytes();
                match self.last_level_capacity() {
                    Some(llc) if working_set > 2 * llc => {
                        self.triad_bytes_per_s = max_option(self.triad_bytes_per_s, record.bytes_per_s());
                    }
                    _ => {
                        if let Some(i) = self.level_holding(working_set) {
                            self.levels[i].2 = max_option(self.levels[i].2, record.bytes_per_s());
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The bandwidth ceiling for a working set of `working_set` bytes and its level: the
    /// level that holds it, where the sweep measured that level; else the nearest faster
    /// level measured (an upper bound, so attainment is not overstated); else DRAM. A
    /// level's ceiling is never below a slower level's: data in cache can always move at
    /// least as fast as from DRAM, and a small sweep point that measured less was held back
    /// by per-call overhead, so the faster figure of a slower level is used (and named).
    pub fn bandwidth_for(&self, working_set: u64) -> Option<(BytesPerSecond, RoofLevel)> {
        let dram = self.triad_bytes_per_s.map(|bw| (bw, RoofLevel::Dram));
        let Some(i) = self.level_holding(working_set) else {
            return dram;
        };
        let own = self.levels[..=i]
            .iter()
            .rev()
            .find_map(|&(level, _, bw)| bw.map(|bw| (bw, RoofLevel::Cache(level))));
        let slower = self.levels[i + 1..]
            .iter()
            .filter_map(|&(level, _, bw)| bw.map(|bw| (bw, RoofLevel::Cache(level))))
            .chain(dram)
            .max_by(|a, b| a.0 .0.total_cmp(&b.0 .0));
        match (own, slower) {
            (Some(own), Some(slower)) if slower.0 > own.0 => Some(slower),
            (own, slower) => own.or(slower),
        }
    }

    /// Attainment of a record against the roofline min(peak, intensity × bandwidth), with
    /// the bandwidth of the level that holds its working set, and that level. For kernels
    /// that do no arithmetic (STREAM copy), achieved bytes/s ÷ that bandwidth.
    pub fn attainment(&self, record: &BenchRecord) -> Option<(f64, RoofLevel)> {
        let peak = match record.spec.dtype {
            Dtype::F32 => self.peak_f32,
            Dtype::F64 => self.peak_f64,
            _ => None,
        };
        let bandwidth = self.bandwidth_for(record.spec.buffer_bytes());
        if record.flops.0 == 0.0 && record.bytes.0 == 0.0 {
            // Neither FLOPs nor bytes counted (the microcircuit's work is synaptic events):
            // no roofline applies.
            return None;
        }
        if record.flops.0 == 0.0 {
            let (bw, level) = bandwidth?;
            return Some((record.bytes_per_s()?.0 / bw.0, level));
        }
        let (roof, level) = match (peak?, record.spec.arithmetic_intensity()) {
            (p, None) => (p.0, RoofLevel::Compute),
            (p, Some(intensity)) => {
                let (bw, level) = bandwidth?;
                if p.0 <= intensity * bw.0 {
                    (p.0, RoofLevel::Compute)
                } else {
                    (intensity * bw.0, level)
                }
            }
        };
        Some((record.flops_per_s()?.0 / roof, level))
    }
}

fn max_option<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y > x { y } else { x }),
        (x, y) => x.or(y),
    }
}

/// Median cost of one `Instant::now()` pair, measured over `pairs` pairs.
pub fn timer_overhead(pairs: usize) -> Seconds {
    let mut deltas: Vec<f64> = (0..pairs.max(1))
        .map(|_| {
            let a = Instant::now();
            let b = Instant::now();
            (b - a).as_secs_f64()
        })
        .collect();
    deltas.sort_by(f64::total_cmp);
    Seconds(stats::median_sorted(&deltas))
}

/// Checks, before anything is allocated, that each benchmark's buffers fit in `available`
/// bytes of memory (with 10% headroom).
pub fn preflight_memory(specs: &[BenchSpec], available: u64) -> Result<(), Error> {
    for spec in specs {
        let need = spec.buffer_bytes();
        if need as f64 > 0.9 * available as f64 {
            return Err(Error::InsufficientMemory {
                benchmark: spec.name(),
                needed_gib: need as f64 / (1u64 << 30) as f64,
                available_gib: available as f64 / (1u64 << 30) as f64,
            });
        }
    }
    Ok(())
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs every spec on `backend` in order, handing each finished record to `sink` before the
/// next starts. `machine` gives each row its theoretical peak and places each kernel's
/// working set in a cache level for its attainment ([`Ceilings`]). A failing benchmark is recorded and the run goes on; only a sink error (the
/// store cannot be written) stops the run.
pub fn run_benchmarks(
    backend: &dyn Backend,
    specs: &[BenchSpec],
    config: &RunConfig,
    meters: &mut MeterSet,
    machine: MachineLimits<'_>,
    observer: &mut dyn Observer,
    sink: &mut dyn RecordSink,
) -> Result<Vec<BenchRecord>, Error> {
    observer.run_started(specs.len());
    let mut ceilings = Ceilings::with_cache_capacities(machine.cache_capacities);
    let mut records = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        observer.benchmark_started(index, spec);
        let mut record = run_one(backend, spec, config, meters, observer);
        record.theoretical_peak_flops_per_s = (machine.theoretical_peak)(spec.dtype)
            .filter(|_| record.flops.0 > 0.0)
            .map(FlopsPerSecond);
        ceilings.observe(&record);
        if record.status == Status::Ok {
            if let Some((attainment, level)) = ceilings.attainment(&record) {
                record.attainment = Some(attainment);
                record.roof_level = Some(level);
            }
        }
        sink.record(&record)?;
        observer.benchmark_finished(&record);
        records.push(record);
    }
    observer.run_finished(&records);
    Ok(records)
}

fn empty_record(backend: &dyn Backend, spec: &BenchSpec, status: Status, reason: String) -> BenchRecord {
    let now = now_rfc3339();
    BenchRecord {
        spec: spec.clone(),
        benchmark: spec.name(),
        backend: backend.kind(),
        device: backend.device(),
        threads: backend.threads(),
        params: spec.params(),
        status,
        reason: Some(reason),
        verification: None,
        iters_per_sample: 0,
        samples: Vec::new(),
        outliers: Vec::new(),
        stats: None,
        flops: spec.flops(),
        bytes: spec.bytes(),
        events: None,
        clock_ghz_before: None,
        clock_ghz_after: None,
        attainment: None,
        roof_level: None,
        theoretical_peak_flops_per_s: None,
        energy: EnergyRecord::unavailable("benchmark did not run"),
        sampled_time: Seconds(0.0),
        sampled_calls: 0,
        started_at: now.clone(),
        finished_at: now,
        observations: Vec::new(),
    }
}

fn run_one(
    backend: &dyn Backend,
    spec: &BenchSpec,
    config: &RunConfig,
    meters: &mut MeterSet,
    observer: &mut dyn Observer,
) -> BenchRecord {
    let started_at = now_rfc3339();
    if let Err(e) = backend.supports(spec) {
        return empty_record(backend, spec, Status::Skipped, e.to_string());
    }
    observer.phase(Phase::Preparing);
    let mut prepared = match backend.prepare(spec) {
        Ok(p) => p,
        Err(e) => return empty_record(backend, spec, Status::Failed, e.to_string()),
    };
    let mut record = empty_record(backend, spec, Status::Failed, String::new());
    record.started_at = started_at;
    record.clock_ghz_before = backend.clock_ghz();

    observer.phase(Phase::Verifying);
    let verification = prepared.verify();
    let passed = verification.passed;
    record.verification = Some(verification.clone());
    if !passed {
        record.reason = Some(format!("verification failed: {}", verification.detail));
        record.clock_ghz_after = backend.clock_ghz();
        record.finished_at = now_rfc3339();
        return record;
    }

    observer.phase(Phase::WarmingUp);
    // Warm up with doubling batches until the batches' own time reaches the warm-up time
    // (backends report batch time, so a modelled fake warms up as a real backend does);
    // the batches also calibrate the time per call.
    let mut warmed = 0.0;
    let mut per_call = f64::INFINITY;
    let mut iters = 1u64;
    loop {
        let batch = prepared.run_batch(iters);
        warmed += batch.elapsed.0;
        per_call = per_call.min(batch.elapsed.0 / iters as f64);
        if warmed >= config.warmup.0 || iters >= 1 << 40 {
            break;
        }
        iters = iters.saturating_mul(2);
    }
    let per_call = per_call.max(1e-9);
    let iters_per_sample = ((config.min_sample_time.0 / per_call).ceil() as u64).max(1);
    let sample_time = per_call * iters_per_sample as f64;
    let planned = if sample_time * config.samples as f64 > config.max_sampling_time.0 {
        ((config.max_sampling_time.0 / sample_time).floor() as usize).clamp(config.min_samples, config.samples)
    } else {
        config.samples
    };

    let mut samples = Vec::with_capacity(planned);
    let mut events = 0u64;
    let mut sampled = 0.0;
    meters.start();
    for index in 0..planned {
        observer.phase(Phase::Sampling { index, total: planned });
        let batch = prepared.run_batch(iters_per_sample);
        sampled += batch.elapsed.0;
        events += batch.events;
        samples.push(Seconds(batch.elapsed.0 / iters_per_sample as f64));
    }
    let sampled_calls = iters_per_sample * planned as u64;
    record.energy = meters.stop(&WorkDone {
        elapsed: Seconds(sampled),
        flops: Flops(spec.flops().0 * sampled_calls as f64),
        bytes: Bytes(spec.bytes().0 * sampled_calls as f64),
    });
    record.observations = prepared.observations();
    drop(prepared);
    record.clock_ghz_after = backend.clock_ghz();

    let times: Vec<f64> = samples.iter().map(|s| s.0).collect();
    record.outliers = stats::classify_outliers(&times);
    record.stats = Some(stats::summarize(&times, config.bootstrap_resamples, config.seed));
    record.samples = samples;
    record.iters_per_sample = iters_per_sample;
    record.sampled_time = Seconds(sampled);
    record.sampled_calls = sampled_calls;
    record.events = spec
        .event_kind()
        .map(|kind| (kind, events as f64 / sampled_calls as f64));
    record.status = Status::Ok;
    record.reason = None;
    record.finished_at = now_rfc3339();
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{Gemm, Kernel};

    #[test]
    fn preflight_rejects_oversized_buffers() {
        let spec = BenchSpec::new(Kernel::Gemm(Gemm::square(100_000)), Dtype::F64);
        let err = preflight_memory(&[spec], 8 << 30).unwrap_err();
        assert!(err.to_string().contains("gemm/f64/m=100000"), "{err}");
        let small = BenchSpec::new(Kernel::Gemm(Gemm::square(10)), Dtype::F64);
        assert!(preflight_memory(&[small], 8 << 30).is_ok());
    }

    /// A finished record of `spec` whose median call took `seconds`.
    fn finished(spec: BenchSpec, seconds: f64) -> BenchRecord {
        let backend = crate::backends::fake::FakeBackend::new(2, 0, None);
        let mut record = empty_record(&backend, &spec, Status::Ok, String::new());
        record.stats = Some(Summary {
            count: 5,
            median: seconds,
            mad: 0.0,
            min: seconds,
            max: seconds,
            mean: seconds,
            ci_low: seconds,
            ci_high: seconds,
            outliers: 0,
        });
        record
    }

    /// A plain-store triad of `working_set` bytes that ran at `gbytes_per_s`.
    fn triad(working_set: u64, nontemporal: bool, gbytes_per_s: f64) -> BenchRecord {
        let spec = BenchSpec::new(
            Kernel::Stream(crate::kernels::Stream {
                op: StreamOp::Triad,
                n: working_set / 24,
                nontemporal,
            }),
            Dtype::F64,
        );
        let seconds = spec.bytes().0 / (gbytes_per_s * 1e9);
        finished(spec, seconds)
    }

    /// Each kernel is set against the bandwidth of the level that holds its working set:
    /// the cache-level assignment of the roofline (2-core Zen 3 capacities).
    #[test]
    fn attainment_uses_the_level_that_holds_the_working_set() {
        let mut ceilings = Ceilings::with_cache_capacities(&[(1, 64 << 10), (2, 1 << 20), (3, 32 << 20)]);
        ceilings.peak_f32 = Some(FlopsPerSecond(200e9));
        ceilings.peak_f64 = Some(FlopsPerSecond(100e9));
        for record in [
            triad(16 << 10, false, 400.0),
            triad(256 << 10, false, 150.0),
            triad(16 << 20, false, 60.0),
            triad(384 << 20, false, 30.0),
            triad(384 << 20, true, 25.0),
        ] {
            ceilings.observe(&record);
        }
        assert_eq!(
            ceilings.levels,
            vec![
                (1, 64 << 10, Some(BytesPerSecond(400e9))),
                (2, 1 << 20, Some(BytesPerSecond(150e9))),
                (3, 32 << 20, Some(BytesPerSecond(60e9)))
            ]
        );
        // DRAM: the better of the non-temporal triad (25) and the plain one beyond 2x LLC (30).
        assert!((ceilings.triad_bytes_per_s.unwrap().0 - 30e9).abs() < 1e3);
        // A level holds what fits in half of it.
        assert_eq!(ceilings.bandwidth_for(8 << 10).unwrap().1, RoofLevel::Cache(1));
        assert_eq!(ceilings.bandwidth_for(32 << 10).unwrap().1, RoofLevel::Cache(1));
        assert_eq!(ceilings.bandwidth_for(33 << 10).unwrap().1, RoofLevel::Cache(2));
        assert_eq!(ceilings.bandwidth_for(512 << 10).unwrap().1, RoofLevel::Cache(2));
        assert_eq!(ceilings.bandwidth_for(1 << 20).unwrap().1, RoofLevel::Cache(3));
        assert_eq!(ceilings.bandwidth_for(16 << 20).unwrap().1, RoofLevel::Cache(3));
        // As large as the last level: it does not stay there.
        assert_eq!(ceilings.bandwidth_for(32 << 20).unwrap().1, RoofLevel::Dram);
        assert_eq!(ceilings.bandwidth_for(64 << 20).unwrap().1, RoofLevel::Dram);
        // A copy of 24 KiB in L1 at 200 GB/s is half of L1's 400, not 6.7x DRAM's 30.
        let copy = BenchSpec::new(
            Kernel::Stream(crate::kernels::Stream {
                op: StreamOp::Copy,
                n: 3 << 9,
                nontemporal: false,
            }),
            Dtype::F64,
        );
        assert_eq!(copy.buffer_bytes(), 24 << 10);
        let seconds = copy.bytes().0 / 200e9;
        let (attained, level) = ceilings.attainment(&finished(copy, seconds)).unwrap();
        assert!((attained - 0.5).abs() < 1e-9, "{attained}");
        assert_eq!(level, RoofLevel::Cache(1));
        // A compute-bound GEMM is set against the compute peak.
        let gemm = BenchSpec::new(Kernel::Gemm(Gemm::square(256)), Dtype::F32);
        let seconds = gemm.flops().0 / 100e9;
        let (attained, level) = ceilings.attainment(&finished(gemm, seconds)).unwrap();
        assert!((attained - 0.5).abs() < 1e-9);
        assert_eq!(level, RoofLevel::Compute);
    }

    /// A level the sweep did not measure borrows the nearest faster one (an upper bound);
    /// with no cache figures at all, everything is set against DRAM, as before.
    #[test]
    fn an_unmeasured_level_borrows_the_faster_one_and_no_caches_mean_dram() {
        let mut ceilings = Ceilings::with_cache_capacities(&[(1, 64 << 10), (2, 1 << 20), (3, 32 << 20)]);
        ceilings.observe(&triad(16 << 10, false, 400.0));
        ceilings.observe(&triad(384 << 20, true, 25.0));
        assert_eq!(ceilings.bandwidth_for(512 << 10).unwrap().1, RoofLevel::Cache(1));
        // An L1 point held back by call overhead (2 GB/s) does not cap L1 below L3 (60).
        let mut slow_l1 = Ceilings::with_cache_capacities(&[(1, 64 << 10), (2, 1 << 20), (3, 32 << 20)]);
        slow_l1.observe(&triad(16 << 10, false, 2.0));
        slow_l1.observe(&triad(16 << 20, false, 60.0));
        slow_l1.observe(&triad(384 << 20, true, 25.0));
        let (bw, level) = slow_l1.bandwidth_for(8 << 10).unwrap();
        assert_eq!(level, RoofLevel::Cache(3));
        assert!((bw.0 - 60e9).abs() < 1e3);
        let mut dram_only = Ceilings::with_cache_capacities(&[]);
        dram_only.observe(&triad(16 << 10, false, 400.0));
        dram_only.observe(&triad(384 << 20, true, 25.0));
        assert_eq!(dram_only.bandwidth_for(8 << 10).unwrap().1, RoofLevel::Dram);
        assert!((dram_only.triad_bytes_per_s.unwrap().0 - 25e9).abs() < 1e3);
    }

    #[test]
    fn timer_overhead_is_small_and_positive() {
        let t = timer_overhead(1000);
        assert!(t.0 >= 0.0 && t.0 < 1e-3, "{t}");
    }
}
