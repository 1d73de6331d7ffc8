//! The optimized simulator against the naive reference (`reference::spikes`): identical spike trains for DC
//! and Poisson background, two network scales, two in-degree scales, 1–3 threads and several seeds; and
//! planted bugs in the reference's synapses that the comparison must catch.

use std::time::Instant;

use braingap_microcircuit::reference::{self, Synapse};
use braingap_microcircuit::{BgInput, Params, Simulation};

fn params(n_scaling: f64, k_scaling: f64, bg_input: BgInput, seed: u64) -> Params {
    Params {
        n_scaling,
        k_scaling,
        bg_input,
        seed,
        ..Params::default()
    }
}

/// Panics with the first differing spike, not two dumps of thousands.
fn assert_same(got: &[(u32, u32)], want: &[(u32, u32)], what: &str) {
    if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
        panic!(
            "{what}: spike {i} differs: optimized {:?}, reference {:?}",
            got[i], want[i]
        );
    }
    assert_eq!(got.len(), want.len(), "{what}: spike counts differ");
}

/// The reference for 500 and 2000 steps against fresh optimized simulations with 1, 2 and 3 threads;
/// `min` are floors on the spike counts of the two runs (about half of what the seeds give), so that
/// equality is not vacuous.
fn check(p: &Params, min: [usize; 2]) {
    let t0 = Instant::now();
    let want_long = reference::spikes(p, 2000).unwrap();
    let ref_s = t0.elapsed().as_secs_f64();
    let want_short = reference::spikes(p, 500).unwrap();
    let prefix = want_long.partition_point(|&(_, s)| s < 500);
    assert_eq!(
        want_short,
        want_long[..prefix],
        "the reference's first 500 steps are its own prefix"
    );
    let counts = [want_short.len(), want_long.len()];
    assert!(
        counts[0] >= min[0] && counts[1] >= min[1],
        "{p:?}: {counts:?} spikes, too quiet"
    );
    for threads in 1..=3 {
        let q = Params { threads, ..p.clone() };
        let what = format!(
            "N {} K {} {:?} seed {} threads {threads}",
            q.n_scaling, q.k_scaling, q.bg_input, q.seed
        );
        assert_same(
            &Simulation::new(&q).unwrap().record(500),
            &want_short,
            &format!("{what}, 500 steps"),
        );
        assert_same(
            &Simulation::new(&q).unwrap().record(2000),
            &want_long,
            &format!("{what}, 2000 steps"),
        );
    }
    eprintln!(
        "N {} K {} {:?} seed {}: {counts:?} spikes in 500 and 2000 steps, reference (2000 steps) {ref_s:.2} s",
        p.n_scaling, p.k_scaling, p.bg_input, p.seed
    );
}

// At K_scaling 0.1 with DC input the network is nearly silent in its first 200 ms (~0.1 Hz): those cases
// mostly check the neuron update and the DC, with a few dozen spikes through recurrent delivery.

#[test]
fn dc_small_networks_match() {
    for seed in [55, 1, 2024] {
        check(&params(0.02, 1.0, BgInput::Dc, seed), [100, 1000]);
        check(&params(0.02, 0.1, BgInput::Dc, seed), [4, 20]);
    }
}

#[test]
fn poisson_small_networks_match() {
    for seed in [55, 1, 2024] {
        check(&params(0.02, 1.0, BgInput::Poisson, seed), [100, 1000]);
        check(&params(0.02, 0.1, BgInput::Poisson, seed), [80, 400]);
    }
}

#[test]
fn dc_larger_networks_match() {
    check(&params(0.05, 1.0, BgInput::Dc, 7), [400, 2000]);
    check(&params(0.05, 0.1, BgInput::Dc, 7), [12, 50]);
}

#[test]
fn poisson_larger_networks_match() {
    check(&params(0.05, 1.0, BgInput::Poisson, 7), [150, 1300]);
    check(&params(0.05, 0.1, BgInput::Poisson, 7), [250, 1000]);
}

#[test]
fn time_the_reference() {
    let p = params(0.05, 1.0, BgInput::Dc, 55);
    let t0 = Instant::now();
    let n = reference::spikes(&p, 500).unwrap().len();
    let total_s = t0.elapsed().as_secs_f64();
    assert!(n > 0);
    // Most of it is the connectivity build, which Simulation::new with one thread also does.
    let t1 = Instant::now();
    let sim = Simulation::new(&p).unwrap();
    let build_s = t1.elapsed().as_secs_f64();
    eprintln!(
        "reference::spikes, N 0.05 K 1, 500 steps: {total_s:.2} s ({n} spikes); Simulation::new, 1 thread: \
         {build_s:.2} s ({} synapses)",
        sim.derived().total_synapses()
    );
}

/// A planted bug: a change to one source's outgoing synapses.
type Bug = fn(&mut [Synapse]);

/// A planted bug in the reference's synapses must change the spikes: the comparison can fail. The bugs
/// sit on the outgoing synapses of the first excitatory neuron to spike: one synapse 1000× too strong
/// (its target must fire), and, for all its synapses, an off-by-one delay, weights 1 % too strong and the
/// wrong channel. (A single synapse's delay off by one or its weight off by 1 % need not show within
/// 200 ms: each neuron has thousands of inputs and a reset erases most of a small perturbation.)
#[test]
fn planted_bugs_are_caught() {
    for bg in [BgInput::Dc, BgInput::Poisson] {
        let p = params(0.02, 1.0, bg, 55);
        let steps = 2000;
        let mut sim = Simulation::new(&p).unwrap();
        let want = sim.record(steps);
        assert_eq!(reference::spikes_with(&p, steps, |_| {}).unwrap(), want, "no tampering");
        let d = sim.derived();
        let &(src, _) = want
            .iter()
            .find(|&&(id, _)| d.pop_of(id as u64).is_multiple_of(2))
            .expect("an excitatory spike");
        let planted: [(&str, Bug); 4] = [
            ("one synapse, weight × 1000", |r| r[0].weight *= 1000.0),
            ("all delays + 1", |r| r.iter_mut().for_each(|s| s.delay += 1)),
            ("all weights × 1.01", |r| r.iter_mut().for_each(|s| s.weight *= 1.01)),
            ("all to the inhibitory channel", |r| {
                r.iter_mut().for_each(|s| s.weight = -s.weight)
            }),
        ];
        for (what, f) in planted {
            let got = reference::spikes_with(&p, steps, |out| f(&mut out[src as usize])).unwrap();
            assert!(got != want, "{bg:?}: neuron {src}, {what}: not caught");
        }
    }
}

/// The thalamic pulse (700–710 ms) and the transient DC (650–750 ms), which the harness does not use,
/// match as well: 760 ms from the start, 1 and 3 threads.
#[test]
fn thalamus_and_dc_transient_match() {
    let p = Params {
        thalamic_input: true,
        dc_transient: true,
        ..params(0.02, 1.0, BgInput::Dc, 55)
    };
    let steps = 7600;
    let want = reference::spikes(&p, steps).unwrap();
    let in_pulse = want.iter().filter(|&&(_, s)| (7000..7200).contains(&s)).count();
    let before = want.iter().filter(|&&(_, s)| (6000..6200).contains(&s)).count();
    assert!(
        in_pulse > 2 * before + 100,
        "the pulse drives the network: {in_pulse} vs {before} spikes"
    );
    for threads in [1, 3] {
        let q = Params { threads, ..p.clone() };
        assert_same(
            &Simulation::new(&q).unwrap().record(steps),
            &want,
            &format!("thalamus, threads {threads}"),
        );
    }
    // Without them the run differs (the inputs do reach the network).
    let plain = reference::spikes(&params(0.02, 1.0, BgInput::Dc, 55), steps).unwrap();
    let first_differing = want.iter().zip(&plain).position(|(a, b)| a != b).map(|i| want[i].1);
    assert!(
        first_differing.is_some_and(|s| s >= 6500),
        "first difference at {first_differing:?}"
    );
}
