//! A network split over "ranks" (OS threads of this process exchanging spikes through
//! [`LocalExchange`]), each simulating only its share: the union of their spikes equals one process's
//! spikes exactly, for DC and Poisson background and with thalamic input, and the merged statistics equal
//! the one-process result.

use braingap_microcircuit::{
    spike_fingerprint, BgInput, Error, LocalExchange, Params, SimResult, Simulation, SpikeExchange,
};

fn small(bg_input: BgInput, threads: usize) -> Params {
    Params {
        n_scaling: 0.02,
        k_scaling: 1.0,
        bg_input,
        threads,
        seed: 12345,
        ..Params::default()
    }
}

/// What one rank (or the one process) returns: the recorded spikes of the first `record` steps, then
/// after `warm` untimed steps and two timed windows of `timed` steps, its own result and the merged one.
struct Run {
    recorded: Vec<(u32, u32)>,
    own: SimResult,
    global: SimResult,
    stored_bytes: u64,
}

fn drive(sim: &mut Simulation, record: u64, warm: u64, timed: u64) -> Run {
    let recorded = sim.record(record);
    sim.warm_up(warm);
    sim.advance(timed / 2);
    sim.advance(timed - timed / 2);
    Run {
        recorded,
        own: sim.result(),
        global: sim.global_result(),
        stored_bytes: sim.stored_bytes(),
    }
}

fn partitioned(p: &Params, ranks: usize, steps: (u64, u64, u64)) -> Vec<Run> {
    std::thread::scope(|sc| {
        let handles: Vec<_> = LocalExchange::group(ranks)
            .into_iter()
            .map(|ex| {
                let p = p.clone();
                sc.spawn(move || {
                    let mut sim = Simulation::partitioned(&p, Box::new(ex)).unwrap();
                    drive(&mut sim, steps.0, steps.1, steps.2)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn union(runs: &[Run], f: impl Fn(&Run) -> &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut all: Vec<(u32, u32)> = runs.iter().flat_map(|r| f(r).iter().copied()).collect();
    all.sort_unstable_by_key(|&(id, s)| (s, id));
    all
}

fn assert_same(got: &[(u32, u32)], want: &[(u32, u32)], what: &str) {
    if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
        panic!(
            "{what}: spike {i} differs: partitioned {:?}, one process {:?}",
            got[i], want[i]
        );
    }
    assert_eq!(got.len(), want.len(), "{what}: spike counts differ");
}

/// The merged result equals the one-process result in everything but times and per-thread rows.
fn assert_same_result(got: &SimResult, want: &SimResult, what: &str) {
    assert_eq!(got.counts, want.counts, "{what}: counts");
    assert_eq!(got.spike_fingerprint, want.spike_fingerprint, "{what}: fingerprint");
    assert_eq!(got.spikes, want.spikes, "{what}: recorded spikes");
    assert_eq!(got.max_delay_steps, want.max_delay_steps, "{what}: max delay");
    for (g, w) in got.populations.iter().zip(&want.populations) {
        assert_eq!(
            (&g.name, g.neurons, g.spikes, g.cv_neurons),
            (&w.name, w.neurons, w.spikes, w.cv_neurons),
            "{what}"
        );
        assert_eq!(g.rate_hz.to_bits(), w.rate_hz.to_bits(), "{what}: {} rate", g.name);
        assert_eq!(
            g.mean_isi_cv.to_bits(),
            w.mean_isi_cv.to_bits(),
            "{what}: {} CV",
            g.name
        );
    }
}

fn check(p: &Params, steps: (u64, u64, u64), min_spikes: usize) {
    let one = {
        let mut sim = Simulation::new(&Params {
            threads: 2,
            ..p.clone()
        })
        .unwrap();
        drive(&mut sim, steps.0, steps.1, steps.2)
    };
    assert!(
        one.recorded.len() >= 30,
        "only {} spikes recorded: the comparison would say little",
        one.recorded.len()
    );
    let timed = one.global.spikes.as_ref().unwrap();
    assert!(timed.len() >= min_spikes, "only {} timed spikes", timed.len());
    assert_eq!(one.global.spike_fingerprint, spike_fingerprint(timed));
    for ranks in [2, 3] {
        let what = format!("{:?}, thalamic {}, {ranks} ranks", p.bg_input, p.thalamic_input);
        let runs = partitioned(p, ranks, steps);
        assert_same(&union(&runs, |r| &r.recorded), &one.recorded, &what);
        assert_same(
            &union(&runs, |r| r.own.spikes.as_deref().unwrap()),
            timed,
            &format!("{what}, timed"),
        );
        for r in &runs {
            assert_same_result(&r.global, &one.global, &what);
            assert_eq!(r.global.ranks, ranks);
            assert_eq!(r.global.thread_times.len(), ranks * p.threads);
            // Each rank holds only its share of the network.
            assert!(r.own.counts.neurons < one.global.counts.neurons);
            assert!(r.stored_bytes < one.stored_bytes, "{what}: {} bytes", r.stored_bytes);
        }
        let owned: u64 = runs.iter().map(|r| r.own.counts.synapses).sum();
        assert_eq!(owned, one.global.counts.synapses, "{what}: every synapse on one rank");
        let spikes: u64 = runs.iter().map(|r| r.own.counts.spikes).sum();
        assert_eq!(spikes, one.global.counts.spikes);
    }
}

#[test]
fn dc_input_is_bit_identical_over_ranks() {
    let p = Params {
        record_spikes: true,
        ..small(BgInput::Dc, 1)
    };
    check(&p, (200, 300, 1000), 200);
}

#[test]
fn poisson_input_is_bit_identical_over_ranks() {
    let p = Params {
        record_spikes: true,
        ..small(BgInput::Poisson, 2)
    };
    check(&p, (200, 300, 1000), 200);
}

#[test]
fn thalamic_input_is_bit_identical_over_ranks() {
    // The thalamic pulse is at 700–710 ms: the timed window 690–740 ms holds it.
    let p = Params {
        record_spikes: true,
        thalamic_input: true,
        ..small(BgInput::Dc, 1)
    };
    let one = simulate_window(&p);
    assert!(one.counts.thalamic_events > 0);
    check(&p, (100, 6800, 500), 100);
}

fn simulate_window(p: &Params) -> SimResult {
    let mut sim = Simulation::new(p).unwrap();
    sim.warm_up(6900);
    sim.advance(500);
    sim.result()
}

#[test]
fn too_many_parts_is_an_error_naming_threads() {
    let p = small(BgInput::Dc, 1);
    let blocks = braingap_microcircuit::connect::blocks(&braingap_microcircuit::Derived::new(&p).unwrap()).len();
    let mut ex = LocalExchange::group(1);
    let err = Simulation::partitioned(
        &Params {
            threads: blocks + 1,
            ..p.clone()
        },
        Box::new(ex.pop().unwrap()),
    )
    .err()
    .unwrap();
    assert!(matches!(err, Error::TooManyParts { .. }), "{err}");
    assert!(err.to_string().contains("threads"), "{err}");
    // Exactly one block per part is fine.
    let mut ex = LocalExchange::group(1);
    let sim = Simulation::partitioned(&Params { threads: blocks, ..p }, Box::new(ex.pop().unwrap())).unwrap();
    assert_eq!(sim.partition().ranks, 1);
}

#[test]
fn local_exchange_gathers_in_rank_order() {
    let got: Vec<Vec<Vec<u32>>> = std::thread::scope(|sc| {
        let hs: Vec<_> = LocalExchange::group(3)
            .into_iter()
            .map(|mut ex| {
                sc.spawn(move || {
                    let r = ex.partition().rank as u32;
                    let mut all = vec![Vec::new(); 3];
                    let mut seen = Vec::new();
                    for round in 0..50u32 {
                        let mine: Vec<u32> = (0..r + round % 3).map(|k| 1000 * r + k + round).collect();
                        ex.all_gather(&mine, &mut all);
                        seen.push(all.concat());
                    }
                    seen
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(got[0], got[1]);
    assert_eq!(got[1], got[2]);
    assert_eq!(got[0][4], vec![4, 1004, 1005, 2004, 2005, 2006]);
}
