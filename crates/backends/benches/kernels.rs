//! Criterion benches over the same kernel registry `braingap run` uses (no second copy of
//! kernel code). Each benchmark is verified against its reference before it is timed, and
//! criterion's `Throughput` is set so it prints FLOP/s (as elements/s: one element = one
//! FLOP) or bytes/s for kernels that do no arithmetic.
//!
//! `BRAINGAP_BENCH_PROFILE` picks the profile (default `quick`); `cargo bench --bench kernels
//! -- gemm` filters as criterion does. It lives in the backends crate, so it builds neither
//! polars nor plotters: criterion here has no plotting feature.

use braingap_backends::cpu::CpuBackend;
use braingap_backends::Backend;
use braingap_core::machine::{BuildInfo, Machine};
use braingap_kernels::registry::{self, Profile, RegistryContext, SimdLevel};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

fn registry_benches(c: &mut Criterion) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let profile: Profile = std::env::var("BRAINGAP_BENCH_PROFILE")
        .unwrap_or_else(|_| "quick".into())
        .parse()
        .expect("BRAINGAP_BENCH_PROFILE must be quick, standard, full or peers");
    let machine = Machine::detect(None, &BuildInfo::default());
    let ctx = RegistryContext {
        threads: threads as u64,
        last_level_cache_bytes: machine.last_level_cache_bytes.value,
        simd: SimdLevel::detect(),
    };
    let backend = CpuBackend::new(threads).expect("thread pool");
    let mut group = c.benchmark_group("kernels");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for spec in registry::profile(profile, &ctx) {
        let name = spec.name();
        let mut prepared = match backend.prepare(&spec) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("skipping {name}: {e}");
                continue;
            }
        };
        let verification = prepared.verify();
        assert!(
            verification.passed,
            "{name} failed verification: {}",
            verification.detail
        );
        // Elements are FLOPs: criterion prints "elem/s" for FLOP/s, beside bytes/s.
        if spec.flops().0 > 0.0 {
            group.throughput(Throughput::ElementsAndBytes {
                elements: spec.flops().0 as u64,
                bytes: spec.bytes().0 as u64,
            });
        } else {
            group.throughput(Throughput::Bytes(spec.bytes().0 as u64));
        }
        group.bench_function(&name, |b| {
            b.iter_custom(|iters| {
                let batch = prepared.run_batch(iters);
                Duration::from_secs_f64(batch.elapsed.0)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, registry_benches);
criterion_main!(benches);
