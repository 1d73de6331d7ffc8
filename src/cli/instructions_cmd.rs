//! `braingap run --metric instructions` (instruction counts under callgrind) and the hidden
//! `callgrind-child` subcommand it runs under valgrind, one benchmark per child.

use super::plan::{select, Filter, RunPlan};
use super::table;
use crate::backends::cpu::CpuBackend;
use crate::error::Error;
use crate::kernels::plant;
use crate::kernels::registry::{Profile, RegistryContext};
use crate::kernels::BenchSpec;
use crate::measure::instructions::{self, Callgrind, ChildListing};
use crate::measure::Status;
use crate::meters::MeterSet;
use crate::store::SummaryRow;
use anyhow::Context;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

/// Name of the hidden subcommand the parent runs under valgrind.
pub const CHILD_SUBCOMMAND: &str = "callgrind-child";

/// Arguments of the hidden `braingap callgrind-child`: run one benchmark of a profile on one
/// thread, verified, warmed up, then `--calls` calls inside the function callgrind counts,
/// and print a JSON report; or, with `--list`, print the benchmarks it would run.
#[derive(Debug, clap::Args)]
pub struct ChildArgs {
    /// Benchmark set.
    #[arg(long, value_parser = parse_profile)]
    pub profile: Profile,
    /// Only benchmarks whose name matches this regex.
    #[arg(long, value_name = "REGEX", value_parser = Filter::parse)]
    pub filter: Option<Filter>,
    /// Last-level cache size the parent detected (sizes STREAM's bandwidth arrays).
    #[arg(long, value_name = "BYTES")]
    pub llc_bytes: Option<u64>,
    /// Print the benchmark names (and the SIMD level detected) as JSON, run nothing.
    #[arg(long)]
    pub list: bool,
    /// The benchmark to run.
    #[arg(long, value_name = "NAME", required_unless_present = "list")]
    pub benchmark: Option<String>,
    /// Calls inside the counted region.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub calls: u64,
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse()
}

fn single_thread_context(simd: crate::kernels::registry::SimdLevel, llc: Option<u64>) -> RegistryContext {
    RegistryContext {
        threads: 1,
        last_level_cache_bytes: llc,
        simd,
    }
}

/// Runs the child: what it prints on stdout is read by [`Callgrind`].
pub fn run_child(args: &ChildArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let backend = CpuBackend::new(1)?.with_plant(super::env::plant()?);
    let ctx = single_thread_context(backend.simd(), args.llc_bytes);
    let specs = select(args.profile, args.filter.as_ref(), &ctx, false)?;
    if args.list {
        let listing = ChildListing {
            code_path: backend.simd(),
            benchmarks: specs.iter().map(BenchSpec::name).collect(),
        };
        writeln!(out, "{}", serde_json::to_string(&listing)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = args.benchmark.as_deref().unwrap_or_default();
    let spec = specs
        .iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| Error::InvalidArgument {
            arg: format!("--benchmark {name:?}"),
            reason: format!("not in profile {} on this code path", args.profile.as_str()),
        })?;
    let report = instructions::run_child(&backend, spec, args.calls);
    writeln!(out, "{}", serde_json::to_string(&report)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `braingap run --metric instructions`.
pub fn run(plan: &RunPlan, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let (args, profile) = (plan.args, plan.profile);
    let invalid = |arg: &str, reason: &str| Error::InvalidArgument {
        arg: arg.into(),
        reason: reason.into(),
    };
    if args.backend != crate::backends::BackendKind::Cpu {
        return Err(invalid(
            &format!("--backend {}", args.backend),
            "instruction counts are taken for the cpu backend only",
        )
        .into());
    }
    if args.threads.is_some_and(|t| t.get() != 1) {
        return Err(invalid(
            "--threads",
            "instruction counts are taken on one thread (valgrind serialises threads, and a pool's \
             idle spinning would make counts vary); omit --threads",
        )
        .into());
    }
    if args.power_timeline {
        return Err(invalid("--power-timeline", "an instruction-count run times nothing").into());
    }
    if args.calls == 0 {
        return Err(invalid("--calls 0", "at least one call must be counted").into());
    }
    let planted = super::env::plant()?;
    let machine = super::env::machine(crate::clock::probe_ghz());
    let llc = machine.last_level_cache_bytes.value;
    // Validate the filter against this machine's listing first, so a bad regex or an empty
    // selection is the usual one-line error, before valgrind starts.
    let host_ctx = single_thread_context(machine.simd_level, llc);
    select(profile, args.filter.as_ref(), &host_ctx, false)?;

    let exe = std::env::current_exe().context("cannot locate the braingap executable to run under valgrind")?;
    let callgrind = Callgrind::locate(exe, super::env::valgrind())?;
    let mut child_args: Vec<OsString> = vec![CHILD_SUBCOMMAND.into(), "--profile".into(), profile.as_str().into()];
    if let Some(bytes) = llc {
        child_args.extend(["--llc-bytes".into(), bytes.to_string().into()]);
    }
    if let Some(filter) = &args.filter {
        child_args.extend(["--filter".into(), filter.as_str().into()]);
    }
    let listing = callgrind.list(&[child_args.clone(), vec!["--list".into()]].concat())?;
    let code_path = listing.code_path;
    let specs = select(
        profile,
        args.filter.as_ref(),
        &single_thread_context(code_path, llc),
        false,
    )?;
    if args.list {
        for name in &listing.benchmarks {
            writeln!(out, "{name}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if specs.iter().map(BenchSpec::name).ne(listing.benchmarks.iter().cloned()) {
        anyhow::bail!(
            "the benchmarks listed under valgrind ({}) differ from those computed for code path {}",
            listing.benchmarks.join(", "),
            code_path.as_str()
        );
    }
    if let Some(p) = &planted {
        crate::diag!(
            "warning: {}={}={}: planted slowdown active, {} does {:.0}% more work per call",
            plant::ENV,
            p.kernel,
            p.extra_work,
            p.kernel,
            100.0 * p.extra_work
        );
    }

    let settings = serde_json::json!({
        "metric": "instructions",
        "metric_source": crate::store::rows::MetricSource::Callgrind.as_str(),
        "valgrind": callgrind.version(),
        "build_profile": env!("BRAINGAP_BUILD_PROFILE"),
        "target": format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        "calls": args.calls,
        "code_path": code_path.as_str(),
        "host_simd_level": machine.simd_level.as_str(),
        "planted_extra_work": planted.as_ref().map(|p| serde_json::json!({"kernel": p.kernel, "extra_work": p.extra_work})),
    });
    let mut writer = plan.open_run(
        &machine,
        super::lifecycle::Opening {
            backend: crate::backends::BackendKind::Cpu,
            device: "cpu".into(),
            threads: 1,
            planned: specs.len(),
            settings,
            meters: serde_json::to_value(MeterSet::none().meta())?,
            distributed: None,
            power_timeline: false,
        },
    )?;
    let raw_dir = writer.dir().join("callgrind");
    std::fs::create_dir_all(&raw_dir).map_err(|e| Error::io(&raw_dir, e))?;
    crate::diag!(
        "braingap run {} --metric instructions ({} benchmarks, profile {}, code path {} under {}, \
         {} calls each, 1 thread) -> {}",
        writer.run_id(),
        specs.len(),
        profile.as_str(),
        code_path.as_str(),
        callgrind.version(),
        args.calls,
        writer.dir().display()
    );
    let mut observer = super::progress::ProgressObserver::new();
    instructions::count_benchmarks(
        &callgrind,
        &specs,
        &child_args,
        args.calls,
        &raw_dir,
        &mut observer,
        &mut writer,
    )?;
    let info = writer.finish()?;
    let rows = &info.summary;
    write!(out, "{}", instructions_table(rows))?;
    let failed = rows.iter().filter(|r| r.status == Status::Failed).count();
    writeln!(
        out,
        "\n{} benchmarks: {} ok, {} failed, {} skipped (instructions per call, callgrind, code path {}). Results: {}",
        rows.len(),
        rows.iter().filter(|r| r.status == Status::Ok).count(),
        failed,
        rows.iter().filter(|r| r.status == Status::Skipped).count(),
        code_path.as_str(),
        info.dir.display()
    )?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The end-of-run table of an instruction-count run, by short name (the full names are in the
/// run's files and the progress lines).
pub fn instructions_table(rows: &[SummaryRow]) -> String {
    let short = crate::compare::render::short_names(rows);
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                short.get(&r.benchmark).cloned().unwrap_or_else(|| r.benchmark.clone()),
                r.status.to_string(),
                table::num(r.instructions, 0),
                table::num(r.instructions.filter(|_| r.flops > 0.0).map(|i| r.flops / i), 3),
                r.code_path.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table::render(
        &[
            "benchmark",
            "status",
            "instructions/call",
            "FLOP/instruction",
            "code path",
        ],
        &body,
        &[2, 3],
    )
}
