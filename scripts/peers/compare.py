#!/usr/bin/env python3
"""Ratio table: braingap's `summary.csv` against the peer JSON lines.

Reads braingap's summary.csv of each round (python csv + json for `params`) and
the JSON lines the peers printed between the rounds, prints the table

    benchmark | unit | braingap | peer | ratio | ratio per round | target | pass

and writes it, with the run's context, as markdown to --out.

Rounds interleave: peers P0, braingap B1, peers P1, ..., braingap BR, peers PR
(`--peers P0 .. PR`, `--summary B1 .. BR`). Round r's ratio is
B_r / mean(P_{r-1}, P_r): bracketing each braingap run with the peer on both
sides cancels a linear drift of the turbo clock within the round, and several
rounds show how much the rest moves. The table's ratio is the median of the
per-round ratios (the pass/fail verdict uses it); braingap's figure is the
median of its rounds and the peer's the range of its runs. Every figure on
both sides is itself a median over timed repetitions. `--before`/`--after`
are the one-round form (P0, P1).

`--peers-only` prints the peer figures alone (no braingap run).
Exit status: 0 table written; 1 braingap results missing, unreadable or a
benchmark failed (still writes what it can); with --strict also 3 when a
target is missed.
"""

import argparse
import csv
import datetime
import json
import os
import sys


def load_jsonl(path):
    rows = []
    if not path or not os.path.exists(path):
        return rows
    with open(path) as f:
        for ln, line in enumerate(f, 1):
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                print(f"compare: {path}:{ln}: bad JSON line: {e}", file=sys.stderr)
    return rows


def load_summary(path):
    with open(path, newline="") as f:
        rd = csv.DictReader(f)
        need = {"kernel", "dtype", "params", "median_s", "status", "threads"}
        missing = need - set(rd.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        rows = []
        for ln, r in enumerate(rd, 2):
            try:
                r["_params"] = json.loads(r["params"]) if r["params"] else {}
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{ln}: params is not JSON: {e}") from e
            rows.append(r)
        return rows


def fnum(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def fmt(v, unit=""):
    if v is None:
        return "-"
    return f"{v:.1f}{unit}" if v >= 10 else f"{v:.2f}{unit}"


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def peer_value(before, after, key):
    vals = [p[key] for p in (before, after) if p is not None and p.get(key) is not None]
    return (sum(vals) / len(vals)) if vals else None


def pick(rows, **kw):
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def bg_rate(r, kind):
    """braingap's achieved rate from a summary row: GFLOP/s or GB/s."""
    col = "gflops_per_s" if kind == "flops" else "gbytes_per_s"
    v = fnum(r.get(col))
    if v is None:  # fall back to the analytic count over the median
        cnt = fnum(r.get("flops" if kind == "flops" else "bytes"))
        med = fnum(r.get("median_s"))
        v = cnt / med / 1e9 if cnt and med else None
    return v


def clock_cols(r):
    """Any clock-probe columns braingap wrote (names containing 'ghz')."""
    out = []
    for k, v in r.items():
        if isinstance(k, str) and "ghz" in k.lower() and v not in (None, ""):
            x = fnum(v)
            if x is not None:
                out.append(x)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--summary", nargs="+", default=[], help="braingap summary.csv, one per round")
    ap.add_argument("--peers", nargs="+", default=[],
                    help="peer JSON lines P0 .. PR, run before round 1, between rounds, after the last")
    ap.add_argument("--before", help="one round: peer JSON lines run before braingap (P0)")
    ap.add_argument("--after", help="one round: peer JSON lines run after braingap (P1)")
    ap.add_argument("--out", required=True, help="markdown output path")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--context", help="JSON file with run context (commands, machine)")
    ap.add_argument("--peers-only", action="store_true")
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()

    peer_files = a.peers or [f for f in (a.before, a.after) if f]
    prounds = [load_jsonl(f) for f in peer_files]
    if a.peers_only and not prounds:
        prounds = [load_jsonl(a.after)]
    before = prounds[0] if prounds else []
    after = [p for pr in prounds[1:] for p in pr]
    ctx = {}
    if a.context and os.path.exists(a.context):
        with open(a.context) as f:
            ctx = json.load(f)

    rc = 0
    bgrounds = []
    if not a.peers_only:
        if len(prounds) != len(a.summary) + 1:
            print(f"compare: {len(a.summary)} braingap round(s) need {len(a.summary) + 1} peer "
                  f"files, got {len(prounds)}", file=sys.stderr)
            return 2
        for path in a.summary:
            try:
                bgrounds.append(load_summary(path))
            except (OSError, ValueError) as e:
                print(f"compare: cannot read braingap results: {e}", file=sys.stderr)
                bgrounds.append([])
                rc = 1
    bg = [r for rows_ in bgrounds for r in rows_]
    nrounds = len(bgrounds)

    def peer_runs(kind, **kw):
        """The matching peer line of each peer file (None where absent)."""
        return [pick([p for p in pr if p.get("peer") == kind], **kw) for pr in prounds]

    rows = []

    def add(name, unit, find, runs, key, lo, hi, note="", kind="flops"):
        """`find(rows)` picks braingap's row in one round's summary; `runs` are the peer
        lines P0..PR for this benchmark."""
        nonlocal rc
        bg_failed = bg_missing = False
        bgvals, ratios = [], []
        for r_i, rows_ in enumerate(bgrounds):
            r = find(rows_)
            if r is None:
                bg_missing = True
                continue
            if r.get("status") != "ok":
                bg_failed = True
                continue
            v = bg_rate(r, kind)
            bgvals.append(v)
            peer = peer_value(runs[r_i], runs[r_i + 1], key)
            if v is not None and peer:
                ratios.append(v / peer)
        if bg_failed or bg_missing:
            rc = max(rc, 1)
        bgv = median(bgvals)
        ratio = median(ratios)
        pvals = [p[key] for p in runs if p is not None and p.get(key) is not None]
        if bg_failed:
            ok = "FAILED"
        elif bg_missing:
            ok = "MISSING"
            print(f"compare: braingap's summary has no row for {name}", file=sys.stderr)
        elif ratio is None:
            ok = "n/a"
        else:
            ok = "yes" if (ratio >= lo and (hi is None or ratio <= hi)) else "NO"
        tgt = f">= {lo:.2f}x" if hi is None else f"{lo:.2f}-{hi:.2f}x"
        rows.append({
            "benchmark": name, "unit": unit, "braingap": bgv,
            "peer_min": min(pvals) if pvals else None,
            "peer_max": max(pvals) if pvals else None,
            "ratio": ratio, "ratios": ratios, "target": tgt, "pass": ok, "note": note,
        })

    def bg_find(rows_, kernel, dtype, pred=lambda p: True):
        cand = [r for r in rows_ if r.get("kernel") == kernel and r.get("dtype") == dtype
                and pred(r["_params"])]
        if not cand:
            return None
        # Largest problem first (stream_triad may appear at several sizes).
        cand.sort(key=lambda r: -max([v for v in r["_params"].values()
                                      if isinstance(v, (int, float))] or [0]))
        return cand[0]

    # --- GEMM ---------------------------------------------------------------
    sizes = sorted({int(p["n"]) for pr in prounds for p in pr if p.get("peer") == "numpy_gemm"})
    for dt in ("f32", "f64"):
        for n in sizes:
            add(f"gemm {dt} n={n}", "GFLOP/s",
                lambda rows_, dt=dt, n=n: bg_find(rows_, "gemm", dt, lambda p: p.get("m") == n
                                                  and p.get("n") == n and p.get("k") == n),
                peer_runs("numpy_gemm", dtype=dt, n=n), "gflops_per_s", 0.9, None,
                "numpy matmul (OpenBLAS)")

    # --- stream_triad -------------------------------------------------------
    for store in ("nt_mm512_stream_pd", "plain_omp_simd"):
        runs = peer_runs("c_stream_triad", store=store)
        present = [p for p in runs if p is not None]
        if not present:
            continue
        n = present[-1]["n"]
        label = "NT stores" if store.startswith("nt") else "plain stores"
        add(f"stream_triad f64 n={n} (C {label})", "GB/s",
            lambda rows_, n=n: bg_find(rows_, "stream_triad", "f64", lambda p: p.get("n") == n),
            runs, "gbytes_per_s", 0.9, None, f"C triad, {store}", kind="bytes")

    # --- peak_fma -----------------------------------------------------------
    for dt in ("f32", "f64"):
        runs = peer_runs("c_fma_peak", dtype=dt)
        present = [p for p in runs if p is not None]
        if not present:
            continue
        ch = present[-1]["chains"]
        add(f"peak_fma {dt}", "GFLOP/s", lambda rows_, dt=dt: bg_find(rows_, "peak_fma", dt),
            runs, "gflops_per_s", 0.95, 1.05, f"C AVX-512 FMA, {ch} zmm chains")

    # --- braingap rows that failed but matched nothing above -----------------
    failed_rows = [r for r in bg if r.get("status") != "ok"]
    for r in failed_rows:
        print(f"compare: braingap benchmark FAILED: {r.get('benchmark')} "
              f"({r.get('kernel')} {r.get('dtype')} {r.get('params')})", file=sys.stderr)
        rc = max(rc, 1)

    # --- output -------------------------------------------------------------
    hdr = ["benchmark", "unit", "braingap", "peer (range)", "ratio", "ratio per round", "target",
           "pass"]
    def prange(r):
        if r["peer_min"] is None:
            return "-"
        if fmt(r["peer_min"]) == fmt(r["peer_max"]):
            return fmt(r["peer_min"])
        return f"{fmt(r['peer_min'])}–{fmt(r['peer_max'])}"
    table = [[r["benchmark"], r["unit"], fmt(r["braingap"]), prange(r),
              (f"{r['ratio']:.3f}x" if r["ratio"] else "-"),
              " ".join(f"{x:.3f}" for x in r["ratios"]) or "-",
              r["target"], r["pass"]] for r in rows]
    w = [max(len(h), *(len(t[i]) for t in table)) if table else len(h)
         for i, h in enumerate(hdr)]
    line = lambda cells: " | ".join(c.ljust(w[i]) for i, c in enumerate(cells))  # noqa: E731
    print(line(hdr))
    print("-+-".join("-" * x for x in w))
    for t in table:
        print(line(t))
    judged = [r for r in rows if r["pass"] in ("yes", "NO", "FAILED", "MISSING")]
    npass = sum(r["pass"] == "yes" for r in judged)
    verdict = f"{npass}/{len(judged)} comparisons meet their target"
    if not a.peers_only:
        print(verdict)

    info = next((p for p in before + after if p.get("peer") == "numpy_info"), None)
    clocks = [[p["ghz"] for p in pr if p.get("peer") == "clock_probe"] for pr in prounds]
    bg_clk = sorted({x for r in bg for x in clock_cols(r)})

    md = []
    md.append("# braingap vs peers (latest run)\n")
    md.append(f"Generated {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}"
              f" by `bash scripts/compare-peers.sh`.\n")
    for k in ("machine", "git_commit", "braingap_cmd", "braingap_run_dir", "threads", "load"):
        if ctx.get(k) is not None:
            md.append(f"- **{k.replace('_', ' ')}**: `{ctx[k]}`")
    md.append("")
    md.append("| " + " | ".join(hdr) + " |")
    md.append("|" + "|".join("---" for _ in hdr) + "|")
    for t in table:
        md.append("| " + " | ".join(t) + " |")
    md.append("")
    if not a.peers_only:
        md.append(f"**{verdict}.**\n")
    md.append(f"{nrounds} round(s), interleaved: peers, braingap, peers, ... Round r's ratio = "
              "braingap_r / mean(peer run before it, peer run after it); **ratio** = the median "
              "of the rounds' ratios (the verdict uses it); braingap = median of its rounds; "
              "peer = range of its runs. Every figure is a median over timed repetitions "
              "(braingap: its runner's median; peers: median of N timed reps, N in the raw "
              "lines below). GEMM FLOP = 2mnk; stream_triad bytes = 24 per element (STREAM "
              "convention); peak_fma FLOP = 2 per lane per FMA.\n")
    if any(clocks) or bg_clk:
        md.append("Core-clock probe (GHz), peer runs P0..: "
                  + "; ".join(f"P{i} " + (", ".join(f"{x:.2f}" for x in c) or "-")
                              for i, c in enumerate(clocks))
                  + (f"; braingap's probes {min(bg_clk):.2f}-{max(bg_clk):.2f}" if bg_clk else "")
                  + ".\n")
    if info:
        md.append("numpy / OpenBLAS that ran (threadpoolctl `threadpool_info()`, with "
                  "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for the numpy command only):\n")
        md.append("```json\n" + json.dumps(info, indent=1) + "\n```\n")
    if ctx.get("peer_build"):
        md.append(f"C peers built with: `{ctx['peer_build']}`\n")
    if ctx.get("env_unset"):
        md.append(f"Unset for numpy only: `{ctx['env_unset']}`\n")
    md.append("<details><summary>raw peer lines</summary>\n\n```\n"
              + "\n".join(f"P{i} " + json.dumps(p) for i, pr in enumerate(prounds) for p in pr)
              + "\n```\n</details>\n")
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(md))
    os.replace(tmp, a.out)
    print(f"wrote {a.out}")
    if a.strict and rc == 0 and npass < len(judged):
        rc = 3
    return rc


if __name__ == "__main__":
    sys.exit(main())
