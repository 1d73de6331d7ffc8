// Peak-FMA peer for braingap's `peak_fma` (like likwid-bench peakflops_avx512_fma).
//
// Each thread runs CHAINS independent, register-resident AVX-512 FMA chains
// (acc_j = acc_j * m + a, one zmm register per chain) for ITERS iterations.
// With 4-cycle FMA latency and 2 FMA ports, >= 8 chains hide the latency; the
// default is 16 (16 accumulators + 2 constants = 18 of 32 zmm registers).
// FLOP count: 2 per lane per FMA, lanes = 8 (f64) or 16 (f32):
//     flops = 2 * lanes * CHAINS * ITERS * threads
//
// Threads: OpenMP (OMP_NUM_THREADS). Timing: WARMUP untimed reps, then REPS
// timed reps, CLOCK_MONOTONIC around the whole parallel region; the reported
// statistic is the median (min/max beside it).
//
// A core-clock probe (a dependent chain of 1-cycle `add` instructions, inline
// asm, single thread) runs before and after, so GHz and FLOP/cycle can be set
// beside the result.
//
// Usage: fma_peak f64|f32 [CHAINS=16] [ITERS=20000000] [REPS=9] [WARMUP=2]
//        fma_peak clock          (clock probe alone)
// Prints one JSON line.
//
// Build: gcc -O3 -march=native -fopenmp -o fma_peak fma_peak.c
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

// Clock probe: loop trips of 16 dependent register-register adds (1 cycle
// latency each; an add of an immediate is not used because Golden Cove-class
// cores fold small immediates at rename and run such chains faster than one
// per cycle); the loop counter runs in parallel on other ports. Returns GHz
// (adds per ns), best of 3.
static double clock_probe_ghz(void) {
    const uint64_t trips = 4000000; // 64e6 adds, ~16-20 ms
    double best = 0.0;
    for (int k = 0; k < 3; k++) {
        uint64_t x = 0, i = trips, one = 1;
        double t0 = now_s();
        __asm__ volatile(
            "1:\n\t"
            "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
            "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
            "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
            "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
            "dec %1\n\t"
            "jnz 1b\n\t"
            : "+r"(x), "+r"(i)
            : "r"(one)
            : "cc");
        double dt = now_s() - t0;
        double ghz = (double)(trips * 16) / dt / 1e9;
        if (ghz > best) best = ghz;
    }
    return best;
}

#define REP4(X) X X X X
#define REP16(X) REP4(X) REP4(X) REP4(X) REP4(X)

// One generic body per (type, chain count); the accumulator array is fully
// unrolled by the compiler into zmm registers (checked: no memory operands in
// the inner loop with gcc 12 -O3).
#define DEFINE_CHAINS(NAME, VT, SET1, FMA, ADD, REDUCE, ST, CH)                 \
    static ST NAME(ST m, ST a, ST seed, long iters) {                           \
        VT vm = SET1(m), va = SET1(a);                                          \
        VT acc[CH];                                                             \
        for (int j = 0; j < CH; j++) acc[j] = SET1(seed + (ST)j * (ST)1e-3);    \
        for (long i = 0; i < iters; i++) {                                      \
            _Pragma("GCC unroll 32") for (int j = 0; j < CH; j++)               \
                acc[j] = FMA(acc[j], vm, va);                                   \
        }                                                                       \
        VT s = acc[0];                                                          \
        for (int j = 1; j < CH; j++) s = ADD(s, acc[j]);                        \
        return REDUCE(s);                                                       \
    }

DEFINE_CHAINS(run_f64_8, __m512d, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd, _mm512_reduce_add_pd, double, 8)
DEFINE_CHAINS(run_f64_12, __m512d, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd, _mm512_reduce_add_pd, double, 12)
DEFINE_CHAINS(run_f64_16, __m512d, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd, _mm512_reduce_add_pd, double, 16)
DEFINE_CHAINS(run_f64_24, __m512d, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd, _mm512_reduce_add_pd, double, 24)
DEFINE_CHAINS(run_f32_8, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps, float, 8)
DEFINE_CHAINS(run_f32_12, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps, float, 12)
DEFINE_CHAINS(run_f32_16, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps, float, 16)
DEFINE_CHAINS(run_f32_24, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps, float, 24)

static volatile double sink;

static double run_once(int f64, int chains, long iters, double seed) {
    double total = 0.0;
#pragma omp parallel reduction(+ : total)
    {
        double sd = seed + 0.01 * omp_get_thread_num();
        double r = 0.0;
        if (f64) {
            // m slightly below 1 and a small: values stay bounded and normal.
            double m = 0.999999, a = 1e-6;
            switch (chains) {
            case 8: r = run_f64_8(m, a, sd, iters); break;
            case 12: r = run_f64_12(m, a, sd, iters); break;
            case 16: r = run_f64_16(m, a, sd, iters); break;
            default: r = run_f64_24(m, a, sd, iters); break;
            }
        } else {
            float m = 0.9999f, a = 1e-4f;
            switch (chains) {
            case 8: r = run_f32_8(m, a, (float)sd, iters); break;
            case 12: r = run_f32_12(m, a, (float)sd, iters); break;
            case 16: r = run_f32_16(m, a, (float)sd, iters); break;
            default: r = run_f32_24(m, a, (float)sd, iters); break;
            }
        }
        total += r;
    }
    return total;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "clock") == 0) {
        printf("{\"peer\":\"clock_probe\",\"ghz\":%.4f}\n", clock_probe_ghz());
        return 0;
    }
    if (argc < 2 || (strcmp(argv[1], "f64") && strcmp(argv[1], "f32"))) {
        fprintf(stderr, "usage: %s f64|f32 [CHAINS=16] [ITERS=20000000] [REPS=9] [WARMUP=2] | clock\n",
                argv[0]);
        return 2;
    }
    int f64 = strcmp(argv[1], "f64") == 0;
    int chains = argc > 2 ? atoi(argv[2]) : 16;
    long iters = argc > 3 ? atol(argv[3]) : 20000000L;
    int reps = argc > 4 ? atoi(argv[4]) : 9;
    int warmup = argc > 5 ? atoi(argv[5]) : 2;
    if ((chains != 8 && chains != 12 && chains != 16 && chains != 24) || iters < 1 || reps < 1) {
        fprintf(stderr, "fma_peak: bad arguments (chains must be 8, 12, 16 or 24)\n");
        return 2;
    }
    int nth = omp_get_max_threads();
    double ghz_before = clock_probe_ghz();
    for (int r = 0; r < warmup; r++) sink = run_once(f64, chains, iters, 0.5 + r);
    double *t = malloc(sizeof(double) * (size_t)reps);
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        sink = run_once(f64, chains, iters, 0.25 + r);
        t[r] = now_s() - t0;
    }
    double ghz_after = clock_probe_ghz();
    qsort(t, (size_t)reps, sizeof(double), cmp_d);
    double med = (reps % 2) ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    int lanes = f64 ? 8 : 16;
    double flops = 2.0 * lanes * (double)chains * (double)iters * (double)nth;
    double gf = flops / med / 1e9;
    double ghz = 0.5 * (ghz_before + ghz_after);
    printf("{\"peer\":\"c_fma_peak\",\"dtype\":\"%s\",\"isa\":\"avx512_fma_zmm\",\"chains\":%d,"
           "\"iters\":%ld,\"threads\":%d,\"reps\":%d,\"warmup\":%d,\"stat\":\"median\","
           "\"median_s\":%.9g,\"min_s\":%.9g,\"max_s\":%.9g,\"flops\":%.0f,\"gflops_per_s\":%.4f,"
           "\"best_gflops_per_s\":%.4f,\"ghz_before\":%.4f,\"ghz_after\":%.4f,"
           "\"flop_per_cycle_per_thread\":%.3f,\"checksum\":%.6g}\n",
           argv[1], chains, iters, nth, reps, warmup, med, t[0], t[reps - 1], flops, gf,
           flops / t[0] / 1e9, ghz_before, ghz_after, gf / ghz / nth, (double)sink);
    free(t);
    return 0;
}
