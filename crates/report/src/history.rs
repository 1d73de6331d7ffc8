//! History, projections and claims as plain data, and the figures drawn from them.
//!
//! The report does not compute trends; it draws what it is given. [`References`] holds
//! everything the history sections show: panels of dated points with fitted trend lines
//! and CI bands, horizontal reference levels (species neuron counts, the brain's FLOP/s),
//! this machine's point, crossover projections, the claims check and the fit table.
//! [`from_analysis`] fills it from `crate::analysis` and the bundled datasets; tests fill
//! it by hand.

use super::figures::{
    Axis, Band, Bar, BarChart, BarGroup, BarStyle, LineKind, Marker, Point, RefLine, Series, XyChart,
};
use super::measured::EnergyReference;
use serde::Serialize;

pub use super::glue::from_analysis;

/// One dated data point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Decimal year.
    pub x: f64,
    /// Value.
    pub y: f64,
    /// Name (network, model, chip).
    pub label: String,
    /// Group (drawn in its own colour), e.g. `CPU`, `GPU`.
    pub group: Option<String>,
}

/// A fitted exponential trend `log10 y = intercept + slope·x` and its CI band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendLine {
    /// Legend text, e.g. `fit 1958-2015: ×2 every 2.4 yr`.
    pub label: String,
    /// First x drawn.
    pub x_from: f64,
    /// Last x drawn.
    pub x_to: f64,
    /// log10 units per year.
    pub slope_log10: f64,
    /// log10 intercept at x = 0.
    pub intercept_log10: f64,
    /// CI band: (x, low, high), x increasing; empty for none.
    pub band: Vec<(f64, f64, f64)>,
    /// What the band is, e.g. `95 % CI of the trend (bootstrap)`.
    pub band_label: String,
}

impl TrendLine {
    /// The fitted value at `x`.
    pub fn at(&self, x: f64) -> f64 {
        10f64.powf(self.intercept_log10 + self.slope_log10 * x)
    }
}

/// A horizontal reference level, e.g. a species' neuron count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceLevel {
    /// Label drawn on the line.
    pub label: String,
    /// Value.
    pub value: f64,
    /// Plausible range, shaded.
    pub range: Option<(f64, f64)>,
}

/// This machine's point on a history chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineMark {
    /// Legend text.
    pub label: String,
    /// Decimal year of the run.
    pub x: f64,
    /// Measured value.
    pub y: f64,
}

/// One history chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPanel {
    /// File stem and HTML id, e.g. `history_neurons`.
    pub id: String,
    /// Title.
    pub title: String,
    /// y-axis label with unit.
    pub y_label: String,
    /// Data points.
    pub points: Vec<HistoryPoint>,
    /// Fitted trends (one, or one per era).
    pub trends: Vec<TrendLine>,
    /// Horizontal reference levels.
    pub references: Vec<ReferenceLevel>,
    /// This machine's point, where it belongs.
    pub machine: Option<MachineMark>,
    /// Caption: what is plotted, how it was fitted, sources.
    pub caption: String,
}

/// When a trend reaches a brain figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectionRow {
    /// The trend, e.g. `ANN neurons (Goodfellow Fig 1.11 fit)`.
    pub trend: String,
    /// The target, e.g. `human brain neurons`.
    pub target: String,
    /// Target value.
    pub target_value: f64,
    /// Unit of the target.
    pub unit: String,
    /// Central crossover year.
    pub year: Option<f64>,
    /// 95 % CI, low.
    pub ci_low: Option<f64>,
    /// 95 % CI, high (`None` with `open_high`: unbounded).
    pub ci_high: Option<f64>,
    /// Upper end unbounded (some resamples never get there).
    pub open_high: bool,
    /// `reached`, `already_reached`, `never_within_horizon`.
    pub status: String,
}

/// One checked claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimRow {
    /// Stable id.
    pub id: String,
    /// The claim.
    pub claim: String,
    /// `supported`, `partly`, `not supported`, `cannot be checked`.
    pub verdict: String,
    /// What the data say.
    pub finding: String,
    /// The numbers behind it, one line each.
    pub evidence: Vec<String>,
}

/// A published trend analysis redone on the bundled data (`braingap studies`), for the
/// report's fit table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyRow {
    /// Study name (`braingap fit --study NAME`).
    pub name: String,
    /// The publication, one line.
    pub source: String,
    /// The published figure and its interval.
    pub published: String,
    /// braingap's figure, its 95 % interval and n.
    pub braingap: String,
    /// `reproduced within CI`, `differs, explained by data revision`, `differs, unexplained`.
    pub verdict: String,
    /// Why, with the numbers.
    pub explanation: String,
    /// The data snapshot read.
    pub snapshot: String,
    /// braingap's figure on the paper's own rows, where they are bundled, with the
    /// dataset's name.
    pub on_paper_data: Option<String>,
}

/// One fitted trend drawn on a history figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitRow {
    /// What was fitted.
    pub what: String,
    /// Model.
    pub model: String,
    /// Points.
    pub n: usize,
    /// Years covered.
    pub years: String,
    /// log10 per year.
    pub slope_log10_per_year: f64,
    /// Doubling time, years.
    pub doubling_time_years: Option<f64>,
    /// 95 % CI of the doubling time.
    pub doubling_time_ci: [Option<f64>; 2],
    /// R² in log space.
    pub r2: Option<f64>,
    /// Data file.
    pub source: String,
}

/// Everything the history, projection and claims sections draw.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct References {
    /// History charts.
    pub panels: Vec<HistoryPanel>,
    /// Projections to brain figures.
    pub projections: Vec<ProjectionRow>,
    /// Claims check.
    pub claims: Vec<ClaimRow>,
    /// Every claim of the seed report judged by the rubric, counted: `107 claims ...: 11
    /// supported, ...`.
    pub claims_summary: Option<String>,
    /// Published trend analyses redone: the report's fit table.
    pub studies: Vec<StudyRow>,
    /// The trend lines drawn on the history figures.
    pub fits: Vec<FitRow>,
    /// Lines on the energy chart besides the brain's.
    pub energy: Vec<EnergyReference>,
    /// "this CPU delivers x % of a brain's FLOP/s at y times its power", when known.
    pub machine_sentence: Option<String>,
    /// Published simulations of the cortical microcircuit.
    pub published_simulations: Vec<super::cortex::PublishedSimulation>,
    /// What could not be loaded or fitted, and why.
    pub notes: Vec<String>,
    /// Where the reference data came from.
    pub data_dir: Option<String>,
}

/// What the run measured, for placing this machine on the history charts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineMeasured {
    /// CPU model or device.
    pub label: String,
    /// Decimal year of the run.
    pub year: f64,
    /// Best measured FP32 FLOP/s (peak_fma or GEMM).
    pub peak_flops_per_s_f32: Option<f64>,
    /// Best measured FP64 FLOP/s.
    pub peak_flops_per_s_f64: Option<f64>,
    /// STREAM triad bandwidth, bytes/s.
    pub stream_bytes_per_s: Option<f64>,
    /// FLOP per joule of the most efficient benchmark.
    pub flops_per_joule: Option<f64>,
    /// `rapl`, `nvml`, `modeled` or `unavailable`.
    pub flops_per_joule_source: String,
    /// Average power during that benchmark.
    pub avg_power_w: Option<f64>,
}

/// The chart of one history panel.
pub fn panel_chart(panel: &HistoryPanel) -> XyChart {
    let mut chart = XyChart::new(&panel.id, &panel.title, Axis::years("year"), Axis::log(&panel.y_label));
    chart.caption = panel.caption.clone();
    let mut groups: Vec<Option<String>> = panel.points.iter().map(|p| p.group.clone()).collect();
    groups.sort();
    groups.dedup();
    for (i, group) in groups.iter().enumerate() {
        let points = panel
            .points
            .iter()
            .filter(|p| &p.group == group)
            .map(|p| Point::new(p.x, p.y))
            .collect();
        let label = group.clone().unwrap_or_else(|| "data".into());
        chart.series.push(Series::points(
            label,
            i,
            [Marker::Circle, Marker::Triangle, Marker::Square, Marker::Diamond][i % 4],
            points,
        ));
    }
    let trend_color = groups.len();
    for (i, trend) in panel.trends.iter().enumerate() {
        if !trend.band.is_empty() {
            chart.bands.push(Band {
                label: trend.band_label.clone(),
                color: trend_color + i,
                points: trend.band.clone(),
            });
        }
        let steps = 24;
        let points = (0..=steps)
            .map(|k| {
                let x = trend.x_from + (trend.x_to - trend.x_from) * k as f64 / steps as f64;
                Point::new(x, trend.at(x))
            })
            .collect();
        chart
            .series
            .push(Series::line(&trend.label, trend_color + i, LineKind::Solid, points));
    }
    for (i, reference) in panel.references.iter().enumerate() {
        let mut line = RefLine::horizontal(&reference.label, reference.value, 6 + (i % 2) * 5);
        line.range = reference.range;
        chart.ref_lines.push(line);
    }
    if let Some(mark) = &panel.machine {
        chart.series.push(Series::points(
            &mark.label,
            4,
            Marker::Star,
            vec![Point::new(mark.x, mark.y)],
        ));
    }
    chart.empty_note = Some("no reference data".into());
    chart
}

/// Crossover years with their CIs as a dot-and-whisker chart.
pub fn projection_chart(rows: &[ProjectionRow], horizon: f64) -> BarChart {
    let mut chart = BarChart::new(
        "projections",
        "Projections: when each trend reaches its brain figure",
        Axis::years("year the fitted trend reaches the target (95 % CI)"),
        BarStyle::Dots,
    );
    let shown: Vec<&ProjectionRow> = rows.iter().filter(|r| r.year.is_some()).collect();
    chart.categories = shown.iter().map(|r| format!("{} → {}", r.trend, r.target)).collect();
    let last_year = shown
        .iter()
        .flat_map(|r| [r.year, r.ci_high])
        .flatten()
        .fold(2030.0, f64::max);
    let first_year = shown
        .iter()
        .flat_map(|r| [r.year, r.ci_low])
        .flatten()
        .fold(2020.0, f64::min);
    chart.value_axis = chart
        .value_axis
        .with_range((first_year - 5.0).floor(), (last_year + 10.0).min(horizon).ceil());
    chart.groups.push(BarGroup {
        label: "central year".into(),
        color: 0,
        values: shown
            .iter()
            .map(|r| {
                Some(Bar {
                    value: r.year.unwrap_or_default(),
                    low: r.ci_low,
                    high: r.ci_high,
                    open_high: r.open_high,
                    modeled: false,
                    samples: Vec::new(),
                })
            })
            .collect(),
    });
    chart.empty_note = Some("no projection: reference data unavailable".into());
    chart.caption =
        "Year each fitted exponential trend (log10 y linear in the year) reaches its brain figure; whiskers: \
        2.5-97.5 % quantiles of the crossover year over bootstrap refits of the trend; an arrow means more than 2.5 % \
        of refits never reach the target within the horizon. Trends that never reach it are listed in the table below."
            .into();
    chart
}
