//! braingap measures how much neural-network work a machine does per second, per byte moved
//! and per joule, and sets that against the brain and against history.
//!
//! Dependencies flow one way: [`units`] and [`kernels`] (what is computed and how much work
//! it is), through [`backends`] and [`meters`] (who computes it, what it costs), to
//! [`measure`] (the runner and its statistics); then [`store`] (results on disk) and
//! [`analysis`] (reference datasets, trend fits, projections, claims), [`compare`] and
//! [`report`] (HTML/PNG/SVG, rendered in memory), [`ab`] (paired timing of two builds); the [`cli`] on top. The measurement core never imports presentation.

pub use braingap_core::{clock, diag, diag_inline, error, gpu, machine, units};
pub use braingap_kernels::models;
pub use {
    braingap_analysis as analysis, braingap_measure as measure, braingap_meters as meters, braingap_store as store,
};
pub use {braingap_backends as backends, braingap_comm as comm, braingap_kernels as kernels};

/// What this binary's build script recorded (build.rs), for [`machine::Machine::detect`].
pub const BUILD: machine::BuildInfo = machine::BuildInfo {
    rustc: env!("BRAINGAP_RUSTC_VERSION"),
    git_commit: env!("BRAINGAP_GIT_COMMIT"),
    git_branch: env!("BRAINGAP_BUILD_GIT_BRANCH"),
};

pub mod ab;
pub mod cli;
pub mod collectives;
pub mod compare;
pub mod dataparallel;
pub mod ranks;
pub mod report;
