//! `activation_relu` and `activation_gelu`: elementwise activations, out of place.
//!
//! ReLU y = max(x, 0): 1 FLOP per element (the max counted as one operation).
//! GELU, tanh form (Hendrycks & Gimpel 2016):
//! y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): 9 FLOP per element: x³ (2 multiplies),
//! ·0.044715, + x, ·√(2/π), tanh (counted as 1), + 1, 0.5·x, and the final product.
//! Compulsory bytes = 2·n·s (read x, write y).
//!
//! The CPU backend computes f32 GELU through [`tanh_rational`], a rational approximation of
//! tanh in plain f32 arithmetic (no libm call), so that LLVM vectorises the loop; its error
//! bound is stated there, and [`Activation::verify`] checks every element against the formula
//! in f64 (with libm's tanh) before any time counts. The FLOP count stays the formula's 9.

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

    /// The function as the CPU backend computes it: ReLU as [`ActivationOp::apply`]; f32 GELU
    /// with tanh replaced by [`tanh_rational`] (within 16·u·max(|y|, 1) of the formula); GELU
    /// in other element types as [`ActivationOp::apply`] (libm tanh).
    #[inline(always)]
    pub fn apply_fast<T: Real>(self, x: T) -> T {
        match self {
            ActivationOp::Gelu if T::DTYPE == super::Dtype::F32 => {
                let c = T::from_f64(0.797_884_560_802_865_4); // √(2/π)
                let a = T::from_f64(0.044_715);
                let half = T::from_f64(0.5);
                let one = T::from_f64(1.0);
                let inner = c * (x + a * (x * x * x));
                half * x * (one + tanh_rational(inner))
            }
            _ => self.apply(x),
        }
    }

    /// The function itself, the reference's formula (libm tanh), in the operation order
    /// implementations use.
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

/// Beyond ±this, tanh is ±1 to within half an f32 ulp (1 − tanh(7.905) ≈ 2.7×10⁻⁷ < 2⁻²¹):
/// [`tanh_rational`] clamps its argument here.
pub const TANH_CLAMP: f64 = 7.905_311_107_635_498;

/// Numerator coefficients α₁, α₃, …, α₁₃ of [`tanh_rational`] (odd powers).
const TANH_NUMERATOR: [f64; 7] = [
    4.893_524_558_917_86e-3,
    6.372_619_288_754_36e-4,
    1.485_722_357_179_79e-5,
    5.122_297_090_371_14e-8,
    -8.604_671_522_137_35e-11,
    2.000_187_904_824_77e-13,
    -2.760_768_477_423_55e-16,
];

/// Denominator coefficients β₀, β₂, β₄, β₆ of [`tanh_rational`] (even powers).
const TANH_DENOMINATOR: [f64; 4] = [
    4.893_525_185_543_85e-3,
    2.268_434_632_439_00e-3,
    1.185_347_056_866_54e-4,
    1.198_258_394_667_02e-6,
];

/// tanh(z) ≈ z·P(z²)/Q(z²), P of degree 6 and Q of degree 3 in z², with z clamped to
/// ±[`TANH_CLAMP`]: the minimax-style rational approximation Eigen uses for f32
/// (`generic_fast_tanh_float`), evaluated by Horner's rule in the element type with no
/// fused multiply-add, so every CPU rounds it alike. Plain arithmetic, a compare-select and one
/// division, which LLVM vectorises at any SIMD width (SSE2 up).
///
/// Error bound, in f32 (checked by the unit test `tanh_rational_error_bound` over 2×10⁶
/// points in [−10, 10] against f64 tanh): |tanh_rational(z) − tanh(z)| ≤ 4×10⁻⁷ (about 3.4
/// ulp of 1; measured maximum 3.25×10⁻⁷ near |z| = 5.9). GELU through it stays within 16·u·
/// max(|y|, 1) of the f64 formula (u = 2⁻²⁴; measured maximum 12.4·u near x = −4.24), half
/// of the 32·u that [`Activation::verify`] allows. Not for f64: its error is f32's.
#[inline(always)]
pub fn tanh_rational<T: Real>(z: T) -> T {
    let clamp = T::from_f64(TANH_CLAMP);
    // A compare-select rather than `max`/`min`: vectorises to blends; NaN passes through.
    let z = if z > clamp {
        clamp
    } else if z < T::default() - clamp {
        T::default() - clamp
    } else {
        z
    };
    let z2 = z * z;
    let a = TANH_NUMERATOR.map(T::from_f64);
    let b = TANH_DENOMINATOR.map(T::from_f64);
    let p = ((((((a[6] * z2 + a[5]) * z2 + a[4]) * z2 + a[3]) * z2 + a[2]) * z2 + a[1]) * z2 + a[0]) * z;
    let q = ((b[3] * z2 + b[2]) * z2 + b[1]) * z2 + b[0];
    p / q
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

    /// The bound stated on [`tanh_rational`]: within 4×10⁻⁷ of f64 tanh in f32, and f32 GELU
    /// through it within 16·u·max(|y|, 1) of the f64 formula, over [−10, 10] and at the
    /// extremes; exact at 0, odd, NaN in NaN out.
    #[test]
    fn tanh_rational_error_bound() {
        let u = 2f64.powi(-24);
        let (mut worst_tanh, mut worst_gelu) = (0f64, 0f64);
        let points = 2_000_000;
        for i in 0..=points {
            let x = (-10.0 + 20.0 * f64::from(i) / f64::from(points)) as f32;
            let t = f64::from(tanh_rational(x));
            worst_tanh = worst_tanh.max((t - f64::from(x).tanh()).abs());
            let expect = ActivationOp::Gelu.apply(f64::from(x));
            let y = f64::from(ActivationOp::Gelu.apply_fast(x));
            worst_gelu = worst_gelu.max((y - expect).abs() / expect.abs().max(1.0) / u);
        }
        assert!(worst_tanh <= 4e-7, "tanh error {worst_tanh:e}");
        assert!(worst_tanh > 1e-8, "a real approximation, not libm: {worst_tanh:e}");
        assert!(worst_gelu <= 16.0, "GELU error {worst_gelu} u");
        for x in [1e-30f32, 1e-5, 20.0, 1e10, f32::MAX] {
            assert!((f64::from(tanh_rational(x)) - f64::from(x).tanh()).abs() <= 4e-7, "{x}");
            assert_eq!(tanh_rational(-x), -tanh_rational(x));
        }
        assert_eq!(tanh_rational(0f32), 0.0);
        assert!(tanh_rational(f32::NAN).is_nan());
        assert_eq!(ActivationOp::Gelu.apply_fast(f32::INFINITY), f32::INFINITY);
        // f64 keeps libm: exact to the formula.
        assert_eq!(ActivationOp::Gelu.apply_fast(1.5f64), ActivationOp::Gelu.apply(1.5f64));
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
