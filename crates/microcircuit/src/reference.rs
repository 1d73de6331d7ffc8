//! A naive reference simulator, the yardstick the optimized one ([`crate::sim`]) is checked against.
//!
//! It simulates the same network the plain way NEST does: single-threaded, one neuron after the other,
//! every spike pushed along its source's outgoing synapses into per-neuron ring buffers.
//!
//! # Shared with the optimized simulator
//! - the parameters ([`Params`], [`Derived`]) and the constants of [`Shared`]: DC amplitudes, the
//!   Poisson tables and `w_ext`, the first step of Poisson input, the thalamic and transient-DC windows;
//! - the connectivity generation ([`connect::build_all`], deterministic per seed whatever the partition,
//!   run here with one partition);
//! - the random streams ([`crate::rng`]): initial potentials per 128-neuron block, Poisson counts per block,
//!   the thalamic trains, drawn in the optimized simulator's order, since they are part of the model's
//!   realisation;
//! - the neuron's propagators and its scalar update ([`neuron::step`], NEST's `iaf_psc_exp::update` order,
//!   tested against the closed form).
//!
//! # Done independently
//! - the synapses are converted into a plain outgoing adjacency list per source (target, delay, weight), so
//!   delivery depends on nothing of the optimized per-thread, per-delay incoming layout;
//! - the state is one flat array per variable over all neurons;
//! - delivery: NEST's ring buffers, one per channel (excitatory, inhibitory) of `max_delay + 1` slots ×
//!   neurons; a spike emitted in step `s` along a synapse of delay `d` is added, at the end of step `s`, to
//!   slot `(s + d) mod (max_delay + 1)`, the channel chosen by the weight's sign as `iaf_psc_exp::handle`
//!   does; step `s` reads and clears slot `s mod (max_delay + 1)` after the membrane update
//!   (`i_syn_ex_ += B_.spikes_ex_.get_value(lag)`), so the spike first moves V in step `s + d + 1`;
//! - the update loop over steps and neurons, the spike record and the thalamic relay.
//!
//! Equal spike trains therefore show that the optimized delivery (pulling by delay into per-thread rows,
//! barriers, branch-free updates) delivers every synapse exactly once, at the right step, with the right
//! weight and channel, and that its state handling matches NEST's update loop.
//!
//! Summation order: here a ring-buffer cell receives its inputs in emission order (NEST's); the optimized
//! simulator adds them by delay, then source. Both sum f32 weights in f64, which is exact for the few dozen
//! inputs a cell gets (one sign per channel, weights within a factor of ~30 of each other), so the order
//! cannot change a bit. The Poisson input `w_ext · n` is not an f32 value, so it is added last, to the
//! summed recurrent input of the step, exactly as the optimized simulator does.
//!
//! Memory: ~12 bytes per synapse plus the connectivity build; meant for small scales.

use crate::connect::{self, unpack};
use crate::neuron;
use crate::rng::{stream, TAG_POISSON, TAG_THALAMUS};
use crate::sim::Shared;
use crate::{Derived, Error, Params};

/// One outgoing synapse, stored with its source as NEST stores connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Synapse {
    /// Global id of the target neuron.
    pub target: u32,
    /// Delay in steps (>= 1).
    pub delay: u32,
    /// Weight in pA (f32, as the optimized simulator stores it).
    pub weight: f32,
}

/// Every neuron's initial membrane potential, relative to `E_L` as NEST holds it: per
/// 128-neuron block, drawn from the block's own stream (`TAG_V0`), as the optimized simulator
/// draws them.
pub fn initial_potentials(p: &Params, blocks: &[connect::Block], neurons: usize) -> Vec<f64> {
    let mut v = vec![0.0f64; neurons];
    for (bi, b) in blocks.iter().enumerate() {
        crate::sim::block_potentials(p, bi, b.pop, &mut v[b.start as usize..(b.start + b.len) as usize]);
    }
    v
}

/// Every spike of steps `0..steps` as (global neuron id, step), sorted by step then id, simulated the
/// plain way NEST does it: an outgoing adjacency list per source, a ring buffer per channel indexed by
/// arrival step, and `iaf_psc_exp::update` for each neuron in turn (see the module docs). It must equal
/// [`crate::Simulation::record`]`(steps)` of a fresh simulation of `p`, whatever `p.threads`.
pub fn spikes(p: &Params, steps: u64) -> Result<Vec<(u32, u32)>, Error> {
    spikes_with(p, steps, |_| {})
}

/// [`spikes`], with `tamper` given the outgoing adjacency lists (indexed by source: neurons, then thalamic
/// neurons) before the simulation: the test hook that plants a bug to show the comparison can fail.
#[doc(hidden)]
pub fn spikes_with(p: &Params, steps: u64, tamper: impl FnOnce(&mut [Vec<Synapse>])) -> Result<Vec<(u32, u32)>, Error> {
    if steps > u32::MAX as u64 + 1 {
        return Err(Error::TooLarge {
            what: format!("{steps} steps (spikes are stamped with u32 steps)"),
        });
    }
    let d = Derived::new(p)?;
    let sh = Shared::new(p, &d);
    let blocks = connect::blocks(&d);

    // Connectivity: one partition, then turned around into outgoing lists.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| Error::ThreadPool(e.to_string()))?;
    let parts = connect::partition(&blocks, 1);
    let syn = connect::build_all(&d, &blocks, &parts, p.seed, &pool)?
        .pop()
        .expect("one partition");
    let mut out: Vec<Vec<Synapse>> = (0..d.total_sources())
        .map(|src| {
            let row = &syn.synapses[syn.offsets[src] as usize..syn.offsets[src + 1] as usize];
            row.iter()
                .map(|&word| {
                    let (t, delay, weight) = unpack(word);
                    Synapse {
                        target: (syn.lo + t as u64) as u32,
                        delay,
                        weight,
                    }
                })
                .collect()
        })
        .collect();
    drop(syn);
    tamper(&mut out);

    // State, relative to E_L as NEST holds it; initial V per block from the block's stream.
    let n = d.total_neurons();
    let mut v = initial_potentials(p, &blocks, n);
    let (mut i_ex, mut i_in, mut r_ref) = (vec![0.0f64; n], vec![0.0f64; n], vec![0u32; n]);
    // The random streams of the inputs, as the optimized simulator holds them: one Poisson stream per
    // block, one thalamic stream.
    let mut poisson_rng: Vec<_> = (0..blocks.len())
        .map(|bi| stream(p.seed, TAG_POISSON, bi as u64, 0))
        .collect();
    let mut th_rng = stream(p.seed, TAG_THALAMUS, 0, 0);

    // NEST's ring buffers: slot k holds the input arriving in the steps s with s mod len = k.
    let max_delay = out.iter().flatten().map(|s| s.delay).max().unwrap_or(1).max(1);
    let len = max_delay as usize + 1;
    let mut ring_ex = vec![0.0f64; len * n];
    let mut ring_in = vec![0.0f64; len * n];

    let prop = sh.prop;
    let mut recorded = Vec::new();
    // This step's emitting sources with multiplicity.
    let mut emitted: Vec<(u32, u32)> = Vec::new();
    for s in 0..steps {
        let slot = (s % len as u64) as usize;
        let poisson = sh.poisson.as_ref().filter(|_| s >= sh.first_poisson_step);
        emitted.clear();
        for (b, rng) in blocks.iter().zip(&mut poisson_rng) {
            let i_e = match sh.dc_transient {
                Some((amp, lo, hi)) if (lo..=hi).contains(&s) => sh.i_e[b.pop] + amp[b.pop],
                _ => sh.i_e[b.pop],
            };
            for id in b.start as usize..(b.start + b.len) as usize {
                let mut in_ex = std::mem::take(&mut ring_ex[slot * n + id]);
                let in_in = std::mem::take(&mut ring_in[slot * n + id]);
                if let Some(tables) = poisson {
                    // Mirrors the optimized simulator: one draw per neuron per step from its block's stream,
                    // in neuron order (it draws a block's counts before updating it: the same sequence).
                    let k = tables[b.pop].sample(rng);
                    in_ex += sh.w_ext * k as f64;
                }
                let (v, ie, ii, r) = (&mut v[id], &mut i_ex[id], &mut i_in[id], &mut r_ref[id]);
                if neuron::step(&prop, v, ie, ii, r, i_e, in_ex, in_in) {
                    recorded.push((id as u32, s as u32));
                    emitted.push((id as u32, 1));
                }
            }
        }
        // Thalamus: parrot k fires `parrot_delay` steps after its generator emits, with the emitted count
        // as multiplicity; counts drawn in the optimized simulator's order (step, then parrot).
        if let Some(th) = &sh.thalamus {
            if s >= th.parrot_delay && (th.emit.0..=th.emit.1).contains(&(s - th.parrot_delay)) {
                for k in 0..th.num {
                    let m = th.table.sample(&mut th_rng);
                    if m > 0 {
                        emitted.push((th.first_id + k, m));
                    }
                }
            }
        }
        // Delivery: each event into the slot of its arrival step (iaf_psc_exp::handle: weight × multiplicity,
        // excitatory channel for weights >= 0).
        for &(src, m) in &emitted {
            for syn in &out[src as usize] {
                let cell = ((s + syn.delay as u64) % len as u64) as usize * n + syn.target as usize;
                let w = syn.weight as f64 * m as f64;
                if w >= 0.0 {
                    ring_ex[cell] += w;
                } else {
                    ring_in[cell] += w;
                }
            }
        }
    }
    Ok(recorded)
}
