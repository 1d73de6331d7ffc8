#!/usr/bin/env bash
# Side by side in one run: libtorch matmul and conv2d called through braingap's torch backend
# (tch) against the same operations called from Python's torch in the same venv (the Rust
# wrapper should add no cost: ratio ≈ 1), and the pure-Rust CPU backend as a ratio of
# libtorch. Sizes: GEMM n = 1024, 2048 (f32, f64), conv2d 3×3 64→64 on 56×56, batch 4
# (NCHW, and NHWC = channels-last). Python's times are the median of 15 samples of
# `mm(out=)` / `conv2d` after warm-up, at the same thread count.
#
# Usage: bash scripts/compare-torch.sh [--threads N] [--no-build]
# Needs scripts/setup-torch.sh (run here if the venv is missing). Builds the dev profile
# with --features torch unless --no-build; BRAINGAP_BIN overrides the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=$(nproc)
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "compare-torch: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
source <(bash scripts/setup-torch.sh --env)
[ "$build" = 1 ] && cargo build --quiet --features torch
bin=${BRAINGAP_BIN:-target/debug/braingap}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
filter='^(gemm/f(32|64)/m=(1024|2048),n=(1024|2048),k=(1024|2048)|conv2d_n(chw|hwc)/f32/batch=4,in_channels=64,height=56)'
for backend in torch cpu; do
  "$bin" run --profile full --backend "$backend" --threads "$threads" --filter "$filter" \
    --no-ceilings --no-report --results "$work/$backend" >/dev/null
done
python - "$work" "$threads" <<'PY'
import csv, glob, json, statistics, sys, time
import torch
work, threads = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(threads)

def rows(backend):
    path = glob.glob(f"{work}/{backend}/runs/*/summary.csv")[0]
    return {r["benchmark"]: r for r in csv.DictReader(open(path)) if r["status"] == "ok"}

def median_time(fn, samples=15):
    for _ in range(3):
        fn()
    times = []
    for _ in range(samples):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return statistics.median(times)

def python_time(kernel, dtype, p):
    dt = {"f32": torch.float32, "f64": torch.float64}[dtype]
    with torch.no_grad():
        if kernel == "gemm":
            a = torch.rand(p["m"], p["k"], dtype=dt) * 2 - 1
            b = torch.rand(p["k"], p["n"], dtype=dt) * 2 - 1
            c = torch.empty(p["m"], p["n"], dtype=dt)
            return median_time(lambda: torch.mm(a, b, out=c))
        x = torch.rand(p["batch"], p["in_channels"], p["height"], p["width"], dtype=dt)
        w = torch.rand(p["out_channels"], p["in_channels"], p["kernel_h"], p["kernel_w"], dtype=dt)
        if kernel == "conv2d_nhwc":
            x = x.contiguous(memory_format=torch.channels_last)
            w = w.contiguous(memory_format=torch.channels_last)
        return median_time(lambda: torch.nn.functional.conv2d(x, w, None, p["stride"], p["padding"]))

tch_rows, cpu_rows = rows("torch"), rows("cpu")
print(f"| benchmark ({threads} threads) | tch GFLOP/s | Python torch GFLOP/s | tch / Python | pure Rust GFLOP/s | Rust / libtorch |")
print("|---|---|---|---|---|---|")
for name, r in sorted(tch_rows.items()):
    p = json.loads(r["params"])
    flops = float(r["flops"])
    tch = flops / float(r["median_s"]) / 1e9
    py = flops / python_time(r["kernel"], r["dtype"], p) / 1e9
    rust = cpu_rows.get(name)
    rust_g = flops / float(rust["median_s"]) / 1e9 if rust else float("nan")
    print(f"| {name} | {tch:.1f} | {py:.1f} | {tch/py:.2f}x | {rust_g:.1f} | {rust_g/tch:.2f}x |")
PY
