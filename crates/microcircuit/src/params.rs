//! Reference constants of the PyPI package `microcircuit` 1.0 and the parameters derived from them.
//!
//! Every constant below is copied from a file of that package (named in its doc comment); the derivations
//! (`Derived::new`) follow `network.py` (`Network.__derive_parameters`) and `helpers.py` line by line,
//! including NumPy's round-half-to-even.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Number of populations.
pub const NUM_POPS: usize = 8;

/// `network_params.py`: `net_dict["populations"]`.
pub const POPULATIONS: [&str; NUM_POPS] = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"];

/// `network_params.py`: `net_dict["full_num_neurons"]`.
pub const FULL_NUM_NEURONS: [u64; NUM_POPS] = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948];

/// `network_params.py`: `net_dict["full_mean_rates"]` (spikes/s), used only to compensate `K_scaling`.
pub const FULL_MEAN_RATES: [f64; NUM_POPS] = [0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829];

/// `network_params.py`: `net_dict["conn_probs"]`, `[target][source]`.
pub const CONN_PROBS: [[f64; NUM_POPS]; NUM_POPS] = [
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
];

/// `network_params.py`: `net_dict["PSP_exc_mean"]` (mV).
pub const PSP_EXC_MEAN: f64 = 0.15;
/// `network_params.py`: `net_dict["weight_rel_std"]`.
pub const WEIGHT_REL_STD: f64 = 0.1;
/// `network_params.py`: `net_dict["g"]`.
pub const G: f64 = -4.0;
/// `network_params.py`: `net_dict["delay_exc_mean"]` (ms).
pub const DELAY_EXC_MEAN: f64 = 1.5;
/// `network_params.py`: `net_dict["delay_inh_mean"]` (ms).
pub const DELAY_INH_MEAN: f64 = 0.75;
/// `network_params.py`: `net_dict["delay_rel_std"]`.
pub const DELAY_REL_STD: f64 = 0.5;
/// `network_params.py`: `net_dict["K_ext"]`.
pub const K_EXT: [u64; NUM_POPS] = [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100];
/// `network_params.py`: `net_dict["bg_rate"]` (spikes/s).
pub const BG_RATE: f64 = 8.0;
/// `network_params.py`: `net_dict["delay_poisson"]` (ms).
pub const DELAY_POISSON: f64 = 1.5;
/// `network_params.py`: `neuron_params["V0_mean"]["optimized"]` (mV).
pub const V0_MEAN_OPTIMIZED: [f64; NUM_POPS] = [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43];
/// `network_params.py`: `neuron_params["V0_std"]["optimized"]` (mV).
pub const V0_STD_OPTIMIZED: [f64; NUM_POPS] = [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48];
/// `network_params.py`: `neuron_params["V0_mean"]["original"]` (mV).
pub const V0_MEAN_ORIGINAL: f64 = -58.0;
/// `network_params.py`: `neuron_params["V0_std"]["original"]` (mV).
pub const V0_STD_ORIGINAL: f64 = 10.0;
/// `network_params.py`: `neuron_params["E_L"]` (mV).
pub const E_L: f64 = -65.0;
/// `network_params.py`: `neuron_params["V_th"]` (mV).
pub const V_TH: f64 = -50.0;
/// `network_params.py`: `neuron_params["V_reset"]` (mV).
pub const V_RESET: f64 = -65.0;
/// `network_params.py`: `neuron_params["C_m"]` (pF).
pub const C_M: f64 = 250.0;
/// `network_params.py`: `neuron_params["tau_m"]` (ms).
pub const TAU_M: f64 = 10.0;
/// `network_params.py`: `neuron_params["tau_syn"]` (ms), set as both `tau_syn_ex` and `tau_syn_in` in `network.py`.
pub const TAU_SYN: f64 = 0.5;
/// `network_params.py`: `neuron_params["t_ref"]` (ms).
pub const T_REF: f64 = 2.0;

/// `sim_params.py`: `sim_dict["sim_resolution"]` (ms).
pub const RESOLUTION_MS: f64 = 0.1;
/// `sim_params.py`: `sim_dict["t_presim"]` (ms).
pub const T_PRESIM_MS: f64 = 500.0;
/// `sim_params.py`: `sim_dict["t_sim"]` (ms).
pub const T_SIM_MS: f64 = 1000.0;
/// `sim_params.py`: `sim_dict["rng_seed"]`.
pub const RNG_SEED: u64 = 55;

/// `stimulus_params.py`: `stim_dict["th_start"]` (ms).
pub const TH_START_MS: f64 = 700.0;
/// `stimulus_params.py`: `stim_dict["th_duration"]` (ms).
pub const TH_DURATION_MS: f64 = 10.0;
/// `stimulus_params.py`: `stim_dict["th_rate"]` (spikes/s).
pub const TH_RATE: f64 = 120.0;
/// `stimulus_params.py`: `stim_dict["num_th_neurons"]` (not scaled by `N_scaling`, `network.py`).
pub const NUM_TH_NEURONS: u64 = 902;
/// `stimulus_params.py`: `stim_dict["conn_probs_th"]`, by target population.
pub const CONN_PROBS_TH: [f64; NUM_POPS] = [0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196];
/// `stimulus_params.py`: `stim_dict["PSP_th"]` (mV).
pub const PSP_TH: f64 = 0.15;
/// `stimulus_params.py`: `stim_dict["delay_th_mean"]` (ms).
pub const DELAY_TH_MEAN: f64 = 1.5;
/// `stimulus_params.py`: `stim_dict["delay_th_rel_std"]`.
pub const DELAY_TH_REL_STD: f64 = 0.5;
/// `stimulus_params.py`: `stim_dict["dc_transient_start"]` (ms).
pub const DC_TRANSIENT_START_MS: f64 = 650.0;
/// `stimulus_params.py`: `stim_dict["dc_transient_dur"]` (ms).
pub const DC_TRANSIENT_DUR_MS: f64 = 100.0;
/// `stimulus_params.py`: `stim_dict["dc_transient_amp"]` (pA per unit of the unscaled `K_ext`, `network.py`).
pub const DC_TRANSIENT_AMP: f64 = 0.3;

/// NEST's default `static_synapse` delay (ms), which `network.py` leaves on the poisson_generator →
/// parrot_neuron connections of the thalamus.
pub const NEST_DEFAULT_DELAY_MS: f64 = 1.0;

/// NEST's tics per millisecond (`nest_time.h`, default `tics_per_ms` = 1000), used to reproduce how NEST
/// turns milliseconds into steps.
const TICS_PER_MS: f64 = 1000.0;

/// NEST's steps per ms, computed as `Time::set_resolution` does (`nest_time.cpp`): tics per step are rounded
/// first, then `STEPS_PER_MS = 1 / (TICS_PER_STEP / TICS_PER_MS)`.
pub fn steps_per_ms() -> f64 {
    let tics_per_step = (TICS_PER_MS * RESOLUTION_MS + 0.5).floor();
    1.0 / (tics_per_step / TICS_PER_MS)
}

/// NEST's `Time::delay_ms_to_steps` (`nest_time.h`): `ld_round(ms * STEPS_PER_MS)`, `ld_round(x) = floor(x + 0.5)`.
pub fn delay_ms_to_steps(ms: f64) -> i64 {
    let x = ms * steps_per_ms() + 0.5;
    // Truncation is floor for x >= 0 and, unlike `floor` on baseline x86-64, needs no libm call.
    if x >= 0.0 {
        x as i64
    } else {
        x.floor() as i64
    }
}

/// `helpers.py`: `num_synapses_from_conn_probs`, K = ln(1 − C) / ln((N_pre·N_post − 1) / (N_pre·N_post)).
pub fn num_synapses_from_conn_prob(c: f64, n_post: u64, n_pre: u64) -> f64 {
    let prod = (n_post * n_pre) as f64;
    (1.0 - c).ln() / ((prod - 1.0) / prod).ln()
}

/// `helpers.py`: `postsynaptic_potential_to_current` (pA per mV of PSP peak).
pub fn psc_over_psp(c_m: f64, tau_m: f64, tau_syn: f64) -> f64 {
    let sub = 1.0 / (tau_syn - tau_m);
    let pre = tau_m * tau_syn / c_m * sub;
    let frac = (tau_m / tau_syn).powf(sub);
    1.0 / (pre * (frac.powf(tau_m) - frac.powf(tau_syn)))
}

/// `network_params.py`: `PSP_matrix_mean` (mV), `[target][source]`: excitatory sources (even columns) 0.15,
/// inhibitory ones 0.15·g, and L4E→L23E doubled.
pub fn psp_matrix_mean() -> [[f64; NUM_POPS]; NUM_POPS] {
    let mut m = [[0.0; NUM_POPS]; NUM_POPS];
    for row in m.iter_mut() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = if j % 2 == 0 { PSP_EXC_MEAN } else { PSP_EXC_MEAN * G };
        }
    }
    m[0][2] = 2.0 * PSP_EXC_MEAN;
    m
}

/// `network_params.py`: `delay_matrix_mean` (ms), by source type.
pub fn delay_mean(source_pop: usize) -> f64 {
    if source_pop.is_multiple_of(2) {
        DELAY_EXC_MEAN
    } else {
        DELAY_INH_MEAN
    }
}

/// Background input (`network_params.py`: `net_dict["bg_input_type"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BgInput {
    /// The reference default: a DC current (`helpers.dc_input_compensating_poisson`).
    Dc,
    /// One independent Poisson process per neuron at `bg_rate × K_ext` through weight `w_ext`.
    Poisson,
}

/// Initial membrane potentials (`network_params.py`: `net_dict["V0_type"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum V0Type {
    /// Per-population mean and SD (the reference default).
    Optimized,
    /// −58 ± 10 mV for all.
    Original,
}

/// What the caller chooses; everything else is fixed by the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Scales neuron numbers (`net_dict["N_scaling"]`).
    pub n_scaling: f64,
    /// Scales in-degrees (`net_dict["K_scaling"]`).
    pub k_scaling: f64,
    /// Warm-up, simulated but not timed or counted (`sim_dict["t_presim"]`), ms.
    pub t_presim_ms: f64,
    /// Timed, counted simulation (`sim_dict["t_sim"]`), ms.
    pub t_sim_ms: f64,
    /// Master seed of every random stream.
    pub seed: u64,
    /// Worker threads of the simulation's own rayon pool.
    pub threads: usize,
    /// DC (default) or Poisson background.
    pub bg_input: BgInput,
    /// Initial membrane potentials.
    pub v0_type: V0Type,
    /// `stimulus_params.py`: `thalamic_input`, 902 parrot neurons relaying a 120 Hz Poisson burst at
    /// 700–710 ms (times count from the start of the warm-up, as in the reference).
    pub thalamic_input: bool,
    /// `stimulus_params.py`: `dc_transient`, a 0.3·K_ext pA current step at 650–750 ms (times from the
    /// start of the warm-up), through NEST's dc_generator with its 1 ms default delay.
    pub dc_transient: bool,
    /// Return every spike of the timed simulation.
    pub record_spikes: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            n_scaling: 1.0,
            k_scaling: 1.0,
            t_presim_ms: T_PRESIM_MS,
            t_sim_ms: T_SIM_MS,
            seed: RNG_SEED,
            threads: 1,
            bg_input: BgInput::Dc,
            v0_type: V0Type::Optimized,
            thalamic_input: false,
            dc_transient: false,
            record_spikes: false,
        }
    }
}

/// `np.sum` of 8 contiguous doubles: NumPy's pairwise summation keeps 8 partial sums and combines them
/// as a tree, so plain left-to-right addition would differ in the last bit.
fn numpy_sum8(t: &[f64; NUM_POPS]) -> f64 {
    ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]))
}

/// Round half to even, as `np.round` does.
fn np_round(x: f64) -> f64 {
    x.round_ties_even()
}

fn time_to_steps(name: &'static str, ms: f64, allow_zero: bool) -> Result<u64, Error> {
    let requirement = if allow_zero { ">= 0" } else { "> 0" };
    let bad = || Error::BadTime {
        name,
        value: ms,
        requirement,
        step_ms: RESOLUTION_MS,
    };
    if !ms.is_finite() || ms < 0.0 || (!allow_zero && ms == 0.0) {
        return Err(bad());
    }
    let steps = ms * steps_per_ms();
    let rounded = steps.round();
    if (steps - rounded).abs() > 1e-9 * steps.max(1.0) || rounded > u32::MAX as f64 / 2.0 {
        return Err(bad());
    }
    Ok(rounded as u64)
}

/// Everything `Network.__derive_parameters` computes, plus the step counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// Neurons per population, `np.round(full_num_neurons * N_scaling)`.
    pub num_neurons: [u64; NUM_POPS],
    /// First global id of each population, plus the total at the end.
    pub pop_start: [u64; NUM_POPS + 1],
    /// Full-scale synapse numbers (unrounded), `[target][source]`.
    pub full_num_synapses: [[f64; NUM_POPS]; NUM_POPS],
    /// `np.round(full_num_synapses * N_scaling * K_scaling)`, `[target][source]`.
    pub num_synapses: [[u64; NUM_POPS]; NUM_POPS],
    /// Mean weights (pA), `[target][source]`, after K-scaling.
    pub weight_mean: [[f64; NUM_POPS]; NUM_POPS],
    /// External weight (pA), after K-scaling.
    pub weight_ext: f64,
    /// DC current per population (pA); 0 in Poisson mode unless K-scaling adds compensation.
    pub dc_amp: [f64; NUM_POPS],
    /// `np.round(K_ext * K_scaling)`.
    pub ext_indegree: [u64; NUM_POPS],
    /// Poisson delay in steps.
    pub poisson_delay_steps: u64,
    /// Warm-up steps.
    pub presim_steps: u64,
    /// Timed steps.
    pub sim_steps: u64,
    /// Thalamic synapses per target population (0 without thalamic input): `network.py` rounds
    /// `num_synapses_from_conn_probs(conn_probs_th, 902, full_num_neurons)`, times `K_scaling` if != 1.
    pub num_th_synapses: [u64; NUM_POPS],
    /// Thalamic weight (pA), after K-scaling.
    pub weight_th: f64,
    /// Thalamic neurons in the network (0 or 902).
    pub num_th_neurons: u64,
    /// The thalamic poisson_generator emits at steps `th_first_step..=th_last_step`
    /// (`StimulationDevice::is_active`: start < step <= stop).
    pub th_first_step: u64,
    /// Last emitting step.
    pub th_last_step: u64,
    /// Generator → parrot delay in steps.
    pub th_parrot_delay_steps: u64,
    /// Transient DC amplitude per population (pA), 0 when off: `dc_transient_amp · K_ext`.
    pub dc_transient_amp: [f64; NUM_POPS],
    /// The dc_generator sends at steps `e` with start < e + 2 <= stop (`StimulationDevice::is_active`
    /// shifts current generators by 2 steps): these are the first and last `e`.
    pub dc_transient_emit: (u64, u64),
    /// dc_generator → neuron delay in steps (NEST's default, 1 ms).
    pub dc_transient_delay_steps: u64,
}

impl Derived {
    /// Validate `p` and derive the network's numbers as the reference does.
    pub fn new(p: &Params) -> Result<Derived, Error> {
        for (name, value) in [("n_scaling", p.n_scaling), ("k_scaling", p.k_scaling)] {
            if !value.is_finite() || value <= 0.0 {
                return Err(Error::BadScale { name, value });
            }
        }
        let presim_steps = time_to_steps("t_presim_ms", p.t_presim_ms, true)?;
        let sim_steps = time_to_steps("t_sim_ms", p.t_sim_ms, false)?;
        if presim_steps + sim_steps > u32::MAX as u64 / 2 {
            return Err(Error::TooLarge {
                what: "more steps than a u32 spike step can hold".into(),
            });
        }

        let mut num_neurons = [0u64; NUM_POPS];
        let mut pop_start = [0u64; NUM_POPS + 1];
        for i in 0..NUM_POPS {
            let n = np_round(FULL_NUM_NEURONS[i] as f64 * p.n_scaling);
            if n < 1.0 {
                return Err(Error::EmptyPopulation {
                    population: POPULATIONS[i],
                    n_scaling: p.n_scaling,
                });
            }
            if n > (1u64 << 24) as f64 {
                return Err(Error::TooLarge {
                    what: format!("population {} has {n} neurons", POPULATIONS[i]),
                });
            }
            num_neurons[i] = n as u64;
            pop_start[i + 1] = pop_start[i] + num_neurons[i];
        }
        let total = pop_start[NUM_POPS] as usize;
        if p.threads == 0 || p.threads > total {
            return Err(Error::BadThreads {
                threads: p.threads,
                neurons: total,
            });
        }

        let mut full_num_synapses = [[0.0; NUM_POPS]; NUM_POPS];
        let mut num_synapses = [[0u64; NUM_POPS]; NUM_POPS];
        for i in 0..NUM_POPS {
            for j in 0..NUM_POPS {
                let full = num_synapses_from_conn_prob(CONN_PROBS[i][j], FULL_NUM_NEURONS[i], FULL_NUM_NEURONS[j]);
                full_num_synapses[i][j] = full;
                num_synapses[i][j] = np_round(full * p.n_scaling * p.k_scaling) as u64;
            }
        }
        let mut ext_indegree = [0u64; NUM_POPS];
        for i in 0..NUM_POPS {
            ext_indegree[i] = np_round(K_EXT[i] as f64 * p.k_scaling) as u64;
        }

        let psc_per_psp = psc_over_psp(C_M, TAU_M, TAU_SYN);
        let psp = psp_matrix_mean();
        let mut weight_mean = [[0.0; NUM_POPS]; NUM_POPS];
        for i in 0..NUM_POPS {
            for j in 0..NUM_POPS {
                weight_mean[i][j] = psp[i][j] * psc_per_psp;
            }
        }
        let mut weight_ext = PSP_EXC_MEAN * psc_per_psp;
        // network.py: DC replaces the Poisson drive only in 'dc' mode (helpers.dc_input_compensating_poisson,
        // with the unscaled K_ext).
        let mut dc_amp = [0.0; NUM_POPS];
        if p.bg_input == BgInput::Dc {
            for i in 0..NUM_POPS {
                dc_amp[i] = BG_RATE * K_EXT[i] as f64 * weight_ext * TAU_SYN * 0.001;
            }
        }
        // helpers.adjust_weights_and_input_to_synapse_scaling, applied only when K_scaling != 1.
        if p.k_scaling != 1.0 {
            let sq = p.k_scaling.sqrt();
            let mut new_w = [[0.0; NUM_POPS]; NUM_POPS];
            for i in 0..NUM_POPS {
                let mut terms = [0.0; NUM_POPS];
                for j in 0..NUM_POPS {
                    new_w[i][j] = weight_mean[i][j] / sq;
                    let indegree = full_num_synapses[i][j] / FULL_NUM_NEURONS[i] as f64;
                    terms[j] = weight_mean[i][j] * indegree * FULL_MEAN_RATES[j];
                }
                let input_rec = numpy_sum8(&terms);
                dc_amp[i] += 0.001 * TAU_SYN * (1.0 - sq) * input_rec;
                if p.bg_input == BgInput::Poisson {
                    let input_ext = weight_ext * K_EXT[i] as f64 * BG_RATE;
                    dc_amp[i] += 0.001 * TAU_SYN * (1.0 - sq) * input_ext;
                }
            }
            weight_mean = new_w;
            weight_ext /= sq;
        }
        let poisson_delay_steps = delay_ms_to_steps(DELAY_POISSON) as u64;
        let mut num_th_synapses = [0u64; NUM_POPS];
        let mut weight_th = PSP_TH * psc_per_psp;
        if p.thalamic_input {
            for i in 0..NUM_POPS {
                let mut k = num_synapses_from_conn_prob(CONN_PROBS_TH[i], NUM_TH_NEURONS, FULL_NUM_NEURONS[i]);
                if p.k_scaling != 1.0 {
                    k *= p.k_scaling;
                }
                num_th_synapses[i] = np_round(k) as u64;
            }
            if p.k_scaling != 1.0 {
                weight_th /= p.k_scaling.sqrt();
            }
        }
        let spm = steps_per_ms();
        Ok(Derived {
            num_neurons,
            pop_start,
            full_num_synapses,
            num_synapses,
            weight_mean,
            weight_ext,
            dc_amp,
            ext_indegree,
            poisson_delay_steps,
            presim_steps,
            sim_steps,
            num_th_synapses,
            weight_th,
            num_th_neurons: if p.thalamic_input { NUM_TH_NEURONS } else { 0 },
            th_first_step: (TH_START_MS * spm).round() as u64 + 1,
            th_last_step: ((TH_START_MS + TH_DURATION_MS) * spm).round() as u64,
            th_parrot_delay_steps: delay_ms_to_steps(NEST_DEFAULT_DELAY_MS) as u64,
            dc_transient_amp: if p.dc_transient {
                K_EXT.map(|k| DC_TRANSIENT_AMP * k as f64)
            } else {
                [0.0; NUM_POPS]
            },
            dc_transient_emit: (
                (DC_TRANSIENT_START_MS * spm).round() as u64 - 1,
                ((DC_TRANSIENT_START_MS + DC_TRANSIENT_DUR_MS) * spm).round() as u64 - 2,
            ),
            dc_transient_delay_steps: delay_ms_to_steps(NEST_DEFAULT_DELAY_MS) as u64,
        })
    }

    /// Total neurons.
    pub fn total_neurons(&self) -> usize {
        self.pop_start[NUM_POPS] as usize
    }

    /// Total recurrent synapses.
    pub fn total_synapses(&self) -> u64 {
        self.num_synapses.iter().flatten().sum()
    }

    /// Total thalamic synapses.
    pub fn total_th_synapses(&self) -> u64 {
        self.num_th_synapses.iter().sum()
    }

    /// Sources of the synapse rows: neurons, then the thalamic neurons.
    pub fn total_sources(&self) -> usize {
        self.total_neurons() + self.num_th_neurons as usize
    }

    /// Population of global neuron `id`.
    pub fn pop_of(&self, id: u64) -> usize {
        (0..NUM_POPS).rev().find(|&i| id >= self.pop_start[i]).unwrap_or(0)
    }
}

/// Bytes a simulation will allocate, from the parameters alone (see `crate` docs for the layout).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct MemoryEstimate {
    /// Packed synapses, 8 bytes each.
    pub synapses: u64,
    /// Per-thread CSR offsets (one u64 per source per thread).
    pub offsets: u64,
    /// Per-source delay index (assuming delays up to 64 steps, the full-scale maximum: 66 `u32`s per source
    /// and thread).
    pub delay_index: u64,
    /// Neuron state and per-neuron statistics.
    pub neurons: u64,
    /// Bytes of the source buckets that hold the synapses while connecting (8-byte word + 1-byte source
    /// offset, reserved with 1/8 slack; reserved pages that are never written do not become resident).
    pub connect_transient: u64,
    /// Steady state total.
    pub total: u64,
    /// Peak while connecting: the buckets drain into the final array bucket by bucket and are freed as
    /// they go, so at most about the larger of the two is resident (measured at full scale, 2 threads:
    /// 2.44 GiB resident for this estimate's 2.86 GiB).
    pub peak: u64,
}

/// Estimate the memory of a run before allocating anything.
pub fn memory_estimate(p: &Params) -> Result<MemoryEstimate, Error> {
    let d = Derived::new(p)?;
    let n = d.total_neurons() as u64;
    let syn = d.total_synapses() + d.total_th_synapses();
    let synapses = syn * crate::BYTES_PER_SYNAPSE as u64;
    let sources = d.total_sources() as u64;
    let offsets = p.threads as u64 * (sources + 1) * 8;
    let delay_index = p.threads as u64 * sources * 66 * 4;
    // V, i_ex, i_in, two input cells (f64), refractory counter (u32), statistics (count u32, last u32,
    // two u64 sums).
    let neurons = n * (5 * 8 + 4 + 4 + 4 + 16);
    let connect_transient = syn * 9 * 9 / 8;
    let total = synapses + offsets + delay_index + neurons;
    Ok(MemoryEstimate {
        synapses,
        offsets,
        delay_index,
        neurons,
        connect_transient,
        total,
        peak: total.max(total - synapses + connect_transient),
    })
}
