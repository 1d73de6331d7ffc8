//! This machine on the curves: its measured peak FLOP/s, bandwidth and FLOP/J set
//! against the hardware history and the brain ("this CPU delivers x% of a human
//! brain's estimated FLOP/s at y times its power").

use std::path::Path;

use serde::Serialize;

use crate::datasets::{load_bundled, Filter, Selection};
use crate::error::AnalysisError;
use crate::fits::{exponential_trend, BootstrapOptions};
use crate::projections::{crossover, Crossover};

/// What the results store knows about this machine's latest run. Filled by the
/// caller; this module never reads the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachinePoint {
    /// Machine label, e.g. the CPU model.
    pub label: String,
    /// Decimal year of the run.
    pub year: f64,
    /// Best measured FP32 FLOP/s.
    pub peak_flops_per_s_f32: Option<f64>,
    /// Best measured FP64 FLOP/s.
    pub peak_flops_per_s_f64: Option<f64>,
    /// Measured STREAM-style bandwidth, bytes/s.
    pub stream_bytes_per_s: Option<f64>,
    /// Measured (or modeled) FLOP per joule.
    pub flops_per_joule: Option<f64>,
    /// `"rapl"`, `"nvml"`, `"modeled"` or `"unavailable"`.
    pub flops_per_joule_source: String,
    /// Average power during the peak measurement, watts.
    pub avg_power_w: Option<f64>,
}

/// A hardware row close to this machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbour {
    /// Chip name.
    pub name: String,
    /// Release year (decimal).
    pub year: f64,
    /// Its FP32 peak.
    pub fp32_flops_per_s: f64,
}

/// The brain figures compared against, with their ranges.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrainReference {
    /// Central brain-equivalent FLOP/s.
    pub flops_per_s: f64,
    /// Plausible range.
    pub flops_per_s_range: (f64, f64),
    /// Brain power, W.
    pub power_w: f64,
    /// `flops_per_s / power_w`.
    pub flops_per_joule: f64,
}

/// Where the machine sits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineComparison {
    /// The input point.
    pub point: MachinePoint,
    /// Brain figures used.
    pub brain: BrainReference,
    /// Peak used (FP32 if measured, else FP64).
    pub peak_flops_per_s: Option<f64>,
    /// Percent of the brain's central FLOP/s.
    pub percent_of_brain_flops: Option<f64>,
    /// Percent range over the brain estimate's range (high brain estimate first).
    pub percent_of_brain_flops_range: Option<(f64, f64)>,
    /// Machine power / brain power.
    pub power_ratio_to_brain: Option<f64>,
    /// Machine FLOP/J / brain FLOP/J.
    pub efficiency_ratio_to_brain: Option<f64>,
    /// Year the fitted CPU FP32 trend (hardware, type CPU) reached this peak.
    pub cpu_trend_year: Option<f64>,
    /// Year the fitted GPU FP32 trend (ml_hardware, type GPU) reached this peak.
    pub gpu_trend_year: Option<f64>,
    /// The three hardware rows nearest in log FP32 peak.
    pub nearest_hardware: Vec<Neighbour>,
    /// Measured bandwidth over the median of the CPUs in the hardware table.
    pub bandwidth_ratio_to_median_cpu: Option<f64>,
    /// The headline sentence.
    pub sentence: String,
}

fn significant(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let digits = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    format!("{value:.digits$}")
}

fn trend_year(data_dir: &Path, dataset: &str, device_type: &str, peak: f64) -> Result<Option<f64>, AnalysisError> {
    let table = load_bundled(dataset, data_dir)?;
    let series = crate::datasets::select_series(
        &table,
        &Selection {
            x: "release_date".into(),
            y: "fp32_FLOP_per_s".into(),
            filter: Some(Filter::parse(&format!("type == {device_type}"))?),
            ..Default::default()
        },
    )?;
    let fit = exponential_trend(
        &series.x,
        &series.y,
        BootstrapOptions {
            resamples: 200,
            seed: 1,
            jitter_log10: 0.0,
        },
    )?;
    Ok(match crossover(&fit, peak, 2200.0) {
        Crossover::Reached { year, .. } => Some(year),
        Crossover::NeverWithinHorizon { .. } => None,
    })
}

/// Places `point` against the hardware history and the brain. Pure apart from reading
/// the bundled `brain_compute`, `species`, `hardware` and `ml_hardware` tables.
pub fn machine_comparison(point: &MachinePoint, data_dir: &Path) -> Result<MachineComparison, AnalysisError> {
    let brain_table = load_bundled("brain_compute", data_dir)?;
    let ids = brain_table.text("id")?;
    let central = brain_table.numbers("central_FLOP_per_s")?;
    let low = brain_table.numbers("low_FLOP_per_s")?;
    let high = brain_table.numbers("high_FLOP_per_s")?;
    let row = |id: &str| ids.iter().position(|i| i.as_deref() == Some(id));
    let missing = |what: &str| AnalysisError::MissingReference {
        path: brain_table.path.clone(),
        message: format!("no {what}"),
    };
    let brain_flops = row("carlsmith_central")
        .and_then(|r| central[r])
        .ok_or_else(|| missing("carlsmith_central central_FLOP_per_s"))?;
    let mechanistic = row("carlsmith_mechanistic").ok_or_else(|| missing("carlsmith_mechanistic row"))?;
    let brain_range = (
        low[mechanistic].ok_or_else(|| missing("carlsmith_mechanistic low"))?,
        high[mechanistic].ok_or_else(|| missing("carlsmith_mechanistic high"))?,
    );
    let species = load_bundled("species", data_dir)?;
    let species_ids = species.text("id")?;
    let power = species.numbers("brain_power_W")?;
    let brain_power = species_ids
        .iter()
        .position(|i| i.as_deref() == Some("human"))
        .and_then(|r| power[r])
        .ok_or_else(|| AnalysisError::MissingReference {
            path: species.path.clone(),
            message: "no human brain_power_W".into(),
        })?;
    let brain = BrainReference {
        flops_per_s: brain_flops,
        flops_per_s_range: brain_range,
        power_w: brain_power,
        flops_per_joule: brain_flops / brain_power,
    };

    let peak = point
        .peak_flops_per_s_f32
        .or(point.peak_flops_per_s_f64)
        .filter(|p| *p > 0.0);
    let percent = peak.map(|p| 100.0 * p / brain.flops_per_s);
    let percent_range = peak.map(|p| (100.0 * p / brain_range.1, 100.0 * p / brain_range.0));
    let power_ratio = point.avg_power_w.filter(|w| *w > 0.0).map(|w| w / brain.power_w);
    let efficiency_ratio = point
        .flops_per_joule
        .filter(|e| *e > 0.0)
        .map(|e| e / brain.flops_per_joule);

    let hardware = load_bundled("hardware", data_dir)?;
    let names = hardware.text("name")?;
    let types = hardware.text("type")?;
    let years = hardware.numbers("release_date")?;
    let fp32 = hardware.numbers("fp32_FLOP_per_s")?;
    let bandwidth = hardware.numbers("memory_bandwidth_bytes_per_s")?;
    let mut nearest_hardware = Vec::new();
    if let Some(p) = peak {
        let mut rows: Vec<(f64, Neighbour)> = (0..hardware.len())
            .filter_map(|r| {
                let f = fp32[r]?;
                Some((
                    (f.log10() - p.log10()).abs(),
                    Neighbour {
                        name: names[r].clone().unwrap_or_default(),
                        year: years[r].unwrap_or(f64::NAN),
                        fp32_flops_per_s: f,
                    },
                ))
            })
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        nearest_hardware = rows.into_iter().take(3).map(|(_, n)| n).collect();
    }
    let cpu_bandwidths: Vec<f64> = (0..hardware.len())
        .filter(|&r| types[r].as_deref() == Some("CPU"))
        .filter_map(|r| bandwidth[r])
        .collect();
    let bandwidth_ratio = point
        .stream_bytes_per_s
        .zip(crate::stats::median(&cpu_bandwidths))
        .map(|(b, m)| b / m);
    let (cpu_trend_year, gpu_trend_year) = match peak {
        Some(p) => (
            trend_year(data_dir, "hardware", "CPU", p)?,
            trend_year(data_dir, "ml_hardware", "GPU", p)?,
        ),
        None => (None, None),
    };

    let sentence = match (percent, power_ratio) {
        (Some(pct), Some(ratio)) => format!(
            "this CPU delivers {}% of a human brain's estimated FLOP/s at {} times its power ({}-{}% over the 1e13-1e17 FLOP/s range; brain {} W)",
            significant(pct),
            significant(ratio),
            significant(percent_range.map_or(f64::NAN, |r| r.0)),
            significant(percent_range.map_or(f64::NAN, |r| r.1)),
            significant(brain.power_w),
        ),
        (Some(pct), None) => format!(
            "this CPU delivers {}% of a human brain's estimated FLOP/s (power not measured: {})",
            significant(pct),
            point.flops_per_joule_source
        ),
        (None, _) => "no peak FLOP/s measured for this machine".to_string(),
    };
    Ok(MachineComparison {
        point: point.clone(),
        brain,
        peak_flops_per_s: peak,
        percent_of_brain_flops: percent,
        percent_of_brain_flops_range: percent_range,
        power_ratio_to_brain: power_ratio,
        efficiency_ratio_to_brain: efficiency_ratio,
        cpu_trend_year,
        gpu_trend_year,
        nearest_hardware,
        bandwidth_ratio_to_median_cpu: bandwidth_ratio,
        sentence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_a_cpu_against_the_brain() {
        let dir = crate::datasets::bundled_data_dir();
        let point = MachinePoint {
            label: "test CPU".into(),
            year: 2025.0,
            peak_flops_per_s_f32: Some(1e11),
            peak_flops_per_s_f64: Some(5e10),
            stream_bytes_per_s: Some(2e10),
            flops_per_joule: Some(1e9),
            flops_per_joule_source: "modeled".into(),
            avg_power_w: Some(100.0),
        };
        let c = machine_comparison(&point, &dir).unwrap();
        assert!((c.percent_of_brain_flops.unwrap() - 0.01).abs() < 1e-12);
        assert!((c.power_ratio_to_brain.unwrap() - 5.0).abs() < 1e-12);
        assert!((c.efficiency_ratio_to_brain.unwrap() - 1e9 / 5e13).abs() < 1e-18);
        assert_eq!(
            c.sentence,
            "this CPU delivers 0.0100% of a human brain's estimated FLOP/s at 5.00 times its power (0.000100-1.00% over the 1e13-1e17 FLOP/s range; brain 20.0 W)"
        );
        assert_eq!(c.nearest_hardware.len(), 3);
        // 1e11 FP32 FLOP/s is where Xeons were around 2007-2009.
        let year = c.cpu_trend_year.unwrap();
        assert!((2000.0..2010.0).contains(&year), "{year}");
    }

    #[test]
    fn missing_power_is_said() {
        let dir = crate::datasets::bundled_data_dir();
        let point = MachinePoint {
            label: "x".into(),
            year: 2025.0,
            peak_flops_per_s_f32: None,
            peak_flops_per_s_f64: Some(1e12),
            stream_bytes_per_s: None,
            flops_per_joule: None,
            flops_per_joule_source: "unavailable".into(),
            avg_power_w: None,
        };
        let c = machine_comparison(&point, &dir).unwrap();
        assert!(c.sentence.contains("power not measured: unavailable"), "{}", c.sentence);
    }
}
