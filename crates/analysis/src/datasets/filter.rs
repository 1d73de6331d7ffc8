//! The `--filter` mini-language: parsing `COLUMN OP VALUE` clauses and `top K`, and
//! evaluating the clauses on a table's checked columns.

use super::table::{parse_decimal_year, parse_number};
use super::{ColumnData, Table};
use crate::error::AnalysisError;

impl Table {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::test_support::{data_dir, write_temp};
    use crate::datasets::{load_bundled, load_table, select_series, Selection};

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
}
