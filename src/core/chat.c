/*
 * chat.c - POST /v1/chat/completions: validation, model resolution, the
 * provider call, and writing its result back (JSON, or SSE with backpressure).
 *
 * Streaming and backpressure: h2o allows one h2o_send() at a time; the next
 * may only follow its generator's proceed(). Chunks that arrive meanwhile are
 * framed into `pending`; `inflight` holds the bytes h2o is writing. When
 * `pending` grows past CHAT_PAUSE_BYTES the provider is paused (so the TCP
 * window towards the upstream fills and the upstream slows down) and resumed
 * once the client has caught up. Nothing is buffered to the end: each chunk is
 * handed to h2o as soon as the previous write completed.
 *
 * Lifetime: chat_state lives in the request's pool; its dispose callback runs
 * whenever the request goes away (done, or the client disconnected) and
 * cancels a provider call still running, so no callback can reach freed memory.
 */
#include <string.h>

#include "core/gateway.h"
#include "plugin/gateway.h"
#include "obs/obs.h"
#include "provider/provider.h"

#define CHAT_PAUSE_BYTES (256u * 1024)
#define CHAT_RESUME_BYTES (64u * 1024)
#define CHAT_MAX_FALLBACKS 8

typedef struct chat_state {
    srv_request *sr;
    h2o_generator_t gen;
    sj_doc *doc;
    const cfg_provider *prov;
    const prov_ops *ops;
    prov_call *call;   /* live provider call, or NULL */
    bool stream;
    bool finished;     /* the provider sent its terminal callback */
    bool started;      /* h2o_start_response done (streaming) */
    bool sending;      /* an h2o_send is outstanding */
    bool final_sent;
    bool stopped;      /* the client went away */
    bool paused;
    bool running;      /* inside chat_run: a nested request to run sets `again` */
    bool again;
    sj_buf pending, inflight;
    /* Fallbacks: model names (in the document's arena) tried in order when
     * the current provider fails before anything reached the client. */
    const char *fallbacks[CHAT_MAX_FALLBACKS];
    size_t n_fallbacks;
    size_t attempt;    /* 0 = the primary model, k = fallbacks[k-1] */
    plg_gw_req *plg;   /* plugin pipeline state, NULL without plugins */
    uint64_t up_start_ns; /* when the current provider call started (metrics) */
} chat_state;

static void chat_dispose(void *p)
{
    chat_state *st = p;
    if (st->started)
        obs_stream_closed();
    if (st->call) {
        st->ops->cancel(st->call);
        st->call = NULL;
    }
    sj_doc_free(st->doc);
    sj_buf_free(&st->pending);
    sj_buf_free(&st->inflight);
}

/* ---- observability ------------------------------------------------------------ */

/* The provider call ended: its time adds to the request's upstream time. */
static void chat_upstream_end(chat_state *st)
{
    obs_record *r = &st->sr->obs;
    double ms = (double)(srv_now_ns() - st->up_start_ns) / 1e6;
    r->upstream_ms = r->upstream_ms < 0 ? ms : r->upstream_ms + ms;
}

/* Token counts from an OpenAI "usage" object, if root has one. */
static void chat_note_usage(chat_state *st, const sj_val *root)
{
    sj_val *usage = sj_get(root, "usage");
    int64_t n;
    if (sj_i64(sj_get(usage, "prompt_tokens"), &n) && n >= 0)
        st->sr->obs.prompt_tokens = n;
    if (sj_i64(sj_get(usage, "completion_tokens"), &n) && n >= 0)
        st->sr->obs.completion_tokens = n;
}

/* ---- streaming output ------------------------------------------------------- */

static void chat_flush(chat_state *st);

static void chat_on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    chat_state *st = H2O_STRUCT_FROM_MEMBER(chat_state, gen, gen);
    st->sending = false;
    st->inflight.len = 0;
    if (st->paused && st->call && st->pending.len < CHAT_RESUME_BYTES) {
        st->paused = false;
        st->ops->resume(st->call);
    }
    chat_flush(st);
}

static void chat_on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    chat_state *st = H2O_STRUCT_FROM_MEMBER(chat_state, gen, gen);
    st->stopped = true;
    if (st->call) {
        st->ops->cancel(st->call);
        st->call = NULL;
    }
}

static void chat_start_stream(chat_state *st)
{
    h2o_req_t *req = st->sr->req;
    st->started = true;
    obs_stream_opened();
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/event-stream"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    st->gen.proceed = chat_on_proceed;
    st->gen.stop = chat_on_stop;
    h2o_start_response(req, &st->gen);
}

/* Hands pending bytes to h2o if no write is outstanding; ends the response
 * once the provider finished and everything was handed over. */
static void chat_flush(chat_state *st)
{
    if (st->sending || st->final_sent || st->stopped)
        return;
    if (!st->started)
        chat_start_stream(st);
    if (st->pending.len == 0 && !st->finished)
        return;
    sj_buf tmp = st->inflight;
    st->inflight = st->pending;
    st->pending = tmp;
    st->pending.len = 0;
    h2o_iovec_t buf = h2o_iovec_init(st->inflight.data, st->inflight.len);
    st->sending = true;
    st->final_sent = st->finished;
    h2o_send(st->sr->req, &buf, buf.len ? 1 : 0, st->finished ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

/* Appends a JSON text on one SSE line: an upstream may spread an event over
 * several data: lines (joined with '\n' by the parser); in JSON a line break
 * can only be whitespace, so it becomes a space. */
static void chat_append_one_line(sj_buf *b, const char *data, size_t len)
{
    size_t start = b->len;
    sj_buf_raw(b, data, len);
    if (b->oom || (memchr(data, '\n', len) == NULL && memchr(data, '\r', len) == NULL))
        return;
    for (size_t i = start; i < b->len; i++)
        if (b->data[i] == '\n' || b->data[i] == '\r')
            b->data[i] = ' ';
}

static void chat_sink_chunk(void *ud, const char *data, size_t len)
{
    chat_state *st = ud;
    if (st->stopped || !plg_gw_chunk(st->plg, &data, &len))
        return;
    if (st->sr->obs.ttft_ms < 0)
        st->sr->obs.ttft_ms = (double)(srv_now_ns() - st->sr->start_ns) / 1e6;
    if (memmem(data, len, "\"usage\"", 7) != NULL) {   /* usually only the last chunk: parse it */
        sj_doc *u = sj_parse(data, len, NULL, NULL);
        chat_note_usage(st, sj_doc_root(u));
        sj_doc_free(u);
    }
    sj_buf *b = &st->pending;
    sj_buf_raw(b, "data: ", 6);
    /* Add extra_fields.provider inside the chunk object, as Bifrost does:
     * before its closing brace, with a comma unless the object is empty. */
    size_t end = len;
    while (end > 0 && (data[end - 1] == ' ' || data[end - 1] == '\n' || data[end - 1] == '\r' || data[end - 1] == '\t'))
        end--;
    if (end >= 2 && data[0] == '{' && data[end - 1] == '}' &&
        memmem(data, len, "\"extra_fields\"", 14) == NULL) {
        size_t prev = end - 1;
        while (prev > 0 && (data[prev - 1] == ' ' || data[prev - 1] == '\n' || data[prev - 1] == '\r' ||
                            data[prev - 1] == '\t'))
            prev--;
        bool empty = prev > 0 && data[prev - 1] == '{';
        chat_append_one_line(b, data, end - 1);
        sj_buf_cstr(b, empty ? "\"extra_fields\":{\"provider\":" : ",\"extra_fields\":{\"provider\":");
        sj_buf_str(b, st->prov->name, strlen(st->prov->name));
        sj_buf_cstr(b, "}}");
    } else {
        chat_append_one_line(b, data, len);
    }
    sj_buf_raw(b, "\n\n", 2);
    if (!st->paused && st->call && b->len > CHAT_PAUSE_BYTES) {
        st->paused = true;
        st->ops->pause(st->call);
    }
    chat_flush(st);
}

static void chat_sink_done(void *ud)
{
    chat_state *st = ud;
    st->call = NULL;
    st->finished = true;
    chat_upstream_end(st);
    plg_gw_stream_end(st->plg, 200, NULL, NULL, NULL);
    sj_buf_cstr(&st->pending, "data: [DONE]\n\n");
    chat_flush(st);
}

/* ---- terminal results --------------------------------------------------------- */

static void chat_run(chat_state *st);

/* Errors worth another provider: theirs (auth, rate, availability, model),
 * not the client's (a bad request fails the same everywhere). */
static bool chat_may_fall_back(int status)
{
    return status >= 500 || status == 401 || status == 403 || status == 404 || status == 408 || status == 429;
}

static void chat_sink_error(void *ud, int status, const char *type, const char *code, const char *message)
{
    chat_state *st = ud;
    st->call = NULL;
    st->finished = true;
    chat_upstream_end(st);
    if (st->stopped)
        return;
    if (!st->started && st->attempt < st->n_fallbacks && chat_may_fall_back(status)) {
        fprintf(stderr, "sluice: request %s: %s (HTTP %d); falling back to %s\n", st->sr->id, message, status,
                st->fallbacks[st->attempt]);
        st->attempt++;
        chat_run(st);
        return;
    }
    if (!st->started) {
        plg_gw_send_error(st->plg, st->sr, status, type, code, message);
        return;
    }
    /* Headers already went out with 200: report in-band and end the stream. */
    plg_gw_stream_end(st->plg, status, type, code, message);
    sj_buf_cstr(&st->pending, "data: ");
    gw_error_json(&st->pending, message, type ? type : gw_error_type(status), code, NULL);
    sj_buf_cstr(&st->pending, "\n\n");
    chat_flush(st);
}

static void chat_sink_response(void *ud, int status, const char *body, size_t len)
{
    chat_state *st = ud;
    st->call = NULL;
    st->finished = true;
    chat_upstream_end(st);
    sj_error perr = {0};
    sj_doc *doc = sj_parse(body, len, NULL, &perr);
    sj_val *root = sj_doc_root(doc);
    chat_note_usage(st, root);
    if (!sj_is_object(root)) {
        sj_doc_free(doc);
        gw_send_error(st->sr, 502, "server_error", "bad_upstream_response", NULL,
                      "provider %s returned a response that is not a JSON object", st->prov->name);
        return;
    }
    sj_val *extra = sj_get(root, "extra_fields");
    if (!sj_is_object(extra)) {
        extra = sj_new_obj(doc);
        sj_set(doc, root, "extra_fields", extra);
    }
    sj_set(doc, extra, "provider", sj_new_cstr(doc, st->prov->name));
    size_t olen = 0;
    char *out = sj_write(root, &olen);
    sj_doc_free(doc);
    if (out == NULL)
        gw_send_error(st->sr, 500, NULL, NULL, NULL, "out of memory");
    else
        plg_gw_send_json(st->plg, st->sr, status, out, olen);
}

static const prov_sink chat_sink = {
    .response = chat_sink_response,
    .error = chat_sink_error,
    .chunk = chat_sink_chunk,
    .done = chat_sink_done,
};

/* ---- validation ----------------------------------------------------------------- */

static const char *chat_type_name(const sj_val *v)
{
    switch (sj_type_of(v)) {
    case SJ_NULL: return "null";
    case SJ_FALSE:
    case SJ_TRUE: return "a boolean";
    case SJ_NUMBER: return "a number";
    case SJ_STRING: return "a string";
    case SJ_ARRAY: return "an array";
    case SJ_OBJECT: return "an object";
    }
    return "?";
}

/* Checks the fields the gateway itself relies on; the rest is the provider's
 * business and passes through. Sends the error and returns false if bad. */
static bool chat_validate(srv_request *sr, const sj_val *root)
{
    if (!sj_is_object(root)) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_type", NULL,
                      "The request body must be a JSON object, got %s", chat_type_name(root));
        return false;
    }
    sj_val *model = sj_get(root, "model");
    if (model == NULL) {
        gw_send_error(sr, 400, "invalid_request_error", "missing_required_parameter", "model",
                      "model is required (e.g. \"mock/mock-1\" or \"openai/gpt-4o-mini\")");
        return false;
    }
    size_t mlen;
    const char *m = sj_str(model, &mlen);
    if (m == NULL || mlen == 0 || strlen(m) != mlen) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_type", "model",
                      m ? "model must be a non-empty string" : "model must be a string, got %s",
                      chat_type_name(model));
        return false;
    }
    sj_val *msgs = sj_get(root, "messages");
    if (msgs == NULL) {
        gw_send_error(sr, 400, "invalid_request_error", "missing_required_parameter", "messages",
                      "messages is required");
        return false;
    }
    if (!sj_is_array(msgs)) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_type", "messages",
                      "messages must be an array, got %s", chat_type_name(msgs));
        return false;
    }
    if (sj_len(msgs) == 0) {
        gw_send_error(sr, 400, "invalid_request_error", "empty_array", "messages",
                      "messages must contain at least one message");
        return false;
    }
    size_t i = 0;
    for (sj_val *msg = sj_first(msgs); msg; msg = sj_next(msg), i++) {
        char param[64];
        snprintf(param, sizeof(param), "messages[%zu]", i);
        if (!sj_is_object(msg)) {
            gw_send_error(sr, 400, "invalid_request_error", "invalid_type", param,
                          "%s must be an object, got %s", param, chat_type_name(msg));
            return false;
        }
        if (!sj_is_string(sj_get(msg, "role"))) {
            snprintf(param, sizeof(param), "messages[%zu].role", i);
            gw_send_error(sr, 400, "invalid_request_error", "invalid_type", param, "%s must be a string", param);
            return false;
        }
        sj_val *content = sj_get(msg, "content");
        if (content && !sj_is_string(content) && !sj_is_array(content) && !sj_is_null(content)) {
            snprintf(param, sizeof(param), "messages[%zu].content", i);
            gw_send_error(sr, 400, "invalid_request_error", "invalid_type", param,
                          "%s must be a string, an array of parts or null, got %s", param, chat_type_name(content));
            return false;
        }
    }
    sj_val *stream = sj_get(root, "stream");
    if (stream && !sj_is_bool(stream) && !sj_is_null(stream)) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_type", "stream",
                      "stream must be a boolean, got %s", chat_type_name(stream));
        return false;
    }
    sj_val *fallbacks = sj_get(root, "fallbacks");
    if (fallbacks && !sj_is_array(fallbacks) && !sj_is_null(fallbacks)) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_type", "fallbacks",
                      "fallbacks must be an array of model names, got %s", chat_type_name(fallbacks));
        return false;
    }
    i = 0;
    for (sj_val *f = sj_first(fallbacks); f; f = sj_next(f), i++) {
        size_t flen;
        const char *fs = sj_str(f, &flen);
        char param[32];
        snprintf(param, sizeof(param), "fallbacks[%zu]", i);
        if (i >= CHAT_MAX_FALLBACKS) {
            gw_send_error(sr, 400, "invalid_request_error", "too_many_fallbacks", "fallbacks",
                          "at most %d fallbacks are allowed", CHAT_MAX_FALLBACKS);
            return false;
        }
        if (fs == NULL || flen == 0 || strlen(fs) != flen) {
            gw_send_error(sr, 400, "invalid_request_error", "invalid_type", param, "%s must be a non-empty model name",
                          param);
            return false;
        }
    }
    return true;
}

void gw_chat(srv_request *sr)
{
    h2o_req_t *req = sr->req;
    h2o_iovec_t body = req->entity;
    plg_gw_req *plg;
    if (!plg_gw_begin(sr, &body, &plg))
        return; /* a plugin answered */
    if (body.base == NULL || body.len == 0) {
        gw_send_error(sr, 400, "invalid_request_error", "empty_body", NULL,
                      "The request body is empty; expected a JSON chat completion request");
        return;
    }
    sj_error perr = {0};
    sj_doc *doc = sj_parse(body.base, body.len, NULL, &perr);
    if (doc == NULL) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_json", NULL,
                      "The request body is not valid JSON: %s at byte %zu", perr.msg ? perr.msg : "parse error",
                      perr.offset);
        return;
    }
    chat_state *st = h2o_mem_alloc_shared(&req->pool, sizeof(*st), chat_dispose);
    memset(st, 0, sizeof(*st));
    st->sr = sr;
    st->plg = plg;
    st->doc = doc; /* freed by chat_dispose from here on */
    sj_val *root = sj_doc_root(doc);
    if (!chat_validate(sr, root))
        return;
    for (sj_val *f = sj_first(sj_get(root, "fallbacks")); f; f = sj_next(f))
        st->fallbacks[st->n_fallbacks++] = sj_str(f, NULL);
    st->stream = sj_bool(sj_get(root, "stream"), false);
    sr->obs.stream = st->stream;
    snprintf(sr->obs.model, sizeof(sr->obs.model), "%s", sj_str(sj_get(root, "model"), NULL));
    chat_run(st);
}

/* Starts the provider call for the current attempt (the primary model, then
 * each fallback). A provider may fail inside start() and so re-enter through
 * chat_sink_error: the loop below runs that next attempt instead of nesting. */
static void chat_run(chat_state *st)
{
    if (st->running) {
        st->again = true;
        return;
    }
    st->running = true;
    do {
        st->again = false;
        srv_request *sr = st->sr;
        int pr = plg_gw_pre(st->plg, st->doc, st->attempt < st->n_fallbacks);
        if (pr == 1)
            break; /* a plugin answered */
        if (pr == 2) {
            st->attempt++;
            st->again = true;
            continue;
        }
        sj_val *root = sj_doc_root(st->doc);
        const char *name = st->attempt == 0 ? sj_str(sj_get(root, "model"), NULL) : st->fallbacks[st->attempt - 1];
        const char *model = NULL;
        const cfg_provider *prov = prov_resolve(gw_cfg, name, &model);
        const prov_ops *ops = prov ? prov_ops_for(prov) : NULL;
        if (ops == NULL && st->attempt < st->n_fallbacks) {
            fprintf(stderr, "sluice: request %s: model '%.200s' %s; falling back to %s\n", sr->id, name,
                    prov ? "has no provider implementation yet" : "does not exist", st->fallbacks[st->attempt]);
            st->attempt++;
            st->again = true;
            continue;
        }
        if (prov == NULL) {
            gw_send_error(sr, 404, "invalid_request_error", "model_not_found", "model",
                          "The model '%.200s' does not exist: use \"provider/model\" with a configured provider, "
                          "or a model listed in a provider's keys", name);
            break;
        }
        if (ops == NULL) {
            gw_send_error(sr, 501, "server_error", "provider_not_supported", "model",
                          "Provider '%s' is not supported yet", prov->name);
            break;
        }
        if (st->attempt > 0) {
            obs_fallback(st->prov ? st->prov->name : "", prov->name);
            snprintf(sr->obs.fallback, sizeof(sr->obs.fallback), "%s", prov->name);
        }
        st->prov = prov;
        st->ops = ops;
        sr->provider = prov->name;
        st->up_start_ns = srv_now_ns();
        st->finished = false;
        size_t n_xh;
        const char *const *xh = plg_gw_upstream_headers(st->plg, &n_xh);
        prov_request rq = {
            .provider = prov,
            .model = model,
            .doc = st->doc,
            .body = root,
            .stream = st->stream,
            .request_id = sr->id,
            .extra_headers = xh,
            .n_extra_headers = n_xh,
            .loop = &sr->worker->loop,
            .up = sr->worker->up,
        };
        prov_call *call = ops->start(&rq, &chat_sink, st);
        if (!st->finished)
            st->call = call;
    } while (st->again);
    st->running = false;
}
