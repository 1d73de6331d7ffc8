//! Typed errors of the analysis layer: each names the file, line and column, or the
//! fit and the point, that went wrong.

use std::path::PathBuf;

use thiserror::Error;

/// Why a fit could not be computed from the points it was given.
///
/// Indices are positions in the slices handed to the fit; callers that know where a
/// point came from (a CSV line) translate them, see [`AnalysisError::Fit`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FitError {
    /// The model needs more points than it got.
    #[error("{model} fit needs at least {needed} points, got {got}")]
    TooFewPoints {
        /// Model name.
        model: &'static str,
        /// Minimum number of points.
        needed: usize,
        /// Points supplied.
        got: usize,
    },
    /// A log-scale fit met a value that is zero or negative.
    #[error("{model} fit takes log10 of {axis}, but point {index} has {axis} = {value}, which is not positive")]
    NonPositive {
        /// Model name.
        model: &'static str,
        /// `"x"` or `"y"`.
        axis: &'static str,
        /// Index of the offending point.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A value is NaN or infinite.
    #[error("point {index} has a non-finite {axis} value ({value})")]
    NonFinite {
        /// `"x"` or `"y"`.
        axis: &'static str,
        /// Index of the offending point.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// Every x is the same, so no slope can be estimated.
    #[error("all {n} x values equal {value}; a slope needs at least two distinct x values")]
    AllEqualX {
        /// Number of points.
        n: usize,
        /// The shared x value.
        value: f64,
    },
    /// x and y have different lengths.
    #[error("x has {x_len} values but y has {y_len}")]
    LengthMismatch {
        /// Length of x.
        x_len: usize,
        /// Length of y.
        y_len: usize,
    },
    /// An iterative fit did not converge.
    #[error("{model} fit did not converge after {iterations} iterations")]
    NoConvergence {
        /// Model name.
        model: &'static str,
        /// Iterations run.
        iterations: usize,
    },
}

/// Errors of loading, selecting and analysing the reference datasets.
#[derive(Debug, Error)]
pub enum AnalysisError {
    /// The file could not be read at all.
    #[error("{p}: {message}", p = .path.display())]
    Io {
        /// File involved.
        path: PathBuf,
        /// What the OS or CSV reader said.
        message: String,
    },
    /// The CSV reader (polars or csv) rejected the file's structure.
    #[error("{p}: not a readable CSV file: {message}", p = .path.display())]
    Csv {
        /// File involved.
        path: PathBuf,
        /// What the reader said.
        message: String,
    },
    /// A column the schema or the command needs is not in the header.
    #[error("{p}:1: missing column `{column}`", p = .path.display())]
    MissingColumn {
        /// File involved.
        path: PathBuf,
        /// Column name.
        column: String,
    },
    /// A cell that must be a number is not.
    #[error("{p}:{line}:{column_index}: column `{column}`: `{value}` is not a number", p = .path.display())]
    NotANumber {
        /// File involved.
        path: PathBuf,
        /// 1-based line in the file (header is line 1).
        line: usize,
        /// 1-based column position.
        column_index: usize,
        /// Column name.
        column: String,
        /// The offending text.
        value: String,
    },
    /// A count column holds a negative value.
    #[error("{p}:{line}:{column_index}: column `{column}`: {value} is a count and cannot be negative", p = .path.display())]
    NegativeCount {
        /// File involved.
        path: PathBuf,
        /// 1-based line in the file.
        line: usize,
        /// 1-based column position.
        column_index: usize,
        /// Column name.
        column: String,
        /// The offending value.
        value: f64,
    },
    /// A date cell does not parse as `YYYY-MM-DD` (or `YYYY-MM`, `YYYY` where allowed).
    #[error("{p}:{line}:{column_index}: column `{column}`: `{value}` is not a date (expected YYYY-MM-DD)", p = .path.display())]
    BadDate {
        /// File involved.
        path: PathBuf,
        /// 1-based line in the file.
        line: usize,
        /// 1-based column position.
        column_index: usize,
        /// Column name.
        column: String,
        /// The offending text.
        value: String,
    },
    /// A required cell is empty.
    #[error("{p}:{line}:{column_index}: column `{column}` must not be empty", p = .path.display())]
    EmptyCell {
        /// File involved.
        path: PathBuf,
        /// 1-based line in the file.
        line: usize,
        /// 1-based column position.
        column_index: usize,
        /// Column name.
        column: String,
    },
    /// `--data` named neither an existing file nor a bundled dataset.
    #[error("no file `{name}` and no bundled dataset of that name (bundled: {available})")]
    UnknownDataset {
        /// What was asked for.
        name: String,
        /// Comma-separated bundled names.
        available: String,
    },
    /// `--study` named no study.
    #[error("--study {name}: no such study (studies: {available})")]
    UnknownStudy {
        /// What was asked for.
        name: String,
        /// Comma-separated study names.
        available: String,
    },
    /// A target no trend of positive quantities can reach.
    #[error("--target {value}: must be a positive, finite y value (the fitted trends are of positive quantities)")]
    BadTarget {
        /// The target given.
        value: f64,
    },
    /// A `--filter` expression did not parse, named a missing column, or compared a
    /// column with a value of the wrong kind.
    #[error("bad filter `{expression}`: {reason}")]
    BadFilter {
        /// The expression as given.
        expression: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A well-formed filter kept no row: names the clause that matches nothing and what
    /// its column holds (or, when each clause matches alone, that they exclude each other).
    #[error("{p}: filter `{expression}`: {reason}", p = .path.display())]
    FilterMatchesNothing {
        /// File involved.
        path: PathBuf,
        /// The expression as given.
        expression: String,
        /// Which clause and what its column holds.
        reason: String,
    },
    /// Nothing was left after `--filter`, `--from` and `--to`.
    #[error("{p}: no points left to fit of `{y}` on `{x}` with x in [{from}, {to}]: {rows}", p = .path.display())]
    EmptySelection {
        /// File involved.
        path: PathBuf,
        /// x column.
        x: String,
        /// y column.
        y: String,
        /// Lower bound (or -inf).
        from: f64,
        /// Upper bound (or inf).
        to: f64,
        /// Where the rows went ([`crate::datasets::RowAccount::describe`]).
        rows: String,
    },
    /// A fit failed; `line` names the CSV line of the offending point where known.
    #[error("{p}{at}: {fit_error}", p = .path.display(), at = .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Fit {
        /// File the points came from.
        path: PathBuf,
        /// CSV line of the offending point, if the error concerns one point.
        line: Option<usize>,
        /// The fit error (shown in the message, deliberately not a `source()`, so that
        /// `{:#}` error chains print it once).
        fit_error: FitError,
    },
    /// A fit failed on points not read from a file.
    #[error(transparent)]
    FitOnly(#[from] FitError),
    /// A line of the seed-claims catalogue that cannot be read or checked.
    #[error("{p}:{line}: {message}", p = .path.display())]
    BadCatalogueEntry {
        /// The catalogue file.
        path: PathBuf,
        /// CSV line (1-based, header = 1).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Reference data needed by a computation is missing from a bundled dataset.
    #[error("{p}: {message}", p = .path.display())]
    MissingReference {
        /// File involved.
        path: PathBuf,
        /// What was looked for.
        message: String,
    },
}
