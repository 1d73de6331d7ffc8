//! Who executes benchmarks, as results name it: `cpu`, `fake`, `torch`, `cuda` (backends of a
//! timed run), `mpi` and `nccl` (the communication libraries of a collectives run).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Who executed a run's benchmarks. Written to `meta.json`, `summary.csv` and `samples.csv`
/// as the lowercase names they always were, so runs stored before the type still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// The pure-Rust CPU backend (gemm crate, rayon).
    Cpu,
    /// The deterministic test double: computes nothing, times are modelled.
    Fake,
    /// libtorch through tch.
    Torch,
    /// The cortical microcircuit on an NVIDIA GPU (CUDA kernels through cudarc).
    Cuda,
    /// Collectives and data-parallel runs over MPI ranks.
    Mpi,
    /// Collectives through NCCL on this process's GPUs.
    Nccl,
}

impl BackendKind {
    /// Every kind, in the order `--help` lists them.
    pub const ALL: [BackendKind; 6] = [
        BackendKind::Cpu,
        BackendKind::Fake,
        BackendKind::Torch,
        BackendKind::Cuda,
        BackendKind::Mpi,
        BackendKind::Nccl,
    ];

    /// The name stored in results and given to `--backend`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Fake => "fake",
            BackendKind::Torch => "torch",
            BackendKind::Cuda => "cuda",
            BackendKind::Mpi => "mpi",
            BackendKind::Nccl => "nccl",
        }
    }
}

/// Ordered by name, as the strings were before the type.
impl Ord for BackendKind {
    fn cmp(&self, other: &BackendKind) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for BackendKind {
    fn partial_cmp(&self, other: &BackendKind) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BackendKind {
    type Err = String;
    /// Reads a stored name or `--backend`'s value.
    fn from_str(text: &str) -> Result<BackendKind, String> {
        BackendKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                let known: Vec<&str> = BackendKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown backend {text:?} (known: {})", known.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_say_which_are_known() {
        for kind in BackendKind::ALL {
            assert_eq!(kind.as_str().parse::<BackendKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        let error = "gpu".parse::<BackendKind>().unwrap_err();
        assert!(
            error.contains("unknown backend \"gpu\"") && error.contains("cpu, fake, torch, cuda, mpi, nccl"),
            "{error}"
        );
    }
}
