//! Checking a backend's output against a kernel's reference implementation.
//!
//! Tolerances are error bounds, not magic numbers: for a length-k dot product computed in
//! any order in precision u, |fl(x·y) − x·y| ≤ γ_k Σ|x_i y_i| with γ_k = k u / (1 − k u)
//! (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1). Kernels that
//! are computed elementwise with the reference's exact operation order must match to a few
//! ulps.

use serde::{Deserialize, Serialize};

/// Outcome of comparing a backend's output with the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// Whether every checked element was within tolerance.
    pub passed: bool,
    /// Number of output elements compared.
    pub checked: u64,
    /// Largest |got − expected| seen.
    pub max_abs_error: f64,
    /// Largest |got − expected| / tolerance seen (≤ 1 passes).
    pub max_error_ratio: f64,
    /// What was compared and, on failure, where it first went wrong.
    pub detail: String,
}

impl Verification {
    /// A verification that trivially passed with nothing to compare (e.g. no output).
    pub fn exact(checked: u64, detail: impl Into<String>) -> Verification {
        Verification {
            passed: true,
            checked,
            max_abs_error: 0.0,
            max_error_ratio: 0.0,
            detail: detail.into(),
        }
    }

    /// A failed verification with a reason.
    pub fn failed(detail: impl Into<String>) -> Verification {
        Verification {
            passed: false,
            checked: 0,
            max_abs_error: f64::NAN,
            max_error_ratio: f64::INFINITY,
            detail: detail.into(),
        }
    }
}

/// Error bound of one `k`-term dot product (reference `expect`, Σ|terms| `abs`) whose inputs
/// are exact in `storage`, accumulated in `accumulate`, with the result rounded to `storage`:
/// γ_{k+2}(u_acc)·Σ|a·b|, plus, when the result is rounded to a narrower type than it was
/// accumulated in (bf16/f16 storage with f32 accumulation, as libtorch's CPU kernels and
/// cuBLAS's default do), one rounding of the result: u_storage·(|expect| + that bound).
pub fn dot_bound(k: u64, storage: super::Dtype, accumulate: super::Dtype, expect: f64, abs: f64) -> f64 {
    let bound = gamma(k + 2, accumulate.unit_roundoff()) * abs;
    if storage == accumulate {
        bound
    } else {
        bound + storage.unit_roundoff() * (expect.abs() + bound)
    }
}

/// γ_k = k u / (1 − k u), the relative error bound of a k-term sum or dot product.
pub fn gamma(k: u64, unit_roundoff: f64) -> f64 {
    let ku = k as f64 * unit_roundoff;
    if ku >= 0.5 {
        // Bound degenerates; fall back to a loose but finite relative bound.
        1.0
    } else {
        ku / (1.0 - ku)
    }
}

/// Accumulates element comparisons into a [`Verification`].
#[derive(Debug)]
pub struct Checker {
    what: String,
    checked: u64,
    max_abs_error: f64,
    max_error_ratio: f64,
    first_failure: Option<String>,
}

impl Checker {
    /// Starts a check described by `what` (e.g. "sampled 256 of 1048576 outputs").
    pub fn new(what: impl Into<String>) -> Checker {
        Checker {
            what: what.into(),
            checked: 0,
            max_abs_error: 0.0,
            max_error_ratio: 0.0,
            first_failure: None,
        }
    }

    /// Compares one element at `position` against `expected` with absolute tolerance `tol`.
    pub fn check(&mut self, position: &dyn std::fmt::Display, got: f64, expected: f64, tol: f64) {
        self.checked += 1;
        let error = (got - expected).abs();
        let ratio = if error == 0.0 {
            0.0
        } else if tol > 0.0 && !error.is_nan() {
            error / tol
        } else {
            f64::INFINITY
        };
        self.max_error_ratio = self.max_error_ratio.max(ratio);
        self.max_abs_error = if error.is_nan() {
            f64::INFINITY
        } else {
            self.max_abs_error.max(error)
        };
        if ratio > 1.0 && self.first_failure.is_none() {
            self.first_failure = Some(format!(
                "at {position}: got {got:e}, expected {expected:e}, tolerance {tol:e}"
            ));
        }
    }

    /// Records a mismatch in a discrete quantity (spike, count) that must match exactly.
    pub fn check_exact(&mut self, position: &dyn std::fmt::Display, got: u64, expected: u64) {
        self.checked += 1;
        if got != expected {
            self.max_error_ratio = f64::INFINITY;
            if self.first_failure.is_none() {
                self.first_failure = Some(format!("at {position}: got {got}, expected {expected}"));
            }
        }
    }

    /// Finishes the check.
    pub fn finish(self) -> Verification {
        let passed = self.first_failure.is_none() && self.checked > 0;
        let detail = match (&self.first_failure, self.checked) {
            (Some(failure), _) => format!("{}: mismatch {failure}", self.what),
            (None, 0) => format!("{}: nothing was compared", self.what),
            (None, _) => self.what.clone(),
        };
        Verification {
            passed,
            checked: self.checked,
            max_abs_error: self.max_abs_error,
            max_error_ratio: self.max_error_ratio,
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_matches_definition() {
        let u = f64::EPSILON / 2.0;
        assert!((gamma(10, u) - 10.0 * u / (1.0 - 10.0 * u)).abs() < 1e-30);
        assert_eq!(gamma(u64::MAX, 0.1), 1.0);
    }

    #[test]
    fn checker_passes_within_and_fails_outside_tolerance() {
        let mut ok = Checker::new("t");
        ok.check(&0, 1.0, 1.0 + 1e-9, 1e-8);
        let v = ok.finish();
        assert!(v.passed);
        assert!((v.max_error_ratio - 0.1).abs() < 1e-6, "{}", v.max_error_ratio);

        let mut bad = Checker::new("t");
        bad.check(&3, 1.0, 2.0, 1e-3);
        bad.check(&4, 1.0, 1.0, 1e-3);
        let v = bad.finish();
        assert!(!v.passed);
        assert!(v.detail.contains("at 3"), "{}", v.detail);

        let mut nan = Checker::new("t");
        nan.check(&0, f64::NAN, 1.0, 1.0);
        assert!(!nan.finish().passed);

        assert!(!Checker::new("t").finish().passed, "checking nothing must not pass");
    }
}
