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
        backend: braingap_core::backend_kind::BackendKind::Cpu,
        device: "cpu".into(),
        dtype: braingap_core::dtype::Dtype::F32,
        threads: 2,
        params: "{}".into(),
        median_s: Some(median).filter(|_| ok),
        ci_low_s: Some(median * 0.9).filter(|_| ok),
        ci_high_s: Some(median * 1.1).filter(|_| ok),
        samples: 10,
        iters_per_sample: 4,
        outliers: 0,
        flops,
        bytes,
        energy_source: braingap_meters::EnergySource::Unavailable,
        status,
        ..SummaryRow::default()
    }
}
