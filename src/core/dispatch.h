/*
 * dispatch.h - the attempt loop every chat endpoint shares: plugins' hooks,
 * model resolution, the provider call, retries inside the provider,
 * fallbacks, and writing the result back (JSON, or SSE through
 * stream_out.c). Prefix: dp_.
 *
 * The pipeline works on the internal (OpenAI chat) form. An endpoint that
 * speaks another wire format (the Anthropic drop-in) translates the request
 * before dp_start and gives a dp_wire that translates what goes back.
 *
 *   POST /v1/chat/completions  (chat.c)           -+
 *   POST /anthropic/v1/messages (anthropic_api.c) -+-> dp_start -> prov_ops.start -> provider
 *
 * Fallbacks: the body's "fallbacks" (model names) are tried in order when
 * the current provider fails, after its own retries, with an error worth
 * another provider (5xx, 401/403/404/408/429), as long as nothing reached the
 * client; when every attempt failed, the client gets the primary's error
 * (the model it asked for). Once a stream sent its first byte, a failure ends it with an
 * in-band error event instead. The answer names the provider that served it
 * (extra_fields.provider and the x-sluice-provider header).
 *
 * Lifetime: a dp_req lives in the request's pool; its dispose callback (when
 * the request goes away, done or the client gone) cancels a provider call
 * still running and frees the document, so no callback reaches freed memory.
 */
#ifndef SLUICE_CORE_DISPATCH_H
#define SLUICE_CORE_DISPATCH_H

#include "core/gateway.h"
#include "core/stream_out.h"
#include "plugin/gateway.h"
#include "provider/provider.h"

#define DP_MAX_FALLBACKS 8

typedef struct dp_req dp_req;

/* How an endpoint writes to its client what the pipeline produced in the
 * internal form. Stream callbacks append SSE text to `out`. */
typedef struct dp_wire {
    /* one OpenAI chat.completion.chunk (after the plugins' chunk hook) */
    void (*chunk)(dp_req *d, const char *data, size_t len, sj_buf *out);
    /* the stream ended normally */
    void (*done)(dp_req *d, sj_buf *out);
    /* a failure after the stream started: the in-band error event */
    void (*stream_error)(dp_req *d, int status, const char *type, const char *code, const char *message,
                         sj_buf *out);
    /* Non-streaming answers and errors, OpenAI-shaped, to the wire format
     * (after post_hook, before http_post_hook). NULL: sent as they are. */
    plg_gw_conv convert;
} dp_wire;

struct dp_req {
    srv_request *sr;
    const dp_wire *wire;
    void *wire_ud;        /* the endpoint's own state */
    sj_doc *doc;          /* the internal request, owned; freed (NULL) once the last
                           * possible attempt is under way: no fallback can need it */
    const char *raw;      /* the client's bytes doc was parsed from, NULL if doc differs */
    size_t raw_len;       /* (set by the endpoint; lives as long as the request) */
    plg_gw_req *plg;      /* plugin pipeline state, NULL without plugins */
    bool stream;
    /* the attempt in progress */
    const cfg_provider *prov;
    const prov_ops *ops;
    prov_call *call;      /* live provider call, or NULL */
    bool finished;        /* the provider sent its terminal callback */
    bool running;         /* inside dp_run: a nested request to run sets `again` */
    bool again;
    const char *fallbacks[DP_MAX_FALLBACKS]; /* in doc's arena */
    size_t n_fallbacks;
    size_t attempt;       /* 0 = the primary model, k = fallbacks[k-1] */
    uint64_t up_start_ns; /* when the current provider call started (metrics) */
    struct dp_error {     /* the primary's error: what the client gets when every attempt failed */
        int status;
        char type[48], code[48], message[768];
    } *first_err;         /* in the request's pool once recorded, else NULL (most requests never need it) */
    so_writer out;
    /* `"extra_fields":{"provider":"NAME"}}` for tail_prov, in the request's
     * pool: every streamed chunk ends with it, built once per provider. */
    const cfg_provider *tail_prov;
    const char *tail;
    size_t tail_len;
};

/* Whether s[0..n) contains `needle` (nlen bytes), as memmem does, but
 * found by a memchr for needle[rare], a byte that should seldom occur in s
 * elsewhere: the per-chunk scans ("usage", "extra_fields") run on every
 * streamed event, and glibc's memmem goes byte by byte. */
bool dp_mentions(const char *s, size_t n, const char *needle, size_t nlen, size_t rare);

/* The JSON members that close a streamed chunk naming its provider:
 * `"extra_fields":{"provider":"NAME"}}` (owned by the request's pool). */
const char *dp_provider_tail(dp_req *d, size_t *len);

/* Allocates the request's pipeline state in sr's pool; takes ownership of doc
 * (freed with the request). wire_ud is handed back through d->wire_ud. */
dp_req *dp_new(srv_request *sr, plg_gw_req *plg, sj_doc *doc, const dp_wire *wire, void *wire_ud);

/* Checks the request root's optional "fallbacks" (an array of at most
 * DP_MAX_FALLBACKS non-empty model names); sends a 400 and returns false if
 * it is bad. */
bool dp_check_fallbacks(srv_request *sr, const sj_val *root);

/* Runs the request: the primary model (the root's "model"), then fallbacks.
 * d->stream must be set. */
void dp_start(dp_req *d);

/* Appends the JSON object text data[0..len) to b with the provider tail
 * (dp_provider_tail) added before its closing brace (after a comma unless the
 * object is empty), its other bytes copied by `append` (which may rewrite what
 * it copies). Returns false, appending nothing, when data is not '{'...'}' or,
 * with `scan`, mentions "extra_fields" anywhere: the caller then merges through
 * a parsed document. Without `scan` the caller has parsed data and knows it has
 * no such member. Used for streamed chunks and whole answers alike. */
bool dp_append_provider(dp_req *d, sj_buf *b, const char *data, size_t len, bool scan,
                        void (*append)(sj_buf *b, const char *s, size_t len));

#endif /* SLUICE_CORE_DISPATCH_H */
