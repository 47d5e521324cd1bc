/*
 * mock_route.c - which request gets which reply: the API routes, the fault
 * rules around them, and the introspection endpoints under /mock/.
 *
 * Latency and faults apply to /v1/... only, so that /health and /mock/...
 * stay usable by tests whatever the mock was told to do.
 */
#include "mockllm/mock.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static mock_path path_index(const mock_req *req) {
    static const struct {
        const char *path;
        mock_path idx;
    } known[] = {
        {"/v1/chat/completions", MOCK_PATH_CHAT},
        {"/v1/messages", MOCK_PATH_MESSAGES},
        {"/v1/models", MOCK_PATH_MODELS},
        {"/health", MOCK_PATH_HEALTH},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i].path);
        if (req->path_len == n && memcmp(req->path, known[i].path, n) == 0) return known[i].idx;
    }
    if (req->path_len >= 6 && memcmp(req->path, "/mock/", 6) == 0) return MOCK_PATH_MOCK;
    return MOCK_PATH_OTHER;
}

static const char *const path_names[MOCK_PATH_COUNT] = {
    "/v1/chat/completions", "/v1/messages", "/v1/models", "/health", "/mock", "other",
};

/* ---- /mock/last ---------------------------------------------------------- */

static bool same_name(const struct phr_header *a, const struct phr_header *b) {
    return a->name_len == b->name_len && strncasecmp(a->name, b->name, a->name_len) == 0;
}

/* Did header i already occur earlier in the request? */
static bool header_seen(const mock_req *req, size_t i) {
    for (size_t j = 0; j < i; j++)
        if (same_name(&req->headers[j], &req->headers[i])) return true;
    return false;
}

void mock_last_record(mock_worker *w, const mock_req *req, bool body_is_json) {
    uint64_t seq = atomic_fetch_add_explicit(&mock_last_seq, 1, memory_order_relaxed) + 1;
    pthread_mutex_lock(&w->last_lock);
    sj_buf *b = &w->last_json;
    b->len = 0;
    b->oom = false;
    sj_buf_cstr(b, "{\"method\":");
    sj_buf_str(b, req->method, req->method_len);
    sj_buf_cstr(b, ",\"path\":");
    sj_buf_str(b, req->target, req->target_len);
    sj_buf_cstr(b, ",\"headers\":{");
    char name[256];
    bool first = true;
    for (size_t i = 0; i < req->num_headers; i++) {
        const struct phr_header *h = &req->headers[i];
        if (header_seen(req, i)) continue; /* joined into its first occurrence */
        size_t n = h->name_len < sizeof name ? h->name_len : sizeof name;
        for (size_t k = 0; k < n; k++) {
            char ch = h->name[k];
            name[k] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        }
        if (!first) sj_buf_raw(b, ",", 1);
        first = false;
        sj_buf_str(b, name, n);
        sj_buf_raw(b, ":", 1);
        /* A repeated header becomes one value, joined with ", " (RFC 9110 5.3). */
        sj_buf *v = &w->body;
        v->len = 0;
        for (size_t j = i; j < req->num_headers; j++) {
            if (j != i && !same_name(&req->headers[i], &req->headers[j])) continue;
            if (v->len) sj_buf_raw(v, ", ", 2);
            sj_buf_raw(v, req->headers[j].value, req->headers[j].value_len);
        }
        sj_buf_str(b, v->data ? v->data : "", v->len);
    }
    sj_buf_cstr(b, "},\"body\":");
    /* A body that parsed is valid JSON text already: embed it verbatim. */
    if (body_is_json) {
        sj_buf_raw(b, req->body, req->body_len);
    } else {
        sj_buf_cstr(b, "null,\"raw_body\":");
        sj_buf_str(b, req->body ? req->body : "", req->body_len);
    }
    sj_buf_raw(b, "}", 1);
    /* Header values need not be UTF-8; if the escaper refused, say so. */
    w->last_seq = b->oom ? 0 : seq;
    pthread_mutex_unlock(&w->last_lock);
}

static void serve_last(mock_reply *r) {
    mock_worker *best = NULL;
    uint64_t best_seq = 0;
    for (unsigned i = 0; i < mock_cfg.workers; i++) {
        mock_worker *w = &mock_workers[i];
        pthread_mutex_lock(&w->last_lock);
        if (w->last_seq > best_seq) {
            best_seq = w->last_seq;
            best = w;
        }
        pthread_mutex_unlock(&w->last_lock);
    }
    if (!best) {
        mock_error(r, MOCK_PROTO_OPENAI, 404, "not_found_error", "no chat request received yet");
        return;
    }
    /* The record may be replaced between the two locks: any recent one will do. */
    pthread_mutex_lock(&best->last_lock);
    mock_reply_fixed(r, 200, "application/json", NULL, best->last_json.data,
                     best->last_json.len);
    pthread_mutex_unlock(&best->last_lock);
}

static void forget_last(void) {
    for (unsigned i = 0; i < mock_cfg.workers; i++) {
        mock_worker *w = &mock_workers[i];
        pthread_mutex_lock(&w->last_lock);
        w->last_seq = 0;
        w->last_json.len = 0;
        pthread_mutex_unlock(&w->last_lock);
    }
}

/* ---- /mock/stats --------------------------------------------------------- */

static uint64_t sum(size_t offset) {
    uint64_t t = 0;
    for (unsigned i = 0; i < mock_cfg.workers; i++) {
        atomic_uint_fast64_t *a = (atomic_uint_fast64_t *)((char *)&mock_workers[i].stats + offset);
        t += atomic_load_explicit(a, memory_order_relaxed);
    }
    return t;
}

static void serve_stats(mock_worker *w, mock_reply *r) {
    sj_buf *b = &w->body;
    b->len = 0;
    uint64_t accepted = sum(offsetof(mock_stats, accepted));
    uint64_t closed = sum(offsetof(mock_stats, closed));
    sj_buf_cstr(b, "{\"requests_total\":");
    sj_buf_u64(b, sum(offsetof(mock_stats, requests)));
    sj_buf_cstr(b, ",\"requests_by_path\":{");
    for (int p = 0; p < MOCK_PATH_COUNT; p++) {
        if (p) sj_buf_raw(b, ",", 1);
        sj_buf_str(b, path_names[p], strlen(path_names[p]));
        sj_buf_raw(b, ":", 1);
        sj_buf_u64(b, sum(offsetof(mock_stats, per_path) + (size_t)p * sizeof(atomic_uint_fast64_t)));
    }
    sj_buf_cstr(b, "},\"connections_accepted\":");
    sj_buf_u64(b, accepted);
    sj_buf_cstr(b, ",\"connections_open\":");
    sj_buf_u64(b, accepted > closed ? accepted - closed : 0);
    sj_buf_cstr(b, ",\"workers\":");
    sj_buf_u64(b, mock_cfg.workers);
    sj_buf_raw(b, "}", 1);
    mock_reply_fixed(r, 200, "application/json", NULL, b->data, b->len);
}

/* ---- the other small routes ---------------------------------------------- */

static void serve_models(mock_worker *w, const mock_opts *o, mock_reply *r) {
    static const char *const models[] = {
        "gpt-4o-mini", "gpt-4o", "claude-3-5-haiku-latest", "claude-sonnet-4-5", "mock-model",
    };
    sj_buf *b = &w->body;
    b->len = 0;
    sj_buf_cstr(b, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        if (i) sj_buf_raw(b, ",", 1);
        sj_buf_cstr(b, "{\"id\":\"");
        sj_buf_cstr(b, models[i]);
        sj_buf_cstr(b, "\",\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"sluice-mockllm\"}");
    }
    sj_buf_cstr(b, "]}");
    mock_respond_ok(r, o->fault, "application/json", b->data, b->len);
}

static void not_found(mock_reply *r, const mock_req *req, bool method_only) {
    char msg[160];
    int pl = req->path_len > 100 ? 100 : (int)req->path_len;
    snprintf(msg, sizeof msg, method_only ? "method not allowed for %.*s" : "unknown path %.*s",
             pl, req->path);
    /* The path is the client's bytes: keep the message valid UTF-8. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) *p = '?';
    mock_error(r, MOCK_PROTO_OPENAI, method_only ? 405 : 404, "invalid_request_error", msg);
}

/* A route exists for this path with some method. */
static bool known_path(mock_path p) { return p != MOCK_PATH_OTHER && p != MOCK_PATH_MOCK; }

void mock_route(mock_worker *w, const mock_req *req, mock_reply *r) {
    mock_path p = path_index(req);
    atomic_fetch_add_explicit(&w->stats.requests, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->stats.per_path[p], 1, memory_order_relaxed);

    if (p == MOCK_PATH_MOCK) {
        if (mock_req_is(req, "GET", "/mock/last")) serve_last(r);
        else if (mock_req_is(req, "GET", "/mock/stats")) serve_stats(w, r);
        else if (mock_req_is(req, "POST", "/mock/reset")) {
            mock_faults_reset();
            forget_last();
            mock_reply_fixed(r, 200, "application/json", NULL, "{\"reset\":true}", 14);
        } else {
            not_found(r, req, false);
        }
        return;
    }
    if (p == MOCK_PATH_HEALTH) {
        if (mock_req_is(req, "GET", "/health"))
            mock_reply_fixed(r, 200, "application/json", NULL, "{\"status\":\"ok\"}", 15);
        else
            not_found(r, req, true);
        return;
    }

    mock_proto proto = p == MOCK_PATH_MESSAGES ? MOCK_PROTO_ANTHROPIC : MOCK_PROTO_OPENAI;
    mock_opts o;
    const char *why;
    if (!mock_opts_read(req, &o, &why)) {
        mock_error(r, proto, 400, "invalid_request_error", why);
        return;
    }
    r->latency_ms = o.latency_ms;
    r->chunk_delay_ms = o.chunk_delay_ms;

    if (mock_fault_is_status(o.fault)) {
        mock_fault_status(r, proto, o.fault);
        return;
    }
    if (o.fault == MOCK_FAULT_401_ECHO_KEY) {
        /* Some upstreams quote the credential they refused: the gateway must not pass it on. */
        size_t kl = 0;
        const char *k = mock_req_header(req, proto == MOCK_PROTO_ANTHROPIC ? "x-api-key" : "authorization", &kl);
        char msg[512];
        snprintf(msg, sizeof(msg), "Incorrect API key provided: %.*s. Also tried sk-live-0123456789abcdef.",
                 (int)(kl < 300 ? kl : 300), k ? k : "");
        mock_error(r, proto, 401, proto == MOCK_PROTO_ANTHROPIC ? "authentication_error" : "invalid_request_error", msg);
        return;
    }
    if (o.fault == MOCK_FAULT_RESET_BEFORE_HEADERS || o.fault == MOCK_FAULT_STALL) {
        /* No byte of response: after the latency, RST or silence. */
        r->is_stream = false;
        r->fixed.len = 0;
        r->end = o.fault == MOCK_FAULT_STALL ? MOCK_END_STALL : MOCK_END_RESET;
        return;
    }
    if (mock_req_is(req, "POST", "/v1/chat/completions"))
        mock_chat(w, req, MOCK_PROTO_OPENAI, &o, r);
    else if (mock_req_is(req, "POST", "/v1/messages"))
        mock_chat(w, req, MOCK_PROTO_ANTHROPIC, &o, r);
    else if (mock_req_is(req, "GET", "/v1/models"))
        serve_models(w, &o, r);
    else
        not_found(r, req, known_path(p));
}
