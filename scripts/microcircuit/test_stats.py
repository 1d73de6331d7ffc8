#!/usr/bin/env python3
"""Tests of stats.py and compare.py on synthetic spike trains (pure Python, a few seconds).

Run: python -m pytest scripts/microcircuit/test_stats.py   or   python scripts/microcircuit/test_stats.py
(numpy and scipy needed: .venv-nest has them).
"""

import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
import stats  # noqa: E402


def poisson_train(rng, rate_hz, t_ms):
    n = rng.poisson(rate_hz * t_ms / 1000.0)
    return np.sort(rng.uniform(0.0, t_ms, n))


def test_rates_recovered_and_silent_neurons_counted():
    rng = np.random.default_rng(1)
    t_ms = 10_000.0
    neurons, times = [], []
    for i in range(50):  # neurons 0..49 fire at 5 Hz; 50..99 are silent
        tr = poisson_train(rng, 5.0, t_ms)
        neurons += [i] * tr.size
        times += list(tr)
    r = stats.firing_rates(np.array(neurons), 100, t_ms)
    assert r.shape == (100,)
    assert np.all(r[50:] == 0.0)
    assert abs(r[:50].mean() - 5.0) < 0.2, r[:50].mean()
    # exact: a neuron with 7 spikes in 2 s fires at 3.5 Hz
    assert stats.firing_rates(np.array([3] * 7), 4, 2000.0)[3] == 3.5


def test_poisson_cv_near_one_regular_cv_zero():
    rng = np.random.default_rng(2)
    t_ms = 20_000.0
    neurons, times = [], []
    for i in range(40):
        tr = poisson_train(rng, 10.0, t_ms)
        neurons += [i] * tr.size
        times += list(tr)
    cvs = stats.isi_cvs(np.array(neurons), np.array(times))
    assert cvs.size == 40
    assert abs(np.mean(cvs) - 1.0) < 0.05, np.mean(cvs)

    reg_t = np.arange(10.0, 1000.0, 25.0)  # perfectly regular, 40 Hz
    cvs = stats.isi_cvs(np.zeros(reg_t.size, dtype=np.int64), reg_t)
    assert cvs.size == 1 and cvs[0] < 1e-12


def test_cv_needs_three_spikes_and_ignores_order():
    n = np.array([0, 0, 1, 1, 1, 2])
    t = np.array([5.0, 1.0, 30.0, 10.0, 20.0, 3.0])  # unsorted on purpose
    cvs = stats.isi_cvs(n, t)
    assert cvs.size == 1 and cvs[0] < 1e-12  # only neuron 1 (3 spikes, ISIs 10, 10)
    cvs = stats.isi_cvs(np.array([0, 0, 0]), np.array([0.0, 1.0, 4.0]))
    assert abs(cvs[0] - np.std([1.0, 3.0]) / 2.0) < 1e-12  # ddof=0, as the reference


def test_identical_trains_correlation_one_independent_near_zero():
    rng = np.random.default_rng(3)
    t_ms = 10_000.0
    base = poisson_train(rng, 20.0, t_ms)
    other = poisson_train(rng, 20.0, t_ms)
    neurons = np.concatenate([np.zeros(base.size), np.ones(base.size), np.full(other.size, 2)]).astype(np.int64)
    times = np.concatenate([base, base, other])
    counts = stats.spike_counts(neurons, times, np.array([0, 1, 2]), t_ms, 2.0)
    assert counts.shape == (3, 5000)
    assert counts.sum() == times.size
    ccs = stats.pairwise_ccs(counts)  # pairs (0,1), (0,2), (1,2)
    assert ccs.size == 3
    assert abs(ccs[0] - 1.0) < 1e-12
    assert abs(ccs[1]) < 0.05 and abs(ccs[2]) < 0.05


def test_silent_neuron_pairs_dropped_and_bin_edges():
    counts = stats.spike_counts(np.array([0, 0, 1]), np.array([0.5, 2.0, 1000.0]),
                                np.array([0, 1, 2]), 1000.0, 2.0)
    assert counts[0, 0] == 1 and counts[0, 1] == 1  # [0, 2) and [2, 4)
    assert counts[1, -1] == 1  # a spike at exactly T falls in the last bin
    ccs = stats.pairwise_ccs(counts)  # neuron 2 is silent: pairs with it are NaN, dropped
    assert ccs.size == 1


def test_cc_sample_fixed_and_capped():
    a = stats.cc_sample(1000, 0)
    b = stats.cc_sample(1000, 0)
    assert a.size == 200 and np.array_equal(a, b) and np.unique(a).size == 200
    assert not np.array_equal(a, stats.cc_sample(1000, 1))
    assert np.array_equal(stats.cc_sample(21, 5), np.arange(21))


def test_ks_identical_zero_and_disjoint_one():
    x = np.random.default_rng(4).normal(size=500)
    assert compare.ks(x, x) == 0.0
    assert compare.ks(x, x + 100.0) == 1.0
    assert compare.ks(x, np.array([])) is None


def test_verdict_rule():
    assert compare.verdict([0.1, 0.2, 0.3], [0.1, 0.4, 0.44], "median", 1.5) == ("within", 0.4)
    assert compare.verdict([0.1, 0.2, 0.3], [0.5, 0.5, 0.1], "median", 1.5)[0] == "outside"
    assert compare.verdict([0.1, 0.2, 0.3], [0.1, 0.1, 0.31], "max", 1.0)[0] == "outside"
    assert compare.verdict([None], [0.1], "median", 1.5)[0] == "n/a"


def write_run(d, simulator, seed, trains, sizes, t_ms):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "spikes.csv"), "w") as f:
        f.write("population,neuron,time_ms\n")
        for pop, (n, t) in trains.items():
            for a, b in zip(n, t):
                f.write(f"{pop},{a},{b:.3f}\n")
    with open(os.path.join(d, "populations.csv"), "w") as f:
        f.write("population,neurons\n")
        for pop in stats.POPULATIONS:
            f.write(f"{pop},{sizes[pop]}\n")
    with open(os.path.join(d, "timing.json"), "w") as f:
        json.dump({"simulator": simulator, "seed": seed, "t_sim_ms": t_ms, "scale": 0.01,
                   "k_scale": 1.0, "input": "dc", "threads": 1, "t_presim_ms": 0.0,
                   "build_s": 1.0, "connect_s": 1.0, "simulate_s": 2.0, "rtf": 2.0,
                   "peak_rss_bytes": 2**20 * 100, "synaptic_events": 1e6}, f)


def synthetic_run(d, simulator, seed, rate_factor=1.0, t_ms=2000.0):
    rng = np.random.default_rng(seed)
    sizes = {p: 60 for p in stats.POPULATIONS}
    trains = {}
    for pop in stats.POPULATIONS:
        rates = rng.lognormal(np.log(4.0), 0.8, sizes[pop]) * rate_factor
        n, t = [], []
        for i, r in enumerate(rates):
            tr = poisson_train(rng, r, t_ms)
            tr = tr[tr > 0]
            n += [i] * tr.size
            t += list(tr)
        trains[pop] = (n, t)
    write_run(d, simulator, seed, trains, sizes, t_ms)


def test_run_roundtrip_and_compare_end_to_end():
    with tempfile.TemporaryDirectory() as tmp:
        nest = [os.path.join(tmp, f"n{s}") for s in (1, 2, 3)]
        good = [os.path.join(tmp, f"g{s}") for s in (11, 12)]
        bad = [os.path.join(tmp, f"b{s}") for s in (21, 22)]
        for d, s in zip(nest, (1, 2, 3)):
            synthetic_run(d, "nest", s)
        for d, s in zip(good, (11, 12)):
            synthetic_run(d, "braingap", s)
        for d, s in zip(bad, (21, 22)):
            synthetic_run(d, "braingap", s, rate_factor=4.0)

        run = stats.Run(nest[0])
        assert run.sizes["L23E"] == 60 and run.t_sim_ms == 2000.0
        st = stats.run_statistics(run)
        assert st["L23E"]["rate"].size == 60
        assert 0.7 < np.mean(st["L23E"]["cv"]) < 1.3
        assert st["L5I"]["cc"].size <= 60 * 59 // 2

        # NEST-NEST baseline only: exit 0
        md_path = os.path.join(tmp, "r.md")
        js_path = os.path.join(tmp, "r.json")
        assert compare.main(["--nest", *nest, "--markdown", md_path, "--json", js_path]) == 0
        doc = json.load(open(js_path))
        assert doc["verdict"] is None and len(doc["ks"]["L4E"]["rate"]["nn"]) == 3

        # braingap with 4x rates: rate distributions far outside the NEST-NEST range -> exit 1
        assert compare.main(["--nest", *nest, "--braingap", *bad, "--json", js_path,
                             "--markdown", md_path]) == 1
        doc = json.load(open(js_path))
        assert all(doc["ks"][p]["rate"]["verdict"] == "outside" for p in stats.POPULATIONS)
        assert doc["performance"]["rtf"]["ratio_braingap_over_nest"] == 1.0
        assert "Verdict: OUTSIDE" in open(md_path).read()

        # same distribution as NEST: the rate cells are within
        compare.main(["--nest", *nest, "--braingap", *good, "--json", js_path, "--markdown", md_path])
        doc = json.load(open(js_path))
        within = sum(doc["ks"][p]["rate"]["verdict"] == "within" for p in stats.POPULATIONS)
        assert within >= 7, within


def test_sizes_fallback_from_scale():
    with tempfile.TemporaryDirectory() as tmp:
        synthetic_run(tmp, "braingap", 5)
        os.remove(os.path.join(tmp, "populations.csv"))
        with open(os.path.join(tmp, "timing.json")) as f:
            t = json.load(f)
        t["scale"] = 0.1
        with open(os.path.join(tmp, "timing.json"), "w") as f:
            json.dump(t, f)
        run = stats.Run(tmp)
        assert run.sizes["L23E"] == 2068 and run.sizes["L5I"] == 106  # round(full * 0.1)


if __name__ == "__main__":
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_") and callable(v)]
    for t in tests:
        t()
        print(f"ok  {t.__name__}")
    print(f"{len(tests)} tests passed")
