//! From a loaded run (and optional companions, baseline and reference data) to the page and
//! its figures, in memory.

use super::context::{
    companion_line, gpu_rows, machine_rows, measured_ceiling_rows, run_context, ComparisonContext, FigureContext,
    FitContext, PageContext, ProjectionContext, SectionContext, SummaryContext,
};
use super::distributed;
use super::figures::{self, Figure, FigureError, RenderedFigure};
use super::history::{panel_chart, projection_chart, MachineMeasured, References};
use super::measured::{self, brain_energy_reference, MachineView, Throughput};
use crate::compare::{compare_runs, CompareOptions, Comparison, RunSide};
use crate::store::{RunInfo, SampleRow};
use braingap_meters::EnergySource;
use chrono::Datelike;
use rayon::prelude::*;
use std::path::PathBuf;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The results store could not be read.
    #[error(transparent)]
    Store(#[from] crate::error::Error),
    /// A figure could not be drawn.
    #[error(transparent)]
    Figure(#[from] FigureError),
    /// The page template failed.
    #[error("report template: {0:#}")]
    Template(#[from] minijinja::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A CSV file could not be parsed.
    #[error("{}: line {line}: {reason}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Everything a report draws.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// The run reported on.
    pub run: RunInfo,
    /// Its raw samples (for the comparison; may be empty).
    pub samples: Vec<SampleRow>,
    /// Latest complete runs of other backends on the same machine fingerprint.
    pub companions: Vec<RunInfo>,
    /// Baseline run and its samples, with `--baseline`.
    pub baseline: Option<(RunInfo, Vec<SampleRow>)>,
    /// History, projections, claims, fits.
    pub references: References,
    /// Regression-check settings.
    pub compare: CompareOptions,
    /// The run's `populations.csv` (microcircuit benchmarks; empty for other runs).
    pub populations: Vec<super::cortex::PopulationRow>,
    /// The run's `microcircuit.csv` and `spikes.csv` (empty for other runs).
    pub cortex: super::cortex::CortexFiles,
}

/// A rendered report, not yet written.
#[derive(Debug, Clone)]
pub struct Report {
    /// `index.html`.
    pub html: String,
    /// Figures, in page order.
    pub figures: Vec<RenderedFigure>,
    /// The comparison, when a baseline was given.
    pub comparison: Option<Comparison>,
}

/// Decimal year of an RFC 3339 time stamp (METHODS.md: year + (day − 1)/days in year).
pub fn decimal_year(rfc3339: &str) -> Option<f64> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    let year = t.year();
    let days = if chrono::NaiveDate::from_ymd_opt(year, 12, 31)?.ordinal() == 366 {
        366.0
    } else {
        365.0
    };
    Some(year as f64 + (t.ordinal0() as f64) / days)
}

/// What the run measured, for this machine's points on the history charts.
pub fn machine_measured(run: &RunInfo) -> MachineMeasured {
    let ok = || run.summary.iter().filter(|r| r.status == crate::measure::Status::Ok);
    let best = |kernel: &str, dtype: &str| {
        ok().filter(|r| r.kernel == kernel && r.dtype.as_str() == dtype)
            .filter_map(|r| r.gflops_per_s)
            .fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.max(v))))
            .map(|g| g * 1e9)
    };
    let efficient = ok()
        .filter(|r| r.energy_source != EnergySource::Unavailable)
        .filter_map(|r| Some((r.gflops_per_joule?, r)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let view = MachineView::for_run(run);
    MachineMeasured {
        label: view.cpu_model.unwrap_or_else(|| run.meta.device.clone()),
        year: decimal_year(&run.meta.started_at).unwrap_or(f64::NAN),
        peak_flops_per_s_f32: best("peak_fma", "f32").or_else(|| best("gemm", "f32")),
        peak_flops_per_s_f64: best("peak_fma", "f64").or_else(|| best("gemm", "f64")),
        stream_bytes_per_s: ok()
            .filter(|r| r.kernel == "stream_triad" && !measured::is_stream_sweep(r))
            .filter_map(|r| r.gbytes_per_s)
            .fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.max(v))))
            .map(|g| g * 1e9),
        flops_per_joule: efficient.map(|(g, _)| g * 1e9),
        flops_per_joule_source: efficient.map_or("unavailable".into(), |(_, r)| r.energy_source.as_str().to_string()),
        avg_power_w: efficient.and_then(|(_, r)| r.avg_power_w),
    }
}

struct Planned {
    section: &'static str,
    figure: Figure,
}

/// Renders the page and every figure. Pure: no file is read or written.
pub fn render(input: &ReportInput) -> Result<Report, ReportError> {
    let run = &input.run;
    let companions: Vec<&RunInfo> = input.companions.iter().collect();
    let machine = MachineView::for_run(run);
    let mut planned: Vec<Planned> = Vec::new();
    let mut notes_by_section: Vec<(&'static str, String)> = Vec::new();

    planned.push(Planned {
        section: "roofline",
        figure: Figure::Xy(measured::roofline(run, &companions, &machine)),
    });
    // Bar charts: drawn in their section, or their empty note said there instead.
    let bar_charts = [Throughput::Compute, Throughput::Bandwidth]
        .map(|metric| ("backends", measured::backends(run, &companions, metric)))
        .into_iter()
        .chain([("distributions", measured::distributions(run, &input.samples))]);
    for (section, chart) in bar_charts {
        if chart.categories.is_empty() {
            notes_by_section.push((section, chart.empty_note.clone().unwrap_or_default()));
        } else {
            planned.push(Planned {
                section,
                figure: Figure::Bars(chart),
            });
        }
    }
    for chart in [measured::sweep_stream(run, &machine), measured::sweep_compute(run)] {
        if chart.has_data() {
            planned.push(Planned {
                section: "sweeps",
                figure: Figure::Xy(chart),
            });
        } else {
            notes_by_section.push((
                "sweeps",
                format!("{}: {}", chart.title, chart.empty_note.clone().unwrap_or_default()),
            ));
        }
    }
    // Distributed runs only: the section is left out of other reports.
    for chart in [
        distributed::bandwidth_vs_size(run),
        distributed::latency_vs_size(run),
        distributed::scaling_efficiency(run),
        distributed::step_split(run),
    ] {
        if chart.has_data() {
            planned.push(Planned {
                section: "distributed",
                figure: Figure::Xy(chart),
            });
        }
    }
    let mut energy_refs = input.references.energy.clone();
    if energy_refs.is_empty() {
        energy_refs.push(brain_energy_reference());
    }
    let energy = measured::energy(run, &companions, &energy_refs);
    if energy.categories.is_empty() {
        notes_by_section.push(("energy", energy.empty_note.clone().unwrap_or_default()));
    } else {
        planned.push(Planned {
            section: "energy",
            figure: Figure::Bars(energy),
        });
    }
    let simulations = super::cortex::measured(run);
    if simulations.is_empty() {
        notes_by_section.push((
            "cortex",
            "no microcircuit benchmark in this run (`braingap run --profile microcircuit`; quick and above run a small one)"
                .into(),
        ));
    } else {
        let without_energy: Vec<&str> = simulations
            .iter()
            .filter(|s| s.joules_per_event.is_none())
            .map(|s| s.benchmark.as_str())
            .collect();
        if !without_energy.is_empty() {
            notes_by_section.push((
                "cortex",
                format!(
                    "no energy figure for {} (energy unavailable on this machine): not placed on the chart",
                    without_energy.join(", ")
                ),
            ));
        }
        for sim in &simulations {
            notes_by_section.push((
                "cortex",
                format!(
                    "{}: real-time factor {:.3} (MEASURED), {} synaptic events/s{}",
                    sim.benchmark,
                    sim.real_time_factor,
                    sim.events_per_s.map_or("unknown".into(), |e| format!("{e:.3e}")),
                    sim.joules_per_event
                        .as_ref()
                        .map_or(String::new(), |(j, source)| format!(
                            ", {j:.2e} J per synaptic event ({})",
                            if source == "modeled" { "MODELED" } else { "measured" }
                        )),
                ),
            ));
        }
        planned.push(Planned {
            section: "cortex",
            figure: Figure::Xy(super::cortex::yardstick(
                &input.references.published_simulations,
                &simulations,
                &machine.cpu_model.clone().unwrap_or_else(|| run.meta.device.clone()),
            )),
        });
        // Rates of the largest microcircuit of the run.
        if let Some(largest) = super::cortex::largest(&simulations) {
            let rows: Vec<(String, f64, Option<f64>)> = input
                .populations
                .iter()
                .filter(|p| p.benchmark == largest.benchmark)
                .map(|p| (p.population.clone(), p.rate_hz, p.reference_rate_hz))
                .collect();
            if !rows.is_empty() {
                planned.push(Planned {
                    section: "cortex",
                    figure: Figure::Bars(super::cortex::rates(&rows, &largest.benchmark)),
                });
            }
            let detail = input.cortex.details.iter().find(|d| d.benchmark == largest.benchmark);
            if let Some(detail) = detail {
                if input.cortex.raster.iter().any(|s| s.benchmark == largest.benchmark) {
                    planned.push(Planned {
                        section: "cortex",
                        figure: Figure::Xy(super::cortex::raster(
                            &input.cortex.raster,
                            &largest.benchmark,
                            detail.neurons as u64,
                        )),
                    });
                }
                notes_by_section.extend(
                    super::cortex::projection_notes(run, detail)
                        .into_iter()
                        .map(|n| ("cortex", n)),
                );
            }
        }
        let limits = super::cortex::delivery_limits(run);
        if !input.cortex.details.is_empty() || !limits.is_empty() {
            planned.push(Planned {
                section: "cortex",
                figure: Figure::Bars(super::cortex::delivery(&limits, &input.cortex.details, &simulations)),
            });
        }
    }
    for panel in &input.references.panels {
        planned.push(Planned {
            section: "history",
            figure: Figure::Xy(panel_chart(panel)),
        });
    }
    if input.references.panels.is_empty() {
        notes_by_section.push(("history", "no reference data loaded (see notes)".into()));
    }
    if input.references.projections.iter().any(|p| p.year.is_some()) {
        planned.push(Planned {
            section: "projections",
            figure: Figure::Bars(projection_chart(&input.references.projections, super::glue::HORIZON)),
        });
    } else {
        notes_by_section.push(("projections", "no projection to draw (see the table and notes)".into()));
    }

    let mut rendered: Vec<RenderedFigure> = planned
        .par_iter()
        .map(|p| figures::render(&p.figure))
        .collect::<Result<_, _>>()?;
    let answer = super::answer::answer(run, &input.cortex.details);
    let answer_figure = super::answer::gap_chart(&answer)
        .map(|chart| figures::render(&Figure::Bars(chart)))
        .transpose()?;

    let comparison = input.baseline.as_ref().map(|(base, base_samples)| {
        compare_runs(
            &RunSide::of(run, &input.samples),
            &RunSide::of(base, base_samples),
            &input.compare,
        )
    });

    const SECTIONS: [(&str, &str, &str); 9] = [
        ("distributed", "Collectives and data-parallel scaling", "MPI collectives across ranks (bus bandwidth and time per call against message size) and the data-parallel training step's scaling efficiency against ideal."),
        ("roofline", "Roofline", "Where each kernel sits against this machine's measured compute and bandwidth ceilings."),
        ("backends", "Backends side by side", "Throughput of every benchmark per backend, with the bootstrap CI of the median."),
        ("distributions", "Sample distributions", "Every sample of every benchmark against its median: how repeatable each figure is, and where outliers fell."),
        ("sweeps", "Size sweeps", "Throughput against problem size; the cache knees are where bandwidth steps down."),
        ("energy", "Energy", "Work per joule, with the source of every figure marked, against the brain and the hardware record."),
        ("cortex", "Simulating cortex", "The Potjans-Diesmann cortical microcircuit (77,169 neurons, ~3×10⁸ synapses at full scale) simulated on this machine: its real-time factor and energy per synaptic event beside the published simulators and the brain."),
        ("history", "History", "Neural networks and hardware over time, with fitted trends, their CIs, the brain's figures and this machine."),
        ("projections", "Projections", "When each fitted trend reaches its brain figure."),
    ];
    let sections = SECTIONS
        .iter()
        .filter(|(id, _, _)| *id != "distributed" || planned.iter().any(|p| p.section == "distributed"))
        .map(|(id, title, intro)| SectionContext {
            id: (*id).into(),
            title: (*title).into(),
            intro: (*intro).into(),
            figures: planned
                .iter()
                .zip(&rendered)
                .filter(|(p, _)| p.section == *id)
                .map(|(_, f)| FigureContext::from_rendered(f))
                .collect(),
            notes: notes_by_section
                .iter()
                .filter(|(s, _)| s == id)
                .map(|(_, n)| n.clone())
                .collect(),
        })
        .collect();

    let mut summary: Vec<SummaryContext> = run.summary.iter().map(SummaryContext::from_row).collect();
    summary.extend(
        companions
            .iter()
            .flat_map(|c| c.summary.iter().map(SummaryContext::from_row)),
    );
    // Short display names, as in the terminal (the full name stays as hover text and in
    // the run's files), so the table fits the page.
    let short = crate::compare::render::short_names(
        run.summary
            .iter()
            .chain(companions.iter().flat_map(|c| c.summary.iter())),
    );
    for row in &mut summary {
        if let Some(name) = short.get(&row.full_name) {
            row.benchmark = name.clone();
        }
    }
    let title = match &run.meta.label {
        Some(label) => format!("braingap report: {label}"),
        None => format!(
            "braingap report: {} on {}",
            run.meta.backend,
            machine.cpu_model.clone().unwrap_or_else(|| run.meta.device.clone())
        ),
    };
    // The fake backend's timings are modelled by a test double: the title says so before
    // anything else, as the answer panel does.
    let title = if run.meta.backend == crate::store::BackendKind::Fake {
        format!("SIMULATED (fake backend) {title}")
    } else {
        title
    };
    let context = PageContext {
        title,
        version: env!("CARGO_PKG_VERSION").into(),
        run: run_context(run),
        companions: companions.iter().map(|c| companion_line(c)).collect(),
        machine: machine_rows(&run.meta.machine)
            .into_iter()
            .chain(measured_ceiling_rows(&run.meta.machine, &run.summary))
            .chain(gpu_rows(&run.meta.config["gpu"]))
            .collect(),
        any_modeled: summary.iter().any(|s| s.modeled),
        summary,
        relatives: {
            let short = crate::compare::render::short_names(&run.summary);
            let name = |full: &str| short.get(full).cloned().unwrap_or_else(|| full.to_string());
            crate::compare::relative::relative_statements(&run.summary)
                .iter()
                .map(|r| crate::compare::relative::sentence(r, &name))
                .collect()
        },
        sections,
        projections: input
            .references
            .projections
            .iter()
            .map(ProjectionContext::from_row)
            .collect(),
        claims: input.references.claims.clone(),
        fits: input.references.fits.iter().map(FitContext::from_row).collect(),
        studies: input.references.studies.clone(),
        claims_summary: input.references.claims_summary.clone(),
        comparison: comparison.as_ref().map(ComparisonContext::from_comparison),
        machine_sentence: input.references.machine_sentence.clone(),
        answer,
        answer_figure: answer_figure.as_ref().map(FigureContext::from_rendered),
        notes: input.references.notes.clone(),
        data_dir: input.references.data_dir.clone(),
    };
    let html = super::html::render_page(&context)?;
    // Its files are written with the others', first, as it stands first on the page.
    if let Some(figure) = answer_figure {
        rendered.insert(0, figure);
    }
    Ok(Report {
        html,
        figures: rendered,
        comparison,
    })
}
