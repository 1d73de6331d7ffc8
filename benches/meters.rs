//! The background RAPL sampler's cost on a benchmark: the same small workload
//! timed with no meters, and with a RAPL meter (a fixture powercap tree, so the
//! bench runs anywhere) sampling in the background at the 100 ms timeline
//! period and at the 1 ms floor, with `start`/`stop` around every iteration.
//! Issue #4 asks for under 1% overhead.

use braingap::meters::{MeterConfig, MeterSet, WorkDone};
use braingap::units::{Bytes, Flops, Seconds};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

/// About a millisecond of dependent floating-point work on one core.
fn workload(data: &[f64]) -> f64 {
    data.iter().fold(0.0, |acc, x| acc * 0.999_999 + x * x)
}

fn fixture(root: &Path, range_uj: u64) {
    for (zone, name) in [("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "dram")] {
        let dir = root.join("class/powercap").join(zone);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("name"), format!("{name}\n")).unwrap();
        std::fs::write(dir.join("energy_uj"), "12345\n").unwrap();
        std::fs::write(dir.join("max_energy_range_uj"), format!("{range_uj}\n")).unwrap();
    }
}

fn meters(root: &Path, timeline: Option<Duration>) -> MeterSet {
    let config = MeterConfig {
        sysfs_root: Some(root.to_path_buf()),
        power_timeline: timeline.is_some(),
        timeline_interval: timeline,
        skip_nvml: true,
        skip_perf: true,
        ..MeterConfig::default()
    };
    MeterSet::detect(&config)
}

fn sampler_overhead(c: &mut Criterion) {
    let data: Vec<f64> = (0..250_000).map(|i| (i % 97) as f64 * 1e-3).collect();
    let work = WorkDone {
        elapsed: Seconds(1e-3),
        flops: Flops(3.0 * data.len() as f64),
        bytes: Bytes(8.0 * data.len() as f64),
    };

    let typical = tempfile::tempdir().unwrap();
    fixture(typical.path(), 262_143_328_850);
    // A 4 J range forces the 1 ms floor: the worst case the sampler allows.
    let tiny = tempfile::tempdir().unwrap();
    fixture(tiny.path(), 4_000_000);

    let mut group = c.benchmark_group("sampler_overhead");
    group.bench_function("no_meters", |b| b.iter(|| workload(black_box(&data))));

    for (name, root, timeline) in [
        ("rapl_sampler_100ms", typical.path(), Some(Duration::from_millis(100))),
        ("rapl_sampler_1ms", tiny.path(), None),
    ] {
        let mut set = meters(root, timeline);
        assert_eq!(
            set.energy_source().as_str(),
            "rapl",
            "fixture not detected: {:?}",
            set.unavailable()
        );
        // Keep a region open so the sampler really reads during the timing.
        set.start();
        group.bench_function(name, |b| b.iter(|| workload(black_box(&data))));
        set.stop(&work);

        group.bench_function(format!("{name}_start_stop_each"), |b| {
            b.iter_batched(
                || (),
                |()| {
                    set.start();
                    let value = workload(black_box(&data));
                    let record = set.stop(&work);
                    (value, record)
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(60)
        .measurement_time(Duration::from_secs(6))
        .warm_up_time(Duration::from_secs(2));
    targets = sampler_overhead
}
criterion_main!(benches);
