//! Results on disk, no server: `RESULTS/runs/<run-id>/{meta.json, summary.csv, samples.csv}`.
//!
//! Every write is atomic (write a temporary file in the same directory, fsync, rename), and
//! the runner hands each finished benchmark to [`RunWriter`], which rewrites both CSV files
//! before the next benchmark starts. A run killed midway therefore keeps everything it
//! finished, and its `meta.json` still says `running` (shown as incomplete). Run ids start
//! with the UTC start time, so they sort by time.

pub mod rows;

// The layers below, under the names the rest of braingap uses for them.
pub use braingap_core::backend_kind::BackendKind;
use braingap_core::{error, hash, machine};
use braingap_kernels as kernels;
use braingap_measure as measure;

use crate::error::{Error, Result};
use crate::measure::{BenchRecord, RecordSink};
use braingap_core::launch::LaunchInfo;
pub use rows::{SampleRow, SummaryRow, SUMMARY_COLUMNS};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Version of the on-disk layout; bumped when columns or meta keys change meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// Writes `bytes` to `path` atomically: temp file in the same directory, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Where a run, or one rank's part of it, stands; stored as `running`, `complete` or
/// `incomplete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Started, not (yet) finished: still running, or killed.
    Running,
    /// Finished normally.
    Complete,
    /// A distributed run merged with ranks missing or unfinished.
    Incomplete,
}

impl RunStatus {
    /// The name stored on disk.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Incomplete => "incomplete",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Run-level metadata stored as `meta.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMeta {
    /// Layout version.
    pub schema_version: u32,
    /// Run id (the directory name).
    pub run_id: String,
    /// `running` until the run ends, then `complete` (`incomplete`: a merge with ranks missing).
    pub status: RunStatus,
    /// User label.
    pub label: Option<String>,
    /// The command line that started the run.
    pub command_line: Vec<String>,
    /// Profile name.
    pub profile: String,
    /// Filter regex, if any.
    pub filter: Option<String>,
    /// Backend name.
    pub backend: BackendKind,
    /// Device name.
    pub device: String,
    /// Worker threads.
    pub threads: u64,
    /// UTC start, RFC 3339.
    pub started_at: String,
    /// UTC end, RFC 3339 (absent while running or when killed).
    pub finished_at: Option<String>,
    /// Git commit of the braingap build.
    pub git_commit: Option<String>,
    /// Benchmarks planned.
    pub benchmarks_planned: usize,
    /// Median cost of reading the clock twice, seconds.
    pub timer_overhead_s: f64,
    /// Runner settings.
    pub config: serde_json::Value,
    /// Machine fingerprint.
    pub machine: serde_json::Value,
    /// Meters: attached, unavailable with reasons, model coefficients.
    pub meters: serde_json::Value,
    /// Ranks, nodes and SLURM job of a run spread over MPI ranks (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed: Option<DistributedMeta>,
}

/// What a command that starts a run says about it; [`RunMeta::starting`] adds the rest.
#[derive(Debug, Clone)]
pub struct RunStart {
    /// User label.
    pub label: Option<String>,
    /// Profile name.
    pub profile: String,
    /// Filter regex, if any.
    pub filter: Option<String>,
    /// Backend name.
    pub backend: BackendKind,
    /// Device name.
    pub device: String,
    /// Worker threads (ranks, for a distributed run).
    pub threads: u64,
    /// Benchmarks planned.
    pub benchmarks_planned: usize,
    /// The command line that started the run (the CLI's `std::env::args`).
    pub command_line: Vec<String>,
    /// The timer's own cost, seconds, measured by the caller as the run starts
    /// (`measure::timer_overhead`): the store measures nothing.
    pub timer_overhead_s: f64,
}

/// What `meta.json` records about a run spread over ranks: MPI processes, or the GPUs one
/// process drives through NCCL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributedMeta {
    /// Ranks in `MPI_COMM_WORLD` (NCCL: the GPUs in the communicator).
    pub world_size: usize,
    /// The communication library: MPI's `MPI_Get_library_version`, or NCCL's version and the
    /// GPUs (the key keeps its first name so older runs still load).
    pub mpi_library: String,
    /// Host names of the nodes, in order of first rank (filled by the merge).
    pub nodes: Vec<String>,
    /// Each reporting rank's placement, by rank (filled by the merge).
    pub placements: Vec<(usize, LaunchInfo)>,
    /// Ranks whose file was read.
    pub ranks_reported: Vec<usize>,
    /// Ranks with no file (died before their first benchmark, or never started).
    pub missing_ranks: Vec<usize>,
    /// Ranks whose file does not say `complete` (died midway).
    pub unfinished_ranks: Vec<usize>,
    /// When the rank files were last merged, RFC 3339.
    pub merged_at: Option<String>,
}

impl DistributedMeta {
    /// The meta of a run about to start.
    pub fn new(world_size: usize, mpi_library: String) -> DistributedMeta {
        DistributedMeta {
            world_size,
            mpi_library,
            nodes: Vec::new(),
            placements: Vec::new(),
            ranks_reported: Vec::new(),
            missing_ranks: Vec::new(),
            unfinished_ranks: Vec::new(),
            merged_at: None,
        }
    }

    /// The SLURM job id of the run (rank 0's, else the first reporting rank's).
    pub fn slurm_job_id(&self) -> Option<&str> {
        self.placements
            .iter()
            .find_map(|(_, p)| p.slurm.as_ref().map(|s| s.job_id.as_str()))
    }
}

impl RunMeta {
    /// The metadata of a run starting now: a fresh run id, status `running`, the start time and
    /// the build's commit, beside what the command says (`start`, runner `config`, `meters`). Not
    /// distributed; a distributed run sets [`RunMeta::distributed`] after.
    pub fn starting(
        start: RunStart,
        machine: &crate::machine::Machine,
        config: serde_json::Value,
        meters: serde_json::Value,
    ) -> std::result::Result<RunMeta, serde_json::Error> {
        Ok(RunMeta {
            schema_version: SCHEMA_VERSION,
            run_id: Store::new_run_id(),
            status: RunStatus::Running,
            label: start.label,
            command_line: start.command_line,
            profile: start.profile,
            filter: start.filter,
            backend: start.backend,
            device: start.device,
            threads: start.threads,
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            finished_at: None,
            git_commit: machine.git_commit.value.clone(),
            benchmarks_planned: start.benchmarks_planned,
            timer_overhead_s: start.timer_overhead_s,
            config,
            machine: serde_json::to_value(machine)?,
            meters,
            distributed: None,
        })
    }
}

/// One run as listed by `braingap runs`.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Metadata.
    pub meta: RunMeta,
    /// Rows of `summary.csv` (empty if missing).
    pub summary: Vec<SummaryRow>,
    /// The run's directory.
    pub dir: PathBuf,
}

impl RunInfo {
    /// Whether the run ended normally.
    pub fn is_complete(&self) -> bool {
        self.meta.status == RunStatus::Complete && self.meta.finished_at.is_some()
    }

    /// Reads the run's `samples.csv` (empty when absent) and checks it against the run's
    /// `summary.csv`: every sample belongs to this run and to a benchmark of the summary;
    /// each measured benchmark has as many samples as its row says; and the median time per
    /// call recomputed from its samples equals the stored median (within the rounding of the
    /// text form), so that a verdict drawn from the samples and a value printed from the
    /// summary describe the same measurement. A distributed run's samples are per-sample
    /// aggregates over ranks, checked when the ranks are merged; only their values are
    /// checked here.
    pub fn samples(&self) -> Result<Vec<SampleRow>> {
        let path = self.dir.join("samples.csv");
        refuse_special(&path)?;
        if !path.exists() {
            return Ok(Vec::new());
        }
        let samples = rows::read_samples(&path)?;
        if self.meta.distributed.is_some() {
            return Ok(samples);
        }
        let corrupt = |line: u64, reason: String| Error::Corrupt {
            path: path.clone(),
            line,
            reason,
        };
        let mut by_benchmark: std::collections::BTreeMap<&str, (u64, Vec<f64>)> = Default::default();
        for (i, s) in samples.iter().enumerate() {
            let line = i as u64 + 2;
            if s.run_id != self.meta.run_id {
                return Err(corrupt(
                    line,
                    format!(
                        "column run_id: {:?} is not this run (meta.json: {:?})",
                        s.run_id, self.meta.run_id
                    ),
                ));
            }
            if !self.summary.iter().any(|r| r.benchmark == s.benchmark) {
                return Err(corrupt(
                    line,
                    format!("column benchmark: {:?} has no row in summary.csv", s.benchmark),
                ));
            }
            by_benchmark
                .entry(s.benchmark.as_str())
                .or_insert((line, Vec::new()))
                .1
                .push(s.time_per_call_s);
        }
        for row in &self.summary {
            let found = by_benchmark.get(row.benchmark.as_str());
            let count = found.map_or(0, |(_, times)| times.len() as u64);
            if row.status == crate::measure::Status::Ok && row.median_s.is_some() && count != row.samples {
                return Err(corrupt(
                    found.map_or(0, |(line, _)| *line),
                    format!(
                        "{} has {count} samples here, but summary.csv records {} (samples)",
                        row.benchmark, row.samples
                    ),
                ));
            }
            let (Some(median), Some((line, times))) = (row.median_s, found) else {
                continue;
            };
            let recomputed = crate::measure::stats::median(times);
            if (recomputed - median).abs() > 1e-9 * median.abs().max(1e-12) {
                return Err(corrupt(
                    *line,
                    format!(
                        "the {} samples of {} have median {recomputed} s per call, but summary.csv records \
                         median_s {median}: the two files disagree",
                        times.len(),
                        row.benchmark
                    ),
                ));
            }
        }
        Ok(samples)
    }
}

/// A results directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// The store rooted at `root` (nothing is created until a run starts).
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Directory holding the runs.
    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// A new run id: UTC start time to the millisecond, then 4 hex digits.
    pub fn new_run_id() -> String {
        let now = chrono::Utc::now();
        let salt = (u64::from(std::process::id()) << 20) ^ u64::from(now.timestamp_subsec_nanos());
        format!(
            "{}-{:04x}",
            now.format("%Y%m%dT%H%M%S%.3fZ"),
            crate::hash::splitmix64(salt) & 0xffff
        )
    }

    /// Creates the run directory and its initial `meta.json` (status `running`).
    pub fn create_run(&self, mut meta: RunMeta, power_timeline: bool) -> Result<RunWriter> {
        let runs = self.runs_dir();
        fs::create_dir_all(&runs).map_err(|e| Error::io(&runs, e))?;
        let mut dir = runs.join(&meta.run_id);
        let mut attempt = 0;
        loop {
            match fs::create_dir(&dir) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 5 => {
                    attempt += 1;
                    meta.run_id = Store::new_run_id();
                    dir = runs.join(&meta.run_id);
                }
                Err(e) => return Err(Error::io(&dir, e)),
            }
        }
        let writer = RunWriter {
            dir,
            meta,
            summary: Vec::new(),
            samples: Vec::new(),
            timeline: power_timeline.then(Vec::new),
            observations: Default::default(),
        };
        writer.write_meta()?;
        writer.write_csvs()?;
        Ok(writer)
    }

    /// Lists runs sorted by id (oldest first). Runs that cannot be read are returned as
    /// errors naming the file and line; the others still list.
    pub fn list(&self) -> (Vec<RunInfo>, Vec<Error>) {
        let runs = self.runs_dir();
        let mut infos = Vec::new();
        let mut errors = Vec::new();
        let entries = match fs::read_dir(&runs) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (infos, errors),
            Err(e) => return (infos, vec![Error::io(&runs, e)]),
        };
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        dirs.sort();
        for dir in dirs {
            match load_store_run(&dir) {
                Ok(info) => infos.push(info),
                Err(e) => errors.push(e),
            }
        }
        (infos, errors)
    }

    /// Resolves `id` (a run id, `latest`, or a path to a run directory) and loads it.
    pub fn load(&self, id: &str) -> Result<RunInfo> {
        let as_path = Path::new(id);
        if as_path.join("meta.json").is_file() {
            return load_run_dir(as_path);
        }
        if id == "latest" {
            // The newest run directory, or its error: never silently an older run, which
            // would let `compare BASE latest` compare a run with itself.
            let runs = self.runs_dir();
            let newest = match fs::read_dir(&runs) {
                Ok(entries) => entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).max(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Error::io(&runs, e)),
            };
            return match newest {
                Some(dir) => load_store_run(&dir),
                None => Err(Error::NoSuchRun {
                    id: id.into(),
                    results: self.root.clone(),
                }),
            };
        }
        let dir = self.runs_dir().join(id);
        if !dir.join("meta.json").is_file() {
            return Err(Error::NoSuchRun {
                id: id.into(),
                results: self.root.clone(),
            });
        }
        load_store_run(&dir)
    }
}

/// Reads the run directory `RESULTS/runs/<dir>` of a store: [`load_run_dir`], and its run id
/// must equal the directory's name, so that a copied or renamed run can neither list twice
/// nor list under an id that cannot be used. (A run directory named by path, such as a
/// regression gate's baseline, may have any name.)
pub fn load_store_run(dir: &Path) -> Result<RunInfo> {
    let info = load_run_dir(dir)?;
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if info.meta.run_id != dir_name {
        let meta_path = dir.join("meta.json");
        let text = fs::read_to_string(&meta_path).unwrap_or_default();
        return Err(Error::Corrupt {
            line: line_of_key(&text, "run_id"),
            path: meta_path,
            reason: format!(
                "field run_id: {:?} differs from its directory name {dir_name:?} (a copied or renamed run; \
                 rename the directory to its run id)",
                info.meta.run_id
            ),
        });
    }
    Ok(info)
}

/// Reads one run directory.
pub fn load_run_dir(dir: &Path) -> Result<RunInfo> {
    let meta_path = dir.join("meta.json");
    refuse_special(&meta_path)?;
    let text = fs::read_to_string(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
    let meta: RunMeta = serde_json::from_str(&text).map_err(|e| Error::Corrupt {
        path: meta_path.clone(),
        line: e.line() as u64,
        reason: e.to_string(),
    })?;
    let field_error = |key: &str, reason: String| Error::Corrupt {
        path: meta_path.clone(),
        line: line_of_key(&text, key),
        reason: format!("field {key}: {reason}"),
    };
    if meta.schema_version != SCHEMA_VERSION {
        return Err(field_error(
            "schema_version",
            format!("version {} (this braingap reads {SCHEMA_VERSION})", meta.schema_version),
        ));
    }
    if chrono::DateTime::parse_from_rfc3339(&meta.started_at).is_err() {
        return Err(field_error(
            "started_at",
            format!("{:?} is not an RFC 3339 time", meta.started_at),
        ));
    }
    if let Some(finished) = &meta.finished_at {
        if chrono::DateTime::parse_from_rfc3339(finished).is_err() {
            return Err(field_error(
                "finished_at",
                format!("{finished:?} is not an RFC 3339 time"),
            ));
        }
    }
    if !meta.timer_overhead_s.is_finite() || meta.timer_overhead_s < 0.0 {
        return Err(field_error(
            "timer_overhead_s",
            format!("{} is not a non-negative finite time", meta.timer_overhead_s),
        ));
    }
    let summary_path = dir.join("summary.csv");
    refuse_special(&summary_path)?;
    let summary = if summary_path.exists() {
        rows::read_summary(&summary_path)?
    } else {
        Vec::new()
    };
    if let Some((i, row)) = summary.iter().enumerate().find(|(_, r)| r.run_id != meta.run_id) {
        return Err(Error::Corrupt {
            path: summary_path,
            line: i as u64 + 2,
            reason: format!(
                "column run_id: {:?} is not this run (meta.json: {:?})",
                row.run_id, meta.run_id
            ),
        });
    }
    // A finished run holds a row for every planned benchmark: a summary.csv cut at a row
    // boundary still parses, and must not list as complete. (A distributed run's rows are
    // merged from its ranks and checked there.)
    if meta.status == RunStatus::Complete && meta.distributed.is_none() && summary.len() != meta.benchmarks_planned {
        return Err(Error::Corrupt {
            path: summary_path,
            line: summary.len() as u64 + 2,
            reason: format!(
                "{} benchmark rows, but meta.json plans {} for this complete run",
                summary.len(),
                meta.benchmarks_planned
            ),
        });
    }
    Ok(RunInfo {
        meta,
        summary,
        dir: dir.to_path_buf(),
    })
}

/// The 1-based line of `"key":` in a JSON text (0 when it is absent), so that an error about
/// a field points at it.
fn line_of_key(text: &str, key: &str) -> u64 {
    let needle = format!("\"{key}\"");
    text.lines()
        .position(|l| l.contains(&needle))
        .map_or(0, |i| i as u64 + 1)
}

/// Refuses a store file that exists but is not a regular file: a FIFO would block the
/// reader, a device feed it without end.
fn refuse_special(path: &Path) -> Result<()> {
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(Error::Corrupt {
            path: path.to_path_buf(),
            line: 0,
            reason: "not a regular file (a FIFO, socket, device or directory); refused".into(),
        }),
        _ => Ok(()),
    }
}

/// Writes one run: metadata at start and end, both CSVs after every benchmark.
#[derive(Debug)]
pub struct RunWriter {
    dir: PathBuf,
    meta: RunMeta,
    summary: Vec<SummaryRow>,
    samples: Vec<SampleRow>,
    timeline: Option<Vec<rows::PowerRow>>,
    /// Observation tables by file name: columns (after `benchmark`) and rows.
    observations: std::collections::BTreeMap<&'static str, (Vec<&'static str>, Vec<Vec<String>>)>,
}

impl RunWriter {
    /// The run's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run id.
    pub fn run_id(&self) -> &str {
        &self.meta.run_id
    }

    fn write_meta(&self) -> Result<()> {
        let json = serde_json::to_vec_pretty(&self.meta).expect("meta serializes");
        write_atomic(&self.dir.join("meta.json"), &json)
    }

    fn write_csvs(&self) -> Result<()> {
        write_atomic(
            &self.dir.join("summary.csv"),
            &rows::to_csv(&self.summary, SUMMARY_COLUMNS),
        )?;
        write_atomic(
            &self.dir.join("samples.csv"),
            &rows::to_csv(&self.samples, rows::SAMPLE_COLUMNS),
        )?;
        if let Some(timeline) = &self.timeline {
            write_atomic(
                &self.dir.join("power_timeline.csv"),
                &rows::to_csv(timeline, rows::POWER_COLUMNS),
            )?;
        }
        for (file, (columns, rows)) in &self.observations {
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            let header = std::iter::once("benchmark").chain(columns.iter().copied());
            // Writing into memory cannot fail.
            writer.write_record(header).expect("csv to memory");
            for row in rows {
                writer.write_record(row).expect("csv to memory");
            }
            write_atomic(&self.dir.join(file), &writer.into_inner().expect("csv to memory"))?;
        }
        Ok(())
    }

    /// Persists a row built elsewhere (an instruction count, which has no samples).
    pub fn record_row(&mut self, row: SummaryRow) -> Result<()> {
        self.summary.push(row);
        self.write_csvs()
    }

    /// Marks the run complete with its end time.
    pub fn finish(mut self) -> Result<RunInfo> {
        self.meta.status = RunStatus::Complete;
        self.meta.finished_at = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        self.write_meta()?;
        Ok(RunInfo {
            meta: self.meta,
            summary: self.summary,
            dir: self.dir,
        })
    }
}

impl RecordSink for RunWriter {
    fn record(&mut self, record: &BenchRecord) -> Result<()> {
        self.summary.push(SummaryRow::from_record(&self.meta.run_id, record));
        self.samples.extend(SampleRow::from_record(&self.meta.run_id, record));
        for observation in &record.observations {
            let (columns, rows) = self
                .observations
                .entry(observation.file)
                .or_insert_with(|| (observation.columns.clone(), Vec::new()));
            if *columns != observation.columns {
                return Err(Error::Corrupt {
                    path: self.dir.join(observation.file),
                    line: 1,
                    reason: format!(
                        "{} reports columns {:?} where an earlier benchmark reported {:?}",
                        record.benchmark, observation.columns, columns
                    ),
                });
            }
            rows.extend(observation.rows.iter().map(|row| {
                let mut full = vec![record.benchmark.clone()];
                full.extend(row.iter().cloned());
                full
            }));
        }
        if let Some(timeline) = &mut self.timeline {
            timeline.extend(record.energy.timeline.iter().map(|p| rows::PowerRow {
                benchmark: record.benchmark.clone(),
                t_s: p.t.0,
                domain: p.domain.clone(),
                watts: p.power.0,
            }));
        }
        self.write_csvs()
    }

    fn record_count(
        &mut self,
        spec: &braingap_kernels::BenchSpec,
        count: &braingap_measure::instructions::InstructionMeasurement,
        tool: &str,
    ) -> Result<()> {
        self.record_row(SummaryRow::from_instructions(&self.meta.run_id, spec, count, tool))
    }
}
