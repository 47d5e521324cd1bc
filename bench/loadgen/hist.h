/*
 * lg_hist: a log-linear latency histogram in the manner of HdrHistogram.
 * Values (nanoseconds) below 256 have their own bucket; above, every power of
 * two is split into 128 equal buckets, so any recorded value is known to within
 * 1/128 (0.8 %) whatever its magnitude, in a fixed 58 KB array and O(1) adds.
 */
#ifndef LG_HIST_H
#define LG_HIST_H

#include <stdint.h>

#define LG_SUB_BITS 7
#define LG_SUB (1u << LG_SUB_BITS)
#define LG_BUCKETS ((64 - LG_SUB_BITS + 1) * LG_SUB)

typedef struct lg_hist {
    uint64_t count, max;
    uint64_t bucket[LG_BUCKETS];
} lg_hist;

static inline unsigned lg_hist_index(uint64_t v) {
    if (v < 2 * LG_SUB) return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - LG_SUB_BITS;
    return (shift + 1) * LG_SUB + (unsigned)((v >> shift) - LG_SUB);
}

/* The middle of bucket i: what a quantile falling in it reports. */
static inline double lg_hist_value(unsigned i) {
    if (i < 2 * LG_SUB) return (double)i;
    unsigned shift = i / LG_SUB - 1;
    uint64_t lo = (uint64_t)(i % LG_SUB + LG_SUB) << shift;
    return (double)lo + (double)(1ull << shift) / 2.0;
}

static inline void lg_hist_add(lg_hist *h, uint64_t v) {
    h->bucket[lg_hist_index(v)]++;
    h->count++;
    if (v > h->max) h->max = v;
}

/* The smallest recorded value with at least q of all values at or below it. */
static inline double lg_hist_quantile(const lg_hist *h, double q) {
    if (h->count == 0) return 0;
    uint64_t want = (uint64_t)(q * (double)h->count + 0.5);
    if (want < 1) want = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < LG_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= want) {
            double v = lg_hist_value(i);
            return v > (double)h->max ? (double)h->max : v;
        }
    }
    return (double)h->max;
}

#endif
