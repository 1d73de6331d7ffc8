#!/usr/bin/env python3
"""Ratio table: braingap's `summary.csv` against the peer JSON lines.

Reads braingap's summary.csv (python csv + json for `params`) and the JSON
lines the peers printed before and after the braingap run, prints the table

    benchmark | braingap | peer (before) | peer (after) | ratio | target | pass

and writes it, with the run's context, as markdown to --out.

ratio = braingap / peer, where peer = mean of the before and after peer
medians when both exist (the turbo clock drifts, so bracketing braingap with
the peer on both sides and averaging cancels a linear drift), else the one
that exists. Every figure on both sides is a median over timed repetitions.

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
    ap.add_argument("--summary", help="braingap summary.csv")
    ap.add_argument("--before", help="peer JSON lines run before braingap")
    ap.add_argument("--after", help="peer JSON lines run after braingap")
    ap.add_argument("--out", required=True, help="markdown output path")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--context", help="JSON file with run context (commands, machine)")
    ap.add_argument("--peers-only", action="store_true")
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()

    before = load_jsonl(a.before)
    after = load_jsonl(a.after)
    ctx = {}
    if a.context and os.path.exists(a.context):
        with open(a.context) as f:
            ctx = json.load(f)

    rc = 0
    bg = []
    if not a.peers_only:
        try:
            bg = load_summary(a.summary)
        except (OSError, ValueError) as e:
            print(f"compare: cannot read braingap results: {e}", file=sys.stderr)
            rc = 1

    def peers(kind, **kw):
        return (pick([p for p in before if p.get("peer") == kind], **kw),
                pick([p for p in after if p.get("peer") == kind], **kw))

    rows = []  # (benchmark, unit, bg_value, pb, pa, target_lo, target_hi, note)

    def add(name, unit, bgv, pb, pa, key, lo, hi, note="", bg_failed=False, bg_missing=False):
        peer = peer_value(pb, pa, key)
        ratio = (bgv / peer) if (bgv is not None and peer) else None
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
            "peer_before": pb.get(key) if pb else None,
            "peer_after": pa.get(key) if pa else None,
            "ratio": ratio, "target": tgt, "pass": ok, "note": note,
        })

    def bg_find(kernel, dtype, pred=lambda p: True):
        cand = [r for r in bg if r.get("kernel") == kernel and r.get("dtype") == dtype
                and pred(r["_params"])]
        if not cand:
            return None
        # Largest problem first (stream_triad may appear at several sizes).
        cand.sort(key=lambda r: -max([v for v in r["_params"].values()
                                      if isinstance(v, (int, float))] or [0]))
        return cand[0]

    # --- GEMM ---------------------------------------------------------------
    sizes = sorted({int(p["n"]) for p in before + after if p.get("peer") == "numpy_gemm"})
    for dt in ("f32", "f64"):
        for n in sizes:
            pb, pa = peers("numpy_gemm", dtype=dt, n=n)
            r = None if a.peers_only else bg_find(
                "gemm", dt, lambda p: p.get("m") == n and p.get("n") == n and p.get("k") == n)
            failed = r is not None and r.get("status") != "ok"
            bgv = bg_rate(r, "flops") if (r is not None and not failed) else None
            if r is None and not a.peers_only:
                rc = max(rc, 1)
            add(f"gemm {dt} n={n}", "GFLOP/s", bgv, pb, pa, "gflops_per_s", 0.9, None,
                "numpy matmul (OpenBLAS)", failed, r is None and not a.peers_only)
            if failed:
                rc = max(rc, 1)

    # --- stream_triad -------------------------------------------------------
    for store in ("nt_mm512_stream_pd", "plain_omp_simd"):
        pb, pa = peers("c_stream_triad", store=store)
        if pb is None and pa is None:
            continue
        n = (pa or pb)["n"]
        r = None if a.peers_only else bg_find("stream_triad", "f64", lambda p: p.get("n") == n)
        failed = r is not None and r.get("status") != "ok"
        bgv = bg_rate(r, "bytes") if (r is not None and not failed) else None
        if r is None and not a.peers_only:
            rc = max(rc, 1)
        label = "NT stores" if store.startswith("nt") else "plain stores"
        add(f"stream_triad f64 n={n} (C {label})", "GB/s", bgv, pb, pa, "gbytes_per_s",
            0.9, None, f"C triad, {store}", failed, r is None and not a.peers_only)
        if failed:
            rc = max(rc, 1)

    # --- peak_fma -----------------------------------------------------------
    for dt in ("f32", "f64"):
        pb, pa = peers("c_fma_peak", dtype=dt)
        if pb is None and pa is None:
            continue
        r = None if a.peers_only else bg_find("peak_fma", dt)
        failed = r is not None and r.get("status") != "ok"
        bgv = bg_rate(r, "flops") if (r is not None and not failed) else None
        if r is None and not a.peers_only:
            rc = max(rc, 1)
        ch = (pa or pb)["chains"]
        add(f"peak_fma {dt}", "GFLOP/s", bgv, pb, pa, "gflops_per_s", 0.95, 1.05,
            f"C AVX-512 FMA, {ch} zmm chains", failed, r is None and not a.peers_only)
        if failed:
            rc = max(rc, 1)

    # --- braingap rows that failed but matched nothing above -----------------
    failed_rows = [r for r in bg if r.get("status") != "ok"]
    for r in failed_rows:
        print(f"compare: braingap benchmark FAILED: {r.get('benchmark')} "
              f"({r.get('kernel')} {r.get('dtype')} {r.get('params')})", file=sys.stderr)
        rc = max(rc, 1)

    # --- output -------------------------------------------------------------
    hdr = ["benchmark", "unit", "braingap", "peer before", "peer after", "ratio", "target",
           "pass"]
    table = [[r["benchmark"], r["unit"], fmt(r["braingap"]), fmt(r["peer_before"]),
              fmt(r["peer_after"]), (f"{r['ratio']:.3f}x" if r["ratio"] else "-"),
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
    clocks_b = [p["ghz"] for p in before if p.get("peer") == "clock_probe"]
    clocks_a = [p["ghz"] for p in after if p.get("peer") == "clock_probe"]
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
    md.append("ratio = braingap / mean(peer before, peer after); every figure is a median "
              "over timed repetitions (braingap: its runner's median; peers: median of N "
              "timed reps, N in the raw lines below). GEMM FLOP = 2mnk; stream_triad bytes "
              "= 24 per element (STREAM convention); peak_fma FLOP = 2 per lane per FMA.\n")
    if clocks_b or clocks_a or bg_clk:
        md.append("Core-clock probe (GHz): peers before "
                  f"{', '.join(f'{x:.2f}' for x in clocks_b) or '-'}; peers after "
                  f"{', '.join(f'{x:.2f}' for x in clocks_a) or '-'}"
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
              + "\n".join("before " + json.dumps(p) for p in before)
              + ("\n" if before else "")
              + "\n".join("after  " + json.dumps(p) for p in after)
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
