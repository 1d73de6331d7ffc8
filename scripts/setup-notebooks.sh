#!/usr/bin/env bash
# Creates .venv-notebooks in the repository root with the notebooks' pinned runtime
# (notebooks/requirements.txt: polars, matplotlib, nbclient, nbformat, ipykernel).
# Idempotent: reuses a working venv and reinstalls only when the requirements changed.
# PYTHON picks the interpreter (default python3, 3.11 or newer).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-notebooks
requirements=notebooks/requirements.txt
python=${PYTHON:-python3}

if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  rm -rf "$venv"
  if ! "$python" -m venv "$venv"; then
    echo "setup-notebooks: '$python -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
    exit 1
  fi
fi

stamp=$venv/.requirements.sha256
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  # wheels only: a missing wheel fails in seconds instead of compiling for minutes
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r "$requirements"
  echo "$wanted" >"$stamp"
fi
