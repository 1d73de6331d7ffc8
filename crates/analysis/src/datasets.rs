//! The bundled reference datasets and CSV loading: the one module that imports polars.
//!
//! Files are scanned lazily by polars with every column read as text, then checked
//! against the dataset's schema cell by cell, so that a bad value is reported with its
//! file, line and column instead of becoming a null or a panic. `--filter` clauses are
//! evaluated on the checked columns, so that each value is compared as what its column
//! holds (number, date, boolean or text) and a value of the wrong kind, or a clause that
//! matches nothing, is reported with the values the column does hold. Selections leave
//! out rows marked not for fitting and count every row they drop ([`RowAccount`]).

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use polars::prelude::{DataFrame, LazyCsvReader, LazyFileListReader, PlRefPath};
use serde::Serialize;

use crate::error::AnalysisError;
use crate::fits::frontier_top_k_per_year;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Free text.
    Text,
    /// A real number.
    Number,
    /// A non-negative number (neurons, parameters, FLOP, …).
    Count,
    /// An ISO date `YYYY-MM-DD`, read as a decimal year.
    Date,
    /// `true` / `false`.
    Bool,
}

/// One column of a dataset schema.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ColumnSpec {
    /// Header name (units in the name).
    pub name: &'static str,
    /// What it holds.
    pub kind: ColumnKind,
    /// Whether every row must have a value.
    pub required: bool,
}

/// A bundled dataset: file under the data directory and its schema.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DatasetSpec {
    /// Name usable in `--data`.
    pub name: &'static str,
    /// File name under the data directory.
    pub file: &'static str,
    /// One line on what it holds.
    pub description: &'static str,
    /// The schema; extra columns in the file are allowed and read as text.
    pub columns: &'static [ColumnSpec],
    /// Which version of the source the bundled file holds: `YYYY-MM-DD`, `YYYY-MM` or
    /// `YYYY` (the access date of a live database, the publication of a fixed source, or
    /// the day a compiled table was gathered).
    pub snapshot_date: &'static str,
    /// What that date is a version of.
    pub snapshot_of: &'static str,
}

const fn text(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Text,
        required: false,
    }
}
const fn key(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Text,
        required: true,
    }
}
const fn number(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Number,
        required: false,
    }
}
const fn count(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Count,
        required: false,
    }
}
const fn date(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Date,
        required: false,
    }
}
const fn boolean(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Bool,
        required: false,
    }
}

const HARDWARE_COLUMNS: &[ColumnSpec] = &[
    key("name"),
    text("manufacturer"),
    text("type"),
    date("release_date"),
    text("release_date_precision"),
    count("fp64_FLOP_per_s"),
    count("fp32_FLOP_per_s"),
    count("fp16_FLOP_per_s"),
    count("tf32_FLOP_per_s"),
    count("tensor_fp16_bf16_FLOP_per_s"),
    count("fp8_FLOP_per_s"),
    count("int8_OP_per_s"),
    count("best_float_FLOP_per_s"),
    count("memory_bandwidth_bytes_per_s"),
    count("tdp_W"),
    count("fp32_FLOP_per_J"),
    count("best16_FLOP_per_J"),
    count("release_price_USD"),
    count("fp32_FLOP_per_s_per_USD"),
    text("curation_note"),
    key("source"),
];

const DATASETS: &[DatasetSpec] = &[
    DatasetSpec {
        name: "species",
        file: "species.csv",
        description: "neurons, synapses and brain power of animals (one row per species; human_round = the seed report's round numbers)",
        columns: &[
            key("id"),
            key("species"),
            text("common_name"),
            text("scope"),
            count("neurons_count"),
            count("synapses_count"),
            count("synapses_per_neuron_whole_brain_ratio"),
            count("synapses_per_neuron_cortical_ratio"),
            count("brain_power_W"),
            boolean("for_fitting"),
            key("source"),
            text("source_synapses"),
            text("source_synapses_per_neuron"),
            text("source_power"),
        ],
        snapshot_date: "2026-11-30",
        snapshot_of: "counts compiled from the papers named in each row",
    },
    DatasetSpec {
        name: "brain_compute",
        file: "brain_compute.csv",
        description: "brain-equivalent compute estimates, low/central/high FLOP/s (Carlsmith, Moravec, Kurzweil, WBE roadmap)",
        columns: &[
            key("id"),
            key("author_year"),
            key("quantity"),
            count("low_FLOP_per_s"),
            count("central_FLOP_per_s"),
            count("high_FLOP_per_s"),
            text("units_as_published"),
            text("method"),
            text("confidence"),
            key("source"),
        ],
        snapshot_date: "2026-11-30",
        snapshot_of: "estimates compiled from the sources named in each row",
    },
    DatasetSpec {
        name: "networks",
        file: "networks.csv",
        description: "historical networks of Goodfellow et al. Figs 1.10-1.11: year, neurons, connections per neuron, parameters (digitized)",
        columns: &[
            text("label"),
            key("network"),
            text("citation"),
            number("citation_year"),
            number("year"),
            count("neurons_count"),
            count("connections_per_neuron_ratio"),
            count("parameters_count"),
            count("neurons_count_from_paper"),
            boolean("in_fig11_trend_fit"),
            key("source"),
        ],
        snapshot_date: "2016",
        snapshot_of: "Goodfellow, Bengio & Courville, Deep Learning, Figs 1.10-1.11, digitized",
    },
    DatasetSpec {
        name: "training_compute",
        file: "training_compute.csv",
        description: "Epoch AI notable models with a training-compute estimate (515 models, 1950-2025)",
        columns: &[
            key("model"),
            text("organization"),
            date("publication_date"),
            text("domain"),
            count("parameters_count"),
            count("training_compute_FLOP"),
            text("confidence"),
            boolean("frontier_model"),
            key("source"),
        ],
        snapshot_date: "2026-01-26",
        snapshot_of: "Epoch AI Notable AI Models",
    },
    DatasetSpec {
        name: "landmark_models",
        file: "landmark_models.csv",
        description: "landmark models with training FLOP, costs and superseded estimates (e.g. AlphaGo Zero's 2022 Epoch value)",
        columns: &[
            key("model"),
            text("organization"),
            date("publication_date"),
            count("parameters_count"),
            count("training_compute_FLOP"),
            text("epoch_confidence"),
            count("cost_2023USD_epoch"),
            count("cost_USD_other"),
            text("cost_other_basis"),
            key("source"),
        ],
        snapshot_date: "2026-01-26",
        snapshot_of: "Epoch AI Notable AI Models and the papers' own values",
    },
    DatasetSpec {
        name: "openai_2018",
        file: "openai_2018.csv",
        description: "every training-compute figure printed in OpenAI's \"AI and Compute\" (2018)",
        columns: &[
            key("system"),
            date("date"),
            text("date_precision"),
            count("training_compute_FLOP"),
            count("training_compute_pfs_days"),
            text("method"),
            boolean("in_main_chart"),
            key("source"),
        ],
        snapshot_date: "2018-05-16",
        snapshot_of: "OpenAI, \"AI and Compute\", figures as printed",
    },
    DatasetSpec {
        name: "hardware",
        file: "hardware.csv",
        description: "curated accelerators, CPUs, older GPUs and neuromorphic chips: peak FLOP/s by precision, bandwidth, TDP, FLOP/J",
        columns: HARDWARE_COLUMNS,
        snapshot_date: "2025-12",
        snapshot_of: "Epoch AI Machine Learning Hardware, K. Rupp's CPU/GPU table, neuromorphic chips",
    },
    DatasetSpec {
        name: "ml_hardware",
        file: "ml_hardware.csv",
        description: "the whole Epoch AI ML-hardware table (170 chips) in the same columns as `hardware`",
        columns: HARDWARE_COLUMNS,
        snapshot_date: "2025-12",
        snapshot_of: "Epoch AI Machine Learning Hardware",
    },
    DatasetSpec {
        name: "koomey",
        file: "koomey.csv",
        description: "Koomey et al. 2011: computations per kWh of 80 machines, 1946-2009",
        columns: &[
            key("machine"),
            number("year"),
            count("power_W"),
            count("computations_per_s"),
            count("computations_per_kWh"),
            boolean("measured_power"),
            key("source"),
        ],
        snapshot_date: "2011",
        snapshot_of: "Koomey et al., spreadsheet v36",
    },
    DatasetSpec {
        name: "microcircuit_benchmarks",
        file: "microcircuit_benchmarks.csv",
        description: "published full-scale Potjans-Diesmann microcircuit simulations (Senk et al. 2026): real-time factor and J per synaptic event by platform",
        columns: &[
            key("id"),
            key("study"),
            number("year"),
            key("simulator"),
            key("platform"),
            text("system"),
            count("nodes_count"),
            count("process_node_nm"),
            key("input"),
            count("real_time_factor"),
            count("J_per_synaptic_event"),
            key("source"),
        ],
        snapshot_date: "2026-12-06",
        snapshot_of: "Senk et al. (2026) performance table",
    },
];

/// The bundled datasets, in the order `braingap datasets` lists them.
pub fn bundled_datasets() -> &'static [DatasetSpec] {
    DATASETS
}

/// Looks a bundled dataset up by name (with or without `.csv`).
pub fn find_dataset(name: &str) -> Option<&'static DatasetSpec> {
    let stem = name.strip_suffix(".csv").unwrap_or(name);
    DATASETS.iter().find(|d| d.name == stem)
}

/// The bundled data directory: the repository's `data/`. (The CLI lets `$BRAINGAP_DATA_DIR`
/// name another; the library reads no environment.)
pub fn bundled_data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
}

/// Resolves `--data`: anything that names an existing file is that file, read without a
/// schema (a user's own `koomey.csv` is not held to the bundled `koomey` table's
/// columns); otherwise a bundled dataset name (with or without `.csv`) is looked up in
/// `data_dir` and checked against its schema.
pub fn resolve_dataset(
    name_or_path: &str,
    data_dir: &Path,
) -> Result<(PathBuf, Option<&'static DatasetSpec>), AnalysisError> {
    let as_path = Path::new(name_or_path);
    if as_path.is_file() {
        return Ok((as_path.to_path_buf(), None));
    }
    match find_dataset(name_or_path) {
        Some(spec) => Ok((data_dir.join(spec.file), Some(spec))),
        None if name_or_path.contains('/') || name_or_path.ends_with(".csv") => Err(AnalysisError::Io {
            path: as_path.to_path_buf(),
            message: "no such file".to_string(),
        }),
        None => Err(AnalysisError::UnknownDataset {
            name: name_or_path.to_string(),
            available: DATASETS.iter().map(|d| d.name).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// Decimal year of a date: `year + (day_of_year − 1) / days_in_year`, the convention
/// of Epoch AI's `publication_year_decimal` (2012-09-30 → 2012.746, which METHODS.md
/// rounds to 2012.75; 1950-07-02 → 1950.4986).
pub fn decimal_year(date: NaiveDate) -> f64 {
    let days_in_year = if date.leap_year() { 366.0 } else { 365.0 };
    f64::from(date.year()) + f64::from(date.ordinal0()) / days_in_year
}

/// Parses `YYYY-MM-DD` to a decimal year.
pub fn parse_decimal_year(text: &str) -> Option<f64> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .map(decimal_year)
}

fn parse_number(text: &str) -> Option<f64> {
    let v: f64 = text.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// A checked column of a loaded table.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Text cells (also used for columns outside the schema).
    Text(Vec<Option<String>>),
    /// Numbers (Number and Count kinds).
    Number(Vec<Option<f64>>),
    /// Dates as decimal years.
    Date(Vec<Option<f64>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
}

/// A CSV file loaded and checked against its schema.
#[derive(Debug, Clone)]
pub struct Table {
    /// The file.
    pub path: PathBuf,
    /// Header names in file order.
    pub headers: Vec<String>,
    /// 1-based line on which each row starts.
    pub lines: Vec<usize>,
    /// Checked columns, parallel to `headers`.
    pub columns: Vec<ColumnData>,
    /// The raw text frame, kept for filter evaluation.
    frame: DataFrame,
}

const ROW_INDEX: &str = "__braingap_row";

/// 1-based starting line of every record (header = line 1), from the csv reader,
/// which accounts for quoted fields spanning lines.
fn record_lines(path: &Path) -> Result<Vec<usize>, AnalysisError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| AnalysisError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let mut lines = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => lines.push(record.position().map_or(0, |p| p.line() as usize)),
            Ok(false) => break,
            Err(e) => {
                return Err(AnalysisError::Csv {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(lines)
}

fn polars_error(path: &Path, error: impl std::fmt::Display) -> AnalysisError {
    AnalysisError::Csv {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// Scans `path` with polars (all columns as text) and checks it against `spec`:
/// missing columns, empty required cells, non-numeric numbers, negative counts,
/// unparseable dates and booleans are each an error naming file, line and column.
/// Without a spec every column is kept as text.
pub fn load_table(path: &Path, spec: Option<&DatasetSpec>) -> Result<Table, AnalysisError> {
    if !path.is_file() {
        return Err(AnalysisError::Io {
            path: path.to_path_buf(),
            message: "no such file".to_string(),
        });
    }
    let pl_path = PlRefPath::try_from_path(path).map_err(|e| polars_error(path, e))?;
    let frame = LazyCsvReader::new(pl_path)
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .finish()
        .map_err(|e| polars_error(path, e))?
        .with_row_index(ROW_INDEX, None)
        .collect()
        .map_err(|e| polars_error(path, e))?;
    let headers: Vec<String> = frame
        .get_column_names()
        .into_iter()
        .map(|n| n.to_string())
        .filter(|n| n != ROW_INDEX)
        .collect();
    if let Some(spec) = spec {
        if let Some(missing) = spec.columns.iter().find(|c| !headers.iter().any(|h| h == c.name)) {
            return Err(AnalysisError::MissingColumn {
                path: path.to_path_buf(),
                column: missing.name.to_string(),
            });
        }
    }
    let mut lines = record_lines(path)?;
    if lines.len() != frame.height() {
        // The two readers disagree (e.g. on blank lines); fall back to one line per row.
        lines = (0..frame.height()).map(|i| i + 2).collect();
    }
    let mut columns = Vec::with_capacity(headers.len());
    for (position, header) in headers.iter().enumerate() {
        let cells: Vec<Option<String>> = frame
            .column(header)
            .and_then(|c| c.str().map(|s| s.iter().map(|v| v.map(str::to_string)).collect()))
            .map_err(|e| polars_error(path, e))?;
        let column_spec = spec.and_then(|s| s.columns.iter().find(|c| c.name == header));
        columns.push(check_column(path, &lines, position + 1, header, cells, column_spec)?);
    }
    Ok(Table {
        path: path.to_path_buf(),
        headers,
        lines,
        columns,
        frame,
    })
}

fn check_column(
    path: &Path,
    lines: &[usize],
    column_index: usize,
    name: &str,
    cells: Vec<Option<String>>,
    spec: Option<&ColumnSpec>,
) -> Result<ColumnData, AnalysisError> {
    let Some(spec) = spec else {
        return Ok(ColumnData::Text(cells));
    };
    let at = |row: usize| lines[row];
    if spec.required {
        if let Some(row) = cells
            .iter()
            .position(|c| c.as_deref().is_none_or(|s| s.trim().is_empty()))
        {
            return Err(AnalysisError::EmptyCell {
                path: path.to_path_buf(),
                line: at(row),
                column_index,
                column: name.to_string(),
            });
        }
    }
    let cell_text = |c: &Option<String>| {
        c.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match spec.kind {
        ColumnKind::Text => Ok(ColumnData::Text(cells.iter().map(cell_text).collect())),
        ColumnKind::Number | ColumnKind::Count => {
            let mut values = Vec::with_capacity(cells.len());
            for (row, cell) in cells.iter().enumerate() {
                let Some(text) = cell_text(cell) else {
                    values.push(None);
                    continue;
                };
                let value = parse_number(&text).ok_or_else(|| AnalysisError::NotANumber {
                    path: path.to_path_buf(),
                    line: at(row),
                    column_index,
                    column: name.to_string(),
                    value: text.clone(),
                })?;
                if spec.kind == ColumnKind::Count && value < 0.0 {
                    return Err(AnalysisError::NegativeCount {
                        path: path.to_path_buf(),
                        line: at(row),
                        column_index,
                        column: name.to_string(),
                        value,
                    });
                }
                values.push(Some(value));
            }
            Ok(ColumnData::Number(values))
        }
        ColumnKind::Date => {
            let mut values = Vec::with_capacity(cells.len());
            for (row, cell) in cells.iter().enumerate() {
                let Some(text) = cell_text(cell) else {
                    values.push(None);
                    continue;
                };
                values.push(Some(parse_decimal_year(&text).ok_or_else(|| {
                    AnalysisError::BadDate {
                        path: path.to_path_buf(),
                        line: at(row),
                        column_index,
                        column: name.to_string(),
                        value: text.clone(),
                    }
                })?));
            }
            Ok(ColumnData::Date(values))
        }
        ColumnKind::Bool => {
            let mut values = Vec::with_capacity(cells.len());
            for (row, cell) in cells.iter().enumerate() {
                let value = match cell_text(cell).map(|s| s.to_ascii_lowercase()).as_deref() {
                    None => None,
                    Some("true") => Some(true),
                    Some("false") => Some(false),
                    Some(other) => {
                        return Err(AnalysisError::NotANumber {
                            path: path.to_path_buf(),
                            line: at(row),
                            column_index,
                            column: name.to_string(),
                            value: format!("{other} (expected true or false)"),
                        })
                    }
                };
                values.push(value);
            }
            Ok(ColumnData::Bool(values))
        }
    }
}

impl Table {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn position(&self, name: &str) -> Result<usize, AnalysisError> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| AnalysisError::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
            })
    }

    /// The column's cells as text (numbers as written in the file).
    pub fn text(&self, name: &str) -> Result<Vec<Option<String>>, AnalysisError> {
        self.position(name)?;
        let cells = self
            .frame
            .column(name)
            .and_then(|c| {
                c.str()
                    .map(|s| s.iter().map(|v| v.map(|t| t.trim().to_string())).collect())
            })
            .map_err(|e| polars_error(&self.path, e))?;
        Ok(cells)
    }

    /// The column as numbers: Number/Count columns directly, Date columns as decimal
    /// years, text columns parsed (numbers first, then `YYYY-MM-DD` dates); a cell that
    /// is neither is an error naming its line and column.
    pub fn numbers(&self, name: &str) -> Result<Vec<Option<f64>>, AnalysisError> {
        let position = self.position(name)?;
        match &self.columns[position] {
            ColumnData::Number(v) | ColumnData::Date(v) => Ok(v.clone()),
            ColumnData::Bool(v) => Ok(v.iter().map(|b| b.map(|b| f64::from(u8::from(b)))).collect()),
            ColumnData::Text(cells) => {
                let non_empty = || {
                    cells
                        .iter()
                        .enumerate()
                        .filter_map(|(i, c)| c.as_deref().map(|s| (i, s.trim())))
                        .filter(|(_, s)| !s.is_empty())
                };
                let all_numbers = non_empty().all(|(_, s)| parse_number(s).is_some());
                let looks_like_dates =
                    !all_numbers && non_empty().next().is_some_and(|(_, s)| parse_decimal_year(s).is_some());
                let mut values = vec![None; cells.len()];
                for (row, text) in non_empty() {
                    let parsed = if looks_like_dates {
                        parse_decimal_year(text)
                    } else {
                        parse_number(text)
                    };
                    match parsed {
                        Some(v) => values[row] = Some(v),
                        None if looks_like_dates => {
                            return Err(AnalysisError::BadDate {
                                path: self.path.clone(),
                                line: self.lines[row],
                                column_index: position + 1,
                                column: name.to_string(),
                                value: text.to_string(),
                            })
                        }
                        None => {
                            return Err(AnalysisError::NotANumber {
                                path: self.path.clone(),
                                line: self.lines[row],
                                column_index: position + 1,
                                column: name.to_string(),
                                value: text.to_string(),
                            })
                        }
                    }
                }
                Ok(values)
            }
        }
    }

    /// Rows (0-based) that satisfy every column clause of `filter`.
    ///
    /// Each clause's value is checked against its column's kind first: a number column
    /// takes a number, a date column a `YYYY-MM-DD` date or a decimal year, a boolean
    /// column `true` or `false` (with `==`/`!=` only); a value of the wrong kind is a
    /// [`AnalysisError::BadFilter`] that says what the column holds. Text columns compare
    /// numerically where both the cell and the value are numbers, else as text. A filter
    /// that keeps no row is a [`AnalysisError::FilterMatchesNothing`] naming the clause
    /// that matches nothing and the values its column does hold.
    pub fn rows_matching(&self, filter: &Filter) -> Result<Vec<usize>, AnalysisError> {
        let masks = filter
            .clauses
            .iter()
            .map(|clause| self.clause_mask(filter, clause))
            .collect::<Result<Vec<_>, _>>()?;
        let rows: Vec<usize> = (0..self.len()).filter(|&r| masks.iter().all(|m| m[r])).collect();
        if rows.is_empty() && !masks.is_empty() && !self.is_empty() {
            return Err(self.no_match(filter, &masks));
        }
        Ok(rows)
    }

    fn clause_mask(&self, filter: &Filter, clause: &Clause) -> Result<Vec<bool>, AnalysisError> {
        let bad = |reason: String| AnalysisError::BadFilter {
            expression: filter.expression.clone(),
            reason,
        };
        let Some(position) = self.headers.iter().position(|h| h == &clause.column) else {
            return Err(bad(format!(
                "no column `{}` in {} (columns: {})",
                clause.column,
                self.path.display(),
                self.headers.join(", ")
            )));
        };
        let (op, name, value) = (clause.op, clause.column.as_str(), clause.value.as_str());
        let compare = |cell: f64, v: f64| cell.partial_cmp(&v).is_some_and(|o| op.holds(o));
        match &self.columns[position] {
            ColumnData::Number(cells) => {
                let v = parse_number(value).ok_or_else(|| {
                    bad(format!(
                        "column `{name}` holds numbers ({}); `{value}` is not a number",
                        self.value_summary(position)
                    ))
                })?;
                Ok(cells.iter().map(|c| c.is_some_and(|c| compare(c, v))).collect())
            }
            ColumnData::Date(cells) => {
                let v = parse_decimal_year(value)
                    .or_else(|| parse_number(value))
                    .ok_or_else(|| {
                        bad(format!(
                        "column `{name}` holds dates ({}); `{value}` is neither a date (YYYY-MM-DD) nor a decimal year",
                        self.value_summary(position)
                    ))
                    })?;
                Ok(cells.iter().map(|c| c.is_some_and(|c| compare(c, v))).collect())
            }
            ColumnData::Bool(cells) => {
                let v = match value.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(bad(format!(
                            "column `{name}` holds true or false ({}); `{value}` is neither",
                            self.value_summary(position)
                        )))
                    }
                };
                if op.is_ordering() {
                    return Err(bad(format!(
                        "column `{name}` holds true or false, which compare only with == or !="
                    )));
                }
                Ok(cells.iter().map(|c| c.is_some_and(|c| op.holds(c.cmp(&v)))).collect())
            }
            ColumnData::Text(cells) => {
                let number = parse_number(value);
                Ok(cells
                    .iter()
                    .map(|c| {
                        let Some(text) = c.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
                            return false;
                        };
                        match (number, parse_number(text)) {
                            (Some(v), Some(t)) => compare(t, v),
                            (Some(_), None) if op.is_ordering() => false,
                            _ => op.holds(text.cmp(value)),
                        }
                    })
                    .collect())
            }
        }
    }

    /// Which clause of a filter that kept nothing is to blame, and what its column holds.
    fn no_match(&self, filter: &Filter, masks: &[Vec<bool>]) -> AnalysisError {
        let counts: Vec<usize> = masks.iter().map(|m| m.iter().filter(|&&b| b).count()).collect();
        let reason = match counts.iter().position(|&c| c == 0) {
            Some(i) => {
                let clause = &filter.clauses[i];
                let summary = self
                    .headers
                    .iter()
                    .position(|h| h == &clause.column)
                    .map(|p| self.value_summary(p))
                    .unwrap_or_default();
                format!("`{clause}` matches no row; column `{}` holds {summary}", clause.column)
            }
            None => {
                let each: Vec<String> = filter
                    .clauses
                    .iter()
                    .zip(&counts)
                    .map(|(clause, n)| format!("`{clause}`: {n}"))
                    .collect();
                format!(
                    "each clause alone matches some rows ({}), but no row satisfies all of them",
                    each.join(", ")
                )
            }
        };
        AnalysisError::FilterMatchesNothing {
            path: self.path.clone(),
            expression: filter.expression.clone(),
            reason,
        }
    }

    /// What a column holds, for messages: its distinct values (up to 12, text in
    /// backticks) for text and boolean columns, its range for numbers and dates.
    fn value_summary(&self, position: usize) -> String {
        const SHOWN: usize = 12;
        let range = |low: String, high: String| format!("values from {low} to {high}");
        let number_range = |cells: &[Option<f64>]| {
            let present = cells.iter().flatten().copied();
            let low = present.clone().fold(f64::INFINITY, f64::min);
            let high = present.fold(f64::NEG_INFINITY, f64::max);
            (low <= high).then(|| range(format_value(low), format_value(high)))
        };
        let summary = match &self.columns[position] {
            ColumnData::Number(cells) => number_range(cells),
            ColumnData::Date(cells) => {
                let texts = self.text(&self.headers[position]).unwrap_or_default();
                let mut dates: Vec<&str> = texts
                    .iter()
                    .flatten()
                    .map(String::as_str)
                    .filter(|t| !t.is_empty())
                    .collect();
                dates.sort_unstable();
                match (dates.first(), dates.last(), number_range(cells)) {
                    (Some(first), Some(last), Some(_)) => Some(range(first.to_string(), last.to_string())),
                    _ => None,
                }
            }
            ColumnData::Bool(cells) => {
                let mut values: Vec<bool> = cells.iter().flatten().copied().collect();
                values.sort_unstable();
                values.dedup();
                (!values.is_empty()).then(|| values.iter().map(bool::to_string).collect::<Vec<_>>().join(", "))
            }
            ColumnData::Text(cells) => {
                let mut values: Vec<&str> = cells
                    .iter()
                    .flatten()
                    .map(|c| c.trim())
                    .filter(|c| !c.is_empty())
                    .collect();
                values.sort_unstable();
                values.dedup();
                (!values.is_empty()).then(|| {
                    let shown: Vec<String> = values.iter().take(SHOWN).map(|v| format!("`{v}`")).collect();
                    let more = values.len().saturating_sub(SHOWN);
                    let more = if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    };
                    format!("{}{more}", shown.join(", "))
                })
            }
        };
        summary.unwrap_or_else(|| "no values".to_string())
    }
}

/// A number for messages: plain when moderate, else in scientific notation.
fn format_value(value: f64) -> String {
    if value != 0.0 && !(1e-3..1e6).contains(&value.abs()) {
        format!("{value:.3e}")
    } else {
        format!("{value}")
    }
}

/// A comparison in a filter clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `==` or `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl CompareOp {
    fn is_ordering(self) -> bool {
        !matches!(self, CompareOp::Eq | CompareOp::Ne)
    }

    /// Whether `cell OP value` holds, given how the cell compares with the value.
    fn holds(self, cell_vs_value: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            CompareOp::Eq => cell_vs_value == Equal,
            CompareOp::Ne => cell_vs_value != Equal,
            CompareOp::Gt => cell_vs_value == Greater,
            CompareOp::Ge => cell_vs_value != Less,
            CompareOp::Lt => cell_vs_value == Less,
            CompareOp::Le => cell_vs_value != Greater,
        }
    }

    /// The operator as written in a filter.
    fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
        }
    }
}

impl std::fmt::Display for Clause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.column, self.op.symbol(), self.value)
    }
}

/// One `COLUMN OP VALUE` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// Column name.
    pub column: String,
    /// Comparison.
    pub op: CompareOp,
    /// Value as written (quotes removed); compared numerically when it is a number.
    pub value: String,
}

/// A parsed `--filter` expression: clauses joined by `&&` (or ` and `), each
/// `COLUMN OP VALUE` with OP one of `== = != >= <= > <`, plus optionally `top K`: keep
/// the K largest y per calendar year (the frontier filter). Values may be quoted with
/// `'` or `"`; numbers compare numerically, anything else as text (so ISO dates
/// compare chronologically).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The expression as given.
    pub expression: String,
    /// Column clauses, all of which must hold.
    pub clauses: Vec<Clause>,
    /// `top K`, if given.
    pub top_k_per_year: Option<usize>,
}

impl Filter {
    /// Parses a filter expression; see [`Filter`] for the grammar.
    pub fn parse(expression: &str) -> Result<Filter, AnalysisError> {
        let bad = |reason: String| AnalysisError::BadFilter {
            expression: expression.to_string(),
            reason,
        };
        let mut filter = Filter {
            expression: expression.to_string(),
            clauses: Vec::new(),
            top_k_per_year: None,
        };
        let normalized = expression.replace(" and ", " && ").replace(" AND ", " && ");
        for part in normalized.split("&&").map(str::trim) {
            if part.is_empty() {
                return Err(bad("empty clause".to_string()));
            }
            if let Some(k) = part.strip_prefix("top ").or_else(|| part.strip_prefix("top:")) {
                let k: usize = k
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("`{part}`: top needs a whole number, as in `top 3`")))?;
                if k == 0 {
                    return Err(bad("top 0 keeps nothing".to_string()));
                }
                filter.top_k_per_year = Some(k);
                continue;
            }
            let ops = [
                (">=", CompareOp::Ge),
                ("<=", CompareOp::Le),
                ("!=", CompareOp::Ne),
                ("==", CompareOp::Eq),
                (">", CompareOp::Gt),
                ("<", CompareOp::Lt),
                ("=", CompareOp::Eq),
            ];
            let Some((at, symbol, op)) = ops.iter().find_map(|(s, op)| part.find(s).map(|at| (at, *s, *op))) else {
                return Err(bad(format!("`{part}` has no comparison (== != >= <= > <)")));
            };
            let column = part[..at].trim();
            let value = part[at + symbol.len()..].trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value);
            if column.is_empty() || value.is_empty() {
                return Err(bad(format!("`{part}` needs a column and a value")));
            }
            filter.clauses.push(Clause {
                column: column.to_string(),
                op,
                value: value.to_string(),
            });
        }
        Ok(filter)
    }
}

/// The marker column of rows that must not be fitted: a row whose `for_fitting` cell is
/// `false` (the seed report's round numbers, `human_round` in `species`) is left out of
/// every selection unless the filter asks for it by name (an `==` clause on the table's
/// first column naming it, e.g. `id == human_round`) or names `for_fitting` itself.
pub const FOR_FITTING: &str = "for_fitting";

/// Where every row of a table went on the way to a fit. The counts are exact and add
/// up: `rows_in_table = filtered_out + not_for_fitting.len() + missing_x + missing_y +
/// outside_range + below_top_k + outside_rule + kept`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RowAccount {
    /// Rows in the file.
    pub rows_in_table: usize,
    /// Rows the filter's column clauses rejected.
    pub filtered_out: usize,
    /// Labels of the rows left out because they are marked not for fitting.
    pub not_for_fitting: Vec<String>,
    /// Rows dropped because their x cell (a date or value) is empty.
    pub missing_x: usize,
    /// Rows with an x but dropped because their y cell is empty.
    pub missing_y: usize,
    /// Rows with both values but x outside `--from`/`--to`.
    pub outside_range: usize,
    /// Rows removed by `top K` per year.
    pub below_top_k: usize,
    /// Rows in the range left out by a study's selection rule (a Z-score band), and
    /// that rule in a few words.
    pub outside_rule: Option<(usize, String)>,
    /// Rows fitted.
    pub kept: usize,
}

impl RowAccount {
    /// One line, for the CLI and error messages: `80 rows; 3 without year; 77 fitted`.
    pub fn describe(&self, x: &str, y: &str) -> String {
        let mut parts = vec![format!("{} rows in the file", self.rows_in_table)];
        if self.filtered_out > 0 {
            parts.push(format!("{} filtered out", self.filtered_out));
        }
        if !self.not_for_fitting.is_empty() {
            parts.push(format!(
                "{} not for fitting ({}; name it in --filter to include it)",
                self.not_for_fitting.len(),
                self.not_for_fitting.join(", ")
            ));
        }
        if self.missing_x > 0 {
            parts.push(format!("{} dropped for a missing {x}", self.missing_x));
        }
        if self.missing_y > 0 {
            parts.push(format!("{} dropped for a missing {y}", self.missing_y));
        }
        if self.outside_range > 0 {
            parts.push(format!("{} outside the --from/--to range", self.outside_range));
        }
        if self.below_top_k > 0 {
            parts.push(format!("{} below the top K of their year", self.below_top_k));
        }
        if let Some((n, rule)) = &self.outside_rule {
            parts.push(format!("{n} left out by {rule}"));
        }
        parts.push(format!("{} fitted", self.kept));
        parts.join("; ")
    }
}

/// What to take from a table for a fit.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// x column (numeric or date).
    pub x: String,
    /// y column (numeric).
    pub y: String,
    /// Optional filter.
    pub filter: Option<Filter>,
    /// Keep x ≥ from.
    pub from: Option<f64>,
    /// Keep x ≤ to.
    pub to: Option<f64>,
}

/// Points selected from a table, with where each came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// File read.
    pub path: PathBuf,
    /// x column.
    pub x_name: String,
    /// y column.
    pub y_name: String,
    /// x values (decimal years for dates).
    pub x: Vec<f64>,
    /// y values.
    pub y: Vec<f64>,
    /// CSV line of each point.
    pub lines: Vec<usize>,
    /// First column's text of each point (model, chip or network name).
    pub labels: Vec<String>,
    /// Where every row of the table went.
    pub rows: RowAccount,
}

/// Rows marked not for fitting (see [`FOR_FITTING`]) that `filter` does not ask for.
fn not_for_fitting_rows(table: &Table, filter: Option<&Filter>) -> Result<Vec<bool>, AnalysisError> {
    if !table.headers.iter().any(|h| h == FOR_FITTING) {
        return Ok(vec![false; table.len()]);
    }
    let clauses = filter.map(|f| f.clauses.as_slice()).unwrap_or_default();
    if clauses.iter().any(|c| c.column == FOR_FITTING) {
        return Ok(vec![false; table.len()]);
    }
    let label_column = table.headers.first().cloned().unwrap_or_default();
    let labels = table.text(&label_column)?;
    let named = |label: Option<&str>| {
        clauses
            .iter()
            .any(|c| c.column == label_column && c.op == CompareOp::Eq && Some(c.value.as_str()) == label)
    };
    Ok(table
        .text(FOR_FITTING)?
        .iter()
        .zip(&labels)
        .map(|(marker, label)| {
            marker.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("false")) && !named(label.as_deref())
        })
        .collect())
}

/// Selects `(x, y)` points from `table`: filter clauses, then rows not marked for
/// fitting, then rows where both x and y are present, then `from..=to`, then `top K`,
/// counting what each step drops ([`RowAccount`]). An empty result is an error.
pub fn select_series(table: &Table, selection: &Selection) -> Result<Series, AnalysisError> {
    let x_all = table.numbers(&selection.x)?;
    let y_all = table.numbers(&selection.y)?;
    let label_column = table.headers.first().cloned().unwrap_or_default();
    let labels_all = table.text(&label_column)?;
    let mut account = RowAccount {
        rows_in_table: table.len(),
        ..RowAccount::default()
    };
    let rows = match &selection.filter {
        Some(filter) => table.rows_matching(filter)?,
        None => (0..table.len()).collect(),
    };
    account.filtered_out = table.len() - rows.len();
    let excluded = not_for_fitting_rows(table, selection.filter.as_ref())?;
    let mut present = Vec::with_capacity(rows.len());
    for r in rows {
        if excluded[r] {
            account.not_for_fitting.push(
                labels_all[r]
                    .clone()
                    .unwrap_or_else(|| format!("line {}", table.lines[r])),
            );
        } else if x_all[r].is_none() {
            account.missing_x += 1;
        } else if y_all[r].is_none() {
            account.missing_y += 1;
        } else {
            present.push(r);
        }
    }
    let from = selection.from.unwrap_or(f64::NEG_INFINITY);
    let to = selection.to.unwrap_or(f64::INFINITY);
    let mut kept: Vec<usize> = present
        .iter()
        .copied()
        .filter(|&r| x_all[r].is_some_and(|x| x >= from && x <= to))
        .collect();
    account.outside_range = present.len() - kept.len();
    if let Some(k) = selection.filter.as_ref().and_then(|f| f.top_k_per_year) {
        let xs: Vec<f64> = kept.iter().map(|&r| x_all[r].unwrap_or_default()).collect();
        let ys: Vec<f64> = kept.iter().map(|&r| y_all[r].unwrap_or_default()).collect();
        let before = kept.len();
        kept = frontier_top_k_per_year(&xs, &ys, k)
            .into_iter()
            .map(|i| kept[i])
            .collect();
        account.below_top_k = before - kept.len();
    }
    account.kept = kept.len();
    if kept.is_empty() {
        return Err(AnalysisError::EmptySelection {
            path: table.path.clone(),
            x: selection.x.clone(),
            y: selection.y.clone(),
            from,
            to,
            rows: account.describe(&selection.x, &selection.y),
        });
    }
    Ok(Series {
        path: table.path.clone(),
        x_name: selection.x.clone(),
        y_name: selection.y.clone(),
        x: kept.iter().map(|&r| x_all[r].unwrap_or_default()).collect(),
        y: kept.iter().map(|&r| y_all[r].unwrap_or_default()).collect(),
        lines: kept.iter().map(|&r| table.lines[r]).collect(),
        labels: kept
            .iter()
            .map(|&r| labels_all[r].clone().unwrap_or_default())
            .collect(),
        rows: account,
    })
}

/// Loads a bundled dataset by name from `data_dir`, checked against its schema (never a
/// file of that name in the working directory).
pub fn load_bundled(name: &str, data_dir: &Path) -> Result<Table, AnalysisError> {
    let spec = find_dataset(name).ok_or_else(|| AnalysisError::UnknownDataset {
        name: name.to_string(),
        available: DATASETS.iter().map(|d| d.name).collect::<Vec<_>>().join(", "),
    })?;
    load_table(&data_dir.join(spec.file), Some(spec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn data_dir() -> PathBuf {
        bundled_data_dir()
    }

    fn write_temp(contents: &str, name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(contents.as_bytes())
            .unwrap();
        (dir, path)
    }

    #[test]
    fn every_bundled_dataset_loads_against_its_schema() {
        for spec in bundled_datasets() {
            let table = load_bundled(spec.name, &data_dir()).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            assert!(!table.is_empty(), "{} is empty", spec.name);
            let sources = table.text("source").unwrap();
            assert!(
                sources.iter().all(|s| s.as_deref().is_some_and(|s| !s.is_empty())),
                "{}: row without source",
                spec.name
            );
        }
    }

    #[test]
    fn decimal_years_match_epoch_convention() {
        // Epoch's own column in the raw snapshot, for all 515 models.
        let mut reader = csv::Reader::from_path(data_dir().join("raw/epoch_notable_models_snapshot.csv")).unwrap();
        let mut checked = 0;
        for record in reader.records() {
            let record = record.unwrap();
            let ours = parse_decimal_year(&record[2]).unwrap();
            let theirs: f64 = record[3].parse().unwrap();
            assert!((ours - theirs).abs() < 1e-4, "{}: {ours} vs {theirs}", &record[2]);
            checked += 1;
        }
        assert_eq!(checked, 515);
        assert!((parse_decimal_year("2012-09-30").unwrap() - 2012.75).abs() < 0.005);
    }

    #[test]
    fn schema_violations_name_file_line_and_column() {
        let spec = find_dataset("koomey").unwrap();
        let header = "machine,year,power_W,computations_per_s,computations_per_kWh,measured_power,source\n";
        let (_d, path) = write_temp(
            &format!("{header}A,1950,10,1e3,1e5,false,s\nB,1951,abc,1e3,1e5,false,s\n"),
            "k.csv",
        );
        let e = load_table(&path, Some(spec)).unwrap_err();
        assert!(
            matches!(
                e,
                AnalysisError::NotANumber {
                    line: 3,
                    column_index: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("k.csv:3:3"), "{e}");

        let (_d, path) = write_temp(&format!("{header}A,1950,-10,1e3,1e5,false,s\n"), "k.csv");
        assert!(matches!(
            load_table(&path, Some(spec)).unwrap_err(),
            AnalysisError::NegativeCount {
                line: 2,
                column_index: 3,
                ..
            }
        ));

        let (_d, path) = write_temp("machine,year,source\nA,1950,s\n", "k.csv");
        let e = load_table(&path, Some(spec)).unwrap_err();
        assert!(
            matches!(&e, AnalysisError::MissingColumn { column, .. } if column == "power_W"),
            "{e}"
        );

        let spec = find_dataset("openai_2018").unwrap();
        let header =
            "system,date,date_precision,training_compute_FLOP,training_compute_pfs_days,method,in_main_chart,source\n";
        let (_d, path) = write_temp(
            &format!("{header}A,2012-09-15,month,1e17,,m,true,s\nB,\"2013-13-01\",day,1e18,,m,true,s\n"),
            "o.csv",
        );
        let e = load_table(&path, Some(spec)).unwrap_err();
        assert!(
            matches!(
                e,
                AnalysisError::BadDate {
                    line: 3,
                    column_index: 2,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn quoted_newlines_keep_line_numbers_right() {
        let (_d, path) = write_temp("name,value\n\"a\nb\",1\nc,x\n", "q.csv");
        let table = load_table(&path, None).unwrap();
        let e = table.numbers("value").unwrap_err();
        assert!(
            matches!(
                e,
                AnalysisError::NotANumber {
                    line: 4,
                    column_index: 2,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn filters_select_rows() {
        let table = load_bundled("networks", &data_dir()).unwrap();
        let filter = Filter::parse("in_fig11_trend_fit == true && year >= 2000").unwrap();
        let series = select_series(
            &table,
            &Selection {
                x: "year".into(),
                y: "neurons_count".into(),
                filter: Some(filter),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(series.x.iter().all(|&x| x >= 2000.0));
        assert_eq!(series.x.len(), 12);
        assert!(Filter::parse("year").is_err());
        let unknown = Filter::parse("nope == 1").unwrap();
        assert!(matches!(
            table.rows_matching(&unknown),
            Err(AnalysisError::BadFilter { .. })
        ));
    }

    #[test]
    fn empty_range_is_an_error() {
        let table = load_bundled("koomey", &data_dir()).unwrap();
        let e = select_series(
            &table,
            &Selection {
                x: "year".into(),
                y: "computations_per_kWh".into(),
                from: Some(2100.0),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            matches!(&e, AnalysisError::EmptySelection { rows, .. } if rows.contains("80 outside the --from/--to range; 0 fitted")),
            "{e}"
        );
    }

    fn selection(x: &str, y: &str, filter: Option<&str>) -> Selection {
        Selection {
            x: x.into(),
            y: y.into(),
            filter: filter.map(|f| Filter::parse(f).unwrap()),
            ..Default::default()
        }
    }

    #[test]
    fn filter_values_are_checked_against_the_column_kind() {
        let networks = load_bundled("networks", &data_dir()).unwrap();
        let e = networks
            .rows_matching(&Filter::parse("in_fig11_trend_fit == ture").unwrap())
            .unwrap_err();
        assert!(
            matches!(&e, AnalysisError::BadFilter { reason, .. } if reason.contains("holds true or false (false, true); `ture` is neither")),
            "{e}"
        );
        assert!(networks
            .rows_matching(&Filter::parse("in_fig11_trend_fit > false").unwrap())
            .is_err());
        let e = networks
            .rows_matching(&Filter::parse("year == 19x0").unwrap())
            .unwrap_err();
        assert!(e.to_string().contains("`19x0` is not a number"), "{e}");
        // Dates compare as dates, or as decimal years.
        let models = load_bundled("training_compute", &data_dir()).unwrap();
        let by_date = models
            .rows_matching(&Filter::parse("publication_date >= 2020-01-01").unwrap())
            .unwrap();
        let by_year = models
            .rows_matching(&Filter::parse("publication_date >= 2020").unwrap())
            .unwrap();
        let expected = models
            .text("publication_date")
            .unwrap()
            .iter()
            .filter(|d| d.as_deref().is_some_and(|d| d >= "2020-01-01"))
            .count();
        assert_eq!(by_date.len(), expected);
        assert_eq!(by_year, by_date);
        assert!(models
            .rows_matching(&Filter::parse("publication_date < soon").unwrap())
            .is_err());
    }

    #[test]
    fn a_filter_that_keeps_nothing_names_the_clause_and_the_values() {
        let (_d, path) = write_temp("name,year,kind\na,2000,gpu\nb,2001,cpu\n", "k.csv");
        let table = load_table(&path, None).unwrap();
        let e = table
            .rows_matching(&Filter::parse("year > 1999 && kind == ture").unwrap())
            .unwrap_err();
        assert!(
            matches!(&e, AnalysisError::FilterMatchesNothing { reason, .. }
                if reason == "`kind == ture` matches no row; column `kind` holds `cpu`, `gpu`"),
            "{e}"
        );
        let e = table
            .rows_matching(&Filter::parse("year < 2001 && year > 2000").unwrap())
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("each clause alone matches some rows (`year < 2001`: 1, `year > 2000`: 1)"),
            "{e}"
        );
        // Numbers in a text column compare numerically.
        assert_eq!(
            table.rows_matching(&Filter::parse("year == 2000.0").unwrap()).unwrap(),
            vec![0]
        );
    }

    #[test]
    fn rows_not_for_fitting_are_excluded_unless_named() {
        let species = load_bundled("species", &data_dir()).unwrap();
        let series = select_series(&species, &selection("neurons_count", "brain_power_W", None)).unwrap();
        assert!(
            !series.labels.contains(&"human_round".to_string()),
            "{:?}",
            series.labels
        );
        assert_eq!(series.rows.not_for_fitting, vec!["human_round".to_string()]);
        let named = select_series(
            &species,
            &selection("neurons_count", "brain_power_W", Some("id == human_round")),
        )
        .unwrap();
        assert_eq!(named.labels, vec!["human_round".to_string()]);
        assert!(named.rows.not_for_fitting.is_empty());
        let by_marker = select_series(
            &species,
            &selection("neurons_count", "brain_power_W", Some("for_fitting == false")),
        )
        .unwrap();
        assert_eq!(by_marker.labels, vec!["human_round".to_string()]);
        // Naming another row does not bring it in.
        let same_species = select_series(
            &species,
            &selection("neurons_count", "brain_power_W", Some("species == Homo sapiens")),
        )
        .unwrap();
        assert_eq!(same_species.labels, vec!["human".to_string()]);
    }

    #[test]
    fn every_row_is_accounted_for() {
        let hardware = load_bundled("ml_hardware", &data_dir()).unwrap();
        let mut chosen = selection("release_date", "fp32_FLOP_per_s", Some("type == GPU && top 2"));
        chosen.from = Some(2010.0);
        let series = select_series(&hardware, &chosen).unwrap();
        let rows = &series.rows;
        let types = hardware.text("type").unwrap();
        let dates = hardware.numbers("release_date").unwrap();
        let fp32 = hardware.numbers("fp32_FLOP_per_s").unwrap();
        let gpu = |r: usize| types[r].as_deref() == Some("GPU");
        assert_eq!(rows.rows_in_table, 170);
        assert_eq!(rows.filtered_out, (0..170).filter(|&r| !gpu(r)).count());
        assert_eq!(
            rows.missing_x,
            (0..170).filter(|&r| gpu(r) && dates[r].is_none()).count()
        );
        assert_eq!(
            rows.missing_y,
            (0..170)
                .filter(|&r| gpu(r) && dates[r].is_some() && fp32[r].is_none())
                .count()
        );
        assert!(
            rows.missing_x > 0 && rows.outside_range > 0 && rows.below_top_k > 0,
            "{rows:?}"
        );
        assert_eq!(
            rows.filtered_out + rows.missing_x + rows.missing_y + rows.outside_range + rows.below_top_k + rows.kept,
            170
        );
        assert_eq!(rows.kept, series.x.len());
    }

    #[test]
    fn an_existing_file_is_read_without_a_bundled_schema() {
        let (_d, path) = write_temp("name,year,value\na,2000,1\n", "koomey.csv");
        let (resolved, spec) = resolve_dataset(path.to_str().unwrap(), &data_dir()).unwrap();
        assert_eq!(resolved, path);
        assert!(spec.is_none());
        let (resolved, spec) = resolve_dataset("koomey", &data_dir()).unwrap();
        assert_eq!(resolved, data_dir().join("koomey.csv"));
        assert_eq!(spec.map(|s| s.name), Some("koomey"));
    }
}
