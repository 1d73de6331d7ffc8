//! braingap measures how much neural-network work a machine does per second, per byte moved
//! and per joule, and sets that against the brain and against history.
//!
//! Dependencies flow one way: [`units`] and [`kernels`] (what is computed and how much work
//! it is), through [`backends`] and [`meters`] (who computes it, what it costs), to
//! [`measure`] (the runner and its statistics); then [`store`] (results on disk) and
//! [`analysis`] (reference datasets, trend fits, projections, claims), [`compare`] and
//! [`report`] (HTML/PNG/SVG, rendered in memory), [`ab`] (paired timing of two builds); the
//! [`cli`] on top. The measurement core never imports presentation: from `core` to `report`
//! the layers are crates of the workspace (`crates/`), so the compiler enforces it; this crate
//! holds only the CLI and the binary.

pub use braingap_core::{backend_kind, clock, diag, diag_inline, error, gpu, machine, units};
// The workspace's crates under their module names (docs/architecture.md draws the graph).
pub use braingap_analysis as analysis;
pub use braingap_backends as backends;
pub use braingap_comm as comm;
pub use braingap_compare as compare;
pub use braingap_compare::ab;
pub use braingap_distributed::{collectives, dataparallel, ranks};
pub use braingap_kernels as kernels;
pub use braingap_kernels::models;
pub use braingap_measure as measure;
pub use braingap_meters as meters;
pub use braingap_report as report;
pub use braingap_store as store;

/// What this binary's build script recorded (build.rs), for [`machine::Machine::detect`].
pub const BUILD: machine::BuildInfo = machine::BuildInfo {
    rustc: env!("BRAINGAP_RUSTC_VERSION"),
    git_commit: env!("BRAINGAP_GIT_COMMIT"),
    git_branch: env!("BRAINGAP_BUILD_GIT_BRANCH"),
};

pub mod cli;
