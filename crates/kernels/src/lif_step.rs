//! `lif_step`: one leaky integrate-and-fire update of N neurons (METHODS.md):
//!
//! ```text
//! v' = v + (dt/τ)·(v_rest − v) + I
//! if refractory > 0:      refractory −= 1; v = v_reset          (no spike)
//! else if v' ≥ v_th:      spike; v = v_reset; refractory = refractory_steps
//! else:                   v = v'
//! ```
//!
//! Counting: 5 FLOP per neuron, the branch-free formulation every implementation here uses:
//! one subtract, one multiply, two adds and the threshold comparison (counted as 1, as
//! METHODS.md allows when stated). Compulsory bytes per neuron: v read and written (2s), I
//! read (s), the u32 refractory counter read and written (8), the u8 spike flag written (1):
//! 3s + 9. The kernel's discrete events are the spikes it emits, counted exactly.

use super::inputs;
use super::verify::{Checker, Verification};
use super::{ParamValue, Params, Real};
use crate::units::{Bytes, Flops};

/// Seed of initial membrane potentials.
pub const SEED_V: u64 = 41;
/// Seed of input currents.
pub const SEED_I: u64 = 42;
/// Seed of initial refractory counters.
pub const SEED_REFRACTORY: u64 = 43;

/// Parameters of the LIF update (voltages in mV, times in ms).
#[derive(Debug, Clone, PartialEq)]
pub struct LifStep {
    /// Number of neurons.
    pub neurons: u64,
    /// Time step.
    pub dt_ms: f64,
    /// Membrane time constant.
    pub tau_ms: f64,
    /// Resting potential.
    pub v_rest_mv: f64,
    /// Spike threshold.
    pub v_threshold_mv: f64,
    /// Potential after a spike.
    pub v_reset_mv: f64,
    /// Steps a neuron stays silent after spiking.
    pub refractory_steps: u32,
}

/// State of a population of LIF neurons.
#[derive(Debug, Clone, PartialEq)]
pub struct LifState<T> {
    /// Membrane potentials.
    pub v: Vec<T>,
    /// Input current per step (already scaled to mV per step).
    pub input: Vec<T>,
    /// Remaining refractory steps.
    pub refractory: Vec<u32>,
    /// 1 where the neuron spiked in the last step.
    pub spiked: Vec<u8>,
}

impl LifStep {
    /// A population of `neurons` with the usual cortical constants.
    pub fn with_neurons(neurons: u64) -> LifStep {
        LifStep {
            neurons,
            dt_ms: 1.0,
            tau_ms: 20.0,
            v_rest_mv: -65.0,
            v_threshold_mv: -50.0,
            v_reset_mv: -65.0,
            refractory_steps: 2,
        }
    }

    /// Parameters as numbers.
    pub fn params(&self) -> Params {
        vec![
            ("neurons", ParamValue::Int(self.neurons)),
            ("dt_ms", ParamValue::Float(self.dt_ms)),
            ("tau_ms", ParamValue::Float(self.tau_ms)),
            ("v_rest_mv", ParamValue::Float(self.v_rest_mv)),
            ("v_threshold_mv", ParamValue::Float(self.v_threshold_mv)),
            ("v_reset_mv", ParamValue::Float(self.v_reset_mv)),
            ("refractory_steps", ParamValue::Int(u64::from(self.refractory_steps))),
        ]
    }

    /// 5 per neuron.
    pub fn flops(&self) -> Flops {
        Flops(5.0 * self.neurons as f64)
    }

    /// (3s + 9) per neuron.
    pub fn bytes(&self, elem: u64) -> Bytes {
        Bytes(((3 * elem + 9) * self.neurons) as f64)
    }

    /// v, I, refractory and spike buffers.
    pub fn buffer_bytes(&self, elem: u64) -> u64 {
        (2 * elem + 5) * self.neurons
    }

    /// Seeded initial state: v in [−70, −45) mV, I in [0, 2) mV/step, some neurons refractory.
    pub fn initial_state<T: Real>(&self) -> LifState<T> {
        let n = self.neurons as usize;
        LifState {
            v: inputs::uniform_vec(n, SEED_V, -70.0, -45.0),
            input: inputs::uniform_vec(n, SEED_I, 0.0, 2.0),
            refractory: (0..n as u64)
                .map(|i| (inputs::splitmix64(SEED_REFRACTORY ^ i) % 4) as u32 % (self.refractory_steps + 1))
                .collect(),
            spiked: vec![0; n],
        }
    }

    /// The constants in the element type, in the order (decay, v_rest, v_th, v_reset).
    pub fn constants<T: Real>(&self) -> (T, T, T, T) {
        (
            T::from_f64(self.dt_ms / self.tau_ms),
            T::from_f64(self.v_rest_mv),
            T::from_f64(self.v_threshold_mv),
            T::from_f64(self.v_reset_mv),
        )
    }

    /// Reference update of one neuron; returns whether it spiked. Implementations must use
    /// this exact operation order, so results match bit for bit.
    #[inline(always)]
    pub fn update_one<T: Real>(&self, v: &mut T, input: T, refractory: &mut u32) -> bool {
        let (decay, v_rest, v_th, v_reset) = self.constants::<T>();
        let candidate = *v + decay * (v_rest - *v) + input;
        if *refractory > 0 {
            *refractory -= 1;
            *v = v_reset;
            false
        } else if candidate >= v_th {
            *v = v_reset;
            *refractory = self.refractory_steps;
            true
        } else {
            *v = candidate;
            false
        }
    }

    /// Reference: one step over the whole population, sequentially; returns the spike count.
    pub fn reference<T: Real>(&self, state: &mut LifState<T>) -> u64 {
        let mut spikes = 0;
        for i in 0..state.v.len() {
            let fired = self.update_one(&mut state.v[i], state.input[i], &mut state.refractory[i]);
            state.spiked[i] = u8::from(fired);
            spikes += u64::from(fired);
        }
        spikes
    }

    /// Checks a state after one step from [`Self::initial_state`] against the reference:
    /// spikes and refractory counters exactly, potentials to 2 ulps.
    pub fn verify<T: Real>(&self, after: &LifState<T>, spikes: u64) -> Verification {
        let mut expect = self.initial_state::<T>();
        let expect_spikes = self.reference(&mut expect);
        let u = T::DTYPE.unit_roundoff();
        let mut checker = Checker::new(format!("all {} neurons against the sequential update", self.neurons));
        checker.check_exact(&"spike count", spikes, expect_spikes);
        for i in 0..expect.v.len() {
            let (Some(&v), Some(&r), Some(&s)) = (after.v.get(i), after.refractory.get(i), after.spiked.get(i)) else {
                return Verification::failed(format!("state has fewer than {} neurons", self.neurons));
            };
            checker.check_exact(&format_args!("spiked[{i}]"), u64::from(s), u64::from(expect.spiked[i]));
            checker.check_exact(
                &format_args!("refractory[{i}]"),
                u64::from(r),
                u64::from(expect.refractory[i]),
            );
            let e = expect.v[i].to_f64();
            checker.check(&format_args!("v[{i}]"), v.to_f64(), e, 4.0 * u * e.abs());
        }
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_hand() {
        let k = LifStep::with_neurons(1000);
        assert_eq!(k.flops(), Flops(5000.0));
        // f32: (12 + 9) per neuron
        assert_eq!(k.bytes(4), Bytes(21_000.0));
    }

    #[test]
    fn update_rules() {
        let k = LifStep::with_neurons(1);
        // Leak toward rest plus input: -60 + 0.05·(-65 + 60) + 1 = -59.25
        let (mut v, mut r) = (-60.0f64, 0u32);
        assert!(!k.update_one(&mut v, 1.0, &mut r));
        assert!((v - -59.25).abs() < 1e-12);
        // Crossing threshold fires and resets: -50.2 + 0.05·(-14.8) + 1 = -49.94 ≥ -50.
        let (mut v, mut r) = (-50.2f64, 0u32);
        assert!(k.update_one(&mut v, 1.0, &mut r));
        assert_eq!((v, r), (-65.0, 2));
        // Refractory neurons hold at reset and count down, even with huge input.
        assert!(!k.update_one(&mut v, 100.0, &mut r));
        assert_eq!((v, r), (-65.0, 1));
    }

    #[test]
    fn reference_step_spikes_some_neurons() {
        let k = LifStep::with_neurons(10_000);
        let mut s = k.initial_state::<f32>();
        let spikes = k.reference(&mut s);
        assert!(spikes > 0 && spikes < 10_000, "{spikes}");
        assert_eq!(spikes, s.spiked.iter().map(|&x| u64::from(x)).sum::<u64>());
        assert!(k.verify(&s, spikes).passed);
        let mut wrong = s.clone();
        wrong.spiked[0] ^= 1;
        assert!(!k.verify(&wrong, spikes).passed);
    }
}
