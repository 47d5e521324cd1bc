/*
 * parse.c - the strict RFC 8259 parser.
 *
 * One pass, no recursion: the current container is a pointer and closing a
 * container moves to its parent, so nesting costs no C stack and the depth
 * limit is a counter.
 *
 * The input is copied once into the document's arena, followed by a NUL
 * sentinel and SJ_PAD bytes of padding. The sentinel is never valid where it
 * can be met (outside strings it is not a token, inside strings it is a
 * control character), so the hot loops need no end-of-buffer checks: reaching
 * the sentinel becomes an ordinary syntax error that we then report as
 * "unexpected end of input". The padding lets the string scanner read 16
 * bytes at a time.
 *
 * Strings are decoded in place in that copy (an escape is never shorter than
 * what it decodes to) and their closing quote is overwritten with NUL, so
 * every string and key is a NUL-terminated view and costs no allocation.
 */
#include "json/json_int.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define SJ_DEFAULT_DEPTH 512
#define SJ_DEFAULT_BYTES ((size_t)64 << 20)

typedef struct parser {
    sj_doc *doc;
    char *base; /* start of the input copy */
    char *end;  /* the NUL sentinel */
    const char *msg;
    const char *at; /* where the error is */
} parser;

/* Records the first error; returns NULL so callers can `return fail(...)`. */
static char *fail(parser *ps, const char *at, const char *msg)
{
    if (!ps->msg) {
        /* Running into the sentinel means the input stopped early. */
        if (at >= ps->end) {
            at = ps->end;
            msg = "unexpected end of input";
        }
        ps->msg = msg;
        ps->at = at;
    }
    return NULL;
}

static inline char *skip_ws(char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return p;
}

/* First byte at or after p that is '"', '\\', a control character or
 * non-ASCII. Always stops, at the latest on the sentinel. */
static inline char *skip_plain(char *p)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    for (;;) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compare: bytes >= 0x80 are negative, so "< 0x20" also
         * catches them, which is what we want. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#else
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
            return p;
        p++;
    }
#endif
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Four hex digits at p, or -1. Stops at the first non-hex byte, so it never
 * reads past the sentinel. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Decodes the escape at p (p[0] == '\\') into *w. Returns the input position
 * after it and advances *w, or NULL on error. */
static char *parse_escape(parser *ps, char *p, char **w)
{
    char c;
    switch (p[1]) {
    case '"': c = '"'; break;
    case '\\': c = '\\'; break;
    case '/': c = '/'; break;
    case 'b': c = '\b'; break;
    case 'f': c = '\f'; break;
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;
    case 'u': {
        long cp = hex4(p + 2);
        if (cp < 0)
            return fail(ps, p, "invalid \\u escape (4 hex digits expected)");
        p += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail(ps, p - 6, "lone low surrogate escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = (p[0] == '\\' && p[1] == 'u') ? hex4(p + 2) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return fail(ps, p - 6, "lone high surrogate escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        *w += sj_utf8_put(*w, (uint32_t)cp);
        return p;
    }
    default:
        return fail(ps, p, "invalid escape in string");
    }
    *(*w)++ = c;
    return p + 2;
}

/* Parses the string whose opening quote is at p[-1]. On success stores the
 * decoded view and returns the position after the closing quote. */
static char *parse_string(parser *ps, char *p, const char **out, size_t *len, bool *clean)
{
    char *start = p;
    char *w = NULL; /* write position once an escape forced decoding */
    for (;;) {
        char *q = skip_plain(p);
        if (w) {
            memmove(w, p, (size_t)(q - p));
            w += q - p;
        }
        p = q;
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            char *stop = w ? w : p;
            *stop = '\0';
            *out = start;
            *len = (size_t)(stop - start);
            *clean = (w == NULL);
            return p + 1;
        }
        if (c == '\\') {
            if (!w)
                w = p;
            p = parse_escape(ps, p, &w);
            if (!p)
                return NULL;
        } else if (c >= 0x80) {
            size_t n = sj_utf8_seq((const unsigned char *)p, SJ_PAD);
            if (!n)
                return fail(ps, p, "invalid UTF-8 in string");
            if (w) {
                memmove(w, p, n);
                w += n;
            }
            p += n;
        } else {
            /* The sentinel lands here too; fail() reports it as the end. */
            return fail(ps, p, "control character in string (must be escaped)");
        }
    }
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Scans the number at p; returns the position after it or NULL. */
static char *parse_number(parser *ps, char *p)
{
    char *s = p;
    if (*p == '-')
        p++;
    if (*p == '0') {
        p++;
        if (is_digit(*p))
            return fail(ps, s, "leading zero in number");
    } else if (is_digit(*p)) {
        while (is_digit(*p))
            p++;
    } else {
        return fail(ps, s, "invalid number");
    }
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return fail(ps, p, "digit expected after decimal point");
        while (is_digit(*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return fail(ps, p, "digit expected in exponent");
        while (is_digit(*p))
            p++;
    }
    return p;
}

/* Attaches a new value of type t to container cur (with the pending key if cur
 * is an object), or makes it the root. */
static inline sj_val *new_child(parser *ps, sj_val *cur, sj_type t, const char *key, size_t klen,
                                bool kclean)
{
    sj_val *v = sj_val_alloc(ps->doc, t);
    if (!v)
        return NULL;
    if (cur) {
        if (cur->type == SJ_OBJECT) {
            v->key = key;
            v->klen = (uint32_t)klen;
            v->flags = kclean ? SJF_KEY_CLEAN : 0;
        }
        sj_link_tail(cur, v);
    } else {
        ps->doc->root = v;
    }
    return v;
}

/* The parse proper over the sentinel-terminated copy. Returns false with
 * ps->msg/at set on error. */
static bool parse_doc(parser *ps, size_t max_depth)
{
    char *p = skip_ws(ps->base);
    sj_val *cur = NULL; /* innermost open container */
    size_t depth = 0;
    const char *key = NULL;
    size_t klen = 0;
    bool kclean = false;
    sj_val *v;

value:
    /* p is at the start of a value (whitespace skipped). */
    switch (*p) {
    case '{':
    case '[':
        if (++depth > max_depth) {
            fail(ps, p, "nesting too deep");
            return false;
        }
        v = new_child(ps, cur, *p == '{' ? SJ_OBJECT : SJ_ARRAY, key, klen, kclean);
        if (!v)
            goto oom;
        cur = v;
        p = skip_ws(p + 1);
        if (cur->type == SJ_ARRAY) {
            if (*p == ']') {
                p++;
                goto close;
            }
            goto value;
        }
        if (*p == '}') {
            p++;
            goto close;
        }
        goto member;
    case '"': {
        const char *s;
        size_t len;
        bool clean;
        v = new_child(ps, cur, SJ_STRING, key, klen, kclean);
        if (!v)
            goto oom;
        p = parse_string(ps, p + 1, &s, &len, &clean);
        if (!p)
            return false;
        v->u.s.ptr = s;
        v->u.s.len = len;
        if (clean)
            v->flags |= SJF_STR_CLEAN;
        break;
    }
    case 't':
        if (memcmp(p, "true", 4) != 0)
            goto literal;
        if (!new_child(ps, cur, SJ_TRUE, key, klen, kclean))
            goto oom;
        p += 4;
        break;
    case 'f':
        if (memcmp(p, "false", 5) != 0)
            goto literal;
        if (!new_child(ps, cur, SJ_FALSE, key, klen, kclean))
            goto oom;
        p += 5;
        break;
    case 'n':
        if (memcmp(p, "null", 4) != 0)
            goto literal;
        if (!new_child(ps, cur, SJ_NULL, key, klen, kclean))
            goto oom;
        p += 4;
        break;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': {
        char *s = p;
        p = parse_number(ps, p);
        if (!p)
            return false;
        v = new_child(ps, cur, SJ_NUMBER, key, klen, kclean);
        if (!v)
            goto oom;
        v->u.s.ptr = s;
        v->u.s.len = (size_t)(p - s);
        break;
    }
    default:
        fail(ps, p, "value expected");
        return false;
    }

after:
    /* A value is complete; cur is its container (NULL at top level). */
    if (!cur) {
        p = skip_ws(p);
        if (p != ps->end) {
            fail(ps, p, "unexpected data after the JSON value");
            return false;
        }
        return true;
    }
    p = skip_ws(p);
    if (cur->type == SJ_ARRAY) {
        if (*p == ',') {
            p = skip_ws(p + 1);
            if (*p == ']') {
                fail(ps, p, "trailing comma");
                return false;
            }
            goto value;
        }
        if (*p == ']') {
            p++;
            goto close;
        }
        fail(ps, p, "expected ',' or ']' in array");
        return false;
    }
    if (*p == ',') {
        p = skip_ws(p + 1);
        if (*p == '}') {
            fail(ps, p, "trailing comma");
            return false;
        }
        goto member;
    }
    if (*p == '}') {
        p++;
        goto close;
    }
    fail(ps, p, "expected ',' or '}' in object");
    return false;

member:
    /* p is at an object member's key (whitespace skipped). */
    if (*p != '"') {
        fail(ps, p, "object key (a string) expected");
        return false;
    }
    {
        char *kstart = p;
        p = parse_string(ps, p + 1, &key, &klen, &kclean);
        if (!p)
            return false;
        if (klen > UINT32_MAX) {
            fail(ps, kstart, "object key too long");
            return false;
        }
    }
    p = skip_ws(p);
    if (*p != ':') {
        fail(ps, p, "expected ':' after object key");
        return false;
    }
    p = skip_ws(p + 1);
    goto value;

close:
    /* The container cur just closed: it is a complete value of its parent. */
    depth--;
    cur = cur->parent;
    goto after;

literal:
    fail(ps, p, "invalid literal (true, false or null expected)");
    return false;

oom:
    fail(ps, p, "out of memory");
    return false;
}

sj_doc *sj_parse(const char *buf, size_t len, const sj_parse_opts *opts, sj_error *err)
{
    size_t max_depth = opts && opts->max_depth ? opts->max_depth : SJ_DEFAULT_DEPTH;
    size_t max_bytes = opts && opts->max_bytes ? opts->max_bytes : SJ_DEFAULT_BYTES;
    if (err) {
        err->offset = 0;
        err->msg = NULL;
    }
    if (len > max_bytes) {
        if (err) {
            err->offset = max_bytes;
            err->msg = "input larger than max_bytes";
        }
        return NULL;
    }
    if (!buf && len) {
        if (err)
            err->msg = "NULL input";
        return NULL;
    }
    /* Room for the copy and, in the same malloc, a guess at the values:
     * typical API JSON has one value per 20-40 bytes (a value is 56). */
    size_t copy = (len + 1 + SJ_PAD + (SJ_ALIGN - 1)) & ~(size_t)(SJ_ALIGN - 1);
    size_t guess = len < ((size_t)1 << 20) ? len * 2 + 512 : len / 2;
    sj_doc *doc = len < SIZE_MAX / 4 ? sj_doc_create(copy + guess) : NULL;
    if (!doc) {
        if (err)
            err->msg = "out of memory";
        return NULL;
    }
    char *base = sj_arena_alloc(&doc->arena, copy);
    if (len)
        memcpy(base, buf, len);
    memset(base + len, 0, SJ_PAD + 1);

    doc->src = base;
    doc->src_len = len;
    parser ps = {.doc = doc, .base = base, .end = base + len};
    if (!parse_doc(&ps, max_depth)) {
        if (err) {
            err->offset = (size_t)(ps.at - base);
            err->msg = ps.msg;
        }
        sj_doc_free(doc);
        return NULL;
    }
    return doc;
}
