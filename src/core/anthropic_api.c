/*
 * anthropic_api.c - POST /anthropic/v1/messages: the Anthropic wire format
 * from clients, served by any provider through the internal OpenAI form and
 * the same attempt loop as /v1/chat/completions (dispatch.c: plugins,
 * retries, fallbacks, the stream writer).
 *
 *   client (Anthropic request) -> ant_req_to_openai -> dp_start
 *   answers / chunks / errors  -> ant_resp_from_openai / ant_rstream_* -> client
 *
 * For an `anthropic` provider this is a round trip through the internal form,
 * which costs a translation each way but keeps one pipeline. The client's
 * credentials (authorization: Bearer or x-api-key) are never forwarded: the
 * provider uses the configured keys. Any anthropic-version is accepted.
 * Errors use Anthropic's shape {"type":"error","error":{"type","message"}}
 * (errors.c does it for every error sent on this endpoint). The body may
 * carry Sluice's "fallbacks" list, as on the OpenAI endpoint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/anthropic_api.h"
#include "core/dispatch.h"
#include "provider/anthropic_xlate.h"

typedef struct antapi_state {
    char model[256];      /* as the client named it, echoed in answers */
    ant_rstream rs;
    dp_req *d;
} antapi_state;

/* ---- the Anthropic wire -------------------------------------------------------------- */

static void antapi_chunk(dp_req *d, const char *data, size_t len, sj_buf *out)
{
    antapi_state *st = d->wire_ud;
    ant_err e = {0};
    ant_rstream_chunk(&st->rs, data, len, out, &e); /* a chunk that is not JSON is skipped (providers filter them) */
}

static void antapi_done(dp_req *d, sj_buf *out)
{
    antapi_state *st = d->wire_ud;
    ant_rstream_finish(&st->rs, out);
}

static void antapi_stream_error(dp_req *d, int status, const char *type, const char *code, const char *message,
                                sj_buf *out)
{
    (void)type;
    (void)code;
    antapi_state *st = d->wire_ud;
    ant_rstream_error(&st->rs, status, message, out);
}

/* Anthropic's error JSON for status and message; malloc'd, NULL on OOM. */
static char *antapi_error_body(int status, const char *message, size_t *len)
{
    sj_buf b = {0};
    ant_error_json(&b, status, message);
    if (b.oom) {
        sj_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

/* plg_gw_conv: an OpenAI chat.completion -> an Anthropic message (with
 * extra_fields.provider, which Anthropic SDKs ignore), an OpenAI error ->
 * Anthropic's error shape. */
static char *antapi_convert(void *ud, int *status, char *body, size_t *len)
{
    antapi_state *st = ud;
    sj_buf out = {0};
    ant_err e = {0};
    if (*status >= 400) {
        sj_doc *doc = sj_parse(body, *len, NULL, NULL);
        const char *m = sj_str(sj_get(sj_get(sj_doc_root(doc), "error"), "message"), NULL);
        char *r = antapi_error_body(*status, m ? m : "error", len);
        sj_doc_free(doc);
        free(body);
        return r;
    }
    int rc = ant_resp_from_openai(body, *len, st->model, &out, &e);
    free(body);
    if (rc != 0) {
        sj_buf_free(&out);
        *status = e.status;
        return antapi_error_body(e.status, e.message, len);
    }
    if (out.len > 0 && out.data[out.len - 1] == '}' && st->d->prov != NULL) {
        out.len--;
        sj_buf_cstr(&out, ",\"extra_fields\":{\"provider\":");
        sj_buf_str(&out, st->d->prov->name, strlen(st->d->prov->name));
        sj_buf_cstr(&out, "}}");
    }
    if (out.oom) {
        sj_buf_free(&out);
        return NULL;
    }
    *len = out.len;
    return out.data;
}

static const dp_wire antapi_wire = {
    .chunk = antapi_chunk,
    .done = antapi_done,
    .stream_error = antapi_stream_error,
    .convert = antapi_convert,
};

/* ---- the handler ----------------------------------------------------------------------- */

/* Translates the client's Anthropic request into the internal form in dst
 * and copies the model name to st. 0, or sends the error and returns -1. */
static int antapi_translate(srv_request *sr, h2o_iovec_t body, antapi_state *st, sj_doc *dst)
{
    sj_error perr = {0};
    sj_doc *in = sj_parse(body.base, body.len, NULL, &perr);
    if (in == NULL) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_json", NULL,
                      "The request body is not valid JSON: %s at byte %zu", perr.msg ? perr.msg : "parse error",
                      perr.offset);
        return -1;
    }
    sj_val *root = sj_doc_root(in);
    ant_err e = {0};
    int rc = ant_req_to_openai(root, dst, &e);
    size_t mlen = 0;
    const char *m = rc == 0 ? sj_str(sj_get(root, "model"), &mlen) : NULL;
    if (rc == 0 && (m == NULL || mlen == 0 || mlen >= sizeof(st->model) || strlen(m) != mlen)) {
        e.status = rc = 400;
        snprintf(e.message, sizeof(e.message), "model must be a non-empty string of at most %zu bytes",
                 sizeof(st->model) - 1);
    }
    if (rc == 0 && !dp_check_fallbacks(sr, root)) {
        sj_doc_free(in);
        return -1; /* sent */
    }
    if (rc == 0) {
        memcpy(st->model, m, mlen + 1);
        sj_val *fb = sj_get(root, "fallbacks");
        if (sj_is_array(fb))
            sj_set(dst, sj_doc_root(dst), "fallbacks", sj_copy(dst, fb));
    }
    sj_doc_free(in);
    if (rc != 0) {
        gw_send_error(sr, rc, NULL, NULL, NULL, "%s", e.message);
        return -1;
    }
    return 0;
}

void gw_ant_messages(srv_request *sr)
{
    h2o_req_t *req = sr->req;
    h2o_iovec_t body = req->entity;
    plg_gw_req *plg;
    if (!plg_gw_begin(sr, &body, &plg))
        return; /* a plugin answered (http_pre_hook sees the Anthropic request) */
    if (body.base == NULL || body.len == 0) {
        gw_send_error(sr, 400, "invalid_request_error", "empty_body", NULL,
                      "The request body is empty; expected an Anthropic Messages request");
        return;
    }
    antapi_state *st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    memset(st, 0, sizeof(*st));
    sj_doc *doc = sj_doc_new();
    if (doc == NULL) {
        gw_send_error(sr, 500, NULL, NULL, NULL, "out of memory");
        return;
    }
    st->d = dp_new(sr, plg, doc, &antapi_wire, st); /* owns doc from here on */
    if (antapi_translate(sr, body, st, doc) != 0)
        return;
    sj_val *root = sj_doc_root(doc);
    st->d->stream = sj_bool(sj_get(root, "stream"), false);
    if (st->d->stream) {
        /* ask OpenAI-compatible upstreams for the usage chunk message_delta needs */
        sj_val *so = sj_new_obj(doc);
        sj_set(doc, so, "include_usage", sj_new_bool(doc, true));
        sj_set(doc, root, "stream_options", so);
    }
    ant_rstream_init(&st->rs, st->model, NULL);
    dp_start(st->d);
}
