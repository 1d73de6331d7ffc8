//! Scaling analysis: the bundled reference datasets, trend fits with uncertainty,
//! projections to brain scale, the seed report's claims check, and this machine's
//! place on the curves.
//!
//! Only [`datasets`] imports polars; everything else works on plain slices and
//! serializable structs, so the report and the CLI can use it without polars types.
//!
//! # Public API
//!
//! Data ([`datasets`]):
//! - `bundled_data_dir() -> PathBuf` — the repository's `data/` (the CLI reads `$BRAINGAP_DATA_DIR`).
//! - `bundled_datasets() -> &'static [DatasetSpec]`, `find_dataset(name) -> Option<&DatasetSpec>`.
//! - `resolve_dataset(name_or_path, data_dir) -> Result<(PathBuf, Option<&DatasetSpec>), AnalysisError>`
//!   (an existing file has no spec; a bundled name has its spec, with its snapshot date).
//! - `load_table(path, spec) -> Result<Table, AnalysisError>`, `load_bundled(name, data_dir)`.
//! - `select_series(&Table, &Selection) -> Result<Series, AnalysisError>` (`Series::rows`: a
//!   `RowAccount` of every row dropped); `Filter::parse(expr)`.
//! - `decimal_year(NaiveDate) -> f64`, `parse_decimal_year(&str) -> Option<f64>`.
//!
//! Fits ([`fits`], pure functions over `&[f64]`):
//! - `ols(x, y) -> Result<LinearFit, FitError>`
//! - `exponential_trend(x, y, BootstrapOptions) -> Result<ExponentialFit, FitError>`
//!   (`ExponentialFit::predict(x) -> Prediction` gives the prediction interval)
//! - `power_law(x, y, BootstrapOptions) -> Result<PowerLawFit, FitError>`
//! - `logistic_fit(x, y) -> Result<LogisticFit, FitError>`
//! - `piecewise_log_linear(x, y, max_breaks, min_segment) -> Result<PiecewiseFit, FitError>`
//! - `theil_sen(x, y)`, `theil_sen_exponential(x, y) -> Result<(TheilSenFit, f64), FitError>`
//! - `frontier_top_k_per_year(x, y, k) -> Vec<usize>`, `bootstrap_lines(x, y, BootstrapOptions)`
//!
//! Projections ([`projections`]):
//! - `brain_targets() -> Vec<Target>`; `crossover(&ExponentialFit, target, horizon) -> Crossover`.
//!
//! One fit end to end ([`trend`], what `braingap fit` runs):
//! - `run_fit_request(&FitRequest, data_dir) -> Result<FitReport, AnalysisError>`
//!   (`FitRequest::new(data, x, y)` then set `model`, `from`, `to`, `filter`, `target`).
//!
//! Claims ([`claims`]):
//! - `check_claims(data_dir) -> Result<Vec<Claim>, AnalysisError>`; `render_claims_table(&[Claim]) -> String`.
//!
//! This machine ([`machine_point`]):
//! - `machine_comparison(&MachinePoint, data_dir) -> Result<MachineComparison, AnalysisError>`
//!   (`MachineComparison::sentence` is "this CPU delivers x% of a human brain's
//!   estimated FLOP/s at y times its power").
//!
//! Published analyses redone ([`studies`]): `studies()`, `find_study(name)`,
//! `run_study(&Study, data_dir) -> Result<StudyResult, AnalysisError>` (figure, CI, verdict).
//!
//! Curation ([`curate`]): `curated_tables(raw_dir) -> Result<Vec<CuratedTable>, AnalysisError>`
//! derives every `data/*.csv` from `data/raw/`.

pub mod brain_scale;
pub mod catalogue;
pub mod claims;
pub mod curate;
pub mod datasets;
pub mod error;
pub mod fits;
pub mod machine_point;
pub mod projections;
pub mod stats;
pub mod studies;
pub mod trend;

pub use claims::{check_claims, render_claims_table, Claim, ClaimVerdict};
pub use datasets::{bundled_data_dir, bundled_datasets, DatasetSpec};
pub use error::{AnalysisError, FitError};
pub use fits::{BootstrapOptions, ExponentialFit, Interval};
pub use machine_point::{machine_comparison, MachineComparison, MachinePoint};
pub use projections::{brain_targets, crossover, Crossover, Target};
pub use trend::{run_fit_request, FitReport, FitRequest, Model};
