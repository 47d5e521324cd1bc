/*
 * provider.h - the interface between the chat-completions handler and the
 * provider families (mock, OpenAI-compatible, later Anthropic).
 *
 * Prefix: prov_. A provider call is asynchronous: start() returns a handle and
 * the provider reports back through a prov_sink on the worker's loop thread.
 * Exactly one terminal sink callback (response, error or done) ends a call;
 * after it the provider has freed the call and the handle must not be used.
 * A provider may finish inside start() itself (the mock does): then start()
 * returns NULL after the terminal callback ran.
 *
 * In streaming mode a provider delivers each chunk as the JSON text of one
 * OpenAI chat.completion.chunk (no SSE framing, no [DONE]); the caller frames
 * it and applies backpressure with pause()/resume().
 */
#ifndef SLUICE_PROVIDER_PROVIDER_H
#define SLUICE_PROVIDER_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"
#include "http/upstream.h"
#include "sluice/json.h"

typedef struct prov_call prov_call; /* private to each family */

typedef struct prov_sink {
    /* Non-streaming success: the response JSON as the provider got it; the
     * caller adds extra_fields. `status` is the HTTP status to send (200). */
    void (*response)(void *ud, int status, const char *body, size_t len);
    /* Failure. `status` is what the client should get; `type`/`code` the
     * OpenAI error type and code (code may be NULL). Never contains a key. */
    void (*error)(void *ud, int status, const char *type, const char *code, const char *message);
    /* Streaming: one chunk's JSON text, valid during the call only. */
    void (*chunk)(void *ud, const char *data, size_t len);
    /* Streaming: the stream ended normally. */
    void (*done)(void *ud);
} prov_sink;

/* One request to a provider. `model`, `doc` and `body` are valid during
 * start() only (the caller frees the document while a stream waits): a
 * provider copies what it keeps. Everything else pointed to stays valid
 * until the call ends (terminal callback) or is cancelled. */
typedef struct prov_request {
    const cfg_provider *provider;
    const char *model;       /* model name without the provider prefix */
    sj_doc *doc;             /* the client's parsed request; the provider may edit it */
    sj_val *body;            /* its root object */
    const char *raw;         /* the client's body bytes when doc is still exactly their parse */
    size_t raw_len;          /* (no plugin, no translation), else NULL: lets a provider splice */
    bool stream;
    const char *request_id;
    const char *const *extra_headers; /* "Name: value" lines set by plugins */
    size_t n_extra_headers;
    uv_loop_t *loop;
    up_loop *up;
    int *retries;            /* the request's retry count (its log record), bumped per retry; may be NULL */
} prov_request;

typedef struct prov_ops {
    const char *family;
    prov_call *(*start)(const prov_request *rq, const prov_sink *sink, void *ud);
    void (*pause)(prov_call *c);
    void (*resume)(prov_call *c);
    /* Aborts the call: no callback afterwards, the handle is freed. */
    void (*cancel)(prov_call *c);
} prov_ops;

extern const prov_ops prov_mock_ops;
extern const prov_ops prov_openai_ops;
extern const prov_ops prov_anthropic_ops;

/* The ops for a configured provider, or NULL if its family is not available yet. */
const prov_ops *prov_ops_for(const cfg_provider *p);

/* Resolves a client's "model" against the configuration: "provider/model"
 * when the prefix is a configured provider, else a provider whose keys list
 * the model. On success returns the provider and sets *model to the name to
 * send upstream (a pointer into `name`). NULL if nothing serves it. */
const cfg_provider *prov_resolve(const cfg_config *cfg, const char *name, const char **model);

/* Appends the OpenAI /v1/models list JSON for the configuration onto b. */
void prov_models_json(const cfg_config *cfg, sj_buf *b);

/* ---- attempt policy shared by the HTTP provider families ------------------ */

/* Keys remembered as tried within one request (429/401/403 move to another).
 * Keys past this index are never marked, so they always stay eligible. */
#define PROV_MAX_TRIED_KEYS 64

/* A uniform number in [0, 1) from the caller's xorshift64* state (non-zero). */
double prov_rand01(uint64_t *rng);

/* Picks, by weight, a key of p that serves `model` and is not marked in
 * tried[], marks it, and stores it in *out. A provider without keys (a local
 * server) gives true with *out = NULL. False when no key is left. */

bool prov_pick_key(const cfg_provider *p, const char *model, bool tried[PROV_MAX_TRIED_KEYS],
                   uint64_t *rng, const cfg_key **out);

/* Delay before retry number `attempt` (0-based): min(initial * 2^attempt,
 * max) with +-20% jitter, in milliseconds. */
uint64_t prov_backoff_ms(const cfg_network *n, int attempt, uint64_t *rng);

/* After the upstream refused the request's last usable key with 401/403:
 * when p has several keys, every key that serves `model` is dead for this
 * request, which is the gateway's configuration problem, not the client's.
 * Then writes the message for the client's 502 (code "all_keys_dead") into
 * msg (`detail`: the upstream's own message, may be "") and returns true.
 * With one key or none the upstream's status stands (false). */
bool prov_all_keys_dead(const cfg_provider *p, const cfg_key *used, int status, const char *model,
                        const char *detail, char *msg, size_t cap);

/* Masks secrets in a message meant for the client (an upstream error may
 * echo them), in place (the text only shrinks): the key `used` (may be NULL),
 * every key configured for p (may be NULL), and anything that looks like a
 * token: "sk-..." (OpenAI; "sk-ant-..." Anthropic), "Bearer ...",
 * "x-api-key: ...". Every provider family calls it on every error message. */
void prov_redact(const cfg_provider *p, const cfg_key *used, char *msg);

/* Observability of one attempt's outcome: an upstream error by kind (a
 * transport failure, or a non-2xx status) in /metrics; nothing for success. */
void prov_note_result(const cfg_provider *p, up_result res, int status);
/* A retry is scheduled: sluice_retries_total and the request's own count. */
void prov_note_retry(const cfg_provider *p, int *per_request);

#endif /* SLUICE_PROVIDER_PROVIDER_H */
