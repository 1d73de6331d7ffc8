//! The terminal observer: an `indicatif` bar with the count done and the time left while
//! benchmarks run (drawn only when stderr is a terminal), and one line per finished benchmark
//! on stderr either way (what a log or CI job keeps).

use crate::kernels::BenchSpec;
use crate::measure::{BenchRecord, Observer, Phase, Status};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// The bar: spinner, bar, benchmarks done of planned, elapsed, time left (indicatif's
/// estimate from the benchmarks done so far), then the current benchmark and its phase.
const BAR_TEMPLATE: &str = "{spinner} [{bar:24}] {pos}/{len} {elapsed} elapsed, ~{eta} left  {wide_msg}";

/// Draws progress on stderr.
pub struct ProgressObserver {
    bar: ProgressBar,
    current: String,
}

impl ProgressObserver {
    /// A bar drawn on stderr, hidden when stderr is not a terminal (a pipe or a file gets the
    /// per-benchmark lines only). Drawing errors (a closed stderr) are ignored by indicatif.
    pub fn new() -> ProgressObserver {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(BAR_TEMPLATE)
                .expect("valid template")
                .progress_chars("=> "),
        );
        ProgressObserver {
            bar,
            current: String::new(),
        }
    }
}

impl Observer for ProgressObserver {
    fn run_started(&mut self, total: usize) {
        self.bar.set_length(total as u64);
    }

    fn benchmark_started(&mut self, _index: usize, spec: &BenchSpec) {
        self.current = spec.short_name();
        self.bar.set_message(self.current.clone());
    }

    fn phase(&mut self, phase: Phase) {
        let what = match phase {
            Phase::Preparing => "preparing".to_string(),
            Phase::Verifying => "verifying".to_string(),
            Phase::WarmingUp => "warming up".to_string(),
            Phase::Sampling { index, total } => format!("sample {}/{}", index + 1, total),
        };
        self.bar.set_message(format!("{} ({what})", self.current));
        self.bar.tick();
    }

    fn benchmark_finished(&mut self, record: &BenchRecord) {
        let line = match record.status {
            Status::Ok => {
                let mut rate = Vec::new();
                if let Some(f) = record.flops_per_s().filter(|_| record.flops.0 > 0.0) {
                    rate.push(crate::units::si(f, "FLOP/s"));
                }
                if let Some(b) = record.bytes_per_s().filter(|_| record.bytes.0 > 0.0) {
                    rate.push(crate::units::si(b, "B/s"));
                }
                let rate = rate.join(", ");
                format!("ok      {} {rate}", record.benchmark)
            }
            Status::Failed => format!(
                "FAILED  {}: {}",
                record.benchmark,
                record.reason.as_deref().unwrap_or("")
            ),
            Status::Skipped => format!(
                "skipped {}: {}",
                record.benchmark,
                record.reason.as_deref().unwrap_or("")
            ),
        };
        self.bar.suspend(|| crate::diag!("{line}"));
        self.bar.inc(1);
    }

    fn run_finished(&mut self, _records: &[BenchRecord]) {
        self.bar.finish_and_clear();
    }
}
