"""Per-size ratios of braingap's all-reduce to the C MPI_Allreduce loop (scripts/compare-mpi.sh).

Reads DIR/braingap-<round>/runs/*/collectives.csv and DIR/c-<round>.csv; prints a markdown
table: medians over rounds of each side's time per call and bus bandwidth, and the median
(min-max) over rounds of the per-round ratio braingap busbw / C busbw (>= 1: braingap at
least as fast; the latency ratio C time / braingap time is the same number)."""
import csv
import glob
import statistics
import sys


def main(directory: str, rounds: int) -> None:
    ours, theirs = {}, {}
    for r in range(1, rounds + 1):
        [path] = glob.glob(f"{directory}/braingap-{r}/runs/*/collectives.csv")
        for row in csv.DictReader(open(path)):
            if row["status"] != "ok":
                sys.exit(f"braingap round {r}: {row['benchmark']} {row['status']}: {row['reason']}")
            ours.setdefault(int(row["bytes"]), []).append(
                (float(row["time_median_s"]), float(row["busbw_gbytes_per_s"])))
        for row in csv.DictReader(open(f"{directory}/c-{r}.csv")):
            theirs.setdefault(int(row["bytes"]), []).append(
                (float(row["median_s"]), float(row["busbw_gbytes_per_s"])))
    print("| bytes | braingap time (us) | C time (us) | braingap busbw (GB/s) | C busbw (GB/s) "
          "| busbw ratio braingap/C, median (min-max) |")
    print("|---:|---:|---:|---:|---:|---|")
    all_ratios = []
    for size in sorted(ours):
        a, b = ours[size], theirs.get(size, [])
        if len(a) != len(b):
            sys.exit(f"{size} B: {len(a)} braingap rounds, {len(b)} C rounds")
        ratios = [x[1] / y[1] for x, y in zip(a, b)]
        all_ratios.append(statistics.median(ratios))
        print(f"| {size} | {statistics.median(t for t, _ in a) * 1e6:.2f} "
              f"| {statistics.median(t for t, _ in b) * 1e6:.2f} "
              f"| {statistics.median(bw for _, bw in a):.3f} | {statistics.median(bw for _, bw in b):.3f} "
              f"| {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}) |")
    print(f"\nmedian over sizes of the per-size median ratio: {statistics.median(all_ratios):.3f}; "
          f"sizes at >= 0.95: {sum(r >= 0.95 for r in all_ratios)} of {len(all_ratios)}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
