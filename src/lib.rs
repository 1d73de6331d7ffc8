//! braingap measures how much neural-network work a machine does per second, per byte moved
//! and per joule, and sets that against the brain and against history.
//!
//! Dependencies flow one way: [`units`] and [`kernels`] (what is computed and how much work
//! it is), through [`backends`] and [`meters`] (who computes it, what it costs), to
//! [`measure`] (the runner and its statistics); then [`store`] (results on disk) and
//! [`analysis`] (reference datasets, trend fits, projections, claims), [`compare`] and
//! [`report`] (HTML/PNG/SVG, rendered in memory), [`ab`] (paired timing of two builds); the [`cli`] on top. The measurement core never imports presentation.

/// `eprintln!` that never panics: a diagnostic written to a closed stderr (`braingap run
/// 2>&1 | head -1`) is dropped, so the run goes on writing its store when only the
/// terminal went away.
#[macro_export]
macro_rules! diag {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that never panics (see [`diag!`]).
#[macro_export]
macro_rules! diag_inline {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, $($arg)*);
        let _ = stderr.flush();
    }};
}

pub mod ab;
pub mod analysis;
pub mod backends;
pub mod cli;
pub mod clock;
pub mod collectives;
pub mod comm;
pub mod compare;
pub mod dataparallel;
pub mod error;
pub mod gpu;
pub mod kernels;
pub mod machine;
pub mod measure;
pub mod meters;
pub mod models;
pub mod report;
pub mod store;
pub mod units;
