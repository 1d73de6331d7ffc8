/* A plain MPI_Allreduce loop: braingap's peer for `braingap run --suite collectives`
 * (scripts/compare-mpi.sh). Same method as braingap's collectives runner
 * (src/collectives/runner.rs): f32 MPI_SUM, out of place; sizes doubling from MIN to MAX
 * bytes; per size one untimed call, one untimed warm-up sample, then SAMPLES timed samples
 * of clamp(64 MiB / bytes, 1, 1000) calls between barriers; a sample's time per call is
 * the mean over ranks; the median over samples is reported.
 *
 * Build: mpicc -O2 -o allreduce allreduce.c
 * Run:   mpirun -np 2 ./allreduce MIN_BYTES MAX_BYTES SAMPLES
 * Prints: bytes,ranks,iters,median_s,algbw_gbytes_per_s,busbw_gbytes_per_s (rank 0). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc != 4) {
        if (rank == 0) fprintf(stderr, "usage: allreduce MIN_BYTES MAX_BYTES SAMPLES\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    unsigned long long min = strtoull(argv[1], NULL, 10), max = strtoull(argv[2], NULL, 10);
    int samples = atoi(argv[3]);
    double *times = malloc(sizeof(double) * (size_t)samples);
    if (rank == 0) printf("bytes,ranks,iters,median_s,algbw_gbytes_per_s,busbw_gbytes_per_s\n");
    for (unsigned long long bytes = min; bytes <= max; bytes *= 2) {
        size_t count = bytes / 4;
        float *send = calloc(count, sizeof(float)), *recv = calloc(count, sizeof(float));
        if (!send || !recv) MPI_Abort(MPI_COMM_WORLD, 1);
        for (size_t i = 0; i < count; i++) send[i] = (float)((rank + 1) * (i % 7 + 1));
        unsigned long long iters = (64ull << 20) / bytes;
        if (iters < 1) iters = 1;
        if (iters > 1000) iters = 1000;
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Allreduce(send, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        for (size_t i = 0; i < count; i++) {
            float want = (float)((i % 7 + 1) * (size_t)size * (size_t)(size + 1) / 2);
            if (recv[i] != want) {
                fprintf(stderr, "rank %d: element %zu is %g, expected %g\n", rank, i, recv[i], want);
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
        }
        for (unsigned long long k = 0; k < iters; k++)
            MPI_Allreduce(send, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        for (int s = 0; s < samples; s++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            for (unsigned long long k = 0; k < iters; k++)
                MPI_Allreduce(send, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            double per_call = (MPI_Wtime() - t0) / (double)iters, sum = 0;
            MPI_Reduce(&per_call, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
            times[s] = sum / size;
        }
        if (rank == 0) {
            qsort(times, (size_t)samples, sizeof(double), cmp);
            double median = samples % 2 ? times[samples / 2] : 0.5 * (times[samples / 2 - 1] + times[samples / 2]);
            double algbw = (double)bytes / median / 1e9;
            printf("%llu,%d,%llu,%.9e,%.6f,%.6f\n", bytes, size, iters, median, algbw,
                   algbw * 2.0 * (size - 1) / size);
            fflush(stdout);
        }
        free(send);
        free(recv);
    }
    free(times);
    MPI_Finalize();
    return 0;
}
