//! STREAM kernels (McCalpin): copy, scale, add, triad over arrays of `n` elements.
//!
//! Byte convention (STREAM's): each array element read or written counts once at the
//! dtype's width; write-allocate (read-for-ownership) traffic is *not* counted, so a
//! cached-store implementation moves more bytes than it is credited with, and one using
//! non-temporal stores does not. Per element with width s: copy `c=a` 2s, scale `b=q·c`
//! 2s, add `c=a+b` 3s, triad `a=b+q·c` 3s. FLOP per element: copy 0, scale 1, add 1, triad 2.

use super::{ParamValue, Params, Real};
use crate::units::{Bytes, Flops};

/// The scalar STREAM uses.
pub const STREAM_SCALAR: f64 = 3.0;

/// Which STREAM operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOp {
    /// `c[i] = a[i]`
    Copy,
    /// `b[i] = q * c[i]`
    Scale,
    /// `c[i] = a[i] + b[i]`
    Add,
    /// `a[i] = b[i] + q * c[i]`
    Triad,
}

impl StreamOp {
    /// All four, in STREAM's order.
    pub const ALL: [StreamOp; 4] = [StreamOp::Copy, StreamOp::Scale, StreamOp::Add, StreamOp::Triad];

    /// Registry name.
    pub fn kernel_name(self) -> &'static str {
        match self {
            StreamOp::Copy => "stream_copy",
            StreamOp::Scale => "stream_scale",
            StreamOp::Add => "stream_add",
            StreamOp::Triad => "stream_triad",
        }
    }

    /// Number of input arrays.
    pub fn inputs(self) -> u64 {
        match self {
            StreamOp::Copy | StreamOp::Scale => 1,
            StreamOp::Add | StreamOp::Triad => 2,
        }
    }

    /// FLOP per element.
    pub fn flops_per_element(self) -> u64 {
        match self {
            StreamOp::Copy => 0,
            StreamOp::Scale | StreamOp::Add => 1,
            StreamOp::Triad => 2,
        }
    }

    /// Reference value of one output element from its inputs (`y` unused for copy/scale).
    pub fn reference<T: Real>(self, x: T, y: T) -> T {
        let q = T::from_f64(STREAM_SCALAR);
        match self {
            StreamOp::Copy => x,
            StreamOp::Scale => q * x,
            StreamOp::Add => x + y,
            StreamOp::Triad => x + q * y,
        }
    }
}

/// Parameters of a STREAM kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// Which operation.
    pub op: StreamOp,
    /// Elements per array.
    pub n: u64,
    /// 1 when the implementation may use non-temporal (streaming) stores, else 0.
    pub nontemporal: bool,
}

impl Stream {
    /// Parameters as numbers.
    pub fn params(&self) -> Params {
        vec![
            ("n", ParamValue::Int(self.n)),
            ("nontemporal", ParamValue::Int(u64::from(self.nontemporal))),
        ]
    }

    /// FLOP per call.
    pub fn flops(&self) -> Flops {
        Flops((self.op.flops_per_element() * self.n) as f64)
    }

    /// STREAM-convention bytes per call (see module docs).
    pub fn bytes(&self, elem: u64) -> Bytes {
        Bytes(((self.op.inputs() + 1) * self.n * elem) as f64)
    }

    /// Working set of the arrays.
    pub fn buffer_bytes(&self, elem: u64) -> u64 {
        (self.op.inputs() + 1) * self.n * elem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_byte_convention_matches_mccalpin() {
        let n = 1000;
        let bytes = |op| {
            Stream {
                op,
                n,
                nontemporal: false,
            }
            .bytes(8)
        };
        assert_eq!(bytes(StreamOp::Copy), Bytes(16_000.0));
        assert_eq!(bytes(StreamOp::Scale), Bytes(16_000.0));
        assert_eq!(bytes(StreamOp::Add), Bytes(24_000.0));
        assert_eq!(bytes(StreamOp::Triad), Bytes(24_000.0));
        let triad = Stream {
            op: StreamOp::Triad,
            n,
            nontemporal: true,
        };
        assert_eq!(triad.flops(), Flops(2000.0));
        assert_eq!(triad.bytes(4), Bytes(12_000.0));
    }

    #[test]
    fn reference_ops() {
        assert_eq!(StreamOp::Triad.reference(1.0f64, 2.0), 7.0);
        assert_eq!(StreamOp::Scale.reference(2.0f32, 0.0), 6.0);
        assert_eq!(StreamOp::Add.reference(2.0f64, 0.5), 2.5);
        assert_eq!(StreamOp::Copy.reference(4.0f64, 9.0), 4.0);
    }
}
