//! End-to-end model benchmarks: the networks whose history braingap plots, as layer lists
//! with analytic counts, seeded parameters and a naive f64 reference forward pass.
//!
//! Counting (METHODS.md), per sample, layer by layer from the shapes:
//! * **Forward.** Dense `in→out`: 2·in·out + out (bias). Convolution: 2·K·P·Q·C·R·S + K·P·Q.
//!   Average pool (w×w, stride w): w² per output (w²−1 adds, one scaling multiply).
//!   Activations: ReLU 1, tanh 1, GELU 9 per unit (the `activation` kernel's convention).
//!   Transformer block: see [`Layer::TransformerBlock`]; a stack is N blocks.
//!   Spiking layers: see [`Layer::LifDense`] and [`Layer::TimeMean`].
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

use crate::inputs;
use crate::units::{Bytes, Flops};
use crate::verify::{gamma, Checker, Verification};
use crate::{ParamValue, Params, Real};

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
            Nonlinearity::Gelu => crate::ActivationOp::Gelu.apply(x),
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
    /// Square convolution with bias, NCHW, weights K×C×R×R, zero padding on every side.
    /// A unit's connections are its C·R² weights (padding positions included).
    Conv {
        /// Input channels C.
        in_channels: u64,
        /// Output channels K.
        out_channels: u64,
        /// Kernel side R.
        kernel: u64,
        /// Input side H = W.
        in_size: u64,
        /// Stride.
        stride: u64,
        /// Zero padding per side.
        padding: u64,
    },
    /// w×w max pooling with stride s (AlexNet's overlapping 3/2). Forward: w² − 1
    /// comparisons per output (1 FLOP each); backward: one add per output (its gradient
    /// routed to the winning input). Not counted as units: AlexNet's 650,000 neurons are its
    /// convolution and dense outputs.
    MaxPool {
        /// Channels.
        channels: u64,
        /// Input side.
        in_size: u64,
        /// Window side w.
        window: u64,
        /// Stride s.
        stride: u64,
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
    /// A fully connected layer of leaky integrate-and-fire neurons run for `steps` time
    /// steps on a spike train (`steps × inputs` values of 0 or 1 per sample). Per step:
    /// I = W·s + b (one product over all steps at once, since I depends on no state),
    /// V ← β·V + I (the `lif_step` kernel's V ← V + dt/τ·(V_rest − V) + I with V_rest = 0,
    /// dt/τ = 1 − β = [`LIF_DECAY`]), then, when `spiking`, a spike where V ≥ θ
    /// ([`LIF_THRESHOLD`]) and a reset to 0 (no refractory period). A non-spiking layer is a
    /// leaky integrator whose membrane trace is the output (the readout).
    ///
    /// FLOP per sample and step: the product 2·in·out + out (bias); LIF update: decay 1,
    /// add 1, and for spiking units compare 1 and reset multiply 1. Backward through time
    /// with a fast-sigmoid surrogate σ'(x) = 1/(1 + k·|x|)², x = V − θ: weight gradient
    /// 2·in·out and input gradient 2·in·out (not for the first layer: its input spikes need
    /// none) and bias 1 per unit, per step; per unit and step 10 for a spiking unit
    /// (surrogate 6: subtract, abs, multiply, add, square, divide; chain 4: times the
    /// upstream gradient, decay β, reset mask, add) and 2 for a leaky integrator (decay, add).
    /// Synaptic events (spikes × fan-out) are counted at run time, apart from FLOPs.
    LifDense {
        /// Input features (presynaptic neurons).
        inputs: u64,
        /// Output neurons.
        outputs: u64,
        /// Time steps.
        steps: u64,
        /// Spike and reset (true) or integrate only (false: the readout).
        spiking: bool,
    },
    /// Token embedding: `seq_len` token ids (stored as exact integers) to `seq_len × width`
    /// rows of a `vocab × width` table. Forward: a lookup, 0 FLOP; backward: the table's
    /// gradient, one add per looked-up value (seq_len·width). No units, no connections.
    Embedding {
        /// Vocabulary size.
        vocab: u64,
        /// Embedding width.
        width: u64,
        /// Tokens per sample.
        seq_len: u64,
    },
    /// LSTM layer (Hochreiter & Schmidhuber 1997, with a forget gate) over `seq_len` steps,
    /// gates i, f, g, o (libtorch's order) from `W_ih·x_t + W_hh·h_(t−1) + b` (one bias
    /// vector; libtorch's built-in LSTM has two), c = f⊙c + i⊙g, h = o⊙tanh(c), from zero
    /// state. Units: `hidden` neurons, counted once (the same units at every step);
    /// connections 4·hidden·(inputs + hidden).
    ///
    /// FLOP per token: the two products 2·4h·(x + h), their sum 4h and the bias 4h; three
    /// sigmoid gates at 4 each (negate, exp, add, divide) and tanh on g and on c at 1 each
    /// (the `activation` convention), the cell 3h and the output product h: 8h(x + h) + 26h.
    /// Backward per token: weight gradients 2·4h·(x + h), the input gradient 2·4h·x (where
    /// the layer before needs it; an embedding's table does), the gradient
    /// to h_(t−1) 2·4h·h (for seq_len − 1 tokens: h_(−1) is the zero state), the bias 4h,
    /// and 23h elementwise (sigmoid' 3 per gate unit, tanh' 3 for g and for c, the cell
    /// and output products 6, the recurrent dh add 1).
    Lstm {
        /// Input features x.
        inputs: u64,
        /// Hidden units h.
        hidden: u64,
        /// Steps.
        seq_len: u64,
    },
    /// The same dense layer applied to each of `tokens` positions (a language model's
    /// output projection). Units: `outputs`, counted once; connections inputs·outputs.
    TokenDense {
        /// Input features.
        inputs: u64,
        /// Output features.
        outputs: u64,
        /// Positions.
        tokens: u64,
    },
    /// Mean over `steps` of `units` values per step (the readout of a spiking network):
    /// forward steps − 1 adds and one scaling per unit; backward one scaling per value.
    TimeMean {
        /// Values per step.
        units: u64,
        /// Time steps.
        steps: u64,
    },
}

/// Membrane decay β of the spiking layers (dt/τ = 0.5). A power of two so that, with
/// parameters on a 2⁻⁸ grid and 0/1 input spikes, the f32 forward pass is exact in any
/// summation order (see [`ModelBench::parameters`]): a threshold decision cannot differ
/// between backends, and spikes and synaptic events are compared exactly.
pub const LIF_DECAY: f64 = 0.5;

/// Firing threshold θ of the spiking layers (rest and reset at 0).
pub const LIF_THRESHOLD: f64 = 1.0;

/// Slope k of the fast-sigmoid surrogate gradient 1/(1 + k·|V − θ|)² (Zenke & Ganguli 2018).
pub const SURROGATE_SLOPE: f64 = 10.0;

/// Grid of the spiking network's seeded parameters (see [`LIF_DECAY`]).
const SPIKING_PARAMETER_GRID: f64 = 256.0;

impl Layer {
    /// Values this layer outputs per sample.
    pub fn output_len(&self) -> u64 {
        match *self {
            Layer::Dense { outputs, .. } => outputs,
            Layer::Conv {
                out_channels,
                kernel,
                in_size,
                stride,
                padding,
                ..
            } => out_channels * ((in_size + 2 * padding - kernel) / stride + 1).pow(2),
            Layer::MaxPool {
                channels,
                in_size,
                window,
                stride,
            } => channels * ((in_size - window) / stride + 1).pow(2),
            Layer::AvgPool {
                channels,
                in_size,
                window,
            } => channels * (in_size / window).pow(2),
            Layer::Act { units, .. } => units,
            Layer::TransformerBlock { seq_len, width, .. } => seq_len * width,
            Layer::LifDense { outputs, steps, .. } => steps * outputs,
            Layer::TimeMean { units, .. } => units,
            Layer::Embedding { width, seq_len, .. } => seq_len * width,
            Layer::Lstm { hidden, seq_len, .. } => seq_len * hidden,
            Layer::TokenDense { outputs, tokens, .. } => tokens * outputs,
        }
    }

    /// Values this layer reads per sample.
    pub fn input_len(&self) -> u64 {
        match *self {
            Layer::Dense { inputs, .. } => inputs,
            Layer::Conv {
                in_channels, in_size, ..
            } => in_channels * in_size * in_size,
            Layer::AvgPool { channels, in_size, .. } | Layer::MaxPool { channels, in_size, .. } => {
                channels * in_size * in_size
            }
            Layer::Act { units, .. } => units,
            Layer::TransformerBlock { seq_len, width, .. } => seq_len * width,
            Layer::LifDense { inputs, steps, .. } => steps * inputs,
            Layer::TimeMean { units, steps } => steps * units,
            Layer::Embedding { seq_len, .. } => seq_len,
            Layer::Lstm { inputs, seq_len, .. } => seq_len * inputs,
            Layer::TokenDense { inputs, tokens, .. } => tokens * inputs,
        }
    }

    /// Trainable weights and biases.
    pub fn parameters(&self) -> u64 {
        match *self {
            Layer::Dense { inputs, outputs }
            | Layer::LifDense { inputs, outputs, .. }
            | Layer::TokenDense { inputs, outputs, .. } => inputs * outputs + outputs,
            Layer::Embedding { vocab, width, .. } => vocab * width,
            Layer::Lstm { inputs, hidden, .. } => 4 * hidden * (inputs + hidden) + 4 * hidden,
            Layer::Conv {
                in_channels,
                out_channels,
                kernel,
                ..
            } => out_channels * in_channels * kernel * kernel + out_channels,
            Layer::AvgPool { .. } | Layer::MaxPool { .. } | Layer::Act { .. } | Layer::TimeMean { .. } => 0,
            Layer::TransformerBlock { width: d, .. } => 12 * d * d + 13 * d,
        }
    }

    /// Units (neurons) this layer adds: its outputs, except activations, which act in place
    /// on the units of the layer before them.
    pub fn units(&self) -> u64 {
        match *self {
            Layer::Act { .. } | Layer::TimeMean { .. } | Layer::MaxPool { .. } | Layer::Embedding { .. } => 0,
            Layer::Lstm { hidden, .. } => hidden,
            Layer::TokenDense { outputs, .. } => outputs,
            // Neurons, once: a unit is the same neuron at every time step.
            Layer::LifDense { outputs, .. } => outputs,
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
            Layer::Act { .. } | Layer::TimeMean { .. } | Layer::MaxPool { .. } | Layer::Embedding { .. } => 0,
            Layer::Lstm { inputs, hidden, .. } => 4 * hidden * (inputs + hidden),
            Layer::TokenDense { inputs, outputs, .. } => inputs * outputs,
            Layer::LifDense { inputs, outputs, .. } => inputs * outputs,
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
            Layer::MaxPool { window, .. } => (self.output_len() * (window * window - 1)) as f64,
            Layer::Act { units, kind } => units as f64 * kind.forward_flops(),
            Layer::TransformerBlock {
                seq_len: n,
                width: d,
                heads: h,
            } => {
                let (n, d, h) = (n as f64, d as f64, h as f64);
                24.0 * n * d * d + 4.0 * n * n * d + 63.0 * n * d + 6.0 * n * n * h
            }
            Layer::LifDense {
                inputs,
                outputs,
                steps,
                spiking,
            } => {
                let lif = if spiking { 4 } else { 2 };
                (steps * (2 * inputs * outputs + outputs + lif * outputs)) as f64
            }
            Layer::TimeMean { units, steps } => (units * steps) as f64,
            Layer::Embedding { .. } => 0.0,
            Layer::Lstm {
                inputs: x,
                hidden: h,
                seq_len,
            } => (seq_len * (8 * h * (x + h) + 26 * h)) as f64,
            Layer::TokenDense {
                inputs,
                outputs,
                tokens,
            } => (tokens * (2 * inputs * outputs + outputs)) as f64,
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
            Layer::MaxPool { .. } => self.output_len() as f64 * input_grad,
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
            Layer::LifDense {
                inputs,
                outputs,
                steps,
                spiking,
            } => {
                let product = (2 * inputs * outputs) as f64;
                let lif = if spiking { 10.0 } else { 2.0 };
                steps as f64 * (product * (1.0 + input_grad) + outputs as f64 + lif * outputs as f64)
            }
            Layer::TimeMean { units, steps } => (units * steps) as f64 * input_grad,
            Layer::Embedding { width, seq_len, .. } => (width * seq_len) as f64,
            Layer::Lstm {
                inputs: x,
                hidden: h,
                seq_len: n,
            } => {
                let (x, h, n) = (x as f64, h as f64, n as f64);
                n * (8.0 * h * (x + h) + 8.0 * h * x * input_grad + 4.0 * h + 23.0 * h) + (n - 1.0) * 8.0 * h * h
            }
            Layer::TokenDense {
                inputs,
                outputs,
                tokens,
            } => {
                let product = (2 * inputs * outputs) as f64;
                tokens as f64 * (product * (1.0 + input_grad) + outputs as f64)
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
    /// AlexNet (Krizhevsky et al. 2012): conv 96·11²/4, max-pool 3/2, conv 256·5², max-pool,
    /// conv 384·3², 384·3², 256·3², max-pool, dense 4096, 4096, 1000, ReLU after every layer
    /// but the last, on a square RGB input of side `input` (227 is the paper's effective
    /// size). Single-tower: the paper's two-GPU grouping of conv 2, 4 and 5 is not
    /// reproduced (62.4M parameters at 227, against the grouped network's 61.0M); no local
    /// response normalisation and no dropout (a training step is deterministic).
    AlexNet {
        /// Input side (≥ 67 so the last pool has an output).
        input: u64,
    },
    /// A 2-layer LSTM language model: embedding (width = hidden), two LSTM layers, the
    /// output projection to the vocabulary at every position, cross-entropy per token
    /// (Zaremba et al. 2014's shape).
    LstmLm {
        /// Vocabulary size.
        vocab: u64,
        /// Embedding width and hidden units per layer.
        hidden: u64,
        /// Tokens per sequence.
        seq_len: u64,
    },
    /// `blocks` GPT-2-small-shaped blocks in sequence (GPT-2 small has 12).
    TransformerStack {
        /// Blocks.
        blocks: u64,
        /// Tokens per sequence.
        seq_len: u64,
    },
    /// A spiking network 784-`hidden`-10 on MNIST-sized inputs as Bernoulli spike trains
    /// over `steps` time steps: one hidden layer of LIF neurons, a leaky-integrator readout
    /// whose mean membrane potential over time is the logits, trained through time (BPTT)
    /// with a fast-sigmoid surrogate gradient.
    Spiking {
        /// Hidden LIF neurons.
        hidden: u64,
        /// Time steps per sample.
        steps: u64,
    },
}

impl Architecture {
    /// Registry kernel name.
    pub fn kernel_name(self) -> &'static str {
        match self {
            Architecture::Mlp => "model_mlp",
            Architecture::Lenet5 => "model_lenet5",
            Architecture::TransformerBlock { .. } => "model_transformer_block",
            Architecture::TransformerStack { .. } => "model_transformer_stack",
            Architecture::AlexNet { .. } => "model_alexnet",
            Architecture::LstmLm { .. } => "model_lstm",
            Architecture::Spiking { .. } => "model_snn",
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
                        stride: 1,
                        padding: 0,
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
                        stride: 1,
                        padding: 0,
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
            Architecture::TransformerStack { blocks, seq_len } => vec![
                Layer::TransformerBlock {
                    seq_len,
                    width: 768,
                    heads: 12,
                };
                blocks as usize
            ],
            Architecture::AlexNet { input } => alexnet(input),
            Architecture::LstmLm { vocab, hidden, seq_len } => vec![
                Layer::Embedding {
                    vocab,
                    width: hidden,
                    seq_len,
                },
                Layer::Lstm {
                    inputs: hidden,
                    hidden,
                    seq_len,
                },
                Layer::Lstm {
                    inputs: hidden,
                    hidden,
                    seq_len,
                },
                Layer::TokenDense {
                    inputs: hidden,
                    outputs: vocab,
                    tokens: seq_len,
                },
            ],
            Architecture::Spiking { hidden, steps } => vec![
                Layer::LifDense {
                    inputs: 784,
                    outputs: hidden,
                    steps,
                    spiking: true,
                },
                Layer::LifDense {
                    inputs: hidden,
                    outputs: 10,
                    steps,
                    spiking: false,
                },
                Layer::TimeMean { units: 10, steps },
            ],
        }
    }

    /// The loss of a training step.
    pub fn loss(self) -> Loss {
        match self {
            Architecture::TransformerBlock { .. } | Architecture::TransformerStack { .. } => Loss::MeanSquared,
            _ => Loss::CrossEntropy,
        }
    }

    /// Classes of the cross-entropy loss: the vocabulary for a language model (one loss
    /// term per token), else the outputs.
    pub fn classes(self) -> u64 {
        match self {
            Architecture::LstmLm { vocab, .. } => vocab,
            _ => self.output_len(),
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
        let terms = out / self.classes() as f64;
        let (loss_forward, loss_backward) = match self.loss() {
            Loss::CrossEntropy => (5.0 * out + 2.0 * terms, 3.0 * out),
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

/// AlexNet's layers on a square RGB input of side `input`.
fn alexnet(input: u64) -> Vec<Layer> {
    let mut layers = Vec::new();
    let (mut channels, mut side) = (3, input);
    let relu = |units| Layer::Act {
        units,
        kind: Nonlinearity::Relu,
    };
    let convs: [(u64, u64, u64, u64, bool); 5] = [
        (96, 11, 4, 0, true),
        (256, 5, 1, 2, true),
        (384, 3, 1, 1, false),
        (384, 3, 1, 1, false),
        (256, 3, 1, 1, true),
    ];
    for (out_channels, kernel, stride, padding, pool) in convs {
        let conv = Layer::Conv {
            in_channels: channels,
            out_channels,
            kernel,
            in_size: side,
            stride,
            padding,
        };
        side = (side + 2 * padding - kernel) / stride + 1;
        channels = out_channels;
        layers.push(conv);
        layers.push(relu(channels * side * side));
        if pool {
            layers.push(Layer::MaxPool {
                channels,
                in_size: side,
                window: 3,
                stride: 2,
            });
            side = (side - 3) / 2 + 1;
        }
    }
    let mut inputs = channels * side * side;
    for (i, outputs) in [4096, 4096, 1000].into_iter().enumerate() {
        layers.push(Layer::Dense { inputs, outputs });
        if i < 2 {
            layers.push(relu(outputs));
        }
        inputs = outputs;
    }
    layers
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
        match a {
            Architecture::TransformerBlock { seq_len } => p.push(("seq_len", ParamValue::Int(seq_len))),
            Architecture::TransformerStack { blocks, seq_len } => {
                p.push(("blocks", ParamValue::Int(blocks)));
                p.push(("seq_len", ParamValue::Int(seq_len)));
            }
            Architecture::Spiking { hidden, steps } => {
                p.push(("hidden", ParamValue::Int(hidden)));
                p.push(("steps", ParamValue::Int(steps)));
            }
            Architecture::AlexNet { input } => p.push(("input", ParamValue::Int(input))),
            Architecture::LstmLm { vocab, hidden, seq_len } => {
                p.push(("vocab", ParamValue::Int(vocab)));
                p.push(("hidden", ParamValue::Int(hidden)));
                p.push(("seq_len", ParamValue::Int(seq_len)));
            }
            Architecture::Mlp | Architecture::Lenet5 => {}
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
                Architecture::TransformerStack { blocks, seq_len } => {
                    blocks * seq_len * (3 * 768 + 2 * 12 * seq_len + 8 * 768)
                }
                // Gates and cell states per token and layer.
                Architecture::LstmLm { hidden, seq_len, .. } => 2 * seq_len * 6 * hidden,
                // Membrane potentials and currents per step.
                Architecture::Spiking { hidden, steps } => 2 * steps * (hidden + 10),
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
                Layer::Dense { inputs, outputs }
                | Layer::LifDense { inputs, outputs, .. }
                | Layer::TokenDense { inputs, outputs, .. } => {
                    shapes.push(vec![outputs, inputs]);
                    shapes.push(vec![outputs]);
                }
                Layer::Embedding { vocab, width, .. } => shapes.push(vec![vocab, width]),
                Layer::Lstm { inputs, hidden, .. } => {
                    shapes.push(vec![4 * hidden, inputs]);
                    shapes.push(vec![4 * hidden, hidden]);
                    shapes.push(vec![4 * hidden]);
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
                Layer::AvgPool { .. } | Layer::MaxPool { .. } | Layer::Act { .. } | Layer::TimeMean { .. } => {}
            }
        }
        shapes
    }

    /// Seeded parameters: weights uniform in ±1/√fan_in, biases likewise, layer-norm γ = 1
    /// and β = 0. The spiking network's are rounded to multiples of 2⁻⁸ (see [`LIF_DECAY`]).
    pub fn parameters<T: Real>(&self) -> Vec<Vec<T>> {
        let shapes = self.parameter_shapes();
        let is_transformer = matches!(
            self.architecture,
            Architecture::TransformerBlock { .. } | Architecture::TransformerStack { .. }
        );
        let on_grid = matches!(self.architecture, Architecture::Spiking { .. });
        shapes
            .iter()
            .enumerate()
            .map(|(i, shape)| {
                let len: u64 = shape.iter().product();
                if is_transformer && matches!(i % 12, 0 | 6) {
                    return vec![T::from_f64(1.0); len as usize];
                }
                if is_transformer && matches!(i % 12, 1 | 7) {
                    return vec![T::default(); len as usize];
                }
                // The fan-in of a bias is that of the weight before it.
                let weight_shape = if shape.len() == 1 { &shapes[i - 1] } else { shape };
                let fan_in: u64 = weight_shape[1..].iter().product();
                let bound = 1.0 / (fan_in as f64).sqrt();
                let values: Vec<T> = inputs::uniform_vec(len as usize, parameter_seed(i), -bound, bound);
                if on_grid {
                    let grid = SPIKING_PARAMETER_GRID;
                    return values
                        .into_iter()
                        .map(|v| T::from_f64((v.to_f64() * grid).round() / grid))
                        .collect();
                }
                values
            })
            .collect()
    }

    /// Seeded input batch, uniform in [−1, 1]. For the spiking network, each of those
    /// values (a pixel) is a Bernoulli spike train with firing probability (x + 1)/2 per
    /// step, laid out per sample as steps × 784 values of 0 or 1.
    pub fn input<T: Real>(&self) -> Vec<T> {
        if let Architecture::LstmLm { vocab, seq_len, .. } = self.architecture {
            return (0..self.batch * seq_len)
                .map(|i| T::from_f64((inputs::splitmix64(0x70C ^ i) % vocab) as f64))
                .collect();
        }
        if let Architecture::Spiking { steps, .. } = self.architecture {
            let pixels: Vec<f64> = inputs::uniform_vec((self.batch * 784) as usize, 0x1A9, -1.0, 1.0);
            let mut spikes = Vec::with_capacity((self.batch * steps * 784) as usize);
            for (sample, image) in pixels.chunks(784).enumerate() {
                for t in 0..steps {
                    for (i, x) in image.iter().enumerate() {
                        let index = ((sample as u64 * steps) + t) * 784 + i as u64;
                        let fired = inputs::unit(0x5B1E, index) < (x + 1.0) / 2.0;
                        spikes.push(T::from_f64(if fired { 1.0 } else { 0.0 }));
                    }
                }
            }
            return spikes;
        }
        inputs::uniform_vec((self.batch * self.architecture.input_len()) as usize, 0x1A9, -1.0, 1.0)
    }

    /// Synaptic events of one forward pass of the batch (spikes × fan-out, every layer that
    /// receives spikes), by the f64 reference; 0 for networks without spikes.
    pub fn reference_events<T: Real>(&self, parameters: &[Vec<T>], input: &[T]) -> u64 {
        let per_sample = self.architecture.input_len() as usize;
        let wide: Vec<Vec<f64>> = parameters
            .iter()
            .map(|p| p.iter().map(|v| v.to_f64()).collect())
            .collect();
        let layers = self.architecture.layers();
        let mut events = 0;
        for x in input.chunks(per_sample) {
            forward_counting(&layers, &wide, x.iter().map(|v| v.to_f64()).collect(), &mut events);
        }
        events
    }

    /// Seeded class labels (cross-entropy) for the batch.
    pub fn labels(&self) -> Vec<i64> {
        let a = self.architecture;
        let per_sample = a.output_len() / a.classes();
        (0..self.batch * per_sample)
            .map(|i| (inputs::splitmix64(0x1AB ^ i) % a.classes()) as i64)
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
                Layer::LifDense { inputs, .. } | Layer::TokenDense { inputs, .. } => inputs,
                Layer::TimeMean { steps, .. } => steps,
                Layer::Lstm { inputs, hidden, .. } => inputs + hidden,
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
fn forward_one(layers: &[Layer], params: &[Vec<f64>], x: Vec<f64>) -> Vec<f64> {
    forward_counting(layers, params, x, &mut 0)
}

/// [`forward_one`], adding the synaptic events it delivers to `events`.
fn forward_counting(layers: &[Layer], params: &[Vec<f64>], mut x: Vec<f64>, events: &mut u64) -> Vec<f64> {
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
                stride,
                padding,
            } => {
                let (w, b) = (&params[next], &params[next + 1]);
                next += 2;
                let (c, k, r, h) = (c as usize, k as usize, r as usize, h as usize);
                let (stride, pad) = (stride as usize, padding as usize);
                let p = (h + 2 * pad - r) / stride + 1;
                let mut y = vec![0.0; k * p * p];
                for ko in 0..k {
                    for i in 0..p {
                        for j in 0..p {
                            let mut s = b[ko];
                            for ci in 0..c {
                                for u in 0..r {
                                    // Input row and column, in padded coordinates.
                                    let row = i * stride + u;
                                    if row < pad || row >= h + pad {
                                        continue;
                                    }
                                    for v in 0..r {
                                        let col = j * stride + v;
                                        if col < pad || col >= h + pad {
                                            continue;
                                        }
                                        s += w[((ko * c + ci) * r + u) * r + v]
                                            * x[(ci * h + row - pad) * h + col - pad];
                                    }
                                }
                            }
                            y[(ko * p + i) * p + j] = s;
                        }
                    }
                }
                y
            }
            Layer::MaxPool {
                channels,
                in_size,
                window,
                stride,
            } => {
                let (c, h, w, s) = (channels as usize, in_size as usize, window as usize, stride as usize);
                let p = (h - w) / s + 1;
                let mut y = vec![f64::NEG_INFINITY; c * p * p];
                for ci in 0..c {
                    for i in 0..p {
                        for j in 0..p {
                            let out = &mut y[(ci * p + i) * p + j];
                            for u in 0..w {
                                for v in 0..w {
                                    *out = out.max(x[(ci * h + i * s + u) * h + j * s + v]);
                                }
                            }
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
            Layer::LifDense {
                inputs,
                outputs,
                steps,
                spiking,
            } => {
                let (w, b) = (&params[next], &params[next + 1]);
                next += 2;
                let spikes_in = x.iter().filter(|&&s| s != 0.0).count() as u64;
                *events += spikes_in * outputs;
                let mut v = vec![0.0; outputs as usize];
                let mut y = Vec::with_capacity((steps * outputs) as usize);
                for s in x.chunks(inputs as usize) {
                    for (v, i) in v.iter_mut().zip(dense(w, b, s)) {
                        *v = LIF_DECAY * *v + i;
                        if spiking {
                            let fired = *v >= LIF_THRESHOLD;
                            y.push(if fired { 1.0 } else { 0.0 });
                            if fired {
                                *v = 0.0;
                            }
                        } else {
                            y.push(*v);
                        }
                    }
                }
                y
            }
            Layer::Embedding { width, .. } => {
                let table = &params[next];
                next += 1;
                let width = width as usize;
                x.iter()
                    .flat_map(|&token| {
                        table[token as usize * width..(token as usize + 1) * width]
                            .iter()
                            .copied()
                    })
                    .collect()
            }
            Layer::Lstm { inputs, hidden, .. } => {
                let (w_ih, w_hh, bias) = (&params[next], &params[next + 1], &params[next + 2]);
                next += 3;
                let h_len = hidden as usize;
                let zero = vec![0.0; 4 * h_len];
                let (mut h, mut c) = (vec![0.0; h_len], vec![0.0; h_len]);
                let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
                let mut y = Vec::with_capacity(x.len() / inputs as usize * h_len);
                for x_t in x.chunks(inputs as usize) {
                    let from_input = dense(w_ih, bias, x_t);
                    let from_state = dense(w_hh, &zero, &h);
                    let gates: Vec<f64> = from_input.iter().zip(&from_state).map(|(a, b)| a + b).collect();
                    for u in 0..h_len {
                        let i = sigmoid(gates[u]);
                        let f = sigmoid(gates[h_len + u]);
                        let g = gates[2 * h_len + u].tanh();
                        let o = sigmoid(gates[3 * h_len + u]);
                        c[u] = f * c[u] + i * g;
                        h[u] = o * c[u].tanh();
                    }
                    y.extend_from_slice(&h);
                }
                y
            }
            Layer::TokenDense { inputs, .. } => {
                let (w, b) = (&params[next], &params[next + 1]);
                next += 2;
                x.chunks(inputs as usize).flat_map(|t| dense(w, b, t)).collect()
            }
            Layer::TimeMean { units, steps } => {
                let mut y = vec![0.0; units as usize];
                for step in x.chunks(units as usize) {
                    y.iter_mut().zip(step).for_each(|(a, v)| *a += v);
                }
                y.iter().map(|v| v / steps as f64).collect()
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
/// at one for a training step. The transformer block runs a short sequence (128 tokens) and
/// the stack 2 blocks of 64 tokens, and AlexNet a 99×99 input (0.39 GFLOP forward per
/// sample) and the LSTM 32 tokens of a 1,000-word vocabulary, so a CPU finishes them in
/// seconds; the spiking network has 256 hidden LIF neurons over 8 steps.
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
    let stack = Architecture::TransformerStack { blocks: 2, seq_len: 64 };
    for train in [false, true] {
        benches.push(ModelBench {
            architecture: stack,
            batch: 1,
            train,
        });
    }
    let alexnet = Architecture::AlexNet { input: 99 };
    for (batch, train) in [(1, false), (8, false), (4, true)] {
        benches.push(ModelBench {
            architecture: alexnet,
            batch,
            train,
        });
    }
    let lstm = Architecture::LstmLm {
        vocab: 1000,
        hidden: 256,
        seq_len: 32,
    };
    for (batch, train) in [(1, false), (16, false), (8, true)] {
        benches.push(ModelBench {
            architecture: lstm,
            batch,
            train,
        });
    }
    let spiking = Architecture::Spiking { hidden: 256, steps: 8 };
    for batch in [1, 64] {
        benches.push(ModelBench {
            architecture: spiking,
            batch,
            train: false,
        });
    }
    benches.push(ModelBench {
        architecture: spiking,
        batch: 16,
        train: true,
    });
    benches
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
    fn alexnet_counts_by_hand() {
        let a = Architecture::AlexNet { input: 227 };
        // conv1 96·3·11² + 96 = 34,944; conv2 256·96·5² + 256 = 614,656;
        // conv3 384·256·3² + 384 = 885,120; conv4 384·384·9 + 384 = 1,327,488;
        // conv5 256·384·9 + 256 = 884,992; fc6 (6·6·256 = 9,216)·4,096 + 4,096 = 37,752,832;
        // fc7 4,096² + 4,096 = 16,781,312; fc8 4,096·1,000 + 1,000 = 4,097,000:
        // 62,378,344, the single-tower AlexNet's 62.4M. The paper's two-GPU grouping halves
        // conv2/4/5's input channels (−307,200, −663,552, −442,368): 60,965,224, its "60 million".
        assert_eq!(
            a.parameters(),
            34_944 + 614_656 + 885_120 + 1_327_488 + 884_992 + 37_752_832 + 16_781_312 + 4_097_000
        );
        assert_eq!(a.parameters(), 62_378_344);
        assert_eq!(a.parameters() - 307_200 - 663_552 - 442_368, 60_965_224);
        let layers = a.layers();
        // Shapes: 227 → conv1 (227 − 11)/4 + 1 = 55 → pool 27 → conv2 27 → pool 13 → 13, 13, 13 → pool 6.
        assert_eq!(layers[0].output_len(), 96 * 55 * 55);
        assert_eq!(layers[2].output_len(), 96 * 27 * 27);
        assert_eq!(layers[3].output_len(), 256 * 27 * 27);
        assert_eq!(layers[5].output_len(), 256 * 13 * 13);
        assert_eq!(layers[12].output_len(), 256 * 6 * 6);
        // Units: 290,400 + 186,624 + 64,896 + 64,896 + 43,264 + 4,096 + 4,096 + 1,000 =
        // 659,272, the paper's "650,000 neurons" (pools and the input not counted).
        assert_eq!(a.units(), 659_272);
        // conv1 forward: 290,400 outputs × (2·3·121 + 1) = 211,120,800; conv2: 186,624 ×
        // (2·96·25 + 1) = 895,981,824; max-pool 1: 69,984 outputs × 8 comparisons.
        assert_eq!(layers[0].forward_flops(), 211_120_800.0);
        assert_eq!(layers[3].forward_flops(), 895_981_824.0);
        assert_eq!(layers[2].forward_flops(), 559_872.0);
        // Multiply-adds of all products: 105.4M + 448.0M + 149.5M + 224.3M + 149.5M + 58.6M
        // = 1.135 G, so the forward pass is 2.27 GFLOP plus biases, ReLUs and pools.
        let macs = 290_400.0 * 363.0
            + 186_624.0 * 2_400.0
            + 64_896.0 * 2_304.0
            + 64_896.0 * 3_456.0
            + 43_264.0 * 3_456.0
            + 37_748_736.0
            + 16_777_216.0
            + 4_096_000.0;
        let biases = 659_272.0;
        let relus = 659_272.0 - 1_000.0;
        let pools = 8.0 * (69_984.0 + 43_264.0 + 9_216.0);
        assert_eq!(a.forward_flops(), 2.0 * macs + biases + relus + pools);
        // The default small input: 99 → 23 → 11 → 11 → 5 → 5 → 2, so fc6 has 2·2·256 inputs.
        let small = Architecture::AlexNet { input: 99 }.layers();
        assert_eq!(
            small[13],
            Layer::Dense {
                inputs: 1_024,
                outputs: 4_096
            }
        );
    }

    #[test]
    fn reference_convolution_with_stride_and_padding() {
        // 1 channel 3×3 input, 2×2 kernel of ones, stride 2, padding 1: output 2×2, each the
        // sum of the input values its window covers.
        let layers = [Layer::Conv {
            in_channels: 1,
            out_channels: 1,
            kernel: 2,
            in_size: 3,
            stride: 2,
            padding: 1,
        }];
        let x: Vec<f64> = (1..=9).map(f64::from).collect();
        let params = vec![vec![1.0; 4], vec![0.5]];
        // Windows (padded coordinates): rows 0-1 × cols 0-1 → x[0][0] = 1; rows 0-1 × cols
        // 2-3 → x[0][1] + x[0][2] = 5; rows 2-3 × cols 0-1 → x[1][0] + x[2][0] = 11; the
        // last x[1][1] + x[1][2] + x[2][1] + x[2][2] = 28.
        assert_eq!(forward_one(&layers, &params, x.clone()), vec![1.5, 5.5, 11.5, 28.5]);
        let pool = [Layer::MaxPool {
            channels: 1,
            in_size: 3,
            window: 2,
            stride: 1,
        }];
        assert_eq!(forward_one(&pool, &[], x), vec![5.0, 6.0, 8.0, 9.0]);
    }

    #[test]
    fn lstm_counts_by_hand() {
        // Zaremba et al. 2014's medium model: vocabulary 10,000, 650 units, 35 steps.
        let (v, h, n) = (10_000.0, 650.0, 35.0);
        let a = Architecture::LstmLm {
            vocab: 10_000,
            hidden: 650,
            seq_len: 35,
        };
        // Embedding 6,500,000; each LSTM 4·650·(650 + 650) + 4·650 = 3,382,600; projection
        // 650·10,000 + 10,000 = 6,510,000: 19,775,200 (their "20M"; libtorch's second bias
        // vector per layer would add 2·2,600).
        assert_eq!(a.parameters(), 6_500_000 + 2 * 3_382_600 + 6_510_000);
        assert_eq!(a.units(), 650 + 650 + 10_000);
        // Forward per token: each LSTM 2·4h·(x + h) + 26h (the 4-gate formula), the
        // projection 2·h·v + v; the lookup is free.
        let lstm = 2.0 * 4.0 * h * (h + h) + 26.0 * h;
        assert_eq!(a.forward_flops(), n * (2.0 * lstm + 2.0 * h * v + v));
        // Backward: the first LSTM needs its input gradient too (the embedding's table
        // gradient takes it), so both layers: weight gradients 8h(x + h), input gradient
        // 8hx, bias 4h, elementwise 23h per token, and 8h² to h_(t−1) for n − 1 tokens.
        let lstm_backward = n * (8.0 * h * 2.0 * h + 8.0 * h * h + 4.0 * h + 23.0 * h) + (n - 1.0) * 8.0 * h * h;
        let projection_backward = n * (2.0 * 2.0 * h * v + v);
        let embedding_backward = n * h;
        // Cross-entropy per token: forward 5v + 2, backward 3v.
        let loss = n * (5.0 * v + 2.0) + n * 3.0 * v;
        assert_eq!(
            a.train_flops_per_sample(),
            a.forward_flops() + loss + embedding_backward + 2.0 * lstm_backward + projection_backward
        );
        let bench = ModelBench {
            architecture: a,
            batch: 2,
            train: true,
        };
        assert_eq!(bench.labels().len(), 70);
        assert!(bench.labels().iter().all(|&l| (0..10_000).contains(&l)));
    }

    #[test]
    fn transformer_stack_is_n_blocks() {
        let block = Architecture::TransformerBlock { seq_len: 64 };
        let stack = Architecture::TransformerStack { blocks: 3, seq_len: 64 };
        assert_eq!(stack.parameters(), 3 * 7_087_872);
        assert_eq!(stack.units(), 3 * block.units());
        assert_eq!(stack.connections(), 3 * block.connections());
        assert_eq!(stack.forward_flops(), 3.0 * block.forward_flops());
        // Backward: the first block computes its input gradient too (it is inside the block's
        // count), so a stack of N is N blocks, plus MSE loss once.
        let loss = 3.0 * 64.0 * 768.0 + 2.0 * 64.0 * 768.0;
        assert_eq!(
            stack.train_flops_per_sample() - loss,
            3.0 * (block.train_flops_per_sample() - loss)
        );
        // GPT-2 small: 12 blocks of 7,087,872 = 85,054,464 (its 124M adds embeddings 38.6M
        // and a final layer norm).
        let gpt2 = Architecture::TransformerStack {
            blocks: 12,
            seq_len: 1024,
        };
        assert_eq!(gpt2.parameters(), 85_054_464);
    }

    #[test]
    fn spiking_network_counts_by_hand() {
        let a = Architecture::Spiking { hidden: 256, steps: 8 };
        // 784·256 + 256 + 256·10 + 10
        assert_eq!(a.parameters(), 200_704 + 256 + 2_560 + 10);
        assert_eq!(a.units(), 256 + 10);
        assert_eq!(a.connections(), 200_704 + 2_560);
        assert_eq!(a.input_len(), 8 * 784);
        assert_eq!(a.output_len(), 10);
        // Forward, per step: hidden 2·200,704 + 256 + 4·256, readout 2·2,560 + 10 + 2·10;
        // 8 steps; then the mean 10·8.
        let hidden = 401_408.0 + 256.0 + 1_024.0;
        let readout = 5_120.0 + 10.0 + 20.0;
        assert_eq!(a.forward_flops(), 8.0 * (hidden + readout) + 80.0);
        // Backward, per step: hidden weight gradient only 401,408 + 256 + 10·256; readout
        // both products 2·5,120 + 10 + 2·10; the mean 80; loss 52 + 30.
        let backward = 8.0 * (401_408.0 + 256.0 + 2_560.0 + 10_240.0 + 10.0 + 20.0) + 80.0;
        assert_eq!(a.train_flops_per_sample(), a.forward_flops() + 52.0 + 30.0 + backward);
    }

    #[test]
    fn spiking_reference_counts_events_and_is_exact_on_the_grid() {
        let bench = ModelBench {
            architecture: Architecture::Spiking { hidden: 16, steps: 4 },
            batch: 2,
            train: false,
        };
        let params = bench.parameters::<f32>();
        for p in &params {
            assert!(
                p.iter().all(|v| (v * 256.0).fract() == 0.0),
                "parameters on the 2^-8 grid"
            );
        }
        let x = bench.input::<f32>();
        assert!(x.iter().all(|&v| v == 0.0 || v == 1.0));
        let input_spikes = x.iter().filter(|&&v| v == 1.0).count() as u64;
        // About half the pixels fire each step (probability (x+1)/2, x uniform in ±1).
        assert!((2 * 4 * 784 * 4 / 10..2 * 4 * 784 * 6 / 10).contains(&(input_spikes as usize)));
        let events = bench.reference_events(&params, &x);
        // Input spikes reach all 16 hidden neurons; hidden spikes reach 10 readout units.
        assert!(events >= input_spikes * 16, "{events}");
        let hidden_events = events - input_spikes * 16;
        assert_eq!(hidden_events % 10, 0);
        assert!(hidden_events > 0, "some hidden neuron fires");
        assert!(hidden_events / 10 < 2 * 4 * 16, "not every neuron fires every step");
        // Its rows carry the events (inference; a training step's are not counted).
        let spec = crate::BenchSpec::new(crate::Kernel::Model(bench.clone()), crate::Dtype::F32);
        assert_eq!(spec.event_kind(), Some(crate::EventKind::SynapticEvents));
        let train = ModelBench { train: true, ..bench };
        let spec = crate::BenchSpec::new(crate::Kernel::Model(train), crate::Dtype::F32);
        assert_eq!(spec.event_kind(), None);
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
