//! `attention`: one head of scaled dot-product attention, O = softmax(Q·Kᵀ/√d)·V, with
//! Q, K, V and O of shape n×d (row-major), no mask.
//!
//! Counting: Q·Kᵀ is 2·n²·d FLOP and P·V another 2·n²·d. Per score, 6 FLOP are counted:
//! the 1/√d scale, the row max (a comparison), the subtraction, exp (counted as 1), the
//! row sum and the division. Total 4·n²·d + 6·n². Compulsory bytes = 4·n·d·s (Q, K, V read,
//! O written); the n×n score matrix is a temporary and its traffic is not counted.

use super::inputs;
use super::verify::{gamma, Checker, Verification};
use super::{ParamValue, Params, Real};
use crate::units::{Bytes, Flops};

/// Seeds of Q, K, V.
pub const SEEDS: [u64; 3] = [51, 52, 53];

/// Rows checked in full when the problem is large (every column of each).
pub const SAMPLED_ROWS: usize = 16;

/// Parameters of one attention head.
#[derive(Debug, Clone, PartialEq)]
pub struct Attention {
    /// Sequence length n.
    pub seq_len: u64,
    /// Head dimension d.
    pub head_dim: u64,
}

impl Attention {
    /// Parameters as numbers.
    pub fn params(&self) -> Params {
        vec![
            ("seq_len", ParamValue::Int(self.seq_len)),
            ("head_dim", ParamValue::Int(self.head_dim)),
        ]
    }

    /// 4·n²·d + 6·n².
    pub fn flops(&self) -> Flops {
        let (n, d) = (self.seq_len as f64, self.head_dim as f64);
        Flops(4.0 * n * n * d + 6.0 * n * n)
    }

    /// 4·n·d·s.
    pub fn bytes(&self, elem: u64) -> Bytes {
        Bytes((4 * self.seq_len * self.head_dim * elem) as f64)
    }

    /// Q, K, V, O and the n×n scores.
    pub fn buffer_bytes(&self, elem: u64) -> u64 {
        (4 * self.seq_len * self.head_dim + self.seq_len * self.seq_len) * elem
    }

    /// The 1/√d factor.
    pub fn scale(&self) -> f64 {
        1.0 / (self.head_dim as f64).sqrt()
    }

    /// Seeded Q, K, V.
    pub fn inputs<T: Real>(&self) -> [Vec<T>; 3] {
        let len = (self.seq_len * self.head_dim) as usize;
        SEEDS.map(|seed| inputs::uniform_vec(len, seed, -1.0, 1.0))
    }

    /// Reference: one output row in f64 by the definition; also the largest Σ|q·k|·scale
    /// of that row (for the error bound).
    pub fn reference_row<T: Real>(&self, q: &[T], k: &[T], v: &[T], row: usize) -> (Vec<f64>, f64) {
        let (n, d) = (self.seq_len as usize, self.head_dim as usize);
        let scale = self.scale();
        let mut scores = vec![0.0; n];
        let mut max_abs_sum: f64 = 0.0;
        for (j, score) in scores.iter_mut().enumerate() {
            let mut s = 0.0;
            let mut a = 0.0;
            for p in 0..d {
                let t = q[row * d + p].to_f64() * k[j * d + p].to_f64();
                s += t;
                a += t.abs();
            }
            *score = s * scale;
            max_abs_sum = max_abs_sum.max(a * scale);
        }
        let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let total: f64 = weights.iter().sum();
        let mut out = vec![0.0; d];
        for (j, w) in weights.iter().enumerate() {
            for p in 0..d {
                out[p] += w / total * v[j * d + p].to_f64();
            }
        }
        (out, max_abs_sum)
    }

    /// Reference: the whole output.
    pub fn reference<T: Real>(&self, q: &[T], k: &[T], v: &[T]) -> Vec<f64> {
        (0..self.seq_len as usize)
            .flat_map(|row| self.reference_row(q, k, v, row).0)
            .collect()
    }

    /// Checks `o`: every row when n²·d is small, else [`SAMPLED_ROWS`] seeded rows.
    ///
    /// Tolerance (first-order bound): a score's error is at most γ_{d+2}·Σ|q·k|/√d =: δ;
    /// exp and the normalisation turn that into a relative error of each weight of at most
    /// 2δ + γ_{n+8} (the row sum is an n-term sum; 8u covers exp's few-ulp error), and the
    /// weighted sum of V adds γ_{n+2}. Weights sum to 1 and |V| ≤ max|V|, so
    /// |ΔO| ≤ (4δ + 2γ_{n+8} + γ_{n+2})·max|V|.
    pub fn verify<T: Real>(&self, q: &[T], k: &[T], v: &[T], o: &[T]) -> Verification {
        let (n, d) = (self.seq_len as usize, self.head_dim as usize);
        if o.len() != n * d {
            return Verification::failed(format!("output has {} elements, expected {}", o.len(), n * d));
        }
        let full = (self.seq_len * self.seq_len * self.head_dim) <= (1 << 24);
        let rows: Vec<usize> = if full {
            (0..n).collect()
        } else {
            inputs::sample_positions(n, SAMPLED_ROWS, 0xA77)
        };
        let u = T::DTYPE.unit_roundoff();
        let vmax = v.iter().map(|x| x.to_f64().abs()).fold(0.0, f64::max);
        let mut checker = Checker::new(format!(
            "{} of {n} rows (all columns) against the definition",
            rows.len()
        ));
        for row in rows {
            let (expect, score_abs) = self.reference_row(q, k, v, row);
            let delta = gamma(self.head_dim + 2, u) * score_abs;
            let tol = (4.0 * delta + 2.0 * gamma(self.seq_len + 8, u) + gamma(self.seq_len + 2, u)) * vmax;
            for (p, e) in expect.iter().enumerate() {
                checker.check(&format_args!("O[{row},{p}]"), o[row * d + p].to_f64(), *e, tol);
            }
        }
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_hand() {
        // n = 4, d = 2: 4·16·2 + 6·16 = 128 + 96 = 224 FLOP; 4·4·2·4 B = 128 B
        let a = Attention {
            seq_len: 4,
            head_dim: 2,
        };
        assert_eq!(a.flops(), Flops(224.0));
        assert_eq!(a.bytes(4), Bytes(128.0));
    }

    #[test]
    fn uniform_scores_average_the_values() {
        // All-zero Q gives equal weights: every output row is the mean of V's rows.
        let a = Attention {
            seq_len: 3,
            head_dim: 1,
        };
        let q = [0.0f64; 3];
        let k = [1.0f64, 2.0, 3.0];
        let v = [3.0f64, 6.0, 9.0];
        for o in a.reference(&q, &k, &v) {
            assert!((o - 6.0).abs() < 1e-12);
        }
    }
}
