//! The `iaf_psc_exp` neuron, integrated as NEST 3 does (`models/iaf_psc_exp.cpp`, `libnestutil/iaf_propagator.cpp`).
//!
//! Exact integration (Rotter & Diesmann 1999) with NEST's propagators and its update order. As in NEST the
//! membrane potential is held relative to `E_L`.

use crate::params::{delay_ms_to_steps, C_M, E_L, RESOLUTION_MS, TAU_M, TAU_SYN, T_REF, V_RESET, V_TH};

/// `IAFPropagatorExp::evaluate` (`libnestutil/iaf_propagator.cpp`): P32 with NEST's fallback to the
/// singular form when the regular one is not a positive normal number.
pub fn propagator_p32(tau_syn: f64, tau_m: f64, c_m: f64, h: f64) -> f64 {
    let beta = tau_syn * tau_m / (tau_m - tau_syn);
    let gamma = beta / c_m;
    let inv_tau_syn = 1.0 / tau_syn;
    let inv_tau_m = 1.0 / tau_m;
    let inv_c_m = 1.0 / c_m;
    let inv_beta = (tau_m - tau_syn) / (tau_syn * tau_m);
    let exp_h_tau_syn = (-h * inv_tau_syn).exp();
    let expm1_h_tau = (h * inv_beta).exp_m1();
    let p32 = gamma * exp_h_tau_syn * expm1_h_tau;
    if p32.is_normal() && p32 > 0.0 {
        p32
    } else {
        h * inv_c_m * (-h * inv_tau_m).exp()
    }
}

/// The constants of `iaf_psc_exp::pre_run_hook`, plus threshold and reset relative to `E_L`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Propagators {
    /// Synaptic current decay, excitatory.
    pub p11ex: f64,
    /// Synaptic current decay, inhibitory.
    pub p11in: f64,
    /// Membrane decay.
    pub p22: f64,
    /// Excitatory current to membrane.
    pub p21ex: f64,
    /// Inhibitory current to membrane.
    pub p21in: f64,
    /// Constant current to membrane.
    pub p20: f64,
    /// Refractory period in steps.
    pub ref_counts: u32,
    /// `V_th − E_L`.
    pub theta: f64,
    /// `V_reset − E_L`.
    pub v_reset: f64,
}

impl Propagators {
    /// With the reference's neuron parameters at resolution `h` ms.
    pub fn new(h: f64) -> Propagators {
        Self::with(TAU_M, C_M, TAU_SYN, TAU_SYN, h)
    }

    /// With arbitrary time constants (for tests).
    pub fn with(tau_m: f64, c_m: f64, tau_ex: f64, tau_in: f64, h: f64) -> Propagators {
        let p22 = (-h / tau_m).exp();
        Propagators {
            p11ex: (-h / tau_ex).exp(),
            p11in: (-h / tau_in).exp(),
            p22,
            p21ex: propagator_p32(tau_ex, tau_m, c_m, h),
            p21in: propagator_p32(tau_in, tau_m, c_m, h),
            p20: tau_m / c_m * (1.0 - p22),
            // Time(Time::ms(t_ref)).get_steps(): 2 ms is a whole number of steps, so rounding is exact.
            ref_counts: (T_REF / RESOLUTION_MS).round() as u32,
            theta: V_TH - E_L,
            v_reset: V_RESET - E_L,
        }
    }
}

/// Reference resolution's propagators.
pub fn default_propagators() -> Propagators {
    debug_assert_eq!(delay_ms_to_steps(RESOLUTION_MS), 1);
    Propagators::new(RESOLUTION_MS)
}

/// One step of `iaf_psc_exp::update` for one neuron; `in_ex`/`in_in` are this step's input (NEST's ring-buffer slot)
/// (weighted spikes arriving now). Returns whether it spiked. `i_0`/`i_1` (current-generator input) are 0.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn step(
    p: &Propagators,
    v: &mut f64,
    i_ex: &mut f64,
    i_in: &mut f64,
    r_ref: &mut u32,
    i_e: f64,
    in_ex: f64,
    in_in: f64,
) -> bool {
    if *r_ref == 0 {
        *v = *v * p.p22 + *i_ex * p.p21ex + *i_in * p.p21in + i_e * p.p20;
    } else {
        *r_ref -= 1;
    }
    *i_ex *= p.p11ex;
    *i_in *= p.p11in;
    *i_ex += in_ex;
    *i_in += in_in;
    if *v >= p.theta {
        *r_ref = p.ref_counts;
        *v = p.v_reset;
        true
    } else {
        false
    }
}

/// [`step`] without branches, bit-identical to it: the membrane update is computed always and selected, so
/// a loop over neurons has no unpredictable jumps and can use SIMD. Returns 1 if the neuron spiked.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn step_branchless(
    p: &Propagators,
    v: &mut f64,
    i_ex: &mut f64,
    i_in: &mut f64,
    r_ref: &mut u32,
    i_e: f64,
    in_ex: f64,
    in_in: f64,
) -> u8 {
    let free = *r_ref == 0;
    let v_new = *v * p.p22 + *i_ex * p.p21ex + *i_in * p.p21in + i_e * p.p20;
    let v1 = if free { v_new } else { *v };
    let r1 = r_ref.wrapping_sub(!free as u32);
    *i_ex = *i_ex * p.p11ex + in_ex;
    *i_in = *i_in * p.p11in + in_in;
    let spike = v1 >= p.theta;
    *v = if spike { p.v_reset } else { v1 };
    *r_ref = if spike { p.ref_counts } else { r1 };
    spike as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-300)
    }

    #[test]
    fn constant_current_matches_closed_form() {
        let p = default_propagators();
        let i_e = 300.0; // below the 375 pA rheobase: no spike
        let (mut v, mut ie, mut ii, mut r) = (0.0, 0.0, 0.0, 0);
        for n in 1..=500 {
            assert!(!step(&p, &mut v, &mut ie, &mut ii, &mut r, i_e, 0.0, 0.0));
            let t = n as f64 * RESOLUTION_MS;
            let exact = i_e * TAU_M / C_M * (1.0 - (-t / TAU_M).exp());
            assert!(rel(v, exact) < 1e-12, "step {n}: {v} vs {exact}");
        }
    }

    #[test]
    fn single_psc_matches_closed_form() {
        let p = default_propagators();
        let w = 87.8;
        let (mut v, mut ie, mut ii, mut r) = (0.0, 0.0, 0.0, 0);
        // The spike is read in step 0 after the membrane update: V starts to move in step 1.
        step(&p, &mut v, &mut ie, &mut ii, &mut r, 0.0, w, 0.0);
        assert_eq!(v, 0.0);
        let mut peak: f64 = 0.0;
        for n in 1..=400 {
            step(&p, &mut v, &mut ie, &mut ii, &mut r, 0.0, 0.0, 0.0);
            let t = n as f64 * RESOLUTION_MS;
            let exact = w / C_M * TAU_SYN * TAU_M / (TAU_M - TAU_SYN) * ((-t / TAU_M).exp() - (-t / TAU_SYN).exp());
            assert!(rel(v, exact) < 1e-12, "step {n}: {v} vs {exact}");
            peak = peak.max(v);
        }
        // The PSC of 87.8 pA gives the reference's 0.15 mV PSP peak (to the 0.1 ms grid).
        assert!((peak - 0.15).abs() < 1e-3, "peak {peak}");
    }

    #[test]
    fn branchless_step_is_bit_identical() {
        use rand::{Rng, SeedableRng};
        let p = default_propagators();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let (mut a, mut b) = ((10.0, 0.0, 0.0, 0u32), (10.0, 0.0, 0.0, 0u32));
        for _ in 0..200_000 {
            let in_ex = if rng.random::<f64>() < 0.3 {
                rng.random::<f64>() * 400.0
            } else {
                0.0
            };
            let in_in = if rng.random::<f64>() < 0.1 {
                -rng.random::<f64>() * 800.0
            } else {
                0.0
            };
            let i_e = 380.0;
            let sa = step(&p, &mut a.0, &mut a.1, &mut a.2, &mut a.3, i_e, in_ex, in_in);
            let sb = step_branchless(&p, &mut b.0, &mut b.1, &mut b.2, &mut b.3, i_e, in_ex, in_in);
            assert_eq!(sa as u8, sb);
            assert_eq!(
                (a.0.to_bits(), a.1.to_bits(), a.2.to_bits(), a.3),
                (b.0.to_bits(), b.1.to_bits(), b.2.to_bits(), b.3)
            );
        }
    }

    #[test]
    fn inhibitory_channel_and_refractoriness() {
        let p = default_propagators();
        let (mut v, mut ie, mut ii, mut r) = (14.99, 0.0, 0.0, 0);
        // A big input crosses threshold one step after arrival.
        step(&p, &mut v, &mut ie, &mut ii, &mut r, 0.0, 5000.0, 0.0);
        assert!(step(&p, &mut v, &mut ie, &mut ii, &mut r, 0.0, 0.0, 0.0));
        assert_eq!(v, p.v_reset);
        assert_eq!(r, 20);
        for _ in 0..20 {
            assert!(!step(&p, &mut v, &mut ie, &mut ii, &mut r, 0.0, 0.0, -1e6));
            assert_eq!(v, p.v_reset, "clamped while refractory");
        }
        assert_eq!(r, 0);
        step(&p, &mut v, &mut ie, &mut ii, &mut r, 0.0, 0.0, 0.0);
        assert!(v < 0.0, "inhibitory current hyperpolarises");
    }
}
