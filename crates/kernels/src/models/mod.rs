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

mod counts;
mod reference;
mod seeding;
mod verify;
mod zoo;

pub use zoo::registry;

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
