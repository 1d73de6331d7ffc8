#!/usr/bin/env bash
# braingap's GPU measurements in one pass, for a machine with an NVIDIA GPU and PyTorch in
# python3 (a GPU cloud image), where braingap was built elsewhere with --features torch,nccl,cuda
# against the same PyTorch version (tch 0.26 wants 2.13; tch 0.24 builds against 2.11).
#
#   BRAINGAP_BIN=path/to/braingap bash scripts/gpu-figures.sh OUTDIR
#
# Steps, each under its own time limit, with its log and exit status in OUTDIR/steps.txt:
#   env        nvidia-smi, python3's torch and CUDA, libraries the binary cannot find
#   smoke      one f32 GEMM on cuda:0 (verified, timed)
#   no-device  --device cuda:7 must exit 2 naming it
#   kernels    the full profile's kernels on cuda:0 (GEMM f32/f64/bf16/f16 n <= 4096, conv2d,
#              attention, LIF, sparse synapses, activations, the STREAM triad sweep to 1 GiB)
#   models     the models profile on cuda:0 (inference and training steps; NVML energy)
#   compare    scripts/compare-torch.sh --device cuda: tch against Python's torch, 3 rounds
#   nccl       the collectives sweep through NCCL on every visible GPU (8 B .. 1 GiB)
#   microcircuit  the Potjans-Diesmann microcircuit at full scale, DC input, on cuda:0
#              (--backend cuda): its first 20 ms checked spike for spike against the naive
#              reference simulator, then 10 s of biological time timed; RTF, events/s, NVML
#              energy per event, device memory in microcircuit.csv and the report
# libtorch comes from python3's torch package (LD_LIBRARY_PATH); NCCL from its nvidia-nccl
# wheel, through a libnccl.so link made in a temporary folder (cudarc opens that name); NVRTC
# (libnvrtc.so.13 of the nvidia-cuda-nvrtc wheel or the CUDA toolkit) through a libnvrtc.so link
# there too.
# Results go to OUTDIR/results (braingap's store) and OUTDIR/report; all of it is packed into
# OUTDIR/gpu.tar.gz, with OUTDIR/steps.txt and the torch comparison table beside it. A machine
# without fonts draws no report figures: point FONTCONFIG_FILE at a fonts.conf naming a folder
# with DejaVuSans.ttf (the H200 image had none).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: BRAINGAP_BIN=... bash scripts/gpu-figures.sh OUTDIR}
mkdir -p "$out/logs"
bin=$(realpath "${BRAINGAP_BIN:-target/release/braingap}")
results=$out/results
torch_dir=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))') || {
  echo "gpu-figures: python3 has no torch" >&2
  exit 2
}
links=$(mktemp -d)
nccl=$(python3 -c 'import os, nvidia.nccl as n; print(os.path.join(list(n.__path__)[0], "lib", "libnccl.so.2"))' 2>/dev/null || true)
[ -n "$nccl" ] && [ -e "$nccl" ] && ln -s "$nccl" "$links/libnccl.so"
nvrtc=$(python3 -c 'import glob, os, nvidia.cuda_nvrtc as n; print(sorted(glob.glob(os.path.join(list(n.__path__)[0], "lib", "libnvrtc.so.*")))[0])' 2>/dev/null ||
  ls /usr/local/cuda/lib64/libnvrtc.so.* 2>/dev/null | head -1 || true)
[ -n "$nvrtc" ] && [ -e "$nvrtc" ] && ln -s "$nvrtc" "$links/libnvrtc.so"
if ! ldconfig -p | grep -q 'libcuda.so '; then
  cuda=$(ldconfig -p | awk '/libcuda.so.1 / {print $NF; exit}')
  [ -n "$cuda" ] && ln -s "$cuda" "$links/libcuda.so"
fi
export LD_LIBRARY_PATH=$links:$torch_dir/lib:${LD_LIBRARY_PATH:-}

step() {
  local name=$1 limit=$2 start rc
  shift 2
  start=$(date +%s)
  timeout "$limit" "$@" >"$out/logs/$name.log" 2>&1
  rc=$?
  echo "$name: exit $rc after $(($(date +%s) - start)) s" | tee -a "$out/steps.txt"
}

step env 20 bash -c "nvidia-smi; python3 -c 'import torch; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, torch.cuda.get_device_name(0))'; echo 'libraries not found:'; ldd '$bin' | grep 'not found'; echo end"
step smoke 45 "$bin" run --profile full --backend torch --device cuda --no-ceilings --no-report \
  --filter '^gemm/f32/m=1024,' --results "$results" --label gpu-smoke
step no-device 20 bash -c "'$bin' run --backend torch --device cuda:7 --profile quick --results '$results/never'; test \$? = 2"
step kernels 180 "$bin" run --profile full --backend torch --device cuda --label gpu-kernels \
  --results "$results" --report-dir "$out/report"
step models 100 "$bin" run --profile models --backend torch --device cuda --label gpu-models \
  --results "$results" --report-dir "$out/report"
step compare 150 env BRAINGAP_BIN="$bin" bash scripts/compare-torch.sh --device cuda --system-torch --no-build --rounds 3
cp scripts/peers/torch-cuda-latest.md "$out/" 2>/dev/null
step nccl 45 "$bin" run --profile collectives --backend nccl --label gpu-nccl --results "$results"
step microcircuit 420 "$bin" run --profile microcircuit --backend cuda --device cuda:0 --scale 1 \
  --bio-time 10000 --threads 16 --label gpu-microcircuit --results "$results" --report-dir "$out/report"
"$bin" runs --results "$results" >"$out/logs/runs.log" 2>&1
rm -rf "$links"
tar -C "$out" -czf "$out/gpu.tar.gz" logs results report 2>/dev/null
rm -rf "$out/logs" "$out/results" "$out/report"
echo "gpu-figures: done; $out/gpu.tar.gz"
