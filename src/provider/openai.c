/*
 * openai.c - OpenAI and every OpenAI-compatible server (Groq, Ollama, vLLM,
 * the mock upstream...): POST {base_url}/v1/chat/completions with a Bearer key.
 *
 * The client's request is forwarded as it came (unknown fields and number
 * text untouched: the JSON module keeps number source text) except for two
 * edits: "model" loses its provider prefix and Sluice's own "fallbacks" field
 * is removed.
 *
 * Failures before anything reached the client are retried (5xx and network
 * errors, with exponential backoff and jitter, up to max_retries); a 429, 401
 * or 403 moves to another key serving the model when there is one. Once a chunk was relayed, a failure can
 * only be reported in-band, which the caller does with the error callback.
 *
 * Lifetime: a prov_call owns a uv_timer (for retry backoff); it is freed in
 * the timer's close callback, so freeing is always deferred to the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/obs.h"
#include "provider/provider.h"
#include "provider/sse.h"

#define OAI_MAX_RESPONSE (64u << 20)   /* a non-streaming response larger than this is refused */
#define OAI_MAX_ERROR_BODY (64u << 10) /* kept of an error response, for its message */
#define OAI_MAX_EVENT (8u << 20)       /* one SSE event */

struct prov_call {
    const cfg_provider *prov;
    const prov_sink *sink;
    void *ud;
    bool stream;
    up_loop *up;
    up_req *req;           /* transfer in progress, or NULL */
    uv_timer_t timer;      /* retry backoff */
    char *url;             /* malloc'd, exact size: a waiting stream costs little */
    char *body;            /* the upstream request body (malloc'd, trimmed to size) */
    size_t body_len;
    char *model;           /* for key matching (malloc'd, exact size) */
    const char *const *plugin_headers; /* prov_request.extra_headers */
    size_t n_plugin_headers;
    const cfg_key *key;    /* key of the current attempt, or NULL */
    bool tried[PROV_MAX_TRIED_KEYS];
    int attempt;           /* retries done so far */
    int *retries;          /* prov_request.retries */
    int status;            /* upstream HTTP status of the current attempt */
    sj_buf resp;           /* response body (non-streaming) or error body */
    sse_parser sse;
    bool sse_on;
    bool sent_any;         /* a chunk was relayed to the client: no retry now */
    bool dead;             /* cancelled from inside one of our callbacks */
    bool in_feed;
    bool malformed;        /* the upstream sent an event that is not JSON */
    uint64_t rng;
};

/* ---- small helpers ---------------------------------------------------------- */

/* a followed by b in a new string (the caller frees it), or NULL when out of memory.
 * Once or twice per request: asprintf cost ~950 instructions each. */
static char *oai_concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

static void oai_on_closed(uv_handle_t *h)
{
    prov_call *c = h->data;
    free(c->body);
    free(c->url);
    free(c->model);
    sj_buf_free(&c->resp);
    if (c->sse_on)
        sse_free(&c->sse);
    free(c);
}

/* Frees c once the loop has closed its timer. */
static void oai_free(prov_call *c)
{
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, oai_on_closed);
}

/* Reports an error from an upstream HTTP status and its body. */
static void oai_fail_status(prov_call *c, int status)
{
    char detail[512] = "";
    const char *type = NULL, *code = NULL;
    sj_doc *doc = sj_parse(c->resp.data ? c->resp.data : "", c->resp.len, NULL, NULL);
    sj_val *err = sj_get(sj_doc_root(doc), "error");
    const char *m = sj_str(sj_get(err, "message"), NULL);
    if (m == NULL)
        m = sj_str(err, NULL); /* some servers send "error": "text" */
    if (m)
        snprintf(detail, sizeof(detail), ": %s", m);
    type = sj_str(sj_get(err, "type"), NULL);
    code = sj_str(sj_get(err, "code"), NULL);
    char msg[768];
    if (prov_all_keys_dead(c->prov, c->key, status, c->model, m ? m : "", msg, sizeof(msg))) {
        c->sink->error(c->ud, 502, "server_error", "all_keys_dead", msg);
        sj_doc_free(doc);
        return;
    }
    snprintf(msg, sizeof(msg), "provider %s returned HTTP %d%s", c->prov->name, status, detail);
    prov_redact(c->prov, c->key, msg);
    /* 4xx keeps its status; a plain 5xx becomes 502 (the gateway is fine, its upstream is not). */
    int out = status;
    if (status >= 500 && status != 503 && status != 504)
        out = 502;
    else if (status < 400 || status > 599)
        out = 502;
    c->sink->error(c->ud, out, type, code, msg);
    sj_doc_free(doc);
}

/* ---- attempts ---------------------------------------------------------------- */

static int oai_begin(prov_call *c);

/* A provider without keys (a local server) sends no Authorization header. */
static bool oai_pick_key(prov_call *c)
{
    return prov_pick_key(c->prov, c->model, c->tried, &c->rng, &c->key);
}

static void oai_on_retry_timer(uv_timer_t *t)
{
    prov_call *c = t->data;
    if (oai_begin(c) != 0) {
        c->sink->error(c->ud, 500, "server_error", NULL, "cannot start the upstream request");
        oai_free(c);
    }
}

/* Schedules another attempt if the policy allows one; false otherwise. */
static bool oai_retry(prov_call *c)
{
    const cfg_network *n = &c->prov->net;
    if (c->sent_any || c->attempt >= n->max_retries)
        return false;
    uint64_t delay = prov_backoff_ms(n, c->attempt, &c->rng);
    c->attempt++;
    prov_note_retry(c->prov, c->retries);
    uv_timer_start(&c->timer, oai_on_retry_timer, delay, 0);
    return true;
}

static int oai_on_event(void *ud, const char *event, size_t event_len, const char *data, size_t len)
{
    (void)event;
    (void)event_len;
    prov_call *c = ud;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0)
        return 0;
    /* Relay only what looks like a JSON object: garbage would break clients. */
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i == len || data[i] != '{') {
        c->malformed = true;
        return 1;
    }
    c->sent_any = true;
    c->sink->chunk(c->ud, data, len);
    return c->dead ? 1 : 0;
}

static int oai_on_head(void *ud, int status, const up_header *h, size_t n)
{
    (void)h;
    (void)n;
    prov_call *c = ud;
    c->status = status;
    c->resp.len = 0;
    if (c->stream && status >= 200 && status < 300) {
        if (c->sse_on)
            sse_free(&c->sse);
        sse_init(&c->sse, OAI_MAX_EVENT, oai_on_event, c);
        c->sse_on = true;
    }
    return 0;
}

static int oai_on_body(void *ud, const char *data, size_t len)
{
    prov_call *c = ud;
    bool ok = c->status >= 200 && c->status < 300;
    if (c->stream && ok) {
        c->in_feed = true;
        int rc = sse_feed(&c->sse, data, len);
        c->in_feed = false;
        if (c->dead) {
            oai_free(c);
            return 0; /* the transfer was already cancelled */
        }
        return rc != 0 ? 1 : 0;
    }
    size_t cap = ok ? OAI_MAX_RESPONSE : OAI_MAX_ERROR_BODY;
    if (c->resp.len + len > cap) {
        if (!ok)
            return 0; /* the start of an error body is enough */
        return 1;
    }
    sj_buf_raw(&c->resp, data, len);
    return c->resp.oom ? 1 : 0;
}

static void oai_on_done(void *ud, up_result res, const char *detail)
{
    prov_call *c = ud;
    c->req = NULL;
    bool ok = c->status >= 200 && c->status < 300;
    prov_note_result(c->prov, res, c->status);
    if (res == UP_OK && ok && c->stream && !c->sent_any) {
        /* A 2xx stream without a single event: nothing the client can use. */
        if (oai_retry(c))
            return;
        char msg[256];
        snprintf(msg, sizeof(msg), "provider %s ended the stream without sending any event", c->prov->name);
        c->sink->error(c->ud, 502, "server_error", "upstream_error", msg);
        oai_free(c);
        return;
    }
    if (res == UP_OK && ok) {
        if (c->stream)
            c->sink->done(c->ud);
        else
            c->sink->response(c->ud, 200, c->resp.data ? c->resp.data : "", c->resp.len);
        oai_free(c);
        return;
    }
    if (res == UP_OK) {
        /* 429: this key is rate-limited; 401/403: this key is dead. Either
         * way another key that serves the model may do (each key once). */
        bool key_problem = c->status == 429 || c->status == 401 || c->status == 403;
        const cfg_key *used = c->key;
        if (key_problem && !c->sent_any && oai_pick_key(c) && c->key) {
            if (oai_begin(c) == 0)
                return;
        }
        c->key = used; /* for redaction */
        if (key_problem) {
            /* no other key left: report it below */
        } else if (c->status >= 500 && oai_retry(c)) {
            return;
        }
        oai_fail_status(c, c->status);
        oai_free(c);
        return;
    }
    if (res != UP_EABORTED && oai_retry(c))
        return;
    char msg[768];
    int status = 502;
    const char *code = "upstream_error";
    switch (res) {
    case UP_ETIMEOUT:
        status = 504;
        code = "upstream_timeout";
        snprintf(msg, sizeof(msg), "provider %s timed out%s%s", c->prov->name, *detail ? ": " : "", detail);
        break;
    case UP_ECONNECT:
        snprintf(msg, sizeof(msg), "cannot connect to provider %s at %s: %s", c->prov->name, c->prov->net.base_url,
                 detail);
        break;
    case UP_EABORTED:
        snprintf(msg, sizeof(msg), "provider %s sent %s", c->prov->name,
                 c->malformed ? "a malformed event stream (an event that is not a JSON object)"
                              : "a response the gateway cannot relay (too large)");
        break;
    default:
        snprintf(msg, sizeof(msg), "provider %s failed (%s)%s%s", c->prov->name, up_result_name(res),
                 *detail ? ": " : "", detail);
        break;
    }
    prov_redact(c->prov, c->key, msg);
    c->sink->error(c->ud, status, "server_error", code, msg);
    oai_free(c);
}

static const up_callbacks oai_callbacks = {
    .on_head = oai_on_head,
    .on_body = oai_on_body,
    .on_done = oai_on_done,
};

/* Starts one attempt with the current key. 0 or -1. The header lines are
 * built here and dropped after up_start, which copies them: a waiting
 * stream does not keep them. */
static int oai_begin(prov_call *c)
{
    char *auth = NULL;
    if (c->key && c->key->value[0] && (auth = oai_concat("Authorization: Bearer ", c->key->value)) == NULL)
        return -1;
    const char *headers[40];
    size_t nh = 0, max = sizeof(headers) / sizeof(headers[0]);
    headers[nh++] = "Content-Type: application/json";
    if (auth)
        headers[nh++] = auth;
    if (c->stream)
        headers[nh++] = "Accept: text/event-stream";
    for (size_t i = 0; i < c->prov->net.n_extra_headers && nh < max; i++)
        headers[nh++] = c->prov->net.extra_headers[i];
    for (size_t i = 0; i < c->n_plugin_headers && nh < max; i++)
        headers[nh++] = c->plugin_headers[i];
    const cfg_network *n = &c->prov->net;
    up_options o = {
        .method = "POST",
        .url = c->url,
        .headers = headers,
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
    c->req = up_start(c->up, &o, &oai_callbacks, c);
    free(auth);
    return c->req ? 0 : -1;
}

/* The upstream body as the client's own bytes with only the model's value
 * replaced, when they are still what the document holds (rq->raw) and there is
 * no "fallbacks" member to drop: byte-exact by construction, and it saves
 * writing the whole document again (~5,000 instructions for a 2 KB request).
 * NULL when that does not apply; the caller writes the document. Caller frees. */
static char *oai_splice_body(const prov_request *rq, size_t *len)
{
    size_t s, e;
    if (rq->raw == NULL || sj_get(rq->body, "fallbacks") != NULL || sj_doc_root(rq->doc) != rq->body ||
        !sj_str_span(rq->doc, sj_get(rq->body, "model"), rq->raw, rq->raw_len, &s, &e))
        return NULL;
    sj_buf b = {0};
    size_t mlen = strlen(rq->model);
    sj_buf_reserve(&b, rq->raw_len + mlen + 16);
    sj_buf_raw(&b, rq->raw, s);
    sj_buf_str(&b, rq->model, mlen);
    sj_buf_raw(&b, rq->raw + e, rq->raw_len - e);
    if (b.oom || !sj_buf_reserve(&b, 1)) {
        sj_buf_free(&b);
        return NULL;
    }
    b.data[b.len] = '\0';
    *len = b.len;
    return b.data;
}

static prov_call *oai_start(const prov_request *rq, const prov_sink *sink, void *ud)
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
    c->rng = (uint64_t)(uintptr_t)c ^ uv_hrtime() ^ 0x9e3779b97f4a7c15ull;
    if (c->rng == 0)
        c->rng = 1;
    uv_timer_init(rq->loop, &c->timer);
    c->timer.data = c;
    c->model = strdup(rq->model);

    const char *base = c->prov->net.base_url;
    size_t blen = strlen(base);
    bool has_v1 = blen >= 3 && strcmp(base + blen - 3, "/v1") == 0;
    c->url = oai_concat(base, has_v1 ? "/chat/completions" : "/v1/chat/completions");

    /* The upstream body: the client's, with the model unprefixed and no
     * "fallbacks". A splice leaves the document alone (it has no "fallbacks",
     * so no later attempt reads it); otherwise the document is edited and
     * written. */
    c->body = oai_splice_body(rq, &c->body_len);
    if (c->body == NULL) {
        sj_set(rq->doc, rq->body, "model", sj_new_cstr(rq->doc, rq->model));
        sj_remove(rq->body, "fallbacks");
        if ((c->body = sj_write(rq->body, &c->body_len)) != NULL) {
            /* the writer's buffer has up to twice the room: give it back */
            char *fit = realloc(c->body, c->body_len + 1);
            if (fit)
                c->body = fit;
        }
    }

    if (c->body == NULL || c->url == NULL || c->model == NULL) {
        sink->error(ud, 500, "server_error", NULL, "out of memory");
    } else if (!oai_pick_key(c)) {
        char msg[512];
        snprintf(msg, sizeof(msg), "provider %s has no key configured for model '%.200s'", c->prov->name, rq->model);
        sink->error(ud, 404, "invalid_request_error", "model_not_found", msg);
    } else if (oai_begin(c) != 0) {
        sink->error(ud, 500, "server_error", NULL, "cannot start the upstream request (bad base_url?)");
    } else {
        return c;
    }
    oai_free(c);
    return NULL;
}

static void oai_pause(prov_call *c)
{
    if (c->req)
        up_pause(c->req);
}

static void oai_resume(prov_call *c)
{
    if (c->req)
        up_resume(c->req);
}

static void oai_cancel(prov_call *c)
{
    if (c->req) {
        up_cancel(c->req);
        c->req = NULL;
    }
    if (c->in_feed) {
        c->dead = true; /* oai_on_body frees it after sse_feed returns */
        return;
    }
    oai_free(c);
}

const prov_ops prov_openai_ops = {
    .family = "openai",
    .start = oai_start,
    .pause = oai_pause,
    .resume = oai_resume,
    .cancel = oai_cancel,
};
