#!/usr/bin/env bash
# Builds braingap (--features torch,nccl,cuda) for a GPU machine whose python3 holds a different
# PyTorch than .venv-torch, and packs it small enough to carry there (a gzipped, stripped
# binary). tch pins one libtorch version, so the build uses the tch release written against
# that PyTorch (2.13 -> tch 0.26, 2.12 -> 0.25, 2.11 -> 0.24, 2.10 -> 0.23) and links against
# PyPI's wheel of it (downloaded once, only the wheel, into target-gpu/torch-VERSION).
#
#   bash scripts/build-for-gpu-machine.sh TORCH_VERSION OUT.gz
#
# The build happens in a git worktree of HEAD (target-gpu/src) where only the tch version in
# Cargo.toml differs, so the binary records HEAD's commit with "-dirty". The CUDA libraries
# are not linked (they load from the machine's torch/lib at run time; braingap dlopens
# libtorch_cuda.so for --device cuda), hence --allow-shlib-undefined. On the GPU machine:
#   gzip -dc OUT.gz > braingap && chmod +x braingap
#   LD_LIBRARY_PATH=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')/lib \
#     BRAINGAP_BIN=./braingap bash scripts/gpu-figures.sh OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=${1:?usage: build-for-gpu-machine.sh TORCH_VERSION OUT.gz}
out=${2:?usage: build-for-gpu-machine.sh TORCH_VERSION OUT.gz}
case "$version" in
  2.13.*) tch=0.26 ;;
  2.12.*) tch=0.25 ;;
  2.11.*) tch=0.24 ;;
  2.10.*) tch=0.23 ;;
  *) echo "build-for-gpu-machine: no tch release known for torch $version (2.10-2.13)" >&2; exit 2 ;;
esac
work=$root/target-gpu
mkdir -p "$work"
wheel_dir=$work/torch-$version
if [ ! -d "$wheel_dir/torch/lib" ]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: "torch==$version" -d "$wheel_dir"
  unzip -q -o "$wheel_dir"/torch-*.whl 'torch/lib/*' 'torch/include/*' 'torch/share/*' -d "$wheel_dir"
  rm -f "$wheel_dir"/torch-*.whl
fi
src=$work/src
if [ ! -d "$src" ]; then
  git worktree add --detach "$src" HEAD >/dev/null
fi
git -C "$src" checkout -q -- Cargo.toml Cargo.lock
git -C "$src" checkout -q --detach "$(git rev-parse HEAD)"
sed -i "s/^tch = { version = \"[0-9.]*\"/tch = { version = \"$tch\"/" "$src/Cargo.toml"
(
  cd "$src"
  export LIBTORCH=$wheel_dir/torch LIBTORCH_BYPASS_VERSION_CHECK=1 CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$work/target}
  export RUSTFLAGS="-C link-arg=-Wl,--allow-shlib-undefined"
  cargo build --features torch,nccl,cuda
)
strip -o "$work/braingap" "${CARGO_TARGET_DIR:-$work/target}/debug/braingap"
gzip -6 -c "$work/braingap" >"$out"
echo "build-for-gpu-machine: $out ($(du -h "$out" | cut -f1)), torch $version, tch $tch, commit $(git rev-parse --short HEAD)-dirty" >&2
