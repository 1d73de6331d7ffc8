//! Integration tests of `braingap run`, `runs` and `machine` (fake backend where timing
//! would make them flaky), including every bad input the measurement core must reject.

mod common;

use common::{braingap, cell, read_csv, run_dirs};
use predicates::prelude::*;
use std::time::Duration;

/// What a person sees at the end of a run: a table within 120 columns, short names on the
/// screen and full names in the files, and the answer's sentence as the last line.
#[test]
fn the_terminal_table_fits_120_columns_and_the_answer_comes_last() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let out = braingap()
        .args([
            "run",
            "--backend",
            "fake",
            "--profile",
            "quick",
            "--threads",
            "2",
            "--results",
        ])
        .arg(&results)
        .arg("--report-dir")
        .arg(tmp.path().join("reports"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The temporary directory's path is not braingap's to shorten: counted as `DIR`.
    let stdout = String::from_utf8(out.stdout)
        .unwrap()
        .replace(tmp.path().to_str().unwrap(), "DIR");
    for line in stdout.lines() {
        assert!(line.chars().count() <= 120, "{} columns: {line}", line.chars().count());
    }
    assert!(stdout.lines().any(|l| l.starts_with("gemm/f32 512³ ")), "{stdout}");
    // Benchmarks that differ in one thing only are set side by side.
    assert!(stdout.contains("Related benchmarks (ratio of medians):"), "{stdout}");
    assert!(
        stdout.lines().any(
            |l| l.contains("conv2d_n") && l.contains("c=64,hw=56") && l.ends_with("(layout)")
                || l.contains("(layout): no clear difference")
        ),
        "{stdout}"
    );
    assert!(stdout.lines().any(|l| l.starts_with("stream_triad/f64 n=")), "{stdout}");
    assert!(
        !stdout.contains("m=512,n=512,k=512"),
        "short names on the screen: {stdout}"
    );
    // The answer's sentence comes last, after the tally, wrapped to 120 columns.
    let lines: Vec<&str> = stdout.lines().collect();
    let tally = lines
        .iter()
        .position(|l| l.contains(" benchmarks: "))
        .expect("tally line");
    let answer = lines
        .iter()
        .position(|l| l.starts_with("SIMULATED: the fake backend's modelled timings, not this machine's."))
        .expect("the answer's sentence");
    assert!(answer > tally, "{stdout}");
    let sentence = lines[answer..].join(" ");
    assert!(
        sentence.contains("FLOP/s") && sentence.contains("short of") && sentence.ends_with("1.0e17)."),
        "the sentence runs to the end: {sentence}"
    );
    // Not a terminal: no bar drawn, the per-benchmark lines (full names) stay.
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("ok      gemm/f32/m=512,n=512,k=512"), "{stderr}");
    assert!(!stderr.contains("elapsed, ~"), "no progress bar on a pipe: {stderr}");
    // The report draws every finished benchmark's samples against its median, with the
    // samples' mean ± σ (% of the median) beside its short name.
    let page = std::fs::read_to_string(tmp.path().join("reports/index.html")).unwrap();
    assert!(
        page.contains("<h2>Sample distributions</h2>"),
        "no distributions section"
    );
    let svg = std::fs::read_to_string(tmp.path().join("reports/figures/distributions.svg")).unwrap();
    assert!(svg.contains("gemm/f32 512³ · "), "a row per benchmark, by short name");
    let rows = svg
        .split("</text>")
        .map(str::trim_end)
        .filter(|t| t.ends_with(" %") || t.ends_with(" outl."))
        .count();
    assert!(
        rows >= 17,
        "{rows} labelled rows; the quick profile has 17 or more benchmarks"
    );
}

#[test]
fn fake_run_writes_a_complete_store_and_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    braingap()
        .args([
            "run",
            "--backend",
            "fake",
            "--threads",
            "2",
            "--label",
            "first",
            "--results",
        ])
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("gemm/f32 512³"))
        .stdout(predicate::str::contains("0 failed"));
    let dirs = run_dirs(&results);
    assert_eq!(dirs.len(), 1);
    let dir = &dirs[0];
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["status"], "complete");
    assert_eq!(meta["schema_version"], 1);
    assert_eq!(meta["label"], "first");
    assert_eq!(meta["backend"], "fake");
    assert!(meta["finished_at"].is_string());
    assert!(meta["machine"]["fingerprint"].is_string());
    assert!(meta["timer_overhead_s"].as_f64().unwrap() >= 0.0);

    let (header, rows) = read_csv(&dir.join("summary.csv"));
    for col in [
        "run_id",
        "benchmark",
        "kernel",
        "backend",
        "device",
        "dtype",
        "threads",
        "params",
        "median_s",
        "ci_low_s",
        "ci_high_s",
        "flops",
        "bytes",
        "gflops_per_s",
        "gbytes_per_s",
        "arithmetic_intensity",
        "attainment",
        "energy_j",
        "avg_power_w",
        "energy_source",
        "status",
    ] {
        assert!(header.iter().any(|h| h == col), "missing column {col}");
    }
    assert_eq!(rows.len() as u64, meta["benchmarks_planned"].as_u64().unwrap());
    let gemm = rows
        .iter()
        .find(|r| cell(&header, r, "benchmark") == "gemm/f32/m=512,n=512,k=512")
        .unwrap();
    assert_eq!(cell(&header, gemm, "status"), "ok");
    let flops: f64 = cell(&header, gemm, "flops").parse().unwrap();
    assert_eq!(flops, 2.0 * 512f64.powi(3));
    let params: serde_json::Value = serde_json::from_str(cell(&header, gemm, "params")).unwrap();
    assert_eq!(params, serde_json::json!({"m": 512, "n": 512, "k": 512}));
    // Fake model: 10 GFLOP/s compute-bound, ±1% jitter.
    let gflops: f64 = cell(&header, gemm, "gflops_per_s").parse().unwrap();
    assert!((9.8..10.1).contains(&gflops), "{gflops}");
    let ci_low: f64 = cell(&header, gemm, "ci_low_s").parse().unwrap();
    let median: f64 = cell(&header, gemm, "median_s").parse().unwrap();
    let ci_high: f64 = cell(&header, gemm, "ci_high_s").parse().unwrap();
    assert!(ci_low <= median && median <= ci_high);
    // Attainment against the fake's own ceilings: compute-bound at 10 GFLOP/s of a 10 GFLOP/s peak.
    let attainment: f64 = cell(&header, gemm, "attainment").parse().unwrap();
    assert!((0.95..1.05).contains(&attainment), "{attainment}");
    let spmv = rows
        .iter()
        .find(|r| cell(&header, r, "kernel") == "spmv_synapses")
        .unwrap();
    assert_eq!(cell(&header, spmv, "event_kind"), "synaptic_events");
    assert_eq!(cell(&header, spmv, "energy_source"), "unavailable");
    assert_eq!(cell(&header, spmv, "energy_j"), "");

    let (sheader, samples) = read_csv(&dir.join("samples.csv"));
    assert!(sheader.iter().any(|h| h == "time_per_call_s"));
    let gemm_samples = samples.iter().filter(|r| r[1] == "gemm/f32/m=512,n=512,k=512").count();
    assert_eq!(gemm_samples.to_string(), cell(&header, gemm, "samples"));

    braingap()
        .args(["runs", "--results"])
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("first"))
        .stdout(predicate::str::contains("complete"));
}

#[test]
fn a_failed_verification_is_recorded_as_failed_never_as_fast() {
    let tmp = tempfile::tempdir().unwrap();
    braingap()
        .args(["run", "--backend", "fake", "--filter", "^gemm/f64", "--results"])
        .arg(tmp.path())
        .env("BRAINGAP_FAKE_FAIL", "^gemm/f64/m=512")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("1 failed"));
    let dir = &run_dirs(tmp.path())[0];
    let (header, rows) = read_csv(&dir.join("summary.csv"));
    let failed = rows
        .iter()
        .find(|r| cell(&header, r, "benchmark").starts_with("gemm/f64/m=512"))
        .unwrap();
    assert_eq!(cell(&header, failed, "status"), "failed");
    assert_eq!(cell(&header, failed, "median_s"), "");
    assert_eq!(cell(&header, failed, "gflops_per_s"), "");
    assert!(cell(&header, failed, "reason").contains("verification failed"));
    // Ceilings were added for the filtered run.
    assert!(rows.iter().any(|r| cell(&header, r, "kernel") == "peak_fma"));
    assert!(rows.iter().any(|r| cell(&header, r, "kernel") == "stream_triad"));
}

#[test]
fn killed_run_keeps_finished_benchmarks_and_lists_as_incomplete() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("braingap");
    let mut child = std::process::Command::new(bin)
        .args(["run", "--backend", "fake", "--results"])
        .arg(tmp.path())
        .env("BRAINGAP_FAKE_SLEEP_MS", "250")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until at least two benchmarks are on disk, then kill -9.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        std::thread::sleep(Duration::from_millis(50));
        if let Some(dir) = run_dirs(tmp.path()).first() {
            if let Ok(text) = std::fs::read_to_string(dir.join("summary.csv")) {
                if text.lines().count() >= 3 {
                    break;
                }
            }
        }
        assert!(std::time::Instant::now() < deadline, "run never wrote two benchmarks");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let dir = &run_dirs(tmp.path())[0];
    let (_, rows) = read_csv(&dir.join("summary.csv"));
    assert!(rows.len() >= 2);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["status"], "running");
    // No temp files left visible as runs, the store still lists, and a new run works beside it.
    braingap()
        .args(["runs", "--results"])
        .arg(tmp.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("incomplete"));
    braingap()
        .args(["run", "--backend", "fake", "--filter", "^lif", "--results"])
        .arg(tmp.path())
        .assert()
        .success();
    braingap()
        .args(["runs", "--results"])
        .arg(tmp.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("incomplete"))
        .stdout(predicate::str::contains("complete"));
}

#[test]
fn run_ids_sort_by_time() {
    let tmp = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        braingap()
            .args([
                "run",
                "--backend",
                "fake",
                "--filter",
                "^activation_relu",
                "--no-ceilings",
                "--results",
            ])
            .arg(tmp.path())
            .assert()
            .success();
    }
    let dirs = run_dirs(tmp.path());
    assert_eq!(dirs.len(), 3);
    let started: Vec<String> = dirs
        .iter()
        .map(|d| {
            let meta: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(d.join("meta.json")).unwrap()).unwrap();
            meta["started_at"].as_str().unwrap().to_string()
        })
        .collect();
    let mut sorted = started.clone();
    sorted.sort();
    assert_eq!(started, sorted);
}

fn bad(args: &[&str], needle: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let assert = braingap().args(args).arg("--results").arg(tmp.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains(needle), "stderr {stderr:?} lacks {needle:?}");
    assert!(run_dirs(tmp.path()).is_empty(), "a rejected run must write nothing");
}

#[test]
fn bad_inputs_exit_2_naming_the_culprit() {
    bad(&["run", "--profile", "huge"], "huge");
    bad(&["run", "--backend", "gpu"], "unknown backend");
    bad(&["run", "--backend", "torch"], "--features torch");
    bad(&["run", "--filter", "gemm("], "not a valid regex");
    bad(&["run", "--filter", "^nothing-matches$"], "matches no benchmark");
    bad(&["run", "--threads", "0"], "--threads");
    bad(&["run", "--threads", "two"], "--threads");
    bad(&["run", "--max-memory-gib=-1"], "--max-memory-gib");
}

#[test]
fn unwritable_results_directory_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    braingap()
        .args(["run", "--backend", "fake", "--filter", "^lif", "--results"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not-a-dir"));
}

#[test]
fn oversized_buffers_are_rejected_before_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    braingap()
        .args([
            "run",
            "--backend",
            "fake",
            "--filter",
            "^gemm/f64/m=512",
            "--no-ceilings",
            "--max-memory-gib",
            "0.001",
            "--results",
        ])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("gemm/f64/m=512,n=512,k=512 needs"));
    assert!(run_dirs(tmp.path()).is_empty());
    // --list prints the plan and writes nothing.
    braingap()
        .args(["run", "--profile", "full", "--list", "--results"])
        .arg(tmp.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("gemm/f64/m=4096,n=4096,k=4096"));
    assert!(run_dirs(tmp.path()).is_empty());
}

#[test]
fn corrupt_and_foreign_summaries_are_reported_and_other_runs_still_list() {
    let tmp = tempfile::tempdir().unwrap();
    braingap()
        .args([
            "run",
            "--backend",
            "fake",
            "--filter",
            "^lif",
            "--no-ceilings",
            "--label",
            "good",
            "--results",
        ])
        .arg(tmp.path())
        .assert()
        .success();
    let good = run_dirs(tmp.path())[0].clone();
    // A run whose summary has a non-numeric median on its first data row.
    let corrupt = tmp.path().join("runs/20200101T000000.000Z-dead");
    std::fs::create_dir_all(&corrupt).unwrap();
    // the copies keep the good run's meta.json, under their own directory's run id
    let good_id = good.file_name().unwrap().to_str().unwrap().to_string();
    let meta = std::fs::read_to_string(good.join("meta.json")).unwrap();
    let meta_for = |dir: &std::path::Path| meta.replace(&good_id, dir.file_name().unwrap().to_str().unwrap());
    std::fs::write(corrupt.join("meta.json"), meta_for(&corrupt)).unwrap();
    let text = std::fs::read_to_string(good.join("summary.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let median_col = header.iter().position(|h| *h == "median_s").unwrap();
    let mut cells: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(lines[1].as_bytes())
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    cells[median_col] = "fast".into();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&cells).unwrap();
    lines[1] = String::from_utf8(w.into_inner().unwrap())
        .unwrap()
        .trim_end()
        .to_string();
    std::fs::write(corrupt.join("summary.csv"), lines.join("\n") + "\n").unwrap();
    // A foreign CSV.
    let foreign = tmp.path().join("runs/20200102T000000.000Z-beef");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("meta.json"), meta_for(&foreign)).unwrap();
    std::fs::write(foreign.join("summary.csv"), "name,value\na,1\n").unwrap();

    braingap()
        .args(["runs", "--results"])
        .arg(tmp.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("good"))
        .stderr(predicate::str::contains("20200101T000000.000Z-dead/summary.csv:2"))
        .stderr(predicate::str::contains("median_s"))
        .stderr(predicate::str::contains("20200102T000000.000Z-beef/summary.csv:1"))
        .stderr(predicate::str::contains("missing column"));
}

#[test]
fn machine_names_every_fact_or_why_not() {
    let out = braingap()
        .args(["machine", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let m = &v["machine"];
    for key in [
        "cpu_model",
        "physical_cores",
        "max_frequency_mhz",
        "measured_frequency_mhz",
        "os",
        "kernel",
        "rustc",
    ] {
        let fact = &m[key];
        assert!(
            fact["source"].as_str().is_some_and(|s| !s.is_empty()),
            "{key} has no source/reason: {fact}"
        );
    }
    assert!(m["logical_cores"].as_u64().unwrap() >= 1);
    assert_eq!(m["theoretical_peaks"].as_array().unwrap().len(), 3);
    for p in m["theoretical_peaks"].as_array().unwrap() {
        assert!(p["formula"].as_str().unwrap().len() > 10);
    }
    braingap()
        .arg("machine")
        .assert()
        .success()
        .stdout(predicate::str::contains("peak f32"))
        .stdout(predicate::str::contains("SIMD"));
}

/// Rewrites `file` of a run: every value of `columns` in the rows of `benchmark` × `factor`.
fn scale_times(file: &std::path::Path, benchmark: &str, columns: &[&str], factor: f64) {
    let (header, rows) = read_csv(file);
    let mut writer = csv::Writer::from_path(file).unwrap();
    writer.write_record(&header).unwrap();
    for mut row in rows {
        if cell(&header, &row, "benchmark") == benchmark {
            for column in columns {
                let i = header.iter().position(|h| h == column).unwrap();
                if let Ok(v) = row[i].parse::<f64>() {
                    row[i] = (v * factor).to_string();
                }
            }
        }
        writer.write_record(&row).unwrap();
    }
    writer.flush().unwrap();
}

/// The end of a run says what changed since the previous run of this machine, by compare's
/// rule; the first run of a store says nothing of the kind.
#[test]
fn a_run_states_what_changed_since_the_previous_run_on_this_machine() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let run = || {
        let out = braingap()
            .args([
                "run",
                "--backend",
                "fake",
                "--filter",
                "^gemm/f64",
                "--no-report",
                "--results",
            ])
            .arg(&results)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    assert!(!first.contains("Since the previous run"), "{first}");
    // The first run's 512³ GEMM made 1.5× slower on disk: the second run is faster.
    let previous = &run_dirs(&results)[0];
    let name = "gemm/f64/m=512,n=512,k=512";
    scale_times(
        &previous.join("summary.csv"),
        name,
        &["median_s", "ci_low_s", "ci_high_s", "mad_s", "min_s", "max_s"],
        1.5,
    );
    scale_times(
        &previous.join("samples.csv"),
        name,
        &["batch_time_s", "time_per_call_s"],
        1.5,
    );
    let second = run();
    let id = previous.file_name().unwrap().to_str().unwrap();
    assert!(
        second.contains(&format!(
            "Since the previous run on this machine ({id}): 1 faster, 0 slower, 3 unchanged"
        )),
        "{second}"
    );
    assert!(
        second.contains("faster: gemm/f64 512³ takes 0.67× the time"),
        "{second}"
    );
    // The end-of-run report compares with the same previous run.
    let reports = tmp.path().join("reports");
    braingap()
        .args(["run", "--backend", "fake", "--filter", "^gemm/f64", "--results"])
        .arg(&results)
        .arg("--report-dir")
        .arg(&reports)
        .assert()
        .success();
    let second_id = run_dirs(&results)[1].file_name().unwrap().to_str().unwrap().to_string();
    let page = std::fs::read_to_string(reports.join("index.html")).unwrap();
    assert!(
        page.contains("<h2>Comparison with baseline</h2>"),
        "no comparison section"
    );
    assert!(
        page.contains(&format!("Baseline run <code>{second_id}</code>")),
        "not the previous run"
    );
}
