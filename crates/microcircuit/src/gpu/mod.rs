//! The microcircuit on an NVIDIA GPU: the device layout, its bookkeeping, a host emulation of
//! the kernels, and (feature `cuda`) the CUDA engine that runs them.
//!
//! # The algorithm
//! The GPU runs the naive reference's algorithm ([`crate::reference`], NEST's), with state on the
//! device and one kernel launch per phase and step:
//!
//! 1. `update` (one thread per neuron): read and clear the neuron's two input cells of ring
//!    slot `s mod R`, do `iaf_psc_exp::update` ([`crate::neuron::step`], f64 state, the same
//!    operations in the same order; NVRTC is told not to contract `a·b + c` into FMAs, so each
//!    operation rounds as on the CPU), and append a spiking neuron's id to the step's spike list
//!    and to the record buffer (atomic counters);
//! 2. `deliver` (one warp per spike of the list): the warp's lanes walk the source's outgoing row
//!    (CSR by source, [`GpuNetwork`]) and add each synapse's weight into ring cell
//!    `((s + delay) mod R, channel, target)` with an f64 `atomicAdd`.
//!
//! `R = max_delay + 1` slots ([`Ring`]): a delay of 1..=max_delay never lands in the slot being
//! read. The channel is the weight's sign, as NEST's `iaf_psc_exp::handle` picks it.
//!
//! # Why the GPU's spikes are the CPU's, bit for bit
//! Atomics add in whatever order the warps arrive, but every sum here is exact: a cell of one
//! channel receives f32 weights of one sign, within a factor of ~30 of each other, a few dozen
//! per step, and their sum in f64 needs about 24 + 5 + 6 bits of the 53 (the crate docs make the
//! same argument for the CPU's order). Exact sums do not depend on their order, so the GPU can be
//! checked spike for spike against the reference, as the CPU is. [`emulate`] runs the kernels'
//! algorithm on the host with every spike list and every row shuffled, and its tests check that
//! the spikes still equal the reference's.
//!
//! # Scope
//! DC background input, the reference's default, which the GPU targets are set for. Poisson
//! input, the thalamic pulse and the transient DC are refused with a reason ([`GpuNetwork::build`]).

pub mod emulate;

#[cfg(feature = "cuda")]
pub mod cuda;

use crate::connect::{self, unpack};
use crate::neuron::Propagators;
use crate::params::{BgInput, NUM_POPS};
use crate::sim::Shared;
use crate::{Derived, Error, Params};

/// The kernels, CUDA C++ compiled at run time by NVRTC (no CUDA toolkit at build time).
pub const KERNELS_CU: &str = include_str!("kernels.cu");

/// Threads per block of the `update` kernel.
pub const UPDATE_BLOCK: u32 = 256;
/// Threads per block of the `deliver` kernel (8 warps; one warp per spike).
pub const DELIVER_BLOCK: u32 = 256;
/// Lanes of a warp.
pub const WARP: u32 = 32;

/// Bytes one delivered event touches on the GPU: the 8-byte synapse word read from device
/// memory (streamed, coalesced over a warp) and an 8-byte read-modify-write of the f64 ring
/// cell by the atomic (8 read + 8 written, in L2 where the ring fits). As on the CPU
/// ([`crate::BYTES_PER_EVENT`]); per spike, the 16-byte row bounds come on top.
pub const GPU_BYTES_PER_EVENT: usize = 24;

/// The ring of input slots: `slots` steps × 2 channels × `neurons` f64 cells, slot-major, so
/// the `update` kernel reads each channel of a slot as one coalesced row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ring {
    /// `max_delay + 1`.
    pub slots: u32,
    /// Neurons per channel row.
    pub neurons: u32,
}

impl Ring {
    /// A ring for delays up to `max_delay` steps over `neurons` neurons.
    pub fn new(max_delay: u32, neurons: u32) -> Ring {
        Ring {
            slots: max_delay.max(1) + 1,
            neurons,
        }
    }

    /// The slot step `step` reads.
    pub fn read_slot(&self, step: u64) -> u32 {
        (step % u64::from(self.slots)) as u32
    }

    /// The slot a spike of step `step` along a synapse of `delay` steps lands in.
    pub fn arrival_slot(&self, step: u64, delay: u32) -> u32 {
        ((step + u64::from(delay)) % u64::from(self.slots)) as u32
    }

    /// Index of the cell of `slot`, `channel` (0 excitatory, 1 inhibitory) and `neuron`.
    pub fn cell(&self, slot: u32, channel: u32, neuron: u32) -> usize {
        (slot as usize * 2 + channel as usize) * self.neurons as usize + neuron as usize
    }

    /// Cells in the ring.
    pub fn cells(&self) -> usize {
        self.slots as usize * 2 * self.neurons as usize
    }
}

/// The network as the device holds it: outgoing rows by source (NEST's layout), the neurons'
/// initial state and the constants of the update.
#[derive(Debug, Clone)]
pub struct GpuNetwork {
    /// Neurons (the only sources: no thalamus on the GPU).
    pub neurons: u32,
    /// `row_start[src]..row_start[src + 1]` indexes source `src`'s synapses in `words`.
    pub row_start: Vec<u64>,
    /// One word per synapse, [`connect::pack`] with the **global** target id.
    pub words: Vec<u64>,
    /// Largest delay in steps.
    pub max_delay: u32,
    /// Global id where each population starts.
    pub pop_start: [u32; NUM_POPS + 1],
    /// DC current per population, pA.
    pub i_e: [f64; NUM_POPS],
    /// The neuron's propagators.
    pub prop: Propagators,
    /// Initial membrane potential of each neuron, relative to `E_L`, as the CPU draws it.
    pub v0: Vec<f64>,
    /// The derived parameters.
    pub derived: Derived,
}

impl GpuNetwork {
    /// Builds the network of `p` on `p.threads` host threads: the CPU's connectivity
    /// ([`connect::build_all`], so the same network for the same seed), turned into outgoing
    /// rows with global targets, and the CPU's initial potentials.
    pub fn build(p: &Params) -> Result<GpuNetwork, Error> {
        let unsupported = |what: &str| Error::Unsupported {
            what: format!("{what} on the GPU (it runs the reference's default, DC background input, only)"),
        };
        if p.bg_input != BgInput::Dc {
            return Err(unsupported("Poisson background input"));
        }
        if p.thalamic_input {
            return Err(unsupported("the thalamic pulse"));
        }
        if p.dc_transient {
            return Err(unsupported("the transient DC"));
        }
        let d = Derived::new(p)?;
        let n = d.total_neurons();
        if n > (1 << 24) {
            return Err(Error::TooLarge {
                what: format!("{n} neurons (the packed synapse holds a 24-bit target)"),
            });
        }
        let sh = Shared::new(p, &d);
        let blocks = connect::blocks(&d);
        let threads = p.threads.clamp(1, blocks.len().max(1));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::ThreadPool(e.to_string()))?;
        let parts = connect::partition(&blocks, threads);
        let built = connect::build_all(&d, &blocks, &parts, p.seed, &pool)?;
        // Only neurons are sources on the GPU (the thalamus is refused above).
        let mut row_start = Vec::with_capacity(n + 1);
        row_start.push(0u64);
        let total: usize = built.iter().map(|t| t.synapses.len()).sum();
        let mut words = Vec::with_capacity(total);
        let mut max_delay = 1;
        for src in 0..n {
            for part in &built {
                let row = &part.synapses[part.offsets[src] as usize..part.offsets[src + 1] as usize];
                for &word in row {
                    let (t, delay, weight) = unpack(word);
                    max_delay = max_delay.max(delay);
                    words.push(connect::pack((part.lo + u64::from(t)) as u32, delay, weight));
                }
            }
            row_start.push(words.len() as u64);
        }
        drop(built);
        let v0 = crate::reference::initial_potentials(p, &blocks, n);
        let mut pop_start = [0u32; NUM_POPS + 1];
        for (dst, &src) in pop_start.iter_mut().zip(&d.pop_start) {
            *dst = src as u32;
        }
        Ok(GpuNetwork {
            neurons: n as u32,
            row_start,
            words,
            max_delay,
            pop_start,
            i_e: sh.i_e,
            prop: sh.prop,
            v0,
            derived: d,
        })
    }

    /// The ring for this network.
    pub fn ring(&self) -> Ring {
        Ring::new(self.max_delay, self.neurons)
    }

    /// Synapses.
    pub fn synapses(&self) -> u64 {
        self.words.len() as u64
    }

    /// Out-degree of `src`.
    pub fn out_degree(&self, src: u32) -> u64 {
        self.row_start[src as usize + 1] - self.row_start[src as usize]
    }

    /// Population of neuron `id`.
    pub fn pop_of(&self, id: u32) -> usize {
        (0..NUM_POPS).rev().find(|&p| id >= self.pop_start[p]).unwrap_or(0)
    }

    /// The propagators and thresholds as the kernels take them, in this order: p22, p21ex,
    /// p21in, p20, p11ex, p11in, theta, v_reset.
    pub fn prop_array(&self) -> [f64; 8] {
        let p = &self.prop;
        [p.p22, p.p21ex, p.p21in, p.p20, p.p11ex, p.p11in, p.theta, p.v_reset]
    }

    /// What the device holds for a run that records up to `record_capacity` spikes between
    /// two drains.
    pub fn device_memory(&self, record_capacity: u64) -> DeviceMemory {
        let n = u64::from(self.neurons);
        DeviceMemory {
            synapses: self.synapses() * 8,
            rows: (n + 1) * 8,
            ring: self.ring().cells() as u64 * 8,
            // v, i_ex, i_in (f64) and the refractory count (u32).
            state: n * (3 * 8 + 4),
            // Two spike lists of n ids and their two counters.
            spike_lists: 2 * n * 4 + 2 * 4,
            // (id, step) pairs and a u64 counter.
            record: record_capacity * 8 + 8,
            // pop_start, i_e, propagators, per-population spike counters.
            constants: (NUM_POPS as u64 + 1) * 4 + NUM_POPS as u64 * 8 + 8 * 8 + NUM_POPS as u64 * 8,
        }
    }
}

/// Device memory of a run, bytes, by what holds it (the CUDA context's own is not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeviceMemory {
    /// Synapse words, 8 bytes each.
    pub synapses: u64,
    /// Row bounds, 8 bytes per source and one more.
    pub rows: u64,
    /// The input ring, 8 bytes per cell.
    pub ring: u64,
    /// Neuron state.
    pub state: u64,
    /// The double-buffered spike lists.
    pub spike_lists: u64,
    /// The record buffer.
    pub record: u64,
    /// Constants and counters.
    pub constants: u64,
}

impl DeviceMemory {
    /// All of it.
    pub fn total(&self) -> u64 {
        self.synapses + self.rows + self.ring + self.state + self.spike_lists + self.record + self.constants
    }
}

/// Launch geometry of step `s`: the `update` grid covers every neuron once; the `deliver` grid
/// has one warp per possible spike up to `max_warps`, and its warps stride over the spike list
/// when more neurons spike than it has warps.
pub fn grids(neurons: u32, max_warps: u32) -> (u32, u32) {
    let update = neurons.div_ceil(UPDATE_BLOCK).max(1);
    let warps_per_block = DELIVER_BLOCK / WARP;
    let deliver = neurons.min(max_warps).div_ceil(warps_per_block).max(1);
    (update, deliver)
}

/// The statistics of spikes that arrive step by step ((id, step), each step's in any order), as
/// the CPU's threads keep them: per neuron the count, the last spike, the sums of ISIs and of
/// their squares, and the spike hash. Turns into the crate's [`crate::partition::Tally`].
#[derive(Debug, Clone)]
pub struct SpikeStats {
    count: Vec<u32>,
    last: Vec<u32>,
    isi_sum: Vec<u64>,
    isi_sum2: Vec<u64>,
    hash: Vec<u64>,
    /// Σ over the spikes of the source's out-degree.
    pub recurrent_events: u64,
}

impl SpikeStats {
    /// Empty statistics for `neurons` neurons.
    pub fn new(neurons: u32) -> SpikeStats {
        let n = neurons as usize;
        SpikeStats {
            count: vec![0; n],
            last: vec![0; n],
            isi_sum: vec![0; n],
            isi_sum2: vec![0; n],
            hash: vec![crate::FNV_OFFSET; n],
            recurrent_events: 0,
        }
    }

    /// Adds `spikes`, sorted by step (within a step, any order).
    pub fn add(&mut self, net: &GpuNetwork, spikes: &[(u32, u32)]) {
        for &(id, s) in spikes {
            let x = id as usize;
            if self.count[x] > 0 {
                let isi = u64::from(s - self.last[x]);
                self.isi_sum[x] += isi;
                self.isi_sum2[x] += isi * isi;
            }
            self.count[x] += 1;
            self.last[x] = s;
            self.hash[x] = crate::fnv1a(self.hash[x], &s.to_le_bytes());
            self.recurrent_events += net.out_degree(id);
        }
    }

    /// The tally of `steps` timed steps, for [`crate::finish`].
    pub(crate) fn tally(&self, net: &GpuNetwork, steps: u64, phase_s: [f64; 4]) -> crate::partition::Tally {
        let mut t = crate::partition::Tally {
            isi_cvs: vec![Vec::new(); NUM_POPS],
            max_delay: net.max_delay,
            phase_s,
            ..Default::default()
        };
        t.counts.steps = steps;
        t.counts.neurons = u64::from(net.neurons);
        t.counts.synapses = net.synapses();
        t.counts.neuron_updates = u64::from(net.neurons) * steps;
        t.counts.recurrent_events = self.recurrent_events;
        for x in 0..net.neurons as usize {
            t.add_neuron(
                net.pop_of(x as u32),
                x as u32,
                u64::from(self.count[x]),
                (self.isi_sum[x], self.isi_sum2[x]),
                self.hash[x],
            );
        }
        t
    }
}

/// The result of a GPU run whose timed window was `steps` steps with these statistics, in the
/// crate's [`crate::SimResult`] form (memory: the device's; times: build, connect, warm-up and
/// timed wall seconds).
pub fn result(
    p: &Params,
    net: &GpuNetwork,
    stats: &SpikeStats,
    steps: u64,
    phase_s: [f64; 4],
    memory: crate::MemoryEstimate,
) -> crate::SimResult {
    let mut p = p.clone();
    p.t_sim_ms = steps as f64 * crate::params::RESOLUTION_MS;
    let mut result = crate::finish(&p, stats.tally(net, steps, phase_s), memory, 1);
    result.bytes_per_event = GPU_BYTES_PER_EVENT;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Params {
        Params {
            n_scaling: 0.02,
            k_scaling: 0.1,
            threads: 2,
            ..Params::default()
        }
    }

    /// Every delay lands in a slot other than the one being read, each slot is read once per
    /// `R` steps, and every cell index is in bounds and distinct.
    #[test]
    fn the_ring_never_writes_the_slot_it_reads() {
        for max_delay in [1u32, 2, 7, 60, 255] {
            let ring = Ring::new(max_delay, 5);
            for step in [0u64, 1, 59, 60, 61, 1_000_003, u64::from(u32::MAX) + 17] {
                let read = ring.read_slot(step);
                for delay in 1..=max_delay {
                    let slot = ring.arrival_slot(step, delay);
                    assert_ne!(slot, read, "max_delay {max_delay}, step {step}, delay {delay}");
                    assert_eq!(slot, ring.read_slot(step + u64::from(delay)), "read when it arrives");
                }
            }
            let mut seen = std::collections::HashSet::new();
            for slot in 0..ring.slots {
                for channel in 0..2 {
                    for neuron in 0..5 {
                        let cell = ring.cell(slot, channel, neuron);
                        assert!(cell < ring.cells());
                        assert!(seen.insert(cell));
                    }
                }
            }
            assert_eq!(seen.len(), ring.cells());
        }
    }

    /// The outgoing rows hold exactly the CPU's synapses (the same network for the seed),
    /// with global targets, and the counts add up.
    #[test]
    fn the_rows_are_the_cpu_network_turned_around() {
        let p = small();
        let net = GpuNetwork::build(&p).unwrap();
        let d = Derived::new(&p).unwrap();
        assert_eq!(net.neurons as usize, d.total_neurons());
        assert_eq!(net.row_start.len(), net.neurons as usize + 1);
        assert_eq!(*net.row_start.last().unwrap(), net.synapses());
        let expected: u64 = d.num_synapses.iter().flatten().sum();
        assert_eq!(net.synapses(), expected);
        // Against the naive reference's outgoing lists, which come from one partition.
        let mut ours: Vec<Vec<(u32, u32, u32)>> = Vec::new();
        for src in 0..net.neurons {
            let row = &net.words[net.row_start[src as usize] as usize..net.row_start[src as usize + 1] as usize];
            let mut r: Vec<_> = row
                .iter()
                .map(|&w| {
                    let (t, delay, weight) = unpack(w);
                    assert!(t < net.neurons);
                    assert!((1..=net.max_delay).contains(&delay));
                    (t, delay, weight.to_bits())
                })
                .collect();
            r.sort_unstable();
            ours.push(r);
        }
        let one = Params { threads: 1, ..p };
        let single = GpuNetwork::build(&one).unwrap();
        for src in 0..net.neurons {
            let row =
                &single.words[single.row_start[src as usize] as usize..single.row_start[src as usize + 1] as usize];
            let mut r: Vec<_> = row
                .iter()
                .map(|&w| {
                    let (t, delay, weight) = unpack(w);
                    (t, delay, weight.to_bits())
                })
                .collect();
            r.sort_unstable();
            assert_eq!(r, ours[src as usize], "source {src}");
        }
        // Channels follow the source's type, as the weight's sign.
        for src in 0..net.neurons {
            let inhibitory = net.pop_of(src) % 2 == 1;
            for &w in &net.words[net.row_start[src as usize] as usize..net.row_start[src as usize + 1] as usize] {
                assert_eq!(unpack(w).2 < 0.0, inhibitory, "source {src}");
            }
        }
    }

    /// The device memory formula, worked by hand for a small network.
    #[test]
    fn device_memory_is_counted_by_part() {
        let net = GpuNetwork::build(&small()).unwrap();
        let n = u64::from(net.neurons);
        let m = net.device_memory(1000);
        assert_eq!(m.synapses, net.synapses() * 8);
        assert_eq!(m.ring, u64::from(net.max_delay + 1) * 2 * n * 8);
        assert_eq!(m.state, n * 28);
        assert_eq!(m.record, 8008);
        assert_eq!(
            m.total(),
            m.synapses + m.rows + m.ring + m.state + m.spike_lists + m.record + m.constants
        );
    }

    /// The grids cover every neuron and give each possible spike a warp up to the cap.
    #[test]
    fn the_grids_cover_the_network() {
        for n in [1u32, 255, 256, 257, 77_169] {
            let (update, deliver) = grids(n, 1 << 20);
            assert!(update * UPDATE_BLOCK >= n && (update - 1) * UPDATE_BLOCK < n);
            assert!(deliver * (DELIVER_BLOCK / WARP) >= n);
            let (_, capped) = grids(n, 64);
            assert!(capped * (DELIVER_BLOCK / WARP) >= n.min(64));
        }
    }

    /// What the GPU cannot run is refused, naming it.
    #[test]
    fn inputs_the_gpu_does_not_run_are_refused() {
        for (p, what) in [
            (
                Params {
                    bg_input: BgInput::Poisson,
                    ..small()
                },
                "Poisson",
            ),
            (
                Params {
                    thalamic_input: true,
                    ..small()
                },
                "thalamic",
            ),
            (
                Params {
                    dc_transient: true,
                    ..small()
                },
                "transient DC",
            ),
        ] {
            let e = GpuNetwork::build(&p).unwrap_err();
            assert!(e.to_string().contains(what), "{e}");
        }
    }
}
