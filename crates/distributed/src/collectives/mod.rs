//! Collective-communication benchmarks: which collectives, at which message sizes, with
//! which buffers, how each result is checked against its closed form, and how time turns
//! into bandwidth (nccl-tests' conventions, `doc/PERFORMANCE.md` there).
//!
//! Sizes follow nccl-tests: `bytes` is the size of the larger of the per-rank send and
//! receive buffers (all-reduce: either; all-gather: the gathered output; reduce-scatter and
//! all-to-all: the input; broadcast: the buffer). Element type f32.
//!
//! - algorithm bandwidth `algbw = bytes / time`;
//! - bus bandwidth `busbw = algbw × factor(n)`, with factor 2(n−1)/n for all-reduce,
//!   (n−1)/n for all-gather, reduce-scatter and all-to-all, and 1 for broadcast: the
//!   traffic each rank's link must carry in the optimal algorithm, comparable with the
//!   hardware's peak whatever the rank count.

pub mod nccl;
pub mod runner;

pub use runner::{run_collectives, CollectiveConfig, CollectiveEngine, HostEngine, RankRecord, RankSink};

use serde::{Deserialize, Serialize};

/// Bytes per element (f32).
pub const ELEMENT_BYTES: u64 = 4;

/// Smallest message of the sweep.
pub const MIN_MESSAGE_BYTES: u64 = 8;

/// Largest message of the full sweep (1 GiB).
pub const MAX_MESSAGE_BYTES: u64 = 1 << 30;

/// The collectives benchmarked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collective {
    /// `MPI_Allreduce` with `MPI_SUM`.
    AllReduce,
    /// `MPI_Allgather`.
    AllGather,
    /// `MPI_Reduce_scatter_block` with `MPI_SUM`.
    ReduceScatter,
    /// `MPI_Bcast` from rank 0.
    Broadcast,
    /// `MPI_Alltoall`.
    AllToAll,
}

impl Collective {
    /// Every collective, in run order.
    pub const ALL: [Collective; 5] = [
        Collective::AllReduce,
        Collective::AllGather,
        Collective::ReduceScatter,
        Collective::Broadcast,
        Collective::AllToAll,
    ];

    /// Name used in benchmark names and the `kernel` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Collective::AllReduce => "allreduce",
            Collective::AllGather => "allgather",
            Collective::ReduceScatter => "reduce_scatter",
            Collective::Broadcast => "broadcast",
            Collective::AllToAll => "alltoall",
        }
    }

    /// The collective named `name` (as in [`Collective::as_str`]).
    pub fn from_name(name: &str) -> Option<Collective> {
        Collective::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// nccl-tests' bus-bandwidth factor for `ranks` ranks.
    pub fn bus_factor(self, ranks: usize) -> f64 {
        let n = ranks as f64;
        match self {
            Collective::AllReduce => 2.0 * (n - 1.0) / n,
            Collective::AllGather | Collective::ReduceScatter | Collective::AllToAll => (n - 1.0) / n,
            Collective::Broadcast => 1.0,
        }
    }

    /// Buffers for a nominal message of `bytes` over `ranks` ranks, or `None` when the
    /// message is smaller than one element per rank (rounded down to whole blocks, as
    /// nccl-tests does).
    pub fn layout(self, bytes: u64, ranks: usize) -> Option<Layout> {
        let n = ranks as u64;
        let elements = bytes / ELEMENT_BYTES;
        let (send, recv) = match self {
            Collective::AllReduce | Collective::Broadcast => (elements, elements),
            Collective::AllGather => {
                let block = elements / n;
                (block, block * n)
            }
            Collective::ReduceScatter => {
                let block = elements / n;
                (block * n, block)
            }
            Collective::AllToAll => {
                let block = elements / n;
                (block * n, block * n)
            }
        };
        if send == 0 || recv == 0 {
            return None;
        }
        Some(Layout {
            collective: self,
            ranks,
            send_len: send as usize,
            recv_len: recv as usize,
        })
    }
}

/// The buffers of one collective at one size on one rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The collective.
    pub collective: Collective,
    /// Ranks taking part.
    pub ranks: usize,
    /// Elements of the send buffer (broadcast: of the one buffer).
    pub send_len: usize,
    /// Elements of the receive buffer (broadcast: same buffer, not allocated twice).
    pub recv_len: usize,
}

impl Layout {
    /// The message size in nccl-tests' sense: the larger buffer, in bytes.
    pub fn bytes(&self) -> u64 {
        self.send_len.max(self.recv_len) as u64 * ELEMENT_BYTES
    }

    /// Bytes this rank allocates.
    pub fn rank_buffer_bytes(&self) -> u64 {
        let elements = match self.collective {
            Collective::Broadcast => self.send_len,
            _ => self.send_len + self.recv_len,
        };
        elements as u64 * ELEMENT_BYTES
    }

    /// Benchmark name, `collective/f32/bytes=B,ranks=N`.
    pub fn name(&self) -> String {
        format!(
            "{}/f32/bytes={},ranks={}",
            self.collective.as_str(),
            self.bytes(),
            self.ranks
        )
    }

    /// Algorithm bandwidth, bytes/s, for `seconds` per call.
    pub fn algbw(&self, seconds: f64) -> f64 {
        self.bytes() as f64 / seconds
    }

    /// Bus bandwidth, bytes/s, for `seconds` per call.
    pub fn busbw(&self, seconds: f64) -> f64 {
        self.algbw(seconds) * self.collective.bus_factor(self.ranks)
    }
}

/// Nominal sizes from `min` to `max` bytes, doubling (both powers of two in practice).
pub fn message_sizes(min: u64, max: u64) -> Vec<u64> {
    let mut sizes = Vec::new();
    let mut size = min.max(1);
    while size <= max {
        sizes.push(size);
        size = match size.checked_mul(2) {
            Some(s) => s,
            None => break,
        };
    }
    sizes
}

/// The plan of a sweep: every collective at every size that fits `ranks`.
pub fn plan(collectives: &[Collective], sizes: &[u64], ranks: usize) -> Vec<Layout> {
    collectives
        .iter()
        .flat_map(|c| sizes.iter().filter_map(move |&b| c.layout(b, ranks)))
        .collect()
}

/// Value rank `rank` puts at element `index` of its send buffer: small integers, so every
/// sum of up to 2^16 ranks is exact in f32 and a misplaced block shows.
pub fn send_value(collective: Collective, rank: usize, ranks: usize, index: usize) -> f32 {
    match collective {
        // Depends on the rank and the position within the block (all-reduce: whole buffer).
        Collective::AllReduce | Collective::ReduceScatter | Collective::AllGather | Collective::Broadcast => {
            ((rank + 1) * (index % 7 + 1)) as f32
        }
        // Element `index` lies in the block for destination `index / block`; encodes the
        // (source, destination) pair and the position within the block.
        Collective::AllToAll => {
            let _ = ranks;
            (rank * 1024 + index % 1024) as f32
        }
    }
}

/// Fills a rank's send buffer.
pub fn fill_send(layout: &Layout, rank: usize, send: &mut [f32]) {
    for (i, x) in send.iter_mut().enumerate() {
        *x = send_value(layout.collective, rank, layout.ranks, i);
    }
}

/// What rank `rank` must hold at `index` of its receive buffer after the collective (the
/// closed form; no other rank's data is needed).
pub fn expected_value(layout: &Layout, rank: usize, index: usize) -> f32 {
    let n = layout.ranks;
    let c = layout.collective;
    match c {
        // Σ_r (r+1)·(i%7+1) = (i%7+1)·n(n+1)/2
        Collective::AllReduce => ((index % 7 + 1) * n * (n + 1) / 2) as f32,
        Collective::AllGather => {
            let block = layout.send_len;
            send_value(c, index / block, n, index % block)
        }
        Collective::ReduceScatter => {
            let global = rank * layout.recv_len + index;
            ((global % 7 + 1) * n * (n + 1) / 2) as f32
        }
        Collective::Broadcast => send_value(c, 0, n, index),
        // Block j of the receive buffer is block `rank` of rank j's send buffer.
        Collective::AllToAll => {
            let block = layout.recv_len / n;
            let source = index / block;
            send_value(c, source, n, rank * block + index % block)
        }
    }
}

/// Checks a rank's receive buffer against the closed form, every element, exactly (the
/// sums are of small integers).
pub fn verify(layout: &Layout, rank: usize, recv: &[f32]) -> crate::kernels::Verification {
    let mut first_bad = None;
    let mut max_abs = 0.0f64;
    for (i, &got) in recv.iter().enumerate() {
        let want = expected_value(layout, rank, i);
        let diff = (f64::from(got) - f64::from(want)).abs();
        if diff > max_abs {
            max_abs = diff;
        }
        if got != want && first_bad.is_none() {
            first_bad = Some((i, got, want));
        }
    }
    let what = match layout.collective {
        Collective::AllReduce => "sum of rank-dependent inputs against (i%7+1)·n(n+1)/2",
        Collective::AllGather => "every gathered block against its source rank's values",
        Collective::ReduceScatter => "reduced block against (i%7+1)·n(n+1)/2 at its global index",
        Collective::Broadcast => "buffer against the root's values",
        Collective::AllToAll => "every received block against its (source, destination) code",
    };
    match first_bad {
        None => crate::kernels::Verification {
            passed: true,
            checked: recv.len() as u64,
            max_abs_error: 0.0,
            max_error_ratio: 0.0,
            detail: format!("{what}: {} elements exact on rank {rank}", recv.len()),
        },
        Some((i, got, want)) => crate::kernels::Verification {
            passed: false,
            checked: recv.len() as u64,
            max_abs_error: max_abs,
            max_error_ratio: f64::INFINITY,
            detail: format!("{what}: rank {rank} element {i} is {got}, expected {want}"),
        },
    }
}

/// Timed calls per sample for a message of `bytes`: about 64 MiB moved per sample, at least
/// 1 call and at most 1000 (the C peer in `scripts/mpi-peer/` uses the same rule).
pub fn iterations_per_sample(bytes: u64) -> u64 {
    ((64u64 << 20) / bytes.max(1)).clamp(1, 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each rank receives, computed by moving data between in-memory "ranks": an
    /// implementation independent of the closed forms.
    fn simulate(layout: &Layout) -> Vec<Vec<f32>> {
        let n = layout.ranks;
        let sends: Vec<Vec<f32>> = (0..n)
            .map(|r| {
                let mut s = vec![0.0; layout.send_len];
                fill_send(layout, r, &mut s);
                s
            })
            .collect();
        (0..n)
            .map(|r| match layout.collective {
                Collective::AllReduce => (0..layout.recv_len).map(|i| sends.iter().map(|s| s[i]).sum()).collect(),
                Collective::AllGather => sends.concat(),
                Collective::ReduceScatter => {
                    let c = layout.recv_len;
                    (0..c).map(|i| sends.iter().map(|s| s[r * c + i]).sum()).collect()
                }
                Collective::Broadcast => sends[0].clone(),
                Collective::AllToAll => {
                    let b = layout.send_len / n;
                    (0..n).flat_map(|j| sends[j][r * b..(r + 1) * b].to_vec()).collect()
                }
            })
            .collect()
    }

    #[test]
    fn closed_forms_match_a_simulation_of_every_collective() {
        for ranks in [1, 2, 3, 4, 8] {
            for c in Collective::ALL {
                for bytes in message_sizes(8, 1 << 14) {
                    let Some(layout) = c.layout(bytes, ranks) else { continue };
                    for (rank, recv) in simulate(&layout).iter().enumerate() {
                        let v = verify(&layout, rank, recv);
                        assert!(v.passed, "{} rank {rank}: {}", layout.name(), v.detail);
                    }
                }
            }
        }
    }

    #[test]
    fn a_misplaced_block_fails_verification() {
        let layout = Collective::AllGather.layout(64, 2).unwrap();
        let mut recv = simulate(&layout).remove(0);
        recv.swap(0, layout.send_len);
        let v = verify(&layout, 0, &recv);
        assert!(!v.passed);
        assert!(v.detail.contains("element 0"), "{}", v.detail);
        let layout = Collective::AllToAll.layout(64, 4).unwrap();
        let mut recv = simulate(&layout).remove(1);
        recv.rotate_left(layout.recv_len / 4);
        assert!(!verify(&layout, 1, &recv).passed);
    }

    #[test]
    fn bus_factors_follow_nccl_tests() {
        assert_eq!(Collective::AllReduce.bus_factor(2), 1.0);
        assert_eq!(Collective::AllReduce.bus_factor(4), 1.5);
        assert_eq!(Collective::AllGather.bus_factor(4), 0.75);
        assert_eq!(Collective::ReduceScatter.bus_factor(2), 0.5);
        assert_eq!(Collective::AllToAll.bus_factor(8), 0.875);
        assert_eq!(Collective::Broadcast.bus_factor(8), 1.0);
        let layout = Collective::AllReduce.layout(1 << 20, 4).unwrap();
        assert_eq!(layout.algbw(1e-3), (1u64 << 20) as f64 / 1e-3);
        assert_eq!(layout.busbw(1e-3), 1.5 * (1u64 << 20) as f64 / 1e-3);
    }

    #[test]
    fn sizes_double_from_8_bytes_to_1_gib() {
        let sizes = message_sizes(MIN_MESSAGE_BYTES, MAX_MESSAGE_BYTES);
        assert_eq!(sizes.len(), 28);
        assert_eq!(sizes[0], 8);
        assert_eq!(*sizes.last().unwrap(), 1 << 30);
        assert!(sizes.windows(2).all(|w| w[1] == 2 * w[0]));
    }

    #[test]
    fn layouts_round_down_to_whole_blocks_and_skip_empty_ones() {
        // 8 B is 2 elements: one per rank on 2 ranks, none per rank on 4.
        assert_eq!(Collective::AllGather.layout(8, 2).unwrap().bytes(), 8);
        assert!(Collective::AllGather.layout(8, 4).is_none());
        assert!(Collective::AllReduce.layout(8, 4).is_some());
        // 3 ranks: 16 B = 4 elements -> one block of 1 each, 12 B.
        let l = Collective::ReduceScatter.layout(16, 3).unwrap();
        assert_eq!((l.send_len, l.recv_len, l.bytes()), (3, 1, 12));
        assert_eq!(
            Collective::Broadcast.layout(1 << 20, 2).unwrap().rank_buffer_bytes(),
            1 << 20
        );
        assert_eq!(
            Collective::AllReduce.layout(1 << 20, 2).unwrap().rank_buffer_bytes(),
            2 << 20
        );
        let names: std::collections::BTreeSet<String> = plan(&Collective::ALL, &message_sizes(8, 1 << 12), 3)
            .iter()
            .map(Layout::name)
            .collect();
        assert_eq!(names.len(), plan(&Collective::ALL, &message_sizes(8, 1 << 12), 3).len());
    }

    #[test]
    fn iterations_move_about_64_mib_per_sample() {
        assert_eq!(iterations_per_sample(8), 1000);
        assert_eq!(iterations_per_sample(1 << 20), 64);
        assert_eq!(iterations_per_sample(1 << 30), 1);
    }
}
