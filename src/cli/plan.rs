//! `braingap run`'s arguments turned once into a validated plan (as ripgrep turns its
//! low-level arguments into high-level ones): the profile and what executes it, the thread
//! count, and the benchmark filter compiled once. Every run path (timed, instruction counts,
//! MPI and NCCL suites, the microcircuit over ranks) starts from a [`RunPlan`].

use super::run_cmd::{Metric, RunArgs};
use crate::backends::BackendKind;
use crate::error::Error;
use crate::kernels::registry::{self, Profile, RegistryContext};
use crate::kernels::{BenchSpec, Dtype};
use std::num::NonZeroUsize;

/// A benchmark filter: a regular expression compiled once, when the argument is parsed, with
/// the text it came from (recorded in `meta.json` and passed to valgrind's child processes).
#[derive(Debug, Clone)]
pub struct Filter {
    pattern: String,
    regex: regex::Regex,
}

impl Filter {
    /// Compiles `pattern`; the error says why it is not a regular expression (clap puts the
    /// option's name before it).
    pub fn parse(pattern: &str) -> Result<Filter, String> {
        regex::Regex::new(pattern)
            .map(|regex| Filter {
                pattern: pattern.to_string(),
                regex,
            })
            .map_err(|e| format!("not a valid regex: {e}"))
    }

    /// Whether `name` matches.
    pub fn is_match(&self, name: &str) -> bool {
        self.regex.is_match(name)
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }
}

/// What executes a run. Each variant is one executor; all of them report progress through an
/// observer and write their results through the run store's writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Execution {
    /// Kernels, models and the microcircuit in this process, timed (`measure::run_benchmarks`).
    Timed,
    /// Instruction counts under callgrind, one child process per benchmark
    /// (`measure::instructions::count_benchmarks`).
    Instructions,
    /// The collective or data-parallel suite across the ranks of `mpirun`.
    MpiSuite,
    /// The collective suite through NCCL on this process's GPUs.
    NcclCollectives,
    /// The microcircuit split over the ranks of `mpirun`.
    MicrocircuitRanks,
}

/// `braingap run`'s arguments, checked and resolved once.
#[derive(Debug)]
pub struct RunPlan<'a> {
    /// The arguments as given (options an executor reads as they are).
    pub args: &'a RunArgs,
    /// The benchmark set.
    pub profile: Profile,
    /// What executes it.
    pub execution: Execution,
    /// Worker threads per process: `--threads`, else this process's share of the logical CPUs
    /// (all of them, or under an MPI launcher the node's CPUs divided among its ranks).
    pub threads: usize,
}

impl<'a> RunPlan<'a> {
    /// Resolves the profile, the executor and the threads; refuses options the executor would
    /// ignore and backends it cannot use, naming the option. `local_ranks` is the number of
    /// this node's ranks under an MPI launcher (`None` when not under one).
    pub fn new(args: &'a RunArgs, local_ranks: Option<u64>) -> Result<RunPlan<'a>, Error> {
        let profile = args.profile.unwrap_or(match args.metric {
            Metric::Instructions => Profile::Small,
            Metric::Time => Profile::Quick,
        });
        refuse_unused_options(args, profile)?;
        let execution = execution(args, profile, local_ranks.is_some())?;
        let threads = args.threads.map(NonZeroUsize::get).unwrap_or_else(|| {
            let cpus = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
            (cpus / local_ranks.unwrap_or(1).max(1) as usize).max(1)
        });
        Ok(RunPlan {
            args,
            profile,
            execution,
            threads,
        })
    }

    /// The filter's pattern, as `meta.json` records it.
    pub fn filter_text(&self) -> Option<String> {
        self.args.filter.as_ref().map(|f| f.as_str().to_string())
    }
}

/// Which executor runs `profile` with these arguments, or why none can.
fn execution(args: &RunArgs, profile: Profile, under_launcher: bool) -> Result<Execution, Error> {
    if args.metric == Metric::Instructions {
        return Ok(Execution::Instructions);
    }
    if matches!(profile, Profile::Collectives | Profile::DataParallel) {
        return match args.backend {
            BackendKind::Nccl if profile == Profile::Collectives => Ok(Execution::NcclCollectives),
            // `cpu` is the flag's default; the run records backend `mpi`.
            BackendKind::Cpu | BackendKind::Mpi => Ok(Execution::MpiSuite),
            other => Err(Error::InvalidArgument {
                arg: format!("--backend {other}"),
                reason: format!(
                    "--suite {} runs over MPI (under mpirun; the default){}",
                    profile.as_str(),
                    if profile == Profile::Collectives {
                        ", or through NCCL on GPUs with --backend nccl"
                    } else {
                        ""
                    }
                ),
            }),
        };
    }
    if profile == Profile::Microcircuit && under_launcher {
        return Ok(Execution::MicrocircuitRanks);
    }
    if args.backend == BackendKind::Cuda && profile != Profile::Microcircuit {
        return Err(Error::InvalidArgument {
            arg: "--backend cuda".into(),
            reason: format!(
                "runs the cortical microcircuit on an NVIDIA GPU: `braingap run --profile microcircuit --backend cuda` \
                 (not --profile {}; kernels and models run on GPUs through --backend torch)",
                profile.as_str()
            ),
        });
    }
    if args.backend == BackendKind::Nccl {
        return Err(Error::InvalidArgument {
            arg: "--backend nccl".into(),
            reason: format!(
                "NCCL runs the collective benchmarks only: `braingap run --suite collectives --backend nccl` \
                 (not --profile {})",
                profile.as_str()
            ),
        });
    }
    Ok(Execution::Timed)
}

/// Options of one suite given to another are refused, never silently ignored.
fn refuse_unused_options(args: &RunArgs, profile: Profile) -> Result<(), Error> {
    let unused = |arg: String, for_what: &str| Error::InvalidArgument {
        arg,
        reason: format!("applies to {for_what} only, not to --profile {}", profile.as_str()),
    };
    if profile != Profile::Collectives {
        if let Some(min) = args.min_message {
            return Err(unused(format!("--min-message {min}"), "--suite collectives"));
        }
        if let Some(max) = args.max_message {
            return Err(unused(format!("--max-message {max}"), "--suite collectives"));
        }
    }
    if args.metric == Metric::Instructions {
        if let Some(n) = args.samples {
            return Err(unused(
                format!("--samples {n}"),
                "timed runs (--metric time); --metric instructions counts one call",
            ));
        }
    }
    Ok(())
}

/// Selects the benchmarks: profile, filter, then the ceilings a roofline needs.
pub fn select(
    profile: Profile,
    filter: Option<&Filter>,
    ctx: &RegistryContext,
    ceilings: bool,
) -> anyhow::Result<Vec<BenchSpec>> {
    let mut specs = registry::profile(profile, ctx);
    if let Some(filter) = filter {
        specs.retain(|s| filter.is_match(&s.name()));
        if specs.is_empty() {
            return Err(Error::InvalidArgument {
                arg: format!("--filter {:?}", filter.as_str()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        run: RunArgs,
    }

    fn args(list: &[&str]) -> RunArgs {
        Wrapper::try_parse_from(std::iter::once("run").chain(list.iter().copied()))
            .unwrap()
            .run
    }

    #[test]
    fn the_filter_is_compiled_once_and_keeps_its_text() {
        let a = args(&["--filter", "^gemm/f(32|64)"]);
        let filter = a.filter.as_ref().unwrap();
        assert!(filter.is_match("gemm/f64/m=1") && !filter.is_match("conv2d/f32"));
        assert_eq!(filter.as_str(), "^gemm/f(32|64)");
        let error = Wrapper::try_parse_from(["run", "--filter", "gemm("])
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("--filter") && error.contains("not a valid regex"),
            "{error}"
        );
    }

    #[test]
    fn each_kind_of_run_gets_its_executor() {
        let plan =
            |list: &[&str], ranks: Option<u64>| RunPlan::new(&args(list), ranks).map(|p| (p.profile, p.execution));
        assert_eq!(plan(&[], None).unwrap(), (Profile::Quick, Execution::Timed));
        assert_eq!(
            plan(&["--metric", "instructions"], None).unwrap(),
            (Profile::Small, Execution::Instructions)
        );
        assert_eq!(
            plan(&["--suite", "collectives"], None).unwrap(),
            (Profile::Collectives, Execution::MpiSuite)
        );
        assert_eq!(
            plan(&["--suite", "collectives", "--backend", "nccl"], None).unwrap(),
            (Profile::Collectives, Execution::NcclCollectives)
        );
        assert_eq!(
            plan(&["--profile", "microcircuit"], Some(2)).unwrap().1,
            Execution::MicrocircuitRanks
        );
        assert_eq!(plan(&["--profile", "microcircuit"], None).unwrap().1, Execution::Timed);
        let refused = |list: &[&str], name: &str| {
            let error = plan(list, None).unwrap_err().to_string();
            assert!(error.contains(name), "{list:?}: {error}");
        };
        refused(&["--backend", "nccl"], "--backend nccl");
        refused(&["--suite", "dataparallel", "--backend", "nccl"], "--backend nccl");
        refused(&["--max-message", "1KiB"], "--max-message");
        refused(&["--metric", "instructions", "--samples", "3"], "--samples");
    }

    #[test]
    fn threads_default_to_this_process_share_of_the_cpus() {
        let cpus = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        assert_eq!(RunPlan::new(&args(&[]), None).unwrap().threads, cpus);
        assert_eq!(
            RunPlan::new(&args(&[]), Some(2)).unwrap().threads,
            (cpus / 2).max(1),
            "two ranks on this node share its CPUs"
        );
        assert_eq!(RunPlan::new(&args(&["--threads", "3"]), Some(2)).unwrap().threads, 3);
    }
}
