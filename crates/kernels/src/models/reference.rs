//! The naive f64 reference forward pass, layer by layer, one sample at a time; it also
//! counts the synaptic events a spiking network delivers.

use super::{Layer, ModelBench, Nonlinearity, LIF_DECAY, LIF_THRESHOLD};
use crate::Real;

impl Nonlinearity {
    /// Applies the nonlinearity in f64.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Nonlinearity::Relu => x.max(0.0),
            Nonlinearity::Tanh => x.tanh(),
            Nonlinearity::Gelu => crate::ActivationOp::Gelu.apply(x),
        }
    }
}

impl ModelBench {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Architecture;

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
}
