//! The CPU backend's microcircuit: the `braingap-microcircuit` crate behind [`Prepared`].
//!
//! Preparing builds and connects the network (untimed). Verifying runs its first
//! [`VERIFY_MS`] of biological time and compares every spike, bit for bit, with the crate's
//! naive reference simulator (plain NEST-style ring buffers, one thread), then warms the
//! network up for the rest of the reference's 500 ms, untimed. Each timed call is 1 ms of
//! biological time; a batch's events are the recurrent synaptic events it delivered, counted
//! exactly. After the last batch the per-population activity and the phase times become the
//! run's `populations.csv` and `microcircuit.csv`, and the spikes of a further [`RASTER_MS`]
//! (untimed, uncounted) its `spikes.csv`.

use super::{BackendError, Batch, Observation, Prepared};
use crate::kernels::microcircuit::{Microcircuit, MS_PER_CALL};
use crate::kernels::Verification;
use crate::units::Seconds;
use braingap_microcircuit::{params::RESOLUTION_MS, reference, Params, Simulation, POPULATIONS};

/// Biological time whose spikes are checked against the reference before anything is timed.
pub const VERIFY_MS: f64 = 20.0;

/// Biological time recorded after the timed calls for the report's raster (`spikes.csv`),
/// untimed and left out of every count.
pub const RASTER_MS: f64 = 100.0;

/// The full-scale reference rates of the model's authors (DC input, spikes/s; the PyPI
/// package `microcircuit` 1.0), in [`POPULATIONS`] order. Only comparable at N and K scaling 1.
pub const REFERENCE_RATES_HZ: [f64; 8] = [0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829];

/// A built network.
pub struct MicrocircuitRun {
    kernel: Microcircuit,
    params: Params,
    sim: Simulation,
}

fn steps(ms: f64) -> u64 {
    (ms / RESOLUTION_MS).round() as u64
}

impl MicrocircuitRun {
    /// Builds and connects the network of `kernel` on `threads` threads.
    pub fn new(kernel: &Microcircuit, threads: usize, benchmark: &str) -> Result<MicrocircuitRun, BackendError> {
        let setup = |reason: String| BackendError::Unsupported {
            backend: "cpu".into(),
            benchmark: benchmark.into(),
            reason,
        };
        let params = kernel.sim_params(threads).map_err(setup)?;
        let sim = Simulation::new(&params).map_err(|e| setup(e.to_string()))?;
        Ok(MicrocircuitRun {
            kernel: kernel.clone(),
            params,
            sim,
        })
    }
}

impl Prepared for MicrocircuitRun {
    fn verify(&mut self) -> Verification {
        if self.sim.step() > 0 {
            return Verification::failed("the network has already been stepped: verify runs once, first");
        }
        let check_steps = steps(VERIFY_MS.min(self.kernel.warmup_ms));
        let expected = match reference::spikes(&self.params, check_steps) {
            Ok(s) => s,
            Err(e) => return Verification::failed(format!("the reference simulator cannot run this network: {e}")),
        };
        let got = self.sim.record(check_steps);
        let checked = expected.len().max(got.len()) as u64;
        let verification = match expected.iter().zip(&got).position(|(a, b)| a != b) {
            None if expected.len() == got.len() => Verification::exact(
                checked,
                format!(
                    "all {} spikes of the first {VERIFY_MS} ms identical to the naive reference simulator's",
                    expected.len()
                ),
            ),
            first => {
                let at = first.unwrap_or(expected.len().min(got.len()));
                Verification::failed(format!(
                    "spike {at} differs from the naive reference simulator's: {:?} (neuron, step) against {:?} \
                     ({} spikes against {})",
                    got.get(at),
                    expected.get(at),
                    got.len(),
                    expected.len()
                ))
            }
        };
        if verification.passed {
            let rest = steps(self.kernel.warmup_ms).saturating_sub(check_steps);
            self.sim.warm_up(rest);
        }
        verification
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let window = self.sim.advance(iters * steps(MS_PER_CALL));
        Batch {
            elapsed: Seconds(window.wall_s),
            events: window.recurrent_events,
        }
    }

    fn observations(&mut self) -> Vec<Observation> {
        let result = self.sim.result();
        // The raster: the next RASTER_MS after the timed calls (the counts above are taken first;
        // `record` leaves them as they are).
        let start_step = self.sim.step();
        let derived = self.sim.derived().clone();
        let raster = Observation {
            file: "spikes.csv",
            columns: vec!["population", "neuron", "time_ms"],
            rows: self
                .sim
                .record(steps(RASTER_MS))
                .into_iter()
                .map(|(id, step)| {
                    vec![
                        POPULATIONS[derived.pop_of(id as u64)].to_string(),
                        id.to_string(),
                        // NEST stamps a spike of step s at (s + 1)·h; times from the raster's start.
                        format!("{:.1}", (step as u64 + 1 - start_step) as f64 * RESOLUTION_MS),
                    ]
                })
                .collect(),
        };
        let full_scale = self.kernel.scale == 1.0 && self.kernel.k_scale == 1.0;
        let number = |v: f64| if v.is_finite() { format!("{v}") } else { String::new() };
        let populations = Observation {
            file: "populations.csv",
            columns: vec![
                "population",
                "neurons",
                "spikes",
                "rate_hz",
                "isi_cv",
                "isi_cv_neurons",
                "reference_rate_hz",
            ],
            rows: result
                .populations
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    vec![
                        POPULATIONS[i].to_string(),
                        p.neurons.to_string(),
                        p.spikes.to_string(),
                        number(p.rate_hz),
                        // No neuron fired 3 times: no CV, left empty rather than NaN.
                        number(p.mean_isi_cv),
                        p.cv_neurons.to_string(),
                        if full_scale && self.kernel.input == crate::kernels::microcircuit::Input::Dc {
                            number(REFERENCE_RATES_HZ[i])
                        } else {
                            String::new()
                        },
                    ]
                })
                .collect(),
        };
        let c = &result.counts;
        let t = &result.times;
        let bio_s = c.steps as f64 * RESOLUTION_MS * 1e-3;
        let microcircuit = Observation {
            file: "microcircuit.csv",
            columns: vec![
                "neurons",
                "synapses",
                "threads",
                "bytes_per_synapse",
                "memory_estimate_bytes",
                "connect_s",
                "build_s",
                "warmup_s",
                "simulated_bio_s",
                "simulated_wall_s",
                "real_time_factor",
                "update_s",
                "deliver_s",
                "wait_s",
                "spikes",
                "recurrent_events",
                "external_events",
                "events_per_s",
                "bytes_per_event",
            ],
            rows: vec![vec![
                c.neurons.to_string(),
                c.synapses.to_string(),
                self.params.threads.to_string(),
                result.bytes_per_synapse.to_string(),
                result.memory.total.to_string(),
                number(t.connect_s),
                number(t.build_s),
                number(t.warmup_s),
                number(bio_s),
                number(t.sim_s),
                number(result.real_time_factor),
                number(t.update_s),
                number(t.deliver_s),
                number(t.wait_s),
                c.spikes.to_string(),
                c.recurrent_events.to_string(),
                c.external_events.to_string(),
                number(c.recurrent_events as f64 / t.sim_s),
                result.bytes_per_event.to_string(),
            ]],
        };
        vec![populations, microcircuit, raster]
    }
}
