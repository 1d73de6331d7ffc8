//! "Simulating cortex": this machine on the brain-simulation field's own yardstick. The
//! Potjans-Diesmann microcircuit's real-time factor against its energy per synaptic event,
//! beside the published platforms (`data/microcircuit_benchmarks.csv`) and the brain, and
//! each population's rate beside the model authors' reference rates.

use super::figures::{Axis, Bar, BarChart, BarGroup, BarStyle, LineKind, Marker, Point, Series, XyChart};
use crate::store::RunInfo;
use braingap_meters::EnergySource;
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
        .filter(|r| r.kernel == "microcircuit" && r.status == crate::measure::Status::Ok)
        .filter_map(|r| {
            let median = r.median_s?;
            Some(MeasuredSimulation {
                benchmark: r.benchmark.clone(),
                scale: r.param("scale")?,
                k_scale: r.param("k_scale")?,
                real_time_factor: median / (crate::kernels::microcircuit::MS_PER_CALL * 1e-3),
                joules_per_event: r
                    .joules_per_synaptic_event
                    .filter(|j| *j > 0.0 && r.energy_source != EnergySource::Unavailable)
                    .map(|j| (j, r.energy_source.as_str().to_string())),
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

/// A run's `microcircuit.csv` and `spikes.csv`, read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CortexFiles {
    /// Phase times and counts per microcircuit benchmark.
    pub details: Vec<SimulationDetail>,
    /// The raster window's spikes.
    pub raster: Vec<RasterSpike>,
}

/// One row of `microcircuit.csv` (the columns the report uses): what the projections need,
/// and the timed phase's wall time.
pub type SimulationDetail = crate::analysis::brain_scale::CostInputs;

/// One spike of `spikes.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct RasterSpike {
    /// Benchmark.
    pub benchmark: String,
    /// Population, e.g. `L23E`.
    pub population: String,
    /// Global neuron id (populations in order L23E … L6I).
    pub neuron: u64,
    /// Time from the raster window's start, ms.
    pub time_ms: f64,
}

/// A `scatter_add` row: its group size, row cells and events per second.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryLimit {
    /// Benchmark.
    pub benchmark: String,
    /// Words per group.
    pub group: f64,
    /// Cells per accumulator row.
    pub targets: f64,
    /// Events per second at the median.
    pub events_per_s: f64,
}

/// The run's verified `scatter_add` rows.
pub fn delivery_limits(run: &RunInfo) -> Vec<DeliveryLimit> {
    run.summary
        .iter()
        .filter(|r| r.kernel == "scatter_add" && r.status == crate::measure::Status::Ok)
        .filter_map(|r| {
            Some(DeliveryLimit {
                benchmark: r.benchmark.clone(),
                group: r.param("group")?,
                targets: r.param("targets")?,
                events_per_s: r.events_per_call? / r.median_s?,
            })
        })
        .collect()
}

/// Spike delivery against this machine's random-access limit: each microcircuit's events per
/// second of delivery and per second of the whole simulation, beside the `scatter_add` limits.
pub fn delivery(limits: &[DeliveryLimit], details: &[SimulationDetail], sims: &[MeasuredSimulation]) -> BarChart {
    let mut chart = BarChart::new(
        "cortex-delivery",
        "Spike delivery against this machine's limits",
        Axis::linear("million recurrent synaptic events per second (all threads)"),
        BarStyle::Bars,
    );
    let mut limit_values = Vec::new();
    let mut sim_values = Vec::new();
    let mut limits: Vec<&DeliveryLimit> = limits.iter().collect();
    limits.sort_by(|a, b| b.group.total_cmp(&a.group));
    for l in limits {
        chart.categories.push(if l.group >= 4096.0 {
            format!("ceiling: words streamed, {}-cell rows", l.targets)
        } else if l.group == 1.0 {
            "every word at a random place".to_string()
        } else {
            format!("groups of {} words at random places", l.group)
        });
        limit_values.push(Some(Bar::new(l.events_per_s * 1e-6)));
        sim_values.push(None);
    }
    for d in details {
        let scale = sims
            .iter()
            .find(|s| s.benchmark == d.benchmark)
            .map_or(String::new(), |s| format!(" scale {}", s.scale));
        if let Some(rate) = d.delivery_events_per_s() {
            chart.categories.push(format!("microcircuit{scale}: delivery alone"));
            sim_values.push(Some(Bar::new(rate * 1e-6)));
            limit_values.push(None);
        }
        if d.wall_s > 0.0 {
            chart.categories.push(format!("microcircuit{scale}: whole simulation"));
            sim_values.push(Some(Bar::new(d.recurrent_events / d.wall_s * 1e-6)));
            limit_values.push(None);
        }
    }
    chart.groups.push(BarGroup {
        label: "scatter_add kernel (measured)".into(),
        color: 2,
        values: limit_values,
    });
    chart.groups.push(BarGroup {
        label: "microcircuit (measured)".into(),
        color: 0,
        values: sim_values,
    });
    chart.caption = "Events per second, all threads together. The scatter_add kernel does what delivery does and \
                     nothing else: it reads packed synapse words (the simulator's own 8-byte layout) from a 128 MiB \
                     table and adds each weight into a per-thread row of 32,768 f64 input cells (a full-scale \
                     thread's row). Streamed, the words cost only the row's random access: delivery's ceiling. In \
                     groups of 64 at random places (about a full-scale spike's synapses of one delay on one of 2 \
                     threads), each group also pays a memory miss; one word at a random place is the pure \
                     random-access limit. The simulator reads a source's delay groups one after another, each \
                     where the last ended, so its delivery lies between the ceiling and the random groups. Its \
                     delivery rate is its recurrent events over the threads' mean time pulling spikes; the \
                     whole-simulation rate also pays for neuron updates and the barrier each 0.1 ms step."
        .into();
    chart
}

/// The most neurons a raster draws: every k-th neuron beyond this, so dots stay distinct.
pub const RASTER_MAX_NEURONS: u64 = 8000;

/// A 100 ms spike raster of one benchmark: time against neuron, L2/3 at the top, every k-th
/// neuron where the network has more than [`RASTER_MAX_NEURONS`].
pub fn raster(spikes: &[RasterSpike], benchmark: &str, neurons: u64) -> XyChart {
    let step = neurons.div_ceil(RASTER_MAX_NEURONS).max(1);
    let mut chart = XyChart::new(
        "cortex-raster",
        "Microcircuit: 100 ms of spikes",
        Axis::linear("time from the window's start (ms)").with_range(0.0, 100.0),
        Axis::linear("neurons, counted up from L6I at the bottom to L2/3E at the top").with_range(0.0, neurons as f64),
    );
    chart.height = 900;
    for (inhibitory, label, color) in [
        (false, "excitatory (L2/3E, L4E, L5E, L6E)", 0),
        (true, "inhibitory (L2/3I, L4I, L5I, L6I)", 3),
    ] {
        let points: Vec<Point> = spikes
            .iter()
            .filter(|s| s.benchmark == benchmark && s.neuron % step == 0)
            .filter(|s| s.population.ends_with('I') == inhibitory)
            .map(|s| Point::new(s.time_ms, (neurons - s.neuron) as f64))
            .collect();
        if !points.is_empty() {
            chart.series.push(Series::points(label, color, Marker::Dot, points));
        }
    }
    chart.caption = format!(
        "Every spike of {} of the simulated neurons{} in the 100 ms that followed the timed \
         simulation of {benchmark} (untimed, from the run's spikes.csv), excitatory populations in one colour and \
         inhibitory ones in another, layers from L2/3 at the top to L6 at the bottom as in Potjans & Diesmann \
         (2014), Fig. 6.",
        if step == 1 { "all" } else { "a sample" },
        match step {
            1 => String::new(),
            _ => format!(" (every {step}th neuron)"),
        }
    );
    chart
}

/// The projection of this run's microcircuit costs to the full microcircuit, the multi-area
/// model and a human brain, one note each (every figure MODELED).
pub fn projection_notes(run: &RunInfo, detail: &SimulationDetail) -> Vec<String> {
    use crate::analysis::brain_scale::{project, range, target_models};
    let Some(costs) = measured_costs(run, detail) else {
        return vec![format!("{}: no events delivered, no projection", detail.benchmark)];
    };
    let watts = costs.watts.clone();
    let power_label = match &watts {
        Some((w, source)) if source == "modeled" => format!("{w:.0} W each, MODELED"),
        Some((w, source)) => format!("{w:.0} W each, {source}"),
        None => "power unknown on this machine".into(),
    };
    let mut notes = vec![format!(
        "Projection (MODELED from {}: {:.2e} core-seconds per synaptic event, {:.2e} per neuron update, {} bytes \
         per synapse; same costs assumed at every size, communication left out, so machine counts are lower \
         bounds):",
        detail.benchmark, costs.core_s_per_event, costs.core_s_per_update, costs.bytes_per_synapse
    )];
    for model in target_models() {
        let p = project(&model, &costs);
        let machines = range(p.machines);
        let watts = match (p.watts, p.watts_over_brain) {
            (Some(w), Some(over)) => format!(", {} W ({} × the brain's 20 W; {power_label})", range(w), range(over)),
            _ => format!(" ({power_label})"),
        };
        notes.push(format!(
            "{}: {} neurons, {} synapses at {} Hz: {} of memory; on one machine like this one {} × slower than real \
             time; in real time, {} machines like this one{}",
            model.name,
            range((model.neurons, model.neurons)),
            range((model.synapses, model.synapses)),
            if model.rate_hz.0 == model.rate_hz.1 {
                format!("{}", model.rate_hz.0)
            } else {
                format!("{}–{}", model.rate_hz.0, model.rate_hz.1)
            },
            crate::units::si(p.memory_bytes, "B"),
            range(p.real_time_factor),
            machines,
            watts
        ));
    }
    notes
}

/// This machine's costs from `detail`, with the run's memory and the row's power.
pub fn measured_costs(run: &RunInfo, detail: &SimulationDetail) -> Option<crate::analysis::brain_scale::MeasuredCosts> {
    let memory = run.meta.machine["memory_total_bytes"]["value"].as_f64();
    let watts = run
        .summary
        .iter()
        .find(|r| r.benchmark == detail.benchmark)
        .and_then(|r| {
            Some((
                r.avg_power_w.filter(|w| *w > 0.0)?,
                r.energy_source.as_str().to_string(),
            ))
        })
        .filter(|(_, source)| source != "unavailable");
    crate::analysis::brain_scale::MeasuredCosts::new(detail, memory, watts)
}

/// The newest run in the store at `results` that measured a microcircuit, with its largest
/// network's `microcircuit.csv` row.
pub fn newest_measured(results: &std::path::Path) -> Option<(RunInfo, SimulationDetail)> {
    let (runs, _) = crate::store::Store::new(results).list();
    runs.into_iter().rev().find_map(|run| {
        let details = super::files::read_simulation_details(&run.dir).ok()?;
        let detail = details.into_iter().max_by(|a, b| a.neurons.total_cmp(&b.neurons))?;
        Some((run, detail))
    })
}
