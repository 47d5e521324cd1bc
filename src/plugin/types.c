/*
 * src/plugin/types.c - the helpers of include/sluice/plugin.h (string maps,
 * bodies, the request context) and the small base64 codec the hook JSON
 * needs (bodies travel as standard base64, like Go's []byte).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin/plugin_int.h"

/* ---- string maps ---------------------------------------------------------- */

const char *sluice_map_get(const sluice_map *m, const char *name)
{
    for (size_t i = 0; m && i < m->count; i++)
        if (strcasecmp(m->items[i].name, name) == 0) return m->items[i].value;
    return NULL;
}

bool sluice_map_set(sluice_map *m, const char *name, const char *value)
{
    char *v = strdup(value);
    if (!v) return false;
    for (size_t i = 0; i < m->count; i++) {
        if (strcasecmp(m->items[i].name, name) == 0) {
            free(m->items[i].value);
            m->items[i].value = v;
            return true;
        }
    }
    char *n = strdup(name);
    if (!n) { free(v); return false; }
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        sluice_pair *items = realloc(m->items, cap * sizeof *items);
        if (!items) { free(n); free(v); return false; }
        m->items = items;
        m->cap = cap;
    }
    m->items[m->count].name = n;
    m->items[m->count].value = v;
    m->count++;
    return true;
}

size_t sluice_map_del(sluice_map *m, const char *name)
{
    size_t kept = 0, removed = 0;
    for (size_t i = 0; i < m->count; i++) {
        if (strcasecmp(m->items[i].name, name) == 0) {
            free(m->items[i].name);
            free(m->items[i].value);
            removed++;
        } else {
            m->items[kept++] = m->items[i];
        }
    }
    m->count = kept;
    return removed;
}

void sluice_map_clear(sluice_map *m)
{
    for (size_t i = 0; i < m->count; i++) {
        free(m->items[i].name);
        free(m->items[i].value);
    }
    free(m->items);
    m->items = NULL;
    m->count = m->cap = 0;
}

bool sluice_body_set(uint8_t **body, size_t *body_len, const void *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return false;
    if (len) memcpy(copy, data, len);
    free(*body);
    *body = copy;
    *body_len = len;
    return true;
}

void plg_request_clear(sluice_http_request *r)
{
    free(r->method);
    free(r->path);
    sluice_map_clear(&r->headers);
    sluice_map_clear(&r->query);
    sluice_map_clear(&r->path_params);
    free(r->body);
    memset(r, 0, sizeof *r);
}

void plg_response_clear(sluice_http_response *r)
{
    sluice_map_clear(&r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

void plg_chat_clear(sluice_chat *c)
{
    sj_doc_free(c->request);
    sj_doc_free(c->response);
    sj_doc_free(c->error);
    memset(c, 0, sizeof *c);
}

/* ---- context --------------------------------------------------------------- */

bool plg_ctx_init(sluice_ctx *c, const char *request_id)
{
    c->doc = sj_doc_new();
    if (!c->doc) return false;
    sj_val *root = sj_new_obj(c->doc);
    sj_val *id = sj_new_cstr(c->doc, request_id ? request_id : "");
    if (!root || !id || !sj_set(c->doc, root, "request_id", id)) {
        sj_doc_free(c->doc);
        c->doc = NULL;
        return false;
    }
    sj_doc_set_root(c->doc, root);
    return true;
}

void plg_ctx_clear(sluice_ctx *c)
{
    sj_doc_free(c->doc);
    c->doc = NULL;
}

const sj_val *sluice_ctx_get(const sluice_ctx *c, const char *key)
{
    return c && c->doc ? sj_get(sj_doc_root(c->doc), key) : NULL;
}

const char *sluice_ctx_get_str(const sluice_ctx *c, const char *key)
{
    return sj_str(sluice_ctx_get(c, key), NULL);
}

bool sluice_ctx_set(sluice_ctx *c, const char *key, const sj_val *v)
{
    if (!c || !c->doc || strcmp(key, "request_id") == 0) return false;
    sj_val *copy = sj_copy(c->doc, v);
    return copy && sj_set(c->doc, sj_doc_root(c->doc), key, copy);
}

bool sluice_ctx_set_str(sluice_ctx *c, const char *key, const char *value)
{
    if (!c || !c->doc || strcmp(key, "request_id") == 0) return false;
    sj_val *s = sj_new_cstr(c->doc, value);
    return s && sj_set(c->doc, sj_doc_root(c->doc), key, s);
}

/* ---- base64 (RFC 4648 standard alphabet, padded) ----------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool plg_b64_encode(sj_buf *b, const uint8_t *src, size_t len)
{
    if (!sj_buf_reserve(b, (len + 2) / 3 * 4)) return false;
    char *o = b->data + b->len;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        *o++ = b64_alphabet[v >> 18];
        *o++ = b64_alphabet[(v >> 12) & 63];
        *o++ = b64_alphabet[(v >> 6) & 63];
        *o++ = b64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)src[i] << 16 | (i + 1 < len ? (uint32_t)src[i + 1] << 8 : 0);
        *o++ = b64_alphabet[v >> 18];
        *o++ = b64_alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->data);
    return true;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 (padding optional, no whitespace). Returns a
 * malloc'd buffer the caller frees, or NULL (bad input or OOM). */
uint8_t *plg_b64_decode(const char *s, size_t len, size_t *out_len)
{
    while (len > 0 && s[len - 1] == '=') len--;
    if (len % 4 == 1) return NULL;
    uint8_t *out = malloc(len / 4 * 3 + 3);
    if (!out) return NULL;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) { free(out); return NULL; }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    *out_len = n;
    return out;
}
