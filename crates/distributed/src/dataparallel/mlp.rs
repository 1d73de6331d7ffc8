//! The data-parallel step's default model: `crate::backends::cpu_mlp::CpuMlp` (the MLP of
//! `--profile models`, 784-300-100-10, pure-Rust CPU backend) behind [`TrainableModel`],
//! with its seeded parameters and its analytic training-step FLOPs.

use super::TrainableModel;
use crate::backends::cpu_mlp::CpuMlp;
use crate::models::{Architecture, ModelBench};

/// The MLP with seeded parameters, for batches up to `max_batch`.
pub struct MlpModel {
    mlp: CpuMlp<f32>,
    bench: ModelBench,
}

impl MlpModel {
    /// The seeded MLP (every call gives the same parameters).
    pub fn new(max_batch: usize) -> MlpModel {
        let bench = ModelBench {
            architecture: Architecture::Mlp,
            batch: max_batch as u64,
            train: true,
        };
        MlpModel {
            mlp: CpuMlp::new(bench.parameters::<f32>(), max_batch),
            bench,
        }
    }
}

impl TrainableModel for MlpModel {
    fn name(&self) -> String {
        let shapes = self.bench.parameter_shapes();
        let mut widths = vec![shapes[0][1]];
        widths.extend(shapes.iter().step_by(2).map(|s| s[0]));
        let widths: Vec<String> = widths.iter().map(u64::to_string).collect();
        format!("mlp_{}", widths.join("_"))
    }
    fn input_features(&self) -> usize {
        self.bench.parameter_shapes()[0][1] as usize
    }
    fn classes(&self) -> usize {
        self.mlp.parameters().last().map_or(0, Vec::len)
    }
    /// `ModelBench::flops` of a training step at this batch (forward, loss, backward, SGD).
    fn flops_per_step(&self, batch: usize) -> f64 {
        ModelBench {
            batch: batch as u64,
            ..self.bench.clone()
        }
        .flops()
        .0
    }
    fn gradients(&mut self, input: &[f32], labels: &[i64], batch: usize) -> f64 {
        self.mlp.gradients(input, labels, batch)
    }
    fn grads_mut(&mut self) -> &mut [Vec<f32>] {
        self.mlp.grads_mut()
    }
    fn apply_sgd(&mut self, learning_rate: f64) {
        self.mlp.apply_sgd(learning_rate);
    }
    fn parameters(&self) -> &[Vec<f32>] {
        self.mlp.parameters()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comm::SelfComm;
    use crate::dataparallel::{run_scaling, ScalingConfig};
    use crate::measure::Status;

    #[test]
    fn the_mlp_plugs_into_the_data_parallel_step() {
        let model = MlpModel::new(8);
        assert_eq!(model.name(), "mlp_784_300_100_10");
        assert_eq!((model.input_features(), model.classes()), (784, 10));
        assert_eq!(model.parameter_count(), 266_610);
        let config = ScalingConfig {
            global_batch: 8,
            per_rank_batch: 4,
            samples: 1,
            steps_per_sample: 1,
            ..ScalingConfig::default()
        };
        let records = run_scaling(&SelfComm, &|| MlpModel::new(8), &config, &mut |_| Ok(())).unwrap();
        assert!(records.iter().all(|r| r.status == Status::Ok), "{records:?}");
        assert_eq!(records[0].flops_per_step, model.flops_per_step(8));
    }
}
