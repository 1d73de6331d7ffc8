//! Checking a backend's forward output against the f64 reference, with a forward error bound.

use super::{Layer, ModelBench};
use crate::verify::{gamma, Checker, Verification};
use crate::Real;

impl ModelBench {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Architecture;

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
