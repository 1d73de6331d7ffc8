//! The runner: verification first, then warm-up, calibrated sampling and robust statistics.
//!
//! It emits one [`BenchRecord`] per benchmark to a [`RecordSink`] (the results store) as
//! soon as the benchmark finishes, and reports progress only through an [`Observer`].
//! [`instructions`] counts instructions per call under callgrind instead of timing;
//! [`mann_whitney`] is the rank test of `braingap ab`'s paired timing.

// The layers below, under the names the rest of braingap uses for them.
use braingap_backends as backends;
use braingap_core::{error, units};
use braingap_kernels as kernels;
use braingap_meters as meters;

pub mod instructions;
pub mod mann_whitney;
pub mod runner;
pub use braingap_core::stats;

pub use runner::{
    preflight_memory, run_benchmarks, timer_overhead, BenchRecord, Ceilings, MachineLimits, Observer, Phase,
    RecordSink, RoofLevel, RunConfig, Status,
};
