//! Backends: who executes a kernel. The pure-Rust CPU backend, a deterministic fake for
//! tests, and (feature `torch`) libtorch.
//!
//! A backend prepares a benchmark (allocates and fills its buffers outside any timed
//! region), then the runner asks the prepared benchmark to verify one call against the
//! kernel's reference and to time batches of calls. Backends time their own batches so a
//! GPU backend can synchronise before reading the clock.

pub mod cpu;
/// The model benchmarks on the CPU backend: the MLP/CNN/LSTM/transformer stacks.
pub mod cpu_mlp;
/// The spiking network model benchmark on the CPU backend.
pub mod cpu_snn;
pub mod fake;
pub mod indirect_conv;
pub mod microcircuit;
#[cfg(feature = "cuda")]
pub mod microcircuit_cuda;
pub mod packed_gemm;
#[cfg(feature = "torch")]
pub mod torch;
/// The model benchmarks on libtorch.
#[cfg(feature = "torch")]
pub mod torch_models;

// The layers below, under the names the rest of braingap uses for them.
use braingap_comm as comm;
#[cfg(feature = "torch")]
use braingap_core::gpu;
use braingap_core::{clock, machine, units};
use braingap_kernels::{self as kernels, models};

use crate::kernels::{BenchSpec, Verification};
use crate::units::Seconds;
pub use braingap_core::backend_kind::BackendKind;

/// Why a backend cannot run a benchmark or a backend cannot be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The backend does not implement this kernel/dtype combination.
    #[error("{backend} does not support {benchmark}: {reason}")]
    Unsupported {
        /// Backend name.
        backend: String,
        /// Benchmark name.
        benchmark: String,
        /// Why not.
        reason: String,
    },
    /// The backend could not be set up (thread pool, device).
    #[error("cannot start backend {backend}: {reason}")]
    Setup {
        /// Backend name.
        backend: String,
        /// Why not.
        reason: String,
    },
}

/// The result of timing a batch of calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch {
    /// Wall time of the whole batch.
    pub elapsed: Seconds,
    /// Discrete events (synaptic events, spikes) produced by the batch, exactly counted.
    pub events: u64,
}

/// A benchmark with its buffers allocated and filled.
pub trait Prepared: Send {
    /// Brings the state back to the seeded initial state, runs one call, and checks the
    /// output against the kernel's reference implementation.
    fn verify(&mut self) -> Verification;

    /// Runs `iters` calls back to back and returns their total wall time and events.
    fn run_batch(&mut self, iters: u64) -> Batch;

    /// What the benchmark observed beyond its timing, asked once after the last timed batch
    /// (the microcircuit's per-population rates and phase times). None by default.
    fn observations(&mut self) -> Vec<Observation> {
        Vec::new()
    }
}

/// A table of observations, stored as `RUN/<file>` with the benchmark's name as its first
/// column: one file per kind, rows of every benchmark that made one.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// File name in the run directory, e.g. `populations.csv`.
    pub file: &'static str,
    /// Column names, after `benchmark`.
    pub columns: Vec<&'static str>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
}

/// Something that runs kernels.
pub trait Backend {
    /// Who this is, as results name it: `cpu`, `fake`, `torch`.
    fn kind(&self) -> BackendKind;

    /// Device stored in results: `cpu`, `cuda:0`.
    fn device(&self) -> String;

    /// Worker threads used.
    fn threads(&self) -> u64;

    /// Whether this backend can run `spec`; `Err` carries the reason.
    fn supports(&self, spec: &BenchSpec) -> Result<(), BackendError>;

    /// Allocates and fills the buffers of `spec`.
    fn prepare<'a>(&'a self, spec: &BenchSpec) -> Result<Box<dyn Prepared + 'a>, BackendError>;

    /// Reads the core clock in GHz (the fake returns a constant).
    fn clock_ghz(&self) -> Option<f64> {
        crate::clock::probe_ghz()
    }
}

/// Names of the backends this build offers, with a one-line description.
pub const BACKENDS: [(BackendKind, &str); 4] = [
    (BackendKind::Cpu, "pure-Rust CPU backend (gemm crate, rayon)"),
    (
        BackendKind::Fake,
        "deterministic test double: computes nothing, times are modelled; for testing braingap itself",
    ),
    (
        BackendKind::Torch,
        "libtorch through tch, on --device cpu or cuda:N (needs a build with --features torch)",
    ),
    (
        BackendKind::Cuda,
        "the cortical microcircuit on an NVIDIA GPU, --device cuda:N (CUDA kernels compiled at run time; needs a build with --features cuda)",
    ),
];
