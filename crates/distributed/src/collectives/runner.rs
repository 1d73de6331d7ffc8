//! Runs the collective sweep in one process: per message size, allocate (after a memory
//! check every rank agrees on), fill, one verified call, warm-up, then timed samples of a
//! fixed number of calls each, between barriers. Each finished benchmark goes to a
//! [`RankSink`] (the rank's results file) before the next starts.
//!
//! What the calls run on is a [`CollectiveEngine`]: [`HostEngine`] puts any
//! [`Communicator`] behind it (one rank per process, buffers in host memory: MPI, or
//! [`SelfComm`](crate::comm::SelfComm) in tests); the NCCL engine (`crate::collectives::nccl`,
//! feature `nccl`) plays every GPU of its process as one rank, buffers in device memory.
//!
//! Every decision that changes which collectives a rank calls (skip for memory, stop after
//! a failed check) is reduced across processes first, so no rank waits in a collective the
//! others skipped.

use super::{fill_send, iterations_per_sample, verify, Collective, Layout};
use crate::comm::{reduce_scalar, Communicator, ReduceOp};
use crate::error::Error;
use crate::measure::Status;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::time::Instant;

/// What the sweep drives: the ranks this process plays, their buffers, and the calls.
/// Every process calls the methods in the same order (MPI's rule).
pub trait CollectiveEngine {
    /// Ranks in the whole run.
    fn world_size(&self) -> usize;
    /// The ranks this process plays, in order (an MPI process plays its own rank).
    fn local_ranks(&self) -> Vec<usize>;
    /// Minimum of `value` over every process (for decisions every rank must share).
    fn min_over_processes(&self, value: f64) -> f64;
    /// Returns when every rank's calls so far have completed and every process got here.
    fn barrier(&mut self) -> Result<(), Error>;
    /// Allocates the buffers of `layout` for every rank played here and sets each one's
    /// send buffer (broadcast: its one buffer) to `initial(rank)`.
    fn prepare(&mut self, layout: &Layout, initial: &dyn Fn(usize) -> Vec<f32>) -> Result<(), Error>;
    /// One call of the prepared collective on every rank played here; may return before
    /// the call completes (GPU streams), see [`CollectiveEngine::synchronize`].
    fn call(&mut self) -> Result<(), Error>;
    /// Returns when the calls issued so far have completed.
    fn synchronize(&mut self) -> Result<(), Error>;
    /// What `rank` (one played here) holds in its receive buffer (broadcast: its buffer),
    /// in host memory.
    fn received(&mut self, rank: usize) -> Result<Cow<'_, [f32]>, Error>;
    /// Frees the buffers of the prepared layout.
    fn release(&mut self);
}

/// Buffers of one benchmark; broadcast uses `send` only.
struct Buffers {
    collective: Collective,
    send: Vec<f32>,
    recv: Vec<f32>,
}

/// A [`Communicator`] as an engine: this process is one rank, buffers live in host memory,
/// and each call is the communicator's (blocking) collective, nothing added.
pub struct HostEngine<'a> {
    comm: &'a dyn Communicator,
    buffers: Option<Buffers>,
}

impl<'a> HostEngine<'a> {
    /// The engine of `comm`'s rank.
    pub fn new(comm: &'a dyn Communicator) -> HostEngine<'a> {
        HostEngine { comm, buffers: None }
    }
}

impl CollectiveEngine for HostEngine<'_> {
    fn world_size(&self) -> usize {
        self.comm.size()
    }
    fn local_ranks(&self) -> Vec<usize> {
        vec![self.comm.rank()]
    }
    fn min_over_processes(&self, value: f64) -> f64 {
        reduce_scalar(self.comm, value, ReduceOp::Min)
    }
    fn barrier(&mut self) -> Result<(), Error> {
        self.comm.barrier();
        Ok(())
    }
    fn prepare(&mut self, layout: &Layout, initial: &dyn Fn(usize) -> Vec<f32>) -> Result<(), Error> {
        let send = initial(self.comm.rank());
        let recv = if layout.collective == Collective::Broadcast {
            Vec::new()
        } else {
            vec![0.0; layout.recv_len]
        };
        self.buffers = Some(Buffers {
            collective: layout.collective,
            send,
            recv,
        });
        Ok(())
    }
    #[inline]
    fn call(&mut self) -> Result<(), Error> {
        let b = self.buffers.as_mut().expect("prepare() before call()");
        let comm = self.comm;
        match b.collective {
            Collective::AllReduce => comm.all_reduce_sum(&b.send, &mut b.recv),
            Collective::AllGather => comm.all_gather(&b.send, &mut b.recv),
            Collective::ReduceScatter => comm.reduce_scatter_sum(&b.send, &mut b.recv),
            Collective::Broadcast => comm.broadcast(&mut b.send, 0),
            Collective::AllToAll => comm.all_to_all(&b.send, &mut b.recv),
        }
        Ok(())
    }
    fn synchronize(&mut self) -> Result<(), Error> {
        Ok(())
    }
    fn received(&mut self, _rank: usize) -> Result<Cow<'_, [f32]>, Error> {
        let b = self.buffers.as_ref().expect("prepare() before received()");
        Ok(Cow::Borrowed(if b.collective == Collective::Broadcast {
            &b.send
        } else {
            &b.recv
        }))
    }
    fn release(&mut self) {
        self.buffers = None;
    }
}

/// What rank `rank` starts with: its send data, or for broadcast on a non-root rank values
/// that differ from the root's (so a broadcast that moved nothing fails its check).
pub fn initial_send(layout: &Layout, rank: usize) -> Vec<f32> {
    let mut send = vec![0.0; layout.send_len];
    if layout.collective != Collective::Broadcast || rank == 0 {
        fill_send(layout, rank, &mut send);
    } else {
        send.fill(-1.0);
    }
    send
}

/// How the sweep samples.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectiveConfig {
    /// Timed samples per message size.
    pub samples: usize,
    /// Untimed samples' worth of calls before timing.
    pub warmup_samples: usize,
    /// Memory the buffers of all ranks on one node may use, bytes (the smallest figure any
    /// rank reports); `None` when unknown (not checked).
    pub node_memory_bytes: Option<u64>,
    /// Ranks sharing one node's memory (the largest figure any rank reports).
    pub ranks_per_node: usize,
    /// What `node_memory_bytes` is the memory of, as skip reasons name it: `node` (host
    /// memory) or `GPU` (each rank's own device memory).
    pub memory_domain: String,
}

impl Default for CollectiveConfig {
    fn default() -> CollectiveConfig {
        CollectiveConfig {
            samples: 10,
            warmup_samples: 1,
            node_memory_bytes: None,
            ranks_per_node: 1,
            memory_domain: "node".into(),
        }
    }
}

/// One benchmark as one rank saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankRecord {
    /// `collective/f32/bytes=B,ranks=N`.
    pub benchmark: String,
    /// The collective.
    pub collective: Collective,
    /// Message size (nccl-tests' sense), bytes.
    pub bytes: u64,
    /// Ranks taking part.
    pub ranks: usize,
    /// Elements sent by this rank.
    pub send_len: usize,
    /// Elements received by this rank.
    pub recv_len: usize,
    /// Calls per timed sample.
    pub iters_per_sample: u64,
    /// This rank's time per call of each sample, seconds.
    pub samples_s: Vec<f64>,
    /// Outcome (the same on every rank).
    pub status: Status,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// What the check compared on this rank.
    pub verification: Option<String>,
    /// UTC start, RFC 3339.
    pub started_at: String,
    /// UTC end, RFC 3339.
    pub finished_at: String,
}

/// Where the ranks' finished records go.
pub trait RankSink {
    /// Persists one finished record of rank `rank`.
    fn record(&mut self, rank: usize, record: &RankRecord) -> Result<(), Error>;
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs every layout on the ranks `engine` plays, in order; returns their records
/// (layout by layout, ranks in order within each). Only an engine or sink error stops the
/// sweep. Generic, so that a [`HostEngine`] call costs what the communicator's call does.
pub fn run_collectives<E: CollectiveEngine + ?Sized>(
    engine: &mut E,
    layouts: &[Layout],
    config: &CollectiveConfig,
    sink: &mut dyn RankSink,
) -> Result<Vec<RankRecord>, Error> {
    let ranks = engine.local_ranks();
    let mut records = Vec::with_capacity(layouts.len() * ranks.len());
    for layout in layouts {
        let started_at = now();
        let iters = iterations_per_sample(layout.bytes());
        let mut record = RankRecord {
            benchmark: layout.name(),
            collective: layout.collective,
            bytes: layout.bytes(),
            ranks: layout.ranks,
            send_len: layout.send_len,
            recv_len: layout.recv_len,
            iters_per_sample: iters,
            samples_s: Vec::new(),
            status: Status::Ok,
            reason: None,
            verification: None,
            started_at,
            finished_at: String::new(),
        };
        let mut finish = |record: &mut RankRecord, details: &[Option<String>]| -> Result<(), Error> {
            record.finished_at = now();
            for (i, &rank) in ranks.iter().enumerate() {
                let mut own = record.clone();
                if let Some(detail) = details.get(i) {
                    own.verification = detail.clone();
                }
                sink.record(rank, &own)?;
                records.push(own);
            }
            Ok(())
        };
        let node_need = layout.rank_buffer_bytes() * config.ranks_per_node as u64;
        if let Some(available) = config.node_memory_bytes {
            if node_need as f64 > 0.9 * available as f64 {
                record.status = Status::Skipped;
                record.reason = Some(format!(
                    "needs {:.3} GiB of buffers per {} ({} ranks × {:.3} GiB) but {:.3} GiB is available \
                     (90% limit); {}",
                    node_need as f64 / (1u64 << 30) as f64,
                    config.memory_domain,
                    config.ranks_per_node,
                    layout.rank_buffer_bytes() as f64 / (1u64 << 30) as f64,
                    available as f64 / (1u64 << 30) as f64,
                    if config.ranks_per_node > 1 {
                        "run fewer ranks per node or a smaller --max-message"
                    } else {
                        "run a smaller --max-message"
                    }
                ));
                finish(&mut record, &[])?;
                continue;
            }
        }
        engine.prepare(layout, &|rank| initial_send(layout, rank))?;
        engine.barrier()?;
        engine.call()?;
        engine.synchronize()?;
        let mut details = Vec::with_capacity(ranks.len());
        let mut first_failure = None;
        for &rank in &ranks {
            let check = verify(layout, rank, &engine.received(rank)?);
            if !check.passed && first_failure.is_none() {
                first_failure = Some(check.detail.clone());
            }
            details.push(Some(check.detail));
        }
        let local_passed = first_failure.is_none();
        let all_passed = engine.min_over_processes(if local_passed { 1.0 } else { 0.0 }) == 1.0;
        if !all_passed {
            engine.release();
            record.status = Status::Failed;
            record.reason = Some(match first_failure {
                None => "verification failed on another rank; nothing timed".into(),
                Some(detail) => format!("verification failed: {detail}"),
            });
            finish(&mut record, &details)?;
            continue;
        }
        for _ in 0..iters * config.warmup_samples as u64 {
            engine.call()?;
        }
        for _ in 0..config.samples {
            engine.barrier()?;
            let start = Instant::now();
            for _ in 0..iters {
                engine.call()?;
            }
            engine.synchronize()?;
            record.samples_s.push(start.elapsed().as_secs_f64() / iters as f64);
        }
        engine.release();
        finish(&mut record, &details)?;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectives::{message_sizes, plan};
    use crate::comm::SelfComm;
    use std::borrow::Cow;

    #[derive(Default)]
    struct Collect(Vec<RankRecord>);
    impl RankSink for Collect {
        fn record(&mut self, _rank: usize, record: &RankRecord) -> Result<(), Error> {
            self.0.push(record.clone());
            Ok(())
        }
    }

    #[test]
    fn one_rank_sweep_verifies_and_times_every_size() {
        let layouts = plan(&Collective::ALL, &message_sizes(8, 4096), 1);
        let config = CollectiveConfig {
            samples: 3,
            ..CollectiveConfig::default()
        };
        let mut sink = Collect::default();
        let records = run_collectives(&mut HostEngine::new(&SelfComm), &layouts, &config, &mut sink).unwrap();
        assert_eq!(records.len(), 5 * 10);
        assert_eq!(sink.0, records, "every record reaches the sink");
        for r in &records {
            assert_eq!(r.status, Status::Ok, "{}: {:?}", r.benchmark, r.reason);
            assert_eq!(r.samples_s.len(), 3);
            assert!(r.samples_s.iter().all(|&t| t > 0.0 && t.is_finite()));
            assert!(r.verification.as_deref().unwrap().contains("exact"));
        }
    }

    /// Plays `ranks` ranks in one process by moving data between in-memory buffers, as the
    /// NCCL engine plays a process's GPUs: the test double of an engine with several local
    /// ranks. `corrupt` flips one element of that rank's result.
    struct InMemoryRanks {
        ranks: usize,
        layout: Option<Layout>,
        send: Vec<Vec<f32>>,
        recv: Vec<Vec<f32>>,
        calls: usize,
        synchronized: usize,
        corrupt: Option<usize>,
    }

    impl InMemoryRanks {
        fn new(ranks: usize) -> InMemoryRanks {
            InMemoryRanks {
                ranks,
                layout: None,
                send: Vec::new(),
                recv: Vec::new(),
                calls: 0,
                synchronized: 0,
                corrupt: None,
            }
        }
    }

    impl CollectiveEngine for InMemoryRanks {
        fn world_size(&self) -> usize {
            self.ranks
        }
        fn local_ranks(&self) -> Vec<usize> {
            (0..self.ranks).collect()
        }
        fn min_over_processes(&self, value: f64) -> f64 {
            value
        }
        fn barrier(&mut self) -> Result<(), Error> {
            self.synchronize()
        }
        fn prepare(&mut self, layout: &Layout, initial: &dyn Fn(usize) -> Vec<f32>) -> Result<(), Error> {
            self.layout = Some(*layout);
            self.send = (0..self.ranks).map(initial).collect();
            self.recv = vec![vec![0.0; layout.recv_len]; self.ranks];
            Ok(())
        }
        fn call(&mut self) -> Result<(), Error> {
            let l = self.layout.unwrap();
            let n = self.ranks;
            let s = &self.send;
            for r in 0..n {
                self.recv[r] = match l.collective {
                    Collective::AllReduce => (0..l.recv_len).map(|i| s.iter().map(|x| x[i]).sum()).collect(),
                    Collective::AllGather => s.concat(),
                    Collective::ReduceScatter => {
                        let c = l.recv_len;
                        (0..c).map(|i| s.iter().map(|x| x[r * c + i]).sum()).collect()
                    }
                    Collective::Broadcast => s[0].clone(),
                    Collective::AllToAll => {
                        let b = l.send_len / n;
                        (0..n).flat_map(|j| s[j][r * b..(r + 1) * b].to_vec()).collect()
                    }
                };
            }
            if let Some(r) = self.corrupt {
                self.recv[r][0] += 1.0;
            }
            self.calls += 1;
            Ok(())
        }
        fn synchronize(&mut self) -> Result<(), Error> {
            self.synchronized += 1;
            Ok(())
        }
        fn received(&mut self, rank: usize) -> Result<Cow<'_, [f32]>, Error> {
            Ok(Cow::Borrowed(&self.recv[rank]))
        }
        fn release(&mut self) {
            self.send.clear();
            self.recv.clear();
        }
    }

    #[derive(Default)]
    struct ByRank(Vec<(usize, RankRecord)>);
    impl RankSink for ByRank {
        fn record(&mut self, rank: usize, record: &RankRecord) -> Result<(), Error> {
            self.0.push((rank, record.clone()));
            Ok(())
        }
    }

    #[test]
    fn an_engine_playing_several_ranks_records_each_rank_and_awaits_every_sample() {
        let layouts = plan(&Collective::ALL, &message_sizes(8, 1024), 3);
        let config = CollectiveConfig {
            samples: 2,
            ..CollectiveConfig::default()
        };
        let mut engine = InMemoryRanks::new(3);
        let mut sink = ByRank::default();
        let records = run_collectives(&mut engine, &layouts, &config, &mut sink).unwrap();
        assert_eq!(records.len(), 3 * layouts.len());
        assert_eq!(sink.0.iter().map(|(r, _)| *r).collect::<Vec<_>>()[..3], [0, 1, 2]);
        for (rank, r) in &sink.0 {
            assert_eq!(r.status, Status::Ok, "{}: {:?}", r.benchmark, r.reason);
            let v = r.verification.as_deref().unwrap();
            assert!(v.contains(&format!("on rank {rank}")), "each rank's own check: {v}");
            assert_eq!(r.samples_s.len(), 2);
        }
        // Per layout: the checked call, one warm-up sample and two timed samples of calls.
        let calls: u64 = layouts.iter().map(|l| 1 + 3 * iterations_per_sample(l.bytes())).sum();
        assert_eq!(engine.calls as u64, calls);
        // Per layout: the barrier before the checked call and its awaited end, then per sample
        // a barrier and the awaited end of its calls.
        assert_eq!(engine.synchronized, layouts.len() * (2 + 2 * 2));
    }

    #[test]
    fn a_wrong_result_on_one_played_rank_fails_the_benchmark_for_all() {
        let layouts = plan(&[Collective::AllReduce], &[64], 2);
        let mut engine = InMemoryRanks::new(2);
        engine.corrupt = Some(1);
        let records = run_collectives(
            &mut engine,
            &layouts,
            &CollectiveConfig::default(),
            &mut ByRank::default(),
        )
        .unwrap();
        assert_eq!(records.len(), 2);
        for r in &records {
            assert_eq!(r.status, Status::Failed);
            assert!(r.samples_s.is_empty(), "nothing timed");
            assert!(
                r.reason.as_deref().unwrap().contains("rank 1 element 0"),
                "{:?}",
                r.reason
            );
        }
        assert!(records[0].verification.as_deref().unwrap().contains("exact on rank 0"));
        assert_eq!(engine.calls, 1);
    }

    #[test]
    fn sizes_over_the_memory_limit_are_skipped_with_the_figures() {
        let layouts = plan(&[Collective::AllReduce], &[1 << 10, 1 << 20], 1);
        let config = CollectiveConfig {
            samples: 1,
            node_memory_bytes: Some(1 << 20),
            ranks_per_node: 2,
            ..CollectiveConfig::default()
        };
        let records = run_collectives(
            &mut HostEngine::new(&SelfComm),
            &layouts,
            &config,
            &mut Collect::default(),
        )
        .unwrap();
        assert_eq!(records[0].status, Status::Ok);
        assert_eq!(records[1].status, Status::Skipped);
        let reason = records[1].reason.as_deref().unwrap();
        assert!(reason.contains("2 ranks") && reason.contains("0.004 GiB"), "{reason}");
        assert!(records[1].samples_s.is_empty());
    }
}
