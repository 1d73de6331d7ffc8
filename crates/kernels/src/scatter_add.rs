//! `scatter_add`: this machine's limit for spike delivery, the random-access roofline beside
//! which the microcircuit's delivery rate is drawn.
//!
//! The microcircuit simulator delivers a spike by reading the group of the source's synapses
//! that share one delay (packed `u64` words: 24-bit target, delay, `f32` weight, the
//! simulator's own layout, `braingap_microcircuit::connect::pack`) and adding each weight into
//! a per-thread `f64` input row (`acc[target] += w`). Each group starts at an unpredictable
//! place in the synapse array. This kernel does exactly that, with nothing else: `parts`
//! independent accumulators of `targets` cells each (the simulator's per-thread row), each
//! fed by `groups` groups of `group` consecutive words, starting at seeded uniform places in
//! one shared table of `table` words. `group` 64 is about the microcircuit's mean group at
//! full scale on 2 threads (≈3,900 synapses per source, halved per thread, over ~30 delays);
//! `group` 1 makes every event a random table read, the pure random-access limit.
//!
//! The work is defined by the parts, not by the threads (rayon spreads the parts), so a
//! benchmark means the same on every machine and the result is the same for any thread count.
//!
//! Counting: one synaptic event per word read (`parts × groups × group` per call, exact). FLOP
//! = events (one add each). Bytes = 24 per event, the simulator's model
//! (`braingap_microcircuit::BYTES_PER_EVENT`: the 8-byte word, and the 8-byte cell read and
//! written); group starts (8 bytes per group) are not counted.

use super::inputs::splitmix64;
use super::verify::Verification;
use super::{ParamValue, Params};
use crate::units::{Bytes, Flops};
use braingap_microcircuit::connect::{pack, unpack};
use braingap_microcircuit::sim::{prefetch, PREFETCH_GROUPS_AHEAD, PREFETCH_WORDS};
use rayon::prelude::*;

/// Seed of the table's targets and weights.
pub const SEED_TABLE: u64 = 41;
/// Seed of the group starts.
pub const SEED_STARTS: u64 = 42;

/// Parameters of the scatter-add.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterAdd {
    /// Accumulator cells per part (f64).
    pub targets: u64,
    /// Consecutive words per group.
    pub group: u64,
    /// Groups per part and call.
    pub groups: u64,
    /// Independent parts (accumulators), spread over the threads.
    pub parts: u64,
    /// Words in the shared table.
    pub table: u64,
}

/// The table and the group starts of a [`ScatterAdd`].
#[derive(Debug, Clone)]
pub struct ScatterData {
    /// Packed synapse words.
    pub table: Vec<u64>,
    /// Per part, the index of each group's first word.
    pub starts: Vec<Vec<u32>>,
}

impl ScatterAdd {
    /// Parameters as numbers.
    pub fn params(&self) -> Params {
        vec![
            ("targets", ParamValue::Int(self.targets)),
            ("group", ParamValue::Int(self.group)),
            ("groups", ParamValue::Int(self.groups)),
            ("parts", ParamValue::Int(self.parts)),
            ("table", ParamValue::Int(self.table)),
        ]
    }

    /// Synaptic events per call: `parts × groups × group`.
    pub fn events(&self) -> u64 {
        self.parts * self.groups * self.group
    }

    /// One add per event.
    pub fn flops(&self) -> Flops {
        Flops(self.events() as f64)
    }

    /// 24 bytes per event (see the module docs).
    pub fn bytes(&self) -> Bytes {
        Bytes((self.events() * braingap_microcircuit::BYTES_PER_EVENT as u64) as f64)
    }

    /// Table, starts and accumulators.
    pub fn buffer_bytes(&self) -> u64 {
        self.table * 8 + self.parts * self.groups * 4 + self.parts * self.targets * 8
    }

    /// Whether the parameters describe a runnable kernel: targets fit the word's 24 bits, groups
    /// fit the table, indices fit u32.
    pub fn check(&self) -> Result<(), String> {
        if self.targets == 0 || self.targets > 1 << 24 {
            return Err(format!("targets {} must lie in 1..=2^24", self.targets));
        }
        if self.group == 0 || self.group > self.table || self.table > u32::MAX as u64 {
            return Err(format!(
                "group {} must lie in 1..=table ({}), and the table within 2^32 words",
                self.group, self.table
            ));
        }
        Ok(())
    }

    /// Builds the seeded table and starts (in parallel; the same for any thread count).
    pub fn build(&self) -> ScatterData {
        let targets = self.targets;
        let table = (0..self.table)
            .into_par_iter()
            .map(|i| {
                let r = splitmix64(SEED_TABLE.wrapping_mul(0x9E37_79B9) ^ i);
                // Weights like the microcircuit's: ±87.8 pA-sized, sign by the low bit.
                let w = ((r >> 40) as f32 / (1u64 << 24) as f32 + 0.5) * if r & 1 == 0 { 87.8 } else { -351.2 };
                pack(((r >> 8) % targets) as u32, 1, w)
            })
            .collect();
        let span = self.table - self.group + 1;
        let starts = (0..self.parts)
            .into_par_iter()
            .map(|p| {
                (0..self.groups)
                    .map(|g| (splitmix64(SEED_STARTS ^ (p << 40) ^ g) % span) as u32)
                    .collect()
            })
            .collect();
        ScatterData { table, starts }
    }

    /// Adds one part's groups into `acc`; returns the events. With the simulator's own prefetch,
    /// it prefetches the first cache lines of the group [`PREFETCH_GROUPS_AHEAD`] ahead: a group's
    /// start is a miss the hardware prefetcher cannot foresee.
    #[inline(always)]
    pub fn part(&self, data: &ScatterData, part: usize, acc: &mut [f64]) -> u64 {
        let group = self.group as usize;
        let table = &data.table[..];
        let starts = &data.starts[part];
        for (g, &start) in starts.iter().enumerate() {
            if let Some(&ahead) = starts.get(g + PREFETCH_GROUPS_AHEAD) {
                let ahead = ahead as usize;
                prefetch(&table[ahead..ahead + group.min(PREFETCH_WORDS)]);
            }
            let start = start as usize;
            for &word in &table[start..start + group] {
                let (t, _, w) = unpack(word);
                acc[t as usize] += w as f64;
            }
        }
        self.groups * self.group
    }

    /// Reference: each part's accumulator from zero, computed group by group with bounds-checked
    /// indexing and its own decoding of the word (bits 40..64 target, low 32 the weight).
    pub fn reference(&self, data: &ScatterData) -> Vec<Vec<f64>> {
        data.starts
            .iter()
            .map(|starts| {
                let mut acc = vec![0.0f64; self.targets as usize];
                for &s in starts {
                    for k in 0..self.group as usize {
                        let word = data.table[s as usize + k];
                        let target = (word >> 40) as usize;
                        acc[target] += f32::from_bits(word as u32) as f64;
                    }
                }
                acc
            })
            .collect()
    }

    /// Every cell of every part against [`ScatterAdd::reference`], bit for bit (the additions of
    /// a cell happen in the same order in both).
    pub fn verify(&self, data: &ScatterData, accs: &[Vec<f64>]) -> Verification {
        let expected = self.reference(data);
        if accs.len() != expected.len() {
            return Verification::failed(format!("{} accumulators, expected {}", accs.len(), expected.len()));
        }
        for (p, (got, want)) in accs.iter().zip(&expected).enumerate() {
            if let Some(i) = got.iter().zip(want).position(|(a, b)| a.to_bits() != b.to_bits()) {
                return Verification::failed(format!(
                    "part {p}, cell {i}: {} against the sequential reference's {}",
                    got[i], want[i]
                ));
            }
        }
        Verification::exact(
            self.parts * self.targets,
            format!(
                "all {} cells of {} accumulators identical to the sequential reference's",
                self.parts * self.targets,
                self.parts
            ),
        )
    }
}

/// A runnable scatter-add: data, accumulators, and the call.
pub struct ScatterRun {
    /// The parameters.
    pub kernel: ScatterAdd,
    /// Table and starts.
    pub data: ScatterData,
    /// One accumulator per part.
    pub accs: Vec<Vec<f64>>,
}

impl ScatterRun {
    /// Builds the data and zeroed accumulators.
    pub fn new(kernel: ScatterAdd) -> ScatterRun {
        let data = kernel.build();
        let accs = vec![vec![0.0; kernel.targets as usize]; kernel.parts as usize];
        ScatterRun { kernel, data, accs }
    }

    /// One call: every part, spread over the current rayon pool; returns the events.
    pub fn call(&mut self) -> u64 {
        let (k, data) = (&self.kernel, &self.data);
        self.accs
            .par_iter_mut()
            .enumerate()
            .map(|(p, acc)| k.part(data, p, acc))
            .sum()
    }

    /// Zeroes the accumulators, runs one call, checks it.
    pub fn verify(&mut self) -> Verification {
        self.accs.iter_mut().for_each(|a| a.fill(0.0));
        let events = self.call();
        if events != self.kernel.events() {
            return Verification::failed(format!("{events} events, expected {}", self.kernel.events()));
        }
        self.kernel.verify(&self.data, &self.accs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> ScatterAdd {
        ScatterAdd {
            targets: 1000,
            group: 16,
            groups: 50,
            parts: 3,
            table: 5000,
        }
    }

    #[test]
    fn counts_by_hand() {
        let k = small();
        assert_eq!(k.events(), 3 * 50 * 16);
        assert_eq!(k.flops(), Flops(2400.0));
        assert_eq!(k.bytes(), Bytes(2400.0 * 24.0));
        assert_eq!(k.buffer_bytes(), 5000 * 8 + 3 * 50 * 4 + 3 * 1000 * 8);
    }

    #[test]
    fn verifies_and_is_independent_of_threads() {
        let mut runs = Vec::new();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut run = ScatterRun::new(small());
            let v = pool.install(|| run.verify());
            assert!(v.passed, "{}", v.detail);
            assert_eq!(v.checked, 3000);
            runs.push(run.accs);
        }
        assert_eq!(runs[0], runs[1]);
        assert_eq!(runs[0], runs[2]);
        // Events really landed: the total equals the sum of every word read.
        let k = small();
        let data = k.build();
        let total: f64 = data
            .starts
            .iter()
            .flat_map(|s| s.iter())
            .flat_map(|&s| &data.table[s as usize..s as usize + 16])
            .map(|&w| unpack(w).2 as f64)
            .sum();
        let got: f64 = runs[0].iter().flatten().sum();
        assert!((got - total).abs() <= 1e-9 * total.abs().max(1.0), "{got} vs {total}");
    }

    #[test]
    fn a_corrupted_cell_fails_verification_naming_it() {
        let mut run = ScatterRun::new(small());
        assert!(run.verify().passed);
        run.accs.iter_mut().for_each(|a| a.fill(0.0));
        run.call();
        run.accs[2][7] += 1.0;
        let v = run.kernel.verify(&run.data, &run.accs);
        assert!(!v.passed);
        assert!(v.detail.contains("part 2, cell 7"), "{}", v.detail);
    }

    #[test]
    fn targets_and_groups_stay_in_range() {
        let k = small();
        let data = k.build();
        assert!(data.table.iter().all(|&w| (unpack(w).0 as u64) < k.targets));
        assert!(data.starts.iter().flatten().all(|&s| s as u64 + k.group <= k.table));
        assert!(ScatterAdd {
            targets: 1 << 25,
            ..k.clone()
        }
        .check()
        .is_err());
        assert!(ScatterAdd {
            group: 6000,
            ..k.clone()
        }
        .check()
        .is_err());
        assert!(k.check().is_ok());
    }
}
