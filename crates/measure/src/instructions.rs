//! Instruction counts of the CPU kernels under `valgrind --tool=callgrind`: a deterministic
//! metric for regression gates on noisy machines (issue 7).
//!
//! Method. For each benchmark the parent process starts a child,
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=braingap_callgrind_region
//! <this exe> callgrind-child --benchmark NAME --calls N`. The child builds the CPU backend
//! with one worker thread and runs everything on that thread (a one-thread rayon pool runs
//! nested work inline, so no other thread does any of it): it prepares the seeded inputs,
//! verifies one call against the reference, makes one warm-up call, then makes `N` calls
//! inside [`braingap_callgrind_region`], the only function whose execution callgrind counts.
//! The parent reads the `totals:` line of callgrind's output file (kept in the run
//! directory) and stores `Ir / N`, instructions per call.
//!
//! Why a toggled marker function rather than callgrind client requests (the `crabgrind`
//! crate): it needs no valgrind headers or C compiler at build time, and the binary runs
//! unchanged outside valgrind. The two `Instant::now()` reads of the batch are inside the
//! counted region; their cost is constant and the tests check the count repeats exactly.
//!
//! Code path. Valgrind does not emulate AVX-512: under it CPUID reports none, so
//! [`SimdLevel::detect`] (which the CPU backend dispatches on) picks AVX2+FMA on an AVX-512
//! machine, and the `gemm` crate's own run-time dispatch takes its AVX2 kernels likewise.
//! The child reports the level it detected; every row records it as `code_path`. The
//! default build's static target (x86-64, no `.cargo/config`, no `target-cpu`) contains no
//! AVX-512, which valgrind could not run.

use crate::backends::cpu::CpuBackend;
use crate::backends::{Backend, Batch, Prepared};
use crate::kernels::registry::SimdLevel;
use crate::kernels::BenchSpec;
use crate::Status;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Name of the function whose execution callgrind counts (`--toggle-collect`).
pub const MARKER: &str = "braingap_callgrind_region";

/// Environment variable naming the valgrind executable (default: `valgrind` on `PATH`).
pub const VALGRIND_ENV: &str = "BRAINGAP_VALGRIND";

/// Runs `calls` calls of a prepared benchmark: the region callgrind counts.
///
/// Unmangled and never inlined so that `--toggle-collect=braingap_callgrind_region` finds it.
#[no_mangle]
#[inline(never)]
pub fn braingap_callgrind_region(prepared: &mut dyn Prepared, calls: u64) -> Batch {
    prepared.run_batch(calls)
}

/// What the child reports on stdout (one JSON object) about the benchmark it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildReport {
    /// Benchmark name.
    pub benchmark: String,
    /// SIMD level the CPU backend dispatched to in the child (under valgrind).
    pub code_path: SimdLevel,
    /// Calls inside the counted region.
    pub calls: u64,
    /// `ok`, `failed` (verification or backend) or `skipped` (unsupported here).
    pub status: Status,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// What the reference check compared.
    pub verification: Option<String>,
    /// Discrete events (spikes, synaptic events) of the counted calls.
    pub events: u64,
}

/// What the child lists: the benchmarks it would run, in its own context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildListing {
    /// SIMD level detected in the child.
    pub code_path: SimdLevel,
    /// Benchmark names.
    pub benchmarks: Vec<String>,
}

/// The child's side: prepare, verify, warm up, then `calls` calls inside the marker, all
/// on the backend's worker thread (build the backend with one thread).
pub fn run_child(backend: &CpuBackend, spec: &BenchSpec, calls: u64) -> ChildReport {
    let mut report = ChildReport {
        benchmark: spec.name(),
        code_path: backend.simd(),
        calls,
        status: Status::Failed,
        reason: None,
        verification: None,
        events: 0,
    };
    if let Err(e) = backend.supports(spec) {
        report.status = Status::Skipped;
        report.reason = Some(e.to_string());
        return report;
    }
    let outcome = backend.install(|| -> Result<(String, u64), String> {
        let mut prepared = backend.prepare(spec).map_err(|e| e.to_string())?;
        let verification = prepared.verify();
        if !verification.passed {
            return Err(format!("verification failed: {}", verification.detail));
        }
        prepared.run_batch(1);
        let batch = braingap_callgrind_region(prepared.as_mut(), calls);
        Ok((verification.detail, batch.events))
    });
    match outcome {
        Ok((detail, events)) => {
            report.status = Status::Ok;
            report.verification = Some(detail);
            report.events = events;
        }
        Err(reason) => report.reason = Some(reason),
    }
    report
}

/// Why an instruction count could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum InstructionsError {
    /// The count could not be stored.
    #[error(transparent)]
    Store(#[from] crate::error::Error),
    /// valgrind is not installed or does not start.
    #[error(
        "valgrind not found ({tried}: {reason}): `--metric instructions` runs each benchmark under \
         `valgrind --tool=callgrind`; install valgrind (`apt-get install valgrind`, or \
         `bash scripts/setup-system.sh`) or point {VALGRIND_ENV} at it"
    )]
    ValgrindMissing {
        /// The executable tried.
        tried: String,
        /// Why it did not run.
        reason: String,
    },
    /// The child under valgrind exited abnormally.
    #[error("{benchmark}: `{command}` exited with {status}; its stderr ends:\n{stderr_tail}")]
    ChildFailed {
        /// Benchmark (or `--list`).
        benchmark: String,
        /// The command line.
        command: String,
        /// Exit status.
        status: String,
        /// Last lines of its stderr.
        stderr_tail: String,
    },
    /// The child's report or callgrind's output could not be read.
    #[error("{path}:{line}: {reason}")]
    BadOutput {
        /// The file (or `<stdout of ...>`).
        path: PathBuf,
        /// 1-based line (0: the whole file).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// An I/O error on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// Event totals of a callgrind output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallgrindTotals {
    /// Event names of the `events:` line, in order (`Ir` first by default).
    pub events: Vec<String>,
    /// Totals per event, summed over the file's parts.
    pub totals: Vec<u64>,
}

impl CallgrindTotals {
    /// Total of one event, e.g. `Ir` (instructions executed).
    pub fn get(&self, event: &str) -> Option<u64> {
        let i = self.events.iter().position(|e| e == event)?;
        self.totals.get(i).copied()
    }
}

/// Parses the `events:` line and the `totals:` lines (or, if there are none, the last
/// `summary:` line) of a callgrind output file (format: valgrind manual, "Callgrind Format
/// Specification"). A file with several parts (dumps) has one `totals:` per part; they are
/// summed. Missing events at the end of a totals line count as 0, as the format says.
pub fn parse_callgrind_totals(text: &str, path: &Path) -> Result<CallgrindTotals, InstructionsError> {
    let bad = |line: u64, reason: String| InstructionsError::BadOutput {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut events: Option<Vec<String>> = None;
    let mut totals: Option<Vec<u64>> = None;
    let mut summary: Option<Vec<u64>> = None;
    for (i, line) in text.lines().enumerate() {
        let number = i as u64 + 1;
        let (key, rest) = match line.split_once(':') {
            Some((k, r)) if matches!(k, "events" | "totals" | "summary") => (k, r),
            _ => continue,
        };
        if key == "events" {
            events = Some(rest.split_whitespace().map(str::to_string).collect());
            continue;
        }
        let count = events
            .as_ref()
            .ok_or_else(|| bad(number, format!("`{key}:` before any `events:` line")))?
            .len();
        let values = rest
            .split_whitespace()
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|e| bad(number, format!("`{key}:` value {v:?}: {e}")))
            })
            .collect::<Result<Vec<u64>, _>>()?;
        if values.len() > count {
            return Err(bad(
                number,
                format!("`{key}:` has {} values for {count} events", values.len()),
            ));
        }
        let mut padded = values;
        padded.resize(count, 0);
        if key == "totals" {
            let sum = totals.get_or_insert_with(|| vec![0; count]);
            for (s, v) in sum.iter_mut().zip(&padded) {
                *s += v;
            }
        } else {
            summary = Some(padded);
        }
    }
    let events = events.ok_or_else(|| bad(0, "no `events:` line: not a callgrind output file".into()))?;
    let totals = totals
        .or(summary)
        .ok_or_else(|| bad(0, "no `totals:` or `summary:` line".into()))?;
    Ok(CallgrindTotals { events, totals })
}

/// One benchmark's instruction count.
#[derive(Debug, Clone, PartialEq)]
pub struct InstructionMeasurement {
    /// The child's report (status, code path, verification, events).
    pub child: ChildReport,
    /// Instructions executed in the counted region (all calls), if it ran.
    pub total_instructions: Option<u64>,
    /// The callgrind output file.
    pub callgrind_file: PathBuf,
    /// Wall time of the child under valgrind.
    pub wall_seconds: f64,
}

impl InstructionMeasurement {
    /// Instructions per call.
    pub fn instructions_per_call(&self) -> Option<f64> {
        let total = self.total_instructions?;
        (self.child.calls > 0).then(|| total as f64 / self.child.calls as f64)
    }

    /// Events per call.
    pub fn events_per_call(&self) -> Option<f64> {
        (self.child.calls > 0).then(|| self.child.events as f64 / self.child.calls as f64)
    }
}

/// The instruction-count executor: counts each benchmark of `specs` under `callgrind`, one
/// child process each (`child_args` plus `--benchmark NAME --calls N`), callgrind's raw output
/// in `raw_dir` as `NNN-kernel.out`. Progress goes to `observer` (`benchmark_started`,
/// `count_finished`), each count to `sink` before the next benchmark starts, as the timed
/// executor ([`crate::run_benchmarks`]) does with its records.
#[allow(clippy::too_many_arguments)]
pub fn count_benchmarks(
    callgrind: &Callgrind,
    specs: &[BenchSpec],
    child_args: &[OsString],
    calls: u64,
    raw_dir: &Path,
    observer: &mut dyn crate::Observer,
    sink: &mut dyn crate::RecordSink,
) -> Result<Vec<InstructionMeasurement>, InstructionsError> {
    observer.run_started(specs.len());
    let mut counts = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        observer.benchmark_started(index, spec);
        let name = spec.name();
        let file = raw_dir.join(format!("{index:03}-{}.out", spec.kernel_name()));
        let mut args = child_args.to_vec();
        args.extend([
            "--benchmark".into(),
            name.clone().into(),
            "--calls".into(),
            calls.to_string().into(),
        ]);
        let count = callgrind.measure(&name, &args, &file)?;
        sink.record_count(spec, &count, callgrind.version())?;
        observer.count_finished(spec, &count);
        counts.push(count);
    }
    observer.counts_finished();
    Ok(counts)
}

/// Runs this executable's hidden child subcommand under valgrind.
#[derive(Debug, Clone)]
pub struct Callgrind {
    valgrind: PathBuf,
    exe: PathBuf,
    version: String,
}

impl Callgrind {
    /// Finds valgrind (`valgrind`, the CLI's [`VALGRIND_ENV`], else `valgrind` on `PATH`) by
    /// running `--version`; `exe` is the braingap executable the children run.
    pub fn locate(exe: PathBuf, valgrind: Option<PathBuf>) -> Result<Callgrind, InstructionsError> {
        let valgrind = valgrind.unwrap_or_else(|| PathBuf::from("valgrind"));
        let missing = |reason: String| InstructionsError::ValgrindMissing {
            tried: valgrind.display().to_string(),
            reason,
        };
        let output = Command::new(&valgrind)
            .arg("--version")
            .output()
            .map_err(|e| missing(e.to_string()))?;
        if !output.status.success() {
            return Err(missing(format!("`--version` exited with {}", output.status)));
        }
        let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        Ok(Callgrind { valgrind, exe, version })
    }

    /// valgrind's version line, e.g. `valgrind-3.19.0`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Asks the child, under valgrind's no-op tool (so CPUID is valgrind's), what it would
    /// run: `child_args` must select the child's listing mode.
    pub fn list(&self, child_args: &[OsString]) -> Result<ChildListing, InstructionsError> {
        let mut command = Command::new(&self.valgrind);
        command.args(["--tool=none", "-q"]).arg(&self.exe).args(child_args);
        let stdout = run_to_stdout(command, "--list")?;
        parse_child_json(&stdout, "--list")
    }

    /// Counts the instructions of one benchmark: `child_args` select it in the child, which
    /// makes `calls` calls in the counted region; callgrind's output goes to `out_file`.
    pub fn measure(
        &self,
        benchmark: &str,
        child_args: &[OsString],
        out_file: &Path,
    ) -> Result<InstructionMeasurement, InstructionsError> {
        let mut out_arg = OsString::from("--callgrind-out-file=");
        out_arg.push(out_file);
        let mut command = Command::new(&self.valgrind);
        command
            .args([
                "--tool=callgrind",
                "-q",
                "--collect-atstart=no",
                &format!("--toggle-collect={MARKER}"),
            ])
            .arg(out_arg)
            .arg(&self.exe)
            .args(child_args);
        let start = Instant::now();
        let stdout = run_to_stdout(command, benchmark)?;
        let wall_seconds = start.elapsed().as_secs_f64();
        let child: ChildReport = parse_child_json(&stdout, benchmark)?;
        let total_instructions = if child.status == Status::Ok {
            let text = std::fs::read_to_string(out_file).map_err(|source| InstructionsError::Io {
                path: out_file.to_path_buf(),
                source,
            })?;
            let totals = parse_callgrind_totals(&text, out_file)?;
            Some(totals.get("Ir").ok_or_else(|| InstructionsError::BadOutput {
                path: out_file.to_path_buf(),
                line: 0,
                reason: format!("no Ir event (events: {})", totals.events.join(" ")),
            })?)
        } else {
            None
        };
        Ok(InstructionMeasurement {
            child,
            total_instructions,
            callgrind_file: out_file.to_path_buf(),
            wall_seconds,
        })
    }
}

fn run_to_stdout(mut command: Command, benchmark: &str) -> Result<String, InstructionsError> {
    let rendered = format!("{command:?}").replace('"', "");
    let output = command.output().map_err(|e| InstructionsError::ValgrindMissing {
        tried: rendered.clone(),
        reason: e.to_string(),
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        return Err(InstructionsError::ChildFailed {
            benchmark: benchmark.to_string(),
            command: rendered,
            status: output.status.to_string(),
            stderr_tail: lines[lines.len().saturating_sub(15)..].join("\n"),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn parse_child_json<T: serde::de::DeserializeOwned>(stdout: &str, benchmark: &str) -> Result<T, InstructionsError> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("");
    serde_json::from_str(line).map_err(|e| InstructionsError::BadOutput {
        path: PathBuf::from(format!("<stdout of the callgrind child for {benchmark}>")),
        line: 0,
        reason: format!("{e}; stdout was {stdout:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/callgrind.out");

    #[test]
    fn parses_the_fixture_totals() {
        let totals = parse_callgrind_totals(FIXTURE, Path::new("callgrind.out")).unwrap();
        assert_eq!(totals.events, vec!["Ir".to_string()]);
        assert_eq!(totals.get("Ir"), Some(FIXTURE_IR));
        assert_eq!(totals.get("Dr"), None);
    }

    /// The `totals:` value of `tests/fixtures/callgrind.out` (3 calls of
    /// `activation_gelu/f32/n=16384`, AVX2 path, valgrind 3.19.0).
    const FIXTURE_IR: u64 = 6_451_351;

    #[test]
    fn sums_parts_and_pads_missing_events() {
        let text = "events: Ir Dr\nsummary: 99 9\nfn=a\n1 5 2\ntotals: 10\n\npart: 2\ntotals: 5 3\n";
        let totals = parse_callgrind_totals(text, Path::new("x")).unwrap();
        assert_eq!(totals.get("Ir"), Some(15));
        assert_eq!(totals.get("Dr"), Some(3));
    }

    #[test]
    fn falls_back_to_summary() {
        let totals = parse_callgrind_totals("events: Ir\nsummary: 42\n", Path::new("x")).unwrap();
        assert_eq!(totals.get("Ir"), Some(42));
    }

    #[test]
    fn rejects_malformed_files_with_the_line() {
        let err = parse_callgrind_totals("events: Ir\ntotals: 1x\n", Path::new("f.out")).unwrap_err();
        assert!(err.to_string().starts_with("f.out:2:"), "{err}");
        let err = parse_callgrind_totals("totals: 1\n", Path::new("f.out")).unwrap_err();
        assert!(err.to_string().contains("before any `events:`"), "{err}");
        let err = parse_callgrind_totals("hello\n", Path::new("f.out")).unwrap_err();
        assert!(err.to_string().contains("not a callgrind output file"), "{err}");
        let err = parse_callgrind_totals("events: Ir\ntotals: 1 2\n", Path::new("f.out")).unwrap_err();
        assert!(err.to_string().contains("2 values for 1 events"), "{err}");
    }
}
