/*
 * src/plugin/marshal.c - the hook JSON of SPEC §3: building each hook's
 * input from the typed request data (by hand into an sj_buf: this runs per
 * request and per streamed chunk) and applying a hook's parsed output back
 * onto that data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin_int.h"

/* ---- input ------------------------------------------------------------------- */

static void put_map(sj_buf *b, const sluice_map *m)
{
    sj_buf_raw(b, "{", 1);
    for (size_t i = 0; i < m->count; i++) {
        if (i) sj_buf_raw(b, ",", 1);
        sj_buf_str(b, m->items[i].name, strlen(m->items[i].name));
        sj_buf_raw(b, ":", 1);
        sj_buf_str(b, m->items[i].value, strlen(m->items[i].value));
    }
    sj_buf_raw(b, "}", 1);
}

static void put_body(sj_buf *b, const uint8_t *body, size_t len)
{
    if (!body) { sj_buf_cstr(b, "null"); return; }
    sj_buf_raw(b, "\"", 1);
    plg_b64_encode(b, body, len);
    sj_buf_raw(b, "\"", 1);
}

static void put_cstr(sj_buf *b, const char *s) { sj_buf_str(b, s ? s : "", s ? strlen(s) : 0); }

static void put_request(sj_buf *b, const sluice_http_request *r)
{
    sj_buf_cstr(b, "{\"method\":");
    put_cstr(b, r->method);
    sj_buf_cstr(b, ",\"path\":");
    put_cstr(b, r->path);
    sj_buf_cstr(b, ",\"headers\":");
    put_map(b, &r->headers);
    sj_buf_cstr(b, ",\"query\":");
    put_map(b, &r->query);
    sj_buf_cstr(b, ",\"path_params\":");
    put_map(b, &r->path_params);
    sj_buf_cstr(b, ",\"body\":");
    put_body(b, r->body, r->body_len);
    sj_buf_raw(b, "}", 1);
}

static void put_response(sj_buf *b, const sluice_http_response *r)
{
    sj_buf_cstr(b, "{\"status_code\":");
    sj_buf_i64(b, r->status_code);
    sj_buf_cstr(b, ",\"headers\":");
    put_map(b, &r->headers);
    sj_buf_cstr(b, ",\"body\":");
    put_body(b, r->body, r->body_len);
    sj_buf_raw(b, "}", 1);
}

static void put_doc(sj_buf *b, const sj_doc *d)
{
    const sj_val *v = d ? sj_doc_root(d) : NULL;
    if (v) sj_buf_val(b, v);
    else sj_buf_cstr(b, "null");
}

static void put_ctx(sj_buf *b, const sluice_ctx *ctx)
{
    sj_buf_cstr(b, "{\"context\":");
    put_doc(b, ctx->doc);
}

bool plg_json_http_pre_in(sj_buf *b, const sluice_ctx *ctx, const sluice_http_request *req)
{
    put_ctx(b, ctx);
    sj_buf_cstr(b, ",\"request\":");
    put_request(b, req);
    return sj_buf_raw(b, "}", 1);
}

bool plg_json_http_post_in(sj_buf *b, const sluice_ctx *ctx, const sluice_http_request *req,
                           const sluice_http_response *resp)
{
    put_ctx(b, ctx);
    sj_buf_cstr(b, ",\"request\":");
    put_request(b, req);
    sj_buf_cstr(b, ",\"response\":");
    put_response(b, resp);
    return sj_buf_raw(b, "}", 1);
}

bool plg_json_chunk_in(sj_buf *b, const sluice_ctx *ctx, const sluice_http_request *req, const sj_doc *chunk)
{
    put_ctx(b, ctx);
    sj_buf_cstr(b, ",\"request\":");
    put_request(b, req);
    sj_buf_cstr(b, ",\"chunk\":");
    put_doc(b, chunk);
    return sj_buf_raw(b, "}", 1);
}

/* The Bifrost chat request union from an OpenAI request: "provider/model"
 * splits into provider and model, messages become input, the rest params. */
static void put_chat_request(sj_buf *b, const sj_doc *req)
{
    const sj_val *root = req ? sj_doc_root(req) : NULL;
    size_t mlen = 0;
    const char *model = sj_str(sj_get(root, "model"), &mlen);
    const char *slash = model ? memchr(model, '/', mlen) : NULL;
    sj_buf_cstr(b, "{\"chat_request\":{\"provider\":");
    sj_buf_str(b, slash ? model : "", slash ? (size_t)(slash - model) : 0);
    sj_buf_cstr(b, ",\"model\":");
    if (slash) sj_buf_str(b, slash + 1, mlen - (size_t)(slash + 1 - model));
    else sj_buf_str(b, model ? model : "", model ? mlen : 0);
    sj_buf_cstr(b, ",\"input\":");
    const sj_val *msgs = sj_get(root, "messages");
    if (msgs) sj_buf_val(b, msgs);
    else sj_buf_cstr(b, "[]");
    sj_buf_cstr(b, ",\"params\":{");
    bool first = true;
    for (const sj_val *m = sj_first(root); m; m = sj_next(m)) {
        size_t klen;
        const char *k = sj_key(m, &klen);
        if (!strcmp(k, "model") || !strcmp(k, "messages") || !strcmp(k, "fallbacks")) continue;
        if (!first) sj_buf_raw(b, ",", 1);
        first = false;
        sj_buf_str(b, k, klen);
        sj_buf_raw(b, ":", 1);
        sj_buf_val(b, m);
    }
    sj_buf_cstr(b, "},\"fallbacks\":");
    const sj_val *fb = sj_get(root, "fallbacks");
    if (fb) sj_buf_val(b, fb);
    else sj_buf_cstr(b, "[]");
    sj_buf_cstr(b, "}}");
}

bool plg_json_pre_in(sj_buf *b, const sluice_ctx *ctx, const sluice_chat *chat)
{
    put_ctx(b, ctx);
    sj_buf_cstr(b, ",\"request\":");
    put_chat_request(b, chat->request);
    return sj_buf_raw(b, "}", 1);
}

bool plg_json_post_in(sj_buf *b, const sluice_ctx *ctx, const sluice_chat *chat)
{
    put_ctx(b, ctx);
    sj_buf_cstr(b, ",\"response\":");
    if (chat->response) {
        sj_buf_cstr(b, "{\"chat_response\":");
        put_doc(b, chat->response);
        sj_buf_raw(b, "}", 1);
    } else {
        sj_buf_cstr(b, "null");
    }
    sj_buf_cstr(b, ",\"error\":");
    if (chat->error) put_doc(b, chat->error);
    else sj_buf_cstr(b, "{}");
    sj_buf_cstr(b, chat->error ? ",\"has_error\":true}" : ",\"has_error\":false}");
    return !b->oom;
}

/* ---- output ----------------------------------------------------------------- */

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); *reported = false; return SLUICE_HOOK_ERROR; } while (0)

/* A non-empty string in `field` is the plugin's own error. */
static bool plugin_error(const sj_val *out, const char *field, bool *reported, char *err, size_t errlen)
{
    size_t len;
    const char *e = sj_str(sj_get(out, field), &len);
    if (!e || len == 0) return false;
    snprintf(err, errlen, "%s: %.*s", field, (int)(len > 400 ? 400 : len), e);
    *reported = true;
    return true;
}

/* Merges the output context into ctx (request_id kept). */
static bool merge_ctx(const sj_val *out, sluice_ctx *ctx)
{
    const sj_val *c = sj_get(out, "context");
    if (!sj_is_object(c)) return sj_type_of(c) == SJ_NULL;
    for (const sj_val *m = sj_first(c); m; m = sj_next(m)) {
        size_t klen;
        const char *k = sj_key(m, &klen);
        if (strlen(k) != klen || strcmp(k, "request_id") == 0) continue;
        if (!sluice_ctx_set(ctx, k, m)) return false;
    }
    return true;
}

/* Replaces map *m from a JSON object of strings; null/absent = unchanged. */
static bool apply_map(const sj_val *v, sluice_map *m)
{
    if (!v || sj_is_null(v)) return true;
    if (!sj_is_object(v)) return false;
    sluice_map fresh = {0};
    for (const sj_val *e = sj_first(v); e; e = sj_next(e)) {
        const char *s = sj_str(e, NULL);
        if (!s || !sluice_map_set(&fresh, sj_key(e, NULL), s)) { sluice_map_clear(&fresh); return false; }
    }
    sluice_map_clear(m);
    *m = fresh;
    return true;
}

static bool apply_body(const sj_val *v, uint8_t **body, size_t *body_len)
{
    if (!v || sj_is_null(v)) return true;
    size_t len, n;
    const char *s = sj_str(v, &len);
    if (!s) return false;
    uint8_t *dec = plg_b64_decode(s, len, &n);
    if (!dec) return false;
    free(*body);
    *body = dec;
    *body_len = n;
    return true;
}

static bool apply_str(const sj_val *v, char **dst)
{
    if (!v || sj_is_null(v)) return true;
    const char *s = sj_str(v, NULL);
    char *copy = s ? strdup(s) : NULL;
    if (!copy) return false;
    free(*dst);
    *dst = copy;
    return true;
}

static bool apply_response(const sj_val *v, sluice_http_response *resp)
{
    int64_t code;
    const sj_val *sc = sj_get(v, "status_code");
    if (sc && !sj_is_null(sc)) {
        if (!sj_i64(sc, &code) || code < 100 || code > 599) return false;
        resp->status_code = (int)code;
    }
    return apply_map(sj_get(v, "headers"), &resp->headers) && apply_body(sj_get(v, "body"), &resp->body, &resp->body_len);
}

sluice_hook_result plg_apply_http_pre(const sj_val *out, sluice_ctx *ctx, sluice_http_request *req,
                                      sluice_http_response *resp, bool *reported, char *err, size_t errlen)
{
    if (!sj_is_object(out)) BAD("output is not a JSON object");
    if (plugin_error(out, "error", reported, err, errlen)) return SLUICE_HOOK_ERROR;
    if (!merge_ctx(out, ctx)) BAD("bad context in output");
    const sj_val *r = sj_get(out, "request");
    if (sj_is_object(r)) {
        if (!apply_str(sj_get(r, "method"), &req->method) || !apply_str(sj_get(r, "path"), &req->path) ||
            !apply_map(sj_get(r, "headers"), &req->headers) || !apply_map(sj_get(r, "query"), &req->query) ||
            !apply_map(sj_get(r, "path_params"), &req->path_params) ||
            !apply_body(sj_get(r, "body"), &req->body, &req->body_len))
            BAD("bad request in output");
    }
    if (sj_bool(sj_get(out, "has_response"), false)) {
        const sj_val *rs = sj_get(out, "response");
        if (!sj_is_object(rs)) BAD("has_response without a response object");
        plg_response_clear(resp);
        resp->status_code = 200;
        if (!apply_response(rs, resp)) BAD("bad response in output");
        return SLUICE_RESPOND;
    }
    return SLUICE_CONTINUE;
}

sluice_hook_result plg_apply_http_post(const sj_val *out, sluice_ctx *ctx, sluice_http_response *resp,
                                       bool *reported, char *err, size_t errlen)
{
    if (!sj_is_object(out)) BAD("output is not a JSON object");
    if (plugin_error(out, "error", reported, err, errlen)) return SLUICE_HOOK_ERROR;
    if (!merge_ctx(out, ctx)) BAD("bad context in output");
    const sj_val *rs = sj_get(out, "response");
    if (sj_is_object(rs) && !apply_response(rs, resp)) BAD("bad response in output");
    return SLUICE_CONTINUE;
}

/* A JSON document holding a copy of v; NULL on OOM. */
static sj_doc *doc_of(const sj_val *v)
{
    sj_doc *d = sj_doc_new();
    sj_val *c = d ? sj_copy(d, v) : NULL;
    if (!c) { sj_doc_free(d); return NULL; }
    sj_doc_set_root(d, c);
    return d;
}

sluice_hook_result plg_apply_chunk(const sj_val *out, sluice_ctx *ctx, sj_doc **chunk, bool *reported,
                                   char *err, size_t errlen)
{
    if (!sj_is_object(out)) BAD("output is not a JSON object");
    if (plugin_error(out, "error", reported, err, errlen)) return SLUICE_HOOK_ERROR;
    if (!merge_ctx(out, ctx)) BAD("bad context in output");
    if (sj_bool(sj_get(out, "skip"), false)) return SLUICE_SKIP;
    if (!sj_bool(sj_get(out, "has_chunk"), false)) return SLUICE_CONTINUE;
    const sj_val *c = sj_get(out, "chunk");
    sj_doc *fresh = NULL;
    if (sj_is_object(c)) {
        fresh = doc_of(c);
    } else if (sj_is_string(c)) { /* base64 of the chunk's JSON */
        size_t len, n;
        const char *s = sj_str(c, &len);
        uint8_t *dec = plg_b64_decode(s, len, &n);
        if (!dec) BAD("chunk is neither an object nor base64");
        fresh = sj_parse((const char *)dec, n, NULL, NULL);
        free(dec);
        if (fresh && !sj_is_object(sj_doc_root(fresh))) { sj_doc_free(fresh); fresh = NULL; }
        if (!fresh) BAD("base64 chunk is not a JSON object");
    } else {
        return SLUICE_CONTINUE; /* has_chunk with a null chunk: unchanged */
    }
    if (!fresh) BAD("out of memory");
    sj_doc_free(*chunk);
    *chunk = fresh;
    return SLUICE_CONTINUE;
}

/* Applies a chat request in the union or flat shape onto the OpenAI request. */
static bool apply_chat_request(const sj_val *r, sj_doc *req)
{
    const sj_val *u = sj_get(r, "chat_request");
    if (sj_is_object(u)) r = u;
    sj_val *root = sj_doc_root(req);
    const sj_val *model = sj_get(r, "model");
    if (sj_is_string(model)) {
        size_t plen = 0, mlen;
        const char *p = sj_str(sj_get(r, "provider"), &plen);
        const char *m = sj_str(model, &mlen);
        char *full = malloc(plen + mlen + 2);
        if (!full) return false;
        int n = p && plen ? sprintf(full, "%s/%s", p, m) : sprintf(full, "%s", m);
        sj_val *v = sj_new_str(req, full, (size_t)n);
        free(full);
        if (!v || !sj_set(req, root, "model", v)) return false;
    }
    const sj_val *input = sj_get(r, "input");
    if (sj_is_array(input)) {
        sj_val *v = sj_copy(req, input);
        if (!v || !sj_set(req, root, "messages", v)) return false;
    }
    const sj_val *params = sj_get(r, "params");
    if (sj_is_object(params)) {
        for (sj_val *m = sj_first(root); m;) {
            sj_val *next = sj_next(m);
            const char *k = sj_key(m, NULL);
            if (strcmp(k, "model") && strcmp(k, "messages") && strcmp(k, "fallbacks")) sj_detach(root, m);
            m = next;
        }
        for (const sj_val *p = sj_first(params); p; p = sj_next(p)) {
            size_t klen;
            const char *k = sj_key(p, &klen);
            sj_val *v = sj_copy(req, p);
            if (!v || !sj_setn(req, root, k, klen, v)) return false;
        }
    }
    const sj_val *fb = sj_get(r, "fallbacks");
    if (sj_is_array(fb)) {
        sj_remove(root, "fallbacks");
        if (sj_len(fb)) {
            sj_val *v = sj_copy(req, fb);
            if (!v || !sj_set(req, root, "fallbacks", v)) return false;
        }
    }
    return true;
}

/* The chat response from a union {"chat_response": {...}} or flat object. */
static const sj_val *chat_response_of(const sj_val *v)
{
    const sj_val *u = sj_get(v, "chat_response");
    return sj_is_object(u) ? u : v;
}

sluice_hook_result plg_apply_pre(const sj_val *out, sluice_ctx *ctx, sluice_chat *chat, bool *reported,
                                 char *err, size_t errlen)
{
    if (!sj_is_object(out)) BAD("output is not a JSON object");
    if (plugin_error(out, "error", reported, err, errlen)) return SLUICE_HOOK_ERROR;
    if (!merge_ctx(out, ctx)) BAD("bad context in output");
    const sj_val *r = sj_get(out, "request");
    if (sj_is_object(r) && chat->request && !apply_chat_request(r, chat->request)) BAD("bad request in output");
    if (!sj_bool(sj_get(out, "has_short_circuit"), false)) return SLUICE_CONTINUE;
    const sj_val *sc = sj_get(out, "short_circuit");
    const sj_val *resp = sj_get(sc, "response"), *e = sj_get(sc, "error");
    if (sj_is_object(resp)) {
        sj_doc *d = doc_of(chat_response_of(resp));
        if (!d) BAD("out of memory");
        sj_doc_free(chat->response);
        chat->response = d;
        return SLUICE_RESPOND;
    }
    if (sj_is_object(e)) {
        sj_doc *d = doc_of(e);
        if (!d) BAD("out of memory");
        sj_doc_free(chat->error);
        chat->error = d;
        return SLUICE_RESPOND;
    }
    BAD("has_short_circuit without a response or an error");
}

sluice_hook_result plg_apply_post(const sj_val *out, sluice_ctx *ctx, sluice_chat *chat, bool *reported,
                                  char *err, size_t errlen)
{
    if (!sj_is_object(out)) BAD("output is not a JSON object");
    if (plugin_error(out, "hook_error", reported, err, errlen)) return SLUICE_HOOK_ERROR;
    if (!merge_ctx(out, ctx)) BAD("bad context in output");
    const sj_val *resp = sj_get(out, "response"), *e = sj_get(out, "error");
    const sj_val *he = sj_get(out, "has_error");
    if (sj_bool(he, false) && sj_is_object(e) && sj_len(e)) {
        sj_doc *d = doc_of(e);
        if (!d) BAD("out of memory");
        sj_doc_free(chat->error);
        chat->error = d;
        sj_doc_free(chat->response);
        chat->response = NULL;
    } else if (sj_is_object(resp)) {
        sj_doc *d = doc_of(chat_response_of(resp));
        if (!d) BAD("out of memory");
        sj_doc_free(chat->response);
        chat->response = d;
        if (he && !sj_bool(he, true)) { sj_doc_free(chat->error); chat->error = NULL; }
    }
    return SLUICE_CONTINUE;
}
