//! `braingap report` end to end (load, render every figure to SVG and PNG, write) on a
//! results directory of 100 runs, the size issue 5 asks to finish in under 5 seconds.
//!
//! The runs are made in-process with the fake backend (one standard-profile run, copied
//! 99 times under new ids), so the bench needs no CLI and no machine noise.

use braingap::backends::fake::FakeBackend;
use braingap::kernels::registry::{self, Profile, RegistryContext, SimdLevel};
use braingap::measure::{run_benchmarks, Observer, RunConfig};
use braingap::meters::MeterSet;
use braingap::store::{RunMeta, Store, SCHEMA_VERSION};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use std::time::Duration;

struct Quiet;
impl Observer for Quiet {}

fn make_results(root: &Path, runs: usize) {
    let ctx = RegistryContext {
        threads: 2,
        last_level_cache_bytes: Some(32 << 20),
        simd: SimdLevel::Avx512,
    };
    let specs = registry::profile(Profile::Standard, &ctx);
    let meta = RunMeta {
        schema_version: SCHEMA_VERSION,
        run_id: "20250101T000000.000Z-0000".into(),
        status: braingap::store::RunStatus::Running,
        label: Some("bench".into()),
        command_line: vec!["braingap".into(), "run".into()],
        profile: "standard".into(),
        filter: None,
        backend: braingap::backend_kind::BackendKind::Fake,
        device: "cpu".into(),
        threads: 2,
        started_at: "2025-01-01T00:00:00.000Z".into(),
        finished_at: None,
        git_commit: None,
        benchmarks_planned: specs.len(),
        timer_overhead_s: 2e-8,
        config: serde_json::json!({}),
        machine: serde_json::json!({
            "cpu_model": {"value": "bench CPU", "source": "bench"},
            "caches": [
                {"level": 1, "kind": "Data", "size_bytes": 49152, "instances": 2},
                {"level": 2, "kind": "Unified", "size_bytes": 2097152, "instances": 2},
                {"level": 3, "kind": "Unified", "size_bytes": 33554432, "instances": 1}
            ],
            "theoretical_peaks": [{"dtype": "f32", "flops_per_s": 1.9e11, "formula": "bench"}],
            "fingerprint": "bench-fp"
        }),
        meters: serde_json::json!({}),
        distributed: None,
    };
    let store = Store::new(root);
    let mut writer = store.create_run(meta, false).expect("create run");
    let config = RunConfig {
        warmup: braingap::units::Seconds(0.0),
        bootstrap_resamples: 100,
        ..RunConfig::quick()
    };
    let backend = FakeBackend::new(2, 0, None);
    run_benchmarks(
        &backend,
        &specs,
        &config,
        &mut MeterSet::none(),
        braingap::measure::MachineLimits {
            theoretical_peak: &|_| None,
            cache_capacities: &[],
        },
        &mut Quiet,
        &mut writer,
    )
    .expect("run");
    let first = writer.finish().expect("finish");
    let meta_text = std::fs::read_to_string(first.dir.join("meta.json")).unwrap();
    for i in 1..runs {
        let id = format!("20250101T{:02}{:02}00.000Z-{i:04x}", i / 60, i % 60);
        let dir = store.runs_dir().join(&id);
        std::fs::create_dir_all(&dir).unwrap();
        for file in ["summary.csv", "samples.csv"] {
            // each copy is its own run: its rows carry its id
            let text = std::fs::read_to_string(first.dir.join(file)).unwrap();
            std::fs::write(dir.join(file), text.replace(&first.meta.run_id, &id)).unwrap();
        }
        std::fs::write(dir.join("meta.json"), meta_text.replace(&first.meta.run_id, &id)).unwrap();
    }
}

fn bench_report(c: &mut Criterion) {
    let results = tempfile::tempdir().unwrap();
    make_results(results.path(), 100);
    let out = tempfile::tempdir().unwrap();
    let data_dir = braingap::analysis::datasets::bundled_data_dir();
    let mut group = c.benchmark_group("report");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("100_runs_latest_with_references", |b| {
        b.iter(|| {
            let input = braingap::report::load_input(results.path(), "latest", None, Some(&data_dir)).unwrap();
            let report = braingap::report::render(&input).unwrap();
            braingap::report::write_report(&report, out.path()).unwrap()
        })
    });
    group.bench_function("100_runs_baseline_no_references", |b| {
        b.iter(|| {
            let input = braingap::report::load_input(results.path(), "latest", Some("20250101T000000.000Z-0000"), None)
                .unwrap();
            let report = braingap::report::render(&input).unwrap();
            braingap::report::write_report(&report, out.path()).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_report);
criterion_main!(benches);
