//! The model benchmarks on libtorch: the layers of [`super::Architecture`] as libtorch ops
//! (`linear`, `conv2d`, `avg_pool2d`, `layer_norm`, batched `matmul`, `softmax`), inference
//! under `no_grad`, and a training step of forward, loss, `backward` and a plain SGD update.
//!
//! Verification: the forward pass of the seeded batch is compared with the f64 reference of
//! [`super::ModelBench::verify`]; a training step is verified by the same forward check at
//! the step's starting parameters, and by the loss on the same batch falling after one step
//! (backward and update are not compared value by value). The detail also reports the
//! process's peak RSS (VmHWM, reset before preparing) on the CPU.

use super::{Architecture, Layer, Loss, ModelBench, Nonlinearity, LEARNING_RATE};
use crate::backends::torch::{to_host, Ctx, TorchReal};
use crate::backends::{Batch, Prepared};
use crate::kernels::{Dtype, Verification};
use tch::{Device, Kind, Reduction, Tensor};

/// Whether libtorch runs `bench` in `dtype`.
pub fn supports(_bench: &ModelBench, dtype: Dtype) -> Result<(), String> {
    match dtype {
        Dtype::F32 | Dtype::F64 => Ok(()),
        _ => Err("model references are f32/f64 only".into()),
    }
}

/// Allocates the parameters and the batch on the device.
pub fn prepare<'a, T: TorchReal>(ctx: Ctx, bench: &ModelBench) -> Box<dyn Prepared + 'a> {
    let rss_reset = super::reset_peak_rss();
    let host_params = bench.parameters::<T>();
    let host_input = bench.input::<T>();
    let shapes = bench.parameter_shapes();
    let params: Vec<Tensor> = host_params
        .iter()
        .zip(&shapes)
        .map(|(p, s)| {
            let shape: Vec<i64> = s.iter().map(|&v| v as i64).collect();
            ctx.tensor(p, &shape).set_requires_grad(bench.train)
        })
        .collect();
    let b = bench.batch as i64;
    let input_shape: Vec<i64> = match bench.architecture {
        Architecture::Mlp => vec![b, 784],
        Architecture::Lenet5 => vec![b, 1, 32, 32],
        Architecture::TransformerBlock { seq_len } => vec![b, seq_len as i64, 768],
    };
    let input = ctx.tensor(&host_input, &input_shape);
    let labels = Tensor::from_slice(&bench.labels()).to_device(ctx.device);
    let target = ctx.tensor(&bench.target::<T>(), &[b, bench.architecture.output_len() as i64]);
    Box::new(ModelRun::<T> {
        ctx,
        bench: bench.clone(),
        host_params,
        host_input,
        params,
        input,
        labels,
        target,
        rss_reset,
    })
}

struct ModelRun<T> {
    ctx: Ctx,
    bench: ModelBench,
    host_params: Vec<Vec<T>>,
    host_input: Vec<T>,
    params: Vec<Tensor>,
    input: Tensor,
    labels: Tensor,
    target: Tensor,
    rss_reset: bool,
}

fn activate(x: &Tensor, kind: Nonlinearity) -> Tensor {
    match kind {
        Nonlinearity::Relu => x.relu(),
        Nonlinearity::Tanh => x.tanh(),
        Nonlinearity::Gelu => x.gelu("tanh"),
    }
}

fn transformer_block(p: &[Tensor], x: &Tensor, heads: i64) -> Tensor {
    let (b, n, d) = x.size3().expect("batch × tokens × width");
    let dh = d / heads;
    let h = x.layer_norm([d], Some(&p[0]), Some(&p[1]), 1e-5, true);
    let qkv = h.linear(&p[2], Some(&p[3]));
    let split = |i: i64| qkv.narrow(2, i * d, d).view([b, n, heads, dh]).transpose(1, 2);
    let (q, k, v) = (split(0), split(1), split(2));
    let scores = q.matmul(&k.transpose(2, 3)) * (1.0 / (dh as f64).sqrt());
    let probs = scores.softmax(-1, None::<Kind>);
    let attended = probs.matmul(&v).transpose(1, 2).contiguous().view([b, n, d]);
    let x1 = x + attended.linear(&p[4], Some(&p[5]));
    let h2 = x1.layer_norm([d], Some(&p[6]), Some(&p[7]), 1e-5, true);
    let hidden = h2.linear(&p[8], Some(&p[9])).gelu("tanh");
    &x1 + hidden.linear(&p[10], Some(&p[11]))
}

impl<T: TorchReal> ModelRun<T> {
    fn forward(&self) -> Tensor {
        let mut x = self.input.shallow_clone();
        let mut next = 0;
        for layer in self.bench.architecture.layers() {
            x = match layer {
                Layer::Dense { inputs, .. } => {
                    let flat = if x.dim() > 2 { x.view([-1, inputs as i64]) } else { x };
                    let y = flat.linear(&self.params[next], Some(&self.params[next + 1]));
                    next += 2;
                    y
                }
                Layer::Conv { .. } => {
                    let y = x.conv2d(
                        &self.params[next],
                        Some(&self.params[next + 1]),
                        [1, 1],
                        [0, 0],
                        [1, 1],
                        1,
                    );
                    next += 2;
                    y
                }
                Layer::AvgPool { window, .. } => {
                    let w = window as i64;
                    x.avg_pool2d([w, w], [w, w], [0, 0], false, true, None::<i64>)
                }
                Layer::Act { kind, .. } => activate(&x, kind),
                Layer::TransformerBlock { heads, .. } => {
                    let y = transformer_block(&self.params[next..next + 12], &x, heads as i64);
                    next += 12;
                    y
                }
            };
        }
        x
    }

    fn loss(&self, output: &Tensor) -> Tensor {
        match self.bench.architecture.loss() {
            Loss::CrossEntropy => output.cross_entropy_for_logits(&self.labels),
            Loss::MeanSquared => output
                .view([self.bench.batch as i64, -1])
                .mse_loss(&self.target, Reduction::Mean),
        }
    }

    fn train_step(&mut self) -> Tensor {
        for p in self.params.iter_mut() {
            p.zero_grad();
        }
        let output = self.forward();
        let loss = self.loss(&output);
        loss.backward();
        tch::no_grad(|| {
            for p in self.params.iter_mut() {
                let grad = p.grad();
                let _ = p.f_add_(&(grad * -LEARNING_RATE));
            }
        });
        loss
    }

    fn call(&mut self) {
        if self.bench.train {
            let _ = self.train_step();
        } else {
            let _guard = tch::no_grad_guard();
            let _ = self.forward();
        }
    }

    fn reset_parameters(&mut self) {
        tch::no_grad(|| {
            for (p, host) in self.params.iter_mut().zip(&self.host_params) {
                let src = Tensor::from_slice(host)
                    .view(p.size().as_slice())
                    .to_device(self.ctx.device);
                p.copy_(&src);
            }
        });
    }

    fn memory_note(&self) -> String {
        if self.ctx.device != Device::Cpu {
            return "peak device memory not read (tch exposes no allocator statistics)".into();
        }
        match super::peak_rss_bytes() {
            Some(bytes) => format!(
                "peak RSS {:.1} MiB ({})",
                bytes as f64 / (1u64 << 20) as f64,
                if self.rss_reset {
                    "process VmHWM since prepare"
                } else {
                    "process VmHWM since start; could not reset"
                }
            ),
            None => "peak RSS unavailable (no /proc/self/status)".into(),
        }
    }
}

impl<T: TorchReal> Prepared for ModelRun<T> {
    fn verify(&mut self) -> Verification {
        self.reset_parameters();
        let output = {
            let _guard = tch::no_grad_guard();
            self.forward()
        };
        let mut v = self
            .bench
            .verify(&self.host_params, &self.host_input, &to_host::<T>(&output.view([-1])));
        if self.bench.train && v.passed {
            let before = self.train_step().double_value(&[]);
            let after = {
                let _guard = tch::no_grad_guard();
                self.loss(&self.forward()).double_value(&[])
            };
            if after.partial_cmp(&before) != Some(std::cmp::Ordering::Less) {
                v = Verification::failed(format!(
                    "{}; but one SGD step (lr {LEARNING_RATE}) did not lower the loss on the same batch: {before} -> {after}",
                    v.detail
                ));
                return v;
            }
            v.detail = format!(
                "{}; one SGD step (lr {LEARNING_RATE}) lowered the batch's loss {before:.6} -> {after:.6} (backward not compared value by value)",
                v.detail
            );
            self.reset_parameters();
        }
        v.detail = format!("{}; {}", v.detail, self.memory_note());
        v
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        ctx.sync();
        let start = std::time::Instant::now();
        for _ in 0..iters {
            self.call();
        }
        ctx.sync();
        Batch {
            elapsed: crate::units::Seconds::from_duration(start.elapsed()),
            events: 0,
        }
    }
}
