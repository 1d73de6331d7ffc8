//! `braingap run`.

use super::plan::{select, Execution, RunPlan};
use super::progress::ProgressObserver;
use super::table;
use crate::backends::cpu::CpuBackend;
use crate::backends::{Backend, BackendKind};
use crate::error::Error;
use crate::kernels::registry::{Profile, RegistryContext};
use crate::kernels::{BenchSpec, Dtype};
use crate::machine::Machine;
use crate::measure::{self, BenchRecord, RunConfig, Status};
use crate::meters::{MeterConfig, MeterSet};
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `braingap run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Benchmark set: quick (every kernel once, ~2 min on 2 cores), standard (adds size
    /// sweeps), full (adds the largest sizes), peers (what scripts/compare-peers.sh compares),
    /// small (every kernel once at an in-cache size), models (end-to-end networks, inference
    /// and an SGD training step: all on --backend torch; the MLP also on the pure-Rust cpu
    /// backend), collectives (MPI all-reduce, all-gather, reduce-scatter, broadcast and
    /// all-to-all from 8 B to 1 GiB across the ranks of `mpirun -np N`; needs a build with
    /// --features mpi; or through NCCL on GPUs with --backend nccl, --features nccl), dataparallel (an SGD training step on 1, 2, 4, ... of the ranks,
    /// strong and weak scaling, compute and gradient all-reduce timed apart; --features mpi),
    /// microcircuit (the Potjans-Diesmann cortical microcircuit at scale 0.1 and full scale,
    /// about 3 GiB; quick and above run it at scale 0.05; see --scale)
    /// [default: quick; small with --metric instructions]. `--suite` is another name for it.
    #[arg(long, visible_alias = "suite", value_parser = parse_profile)]
    pub profile: Option<Profile>,

    /// With --suite collectives: smallest message, bytes or with a unit (KiB, MiB, GiB)
    /// [default: 8 B].
    #[arg(long, value_name = "SIZE", value_parser = super::mpi_cmd::parse_size)]
    pub min_message: Option<u64>,

    /// With --suite collectives: largest message (sizes double from --min-message up to it)
    /// [default: 1GiB]. Sizes whose buffers would exceed 90% of a node's available memory
    /// (all its ranks together; with --backend nccl, of the smallest free GPU memory) are
    /// recorded as skipped, with the figures.
    #[arg(long, value_name = "SIZE", value_parser = super::mpi_cmd::parse_size)]
    pub max_message: Option<u64>,

    /// Timed samples per benchmark. Kernels and models: exactly N samples (default 10 with
    /// quick and small, 20 with standard, a time limit may cut them to 5 or 7); not with
    /// --bio-time, which fixes them, nor --metric instructions, which times nothing. With
    /// --suite collectives: samples per message size (each of clamp(64 MiB / size, 1, 1000)
    /// calls, after one untimed sample of warm-up) [default: 10]; with --suite dataparallel:
    /// samples per configuration (each of 5 steps) [default: 10].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub samples: Option<u64>,

    /// What to measure: time (wall-clock samples, with FLOP/s, bytes/s, energy) or
    /// instructions (instructions per call counted by `valgrind --tool=callgrind`, one
    /// thread, nothing timed: a deterministic figure for regression gates; valgrind runs
    /// code about 50x slower, hence the small profile, and does not emulate AVX-512, so on
    /// an AVX-512 machine the counts are of the AVX2 code path; the path measured is recorded
    /// in the `code_path` column).
    #[arg(long, value_enum, default_value_t = Metric::Time)]
    pub metric: Metric,

    /// With --metric instructions: calls counted per benchmark, after one verified and one
    /// warm-up call; the stored figure is instructions per call.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub calls: u64,

    /// Only benchmarks whose name (kernel/dtype/params, see --list) matches this regex.
    #[arg(long, value_name = "REGEX", value_parser = super::plan::Filter::parse)]
    pub filter: Option<super::plan::Filter>,

    /// Backend: cpu (pure Rust), fake (deterministic test double), torch (libtorch through
    /// tch; needs a build with --features torch, see scripts/setup-torch.sh), cuda (--profile
    /// microcircuit on an NVIDIA GPU; needs a build with --features cuda, an NVIDIA driver and
    /// NVRTC; exit status 2, nothing written, where they or the GPU are missing). With --suite
    /// collectives: mpi (the default; run under mpirun, --features mpi) or nccl (NCCL on every
    /// GPU CUDA_VISIBLE_DEVICES leaves visible, one process, one rank per GPU; needs a build
    /// with --features nccl, an NVIDIA driver and libnccl.so; exit status 2, nothing written,
    /// where they or a GPU are missing).
    #[arg(long, default_value = "cpu", value_name = "NAME")]
    pub backend: BackendKind,

    /// Device of the torch backend: cpu, or cuda:N (an NVIDIA GPU; the run stops with exit
    /// status 2, naming the device, where libtorch sees none). --backend cuda runs on cuda:N
    /// (cuda or the default cpu: cuda:0); --backend nccl takes every visible GPU (cuda).
    /// Other backends run on the CPU.
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: String,

    /// Worker threads [default: all logical CPUs].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub threads: Option<NonZeroUsize>,

    /// Free-text label stored with the run (one line, no control characters).
    #[arg(long, value_parser = LabelParser)]
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

    /// Microcircuit benchmarks (`--profile microcircuit`, and the one in quick and above): run
    /// this N_scaling (neurons × SCALE, in (0, 1]) instead of the profile's scales.
    #[arg(long, value_name = "SCALE", allow_negative_numbers = true)]
    pub scale: Option<f64>,

    /// Microcircuit benchmarks: K_scaling (in-degrees × K, in (0, 1]; weights ÷ √K, DC
    /// compensated, as the reference scales them) [default: 1 with --scale].
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub k_scale: Option<f64>,

    /// Microcircuit benchmarks: background input, dc (the reference's default) or poisson
    /// (8 Hz per external synapse).
    #[arg(long, value_name = "KIND", value_parser = parse_input)]
    pub input: Option<crate::kernels::microcircuit::Input>,

    /// Microcircuit benchmarks: seed of connectivity, initial potentials and input
    /// [default: 55, the reference's].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// With --profile microcircuit: simulate exactly MS milliseconds of biological time in each
    /// benchmark's timed phase (a whole number ≥ 2: one untimed-by-the-statistics warm-up call
    /// and MS − 1 samples of one 1-ms call each), instead of samples of at least a second of wall
    /// time each. Runs with the same --bio-time, scale and seed simulate the same network for
    /// the same time: their spike fingerprints (microcircuit.csv) can be compared.
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub bio_time: Option<f64>,

    /// List the benchmarks the run would contain, then exit without running.
    #[arg(long)]
    pub list: bool,

    /// Microcircuit benchmarks: run nothing; print each planned network's neurons, synapses
    /// and memory (exact counts and the simulator's estimate) against the memory available, and
    /// what the full microcircuit, the multi-area model and a human brain would take in memory,
    /// machines like this one and watts, MODELED from the newest run in --results that measured
    /// a microcircuit.
    #[arg(long)]
    pub dry_run: bool,
}

/// What `braingap run` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    /// Wall-clock time per call.
    Time,
    /// Instructions per call under callgrind.
    Instructions,
}

fn parse_input(s: &str) -> Result<crate::kernels::microcircuit::Input, String> {
    s.parse()
}

/// Applies `--scale`, `--k-scale`, `--input` and `--seed` to the microcircuit benchmarks; an
/// error names the option when the profile has none or a value is out of range.
pub(super) fn apply_microcircuit_options(args: &RunArgs, specs: &mut Vec<BenchSpec>) -> Result<(), Error> {
    let given: Vec<&str> = [
        ("--scale", args.scale.is_some()),
        ("--k-scale", args.k_scale.is_some()),
        ("--input", args.input.is_some()),
        ("--seed", args.seed.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    if given.is_empty() {
        return check_microcircuit_threads(args, specs);
    }
    for (name, value) in [("--scale", args.scale), ("--k-scale", args.k_scale)] {
        if let Some(v) = value {
            if !crate::kernels::microcircuit::valid_scale(v) {
                return Err(Error::InvalidArgument {
                    arg: format!("{name} {v}"),
                    reason: "must be a number in (0, 1] (1 is the full model)".into(),
                });
            }
        }
    }
    let mut any = false;
    for spec in specs.iter_mut() {
        if let crate::kernels::Kernel::Microcircuit(m) = &mut spec.kernel {
            any = true;
            if let Some(scale) = args.scale {
                m.scale = scale;
                m.k_scale = args.k_scale.unwrap_or(1.0);
            } else if let Some(k) = args.k_scale {
                m.k_scale = k;
            }
            if let Some(input) = args.input {
                m.input = input;
            }
            if let Some(seed) = args.seed {
                m.seed = seed;
            }
        }
    }
    if !any {
        return Err(Error::InvalidArgument {
            arg: given.join(", "),
            reason: "this run has no microcircuit benchmark (use --profile microcircuit, or quick and above)".into(),
        });
    }
    // --scale picks one scale: the profile's others collapse into it.
    let mut seen = std::collections::HashSet::new();
    specs.retain(|s| seen.insert(s.name()));
    check_microcircuit_threads(args, specs)
}

/// More threads than a microcircuit has neurons is an error naming `--threads`.
fn check_microcircuit_threads(args: &RunArgs, specs: &[BenchSpec]) -> Result<(), Error> {
    let Some(threads) = args.threads.map(NonZeroUsize::get) else {
        return Ok(());
    };
    for spec in specs {
        if let crate::kernels::Kernel::Microcircuit(m) = &spec.kernel {
            let neurons = m
                .sim_params(1)
                .ok()
                .and_then(|p| braingap_microcircuit::Derived::new(&p).ok())
                .map(|d| d.total_neurons());
            if let Some(n) = neurons.filter(|&n| threads > n) {
                return Err(Error::InvalidArgument {
                    arg: format!("--threads {threads}"),
                    reason: format!("more threads than the {n} neurons of {}", spec.name()),
                });
            }
        }
    }
    Ok(())
}

/// The microcircuit profile's sampling: `--bio-time` fixes the calls, else samples of at least
/// a second of wall time ([`RunConfig::microcircuit`]). An error names `--bio-time` when it is
/// not a whole number of milliseconds ≥ 2 (a call is 1 ms).
/// Default `--samples` of the collective and data-parallel suites.
#[cfg(any(feature = "mpi", feature = "nccl"))]
pub const DEFAULT_SUITE_SAMPLES: u64 = 10;

/// The sampling of a timed run of `profile`: the profile's settings, with `--samples N`
/// applied as exactly N samples (the time limit no longer cuts them). An error names
/// `--samples` with `--bio-time`, which fixes the samples itself.
pub(super) fn run_config(args: &RunArgs, profile: Profile) -> Result<RunConfig, Error> {
    let mut config = match profile {
        Profile::Quick | Profile::Small => RunConfig::quick(),
        Profile::Microcircuit => microcircuit_config(args)?,
        _ => RunConfig::standard(),
    };
    if let Some(n) = args.samples {
        if args.bio_time.is_some() {
            return Err(Error::InvalidArgument {
                arg: format!("--samples {n}"),
                reason: "--bio-time fixes the samples (one per millisecond after the first); give one or the other"
                    .into(),
            });
        }
        config.samples = n as usize;
        config.min_samples = n as usize;
    }
    Ok(config)
}

pub(super) fn microcircuit_config(args: &RunArgs) -> Result<RunConfig, Error> {
    let Some(ms) = args.bio_time else {
        return Ok(RunConfig::microcircuit());
    };
    let call_ms = crate::kernels::microcircuit::MS_PER_CALL;
    if !ms.is_finite() || ms < 2.0 * call_ms || ms.fract() != 0.0 || ms > 1e7 {
        return Err(Error::InvalidArgument {
            arg: format!("--bio-time {ms}"),
            reason: format!(
                "must be a whole number of milliseconds from 2 to 1e7 (the timed phase is 1-ms calls of {} steps \
                 of 0.1 ms: one warm-up call, then one call per sample)",
                (call_ms / braingap_microcircuit::params::RESOLUTION_MS).round()
            ),
        });
    }
    Ok(RunConfig::fixed_calls((ms / call_ms) as usize - 1))
}

/// `--label`: one line of UTF-8 text. A custom parser, so that a label that is not UTF-8 is
/// refused naming `--label` (clap's own check names no option).
#[derive(Clone)]
struct LabelParser;

impl clap::builder::TypedValueParser for LabelParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let invalid = |message: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for --label: {message}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| invalid(format!("{value:?} is not UTF-8 text")))?;
        parse_label(text).map_err(|reason| invalid(format!("{text:?} {reason}")))
    }
}

fn parse_label(s: &str) -> Result<String, String> {
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "contains the control character {c:?} (a label is one line of text)"
        )),
        None => Ok(s.to_string()),
    }
}

/// Threads per logical CPU beyond which `--threads` is refused: oversubscribing more only
/// measures the scheduler.
pub const MAX_THREADS_PER_CPU: usize = 8;

/// `--threads`, `--max-memory-gib` and `--report-dir` checked before anything runs: too many
/// threads is an error naming `--threads` (more than the logical CPUs a warning), a memory
/// limit beyond this machine's memory (which would turn the guard off) an error, and a report
/// directory that cannot be written an error naming `--report-dir`.
fn check_run_limits(args: &RunArgs, threads: usize) -> Result<(), Error> {
    let cpus = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    if threads > MAX_THREADS_PER_CPU * cpus {
        return Err(Error::InvalidArgument {
            arg: format!("--threads {threads}"),
            reason: format!(
                "more than {MAX_THREADS_PER_CPU} × the {cpus} logical CPUs of this machine ({})",
                MAX_THREADS_PER_CPU * cpus
            ),
        });
    }
    if threads > cpus {
        crate::diag!(
            "warning: --threads {threads} is more than the {cpus} logical CPUs: threads will share cores, and \
             timings measure that"
        );
    }
    if let (Some(gib), Some(total)) = (args.max_memory_gib, Machine::total_memory()) {
        let total_gib = total as f64 / (1u64 << 30) as f64;
        if gib > total_gib {
            return Err(Error::InvalidArgument {
                arg: format!("--max-memory-gib {gib}"),
                reason: format!(
                    "exceeds this machine's {total_gib:.1} GiB of memory, which would turn the memory guard off"
                ),
            });
        }
    }
    if !args.no_report && !args.list && !args.dry_run {
        let probe = args.report_dir.join(".braingap-write-probe");
        let existed = args.report_dir.exists();
        let writable = std::fs::create_dir_all(&args.report_dir)
            .and_then(|()| std::fs::write(&probe, b""))
            .and_then(|()| std::fs::remove_file(&probe));
        // A run that stops before it writes its report leaves no folder behind: the report
        // makes it again.
        if !existed {
            let _ = std::fs::remove_dir(&args.report_dir);
        }
        if let Err(e) = writable {
            return Err(Error::InvalidArgument {
                arg: format!("--report-dir {}", args.report_dir.display()),
                reason: format!("cannot be written: {e} (checked before the run)"),
            });
        }
    }
    Ok(())
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

fn make_backend(
    name: BackendKind,
    device: &str,
    threads: usize,
    last_level_cache: Option<u64>,
) -> anyhow::Result<Box<dyn Backend>> {
    if !matches!(name, BackendKind::Torch | BackendKind::Cuda) && device != "cpu" {
        return Err(Error::InvalidArgument {
            arg: format!("--device {device}"),
            reason: format!(
                "backend {name} runs on the CPU only; --device cuda:N needs --backend torch (kernels and models) \
                 or --backend cuda (the microcircuit)"
            ),
        }
        .into());
    }
    match name {
        BackendKind::Cuda => cuda_backend(device, threads),
        BackendKind::Cpu => Ok(Box::new(
            CpuBackend::new(threads)?
                .with_plant(super::env::plant()?)
                .with_last_level_cache(last_level_cache),
        )),
        BackendKind::Fake => Ok(Box::new(super::env::fake_backend(threads as u64)?)),
        #[cfg(feature = "torch")]
        BackendKind::Torch => Ok(Box::new(crate::backends::torch::TorchBackend::new(device, threads)?)),
        #[cfg(not(feature = "torch"))]
        BackendKind::Torch => Err(Error::InvalidArgument {
            arg: "--backend torch".into(),
            reason: "this braingap was built without the `torch` feature; build it with \
                     `source <(bash scripts/setup-torch.sh --env) && cargo build --release --features torch` \
                     (installs PyTorch 2.13 into .venv-torch, about 5 GB on disk)"
                .into(),
        }
        .into()),
        // The plan sends `nccl` elsewhere or refuses it; `mpi` names the collective suites.
        other @ (BackendKind::Mpi | BackendKind::Nccl) => Err(Error::InvalidArgument {
            arg: format!("--backend {other}"),
            reason: "runs --suite collectives or --profile dataparallel; kernels, models and the \
                     microcircuit run on --backend cpu, fake or torch"
                .into(),
        }
        .into()),
    }
}

/// The CUDA device `--device` names for the cuda backend: `cuda:N`, `cuda` (device 0), or the
/// default `cpu`, read as device 0.
pub(super) fn cuda_ordinal(device: &str) -> Result<usize, Error> {
    match device {
        "cpu" | "cuda" => Ok(0),
        other => other
            .strip_prefix("cuda:")
            .and_then(|i| i.parse::<usize>().ok())
            .ok_or_else(|| Error::InvalidArgument {
                arg: format!("--device {other}"),
                reason: "the cuda backend runs on cuda or cuda:N (an NVIDIA GPU)".into(),
            }),
    }
}

/// The cuda backend on the device `--device` names, or why it cannot run here (exit 2, before
/// anything is written).
fn cuda_backend(device: &str, threads: usize) -> anyhow::Result<Box<dyn Backend>> {
    let ordinal = cuda_ordinal(device)?;
    #[cfg(feature = "cuda")]
    {
        crate::backends::microcircuit_cuda::CudaBackend::new(ordinal, threads)
            .map(|b| Box::new(b) as Box<dyn Backend>)
            .map_err(|e| {
                Error::InvalidArgument {
                    arg: format!("--backend cuda --device cuda:{ordinal}"),
                    reason: format!("cannot run here: {e}"),
                }
                .into()
            })
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (ordinal, threads);
        Err(Error::InvalidArgument {
            arg: "--backend cuda".into(),
            reason: "this braingap was built without the `cuda` feature; build it with \
                     `cargo build --release --features cuda` (no CUDA toolkit needed to build; the run needs an \
                     NVIDIA driver and NVRTC)"
                .into(),
        }
        .into())
    }
}

/// Runs `braingap run`: the arguments become one [`RunPlan`], which its executor runs.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let plan = RunPlan::new(args, super::env::local_ranks())?;
    match plan.execution {
        Execution::Instructions => super::instructions_cmd::run(&plan, out),
        Execution::MpiSuite => super::mpi_cmd::run(&plan, out),
        Execution::NcclCollectives => super::nccl_cmd::run(&plan, out),
        Execution::MicrocircuitRanks => super::mpi_cmd::run_microcircuit(&plan, out),
        Execution::Timed => run_timed(&plan, out),
    }
}

/// The timed executor: kernels, models and the microcircuit in this process.
fn run_timed(plan: &RunPlan, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let (args, profile, threads) = (plan.args, plan.profile, plan.threads);
    let planted = super::env::plant()?;
    if let Some(p) = &planted {
        crate::diag!(
            "warning: {}={}={}: planted slowdown active, {} does {:.0}% more work per call",
            crate::kernels::plant::ENV,
            p.kernel,
            p.extra_work,
            p.kernel,
            100.0 * p.extra_work
        );
    }
    check_run_limits(args, threads)?;
    let machine = super::env::machine(crate::clock::probe_ghz());
    let backend = make_backend(
        args.backend,
        &args.device,
        threads,
        machine.last_level_cache_bytes.value,
    )?;
    let ghz = backend.clock_ghz();
    let ctx = RegistryContext {
        threads: threads as u64,
        last_level_cache_bytes: machine.last_level_cache_bytes.value,
        simd: machine.simd_level,
    };
    let mut specs = select(profile, args.filter.as_ref(), &ctx, !args.no_ceilings)?;
    apply_microcircuit_options(args, &mut specs)?;
    if args.bio_time.is_some() {
        if profile != Profile::Microcircuit {
            return Err(Error::InvalidArgument {
                arg: "--bio-time".into(),
                reason: format!(
                    "fixes the timed biological time of --profile microcircuit only (not --profile {})",
                    profile.as_str()
                ),
            }
            .into());
        }
        microcircuit_config(args)?;
    }
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
    if args.dry_run {
        return super::dry_run::run(args, &specs, threads, memory, out);
    }
    match memory {
        Some(bytes) => measure::preflight_memory(&specs, bytes)?,
        None => crate::diag!("warning: available memory unknown (sysinfo); buffer sizes not checked"),
    }

    let mut meters = if args.backend == BackendKind::Fake {
        MeterSet::none()
    } else {
        MeterSet::detect(&MeterConfig {
            power_timeline: args.power_timeline,
            calibration: Some(args.results.join(crate::meters::model::CALIBRATION_FILE)),
            machine_id: Some(machine.fingerprint.clone()),
            clock_ghz: ghz,
            ..super::env::meter_config()
        })
    };
    if args.power_timeline && !meters.energy_source().is_measured() {
        let reasons: Vec<String> = meters
            .unavailable()
            .iter()
            .filter(|u| u.meter == "rapl" || u.meter == "nvml")
            .map(|u| format!("{}: {}", u.meter, u.reason))
            .collect();
        return Err(Error::InvalidArgument {
            arg: "--power-timeline".into(),
            reason: format!(
                "needs a power meter (RAPL or NVML), and none measures here ({}); the timeline would be empty",
                if reasons.is_empty() {
                    format!("backend {} attaches no meter", args.backend)
                } else {
                    reasons.join("; ")
                }
            ),
        }
        .into());
    }
    // On a GPU, peaks (and model FLOPs utilisation) are the GPU's, from NVML; never the CPU's.
    let gpu = backend
        .device()
        .strip_prefix("cuda:")
        .and_then(|i| i.parse::<usize>().ok())
        .map(crate::gpu::cuda_device_facts);
    if let Some(Err(why)) = &gpu {
        crate::diag!("warning: GPU peak FLOP/s unknown, utilisation left empty: {why}");
    }
    let config = run_config(args, profile)?;
    let mut settings = super::lifecycle::timing_settings(&config);
    settings.insert("clock_ghz_at_start".into(), serde_json::json!(ghz));
    settings.insert(
        "planted_extra_work".into(),
        serde_json::json!(planted
            .as_ref()
            .map(|p| serde_json::json!({"kernel": p.kernel, "extra_work": p.extra_work}))),
    );
    settings.insert(
        "gpu".into(),
        serde_json::json!(gpu.as_ref().map(|g| match g {
            Ok(facts) => serde_json::to_value(facts).unwrap_or_default(),
            Err(why) => serde_json::json!({ "unavailable": why }),
        })),
    );
    let mut writer = plan.open_run(
        &machine,
        super::lifecycle::Opening {
            backend: backend.kind(),
            device: backend.device(),
            threads: threads as u64,
            planned: specs.len(),
            settings: settings.into(),
            meters: serde_json::to_value(meters.meta())?,
            distributed: None,
            power_timeline: args.power_timeline,
        },
    )?;
    crate::diag!(
        "braingap run {} ({} benchmarks, profile {}, backend {}, {} threads) -> {}",
        writer.run_id(),
        specs.len(),
        profile.as_str(),
        backend.kind(),
        threads,
        writer.dir().display()
    );
    let mut observer = ProgressObserver::new();
    let peak = |dtype: Dtype| match &gpu {
        Some(Ok(facts)) => facts
            .theoretical_peaks
            .iter()
            .find(|p| p.dtype == dtype)
            .and_then(|p| p.flops_per_s),
        Some(Err(_)) => None,
        None => machine.theoretical_peak(dtype),
    };
    // A GPU's caches are not the host's: its kernels are set against device memory.
    let caches = if backend.device() == "cpu" {
        crate::machine::cache_capacities(&machine.caches, threads as u64)
    } else {
        Vec::new()
    };
    let records = measure::run_benchmarks(
        backend.as_ref(),
        &specs,
        &config,
        &mut meters,
        measure::MachineLimits {
            theoretical_peak: &peak,
            cache_capacities: &caches,
        },
        &mut observer,
        &mut writer,
    )?;
    let info = writer.finish()?;
    finish_output(plan, &info, &records, "", out)
}

/// The end of a finished run on the terminal: the summary table, the report (unless
/// `--no-report`), the tally (`how` after "N benchmarks", e.g. " over 2 MPI ranks"); exit 1
/// when a benchmark failed.
pub(super) fn finish_output(
    plan: &RunPlan,
    info: &crate::store::RunInfo,
    records: &[BenchRecord],
    how: &str,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    write!(out, "{}", summary_table(records))?;
    let related = crate::compare::relative::relative_statements(&info.summary);
    if !related.is_empty() {
        let short = crate::compare::render::short_names(&info.summary);
        let name = |full: &str| short.get(full).cloned().unwrap_or_else(|| full.to_string());
        writeln!(out, "\nRelated benchmarks (ratio of medians):")?;
        for r in &related {
            writeln!(out, "  {}", crate::compare::relative::sentence(r, &name))?;
        }
    }
    // The previous run of this machine: what changed since, here and in the report.
    let previous = super::compare_cmd::previous_run(&plan.args.results, info);
    if let Some(previous) = &previous {
        writeln!(out, "\n{}", super::compare_cmd::since_previous(previous, info))?;
    }
    super::lifecycle::write_report(
        plan,
        &info.meta.run_id,
        previous.as_ref().map(|p| p.meta.run_id.as_str()),
        out,
    )?;
    let count = |status: Status| records.iter().filter(|r| r.status == status).count();
    let failed = count(Status::Failed);
    writeln!(
        out,
        "\n{} benchmarks{how}: {} ok, {failed} failed, {} skipped. Results: {}",
        records.len(),
        count(Status::Ok),
        count(Status::Skipped),
        info.dir.display()
    )?;
    // The answer last, where the eye lands when the run ends: the report's first sentence,
    // wrapped to the table's 120 columns.
    let details = crate::report::files::read_simulation_details(&info.dir).unwrap_or_default();
    let headline = crate::report::answer::answer(info, &details).headline;
    writeln!(out, "\n{}", table::wrap(&headline, table::MAX_COLUMNS))?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Half-width of a median's 95 % CI, as a fraction of the median, beyond which a row of the
/// end-of-run table carries a warning.
pub const NOISY_CI_HALF_WIDTH: f64 = 0.05;

/// The end-of-run table: short names (the full names are in the run's files), one row per
/// benchmark, within 120 columns; a row whose CI is wider than ±5 % is marked `!` and a note
/// under the table says so.
pub fn summary_table(records: &[BenchRecord]) -> String {
    let mut noisy = 0;
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let ok = r.status == Status::Ok;
            let stats = r.stats.filter(|_| ok);
            let half_width = stats.map(|s| 0.5 * (s.ci_high - s.ci_low) / s.median);
            let ci = half_width.map_or("-".into(), |h| {
                if h > NOISY_CI_HALF_WIDTH {
                    noisy += 1;
                    format!("!±{:.1}%", 100.0 * h)
                } else {
                    format!("±{:.1}%", 100.0 * h)
                }
            });
            vec![
                r.spec.short_name(),
                r.status.as_str().into(),
                stats.map_or("-".into(), |s| crate::units::si(s.median, "s")),
                ci,
                table::rate(r.flops_per_s().filter(|_| ok && r.flops.0 > 0.0).map(|f| f.0 / 1e9)),
                table::rate(r.bytes_per_s().filter(|_| ok && r.bytes.0 > 0.0).map(|b| b.0 / 1e9)),
                table::rate(r.spec.arithmetic_intensity()),
                r.attainment.filter(|_| ok).map_or("-".into(), |a| match r.roof_level {
                    Some(measure::RoofLevel::Compute) | None => format!("{:.0}%", a * 100.0),
                    Some(level) => format!("{:.0}% {level}", a * 100.0),
                }),
                table::num(r.clock_ghz(), 2),
                table::num(r.flops_per_cycle_per_core().filter(|_| ok && r.flops.0 > 0.0), 1),
            ]
        })
        .collect();
    let mut text = table::render(
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
    );
    if noisy > 0 {
        text.push_str(&format!(
            "! {noisy} of {} rows: 95% CI wider than ±{:.0}% of the median (noisy: other load, clock \
             changes); rerun them with --filter\n",
            records.len(),
            100.0 * NOISY_CI_HALF_WIDTH
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::registry::{self, SimdLevel};
    use crate::measure::stats::Summary;
    use crate::meters::EnergyRecord;
    use crate::units::Seconds;

    /// A finished record of `spec` with a 1 ms median and a 95% CI of ±`half_width_percent`.
    fn record(spec: &BenchSpec, half_width_percent: f64) -> BenchRecord {
        let median = 1e-3;
        let half = median * half_width_percent / 100.0;
        BenchRecord {
            spec: spec.clone(),
            benchmark: spec.name(),
            backend: BackendKind::Fake,
            device: "cpu".into(),
            threads: 2,
            params: spec.params(),
            status: Status::Ok,
            reason: None,
            verification: None,
            iters_per_sample: 1,
            samples: vec![Seconds(median); 10],
            outliers: Vec::new(),
            stats: Some(Summary {
                count: 10,
                median,
                mad: 0.0,
                min: median - half,
                max: median + half,
                mean: median,
                ci_low: median - half,
                ci_high: median + half,
                outliers: 0,
            }),
            flops: spec.flops(),
            bytes: spec.bytes(),
            events: None,
            clock_ghz_before: Some(3.61),
            clock_ghz_after: Some(3.6),
            attainment: Some(0.5),
            roof_level: Some(measure::RoofLevel::Dram),
            theoretical_peak_flops_per_s: None,
            energy: EnergyRecord::unavailable("test"),
            sampled_time: Seconds(10.0 * median),
            sampled_calls: 10,
            started_at: String::new(),
            finished_at: String::new(),
            observations: Vec::new(),
        }
    }

    fn quick_specs() -> Vec<BenchSpec> {
        let ctx = RegistryContext {
            threads: 2,
            last_level_cache_bytes: Some(32 << 20),
            simd: SimdLevel::Avx512,
        };
        registry::profile(Profile::Quick, &ctx)
    }

    #[test]
    fn the_summary_table_fits_120_columns_with_short_names() {
        for profile in Profile::ALL {
            let ctx = RegistryContext {
                threads: 2,
                last_level_cache_bytes: Some(32 << 20),
                simd: SimdLevel::Avx512,
            };
            let records: Vec<BenchRecord> = registry::profile(profile, &ctx)
                .iter()
                .map(|s| record(s, 14.25))
                .collect();
            let text = summary_table(&records);
            for line in text.lines() {
                assert!(
                    line.chars().count() <= 120,
                    "{profile:?}: {} columns: {line}",
                    line.chars().count()
                );
            }
        }
        let text = summary_table(&quick_specs().iter().map(|s| record(s, 1.0)).collect::<Vec<_>>());
        assert!(text.contains("gemm/f32 512³ "), "{text}");
        assert!(!text.contains("m=512,n=512"), "full names stay in the files: {text}");
    }

    #[test]
    fn rows_with_a_ci_beyond_five_percent_are_marked() {
        let specs = quick_specs();
        let records: Vec<BenchRecord> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| record(s, if i == 3 { 14.2 } else { 4.9 }))
            .collect();
        let text = summary_table(&records);
        let marked: Vec<&str> = text.lines().filter(|l| l.contains("!±")).collect();
        assert_eq!(marked.len(), 1, "{text}");
        assert!(marked[0].starts_with(&specs[3].short_name()), "{text}");
        assert!(marked[0].contains("!±14.2%"), "{text}");
        assert!(
            text.contains(&format!("! 1 of {} rows: 95% CI wider than ±5%", specs.len())),
            "{text}"
        );
        let quiet: Vec<BenchRecord> = specs.iter().map(|s| record(s, 4.9)).collect();
        let text = summary_table(&quiet);
        assert!(!text.contains('!'), "no row beyond ±5%, no warning: {text}");
    }
}
