#!/usr/bin/env bash
# Tests notebooks/: no outputs stored, then every notebook executed top to bottom headless
# against a fixture results directory (the deterministic fake backend, plus one small cpu
# run so that a measured backend and a modeled energy figure are present). Fails on any cell
# error. BRAINGAP_BIN picks the binary (default target/debug/braingap, built by cargo test).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BRAINGAP_BIN:-target/debug/braingap}
if [ ! -x "$bin" ]; then
  echo "test-notebooks: no braingap binary at $bin (run cargo build, or set BRAINGAP_BIN)" >&2
  exit 1
fi
bin=$(realpath "$bin")

echo "== notebooks: python venv (.venv-notebooks)"
started=$SECONDS
bash scripts/setup-notebooks.sh
echo "   ready in $((SECONDS - started)) s"
python=.venv-notebooks/bin/python

echo "== notebooks: no stored outputs"
"$python" scripts/notebooks.py check notebooks/*.ipynb

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results
echo "== notebooks: fixture results in a temporary directory"
fixture_run() {
  env -u BRAINGAP_FAKE_SLEEP_MS -u BRAINGAP_FAKE_FAIL \
    "$bin" run --results "$results" --no-report "$@" >"$work/run.log" 2>&1 || {
    cat "$work/run.log" >&2
    return 1
  }
}
fixture_run --backend fake --profile quick --threads 1 --label fixture-fake-quick
fixture_run --backend cpu --profile quick --filter '^(gemm/f32|activation_relu)/' --no-ceilings --label fixture-cpu-small
fixture_run --backend fake --profile standard --label fixture-fake-standard
"$bin" runs --results "$results"

echo "== notebooks: execute headless"
started=$SECONDS
# a private Jupyter data/runtime dir, so user-level Jupyter settings cannot leak in
BRAINGAP_BIN=$bin BRAINGAP_RESULTS=$results BRAINGAP_REPO=$PWD BRAINGAP_FIGURES=$work/figures \
  JUPYTER_DATA_DIR=$work/jupyter-data JUPYTER_RUNTIME_DIR=$work/jupyter-runtime JUPYTER_PLATFORM_DIRS=1 \
  MPLBACKEND=module://matplotlib_inline.backend_inline \
  "$python" scripts/notebooks.py execute notebooks/*.ipynb
for figure in 01_backends 01_sweeps 01_samples 01_roofline 02_trends 03_brain_gap; do
  test -s "$work/figures/$figure.png" || { echo "test-notebooks: figure $figure.png was not drawn" >&2; exit 1; }
done
echo "   executed in $((SECONDS - started)) s"

# The same notebooks on a machine that knows nothing optional about itself (no theoretical
# peaks, clock, caches or meters: tests/fixtures/bare-machine), so that no CPU whose facts
# braingap cannot read breaks them (a null peak once failed notebook 01 on an AMD EPYC).
echo "== notebooks: execute headless on the bare-machine fixture"
started=$SECONDS
cp -r tests/fixtures/bare-machine/results "$work/bare-results"
BRAINGAP_BIN=$bin BRAINGAP_RESULTS=$work/bare-results BRAINGAP_REPO=$PWD BRAINGAP_FIGURES=$work/bare-figures \
  JUPYTER_DATA_DIR=$work/jupyter-data JUPYTER_RUNTIME_DIR=$work/jupyter-runtime JUPYTER_PLATFORM_DIRS=1 \
  MPLBACKEND=module://matplotlib_inline.backend_inline \
  "$python" scripts/notebooks.py execute notebooks/01_results_tour.ipynb notebooks/03_brain_gap.ipynb
for figure in 01_samples 01_roofline 03_brain_gap; do
  test -s "$work/bare-figures/$figure.png" || { echo "test-notebooks: figure $figure.png was not drawn on the bare fixture" >&2; exit 1; }
done
echo "   executed in $((SECONDS - started)) s"
