//! The model benchmarks on libtorch: the layers of [`crate::models::Architecture`] as libtorch ops
//! (`linear`, `conv2d`, `avg_pool2d`, `layer_norm`, batched `matmul`, `softmax`), inference
//! under `no_grad`, and a training step of forward, loss, `backward` and a plain SGD update.
//!
//! The spiking network's LIF layers apply `linear` to all time steps at once and then run
//! the recurrence step by step; the spike is a Heaviside step whose gradient is the
//! fast-sigmoid surrogate, written as H(x) + (f(x) − f(x).detach()) with
//! f(x) = x / (1 + k·|x|), so the forward value is exactly H(x) and the gradient is
//! f'(x) = 1/(1 + k·|x|)² (the reset uses the detached spike, as snnTorch does by default).
//! Synaptic events are summed on the device and read once per timed batch.
//!
//! Verification: the forward pass of the seeded batch is compared with the f64 reference of
//! [`crate::models::ModelBench::verify`]; a training step is verified by the same forward check at
//! the step's starting parameters, and by the loss on the same batch falling after one step
//! (backward and update are not compared value by value). The detail also reports the
//! process's peak RSS (VmHWM, reset before preparing) on the CPU.

use crate::kernels::{Dtype, Verification};
use crate::models::{
    Architecture, Layer, Loss, ModelBench, Nonlinearity, LEARNING_RATE, LIF_DECAY, LIF_THRESHOLD, SURROGATE_SLOPE,
};
use crate::torch::{to_host, Ctx, TorchReal};
use crate::{Batch, Prepared};
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
    let rss_reset = crate::machine::reset_peak_rss();
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
        Architecture::TransformerBlock { seq_len } | Architecture::TransformerStack { seq_len, .. } => {
            vec![b, seq_len as i64, 768]
        }
        Architecture::Spiking { steps, .. } => vec![b, steps as i64, 784],
        Architecture::AlexNet { input } => vec![b, 3, input as i64, input as i64],
        Architecture::LstmLm { seq_len, .. } => vec![b, seq_len as i64],
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

/// Heaviside spike at x ≥ 0 with the fast-sigmoid surrogate gradient where x needs one.
fn spike(x: &Tensor) -> Tensor {
    let step = x.ge(0.0).to_kind(x.kind());
    if !x.requires_grad() {
        return step;
    }
    let smooth = x / (x.abs() * SURROGATE_SLOPE + 1.0);
    step + (&smooth - smooth.detach())
}

/// A LIF layer over all steps of `x` (batch × steps × inputs); returns batch × steps × outputs.
fn lif_dense(x: &Tensor, weight: &Tensor, bias: &Tensor, steps: i64, spiking: bool) -> Tensor {
    let currents = x.linear(weight, Some(bias));
    let mut v = currents.select(1, 0).zeros_like();
    let mut out = Vec::with_capacity(steps as usize);
    for t in 0..steps {
        v = v * LIF_DECAY + currents.select(1, t);
        if spiking {
            let s = spike(&(&v - LIF_THRESHOLD));
            v = &v - &v * s.detach();
            out.push(s);
        } else {
            out.push(v.shallow_clone());
        }
    }
    Tensor::stack(&out, 1)
}

/// An LSTM layer over `x` (batch × steps × inputs) from zero state; gates i, f, g, o.
fn lstm(p: &[Tensor], x: &Tensor, hidden: i64, steps: i64) -> Tensor {
    let from_input = x.linear(&p[0], Some(&p[2]));
    let mut h = from_input.select(1, 0).narrow(1, 0, hidden).zeros_like();
    let mut c = h.zeros_like();
    let mut out = Vec::with_capacity(steps as usize);
    for t in 0..steps {
        let gates = from_input.select(1, t) + h.linear::<Tensor>(&p[1], None);
        let gate = |i: i64| gates.narrow(1, i * hidden, hidden);
        let (i, f, g, o) = (gate(0).sigmoid(), gate(1).sigmoid(), gate(2).tanh(), gate(3).sigmoid());
        c = f * &c + i * g;
        h = o * c.tanh();
        out.push(h.shallow_clone());
    }
    Tensor::stack(&out, 1)
}

impl<T: TorchReal> ModelRun<T> {
    fn forward(&self) -> Tensor {
        self.forward_counting(None)
    }

    /// The forward pass; where `events` is given, adds the synaptic events (spikes into
    /// each LIF layer × its outputs) to it, on the device.
    fn forward_counting(&self, mut events: Option<&mut Tensor>) -> Tensor {
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
                Layer::Conv { stride, padding, .. } => {
                    let (s, p) = (stride as i64, padding as i64);
                    let y = x.conv2d(
                        &self.params[next],
                        Some(&self.params[next + 1]),
                        [s, s],
                        [p, p],
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
                Layer::MaxPool { window, stride, .. } => {
                    let (w, s) = (window as i64, stride as i64);
                    x.max_pool2d([w, w], [s, s], [0, 0], [1, 1], false)
                }
                Layer::Act { kind, .. } => activate(&x, kind),
                Layer::TransformerBlock { heads, .. } => {
                    let y = transformer_block(&self.params[next..next + 12], &x, heads as i64);
                    next += 12;
                    y
                }
                Layer::LifDense {
                    outputs,
                    steps,
                    spiking,
                    ..
                } => {
                    if let Some(total) = events.as_deref_mut() {
                        let delivered = x.detach().sum(Kind::Double) * outputs as f64;
                        *total += delivered;
                    }
                    let y = lif_dense(&x, &self.params[next], &self.params[next + 1], steps as i64, spiking);
                    next += 2;
                    y
                }
                Layer::TimeMean { .. } => x.mean_dim(1, false, None::<Kind>),
                Layer::Embedding { .. } => {
                    let y = Tensor::embedding(&self.params[next], &x.to_kind(Kind::Int64), -1, false, false);
                    next += 1;
                    y
                }
                Layer::Lstm { hidden, seq_len, .. } => {
                    let y = lstm(&self.params[next..next + 3], &x, hidden as i64, seq_len as i64);
                    next += 3;
                    y
                }
                Layer::TokenDense { .. } => {
                    let y = x.linear(&self.params[next], Some(&self.params[next + 1]));
                    next += 2;
                    y
                }
            };
        }
        x
    }

    fn loss(&self, output: &Tensor) -> Tensor {
        match self.bench.architecture.loss() {
            Loss::CrossEntropy => output
                .view([-1, self.bench.architecture.classes() as i64])
                .cross_entropy_for_logits(&self.labels),
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

    fn call(&mut self, events: Option<&mut Tensor>) {
        if self.bench.train {
            let _ = self.train_step();
        } else {
            let _guard = tch::no_grad_guard();
            let _ = self.forward_counting(events);
        }
    }

    fn is_spiking(&self) -> bool {
        matches!(self.bench.architecture, Architecture::Spiking { .. })
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
        if let Device::Cuda(index) = self.ctx.device {
            // tch exposes no allocator statistics; libtorch's caching allocator keeps the blocks
            // it reserved, so what the process holds after the run is its peak reservation so
            // far (this and earlier benchmarks of the run, CUDA context included).
            return match crate::gpu::process_memory_bytes(index, std::process::id()) {
                Ok(bytes) => format!(
                    "device memory held by the process after the run {:.1} MiB (NVML; the caching allocator's peak reservation so far, CUDA context included)",
                    bytes as f64 / (1u64 << 20) as f64
                ),
                Err(why) => format!("peak device memory unavailable: {why}"),
            };
        }
        match crate::machine::peak_rss_bytes() {
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
        let mut events = Tensor::zeros([], (Kind::Double, self.ctx.device));
        let output = {
            let _guard = tch::no_grad_guard();
            self.forward_counting(Some(&mut events))
        };
        let mut v = self
            .bench
            .verify(&self.host_params, &self.host_input, &to_host::<T>(&output.view([-1])));
        if self.is_spiking() && v.passed {
            let got = events.double_value(&[]) as u64;
            let expected = self.bench.reference_events(&self.host_params, &self.host_input);
            if got != expected {
                return Verification::failed(format!(
                    "{}; but {got} synaptic events, the reference delivers {expected}",
                    v.detail
                ));
            }
            v.detail = format!("{}; {got} synaptic events, as the reference", v.detail);
        }
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
        let count = self.is_spiking() && !self.bench.train;
        let mut events = Tensor::zeros([], (Kind::Double, ctx.device));
        let start = std::time::Instant::now();
        for _ in 0..iters {
            self.call(count.then_some(&mut events));
        }
        ctx.sync();
        let elapsed = crate::units::Seconds::from_duration(start.elapsed());
        Batch {
            elapsed,
            events: if count { events.double_value(&[]) as u64 } else { 0 },
        }
    }
}
