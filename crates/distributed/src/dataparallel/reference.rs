//! A small model with the [`TrainableModel`] API: multinomial logistic (softmax)
//! regression, `logits = x·W + b`, mean cross-entropy loss. It is the data-parallel step's
//! default until `crate::backends::cpu_mlp::CpuMlp` is plugged in, and the tests' model.

use super::TrainableModel;

/// Softmax regression with `features` inputs and `classes` outputs.
#[derive(Debug, Clone)]
pub struct SoftmaxRegression {
    features: usize,
    classes: usize,
    /// `[W (features × classes, row-major), b (classes)]`.
    parameters: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
    logits: Vec<f32>,
}

impl SoftmaxRegression {
    /// A model with deterministic small weights (seeded) and zero bias.
    pub fn new(features: usize, classes: usize, seed: u64) -> SoftmaxRegression {
        let scale = 1.0 / (features as f64).sqrt();
        let w = crate::kernels::inputs::uniform_vec::<f32>(features * classes, seed, -scale, scale);
        SoftmaxRegression {
            features,
            classes,
            parameters: vec![w, vec![0.0; classes]],
            grads: vec![vec![0.0; features * classes], vec![0.0; classes]],
            logits: Vec::new(),
        }
    }
}

impl TrainableModel for SoftmaxRegression {
    fn name(&self) -> String {
        format!("softmax_regression_{}_{}", self.features, self.classes)
    }
    fn input_features(&self) -> usize {
        self.features
    }
    fn classes(&self) -> usize {
        self.classes
    }
    /// Forward 2·B·F·C (GEMM) + B·C (bias); softmax and loss 4·B·C (exp, sum, divide,
    /// subtract, counted 1 each); backward: dW 2·B·F·C, db B·C; update 2·(F·C + C).
    fn flops_per_step(&self, batch: usize) -> f64 {
        let (b, f, c) = (batch as f64, self.features as f64, self.classes as f64);
        2.0 * b * f * c + b * c + 4.0 * b * c + 2.0 * b * f * c + b * c + 2.0 * (f * c + c)
    }
    fn gradients(&mut self, input: &[f32], labels: &[i64], batch: usize) -> f64 {
        let (f, c) = (self.features, self.classes);
        assert_eq!(input.len(), batch * f, "input is batch × features");
        assert_eq!(labels.len(), batch, "one label per example");
        let (w, bias) = (&self.parameters[0], &self.parameters[1]);
        self.logits.clear();
        self.logits.resize(batch * c, 0.0);
        for i in 0..batch {
            let row = &mut self.logits[i * c..(i + 1) * c];
            row.copy_from_slice(bias);
            for (k, &x) in input[i * f..(i + 1) * f].iter().enumerate() {
                for (out, &wk) in row.iter_mut().zip(&w[k * c..(k + 1) * c]) {
                    *out += x * wk;
                }
            }
        }
        let mut loss = 0.0f64;
        let scale = 1.0 / batch as f32;
        // Softmax in place, then d(loss)/d(logit) = (p − onehot) / batch.
        for (i, &label) in labels.iter().enumerate() {
            let row = &mut self.logits[i * c..(i + 1) * c];
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for v in row.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            for v in row.iter_mut() {
                *v /= sum;
            }
            let label = label as usize;
            loss -= f64::from(row[label].max(f32::MIN_POSITIVE)).ln();
            row[label] -= 1.0;
            for v in row.iter_mut() {
                *v *= scale;
            }
        }
        let (gw, gb) = self.grads.split_at_mut(1);
        let (gw, gb) = (&mut gw[0], &mut gb[0]);
        gw.fill(0.0);
        gb.fill(0.0);
        for i in 0..batch {
            let delta = &self.logits[i * c..(i + 1) * c];
            for (g, &d) in gb.iter_mut().zip(delta) {
                *g += d;
            }
            for (k, &x) in input[i * f..(i + 1) * f].iter().enumerate() {
                for (g, &d) in gw[k * c..(k + 1) * c].iter_mut().zip(delta) {
                    *g += x * d;
                }
            }
        }
        loss / batch as f64
    }
    fn grads_mut(&mut self) -> &mut [Vec<f32>] {
        &mut self.grads
    }
    fn apply_sgd(&mut self, learning_rate: f64) {
        let lr = learning_rate as f32;
        for (p, g) in self.parameters.iter_mut().zip(&self.grads) {
            for (p, g) in p.iter_mut().zip(g) {
                *p -= lr * g;
            }
        }
    }
    fn parameters(&self) -> &[Vec<f32>] {
        &self.parameters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let mut model = SoftmaxRegression::new(5, 3, 7);
        let input = crate::kernels::inputs::uniform_vec::<f32>(4 * 5, 11, -1.0, 1.0);
        let labels = [0i64, 2, 1, 2];
        model.gradients(&input, &labels, 4);
        let analytic = model.grads_mut()[0][4];
        let h = 1e-2f32;
        let mut plus = model.clone();
        plus.parameters[0][4] += h;
        let mut minus = model.clone();
        minus.parameters[0][4] -= h;
        let numeric = (plus.gradients(&input, &labels, 4) - minus.gradients(&input, &labels, 4)) / (2.0 * f64::from(h));
        assert!((f64::from(analytic) - numeric).abs() < 1e-3, "{analytic} vs {numeric}");
    }

    #[test]
    fn sgd_lowers_the_loss() {
        let mut model = SoftmaxRegression::new(8, 4, 1);
        let input = crate::kernels::inputs::uniform_vec::<f32>(32 * 8, 2, -1.0, 1.0);
        let labels: Vec<i64> = (0..32).map(|i| (i % 4) as i64).collect();
        let first = model.gradients(&input, &labels, 32);
        for _ in 0..50 {
            model.gradients(&input, &labels, 32);
            model.apply_sgd(0.5);
        }
        assert!(model.gradients(&input, &labels, 32) < first);
    }
}
