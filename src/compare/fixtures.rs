//! Summary rows for the unit tests of this module's submodules.

use crate::measure::Status;
use crate::store::SummaryRow;

/// A summary row of `benchmark` on backend `cpu`, 2 threads, with the given status, median
/// time per call (CI ±10 %, dropped unless `ok`) and analytic counts.
pub fn row(benchmark: &str, status: &str, median: f64, flops: f64, bytes: f64) -> SummaryRow {
    let status = match status {
        "ok" => Status::Ok,
        "failed" => Status::Failed,
        "skipped" => Status::Skipped,
        other => panic!("fixture status {other:?}"),
    };
    let ok = status == Status::Ok;
    SummaryRow {
        run_id: "r".into(),
        benchmark: benchmark.into(),
        kernel: "k".into(),
        backend: "cpu".into(),
        device: "cpu".into(),
        dtype: "f32".into(),
        threads: 2,
        params: "{}".into(),
        median_s: Some(median).filter(|_| ok),
        ci_low_s: Some(median * 0.9).filter(|_| ok),
        ci_high_s: Some(median * 1.1).filter(|_| ok),
        mad_s: None,
        min_s: None,
        max_s: None,
        samples: 10,
        iters_per_sample: 4,
        outliers: 0,
        flops,
        bytes,
        gflops_per_s: None,
        gbytes_per_s: None,
        arithmetic_intensity: None,
        attainment: None,
        theoretical_peak_gflops_per_s: None,
        clock_ghz_before: None,
        clock_ghz_after: None,
        flops_per_cycle_per_core: None,
        event_kind: None,
        events_per_call: None,
        energy_j: None,
        avg_power_w: None,
        gflops_per_joule: None,
        joules_per_synaptic_event: None,
        energy_source: "unavailable".into(),
        energy_note: None,
        instructions: None,
        cycles: None,
        llc_misses: None,
        measured_flops: None,
        measured_bytes: None,
        counters_note: None,
        metric_source: None,
        code_path: None,
        verification: None,
        status,
        reason: None,
    }
}
