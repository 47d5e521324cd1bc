/*
 * server.h - Sluice's HTTP front end: h2o 2.2 on libuv, one event loop and one
 * h2o context per worker thread, each with its own SO_REUSEPORT listening
 * socket (the kernel spreads connections across workers; nothing is shared
 * between loops except the read-only configuration).
 *
 * Prefix: srv_. Every request gets a srv_request (allocated in the request's
 * pool) carrying its id, start time and the provider that served it, used for
 * the x-request-id header and the one-line access log.
 */
#ifndef SLUICE_HTTP_SERVER_H
#define SLUICE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <h2o.h>

#include "http/upstream.h"
#include "obs/store.h"

typedef struct srv_options {
    const char *host;         /* numeric IPv4/IPv6 address to bind */
    int port;
    int workers;              /* >= 1 */
    size_t max_body_bytes;    /* larger request bodies get 413 */
    uint64_t req_timeout_ms;  /* reading a request's head+body, and keep-alive idle */
    uint64_t shutdown_grace_ms; /* how long in-flight requests may take after SIGTERM */
} srv_options;

/* One worker thread: its loop, h2o context and upstream client. */
typedef struct srv_worker {
    int id;
    uv_loop_t loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    uv_tcp_t listener;
    uv_async_t wakeup;        /* main thread -> worker: shut down */
    uv_timer_t drain_timer;   /* polls in-flight count while draining */
    uv_timer_t log_timer;     /* hands buffered log lines over (src/obs/log.h) */
    up_loop *up;
    uint64_t inflight;        /* requests accepted and not yet disposed */
    uint64_t drain_deadline;  /* uv_now() limit for draining */
    bool draining;
    uint64_t next_id;         /* request id counter */
    uint64_t id_seed;
    pthread_t thread;
    int listen_fd;
    const srv_options *opt;
} srv_worker;

/* Per-request state owned by the request's pool (freed with it). */
typedef struct srv_request {
    h2o_req_t *req;
    srv_worker *worker;
    char id[80];              /* x-request-id value, NUL-terminated */
    const char *provider;     /* who served it (static or config lifetime), or NULL */
    uint64_t start_ns;
    /* Observability (src/obs): the server fills in the request line, handlers
     * what they learn (model, upstream time, tokens...); when the request ends
     * the record goes to obs_request_done() for metrics, log line and store. */
    const char *endpoint;     /* route name for metrics ("chat", ...), static; NULL = "other" */
    obs_record obs;
} srv_request;

/* The request router (src/core/route.c): called for every request after the
 * srv_request is set up and x-request-id is added to the response headers. */
void gw_route(srv_request *sr);

/* Runs the server until SIGTERM/SIGINT, then drains in-flight requests for up
 * to opt->shutdown_grace_ms and returns 0; non-zero (with a message on stderr)
 * if it could not start. */
int srv_run(const srv_options *opt);

/* Monotonic nanoseconds. */
uint64_t srv_now_ns(void);

#endif /* SLUICE_HTTP_SERVER_H */
