//! `gemm`: C = A·B with A (m×k), B (k×n), C (m×n), all row-major.
//!
//! Counting: FLOP = 2·m·n·k (one multiply and one add per term). Compulsory bytes =
//! (m·k + k·n + m·n)·s: A and B read once, C written once (β = 0, C is not read).

use super::inputs;
use super::verify::{dot_bound, Checker, Verification};
use super::{Dtype, ParamValue, Params, Real};
use crate::units::{Bytes, Flops};

/// Seeds of the two operands.
pub const SEED_A: u64 = 11;
/// Seed of B.
pub const SEED_B: u64 = 12;

/// Outputs compared in full up to this many; beyond it a seeded sample of [`SAMPLED_OUTPUTS`].
pub const FULL_CHECK_OUTPUTS: u64 = 1 << 16;
/// Size of the sampled check.
pub const SAMPLED_OUTPUTS: usize = 1024;

/// Parameters of a matrix product.
#[derive(Debug, Clone, PartialEq)]
pub struct Gemm {
    /// Rows of A and C.
    pub m: u64,
    /// Columns of B and C.
    pub n: u64,
    /// Columns of A, rows of B.
    pub k: u64,
}

impl Gemm {
    /// A square product of order `n`.
    pub fn square(n: u64) -> Gemm {
        Gemm { m: n, n, k: n }
    }

    /// Parameters as numbers.
    pub fn params(&self) -> Params {
        vec![
            ("m", ParamValue::Int(self.m)),
            ("n", ParamValue::Int(self.n)),
            ("k", ParamValue::Int(self.k)),
        ]
    }

    /// 2·m·n·k.
    pub fn flops(&self) -> Flops {
        Flops(2.0 * self.m as f64 * self.n as f64 * self.k as f64)
    }

    /// (m·k + k·n + m·n)·s.
    pub fn bytes(&self, elem: u64) -> Bytes {
        Bytes(((self.m * self.k + self.k * self.n + self.m * self.n) * elem) as f64)
    }

    /// Same as the compulsory bytes: three matrices.
    pub fn buffer_bytes(&self, elem: u64) -> u64 {
        (self.m * self.k + self.k * self.n + self.m * self.n) * elem
    }

    /// The seeded operands A and B.
    pub fn inputs<T: Real>(&self) -> (Vec<T>, Vec<T>) {
        let a = inputs::uniform_vec((self.m * self.k) as usize, SEED_A, -1.0, 1.0);
        let b = inputs::uniform_vec((self.k * self.n) as usize, SEED_B, -1.0, 1.0);
        (a, b)
    }

    /// Reference: one output element, accumulated in f64, with Σ|a·b| for the error bound.
    pub fn reference_element<T: Real>(&self, a: &[T], b: &[T], i: usize, j: usize) -> (f64, f64) {
        let (n, k) = (self.n as usize, self.k as usize);
        let mut sum = 0.0;
        let mut abs = 0.0;
        for p in 0..k {
            let term = a[i * k + p].to_f64() * b[p * n + j].to_f64();
            sum += term;
            abs += term.abs();
        }
        (sum, abs)
    }

    /// Reference: the whole product, naive triple loop in f64.
    pub fn reference<T: Real>(&self, a: &[T], b: &[T]) -> Vec<f64> {
        let (m, n) = (self.m as usize, self.n as usize);
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = self.reference_element(a, b, i, j).0;
            }
        }
        c
    }

    /// Checks `c` against the reference: every element when there are at most
    /// [`FULL_CHECK_OUTPUTS`], else a seeded sample. Tolerance γ_{k+2}·Σ|a·b| (module `verify`).
    pub fn verify<T: Real>(&self, a: &[T], b: &[T], c: &[T]) -> Verification {
        self.verify_mixed(a, b, c, T::DTYPE, T::DTYPE)
    }

    /// [`Gemm::verify`] for a product whose operands and result are stored in `storage`
    /// (bf16, f16) and accumulated in `accumulate`: `a`, `b` and `c` hold the stored values
    /// widened exactly to `T`; the bound is [`dot_bound`].
    pub fn verify_mixed<T: Real>(&self, a: &[T], b: &[T], c: &[T], storage: Dtype, accumulate: Dtype) -> Verification {
        let (m, n) = (self.m as usize, self.n as usize);
        if c.len() != m * n {
            return Verification::failed(format!("output has {} elements, expected {}", c.len(), m * n));
        }
        let total = (m * n) as u64;
        let positions: Vec<usize> = if total <= FULL_CHECK_OUTPUTS {
            (0..m * n).collect()
        } else {
            inputs::sample_positions(m * n, SAMPLED_OUTPUTS, 0x6E33)
        };
        let what = if total <= FULL_CHECK_OUTPUTS {
            format!("all {total} outputs against the naive product")
        } else {
            format!(
                "{} sampled of {total} outputs against the naive product",
                positions.len()
            )
        };
        let mut checker = Checker::new(what);
        for pos in positions {
            let (i, j) = (pos / n, pos % n);
            let (expect, abs) = self.reference_element(a, b, i, j);
            let tol = dot_bound(self.k, storage, accumulate, expect, abs);
            checker.check(&format_args!("C[{i},{j}]"), c[pos].to_f64(), expect, tol);
        }
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_hand() {
        // m=2, n=3, k=4: 2·2·3·4 = 48 FLOP; (8 + 12 + 6) elements × 4 B = 104 B.
        let g = Gemm { m: 2, n: 3, k: 4 };
        assert_eq!(g.flops(), Flops(48.0));
        assert_eq!(g.bytes(4), Bytes(104.0));
        assert_eq!(Gemm::square(1024).flops(), Flops(2.0 * 1024f64.powi(3)));
        // 1x1x1: one multiply-add.
        assert_eq!(Gemm::square(1).flops(), Flops(2.0));
    }

    #[test]
    fn reference_of_a_known_product() {
        let g = Gemm { m: 2, n: 2, k: 2 };
        let a = [1.0f64, 2.0, 3.0, 4.0];
        let b = [5.0f64, 6.0, 7.0, 8.0];
        assert_eq!(g.reference(&a, &b), vec![19.0, 22.0, 43.0, 50.0]);
        assert!(g.verify(&a, &b, &[19.0, 22.0, 43.0, 50.0]).passed);
        let wrong = g.verify(&a, &b, &[19.0, 22.0, 43.0, 50.001]);
        // Stored in bf16 (u = 2^-8), accumulated in f32: 50.001 is within one bf16 rounding
        // of 50, 50.5 is not.
        let bf16 = |c: f64| g.verify_mixed(&a, &b, &[19.0, 22.0, 43.0, c], Dtype::Bf16, Dtype::F32);
        assert!(bf16(50.001).passed);
        assert!(!bf16(50.5).passed);
        assert!(!wrong.passed);
        assert!(wrong.detail.contains("C[1,1]"), "{}", wrong.detail);
    }
}
