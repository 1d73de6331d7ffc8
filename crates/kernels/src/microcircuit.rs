//! `microcircuit`: the Potjans & Diesmann (2014) cortical microcircuit, simulated by the
//! `braingap-microcircuit` crate (`crates/microcircuit`) as its reference implementation
//! (the PyNEST package `microcircuit` 1.0) specifies it.
//!
//! One call is 1 ms of biological time (10 steps of 0.1 ms), so the median time per call ×
//! 1000 is the real-time factor (wall time ÷ biological time) and `events_per_call` is the
//! recurrent synaptic events per biological millisecond, counted exactly (Σ over spikes of
//! the source's out-degree; METHODS.md "synaptic event"). Network construction and the
//! reference's 500 ms warm-up happen while the benchmark is prepared and verified, outside
//! any timed region; their wall times are written to `microcircuit.csv` in the run directory.
//!
//! Counting: no analytic FLOPs or bytes per call (the work depends on the spikes the network
//! emits): the row's throughput is its events per second, and the bytes delivery touches per
//! event are stated in `microcircuit.csv` (`bytes_per_event`, a model of the data layout).

use super::{ParamValue, Params};
use crate::units::{Bytes, Flops};

/// Biological time of one call.
pub const MS_PER_CALL: f64 = 1.0;

/// Whether `value` is a usable N_scaling or K_scaling: a number in (0, 1] (1 is the full model).
pub fn valid_scale(value: f64) -> bool {
    value.is_finite() && value > 0.0 && value <= 1.0
}

/// Background input of the microcircuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    /// Constant current equivalent to the Poisson background (the reference's default).
    Dc,
    /// Independent Poisson trains at 8 Hz per external synapse.
    Poisson,
}

impl Input {
    /// Name as written in options and results (`dc`, `poisson`).
    pub fn as_str(self) -> &'static str {
        match self {
            Input::Dc => "dc",
            Input::Poisson => "poisson",
        }
    }
}

impl std::str::FromStr for Input {
    type Err = String;
    fn from_str(s: &str) -> Result<Input, String> {
        match s {
            "dc" => Ok(Input::Dc),
            "poisson" => Ok(Input::Poisson),
            other => Err(format!("unknown input kind {other:?} (known: dc, poisson)")),
        }
    }
}

/// One microcircuit benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Microcircuit {
    /// `N_scaling`: neurons per population × this.
    pub scale: f64,
    /// `K_scaling`: in-degrees × this (weights ÷ √K_scaling, DC compensated).
    pub k_scale: f64,
    /// Background input.
    pub input: Input,
    /// Seed of connectivity, initial potentials and input.
    pub seed: u64,
    /// Untimed warm-up before the timed calls, ms (the reference's 500).
    pub warmup_ms: f64,
}

impl Microcircuit {
    /// The reference's set-up at `scale` (N_scaling) and `k_scale` (K_scaling), DC input, seed 55
    /// (the reference's `rng_seed`), 500 ms warm-up.
    pub fn at_scale(scale: f64, k_scale: f64) -> Microcircuit {
        Microcircuit {
            scale,
            k_scale,
            input: Input::Dc,
            seed: 55,
            warmup_ms: 500.0,
        }
    }

    /// Parameters as numbers (`poisson` is 0 for DC input, 1 for Poisson).
    pub fn params(&self) -> Params {
        vec![
            ("scale", ParamValue::Float(self.scale)),
            ("k_scale", ParamValue::Float(self.k_scale)),
            ("poisson", ParamValue::Int(u64::from(self.input == Input::Poisson))),
            ("seed", ParamValue::Int(self.seed)),
        ]
    }

    /// No analytic FLOPs: see the module docs.
    pub fn flops(&self) -> Flops {
        Flops(0.0)
    }

    /// No analytic bytes: see the module docs.
    pub fn bytes(&self) -> Bytes {
        Bytes(0.0)
    }

    /// The simulator's own estimate of the memory the network needs, or 0 where the
    /// parameters are invalid (the backend then reports why).
    pub fn buffer_bytes(&self) -> u64 {
        self.sim_params(1)
            .ok()
            .and_then(|p| braingap_microcircuit::memory_estimate(&p).ok())
            .map_or(0, |m| m.peak)
    }

    /// The simulator's parameters for this benchmark on `threads` threads (no timed
    /// biological time: the runner decides how many calls it times).
    pub fn sim_params(&self, threads: usize) -> Result<braingap_microcircuit::Params, String> {
        if !valid_scale(self.scale) {
            return Err(format!("scale {} must lie in (0, 1]", self.scale));
        }
        if !valid_scale(self.k_scale) {
            return Err(format!("k_scale {} must lie in (0, 1]", self.k_scale));
        }
        let mut p = braingap_microcircuit::Params {
            n_scaling: self.scale,
            k_scaling: self.k_scale,
            seed: self.seed,
            threads,
            t_presim_ms: self.warmup_ms,
            ..braingap_microcircuit::Params::default()
        };
        p.bg_input = match self.input {
            Input::Dc => braingap_microcircuit::BgInput::Dc,
            Input::Poisson => braingap_microcircuit::BgInput::Poisson,
        };
        Ok(p)
    }
}
