//! The CPU backend's microcircuit: the `braingap-microcircuit` crate behind [`Prepared`].
//!
//! Preparing builds and connects the network (untimed). Verifying runs its first
//! [`VERIFY_MS`] of biological time and compares every spike, bit for bit, with the crate's
//! naive reference simulator (plain NEST-style ring buffers, one thread), then warms the
//! network up for the rest of the reference's 500 ms, untimed. Each timed call is 1 ms of
//! biological time; a batch's events are the recurrent synaptic events it delivered, counted
//! exactly. After the last batch the per-population activity and the phase times become the
//! run's `populations.csv` and `microcircuit.csv`, with the timed phase's spike fingerprint
//! (`spike_fingerprint`, the crate's `SimResult::spike_fingerprint`, 16 hex digits): equal
//! fingerprints mean bit-identical spike trains, whatever the threads and ranks. A one-process
//! run also records the spikes of a further [`RASTER_MS`] (untimed, uncounted) into `spikes.csv`.
//!
//! Over MPI ranks ([`MicrocircuitRun::partitioned`]) every rank simulates its share of the
//! network and the runner's decisions stay in lockstep: a batch's time is the slowest rank's,
//! its events the sum over ranks, and verification passes only where every rank's spikes
//! match the reference's.

use super::{BackendError, Batch, Observation, Prepared};
use crate::comm::{reduce_scalar, Communicator, ReduceOp};
use crate::kernels::microcircuit::{Microcircuit, MS_PER_CALL};
use crate::kernels::Verification;
use crate::units::Seconds;
use braingap_microcircuit::{params::RESOLUTION_MS, reference, Params, Simulation, POPULATIONS};
use braingap_microcircuit::{Partition, SpikeExchange};
use std::rc::Rc;

/// Biological time whose spikes are checked against the reference before anything is timed.
pub const VERIFY_MS: f64 = 20.0;

/// Biological time recorded after the timed calls for the report's raster (`spikes.csv`),
/// untimed and left out of every count.
pub const RASTER_MS: f64 = 100.0;

/// The full-scale reference rates of the model's authors (DC input, spikes/s; the PyPI
/// package `microcircuit` 1.0), in [`POPULATIONS`] order. Only comparable at N and K scaling 1.
pub const REFERENCE_RATES_HZ: [f64; 8] = [0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829];

/// The communicator of one partitioned run, shared by its spike exchange and its reductions.
#[derive(Clone)]
struct RunComm(Rc<dyn Communicator>);

// SAFETY: a `RunComm` is made from a communicator nothing else holds
// ([`MicrocircuitRun::partitioned`] takes it by value), and its clones live only inside that
// one `MicrocircuitRun` (its `comm` field and its simulation's exchange): they move between
// threads together, so the `Rc`'s count is never touched from two threads at once. (The
// runner drives a prepared benchmark from one thread; MPI is initialised without thread
// support and is only called from there.)
unsafe impl Send for RunComm {}

/// Spikes between the ranks of a partitioned microcircuit, through the communicator's
/// all-gather-v (called on the thread that drives the simulation: MPI needs no thread support).
struct CommSpikes(RunComm);

impl SpikeExchange for CommSpikes {
    fn partition(&self) -> Partition {
        Partition {
            rank: self.0 .0.rank(),
            ranks: self.0 .0.size(),
        }
    }
    fn all_gather(&mut self, mine: &[u32], all: &mut [Vec<u32>]) {
        self.0 .0.all_gather_varcount_u32(mine, all);
    }
}

/// A built network (this rank's share of it, when partitioned).
pub struct MicrocircuitRun {
    kernel: Microcircuit,
    params: Params,
    sim: Simulation,
    /// The ranks of a partitioned run.
    comm: Option<RunComm>,
    /// Whether the process's peak RSS was reset before the network was built (else the peak
    /// counts from the process's start).
    rss_reset: bool,
}

/// Steps of `ms` milliseconds of biological time.
pub(crate) fn steps(ms: f64) -> u64 {
    (ms / RESOLUTION_MS).round() as u64
}

impl MicrocircuitRun {
    /// Builds and connects the network of `kernel` on `threads` threads.
    pub fn new(kernel: &Microcircuit, threads: usize, benchmark: &str) -> Result<MicrocircuitRun, BackendError> {
        MicrocircuitRun::build(kernel, threads, benchmark, None)
    }

    /// Builds and connects this rank's share of the network, `threads` threads per rank, the
    /// network split over the ranks of `comm`, a communicator of this run's own (collective:
    /// every rank calls it).
    pub fn partitioned(
        kernel: &Microcircuit,
        threads: usize,
        benchmark: &str,
        comm: Box<dyn Communicator>,
    ) -> Result<MicrocircuitRun, BackendError> {
        MicrocircuitRun::build(kernel, threads, benchmark, Some(RunComm(Rc::from(comm))))
    }

    fn build(
        kernel: &Microcircuit,
        threads: usize,
        benchmark: &str,
        comm: Option<RunComm>,
    ) -> Result<MicrocircuitRun, BackendError> {
        let setup = |reason: String| BackendError::Unsupported {
            backend: "cpu".into(),
            benchmark: benchmark.into(),
            reason,
        };
        let params = kernel.sim_params(threads).map_err(setup)?;
        let rss_reset = crate::machine::reset_peak_rss();
        let sim = match &comm {
            None => Simulation::new(&params),
            Some(c) => Simulation::partitioned(&params, Box::new(CommSpikes(c.clone()))),
        }
        .map_err(|e| setup(e.to_string()))?;
        Ok(MicrocircuitRun {
            kernel: kernel.clone(),
            params,
            sim,
            comm,
            rss_reset,
        })
    }

    /// Whether every rank says `ok` (one process: `ok`).
    fn all(&self, ok: bool) -> bool {
        match &self.comm {
            None => ok,
            Some(c) => reduce_scalar(c.0.as_ref(), f64::from(u8::from(ok)), ReduceOp::Min) == 1.0,
        }
    }

    /// `value` summed over the ranks (exact below 2^53).
    fn sum(&self, value: u64) -> u64 {
        match &self.comm {
            None => value,
            Some(c) => reduce_scalar(c.0.as_ref(), value as f64, ReduceOp::Sum) as u64,
        }
    }
}

impl Prepared for MicrocircuitRun {
    fn verify(&mut self) -> Verification {
        if self.sim.step() > 0 {
            return Verification::failed("the network has already been stepped: verify runs once, first");
        }
        let check_steps = steps(VERIFY_MS.min(self.kernel.warmup_ms));
        // Every rank runs the whole reference network and checks its own neurons' spikes.
        let (lo, hi) = self.sim.neuron_range();
        let expected = reference::spikes(&self.params, check_steps).map(|s| {
            s.into_iter()
                .filter(|&(id, _)| (lo..hi).contains(&u64::from(id)))
                .collect::<Vec<_>>()
        });
        let got = self.sim.record(check_steps);
        let local = match expected {
            Ok(expected) => compare_spikes(&expected, &got),
            Err(e) => Verification::failed(format!("the reference simulator cannot run this network: {e}")),
        };
        let passed = self.all(local.passed);
        let checked = self.sum(local.checked);
        let spikes = self.sum(got.len() as u64);
        let ranks = self.sim.partition().ranks;
        let verification = match (passed, local.passed) {
            (true, _) if self.comm.is_some() => Verification::exact(
                checked,
                format!(
                    "all {spikes} spikes of the first {VERIFY_MS} ms identical to the naive reference simulator's \
                     (each of {ranks} ranks checked its neurons)"
                ),
            ),
            (false, true) => Verification::failed("another rank's spikes differ from the naive reference simulator's"),
            _ => local,
        };
        if verification.passed {
            let rest = steps(self.kernel.warmup_ms).saturating_sub(check_steps);
            self.sim.warm_up(rest);
        }
        verification
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let window = self.sim.advance(iters * steps(MS_PER_CALL));
        let elapsed = match &self.comm {
            None => window.wall_s,
            // The slowest rank's time: every rank then makes the runner's same decisions.
            Some(c) => reduce_scalar(c.0.as_ref(), window.wall_s, ReduceOp::Max),
        };
        Batch {
            elapsed: Seconds(elapsed),
            events: self.sum(window.recurrent_events),
        }
    }

    fn observations(&mut self) -> Vec<Observation> {
        self.observations_of()
    }
}

/// Recorded spikes against the naive reference simulator's, bit for bit.
pub(crate) fn compare_spikes(expected: &[(u32, u32)], got: &[(u32, u32)]) -> Verification {
    {
        let checked = expected.len().max(got.len()) as u64;
        match expected.iter().zip(got).position(|(a, b)| a != b) {
            None if expected.len() == got.len() => Verification::exact(
                checked,
                format!(
                    "all {} spikes of the first {VERIFY_MS} ms identical to the naive reference simulator's",
                    expected.len()
                ),
            ),
            first => {
                let at = first.unwrap_or(expected.len().min(got.len()));
                Verification::failed(format!(
                    "spike {at} differs from the naive reference simulator's: {:?} (neuron, step) against {:?} \
                     ({} spikes against {})",
                    got.get(at),
                    expected.get(at),
                    got.len(),
                    expected.len()
                ))
            }
        }
    }
}

impl MicrocircuitRun {
    /// `populations.csv`, `microcircuit.csv` (collective in a partitioned run: the ranks'
    /// statistics are merged) and, in one process, `spikes.csv`.
    fn observations_of(&mut self) -> Vec<Observation> {
        let result = self.sim.global_result();
        // The raster: the next RASTER_MS after the timed calls (the counts above are taken first;
        // `record` leaves them as they are). Over ranks each would hold only its own neurons'
        // spikes, so a partitioned run draws none.
        let start_step = self.sim.step();
        let raster = if self.comm.is_some() {
            None
        } else {
            Some(self.sim.record(steps(RASTER_MS)))
        };
        let peak_rss_scope = match (self.comm.is_some(), self.rss_reset) {
            (true, true) => "rank 0's process, VmHWM since its network was built",
            (true, false) => "rank 0's process, VmHWM since it started",
            (false, true) => "process VmHWM since the network was built",
            (false, false) => "process VmHWM since it started (could not reset)",
        };
        observations(
            &result,
            &self.kernel,
            self.sim.derived(),
            RunFacts {
                threads: self.params.threads,
                memory_bytes: result.memory.total,
                peak_rss_scope,
                device: "cpu".into(),
                device_memory_bytes: None,
            },
            raster.map(|r| (start_step, r)),
        )
    }
}

/// What a microcircuit run's `microcircuit.csv` row says beyond its [`SimResult`].
pub(crate) struct RunFacts {
    /// Host threads (the CPU's simulation threads; the GPU's network build).
    pub threads: usize,
    /// The memory estimate or count, bytes (`memory_estimate_bytes`).
    pub memory_bytes: u64,
    /// What the peak RSS covers.
    pub peak_rss_scope: &'static str,
    /// `cpu`, or the GPU as `cuda:N NAME`.
    pub device: String,
    /// Device memory the run allocated (GPU runs), bytes.
    pub device_memory_bytes: Option<u64>,
}

/// `populations.csv`, `microcircuit.csv` and, given the raster's first step and spikes,
/// `spikes.csv`: the files every microcircuit run writes, whatever simulated it.
pub(crate) fn observations(
    result: &braingap_microcircuit::SimResult,
    kernel: &Microcircuit,
    derived: &braingap_microcircuit::Derived,
    facts: RunFacts,
    raster: Option<(u64, Vec<(u32, u32)>)>,
) -> Vec<Observation> {
    let raster = raster.map(|(start_step, spikes)| Observation {
        file: "spikes.csv",
        columns: vec!["population", "neuron", "time_ms"],
        rows: spikes
            .into_iter()
            .map(|(id, step)| {
                vec![
                    POPULATIONS[derived.pop_of(id as u64)].to_string(),
                    id.to_string(),
                    // NEST stamps a spike of step s at (s + 1)·h; times from the raster's start.
                    format!("{:.1}", (step as u64 + 1 - start_step) as f64 * RESOLUTION_MS),
                ]
            })
            .collect(),
    });
    let full_scale = kernel.scale == 1.0 && kernel.k_scale == 1.0;
    let number = |v: f64| if v.is_finite() { format!("{v}") } else { String::new() };
    let populations = Observation {
        file: "populations.csv",
        columns: vec![
            "population",
            "neurons",
            "spikes",
            "rate_hz",
            "isi_cv",
            "isi_cv_neurons",
            "reference_rate_hz",
        ],
        rows: result
            .populations
            .iter()
            .enumerate()
            .map(|(i, p)| {
                vec![
                    POPULATIONS[i].to_string(),
                    p.neurons.to_string(),
                    p.spikes.to_string(),
                    number(p.rate_hz),
                    // No neuron fired 3 times: no CV, left empty rather than NaN.
                    number(p.mean_isi_cv),
                    p.cv_neurons.to_string(),
                    if full_scale && kernel.input == crate::kernels::microcircuit::Input::Dc {
                        number(REFERENCE_RATES_HZ[i])
                    } else {
                        String::new()
                    },
                ]
            })
            .collect(),
    };
    let c = &result.counts;
    let t = &result.times;
    let bio_s = c.steps as f64 * RESOLUTION_MS * 1e-3;
    let microcircuit = Observation {
        file: "microcircuit.csv",
        columns: vec![
            "neurons",
            "synapses",
            "threads",
            "bytes_per_synapse",
            "memory_estimate_bytes",
            "connect_s",
            "build_s",
            "warmup_s",
            "simulated_bio_s",
            "simulated_wall_s",
            "real_time_factor",
            "update_s",
            "deliver_s",
            "wait_s",
            "spikes",
            "recurrent_events",
            "external_events",
            "events_per_s",
            "bytes_per_event",
            "ranks",
            "exchange_s",
            "spike_fingerprint",
            "peak_rss_bytes",
            "peak_rss_scope",
            "device",
            "device_memory_bytes",
        ],
        rows: vec![vec![
            c.neurons.to_string(),
            c.synapses.to_string(),
            facts.threads.to_string(),
            result.bytes_per_synapse.to_string(),
            facts.memory_bytes.to_string(),
            number(t.connect_s),
            number(t.build_s),
            number(t.warmup_s),
            number(bio_s),
            number(t.sim_s),
            number(result.real_time_factor),
            number(t.update_s),
            number(t.deliver_s),
            number(t.wait_s),
            c.spikes.to_string(),
            c.recurrent_events.to_string(),
            c.external_events.to_string(),
            number(c.recurrent_events as f64 / t.sim_s),
            result.bytes_per_event.to_string(),
            result.ranks.to_string(),
            number(t.exchange_s),
            format!("{:016x}", result.spike_fingerprint),
            crate::machine::peak_rss_bytes().map_or(String::new(), |b| b.to_string()),
            facts.peak_rss_scope.to_string(),
            facts.device,
            facts.device_memory_bytes.map_or(String::new(), |b| b.to_string()),
        ]],
    };
    let mut out = vec![populations, microcircuit];
    out.extend(raster);
    out
}
