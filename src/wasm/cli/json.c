/*
 * src/wasm/cli/json.c - minimal recursive-descent JSON reader (see json.h).
 * Depth is bounded; input is trusted only as far as not crashing goes.
 */
#include "wasm/cli/json.h"

#include <stdlib.h>
#include <string.h>

#define SWJ_MAX_DEPTH 64

typedef struct { const char *p, *end; int depth; } swj_parser;

static void skip_ws(swj_parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) ps->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_hex4(swj_parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0) return -1;
        v = v * 16 + (unsigned)h;
    }
    ps->p += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f)); return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f)); return 4;
}

/* Reads a string after its opening quote into a heap buffer (caller owns). */
static char *read_string(swj_parser *ps, size_t *len)
{
    /* the decoded string is never longer than its source text */
    const char *q = ps->p;
    while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    char *out = malloc((size_t)(q - ps->p) + 1);
    if (!out) return NULL;
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c != '\\') { out[n++] = c; continue; }
        if (ps->p >= ps->end) break;
        c = *ps->p++;
        switch (c) {
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'r': out[n++] = '\r'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'u': {
            unsigned cp, lo;
            if (read_hex4(ps, &cp)) goto bad;
            if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
                ps->p += 2;
                if (read_hex4(ps, &lo)) goto bad;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            n += put_utf8(out + n, cp);
            break;
        }
        default: out[n++] = c; break;
        }
    }
    if (ps->p >= ps->end) goto bad;
    ps->p++;
    out[n] = 0;
    *len = n;
    return out;
bad:
    free(out);
    return NULL;
}

static swj *parse_value(swj_parser *ps);

static swj *parse_container(swj_parser *ps, int obj)
{
    swj *v = calloc(1, sizeof *v), **tail = &v->child;
    if (!v) return NULL;
    v->type = obj ? SWJ_OBJ : SWJ_ARR;
    char close = obj ? '}' : ']';
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) { ps->p++; return v; }
    for (;;) {
        char *key = NULL;
        size_t klen;
        skip_ws(ps);
        if (obj) {
            if (ps->p >= ps->end || *ps->p != '"') goto bad;
            ps->p++;
            if (!(key = read_string(ps, &klen))) goto bad;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { free(key); goto bad; }
            ps->p++;
        }
        swj *item = parse_value(ps);
        if (!item) { free(key); goto bad; }
        item->key = key;
        *tail = item;
        tail = &item->next;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == close) { ps->p++; return v; }
        goto bad;
    }
bad:
    swj_free(v);
    return NULL;
}

static swj *parse_value(swj_parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end || ps->depth > SWJ_MAX_DEPTH) return NULL;
    char c = *ps->p;
    swj *v = NULL;
    if (c == '{' || c == '[') {
        ps->p++;
        ps->depth++;
        v = parse_container(ps, c == '{');
        ps->depth--;
        return v;
    }
    v = calloc(1, sizeof *v);
    if (!v) return NULL;
    if (c == '"') {
        ps->p++;
        v->type = SWJ_STR;
        if (!(v->str = read_string(ps, &v->len))) { free(v); return NULL; }
    } else if (ps->end - ps->p >= 4 && !strncmp(ps->p, "true", 4)) {
        v->type = SWJ_BOOL; v->boolean = 1; ps->p += 4;
    } else if (ps->end - ps->p >= 5 && !strncmp(ps->p, "false", 5)) {
        v->type = SWJ_BOOL; ps->p += 5;
    } else if (ps->end - ps->p >= 4 && !strncmp(ps->p, "null", 4)) {
        v->type = SWJ_NULL; ps->p += 4;
    } else {
        const char *s = ps->p;
        while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p)) ps->p++;
        if (ps->p == s) { free(v); return NULL; }
        v->type = SWJ_NUM;
        v->len = (size_t)(ps->p - s);
        if (!(v->str = malloc(v->len + 1))) { free(v); return NULL; }
        memcpy(v->str, s, v->len);
        v->str[v->len] = 0;
    }
    return v;
}

swj *swj_parse(const char *text, size_t len)
{
    swj_parser ps = {text, text + len, 0};
    swj *v = parse_value(&ps);
    skip_ws(&ps);
    if (v && ps.p != ps.end) { swj_free(v); return NULL; }
    return v;
}

void swj_free(swj *v)
{
    while (v) {
        swj *next = v->next;
        swj_free(v->child);
        free(v->str);
        free(v->key);
        free(v);
        v = next;
    }
}

const swj *swj_get(const swj *obj, const char *key)
{
    if (!obj || obj->type != SWJ_OBJ) return NULL;
    for (const swj *c = obj->child; c; c = c->next)
        if (c->key && !strcmp(c->key, key)) return c;
    return NULL;
}

const char *swj_str(const swj *obj, const char *key)
{
    const swj *v = swj_get(obj, key);
    return v && (v->type == SWJ_STR || v->type == SWJ_NUM) ? v->str : NULL;
}
