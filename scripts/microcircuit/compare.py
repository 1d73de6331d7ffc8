#!/usr/bin/env python3
"""Compare braingap microcircuit runs with NEST runs (several seeds each).

For each population and each statistic (rate, ISI CV, spike-count correlation; see stats.py)
it computes the two-sample Kolmogorov-Smirnov distance (scipy.stats.ks_2samp statistic)
between the distributions of

  NN: every pair of NEST seeds (the model's own seed-to-seed variability), and
  BN: every (braingap seed, NEST seed) pair,

and gives the verdict (rule "median", the default):

  within   if median(BN) <= TOLERANCE x max(NN)     (TOLERANCE default 1.5)
  outside  otherwise

or with --rule max (stricter): within if max(BN) <= TOLERANCE x max(NN).

Why not max(BN) <= max(NN): for a simulator whose output has exactly NEST's distribution the
BN and NN distances are exchangeable, so with 3 NEST and 3 braingap seeds the largest of the
12 distances is a BN one about 3 times in 4 and that rule says "outside" for ~75% of the 24
(population, statistic) cells. median(BN) <= 1.5 max(NN) says "outside" for about 1% of
cells with 3 NEST seeds (and < 0.5% with 5) in synthetic tests, while a 20% shift of a
distribution of ~1000 neurons is flagged in most cells. See docs/microcircuit-nest.md.

Also: per-population mean rates (mean and seed-to-seed standard deviation over seeds), and
speed and memory (simulate time, RTF, synaptic events/s, peak RSS, build/connect time) with
braingap/NEST ratios of the means over seeds.

Without braingap runs it reports the NEST-NEST ranges only (the baseline). Writes markdown to
stdout or --markdown FILE and everything to --json FILE. Exits 1 if any cell is "outside",
2 on bad input.
"""

import argparse
import datetime
import itertools
import json
import os
import platform
import sys

import numpy as np
from scipy.stats import ks_2samp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stats  # noqa: E402
from stats import POPULATIONS, STATISTICS, STAT_LABELS  # noqa: E402

DEFAULT_TOLERANCE = 1.5


def ks(a, b):
    """KS distance; None when either sample is empty (e.g. no neuron with 3 spikes)."""
    if len(a) == 0 or len(b) == 0:
        return None
    return float(ks_2samp(a, b).statistic)


def verdict(nn, bn, rule, tolerance):
    nn = [x for x in nn if x is not None]
    bn = [x for x in bn if x is not None]
    if not nn or not bn:
        return "n/a", None
    ref = tolerance * max(nn)
    value = float(np.median(bn)) if rule == "median" else max(bn)
    return ("within" if value <= ref else "outside"), value


def mean_std(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None
    return float(np.mean(xs)), float(np.std(xs, ddof=1)) if len(xs) > 1 else 0.0


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


PERF_FIELDS = [
    ("build_s", "build (create) s"),
    ("connect_s", "connect s"),
    ("simulate_s", "simulate s"),
    ("rtf", "RTF (wall/bio)"),
    ("events_per_s", "synaptic events/s"),
    ("peak_rss_bytes", "peak RSS MiB"),
]


def perf_value(timing, key):
    v = timing.get(key)
    if key == "events_per_s" and v is None:
        ev, s = timing.get("synaptic_events"), timing.get("simulate_s")
        if ev is not None and s:
            v = ev / s
    if key == "peak_rss_bytes" and v is not None:
        v = v / 2**20
    return v


def compare(nest_runs, bg_runs, rule, tolerance, akw):
    nest_stats = [stats.run_statistics(r, **akw) for r in nest_runs]
    bg_stats = [stats.run_statistics(r, **akw) for r in bg_runs]
    cells = {}
    any_outside = False
    for pop in POPULATIONS:
        cells[pop] = {}
        for s in STATISTICS:
            nn = [ks(nest_stats[i][pop][s], nest_stats[j][pop][s])
                  for i, j in itertools.combinations(range(len(nest_runs)), 2)]
            bn = [ks(b[pop][s], n[pop][s]) for b in bg_stats for n in nest_stats]
            nnv = [x for x in nn if x is not None]
            cell = {
                "nn": nn,
                "nn_min": min(nnv) if nnv else None,
                "nn_mean": float(np.mean(nnv)) if nnv else None,
                "nn_max": max(nnv) if nnv else None,
                "samples_nest": [len(x[pop][s]) for x in nest_stats],
            }
            if bg_runs:
                bnv = [x for x in bn if x is not None]
                v, value = verdict(nn, bn, rule, tolerance)
                cell.update(
                    bn=bn,
                    bn_min=min(bnv) if bnv else None,
                    bn_median=float(np.median(bnv)) if bnv else None,
                    bn_max=max(bnv) if bnv else None,
                    samples_braingap=[len(x[pop][s]) for x in bg_stats],
                    verdict=v,
                    tested_value=value,
                    threshold=tolerance * max(nnv) if nnv else None,
                )
                any_outside |= v == "outside"
            cells[pop][s] = cell
    rates = {}
    for pop in POPULATIONS:
        rates[pop] = {}
        for name, runs_stats in (("nest", nest_stats), ("braingap", bg_stats)):
            if runs_stats:
                m, sd = mean_std([float(np.mean(x[pop]["rate"])) for x in runs_stats])
                cvm, cvsd = mean_std([float(np.mean(x[pop]["cv"])) if len(x[pop]["cv"]) else None
                                      for x in runs_stats])
                ccm, ccsd = mean_std([float(np.mean(x[pop]["cc"])) if len(x[pop]["cc"]) else None
                                      for x in runs_stats])
                rates[pop][name] = {"rate_mean": m, "rate_sd_over_seeds": sd,
                                    "cv_mean": cvm, "cv_sd_over_seeds": cvsd,
                                    "cc_mean": ccm, "cc_sd_over_seeds": ccsd,
                                    "per_seed": [float(np.mean(x[pop]["rate"])) for x in runs_stats]}
    perf = {}
    for key, _ in PERF_FIELDS:
        perf[key] = {}
        for name, runs in (("nest", nest_runs), ("braingap", bg_runs)):
            if runs:
                perf[key][name] = mean_std([perf_value(r.timing, key) for r in runs])
        n = perf[key].get("nest", (None, None))[0]
        b = perf[key].get("braingap", (None, None))[0]
        perf[key]["ratio_braingap_over_nest"] = b / n if (b is not None and n) else None
    return cells, rates, perf, any_outside


def fmt(x, d=3):
    if x is None:
        return "–"
    if isinstance(x, float) and (abs(x) >= 1e5 or (0 < abs(x) < 1e-3)):
        return f"{x:.3g}"
    return f"{x:.{d}f}"


def setup_line(runs):
    t = runs[0].timing
    keys = ["scale", "k_scale", "input", "threads", "t_sim_ms", "t_presim_ms"]
    return ", ".join(f"{k} {t.get(k)}" for k in keys)


def markdown(nest_runs, bg_runs, cells, rates, perf, rule, tolerance, akw, any_outside):
    L = []
    have_bg = bool(bg_runs)
    L.append("# Microcircuit: braingap vs NEST" if have_bg else "# Microcircuit: NEST vs NEST baseline")
    L.append("")
    L.append(f"Generated {datetime.datetime.now().isoformat(timespec='seconds')} on {cpu_model()}, "
             f"{os.cpu_count()} CPUs.")
    nv = nest_runs[0].timing.get("version", "?")
    L.append(f"NEST {nv} runs ({setup_line(nest_runs)}), seeds "
             f"{', '.join(str(r.seed) for r in nest_runs)}.")
    if have_bg:
        L.append(f"braingap runs ({setup_line(bg_runs)}), seeds "
                 f"{', '.join(str(r.seed) for r in bg_runs)}.")
    else:
        L.append("No braingap runs: NEST–NEST distances only (the ranges braingap is judged against).")
    L.append("")
    L.append(f"Statistics (Dasbach et al. 2021 recipe): rate of every neuron; ISI CV of neurons with "
             f">= {akw['cv_min_spikes']} spikes; spike-count correlation coefficients of all pairs of "
             f"{akw['cc_sample_size']} random neurons per population (all if fewer), "
             f"{akw['binsize_ms']:g} ms bins, NaN pairs dropped.")
    if have_bg:
        what = "median" if rule == "median" else "max"
        L.append("")
        L.append(f"**Rule**: a cell is *within* if {what}(braingap–NEST KS distances) <= "
                 f"{tolerance:g} × max(NEST–NEST KS distances), else *outside*. "
                 f"NN: {len(nest_runs) * (len(nest_runs) - 1) // 2} NEST seed pairs; "
                 f"BN: {len(bg_runs) * len(nest_runs)} braingap×NEST pairs.")
        n_out = sum(c["verdict"] == "outside" for p in cells.values() for c in p.values())
        L.append("")
        L.append(f"**Verdict: {'OUTSIDE' if any_outside else 'WITHIN'}** "
                 f"({n_out} of {len(POPULATIONS) * len(STATISTICS)} cells outside).")
    L.append("")
    L.append("## KS distances")
    L.append("")
    if have_bg:
        L.append("| population | statistic | NEST–NEST min / mean / max | braingap–NEST min / median / max | threshold | verdict |")
        L.append("|---|---|---|---|---|---|")
    else:
        L.append("| population | statistic | NEST–NEST min | mean | max | samples per seed |")
        L.append("|---|---|---|---|---|---|")
    for pop in POPULATIONS:
        for s in STATISTICS:
            c = cells[pop][s]
            if have_bg:
                L.append(f"| {pop} | {s} | {fmt(c['nn_min'])} / {fmt(c['nn_mean'])} / {fmt(c['nn_max'])} | "
                         f"{fmt(c['bn_min'])} / {fmt(c['bn_median'])} / {fmt(c['bn_max'])} | "
                         f"{fmt(c['threshold'])} | {c['verdict']} |")
            else:
                L.append(f"| {pop} | {s} | {fmt(c['nn_min'])} | {fmt(c['nn_mean'])} | {fmt(c['nn_max'])} | "
                         f"{', '.join(str(n) for n in c['samples_nest'])} |")
    L.append("")
    L.append("## Per-population means (mean ± standard deviation over seeds)")
    L.append("")
    head = "| population | NEST rate (spikes/s) | NEST ISI CV | NEST correlation |"
    sep = "|---|---|---|---|"
    if have_bg:
        head += " braingap rate | braingap ISI CV | braingap correlation |"
        sep += "---|---|---|"
    L.append(head)
    L.append(sep)
    for pop in POPULATIONS:
        row = f"| {pop} |"
        for name in ("nest", "braingap") if have_bg else ("nest",):
            r = rates[pop][name]
            row += (f" {fmt(r['rate_mean'])} ± {fmt(r['rate_sd_over_seeds'])} |"
                    f" {fmt(r['cv_mean'])} ± {fmt(r['cv_sd_over_seeds'])} |"
                    f" {fmt(r['cc_mean'], 4)} ± {fmt(r['cc_sd_over_seeds'], 4)} |")
        L.append(row)
    L.append("")
    L.append("## Speed and memory (mean ± standard deviation over seeds)")
    L.append("")
    if have_bg:
        L.append("| quantity | NEST | braingap | braingap ÷ NEST |")
        L.append("|---|---|---|---|")
    else:
        L.append("| quantity | NEST |")
        L.append("|---|---|")
    for key, label in PERF_FIELDS:
        p = perf[key]
        n = p.get("nest", (None, None))
        row = f"| {label} | {fmt(n[0])} ± {fmt(n[1])} |"
        if have_bg:
            b = p.get("braingap", (None, None))
            row += f" {fmt(b[0])} ± {fmt(b[1])} | {fmt(p['ratio_braingap_over_nest'])} |"
        L.append(row)
    t = nest_runs[0].timing
    L.append("")
    L.append(f"NEST network: {t.get('neurons')} neurons, {t.get('synapses')} synapses; NEST synaptic "
             f"events = Σ over populations of spikes × mean recurrent out-degree. Timings are "
             f"wall-clock; 'simulate CPU s' well below threads × 'simulate s', or a load average "
             f"above the CPU count, means other processes shared the cores.")
    L.append("")
    L.append("Per-run timings:")
    L.append("")
    L.append("| run | build s | connect s | presim s | simulate s | simulate CPU s | RTF | peak RSS MiB | spikes | load (1 min) |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in list(nest_runs) + list(bg_runs):
        t = r.timing
        rss = t.get("peak_rss_bytes")
        L.append(f"| {r.label()} | {fmt(t.get('build_s'), 2)} | {fmt(t.get('connect_s'), 2)} | "
                 f"{fmt(t.get('presim_s'), 2)} | {fmt(t.get('simulate_s'), 2)} | "
                 f"{fmt(t.get('simulate_cpu_s'), 2)} | {fmt(t.get('rtf'), 2)} | "
                 f"{fmt(rss / 2**20 if rss else None, 0)} | {t.get('spikes')} | "
                 f"{fmt(t.get('loadavg_1min_end'), 1)} |")
    L.append("")
    return "\n".join(L)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--nest", nargs="+", required=True, help="NEST run directories (>= 2 seeds)")
    p.add_argument("--braingap", nargs="*", default=[], help="braingap run directories")
    p.add_argument("--rule", choices=["median", "max"], default="median",
                   help="statistic of the braingap–NEST distances compared (default median)")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                   help=f"factor on max(NEST–NEST) (default {DEFAULT_TOLERANCE})")
    p.add_argument("--markdown", help="write the markdown report here (else stdout)")
    p.add_argument("--json", help="write all numbers here")
    stats.add_analysis_args(p)
    a = p.parse_args(argv)
    if len(a.nest) < 2:
        print("compare: need at least 2 NEST runs (seeds) for NEST–NEST distances", file=sys.stderr)
        return 2
    try:
        nest_runs = [stats.Run(d) for d in a.nest]
        bg_runs = [stats.Run(d) for d in a.braingap]
    except (OSError, ValueError) as e:
        print(f"compare: {e}", file=sys.stderr)
        return 2
    for r in bg_runs:
        for k in ("scale", "k_scale", "t_sim_ms", "input"):
            if k in r.timing and k in nest_runs[0].timing and r.timing[k] != nest_runs[0].timing[k]:
                print(f"compare: warning: {r.path} has {k} {r.timing[k]}, NEST runs "
                      f"{nest_runs[0].timing[k]}", file=sys.stderr)
    akw = stats.analysis_kwargs(a)
    cells, rates, perf, any_outside = compare(nest_runs, bg_runs, a.rule, a.tolerance, akw)
    md = markdown(nest_runs, bg_runs, cells, rates, perf, a.rule, a.tolerance, akw, any_outside)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(md + "\n")
    else:
        print(md)
    if a.json:
        doc = {
            "rule": {"name": a.rule, "tolerance": a.tolerance,
                     "text": f"within iff {a.rule}(braingap-NEST KS) <= {a.tolerance} * max(NEST-NEST KS)"},
            "analysis": akw,
            "nest_runs": [{"path": r.path, "timing": r.timing} for r in nest_runs],
            "braingap_runs": [{"path": r.path, "timing": r.timing} for r in bg_runs],
            "ks": cells,
            "populations": rates,
            "performance": {k: {kk: (list(vv) if isinstance(vv, tuple) else vv) for kk, vv in v.items()}
                            for k, v in perf.items()},
            "verdict": None if not bg_runs else ("outside" if any_outside else "within"),
            "cpu": cpu_model(),
        }
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    return 1 if any_outside else 0


if __name__ == "__main__":
    sys.exit(main())
