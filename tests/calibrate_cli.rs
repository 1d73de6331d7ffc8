//! `braingap calibrate-energy`: fits the energy model to measured (RAPL/NVML) rows of this
//! machine's runs, writes RESULTS/energy-calibration.json, and later runs model with it.
//! This machine has no meter, so the measured rows are planted: a fake-backend run whose
//! rows are rewritten as if RAPL had measured `E = P·t + e_flop·F + e_byte·B`.

mod common;

use common::{braingap, run_dirs};
use predicates::prelude::*;
use std::path::Path;

const P_IDLE: f64 = 12.5;
const E_FLOP: f64 = 3.0e-11;
const E_BYTE: f64 = 2.0e-10;

/// Rewrites every ok row of the run's summary.csv as measured by `source`.
fn plant_measured_energy(run: &Path, source: &str) {
    let path = run.join("summary.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (status, median, flops, bytes) = (col("status"), col("median_s"), col("flops"), col("bytes"));
    let (energy, power, src) = (col("energy_j"), col("avg_power_w"), col("energy_source"));
    let mut writer = csv::Writer::from_path(run.join("summary.csv.new")).unwrap();
    writer.write_record(&header).unwrap();
    let mut planted = 0;
    for record in reader.records() {
        let mut row: Vec<String> = record.unwrap().iter().map(str::to_string).collect();
        if row[status] == "ok" {
            let t: f64 = row[median].parse().unwrap();
            let e =
                P_IDLE * t + E_FLOP * row[flops].parse::<f64>().unwrap() + E_BYTE * row[bytes].parse::<f64>().unwrap();
            row[energy] = e.to_string();
            row[power] = (e / t).to_string();
            row[src] = source.to_string();
            planted += 1;
        }
        writer.write_record(&row).unwrap();
    }
    writer.flush().unwrap();
    std::fs::rename(run.join("summary.csv.new"), &path).unwrap();
    assert!(planted >= 3, "need several rows, planted {planted}");
}

fn fake_run(results: &Path) {
    braingap()
        .args(["run", "--backend", "fake", "--no-report", "--results"])
        .arg(results)
        .assert()
        .success();
}

#[test]
fn fits_planted_rapl_rows_and_later_runs_use_the_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    fake_run(&results);
    plant_measured_energy(&run_dirs(&results)[0], "rapl");

    let out = braingap()
        .args(["calibrate-energy", "--json", "--results"])
        .arg(&results)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let cal: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let c = &cal["coefficients"];
    let close = |got: f64, want: f64| (got - want).abs() <= 1e-6 * want;
    assert!(close(c["idle_power"].as_f64().unwrap(), P_IDLE), "{c}");
    assert!(close(c["joules_per_flop"].as_f64().unwrap(), E_FLOP), "{c}");
    assert!(close(c["joules_per_byte"].as_f64().unwrap(), E_BYTE), "{c}");
    assert_eq!(cal["measured_by"], "rapl");
    let file = results.join("energy-calibration.json");
    assert!(file.is_file());

    // A later CPU run on this machine models energy with the fitted coefficients.
    braingap()
        .args(["run", "--filter", "^activation_relu/f32", "--no-report", "--results"])
        .arg(&results)
        .assert()
        .success();
    let latest = run_dirs(&results).pop().unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(latest.join("meta.json")).unwrap()).unwrap();
    let model = &meta["meters"]["model"];
    assert_eq!(model["basis"]["kind"], "calibrated", "{model}");
    assert!(close(model["coefficients"]["idle_power"].as_f64().unwrap(), P_IDLE));
}

#[test]
fn dry_run_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    fake_run(&results);
    plant_measured_energy(&run_dirs(&results)[0], "nvml");
    braingap()
        .args(["calibrate-energy", "--dry-run", "--results"])
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("P_idle = 12.500 W"))
        .stdout(predicate::str::contains("nvml"))
        .stdout(predicate::str::contains("not written"));
    assert!(!results.join("energy-calibration.json").exists());
}

#[test]
fn modeled_only_runs_are_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    fake_run(&results);
    braingap()
        .args(["calibrate-energy", "--results"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no measured energy"))
        .stderr(predicate::str::contains("RAPL or NVML"));
    assert!(!results.join("energy-calibration.json").exists());
}

#[test]
fn bad_input_names_the_argument() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    braingap()
        .args(["calibrate-energy", "--results"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no runs of machine"));
    fake_run(&results);
    braingap()
        .args(["calibrate-energy", "--run", "no-such-run", "--results"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--run no-such-run"));
    braingap()
        .args([
            "calibrate-energy",
            "--machine",
            "other-machine",
            "--run",
            "latest",
            "--results",
        ])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not other-machine"));
}

#[test]
fn a_corrupt_calibration_is_ignored_aloud() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    std::fs::create_dir_all(&results).unwrap();
    let calibration = results.join("energy-calibration.json");
    std::fs::write(&calibration, "{ not json").unwrap();
    let out = braingap()
        .args([
            "run",
            "--backend",
            "cpu",
            "--threads",
            "1",
            "--no-report",
            "--no-ceilings",
            "--filter",
            "^activation_relu",
            "--results",
        ])
        .arg(&results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: calibration ignored") && stderr.contains("energy-calibration.json"),
        "{stderr}"
    );
    let runs = run_dirs(&results);
    let meta = std::fs::read_to_string(runs[0].join("meta.json")).unwrap();
    assert!(
        meta.contains("calibration ignored"),
        "the note is kept in meta.json too"
    );
}
