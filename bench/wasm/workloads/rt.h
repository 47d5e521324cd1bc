/*
 * rt.h - the tiny runtime shared by the WebAssembly benchmark workloads.
 *
 * Every workload is one C file compiled twice: natively (cc -O2, linked with
 * native_main.c) and to freestanding wasm32 (clang --target=wasm32 -nostdlib,
 * no libc at all). This header gives both builds the same few helpers so the
 * workload code is identical on both sides and the checksums must agree.
 *
 * BENCH_QUICK (set by the Makefile for the `make bench-quick` variants)
 * shrinks each workload; workloads pick their sizes with BENCH_SIZE(full, quick).
 */
#ifndef BENCH_WASM_RT_H
#define BENCH_WASM_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef BENCH_QUICK
#define BENCH_SIZE(full, quick) (quick)
#else
#define BENCH_SIZE(full, quick) (full)
#endif

/* The one entry point each workload defines. The wasm build exports it
 * (-Wl,--export=bench); native_main.c calls it. */
long long bench(void);

#ifdef __wasm__
/* The compiler may emit calls to these (struct copies, zeroing loops) even
 * when the source never names them, and there is no libc to provide them.
 * Byte loops are enough: the workloads never copy much. Clang does not turn
 * a function named memset/memcpy back into a call to itself. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}
#else
#include <string.h>
#endif

/* xorshift32: the deterministic input generator every workload uses, so the
 * native and wasm builds see the very same data. `state` must not be 0. */
static inline uint32_t rt_xorshift32(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* FNV-1a over a byte range, chained through `h` (start with RT_FNV_INIT). */
#define RT_FNV_INIT 0xcbf29ce484222325ull
static inline uint64_t rt_fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* The value bench() returns: 63 bits, so that it reads the same whether an
 * engine prints i64 results signed (sluice-wasm) or unsigned (wasm-interp). */
static inline long long rt_result(uint64_t h) {
    return (long long)(h & 0x7fffffffffffffffull);
}

#endif
