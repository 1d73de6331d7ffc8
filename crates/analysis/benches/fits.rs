//! Fitting speed: an exponential trend over 10,000 points with 10,000 bootstrap
//! resamples (10⁸ resampled points) must take well under a second.

use std::hint::black_box;

use braingap_analysis::fits::{bootstrap_lines, exponential_trend, BootstrapOptions};
use criterion::{criterion_group, criterion_main, Criterion};

fn points(n: usize) -> (Vec<f64>, Vec<f64>) {
    // Deterministic scatter around a 6-month doubling, no RNG needed.
    let x: Vec<f64> = (0..n).map(|i| 2010.0 + 15.0 * i as f64 / n as f64).collect();
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &t)| 10f64.powf(0.6 * (t - 2010.0) + 17.0 + 0.3 * ((i * 7919 % 101) as f64 / 101.0 - 0.5)))
        .collect();
    (x, y)
}

fn bench_fits(c: &mut Criterion) {
    let (x, y) = points(10_000);
    let options = BootstrapOptions {
        resamples: 10_000,
        seed: 1,
        jitter_log10: 0.0,
    };
    let mut group = c.benchmark_group("fits");
    group.sample_size(10);
    group.bench_function("exponential_10k_points_10k_resamples", |b| {
        b.iter(|| exponential_trend(black_box(&x), black_box(&y), options).expect("fit"))
    });
    let log_y: Vec<f64> = y.iter().map(|v| v.log10()).collect();
    group.bench_function("bootstrap_lines_10k_points_10k_resamples", |b| {
        b.iter(|| bootstrap_lines(black_box(&x), black_box(&log_y), options))
    });
    group.finish();
}

criterion_group!(benches, bench_fits);
criterion_main!(benches);
