// STREAM-style triad peer for braingap's `stream_triad`:  a[i] = b[i] + s * c[i]  (f64).
//
// Byte convention (STREAM): 24 bytes per element (read b, read c, write a;
// write-allocate traffic is not counted). FLOP: 2 per element.
//
// Store variants (argv[3]):
//   nt    - explicit non-temporal stores, _mm512_stream_pd on 64-byte aligned
//           per-thread chunks, then _mm_sfence (default)
//   plain - plain `#pragma omp parallel for simd` loop; gcc -O3 -march=native
//           decides (it emits ordinary, write-allocating vmovupd stores)
//
// Pages: the arrays are advised onto transparent huge pages (MADV_HUGEPAGE), as
// braingap advises its buffers of 4 MiB and more.
//
// Threads: OpenMP, schedule(static), first-touch initialisation with the same
// schedule so each thread's pages are its own. Thread count from OMP_NUM_THREADS.
//
// Timing: `warmup` untimed passes, then `reps` timed passes, one triad pass per
// rep, CLOCK_MONOTONIC around the whole parallel region; reported statistic is
// the median of the reps (min and max printed beside it).
//
// Usage: stream_triad N_ELEMENTS [REPS=20] [nt|plain] [WARMUP=3]
// Prints one JSON line.
//
// Build: gcc -O3 -march=native -fopenmp -o stream_triad stream_triad.c
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

// Per-thread contiguous range [lo, hi), lo a multiple of 8 elements (64 bytes).
static void thread_range(size_t n, int tid, int nth, size_t *lo, size_t *hi) {
    size_t blocks = n / 8;
    size_t per = blocks / (size_t)nth, rem = blocks % (size_t)nth;
    size_t b0 = (size_t)tid * per + ((size_t)tid < rem ? (size_t)tid : rem);
    size_t b1 = b0 + per + ((size_t)tid < rem ? 1 : 0);
    *lo = b0 * 8;
    *hi = (tid == nth - 1) ? n : b1 * 8;
}

static void triad_nt(double *restrict a, const double *restrict b, const double *restrict c,
                     double s, size_t n) {
#pragma omp parallel
    {
        size_t lo, hi;
        thread_range(n, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        const __m512d vs = _mm512_set1_pd(s);
        size_t i = lo;
        size_t vend = lo + ((hi - lo) / 8) * 8;
        for (; i < vend; i += 8) {
            __m512d vb = _mm512_load_pd(b + i);
            __m512d vc = _mm512_load_pd(c + i);
            _mm512_stream_pd(a + i, _mm512_fmadd_pd(vs, vc, vb));
        }
        for (; i < hi; i++) a[i] = b[i] + s * c[i];
        _mm_sfence();
    }
}

static void triad_plain(double *restrict a, const double *restrict b, const double *restrict c,
                        double s, size_t n) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s N_ELEMENTS [REPS=20] [nt|plain] [WARMUP=3]\n", argv[0]);
        return 2;
    }
    size_t n = strtoull(argv[1], NULL, 10);
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    const char *mode = argc > 3 ? argv[3] : "nt";
    int warmup = argc > 4 ? atoi(argv[4]) : 3;
    int nt = strcmp(mode, "nt") == 0;
    if (n < 8 || reps < 1 || (!nt && strcmp(mode, "plain") != 0)) {
        fprintf(stderr, "stream_triad: bad arguments (n=%zu reps=%d mode=%s)\n", n, reps, mode);
        return 2;
    }
    size_t bytes = n * sizeof(double);
    size_t alloc = (bytes + 4095) / 4096 * 4096;
    double *a = aligned_alloc(4096, alloc), *b = aligned_alloc(4096, alloc),
           *c = aligned_alloc(4096, alloc);
    if (!a || !b || !c) {
        fprintf(stderr, "stream_triad: cannot allocate 3 x %zu bytes\n", bytes);
        return 2;
    }
    // Transparent huge pages for the arrays, as braingap advises its buffers of 4 MiB and
    // more (and numpy its arrays): on 4 KiB pages a VM's nested page walks cost this machine
    // up to a third of its measured bandwidth. A hint; where THP is off it does nothing.
    madvise(a, alloc, MADV_HUGEPAGE);
    madvise(b, alloc, MADV_HUGEPAGE);
    madvise(c, alloc, MADV_HUGEPAGE);
    int nth = 1;
#pragma omp parallel
    {
#pragma omp single
        nth = omp_get_num_threads();
        size_t lo, hi;
        thread_range(n, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        for (size_t i = lo; i < hi; i++) {
            a[i] = 0.0;
            b[i] = 1.0 + (double)(i % 7);
            c[i] = 2.0 + (double)(i % 5);
        }
    }
    const double s = 3.0;
    for (int r = 0; r < warmup; r++) {
        if (nt) triad_nt(a, b, c, s, n); else triad_plain(a, b, c, s, n);
    }
    double *t = malloc(sizeof(double) * (size_t)reps);
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        if (nt) triad_nt(a, b, c, s, n); else triad_plain(a, b, c, s, n);
        t[r] = now_s() - t0;
    }
    // Verify a sample of elements (exact in f64 for these small integers).
    size_t bad = 0;
    for (size_t i = 0; i < n; i += 997) {
        double want = (1.0 + (double)(i % 7)) + s * (2.0 + (double)(i % 5));
        if (a[i] != want) bad++;
    }
    if (a[n - 1] != (1.0 + (double)((n - 1) % 7)) + s * (2.0 + (double)((n - 1) % 5))) bad++;
    qsort(t, (size_t)reps, sizeof(double), cmp_d);
    double med = (reps % 2) ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    double byt = 24.0 * (double)n;
    printf("{\"peer\":\"c_stream_triad\",\"dtype\":\"f64\",\"store\":\"%s\",\"n\":%zu,\"threads\":%d,"
           "\"reps\":%d,\"warmup\":%d,\"stat\":\"median\",\"median_s\":%.9g,\"min_s\":%.9g,"
           "\"max_s\":%.9g,\"bytes\":%.0f,\"gbytes_per_s\":%.4f,\"best_gbytes_per_s\":%.4f,"
           "\"verified\":%s}\n",
           nt ? "nt_mm512_stream_pd" : "plain_omp_simd", n, nth, reps, warmup, med, t[0],
           t[reps - 1], byt, byt / med / 1e9, byt / t[0] / 1e9, bad ? "false" : "true");
    free(t);
    free(a);
    free(b);
    free(c);
    return bad ? 1 : 0;
}
