//! Connectivity: NEST's `fixed_total_number` rule with the reference's weight and delay distributions,
//! generated in parallel into per-thread, per-source packed synapse rows.
//!
//! The reference (`network.py`, `__connect_neuronal_populations`) connects each (target pop, source pop) pair
//! with `{"rule": "fixed_total_number", "N": num_synapses}` (multapses and autapses allowed), weights
//! `redraw(normal(w, |w|·0.1), [0, ∞) or (−∞, 0])` and delays `redraw(normal(d, d·0.5), [h/2, ∞))`, the
//! delays then rounded to steps by `Time::delay_ms_to_steps`. NEST first splits N over its virtual processes
//! by a multinomial draw proportional to their local target counts, then draws sources and targets uniformly
//! with replacement; we do the same with fixed 128-neuron target blocks in place of virtual processes, so
//! the network is a function of the seed alone, whatever the thread count.

use std::ops::Range;

use rand::Rng;
use rand_distr::{Binomial, Distribution, Normal};
use rayon::prelude::*;

use crate::error::Error;
use crate::params::{delay_mean, delay_ms_to_steps, Derived, NUM_POPS, RESOLUTION_MS, WEIGHT_REL_STD};
use crate::params::{DELAY_REL_STD, DELAY_TH_MEAN, DELAY_TH_REL_STD};
use crate::rng::{normal_redraw, stream, TAG_SPLIT, TAG_SYNAPSES};

/// Neurons per block: the unit of random streams and of thread ownership (a thread owns whole blocks).
pub const BLOCK: u64 = 128;

/// Consecutive sources per bucket of the connection build (fits the u8 offset stored per synapse).
const SOURCE_BUCKET: usize = 128;

/// Bits of the packed synapse word that hold the delay in steps.
pub const DELAY_BITS: u32 = 8;

/// A run of at most `BLOCK` neurons of one population.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Population index.
    pub pop: usize,
    /// First global neuron id.
    pub start: u64,
    /// Number of neurons.
    pub len: u64,
    /// Index of this block among its population's blocks.
    pub index_in_pop: usize,
}

/// The blocks of the network, population by population, in ascending neuron id.
pub fn blocks(d: &Derived) -> Vec<Block> {
    let mut out = Vec::new();
    for pop in 0..NUM_POPS {
        let (mut start, end) = (d.pop_start[pop], d.pop_start[pop + 1]);
        let mut index_in_pop = 0;
        while start < end {
            let len = BLOCK.min(end - start);
            out.push(Block {
                pop,
                start,
                len,
                index_in_pop,
            });
            start += len;
            index_in_pop += 1;
        }
    }
    out
}

/// Contiguous block ranges, one per thread, balanced by neuron count.
pub fn partition(blocks: &[Block], threads: usize) -> Vec<Range<usize>> {
    let total: u64 = blocks.iter().map(|b| b.len).sum();
    let mut out = Vec::with_capacity(threads);
    let mut b = 0;
    let mut acc = 0u64;
    for t in 0..threads {
        let goal = total * (t as u64 + 1) / threads as u64;
        let first = b;
        while b < blocks.len() && (acc + blocks[b].len / 2 < goal || t + 1 == threads) {
            acc += blocks[b].len;
            b += 1;
        }
        out.push(first..b);
    }
    out
}

/// Index of the thalamus as a source population in [`split_counts`] and the synapse streams.
pub const THALAMUS: usize = NUM_POPS;

/// Stream index of the (target pop, source pop) pair; the thalamus pairs come after the recurrent ones.
fn pair_id(i: usize, j: usize) -> u64 {
    if j == THALAMUS {
        1000 + i as u64
    } else {
        (i * NUM_POPS + j) as u64
    }
}

/// `counts[target_pop][source_pop][index_in_pop]`: how many of the pair's synapses land in each target
/// block, by sequential binomial draws (a multinomial proportional to block size), as NEST splits the total
/// over virtual processes (`conn_builder.cpp`, `FixedTotalNumberBuilder::connect_`). Source `THALAMUS` is
/// the thalamic population.
pub fn split_counts(d: &Derived, blocks: &[Block], seed: u64) -> Vec<Vec<Vec<u64>>> {
    let mut counts = vec![vec![Vec::new(); NUM_POPS + 1]; NUM_POPS];
    for (i, row) in counts.iter_mut().enumerate() {
        let pop_blocks: Vec<&Block> = blocks.iter().filter(|b| b.pop == i).collect();
        for (j, c) in row.iter_mut().enumerate() {
            let mut rng = stream(seed, TAG_SPLIT, pair_id(i, j), 0);
            let mut left = if j == THALAMUS {
                d.num_th_synapses[i]
            } else {
                d.num_synapses[i][j]
            };
            let mut neurons_left = d.num_neurons[i];
            for b in &pop_blocks {
                let k = if neurons_left == b.len {
                    left
                } else if left == 0 {
                    0
                } else {
                    let p = b.len as f64 / neurons_left as f64;
                    Binomial::new(left, p).expect("0 < p < 1").sample(&mut rng)
                };
                c.push(k);
                left -= k;
                neurons_left -= b.len;
            }
        }
    }
    counts
}

/// One thread's incoming synapses, as rows by source (CSR over all global sources).
#[derive(Debug, Clone, Default)]
pub struct ThreadSynapses {
    /// Global ids `[lo, hi)` of the targets this thread owns.
    pub lo: u64,
    /// End of the owned range.
    pub hi: u64,
    /// Block range (into `blocks()`).
    pub blocks: Range<usize>,
    /// `offsets[src]..offsets[src + 1]` indexes source `src`'s synapses in `synapses`.
    pub offsets: Vec<u64>,
    /// One word per synapse: `(local target << 8 | delay steps) << 32 | f32 weight bits` (see [`pack`]);
    /// each row ascending by delay (see [`build_thread`] for the order within a delay).
    pub synapses: Vec<u64>,
    /// `delay_starts[src * delay_stride + d]`: where the delay-`d` group of source `src`'s row starts,
    /// relative to `offsets[src]`, for `d` in `0..delay_stride` (the last entry is the row length).
    pub delay_starts: Vec<u32>,
    /// `max_delay + 2`.
    pub delay_stride: usize,
    /// Largest delay in steps.
    pub max_delay: u32,
}

/// Pack a synapse: local target (24 bits), delay in steps (8 bits), weight in pA as f32 (NEST holds f64;
/// see the crate docs).
#[inline(always)]
pub fn pack(target: u32, delay: u32, weight: f32) -> u64 {
    (((target << DELAY_BITS) | delay) as u64) << 32 | weight.to_bits() as u64
}

/// Unpack a synapse word into (local target, delay steps, weight).
#[inline(always)]
pub fn unpack(word: u64) -> (u32, u32, f32) {
    let hi = (word >> 32) as u32;
    (
        hi >> DELAY_BITS,
        hi & ((1 << DELAY_BITS) - 1),
        f32::from_bits(word as u32),
    )
}

/// Draw one thread's synapses. Per synapse, in this order: source (uniform), target (uniform in the block),
/// weight, delay, from the stream of (pair, block).
pub fn build_thread(
    d: &Derived,
    blocks: &[Block],
    range: Range<usize>,
    counts: &[Vec<Vec<u64>>],
    seed: u64,
) -> Result<ThreadSynapses, Error> {
    // Rows exist for every source: neurons, then thalamic neurons.
    let n_total = d.total_sources();
    let lo = range.clone().next().map_or(0, |b| blocks[b].start);
    let hi = blocks[range.clone()].last().map_or(lo, |b| b.start + b.len);
    if hi - lo >= 1 << (32 - DELAY_BITS) {
        return Err(Error::TooLarge {
            what: format!("a thread owns {} neurons (max 2^24)", hi - lo),
        });
    }
    let n_syn: u64 = range
        .clone()
        .map(|b| {
            (0..=THALAMUS)
                .map(|j| counts[blocks[b].pop][j][blocks[b].index_in_pop])
                .sum::<u64>()
        })
        .sum();
    // Synapses go to buckets of SOURCE_BUCKET consecutive sources as they are drawn: appends to a few
    // hundred sequential streams instead of a random scatter over the whole synapse array (one cache miss
    // per synapse at full scale). Each bucket is then sorted by source within its cache-sized range.
    let n_buckets = n_total.div_ceil(SOURCE_BUCKET);
    let per_bucket = (n_syn as usize / n_buckets.max(1)) * 9 / 8 + 16;
    let mut bucket_words: Vec<Vec<u64>> = (0..n_buckets).map(|_| Vec::with_capacity(per_bucket)).collect();
    let mut bucket_src: Vec<Vec<u8>> = (0..n_buckets).map(|_| Vec::with_capacity(per_bucket)).collect();
    let mut offsets = vec![0u64; n_total + 1];
    let mut max_delay = 0u32;
    // Redraw bound: h − h/2 (network.py), the smallest delay that rounds to one step.
    let delay_min = RESOLUTION_MS - 0.5 * RESOLUTION_MS;
    for bi in range.clone() {
        let b = blocks[bi];
        let i = b.pop;
        let local0 = (b.start - lo) as u32;
        for (j, per_block) in counts[i].iter().enumerate() {
            let k = per_block[b.index_in_pop];
            if k == 0 {
                continue;
            }
            let mut rng = stream(seed, TAG_SYNAPSES, pair_id(i, j), bi as u64);
            // network.py: __connect_neuronal_populations, or __connect_thalamic_stim_input for the thalamus.
            let (w_mean, d_mean, d_rel_sd, pre_start, pre_n) = if j == THALAMUS {
                (
                    d.weight_th,
                    DELAY_TH_MEAN,
                    DELAY_TH_REL_STD,
                    d.total_neurons() as u32,
                    d.num_th_neurons as u32,
                )
            } else {
                (
                    d.weight_mean[i][j],
                    delay_mean(j),
                    DELAY_REL_STD,
                    d.pop_start[j] as u32,
                    d.num_neurons[j] as u32,
                )
            };
            let w_normal = Normal::new(w_mean, (w_mean * WEIGHT_REL_STD).abs()).expect("finite SD");
            let (w_min, w_max) = if w_mean < 0.0 {
                (f64::NEG_INFINITY, 0.0)
            } else {
                (0.0, f64::INFINITY)
            };
            let d_normal = Normal::new(d_mean, d_mean * d_rel_sd).expect("finite SD");
            for _ in 0..k {
                let s = pre_start + rng.random_range(0..pre_n);
                let t = rng.random_range(0..b.len as u32);
                let w = normal_redraw(&mut rng, &w_normal, w_min, w_max);
                let delay_ms = normal_redraw(&mut rng, &d_normal, delay_min, f64::INFINITY);
                let steps = delay_ms_to_steps(delay_ms);
                if steps > ((1 << DELAY_BITS) - 1) as i64 {
                    return Err(Error::DelayTooLong { steps: steps as u64 });
                }
                let steps = steps as u32;
                max_delay = max_delay.max(steps);
                let s = s as usize;
                offsets[s + 1] += 1;
                bucket_words[s / SOURCE_BUCKET].push(pack(local0 + t, steps, w as f32));
                bucket_src[s / SOURCE_BUCKET].push((s % SOURCE_BUCKET) as u8);
            }
        }
    }
    for x in 1..=n_total {
        offsets[x] += offsets[x - 1];
    }
    if (0..n_total).any(|x| offsets[x + 1] - offsets[x] > u32::MAX as u64) {
        return Err(Error::TooLarge {
            what: "a source has more than 2^32 synapses in one thread".into(),
        });
    }
    // Per bucket: stable counting sort by source into the final array, then, per row, a stable counting
    // sort by delay. Rows end up ordered by delay, each delay group in generation order (target block,
    // source population, draw), which depends only on the seed: the order in which synapses add into an
    // input cell cannot depend on the partition. (Sorting groups by target would not pay: the input row
    // they write stays in L2.)
    let delay_stride = max_delay as usize + 2;
    let mut delay_starts = vec![0u32; n_total * delay_stride];
    let mut synapses = vec![0u64; offsets[n_total] as usize];
    let mut scratch = Vec::new();
    let mut pos = vec![0u32; delay_stride];
    for (bk, (words, srcs)) in bucket_words.iter_mut().zip(bucket_src.iter_mut()).enumerate() {
        let first = bk * SOURCE_BUCKET;
        let last = (first + SOURCE_BUCKET).min(n_total);
        let base = offsets[first];
        let mut cursor: Vec<u64> = offsets[first..last].iter().map(|o| o - base).collect();
        let region = &mut synapses[base as usize..offsets[last] as usize];
        for (&w, &s) in words.iter().zip(srcs.iter()) {
            let c = &mut cursor[s as usize];
            region[*c as usize] = w;
            *c += 1;
        }
        *words = Vec::new();
        *srcs = Vec::new();
        for s in first..last {
            let row = &mut synapses[offsets[s] as usize..offsets[s + 1] as usize];
            let starts = &mut delay_starts[s * delay_stride..(s + 1) * delay_stride];
            for &w in row.iter() {
                starts[unpack(w).1 as usize + 1] += 1;
            }
            for d in 1..delay_stride {
                starts[d] += starts[d - 1];
            }
            scratch.clear();
            scratch.resize(row.len(), 0u64);
            pos.copy_from_slice(starts);
            for &w in row.iter() {
                let c = &mut pos[unpack(w).1 as usize];
                scratch[*c as usize] = w;
                *c += 1;
            }
            row.copy_from_slice(&scratch);
        }
    }
    Ok(ThreadSynapses {
        lo,
        hi,
        blocks: range,
        offsets,
        synapses,
        delay_starts,
        delay_stride,
        max_delay,
    })
}

/// All threads' synapses, built in parallel on `pool`.
pub fn build_all(
    d: &Derived,
    blocks: &[Block],
    parts: &[Range<usize>],
    seed: u64,
    pool: &rayon::ThreadPool,
) -> Result<Vec<ThreadSynapses>, Error> {
    let counts = split_counts(d, blocks, seed);
    pool.install(|| {
        parts
            .par_iter()
            .map(|r| build_thread(d, blocks, r.clone(), &counts, seed))
            .collect()
    })
}
