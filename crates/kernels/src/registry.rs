//! Profiles: which benchmarks a run contains.
//!
//! `quick` covers every kernel once at a size that finishes within two minutes on a 2-core
//! machine; `standard` adds size sweeps (STREAM from L1 up, so the cache knees show; GEMM,
//! LIF and attention over sizes); `full` adds the largest sizes; `peers` is the set that
//! `scripts/compare-peers.sh` sets beside numpy, a C STREAM loop and a C FMA loop; `small`
//! has every kernel once at an in-cache size, for instruction counts under valgrind (which
//! runs code about 50× slower).

use super::{
    Activation, ActivationOp, Attention, BenchSpec, Conv2d, Dtype, Gemm, Kernel, Layout, LifStep, Microcircuit,
    PeakFma, ScatterAdd, SpmvSynapses, Stream, StreamOp,
};
use serde::{Deserialize, Serialize};

/// Last-level cache assumed when none is detected (bandwidth arrays are sized from it).
pub const FALLBACK_LLC_BYTES: u64 = 64 << 20;

/// Which benchmark set to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Every kernel once; about two minutes on a 2-core machine.
    Quick,
    /// Quick plus size sweeps (cache knees, GEMM and attention scaling).
    Standard,
    /// Standard plus the largest sizes.
    Full,
    /// The GEMM, STREAM triad and FMA-peak set compared against numpy and C peers.
    Peers,
    /// Every kernel once at a small, in-cache size: the default of `--metric instructions`
    /// (seconds per benchmark under valgrind).
    Small,
    /// End-to-end models (MLP, LeNet-5, AlexNet, a 2-layer LSTM language model, a transformer
    /// block and a stack of them, a spiking network): inference at several batch sizes and an SGD training step; all run on the
    /// torch backend, the MLP and the spiking network's inference also on the CPU backend.
    Models,
    /// MPI collectives (all-reduce, all-gather, reduce-scatter, broadcast, all-to-all) over
    /// message sizes from 8 B to 1 GiB, across the ranks of `mpirun -np N`; needs a build
    /// with the `mpi` feature. Not kernel benchmarks: `registry::profile` has none for it.
    Collectives,
    /// A data-parallel SGD training step on 1, 2, 4, ... ranks of `mpirun -np N` (strong and
    /// weak scaling, compute and gradient all-reduce timed apart); needs the `mpi` feature.
    #[serde(rename = "dataparallel")]
    DataParallel,
    /// The Potjans-Diesmann cortical microcircuit at scale 0.1 (N_scaling 0.1, K_scaling 1: the
    /// scale compared with NEST) and at full scale (77,169 neurons, ~3×10⁸ synapses; about 3 GiB).
    Microcircuit,
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Profile, String> {
        Profile::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            format!("unknown profile {s:?} (expected one of: quick, standard, full, peers, small, models, collectives, dataparallel, microcircuit)")
        })
    }
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 9] = [
        Profile::Quick,
        Profile::Standard,
        Profile::Full,
        Profile::Peers,
        Profile::Small,
        Profile::Models,
        Profile::Collectives,
        Profile::DataParallel,
        Profile::Microcircuit,
    ];

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Standard => "standard",
            Profile::Full => "full",
            Profile::Peers => "peers",
            Profile::Small => "small",
            Profile::Models => "models",
            Profile::Collectives => "collectives",
            Profile::DataParallel => "dataparallel",
            Profile::Microcircuit => "microcircuit",
        }
    }
}

pub use braingap_core::dtype::SimdLevel;

/// What the registry needs to know about the machine.
#[derive(Debug, Clone, Copy)]
pub struct RegistryContext {
    /// Worker threads of the run.
    pub threads: u64,
    /// Detected last-level cache size (total), if any.
    pub last_level_cache_bytes: Option<u64>,
    /// SIMD level of the CPU backend.
    pub simd: SimdLevel,
}

impl RegistryContext {
    /// Elements per STREAM array for bandwidth runs: STREAM's rule, each array at least
    /// 4× the last-level cache (rounded up to a multiple of 1024 elements).
    pub fn stream_bandwidth_elements(&self, dtype: Dtype) -> u64 {
        let llc = self.last_level_cache_bytes.unwrap_or(FALLBACK_LLC_BYTES);
        (4 * llc).div_ceil(dtype.size_bytes()).div_ceil(1024) * 1024
    }
}

/// The FMA-peak benchmark of `dtype` for this context.
pub fn peak_fma(ctx: &RegistryContext, dtype: Dtype) -> BenchSpec {
    BenchSpec::new(
        Kernel::PeakFma(PeakFma {
            chains: ctx.simd.fma_chains(),
            lanes: ctx.simd.lanes(dtype),
            iters: 2_000_000,
            workers: ctx.threads,
        }),
        dtype,
    )
}

/// The STREAM benchmark at bandwidth size (arrays ≥ 4× LLC, non-temporal stores allowed).
pub fn stream_bandwidth(ctx: &RegistryContext, op: StreamOp) -> BenchSpec {
    BenchSpec::new(
        Kernel::Stream(Stream {
            op,
            n: ctx.stream_bandwidth_elements(Dtype::F64),
            nontemporal: true,
        }),
        Dtype::F64,
    )
}

/// STREAM triad (f64, ordinary stores) at working sets that sit in each cache level and in
/// DRAM. `quick`: 16 KiB (in any L1), 256 KiB (in any L2, past two L1s), half the last-level
/// cache, and four times it (DRAM): a few seconds. `standard`: 16 KiB to 1 GiB, doubling.
/// The working set is the three arrays, 24 bytes per element.
pub fn triad_sweep(ctx: &RegistryContext, profile: Profile) -> Vec<BenchSpec> {
    let working_sets: Vec<u64> = match profile {
        Profile::Quick => {
            let llc = ctx.last_level_cache_bytes.unwrap_or(FALLBACK_LLC_BYTES);
            let mut sets = vec![16 << 10, 256 << 10];
            if llc / 2 > 1 << 20 {
                sets.push(llc / 2);
            }
            sets.push(3 * 4 * llc);
            sets
        }
        Profile::Standard | Profile::Full => (14..=30u32).map(|shift| 1u64 << shift).collect(),
        _ => Vec::new(),
    };
    working_sets
        .into_iter()
        .map(|working_set| {
            BenchSpec::new(
                Kernel::Stream(Stream {
                    op: StreamOp::Triad,
                    n: working_set / 24,
                    nontemporal: false,
                }),
                Dtype::F64,
            )
        })
        .collect()
}

/// The ceilings a roofline needs: `peak_fma` per dtype and `stream_triad` at bandwidth size.
pub fn ceilings(ctx: &RegistryContext, dtypes: &[Dtype]) -> Vec<BenchSpec> {
    let mut specs: Vec<BenchSpec> = dtypes
        .iter()
        .filter(|d| matches!(d, Dtype::F32 | Dtype::F64))
        .map(|&d| peak_fma(ctx, d))
        .collect();
    specs.push(stream_bandwidth(ctx, StreamOp::Triad));
    specs
}

#[allow(clippy::too_many_arguments)] // one positional argument per shape field, as in the tables
fn conv(layout: Layout, batch: u64, c: u64, hw: u64, k: u64, r: u64, stride: u64, padding: u64) -> Kernel {
    Kernel::Conv2d(Conv2d {
        layout,
        batch,
        in_channels: c,
        height: hw,
        width: hw,
        out_channels: k,
        kernel_h: r,
        kernel_w: r,
        stride,
        padding,
    })
}

/// The `small` profile: every kernel once, sized to stay in cache and to take seconds
/// under valgrind. STREAM uses ordinary stores (its non-temporal path needs AVX-512, which
/// valgrind does not emulate).
fn small(ctx: &RegistryContext) -> Vec<BenchSpec> {
    use Dtype::{F32, F64};
    let mut specs = Vec::new();
    for dtype in [F32, F64] {
        specs.push(BenchSpec::new(
            Kernel::PeakFma(PeakFma {
                chains: ctx.simd.fma_chains(),
                lanes: ctx.simd.lanes(dtype),
                iters: 20_000,
                workers: ctx.threads,
            }),
            dtype,
        ));
    }
    for op in StreamOp::ALL {
        specs.push(BenchSpec::new(
            Kernel::Stream(Stream {
                op,
                n: 1 << 15,
                nontemporal: false,
            }),
            F64,
        ));
    }
    for dtype in [F32, F64] {
        specs.push(BenchSpec::new(Kernel::Gemm(Gemm::square(96)), dtype));
    }
    for layout in [Layout::Nchw, Layout::Nhwc] {
        specs.push(BenchSpec::new(conv(layout, 1, 16, 16, 16, 3, 1, 1), F32));
    }
    specs.push(BenchSpec::new(
        Kernel::SpmvSynapses(SpmvSynapses {
            neurons: 512,
            fan_in: 500,
            spike_fraction: 0.05,
        }),
        F32,
    ));
    specs.push(BenchSpec::new(
        Kernel::ScatterAdd(ScatterAdd {
            targets: 4096,
            group: 16,
            groups: 64,
            parts: 2,
            table: 1 << 16,
        }),
        F64,
    ));
    specs.push(BenchSpec::new(Kernel::LifStep(LifStep::with_neurons(1 << 14)), F32));
    specs.push(BenchSpec::new(
        Kernel::Attention(Attention {
            seq_len: 64,
            head_dim: 32,
        }),
        F32,
    ));
    for op in [ActivationOp::Relu, ActivationOp::Gelu] {
        specs.push(BenchSpec::new(Kernel::Activation(Activation { op, n: 1 << 14 }), F32));
    }
    specs
}

/// The limits of spike delivery, drawn beside the microcircuit: packed synapse words (the
/// simulator's layout) scatter-added into per-thread rows of 32,768 f64 cells (about a
/// full-scale thread's row, in L2), read from a 128 MiB table that no cache holds either as
/// one streamed run per part (the ceiling: random access only within the row), in groups of 64
/// words at random places (about a full-scale spike's synapses of one delay on one of 2
/// threads), or one word at a random place each; 2,097,152 events per call each.
pub fn delivery_limits() -> Vec<BenchSpec> {
    [(262_144, 1), (64, 4096), (1, 262_144)]
        .into_iter()
        .map(|(group, groups)| {
            BenchSpec::new(
                Kernel::ScatterAdd(ScatterAdd {
                    targets: 32_768,
                    group,
                    groups,
                    parts: 8,
                    table: 1 << 24,
                }),
                Dtype::F64,
            )
        })
        .collect()
}

/// All benchmarks of a profile, ceilings first.
pub fn profile(profile: Profile, ctx: &RegistryContext) -> Vec<BenchSpec> {
    use Dtype::{F32, F64};
    if profile == Profile::Small {
        return small(ctx);
    }
    if matches!(profile, Profile::Collectives | Profile::DataParallel) {
        // Run by `crate::collectives` over MPI, not by the kernel runner.
        return Vec::new();
    }
    if profile == Profile::Microcircuit {
        let mut specs = delivery_limits();
        specs.extend(
            [(0.1, 1.0), (1.0, 1.0)].into_iter().map(|(scale, k_scale)| {
                BenchSpec::new(Kernel::Microcircuit(Microcircuit::at_scale(scale, k_scale)), F64)
            }),
        );
        return specs;
    }
    if profile == Profile::Models {
        return crate::models::registry()
            .into_iter()
            .map(|m| BenchSpec::new(Kernel::Model(m), F32))
            .collect();
    }
    let mut specs = Vec::new();
    specs.push(peak_fma(ctx, F32));
    specs.push(peak_fma(ctx, F64));
    if profile == Profile::Peers {
        specs.push(stream_bandwidth(ctx, StreamOp::Triad));
        for dtype in [F32, F64] {
            for n in [1024, 2048, 4096] {
                specs.push(BenchSpec::new(Kernel::Gemm(Gemm::square(n)), dtype));
            }
        }
        return specs;
    }
    for op in StreamOp::ALL {
        specs.push(stream_bandwidth(ctx, op));
    }
    // The triad sweep with ordinary stores gives the cache levels' ceilings (and a second
    // DRAM figure beside the non-temporal one); it runs before the kernels so that each
    // kernel's attainment is taken against the level that holds its working set.
    specs.extend(triad_sweep(ctx, profile));
    for dtype in [F32, F64] {
        specs.push(BenchSpec::new(Kernel::Gemm(Gemm::square(512)), dtype));
        specs.push(BenchSpec::new(
            Kernel::Gemm(Gemm {
                m: 1024,
                n: 256,
                k: 768,
            }),
            dtype,
        ));
    }
    for layout in [Layout::Nchw, Layout::Nhwc] {
        specs.push(BenchSpec::new(conv(layout, 4, 64, 56, 64, 3, 1, 1), F32));
    }
    specs.push(BenchSpec::new(
        Kernel::SpmvSynapses(SpmvSynapses {
            neurons: 4096,
            fan_in: 7000,
            spike_fraction: 0.05,
        }),
        F32,
    ));
    specs.push(BenchSpec::new(Kernel::LifStep(LifStep::with_neurons(1 << 20)), F32));
    specs.push(BenchSpec::new(
        Kernel::Attention(Attention {
            seq_len: 512,
            head_dim: 64,
        }),
        F32,
    ));
    for op in [ActivationOp::Relu, ActivationOp::Gelu] {
        specs.push(BenchSpec::new(Kernel::Activation(Activation { op, n: 1 << 22 }), F32));
    }
    // The cortical microcircuit at 5 % of its neurons with full in-degrees (3,858 neurons,
    // ~7.5×10⁶ synapses; K_scaling 1 keeps each neuron's input, and the activity, as in the full
    // model, where K_scaling 0.1 leaves the downscaled network nearly silent): seconds to build,
    // so the main job shows this machine on the brain-simulation yardstick too; `--profile
    // microcircuit` runs the scales that compare with NEST and the literature.
    specs.push(BenchSpec::new(
        Kernel::Microcircuit(Microcircuit::at_scale(0.05, 1.0)),
        F64,
    ));
    specs.extend(delivery_limits());
    if profile == Profile::Quick {
        return specs;
    }
    // Standard: sweeps.
    for dtype in [F32, F64] {
        for n in [128, 256, 1024, 2048] {
            specs.push(BenchSpec::new(Kernel::Gemm(Gemm::square(n)), dtype));
        }
    }
    for layout in [Layout::Nchw, Layout::Nhwc] {
        specs.push(BenchSpec::new(conv(layout, 8, 128, 28, 128, 3, 1, 1), F32));
        specs.push(BenchSpec::new(conv(layout, 8, 256, 14, 256, 1, 1, 0), F32));
        specs.push(BenchSpec::new(conv(layout, 8, 3, 224, 64, 7, 2, 3), F32));
    }
    specs.push(BenchSpec::new(
        Kernel::SpmvSynapses(SpmvSynapses {
            neurons: 16_384,
            fan_in: 7000,
            spike_fraction: 0.05,
        }),
        F32,
    ));
    for shift in [16u32, 18, 24] {
        specs.push(BenchSpec::new(Kernel::LifStep(LifStep::with_neurons(1 << shift)), F32));
    }
    for seq_len in [128, 1024, 2048] {
        specs.push(BenchSpec::new(
            Kernel::Attention(Attention { seq_len, head_dim: 64 }),
            F32,
        ));
    }
    if profile == Profile::Standard {
        return specs;
    }
    for dtype in [F32, F64] {
        specs.push(BenchSpec::new(Kernel::Gemm(Gemm::square(4096)), dtype));
    }
    // Reduced precision (backends with bf16/f16 kernels: torch; the CPU backend skips them,
    // saying why): GEMM n = 1024..4096 and the quick profile's convolution in both layouts.
    for dtype in [Dtype::Bf16, Dtype::F16] {
        for n in [1024, 2048, 4096] {
            specs.push(BenchSpec::new(Kernel::Gemm(Gemm::square(n)), dtype));
        }
    }
    for layout in [Layout::Nchw, Layout::Nhwc] {
        specs.push(BenchSpec::new(conv(layout, 4, 64, 56, 64, 3, 1, 1), Dtype::Bf16));
    }
    specs.push(BenchSpec::new(
        Kernel::SpmvSynapses(SpmvSynapses {
            neurons: 65_536,
            fan_in: 7000,
            spike_fraction: 0.05,
        }),
        F32,
    ));
    specs.push(BenchSpec::new(
        Kernel::Attention(Attention {
            seq_len: 4096,
            head_dim: 128,
        }),
        F32,
    ));
    specs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RegistryContext {
        RegistryContext {
            threads: 2,
            last_level_cache_bytes: Some(480 << 20),
            simd: SimdLevel::Avx512,
        }
    }

    #[test]
    fn stream_arrays_are_four_times_the_llc() {
        let n = ctx().stream_bandwidth_elements(Dtype::F64);
        assert!(n * 8 >= 4 * (480 << 20));
        assert!(n * 8 < 4 * (480 << 20) + 8192);
    }

    #[test]
    fn names_are_unique_within_each_profile() {
        for p in Profile::ALL {
            let specs = profile(p, &ctx());
            let mut names: Vec<String> = specs.iter().map(BenchSpec::name).collect();
            let before = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), before, "{p:?} has duplicate names");
        }
    }

    #[test]
    fn short_names_are_unique_and_short_within_each_profile() {
        // The terminal table shows short names only, so two rows of one profile must never
        // share one; and they are what keeps that table within 120 columns.
        for p in Profile::ALL {
            let specs = profile(p, &ctx());
            let mut names: Vec<String> = specs.iter().map(BenchSpec::short_name).collect();
            for name in &names {
                assert!(name.chars().count() <= 37, "{p:?}: {name} is longer than 37 characters");
            }
            let before = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), before, "{p:?} has duplicate short names");
        }
    }

    #[test]
    fn every_kernel_is_in_quick_and_small() {
        for p in [Profile::Quick, Profile::Small] {
            every_kernel_is_in(p);
        }
    }

    fn every_kernel_is_in(p: Profile) {
        let kernels: std::collections::BTreeSet<&str> = profile(p, &ctx()).iter().map(BenchSpec::kernel_name).collect();
        for k in [
            "peak_fma",
            "stream_copy",
            "stream_scale",
            "stream_add",
            "stream_triad",
            "gemm",
            "conv2d_nchw",
            "conv2d_nhwc",
            "spmv_synapses",
            "scatter_add",
            "lif_step",
            "attention",
            "activation_relu",
            "activation_gelu",
        ] {
            assert!(kernels.contains(k), "{k} missing from {p:?}");
        }
    }

    #[test]
    fn lanes_follow_register_width() {
        assert_eq!(SimdLevel::Avx512.lanes(Dtype::F32), 16);
        assert_eq!(SimdLevel::Avx512.lanes(Dtype::F64), 8);
        assert_eq!(SimdLevel::Avx2Fma.lanes(Dtype::F32), 8);
        assert_eq!(SimdLevel::Scalar.lanes(Dtype::F64), 1);
    }
}
