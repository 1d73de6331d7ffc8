//! The stepped form gives what the one-shot form gives: the same spikes, counts and rates when
//! the timed phase is cut into windows, and a recorded window leaves the statistics untouched.

use braingap_microcircuit::{simulate, Params, PopulationStats, Simulation};

/// Equal field by field, a NaN CV (no neuron with 3 spikes) equal to itself.
fn same(a: &[PopulationStats], b: &[PopulationStats]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            (
                &x.name,
                x.neurons,
                x.spikes,
                x.cv_neurons,
                x.rate_hz.to_bits(),
                x.mean_isi_cv.to_bits(),
            ) == (
                &y.name,
                y.neurons,
                y.spikes,
                y.cv_neurons,
                y.rate_hz.to_bits(),
                y.mean_isi_cv.to_bits(),
            )
        })
}

fn small(threads: usize) -> Params {
    Params {
        n_scaling: 0.02,
        k_scaling: 1.0,
        t_presim_ms: 50.0,
        t_sim_ms: 100.0,
        threads,
        record_spikes: true,
        ..Params::default()
    }
}

#[test]
fn windows_add_up_to_the_one_shot_run() {
    for threads in [1, 2] {
        let p = small(threads);
        let whole = simulate(&p).unwrap();
        let mut sim = Simulation::new(&p).unwrap();
        sim.warm_up(500);
        let mut events = 0;
        let mut updates = 0;
        for _ in 0..10 {
            let w = sim.advance(100);
            assert_eq!(w.steps, 100);
            assert!(w.wall_s > 0.0);
            events += w.recurrent_events;
            updates += w.neuron_updates;
        }
        let stepped = sim.result();
        assert_eq!(stepped.spikes, whole.spikes, "{threads} threads: spikes differ");
        assert_eq!(stepped.counts, whole.counts, "{threads} threads");
        assert!(same(&stepped.populations, &whole.populations), "{threads} threads");
        assert_eq!(events, whole.counts.recurrent_events);
        assert_eq!(updates, whole.counts.neuron_updates);
        assert!(whole.counts.recurrent_events > 0, "the network is active");
    }
}

#[test]
fn a_recorded_window_is_not_counted() {
    let p = Params {
        record_spikes: false,
        ..small(2)
    };
    let whole = simulate(&p).unwrap();
    let mut sim = Simulation::new(&p).unwrap();
    let first = sim.record(200);
    assert!(
        first.windows(2).all(|w| (w[0].1, w[0].0) < (w[1].1, w[1].0)),
        "sorted by step, then id"
    );
    assert!(first.iter().all(|&(_, s)| s < 200));
    sim.warm_up(300);
    sim.advance(1000);
    let stepped = sim.result();
    assert_eq!(stepped.counts, whole.counts);
    assert!(same(&stepped.populations, &whole.populations));
    assert_eq!(stepped.spikes, None);
    // The recorded spikes are the one-shot run's warm-up spikes of those steps.
    let mut again = Simulation::new(&p).unwrap();
    assert_eq!(again.record(200), first);
}
