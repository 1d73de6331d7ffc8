//! The energy model used where nothing is measurable, and its calibration.
//!
//! `E = P_idle · t + e_flop · FLOPs + e_byte · bytes`
//!
//! # Default coefficients
//!
//! Per-operation energies are Horowitz's, "Computing's energy problem (and what
//! we can do about it)", ISSCC 2014, for 45 nm at 0.9 V: FP32 add 0.9 pJ,
//! FP32 multiply 3.7 pJ (an FMA, 2 FLOP, ≈ 4.6 pJ: 2.3 pJ/FLOP), about 70 pJ
//! of instruction overhead (fetch, decode, register file, control) per
//! instruction, and 1.3–2.6 nJ per 64-bit DRAM access.
//!
//! - `e_flop` = (2.3 pJ + 70 pJ / FLOPs per instruction at the widest FP32
//!   vector the CPU has: 32 for AVX-512 FMA, 16 for AVX2, 8 for SSE) scaled to
//!   the detected process node by first-order CMOS dynamic energy C·V²:
//!   `(node / 45 nm) · (0.75 V / 0.9 V)²` below 45 nm (0.75 V is an assumed
//!   core voltage, not a measurement).
//! - `e_byte` = 1.95 nJ / 8 B ≈ 244 pJ/B, the midpoint of Horowitz's DRAM
//!   range, not scaled (DRAM interface energy does not follow the logic node;
//!   this 45 nm-era figure likely overstates DDR4/DDR5).
//! - `P_idle` = half the TDP share of the logical CPUs this process sees,
//!   with the TDP per hardware thread of a representative server part of the
//!   detected generation (VMs hide the part number). Half is a round
//!   assumption for static and uncore power under load.
//!
//! The per-operation figures leave out on-chip data movement beyond the
//! instruction overhead, so the model tends to understate dynamic energy; its
//! figures are estimates to an order of magnitude and are always labelled
//! `modeled`. Where a real meter exists, `braingap calibrate-energy` fits the
//! three coefficients by non-negative least squares ([`fit_coefficients`]) and
//! stores them ([`Calibration`]) for the machine's later runs.

use super::{EnergySource, WorkDone};
use crate::units::{Joules, Watts};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// Energy per floating-point operation, in joules.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JoulesPerFlop(pub f64);

/// Energy per byte moved, in joules.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JoulesPerByte(pub f64);

impl fmt::Display for JoulesPerFlop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::units::si(self.0, "J/FLOP"))
    }
}

impl fmt::Display for JoulesPerByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::units::si(self.0, "J/B"))
    }
}

/// The three coefficients of the model.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ModelCoefficients {
    /// Power drawn regardless of work while the benchmark runs.
    pub idle_power: Watts,
    /// Energy per FLOP.
    pub joules_per_flop: JoulesPerFlop,
    /// Energy per byte of compulsory traffic.
    pub joules_per_byte: JoulesPerByte,
}

impl ModelCoefficients {
    /// `P_idle · t + e_flop · FLOPs + e_byte · bytes`.
    pub fn energy(&self, work: &WorkDone) -> Joules {
        Joules(
            self.idle_power.get() * work.elapsed.get()
                + self.joules_per_flop.0 * work.flops.get()
                + self.joules_per_byte.0 * work.bytes.get(),
        )
    }
}

/// Where the coefficients came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ModelBasis {
    /// Published per-operation energies and TDP, with every assumption listed.
    Published {
        /// Process node assumed, in nm.
        node_nm: f64,
        /// How the node and TDP were chosen.
        detected_as: String,
        /// Citations.
        sources: Vec<String>,
        /// Assumptions made.
        assumptions: Vec<String>,
    },
    /// Fitted on this machine by `braingap calibrate-energy`.
    Calibrated {
        /// The calibration file.
        file: PathBuf,
        /// Machine id it was fitted on.
        machine: String,
        /// The meter that measured the points.
        measured_by: EnergySource,
        /// Quality of the fit.
        fit: FitQuality,
    },
}

/// The energy model in effect, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyModel {
    /// `E = P_idle·t + e_flop·FLOPs + e_byte·bytes`.
    pub formula: String,
    /// Coefficients.
    pub coefficients: ModelCoefficients,
    /// Provenance.
    pub basis: ModelBasis,
}

impl Default for EnergyModel {
    fn default() -> Self {
        EnergyModel::published_default(&CpuDescription::default(), None)
    }
}

/// What the model needs to know about the CPU.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuDescription {
    /// `vendor_id`, e.g. `GenuineIntel`.
    pub vendor: String,
    /// `model name`.
    pub model_name: String,
    /// Logical CPUs listed.
    pub logical_cpus: usize,
    /// Feature flags of the first CPU.
    pub flags: HashSet<String>,
}

impl CpuDescription {
    /// Reads `<proc_root>/cpuinfo`; missing fields stay empty.
    pub fn read(proc_root: &Path) -> CpuDescription {
        std::fs::read_to_string(proc_root.join("cpuinfo"))
            .map(|text| CpuDescription::parse(&text))
            .unwrap_or_default()
    }

    /// Parses cpuinfo text.
    pub fn parse(text: &str) -> CpuDescription {
        let field = |key: &str| {
            text.lines()
                .find(|l| l.split(':').next().map(str::trim) == Some(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        CpuDescription {
            vendor: field("vendor_id"),
            model_name: field("model name"),
            logical_cpus: text
                .lines()
                .filter(|l| l.split(':').next().map(str::trim) == Some("processor"))
                .count(),
            flags: field("flags").split_whitespace().map(str::to_string).collect(),
        }
    }

    fn has(&self, flag: &str) -> bool {
        self.flags.contains(flag)
    }
}

/// A generation guess: a representative server part of the detected generation, with its
/// vendor figures (TDP, cores, base clock, FP32 FLOP per cycle per core).
struct Generation {
    node_nm: f64,
    tdp_w: f64,
    cores: f64,
    base_ghz: f64,
    flops_per_cycle_per_core: f64,
    detected_as: String,
}

impl Generation {
    /// The part's FP32 peak at base clock, FLOP/s.
    fn peak_flops(&self) -> f64 {
        self.cores * self.flops_per_cycle_per_core * self.base_ghz * 1e9
    }
}

fn generation(cpu: &CpuDescription) -> Generation {
    let guess = |node_nm, tdp_w: f64, cores: f64, base_ghz: f64, fpc: f64, part: &str, why: &str| Generation {
        node_nm,
        tdp_w,
        cores,
        base_ghz,
        flops_per_cycle_per_core: fpc,
        detected_as: format!(
            "{why}: assumed {part} ({node_nm} nm class, {tdp_w} W TDP, {cores} cores, {base_ghz} GHz base, \
             {fpc} FP32 FLOP/cycle/core)"
        ),
    };
    let intel = cpu.vendor == "GenuineIntel";
    let amd = cpu.vendor == "AuthenticAMD";
    if intel && cpu.has("amx_tile") {
        guess(
            10.0,
            350.0,
            56.0,
            2.0,
            64.0,
            "Xeon Platinum 8480+ (Sapphire Rapids, Intel 7; two AVX-512 FMA units)",
            "Intel with AMX",
        )
    } else if intel && cpu.has("avx512_vbmi2") {
        guess(
            10.0,
            270.0,
            40.0,
            2.3,
            64.0,
            "Xeon Platinum 8380 (Ice Lake-SP; two AVX-512 FMA units)",
            "Intel with AVX512_VBMI2, no AMX",
        )
    } else if intel && cpu.has("avx512f") {
        guess(
            14.0,
            205.0,
            28.0,
            2.7,
            64.0,
            "Xeon Platinum 8280 (Cascade Lake; two AVX-512 FMA units)",
            "Intel with AVX-512F only",
        )
    } else if amd && cpu.has("avx512f") {
        guess(
            5.0,
            360.0,
            96.0,
            2.4,
            32.0,
            "EPYC 9654 (Zen 4; AVX-512 on two 256-bit FMA pipes)",
            "AMD with AVX-512",
        )
    } else if amd {
        guess(
            7.0,
            280.0,
            64.0,
            2.45,
            32.0,
            "EPYC 7763 (Zen 3; two 256-bit FMA pipes)",
            "AMD without AVX-512",
        )
    } else {
        let fpc = if cpu.has("avx2") && cpu.has("fma") { 32.0 } else { 8.0 };
        Generation {
            node_nm: 14.0,
            tdp_w: 6.0,
            cores: 1.0,
            base_ghz: 2.5,
            flops_per_cycle_per_core: fpc,
            detected_as: format!(
                "unrecognised CPU {:?} ({:?}): assumed 14 nm, 6 W per core, 2.5 GHz base, {fpc} FP32 FLOP/cycle/core",
                cpu.model_name, cpu.vendor
            ),
        }
    }
}

/// Horowitz 2014: DRAM 1.3–2.6 nJ per 64-bit access, midpoint per byte.
const DRAM_PER_BYTE: f64 = (1.3e-9 + 2.6e-9) / 2.0 / 8.0;
/// Share of a core's package power that does not scale with the work done (static, uncore,
/// clocks): an assumption.
const STATIC_SHARE: f64 = 0.5;

/// How far a figure of the published-defaults model may be off, as a factor either way
/// (the static share, the clock's effect on voltage and the package's other tenants are not
/// known): a modeled value `v` is shown as the range `v / MODEL_UNCERTAINTY` to
/// `v × MODEL_UNCERTAINTY`.
pub const MODEL_UNCERTAINTY: f64 = 2.0;

impl EnergyModel {
    /// Defaults from the vendor figures of a representative part of `cpu`'s generation, for a
    /// slice of `cpu.logical_cpus` CPUs running at `clock_ghz` (the probe's reading; `None`:
    /// the part's base clock).
    ///
    /// Each logical CPU of the slice is charged a whole core's share of the package power,
    /// TDP ÷ cores (a vCPU whose SMT sibling idles gets a whole core's throughput, so a
    /// thread's share would overstate its FLOP/J), scaled by clock ÷ base clock. Half of it
    /// is static (`P_idle`); the other half is spent at the part's peak FLOP rate, which
    /// fixes `e_flop` = ½ TDP ÷ peak. So at any clock, a slice running at its peak comes out
    /// at exactly the part's peak ÷ TDP, the report's upper bound for that CPU, and below
    /// it at lower rates. `e_byte` is DRAM energy (off the package).
    pub fn published_default(cpu: &CpuDescription, clock_ghz: Option<f64>) -> EnergyModel {
        let generation = generation(cpu);
        let slice = cpu.logical_cpus.max(1) as f64;
        let clock_ratio = clock_ghz
            .filter(|g| g.is_finite() && *g > 0.0)
            .map_or(1.0, |g| (g / generation.base_ghz).clamp(0.25, 3.0));
        let core_power = generation.tdp_w / generation.cores;
        let idle = STATIC_SHARE * core_power * slice * clock_ratio;
        let per_flop = (1.0 - STATIC_SHARE) * generation.tdp_w / generation.peak_flops();
        let peak_gflops = generation.peak_flops() / 1e9;
        let bound = peak_gflops / generation.tdp_w;
        EnergyModel {
            formula: "E = P_idle*t + e_flop*FLOPs + e_byte*bytes".into(),
            coefficients: ModelCoefficients {
                idle_power: Watts(idle),
                joules_per_flop: JoulesPerFlop(per_flop),
                joules_per_byte: JoulesPerByte(DRAM_PER_BYTE),
            },
            basis: ModelBasis::Published {
                node_nm: generation.node_nm,
                detected_as: generation.detected_as,
                sources: vec![
                    "vendor specifications of the representative part named in detected_as: TDP, cores, base clock; \
                     FP32 FLOP per cycle per core from its FMA units (Intel and AMD optimisation manuals)"
                        .into(),
                    "M. Horowitz, Computing's energy problem (and what we can do about it), ISSCC 2014: DRAM 1.3-2.6 nJ \
                     per 64-bit access"
                        .into(),
                ],
                assumptions: vec![
                    format!(
                        "each of the {slice} logical CPUs draws a whole core's share of the package, TDP / cores = \
                         {core_power:.3} W, scaled by clock / base clock = {clock_ratio:.3}"
                    ),
                    format!("P_idle: the static share {STATIC_SHARE} of that power"),
                    format!(
                        "e_flop: the other {:.1} of the part's TDP spent at its FP32 peak ({:.0} GFLOP/s at base clock): \
                         a slice at peak comes out at the part's peak / TDP = {bound:.1} GFLOP/J, the upper bound, and \
                         lower below peak",
                        1.0 - STATIC_SHARE,
                        peak_gflops
                    ),
                    "e_byte: DRAM midpoint 1.95 nJ per 8 B; compulsory bytes assumed to reach DRAM".into(),
                    format!(
                        "uncertain by about {MODEL_UNCERTAINTY}x either way: the static share, the clock's effect on \
                         voltage and the other tenants of the package are not known"
                    ),
                ],
            },
        }
    }

    /// Modeled energy of `work`.
    pub fn energy(&self, work: &WorkDone) -> Joules {
        self.coefficients.energy(work)
    }
}

/// One measured region for calibration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationPoint {
    /// Wall time.
    pub elapsed: crate::units::Seconds,
    /// Analytic FLOPs.
    pub flops: crate::units::Flops,
    /// Analytic bytes.
    pub bytes: crate::units::Bytes,
    /// Measured energy.
    pub energy: Joules,
}

/// How well a fit explains its points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitQuality {
    /// Points used.
    pub points: usize,
    /// Coefficient of determination.
    pub r_squared: f64,
    /// Root-mean-square residual.
    pub rms_residual: Joules,
    /// Coefficients pinned at zero by the non-negativity constraint.
    pub pinned_at_zero: Vec<String>,
}

/// Why a fit failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Fewer than three points for three coefficients.
    #[error("need at least 3 calibration points, got {0}")]
    TooFewPoints(usize),
    /// A point has a non-finite or negative value.
    #[error("calibration point {index} is not finite and non-negative")]
    BadPoint {
        /// Its index.
        index: usize,
    },
    /// The points do not determine any coefficient (e.g. all zero).
    #[error("calibration points do not determine the coefficients (degenerate design)")]
    Degenerate,
}

const COEFFICIENT_NAMES: [&str; 3] = ["idle_power", "joules_per_flop", "joules_per_byte"];

/// Solves the k×k system `a x = b` by Gaussian elimination with partial
/// pivoting; `None` when singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let k = b.len();
    let scale = a
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    for col in 0..k {
        let pivot = (col..k).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for (offset, row) in lower.iter_mut().enumerate() {
            let factor = row[col] / pivot_row[col];
            for (value, pivot_value) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *value -= factor * pivot_value;
            }
            b[col + 1 + offset] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; k];
    for row in (0..k).rev() {
        let tail: f64 = (row + 1..k).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    Some(x)
}

/// Fits `E = P_idle·t + e_flop·F + e_byte·B` to measured points by
/// non-negative least squares.
///
/// With three unknowns the exact NNLS solution is found by solving ordinary
/// least squares on every subset of coefficients (the others pinned at zero)
/// and keeping the feasible solution with the smallest residual. Columns are
/// scaled to unit maximum before solving, since seconds, FLOPs and bytes
/// differ by twelve orders of magnitude.
pub fn fit_coefficients(points: &[CalibrationPoint]) -> Result<(ModelCoefficients, FitQuality), FitError> {
    if points.len() < 3 {
        return Err(FitError::TooFewPoints(points.len()));
    }
    let mut rows = Vec::with_capacity(points.len());
    for (index, p) in points.iter().enumerate() {
        let row = [p.elapsed.get(), p.flops.get(), p.bytes.get(), p.energy.get()];
        if row.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(FitError::BadPoint { index });
        }
        rows.push(row);
    }
    let scales: Vec<f64> = (0..3).map(|c| rows.iter().fold(0.0f64, |m, r| m.max(r[c]))).collect();

    let residual_ss = |x: &[f64; 3]| -> f64 {
        rows.iter()
            .map(|r| {
                let predicted: f64 = (0..3).map(|c| x[c] * r[c]).sum();
                (r[3] - predicted).powi(2)
            })
            .sum()
    };

    let mut best: Option<([f64; 3], f64)> = None;
    for mask in 1u8..8 {
        let active: Vec<usize> = (0..3).filter(|c| mask & (1 << c) != 0 && scales[*c] > 0.0).collect();
        if active.len() != mask.count_ones() as usize {
            continue;
        }
        let k = active.len();
        let mut ata = vec![vec![0.0; k]; k];
        let mut atb = vec![0.0; k];
        for r in &rows {
            for (i, &ci) in active.iter().enumerate() {
                let xi = r[ci] / scales[ci];
                atb[i] += xi * r[3];
                for (j, &cj) in active.iter().enumerate() {
                    ata[i][j] += xi * r[cj] / scales[cj];
                }
            }
        }
        let Some(solution) = solve(ata, atb) else {
            continue;
        };
        if solution.iter().any(|v| *v < 0.0 || !v.is_finite()) {
            continue;
        }
        let mut x = [0.0; 3];
        for (i, &c) in active.iter().enumerate() {
            x[c] = solution[i] / scales[c];
        }
        let ss = residual_ss(&x);
        if best.is_none_or(|(_, b)| ss < b * (1.0 - 1e-12)) {
            best = Some((x, ss));
        }
    }
    let (x, ss) = best.ok_or(FitError::Degenerate)?;
    let n = rows.len() as f64;
    let mean = rows.iter().map(|r| r[3]).sum::<f64>() / n;
    let total: f64 = rows.iter().map(|r| (r[3] - mean).powi(2)).sum();
    let quality = FitQuality {
        points: rows.len(),
        r_squared: if total > 0.0 { 1.0 - ss / total } else { 1.0 },
        rms_residual: Joules((ss / n).sqrt()),
        pinned_at_zero: (0..3)
            .filter(|&c| x[c] == 0.0)
            .map(|c| COEFFICIENT_NAMES[c].to_string())
            .collect(),
    };
    Ok((
        ModelCoefficients {
            idle_power: Watts(x[0]),
            joules_per_flop: JoulesPerFlop(x[1]),
            joules_per_byte: JoulesPerByte(x[2]),
        },
        quality,
    ))
}

/// Version of the calibration file format.
pub const CALIBRATION_SCHEMA_VERSION: u32 = 1;
/// File name `calibrate-energy` writes beside the results.
pub const CALIBRATION_FILE: &str = "energy-calibration.json";

/// Coefficients fitted on one machine, as stored by `braingap calibrate-energy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// [`CALIBRATION_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Machine fingerprint id.
    pub machine: String,
    /// The meter that measured the points (`rapl` or `nvml`).
    pub measured_by: EnergySource,
    /// Fitted coefficients.
    pub coefficients: ModelCoefficients,
    /// Fit quality.
    pub fit: FitQuality,
    /// The points fitted (raw samples kept beside the estimate).
    pub points: Vec<CalibrationPoint>,
}

/// Why a calibration file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// File-system error.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// JSON error, with line and column.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// What serde said.
        message: String,
    },
    /// A schema this version does not read.
    #[error("{}: schema_version {found}, expected {CALIBRATION_SCHEMA_VERSION}", path.display())]
    Schema {
        /// The file.
        path: PathBuf,
        /// Version found.
        found: u32,
    },
    /// A coefficient outside physical bounds.
    #[error("{}: {reason}", path.display())]
    OutOfBounds {
        /// The file.
        path: PathBuf,
        /// Which coefficient and why.
        reason: String,
    },
    /// Points measured by the model itself.
    #[error("calibration needs measured energy, got {0:?}")]
    NotMeasured(EnergySource),
    /// The fit failed.
    #[error(transparent)]
    Fit(#[from] FitError),
}

/// Largest idle power a calibration may carry: a whole multi-socket node.
pub const MAX_IDLE_POWER_W: f64 = 5000.0;
/// Largest energy per FLOP or per byte a calibration may carry (a millionfold above any chip).
pub const MAX_JOULES_PER_UNIT: f64 = 1e-6;

impl Calibration {
    /// Fits `points` measured by `measured_by` on `machine`.
    pub fn fit(
        machine: impl Into<String>,
        measured_by: EnergySource,
        points: Vec<CalibrationPoint>,
    ) -> Result<Calibration, CalibrationError> {
        if !measured_by.is_measured() {
            return Err(CalibrationError::NotMeasured(measured_by));
        }
        let (coefficients, fit) = fit_coefficients(&points)?;
        Ok(Calibration {
            schema_version: CALIBRATION_SCHEMA_VERSION,
            machine: machine.into(),
            measured_by,
            coefficients,
            fit,
            points,
        })
    }

    /// The model these coefficients define, citing `file`.
    pub fn model(&self, file: &Path) -> EnergyModel {
        EnergyModel {
            formula: "E = P_idle*t + e_flop*FLOPs + e_byte*bytes".into(),
            coefficients: self.coefficients,
            basis: ModelBasis::Calibrated {
                file: file.to_path_buf(),
                machine: self.machine.clone(),
                measured_by: self.measured_by,
                fit: self.fit.clone(),
            },
        }
    }

    /// Reads a calibration file.
    pub fn load(path: &Path) -> Result<Calibration, CalibrationError> {
        let text = std::fs::read_to_string(path).map_err(|source| CalibrationError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let calibration: Calibration = serde_json::from_str(&text).map_err(|e| CalibrationError::Parse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if calibration.schema_version != CALIBRATION_SCHEMA_VERSION {
            return Err(CalibrationError::Schema {
                path: path.to_path_buf(),
                found: calibration.schema_version,
            });
        }
        let c = &calibration.coefficients;
        for (name, value, max, unit) in [
            ("idle_power", c.idle_power.get(), MAX_IDLE_POWER_W, "W"),
            ("joules_per_flop", c.joules_per_flop.0, MAX_JOULES_PER_UNIT, "J"),
            ("joules_per_byte", c.joules_per_byte.0, MAX_JOULES_PER_UNIT, "J"),
        ] {
            if !value.is_finite() || value < 0.0 || value > max {
                return Err(CalibrationError::OutOfBounds {
                    path: path.to_path_buf(),
                    reason: format!("coefficient {name} = {value} {unit} is outside [0, {max:e}] {unit}"),
                });
            }
        }
        Ok(calibration)
    }

    /// Writes atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), CalibrationError> {
        let io = |source| CalibrationError::Io {
            path: path.to_path_buf(),
            source,
        };
        let json = serde_json::to_string_pretty(self).map_err(|e| io(std::io::Error::other(e.to_string())))?;
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        std::fs::write(&temporary, json + "\n").map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Bytes, Flops, Seconds};
    use proptest::prelude::*;

    const SPR_CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu avx2 fma avx512f amx_tile\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\nflags\t\t: fpu avx2 fma avx512f amx_tile\n";

    #[test]
    fn defaults_for_a_sapphire_rapids_guest() {
        let cpu = CpuDescription::parse(SPR_CPUINFO);
        assert_eq!(cpu.logical_cpus, 2);
        assert_eq!(cpu.vendor, "GenuineIntel");
        let model = EnergyModel::published_default(&cpu, None);
        let c = model.coefficients;
        // 0.5 · 350 W / 56 cores · 2 CPUs, at base clock
        assert!((c.idle_power.get() - 6.25).abs() < 1e-9);
        // 0.5 · 350 W / (56 · 64 FLOP · 2.0 GHz) = 175 / 7.168e12
        assert!((c.joules_per_flop.0 - 24.414_062_5e-12).abs() < 1e-20);
        assert!((c.joules_per_byte.0 - 243.75e-12).abs() < 1e-18);
        // at 3.0 GHz the static share scales with the clock, e_flop does not
        let fast = EnergyModel::published_default(&cpu, Some(3.0)).coefficients;
        assert!((fast.idle_power.get() - 6.25 * 1.5).abs() < 1e-9);
        assert_eq!(fast.joules_per_flop, c.joules_per_flop);
        match &model.basis {
            ModelBasis::Published {
                node_nm, detected_as, ..
            } => {
                assert_eq!(*node_nm, 10.0);
                assert!(detected_as.contains("Sapphire Rapids"));
            }
            other => panic!("unexpected basis {other:?}"),
        }
    }

    #[test]
    fn a_modeled_slice_never_beats_its_parts_peak_per_watt() {
        // Peak ÷ TDP of each representative part, GFLOP/J, worked by hand.
        let cases = [
            (
                "GenuineIntel",
                "fpu avx2 fma avx512f amx_tile",
                56.0 * 64.0 * 2.0 / 350.0,
                2.0,
            ),
            (
                "GenuineIntel",
                "fpu avx2 fma avx512f avx512_vbmi2",
                40.0 * 64.0 * 2.3 / 270.0,
                2.3,
            ),
            ("GenuineIntel", "fpu avx2 fma avx512f", 28.0 * 64.0 * 2.7 / 205.0, 2.7),
            ("AuthenticAMD", "fpu avx2 fma avx512f", 96.0 * 32.0 * 2.4 / 360.0, 2.4),
            ("AuthenticAMD", "fpu avx2 fma", 64.0 * 32.0 * 2.45 / 280.0, 2.45),
        ];
        for (vendor, flags, bound, base) in cases {
            for cpus in [1usize, 2, 16] {
                let text: String = (0..cpus)
                    .map(|i| format!("processor\t: {i}\nvendor_id\t: {vendor}\nflags\t\t: {flags}\n\n"))
                    .collect();
                let cpu = CpuDescription::parse(&text);
                let fpc = if flags.contains("avx512f") && vendor == "GenuineIntel" {
                    64.0
                } else {
                    32.0
                };
                for ghz in [1.5, base, 3.0, 3.8] {
                    let model = EnergyModel::published_default(&cpu, Some(ghz));
                    let peak_rate = cpus as f64 * fpc * ghz * 1e9;
                    for share in [0.01, 0.3, 0.99, 1.0] {
                        let work = WorkDone {
                            elapsed: Seconds(1.0),
                            flops: Flops(share * peak_rate),
                            bytes: Bytes(0.0),
                        };
                        let gflop_per_j = work.flops.0 / model.energy(&work).get() / 1e9;
                        assert!(
                            gflop_per_j <= bound * (1.0 + 1e-12),
                            "{vendor} {flags} {cpus} CPUs {ghz} GHz at {share} of peak: {gflop_per_j} > {bound}"
                        );
                        if share == 1.0 {
                            assert!(
                                (gflop_per_j - bound).abs() < 1e-9 * bound,
                                "at peak: {gflop_per_j} vs {bound}"
                            );
                        }
                    }
                }
            }
        }
    }

    fn point(t: f64, f: f64, b: f64, c: &ModelCoefficients) -> CalibrationPoint {
        let work = WorkDone {
            elapsed: Seconds(t),
            flops: Flops(f),
            bytes: Bytes(b),
        };
        CalibrationPoint {
            elapsed: work.elapsed,
            flops: work.flops,
            bytes: work.bytes,
            energy: c.energy(&work),
        }
    }

    #[test]
    fn fit_recovers_exact_coefficients() {
        let truth = ModelCoefficients {
            idle_power: Watts(40.0),
            joules_per_flop: JoulesPerFlop(20e-12),
            joules_per_byte: JoulesPerByte(150e-12),
        };
        let points = vec![
            point(1.0, 1e12, 1e9, &truth),
            point(2.0, 1e11, 2e10, &truth),
            point(0.5, 5e11, 5e8, &truth),
            point(3.0, 2e12, 4e10, &truth),
        ];
        let (fit, quality) = fit_coefficients(&points).unwrap();
        assert!((fit.idle_power.get() - 40.0).abs() < 1e-6);
        assert!((fit.joules_per_flop.0 - 20e-12).abs() < 1e-18);
        assert!((fit.joules_per_byte.0 - 150e-12).abs() < 1e-17);
        assert!(quality.r_squared > 0.999_999);
        assert!(quality.pinned_at_zero.is_empty());
    }

    #[test]
    fn fit_pins_negative_coefficients_at_zero() {
        // Energy falls with bytes: the unconstrained fit would make e_byte < 0.
        let p = |t: f64, b: f64, e: f64| CalibrationPoint {
            elapsed: Seconds(t),
            flops: Flops(0.0),
            bytes: Bytes(b),
            energy: Joules(e),
        };
        let points = vec![p(1.0, 0.0, 10.0), p(2.0, 1.0, 19.0), p(3.0, 2.0, 29.0)];
        let (fit, quality) = fit_coefficients(&points).unwrap();
        assert!(fit.joules_per_byte.0 >= 0.0);
        assert!(quality.pinned_at_zero.contains(&"joules_per_flop".to_string()));
    }

    #[test]
    fn fit_rejects_too_few_and_bad_points() {
        assert_eq!(fit_coefficients(&[]).unwrap_err(), FitError::TooFewPoints(0));
        let bad = CalibrationPoint {
            elapsed: Seconds(f64::NAN),
            flops: Flops(1.0),
            bytes: Bytes(1.0),
            energy: Joules(1.0),
        };
        assert_eq!(
            fit_coefficients(&[bad, bad, bad]).unwrap_err(),
            FitError::BadPoint { index: 0 }
        );
        let zero = CalibrationPoint {
            elapsed: Seconds(0.0),
            flops: Flops(0.0),
            bytes: Bytes(0.0),
            energy: Joules(1.0),
        };
        assert_eq!(fit_coefficients(&[zero, zero, zero]).unwrap_err(), FitError::Degenerate);
    }

    #[test]
    fn calibration_round_trips_and_reports_parse_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CALIBRATION_FILE);
        let truth = ModelCoefficients {
            idle_power: Watts(10.0),
            joules_per_flop: JoulesPerFlop(1e-11),
            joules_per_byte: JoulesPerByte(1e-10),
        };
        let points = vec![
            point(1.0, 1e12, 1e9, &truth),
            point(2.0, 1e11, 2e10, &truth),
            point(0.5, 5e11, 5e8, &truth),
        ];
        let calibration = Calibration::fit("machine-a", EnergySource::Rapl, points).unwrap();
        calibration.save(&path).unwrap();
        let loaded = Calibration::load(&path).unwrap();
        assert_eq!(loaded, calibration);
        let model = loaded.model(&path);
        assert!(matches!(model.basis, ModelBasis::Calibrated { .. }));

        std::fs::write(&path, "{\n  \"schema_version\": 1,\n  oops\n}").unwrap();
        let error = Calibration::load(&path).unwrap_err();
        assert!(matches!(error, CalibrationError::Parse { line: 3, .. }), "{error}");

        // A negative idle power (or any coefficient outside physical bounds) is refused, naming
        // the file and the coefficient.
        let mut negative = calibration.clone();
        negative.coefficients.idle_power = Watts(-499.7);
        negative.save(&path).unwrap();
        let error = Calibration::load(&path).unwrap_err();
        assert!(matches!(error, CalibrationError::OutOfBounds { .. }), "{error}");
        let text = error.to_string();
        assert!(
            text.contains(CALIBRATION_FILE) && text.contains("idle_power = -499.7"),
            "{text}"
        );
        let mut huge = calibration.clone();
        huge.coefficients.joules_per_byte = JoulesPerByte(1.0);
        huge.save(&path).unwrap();
        assert!(matches!(
            Calibration::load(&path),
            Err(CalibrationError::OutOfBounds { .. })
        ));

        assert!(matches!(
            Calibration::fit("m", EnergySource::Modeled, vec![]),
            Err(CalibrationError::NotMeasured(EnergySource::Modeled))
        ));
    }

    proptest! {
        #[test]
        fn fit_recovers_nonnegative_truth(
            idle in 0.0f64..200.0,
            per_flop_pj in 0.0f64..100.0,
            per_byte_pj in 0.0f64..500.0,
            design in proptest::collection::vec((0.01f64..10.0, 0.0f64..1e13, 0.0f64..1e11), 4..12),
        ) {
            let truth = ModelCoefficients {
                idle_power: Watts(idle),
                joules_per_flop: JoulesPerFlop(per_flop_pj * 1e-12),
                joules_per_byte: JoulesPerByte(per_byte_pj * 1e-12),
            };
            let points: Vec<CalibrationPoint> =
                design.iter().map(|&(t, f, b)| point(t, f, b, &truth)).collect();
            if let Ok((fit, quality)) = fit_coefficients(&points) {
                // Predictions match to within a part in 10^6 of the energies.
                let scale = points.iter().map(|p| p.energy.get()).fold(1e-9, f64::max);
                prop_assert!(quality.rms_residual.get() <= 1e-6 * scale);
                for p in &points {
                    let work = WorkDone { elapsed: p.elapsed, flops: p.flops, bytes: p.bytes };
                    prop_assert!((fit.energy(&work).get() - p.energy.get()).abs() <= 1e-5 * scale);
                }
            }
        }
    }
}
