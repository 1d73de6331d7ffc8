//! The Potjans & Diesmann (2014) cortical microcircuit, simulated as its reference implementation specifies.
//!
//! # What it simulates
//! 77,169 `iaf_psc_exp` neurons in 8 populations (L2/3, L4, L5, L6, each excitatory and inhibitory) at full
//! scale, connected by NEST's `fixed_total_number` rule (~3·10⁸ synapses), driven by DC (the reference's
//! default) or Poisson background, optionally with the reference's thalamic pulse and transient DC, at
//! 0.1 ms resolution, scaled by `N_scaling` and `K_scaling` as the reference scales them. The reference is
//! the PyPI package `microcircuit` 1.0 (PyNEST, by the model's authors): every constant in [`params`] names
//! the file of that package it comes from, the derived parameters match its NumPy code bit for bit
//! (`tests/reference_derived.rs`), and the neuron follows NEST 3's `iaf_psc_exp` (exact integration, NEST's
//! propagators and update order, f64 state). Random numbers are not NEST's, so spike trains agree with
//! NEST's statistically, not spike for spike.
//!
//! # Data layout
//! Each thread owns a contiguous range of target neurons (whole 128-neuron blocks) and, for them, a CSR of
//! incoming synapses grouped by source. A synapse is **8 bytes**, one `u64` word: 24 bits of local target,
//! 8 bits of delay in steps and an `f32` weight in pA ([`BYTES_PER_SYNAPSE`], [`connect::pack`]). Weights
//! are f32 where NEST holds f64 (relative rounding 6·10⁻⁸, far below the 10 % weight SD); they are summed
//! in f64, where sums of a few f32 values are exact. Each source's row is sorted by delay, with a
//! per-source index of where each delay starts: one `u64` offset and `max_delay + 2` `u32`s per source and
//! thread (at full scale, 2 threads: 0.14 bytes per synapse; it grows with the thread count).
//!
//! Delays are held in a ring of spike lists (the last `max_delay` steps, [`sim::SpikeRing`]). At step `s`
//! each thread pulls, for each delay `d`, the delay-`d` synapses of the spikes of step `s − d` into one
//! f64 input row per channel (excitatory, inhibitory): NEST's ring-buffer slot for step `s`. All writes
//! of a step thus fall in one row of 8 bytes per owned neuron (300 KB per thread at full scale, 2
//! threads), which stays in L2, instead of a `delay × neuron` ring buffer (~80 MB at full scale) that no
//! cache holds and where nearly every event would be a miss.
//!
//! # Determinism
//! For a given [`Params`] (seed included) the spike trains are bit-identical whatever `threads` is
//! (`tests/network.rs` checks 1, 2 and 3 threads). Every random stream is indexed by network units
//! (population pair, 128-neuron block), never by thread; spikes are pulled by delay, then ascending source,
//! then in a seed-determined order within a source's delay group, so each input cell receives its
//! additions in the same order whatever the partition. (NEST adds them in emission order instead; sums of
//! a few dozen f32 weights in f64 are exact, so the order rarely matters at all.) The same holds over
//! processes: [`Simulation::partitioned`] builds one rank's share of the network and exchanges spikes every
//! step through a [`SpikeExchange`] ([`partition`]; `tests/partition.rs` checks 2 and 3 ranks).
//!
//! # Verification
//! [`reference::spikes`] simulates the same network the naive NEST way (outgoing adjacency lists, ring
//! buffers indexed by arrival step, one neuron after the other); `tests/reference.rs` checks that
//! [`Simulation::record`] gives exactly its spikes, and a benchmark harness should do the same before timing.
//!
//! # What is counted
//! In the timed phase (after the warm-up), exactly: neuron updates, spikes per population, recurrent
//! synaptic events (Σ over spikes of the source's out-degree), the events actually added into inputs within
//! the window, external Poisson input spikes and thalamic synaptic events; and wall times of connect, build,
//! warm-up and timed simulation, the last split per thread into spike delivery, neuron update and barrier
//! wait, with on-CPU and waiting-for-a-CPU seconds where Linux reports them. [`BYTES_PER_EVENT`] models
//! the bytes a delivered event touches. Rates count spikes of steps `[presim, presim + sim)`, which NEST
//! stamps `(presim, presim + sim]` ms, over all neurons (the reference's `helpers.firing_rates`).

pub mod connect;
pub mod error;
pub mod gpu;
pub mod neuron;
pub mod params;
pub mod partition;
pub mod reference;
pub mod rng;
pub mod sim;
pub mod stepper;

use serde::{Deserialize, Serialize};

pub use error::Error;
pub use params::{memory_estimate, BgInput, Derived, MemoryEstimate, Params, V0Type, NUM_POPS, POPULATIONS};
pub use partition::{spike_fingerprint, LocalExchange, Partition, SpikeExchange, Tally};
pub use stepper::{Simulation, Window};

pub(crate) use partition::{fnv1a, FNV_OFFSET};

/// Bytes per stored synapse: 24-bit target, 8-bit delay and f32 weight in one u64.
pub const BYTES_PER_SYNAPSE: usize = 8;

/// Bytes one delivered event touches: the 8-byte synapse word read (streamed), and a read-modify-write of
/// the 8-byte f64 input cell (8 read + 8 written, L2-resident). Not included: per spike, thread and delay
/// group, the 8-byte row offset and two 4-byte delay-index entries.
pub const BYTES_PER_EVENT: usize = 24;

/// One population's activity in the timed phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopulationStats {
    /// Population name.
    pub name: String,
    /// Neurons.
    pub neurons: u64,
    /// Spikes.
    pub spikes: u64,
    /// Mean rate over all neurons, zeros included (`helpers.firing_rates`), spikes/s.
    pub rate_hz: f64,
    /// Mean ISI CV over neurons with more than 2 spikes (`helpers.single_neuron_isi_cvs`, population SD);
    /// NaN when no neuron qualifies.
    pub mean_isi_cv: f64,
    /// Neurons that entered the CV mean.
    pub cv_neurons: u64,
}

/// Exact event counts of the timed phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Counts {
    /// Neurons × steps.
    pub neuron_updates: u64,
    /// All spikes.
    pub spikes: u64,
    /// Recurrent synaptic events: Σ over the timed phase's spikes of the source's out-degree.
    pub recurrent_events: u64,
    /// Recurrent events added into inputs during the timed phase (differs from `recurrent_events` only by
    /// the spikes of the last `max_delay` steps before and within the phase).
    pub delivered_events: u64,
    /// External (Poisson background) input spikes; 0 in DC mode.
    pub external_events: u64,
    /// Thalamic synaptic events: Σ over thalamic spikes (with multiplicity) of their out-degree.
    pub thalamic_events: u64,
    /// Synapses in the network (recurrent, plus thalamic when on).
    pub synapses: u64,
    /// Neurons in the network.
    pub neurons: u64,
    /// Timed steps.
    pub steps: u64,
}

/// Wall-clock seconds per phase.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct PhaseTimes {
    /// Neuron state allocation and initial potentials.
    pub build_s: f64,
    /// Connectivity generation.
    pub connect_s: f64,
    /// Warm-up (`t_presim_ms`).
    pub warmup_s: f64,
    /// Timed simulation (`t_sim_ms`).
    pub sim_s: f64,
    /// Within the timed simulation, neuron update, mean over threads.
    pub update_s: f64,
    /// Within the timed simulation, spike delivery, mean over threads.
    pub deliver_s: f64,
    /// Within the timed simulation, barrier wait, mean over threads (in a partitioned run: everything
    /// but delivery and update, the spike exchange included).
    pub wait_s: f64,
    /// Within the timed simulation, the spike exchange between ranks of a partitioned run (the slowest
    /// rank's); 0 in one process.
    #[serde(default)]
    pub exchange_s: f64,
}

/// One thread's split of the timed simulation, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct ThreadTimes {
    /// Neuron update.
    pub update_s: f64,
    /// Spike delivery.
    pub deliver_s: f64,
    /// Barrier wait (load imbalance, and descheduling when cores are shared).
    pub wait_s: f64,
    /// On-CPU seconds in the timed phase (Linux), if available.
    pub cpu_s: Option<f64>,
    /// Seconds runnable but not running (cores taken by other processes), if available.
    pub runqueue_s: Option<f64>,
    /// Neurons owned.
    pub neurons: u64,
    /// Synapses stored (incoming to its neurons).
    pub synapses: u64,
    /// Recurrent events it delivered.
    pub recurrent_events: u64,
}

/// What [`simulate`] returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    /// The parameters run.
    pub params: Params,
    /// Per population, in [`POPULATIONS`] order.
    pub populations: Vec<PopulationStats>,
    /// Exact counts.
    pub counts: Counts,
    /// Wall times.
    pub times: PhaseTimes,
    /// Per thread, in thread order.
    pub thread_times: Vec<ThreadTimes>,
    /// Timed wall time over timed biological time.
    pub real_time_factor: f64,
    /// Largest synaptic delay in steps.
    pub max_delay_steps: u32,
    /// [`BYTES_PER_SYNAPSE`].
    pub bytes_per_synapse: usize,
    /// [`BYTES_PER_EVENT`].
    pub bytes_per_event: usize,
    /// Memory estimate of this run.
    pub memory: MemoryEstimate,
    /// Every spike of the timed phase as (neuron id, step), sorted by step then id, if `record_spikes`.
    /// Step `s` counts from the start of the warm-up; NEST would stamp it `(s + 1) · 0.1` ms.
    pub spikes: Option<Vec<(u32, u32)>>,
    /// Fingerprint of the timed phase's spike trains ([`spike_fingerprint`] of every timed spike): equal
    /// for bit-identical spike trains, whatever the threads and ranks.
    #[serde(default)]
    pub spike_fingerprint: u64,
    /// Processes the network was split over (1: one process). A rank's own result counts its neurons only.
    #[serde(default = "one")]
    pub ranks: usize,
}

fn one() -> usize {
    1
}

/// Build the network for `p`, warm it up, run the timed simulation and count: [`Simulation`]
/// in one go (one untimed window of `t_presim_ms`, one timed window of `t_sim_ms`).
pub fn simulate(p: &Params) -> Result<SimResult, Error> {
    let mut sim = Simulation::new(p)?;
    let (presim, timed) = (sim.derived().presim_steps, sim.derived().sim_steps);
    sim.warm_up(presim);
    sim.advance(timed);
    Ok(sim.result())
}

/// This process's tally of its threads' states.
fn tally(
    d: &Derived,
    states: &[&sim::ThreadState],
    record: bool,
    max_delay: u32,
    phase_s: [f64; 4],
    exchange_s: f64,
) -> Tally {
    let mut t = Tally {
        isi_cvs: vec![Vec::new(); NUM_POPS],
        max_delay,
        phase_s,
        exchange_s,
        ..Tally::default()
    };
    t.counts.steps = d.sim_steps;
    for st in states.iter().copied() {
        let c = &mut t.counts;
        c.neuron_updates += st.counts.updates;
        c.recurrent_events += st.counts.recurrent_events;
        c.delivered_events += st.counts.delivered_events;
        c.thalamic_events += st.counts.thalamic_events;
        c.external_events += st.counts.external_events;
        c.neurons += st.len() as u64;
        c.synapses += st.syn.synapses.len() as u64;
        t.thread_times.push(ThreadTimes {
            update_s: st.counts.update_s,
            deliver_s: st.counts.deliver_s,
            wait_s: st.counts.wait_s,
            cpu_s: st.counts.cpu_s,
            runqueue_s: st.counts.runqueue_s,
            neurons: st.len() as u64,
            synapses: st.syn.synapses.len() as u64,
            recurrent_events: st.counts.recurrent_events,
        });
        for x in 0..st.len() {
            let id = st.syn.lo + x as u64;
            t.add_neuron(
                d.pop_of(id),
                id as u32,
                st.spike_count[x] as u64,
                (st.isi_sum[x], st.isi_sum2[x]),
                st.spike_hash[x],
            );
        }
        if record {
            t.recorded.extend_from_slice(&st.recorded);
        }
    }
    t.recorded.sort_unstable_by_key(|&(id, s)| (s, id));
    t
}

/// The result of a tally (one process's, or the merge of a partitioned run's), `ranks` processes.
pub(crate) fn finish(p: &Params, t: Tally, memory: MemoryEstimate, ranks: usize) -> SimResult {
    let [build_s, connect_s, warmup_s, sim_s] = t.phase_s;
    let threads = t.thread_times.len().max(1) as f64;
    let mut times = PhaseTimes {
        build_s,
        connect_s,
        warmup_s,
        sim_s,
        exchange_s: t.exchange_s,
        ..PhaseTimes::default()
    };
    for tt in &t.thread_times {
        times.update_s += tt.update_s / threads;
        times.deliver_s += tt.deliver_s / threads;
        times.wait_s += tt.wait_s / threads;
    }
    let t_sim_s = p.t_sim_ms * 1e-3;
    let populations = (0..NUM_POPS)
        .map(|i| {
            let cvs = &t.isi_cvs[i];
            PopulationStats {
                name: POPULATIONS[i].to_string(),
                neurons: t.neurons[i],
                spikes: t.spikes[i],
                rate_hz: t.spikes[i] as f64 / (t.neurons[i] as f64 * t_sim_s),
                mean_isi_cv: if cvs.is_empty() {
                    f64::NAN
                } else {
                    cvs.iter().fold(0.0, |a, &x| a + x) / cvs.len() as f64
                },
                cv_neurons: cvs.len() as u64,
            }
        })
        .collect();
    let mut counts = t.counts;
    counts.spikes = t.spikes.iter().sum();
    SimResult {
        params: p.clone(),
        populations,
        counts,
        times,
        thread_times: t.thread_times,
        real_time_factor: sim_s / t_sim_s,
        max_delay_steps: t.max_delay,
        bytes_per_synapse: BYTES_PER_SYNAPSE,
        bytes_per_event: BYTES_PER_EVENT,
        memory,
        spikes: p.record_spikes.then_some(t.recorded),
        spike_fingerprint: t.fingerprint,
        ranks,
    }
}
