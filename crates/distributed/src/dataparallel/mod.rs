//! Data-parallel training-step scaling: the same model's SGD step on 1, 2, 4, ... ranks, the
//! gradients averaged with an all-reduce; strong scaling keeps the global batch, weak
//! scaling the per-rank batch. Compute (forward + backward + update) and communication (the
//! gradient all-reduce) are timed apart.
//!
//! - strong-scaling efficiency at n ranks = t(1) / (n · t(n));
//! - weak-scaling efficiency at n ranks = t(1) / t(n);
//!
//! where t is the median step time at the same global batch (strong) or the same per-rank
//! batch (weak).

pub mod mlp;
pub mod reference;
pub mod runner;

pub use mlp::MlpModel;
pub use reference::SoftmaxRegression;
pub use runner::{run_scaling, ScalingConfig};

use crate::measure::Status;
use serde::{Deserialize, Serialize};

/// What the data-parallel step needs of a model: the training-step API of
/// `crate::backends::cpu_mlp::CpuMlp` (f32; [`MlpModel`] wraps it), so it or any other model
/// plugs in.
/// The loss must be the mean over the batch, so that averaging the ranks' gradients over
/// equal shards gives the gradient of the global batch.
pub trait TrainableModel {
    /// Name with its shape, e.g. `mlp_784_256_10`.
    fn name(&self) -> String;
    /// Input features per example.
    fn input_features(&self) -> usize;
    /// Output classes.
    fn classes(&self) -> usize;
    /// Analytic FLOP of one training step (forward, backward, SGD update) on `batch`
    /// examples (METHODS.md).
    fn flops_per_step(&self, batch: usize) -> f64;
    /// Forward and backward on `batch` examples; returns the mean loss and keeps the
    /// gradients of the mean loss inside.
    fn gradients(&mut self, input: &[f32], labels: &[i64], batch: usize) -> f64;
    /// The gradients, one buffer per parameter tensor (same shapes as `parameters`).
    fn grads_mut(&mut self) -> &mut [Vec<f32>];
    /// `parameter -= learning_rate × gradient`.
    fn apply_sgd(&mut self, learning_rate: f64);
    /// The parameters, one buffer per tensor.
    fn parameters(&self) -> &[Vec<f32>];
    /// Trainable parameters.
    fn parameter_count(&self) -> u64 {
        self.parameters().iter().map(|p| p.len() as u64).sum()
    }
}

/// Which batch stays fixed as ranks are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalingMode {
    /// Fixed global batch, split across ranks.
    Strong,
    /// Fixed per-rank batch; the global batch grows with the ranks.
    Weak,
}

impl ScalingMode {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ScalingMode::Strong => "strong",
            ScalingMode::Weak => "weak",
        }
    }

    /// The mode named `name`.
    pub fn from_name(name: &str) -> Option<ScalingMode> {
        [ScalingMode::Strong, ScalingMode::Weak]
            .into_iter()
            .find(|m| m.as_str() == name)
    }

    /// Efficiency of a run at `ranks` taking `time` per step, against `base` seconds on one rank.
    pub fn efficiency(self, base: f64, time: f64, ranks: usize) -> f64 {
        match self {
            ScalingMode::Strong => base / (ranks as f64 * time),
            ScalingMode::Weak => base / time,
        }
    }
}

/// One data-parallel configuration as one rank saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingRecord {
    /// `dataparallel_step/f32/mode=strong,ranks=N,global_batch=B,...`.
    pub benchmark: String,
    /// Model name (e.g. `mlp_784_256_10`).
    pub model: String,
    /// Strong or weak.
    pub mode: ScalingMode,
    /// Ranks taking part (the first `ranks` ranks of the world).
    pub ranks: usize,
    /// Examples per rank per step.
    pub per_rank_batch: usize,
    /// Examples per step over all ranks.
    pub global_batch: usize,
    /// Trainable parameters (the all-reduced gradient has this many f32 elements).
    pub parameters: u64,
    /// Analytic FLOP of one step over all ranks (METHODS.md: forward + backward + update).
    pub flops_per_step: f64,
    /// This rank's whole step (compute + all-reduce), seconds per step, per sample.
    pub step_s: Vec<f64>,
    /// The compute part of each sample, seconds per step.
    pub compute_s: Vec<f64>,
    /// The gradient all-reduce part of each sample, seconds per step.
    pub allreduce_s: Vec<f64>,
    /// Steps per sample.
    pub steps_per_sample: u64,
    /// Outcome (the same on every rank).
    pub status: Status,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// What the check compared.
    pub verification: Option<String>,
}
