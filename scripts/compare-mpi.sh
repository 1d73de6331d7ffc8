#!/usr/bin/env bash
# braingap's MPI all-reduce beside a plain C MPI_Allreduce loop (scripts/mpi-peer/allreduce.c,
# compiled with mpicc): same sizes, same calls per sample, same samples, same timing rule
# (mean over ranks per sample, median over samples). Both run in one script, interleaved
# (braingap, C, braingap, C, ...) so that drift on a shared machine hits both sides; the
# figures are per-round ratios, summarised by their median and range.
#
#   bash scripts/compare-mpi.sh            # 2 ranks, 8 B .. 4 MiB, 10 samples, 3 rounds
#   NP=2 MAX=1GiB ROUNDS=5 bash scripts/compare-mpi.sh
#
# Needs `bash scripts/setup-mpi.sh`; builds braingap with `cargo build --features mpi` (the
# dev profile is optimised, opt-level 2) unless BRAINGAP=path names another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
np=${NP:-2}
min=${MIN:-8}
max=${MAX:-4MiB}
samples=${SAMPLES:-10}
rounds=${ROUNDS:-3}
if [ -z "${BRAINGAP:-}" ]; then
  cargo build --quiet --features mpi
fi
bin=${BRAINGAP:-target/debug/braingap}
to_bytes() {
  case "$1" in
    *GiB) echo $(( ${1%GiB} << 30 )) ;;
    *MiB) echo $(( ${1%MiB} << 20 )) ;;
    *KiB) echo $(( ${1%KiB} << 10 )) ;;
    *) echo "$1" ;;
  esac
}
min_b=$(to_bytes "$min")
max_b=$(to_bytes "$max")
[ -x "$bin" ] || { echo "error: $bin not found; build it with cargo build --features mpi" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mpicc -O2 -o "$out/allreduce" scripts/mpi-peer/allreduce.c
mpirun_cmd=(mpirun --allow-run-as-root --oversubscribe -np "$np")
echo "== $rounds rounds, $np ranks, $min_b .. $max_b bytes, $samples samples; $(mpirun --version | head -1)"
for round in $(seq 1 "$rounds"); do
  echo "-- round $round: braingap"
  "${mpirun_cmd[@]}" "$bin" run --suite collectives --filter '^allreduce/' --min-message "$min_b" \
    --max-message "$max_b" --samples "$samples" --no-report --results "$out/braingap-$round" \
    --label "compare-mpi round $round" >/dev/null
  echo "-- round $round: C MPI_Allreduce"
  "${mpirun_cmd[@]}" "$out/allreduce" "$min_b" "$max_b" "$samples" >"$out/c-$round.csv"
done
python3 scripts/mpi-peer/compare.py "$out" "$rounds"
