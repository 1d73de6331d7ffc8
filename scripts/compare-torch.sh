#!/usr/bin/env bash
# Side by side in one run (issue 6): libtorch matmul and conv2d called through braingap's
# torch backend (tch) against the same operations called from Python's torch in the same venv
# (the Rust wrapper should add no cost: ratio ≈ 1), and the pure-Rust CPU backend as a ratio
# of libtorch. Sizes: GEMM n = 1024, 2048, 4096 in f32 and bf16; conv2d 3×3 64→64 on 56×56,
# batch 4, in f32 and bf16, NCHW and NHWC (channels-last). The pure-Rust backend has no bf16.
#
# Order, in rounds: Python P0 -> braingap torch, braingap cpu (round 1) -> Python P1 -> ...
# -> round R -> Python PR. Round r's tch/Python ratio uses the mean of the Python runs on
# either side of it, because the turbo clock drifts within minutes; the table shows the
# median over rounds and each round's ratio. Both sides time alike: warm-up, then 10
# samples of at least 20 ms each, median time per call (braingap's runner;
# scripts/peers/torch_ops.py for Python). The table goes to stdout and to
# scripts/peers/torch-latest.md.
#
# Usage: bash scripts/compare-torch.sh [--threads N] [--rounds R] [--no-build] [--quick]
#                                      [--device D] [--system-torch]
#   --rounds R      rounds (default 3; --quick: 1)
#   --quick         n = 1024 and the convolutions only (a smoke test, not for figures)
#   --device D      cpu (default) or cuda[:N]: both sides run there, synchronising the
#                   device around each sample; the pure-Rust rows are left out (CPU only)
#   --system-torch  use the first python3 on PATH and its torch instead of .venv-torch
#                   (a GPU machine with PyTorch installed; the binary must be built
#                   against that torch version)
# Needs scripts/setup-torch.sh (run here if the venv is missing). Builds the dev profile
# with --features torch unless --no-build; BRAINGAP_BIN overrides the binary. The table goes
# to scripts/peers/torch-latest.md (--device cpu) or torch-cuda-latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command_args="$*"
threads=$(nproc)
build=1
rounds=
sizes='1024|2048|4096'
device=cpu
system_torch=0
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=${2:?--threads needs a value}; shift 2 ;;
    --no-build) build=0; shift ;;
    --rounds) rounds=${2:?--rounds needs a value}; shift 2 ;;
    --quick) sizes='1024'; [ -n "$rounds" ] || rounds=1; shift ;;
    --device) device=${2:?--device needs a value}; shift 2 ;;
    --system-torch) system_torch=1; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "compare-torch: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$threads" in ''|*[!0-9]*|0) echo "compare-torch: --threads must be a positive integer, got '$threads'" >&2; exit 2 ;; esac
rounds=${rounds:-3}
case "$rounds" in ''|*[!0-9]*|0) echo "compare-torch: --rounds must be a positive integer, got '$rounds'" >&2; exit 2 ;; esac
case "$device" in cpu|cuda|cuda:[0-9]*) ;; *) echo "compare-torch: --device must be cpu, cuda or cuda:N, got '$device'" >&2; exit 2 ;; esac
if [ "$system_torch" = 1 ]; then
  python() { python3 "$@"; }
else
  source <(bash scripts/setup-torch.sh --env)
fi
[ "$build" = 1 ] && cargo build --quiet --features torch
backends='torch cpu'
latest=scripts/peers/torch-latest.md
if [ "$device" != cpu ]; then
  backends=torch
  latest=scripts/peers/torch-cuda-latest.md
fi
bin=${BRAINGAP_BIN:-target/debug/braingap}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
filter="^(gemm/(f32|bf16)/m=($sizes),n=($sizes),k=($sizes)\$|conv2d_n(chw|hwc)/(f32|bf16)/batch=4,in_channels=64,height=56,)"
mapfile -t names < <("$bin" run --profile full --backend torch --device "$device" --threads "$threads" --filter "$filter" --no-ceilings --list)
[ "${#names[@]}" -gt 0 ] || { echo "compare-torch: no benchmark matches $filter" >&2; exit 2; }
echo "${#names[@]} benchmarks, $threads threads, device $device, $rounds round(s): Python P0" >&2
python -W ignore::UserWarning scripts/peers/torch_ops.py time "$threads" "$device" "${names[@]}" >"$work/python-0.json"
for r in $(seq 1 "$rounds"); do
  for backend in $backends; do
    echo "round $r: braingap --backend $backend" >&2
    rc=0
    dev=cpu
    [ "$backend" = torch ] && dev=$device
    "$bin" run --profile full --backend "$backend" --device "$dev" --threads "$threads" --filter "$filter" \
      --no-ceilings --no-report --results "$work/$backend-$r" >"$work/$backend-$r.log" 2>&1 || rc=$?
    # Exit 1 means a benchmark failed verification (shown in the table); 2 is bad input.
    if [ "$rc" = 2 ]; then cat "$work/$backend-$r.log" >&2; exit 2; fi
  done
  echo "Python P$r" >&2
  python -W ignore::UserWarning scripts/peers/torch_ops.py time "$threads" "$device" "${names[@]}" >"$work/python-$r.json"
done
{
  echo "\`bash scripts/compare-torch.sh $command_args\` on $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo "${BRAINGAP_COMMIT:-unknown}"), torch $(python -c 'import torch; print(torch.__version__)'), $("$bin" machine --json 2>/dev/null | python -c 'import json,sys; print(json.load(sys.stdin)["machine"]["cpu_model"]["value"])' 2>/dev/null || echo 'CPU unknown')$([ "$device" = cpu ] || echo ", $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"):"
  echo
  python -W ignore::UserWarning scripts/peers/torch_ops.py table "$work" "$threads"
} | tee "$latest"
