//! Loading a CSV file into a [`Table`] checked cell by cell against its schema, and the
//! table's columns as text or numbers (dates as decimal years).

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use polars::prelude::{DataFrame, LazyCsvReader, LazyFileListReader, PlRefPath};

use super::{ColumnKind, ColumnSpec, DatasetSpec};
use crate::error::AnalysisError;

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

pub(super) fn parse_number(text: &str) -> Option<f64> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::find_dataset;
    use crate::datasets::test_support::{data_dir, write_temp};

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
}
