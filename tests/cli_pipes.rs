//! No subcommand panics when its reader goes away: each runs with stdout and stderr piped
//! into `head -1`, and must end with its own exit status (never 101, Rust's panic status),
//! and `run` must still complete its store. Also the regression cases of the store's
//! reader: `latest` never silently falls back to an older run, `compare` refuses a run
//! against itself, and non-finite or negative medians are corrupt.

mod common;

use common::{braingap, run_dirs};
use std::path::Path;
use std::process::Command;

/// Runs the binary with `args`, stdout and stderr together into `head -1`; returns its
/// exit status.
fn piped_to_head(args: &[&str]) -> i32 {
    let bin = assert_cmd::cargo::cargo_bin("braingap");
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        "'{}' {} 2>&1 | head -1 >/dev/null; exit ${{PIPESTATUS[0]}}",
        bin.display(),
        quoted.join(" ")
    );
    let status = Command::new("bash")
        .args(["-c", &script])
        .env_remove("BRAINGAP_FAKE_SLEEP_MS")
        .env_remove("BRAINGAP_FAKE_FAIL")
        .status()
        .unwrap();
    status.code().expect("exited, not killed")
}

fn fake_run(results: &Path, label: &str) {
    braingap()
        .args([
            "run",
            "--backend",
            "fake",
            "--profile",
            "quick",
            "--threads",
            "1",
            "--no-report",
            "--label",
            label,
        ])
        .arg("--results")
        .arg(results)
        .assert()
        .success();
}

#[test]
fn every_subcommand_survives_a_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let results_arg = results.to_str().unwrap();
    // `run` prints its progress on stderr from the first benchmark on: the pipe is closed
    // after one line, and the run must still finish every planned benchmark.
    let run_status = piped_to_head(&[
        "run",
        "--backend",
        "fake",
        "--profile",
        "quick",
        "--threads",
        "1",
        "--no-report",
        "--results",
        results_arg,
    ]);
    assert_eq!(run_status, 0, "run with a closed pipe");
    let runs = run_dirs(&results);
    assert_eq!(runs.len(), 1);
    let meta = std::fs::read_to_string(runs[0].join("meta.json")).unwrap();
    assert!(meta.contains("\"complete\""), "the run finished its store: {meta}");
    let planned = serde_json::from_str::<serde_json::Value>(&meta).unwrap()["benchmarks_planned"]
        .as_u64()
        .unwrap();
    let (_, rows) = common::read_csv(&runs[0].join("summary.csv"));
    assert!(planned > 10);
    assert_eq!(rows.len() as u64, planned);
    fake_run(&results, "second");
    let runs = run_dirs(&results);
    let (first, second) = (
        runs[0].file_name().unwrap().to_str().unwrap().to_string(),
        runs[1].file_name().unwrap().to_str().unwrap().to_string(),
    );
    let report = dir.path().join("report");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--help"],
        vec!["run", "--list"],
        vec!["run", "--help"],
        vec!["machine"],
        vec!["runs", "--results", results_arg],
        vec![
            "report",
            "--results",
            results_arg,
            "--out",
            report.to_str().unwrap(),
            "--no-history",
        ],
        vec!["compare", &first, &second, "--results", results_arg],
        vec!["export", "--results", results_arg, "--format", "bmf"],
        vec!["history", "--results", results_arg],
        vec!["datasets"],
        vec!["claims"],
        vec!["fit", "--data", "koomey", "--x", "year", "--y", "computations_per_kWh"],
    ];
    for args in cases {
        let status = piped_to_head(&args);
        assert!(
            status == 0 || status == 1,
            "braingap {args:?} into head -1 exited {status}"
        );
    }
}

#[test]
fn latest_is_the_newest_run_or_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    fake_run(&results, "older");
    fake_run(&results, "newer");
    let runs = run_dirs(&results);
    let older = runs[0].file_name().unwrap().to_str().unwrap().to_string();
    // The newest run becomes unreadable: `latest` must say so, not use the older run.
    let meta_path = runs[1].join("meta.json");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    std::fs::write(
        &meta_path,
        meta.replace("\"schema_version\": 1", "\"schema_version\": 2"),
    )
    .unwrap();
    for args in [
        vec!["compare", older.as_str(), "latest"],
        vec!["export", "--format", "bmf"],
        vec!["report", "--no-history", "--out"],
    ] {
        let mut cmd = braingap();
        cmd.args(&args);
        if args[0] == "report" {
            cmd.arg(dir.path().join("report"));
        }
        let out = cmd.arg("--results").arg(&results).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("meta.json:2: field schema_version: version 2"),
            "{args:?}: {stderr}"
        );
    }
    // A run compared with itself is refused.
    let out = braingap()
        .args(["compare", &older, &older, "--results"])
        .arg(&results)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("compared with itself"));
}

#[test]
fn non_finite_negative_and_duplicated_rows_are_corrupt() {
    for (what, edit) in [
        ("NaN", "NaN"),
        ("inf", "inf"),
        ("negative", "-0.001"),
        ("duplicate", "duplicate"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results");
        fake_run(&results, "base");
        fake_run(&results, "current");
        let runs = run_dirs(&results);
        let summary = runs[1].join("summary.csv");
        let mut reader = csv::Reader::from_path(&summary).unwrap();
        let header = reader.headers().unwrap().clone();
        let mut rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let median = header.iter().position(|h| h == "median_s").unwrap();
        if edit == "duplicate" {
            let mut copy: Vec<String> = rows[1].iter().map(str::to_string).collect();
            copy[median] = format!("{}", 3.0 * copy[median].parse::<f64>().unwrap());
            rows.push(csv::StringRecord::from(copy));
        } else {
            let mut changed: Vec<String> = rows[1].iter().map(str::to_string).collect();
            changed[median] = edit.to_string();
            rows[1] = csv::StringRecord::from(changed);
        }
        let mut writer = csv::Writer::from_path(&summary).unwrap();
        writer.write_record(&header).unwrap();
        for row in &rows {
            writer.write_record(row).unwrap();
        }
        writer.flush().unwrap();
        let base = runs[0].file_name().unwrap().to_str().unwrap();
        let current = runs[1].file_name().unwrap().to_str().unwrap();
        let out = braingap()
            .args(["compare", base, current, "--results"])
            .arg(&results)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains("summary.csv"),
            "{what}: the message names the file: {stderr}"
        );
    }
}
