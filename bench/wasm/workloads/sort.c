/*
 * sort.c - memory-bound integer work: bottom-up merge sort of 512K
 * pseudo-random uint32 (xorshift), 4 MB of linear memory in the wasm build.
 */
#include "rt.h"

#define SORT_N BENCH_SIZE(1u << 19, 1u << 17)

static uint32_t sort_a[SORT_N], sort_tmp[SORT_N];

/* Merges the sorted runs src[lo,mid) and src[mid,hi) into dst[lo,hi). */
static void sort_merge(uint32_t *dst, const uint32_t *src, uint32_t lo, uint32_t mid, uint32_t hi) {
    uint32_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) dst[k++] = src[j] < src[i] ? src[j++] : src[i++];
    while (i < mid) dst[k++] = src[i++];
    while (j < hi) dst[k++] = src[j++];
}

/* Sorts sort_a; returns the buffer holding the result (the passes ping-pong
 * between the two arrays). */
static uint32_t *sort_run(void) {
    uint32_t *src = sort_a, *dst = sort_tmp;
    for (uint32_t w = 1; w < SORT_N; w *= 2) {
        for (uint32_t lo = 0; lo < SORT_N; lo += 2 * w) {
            uint32_t mid = lo + w < SORT_N ? lo + w : SORT_N;
            uint32_t hi = lo + 2 * w < SORT_N ? lo + 2 * w : SORT_N;
            sort_merge(dst, src, lo, mid, hi);
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

long long bench(void) {
    uint32_t seed = 2463534242u;
    for (uint32_t i = 0; i < SORT_N; i++) sort_a[i] = rt_xorshift32(&seed);
    const uint32_t *s = sort_run();
    uint64_t h = RT_FNV_INIT;
    for (uint32_t i = 0; i < SORT_N; i++) {
        if (i && s[i - 1] > s[i]) return -1; /* not sorted: a wrong answer */
        h = (h ^ s[i]) * 0x100000001b3ull;
    }
    return rt_result(h);
}
