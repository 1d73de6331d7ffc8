//! The multilayer perceptron on the pure-Rust CPU backend: dense layers with ReLU between
//! them and softmax cross-entropy on the logits, forward and backward as matrix products
//! through the backend's GEMM ([`crate::cpu::gemm_into`]), and a plain SGD update.
//!
//! [`CpuMlp`] is also a library type: a data-parallel benchmark builds one per worker,
//! calls [`CpuMlp::gradients`], reduces [`CpuMlp::grads_mut`] across workers and then
//! [`CpuMlp::apply_sgd`].
//!
//! Layout (libtorch's): a weight is stored out×in row-major, activations batch×features.
//! Forward `Y = X·Wᵀ + b`; backward `dX = dY·W`, `dW = dYᵀ·X` (dY is transposed into a
//! scratch buffer first, out·batch copies, since the GEMM takes a transposed right operand
//! only), `db` = column sums of dY. The first layer computes no input gradient, as counted
//! in [`crate::models::Layer::backward_flops`].
//!
//! Verification ([`MlpRun`]): inference against [`ModelBench::verify`]; a training step by
//! the same forward check, then by comparing the gradients and the updated parameters of
//! one step with [`naive_sgd_step`], an independent per-sample f64 backward written with
//! plain loops (itself checked against finite differences in the tests), and by the loss
//! on the same batch falling after the step.

use crate::cpu::{gemm_into, CpuReal};
use crate::kernels::verify::{gamma, Checker};
use crate::kernels::Verification;
use crate::models::{Architecture, ModelBench, LEARNING_RATE};
use crate::units::Seconds;
use crate::{Batch, Prepared};
use std::time::Instant;

/// A dense-ReLU network (ReLU after every layer but the last) with preallocated buffers for
/// up to `max_batch` samples.
pub struct CpuMlp<T> {
    parameters: Vec<Vec<T>>,
    grads: Vec<Vec<T>>,
    /// Features per layer boundary: input, hidden..., logits.
    widths: Vec<usize>,
    max_batch: usize,
    /// Output of each layer (after ReLU for hidden layers; logits last), batch × width.
    activations: Vec<Vec<T>>,
    /// Gradient of the loss with respect to each layer's pre-activation, batch × width.
    deltas: Vec<Vec<T>>,
    /// dY transposed (width × batch) for the weight gradient.
    transposed: Vec<T>,
}

impl<T: CpuReal> CpuMlp<T> {
    /// A network from its parameters, weight (out×in) and bias (out) of each layer in turn:
    /// the order and shapes of [`ModelBench::parameter_shapes`] for [`Architecture::Mlp`].
    ///
    /// # Panics
    /// If the tensors do not chain into a dense stack (an odd count, or a weight whose size
    /// is not its bias's length times the previous layer's width).
    pub fn new(parameters: Vec<Vec<T>>, max_batch: usize) -> Self {
        assert!(
            !parameters.is_empty() && parameters.len().is_multiple_of(2),
            "expected weight and bias per layer"
        );
        let mut widths = Vec::with_capacity(parameters.len() / 2 + 1);
        for layer in parameters.chunks(2) {
            let outputs = layer[1].len();
            assert!(outputs > 0 && layer[0].len().is_multiple_of(outputs), "weight size");
            let inputs = layer[0].len() / outputs;
            if let Some(&previous) = widths.last() {
                assert_eq!(inputs, previous, "layer input width must match the previous output");
            } else {
                widths.push(inputs);
            }
            widths.push(outputs);
        }
        let per_layer = |w: &[usize]| w[1..].iter().map(|&n| vec![T::default(); n * max_batch]).collect();
        let widest = widths[1..].iter().copied().max().unwrap_or(0);
        CpuMlp {
            grads: parameters.iter().map(|p| vec![T::default(); p.len()]).collect(),
            activations: per_layer(&widths),
            deltas: per_layer(&widths),
            transposed: vec![T::default(); widest * max_batch],
            parameters,
            widths,
            max_batch,
        }
    }

    /// Forward pass of `batch` samples (`input` batch × input width); returns the logits,
    /// batch × output width.
    pub fn forward(&mut self, input: &[T], batch: usize) -> &[T] {
        assert!(
            batch <= self.max_batch,
            "batch {batch} above max_batch {}",
            self.max_batch
        );
        assert_eq!(input.len(), batch * self.widths[0], "input length");
        let threads = rayon::current_num_threads();
        let layers = self.widths.len() - 1;
        for l in 0..layers {
            let (n_in, n_out) = (self.widths[l], self.widths[l + 1]);
            let (done, rest) = self.activations.split_at_mut(l);
            let x = if l == 0 { input } else { &done[l - 1][..batch * n_in] };
            let y = &mut rest[0][..batch * n_out];
            gemm_into(
                threads,
                batch,
                n_out,
                n_in,
                y,
                x,
                &self.parameters[2 * l],
                true,
                T::from_f64(1.0),
            );
            let bias = &self.parameters[2 * l + 1];
            let relu = l + 1 < layers;
            for row in y.chunks_mut(n_out) {
                for (v, &b) in row.iter_mut().zip(bias) {
                    let z = *v + b;
                    *v = if relu { z.max(T::default()) } else { z };
                }
            }
        }
        &self.activations[layers - 1][..batch * self.widths[layers]]
    }

    /// Forward pass, mean softmax cross-entropy against `labels`, and backward; the
    /// gradients stay in [`Self::grads_mut`]. Returns the mean loss (accumulated in f64).
    pub fn gradients(&mut self, input: &[T], labels: &[i64], batch: usize) -> f64 {
        assert_eq!(labels.len(), batch, "one label per sample");
        self.forward(input, batch);
        let layers = self.widths.len() - 1;
        let classes = self.widths[layers];
        let scale = 1.0 / batch as f64;
        let mut loss = 0.0;
        {
            let logits = &self.activations[layers - 1][..batch * classes];
            let delta = &mut self.deltas[layers - 1][..batch * classes];
            for ((z, d), &label) in logits.chunks(classes).zip(delta.chunks_mut(classes)).zip(labels) {
                let label = usize::try_from(label).expect("label ≥ 0");
                assert!(label < classes, "label {label} out of {classes} classes");
                let max = z.iter().fold(T::from_f64(f64::NEG_INFINITY), |m, &v| m.max(v));
                let mut sum = T::default();
                for (dv, &zv) in d.iter_mut().zip(z) {
                    *dv = (zv - max).exp();
                    sum = sum + *dv;
                }
                loss += sum.to_f64().ln() + (max - z[label]).to_f64();
                let inv = T::from_f64(scale) / sum;
                for dv in d.iter_mut() {
                    *dv = *dv * inv;
                }
                d[label] = d[label] - T::from_f64(scale);
            }
        }
        let threads = rayon::current_num_threads();
        for l in (0..layers).rev() {
            let (n_in, n_out) = (self.widths[l], self.widths[l + 1]);
            let (below, here) = self.deltas.split_at_mut(l);
            let delta = &here[0][..batch * n_out];
            let transposed = &mut self.transposed[..n_out * batch];
            for (s, row) in delta.chunks(n_out).enumerate() {
                for (o, &v) in row.iter().enumerate() {
                    transposed[o * batch + s] = v;
                }
            }
            let x = if l == 0 {
                input
            } else {
                &self.activations[l - 1][..batch * n_in]
            };
            let (weight_grad, rest) = self.grads[2 * l..].split_at_mut(1);
            gemm_into(
                threads,
                n_out,
                n_in,
                batch,
                &mut weight_grad[0],
                transposed,
                x,
                false,
                T::from_f64(1.0),
            );
            for (g, column) in rest[0].iter_mut().zip(transposed.chunks(batch)) {
                *g = column.iter().fold(T::default(), |s, &v| s + v);
            }
            if l > 0 {
                let below = &mut below[l - 1][..batch * n_in];
                gemm_into(
                    threads,
                    batch,
                    n_in,
                    n_out,
                    below,
                    delta,
                    &self.parameters[2 * l],
                    false,
                    T::from_f64(1.0),
                );
                // ReLU backward: pass where the unit was active.
                for (d, &a) in below.iter_mut().zip(&self.activations[l - 1][..batch * n_in]) {
                    if a <= T::default() {
                        *d = T::default();
                    }
                }
            }
        }
        loss * scale
    }

    /// The gradients of the last [`Self::gradients`] call, in the order and shapes of the
    /// parameters (a data-parallel caller reduces these in place before the update).
    pub fn grads_mut(&mut self) -> &mut [Vec<T>] {
        &mut self.grads
    }

    /// Plain SGD: every parameter p ← p − learning_rate · grad.
    pub fn apply_sgd(&mut self, learning_rate: f64) {
        let lr = T::from_f64(learning_rate);
        for (p, g) in self.parameters.iter_mut().zip(&self.grads) {
            for (p, &g) in p.iter_mut().zip(g) {
                *p = *p - lr * g;
            }
        }
    }

    /// The current parameters.
    pub fn parameters(&self) -> &[Vec<T>] {
        &self.parameters
    }

    /// Replaces the parameters (same shapes), e.g. to reset to a seeded state.
    pub fn set_parameters(&mut self, parameters: &[Vec<T>]) {
        for (p, src) in self.parameters.iter_mut().zip(parameters) {
            p.copy_from_slice(src);
        }
    }
}

/// One SGD step of a dense-ReLU stack in f64, written independently of [`CpuMlp`]: plain
/// per-sample loops, no GEMM. Returns the mean cross-entropy loss before the step and the
/// gradients, in parameter order.
pub fn naive_gradients(parameters: &[Vec<f64>], input: &[f64], labels: &[i64]) -> (f64, Vec<Vec<f64>>) {
    let layers = parameters.len() / 2;
    let batch = labels.len();
    let inputs = input.len() / batch;
    let mut grads: Vec<Vec<f64>> = parameters.iter().map(|p| vec![0.0; p.len()]).collect();
    let mut loss = 0.0;
    for (s, &label) in labels.iter().enumerate() {
        // Forward, keeping each layer's input.
        let mut xs = vec![input[s * inputs..(s + 1) * inputs].to_vec()];
        for l in 0..layers {
            let (w, b) = (&parameters[2 * l], &parameters[2 * l + 1]);
            let x = &xs[l];
            let mut y = vec![0.0; b.len()];
            for o in 0..b.len() {
                let mut acc = b[o];
                for i in 0..x.len() {
                    acc += w[o * x.len() + i] * x[i];
                }
                y[o] = if l + 1 < layers { acc.max(0.0) } else { acc };
            }
            xs.push(y);
        }
        let z = &xs[layers];
        let max = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
        loss += sum.ln() + max - z[label as usize];
        let mut delta: Vec<f64> = z.iter().map(|v| (v - max).exp() / sum / batch as f64).collect();
        delta[label as usize] -= 1.0 / batch as f64;
        for l in (0..layers).rev() {
            let x = &xs[l];
            let w = &parameters[2 * l];
            for (o, &d) in delta.iter().enumerate() {
                for i in 0..x.len() {
                    grads[2 * l][o * x.len() + i] += d * x[i];
                }
                grads[2 * l + 1][o] += d;
            }
            if l > 0 {
                delta = (0..x.len())
                    .map(|i| {
                        if x[i] > 0.0 {
                            (0..delta.len()).map(|o| delta[o] * w[o * x.len() + i]).sum()
                        } else {
                            0.0
                        }
                    })
                    .collect();
            }
        }
    }
    (loss / batch as f64, grads)
}

/// [`naive_gradients`] followed by the SGD update: the new parameters.
pub fn naive_sgd_step(parameters: &[Vec<f64>], input: &[f64], labels: &[i64], learning_rate: f64) -> Vec<Vec<f64>> {
    let (_, grads) = naive_gradients(parameters, input, labels);
    parameters
        .iter()
        .zip(&grads)
        .map(|(p, g)| p.iter().zip(g).map(|(p, g)| p - learning_rate * g).collect())
        .collect()
}

/// Whether the CPU backend runs `bench`: the MLP (inference and training) and the spiking
/// network (inference), f32 or f64.
pub fn supports(bench: &ModelBench) -> Result<(), String> {
    match bench.architecture {
        Architecture::Mlp => Ok(()),
        Architecture::Spiking { .. } if !bench.train => Ok(()),
        Architecture::Spiking { .. } => {
            Err("the spiking network's training step (BPTT) runs on the torch backend only".into())
        }
        _ => Err(
            "the CPU backend runs model_mlp, and model_snn inference; other models run on \
                  the torch backend (build with --features torch)"
                .into(),
        ),
    }
}

/// The MLP benchmark on the CPU backend, buffers allocated here (outside timing).
pub fn prepare<'a, T: CpuReal>(pool: &'a rayon::ThreadPool, bench: &ModelBench) -> Box<dyn Prepared + 'a> {
    let host_params = bench.parameters::<T>();
    Box::new(MlpRun {
        pool,
        bench: bench.clone(),
        net: CpuMlp::new(host_params.clone(), bench.batch as usize),
        host_params,
        input: bench.input::<T>(),
        labels: bench.labels(),
    })
}

/// A prepared MLP benchmark on the CPU backend.
pub struct MlpRun<'a, T> {
    pool: &'a rayon::ThreadPool,
    bench: ModelBench,
    net: CpuMlp<T>,
    host_params: Vec<Vec<T>>,
    input: Vec<T>,
    labels: Vec<i64>,
}

impl<T: CpuReal> MlpRun<'_, T> {
    fn call(&mut self) {
        let batch = self.bench.batch as usize;
        if self.bench.train {
            self.net.gradients(&self.input, &self.labels, batch);
            self.net.apply_sgd(LEARNING_RATE);
        } else {
            self.net.forward(&self.input, batch);
        }
    }

    /// Compares one step's gradients and updated parameters with [`naive_sgd_step`]'s.
    /// Tolerances: a gradient entry is a sum over the batch of products along the longest
    /// chain of layers, bounded like the forward (16 · layers · γ(K+batch+2)) relative to
    /// the largest gradient; an updated parameter adds lr times that, plus one rounding of p.
    fn verify_step(&mut self) -> Verification {
        let batch = self.bench.batch as usize;
        let wide: Vec<Vec<f64>> = self
            .host_params
            .iter()
            .map(|p| p.iter().map(|v| v.to_f64()).collect())
            .collect();
        let wide_input: Vec<f64> = self.input.iter().map(|v| v.to_f64()).collect();
        let (loss_ref, grads_ref) = naive_gradients(&wide, &wide_input, &self.labels);
        let pool = self.pool;
        let net = &mut self.net;
        let (input, labels) = (&self.input, &self.labels);
        let loss = pool.install(|| net.gradients(input, labels, batch));
        let u = T::DTYPE.unit_roundoff();
        let longest = self.bench.architecture.input_len() + batch as u64;
        let layers = (wide.len() / 2) as f64;
        let grad_scale = grads_ref
            .iter()
            .flatten()
            .fold(f64::MIN_POSITIVE, |m, v| m.max(v.abs()));
        let grad_tol = 16.0 * layers * gamma(longest + 2, u) * grad_scale;
        let mut grads = Checker::new(format!(
            "gradients against an independent f64 per-sample backward (tolerance {grad_tol:.2e})"
        ));
        for (t, (g, r)) in self.net.grads_mut().iter().zip(&grads_ref).enumerate() {
            for (i, (g, r)) in g.iter().zip(r).enumerate() {
                grads.check(&format_args!("tensor {t} element {i}"), g.to_f64(), *r, grad_tol);
            }
        }
        let grads = grads.finish();
        if !grads.passed {
            return grads;
        }
        self.net.apply_sgd(LEARNING_RATE);
        let expected = naive_sgd_step(&wide, &wide_input, &self.labels, LEARNING_RATE);
        let mut step = Checker::new(format!(
            "parameters after one SGD step (lr {LEARNING_RATE}) against the f64 step"
        ));
        for (t, (p, e)) in self.net.parameters().iter().zip(&expected).enumerate() {
            for (i, (p, e)) in p.iter().zip(e).enumerate() {
                let tol = LEARNING_RATE * grad_tol + 2.0 * u * e.abs();
                step.check(&format_args!("tensor {t} element {i}"), p.to_f64(), *e, tol);
            }
        }
        let mut step = step.finish();
        if !step.passed {
            return step;
        }
        let after = {
            let new: Vec<Vec<f64>> = self
                .net
                .parameters()
                .iter()
                .map(|p| p.iter().map(|v| v.to_f64()).collect())
                .collect();
            naive_gradients(&new, &wide_input, &self.labels).0
        };
        if after >= loss_ref {
            return Verification::failed(format!(
                "one SGD step did not lower the batch's loss: {loss_ref} -> {after}"
            ));
        }
        step.detail = format!(
            "{}; {} gradients within {:.2e} of the f64 backward; loss {loss:.6} (f64 reference {loss_ref:.6}) -> {after:.6} after the step",
            step.detail, grads.checked, grads.max_abs_error
        );
        step.checked += grads.checked;
        step.max_error_ratio = step.max_error_ratio.max(grads.max_error_ratio);
        step
    }
}

impl<T: CpuReal> Prepared for MlpRun<'_, T> {
    fn verify(&mut self) -> Verification {
        self.net.set_parameters(&self.host_params);
        let batch = self.bench.batch as usize;
        let pool = self.pool;
        let net = &mut self.net;
        let input = &self.input;
        let output = pool.install(|| net.forward(input, batch).to_vec());
        let mut v = self.bench.verify(&self.host_params, &self.input, &output);
        if self.bench.train && v.passed {
            let step = self.verify_step();
            self.net.set_parameters(&self.host_params);
            if !step.passed {
                return step;
            }
            v.detail = format!("{}; {}", v.detail, step.detail);
            v.checked += step.checked;
            v.max_error_ratio = v.max_error_ratio.max(step.max_error_ratio);
        }
        v
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let pool = self.pool;
        pool.install(|| {
            let start = Instant::now();
            for _ in 0..iters {
                self.call();
            }
            Batch {
                elapsed: Seconds::from_duration(start.elapsed()),
                events: 0,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (Vec<Vec<f64>>, Vec<f64>, Vec<i64>) {
        // 5-4-3-3 with seeded values; batch 4.
        let shapes = [(4, 5), (3, 4), (3, 3)];
        let mut params = Vec::new();
        for (i, &(o, n)) in shapes.iter().enumerate() {
            params.push(crate::kernels::inputs::uniform_vec(o * n, 7 + i as u64, -0.8, 0.8));
            params.push(crate::kernels::inputs::uniform_vec(o, 17 + i as u64, -0.3, 0.3));
        }
        let input = crate::kernels::inputs::uniform_vec(4 * 5, 99, -1.0, 1.0);
        (params, input, vec![0, 2, 1, 2])
    }

    fn loss_at(params: &[Vec<f64>], input: &[f64], labels: &[i64]) -> f64 {
        naive_gradients(params, input, labels).0
    }

    #[test]
    fn naive_gradients_match_finite_differences() {
        let (params, input, labels) = tiny();
        let (_, grads) = naive_gradients(&params, &input, &labels);
        let h = 1e-6;
        let mut checked = 0;
        for t in 0..params.len() {
            for i in 0..params[t].len() {
                let mut plus = params.clone();
                plus[t][i] += h;
                let mut minus = params.clone();
                minus[t][i] -= h;
                let numeric = (loss_at(&plus, &input, &labels) - loss_at(&minus, &input, &labels)) / (2.0 * h);
                assert!(
                    (numeric - grads[t][i]).abs() < 1e-7,
                    "tensor {t} element {i}: {numeric} vs {}",
                    grads[t][i]
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 20 + 4 + 12 + 3 + 9 + 3);
    }

    #[test]
    fn cpu_mlp_gradients_match_the_naive_backward() {
        let (params, input, labels) = tiny();
        let (loss_ref, grads_ref) = naive_gradients(&params, &input, &labels);
        let mut net = CpuMlp::<f64>::new(params.clone(), 8);
        let loss = net.gradients(&input, &labels, 4);
        assert!((loss - loss_ref).abs() < 1e-12, "{loss} vs {loss_ref}");
        for (g, r) in net.grads_mut().iter().zip(&grads_ref) {
            for (a, b) in g.iter().zip(r) {
                assert!((a - b).abs() < 1e-12, "{a} vs {b}");
            }
        }
        // And the f32 network, to f32 accuracy.
        let narrow: Vec<Vec<f32>> = params.iter().map(|p| p.iter().map(|&v| v as f32).collect()).collect();
        let narrow_input: Vec<f32> = input.iter().map(|&v| v as f32).collect();
        let mut net32 = CpuMlp::<f32>::new(narrow, 4);
        let loss32 = net32.gradients(&narrow_input, &labels, 4);
        assert!((loss32 - loss_ref).abs() < 1e-5, "{loss32} vs {loss_ref}");
        for (g, r) in net32.grads_mut().iter().zip(&grads_ref) {
            for (a, b) in g.iter().zip(r) {
                assert!((f64::from(*a) - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn sgd_step_matches_the_naive_step_and_lowers_the_loss() {
        let (params, input, labels) = tiny();
        let mut net = CpuMlp::<f64>::new(params.clone(), 4);
        let before = net.gradients(&input, &labels, 4);
        net.apply_sgd(0.5);
        let expected = naive_sgd_step(&params, &input, &labels, 0.5);
        for (p, e) in net.parameters().iter().zip(&expected) {
            for (a, b) in p.iter().zip(e) {
                assert!((a - b).abs() < 1e-12);
            }
        }
        let after = net.gradients(&input, &labels, 4);
        assert!(after < before, "{before} -> {after}");
    }

    #[test]
    fn forward_of_the_mlp_verifies_against_the_model_reference() {
        let bench = ModelBench {
            architecture: Architecture::Mlp,
            batch: 3,
            train: false,
        };
        let params = bench.parameters::<f32>();
        let input = bench.input::<f32>();
        let mut net = CpuMlp::new(params.clone(), 3);
        let output = net.forward(&input, 3).to_vec();
        assert_eq!(output.len(), 30);
        let v = bench.verify(&params, &input, &output);
        assert!(v.passed, "{}", v.detail);
        // A smaller batch reuses the buffers and gives the same first rows, up to rounding:
        // the GEMM may block a 1-row product differently from a 3-row one (it does on AVX2
        // cores such as AMD Zen 3), which reorders the sums.
        let first = net.forward(&input[..784], 1).to_vec();
        assert_eq!(first.len(), 10);
        for (a, b) in first.iter().zip(&output[..10]) {
            assert!(
                (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                "{first:?} vs {:?}",
                &output[..10]
            );
        }
    }

    #[test]
    fn the_backend_benchmark_verifies_a_training_step() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let bench = ModelBench {
            architecture: Architecture::Mlp,
            batch: 8,
            train: true,
        };
        let mut run = prepare::<f32>(&pool, &bench);
        let v = run.verify();
        assert!(v.passed, "{}", v.detail);
        assert!(v.detail.contains("SGD step"), "{}", v.detail);
        assert!(run.run_batch(2).elapsed.0 > 0.0);
    }
}
