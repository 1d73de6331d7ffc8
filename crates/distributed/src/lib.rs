//! Distributed runs: what `braingap run --suite collectives` and `--profile dataparallel`
//! measure over MPI ranks (or NCCL's GPUs), and how the ranks' results become one run.
//!
//! - [`collectives`]: the collective benchmarks, their sweep, their checks against closed
//!   forms and their bandwidths (nccl-tests' conventions); NCCL's engine in
//!   [`collectives::nccl`] (feature `nccl`);
//! - [`dataparallel`]: the data-parallel SGD step of a small MLP, strong and weak scaling;
//! - [`ranks`]: one results file per rank, written atomically after every benchmark, and
//!   rank 0's merge into the run's `summary.csv`, `samples.csv`, `collectives.csv` and
//!   `scaling.csv`.
//!
//! Above the store and the runner, below the report and the CLI: the communicator comes in
//! from `braingap-comm`, progress goes out through `measure::Observer`.

use braingap_backends as backends;
use braingap_comm as comm;
use braingap_core::error;
use braingap_kernels as kernels;
use braingap_kernels::models;
use braingap_measure as measure;
use braingap_store as store;

pub mod collectives;
pub mod dataparallel;
pub mod ranks;
