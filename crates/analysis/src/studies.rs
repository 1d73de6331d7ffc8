//! Named selections that reproduce published trend analyses, as data: each [`Study`]
//! states its source, the selection rule as the paper gives it, the model and the
//! uncertainty method, and the published figure with its interval; [`run_study`] fits the
//! bundled data with that selection and judges the result by one rule ([`StudyVerdict`]).

use std::path::Path;

use serde::Serialize;

use crate::error::AnalysisError;
use crate::fits::{BootstrapOptions, Interval};
use crate::trend::{run_fit_request, DataSnapshot, FitReport, FitRequest, Model};

/// The quantity a paper reports for a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// Doubling time in years.
    DoublingYears,
    /// Doubling time in months.
    DoublingMonths,
    /// Growth factor per year (×/yr).
    GrowthPerYear,
}

impl Figure {
    /// The figure and its interval from a fit report.
    fn of(self, report: &FitReport) -> Option<(f64, Interval)> {
        let [low, high] = report.doubling_time_ci95;
        match self {
            Figure::DoublingYears => Some((
                report.doubling_time_years?,
                Interval {
                    lower: low,
                    upper: high,
                },
            )),
            Figure::DoublingMonths => Some((
                report.doubling_time_months?,
                Interval {
                    lower: low.map(|v| 12.0 * v),
                    upper: high.map(|v| 12.0 * v),
                },
            )),
            Figure::GrowthPerYear => {
                let [low, high] = report.slope_ci95;
                Some((
                    report.growth_factor_per_year?,
                    Interval {
                        lower: low.map(|b| 10f64.powf(b)),
                        upper: high.map(|b| 10f64.powf(b)),
                    },
                ))
            }
        }
    }

    /// `3.40 months`, `2.39 years`, `4.70x/yr`.
    pub fn format(self, value: f64) -> String {
        match self {
            Figure::DoublingYears => format!("doubling {value:.2} years"),
            Figure::DoublingMonths => format!("doubling {value:.2} months"),
            Figure::GrowthPerYear => format!("{value:.2}x per year"),
        }
    }
}

/// A published trend analysis and how to redo it on the bundled data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Study {
    /// Name for `braingap fit --study`.
    pub name: &'static str,
    /// The publication.
    pub source: &'static str,
    /// The selection rule as the paper states it, and how braingap applies it.
    pub selection_rule: &'static str,
    /// The model, as the paper fits it.
    pub model: &'static str,
    /// The paper's uncertainty method.
    pub uncertainty: &'static str,
    /// Bundled dataset.
    pub dataset: &'static str,
    /// x column.
    pub x: &'static str,
    /// y column.
    pub y: &'static str,
    /// `--filter` expression.
    pub filter: Option<&'static str>,
    /// Keep x ≥ from (decimal year).
    pub from: Option<f64>,
    /// Keep x ≤ to (decimal year).
    pub to: Option<f64>,
    /// What the paper reports.
    pub figure: Figure,
    /// The published value.
    pub published: f64,
    /// The published interval, `[low, high]`, where the paper gives one.
    pub published_ci: Option<[f64; 2]>,
    /// What that interval is (level and method).
    pub published_ci_kind: Option<&'static str>,
    /// Points in the paper's fit, where stated.
    pub published_n: Option<usize>,
    /// Last date (decimal year) the paper's data could hold, where its data came from a
    /// database that has grown since; used to test whether later additions explain a
    /// difference.
    pub data_cutoff: Option<f64>,
    /// That cutoff as written.
    pub data_cutoff_text: Option<&'static str>,
    /// Known differences between the paper's data and the bundled table, named in the
    /// explanation when the figure differs (they do not change the verdict: the bundled
    /// data cannot show how far they move it).
    pub caveat: Option<&'static str>,
}

const STUDIES: &[Study] = &[
    Study {
        name: "goodfellow-2016-neurons",
        source: "Goodfellow, Bengio & Courville (2016), Deep Learning, §1.2.3 and Fig. 1.11: networks have \"doubled in size roughly every 2.4 years\"",
        selection_rule: "the networks of Fig. 1.11 behind the book's trend line (networks.csv in_fig11_trend_fit == true, 18 of 20; values digitized from the figure)",
        model: "exponential: log10(neurons) linear in year",
        uncertainty: "none stated (a drawn trend line)",
        dataset: "networks",
        x: "year",
        y: "neurons_count",
        filter: Some("in_fig11_trend_fit == true"),
        from: None,
        to: None,
        figure: Figure::DoublingYears,
        published: 2.4,
        published_ci: None,
        published_ci_kind: None,
        published_n: Some(18),
        data_cutoff: None,
        data_cutoff_text: None,
        caveat: None,
    },
    Study {
        name: "openai-2018",
        source: "Amodei & Hernandez (2018), \"AI and Compute\", OpenAI: training compute of the largest runs since 2012 \"has a 3.4-month doubling time\"",
        selection_rule: "the systems of the post's main 2012-2018 chart that have a printed compute figure (openai_2018.csv in_main_chart == true: 10 systems, AlexNet to Xception; the chart's 2017 endpoints are not printed and are missing)",
        model: "exponential: log10(training FLOP) linear in date",
        uncertainty: "none stated (estimates said to be good to a factor 2-3)",
        dataset: "openai_2018",
        x: "date",
        y: "training_compute_FLOP",
        filter: Some("in_main_chart == true"),
        from: None,
        to: None,
        figure: Figure::DoublingMonths,
        published: 3.4,
        published_ci: None,
        published_ci_kind: None,
        published_n: None,
        data_cutoff: None,
        data_cutoff_text: None,
        caveat: None,
    },
    Study {
        name: "koomey-2011",
        source: "Koomey, Berard, Sanchez & Wong (2011), IEEE Annals of the History of Computing 33(3): computations per kWh doubled every 1.57 years, 1946-2009",
        selection_rule: "all 80 machines of Koomey's spreadsheet, 1946-2009",
        model: "exponential: log10(computations per kWh) linear in year",
        uncertainty: "none stated (OLS regression)",
        dataset: "koomey",
        x: "year",
        y: "computations_per_kWh",
        filter: None,
        from: None,
        to: None,
        figure: Figure::DoublingYears,
        published: 1.57,
        published_ci: None,
        published_ci_kind: None,
        published_n: Some(80),
        data_cutoff: None,
        data_cutoff_text: None,
        caveat: None,
    },
    Study {
        name: "epoch-2024-post-2010",
        source: "Epoch AI (2024-06-19), data insight on the compute trend after 2010: training compute of notable models grows 4.7x per year since 2010 (90 % CI 4.3-5.2, n = 428, R² 0.60)",
        selection_rule: "notable models published from 2010 on with both a publication date and a training-compute estimate (Epoch's 428 observations; training_compute.csv from 2010.0)",
        model: "exponential: log10(training FLOP) linear in publication date",
        uncertainty: "90 % CI from the slope's OLS standard error",
        dataset: "training_compute",
        x: "publication_date",
        y: "training_compute_FLOP",
        filter: None,
        from: Some(2010.0),
        to: None,
        figure: Figure::GrowthPerYear,
        published: 4.7,
        published_ci: Some([4.3, 5.2]),
        published_ci_kind: Some("90 %, OLS standard error"),
        published_n: Some(428),
        data_cutoff: Some(2024.4644),
        data_cutoff_text: Some("2024-06-19"),
        caveat: None,
    },
    Study {
        name: "hobbhahn-besiroglu-2022-ml-gpus",
        source: "Hobbhahn & Besiroglu (2022), \"Trends in GPU price-performance\", Epoch AI: FP32 FLOP/s per dollar of GPUs used in ML research doubles every 2.07 years (95 % CI 1.54-3.13, n = 26)",
        selection_rule: "GPUs released 2006-2021 with an FP32 peak and a release price; braingap: ml_hardware.csv type == GPU, from 2006, FP32 FLOP/s per release-price dollar (fp32_FLOP_per_s_per_USD)",
        model: "exponential: log10(FP32 FLOP/s per $) linear in release date",
        uncertainty: "95 % CI as printed in the paper's Table 1",
        dataset: "ml_hardware",
        x: "release_date",
        y: "fp32_FLOP_per_s_per_USD",
        filter: Some("type == GPU"),
        from: Some(2006.0),
        to: None,
        figure: Figure::DoublingYears,
        published: 2.07,
        published_ci: Some([1.54, 3.13]),
        published_ci_kind: Some("95 %"),
        published_n: Some(26),
        data_cutoff: Some(2022.0),
        data_cutoff_text: Some("2021-12-31"),
        caveat: Some("the bundled table is Epoch's ML-hardware table (GPUs with a listed release price), not the paper's GPU dataset, and its prices are release prices in current dollars, not adjusted for inflation"),
    },
];

/// The studies `braingap studies` lists, in order.
pub fn studies() -> &'static [Study] {
    STUDIES
}

/// Looks a study up by name; an unknown name is an error listing the studies.
pub fn find_study(name: &str) -> Result<&'static Study, AnalysisError> {
    STUDIES
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| AnalysisError::UnknownStudy {
            name: name.to_string(),
            available: STUDIES.iter().map(|s| s.name).collect::<Vec<_>>().join(", "),
        })
}

/// How braingap's figure compares with the published one.
///
/// The rule: *reproduced* when braingap's central figure lies inside the published
/// interval, or, where the paper states none, when the published figure lies inside
/// braingap's bootstrap 95 % interval. Otherwise, where the paper's data came from a
/// database that has grown since (a data cutoff), the fit is redone on the rows up to
/// that cutoff: if that is reproduced, the difference is *explained by the data
/// revision* (the rows added after the paper); if not, it is *unexplained* by anything
/// the bundled data can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StudyVerdict {
    /// Within the published CI (or the published figure within braingap's).
    ReproducedWithinCi,
    /// Differs, and the rows added to the database since the paper account for it.
    DiffersExplainedByDataRevision,
    /// Differs, and the bundled data cannot say why.
    DiffersUnexplained,
}

impl std::fmt::Display for StudyVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StudyVerdict::ReproducedWithinCi => "reproduced within CI",
            StudyVerdict::DiffersExplainedByDataRevision => "differs, explained by data revision",
            StudyVerdict::DiffersUnexplained => "differs, unexplained",
        })
    }
}

/// Whether `ours` (with interval `ours_ci`) reproduces `published` (with `published_ci`),
/// by the rule of [`StudyVerdict`].
pub fn reproduces(published: f64, published_ci: Option<[f64; 2]>, ours: f64, ours_ci: Interval) -> bool {
    match published_ci {
        Some([low, high]) => (low..=high).contains(&ours),
        None => ours_ci.contains(published),
    }
}

/// braingap's figure for a study: value, 95 % interval, points fitted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reproduction {
    /// The figure, in the study's [`Figure`].
    pub value: f64,
    /// Bootstrap 95 % interval (null end: unbounded).
    pub ci95: [Option<f64>; 2],
    /// Points fitted.
    pub n: usize,
}

/// A study redone on the bundled data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyResult {
    /// The study.
    pub study: Study,
    /// braingap's figure on the whole selection.
    pub braingap: Reproduction,
    /// braingap's figure on the rows up to the paper's data cutoff, where it has one.
    pub braingap_to_cutoff: Option<Reproduction>,
    /// The data snapshot read.
    pub snapshot: DataSnapshot,
    /// The verdict.
    pub verdict: StudyVerdict,
    /// Why, in one or two sentences with the numbers.
    pub explanation: String,
    /// The full fit on the whole selection.
    #[serde(skip)]
    pub fit: FitReport,
}

fn request(study: &Study, to: Option<f64>) -> FitRequest {
    FitRequest {
        data: study.dataset.to_string(),
        x: study.x.to_string(),
        y: study.y.to_string(),
        from: study.from,
        to,
        model: Model::Exponential,
        filter: study.filter.map(str::to_string),
        target: None,
        horizon: 2200.0,
        bootstrap: BootstrapOptions::default(),
    }
}

fn reproduction(study: &Study, report: &FitReport) -> Result<(Reproduction, Interval), AnalysisError> {
    let (value, ci) = study.figure.of(report).ok_or_else(|| AnalysisError::MissingReference {
        path: report.data.clone().into(),
        message: format!("study {}: the fit gives no {:?}", study.name, study.figure),
    })?;
    Ok((
        Reproduction {
            value,
            ci95: [ci.lower, ci.upper],
            n: report.n,
        },
        ci,
    ))
}

fn interval_text(figure: Figure, ci: [Option<f64>; 2]) -> String {
    let side = |v: Option<f64>| v.map_or("unbounded".to_string(), |v| format!("{v:.2}"));
    let unit = match figure {
        Figure::DoublingYears => " years",
        Figure::DoublingMonths => " months",
        Figure::GrowthPerYear => "x",
    };
    format!("95 % CI {}-{}{unit}", side(ci[0]), side(ci[1]))
}

/// Redoes `study` on the bundled data in `data_dir` and judges it.
pub fn run_study(study: &Study, data_dir: &Path) -> Result<StudyResult, AnalysisError> {
    let fit = run_fit_request(&request(study, study.to), data_dir)?;
    let (braingap, ci) = reproduction(study, &fit)?;
    let figure = study.figure;
    let published = match study.published_ci {
        Some([low, high]) => format!(
            "{} ({} {:.2}-{:.2})",
            figure.format(study.published),
            study.published_ci_kind.unwrap_or("CI"),
            low,
            high
        ),
        None => figure.format(study.published),
    };
    let ours = format!(
        "{} ({}, n = {})",
        figure.format(braingap.value),
        interval_text(figure, braingap.ci95),
        braingap.n
    );
    let snapshot = fit.snapshot.clone();
    let snapshot_text = format!(
        "{} snapshot {}",
        snapshot.dataset.unwrap_or("file"),
        snapshot.date.unwrap_or("?")
    );
    let (verdict, braingap_to_cutoff, explanation) = if reproduces(
        study.published,
        study.published_ci,
        braingap.value,
        ci,
    ) {
        let n_note = study
            .published_n
            .map(|n| format!("; the paper fitted {n} points"))
            .unwrap_or_default();
        let why = if study.published_ci.is_some() {
            format!("braingap's {ours} lies inside the published {published}{n_note}")
        } else {
            format!("the published {published} lies inside braingap's {ours}; the paper states no interval{n_note}")
        };
        (StudyVerdict::ReproducedWithinCi, None, why)
    } else if let (Some(cutoff), Some(cutoff_text)) = (study.data_cutoff, study.data_cutoff_text) {
        let to = Some(study.to.map_or(cutoff, |t| t.min(cutoff)));
        let early = run_fit_request(&request(study, to), data_dir)?;
        let (before, before_ci) = reproduction(study, &early)?;
        let added = braingap.n.saturating_sub(before.n);
        let moved = format!(
            "the {snapshot_text} has {added} rows dated after the paper's cutoff ({cutoff_text}), which move braingap's figure from {} (n = {}) to {}",
            figure.format(before.value),
            before.n,
            figure.format(braingap.value)
        );
        if reproduces(study.published, study.published_ci, before.value, before_ci) {
            (
                StudyVerdict::DiffersExplainedByDataRevision,
                Some(before),
                format!("published {published}; braingap {ours}: {moved}, and up to the cutoff braingap reproduces the published figure"),
            )
        } else {
            let n_note = study
                .published_n
                .map(|n| format!(" (the paper fitted {n} points)"))
                .unwrap_or_default();
            let caveat = study
                .caveat
                .map(|c| format!(". Known differences: {c}"))
                .unwrap_or_default();
            (
                StudyVerdict::DiffersUnexplained,
                Some(before),
                format!(
                    "published {published}; braingap {ours}. Up to the paper's cutoff ({cutoff_text}) braingap still gets {} (n = {}){n_note}, outside the published interval: the rows added since do not explain it (estimates re-made before the {snapshot_text} might; the bundled data cannot show them){caveat}",
                    figure.format(before.value),
                    before.n,
                ),
            )
        }
    } else {
        let caveat = study
            .caveat
            .map(|c| format!(". Known differences: {c}"))
            .unwrap_or_default();
        (
            StudyVerdict::DiffersUnexplained,
            None,
            format!("published {published}; braingap {ours}, on the {snapshot_text}{caveat}"),
        )
    };
    Ok(StudyResult {
        study: *study,
        braingap,
        braingap_to_cutoff,
        snapshot,
        verdict,
        explanation,
        fit,
    })
}

/// Every study, redone.
pub fn run_studies(data_dir: &Path) -> Result<Vec<StudyResult>, AnalysisError> {
    STUDIES.iter().map(|s| run_study(s, data_dir)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_dir() -> std::path::PathBuf {
        crate::datasets::bundled_data_dir()
    }

    #[test]
    fn the_rule_uses_the_published_interval_where_there_is_one() {
        let ours = Interval::bounded(3.0, 6.0);
        // Published CI: our central value must fall inside it.
        assert!(reproduces(4.7, Some([4.3, 5.2]), 4.5, ours));
        assert!(!reproduces(4.7, Some([4.3, 5.2]), 3.8, ours));
        // No published CI: the published value must fall inside ours.
        assert!(reproduces(3.4, None, 3.55, Interval::bounded(2.2, 5.3)));
        assert!(!reproduces(3.4, None, 6.0, Interval::bounded(5.0, 7.0)));
        // An unbounded side admits.
        assert!(reproduces(
            9.0,
            None,
            6.0,
            Interval {
                lower: Some(5.0),
                upper: None
            }
        ));
    }

    #[test]
    fn every_study_names_a_bundled_table_and_runs() {
        for study in studies() {
            assert!(find_study(study.name).is_ok());
            assert!(matches!(find_study("nope"), Err(AnalysisError::UnknownStudy { .. })));
            let result = run_study(study, &data_dir()).unwrap_or_else(|e| panic!("{}: {e}", study.name));
            assert_eq!(result.snapshot.dataset, Some(study.dataset));
            assert!(result.braingap.value.is_finite(), "{}", study.name);
            assert!(!result.explanation.is_empty());
        }
    }

    /// The three studies whose data braingap bundles as the paper had them reproduce: the
    /// published figure lies inside braingap's bootstrap 95 % interval.
    #[test]
    fn studies_on_the_papers_own_data_reproduce() {
        for name in ["goodfellow-2016-neurons", "openai-2018", "koomey-2011"] {
            let result = run_study(find_study(name).unwrap(), &data_dir()).unwrap();
            braingap_core::diag!("{name}: {:?} {}", result.braingap, result.explanation);
            assert_eq!(
                result.verdict,
                StudyVerdict::ReproducedWithinCi,
                "{name}: {}",
                result.explanation
            );
        }
    }

    /// Epoch 2024: 4.7x/yr, 90 % CI 4.3-5.2, n = 428, from the database of June 2024; the
    /// bundled snapshot is of 2026-01-26. The verdict follows the rule, whichever way the
    /// snapshot falls, and the explanation gives both point counts.
    #[test]
    fn epoch_2024_is_judged_by_the_rule() {
        let result = run_study(find_study("epoch-2024-post-2010").unwrap(), &data_dir()).unwrap();
        braingap_core::diag!(
            "epoch 2024: {:?} {:?} {}",
            result.braingap,
            result.braingap_to_cutoff,
            result.explanation
        );
        let inside = (4.3..=5.2).contains(&result.braingap.value);
        assert_eq!(
            result.verdict == StudyVerdict::ReproducedWithinCi,
            inside,
            "{}",
            result.explanation
        );
        assert_eq!(result.braingap_to_cutoff.is_none(), inside);
        assert!(
            result.explanation.contains("the paper fitted 428"),
            "{}",
            result.explanation
        );
        assert_eq!(result.snapshot.date, Some("2026-01-26"));
    }

    /// Hobbhahn & Besiroglu's ML GPUs (2.07 years, 95 % CI 1.54-3.13): judged by the rule,
    /// with the refit up to the paper's data (2021) and the known differences named when
    /// it differs.
    #[test]
    fn gpu_price_performance_is_fitted_on_the_kept_prices() {
        let result = run_study(find_study("hobbhahn-besiroglu-2022-ml-gpus").unwrap(), &data_dir()).unwrap();
        braingap_core::diag!(
            "hobbhahn: {:?} {:?} {}",
            result.braingap,
            result.braingap_to_cutoff,
            result.explanation
        );
        assert!(result.braingap.n >= 10, "{:?}", result.braingap);
        let inside = (1.54..=3.13).contains(&result.braingap.value);
        assert_eq!(result.verdict == StudyVerdict::ReproducedWithinCi, inside);
        if let Some(early) = result.braingap_to_cutoff {
            let early_inside = (1.54..=3.13).contains(&early.value);
            assert_eq!(
                result.verdict == StudyVerdict::DiffersExplainedByDataRevision,
                early_inside
            );
            if !early_inside {
                assert!(
                    result.explanation.contains("not adjusted for inflation"),
                    "{}",
                    result.explanation
                );
            }
        }
    }

    /// The data-revision rule on a study built for the test: Epoch's post-2010 selection
    /// with a "paper" whose data ended in 2018.
    #[test]
    fn a_difference_is_explained_only_when_the_rows_up_to_the_cutoff_reproduce() {
        let base = *find_study("epoch-2024-post-2010").unwrap();
        let figure = base.figure;
        let early = run_fit_request(&request(&base, Some(2018.0)), &data_dir()).unwrap();
        let full = run_fit_request(&request(&base, None), &data_dir()).unwrap();
        let (early_value, full_value) = (figure.of(&early).unwrap().0, figure.of(&full).unwrap().0);
        assert!(
            (early_value / full_value - 1.0).abs() > 0.03,
            "{early_value} vs {full_value}"
        );
        let paper = |published: f64| Study {
            published,
            published_ci: Some([published * 0.99, published * 1.01]),
            published_ci_kind: Some("test"),
            data_cutoff: Some(2018.0),
            data_cutoff_text: Some("2018-01-01"),
            ..base
        };
        let explained = run_study(&paper(early_value), &data_dir()).unwrap();
        assert_eq!(
            explained.verdict,
            StudyVerdict::DiffersExplainedByDataRevision,
            "{}",
            explained.explanation
        );
        let early_rerun = explained.braingap_to_cutoff.unwrap();
        assert_eq!(early_rerun.n, early.n);
        assert_eq!(
            explained.braingap.n - early_rerun.n,
            full.points.iter().filter(|p| p.x > 2018.0).count()
        );
        assert!(
            explained
                .explanation
                .contains("rows dated after the paper's cutoff (2018-01-01)"),
            "{}",
            explained.explanation
        );
        let unexplained = run_study(&paper(10.0 * full_value), &data_dir()).unwrap();
        assert_eq!(unexplained.verdict, StudyVerdict::DiffersUnexplained);
        assert!(unexplained
            .explanation
            .contains("the rows added since do not explain it"));
        let reproduced = run_study(&paper(full_value), &data_dir()).unwrap();
        assert_eq!(reproduced.verdict, StudyVerdict::ReproducedWithinCi);
    }
}
