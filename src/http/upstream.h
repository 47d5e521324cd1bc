/*
 * upstream.h - asynchronous HTTP(S) client for calls to LLM providers.
 *
 * libcurl's multi_socket interface driven by the worker's libuv loop: no
 * thread per request, connections (and TLS sessions) reused per loop, HTTP/2
 * over TLS with ALPN where the upstream offers it (never cleartext h2: curl
 * 7.88 fails reusing prior-knowledge connections). TLS peers are verified.
 *
 * One up_loop per event loop / worker thread; nothing here is shared across
 * threads, so no locks. Every callback runs on that loop's thread.
 */
#ifndef SLUICE_HTTP_UPSTREAM_H
#define SLUICE_HTTP_UPSTREAM_H

#include <stddef.h>
#include <uv.h>

typedef struct up_loop up_loop;
typedef struct up_req up_req;

/* How a request ended. */
typedef enum up_result {
    UP_OK = 0,      /* complete response received (any HTTP status) */
    UP_ECONNECT,    /* DNS failure, connection refused, unreachable */
    UP_ETIMEOUT,    /* connect, total or idle timeout */
    UP_ERESET,      /* connection lost / reset before the response ended */
    UP_ETLS,        /* TLS handshake or certificate verification failed */
    UP_EPROTO,      /* malformed HTTP from the upstream */
    UP_EABORTED,    /* a callback asked to stop (on_head/on_body returned non-zero) */
    UP_EINTERNAL,   /* out of memory, curl misuse */
} up_result;

const char *up_result_name(up_result r); /* static, e.g. "connect", "timeout" */

typedef struct up_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} up_header;

/* Which client carries a request (config network_config.http_client). The
 * native one (h1client.c) takes cleartext http:// URLs with an IP-literal
 * host and no proxy in the environment; everything else goes to curl. */
typedef enum up_client {
    UP_CLIENT_DEFAULT = 0,       /* the build's default: UP_DEFAULT_CLIENT in upstream.c */
    UP_CLIENT_CURL,
    UP_CLIENT_NATIVE,
} up_client;

typedef struct up_options {
    const char *method;          /* "POST", "GET" */
    const char *url;             /* http:// or https:// */
    const char *const *headers;  /* "Name: value" strings, n_headers of them; copied */
    size_t n_headers;
    const char *body;            /* NOT copied: must stay valid until on_done or up_cancel */
    size_t body_len;
    long connect_timeout_ms;     /* 0 = 10 s */
    long timeout_ms;             /* whole transfer; 0 = none */
    long idle_timeout_ms;        /* no body bytes for this long; 0 = none (for streams) */
    const char *ca_file;         /* PEM CA bundle to trust; NULL = the system store */
    const char *ca_pem;          /* PEM CA certificate(s) as text, trusted instead of the
                                  * system store and ca_file; NULL = none; copied */
    up_client client;
} up_options;

typedef struct up_callbacks {
    /* Status and headers are complete (headers valid during the call only).
     * Return 0 to go on, non-zero to abort (on_done then gets UP_EABORTED). */
    int (*on_head)(void *ud, int status, const up_header *headers, size_t n_headers);
    /* Body bytes as they arrive (chunked encoding already decoded). They are
     * consumed whatever happens; to apply backpressure call up_pause().
     * Return 0 to go on, non-zero to abort. */
    int (*on_body)(void *ud, const char *data, size_t len);
    /* Called exactly once per request that was not cancelled; `msg` is a
     * human-readable detail (never NULL, may be ""). The up_req is freed after
     * this returns: do not touch it again. */
    void (*on_done)(void *ud, up_result res, const char *msg);
} up_callbacks;

/* Creates the client for one libuv loop. NULL on failure. Free with up_loop_free
 * after every request is done or cancelled (it cancels leftovers silently).
 * up_loop_free must not run inside a callback of this client; it only closes
 * its uv handles: the caller must run the loop afterwards (e.g. uv_run DEFAULT
 * until it returns, before uv_loop_close) so their memory is released. */
up_loop *up_loop_new(uv_loop_t *loop);
void up_loop_free(up_loop *ul);

/* Caps the connections one loop opens to one host (0 = no cap, the default).
 * Requests beyond the cap wait for a free connection (HTTP/1.1) or share one
 * (HTTP/2). */
void up_loop_set_max_host_connections(up_loop *ul, long n);

/* Starts a request. Returns NULL on immediate failure (bad URL, OOM); then no
 * callback is called. Callbacks never run inside up_start itself. */
up_req *up_start(up_loop *ul, const up_options *opt, const up_callbacks *cb, void *ud);

/* Stops delivering body bytes until up_resume (backpressure from a slow client:
 * TCP fills and the upstream slows down). Safe inside on_body. */
void up_pause(up_req *r);
void up_resume(up_req *r);

/* Aborts the transfer and frees r; no callback runs afterwards. Safe inside
 * any callback of r (except on_done, after which r is gone anyway). */
void up_cancel(up_req *r);

#endif /* SLUICE_HTTP_UPSTREAM_H */
