//! Property tests: every CPU kernel against its naive reference over random shapes,
//! including odd sizes and 1×1, at 1 and 2 threads.

use braingap::backends::cpu::CpuBackend;
use braingap::backends::Backend;
use braingap::kernels::registry::{RegistryContext, SimdLevel};
use braingap::kernels::*;
use proptest::prelude::*;

fn backend(threads: usize) -> CpuBackend {
    CpuBackend::new(threads).unwrap()
}

fn check(spec: BenchSpec, threads: usize) -> Result<(), TestCaseError> {
    let b = backend(threads);
    let mut prepared = b.prepare(&spec).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let v = prepared.verify();
    prop_assert!(v.passed, "{} ({} threads): {}", spec.name(), threads, v.detail);
    prop_assert!(v.checked > 0);
    // A batch runs and reports time.
    let batch = prepared.run_batch(2);
    prop_assert!(batch.elapsed.0 > 0.0);
    Ok(())
}

fn dtype() -> impl Strategy<Value = Dtype> {
    prop_oneof![Just(Dtype::F32), Just(Dtype::F64)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn gemm_matches_reference(m in 1u64..70, n in 1u64..70, k in 1u64..70, dtype in dtype(), threads in 1usize..3) {
        check(BenchSpec::new(Kernel::Gemm(Gemm { m, n, k }), dtype), threads)?;
    }

    #[test]
    fn conv2d_matches_reference(
        batch in 1u64..3, c in 1u64..6, hw in 1u64..12, kout in 1u64..6, r in 1u64..4,
        stride in 1u64..3, padding in 0u64..2, nhwc in any::<bool>(), dtype in dtype(), threads in 1usize..3,
    ) {
        let conv = Conv2d {
            layout: if nhwc { Layout::Nhwc } else { Layout::Nchw },
            batch, in_channels: c, height: hw, width: hw + 1, out_channels: kout,
            kernel_h: r, kernel_w: r, stride, padding,
        };
        prop_assume!(conv.is_valid());
        check(BenchSpec::new(Kernel::Conv2d(conv), dtype), threads)?;
    }

    #[test]
    fn stream_matches_reference(n in 1u64..5000, op in 0usize..4, dtype in dtype(), threads in 1usize..3) {
        let op = StreamOp::ALL[op];
        check(BenchSpec::new(Kernel::Stream(Stream { op, n, nontemporal: false }), dtype), threads)?;
    }

    #[test]
    fn stream_nontemporal_matches_reference(n in 1u64..5000, op in 0usize..4, threads in 1usize..3) {
        prop_assume!(SimdLevel::detect() != SimdLevel::Scalar);
        let op = StreamOp::ALL[op];
        check(BenchSpec::new(Kernel::Stream(Stream { op, n, nontemporal: true }), Dtype::F64), threads)?;
    }

    #[test]
    fn spmv_matches_reference(neurons in 1u64..300, fan_in in 1u64..200, frac in 0.0f64..1.0, dtype in dtype(), threads in 1usize..3) {
        check(BenchSpec::new(Kernel::SpmvSynapses(SpmvSynapses { neurons, fan_in, spike_fraction: frac }), dtype), threads)?;
    }

    #[test]
    fn lif_matches_reference(neurons in 1u64..40_000, dtype in dtype(), threads in 1usize..3) {
        check(BenchSpec::new(Kernel::LifStep(LifStep::with_neurons(neurons)), dtype), threads)?;
    }

    #[test]
    fn attention_matches_reference(seq_len in 1u64..80, head_dim in 1u64..40, dtype in dtype(), threads in 1usize..3) {
        check(BenchSpec::new(Kernel::Attention(Attention { seq_len, head_dim }), dtype), threads)?;
    }

    #[test]
    fn activation_matches_reference(n in 1u64..70_000, gelu in any::<bool>(), dtype in dtype(), threads in 1usize..3) {
        let op = if gelu { ActivationOp::Gelu } else { ActivationOp::Relu };
        check(BenchSpec::new(Kernel::Activation(Activation { op, n }), dtype), threads)?;
    }
}

#[test]
fn peak_fma_matches_the_scalar_recurrence_at_each_dtype() {
    for threads in [1usize, 2] {
        let ctx = RegistryContext {
            threads: threads as u64,
            last_level_cache_bytes: None,
            simd: SimdLevel::detect(),
        };
        for dtype in [Dtype::F32, Dtype::F64] {
            let mut spec = registry::peak_fma(&ctx, dtype);
            if let Kernel::PeakFma(k) = &mut spec.kernel {
                k.iters = 1000;
            }
            let b = backend(threads);
            let v = b.prepare(&spec).unwrap().verify();
            assert!(v.passed, "{}: {}", spec.name(), v.detail);
            assert_eq!(
                v.checked,
                (threads as u64) * ctx.simd.fma_chains() * ctx.simd.lanes(dtype)
            );
        }
    }
}

#[test]
fn larger_problems_use_sampled_checks_that_still_catch_errors() {
    // Above the full-check threshold the GEMM check samples outputs; a corrupted output
    // in a sampled position must still fail. Use the kernel's verify directly.
    let g = Gemm { m: 300, n: 300, k: 50 };
    let (a, b) = g.inputs::<f64>();
    let mut c: Vec<f64> = g.reference(&a, &b);
    assert!(g.verify(&a, &b, &c).passed);
    for v in c.iter_mut() {
        *v *= 1.0 + 1e-6;
    }
    let v = g.verify(&a, &b, &c);
    assert!(!v.passed, "a 1e-6 relative error on every f64 output must be caught");
    assert!(v.detail.contains("sampled"), "{}", v.detail);
}

#[test]
fn unsupported_combinations_say_why() {
    let b = backend(1);
    let spec = BenchSpec::new(Kernel::Gemm(Gemm::square(8)), Dtype::Bf16);
    let err = b.supports(&spec).unwrap_err().to_string();
    assert!(err.contains("f32 and f64 only"), "{err}");
}

/// Shapes past the blocking that the random shapes above stay inside. NCHW (im2col, then the
/// packed GEMM): k = 40·3·3 = 360 exceeds the depth block (256) and 60·61 = 3,660 output
/// positions exceed the row block. NHWC (the indirect convolution where AVX-512 is present):
/// 35 output channels leave a partial 64-channel (f32) or 32-channel (f64) tile, and
/// 3,660 pixels end in a partial 6-pixel block. Padding puts zeros at every border.
#[test]
fn conv2d_spans_several_depth_and_row_blocks() {
    for layout in [Layout::Nhwc, Layout::Nchw] {
        for dtype in [Dtype::F32, Dtype::F64] {
            for threads in [1, 2] {
                let conv = Conv2d {
                    layout,
                    batch: 1,
                    in_channels: 40,
                    height: 60,
                    width: 61,
                    out_channels: 35,
                    kernel_h: 3,
                    kernel_w: 3,
                    stride: 1,
                    padding: 1,
                };
                check(BenchSpec::new(Kernel::Conv2d(conv), dtype), threads).unwrap();
            }
        }
        // Stride 2 and a wider kernel: taps skip input columns.
        let conv = Conv2d {
            layout,
            batch: 2,
            in_channels: 29,
            height: 23,
            width: 19,
            out_channels: 17,
            kernel_h: 5,
            kernel_w: 5,
            stride: 2,
            padding: 2,
        };
        check(BenchSpec::new(Kernel::Conv2d(conv), Dtype::F32), 2).unwrap();
    }
}
