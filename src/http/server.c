/*
 * server.c - worker threads, listening sockets, accept loop, per-request
 * bookkeeping (x-request-id, access log) and graceful shutdown.
 *
 * Threads: the main thread binds one SO_REUSEPORT socket per worker (so that
 * a bind error is reported before anything starts), starts the workers, then
 * sleeps in sigwait() for SIGTERM/SIGINT. Each worker runs its own libuv loop
 * with its own h2o context and upstream client; a connection lives and dies on
 * the worker that accepted it, so request handling needs no locks.
 *
 * Shutdown: the main thread wakes every worker (uv_async); a worker closes its
 * listener, asks h2o to close keep-alive connections after their current
 * request, and stops its loop once its in-flight count reaches zero or the
 * grace period ends, whichever comes first.
 */
#include "http/server.h"
#include "obs/obs.h"
#include "core/copy.h"
#include "core/gateway.h"   /* gw_send_error, for the framing check */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SRV_INPUT_BUFFER 4096 /* initial input buffer of a client connection */

static h2o_globalconf_t srv_globalconf;
static srv_worker *srv_workers;

uint64_t srv_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- request ids ---------------------------------------------------------- */

/* splitmix64: a bijection, so distinct counters give distinct outputs. */
static uint64_t srv_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* A client-supplied id is echoed only if it is short and made of characters
 * that cannot break a header or a log line. */
static bool srv_id_is_sane(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok)
            return false;
    }
    return true;
}

/* v as exactly `digits` lowercase hex digits (zero-padded) at out. */
static void srv_hex(char *out, uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        out[i] = "0123456789abcdef"[v & 0xf];
}

/* The request's id into id[80]: the client's if sane, else a new one. */
static void srv_pick_id(srv_worker *w, h2o_req_t *req, char *id)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    if (i != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (srv_id_is_sane(v.base, v.len)) {
            memcpy(id, v.base, v.len);
            id[v.len] = '\0';
            return;
        }
    }
    uint64_t n = w->next_id++;
    /* random-looking part (unique per worker) + worker id + counter: 16, 2
     * and 6 hex digits, written by hand (snprintf cost ~1,900 instructions
     * here, on every request) */
    srv_hex(id, srv_mix(w->id_seed + n), 16);
    srv_hex(id + 16, (uint64_t)(w->id & 0xff), 2);
    srv_hex(id + 18, n & 0xffffff, 6);
    id[24] = '\0';
}

static void srv_assign_id(srv_request *sr)
{
    _Static_assert(sizeof(sr->id) == 80, "srv_pick_id writes 80 bytes at most");
    srv_pick_id(sr->worker, sr->req, sr->id);
}

/* ---- errors h2o answers itself ----------------------------------------------- */

/* h2o refuses some requests before any handler runs (a body over
 * max_request_entity_size, broken chunked encoding...) and answers them in
 * plain text on its fallback path. This filter, registered on that path only,
 * turns such answers into the gateway's OpenAI-shaped JSON with an
 * x-request-id, keeping the status. (h2o writes a request head that is too
 * large or unparsable straight to the socket: those stay plain text.) */
typedef struct srv_err_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
} srv_err_ostream;

static size_t srv_max_body; /* for the 413 message; set once before the workers start */

static void srv_err_do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t n, h2o_send_state_t st)
{
    (void)bufs;
    (void)n;
    srv_err_ostream *e = (srv_err_ostream *)self;
    if (h2o_send_state_is_in_progress(st)) { /* h2o's text comes in one final send; drop anything else */
        h2o_ostream_send_next(self, req, NULL, 0, st);
        return;
    }
    bool head = h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD"));
    h2o_ostream_send_next(self, req, &e->body, e->body.len && !head ? 1 : 0, st);
}

static void srv_err_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    srv_worker *w = H2O_STRUCT_FROM_MEMBER(srv_worker, ctx, req->conn->ctx);
    int status = req->res.status;
    const char *code = "invalid_http_request";
    char msg[160];
    if (status == 413) {
        code = "request_too_large";
        snprintf(msg, sizeof(msg), "The request body is larger than the limit of %zu bytes", srv_max_body);
    } else {
        snprintf(msg, sizeof(msg), "The HTTP request was refused (%d %s)", status,
                 req->res.reason ? req->res.reason : "");
        for (char *p = msg; *p; p++)
            if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
                *p = ' '; /* h2o's reason phrases are plain, but stay valid JSON whatever */
    }
    char *body = h2o_mem_alloc_pool(&req->pool, 320);
    int len = snprintf(body, 320, "{\"error\":{\"message\":\"%s\",\"type\":\"%s\",\"code\":\"%s\",\"param\":null}}",
                       msg, status >= 500 ? "server_error" : "invalid_request_error", code);
    char *id = h2o_mem_alloc_pool(&req->pool, 80);
    srv_pick_id(w, req, id);
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/json"), 1);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, id, strlen(id));
    srv_err_ostream *e = (srv_err_ostream *)h2o_add_ostream(req, sizeof(*e), slot);
    e->super.do_send = srv_err_do_send;
    e->body = h2o_iovec_init(body, len > 0 && len < 320 ? (size_t)len : 0);
    req->res.content_length = e->body.len;
    slot = &e->super.next;
    h2o_setup_next_ostream(req, slot);
}

/* ---- per-request bookkeeping ---------------------------------------------- */

/* Runs when the request's pool is cleared, i.e. when the response is done
 * (or the connection died): completes the request's record for metrics, the
 * JSON log line and the log store, and drops the in-flight count. */
static void srv_on_request_dispose(void *p)
{
    srv_request *sr = p;
    obs_record *r = &sr->obs;
    r->status = sr->req->res.status;
    r->total_ms = (double)(srv_now_ns() - sr->start_ns) / 1e6;
    gw_copy_str(r->provider, sizeof(r->provider), sr->provider);
    obs_request_done(r, sr->endpoint ? sr->endpoint : "other");
    sr->worker->inflight--;
}

static void srv_copy_trunc(char *dst, size_t cap, h2o_iovec_t v)
{
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v.base[i];
        dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c; /* keep log lines one line */
    }
    dst[n] = '\0';
}

/* Request smuggling: h2o 2.2 frames a body by Transfer-Encoding when both it and
 * Content-Length are present, and by the first of several Content-Lengths, and it keeps
 * neither header in req->headers. A proxy in front may frame the same bytes the other way
 * and see a different next request, so such a request is refused and its connection
 * closed (RFC 9112 section 6.3) before anything reads the bytes after it.
 * The raw head: h2o 2.2's HTTP/1 code leaves a request's head at the start of the
 * socket's input buffer until its response is sent (it consumes it in on_send_complete).
 * h2o has already parsed that head with picohttpparser, so it is well formed: every
 * header line starts with its name followed at once by ':' (a name with a space before
 * the colon is refused), and a continuation line starts with a space or a tab. So the
 * two names can be counted by looking only at the start of each line, a memchr per line,
 * instead of parsing the head again (which cost ~1,600 instructions per request).
 * Returns the reason, or NULL if the framing is sound. */
static bool srv_line_is(const char *p, const char *end, const char *name, size_t len)
{
    return (size_t)(end - p) > len && p[len] == ':' && strncasecmp(p, name, len) == 0;
}

static const char *srv_ambiguous_framing(h2o_req_t *req)
{
    if (req->version >= 0x200 || req->conn->callbacks->get_socket == NULL)
        return NULL;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input == NULL)
        return NULL;
    const char *p = sock->input->bytes, *end = p + sock->input->size;
    size_t cl = 0, te = 0;
    /* from the line after the request line to the empty line (CRLF or bare LF) */
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL && ++p < end && *p != '\r' && *p != '\n') {
        if (*p == 'c' || *p == 'C')
            cl += srv_line_is(p, end, "content-length", 14);
        else if (*p == 't' || *p == 'T')
            te += srv_line_is(p, end, "transfer-encoding", 17);
    }
    if (cl && te)
        return "both Content-Length and Transfer-Encoding";
    if (te > 1)
        return "more than one Transfer-Encoding header";
    if (cl > 1)
        return "more than one Content-Length header";
    return NULL;
}

static int srv_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    srv_worker *w = H2O_STRUCT_FROM_MEMBER(srv_worker, ctx, req->conn->ctx);
    srv_request *sr = h2o_mem_alloc_shared(&req->pool, sizeof(*sr), srv_on_request_dispose);
    memset(sr, 0, sizeof(*sr));
    sr->req = req;
    sr->worker = w;
    sr->start_ns = srv_now_ns();
    w->inflight++;
    obs_record *r = &sr->obs;
    r->ts_ms = obs_now_ms();
    r->upstream_ms = r->ttft_ms = -1;
    r->prompt_tokens = r->completion_tokens = -1;
    srv_copy_trunc(r->method, sizeof(r->method), req->method);
    srv_copy_trunc(r->path, sizeof(r->path), req->path_normalized);   /* no query string */
    srv_assign_id(sr);
    size_t id_len = gw_copy_str(r->request_id, sizeof(r->request_id), sr->id);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, sr->id, id_len);
    const char *ambiguous = srv_ambiguous_framing(req);
    if (ambiguous) {
        req->http1_is_persistent = 0;   /* the bytes after this request are never parsed */
        gw_send_error(sr, 400, "invalid_request_error", "ambiguous_framing", NULL,
                      "The request has %s; its body framing is ambiguous", ambiguous);
        return 0;
    }
    gw_route(sr);
    return 0;
}

/* ---- accepting ------------------------------------------------------------ */

/* The socket's close callback: counts the connection out of the gauge. */
static void srv_on_conn_close(uv_handle_t *h)
{
    obs_conn_closed();
    free(h);
}

static void srv_on_accept(uv_stream_t *listener, int status)
{
    if (status != 0)
        return;
    srv_worker *w = listener->data;
    uv_tcp_t *conn = h2o_mem_alloc(sizeof(*conn));
    uv_tcp_init(listener->loop, conn);
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(conn, 1); /* SSE chunks are small and latency-sensitive */
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)conn, srv_on_conn_close);
    obs_conn_opened();
    h2o_accept(&w->accept_ctx, sock);
}

/* Binds host:port with SO_REUSEPORT; returns the fd or -1 with a message. */
static int srv_bind(const char *host, int port)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        sslen = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        sslen = sizeof(*a6);
    } else {
        fprintf(stderr, "sluice: --listen: '%s' is not a numeric IPv4/IPv6 address\n", host);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, 1024) != 0) {
        fprintf(stderr, "sluice: cannot listen on %s:%d: %s\n", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* ---- worker lifecycle ----------------------------------------------------- */

static void srv_on_drain_tick(uv_timer_t *t)
{
    srv_worker *w = t->data;
    if (w->inflight == 0 || uv_now(&w->loop) >= w->drain_deadline)
        uv_stop(&w->loop);
}

static void srv_on_wakeup(uv_async_t *a)
{
    srv_worker *w = a->data;
    if (w->draining)
        return;
    w->draining = true;
    uv_close((uv_handle_t *)&w->listener, NULL);
    h2o_context_request_shutdown(&w->ctx);
    w->drain_deadline = uv_now(&w->loop) + w->opt->shutdown_grace_ms;
    uv_timer_start(&w->drain_timer, srv_on_drain_tick, 0, 20);
}

/* Posted by each worker when its loop has stopped. */
static sem_t srv_stopped;

/* Buffered log lines of this worker wait at most OBS_LOG_FLUSH_MS. */
static void srv_on_log_tick(uv_timer_t *t)
{
    (void)t;
    obs_log_thread_flush();
}

static void *srv_worker_main(void *arg)
{
    srv_worker *w = arg;
    /* Each client connection keeps its input buffer as long as it is open,
     * so a waiting stream pays for it whole: h2o starts it at 8 KB, while a
     * chat request's head and body usually fit in 4 KB (larger ones grow
     * it). The prototype is per thread, and must be set before the first
     * connection of this thread. */
    h2o_socket_buffer_prototype._initial_buf.capacity = SRV_INPUT_BUFFER;
    obs_log_thread_start();
    uv_timer_start(&w->log_timer, srv_on_log_tick, OBS_LOG_FLUSH_MS, OBS_LOG_FLUSH_MS);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    obs_log_thread_flush();   /* the requests that ended while draining */
    /* Connections still open are abandoned: the process is about to exit.
     * The thread parks instead of returning because h2o keeps free lists in
     * thread-local storage: they stay reachable (not reported as leaks) as
     * long as the thread lives, and the process exit releases them. */
    sem_post(&srv_stopped);
    for (;;)
        pause();
    return NULL;
}

static int srv_worker_init(srv_worker *w, int id, const srv_options *opt)
{
    w->id = id;
    w->opt = opt;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
        seed = srv_now_ns() ^ ((uint64_t)getpid() << 32);
    w->id_seed = seed;
    w->listen_fd = srv_bind(opt->host, opt->port);
    if (w->listen_fd < 0)
        return -1;
    uv_loop_init(&w->loop);
    h2o_context_init(&w->ctx, &w->loop, &srv_globalconf);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = srv_globalconf.hosts;
    w->up = up_loop_new(&w->loop);
    if (w->up == NULL) {
        fprintf(stderr, "sluice: cannot create the upstream client\n");
        return -1;
    }
    uv_tcp_init(&w->loop, &w->listener);
    w->listener.data = w;
    if (uv_tcp_open(&w->listener, w->listen_fd) != 0 ||
        uv_listen((uv_stream_t *)&w->listener, 1024, srv_on_accept) != 0) {
        fprintf(stderr, "sluice: cannot listen on %s:%d\n", opt->host, opt->port);
        return -1;
    }
    uv_async_init(&w->loop, &w->wakeup, srv_on_wakeup);
    w->wakeup.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    uv_timer_init(&w->loop, &w->log_timer);
    uv_unref((uv_handle_t *)&w->log_timer);   /* never what keeps the loop alive */
    return 0;
}

int srv_run(const srv_options *opt)
{
    h2o_config_init(&srv_globalconf);
    srv_globalconf.max_request_entity_size = opt->max_body_bytes;
    srv_globalconf.http1.req_timeout = opt->req_timeout_ms;
    srv_globalconf.http1.upgrade_to_http2 = 0;
    srv_globalconf.server_name = h2o_iovec_init(H2O_STRLIT("sluice"));
    h2o_hostconf_t *host = h2o_config_register_host(&srv_globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = srv_on_req;
    srv_max_body = opt->max_body_bytes;
    h2o_filter_t *errf = h2o_create_filter(&host->fallback_path, sizeof(*errf));
    errf->on_setup_ostream = srv_err_setup;

    /* Workers inherit this mask: only the main thread takes the signals. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    sem_init(&srv_stopped, 0, 0);
    srv_workers = calloc((size_t)opt->workers, sizeof(*srv_workers));
    if (srv_workers == NULL)
        return 1;
    for (int i = 0; i < opt->workers; i++)
        if (srv_worker_init(&srv_workers[i], i, opt) != 0)
            return 1;
    for (int i = 0; i < opt->workers; i++)
        if (pthread_create(&srv_workers[i].thread, NULL, srv_worker_main, &srv_workers[i]) != 0) {
            fprintf(stderr, "sluice: cannot start worker thread\n");
            return 1;
        } else {
            char name[32];
            snprintf(name, sizeof(name), "sluice-w%d", i);
            name[15] = '\0';   /* the kernel keeps 15 bytes */
            pthread_setname_np(srv_workers[i].thread, name);   /* for top -H, perf, /proc/PID/task */
        }
    fprintf(stderr, "sluice: listening on %s:%d with %d worker%s\n", opt->host, opt->port, opt->workers,
            opt->workers == 1 ? "" : "s");

    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "sluice: %s received, finishing in-flight requests (up to %" PRIu64 " ms)\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", opt->shutdown_grace_ms);
    for (int i = 0; i < opt->workers; i++)
        uv_async_send(&srv_workers[i].wakeup);
    for (int i = 0; i < opt->workers; i++)
        while (sem_wait(&srv_stopped) != 0)
            ;
    fprintf(stderr, "sluice: stopped\n");
    return 0;
}
