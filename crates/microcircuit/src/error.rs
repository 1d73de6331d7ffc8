//! Typed errors: each names the parameter or resource that is wrong.

use thiserror::Error;

/// Why a microcircuit simulation could not be set up or run.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// A scaling factor (`n_scaling` or `k_scaling`) is not a finite number > 0.
    #[error("parameter `{name}` must be finite and > 0, got {value}")]
    BadScale { name: &'static str, value: f64 },
    /// A biological time is not finite, not > 0 (or < 0 for the warm-up), or not a whole number of 0.1 ms steps.
    #[error("parameter `{name}` = {value} ms must be finite, {requirement}, and a whole number of {step_ms} ms steps")]
    BadTime {
        name: &'static str,
        value: f64,
        requirement: &'static str,
        step_ms: f64,
    },
    /// `threads` is 0 or exceeds the number of neurons.
    #[error("parameter `threads` = {threads} must be between 1 and the number of neurons ({neurons})")]
    BadThreads { threads: usize, neurons: usize },
    /// A partitioned run splits the network into more parts (`ranks × threads`) than it has 128-neuron
    /// blocks, the unit a part owns.
    #[error(
        "{ranks} ranks × {threads} threads = {} parts, more than the network's {blocks} blocks of 128 neurons: \
         use fewer threads per rank (`threads`) or fewer ranks, or a larger scale",
        ranks * threads
    )]
    TooManyParts {
        ranks: usize,
        threads: usize,
        blocks: usize,
    },
    /// A population rounds to zero neurons at this `n_scaling`.
    #[error("population {population} has 0 neurons at n_scaling = {n_scaling}")]
    EmptyPopulation { population: &'static str, n_scaling: f64 },
    /// The network is too large for the packed 24-bit local target index or the u32 neuron ids.
    #[error("network too large: {what}")]
    TooLarge { what: String },
    /// A drawn delay exceeds the 255 steps the packed 8-bit delay field holds.
    #[error("a drawn delay of {steps} steps exceeds the 255-step limit of the packed synapse")]
    DelayTooLong { steps: u64 },
    /// A feature of the model this engine does not run.
    #[error("not supported: {what}")]
    Unsupported { what: String },
    /// A CUDA driver or NVRTC call failed.
    #[error("{call}: {message}")]
    Device { call: String, message: String },
    /// The rayon thread pool could not be built.
    #[error("thread pool: {0}")]
    ThreadPool(String),
}
