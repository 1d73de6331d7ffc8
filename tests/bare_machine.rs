//! Every consumer of a stored run on a machine that knows nothing optional about itself:
//! the fixture under `tests/fixtures/bare-machine/` holds two runs whose `meta.json` has no
//! theoretical peaks, no clock, no caches, no last-level cache, no FMA units and no meters
//! (every value `null`, with its reason), and whose rows carry no energy, power, clock,
//! attainment or peak. `runs`, `report`, `compare`, `history` and `export` must all work on
//! it, say "unknown" where a value is missing, and never print a number made from a missing
//! one (`NaN`, `inf`, a 0 standing for nothing). The notebooks run on the same fixture in
//! `scripts/test-notebooks.sh`. `make.py` beside the fixture says how it was made.

mod common;

use common::braingap;
use std::path::{Path, PathBuf};

const FIXTURE: &str = "tests/fixtures/bare-machine/results";
const BASE: &str = "20261206T120000.000Z-ba5e";
const CANDIDATE: &str = "20261206T121000.000Z-ca4d";

/// A copy of the fixture store in a temporary directory (commands may write into a store).
fn store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    copy_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE).as_path(), &results);
    (dir, results)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Words that mean a missing value was turned into a number and printed.
fn assert_no_invented_number(what: &str, text: &str) {
    let invented = regex::Regex::new(
        r"\b(NaN|nan)\b|(^|[^A-Za-z])[-+]?(inf|Inf|infinity|Infinity)\b|\bnull (GFLOP|GB|W|J)|\bNone\b",
    )
    .unwrap();
    if let Some(found) = invented.find(text) {
        let start = found.start().saturating_sub(120);
        let end = (found.end() + 120).min(text.len());
        panic!(
            "{what} printed {:?} from a missing value: …{}…",
            found.as_str(),
            text.get(start..end).unwrap_or(found.as_str())
        );
    }
}

fn stdout_of(args: &[&str]) -> String {
    let output = braingap().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        output.status.success(),
        "braingap {args:?} failed ({:?}):\n{stdout}\n{stderr}",
        output.status
    );
    assert_no_invented_number(&format!("braingap {args:?} (stderr)"), &stderr);
    stdout
}

#[test]
fn the_fixture_has_nothing_optional() {
    for run in [BASE, CANDIDATE] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(FIXTURE)
            .join("runs")
            .join(run)
            .join("meta.json");
        let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let machine = &meta["machine"];
        let peaks = machine["theoretical_peaks"].as_array().unwrap();
        assert!(!peaks.is_empty());
        for peak in peaks {
            assert!(peak["flops_per_s"].is_null(), "{run}: {peak}");
            assert!(
                !peak["formula"].as_str().unwrap().is_empty(),
                "{run}: a null peak needs its reason"
            );
        }
        for fact in [
            "max_frequency_mhz",
            "measured_frequency_mhz",
            "reported_frequency_mhz",
            "last_level_cache_bytes",
            "fma_units_per_core",
            "physical_cores",
            "cpu_model",
        ] {
            assert!(machine[fact]["value"].is_null(), "{run}: {fact} should be null");
            assert!(
                !machine[fact]["source"].as_str().unwrap().is_empty(),
                "{run}: {fact} needs its reason"
            );
        }
        assert_eq!(machine["caches"].as_array().unwrap().len(), 0);
        assert_eq!(meta["meters"]["energy_source"], "unavailable");
        assert!(meta["meters"]["active"].as_array().unwrap().is_empty());
        assert!(meta["meters"]["model"].is_null());
        assert!(!meta["meters"]["unavailable"].as_array().unwrap().is_empty());
    }
}

#[test]
fn runs_lists_the_bare_runs() {
    let (_dir, results) = store();
    let out = stdout_of(&["runs", "--results", results.to_str().unwrap()]);
    assert!(out.contains(BASE) && out.contains(CANDIDATE), "{out}");
    assert_no_invented_number("runs", &out);
}

#[test]
fn report_says_unknown_and_draws_no_missing_value() {
    let (dir, results) = store();
    let report = dir.path().join("report");
    stdout_of(&[
        "report",
        "--results",
        results.to_str().unwrap(),
        "--run",
        "latest",
        "--out",
        report.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert_no_invented_number("report index.html", &html);
    assert!(html.contains(CANDIDATE), "the report is of the latest run");
    // The missing facts are named as unknown, with their reasons.
    assert!(
        html.contains("unknown"),
        "the report should say which facts are unknown"
    );
    assert!(
        html.contains("no FMA SIMD support detected"),
        "the FMA reason should be shown"
    );
    for entry in std::fs::read_dir(report.join("figures")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".svg") {
            let svg = std::fs::read_to_string(entry.path()).unwrap();
            assert_no_invented_number(&name, &svg);
        }
    }
}

#[test]
fn compare_runs_on_the_bare_runs() {
    let (_dir, results) = store();
    for format in ["text", "markdown", "json"] {
        let out = braingap()
            .args([
                "compare",
                BASE,
                CANDIDATE,
                "--results",
                results.to_str().unwrap(),
                "--format",
                format,
            ])
            .output()
            .unwrap();
        // 0 (no regression) or 1 (a regression): either is a verdict, 2 would be a failure.
        assert!(
            matches!(out.status.code(), Some(0) | Some(1)),
            "compare --format {format}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("gemm"),
            "compare --format {format} lists the benchmarks:\n{text}"
        );
        assert_no_invented_number(&format!("compare --format {format}"), &text);
    }
}

#[test]
fn history_runs_on_the_bare_runs() {
    let (_dir, results) = store();
    for metric in ["time", "flops", "bytes"] {
        for format in ["text", "json"] {
            let out = stdout_of(&[
                "history",
                "--results",
                results.to_str().unwrap(),
                "--metric",
                metric,
                "--format",
                format,
            ]);
            assert!(
                out.contains("gemm"),
                "history --metric {metric} --format {format}:\n{out}"
            );
            assert_no_invented_number(&format!("history --metric {metric} --format {format}"), &out);
        }
    }
}

#[test]
fn export_runs_on_the_bare_runs() {
    let (_dir, results) = store();
    for format in ["bmf", "github-action"] {
        let out = stdout_of(&["export", "--results", results.to_str().unwrap(), "--format", format]);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{format}: {e}\n{out}"));
        let entries = match &json {
            serde_json::Value::Object(map) => map.len(),
            serde_json::Value::Array(list) => list.len(),
            _ => 0,
        };
        assert!(entries > 0, "export --format {format} exported nothing:\n{out}");
        assert_no_invented_number(&format!("export --format {format}"), &out);
    }
}
