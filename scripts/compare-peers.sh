#!/usr/bin/env bash
# braingap vs peers, side by side in one run (issue 2, "Done when"):
#   gemm f32/f64 n=1024,2048,4096   vs numpy matmul (OpenBLAS), same thread count   target >= 0.9x
#   stream_triad f64                vs STREAM-style C triad (gcc -O3 -march=native -fopenmp)
#                                      same array length (from braingap's params)  target >= 0.9x
#   peak_fma f32/f64                vs C AVX-512 FMA-chain microbenchmark           target 0.95-1.05x
#
# Order, interleaved in rounds: peers P0 -> braingap B1 -> peers P1 -> ... -> braingap BR
# -> peers PR. Round r's ratio is B_r / mean(P_{r-1}, P_r) (the turbo clock drifts within
# minutes; bracketing cancels a linear drift); the table shows the median over rounds and
# each round's ratio. Writes the table to scripts/peers/latest.md.
#
# Usage (from the repo root):
#   bash scripts/compare-peers.sh [--threads N] [--rounds R] [--no-build] [--peers-only]
#                                 [--triad-n N] [--quick] [--strict] [--keep]
#   --rounds R    braingap runs, each bracketed by peer runs (default 3; --quick: 1)
#   --no-build    use the existing ./target/release/braingap
#   --peers-only  run only the peers (no cargo, no braingap); table without ratios
#   --triad-n N   array length for the C triad before braingap has run (the
#                 "before" triad is skipped otherwise; the "after" one always
#                 uses braingap's own length)
#   --quick       fewer peer repetitions (smoke test, not for figures)
#   --strict      exit 3 when a target is missed
#   --keep        keep the scratch directory (braingap's run dir, raw peer lines)
# Exit: 0 table written; 1 braingap build/run failed or its results are
# missing/failed; 2 bad usage or a peer failed; 3 (--strict) a target missed.
set -euo pipefail

THREADS=2
ROUNDS=
BUILD=1
PEERS_ONLY=0
TRIAD_N="${PEERS_TRIAD_N:-}"
QUICK=0
STRICT=0
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) THREADS="${2:?--threads needs a value}"; shift 2 ;;
        --threads=*) THREADS="${1#*=}"; shift ;;
        --rounds) ROUNDS="${2:?--rounds needs a value}"; shift 2 ;;
        --rounds=*) ROUNDS="${1#*=}"; shift ;;
        --no-build) BUILD=0; shift ;;
        --peers-only) PEERS_ONLY=1; shift ;;
        --triad-n) TRIAD_N="${2:?--triad-n needs a value}"; shift 2 ;;
        --triad-n=*) TRIAD_N="${1#*=}"; shift ;;
        --quick) QUICK=1; shift ;;
        --strict) STRICT=1; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "compare-peers: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$THREADS" in ''|*[!0-9]*|0) echo "compare-peers: --threads must be a positive integer, got '$THREADS'" >&2; exit 2 ;; esac
[ -n "$ROUNDS" ] || { [ "$QUICK" = 1 ] && ROUNDS=1 || ROUNDS=3; }
case "$ROUNDS" in ''|*[!0-9]*|0) echo "compare-peers: --rounds must be a positive integer, got '$ROUNDS'" >&2; exit 2 ;; esac
if [ -n "$TRIAD_N" ]; then
    case "$TRIAD_N" in *[!0-9]*) echo "compare-peers: --triad-n must be an integer, got '$TRIAD_N'" >&2; exit 2 ;; esac
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PEERS="$ROOT/scripts/peers"
VENV="$ROOT/scripts/.venv-peers"
OUT_MD="$PEERS/latest.md"
BIN="${BRAINGAP_BIN:-$ROOT/target/release/braingap}"  # override for testing the script

log() { printf '\n== %s\n' "$*" >&2; }
die() { local rc="$1"; shift; printf 'compare-peers: %s\n' "$*" >&2; exit "$rc"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/braingap-peers.XXXXXX")"
cleanup() { if [ "$KEEP" = 1 ]; then echo "scratch kept: $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
case "$LOAD_START" in
    [0-9]*) awk -v l="${LOAD_START%% *}" -v t="$THREADS" 'BEGIN{exit !(l > 0.5 * t)}' &&
        echo "compare-peers: warning: load average is $LOAD_START before starting; other work on this machine will skew the figures" >&2 ;;
esac

# ---------------------------------------------------------------- python venv
if ! "$VENV/bin/python" -c 'import numpy, threadpoolctl' >/dev/null 2>&1; then
    log "creating $VENV with numpy + threadpoolctl"
    command -v python3 >/dev/null || die 2 "python3 not found"
    python3 -m venv "$VENV" || die 2 "cannot create venv $VENV (python3-venv missing?)"
    "$VENV/bin/python" -m pip install --quiet numpy threadpoolctl \
        || die 2 "pip install numpy threadpoolctl failed"
fi

# ---------------------------------------------------------------- C peers
CFLAGS_PEERS="-O3 -march=native -fopenmp"
command -v gcc >/dev/null || die 2 "gcc not found (apt-get install gcc)"
log "building C peers: gcc $CFLAGS_PEERS"
# shellcheck disable=SC2086
gcc $CFLAGS_PEERS -o "$WORK/stream_triad" "$PEERS/stream_triad.c" || die 2 "gcc failed on stream_triad.c"
# shellcheck disable=SC2086
gcc $CFLAGS_PEERS -o "$WORK/fma_peak" "$PEERS/fma_peak.c" || die 2 "gcc failed on fma_peak.c"

if [ "$QUICK" = 1 ]; then
    NP_ARGS=(--min-reps 3 --min-time 0.2 --warmup 1); TRIAD_REPS=5; FMA_ITERS=5000000; FMA_REPS=3
else
    NP_ARGS=(--min-reps 7 --min-time 1.0 --warmup 2); TRIAD_REPS=20; FMA_ITERS=20000000; FMA_REPS=9
fi
FMA_CHAINS=16

# The environment may pin OpenBLAS to an old core type (OPENBLAS_CORETYPE,
# OPENBLAS_L2_SIZE) for correctness elsewhere; that slows a current numpy, so
# both are unset for the numpy command alone.
ENV_UNSET="OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-<unset>}"

run_peers() { # $1 = output file, $2 = phase name, $3 = triad n (may be empty)
    local out="$1" phase="$2" n="$3"
    log "peers ($phase)"
    OMP_NUM_THREADS="$THREADS" "$WORK/fma_peak" clock >>"$out" || die 2 "clock probe failed"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS" \
        "$VENV/bin/python" "$PEERS/numpy_gemm.py" --threads "$THREADS" "${NP_ARGS[@]}" \
        | tee -a "$out" >&2 || die 2 "numpy_gemm.py failed"
    if [ -n "$n" ]; then
        # Arrays >= 4x a large LLC take ~0.5 s a pass: 11 timed passes are plenty.
        local reps="$TRIAD_REPS"
        [ "$QUICK" = 0 ] && [ "$((n * 24))" -gt 2000000000 ] && reps=11
        for store in nt plain; do
            OMP_NUM_THREADS="$THREADS" "$WORK/stream_triad" "$n" "$reps" "$store" \
                | tee -a "$out" >&2 || die 2 "stream_triad ($store) failed"
        done
    fi
    for dt in f32 f64; do
        OMP_NUM_THREADS="$THREADS" "$WORK/fma_peak" "$dt" "$FMA_CHAINS" "$FMA_ITERS" "$FMA_REPS" \
            | tee -a "$out" >&2 || die 2 "fma_peak $dt failed"
    done
    OMP_NUM_THREADS="$THREADS" "$WORK/fma_peak" clock >>"$out" || die 2 "clock probe failed"
}

CONTEXT="$WORK/context.json"
write_context() { # $1 = braingap cmd, $2 = run dir
    "$VENV/bin/python" - "$CONTEXT" "$1" "$2" "$THREADS" "gcc $CFLAGS_PEERS" "$ENV_UNSET" "$LOAD_START" <<'PY'
import json, os, subprocess, sys
out, cmd, run_dir, threads, build, unset, load0 = sys.argv[1:8]
def sh(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
model = sh("lscpu | sed -n 's/^Model name: *//p'") or "unknown"
cores = sh("nproc")
mem = sh("free -g | awk '/^Mem:/{print $2}'")
gcc = sh("gcc --version | head -1")
ctx = {
    "machine": f"{model}, {cores} logical CPUs, {mem} GiB; {gcc}",
    "git_commit": sh("git rev-parse --short HEAD 2>/dev/null") or "none (no commit yet)",
    "braingap_cmd": cmd or None,
    "braingap_run_dir": run_dir or None,
    "threads": threads,
    "load": f"{load0} at the start, " + sh("cut -d' ' -f1-3 /proc/loadavg")
            + " at the end (1/5/15-min load averages)",
    "peer_build": build,
    "env_unset": unset,
}
json.dump(ctx, open(out, "w"), indent=1)
PY
}

P0="$WORK/peers-0.jsonl"
: >"$P0"

if [ "$PEERS_ONLY" = 1 ]; then
    run_peers "$P0" "peers only" "${TRIAD_N:-50331648}"
    write_context "" ""
    log "table"
    "$VENV/bin/python" "$PEERS/compare.py" --peers-only --peers "$P0" --out "$OUT_MD" \
        --threads "$THREADS" --context "$CONTEXT"
    exit 0
fi

# ---------------------------------------------------------------- braingap build
if [ "$BUILD" = 1 ]; then
    log "cargo build --release"
    command -v cargo >/dev/null || die 1 "cargo not found"
    if ! cargo build --release >"$WORK/cargo.log" 2>&1; then
        tail -30 "$WORK/cargo.log" >&2
        die 1 "cargo build --release failed (log above)"
    fi
fi
[ -x "$BIN" ] || die 1 "$BIN not found; build it with cargo build --release"
"$BIN" run --help 2>/dev/null | grep -q -- '--profile' \
    || die 1 "$BIN run --help lists no --profile: this braingap cannot run the peers profile"

# stream_triad array length from braingap's own params (largest if several).
triad_n_of() {
    "$VENV/bin/python" - "$1" <<'PY'
import csv, json, sys
ns = []
with open(sys.argv[1], newline="") as f:
    for r in csv.DictReader(f):
        if r.get("kernel") == "stream_triad" and r.get("dtype") == "f64":
            n = json.loads(r.get("params") or "{}").get("n")
            if isinstance(n, (int, float)):
                ns.append(int(n))
print(max(ns) if ns else "")
PY
}

# ---------------------------------------------------------------- rounds
run_peers "$P0" "P0, before round 1" "$TRIAD_N"
PEER_FILES=("$P0")
SUMMARIES=()
RUN_DIRS=()
BG_TRIAD_N=""
for r in $(seq 1 "$ROUNDS"); do
    RESULTS="$WORK/bg-$r"
    BG_CMD=("$BIN" run --profile peers --threads "$THREADS" --results "$RESULTS" --label "peers-round-$r" --no-report)
    log "braingap, round $r of $ROUNDS: ${BG_CMD[*]}"
    set +e
    "${BG_CMD[@]}"
    bg_rc=$?
    set -e
    [ "$bg_rc" -eq 0 ] || { KEEP=1; die 1 "braingap run failed (exit $bg_rc): ${BG_CMD[*]}"; }
    shopt -s nullglob
    runs=("$RESULTS"/runs/*/summary.csv)
    shopt -u nullglob
    [ "${#runs[@]}" -eq 1 ] || { KEEP=1; die 1 "expected exactly one run with summary.csv under $RESULTS/runs, found ${#runs[@]}"; }
    SUMMARIES+=("${runs[0]}")
    RUN_DIRS+=("$(dirname "${runs[0]}")")
    if [ "$r" = 1 ]; then
        BG_TRIAD_N="$(triad_n_of "${runs[0]}")"
        if [ -z "$BG_TRIAD_N" ]; then
            echo "compare-peers: braingap's summary has no f64 stream_triad row with params.n; C triad skipped" >&2
        elif [ -n "$TRIAD_N" ] && [ "$TRIAD_N" != "$BG_TRIAD_N" ]; then
            echo "compare-peers: --triad-n $TRIAD_N differs from braingap's n=$BG_TRIAD_N; dropping P0's triad" >&2
            grep -v '"c_stream_triad"' "$P0" >"$P0.tmp" || true
            mv "$P0.tmp" "$P0"
        fi
    fi
    P="$WORK/peers-$r.jsonl"
    : >"$P"
    run_peers "$P" "P$r, after round $r" "$BG_TRIAD_N"
    PEER_FILES+=("$P")
done

# ---------------------------------------------------------------- table
write_context "${BG_CMD[*]} (x$ROUNDS rounds)" "${RUN_DIRS[*]}"
log "table"
args=(--summary "${SUMMARIES[@]}" --peers "${PEER_FILES[@]}" --out "$OUT_MD"
      --threads "$THREADS" --context "$CONTEXT")
[ "$STRICT" = 1 ] && args+=(--strict)
set +e
"$VENV/bin/python" "$PEERS/compare.py" "${args[@]}"
rc=$?
set -e
[ "$rc" -eq 1 ] && KEEP=1
exit "$rc"
