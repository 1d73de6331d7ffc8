#!/usr/bin/env bash
# The project's CI regression gate on deterministic metrics (issue 7, `.ci/run` runs it):
#   1. `braingap run --metric instructions --profile small`: every kernel once, in cache, one
#      thread, instruction counts under callgrind (repeatable on a noisy shared runner);
#   2. `braingap compare` of that run against the baseline committed in
#      .ci/baseline/small-instructions/ (a run directory: meta.json, summary.csv, samples.csv):
#      analytic FLOPs and bytes for equality, instructions per call against --threshold
#      (default 2 %) with --across-machines (counts compare across runners when code path,
#      valgrind, rustc, build profile and target match);
#   3. exit 1 when a benchmark regressed or a count changed, 0 otherwise, 2 on bad input.
# When the baseline's counting environment differs from this build's (another rustc or
# valgrind), no benchmark can be compared: the gate says so, names both environments and
# passes (exit 0) unless BRAINGAP_GATE_STRICT=1; refresh the baseline on the new toolchain.
#
# Usage: bash scripts/regression-gate.sh [--bin PATH] [--threshold PCT] [--filter REGEX]
#                                        [--baseline DIR] [--update-baseline]
#   --bin PATH          braingap binary (default target/debug/braingap, the test build; the
#                       baseline must come from the same build profile)
#   --filter REGEX      only these benchmarks (self-checks)
#   --update-baseline   replace the committed baseline with this build's counts. Say why in
#                       the commit that changes .ci/baseline/ (issue 7: every baseline change
#                       carries its reason).
# Writes the markdown comparison to $GITHUB_STEP_SUMMARY when that is set.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/debug/braingap
threshold=2
filter=
baseline=.ci/baseline/small-instructions
update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=${2:?--bin needs a path}; shift 2 ;;
    --threshold) threshold=${2:?--threshold needs a percentage}; shift 2 ;;
    --filter) filter=${2:?--filter needs a regex}; shift 2 ;;
    --baseline) baseline=${2:?--baseline needs a directory}; shift 2 ;;
    --update-baseline) update=1; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "regression-gate: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "regression-gate: --bin $bin is not an executable (build it first: cargo build)" >&2; exit 2; }
if [ "$update" = 0 ] && [ ! -f "$baseline/summary.csv" ]; then
  echo "regression-gate: no baseline at $baseline/summary.csv (create one with --update-baseline)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run_args=(run --metric instructions --profile small --results "$work/results" --no-report)
[ -n "$filter" ] && run_args+=(--filter "$filter")
echo "== regression gate: $bin ${run_args[*]}"
start=$(date +%s)
"$bin" "${run_args[@]}"
run_dir=$(ls -d "$work"/results/runs/*/ | head -n 1)
run_dir=${run_dir%/}
echo "counted in $(( $(date +%s) - start )) s: $run_dir"

if [ "$update" = 1 ]; then
  if [ -n "$filter" ] && [ "$baseline" = .ci/baseline/small-instructions ]; then
    echo "regression-gate: --update-baseline with --filter would drop benchmarks from the committed baseline" >&2
    exit 2
  fi
  # Atomic: the new baseline is complete in a sibling folder before it replaces the old one.
  mkdir -p "$(dirname "$baseline")"
  staged="$baseline.new.$$"
  rm -rf "$staged" && mkdir "$staged"
  cp "$run_dir/meta.json" "$run_dir/summary.csv" "$staged/"
  [ -f "$run_dir/samples.csv" ] && cp "$run_dir/samples.csv" "$staged/"
  rm -rf "$baseline.old.$$"
  [ -d "$baseline" ] && mv "$baseline" "$baseline.old.$$"
  mv "$staged" "$baseline"
  rm -rf "$baseline.old.$$"
  echo "baseline replaced: $baseline (record the reason in the commit message)"
  exit 0
fi

status=0
summary="$work/summary.md"
: >"$summary"
for metric in flops bytes instructions; do
  args=(compare "$baseline" "$run_dir" --metric "$metric" --fail-on regression)
  [ "$metric" = instructions ] && args+=(--threshold "$threshold" --across-machines)
  rc=0
  "$bin" "${args[@]}" --format json >"$work/$metric.json" || rc=$?
  if [ "$rc" = 2 ]; then
    echo "regression-gate: braingap ${args[*]} failed (exit 2)" >&2
    exit 2
  fi
  "$bin" "${args[@]}" --format markdown >>"$summary" || true
  "$bin" "${args[@]}" --format text || true
  # How many rows were actually compared (not incomparable)?
  compared=$(python3 -c 'import json,sys; rows=json.load(open(sys.argv[1]))["rows"]; print(sum(r["verdict"]!="incomparable" for r in rows))' "$work/$metric.json")
  if [ "$compared" = 0 ]; then
    reason=$(python3 -c 'import json,sys; rows=json.load(open(sys.argv[1]))["rows"]; print(rows[0].get("reason") or "no usable values")' "$work/$metric.json")
    echo "regression-gate: GATE NOT APPLIED for $metric: no benchmark could be compared with the baseline: $reason" >&2
    echo "regression-gate: refresh it on this toolchain with: bash scripts/regression-gate.sh --update-baseline" >&2
    if [ "${BRAINGAP_GATE_STRICT:-0}" = 1 ]; then status=1; fi
  elif [ "$rc" = 1 ]; then
    echo "regression-gate: $metric: REGRESSION against $baseline" >&2
    status=1
  fi
done
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi
if [ "$status" = 0 ]; then
  echo "== regression gate: passed"
else
  echo "== regression gate: FAILED"
fi
exit "$status"
