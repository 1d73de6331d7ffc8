//! braingap's bottom layer: what every other crate speaks of and nothing above it.
//!
//! Units and counted quantities ([`units`]), typed errors ([`error`]), element types and SIMD
//! levels ([`dtype`]), the machine's facts and theoretical peaks ([`machine`], [`gpu`]), the
//! clock probe ([`clock`]) and the one statistics module ([`stats`]: median, type-7 quantiles,
//! MAD, bootstrap). It depends on no other braingap crate.

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

pub mod backend_kind;
pub mod clock;
pub mod dtype;
pub mod error;
pub mod gpu;
pub mod hash;
pub mod launch;
pub mod machine;
pub mod stats;
pub mod units;
