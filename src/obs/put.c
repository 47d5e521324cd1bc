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

char *obs_put_strn(sj_buf *b, char *p, const char *v, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, v + i, 8);
        if (!obs_word_plain(w))
            goto escape;
    }
    if (i < len) {   /* the tail, padded with a plain byte */
        uint64_t w = 0x6161616161616161ull;
        memcpy(&w, v + i, len - i);
        if (!obs_word_plain(w))
            goto escape;
    }
    *p++ = '"';
    memcpy(p, v, len);
    p += len;
    *p++ = '"';
    return p;
escape:
    b->len = (size_t)(p - b->data);
    sj_buf_str(b, v, len);
    if (!sj_buf_reserve(b, OBS_RECORD_JSON_MAX))
        return NULL;
    return b->data + b->len;
}

char *obs_put_i64(char *p, int64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    if (v < 0)
        return OBS_PUT_LIT(p, "null");
    uint64_t u = (uint64_t)v;
    int n = 1;
    for (uint64_t t = u; t >= 10; t /= 10)
        n++;
    char *end = p + n;
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
