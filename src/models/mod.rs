//! End-to-end model benchmarks: the networks whose history braingap plots, as layer lists
//! with analytic counts, seeded parameters and a naive f64 reference forward pass.
//!
//! Counting (METHODS.md), per sample, layer by layer from the shapes:
//! * **Forward.** Dense `in→out`: 2·in·out + out (bias). Convolution: 2·K·P·Q·C·R·S + K·P·Q.
//!   Average pool (w×w, stride w): w² per output (w²−1 adds, one scaling multiply).
//!   Activations: ReLU 1, tanh 1, GELU 9 per unit (the `activation` kernel's convention).
//!   Transformer block: see [`Layer::TransformerBlock`].
//! * **Training step** = forward + loss + backward + SGD update, each counted, never
//!   "3 × forward": dense and convolution backward are two products of the forward's size
//!   (input gradient and weight gradient) plus the bias gradient; the first layer computes no
//!   input gradient (its input needs none, and libtorch skips it). ReLU backward 1, tanh
//!   backward 3 (dy·(1−y²)), GELU backward 19, pooling backward 1 per input element.
//!   Cross-entropy loss over c logits: forward 5·c + 2, backward 3·c; mean-squared error over
//!   e outputs: forward 3·e, backward 2·e. SGD without momentum: 2 FLOP per parameter.
//! * **Parameters** = trainable weights and biases. **Units (neurons)** = hidden and output
//!   units, one per feature-map position for convolutions and pools (AlexNet's way of counting
//!   its 650,000 neurons); the input is not counted. **Connections** = weights into units,
//!   summed over units (a shared convolution weight counts once per position it feeds;
//!   biases are not connections), so connections per neuron = connections / units.
//! * **Bytes** (compulsory): parameters read once, the batch's input read and its output
//!   written; a training step also writes the parameters back (activations that a framework
//!   keeps between forward and backward are temporaries and are not counted).

pub mod cpu_mlp;
#[cfg(feature = "torch")]
pub mod torch;

use crate::kernels::inputs;
use crate::kernels::verify::{gamma, Checker, Verification};
use crate::kernels::{ParamValue, Params, Real};
use crate::units::{Bytes, Flops};

/// An elementwise nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nonlinearity {
    /// max(x, 0).
    Relu,
    /// Hyperbolic tangent (LeNet-5).
    Tanh,
    /// GELU, tanh form.
    Gelu,
}

impl Nonlinearity {
    fn forward_flops(self) -> f64 {
        match self {
            Nonlinearity::Relu | Nonlinearity::Tanh => 1.0,
            Nonlinearity::Gelu => 9.0,
        }
    }

    fn backward_flops(self) -> f64 {
        match self {
            Nonlinearity::Relu => 1.0,
            Nonlinearity::Tanh => 3.0,
            Nonlinearity::Gelu => 19.0,
        }
    }

    /// Applies the nonlinearity in f64.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Nonlinearity::Relu => x.max(0.0),
            Nonlinearity::Tanh => x.tanh(),
            Nonlinearity::Gelu => crate::kernels::ActivationOp::Gelu.apply(x),
        }
    }
}

/// One layer, with the shapes of one sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// y = W·x + b, W stored out×in (libtorch's `linear`).
    Dense {
        /// Input features.
        inputs: u64,
        /// Output features.
        outputs: u64,
    },
    /// Square convolution with bias, NCHW, weights K×C×R×R.
    Conv {
        /// Input channels C.
        in_channels: u64,
        /// Output channels K.
        out_channels: u64,
        /// Kernel side R.
        kernel: u64,
        /// Input side H = W.
        in_size: u64,
    },
    /// Non-overlapping w×w average pooling.
    AvgPool {
        /// Channels.
        channels: u64,
        /// Input side.
        in_size: u64,
        /// Window side w (= stride).
        window: u64,
    },
    /// Elementwise nonlinearity over `units` values.
    Act {
        /// Values per sample.
        units: u64,
        /// Which.
        kind: Nonlinearity,
    },
    /// Pre-norm transformer encoder block on `seq_len` tokens of width `width`:
    /// x + Attn(LN(x)), then + MLP(LN(·)) with a 4·width GELU hidden layer.
    ///
    /// Forward FLOP per sequence (n tokens, d width, h heads): QKV 6·n·d² + 3·n·d, scores
    /// 2·n²·d, scale and softmax 6·n²·h (the `attention` kernel's 6 per score), weighted sum
    /// 2·n²·d, output projection 2·n·d² + n·d, MLP 16·n·d² + 5·n·d (biases), GELU 36·n·d,
    /// two layer norms 2·8·n·d, two residual adds 2·n·d: the standard 24·n·d² + 4·n²·d plus
    /// 63·n·d + 6·n²·h. Backward: every product twice (4 products of attention, input and
    /// weight gradients of the four projections), softmax 5 per score, layer norm 12·d per
    /// token, GELU 19 per unit, biases 1 per output, residual gradient adds n·d each.
    TransformerBlock {
        /// Tokens n.
        seq_len: u64,
        /// Model width d.
        width: u64,
        /// Heads h.
        heads: u64,
    },
}

impl Layer {
    /// Values this layer outputs per sample.
    pub fn output_len(&self) -> u64 {
        match *self {
            Layer::Dense { outputs, .. } => outputs,
            Layer::Conv {
                out_channels,
                kernel,
                in_size,
                ..
            } => out_channels * (in_size - kernel + 1).pow(2),
            Layer::AvgPool {
                channels,
                in_size,
                window,
            } => channels * (in_size / window).pow(2),
            Layer::Act { units, .. } => units,
            Layer::TransformerBlock { seq_len, width, .. } => seq_len * width,
        }
    }

    /// Values this layer reads per sample.
    pub fn input_len(&self) -> u64 {
        match *self {
            Layer::Dense { inputs, .. } => inputs,
            Layer::Conv {
                in_channels, in_size, ..
            } => in_channels * in_size * in_size,
            Layer::AvgPool { channels, in_size, .. } => channels * in_size * in_size,
            Layer::Act { units, .. } => units,
            Layer::TransformerBlock { seq_len, width, .. } => seq_len * width,
        }
    }

    /// Trainable weights and biases.
    pub fn parameters(&self) -> u64 {
        match *self {
            Layer::Dense { inputs, outputs } => inputs * outputs + outputs,
            Layer::Conv {
                in_channels,
                out_channels,
                kernel,
                ..
            } => out_channels * in_channels * kernel * kernel + out_channels,
            Layer::AvgPool { .. } | Layer::Act { .. } => 0,
            Layer::TransformerBlock { width: d, .. } => 12 * d * d + 13 * d,
        }
    }

    /// Units (neurons) this layer adds: its outputs, except activations, which act in place
    /// on the units of the layer before them.
    pub fn units(&self) -> u64 {
        match self {
            Layer::Act { .. } => 0,
            // Per token: the attention output, the MLP hidden layer and the block output.
            Layer::TransformerBlock { seq_len, width, .. } => seq_len * 6 * width,
            _ => self.output_len(),
        }
    }

    /// Weights into units, summed over units.
    pub fn connections(&self) -> u64 {
        match *self {
            Layer::Dense { inputs, outputs } => inputs * outputs,
            Layer::Conv {
                in_channels, kernel, ..
            } => self.output_len() * in_channels * kernel * kernel,
            Layer::AvgPool { window, .. } => self.output_len() * window * window,
            Layer::Act { .. } => 0,
            // Per token: QKV 3d·d, output d·d, MLP 4d·d + d·4d.
            Layer::TransformerBlock { seq_len, width: d, .. } => seq_len * 12 * d * d,
        }
    }

    /// Forward FLOP per sample.
    pub fn forward_flops(&self) -> f64 {
        match *self {
            Layer::Dense { inputs, outputs } => (2 * inputs * outputs + outputs) as f64,
            Layer::Conv {
                in_channels, kernel, ..
            } => {
                let out = self.output_len() as f64;
                out * (2 * in_channels * kernel * kernel) as f64 + out
            }
            Layer::AvgPool { window, .. } => (self.output_len() * window * window) as f64,
            Layer::Act { units, kind } => units as f64 * kind.forward_flops(),
            Layer::TransformerBlock {
                seq_len: n,
                width: d,
                heads: h,
            } => {
                let (n, d, h) = (n as f64, d as f64, h as f64);
                24.0 * n * d * d + 4.0 * n * n * d + 63.0 * n * d + 6.0 * n * n * h
            }
        }
    }

    /// Backward FLOP per sample; `needs_input_grad` is false for the first layer.
    pub fn backward_flops(&self, needs_input_grad: bool) -> f64 {
        let input_grad = if needs_input_grad { 1.0 } else { 0.0 };
        match *self {
            Layer::Dense { inputs, outputs } => {
                let product = (2 * inputs * outputs) as f64;
                product * (1.0 + input_grad) + outputs as f64
            }
            Layer::Conv {
                in_channels, kernel, ..
            } => {
                let out = self.output_len() as f64;
                let product = out * (2 * in_channels * kernel * kernel) as f64;
                product * (1.0 + input_grad) + out
            }
            Layer::AvgPool { .. } => self.input_len() as f64 * input_grad,
            Layer::Act { units, kind } => units as f64 * kind.backward_flops() * input_grad,
            Layer::TransformerBlock {
                seq_len: n,
                width: d,
                heads: h,
            } => {
                let (n, d, h) = (n as f64, d as f64, h as f64);
                // Projections: weight gradients always, input gradients (same size) always
                // inside the block; attention's four products; softmax and scale 5 per
                // score; biases (3d + d + 4d + d per token); layer norms 12·d per token each;
                // GELU 19 per hidden unit; residual gradient adds 2·n·d.
                2.0 * 24.0 * n * d * d
                    + 8.0 * n * n * d
                    + 5.0 * n * n * h
                    + 9.0 * n * d
                    + 2.0 * 12.0 * n * d
                    + 19.0 * 4.0 * n * d
                    + 2.0 * n * d
            }
        }
    }
}

/// The loss a training step minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Softmax cross-entropy over the logits, against seeded class labels.
    CrossEntropy,
    /// Mean squared error against a seeded target.
    MeanSquared,
}

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// 784-300-100-10 multilayer perceptron with ReLU (LeCun et al. 1998's MNIST MLP shape).
    Mlp,
    /// LeNet-5 as commonly implemented: 32×32 input, tanh, average pooling without trainable
    /// coefficients, full C3 connectivity, dense C5; 61,706 parameters.
    Lenet5,
    /// One GPT-2-small-shaped encoder block (d = 768, 12 heads) on `seq_len` tokens.
    TransformerBlock {
        /// Tokens per sequence.
        seq_len: u64,
    },
}

impl Architecture {
    /// Registry kernel name.
    pub fn kernel_name(self) -> &'static str {
        match self {
            Architecture::Mlp => "model_mlp",
            Architecture::Lenet5 => "model_lenet5",
            Architecture::TransformerBlock { .. } => "model_transformer_block",
        }
    }

    /// The layers, in order.
    pub fn layers(self) -> Vec<Layer> {
        match self {
            Architecture::Mlp => vec![
                Layer::Dense {
                    inputs: 784,
                    outputs: 300,
                },
                Layer::Act {
                    units: 300,
                    kind: Nonlinearity::Relu,
                },
                Layer::Dense {
                    inputs: 300,
                    outputs: 100,
                },
                Layer::Act {
                    units: 100,
                    kind: Nonlinearity::Relu,
                },
                Layer::Dense {
                    inputs: 100,
                    outputs: 10,
                },
            ],
            Architecture::Lenet5 => {
                let tanh = |units| Layer::Act {
                    units,
                    kind: Nonlinearity::Tanh,
                };
                vec![
                    Layer::Conv {
                        in_channels: 1,
                        out_channels: 6,
                        kernel: 5,
                        in_size: 32,
                    },
                    tanh(6 * 28 * 28),
                    Layer::AvgPool {
                        channels: 6,
                        in_size: 28,
                        window: 2,
                    },
                    Layer::Conv {
                        in_channels: 6,
                        out_channels: 16,
                        kernel: 5,
                        in_size: 14,
                    },
                    tanh(16 * 10 * 10),
                    Layer::AvgPool {
                        channels: 16,
                        in_size: 10,
                        window: 2,
                    },
                    Layer::Dense {
                        inputs: 400,
                        outputs: 120,
                    },
                    tanh(120),
                    Layer::Dense {
                        inputs: 120,
                        outputs: 84,
                    },
                    tanh(84),
                    Layer::Dense {
                        inputs: 84,
                        outputs: 10,
                    },
                ]
            }
            Architecture::TransformerBlock { seq_len } => vec![Layer::TransformerBlock {
                seq_len,
                width: 768,
                heads: 12,
            }],
        }
    }

    /// The loss of a training step.
    pub fn loss(self) -> Loss {
        match self {
            Architecture::TransformerBlock { .. } => Loss::MeanSquared,
            _ => Loss::CrossEntropy,
        }
    }

    /// Input values per sample.
    pub fn input_len(self) -> u64 {
        self.layers()[0].input_len()
    }

    /// Output values per sample.
    pub fn output_len(self) -> u64 {
        self.layers().last().map_or(0, Layer::output_len)
    }

    /// Trainable weights and biases.
    pub fn parameters(self) -> u64 {
        self.layers().iter().map(Layer::parameters).sum()
    }

    /// Hidden and output units.
    pub fn units(self) -> u64 {
        self.layers().iter().map(Layer::units).sum()
    }

    /// Weights into units, summed over units.
    pub fn connections(self) -> u64 {
        self.layers().iter().map(Layer::connections).sum()
    }

    /// Forward FLOP per sample (no loss).
    pub fn forward_flops(self) -> f64 {
        self.layers().iter().map(Layer::forward_flops).sum()
    }

    /// Training-step FLOP per sample: forward, loss, backward and SGD (the SGD update is per
    /// step, so it is divided over the batch by [`ModelBench::flops`], not here).
    pub fn train_flops_per_sample(self) -> f64 {
        let out = self.output_len() as f64;
        let (loss_forward, loss_backward) = match self.loss() {
            Loss::CrossEntropy => (5.0 * out + 2.0, 3.0 * out),
            Loss::MeanSquared => (3.0 * out, 2.0 * out),
        };
        let backward: f64 = self
            .layers()
            .iter()
            .enumerate()
            .map(|(i, l)| l.backward_flops(i > 0))
            .sum();
        self.forward_flops() + loss_forward + loss_backward + backward
    }
}

/// Learning rate of the benchmarked SGD step.
pub const LEARNING_RATE: f64 = 0.01;

/// One model benchmark: a network, a batch size, inference or a training step.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBench {
    /// The network.
    pub architecture: Architecture,
    /// Samples per call.
    pub batch: u64,
    /// A training step (forward, loss, backward, SGD) instead of inference.
    pub train: bool,
}

/// Seed of parameter tensor `i`.
fn parameter_seed(i: usize) -> u64 {
    0x40DE1 + i as u64
}

impl ModelBench {
    /// Parameters: batch, train, then the network's counts (numbers a chart can use).
    pub fn params(&self) -> Params {
        let a = self.architecture;
        let mut p = Vec::new();
        if let Architecture::TransformerBlock { seq_len } = a {
            p.push(("seq_len", ParamValue::Int(seq_len)));
        }
        p.extend([
            ("batch", ParamValue::Int(self.batch)),
            ("train", ParamValue::Int(u64::from(self.train))),
            ("parameters", ParamValue::Int(a.parameters())),
            ("neurons", ParamValue::Int(a.units())),
            ("connections", ParamValue::Int(a.connections())),
        ]);
        p
    }

    /// FLOP of one call (the whole batch).
    pub fn flops(&self) -> Flops {
        let a = self.architecture;
        let b = self.batch as f64;
        Flops(if self.train {
            b * a.train_flops_per_sample() + 2.0 * a.parameters() as f64
        } else {
            b * a.forward_flops()
        })
    }

    /// Compulsory bytes of one call.
    pub fn bytes(&self, elem: u64) -> Bytes {
        let a = self.architecture;
        let io = self.batch * (a.input_len() + a.output_len());
        let params = a.parameters() * if self.train { 2 } else { 1 };
        Bytes(((io + params) * elem) as f64)
    }

    /// Buffers a backend allocates: parameters (and gradients when training) and every
    /// layer's activations for the batch (kept for backward when training).
    pub fn buffer_bytes(&self, elem: u64) -> u64 {
        let a = self.architecture;
        let activations: u64 = a.layers().iter().map(Layer::output_len).sum::<u64>()
            + match a {
                // QKV, scores and probabilities per head, MLP hidden.
                Architecture::TransformerBlock { seq_len } => seq_len * (3 * 768 + 2 * 12 * seq_len + 8 * 768),
                _ => 0,
            };
        let factor = if self.train { 3 } else { 1 };
        (a.parameters() * (1 + u64::from(self.train)) + factor * self.batch * (activations + a.input_len())) * elem
    }

    /// Shapes of the parameter tensors, in the order [`Self::parameters`] returns them.
    pub fn parameter_shapes(&self) -> Vec<Vec<u64>> {
        let mut shapes = Vec::new();
        for layer in self.architecture.layers() {
            match layer {
                Layer::Dense { inputs, outputs } => {
                    shapes.push(vec![outputs, inputs]);
                    shapes.push(vec![outputs]);
                }
                Layer::Conv {
                    in_channels,
                    out_channels,
                    kernel,
                    ..
                } => {
                    shapes.push(vec![out_channels, in_channels, kernel, kernel]);
                    shapes.push(vec![out_channels]);
                }
                Layer::TransformerBlock { width: d, .. } => {
                    // ln1 γ, β; W_qkv, b_qkv; W_o, b_o; ln2 γ, β; W_1, b_1; W_2, b_2
                    for s in [
                        vec![d],
                        vec![d],
                        vec![3 * d, d],
                        vec![3 * d],
                        vec![d, d],
                        vec![d],
                        vec![d],
                        vec![d],
                        vec![4 * d, d],
                        vec![4 * d],
                        vec![d, 4 * d],
                        vec![d],
                    ] {
                        shapes.push(s);
                    }
                }
                Layer::AvgPool { .. } | Layer::Act { .. } => {}
            }
        }
        shapes
    }

    /// Seeded parameters: weights uniform in ±1/√fan_in, biases likewise, layer-norm γ = 1
    /// and β = 0.
    pub fn parameters<T: Real>(&self) -> Vec<Vec<T>> {
        let shapes = self.parameter_shapes();
        let is_transformer = matches!(self.architecture, Architecture::TransformerBlock { .. });
        shapes
            .iter()
            .enumerate()
            .map(|(i, shape)| {
                let len: u64 = shape.iter().product();
                if is_transformer && matches!(i, 0 | 6) {
                    return vec![T::from_f64(1.0); len as usize];
                }
                if is_transformer && matches!(i, 1 | 7) {
                    return vec![T::default(); len as usize];
                }
                // The fan-in of a bias is that of the weight before it.
                let weight_shape = if shape.len() == 1 { &shapes[i - 1] } else { shape };
                let fan_in: u64 = weight_shape[1..].iter().product();
                let bound = 1.0 / (fan_in as f64).sqrt();
                inputs::uniform_vec(len as usize, parameter_seed(i), -bound, bound)
            })
            .collect()
    }

    /// Seeded input batch, uniform in [−1, 1].
    pub fn input<T: Real>(&self) -> Vec<T> {
        inputs::uniform_vec((self.batch * self.architecture.input_len()) as usize, 0x1A9, -1.0, 1.0)
    }

    /// Seeded class labels (cross-entropy) for the batch.
    pub fn labels(&self) -> Vec<i64> {
        (0..self.batch)
            .map(|i| (inputs::splitmix64(0x1AB ^ i) % self.architecture.output_len()) as i64)
            .collect()
    }

    /// Seeded regression target (mean squared error) for the batch.
    pub fn target<T: Real>(&self) -> Vec<T> {
        inputs::uniform_vec((self.batch * self.architecture.output_len()) as usize, 0x1AC, -1.0, 1.0)
    }

    /// The reference forward pass of the whole batch in f64, from `T`-typed parameters.
    pub fn reference<T: Real>(&self, parameters: &[Vec<T>], input: &[T]) -> Vec<f64> {
        let per_sample = self.architecture.input_len() as usize;
        let wide: Vec<Vec<f64>> = parameters
            .iter()
            .map(|p| p.iter().map(|v| v.to_f64()).collect())
            .collect();
        input
            .chunks(per_sample)
            .flat_map(|x| {
                forward_one(
                    &self.architecture.layers(),
                    &wide,
                    x.iter().map(|v| v.to_f64()).collect(),
                )
            })
            .collect()
    }

    /// Checks a forward output (batch × outputs) against [`Self::reference`]. The bound is a
    /// forward error bound per layer, γ(K+2)·u with K the longest dot product, times the
    /// number of layers, times 16 (activations and normalisations), relative to the largest
    /// reference output (at least 1).
    pub fn verify<T: Real>(&self, parameters: &[Vec<T>], input: &[T], output: &[T]) -> Verification {
        let expect = self.reference(parameters, input);
        if output.len() != expect.len() {
            return Verification::failed(format!(
                "output has {} elements, expected {}",
                output.len(),
                expect.len()
            ));
        }
        let layers = self.architecture.layers();
        let longest = layers
            .iter()
            .map(|l| match *l {
                Layer::Dense { inputs, .. } => inputs,
                Layer::Conv {
                    in_channels, kernel, ..
                } => in_channels * kernel * kernel,
                Layer::TransformerBlock { seq_len, width, .. } => (4 * width).max(seq_len),
                _ => 4,
            })
            .max()
            .unwrap_or(1);
        let scale = expect.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let tol = 16.0 * layers.len() as f64 * gamma(longest + 2, T::DTYPE.unit_roundoff()) * scale;
        let mut checker = Checker::new(format!(
            "all {} outputs of the forward pass against the f64 layer-by-layer reference (tolerance {tol:.2e})",
            expect.len()
        ));
        let outputs = self.architecture.output_len() as usize;
        for (i, (g, e)) in output.iter().zip(&expect).enumerate() {
            checker.check(
                &format_args!("sample {} output {}", i / outputs, i % outputs),
                g.to_f64(),
                *e,
                tol,
            );
        }
        checker.finish()
    }
}

fn dense(w: &[f64], b: &[f64], x: &[f64]) -> Vec<f64> {
    b.iter()
        .enumerate()
        .map(|(o, bias)| {
            bias + w[o * x.len()..(o + 1) * x.len()]
                .iter()
                .zip(x)
                .map(|(a, b)| a * b)
                .sum::<f64>()
        })
        .collect()
}

fn layer_norm(x: &[f64], gamma: &[f64], beta: &[f64]) -> Vec<f64> {
    let d = x.len() as f64;
    let mean = x.iter().sum::<f64>() / d;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d;
    let rstd = 1.0 / (var + 1e-5).sqrt();
    x.iter()
        .zip(gamma.iter().zip(beta))
        .map(|(v, (g, b))| (v - mean) * rstd * g + b)
        .collect()
}

/// One sample through `layers`; `params` in [`ModelBench::parameter_shapes`] order.
fn forward_one(layers: &[Layer], params: &[Vec<f64>], mut x: Vec<f64>) -> Vec<f64> {
    let mut next = 0;
    for layer in layers {
        x = match *layer {
            Layer::Dense { .. } => {
                let y = dense(&params[next], &params[next + 1], &x);
                next += 2;
                y
            }
            Layer::Conv {
                in_channels: c,
                out_channels: k,
                kernel: r,
                in_size: h,
            } => {
                let (w, b) = (&params[next], &params[next + 1]);
                next += 2;
                let (c, k, r, h) = (c as usize, k as usize, r as usize, h as usize);
                let p = h - r + 1;
                let mut y = vec![0.0; k * p * p];
                for ko in 0..k {
                    for i in 0..p {
                        for j in 0..p {
                            let mut s = b[ko];
                            for ci in 0..c {
                                for u in 0..r {
                                    for v in 0..r {
                                        s += w[((ko * c + ci) * r + u) * r + v] * x[(ci * h + i + u) * h + j + v];
                                    }
                                }
                            }
                            y[(ko * p + i) * p + j] = s;
                        }
                    }
                }
                y
            }
            Layer::AvgPool {
                channels,
                in_size,
                window,
            } => {
                let (c, h, w) = (channels as usize, in_size as usize, window as usize);
                let p = h / w;
                let mut y = vec![0.0; c * p * p];
                for ci in 0..c {
                    for i in 0..p {
                        for j in 0..p {
                            let mut s = 0.0;
                            for u in 0..w {
                                for v in 0..w {
                                    s += x[(ci * h + i * w + u) * h + j * w + v];
                                }
                            }
                            y[(ci * p + i) * p + j] = s / (w * w) as f64;
                        }
                    }
                }
                y
            }
            Layer::Act { kind, .. } => x.iter().map(|&v| kind.apply(v)).collect(),
            Layer::TransformerBlock { seq_len, width, heads } => {
                let y = transformer_block(
                    &params[next..next + 12],
                    &x,
                    seq_len as usize,
                    width as usize,
                    heads as usize,
                );
                next += 12;
                y
            }
        };
    }
    x
}

fn transformer_block(p: &[Vec<f64>], x: &[f64], n: usize, d: usize, heads: usize) -> Vec<f64> {
    let dh = d / heads;
    let tokens: Vec<&[f64]> = x.chunks(d).collect();
    let qkv: Vec<Vec<f64>> = tokens
        .iter()
        .map(|t| dense(&p[2], &p[3], &layer_norm(t, &p[0], &p[1])))
        .collect();
    let scale = 1.0 / (dh as f64).sqrt();
    let mut attended = vec![vec![0.0; d]; n];
    for h in 0..heads {
        for i in 0..n {
            let q = &qkv[i][h * dh..(h + 1) * dh];
            let scores: Vec<f64> = (0..n)
                .map(|j| {
                    q.iter()
                        .zip(&qkv[j][d + h * dh..d + (h + 1) * dh])
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        * scale
                })
                .collect();
            let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let total: f64 = weights.iter().sum();
            for (j, w) in weights.iter().enumerate() {
                for e in 0..dh {
                    attended[i][h * dh + e] += w / total * qkv[j][2 * d + h * dh + e];
                }
            }
        }
    }
    let mut out = Vec::with_capacity(n * d);
    for (i, t) in tokens.iter().enumerate() {
        let projected = dense(&p[4], &p[5], &attended[i]);
        let x1: Vec<f64> = t.iter().zip(&projected).map(|(a, b)| a + b).collect();
        let hidden: Vec<f64> = dense(&p[8], &p[9], &layer_norm(&x1, &p[6], &p[7]))
            .into_iter()
            .map(|v| Nonlinearity::Gelu.apply(v))
            .collect();
        let mlp = dense(&p[10], &p[11], &hidden);
        out.extend(x1.iter().zip(&mlp).map(|(a, b)| a + b));
    }
    out
}

/// The `models` profile's benchmarks: each network at several batch sizes for inference and
/// at one for a training step. The transformer block runs a short sequence (128 tokens) so a
/// CPU finishes it in seconds; GPT-2's 512 is a `--filter` away in a build that adds it.
pub fn registry() -> Vec<ModelBench> {
    let mut benches = Vec::new();
    for architecture in [Architecture::Mlp, Architecture::Lenet5] {
        for batch in [1, 64, 256] {
            benches.push(ModelBench {
                architecture,
                batch,
                train: false,
            });
        }
        benches.push(ModelBench {
            architecture,
            batch: 64,
            train: true,
        });
    }
    let block = Architecture::TransformerBlock { seq_len: 128 };
    for batch in [1, 4] {
        benches.push(ModelBench {
            architecture: block,
            batch,
            train: false,
        });
    }
    benches.push(ModelBench {
        architecture: block,
        batch: 1,
        train: true,
    });
    benches
}

/// Peak resident set size of this process (VmHWM), bytes, where /proc has it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resets the peak RSS to the current RSS (Linux: `5` into /proc/self/clear_refs); false
/// where that is not possible, in which case the peak is the process's since it started.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlp_counts_by_hand() {
        let a = Architecture::Mlp;
        // 784·300 + 300 + 300·100 + 100 + 100·10 + 10
        assert_eq!(a.parameters(), 235_500 + 30_100 + 1_010);
        assert_eq!(a.parameters(), 266_610);
        assert_eq!(a.units(), 410);
        assert_eq!(a.connections(), 235_200 + 30_000 + 1_000);
        // Forward: 2·(235,200 + 30,000 + 1,000) + biases 410 + ReLUs 400.
        assert_eq!(a.forward_flops(), 532_400.0 + 410.0 + 400.0);
        // Backward: layer 1 weight gradient only (470,400 + 300), ReLU 300, layer 2 both
        // products (2·60,000 + 100), ReLU 100, layer 3 both (2·2,000 + 10); loss 5·10+2 and 3·10.
        let backward = 470_400.0 + 300.0 + 300.0 + 120_000.0 + 100.0 + 100.0 + 4_000.0 + 10.0;
        assert_eq!(a.train_flops_per_sample(), 533_210.0 + 52.0 + 30.0 + backward);
        let train = ModelBench {
            architecture: a,
            batch: 64,
            train: true,
        };
        assert_eq!(
            train.flops(),
            Flops(64.0 * a.train_flops_per_sample() + 2.0 * 266_610.0)
        );
        // The usual shortcut (3 × forward) is a check on the count, not the count: here the
        // first layer holds 88% of the products and needs no input gradient, so ≈ 2.1×.
        let ratio = a.train_flops_per_sample() / a.forward_flops();
        assert!((2.0..2.3).contains(&ratio), "{ratio}");
    }

    #[test]
    fn lenet5_counts_by_hand() {
        let a = Architecture::Lenet5;
        // C1 6·(25+1) = 156; C3 16·(6·25+1) = 2,416; C5 400·120+120 = 48,120;
        // F6 120·84+84 = 10,164; output 84·10+10 = 850: LeCun et al.'s 60,000-odd, exactly 61,706.
        assert_eq!(a.parameters(), 156 + 2_416 + 48_120 + 10_164 + 850);
        assert_eq!(a.parameters(), 61_706);
        // Units: 6·28² + 6·14² + 16·10² + 16·5² + 120 + 84 + 10
        assert_eq!(a.units(), 4_704 + 1_176 + 1_600 + 400 + 120 + 84 + 10);
        // C1 forward: 4,704 outputs × (2·25 + 1) = 239,904.
        assert_eq!(a.layers()[0].forward_flops(), 239_904.0);
        // C3 forward: 1,600 × (2·150 + 1) = 481,600.
        assert_eq!(a.layers()[3].forward_flops(), 481_600.0);
        // Pools: 1,176·4 and 400·4.
        assert_eq!(a.layers()[2].forward_flops(), 4_704.0);
        let forward = 239_904.0
            + 4_704.0
            + 4_704.0
            + 481_600.0
            + 1_600.0
            + 1_600.0
            + 96_120.0
            + 120.0
            + 20_244.0
            + 84.0
            + 1_690.0;
        assert_eq!(a.forward_flops(), forward);
        // C1 connections: 4,704 units × 25 weights (LeCun's 122,304 adds one bias per unit).
        assert_eq!(a.layers()[0].connections() + a.layers()[0].output_len(), 122_304);
    }

    #[test]
    fn transformer_block_matches_the_standard_formula() {
        let (n, d, h) = (512.0, 768.0, 12.0);
        let a = Architecture::TransformerBlock { seq_len: 512 };
        // 12·d² + 13·d parameters: 7,087,872 for d = 768 (GPT-2 small's blocks).
        assert_eq!(a.parameters(), 7_087_872);
        // METHODS.md: 24·n·d² + 4·n²·d, plus the terms it leaves out (biases, norms, GELU,
        // residuals: 63·n·d; scale and softmax: 6·n²·h), written out.
        let standard = 24.0 * n * d * d + 4.0 * n * n * d;
        assert_eq!(a.forward_flops(), standard + 63.0 * n * d + 6.0 * n * n * h);
        assert!((a.forward_flops() / standard - 1.0).abs() < 0.01);
        // Training ≈ 3 × forward (Kaplan et al.'s 6·N per token for the matrix products).
        let ratio = a.train_flops_per_sample() / a.forward_flops();
        assert!((2.9..3.1).contains(&ratio), "{ratio}");
    }

    #[test]
    fn reference_forward_of_a_tiny_dense_layer() {
        let layers = [
            Layer::Dense { inputs: 2, outputs: 1 },
            Layer::Act {
                units: 1,
                kind: Nonlinearity::Relu,
            },
        ];
        let params = vec![vec![2.0, -1.0], vec![0.5]];
        assert_eq!(forward_one(&layers, &params, vec![1.0, 3.0]), vec![0.0]);
        assert_eq!(forward_one(&layers, &params, vec![3.0, 1.0]), vec![5.5]);
    }

    #[test]
    fn parameters_match_their_shapes() {
        for bench in registry() {
            let shapes = bench.parameter_shapes();
            let params = bench.parameters::<f32>();
            let total: usize = params.iter().map(Vec::len).sum();
            assert_eq!(total as u64, bench.architecture.parameters(), "{bench:?}");
            for (s, p) in shapes.iter().zip(&params) {
                assert_eq!(s.iter().product::<u64>() as usize, p.len());
            }
        }
    }

    #[test]
    fn verify_accepts_the_reference_and_rejects_a_perturbation() {
        let bench = ModelBench {
            architecture: Architecture::Lenet5,
            batch: 2,
            train: false,
        };
        let params = bench.parameters::<f64>();
        let x = bench.input::<f64>();
        let mut y = bench.reference(&params, &x);
        assert!(bench.verify(&params, &x, &y).passed);
        y[3] += 1e-3;
        assert!(!bench.verify(&params, &x, &y).passed);
    }
}
