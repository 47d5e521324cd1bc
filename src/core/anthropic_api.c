/*
 * anthropic_api.c - POST /anthropic/v1/messages: the Anthropic wire format
 * from clients, served by any provider through the internal OpenAI form.
 *
 *   client (Anthropic request) -> ant_req_to_openai -> provider (ops->start)
 *   provider response/chunks   -> ant_resp_from_openai / ant_rstream_* -> client
 *
 * For an `anthropic` provider this is a round trip through the internal form,
 * which costs a translation each way but keeps one pipeline. The client's
 * credentials (authorization: Bearer or x-api-key) are never forwarded: the
 * provider uses the configured keys. Any anthropic-version is accepted.
 * Errors use Anthropic's shape {"type":"error","error":{"type","message"}}.
 *
 * Streaming follows chat.c: one h2o_send at a time; events produced meanwhile
 * wait in `pending`, the provider is paused past ANTAPI_PAUSE_BYTES and
 * resumed when the client caught up. The state lives in the request's pool;
 * its dispose callback cancels a provider call still running.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/anthropic_api.h"
#include "core/gateway.h"
#include "provider/anthropic_xlate.h"
#include "provider/provider.h"

#define ANTAPI_PAUSE_BYTES (256u * 1024)
#define ANTAPI_RESUME_BYTES (64u * 1024)

typedef struct antapi_state {
    srv_request *sr;
    h2o_generator_t gen;
    sj_doc *doc;          /* the internal (OpenAI) request */
    const prov_ops *ops;
    prov_call *call;
    char model[256];      /* as the client named it, echoed in answers */
    bool stream, started, sending, finished, final_sent, stopped, paused;
    ant_rstream rs;
    sj_buf pending, inflight;
} antapi_state;

static void antapi_dispose(void *p)
{
    antapi_state *st = p;
    if (st->call) {
        st->ops->cancel(st->call);
        st->call = NULL;
    }
    sj_doc_free(st->doc);
    sj_buf_free(&st->pending);
    sj_buf_free(&st->inflight);
}

static void antapi_send_error(srv_request *sr, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void antapi_send_error(srv_request *sr, int status, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sj_buf b = {0};
    ant_error_json(&b, status, msg);
    if (b.oom)
        gw_send_json(sr, 500, H2O_STRLIT("{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"out of memory\"}}"));
    else
        gw_send_json(sr, status, b.data, b.len);
    sj_buf_free(&b);
}

/* ---- streaming output ---------------------------------------------------------- */

static void antapi_flush(antapi_state *st);

static void antapi_on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    antapi_state *st = H2O_STRUCT_FROM_MEMBER(antapi_state, gen, gen);
    st->sending = false;
    st->inflight.len = 0;
    if (st->paused && st->call && st->pending.len < ANTAPI_RESUME_BYTES) {
        st->paused = false;
        st->ops->resume(st->call);
    }
    antapi_flush(st);
}

static void antapi_on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    antapi_state *st = H2O_STRUCT_FROM_MEMBER(antapi_state, gen, gen);
    st->stopped = true;
    if (st->call) {
        st->ops->cancel(st->call);
        st->call = NULL;
    }
}

static void antapi_flush(antapi_state *st)
{
    if (st->sending || st->final_sent || st->stopped)
        return;
    h2o_req_t *req = st->sr->req;
    if (!st->started) {
        st->started = true;
        req->res.status = 200;
        req->res.reason = "OK";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/event-stream"));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
        st->gen.proceed = antapi_on_proceed;
        st->gen.stop = antapi_on_stop;
        h2o_start_response(req, &st->gen);
    }
    if (st->pending.len == 0 && !st->finished)
        return;
    sj_buf tmp = st->inflight;
    st->inflight = st->pending;
    st->pending = tmp;
    st->pending.len = 0;
    h2o_iovec_t buf = h2o_iovec_init(st->inflight.data, st->inflight.len);
    st->sending = true;
    st->final_sent = st->finished;
    h2o_send(req, &buf, buf.len ? 1 : 0, st->finished ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

/* ---- provider sink ------------------------------------------------------------------ */

static void antapi_sink_chunk(void *ud, const char *data, size_t len)
{
    antapi_state *st = ud;
    if (st->stopped)
        return;
    ant_err e = {0};
    if (ant_rstream_chunk(&st->rs, data, len, &st->pending, &e) != 0)
        return; /* a chunk that is not JSON: skipped (the provider already filters these) */
    if (!st->paused && st->call && st->pending.len > ANTAPI_PAUSE_BYTES) {
        st->paused = true;
        st->ops->pause(st->call);
    }
    antapi_flush(st);
}

static void antapi_sink_done(void *ud)
{
    antapi_state *st = ud;
    st->call = NULL;
    st->finished = true;
    ant_rstream_finish(&st->rs, &st->pending);
    antapi_flush(st);
}

static void antapi_sink_error(void *ud, int status, const char *type, const char *code, const char *message)
{
    (void)type;
    (void)code;
    antapi_state *st = ud;
    st->call = NULL;
    st->finished = true;
    if (st->stopped)
        return;
    if (!st->started) {
        antapi_send_error(st->sr, status, "%s", message);
        return;
    }
    ant_rstream_error(&st->rs, status, message, &st->pending);
    antapi_flush(st);
}

static void antapi_sink_response(void *ud, int status, const char *body, size_t len)
{
    (void)status;
    antapi_state *st = ud;
    st->call = NULL;
    st->finished = true;
    sj_buf out = {0};
    ant_err e = {0};
    if (ant_resp_from_openai(body, len, st->model, &out, &e) != 0)
        antapi_send_error(st->sr, e.status, "%s", e.message);
    else if (out.oom)
        antapi_send_error(st->sr, 500, "out of memory");
    else
        gw_send_json(st->sr, 200, out.data, out.len);
    sj_buf_free(&out);
}

static const prov_sink antapi_sink = {
    .response = antapi_sink_response,
    .error = antapi_sink_error,
    .chunk = antapi_sink_chunk,
    .done = antapi_sink_done,
};

/* ---- the handler ----------------------------------------------------------------------- */

void gw_ant_messages(srv_request *sr)
{
    h2o_req_t *req = sr->req;
    if (req->entity.base == NULL || req->entity.len == 0) {
        antapi_send_error(sr, 400, "The request body is empty; expected an Anthropic Messages request");
        return;
    }
    sj_error perr = {0};
    sj_doc *in = sj_parse(req->entity.base, req->entity.len, NULL, &perr);
    if (in == NULL) {
        antapi_send_error(sr, 400, "The request body is not valid JSON: %s at byte %zu",
                          perr.msg ? perr.msg : "parse error", perr.offset);
        return;
    }
    antapi_state *st = h2o_mem_alloc_shared(&req->pool, sizeof(*st), antapi_dispose);
    memset(st, 0, sizeof(*st));
    st->sr = sr;
    st->doc = sj_doc_new(); /* freed by antapi_dispose from here on */
    ant_err e = {0};
    int rc = st->doc ? ant_req_to_openai(sj_doc_root(in), st->doc, &e) : 500;
    if (rc == 0) {
        size_t mlen;
        const char *m = sj_str(sj_get(sj_doc_root(in), "model"), &mlen);
        if (mlen == 0 || mlen >= sizeof(st->model) || strlen(m) != mlen) {
            e.status = rc = 400;
            snprintf(e.message, sizeof(e.message), "model must be a non-empty string of at most %zu bytes",
                     sizeof(st->model) - 1);
        } else {
            memcpy(st->model, m, mlen + 1);
        }
    }
    sj_doc_free(in);
    if (rc != 0) {
        antapi_send_error(sr, rc, "%s", st->doc ? e.message : "out of memory");
        return;
    }
    sj_val *root = sj_doc_root(st->doc);
    const char *upstream_model = NULL;
    const cfg_provider *prov = prov_resolve(gw_cfg, st->model, &upstream_model);
    st->ops = prov ? prov_ops_for(prov) : NULL;
    if (prov == NULL) {
        antapi_send_error(sr, 404, "model: the model '%.200s' does not exist: use \"provider/model\" with a "
                                   "configured provider, or a model listed in a provider's keys", st->model);
        return;
    }
    if (st->ops == NULL) {
        antapi_send_error(sr, 501, "Provider '%s' is not supported yet", prov->name);
        return;
    }
    st->stream = sj_bool(sj_get(root, "stream"), false);
    if (st->stream) {
        /* ask OpenAI-compatible upstreams for the usage chunk message_delta needs */
        sj_val *so = sj_new_obj(st->doc);
        sj_set(st->doc, so, "include_usage", sj_new_bool(st->doc, true));
        sj_set(st->doc, root, "stream_options", so);
    }
    ant_rstream_init(&st->rs, st->model, NULL);
    sr->provider = prov->name;
    prov_request rq = {
        .provider = prov,
        .model = upstream_model,
        .doc = st->doc,
        .body = root,
        .stream = st->stream,
        .request_id = sr->id,
        .loop = &sr->worker->loop,
        .up = sr->worker->up,
    };
    prov_call *call = st->ops->start(&rq, &antapi_sink, st);
    if (!st->finished)
        st->call = call;
}
