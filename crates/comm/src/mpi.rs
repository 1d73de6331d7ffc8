//! [`Communicator`] over MPI (rsmpi, built against the system's Open MPI): each method is
//! one MPI call on the communicator, nothing added, so what is timed is the library's
//! collective.

use super::{Communicator, ReduceOp};
use mpi::collective::SystemOperation;
use mpi::datatype::PartitionMut;
use mpi::topology::{Color, SimpleCommunicator};
use mpi::traits::*;
// rsmpi's trait of the same name as ours (the glob import loses to the explicit one).
use mpi::topology::Communicator as _;

/// Initialises MPI for this process; dropping the returned universe finalises it. Fails
/// (with the reason) when MPI was already initialised.
pub fn initialize() -> Result<mpi::environment::Universe, String> {
    mpi::initialize().ok_or_else(|| "MPI was already initialised in this process".into())
}

/// An MPI communicator.
pub struct MpiComm {
    comm: SimpleCommunicator,
}

impl MpiComm {
    /// `MPI_COMM_WORLD` of `universe`.
    pub fn world(universe: &mpi::environment::Universe) -> MpiComm {
        MpiComm { comm: universe.world() }
    }
}

fn op(op: ReduceOp) -> SystemOperation {
    match op {
        ReduceOp::Sum => SystemOperation::sum(),
        ReduceOp::Min => SystemOperation::min(),
        ReduceOp::Max => SystemOperation::max(),
    }
}

impl Communicator for MpiComm {
    fn rank(&self) -> usize {
        self.comm.rank() as usize
    }
    fn size(&self) -> usize {
        self.comm.size() as usize
    }
    fn library(&self) -> String {
        let (major, minor) = mpi::environment::version();
        let library = mpi::environment::library_version().unwrap_or_else(|_| "unknown MPI library".into());
        // Open MPI's string runs on with package and date details; its first clause names it.
        let short = library.split(',').next().unwrap_or(&library).trim().to_string();
        format!("{short} (MPI {major}.{minor})")
    }
    fn barrier(&self) {
        self.comm.barrier();
    }
    fn all_reduce_sum(&self, send: &[f32], recv: &mut [f32]) {
        self.comm.all_reduce_into(send, recv, SystemOperation::sum());
    }
    fn all_gather(&self, send: &[f32], recv: &mut [f32]) {
        self.comm.all_gather_into(send, recv);
    }
    fn reduce_scatter_sum(&self, send: &[f32], recv: &mut [f32]) {
        self.comm.reduce_scatter_block_into(send, recv, SystemOperation::sum());
    }
    fn broadcast(&self, buffer: &mut [f32], root: usize) {
        self.comm.process_at_rank(root as i32).broadcast_into(buffer);
    }
    fn all_to_all(&self, send: &[f32], recv: &mut [f32]) {
        self.comm.all_to_all_into(send, recv);
    }
    fn all_reduce_f64(&self, send: &[f64], recv: &mut [f64], reduce: ReduceOp) {
        self.comm.all_reduce_into(send, recv, op(reduce));
    }
    fn broadcast_bytes(&self, bytes: &mut Vec<u8>, root: usize) {
        let process = self.comm.process_at_rank(root as i32);
        let mut len = bytes.len() as u64;
        process.broadcast_into(&mut len);
        bytes.resize(len as usize, 0);
        process.broadcast_into(&mut bytes[..]);
    }
    fn all_gather_varcount_u32(&self, send: &[u32], recv: &mut [Vec<u32>]) {
        let mut counts = vec![0 as mpi::Count; recv.len()];
        self.comm.all_gather_into(&(send.len() as mpi::Count), &mut counts[..]);
        let displs: Vec<mpi::Count> = counts
            .iter()
            .scan(0, |at, &c| {
                let d = *at;
                *at += c;
                Some(d)
            })
            .collect();
        let total = counts.iter().map(|&c| c as usize).sum();
        let mut flat = vec![0u32; total];
        {
            let mut partition = PartitionMut::new(&mut flat[..], &counts[..], &displs[..]);
            self.comm.all_gather_varcount_into(send, &mut partition);
        }
        for ((r, &c), &d) in recv.iter_mut().zip(&counts).zip(&displs) {
            r.clear();
            r.extend_from_slice(&flat[d as usize..(d + c) as usize]);
        }
    }
    fn first_ranks(&self, ranks: usize) -> Option<Box<dyn Communicator>> {
        let color = if self.rank() < ranks {
            Color::with_value(0)
        } else {
            Color::undefined()
        };
        self.comm
            .split_by_color(color)
            .map(|comm| Box::new(MpiComm { comm }) as Box<dyn Communicator>)
    }
}
