//! The simulation loop: one long-lived task per thread, one barrier per 0.1 ms step.
//!
//! Delays are held in a ring of spike lists: the lists of the last `max_delay` steps, one per thread and
//! step, kept until no delay can still reach back to them. At step `s` each thread (1) pulls, for every
//! delay `d`, the delay-`d` group of each spike of step `s − d` (every thread's list, in thread order and
//! so in ascending source id) into its own input accumulators, (2) updates its neurons, which read and
//! clear the accumulators, (3) publishes its spikes of step `s`, and (4) waits at the barrier. A spike of
//! step `t` thus reaches a target at exactly `t + d`, as NEST's ring buffers place it (`get_rel_delivery_
//! steps`). Pulling instead of pushing ahead keeps all writes in one accumulator row per thread (L2-sized
//! at full scale) instead of scattering them over a `delay × neurons` ring of ~80 MB that no cache holds.
//! A list is rewritten `max_delay + 1` steps after it was written, when no thread can still read it: every
//! thread has passed the barrier of the step in which it was read last.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

use crate::connect::{unpack, Block, ThreadSynapses};
use crate::neuron::{step_branchless, Propagators};
use crate::params::{BgInput, Derived, Params, V0Type, BG_RATE, E_L, NUM_POPS, RESOLUTION_MS, TH_RATE};
use crate::params::{V0_MEAN_OPTIMIZED, V0_MEAN_ORIGINAL, V0_STD_OPTIMIZED, V0_STD_ORIGINAL};
use crate::rng::{stream, PoissonTable, TAG_POISSON, TAG_V0};

/// Spins (each a `pause`, ~20–40 ns on Zen 3) before a waiting thread starts yielding its core.
const SPINS_BEFORE_YIELD: u32 = 300;

/// A sense-counting barrier that spins briefly, then yields: steps are ~10–100 µs, too short for a
/// futex sleep and wake-up per step, but the cores may be shared, so it must not spin forever.
pub struct SpinBarrier {
    n: usize,
    count: AtomicUsize,
    generation: AtomicUsize,
}

impl SpinBarrier {
    /// For `n` threads.
    pub fn new(n: usize) -> SpinBarrier {
        SpinBarrier {
            n,
            count: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
        }
    }

    /// Block until all `n` threads have called `wait`.
    pub fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.count.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            if spins < SPINS_BEFORE_YIELD {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Per-thread counters and timers of one phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadCounts {
    /// Neuron updates.
    pub updates: u64,
    /// Σ over this phase's spikes of this thread's share of their out-degree (counted when first pulled,
    /// plus [`ThreadState::count_tail`] for spikes of the last step).
    pub recurrent_events: u64,
    /// Recurrent and thalamic events actually added into the accumulators during the phase.
    pub delivered_events: u64,
    /// Σ over this phase's thalamic spikes of this thread's share of their out-degree.
    pub thalamic_events: u64,
    /// Poisson input spikes received.
    pub external_events: u64,
    /// Seconds updating neurons.
    pub update_s: f64,
    /// Seconds delivering spikes.
    pub deliver_s: f64,
    /// Seconds waiting at the barrier.
    pub wait_s: f64,
    /// Seconds on a CPU (Linux schedstat), if available.
    pub cpu_s: Option<f64>,
    /// Seconds runnable but waiting for a CPU (other processes on the cores), if available.
    pub runqueue_s: Option<f64>,
}

/// This thread's (on-CPU, waiting-for-CPU) seconds from `/proc/thread-self/schedstat`: what separates our
/// cost from time lost to other processes sharing the cores.
fn schedstat() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut it = text.split_whitespace().map(|x| x.parse::<f64>().ok());
    Some((it.next()?? * 1e-9, it.next()?? * 1e-9))
}

/// Everything one thread owns.
pub struct ThreadState {
    /// Its synapses and owned range.
    pub syn: ThreadSynapses,
    /// Membrane potential relative to `E_L` (mV).
    pub v: Vec<f64>,
    /// Excitatory synaptic current (pA).
    pub i_ex: Vec<f64>,
    /// Inhibitory synaptic current (pA).
    pub i_in: Vec<f64>,
    /// Refractory steps left.
    pub r_ref: Vec<u32>,
    /// Excitatory input arriving this step (NEST's ring-buffer slot for the step), cleared when read.
    pub acc_ex: Vec<f64>,
    /// Inhibitory input arriving this step.
    pub acc_in: Vec<f64>,
    /// Owned blocks (population, local start, local end).
    pub blocks: Vec<(usize, usize, usize)>,
    /// One Poisson stream per owned block.
    pub poisson_rng: Vec<StdRng>,
    /// Spike count per neuron in the timed phase.
    pub spike_count: Vec<u32>,
    /// Step of the last spike per neuron.
    pub last_spike: Vec<u32>,
    /// Sum of ISIs in steps per neuron.
    pub isi_sum: Vec<u64>,
    /// Sum of squared ISIs per neuron.
    pub isi_sum2: Vec<u64>,
    /// Recorded spikes (global id, step), if asked for.
    pub recorded: Vec<(u32, u32)>,
    /// Per neuron, FNV-1a 64 over its timed spikes' steps (u32, little-endian, in time order); see
    /// [`crate::spike_fingerprint`].
    pub spike_hash: Vec<u64>,
    /// Counters of the current phase.
    pub counts: ThreadCounts,
    /// Scratch: this step's synapse groups (start, end, inhibitory).
    groups: Vec<(usize, usize, bool)>,
    /// The thalamic Poisson stream; only the thread that publishes thalamic spikes holds it.
    pub th_rng: Option<StdRng>,
    /// Scratch: which neurons spiked in this step's branch-free update.
    flags: Vec<u8>,
    /// Scratch: this step's Poisson input per neuron (pA).
    ext: Vec<f64>,
}

/// The ring of spike lists: `lists[row * depth + step % depth]`, one row per thread, plus one for the
/// thalamus (after the threads, since thalamic ids follow the neurons'). In a partitioned run (see
/// [`crate::SpikeExchange`]) rank `r` has one row per other rank and one per own thread, in ascending
/// source id: the rows of ranks `0..r`, its threads' rows `r..r + threads`, the rows of ranks `r + 1..`,
/// then the thalamus.
pub struct SpikeRing {
    /// The lists.
    pub lists: Vec<RwLock<Vec<u32>>>,
    /// Steps kept: the largest delay + 1.
    pub depth: usize,
    /// Rows: threads, plus 1 with thalamic input.
    pub rows: usize,
}

impl SpikeRing {
    /// Empty lists for `rows` rows and delays up to `max_delay`.
    pub fn new(rows: usize, max_delay: u32) -> SpikeRing {
        let depth = max_delay as usize + 1;
        SpikeRing {
            lists: (0..rows * depth).map(|_| RwLock::new(Vec::new())).collect(),
            depth,
            rows,
        }
    }

    /// The list of `row` for `step`.
    pub fn list(&self, row: usize, step: u64) -> &RwLock<Vec<u32>> {
        &self.lists[row * self.depth + (step % self.depth as u64) as usize]
    }
}

/// Constants shared by all threads.
pub struct Shared {
    /// Neuron propagators.
    pub prop: Propagators,
    /// DC current per population.
    pub i_e: [f64; NUM_POPS],
    /// e^−λ per population for the Poisson background (λ = K_ext·rate·h), if Poisson mode.
    pub poisson: Option<Vec<PoissonTable>>,
    /// External weight.
    pub w_ext: f64,
    /// First update step that receives Poisson input: the generator emits from step 1 (NEST's
    /// `StimulationDevice::is_active` needs step > start), and its events arrive `delay` steps later.
    pub first_poisson_step: u64,
    /// Global id where each population starts (for the channel of a source).
    pub pop_start: [u64; NUM_POPS + 1],
    /// Record spikes.
    pub record: bool,
    /// Thalamic input, if on.
    pub thalamus: Option<Thalamus>,
    /// Transient DC: amplitude per population and the update steps `lo..=hi` whose membrane update sees
    /// it as `i_0`. NEST reads the current event that arrives at step `e + delay` at the end of that
    /// step's update, so it first acts at step `e + delay + 1`.
    pub dc_transient: Option<([f64; NUM_POPS], u64, u64)>,
}

/// The thalamic population: `num` parrot neurons with ids from `first_id`, each repeating its own Poisson
/// train (NEST: one poisson_generator sends independent trains to each parrot_neuron).
#[derive(Debug, Clone)]
pub struct Thalamus {
    /// Id of the first thalamic neuron (the number of cortical neurons).
    pub first_id: u32,
    /// Thalamic neurons.
    pub num: u32,
    /// First and last step at which the generator emits.
    pub emit: (u64, u64),
    /// Generator → parrot delay in steps: a parrot fires `delay` steps after its generator emits.
    pub parrot_delay: u64,
    /// e^−λ, λ = th_rate · h.
    pub table: PoissonTable,
}

impl Shared {
    /// From the derived parameters.
    pub fn new(p: &Params, d: &Derived) -> Shared {
        let h_s = RESOLUTION_MS * 1e-3;
        // poisson_generator: rate = bg_rate · ext_indegree (network.py), mean per step rate·h.
        let poisson = (p.bg_input == BgInput::Poisson).then(|| {
            d.ext_indegree
                .iter()
                .map(|&k| PoissonTable::new(BG_RATE * k as f64 * h_s))
                .collect()
        });
        Shared {
            prop: Propagators::new(RESOLUTION_MS),
            i_e: d.dc_amp,
            poisson,
            w_ext: d.weight_ext,
            first_poisson_step: 1 + d.poisson_delay_steps,
            pop_start: d.pop_start,
            record: p.record_spikes,
            dc_transient: p.dc_transient.then(|| {
                let (e0, e1) = d.dc_transient_emit;
                let lag = d.dc_transient_delay_steps + 1;
                (d.dc_transient_amp, e0 + lag, e1 + lag)
            }),
            thalamus: p.thalamic_input.then(|| Thalamus {
                first_id: d.total_neurons() as u32,
                num: d.num_th_neurons as u32,
                emit: (d.th_first_step, d.th_last_step),
                parrot_delay: d.th_parrot_delay_steps,
                table: PoissonTable::new(TH_RATE * h_s),
            }),
        }
    }

    /// Whether source `id` is inhibitory (odd populations), i.e. feeds the inhibitory channel. NEST picks
    /// the channel by the weight's sign, which the redraw bounds tie to the source's type.
    #[inline(always)]
    fn inhibitory(&self, id: u64) -> bool {
        // Thalamic sources (ids past the neurons) are excitatory.
        if id >= self.pop_start[NUM_POPS] {
            return false;
        }
        let mut pop = 0;
        while pop + 1 < NUM_POPS && id >= self.pop_start[pop + 1] {
            pop += 1;
        }
        pop % 2 == 1
    }
}

/// The initial membrane potentials of block `block` (of population `pop`) into `out`, one per
/// neuron, relative to `E_L` as NEST stores V_m (iaf_psc_exp State_::set), from the block's own
/// stream: every simulator of the crate draws them this way.
pub fn block_potentials(p: &Params, block: usize, pop: usize, out: &mut [f64]) {
    let (mean, sd) = match p.v0_type {
        V0Type::Optimized => (V0_MEAN_OPTIMIZED[pop], V0_STD_OPTIMIZED[pop]),
        V0Type::Original => (V0_MEAN_ORIGINAL, V0_STD_ORIGINAL),
    };
    let normal = Normal::new(mean, sd).expect("finite SD");
    let mut rng = stream(p.seed, TAG_V0, block as u64, 0);
    for x in out {
        *x = normal.sample(&mut rng) - E_L;
    }
}

impl ThreadState {
    /// Allocate state for `syn`'s range; initial potentials from per-block streams.
    pub fn new(p: &Params, syn: ThreadSynapses, all_blocks: &[Block]) -> ThreadState {
        let n = (syn.hi - syn.lo) as usize;
        let mut v = vec![0.0; n];
        let mut blocks = Vec::new();
        let mut poisson_rng = Vec::new();
        for bi in syn.blocks.clone() {
            let b = all_blocks[bi];
            let (a, z) = ((b.start - syn.lo) as usize, (b.start - syn.lo + b.len) as usize);
            block_potentials(p, bi, b.pop, &mut v[a..z]);
            blocks.push((b.pop, a, z));
            poisson_rng.push(stream(p.seed, TAG_POISSON, bi as u64, 0));
        }
        ThreadState {
            syn,
            v,
            i_ex: vec![0.0; n],
            i_in: vec![0.0; n],
            r_ref: vec![0; n],
            acc_ex: vec![0.0; n],
            acc_in: vec![0.0; n],
            blocks,
            poisson_rng,
            spike_count: vec![0; n],
            last_spike: vec![0; n],
            isi_sum: vec![0; n],
            isi_sum2: vec![0; n],
            recorded: Vec::new(),
            spike_hash: vec![crate::FNV_OFFSET; n],
            counts: ThreadCounts::default(),
            groups: Vec::new(),
            th_rng: None,
            flags: vec![0; n],
            ext: vec![0.0; n],
        }
    }

    /// Local neuron count.
    pub fn len(&self) -> usize {
        self.v.len()
    }

    /// Whether it owns no neurons.
    pub fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// Update all owned neurons for step `s`, pushing the global ids of those that spike into `out`.
    pub fn update(&mut self, sh: &Shared, s: u64, timed: bool, out: &mut Vec<u32>) {
        let n = self.len();
        let prop = sh.prop;
        let poisson = sh.poisson.as_ref().filter(|_| s >= sh.first_poisson_step);
        let lo = self.syn.lo as u32;
        let first_spike = out.len();
        let mut external = 0u64;
        // Borrow each array once, outside the loop, so the compiler keeps the base pointers in registers.
        let (v, i_ex, i_in, r_ref) = (
            &mut self.v[..],
            &mut self.i_ex[..],
            &mut self.i_in[..],
            &mut self.r_ref[..],
        );
        let (acc_ex, acc_in) = (&mut self.acc_ex[..], &mut self.acc_in[..]);
        let (flags, ext) = (&mut self.flags[..], &mut self.ext[..]);
        for (&(pop, a, z), rng) in self.blocks.iter().zip(self.poisson_rng.iter_mut()) {
            // (I_e + i_0) · P20 as NEST groups it; i_0 is 0 outside the transient, and I_e + 0.0 == I_e.
            let i_e = match sh.dc_transient {
                Some((amp, lo, hi)) if (lo..=hi).contains(&s) => sh.i_e[pop] + amp[pop],
                _ => sh.i_e[pop],
            };
            let cells = v[a..z]
                .iter_mut()
                .zip(&mut i_ex[a..z])
                .zip(&mut i_in[a..z])
                .zip(&mut r_ref[a..z])
                .zip(acc_ex[a..z].iter_mut().zip(&mut acc_in[a..z]));
            if let Some(l) = poisson {
                // Draw first, so the neuron loop below stays branch-free. DSSpikeEvent with multiplicity n
                // adds weight·n once (iaf_psc_exp::handle); n = 0 adds +0.0, which leaves the sum as it is.
                for e in ext[a..z].iter_mut() {
                    let n = l[pop].sample(rng);
                    external += n as u64;
                    *e = sh.w_ext * n as f64;
                }
                let cells = cells.zip(flags[a..z].iter_mut().zip(&ext[a..z]));
                for (((((v, ie), ii), r), (ax, ai)), (f, e)) in cells {
                    let (in_ex, in_in) = (std::mem::take(ax) + e, std::mem::take(ai));
                    *f = step_branchless(&prop, v, ie, ii, r, i_e, in_ex, in_in);
                }
            } else {
                // No per-neuron randomness: a branch-free loop, spikes collected afterwards.
                let cells = cells.zip(&mut flags[a..z]);
                for (((((v, ie), ii), r), (ax, ai)), f) in cells {
                    let (in_ex, in_in) = (std::mem::take(ax), std::mem::take(ai));
                    *f = step_branchless(&prop, v, ie, ii, r, i_e, in_ex, in_in);
                }
            }
            for (x, f) in flags[a..z].iter().enumerate() {
                if *f != 0 {
                    out.push(lo + (a + x) as u32);
                }
            }
        }
        if timed {
            for &id in &out[first_spike..] {
                let x = (id - lo) as usize;
                let c = self.spike_count[x];
                if c > 0 {
                    let isi = (s as u32 - self.last_spike[x]) as u64;
                    self.isi_sum[x] += isi;
                    self.isi_sum2[x] += isi * isi;
                }
                self.spike_count[x] = c + 1;
                self.last_spike[x] = s as u32;
                self.spike_hash[x] = crate::fnv1a(self.spike_hash[x], &(s as u32).to_le_bytes());
                if sh.record {
                    self.recorded.push((id, s as u32));
                }
            }
        }
        self.counts.external_events += external;
        self.counts.updates += n as u64;
    }

    /// Pull into the accumulators every synapse whose spike, emitted at step `s − d`, arrives at step `s`,
    /// for each delay `d` this thread's synapses have; `count_from` is the first step whose spikes are
    /// counted in `recurrent_events`.
    pub fn pull(&mut self, sh: &Shared, ring: &SpikeRing, s: u64, count_from: u64) {
        let stride = self.syn.delay_stride;
        let max_d = (stride - 2) as u64;
        let (mut delivered, mut counted, mut counted_th) = (0u64, 0u64, 0u64);
        // First list the step's (synapse range, channel) groups, in delivery order, then walk them while
        // prefetching the start of the group after next: each group (~10–100 synapses) begins at a random
        // place in the synapse array, a DRAM miss that the hardware prefetcher cannot foresee.
        let mut groups = std::mem::take(&mut self.groups);
        groups.clear();
        for d in 1..=max_d.min(s) {
            let emitted = s - d;
            for u in 0..ring.rows {
                let list = ring.list(u, emitted).read().expect("spike list");
                for &src in list.iter() {
                    let src = src as usize;
                    let base = self.syn.offsets[src] as usize;
                    if d == 1 && emitted >= count_from {
                        let out_degree = self.syn.offsets[src + 1] - base as u64;
                        if (src as u64) < sh.pop_start[NUM_POPS] {
                            counted += out_degree;
                        } else {
                            counted_th += out_degree;
                        }
                    }
                    let starts = &self.syn.delay_starts[src * stride..];
                    let (a, z) = (
                        base + starts[d as usize] as usize,
                        base + starts[d as usize + 1] as usize,
                    );
                    if a < z {
                        groups.push((a, z, sh.inhibitory(src as u64)));
                    }
                }
            }
        }
        // Excitatory groups first, then inhibitory ones: one input row is hot at a time (at full scale a
        // row is ~300 KB per thread, about what L2 holds). The two rows never share a cell, so each cell
        // still receives its additions in the same order.
        let synapses = &self.syn.synapses[..];
        for channel_inh in [false, true] {
            let acc = if channel_inh {
                &mut self.acc_in
            } else {
                &mut self.acc_ex
            };
            let mut mine = groups.iter().filter(|g| g.2 == channel_inh);
            let mut ahead = groups.iter().filter(|g| g.2 == channel_inh).skip(PREFETCH_GROUPS_AHEAD);
            for &(a, z, _) in &mut mine {
                if let Some(&(na, nz, _)) = ahead.next() {
                    prefetch(&synapses[na..nz.min(na + PREFETCH_WORDS)]);
                }
                delivered += (z - a) as u64;
                for &word in &synapses[a..z] {
                    let (t, _, w) = unpack(word);
                    acc[t as usize] += w as f64;
                }
            }
        }
        self.groups = groups;
        self.counts.delivered_events += delivered;
        self.counts.recurrent_events += counted;
        self.counts.thalamic_events += counted_th;
    }

    /// Count the out-degree share of the spikes of step `last`, which no step of the phase pulled with
    /// delay 1 yet (they are still delivered if the simulation goes on).
    pub fn count_tail(&mut self, sh: &Shared, ring: &SpikeRing, last: u64) {
        for u in 0..ring.rows {
            let list = ring.list(u, last).read().expect("spike list");
            for &src in list.iter() {
                let out_degree = self.syn.offsets[src as usize + 1] - self.syn.offsets[src as usize];
                if (src as u64) < sh.pop_start[NUM_POPS] {
                    self.counts.recurrent_events += out_degree;
                } else {
                    self.counts.thalamic_events += out_degree;
                }
            }
        }
    }

    /// One step `s` on this thread: pull the spikes arriving now, update the neurons into ring row `row`,
    /// publish the thalamic spikes; returns the (delivery, update) seconds. Spikes from step `count_from` on
    /// are counted.
    #[inline]
    pub fn step(
        &mut self,
        sh: &Shared,
        ring: &SpikeRing,
        s: u64,
        count_from: u64,
        timed: bool,
        row: usize,
    ) -> (f64, f64) {
        let t0 = Instant::now();
        self.pull(sh, ring, s, count_from);
        let t1 = Instant::now();
        {
            let mut out = ring.list(row, s).write().expect("spike list");
            out.clear();
            self.update(sh, s, timed, &mut out);
        }
        self.publish_thalamus(sh, ring, s);
        let t2 = Instant::now();
        ((t1 - t0).as_secs_f64(), (t2 - t1).as_secs_f64())
    }

    /// Publish the thalamic spikes of step `s` (only on the thread holding `th_rng`): a parrot fires
    /// `parrot_delay` steps after the generator emits to it, with the multiplicity of the emitted count
    /// (`parrot_neuron::update`), which the list carries as repeats.
    pub fn publish_thalamus(&mut self, sh: &Shared, ring: &SpikeRing, s: u64) {
        let (Some(th), Some(rng)) = (sh.thalamus.as_ref(), self.th_rng.as_mut()) else {
            return;
        };
        let mut list = ring.list(ring.rows - 1, s).write().expect("spike list");
        list.clear();
        let Some(e) = s.checked_sub(th.parrot_delay) else {
            return;
        };
        if e < th.emit.0 || e > th.emit.1 {
            return;
        }
        for k in 0..th.num {
            let n = th.table.sample(rng);
            for _ in 0..n {
                list.push(th.first_id + k);
            }
        }
    }
}

/// Groups ahead whose first synapses delivery prefetches.
pub const PREFETCH_GROUPS_AHEAD: usize = 2;
/// Synapse words prefetched per group (4 cache lines).
pub const PREFETCH_WORDS: usize = 32;

/// Hint that `words` will be read soon, one prefetch per cache line (no effect off x86-64).
#[inline(always)]
pub fn prefetch(words: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    for line in words.chunks(8) {
        // SAFETY: prefetching is a hint that cannot fault; the pointer is in bounds of `words`.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr() as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = words;
}

/// Run steps `from..to` on all threads of `pool`; spikes from `count_from` on are counted. Thread `t`
/// publishes its spikes in ring row `row0 + t`.
#[allow(clippy::too_many_arguments)]
pub fn run_steps(
    pool: &rayon::ThreadPool,
    states: &[Mutex<ThreadState>],
    ring: &SpikeRing,
    sh: &Shared,
    from: u64,
    to: u64,
    timed: bool,
    row0: usize,
) {
    let threads = states.len();
    let barrier = SpinBarrier::new(threads);
    pool.broadcast(|ctx| {
        let t = ctx.index();
        let mut st = states[t].lock().expect("thread state");
        st.counts = ThreadCounts::default();
        let mut c = ThreadCounts::default();
        let sched0 = schedstat();
        for s in from..to {
            let (deliver_s, update_s) = st.step(sh, ring, s, from, timed, row0 + t);
            let t2 = Instant::now();
            barrier.wait();
            c.deliver_s += deliver_s;
            c.update_s += update_s;
            c.wait_s += t2.elapsed().as_secs_f64();
        }
        if to > from {
            st.count_tail(sh, ring, to - 1);
        }
        st.counts.update_s = c.update_s;
        st.counts.wait_s = c.wait_s;
        st.counts.deliver_s = c.deliver_s;
        if let (Some(a), Some(b)) = (sched0, schedstat()) {
            st.counts.cpu_s = Some(b.0 - a.0);
            st.counts.runqueue_s = Some(b.1 - a.1);
        }
    });
}

/// Where a partitioned run's rows lie in its [`SpikeRing`]: see there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingLayout {
    /// This process's rank.
    pub rank: usize,
    /// Ranks.
    pub ranks: usize,
    /// Threads per rank.
    pub threads: usize,
}

impl RingLayout {
    /// Rows without the thalamus: one per other rank, one per own thread.
    pub fn rows(&self) -> usize {
        self.ranks - 1 + self.threads
    }

    /// The row of this rank's thread 0 (its threads follow).
    pub fn first_own_row(&self) -> usize {
        self.rank
    }

    /// The row that holds the spikes of another rank `q`.
    pub fn remote_row(&self, q: usize) -> usize {
        if q < self.rank {
            q
        } else {
            q + self.threads - 1
        }
    }
}

/// Run steps `from..to` of a partitioned run: each step is one `broadcast` on `pool` (pull, update,
/// publish), then, on the calling thread, this rank's spikes of the step (its threads' rows, in ascending
/// id) go to every rank through `exchange` and the other ranks' spikes fill their rows, before the next
/// step pulls them (the minimum delay is one step). MPI without thread support is thus only ever called
/// from the thread that drives the simulation. Returns the seconds spent in the exchange.
#[allow(clippy::too_many_arguments)]
pub fn run_steps_partitioned(
    pool: &rayon::ThreadPool,
    states: &[Mutex<ThreadState>],
    ring: &SpikeRing,
    sh: &Shared,
    from: u64,
    to: u64,
    timed: bool,
    layout: RingLayout,
    exchange: &mut dyn crate::SpikeExchange,
) -> f64 {
    let row0 = layout.first_own_row();
    let t_start = Instant::now();
    let mut exchange_s = 0.0;
    let sched0: Vec<Mutex<Option<(f64, f64)>>> = (0..states.len()).map(|_| Mutex::new(None)).collect();
    let mut mine = Vec::new();
    let mut all: Vec<Vec<u32>> = vec![Vec::new(); layout.ranks];
    for s in from..to {
        pool.broadcast(|ctx| {
            let t = ctx.index();
            let mut st = states[t].lock().expect("thread state");
            if s == from {
                st.counts = ThreadCounts::default();
                *sched0[t].lock().expect("schedstat") = schedstat();
            }
            let (deliver_s, update_s) = st.step(sh, ring, s, from, timed, row0 + t);
            st.counts.deliver_s += deliver_s;
            st.counts.update_s += update_s;
        });
        let t0 = Instant::now();
        mine.clear();
        for t in 0..states.len() {
            mine.extend_from_slice(&ring.list(row0 + t, s).read().expect("spike list"));
        }
        exchange.all_gather(&mine, &mut all);
        for (q, spikes) in all.iter_mut().enumerate() {
            if q != layout.rank {
                let mut row = ring.list(layout.remote_row(q), s).write().expect("spike list");
                std::mem::swap(&mut *row, spikes);
            }
        }
        exchange_s += t0.elapsed().as_secs_f64();
    }
    let wall = t_start.elapsed().as_secs_f64();
    pool.broadcast(|ctx| {
        let t = ctx.index();
        let mut st = states[t].lock().expect("thread state");
        if to > from {
            st.count_tail(sh, ring, to - 1);
        } else {
            st.counts = ThreadCounts::default();
        }
        // Everything but delivery and update: the per-step fork and join, and the exchange.
        st.counts.wait_s = (wall - st.counts.deliver_s - st.counts.update_s).max(0.0);
        if let (Some(a), Some(b)) = (*sched0[t].lock().expect("schedstat"), schedstat()) {
            st.counts.cpu_s = Some(b.0 - a.0);
            st.counts.runqueue_s = Some(b.1 - a.1);
        }
    });
    exchange_s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::pack;

    /// A two-neuron thread state: neuron 0 projects to neuron 1 with `delay` steps; `pop_start` decides
    /// whether neuron 0 is excitatory.
    fn tiny(delay: u32, w: f32, pop_start: [u64; NUM_POPS + 1]) -> (ThreadState, Shared, SpikeRing) {
        let max_delay = 63;
        let stride = max_delay as usize + 2;
        let mut delay_starts = vec![0u32; 2 * stride];
        for x in delay_starts[delay as usize + 1..stride].iter_mut() {
            *x = 1;
        }
        let syn = ThreadSynapses {
            lo: 0,
            hi: 2,
            blocks: 0..0,
            offsets: vec![0, 1, 1],
            synapses: vec![pack(1, delay, w)],
            delay_starts,
            delay_stride: stride,
            max_delay,
        };
        let mut st = ThreadState::new(&Params::default(), syn, &[]);
        st.blocks = vec![(0, 0, 2)];
        st.poisson_rng = vec![stream(1, TAG_POISSON, 0, 0)];
        let sh = Shared {
            prop: Propagators::new(RESOLUTION_MS),
            i_e: [0.0; NUM_POPS],
            poisson: None,
            w_ext: 0.0,
            first_poisson_step: 16,
            pop_start,
            record: false,
            thalamus: None,
            dc_transient: None,
        };
        (st, sh, SpikeRing::new(1, max_delay))
    }

    /// Run steps `0..steps`; neuron 0 is made to spike at step `emit` by publishing it by hand.
    fn run(st: &mut ThreadState, sh: &Shared, ring: &SpikeRing, emit: u64, steps: u64) -> Vec<(f64, f64)> {
        let mut trace = Vec::new();
        for s in 0..steps {
            st.pull(sh, ring, s, 0);
            let mut mine = ring.list(0, s).write().unwrap();
            mine.clear();
            st.update(sh, s, false, &mut mine);
            if s == emit {
                mine.push(0);
            }
            trace.push((st.i_ex[1], st.i_in[1]));
        }
        trace
    }

    #[test]
    fn spike_arrives_exactly_after_delay() {
        let exc = [0, 2, 2, 2, 2, 2, 2, 2, 2];
        for delay in [1u32, 7, 15, 63] {
            let (mut st, sh, ring) = tiny(delay, 100.0, exc);
            let emit = 5u64;
            let trace = run(&mut st, &sh, &ring, emit, emit + delay as u64 + 3);
            for (s, &(ie, ii)) in trace.iter().enumerate() {
                let s = s as u64;
                if s < emit + delay as u64 {
                    assert_eq!(ie, 0.0, "delay {delay}: current before arrival at step {s}");
                } else if s == emit + delay as u64 {
                    assert_eq!(ie, 100.0, "delay {delay}: arrival at step {s}");
                }
                assert_eq!(ii, 0.0);
            }
            assert_eq!(st.counts.delivered_events, 1);
            assert_eq!(st.counts.recurrent_events, 1);
            assert_eq!(st.i_ex[0], 0.0);
        }
    }

    #[test]
    fn inhibitory_source_uses_inhibitory_channel() {
        // Neuron 0 in population 1 (inhibitory).
        let (mut st, sh, ring) = tiny(3, -50.0, [0, 0, 2, 2, 2, 2, 2, 2, 2]);
        let trace = run(&mut st, &sh, &ring, 0, 4);
        assert_eq!(trace[3], (0.0, -50.0));
    }

    #[test]
    fn dc_transient_window_follows_nest() {
        let p = Params {
            dc_transient: true,
            ..Params::default()
        };
        let d = Derived::new(&p).unwrap();
        let sh = Shared::new(&p, &d);
        let (amp, lo, hi) = sh.dc_transient.unwrap();
        // Sent at e = 6499..=7498, delivered 10 steps later, read at the end of that step.
        assert_eq!((lo, hi), (6510, 7509));
        assert_eq!(amp[0], 480.0);
        // One neuron without other input: V moves only from step lo on, by exactly P20·(I_e + amp).
        let (mut st, mut sh2, _) = tiny(1, 0.0, [0, 2, 2, 2, 2, 2, 2, 2, 2]);
        sh2.dc_transient = sh.dc_transient;
        st.v = vec![0.0; 2];
        let mut out = Vec::new();
        for s in lo - 3..lo {
            st.update(&sh2, s, false, &mut out);
            assert_eq!(st.v[0], 0.0);
        }
        st.update(&sh2, lo, false, &mut out);
        assert_eq!(st.v[0], sh2.prop.p20 * 480.0);
        let mut v = st.v[0];
        for s in lo + 1..=hi {
            st.update(&sh2, s, false, &mut out);
            assert!(st.v[0] > v || st.r_ref[0] > 0 || st.v[0] == sh2.prop.v_reset);
            v = st.v[0];
        }
        let v_end = st.v[0];
        st.update(&sh2, hi + 1, false, &mut out);
        assert_eq!(st.v[0], v_end * sh2.prop.p22, "no current after the window");
    }

    #[test]
    fn barrier_synchronises() {
        let b = SpinBarrier::new(3);
        let hits = AtomicUsize::new(0);
        std::thread::scope(|sc| {
            for _ in 0..3 {
                sc.spawn(|| {
                    for round in 1..=100 {
                        hits.fetch_add(1, Ordering::SeqCst);
                        b.wait();
                        assert!(hits.load(Ordering::SeqCst) >= 3 * round);
                        b.wait();
                    }
                });
            }
        });
        assert_eq!(hits.load(Ordering::SeqCst), 300);
    }
}
