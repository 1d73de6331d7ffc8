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
