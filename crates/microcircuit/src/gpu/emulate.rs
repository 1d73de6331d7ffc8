//! The GPU kernels' algorithm run on the host, step by step as the device runs it: the
//! `update` kernel's per-neuron work, the spike list its atomic counter fills (in any order),
//! and the `deliver` kernel's per-spike walks of outgoing rows with atomic adds into the f64
//! ring (in any order). With `shuffle` set, every step's spike list and every row walk is put
//! in a random order, as warps and atomics may order them on a device; the tests check that the
//! spikes are still the naive reference's, bit for bit (the module docs of [`crate::gpu`] say
//! why they must be).

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::{GpuNetwork, Ring};
use crate::connect::unpack;
use crate::neuron;

/// Every spike of steps `0..steps` as (neuron id, step), sorted by step then id, from the
/// kernels' algorithm on `net`; `shuffle`: a seed to scramble the order of spikes and of each
/// row's synapses, as the device's scheduling may.
pub fn spikes(net: &GpuNetwork, steps: u64, shuffle: Option<u64>) -> Vec<(u32, u32)> {
    let n = net.neurons as usize;
    let ring = net.ring();
    let mut cells = vec![0.0f64; ring.cells()];
    let mut v = net.v0.clone();
    let (mut i_ex, mut i_in, mut r_ref) = (vec![0.0f64; n], vec![0.0f64; n], vec![0u32; n]);
    let mut rng = rand::rngs::StdRng::seed_from_u64(shuffle.unwrap_or(0));
    let mut recorded = Vec::new();
    let mut list: Vec<u32> = Vec::new();
    let mut row: Vec<u64> = Vec::new();
    for s in 0..steps {
        // update: one thread per neuron.
        let slot = ring.read_slot(s);
        list.clear();
        for id in 0..net.neurons {
            let x = id as usize;
            let in_ex = std::mem::take(&mut cells[ring.cell(slot, 0, id)]);
            let in_in = std::mem::take(&mut cells[ring.cell(slot, 1, id)]);
            let i_e = net.i_e[net.pop_of(id)];
            if neuron::step(
                &net.prop,
                &mut v[x],
                &mut i_ex[x],
                &mut i_in[x],
                &mut r_ref[x],
                i_e,
                in_ex,
                in_in,
            ) {
                list.push(id);
            }
        }
        if shuffle.is_some() {
            list.shuffle(&mut rng);
        }
        recorded.extend(list.iter().map(|&id| (id, s as u32)));
        // deliver: one warp per spike, its lanes over the row.
        for &src in &list {
            let (a, z) = (
                net.row_start[src as usize] as usize,
                net.row_start[src as usize + 1] as usize,
            );
            row.clear();
            row.extend_from_slice(&net.words[a..z]);
            if shuffle.is_some() {
                row.shuffle(&mut rng);
            }
            for &word in &row {
                deliver_one(&ring, &mut cells, s, word);
            }
        }
    }
    recorded.sort_unstable_by_key(|&(id, s)| (s, id));
    recorded
}

/// One synapse's atomic add, as the `deliver` kernel does it: the weight as f64 into the cell
/// of its arrival slot, channel by the weight's sign.
fn deliver_one(ring: &Ring, cells: &mut [f64], step: u64, word: u64) {
    let (target, delay, weight) = unpack(word);
    let channel = u32::from(weight < 0.0);
    cells[ring.cell(ring.arrival_slot(step, delay), channel, target)] += f64::from(weight);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{reference, Params, Simulation};

    fn params(n_scaling: f64, k_scaling: f64) -> Params {
        Params {
            n_scaling,
            k_scaling,
            threads: 2,
            ..Params::default()
        }
    }

    /// The kernels' algorithm, in order and scrambled, gives the naive reference's spikes
    /// exactly: every synapse delivered once, at the right step, into the right channel, and
    /// the atomics' order cannot change a bit of the sums.
    #[test]
    fn the_kernels_algorithm_gives_the_reference_spikes_in_any_order() {
        let p = params(0.03, 0.2);
        let steps = 400;
        let expected = reference::spikes(&p, steps).unwrap();
        assert!(expected.len() > 200, "the test needs spikes: {}", expected.len());
        let net = GpuNetwork::build(&p).unwrap();
        assert_eq!(spikes(&net, steps, None), expected);
        for seed in [1, 2] {
            assert_eq!(spikes(&net, steps, Some(seed)), expected, "shuffle seed {seed}");
        }
    }

    /// A planted bug (the synapses of one source population delivered a step late, or into the
    /// wrong channel) is caught by the same comparison.
    #[test]
    fn misdelivered_synapses_are_caught() {
        let p = params(0.03, 0.2);
        let steps = 400;
        let expected = reference::spikes(&p, steps).unwrap();
        let net = GpuNetwork::build(&p).unwrap();
        // L4E's rows (population 2).
        let rows = net.row_start[net.pop_start[2] as usize] as usize..net.row_start[net.pop_start[3] as usize] as usize;
        let mut late = net.clone();
        for w in &mut late.words[rows.clone()] {
            let (t, delay, weight) = unpack(*w);
            *w = crate::connect::pack(t, (delay + 1).min(net.max_delay), weight);
        }
        assert_ne!(spikes(&late, steps, None), expected);
        let mut flipped = net.clone();
        for w in &mut flipped.words[rows] {
            let (t, delay, weight) = unpack(*w);
            *w = crate::connect::pack(t, delay, -weight);
        }
        assert_ne!(spikes(&flipped, steps, None), expected);
    }

    /// The statistics the GPU run reports, from the emulated spikes, are the CPU simulator's
    /// for the same window: rates, ISI CVs, events and the spike fingerprint.
    #[test]
    fn the_statistics_from_spikes_are_the_cpu_simulators() {
        let p = Params {
            record_spikes: true,
            ..params(0.03, 0.2)
        };
        let (warm, timed) = (100u64, 600u64);
        let mut cpu = Simulation::new(&p).unwrap();
        cpu.warm_up(warm);
        cpu.advance(timed);
        let want = cpu.result();
        let net = GpuNetwork::build(&p).unwrap();
        let all = spikes(&net, warm + timed, Some(7));
        let timed_spikes: Vec<(u32, u32)> = all.into_iter().filter(|&(_, s)| u64::from(s) >= warm).collect();
        let mut stats = super::super::SpikeStats::new(net.neurons);
        stats.add(&net, &timed_spikes);
        let got = super::super::result(&p, &net, &stats, timed, [0.0; 4], want.memory);
        assert_eq!(got.spike_fingerprint, want.spike_fingerprint);
        assert_eq!(got.counts.recurrent_events, want.counts.recurrent_events);
        assert_eq!(got.counts.spikes, want.counts.spikes);
        assert_eq!(got.counts.synapses, want.counts.synapses);
        for (a, b) in got.populations.iter().zip(&want.populations) {
            assert_eq!(a.spikes, b.spikes, "{}", a.name);
            assert_eq!(a.cv_neurons, b.cv_neurons, "{}", a.name);
            assert!(
                a.mean_isi_cv.to_bits() == b.mean_isi_cv.to_bits()
                    || (a.mean_isi_cv.is_nan() && b.mean_isi_cv.is_nan()),
                "{}: {} vs {}",
                a.name,
                a.mean_isi_cv,
                b.mean_isi_cv
            );
        }
    }
}
