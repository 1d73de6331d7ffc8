//! The pure-Rust CPU backend: multi-threaded (rayon, thread count settable), matrix products
//! through [`super::packed_gemm`] on AVX-512 machines and the `gemm` crate elsewhere (both
//! dispatched at run time), STREAM and
//! FMA kernels with explicit AVX-512 paths, everything else written plainly and compiled
//! twice: once for the baseline target and once with AVX-512 enabled, picked at run time.
//! The static target stays free of AVX-512 so the binary runs under valgrind.

use super::{Backend, BackendError, Batch, Prepared};
use crate::kernels::activation::ActivationOp;
use crate::kernels::conv2d::Layout;
use crate::kernels::lif_step::LifState;
use crate::kernels::peak_fma::{FMA_ADDEND, FMA_MULTIPLIER};
use crate::kernels::registry::SimdLevel;
use crate::kernels::spmv_synapses::Synapses;
use crate::kernels::stream::STREAM_SCALAR;
use crate::kernels::verify::Checker;
use crate::kernels::{
    inputs, Activation, Attention, BenchSpec, Conv2d, Dtype, Gemm, Kernel, LifStep, PeakFma, Real, SpmvSynapses,
    Stream, StreamOp, Verification,
};
use crate::units::Seconds;
use rayon::prelude::*;
use std::time::Instant;

/// The pure-Rust CPU backend.
pub struct CpuBackend {
    pool: rayon::ThreadPool,
    threads: usize,
    simd: SimdLevel,
    plant: Option<crate::kernels::plant::Plant>,
    /// The last-level cache, bytes: elementwise kernels whose arrays exceed it write their
    /// output with non-temporal stores. `None`: never.
    last_level_cache: Option<u64>,
}

impl CpuBackend {
    /// A backend with `threads` workers (≥ 1).
    pub fn new(threads: usize) -> Result<CpuBackend, BackendError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("braingap-cpu-{i}"))
            .build()
            .map_err(|e| BackendError::Setup {
                backend: "cpu".into(),
                reason: e.to_string(),
            })?;
        Ok(CpuBackend {
            pool,
            threads,
            simd: SimdLevel::detect(),
            plant: None,
            last_level_cache: None,
        })
    }

    /// The backend that knows the machine's last-level cache (`bytes`), so that an
    /// elementwise kernel whose input and output together exceed it streams its output past
    /// the caches (non-temporal stores: no read-for-ownership of lines that are only
    /// written), as the STREAM DRAM ceiling does. Without it every store is an ordinary one.
    pub fn with_last_level_cache(mut self, bytes: Option<u64>) -> CpuBackend {
        self.last_level_cache = bytes;
        self
    }

    /// The backend with a planted slowdown (the regression gate's self-check), or none.
    pub fn with_plant(mut self, plant: Option<crate::kernels::plant::Plant>) -> CpuBackend {
        self.plant = plant;
        self
    }

    /// The SIMD level the backend dispatches to.
    pub fn simd(&self) -> SimdLevel {
        self.simd
    }

    /// Runs `op` on one of the backend's worker threads. With one thread, every call made
    /// inside `op` (nested `install`s, parallel iterators) runs inline on that same thread,
    /// which `braingap run --metric instructions` relies on to count one thread under callgrind.
    pub fn install<R: Send>(&self, op: impl FnOnce() -> R + Send) -> R {
        self.pool.install(op)
    }

    fn unsupported(&self, spec: &BenchSpec, reason: &str) -> BackendError {
        BackendError::Unsupported {
            backend: "cpu".into(),
            benchmark: spec.name(),
            reason: reason.into(),
        }
    }
}

impl Backend for CpuBackend {
    fn kind(&self) -> braingap_core::backend_kind::BackendKind {
        braingap_core::backend_kind::BackendKind::Cpu
    }

    fn device(&self) -> String {
        "cpu".into()
    }

    fn threads(&self) -> u64 {
        self.threads as u64
    }

    fn supports(&self, spec: &BenchSpec) -> Result<(), BackendError> {
        if !matches!(spec.dtype, Dtype::F32 | Dtype::F64) {
            return Err(self.unsupported(spec, "the CPU backend implements f32 and f64 only"));
        }
        match &spec.kernel {
            Kernel::PeakFma(k) => {
                if k.lanes != self.simd.lanes(spec.dtype) || k.chains != self.simd.fma_chains() {
                    return Err(self.unsupported(spec, "lanes/chains do not match this CPU's SIMD level"));
                }
                if k.workers != self.threads as u64 {
                    return Err(self.unsupported(spec, "peak_fma workers must equal the thread count"));
                }
            }
            Kernel::Stream(s) if s.nontemporal && (spec.dtype != Dtype::F64 || self.simd == SimdLevel::Scalar) => {
                return Err(self.unsupported(
                    spec,
                    "non-temporal stores are implemented for f64 with AVX-512 or AVX2 only",
                ));
            }
            Kernel::Conv2d(c) if !c.is_valid() => {
                return Err(self.unsupported(spec, "invalid convolution shape"));
            }
            Kernel::Model(m) => {
                crate::cpu_mlp::supports(m).map_err(|reason| self.unsupported(spec, &reason))?;
            }
            Kernel::ScatterAdd(_) if spec.dtype != Dtype::F64 => {
                return Err(self.unsupported(spec, "the scatter-add accumulates in f64, as the microcircuit does"));
            }
            Kernel::ScatterAdd(k) => k.check().map_err(|reason| self.unsupported(spec, &reason))?,
            Kernel::Microcircuit(_) if spec.dtype != Dtype::F64 => {
                return Err(self.unsupported(spec, "the microcircuit's state is f64, as NEST's"));
            }
            Kernel::Microcircuit(k) => {
                k.sim_params(self.threads)
                    .and_then(|p| braingap_microcircuit::Derived::new(&p).map_err(|e| e.to_string()))
                    .map_err(|reason| self.unsupported(spec, &reason))?;
            }
            _ => {}
        }
        Ok(())
    }

    fn prepare<'a>(&'a self, spec: &BenchSpec) -> Result<Box<dyn Prepared + 'a>, BackendError> {
        self.supports(spec)?;
        if let Kernel::Microcircuit(k) = &spec.kernel {
            // The simulator runs its own pool of `threads` workers.
            return Ok(Box::new(super::microcircuit::MicrocircuitRun::new(
                k,
                self.threads,
                &spec.name(),
            )?));
        }
        let ctx = Ctx {
            pool: &self.pool,
            threads: self.threads,
            simd: self.simd,
            plant: self.plant.as_ref(),
            last_level_cache: self.last_level_cache,
        };
        let prepared = self.pool.install(|| match spec.dtype {
            Dtype::F32 => prepare_typed::<f32>(ctx, spec),
            Dtype::F64 => prepare_typed::<f64>(ctx, spec),
            _ => unreachable!("checked in supports"),
        });
        Ok(prepared)
    }
}

#[derive(Clone, Copy)]
struct Ctx<'a> {
    pool: &'a rayon::ThreadPool,
    threads: usize,
    simd: SimdLevel,
    plant: Option<&'a crate::kernels::plant::Plant>,
    last_level_cache: Option<u64>,
}

impl Ctx<'_> {
    /// Times `iters` calls of `call` inside the pool; sums the events it returns.
    fn time(&self, iters: u64, mut call: impl FnMut() -> u64 + Send) -> Batch {
        self.pool.install(|| {
            let start = Instant::now();
            let mut events = 0;
            for _ in 0..iters {
                events += call();
            }
            Batch {
                elapsed: Seconds::from_duration(start.elapsed()),
                events,
            }
        })
    }
}

/// Element types with explicit SIMD paths (FMA chains, streaming stores).
pub trait CpuReal: Real + super::packed_gemm::PackedGemm + super::indirect_conv::IndirectConv {
    /// Runs `chains` FMA chains of the widest SIMD level for `iters` steps into `out`
    /// (`chains × lanes` values).
    fn fma_chains(simd: SimdLevel, iters: u64, out: &mut [Self]);
    /// Non-temporal STREAM op on one chunk, where available; returns false if not.
    fn stream_nt(op: StreamOp, out: &mut [Self], x: &[Self], y: &[Self]) -> bool;
}

macro_rules! fma_chain_fn {
    ($name:ident, $feat:literal, $t:ty, $vec:ty, $set1:ident, $fmadd:ident, $store:ident, $lanes:expr, $chains:expr) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feat)]
        unsafe fn $name(iters: u64, out: &mut [$t]) {
            use std::arch::x86_64::*;
            assert!(out.len() >= $chains * $lanes);
            // black_box keeps the compiler from folding the recurrence of constants (it did,
            // for f32, which made the "peak" a measure of thread wake-up).
            let a = std::hint::black_box($set1(FMA_MULTIPLIER as $t));
            let b = std::hint::black_box($set1(FMA_ADDEND as $t));
            let mut acc: [$vec; $chains] =
                std::hint::black_box(std::array::from_fn(|c| $set1(PeakFma::initial::<$t>(c as u64))));
            for _ in 0..std::hint::black_box(iters) {
                for x in acc.iter_mut() {
                    *x = $fmadd(*x, a, b);
                }
            }
            for (c, x) in acc.iter().enumerate() {
                // SAFETY: bounds asserted above; unaligned store.
                unsafe { $store(out.as_mut_ptr().add(c * $lanes), *x) };
            }
        }
    };
}

fma_chain_fn!(
    fma_avx512_f32,
    "avx512f",
    f32,
    __m512,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_storeu_ps,
    16,
    16
);
fma_chain_fn!(
    fma_avx512_f64,
    "avx512f",
    f64,
    __m512d,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    _mm512_storeu_pd,
    8,
    16
);
fma_chain_fn!(
    fma_avx2_f32,
    "avx2,fma",
    f32,
    __m256,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_storeu_ps,
    8,
    12
);
fma_chain_fn!(
    fma_avx2_f64,
    "avx2,fma",
    f64,
    __m256d,
    _mm256_set1_pd,
    _mm256_fmadd_pd,
    _mm256_storeu_pd,
    4,
    12
);

fn fma_scalar<T: Real>(iters: u64, out: &mut [T]) {
    let a = std::hint::black_box(T::from_f64(FMA_MULTIPLIER));
    let b = std::hint::black_box(T::from_f64(FMA_ADDEND));
    let mut acc: [T; 8] = std::hint::black_box(std::array::from_fn(|c| PeakFma::initial::<T>(c as u64)));
    for _ in 0..std::hint::black_box(iters) {
        for x in acc.iter_mut() {
            *x = x.mul_add(a, b);
        }
    }
    out[..8].copy_from_slice(&acc);
}

impl CpuReal for f32 {
    fn fma_chains(simd: SimdLevel, iters: u64, out: &mut [f32]) {
        match simd {
            // SAFETY: the level was detected at run time.
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => unsafe { fma_avx512_f32(iters, out) },
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2Fma => unsafe { fma_avx2_f32(iters, out) },
            _ => fma_scalar(iters, out),
        }
    }

    fn stream_nt(_op: StreamOp, _out: &mut [f32], _x: &[f32], _y: &[f32]) -> bool {
        false
    }
}

impl CpuReal for f64 {
    fn fma_chains(simd: SimdLevel, iters: u64, out: &mut [f64]) {
        match simd {
            // SAFETY: the level was detected at run time.
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => unsafe { fma_avx512_f64(iters, out) },
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2Fma => unsafe { fma_avx2_f64(iters, out) },
            _ => fma_scalar(iters, out),
        }
    }

    fn stream_nt(op: StreamOp, out: &mut [f64], x: &[f64], y: &[f64]) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: feature detected just above.
                unsafe { stream_nt_avx512(op, out, x, y) };
                return true;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: feature detected just above.
                unsafe { stream_nt_avx2(op, out, x, y) };
                return true;
            }
        }
        let _ = (op, out, x, y);
        false
    }
}

/// STREAM op with non-temporal stores of `$lanes` f64 per vector (AVX-512: 8, AVX2: 4). The
/// head is peeled with ordinary stores until the destination is aligned to the vector width
/// (as the streaming store requires), the tail too. Triad is `x + q·y` with the multiply and
/// the add rounded apart, exactly as the scalar reference.
macro_rules! stream_nt_fn {
    ($name:ident, $feat:literal, $lanes:expr, $set1:ident, $load:ident, $stream:ident, $mul:ident, $add:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feat)]
        unsafe fn $name(op: StreamOp, out: &mut [f64], x: &[f64], y: &[f64]) {
            use std::arch::x86_64::*;
            let n = out.len();
            let align = $lanes * 8;
            let misalign = (out.as_ptr() as usize % align) / 8;
            let head = if misalign == 0 {
                0
            } else {
                ($lanes - misalign).min(n)
            };
            let body_end = head + (n - head) / $lanes * $lanes;
            for i in (0..head).chain(body_end..n) {
                out[i] = op.reference(x[i], if op.inputs() == 2 { y[i] } else { 0.0 });
            }
            let qv = $set1(STREAM_SCALAR);
            let (po, px, py) = (out.as_mut_ptr(), x.as_ptr(), y.as_ptr());
            let mut i = head;
            // SAFETY: i + lanes ≤ body_end ≤ n for every access; stores are aligned by the peel.
            unsafe {
                match op {
                    StreamOp::Copy => {
                        while i < body_end {
                            $stream(po.add(i), $load(px.add(i)));
                            i += $lanes;
                        }
                    }
                    StreamOp::Scale => {
                        while i < body_end {
                            $stream(po.add(i), $mul(qv, $load(px.add(i))));
                            i += $lanes;
                        }
                    }
                    StreamOp::Add => {
                        while i < body_end {
                            $stream(po.add(i), $add($load(px.add(i)), $load(py.add(i))));
                            i += $lanes;
                        }
                    }
                    StreamOp::Triad => {
                        while i < body_end {
                            $stream(po.add(i), $add($load(px.add(i)), $mul(qv, $load(py.add(i)))));
                            i += $lanes;
                        }
                    }
                }
                _mm_sfence();
            }
        }
    };
}

stream_nt_fn!(
    stream_nt_avx512,
    "avx512f",
    8,
    _mm512_set1_pd,
    _mm512_loadu_pd,
    _mm512_stream_pd,
    _mm512_mul_pd,
    _mm512_add_pd
);
stream_nt_fn!(
    stream_nt_avx2,
    "avx2",
    4,
    _mm256_set1_pd,
    _mm256_loadu_pd,
    _mm256_stream_pd,
    _mm256_mul_pd,
    _mm256_add_pd
);

#[inline(always)]
fn stream_plain<T: Real>(op: StreamOp, out: &mut [T], x: &[T], y: &[T]) {
    let q = T::from_f64(STREAM_SCALAR);
    match op {
        StreamOp::Copy => out.copy_from_slice(x),
        StreamOp::Scale => out.iter_mut().zip(x).for_each(|(o, &a)| *o = q * a),
        StreamOp::Add => out.iter_mut().zip(x.iter().zip(y)).for_each(|(o, (&a, &b))| *o = a + b),
        StreamOp::Triad => out
            .iter_mut()
            .zip(x.iter().zip(y))
            .for_each(|(o, (&a, &b))| *o = a + q * b),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
unsafe fn stream_plain_avx512<T: Real>(op: StreamOp, out: &mut [T], x: &[T], y: &[T]) {
    stream_plain(op, out, x, y)
}

/// Splits `0..n` into `parts` contiguous ranges aligned to 64 elements (a static schedule,
/// like OpenMP's, so each thread touches the same pages it first-touched).
fn static_ranges(n: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.max(1);
    let chunk = n.div_ceil(parts).div_ceil(64) * 64;
    (0..parts)
        .map(|p| (p * chunk).min(n)..((p + 1) * chunk).min(n))
        .filter(|r| !r.is_empty())
        .collect()
}

fn split_mut_by<'a, T>(mut data: &'a mut [T], ranges: &[std::ops::Range<usize>]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut consumed = 0;
    for r in ranges {
        let (head, tail) = std::mem::take(&mut data).split_at_mut(r.end - consumed);
        out.push(&mut head[r.start - consumed..]);
        consumed = r.end;
        data = tail;
    }
    out
}

fn prepare_typed<'a, T: CpuReal>(ctx: Ctx<'a>, spec: &BenchSpec) -> Box<dyn Prepared + 'a> {
    match &spec.kernel {
        Kernel::PeakFma(k) => Box::new(FmaRun::<T> {
            ctx,
            kernel: k.clone(),
            out: vec![vec![T::default(); (k.chains * k.lanes) as usize]; ctx.threads],
        }),
        Kernel::Stream(k) => Box::new(StreamRun::<T>::new(ctx, k.clone())),
        Kernel::Gemm(k) => {
            let (a, b) = k.inputs::<T>();
            Box::new(GemmRun {
                ctx,
                c: inputs::zeroed_vec((k.m * k.n) as usize),
                kernel: k.clone(),
                a,
                b,
            })
        }
        Kernel::Conv2d(k) => Box::new(ConvRun::<T>::new(ctx, k.clone())),
        Kernel::SpmvSynapses(k) => Box::new(SpmvRun::<T>::new(ctx, k.clone())),
        Kernel::LifStep(k) => Box::new(LifRun::<T> {
            ctx,
            state: k.initial_state(),
            kernel: k.clone(),
        }),
        Kernel::Attention(k) => Box::new(AttentionRun::<T>::new(ctx, k.clone())),
        Kernel::Activation(k) => {
            let x = k.input::<T>();
            // Arrays beyond the last-level cache: the output is streamed past it.
            let bytes = 2 * x.len() as u64 * T::DTYPE.size_bytes();
            let streamed = ctx.last_level_cache.is_some_and(|llc| bytes > llc);
            Box::new(ActivationRun {
                ctx,
                streamed,
                y: inputs::zeroed_vec(x.len()),
                planted_extra: crate::kernels::plant::extra_elements(ctx.plant, spec.kernel_name(), x.len()),
                x,
                kernel: k.clone(),
            })
        }
        Kernel::Model(m) => match m.architecture {
            crate::models::Architecture::Spiking { .. } => crate::cpu_snn::prepare::<T>(ctx.pool, m),
            _ => crate::cpu_mlp::prepare::<T>(ctx.pool, m),
        },
        Kernel::ScatterAdd(k) => Box::new(ScatterAddRun {
            ctx,
            run: crate::kernels::scatter_add::ScatterRun::new(k.clone()),
        }),
        Kernel::Microcircuit(_) => unreachable!("prepared before the typed dispatch"),
    }
}

struct FmaRun<'a, T> {
    ctx: Ctx<'a>,
    kernel: PeakFma,
    out: Vec<Vec<T>>,
}

impl<T: CpuReal> FmaRun<'_, T> {
    fn call(&mut self) {
        let (simd, iters) = (self.ctx.simd, self.kernel.iters);
        let results = self.ctx.pool.broadcast(|_| {
            let mut out = vec![T::default(); self.out[0].len()];
            T::fma_chains(simd, iters, &mut out);
            out
        });
        for (slot, r) in self.out.iter_mut().zip(results) {
            *slot = r;
        }
    }
}

impl<T: CpuReal> Prepared for FmaRun<'_, T> {
    fn verify(&mut self) -> Verification {
        self.call();
        let lanes = self.kernel.lanes as usize;
        let mut checker = Checker::new(format!(
            "every lane of {} chains on {} workers against the scalar recurrence",
            self.kernel.chains, self.kernel.workers
        ));
        let expected: Vec<T> = (0..self.kernel.chains).map(|c| self.kernel.reference::<T>(c)).collect();
        for (w, out) in self.out.iter().enumerate() {
            for (i, v) in out.iter().enumerate() {
                let e = expected[i / lanes].to_f64();
                checker.check(
                    &format_args!("worker {w} chain {} lane {}", i / lanes, i % lanes),
                    v.to_f64(),
                    e,
                    0.0,
                );
            }
        }
        checker.finish()
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let start = Instant::now();
        for _ in 0..iters {
            self.call();
        }
        Batch {
            elapsed: Seconds::from_duration(start.elapsed()),
            events: 0,
        }
    }
}

struct StreamRun<'a, T> {
    ctx: Ctx<'a>,
    kernel: Stream,
    x: Vec<T>,
    y: Vec<T>,
    out: Vec<T>,
    ranges: Vec<std::ops::Range<usize>>,
}

impl<'a, T: CpuReal> StreamRun<'a, T> {
    fn new(ctx: Ctx<'a>, kernel: Stream) -> Self {
        let n = kernel.n as usize;
        let ranges = static_ranges(n, ctx.threads);
        // Allocate uninitialised-by-us and first-touch each part on the thread that will use it.
        // On huge pages from 4 MiB up, like every large buffer of this backend (the C triad
        // peer advises its arrays the same way).
        let mut x = inputs::zeroed_vec(n);
        let mut y = if kernel.op.inputs() == 2 {
            inputs::zeroed_vec(n)
        } else {
            Vec::new()
        };
        let mut out = inputs::zeroed_vec(n);
        let fill = |buf: &mut Vec<T>, seed: u64| {
            let parts = split_mut_by(buf, &ranges);
            parts.into_par_iter().zip(ranges.par_iter()).for_each(|(part, r)| {
                for (i, slot) in part.iter_mut().enumerate() {
                    *slot = T::from_f64(inputs::uniform(seed, (r.start + i) as u64, -1.0, 1.0));
                }
            });
        };
        fill(&mut x, 71);
        if !y.is_empty() {
            fill(&mut y, 72);
        }
        split_mut_by(&mut out, &ranges)
            .into_par_iter()
            .for_each(|part| part.iter_mut().for_each(|v| *v = T::default()));
        StreamRun {
            ctx,
            kernel,
            x,
            y,
            out,
            ranges,
        }
    }

    /// One call: every thread runs the kernel over its own part.
    fn call(&mut self) {
        self.call_repeated(1);
    }

    /// `iters` calls, each thread looping over its own part without a barrier between calls
    /// (one call: STREAM's parallel region).
    fn call_repeated(&mut self, iters: u64) {
        let (op, nt, simd) = (self.kernel.op, self.kernel.nontemporal, self.ctx.simd);
        let x = &self.x;
        let y = &self.y;
        let ranges = &self.ranges;
        split_mut_by(&mut self.out, ranges)
            .into_par_iter()
            .zip(ranges.par_iter())
            .with_max_len(1)
            .for_each(|(out, r)| {
                let xs = &x[r.clone()];
                let ys = if y.is_empty() { &[][..] } else { &y[r.clone()] };
                for _ in 0..iters {
                    // The output is the same every time: keep the compiler from merging calls.
                    let out = std::hint::black_box(&mut *out);
                    if nt && T::stream_nt(op, out, xs, ys) {
                        continue;
                    }
                    #[cfg(target_arch = "x86_64")]
                    if simd == SimdLevel::Avx512 {
                        // SAFETY: AVX-512 detected at run time.
                        unsafe { stream_plain_avx512(op, out, xs, ys) };
                        continue;
                    }
                    let _ = simd;
                    stream_plain(op, out, xs, ys);
                }
            });
    }
}

impl<T: CpuReal> Prepared for StreamRun<'_, T> {
    fn verify(&mut self) -> Verification {
        self.call();
        let op = self.kernel.op;
        let mut checker = Checker::new(format!("all {} elements against the scalar formula", self.kernel.n));
        for (i, got) in self.out.iter().enumerate() {
            let second = if self.y.is_empty() { T::default() } else { self.y[i] };
            let expect = op.reference(self.x[i], second);
            checker.check(&format_args!("element {i}"), got.to_f64(), expect.to_f64(), 0.0);
        }
        checker.finish()
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let start = Instant::now();
        if self.kernel.nontemporal {
            // DRAM bandwidth, as STREAM times it: one parallel region per call.
            for _ in 0..iters {
                self.ctx.pool.install(|| self.call());
            }
        } else {
            // Ordinary stores (the cache sweep): each thread repeats the kernel over its own
            // part, as likwid-bench does, so that a working set in L1 is not timed as the
            // pool's dispatch cost (several µs per call on 2 threads, longer than the kernel).
            self.ctx.pool.install(|| self.call_repeated(iters));
        }
        Batch {
            elapsed: Seconds::from_duration(start.elapsed()),
            events: 0,
        }
    }
}

/// C (m×n) = β·A·B through [`super::packed_gemm`] (AVX-512) or else the `gemm` crate. `rhs_transposed` reads B as Bᵀ stored
/// n×k row-major (used by attention for Q·Kᵀ).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_into<T: CpuReal>(
    threads: usize,
    m: usize,
    n: usize,
    k: usize,
    c: &mut [T],
    a: &[T],
    b: &[T],
    rhs_transposed: bool,
    beta: T,
) {
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n);
    let (rhs_cs, rhs_rs) = if rhs_transposed {
        (k as isize, 1)
    } else {
        (1, n as isize)
    };
    if super::packed_gemm::gemm(m, n, k, c, a, b, rhs_rs as usize, rhs_cs as usize, beta, false) {
        return;
    }
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the strides describe the row-major buffers whose lengths are asserted above.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            rhs_cs,
            rhs_rs,
            T::default(),
            beta,
            false,
            false,
            false,
            parallelism,
        );
    }
}

struct GemmRun<'a, T> {
    ctx: Ctx<'a>,
    kernel: Gemm,
    a: Vec<T>,
    b: Vec<T>,
    c: Vec<T>,
}

impl<T: CpuReal> GemmRun<'_, T> {
    fn call(&mut self) {
        let k = &self.kernel;
        gemm_into(
            self.ctx.threads,
            k.m as usize,
            k.n as usize,
            k.k as usize,
            &mut self.c,
            &self.a,
            &self.b,
            false,
            T::from_f64(1.0),
        );
    }
}

impl<T: CpuReal> Prepared for GemmRun<'_, T> {
    fn verify(&mut self) -> Verification {
        self.c.iter_mut().for_each(|v| *v = T::from_f64(f64::NAN));
        self.ctx.pool.install(|| self.call());
        self.kernel.verify(&self.a, &self.b, &self.c)
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        ctx.time(iters, || {
            self.call();
            0
        })
    }
}

struct ConvRun<'a, T> {
    ctx: Ctx<'a>,
    kernel: Conv2d,
    x: Vec<T>,
    w: Vec<T>,
    y: Vec<T>,
    col: Vec<T>,
    /// NHWC through the indirect convolution (AVX-512): no im2col matrix.
    indirect: bool,
    /// Its packed weights, reused across calls.
    wpack: Vec<T>,
}

impl<'a, T: CpuReal> ConvRun<'a, T> {
    fn new(ctx: Ctx<'a>, kernel: Conv2d) -> Self {
        let (x, w) = kernel.inputs::<T>();
        let per_image = (kernel.out_h() * kernel.out_w() * kernel.reduction_len()) as usize;
        let direct = kernel.kernel_h == 1 && kernel.kernel_w == 1 && kernel.stride == 1 && kernel.padding == 0;
        let indirect = !direct && kernel.layout == Layout::Nhwc && super::packed_gemm::available();
        let col_len = if direct || indirect {
            0
        } else {
            match kernel.layout {
                Layout::Nhwc => per_image * kernel.batch as usize,
                Layout::Nchw => per_image,
            }
        };
        ConvRun {
            ctx,
            y: inputs::zeroed_vec(kernel.output_len() as usize),
            col: inputs::zeroed_vec(col_len),
            indirect,
            wpack: Vec::new(),
            kernel,
            x,
            w,
        }
    }

    fn call(&mut self) {
        let k = &self.kernel;
        let (pp, qq, crs) = (k.out_h() as usize, k.out_w() as usize, k.reduction_len() as usize);
        let (cc, hh, ww) = (k.in_channels as usize, k.height as usize, k.width as usize);
        let (rr, ss, kk) = (k.kernel_h as usize, k.kernel_w as usize, k.out_channels as usize);
        let (stride, pad) = (k.stride as usize, k.padding as usize);
        let one = T::from_f64(1.0);
        let direct = k.kernel_h == 1 && k.kernel_w == 1 && k.stride == 1 && k.padding == 0;
        match k.layout {
            Layout::Nhwc if self.indirect => {
                let geometry = super::indirect_conv::Geometry::from(k);
                // Runs on the caller's pool (`verify` and `time` install it).
                let done = super::indirect_conv::conv_nhwc(&geometry, &self.x, &self.w, &mut self.y, &mut self.wpack);
                assert!(
                    done,
                    "the indirect convolution is chosen in `new` only where AVX-512 is available"
                );
            }
            Layout::Nhwc => {
                let rows = k.batch as usize * pp * qq;
                if !direct {
                    let x = &self.x;
                    // Row (n, p, q) of the im2col matrix holds taps (r, s, c), matching HWIO weights.
                    self.col.par_chunks_mut(crs).enumerate().for_each(|(row, dst)| {
                        let (n, p, q) = (row / (pp * qq), (row / qq) % pp, row % qq);
                        for r in 0..rr {
                            let h = (p * stride + r) as isize - pad as isize;
                            for s in 0..ss {
                                let wcol = (q * stride + s) as isize - pad as isize;
                                let out = &mut dst[(r * ss + s) * cc..(r * ss + s + 1) * cc];
                                if h < 0 || wcol < 0 || h >= hh as isize || wcol >= ww as isize {
                                    out.iter_mut().for_each(|v| *v = T::default());
                                } else {
                                    let base = ((n * hh + h as usize) * ww + wcol as usize) * cc;
                                    out.copy_from_slice(&x[base..base + cc]);
                                }
                            }
                        }
                    });
                }
                let lhs = if direct { &self.x } else { &self.col };
                gemm_into(self.ctx.threads, rows, kk, crs, &mut self.y, lhs, &self.w, false, one);
            }
            Layout::Nchw => {
                let image_in = cc * hh * ww;
                let image_out = kk * pp * qq;
                for n in 0..k.batch as usize {
                    let x = &self.x[n * image_in..(n + 1) * image_in];
                    if !direct {
                        // Row (c, r, s) of the im2col matrix holds all output positions (p, q).
                        self.col.par_chunks_mut(pp * qq).enumerate().for_each(|(row, dst)| {
                            let (c, r, s) = (row / (rr * ss), (row / ss) % rr, row % ss);
                            for p in 0..pp {
                                let h = (p * stride + r) as isize - pad as isize;
                                for q in 0..qq {
                                    let wcol = (q * stride + s) as isize - pad as isize;
                                    dst[p * qq + q] = if h < 0 || wcol < 0 || h >= hh as isize || wcol >= ww as isize {
                                        T::default()
                                    } else {
                                        x[(c * hh + h as usize) * ww + wcol as usize]
                                    };
                                }
                            }
                        });
                    }
                    let rhs = if direct { x } else { &self.col[..] };
                    let y = &mut self.y[n * image_out..(n + 1) * image_out];
                    gemm_into(self.ctx.threads, kk, pp * qq, crs, y, &self.w, rhs, false, one);
                }
            }
        }
    }
}

impl<T: CpuReal> Prepared for ConvRun<'_, T> {
    fn verify(&mut self) -> Verification {
        self.y.iter_mut().for_each(|v| *v = T::from_f64(f64::NAN));
        self.ctx.pool.install(|| self.call());
        self.kernel.verify(&self.x, &self.w, &self.y)
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        ctx.time(iters, || {
            self.call();
            0
        })
    }
}

struct SpmvRun<'a, T> {
    ctx: Ctx<'a>,
    kernel: SpmvSynapses,
    syn: Synapses<T>,
    y: Vec<T>,
}

#[inline(always)]
fn spmv_rows<T: Real>(syn: &Synapses<T>, first_row: usize, ys: &mut [T]) {
    for (i, y) in ys.iter_mut().enumerate() {
        let row = first_row + i;
        let (start, end) = (syn.row_offsets[row] as usize, syn.row_offsets[row + 1] as usize);
        let mut acc = T::default();
        for (w, &c) in syn.weights[start..end].iter().zip(&syn.columns[start..end]) {
            acc = acc + *w * syn.spikes[c as usize];
        }
        *y = acc;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
unsafe fn spmv_rows_avx512<T: Real>(syn: &Synapses<T>, first_row: usize, ys: &mut [T]) {
    spmv_rows(syn, first_row, ys)
}

impl<'a, T: CpuReal> SpmvRun<'a, T> {
    fn new(ctx: Ctx<'a>, kernel: SpmvSynapses) -> Self {
        let syn = kernel.build::<T>();
        SpmvRun {
            ctx,
            y: vec![T::default(); kernel.neurons as usize],
            kernel,
            syn,
        }
    }

    fn call(&mut self) -> u64 {
        const ROWS: usize = 64;
        let (syn, simd) = (&self.syn, self.ctx.simd);
        self.y.par_chunks_mut(ROWS).enumerate().for_each(|(block, ys)| {
            #[cfg(target_arch = "x86_64")]
            if simd == SimdLevel::Avx512 {
                // SAFETY: AVX-512 detected at run time.
                unsafe { spmv_rows_avx512(syn, block * ROWS, ys) };
                return;
            }
            let _ = simd;
            spmv_rows(syn, block * ROWS, ys);
        });
        self.syn.events
    }
}

impl<T: CpuReal> Prepared for SpmvRun<'_, T> {
    fn verify(&mut self) -> Verification {
        self.y.iter_mut().for_each(|v| *v = T::from_f64(f64::NAN));
        self.ctx.pool.install(|| self.call());
        self.kernel.verify(&self.syn, &self.y)
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        ctx.time(iters, || self.call())
    }
}

struct ScatterAddRun<'a> {
    ctx: Ctx<'a>,
    run: crate::kernels::scatter_add::ScatterRun,
}

impl Prepared for ScatterAddRun<'_> {
    fn verify(&mut self) -> Verification {
        self.ctx.pool.install(|| self.run.verify())
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        ctx.time(iters, || self.run.call())
    }
}

struct LifRun<'a, T> {
    ctx: Ctx<'a>,
    kernel: LifStep,
    state: LifState<T>,
}

#[inline(always)]
fn lif_chunk<T: Real>(k: &LifStep, v: &mut [T], input: &[T], refractory: &mut [u32], spiked: &mut [u8]) -> u64 {
    let mut spikes = 0u64;
    for (((v, &i), r), s) in v
        .iter_mut()
        .zip(input)
        .zip(refractory.iter_mut())
        .zip(spiked.iter_mut())
    {
        let fired = k.update_one(v, i, r);
        *s = u8::from(fired);
        spikes += u64::from(fired);
    }
    spikes
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx2,fma")]
unsafe fn lif_chunk_avx512<T: Real>(
    k: &LifStep,
    v: &mut [T],
    input: &[T],
    refractory: &mut [u32],
    spiked: &mut [u8],
) -> u64 {
    lif_chunk(k, v, input, refractory, spiked)
}

impl<T: CpuReal> LifRun<'_, T> {
    fn call(&mut self) -> u64 {
        const CHUNK: usize = 1 << 14;
        let (k, simd) = (&self.kernel, self.ctx.simd);
        let s = &mut self.state;
        s.v.par_chunks_mut(CHUNK)
            .zip(s.input.par_chunks(CHUNK))
            .zip(s.refractory.par_chunks_mut(CHUNK))
            .zip(s.spiked.par_chunks_mut(CHUNK))
            .map(|(((v, i), r), sp)| {
                #[cfg(target_arch = "x86_64")]
                if simd == SimdLevel::Avx512 {
                    // SAFETY: AVX-512 detected at run time.
                    return unsafe { lif_chunk_avx512(k, v, i, r, sp) };
                }
                let _ = simd;
                lif_chunk(k, v, i, r, sp)
            })
            .sum()
    }
}

impl<T: CpuReal> Prepared for LifRun<'_, T> {
    fn verify(&mut self) -> Verification {
        self.state = self.kernel.initial_state();
        let spikes = self.ctx.pool.install(|| self.call());
        self.kernel.verify(&self.state, spikes)
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        ctx.time(iters, || self.call())
    }
}

struct AttentionRun<'a, T> {
    ctx: Ctx<'a>,
    kernel: Attention,
    qkv: [Vec<T>; 3],
    scores: Vec<T>,
    out: Vec<T>,
}

impl<'a, T: CpuReal> AttentionRun<'a, T> {
    fn new(ctx: Ctx<'a>, kernel: Attention) -> Self {
        let n = kernel.seq_len as usize;
        let d = kernel.head_dim as usize;
        AttentionRun {
            ctx,
            qkv: kernel.inputs(),
            scores: inputs::zeroed_vec(n * n),
            out: inputs::zeroed_vec(n * d),
            kernel,
        }
    }

    fn call(&mut self) {
        let n = self.kernel.seq_len as usize;
        let d = self.kernel.head_dim as usize;
        let threads = self.ctx.threads;
        let [q, k, v] = &self.qkv;
        let scale = T::from_f64(self.kernel.scale());
        gemm_into(threads, n, n, d, &mut self.scores, q, k, true, scale);
        self.scores.par_chunks_mut(n).for_each(|row| {
            let max = row.iter().fold(T::from_f64(f64::NEG_INFINITY), |m, &x| m.max(x));
            let mut sum = T::default();
            for x in row.iter_mut() {
                *x = (*x - max).exp();
                sum = sum + *x;
            }
            for x in row.iter_mut() {
                *x = *x / sum;
            }
        });
        gemm_into(
            threads,
            n,
            d,
            n,
            &mut self.out,
            &self.scores,
            v,
            false,
            T::from_f64(1.0),
        );
    }
}

impl<T: CpuReal> Prepared for AttentionRun<'_, T> {
    fn verify(&mut self) -> Verification {
        self.out.iter_mut().for_each(|v| *v = T::from_f64(f64::NAN));
        self.ctx.pool.install(|| self.call());
        let [q, k, v] = &self.qkv;
        self.kernel.verify(q, k, v, &self.out)
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        ctx.time(iters, || {
            self.call();
            0
        })
    }
}

struct ActivationRun<'a, T> {
    ctx: Ctx<'a>,
    /// Output written with non-temporal stores (arrays beyond the last-level cache).
    streamed: bool,
    kernel: Activation,
    x: Vec<T>,
    y: Vec<T>,
    /// Leading elements recomputed after each call: a planted slowdown (`kernels::plant`), 0 normally.
    planted_extra: usize,
}

/// Plain arithmetic over a slice (f32 GELU by `ActivationOp::apply_fast`'s rational tanh, no
/// libm call), so LLVM vectorises it at the width the caller's target features allow.
#[inline(always)]
fn activation_chunk<T: Real>(op: ActivationOp, x: &[T], y: &mut [T]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = op.apply_fast(v);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
unsafe fn activation_chunk_avx512<T: Real>(op: ActivationOp, x: &[T], y: &mut [T]) {
    activation_chunk(op, x, y)
}

/// The same loop at 256 bits, for AVX2 machines without AVX-512 (AMD Zen 2/3, Intel client
/// cores); the baseline build would otherwise vectorise at SSE2's 128 bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn activation_chunk_avx2<T: Real>(op: ActivationOp, x: &[T], y: &mut [T]) {
    activation_chunk(op, x, y)
}

impl<T: CpuReal> ActivationRun<'_, T> {
    fn call(&mut self) {
        let (op, simd) = (self.kernel.op, self.ctx.simd);
        Self::apply(op, simd, self.streamed, &self.x, &mut self.y);
        if self.planted_extra > 0 {
            let extra = self.planted_extra;
            Self::apply(op, simd, false, &self.x[..extra], &mut self.y[..extra]);
        }
    }

    fn apply(op: ActivationOp, simd: SimdLevel, streamed: bool, x: &[T], y: &mut [T]) {
        const CHUNK: usize = 1 << 14;
        // Streamed: each block is computed into a small buffer that stays in L1, then copied
        // out with non-temporal stores.
        const BLOCK: usize = 1 << 10;
        let streams = streamed && cfg!(target_arch = "x86_64") && simd != SimdLevel::Scalar;
        y.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(y, x)| {
            if streams {
                let mut buffer = [T::from_f64(0.0); BLOCK];
                for (y, x) in y.chunks_mut(BLOCK).zip(x.chunks(BLOCK)) {
                    let buffer = &mut buffer[..y.len()];
                    Self::apply_chunk(op, simd, x, buffer);
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: AVX (a part of AVX2) detected at run time: `simd` is not scalar.
                    unsafe {
                        copy_nontemporal_avx(y, buffer)
                    };
                }
                #[cfg(target_arch = "x86_64")]
                // SAFETY: SSE is part of x86_64; orders the streamed stores before the caller
                // reads the output.
                unsafe {
                    std::arch::x86_64::_mm_sfence()
                };
            } else {
                Self::apply_chunk(op, simd, x, y);
            }
        });
    }

    fn apply_chunk(op: ActivationOp, simd: SimdLevel, x: &[T], y: &mut [T]) {
        #[cfg(target_arch = "x86_64")]
        if simd == SimdLevel::Avx512 {
            // SAFETY: AVX-512 detected at run time.
            unsafe { activation_chunk_avx512(op, x, y) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if simd == SimdLevel::Avx2Fma {
            // SAFETY: AVX2 and FMA detected at run time.
            unsafe { activation_chunk_avx2(op, x, y) };
            return;
        }
        let _ = simd;
        activation_chunk(op, x, y);
    }
}

/// Copies `src` into `dst` (the same length) with 32-byte non-temporal stores where `dst`
/// is aligned for them and plain copies for the unaligned head and the tail. The caller
/// issues `_mm_sfence` before the data are read.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn copy_nontemporal_avx<T: Copy>(dst: &mut [T], src: &[T]) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_stream_si256};
    assert_eq!(dst.len(), src.len());
    let bytes = std::mem::size_of_val(dst);
    let (d, s) = (dst.as_mut_ptr() as *mut u8, src.as_ptr() as *const u8);
    let head = d.align_offset(32).min(bytes);
    // SAFETY: both slices hold `bytes` bytes and do not overlap (one is borrowed mutably);
    // the head and tail are whole elements because `dst` is aligned to its element, whose
    // size divides 32; every streamed store is 32-byte aligned.
    unsafe {
        std::ptr::copy_nonoverlapping(s, d, head);
        let mut at = head;
        while at + 32 <= bytes {
            let v = _mm256_loadu_si256(s.add(at) as *const __m256i);
            _mm256_stream_si256(d.add(at) as *mut __m256i, v);
            at += 32;
        }
        std::ptr::copy_nonoverlapping(s.add(at), d.add(at), bytes - at);
    }
}

impl<T: CpuReal> Prepared for ActivationRun<'_, T> {
    fn verify(&mut self) -> Verification {
        self.y.iter_mut().for_each(|v| *v = T::from_f64(f64::NAN));
        self.ctx.pool.install(|| self.call());
        self.kernel.verify(&self.x, &self.y)
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let ctx = self.ctx;
        ctx.time(iters, || {
            self.call();
            0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The non-temporal copy equals a plain one for every alignment of the destination and
    /// every length around a 32-byte store, f32 and f64.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn nontemporal_copies_equal_plain_ones_at_every_alignment() {
        if !std::arch::is_x86_feature_detected!("avx") {
            return;
        }
        for offset in 0..9 {
            for len in [0, 1, 7, 8, 9, 31, 64, 100, 1027] {
                let src: Vec<f32> = (0..len).map(|i| i as f32 * 0.5 - 3.0).collect();
                let mut dst = vec![f32::NAN; len + offset];
                // SAFETY: AVX detected above.
                unsafe { copy_nontemporal_avx(&mut dst[offset..], &src) };
                unsafe { std::arch::x86_64::_mm_sfence() };
                assert_eq!(&dst[offset..], &src[..], "f32 offset {offset} len {len}");
                let src: Vec<f64> = src.iter().map(|&v| f64::from(v)).collect();
                let mut dst = vec![f64::NAN; len + offset];
                // SAFETY: AVX detected above.
                unsafe { copy_nontemporal_avx(&mut dst[offset..], &src) };
                unsafe { std::arch::x86_64::_mm_sfence() };
                assert_eq!(&dst[offset..], &src[..], "f64 offset {offset} len {len}");
            }
        }
    }

    /// With a last-level cache smaller than its arrays, an activation streams its output
    /// (non-temporal stores) and still verifies against the reference, ReLU and GELU, f32
    /// and f64, on lengths that end mid-block.
    #[test]
    fn streamed_activations_verify_against_the_reference() {
        let backend = CpuBackend::new(2).unwrap().with_last_level_cache(Some(1));
        for op in [ActivationOp::Relu, ActivationOp::Gelu] {
            for dtype in [Dtype::F32, Dtype::F64] {
                let spec = BenchSpec::new(Kernel::Activation(Activation { op, n: 70_001 }), dtype);
                let mut prepared = backend.prepare(&spec).unwrap();
                let verification = prepared.verify();
                assert!(verification.passed, "{}: {}", spec.name(), verification.detail);
            }
        }
    }

    #[test]
    fn static_ranges_cover_exactly_once() {
        for (n, parts) in [(0, 2), (1, 2), (63, 2), (1000, 3), (4096, 2), (10, 8)] {
            let ranges = static_ranges(n, parts);
            let mut next = 0;
            for r in &ranges {
                assert_eq!(r.start, next);
                next = r.end;
            }
            assert_eq!(next, n);
            assert!(ranges.len() <= parts.max(1));
        }
    }
}
