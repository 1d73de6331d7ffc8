//! `braingap run --profile microcircuit`: the cortical microcircuit as a benchmark like every
//! other. One verified row in `summary.csv` (median seconds per biological millisecond, exact
//! synaptic events per call), its samples, `populations.csv` and `microcircuit.csv`; the
//! consumers of a run see it; bad options exit 2 naming the option, with nothing written.

mod common;

use common::{braingap, cell, read_csv, run_dirs};
use std::path::Path;

fn run_small(results: &Path, extra: &[&str]) -> std::process::Output {
    braingap()
        .args([
            "run",
            "--profile",
            "microcircuit",
            "--scale",
            "0.02",
            "--k-scale",
            "1",
            "--threads",
            "2",
            "--no-report",
        ])
        .args(extra)
        .arg("--results")
        .arg(results)
        .output()
        .unwrap()
}

#[test]
fn a_small_microcircuit_is_a_verified_row_with_its_populations() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    // --bio-time keeps the profile's scatter-adds to 49 one-call samples (seconds, not a minute).
    let out = run_small(&results, &["--seed", "7", "--bio-time", "50"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let runs = run_dirs(&results);
    assert_eq!(runs.len(), 1);
    let (header, all_rows) = read_csv(&runs[0].join("summary.csv"));
    // The profile's limits of spike delivery: three verified scatter-adds.
    let limits: Vec<_> = all_rows
        .iter()
        .filter(|r| cell(&header, r, "kernel") == "scatter_add")
        .collect();
    assert_eq!(limits.len(), 3, "{all_rows:?}");
    for r in &limits {
        assert_eq!(cell(&header, r, "status"), "ok", "{}", cell(&header, r, "reason"));
        assert!(cell(&header, r, "verification").contains("identical to the sequential reference"));
        let events: f64 = cell(&header, r, "events_per_call").parse().unwrap();
        assert_eq!(events, 2_097_152.0);
    }
    let rows: Vec<_> = all_rows
        .iter()
        .filter(|r| cell(&header, r, "kernel") == "microcircuit")
        .collect();
    // --scale picks one scale: the profile's two collapse into one benchmark.
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = rows[0];
    assert_eq!(cell(&header, row, "kernel"), "microcircuit");
    assert_eq!(cell(&header, row, "status"), "ok", "{}", cell(&header, row, "reason"));
    assert_eq!(
        cell(&header, row, "benchmark"),
        "microcircuit/f64/scale=0.02,k_scale=1,poisson=0,seed=7"
    );
    assert!(
        cell(&header, row, "verification").contains("identical to the naive reference simulator"),
        "{}",
        cell(&header, row, "verification")
    );
    assert_eq!(cell(&header, row, "event_kind"), "synaptic_events");
    let median: f64 = cell(&header, row, "median_s").parse().unwrap();
    let events: f64 = cell(&header, row, "events_per_call").parse().unwrap();
    assert!(median > 0.0 && events > 0.0, "median {median}, events {events}");

    let (pop_header, pops) = read_csv(&runs[0].join("populations.csv"));
    assert_eq!(pops.len(), 8);
    let names: Vec<&str> = pops.iter().map(|r| cell(&pop_header, r, "population")).collect();
    assert_eq!(names, ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]);
    let neurons: u64 = pops
        .iter()
        .map(|r| cell(&pop_header, r, "neurons").parse::<u64>().unwrap())
        .sum();
    // np.round(full population sizes × 0.02), summed: 414 + 117 + 438 + 110 + 97 + 21 + 288 + 59.
    assert_eq!(neurons, 1544);
    let spikes: u64 = pops
        .iter()
        .map(|r| cell(&pop_header, r, "spikes").parse::<u64>().unwrap())
        .sum();
    assert!(spikes > 0, "the network fires");
    // Reduced scale: no reference rates are claimed.
    assert!(pops
        .iter()
        .all(|r| cell(&pop_header, r, "reference_rate_hz").is_empty()));

    let (mc_header, mc) = read_csv(&runs[0].join("microcircuit.csv"));
    assert_eq!(mc.len(), 1);
    assert_eq!(cell(&mc_header, &mc[0], "simulated_bio_s"), "0.05", "--bio-time 50");
    // Peak RSS: at least the simulator's own estimate of what it keeps after connecting.
    let rss: f64 = cell(&mc_header, &mc[0], "peak_rss_bytes").parse().unwrap();
    let estimate: f64 = cell(&mc_header, &mc[0], "memory_estimate_bytes").parse().unwrap();
    assert!(
        rss >= 0.5 * estimate && rss < 50.0 * estimate + 1e9,
        "{rss} vs {estimate}"
    );
    assert!(cell(&mc_header, &mc[0], "peak_rss_scope").contains("VmHWM"));
    assert_eq!(cell(&mc_header, &mc[0], "neurons"), "1544");
    assert_eq!(cell(&mc_header, &mc[0], "bytes_per_synapse"), "8");
    let recurrent: u64 = cell(&mc_header, &mc[0], "recurrent_events").parse().unwrap();
    let rtf: f64 = cell(&mc_header, &mc[0], "real_time_factor").parse().unwrap();
    assert!(recurrent > 0 && rtf > 0.0);
    assert_eq!(cell(&mc_header, &mc[0], "spikes"), spikes.to_string());

    // The raster: 100 ms after the timed phase, every spike with its population.
    let (sp_header, sp) = read_csv(&runs[0].join("spikes.csv"));
    assert!(!sp.is_empty(), "the raster window has spikes");
    let bounds = [0u64, 414, 531, 969, 1079, 1176, 1197, 1485, 1544];
    for r in &sp {
        let neuron: u64 = cell(&sp_header, r, "neuron").parse().unwrap();
        let t: f64 = cell(&sp_header, r, "time_ms").parse().unwrap();
        assert!(t > 0.0 && t <= 100.0, "{t}");
        let pop = bounds.iter().rposition(|&b| neuron >= b).unwrap();
        assert_eq!(cell(&sp_header, r, "population"), names[pop], "neuron {neuron}");
    }

    // Every consumer of a run sees it.
    let id = runs[0].file_name().unwrap().to_str().unwrap().to_string();
    for args in [vec!["runs"], vec!["history"], vec!["export", "--format", "bmf"]] {
        let out = braingap().args(&args).arg("--results").arg(&results).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("microcircuit") || text.contains(&id),
            "{args:?} does not show the microcircuit run:\n{text}"
        );
    }
    let report = dir.path().join("report");
    let out = braingap()
        .args(["report", "--results"])
        .arg(&results)
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("Simulating cortex"));
    assert!(report.join("figures/cortex-rates.svg").is_file());
    assert!(report.join("figures/cortex-raster.svg").is_file());
    assert!(report.join("figures/cortex-delivery.svg").is_file());
    assert!(html.contains("real-time factor"), "the section states the measured RTF");
    assert!(
        html.contains("human brain: 8.6e10 neurons, 1.5e14 synapses") && html.contains("Projection (MODELED"),
        "the section projects to a human brain, labelled modeled"
    );

    // --dry-run sizes the planned networks and projects from this measured run; writes nothing.
    let out = braingap()
        .args(["run", "--profile", "microcircuit", "--dry-run", "--results"])
        .arg(&results)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("77169 neurons, 298880968 synapses (exact)"), "{text}");
    assert!(text.contains(&format!("From run {id}")), "{text}");
    assert!(
        text.contains("human brain: 8.6e10 neurons") && text.contains("MODELED"),
        "{text}"
    );
    assert_eq!(run_dirs(&results).len(), 1, "a dry run writes no run");
}

#[test]
fn a_dry_run_on_an_empty_store_sizes_the_networks_and_says_why_it_cannot_project() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let out = braingap()
        .args([
            "run",
            "--profile",
            "microcircuit",
            "--dry-run",
            "--threads",
            "2",
            "--results",
        ])
        .arg(&results)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("7717 neurons, 29888097 synapses (exact)"), "{text}");
    assert!(text.contains("No projection: no run in"), "{text}");
    assert!(!results.exists(), "nothing written");
    let out = braingap()
        .args(["run", "--profile", "peers", "--dry-run", "--results"])
        .arg(&results)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dry-run"));
}

#[test]
fn the_same_seed_gives_the_same_network_and_spikes_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut spikes = Vec::new();
    for threads in ["1", "2"] {
        let results = dir.path().join(format!("results-{threads}"));
        let out = braingap()
            .args([
                "run",
                "--profile",
                "microcircuit",
                "--scale",
                "0.02",
                "--threads",
                threads,
                "--filter",
                "microcircuit",
                "--bio-time",
                "30",
                "--no-report",
            ])
            .arg("--results")
            .arg(&results)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let run = &run_dirs(&results)[0];
        let (header, rows) = read_csv(&run.join("summary.csv"));
        // The first 20 ms are verified spike for spike against the (one-thread) reference
        // either way, so both runs emitted the same spikes there.
        let row = rows
            .iter()
            .find(|r| cell(&header, r, "kernel") == "microcircuit")
            .expect("a microcircuit row");
        let verification = cell(&header, row, "verification").to_string();
        assert!(verification.starts_with("all "), "{verification}");
        spikes.push(verification);
    }
    assert_eq!(spikes[0], spikes[1], "the same first 20 ms whatever the thread count");
}

#[test]
fn bad_microcircuit_options_name_the_option_and_write_nothing() {
    for (args, named) in [
        (vec!["--profile", "microcircuit", "--scale", "0"], "--scale 0"),
        (vec!["--profile", "microcircuit", "--scale", "-1"], "--scale -1"),
        (vec!["--profile", "microcircuit", "--scale", "NaN"], "--scale NaN"),
        (vec!["--profile", "microcircuit", "--scale", "2"], "--scale 2"),
        (vec!["--profile", "microcircuit", "--k-scale", "0"], "--k-scale 0"),
        (vec!["--profile", "microcircuit", "--input", "thalamus"], "--input"),
        (vec!["--profile", "peers", "--scale", "0.1"], "--scale"),
        (vec!["--profile", "microcircuit", "--bio-time", "0"], "--bio-time 0"),
        (vec!["--profile", "microcircuit", "--bio-time", "-5"], "--bio-time -5"),
        (
            vec!["--profile", "microcircuit", "--bio-time", "10.5"],
            "--bio-time 10.5",
        ),
        (vec!["--profile", "quick", "--bio-time", "10"], "--bio-time"),
        (
            vec!["--profile", "microcircuit", "--scale", "0.0005", "--threads", "64"],
            "--threads 64",
        ),
        (
            vec!["--profile", "microcircuit", "--max-memory-gib", "0.01"],
            "GiB of buffers but only 0.010 GiB",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results");
        let out = braingap()
            .arg("run")
            .args(&args)
            .args(["--no-report", "--results"])
            .arg(&results)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{args:?} should name {named}: {stderr}");
        assert!(!results.join("runs").exists(), "{args:?} wrote a run");
    }
}
