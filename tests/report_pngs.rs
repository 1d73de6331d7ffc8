//! Writes every figure of a realistic fixture report to `$BRAINGAP_REPORT_PNG_DIR` (when
//! set) so a person can look at them; otherwise just checks they render.

mod report_util;

use braingap::compare::CompareOptions;
use braingap::report::{self, ReportInput};
use report_util::*;

#[test]
fn render_review_pngs() {
    let results = tempfile::tempdir().unwrap();
    let mut run = fake_run(
        results.path(),
        "20250601T120000.000Z-pngs",
        Some("review"),
        &standard_specs(),
        "fp-fixture",
    );
    make_realistic(&mut run);
    let mut other = run.clone();
    other.meta.backend = braingap::backend_kind::BackendKind::Torch;
    for r in other.summary.iter_mut() {
        r.backend = braingap::backend_kind::BackendKind::Torch;
        let speed = if r.kernel.starts_with("stream_") { 0.9 } else { 1.6 };
        for v in [&mut r.median_s, &mut r.ci_low_s, &mut r.ci_high_s] {
            *v = v.map(|t| t / speed);
        }
        r.gflops_per_s = r.gflops_per_s.map(|g| g * 1.6);
        r.gbytes_per_s = r.gbytes_per_s.map(|g| g * 0.9);
        r.gflops_per_joule = r.gflops_per_joule.map(|g| g * 1.4);
    }
    let input = ReportInput {
        populations: Vec::new(),
        cortex: Default::default(),
        run,
        samples: Vec::new(),
        companions: vec![other],
        baseline: None,
        references: sample_references(false),
        compare: CompareOptions::default(),
    };
    let rendered = report::render(&input).unwrap();
    if let Some(dir) = std::env::var_os("BRAINGAP_REPORT_PNG_DIR") {
        let path = report::write_report(&rendered, std::path::Path::new(&dir)).unwrap();
        eprintln!("wrote {}", path.display());
    }
}
