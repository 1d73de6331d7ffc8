//! Shared fixtures of the report tests: runs made in-process with the fake backend (no CLI
//! needed), made deterministic (fixed run id, start time and machine), and hand-filled
//! reference data for the history sections.
#![allow(dead_code)]

use braingap::backends::fake::FakeBackend;
use braingap::kernels::registry::{self, Profile, RegistryContext, SimdLevel};
use braingap::kernels::BenchSpec;
use braingap::measure::{run_benchmarks, Observer, RunConfig};
use braingap::meters::MeterSet;
use braingap::report::history::{
    ClaimRow, FitRow, HistoryPanel, HistoryPoint, MachineMark, ProjectionRow, ReferenceLevel, References, TrendLine,
};
use braingap::report::measured::brain_energy_reference;
use braingap::store::{RunInfo, RunMeta, Store, SCHEMA_VERSION};
use std::path::Path;

struct Quiet;
impl Observer for Quiet {}

/// A fixed machine fingerprint (JSON as `meta.machine` stores it).
pub fn machine_json(fingerprint: &str) -> serde_json::Value {
    serde_json::json!({
        "cpu_model": {"value": "Fixture CPU <b>9000</b> @ 3.0GHz", "source": "test fixture"},
        "vendor": {"value": "GenuineFixture", "source": "test fixture"},
        "physical_cores": {"value": 2, "source": "test fixture"},
        "logical_cores": 2,
        "max_frequency_mhz": {"value": null, "source": "no cpufreq in the fixture"},
        "measured_frequency_mhz": {"value": 3000.0, "source": "fixture"},
        "memory_total_bytes": 8589934592u64,
        "simd_level": "avx512",
        "caches": [
            {"level": 1, "kind": "Data", "size_bytes": 49152, "instances": 2},
            {"level": 1, "kind": "Instruction", "size_bytes": 32768, "instances": 2},
            {"level": 2, "kind": "Unified", "size_bytes": 2097152, "instances": 2},
            {"level": 3, "kind": "Unified", "size_bytes": 33554432, "instances": 1}
        ],
        "theoretical_peaks": [
            {"dtype": "f32", "flops_per_s": 1.92e11, "formula": "2 cores × 3.0 GHz × 16 lanes × 2 FMA × 2"},
            {"dtype": "f64", "flops_per_s": 9.6e10, "formula": "2 cores × 3.0 GHz × 8 lanes × 2 FMA × 2"}
        ],
        "fingerprint": fingerprint
    })
}

fn context() -> RegistryContext {
    RegistryContext {
        threads: 2,
        last_level_cache_bytes: Some(32 << 20),
        simd: SimdLevel::Avx512,
    }
}

/// Runs `specs` on the fake backend into `results` with a fixed id, start time and machine.
pub fn fake_run(results: &Path, run_id: &str, label: Option<&str>, specs: &[BenchSpec], fingerprint: &str) -> RunInfo {
    let backend = FakeBackend::new(2, 0, None);
    let config = RunConfig {
        warmup: braingap::units::Seconds(0.0),
        bootstrap_resamples: 200,
        ..RunConfig::quick()
    };
    let meta = RunMeta {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.into(),
        status: braingap::store::RunStatus::Running,
        label: label.map(str::to_string),
        command_line: vec!["braingap".into(), "run".into(), "--backend".into(), "fake".into()],
        profile: "standard".into(),
        filter: None,
        backend: braingap::backend_kind::BackendKind::Fake,
        device: "cpu".into(),
        threads: 2,
        started_at: "2025-06-01T12:00:00.000Z".into(),
        finished_at: None,
        git_commit: Some("0123abc".into()),
        benchmarks_planned: specs.len(),
        timer_overhead_s: 2e-8,
        config: serde_json::json!({}),
        machine: machine_json(fingerprint),
        meters: serde_json::json!({}),
        distributed: None,
    };
    let mut writer = Store::new(results).create_run(meta, false).expect("create run");
    let mut meters = MeterSet::none();
    let peak = |d: braingap::kernels::Dtype| match d.as_str() {
        "f32" => Some(1.92e11),
        "f64" => Some(9.6e10),
        _ => None,
    };
    run_benchmarks(
        &backend,
        specs,
        &config,
        &mut meters,
        braingap::measure::MachineLimits {
            theoretical_peak: &peak,
            cache_capacities: &[],
        },
        &mut Quiet,
        &mut writer,
    )
    .expect("run");
    writer.finish().expect("finish")
}

/// The standard profile (every kernel, STREAM size sweep, GEMM/attention sweeps).
pub fn standard_specs() -> Vec<BenchSpec> {
    registry::profile(Profile::Standard, &context())
}

/// The quick profile.
pub fn quick_specs() -> Vec<BenchSpec> {
    registry::profile(Profile::Quick, &context())
}

/// Reshapes a fake run so its figures look like a real CPU's: the STREAM sweep gets cache
/// plateaus (L1 180, L2 70, L3 35, DRAM 12 GB/s), and a few benchmarks get energy figures
/// (some measured by RAPL, some modeled). Times, CIs and rates stay consistent.
pub fn make_realistic(run: &mut RunInfo) {
    for row in run
        .summary
        .iter_mut()
        .filter(|r| r.status == braingap::measure::Status::Ok)
    {
        let params: serde_json::Value = serde_json::from_str(&row.params).unwrap();
        let target_gbs = if row.kernel.starts_with("stream_") {
            let ws = row.bytes;
            Some(if params["nontemporal"] == 1 {
                13.0
            } else if ws <= 96.0 * 1024.0 {
                180.0
            } else if ws <= 4.0 * 1024.0 * 1024.0 {
                70.0
            } else if ws <= 32.0 * 1024.0 * 1024.0 {
                35.0
            } else {
                12.0
            })
        } else {
            None
        };
        let new_median = match (target_gbs, row.kernel.as_str()) {
            (Some(gbs), _) => row.bytes / (gbs * 1e9),
            (None, "peak_fma") => row.flops / (if row.dtype.as_str() == "f32" { 1.5e11 } else { 7.4e10 }),
            (None, "gemm") => {
                row.flops / (if row.dtype.as_str() == "f32" { 1.1e11 } else { 5.0e10 }) * (1.0 + 2e5 / row.flops.sqrt())
            }
            _ => row.median_s.unwrap(),
        };
        let scale = new_median / row.median_s.unwrap();
        for v in [
            &mut row.median_s,
            &mut row.ci_low_s,
            &mut row.ci_high_s,
            &mut row.min_s,
            &mut row.max_s,
        ] {
            *v = v.map(|t| t * scale);
        }
        row.gflops_per_s = row.gflops_per_s.map(|g| g / scale);
        row.gbytes_per_s = row.gbytes_per_s.map(|g| g / scale);
        if ["gemm", "attention", "conv2d_nhwc", "lif_step", "spmv_synapses"].contains(&row.kernel.as_str())
            && row.flops > 0.0
        {
            let watts = 35.0;
            let energy = watts * new_median;
            row.energy_j = Some(energy);
            row.avg_power_w = Some(watts);
            row.gflops_per_joule = Some(row.flops / energy / 1e9);
            row.energy_source = if row.kernel == "gemm" {
                braingap::meters::EnergySource::Rapl
            } else {
                braingap::meters::EnergySource::Modeled
            };
            row.energy_note = if row.kernel == "gemm" {
                None
            } else {
                Some("energy model: 0.3 nJ/FLOP + 0.1 nJ/B".into())
            };
        }
    }
}

fn trend(label: &str, x_from: f64, x_to: f64, slope: f64, intercept: f64, width: f64) -> TrendLine {
    let band = (0..=20)
        .map(|k| {
            let x = x_from + (x_to - x_from) * k as f64 / 20.0;
            let center = intercept + slope * x;
            let w = width * (1.0 + ((x - (x_from + x_to) / 2.0) / (x_to - x_from)).powi(2) * 4.0);
            (x, 10f64.powf(center - w), 10f64.powf(center + w))
        })
        .collect();
    TrendLine {
        label: label.into(),
        x_from,
        x_to,
        slope_log10: slope,
        intercept_log10: intercept,
        band,
        band_label: "95 % CI of the trend (bootstrap)".into(),
    }
}

/// Hand-made reference data with the shapes `history::from_analysis` produces, values
/// close to the bundled datasets'. `hostile` puts markup into every text field.
pub fn sample_references(hostile: bool) -> References {
    let evil = |s: &str| {
        if hostile {
            format!("{s} <script>alert(2)</script>")
        } else {
            s.to_string()
        }
    };
    let networks: Vec<(f64, f64, &str)> = vec![
        (1958.0, 2.0, "Perceptron"),
        (1960.0, 5.0, "ADALINE"),
        (1980.0, 1e2, "Neocognitron"),
        (1986.0, 60.0, "Early backprop"),
        (1989.0, 2e3, "LeNet-1"),
        (1991.0, 1e3, "Hopfield"),
        (1998.0, 8e3, "LeNet-5"),
        (2001.0, 1e3, "Echo state"),
        (2006.0, 1e4, "DBN"),
        (2008.0, 2e5, "GPU-accelerated CNN"),
        (2009.0, 1e6, "DBM"),
        (2012.0, 6.5e5, "AlexNet"),
        (2013.0, 2e6, "Multi-GPU conv net"),
        (2014.0, 1.1e7, "GoogLeNet"),
    ];
    let points = |data: &[(f64, f64, &str)], group: Option<&str>| -> Vec<HistoryPoint> {
        data.iter()
            .map(|&(x, y, l)| HistoryPoint {
                x,
                y,
                label: evil(l),
                group: group.map(str::to_string),
            })
            .collect()
    };
    let species = |labels: &[(&str, f64)]| -> Vec<ReferenceLevel> {
        labels
            .iter()
            .map(|&(l, v)| ReferenceLevel {
                label: evil(l),
                value: v,
                range: None,
            })
            .collect()
    };
    let neurons = HistoryPanel {
        id: "history_neurons".into(),
        title: "Artificial neural network size over time".into(),
        y_label: "neurons (units, as each paper counts them)".into(),
        points: points(&networks, None),
        trends: vec![trend(
            "fit 1958-2014: ×2 every 2.5 yr",
            1958.0,
            2050.0,
            0.12,
            -234.66,
            0.25,
        )],
        references: species(&[
            ("roundworm 302", 302.0),
            ("fruit fly 1.0e5", 1e5),
            ("honey bee 9.6e5", 9.6e5),
            ("frog 1.6e7", 1.6e7),
            ("octopus 5.0e8", 5e8),
            ("human 8.6e10", 8.6e10),
        ]),
        machine: None,
        caption: evil("Neurons of notable networks (Goodfellow et al. 2016, Fig. 1.11)."),
    };
    let connections = HistoryPanel {
        id: "history_connections".into(),
        title: "Connections per neuron over time".into(),
        y_label: "connections per neuron (weights into a unit)".into(),
        points: points(
            &[
                (1950.0, 7.0, "Adaptive linear element"),
                (1958.0, 20.0, "Perceptron"),
                (1980.0, 100.0, "Neocognitron"),
                (1986.0, 80.0, "Backprop"),
                (1998.0, 400.0, "LeNet-5"),
                (2006.0, 1500.0, "DBN"),
                (2009.0, 2000.0, "GPU CNN"),
                (2012.0, 4000.0, "AlexNet"),
                (2013.0, 8000.0, "COTS HPC"),
                (2014.0, 10000.0, "GoogLeNet"),
            ],
            None,
        ),
        trends: vec![trend(
            "fit 1950-2014: ×2 every 6.7 yr",
            1950.0,
            2024.0,
            0.045,
            -86.9,
            0.2,
        )],
        references: species(&[("fruit fly 100", 100.0), ("mouse 7.0e3", 7000.0), ("human 1.0e4", 1e4)]),
        machine: None,
        caption: "Connections per neuron (Goodfellow et al. 2016, Fig. 1.10).".into(),
    };
    let mut models = Vec::new();
    for i in 0..120 {
        let x = 1952.0 + i as f64 * 0.6;
        let base = if x < 2010.0 {
            0.15 * (x - 1952.0) + 3.0
        } else {
            0.15 * 58.0 + 3.0 + 0.6 * (x - 2010.0)
        };
        let jitter = ((i * 37 % 17) as f64 / 17.0 - 0.5) * 1.5;
        models.push((x, 10f64.powf(base + jitter), "model"));
    }
    let training = HistoryPanel {
        id: "history_training".into(),
        title: "Training compute of notable models".into(),
        y_label: "training compute (FLOP)".into(),
        points: points(&models, None),
        trends: vec![
            TrendLine {
                band: vec![],
                band_label: String::new(),
                ..trend("era 1952-2010: ×2 every 24 months", 1952.0, 2010.0, 0.15, -289.8, 0.0)
            },
            trend("era 2010-2024: ×2 every 6 months", 2010.0, 2024.0, 0.6, -1194.3, 0.15),
        ],
        references: vec![ReferenceLevel {
            label: "30-year lifetime of brain compute".into(),
            value: 9.47e23,
            range: Some((9.47e21, 9.47e25)),
        }],
        machine: None,
        caption: "Training compute (Epoch AI).".into(),
    };
    let mut chips = Vec::new();
    for i in 0..40 {
        let x = 2000.0 + i as f64 * 0.6;
        let gpu = i % 2 == 0;
        let y = 10f64
            .powf(9.5 + 0.2 * (x - 2000.0) + if gpu { 1.0 } else { 0.0 } + ((i * 13 % 7) as f64 / 7.0 - 0.5) * 0.4);
        chips.push((x, y, gpu));
    }
    let hw_points = |scale: f64| -> Vec<HistoryPoint> {
        chips
            .iter()
            .map(|&(x, y, gpu)| HistoryPoint {
                x,
                y: y * scale,
                label: "chip".into(),
                group: Some(if gpu { "GPU".into() } else { "CPU".into() }),
            })
            .collect()
    };
    let hardware = HistoryPanel {
        id: "history_hardware".into(),
        title: "Hardware peak FP32 FLOP/s over time".into(),
        y_label: "peak FP32 FLOP/s".into(),
        points: hw_points(1.0),
        trends: vec![trend(
            "fit 2000-2023: ×2 every 1.5 yr",
            2000.0,
            2028.0,
            0.2,
            -390.5,
            0.1,
        )],
        references: vec![ReferenceLevel {
            label: "brain 1e15 FLOP/s".into(),
            value: 1e15,
            range: Some((1e13, 1e17)),
        }],
        machine: Some(MachineMark {
            label: evil("this machine (measured peak)"),
            x: 2025.4,
            y: 1.5e11,
        }),
        caption: "Hardware (hardware.csv).".into(),
    };
    let efficiency = HistoryPanel {
        id: "history_efficiency".into(),
        title: "Hardware FP32 FLOP/s per watt over time".into(),
        y_label: "peak FP32 FLOP/s per watt of TDP (FLOP/J)".into(),
        points: hw_points(1.0 / 150.0),
        trends: vec![trend(
            "fit 2000-2023: ×2 every 1.5 yr",
            2000.0,
            2028.0,
            0.2,
            -392.7,
            0.1,
        )],
        references: vec![ReferenceLevel {
            label: "brain 5e13 FLOP/J".into(),
            value: 5e13,
            range: Some((5e11, 5e15)),
        }],
        machine: Some(MachineMark {
            label: "this machine (MODELED)".into(),
            x: 2025.4,
            y: 3.1e9,
        }),
        caption: "Efficiency (hardware.csv).".into(),
    };
    References {
        published_simulations: vec![braingap::report::cortex::PublishedSimulation {
            id: evil("Gol+23b"),
            simulator: "GeNN".into(),
            platform: "GPU".into(),
            system: "RTX 4090".into(),
            year: 2023.0,
            real_time_factor: 0.272,
            joules_per_synaptic_event: Some(7.4e-8),
        }],
        panels: vec![neurons, connections, training, hardware, efficiency],
        projections: vec![
            ProjectionRow {
                trend: evil("ANN neurons"),
                target: "human brain neurons".into(),
                target_value: 8.6e10,
                unit: "neurons".into(),
                year: Some(2053.4),
                ci_low: Some(2041.0),
                ci_high: Some(2075.0),
                open_high: false,
                status: "reached".into(),
            },
            ProjectionRow {
                trend: "hardware fp32_FLOP_per_s".into(),
                target: "brain-equivalent compute".into(),
                target_value: 1e15,
                unit: "FLOP/s".into(),
                year: Some(2019.5),
                ci_low: Some(2017.0),
                ci_high: Some(2022.0),
                open_high: false,
                status: "already_reached".into(),
            },
            ProjectionRow {
                trend: "hardware fp32_FLOP_per_J".into(),
                target: "brain FLOP/J at 20 W".into(),
                target_value: 5e13,
                unit: "FLOP/J".into(),
                year: Some(2041.0),
                ci_low: Some(2035.0),
                ci_high: None,
                open_high: true,
                status: "reached".into(),
            },
            ProjectionRow {
                trend: "ANN connections per neuron".into(),
                target: "human synapses per neuron".into(),
                target_value: 1e4,
                unit: "connections".into(),
                year: None,
                ci_low: None,
                ci_high: None,
                open_high: false,
                status: "never_within_horizon".into(),
            },
        ],
        claims: vec![ClaimRow {
            id: "neurons_doubling".into(),
            claim: evil("ANN size doubles every 2.4 years"),
            verdict: "supported".into(),
            finding: evil("The fit gives 2.4 years (95 % CI 2.0-3.0)."),
            evidence: vec![evil("doubling time: 2.4 yr (networks.csv)")],
        }],
        claims_summary: Some(evil("The seed report makes 107 checkable claims")),
        studies: vec![braingap::report::history::StudyRow {
            name: "goodfellow-2016-neurons".into(),
            source: evil("Goodfellow et al. (2016)"),
            published: "doubling 2.40 years".into(),
            braingap: "doubling 2.39 years (95 % CI 1.42-4.82 years, n = 18)".into(),
            verdict: "reproduced within CI".into(),
            explanation: evil("the published doubling lies inside braingap's interval"),
            snapshot: "networks: snapshot 2016; 20 rows".into(),
            on_paper_data: Some(evil("doubling 2.39 years (networks)")),
        }],
        fits: vec![FitRow {
            what: evil("ANN neurons (networks.csv)"),
            model: "exponential".into(),
            n: 14,
            years: "1958-2014".into(),
            slope_log10_per_year: 0.125,
            doubling_time_years: Some(2.41),
            doubling_time_ci: [Some(2.0), Some(3.0)],
            r2: Some(0.83),
            source: "networks.csv".into(),
        }],
        energy: vec![
            brain_energy_reference(),
            braingap::report::measured::EnergyReference {
                label: evil("best GPU: H100 (peak÷TDP)"),
                flops_per_joule: 9.5e10,
                range: None,
            },
            braingap::report::measured::EnergyReference {
                label: "best CPU: Xeon 8480 (peak÷TDP)".into(),
                flops_per_joule: 1.2e10,
                range: None,
            },
        ],
        machine_sentence: Some(evil(
            "This CPU delivers 0.015 % of a human brain's estimated FLOP/s at 1.8 times its power.",
        )),
        notes: vec![],
        data_dir: Some("tests fixture".into()),
    }
}
