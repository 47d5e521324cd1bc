/*
 * write.c - sj_buf and the compact writer.
 *
 * Strings the parser saw without escapes (and keys likewise) are flagged
 * clean and copied with one memcpy; the rest go through the escaper. Number
 * text is copied verbatim. The tree walk follows parent pointers, so writing
 * needs no recursion whatever the depth.
 */
#include "json/json_int.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

void sj_buf_free(sj_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

/* Growth path of sj_buf_reserve. */
static bool buf_grow(sj_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + extra + 1; /* +1: sj_write's NUL never reallocates */
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

/* Once an append failed the content has a hole: every later append refuses
 * too, so a caller that checks only b->oom at the end is still safe. Inline
 * here because the writer calls it for every token. */
static inline bool reserve(sj_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->cap - b->len > extra)
        return true;
    return buf_grow(b, extra);
}

bool sj_buf_reserve(sj_buf *b, size_t extra)
{
    return reserve(b, extra);
}

bool sj_buf_raw(sj_buf *b, const char *s, size_t len)
{
    if (!reserve(b, len))
        return false;
    if (len)
        memcpy(b->data + b->len, s, len);
    b->len += len;
    return true;
}

bool sj_buf_cstr(sj_buf *b, const char *s)
{
    return s ? sj_buf_raw(b, s, strlen(s)) : false;
}

static inline bool buf_ch(sj_buf *b, char c)
{
    if (!reserve(b, 1))
        return false;
    b->data[b->len++] = c;
    return true;
}

/* Integers are written digit by digit rather than with snprintf: every
 * response and log line carries several, and printf's format machinery cost
 * ~700 instructions per number in the gateway's profile. */
static size_t sj_u64_digits(char tmp[24], uint64_t n)
{
    size_t d = 24;
    do
        tmp[--d] = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    return d;
}

bool sj_buf_i64(sj_buf *b, int64_t n)
{
    char tmp[24];
    /* The magnitude as unsigned, so that INT64_MIN does not overflow. */
    uint64_t mag = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
    size_t d = sj_u64_digits(tmp, mag);
    if (n < 0)
        tmp[--d] = '-';
    return sj_buf_raw(b, tmp + d, 24 - d);
}

bool sj_buf_u64(sj_buf *b, uint64_t n)
{
    char tmp[24];
    size_t d = sj_u64_digits(tmp, n);
    return sj_buf_raw(b, tmp + d, 24 - d);
}

/* What a byte needs inside a JSON string: 0 = copy as is, 'u' = \u00XX,
 * another letter = that two-character escape. Bytes >= 0x80 are 0 here
 * and validated separately where the input may be ill-formed. */
static const char esc_table[256] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', [0x0B] = 'u', [0x0E] = 'u', [0x0F] = 'u', [0x10] = 'u',
    [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
    [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1A] = 'u', [0x1B] = 'u', [0x1C] = 'u',
    [0x1D] = 'u', [0x1E] = 'u', [0x1F] = 'u', ['"'] = '"', ['\\'] = '\\',
};

/* First index >= i of u[0..len) that needs a look: '"', '\\', a control
 * character, or (with `high`) a byte >= 0x80. Sixteen bytes at a time while
 * they are in bounds. */
static inline size_t skip_verbatim(const unsigned char *u, size_t i, size_t len, bool high)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1F);
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
        /* v <= 0x1F (unsigned) exactly when max(v, 0x1F) == 0x1F. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (high)
            mask |= (unsigned)_mm_movemask_epi8(v);
        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#endif
    for (; i < len; i++) {
        unsigned char c = u[i];
        if (c < 0x20 || c == '"' || c == '\\' || (high && c >= 0x80))
            return i;
    }
    return len;
}

/*
 * Appends s[0..len) escaped, without quotes. With `check_utf8`, ill-formed
 * UTF-8 becomes U+FFFD (one per bad byte) so the output is always valid JSON;
 * document strings are valid by construction and skip that check.
 */
static bool put_escaped(sj_buf *b, const char *s, size_t len, bool check_utf8)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0; /* u[run..i) is pending verbatim output */
    while (i < len) {
        i = skip_verbatim(u, i, len, check_utf8);
        if (i == len)
            break;
        unsigned char c = u[i];
        if (c >= 0x80) {
            if (!check_utf8) {
                i++;
                continue;
            }
            size_t n = sj_utf8_seq(u + i, len - i);
            if (n) {
                i += n;
                continue;
            }
            if (!sj_buf_raw(b, s + run, i - run) || !sj_buf_raw(b, "\xEF\xBF\xBD", 3))
                return false;
            run = ++i;
            continue;
        }
        char e = esc_table[c];
        if (!e) {
            i++;
            continue;
        }
        if (!sj_buf_raw(b, s + run, i - run))
            return false;
        if (e == 'u') {
            char t[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            if (!sj_buf_raw(b, t, 6))
                return false;
        } else {
            char t[2] = {'\\', e};
            if (!sj_buf_raw(b, t, 2))
                return false;
        }
        run = ++i;
    }
    return sj_buf_raw(b, s + run, len - run);
}

bool sj_buf_str(sj_buf *b, const char *s, size_t len)
{
    if (!s && len)
        return false;
    return buf_ch(b, '"') && put_escaped(b, s ? s : "", len, true) && buf_ch(b, '"');
}

/* A document string or key: clean ones are one memcpy. */
static bool put_string(sj_buf *b, const char *s, size_t len, bool clean)
{
    if (!reserve(b, len + 2))
        return false;
    if (clean) {
        char *o = b->data + b->len;
        o[0] = '"';
        memcpy(o + 1, s, len);
        o[len + 1] = '"';
        b->len += len + 2;
        return true;
    }
    return buf_ch(b, '"') && put_escaped(b, s, len, false) && buf_ch(b, '"');
}

/* Writes v itself: a scalar completely, a container's opening bracket. */
static bool put_open(sj_buf *b, const sj_val *v)
{
    switch (v->type) {
    case SJ_NULL: return sj_buf_raw(b, "null", 4);
    case SJ_FALSE: return sj_buf_raw(b, "false", 5);
    case SJ_TRUE: return sj_buf_raw(b, "true", 4);
    case SJ_NUMBER: return sj_buf_raw(b, v->u.s.ptr, v->u.s.len);
    case SJ_STRING: return put_string(b, v->u.s.ptr, v->u.s.len, v->flags & SJF_STR_CLEAN);
    case SJ_ARRAY: return buf_ch(b, '[');
    default: return buf_ch(b, '{');
    }
}

/* Before an object member: its key and the colon. */
static bool put_key(sj_buf *b, const sj_val *m)
{
    if (m->parent->type != SJ_OBJECT)
        return true;
    return put_string(b, m->key, m->klen, m->flags & SJF_KEY_CLEAN) && buf_ch(b, ':');
}

static inline bool is_open_container(const sj_val *v)
{
    return (v->type == SJ_ARRAY || v->type == SJ_OBJECT) && v->u.c.head;
}

static inline char closer(const sj_val *v)
{
    return v->type == SJ_ARRAY ? ']' : '}';
}

bool sj_buf_val(sj_buf *b, const sj_val *top)
{
    if (!b)
        return false;
    if (!top)
        return sj_buf_raw(b, "null", 4);
    const sj_val *v = top;
    for (;;) {
        if (!put_open(b, v))
            return false;
        if (is_open_container(v)) {
            v = v->u.c.head;
            if (!put_key(b, v))
                return false;
            continue;
        }
        if (v->type == SJ_ARRAY || v->type == SJ_OBJECT)
            buf_ch(b, closer(v)); /* empty container */
        /* v is complete: close finished parents, move to the next sibling. */
        for (;;) {
            if (v == top)
                return !b->oom;
            if (v->next) {
                v = v->next;
                if (!buf_ch(b, ',') || !put_key(b, v))
                    return false;
                break;
            }
            v = v->parent;
            buf_ch(b, closer(v));
        }
    }
}

char *sj_write(const sj_val *v, size_t *len)
{
    sj_buf b = {0};
    /* Most documents we write are requests of a few KB: skip the first
     * doublings of the buffer. */
    if (!reserve(&b, 2048) || !sj_buf_val(&b, v) || !buf_ch(&b, '\0')) {
        sj_buf_free(&b);
        return NULL;
    }
    if (len)
        *len = b.len - 1;
    return b.data;
}
