//! Runs the collective sweep on one rank: per message size, allocate (after a memory check
//! every rank agrees on), fill, one verified call, warm-up, then timed samples of a fixed
//! number of calls each, between barriers. Each finished benchmark goes to a [`RankSink`]
//! (this rank's results file) before the next starts.
//!
//! Every decision that changes which collectives a rank calls (skip for memory, stop after
//! a failed check) is reduced across ranks first, so no rank waits in a collective the
//! others skipped.

use super::{fill_send, iterations_per_sample, verify, Collective, Layout};
use crate::comm::{reduce_scalar, Communicator, ReduceOp};
use crate::error::Error;
use crate::measure::Status;
use serde::{Deserialize, Serialize};
use std::time::Instant;

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
}

impl Default for CollectiveConfig {
    fn default() -> CollectiveConfig {
        CollectiveConfig {
            samples: 10,
            warmup_samples: 1,
            node_memory_bytes: None,
            ranks_per_node: 1,
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

/// Where a rank's finished records go.
pub trait RankSink {
    /// Persists one finished record.
    fn record(&mut self, record: &RankRecord) -> Result<(), Error>;
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Buffers of one benchmark; broadcast uses `send` only.
struct Buffers {
    send: Vec<f32>,
    recv: Vec<f32>,
}

fn call(comm: &dyn Communicator, collective: Collective, b: &mut Buffers) {
    match collective {
        Collective::AllReduce => comm.all_reduce_sum(&b.send, &mut b.recv),
        Collective::AllGather => comm.all_gather(&b.send, &mut b.recv),
        Collective::ReduceScatter => comm.reduce_scatter_sum(&b.send, &mut b.recv),
        Collective::Broadcast => comm.broadcast(&mut b.send, 0),
        Collective::AllToAll => comm.all_to_all(&b.send, &mut b.recv),
    }
}

/// Runs every layout on this rank, in order. Only a sink error stops the sweep.
pub fn run_collectives(
    comm: &dyn Communicator,
    layouts: &[Layout],
    config: &CollectiveConfig,
    sink: &mut dyn RankSink,
) -> Result<Vec<RankRecord>, Error> {
    let rank = comm.rank();
    let mut records = Vec::with_capacity(layouts.len());
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
        let node_need = layout.rank_buffer_bytes() * config.ranks_per_node as u64;
        if let Some(available) = config.node_memory_bytes {
            if node_need as f64 > 0.9 * available as f64 {
                record.status = Status::Skipped;
                record.reason = Some(format!(
                    "needs {:.3} GiB of buffers per node ({} ranks × {:.3} GiB) but {:.3} GiB is available \
                     (90% limit); run fewer ranks per node or a smaller --max-message",
                    node_need as f64 / (1u64 << 30) as f64,
                    config.ranks_per_node,
                    layout.rank_buffer_bytes() as f64 / (1u64 << 30) as f64,
                    available as f64 / (1u64 << 30) as f64
                ));
                record.finished_at = now();
                sink.record(&record)?;
                records.push(record);
                continue;
            }
        }
        let mut buffers = Buffers {
            send: vec![0.0; layout.send_len],
            recv: if layout.collective == Collective::Broadcast {
                Vec::new()
            } else {
                vec![0.0; layout.recv_len]
            },
        };
        // Broadcast: non-root ranks start from values that differ from the root's.
        if layout.collective != Collective::Broadcast || rank == 0 {
            fill_send(layout, rank, &mut buffers.send);
        } else {
            buffers.send.fill(-1.0);
        }
        comm.barrier();
        call(comm, layout.collective, &mut buffers);
        let received = if layout.collective == Collective::Broadcast {
            &buffers.send
        } else {
            &buffers.recv
        };
        let check = verify(layout, rank, received);
        record.verification = Some(check.detail.clone());
        let all_passed = reduce_scalar(comm, if check.passed { 1.0 } else { 0.0 }, ReduceOp::Min) == 1.0;
        if !all_passed {
            record.status = Status::Failed;
            record.reason = Some(if check.passed {
                "verification failed on another rank; nothing timed".into()
            } else {
                format!("verification failed: {}", check.detail)
            });
            record.finished_at = now();
            sink.record(&record)?;
            records.push(record);
            continue;
        }
        for _ in 0..iters * config.warmup_samples as u64 {
            call(comm, layout.collective, &mut buffers);
        }
        for _ in 0..config.samples {
            comm.barrier();
            let start = Instant::now();
            for _ in 0..iters {
                call(comm, layout.collective, &mut buffers);
            }
            record.samples_s.push(start.elapsed().as_secs_f64() / iters as f64);
        }
        record.finished_at = now();
        sink.record(&record)?;
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectives::{message_sizes, plan};
    use crate::comm::SelfComm;

    #[derive(Default)]
    struct Collect(Vec<RankRecord>);
    impl RankSink for Collect {
        fn record(&mut self, record: &RankRecord) -> Result<(), Error> {
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
        let records = run_collectives(&SelfComm, &layouts, &config, &mut sink).unwrap();
        assert_eq!(records.len(), 5 * 10);
        assert_eq!(sink.0, records, "every record reaches the sink");
        for r in &records {
            assert_eq!(r.status, Status::Ok, "{}: {:?}", r.benchmark, r.reason);
            assert_eq!(r.samples_s.len(), 3);
            assert!(r.samples_s.iter().all(|&t| t > 0.0 && t.is_finite()));
            assert!(r.verification.as_deref().unwrap().contains("exact"));
        }
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
        let records = run_collectives(&SelfComm, &layouts, &config, &mut Collect::default()).unwrap();
        assert_eq!(records[0].status, Status::Ok);
        assert_eq!(records[1].status, Status::Skipped);
        let reason = records[1].reason.as_deref().unwrap();
        assert!(reason.contains("2 ranks") && reason.contains("0.004 GiB"), "{reason}");
        assert!(records[1].samples_s.is_empty());
    }
}
