/*
 * test_h1client.c - the native HTTP/1.1 client (src/http/h1client.c) through
 * up_start with .client = UP_CLIENT_NATIVE, against a scripted loopback
 * server: one thread per connection, blocking sockets, answers chosen by the
 * request path. Covers framing (chunked split byte by byte, extensions,
 * trailers; Content-Length; read until close), bounds (oversized head,
 * bad chunk size, conflicting lengths), the stale keep-alive retry rule,
 * a reset mid-stream, a stall, the per-host cap, and that cancelling closes
 * the upstream connection. Each case ends with uv_loop_close() == 0.
 */
#include "http/upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); failures++; } \
    } while (0)

/* ------------------------------------------------------------ the server */

static int lfd, port;
static atomic_int n_accepted, n_peer_closed;

static void msleep(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool sendall(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}
static bool puts_fd(int fd, const char *s) { return sendall(fd, s, strlen(s)); }

/* Reads one request (head + Content-Length body); returns its path or NULL. */
static bool read_req(int fd, char *path, size_t cap) {
    char buf[8192];
    size_t len = 0;
    char *end;
    for (;;) {
        ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (r <= 0) return false;
        len += (size_t)r;
        buf[len] = '\0';
        if ((end = strstr(buf, "\r\n\r\n"))) break;
        if (len >= sizeof buf - 1) return false;
    }
    char fmt[32];
    snprintf(fmt, sizeof fmt, "%%*s %%%zus", cap - 1);
    if (sscanf(buf, fmt, path) != 1) return false;
    const char *cl = strstr(buf, "Content-Length: ");
    size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0, have = len - (size_t)(end + 4 - buf);
    while (have < body) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) return false;
        have += (size_t)r;
    }
    return true;
}

static void *conn_main(void *arg) {
    int fd = (int)(intptr_t)arg;
    char path[256];
    for (int nreq = 1; read_req(fd, path, sizeof path); nreq++) {
        bool keep = true;
        if (strcmp(path, "/cl") == 0) {
            keep = puts_fd(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        } else if (strcmp(path, "/chunked-split") == 0) {
            /* byte by byte: every parser state sees a read boundary */
            const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
            for (const char *p = s; *p && keep; p++) { keep = sendall(fd, p, 1); msleep(1); }
        } else if (strcmp(path, "/untilclose") == 0) {
            puts_fd(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it");
            keep = false;
        } else if (strcmp(path, "/bighead") == 0) {
            puts_fd(fd, "HTTP/1.1 200 OK\r\n");
            char line[1024];
            memset(line, 'a', sizeof line);
            memcpy(line, "X-Big: ", 7);
            line[sizeof line - 2] = '\r';
            line[sizeof line - 1] = '\n';
            for (int i = 0; i < 70 && keep; i++) keep = sendall(fd, line, sizeof line);
            msleep(200);
            keep = false;
        } else if (strcmp(path, "/badchunk") == 0) {
            puts_fd(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n12345678901234567\r\n");
            msleep(200);
            keep = false;
        } else if (strcmp(path, "/twolengths") == 0) {
            puts_fd(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
            keep = false;
        } else if (strcmp(path, "/dropsecond") == 0) {
            /* Answers the first request of a connection; closes on the second
             * unanswered, as a server that timed the connection out would. */
            if (nreq >= 2) keep = false;
            else keep = puts_fd(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        } else if (strcmp(path, "/drop") == 0) {
            keep = false;
        } else if (strcmp(path, "/midreset") == 0) {
            puts_fd(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndata\r\n");
            msleep(50);
            keep = false;
        } else if (strcmp(path, "/stall") == 0) {
            puts_fd(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n");
            char c;
            recv(fd, &c, 1, 0); /* until the client gives up */
            keep = false;
        } else if (strcmp(path, "/endless") == 0) {
            puts_fd(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            while (keep) { keep = puts_fd(fd, "6\r\nevent\n\r\n"); msleep(5); }
            atomic_fetch_add(&n_peer_closed, 1);
        } else if (strcmp(path, "/slow") == 0) {
            msleep(100);
            keep = puts_fd(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow");
        } else {
            keep = puts_fd(fd, "HTTP/1.1 404 X\r\nContent-Length: 0\r\n\r\n");
        }
        if (!keep) break;
    }
    close(fd);
    return NULL;
}

static void *accept_main(void *arg) {
    (void)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) return NULL;
        atomic_fetch_add(&n_accepted, 1);
        pthread_t t;
        pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
}

static void server_start(void) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 64) != 0) exit(1);
    getsockname(lfd, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, accept_main, NULL);
    pthread_detach(t);
}

/* ------------------------------------------------------------ the client */

typedef struct rq {
    up_req *req;
    int status, done;
    up_result res;
    char body[4096];
    size_t body_len;
    bool cancel_after_body, pause_once;
    uv_timer_t resume_timer;
    int pauses;
} rq;

static int on_head(void *ud, int status, const up_header *h, size_t n) {
    (void)h; (void)n;
    ((rq *)ud)->status = status;
    return 0;
}

static void resume_cb(uv_timer_t *t) {
    rq *q = t->data;
    up_resume(q->req);
}

static int on_body(void *ud, const char *d, size_t n) {
    rq *q = ud;
    if (q->body_len + n < sizeof q->body) { memcpy(q->body + q->body_len, d, n); q->body_len += n; }
    if (q->cancel_after_body && q->body_len >= 30) { up_cancel(q->req); q->done = -1; }
    else if (q->pause_once && q->pauses == 0) {
        q->pauses++;
        up_pause(q->req);
        uv_timer_start(&q->resume_timer, resume_cb, 100, 0);
    }
    return 0;
}

static void on_done(void *ud, up_result r, const char *msg) {
    rq *q = ud;
    q->res = r;
    q->done = 1;
    if (getenv("H1_DEBUG")) fprintf(stderr, "  done: %s (%s)\n", up_result_name(r), msg);
}

static const up_callbacks cbs = {on_head, on_body, on_done};

typedef struct env {
    uv_loop_t loop;
    up_loop *ul;
} env;

static void env_open(env *e) {
    uv_loop_init(&e->loop);
    e->ul = up_loop_new(&e->loop);
    CHECK(e->ul != NULL);
}

static void env_close(env *e) {
    up_loop_free(e->ul);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&e->loop) == 0);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void start(env *e, rq *q, const char *path, long idle_ms) {
    char u[96];
    snprintf(u, sizeof u, "http://127.0.0.1:%d%s", port, path);
    up_options o = {.method = "POST", .url = u, .body = "{}", .body_len = 2, .timeout_ms = 5000,
                    .idle_timeout_ms = idle_ms, .client = UP_CLIENT_NATIVE};
    uv_timer_init(&e->loop, &q->resume_timer);
    q->resume_timer.data = q;
    q->req = up_start(e->ul, &o, &cbs, q);
    CHECK(q->req != NULL);
}

static void wait_done(env *e, rq *q, int ms) {
    double end = now_s() + ms / 1000.0;
    while (q->done == 0 && now_s() < end) uv_run(&e->loop, UV_RUN_NOWAIT), msleep(1);
}

static void rq_end(rq *q) { uv_close((uv_handle_t *)&q->resume_timer, NULL); }

/* One request on its own loop; returns what happened. */
static rq one(const char *path, long idle_ms) {
    env e;
    env_open(&e);
    rq q = {0};
    start(&e, &q, path, idle_ms);
    wait_done(&e, &q, 3000);
    rq_end(&q);
    env_close(&e);
    q.body[q.body_len] = '\0';
    return q;
}

int main(void) {
    server_start();
    rq q;

    q = one("/cl", 0);
    CHECK(q.done == 1 && q.res == UP_OK && q.status == 200 && strcmp(q.body, "hello") == 0);
    q = one("/chunked-split", 0);
    CHECK(q.done == 1 && q.res == UP_OK && strcmp(q.body, "hello 0123456789") == 0);
    q = one("/untilclose", 0);
    CHECK(q.done == 1 && q.res == UP_OK && strcmp(q.body, "all of it") == 0);
    q = one("/bighead", 0);
    CHECK(q.done == 1 && q.res == UP_EPROTO && q.status == 0);
    q = one("/badchunk", 0);
    CHECK(q.done == 1 && q.res == UP_EPROTO);
    q = one("/twolengths", 0);
    CHECK(q.done == 1 && q.res == UP_EPROTO);
    q = one("/midreset", 0);
    CHECK(q.done == 1 && q.res == UP_ERESET && strcmp(q.body, "data") == 0);
    double t0 = now_s();
    q = one("/stall", 200);
    CHECK(q.done == 1 && q.res == UP_ETIMEOUT && now_s() - t0 < 1.5);
    /* A fresh connection closed before any answer is not retried. */
    int before = atomic_load(&n_accepted);
    q = one("/drop", 0);
    CHECK(q.done == 1 && q.res == UP_ERESET && atomic_load(&n_accepted) == before + 1);

    /* Stale keep-alive: the second request meets a connection the server
     * drops; it is sent again, once, on a new connection. */
    {
        env e;
        env_open(&e);
        rq a = {0}, b = {0};
        before = atomic_load(&n_accepted);
        start(&e, &a, "/dropsecond", 0);
        wait_done(&e, &a, 3000);
        start(&e, &b, "/dropsecond", 0);
        wait_done(&e, &b, 3000);
        CHECK(a.res == UP_OK && b.done == 1 && b.res == UP_OK && memcmp(b.body, "ok", 2) == 0);
        CHECK(atomic_load(&n_accepted) == before + 2);
        rq_end(&a);
        rq_end(&b);
        env_close(&e);
    }
    /* Backpressure: a pause inside on_body holds the rest; resume goes on. */
    {
        env e;
        env_open(&e);
        rq a = {0};
        a.pause_once = true;
        start(&e, &a, "/chunked-split", 0);
        wait_done(&e, &a, 3000);
        a.body[a.body_len] = '\0';
        CHECK(a.res == UP_OK && a.pauses == 1 && strcmp(a.body, "hello 0123456789") == 0);
        rq_end(&a);
        env_close(&e);
    }
    /* Cancel mid-stream (the client went away): the upstream sees the
     * connection close. */
    {
        env e;
        env_open(&e);
        rq a = {0};
        a.cancel_after_body = true;
        int closed = atomic_load(&n_peer_closed);
        start(&e, &a, "/endless", 0);
        wait_done(&e, &a, 3000);
        CHECK(a.done == -1);
        for (int i = 0; i < 200 && atomic_load(&n_peer_closed) == closed; i++) msleep(5);
        CHECK(atomic_load(&n_peer_closed) == closed + 1);
        rq_end(&a);
        env_close(&e);
    }
    /* Per-host cap: three requests over one connection, in turn. */
    {
        env e;
        env_open(&e);
        up_loop_set_max_host_connections(e.ul, 1);
        rq r[3] = {{0}};
        before = atomic_load(&n_accepted);
        for (int i = 0; i < 3; i++) start(&e, &r[i], "/slow", 0);
        for (int i = 0; i < 3; i++) wait_done(&e, &r[i], 3000);
        for (int i = 0; i < 3; i++) CHECK(r[i].res == UP_OK && memcmp(r[i].body, "slow", 4) == 0);
        CHECK(atomic_load(&n_accepted) == before + 1);
        for (int i = 0; i < 3; i++) rq_end(&r[i]);
        env_close(&e);
    }
    close(lfd);
    if (failures) { fprintf(stderr, "%d failure(s)\n", failures); return 1; }
    printf("test_h1client: all passed\n");
    return 0;
}
