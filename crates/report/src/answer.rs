//! The answer panel: how far this machine is from a brain, in three figures a person reads in
//! ten seconds, each beside the brain's with the gap as a factor and marked measured, MODELED
//! or estimated right where it stands.
//!
//! Throughput is the best neural-network kernel of the run (GEMM, convolution, attention or an
//! end-to-end model; never `peak_fma`, which no network reaches); energy is that same row's
//! FLOP per joule; the microcircuit, when the run has one, is its real-time factor and joules
//! per synaptic event against the brain's real time and its range of J per event.

use super::cortex;
use crate::store::{RunInfo, SummaryRow};
use braingap_meters::EnergySource;
use serde::Serialize;

/// Brain-equivalent compute, FLOP/s: Carlsmith 2020's central estimate and mechanistic range
/// (`data/brain_compute.csv`).
pub const BRAIN_FLOPS: (f64, f64, f64) = (1e13, 1e15, 1e17);

/// One figure of the panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerFigure {
    /// What is measured, e.g. `neural-network throughput`.
    pub what: String,
    /// This machine's figure with its unit.
    pub value: String,
    /// `measured`, `MODELED`, `simulated`.
    pub source: String,
    /// Which benchmark gave it, by its short name (what else it rests on, where it says).
    pub from: String,
    /// The benchmark's full name (hover text).
    pub from_full: String,
    /// The brain's figure.
    pub brain: String,
    /// The gap as a factor, with its range.
    pub gap: String,
    /// This machine ÷ the brain (above 1: the machine does better), at the brain's low,
    /// central and high estimates' ends: (lowest ratio, central, highest ratio). Drawn in
    /// the panel's figure.
    #[serde(skip)]
    pub ratio: Option<(f64, f64, f64)>,
    /// What the figure's row adds to `what` (e.g. `scale 0.05`).
    #[serde(skip)]
    pub chart_note: Option<String>,
}

/// This machine's `value` ÷ the brain's estimates `(low, central, high)` of a quantity where
/// more is better: (value ÷ high, value ÷ central, value ÷ low).
fn ratio_to((low, central, high): (f64, f64, f64), value: f64) -> (f64, f64, f64) {
    (value / high, value / central, value / low)
}

/// The panel.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct AnswerContext {
    /// The fake backend's timings are modelled: everything here describes a test double.
    pub simulated: bool,
    /// One-line answer.
    pub headline: String,
    /// The figures.
    pub figures: Vec<AnswerFigure>,
    /// What could not be answered, and why.
    pub missing: Vec<String>,
}

fn is_network_kernel(kernel: &str) -> bool {
    kernel == "gemm"
        || kernel.starts_with("conv2d")
        || kernel == "attention"
        || kernel.starts_with("mlp")
        || kernel.starts_with("lenet")
        || kernel.starts_with("alexnet")
        || kernel.starts_with("lstm")
        || kernel.starts_with("transformer")
}

/// A number to two significant figures, in engineering notation for large and small values.
pub fn two_sig(value: f64) -> String {
    if !value.is_finite() {
        return "unknown".into();
    }
    let magnitude = value.abs();
    if (0.01..10_000.0).contains(&magnitude) {
        let exponent = magnitude.log10().floor() as i32;
        let unit = 10f64.powi(exponent - 1);
        let rounded = (value / unit).round() * unit;
        let decimals = (1 - exponent).max(0) as usize;
        format!("{rounded:.decimals$}")
    } else {
        format!("{value:.1e}")
    }
}

/// "≈ 440× short of 1e15 FLOP/s (4.4×–44,000× over 1e13–1e17)", or "exceeds ..." when above.
/// A modeled figure as the page shows it: two significant figures and the model's range
/// (`meters::model::MODEL_UNCERTAINTY` either way), e.g. `1.2e10 FLOP/J (model range
/// 6.0e9–2.4e10)`.
pub fn modeled(value: f64, unit: &str) -> String {
    format!("{} {unit} (model range {})", two_sig(value), model_range(value))
}

/// The same in a table cell, where the column says it is modeled: `0.38 (0.19–0.76)`.
pub fn modeled_cell(value: f64) -> String {
    format!("{} ({})", two_sig(value), model_range(value))
}

/// The model's range around a modeled `value`, `low–high`.
fn model_range(value: f64) -> String {
    let u = braingap_meters::model::MODEL_UNCERTAINTY;
    format!("{}–{}", two_sig(value / u), two_sig(value * u))
}

fn gap_text(value: f64, (low, central, high): (f64, f64, f64), unit: &str) -> String {
    let factor = |target: f64| target / value;
    let central_factor = factor(central);
    if central_factor <= 1.0 {
        return format!(
            "exceeds the central estimate {} {unit} (×{})",
            two_sig(central),
            two_sig(1.0 / central_factor)
        );
    }
    format!(
        "≈ {}× short of {} {unit} ({}×–{}× over the estimates' range {}–{})",
        two_sig(central_factor),
        two_sig(central),
        two_sig(factor(low).max(0.0)),
        two_sig(factor(high)),
        two_sig(low),
        two_sig(high)
    )
}

fn source_of(row: &SummaryRow, simulated: bool) -> String {
    if simulated {
        "simulated (fake backend)".into()
    } else if row.energy_source == EnergySource::Modeled {
        "MODELED".into()
    } else {
        format!("measured ({})", row.energy_source.as_str())
    }
}

/// The panel's figure: each of its figures as this machine ÷ the brain on one log axis,
/// the dot at the brain's central estimate and the whisker over the estimates' range, the
/// brain at 1; `None` when no figure has a ratio.
pub fn gap_chart(panel: &AnswerContext) -> Option<crate::figures::BarChart> {
    use crate::figures::{Axis, Bar, BarChart, BarGroup, BarStyle, RefLine};
    let rows: Vec<(&AnswerFigure, (f64, f64, f64))> = panel
        .figures
        .iter()
        .filter_map(|f| Some((f, f.ratio?)))
        .filter(|(_, (lo, c, hi))| [lo, c, hi].iter().all(|v| v.is_finite() && **v > 0.0))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mut chart = BarChart::new(
        "answer",
        "This machine ÷ the brain (1 = the brain; left of it, the machine falls short)",
        Axis::log("this machine ÷ the brain (log scale)"),
        BarStyle::Dots,
    );
    chart.width = 1400;
    chart.whisker_label = "range of brain estimates".into();
    chart.caption = format!(
        "Each figure of the panel above as this machine's ÷ the brain's, where more is better (for joules per \
         synaptic event: the brain's ÷ this machine's; for a whole brain: one machine's share of it). The dot is \
         set against the brain's central estimate, the whisker spans the estimates' range; a pale dot is modeled \
         energy ({}× either way besides). The dashed line at 1 is the brain.",
        braingap_meters::model::MODEL_UNCERTAINTY
    );
    chart.categories = rows
        .iter()
        .map(|(f, _)| match &f.chart_note {
            Some(note) => format!("{} ({note})", f.what),
            None => f.what.clone(),
        })
        .collect();
    chart.groups.push(BarGroup {
        label: if panel.simulated {
            "simulated (fake backend)".into()
        } else {
            "this machine".into()
        },
        color: 0,
        values: rows
            .iter()
            .map(|(f, (lo, c, hi))| {
                let mut bar = Bar::new(*c).with_ci(*lo, *hi);
                bar.modeled = f.source == "MODELED";
                Some(bar)
            })
            .collect(),
    });
    let mut brain = RefLine::vertical("the brain", 1.0, 1);
    brain.dashed = true;
    chart.ref_lines.push(brain);
    Some(chart)
}

/// The panel of `run`.
pub fn answer(run: &RunInfo, details: &[cortex::SimulationDetail]) -> AnswerContext {
    let simulated = run.meta.backend == crate::store::BackendKind::Fake;
    // Full names run to 114 characters with no place to break: the panel shows short ones.
    let short_names = crate::compare::render::short_names(&run.summary);
    let short = |full: &str| short_names.get(full).cloned().unwrap_or_else(|| full.to_string());
    let timing = if simulated {
        "simulated (fake backend)"
    } else {
        "measured"
    };
    let mut panel = AnswerContext {
        simulated,
        ..AnswerContext::default()
    };
    let best = run
        .summary
        .iter()
        .filter(|r| r.status == crate::measure::Status::Ok && is_network_kernel(&r.kernel))
        .filter_map(|r| Some((r.gflops_per_s?, r)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let brain = super::measured::brain_energy_reference();
    let (per_joule_low, per_joule_high) = brain.range.unwrap_or((brain.flops_per_joule, brain.flops_per_joule));
    let brain_per_joule = (per_joule_low, brain.flops_per_joule, per_joule_high);
    match best {
        Some((gflops, row)) => {
            let flops = gflops * 1e9;
            panel.figures.push(AnswerFigure {
                what: "neural-network throughput".into(),
                value: format!("{} FLOP/s", two_sig(flops)),
                source: timing.into(),
                from: short(&row.benchmark),
                from_full: row.benchmark.clone(),
                brain: format!(
                    "{} FLOP/s (estimate; {}–{})",
                    two_sig(BRAIN_FLOPS.1),
                    two_sig(BRAIN_FLOPS.0),
                    two_sig(BRAIN_FLOPS.2)
                ),
                gap: gap_text(flops, BRAIN_FLOPS, "FLOP/s"),
                ratio: Some(ratio_to(BRAIN_FLOPS, flops)),
                chart_note: None,
            });
            match row
                .gflops_per_joule
                .filter(|_| row.energy_source != EnergySource::Unavailable)
            {
                Some(per_joule) => panel.figures.push(AnswerFigure {
                    what: "energy efficiency".into(),
                    value: if row.energy_source == EnergySource::Modeled && !simulated {
                        modeled(per_joule * 1e9, "FLOP/J")
                    } else {
                        format!("{} FLOP/J", two_sig(per_joule * 1e9))
                    },
                    source: source_of(row, simulated),
                    from: short(&row.benchmark),
                    from_full: row.benchmark.clone(),
                    brain: format!("{} FLOP/J (estimate: 1e15 FLOP/s ÷ 20 W)", two_sig(brain_per_joule.1)),
                    gap: gap_text(per_joule * 1e9, brain_per_joule, "FLOP/J"),
                    ratio: Some(ratio_to(brain_per_joule, per_joule * 1e9)),
                    chart_note: None,
                }),
                None => panel
                    .missing
                    .push(format!("energy: unavailable for {} on this machine", row.benchmark)),
            }
        }
        None => panel
            .missing
            .push("throughput: no verified GEMM, convolution, attention or model benchmark in this run".into()),
    }
    let sims = cortex::measured(run);
    if let Some(sim) = cortex::largest(&sims) {
        let scale_note = if sim.scale == 1.0 && sim.k_scale == 1.0 {
            "full scale".to_string()
        } else {
            format!("at scale {} (K {}), not the full model", sim.scale, sim.k_scale)
        };
        panel.figures.push(AnswerFigure {
            what: "cortex simulation speed".into(),
            value: format!("real-time factor {}", two_sig(sim.real_time_factor)),
            source: timing.into(),
            from: format!("{} ({scale_note})", short(&sim.benchmark)),
            from_full: sim.benchmark.clone(),
            brain: "real time (factor 1)".into(),
            gap: if sim.real_time_factor <= 1.0 {
                format!("faster than real time (×{})", two_sig(1.0 / sim.real_time_factor))
            } else {
                format!("{}× slower than real time", two_sig(sim.real_time_factor))
            },
            // The brain runs its cortex at real time: the ratio is the simulation's pace.
            ratio: Some((
                1.0 / sim.real_time_factor,
                1.0 / sim.real_time_factor,
                1.0 / sim.real_time_factor,
            )),
            chart_note: (sim.scale != 1.0 || sim.k_scale != 1.0).then(|| format!("scale {}", sim.scale)),
        });
        let (low, high) = cortex::brain_joules_per_event();
        match &sim.joules_per_event {
            Some((joules, source)) => panel.figures.push(AnswerFigure {
                what: "energy per synaptic event".into(),
                value: if source == "modeled" && !simulated {
                    modeled(*joules, "J")
                } else {
                    format!("{} J", two_sig(*joules))
                },
                source: if simulated {
                    "simulated (fake backend)".into()
                } else if source == "modeled" {
                    "MODELED".into()
                } else {
                    format!("measured ({source})")
                },
                from: short(&sim.benchmark),
                from_full: sim.benchmark.clone(),
                brain: format!("{}–{} J (estimate)", two_sig(low), two_sig(high)),
                gap: format!("≈ {}×–{}× the brain's", two_sig(joules / high), two_sig(joules / low)),
                // Fewer joules is better: the brain's ÷ this machine's.
                ratio: Some((low / joules, (low * high).sqrt() / joules, high / joules)),
                chart_note: None,
            }),
            None => panel
                .missing
                .push(format!("energy per synaptic event: unavailable for {}", sim.benchmark)),
        }
        // A whole human brain at this level of detail, in real time, on machines like this one.
        let projection = details
            .iter()
            .find(|d| d.benchmark == sim.benchmark)
            .and_then(|d| cortex::measured_costs(run, d))
            .map(|costs| crate::analysis::brain_scale::project(&crate::analysis::brain_scale::human_brain(), &costs));
        if let Some(p) = projection {
            use crate::analysis::brain_scale::range;
            panel.figures.push(AnswerFigure {
                what: "a human brain in real time, at this detail".into(),
                value: format!("{} machines like this one", range(p.machines)),
                source: if simulated {
                    "simulated (fake backend)".into()
                } else {
                    "MODELED".into()
                },
                from: format!(
                    "from the measured costs of {}: synapses × 0.16–10 Hz, communication left out",
                    short(&sim.benchmark)
                ),
                from_full: sim.benchmark.clone(),
                brain: "one brain, 20 W".into(),
                gap: match p.watts {
                    Some(w) => format!(
                        "{} W (MODELED), {}× the brain's",
                        range(w),
                        range((w.0 / 20.0, w.1 / 20.0))
                    ),
                    None => "power unknown on this machine".into(),
                },
                // One machine is this share of a brain in real time.
                ratio: Some((
                    1.0 / p.machines.1,
                    1.0 / (p.machines.0 * p.machines.1).sqrt(),
                    1.0 / p.machines.0,
                )),
                chart_note: None,
            });
        }
    } else {
        panel
            .missing
            .push("cortex simulation: no microcircuit in this run (`braingap run --profile microcircuit`)".into());
    }
    panel.headline = match panel.figures.first() {
        Some(first) if simulated => format!(
            "SIMULATED: the fake backend's modelled timings, not this machine's. {}: {}, {}.",
            first.what, first.value, first.gap
        ),
        Some(first) => format!(
            "This machine: {} {} ({}), {}.",
            first.what, first.value, first.source, first.gap
        ),
        None => "No figure of this run can be set against the brain (see below).".into(),
    };
    panel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_significant_figures() {
        assert_eq!(two_sig(4412.3), "4400");
        assert_eq!(two_sig(44.123), "44");
        assert_eq!(two_sig(4.4123), "4.4");
        assert_eq!(two_sig(0.44123), "0.44");
        assert_eq!(two_sig(2.27e11), "2.3e11");
        assert_eq!(two_sig(5.5e-8), "5.5e-8");
        assert_eq!(two_sig(f64::NAN), "unknown");
    }

    /// The panel's figure puts each ratio on one axis against the brain at 1: a throughput
    /// of 1e11 FLOP/s is 1e-4 of the central 1e15 and spans 1e-6 to 1e-2 over the brain's
    /// estimates; modeled figures are drawn pale; a figure with no ratio is left out.
    #[test]
    fn the_gap_chart_sets_every_figure_against_the_brain_at_one() {
        let figure = |what: &str, source: &str, ratio: Option<(f64, f64, f64)>, note: Option<&str>| AnswerFigure {
            what: what.into(),
            value: String::new(),
            source: source.into(),
            from: String::new(),
            from_full: String::new(),
            brain: String::new(),
            gap: String::new(),
            ratio,
            chart_note: note.map(str::to_string),
        };
        let (lo, c, hi) = ratio_to(BRAIN_FLOPS, 1e11);
        assert!((lo - 1e-6).abs() < 1e-18 && (c - 1e-4).abs() < 1e-16 && (hi - 1e-2).abs() < 1e-14);
        let panel = AnswerContext {
            figures: vec![
                figure("neural-network throughput", "measured", Some((lo, c, hi)), None),
                figure("energy efficiency", "MODELED", Some((1e-5, 1e-4, 1e-3)), None),
                figure("no ratio", "measured", None, None),
                figure(
                    "cortex simulation speed",
                    "measured",
                    Some((3.7, 3.7, 3.7)),
                    Some("scale 0.05"),
                ),
            ],
            ..AnswerContext::default()
        };
        let chart = gap_chart(&panel).unwrap();
        assert_eq!(
            chart.categories,
            [
                "neural-network throughput",
                "energy efficiency",
                "cortex simulation speed (scale 0.05)"
            ]
        );
        let bars: Vec<_> = chart.groups[0].values.iter().flatten().collect();
        assert_eq!((bars[0].value, bars[0].low, bars[0].high), (c, Some(lo), Some(hi)));
        assert!(!bars[0].modeled && bars[1].modeled);
        assert_eq!(chart.ref_lines[0].value, 1.0);
        assert!(gap_chart(&AnswerContext::default()).is_none());
    }

    #[test]
    fn modeled_figures_carry_the_model_range() {
        assert_eq!(modeled(1.2e10, "FLOP/J"), "1.2e10 FLOP/J (model range 6.0e9–2.4e10)");
        assert_eq!(modeled(0.38, "J"), "0.38 J (model range 0.19–0.76)");
        assert_eq!(modeled_cell(0.38), "0.38 (0.19–0.76)");
    }

    #[test]
    fn gaps_are_factors_over_the_range() {
        // 2.27e11 FLOP/s against 1e15: 4405× short; over 1e13..1e17: 44×..440,529×.
        let text = gap_text(2.27e11, BRAIN_FLOPS, "FLOP/s");
        assert!(text.starts_with("≈ 4400× short of 1.0e15 FLOP/s"), "{text}");
        assert!(text.contains("44×–4.4e5×"), "{text}");
        assert!(gap_text(2e15, BRAIN_FLOPS, "FLOP/s").starts_with("exceeds the central estimate"));
    }
}
