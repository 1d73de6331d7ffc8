//! Shared helpers for integration tests: a braingap command in a temp results directory.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The braingap binary with a clean environment for the knobs tests use.
pub fn braingap() -> Command {
    let mut cmd = Command::cargo_bin("braingap").expect("binary built");
    cmd.env_remove("BRAINGAP_FAKE_SLEEP_MS")
        .env_remove("BRAINGAP_FAKE_FAIL")
        .env("NO_COLOR", "1");
    cmd
}

/// Run directories under `results/runs`, sorted.
pub fn run_dirs(results: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(results.join("runs"))
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Parsed `summary.csv` of a run directory as (header, rows).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).expect("csv opens");
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Value of `column` in `row`.
pub fn cell<'a>(header: &[String], row: &'a [String], column: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    &row[i]
}
