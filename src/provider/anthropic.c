/*
 * anthropic.c - the `anthropic` provider family: POST {base_url}/v1/messages
 * (default https://api.anthropic.com) with x-api-key and anthropic-version.
 *
 * The client's OpenAI request is translated by anthropic_xlate.c; so are the
 * answers: a message -> chat.completion, the event stream -> chat.completion
 * chunks relayed one by one as events arrive, errors -> OpenAI errors. This
 * file only drives the upstream call (shaped like openai.c):
 *
 *  - keys: one is chosen by weight among those serving the model; a 429, 401
 *    or 403 moves to another key not tried yet for this request;
 *  - retries: 5xx (529 overloaded included) and network failures are retried
 *    with exponential backoff and jitter up to max_retries, as long as
 *    nothing reached the client;
 *  - an "error" event inside a stream is reported through the error callback
 *    (in-band by the caller when chunks already went out).
 *
 * Lifetime: the call owns a uv_timer (retry backoff) and is freed in its
 * close callback. A cancel from inside a sink callback (client gone) while
 * the SSE parser runs only marks the call dead; the feeder frees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "obs/obs.h"
#include "provider/anthropic_xlate.h"
#include "provider/provider.h"
#include "provider/sse.h"

#define ANTP_MAX_RESPONSE (64u << 20)
#define ANTP_MAX_ERROR_BODY (64u << 10)
#define ANTP_MAX_EVENT (8u << 20)
#define ANTP_DEFAULT_BASE "https://api.anthropic.com"

struct prov_call {
    const cfg_provider *prov;
    const prov_sink *sink;
    void *ud;
    bool stream;
    up_loop *up;
    up_req *req;
    uv_timer_t timer;
    char url[1024];
    char *body;            /* the Anthropic request (malloc'd by sj_buf) */
    size_t body_len;
    char model[256];
    int *retries;          /* prov_request.retries */
    const char *headers[40];
    char key_header[1024]; /* "x-api-key: ..." */
    const char *const *plugin_headers; /* prov_request.extra_headers */
    size_t n_plugin_headers;
    const cfg_key *key;
    bool tried[PROV_MAX_TRIED_KEYS];
    int attempt;
    int status;
    sj_buf resp;
    sse_parser sse;
    bool sse_on;
    ant_stream st;
    bool sent_any;         /* a chunk reached the client: no retry from here */
    bool reported;         /* a terminal callback already ran from inside the feed */
    bool malformed;
    bool dead;
    bool in_feed;
    uint64_t rng;
};

static void antp_on_closed(uv_handle_t *h)
{
    prov_call *c = h->data;
    free(c->body);
    sj_buf_free(&c->resp);
    if (c->sse_on)
        sse_free(&c->sse);
    ant_stream_free(&c->st);
    free(c);
}

static void antp_free(prov_call *c)
{
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, antp_on_closed);
}

static void antp_error(prov_call *c, const ant_err *e)
{
    char msg[sizeof(e->message) + 64];
    snprintf(msg, sizeof(msg), "provider %s: %s", c->prov->name, e->message);
    prov_redact(c->prov, c->key, msg);
    c->sink->error(c->ud, e->status, e->type, e->code[0] ? e->code : NULL, msg);
}

/* A provider without keys sends no x-api-key (a local test server). */
static bool antp_pick_key(prov_call *c)
{
    return prov_pick_key(c->prov, c->model, c->tried, &c->rng, &c->key);
}

static int antp_begin(prov_call *c);

static void antp_on_retry_timer(uv_timer_t *t)
{
    prov_call *c = t->data;
    if (antp_begin(c) != 0) {
        c->sink->error(c->ud, 500, "server_error", NULL, "cannot start the upstream request");
        antp_free(c);
    }
}

static bool antp_retry(prov_call *c)
{
    const cfg_network *n = &c->prov->net;
    if (c->sent_any || c->reported || c->attempt >= n->max_retries)
        return false;
    uint64_t delay = prov_backoff_ms(n, c->attempt, &c->rng);
    c->attempt++;
    prov_note_retry(c->prov, c->retries);
    uv_timer_start(&c->timer, antp_on_retry_timer, delay, 0);
    return true;
}

/* ---- streaming ------------------------------------------------------------------ */

static void antp_emit(void *ud, const char *json, size_t len)
{
    prov_call *c = ud;
    if (c->dead)
        return;
    c->sent_any = true;
    c->sink->chunk(c->ud, json, len);
}

static int antp_on_event(void *ud, const char *event, size_t event_len, const char *data, size_t len)
{
    prov_call *c = ud;
    ant_err e = {0};
    int rc = ant_stream_event(&c->st, event, event_len, data, len, antp_emit, c, &e);
    if (c->dead)
        return 1;
    if (rc == ANT_SE_ERROR) {
        /* Nothing relayed yet and the upstream says overloaded: worth a retry. */
        if (!c->sent_any && e.status >= 500 && c->attempt < c->prov->net.max_retries)
            return 1; /* on_done sees the abort and retries */
        c->reported = true;
        antp_error(c, &e);
        return 1;
    }
    if (rc == ANT_SE_BAD) {
        c->malformed = true;
        return 1;
    }
    return 0;
}

/* ---- upstream callbacks -------------------------------------------------------------- */

static int antp_on_head(void *ud, int status, const up_header *h, size_t n)
{
    (void)h;
    (void)n;
    prov_call *c = ud;
    c->status = status;
    c->resp.len = 0;
    if (c->stream && status >= 200 && status < 300) {
        if (c->sse_on)
            sse_free(&c->sse);
        sse_init(&c->sse, ANTP_MAX_EVENT, antp_on_event, c);
        c->sse_on = true;
        ant_stream_free(&c->st);
        ant_stream_init(&c->st, (long)time(NULL));
    }
    return 0;
}

static int antp_on_body(void *ud, const char *data, size_t len)
{
    prov_call *c = ud;
    bool ok = c->status >= 200 && c->status < 300;
    if (c->stream && ok) {
        c->in_feed = true;
        int rc = sse_feed(&c->sse, data, len);
        c->in_feed = false;
        if (c->dead) {
            antp_free(c);
            return 0; /* the transfer is already cancelled */
        }
        return rc != 0 ? 1 : 0;
    }
    if (c->resp.len + len > (ok ? ANTP_MAX_RESPONSE : ANTP_MAX_ERROR_BODY))
        return ok ? 1 : 0; /* the start of an error body is enough */
    sj_buf_raw(&c->resp, data, len);
    return c->resp.oom ? 1 : 0;
}

/* A complete 2xx response. */
static void antp_finish_ok(prov_call *c)
{
    ant_err e = {0};
    if (c->stream) {
        if (c->st.stopped) {
            c->sink->done(c->ud);
        } else {
            /* a clean end before message_stop is a cut answer, not a complete one */
            snprintf(e.message, sizeof(e.message), "%s",
                     c->sent_any ? "the stream ended before message_stop" : "the stream ended without any event");
            e.status = 502;
            snprintf(e.type, sizeof(e.type), "server_error");
            snprintf(e.code, sizeof(e.code), "upstream_error");
            antp_error(c, &e);
        }
        return;
    }
    sj_buf out = {0};
    if (ant_resp_to_openai(c->resp.data ? c->resp.data : "", c->resp.len, (long)time(NULL), &out, &e) == 0)
        c->sink->response(c->ud, 200, out.data, out.len);
    else
        antp_error(c, &e);
    sj_buf_free(&out);
}

static void antp_on_done(void *ud, up_result res, const char *detail)
{
    prov_call *c = ud;
    c->req = NULL;
    bool ok = c->status >= 200 && c->status < 300;
    prov_note_result(c->prov, res, c->status);
    if (c->reported) {
        antp_free(c);
        return;
    }
    if (res == UP_OK && ok && !(c->stream && !c->sent_any && !c->st.stopped && antp_retry(c))) {
        antp_finish_ok(c);
        antp_free(c);
        return;
    }
    if (res == UP_OK && ok)
        return; /* an empty stream, retried */
    if (res == UP_OK) {
        int s = c->status;
        const cfg_key *used = c->key;
        if ((s == 429 || s == 401 || s == 403) && !c->sent_any && antp_pick_key(c) && c->key &&
            antp_begin(c) == 0)
            return;
        c->key = used;
        if (s >= 500 && antp_retry(c))
            return;
        ant_err e = {0};
        ant_error_to_openai(s, c->resp.data, c->resp.len, &e);
        char msg[768];
        if (prov_all_keys_dead(c->prov, c->key, s, c->model, e.message, msg, sizeof(msg)))
            c->sink->error(c->ud, 502, "server_error", "all_keys_dead", msg);
        else
            antp_error(c, &e);
        antp_free(c);
        return;
    }
    /* An in-stream overloaded/api error before any chunk, or a network failure. */
    if ((res != UP_EABORTED || (!c->malformed && !c->sent_any)) && antp_retry(c))
        return;
    ant_err e = {.status = 502};
    snprintf(e.type, sizeof(e.type), "server_error");
    snprintf(e.code, sizeof(e.code), res == UP_ETIMEOUT ? "upstream_timeout" : "upstream_error");
    if (res == UP_ETIMEOUT)
        e.status = 504;
    if (res == UP_EABORTED)
        snprintf(e.message, sizeof(e.message), "%s",
                 c->malformed ? "sent a malformed event stream" : "sent a response the gateway cannot relay");
    else
        snprintf(e.message, sizeof(e.message), "upstream %.200s failed (%s)%s%.200s", c->url, up_result_name(res),
                 *detail ? ": " : "", detail);
    antp_error(c, &e);
    antp_free(c);
}

static const up_callbacks antp_callbacks = {
    .on_head = antp_on_head,
    .on_body = antp_on_body,
    .on_done = antp_on_done,
};

static int antp_begin(prov_call *c)
{
    size_t nh = 0, cap = sizeof(c->headers) / sizeof(c->headers[0]);
    c->headers[nh++] = "Content-Type: application/json";
    c->headers[nh++] = "anthropic-version: " ANT_VERSION;
    if (c->key && c->key->value[0]) {
        snprintf(c->key_header, sizeof(c->key_header), "x-api-key: %s", c->key->value);
        c->headers[nh++] = c->key_header;
    }
    if (c->stream)
        c->headers[nh++] = "Accept: text/event-stream";
    for (size_t i = 0; i < c->prov->net.n_extra_headers && nh < cap; i++)
        c->headers[nh++] = c->prov->net.extra_headers[i];
    for (size_t i = 0; i < c->n_plugin_headers && nh < cap; i++)
        c->headers[nh++] = c->plugin_headers[i];
    const cfg_network *n = &c->prov->net;
    up_options o = {
        .method = "POST",
        .url = c->url,
        .headers = c->headers,
        .n_headers = nh,
        .body = c->body,
        .body_len = c->body_len,
        .timeout_ms = c->stream ? 0 : n->timeout_s * 1000,
        .idle_timeout_ms = c->stream ? n->stream_idle_timeout_s * 1000 : 0,
        .ca_pem = n->ca_cert_pem,
        .client = (up_client)n->http_client,
    };
    c->status = 0;
    c->resp.len = 0;
    c->malformed = false;
    c->req = up_start(c->up, &o, &antp_callbacks, c);
    return c->req ? 0 : -1;
}

static prov_call *antp_start(const prov_request *rq, const prov_sink *sink, void *ud)
{
    prov_call *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        sink->error(ud, 500, "server_error", NULL, "out of memory");
        return NULL;
    }
    c->prov = rq->provider;
    c->retries = rq->retries;
    c->sink = sink;
    c->ud = ud;
    c->stream = rq->stream;
    c->up = rq->up;
    c->plugin_headers = rq->extra_headers;
    c->n_plugin_headers = rq->n_extra_headers;
    c->rng = ((uint64_t)(uintptr_t)c ^ uv_hrtime()) | 1;
    ant_stream_init(&c->st, 0);
    uv_timer_init(rq->loop, &c->timer);
    c->timer.data = c;
    snprintf(c->model, sizeof(c->model), "%s", rq->model);

    const char *base = c->prov->net.base_url ? c->prov->net.base_url : ANTP_DEFAULT_BASE;
    size_t blen = strlen(base);
    bool has_v1 = blen >= 3 && strcmp(base + blen - 3, "/v1") == 0;
    snprintf(c->url, sizeof(c->url), "%s%s", base, has_v1 ? "/messages" : "/v1/messages");

    sj_buf body = {0};
    ant_err e = {0};
    int st = ant_req_from_openai(rq->body, rq->model, &body, &e);
    c->body = body.data;
    c->body_len = body.len;
    if (st != 0) {
        antp_error(c, &e);
    } else if (!antp_pick_key(c)) {
        char msg[512];
        snprintf(msg, sizeof(msg), "provider %s has no key configured for model '%.200s'", c->prov->name, rq->model);
        sink->error(ud, 404, "invalid_request_error", "model_not_found", msg);
    } else if (antp_begin(c) != 0) {
        sink->error(ud, 500, "server_error", NULL, "cannot start the upstream request (bad base_url?)");
    } else {
        return c;
    }
    antp_free(c);
    return NULL;
}

static void antp_pause(prov_call *c)
{
    if (c->req)
        up_pause(c->req);
}

static void antp_resume(prov_call *c)
{
    if (c->req)
        up_resume(c->req);
}

static void antp_cancel(prov_call *c)
{
    if (c->req) {
        up_cancel(c->req);
        c->req = NULL;
    }
    if (c->in_feed) {
        c->dead = true;
        return;
    }
    antp_free(c);
}

const prov_ops prov_anthropic_ops = {
    .family = "anthropic",
    .start = antp_start,
    .pause = antp_pause,
    .resume = antp_resume,
    .cancel = antp_cancel,
};
