//! `braingap run --metric instructions` under valgrind, and `braingap ab`'s input checks
//! and a short A/A comparison.

mod common;

use common::{braingap, cell, read_csv, run_dirs};
use predicates::str::contains;
use std::path::Path;

fn valgrind_present() -> bool {
    std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Instruction count, code path and metric source of the single row of the newest run.
fn instruction_row(results: &Path) -> (f64, String, String) {
    let dir = run_dirs(results).pop().expect("a run directory");
    let (header, rows) = read_csv(&dir.join("summary.csv"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(cell(&header, row, "status"), "ok");
    assert_eq!(
        cell(&header, row, "median_s"),
        "",
        "an instruction-count run times nothing"
    );
    let instructions: f64 = cell(&header, row, "instructions").parse().expect("a number");
    (
        instructions,
        cell(&header, row, "code_path").to_string(),
        cell(&header, row, "metric_source").to_string(),
    )
}

#[test]
fn instruction_counts_are_positive_repeatable_and_not_avx512() {
    if !valgrind_present() {
        eprintln!("skipped: valgrind is not installed (scripts/setup-system.sh installs it)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for attempt in ["first", "second"] {
        let results = tmp.path().join(attempt);
        braingap()
            .env_remove("BRAINGAP_PLANT_EXTRA_WORK")
            .args([
                "run",
                "--metric",
                "instructions",
                "--filter",
                "^activation_relu",
                "--calls",
                "2",
            ])
            .arg("--results")
            .arg(&results)
            .assert()
            .success()
            .stdout(contains("activation_relu/f32 n=16Ki"))
            .stderr(contains("ok      activation_relu/f32/n=16384"));
        let (instructions, code_path, source) = instruction_row(&results);
        assert!(instructions > 0.0, "{instructions}");
        assert_ne!(
            code_path, "avx512",
            "valgrind cannot run AVX-512; the count must be of another path"
        );
        assert!(["avx2_fma", "scalar"].contains(&code_path.as_str()), "{code_path}");
        assert_eq!(source, "callgrind");
        let dir = run_dirs(&results).pop().unwrap();
        let raw: Vec<_> = std::fs::read_dir(dir.join("callgrind")).unwrap().collect();
        assert_eq!(raw.len(), 1, "the raw callgrind output is kept");
        counts.push(instructions);
    }
    assert_eq!(counts[0], counts[1], "instruction counts must repeat exactly");

    // The planted slowdown (10 % more elements recomputed) shows in the count.
    let planted = tmp.path().join("planted");
    braingap()
        .env("BRAINGAP_PLANT_EXTRA_WORK", "activation_relu=0.10")
        .args([
            "run",
            "--metric",
            "instructions",
            "--filter",
            "^activation_relu",
            "--calls",
            "2",
        ])
        .arg("--results")
        .arg(&planted)
        .assert()
        .success()
        .stderr(contains("planted slowdown active"));
    let (slower, _, _) = instruction_row(&planted);
    let ratio = slower / counts[0];
    assert!(ratio > 1.05 && ratio < 1.12, "planted ratio {ratio}");
}

#[test]
fn missing_valgrind_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    braingap()
        .env("BRAINGAP_VALGRIND", "/nonexistent/valgrind")
        .args(["run", "--metric", "instructions", "--filter", "^activation_relu"])
        .arg("--results")
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(contains("valgrind not found"))
        .stderr(contains("apt-get install valgrind"));
    assert!(run_dirs(tmp.path()).is_empty(), "nothing is written");
}

#[test]
fn instruction_runs_reject_what_they_cannot_do() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, culprit) in [
        (&["--threads", "2"][..], "--threads"),
        (&["--backend", "fake"][..], "--backend fake"),
        (&["--calls", "0"][..], "--calls 0"),
    ] {
        braingap()
            .args(["run", "--metric", "instructions", "--filter", "^activation_relu"])
            .args(args)
            .arg("--results")
            .arg(tmp.path())
            .assert()
            .code(2)
            .stderr(contains(culprit));
    }
    braingap()
        .env("BRAINGAP_PLANT_EXTRA_WORK", "gemm=0.1")
        .args(["run", "--metric", "instructions", "--filter", "^activation_relu"])
        .arg("--results")
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(contains("no planted slowdown"));
}

#[test]
fn ab_rejects_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let me = assert_cmd::cargo::cargo_bin("braingap");
    braingap()
        .args(["ab", "--base-bin", "/nonexistent/braingap", "--current-bin"])
        .arg(&me)
        .assert()
        .code(2)
        .stderr(contains("--base-bin /nonexistent/braingap"));
    braingap()
        .args(["ab", "--rounds", "3", "--base-bin"])
        .arg(&me)
        .arg("--current-bin")
        .arg(&me)
        .assert()
        .code(2)
        .stderr(contains("smallest reachable p-value is 0.100"));
    braingap().args(["ab"]).assert().code(2);
    braingap()
        .args(["ab", "--filter", "nothing-matches-this", "--rounds", "4", "--base-bin"])
        .arg(&me)
        .arg("--current-bin")
        .arg(&me)
        .arg("--results")
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(contains("matches no benchmark"));
}

#[test]
fn ab_calibrates_then_compares_a_build_with_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let me = assert_cmd::cargo::cargo_bin("braingap");
    let common = [
        "--profile",
        "small",
        "--filter",
        "^activation_relu",
        "--threads",
        "1",
        "--rounds",
        "4",
    ];
    braingap()
        .args(["ab", "--calibrate", "--trials", "1", "--bin"])
        .arg(&me)
        .args(common)
        .arg("--results")
        .arg(tmp.path())
        .assert()
        .success()
        .stdout(contains("pooled floor"));
    let calibration: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("ab-calibration.json")).unwrap()).unwrap();
    assert_eq!(calibration["trials"], 1);
    assert!(calibration["pooled_floor"].as_f64().unwrap() >= 0.0);

    let output = braingap()
        .args(["ab", "--format", "json", "--base-bin"])
        .arg(&me)
        .arg("--current-bin")
        .arg(&me)
        .args(common)
        .arg("--results")
        .arg(tmp.path())
        .output()
        .unwrap();
    // An A/A comparison may, rarely, raise a false alarm (exit 1); never a usage error.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let row = &record["rows"][0];
    assert_eq!(row["benchmark"], "activation_relu/f32/n=16384");
    assert_eq!(row["base_rounds"], 4);
    assert_eq!(row["current_rounds"], 4);
    assert_eq!(row["floor"]["source"]["kind"], "calibrated");
    assert_eq!(
        std::fs::read_dir(tmp.path().join("ab")).unwrap().count(),
        1,
        "one saved record, no scratch left"
    );
}
