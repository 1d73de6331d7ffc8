#!/usr/bin/env bash
# The project's one test command (README, .ci/run): installs what the tests need, then runs
# formatting and lint checks, the whole test suite, a smoke run of the binary (dev
# profile, so it reuses the test build), the notebooks (scripts/test-notebooks.sh), the MPI
# suite under mpirun (feature `mpi`), the same as a job of a real one-node SLURM
# (scripts/setup-slurm.sh), the NCCL and CUDA features without a GPU (features `nccl` and
# `cuda`) and the torch backend (feature `torch`).
set -euo pipefail
cd "$(dirname "$0")/.."

# A CI runner's disk can be small (one CI run had 2 GiB left when torch was to install), so the test
# command keeps its footprint down: no incremental-compilation caches (2.4 GB on a clean
# clone, of no use to a one-shot build), torch's install first, while the ~3 GB of wheels pip
# holds during the install find the disk emptiest, and the linked test executables of each
# finished step removed before the next feature build (cargo relinks them when needed).
export CARGO_INCREMENTAL=0
disk() {   # one line in the log: what is free, and what the build and the venvs take
  local free_gib
  free_gib=$(( $(df -Pk . | awk 'NR==2 {print $4}') / 1024 / 1024 ))
  echo "disk: $free_gib GiB free; target $(du -sh target 2>/dev/null | cut -f1 || echo 0), venvs $(du -shc .venv-* 2>/dev/null | tail -1 | cut -f1 || echo 0)"
}
drop_test_executables() {   # not the proc-macro .so files, which are executable too
  [ -d target/debug/deps ] && find target/debug/deps -maxdepth 1 -type f -executable ! -name '*.*' -delete
  disk
}

bash scripts/setup-system.sh
bash scripts/setup-browser.sh
echo "== torch: PyTorch 2.13 into .venv-torch (scripts/setup-torch.sh), installed before any build; its tests run last"
disk
torch_start=$(date +%s)
bash scripts/setup-torch.sh
torch_install_s=$(( $(date +%s) - torch_start ))
disk

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test --workspace (the root and every crate under crates/)"
cargo test --workspace --all-targets
echo "== smoke: braingap run --profile quick (dev profile: shares the test build)"
smoke=$(mktemp -d)
trap 'rm -rf "$smoke"' EXIT
cargo run --quiet -- run --profile quick --results "$smoke/results" --report-dir "$smoke/report" --label smoke
test -s "$smoke/report/index.html"
cargo run --quiet -- runs --results "$smoke/results"
cargo run --quiet -- machine
echo "== regression gate: instruction counts and analytic counts against .ci/baseline (docs/ci.md)"
bash scripts/regression-gate.sh --bin target/debug/braingap
echo "== regression gate self-check: a planted 10 % slowdown must fail the gate"
gate_base="$smoke/gate-baseline"
bash scripts/regression-gate.sh --bin target/debug/braingap --filter '^activation_gelu' --baseline "$gate_base" --update-baseline >/dev/null
gate_rc=0
BRAINGAP_PLANT_EXTRA_WORK=activation_gelu=0.10 bash scripts/regression-gate.sh --bin target/debug/braingap \
  --filter '^activation_gelu' --baseline "$gate_base" >"$smoke/gate-plant.log" 2>&1 || gate_rc=$?
if [ "$gate_rc" != 1 ]; then
  cat "$smoke/gate-plant.log"
  echo "the regression gate did not fail on the planted 10 % slowdown (exit $gate_rc, expected 1)" >&2
  exit 1
fi
echo "planted slowdown caught: $(grep -m1 'activation_gelu.*regressed' "$smoke/gate-plant.log" | tr -s ' ')"
echo "== notebooks: executed headless against a fake-backend fixture (the dev binary exists now)"
bash scripts/test-notebooks.sh
echo "== microcircuit statistics: NEST 3.10 venv (scripts/setup-nest.sh), the KS/rate/CV/correlation tests"
nest_start=$(date +%s)
bash scripts/setup-nest.sh
.venv-nest/bin/python scripts/microcircuit/test_stats.py
echo "microcircuit statistics step took $(( $(date +%s) - nest_start )) s"
echo "== MPI: Open MPI from Debian (scripts/setup-mpi.sh), then the mpi feature's lint and tests under mpirun"
drop_test_executables
mpi_start=$(date +%s)
bash scripts/setup-mpi.sh
cargo clippy --all-targets --features mpi -- -D warnings
cargo test --features mpi --test mpi_cli
echo "mpi step took $(( $(date +%s) - mpi_start )) s"
echo "== SLURM: a real one-node SLURM (scripts/setup-slurm.sh), the collectives as a 2-task sbatch job"
slurm_start=$(date +%s)
bash scripts/setup-slurm.sh
slurm_rc=0
cargo test --features mpi --test slurm_cli -- --ignored || slurm_rc=$?
bash scripts/setup-slurm.sh --stop
[ "$slurm_rc" = 0 ] || exit "$slurm_rc"
echo "slurm step took $(( $(date +%s) - slurm_start )) s"
echo "== NCCL and CUDA: the nccl and cuda features' lint and tests (no GPU here: the runs must exit 2 naming what is missing)"
nccl_start=$(date +%s)
drop_test_executables
cargo clippy --all-targets --features nccl,cuda -- -D warnings
# The pure NCCL bookkeeping and the GPU microcircuit's layout, ring arithmetic and host
# emulation are tested by `cargo test` above.
cargo test --features nccl,cuda --test nccl_cli --test cuda_cli
# NVRTC needs no GPU: compile the GPU microcircuit's kernels with the wheel's libnvrtc (24 MB).
[ -x .venv-nvrtc/bin/pip ] || python3 -m venv .venv-nvrtc
.venv-nvrtc/bin/pip install -q 'nvidia-cuda-nvrtc-cu12==12.9.86'
nvrtc_lib=$(echo "$PWD"/.venv-nvrtc/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib)
LD_LIBRARY_PATH=$nvrtc_lib cargo test -p braingap-microcircuit --features cuda --lib gpu::cuda -- --ignored
echo "nccl and cuda step took $(( $(date +%s) - nccl_start )) s"
echo "== torch backend: the torch tests against .venv-torch"
torch_start=$(date +%s)
drop_test_executables
(
  source <(bash scripts/setup-torch.sh --env)
  cargo test --features torch --test torch_backend
  cargo test -p braingap-backends --features torch --lib torch   # the backend's own unit tests
)
echo "torch step took $(( $(date +%s) - torch_start )) s (and its install $torch_install_s s)"
disk
