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
        stderr.contains("samples.csv:2:") && stderr.contains(&first) && stderr.contains("disagree"),
        "{stderr}"
    );
}

/// `braingap runs --results RESULTS`: (stdout, stderr).
fn runs(results: &Path) -> (String, String) {
    let out = braingap().arg("runs").arg("--results").arg(results).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Rewrites `meta.json` of `run` with `edit` applied to its JSON text.
fn edit_meta(run: &Path, edit: impl Fn(String) -> String) {
    let path = run.join("meta.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed nothing");
    std::fs::write(path, edited).unwrap();
}

#[test]
fn a_run_copied_under_another_name_is_corrupt_never_listed_twice_nor_latest() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let run = fake_run(&results);
    let copy = results.join("runs/20991231T000000.000Z-copy");
    std::fs::create_dir(&copy).unwrap();
    for file in ["meta.json", "summary.csv", "samples.csv"] {
        std::fs::copy(run.join(file), copy.join(file)).unwrap();
    }
    let (stdout, stderr) = runs(&results);
    assert_eq!(stdout.matches(&id(&run)).count(), 1, "{stdout}");
    assert!(!stdout.contains("-copy"), "{stdout}");
    assert!(
        stderr.contains("20991231T000000.000Z-copy/meta.json:3: field run_id")
            && stderr.contains("differs from its directory name"),
        "{stderr}"
    );
    // the copy is the newest directory: `latest` names its fault, never falls back
    let (code, stderr) = bounded(&["compare", &id(&run), "latest", "--results", results.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("field run_id"), "{stderr}");
}

/// An edit of a JSON text.
type Edit = fn(String) -> String;

#[test]
fn meta_json_faults_name_their_field_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let run = fake_run(&results);
    let run_id = id(&run);
    let cases: [(Edit, &str); 3] = [
        (
            |t| t.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1),
            "meta.json:2: field schema_version",
        ),
        (
            |t| {
                let start = t.find("\"started_at\": \"").unwrap() + 15;
                let end = start + t[start..].find('"').unwrap();
                format!("{}yesterday{}", &t[..start], &t[end..])
            },
            "field started_at: \"yesterday\" is not an RFC 3339 time",
        ),
        (
            |t| {
                let start = t.find("\"timer_overhead_s\": ").unwrap() + 20;
                let end = start + t[start..].find(',').unwrap();
                format!("{}-1.0{}", &t[..start], &t[end..])
            },
            "field timer_overhead_s: -1 is not a non-negative finite time",
        ),
    ];
    let original = std::fs::read_to_string(run.join("meta.json")).unwrap();
    for (edit, expected) in cases {
        edit_meta(&run, edit);
        let (stdout, stderr) = runs(&results);
        assert!(!stdout.contains(&run_id), "{stdout}");
        assert!(stderr.contains(expected), "expected {expected:?} in {stderr}");
        let (code, stderr) = bounded(&["report", "--run", "latest", "--results", results.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?} in {stderr}");
        std::fs::write(run.join("meta.json"), &original).unwrap();
    }
}

#[test]
fn a_summary_cut_at_a_row_boundary_is_not_a_complete_run() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let run = fake_run(&results);
    let path = run.join("summary.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 2, "{text}");
    std::fs::write(&path, lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    let (stdout, stderr) = runs(&results);
    assert!(!stdout.contains(&id(&run)), "{stdout}");
    assert!(
        stderr.contains(&format!("summary.csv:{}:", lines.len()))
            && stderr.contains(&format!(
                "{} benchmark rows, but meta.json plans {}",
                lines.len() - 2,
                lines.len() - 1
            )),
        "{stderr}"
    );
}

#[test]
fn a_sample_that_is_not_a_positive_finite_time_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let base = fake_run(&results);
    let current = fake_run(&results);
    for bad in ["NaN", "-0.001", "inf", "0"] {
        let path = current.join("samples.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let time = header.iter().position(|h| h == "time_per_call_s").unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let mut writer = csv::Writer::from_path(&path).unwrap();
        writer.write_record(&header).unwrap();
        for (i, row) in rows.iter().enumerate() {
            let mut fields: Vec<String> = row.iter().map(str::to_string).collect();
            if i == 1 {
                fields[time] = bad.to_string();
            }
            writer.write_record(&fields).unwrap();
        }
        writer.flush().unwrap();
        let (code, stderr) = bounded(&[
            "compare",
            &id(&base),
            &id(&current),
            "--results",
            results.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(2), "{bad}: {stderr}");
        assert!(
            stderr.contains("samples.csv:3: column time_per_call_s"),
            "{bad}: {stderr}"
        );
        std::fs::write(&path, text).unwrap();
    }
}
