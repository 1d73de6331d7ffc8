#!/usr/bin/env python3
"""Spike statistics of microcircuit runs (NEST or braingap), per population.

Follows the validation recipe of the model's maintainers (Dasbach, Tetzlaff, Diesmann & Senk
2021, doi:10.3389/fnins.2021.757790, as implemented in INM-6/microcircuit-PD14-model,
PyNEST/reference_data/analyze_reference_data.py and microcircuit.helpers):

  rate  time-averaged firing rate of every neuron of the population over the recorded
        interval (spike count / T), silent neurons included (rate 0);
  cv    coefficient of variation of the inter-spike intervals, std/mean with numpy's
        default ddof=0, for every neuron with more than 2 spikes (>= 3 spikes, >= 2 ISIs);
  cc    Pearson correlation coefficients of the spike counts (bins of 2 ms from the
        start of the recorded interval, numpy.histogram's edges) of all pairs of a random subsample of the population's neurons
        (200 per population as in Dasbach et al. 2021, or the whole population when it is
        smaller; drawn without replacement, silent neurons included, from a fixed seed, so
        every run uses the same neuron indices); pairs with a silent neuron (NaN) dropped,
        as the reference does before the KS test.

A run directory holds spikes.csv (population,neuron,time_ms with time_ms in (0, t_sim_ms]),
timing.json (t_sim_ms, scale, ...) and, optionally, populations.csv (population,neurons).
Population sizes come from populations.csv, else timing.json "population_sizes", else the
model's rule round(full_num_neurons * scale).

Usage: python stats.py DIR [DIR ...] [--json FILE]   (prints a per-population summary)
"""

import argparse
import csv
import json
import os
import sys

import numpy as np

POPULATIONS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
# full-scale population sizes (microcircuit.network_params "full_num_neurons")
FULL_NUM_NEURONS = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
STATISTICS = ["rate", "cv", "cc"]
STAT_LABELS = {
    "rate": "firing rate (spikes/s)",
    "cv": "ISI CV",
    "cc": "spike-count correlation",
}

# analysis parameters (Dasbach et al. 2021; reference_data/params.py uses binsize 2.0 ms)
CC_SAMPLE = 200
CC_BINSIZE_MS = 2.0
CV_MIN_SPIKES = 3
SUBSAMPLE_SEED = 12345


class Run:
    """One run directory: spike trains per population, sizes, timing."""

    def __init__(self, path, t_sim_ms=None):
        self.path = path
        tpath = os.path.join(path, "timing.json")
        self.timing = {}
        if os.path.exists(tpath):
            with open(tpath) as f:
                self.timing = json.load(f)
        self.simulator = self.timing.get("simulator", "unknown")
        self.seed = self.timing.get("seed")
        self.t_sim_ms = float(t_sim_ms if t_sim_ms is not None else self.timing.get("t_sim_ms", 0))
        self.sizes = self._sizes()
        self.neurons, self.times = self._spikes()
        if self.t_sim_ms <= 0:
            last = max((t.max() for t in self.times.values() if t.size), default=0.0)
            self.t_sim_ms = float(np.ceil(last))

    def _sizes(self):
        ppath = os.path.join(self.path, "populations.csv")
        if os.path.exists(ppath):
            with open(ppath, newline="") as f:
                rows = list(csv.DictReader(f))
            if rows:
                key = next((k for k in ("neurons", "size", "n", "count", "num_neurons")
                            if k in rows[0]), None)
                if key is None:
                    raise ValueError(f"{ppath}: no column neurons/size/n/count among {list(rows[0])}")
                sizes = {r["population"]: int(r[key]) for r in rows}
                missing = [p for p in POPULATIONS if p not in sizes]
                if missing:
                    raise ValueError(f"{ppath}: populations missing: {missing}")
                return sizes
        if "population_sizes" in self.timing:
            return {p: int(self.timing["population_sizes"][p]) for p in POPULATIONS}
        scale = self.timing.get("scale")
        if scale is None:
            raise ValueError(f"{self.path}: no populations.csv and no scale in timing.json")
        return {p: int(np.round(n * float(scale))) for p, n in zip(POPULATIONS, FULL_NUM_NEURONS)}

    def _spikes(self):
        spath = os.path.join(self.path, "spikes.csv")
        by_pop_n = {p: [] for p in POPULATIONS}
        by_pop_t = {p: [] for p in POPULATIONS}
        with open(spath) as f:
            header = f.readline().strip().split(",")
            if header[:3] != ["population", "neuron", "time_ms"]:
                raise ValueError(f"{spath}: header {header}, expected population,neuron,time_ms")
            for line in f:
                p, n, t = line.rstrip("\n").split(",")[:3]
                by_pop_n[p].append(int(n))
                by_pop_t[p].append(float(t))
        neurons = {p: np.asarray(by_pop_n[p], dtype=np.int64) for p in POPULATIONS}
        times = {p: np.asarray(by_pop_t[p], dtype=np.float64) for p in POPULATIONS}
        for p in POPULATIONS:
            n = neurons[p]
            if n.size and (n.min() < 0 or n.max() >= self.sizes[p]):
                raise ValueError(f"{spath}: {p} neuron index outside 0..{self.sizes[p] - 1}")
        return neurons, times

    def label(self):
        return f"{self.simulator} seed {self.seed}"


def firing_rates(neurons, n_neurons, t_ms):
    """Time-averaged rate (spikes/s) of each of n_neurons neurons; silent ones give 0."""
    counts = np.bincount(neurons, minlength=n_neurons)
    return counts / (t_ms / 1000.0)


def isi_cvs(neurons, times, min_spikes=CV_MIN_SPIKES):
    """ISI CV (std/mean, ddof=0) of each neuron with at least min_spikes spikes."""
    if neurons.size == 0:
        return np.array([])
    order = np.lexsort((times, neurons))
    n, t = neurons[order], times[order]
    bounds = np.flatnonzero(np.diff(n)) + 1
    cvs = []
    for tn in np.split(t, bounds):
        if tn.size >= min_spikes:
            isi = np.diff(tn)
            m = isi.mean()
            if m > 0:
                cvs.append(isi.std() / m)
    return np.asarray(cvs)


def cc_sample(n_neurons, pop_index, sample=CC_SAMPLE, seed=SUBSAMPLE_SEED):
    """The fixed subsample of neuron indices used for correlations (same for every run)."""
    rng = np.random.default_rng([seed, pop_index])
    k = min(sample, n_neurons)
    return np.sort(rng.choice(n_neurons, size=k, replace=False))


def spike_counts(neurons, times, sample, t_ms, binsize_ms=CC_BINSIZE_MS):
    """Spike counts (len(sample) x bins) in bins of binsize_ms from 0 to t_ms.

    Bins as numpy.histogram with edges 0, binsize, ..., t_ms (as the reference's
    generate_spike_counts): [a, b), the last one [a, t_ms] so a spike at t_ms counts.
    """
    nbins = int(round(t_ms / binsize_ms))
    row = np.full(int(max(neurons.max(initial=-1), sample.max(initial=-1))) + 1, -1)
    row[sample] = np.arange(len(sample))
    rows = row[neurons] if neurons.size else np.array([], dtype=np.int64)
    keep = (rows >= 0) & (times >= 0) & (times <= nbins * binsize_ms)
    b = np.minimum((times[keep] / binsize_ms).astype(np.int64), nbins - 1)
    counts = np.zeros((len(sample), nbins))
    np.add.at(counts, (rows[keep], b), 1)
    return counts


def pairwise_ccs(counts):
    """Correlation coefficients of all pairs (upper triangle), NaN pairs dropped."""
    if counts.shape[0] < 2:
        return np.array([])
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(counts)
    iu = np.triu_indices(counts.shape[0], k=1)
    v = c[iu]
    return v[np.isfinite(v)]


def run_statistics(run, cc_sample_size=CC_SAMPLE, binsize_ms=CC_BINSIZE_MS,
                   cv_min_spikes=CV_MIN_SPIKES, seed=SUBSAMPLE_SEED):
    """{population: {"rate": array, "cv": array, "cc": array}} for one run."""
    out = {}
    for i, p in enumerate(POPULATIONS):
        n, t = run.neurons[p], run.times[p]
        sample = cc_sample(run.sizes[p], i, cc_sample_size, seed)
        out[p] = {
            "rate": firing_rates(n, run.sizes[p], run.t_sim_ms),
            "cv": isi_cvs(n, t, cv_min_spikes),
            "cc": pairwise_ccs(spike_counts(n, t, sample, run.t_sim_ms, binsize_ms)),
        }
    return out


def summary(values):
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return {"n": 0, "mean": None, "std": None, "median": None}
    return {"n": int(v.size), "mean": float(v.mean()), "std": float(v.std()),
            "median": float(np.median(v))}


def add_analysis_args(p):
    p.add_argument("--cc-sample", type=int, default=CC_SAMPLE,
                   help=f"neurons per population for correlations (default {CC_SAMPLE})")
    p.add_argument("--binsize-ms", type=float, default=CC_BINSIZE_MS,
                   help=f"spike-count bin for correlations (default {CC_BINSIZE_MS})")
    p.add_argument("--cv-min-spikes", type=int, default=CV_MIN_SPIKES,
                   help=f"spikes a neuron needs for its ISI CV (default {CV_MIN_SPIKES})")
    p.add_argument("--subsample-seed", type=int, default=SUBSAMPLE_SEED,
                   help=f"seed of the correlation subsample (default {SUBSAMPLE_SEED})")


def analysis_kwargs(a):
    return dict(cc_sample_size=a.cc_sample, binsize_ms=a.binsize_ms,
                cv_min_spikes=a.cv_min_spikes, seed=a.subsample_seed)


def main(argv=None):
    p = argparse.ArgumentParser(description="Per-population spike statistics of microcircuit runs")
    p.add_argument("dirs", nargs="+", help="run directories (spikes.csv, timing.json)")
    p.add_argument("--json", help="write the summaries here")
    add_analysis_args(p)
    a = p.parse_args(argv)
    result = {}
    for d in a.dirs:
        run = Run(d)
        st = run_statistics(run, **analysis_kwargs(a))
        result[d] = {pop: {s: summary(st[pop][s]) for s in STATISTICS} for pop in POPULATIONS}
        print(f"{d} ({run.label()}, T = {run.t_sim_ms:g} ms)")
        print(f"  {'pop':5} {'N':>6} {'rate mean':>10} {'CV mean (n)':>16} {'CC mean (pairs)':>22}")
        for pop in POPULATIONS:
            r, c, k = (result[d][pop][s] for s in STATISTICS)
            fmt = lambda x, w, d=3: f"{x:{w}.{d}f}" if x is not None else " " * (w - 1) + "-"
            print(f"  {pop:5} {run.sizes[pop]:6d} {fmt(r['mean'], 10)} "
                  f"{fmt(c['mean'], 8)} ({c['n']:5d}) {fmt(k['mean'], 12, 5)} ({k['n']:7d})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
