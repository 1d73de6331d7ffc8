//! Selecting `(x, y)` points from a table for a fit, accounting for every row dropped.

use std::path::PathBuf;

use serde::Serialize;

use super::{CompareOp, Filter, Table};
use crate::error::AnalysisError;
use crate::fits::frontier_top_k_per_year;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::load_bundled;
    use crate::datasets::test_support::data_dir;

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
}
