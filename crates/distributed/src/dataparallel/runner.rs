//! Runs the data-parallel scaling sweep on one rank: for each rank count k (1, 2, 4, ...,
//! the world), the first k ranks form a communicator and train; strong scaling splits a
//! fixed global batch into k shards, weak scaling gives each rank a fixed batch.
//!
//! Each configuration is verified first: one data-parallel step (shard gradients, all-reduce
//! sum, divide by k, SGD) must leave the parameters equal, to rounding, to one single-process
//! step on the whole global batch, which every rank computes locally. Then timed samples of
//! a fixed number of steps, each step split into compute (forward, backward, update) and
//! communication (flatten the gradients, all-reduce, scale, unflatten).

use super::{ScalingMode, ScalingRecord, TrainableModel};
use crate::comm::{reduce_scalar, Communicator, ReduceOp};
use crate::error::Error;
use crate::measure::Status;
use std::time::Instant;

/// How the sweep runs.
#[derive(Debug, Clone)]
pub struct ScalingConfig {
    /// Global batch of strong scaling (split evenly; rank counts that do not divide it are
    /// skipped).
    pub global_batch: usize,
    /// Per-rank batch of weak scaling.
    pub per_rank_batch: usize,
    /// Timed samples per configuration.
    pub samples: usize,
    /// Steps per sample.
    pub steps_per_sample: u64,
    /// SGD learning rate.
    pub learning_rate: f64,
    /// Largest relative parameter difference the check accepts, against
    /// max(1, max |parameter|).
    pub tolerance: f64,
}

impl Default for ScalingConfig {
    fn default() -> ScalingConfig {
        ScalingConfig {
            global_batch: 256,
            per_rank_batch: 64,
            samples: 5,
            steps_per_sample: 5,
            learning_rate: 0.05,
            tolerance: 1e-5,
        }
    }
}

/// Rank counts of the sweep: 1, 2, 4, ... up to `world`, and `world` itself.
pub fn rank_counts(world: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = std::iter::successors(Some(1usize), |k| k.checked_mul(2))
        .take_while(|&k| k <= world)
        .collect();
    if counts.last() != Some(&world) && world > 0 {
        counts.push(world);
    }
    counts
}

/// The deterministic data set: `examples` inputs in [-1, 1) and labels `i mod classes`.
fn dataset(examples: usize, features: usize, classes: usize) -> (Vec<f32>, Vec<i64>) {
    let input = crate::kernels::inputs::uniform_vec::<f32>(examples * features, 0xDA7A, -1.0, 1.0);
    let labels = (0..examples).map(|i| (i % classes) as i64).collect();
    (input, labels)
}

/// Averages the gradients over `comm`: flatten, all-reduce sum, scale by 1/size, unflatten.
fn average_gradients(model: &mut dyn TrainableModel, comm: &dyn Communicator, flat: &mut Vec<f32>, summed: &mut [f32]) {
    flat.clear();
    for g in model.grads_mut().iter() {
        flat.extend_from_slice(g);
    }
    comm.all_reduce_sum(flat, summed);
    let scale = 1.0 / comm.size() as f32;
    let mut offset = 0;
    for g in model.grads_mut().iter_mut() {
        let len = g.len();
        for (dst, &src) in g.iter_mut().zip(&summed[offset..offset + len]) {
            *dst = src * scale;
        }
        offset += len;
    }
}

/// Largest |a − b| over all parameters, and the largest |a|.
fn max_difference(a: &[Vec<f32>], b: &[Vec<f32>]) -> (f64, f64) {
    let mut diff = 0.0f64;
    let mut size = 0.0f64;
    for (x, y) in a.iter().zip(b) {
        for (&p, &q) in x.iter().zip(y) {
            diff = diff.max(f64::from(p - q).abs());
            size = size.max(f64::from(p).abs());
        }
    }
    (diff, size)
}

#[allow(clippy::too_many_arguments)] // the configuration of one point of the sweep
fn run_one<M: TrainableModel>(
    sub: &dyn Communicator,
    make_model: &dyn Fn() -> M,
    mode: ScalingMode,
    ranks: usize,
    per_rank_batch: usize,
    config: &ScalingConfig,
) -> ScalingRecord {
    let mut model = make_model();
    let (features, classes) = (model.input_features(), model.classes());
    let global_batch = per_rank_batch * ranks;
    let rank = sub.rank();
    let mut record = ScalingRecord {
        benchmark: format!(
            "dataparallel_step/f32/model={},mode={},ranks={ranks},global_batch={global_batch}",
            model.name(),
            mode.as_str()
        ),
        model: model.name(),
        mode,
        ranks,
        per_rank_batch,
        global_batch,
        parameters: model.parameter_count(),
        flops_per_step: model.flops_per_step(global_batch),
        step_s: Vec::new(),
        compute_s: Vec::new(),
        allreduce_s: Vec::new(),
        steps_per_sample: config.steps_per_sample,
        status: Status::Ok,
        reason: None,
        verification: None,
    };
    let (input, labels) = dataset(global_batch, features, classes);
    let shard = rank * per_rank_batch..(rank + 1) * per_rank_batch;
    let x = &input[shard.start * features..shard.end * features];
    let y = &labels[shard.clone()];
    let count = model.parameter_count() as usize;
    let mut flat = Vec::with_capacity(count);
    let mut summed = vec![0.0f32; count];

    // Check: one data-parallel step against one local step on the global batch, from the
    // same seeded parameters (`make_model` is deterministic).
    let mut reference = make_model();
    reference.gradients(&input, &labels, global_batch);
    reference.apply_sgd(config.learning_rate);
    model.gradients(x, y, per_rank_batch);
    average_gradients(&mut model, sub, &mut flat, &mut summed);
    model.apply_sgd(config.learning_rate);
    let (diff, size) = max_difference(model.parameters(), reference.parameters());
    let relative = diff / size.max(1.0);
    let passed = relative <= config.tolerance;
    record.verification = Some(format!(
        "parameters after one {ranks}-rank step (shards of {per_rank_batch}, all-reduced mean gradient) against one \
         1-process step on the global batch of {global_batch}: max |difference| {diff:.3e}, relative {relative:.3e} \
         (tolerance {:.0e}) on rank {rank}",
        config.tolerance
    ));
    if reduce_scalar(sub, if passed { 1.0 } else { 0.0 }, ReduceOp::Min) < 1.0 {
        record.status = Status::Failed;
        record.reason = Some(if passed {
            "data-parallel step differs from the single-process step on another rank".into()
        } else {
            "data-parallel step differs from the single-process step".into()
        });
        return record;
    }
    // Warm-up: one sample's worth of steps.
    for _ in 0..config.steps_per_sample {
        model.gradients(x, y, per_rank_batch);
        average_gradients(&mut model, sub, &mut flat, &mut summed);
        model.apply_sgd(config.learning_rate);
    }
    for _ in 0..config.samples {
        sub.barrier();
        let (mut compute, mut communicate) = (0.0, 0.0);
        let start = Instant::now();
        for _ in 0..config.steps_per_sample {
            let t0 = Instant::now();
            model.gradients(x, y, per_rank_batch);
            let t1 = Instant::now();
            average_gradients(&mut model, sub, &mut flat, &mut summed);
            let t2 = Instant::now();
            model.apply_sgd(config.learning_rate);
            let t3 = Instant::now();
            compute += (t1 - t0).as_secs_f64() + (t3 - t2).as_secs_f64();
            communicate += (t2 - t1).as_secs_f64();
        }
        let steps = config.steps_per_sample as f64;
        record.step_s.push(start.elapsed().as_secs_f64() / steps);
        record.compute_s.push(compute / steps);
        record.allreduce_s.push(communicate / steps);
    }
    record
}

/// Runs strong and weak scaling for every rank count on this rank; records are handed to
/// `sink` as they finish (only ranks that took part in a configuration record it). Only a
/// sink error stops the sweep.
pub fn run_scaling<M: TrainableModel>(
    comm: &dyn Communicator,
    make_model: &dyn Fn() -> M,
    config: &ScalingConfig,
    sink: &mut dyn FnMut(&ScalingRecord) -> Result<(), Error>,
) -> Result<Vec<ScalingRecord>, Error> {
    let mut records = Vec::new();
    for ranks in rank_counts(comm.size()) {
        let sub = comm.first_ranks(ranks);
        if let Some(sub) = &sub {
            for mode in [ScalingMode::Strong, ScalingMode::Weak] {
                let per_rank = match mode {
                    ScalingMode::Strong if !config.global_batch.is_multiple_of(ranks) => {
                        let model = make_model();
                        let r = ScalingRecord {
                            benchmark: format!(
                                "dataparallel_step/f32/model={},mode=strong,ranks={ranks},global_batch={}",
                                model.name(),
                                config.global_batch
                            ),
                            model: model.name(),
                            mode,
                            ranks,
                            per_rank_batch: 0,
                            global_batch: config.global_batch,
                            parameters: model.parameter_count(),
                            flops_per_step: model.flops_per_step(config.global_batch),
                            step_s: Vec::new(),
                            compute_s: Vec::new(),
                            allreduce_s: Vec::new(),
                            steps_per_sample: config.steps_per_sample,
                            status: Status::Skipped,
                            reason: Some(format!(
                                "global batch {} does not split evenly over {ranks} ranks",
                                config.global_batch
                            )),
                            verification: None,
                        };
                        sink(&r)?;
                        records.push(r);
                        continue;
                    }
                    ScalingMode::Strong => config.global_batch / ranks,
                    ScalingMode::Weak => config.per_rank_batch,
                };
                let record = run_one(sub.as_ref(), make_model, mode, ranks, per_rank, config);
                sink(&record)?;
                records.push(record);
            }
        }
        drop(sub);
        comm.barrier();
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comm::SelfComm;
    use crate::dataparallel::SoftmaxRegression;

    #[test]
    fn rank_counts_double_up_to_the_world() {
        assert_eq!(rank_counts(1), vec![1]);
        assert_eq!(rank_counts(4), vec![1, 2, 4]);
        assert_eq!(rank_counts(6), vec![1, 2, 4, 6]);
    }

    #[test]
    fn one_rank_step_is_verified_and_split_into_compute_and_allreduce() {
        let config = ScalingConfig {
            global_batch: 32,
            per_rank_batch: 16,
            samples: 2,
            steps_per_sample: 2,
            ..ScalingConfig::default()
        };
        let mut seen = Vec::new();
        let records = run_scaling(&SelfComm, &|| SoftmaxRegression::new(20, 4, 3), &config, &mut |r| {
            seen.push(r.benchmark.clone());
            Ok(())
        })
        .unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(seen.len(), 2);
        for r in &records {
            assert_eq!(r.status, Status::Ok, "{:?}", r.reason);
            assert!(
                r.verification.as_deref().unwrap().contains("max |difference| 0.000e0"),
                "{:?}",
                r.verification
            );
            assert_eq!(r.step_s.len(), 2);
            for i in 0..2 {
                assert!(r.compute_s[i] > 0.0 && r.allreduce_s[i] >= 0.0);
                assert!(r.compute_s[i] + r.allreduce_s[i] <= r.step_s[i] * 1.0001 + 1e-6);
            }
        }
        assert_eq!(records[0].mode, ScalingMode::Strong);
        assert_eq!(records[0].global_batch, 32);
        assert_eq!(records[1].global_batch, 16);
        assert_eq!(records[0].parameters, 20 * 4 + 4);
    }

    #[test]
    fn averaging_gradients_over_shards_equals_the_global_batch_gradient() {
        // Two "ranks" simulated in one process: mean of the shard gradients equals the
        // gradient of the mean loss over the whole batch.
        let (input, labels) = dataset(8, 6, 3);
        let base = SoftmaxRegression::new(6, 3, 9);
        let mut whole = base.clone();
        whole.gradients(&input, &labels, 8);
        let mut mean = vec![0.0f32; whole.grads_mut()[0].len()];
        for r in 0..2 {
            let mut m = base.clone();
            m.gradients(&input[r * 4 * 6..(r + 1) * 4 * 6], &labels[r * 4..(r + 1) * 4], 4);
            for (acc, g) in mean.iter_mut().zip(&m.grads_mut()[0]) {
                *acc += g / 2.0;
            }
        }
        for (a, b) in mean.iter().zip(&whole.grads_mut()[0]) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
