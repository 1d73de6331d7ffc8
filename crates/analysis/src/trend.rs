//! One trend fit end to end, as `braingap fit` runs it: resolve the data, select the
//! points, fit the chosen model, project to a target, and return a serializable report.

use std::path::Path;

use serde::Serialize;

use crate::datasets::{load_table, resolve_dataset, select_series, DatasetSpec, Filter, RowAccount, Selection, Series};
use crate::error::{AnalysisError, FitError};
use crate::fits::{
    exponential_trend, logistic_fit, piecewise_log_linear, power_law, theil_sen_exponential, BootstrapOptions,
    ExponentialFit, Interval, LogisticFit, PiecewiseFit, PowerLawFit, LOG10_2,
};
use crate::projections::{crossover, Crossover};

/// The trend models `braingap fit` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// `log10 y` linear in x.
    #[default]
    Exponential,
    /// `log10 y` linear in `log10 x`.
    Power,
    /// `y = L/(1+e^{−k(x−x₀)})`.
    Logistic,
    /// Exponential eras with BIC-chosen breakpoints.
    Piecewise,
}

impl Model {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Model::Exponential => "exponential",
            Model::Power => "power",
            Model::Logistic => "logistic",
            Model::Piecewise => "piecewise",
        }
    }
}

/// Everything `braingap fit` needs.
#[derive(Debug, Clone)]
pub struct FitRequest {
    /// A CSV path or a bundled dataset name.
    pub data: String,
    /// x column (numeric or `YYYY-MM-DD` dates).
    pub x: String,
    /// y column.
    pub y: String,
    /// Keep x ≥ from.
    pub from: Option<f64>,
    /// Keep x ≤ to.
    pub to: Option<f64>,
    /// Model to fit.
    pub model: Model,
    /// `--filter` expression.
    pub filter: Option<String>,
    /// Target y to project to.
    pub target: Option<f64>,
    /// Last year a crossover may fall in.
    pub horizon: f64,
    /// Bootstrap settings.
    pub bootstrap: BootstrapOptions,
}

impl FitRequest {
    /// A request with the defaults: exponential, no range, horizon 2200, 2,000
    /// resamples with the fixed seed.
    pub fn new(data: &str, x: &str, y: &str) -> FitRequest {
        FitRequest {
            data: data.to_string(),
            x: x.to_string(),
            y: y.to_string(),
            from: None,
            to: None,
            model: Model::Exponential,
            filter: None,
            target: None,
            horizon: 2200.0,
            bootstrap: BootstrapOptions::default(),
        }
    }
}

/// One point that went into a fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitPoint {
    /// Row label (first column).
    pub label: String,
    /// x value.
    pub x: f64,
    /// y value.
    pub y: f64,
    /// CSV line.
    pub line: usize,
}

/// Which data a fit read: the bundled table and the version of its source, or a user's
/// file; and how many rows the file holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSnapshot {
    /// Bundled dataset name; null for a file given by path.
    pub dataset: Option<&'static str>,
    /// Version of the source the bundled file holds (`YYYY-MM-DD`, `YYYY-MM` or `YYYY`;
    /// see `data/README.md`); null for a file given by path.
    pub date: Option<&'static str>,
    /// What that date is a version of.
    pub of: Option<&'static str>,
    /// Rows in the file read.
    pub rows: usize,
}

impl DataSnapshot {
    /// The snapshot of a table loaded with `spec` (None: a file given by path).
    pub fn new(spec: Option<&'static DatasetSpec>, rows: usize) -> DataSnapshot {
        DataSnapshot {
            dataset: spec.map(|s| s.name),
            date: spec.map(|s| s.snapshot_date),
            of: spec.map(|s| s.snapshot_of),
            rows,
        }
    }

    /// One line: `training_compute: Epoch AI Notable AI Models, snapshot 2026-01-26; 515
    /// rows`.
    pub fn describe(&self) -> String {
        match (self.dataset, self.date, self.of) {
            (Some(name), Some(date), Some(of)) => format!("{name}: {of}, snapshot {date}; {} rows", self.rows),
            _ => format!("a file given by path (no bundled snapshot), {} rows", self.rows),
        }
    }
}

/// The model-specific fit behind a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FitDetails {
    /// Exponential fit.
    Exponential(ExponentialFit),
    /// Power law.
    Power(PowerLawFit),
    /// Logistic.
    Logistic(LogisticFit),
    /// Piecewise, with an exponential refit (and bootstrap) of its last segment.
    Piecewise {
        /// The segmentation.
        segmentation: PiecewiseFit,
        /// Exponential fit of the last segment's points.
        last_segment: ExponentialFit,
    },
}

/// What `braingap fit --json` prints. Headline keys are flat; the full fit is in
/// `details`. For `power`, `slope_log10_per_unit` is the exponent and the
/// doubling-time keys are null; for `logistic` they describe the early exponential
/// phase; for `piecewise` they describe the last segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// Model name.
    pub model: &'static str,
    /// File read.
    pub data: String,
    /// Which data snapshot the file holds, and its row count.
    pub snapshot: DataSnapshot,
    /// Where every row of the file went: filtered out, not for fitting, dropped for a
    /// missing x or y, outside the range, below the top K, fitted.
    pub rows: RowAccount,
    /// x column.
    pub x: String,
    /// y column.
    pub y: String,
    /// Points fitted.
    pub n: usize,
    /// log10(y) per unit x (the exponent for a power law).
    pub slope_log10_per_unit: f64,
    /// Standard error of that slope, where defined.
    pub slope_se: Option<f64>,
    /// 95 % interval on the slope.
    pub slope_ci95: [Option<f64>; 2],
    /// `log10(2)/slope` in x units (years for dates).
    pub doubling_time_years: Option<f64>,
    /// 95 % interval on the doubling time (null end: unbounded).
    pub doubling_time_ci95: [Option<f64>; 2],
    /// Doubling time in months.
    pub doubling_time_months: Option<f64>,
    /// `10^slope`.
    pub growth_factor_per_year: Option<f64>,
    /// Orders of magnitude per year (= slope).
    pub oom_per_year: Option<f64>,
    /// Coefficient of determination (log space except logistic).
    pub r2: f64,
    /// Theil-Sen doubling time on the same points (exponential model only).
    pub theil_sen_doubling_time_years: Option<f64>,
    /// Target projected to.
    pub target: Option<f64>,
    /// Year the trend reaches the target.
    pub crossover_year: Option<f64>,
    /// Bootstrap 95 % interval on that year.
    pub crossover_year_ci95: Option<[Option<f64>; 2]>,
    /// `reached`, `already_reached`, `never_within_horizon`, `not_applicable`.
    pub crossover_status: Option<&'static str>,
    /// Bootstrap resamples and seed.
    pub bootstrap: BootstrapOptions,
    /// The points that went into the fit.
    pub points: Vec<FitPoint>,
    /// The full model fit.
    pub details: FitDetails,
}

fn pair(i: Interval) -> [Option<f64>; 2] {
    [i.lower, i.upper]
}

fn fit_error(series: &Series, error: FitError) -> AnalysisError {
    let line = match &error {
        FitError::NonPositive { index, .. } | FitError::NonFinite { index, .. } => series.lines.get(*index).copied(),
        _ => None,
    };
    AnalysisError::Fit {
        path: series.path.clone(),
        line,
        fit_error: error,
    }
}

/// Runs a fit request against `data_dir` (for bundled names). See [`FitReport`].
pub fn run_fit_request(request: &FitRequest, data_dir: &Path) -> Result<FitReport, AnalysisError> {
    if let Some(value) = request.target.filter(|t| !(t.is_finite() && *t > 0.0)) {
        return Err(AnalysisError::BadTarget { value });
    }
    let (path, spec) = resolve_dataset(&request.data, data_dir)?;
    let table = load_table(&path, spec)?;
    let filter = request.filter.as_deref().map(Filter::parse).transpose()?;
    let series = select_series(
        &table,
        &Selection {
            x: request.x.clone(),
            y: request.y.clone(),
            filter,
            from: request.from,
            to: request.to,
        },
    )?;
    let mut report = fit_series(&series, request)?;
    report.snapshot = DataSnapshot::new(spec, table.len());
    Ok(report)
}

/// Slope, its standard error and interval, doubling time and interval, R².
type Headline = (f64, Option<f64>, [Option<f64>; 2], Option<f64>, [Option<f64>; 2], f64);

fn exponential_report_parts(fit: &ExponentialFit) -> Headline {
    (
        fit.slope_log10_per_unit,
        Some(fit.line.slope_se).filter(|v| v.is_finite()),
        pair(fit.slope_ci95),
        Some(fit.doubling_time),
        pair(fit.doubling_time_ci95),
        fit.line.r2,
    )
}

/// Fits already-selected points; the part of [`run_fit_request`] after loading. The
/// report's snapshot is that of a file given by path; [`run_fit_request`] names the
/// bundled table where there is one.
pub fn fit_series(series: &Series, request: &FitRequest) -> Result<FitReport, AnalysisError> {
    let err = |e| fit_error(series, e);
    let (x, y) = (&series.x, &series.y);
    let mut theil_sen_doubling = None;
    let (details, slope, slope_se, slope_ci, doubling, doubling_ci, r2) = match request.model {
        Model::Exponential => {
            let fit = exponential_trend(x, y, request.bootstrap).map_err(err)?;
            theil_sen_doubling = theil_sen_exponential(x, y)
                .ok()
                .map(|(_, t)| t)
                .filter(|t| t.is_finite());
            let (s, se, sci, d, dci, r2) = exponential_report_parts(&fit);
            (FitDetails::Exponential(fit), s, se, sci, d, dci, r2)
        }
        Model::Power => {
            let fit = power_law(x, y, request.bootstrap).map_err(err)?;
            let (s, se, sci, r2) = (
                fit.exponent,
                Some(fit.line.slope_se).filter(|v| v.is_finite()),
                pair(fit.exponent_ci95),
                fit.line.r2,
            );
            (FitDetails::Power(fit), s, se, sci, None, [None, None], r2)
        }
        Model::Logistic => {
            let fit = logistic_fit(x, y).map_err(err)?;
            let ln10 = std::f64::consts::LN_10;
            let se = fit.standard_errors[1] / ln10;
            let s = fit.rate / ln10;
            let (d, dci, r2) = (Some(fit.doubling_time), pair(fit.doubling_time_ci95), fit.r2);
            let sci = [Some(s - 1.96 * se), Some(s + 1.96 * se)];
            (
                FitDetails::Logistic(fit),
                s,
                Some(se).filter(|v| v.is_finite()),
                sci,
                d,
                dci,
                r2,
            )
        }
        Model::Piecewise => {
            let segmentation = piecewise_log_linear(x, y, 2, 4).map_err(err)?;
            let last = segmentation.segments.last().expect("at least one segment");
            let (lo, hi) = last.x_range;
            let (sx, sy): (Vec<f64>, Vec<f64>) = x
                .iter()
                .zip(y)
                .filter(|(&xi, _)| xi >= lo && xi <= hi)
                .map(|(&a, &b)| (a, b))
                .unzip();
            let last_segment = exponential_trend(&sx, &sy, request.bootstrap).map_err(err)?;
            let (s, se, sci, d, dci, _) = exponential_report_parts(&last_segment);
            let r2 = segmentation.r2;
            (
                FitDetails::Piecewise {
                    segmentation,
                    last_segment,
                },
                s,
                se,
                sci,
                d,
                dci,
                r2,
            )
        }
    };
    let (crossover_year, crossover_year_ci95, crossover_status) = match (request.target, &details) {
        (None, _) => (None, None, None),
        (Some(target), FitDetails::Exponential(fit))
        | (Some(target), FitDetails::Piecewise { last_segment: fit, .. }) => {
            match crossover(fit, target, request.horizon) {
                Crossover::Reached { year, ci95, already } => (
                    Some(year),
                    Some(pair(ci95)),
                    Some(if already { "already_reached" } else { "reached" }),
                ),
                Crossover::NeverWithinHorizon { .. } => (None, Some([None, None]), Some("never_within_horizon")),
            }
        }
        (Some(target), FitDetails::Logistic(fit)) => {
            if target < fit.ceiling && target > 0.0 && fit.rate > 0.0 {
                let year = fit.midpoint - (fit.ceiling / target - 1.0).ln() / fit.rate;
                let last = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if year <= request.horizon {
                    (
                        Some(year),
                        Some([None, None]),
                        Some(if year <= last { "already_reached" } else { "reached" }),
                    )
                } else {
                    (None, Some([None, None]), Some("never_within_horizon"))
                }
            } else {
                (None, Some([None, None]), Some("never_within_horizon"))
            }
        }
        (Some(_), FitDetails::Power(_)) => (None, None, Some("not_applicable")),
    };
    let growth = doubling.map(|_| 10f64.powf(slope));
    Ok(FitReport {
        model: request.model.name(),
        data: series.path.display().to_string(),
        snapshot: DataSnapshot::new(None, series.rows.rows_in_table),
        rows: series.rows.clone(),
        x: series.x_name.clone(),
        y: series.y_name.clone(),
        n: series.x.len(),
        slope_log10_per_unit: slope,
        slope_se,
        slope_ci95: slope_ci,
        doubling_time_years: doubling,
        doubling_time_ci95: doubling_ci,
        doubling_time_months: doubling.map(|d| 12.0 * d),
        growth_factor_per_year: growth,
        oom_per_year: doubling.map(|_| slope),
        r2,
        theil_sen_doubling_time_years: theil_sen_doubling,
        target: request.target,
        crossover_year,
        crossover_year_ci95,
        crossover_status,
        bootstrap: request.bootstrap,
        points: series
            .x
            .iter()
            .zip(&series.y)
            .zip(&series.lines)
            .zip(&series.labels)
            .map(|(((&x, &y), &line), label)| FitPoint {
                label: label.clone(),
                x,
                y,
                line,
            })
            .collect(),
        details,
    })
}

/// `log10(2)/slope` guarded against a zero slope.
pub fn doubling_time_of(slope: f64) -> Option<f64> {
    (slope != 0.0).then(|| LOG10_2 / slope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::bundled_data_dir;

    fn data_dir() -> std::path::PathBuf {
        crate::datasets::bundled_data_dir()
    }

    /// OpenAI "AI and Compute" (2018): the compute of the largest runs doubled every
    /// 3.4 months from 2012. The post prints values for 10 of its charted systems
    /// (AlexNet ... GNMT, NAS, Xception; 2012-06 to 2016-11); the 2017 endpoints (Dota
    /// 1v1, AlphaGo Zero, AlphaZero) and GoogLeNet/ResNets are not printed. Fitting the
    /// printed 10 gives 3.55 months. Tolerance: within 0.5 months (15 %) of 3.4, and the
    /// bootstrap interval must contain 3.4 — the missing endpoints are what pin OpenAI's
    /// slope, and OpenAI states its estimates only to a factor 2-3.
    #[test]
    fn reproduces_openai_2018_doubling() {
        let mut request = FitRequest::new("openai_2018", "date", "training_compute_FLOP");
        request.filter = Some("in_main_chart == true".into());
        let report = run_fit_request(&request, &data_dir()).unwrap();
        assert_eq!(report.n, 10);
        let months = report.doubling_time_months.unwrap();
        let [lo, hi] = report.doubling_time_ci95;
        braingap_core::diag!("openai 2018: {months:.2} months, CI {lo:?}..{hi:?} years");
        assert!((months - 3.4).abs() < 0.5, "{months}");
        assert!(
            lo.unwrap() * 12.0 <= 3.4 && hi.is_none_or(|h| h * 12.0 >= 3.4),
            "{report:?}"
        );
    }

    /// Epoch AI (Sevilla et al. 2022): in the deep-learning era (2010 to early 2022)
    /// training compute of notable models doubled every 5.7 months. The 2026 snapshot
    /// holds ~5x more models than the 2022 paper's data (including later-estimated
    /// non-frontier ones), so the figure cannot be reproduced exactly; we accept
    /// 5.7 ± 1 month, about the width of the paper's own interval.
    #[test]
    fn reproduces_epoch_deep_learning_era_doubling() {
        let mut request = FitRequest::new("training_compute", "publication_date", "training_compute_FLOP");
        request.from = Some(2010.0);
        request.to = Some(2022.2);
        let report = run_fit_request(&request, &data_dir()).unwrap();
        let months = report.doubling_time_months.unwrap();
        braingap_core::diag!(
            "epoch 2010-2022: {months:.2} months (n = {}), CI {:?}",
            report.n,
            report.doubling_time_ci95
        );
        assert!((months - 5.7).abs() < 1.0, "{months}");
    }

    /// Goodfellow et al. (2016) Fig 1.11: the book's trend line through the 18 fitted
    /// networks digitizes to 0.1268 log10/yr (doubling 2.37 years) and reaches the
    /// human 8.6e10 neurons in 2056.4 (the axis has a tick at 2056). The points are
    /// digitized to ±0.013 log10 and ±0.15 years, and the drawn line need not be an
    /// exact OLS fit, so we accept ±0.1 years on the doubling time and ±2 years on
    /// the crossover.
    #[test]
    fn reproduces_goodfellow_fig_1_11_trend() {
        let mut request = FitRequest::new("networks", "year", "neurons_count");
        request.filter = Some("in_fig11_trend_fit == true".into());
        request.target = Some(8.6e10);
        let report = run_fit_request(&request, &data_dir()).unwrap();
        assert_eq!(report.n, 18);
        let doubling = report.doubling_time_years.unwrap();
        braingap_core::diag!(
            "fig 1.11: doubling {doubling:.3} y, crossover {:?} CI {:?}",
            report.crossover_year,
            report.crossover_year_ci95
        );
        assert!((doubling - 2.37).abs() < 0.1, "{doubling}");
        let year = report.crossover_year.unwrap();
        assert!((year - 2056.4).abs() < 2.0, "{year}");
    }

    #[test]
    fn non_positive_value_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(
            &path,
            "name,when,value\na,2000-01-01,1\nb,2001-01-01,0\nc,2002-01-01,4\n",
        )
        .unwrap();
        let request = FitRequest::new(path.to_str().unwrap(), "when", "value");
        let e = run_fit_request(&request, &bundled_data_dir()).unwrap_err();
        assert!(matches!(e, AnalysisError::Fit { line: Some(3), .. }), "{e}");
        assert!(e.to_string().contains("d.csv:3"), "{e}");
    }

    #[test]
    fn every_model_runs_on_bundled_data() {
        for model in [Model::Exponential, Model::Power, Model::Logistic, Model::Piecewise] {
            let mut request = FitRequest::new("koomey", "year", "computations_per_kWh");
            request.model = model;
            request.target = Some(1e16);
            if model == Model::Logistic {
                continue; // Koomey's data does not saturate; logistic is checked on synthetic data.
            }
            let report = run_fit_request(&request, &data_dir()).unwrap_or_else(|e| panic!("{model:?}: {e}"));
            assert_eq!(report.n, 80);
            assert!(report.r2 > 0.8, "{model:?} {}", report.r2);
        }
    }
}
