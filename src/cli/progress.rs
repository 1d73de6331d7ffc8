//! The terminal observer: an `indicatif` bar with the count done and the time left while
//! benchmarks run (drawn only when stderr is a terminal), and one line per finished benchmark
//! on stderr either way (what a log or CI job keeps).

use crate::kernels::BenchSpec;
use crate::measure::instructions::InstructionMeasurement;
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
        let mut rate = Vec::new();
        if let Some(f) = record.flops_per_s().filter(|_| record.flops.0 > 0.0) {
            rate.push(crate::units::si(f.0, "FLOP/s"));
        }
        if let Some(b) = record.bytes_per_s().filter(|_| record.bytes.0 > 0.0) {
            rate.push(crate::units::si(b.0, "B/s"));
        }
        self.finished(
            record.status,
            &record.benchmark,
            record.reason.as_deref(),
            &rate.join(", "),
        );
    }

    fn run_finished(&mut self, _records: &[BenchRecord]) {
        self.bar.finish_and_clear();
    }

    fn count_finished(&mut self, spec: &BenchSpec, count: &InstructionMeasurement) {
        let figure = count
            .instructions_per_call()
            .map_or_else(String::new, |i| format!("{i:.0} instructions/call"));
        self.finished(
            count.child.status,
            &spec.name(),
            count.child.reason.as_deref(),
            &format!("{figure} ({:.1} s under valgrind)", count.wall_seconds),
        );
    }

    fn counts_finished(&mut self) {
        self.bar.finish_and_clear();
    }

    fn item_finished(&mut self, name: &str, status: Status, reason: Option<&str>, measured: &str) {
        self.finished(status, name, reason, measured);
    }

    fn items_finished(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl ProgressObserver {
    /// One line per finished benchmark: its status, its name, then what it measured (ok) or
    /// why not.
    fn finished(&mut self, status: Status, name: &str, reason: Option<&str>, measured: &str) {
        let line = match status {
            Status::Ok => format!("ok      {name} {measured}"),
            Status::Failed => format!("FAILED  {name}: {}", reason.unwrap_or("")),
            Status::Skipped => format!("skipped {name}: {}", reason.unwrap_or("")),
        };
        self.bar.suspend(|| crate::diag!("{line}"));
        self.bar.inc(1);
    }
}
