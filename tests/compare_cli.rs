//! Integration tests of `braingap compare`, `export` and `history` on fake-backend runs in
//! temporary directories. The fake backend's timings repeat exactly, so regressions,
//! changed counts and instruction counts are planted by editing the stored CSV files.

mod common;

use common::{braingap, read_csv, run_dirs};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

const FILTER: &str = "^gemm/f32";
const GEMM: &str = "gemm/f32/m=512,n=512,k=512";

/// One fake run of `filter` into `results`; returns its directory.
fn fake_run(results: &Path, filter: &str, branch: Option<&str>) -> PathBuf {
    let before = run_dirs(results).len();
    let mut cmd = braingap();
    cmd.args([
        "run",
        "--backend",
        "fake",
        "--no-report",
        "--no-ceilings",
        "--threads",
        "2",
        "--filter",
        filter,
    ])
    .arg("--results")
    .arg(results);
    match branch {
        Some(b) => cmd.env("BRAINGAP_GIT_BRANCH", b),
        None => cmd.env_remove("BRAINGAP_GIT_BRANCH"),
    };
    cmd.assert().success();
    let dirs = run_dirs(results);
    assert_eq!(dirs.len(), before + 1);
    // Run ids sort by start time: the new run is the last.
    dirs.last().unwrap().clone()
}

fn run_id(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().to_string()
}

/// Rewrites a CSV file cell by cell: `edit(header, row)` may change the row.
fn edit_csv(path: &Path, edit: impl Fn(&[String], &mut Vec<String>)) {
    let (header, mut rows) = read_csv(path);
    for row in &mut rows {
        edit(&header, row);
    }
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(&header).unwrap();
    for row in rows {
        writer.write_record(&row).unwrap();
    }
    writer.flush().unwrap();
}

fn set(header: &[String], row: &mut [String], column: &str, value: String) {
    let i = header.iter().position(|h| h == column).unwrap();
    row[i] = value;
}

fn get<'a>(header: &[String], row: &'a [String], column: &str) -> &'a str {
    &row[header.iter().position(|h| h == column).unwrap()]
}

/// Multiplies every time of `benchmark` in a run (summary and samples) by `factor`.
fn scale_times(dir: &Path, benchmark: &str, factor: f64) {
    edit_csv(&dir.join("summary.csv"), |h, row| {
        if get(h, row, "benchmark") == benchmark {
            for col in ["median_s", "ci_low_s", "ci_high_s", "mad_s", "min_s", "max_s"] {
                if let Ok(v) = get(h, row, col).parse::<f64>() {
                    set(h, row, col, (v * factor).to_string());
                }
            }
        }
    });
    edit_csv(&dir.join("samples.csv"), |h, row| {
        if get(h, row, "benchmark") == benchmark {
            let v: f64 = get(h, row, "time_per_call_s").parse().unwrap();
            set(h, row, "time_per_call_s", (v * factor).to_string());
        }
    });
}

/// Sets `column` of `benchmark` (every benchmark if `None`) in a run's summary.
fn set_column(dir: &Path, benchmark: Option<&str>, column: &str, value: &str) {
    edit_csv(&dir.join("summary.csv"), |h, row| {
        if benchmark.is_none_or(|b| get(h, row, "benchmark") == b) {
            set(h, row, column, value.to_string());
        }
    });
}

/// Edits a run's meta.json.
fn edit_meta(dir: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let path = dir.join("meta.json");
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut meta);
    std::fs::write(&path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
}

fn compare(results: &Path, base: &Path, current: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    braingap()
        .arg("compare")
        .arg(run_id(base))
        .arg(run_id(current))
        .arg("--results")
        .arg(results)
        .args(extra)
        .assert()
}

#[test]
fn identical_runs_pass_and_a_planted_slowdown_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let base = fake_run(&results, FILTER, None);
    let current = fake_run(&results, FILTER, None);
    compare(&results, &base, &current, &[])
        .code(0)
        .stdout(predicate::str::contains("2 unchanged"))
        .stdout(predicate::str::contains("Passed (--fail-on regression)"));

    scale_times(&current, GEMM, 1.2);
    compare(&results, &base, &current, &[])
        .code(1)
        .stdout(predicate::str::contains("1 regressed"))
        .stdout(predicate::str::contains("FAILED"));
    // Run directories work as well as ids.
    braingap().arg("compare").arg(&base).arg(&current).assert().code(1);
    compare(&results, &base, &current, &["--fail-on", "never"]).code(0);
    // Below the threshold: a real but small change is not a regression.
    compare(&results, &base, &current, &["--threshold", "30"])
        .code(0)
        .stdout(predicate::str::contains("2 unchanged"));

    let out = compare(&results, &base, &current, &["--format", "json"]).code(1);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["failed"], true);
    assert_eq!(json["metric"], "time");
    assert_eq!(json["threshold_percent"], 5.0);
    let first = &json["rows"][0];
    assert_eq!(first["benchmark"], GEMM);
    assert_eq!(first["verdict"], "regressed");
    assert!((first["ratio"].as_f64().unwrap() - 1.2).abs() < 1e-6);
    assert!(first["ci_low"].as_f64().unwrap() > 1.0);
    assert_eq!(first["ci_method"], "bootstrap");

    let out = compare(&results, &base, &current, &["--format", "markdown"]).code(1);
    let md = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(md.starts_with("### braingap compare (time): 1 regressed"), "{md}");
    assert!(md.contains("**Failed** (`--fail-on regression`)"));
    assert!(md.contains(&format!("| `{GEMM}` | 26.")), "{md}");
    assert!(md.contains("<details><summary>1 unchanged</summary>"));
}

#[test]
fn improvements_fail_only_under_any_change() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let base = fake_run(&results, FILTER, None);
    let current = fake_run(&results, FILTER, None);
    scale_times(&current, GEMM, 0.8);
    compare(&results, &base, &current, &[])
        .code(0)
        .stdout(predicate::str::contains("1 improved"));
    compare(&results, &base, &current, &["--fail-on", "any-change"]).code(1);
}

#[test]
fn other_machines_are_incomparable_not_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let base = fake_run(&results, FILTER, None);
    let current = fake_run(&results, FILTER, None);
    scale_times(&current, GEMM, 2.0);
    edit_meta(&base, |m| m["machine"]["fingerprint"] = "0000000000000000".into());
    compare(&results, &base, &current, &[])
        .code(0)
        .stdout(predicate::str::contains("2 incomparable"))
        .stdout(predicate::str::contains("Nothing compared: no verdict, not a pass"))
        .stdout(predicate::str::contains("Passed").not())
        .stdout(predicate::str::contains("different machines (fingerprint"))
        .stderr(predicate::str::contains("warning: no benchmark could be compared"));
    // Analytic counts do not depend on the machine.
    compare(&results, &base, &current, &["--metric", "flops"])
        .code(0)
        .stdout(predicate::str::contains("2 unchanged"));
}

#[test]
fn analytic_counts_are_compared_for_equality() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let base = fake_run(&results, FILTER, None);
    let current = fake_run(&results, FILTER, None);
    set_column(&current, Some(GEMM), "bytes", "3145729");
    compare(&results, &base, &current, &["--metric", "flops"]).code(0);
    compare(&results, &base, &current, &["--metric", "bytes"])
        .code(1)
        .stdout(predicate::str::contains("1 changed"))
        .stdout(predicate::str::contains("B per call 3145728 -> 3145729"));
    compare(&results, &base, &current, &["--metric", "bytes", "--fail-on", "never"]).code(0);
}

#[test]
fn instruction_counts_use_the_threshold_without_a_ci() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let base = fake_run(&results, FILTER, None);
    let current = fake_run(&results, FILTER, None);
    compare(&results, &base, &current, &["--metric", "instructions"])
        .code(2)
        .stderr(predicate::str::contains(format!(
            "no instruction counts in BASE run {} (run with `braingap run --metric instructions`)",
            run_id(&base)
        )));
    for dir in [&base, &current] {
        set_column(dir, None, "instructions", "1000000");
        set_column(dir, None, "metric_source", "callgrind");
        set_column(dir, None, "code_path", "avx2_fma");
    }
    compare(&results, &base, &current, &["--metric", "instructions"])
        .code(0)
        .stdout(predicate::str::contains("2 unchanged"));
    set_column(&current, Some(GEMM), "instructions", "1100000");
    compare(&results, &base, &current, &["--metric", "instructions"])
        .code(1)
        .stdout(predicate::str::contains("1 regressed"))
        .stdout(predicate::str::contains("1,100,000"));
    compare(
        &results,
        &base,
        &current,
        &["--metric", "instructions", "--threshold", "15"],
    )
    .code(0);
    // Counted another way: not comparable.
    set_column(&base, None, "metric_source", "wall_clock");
    compare(&results, &base, &current, &["--metric", "instructions"])
        .code(0)
        .stdout(predicate::str::contains(
            "instructions counted by callgrind (current) vs perf counters (baseline)",
        ));
    // An instruction-count run has no timings to compare.
    for column in ["median_s", "ci_low_s", "ci_high_s"] {
        set_column(&current, None, column, "");
    }
    compare(&results, &base, &current, &[])
        .code(2)
        .stderr(predicate::str::contains(format!(
            "no timings in CURRENT run {} (an instruction-count run: compare it with --metric instructions)",
            run_id(&current)
        )));
}

#[test]
fn across_machines_compares_callgrind_counts_with_the_same_counting_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let base = fake_run(&results, FILTER, None);
    let current = fake_run(&results, FILTER, None);
    for dir in [&base, &current] {
        set_column(dir, None, "instructions", "1000000");
        set_column(dir, None, "metric_source", "callgrind");
        set_column(dir, None, "code_path", "avx2_fma");
        edit_meta(dir, |m| {
            m["config"]["metric_source"] = "callgrind".into();
            m["config"]["code_path"] = "avx2_fma".into();
            m["config"]["valgrind"] = "valgrind-3.19.0".into();
            m["config"]["build_profile"] = "debug (opt-level 2)".into();
            m["config"]["target"] = "x86_64-linux".into();
        });
    }
    set_column(&current, Some(GEMM), "instructions", "1100000");
    edit_meta(&current, |m| m["machine"]["fingerprint"] = "another-runner".into());
    // Strict by default: another machine is incomparable, nothing fails.
    compare(&results, &base, &current, &["--metric", "instructions"])
        .code(0)
        .stdout(predicate::str::contains("different machines"));
    // Asked, same environment: the planted 10 % is a regression.
    compare(
        &results,
        &base,
        &current,
        &["--metric", "instructions", "--across-machines"],
    )
    .code(1)
    .stdout(predicate::str::contains("1 regressed"))
    .stdout(predicate::str::contains(
        "across machines where the counting environment matches",
    ));
    // Another valgrind: incomparable, both environments named.
    edit_meta(&current, |m| m["config"]["valgrind"] = "valgrind-3.24.0".into());
    compare(
        &results,
        &base,
        &current,
        &["--metric", "instructions", "--across-machines"],
    )
    .code(0)
    .stdout(predicate::str::contains("different counting environments"))
    .stderr(predicate::str::contains("warning: no benchmark could be compared"));
    // Only instruction counts cross machines.
    compare(&results, &base, &current, &["--metric", "time", "--across-machines"])
        .code(2)
        .stderr(predicate::str::contains("invalid argument --across-machines"));
}

#[test]
fn bad_input_exits_2_naming_the_culprit() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let base = fake_run(&results, FILTER, None);
    let current = fake_run(&results, FILTER, None);
    let other = fake_run(&results, "^stream_copy", None);

    braingap()
        .args(["compare", "no-such-run"])
        .arg(run_id(&current))
        .arg("--results")
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read BASE run `no-such-run`: no run no-such-run in",
        ));
    compare(&results, &base, &other, &[])
        .code(2)
        .stderr(predicate::str::contains("have no benchmark in common"))
        .stderr(predicate::str::contains(run_id(&other)));
    compare(&results, &base, &current, &["--threshold", "150"])
        .code(2)
        .stderr(predicate::str::contains("invalid argument --threshold"));
    compare(&results, &base, &current, &["--metric", "watts"]).code(2);

    edit_meta(&current, |m| m["schema_version"] = 2.into());
    compare(&results, &base, &current, &[])
        .code(2)
        .stderr(predicate::str::contains("cannot read CURRENT run"))
        .stderr(predicate::str::contains(
            "field schema_version: version 2 (this braingap reads 1)",
        ));
    edit_meta(&current, |m| {
        m.as_object_mut().unwrap().remove("schema_version");
    });
    compare(&results, &base, &current, &[])
        .code(2)
        .stderr(predicate::str::contains("missing field `schema_version`"));
}

#[test]
fn export_writes_bmf_and_github_action_json() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let run = fake_run(&results, "^(gemm/f32|stream_copy)", None);

    let out = braingap()
        .args(["export", "--format", "bmf", "--results"])
        .arg(&results)
        .assert()
        .success();
    let bmf: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let gemm = &bmf[format!("{GEMM} (fake)")];
    let latency = &gemm["latency"];
    let value = latency["value"].as_f64().unwrap();
    assert!(
        (value - 2.0 * 512f64.powi(3) / 1e10 * 1e9).abs() / value < 0.02,
        "{value}"
    );
    assert!(latency["lower_value"].as_f64().unwrap() <= value && value <= latency["upper_value"].as_f64().unwrap());
    assert!((gemm["throughput"]["value"].as_f64().unwrap() / 1e10 - 1.0).abs() < 0.02);
    assert!(gemm.get("instructions").is_none());
    let copy = bmf
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("stream_copy"))
        .unwrap()
        .1;
    assert!(copy.get("throughput").is_none() && copy.get("bandwidth").is_some());

    let file = tmp.path().join("out").join("bench.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    braingap()
        .args(["export", "--format", "github-action", "--run"])
        .arg(run_id(&run))
        .arg("--results")
        .arg(&results)
        .arg("--output")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "github-action-benchmark tool: customSmallerIsBetter",
        ));
    let entries: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["extra", "name", "range", "unit", "value"], "{e}");
        assert_eq!(e["unit"], "ns");
        assert!(e["value"].as_f64().unwrap() > 0.0);
        assert!(e["extra"].as_str().unwrap().contains(&run_id(&run)));
    }
    let leftovers: Vec<_> = std::fs::read_dir(file.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "only the output file, no temporary file left");

    braingap()
        .args([
            "export",
            "--format",
            "github-action",
            "--metric",
            "throughput",
            "--results",
        ])
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"GFLOP/s\""))
        .stdout(predicate::str::contains("\"GB/s\""))
        .stderr(predicate::str::contains("customBiggerIsBetter"));
    braingap()
        .args(["export", "--format", "bmf", "--metric", "time", "--results"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid argument --metric"));
    braingap()
        .args([
            "export",
            "--format",
            "github-action",
            "--metric",
            "instructions",
            "--results",
        ])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no instruction counts in run"));
    braingap()
        .args(["export", "--format", "bmf", "--run", "nope", "--results"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read run `nope`"));
}

#[test]
fn history_finds_a_planted_step_and_filters_by_branch() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let mut dirs = Vec::new();
    for i in 0..7 {
        let branch = if i == 3 { "feature" } else { "main" };
        dirs.push(fake_run(&results, FILTER, Some(branch)));
    }
    // From the 5th run on main (index 5 overall), gemm 512³ is 30 % slower.
    for dir in &dirs[5..] {
        scale_times(dir, GEMM, 1.3);
    }
    let out = braingap()
        .args(["history", "--branch", "main", "--benchmark", "^gemm/f32", "--results"])
        .arg(&results)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "history of time over 6 runs on branch main: 2 series",
        ))
        .stdout(predicate::str::contains("<- change +30.0 %"))
        .stdout(predicate::str::contains("1 change point(s) in 2 series"))
        .stderr(predicate::str::contains(
            "1 run(s) on other or unrecorded branches left out",
        ));
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let marked = text.lines().find(|l| l.contains("<- change")).unwrap();
    assert!(marked.starts_with(&run_id(&dirs[5])), "{marked}");

    let out = braingap()
        .args(["history", "--format", "json", "--benchmark", "m=512", "--results"])
        .arg(&results)
        .assert()
        .code(0);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["runs"], 7);
    assert_eq!(json["metric"], "time");
    let series = json["series"].as_array().unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0]["benchmark"], GEMM);
    assert_eq!(series[0]["points"].as_array().unwrap().len(), 7);
    let changes = series[0]["change_points"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["run_id"], run_id(&dirs[5]));
    assert!((changes[0]["ratio"].as_f64().unwrap() - 1.3).abs() < 1e-6);

    // Analytic counts never changed: no change point, exit 0.
    braingap()
        .args(["history", "--metric", "flops", "--results"])
        .arg(&results)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 change point(s) in 2 series"));
    braingap()
        .args(["history", "--branch", "release", "--results"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--branch release: no run on that branch among 7 runs",
        ));
    braingap()
        .args(["history", "--benchmark", "(", "--results"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("'--benchmark <RE>': not a valid regex"));
    braingap()
        .args(["history", "--benchmark", "^conv", "--results"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no benchmark matching `^conv` has time values in the 7 runs",
        ));
    braingap()
        .args(["history", "--metric", "instructions", "--results"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "run with `braingap run --metric instructions`",
        ));
    braingap()
        .args(["history", "--results"])
        .arg(tmp.path().join("empty"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--results").and(predicate::str::contains("no such results directory")));
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    braingap()
        .args(["history", "--results"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no runs in"));
}
