//! A built network stepped on demand: what a benchmark harness needs to verify the first steps,
//! warm up untimed, then time windows of its own choosing. [`crate::simulate`] is the one-shot form.

use std::sync::Mutex;
use std::time::Instant;

use crate::sim::{self, RingLayout, ThreadCounts};
use crate::{connect, memory_estimate, partition, rng, Derived, Error, MemoryEstimate, Params, SimResult};
use crate::{Partition, SpikeExchange, Tally};

/// What one timed window did, counted exactly.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Window {
    /// Steps simulated.
    pub steps: u64,
    /// Wall seconds of the window.
    pub wall_s: f64,
    /// Recurrent synaptic events: Σ over the window's spikes of the source's out-degree.
    pub recurrent_events: u64,
    /// Poisson input spikes received (0 with DC input).
    pub external_events: u64,
    /// Thalamic synaptic events.
    pub thalamic_events: u64,
    /// Neuron updates.
    pub neuron_updates: u64,
}

/// A network built for `Params`, advanced step by step. Steps are counted from the start; windows
/// run with [`Simulation::advance`] are timed and counted, those of [`Simulation::warm_up`] are not.
pub struct Simulation {
    params: Params,
    derived: Derived,
    memory: MemoryEstimate,
    pool: rayon::ThreadPool,
    states: Vec<Mutex<sim::ThreadState>>,
    ring: sim::SpikeRing,
    shared: sim::Shared,
    max_delay: u32,
    step: u64,
    /// Per thread, the counters of every timed window so far.
    totals: Vec<ThreadCounts>,
    timed_steps: u64,
    timed_wall_s: f64,
    build_s: f64,
    connect_s: f64,
    warmup_s: f64,
    /// Ranks of a partitioned run and how spikes move between them (`None`: one process).
    exchange: Option<Box<dyn SpikeExchange>>,
    layout: RingLayout,
    /// Seconds of the timed windows spent in the exchange.
    exchange_s: f64,
}

impl Simulation {
    /// Connects and builds the network of `p` (`p.t_presim_ms` and `p.t_sim_ms` are not used: the
    /// caller decides how long to run).
    pub fn new(p: &Params) -> Result<Simulation, Error> {
        Simulation::build(p, None)
    }

    /// Connects and builds this rank's share of the network of `p`, split over the ranks of `exchange`
    /// ([`crate::partition`]): the blocks are partitioned into `ranks × p.threads` parts and this rank
    /// builds parts `rank·threads..(rank + 1)·threads` only. Every rank must step in lockstep (the same
    /// calls with the same step counts): each step exchanges spikes. Fails with
    /// [`Error::TooManyParts`] when `ranks × threads` exceeds the network's 128-neuron blocks.
    pub fn partitioned(p: &Params, exchange: Box<dyn SpikeExchange>) -> Result<Simulation, Error> {
        Simulation::build(p, Some(exchange))
    }

    fn build(p: &Params, exchange: Option<Box<dyn SpikeExchange>>) -> Result<Simulation, Error> {
        let derived = Derived::new(p)?;
        let memory = memory_estimate(p)?;
        let Partition { rank, ranks } = exchange
            .as_ref()
            .map_or(Partition { rank: 0, ranks: 1 }, |e| e.partition());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(p.threads)
            .build()
            .map_err(|e| Error::ThreadPool(e.to_string()))?;
        let blocks = connect::blocks(&derived);
        if exchange.is_some() && ranks * p.threads > blocks.len() {
            return Err(Error::TooManyParts {
                ranks,
                threads: p.threads,
                blocks: blocks.len(),
            });
        }
        let parts = connect::partition(&blocks, ranks * p.threads);
        let parts = &parts[rank * p.threads..(rank + 1) * p.threads];
        let t_connect = Instant::now();
        let syns = connect::build_all(&derived, &blocks, parts, p.seed, &pool)?;
        let connect_s = t_connect.elapsed().as_secs_f64();
        let max_delay = syns.iter().map(|s| s.max_delay).max().unwrap_or(1).max(1);
        let t_build = Instant::now();
        let shared = sim::Shared::new(p, &derived);
        let states: Vec<Mutex<sim::ThreadState>> = pool.install(|| {
            use rayon::prelude::*;
            syns.into_par_iter()
                .map(|s| Mutex::new(sim::ThreadState::new(p, s, &blocks)))
                .collect()
        });
        let layout = RingLayout {
            rank,
            ranks,
            threads: p.threads,
        };
        let ring = sim::SpikeRing::new(layout.rows() + p.thalamic_input as usize, max_delay);
        if p.thalamic_input {
            // Every rank draws the same thalamic stream: its spikes need no exchange.
            states[0].lock().expect("thread state").th_rng = Some(rng::stream(p.seed, rng::TAG_THALAMUS, 0, 0));
        }
        let build_s = t_build.elapsed().as_secs_f64();
        Ok(Simulation {
            totals: vec![ThreadCounts::default(); p.threads],
            params: p.clone(),
            derived,
            memory,
            pool,
            states,
            ring,
            shared,
            max_delay,
            step: 0,
            timed_steps: 0,
            timed_wall_s: 0.0,
            build_s,
            connect_s,
            warmup_s: 0.0,
            exchange,
            layout,
            exchange_s: 0.0,
        })
    }

    /// Which rank this is, of how many (rank 0 of 1 for one process).
    pub fn partition(&self) -> Partition {
        Partition {
            rank: self.layout.rank,
            ranks: self.layout.ranks,
        }
    }

    /// Global ids `[lo, hi)` of the neurons this process simulates.
    pub fn neuron_range(&self) -> (u64, u64) {
        let lo = self
            .states
            .first()
            .map_or(0, |m| m.lock().expect("thread state").syn.lo);
        let hi = self.states.last().map_or(0, |m| m.lock().expect("thread state").syn.hi);
        (lo, hi)
    }

    /// Bytes this process holds for the network: synapses, per-source offsets and delay index, and
    /// per-neuron state, as allocated (not counting the allocator's slack and the spike ring).
    pub fn stored_bytes(&self) -> u64 {
        self.states
            .iter()
            .map(|m| {
                let st = m.lock().expect("thread state");
                let syn = &st.syn;
                let n = st.len() as u64;
                (syn.synapses.len() * 8 + syn.offsets.len() * 8 + syn.delay_starts.len() * 4) as u64
                    // v, i_ex, i_in, acc_ex, acc_in, ext (f64); r_ref, spike_count, last_spike (u32);
                    // isi_sum, isi_sum2, spike_hash (u64); flags (u8).
                    + n * (6 * 8 + 3 * 4 + 3 * 8 + 1)
            })
            .sum()
    }

    /// The derived parameters (population sizes, synapse counts, step counts).
    pub fn derived(&self) -> &Derived {
        &self.derived
    }

    /// Steps simulated so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Advances `steps` steps, neither timed nor counted (the warm-up).
    pub fn warm_up(&mut self, steps: u64) {
        self.warmup_s += self.run(steps, false);
    }

    /// Runs the next `steps` steps on every thread (`counted`: spikes and events go into the
    /// statistics and counters); returns the wall seconds.
    fn run(&mut self, steps: u64, counted: bool) -> f64 {
        let t0 = Instant::now();
        let (from, to) = (self.step, self.step + steps);
        match self.exchange.as_deref_mut() {
            None => sim::run_steps(&self.pool, &self.states, &self.ring, &self.shared, from, to, counted, 0),
            Some(exchange) => {
                let exchange_s = sim::run_steps_partitioned(
                    &self.pool,
                    &self.states,
                    &self.ring,
                    &self.shared,
                    from,
                    to,
                    counted,
                    self.layout,
                    exchange,
                );
                if counted {
                    self.exchange_s += exchange_s;
                }
            }
        }
        self.step += steps;
        t0.elapsed().as_secs_f64()
    }

    /// Advances `steps` steps and returns every spike of them as (neuron id, step), sorted by step
    /// then id; like [`Simulation::warm_up`], nothing is timed or counted. In a partitioned run, the
    /// spikes of this rank's neurons.
    pub fn record(&mut self, steps: u64) -> Vec<(u32, u32)> {
        let kept: Vec<_> = self
            .states
            .iter()
            .map(|m| Self::statistics(&m.lock().expect("thread state")))
            .collect();
        let exchange_s = self.exchange_s;
        self.shared.record = true;
        self.warmup_s += self.run(steps, true);
        self.shared.record = self.params.record_spikes;
        self.exchange_s = exchange_s;
        let mut spikes = Vec::new();
        for (m, kept) in self.states.iter().zip(kept) {
            let mut st = m.lock().expect("thread state");
            spikes.append(&mut st.recorded);
            // The recorded window leaves the timed statistics as they were.
            (st.spike_count, st.last_spike, st.isi_sum, st.isi_sum2, st.spike_hash) = kept;
        }
        spikes.sort_unstable_by_key(|&(id, s)| (s, id));
        spikes
    }

    #[allow(clippy::type_complexity)]
    fn statistics(st: &sim::ThreadState) -> (Vec<u32>, Vec<u32>, Vec<u64>, Vec<u64>, Vec<u64>) {
        (
            st.spike_count.clone(),
            st.last_spike.clone(),
            st.isi_sum.clone(),
            st.isi_sum2.clone(),
            st.spike_hash.clone(),
        )
    }

    /// Advances `steps` steps, timed and counted.
    pub fn advance(&mut self, steps: u64) -> Window {
        let wall_s = self.run(steps, true);
        self.timed_steps += steps;
        self.timed_wall_s += wall_s;
        let mut window = Window {
            steps,
            wall_s,
            ..Window::default()
        };
        for (m, total) in self.states.iter().zip(&mut self.totals) {
            let st = m.lock().expect("thread state");
            let c = &st.counts;
            window.recurrent_events += c.recurrent_events;
            window.external_events += c.external_events;
            window.thalamic_events += c.thalamic_events;
            window.neuron_updates += c.updates;
            total.updates += c.updates;
            total.recurrent_events += c.recurrent_events;
            total.delivered_events += c.delivered_events;
            total.thalamic_events += c.thalamic_events;
            total.external_events += c.external_events;
            total.update_s += c.update_s;
            total.deliver_s += c.deliver_s;
            total.wait_s += c.wait_s;
            total.cpu_s = add(total.cpu_s, c.cpu_s);
            total.runqueue_s = add(total.runqueue_s, c.runqueue_s);
        }
        window
    }

    /// Everything counted over the timed windows so far, as [`crate::simulate`] reports it
    /// (`t_sim_ms` is the timed steps' biological time; `warmup_s` covers every untimed step). In a
    /// partitioned run, this rank's share: its neurons, synapses, events and spikes
    /// ([`Simulation::global_result`] merges the ranks').
    pub fn result(&self) -> SimResult {
        let (p, tally) = self.tally();
        crate::finish(&p, tally, self.memory, self.layout.ranks)
    }

    /// The whole network's result: in a partitioned run, every rank's [`Simulation::tally`] gathered
    /// through the exchange and merged, equal to the one-process result (spikes, counts, population
    /// statistics and fingerprint exactly; times are the slowest rank's, threads those of all ranks).
    /// Collective: every rank calls it. In one process, [`Simulation::result`].
    pub fn global_result(&mut self) -> SimResult {
        let (p, tally) = self.tally();
        match self.exchange.as_deref_mut() {
            None => crate::finish(&p, tally, self.memory, 1),
            Some(exchange) => {
                let merged = partition::gather(exchange, &tally);
                crate::finish(&p, merged, self.memory, self.layout.ranks)
            }
        }
    }

    /// This process's statistics of the timed windows so far, with the parameters they are for.
    pub fn tally(&self) -> (Params, Tally) {
        let mut p = self.params.clone();
        p.t_sim_ms = self.timed_steps as f64 * crate::params::RESOLUTION_MS;
        let mut d = self.derived.clone();
        d.sim_steps = self.timed_steps;
        let mut guards: Vec<_> = self.states.iter().map(|m| m.lock().expect("thread state")).collect();
        for (g, total) in guards.iter_mut().zip(&self.totals) {
            // `run_steps` resets `counts` at the start of every window, so this loses nothing.
            g.counts = *total;
        }
        let refs: Vec<&sim::ThreadState> = guards.iter().map(|g| &**g).collect();
        let tally = crate::tally(
            &d,
            &refs,
            self.params.record_spikes,
            self.max_delay,
            [self.build_s, self.connect_s, self.warmup_s, self.timed_wall_s],
            self.exchange_s,
        );
        (p, tally)
    }
}

fn add(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        _ => None,
    }
}
