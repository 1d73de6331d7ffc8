#!/usr/bin/env bash
# Creates .venv-torch in the repository root with PyTorch 2.13.0 (the version the `tch` 0.26
# crate is written against) and prints the environment a `--features torch` build and its
# binary need:
#
#   LIBTORCH_USE_PYTORCH=1          torch-sys links the libtorch inside the venv's torch package
#   PATH=<venv>/bin:$PATH           ... found through the first `python` on PATH
#   LD_LIBRARY_PATH=<torch/lib>:... the binary loads libtorch*.so from there at run time
#
# Usage:
#   bash scripts/setup-torch.sh          install (idempotent) and print the exports with a note
#   bash scripts/setup-torch.sh --env    install (progress on stderr) and print only the exports:
#                                        source <(bash scripts/setup-torch.sh --env)
#
# The wheel comes from PyPI; on x86-64 Linux PyPI's torch wheel bundles the CUDA libraries
# (about 3 GB with its nvidia-* dependencies), so the same venv serves `--device cpu` and,
# on a machine with an NVIDIA driver, `--device cuda:N`. PYTHON picks the interpreter
# (default python3). The installed venv takes about 4.7 GB and pip holds the ~3 GB of wheels
# beside it while it installs, without keeping them in its cache afterwards; the script refuses
# to start with less than 9 GiB free on the disk.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

env_only=0
case "${1:-}" in
  --env) env_only=1 ;;
  "") ;;
  -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup-torch: unknown argument '$1' (expected --env or nothing)" >&2; exit 2 ;;
esac

venv=$root/.venv-torch
torch_version=2.13.0
python=${PYTHON:-python3}

log() { echo "setup-torch: $*" >&2; }

installed_version() {
  "$venv/bin/python" -c 'import torch, sys; sys.stdout.write(torch.__version__.split("+")[0])' 2>/dev/null || true
}

if [ "$(installed_version)" != "$torch_version" ]; then
  free_kib=$(df -Pk "$root" | awk 'NR==2 {print $4}')
  if [ "$free_kib" -lt $((9 * 1024 * 1024)) ]; then
    log "only $((free_kib / 1024 / 1024)) GiB free under $root; torch $torch_version with its CUDA libraries needs about 9 GiB during install (4.7 GB installed, ~3 GB of wheels while installing)"
    exit 1
  fi
  if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
      log "'$python -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv"
      exit 1
    fi
  fi
  log "installing torch==$torch_version into $venv (about 3 GB from PyPI; a few minutes)"
  start=$(date +%s)
  # wheels only: a missing wheel fails in seconds instead of compiling for hours
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    --no-cache-dir "torch==$torch_version" >&2
  log "installed in $(( $(date +%s) - start )) s"
fi

torch_lib=$("$venv/bin/python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)

exports="export LIBTORCH_USE_PYTORCH=1
export PATH=\"$venv/bin:\$PATH\"
export LD_LIBRARY_PATH=\"$torch_lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""

if [ "$env_only" = 1 ]; then
  echo "$exports"
else
  echo "# torch $torch_version is in $venv. For a build with the torch backend, run:"
  echo "#   source <(bash scripts/setup-torch.sh --env) && cargo build --features torch"
  echo "# which sets:"
  echo "$exports"
fi
