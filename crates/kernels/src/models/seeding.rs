//! Seeded parameters, inputs, labels and regression targets of a model benchmark.

use super::{Architecture, Layer, ModelBench};
use crate::inputs;
use crate::Real;

/// Grid of the spiking network's seeded parameters (see [`LIF_DECAY`](super::LIF_DECAY)).
const SPIKING_PARAMETER_GRID: f64 = 256.0;

/// Seed of parameter tensor `i`.
fn parameter_seed(i: usize) -> u64 {
    0x40DE1 + i as u64
}

impl ModelBench {
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
    /// and β = 0. The spiking network's are rounded to multiples of 2⁻⁸ (see [`LIF_DECAY`](super::LIF_DECAY)).
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
}

#[cfg(test)]
mod tests {
    use crate::models::registry;

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
}
