//! The serializable context the page template is filled from. Every value is plain text or
//! a number; the template escapes all of it except the SVG documents, which plotters
//! writes with its text already escaped.

use super::figures::RenderedFigure;
use super::history::{ClaimRow, FitRow, ProjectionRow};
use super::measured::{is_stream_sweep, short_id};
use crate::compare::Comparison;
use crate::store::{RunInfo, SummaryRow};
use crate::units::si;
use braingap_meters::EnergySource;
use serde::Serialize;

/// The whole page.
#[derive(Debug, Clone, Serialize)]
pub struct PageContext {
    /// Page title.
    pub title: String,
    /// braingap version.
    pub version: String,
    /// The run.
    pub run: RunContext,
    /// Other backends' runs drawn beside it.
    pub companions: Vec<String>,
    /// Machine fingerprint rows.
    pub machine: Vec<KeyValue>,
    /// Per-benchmark summary rows.
    pub summary: Vec<SummaryContext>,
    /// Relative statements between the run's related benchmarks (layouts, dtypes).
    pub relatives: Vec<String>,
    /// Whether any energy figure is modeled.
    pub any_modeled: bool,
    /// Sections with figures.
    pub sections: Vec<SectionContext>,
    /// Projection table.
    pub projections: Vec<ProjectionContext>,
    /// Claims table.
    pub claims: Vec<ClaimRow>,
    /// Fit table.
    pub fits: Vec<FitContext>,
    /// Published trend analyses redone.
    pub studies: Vec<super::history::StudyRow>,
    /// Counts of the seed report's claims by verdict.
    pub claims_summary: Option<String>,
    /// Regression check, with `--baseline`.
    pub comparison: Option<ComparisonContext>,
    /// "this CPU delivers ..." sentence.
    pub machine_sentence: Option<String>,
    /// The answer panel that opens the page.
    pub answer: super::answer::AnswerContext,
    /// The panel's figure: this machine ÷ the brain, every figure on one axis.
    pub answer_figure: Option<FigureContext>,
    /// What could not be drawn, and why.
    pub notes: Vec<String>,
    /// Where reference data came from.
    pub data_dir: Option<String>,
}

/// Run metadata as shown.
#[derive(Debug, Clone, Serialize)]
pub struct RunContext {
    /// Run id.
    pub id: String,
    /// User label.
    pub label: Option<String>,
    /// `complete` or `running`/incomplete.
    pub status: String,
    /// Whether the run ended normally.
    pub complete: bool,
    /// Profile.
    pub profile: String,
    /// Backend.
    pub backend: String,
    /// Device.
    pub device: String,
    /// Threads.
    pub threads: u64,
    /// Start time.
    pub started_at: String,
    /// End time.
    pub finished_at: Option<String>,
    /// Command line.
    pub command_line: String,
    /// Commit.
    pub git_commit: Option<String>,
    /// Benchmarks ok / failed / skipped.
    pub counts: String,
}

/// A key, its value, and a note (source or reason).
#[derive(Debug, Clone, Serialize)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// Source or reason.
    pub note: String,
}

/// One summary row, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryContext {
    /// Benchmark name: the short display name (kernel and its telling parameters) once the
    /// page sets it; the full name is in `full_name`.
    pub benchmark: String,
    /// The full benchmark name, as in the run's files (the cell's hover text).
    pub full_name: String,
    /// Backend.
    pub backend: String,
    /// Status.
    pub status: String,
    /// Median time.
    pub median: String,
    /// CI half-width in percent.
    pub ci: String,
    /// GFLOP/s.
    pub gflops: String,
    /// GB/s.
    pub gbytes: String,
    /// FLOP/byte.
    pub intensity: String,
    /// Roofline attainment.
    pub attainment: String,
    /// GHz.
    pub ghz: String,
    /// GFLOP/J.
    pub gflops_per_joule: String,
    /// Energy source.
    pub energy_source: String,
    /// Energy figure is modeled.
    pub modeled: bool,
    /// Failure or skip reason, or energy note.
    pub note: String,
}

/// A section of figures.
#[derive(Debug, Clone, Serialize)]
pub struct SectionContext {
    /// HTML id.
    pub id: String,
    /// Heading.
    pub title: String,
    /// Intro paragraph.
    pub intro: String,
    /// Figures.
    pub figures: Vec<FigureContext>,
    /// Why something is missing.
    pub notes: Vec<String>,
}

/// One figure on the page.
#[derive(Debug, Clone, Serialize)]
pub struct FigureContext {
    /// Id and file stem.
    pub id: String,
    /// Title.
    pub title: String,
    /// Caption.
    pub caption: String,
    /// SVG document (inlined; text already escaped by plotters).
    pub svg: String,
    /// Relative path of the PNG (built from the figure id, a fixed identifier, so the
    /// template inserts it unescaped).
    pub png_file: String,
    /// Relative path of the SVG.
    pub svg_file: String,
}

impl FigureContext {
    /// From a rendered figure; files live under `figures/`.
    pub fn from_rendered(figure: &RenderedFigure) -> FigureContext {
        // drop the XML prolog if any, and make the SVG scale with the page
        let svg = figure.svg.trim_start_matches(|c: char| c.is_whitespace()).to_string();
        let svg = match svg.find("<svg") {
            Some(i) => svg[i..].replacen("<svg ", "<svg class=\"plot\" role=\"img\" ", 1),
            None => svg,
        };
        FigureContext {
            id: figure.id.clone(),
            title: figure.title.clone(),
            caption: figure.caption.clone(),
            svg,
            png_file: format!("figures/{}.png", figure.id),
            svg_file: format!("figures/{}.svg", figure.id),
        }
    }
}

/// One projection, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectionContext {
    /// Trend.
    pub trend: String,
    /// Target with value and unit.
    pub target: String,
    /// Central year or status.
    pub year: String,
    /// CI.
    pub ci: String,
}

impl ProjectionContext {
    /// Formats a row.
    pub fn from_row(row: &ProjectionRow) -> ProjectionContext {
        let year = match (row.year, row.status.as_str()) {
            (Some(y), "already_reached") => format!("{y:.1} (already reached)"),
            (Some(y), _) => format!("{y:.1}"),
            (None, _) => "not within the horizon".into(),
        };
        let ci = match (row.ci_low, row.ci_high, row.open_high) {
            (Some(lo), _, true) => format!("{lo:.1} – never"),
            (Some(lo), Some(hi), _) => format!("{lo:.1} – {hi:.1}"),
            _ => "–".into(),
        };
        ProjectionContext {
            trend: row.trend.clone(),
            target: format!(
                "{} ({} {})",
                row.target,
                crate::figures::format_log_tick(row.target_value.log10()),
                row.unit
            ),
            year,
            ci,
        }
    }
}

/// One fit, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct FitContext {
    /// What was fitted.
    pub what: String,
    /// Model.
    pub model: String,
    /// Points.
    pub n: usize,
    /// Years.
    pub years: String,
    /// Slope.
    pub slope: String,
    /// Doubling time.
    pub doubling: String,
    /// Its CI.
    pub doubling_ci: String,
    /// R².
    pub r2: String,
    /// Source.
    pub source: String,
}

impl FitContext {
    /// Formats a row.
    pub fn from_row(row: &FitRow) -> FitContext {
        let years = |v: Option<f64>| v.map_or("∞".to_string(), |d| format!("{d:.2}"));
        FitContext {
            what: row.what.clone(),
            model: row.model.clone(),
            n: row.n,
            years: row.years.clone(),
            slope: format!("{:.3}", row.slope_log10_per_year),
            doubling: row.doubling_time_years.map_or("–".into(), |d| format!("{d:.2} yr")),
            doubling_ci: match row.doubling_time_ci {
                [None, None] => "–".into(),
                [lo, hi] => format!("{} – {} yr", years(lo), years(hi)),
            },
            r2: row.r2.map_or("–".into(), |r| format!("{r:.2}")),
            source: row.source.clone(),
        }
    }
}

/// The regression check, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonContext {
    /// Baseline run id.
    pub baseline: String,
    /// Whether the machines match.
    pub same_machine: bool,
    /// Threshold in percent.
    pub threshold_percent: String,
    /// Counts line.
    pub counts: String,
    /// Rows, regressions first.
    pub rows: Vec<ComparisonRowContext>,
    /// Benchmarks in one run only.
    pub unmatched: Vec<String>,
}

/// One compared benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRowContext {
    /// Benchmark.
    pub benchmark: String,
    /// Backend.
    pub backend: String,
    /// Baseline median.
    pub baseline: String,
    /// Current median.
    pub current: String,
    /// Ratio.
    pub ratio: String,
    /// CI.
    pub ci: String,
    /// Verdict.
    pub verdict: String,
    /// Reason for `incomparable`.
    pub reason: String,
}

impl ComparisonContext {
    /// Formats a comparison.
    pub fn from_comparison(c: &Comparison) -> ComparisonContext {
        use crate::compare::Verdict;
        let time = |v: Option<f64>| v.map_or("–".into(), |s| si(s, "s"));
        ComparisonContext {
            baseline: c.baseline_run_id.clone(),
            same_machine: c.same_machine,
            threshold_percent: format!("{:.0}", c.options.threshold * 100.0),
            counts: format!(
                "{} regressed, {} improved, {} unchanged, {} incomparable",
                c.count(Verdict::Regressed),
                c.count(Verdict::Improved),
                c.count(Verdict::Unchanged),
                c.count(Verdict::Incomparable)
            ),
            rows: c
                .rows
                .iter()
                .map(|r| ComparisonRowContext {
                    benchmark: r.benchmark.clone(),
                    backend: r.backend.to_string(),
                    baseline: time(r.baseline_value),
                    current: time(r.current_value),
                    ratio: r.ratio.map_or("–".into(), |v| format!("{v:.3}")),
                    ci: match (r.ci_low, r.ci_high) {
                        (Some(lo), Some(hi)) => format!("{lo:.3} – {hi:.3} ({})", r.ci_method),
                        _ => "–".into(),
                    },
                    verdict: r.verdict.as_str().into(),
                    reason: r.reason.clone().unwrap_or_default(),
                })
                .collect(),
            unmatched: c
                .only_in_current
                .iter()
                .map(|b| format!("{b} (only in this run)"))
                .chain(c.only_in_baseline.iter().map(|b| format!("{b} (only in the baseline)")))
                .collect(),
        }
    }
}

fn num(value: Option<f64>, digits: usize) -> String {
    value.map_or("–".into(), |v| format!("{v:.digits$}"))
}

impl SummaryContext {
    /// Formats a summary row.
    pub fn from_row(r: &SummaryRow) -> SummaryContext {
        let ok = r.status == crate::measure::Status::Ok;
        let ghz = match (r.clock_ghz_before, r.clock_ghz_after) {
            (Some(a), Some(b)) => Some(0.5 * (a + b)),
            (a, b) => a.or(b),
        };
        SummaryContext {
            benchmark: r.benchmark.clone(),
            full_name: r.benchmark.clone(),
            backend: r.backend.to_string(),
            status: r.status.to_string(),
            median: r.median_s.map_or("–".into(), |s| si(s, "s")),
            ci: match (r.median_s, r.ci_low_s, r.ci_high_s) {
                (Some(m), Some(lo), Some(hi)) if m > 0.0 => format!("±{:.1}%", 50.0 * (hi - lo) / m),
                _ => "–".into(),
            },
            gflops: num(r.gflops_per_s, 2),
            gbytes: num(r.gbytes_per_s, 2),
            intensity: num(r.arithmetic_intensity, 2),
            attainment: r.attainment.map_or("–".into(), |a| match r.roof_level {
                Some(level) => format!("{:.0}% of {level}", a * 100.0),
                None => format!("{:.0}%", a * 100.0),
            }),
            ghz: num(ghz, 2),
            // A modeled figure: two significant figures and the model's range.
            gflops_per_joule: match r.gflops_per_joule {
                Some(g) if r.energy_source == EnergySource::Modeled => crate::answer::modeled_cell(g),
                other => num(other, 3),
            },
            energy_source: if r.energy_source == EnergySource::Modeled {
                "MODELED".into()
            } else {
                r.energy_source.as_str().to_string()
            },
            modeled: r.energy_source == EnergySource::Modeled,
            note: if ok {
                if is_stream_sweep(r) {
                    "size sweep".into()
                } else {
                    r.energy_note.clone().unwrap_or_default()
                }
            } else {
                r.reason.clone().unwrap_or_default()
            },
        }
    }
}

/// Machine rows from `meta.machine` (lenient: missing fields are skipped).
pub fn machine_rows(machine: &serde_json::Value) -> Vec<KeyValue> {
    let mut rows = Vec::new();
    let fact = |key: &str| -> Option<(String, String)> {
        let f = &machine[key];
        if f.is_null() {
            return None;
        }
        let value = match &f["value"] {
            serde_json::Value::Null => "unknown".to_string(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Some((value, f["source"].as_str().unwrap_or("").to_string()))
    };
    for (key, label) in [
        ("cpu_model", "CPU"),
        ("vendor", "vendor"),
        ("physical_cores", "physical cores"),
        ("max_frequency_mhz", "max clock (MHz)"),
        ("measured_frequency_mhz", "measured clock (MHz)"),
        ("os", "OS"),
        ("kernel", "kernel"),
        ("hypervisor", "hypervisor"),
        ("transparent_hugepages", "transparent huge pages"),
        ("last_level_cache_bytes", "last-level cache (bytes)"),
        ("microarchitecture", "microarchitecture"),
        ("fma_units_per_core", "FMA units per core"),
        ("fma_width_bits", "FMA width (bits)"),
        ("rustc", "rustc"),
        ("git_commit", "commit"),
    ] {
        if let Some((value, note)) = fact(key) {
            rows.push(KeyValue {
                key: label.into(),
                value,
                note,
            });
        }
    }
    if let Some(n) = machine["logical_cores"].as_u64() {
        rows.push(KeyValue {
            key: "logical CPUs".into(),
            value: n.to_string(),
            note: String::new(),
        });
    }
    if let Some(bytes) = machine["memory_total_bytes"].as_f64() {
        rows.push(KeyValue {
            key: "memory".into(),
            value: si(bytes, "B"),
            note: String::new(),
        });
    }
    if let Some(level) = machine["simd_level"].as_str() {
        rows.push(KeyValue {
            key: "SIMD level".into(),
            value: level.into(),
            note: String::new(),
        });
    }
    if let Some(caches) = machine["caches"].as_array() {
        let text: Vec<String> = caches
            .iter()
            .filter_map(|c| {
                Some(format!(
                    "L{} {} {} × {}",
                    c["level"].as_u64()?,
                    c["kind"].as_str()?,
                    si(c["size_bytes"].as_f64()?, "B"),
                    c["instances"].as_u64().unwrap_or(1)
                ))
            })
            .collect();
        if !text.is_empty() {
            rows.push(KeyValue {
                key: "caches".into(),
                value: text.join(", "),
                note: "sysfs".into(),
            });
        }
    }
    if let Some(peaks) = machine["theoretical_peaks"].as_array() {
        for p in peaks {
            let dtype = p["dtype"].as_str().unwrap_or("?");
            rows.push(KeyValue {
                key: format!("theoretical peak {dtype}"),
                value: p["flops_per_s"].as_f64().map_or("unknown".into(), |f| si(f, "FLOP/s")),
                note: p["formula"].as_str().unwrap_or("").into(),
            });
        }
    }
    if let Some(fp) = machine["fingerprint"].as_str() {
        rows.push(KeyValue {
            key: "fingerprint".into(),
            value: fp.into(),
            note: "hash of model, cores, SIMD, caches, memory".into(),
        });
    }
    rows
}

/// The compute ceiling each dtype's `peak_fma` row of the run measured, labelled measured,
/// beside the theoretical peak: its share of it where the fingerprint knows that peak, the
/// reason where it does not (then the measured figure is the only ceiling there is).
pub fn measured_ceiling_rows(machine: &serde_json::Value, summary: &[SummaryRow]) -> Vec<KeyValue> {
    let theoretical = |dtype: &str| {
        machine["theoretical_peaks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["dtype"].as_str() == Some(dtype))
            .map(|p| {
                (
                    p["flops_per_s"].as_f64(),
                    p["formula"].as_str().unwrap_or("").to_string(),
                )
            })
    };
    let mut rows = Vec::new();
    for dtype in ["f32", "f64"] {
        let best = summary
            .iter()
            .filter(|r| r.kernel == "peak_fma" && r.dtype.as_str() == dtype && r.status == crate::measure::Status::Ok)
            .filter_map(|r| r.gflops_per_s)
            .max_by(f64::total_cmp);
        let Some(gflops) = best else { continue };
        let flops = gflops * 1e9;
        let note = match theoretical(dtype) {
            Some((Some(peak), _)) => format!(
                "measured by peak_fma in this run (register-resident FMA chains): {:.0}% of the theoretical peak",
                100.0 * flops / peak
            ),
            Some((None, why)) => {
                format!("measured by peak_fma in this run, the only compute ceiling here: theoretical peak {why}")
            }
            None => "measured by peak_fma in this run".into(),
        };
        rows.push(KeyValue {
            key: format!("compute ceiling {dtype} (measured)"),
            value: si(flops, "FLOP/s"),
            note,
        });
    }
    rows
}

/// Rows for the GPU a run measured (`config.gpu` of its meta, written by `braingap run
/// --device cuda:N` from NVML): its name and numbers, and its theoretical peaks with their
/// formulas; one row with the reason where NVML could not be read; none for CPU runs.
pub fn gpu_rows(gpu: &serde_json::Value) -> Vec<KeyValue> {
    if gpu.is_null() {
        return Vec::new();
    }
    if let Some(why) = gpu["unavailable"].as_str() {
        return vec![KeyValue {
            key: "GPU".into(),
            value: "unknown".into(),
            note: why.into(),
        }];
    }
    let cc = &gpu["compute_capability"];
    let mut rows = vec![KeyValue {
        key: "GPU".into(),
        value: gpu["name"].as_str().unwrap_or("?").into(),
        note: format!(
            "NVML: compute capability {}.{}, {} CUDA cores, max SM clock {} MHz, {}",
            cc[0],
            cc[1],
            gpu["cuda_cores"],
            gpu["max_sm_clock_mhz"],
            gpu["memory_bytes"]
                .as_f64()
                .map_or("memory unknown".into(), |b| format!(
                    "{:.1} GiB",
                    b / (1u64 << 30) as f64
                ))
        ),
    }];
    for p in gpu["theoretical_peaks"].as_array().into_iter().flatten() {
        rows.push(KeyValue {
            key: format!("GPU theoretical peak {}", p["dtype"].as_str().unwrap_or("?")),
            value: p["flops_per_s"].as_f64().map_or("unknown".into(), |f| si(f, "FLOP/s")),
            note: p["formula"].as_str().unwrap_or("").into(),
        });
    }
    rows
}

/// Run metadata, formatted.
pub fn run_context(run: &RunInfo) -> RunContext {
    let count = |s: crate::measure::Status| run.summary.iter().filter(|r| r.status == s).count();
    RunContext {
        id: run.meta.run_id.clone(),
        label: run.meta.label.clone(),
        status: if run.is_complete() {
            "complete".into()
        } else {
            format!("{} (incomplete)", run.meta.status)
        },
        complete: run.is_complete(),
        profile: run.meta.profile.clone(),
        backend: run.meta.backend.to_string(),
        device: run.meta.device.clone(),
        threads: run.meta.threads,
        started_at: run.meta.started_at.clone(),
        finished_at: run.meta.finished_at.clone(),
        command_line: run.meta.command_line.join(" "),
        git_commit: run.meta.git_commit.clone(),
        counts: format!(
            "{} of {} planned: {} ok, {} failed, {} skipped",
            run.summary.len(),
            run.meta.benchmarks_planned,
            count(crate::measure::Status::Ok),
            count(crate::measure::Status::Failed),
            count(crate::measure::Status::Skipped)
        ),
    }
}

/// A companion run, as listed.
pub fn companion_line(run: &RunInfo) -> String {
    format!(
        "{} ({}, {} benchmarks)",
        run.meta.backend,
        short_id(&run.meta.run_id),
        run.summary.len()
    )
}
