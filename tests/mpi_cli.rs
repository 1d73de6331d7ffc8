//! Integration tests of the MPI suite: `mpirun --allow-run-as-root --oversubscribe -np N
//! braingap run --suite collectives` on this one machine (feature `mpi`; Open MPI from
//! scripts/setup-mpi.sh), the merge of per-rank files including a rank that dies, SLURM's
//! environment (set by the test; tests/slurm_cli.rs runs a real sbatch job), and what a build
//! without the feature says.

mod common;

use common::braingap;
use predicates::prelude::*;

#[cfg(not(feature = "mpi"))]
#[test]
fn without_the_mpi_feature_the_suite_says_how_to_build_it() {
    let tmp = tempfile::tempdir().unwrap();
    braingap()
        .args(["run", "--suite", "collectives", "--results"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--profile collectives"))
        .stderr(predicate::str::contains("--features mpi"));
}

#[test]
fn bad_message_sizes_name_the_argument() {
    braingap()
        .args(["run", "--suite", "collectives", "--max-message", "4MB"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--max-message"))
        .stderr(predicate::str::contains("unknown unit"));
}

#[test]
fn merging_a_run_that_does_not_exist_fails_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    braingap()
        .args(["merge-ranks", "latest", "--results"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no run latest"));
}

#[cfg(feature = "mpi")]
mod with_mpi {
    use super::*;
    use common::{cell, read_csv, run_dirs};
    use std::path::Path;
    use std::process::Command;

    /// `mpirun -np N braingap ARGS...` with `-x` environment settings for the ranks only
    /// (SLURM variables in mpirun's own environment would make it try to launch via srun).
    fn mpirun(ranks: usize, rank_env: &[&str], args: &[&str], results: &Path) -> std::process::Output {
        let mut cmd = Command::new("mpirun");
        cmd.args(["--allow-run-as-root", "--oversubscribe", "-np", &ranks.to_string()]);
        for e in rank_env {
            cmd.args(["-x", e]);
        }
        cmd.arg(env!("CARGO_BIN_EXE_braingap"))
            .args(args)
            .arg("--results")
            .arg(results)
            .env("NO_COLOR", "1");
        cmd.output()
            .expect("mpirun runs (bash scripts/setup-mpi.sh installs it)")
    }

    fn collectives(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
        read_csv(&dir.join("collectives.csv"))
    }

    fn meta(dir: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap()
    }

    fn check_sweep(dir: &Path, ranks: usize, expected_rows: usize) {
        let (h, rows) = collectives(dir);
        assert_eq!(rows.len(), expected_rows);
        for row in &rows {
            let name = cell(&h, row, "benchmark");
            assert_eq!(cell(&h, row, "status"), "ok", "{name}: {}", cell(&h, row, "reason"));
            assert_eq!(cell(&h, row, "ranks"), ranks.to_string());
            assert_eq!(cell(&h, row, "ranks_reported"), ranks.to_string());
            assert!(cell(&h, row, "verification").contains("exact"), "{name}");
            let algbw: f64 = cell(&h, row, "algbw_gbytes_per_s").parse().unwrap();
            let busbw: f64 = cell(&h, row, "busbw_gbytes_per_s").parse().unwrap();
            let factor: f64 = cell(&h, row, "bus_factor").parse().unwrap();
            let time: f64 = cell(&h, row, "time_median_s").parse().unwrap();
            let bytes: f64 = cell(&h, row, "bytes").parse().unwrap();
            assert!(time > 0.0 && algbw > 0.0, "{name}");
            assert!((algbw - bytes / time / 1e9).abs() <= 1e-9 * algbw.max(1.0), "{name}");
            assert!((busbw - algbw * factor).abs() <= 1e-9 * busbw.max(1.0), "{name}");
        }
        for rank in 0..ranks {
            assert!(
                dir.join(format!("ranks/rank-{rank:05}.json")).is_file(),
                "rank {rank} wrote its file"
            );
        }
        let m = meta(dir);
        assert_eq!(m["status"], "complete");
        assert_eq!(m["backend"], "mpi");
        assert_eq!(m["distributed"]["world_size"], ranks);
        assert!(m["device"].as_str().unwrap().contains("MPI"));
    }

    #[test]
    fn two_ranks_run_every_collective_verified_and_merged() {
        let tmp = tempfile::tempdir().unwrap();
        let out = mpirun(
            2,
            &[],
            &[
                "run",
                "--suite",
                "collectives",
                "--max-message",
                "16KiB",
                "--samples",
                "3",
                "--no-report",
            ],
            tmp.path(),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("busbw_GB/s") && stdout.contains("complete"), "{stdout}");
        let dirs = run_dirs(tmp.path());
        assert_eq!(dirs.len(), 1, "one run for both ranks");
        // 8 B .. 16 KiB is 12 sizes; every collective fits 2 ranks at 8 B.
        check_sweep(&dirs[0], 2, 5 * 12);
        let (h, rows) = read_csv(&dirs[0].join("summary.csv"));
        assert_eq!(rows.len(), 60);
        assert!(rows
            .iter()
            .all(|r| cell(&h, r, "backend") == "mpi" && cell(&h, r, "threads") == "2"));
        braingap()
            .args(["runs", "--results"])
            .arg(tmp.path())
            .assert()
            .success()
            .stdout(predicate::str::contains("2 ranks on 1 node(s)"));
    }

    #[test]
    fn four_ranks_skip_sizes_below_one_element_per_rank() {
        let tmp = tempfile::tempdir().unwrap();
        let out = mpirun(
            4,
            &[],
            &[
                "run",
                "--suite",
                "collectives",
                "--max-message",
                "4KiB",
                "--samples",
                "2",
                "--no-report",
            ],
            tmp.path(),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // 8 B .. 4 KiB is 10 sizes: all for all-reduce and broadcast; 9 (from 16 B) for
        // all-gather, reduce-scatter and all-to-all.
        check_sweep(&run_dirs(tmp.path())[0], 4, 2 * 10 + 3 * 9);
    }

    #[test]
    fn a_rank_that_dies_leaves_an_incomplete_run_with_the_other_ranks_data() {
        let tmp = tempfile::tempdir().unwrap();
        let out = mpirun(
            2,
            &["BRAINGAP_MPI_DIE=1:3"],
            &[
                "run",
                "--suite",
                "collectives",
                "--max-message",
                "1KiB",
                "--samples",
                "2",
                "--no-report",
            ],
            tmp.path(),
        );
        assert!(!out.status.success(), "mpirun reports the dead rank");
        let dir = &run_dirs(tmp.path())[0];
        assert_eq!(meta(dir)["status"], "running", "rank 0 was stopped before merging");
        braingap()
            .args(["merge-ranks", "latest", "--results"])
            .arg(tmp.path())
            .assert()
            .code(1)
            .stdout(predicate::str::contains("incomplete"))
            .stdout(
                predicate::str::contains("unfinished rank(s) [0, 1]")
                    .or(predicate::str::contains("unfinished rank(s) [1]")),
            );
        let m = meta(dir);
        assert_eq!(m["status"], "incomplete");
        assert!(m["distributed"]["unfinished_ranks"]
            .as_array()
            .unwrap()
            .contains(&1.into()));
        let (h, rows) = collectives(dir);
        assert!(rows.len() >= 3, "the benchmarks finished before the death are kept");
        for row in &rows[..3] {
            assert_eq!(cell(&h, row, "ranks_reported"), "2");
            assert_eq!(cell(&h, row, "status"), "ok");
        }
        braingap()
            .args(["runs", "--results"])
            .arg(tmp.path())
            .assert()
            .success()
            .stdout(predicate::str::contains("incomplete"));
    }

    #[test]
    fn slurm_job_node_and_rank_are_recorded() {
        let tmp = tempfile::tempdir().unwrap();
        let out = mpirun(
            2,
            &[
                "SLURM_JOB_ID=4242",
                "SLURM_JOB_NAME=braingap-test",
                "SLURM_NODEID=0",
                "SLURM_JOB_NUM_NODES=1",
                "SLURM_JOB_NODELIST=localhost",
            ],
            &[
                "run",
                "--suite",
                "collectives",
                "--filter",
                "^allreduce/",
                "--max-message",
                "64",
                "--samples",
                "2",
                "--no-report",
            ],
            tmp.path(),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let m = meta(&run_dirs(tmp.path())[0]);
        let placements = m["distributed"]["placements"].as_array().unwrap();
        assert_eq!(placements.len(), 2);
        for p in placements {
            assert_eq!(p[1]["slurm"]["job_id"], "4242");
            assert_eq!(p[1]["slurm"]["node_id"], 0);
        }
        braingap()
            .args(["runs", "--results"])
            .arg(tmp.path())
            .assert()
            .success()
            .stdout(predicate::str::contains("SLURM job 4242"));
    }

    #[test]
    fn data_parallel_step_matches_the_single_process_step_and_scales_on_1_2_4_ranks() {
        let tmp = tempfile::tempdir().unwrap();
        let report = tmp.path().join("report");
        let out = mpirun(
            4,
            &[],
            &[
                "run",
                "--suite",
                "dataparallel",
                "--samples",
                "2",
                "--threads",
                "1",
                "--report-dir",
                report.to_str().unwrap(),
            ],
            tmp.path(),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let dir = &run_dirs(tmp.path())[0];
        let (h, rows) = read_csv(&dir.join("scaling.csv"));
        assert_eq!(rows.len(), 6, "strong and weak on 1, 2 and 4 ranks");
        for row in &rows {
            let name = cell(&h, row, "benchmark");
            assert_eq!(cell(&h, row, "status"), "ok", "{name}: {}", cell(&h, row, "reason"));
            assert_eq!(cell(&h, row, "model"), "mlp_784_300_100_10");
            let ranks: usize = cell(&h, row, "ranks").parse().unwrap();
            assert_eq!(cell(&h, row, "ranks_reported"), ranks.to_string());
            let per_rank: usize = cell(&h, row, "per_rank_batch").parse().unwrap();
            let global: usize = cell(&h, row, "global_batch").parse().unwrap();
            assert_eq!(per_rank * ranks, global, "{name}");
            match cell(&h, row, "mode") {
                "strong" => assert_eq!(global, 256),
                _ => assert_eq!(per_rank, 64),
            }
            // The check's relative difference is written out; it must be within 1e-5.
            let verification = cell(&h, row, "verification");
            let relative: f64 = verification
                .split("relative ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(relative <= 1e-5, "{name}: {verification}");
            let step: f64 = cell(&h, row, "step_median_s").parse().unwrap();
            let efficiency: f64 = cell(&h, row, "efficiency").parse().unwrap();
            assert!(step > 0.0 && efficiency > 0.0, "{name}");
            if ranks == 1 {
                assert_eq!(efficiency, 1.0);
            }
        }
        let (h, rows) = read_csv(&dir.join("summary.csv"));
        assert_eq!(rows.len(), 18, "step, compute and all-reduce rows per configuration");
        assert!(rows.iter().any(|r| cell(&h, r, "kernel") == "dataparallel_allreduce"));
        for figure in ["dataparallel_efficiency.png", "dataparallel_split.png"] {
            assert!(report.join("figures").join(figure).is_file(), "{figure}");
        }
    }

    /// A run's summary parameters, `microcircuit.csv` (header, rows) and spikes per population.
    type MicrocircuitRow = (String, Vec<String>, Vec<Vec<String>>, Vec<(String, u64)>);

    /// The microcircuit row of a run.
    fn microcircuit_row(results: &Path) -> MicrocircuitRow {
        let dirs = run_dirs(results);
        assert_eq!(dirs.len(), 1);
        let (h, rows) = read_csv(&dirs[0].join("summary.csv"));
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(cell(&h, &rows[0], "status"), "ok", "{}", cell(&h, &rows[0], "reason"));
        let params = cell(&h, &rows[0], "params").to_string();
        let (mh, mrows) = read_csv(&dirs[0].join("microcircuit.csv"));
        let (ph, prows) = read_csv(&dirs[0].join("populations.csv"));
        let pops = prows
            .iter()
            .map(|r| {
                (
                    cell(&ph, r, "population").to_string(),
                    cell(&ph, r, "spikes").parse().unwrap(),
                )
            })
            .collect();
        (params, mh, mrows, pops)
    }

    /// One process and 2 MPI ranks simulate the same microcircuit (same seed, same calls):
    /// identical spike fingerprints and spikes per population.
    #[test]
    fn microcircuit_over_two_ranks_is_bit_identical_to_one_process() {
        let tmp = tempfile::tempdir().unwrap();
        let args = [
            "run",
            "--profile",
            "microcircuit",
            "--filter",
            "microcircuit",
            "--no-ceilings",
            "--bio-time",
            "201",
            "--scale",
            "0.02",
            "--k-scale",
            "1",
            "--seed",
            "7",
            "--threads",
            "1",
            "--no-report",
        ];
        let one_dir = tmp.path().join("one");
        let one = braingap().args(args).arg("--results").arg(&one_dir).output().unwrap();
        assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
        let two_dir = tmp.path().join("two");
        let two = mpirun(2, &[], &args, &two_dir);
        assert!(two.status.success(), "{}", String::from_utf8_lossy(&two.stderr));
        assert!(String::from_utf8_lossy(&two.stdout).contains("over 2 MPI ranks"));

        let (p1, h1, m1, pops1) = microcircuit_row(&one_dir);
        let (p2, h2, m2, pops2) = microcircuit_row(&two_dir);
        assert!(!p1.contains("ranks"), "{p1}");
        assert!(p2.contains("\"ranks\":2"), "{p2}");
        assert_eq!(cell(&h1, &m1[0], "ranks"), "1");
        assert_eq!(cell(&h2, &m2[0], "ranks"), "2");
        for column in ["simulated_bio_s", "neurons", "synapses", "spikes", "recurrent_events"] {
            assert_eq!(cell(&h1, &m1[0], column), cell(&h2, &m2[0], column), "{column}");
        }
        assert_eq!(
            cell(&h1, &m1[0], "simulated_bio_s"),
            "0.201",
            "1 warm-up call + 200 samples"
        );
        let fingerprint = cell(&h1, &m1[0], "spike_fingerprint");
        assert_eq!(fingerprint.len(), 16);
        assert_eq!(fingerprint, cell(&h2, &m2[0], "spike_fingerprint"));
        assert_eq!(pops1, pops2);
        assert!(pops1.iter().map(|(_, n)| n).sum::<u64>() > 100, "{pops1:?}");
    }

    #[test]
    fn microcircuit_with_more_parts_than_blocks_names_threads_and_exits_2() {
        let tmp = tempfile::tempdir().unwrap();
        // Scale 0.02 has 16 blocks of 128 neurons: 2 ranks × 9 threads are too many parts.
        let out = mpirun(
            2,
            &[],
            &[
                "run",
                "--profile",
                "microcircuit",
                "--scale",
                "0.02",
                "--threads",
                "9",
                "--no-report",
            ],
            tmp.path(),
        );
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--threads 9"), "{stderr}");
        assert!(stderr.contains("blocks of 128"), "{stderr}");
        assert!(run_dirs(tmp.path()).is_empty());
    }
}
