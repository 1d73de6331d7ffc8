#!/usr/bin/env bash
# Installs Open MPI from Debian's packages (and libclang, which rsmpi's bindgen build step
# needs), when they are missing: what the `mpi` feature builds against and what
# `mpirun` runs. Idempotent. Debian/Ubuntu only (apt-get); elsewhere it says what to install.
set -euo pipefail
need=()
for pkg in libopenmpi-dev openmpi-bin libclang-dev clang; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    echo "installing: ${need[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "warning: please install ${need[*]} with your package manager" >&2
  fi
fi
