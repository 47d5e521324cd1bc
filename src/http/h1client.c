/*
 * h1client.c - native HTTP/1.1 keep-alive client for http:// upstreams on a
 * libuv loop (see h1client.h; the rules are in docs/upstream-h1.md).
 *
 * Why. Behind libcurl a proxied request cost ~47% of the gateway's
 * instructions, ~11 KB per waiting stream and two poll() calls per request.
 * Here a request is one writev, reads straight from one per-loop buffer and
 * a small parser; a waiting stream costs its request, its timer and its TCP
 * handle.
 *
 * Pieces. An h1_host per host:port holds every connection to it, the idle
 * ones (LIFO, so the warmest is reused) and the requests waiting for one when
 * the per-host cap is reached. An idle connection keeps reading: data or EOF
 * while idle means the server gave it up, and it is closed at once (no
 * liveness check per request). Each request owns one uv_timer_t for its
 * connect, total and idle timeouts (re-armed lazily from last_rx) and for the
 * deferred work that must not run inside a caller (resume, early failure).
 *
 * Stale connections. A server may close an idle keep-alive connection just as
 * we reuse it. If a reused connection fails (EOF, reset, write error) before
 * any response byte arrived, the request is sent once more on a new
 * connection. For a POST this is the usual rule (curl and browsers apply it):
 * a server that closes without answering a request on a kept-alive connection
 * is treated as not having processed it. A fresh connection is never retried.
 *
 * Memory. Requests and connections are freed in their handles' close
 * callbacks, which touch nothing else, so the loop must run after
 * h1_loop_free.
 */
#include "http/h1client.h"
#include "http/h1parse.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define H1_HEAD_MAX (64 * 1024)       /* response head, like upstream.c's header cap */
#define H1_HEADER_COUNT_MAX 256
#define H1_READ_BUF (64 * 1024)       /* one per loop, shared by every read */
#define H1_IDLE_PER_HOST 64           /* idle connections kept per host */
#define H1_DEFAULT_CONNECT_MS 10000L
#define H1_HOST_MAX 255

typedef struct h1_host h1_host;
typedef struct h1_conn h1_conn;

enum { P_HEAD, P_LENGTH, P_CHUNKED, P_UNTIL_CLOSE, P_DONE };

struct h1_conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    h1_host *host;
    h1_conn *prev, *next;            /* host's connections */
    h1_conn *idle_prev, *idle_next;  /* host's idle list */
    h1_req *req;                     /* the request it serves, or NULL when idle/connecting-orphan */
    bool connected, idle, writing, reading, reused;
};

struct h1_host {
    h1_loop *hl;
    h1_host *next;
    struct sockaddr_storage addr;
    char hostport[H1_HOST_MAX + 8];  /* Host header value */
    h1_conn *conns, *idle;
    long n_conns;
    h1_req *wait_head, *wait_tail;   /* requests waiting for a connection */
};

struct h1_loop {
    uv_loop_t *loop;
    h1_host *hosts;
    h1_req *reqs;
    long max_host;
    bool freeing;
    char rbuf[H1_READ_BUF];
};

struct h1_req {
    unsigned tag;                    /* H1_REQ_TAG, first */
    h1_loop *hl;
    h1_req *prev, *next;             /* hl->reqs */
    h1_req *wait_next;
    bool waiting;
    h1_host *host;
    h1_conn *conn;
    up_callbacks cb;
    void *ud;
    char *out;                       /* request line and headers */
    size_t out_len;
    const char *body;                /* the caller's, not copied */
    size_t body_len;
    uv_timer_t timer;
    long connect_ms, total_ms, idle_ms;
    uint64_t started, connect_start, last_rx;
    /* Response. */
    char *hbuf;                      /* head bytes across reads (H1_HEAD_MAX) */
    size_t hlen;
    int phase;
    uint64_t left;                   /* Content-Length left */
    h1_chunker ch;
    bool is_head, keep_alive, got_bytes, retried;
    char *held;                      /* raw bytes read but not processed while paused */
    size_t held_len;
    bool paused, cancelled, resume_due, fail_due, done_due;
    int busy;                        /* > 0 while a user callback runs */
    up_result res;
    char msg[160];
};

static void h1_timer_cb(uv_timer_t *t);
static void h1_dispatch(h1_host *h);
static bool h1_feed(h1_req *r, const char *data, size_t len);
static void h1_conn_close(h1_conn *c);
static void h1_conn_read_start(h1_conn *c);

/* ------------------------------------------------------------- URL, hosts */

typedef struct h1_url {
    char host[H1_HOST_MAX + 1];
    int port;
    const char *path;                /* points into the URL; "" means "/" */
    size_t path_len;
} h1_url;

static bool h1_parse_url(const char *url, h1_url *u, struct sockaddr_storage *ss) {
    if (strncasecmp(url, "http://", 7) != 0) return false;
    const char *p = url + 7, *hend, *rest;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend) return false;
        p++;
        rest = hend + 1;
    } else {
        hend = p + strcspn(p, ":/?#");
        rest = hend;
    }
    size_t hl = (size_t)(hend - p);
    if (hl == 0 || hl > H1_HOST_MAX || memchr(p, '@', hl)) return false;
    memcpy(u->host, p, hl);
    u->host[hl] = '\0';
    u->port = 80;
    if (*rest == ':') {
        char *end;
        long port = strtol(rest + 1, &end, 10);
        if (end == rest + 1 || port <= 0 || port > 65535) return false;
        u->port = (int)port;
        rest = end;
    }
    if (*rest != '\0' && *rest != '/' && *rest != '?') return false;
    if (strpbrk(rest, " \r\n\t#")) return false;
    u->path = rest;
    u->path_len = strlen(rest);
    struct sockaddr_storage tmp;
    if (!ss) ss = &tmp;
    memset(ss, 0, sizeof *ss);
    return uv_ip4_addr(u->host, u->port, (struct sockaddr_in *)ss) == 0 ||
           uv_ip6_addr(u->host, u->port, (struct sockaddr_in6 *)ss) == 0;
}

/* The last URL this thread parsed successfully: a provider sends every request to
 * the same URL, which is checked by h1_url_ok and parsed again by h1_start, ~950
 * instructions each time (inet_pton, strtol, strpbrk). A longer URL is not cached. */
typedef struct h1_url_memo {
    char url[512];
    size_t len;
    h1_url u;
    size_t path_off;
    struct sockaddr_storage ss;
} h1_url_memo;
static _Thread_local h1_url_memo h1_memo;

static bool h1_parse_url_memo(const char *url, h1_url *u, struct sockaddr_storage *ss) {
    size_t len = strlen(url);
    if (len == h1_memo.len && len > 0 && memcmp(url, h1_memo.url, len) == 0) {
        *u = h1_memo.u;
        u->path = url + h1_memo.path_off;
        if (ss) *ss = h1_memo.ss;
        return true;
    }
    struct sockaddr_storage tmp;
    if (!ss) ss = &tmp;
    if (!h1_parse_url(url, u, ss)) return false;
    if (len < sizeof h1_memo.url) {
        memcpy(h1_memo.url, url, len);
        h1_memo.len = len;
        h1_memo.u = *u;
        h1_memo.path_off = (size_t)(u->path - url);
        h1_memo.ss = *ss;
    }
    return true;
}

bool h1_url_ok(const char *url) {
    h1_url u;
    return url && h1_parse_url_memo(url, &u, NULL);
}

static h1_host *h1_host_get(h1_loop *hl, const h1_url *u, const struct sockaddr_storage *ss) {
    /* "host:port" ("[v6]:port"), built by hand: this runs once per request
     * and snprintf cost ~1,000 instructions. A host name of 255 fits with its
     * port; a bracketed IPv6 literal that long (a zone id) is cut, as before. */
    char hp[sizeof(((h1_host *)0)->hostport)];
    _Static_assert(sizeof hp >= H1_HOST_MAX + 8, "room for host:65535");
    bool v6 = strchr(u->host, ':') != NULL;
    size_t n = 0, len = strlen(u->host);
    if (v6 && len > sizeof hp - 10) len = sizeof hp - 10;
    if (v6) hp[n++] = '[';
    memcpy(hp + n, u->host, len);
    n += len;
    if (v6) hp[n++] = ']';
    hp[n++] = ':';
    char digits[8];
    size_t d = sizeof digits;
    unsigned port = (unsigned)u->port;
    do digits[--d] = (char)('0' + port % 10); while ((port /= 10) != 0);
    memcpy(hp + n, digits + d, sizeof digits - d);
    n += sizeof digits - d;
    hp[n] = '\0';
    for (h1_host *h = hl->hosts; h; h = h->next)
        if (strcmp(h->hostport, hp) == 0) return h;
    h1_host *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->hl = hl;
    h->addr = *ss;
    memcpy(h->hostport, hp, sizeof hp);
    h->next = hl->hosts;
    hl->hosts = h;
    return h;
}

/* -------------------------------------------------------------- requests */

static void h1_req_closed(uv_handle_t *t) {
    free(t->data);
}

static void h1_unwait(h1_req *r) {
    if (!r->waiting) return;
    h1_host *h = r->host;
    h1_req **pp = &h->wait_head, *prev = NULL;
    while (*pp && *pp != r) { prev = *pp; pp = &(*pp)->wait_next; }
    if (*pp) {
        *pp = r->wait_next;
        if (h->wait_tail == r) h->wait_tail = prev;
    }
    r->waiting = false;
}

/* Puts c back in its host's idle list (or closes it) and serves waiters. */
static void h1_conn_release(h1_conn *c, bool reusable) {
    h1_host *h = c->host;
    c->req = NULL;
    long n_idle = 0;
    for (h1_conn *i = h->idle; i && n_idle < H1_IDLE_PER_HOST; i = i->idle_next) n_idle++;
    if (!reusable || c->writing || n_idle >= H1_IDLE_PER_HOST || h->hl->freeing) {
        h1_conn_close(c);
    } else {
        c->idle = true;
        c->reused = true;
        c->idle_prev = NULL;
        c->idle_next = h->idle;
        if (h->idle) h->idle->idle_prev = c;
        h->idle = c;
        h1_conn_read_start(c); /* watch for the server closing it */
    }
    if (!h->hl->freeing) h1_dispatch(h);
}

/* Frees r's resources (its memory goes in the timer's close callback). No
 * callback is called. The connection is kept only if the response ended. */
static void h1_destroy(h1_req *r) {
    h1_loop *hl = r->hl;
    h1_unwait(r);
    if (r->prev) r->prev->next = r->next;
    else hl->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    h1_conn *c = r->conn;
    r->conn = NULL;
    if (c) h1_conn_release(c, r->phase == P_DONE && r->keep_alive && r->held_len == 0);
    free(r->out);
    free(r->hbuf);
    free(r->held);
    r->out = r->hbuf = r->held = NULL;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, h1_req_closed);
}

static void h1_finish(h1_req *r, up_result res, const char *msg) {
    if (r->cancelled) { h1_destroy(r); return; }
    if (r->cb.on_done) r->cb.on_done(r->ud, res, msg ? msg : "");
    h1_destroy(r);
}

static void h1_set(h1_req *r, up_result res, const char *fmt, ...) {
    r->res = res;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
}

/* Reports a failure from the timer: for errors found where callbacks must
 * not run (inside h1_start). */
static void h1_fail_later(h1_req *r, up_result res, const char *msg) {
    h1_set(r, res, "%s", msg);
    r->fail_due = true;
    uv_timer_start(&r->timer, h1_timer_cb, 0, 0);
}

/* Arms the timer at the earliest of the connect, total and idle deadlines. */
static void h1_arm(h1_req *r) {
    if (r->resume_due || r->fail_due || r->done_due) return;
    uint64_t now = uv_now(r->hl->loop), due = UINT64_MAX;
    if (r->conn && !r->conn->connected) due = r->connect_start + (uint64_t)r->connect_ms;
    if (r->total_ms > 0 && r->started + (uint64_t)r->total_ms < due) due = r->started + (uint64_t)r->total_ms;
    if (r->idle_ms > 0 && !r->paused && r->last_rx + (uint64_t)r->idle_ms < due)
        due = r->last_rx + (uint64_t)r->idle_ms;
    if (due == UINT64_MAX) { uv_timer_stop(&r->timer); return; }
    uv_timer_start(&r->timer, h1_timer_cb, due > now ? due - now : 0, 0);
}

static void h1_resume_now(h1_req *r);

static void h1_timer_cb(uv_timer_t *t) {
    h1_req *r = t->data;
    if (r->fail_due) { h1_finish(r, r->res, r->msg); return; }
    if (r->resume_due) { h1_resume_now(r); return; }
    if (r->done_due) { h1_finish(r, UP_OK, ""); return; }
    uint64_t now = uv_now(r->hl->loop);
    if (r->conn && !r->conn->connected && now >= r->connect_start + (uint64_t)r->connect_ms) {
        h1_set(r, UP_ETIMEOUT, "connect timeout after %ld ms", r->connect_ms);
    } else if (r->total_ms > 0 && now >= r->started + (uint64_t)r->total_ms) {
        h1_set(r, UP_ETIMEOUT, "timeout after %ld ms", r->total_ms);
    } else if (r->idle_ms > 0 && !r->paused && now >= r->last_rx + (uint64_t)r->idle_ms) {
        h1_set(r, UP_ETIMEOUT, "idle timeout: no data for %ld ms", r->idle_ms);
    } else {
        h1_arm(r);
        return;
    }
    h1_finish(r, r->res, r->msg);
}

/* ----------------------------------------------------------- connections */

static void h1_conn_closed(uv_handle_t *t) {
    free(t->data);
}

static void h1_conn_close(h1_conn *c) {
    h1_host *h = c->host;
    if (c->idle) {
        if (c->idle_prev) c->idle_prev->idle_next = c->idle_next;
        else h->idle = c->idle_next;
        if (c->idle_next) c->idle_next->idle_prev = c->idle_prev;
        c->idle = false;
    }
    if (c->prev) c->prev->next = c->next;
    else h->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    h->n_conns--;
    if (c->req) c->req->conn = NULL;
    c->req = NULL;
    uv_close((uv_handle_t *)&c->tcp, h1_conn_closed);
}

static void h1_alloc_cb(uv_handle_t *t, size_t hint, uv_buf_t *b) {
    (void)hint;
    h1_conn *c = t->data;
    b->base = c->host->hl->rbuf;
    b->len = sizeof c->host->hl->rbuf;
}

static void h1_send(h1_req *r);

/* A reused connection failed before any response byte: send r once more on a
 * new connection (see the file comment). Returns false if that rule does
 * not apply. */
static bool h1_retry(h1_req *r) {
    h1_conn *c = r->conn;
    if (!c || !c->reused || r->got_bytes || r->retried) return false;
    r->retried = true;
    h1_conn_close(c);
    h1_send(r);
    return true;
}

static void h1_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    h1_conn *c = s->data;
    if (n == 0) return;
    h1_req *r = c->req;
    if (!r) { h1_conn_close(c); return; } /* idle: the server closed it or spoke out of turn */
    if (n < 0) {
        if (h1_retry(r)) return;
        if (r->phase == P_UNTIL_CLOSE && n == UV_EOF) {
            r->phase = P_DONE;
            r->keep_alive = false;
            h1_finish(r, UP_OK, "");
            return;
        }
        h1_set(r, UP_ERESET, r->got_bytes ? "connection lost in the response: %s"
                                          : "connection closed before the response: %s", uv_strerror((int)n));
        h1_finish(r, r->res, r->msg);
        return;
    }
    r->got_bytes = true;
    r->last_rx = uv_now(r->hl->loop);
    h1_feed(r, b->base, (size_t)n);
}

static void h1_conn_read_start(h1_conn *c) {
    if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, h1_alloc_cb, h1_read_cb) == 0) c->reading = true;
}

static void h1_conn_read_stop(h1_conn *c) {
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static void h1_write_cb(uv_write_t *w, int status) {
    h1_conn *c = w->data;
    c->writing = false;
    if (status == UV_ECANCELED) return; /* closed meanwhile */
    h1_req *r = c->req;
    if (status < 0 && r) {
        if (h1_retry(r)) return;
        h1_set(r, UP_ERESET, "sending the request: %s", uv_strerror(status));
        h1_finish(r, r->res, r->msg);
    }
}

static void h1_write_request(h1_conn *c) {
    h1_req *r = c->req;
    uv_buf_t bufs[2] = {uv_buf_init(r->out, (unsigned)r->out_len),
                        uv_buf_init((char *)(r->body ? r->body : ""), (unsigned)r->body_len)};
    unsigned nb = r->body_len > 0 ? 2 : 1;
    /* Most requests fit the socket buffer: one writev and done. uv_write
     * alone would also re-arm the epoll interest when its queue drains (two
     * more syscalls per request). */
    int rc = uv_try_write((uv_stream_t *)&c->tcp, bufs, nb);
    size_t sent = rc > 0 ? (size_t)rc : 0;
    if (rc < 0 && rc != UV_EAGAIN) {
        if (!h1_retry(r)) h1_fail_later(r, UP_ERESET, uv_strerror(rc));
        return;
    }
    if (sent == r->out_len + r->body_len) { h1_conn_read_start(c); return; }
    uv_buf_t *rest = bufs;
    if (sent >= r->out_len) { /* the head went out, part of the body did */
        rest = &bufs[1];
        nb = 1;
        sent -= r->out_len;
    }
    rest->base += sent;
    rest->len -= sent;
    c->write.data = c;
    c->writing = true;
    rc = uv_write(&c->write, (uv_stream_t *)&c->tcp, rest, nb, h1_write_cb);
    if (rc < 0) {
        c->writing = false;
        h1_fail_later(r, UP_ERESET, uv_strerror(rc));
        return;
    }
    h1_conn_read_start(c);
}

static void h1_connect_cb(uv_connect_t *cr, int status) {
    h1_conn *c = cr->data;
    if (status == UV_ECANCELED) return;
    h1_req *r = c->req;
    if (status < 0) {
        if (r) {
            h1_set(r, UP_ECONNECT, "connecting to %s: %s", c->host->hostport, uv_strerror(status));
            h1_conn_close(c);
            h1_finish(r, r->res, r->msg);
        } else {
            h1_conn_close(c);
        }
        return;
    }
    c->connected = true;
    /* Requests are one writev each, answers are awaited: Nagle only delays. */
    uv_tcp_nodelay(&c->tcp, 1);
    if (!r) { h1_conn_release(c, true); return; }
    h1_arm(r);
    h1_write_request(c);
}

static h1_conn *h1_conn_new(h1_host *h) {
    h1_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (uv_tcp_init(h->hl->loop, &c->tcp) != 0) { free(c); return NULL; }
    c->tcp.data = c;
    c->connect.data = c;
    c->host = h;
    c->next = h->conns;
    if (c->next) c->next->prev = c;
    h->conns = c;
    h->n_conns++;
    int rc = uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&h->addr, h1_connect_cb);
    if (rc < 0) {
        h1_conn_close(c);
        return NULL;
    }
    return c;
}

/* Gives r a connection: an idle one (unless r is a retry), a new one under
 * the cap, or a place in the host's queue. */
static void h1_send(h1_req *r) {
    h1_host *h = r->host;
    h1_conn *c = r->retried ? NULL : h->idle;
    if (c) {
        h->idle = c->idle_next;
        if (h->idle) h->idle->idle_prev = NULL;
        c->idle = false;
        c->req = r;
        r->conn = c;
        h1_write_request(c);
        return;
    }
    if (h->hl->max_host > 0 && h->n_conns >= h->hl->max_host) {
        r->waiting = true;
        r->wait_next = NULL;
        if (h->wait_tail) h->wait_tail->wait_next = r;
        else h->wait_head = r;
        h->wait_tail = r;
        return;
    }
    c = h1_conn_new(h);
    if (!c) { h1_fail_later(r, UP_ECONNECT, "cannot open a connection"); return; }
    c->req = r;
    r->conn = c;
    r->connect_start = uv_now(h->hl->loop);
    h1_arm(r);
}

/* Serves the host's waiting requests while connections allow. */
static void h1_dispatch(h1_host *h) {
    while (h->wait_head && (h->idle || h->hl->max_host <= 0 || h->n_conns < h->hl->max_host)) {
        h1_req *r = h->wait_head;
        h->wait_head = r->wait_next;
        if (!h->wait_head) h->wait_tail = NULL;
        r->waiting = false;
        h1_send(r);
    }
}

/* ------------------------------------------------------------- responses */

/* Keeps data[0..len) for after the pause; false when out of memory. */
static bool h1_hold(h1_req *r, const char *data, size_t len) {
    char *p = realloc(r->held, r->held_len + len);
    if (!p) return false;
    memcpy(p + r->held_len, data, len);
    r->held = p;
    r->held_len += len;
    return true;
}

/* Calls on_body; false if r is gone or must stop (then it has been ended). */
static bool h1_deliver(h1_req *r, const char *data, size_t len) {
    if (!r->cb.on_body || len == 0) return true;
    r->busy++;
    int rc = r->cb.on_body(r->ud, data, len);
    r->busy--;
    if (r->cancelled) { h1_destroy(r); return false; }
    if (rc) { h1_finish(r, UP_EABORTED, "aborted by on_body"); return false; }
    return true;
}

static bool h1_token_has(const char *v, size_t n, const char *tok) {
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= n; i++)
        if (strncasecmp(v + i, tok, tl) == 0 && (i == 0 || v[i - 1] == ',' || v[i - 1] == ' ') &&
            (i + tl == n || v[i + tl] == ',' || v[i + tl] == ' '))
            return true;
    return false;
}

/* Parses a complete head in buf[0..len). Returns the bytes used, 0 if more
 * are needed, -1 if r was ended (error, abort, cancel). */
static long h1_head(h1_req *r, const char *buf, size_t len, size_t last_len) {
    struct phr_header ph[H1_HEADER_COUNT_MAX];
    size_t nh = H1_HEADER_COUNT_MAX, msg_len;
    int minor, status;
    const char *msg;
    int n = phr_parse_response(buf, len, &minor, &status, &msg, &msg_len, ph, &nh, last_len);
    if (n == -2) {
        if (len < H1_HEAD_MAX) return 0;
        h1_finish(r, UP_EPROTO, "response head larger than 64 KB");
        return -1;
    }
    if (n < 0 || status < 100 || status > 999 || status == 101) {
        h1_finish(r, UP_EPROTO, "malformed response head");
        return -1;
    }
    if (status < 200) return n; /* interim (100 Continue, 103): the final head follows */
    up_header hs[H1_HEADER_COUNT_MAX];
    bool chunked = false, have_te = false, have_len = false, no_reuse = minor == 0;
    uint64_t clen = 0;
    for (size_t i = 0; i < nh; i++) {
        hs[i] = (up_header){ph[i].name, ph[i].name_len, ph[i].value, ph[i].value_len};
        const char *nm = ph[i].name, *v = ph[i].value;
        size_t nl = ph[i].name_len, vl = ph[i].value_len;
        if (nl == 17 && strncasecmp(nm, "transfer-encoding", 17) == 0) {
            have_te = true;
            chunked = h1_token_has(v, vl, "chunked");
            if (!chunked) no_reuse = true; /* another coding: read until close */
        } else if (nl == 14 && strncasecmp(nm, "content-length", 14) == 0) {
            uint64_t x = 0;
            if (vl == 0 || vl > 18) goto bad_len;
            for (size_t k = 0; k < vl; k++) {
                if (v[k] < '0' || v[k] > '9') goto bad_len;
                x = x * 10 + (uint64_t)(v[k] - '0');
            }
            if (have_len && x != clen) goto bad_len; /* conflicting lengths: smuggling bait */
            have_len = true;
            clen = x;
        } else if (nl == 10 && strncasecmp(nm, "connection", 10) == 0) {
            if (h1_token_has(v, vl, "close")) no_reuse = true;
            else if (minor == 0 && h1_token_has(v, vl, "keep-alive")) no_reuse = false;
        }
    }
    /* Transfer-Encoding wins over Content-Length (RFC 9112 6.3); with both the
     * connection is not trusted for another request. */
    if (have_te && have_len) no_reuse = true;
    if (have_te) have_len = false;
    r->keep_alive = !no_reuse;
    if (r->is_head || status == 204 || status == 304) {
        r->phase = P_DONE;
    } else if (chunked) {
        r->phase = P_CHUNKED;
        memset(&r->ch, 0, sizeof r->ch);
    } else if (have_len) {
        r->phase = clen > 0 ? P_LENGTH : P_DONE;
        r->left = clen;
    } else {
        r->phase = P_UNTIL_CLOSE;
        r->keep_alive = false;
    }
    if (r->cb.on_head) {
        r->busy++;
        int rc = r->cb.on_head(r->ud, status, hs, nh);
        r->busy--;
        if (r->cancelled) { h1_destroy(r); return -1; }
        if (rc) { h1_finish(r, UP_EABORTED, "aborted by on_head"); return -1; }
    }
    return n;
bad_len:
    h1_finish(r, UP_EPROTO, "bad Content-Length");
    return -1;
}

/* The response ended with `rest` bytes after it. Returns true if r lives on
 * (paused by its last on_body: the end is reported on resume). */
static bool h1_complete(h1_req *r, size_t rest) {
    r->phase = P_DONE;
    if (rest > 0) r->keep_alive = false; /* the server spoke out of turn */
    if (r->paused) {
        r->done_due = true;
        return true;
    }
    h1_finish(r, UP_OK, "");
    return false;
}

/* Processes received bytes. Returns false if r was ended (it must not be
 * used then), true if it waits for more bytes or for up_resume. */
static bool h1_feed(h1_req *r, const char *data, size_t len) {
    while (len > 0 || r->phase == P_DONE) {
        if (r->phase == P_DONE) return h1_complete(r, len);
        if (r->paused) {
            if (!h1_hold(r, data, len)) { h1_finish(r, UP_EINTERNAL, "out of memory"); return false; }
            return true;
        }
        if (r->phase == P_HEAD) {
            long used;
            if (r->hlen == 0) {
                used = h1_head(r, data, len, 0);
                if (used < 0) return false;
                if (used == 0) {
                    size_t n = len < H1_HEAD_MAX ? len : H1_HEAD_MAX;
                    if (!(r->hbuf = malloc(H1_HEAD_MAX))) { h1_finish(r, UP_EINTERNAL, "out of memory"); return false; }
                    memcpy(r->hbuf, data, n);
                    r->hlen = n;
                    if (n < len) { h1_finish(r, UP_EPROTO, "response head larger than 64 KB"); return false; }
                    return true;
                }
            } else {
                size_t old = r->hlen, n = len < H1_HEAD_MAX - old ? len : H1_HEAD_MAX - old;
                memcpy(r->hbuf + old, data, n);
                r->hlen += n;
                used = h1_head(r, r->hbuf, r->hlen, old);
                if (used < 0) return false;
                if (used == 0) {
                    if (n < len) { h1_finish(r, UP_EPROTO, "response head larger than 64 KB"); return false; }
                    return true;
                }
                used -= (long)old; /* bytes of this read that belonged to the head */
                r->hlen = 0;
            }
            data += used;
            len -= (size_t)used;
            continue;
        }
        if (r->phase == P_LENGTH) {
            size_t n = len < r->left ? len : (size_t)r->left;
            r->left -= n;
            if (r->left == 0) r->phase = P_DONE;
            if (!h1_deliver(r, data, n)) return false;
            data += n;
            len -= n;
            continue;
        }
        if (r->phase == P_UNTIL_CLOSE) return h1_deliver(r, data, len);
        /* P_CHUNKED */
        size_t used = 0, dlen = 0;
        const char *d = NULL;
        h1_chunk_rc rc = h1_chunk_step(&r->ch, data, len, &used, &d, &dlen);
        if (rc == H1C_ERROR) { h1_finish(r, UP_EPROTO, "malformed chunked encoding"); return false; }
        if (rc == H1C_DONE) r->phase = P_DONE;
        data += used;
        len -= used;
        if (rc == H1C_DATA && !h1_deliver(r, d, dlen)) return false;
    }
    return true;
}

/* The deferred part of h1_resume: held bytes first, then the socket. */
static void h1_resume_now(h1_req *r) {
    r->resume_due = false;
    if (r->paused) { h1_arm(r); return; }
    if (r->done_due) { h1_finish(r, UP_OK, ""); return; }
    if (r->held_len > 0) {
        char *held = r->held;
        size_t n = r->held_len;
        r->held = NULL;
        r->held_len = 0;
        bool alive = h1_feed(r, held, n);
        free(held);
        if (!alive || r->paused || r->done_due) return;
    }
    if (r->conn) h1_conn_read_start(r->conn);
    h1_arm(r);
}

/* -------------------------------------------------------------- interface */

h1_loop *h1_loop_new(uv_loop_t *loop) {
    h1_loop *hl = calloc(1, sizeof *hl);
    if (hl) hl->loop = loop;
    return hl;
}

void h1_loop_set_max_host_connections(h1_loop *hl, long n) {
    hl->max_host = n;
}

void h1_loop_free(h1_loop *hl) {
    if (!hl) return;
    hl->freeing = true;
    while (hl->reqs) {
        hl->reqs->cancelled = true;
        h1_destroy(hl->reqs);
    }
    while (hl->hosts) {
        h1_host *h = hl->hosts;
        hl->hosts = h->next;
        while (h->conns) h1_conn_close(h->conns);
        free(h);
    }
    free(hl);
}

static bool h1_method_ok(const char *m) {
    size_t n = strlen(m);
    if (n == 0 || n > 16) return false;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 'A' || m[i] > 'Z') return false;
    return true;
}

/* Builds the request line and headers. Like upstream.c (curl), a header
 * "Name:" with no value removes nothing here and is skipped. */
static char *h1_build(const up_options *o, const h1_url *u, const h1_host *h, size_t *out_len) {
    const char *method = o->method ? o->method : "GET";
    /* request line, Host, Content-Length, Content-Type, final CRLF: 200 covers the fixed parts */
    size_t cap = strlen(method) + u->path_len + strlen(h->hostport) + 200;
    for (size_t i = 0; i < o->n_headers; i++) {
        const char *s = o->headers[i], *colon = strchr(s, ':');
        if (!colon || colon == s || strpbrk(s, "\r\n")) return NULL;
        cap += strlen(s) + 2;
    }
    char *out = malloc(cap);
    if (!out) return NULL;
    /* Built with memcpy, not snprintf: this runs once per proxied request,
     * and a profile at c=64 showed printf's machinery among the top entries. */
    size_t n = 0;
#define H1_PUT(p, l) (memcpy(out + n, (p), (l)), n += (l))
#define H1_PUTS(lit) H1_PUT(lit, sizeof(lit) - 1)
    H1_PUT(method, strlen(method));
    H1_PUTS(" ");
    if (u->path_len) H1_PUT(u->path, u->path_len);
    else H1_PUTS("/");
    H1_PUTS(" HTTP/1.1\r\nHost: ");
    H1_PUT(h->hostport, strlen(h->hostport));
    H1_PUTS("\r\n");
    bool has_ct = false;
    for (size_t i = 0; i < o->n_headers; i++) {
        const char *s = o->headers[i], *colon = strchr(s, ':');
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        if (*v == '\0') continue;
        if ((size_t)(colon - s) == 14 && strncasecmp(s, "content-length", 14) == 0) continue;
        if ((size_t)(colon - s) == 17 && strncasecmp(s, "transfer-encoding", 17) == 0) continue;
        if ((size_t)(colon - s) == 4 && strncasecmp(s, "host", 4) == 0) continue;
        if ((size_t)(colon - s) == 12 && strncasecmp(s, "content-type", 12) == 0) has_ct = true;
        H1_PUT(s, strlen(s));
        H1_PUTS("\r\n");
    }
    bool has_body = o->body_len > 0 || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0);
    if (has_body) {
        char digits[24];
        size_t d = sizeof digits, len = o->body_len;
        do digits[--d] = (char)('0' + len % 10); while ((len /= 10) != 0);
        H1_PUTS("Content-Length: ");
        H1_PUT(digits + d, sizeof digits - d);
        H1_PUTS("\r\n");
        /* curl's default for POST fields; some servers want a type */
        if (!has_ct) H1_PUTS("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    H1_PUTS("\r\n");
#undef H1_PUTS
#undef H1_PUT
    *out_len = n;
    return out;
}

h1_req *h1_start(h1_loop *hl, const up_options *opt, const up_callbacks *cb, void *ud) {
    h1_url u;
    struct sockaddr_storage ss;
    if (!hl || !opt || !opt->url || !cb || hl->freeing) return NULL;
    if (!h1_parse_url_memo(opt->url, &u, &ss)) return NULL;
    if (opt->method && !h1_method_ok(opt->method)) return NULL;
    if (opt->body_len > 0 && !opt->body) return NULL;
    if (opt->body_len > UINT32_MAX) return NULL; /* uv_buf_t's length */
    h1_host *h = h1_host_get(hl, &u, &ss);
    if (!h) return NULL;
    h1_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->out = h1_build(opt, &u, h, &r->out_len);
    if (!r->out || uv_timer_init(hl->loop, &r->timer) != 0) {
        free(r->out);
        free(r);
        return NULL;
    }
    r->tag = H1_REQ_TAG;
    r->timer.data = r;
    r->hl = hl;
    r->host = h;
    r->cb = *cb;
    r->ud = ud;
    r->body = opt->body;
    r->body_len = opt->body_len;
    r->is_head = opt->method && strcmp(opt->method, "HEAD") == 0;
    r->connect_ms = opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : H1_DEFAULT_CONNECT_MS;
    r->total_ms = opt->timeout_ms;
    r->idle_ms = opt->idle_timeout_ms;
    r->started = r->last_rx = uv_now(hl->loop);
    r->next = hl->reqs;
    if (r->next) r->next->prev = r;
    hl->reqs = r;
    h1_send(r);
    h1_arm(r);
    return r;
}

void h1_pause(h1_req *r) {
    if (r->paused) return;
    r->paused = true;
    /* Reading stops at once (also from inside a read callback, which libuv
     * allows); the rest of a read in progress is held by h1_feed. */
    if (r->conn) h1_conn_read_stop(r->conn);
    if (!r->resume_due && !r->fail_due && !r->done_due) h1_arm(r); /* the idle clock stops */
}

void h1_resume(h1_req *r) {
    if (!r->paused) return;
    r->paused = false;
    r->resume_due = true;
    r->last_rx = uv_now(r->hl->loop);
    uv_timer_start(&r->timer, h1_timer_cb, 0, 0);
}

void h1_cancel(h1_req *r) {
    if (!r || r->cancelled) return;
    r->cancelled = true;
    if (r->busy > 0) return; /* the code around the callback destroys it */
    h1_destroy(r);
}
