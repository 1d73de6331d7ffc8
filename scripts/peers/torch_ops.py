"""Python-side peer of scripts/compare-torch.sh: times the same libtorch operations braingap's
torch backend runs (torch.mm with out=, torch.nn.functional.conv2d in NCHW or channels-last),
from Python's torch in the same venv, at the same thread count and dtype.

  python torch_ops.py time THREADS DEVICE NAME...  -> JSON {name: median seconds} on stdout
  python torch_ops.py table WORK THREADS     -> the markdown table (reads WORK/*.json and the runs)

Benchmark names are braingap's (`gemm/bf16/m=1024,n=1024,k=1024`,
`conv2d_nhwc/f32/batch=4,in_channels=64,...`); parameters are parsed from them. Each time is
taken as braingap's runner takes its own: 3 warm-up calls, then 10 samples of enough calls
to last at least 20 ms each, and the median time per call. On a CUDA device the device is
synchronised before each sample's clock starts and before it is read, as braingap does."""
import csv, glob, json, statistics, sys, time

import torch

DTYPES = {"f32": torch.float32, "f64": torch.float64, "bf16": torch.bfloat16, "f16": torch.float16}


def parse(name):
    kernel, dtype, params = name.split("/", 2)
    p = {k: int(v) for k, v in (kv.split("=") for kv in params.split(","))}
    return kernel, dtype, p


def median_time(fn, sync, samples=10, min_sample_s=0.02):
    """Times `fn` the way braingap's runner does: warm up, choose a call count so that one
    sample lasts at least 20 ms, take 10 samples, return the median time per call. `sync`
    waits for the device (a no-op on the CPU)."""
    for _ in range(3):
        fn()

    def sample(iters):
        sync()
        t = time.perf_counter()
        for _ in range(iters):
            fn()
        sync()
        return time.perf_counter() - t

    iters = 1
    while sample(iters) < min_sample_s:
        iters *= 2
    return statistics.median(sample(iters) / iters for _ in range(samples))


def python_time(name, device):
    kernel, dtype, p = parse(name)
    dt = DTYPES[dtype]
    dev = torch.device(device)
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
    if dev.type == "cuda":
        # f32 is f32 on both sides: braingap turns cuDNN's TF32 math off for its convolutions.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    with torch.no_grad():
        if kernel == "gemm":
            a = (torch.rand(p["m"], p["k"]) * 2 - 1).to(dev, dt)
            b = (torch.rand(p["k"], p["n"]) * 2 - 1).to(dev, dt)
            c = torch.empty(p["m"], p["n"], dtype=dt, device=dev)
            return median_time(lambda: torch.mm(a, b, out=c), sync)
        x = torch.rand(p["batch"], p["in_channels"], p["height"], p["width"]).to(dev, dt)
        w = torch.rand(p["out_channels"], p["in_channels"], p["kernel_h"], p["kernel_w"]).to(dev, dt)
        if kernel == "conv2d_nhwc":
            x = x.contiguous(memory_format=torch.channels_last)
            w = w.contiguous(memory_format=torch.channels_last)
        return median_time(lambda: torch.nn.functional.conv2d(x, w, None, p["stride"], p["padding"]), sync)


def rows(work, backend):
    paths = glob.glob(f"{work}/{backend}/runs/*/summary.csv")
    if not paths:
        return {}
    return {r["benchmark"]: r for r in csv.DictReader(open(paths[0]))}


def table(work, threads):
    """Rounds interleave: Python P0, braingap (torch, cpu) round 1, Python P1, ..., round R,
    Python PR. Round r's tch / Python ratio is tch_r / mean(P(r-1), Pr) (bracketing cancels a
    linear drift of the turbo clock); the table gives the median over rounds and each round's
    ratio. Pure Rust / libtorch is taken within each round (same minute), median over rounds."""
    nrounds = len(glob.glob(f"{work}/python-*.json")) - 1
    py = [json.load(open(f"{work}/python-{i}.json")) for i in range(nrounds + 1)]
    tch = [rows(work, f"torch-{r}") for r in range(1, nrounds + 1)]
    cpu = [rows(work, f"cpu-{r}") for r in range(1, nrounds + 1)]
    ok = lambda r: r is not None and r["status"] == "ok"  # noqa: E731
    out = [
        f"{nrounds} round(s): Python, braingap (tch, then pure Rust), Python, ... "
        "Ratios are medians over rounds; each round's tch / Python ratio is over the mean of "
        "the Python runs on either side of it.",
        "",
        f"| benchmark ({threads} threads) | tch GFLOP/s | Python torch GFLOP/s (range) | tch / Python | per round | pure Rust GFLOP/s | Rust / libtorch |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    worst = None
    for name in sorted(py[0]):
        if not all(ok(t.get(name)) for t in tch):
            bad = next(t.get(name) for t in tch if not ok(t.get(name)))
            out.append(f"| {name} | {bad['status'] if bad else 'missing'} | | | | | |")
            continue
        flops = float(tch[0][name]["flops"])
        g_tch = [flops / float(t[name]["median_s"]) / 1e9 for t in tch]
        g_py = [flops / p[name] / 1e9 for p in py]
        ratios = [g_tch[r] / statistics.mean(g_py[r : r + 2]) for r in range(nrounds)]
        ratio = statistics.median(ratios)
        worst = ratio if worst is None else min(worst, ratio)
        if not any(cpu):
            rust_cells = "not run (GPU comparison) | "
        elif all(ok(c.get(name)) for c in cpu):
            g_rust = [flops / float(c[name]["median_s"]) / 1e9 for c in cpu]
            rel = statistics.median(g_rust[r] / g_tch[r] for r in range(nrounds))
            rust_cells = f"{statistics.median(g_rust):.1f} | {rel:.2f}x"
        else:
            bad = next(c.get(name) for c in cpu if not ok(c.get(name)))
            rust_cells = f"{bad['status'] if bad else 'not run'} | "
        out.append(
            f"| {name} | {statistics.median(g_tch):.1f} | {min(g_py):.1f}–{max(g_py):.1f} | "
            f"{ratio:.3f}x | {' '.join(f'{x:.3f}' for x in ratios)} | {rust_cells} |"
        )
    # The conv target compares pure Rust with libtorch's stronger (channels-last) path.
    for rust_name in sorted(n for n in (cpu[0] if cpu else {}) if n.startswith("conv2d_n") and "/f32/" in n):
        nhwc = rust_name.replace("conv2d_nchw", "conv2d_nhwc")
        per = [
            float(t[nhwc]["median_s"]) / float(c[rust_name]["median_s"])
            for t, c in zip(tch, cpu)
            if ok(c.get(rust_name)) and ok(t.get(nhwc))
        ]
        if len(per) == nrounds:
            out.append(
                f"\npure-Rust {rust_name.split('/')[0]} f32 / libtorch conv2d_nhwc f32: "
                f"**{statistics.median(per):.2f}x** (per round {' '.join(f'{x:.2f}' for x in per)}; target >= 0.8x)"
            )
    if worst is not None:
        out.append(f"\nlowest tch / Python ratio: {worst:.3f}x (target: within 5 %)")
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1] == "time":
        torch.set_num_threads(int(sys.argv[2]))
        print(json.dumps({name: python_time(name, sys.argv[3]) for name in sys.argv[4:]}))
    elif sys.argv[1] == "table":
        print(table(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(f"torch_ops.py: unknown command {sys.argv[1]!r}")
