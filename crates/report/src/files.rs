//! The one place the report touches the file system: loading a run (its samples, the other
//! backends' runs, a baseline, the reference data) and writing `index.html` and
//! `figures/<id>.{png,svg}`.

use super::page::{render, Report, ReportError, ReportInput};
use crate::compare::CompareOptions;
use crate::store::{write_atomic, RunInfo, SampleRow, Store};
use std::fs;
use std::path::{Path, PathBuf};

/// Refuses `path` when it exists but is not a regular file (a FIFO would block the reader, a
/// device would feed it without end).
pub fn require_regular(path: &Path) -> Result<bool, ReportError> {
    match fs::metadata(path) {
        Err(_) => Ok(false),
        Ok(m) if m.is_file() => Ok(true),
        Ok(m) => Err(ReportError::Csv {
            path: path.to_path_buf(),
            line: 0,
            reason: format!(
                "not a regular file ({}); refused",
                if m.is_dir() {
                    "a directory"
                } else {
                    "a FIFO, socket or device"
                }
            ),
        }),
    }
}

/// Reads a run's `samples.csv` (empty when the file is absent), checked against the run's
/// `summary.csv` by the store ([`RunInfo::samples`]).
pub fn read_run_samples(run: &RunInfo) -> Result<Vec<SampleRow>, ReportError> {
    Ok(run.samples()?)
}

/// The latest complete run of every other backend with the same machine fingerprint.
pub fn companions(store: &Store, run: &RunInfo) -> Vec<RunInfo> {
    let fingerprint = run.meta.machine["fingerprint"].as_str();
    let (runs, _) = store.list();
    let mut latest: Vec<RunInfo> = Vec::new();
    // `list` is sorted oldest first, so later runs replace earlier ones
    for other in runs {
        if other.meta.backend == run.meta.backend
            || !other.is_complete()
            || fingerprint.is_none()
            || other.meta.machine["fingerprint"].as_str() != fingerprint
        {
            continue;
        }
        latest.retain(|r| r.meta.backend != other.meta.backend);
        latest.push(other);
    }
    latest.sort_by_key(|r| r.meta.backend);
    latest
}

/// Loads everything a report of `run` (an id, `latest`, or a run directory) needs.
/// `data_dir: None` skips the reference data (history, projections, claims).
pub fn load_input(
    results: &Path,
    run: &str,
    baseline: Option<&str>,
    data_dir: Option<&Path>,
) -> Result<ReportInput, ReportError> {
    let store = Store::new(results);
    let info = store.load(run)?;
    let samples = read_run_samples(&info)?;
    let companions = companions(&store, &info);
    let baseline = match baseline {
        Some(id) => {
            let base = store.load(id)?;
            let base_samples = read_run_samples(&base)?;
            Some((base, base_samples))
        }
        None => None,
    };
    let references = match data_dir {
        Some(dir) => super::history::from_analysis(dir, Some(&super::page::machine_measured(&info))),
        None => super::history::References {
            notes: vec!["reference data skipped".into()],
            ..Default::default()
        },
    };
    let populations = read_populations(&info.dir)?;
    let cortex = super::cortex::CortexFiles {
        details: read_simulation_details(&info.dir)?,
        raster: read_raster(&info.dir)?,
    };
    Ok(ReportInput {
        populations,
        cortex,
        run: info,
        samples,
        companions,
        baseline,
        references,
        compare: CompareOptions::default(),
    })
}

/// A run's CSV table `file` with the given columns (absent: `None`), as (line, values) rows.
/// `number(row, i, name)` parses column `i` as a finite, non-negative number (empty: `None`);
/// anything else is an error naming the file, line and column.
struct Table {
    path: std::path::PathBuf,
    rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    fn read(dir: &Path, file: &str, columns: &[&str]) -> Result<Option<Table>, ReportError> {
        let path = dir.join(file);
        if !path.is_file() {
            return Ok(None);
        }
        let bad = |line: u64, reason: String| ReportError::Csv {
            path: path.clone(),
            line,
            reason,
        };
        let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(0, e.to_string()))?;
        let headers = reader.headers().map_err(|e| bad(1, e.to_string()))?.clone();
        let index: Vec<usize> = columns
            .iter()
            .map(|name| {
                headers
                    .iter()
                    .position(|h| h == *name)
                    .ok_or_else(|| bad(1, format!("no column {name}")))
            })
            .collect::<Result<_, _>>()?;
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i as u64 + 2;
            let record = record.map_err(|e| bad(line, e.to_string()))?;
            rows.push((
                line,
                index
                    .iter()
                    .map(|&c| record.get(c).unwrap_or("").trim().to_string())
                    .collect(),
            ));
        }
        Ok(Some(Table { path, rows }))
    }

    fn bad(&self, line: u64, reason: String) -> ReportError {
        ReportError::Csv {
            path: self.path.clone(),
            line,
            reason,
        }
    }

    /// Column `i` of a row as a finite, non-negative number; empty is `None`.
    fn number(&self, (line, values): &(u64, Vec<String>), i: usize, name: &str) -> Result<Option<f64>, ReportError> {
        let text = values[i].as_str();
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
            _ => Err(self.bad(*line, format!("column {name}: {text:?} is not a non-negative number"))),
        }
    }

    /// Like [`Table::number`], but empty is an error too.
    fn required(&self, row: &(u64, Vec<String>), i: usize, name: &str) -> Result<f64, ReportError> {
        self.number(row, i, name)?
            .ok_or_else(|| self.bad(row.0, format!("column {name}: empty")))
    }
}

/// Reads a run's `populations.csv` (absent for runs without a microcircuit: empty). A value
/// that is not a finite, non-negative number is an error naming the file and line.
pub fn read_populations(dir: &Path) -> Result<Vec<super::cortex::PopulationRow>, ReportError> {
    let columns = ["benchmark", "population", "rate_hz", "reference_rate_hz"];
    let Some(table) = Table::read(dir, "populations.csv", &columns)? else {
        return Ok(Vec::new());
    };
    table
        .rows
        .iter()
        .map(|row| {
            Ok(super::cortex::PopulationRow {
                benchmark: row.1[0].clone(),
                population: row.1[1].clone(),
                rate_hz: table.required(row, 2, "rate_hz")?,
                reference_rate_hz: table.number(row, 3, "reference_rate_hz")?,
            })
        })
        .collect()
}

/// Reads a run's `microcircuit.csv` (absent: empty): the phase times and counts of each
/// microcircuit benchmark.
pub fn read_simulation_details(dir: &Path) -> Result<Vec<super::cortex::SimulationDetail>, ReportError> {
    let columns = [
        "benchmark",
        "neurons",
        "synapses",
        "threads",
        "bytes_per_synapse",
        "memory_estimate_bytes",
        "simulated_bio_s",
        "simulated_wall_s",
        "update_s",
        "deliver_s",
        "recurrent_events",
    ];
    let Some(table) = Table::read(dir, "microcircuit.csv", &columns)? else {
        return Ok(Vec::new());
    };
    table
        .rows
        .iter()
        .map(|row| {
            let n = |i: usize| table.required(row, i, columns[i]);
            Ok(super::cortex::SimulationDetail {
                benchmark: row.1[0].clone(),
                neurons: n(1)?,
                synapses: n(2)?,
                threads: n(3)?,
                bytes_per_synapse: n(4)?,
                memory_estimate_bytes: n(5)?,
                bio_s: n(6)?,
                wall_s: n(7)?,
                update_s: n(8)?,
                deliver_s: n(9)?,
                recurrent_events: n(10)?,
            })
        })
        .collect()
}

/// Reads a run's `spikes.csv` (absent: empty): the raster window of each microcircuit benchmark.
pub fn read_raster(dir: &Path) -> Result<Vec<super::cortex::RasterSpike>, ReportError> {
    let columns = ["benchmark", "population", "neuron", "time_ms"];
    let Some(table) = Table::read(dir, "spikes.csv", &columns)? else {
        return Ok(Vec::new());
    };
    table
        .rows
        .iter()
        .map(|row| {
            Ok(super::cortex::RasterSpike {
                benchmark: row.1[0].clone(),
                population: row.1[1].clone(),
                neuron: table.required(row, 2, "neuron")? as u64,
                time_ms: table.required(row, 3, "time_ms")?,
            })
        })
        .collect()
}

/// Writes `out/index.html` and `out/figures/<id>.{png,svg}`; returns the page's path.
pub fn write_report(report: &Report, out: &Path) -> Result<PathBuf, ReportError> {
    let figures = out.join("figures");
    fs::create_dir_all(&figures).map_err(|source| ReportError::Io {
        path: figures.clone(),
        source,
    })?;
    for figure in &report.figures {
        write_atomic(&figures.join(format!("{}.png", figure.id)), &figure.png)?;
        write_atomic(&figures.join(format!("{}.svg", figure.id)), figure.svg.as_bytes())?;
    }
    let index = out.join("index.html");
    write_atomic(&index, report.html.as_bytes())?;
    Ok(index)
}

/// Loads `run` from `results`, renders its report with the reference data in `data_dir`
/// (compared with the run `baseline`, if any) and writes it under `out`; returns the path of
/// `index.html`. What `braingap run` calls at the end.
pub fn render_run_report(
    results: &Path,
    run: &str,
    baseline: Option<&str>,
    out: &Path,
    data_dir: &Path,
) -> Result<PathBuf, ReportError> {
    let input = load_input(results, run, baseline, Some(data_dir))?;
    let report = render(&input)?;
    write_report(&report, out)
}
