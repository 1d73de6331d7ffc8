//! The libtorch backend (feature `torch`), through the `tch` crate: the registry's kernels as
//! libtorch calls them (oneDNN/MKL on `cpu`, cuBLAS/cuDNN on `cuda:N`), and the end-to-end
//! model benchmarks of [`crate::models`].
//!
//! Every benchmark is verified before it is timed with the same reference implementation
//! the pure-Rust backend is checked against: inputs come from the kernel's seeded generators,
//! are copied to the device once (untimed), and one call's output is copied back to a host
//! `Vec` and handed to the kernel's `verify`. Timing: outputs are allocated in `prepare` and
//! written through libtorch's `out=` kernels (`mm_out`, `add_out`, `gelu_out`, ...), so the
//! timed loop allocates nothing, except where libtorch has no `out=` kernel (conv2d,
//! the models), which allocate their outputs as every libtorch caller does; on CUDA the
//! device is synchronised before the clock starts and before it is read.

use super::{Backend, BackendError, Batch, Prepared};
use crate::kernels::activation::ActivationOp;
use crate::kernels::conv2d::Layout;
use crate::kernels::lif_step::LifState;
use crate::kernels::stream::STREAM_SCALAR;
use crate::kernels::verify::Checker;
use crate::kernels::{
    Activation, Attention, BenchSpec, Conv2d, Dtype, Gemm, Kernel, LifStep, Real, SpmvSynapses, Stream, StreamOp,
    Verification,
};
use crate::units::Seconds;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// The libtorch backend on one device.
pub struct TorchBackend {
    device: Device,
    threads: usize,
}

/// Parses `cpu` or `cuda:N` (`cuda` means `cuda:0`).
pub fn parse_device(text: &str) -> Result<Device, String> {
    match text {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Ok(Device::Cuda(0)),
        _ => match text.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(index)) => Ok(Device::Cuda(index)),
            _ => Err(format!("{text:?} is not a device (expected cpu, cuda or cuda:N)")),
        },
    }
}

impl TorchBackend {
    /// A backend on `device` (`cpu`, `cuda:N`) with libtorch's intra-op pool set to `threads`.
    /// Fails, naming the device, when the device does not exist in this process.
    pub fn new(device: &str, threads: usize) -> Result<TorchBackend, BackendError> {
        let setup = |reason: String| BackendError::Setup {
            backend: "torch".into(),
            reason,
        };
        let device = parse_device(device).map_err(setup)?;
        if let Device::Cuda(index) = device {
            if let Err(why) = load_libtorch_cuda() {
                return Err(setup(format!(
                    "device cuda:{index} is not available: libtorch_cuda.so could not be loaded ({why}); \
                     a CPU-only libtorch, or its lib folder is not on LD_LIBRARY_PATH"
                )));
            }
            let count = tch::Cuda::device_count();
            if count <= index as i64 {
                let why = if tch::Cuda::is_available() {
                    format!("libtorch sees {count} CUDA device(s), numbered from 0")
                } else {
                    "libtorch finds no usable CUDA device here (no NVIDIA GPU or driver, or a CPU-only libtorch)"
                        .to_string()
                };
                return Err(setup(format!("device cuda:{index} is not available: {why}")));
            }
        }
        tch::set_num_threads(threads as i32);
        keep_freed_memory();
        Ok(TorchBackend { device, threads })
    }

    fn unsupported(&self, spec: &BenchSpec, reason: &str) -> BackendError {
        BackendError::Unsupported {
            backend: "torch".into(),
            benchmark: spec.name(),
            reason: reason.into(),
        }
    }
}

/// Loads `libtorch_cuda.so` (once; later calls find it loaded). libtorch registers its CUDA
/// backend from that library's initialisers, and the linker drops the library from a binary
/// that calls none of its symbols (`--as-needed`, tch links no symbol of it), so without this
/// libtorch sees no GPU. Loading it only for `--device cuda` keeps CPU runs from loading the
/// CUDA libraries.
fn load_libtorch_cuda() -> Result<(), String> {
    let name = c"libtorch_cuda.so";
    // SAFETY: dlopen with a NUL-terminated name; the handle is deliberately never closed, so
    // the library stays loaded for the life of the process.
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if !handle.is_null() {
        return Ok(());
    }
    // SAFETY: dlerror returns NULL or a NUL-terminated message owned by libc, copied at once.
    let message = unsafe { libc::dlerror() };
    Err(if message.is_null() {
        "dlopen gave no reason".into()
    } else {
        unsafe { std::ffi::CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned()
    })
}

/// Device name as results store it: `cpu`, `cuda:0`.
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".into(),
        Device::Vulkan => "vulkan".into(),
    }
}

impl Backend for TorchBackend {
    fn kind(&self) -> braingap_core::backend_kind::BackendKind {
        braingap_core::backend_kind::BackendKind::Torch
    }

    fn device(&self) -> String {
        device_name(self.device)
    }

    fn threads(&self) -> u64 {
        self.threads as u64
    }

    fn supports(&self, spec: &BenchSpec) -> Result<(), BackendError> {
        if narrow_kind(spec.dtype).is_some() && !matches!(spec.kernel, Kernel::Gemm(_) | Kernel::Conv2d(_)) {
            return Err(self.unsupported(
                spec,
                "bf16/f16 run for gemm and conv2d only (their references check stored values accumulated in f32)",
            ));
        }
        match &spec.kernel {
            Kernel::PeakFma(_) => Err(self.unsupported(
                spec,
                "register-resident FMA chains are a CPU-backend ceiling; libtorch has no such operation",
            )),
            Kernel::Stream(s) if s.nontemporal => Err(self.unsupported(
                spec,
                "libtorch chooses its own stores; non-temporal stores cannot be requested",
            )),
            Kernel::Conv2d(c) if !c.is_valid() => Err(self.unsupported(spec, "invalid convolution shape")),
            // Seen on an H200 (torch 2.11, CUDA 13): cusparseCreateCsr answered "invalid
            // value" for 4,096 neurons × 7,000 synapses, while 16,384 × 7,000 ran. With more
            // synapses per neuron than neurons, the matrix (sampled with replacement) stores
            // more entries than it has cells, which is the difference we infer cuSPARSE
            // rejects. Summing the duplicates would time a smaller matrix, so such shapes
            // are left to the CPU backends.
            Kernel::SpmvSynapses(s) if matches!(self.device, Device::Cuda(_)) && s.fan_in > s.neurons => {
                Err(self.unsupported(
                    spec,
                    &format!(
                        "cuSPARSE rejects (cusparseCreateCsr: invalid value) a CSR matrix with more stored entries than cells \
                         ({} neurons × {} synapses each > {} × {}); the CPU backends run it",
                        s.neurons, s.fan_in, s.neurons, s.neurons
                    ),
                ))
            }
            Kernel::Model(m) => crate::torch_models::supports(m, spec.dtype).map_err(|r| self.unsupported(spec, &r)),
            Kernel::ScatterAdd(_) => Err(self.unsupported(
                spec,
                "the scatter-add measures the CPU simulator's delivery limit; it runs on the cpu backend",
            )),
            Kernel::Microcircuit(_) => Err(self.unsupported(
                spec,
                "the microcircuit runs on the cpu backend (its own simulator, not tensor operations)",
            )),
            _ => Ok(()),
        }
    }

    fn prepare<'a>(&'a self, spec: &BenchSpec) -> Result<Box<dyn Prepared + 'a>, BackendError> {
        self.supports(spec)?;
        let ctx = Ctx { device: self.device };
        let _guard = tch::no_grad_guard();
        Ok(match spec.dtype {
            Dtype::F32 => prepare_typed::<f32>(ctx, spec, None),
            Dtype::F64 => prepare_typed::<f64>(ctx, spec, None),
            Dtype::Bf16 | Dtype::F16 => {
                let narrow = narrow_kind(spec.dtype).map(|kind| Narrow {
                    kind,
                    dtype: spec.dtype,
                });
                prepare_typed::<f32>(ctx, spec, narrow)
            }
        })
    }
}

/// Makes glibc's malloc keep and reuse memory that libtorch frees, as it ends up doing in a
/// long-running Python process. libtorch allocates the outputs of conv2d and of the models on
/// every call (about 3 MiB for the quick convolution); with glibc's defaults in this process
/// each such block was mapped, page-faulted and returned to the kernel on every call, which
/// made libtorch's NHWC convolution 1.5x slower from braingap than from Python's torch
/// (`scripts/compare-torch.sh`). Blocks up to 32 MiB now come from the heap (M_MMAP_THRESHOLD)
/// and the heap is not trimmed below 1 GiB of free memory (M_TRIM_THRESHOLD). Returns whether
/// glibc accepted both; elsewhere (musl, other systems) it does nothing and returns false.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; both values are within glibc's
        // accepted ranges (the mmap threshold's maximum is 32 MiB on 64-bit).
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1 && libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Where tensors live, and how to wait for them.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    /// The device.
    pub device: Device,
}

impl Ctx {
    /// Waits until every queued kernel on the device has finished (a no-op on the CPU,
    /// where libtorch calls return when their work is done).
    pub fn sync(&self) {
        if let Device::Cuda(index) = self.device {
            tch::Cuda::synchronize(index as i64);
        }
    }

    /// Times `iters` calls of `call`: synchronise, start the clock, run, synchronise, read it.
    pub fn time(&self, iters: u64, mut call: impl FnMut()) -> Seconds {
        let _guard = tch::no_grad_guard();
        self.sync();
        let start = Instant::now();
        for _ in 0..iters {
            call();
        }
        self.sync();
        Seconds::from_duration(start.elapsed())
    }

    /// Copies a host slice to a tensor of `shape` on the device.
    pub fn tensor<T: tch::kind::Element>(&self, data: &[T], shape: &[i64]) -> Tensor {
        Tensor::from_slice(data).view(shape).to_device(self.device)
    }
}

/// Element types the torch backend runs: the registry's [`Real`] types that libtorch knows.
pub trait TorchReal: Real + tch::kind::Element {}
impl TorchReal for f32 {}
impl TorchReal for f64 {}

/// Copies a tensor (any device, any strides) back to a host `Vec` in its logical row-major order.
pub fn to_host<T: TorchReal>(t: &Tensor) -> Vec<T> {
    let host = t.to_device(Device::Cpu).contiguous();
    let n = host.numel();
    let mut out = vec![T::default(); n];
    host.copy_data(&mut out, n);
    out
}

/// Reduced-precision storage of a kernel's tensors: the libtorch kind and the registry dtype.
#[derive(Clone, Copy, Debug)]
struct Narrow {
    kind: Kind,
    dtype: Dtype,
}

/// libtorch's kind for a reduced-precision dtype.
fn narrow_kind(dtype: Dtype) -> Option<Kind> {
    match dtype {
        Dtype::Bf16 => Some(Kind::BFloat16),
        Dtype::F16 => Some(Kind::Half),
        Dtype::F32 | Dtype::F64 => None,
    }
}

/// `host` rounded elementwise to `narrow`'s kind and widened back to `T`.
fn round_like<T: TorchReal>(host: &[T], narrow: Narrow) -> Vec<T> {
    to_host::<T>(&Tensor::from_slice(host).to_kind(narrow.kind).to_kind(T::KIND))
}

fn prepare_typed<'a, T: TorchReal>(ctx: Ctx, spec: &BenchSpec, narrow: Option<Narrow>) -> Box<dyn Prepared + 'a> {
    if narrow.is_some() {
        return match &spec.kernel {
            Kernel::Gemm(k) => Box::new(GemmRun::<T>::new(ctx, k.clone(), narrow)),
            Kernel::Conv2d(k) => Box::new(ConvRun::<T>::new(ctx, k.clone(), narrow)),
            _ => unreachable!("checked in supports"),
        };
    }
    match &spec.kernel {
        Kernel::Stream(k) => Box::new(StreamRun::<T>::new(ctx, k.clone())),
        Kernel::Gemm(k) => Box::new(GemmRun::<T>::new(ctx, k.clone(), None)),
        Kernel::Conv2d(k) => Box::new(ConvRun::<T>::new(ctx, k.clone(), None)),
        Kernel::SpmvSynapses(k) => Box::new(SpmvRun::<T>::new(ctx, k.clone())),
        Kernel::LifStep(k) => Box::new(LifRun::<T>::new(ctx, k.clone())),
        Kernel::Attention(k) => Box::new(AttentionRun::<T>::new(ctx, k.clone())),
        Kernel::Activation(k) => Box::new(ActivationRun::<T>::new(ctx, k.clone())),
        Kernel::Model(m) => crate::torch_models::prepare::<T>(ctx, m),
        Kernel::PeakFma(_) | Kernel::ScatterAdd(_) | Kernel::Microcircuit(_) => unreachable!("checked in supports"),
    }
}

fn batch(elapsed: Seconds) -> Batch {
    Batch { elapsed, events: 0 }
}

struct StreamRun<T> {
    ctx: Ctx,
    kernel: Stream,
    x_host: Vec<T>,
    y_host: Vec<T>,
    x: Tensor,
    y: Tensor,
    scalar: Tensor,
    out: Tensor,
}

impl<T: TorchReal> StreamRun<T> {
    fn new(ctx: Ctx, kernel: Stream) -> Self {
        let n = kernel.n as usize;
        let x_host: Vec<T> = crate::kernels::inputs::uniform_vec(n, 71, -1.0, 1.0);
        let y_host: Vec<T> = crate::kernels::inputs::uniform_vec(n, 72, -1.0, 1.0);
        let x = ctx.tensor(&x_host, &[n as i64]);
        let y = ctx.tensor(&y_host, &[n as i64]);
        // A 0-dimensional tensor acts as a scalar operand of mul.out/addcmul.out (both have
        // real out= kernels; their Scalar overloads are composites that allocate).
        let scalar = ctx.tensor(&[T::from_f64(STREAM_SCALAR)], &[]);
        let out = x.zeros_like();
        StreamRun {
            ctx,
            kernel,
            x_host,
            y_host,
            x,
            y,
            scalar,
            out,
        }
    }

    fn call(&mut self) {
        match self.kernel.op {
            StreamOp::Copy => {
                self.out.copy_(&self.x);
            }
            StreamOp::Scale => {
                let _ = self.x.mul_out(&self.out, &self.scalar);
            }
            StreamOp::Add => {
                let _ = self.x.add_out(&self.out, &self.y);
            }
            StreamOp::Triad => {
                let _ = self.x.addcmul_out(&self.out, &self.y, &self.scalar);
            }
        }
    }
}

impl<T: TorchReal> Prepared for StreamRun<T> {
    fn verify(&mut self) -> Verification {
        let _ = self.out.fill_(f64::NAN);
        let _guard = tch::no_grad_guard();
        self.call();
        let got = to_host::<T>(&self.out);
        let op = self.kernel.op;
        let u = T::DTYPE.unit_roundoff();
        // One rounding of slack: a GPU compiler may contract x + q·y into one FMA.
        let mut checker = Checker::new(format!(
            "all {} elements against the scalar formula (1 ulp allowed for FMA contraction)",
            self.kernel.n
        ));
        for (i, g) in got.iter().enumerate() {
            let second = if op.inputs() == 2 { self.y_host[i] } else { T::default() };
            let e = op.reference(self.x_host[i], second).to_f64();
            checker.check(&format_args!("element {i}"), g.to_f64(), e, 2.0 * u * e.abs());
        }
        checker.finish()
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        batch(ctx.time(iters, || self.call()))
    }
}

struct GemmRun<T> {
    ctx: Ctx,
    kernel: Gemm,
    a_host: Vec<T>,
    b_host: Vec<T>,
    a: Tensor,
    b: Tensor,
    c: Tensor,
    narrow: Option<Narrow>,
}

impl<T: TorchReal> GemmRun<T> {
    fn new(ctx: Ctx, kernel: Gemm, narrow: Option<Narrow>) -> Self {
        let (mut a_host, mut b_host) = kernel.inputs::<T>();
        let (m, n, k) = (kernel.m as i64, kernel.n as i64, kernel.k as i64);
        let mut a = ctx.tensor(&a_host, &[m, k]);
        let mut b = ctx.tensor(&b_host, &[k, n]);
        if let Some(narrow) = narrow {
            (a_host, b_host) = (round_like(&a_host, narrow), round_like(&b_host, narrow));
            (a, b) = (a.to_kind(narrow.kind), b.to_kind(narrow.kind));
        }
        let c = Tensor::zeros([m, n], (a.kind(), ctx.device));
        GemmRun {
            narrow,
            ctx,
            kernel,
            a_host,
            b_host,
            a,
            b,
            c,
        }
    }
}

impl<T: TorchReal> Prepared for GemmRun<T> {
    fn verify(&mut self) -> Verification {
        let _ = self.c.fill_(f64::NAN);
        let _guard = tch::no_grad_guard();
        let _ = self.a.mm_out(&self.c, &self.b);
        let c = to_host::<T>(&self.c.to_kind(T::KIND));
        match self.narrow {
            // libtorch accumulates bf16/f16 products in f32 (oneDNN on the CPU, cuBLAS's
            // default compute type on CUDA) and rounds the result to the stored type.
            Some(narrow) => self
                .kernel
                .verify_mixed(&self.a_host, &self.b_host, &c, narrow.dtype, Dtype::F32),
            None => self.kernel.verify(&self.a_host, &self.b_host, &c),
        }
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let (a, b, c) = (&self.a, &self.b, &self.c);
        batch(self.ctx.time(iters, || {
            let _ = a.mm_out(c, b);
        }))
    }
}

struct ConvRun<T> {
    ctx: Ctx,
    kernel: Conv2d,
    x_host: Vec<T>,
    w_host: Vec<T>,
    /// Logical NCHW view of the input (channels-last strides for `conv2d_nhwc`).
    x: Tensor,
    /// Logical KCRS view of the weights (channels-last strides for `conv2d_nhwc`).
    w: Tensor,
    y: Tensor,
    narrow: Option<Narrow>,
}

impl<T: TorchReal> ConvRun<T> {
    fn new(ctx: Ctx, kernel: Conv2d, narrow: Option<Narrow>) -> Self {
        let (mut x_host, mut w_host) = kernel.inputs::<T>();
        let (n, c, h, w_) = (
            kernel.batch as i64,
            kernel.in_channels as i64,
            kernel.height as i64,
            kernel.width as i64,
        );
        let (k, r, s) = (
            kernel.out_channels as i64,
            kernel.kernel_h as i64,
            kernel.kernel_w as i64,
        );
        let (x, w) = match kernel.layout {
            Layout::Nchw => (ctx.tensor(&x_host, &[n, c, h, w_]), ctx.tensor(&w_host, &[k, c, r, s])),
            Layout::Nhwc => {
                // NHWC data viewed as NCHW is libtorch's channels-last format; the HWIO weights
                // are reordered once (untimed) to OHWI, channels-last for weights, so oneDNN
                // does not reorder them on every call.
                let x = ctx.tensor(&x_host, &[n, h, w_, c]).permute([0, 3, 1, 2]);
                let w = ctx
                    .tensor(&w_host, &[r, s, c, k])
                    .permute([3, 0, 1, 2])
                    .contiguous()
                    .permute([0, 3, 1, 2]);
                (x, w)
            }
        };
        let (x, w) = match narrow {
            // Elementwise rounding: the host vectors keep their own (NCHW or NHWC/HWIO) order.
            // `to_kind` keeps the channels-last strides.
            Some(narrow) => {
                x_host = round_like(&x_host, narrow);
                w_host = round_like(&w_host, narrow);
                (x.to_kind(narrow.kind), w.to_kind(narrow.kind))
            }
            None => (x, w),
        };
        let y = Tensor::zeros([1], (x.kind(), ctx.device));
        ConvRun {
            narrow,
            ctx,
            kernel,
            x_host,
            w_host,
            x,
            w,
            y,
        }
    }

    fn call(&mut self) {
        let k = &self.kernel;
        let (stride, pad) = (k.stride as i64, k.padding as i64);
        self.y = match self.ctx.device {
            Device::Cpu => self
                .x
                .conv2d(&self.w, None::<Tensor>, [stride, stride], [pad, pad], [1, 1], 1),
            // What `conv2d` calls, with cuDNN's TF32 math off (libtorch's default is on), so
            // that an f32 convolution is one in f32 and passes the f32 reference check.
            Device::Cuda(_) => self.x.internal_convolution(
                &self.w,
                None::<Tensor>,
                [stride, stride],
                [pad, pad],
                [1, 1],
                false,
                [0, 0],
                1,
                false,
                false,
                true,
                false,
            ),
            other => unreachable!("TorchBackend::new accepts cpu and cuda only, not {other:?}"),
        };
    }
}

impl<T: TorchReal> Prepared for ConvRun<T> {
    fn verify(&mut self) -> Verification {
        let _guard = tch::no_grad_guard();
        self.call();
        let y = self.y.to_kind(T::KIND);
        let y = match self.kernel.layout {
            Layout::Nchw => to_host::<T>(&y),
            // Back to the registry's NHWC order.
            Layout::Nhwc => to_host::<T>(&y.permute([0, 2, 3, 1])),
        };
        let mut v = match self.narrow {
            Some(narrow) => self
                .kernel
                .verify_mixed(&self.x_host, &self.w_host, &y, narrow.dtype, Dtype::F32),
            None => self.kernel.verify(&self.x_host, &self.w_host, &y),
        };
        if self.kernel.layout == Layout::Nhwc {
            let strides = self.y.stride();
            v.detail = format!("{}; output strides {strides:?} (channels-last)", v.detail);
        }
        v
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        batch(ctx.time(iters, || self.call()))
    }
}

struct SpmvRun<T> {
    ctx: Ctx,
    kernel: SpmvSynapses,
    syn: crate::kernels::spmv_synapses::Synapses<T>,
    matrix: Tensor,
    spikes: Tensor,
    y: Tensor,
}

impl<T: TorchReal> SpmvRun<T> {
    fn new(ctx: Ctx, kernel: SpmvSynapses) -> Self {
        let syn = kernel.build::<T>();
        let n = kernel.neurons as i64;
        // 32-bit indices where they fit, as the registry's CSR stores its columns.
        let (crow, col) = if kernel.nnz() < i32::MAX as u64 {
            let crow: Vec<i32> = syn.row_offsets.iter().map(|&o| o as i32).collect();
            let col: Vec<i32> = syn.columns.iter().map(|&c| c as i32).collect();
            (Tensor::from_slice(&crow), Tensor::from_slice(&col))
        } else {
            let crow: Vec<i64> = syn.row_offsets.iter().map(|&o| o as i64).collect();
            let col: Vec<i64> = syn.columns.iter().map(|&c| i64::from(c)).collect();
            (Tensor::from_slice(&crow), Tensor::from_slice(&col))
        };
        let values = Tensor::from_slice(&syn.weights);
        let matrix = Tensor::sparse_csr_tensor_crow_col_value_size(
            &crow.to_device(ctx.device),
            &col.to_device(ctx.device),
            &values.to_device(ctx.device),
            [n, n],
            (values.kind(), ctx.device),
        );
        let spikes = ctx.tensor(&syn.spikes, &[n]);
        let y = Tensor::zeros([n], (values.kind(), ctx.device));
        SpmvRun {
            ctx,
            kernel,
            syn,
            matrix,
            spikes,
            y,
        }
    }
}

impl<T: TorchReal> Prepared for SpmvRun<T> {
    fn verify(&mut self) -> Verification {
        let _ = self.y.fill_(f64::NAN);
        let _guard = tch::no_grad_guard();
        if let Err(e) = self.matrix.f_mv_out(&self.y, &self.spikes) {
            return Verification::failed(format!("libtorch sparse CSR mv failed: {e}"));
        }
        self.kernel.verify(&self.syn, &to_host::<T>(&self.y))
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let (m, x, y) = (&self.matrix, &self.spikes, &self.y);
        let elapsed = self.ctx.time(iters, || {
            let _ = m.mv_out(y, x);
        });
        Batch {
            elapsed,
            events: self.syn.events * iters,
        }
    }
}

/// The LIF step as tensor operations, all into preallocated buffers:
/// `candidate = ((v_rest − v)·decay + v) + I`, then refractory neurons hold at reset and
/// count down, the others fire where `candidate ≥ v_th`. Spikes are summed on the device
/// and read once per batch, so the timed loop never waits for the host.
struct LifRun<T> {
    ctx: Ctx,
    kernel: LifStep,
    v: Tensor,
    input: Tensor,
    refractory: Tensor,
    candidate: Tensor,
    in_refractory: Tensor,
    above: Tensor,
    fired: Tensor,
    hold: Tensor,
    v_rest: Tensor,
    decay: Tensor,
    step_spikes: Tensor,
    total_spikes: Tensor,
    _marker: std::marker::PhantomData<T>,
}

impl<T: TorchReal> LifRun<T> {
    fn new(ctx: Ctx, kernel: LifStep) -> Self {
        let n = kernel.neurons as i64;
        let state: LifState<T> = kernel.initial_state();
        let kind = Tensor::from_slice(&state.v[..0]).kind();
        let bools = (Kind::Bool, ctx.device);
        let mut run = LifRun {
            ctx,
            v: Tensor::zeros([n], (kind, ctx.device)),
            input: ctx.tensor(&state.input, &[n]),
            refractory: Tensor::zeros([n], (Kind::Int, ctx.device)),
            candidate: Tensor::zeros([n], (kind, ctx.device)),
            in_refractory: Tensor::zeros([n], bools),
            above: Tensor::zeros([n], bools),
            fired: Tensor::zeros([n], bools),
            hold: Tensor::zeros([n], bools),
            v_rest: ctx.tensor(&[T::from_f64(kernel.v_rest_mv)], &[]),
            decay: ctx.tensor(&[T::from_f64(kernel.dt_ms / kernel.tau_ms)], &[]),
            step_spikes: Tensor::zeros([], (Kind::Int64, ctx.device)),
            total_spikes: Tensor::zeros([], (Kind::Int64, ctx.device)),
            kernel,
            _marker: std::marker::PhantomData,
        };
        run.reset();
        run
    }

    fn reset(&mut self) {
        let state: LifState<T> = self.kernel.initial_state();
        let n = self.kernel.neurons as i64;
        self.v.copy_(&self.ctx.tensor(&state.v, &[n]));
        let refractory: Vec<i32> = state.refractory.iter().map(|&r| r as i32).collect();
        self.refractory.copy_(&self.ctx.tensor(&refractory, &[n]));
        let _ = self.total_spikes.zero_();
    }

    fn call(&mut self) {
        let k = &self.kernel;
        let (_, _, v_th, v_reset) = k.constants::<T>();
        let _ = self.v_rest.sub_out(&self.candidate, &self.v);
        let _ = self.candidate.mul_out(&self.candidate, &self.decay);
        let _ = self.candidate.add_out(&self.candidate, &self.v);
        let _ = self.candidate.add_out(&self.candidate, &self.input);
        let _ = self.refractory.gt_scalar_out(&self.in_refractory, 0);
        let _ = self.candidate.ge_scalar_out(&self.above, v_th.to_f64());
        let _ = self.in_refractory.logical_not_out(&self.fired);
        let _ = self.fired.logical_and_out(&self.fired, &self.above);
        let _ = self.in_refractory.logical_or_out(&self.hold, &self.fired);
        self.v.copy_(&self.candidate);
        let _ = self.v.masked_fill_(&self.hold, v_reset.to_f64());
        // refractory ← max(refractory − 1, 0), then set where fired.
        let _ = self.refractory.g_sub_scalar_(1);
        let _ = self.refractory.clamp_min_(0);
        let _ = self.refractory.masked_fill_(&self.fired, i64::from(k.refractory_steps));
        let _ = self
            .fired
            .sum_intlist_out(&self.step_spikes, None::<&[i64]>, false, Kind::Int64);
        let _ = self.total_spikes.g_add_(&self.step_spikes);
    }

    fn take_spikes(&mut self) -> u64 {
        let total = self.total_spikes.int64_value(&[]) as u64;
        let _ = self.total_spikes.zero_();
        total
    }
}

impl<T: TorchReal> Prepared for LifRun<T> {
    fn verify(&mut self) -> Verification {
        self.reset();
        let _guard = tch::no_grad_guard();
        self.call();
        let spikes = self.take_spikes();
        let refractory: Vec<i32> = {
            let host = self.refractory.to_device(Device::Cpu);
            let mut out = vec![0i32; host.numel()];
            host.copy_data(&mut out, host.numel());
            out
        };
        let spiked: Vec<u8> = {
            let host = self.fired.to_kind(Kind::Uint8).to_device(Device::Cpu);
            let mut out = vec![0u8; host.numel()];
            host.copy_data(&mut out, host.numel());
            out
        };
        let after = LifState {
            v: to_host::<T>(&self.v),
            input: Vec::new(),
            refractory: refractory.iter().map(|&r| r.max(0) as u32).collect(),
            spiked,
        };
        self.kernel.verify(&after, spikes)
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        let elapsed = ctx.time(iters, || self.call());
        Batch {
            elapsed,
            events: self.take_spikes(),
        }
    }
}

struct AttentionRun<T> {
    ctx: Ctx,
    kernel: Attention,
    host: [Vec<T>; 3],
    q: Tensor,
    k_t: Tensor,
    v: Tensor,
    scores: Tensor,
    probs: Tensor,
    out: Tensor,
}

impl<T: TorchReal> AttentionRun<T> {
    fn new(ctx: Ctx, kernel: Attention) -> Self {
        let host = kernel.inputs::<T>();
        let (n, d) = (kernel.seq_len as i64, kernel.head_dim as i64);
        let q = ctx.tensor(&host[0], &[n, d]);
        let k_t = ctx.tensor(&host[1], &[n, d]).tr();
        let v = ctx.tensor(&host[2], &[n, d]);
        let kind = q.kind();
        AttentionRun {
            ctx,
            scores: Tensor::zeros([n, n], (kind, ctx.device)),
            probs: Tensor::zeros([n, n], (kind, ctx.device)),
            out: Tensor::zeros([n, d], (kind, ctx.device)),
            kernel,
            host,
            q,
            k_t,
            v,
        }
    }

    fn call(&mut self) {
        let _ = self.q.mm_out(&self.scores, &self.k_t);
        let _ = self.scores.g_mul_scalar_(self.kernel.scale());
        let _ = self.scores.internal_softmax_out(&self.probs, 1, false);
        let _ = self.probs.mm_out(&self.out, &self.v);
    }
}

impl<T: TorchReal> Prepared for AttentionRun<T> {
    fn verify(&mut self) -> Verification {
        let _ = self.out.fill_(f64::NAN);
        let _guard = tch::no_grad_guard();
        self.call();
        let [q, k, v] = &self.host;
        self.kernel.verify(q, k, v, &to_host::<T>(&self.out))
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        batch(ctx.time(iters, || self.call()))
    }
}

struct ActivationRun<T> {
    ctx: Ctx,
    kernel: Activation,
    x_host: Vec<T>,
    x: Tensor,
    y: Tensor,
}

impl<T: TorchReal> ActivationRun<T> {
    fn new(ctx: Ctx, kernel: Activation) -> Self {
        let x_host = kernel.input::<T>();
        let x = ctx.tensor(&x_host, &[kernel.n as i64]);
        let y = x.zeros_like();
        ActivationRun {
            ctx,
            kernel,
            x_host,
            x,
            y,
        }
    }

    fn call(&mut self) {
        match self.kernel.op {
            // relu has no out= kernel of its own; clamp_min does, and computes max(x, 0).
            ActivationOp::Relu => {
                let _ = self.x.clamp_min_out(&self.y, 0.0);
            }
            // The tanh form, as the reference defines GELU.
            ActivationOp::Gelu => {
                let _ = self.x.gelu_out(&self.y, "tanh");
            }
        }
    }
}

impl<T: TorchReal> Prepared for ActivationRun<T> {
    fn verify(&mut self) -> Verification {
        let _ = self.y.fill_(f64::NAN);
        let _guard = tch::no_grad_guard();
        self.call();
        self.kernel.verify(&self.x_host, &to_host::<T>(&self.y))
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        batch(ctx.time(iters, || self.call()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_the_allocator_settings() {
        assert!(keep_freed_memory());
    }

    #[test]
    fn devices_parse() {
        assert_eq!(parse_device("cpu"), Ok(Device::Cpu));
        assert_eq!(parse_device("cuda"), Ok(Device::Cuda(0)));
        assert_eq!(parse_device("cuda:3"), Ok(Device::Cuda(3)));
        assert!(parse_device("gpu").is_err());
        assert!(parse_device("cuda:x").is_err());
    }

    #[test]
    fn missing_cuda_device_is_a_setup_error_naming_it() {
        if tch::Cuda::device_count() > 7 {
            return;
        }
        let err = TorchBackend::new("cuda:7", 1).err().expect("no cuda:7 here");
        assert!(err.to_string().contains("cuda:7"), "{err}");
    }

    fn small_conv(layout: Layout) -> Conv2d {
        Conv2d {
            layout,
            batch: 2,
            in_channels: 8,
            height: 9,
            width: 7,
            out_channels: 6,
            kernel_h: 3,
            kernel_w: 3,
            stride: 2,
            padding: 1,
        }
    }

    #[test]
    fn bf16_and_f16_gemm_and_conv_run_in_their_kind_and_verify() {
        let backend = TorchBackend::new("cpu", 1).unwrap();
        let ctx = Ctx { device: Device::Cpu };
        for (dtype, kind) in [(Dtype::Bf16, Kind::BFloat16), (Dtype::F16, Kind::Half)] {
            let narrow = Some(Narrow { kind, dtype });
            let gemm = Gemm { m: 33, n: 40, k: 300 };
            let mut run = GemmRun::<f32>::new(ctx, gemm.clone(), narrow);
            assert_eq!((run.a.kind(), run.b.kind(), run.c.kind()), (kind, kind, kind));
            let v = run.verify();
            assert!(v.passed, "{dtype:?} gemm: {}", v.detail);
            // The reference sees the rounded inputs: they differ from the f32 ones.
            let (a32, _) = gemm.inputs::<f32>();
            assert!(run.a_host.iter().zip(&a32).any(|(r, x)| r != x));
            // Checked as f32 (the f32 bound), the reduced-precision result fails: the bound of
            // the mixed check is what lets it pass, so the check is not vacuous.
            let c = to_host::<f32>(&run.c.to_kind(Kind::Float));
            assert!(!gemm.verify(&run.a_host, &run.b_host, &c).passed);
            assert!(backend.supports(&BenchSpec::new(Kernel::Gemm(gemm), dtype)).is_ok());
        }
        for layout in [Layout::Nchw, Layout::Nhwc] {
            let narrow = Some(Narrow {
                kind: Kind::BFloat16,
                dtype: Dtype::Bf16,
            });
            let mut run = ConvRun::<f32>::new(ctx, small_conv(layout), narrow);
            let v = run.verify();
            assert!(v.passed, "bf16 conv {layout:?}: {}", v.detail);
            assert_eq!(run.y.kind(), Kind::BFloat16);
        }
        let lif = BenchSpec::new(Kernel::LifStep(LifStep::with_neurons(64)), Dtype::Bf16);
        let err = backend.supports(&lif).unwrap_err().to_string();
        assert!(err.contains("bf16/f16 run for gemm and conv2d only"), "{err}");
    }
}
