/*
 * mock_faults.c - the x-mock-* request headers: per-request latency and chunk
 * delay, generated replies, and fault injection (with the fail-times rule:
 * fail the first N requests carrying a key, then succeed).
 *
 * Each fault imitates what a real flaky upstream does; see docs/mockllm.md.
 */
#include "mockllm/mock.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    mock_fault fault;
} fault_names[] = {
    {"500", MOCK_FAULT_500},
    {"429", MOCK_FAULT_429},
    {"401", MOCK_FAULT_401},
    {"400", MOCK_FAULT_400},
    {"503", MOCK_FAULT_503},
    {"reset-before-headers", MOCK_FAULT_RESET_BEFORE_HEADERS},
    {"reset-mid-stream", MOCK_FAULT_RESET_MID_STREAM},
    {"stall", MOCK_FAULT_STALL},
    {"stall-mid-stream", MOCK_FAULT_STALL_MID_STREAM},
    {"malformed-json", MOCK_FAULT_MALFORMED_JSON},
    {"malformed-sse", MOCK_FAULT_MALFORMED_SSE},
    {"huge", MOCK_FAULT_HUGE},
    {"drip", MOCK_FAULT_DRIP},
    {"empty", MOCK_FAULT_EMPTY},
    {"401-echo-key", MOCK_FAULT_401_ECHO_KEY},
};

/* ---- the fail-times table ------------------------------------------------ */

/* key -> requests seen. Chained hash; a bounded number of keys (a hostile or
 * runaway client must not grow it forever): past the cap it starts over. */
#define FAIL_BUCKETS  4096
#define FAIL_MAX_KEYS 65536
#define FAIL_MAX_KEY  256

typedef struct fail_entry {
    struct fail_entry *next;
    uint64_t count;
    size_t len;
    char key[];
} fail_entry;

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static fail_entry *fail_table[FAIL_BUCKETS];
static size_t fail_keys;

static void fail_clear_locked(void) {
    for (size_t i = 0; i < FAIL_BUCKETS; i++) {
        fail_entry *e = fail_table[i];
        while (e) {
            fail_entry *n = e->next;
            free(e);
            e = n;
        }
        fail_table[i] = NULL;
    }
    fail_keys = 0;
}

void mock_faults_reset(void) {
    pthread_mutex_lock(&fail_lock);
    fail_clear_locked();
    pthread_mutex_unlock(&fail_lock);
}

void mock_faults_free(void) { mock_faults_reset(); }

/* Counts one more request for `key`; returns the new count (0 on OOM). */
static uint64_t fail_count(const char *key, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    size_t b = (size_t)(h % FAIL_BUCKETS);
    uint64_t n = 0;
    pthread_mutex_lock(&fail_lock);
    fail_entry *e = fail_table[b];
    while (e && !(e->len == len && memcmp(e->key, key, len) == 0)) e = e->next;
    if (!e) {
        if (fail_keys >= FAIL_MAX_KEYS) {
            fail_clear_locked();
        }
        e = malloc(sizeof *e + len + 1);
        if (e) {
            e->count = 0;
            e->len = len;
            memcpy(e->key, key, len);
            e->key[len] = '\0';
            e->next = fail_table[b];
            fail_table[b] = e;
            fail_keys++;
        }
    }
    if (e) n = ++e->count;
    pthread_mutex_unlock(&fail_lock);
    return n;
}

/* ---- x-mock-* headers ---------------------------------------------------- */

static bool header_uint(const mock_req *req, const char *name, uint64_t max, uint64_t *out,
                        bool *present) {
    size_t len;
    const char *v = mock_req_header(req, name, &len);
    *present = v != NULL;
    if (!v) return true;
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
    if (len == 0 || len > 20) return false;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') return false;
        n = n * 10 + (uint64_t)(v[i] - '0');
        if (n > max) return false;
    }
    *out = n;
    return true;
}

bool mock_opts_read(const mock_req *req, mock_opts *o, const char **why) {
    memset(o, 0, sizeof *o);
    o->latency_ms = mock_cfg.latency_ms;
    o->chunk_delay_ms = mock_cfg.chunk_delay_ms;
    uint64_t n = 0;
    bool present;
    if (!header_uint(req, "x-mock-latency-ms", MOCK_MAX_DELAY_MS, &n, &present)) {
        *why = "x-mock-latency-ms must be an integer from 0 to 600000";
        return false;
    }
    if (present) o->latency_ms = (unsigned)n;
    if (!header_uint(req, "x-mock-chunk-delay-ms", MOCK_MAX_DELAY_MS, &n, &present)) {
        *why = "x-mock-chunk-delay-ms must be an integer from 0 to 600000";
        return false;
    }
    if (present) o->chunk_delay_ms = (unsigned)n;
    if (!header_uint(req, "x-mock-words", MOCK_MAX_WORDS, &n, &present) || (present && n == 0)) {
        *why = "x-mock-words must be an integer from 1 to 1000000";
        return false;
    }
    if (present) o->words = (size_t)n;
    o->tool = mock_req_header(req, "x-mock-tool-call", &o->tool_len);
    if (o->tool && (o->tool_len == 0 || o->tool_len > 64)) {
        *why = "x-mock-tool-call must be a tool name of 1 to 64 bytes";
        return false;
    }

    size_t flen;
    const char *fv = mock_req_header(req, "x-mock-fault", &flen);
    if (!fv) return true;
    mock_fault f = MOCK_FAULT_NONE;
    for (size_t i = 0; i < sizeof fault_names / sizeof fault_names[0]; i++) {
        if (strlen(fault_names[i].name) == flen &&
            strncasecmp(fault_names[i].name, fv, flen) == 0)
            f = fault_names[i].fault;
    }
    if (f == MOCK_FAULT_NONE) {
        *why = "unknown x-mock-fault value (see docs/mockllm.md)";
        return false;
    }
    uint64_t times = 0;
    if (!header_uint(req, "x-mock-fail-times", UINT32_MAX, &times, &present)) {
        *why = "x-mock-fail-times must be a non-negative integer";
        return false;
    }
    if (present) {
        size_t klen = 0;
        const char *key = mock_req_header(req, "x-mock-fault-key", &klen);
        if (!key) key = "";
        if (klen > FAIL_MAX_KEY) {
            *why = "x-mock-fault-key is longer than 256 bytes";
            return false;
        }
        /* The first `times` requests with this key fail, later ones pass. */
        if (fail_count(key, klen) > times) f = MOCK_FAULT_NONE;
    }
    o->fault = f;
    return true;
}

/* ---- error replies ------------------------------------------------------- */

void mock_error(mock_reply *r, mock_proto proto, int status, const char *type,
                const char *message) {
    sj_buf b = {0};
    if (proto == MOCK_PROTO_ANTHROPIC) {
        sj_buf_cstr(&b, "{\"type\":\"error\",\"error\":{\"type\":");
        sj_buf_str(&b, type, strlen(type));
        sj_buf_cstr(&b, ",\"message\":");
        sj_buf_str(&b, message, strlen(message));
        sj_buf_cstr(&b, "}}");
    } else {
        sj_buf_cstr(&b, "{\"error\":{\"message\":");
        sj_buf_str(&b, message, strlen(message));
        sj_buf_cstr(&b, ",\"type\":");
        sj_buf_str(&b, type, strlen(type));
        sj_buf_cstr(&b, ",\"param\":null,\"code\":null}}");
    }
    const char *extra = status == 429 ? "retry-after: 1\r\n" : NULL;
    mock_reply_fixed(r, status, "application/json", extra, b.data ? b.data : "", b.len);
    sj_buf_free(&b);
}

bool mock_fault_is_status(mock_fault f) {
    return f == MOCK_FAULT_500 || f == MOCK_FAULT_429 || f == MOCK_FAULT_401 ||
           f == MOCK_FAULT_400 || f == MOCK_FAULT_503;
}

void mock_fault_status(mock_reply *r, mock_proto proto, mock_fault f) {
    bool a = proto == MOCK_PROTO_ANTHROPIC;
    switch (f) {
    case MOCK_FAULT_429:
        mock_error(r, proto, 429, a ? "rate_limit_error" : "rate_limit_exceeded",
                   "Rate limit reached (injected by x-mock-fault)");
        break;
    case MOCK_FAULT_401:
        mock_error(r, proto, 401, a ? "authentication_error" : "invalid_request_error",
                   "Invalid API key (injected by x-mock-fault)");
        break;
    case MOCK_FAULT_400:
        mock_error(r, proto, 400, "invalid_request_error",
                   "Bad request (injected by x-mock-fault)");
        break;
    case MOCK_FAULT_503:
        mock_error(r, proto, 503, a ? "overloaded_error" : "server_error",
                   "The server is overloaded (injected by x-mock-fault)");
        break;
    default:
        mock_error(r, proto, 500, a ? "api_error" : "server_error",
                   "Internal server error (injected by x-mock-fault)");
        break;
    }
}

void mock_respond_ok(mock_reply *r, mock_fault f, const char *ctype, const char *body,
                     size_t len) {
    switch (f) {
    case MOCK_FAULT_EMPTY:
        len = 0;
        break;
    case MOCK_FAULT_MALFORMED_JSON:
        len /= 2; /* cut mid-document: never valid JSON */
        break;
    default:
        break;
    }
    mock_reply_fixed(r, 200, ctype, NULL, body, len);
    size_t head = r->fixed.len - len;
    switch (f) {
    case MOCK_FAULT_DRIP:
        r->drip_from = head;
        break;
    case MOCK_FAULT_RESET_MID_STREAM:
    case MOCK_FAULT_STALL_MID_STREAM:
        /* Head and half the body, then the connection breaks or hangs. */
        r->cut_at = head + len / 2;
        r->end = f == MOCK_FAULT_RESET_MID_STREAM ? MOCK_END_RESET : MOCK_END_STALL;
        break;
    default:
        break;
    }
}
