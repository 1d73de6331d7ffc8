//! The bundled reference datasets and CSV loading: the one module that imports polars.
//!
//! Files are scanned lazily by polars with every column read as text, then checked
//! against the dataset's schema cell by cell, so that a bad value is reported with its
//! file, line and column instead of becoming a null or a panic. `--filter` expressions
//! are compiled to polars expressions and evaluated on the scanned frame.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use polars::prelude::{col, lit, DataFrame, DataType, Expr, IntoLazy, LazyCsvReader, LazyFileListReader, PlRefPath};
use serde::Serialize;

use crate::analysis::error::AnalysisError;
use crate::analysis::fits::frontier_top_k_per_year;

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
            count("synapses_per_neuron_ratio"),
            count("brain_power_W"),
            key("source"),
            text("source_synapses"),
            text("source_power"),
        ],
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
    },
    DatasetSpec {
        name: "hardware",
        file: "hardware.csv",
        description: "curated accelerators, CPUs, older GPUs and neuromorphic chips: peak FLOP/s by precision, bandwidth, TDP, FLOP/J",
        columns: HARDWARE_COLUMNS,
    },
    DatasetSpec {
        name: "ml_hardware",
        file: "ml_hardware.csv",
        description: "the whole Epoch AI ML-hardware table (170 chips) in the same columns as `hardware`",
        columns: HARDWARE_COLUMNS,
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

/// The data directory: `$BRAINGAP_DATA_DIR` if set, else the crate's `data/`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("BRAINGAP_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data")))
}

/// Resolves `--data`: an existing file is used as given (with the bundled schema if its
/// file name is a bundled one); otherwise a bundled dataset name is looked up in
/// `data_dir`.
pub fn resolve_dataset(
    name_or_path: &str,
    data_dir: &Path,
) -> Result<(PathBuf, Option<&'static DatasetSpec>), AnalysisError> {
    let as_path = Path::new(name_or_path);
    if as_path.is_file() {
        let spec = as_path
            .file_name()
            .and_then(|f| f.to_str())
            .and_then(|f| DATASETS.iter().find(|d| d.file == f));
        return Ok((as_path.to_path_buf(), spec));
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

    /// Rows (0-based) that satisfy `filter`'s column clauses, evaluated by polars.
    pub fn rows_matching(&self, filter: &Filter) -> Result<Vec<usize>, AnalysisError> {
        let mut expr: Option<Expr> = None;
        for clause in &filter.clauses {
            if !self.headers.iter().any(|h| h == &clause.column) {
                return Err(AnalysisError::BadFilter {
                    expression: filter.expression.clone(),
                    reason: format!("no column `{}` in {}", clause.column, self.path.display()),
                });
            }
            let is_text = matches!(self.columns[self.position(&clause.column)?], ColumnData::Text(_));
            let numeric = parse_number(&clause.value).filter(|_| !is_text || clause.op.is_ordering());
            let column = col(clause.column.as_str());
            let e = match numeric {
                Some(v) => {
                    let c = column.cast(DataType::Float64);
                    match clause.op {
                        CompareOp::Eq => c.eq(lit(v)),
                        CompareOp::Ne => c.neq(lit(v)),
                        CompareOp::Gt => c.gt(lit(v)),
                        CompareOp::Ge => c.gt_eq(lit(v)),
                        CompareOp::Lt => c.lt(lit(v)),
                        CompareOp::Le => c.lt_eq(lit(v)),
                    }
                }
                None => {
                    let v = lit(clause.value.clone());
                    match clause.op {
                        CompareOp::Eq => column.eq(v),
                        CompareOp::Ne => column.neq(v),
                        CompareOp::Gt => column.gt(v),
                        CompareOp::Ge => column.gt_eq(v),
                        CompareOp::Lt => column.lt(v),
                        CompareOp::Le => column.lt_eq(v),
                    }
                }
            };
            expr = Some(match expr {
                Some(acc) => acc.and(e),
                None => e,
            });
        }
        let Some(expr) = expr else {
            return Ok((0..self.len()).collect());
        };
        let kept = self
            .frame
            .clone()
            .lazy()
            .filter(expr)
            .select([col(ROW_INDEX)])
            .collect()
            .map_err(|e| polars_error(&self.path, e))?;
        let index = kept
            .column(ROW_INDEX)
            .and_then(|c| c.idx().map(|ca| ca.iter().flatten().map(|i| i as usize).collect()))
            .map_err(|e| polars_error(&self.path, e))?;
        Ok(index)
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
}

/// Selects `(x, y)` points from `table`: filter clauses, then rows where both are
/// present, then `from..=to`, then `top K`. An empty result is an error.
pub fn select_series(table: &Table, selection: &Selection) -> Result<Series, AnalysisError> {
    let x_all = table.numbers(&selection.x)?;
    let y_all = table.numbers(&selection.y)?;
    let label_column = table.headers.first().cloned().unwrap_or_default();
    let labels_all = table.text(&label_column)?;
    let rows = match &selection.filter {
        Some(filter) => table.rows_matching(filter)?,
        None => (0..table.len()).collect(),
    };
    let present: Vec<usize> = rows
        .into_iter()
        .filter(|&r| x_all[r].is_some() && y_all[r].is_some())
        .collect();
    let before = present.len();
    let from = selection.from.unwrap_or(f64::NEG_INFINITY);
    let to = selection.to.unwrap_or(f64::INFINITY);
    let mut kept: Vec<usize> = present
        .into_iter()
        .filter(|&r| x_all[r].is_some_and(|x| x >= from && x <= to))
        .collect();
    if let Some(k) = selection.filter.as_ref().and_then(|f| f.top_k_per_year) {
        let xs: Vec<f64> = kept.iter().map(|&r| x_all[r].unwrap_or_default()).collect();
        let ys: Vec<f64> = kept.iter().map(|&r| y_all[r].unwrap_or_default()).collect();
        kept = frontier_top_k_per_year(&xs, &ys, k)
            .into_iter()
            .map(|i| kept[i])
            .collect();
    }
    if kept.is_empty() {
        return Err(AnalysisError::EmptySelection {
            path: table.path.clone(),
            x: selection.x.clone(),
            y: selection.y.clone(),
            from,
            to,
            before,
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
    })
}

/// Loads a bundled dataset by name from `data_dir`.
pub fn load_bundled(name: &str, data_dir: &Path) -> Result<Table, AnalysisError> {
    let (path, spec) = resolve_dataset(name, data_dir)?;
    load_table(&path, spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn data_dir() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data"))
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
        assert!(matches!(e, AnalysisError::EmptySelection { before: 80, .. }), "{e}");
    }
}
