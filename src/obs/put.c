/*
 * put.c - the fast JSON writers of log lines and store rows (see put.h).
 */
#include <stdbool.h>

#include "obs/put.h"

/* Whether none of the 8 bytes in w needs more than a copy: no control byte
 * (< 0x20), no '"' or '\\', nothing >= 0x7f. The borrow tricks below can
 * misreport a byte next to one that matches, never miss a match, so the
 * answer for the word as a whole is exact. */
static inline bool obs_word_plain(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\'), del = w ^ (ones * 0x7f);
    uint64_t ctl = (w - ones * 0x20) & ~w;
    uint64_t hit = ctl | ((q - ones) & ~q) | ((bs - ones) & ~bs) | ((del - ones) & ~del) | w;
    return (hit & high) == 0;
}

char *obs_put_str(sj_buf *b, char *p, const char *v)
{
    return obs_put_strn(b, p, v, strlen(v));
}

/* Plain bytes are copied as they are checked, a word at a time, so nothing
 * calls memcpy for a variable length (a libc call per string cost more than
 * the check). A string of 8 bytes or more ends with its last 8 bytes, which
 * may overlap the words before; a shorter one goes byte by byte. */
char *obs_put_strn(sj_buf *b, char *p, const char *v, size_t len)
{
    char *q = p + 1;   /* after the opening quote */
    if (len >= 8) {
        size_t i = 0;
        uint64_t w;
        for (; i + 8 <= len; i += 8) {
            memcpy(&w, v + i, 8);
            if (!obs_word_plain(w))
                goto escape;
            memcpy(q + i, &w, 8);
        }
        if (i < len) {
            memcpy(&w, v + len - 8, 8);
            if (!obs_word_plain(w))
                goto escape;
            memcpy(q + len - 8, &w, 8);
        }
    } else {
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)v[i];
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)
                goto escape;
            q[i] = (char)c;
        }
    }
    *p = '"';
    q[len] = '"';
    return q + len + 1;
escape:
    b->len = (size_t)(p - b->data);
    sj_buf_str(b, v, len);
    if (!sj_buf_reserve(b, OBS_RECORD_JSON_MAX))
        return NULL;
    return b->data + b->len;
}

/* Decimal digits of u: an estimate from its bit length (log10(2) ~
 * 1233/4096), corrected by one comparison; no loop of divisions. */
static int obs_digits(uint64_t u)
{
    static const uint64_t pow10[] = {1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
                                     100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
                                     1000000000000ull, 10000000000000ull, 100000000000000ull,
                                     1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
                                     1000000000000000000ull, 10000000000000000000ull};
    if (u < 10)
        return 1;
    int t = ((64 - __builtin_clzll(u)) * 1233) >> 12;
    return t + (u >= pow10[t]);
}

char *obs_put_i64(char *p, int64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    if (v < 0)
        return OBS_PUT_LIT(p, "null");
    uint64_t u = (uint64_t)v;
    char *end = p + obs_digits(u);
    for (p = end; u >= 100; u /= 100) {   /* two digits per division */
        p -= 2;
        memcpy(p, pairs + u % 100 * 2, 2);
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, pairs + u * 2, 2);
    } else {
        *--p = (char)('0' + u);
    }
    return end;
}

char *obs_put_ms(char *p, double v)
{
    if (v < 0 || v != v)
        return OBS_PUT_LIT(p, "null");
    if (v > 9e12)
        v = 9e12;
    int64_t us = (int64_t)(v * 1000 + 0.5);
    p = obs_put_i64(p, us / 1000);
    *p++ = '.';
    *p++ = (char)('0' + us / 100 % 10);
    *p++ = (char)('0' + us / 10 % 10);
    *p++ = (char)('0' + us % 10);
    return p;
}

bool obs_row_build(sj_buf *b, const obs_record *r, obs_row_spans *sp)
{
    b->len = 0;
    b->oom = false;
    if (!sj_buf_reserve(b, OBS_RECORD_JSON_MAX))
        return false;
    char *p = b->data;
    int v = 0;
    *p++ = '[';
    p = obs_put_i64(p, r->ts_ms);
    /* Offsets, not pointers: the string writer's escape path may move b->data. */
#define OBS_VALUE(expr)                                                                                                \
    do {                                                                                                               \
        *p++ = ',';                                                                                                    \
        size_t at_ = (size_t)(p - b->data);                                                                            \
        if ((p = (expr)) == NULL)                                                                                      \
            return false;                                                                                              \
        sp->at[v] = (uint32_t)at_;                                                                                     \
        sp->len[v++] = (uint32_t)((size_t)(p - b->data) - at_);                                                        \
    } while (0)
    OBS_VALUE(obs_put_str(b, p, r->request_id));
    OBS_VALUE(obs_put_str(b, p, r->method));
    OBS_VALUE(obs_put_str(b, p, r->path));
    OBS_VALUE(obs_put_str(b, p, r->provider));
    OBS_VALUE(obs_put_str(b, p, r->model));
    OBS_VALUE(obs_put_i64(p, r->status));
    OBS_VALUE(r->stream ? OBS_PUT_LIT(p, "1") : OBS_PUT_LIT(p, "0"));
    OBS_VALUE(obs_put_ms(p, r->total_ms));
    OBS_VALUE(obs_put_ms(p, r->upstream_ms));
    OBS_VALUE(obs_put_ms(p, r->ttft_ms));
    OBS_VALUE(obs_put_i64(p, r->prompt_tokens));
    OBS_VALUE(obs_put_i64(p, r->completion_tokens));
    OBS_VALUE(obs_put_i64(p, r->retries));
    OBS_VALUE(obs_put_str(b, p, r->fallback));
    OBS_VALUE(obs_put_str(b, p, r->error));
    OBS_VALUE(obs_put_i64(p, r->plugin_errors));
#undef OBS_VALUE
    *p++ = ']';
    b->len = (size_t)(p - b->data);
    return sj_buf_reserve(b, OBS_ROW_SLACK);   /* no-op: the first reservation left far more */
}
