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
        .stdout(predicate::str::contains("koomey"))
        .stdout(predicate::str::contains(
            "  snapshot: Epoch AI Notable AI Models, 2026-01-26",
        ));
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
    // A bundled table (named by name) is checked against its schema, wherever the data
    // directory is.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "koomey.csv", "machine,year,source\nA,1950,s\n");
    braingap()
        .env("BRAINGAP_DATA_DIR", dir.path())
        .args(["fit", "--data", "koomey", "--x", "year", "--y", "year"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("koomey.csv:1: missing column `power_W`"));
}

#[test]
fn a_file_named_like_a_bundled_table_is_the_users_file() {
    // issue #20 item 9: a user's own koomey.csv is read as given, not held to the bundled
    // `koomey` schema (which would demand power_W, computations_per_kWh, ...).
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "koomey.csv",
        "name,year,value\na,2000,1\nb,2001,2\nc,2002,4\nd,2003,8\n",
    );
    let output = braingap()
        .args([
            "fit",
            "--data",
            path.to_str().unwrap(),
            "--x",
            "year",
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
    assert!(
        (report["doubling_time_years"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "{report}"
    );
    assert!(report["snapshot"]["dataset"].is_null(), "{report}");
    assert_eq!(report["snapshot"]["rows"], 4);
    braingap()
        .args(["fit", "--data", path.to_str().unwrap(), "--x", "year", "--y", "value"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "data snapshot       a file given by path (no bundled snapshot), 4 rows",
        ));
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
    write(
        dir.path(),
        "koomey.csv",
        &format!("{header}A,1950,10,1,1,false,s\nB,1960,-3,1,1,false,s\n"),
    );
    braingap()
        .env("BRAINGAP_DATA_DIR", dir.path())
        .args(["fit", "--data", "koomey", "--x", "year", "--y", "computations_per_kWh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "koomey.csv:3:3: column `power_W`: -3 is a count",
        ));
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

#[test]
fn a_misspelled_filter_value_names_the_filter_and_the_values() {
    // A boolean column: the value is type-checked and the message lists what the column
    // holds; it does not blame the range or the columns.
    let assert = braingap()
        .args(["fit", "--data", "networks", "--x", "year", "--y", "neurons_count"])
        .args(["--filter", "in_fig11_trend_fit == ture"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("bad filter `in_fig11_trend_fit == ture`: column `in_fig11_trend_fit` holds true or false (false, true); `ture` is neither"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("no points left") && !stderr.contains("missing column"),
        "{stderr}"
    );

    // A text column (a file given by path has no schema): the clause that matches nothing
    // is named with the values the column holds.
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "d.csv",
        "name,year,value,kind\na,2000,1,gpu\nb,2001,2,cpu\nc,2002,4,gpu\n",
    );
    fails_with(
        &[
            "fit",
            "--data",
            path.to_str().unwrap(),
            "--x",
            "year",
            "--y",
            "value",
            "--filter",
            "year >= 2000 && kind == GPU",
        ],
        "d.csv: filter `year >= 2000 && kind == GPU`: `kind == GPU` matches no row; column `kind` holds `cpu`, `gpu`",
    );

    // Number and date columns take numbers and dates only.
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
            "year > nineteen",
        ],
        "column `year` holds numbers (values from 1946 to 2009); `nineteen` is not a number",
    );
    fails_with(
        &[
            "fit",
            "--data",
            "training_compute",
            "--x",
            "publication_date",
            "--y",
            "training_compute_FLOP",
            "--filter",
            "publication_date >= last year",
        ],
        "neither a date (YYYY-MM-DD) nor a decimal year",
    );
}

#[test]
fn rows_marked_not_for_fitting_are_left_out_and_said_so() {
    let output = braingap()
        .args([
            "fit",
            "--data",
            "species",
            "--x",
            "neurons_count",
            "--y",
            "brain_power_W",
            "--model",
            "power",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&output);
    let labels: Vec<&str> = report["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert!(!labels.contains(&"human_round"), "{labels:?}");
    assert!(labels.contains(&"human"), "{labels:?}");
    assert_eq!(report["rows"]["not_for_fitting"], serde_json::json!(["human_round"]));
    braingap()
        .args([
            "fit",
            "--data",
            "species",
            "--x",
            "neurons_count",
            "--y",
            "brain_power_W",
            "--model",
            "power",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "1 not for fitting (human_round; name it in --filter to include it)",
        ));
}

/// Exact counts of the rows of `data/ml_hardware.csv` with an empty `column`.
fn empty_cells(file: &str, column: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(file);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let at = reader.headers().unwrap().iter().position(|h| h == column).unwrap();
    reader
        .records()
        .filter(|r| r.as_ref().unwrap()[at].trim().is_empty())
        .count()
}

#[test]
fn rows_dropped_for_a_missing_date_or_value_are_counted() {
    let output = braingap()
        .args([
            "fit",
            "--data",
            "ml_hardware",
            "--x",
            "release_date",
            "--y",
            "memory_bandwidth_bytes_per_s",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&output);
    let rows = &report["rows"];
    let undated = empty_cells("ml_hardware.csv", "release_date");
    assert!(undated > 0);
    assert_eq!(rows["missing_x"], undated);
    assert_eq!(rows["rows_in_table"], 170);
    let sum: u64 = [
        "filtered_out",
        "missing_x",
        "missing_y",
        "outside_range",
        "below_top_k",
        "kept",
    ]
    .iter()
    .map(|k| rows[k].as_u64().unwrap())
    .sum::<u64>()
        + rows["not_for_fitting"].as_array().unwrap().len() as u64;
    assert_eq!(sum, 170, "{rows}");
    assert_eq!(rows["kept"], report["n"]);
    let missing_y = rows["missing_y"].as_u64().unwrap();
    assert!(missing_y > 0, "{rows}");
    braingap()
        .args(["fit", "--data", "ml_hardware", "--x", "release_date", "--y", "memory_bandwidth_bytes_per_s"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "rows                170 rows in the file; {undated} dropped for a missing release_date; {missing_y} dropped for a missing memory_bandwidth_bytes_per_s; {} fitted",
            report["n"]
        )));
}

#[test]
fn each_fit_states_its_data_snapshot() {
    let output = braingap()
        .args([
            "fit",
            "--data",
            "training_compute",
            "--x",
            "publication_date",
            "--y",
            "training_compute_FLOP",
            "--from",
            "2010",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&output);
    assert_eq!(report["snapshot"]["dataset"], "training_compute");
    assert_eq!(report["snapshot"]["date"], "2026-01-26");
    assert_eq!(report["snapshot"]["rows"], 515);
    braingap()
        .args([
            "fit",
            "--data",
            "training_compute",
            "--x",
            "publication_date",
            "--y",
            "training_compute_FLOP",
            "--from",
            "2010",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "data snapshot       training_compute: Epoch AI Notable AI Models, snapshot 2026-01-26; 515 rows",
        ));
}

#[test]
fn studies_lists_each_published_analysis_with_a_verdict() {
    let output = braingap()
        .args(["studies", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let studies = json_of(&output);
    let studies = studies.as_array().expect("array of studies");
    let names: Vec<&str> = studies.iter().map(|s| s["study"]["name"].as_str().unwrap()).collect();
    for name in [
        "goodfellow-2016-neurons",
        "openai-2018",
        "koomey-2011",
        "epoch-2024-post-2010",
        "hobbhahn-besiroglu-2022-ml-gpus",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    for study in studies {
        for key in ["source", "selection_rule", "model", "uncertainty", "published"] {
            assert!(study["study"].get(key).is_some(), "{key} missing in {study}");
        }
        let verdict = study["verdict"].as_str().unwrap();
        assert!(
            [
                "reproduced_within_ci",
                "differs_explained_by_data_revision",
                "differs_unexplained"
            ]
            .contains(&verdict),
            "{verdict}"
        );
        assert!(study["snapshot"]["date"].as_str().is_some(), "{study}");
    }
    braingap()
        .arg("studies")
        .assert()
        .success()
        .stdout(predicate::str::contains("openai-2018: Amodei & Hernandez (2018)"))
        .stdout(predicate::str::contains(
            "  published           doubling 3.40 months  (no interval stated)",
        ))
        .stdout(predicate::str::contains(
            "  verdict             reproduced within CI: the published doubling 3.40 months lies inside braingap's",
        ))
        .stdout(predicate::str::contains(
            "  published           doubling 2.07 years  CI [1.54, 3.13] (95 %)",
        ))
        .stdout(predicate::str::contains("  braingap to 2021-12-31  doubling"));
}

#[test]
fn fit_study_runs_the_studys_selection() {
    let output = braingap()
        .args(["fit", "--study", "koomey-2011", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let value = json_of(&output);
    assert_eq!(value["fit"]["n"], 80);
    assert_eq!(value["study"]["study"]["published"], 1.57);
    let doubling = value["fit"]["doubling_time_years"].as_f64().unwrap();
    assert_eq!(value["study"]["braingap"]["value"].as_f64().unwrap(), doubling);
    braingap()
        .args(["fit", "--study", "koomey-2011"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "exponential fit of computations_per_kWh on year",
        ))
        .stdout(predicate::str::contains(
            "koomey-2011: Koomey, Berard, Sanchez & Wong (2011)",
        ));
    fails_with(
        &["fit", "--study", "moore-1965"],
        "--study moore-1965: no such study (studies: goodfellow-2016-neurons",
    );
    braingap()
        .args(["fit", "--study", "koomey-2011", "--data", "koomey"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
    braingap()
        .args(["fit", "--x", "year", "--y", "value"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--data"));
}

/// docs/claims.md lists every entry of the seed-claims catalogue with the verdict
/// `braingap claims --all` gives it now, and the counts line matches.
#[test]
fn the_claims_page_is_in_step_with_the_verdicts() {
    let none = tempfile::tempdir().unwrap();
    let output = braingap()
        .args(["claims", "--all", "--json", "--results"])
        .arg(none.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let judged = json_of(&output);
    let judged = judged.as_array().unwrap();
    assert!(judged.len() >= 100, "{}", judged.len());
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/claims.md")).unwrap();
    let rows: Vec<(u64, String)> = page
        .lines()
        .filter(|l| l.starts_with("| ") && l.split(" | ").nth(1).is_some_and(|c| c.starts_with('`')))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let entry = cells[0].trim_start_matches("| ").parse().unwrap();
            let verdict = cells[5].trim_matches('*').replace(' ', "_");
            (entry, verdict)
        })
        .collect();
    assert_eq!(rows.len(), judged.len(), "docs/claims.md rows");
    for (row, j) in rows.iter().zip(judged) {
        assert_eq!(row.0, j["entry"]["entry"].as_u64().unwrap());
        assert_eq!(row.1, j["verdict"].as_str().unwrap(), "entry {}", row.0);
    }
    let count = |v: &str| judged.iter().filter(|j| j["verdict"] == v).count();
    let summary = format!(
        "{} entries: {} supported, {} partly, {} not supported, {} cannot be checked.",
        judged.len(),
        count("supported"),
        count("partly"),
        count("not_supported"),
        count("cannot_be_checked")
    );
    assert!(page.contains(&summary), "docs/claims.md should say: {summary}");
}
