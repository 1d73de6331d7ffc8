//! The environment, read here and nowhere else: every `BRAINGAP_*` variable the commands
//! honour, and the command line a run records. Library code takes these as options
//! (`CpuBackend::with_plant`, `FakeBackend::new`, `MeterConfig`, `Callgrind::locate`,
//! `Machine::with_git_branch`, `RunStart::command_line`), so it can be driven, and tested,
//! without touching the process environment.

use crate::backends::fake::FakeBackend;
use crate::error::Error;
use crate::kernels::plant::{self, Plant};
use std::path::PathBuf;

/// Seconds of sleep per fake call, in milliseconds (`tests/`: a run slow enough to kill).
pub const FAKE_SLEEP_MS: &str = "BRAINGAP_FAKE_SLEEP_MS";
/// A regex of benchmarks whose fake verification fails.
pub const FAKE_FAIL: &str = "BRAINGAP_FAKE_FAIL";
/// The sysfs root (default `/sys`); tests point it at fixture trees.
pub const SYSFS_ROOT: &str = "BRAINGAP_SYSFS_ROOT";
/// The procfs root (default `/proc`), read for `cpuinfo` and `perf_event_paranoid`.
pub const PROC_ROOT: &str = "BRAINGAP_PROC_ROOT";
/// The branch recorded for a run (CI checkouts are often a detached HEAD).
pub const GIT_BRANCH: &str = "BRAINGAP_GIT_BRANCH";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn var_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The planted slowdown `BRAINGAP_PLANT_EXTRA_WORK` asks for; an error names the variable.
pub fn plant() -> Result<Option<Plant>, Error> {
    var(plant::ENV)
        .map(|v| plant::parse(&v))
        .transpose()
        .map_err(|reason| Error::InvalidArgument {
            arg: plant::ENV.into(),
            reason,
        })
}

/// The fake backend as `BRAINGAP_FAKE_SLEEP_MS` and `BRAINGAP_FAKE_FAIL` configure it.
pub fn fake_backend(threads: u64) -> Result<FakeBackend, Error> {
    let invalid = |arg: &str, reason: String| Error::InvalidArgument {
        arg: arg.into(),
        reason,
    };
    let sleep_ms = match var(FAKE_SLEEP_MS) {
        Some(v) => v
            .parse()
            .map_err(|_| invalid(FAKE_SLEEP_MS, format!("{v:?} is not a whole number")))?,
        None => 0,
    };
    let fail = match var(FAKE_FAIL) {
        Some(v) => Some(regex::Regex::new(&v).map_err(|e| invalid(FAKE_FAIL, e.to_string()))?),
        None => None,
    };
    Ok(FakeBackend::new(threads, sleep_ms, fail))
}

/// The meters' configuration with the sysfs and procfs roots `BRAINGAP_SYSFS_ROOT` and
/// `BRAINGAP_PROC_ROOT` name (unset: `/sys`, `/proc`).
pub fn meter_config() -> crate::meters::MeterConfig {
    crate::meters::MeterConfig {
        sysfs_root: var_path(SYSFS_ROOT),
        proc_root: var_path(PROC_ROOT),
        ..crate::meters::MeterConfig::default()
    }
}

/// `BRAINGAP_VALGRIND`: the valgrind to run (`None`: `valgrind` on `PATH`).
/// The reference datasets: `$BRAINGAP_DATA_DIR`, else the bundled `data/`.
pub fn data_dir() -> PathBuf {
    var_path("BRAINGAP_DATA_DIR").unwrap_or_else(crate::analysis::datasets::bundled_data_dir)
}

pub fn valgrind() -> Option<PathBuf> {
    var_path(crate::measure::instructions::VALGRIND_ENV)
}

/// `BRAINGAP_GIT_BRANCH`, trimmed.
pub fn git_branch() -> Option<String> {
    var(GIT_BRANCH).map(|b| b.trim().to_string())
}

/// This machine's facts, with the branch `BRAINGAP_GIT_BRANCH` names, if any.
pub fn machine(measured_ghz: Option<f64>) -> crate::machine::Machine {
    crate::machine::Machine::detect(measured_ghz, &crate::BUILD).with_git_branch(git_branch())
}

/// The command line that started this process, as a run records it.
pub fn command_line() -> Vec<String> {
    std::env::args().collect()
}

/// Under an MPI launcher (`mpirun`'s `OMPI_*`, or PMI/PMIx as `srun` sets them) in a build
/// with the `mpi` feature: the number of ranks on this node (`OMPI_COMM_WORLD_LOCAL_SIZE` or
/// `SLURM_NTASKS_PER_NODE`, else all the ranks); `None` otherwise. `run --profile
/// microcircuit` then splits the network over the ranks, and each rank's threads default to
/// its share of the node's CPUs.
pub fn local_ranks() -> Option<u64> {
    let var = |name: &str| std::env::var(name).ok();
    let launched = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]
        .iter()
        .any(|name| var(name).is_some());
    if !(cfg!(feature = "mpi") && launched) {
        return None;
    }
    let world = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]
        .iter()
        .find_map(|name| var(name).and_then(|v| v.trim().parse::<u64>().ok()));
    Some(
        crate::comm::LaunchInfo::from_process()
            .local_size
            .or(world)
            .unwrap_or(1)
            .max(1),
    )
}
