//! `spmv_synapses`: one step of spike propagation through random sparse connectivity.
//!
//! The connectivity is a CSR matrix W whose row i lists the `fan_in` synapses onto
//! neuron i (presynaptic index and weight); columns are drawn uniformly with replacement
//! from all neurons (seeded), so the mean fan-out equals the fan-in (default 7,000, an
//! average cortical neuron). The spike vector x has x_j = 1 for a spiking presynaptic
//! neuron (each spikes with probability `spike_fraction`, seeded) and 0 otherwise. The step
//! computes the synaptic input y = W·x, as a gather over rows (parallel without write races).
//!
//! Counting: FLOP = 2·nnz (a multiply and an add per stored synapse; the gather touches
//! every synapse whether or not its source spiked). Synaptic events = the number of stored
//! synapses whose presynaptic neuron spiked (spikes × fan-out), counted exactly from the
//! data. Compulsory bytes = nnz·(s + 4) (weight and u32 column index) + (neurons + 1)·8
//! (u64 row offsets) + 2·neurons·s (x read, y written).

use super::inputs::{splitmix64, uniform, unit};
use super::verify::{gamma, Checker, Verification};
use super::{ParamValue, Params, Real};
use crate::units::{Bytes, Flops};
use rayon::prelude::*;

/// Seed of the column indices.
pub const SEED_COLUMNS: u64 = 31;
/// Seed of the weights.
pub const SEED_WEIGHTS: u64 = 32;
/// Seed of the spikes.
pub const SEED_SPIKES: u64 = 33;

/// Parameters of spike propagation.
#[derive(Debug, Clone, PartialEq)]
pub struct SpmvSynapses {
    /// Number of neurons (rows and columns).
    pub neurons: u64,
    /// Synapses onto each neuron.
    pub fan_in: u64,
    /// Probability that a neuron spiked in the previous step.
    pub spike_fraction: f64,
}

/// A CSR connectivity matrix with its spike vector.
#[derive(Debug, Clone)]
pub struct Synapses<T> {
    /// Row offsets, `neurons + 1` entries.
    pub row_offsets: Vec<u64>,
    /// Presynaptic neuron of each synapse.
    pub columns: Vec<u32>,
    /// Weight of each synapse.
    pub weights: Vec<T>,
    /// 1 where the presynaptic neuron spiked, else 0.
    pub spikes: Vec<T>,
    /// Exact number of synaptic events (stored synapses whose source spiked).
    pub events: u64,
}

impl SpmvSynapses {
    /// Parameters as numbers.
    pub fn params(&self) -> Params {
        vec![
            ("neurons", ParamValue::Int(self.neurons)),
            ("fan_in", ParamValue::Int(self.fan_in)),
            ("spike_fraction", ParamValue::Float(self.spike_fraction)),
        ]
    }

    /// Stored synapses.
    pub fn nnz(&self) -> u64 {
        self.neurons * self.fan_in
    }

    /// 2·nnz.
    pub fn flops(&self) -> Flops {
        Flops(2.0 * self.nnz() as f64)
    }

    /// nnz·(s + 4) + (neurons + 1)·8 + 2·neurons·s.
    pub fn bytes(&self, elem: u64) -> Bytes {
        Bytes((self.nnz() * (elem + 4) + (self.neurons + 1) * 8 + 2 * self.neurons * elem) as f64)
    }

    /// Same as the compulsory bytes.
    pub fn buffer_bytes(&self, elem: u64) -> u64 {
        self.nnz() * (elem + 4) + (self.neurons + 1) * 8 + 2 * self.neurons * elem
    }

    /// Builds the seeded connectivity and spikes (in parallel; same result for any thread count).
    pub fn build<T: Real>(&self) -> Synapses<T> {
        let neurons = self.neurons;
        let fan_in = self.fan_in as usize;
        let nnz = self.nnz() as usize;
        let row_offsets: Vec<u64> = (0..=neurons).map(|i| i * self.fan_in).collect();
        let mut columns = vec![0u32; nnz];
        let mut weights = vec![T::default(); nnz];
        if fan_in > 0 {
            columns
                .par_chunks_mut(fan_in)
                .zip(weights.par_chunks_mut(fan_in))
                .enumerate()
                .for_each(|(row, (cols, ws))| {
                    for (j, (col, w)) in cols.iter_mut().zip(ws.iter_mut()).enumerate() {
                        let synapse = (row * fan_in + j) as u64;
                        *col = (splitmix64(SEED_COLUMNS ^ (synapse << 8)) % neurons) as u32;
                        *w = T::from_f64(uniform(SEED_WEIGHTS, synapse, -1.0, 1.0));
                    }
                });
        }
        let spikes: Vec<T> = (0..neurons)
            .map(|j| {
                if unit(SEED_SPIKES, j) < self.spike_fraction {
                    T::from_f64(1.0)
                } else {
                    T::default()
                }
            })
            .collect();
        let one = T::from_f64(1.0);
        let events = columns.par_iter().filter(|&&c| spikes[c as usize] == one).count() as u64;
        Synapses {
            row_offsets,
            columns,
            weights,
            spikes,
            events,
        }
    }

    /// Reference: y_i = Σ_j W_ij x_j for one row, in f64, with Σ|W_ij x_j|.
    pub fn reference_row<T: Real>(syn: &Synapses<T>, row: usize) -> (f64, f64) {
        let (start, end) = (syn.row_offsets[row] as usize, syn.row_offsets[row + 1] as usize);
        let mut sum = 0.0;
        let mut abs = 0.0;
        for idx in start..end {
            let term = syn.weights[idx].to_f64() * syn.spikes[syn.columns[idx] as usize].to_f64();
            sum += term;
            abs += term.abs();
        }
        (sum, abs)
    }

    /// Reference: the whole output vector, sequentially.
    pub fn reference<T: Real>(syn: &Synapses<T>) -> Vec<f64> {
        (0..syn.row_offsets.len() - 1)
            .map(|row| Self::reference_row(syn, row).0)
            .collect()
    }

    /// Checks every output against the reference (cost is one pass over the synapses).
    pub fn verify<T: Real>(&self, syn: &Synapses<T>, y: &[T]) -> Verification {
        if y.len() as u64 != self.neurons {
            return Verification::failed(format!("output has {} elements, expected {}", y.len(), self.neurons));
        }
        let u = T::DTYPE.unit_roundoff();
        let mut checker = Checker::new(format!("all {} outputs against the sequential sum", self.neurons));
        for (row, &got) in y.iter().enumerate() {
            let (expect, abs) = Self::reference_row(syn, row);
            checker.check(
                &format_args!("y[{row}]"),
                got.to_f64(),
                expect,
                gamma(self.fan_in + 2, u) * abs,
            );
        }
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_hand() {
        let k = SpmvSynapses {
            neurons: 10,
            fan_in: 3,
            spike_fraction: 0.5,
        };
        assert_eq!(k.nnz(), 30);
        assert_eq!(k.flops(), Flops(60.0));
        // 30·(4+4) + 11·8 + 2·10·4 = 240 + 88 + 80 = 408
        assert_eq!(k.bytes(4), Bytes(408.0));
    }

    #[test]
    fn events_equal_synapses_from_spiking_sources() {
        let k = SpmvSynapses {
            neurons: 200,
            fan_in: 50,
            spike_fraction: 0.1,
        };
        let syn = k.build::<f32>();
        let manual = syn.columns.iter().filter(|&&c| syn.spikes[c as usize] == 1.0).count() as u64;
        assert_eq!(syn.events, manual);
        // ~10% of 10,000 synapses; a seeded draw, so bounds are loose but not vacuous.
        assert!((500..1500).contains(&syn.events), "{}", syn.events);
        let none = SpmvSynapses {
            spike_fraction: 0.0,
            ..k.clone()
        }
        .build::<f32>();
        assert_eq!(none.events, 0);
        assert!(SpmvSynapses::reference(&none).iter().all(|&y| y == 0.0));
    }
}
