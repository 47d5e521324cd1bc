/*
 * fib.c - call-heavy workload: naive recursive Fibonacci.
 *
 * Measures the cost of a wasm call/return (frame set-up, argument passing),
 * which dominates plugin hooks that call many small helpers.
 */
#include "rt.h"

/* Not static, and noinline, so the compiler keeps a real recursive call in
 * both builds. (clang and gcc both turn the second call into a loop that
 * accumulates; what remains is still about 15 million calls for fib(35).) */
__attribute__((noinline)) uint32_t fib(uint32_t n);
uint32_t fib(uint32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

long long bench(void) {
    const uint32_t n = BENCH_SIZE(35, 30);
    uint64_t h = RT_FNV_INIT;
    uint32_t v = fib(n);
    h = rt_fnv1a(h, &v, sizeof v);
    return rt_result(h ^ v);
}
