//! The kernel registry: what each benchmark computes, how much work it is, and how to check it.
//!
//! A kernel is a spec (its parameters as numbers), an analytic FLOP count, an analytic
//! compulsory byte count (the convention is written in each kernel's doc comment, following
//! `METHODS.md`), deterministic seeded inputs, and a naive reference implementation that
//! every backend's output is verified against before its time counts.

pub mod activation;
pub mod attention;
pub mod conv2d;
pub mod gemm;
pub mod inputs;
pub mod lif_step;
pub mod microcircuit;
pub mod models;
pub mod peak_fma;
pub mod plant;
pub mod registry;
pub mod scatter_add;
pub mod spmv_synapses;
pub mod stream;
pub mod verify;

// The bottom layer, under the names the rest of braingap uses for it.
use braingap_core::units;

use crate::units::{Bytes, Flops};
use serde::{Deserialize, Serialize};
use std::fmt;

pub use activation::{Activation, ActivationOp};
pub use attention::Attention;
pub use conv2d::{Conv2d, Layout};
pub use gemm::Gemm;
pub use lif_step::LifStep;
pub use microcircuit::Microcircuit;
pub use peak_fma::PeakFma;
pub use scatter_add::ScatterAdd;
pub use spmv_synapses::SpmvSynapses;
pub use stream::{Stream, StreamOp};
pub use verify::Verification;

pub use braingap_core::dtype::Dtype;

/// A floating-point element type the pure-Rust kernels are generic over. The impls are
/// `#[inline]`: the backends call them per element from another crate.
pub trait Real:
    Copy
    + Send
    + Sync
    + Default
    + PartialOrd
    + fmt::Debug
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + 'static
{
    /// The matching [`Dtype`].
    const DTYPE: Dtype;
    /// Rounds an `f64` to this type.
    fn from_f64(x: f64) -> Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Fused multiply-add `self * a + b`, rounded once.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// e^self.
    fn exp(self) -> Self;
    /// The larger of two values.
    fn max(self, other: Self) -> Self;
}

impl Real for f32 {
    const DTYPE: Dtype = Dtype::F32;
    #[inline]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f32::mul_add(self, a, b)
    }
    #[inline]
    fn tanh(self) -> Self {
        f32::tanh(self)
    }
    #[inline]
    fn exp(self) -> Self {
        f32::exp(self)
    }
    #[inline]
    fn max(self, other: Self) -> Self {
        f32::max(self, other)
    }
}

impl Real for f64 {
    const DTYPE: Dtype = Dtype::F64;
    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f64::mul_add(self, a, b)
    }
    #[inline]
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    #[inline]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline]
    fn max(self, other: Self) -> Self {
        f64::max(self, other)
    }
}

/// One parameter value: kept as a number, never as a string to parse back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue {
    /// A count or size.
    Int(u64),
    /// A real-valued setting (a rate, a constant).
    Float(f64),
}

impl ParamValue {
    /// The value as `f64`.
    pub fn as_f64(self) -> f64 {
        match self {
            ParamValue::Int(v) => v as f64,
            ParamValue::Float(v) => v,
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
        }
    }
}

/// A kernel's parameters in declaration order.
pub type Params = Vec<(&'static str, ParamValue)>;

/// A parameter value as a short name shows it: whole multiples of 2²⁰ as `Mi`, of 2¹⁰ as
/// `Ki` (4194304 → `4Mi`), other whole numbers as they are, fractions as `f64` prints them.
fn compact_value(value: f64) -> String {
    const KI: f64 = 1024.0;
    const MI: f64 = 1024.0 * 1024.0;
    if value.fract() != 0.0 || value < 0.0 {
        return format!("{value}");
    }
    if value >= MI && (value % MI) == 0.0 {
        format!("{}Mi", value / MI)
    } else if value >= KI && (value % KI) == 0.0 {
        format!("{}Ki", value / KI)
    } else {
        format!("{value}")
    }
}

/// The short display name of a benchmark, `kernel/dtype telling-parameters`, e.g. `gemm/f32
/// 512³`, `stream_triad/f64 n=16Mi,nt`, `conv2d_nhwc/f32 c=64,hw=56`: the one or two
/// parameters that tell the rows of the bundled profiles apart (a test holds every profile's
/// short names unique). `param` looks a parameter up by name, so the same rule serves a
/// [`BenchSpec`] and a stored row's parameter object. The full name
/// ([`BenchSpec::name`]) stays in every file.
pub fn short_name(kernel: &str, dtype: &str, param: &dyn Fn(&str) -> Option<f64>) -> String {
    let show = |key: &str, label: &str| param(key).map(|v| format!("{label}={}", compact_value(v)));
    let flag = |key: &str, label: &str| (param(key) == Some(1.0)).then(|| label.to_string());
    let parts: Vec<Option<String>> = match kernel {
        "peak_fma" => vec![],
        "gemm" => match (param("m"), param("n"), param("k")) {
            (Some(m), Some(n), Some(k)) if m == n && n == k => vec![Some(format!("{}³", compact_value(m)))],
            (Some(m), Some(n), Some(k)) => vec![Some(format!(
                "{}×{}×{}",
                compact_value(m),
                compact_value(n),
                compact_value(k)
            ))],
            _ => vec![],
        },
        k if k.starts_with("conv2d") => vec![show("in_channels", "c"), show("height", "hw")],
        k if k.starts_with("stream_") => vec![show("n", "n"), flag("nontemporal", "nt")],
        k if k.starts_with("activation_") => vec![show("n", "n")],
        "spmv_synapses" => vec![show("neurons", "n"), show("fan_in", "fan_in")],
        "scatter_add" => vec![show("group", "group")],
        "lif_step" => vec![show("neurons", "neurons")],
        "attention" => vec![show("seq_len", "seq"), show("head_dim", "d")],
        "microcircuit" => vec![show("scale", "scale"), show("k_scale", "K")],
        // End-to-end models: the batch (`b`) and whether it is a training step; the network's
        // shape is fixed per model name in the registry.
        _ => vec![show("batch", "b"), flag("train", "train")],
    };
    let parts: Vec<String> = parts.into_iter().flatten().collect();
    if parts.is_empty() {
        format!("{kernel}/{dtype}")
    } else {
        format!("{kernel}/{dtype} {}", parts.join(","))
    }
}

/// Converts parameters to a JSON object of numbers.
pub fn params_json(params: &Params) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (name, value) in params {
        let number = match value {
            ParamValue::Int(v) => serde_json::Value::from(*v),
            ParamValue::Float(v) => serde_json::Value::from(*v),
        };
        map.insert((*name).to_string(), number);
    }
    serde_json::Value::Object(map)
}

/// Which kind of discrete event a kernel counts besides FLOPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Spikes delivered along synapses (spikes × fan-out).
    SynapticEvents,
    /// Spikes emitted by neurons.
    Spikes,
}

impl EventKind {
    /// Name as stored in results.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SynapticEvents => "synaptic_events",
            EventKind::Spikes => "spikes",
        }
    }
}

/// The closed set of kernels braingap knows.
#[derive(Debug, Clone, PartialEq)]
pub enum Kernel {
    /// Register-resident FMA chains: the attainable compute ceiling.
    PeakFma(PeakFma),
    /// STREAM copy/scale/add/triad.
    Stream(Stream),
    /// Dense matrix product.
    Gemm(Gemm),
    /// 2-D convolution.
    Conv2d(Conv2d),
    /// Spike propagation through sparse synapses.
    SpmvSynapses(SpmvSynapses),
    /// Spike delivery's random-access limit: grouped scatter-add of packed synapse words.
    ScatterAdd(ScatterAdd),
    /// Leaky integrate-and-fire update.
    LifStep(LifStep),
    /// One head of scaled dot-product attention.
    Attention(Attention),
    /// Elementwise activation.
    Activation(Activation),
    /// An end-to-end network: inference or a training step on a batch ([`crate::models`]).
    Model(crate::models::ModelBench),
    /// The Potjans-Diesmann cortical microcircuit, 1 ms of biological time per call.
    Microcircuit(Microcircuit),
}

/// One benchmark: a kernel, its element type.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchSpec {
    /// What is computed.
    pub kernel: Kernel,
    /// Element type of the buffers.
    pub dtype: Dtype,
}

impl BenchSpec {
    /// Creates a spec.
    pub fn new(kernel: Kernel, dtype: Dtype) -> BenchSpec {
        BenchSpec { kernel, dtype }
    }

    /// The kernel's registry name, e.g. `gemm`, `stream_triad`, `conv2d_nhwc`.
    pub fn kernel_name(&self) -> &'static str {
        match &self.kernel {
            Kernel::PeakFma(_) => "peak_fma",
            Kernel::Stream(s) => s.op.kernel_name(),
            Kernel::Gemm(_) => "gemm",
            Kernel::Conv2d(c) => c.layout.kernel_name(),
            Kernel::SpmvSynapses(_) => "spmv_synapses",
            Kernel::ScatterAdd(_) => "scatter_add",
            Kernel::LifStep(_) => "lif_step",
            Kernel::Attention(_) => "attention",
            Kernel::Activation(a) => a.op.kernel_name(),
            Kernel::Model(m) => m.architecture.kernel_name(),
            Kernel::Microcircuit(_) => "microcircuit",
        }
    }

    /// The kernel's parameters, as numbers.
    pub fn params(&self) -> Params {
        match &self.kernel {
            Kernel::PeakFma(k) => k.params(),
            Kernel::Stream(k) => k.params(),
            Kernel::Gemm(k) => k.params(),
            Kernel::Conv2d(k) => k.params(),
            Kernel::SpmvSynapses(k) => k.params(),
            Kernel::ScatterAdd(k) => k.params(),
            Kernel::LifStep(k) => k.params(),
            Kernel::Attention(k) => k.params(),
            Kernel::Activation(k) => k.params(),
            Kernel::Model(k) => k.params(),
            Kernel::Microcircuit(k) => k.params(),
        }
    }

    /// Unique benchmark name: `kernel/dtype/p1=v1,p2=v2`.
    pub fn name(&self) -> String {
        let params = self
            .params()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        format!("{}/{}/{}", self.kernel_name(), self.dtype, params)
    }

    /// Short display name for terminals and narrow tables: the kernel, its dtype and the one
    /// or two parameters that tell its rows apart (see [`short_name`]); files keep
    /// [`BenchSpec::name`].
    pub fn short_name(&self) -> String {
        let params = self.params();
        short_name(self.kernel_name(), self.dtype.as_str(), &|key| {
            params.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_f64())
        })
    }

    /// Analytic FLOPs of one call.
    pub fn flops(&self) -> Flops {
        match &self.kernel {
            Kernel::PeakFma(k) => k.flops(),
            Kernel::Stream(k) => k.flops(),
            Kernel::Gemm(k) => k.flops(),
            Kernel::Conv2d(k) => k.flops(),
            Kernel::SpmvSynapses(k) => k.flops(),
            Kernel::ScatterAdd(k) => k.flops(),
            Kernel::LifStep(k) => k.flops(),
            Kernel::Attention(k) => k.flops(),
            Kernel::Activation(k) => k.flops(),
            Kernel::Model(k) => k.flops(),
            Kernel::Microcircuit(k) => k.flops(),
        }
    }

    /// Analytic compulsory bytes of one call.
    pub fn bytes(&self) -> Bytes {
        let size = self.dtype.size_bytes();
        match &self.kernel {
            Kernel::PeakFma(k) => k.bytes(),
            Kernel::Stream(k) => k.bytes(size),
            Kernel::Gemm(k) => k.bytes(size),
            Kernel::Conv2d(k) => k.bytes(size),
            Kernel::SpmvSynapses(k) => k.bytes(size),
            Kernel::ScatterAdd(k) => k.bytes(),
            Kernel::LifStep(k) => k.bytes(size),
            Kernel::Attention(k) => k.bytes(size),
            Kernel::Activation(k) => k.bytes(size),
            Kernel::Model(k) => k.bytes(size),
            Kernel::Microcircuit(k) => k.bytes(),
        }
    }

    /// Bytes of buffers a backend allocates for this benchmark (checked against free memory).
    pub fn buffer_bytes(&self) -> u64 {
        let size = self.dtype.size_bytes();
        match &self.kernel {
            Kernel::PeakFma(_) => 0,
            Kernel::Stream(k) => k.buffer_bytes(size),
            Kernel::Gemm(k) => k.buffer_bytes(size),
            Kernel::Conv2d(k) => k.buffer_bytes(size),
            Kernel::SpmvSynapses(k) => k.buffer_bytes(size),
            Kernel::ScatterAdd(k) => k.buffer_bytes(),
            Kernel::LifStep(k) => k.buffer_bytes(size),
            Kernel::Attention(k) => k.buffer_bytes(size),
            Kernel::Activation(k) => k.buffer_bytes(size),
            Kernel::Model(k) => k.buffer_bytes(size),
            Kernel::Microcircuit(k) => k.buffer_bytes(),
        }
    }

    /// Arithmetic intensity in FLOP per compulsory byte (`None` when no bytes move).
    pub fn arithmetic_intensity(&self) -> Option<f64> {
        self.flops().intensity(self.bytes())
    }

    /// The discrete events this kernel counts, if any.
    pub fn event_kind(&self) -> Option<EventKind> {
        match &self.kernel {
            Kernel::SpmvSynapses(_) | Kernel::ScatterAdd(_) | Kernel::Microcircuit(_) => {
                Some(EventKind::SynapticEvents)
            }
            Kernel::LifStep(_) => Some(EventKind::Spikes),
            // Inference only: a training step's spikes are not counted.
            Kernel::Model(m) if !m.train && matches!(m.architecture, crate::models::Architecture::Spiking { .. }) => {
                Some(EventKind::SynapticEvents)
            }
            _ => None,
        }
    }

    /// Whether this benchmark measures a roofline ceiling (`peak_fma`, `stream_triad`).
    pub fn is_ceiling(&self) -> bool {
        matches!(
            &self.kernel,
            Kernel::PeakFma(_)
                | Kernel::Stream(Stream {
                    op: StreamOp::Triad,
                    ..
                })
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_short(kernel: Kernel, dtype: Dtype) -> String {
        BenchSpec::new(kernel, dtype).short_name()
    }

    #[test]
    fn short_names_keep_the_telling_parameters() {
        assert_eq!(spec_short(Kernel::Gemm(Gemm::square(512)), Dtype::F32), "gemm/f32 512³");
        assert_eq!(
            spec_short(
                Kernel::Gemm(Gemm {
                    m: 1024,
                    n: 256,
                    k: 768
                }),
                Dtype::F64
            ),
            "gemm/f64 1Ki×256×768"
        );
        assert_eq!(
            spec_short(
                Kernel::Stream(Stream {
                    op: StreamOp::Triad,
                    n: 16 << 20,
                    nontemporal: true
                }),
                Dtype::F64
            ),
            "stream_triad/f64 n=16Mi,nt"
        );
        assert_eq!(
            spec_short(
                Kernel::Stream(Stream {
                    op: StreamOp::Copy,
                    n: 1000,
                    nontemporal: false
                }),
                Dtype::F64
            ),
            "stream_copy/f64 n=1000"
        );
        assert_eq!(
            spec_short(
                Kernel::Activation(Activation {
                    op: ActivationOp::Gelu,
                    n: 1 << 22
                }),
                Dtype::F32
            ),
            "activation_gelu/f32 n=4Mi"
        );
        assert_eq!(
            spec_short(Kernel::Microcircuit(Microcircuit::at_scale(0.05, 1.0)), Dtype::F64),
            "microcircuit/f64 scale=0.05,K=1"
        );
    }

    #[test]
    fn short_names_read_a_stored_parameter_object_alike() {
        // A stored row has its parameters as a JSON object of numbers: the same rule applies.
        let json = serde_json::json!({"m": 512, "n": 512, "k": 512});
        let lookup = |key: &str| json.get(key).and_then(serde_json::Value::as_f64);
        assert_eq!(short_name("gemm", "f32", &lookup), "gemm/f32 512³");
        let model = serde_json::json!({"batch": 64, "train": 1, "parameters": 266610});
        let lookup = |key: &str| model.get(key).and_then(serde_json::Value::as_f64);
        assert_eq!(short_name("model_mlp", "f32", &lookup), "model_mlp/f32 b=64,train");
        assert_eq!(short_name("peak_fma", "f64", &|_| Some(8.0)), "peak_fma/f64");
    }
}
