//! Meters: what a benchmark cost besides time (energy, hardware counters).
//!
//! The runner talks to one [`MeterSet`]: `start` right before the timed region,
//! `stop` right after, and gets back an [`EnergyRecord`] that never fails: a meter
//! that cannot run, or breaks mid-run, leaves its cells empty with a reason.
//!
//! Each source of readings is a [`Meter`] (start, read, stop, in the spirit of
//! criterion.rs's `Measurement`):
//!
//! - [`rapl`]: CPU package/core/uncore/DRAM energy from Linux powercap
//!   (`intel-rapl`, `amd-rapl`), with wraparound caught by a background
//!   [`sampler`];
//! - [`nvml`]: GPU energy from NVIDIA's management library, loaded at run time;
//! - [`perf`]: instructions, cycles, LLC misses and (Intel) floating-point
//!   operation counts through `perf_event_open`;
//! - [`model`]: the documented energy model used when nothing is measurable,
//!   and its least-squares calibration.
//!
//! An energy figure always carries its [`EnergySource`]; a modeled figure is
//! never reported as `rapl` or `nvml`.

pub mod imc;
pub mod model;
pub mod nvml;
pub mod perf;
pub mod rapl;
pub mod sampler;

use braingap_core::{diag, units};

use crate::units::{Bytes, Flops, Joules, Seconds, Watts};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

pub use model::{
    fit_coefficients, Calibration, CalibrationPoint, EnergyModel, JoulesPerByte, JoulesPerFlop, ModelBasis,
    ModelCoefficients,
};

/// Default period of power-timeline samples.
pub const DEFAULT_TIMELINE_INTERVAL: Duration = Duration::from_millis(100);

/// Where an energy figure came from. Closed set; shown beside every energy value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnergySource {
    /// Measured by Linux powercap (Intel/AMD RAPL).
    Rapl,
    /// Measured by NVIDIA's management library.
    Nvml,
    /// Computed by the documented energy model; not a measurement.
    Modeled,
    /// No figure.
    Unavailable,
}

impl EnergySource {
    /// The lowercase name stored in `summary.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            EnergySource::Rapl => "rapl",
            EnergySource::Nvml => "nvml",
            EnergySource::Modeled => "modeled",
            EnergySource::Unavailable => "unavailable",
        }
    }

    /// True for sources that read a physical meter.
    pub fn is_measured(self) -> bool {
        matches!(self, EnergySource::Rapl | EnergySource::Nvml)
    }
}

/// Why a meter, a domain or a counter could not produce a value.
///
/// The `Display` text is the reason shown by `braingap machine` and stored in
/// `meta.json`; it names the file or call involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeterError {
    /// No powercap RAPL zones under the sysfs root.
    #[error("no powercap in sysfs ({path})")]
    NoPowercap {
        /// The directory looked in.
        path: PathBuf,
    },
    /// A sysfs file exists but may not be read (since Linux 5.10 `energy_uj`
    /// is readable by root only).
    #[error("permission denied on {}", path.display())]
    PermissionDenied {
        /// The file.
        path: PathBuf,
    },
    /// A sysfs file could not be read.
    #[error("cannot read {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// A sysfs file held something other than what the kernel documents.
    #[error("malformed {}: {content:?}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What it held (trimmed, truncated).
        content: String,
    },
    /// An energy counter decreased by more than a wrap could explain.
    #[error("counter {} went backwards without a wrap ({previous} -> {current} uJ, range {range} uJ)", path.display())]
    CounterWentBackwards {
        /// The counter file.
        path: PathBuf,
        /// Previous raw reading.
        previous: u64,
        /// Current raw reading.
        current: u64,
        /// The counter's range.
        range: u64,
    },
    /// A counter decreased and its range is unknown, so a wrap cannot be undone.
    #[error("counter {} decreased ({previous} -> {current} uJ) and max_energy_range_uj is missing, so the wrap cannot be undone", path.display())]
    WrapWithoutRange {
        /// The counter file.
        path: PathBuf,
        /// Previous raw reading.
        previous: u64,
        /// Current raw reading.
        current: u64,
    },
    /// NVML could not be loaded or initialised.
    #[error("NVML library not found ({detail})")]
    NvmlNotFound {
        /// What the loader said.
        detail: String,
    },
    /// An NVML call failed.
    #[error("NVML {call} failed: {detail}")]
    Nvml {
        /// The call, e.g. `nvmlDeviceGetPowerUsage(0)`.
        call: String,
        /// NVML's message.
        detail: String,
    },
    /// NVML found no GPU.
    #[error("NVML reports no GPU")]
    NoGpu,
    /// `perf_event_open` refused because of the paranoia level.
    #[error("perf_event_paranoid={level} ({event}: {errno})")]
    PerfParanoid {
        /// The value of `/proc/sys/kernel/perf_event_paranoid`.
        level: i32,
        /// The event asked for.
        event: String,
        /// The errno name.
        errno: String,
    },
    /// The kernel or CPU does not provide the event (typical of VMs).
    #[error("hardware events not supported ({errno}; {event}{})", paranoid_note(*paranoid))]
    PerfUnsupported {
        /// The event asked for.
        event: String,
        /// The errno name, e.g. `ENOENT`.
        errno: String,
        /// The paranoia level, if readable.
        paranoid: Option<i32>,
    },
    /// Any other `perf_event_open`/read failure.
    #[error("perf {event}: {message}")]
    Perf {
        /// The event.
        event: String,
        /// The error.
        message: String,
    },
    /// The event only exists on another vendor's CPUs.
    #[error("{event} needs {needs}, this CPU is {found}")]
    WrongVendor {
        /// The event.
        event: String,
        /// Vendor required.
        needs: String,
        /// Vendor found.
        found: String,
    },
    /// A background sampler thread could not start.
    #[error("cannot start sampler thread: {0}")]
    Thread(String),
    /// `read`/`stop` called without `start`.
    #[error("meter {0} was not started")]
    NotStarted(&'static str),
    /// A meter gave up for a reason of its own.
    #[error("{0}")]
    Other(String),
}

fn paranoid_note(level: Option<i32>) -> String {
    level
        .map(|level| format!("; perf_event_paranoid={level}"))
        .unwrap_or_default()
}

/// A meter that cannot run here, and why (e.g. `no powercap in sysfs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    /// Meter name: `rapl`, `nvml`, `perf`, ...
    pub meter: String,
    /// Human-readable reason.
    pub reason: String,
}

impl Unavailable {
    /// A reason from a typed error.
    pub fn new(meter: &str, error: &MeterError) -> Unavailable {
        Unavailable {
            meter: meter.to_string(),
            reason: error.to_string(),
        }
    }
}

/// What the measured region did, as the runner knows it.
#[derive(Debug, Clone, Copy)]
pub struct WorkDone {
    /// Wall time of the metered region.
    pub elapsed: Seconds,
    /// Analytic FLOPs executed in the region.
    pub flops: Flops,
    /// Analytic compulsory bytes moved in the region.
    pub bytes: Bytes,
}

/// Energy of one domain (a RAPL zone or a GPU) over one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEnergy {
    /// The meter that read it.
    pub source: EnergySource,
    /// Socket or device, e.g. `package-0`, `gpu0`.
    pub unit: String,
    /// Domain within it: `package`, `core`, `uncore`, `dram`, `psys`, `gpu`.
    pub domain: String,
    /// How it was obtained: `counter` or `integrated-power`.
    pub method: String,
    /// Whether it enters [`EnergyRecord::energy`] (core and uncore lie inside
    /// package, psys spans the platform: they are shown, not added).
    pub counted: bool,
    /// The energy, when readable.
    pub energy: Option<Joules>,
    /// Why `energy` is empty.
    pub reason: Option<String>,
}

/// One hardware counter over one region, scaled for multiplexing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterValue {
    /// Name, e.g. `instructions`, `fp_arith_512b_packed_single`.
    pub name: String,
    /// Count (scaled by time enabled / time running when multiplexed).
    pub value: Option<f64>,
    /// Fraction of the region the counter was actually on the PMU.
    pub running_fraction: Option<f64>,
    /// Why `value` is empty.
    pub reason: Option<String>,
}

/// Measured counters of one region, beside (never in place of) the analytic counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HardwareCounters {
    /// Retired instructions.
    pub instructions: Option<f64>,
    /// Core cycles.
    pub cycles: Option<f64>,
    /// Last-level cache misses (`PERF_COUNT_HW_CACHE_MISSES`).
    pub llc_misses: Option<f64>,
    /// FLOPs from `FP_ARITH_INST_RETIRED` (each event weighted by its lanes; an
    /// FMA is counted twice by the hardware, matching METHODS.md).
    pub measured_flops: Option<Flops>,
    /// Bytes from memory-controller counters.
    pub measured_bytes: Option<Bytes>,
    /// Every counter read, raw.
    pub counters: Vec<CounterValue>,
    /// Why counters are absent, when they are.
    pub reason: Option<String>,
}

/// One point of a power timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerSample {
    /// Seconds since the region started (end of the sample's interval).
    pub t: Seconds,
    /// `package-0/package`, `gpu0/gpu`, ...
    pub domain: String,
    /// Average power over the interval ending at `t`.
    pub power: Watts,
}

/// Energy and counters for one metered region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyRecord {
    /// Energy of the region, if any meter or model produced one.
    pub energy: Option<Joules>,
    /// Average power over the region.
    pub avg_power: Option<Watts>,
    /// Where `energy` came from.
    pub source: EnergySource,
    /// Why `energy` is empty, when it is.
    pub reason: Option<String>,
    /// Every measured domain (also those not counted in `energy`).
    #[serde(default)]
    pub domains: Vec<DomainEnergy>,
    /// Hardware counters.
    #[serde(default)]
    pub counters: HardwareCounters,
    /// Power samples, when a timeline was requested.
    #[serde(default)]
    pub timeline: Vec<PowerSample>,
    /// The coefficients used when `source` is `modeled`.
    #[serde(default)]
    pub model: Option<ModelCoefficients>,
}

impl EnergyRecord {
    /// A record with no energy, for the given reason.
    pub fn unavailable(reason: impl Into<String>) -> EnergyRecord {
        EnergyRecord {
            energy: None,
            avg_power: None,
            source: EnergySource::Unavailable,
            reason: Some(reason.into()),
            domains: Vec::new(),
            counters: HardwareCounters::default(),
            timeline: Vec::new(),
            model: None,
        }
    }

    /// GFLOP per joule for `flops` of work, when energy is known and positive.
    pub fn gflops_per_joule(&self, flops: Flops) -> Option<f64> {
        let joules = self.energy?.get();
        (joules > 0.0).then(|| flops.get() / 1e9 / joules)
    }

    /// Joules per event (e.g. synaptic event), when energy is known.
    pub fn joules_per_event(&self, events: f64) -> Option<f64> {
        let joules = self.energy?.get();
        (events > 0.0).then(|| joules / events)
    }

    /// This record as a calibration point, if its energy was measured.
    pub fn calibration_point(&self, work: &WorkDone) -> Option<CalibrationPoint> {
        if !self.source.is_measured() {
            return None;
        }
        Some(CalibrationPoint {
            elapsed: work.elapsed,
            flops: work.flops,
            bytes: work.bytes,
            energy: self.energy?,
        })
    }
}

/// Which device's energy is the benchmark's energy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnergyTarget {
    /// RAPL if present, else NVML, else the model.
    #[default]
    Auto,
    /// The CPU (RAPL, else the CPU model).
    Cpu,
    /// The GPU (NVML; no GPU model exists, so otherwise unavailable).
    Gpu,
}

/// Configuration for meter detection.
#[derive(Debug, Clone, Default)]
pub struct MeterConfig {
    /// Sysfs root; `None` means `/sys` (the CLI passes `$BRAINGAP_SYSFS_ROOT`).
    pub sysfs_root: Option<PathBuf>,
    /// Procfs root; `None` means `/proc` (the CLI passes `$BRAINGAP_PROC_ROOT`).
    pub proc_root: Option<PathBuf>,
    /// Record a power timeline (`braingap run --power-timeline`).
    pub power_timeline: bool,
    /// Timeline period; `None` means [`DEFAULT_TIMELINE_INTERVAL`].
    pub timeline_interval: Option<Duration>,
    /// Calibration file written by `braingap calibrate-energy`; used when it
    /// exists and its machine matches `machine_id`.
    pub calibration: Option<PathBuf>,
    /// This machine's fingerprint id, matched against the calibration's.
    pub machine_id: Option<String>,
    /// Whose energy the record reports.
    pub target: EnergyTarget,
    /// The core clock measured for the run, GHz: scales the modeled power (`None`: the
    /// representative part's base clock).
    pub clock_ghz: Option<f64>,
    /// Skip NVML (tests; machines where loading it is unwanted).
    pub skip_nvml: bool,
    /// Skip perf counters.
    pub skip_perf: bool,
}

impl MeterConfig {
    /// The sysfs root in effect.
    pub fn sysfs_root(&self) -> PathBuf {
        self.sysfs_root.clone().unwrap_or_else(|| PathBuf::from("/sys"))
    }

    /// The procfs root in effect.
    pub fn proc_root(&self) -> PathBuf {
        self.proc_root.clone().unwrap_or_else(|| PathBuf::from("/proc"))
    }

    fn timeline_interval(&self) -> Option<Duration> {
        self.power_timeline
            .then(|| self.timeline_interval.unwrap_or(DEFAULT_TIMELINE_INTERVAL))
    }
}

/// What one reading of a meter holds; a meter fills the parts it measures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// Energy per domain since `start`.
    pub domains: Vec<DomainEnergy>,
    /// Counters since `start`.
    pub counters: Vec<CounterValue>,
    /// Power samples since `start` (only when a timeline was requested).
    pub timeline: Vec<PowerSample>,
}

/// A source of readings over a region, in the spirit of criterion.rs's
/// `Measurement`: `start` marks the beginning, `read` reports what accrued
/// since without ending the region, `stop` ends it.
///
/// Failures are values: a meter returns `Err` only when it has nothing at all
/// to report; a broken domain is a [`DomainEnergy`] with a reason.
pub trait Meter: Send {
    /// Short name: `rapl`, `nvml`, `perf`.
    fn name(&self) -> &'static str;
    /// One line on what it measures here, for `meta.json`.
    fn describe(&self) -> String;
    /// Marks the start of a region.
    fn start(&mut self) -> Result<(), MeterError>;
    /// What accrued since `start`.
    fn read(&mut self) -> Result<Reading, MeterError>;
    /// Ends the region and returns what accrued.
    fn stop(&mut self) -> Result<Reading, MeterError>;
}

/// An active meter as listed in `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveMeter {
    /// Meter name.
    pub meter: String,
    /// What it measures here.
    pub detail: String,
}

/// The meters of a run, as stored in `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterMeta {
    /// Meters attached.
    pub active: Vec<ActiveMeter>,
    /// Meters not attached, with reasons.
    pub unavailable: Vec<Unavailable>,
    /// Where benchmark energies of this run come from (`modeled` when no meter
    /// for the target exists).
    pub energy_source: EnergySource,
    /// The energy model and its provenance (always listed; it is *used* only
    /// when `energy_source` is `modeled`).
    pub model: EnergyModel,
    /// Notes, e.g. a calibration file that was ignored and why.
    pub notes: Vec<String>,
    /// Power-timeline period, when requested.
    pub timeline_interval: Option<Seconds>,
}

/// The meters attached to a run.
#[derive(Default)]
pub struct MeterSet {
    meters: Vec<Box<dyn Meter>>,
    unavailable: Vec<Unavailable>,
    model: EnergyModel,
    /// False only for [`MeterSet::none`]: no meters and no model.
    use_model: bool,
    notes: Vec<String>,
    target: EnergyTarget,
    timeline_interval: Option<Duration>,
    /// Per-meter failure at `start`, reported at `stop`.
    start_failures: Vec<(usize, MeterError)>,
}

impl std::fmt::Debug for MeterSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeterSet")
            .field("meters", &self.meters.iter().map(|m| m.name()).collect::<Vec<_>>())
            .field("unavailable", &self.unavailable)
            .field("model", &self.model)
            .field("target", &self.target)
            .finish()
    }
}

impl MeterSet {
    /// Detects the meters this machine offers. Never fails: what cannot run is
    /// listed in [`MeterSet::unavailable`].
    pub fn detect(config: &MeterConfig) -> MeterSet {
        let nvml = if config.skip_nvml {
            None
        } else {
            Some(nvml::RealNvml::load().map(|api| Box::new(api) as Box<dyn nvml::NvmlApi>))
        };
        MeterSet::detect_with_nvml(config, nvml)
    }

    /// Like [`MeterSet::detect`], with the NVML binding given (a fake in
    /// tests); `None` leaves NVML out without a reason.
    pub fn detect_with_nvml(
        config: &MeterConfig,
        nvml_api: Option<Result<Box<dyn nvml::NvmlApi>, MeterError>>,
    ) -> MeterSet {
        let sysfs = config.sysfs_root();
        let proc_root = config.proc_root();
        let timeline = config.timeline_interval();
        let mut set = MeterSet {
            target: config.target,
            timeline_interval: timeline,
            use_model: true,
            ..MeterSet::default()
        };

        match rapl::RaplMeter::detect(&sysfs, timeline) {
            Ok(meter) => set.meters.push(Box::new(meter)),
            Err(error) => set.unavailable.push(Unavailable::new("rapl", &error)),
        }
        match nvml_api {
            None => {}
            Some(Err(error)) => set.unavailable.push(Unavailable::new("nvml", &error)),
            Some(Ok(api)) => match nvml::NvmlMeter::detect(api, timeline) {
                Ok(meter) => set.meters.push(Box::new(meter)),
                Err(error) => set.unavailable.push(Unavailable::new("nvml", &error)),
            },
        }
        if !config.skip_perf {
            // When no event opens, `missing` starts with a meter-level `perf` entry.
            let (meter, missing) = perf::PerfMeter::detect(&proc_root);
            if let Some(meter) = meter {
                set.meters.push(Box::new(meter));
            }
            set.unavailable.extend(missing);
            match imc::ImcMeter::detect(&sysfs, perf::paranoid_level(&proc_root)) {
                Ok(meter) => set.meters.push(Box::new(meter)),
                Err(unavailable) => set.unavailable.push(unavailable),
            }
        }

        let cpu = model::CpuDescription::read(&proc_root);
        set.model = EnergyModel::published_default(&cpu, config.clock_ghz);
        if let Some(path) = &config.calibration {
            match Calibration::load(path) {
                Ok(calibration) => match (&config.machine_id, &calibration.machine) {
                    (Some(ours), theirs) if ours != theirs => set.notes.push(format!(
                        "calibration {} is for machine {theirs}, not {ours}; using published defaults",
                        path.display()
                    )),
                    _ => set.model = calibration.model(path),
                },
                Err(model::CalibrationError::Io { ref source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    let note = format!("calibration ignored: {error}; using published defaults");
                    crate::diag!("warning: {note}");
                    set.notes.push(note);
                }
            }
        }
        set
    }

    /// Assembles a set from given meters (tests, fakes).
    pub fn from_meters(
        meters: Vec<Box<dyn Meter>>,
        unavailable: Vec<Unavailable>,
        model: EnergyModel,
        target: EnergyTarget,
    ) -> MeterSet {
        MeterSet {
            meters,
            unavailable,
            model,
            target,
            use_model: true,
            ..MeterSet::default()
        }
    }

    /// A set with no meters and no model (tests, fake backend): every record
    /// is `unavailable` with the reason `no energy meter attached`.
    pub fn none() -> MeterSet {
        MeterSet::default()
    }

    /// Meters that could not be attached, with reasons.
    pub fn unavailable(&self) -> &[Unavailable] {
        &self.unavailable
    }

    /// Names and details of the attached meters.
    pub fn active(&self) -> Vec<ActiveMeter> {
        self.meters
            .iter()
            .map(|m| ActiveMeter {
                meter: m.name().to_string(),
                detail: m.describe(),
            })
            .collect()
    }

    fn has_meter(&self, name: &str) -> bool {
        self.meters.iter().any(|m| m.name() == name)
    }

    /// The model used when no meter covers the target.
    pub fn model(&self) -> &EnergyModel {
        &self.model
    }

    /// Replaces the model (e.g. after `calibrate-energy`).
    pub fn set_model(&mut self, model: EnergyModel) {
        self.model = model;
    }

    /// Chooses whose energy the records report (a GPU backend sets `Gpu`).
    pub fn set_target(&mut self, target: EnergyTarget) {
        self.target = target;
    }

    /// The source benchmark energies will have, if no meter breaks.
    pub fn energy_source(&self) -> EnergySource {
        let rapl = self.has_meter("rapl");
        let nvml = self.has_meter("nvml");
        if !self.use_model && !rapl && !nvml {
            return EnergySource::Unavailable;
        }
        match (self.target, rapl, nvml) {
            (EnergyTarget::Auto | EnergyTarget::Cpu, true, _) => EnergySource::Rapl,
            (EnergyTarget::Auto, false, true) | (EnergyTarget::Gpu, _, true) => EnergySource::Nvml,
            (EnergyTarget::Auto | EnergyTarget::Cpu, false, _) => EnergySource::Modeled,
            (EnergyTarget::Gpu, _, false) => EnergySource::Unavailable,
        }
    }

    /// The serializable description stored in `meta.json`.
    pub fn meta(&self) -> MeterMeta {
        MeterMeta {
            active: self.active(),
            unavailable: self.unavailable.clone(),
            energy_source: self.energy_source(),
            model: self.model.clone(),
            notes: self.notes.clone(),
            timeline_interval: self.timeline_interval.map(Seconds::from_duration),
        }
    }

    /// Called right before the timed region.
    pub fn start(&mut self) {
        self.start_failures.clear();
        for (index, meter) in self.meters.iter_mut().enumerate() {
            if let Err(error) = meter.start() {
                self.start_failures.push((index, error));
            }
        }
    }

    /// Called right after the timed region; never fails.
    pub fn stop(&mut self, work: &WorkDone) -> EnergyRecord {
        let mut reading = Reading::default();
        let mut failures: Vec<(&'static str, String)> = Vec::new();
        for (index, meter) in self.meters.iter_mut().enumerate() {
            let name = meter.name();
            if let Some((_, error)) = self.start_failures.iter().find(|(i, _)| *i == index) {
                failures.push((name, error.to_string()));
                continue;
            }
            match meter.stop() {
                Ok(part) => {
                    reading.domains.extend(part.domains);
                    reading.counters.extend(part.counters);
                    reading.timeline.extend(part.timeline);
                }
                Err(error) => failures.push((name, error.to_string())),
            }
        }
        self.start_failures.clear();
        self.assemble(work, reading, &failures)
    }

    fn assemble(&self, work: &WorkDone, reading: Reading, failures: &[(&'static str, String)]) -> EnergyRecord {
        let source = self.energy_source();
        let mut record = EnergyRecord::unavailable("");
        record.counters = perf::summarize(&reading.counters);
        if let Some((_, why)) = failures.iter().find(|(name, _)| *name == "perf") {
            record.counters.reason = Some(why.clone());
        } else if record.counters.counters.is_empty() {
            record.counters.reason = self
                .unavailable
                .iter()
                .find(|u| u.meter == "perf")
                .map(|u| u.reason.clone());
        }
        record.timeline = reading.timeline;
        record.source = source;
        let (energy, reason) = match source {
            EnergySource::Rapl | EnergySource::Nvml => {
                let meter = source.as_str();
                match failures.iter().find(|(name, _)| *name == meter) {
                    Some((_, why)) => (None, Some(format!("{meter}: {why}"))),
                    None => total_of(&reading.domains, source, work.elapsed),
                }
            }
            EnergySource::Modeled => {
                record.model = Some(self.model.coefficients);
                (Some(self.model.energy(work)), None)
            }
            EnergySource::Unavailable if !self.use_model => (None, Some("no energy meter attached".into())),
            EnergySource::Unavailable => (
                None,
                Some(
                    self.unavailable
                        .iter()
                        .find(|u| u.meter == "nvml")
                        .map(|u| format!("nvml: {}", u.reason))
                        .unwrap_or_else(|| "no GPU energy meter".into()),
                ),
            ),
        };
        if energy.is_none() {
            // An empty cell is `unavailable`, whatever was planned; the reason says why.
            record.source = EnergySource::Unavailable;
        }
        record.domains = reading.domains;
        record.energy = energy;
        record.reason = reason;
        record.avg_power = energy
            .filter(|_| work.elapsed.get() > 0.0)
            .map(|e| e.over(work.elapsed));
        record
    }
}

/// Shortest region over which a counter that reads zero is taken as stopped rather than not
/// yet updated (RAPL updates about every millisecond, NVML's energy counter every 20–100 ms).
pub const STOPPED_METER_MIN_REGION: Seconds = Seconds(0.2);

/// Sums the counted domains of `source`; any counted domain without a value
/// empties the total (a partial sum would understate the energy). A domain that did not
/// advance over a region of at least [`STOPPED_METER_MIN_REGION`] in which work ran has
/// stopped (a frozen or virtualised counter): it is no measurement, and empties the total
/// with that reason rather than recording 0 J.
fn total_of(domains: &[DomainEnergy], source: EnergySource, elapsed: Seconds) -> (Option<Joules>, Option<String>) {
    let counted: Vec<&DomainEnergy> = domains.iter().filter(|d| d.source == source && d.counted).collect();
    if counted.is_empty() {
        return (None, Some(format!("{}: no domain to count", source.as_str())));
    }
    let stopped = |d: &DomainEnergy| d.energy.is_some_and(|e| e.0 <= 0.0) && elapsed.0 >= STOPPED_METER_MIN_REGION.0;
    let broken: Vec<String> = counted
        .iter()
        .filter(|d| d.energy.is_none() || stopped(d))
        .map(|d| match d.energy {
            Some(_) => format!(
                "{}/{}: the counter did not advance over {:.2} s of work (stopped or frozen); not a measurement",
                d.unit, d.domain, elapsed.0
            ),
            None => format!("{}/{}: {}", d.unit, d.domain, d.reason.as_deref().unwrap_or("no value")),
        })
        .collect();
    if !broken.is_empty() {
        return (None, Some(format!("{}: {}", source.as_str(), broken.join("; "))));
    }
    (Some(counted.iter().filter_map(|d| d.energy).sum()), None)
}

#[cfg(test)]
mod tests;
