//! Reports: a self-contained HTML page (inline SVG figures, inline CSS, no JavaScript, no
//! network fetches) plus one PNG and one SVG per figure, all drawn with `plotters`.
//!
//! Rendering is pure: [`render`] turns a [`ReportInput`] into a [`Report`] (page string and
//! figure bytes) without touching the file system. [`files`] is the one place that reads
//! runs and writes reports; [`render_run_report`] chains the two for `braingap run` and
//! `braingap report`.
//!
//! - [`answer`]: the panel that opens the page: this machine against the brain in figures;
//! - [`figures`]: chart values and their SVG/PNG renderers;
//! - [`measured`]: roofline, backends, size sweeps and energy from `summary.csv` rows;
//! - [`cortex`]: the microcircuit against the published simulators and the brain;
//! - [`distributed`]: collective bandwidth and data-parallel scaling of MPI runs;
//! - [`history`]: history panels, projections, claims and fits as plain data, and
//!   `history::from_analysis` which fills them from `crate::analysis`;
//! - [`context`] and [`html`]: the serializable page context and the minijinja template
//!   (`templates/report.html`, HTML auto-escaped).

use braingap_analysis as analysis;
#[cfg(test)]
use braingap_comm as comm;
use braingap_compare as compare;
use braingap_core::{error, machine, units};
#[cfg(test)]
use braingap_distributed::ranks;
use braingap_distributed::{collectives, dataparallel};
use braingap_kernels as kernels;
use braingap_measure as measure;
use braingap_store as store;

pub mod answer;
pub mod context;
pub mod cortex;
pub mod distributed;
pub mod figures;
pub mod files;
mod glue;
pub mod history;
pub mod html;
pub mod measured;
mod page;

pub use files::{load_input, render_run_report, write_report};
pub use page::{machine_measured, render, Report, ReportError, ReportInput};
