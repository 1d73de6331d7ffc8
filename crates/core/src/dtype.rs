//! Element types and SIMD levels: the two closed sets that the kernels, the machine facts
//! and the GPU tables all speak of. Written to disk as the same lowercase strings as ever.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Element type of a benchmark's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// IEEE binary32.
    F32,
    /// IEEE binary64.
    F64,
    /// bfloat16 (8-bit exponent, 7-bit mantissa).
    Bf16,
    /// IEEE binary16.
    F16,
}

impl Dtype {
    /// Width of one element in bytes.
    pub fn size_bytes(self) -> u64 {
        match self {
            Dtype::F64 => 8,
            Dtype::F32 => 4,
            Dtype::Bf16 | Dtype::F16 => 2,
        }
    }

    /// Unit roundoff u = 2^-p (half the machine epsilon).
    pub fn unit_roundoff(self) -> f64 {
        match self {
            Dtype::F64 => f64::EPSILON / 2.0,
            Dtype::F32 => f64::from(f32::EPSILON) / 2.0,
            Dtype::Bf16 => 2f64.powi(-8),
            Dtype::F16 => 2f64.powi(-11),
        }
    }

    /// Lowercase name as stored in results (`f32`, `f64`, `bf16`, `f16`).
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
            Dtype::Bf16 => "bf16",
            Dtype::F16 => "f16",
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Dtype {
    type Err = String;
    /// Reads the stored name (`f32`, `f64`, `bf16`, `f16`).
    fn from_str(text: &str) -> Result<Dtype, String> {
        [Dtype::F32, Dtype::F64, Dtype::Bf16, Dtype::F16]
            .into_iter()
            .find(|d| d.as_str() == text)
            .ok_or_else(|| format!("not an element type (f32, f64, bf16, f16): {text:?}"))
    }
}

/// The widest SIMD level this CPU runs, which sets `peak_fma`'s lanes and chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimdLevel {
    /// AVX-512F: 32 zmm registers of 512 bits.
    Avx512,
    /// AVX2 + FMA: 16 ymm registers of 256 bits.
    Avx2Fma,
    /// Scalar fused multiply-add.
    Scalar,
}

impl SimdLevel {
    /// Name as stored in results (`avx512`, `avx2_fma`, `scalar`).
    pub fn as_str(self) -> &'static str {
        match self {
            SimdLevel::Avx512 => "avx512",
            SimdLevel::Avx2Fma => "avx2_fma",
            SimdLevel::Scalar => "scalar",
        }
    }

    /// Detects the level at run time (so the static target needs no AVX-512).
    pub fn detect() -> SimdLevel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return SimdLevel::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                return SimdLevel::Avx2Fma;
            }
        }
        SimdLevel::Scalar
    }

    /// Vector width in bits.
    pub fn bits(self) -> u64 {
        match self {
            SimdLevel::Avx512 => 512,
            SimdLevel::Avx2Fma => 256,
            SimdLevel::Scalar => 64,
        }
    }

    /// Elements of `dtype` per vector register.
    pub fn lanes(self, dtype: Dtype) -> u64 {
        match self {
            SimdLevel::Scalar => 1,
            _ => self.bits() / (8 * dtype.size_bytes()),
        }
    }

    /// Independent accumulators the FMA kernel keeps (enough to cover 4-cycle latency on
    /// two ports, within the register file).
    pub fn fma_chains(self) -> u64 {
        match self {
            SimdLevel::Avx512 => 16,
            SimdLevel::Avx2Fma => 12,
            SimdLevel::Scalar => 8,
        }
    }
}
