//! `activation_relu` and `activation_gelu`: elementwise activations, out of place.
//!
//! ReLU y = max(x, 0): 1 FLOP per element (the max counted as one operation).
//! GELU, tanh form (Hendrycks & Gimpel 2016):
//! y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): 9 FLOP per element: x³ (2 multiplies),
//! ·0.044715, + x, ·√(2/π), tanh (counted as 1), + 1, 0.5·x, and the final product.
//! Compulsory bytes = 2·n·s (read x, write y).

use super::inputs;
use super::verify::{Checker, Verification};
use super::{ParamValue, Params, Real};
use crate::units::{Bytes, Flops};

/// Seed of the input.
pub const SEED: u64 = 61;

/// Which activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationOp {
    /// Rectified linear unit.
    Relu,
    /// Gaussian error linear unit, tanh approximation.
    Gelu,
}

impl ActivationOp {
    /// Registry name.
    pub fn kernel_name(self) -> &'static str {
        match self {
            ActivationOp::Relu => "activation_relu",
            ActivationOp::Gelu => "activation_gelu",
        }
    }

    /// FLOP per element.
    pub fn flops_per_element(self) -> u64 {
        match self {
            ActivationOp::Relu => 1,
            ActivationOp::Gelu => 9,
        }
    }

    /// The function itself, in the operation order implementations use.
    #[inline(always)]
    pub fn apply<T: Real>(self, x: T) -> T {
        match self {
            ActivationOp::Relu => x.max(T::default()),
            ActivationOp::Gelu => {
                let c = T::from_f64(0.797_884_560_802_865_4); // √(2/π)
                let a = T::from_f64(0.044_715);
                let half = T::from_f64(0.5);
                let one = T::from_f64(1.0);
                let inner = c * (x + a * (x * x * x));
                half * x * (one + inner.tanh())
            }
        }
    }
}

/// Parameters of an activation benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Activation {
    /// Which function.
    pub op: ActivationOp,
    /// Elements.
    pub n: u64,
}

impl Activation {
    /// Parameters as numbers.
    pub fn params(&self) -> Params {
        vec![("n", ParamValue::Int(self.n))]
    }

    /// FLOP per element × n.
    pub fn flops(&self) -> Flops {
        Flops((self.op.flops_per_element() * self.n) as f64)
    }

    /// 2·n·s.
    pub fn bytes(&self, elem: u64) -> Bytes {
        Bytes((2 * self.n * elem) as f64)
    }

    /// Input and output.
    pub fn buffer_bytes(&self, elem: u64) -> u64 {
        2 * self.n * elem
    }

    /// Seeded input in [−4, 4).
    pub fn input<T: Real>(&self) -> Vec<T> {
        inputs::uniform_vec(self.n as usize, SEED, -4.0, 4.0)
    }

    /// Reference in f64 from the same formula.
    pub fn reference<T: Real>(&self, x: &[T]) -> Vec<f64> {
        x.iter().map(|v| self.op.apply(v.to_f64())).collect()
    }

    /// Checks every element: ReLU exactly, GELU to 16 ulps of max(|y|, 1) (it rounds about
    /// nine times in the element type where the reference works in f64).
    pub fn verify<T: Real>(&self, x: &[T], y: &[T]) -> Verification {
        if y.len() != x.len() {
            return Verification::failed(format!("output has {} elements, expected {}", y.len(), x.len()));
        }
        let u = T::DTYPE.unit_roundoff();
        let mut checker = Checker::new(format!("all {} elements against the formula in f64", self.n));
        for (i, (xi, yi)) in x.iter().zip(y).enumerate() {
            let expect = self.op.apply(xi.to_f64());
            let tol = match self.op {
                ActivationOp::Relu => 0.0,
                ActivationOp::Gelu => 32.0 * u * expect.abs().max(1.0),
            };
            checker.check(&format_args!("y[{i}]"), yi.to_f64(), expect, tol);
        }
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_hand() {
        let relu = Activation {
            op: ActivationOp::Relu,
            n: 100,
        };
        let gelu = Activation {
            op: ActivationOp::Gelu,
            n: 100,
        };
        assert_eq!(relu.flops(), Flops(100.0));
        assert_eq!(gelu.flops(), Flops(900.0));
        assert_eq!(gelu.bytes(4), Bytes(800.0));
    }

    #[test]
    fn known_values() {
        assert_eq!(ActivationOp::Relu.apply(-2.0f64), 0.0);
        assert_eq!(ActivationOp::Relu.apply(3.0f64), 3.0);
        assert_eq!(ActivationOp::Gelu.apply(0.0f64), 0.0);
        // GELU(1) ≈ 0.841192 (tanh form)
        assert!((ActivationOp::Gelu.apply(1.0f64) - 0.841_192).abs() < 1e-6);
        // Large negative inputs go to 0, large positive to x.
        assert!(ActivationOp::Gelu.apply(-10.0f64).abs() < 1e-10);
        assert!((ActivationOp::Gelu.apply(10.0f64) - 10.0).abs() < 1e-10);
    }
}
