//! Integration tests of `braingap fit`, `braingap datasets` and `braingap claims`:
//! the binary on bundled data and on bad files in temporary directories.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn braingap() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("braingap");
    cmd.env_remove("BRAINGAP_DATA_DIR");
    cmd
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write fixture");
    path
}

fn json_of(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output).expect("valid JSON on stdout")
}

#[test]
fn datasets_lists_bundled_tables_and_columns() {
    braingap()
        .arg("datasets")
        .assert()
        .success()
        .stdout(predicate::str::contains("training_compute"))
        .stdout(predicate::str::contains("fp32_FLOP_per_s"))
        .stdout(predicate::str::contains("koomey"));
}

#[test]
fn fit_json_has_the_documented_keys() {
    let output = braingap()
        .args([
            "fit",
            "--data",
            "openai_2018",
            "--x",
            "date",
            "--y",
            "training_compute_FLOP",
        ])
        .args(["--filter", "in_main_chart == true", "--target", "1e23", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&output);
    for key in [
        "model",
        "n",
        "slope_log10_per_unit",
        "doubling_time_years",
        "growth_factor_per_year",
        "r2",
        "doubling_time_ci95",
        "crossover_year",
        "crossover_year_ci95",
    ] {
        assert!(report.get(key).is_some(), "missing key {key} in {report}");
    }
    assert_eq!(report["model"], "exponential");
    assert_eq!(report["n"], 10);
    assert!(report["crossover_year"].as_f64().is_some());
}

#[test]
fn fit_accepts_a_path_and_a_date_column() {
    let dir = tempfile::tempdir().unwrap();
    // Doubles every year exactly.
    let path = write(
        dir.path(),
        "trend.csv",
        "name,when,value\na,2000-01-01,1\nb,2001-01-01,2\nc,2002-01-01,4\nd,2003-01-01,8\n",
    );
    let output = braingap()
        .args([
            "fit",
            "--data",
            path.to_str().unwrap(),
            "--x",
            "when",
            "--y",
            "value",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&output);
    let doubling = report["doubling_time_years"].as_f64().unwrap();
    // Decimal years of Jan 1 are exact integers, so the doubling time is exactly 1.
    assert!((doubling - 1.0).abs() < 1e-9, "{doubling}");
}

#[test]
fn fit_text_output_and_other_models() {
    braingap()
        .args([
            "fit",
            "--data",
            "training_compute",
            "--x",
            "publication_date",
            "--y",
            "training_compute_FLOP",
        ])
        .args(["--from", "1950", "--model", "piecewise"])
        .assert()
        .success()
        .stdout(predicate::str::contains("era 1"));
    braingap()
        .args([
            "fit",
            "--data",
            "koomey",
            "--x",
            "year",
            "--y",
            "computations_per_kWh",
            "--target",
            "1e30",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("never reaches").or(predicate::str::contains("reaches")));
}

fn fails_with(args: &[&str], message: &str) {
    braingap()
        .args(args)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message));
}

#[test]
fn missing_column_is_exit_2() {
    fails_with(
        &["fit", "--data", "koomey", "--x", "year", "--y", "nope"],
        "missing column `nope`",
    );
    let dir = tempfile::tempdir().unwrap();
    // A file named like a bundled dataset is checked against that dataset's schema.
    let path = write(dir.path(), "koomey.csv", "machine,year,source\nA,1950,s\n");
    fails_with(
        &["fit", "--data", path.to_str().unwrap(), "--x", "year", "--y", "year"],
        "missing column `power_W`",
    );
}

#[test]
fn non_numeric_value_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "d.csv",
        "name,year,value\na,2000,1\nb,2001,lots\nc,2002,4\n",
    );
    fails_with(
        &["fit", "--data", path.to_str().unwrap(), "--x", "year", "--y", "value"],
        "d.csv:3:3",
    );
}

#[test]
fn negative_count_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let header = "machine,year,power_W,computations_per_s,computations_per_kWh,measured_power,source\n";
    let path = write(
        dir.path(),
        "koomey.csv",
        &format!("{header}A,1950,10,1,1,false,s\nB,1960,-3,1,1,false,s\n"),
    );
    fails_with(
        &[
            "fit",
            "--data",
            path.to_str().unwrap(),
            "--x",
            "year",
            "--y",
            "computations_per_kWh",
        ],
        "koomey.csv:3:3: column `power_W`: -3 is a count",
    );
}

#[test]
fn unparseable_date_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "d.csv",
        "name,when,value\na,2000-01-01,1\nb,2001-02-30,2\nc,2002-01-01,4\n",
    );
    fails_with(
        &["fit", "--data", path.to_str().unwrap(), "--x", "when", "--y", "value"],
        "d.csv:3:2: column `when`: `2001-02-30` is not a date",
    );
}

#[test]
fn empty_selection_is_exit_2() {
    fails_with(
        &[
            "fit",
            "--data",
            "koomey",
            "--x",
            "year",
            "--y",
            "computations_per_kWh",
            "--from",
            "2050",
            "--to",
            "2060",
        ],
        "no points left",
    );
}

#[test]
fn too_few_points_is_exit_2() {
    fails_with(
        &[
            "fit",
            "--data",
            "koomey",
            "--x",
            "year",
            "--y",
            "computations_per_kWh",
            "--from",
            "1946",
            "--to",
            "1951",
        ],
        "needs at least 3 points",
    );
}

#[test]
fn non_positive_value_in_log_fit_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "d.csv", "name,year,value\na,2000,1\nb,2001,0\nc,2002,4\n");
    fails_with(
        &["fit", "--data", path.to_str().unwrap(), "--x", "year", "--y", "value"],
        "not positive",
    );
}

#[test]
fn all_equal_x_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "d.csv", "name,year,value\na,2000,1\nb,2000,2\nc,2000,4\n");
    fails_with(
        &["fit", "--data", path.to_str().unwrap(), "--x", "year", "--y", "value"],
        "all 3 x values equal 2000",
    );
}

#[test]
fn unknown_dataset_and_bad_filter_are_exit_2() {
    fails_with(
        &["fit", "--data", "no_such_table", "--x", "a", "--y", "b"],
        "no bundled dataset",
    );
    fails_with(
        &[
            "fit",
            "--data",
            "koomey",
            "--x",
            "year",
            "--y",
            "computations_per_kWh",
            "--filter",
            "year",
        ],
        "bad filter",
    );
}

#[test]
fn data_dir_comes_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    braingap()
        .env("BRAINGAP_DATA_DIR", dir.path())
        .args(["fit", "--data", "koomey", "--x", "year", "--y", "computations_per_kWh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such file"));
}

#[test]
fn claims_lists_every_claim_with_a_verdict() {
    braingap()
        .arg("claims")
        .assert()
        .success()
        .stdout(predicate::str::contains("[supported"))
        .stdout(predicate::str::contains("300,000x"));
    let output = braingap()
        .args(["claims", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let claims = json_of(&output);
    let claims = claims.as_array().expect("array of claims");
    assert_eq!(claims.len(), 11);
    for claim in claims {
        let verdict = claim["verdict"].as_str().unwrap();
        assert!(
            ["supported", "partly", "not_supported", "cannot_be_checked"].contains(&verdict),
            "{verdict}"
        );
        assert!(!claim["evidence"].as_array().unwrap().is_empty());
    }
}

#[test]
fn targets_no_trend_can_reach_exit_2_naming_the_target() {
    for target in ["0", "-5", "NaN", "inf"] {
        braingap()
            .args(["fit", "--data", "koomey", "--x", "year", "--y", "computations_per_kWh"])
            .arg(format!("--target={target}"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("--target {target}")).and(predicate::str::contains("positive")));
    }
}

#[test]
fn a_falling_trend_reports_a_halving_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("falling.csv");
    // y halves every 2 years, with a little noise so the bootstrap has spread.
    let mut csv = String::from("year,price\n");
    for (i, wiggle) in [1.0, 1.03, 0.98, 1.02, 0.99, 1.01, 0.97, 1.0, 1.02, 0.99]
        .iter()
        .enumerate()
    {
        let year = 2000 + 2 * i;
        csv.push_str(&format!("{year},{}\n", 1e6 * 0.5f64.powi(i as i32) * wiggle));
    }
    std::fs::write(&path, csv).unwrap();
    let out = braingap()
        .args(["fit", "--x", "year", "--y", "price", "--data"])
        .arg(&path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("halving time        1.99") || text.contains("halving time        2.00"),
        "{text}"
    );
    assert!(text.contains("(a falling trend)"), "{text}");
    assert!(!text.contains("doubling time"), "{text}");
    assert!(text.contains("Theil-Sen halving"), "{text}");
}
