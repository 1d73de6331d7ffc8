//! Fills [`References`] from `crate::analysis`: the bundled datasets, exponential and
//! piecewise trend fits, crossover projections, the claims check and this machine's place.
//!
//! Every part is independent: a dataset that is missing or a fit that fails leaves a note
//! in [`References::notes`] and the rest of the report still renders.

use super::history::{
    ClaimRow, FitRow, HistoryPanel, HistoryPoint, MachineMark, MachineMeasured, ProjectionRow, ReferenceLevel,
    References, StudyRow, TrendLine,
};
use super::measured::{brain_energy_reference, EnergyReference};
use crate::analysis::datasets::{load_bundled, select_series, Filter, Selection, Series};
use crate::analysis::fits::{exponential_trend, piecewise_log_linear, BootstrapOptions, ExponentialFit};
use crate::analysis::projections::{brain_targets, crossover, Crossover, Target};
use crate::analysis::{check_claims, machine_comparison, AnalysisError, FitError, MachinePoint};
use std::path::Path;

/// Horizon of the projections.
pub const HORIZON: f64 = 2200.0;

const BOOTSTRAP: BootstrapOptions = BootstrapOptions {
    resamples: 1000,
    seed: 0x00B2_A1A6,
    jitter_log10: 0.0,
};

fn series(data_dir: &Path, dataset: &str, x: &str, y: &str, filter: Option<&str>) -> Result<Series, AnalysisError> {
    let table = load_bundled(dataset, data_dir)?;
    select_series(
        &table,
        &Selection {
            x: x.into(),
            y: y.into(),
            filter: filter.map(Filter::parse).transpose()?,
            ..Default::default()
        },
    )
}

fn points(series: &Series, group: Option<&str>) -> Vec<HistoryPoint> {
    series
        .x
        .iter()
        .zip(&series.y)
        .zip(&series.labels)
        .map(|((&x, &y), label)| HistoryPoint {
            x,
            y,
            label: label.clone(),
            group: group.map(str::to_string),
        })
        .collect()
}

/// The fitted line over `[x_from, x_to]` with the bootstrap 95 % CI of the line (2.5 and
/// 97.5 % quantiles of `10^(a + b·x)` over the resampled lines), or the prediction
/// interval when the bootstrap is off.
fn trend_line(fit: &ExponentialFit, label: String, x_from: f64, x_to: f64) -> TrendLine {
    let steps = 40;
    let mut band = Vec::with_capacity(steps + 1);
    for k in 0..=steps {
        let x = x_from + (x_to - x_from) * k as f64 / steps as f64;
        if fit.bootstrap_lines.len() >= 40 {
            let mut ys: Vec<f64> = fit.bootstrap_lines.iter().map(|&(b, a)| a + b * x).collect();
            ys.sort_by(f64::total_cmp);
            let q = |p: f64| crate::measure::stats::quantile_sorted(&ys, p);
            band.push((x, 10f64.powf(q(0.025)), 10f64.powf(q(0.975))));
        } else {
            let p = fit.predict(x);
            band.push((x, p.lower, p.upper));
        }
    }
    TrendLine {
        label,
        x_from,
        x_to,
        slope_log10: fit.line.slope,
        intercept_log10: fit.line.intercept,
        band,
        band_label: if fit.bootstrap_lines.len() >= 40 {
            "95 % CI of the trend (bootstrap)".into()
        } else {
            "95 % prediction interval".into()
        },
    }
}

fn fit_row(what: &str, fit: &ExponentialFit, source: &str) -> FitRow {
    FitRow {
        what: what.into(),
        model: "exponential".into(),
        n: fit.line.n,
        years: format!("{:.0}-{:.0}", fit.x_range.0, fit.x_range.1),
        slope_log10_per_year: fit.slope_log10_per_unit,
        doubling_time_years: Some(fit.doubling_time).filter(|d| d.is_finite() && *d > 0.0),
        doubling_time_ci: [fit.doubling_time_ci95.lower, fit.doubling_time_ci95.upper],
        r2: Some(fit.line.r2),
        source: with_snapshot(source),
    }
}

/// A bundled file name with the snapshot of its source: `networks.csv (snapshot 2016)`.
fn with_snapshot(source: &str) -> String {
    match crate::analysis::datasets::find_dataset(source) {
        Some(spec) => format!("{source} (snapshot {})", spec.snapshot_date),
        None => source.to_string(),
    }
}

fn doubling_label(fit: &ExponentialFit) -> String {
    if fit.doubling_time.is_finite() && fit.doubling_time > 0.0 {
        format!(
            "fit {:.0}-{:.0}: ×2 every {:.1} yr",
            fit.x_range.0, fit.x_range.1, fit.doubling_time
        )
    } else {
        format!("fit {:.0}-{:.0}: not growing", fit.x_range.0, fit.x_range.1)
    }
}

fn projection(trend: &str, fit: &ExponentialFit, target: &Target) -> ProjectionRow {
    let cross = crossover(fit, target.central, HORIZON);
    let (year, ci_low, ci_high, open_high, status) = match cross {
        Crossover::Reached { year, ci95, already } => (
            Some(year),
            ci95.lower,
            ci95.upper,
            ci95.upper.is_none(),
            if already { "already_reached" } else { "reached" },
        ),
        Crossover::NeverWithinHorizon { .. } => (None, None, None, false, "never_within_horizon"),
    };
    ProjectionRow {
        trend: trend.into(),
        target: target.label.into(),
        target_value: target.central,
        unit: target.unit.into(),
        year,
        ci_low,
        ci_high,
        open_high,
        status: status.into(),
    }
}

fn target(id: &str) -> Option<Target> {
    brain_targets().into_iter().find(|t| t.id == id)
}

/// Species reference levels from `species.csv` (`column`), labelled with common names.
fn species_levels(data_dir: &Path, column: &str) -> Result<Vec<ReferenceLevel>, AnalysisError> {
    let table = load_bundled("species", data_dir)?;
    let ids = table.text("id")?;
    let names = table.text("common_name")?;
    let species = table.text("species")?;
    let values = table.numbers(column)?;
    let mut levels: Vec<ReferenceLevel> = Vec::new();
    for row in 0..table.len() {
        let (Some(value), Some(id)) = (values[row], ids[row].as_deref()) else {
            continue;
        };
        if id == "human_round" {
            continue; // the seed report's round numbers, not a measurement
        }
        let name = names[row]
            .clone()
            .or_else(|| species[row].clone())
            .unwrap_or_else(|| id.to_string());
        levels.push(ReferenceLevel {
            label: format!("{name} {}", compact(value)),
            value,
            range: None,
        });
    }
    levels.sort_by(|a, b| a.value.total_cmp(&b.value));
    // keep one level per half decade so labels stay readable
    let mut kept: Vec<ReferenceLevel> = Vec::new();
    for level in levels {
        if kept.last().is_none_or(|k| level.value.log10() - k.value.log10() >= 0.5) {
            kept.push(level);
        }
    }
    Ok(kept)
}

fn compact(value: f64) -> String {
    crate::analysis::claims::compact(value)
}

/// Why one part of the references is missing: a dataset or a fit error, as text (the
/// analysis error types stay the analysis module's business).
#[derive(Debug)]
struct GlueError(String);

impl From<AnalysisError> for GlueError {
    fn from(e: AnalysisError) -> GlueError {
        GlueError(e.to_string())
    }
}

impl From<FitError> for GlueError {
    fn from(e: FitError) -> GlueError {
        GlueError(e.to_string())
    }
}

impl std::fmt::Display for GlueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn note(refs: &mut References, what: &str, e: impl std::fmt::Display) {
    refs.notes.push(format!("{what}: {e}"));
}

/// Fills [`References`] from the bundled datasets in `data_dir` and this machine's
/// measurements. Never fails: what cannot be loaded is listed in `notes`.
pub fn from_analysis(data_dir: &Path, machine: Option<&MachineMeasured>) -> References {
    let mut refs = References {
        data_dir: Some(data_dir.display().to_string()),
        ..References::default()
    };

    // ANN neurons over time (Goodfellow et al. 2016, Fig 1.11)
    let result = (|| -> Result<(), GlueError> {
        let all = series(data_dir, "networks", "year", "neurons_count", None)?;
        let fitted = series(
            data_dir,
            "networks",
            "year",
            "neurons_count",
            Some("in_fig11_trend_fit == true"),
        )
        .unwrap_or_else(|_| all.clone());
        let fit = exponential_trend(&fitted.x, &fitted.y, BOOTSTRAP)?;
        let human = target("human_neurons");
        let projection_row = human.as_ref().map(|t| projection("ANN neurons", &fit, t));
        let x_to = projection_row
            .as_ref()
            .and_then(|p| p.year)
            .unwrap_or(fit.x_range.1 + 10.0)
            .clamp(fit.x_range.1 + 5.0, fit.x_range.1 + 60.0);
        let mut references = species_levels(data_dir, "neurons_count").unwrap_or_default();
        if references.is_empty() {
            if let Some(t) = &human {
                references.push(ReferenceLevel {
                    label: format!("human {}", compact(t.central)),
                    value: t.central,
                    range: Some(t.range),
                });
            }
        }
        refs.fits
            .push(fit_row("ANN neurons (networks.csv)", &fit, "networks.csv"));
        refs.projections.extend(projection_row);
        refs.panels.push(HistoryPanel {
            id: "history_neurons".into(),
            title: "Artificial neural network size over time".into(),
            y_label: "neurons (units, as each paper counts them)".into(),
            points: points(&all, None),
            trends: vec![trend_line(&fit, doubling_label(&fit), fit.x_range.0, x_to)],
            references,
            machine: None,
            caption: format!(
                "Neurons of notable networks (Goodfellow, Bengio & Courville 2016, Fig. 1.11, digitized; data/networks.csv), \
                 with an exponential fit of log10(neurons) on the year over the {} points behind the book's trend and its \
                 bootstrap 95 % CI, extended towards the human figure. Horizontal lines: neuron counts of species \
                 (data/species.csv: Azevedo et al. 2009 for humans; other sources per row).",
                fit.line.n
            ),
        });
        Ok(())
    })();
    if let Err(e) = result {
        note(&mut refs, "ANN neurons", e);
    }

    // Connections per neuron (Fig 1.10)
    let result = (|| -> Result<(), GlueError> {
        let all = series(data_dir, "networks", "year", "connections_per_neuron_ratio", None)?;
        let fit = exponential_trend(&all.x, &all.y, BOOTSTRAP)?;
        // Whole-brain synapses ÷ neurons for every species but the human, whose published
        // figure is the neocortical 7,000 (its whole-brain quotient rests on neocortical
        // synapses only; see data/README.md).
        let mut references = species_levels(data_dir, "synapses_per_neuron_whole_brain_ratio").unwrap_or_default();
        references.retain(|r| !r.label.to_lowercase().contains("human"));
        references.extend(species_levels(data_dir, "synapses_per_neuron_cortical_ratio").unwrap_or_default());
        references.sort_by(|a, b| a.value.total_cmp(&b.value));
        if let Some(human) = references.iter().find(|r| r.label.to_lowercase().contains("human")) {
            let t = Target {
                id: "human_synapses_per_neuron",
                label: "human synapses per neuron",
                unit: "connections",
                central: human.value,
                range: (human.value, human.value),
                source: "species.csv",
            };
            refs.projections
                .push(projection("ANN connections per neuron", &fit, &t));
        }
        refs.fits.push(fit_row(
            "ANN connections per neuron (networks.csv)",
            &fit,
            "networks.csv",
        ));
        refs.panels.push(HistoryPanel {
            id: "history_connections".into(),
            title: "Connections per neuron over time".into(),
            y_label: "connections per neuron (weights into a unit)".into(),
            points: points(&all, None),
            trends: vec![trend_line(
                &fit,
                doubling_label(&fit),
                fit.x_range.0,
                fit.x_range.1 + 10.0,
            )],
            references,
            machine: None,
            caption: "Connections per neuron of notable networks (Goodfellow et al. 2016, Fig. 1.10, digitized; \
                data/networks.csv) with an exponential fit and its bootstrap 95 % CI. Horizontal lines: synapses per neuron \
                of species (data/species.csv)."
                .into(),
        });
        Ok(())
    })();
    if let Err(e) = result {
        note(&mut refs, "connections per neuron", e);
    }

    // Training compute with fitted eras
    let result = (|| -> Result<(), GlueError> {
        let all = series(
            data_dir,
            "training_compute",
            "publication_date",
            "training_compute_FLOP",
            None,
        )?;
        let pieces = piecewise_log_linear(&all.x, &all.y, 2, 20)?;
        let mut trends = Vec::new();
        for segment in &pieces.segments {
            let (x0, x1) = segment.x_range;
            trends.push(TrendLine {
                label: if segment.doubling_time.is_finite() && segment.doubling_time > 0.0 {
                    format!(
                        "era {x0:.0}-{x1:.0}: ×2 every {:.1} months",
                        segment.doubling_time * 12.0
                    )
                } else {
                    format!("era {x0:.0}-{x1:.0}")
                },
                x_from: x0,
                x_to: x1,
                slope_log10: segment.slope_log10_per_unit,
                intercept_log10: segment.intercept,
                band: Vec::new(),
                band_label: String::new(),
            });
            refs.fits.push(FitRow {
                what: format!("training compute, era {x0:.0}-{x1:.0}"),
                model: "piecewise".into(),
                n: segment.n,
                years: format!("{x0:.0}-{x1:.0}"),
                slope_log10_per_year: segment.slope_log10_per_unit,
                doubling_time_years: Some(segment.doubling_time).filter(|d| d.is_finite() && *d > 0.0),
                doubling_time_ci: [None, None],
                r2: Some(pieces.r2),
                source: with_snapshot("training_compute.csv"),
            });
        }
        // last era refitted with the bootstrap for the band and the projection
        if let Some(last) = pieces.segments.last() {
            let (xs, ys): (Vec<f64>, Vec<f64>) = all
                .x
                .iter()
                .zip(&all.y)
                .filter(|(x, _)| **x >= last.x_range.0)
                .map(|(x, y)| (*x, *y))
                .unzip();
            if let Ok(fit) = exponential_trend(&xs, &ys, BOOTSTRAP) {
                if let Some(t) = target("lifetime_brain_compute") {
                    refs.projections
                        .push(projection("training compute (last era)", &fit, &t));
                }
                let band = trend_line(&fit, String::new(), fit.x_range.0, fit.x_range.1).band;
                if let Some(t) = trends.last_mut() {
                    t.band = band;
                    t.band_label = "95 % CI of the last era (bootstrap)".into();
                }
            }
        }
        let lifetime = target("lifetime_brain_compute");
        refs.panels.push(HistoryPanel {
            id: "history_training".into(),
            title: "Training compute of notable models".into(),
            y_label: "training compute (FLOP)".into(),
            points: points(&all, None),
            trends,
            references: lifetime
                .map(|t| ReferenceLevel {
                    label: "30-year lifetime of brain compute".into(),
                    value: t.central,
                    range: Some(t.range),
                })
                .into_iter()
                .collect(),
            machine: None,
            caption: format!(
                "Training compute of {} notable models (Epoch AI, data/training_compute.csv) with eras found by a piecewise \
                 log-linear fit (breakpoints chosen by BIC, at least 20 models per era); the last era is refitted with \
                 a bootstrap for its 95 % CI. Horizontal line: 1e15 FLOP/s × 30 years (shaded: 1e13-1e17 FLOP/s, \
                 Carlsmith 2020).",
                all.x.len()
            ),
        });
        Ok(())
    })();
    if let Err(e) = result {
        note(&mut refs, "training compute", e);
    }

    // Hardware FLOP/s and FLOP/J over time
    for (id, title, column, y_label, target_id, trend_name, mark) in [
        (
            "history_hardware",
            "Hardware peak FP32 FLOP/s over time",
            "fp32_FLOP_per_s",
            "peak FP32 FLOP/s",
            "brain_flops",
            "hardware FP32 FLOP/s",
            machine.and_then(|m| {
                m.peak_flops_per_s_f32
                    .or(m.peak_flops_per_s_f64)
                    .map(|v| (m, v, "measured peak"))
            }),
        ),
        (
            "history_efficiency",
            "Hardware FP32 FLOP/s per watt over time",
            "fp32_FLOP_per_J",
            "peak FP32 FLOP/s per watt of TDP (FLOP/J)",
            "brain_flops_per_joule",
            "hardware FP32 FLOP/J",
            machine.and_then(|m| {
                m.flops_per_joule.map(|v| {
                    (
                        m,
                        v,
                        if m.flops_per_joule_source == "modeled" {
                            "MODELED"
                        } else {
                            "measured"
                        },
                    )
                })
            }),
        ),
    ] {
        let result = (|| -> Result<(), GlueError> {
            let table = load_bundled("hardware", data_dir)?;
            let types = table.text("type")?;
            let mut kinds: Vec<String> = types.iter().flatten().cloned().collect();
            kinds.sort();
            kinds.dedup();
            let mut all_points = Vec::new();
            for kind in &kinds {
                if let Ok(s) = select_series(
                    &table,
                    &Selection {
                        x: "release_date".into(),
                        y: column.into(),
                        filter: Some(Filter::parse(&format!("type == '{kind}'"))?),
                        ..Default::default()
                    },
                ) {
                    all_points.extend(points(&s, Some(kind)));
                }
            }
            let everything = select_series(
                &table,
                &Selection {
                    x: "release_date".into(),
                    y: column.into(),
                    ..Default::default()
                },
            )?;
            let fit = exponential_trend(&everything.x, &everything.y, BOOTSTRAP)?;
            let brain = target(target_id);
            if let Some(t) = &brain {
                refs.projections.push(projection(trend_name, &fit, t));
            }
            refs.fits.push(fit_row(
                &format!("hardware {column} (hardware.csv, all types)"),
                &fit,
                "hardware.csv",
            ));
            refs.panels.push(HistoryPanel {
                id: id.into(),
                title: title.into(),
                y_label: y_label.into(),
                points: all_points,
                trends: vec![trend_line(&fit, doubling_label(&fit), fit.x_range.0, fit.x_range.1 + 5.0)],
                references: brain
                    .map(|t| ReferenceLevel {
                        label: format!("brain {}", compact(t.central)),
                        value: t.central,
                        range: Some(t.range),
                    })
                    .into_iter()
                    .collect(),
                machine: mark.map(|(m, v, how)| MachineMark {
                    label: format!("this machine ({how})"),
                    x: m.year,
                    y: v,
                }),
                caption: format!(
                    "{title}: curated accelerators, CPUs, GPUs and neuromorphic chips (data/hardware.csv: Epoch AI, K. Rupp, \
                     vendor sheets), coloured by type, with one exponential fit over all of them and its bootstrap 95 % \
                     CI. {} Star: this machine as measured by this run{}.",
                    if column.ends_with("_per_J") {
                        "FLOP/J here is peak ÷ TDP, an upper bound on delivered efficiency. Horizontal line: the brain's \
                         1e15 FLOP/s ÷ 20 W (shaded 1e13-1e17 FLOP/s)."
                    } else {
                        "Horizontal line: brain-equivalent compute 1e15 FLOP/s (shaded 1e13-1e17, Carlsmith 2020)."
                    },
                    if column.ends_with("_per_J") { " (its energy source is in the legend)" } else { " (best peak_fma)" }
                ),
            });
            Ok(())
        })();
        if let Err(e) = result {
            note(&mut refs, title, e);
        }
    }

    // Hardware lines on the energy chart: best CPU and best GPU FP32 FLOP/J.
    refs.energy.push(brain_energy_reference());
    let result = (|| -> Result<(), GlueError> {
        let table = load_bundled("hardware", data_dir)?;
        let names = table.text("name")?;
        let types = table.text("type")?;
        let per_joule = table.numbers("fp32_FLOP_per_J")?;
        for kind in ["CPU", "GPU"] {
            let best = (0..table.len())
                .filter(|&r| types[r].as_deref() == Some(kind))
                .filter_map(|r| Some((per_joule[r]?, r)))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((value, row)) = best {
                refs.energy.push(EnergyReference {
                    label: format!("best {kind}: {} (peak÷TDP)", names[row].clone().unwrap_or_default()),
                    flops_per_joule: value,
                    range: None,
                });
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        note(&mut refs, "hardware energy references", e);
    }

    let result = (|| -> Result<(), GlueError> {
        let table = load_bundled("microcircuit_benchmarks", data_dir)?;
        let (ids, simulators, platforms, systems) = (
            table.text("id")?,
            table.text("simulator")?,
            table.text("platform")?,
            table.text("system")?,
        );
        let (years, rtfs, joules) = (
            table.numbers("year")?,
            table.numbers("real_time_factor")?,
            table.numbers("J_per_synaptic_event")?,
        );
        for r in 0..table.len() {
            let (Some(year), Some(rtf)) = (years[r], rtfs[r]) else {
                continue;
            };
            refs.published_simulations.push(super::cortex::PublishedSimulation {
                id: ids[r].clone().unwrap_or_default(),
                simulator: simulators[r].clone().unwrap_or_default(),
                platform: platforms[r].clone().unwrap_or_default(),
                system: systems[r].clone().unwrap_or_default(),
                year,
                real_time_factor: rtf,
                joules_per_synaptic_event: joules[r],
            });
        }
        Ok(())
    })();
    if let Err(e) = result {
        note(&mut refs, "published microcircuit simulations", e);
    }

    match crate::analysis::studies::run_studies(data_dir) {
        Ok(results) => {
            refs.studies = results
                .into_iter()
                .map(|r| StudyRow {
                    name: r.study.name.into(),
                    source: r.study.source.into(),
                    published: r.study.published_text(),
                    braingap: r.braingap.text(r.study.figure),
                    verdict: r.verdict.to_string(),
                    explanation: {
                        let mut text = r.explanation;
                        if let Some(c) = &r.crossover {
                            text.push_str(&format!(". Crossover ({}): {}", c.verdict, c.explanation));
                        }
                        if let Some(level) = &r.level {
                            text.push_str(&format!(". Level (not judged): {}", level.explanation));
                        }
                        text
                    },
                    snapshot: r.snapshot.describe(),
                    on_paper_data: r.braingap_on_paper_data.map(|own| {
                        if r.study.paper_data == Some(r.study.dataset) {
                            return format!("the bundled table is the paper's own ({})", r.study.dataset);
                        }
                        format!(
                            "{} ({})",
                            own.text(r.study.figure),
                            r.study.paper_data.unwrap_or("the paper's data")
                        )
                    }),
                })
                .collect()
        }
        Err(e) => note(&mut refs, "published trend studies", e),
    }

    match check_claims(data_dir) {
        Ok(claims) => {
            match crate::analysis::catalogue::judge_catalogue(data_dir, &claims) {
                Ok(judged) => {
                    let c = crate::analysis::catalogue::VerdictCounts::of(&judged);
                    refs.claims_summary = Some(format!(
                        "The seed report makes {} checkable claims (data/seed_claims.csv); by one rubric, {} are supported, {} partly, {} not supported and {} cannot be checked with the bundled data. The ones that need fits are below; braingap claims --all lists every one with where the report makes it.",
                        c.total, c.supported, c.partly, c.not_supported, c.cannot_be_checked
                    ))
                }
                Err(e) => note(&mut refs, "seed-claims catalogue", e),
            }
            refs.claims = claims
                .into_iter()
                .map(|c| ClaimRow {
                    id: c.id.into(),
                    claim: c.claim.into(),
                    verdict: c.verdict.to_string(),
                    finding: c.finding,
                    evidence: c
                        .evidence
                        .iter()
                        .map(|e| format!("{}: {} {} ({})", e.label, compact(e.value), e.unit, e.source))
                        .collect(),
                })
                .collect()
        }
        Err(e) => note(&mut refs, "claims check", e),
    }

    if let Some(m) = machine {
        let point = MachinePoint {
            label: m.label.clone(),
            year: m.year,
            peak_flops_per_s_f32: m.peak_flops_per_s_f32,
            peak_flops_per_s_f64: m.peak_flops_per_s_f64,
            stream_bytes_per_s: m.stream_bytes_per_s,
            flops_per_joule: m.flops_per_joule,
            flops_per_joule_source: m.flops_per_joule_source.clone(),
            avg_power_w: m.avg_power_w,
        };
        match machine_comparison(&point, data_dir) {
            Ok(c) => refs.machine_sentence = Some(c.sentence),
            Err(e) => note(&mut refs, "this machine against the brain", e),
        }
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report's fit table is the studies: one row per study, with its verdict, and the
    /// Goodfellow row carries the human crossover.
    #[test]
    fn the_fit_table_is_the_studies() {
        let refs = from_analysis(&crate::analysis::bundled_data_dir(), None);
        let names: Vec<&str> = refs.studies.iter().map(|s| s.name.as_str()).collect();
        let expected: Vec<&str> = crate::analysis::studies::studies().iter().map(|s| s.name).collect();
        assert_eq!(names, expected, "{:?}", refs.notes);
        for row in &refs.studies {
            assert!(
                [
                    "reproduced within CI",
                    "differs, explained by data revision",
                    "differs, unexplained"
                ]
                .contains(&row.verdict.as_str()),
                "{row:?}"
            );
            assert!(row.snapshot.contains("snapshot"), "{row:?}");
        }
        let goodfellow = &refs.studies[0];
        assert!(
            goodfellow.explanation.contains("Crossover (reproduced within CI)"),
            "{goodfellow:?}"
        );
        assert!(refs.studies.iter().any(|r| r.verdict == "differs, unexplained"));
        // The Sevilla studies carry their figure on the paper's own 123 systems.
        let large = refs
            .studies
            .iter()
            .find(|r| r.name == "sevilla-2022-large-scale")
            .unwrap();
        let own = large.on_paper_data.as_deref().expect("the paper's data are bundled");
        assert!(own.contains("(sevilla_2022)") && own.contains("n = 19"), "{own}");
        assert!(refs.studies.iter().any(|r| r.on_paper_data.is_none()));
        assert_eq!(
            refs.studies[0].on_paper_data.as_deref(),
            Some("the bundled table is the paper's own (networks)")
        );
        let summary = refs.claims_summary.expect("the catalogue is bundled");
        assert!(
            summary.starts_with("The seed report makes 107 checkable claims"),
            "{summary}"
        );
    }
}
