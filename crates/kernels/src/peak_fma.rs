//! `peak_fma`: independent register-resident FMA chains, the attainable compute ceiling
//! (the same idea as likwid-bench's `peakflops`).
//!
//! Each worker thread keeps `chains` vector accumulators of `lanes` elements in registers and
//! updates every one `iters` times with `x ← x·a + b`. Enough independent chains hide the FMA
//! latency (4 cycles on recent Intel cores, two FMA ports ⇒ at least 8 chains).
//!
//! Counting: FLOP = 2 · workers · chains · lanes · iters (an FMA is 2 FLOP); bytes = 0.

use super::{ParamValue, Params, Real};
use crate::units::{Bytes, Flops};

/// Multiplier of the recurrence; close to 1 so values stay bounded for millions of steps.
pub const FMA_MULTIPLIER: f64 = 0.999_999;
/// Addend of the recurrence.
pub const FMA_ADDEND: f64 = 1.0e-6;

/// Parameters of the FMA-chain kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct PeakFma {
    /// Vector accumulators per worker.
    pub chains: u64,
    /// Elements per accumulator (SIMD width in elements of the dtype).
    pub lanes: u64,
    /// Updates per accumulator per call.
    pub iters: u64,
    /// Worker threads, each running its own chains.
    pub workers: u64,
}

impl PeakFma {
    /// Parameters as numbers.
    pub fn params(&self) -> Params {
        vec![
            ("chains", ParamValue::Int(self.chains)),
            ("lanes", ParamValue::Int(self.lanes)),
            ("iters", ParamValue::Int(self.iters)),
            ("workers", ParamValue::Int(self.workers)),
        ]
    }

    /// 2 · workers · chains · lanes · iters.
    pub fn flops(&self) -> Flops {
        Flops(2.0 * (self.workers * self.chains * self.lanes * self.iters) as f64)
    }

    /// Register-resident: no memory traffic.
    pub fn bytes(&self) -> Bytes {
        Bytes(0.0)
    }

    /// Initial value of chain `chain` (distinct per chain so no two chains are the same).
    pub fn initial<T: Real>(chain: u64) -> T {
        T::from_f64(1.0 + chain as f64 * 1.0e-3)
    }

    /// Reference: the final value of one chain after `iters` fused updates, computed scalarly.
    /// A correctly vectorised kernel produces this value bit for bit in every lane, because
    /// a fused multiply-add is correctly rounded whatever the vector width.
    pub fn reference<T: Real>(&self, chain: u64) -> T {
        let a = T::from_f64(FMA_MULTIPLIER);
        let b = T::from_f64(FMA_ADDEND);
        let mut x = Self::initial::<T>(chain);
        for _ in 0..self.iters {
            x = x.mul_add(a, b);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flop_count_is_two_per_lane_per_fma() {
        let k = PeakFma {
            chains: 16,
            lanes: 16,
            iters: 1000,
            workers: 2,
        };
        // 2 workers × 16 chains × 16 lanes × 1000 iters × 2 FLOP = 1,024,000
        assert_eq!(k.flops(), Flops(1_024_000.0));
        assert_eq!(k.bytes(), Bytes(0.0));
    }

    #[test]
    fn reference_recurrence_converges_to_its_fixed_point() {
        // x* = b / (1 - a) = 1e-6 / 1e-6 = 1; after many steps x moves from 1.0 toward 1.
        let k = PeakFma {
            chains: 1,
            lanes: 1,
            iters: 10,
            workers: 1,
        };
        let x: f64 = k.reference(5);
        let mut expect = 1.005f64;
        for _ in 0..10 {
            expect = expect.mul_add(FMA_MULTIPLIER, FMA_ADDEND);
        }
        assert_eq!(x, expect);
    }
}
