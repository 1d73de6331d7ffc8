//! Arguments are validated by their own name, up front: each bad value exits 2 with a message
//! naming the option, before anything is run or written (issue: trust what is on disk).

mod common;

use common::{braingap, run_dirs};

/// Runs `braingap ARGS` and returns (exit code, stderr).
fn fails(args: &[&str]) -> (Option<i32>, String) {
    let out = braingap().args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_run_arguments_name_the_option_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let results = results.to_str().unwrap();
    let a_file = dir.path().join("a-file");
    std::fs::write(&a_file, b"").unwrap();
    let under_a_file = a_file.join("reports");
    let under_a_file = under_a_file.to_str().unwrap();
    for (args, named) in [
        (vec!["--threads", "-1"], "--threads"),
        (vec!["--threads", "0"], "--threads"),
        (vec!["--threads", "100000"], "--threads 100000"),
        (vec!["--max-memory-gib", "1e30"], "--max-memory-gib"),
        (vec!["--label", "two\nlines"], "--label"),
        (vec!["--report-dir", under_a_file], "--report-dir"),
        // options of another suite are refused, never silently ignored
        (vec!["--min-message", "1KiB"], "--min-message 1024"),
        (
            vec!["--min-message", "2KiB", "--max-message", "1KiB"],
            "--min-message 2048",
        ),
        (vec!["--max-message", "1KiB"], "--max-message 1024"),
        (vec!["--metric", "instructions", "--samples", "5"], "--samples 5"),
        (
            vec!["--profile", "microcircuit", "--bio-time", "10", "--samples", "5"],
            "--samples 5",
        ),
        // a timeline without a meter would be a header-only file
        (vec!["--power-timeline"], "--power-timeline"),
    ] {
        let mut full = vec!["run", "--backend", "fake", "--results", results];
        full.extend(&args);
        let (code, stderr) = fails(&full);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{args:?} should name {named}: {stderr}");
        assert!(
            run_dirs(std::path::Path::new(results)).is_empty(),
            "{args:?} wrote a run"
        );
    }
}

#[test]
fn thresholds_share_one_convention_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir_all(&results).unwrap();
    let results = results.to_str().unwrap();
    for args in [
        vec!["compare", "a", "b", "--threshold", "-5", "--results", results],
        vec!["compare", "a", "b", "--threshold", "100", "--results", results],
        vec!["report", "--threshold", "-0.5", "--results", results],
        vec!["report", "--threshold", "NaN", "--results", results],
        vec!["report", "--threshold", "150", "--results", results],
    ] {
        let (code, stderr) = fails(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--threshold"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_missing_store_is_an_error_for_every_reading_command() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let missing = missing.to_str().unwrap();
    for command in ["runs", "history"] {
        let (code, stderr) = fails(&[command, "--results", missing]);
        assert_eq!(code, Some(2), "{command}: {stderr}");
        assert!(stderr.contains("--results"), "{command}: {stderr}");
    }
    // An existing store without runs lists nothing, successfully.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = braingap().args(["runs", "--results"]).arg(&empty).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no runs"));
}

#[test]
fn samples_are_applied_to_a_kernel_profile() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let out = braingap()
        .args([
            "run",
            "--backend",
            "fake",
            "--no-report",
            "--samples",
            "3",
            "--filter",
            "^activation_relu",
        ])
        .arg("--results")
        .arg(&results)
        .env("BRAINGAP_FAKE_SLEEP_MS", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let runs = run_dirs(&results);
    assert_eq!(runs.len(), 1);
    let summary = std::fs::read_to_string(runs[0].join("summary.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(summary.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = headers.iter().position(|h| h == "samples").unwrap();
    let kernel = headers.iter().position(|h| h == "kernel").unwrap();
    let mut checked = 0;
    for row in reader.records() {
        let row = row.unwrap();
        if row[kernel].starts_with("activation") {
            assert_eq!(&row[column], "3", "{row:?}");
            checked += 1;
        }
    }
    assert!(checked > 0, "no activation row in {summary}");
}

#[test]
fn an_os_error_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let a_file = dir.path().join("a-file");
    std::fs::write(&a_file, b"").unwrap();
    let (code, stderr) = fails(&[
        "run",
        "--backend",
        "fake",
        "--no-report",
        "--results",
        a_file.join("results").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.matches("os error 20").count(), 1, "{stderr}");
}

#[test]
fn a_label_that_is_not_utf8_is_refused_naming_label() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let out = braingap()
        .args(["run", "--backend", "fake", "--no-report", "--label"])
        .arg(std::ffi::OsStr::from_bytes(b"caf\xe9"))
        .arg("--results")
        .arg(&results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--label") && stderr.contains("not UTF-8"), "{stderr}");
    assert!(run_dirs(&results).is_empty());
}

#[test]
fn more_threads_than_cpus_warns_and_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = (cpus + 1).to_string();
    let out = braingap()
        .args([
            "run",
            "--backend",
            "fake",
            "--no-report",
            "--filter",
            "^activation_relu",
            "--threads",
            &threads,
        ])
        .arg("--results")
        .arg(&results)
        .env("BRAINGAP_FAKE_SLEEP_MS", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "warning: --threads {threads} is more than the {cpus} logical CPUs"
        )),
        "{stderr}"
    );
}
