//! "Simulating cortex": this machine on the brain-simulation field's own yardstick. The
//! Potjans-Diesmann microcircuit's real-time factor against its energy per synaptic event,
//! beside the published platforms (`data/microcircuit_benchmarks.csv`) and the brain, and
//! each population's rate beside the model authors' reference rates.

use super::figures::{Axis, Bar, BarChart, BarGroup, BarStyle, LineKind, Marker, Point, Series, XyChart};
use super::measured::param;
use crate::store::RunInfo;
use serde::Serialize;

/// One published simulation of the full-scale microcircuit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedSimulation {
    /// Study key, e.g. `Gol+23b`.
    pub id: String,
    /// Simulator, e.g. `GeNN`.
    pub simulator: String,
    /// `CPU`, `GPU`, `neuromorphic`, `FPGA`.
    pub platform: String,
    /// System, e.g. `RTX 4090`.
    pub system: String,
    /// Year of publication.
    pub year: f64,
    /// Wall time ÷ biological time.
    pub real_time_factor: f64,
    /// Joules per synaptic event, where published.
    pub joules_per_synaptic_event: Option<f64>,
}

/// Human synapses (Azevedo et al. 2009 neurons; 1.5×10¹⁴ synapses, `species.csv`).
pub const HUMAN_SYNAPSES: f64 = 1.5e14;
/// Brain power, W (`species.csv`).
pub const BRAIN_WATTS: f64 = 20.0;
/// Mean firing rates bounding the brain's synaptic events: Lennie 2003's 0.16 Hz energy-budget
/// rate and the 10 Hz the State of Brain Emulation 2025 report assumes (`data/raw/brain_compute_estimates.csv`).
pub const BRAIN_RATE_RANGE_HZ: (f64, f64) = (0.16, 10.0);

/// The brain's joules per synaptic event, from 20 W over synapses × the rate range: (low, high).
pub fn brain_joules_per_event() -> (f64, f64) {
    let events = |rate: f64| HUMAN_SYNAPSES * rate;
    (
        BRAIN_WATTS / events(BRAIN_RATE_RANGE_HZ.1),
        BRAIN_WATTS / events(BRAIN_RATE_RANGE_HZ.0),
    )
}

/// One row of a run's `populations.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationRow {
    /// Benchmark the row belongs to.
    pub benchmark: String,
    /// Population, e.g. `L23E`.
    pub population: String,
    /// Mean rate, spikes/s.
    pub rate_hz: f64,
    /// The reference's full-scale rate, where it applies.
    pub reference_rate_hz: Option<f64>,
}

/// A microcircuit row of a run, read back.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredSimulation {
    /// Benchmark name.
    pub benchmark: String,
    /// N_scaling.
    pub scale: f64,
    /// K_scaling.
    pub k_scale: f64,
    /// Median seconds per biological millisecond × 1000.
    pub real_time_factor: f64,
    /// J per synaptic event and its source (`rapl`, `nvml`, `modeled`), if any.
    pub joules_per_event: Option<(f64, String)>,
    /// Synaptic events per second at the median.
    pub events_per_s: Option<f64>,
}

/// The run's verified microcircuit rows.
pub fn measured(run: &RunInfo) -> Vec<MeasuredSimulation> {
    run.summary
        .iter()
        .filter(|r| r.kernel == "microcircuit" && r.status == "ok")
        .filter_map(|r| {
            let median = r.median_s?;
            Some(MeasuredSimulation {
                benchmark: r.benchmark.clone(),
                scale: param(r, "scale")?,
                k_scale: param(r, "k_scale")?,
                real_time_factor: median / (crate::kernels::microcircuit::MS_PER_CALL * 1e-3),
                joules_per_event: r
                    .joules_per_synaptic_event
                    .filter(|j| *j > 0.0 && r.energy_source != "unavailable")
                    .map(|j| (j, r.energy_source.clone())),
                events_per_s: r.events_per_call.map(|e| e / median),
            })
        })
        .collect()
}

/// The largest network among `sims` (by N_scaling × K_scaling): the one the page reports on.
pub fn largest(sims: &[MeasuredSimulation]) -> Option<&MeasuredSimulation> {
    sims.iter()
        .max_by(|a, b| (a.scale * a.k_scale).total_cmp(&(b.scale * b.k_scale)))
}

/// RTF against J per synaptic event, log-log: the published platforms, this run's points that
/// have an energy, and the brain (real time, its range of J per event).
pub fn yardstick(published: &[PublishedSimulation], run: &[MeasuredSimulation], machine: &str) -> XyChart {
    let mut chart = XyChart::new(
        "cortex-yardstick",
        "Simulating cortex: real-time factor against energy per synaptic event",
        Axis::log("energy per synaptic event (J)"),
        Axis::log("real-time factor (wall ÷ biological time)"),
    );
    let platforms = ["CPU", "GPU", "neuromorphic", "FPGA"];
    let markers = [Marker::Circle, Marker::Triangle, Marker::Square, Marker::Diamond];
    for (i, platform) in platforms.iter().enumerate() {
        let points: Vec<Point> = published
            .iter()
            .filter(|p| p.platform == *platform)
            .filter_map(|p| Some(Point::new(p.joules_per_synaptic_event?, p.real_time_factor)))
            .collect();
        if !points.is_empty() {
            chart.series.push(Series::points(
                format!("published, {platform} (full scale)"),
                i,
                markers[i],
                points,
            ));
        }
    }
    let (low, high) = brain_joules_per_event();
    chart.series.push(Series::line(
        "brain (estimate, real time)",
        5,
        LineKind::Solid,
        vec![Point::new(low, 1.0), Point::new(high, 1.0)],
    ));
    for sim in run {
        if let Some((joules, source)) = &sim.joules_per_event {
            let how = if source == "modeled" { "MODELED J" } else { "measured" };
            let mut series = Series::points(
                format!("this machine, scale {} ({how})", sim.scale),
                6,
                Marker::Star,
                vec![Point::new(*joules, sim.real_time_factor)],
            );
            series.filled = source != "modeled";
            chart.series.push(series);
        }
    }
    chart.caption = format!(
        "Published full-scale simulations of the Potjans-Diesmann microcircuit (Senk et al. 2026 table, \
         data/microcircuit_benchmarks.csv), by platform; the brain as a line at real time from {low:.1e} to \
         {high:.1e} J per synaptic event (20 W over 1.5e14 synapses firing at 0.16-10 Hz, an estimate); stars: \
         this run's microcircuit benchmarks on {machine} with an energy figure (hollow: MODELED energy), labelled \
         with their N_scaling. Points of runs at a reduced scale are not the full model: their real-time factor is \
         lower than a full-scale run's would be."
    );
    chart
}

/// Each population's rate in one microcircuit benchmark of the run, beside the reference's
/// full-scale rates where they apply (full scale, DC input). `populations`: (name, rate,
/// reference rate).
pub fn rates(populations: &[(String, f64, Option<f64>)], benchmark: &str) -> BarChart {
    let mut chart = BarChart::new(
        "cortex-rates",
        "Microcircuit: firing rate per population",
        Axis::linear("spikes per second").with_range(
            0.0,
            1.1 * populations
                .iter()
                .map(|(_, rate, reference)| rate.max(reference.unwrap_or(0.0)))
                .fold(1.0, f64::max),
        ),
        BarStyle::Bars,
    );
    chart.width = 1000;
    chart.categories = populations.iter().map(|(name, _, _)| name.clone()).collect();
    chart.groups.push(BarGroup {
        label: "this run".into(),
        color: 0,
        values: populations.iter().map(|(_, rate, _)| Some(Bar::new(*rate))).collect(),
    });
    if populations.iter().any(|(_, _, r)| r.is_some()) {
        chart.groups.push(BarGroup {
            label: "reference (NEST, full scale, DC input)".into(),
            color: 1,
            values: populations.iter().map(|(_, _, r)| r.map(Bar::new)).collect(),
        });
    }
    chart.caption = format!(
        "Mean firing rate of each population over the timed simulation of {benchmark} (all neurons, silent ones \
         included, as the reference's helpers.firing_rates counts them), from the run's populations.csv; beside \
         them, where the run is at full scale with DC input, the rates the model's authors publish for NEST \
         (PyPI microcircuit 1.0). At reduced scale the dynamics differ from the full model's, and no reference \
         rates are drawn."
    );
    chart
}
