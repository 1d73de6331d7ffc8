//! `conv2d`: direct 2-D convolution (cross-correlation, as deep-learning frameworks define
//! it), no bias, in NCHW or NHWC layout.
//!
//! Shapes: input N×C×H×W, weights K×C×R×S, output N×K×P×Q with
//! P = (H + 2·pad − R)/stride + 1 and Q likewise. Weights are stored OIHW (K,C,R,S) for NCHW
//! and HWIO (R,S,C,K) for NHWC, the layouts each convention's GEMM lowering wants.
//!
//! Counting: FLOP = 2·N·K·P·Q·C·R·S (padding taps are counted, as frameworks do).
//! Compulsory bytes = (N·C·H·W + K·C·R·S + N·K·P·Q)·s.

use super::inputs;
use super::verify::{dot_bound, Checker, Verification};
use super::{Dtype, ParamValue, Params, Real};
use crate::units::{Bytes, Flops};

/// Seed of the input tensor.
pub const SEED_INPUT: u64 = 21;
/// Seed of the weights.
pub const SEED_WEIGHTS: u64 = 22;

/// Memory layout of activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Batch, channels, height, width.
    Nchw,
    /// Batch, height, width, channels ("channels last").
    Nhwc,
}

impl Layout {
    /// Registry name of the kernel in this layout.
    pub fn kernel_name(self) -> &'static str {
        match self {
            Layout::Nchw => "conv2d_nchw",
            Layout::Nhwc => "conv2d_nhwc",
        }
    }
}

/// Parameters of a convolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2d {
    /// Activation layout.
    pub layout: Layout,
    /// Batch size N.
    pub batch: u64,
    /// Input channels C.
    pub in_channels: u64,
    /// Input height H.
    pub height: u64,
    /// Input width W.
    pub width: u64,
    /// Output channels K.
    pub out_channels: u64,
    /// Kernel height R.
    pub kernel_h: u64,
    /// Kernel width S.
    pub kernel_w: u64,
    /// Stride (both directions).
    pub stride: u64,
    /// Zero padding (both directions).
    pub padding: u64,
}

impl Conv2d {
    /// Output height P.
    pub fn out_h(&self) -> u64 {
        (self.height + 2 * self.padding).saturating_sub(self.kernel_h) / self.stride + 1
    }

    /// Output width Q.
    pub fn out_w(&self) -> u64 {
        (self.width + 2 * self.padding).saturating_sub(self.kernel_w) / self.stride + 1
    }

    /// Whether the shape is valid (kernel fits the padded input, stride ≥ 1, sizes ≥ 1).
    pub fn is_valid(&self) -> bool {
        self.stride >= 1
            && [self.batch, self.in_channels, self.height, self.width, self.out_channels]
                .iter()
                .all(|&v| v >= 1)
            && self.kernel_h >= 1
            && self.kernel_w >= 1
            && self.height + 2 * self.padding >= self.kernel_h
            && self.width + 2 * self.padding >= self.kernel_w
    }

    /// Parameters as numbers.
    pub fn params(&self) -> Params {
        vec![
            ("batch", ParamValue::Int(self.batch)),
            ("in_channels", ParamValue::Int(self.in_channels)),
            ("height", ParamValue::Int(self.height)),
            ("width", ParamValue::Int(self.width)),
            ("out_channels", ParamValue::Int(self.out_channels)),
            ("kernel_h", ParamValue::Int(self.kernel_h)),
            ("kernel_w", ParamValue::Int(self.kernel_w)),
            ("stride", ParamValue::Int(self.stride)),
            ("padding", ParamValue::Int(self.padding)),
        ]
    }

    /// Elements of the input tensor.
    pub fn input_len(&self) -> u64 {
        self.batch * self.in_channels * self.height * self.width
    }

    /// Elements of the weight tensor.
    pub fn weight_len(&self) -> u64 {
        self.out_channels * self.in_channels * self.kernel_h * self.kernel_w
    }

    /// Elements of the output tensor.
    pub fn output_len(&self) -> u64 {
        self.batch * self.out_channels * self.out_h() * self.out_w()
    }

    /// Length of one output's dot product, C·R·S.
    pub fn reduction_len(&self) -> u64 {
        self.in_channels * self.kernel_h * self.kernel_w
    }

    /// 2·N·K·P·Q·C·R·S.
    pub fn flops(&self) -> Flops {
        Flops(2.0 * self.output_len() as f64 * self.reduction_len() as f64)
    }

    /// (input + weights + output)·s.
    pub fn bytes(&self, elem: u64) -> Bytes {
        Bytes(((self.input_len() + self.weight_len() + self.output_len()) * elem) as f64)
    }

    /// Tensors plus the im2col workspace of the GEMM lowering (N·P·Q·C·R·S elements).
    pub fn buffer_bytes(&self, elem: u64) -> u64 {
        (self.input_len()
            + self.weight_len()
            + self.output_len()
            + self.batch * self.out_h() * self.out_w() * self.reduction_len())
            * elem
    }

    /// Index of input element (n, c, h, w) in this layout.
    pub fn input_index(&self, n: u64, c: u64, h: u64, w: u64) -> usize {
        let (cc, hh, ww) = (self.in_channels, self.height, self.width);
        (match self.layout {
            Layout::Nchw => ((n * cc + c) * hh + h) * ww + w,
            Layout::Nhwc => ((n * hh + h) * ww + w) * cc + c,
        }) as usize
    }

    /// Index of weight (k, c, r, s) in this layout's weight format (OIHW or HWIO).
    pub fn weight_index(&self, k: u64, c: u64, r: u64, s: u64) -> usize {
        let (kk, cc, rr, ss) = (self.out_channels, self.in_channels, self.kernel_h, self.kernel_w);
        (match self.layout {
            Layout::Nchw => ((k * cc + c) * rr + r) * ss + s,
            Layout::Nhwc => ((r * ss + s) * cc + c) * kk + k,
        }) as usize
    }

    /// Index of output element (n, k, p, q) in this layout.
    pub fn output_index(&self, n: u64, k: u64, p: u64, q: u64) -> usize {
        let (kk, pp, qq) = (self.out_channels, self.out_h(), self.out_w());
        (match self.layout {
            Layout::Nchw => ((n * kk + k) * pp + p) * qq + q,
            Layout::Nhwc => ((n * pp + p) * qq + q) * kk + k,
        }) as usize
    }

    /// Logical (n, k, p, q) of a flat output index.
    pub fn output_coords(&self, index: usize) -> (u64, u64, u64, u64) {
        let (kk, pp, qq) = (self.out_channels, self.out_h(), self.out_w());
        let i = index as u64;
        match self.layout {
            Layout::Nchw => (i / (kk * pp * qq), (i / (pp * qq)) % kk, (i / qq) % pp, i % qq),
            Layout::Nhwc => (i / (pp * qq * kk), i % kk, (i / (qq * kk)) % pp, (i / kk) % qq),
        }
    }

    /// The seeded input and weights, in this layout.
    pub fn inputs<T: Real>(&self) -> (Vec<T>, Vec<T>) {
        let x = inputs::uniform_vec(self.input_len() as usize, SEED_INPUT, -1.0, 1.0);
        let w = inputs::uniform_vec(self.weight_len() as usize, SEED_WEIGHTS, -1.0, 1.0);
        (x, w)
    }

    /// Reference: one output element by the direct definition, in f64, with Σ|x·w|.
    pub fn reference_element<T: Real>(&self, x: &[T], w: &[T], n: u64, k: u64, p: u64, q: u64) -> (f64, f64) {
        let mut sum = 0.0;
        let mut abs = 0.0;
        for c in 0..self.in_channels {
            for r in 0..self.kernel_h {
                for s in 0..self.kernel_w {
                    let h = (p * self.stride + r) as i64 - self.padding as i64;
                    let wc = (q * self.stride + s) as i64 - self.padding as i64;
                    if h < 0 || wc < 0 || h >= self.height as i64 || wc >= self.width as i64 {
                        continue;
                    }
                    let term = x[self.input_index(n, c, h as u64, wc as u64)].to_f64()
                        * w[self.weight_index(k, c, r, s)].to_f64();
                    sum += term;
                    abs += term.abs();
                }
            }
        }
        (sum, abs)
    }

    /// Reference: the whole output (in this layout), naive seven-loop convolution.
    pub fn reference<T: Real>(&self, x: &[T], w: &[T]) -> Vec<f64> {
        (0..self.output_len() as usize)
            .map(|i| {
                let (n, k, p, q) = self.output_coords(i);
                self.reference_element(x, w, n, k, p, q).0
            })
            .collect()
    }

    /// Checks `y`: all outputs when few, else a seeded sample; tolerance γ_{CRS+2}·Σ|x·w|.
    pub fn verify<T: Real>(&self, x: &[T], w: &[T], y: &[T]) -> Verification {
        self.verify_mixed(x, w, y, T::DTYPE, T::DTYPE)
    }

    /// [`Conv2d::verify`] for a convolution stored in `storage` (bf16, f16) and accumulated
    /// in `accumulate`; `x`, `w`, `y` hold the stored values widened exactly to `T`.
    pub fn verify_mixed<T: Real>(&self, x: &[T], w: &[T], y: &[T], storage: Dtype, accumulate: Dtype) -> Verification {
        let total = self.output_len() as usize;
        if y.len() != total {
            return Verification::failed(format!("output has {} elements, expected {total}", y.len()));
        }
        let full = (total as u64) <= super::gemm::FULL_CHECK_OUTPUTS;
        let positions: Vec<usize> = if full {
            (0..total).collect()
        } else {
            inputs::sample_positions(total, super::gemm::SAMPLED_OUTPUTS, 0xC0)
        };
        let mut checker = Checker::new(format!(
            "{} of {total} outputs against the direct convolution",
            positions.len()
        ));
        for pos in positions {
            let (n, k, p, q) = self.output_coords(pos);
            let (expect, abs) = self.reference_element(x, w, n, k, p, q);
            let tol = dot_bound(self.reduction_len(), storage, accumulate, expect, abs);
            checker.check(
                &format_args!("y[n={n},k={k},p={p},q={q}]"),
                y[pos].to_f64(),
                expect,
                tol,
            );
        }
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(layout: Layout) -> Conv2d {
        Conv2d {
            layout,
            batch: 2,
            in_channels: 3,
            height: 5,
            width: 5,
            out_channels: 4,
            kernel_h: 3,
            kernel_w: 3,
            stride: 2,
            padding: 1,
        }
    }

    #[test]
    fn counts_by_hand() {
        let c = conv(Layout::Nchw);
        // P = (5 + 2 - 3)/2 + 1 = 3
        assert_eq!((c.out_h(), c.out_w()), (3, 3));
        // 2·N·K·P·Q·C·R·S = 2·2·4·3·3·3·3·3 = 3888
        assert_eq!(c.flops(), Flops(3888.0));
        // input 2·3·5·5 = 150, weights 4·3·3·3 = 108, output 2·4·3·3 = 72 → 330 × 4 B
        assert_eq!(c.bytes(4), Bytes(1320.0));
    }

    #[test]
    fn coords_round_trip_in_both_layouts() {
        for layout in [Layout::Nchw, Layout::Nhwc] {
            let c = conv(layout);
            for i in 0..c.output_len() as usize {
                let (n, k, p, q) = c.output_coords(i);
                assert_eq!(c.output_index(n, k, p, q), i);
            }
        }
    }

    #[test]
    fn one_by_one_convolution_is_a_channel_mix() {
        let c = Conv2d {
            layout: Layout::Nhwc,
            batch: 1,
            in_channels: 2,
            height: 1,
            width: 1,
            out_channels: 1,
            kernel_h: 1,
            kernel_w: 1,
            stride: 1,
            padding: 0,
        };
        let x = [2.0f64, 3.0];
        let w = [10.0f64, 100.0];
        assert_eq!(c.reference(&x, &w), vec![320.0]);
    }
}
