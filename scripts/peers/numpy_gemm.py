#!/usr/bin/env python3
"""numpy (OpenBLAS) matmul peer for braingap's `gemm`.

C = A @ B with square n x n row-major (C-contiguous) operands, f32 and f64,
written into a preallocated output (`np.matmul(a, b, out=c)`), so only the
BLAS call is timed. FLOP = 2 * m * n * k (the same analytic count braingap uses).

Thread count: `--threads N` is applied with threadpoolctl's `threadpool_limits`
(and should also be set as OPENBLAS_NUM_THREADS by the caller, before numpy is
imported). Timing: `--warmup` untimed calls, then timed calls, at least
`--min-reps` and until `--min-time` seconds of timed work; the statistic is
the median of the timed calls (min and max beside it).

Prints one JSON line per (dtype, n), then one JSON line `{"peer":"numpy_info",...}`
with numpy's version, threadpoolctl's `threadpool_info()` (which OpenBLAS
build, kernel architecture and thread count actually ran) and the
OPENBLAS_* environment seen by this process.
"""

import argparse
import json
import os
import statistics
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1024,2048,4096", help="comma-separated n")
    ap.add_argument("--dtypes", default="f32,f64", help="comma-separated: f32,f64")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-reps", type=int, default=7)
    ap.add_argument("--max-reps", type=int, default=50)
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds of timed work")
    args = ap.parse_args()

    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    dtypes = {"f32": np.float32, "f64": np.float64}
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rng = np.random.default_rng(12345)

    with threadpool_limits(limits=args.threads, user_api="blas"):
        info = threadpool_info()
        for dname in [d for d in args.dtypes.split(",") if d]:
            dt = dtypes[dname]
            for n in sizes:
                a = rng.standard_normal((n, n)).astype(dt)
                b = rng.standard_normal((n, n)).astype(dt)
                c = np.empty((n, n), dtype=dt)
                for _ in range(args.warmup):
                    np.matmul(a, b, out=c)
                # Spot check against a float64 product of a few rows.
                rows = slice(0, 4)
                ref = a[rows].astype(np.float64) @ b.astype(np.float64)
                err = float(np.max(np.abs(c[rows] - ref)) / (np.max(np.abs(ref)) + 1e-30))
                tol = 1e-4 if dname == "f32" else 1e-12
                times = []
                t_total = 0.0
                while len(times) < args.max_reps and (
                    len(times) < args.min_reps or t_total < args.min_time
                ):
                    t0 = time.perf_counter()
                    np.matmul(a, b, out=c)
                    dt_s = time.perf_counter() - t0
                    times.append(dt_s)
                    t_total += dt_s
                med = statistics.median(times)
                flops = 2.0 * n * n * n
                print(
                    json.dumps(
                        {
                            "peer": "numpy_gemm",
                            "dtype": dname,
                            "m": n,
                            "n": n,
                            "k": n,
                            "threads": args.threads,
                            "reps": len(times),
                            "warmup": args.warmup,
                            "stat": "median",
                            "median_s": med,
                            "min_s": min(times),
                            "max_s": max(times),
                            "flops": flops,
                            "gflops_per_s": flops / med / 1e9,
                            "best_gflops_per_s": flops / min(times) / 1e9,
                            "rel_err": err,
                            "verified": err <= tol,
                        }
                    ),
                    flush=True,
                )
                del a, b, c
    blas = [
        {k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                                "threading_layer", "filepath")}
        for d in info
        if d.get("user_api") == "blas"
    ]
    print(
        json.dumps(
            {
                "peer": "numpy_info",
                "numpy": np.__version__,
                "python": sys.version.split()[0],
                "blas": blas,
                "env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
