//! `braingap fit`, `braingap datasets` and `braingap claims`: argument parsing and
//! text/JSON output over the analysis layer.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::analysis::claims::{compact, render_claims_table};
use crate::analysis::datasets::{bundled_datasets, ColumnKind};
use crate::analysis::fits::BootstrapOptions;
use crate::analysis::studies::{
    find_study, run_studies as run_studies_on, run_study, Figure, Reproduction, StudyResult,
};
use crate::analysis::trend::{run_fit_request, FitDetails, FitReport, FitRequest, Model};

/// Trend model for `braingap fit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ModelArg {
    /// log10(y) linear in x (doubling time).
    #[default]
    Exponential,
    /// log10(y) linear in log10(x) (scaling exponent).
    Power,
    /// Saturating logistic curve (Levenberg-Marquardt).
    Logistic,
    /// Exponential eras with breakpoints chosen by BIC.
    Piecewise,
}

impl From<ModelArg> for Model {
    fn from(model: ModelArg) -> Model {
        match model {
            ModelArg::Exponential => Model::Exponential,
            ModelArg::Power => Model::Power,
            ModelArg::Logistic => Model::Logistic,
            ModelArg::Piecewise => Model::Piecewise,
        }
    }
}

/// Fit a trend to a column of a dataset and project it to a target. The output names the
/// data snapshot (bundled table, source version, rows) and where every row went (filtered
/// out, not for fitting, dropped for a missing x or y, outside the range, fitted).
#[derive(Debug, Clone, Args)]
pub struct FitArgs {
    /// CSV file, or the name of a bundled dataset (see `braingap datasets`). Anything that
    /// names an existing file is that file, read as given (all columns text, dates and
    /// numbers recognised); a bundled table, named by name, is checked against its schema
    /// and the output names its snapshot.
    #[arg(long, value_name = "FILE", required_unless_present = "study")]
    pub data: Option<String>,
    /// x column: numbers, or dates (YYYY-MM-DD, read as decimal years).
    #[arg(long, value_name = "COL", required_unless_present = "study")]
    pub x: Option<String>,
    /// y column (numbers).
    #[arg(long, value_name = "COL", required_unless_present = "study")]
    pub y: Option<String>,
    /// Redo a published analysis with its own selection (see `braingap studies`), instead
    /// of --data/--x/--y: prints the fit, the published figure and CI, and the verdict.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = ["data", "x", "y", "from", "to", "filter", "model", "target"]
    )]
    pub study: Option<String>,
    /// Keep points with x >= this (a year for date columns).
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub from: Option<f64>,
    /// Keep points with x <= this.
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub to: Option<f64>,
    /// Trend model.
    #[arg(long, value_enum, default_value_t = ModelArg::Exponential)]
    pub model: ModelArg,
    /// Row filter: clauses `COL OP VALUE` (OP: == != >= <= > <) joined by `&&`,
    /// and `top K` for the K largest y per year, e.g. "frontier_model == true && top 3".
    /// Values must fit the column: numbers for number columns, YYYY-MM-DD or a decimal
    /// year for dates, true/false (== or != only) for booleans. A filter that keeps no
    /// row names the clause and the values its column holds. Rows marked
    /// `for_fitting == false` (species `human_round`) are left out unless the filter
    /// names them (`id == human_round`) or names `for_fitting`.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Project the trend to this y value (e.g. 8.6e10 for human neurons); positive and
    /// finite.
    #[arg(long, value_name = "Y", allow_negative_numbers = true)]
    pub target: Option<f64>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Redo published trend analyses on the bundled data.
#[derive(Debug, Clone, Args)]
pub struct StudiesArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// List the bundled datasets and their columns.
#[derive(Debug, Clone, Args)]
pub struct DatasetsArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Check the seed report's quantitative claims against the data.
#[derive(Debug, Clone, Args)]
pub struct ClaimsArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,

    /// Results store whose newest measured microcircuit (`braingap run --profile
    /// microcircuit`) the bottom-up simulation claim sets against a human brain; without one,
    /// that claim uses the published table alone and says so.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results: PathBuf,

    /// List every claim of the seed report (the catalogue in data/seed_claims.csv: place in
    /// the report, wording, the source it draws on, the checks and the rubric's verdict),
    /// not only the ones that need fits.
    #[arg(long)]
    pub all: bool,
}

fn data_dir() -> PathBuf {
    super::env::data_dir()
}

fn interval_text(pair: [Option<f64>; 2], scale: f64, digits: usize) -> String {
    let side = |v: Option<f64>, open: &str| v.map_or(open.to_string(), |v| format!("{:.digits$}", v * scale));
    format!("[{}, {}]", side(pair[0], "-inf"), side(pair[1], "inf"))
}

fn render_fit(report: &FitReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} fit of {} on {} ({}), n = {}\n",
        report.model, report.y, report.x, report.data, report.n
    ));
    out.push_str(&format!("  data snapshot       {}\n", report.snapshot.describe()));
    out.push_str(&format!(
        "  rows                {}\n",
        report.rows.describe(&report.x, &report.y)
    ));
    match report.model {
        "power" => {
            out.push_str(&format!(
                "  exponent            {:.4}  95% CI {}\n",
                report.slope_log10_per_unit,
                interval_text(report.slope_ci95, 1.0, 4)
            ));
        }
        _ => {
            out.push_str(&format!(
                "  slope               {:.4} log10/yr  95% CI {}\n",
                report.slope_log10_per_unit,
                interval_text(report.slope_ci95, 1.0, 4)
            ));
            match report.doubling_time_years {
                // A falling trend halves: its time is the negated doubling time, the CI's ends
                // negated and swapped.
                Some(d) if d < 0.0 => {
                    let [low, high] = report.doubling_time_ci95;
                    out.push_str(&format!(
                        "  halving time        {:.3} years ({:.1} months)  95% CI {} years (a falling trend)\n",
                        -d,
                        -12.0 * d,
                        interval_text([high.map(|v| -v), low.map(|v| -v)], 1.0, 3)
                    ));
                }
                Some(d) => out.push_str(&format!(
                    "  doubling time       {:.3} years ({:.1} months)  95% CI {} years\n",
                    d,
                    12.0 * d,
                    interval_text(report.doubling_time_ci95, 1.0, 3)
                )),
                None => {}
            }
            if let Some(g) = report.growth_factor_per_year {
                out.push_str(&format!(
                    "  growth per year     {g:.3}x   ({:.3} orders of magnitude per year)\n",
                    report.slope_log10_per_unit
                ));
            }
        }
    }
    out.push_str(&format!("  R²                  {:.4}\n", report.r2));
    match report.theil_sen_doubling_time_years {
        Some(t) if t < 0.0 => out.push_str(&format!("  Theil-Sen halving   {:.3} years (robust check)\n", -t)),
        Some(t) => out.push_str(&format!("  Theil-Sen doubling  {t:.3} years (robust check)\n")),
        None => {}
    }
    if let FitDetails::Piecewise { segmentation, .. } = &report.details {
        for (i, s) in segmentation.segments.iter().enumerate() {
            out.push_str(&format!(
                "  era {}: {:.1}-{:.1}, n = {}, doubling {:.3} years\n",
                i + 1,
                s.x_range.0,
                s.x_range.1,
                s.n,
                s.doubling_time
            ));
        }
    }
    if let Some(target) = report.target {
        match (report.crossover_status, report.crossover_year) {
            (Some(status), Some(year)) => out.push_str(&format!(
                "  reaches {} in {:.1}  95% CI {}{}\n",
                compact(target),
                year,
                interval_text(report.crossover_year_ci95.unwrap_or([None, None]), 1.0, 1),
                if status == "already_reached" {
                    " (already reached)"
                } else {
                    ""
                }
            )),
            (Some("not_applicable"), _) => out.push_str("  target: not applicable to a power law over x\n"),
            _ => out.push_str(&format!("  never reaches {} within the horizon\n", compact(target))),
        }
    }
    out.push_str(&format!(
        "  bootstrap: {} resamples, seed {}\n",
        report.bootstrap.resamples, report.bootstrap.seed
    ));
    out
}

fn render_study(result: &StudyResult) -> String {
    let study = &result.study;
    let figure = study.figure;
    let published = match (study.published_ci, study.published_ci_kind) {
        (Some([low, high]), kind) => format!(
            "{}  CI [{low}, {high}] ({})",
            figure.format(study.published),
            kind.unwrap_or("CI")
        ),
        (None, _) => format!("{}  (no interval stated)", figure.format(study.published)),
    };
    let ours = |r: &Reproduction| {
        if figure == Figure::LargestValue {
            return format!("{}  (one point, no interval), n = {}", figure.format(r.value), r.n);
        }
        format!(
            "{}  95% CI {}, n = {}",
            figure.format(r.value),
            interval_text(r.ci95, 1.0, 2),
            r.n
        )
    };
    let mut out = format!("{}: {}\n", study.name, study.source);
    out.push_str(&format!("  selection           {}\n", study.selection_rule));
    out.push_str(&format!("  model               {}\n", study.model));
    let bootstrap = result.fit.bootstrap;
    let jitter = if bootstrap.jitter_log10 > 0.0 {
        format!(
            ", each drawn estimate jittered by a factor log-uniform in 1/{0:.2}-{0:.2}",
            10f64.powf(bootstrap.jitter_log10)
        )
    } else {
        String::new()
    };
    out.push_str(&format!(
        "  uncertainty         published: {}; braingap: bootstrap 95% CI ({} resamples, seed {}{jitter})\n",
        study.uncertainty, bootstrap.resamples, bootstrap.seed
    ));
    out.push_str(&format!("  published           {published}\n"));
    out.push_str(&format!("  braingap            {}\n", ours(&result.braingap)));
    if let (Some(early), Some(cutoff)) = (&result.braingap_to_cutoff, study.data_cutoff_text) {
        out.push_str(&format!("  braingap to {cutoff}  {}\n", ours(early)));
    }
    if study.paper_data == Some(study.dataset) {
        out.push_str(&format!(
            "  on the paper's data the bundled table is the paper's own ({})\n",
            study.dataset
        ));
    } else if let Some(own) = &result.braingap_on_paper_data {
        out.push_str(&format!(
            "  on the paper's data {}  ({})\n",
            ours(own),
            study.paper_data.unwrap_or("?")
        ));
    }
    if let Some(revised) = &result.braingap_revised {
        out.push_str(&format!(
            "  braingap, revised   {}  (re-estimated rows at the paper's values)\n",
            ours(revised)
        ));
    }
    out.push_str(&format!(
        "  rows                {}\n",
        result.fit.rows.describe(&result.fit.x, &result.fit.y)
    ));
    out.push_str(&format!("  data snapshot       {}\n", result.snapshot.describe()));
    out.push_str(&format!(
        "  verdict             {}: {}\n",
        result.verdict, result.explanation
    ));
    if let Some(c) = &result.crossover {
        out.push_str(&format!("  crossover           {}: {}\n", c.verdict, c.explanation));
    }
    if let Some(level) = &result.level {
        out.push_str(&format!("  level               not judged: {}\n", level.explanation));
    }
    out
}

/// Runs `braingap studies`.
pub fn run_studies(args: &StudiesArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let results = run_studies_on(&data_dir())?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &results).context("writing JSON")?;
        writeln!(out)?;
        return Ok(());
    }
    for (i, result) in results.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        out.write_all(render_study(result).as_bytes())?;
    }
    Ok(())
}

/// `braingap fit --study NAME`: the fit, then the study's comparison.
fn run_fit_study(name: &str, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let study = find_study(name)?;
    let result = run_study(study, &data_dir())?;
    if json {
        let value = serde_json::json!({ "study": &result, "fit": &result.fit });
        serde_json::to_writer_pretty(&mut *out, &value).context("writing JSON")?;
        writeln!(out)?;
    } else {
        out.write_all(render_fit(&result.fit).as_bytes())?;
        out.write_all(render_study(&result).as_bytes())?;
    }
    Ok(())
}

/// Runs `braingap fit`.
pub fn run_fit(args: &FitArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if let Some(name) = &args.study {
        return run_fit_study(name, args.json, out);
    }
    // clap requires all three unless --study is given.
    let (Some(data), Some(x), Some(y)) = (&args.data, &args.x, &args.y) else {
        anyhow::bail!("--data, --x and --y are required unless --study is given");
    };
    let request = FitRequest {
        data: data.clone(),
        x: x.clone(),
        y: y.clone(),
        from: args.from,
        to: args.to,
        model: args.model.into(),
        filter: args.filter.clone(),
        target: args.target,
        horizon: 2200.0,
        bootstrap: BootstrapOptions::default(),
    };
    let report = run_fit_request(&request, &data_dir())?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report).context("writing JSON")?;
        writeln!(out)?;
    } else {
        out.write_all(render_fit(&report).as_bytes())?;
    }
    Ok(())
}

fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Text => "text",
        ColumnKind::Number => "number",
        ColumnKind::Count => "count",
        ColumnKind::Date => "date",
        ColumnKind::Bool => "bool",
    }
}

/// Runs `braingap datasets`.
pub fn run_datasets(args: &DatasetsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let dir = data_dir();
    if args.json {
        let list: Vec<serde_json::Value> = bundled_datasets()
            .iter()
            .map(|d| {
                serde_json::json!({
                    "name": d.name,
                    "file": dir.join(d.file).display().to_string(),
                    "description": d.description,
                    "snapshot_date": d.snapshot_date,
                    "snapshot_of": d.snapshot_of,
                    "columns": d.columns.iter().map(|c| serde_json::json!({"name": c.name, "kind": kind_name(c.kind), "required": c.required})).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &list).context("writing JSON")?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "bundled datasets in {} (see data/README.md for sources and licences)",
        dir.display()
    )?;
    for d in bundled_datasets() {
        writeln!(out, "\n{} ({})\n  {}", d.name, d.file, d.description)?;
        writeln!(out, "  snapshot: {}, {}", d.snapshot_of, d.snapshot_date)?;
        let columns: Vec<String> = d
            .columns
            .iter()
            .map(|c| format!("{} [{}]", c.name, kind_name(c.kind)))
            .collect();
        writeln!(out, "  columns: {}", columns.join(", "))?;
    }
    Ok(())
}

/// Runs `braingap claims`.
pub fn run_claims(args: &ClaimsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let machine = crate::report::cortex::newest_measured(&args.results).and_then(|(run, detail)| {
        let costs = crate::report::cortex::measured_costs(&run, &detail)?;
        Some(crate::analysis::claims::MachineProjection {
            label: format!("run {}, {}", run.meta.run_id, detail.benchmark),
            human: crate::analysis::brain_scale::project(&crate::analysis::brain_scale::human_brain(), &costs),
        })
    });
    let claims = crate::analysis::claims::check_claims_with(&data_dir(), machine.as_ref())?;
    let catalogue = crate::analysis::catalogue::judge_catalogue(&data_dir(), &claims)?;
    if args.json {
        if args.all {
            serde_json::to_writer_pretty(&mut *out, &catalogue).context("writing JSON")?;
        } else {
            serde_json::to_writer_pretty(&mut *out, &claims).context("writing JSON")?;
        }
        writeln!(out)?;
    } else if args.all {
        for judged in &catalogue {
            out.write_all(render_catalogue_entry(judged).as_bytes())?;
        }
        writeln!(out, "{}", catalogue_counts(&catalogue))?;
    } else {
        out.write_all(render_claims_table(&claims).as_bytes())?;
        writeln!(
            out,
            "\n{}; `braingap claims --all` lists each with its checks.",
            catalogue_counts(&catalogue)
        )?;
    }
    Ok(())
}

/// `107 claims in the seed report (data/seed_claims.csv): 20 supported, ...`.
fn catalogue_counts(catalogue: &[crate::analysis::catalogue::JudgedEntry]) -> String {
    let c = crate::analysis::catalogue::VerdictCounts::of(catalogue);
    format!(
        "{} claims in the seed report (data/seed_claims.csv), judged by one rubric (docs/claims.md): {} supported, {} partly, {} not supported, {} cannot be checked",
        c.total, c.supported, c.partly, c.not_supported, c.cannot_be_checked
    )
}

fn render_catalogue_entry(judged: &crate::analysis::catalogue::JudgedEntry) -> String {
    let e = &judged.entry;
    let mut out = format!(
        "#{} [{}] {}  ({}; {}; attributed to: {})\n  {}\n  {}\n  {}\n",
        e.entry, judged.verdict, e.location, e.id, e.kind, e.attributed_to, e.quote_zh, e.claim_en, judged.finding
    );
    if !e.note.is_empty() {
        out.push_str(&format!("  note: {}\n", e.note));
    }
    out.push('\n');
    out
}
