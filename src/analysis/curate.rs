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

use crate::analysis::error::AnalysisError;

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

fn species(raw: &RawTable) -> Result<CuratedTable, AnalysisError> {
    let header = [
        "id",
        "species",
        "common_name",
        "scope",
        "neurons_count",
        "synapses_count",
        "synapses_per_neuron_ratio",
        "brain_power_W",
        "source",
        "source_synapses",
        "source_power",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        rows.push(vec![
            get("id")?,
            get("species")?,
            get("common_name")?,
            get("scope")?,
            get("neurons_count")?,
            get("synapses_count")?,
            get("synapses_per_neuron_ratio")?,
            get("brain_power_W")?,
            get("source_neurons")?,
            get("source_synapses")?,
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
        "source",
    ];
    let float_columns = [
        "fp64_FLOP_per_s",
        "fp32_FLOP_per_s",
        "fp16_nontensor_FLOP_per_s",
        "tf32_FLOP_per_s",
        "tensor_fp16_bf16_FLOP_per_s",
        "fp8_FLOP_per_s",
    ];
    let mut rows = Vec::new();
    for row in &raw.rows {
        let get = |c| raw.cell(row, c).map(str::to_string);
        let (date, precision) = complete_date(raw.cell(row, date_column)?);
        let mut best: Option<f64> = None;
        for column in float_columns {
            if let Some(v) = parse_number(raw.cell(row, column)?) {
                best = Some(best.map_or(v, |b| b.max(v)));
            }
        }
        let best16 = [
            parse_number(raw.cell(row, "fp16_nontensor_FLOP_per_s")?),
            parse_number(raw.cell(row, "tensor_fp16_bf16_FLOP_per_s")?),
        ]
        .into_iter()
        .flatten()
        .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.max(v))));
        let tdp = raw.cell(row, "tdp_W")?;
        rows.push(vec![
            get("name")?,
            get("manufacturer")?,
            get("type")?,
            date,
            precision.to_string(),
            get("fp64_FLOP_per_s")?,
            get("fp32_FLOP_per_s")?,
            get("fp16_nontensor_FLOP_per_s")?,
            get("tf32_FLOP_per_s")?,
            get("tensor_fp16_bf16_FLOP_per_s")?,
            get("fp8_FLOP_per_s")?,
            get("int8_OP_per_s")?,
            best.map(|b| format!("{b:.4e}")).unwrap_or_default(),
            get("memory_bandwidth_bytes_per_s")?,
            tdp.to_string(),
            ratio_text(raw.cell(row, "fp32_FLOP_per_s")?, tdp),
            best16.map(|b| ratio_text(&b.to_string(), tdp)).unwrap_or_default(),
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
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data"))
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

    #[test]
    fn partial_dates_complete_to_midpoints() {
        assert_eq!(complete_date("2007"), ("2007-07-02".to_string(), "year"));
        assert_eq!(complete_date("2014-08"), ("2014-08-15".to_string(), "month"));
        assert_eq!(complete_date("2012-09-30"), ("2012-09-30".to_string(), "day"));
    }
}
