//! The simulation loop: one long-lived task per thread, one barrier per 0.1 ms step.
//!
//! Per step every thread (1) updates its own neurons, reading and clearing this step's ring-buffer row, and
//! publishes its spikes; (2) waits at the barrier; (3) walks every thread's spike list, in thread order
//! and so in ascending source id, delivering each spike through its own synapse segment into its own ring
//! buffer. Spike lists are double-buffered by step parity, so no second barrier is needed: a list is
//! rewritten two steps later, after every thread has passed the next barrier and so finished reading it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

use crate::connect::{unpack, Block, ThreadSynapses};
use crate::neuron::{step, Propagators};
use crate::params::{BgInput, Derived, Params, V0Type, BG_RATE, E_L, NUM_POPS, RESOLUTION_MS};
use crate::params::{V0_MEAN_OPTIMIZED, V0_MEAN_ORIGINAL, V0_STD_OPTIMIZED, V0_STD_ORIGINAL};
use crate::rng::{poisson_knuth, stream, TAG_POISSON, TAG_V0};

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
            if spins < 2000 {
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
    /// Recurrent synaptic events delivered into this thread's ring buffer.
    pub recurrent_events: u64,
    /// Poisson input spikes received.
    pub external_events: u64,
    /// Seconds updating neurons.
    pub update_s: f64,
    /// Seconds delivering spikes.
    pub deliver_s: f64,
    /// Seconds waiting at the barrier.
    pub wait_s: f64,
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
    /// Ring buffer `[ex, in][slot][local neuron]`, `slots` a power of two above the largest delay. Separate
    /// planes keep the excitatory events (~80 %) within half the bytes.
    pub ring: Vec<f64>,
    /// Ring slots − 1.
    pub mask: u64,
    /// Owned blocks (population, local start, local end) and their Poisson streams.
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
    /// Counters of the current phase.
    pub counts: ThreadCounts,
}

/// Constants shared by all threads.
pub struct Shared {
    /// Neuron propagators.
    pub prop: Propagators,
    /// DC current per population.
    pub i_e: [f64; NUM_POPS],
    /// e^−λ per population for the Poisson background (λ = K_ext·rate·h), if Poisson mode.
    pub poisson_exp_neg_lambda: Option<[f64; NUM_POPS]>,
    /// External weight.
    pub w_ext: f64,
    /// First update step that receives Poisson input: the generator emits from step 1 (NEST's
    /// `StimulationDevice::is_active` needs step > start), and its events arrive `delay` steps later.
    pub first_poisson_step: u64,
    /// Global id where each population starts (for the channel of a source).
    pub pop_start: [u64; NUM_POPS + 1],
    /// Record spikes.
    pub record: bool,
}

impl Shared {
    /// From the derived parameters.
    pub fn new(p: &Params, d: &Derived) -> Shared {
        let h_s = RESOLUTION_MS * 1e-3;
        let poisson_exp_neg_lambda = (p.bg_input == BgInput::Poisson).then(|| {
            let mut l = [0.0; NUM_POPS];
            for (i, x) in l.iter_mut().enumerate() {
                // poisson_generator: rate = bg_rate · ext_indegree (network.py), mean per step rate·h.
                *x = (-(BG_RATE * d.ext_indegree[i] as f64) * h_s).exp();
            }
            l
        });
        Shared {
            prop: Propagators::new(RESOLUTION_MS),
            i_e: d.dc_amp,
            poisson_exp_neg_lambda,
            w_ext: d.weight_ext,
            first_poisson_step: 1 + d.poisson_delay_steps,
            pop_start: d.pop_start,
            record: p.record_spikes,
        }
    }

    /// Whether source `id` is inhibitory (odd populations), i.e. feeds the inhibitory channel. NEST picks
    /// the channel by the weight's sign, which the redraw bounds tie to the source's type.
    #[inline(always)]
    fn inhibitory(&self, id: u64) -> bool {
        let mut pop = 0;
        while pop + 1 < NUM_POPS && id >= self.pop_start[pop + 1] {
            pop += 1;
        }
        pop % 2 == 1
    }
}

impl ThreadState {
    /// Allocate state for `syn`'s range; initial potentials from per-block streams.
    pub fn new(p: &Params, syn: ThreadSynapses, all_blocks: &[Block], ring_slots: usize) -> ThreadState {
        let n = (syn.hi - syn.lo) as usize;
        let mut v = vec![0.0; n];
        let mut blocks = Vec::new();
        let mut poisson_rng = Vec::new();
        for bi in syn.blocks.clone() {
            let b = all_blocks[bi];
            let (a, z) = ((b.start - syn.lo) as usize, (b.start - syn.lo + b.len) as usize);
            let (mean, sd) = match p.v0_type {
                V0Type::Optimized => (V0_MEAN_OPTIMIZED[b.pop], V0_STD_OPTIMIZED[b.pop]),
                V0Type::Original => (V0_MEAN_ORIGINAL, V0_STD_ORIGINAL),
            };
            let normal = Normal::new(mean, sd).expect("finite SD");
            let mut rng = stream(p.seed, TAG_V0, bi as u64, 0);
            for x in &mut v[a..z] {
                // NEST stores V_m − E_L (iaf_psc_exp State_::set).
                *x = normal.sample(&mut rng) - E_L;
            }
            blocks.push((b.pop, a, z));
            poisson_rng.push(stream(p.seed, TAG_POISSON, bi as u64, 0));
        }
        ThreadState {
            syn,
            v,
            i_ex: vec![0.0; n],
            i_in: vec![0.0; n],
            r_ref: vec![0; n],
            ring: vec![0.0; ring_slots * n * 2],
            mask: ring_slots as u64 - 1,
            blocks,
            poisson_rng,
            spike_count: vec![0; n],
            last_spike: vec![0; n],
            isi_sum: vec![0; n],
            isi_sum2: vec![0; n],
            recorded: Vec::new(),
            counts: ThreadCounts::default(),
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
        let slots = (self.mask + 1) as usize;
        let slot = (s & self.mask) as usize;
        let (ex_plane, in_plane) = self.ring.split_at_mut(slots * n);
        let row_ex = &mut ex_plane[slot * n..][..n];
        let row_in = &mut in_plane[slot * n..][..n];
        let poisson = sh.poisson_exp_neg_lambda.filter(|_| s >= sh.first_poisson_step);
        let lo = self.syn.lo as u32;
        for (bk, &(pop, a, z)) in self.blocks.iter().enumerate() {
            let i_e = sh.i_e[pop];
            let rng = &mut self.poisson_rng[bk];
            for x in a..z {
                let mut in_ex = std::mem::take(&mut row_ex[x]);
                let in_in = std::mem::take(&mut row_in[x]);
                if let Some(l) = poisson {
                    let k = poisson_knuth(rng, l[pop]);
                    if k > 0 {
                        // DSSpikeEvent with multiplicity k: one add of weight·k (iaf_psc_exp::handle).
                        in_ex += sh.w_ext * k as f64;
                        self.counts.external_events += k as u64;
                    }
                }
                let spiked = step(
                    &sh.prop,
                    &mut self.v[x],
                    &mut self.i_ex[x],
                    &mut self.i_in[x],
                    &mut self.r_ref[x],
                    i_e,
                    in_ex,
                    in_in,
                );
                if spiked {
                    let id = lo + x as u32;
                    out.push(id);
                    if timed {
                        let c = self.spike_count[x];
                        if c > 0 {
                            let isi = (s as u32 - self.last_spike[x]) as u64;
                            self.isi_sum[x] += isi;
                            self.isi_sum2[x] += isi * isi;
                        }
                        self.spike_count[x] = c + 1;
                        self.last_spike[x] = s as u32;
                        if sh.record {
                            self.recorded.push((id, s as u32));
                        }
                    }
                }
            }
        }
        self.counts.updates += n as u64;
    }

    /// Deliver spikes emitted in step `s` (ascending source ids) into the ring buffer: each lands in the
    /// row read by the update of step `s + delay`, as NEST's `get_rel_delivery_steps` places it.
    #[inline]
    pub fn deliver(&mut self, sh: &Shared, s: u64, spikes: &[u32]) {
        let n = self.len();
        let slots = (self.mask + 1) as usize;
        let mut events = 0u64;
        for &src in spikes {
            let plane = if sh.inhibitory(src as u64) { slots * n } else { 0 };
            let ring = &mut self.ring[plane..plane + slots * n];
            let (a, z) = (
                self.syn.offsets[src as usize] as usize,
                self.syn.offsets[src as usize + 1] as usize,
            );
            events += (z - a) as u64;
            let packed = &self.syn.packed[a..z];
            let weights = &self.syn.weights[a..z];
            for (k, (&word, &w)) in packed.iter().zip(weights).enumerate() {
                // The writes are cache misses at scale; announcing one a few synapses ahead overlaps them.
                if let Some(&ahead) = packed.get(k + PREFETCH_AHEAD) {
                    let (t, d) = unpack(ahead);
                    prefetch_write(ring, ((s + d as u64) & self.mask) as usize * n + t as usize);
                }
                let (t, d) = unpack(word);
                let slot = ((s + d as u64) & self.mask) as usize;
                ring[slot * n + t as usize] += w as f64;
            }
        }
        self.counts.recurrent_events += events;
    }
}

/// How many synapses ahead delivery prefetches its ring-buffer cell.
const PREFETCH_AHEAD: usize = 16;

/// Hint that `ring[idx]` will be written soon (no effect off x86-64; never faults).
#[inline(always)]
fn prefetch_write(ring: &[f64], idx: usize) {
    #[cfg(target_arch = "x86_64")]
    if idx < ring.len() {
        // SAFETY: prefetch is a hint; the pointer is in bounds of `ring`.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(ring.as_ptr().add(idx) as *const i8)
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (ring, idx);
}

/// Run steps `from..to` on all threads of `pool`. `lists` holds 2 spike lists per thread.
pub fn run_steps(
    pool: &rayon::ThreadPool,
    states: &[Mutex<ThreadState>],
    lists: &[RwLock<Vec<u32>>],
    sh: &Shared,
    from: u64,
    to: u64,
    timed: bool,
) {
    let threads = states.len();
    let barrier = SpinBarrier::new(threads);
    pool.broadcast(|ctx| {
        let t = ctx.index();
        let mut st = states[t].lock().expect("thread state");
        st.counts = ThreadCounts::default();
        let mut c = ThreadCounts::default();
        for s in from..to {
            let par = (s & 1) as usize;
            let t0 = Instant::now();
            {
                let mut mine = lists[2 * t + par].write().expect("spike list");
                mine.clear();
                st.update(sh, s, timed, &mut mine);
            }
            let t1 = Instant::now();
            barrier.wait();
            let t2 = Instant::now();
            for u in 0..threads {
                let l = lists[2 * u + par].read().expect("spike list");
                st.deliver(sh, s, &l);
            }
            let t3 = Instant::now();
            c.update_s += (t1 - t0).as_secs_f64();
            c.wait_s += (t2 - t1).as_secs_f64();
            c.deliver_s += (t3 - t2).as_secs_f64();
        }
        st.counts.update_s = c.update_s;
        st.counts.wait_s = c.wait_s;
        st.counts.deliver_s = c.deliver_s;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::DELAY_BITS;

    /// A two-neuron thread state: neuron 0 (L23E) projects to neuron 1 with `delay` steps.
    fn tiny(delay: u32, w: f32) -> (ThreadState, Shared) {
        let syn = ThreadSynapses {
            lo: 0,
            hi: 2,
            blocks: 0..0,
            offsets: vec![0, 1, 1],
            packed: vec![(1 << DELAY_BITS) | delay],
            weights: vec![w],
            max_delay: delay,
        };
        let p = Params::default();
        let mut st = ThreadState::new(&p, syn, &[], 64);
        st.blocks = vec![(0, 0, 2)];
        st.poisson_rng = vec![stream(1, TAG_POISSON, 0, 0)];
        let mut pop_start = [2u64; NUM_POPS + 1];
        pop_start[0] = 0;
        let sh = Shared {
            prop: Propagators::new(RESOLUTION_MS),
            i_e: [0.0; NUM_POPS],
            poisson_exp_neg_lambda: None,
            w_ext: 0.0,
            first_poisson_step: 16,
            pop_start,
            record: false,
        };
        (st, sh)
    }

    #[test]
    fn spike_arrives_exactly_after_delay() {
        for delay in [1u32, 7, 15, 63] {
            let (mut st, sh) = tiny(delay, 100.0);
            let emit = 5u64;
            let mut out = Vec::new();
            for s in 0..=emit + delay as u64 + 2 {
                st.update(&sh, s, false, &mut out);
                if s == emit {
                    st.deliver(&sh, s, &[0]);
                }
                if s < emit + delay as u64 {
                    assert_eq!(st.i_ex[1], 0.0, "delay {delay}: current before arrival at step {s}");
                } else if s == emit + delay as u64 {
                    assert_eq!(st.i_ex[1], 100.0, "delay {delay}: arrival at step {s}");
                }
            }
            assert_eq!(st.i_ex[0], 0.0);
            assert_eq!(st.counts.recurrent_events, 1);
        }
    }

    #[test]
    fn inhibitory_source_uses_inhibitory_channel() {
        let (mut st, mut sh) = tiny(3, -50.0);
        sh.pop_start = [0, 1, 2, 2, 2, 2, 2, 2, 2];
        // Source 0 is in population 0 (excitatory): make it population 1 by shifting the boundary.
        sh.pop_start[1] = 0;
        let mut out = Vec::new();
        st.deliver(&sh, 0, &[0]);
        for s in 0..=3 {
            st.update(&sh, s, false, &mut out);
        }
        assert_eq!(st.i_in[1], -50.0);
        assert_eq!(st.i_ex[1], 0.0);
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
