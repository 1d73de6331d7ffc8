//! A network split over processes (MPI ranks): which share a process simulates, how spikes move between
//! processes, and how the processes' statistics merge into the one-process result, exactly.
//!
//! The network's 128-neuron blocks are partitioned into `ranks × threads` contiguous parts
//! ([`crate::connect::partition`]), as one process with `ranks × threads` threads would split them; rank
//! `r` builds the synapses and state of parts `r·threads..(r + 1)·threads` only. Every step, each rank
//! sends the ids of its neurons that spiked (ascending) to every other rank ([`SpikeExchange`]); the
//! thalamic spikes need no exchange, since every rank draws the same thalamic stream. Random streams are
//! indexed by network units, never by process or thread, and spikes are pulled in ascending source id,
//! so the spike trains are bit-identical to one process's, whatever `ranks` and `threads`.

use std::hash::Hasher;
use std::sync::{Arc, Barrier, Mutex};

use crate::{Counts, ThreadTimes, NUM_POPS};

/// This process's share of a partitioned run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// This process, `0..ranks`.
    pub rank: usize,
    /// Processes.
    pub ranks: usize,
}

/// Moves data between the processes of a partitioned run (MPI's all-gather-v, or threads in one
/// process). Every rank calls it the same number of times, in the same order, from the thread that
/// drives its [`crate::Simulation`] (never from inside the simulation's thread pool).
pub trait SpikeExchange: Send {
    /// Which rank this is, of how many.
    fn partition(&self) -> Partition;
    /// All-gather with per-rank counts: on return `all[q]` holds rank `q`'s `mine`, for every `q`
    /// (this rank's own included); `all.len()` is the number of ranks. Spikes are sent as the ids, in
    /// ascending order, of the rank's neurons that spiked in the step.
    fn all_gather(&mut self, mine: &[u32], all: &mut [Vec<u32>]);
}

/// The exchange of one process that is the whole network (rank 0 of 1).
#[derive(Debug, Clone, Copy, Default)]
pub struct Alone;

impl SpikeExchange for Alone {
    fn partition(&self) -> Partition {
        Partition { rank: 0, ranks: 1 }
    }
    fn all_gather(&mut self, mine: &[u32], all: &mut [Vec<u32>]) {
        all[0].clear();
        all[0].extend_from_slice(mine);
    }
}

/// An in-process exchange: `ranks` OS threads of one process, each with its own [`crate::Simulation`],
/// meet at a barrier (for tests and for checking partitioned runs without MPI).
pub struct LocalExchange {
    rank: usize,
    shared: Arc<(Mutex<Vec<Vec<u32>>>, Barrier)>,
}

impl LocalExchange {
    /// One exchange per rank, `0..ranks`; give each to its own thread.
    pub fn group(ranks: usize) -> Vec<LocalExchange> {
        let shared = Arc::new((Mutex::new(vec![Vec::new(); ranks]), Barrier::new(ranks)));
        (0..ranks)
            .map(|rank| LocalExchange {
                rank,
                shared: shared.clone(),
            })
            .collect()
    }
}

impl SpikeExchange for LocalExchange {
    fn partition(&self) -> Partition {
        Partition {
            rank: self.rank,
            ranks: self.shared.0.lock().expect("exchange").len(),
        }
    }
    fn all_gather(&mut self, mine: &[u32], all: &mut [Vec<u32>]) {
        let (slots, barrier) = &*self.shared;
        {
            let mut slots = slots.lock().expect("exchange");
            slots[self.rank].clear();
            slots[self.rank].extend_from_slice(mine);
        }
        barrier.wait();
        {
            let slots = slots.lock().expect("exchange");
            for (dst, src) in all.iter_mut().zip(slots.iter()) {
                dst.clear();
                dst.extend_from_slice(src);
            }
        }
        // Nobody overwrites its slot before every rank has read it.
        barrier.wait();
    }
}

/// FNV-1a 64's offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a 64 of `bytes`, continuing from `h` (the `fnv` crate's hasher keyed with `h`).
pub fn fnv1a(h: u64, bytes: &[u8]) -> u64 {
    let mut hasher = fnv::FnvHasher::with_key(h);
    hasher.write(bytes);
    hasher.finish()
}

/// One neuron's term of the spike fingerprint: `splitmix64(hash + splitmix64(id))`, `hash` being FNV-1a
/// 64 over the neuron's spike steps (u32, little-endian, in time order).
pub fn fingerprint_term(id: u32, hash: u64) -> u64 {
    crate::rng::splitmix64(hash.wrapping_add(crate::rng::splitmix64(id as u64)))
}

/// The spike fingerprint of a list of (neuron id, step) spikes, in any order: the wrapping sum over the
/// neurons that spiked of [`fingerprint_term`]. Equal spike trains give equal fingerprints whatever the
/// partition; [`crate::SimResult::spike_fingerprint`] is this over the timed phase.
pub fn spike_fingerprint(spikes: &[(u32, u32)]) -> u64 {
    let mut sorted = spikes.to_vec();
    sorted.sort_unstable();
    let mut sum = 0u64;
    let mut k = 0;
    while k < sorted.len() {
        let id = sorted[k].0;
        let mut h = FNV_OFFSET;
        while k < sorted.len() && sorted[k].0 == id {
            h = fnv1a(h, &sorted[k].1.to_le_bytes());
            k += 1;
        }
        sum = sum.wrapping_add(fingerprint_term(id, h));
    }
    sum
}

/// One process's statistics of the timed windows, before they become a [`crate::SimResult`]: what
/// merges exactly over the ranks of a partitioned run ([`Tally::merge`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tally {
    /// Neurons per population owned.
    pub neurons: [u64; NUM_POPS],
    /// Timed spikes per population.
    pub spikes: [u64; NUM_POPS],
    /// Per population, the ISI CV of each owned neuron with more than 2 spikes, in ascending id (so that
    /// their sum is the one-process sum, bit for bit).
    pub isi_cvs: Vec<Vec<f64>>,
    /// Wrapping sum of [`fingerprint_term`] over owned neurons that spiked.
    pub fingerprint: u64,
    /// Event counts (`neurons` and `synapses` those owned; `spikes` filled in by the result).
    pub counts: Counts,
    /// Per thread, in rank then thread order.
    pub thread_times: Vec<ThreadTimes>,
    /// Recorded (id, step) spikes, sorted by step then id.
    pub recorded: Vec<(u32, u32)>,
    /// Largest delay of the owned synapses, steps.
    pub max_delay: u32,
    /// Wall seconds of build, connect, warm-up and timed simulation (merged: the slowest rank's).
    pub phase_s: [f64; 4],
    /// Seconds of the timed simulation spent exchanging spikes (merged: the slowest rank's).
    pub exchange_s: f64,
}

impl Tally {
    /// Adds one neuron of population `pop` with `spikes` timed spikes, the sums of its ISIs
    /// and of their squares (steps) and its spike hash; call in ascending id.
    pub(crate) fn add_neuron(&mut self, pop: usize, id: u32, spikes: u64, isi_sums: (u64, u64), hash: u64) {
        self.neurons[pop] += 1;
        self.spikes[pop] += spikes;
        if spikes > 0 {
            self.fingerprint = self.fingerprint.wrapping_add(fingerprint_term(id, hash));
        }
        if spikes > 2 {
            let n = (spikes - 1) as u128;
            let (s1, s2) = (isi_sums.0 as u128, isi_sums.1 as u128);
            // std/mean of the ISIs with the population SD, in exact integers up to one sqrt.
            let var_n2 = n * s2 - s1 * s1;
            self.isi_cvs[pop].push((var_n2 as f64).sqrt() / s1 as f64);
        }
    }

    /// The ranks' tallies, in rank order, as one process's.
    pub fn merge(parts: &[Tally]) -> Tally {
        let mut out = Tally {
            isi_cvs: vec![Vec::new(); NUM_POPS],
            ..Tally::default()
        };
        for t in parts {
            for i in 0..NUM_POPS {
                out.neurons[i] += t.neurons[i];
                out.spikes[i] += t.spikes[i];
                out.isi_cvs[i].extend_from_slice(&t.isi_cvs[i]);
            }
            out.fingerprint = out.fingerprint.wrapping_add(t.fingerprint);
            let (a, b) = (&mut out.counts, &t.counts);
            a.neuron_updates += b.neuron_updates;
            a.recurrent_events += b.recurrent_events;
            a.delivered_events += b.delivered_events;
            a.external_events += b.external_events;
            a.thalamic_events += b.thalamic_events;
            a.synapses += b.synapses;
            a.neurons += b.neurons;
            a.steps = a.steps.max(b.steps);
            out.thread_times.extend_from_slice(&t.thread_times);
            out.recorded.extend_from_slice(&t.recorded);
            out.max_delay = out.max_delay.max(t.max_delay);
            for k in 0..4 {
                out.phase_s[k] = out.phase_s[k].max(t.phase_s[k]);
            }
            out.exchange_s = out.exchange_s.max(t.exchange_s);
        }
        out.recorded.sort_unstable_by_key(|&(id, s)| (s, id));
        out
    }

    /// As u32 words, for [`SpikeExchange::all_gather`].
    pub fn to_words(&self) -> Vec<u32> {
        let mut w = Words(Vec::new());
        for i in 0..NUM_POPS {
            w.u64(self.neurons[i]);
            w.u64(self.spikes[i]);
            w.u64(self.isi_cvs[i].len() as u64);
            for &cv in &self.isi_cvs[i] {
                w.u64(cv.to_bits());
            }
        }
        w.u64(self.fingerprint);
        let c = &self.counts;
        for x in [
            c.neuron_updates,
            c.spikes,
            c.recurrent_events,
            c.delivered_events,
            c.external_events,
            c.thalamic_events,
            c.synapses,
            c.neurons,
            c.steps,
        ] {
            w.u64(x);
        }
        w.u64(self.thread_times.len() as u64);
        for t in &self.thread_times {
            for x in [t.update_s, t.deliver_s, t.wait_s] {
                w.f64(x);
            }
            for x in [t.cpu_s, t.runqueue_s] {
                w.0.push(x.is_some() as u32);
                w.f64(x.unwrap_or(0.0));
            }
            for x in [t.neurons, t.synapses, t.recurrent_events] {
                w.u64(x);
            }
        }
        w.u64(self.recorded.len() as u64);
        for &(id, s) in &self.recorded {
            w.0.extend_from_slice(&[id, s]);
        }
        w.0.push(self.max_delay);
        for x in self.phase_s {
            w.f64(x);
        }
        w.f64(self.exchange_s);
        w.0
    }

    /// From [`Tally::to_words`]; `None` if the words are not a tally.
    pub fn from_words(words: &[u32]) -> Option<Tally> {
        let mut r = Reader(words);
        let mut t = Tally {
            isi_cvs: vec![Vec::new(); NUM_POPS],
            ..Tally::default()
        };
        for i in 0..NUM_POPS {
            t.neurons[i] = r.u64()?;
            t.spikes[i] = r.u64()?;
            let n = r.u64()? as usize;
            t.isi_cvs[i] = (0..n).map(|_| r.f64()).collect::<Option<_>>()?;
        }
        t.fingerprint = r.u64()?;
        let c = &mut t.counts;
        for x in [
            &mut c.neuron_updates,
            &mut c.spikes,
            &mut c.recurrent_events,
            &mut c.delivered_events,
            &mut c.external_events,
            &mut c.thalamic_events,
            &mut c.synapses,
            &mut c.neurons,
            &mut c.steps,
        ] {
            *x = r.u64()?;
        }
        let threads = r.u64()? as usize;
        for _ in 0..threads {
            let (update_s, deliver_s, wait_s) = (r.f64()?, r.f64()?, r.f64()?);
            let mut opt = || -> Option<Option<f64>> {
                let some = r.u32()? != 0;
                let x = r.f64()?;
                Some(some.then_some(x))
            };
            let (cpu_s, runqueue_s) = (opt()?, opt()?);
            t.thread_times.push(ThreadTimes {
                update_s,
                deliver_s,
                wait_s,
                cpu_s,
                runqueue_s,
                neurons: r.u64()?,
                synapses: r.u64()?,
                recurrent_events: r.u64()?,
            });
        }
        let n = r.u64()? as usize;
        for _ in 0..n {
            t.recorded.push((r.u32()?, r.u32()?));
        }
        t.max_delay = r.u32()?;
        for k in 0..4 {
            t.phase_s[k] = r.f64()?;
        }
        t.exchange_s = r.f64()?;
        r.0.is_empty().then_some(t)
    }
}

struct Words(Vec<u32>);

impl Words {
    fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&[x as u32, (x >> 32) as u32]);
    }
    fn f64(&mut self, x: f64) {
        self.u64(x.to_bits());
    }
}

struct Reader<'a>(&'a [u32]);

impl Reader<'_> {
    fn u32(&mut self) -> Option<u32> {
        let (&x, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(x)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(self.u32()? as u64 | (self.u32()? as u64) << 32)
    }
    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_bits(self.u64()?))
    }
}

/// Exchanges `mine` over `exchange` and merges every rank's tally (every rank gets the merged one).
pub fn gather(exchange: &mut dyn SpikeExchange, mine: &Tally) -> Tally {
    let ranks = exchange.partition().ranks;
    let mut all = vec![Vec::new(); ranks];
    exchange.all_gather(&mine.to_words(), &mut all);
    let parts: Vec<Tally> = all
        .iter()
        .map(|w| Tally::from_words(w).expect("every rank sends a tally"))
        .collect();
    Tally::merge(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_values_are_pinned() {
        // Computed with the hand-written FNV-1a this module had before it used the `fnv` crate;
        // the spike fingerprints (and the seeds derived from them) depend on them.
        assert_eq!(fnv1a(FNV_OFFSET, &[]), FNV_OFFSET);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            fnv1a(fnv1a(FNV_OFFSET, &7u32.to_le_bytes()), &42u32.to_le_bytes()),
            0x0b0d_2c53_d346_58e8
        );
        assert_eq!(fnv1a(0x0123_4567_89ab_cdef, b"spikes"), 0x3b60_c100_ef3f_c298);
        assert_eq!(fnv1a(0, &[1, 2, 3]), 0x08a2_ac00_04e2_3340);
        assert_eq!(
            spike_fingerprint(&[(3, 10), (1, 5), (3, 2), (1, 7)]),
            0xf4aa_8164_4d4c_13cf
        );
    }
}
