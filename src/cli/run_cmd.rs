//! `braingap run`.

use super::progress::ProgressObserver;
use super::table;
use crate::backends::cpu::CpuBackend;
use crate::backends::fake::FakeBackend;
use crate::backends::{Backend, BACKENDS};
use crate::error::Error;
use crate::kernels::registry::{self, Profile, RegistryContext};
use crate::kernels::{BenchSpec, Dtype};
use crate::machine::Machine;
use crate::measure::{self, BenchRecord, RunConfig, Status};
use crate::meters::{MeterConfig, MeterSet};
use crate::store::{RunMeta, Store, SCHEMA_VERSION};
use anyhow::Context;
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `braingap run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Benchmark set: quick (every kernel once, ~2 min on 2 cores), standard (adds size
    /// sweeps), full (adds the largest sizes), peers (what scripts/compare-peers.sh compares).
    #[arg(long, default_value = "quick", value_parser = parse_profile)]
    pub profile: Profile,

    /// Only benchmarks whose name (kernel/dtype/params, see --list) matches this regex.
    #[arg(long, value_name = "REGEX")]
    pub filter: Option<String>,

    /// Backend: cpu (pure Rust), fake (deterministic test double), torch (needs --features torch).
    #[arg(long, default_value = "cpu", value_name = "NAME")]
    pub backend: String,

    /// Worker threads [default: all logical CPUs].
    #[arg(long, value_name = "N")]
    pub threads: Option<NonZeroUsize>,

    /// Free-text label stored with the run.
    #[arg(long)]
    pub label: Option<String>,

    /// Results directory.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results: PathBuf,

    /// Do not add the roofline ceilings (peak_fma, stream_triad) a filtered run lacks;
    /// attainment is then empty for benchmarks whose ceiling was not measured.
    #[arg(long)]
    pub no_ceilings: bool,

    /// Memory the run's buffers may use, in GiB [default: the memory available now]. Each
    /// benchmark's buffers are checked against it before anything is allocated.
    #[arg(long, value_name = "GIB", value_parser = parse_gib)]
    pub max_memory_gib: Option<f64>,

    /// Also write the sampled power series (benchmark, t_s, domain, watts) of every
    /// benchmark to power_timeline.csv in the run directory (needs a measuring meter).
    #[arg(long)]
    pub power_timeline: bool,

    /// Do not render the HTML report at the end of the run.
    #[arg(long)]
    pub no_report: bool,

    /// Where the end-of-run report goes.
    #[arg(long, default_value = "reports", value_name = "DIR")]
    pub report_dir: PathBuf,

    /// List the benchmarks the run would contain, then exit without running.
    #[arg(long)]
    pub list: bool,
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse()
}

fn parse_gib(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("{s:?} is not a positive number of GiB")),
    }
}

fn make_backend(name: &str, threads: usize) -> anyhow::Result<Box<dyn Backend>> {
    match name {
        "cpu" => Ok(Box::new(CpuBackend::new(threads)?)),
        "fake" => Ok(Box::new(FakeBackend::from_env(threads as u64)?)),
        "torch" => Err(Error::InvalidArgument {
            arg: "--backend torch".into(),
            reason: "this braingap was built without the `torch` feature; run scripts/setup-torch.sh, \
                     then build with `cargo build --release --features torch` in the environment it prints"
                .into(),
        }
        .into()),
        other => Err(Error::InvalidArgument {
            arg: format!("--backend {other}"),
            reason: format!(
                "unknown backend (known: {})",
                BACKENDS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        }
        .into()),
    }
}

/// Selects the benchmarks: profile, filter, then the ceilings a roofline needs.
pub fn select(
    profile: Profile,
    filter: Option<&str>,
    ctx: &RegistryContext,
    ceilings: bool,
) -> anyhow::Result<Vec<BenchSpec>> {
    let mut specs = registry::profile(profile, ctx);
    if let Some(pattern) = filter {
        let re = regex::Regex::new(pattern).map_err(|e| Error::InvalidArgument {
            arg: format!("--filter {pattern:?}"),
            reason: format!("not a valid regex: {e}"),
        })?;
        specs.retain(|s| re.is_match(&s.name()));
        if specs.is_empty() {
            return Err(Error::InvalidArgument {
                arg: format!("--filter {pattern:?}"),
                reason: format!(
                    "matches no benchmark of profile {} (names look like gemm/f32/m=512,n=512,k=512; see `braingap run --list`)",
                    profile.as_str()
                ),
            }
            .into());
        }
        if ceilings {
            let mut dtypes: Vec<Dtype> = specs.iter().map(|s| s.dtype).collect();
            dtypes.sort();
            dtypes.dedup();
            let names: Vec<String> = specs.iter().map(BenchSpec::name).collect();
            let missing: Vec<BenchSpec> = registry::ceilings(ctx, &dtypes)
                .into_iter()
                .filter(|c| !names.contains(&c.name()))
                .collect();
            specs.splice(0..0, missing);
        }
    }
    Ok(specs)
}

/// Runs `braingap run`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let threads = args
        .threads
        .map(NonZeroUsize::get)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get));
    let backend = make_backend(&args.backend, threads)?;
    let ghz = backend.clock_ghz();
    let machine = Machine::detect(crate::clock::probe_ghz());
    let ctx = RegistryContext {
        threads: threads as u64,
        last_level_cache_bytes: machine.last_level_cache_bytes.value,
        simd: machine.simd_level,
    };
    let specs = select(args.profile, args.filter.as_deref(), &ctx, !args.no_ceilings)?;
    if args.list {
        for spec in &specs {
            writeln!(out, "{}", spec.name())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let memory = match args.max_memory_gib {
        Some(gib) => Some((gib * (1u64 << 30) as f64) as u64),
        None => Machine::available_memory_now(),
    };
    match memory {
        Some(bytes) => measure::preflight_memory(&specs, bytes)?,
        None => eprintln!("warning: available memory unknown (sysinfo); buffer sizes not checked"),
    }

    let mut meters = if args.backend == "fake" {
        MeterSet::none()
    } else {
        MeterSet::detect(&MeterConfig {
            power_timeline: args.power_timeline,
            calibration: Some(args.results.join(crate::meters::model::CALIBRATION_FILE)),
            machine_id: Some(machine.fingerprint.clone()),
            ..MeterConfig::default()
        })
    };
    let config = match args.profile {
        Profile::Quick => RunConfig::quick(),
        _ => RunConfig::standard(),
    };
    let meta = RunMeta {
        schema_version: SCHEMA_VERSION,
        run_id: Store::new_run_id(),
        status: "running".into(),
        label: args.label.clone(),
        command_line: std::env::args().collect(),
        profile: args.profile.as_str().into(),
        filter: args.filter.clone(),
        backend: backend.name().into(),
        device: backend.device(),
        threads: threads as u64,
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        finished_at: None,
        git_commit: machine.git_commit.value.clone(),
        benchmarks_planned: specs.len(),
        timer_overhead_s: measure::timer_overhead(10_000).0,
        config: serde_json::json!({
            "warmup_s": config.warmup.0,
            "min_sample_time_s": config.min_sample_time.0,
            "samples": config.samples,
            "max_sampling_time_s": config.max_sampling_time.0,
            "min_samples": config.min_samples,
            "bootstrap_resamples": config.bootstrap_resamples,
            "bootstrap_seed": config.seed,
            "clock_ghz_at_start": ghz,
        }),
        machine: serde_json::to_value(&machine)?,
        meters: serde_json::to_value(meters.meta())?,
    };
    let store = Store::new(&args.results);
    let mut writer = store
        .create_run(meta, args.power_timeline)
        .with_context(|| format!("cannot write results under {}", args.results.display()))?;
    eprintln!(
        "braingap run {} ({} benchmarks, profile {}, backend {}, {} threads) -> {}",
        writer.run_id(),
        specs.len(),
        args.profile.as_str(),
        backend.name(),
        threads,
        writer.dir().display()
    );
    let mut observer = ProgressObserver::new();
    let peak = |dtype: Dtype| machine.theoretical_peak(dtype);
    let records = measure::run_benchmarks(
        backend.as_ref(),
        &specs,
        &config,
        &mut meters,
        &peak,
        &mut observer,
        &mut writer,
    )?;
    let info = writer.finish()?;
    write!(out, "{}", summary_table(&records))?;
    if !args.no_report {
        match crate::report::render_run_report(&args.results, &info.meta.run_id, &args.report_dir) {
            Ok(path) => writeln!(out, "Report: {}", path.display())?,
            Err(e) => eprintln!("warning: report not written: {e:#}"),
        }
    }
    let failed = records.iter().filter(|r| r.status == Status::Failed).count();
    writeln!(
        out,
        "\n{} benchmarks: {} ok, {} failed, {} skipped. Results: {}",
        records.len(),
        records.iter().filter(|r| r.status == Status::Ok).count(),
        failed,
        records.iter().filter(|r| r.status == Status::Skipped).count(),
        info.dir.display()
    )?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The end-of-run table.
pub fn summary_table(records: &[BenchRecord]) -> String {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let ok = r.status == Status::Ok;
            let stats = r.stats.filter(|_| ok);
            vec![
                r.benchmark.clone(),
                r.status.as_str().into(),
                stats.map_or("-".into(), |s| crate::units::si(s.median, "s")),
                stats.map_or("-".into(), |s| {
                    format!("±{:.1}%", 50.0 * (s.ci_high - s.ci_low) / s.median)
                }),
                table::num(r.flops_per_s().filter(|_| ok && r.flops.0 > 0.0).map(|f| f / 1e9), 2),
                table::num(r.bytes_per_s().filter(|_| ok && r.bytes.0 > 0.0).map(|b| b / 1e9), 2),
                table::num(r.spec.arithmetic_intensity(), 2),
                r.attainment
                    .filter(|_| ok)
                    .map_or("-".into(), |a| format!("{:.0}%", a * 100.0)),
                table::num(r.clock_ghz(), 2),
                table::num(r.flops_per_cycle_per_core().filter(|_| ok && r.flops.0 > 0.0), 1),
            ]
        })
        .collect();
    table::render(
        &[
            "benchmark",
            "status",
            "median",
            "CI95",
            "GFLOP/s",
            "GB/s",
            "FLOP/B",
            "roofline",
            "GHz",
            "FLOP/cyc/core",
        ],
        &rows,
        &[2, 3, 4, 5, 6, 7, 8, 9],
    )
}
