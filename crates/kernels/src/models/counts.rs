//! Analytic counts, from the shapes alone (the rules are in the parent module's doc):
//! parameters, units, connections, forward and training-step FLOP, compulsory and buffer bytes.

use super::{Architecture, Layer, Loss, ModelBench, Nonlinearity};
use crate::units::{Bytes, Flops};
use crate::{ParamValue, Params};

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

impl Architecture {
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
}
