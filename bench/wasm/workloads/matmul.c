/*
 * matmul.c - f64 arithmetic and 2-D array indexing: C = A * B on 200x200
 * double matrices, the naive i-k-j loop.
 *
 * The entries are small multiples of 1/4, so every product and partial sum is
 * exactly representable: the result is bit-identical whatever the engine (and
 * with or without FMA contraction), and the checksum can be taken on exact
 * integers.
 */
#include "rt.h"

#define MM_N 200

static double mm_a[MM_N][MM_N], mm_b[MM_N][MM_N], mm_c[MM_N][MM_N];

static void mm_fill(double m[MM_N][MM_N], uint32_t *seed) {
    for (int i = 0; i < MM_N; i++)
        for (int j = 0; j < MM_N; j++)
            m[i][j] = (double)((int)(rt_xorshift32(seed) % 33) - 16) / 4.0;
}

static void mm_multiply(void) {
    for (int i = 0; i < MM_N; i++) {
        for (int j = 0; j < MM_N; j++) mm_c[i][j] = 0.0;
        for (int k = 0; k < MM_N; k++) {
            double a = mm_a[i][k];
            for (int j = 0; j < MM_N; j++) mm_c[i][j] += a * mm_b[k][j];
        }
    }
}

long long bench(void) {
    const int reps = BENCH_SIZE(3, 1);
    uint32_t seed = 0x9e3779b9u;
    uint64_t h = RT_FNV_INIT;
    for (int r = 0; r < reps; r++) {
        mm_fill(mm_a, &seed);
        mm_fill(mm_b, &seed);
        mm_multiply();
        for (int i = 0; i < MM_N; i++)
            for (int j = 0; j < MM_N; j++) {
                /* |c| <= 200 * 16, in steps of 1/16: exact as an int64. */
                int64_t v = (int64_t)(mm_c[i][j] * 16.0);
                h = rt_fnv1a(h, &v, sizeof v);
            }
    }
    return rt_result(h);
}
