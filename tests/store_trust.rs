//! What is on disk is checked when it is read: a special file in place of a store file is
//! refused by type (never blocks), and `samples.csv` must agree with `summary.csv` (issue:
//! trust what is on disk, wrong cases 4 and 6).

mod common;

use assert_cmd::cargo::CommandCargoExt;
use common::{braingap, run_dirs};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fake_run(results: &Path) -> PathBuf {
    let before = run_dirs(results).len();
    braingap()
        .args([
            "run",
            "--backend",
            "fake",
            "--no-report",
            "--no-ceilings",
            "--filter",
            "gemm",
        ])
        .arg("--results")
        .arg(results)
        .assert()
        .success();
    let dirs = run_dirs(results);
    assert_eq!(dirs.len(), before + 1);
    dirs.last().unwrap().clone()
}

fn id(dir: &Path) -> String {
    dir.file_name().unwrap().to_str().unwrap().to_string()
}

/// Runs braingap with `args` under a 30 s limit: (exit code, stderr); a hang fails the test.
fn bounded(args: &[&str]) -> (Option<i32>, String) {
    let mut child = std::process::Command::cargo_bin("braingap")
        .unwrap()
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return (status.code(), stderr);
        }
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("braingap {args:?} hung on a special file");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_fifo_in_place_of_a_store_file_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let base = fake_run(&results);
    let current = fake_run(&results);
    let results_arg = results.to_str().unwrap();
    let samples = current.join("samples.csv");
    std::fs::remove_file(&samples).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&samples).status().unwrap();
    assert!(made.success(), "mkfifo");
    for args in [
        vec!["compare", &id(&base), &id(&current), "--results", results_arg],
        vec![
            "report",
            "--run",
            &id(&current),
            "--no-history",
            "--results",
            results_arg,
        ],
    ] {
        let (code, stderr) = bounded(&args.iter().map(|s| s.as_ref()).collect::<Vec<&str>>());
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("samples.csv") && stderr.contains("not a regular file"),
            "{stderr}"
        );
    }
    // The same for summary.csv: the run is reported unreadable, by file.
    std::fs::remove_file(&samples).unwrap();
    let summary = current.join("summary.csv");
    std::fs::remove_file(&summary).unwrap();
    std::process::Command::new("mkfifo").arg(&summary).status().unwrap();
    let (code, stderr) = bounded(&["compare", &id(&base), &id(&current), "--results", results_arg]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("summary.csv") && stderr.contains("not a regular file"),
        "{stderr}"
    );
}

#[test]
fn samples_that_disagree_with_the_summary_are_refused_by_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let base = fake_run(&results);
    let current = fake_run(&results);
    // Triple every sample of the current run's first benchmark, leave its summary as it is.
    let path = current.join("samples.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let bench = header.iter().position(|h| h == "benchmark").unwrap();
    let time = header.iter().position(|h| h == "time_per_call_s").unwrap();
    let first = rows[0][bench].to_string();
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&header).unwrap();
    for row in &rows {
        let mut fields: Vec<String> = row.iter().map(str::to_string).collect();
        if fields[bench] == first {
            fields[time] = (fields[time].parse::<f64>().unwrap() * 3.0).to_string();
        }
        writer.write_record(&fields).unwrap();
    }
    writer.flush().unwrap();
    let out = braingap()
        .args(["compare", &id(&base), &id(&current), "--results"])
        .arg(&results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("samples.csv: line 2") && stderr.contains(&first) && stderr.contains("disagree"),
        "{stderr}"
    );
}
