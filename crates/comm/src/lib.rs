//! Communicators: the collective operations the distributed benchmarks time, behind a small
//! trait, with a single-process implementation ([`SelfComm`]) that tests reach without MPI
//! and an Open MPI one (`mpi.rs`, feature `mpi`). NCCL keeps its buffers on GPUs, so it is
//! not a host-buffer communicator but an engine of the collective sweep (the collectives
//! layer's `nccl` module, feature `nccl`); this layer knows nothing of the collectives.
//!
//! Semantics and buffer sizes follow MPI (and nccl-tests' naming): `count` is per rank for
//! all-gather's send and reduce-scatter's receive; all-to-all sends `send.len() / size`
//! elements to each rank.

#[cfg(feature = "mpi")]
pub mod mpi;

/// Where a rank runs: a machine fact, kept in the bottom layer (the store records it).
pub use braingap_core::launch::{self, LaunchInfo, SlurmInfo};

/// A reduction of `f64` values across ranks (aggregating results, agreeing on decisions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    /// Element-wise sum.
    Sum,
    /// Element-wise minimum.
    Min,
    /// Element-wise maximum.
    Max,
}

/// The collectives braingap times, over `f32`, plus what the runner needs to coordinate.
/// Every rank of the communicator must call each method in the same order (MPI's rule).
pub trait Communicator {
    /// This process's rank, 0-based.
    fn rank(&self) -> usize;
    /// Number of ranks.
    fn size(&self) -> usize;
    /// The MPI library and version (or `self` for [`SelfComm`]).
    fn library(&self) -> String;
    /// Blocks until every rank has called it.
    fn barrier(&self);
    /// `recv[i] = Σ_ranks send[i]`; `send.len() == recv.len()`.
    fn all_reduce_sum(&self, send: &[f32], recv: &mut [f32]);
    /// `recv[r·c..(r+1)·c] = send of rank r`, with `c = send.len()`; `recv.len() == size·c`.
    fn all_gather(&self, send: &[f32], recv: &mut [f32]);
    /// `recv = Σ_ranks send[rank·c..(rank+1)·c]`, with `c = recv.len()`; `send.len() == size·c`.
    fn reduce_scatter_sum(&self, send: &[f32], recv: &mut [f32]);
    /// Every rank's `buffer` becomes `root`'s.
    fn broadcast(&self, buffer: &mut [f32], root: usize);
    /// Block `j` of `send` goes to rank `j`; block `j` of `recv` comes from rank `j`.
    fn all_to_all(&self, send: &[f32], recv: &mut [f32]);
    /// Element-wise reduction of `f64` values into `recv`.
    fn all_reduce_f64(&self, send: &[f64], recv: &mut [f64], op: ReduceOp);
    /// Every rank's `bytes` become `root`'s (lengths may differ before the call).
    fn broadcast_bytes(&self, bytes: &mut Vec<u8>, root: usize);
    /// All-gather of `u32`s with per-rank lengths (MPI_Allgatherv): `recv[r]` becomes rank
    /// `r`'s `send`, this rank's included; `recv.len() == size`.
    fn all_gather_varcount_u32(&self, send: &[u32], recv: &mut [Vec<u32>]);
    /// The ranks `0..ranks` as a new communicator (ranks keep their order); `None` on the
    /// ranks left out. Collective: every rank calls it.
    fn first_ranks(&self, ranks: usize) -> Option<Box<dyn Communicator>>;
}

/// Reduces one `f64` across ranks.
pub fn reduce_scalar(comm: &dyn Communicator, value: f64, op: ReduceOp) -> f64 {
    let mut out = [0.0];
    comm.all_reduce_f64(&[value], &mut out, op);
    out[0]
}

/// The communicator of a single process: every collective is a copy. It lets the runner,
/// the verification and the store be tested without MPI, and gives the 1-rank baseline.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelfComm;

impl Communicator for SelfComm {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn library(&self) -> String {
        "self (one process, no MPI)".into()
    }
    fn barrier(&self) {}
    fn all_reduce_sum(&self, send: &[f32], recv: &mut [f32]) {
        recv.copy_from_slice(send);
    }
    fn all_gather(&self, send: &[f32], recv: &mut [f32]) {
        recv.copy_from_slice(send);
    }
    fn reduce_scatter_sum(&self, send: &[f32], recv: &mut [f32]) {
        recv.copy_from_slice(send);
    }
    fn broadcast(&self, _buffer: &mut [f32], _root: usize) {}
    fn all_to_all(&self, send: &[f32], recv: &mut [f32]) {
        recv.copy_from_slice(send);
    }
    fn all_reduce_f64(&self, send: &[f64], recv: &mut [f64], _op: ReduceOp) {
        recv.copy_from_slice(send);
    }
    fn broadcast_bytes(&self, _bytes: &mut Vec<u8>, _root: usize) {}
    fn all_gather_varcount_u32(&self, send: &[u32], recv: &mut [Vec<u32>]) {
        recv[0].clear();
        recv[0].extend_from_slice(send);
    }
    fn first_ranks(&self, ranks: usize) -> Option<Box<dyn Communicator>> {
        (ranks >= 1).then(|| Box::new(SelfComm) as Box<dyn Communicator>)
    }
}
