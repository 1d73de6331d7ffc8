//! Derivation of the curated tables in `data/` from the raw snapshots in `data/raw/`.
//!
//! The raw files are kept byte-for-byte as they were collected (Epoch AI snapshots,
//! OpenAI's printed figures, the digitized Goodfellow figures, Koomey's spreadsheet).
//! Every curated table is a pure function of them: columns are renamed so units sit in
//! the names, partial dates are completed to a stated midpoint (with a precision
//! column), a few per-watt figures are derived, and every row keeps a `source`.
//! A test regenerates all tables and compares them with the committed files, so the
//! curated data cannot drift from the code that documents how it was made.
//! Set `BRAINGAP_WRITE_CURATED=1` and run `cargo test curated_tables` to rewrite them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::AnalysisError;

/// One curated table: its file name and its CSV text.
#[derive(Debug, Clone, PartialEq)]
pub struct CuratedTable {
    /// File name under `data/`, e.g. `hardware.csv`.
    pub file: &'static str,
    /// Complete CSV text, header included, `\n` line endings.
    pub csv: String,
}

/// A raw CSV read into header-keyed rows.
struct RawTable {
    path: PathBuf,
    rows: Vec<HashMap<String, String>>,
}

impl RawTable {
    fn read(raw_dir: &Path, file: &str) -> Result<RawTable, AnalysisError> {
        let path = raw_dir.join(file);
        let io_error = |e: csv::Error| AnalysisError::Csv {
            path: path.clone(),
            message: e.to_string(),
        };
        let mut reader = csv::Reader::from_path(&path).map_err(io_error)?;
        let headers = reader.headers().map_err(io_error)?.clone();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(io_error)?;
            let row = headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_string(), v.trim().to_string()))
                .collect();
            rows.push(row);
        }
        Ok(RawTable { path, rows })
    }

    fn cell<'a>(&self, row: &'a HashMap<String, String>, column: &str) -> Result<&'a str, AnalysisError> {
        row.get(column)
            .map(String::as_str)
            .ok_or_else(|| AnalysisError::MissingColumn {
                path: self.path.clone(),
                column: column.to_string(),
            })
    }
}

/// Published simulations of the Potjans-Diesmann microcircuit (full scale): real-time factor
/// and energy per synaptic event. µJ become J (`J_per_synaptic_event`); the simulator names
/// the kind of machine (`platform`): NEST CPU on CPUs, GeNN and NEST GPU on GPUs, SpiNNaker
/// neuromorphic, CsNN (IBM INC-3000) and neuroAIx on FPGAs; an energy printed as `nan` is
/// left empty.
fn microcircuit_benchmarks(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "id",
        "study",
        "year",
        "simulator",
        "platform",
        "system",
        "nodes_count",
        "process_node_nm",
        "input",
        "real_time_factor",
        "J_per_synaptic_event",
        "source",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        let simulator = get("simulator")?;
        let platform = match simulator.as_str() {
            "NEST CPU" => "CPU",
            "GeNN" | "NEST GPU" => "GPU",
            s if s.starts_with("SpiNNaker") => "neuromorphic",
            "CsNN" | "neuroAIx" => "FPGA",
            _ => "other",
        };
        let joules = parse_number(raw.cell(row, "energy_per_synaptic_event_uJ")?)
            .map(|uj| format!("{:.4e}", uj * 1e-6))
            .unwrap_or_default();
        rows.push(vec![
            get("study_key")?,
            get("study")?,
            get("year")?,
            simulator,
            platform.to_string(),
            get("system")?,
            get("nodes")?,
            get("process_node_nm")?,
            get("external_drive")?.to_ascii_lowercase(),
            get("real_time_factor")?,
            joules,
            get("source")?,
        ]);
    }
    Ok(CuratedTable {
        file: "microcircuit_benchmarks.csv",
        csv: to_csv(&header, &rows),
    })
}

/// Writes rows as CSV text with a fixed header.
fn to_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; the error type only exists for real I/O.
    writer.write_record(header).expect("write to memory");
    for row in rows {
        writer.write_record(row).expect("write to memory");
    }
    let bytes = writer.into_inner().expect("flush to memory");
    String::from_utf8(bytes).expect("csv of utf-8 input is utf-8")
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `a / b` formatted with four significant decimals, or empty when either is missing.
fn ratio_text(numerator: &str, denominator: &str) -> String {
    match (parse_number(numerator), parse_number(denominator)) {
        (Some(n), Some(d)) if d > 0.0 => format!("{:.4e}", n / d),
        _ => String::new(),
    }
}

fn bool_text(text: &str) -> String {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => "true".to_string(),
        _ => "false".to_string(),
    }
}

/// Completes a partial ISO date: `YYYY` → `YYYY-07-02` (mid-year), `YYYY-MM` →
/// `YYYY-MM-15` (mid-month); returns the completed date and its precision.
fn complete_date(text: &str) -> (String, &'static str) {
    let text = text.trim();
    match text.len() {
        0 => (String::new(), ""),
        4 => (format!("{text}-07-02"), "year"),
        7 => (format!("{text}-15"), "month"),
        _ => (text.to_string(), "day"),
    }
}

/// Where the human row's two synapses-per-neuron figures come from. The raw row carries
/// Drachman's neocortical 7,000 in a column every other row fills with synapses ÷
/// neurons; the curated table splits them.
const HUMAN_SYNAPSES_PER_NEURON_SOURCE: &str = "cortical: Drachman 2005 (~20e9 neocortical neurons x ~7,000 synapses each; 1.5e14 / 16.34e9 cortical neurons = 9,180); whole-brain: derived, synapses_count / neurons_count, a lower bound because synapses_count is the neocortical 1.5e14 (Pakkenberg 2003; whole-brain 1e14-5e14 gives 1,160-5,810)";

/// Species counts. Two upstream quirks are resolved here (data/README.md):
/// `synapses_per_neuron_ratio` is split into a whole-brain figure (synapses ÷ neurons,
/// every row that has both) and a cortical one (the human's published 7,000), each with
/// its source; and `for_fitting` is `false` on `human_round`, the seed report's round
/// numbers, which fits leave out unless asked for by name.
fn species(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "id",
        "species",
        "common_name",
        "scope",
        "neurons_count",
        "synapses_count",
        "synapses_per_neuron_whole_brain_ratio",
        "synapses_per_neuron_cortical_ratio",
        "brain_power_W",
        "for_fitting",
        "source",
        "source_synapses",
        "source_synapses_per_neuron",
        "source_power",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        let id = get("id")?;
        let ratio = get("synapses_per_neuron_ratio")?;
        let basis = raw.cell(row, "synapses_per_neuron_basis")?;
        let quotient = ratio_text(raw.cell(row, "synapses_count")?, raw.cell(row, "neurons_count")?);
        let (whole_brain, cortical, ratio_source) = if ratio.is_empty() {
            (String::new(), String::new(), String::new())
        } else if basis.starts_with("derived") {
            (
                ratio,
                String::new(),
                "whole-brain: derived, synapses_count / neurons_count".to_string(),
            )
        } else if id == "human" {
            (quotient, ratio, HUMAN_SYNAPSES_PER_NEURON_SOURCE.to_string())
        } else {
            (
                quotient,
                String::new(),
                format!("whole-brain: synapses_count / neurons_count ({basis})"),
            )
        };
        rows.push(vec![
            id.clone(),
            get("species")?,
            get("common_name")?,
            get("scope")?,
            get("neurons_count")?,
            get("synapses_count")?,
            whole_brain,
            cortical,
            get("brain_power_W")?,
            (id != "human_round").to_string(),
            get("source_neurons")?,
            get("source_synapses")?,
            ratio_source,
            get("source_power")?,
        ]);
    }
    Ok(CuratedTable {
        file: "species.csv",
        csv: to_csv(&header, &rows),
    })
}

fn brain_compute(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    // Only whole-brain compute figures; retina-only, event-rate and energy rows stay raw.
    const KEEP: [&str; 4] = [
        "brain-equivalent compute",
        "whole-brain emulation compute",
        "event-driven simulation cost (human brain)",
        "time-based simulation cost (human brain)",
    ];
    let header = [
        "id",
        "author_year",
        "quantity",
        "low_FLOP_per_s",
        "central_FLOP_per_s",
        "high_FLOP_per_s",
        "units_as_published",
        "method",
        "confidence",
        "source",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        if !KEEP.contains(&raw.cell(row, "quantity")?) {
            continue;
        }
        rows.push(vec![
            get("id")?,
            get("author_year")?,
            get("quantity")?,
            get("value_low")?,
            get("value_central")?,
            get("value_high")?,
            get("units")?,
            get("method_or_level")?,
            get("confidence")?,
            get("source")?,
        ]);
    }
    Ok(CuratedTable {
        file: "brain_compute.csv",
        csv: to_csv(&header, &rows),
    })
}

fn networks(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "label",
        "network",
        "citation",
        "citation_year",
        "year",
        "neurons_count",
        "connections_per_neuron_ratio",
        "parameters_count",
        "neurons_count_from_paper",
        "in_fig11_trend_fit",
        "source",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        let plotted_11 = get("fig11_plotted_year")?;
        let year = if plotted_11.is_empty() {
            get("fig10_plotted_year")?
        } else {
            plotted_11
        };
        rows.push(vec![
            get("fig11_label")?,
            get("network")?,
            get("citation")?,
            get("citation_year")?,
            year,
            get("fig11_neurons_count_digitized")?,
            get("fig10_connections_per_neuron_ratio_digitized")?,
            get("parameters_count_other_source")?,
            get("neurons_count_from_paper")?,
            bool_text(raw.cell(row, "in_fig11_trend_fit")?),
            get("source")?,
        ]);
    }
    Ok(CuratedTable {
        file: "networks.csv",
        csv: to_csv(&header, &rows),
    })
}

/// Where Sevilla et al.'s February 2022 dataset comes from: the paper's repository reads
/// its database live, and the only copy of the rows it read is the data embedded in a
/// notebook's saved chart.
const SEVILLA_2022_SOURCE: &str = "Sevilla et al. (2022), Compute Trends Across Three Eras of Machine Learning: the paper's dataset of 123 milestone systems with a training-compute estimate, as read from its database in February 2022; embedded in the saved output (chart \"n = 123\") of Compute-Trends_visualization.ipynb, GitHub ML-Progress/Compute-Trends @ 758bcfcf0a56f83c2f5e20a19a3b5c4c8ecdae99";

/// Sevilla et al.'s own 123 systems. Dates lose their `T00:00:00`; three systems have no
/// name upstream and are named by their reference; the `Domain` column is left out,
/// because the notebook had overwritten it with a chart label (`All`, `Record`).
fn sevilla_2022(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "system",
        "publication_date",
        "parameters_count",
        "training_compute_FLOP",
        "note",
        "source",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        let date = get("Publication date")?;
        let date = date.split('T').next().unwrap_or_default().to_string();
        let name = get("System")?;
        let (system, note) = if name.is_empty() {
            (
                format!("unnamed ({})", get("Reference")?),
                "no system name upstream; named by its reference".to_string(),
            )
        } else {
            (name, String::new())
        };
        rows.push(vec![
            system,
            date,
            get("Parameters")?,
            get("Training compute (FLOPs)")?,
            note,
            SEVILLA_2022_SOURCE.to_string(),
        ]);
    }
    rows.sort_by(|a, b| (&a[1], &a[0]).cmp(&(&b[1], &b[0])));
    Ok(CuratedTable {
        file: "sevilla_2022.csv",
        csv: to_csv(&header, &rows),
    })
}

/// Where the May 2024 Epoch database comes from.
const EPOCH_2024_SOURCE: &str = "Epoch AI, All ML Systems database, version of 2024-05-26 (two days before Sevilla & Roldán's post of 28 May 2024), as committed to GitHub epoch-research/training-cost-trends @ 35b2cd6 (\"data/All ML Systems - full view.csv\"); CC BY 4.0";

/// Epoch's database as Sevilla & Roldán (2024) could read it: the notable models (a
/// non-empty `Notability criteria`) with a publication date and a training-compute
/// estimate, less the rows Epoch marked `Exclude` = 1 (337 of them fall in 2010 to May
/// 2024, against the post's 333); two systems with no name upstream are named by their
/// reference.
fn training_compute_2024(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "model",
        "organization",
        "publication_date",
        "domain",
        "parameters_count",
        "training_compute_FLOP",
        "source",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        let notable = !raw.cell(row, "Notability criteria")?.is_empty();
        let excluded = raw.cell(row, "Exclude")? == "1";
        let date = get("Publication date")?;
        let compute = get("Training compute (FLOP)")?;
        if !notable || excluded || date.is_empty() || parse_number(&compute).is_none() {
            continue;
        }
        // The BOM-less header of the first column: the file starts with a UTF-8 BOM,
        // which the csv reader keeps in the name.
        let model = row
            .get("System")
            .or_else(|| row.get("\u{feff}System"))
            .cloned()
            .unwrap_or_default();
        let model = if model.is_empty() {
            format!("unnamed ({})", get("Reference")?)
        } else {
            model
        };
        rows.push(vec![
            model,
            get("Organization")?,
            date,
            get("Domain")?,
            get("Parameters")?,
            compute,
            EPOCH_2024_SOURCE.to_string(),
        ]);
    }
    rows.sort_by(|a, b| (&a[2], &a[0]).cmp(&(&b[2], &b[0])));
    Ok(CuratedTable {
        file: "training_compute_2024.csv",
        csv: to_csv(&header, &rows),
    })
}

fn training_compute(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "model",
        "organization",
        "publication_date",
        "domain",
        "parameters_count",
        "training_compute_FLOP",
        "confidence",
        "frontier_model",
        "source",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        rows.push(vec![
            get("model")?,
            get("organization")?,
            get("publication_date_YYYY-MM-DD")?,
            get("domain")?,
            get("parameters_count")?,
            get("training_compute_FLOP")?,
            get("confidence")?,
            bool_text(raw.cell(row, "frontier_model")?),
            get("source")?,
        ]);
    }
    Ok(CuratedTable {
        file: "training_compute.csv",
        csv: to_csv(&header, &rows),
    })
}

fn landmark_models(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "model",
        "organization",
        "publication_date",
        "parameters_count",
        "training_compute_FLOP",
        "epoch_confidence",
        "cost_2023USD_epoch",
        "cost_USD_other",
        "cost_other_basis",
        "source",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        rows.push(vec![
            get("model")?,
            get("organization")?,
            get("publication_date_YYYY-MM-DD")?,
            get("parameters_count")?,
            get("training_compute_FLOP")?,
            get("epoch_confidence")?,
            get("epoch_cost_2023USD")?,
            get("other_cost_USD")?,
            get("other_cost_basis")?,
            get("source")?,
        ]);
    }
    Ok(CuratedTable {
        file: "landmark_models.csv",
        csv: to_csv(&header, &rows),
    })
}

fn openai_2018(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "system",
        "date",
        "date_precision",
        "training_compute_FLOP",
        "training_compute_pfs_days",
        "method",
        "in_main_chart",
        "source",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        let (date, precision) = complete_date(raw.cell(row, "date_YYYY-MM")?);
        // OpenAI's first method (counting operations) is preferred where both exist,
        // as in its appendix; the GPU-time estimate fills in otherwise.
        let (flop, pfs_days, method) = if !raw.cell(row, "FLOP_method1")?.is_empty() {
            (get("FLOP_method1")?, get("pfs_days_method1_count_ops")?, "count_ops")
        } else if !raw.cell(row, "FLOP_method2")?.is_empty() {
            (get("FLOP_method2")?, get("pfs_days_method2_gpu_time")?, "gpu_time")
        } else {
            (String::new(), String::new(), "")
        };
        let in_chart = raw.cell(row, "in_main_2012_2018_chart")?.starts_with("yes");
        rows.push(vec![
            get("system")?,
            date,
            precision.to_string(),
            flop,
            pfs_days,
            method.to_string(),
            in_chart.to_string(),
            get("source")?,
        ]);
    }
    Ok(CuratedTable {
        file: "openai_2018.csv",
        csv: to_csv(&header, &rows),
    })
}

/// A correction of a mislabelled precision column in Epoch's hardware table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrecisionFix {
    /// The non-tensor FP16 cell holds the Tensor Core FP16 peak: it moves to the tensor
    /// FP16/BF16 column (where that is empty; where it already holds the same figure the
    /// copy is dropped) and the non-tensor cell is left empty.
    Fp16IsTensor,
    /// The dense FP8 peak is listed only under INT8 (the dense INT8 peak is the same
    /// figure): it is copied to the empty FP8 column.
    Fp8UnderInt8,
}

/// Every precision-column correction: chip (raw `name`), fix, and why. Applied in both
/// hardware tables; each corrected row says so in `curation_note`.
const PRECISION_FIXES: &[(&str, PrecisionFix, &str)] = &[
    (
        "NVIDIA Tesla T4",
        PrecisionFix::Fp16IsTensor,
        "FP16 65.13 TFLOP/s is the Tensor Core peak (NVIDIA T4 datasheet: 65 TFLOPS mixed precision), moved from the non-tensor FP16 column",
    ),
    (
        "NVIDIA H100 NVL",
        PrecisionFix::Fp16IsTensor,
        "FP16 835.5 TFLOP/s is the dense Tensor Core peak (NVIDIA: 1,671 TFLOPS with sparsity), moved from the non-tensor FP16 column",
    ),
    (
        "NVIDIA B200",
        PrecisionFix::Fp16IsTensor,
        "the non-tensor FP16 cell repeated the Tensor Core FP16 peak (2.25 PFLOP/s); NVIDIA publishes no separate non-tensor FP16 peak, so it is left empty",
    ),
    (
        "NVIDIA GB200",
        PrecisionFix::Fp16IsTensor,
        "the non-tensor FP16 cell repeated the Tensor Core FP16 peak (2.5 PFLOP/s); NVIDIA publishes no separate non-tensor FP16 peak, so it is left empty",
    ),
    (
        "NVIDIA H100 SXM5 80GB",
        PrecisionFix::Fp8UnderInt8,
        "dense FP8 = 1,979 TFLOP/s (NVIDIA H100 datasheet, 3,958 with sparsity) was listed only under INT8 (dense INT8 is also 1,979 TOPS); copied to FP8",
    ),
];

/// The chip type, where Epoch types an accelerator that is not a GPU as "GPU": Huawei's
/// Ascend chips are NPUs (Epoch types its later Ascends so) and AWS Trainium is an ML
/// ASIC. Returns the type and a note when it was changed.
fn chip_type(name: &str, raw_type: &str) -> (String, Option<&'static str>) {
    if raw_type == "GPU" && name.starts_with("Huawei Ascend") {
        (
            "NPU".to_string(),
            Some("typed NPU (Epoch: GPU); Ascend chips are Huawei NPUs, as Epoch types its later Ascends"),
        )
    } else if raw_type == "GPU" && name.starts_with("Amazon Trainium") {
        (
            "ASIC".to_string(),
            Some("typed ASIC (Epoch: GPU); Trainium is AWS's ML accelerator ASIC"),
        )
    } else {
        (raw_type.to_string(), None)
    }
}

/// Hardware peaks by precision. The raw cells are copied as gathered, except the
/// corrections in [`PRECISION_FIXES`] and [`chip_type`], each noted in the row's
/// `curation_note`; release prices are kept, with FP32 FLOP/s per dollar beside them.
fn hardware(raw: &RawTable, file: &'static str, date_column: &str) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "name",
        "manufacturer",
        "type",
        "release_date",
        "release_date_precision",
        "fp64_FLOP_per_s",
        "fp32_FLOP_per_s",
        "fp16_FLOP_per_s",
        "tf32_FLOP_per_s",
        "tensor_fp16_bf16_FLOP_per_s",
        "fp8_FLOP_per_s",
        "int8_OP_per_s",
        "best_float_FLOP_per_s",
        "memory_bandwidth_bytes_per_s",
        "tdp_W",
        "fp32_FLOP_per_J",
        "best16_FLOP_per_J",
        "release_price_USD",
        "fp32_FLOP_per_s_per_USD",
        "curation_note",
        "source",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        let name = get("name")?;
        let (date, precision) = complete_date(raw.cell(row, date_column)?);
        let mut notes: Vec<&str> = Vec::new();
        let mut fp16 = get("fp16_nontensor_FLOP_per_s")?;
        let mut tensor16 = get("tensor_fp16_bf16_FLOP_per_s")?;
        let mut fp8 = get("fp8_FLOP_per_s")?;
        let int8 = get("int8_OP_per_s")?;
        for &(chip, fix, note) in PRECISION_FIXES {
            if chip != name {
                continue;
            }
            match fix {
                PrecisionFix::Fp16IsTensor => {
                    if tensor16.is_empty() {
                        tensor16 = std::mem::take(&mut fp16);
                    } else {
                        fp16.clear();
                    }
                }
                PrecisionFix::Fp8UnderInt8 => {
                    if fp8.is_empty() {
                        fp8 = int8.clone();
                    }
                }
            }
            notes.push(note);
        }
        let (chip_type, type_note) = chip_type(&name, raw.cell(row, "type")?);
        notes.extend(type_note);
        let max_of = |cells: &[&str]| {
            cells
                .iter()
                .filter_map(|c| parse_number(c))
                .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.max(v))))
        };
        let fp64 = get("fp64_FLOP_per_s")?;
        let fp32 = get("fp32_FLOP_per_s")?;
        let tf32 = get("tf32_FLOP_per_s")?;
        let best = max_of(&[&fp64, &fp32, &fp16, &tf32, &tensor16, &fp8]);
        let best16 = max_of(&[&fp16, &tensor16]);
        let tdp = raw.cell(row, "tdp_W")?;
        let price = get("release_price_USD")?;
        rows.push(vec![
            name,
            get("manufacturer")?,
            chip_type,
            date,
            precision.to_string(),
            fp64,
            fp32.clone(),
            fp16,
            tf32,
            tensor16,
            fp8,
            int8,
            best.map(|b| format!("{b:.4e}")).unwrap_or_default(),
            get("memory_bandwidth_bytes_per_s")?,
            tdp.to_string(),
            ratio_text(&fp32, tdp),
            best16.map(|b| ratio_text(&b.to_string(), tdp)).unwrap_or_default(),
            price.clone(),
            ratio_text(&fp32, &price),
            notes.join("; "),
            get("source")?,
        ]);
    }
    Ok(CuratedTable {
        file,
        csv: to_csv(&header, &rows),
    })
}

fn koomey(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "machine",
        "year",
        "power_W",
        "computations_per_s",
        "computations_per_kWh",
        "measured_power",
        "source",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        let per_s = parse_number(raw.cell(row, "MCPS_million_computations_per_s")?)
            .map(|mcps| format!("{:.4e}", mcps * 1e6))
            .unwrap_or_default();
        rows.push(vec![
            get("model")?,
            get("year_yr")?,
            get("power_W")?,
            per_s,
            get("computations_per_kWh_derived")?,
            bool_text(raw.cell(row, "measured_power_flag")?),
            get("source")?,
        ]);
    }
    Ok(CuratedTable {
        file: "koomey.csv",
        csv: to_csv(&header, &rows),
    })
}

/// Derives every curated table from the raw snapshots in `raw_dir`.
///
/// Pure apart from reading `raw_dir`: the same raw files always give the same text.
pub fn curated_tables(raw_dir: &Path) -> Result<Vec<CuratedTable>, AnalysisError> {
    let read = |file: &str| RawTable::read(raw_dir, file);
    Ok(vec![
        species(&read("biological_reference.csv")?)?,
        brain_compute(&read("brain_compute_estimates.csv")?)?,
        networks(&read("ann_sizes_goodfellow_fig1_10_1_11.csv")?)?,
        training_compute(&read("epoch_notable_models_snapshot.csv")?)?,
        sevilla_2022(&read("compute_trends_2022_milestones.csv")?)?,
        training_compute_2024(&read("epoch_all_ml_systems_2024-05-26.csv")?)?,
        landmark_models(&read("training_compute_models.csv")?)?,
        openai_2018(&read("training_compute_openai_2018.csv")?)?,
        hardware(
            &read("hardware_accelerators.csv")?,
            "hardware.csv",
            "release_date_YYYY[-MM[-DD]]",
        )?,
        hardware(
            &read("epoch_ml_hardware_snapshot.csv")?,
            "ml_hardware.csv",
            "release_date_YYYY-MM-DD",
        )?,
        koomey(&read("koomey_computations_per_kwh.csv")?)?,
        microcircuit_benchmarks(&read("microcircuit_benchmarks.csv")?)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_dir() -> PathBuf {
        crate::datasets::bundled_data_dir()
    }

    /// The committed curated tables are exactly what the code derives from `data/raw/`.
    #[test]
    fn curated_tables_match_the_committed_files() {
        let dir = data_dir();
        let tables = curated_tables(&dir.join("raw")).expect("raw tables load");
        let write = std::env::var_os("BRAINGAP_WRITE_CURATED").is_some();
        for table in tables {
            let path = dir.join(table.file);
            if write {
                std::fs::write(&path, &table.csv).expect("write curated table");
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                committed == table.csv,
                "{} differs from its derivation; rerun with BRAINGAP_WRITE_CURATED=1",
                path.display()
            );
        }
    }

    /// SHA-256 (FIPS 180-4), enough to check the raw files against `data/raw/SHA256SUMS`
    /// without a hashing dependency.
    #[allow(clippy::needless_range_loop)]
    fn sha256_hex(data: &[u8]) -> String {
        const K: [u32; 64] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
            0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
            0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
            0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
            0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
            0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
            0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2,
        ];
        let mut h: [u32; 8] = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
        ];
        let mut message = data.to_vec();
        message.push(0x80);
        while message.len() % 64 != 56 {
            message.push(0);
        }
        message.extend_from_slice(&(data.len() as u64 * 8).to_be_bytes());
        for chunk in message.chunks(64) {
            let mut w = [0u32; 64];
            for i in 0..16 {
                w[i] = u32::from_be_bytes([chunk[4 * i], chunk[4 * i + 1], chunk[4 * i + 2], chunk[4 * i + 3]]);
            }
            for i in 16..64 {
                let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
                let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
            }
            let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
            for i in 0..64 {
                let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
                let choice = (e & f) ^ (!e & g);
                let t1 = hh
                    .wrapping_add(s1)
                    .wrapping_add(choice)
                    .wrapping_add(K[i])
                    .wrapping_add(w[i]);
                let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
                let majority = (a & b) ^ (a & c) ^ (b & c);
                hh = g;
                g = f;
                f = e;
                e = d.wrapping_add(t1);
                d = c;
                c = b;
                b = a;
                a = t1.wrapping_add(s0.wrapping_add(majority));
            }
            for (state, add) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
                *state = state.wrapping_add(add);
            }
        }
        h.iter().map(|v| format!("{v:08x}")).collect()
    }

    #[test]
    fn sha256_matches_the_standard_test_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Two blocks (56 bytes of message push the padding into a second block).
        assert_eq!(
            sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    /// The raw files stay exactly as gathered: every CSV in `data/raw/` is listed in
    /// `data/raw/SHA256SUMS` (`sha256sum -c SHA256SUMS` checks the same) and matches its
    /// digest. Corrections belong in `curated_tables`, never in the raw files.
    #[test]
    fn raw_files_are_unchanged() {
        let raw = data_dir().join("raw");
        let sums = std::fs::read_to_string(raw.join("SHA256SUMS")).expect("data/raw/SHA256SUMS");
        let mut listed = Vec::new();
        for line in sums.lines().filter(|l| !l.trim().is_empty()) {
            let (digest, file) = line.split_once("  ").expect("`DIGEST  FILE` lines");
            let bytes = std::fs::read(raw.join(file)).unwrap_or_else(|e| panic!("data/raw/{file}: {e}"));
            assert_eq!(
                sha256_hex(&bytes),
                digest,
                "data/raw/{file} differs from the file as gathered"
            );
            listed.push(file.to_string());
        }
        for entry in std::fs::read_dir(&raw).expect("data/raw") {
            let name = entry.expect("entry").file_name().to_string_lossy().to_string();
            if name.ends_with(".csv") {
                assert!(listed.contains(&name), "data/raw/{name} is not in SHA256SUMS");
            }
        }
        assert_eq!(listed.len(), 14);
    }

    /// Each upstream quirk is corrected in the curated tables and noted on its row.
    #[test]
    fn upstream_quirks_are_corrected_with_a_note() {
        let tables = curated_tables(&data_dir().join("raw")).expect("raw tables load");
        let table = |file: &str| {
            let csv = &tables.iter().find(|t| t.file == file).expect("table").csv;
            let mut reader = csv::Reader::from_reader(csv.as_bytes());
            let headers = reader.headers().expect("header").clone();
            reader
                .records()
                .map(|r| {
                    let r = r.expect("record");
                    headers
                        .iter()
                        .zip(r.iter())
                        .map(|(h, v)| (h.to_string(), v.to_string()))
                        .collect::<HashMap<_, _>>()
                })
                .collect::<Vec<_>>()
        };
        for file in ["hardware.csv", "ml_hardware.csv"] {
            let rows = table(file);
            let chip = |name: &str| {
                rows.iter()
                    .find(|r| r["name"] == name)
                    .unwrap_or_else(|| panic!("{file}: {name}"))
            };
            let t4 = chip("NVIDIA Tesla T4");
            assert_eq!(t4["fp16_FLOP_per_s"], "");
            assert_eq!(parse_number(&t4["tensor_fp16_bf16_FLOP_per_s"]), Some(65129999999999.9));
            assert!(t4["curation_note"].contains("Tensor Core"), "{file}");
            let b200 = chip("NVIDIA B200");
            assert_eq!(b200["fp16_FLOP_per_s"], "");
            assert_eq!(parse_number(&b200["tensor_fp16_bf16_FLOP_per_s"]), Some(2.25e15));
            let h100 = chip("NVIDIA H100 SXM5 80GB");
            assert_eq!(parse_number(&h100["fp8_FLOP_per_s"]), Some(1.979e15));
            assert_eq!(parse_number(&h100["best_float_FLOP_per_s"]), Some(1.979e15));
            assert!(h100["curation_note"].contains("FP8"));
            assert_eq!(chip("Amazon Trainium2")["type"], "ASIC");
            assert_eq!(chip("Huawei Ascend 910")["type"], "NPU");
            assert!(chip("Huawei Ascend 910")["curation_note"].contains("Epoch: GPU"));
            // Untouched rows carry no note.
            assert_eq!(chip("NVIDIA H100 PCIe")["curation_note"], "");
        }
        // Release prices are kept, with FP32 FLOP/s per dollar (H100 SXM5: 66.91e12 / $33,600).
        let ml = table("ml_hardware.csv");
        assert_eq!(ml.iter().filter(|r| !r["release_price_USD"].is_empty()).count(), 53);
        let h100 = ml.iter().find(|r| r["name"] == "NVIDIA H100 SXM5 80GB").expect("H100");
        assert_eq!(h100["release_price_USD"], "33600.0");
        assert!((parse_number(&h100["fp32_FLOP_per_s_per_USD"]).unwrap() / (66.91e12 / 33600.0) - 1.0).abs() < 1e-3);

        let species = table("species.csv");
        let row = |id: &str| species.iter().find(|r| r["id"] == id).expect("species row");
        let human = row("human");
        assert_eq!(human["synapses_per_neuron_cortical_ratio"], "7000");
        // 1.5e14 neocortical synapses / 86.06e9 neurons.
        assert!((parse_number(&human["synapses_per_neuron_whole_brain_ratio"]).unwrap() - 1743.0).abs() < 1.0);
        assert!(human["source_synapses_per_neuron"].contains("Drachman 2005"));
        assert_eq!(row("mouse")["synapses_per_neuron_whole_brain_ratio"], "1411");
        assert_eq!(row("human_round")["for_fitting"], "false");
        assert!(species
            .iter()
            .filter(|r| r["id"] != "human_round")
            .all(|r| r["for_fitting"] == "true"));
    }

    #[test]
    fn partial_dates_complete_to_midpoints() {
        assert_eq!(complete_date("2007"), ("2007-07-02".to_string(), "year"));
        assert_eq!(complete_date("2014-08"), ("2014-08-15".to_string(), "month"));
        assert_eq!(complete_date("2012-09-30"), ("2012-09-30".to_string(), "day"));
    }
}
