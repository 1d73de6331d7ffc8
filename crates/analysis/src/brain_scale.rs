//! From one measured microcircuit to bigger brains: what a model larger than this machine
//! (the multi-area model, a human brain) would need at the microcircuit's level of detail, in
//! memory, machines and watts, extrapolated from this machine's measured costs.
//!
//! The costs come from one microcircuit benchmark (`microcircuit.csv`): core-seconds per
//! delivered synaptic event (delivery seconds × threads ÷ events) and per neuron update
//! (update seconds × threads ÷ updates), bytes per synapse (exact, the simulator's layout) and
//! per neuron (the simulator's memory estimate less the synapses). A target model needs, per
//! second of biological time, synapses × mean rate events and neurons × 10,000 updates
//! (0.1 ms steps). Everything here is MODELED: costs measured at one size are assumed to hold
//! at another (cache behaviour changes with size), barrier waits and communication between
//! machines are left out, so machine counts are lower bounds.

use serde::Serialize;

/// Steps per biological second at the microcircuit's 0.1 ms resolution.
pub const STEPS_PER_S: f64 = 1e4;

/// A network to project to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetModel {
    /// Short name.
    pub name: &'static str,
    /// Neurons.
    pub neurons: f64,
    /// Synapses.
    pub synapses: f64,
    /// Mean firing rate range, spikes/s (low, high).
    pub rate_hz: (f64, f64),
    /// Where the figures come from.
    pub source: &'static str,
}

/// The full microcircuit's mean rate under the reference's DC input: its published
/// per-population rates weighted by population size (PyPI `microcircuit` 1.0).
pub const MICROCIRCUIT_MEAN_RATE_HZ: f64 = 3.24;

/// The models projected to: the full microcircuit, the multi-area model and a human brain.
pub fn target_models() -> Vec<TargetModel> {
    vec![
        TargetModel {
            name: "microcircuit (full scale)",
            neurons: 77_169.0,
            synapses: 2.99e8,
            rate_hz: (MICROCIRCUIT_MEAN_RATE_HZ, MICROCIRCUIT_MEAN_RATE_HZ),
            source: "Potjans & Diesmann 2014; rates of the reference implementation (PyPI microcircuit 1.0)",
        },
        TargetModel {
            name: "multi-area model (macaque visual cortex)",
            neurons: 4.13e6,
            synapses: 2.42e10,
            rate_hz: (MICROCIRCUIT_MEAN_RATE_HZ, MICROCIRCUIT_MEAN_RATE_HZ),
            source: "Schmidt et al. 2018 (PLoS Comput Biol 14:e1006359): 32 areas of 1 mm² microcircuits; \
                     rate assumed as the microcircuit's",
        },
        TargetModel {
            name: "human brain",
            neurons: 8.606e10,
            synapses: 1.5e14,
            rate_hz: (0.16, 10.0),
            source: "Azevedo et al. 2009 neurons, Drachman 2005 synapses (data/species.csv); rates 0.16 Hz \
                     (Lennie 2003) to 10 Hz (State of Brain Emulation 2025), data/raw/brain_compute_estimates.csv",
        },
    ]
}

/// This machine's costs, from one measured microcircuit benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuredCosts {
    /// The benchmark they come from.
    pub benchmark: String,
    /// Threads the simulation ran on (the cores a machine like this one contributes).
    pub threads: f64,
    /// Core-seconds per delivered recurrent synaptic event.
    pub core_s_per_event: f64,
    /// Core-seconds per neuron update.
    pub core_s_per_update: f64,
    /// Bytes per synapse (exact: the simulator's layout).
    pub bytes_per_synapse: f64,
    /// Bytes per neuron (the simulator's memory estimate less its synapses).
    pub bytes_per_neuron: f64,
    /// This machine's memory, bytes, if known.
    pub machine_memory_bytes: Option<f64>,
    /// This machine's power while simulating, W, and where it comes from (`rapl`, `modeled`).
    pub watts: Option<(f64, String)>,
}

/// What one microcircuit benchmark recorded (a row of its run's `microcircuit.csv`), as
/// `MeasuredCosts::new` and the report need it.
#[derive(Debug, Clone, PartialEq)]
pub struct CostInputs {
    /// Benchmark name.
    pub benchmark: String,
    /// Neurons simulated.
    pub neurons: f64,
    /// Synapses stored.
    pub synapses: f64,
    /// Threads.
    pub threads: f64,
    /// Bytes per synapse.
    pub bytes_per_synapse: f64,
    /// The simulator's memory estimate, bytes.
    pub memory_estimate_bytes: f64,
    /// Biological seconds timed.
    pub bio_s: f64,
    /// Wall seconds of the timed phase.
    pub wall_s: f64,
    /// Mean per-thread seconds updating neurons.
    pub update_s: f64,
    /// Mean per-thread seconds delivering spikes.
    pub deliver_s: f64,
    /// Recurrent synaptic events in the timed phase.
    pub recurrent_events: f64,
}

impl CostInputs {
    /// Recurrent events per second of delivery (all threads together).
    pub fn delivery_events_per_s(&self) -> Option<f64> {
        (self.deliver_s > 0.0).then(|| self.recurrent_events / self.deliver_s)
    }
}

/// The human brain among [`target_models`].
pub fn human_brain() -> TargetModel {
    target_models()
        .into_iter()
        .find(|m| m.name == "human brain")
        .expect("target_models has the human brain")
}

impl MeasuredCosts {
    /// Costs from `inputs`; `None` when the benchmark timed nothing or delivered no event.
    pub fn new(
        inputs: &CostInputs,
        machine_memory_bytes: Option<f64>,
        watts: Option<(f64, String)>,
    ) -> Option<MeasuredCosts> {
        let updates = inputs.neurons * inputs.bio_s * STEPS_PER_S;
        // A GPU run measures no per-thread delivery and update times: core-seconds do not
        // describe it, and it projects nothing here.
        if inputs.recurrent_events <= 0.0
            || updates <= 0.0
            || inputs.threads <= 0.0
            || inputs.deliver_s <= 0.0
            || inputs.update_s <= 0.0
        {
            return None;
        }
        Some(MeasuredCosts {
            benchmark: inputs.benchmark.clone(),
            threads: inputs.threads,
            core_s_per_event: inputs.deliver_s * inputs.threads / inputs.recurrent_events,
            core_s_per_update: inputs.update_s * inputs.threads / updates,
            bytes_per_synapse: inputs.bytes_per_synapse,
            bytes_per_neuron: ((inputs.memory_estimate_bytes - inputs.synapses * inputs.bytes_per_synapse)
                / inputs.neurons)
                .max(0.0),
            machine_memory_bytes,
            watts,
        })
    }
}

/// One model projected onto machines like this one. Pairs are (at the low rate, at the high).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// The model.
    pub model: TargetModel,
    /// Memory the model needs at this simulator's bytes per synapse and neuron.
    pub memory_bytes: f64,
    /// Wall seconds per biological second on one machine like this one, if memory allowed.
    pub real_time_factor: (f64, f64),
    /// Machines whose cores together keep real time (no communication cost: a lower bound).
    pub machines_for_real_time: (f64, f64),
    /// Machines whose memory together holds the model, if this machine's memory is known.
    pub machines_for_memory: Option<f64>,
    /// Machines needed: the larger of the two.
    pub machines: (f64, f64),
    /// Their power, W, if this machine's power is known.
    pub watts: Option<(f64, f64)>,
    /// Power ÷ the brain's 20 W.
    pub watts_over_brain: Option<(f64, f64)>,
}

/// The brain's power, W (`data/species.csv`).
pub const BRAIN_WATTS: f64 = 20.0;

/// Projects `model` onto machines with `costs`.
pub fn project(model: &TargetModel, costs: &MeasuredCosts) -> Projection {
    let memory_bytes = model.synapses * costs.bytes_per_synapse + model.neurons * costs.bytes_per_neuron;
    let rtf = |rate: f64| {
        (model.synapses * rate * costs.core_s_per_event + model.neurons * STEPS_PER_S * costs.core_s_per_update)
            / costs.threads
    };
    let real_time_factor = (rtf(model.rate_hz.0), rtf(model.rate_hz.1));
    let for_time = (real_time_factor.0.ceil().max(1.0), real_time_factor.1.ceil().max(1.0));
    let machines_for_memory = costs.machine_memory_bytes.map(|m| (memory_bytes / m).ceil().max(1.0));
    let machines = (
        for_time.0.max(machines_for_memory.unwrap_or(1.0)),
        for_time.1.max(machines_for_memory.unwrap_or(1.0)),
    );
    let watts = costs.watts.as_ref().map(|(w, _)| (machines.0 * w, machines.1 * w));
    Projection {
        model: model.clone(),
        memory_bytes,
        real_time_factor,
        machines_for_real_time: for_time,
        machines_for_memory,
        machines,
        watts,
        watts_over_brain: watts.map(|(a, b)| (a / BRAIN_WATTS, b / BRAIN_WATTS)),
    }
}

/// `x` to 2 significant figures: plain between 0.01 and 10,000 ("3.0", "200", "0.33"), else
/// in scientific notation ("1.7e6").
pub fn sig2(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || !(0.01..1e4).contains(&a) {
        return format!("{x:.1e}");
    }
    let e = a.log10().floor() as i32;
    if e >= 1 {
        let unit = 10f64.powi(e - 1);
        return format!("{:.0}", (x / unit).round() * unit);
    }
    let decimals = (1 - e) as usize;
    format!("{x:.decimals$}")
}

/// One figure when both ends agree to 2 significant figures, else "low–high".
pub fn range(pair: (f64, f64)) -> String {
    let (a, b) = (sig2(pair.0), sig2(pair.1));
    if a == b {
        a
    } else {
        format!("{a}–{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs() -> MeasuredCosts {
        // 1e9 events in 2 s of delivery on 2 threads: 4e-9 core-s per event; 1e4 neurons for 1 s
        // (1e8 updates) in 0.5 s on 2 threads: 1e-8 core-s per update.
        MeasuredCosts::new(
            &CostInputs {
                benchmark: "b".into(),
                neurons: 1e4,
                synapses: 1e8,
                threads: 2.0,
                bytes_per_synapse: 8.0,
                memory_estimate_bytes: 8e8 + 1e4 * 100.0,
                bio_s: 1.0,
                wall_s: 2.5,
                update_s: 0.5,
                deliver_s: 2.0,
                recurrent_events: 1e9,
            },
            Some(16e9),
            Some((100.0, "modeled".into())),
        )
        .unwrap()
    }

    #[test]
    fn costs_are_core_seconds_per_unit_of_work() {
        let c = costs();
        assert!((c.core_s_per_event - 4e-9).abs() < 1e-20);
        assert!((c.core_s_per_update - 1e-8).abs() < 1e-20);
        assert!((c.bytes_per_neuron - 100.0).abs() < 1e-9);
    }

    #[test]
    fn a_projection_adds_event_and_update_time_and_takes_the_larger_machine_count() {
        let model = TargetModel {
            name: "m",
            neurons: 1e6,
            synapses: 1e10,
            rate_hz: (1.0, 10.0),
            source: "test",
        };
        let p = project(&model, &costs());
        // 1e10 events/s × 4e-9 + 1e10 updates/s × 1e-8 = 40 + 100 core-s per s, ÷ 2 cores = 70.
        assert!((p.real_time_factor.0 - 70.0).abs() < 1e-9, "{:?}", p.real_time_factor);
        // 1e11 events/s: 400 + 100 = 500 ÷ 2 = 250.
        assert!((p.real_time_factor.1 - 250.0).abs() < 1e-9);
        // 1e10 × 8 + 1e6 × 100 = 8.01e10 bytes over 16e9 per machine: 6 machines (5.0 rounds up).
        assert_eq!(p.machines_for_memory, Some(6.0));
        assert_eq!(p.machines, (70.0, 250.0));
        assert_eq!(p.watts, Some((7000.0, 25000.0)));
        assert_eq!(p.watts_over_brain, Some((350.0, 1250.0)));
    }

    #[test]
    fn nothing_delivered_gives_no_costs() {
        let mut inputs = CostInputs {
            benchmark: "b".into(),
            neurons: 1e4,
            synapses: 1e8,
            threads: 2.0,
            bytes_per_synapse: 8.0,
            memory_estimate_bytes: 1e9,
            bio_s: 1.0,
            wall_s: 2.5,
            update_s: 0.5,
            deliver_s: 2.0,
            recurrent_events: 0.0,
        };
        assert!(MeasuredCosts::new(&inputs, None, None).is_none());
        inputs.recurrent_events = 1.0;
        inputs.bio_s = 0.0;
        assert!(MeasuredCosts::new(&inputs, None, None).is_none());
        // A GPU run's row: no per-thread phase times.
        inputs.bio_s = 1.0;
        assert!(MeasuredCosts::new(&inputs, None, None).is_some());
        inputs.deliver_s = 0.0;
        inputs.update_s = 0.0;
        assert!(MeasuredCosts::new(&inputs, None, None).is_none());
    }

    #[test]
    fn ranges_collapse_when_equal_and_read_plainly() {
        assert_eq!(range((1234.0, 1240.0)), "1200");
        assert_eq!(sig2(3.04), "3.0");
        assert_eq!(sig2(9.96), "10.0");
        assert_eq!(range((3.0, 3.04)), "3.0");
        assert_eq!(range((1.0e3, 4.5e4)), "1000–4.5e4");
        assert_eq!(sig2(0.33), "0.33");
        assert_eq!(sig2(200.0), "200");
        assert_eq!(sig2(1.7e6), "1.7e6");
        assert_eq!(sig2(2.4e-14), "2.4e-14");
    }
}
