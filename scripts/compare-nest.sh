#!/usr/bin/env bash
# Side by side: braingap's Potjans & Diesmann (2014) microcircuit against the reference NEST
# implementation (NEST 3.10.0 + the `microcircuit` 1.0 PyNEST package), several seeds each.
# Compares per population the distributions of firing rates, ISI CVs and spike-count
# correlations by Kolmogorov-Smirnov distance: braingap-NEST distances against the NEST-NEST
# seed-to-seed range (rule in scripts/microcircuit/compare.py and docs/microcircuit-nest.md),
# plus mean rates, RTF, synaptic events/s, peak RSS and build time as braingap/NEST ratios.
#
# Usage: bash scripts/compare-nest.sh [--scale S] [--k-scale K] [--t-sim-ms T]
#          [--t-presim-ms P] [--threads N] [--seeds "1 2 3"] [--input dc|poisson]
#          [--braingap-cmd CMD] [--nest-only] [--out DIR]
#   --scale S          N_scaling (default 0.1)      --k-scale K    K_scaling (default 1)
#   --t-sim-ms T       timed simulation (default 1000; spikes and RTF from this part only)
#   --t-presim-ms P    warm-up before it (default 500)
#   --threads N        threads for both simulators (default: nproc)
#   --seeds "A B ..."  seeds, the same list for both (default "1 2 3"; >= 2 needed)
#   --input dc|poisson background input (default dc, the reference package's default)
#   --braingap-cmd CMD run as: CMD --scale S --k-scale K --t-sim-ms T --threads N --seed X
#                      --input I --out DIR (plus --t-presim-ms P when given here; its
#                      default must be 500 ms like NEST's), writing spikes.csv,
#                      timing.json and populations.csv to DIR
#                      (default: target/release/examples/dump, the braingap-microcircuit crate's
#                      example, built here first with cargo when it is the default). If its program is
#                      not there, or with --nest-only, only NEST-NEST runs and says so.
#   --out DIR          default results/nest-compare/<timestamp>; runs already complete in DIR
#                      (timing.json present) are reused, so an interrupted run resumes
# Writes DIR/report.md, DIR/report.json, DIR/{nest,braingap}/seed-X/ and copies report.md to
# scripts/microcircuit/latest-<scale>.md (NEST-only: also nest-baseline-<scale>.md).
# Exit status: 0 all cells within (or NEST-only), 1 some cell outside or a run failed,
# 2 bad input (missing .venv-nest: run bash scripts/setup-nest.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scale=0.1
k_scale=1
t_sim=1000
t_presim=500
threads=$(nproc)
seeds="1 2 3"
input=dc
braingap_cmd="target/release/examples/dump"
nest_only=0
presim_given=0
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=${2:?--scale needs a value}; shift 2 ;;
    --k-scale) k_scale=${2:?--k-scale needs a value}; shift 2 ;;
    --t-sim-ms) t_sim=${2:?--t-sim-ms needs a value}; shift 2 ;;
    --t-presim-ms) t_presim=${2:?--t-presim-ms needs a value}; presim_given=1; shift 2 ;;
    --threads) threads=${2:?--threads needs a value}; shift 2 ;;
    --seeds) seeds=${2:?--seeds needs a value}; shift 2 ;;
    --input) input=${2:?--input needs a value}; shift 2 ;;
    --braingap-cmd) braingap_cmd=${2:?--braingap-cmd needs a value}; shift 2 ;;
    --nest-only) nest_only=1; shift ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare-nest: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

is_number() { [[ $1 =~ ^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$ ]]; }
for pair in "scale:$scale" "k-scale:$k_scale" "t-sim-ms:$t_sim" "t-presim-ms:$t_presim"; do
  is_number "${pair#*:}" || { echo "compare-nest: --${pair%%:*} must be a non-negative number, got '${pair#*:}'" >&2; exit 2; }
done
case "$threads" in ''|*[!0-9]*|0) echo "compare-nest: --threads must be a positive integer, got '$threads'" >&2; exit 2 ;; esac
case "$input" in dc|poisson) ;; *) echo "compare-nest: --input must be dc or poisson, got '$input'" >&2; exit 2 ;; esac
read -r -a seed_list <<<"$seeds"
[ "${#seed_list[@]}" -ge 2 ] || { echo "compare-nest: --seeds needs at least 2 seeds, got '$seeds'" >&2; exit 2; }
for s in "${seed_list[@]}"; do
  case "$s" in *[!0-9]*|0) echo "compare-nest: seeds must be positive integers, got '$s'" >&2; exit 2 ;; esac
done

venv=.venv-nest
if ! "$venv/bin/python" -c 'import nest, microcircuit, scipy' >/dev/null 2>&1; then
  echo "compare-nest: $venv is missing or incomplete; run: bash scripts/setup-nest.sh" >&2
  exit 2
fi
py=$venv/bin/python
export PYNEST_QUIET=1

out=${out:-results/nest-compare/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/nest"

if [ "$braingap_cmd" = "target/release/examples/dump" ] && [ "$nest_only" != 1 ]; then
  echo "compare-nest: building braingap's simulator (cargo build --release -p braingap-microcircuit --example dump)" >&2
  cargo build --quiet --release -p braingap-microcircuit --example dump
fi
read -r -a bg <<<"$braingap_cmd"
run_braingap=1
if [ "$nest_only" = 1 ]; then
  run_braingap=0
  echo "compare-nest: --nest-only: NEST-NEST baseline only" >&2
elif ! command -v "${bg[0]}" >/dev/null 2>&1 && [ ! -x "${bg[0]}" ]; then
  run_braingap=0
  echo "compare-nest: braingap command '${bg[0]}' not found (build it or pass --braingap-cmd); running NEST-NEST only" >&2
fi

args=(--scale "$scale" --k-scale "$k_scale" --t-sim-ms "$t_sim" --threads "$threads" --input "$input")
nest_args=("${args[@]}" --t-presim-ms "$t_presim")
# braingap gets --t-presim-ms only when given here (its default must be 500 ms, as NEST's)
bg_args=("${args[@]}")
[ "$presim_given" = 0 ] || bg_args+=(--t-presim-ms "$t_presim")
echo "compare-nest: scale $scale, k-scale $k_scale, t_sim $t_sim ms (+ $t_presim ms warm-up), $threads threads, input $input, seeds ${seed_list[*]} -> $out" >&2

failed=0
for s in "${seed_list[@]}"; do
  dir=$out/nest/seed-$s
  if [ -s "$dir/timing.json" ]; then echo "compare-nest: NEST seed $s: reusing $dir" >&2; continue; fi
  start=$(date +%s)
  echo "compare-nest: NEST seed $s ..." >&2
  if "$py" scripts/microcircuit/nest_run.py "${nest_args[@]}" --seed "$s" --out "$dir" >"$out/nest/seed-$s.log" 2>&1; then
    echo "compare-nest: NEST seed $s done in $(( $(date +%s) - start )) s: $(tail -n 1 "$out/nest/seed-$s.log")" >&2
  else
    echo "compare-nest: NEST seed $s failed; see $out/nest/seed-$s.log" >&2
    failed=1
  fi
done

bg_dirs=()
if [ "$run_braingap" = 1 ]; then
  mkdir -p "$out/braingap"
  for s in "${seed_list[@]}"; do
    dir=$out/braingap/seed-$s
    if [ -s "$dir/timing.json" ]; then bg_dirs+=("$dir"); echo "compare-nest: braingap seed $s: reusing $dir" >&2; continue; fi
    start=$(date +%s)
    echo "compare-nest: braingap seed $s ..." >&2
    if "${bg[@]}" "${bg_args[@]}" --seed "$s" --out "$dir" >"$out/braingap/seed-$s.log" 2>&1; then
      bg_dirs+=("$dir")
      echo "compare-nest: braingap seed $s done in $(( $(date +%s) - start )) s" >&2
    else
      echo "compare-nest: braingap seed $s failed; see $out/braingap/seed-$s.log" >&2
      failed=1
    fi
  done
fi

nest_dirs=()
for s in "${seed_list[@]}"; do
  [ -s "$out/nest/seed-$s/timing.json" ] && nest_dirs+=("$out/nest/seed-$s")
done
[ "${#nest_dirs[@]}" -ge 2 ] || { echo "compare-nest: fewer than 2 NEST runs succeeded; no report" >&2; exit 1; }

rc=0
"$py" scripts/microcircuit/compare.py --nest "${nest_dirs[@]}" ${bg_dirs[@]:+--braingap "${bg_dirs[@]}"} \
  --markdown "$out/report.md" --json "$out/report.json" || rc=$?
[ "$rc" -le 1 ] || { echo "compare-nest: compare.py failed (exit $rc)" >&2; exit "$rc"; }
cp "$out/report.md" "scripts/microcircuit/latest-$scale.md"
[ "${#bg_dirs[@]}" -gt 0 ] || cp "$out/report.md" "scripts/microcircuit/nest-baseline-$scale.md"
cat "$out/report.md"
echo "compare-nest: report in $out/report.md and scripts/microcircuit/latest-$scale.md" >&2
[ "$failed" = 0 ] || rc=1
exit "$rc"
