//! Row types of `summary.csv` (one row per benchmark, derived estimates) and `samples.csv`
//! (one row per raw sample, long format), and their CSV encoding.

use crate::error::{Error, Result};
use crate::kernels::{params_json, BenchSpec};
use crate::kernels::{Dtype, EventKind};
use crate::measure::instructions::InstructionMeasurement;
use crate::measure::{BenchRecord, RoofLevel, Status};
use braingap_core::backend_kind::BackendKind;
use braingap_meters::EnergySource;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Columns of `summary.csv`, in order.
pub const SUMMARY_COLUMNS: &[&str] = &[
    "run_id",
    "benchmark",
    "kernel",
    "backend",
    "device",
    "dtype",
    "threads",
    "params",
    "median_s",
    "ci_low_s",
    "ci_high_s",
    "mad_s",
    "min_s",
    "max_s",
    "samples",
    "iters_per_sample",
    "outliers",
    "flops",
    "bytes",
    "gflops_per_s",
    "gbytes_per_s",
    "arithmetic_intensity",
    "attainment",
    "roof_level",
    "theoretical_peak_gflops_per_s",
    "clock_ghz_before",
    "clock_ghz_after",
    "flops_per_cycle_per_core",
    "event_kind",
    "events_per_call",
    "energy_j",
    "avg_power_w",
    "gflops_per_joule",
    "joules_per_synaptic_event",
    "energy_source",
    "energy_note",
    "instructions",
    "cycles",
    "llc_misses",
    "measured_flops",
    "measured_bytes",
    "counters_note",
    "metric_source",
    "code_path",
    "verification",
    "status",
    "reason",
];

/// Columns added to schema 1 after its first release: absent from older files, read as
/// empty.
pub const OPTIONAL_SUMMARY_COLUMNS: &[&str] = &["roof_level", "metric_source", "code_path"];

/// Where a row's measured metric came from (`metric_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricSource {
    /// A timed run's wall-clock samples (any `instructions` come from perf counters, see
    /// `counters_note`).
    WallClock,
    /// `braingap run --metric instructions`: `instructions` is callgrind's Ir per call.
    Callgrind,
}

impl MetricSource {
    /// The name stored in `summary.csv` and `meta.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricSource::WallClock => "wall_clock",
            MetricSource::Callgrind => "callgrind",
        }
    }
}

/// Columns of `samples.csv`, in order.
pub const SAMPLE_COLUMNS: &[&str] = &[
    "run_id",
    "benchmark",
    "backend",
    "sample",
    "iterations",
    "batch_time_s",
    "time_per_call_s",
    "outlier",
];

/// One row of `summary.csv`. Per-call figures: `flops`, `bytes`, `energy_j` are for one call
/// of the kernel; rates are at the median time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Run id.
    pub run_id: String,
    /// `kernel/dtype/params`.
    pub benchmark: String,
    /// Kernel name.
    pub kernel: String,
    /// Backend name.
    pub backend: BackendKind,
    /// Device name.
    pub device: String,
    /// Element type.
    pub dtype: Dtype,
    /// Worker threads.
    pub threads: u64,
    /// Parameters, a JSON object of numbers.
    pub params: String,
    /// Median time per call.
    pub median_s: Option<f64>,
    /// Bootstrap 95% CI of the median, low.
    pub ci_low_s: Option<f64>,
    /// Bootstrap 95% CI of the median, high.
    pub ci_high_s: Option<f64>,
    /// Median absolute deviation.
    pub mad_s: Option<f64>,
    /// Fastest sample.
    pub min_s: Option<f64>,
    /// Slowest sample.
    pub max_s: Option<f64>,
    /// Number of samples.
    pub samples: u64,
    /// Calls per sample.
    pub iters_per_sample: u64,
    /// Samples flagged as outliers (kept).
    pub outliers: u64,
    /// Analytic FLOP per call.
    pub flops: f64,
    /// Analytic compulsory bytes per call.
    pub bytes: f64,
    /// GFLOP/s at the median.
    pub gflops_per_s: Option<f64>,
    /// GB/s at the median.
    pub gbytes_per_s: Option<f64>,
    /// FLOP per byte.
    pub arithmetic_intensity: Option<f64>,
    /// Achieved ÷ roofline of this run.
    pub attainment: Option<f64>,
    /// The ceiling `attainment` is taken against: the memory level holding the working set
    /// (`L1`, `L2`, `L3`, `DRAM`) or `compute`; empty in files written before the column
    /// existed.
    #[serde(default)]
    pub roof_level: Option<RoofLevel>,
    /// Theoretical peak of the dtype.
    pub theoretical_peak_gflops_per_s: Option<f64>,
    /// Clock probe before, GHz.
    pub clock_ghz_before: Option<f64>,
    /// Clock probe after, GHz.
    pub clock_ghz_after: Option<f64>,
    /// FLOP per cycle per core.
    pub flops_per_cycle_per_core: Option<f64>,
    /// `synaptic_events`, `spikes` or empty.
    pub event_kind: Option<EventKind>,
    /// Events per call.
    pub events_per_call: Option<f64>,
    /// Energy per call.
    pub energy_j: Option<f64>,
    /// Average power while sampling.
    pub avg_power_w: Option<f64>,
    /// GFLOP per joule.
    pub gflops_per_joule: Option<f64>,
    /// Joules per synaptic event (spiking kernels).
    pub joules_per_synaptic_event: Option<f64>,
    /// `rapl`, `nvml`, `modeled` or `unavailable`.
    pub energy_source: EnergySource,
    /// Why energy is empty, or how it was modelled.
    pub energy_note: Option<String>,
    /// Instructions per call: retired, from perf counters, in a timed run; executed, from
    /// callgrind, in an instruction-count run (see `metric_source`).
    pub instructions: Option<f64>,
    /// Core cycles per call (perf counters).
    pub cycles: Option<f64>,
    /// Last-level cache misses per call (perf counters).
    pub llc_misses: Option<f64>,
    /// FLOPs per call counted by FP_ARITH_INST_RETIRED, beside the analytic `flops`.
    pub measured_flops: Option<f64>,
    /// Bytes per call from memory-controller counters, beside the analytic `bytes`.
    pub measured_bytes: Option<f64>,
    /// Why counters are absent, or how instructions were counted.
    pub counters_note: Option<String>,
    /// Where the row's measured metric came from: `wall_clock` (timed run) or `callgrind`
    /// (instruction-count run); empty in files written before the column existed.
    #[serde(default)]
    pub metric_source: Option<MetricSource>,
    /// SIMD path the measured code took (`avx512`, `avx2_fma`, `scalar`), where recorded:
    /// instruction counts under valgrind take the AVX2 path on an AVX-512 machine.
    #[serde(default)]
    pub code_path: Option<String>,
    /// What the reference check compared.
    pub verification: Option<String>,
    /// `ok`, `failed` or `skipped`.
    pub status: Status,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
}

/// An empty row: no figures, energy `unavailable`, status `skipped`. Builders set what they
/// know and take the rest from here (`..SummaryRow::default()`).
impl Default for SummaryRow {
    fn default() -> SummaryRow {
        SummaryRow {
            run_id: String::new(),
            benchmark: String::new(),
            kernel: String::new(),
            backend: BackendKind::Cpu,
            device: String::new(),
            dtype: Dtype::F32,
            threads: 0,
            params: "{}".into(),
            median_s: None,
            ci_low_s: None,
            ci_high_s: None,
            mad_s: None,
            min_s: None,
            max_s: None,
            samples: 0,
            iters_per_sample: 0,
            outliers: 0,
            flops: 0.0,
            bytes: 0.0,
            gflops_per_s: None,
            gbytes_per_s: None,
            arithmetic_intensity: None,
            attainment: None,
            roof_level: None,
            theoretical_peak_gflops_per_s: None,
            clock_ghz_before: None,
            clock_ghz_after: None,
            flops_per_cycle_per_core: None,
            event_kind: None,
            events_per_call: None,
            energy_j: None,
            avg_power_w: None,
            gflops_per_joule: None,
            joules_per_synaptic_event: None,
            energy_source: EnergySource::Unavailable,
            energy_note: None,
            instructions: None,
            cycles: None,
            llc_misses: None,
            measured_flops: None,
            measured_bytes: None,
            counters_note: None,
            metric_source: None,
            code_path: None,
            verification: None,
            status: Status::Skipped,
            reason: None,
        }
    }
}

impl SummaryRow {
    /// The benchmark's parameters, from the row's `params` object (empty when it cannot be
    /// read). The one reader of `params`.
    pub fn params_object(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.params).unwrap_or_default()
    }

    /// The numeric parameter `name` of the benchmark (`None` when absent, not a number, or
    /// the object cannot be read).
    pub fn param(&self, name: &str) -> Option<f64> {
        self.params_object().get(name)?.as_f64()
    }

    /// Derives the row from a record.
    pub fn from_record(run_id: &str, r: &BenchRecord) -> SummaryRow {
        let ok = r.status == Status::Ok;
        let median = r.median().map(|s| s.0).filter(|_| ok);
        let per_call_energy = r
            .energy
            .energy
            .filter(|_| ok && r.sampled_calls > 0)
            .map(|e| e.0 / r.sampled_calls as f64);
        let events = r.events.filter(|_| ok);
        let per_call = |total: Option<f64>| {
            total
                .filter(|_| ok && r.sampled_calls > 0)
                .map(|t| t / r.sampled_calls as f64)
        };
        SummaryRow {
            run_id: run_id.to_string(),
            benchmark: r.benchmark.clone(),
            kernel: r.spec.kernel_name().to_string(),
            backend: r.backend,
            device: r.device.clone(),
            dtype: r.spec.dtype,
            threads: r.threads,
            params: params_json(&r.params).to_string(),
            median_s: median,
            ci_low_s: r.stats.map(|s| s.ci_low).filter(|_| ok),
            ci_high_s: r.stats.map(|s| s.ci_high).filter(|_| ok),
            mad_s: r.stats.map(|s| s.mad).filter(|_| ok),
            min_s: r.stats.map(|s| s.min).filter(|_| ok),
            max_s: r.stats.map(|s| s.max).filter(|_| ok),
            samples: r.samples.len() as u64,
            iters_per_sample: r.iters_per_sample,
            outliers: r.stats.map_or(0, |s| s.outliers as u64),
            flops: r.flops.0,
            bytes: r.bytes.0,
            gflops_per_s: r.flops_per_s().filter(|_| ok && r.flops.0 > 0.0).map(|f| f.0 / 1e9),
            gbytes_per_s: r.bytes_per_s().filter(|_| ok && r.bytes.0 > 0.0).map(|b| b.0 / 1e9),
            arithmetic_intensity: r.spec.arithmetic_intensity(),
            attainment: r.attainment.filter(|_| ok),
            roof_level: r.roof_level.filter(|_| ok),
            theoretical_peak_gflops_per_s: r.theoretical_peak_flops_per_s.map(|p| p.0 / 1e9),
            clock_ghz_before: r.clock_ghz_before,
            clock_ghz_after: r.clock_ghz_after,
            flops_per_cycle_per_core: r.flops_per_cycle_per_core().filter(|_| ok && r.flops.0 > 0.0),
            event_kind: events.map(|(k, _)| k),
            events_per_call: events.map(|(_, n)| n),
            energy_j: per_call_energy,
            avg_power_w: r.energy.avg_power.map(|w| w.0).filter(|_| ok),
            gflops_per_joule: per_call_energy
                .filter(|e| *e > 0.0 && r.flops.0 > 0.0)
                .map(|e| r.flops.0 / e / 1e9),
            joules_per_synaptic_event: match (per_call_energy, events) {
                (Some(e), Some((crate::kernels::EventKind::SynapticEvents, n))) if n > 0.0 => Some(e / n),
                _ => None,
            },
            energy_source: if ok { r.energy.source } else { EnergySource::Unavailable },
            energy_note: r.energy.reason.clone(),
            instructions: per_call(r.energy.counters.instructions),
            cycles: per_call(r.energy.counters.cycles),
            llc_misses: per_call(r.energy.counters.llc_misses),
            measured_flops: per_call(r.energy.counters.measured_flops.map(|f| f.0)),
            measured_bytes: per_call(r.energy.counters.measured_bytes.map(|b| b.0)),
            counters_note: r.energy.counters.reason.clone(),
            metric_source: Some(MetricSource::WallClock),
            verification: r.verification.as_ref().map(|v| v.detail.clone()),
            status: r.status,
            reason: r.reason.clone(),
            ..SummaryRow::default()
        }
    }
}

impl SummaryRow {
    /// The row of one instruction count (`braingap run --metric instructions`): no timing,
    /// analytic FLOPs and bytes, callgrind's instructions per call, the code path measured.
    pub fn from_instructions(
        run_id: &str,
        spec: &BenchSpec,
        m: &InstructionMeasurement,
        valgrind_version: &str,
    ) -> SummaryRow {
        let ok = m.child.status == Status::Ok;
        let file = m
            .callgrind_file
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        SummaryRow {
            run_id: run_id.to_string(),
            benchmark: spec.name(),
            kernel: spec.kernel_name().to_string(),
            backend: BackendKind::Cpu,
            device: "cpu".into(),
            dtype: spec.dtype,
            threads: 1,
            params: params_json(&spec.params()).to_string(),
            samples: 0,
            iters_per_sample: m.child.calls,
            outliers: 0,
            flops: spec.flops().0,
            bytes: spec.bytes().0,
            arithmetic_intensity: spec.arithmetic_intensity(),
            event_kind: spec.event_kind().filter(|_| ok),
            events_per_call: m.events_per_call().filter(|_| ok && spec.event_kind().is_some()),
            energy_source: EnergySource::Unavailable,
            energy_note: Some("instruction-count run: nothing timed, no energy".into()),
            instructions: m.instructions_per_call().filter(|_| ok),
            counters_note: Some(format!(
                "callgrind Ir over {} calls after a verified and a warm-up call, 1 thread, {valgrind_version}; \
                 output callgrind/{file}",
                m.child.calls
            )),
            metric_source: Some(MetricSource::Callgrind),
            code_path: Some(m.child.code_path.as_str().to_string()),
            verification: m.child.verification.clone(),
            status: m.child.status,
            reason: m.child.reason.clone(),
            ..SummaryRow::default()
        }
    }
}

/// One raw sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRow {
    /// Run id.
    pub run_id: String,
    /// Benchmark name.
    pub benchmark: String,
    /// Backend name.
    pub backend: BackendKind,
    /// 0-based sample index.
    pub sample: u64,
    /// Calls in the sample.
    pub iterations: u64,
    /// Wall time of the whole sample.
    pub batch_time_s: f64,
    /// Time per call.
    pub time_per_call_s: f64,
    /// Tukey class (`low_mild`, `high_severe`, ... or empty).
    pub outlier: String,
}

impl SampleRow {
    /// Rows of every sample of a record.
    pub fn from_record(run_id: &str, r: &BenchRecord) -> Vec<SampleRow> {
        r.samples
            .iter()
            .zip(&r.outliers)
            .enumerate()
            .map(|(i, (t, o))| SampleRow {
                run_id: run_id.to_string(),
                benchmark: r.benchmark.clone(),
                backend: r.backend,
                sample: i as u64,
                iterations: r.iters_per_sample,
                batch_time_s: t.0 * r.iters_per_sample as f64,
                time_per_call_s: t.0,
                outlier: o.as_str().to_string(),
            })
            .collect()
    }
}

/// Columns of `power_timeline.csv`.
pub const POWER_COLUMNS: &[&str] = &["benchmark", "t_s", "domain", "watts"];

/// One sampled power reading (`braingap run --power-timeline`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerRow {
    /// Benchmark being sampled.
    pub benchmark: String,
    /// Seconds since that benchmark's sampling started.
    pub t_s: f64,
    /// Energy domain, e.g. `package-0/package`.
    pub domain: String,
    /// Average power over the interval ending at `t_s`.
    pub watts: f64,
}

/// Encodes rows as CSV with a header (the header is written even with no rows).
pub fn to_csv<T: Serialize>(rows: &[T], columns: &[&str]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    writer.write_record(columns).expect("in-memory write");
    for row in rows {
        writer.serialize(row).expect("rows serialize");
    }
    writer.into_inner().expect("in-memory flush")
}

/// Reads a braingap CSV of `T` rows: its header must hold `required` (else `what` is named
/// as what the file is not); each row is deserialized and then passed to `check` with
/// the rows before it. Errors name the file, line and column.
fn read_checked<T: serde::de::DeserializeOwned>(
    path: &Path,
    required: &[&str],
    what: &str,
    mut check: impl FnMut(&T, &[T]) -> std::result::Result<(), String>,
) -> Result<Vec<T>> {
    let corrupt = |line: u64, reason: String| Error::Corrupt {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| corrupt(0, e.to_string()))?;
    let headers = reader.headers().map_err(|e| corrupt(1, e.to_string()))?.clone();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !headers.iter().any(|h| h == *c))
        .collect();
    if !missing.is_empty() {
        return Err(corrupt(
            1,
            format!("not a braingap {what}: missing column(s) {}", missing.join(", ")),
        ));
    }
    let mut rows = Vec::new();
    for (i, result) in reader.deserialize::<T>().enumerate() {
        let line = i as u64 + 2;
        let row = result.map_err(|e| {
            let line = e.position().map_or(line, |p| p.line());
            let reason = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                    Some(f) => format!("column {}: {}", headers.get(f as usize).unwrap_or("?"), err.kind()),
                    None => err.to_string(),
                },
                _ => e.to_string(),
            };
            corrupt(line, reason)
        })?;
        check(&row, &rows).map_err(|reason| corrupt(line, reason))?;
        rows.push(row);
    }
    Ok(rows)
}

/// Reads and validates a `summary.csv`; errors name the file and line.
pub fn read_summary(path: &Path) -> Result<Vec<SummaryRow>> {
    let required: Vec<&str> = SUMMARY_COLUMNS
        .iter()
        .copied()
        .filter(|c| !OPTIONAL_SUMMARY_COLUMNS.contains(c))
        .collect();
    read_checked(path, &required, "summary", |row: &SummaryRow, before| {
        check_values(row)?;
        let key = (&row.benchmark, &row.backend, &row.device, row.threads);
        match before
            .iter()
            .position(|r| (&r.benchmark, &r.backend, &r.device, r.threads) == key)
        {
            Some(first) => Err(format!(
                "column benchmark: {:?} ({} threads) appears twice (first on line {})",
                row.benchmark,
                row.threads,
                first + 2
            )),
            None => Ok(()),
        }
    })
}

/// Reads a `samples.csv`, checking each row's numbers: a sample is one or more calls
/// (`iterations` ≥ 1) whose times are finite and positive. Errors name the file, line and
/// column.
pub fn read_samples(path: &Path) -> Result<Vec<SampleRow>> {
    read_checked(path, SAMPLE_COLUMNS, "samples file", |row: &SampleRow, _| {
        for (column, value) in [
            ("batch_time_s", row.batch_time_s),
            ("time_per_call_s", row.time_per_call_s),
        ] {
            if !value.is_finite() || value <= 0.0 {
                return Err(format!("column {column}: {value} is not a positive finite time"));
            }
        }
        if row.iterations == 0 {
            return Err("column iterations: 0 calls in a sample".into());
        }
        Ok(())
    })
}

/// Every number a row stores must be finite and carry the sign its meaning requires: times,
/// work, rates, energies and powers are never negative. A row that breaks this is corrupt;
/// `compare` would otherwise print `NaN s, +0.0 %, unchanged`.
fn check_values(row: &SummaryRow) -> std::result::Result<(), String> {
    let non_negative: [(&str, Option<f64>); 26] = [
        ("median_s", row.median_s),
        ("ci_low_s", row.ci_low_s),
        ("ci_high_s", row.ci_high_s),
        ("mad_s", row.mad_s),
        ("min_s", row.min_s),
        ("max_s", row.max_s),
        ("flops", Some(row.flops)),
        ("bytes", Some(row.bytes)),
        ("gflops_per_s", row.gflops_per_s),
        ("gbytes_per_s", row.gbytes_per_s),
        ("arithmetic_intensity", row.arithmetic_intensity),
        ("attainment", row.attainment),
        ("theoretical_peak_gflops_per_s", row.theoretical_peak_gflops_per_s),
        ("clock_ghz_before", row.clock_ghz_before),
        ("clock_ghz_after", row.clock_ghz_after),
        ("flops_per_cycle_per_core", row.flops_per_cycle_per_core),
        ("events_per_call", row.events_per_call),
        ("energy_j", row.energy_j),
        ("avg_power_w", row.avg_power_w),
        ("gflops_per_joule", row.gflops_per_joule),
        ("joules_per_synaptic_event", row.joules_per_synaptic_event),
        ("instructions", row.instructions),
        ("cycles", row.cycles),
        ("llc_misses", row.llc_misses),
        ("measured_flops", row.measured_flops),
        ("measured_bytes", row.measured_bytes),
    ];
    for (column, value) in non_negative {
        match value {
            Some(v) if !v.is_finite() => return Err(format!("column {column}: {v} is not a finite number")),
            Some(v) if v < 0.0 => return Err(format!("column {column}: {v} is negative")),
            _ => {}
        }
    }
    if let (Some(low), Some(median), Some(high)) = (row.ci_low_s, row.median_s, row.ci_high_s) {
        // The bootstrap CI of the median holds the median (within rounding of the text form).
        let slack = 1e-9 * median.abs();
        if low > median + slack || median > high + slack {
            return Err(format!("column median_s: {median} lies outside its CI [{low}, {high}]"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::registry::SimdLevel;
    use crate::kernels::{Activation, ActivationOp, Dtype, Kernel};
    use crate::measure::instructions::ChildReport;

    fn instruction_row() -> SummaryRow {
        let spec = BenchSpec::new(
            Kernel::Activation(Activation {
                op: ActivationOp::Relu,
                n: 16,
            }),
            Dtype::F32,
        );
        let measurement = InstructionMeasurement {
            child: ChildReport {
                benchmark: spec.name(),
                code_path: SimdLevel::Avx2Fma,
                calls: 3,
                status: Status::Ok,
                reason: None,
                verification: Some("all 16 elements".into()),
                events: 0,
            },
            total_instructions: Some(3000),
            callgrind_file: "callgrind/000-activation_relu.out".into(),
            wall_seconds: 1.0,
        };
        SummaryRow::from_instructions("run", &spec, &measurement, "valgrind-3.19.0")
    }

    #[test]
    fn instruction_rows_carry_count_source_and_path() {
        let row = instruction_row();
        assert_eq!(row.instructions, Some(1000.0));
        assert_eq!(row.metric_source, Some(MetricSource::Callgrind));
        assert_eq!(row.code_path.as_deref(), Some("avx2_fma"));
        assert_eq!(row.median_s, None);
        assert_eq!(row.flops, 16.0);
    }

    #[test]
    fn files_without_the_newer_columns_still_read() {
        let full = to_csv(&[instruction_row()], SUMMARY_COLUMNS);
        let mut reader = csv::Reader::from_reader(full.as_slice());
        let header = reader.headers().unwrap().clone();
        let keep: Vec<usize> = (0..header.len())
            .filter(|&i| !OPTIONAL_SUMMARY_COLUMNS.contains(&&header[i]))
            .collect();
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(keep.iter().map(|&i| &header[i])).unwrap();
        for record in reader.records() {
            let record = record.unwrap();
            writer.write_record(keep.iter().map(|&i| &record[i])).unwrap();
        }
        let dir = std::env::temp_dir().join(format!("braingap-rows-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("summary.csv");
        std::fs::write(&path, writer.into_inner().unwrap()).unwrap();
        let rows = read_summary(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(rows[0].metric_source, None);
        assert_eq!(rows[0].code_path, None);
        assert_eq!(rows[0].instructions, Some(1000.0));
    }
}
