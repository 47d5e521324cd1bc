/*
 * src/wasm/numeric.h - WebAssembly arithmetic where C's differs: float
 * min/max (NaN and signed zeros), bit-exact abs/neg/copysign (no NaN
 * canonicalization), range checks of float-to-int truncation, saturating
 * truncation, rotations and counts. Inlined into the interpreter.
 */
#ifndef SLUICE_WASM_NUMERIC_H
#define SLUICE_WASM_NUMERIC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint64_t f64_bits(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }
static inline double bits_f64(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }

/* min/max: any NaN operand gives a NaN; -0 < +0. */
static inline float wf32_min(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return bits_f32(f32_bits(a) | f32_bits(b));
    return a < b ? a : b;
}
static inline float wf32_max(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return bits_f32(f32_bits(a) & f32_bits(b));
    return a > b ? a : b;
}
static inline double wf64_min(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return bits_f64(f64_bits(a) | f64_bits(b));
    return a < b ? a : b;
}
static inline double wf64_max(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return bits_f64(f64_bits(a) & f64_bits(b));
    return a > b ? a : b;
}

static inline uint32_t rotl32(uint32_t a, uint32_t b) { b &= 31; return (a << b) | (a >> ((32 - b) & 31)); }
static inline uint32_t rotr32(uint32_t a, uint32_t b) { b &= 31; return (a >> b) | (a << ((32 - b) & 31)); }
static inline uint64_t rotl64(uint64_t a, uint64_t b) { b &= 63; return (a << b) | (a >> ((64 - b) & 63)); }
static inline uint64_t rotr64(uint64_t a, uint64_t b) { b &= 63; return (a >> b) | (a << ((64 - b) & 63)); }
static inline uint32_t clz32(uint32_t a) { return a ? (uint32_t)__builtin_clz(a) : 32; }
static inline uint32_t ctz32(uint32_t a) { return a ? (uint32_t)__builtin_ctz(a) : 32; }
static inline uint64_t clz64(uint64_t a) { return a ? (uint64_t)__builtin_clzll(a) : 64; }
static inline uint64_t ctz64(uint64_t a) { return a ? (uint64_t)__builtin_ctzll(a) : 64; }

/* Truncation range checks on the exact double value (f32 converts
 * exactly). Return 0 ok, 1 NaN, 2 out of range. */
static inline int trunc_check(double x, double lo_excl, double hi_excl)
{
    if (x != x) return 1;
    return (x > lo_excl && x < hi_excl) ? 0 : 2;
}
#define TR_I32_S -2147483649.0, 2147483648.0
#define TR_U32   -1.0, 4294967296.0
#define TR_I64_S -9223372036854777856.0, 9223372036854775808.0
#define TR_U64   -1.0, 18446744073709551616.0

static inline int32_t sat_i32_s(double x)
{
    if (x != x) return 0;
    if (x <= -2147483648.0) return INT32_MIN;
    if (x >= 2147483647.0) return x >= 2147483648.0 ? INT32_MAX : (int32_t)x;
    return (int32_t)x;
}
static inline uint32_t sat_i32_u(double x)
{
    if (x != x || x <= -1.0) return 0;
    if (x >= 4294967296.0) return UINT32_MAX;
    return (uint32_t)x;
}
static inline int64_t sat_i64_s(double x)
{
    if (x != x) return 0;
    if (x < -9223372036854775808.0) return INT64_MIN;
    if (x >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)x;
}
static inline uint64_t sat_i64_u(double x)
{
    if (x != x || x <= -1.0) return 0;
    if (x >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)x;
}

#endif
