/*
 * dispatch.c - the attempt loop shared by the chat endpoints (see
 * dispatch.h): a provider call per attempt, its sink, fallbacks, plugins'
 * hooks at their places, and the answer through the endpoint's dp_wire.
 */
#include "core/dispatch.h"

#include <stdio.h>
#include <string.h>

#include "core/copy.h"
#include "obs/obs.h"

static void dp_dispose(void *p)
{
    dp_req *d = *(dp_req **)p;
    if (d->call) {
        d->ops->cancel(d->call);
        d->call = NULL;
    }
    so_free(&d->out);
    sj_doc_free(d->doc);
}

/* ---- backpressure hooks for the stream writer ----------------------------------- */

static void dp_pause(void *ud)
{
    dp_req *d = ud;
    if (d->call)
        d->ops->pause(d->call);
}

static void dp_resume(void *ud)
{
    dp_req *d = ud;
    if (d->call)
        d->ops->resume(d->call);
}

static void dp_stop(void *ud)
{
    dp_req *d = ud;
    if (d->call) {
        d->ops->cancel(d->call);
        d->call = NULL;
    }
}

static const so_hooks dp_so_hooks = {.pause = dp_pause, .resume = dp_resume, .stop = dp_stop};

dp_req *dp_new(srv_request *sr, plg_gw_req *plg, sj_doc *doc, const dp_wire *wire, void *wire_ud)
{
    /* d itself lives in the pool's chunk (h2o has room there; a waiting
     * stream saves a malloc of its size), and a pointer-sized shared entry
     * carries the dispose callback: h2o runs those before it frees chunks. */
    dp_req *d = h2o_mem_alloc_pool(&sr->req->pool, sizeof(*d));
    dp_req **ref = h2o_mem_alloc_shared(&sr->req->pool, sizeof(*ref), dp_dispose);
    memset(d, 0, sizeof(*d));
    *ref = d;
    d->sr = sr;
    d->plg = plg;
    d->doc = doc;
    d->wire = wire;
    d->wire_ud = wire_ud;
    so_init(&d->out, sr, &dp_so_hooks, d);
    plg_gw_set_conv(plg, wire->convert, wire_ud);
    return d;
}

/* ---- observability ---------------------------------------------------------------- */

/* The provider call ended: its time adds to the request's upstream time. */
static void dp_upstream_end(dp_req *d)
{
    obs_record *r = &d->sr->obs;
    double ms = (double)(srv_now_ns() - d->up_start_ns) / 1e6;
    r->upstream_ms = r->upstream_ms < 0 ? ms : r->upstream_ms + ms;
}

/* Token counts from an OpenAI "usage" object, if root has one. */
static void dp_note_usage(dp_req *d, const sj_val *root)
{
    sj_val *usage = sj_get(root, "usage");
    int64_t n;
    if (sj_i64(sj_get(usage, "prompt_tokens"), &n) && n >= 0)
        d->sr->obs.prompt_tokens = n;
    if (sj_i64(sj_get(usage, "completion_tokens"), &n) && n >= 0)
        d->sr->obs.completion_tokens = n;
}

/* x-sluice-provider: who served the answer (the last attempt's provider). */
static void dp_provider_header(dp_req *d)
{
    h2o_req_t *req = d->sr->req;
    h2o_set_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-sluice-provider"), 0, d->prov->name,
                          strlen(d->prov->name), 1);
}

/* ---- per-chunk helpers ------------------------------------------------------------- */

bool dp_mentions(const char *s, size_t n, const char *needle, size_t nlen, size_t rare)
{
    if (n < nlen)
        return false;
    const char *p = s + rare, *end = s + n - (nlen - 1 - rare);
    while (p < end && (p = memchr(p, needle[rare], (size_t)(end - p))) != NULL) {
        if (*(p - rare) == needle[0] && memcmp(p - rare, needle, nlen) == 0)
            return true;
        p++;
    }
    return false;
}

const char *dp_provider_tail(dp_req *d, size_t *len)
{
    if (d->tail_prov != d->prov) {
        sj_buf b = {0};
        sj_buf_cstr(&b, "\"extra_fields\":{\"provider\":");
        sj_buf_str(&b, d->prov->name, strlen(d->prov->name));
        sj_buf_cstr(&b, "}}");
        char *t = b.oom ? NULL : h2o_mem_alloc_pool(&d->sr->req->pool, b.len);
        if (t == NULL) { /* only the buffer can fail: h2o's pool aborts on OOM */
            sj_buf_free(&b);
            *len = 0;
            return "";
        }
        memcpy(t, b.data, b.len);
        d->tail = t;
        d->tail_len = b.len;
        d->tail_prov = d->prov;
        sj_buf_free(&b);
    }
    *len = d->tail_len;
    return d->tail;
}

static bool dp_is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

bool dp_append_provider(dp_req *d, sj_buf *b, const char *data, size_t len, bool scan,
                        void (*append)(sj_buf *b, const char *s, size_t len))
{
    size_t end = len;
    while (end > 0 && dp_is_ws(data[end - 1]))
        end--;
    if (end < 2 || data[0] != '{' || data[end - 1] != '}' ||
        (scan && dp_mentions(data, len, "\"extra_fields\"", 14, 2)))
        return false;
    size_t prev = end - 1;
    while (prev > 0 && dp_is_ws(data[prev - 1]))
        prev--;
    bool empty = prev > 0 && data[prev - 1] == '{';
    size_t tlen;
    const char *tail = dp_provider_tail(d, &tlen);
    sj_buf_reserve(b, end + tlen + 3); /* one allocation, not a growth series */
    append(b, data, end - 1);
    if (!empty)
        sj_buf_raw(b, ",", 1);
    sj_buf_raw(b, tail, tlen);
    return true;
}

/* ---- the provider's sink ----------------------------------------------------------- */

static void dp_run(dp_req *d);

static void dp_sink_chunk(void *ud, const char *data, size_t len)
{
    dp_req *d = ud;
    if (d->out.stopped || !plg_gw_chunk(d->plg, &data, &len))
        return;
    if (d->sr->obs.ttft_ms < 0)
        d->sr->obs.ttft_ms = (double)(srv_now_ns() - d->sr->start_ns) / 1e6;
    if (dp_mentions(data, len, "\"usage\"", 7, 4)) { /* usually only the last chunk: parse it */
        sj_doc *u = sj_parse(data, len, NULL, NULL);
        dp_note_usage(d, sj_doc_root(u));
        sj_doc_free(u);
    }
    if (!d->out.started)
        dp_provider_header(d);
    d->wire->chunk(d, data, len, so_buf(&d->out));
    so_flush(&d->out);
}

static void dp_sink_done(void *ud)
{
    dp_req *d = ud;
    d->call = NULL;
    d->finished = true;
    dp_upstream_end(d);
    plg_gw_stream_end(d->plg, 200, NULL, NULL, NULL);
    if (!d->out.started)
        dp_provider_header(d);
    d->wire->done(d, so_buf(&d->out));
    so_end(&d->out);
}

/* Errors worth another provider: theirs (auth, rate, availability, model),
 * not the client's (a bad request fails the same everywhere). */
static bool dp_may_fall_back(int status)
{
    return status >= 500 || status == 401 || status == 403 || status == 404 || status == 408 || status == 429;
}

/* Keeps the primary model's error (attempt 0) for the end of the fallbacks. */
static void dp_keep_error(dp_req *d, int status, const char *type, const char *code, const char *message)
{
    if (d->attempt != 0 || d->first_err != NULL)
        return;
    struct dp_error *e = h2o_mem_alloc_pool(&d->sr->req->pool, sizeof(*e));
    e->status = status;
    gw_copy_str(e->type, sizeof(e->type), type);
    gw_copy_str(e->code, sizeof(e->code), code);
    gw_copy_str(e->message, sizeof(e->message), message);
    d->first_err = e;
}

/* Sends the final error before anything was streamed: the primary's when a
 * fallback was tried, else this one. */
static void dp_send_error(dp_req *d, int status, const char *type, const char *code, const char *message)
{
    if (d->attempt > 0 && d->first_err != NULL) {
        status = d->first_err->status;
        type = d->first_err->type[0] ? d->first_err->type : NULL;
        code = d->first_err->code[0] ? d->first_err->code : NULL;
        message = d->first_err->message;
    }
    plg_gw_send_error(d->plg, d->sr, status, type, code, message);
}

static void dp_sink_error(void *ud, int status, const char *type, const char *code, const char *message)
{
    dp_req *d = ud;
    d->call = NULL;
    d->finished = true;
    dp_upstream_end(d);
    if (d->out.stopped)
        return;
    dp_keep_error(d, status, type, code, message);
    if (!d->out.started && d->attempt < d->n_fallbacks && dp_may_fall_back(status)) {
        fprintf(stderr, "sluice: request %s: %s (HTTP %d); falling back to %s\n", d->sr->id, message, status,
                d->fallbacks[d->attempt]);
        d->attempt++;
        dp_run(d);
        return;
    }
    if (!d->out.started) {
        dp_send_error(d, status, type, code, message);
        return;
    }
    /* Headers already went out with 200: report in-band and end the stream. */
    plg_gw_stream_end(d->plg, status, type, code, message);
    d->wire->stream_error(d, status, type ? type : gw_error_type(status), code, message, so_buf(&d->out));
    so_end(&d->out);
}

static void dp_append_raw(sj_buf *b, const char *s, size_t len)
{
    sj_buf_raw(b, s, len);
}

static void dp_sink_response(void *ud, int status, const char *body, size_t len)
{
    dp_req *d = ud;
    d->call = NULL;
    d->finished = true;
    dp_upstream_end(d);
    sj_doc *doc = sj_parse(body, len, NULL, NULL);
    sj_val *root = sj_doc_root(doc);
    dp_note_usage(d, root);
    if (!sj_is_object(root)) {
        sj_doc_free(doc);
        gw_send_error(d->sr, 502, "server_error", "bad_upstream_response", NULL,
                      "provider %s returned a response that is not a JSON object", d->prov->name);
        return;
    }
    /* The usual answer has no extra_fields: its bytes pass as they are, with the
     * provider spliced in before the closing brace, rather than written again
     * from the document (~3,000 instructions for a small answer). The document
     * says there is no such member: no need to scan the bytes for one. */
    size_t olen = 0;
    char *out = NULL;
    sj_buf b = {0};
    if (sj_get(root, "extra_fields") == NULL && dp_append_provider(d, &b, body, len, false, dp_append_raw) && !b.oom) {
        out = b.data;
        olen = b.len;
    } else {
        sj_buf_free(&b);
        sj_val *extra = sj_get(root, "extra_fields");
        if (!sj_is_object(extra)) {
            extra = sj_new_obj(doc);
            sj_set(doc, root, "extra_fields", extra);
        }
        sj_set(doc, extra, "provider", sj_new_cstr(doc, d->prov->name));
        out = sj_write(root, &olen);
    }
    sj_doc_free(doc);
    if (out == NULL) {
        gw_send_error(d->sr, 500, NULL, NULL, NULL, "out of memory");
        return;
    }
    dp_provider_header(d);
    if (d->plg == NULL && d->wire->convert != NULL) { /* with plugins, conversion follows post_hook */
        out = d->wire->convert(d->wire_ud, &status, out, &olen);
        if (out == NULL) {
            gw_send_error(d->sr, 500, NULL, NULL, NULL, "out of memory");
            return;
        }
    }
    plg_gw_send_json(d->plg, d->sr, status, out, olen);
}

static const prov_sink dp_sink = {
    .response = dp_sink_response,
    .error = dp_sink_error,
    .chunk = dp_sink_chunk,
    .done = dp_sink_done,
};

/* ---- the attempt loop -------------------------------------------------------------- */

bool dp_check_fallbacks(srv_request *sr, const sj_val *root)
{
    sj_val *fallbacks = sj_get(root, "fallbacks");
    if (fallbacks && !sj_is_array(fallbacks) && !sj_is_null(fallbacks)) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_type", "fallbacks",
                      "fallbacks must be an array of model names, got %s", gw_type_name(fallbacks));
        return false;
    }
    size_t i = 0;
    for (sj_val *f = sj_first(fallbacks); f; f = sj_next(f), i++) {
        size_t flen;
        const char *fs = sj_str(f, &flen);
        char param[32];
        snprintf(param, sizeof(param), "fallbacks[%zu]", i);
        if (i >= DP_MAX_FALLBACKS) {
            gw_send_error(sr, 400, "invalid_request_error", "too_many_fallbacks", "fallbacks",
                          "at most %d fallbacks are allowed", DP_MAX_FALLBACKS);
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

void dp_start(dp_req *d)
{
    sj_val *root = sj_doc_root(d->doc);
    for (sj_val *f = sj_first(sj_get(root, "fallbacks")); f && d->n_fallbacks < DP_MAX_FALLBACKS; f = sj_next(f))
        d->fallbacks[d->n_fallbacks++] = sj_str(f, NULL);
    d->sr->obs.stream = d->stream;
    gw_copy_str(d->sr->obs.model, sizeof(d->sr->obs.model), sj_str(sj_get(root, "model"), NULL));
    dp_run(d);
}

/* Starts the provider call for the current attempt (the primary model, then
 * each fallback). A provider may fail inside start() and so re-enter through
 * dp_sink_error: the loop below runs that next attempt instead of nesting. */
static void dp_run(dp_req *d)
{
    if (d->running) {
        d->again = true;
        return;
    }
    d->running = true;
    do {
        d->again = false;
        srv_request *sr = d->sr;
        int pr = plg_gw_pre(d->plg, d->doc, d->attempt < d->n_fallbacks);
        if (pr == 1)
            break; /* a plugin answered */
        if (pr == 2) {
            d->attempt++;
            d->again = true;
            continue;
        }
        sj_val *root = sj_doc_root(d->doc);
        const char *name = d->attempt == 0 ? sj_str(sj_get(root, "model"), NULL) : d->fallbacks[d->attempt - 1];
        const char *model = NULL;
        const cfg_provider *prov = prov_resolve(gw_cfg, name, &model);
        const prov_ops *ops = prov ? prov_ops_for(prov) : NULL;
        char why[512] = "";
        if (prov == NULL)
            snprintf(why, sizeof(why),
                     "The model '%.200s' does not exist: use \"provider/model\" with a configured provider, or a "
                     "model listed in a provider's keys", name);
        else if (ops == NULL)
            snprintf(why, sizeof(why), "Provider '%s' is not supported yet", prov->name);
        if (ops == NULL)
            dp_keep_error(d, prov ? 501 : 404, prov ? "server_error" : "invalid_request_error",
                          prov ? "provider_not_supported" : "model_not_found", why);
        if (ops == NULL && d->attempt < d->n_fallbacks) {
            fprintf(stderr, "sluice: request %s: model '%.200s' %s; falling back to %s\n", sr->id, name,
                    prov ? "has no provider implementation yet" : "does not exist", d->fallbacks[d->attempt]);
            d->attempt++;
            d->again = true;
            continue;
        }
        if (ops == NULL) {
            if (d->attempt > 0 && d->first_err != NULL)
                dp_send_error(d, 0, NULL, NULL, NULL);
            else
                gw_send_error(sr, prov ? 501 : 404, prov ? "server_error" : "invalid_request_error",
                              prov ? "provider_not_supported" : "model_not_found", "model", "%s", why);
            break;
        }
        if (d->attempt > 0) {
            obs_fallback(d->prov ? d->prov->name : "", prov->name);
            gw_copy_str(sr->obs.fallback, sizeof(sr->obs.fallback), prov->name);
        }
        d->prov = prov;
        d->ops = ops;
        sr->provider = prov->name;
        d->up_start_ns = srv_now_ns();
        d->finished = false;
        size_t n_xh;
        const char *const *xh = plg_gw_upstream_headers(d->plg, &n_xh);
        prov_request rq = {
            .provider = prov,
            .model = model,
            .doc = d->doc,
            .body = root,
            .raw = d->plg == NULL ? d->raw : NULL, /* plugin hooks may have edited doc */
            .raw_len = d->raw_len,
            .stream = d->stream,
            .request_id = sr->id,
            .extra_headers = xh,
            .n_extra_headers = n_xh,
            .loop = &sr->worker->loop,
            .up = sr->worker->up,
            .retries = &sr->obs.retries,
        };
        prov_call *call = ops->start(&rq, &dp_sink, d);
        if (!d->finished)
            d->call = call;
    } while (d->again);
    d->running = false;
    /* The last attempt is under way: nothing reads the request document any
     * more (providers keep what they need, fallbacks are used up, plugins'
     * pre-hooks ran), and a stream may wait for minutes: free it now. */
    if (d->call != NULL && d->attempt >= d->n_fallbacks) {
        sj_doc_free(d->doc);
        d->doc = NULL;
    }
}
