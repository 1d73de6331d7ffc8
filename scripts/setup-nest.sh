#!/usr/bin/env bash
# Creates .venv-nest in the repository root with NEST 3.10.0 and the reference PyNEST
# implementation of the Potjans & Diesmann (2014) microcircuit (`microcircuit` 1.0, from the
# INM-6/microcircuit-PD14-model repository), plus numpy and scipy for the statistics
# (pins: scripts/microcircuit/requirements-nest.txt). Used by scripts/compare-nest.sh.
#
# Usage:
#   bash scripts/setup-nest.sh          install (idempotent: a stamp file makes a second run a
#                                       quick no-op) and print how to use the venv
#   bash scripts/setup-nest.sh --env    install (progress on stderr) and print only the exports:
#                                       source <(bash scripts/setup-nest.sh --env)
#
# nest-simulator 3.10.0 on PyPI is a CPython 3.11 wheel (OpenMP threads, no MPI), so the
# interpreter must be Python 3.11: PYTHON picks it (default: python3.11 if found, else python3).
# Wheels only; about 150 MB in the venv, well under a minute with a warm pip cache.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

env_only=0
case "${1:-}" in
  --env) env_only=1 ;;
  "") ;;
  -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup-nest: unknown argument '$1' (expected --env or nothing)" >&2; exit 2 ;;
esac

venv=$root/.venv-nest
requirements=scripts/microcircuit/requirements-nest.txt
if [ -n "${PYTHON:-}" ]; then
  python=$PYTHON
elif command -v python3.11 >/dev/null 2>&1; then
  python=python3.11
else
  python=python3
fi

log() { echo "setup-nest: $*" >&2; }

stamp=$venv/.requirements.sha256
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)
  if [ "$version" != 3.11 ]; then
    log "nest-simulator 3.10.0 on PyPI is a Python 3.11 wheel; '$python' is Python $version (set PYTHON=/path/to/python3.11)"
    exit 1
  fi
  if ! "$venv/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 11)' >/dev/null 2>&1; then
    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
      log "'$python -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv"
      exit 1
    fi
  fi
  log "installing nest-simulator, microcircuit, numpy, scipy into $venv ($requirements)"
  start=$(date +%s)
  # wheels only: a missing wheel fails in seconds instead of compiling NEST for an hour
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    -r "$requirements" >&2
  # import check: the wheel's libnest and its OpenMP runtime load
  "$venv/bin/python" -c 'import nest, microcircuit, scipy' >/dev/null 2>&1 || {
    log "installed, but 'import nest, microcircuit, scipy' fails in $venv"; exit 1; }
  echo "$wanted" >"$stamp"
  log "installed in $(( $(date +%s) - start )) s"
fi

# PyNEST prints a banner on import unless told not to; the scripts set this themselves too.
exports="export PYNEST_QUIET=1
export PATH=\"$venv/bin:\$PATH\""

if [ "$env_only" = 1 ]; then
  echo "$exports"
else
  echo "# NEST 3.10.0 and microcircuit 1.0 are in $venv. Run the comparison with:"
  echo "#   bash scripts/compare-nest.sh --scale 0.1 --seeds \"1 2 3\""
  echo "# or use the venv directly after:"
  echo "$exports"
fi
