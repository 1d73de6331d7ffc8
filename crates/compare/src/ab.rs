//! Paired A/B timing of two builds on one machine (`braingap ab`), and the A/A calibration
//! of its effect-size floor.
//!
//! Design. Wall time on a shared machine drifts (other jobs, clock, thermal state), so the
//! two builds run interleaved: each round runs a short `braingap run` of the selected
//! benchmarks with each build, base first in even rounds and current first in odd rounds
//! (ABBA…, which cancels a linear drift), and keeps one figure per benchmark of that run:
//! its median time per call, or with [`RoundStatistic::Min`] its fastest sample. With R
//! rounds each side has R per-round figures (called medians below, whichever is kept).
//!
//! Test. Per benchmark, the two-sided Mann-Whitney U test ([`mann_whitney`]) of the
//! current build's per-round medians against the base's, and the ratio of the medians of
//! those medians (current ÷ base; above 1 is slower). A benchmark is `regressed` when
//! p < α **and** the ratio exceeds 1 + floor; `improved` when p < α and the ratio is below
//! 1 − floor; `unchanged` otherwise. The rank test alone flags real but negligible changes
//! once rounds are many, and a fixed threshold is a guess; the floor is measured instead:
//!
//! Calibration. `braingap ab --calibrate --bin PATH` runs the same build against itself in
//! T trials of R rounds each. Every trial yields, per benchmark, |ratio − 1|, a change that
//! is pure noise. The floor is the 95th percentile (type-7) of those deviations over the
//! trials, per benchmark and pooled over benchmarks, stored in
//! `RESULTS/ab-calibration.json` with the deviations themselves. A benchmark without its
//! own floor uses the pooled one; without a calibration there is no floor unless given.

use crate::error::Error;
use crate::measure::mann_whitney::{mann_whitney_u, Alternative, Method};
use crate::measure::stats;
use crate::store::{write_atomic, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// File in the results directory holding the calibrated floor.
pub const CALIBRATION_FILE: &str = "ab-calibration.json";

/// Layout version of [`CALIBRATION_FILE`].
pub const CALIBRATION_SCHEMA_VERSION: u32 = 1;

/// Significance level of the rank test.
pub const DEFAULT_ALPHA: f64 = 0.05;

/// Quantile of the A/A deviations taken as the floor.
pub const FLOOR_QUANTILE: f64 = 0.95;

/// Which build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The reference build (A).
    Base,
    /// The build under test (B).
    Current,
}

impl Side {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Base => "base",
            Side::Current => "current",
        }
    }
}

/// The order of the two builds in round `round` (0-based): base first in even rounds,
/// current first in odd ones.
pub fn round_order(round: usize) -> [Side; 2] {
    if round.is_multiple_of(2) {
        [Side::Base, Side::Current]
    } else {
        [Side::Current, Side::Base]
    }
}

/// Why an A/B comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AbError {
    /// A build could not be started or its run failed.
    #[error("{side} build {bin}: `{command}` {outcome}; its stderr ends:\n{stderr_tail}")]
    RunFailed {
        /// Which build.
        side: &'static str,
        /// Its executable.
        bin: PathBuf,
        /// The command line.
        command: String,
        /// How it ended.
        outcome: String,
        /// Last lines of its stderr.
        stderr_tail: String,
    },
    /// A round produced no usable medians.
    #[error("{side} build {bin}: its run in {dir} left no benchmark with status ok")]
    NoResults {
        /// Which build.
        side: &'static str,
        /// Its executable.
        bin: PathBuf,
        /// The round's results directory.
        dir: PathBuf,
    },
    /// The calibration file is unreadable.
    #[error("{path}: {reason}")]
    BadCalibration {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Results or files could not be read or written.
    #[error(transparent)]
    Store(#[from] Error),
}

/// Which figure of each round's run is compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoundStatistic {
    /// The run's median time per call (`median_s`).
    #[default]
    Median,
    /// The run's fastest sample (`min_s`): other processes only ever slow a sample down, so
    /// on a shared machine the minimum is the least disturbed figure.
    Min,
}

impl RoundStatistic {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RoundStatistic::Median => "median",
            RoundStatistic::Min => "min",
        }
    }
}

/// Runs one build once and returns each benchmark's per-round figure (time per call, s).
pub trait RoundRunner {
    /// Runs `side` in round `round`.
    fn run_round(&mut self, side: Side, round: usize) -> Result<BTreeMap<String, f64>, AbError>;
}

/// Per-round medians of each build, per benchmark, in round order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rounds {
    /// Base build: benchmark → per-round medians (s).
    pub base: BTreeMap<String, Vec<f64>>,
    /// Current build: benchmark → per-round medians (s).
    pub current: BTreeMap<String, Vec<f64>>,
}

impl Rounds {
    fn push(&mut self, side: Side, medians: BTreeMap<String, f64>) {
        let map = match side {
            Side::Base => &mut self.base,
            Side::Current => &mut self.current,
        };
        for (name, median) in medians {
            map.entry(name).or_default().push(median);
        }
    }
}

/// Runs `rounds` rounds, each build once per round in [`round_order`]; `progress` hears of
/// each run before it starts.
pub fn collect_rounds(
    runner: &mut dyn RoundRunner,
    rounds: usize,
    progress: &mut dyn FnMut(usize, Side),
) -> Result<Rounds, AbError> {
    let mut collected = Rounds::default();
    for round in 0..rounds {
        for side in round_order(round) {
            progress(round, side);
            let medians = runner.run_round(side, round)?;
            collected.push(side, medians);
        }
    }
    Ok(collected)
}

/// Where a benchmark's floor came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FloorSource {
    /// This benchmark's own A/A calibration.
    Calibrated {
        /// A/A trials behind it.
        trials: usize,
    },
    /// The calibration pooled over benchmarks (this one was not calibrated).
    Pooled {
        /// A/A trials behind it.
        trials: usize,
    },
    /// Given on the command line.
    Given,
    /// No calibration and none given: the rank test alone decides.
    None,
}

impl FloorSource {
    /// Short description for tables.
    pub fn describe(&self) -> String {
        match self {
            FloorSource::Calibrated { trials } => format!("A/A, {trials} trials"),
            FloorSource::Pooled { trials } => format!("A/A pooled, {trials} trials"),
            FloorSource::Given => "given".into(),
            FloorSource::None => "none".into(),
        }
    }
}

/// The effect-size floor of one benchmark: a relative change (0.02 = 2 %).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Floor {
    /// Relative change a significant difference must exceed.
    pub value: f64,
    /// Where it came from.
    pub source: FloorSource,
}

/// Outcome for one benchmark: the same verdicts as `compare` (A/B timing never reports
/// `changed`, which is about exact counts).
pub use crate::Verdict;

/// One benchmark's A/B result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbRow {
    /// Benchmark name.
    pub benchmark: String,
    /// Rounds of the base build.
    pub base_rounds: usize,
    /// Rounds of the current build.
    pub current_rounds: usize,
    /// Median of the base build's per-round medians (s).
    pub base_median_s: Option<f64>,
    /// Median of the current build's per-round medians (s).
    pub current_median_s: Option<f64>,
    /// current ÷ base.
    pub ratio: Option<f64>,
    /// Two-sided Mann-Whitney p-value.
    pub p_value: Option<f64>,
    /// The p-value's method (`exact` or `asymptotic`).
    pub method: Option<Method>,
    /// The floor applied.
    pub floor: Floor,
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub why: String,
}

/// Judges every benchmark present on either side. `floor_of` gives each benchmark's floor.
pub fn analyze(rounds: &Rounds, floor_of: &dyn Fn(&str) -> Floor, alpha: f64) -> Vec<AbRow> {
    let mut names: Vec<&String> = rounds.base.keys().chain(rounds.current.keys()).collect();
    names.sort();
    names.dedup();
    let mut rows: Vec<AbRow> = names
        .into_iter()
        .map(|name| {
            let empty = Vec::new();
            let base = rounds.base.get(name).unwrap_or(&empty);
            let current = rounds.current.get(name).unwrap_or(&empty);
            judge(name, base, current, floor_of(name), alpha)
        })
        .collect();
    rows.sort_by(|a, b| {
        a.verdict
            .cmp(&b.verdict)
            .then(b.ratio.unwrap_or(1.0).total_cmp(&a.ratio.unwrap_or(1.0)))
    });
    rows
}

fn judge(name: &str, base: &[f64], current: &[f64], floor: Floor, alpha: f64) -> AbRow {
    let median = |xs: &[f64]| (!xs.is_empty()).then(|| stats::median(xs));
    let (base_median_s, current_median_s) = (median(base), median(current));
    let ratio = match (base_median_s, current_median_s) {
        (Some(b), Some(c)) if b > 0.0 => Some(c / b),
        _ => None,
    };
    let mut row = AbRow {
        benchmark: name.to_string(),
        base_rounds: base.len(),
        current_rounds: current.len(),
        base_median_s,
        current_median_s,
        ratio,
        p_value: None,
        method: None,
        floor,
        verdict: Verdict::Incomparable,
        why: String::new(),
    };
    let (Some(ratio), true) = (ratio, base.len() >= 2 && current.len() >= 2) else {
        row.why = format!(
            "needs at least 2 rounds on each side with a time (base {}, current {})",
            base.len(),
            current.len()
        );
        return row;
    };
    let Some(test) = mann_whitney_u(current, base, Alternative::TwoSided, Method::Auto) else {
        row.why = "a round median is not a number".into();
        return row;
    };
    row.p_value = Some(test.p_value);
    row.method = Some(test.method);
    let change = ratio - 1.0;
    let floor = row.floor.value;
    let significant = test.p_value < alpha;
    let (p, pct, floor_pct) = (format_p(test.p_value), 100.0 * change, 100.0 * floor);
    let (verdict, why) = if significant && change.abs() > floor {
        let verdict = if change > 0.0 {
            Verdict::Regressed
        } else {
            Verdict::Improved
        };
        (
            verdict,
            format!("p = {p} < {alpha} and {pct:+.1}% beyond the floor {floor_pct:.1}%"),
        )
    } else if significant {
        (
            Verdict::Unchanged,
            format!("p = {p} but {pct:+.1}% is within the floor {floor_pct:.1}%"),
        )
    } else {
        (Verdict::Unchanged, format!("p = {p} ≥ {alpha}"))
    };
    row.verdict = verdict;
    row.why = why;
    row
}

/// A p-value for tables: three decimals, or scientific below 0.001.
pub fn format_p(p: f64) -> String {
    if p < 1e-3 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// The smallest two-sided p-value the exact test can reach with `n` rounds on each side:
/// 2 / C(2n, n). Below α, no change can ever be called.
pub fn smallest_p_value(rounds: usize) -> f64 {
    let total: f64 = (0..rounds).map(|i| (2 * rounds - i) as f64 / (i + 1) as f64).product();
    (2.0 / total).min(1.0)
}

/// One benchmark's A/A calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchCalibration {
    /// The floor: the [`FLOOR_QUANTILE`] quantile of `deviations`.
    pub floor: f64,
    /// |ratio − 1| of each A/A trial.
    pub deviations: Vec<f64>,
}

/// The stored A/A calibration (`RESULTS/ab-calibration.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// [`CALIBRATION_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// UTC time of the calibration, RFC 3339.
    pub created_at: String,
    /// The build run against itself.
    pub bin: PathBuf,
    /// The `braingap run` arguments of every round (profile, filter, threads).
    pub run_args: Vec<String>,
    /// Fingerprint of the machine it was measured on.
    pub machine_fingerprint: Option<String>,
    /// A/A trials.
    pub trials: usize,
    /// Rounds per trial.
    pub rounds: usize,
    /// The quantile taken.
    pub quantile: f64,
    /// Per benchmark.
    pub benchmarks: BTreeMap<String, BenchCalibration>,
    /// The quantile of all benchmarks' deviations together.
    pub pooled_floor: f64,
    /// A/A trials whose rank test reached p < α: the false-alarm count without a floor.
    pub significant_trials: usize,
    /// The per-round figure the floor was calibrated on.
    #[serde(default)]
    pub statistic: RoundStatistic,
}

/// The floor calibration of A/A trials: per benchmark and pooled, the `quantile` of
/// |ratio − 1| (ratio of the medians of the per-round medians), and how many trials the
/// rank test alone would have flagged. `None` when no trial has a usable benchmark.
pub fn calibrate(
    trials: &[Rounds],
    quantile: f64,
    alpha: f64,
) -> Option<(BTreeMap<String, BenchCalibration>, f64, usize)> {
    let mut deviations: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut significant = 0;
    for trial in trials {
        let rows = analyze(trial, &|_| no_floor(), alpha);
        if rows.iter().any(|r| r.p_value.is_some_and(|p| p < alpha)) {
            significant += 1;
        }
        for row in rows {
            if let (Some(ratio), Some(_)) = (row.ratio, row.p_value) {
                deviations.entry(row.benchmark).or_default().push((ratio - 1.0).abs());
            }
        }
    }
    let all: Vec<f64> = deviations.values().flatten().copied().collect();
    if all.is_empty() {
        return None;
    }
    let floor_of = |xs: &[f64]| {
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        stats::quantile_sorted(&sorted, quantile)
    };
    let benchmarks = deviations
        .into_iter()
        .map(|(name, devs)| {
            (
                name,
                BenchCalibration {
                    floor: floor_of(&devs),
                    deviations: devs,
                },
            )
        })
        .collect();
    Some((benchmarks, floor_of(&all), significant))
}

/// The floor that is no floor.
pub fn no_floor() -> Floor {
    Floor {
        value: 0.0,
        source: FloorSource::None,
    }
}

impl Calibration {
    /// The floor of `benchmark`: its own, else the pooled one.
    pub fn floor_of(&self, benchmark: &str) -> Floor {
        match self.benchmarks.get(benchmark) {
            Some(b) => Floor {
                value: b.floor,
                source: FloorSource::Calibrated { trials: self.trials },
            },
            None => Floor {
                value: self.pooled_floor,
                source: FloorSource::Pooled { trials: self.trials },
            },
        }
    }

    /// Reads `DIR/ab-calibration.json`; `Ok(None)` when there is none.
    pub fn load(results: &Path) -> Result<Option<Calibration>, AbError> {
        let path = results.join(CALIBRATION_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e).into()),
        };
        let calibration: Calibration = serde_json::from_str(&text).map_err(|e| AbError::BadCalibration {
            path: path.clone(),
            reason: format!("line {}: {e}", e.line()),
        })?;
        if calibration.schema_version != CALIBRATION_SCHEMA_VERSION {
            return Err(AbError::BadCalibration {
                path,
                reason: format!(
                    "schema_version {}, expected {CALIBRATION_SCHEMA_VERSION}",
                    calibration.schema_version
                ),
            });
        }
        Ok(Some(calibration))
    }

    /// Writes `DIR/ab-calibration.json` atomically.
    pub fn save(&self, results: &Path) -> Result<PathBuf, AbError> {
        std::fs::create_dir_all(results).map_err(|e| Error::io(results, e))?;
        let path = results.join(CALIBRATION_FILE);
        write_atomic(&path, &serde_json::to_vec_pretty(self).expect("calibration serializes"))?;
        Ok(path)
    }
}

/// Runs `BIN run ARGS --results SCRATCH/<side>-<round> --no-report --no-ceilings` for each
/// round and reads the chosen figure (median or fastest sample) of the benchmarks with
/// status `ok` from its `summary.csv`.
#[derive(Debug, Clone)]
pub struct BinaryRunner {
    /// The base build's executable.
    pub base_bin: PathBuf,
    /// The current build's executable.
    pub current_bin: PathBuf,
    /// Arguments after `run` (profile, filter, threads).
    pub run_args: Vec<OsString>,
    /// Where each round's results go (removed after reading).
    pub scratch: PathBuf,
    /// Which figure of each run is kept.
    pub statistic: RoundStatistic,
}

impl RoundRunner for BinaryRunner {
    fn run_round(&mut self, side: Side, round: usize) -> Result<BTreeMap<String, f64>, AbError> {
        let bin = match side {
            Side::Base => &self.base_bin,
            Side::Current => &self.current_bin,
        };
        let dir = self.scratch.join(format!("{}-{round:03}", side.as_str()));
        let mut command = Command::new(bin);
        command
            .arg("run")
            .args(&self.run_args)
            .arg("--results")
            .arg(&dir)
            .args(["--no-report", "--no-ceilings", "--label"])
            .arg(format!("ab round {round} {}", side.as_str()));
        let rendered = format!("{command:?}").replace('"', "");
        let failed = |outcome: String, stderr: &[u8]| {
            let text = String::from_utf8_lossy(stderr);
            let lines: Vec<&str> = text.lines().collect();
            AbError::RunFailed {
                side: side.as_str(),
                bin: bin.clone(),
                command: rendered.clone(),
                outcome,
                stderr_tail: lines[lines.len().saturating_sub(10)..].join("\n"),
            }
        };
        let output = command
            .output()
            .map_err(|e| failed(format!("could not start: {e}"), &[]))?;
        if !output.status.success() {
            return Err(failed(format!("exited with {}", output.status), &output.stderr));
        }
        let (infos, errors) = Store::new(&dir).list();
        if let Some(e) = errors.into_iter().next() {
            return Err(e.into());
        }
        let medians: BTreeMap<String, f64> = infos
            .iter()
            .flat_map(|info| &info.summary)
            .filter(|row| row.status == crate::measure::Status::Ok)
            .filter_map(|row| {
                let figure = match self.statistic {
                    RoundStatistic::Median => row.median_s,
                    RoundStatistic::Min => row.min_s,
                };
                Some((row.benchmark.clone(), figure?))
            })
            .collect();
        let _ = std::fs::remove_dir_all(&dir);
        if medians.is_empty() {
            return Err(AbError::NoResults {
                side: side.as_str(),
                bin: bin.clone(),
                dir,
            });
        }
        Ok(medians)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic runner: each build's time is `scale × (1 + noise[round])`.
    struct Scripted {
        base_scale: f64,
        current_scale: f64,
        noise: Vec<f64>,
        calls: Vec<(usize, Side)>,
    }

    impl RoundRunner for Scripted {
        fn run_round(&mut self, side: Side, round: usize) -> Result<BTreeMap<String, f64>, AbError> {
            self.calls.push((round, side));
            let (scale, jitter) = match side {
                Side::Base => (self.base_scale, self.noise[round]),
                Side::Current => (self.current_scale, self.noise[(round + 3) % self.noise.len()]),
            };
            Ok(BTreeMap::from([("k/f32/n=1".to_string(), scale * (1.0 + jitter))]))
        }
    }

    const NOISE: [f64; 10] = [0.01, -0.012, 0.004, 0.02, -0.006, 0.0, -0.018, 0.009, 0.013, -0.003];

    fn scripted(current_scale: f64) -> Scripted {
        Scripted {
            base_scale: 1e-3,
            current_scale: 1e-3 * current_scale,
            noise: NOISE.to_vec(),
            calls: Vec::new(),
        }
    }

    fn floor(value: f64) -> Floor {
        Floor {
            value,
            source: FloorSource::Given,
        }
    }

    #[test]
    fn rounds_alternate_abba() {
        let mut runner = scripted(1.0);
        collect_rounds(&mut runner, 3, &mut |_, _| {}).unwrap();
        use Side::{Base as A, Current as B};
        assert_eq!(runner.calls, vec![(0, A), (0, B), (1, B), (1, A), (2, A), (2, B)]);
    }

    #[test]
    fn a_ten_percent_slowdown_is_a_regression() {
        let rounds = collect_rounds(&mut scripted(1.10), 10, &mut |_, _| {}).unwrap();
        let rows = analyze(&rounds, &|_| floor(0.03), DEFAULT_ALPHA);
        assert_eq!(rows[0].verdict, Verdict::Regressed, "{:?}", rows[0]);
        assert!((rows[0].ratio.unwrap() - 1.10).abs() < 0.02);
        assert!(rows[0].p_value.unwrap() < 1e-4);
        let rows = analyze(&rounds, &|_| floor(0.03), DEFAULT_ALPHA);
        assert!(rows[0].why.contains("beyond the floor 3.0%"), "{}", rows[0].why);
    }

    #[test]
    fn no_shift_is_unchanged_and_a_speed_up_is_an_improvement() {
        let rounds = collect_rounds(&mut scripted(1.0), 10, &mut |_, _| {}).unwrap();
        let rows = analyze(&rounds, &|_| floor(0.03), DEFAULT_ALPHA);
        assert_eq!(rows[0].verdict, Verdict::Unchanged, "{:?}", rows[0]);
        let rounds = collect_rounds(&mut scripted(0.8), 10, &mut |_, _| {}).unwrap();
        assert_eq!(
            analyze(&rounds, &|_| floor(0.03), DEFAULT_ALPHA)[0].verdict,
            Verdict::Improved
        );
    }

    #[test]
    fn a_significant_change_within_the_floor_is_unchanged() {
        // 2 % slower with ±2 % noise: significant, but within a 5 % floor.
        let rounds = collect_rounds(&mut scripted(1.04), 10, &mut |_, _| {}).unwrap();
        let row = &analyze(&rounds, &|_| no_floor(), DEFAULT_ALPHA)[0];
        assert_eq!(row.verdict, Verdict::Regressed, "{row:?}");
        let row = &analyze(&rounds, &|_| floor(0.05), DEFAULT_ALPHA)[0];
        assert_eq!(row.verdict, Verdict::Unchanged, "{row:?}");
        assert!(row.why.contains("within the floor 5.0%"), "{}", row.why);
    }

    #[test]
    fn too_few_rounds_or_a_missing_side_is_incomparable() {
        let mut rounds = collect_rounds(&mut scripted(1.5), 1, &mut |_, _| {}).unwrap();
        assert_eq!(
            analyze(&rounds, &|_| no_floor(), DEFAULT_ALPHA)[0].verdict,
            Verdict::Incomparable
        );
        rounds.current.clear();
        rounds.base.insert("k/f32/n=1".into(), vec![1.0, 1.0, 1.0]);
        assert_eq!(
            analyze(&rounds, &|_| no_floor(), DEFAULT_ALPHA)[0].verdict,
            Verdict::Incomparable
        );
    }

    #[test]
    fn smallest_p_value_is_two_over_the_central_binomial() {
        assert!((smallest_p_value(3) - 0.1).abs() < 1e-12);
        assert!((smallest_p_value(4) - 2.0 / 70.0).abs() < 1e-12);
        assert!(smallest_p_value(1) >= 1.0);
    }

    #[test]
    fn the_floor_is_the_95th_percentile_of_aa_deviations() {
        // Twenty A/A trials whose ratios deviate by 0.1 %, 0.2 %, ..., 2.0 %.
        let trials: Vec<Rounds> = (1..=20)
            .map(|i| {
                let d = 0.001 * i as f64;
                Rounds {
                    base: BTreeMap::from([("k".into(), vec![1.0, 1.0, 1.0])]),
                    current: BTreeMap::from([("k".into(), vec![1.0 + d, 1.0 + d, 1.0 + d])]),
                }
            })
            .collect();
        let (benchmarks, pooled, significant) = calibrate(&trials, FLOOR_QUANTILE, DEFAULT_ALPHA).unwrap();
        // Type-7 quantile of 0.001..0.020 at 0.95: h = 19 × 0.95 = 18.05 → 0.019 + 0.05 × 0.001.
        let expected = 0.019 + 0.05 * 0.001;
        assert!(
            (benchmarks["k"].floor - expected).abs() < 1e-12,
            "{}",
            benchmarks["k"].floor
        );
        assert!((pooled - expected).abs() < 1e-12);
        assert_eq!(benchmarks["k"].deviations.len(), 20);
        // 3 vs 3 rounds cannot reach p < 0.05 (smallest is 0.1).
        assert_eq!(significant, 0);
    }

    #[test]
    fn calibration_round_trips_and_falls_back_to_the_pooled_floor() {
        let dir = std::env::temp_dir().join(format!("braingap-ab-test-{}", std::process::id()));
        let calibration = Calibration {
            schema_version: CALIBRATION_SCHEMA_VERSION,
            created_at: "2025-01-01T00:00:00Z".into(),
            bin: "/bin/braingap".into(),
            run_args: vec!["--profile".into(), "small".into()],
            machine_fingerprint: None,
            trials: 10,
            rounds: 8,
            quantile: FLOOR_QUANTILE,
            benchmarks: BTreeMap::from([(
                "k".into(),
                BenchCalibration {
                    floor: 0.02,
                    deviations: vec![0.01, 0.02],
                },
            )]),
            pooled_floor: 0.03,
            significant_trials: 1,
            statistic: RoundStatistic::Min,
        };
        assert_eq!(Calibration::load(&dir).unwrap(), None);
        calibration.save(&dir).unwrap();
        let loaded = Calibration::load(&dir).unwrap().unwrap();
        assert_eq!(loaded, calibration);
        assert_eq!(loaded.floor_of("k").value, 0.02);
        assert_eq!(loaded.floor_of("other").source, FloorSource::Pooled { trials: 10 });
        std::fs::write(dir.join(CALIBRATION_FILE), "{\"schema_version\": 9").unwrap();
        let err = Calibration::load(&dir).unwrap_err();
        assert!(err.to_string().contains(CALIBRATION_FILE), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
