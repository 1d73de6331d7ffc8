//! A built network stepped on demand: what a benchmark harness needs to verify the first steps,
//! warm up untimed, then time windows of its own choosing. [`crate::simulate`] is the one-shot form.

use std::sync::Mutex;
use std::time::Instant;

use crate::sim::{self, ThreadCounts};
use crate::{connect, memory_estimate, rng, Derived, Error, MemoryEstimate, Params, SimResult};

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
}

impl Simulation {
    /// Connects and builds the network of `p` (`p.t_presim_ms` and `p.t_sim_ms` are not used: the
    /// caller decides how long to run).
    pub fn new(p: &Params) -> Result<Simulation, Error> {
        let derived = Derived::new(p)?;
        let memory = memory_estimate(p)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(p.threads)
            .build()
            .map_err(|e| Error::ThreadPool(e.to_string()))?;
        let blocks = connect::blocks(&derived);
        let parts = connect::partition(&blocks, p.threads);
        let t_connect = Instant::now();
        let syns = connect::build_all(&derived, &blocks, &parts, p.seed, &pool)?;
        let connect_s = t_connect.elapsed().as_secs_f64();
        let max_delay = syns.iter().map(|s| s.max_delay).max().unwrap_or(1);
        let t_build = Instant::now();
        let shared = sim::Shared::new(p, &derived);
        let states: Vec<Mutex<sim::ThreadState>> = pool.install(|| {
            use rayon::prelude::*;
            syns.into_par_iter()
                .map(|s| Mutex::new(sim::ThreadState::new(p, s, &blocks)))
                .collect()
        });
        let ring = sim::SpikeRing::new(p.threads + p.thalamic_input as usize, max_delay);
        if p.thalamic_input {
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
        })
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
        sim::run_steps(
            &self.pool,
            &self.states,
            &self.ring,
            &self.shared,
            self.step,
            self.step + steps,
            counted,
        );
        self.step += steps;
        t0.elapsed().as_secs_f64()
    }

    /// Advances `steps` steps and returns every spike of them as (neuron id, step), sorted by step
    /// then id; like [`Simulation::warm_up`], nothing is timed or counted.
    pub fn record(&mut self, steps: u64) -> Vec<(u32, u32)> {
        let kept: Vec<_> = self
            .states
            .iter()
            .map(|m| Self::statistics(&m.lock().expect("thread state")))
            .collect();
        self.shared.record = true;
        self.warmup_s += self.run(steps, true);
        self.shared.record = self.params.record_spikes;
        let mut spikes = Vec::new();
        for (m, kept) in self.states.iter().zip(kept) {
            let mut st = m.lock().expect("thread state");
            spikes.append(&mut st.recorded);
            // The recorded window leaves the timed statistics as they were.
            (st.spike_count, st.last_spike, st.isi_sum, st.isi_sum2) = kept;
        }
        spikes.sort_unstable_by_key(|&(id, s)| (s, id));
        spikes
    }

    fn statistics(st: &sim::ThreadState) -> (Vec<u32>, Vec<u32>, Vec<u64>, Vec<u64>) {
        (
            st.spike_count.clone(),
            st.last_spike.clone(),
            st.isi_sum.clone(),
            st.isi_sum2.clone(),
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
    /// (`t_sim_ms` is the timed steps' biological time; `warmup_s` covers every untimed step).
    pub fn result(&self) -> SimResult {
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
        let mut result = crate::collect(
            &p,
            &d,
            &refs,
            self.memory,
            self.max_delay,
            [self.build_s, self.connect_s, self.warmup_s, self.timed_wall_s],
        );
        if !self.params.record_spikes {
            result.spikes = None;
        }
        result
    }
}

fn add(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        _ => None,
    }
}
