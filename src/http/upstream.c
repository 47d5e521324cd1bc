/*
 * upstream.c - asynchronous HTTP(S) client: libcurl's multi_socket interface
 * driven by a libuv loop (see upstream.h for the contract).
 *
 * Wiring. One CURLM per up_loop. curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION -> one uv_poll_t per socket) and when to call it
 * back (CURLMOPT_TIMERFUNCTION -> one uv_timer_t per loop). Both uv callbacks
 * call curl_multi_socket_action() and then collect finished transfers. A
 * CURLSH shares TLS sessions (and DNS) between the easy handles of one loop;
 * the connection cache is the multi handle's own, so keep-alive connections
 * and HTTP/2 multiplexing are reused by every request of the loop.
 *
 * Re-entrancy. curl forbids most multi calls from inside its callbacks, and
 * our users call up_cancel/up_pause/up_start from inside on_head/on_body,
 * which run inside curl's header/write callbacks. So while curl is on the
 * stack (ul->in_curl > 0) such calls only record what to do (flags on the
 * request, ul->n_deferred > 0) and run_deferred() does it once curl has
 * returned. When curl is not on the stack they act at once.
 *
 * Pause / backpressure. Returning CURL_WRITEFUNC_PAUSE would make curl keep
 * the chunk and deliver it again later, which mixes badly with a user who has
 * already seen it in on_body. So the write callback always consumes (returns
 * the full length): on_body gets the chunk first, and if it called up_pause
 * the wrapper calls curl_easy_pause(CURLPAUSE_RECV) after on_body returned,
 * still inside curl's write callback (curl supports that). curl then stops
 * reading the socket; TCP fills and the upstream slows down. Bytes curl had
 * already received and hands over anyway (HTTP/2 streams do in curl 7.88: what
 * the peer sent within the stream window) go to r->held, our own buffer
 * (bounded by UP_HELD_MAX), and on_body is not called while paused. A pause
 * requested for another request while curl is on the stack is applied once
 * curl has returned. up_resume never calls on_body synchronously: it arms the
 * request's timer for 0 ms, whose callback delivers the held bytes and then
 * unpauses curl. A transfer that ends while bytes are held reports on_done
 * after they have been delivered.
 *
 * Timers. Each request owns one uv_timer_t, used for the idle timeout (no
 * bytes received for idle_timeout_ms; re-armed lazily from r->last_rx so a
 * chunk costs no timer operation) and for the deferred resume (0 ms).
 *
 * Memory. uv handles are freed in their close callbacks, so after
 * up_loop_free() (and after a request ends) the loop must run once more for
 * the memory to be released; the close callbacks never touch the up_loop.
 */
#include "http/upstream.h"
#include "http/h1client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define UP_HEADERS_MAX (64 * 1024)        /* bytes of response headers */
#define UP_HEADER_COUNT_MAX 256
#define UP_HELD_MAX (8 * 1024 * 1024)     /* bytes held while paused */
#define UP_MAXCONNECTS 64                 /* idle connections kept per loop */
#define UP_DEFAULT_CONNECT_MS 10000L
#define UP_POOL_MAX 64                    /* idle easy handles kept per loop */
/* Client for http:// when the request does not say (docs/upstream-h1.md). */
#ifndef UP_DEFAULT_CLIENT
#define UP_DEFAULT_CLIENT UP_CLIENT_NATIVE
#endif
/* curl's receive buffer, one per transfer for its whole life (16 KB by
 * default): most of the memory a waiting stream costs. LLM answers arrive in
 * small pieces (SSE events of a few hundred bytes, JSON bodies of a few KB);
 * a larger body only takes more reads. */
#ifndef UP_RECV_BUFFER
#define UP_RECV_BUFFER 8192
#endif

/* A socket curl opened. It is watched from curl's first interest in it until
 * curl closes it (CURLOPT_CLOSESOCKETFUNCTION), not only while a transfer
 * uses it: libuv's uv_poll_start costs an epoll_ctl DEL plus an ADD each
 * time, so re-arming a keep-alive connection for every request cost two
 * syscalls (one failing). Between transfers the socket is "parked": it keeps
 * its last interest (normally readable), and if the idle upstream closes it
 * (readable), we stop watching until curl either reuses it (after its own
 * liveness check) or closes it. */
typedef struct up_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    up_loop *ul;
    int events;              /* UV_READABLE | UV_WRITABLE we poll for now */
    bool parked;             /* no transfer uses it (curl said REMOVE) */
    struct up_sock *prev, *next;
} up_sock;

struct up_loop {
    uv_loop_t *loop;
    h1_loop *h1;             /* the native client for http:// */
    CURLM *multi;
    CURLSH *share;
    uv_timer_t timer;        /* curl's timeout */
    up_req *reqs;            /* every live request (doubly linked) */
    up_sock *socks;          /* every watched socket */
    up_sock **byfd;          /* socks by fd (parked ones have no curl assignment) */
    size_t n_byfd;
    CURL *pool[UP_POOL_MAX]; /* idle easy handles, reused (curl_easy_reset) */
    size_t n_pool;
    char *url_ok;            /* last URL that passed up_url_ok (parsing costs mallocs) */
    bool env_proxy;          /* a *_proxy variable is set: let curl honour it */
    int in_curl;             /* > 0 while curl is on the stack */
    int n_deferred;          /* requests with deferred work */
    bool freeing;
};

struct up_req {
    unsigned tag;            /* 0; H1_REQ_TAG for the native client's requests */
    up_loop *ul;
    up_req *prev, *next;
    CURL *easy;
    struct curl_slist *hdrs;
    up_callbacks cb;
    void *ud;
    uv_timer_t timer;        /* idle timeout and deferred resume */
    long idle_ms;
    uint64_t last_rx;        /* uv_now() at the last received bytes */

    /* Response headers of the response being read (1xx are discarded). */
    char *hbuf;
    size_t hlen, hcap;
    int status;
    bool head_done;

    /* Body held while paused. */
    char *held;
    size_t held_len, held_cap;

    bool in_multi;           /* added to ul->multi */
    bool deferred;           /* counted in ul->n_deferred */
    bool want_add;           /* up_start ran inside curl: add later */
    bool cancelled;          /* up_cancel was called: silent from now on */
    bool paused;             /* user's view */
    bool curl_paused;        /* curl's view */
    bool resume_due;         /* the timer is armed for a deferred resume */
    bool finished;           /* curl reported the end; result below */
    bool own_fail;           /* we made curl fail: result and msg say why */
    up_result result;
    int busy;                /* > 0 while one of r's user callbacks runs */
    char msg[CURL_ERROR_SIZE];
    char errbuf[CURL_ERROR_SIZE];
};

const char *up_result_name(up_result r) {
    switch (r) {
    case UP_OK: return "ok";
    case UP_ECONNECT: return "connect";
    case UP_ETIMEOUT: return "timeout";
    case UP_ERESET: return "reset";
    case UP_ETLS: return "tls";
    case UP_EPROTO: return "protocol";
    case UP_EABORTED: return "aborted";
    case UP_EINTERNAL: return "internal";
    }
    return "unknown";
}

/* Which up_result a curl error means. */
static up_result up_map_code(CURLcode c) {
    switch (c) {
    case CURLE_OK:
        return UP_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PROXY:
        return UP_ECONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return UP_ETIMEOUT;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2_STREAM:
        return UP_ERESET;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return UP_ETLS;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_UNSUPPORTED_PROTOCOL: /* e.g. an HTTP/0.9 reply */
    case CURLE_RANGE_ERROR:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_HTTP_RETURNED_ERROR:
        return UP_EPROTO;
    default:
        return UP_EINTERNAL;
    }
}

/* ---------------------------------------------------------------- requests */

static void up_timer_cb(uv_timer_t *t);
static void up_run_deferred(up_loop *ul);

static void up_req_closed(uv_handle_t *h) {
    free(h->data); /* the up_req */
}

/* An easy handle from the loop's pool, or a new one. Reusing them saves
 * curl_easy_init's allocations (the handle and its receive buffer). */
static CURL *up_easy_get(up_loop *ul) {
    return ul->n_pool > 0 ? ul->pool[--ul->n_pool] : curl_easy_init();
}

/* Gives e back: reset to defaults (every option is set again by the next
 * up_start) and pooled, or cleaned up when the pool is full. */
static void up_easy_put(up_loop *ul, CURL *e) {
    if (!e) return;
    if (ul->n_pool < UP_POOL_MAX && !ul->freeing) {
        curl_easy_reset(e);
        ul->pool[ul->n_pool++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

/* Frees r. Never while curl or one of r's callbacks is on the stack. */
static void up_destroy(up_req *r) {
    up_loop *ul = r->ul;
    if (r->in_multi) curl_multi_remove_handle(ul->multi, r->easy);
    up_easy_put(ul, r->easy);
    curl_slist_free_all(r->hdrs);
    free(r->hbuf);
    free(r->held);
    if (r->deferred) ul->n_deferred--;
    if (r->prev) r->prev->next = r->next; else ul->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, up_req_closed);
}

static void up_defer(up_req *r) {
    if (!r->deferred) { r->deferred = true; r->ul->n_deferred++; }
}

/* Records why we are about to make curl fail the transfer. */
static void up_fail(up_req *r, up_result res, const char *fmt, ...) {
    if (r->own_fail) return;
    r->own_fail = true;
    r->result = res;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
}

/* Reports the end to the user (unless cancelled) and frees r. Needs curl and
 * r's callbacks off the stack. */
static void up_finish(up_req *r, up_result res, const char *msg) {
    if (r->in_multi) {
        curl_multi_remove_handle(r->ul->multi, r->easy);
        r->in_multi = false;
    }
    if (!r->cancelled && r->cb.on_done) r->cb.on_done(r->ud, res, msg ? msg : "");
    up_destroy(r);
}

/* (Re)arms the idle timeout relative to the last received bytes. */
static void up_arm_idle(up_req *r) {
    if (r->idle_ms <= 0 || r->paused || r->resume_due) return;
    uint64_t now = uv_now(r->ul->loop);
    uint64_t due = r->last_rx + (uint64_t)r->idle_ms;
    uv_timer_start(&r->timer, up_timer_cb, due > now ? due - now : 0, 0);
}

/* Calls on_body; returns false if r must stop (aborted or cancelled). */
static bool up_deliver(up_req *r, const char *data, size_t len) {
    if (!r->cb.on_body || len == 0) return true;
    r->busy++;
    int rc = r->cb.on_body(r->ud, data, len);
    r->busy--;
    if (rc) up_fail(r, UP_EABORTED, "aborted by on_body");
    return !rc && !r->cancelled;
}

/* The deferred part of up_resume: runs from r's timer, curl off the stack. */
static void up_do_resume(up_req *r) {
    r->resume_due = false;
    if (r->paused) return;
    if (r->held_len > 0) {
        size_t n = r->held_len;
        r->held_len = 0; /* on_body may pause again; nothing is left to hold */
        bool go_on = up_deliver(r, r->held, n);
        if (r->cancelled) { up_destroy(r); return; }
        if (!go_on) { up_finish(r, r->result, r->msg); return; }
    }
    if (r->finished) { up_finish(r, r->result, r->msg); return; }
    if (r->paused) return; /* paused again from on_body */
    up_arm_idle(r);
    if (r->curl_paused) {
        r->curl_paused = false;
        up_loop *ul = r->ul;
        ul->in_curl++;
        CURLcode rc = curl_easy_pause(r->easy, CURLPAUSE_CONT); /* may call up_write_cb */
        ul->in_curl--;
        /* A failure here (e.g. on_body aborting on re-delivered bytes) is not
         * reported through the multi handle: end the request ourselves. */
        if (rc != CURLE_OK && !r->cancelled) {
            up_fail(r, up_map_code(rc), "%s", curl_easy_strerror(rc));
            up_finish(r, r->result, r->msg);
        }
        up_run_deferred(ul); /* r may be gone after this */
    }
}

static void up_timer_cb(uv_timer_t *t) {
    up_req *r = t->data;
    if (r->resume_due) { up_do_resume(r); return; }
    if (r->paused || r->finished || r->idle_ms <= 0) return;
    uint64_t now = uv_now(r->ul->loop);
    if (now < r->last_rx + (uint64_t)r->idle_ms) { up_arm_idle(r); return; }
    char msg[96];
    snprintf(msg, sizeof msg, "idle timeout: no data for %ld ms", r->idle_ms);
    up_finish(r, UP_ETIMEOUT, msg);
}

/* Is the complete header block a final response? Then call on_head. Returns
 * false to abort the transfer. */
static bool up_head_end(up_req *r) {
    if (r->status >= 100 && r->status < 200) { r->hlen = 0; r->status = 0; return true; }
    r->head_done = true;
    if (!r->cb.on_head) return true;
    up_header hs[UP_HEADER_COUNT_MAX];
    size_t n = 0;
    /* hbuf holds "Name: value" lines, each ended by '\0' (see up_header_cb). */
    for (size_t off = 0; off < r->hlen && n < UP_HEADER_COUNT_MAX;) {
        char *line = r->hbuf + off;
        size_t len = strlen(line);
        off += len + 1;
        char *colon = memchr(line, ':', len);
        /* Skip lines with no name and obsolete folded continuations. */
        if (!colon || colon == line || line[0] == ' ' || line[0] == '\t') continue;
        char *v = colon + 1, *end = line + len;
        while (v < end && (*v == ' ' || *v == '\t')) v++;
        while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
        hs[n++] = (up_header){line, (size_t)(colon - line), v, (size_t)(end - v)};
    }
    r->busy++;
    int rc = r->cb.on_head(r->ud, r->status, hs, n);
    r->busy--;
    if (rc) up_fail(r, UP_EABORTED, "aborted by on_head");
    return !rc && !r->cancelled;
}

/* Parses "HTTP/1.1 200 OK" or "HTTP/2 200"; 0 if malformed. */
static int up_parse_status(const char *s, size_t len) {
    const char *sp = memchr(s, ' ', len);
    if (!sp || (size_t)(s + len - sp) < 4) return 0;
    int st = 0;
    for (int i = 1; i <= 3; i++) {
        if (sp[i] < '0' || sp[i] > '9') return 0;
        st = st * 10 + (sp[i] - '0');
    }
    return st;
}

/* Appends n bytes (and a '\0' after them, not counted in *len) to a
 * growing malloc'd buffer. False when out of memory. */
static bool up_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n + 1) c *= 2;
        char *nb = realloc(*buf, c);
        if (!nb) return false;
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, data, n);
    (*buf)[*len + n] = '\0';
    *len += n;
    return true;
}

/* Common start of curl's header/write callbacks: false if curl must stop. */
static bool up_cb_enter(up_req *r) {
    if (r->cancelled || r->own_fail) return false;
    r->last_rx = uv_now(r->ul->loop);
    return true;
}

static size_t up_header_cb(char *data, size_t size, size_t nmemb, void *ud) {
    up_req *r = ud;
    size_t n = size * nmemb;
    if (!up_cb_enter(r)) return 0;
    if (r->head_done) return n; /* trailers */
    size_t len = n;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r')) len--;
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) { /* a new response */
        r->hlen = 0;
        r->status = up_parse_status(data, len);
        return n;
    }
    if (len == 0) return up_head_end(r) ? n : 0;
    if (r->hlen + len + 1 > UP_HEADERS_MAX) {
        up_fail(r, UP_EPROTO, "response headers exceed %d bytes", UP_HEADERS_MAX);
        return 0;
    }
    if (!up_append(&r->hbuf, &r->hlen, &r->hcap, data, len)) {
        up_fail(r, UP_EINTERNAL, "out of memory");
        return 0;
    }
    r->hlen++; /* keep the '\0' as the line separator */
    return n;
}

/* Pauses curl's receiving. Allowed inside r's own header/write callback
 * (curl 7.88 handles that recursion). Whatever curl still passes to
 * up_write_cb afterwards lands in r->held, so nothing is lost or doubled. */
static void up_curl_pause(up_req *r) {
    curl_easy_pause(r->easy, CURLPAUSE_RECV);
    r->curl_paused = true;
}

/* Keeps bytes that arrived while paused. */
static bool up_hold(up_req *r, const char *data, size_t n) {
    if (n > UP_HELD_MAX - r->held_len) return false;
    return up_append(&r->held, &r->held_len, &r->held_cap, data, n);
}

static size_t up_write_cb(char *data, size_t size, size_t nmemb, void *ud) {
    up_req *r = ud;
    size_t n = size * nmemb;
    if (!up_cb_enter(r)) return 0;
    if (r->paused || r->held_len > 0) {
        if (up_hold(r, data, n)) return n;
        up_fail(r, UP_EINTERNAL, "cannot hold body bytes while paused (limit %d)", UP_HELD_MAX);
        return 0;
    }
    bool go_on = up_deliver(r, data, n);
    /* Paused from on_body: the chunk is consumed, now stop curl reading. */
    if (go_on && r->paused && !r->curl_paused) up_curl_pause(r);
    return go_on ? n : 0;
}

/* ------------------------------------------------------- curl <-> libuv glue */

/* Collects transfers curl has finished. */
static void up_check_done(up_loop *ul) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(ul->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        char *priv = NULL;
        CURLcode code = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        up_req *r = (up_req *)priv;
        if (!r) continue;
        curl_multi_remove_handle(ul->multi, r->easy);
        r->in_multi = false;
        if (r->cancelled) { up_destroy(r); continue; }
        up_result res = r->own_fail ? r->result : up_map_code(code);
        if (!r->own_fail && code != CURLE_OK) /* curl's detail */
            snprintf(r->msg, sizeof r->msg, "%s",
                     r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
        if (r->held_len > 0) {
            /* Bytes still wait for up_resume: report the end after them. */
            r->finished = true;
            r->result = res;
            continue;
        }
        up_finish(r, res, r->msg);
    }
}

/* Runs what was requested while curl was on the stack. */
static void up_run_deferred(up_loop *ul) {
    if (ul->in_curl > 0) return;
    while (ul->n_deferred > 0) {
        up_req *r = ul->reqs;
        while (r && !r->deferred) r = r->next;
        if (!r) { ul->n_deferred = 0; break; }
        r->deferred = false;
        ul->n_deferred--;
        if (r->cancelled) { up_destroy(r); continue; }
        if (r->want_add) {
            r->want_add = false;
            if (curl_multi_add_handle(ul->multi, r->easy) != CURLM_OK) {
                up_finish(r, UP_EINTERNAL, "curl_multi_add_handle failed");
                continue;
            }
            r->in_multi = true;
        }
        if (r->paused && !r->curl_paused && r->in_multi) up_curl_pause(r);
    }
}

/* After any curl_multi_socket_action: finished transfers, deferred work. */
static void up_after_curl(up_loop *ul) {
    up_check_done(ul);
    up_run_deferred(ul);
}

static void up_curl_timer_cb(uv_timer_t *t) {
    up_loop *ul = t->data;
    int running;
    ul->in_curl++;
    curl_multi_socket_action(ul->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    ul->in_curl--;
    up_after_curl(ul);
}

static void up_poll_cb(uv_poll_t *p, int status, int events) {
    up_sock *s = p->data;
    up_loop *ul = s->ul; /* s may be closed by curl below */
    if (s->parked) {
        /* The idle upstream closed or wrote: nothing to do until curl looks
         * at the connection again (its liveness check), but a level-triggered
         * readable socket must not wake the loop forever. */
        uv_poll_stop(&s->poll);
        s->events = 0;
        return;
    }
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    ul->in_curl++;
    curl_multi_socket_action(ul->multi, s->fd, flags, &running);
    ul->in_curl--;
    up_after_curl(ul);
}

static void up_sock_closed(uv_handle_t *h) {
    free(h->data);
}

static void up_sock_close(up_loop *ul, up_sock *s) {
    if (s->prev) s->prev->next = s->next; else ul->socks = s->next;
    if (s->next) s->next->prev = s->prev;
    if ((size_t)s->fd < ul->n_byfd) ul->byfd[s->fd] = NULL;
    uv_close((uv_handle_t *)&s->poll, up_sock_closed); /* stops polling at once */
}

/* Starts watching fd; NULL when out of memory or libuv refuses it. */
static up_sock *up_sock_new(up_loop *ul, curl_socket_t fd) {
    if (fd < 0) return NULL;
    if ((size_t)fd >= ul->n_byfd) {
        size_t n = ul->n_byfd ? ul->n_byfd : 64;
        while (n <= (size_t)fd) n *= 2;
        up_sock **nb = realloc(ul->byfd, n * sizeof(*nb));
        if (!nb) return NULL;
        memset(nb + ul->n_byfd, 0, (n - ul->n_byfd) * sizeof(*nb));
        ul->byfd = nb;
        ul->n_byfd = n;
    }
    up_sock *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    if (uv_poll_init_socket(ul->loop, &s->poll, fd) != 0) { free(s); return NULL; }
    s->fd = fd;
    s->ul = ul;
    s->poll.data = s;
    s->next = ul->socks;
    if (s->next) s->next->prev = s;
    ul->socks = s;
    ul->byfd[fd] = s;
    return s;
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-watch or park a socket. The uv_poll is
 * only restarted when the interest really changes. */
static int up_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    (void)easy;
    up_loop *ul = userp;
    up_sock *s = socketp;
    if (ul->freeing) return 0;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(ul->multi, fd, NULL);
            s->parked = true;
            /* Keep a readable watch (no syscall); never a writable one, which
             * an idle socket would fire continuously. */
            if (s->events & UV_WRITABLE) {
                s->events = UV_READABLE;
                if (uv_poll_start(&s->poll, s->events, up_poll_cb) != 0) up_sock_close(ul, s);
            }
        }
        return 0;
    }
    if (!s && fd >= 0 && (size_t)fd < ul->n_byfd) s = ul->byfd[fd]; /* parked */
    if (!s && !(s = up_sock_new(ul, fd))) return -1;
    if (s->parked || !socketp) curl_multi_assign(ul->multi, fd, s);
    s->parked = false;
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    if (events == s->events) return 0;
    s->events = events;
    /* -1 makes curl fail the transfers on this socket rather than hang. */
    return uv_poll_start(&s->poll, events, up_poll_cb) == 0 ? 0 : -1;
}

/* CURLOPT_CLOSESOCKETFUNCTION: curl is done with fd. Stop watching it before
 * it is closed, so that a later socket with the same number (h2o accepts
 * them on this loop) never meets a stale watcher. */
static int up_close_socket_cb(void *userp, curl_socket_t fd) {
    up_loop *ul = userp;
    if (!ul->freeing && fd >= 0 && (size_t)fd < ul->n_byfd && ul->byfd[fd])
        up_sock_close(ul, ul->byfd[fd]);
    return close(fd);
}

/* CURLMOPT_TIMERFUNCTION: never acts synchronously, even for 0 ms. */
static int up_curl_timer_set(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    up_loop *ul = userp;
    if (ul->freeing) return 0;
    if (timeout_ms < 0) uv_timer_stop(&ul->timer);
    else uv_timer_start(&ul->timer, up_curl_timer_cb, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ------------------------------------------------------------------ loops */

static void up_global_init_once(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

up_loop *up_loop_new(uv_loop_t *loop) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, up_global_init_once);
    up_loop *ul = calloc(1, sizeof(*ul));
    if (!ul) return NULL;
    ul->loop = loop;
    static const char *const proxy_vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                             "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"};
    for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
        if (getenv(proxy_vars[i])) ul->env_proxy = true;
    ul->multi = curl_multi_init();
    ul->share = curl_share_init();
    ul->h1 = h1_loop_new(loop);
    if (!ul->multi || !ul->share || !ul->h1) goto fail;
    /* One thread per loop: the share needs no lock callbacks. */
    curl_share_setopt(ul->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(ul->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_multi_setopt(ul->multi, CURLMOPT_SOCKETFUNCTION, up_socket_cb);
    curl_multi_setopt(ul->multi, CURLMOPT_SOCKETDATA, ul);
    curl_multi_setopt(ul->multi, CURLMOPT_TIMERFUNCTION, up_curl_timer_set);
    curl_multi_setopt(ul->multi, CURLMOPT_TIMERDATA, ul);
    curl_multi_setopt(ul->multi, CURLMOPT_MAXCONNECTS, (long)UP_MAXCONNECTS);
    curl_multi_setopt(ul->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if (uv_timer_init(loop, &ul->timer) != 0) goto fail;
    ul->timer.data = ul;
    return ul;
fail:
    if (ul->multi) curl_multi_cleanup(ul->multi);
    if (ul->share) curl_share_cleanup(ul->share);
    h1_loop_free(ul->h1);
    free(ul);
    return NULL;
}

static void up_loop_closed(uv_handle_t *h) {
    free(h->data);
}

void up_loop_free(up_loop *ul) {
    if (!ul) return;
    h1_loop_free(ul->h1);
    while (ul->reqs) {
        ul->reqs->cancelled = true;
        up_destroy(ul->reqs);
    }
    /* Stop watching the cached connections before curl closes them, and
     * ignore what curl_multi_cleanup reports about them. */
    ul->freeing = true;
    while (ul->socks) up_sock_close(ul, ul->socks);
    curl_multi_cleanup(ul->multi);
    while (ul->n_pool > 0) curl_easy_cleanup(ul->pool[--ul->n_pool]); /* before the share */
    curl_share_cleanup(ul->share);
    free(ul->byfd);
    free(ul->url_ok);
    uv_timer_stop(&ul->timer);
    uv_close((uv_handle_t *)&ul->timer, up_loop_closed);
}

void up_loop_set_max_host_connections(up_loop *ul, long n) {
    curl_multi_setopt(ul->multi, CURLMOPT_MAX_HOST_CONNECTIONS, n);
    h1_loop_set_max_host_connections(ul->h1, n);
}

/* ------------------------------------------------------------------ requests */

/* True if s is a plain header line "Name: value" with no CR/LF (no injection). */
static bool up_header_ok(const char *s) {
    const char *colon = strchr(s, ':');
    return colon && colon != s && !strpbrk(s, "\r\n");
}

/* True if the URL parses and is http or https. */
static bool up_url_ok(const char *url) {
    CURLU *u = curl_url();
    if (!u) return false;
    char *scheme = NULL;
    bool ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
    curl_free(scheme);
    curl_url_cleanup(u);
    return ok;
}

/* up_url_ok, remembering the last URL that passed: a provider sends every
 * request to the same URL, and parsing it costs several allocations. */
static bool up_url_ok_cached(up_loop *ul, const char *url) {
    if (ul->url_ok && strcmp(ul->url_ok, url) == 0) return true;
    if (!up_url_ok(url)) return false;
    char *copy = strdup(url);
    if (copy) { free(ul->url_ok); ul->url_ok = copy; }
    return true;
}

static bool up_method_ok(const char *m) {
    size_t n = strlen(m);
    if (n == 0 || n > 16) return false;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 'A' || m[i] > 'Z') return false;
    return true;
}

/* Sets the easy handle's options; false on a bad option. */
static bool up_configure(up_req *r, const up_options *opt) {
    CURL *e = r->easy;
    const char *method = opt->method ? opt->method : "GET";
    bool ok = true;
#define SET(o, v) ok = ok && curl_easy_setopt(e, o, v) == CURLE_OK
    SET(CURLOPT_URL, opt->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PRIVATE, (char *)r);
    SET(CURLOPT_ERRORBUFFER, r->errbuf);
    SET(CURLOPT_HEADERFUNCTION, up_header_cb);
    SET(CURLOPT_HEADERDATA, r);
    SET(CURLOPT_WRITEFUNCTION, up_write_cb);
    SET(CURLOPT_WRITEDATA, r);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* Wait for a connection being set up to learn (ALPN) if it multiplexes,
     * rather than open more. Only https can: for http curl would queue behind
     * a busy HTTP/1.1 connection. */
    if (strncasecmp(opt->url, "https:", 6) == 0) SET(CURLOPT_PIPEWAIT, 1L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_BUFFERSIZE, (long)UP_RECV_BUFFER);
    SET(CURLOPT_SHARE, r->ul->share);
    SET(CURLOPT_CLOSESOCKETFUNCTION, up_close_socket_cb);
    SET(CURLOPT_CLOSESOCKETDATA, r->ul);
    /* Without proxy variables in the environment, say so: curl would read
     * them (several getenv calls) for every request. */
    if (!r->ul->env_proxy) {
        SET(CURLOPT_PROXY, "");
        SET(CURLOPT_NOPROXY, "");
    }
    SET(CURLOPT_CONNECTTIMEOUT_MS,
        opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : UP_DEFAULT_CONNECT_MS);
    if (opt->timeout_ms > 0) SET(CURLOPT_TIMEOUT_MS, opt->timeout_ms);
    if (opt->ca_file) SET(CURLOPT_CAINFO, opt->ca_file);
    if (opt->ca_pem) {
        /* curl copies the blob and counts it in its connection-reuse match, so
         * requests with different CAs never share a connection. */
        struct curl_blob blob = {(void *)opt->ca_pem, strlen(opt->ca_pem), CURL_BLOB_COPY};
        SET(CURLOPT_CAINFO_BLOB, &blob);
    }
    if (strcmp(method, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && opt->body_len == 0) {
        SET(CURLOPT_HTTPGET, 1L);
    } else {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)opt->body_len);
        SET(CURLOPT_POSTFIELDS, opt->body ? opt->body : "");
        if (strcmp(method, "POST") != 0) SET(CURLOPT_CUSTOMREQUEST, method);
    }
    SET(CURLOPT_HTTPHEADER, r->hdrs);
#undef SET
    return ok;
}

/* The dispatch point: the native client takes what it can (h1client.h). */
static bool up_native(const up_loop *ul, const up_options *opt) {
    up_client c = opt->client != UP_CLIENT_DEFAULT ? opt->client : UP_DEFAULT_CLIENT;
    return c == UP_CLIENT_NATIVE && !ul->env_proxy && h1_url_ok(opt->url);
}

static bool up_is_h1(const up_req *r) {
    return *(const unsigned *)r == H1_REQ_TAG;
}

up_req *up_start(up_loop *ul, const up_options *opt, const up_callbacks *cb, void *ud) {
    if (!ul || !opt || !opt->url || !cb || ul->freeing) return NULL;
    if (up_native(ul, opt)) return (up_req *)h1_start(ul->h1, opt, cb, ud);
    if (!up_url_ok_cached(ul, opt->url)) return NULL;
    if (opt->method && !up_method_ok(opt->method)) return NULL;
    if (opt->body_len > 0 && !opt->body) return NULL;
    up_req *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->ul = ul;
    r->cb = *cb;
    r->ud = ud;
    r->idle_ms = opt->idle_timeout_ms;
    bool ok = (r->easy = up_easy_get(ul)) != NULL;
    for (size_t i = 0; ok && i < opt->n_headers; i++) {
        struct curl_slist *l = NULL;
        ok = up_header_ok(opt->headers[i]) && (l = curl_slist_append(r->hdrs, opt->headers[i]));
        if (l) r->hdrs = l;
    }
    /* No "Expect: 100-continue" round trip before POST bodies. */
    struct curl_slist *l = ok ? curl_slist_append(r->hdrs, "Expect:") : NULL;
    if (l) r->hdrs = l;
    ok = ok && l && up_configure(r, opt);
    ok = ok && uv_timer_init(ul->loop, &r->timer) == 0;
    if (!ok) {
        up_easy_put(ul, r->easy);
        curl_slist_free_all(r->hdrs);
        free(r);
        return NULL;
    }
    r->timer.data = r;
    r->last_rx = uv_now(ul->loop);
    r->next = ul->reqs;
    if (r->next) r->next->prev = r;
    ul->reqs = r;
    if (ul->in_curl > 0) {
        r->want_add = true; /* curl refuses add_handle from its callbacks */
        up_defer(r);
    } else if (curl_multi_add_handle(ul->multi, r->easy) != CURLM_OK) {
        up_destroy(r); /* uv_close frees r later; no callback was called */
        return NULL;
    } else {
        r->in_multi = true;
    }
    up_arm_idle(r);
    return r;
}

void up_pause(up_req *r) {
    if (up_is_h1(r)) { h1_pause((h1_req *)r); return; }
    if (r->paused) return;
    r->paused = true;
    if (!r->resume_due) uv_timer_stop(&r->timer); /* the upstream is not idle: we are */
    /* Now if curl is off the stack or inside r's own callback; if inside
     * another request's callback, once curl has returned. */
    if (r->in_multi && (r->ul->in_curl == 0 || r->busy > 0)) up_curl_pause(r);
    else up_defer(r);
}

void up_resume(up_req *r) {
    if (up_is_h1(r)) { h1_resume((h1_req *)r); return; }
    if (!r->paused) return;
    r->paused = false;
    r->resume_due = true;
    r->last_rx = uv_now(r->ul->loop); /* the idle clock restarts */
    uv_timer_start(&r->timer, up_timer_cb, 0, 0);
}

void up_cancel(up_req *r) {
    if (!r) return;
    if (up_is_h1(r)) { h1_cancel((h1_req *)r); return; }
    if (r->cancelled) return;
    r->cancelled = true;
    if (r->ul->in_curl > 0 || r->busy > 0) { up_defer(r); return; }
    up_destroy(r);
}
