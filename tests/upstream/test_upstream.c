/*
 * test_upstream.c - the libcurl/libuv upstream client against a loopback
 * HTTP/1.1 server (test_server.c) and, for TLS, `openssl s_server` with a CA
 * generated at test time.
 *
 * Every case runs on a fresh uv loop and ends with up_loop_free, a drain of
 * the loop and uv_loop_close() == 0, so a leaked uv handle fails the test.
 */
#include "http/upstream.h"
#include "test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); failures++; } \
    } while (0)

static ts_server *srv;
static char base[64]; /* "http://127.0.0.1:PORT" */

/* ------------------------------------------------------------ one request */

typedef struct rq {
    up_loop *ul;
    up_req *req;
    uv_loop_t *loop;
    /* what happened */
    int heads, status, body_calls, done;
    up_result res;
    char msg[256];
    char x_final[16], content_type[64];
    char *body;
    size_t body_len;
    double t_first_body, t_done;
    int calls_after_cancel, calls_while_paused;
    /* what to do */
    bool cancel_in_head, cancel_in_body, abort_in_head, abort_in_body, start_in_head;
    struct rq *cancel_other; /* cancelled from this one's first on_body */
    size_t pause_every;   /* pause each time this many more bytes arrived */
    size_t next_pause;
    bool paused, cancelled;
    uv_timer_t resume_timer;
    int pauses;
    struct rq *child;     /* started from on_head when start_in_head */
    const char *child_url;
    int *chain_left;      /* sequential chain: start the next one in on_done */
} rq;

static up_callbacks callbacks;

static up_req *start(up_loop *ul, rq *q, const char *method, const char *url,
                     const char *body, size_t body_len, long idle_ms) {
    up_options o = {0};
    o.method = method;
    o.url = url;
    o.body = body;
    o.body_len = body_len;
    o.idle_timeout_ms = idle_ms;
    o.timeout_ms = 20000;
    q->ul = ul;
    q->req = up_start(ul, &o, &callbacks, q);
    return q->req;
}

static void resume_cb(uv_timer_t *t) {
    rq *q = t->data;
    q->paused = false;
    if (getenv("UP_DEBUG")) printf("resume at %zu, %.3f\n", q->body_len, ts_now());
    up_resume(q->req);
}

static int on_head(void *ud, int status, const up_header *h, size_t n) {
    rq *q = ud;
    if (q->cancelled) q->calls_after_cancel++;
    q->heads++;
    q->status = status;
    for (size_t i = 0; i < n; i++) {
        char *dst = NULL;
        size_t cap = 0;
        if (h[i].name_len == 7 && strncasecmp(h[i].name, "x-final", 7) == 0) {
            dst = q->x_final; cap = sizeof q->x_final;
        } else if (h[i].name_len == 12 && strncasecmp(h[i].name, "content-type", 12) == 0) {
            dst = q->content_type; cap = sizeof q->content_type;
        }
        if (dst) snprintf(dst, cap, "%.*s", (int)h[i].value_len, h[i].value);
    }
    if (q->start_in_head) start(q->ul, q->child, "GET", q->child_url, NULL, 0, 0);
    if (q->cancel_in_head) { q->cancelled = true; up_cancel(q->req); }
    return q->abort_in_head ? 1 : 0;
}

static int on_body(void *ud, const char *data, size_t len) {
    rq *q = ud;
    if (q->cancelled) q->calls_after_cancel++;
    if (q->paused) q->calls_while_paused++;
    if (q->body_calls++ == 0) q->t_first_body = ts_now();
    q->body = realloc(q->body, q->body_len + len + 1);
    memcpy(q->body + q->body_len, data, len);
    q->body_len += len;
    q->body[q->body_len] = '\0';
    if (q->cancel_other && !q->cancel_other->cancelled) {
        q->cancel_other->cancelled = true;
        up_cancel(q->cancel_other->req);
    }
    if (q->cancel_in_body) { q->cancelled = true; up_cancel(q->req); return 0; }
    if (q->abort_in_body) return 1;
    if (q->pause_every && q->body_len >= q->next_pause) {
        q->next_pause = q->body_len + q->pause_every;
        q->paused = true;
        q->pauses++;
        if (getenv("UP_DEBUG")) printf("pause at %zu, %.3f\n", q->body_len, ts_now());
        up_pause(q->req);
        uv_timer_start(&q->resume_timer, resume_cb, 150, 0);
    }
    return 0;
}

static void on_done(void *ud, up_result res, const char *msg) {
    rq *q = ud;
    if (q->cancelled) q->calls_after_cancel++;
    q->done++;
    q->res = res;
    q->t_done = ts_now();
    snprintf(q->msg, sizeof q->msg, "%s", msg);
    if (q->chain_left && --*q->chain_left > 0) {
        char url[96];
        snprintf(url, sizeof url, "%s/json?chain=%d", base, *q->chain_left);
        q->body_len = 0;
        CHECK(start(q->ul, q, "GET", url, NULL, 0, 0) != NULL);
    }
}

static void rq_free(rq *q) {
    free(q->body);
    q->body = NULL;
}

/* ------------------------------------------------------------- loop helpers */

typedef struct env {
    uv_loop_t loop;
    uv_timer_t guard; /* wakes uv_run(ONCE) so waits can time out */
    up_loop *ul;
} env;

static void guard_cb(uv_timer_t *t) { (void)t; }

static void env_open(env *e) {
    uv_loop_init(&e->loop);
    uv_timer_init(&e->loop, &e->guard);
    uv_timer_start(&e->guard, guard_cb, 5, 5);
    e->ul = up_loop_new(&e->loop);
    CHECK(e->ul != NULL);
}

/* Runs the loop until *count reaches target or ms pass. */
static void run_until(env *e, int *count, int target, int ms) {
    double end = ts_now() + ms / 1000.0;
    while ((!count || *count < target) && ts_now() < end) uv_run(&e->loop, UV_RUN_ONCE);
}

static void env_close(env *e) {
    up_loop_free(e->ul);
    uv_close((uv_handle_t *)&e->guard, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT); /* the close callbacks free the memory */
    CHECK(uv_loop_close(&e->loop) == 0);
}

static void url(char *out, size_t cap, const char *path) {
    snprintf(out, cap, "%s%s", base, path);
}

/* ----------------------------------------------------------------- cases */

static void test_json_and_headers(void) {
    env e;
    env_open(&e);
    rq a = {0}, b = {0};
    char u[96];
    url(u, sizeof u, "/json");
    CHECK(start(e.ul, &a, "GET", u, NULL, 0, 0));
    up_options o = {0};
    const char *hdrs[] = {"X-Test: hello there", "Accept: application/json"};
    url(u, sizeof u, "/headers");
    o.method = "GET";
    o.url = u;
    o.headers = hdrs;
    o.n_headers = 2;
    b.req = up_start(e.ul, &o, &callbacks, &b);
    CHECK(b.req);
    CHECK(a.done == 0 && a.heads == 0); /* nothing inside up_start */
    run_until(&e, &a.done, 1, 5000);
    run_until(&e, &b.done, 1, 5000);
    CHECK(a.done == 1 && a.res == UP_OK && a.status == 200 && a.heads == 1);
    CHECK(strcmp(a.content_type, "application/json") == 0);
    CHECK(a.body && strcmp(a.body, "{\"path\":\"/json\"}") == 0);
    CHECK(b.done == 1 && b.res == UP_OK && b.body && strcmp(b.body, "hello there") == 0);
    rq_free(&a);
    rq_free(&b);
    env_close(&e);
}

static void test_post_echo(void) {
    env e;
    env_open(&e);
    size_t n = 1536 * 1024; /* curl 7.88 adds Expect: 100-continue above 1 MiB */
    char *body = malloc(n);
    for (size_t i = 0; i < n; i++) body[i] = (char)('a' + i % 26);
    rq q = {0};
    char u[96];
    url(u, sizeof u, "/echo");
    CHECK(start(e.ul, &q, "POST", u, body, n, 0));
    run_until(&e, &q.done, 1, 5000);
    /* 417 would mean curl sent "Expect: 100-continue". */
    CHECK(q.done == 1 && q.res == UP_OK && q.status == 200);
    CHECK(q.body_len == n && q.body && memcmp(q.body, body, n) == 0);
    rq_free(&q);
    free(body);
    env_close(&e);
}

static void test_stream_incremental(void) {
    env e;
    env_open(&e);
    rq q = {0};
    char u[96];
    url(u, sizeof u, "/stream");
    CHECK(start(e.ul, &q, "GET", u, NULL, 0, 2000));
    run_until(&e, &q.done, 1, 5000);
    CHECK(q.done == 1 && q.res == UP_OK);
    CHECK(q.body && strcmp(q.body, "one\ntwo\nthree\n") == 0);
    double last = ts_stream_last_sent(srv);
    CHECK(q.body_calls >= 3);
    CHECK(q.t_first_body > 0 && q.t_first_body < last - 0.2); /* first chunk ~500 ms early */
    printf("stream: first body %.0f ms before the server sent the last chunk\n",
           (last - q.t_first_body) * 1000);
    rq_free(&q);
    env_close(&e);
}

static void test_errors(void) {
    env e;
    env_open(&e);
    /* A port nobody listens on. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    char u[96];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    rq refused = {0}, reset = {0}, stall = {0};
    CHECK(start(e.ul, &refused, "GET", u, NULL, 0, 0));
    url(u, sizeof u, "/reset");
    CHECK(start(e.ul, &reset, "GET", u, NULL, 0, 0));
    url(u, sizeof u, "/stall");
    double t0 = ts_now();
    CHECK(start(e.ul, &stall, "GET", u, NULL, 0, 300));
    run_until(&e, &refused.done, 1, 5000);
    run_until(&e, &reset.done, 1, 5000);
    run_until(&e, &stall.done, 1, 5000);
    CHECK(refused.done == 1 && refused.res == UP_ECONNECT && refused.heads == 0);
    printf("refused: %s (%s)\n", up_result_name(refused.res), refused.msg);
    CHECK(reset.done == 1 && reset.res == UP_ERESET && reset.status == 200);
    printf("reset: %s (%s) after %zu bytes\n", up_result_name(reset.res), reset.msg,
           reset.body_len);
    double idle = stall.t_done - t0;
    CHECK(stall.done == 1 && stall.res == UP_ETIMEOUT && stall.body && strcmp(stall.body, "x") == 0);
    CHECK(idle >= 0.28 && idle < 1.5);
    printf("idle timeout 300 ms: ended after %.0f ms (%s)\n", idle * 1000, stall.msg);
    rq_free(&refused);
    rq_free(&reset);
    rq_free(&stall);

    /* The whole-transfer timeout (curl's) maps to UP_ETIMEOUT too. */
    rq total = {0};
    up_options to = {.method = "GET", .url = u, .timeout_ms = 250};
    t0 = ts_now();
    CHECK((total.req = up_start(e.ul, &to, &callbacks, &total)));
    run_until(&e, &total.done, 1, 5000);
    CHECK(total.done == 1 && total.res == UP_ETIMEOUT);
    CHECK(total.t_done - t0 >= 0.2 && total.t_done - t0 < 1.5);
    printf("total timeout 250 ms: %s after %.0f ms (%s)\n", up_result_name(total.res),
           (total.t_done - t0) * 1000, total.msg);
    rq_free(&total);

    /* A name that cannot resolve (.invalid is reserved, RFC 6761). A resolver
     * that never answers would end in the connect timeout instead. */
    rq nx = {0};
    up_options no = {.method = "GET", .url = "http://sluice-test.invalid/",
                     .connect_timeout_ms = 3000};
    CHECK((nx.req = up_start(e.ul, &no, &callbacks, &nx)));
    run_until(&e, &nx.done, 1, 5000);
    CHECK(nx.done == 1 && (nx.res == UP_ECONNECT || nx.res == UP_ETIMEOUT));
    printf("unresolvable name: %s (%s)\n", up_result_name(nx.res), nx.msg);
    rq_free(&nx);

    /* Immediate failures: NULL and no callback. */
    rq bad = {0};
    CHECK(start(e.ul, &bad, "GET", "ftp://127.0.0.1/", NULL, 0, 0) == NULL);
    CHECK(start(e.ul, &bad, "GET", "not a url", NULL, 0, 0) == NULL);
    CHECK(start(e.ul, &bad, "GET", "http://[::1/", NULL, 0, 0) == NULL);
    CHECK(start(e.ul, &bad, "G\r\nET", base, NULL, 0, 0) == NULL);
    const char *inject[] = {"X-A: b\r\nX-Evil: 1"};
    up_options o = {.method = "GET", .url = base, .headers = inject, .n_headers = 1};
    CHECK(up_start(e.ul, &o, &callbacks, &bad) == NULL);
    run_until(&e, NULL, 0, 50);
    CHECK(bad.done == 0 && bad.heads == 0);
    env_close(&e);
}

static void test_interim_redirect_abort(void) {
    env e;
    env_open(&e);
    rq cont = {0}, redir = {0}, abrt = {0}, abrt_body = {0};
    char u[96];
    url(u, sizeof u, "/continue");
    CHECK(start(e.ul, &cont, "GET", u, NULL, 0, 0));
    url(u, sizeof u, "/redirect");
    CHECK(start(e.ul, &redir, "GET", u, NULL, 0, 0));
    abrt.abort_in_head = true;
    url(u, sizeof u, "/big");
    CHECK(start(e.ul, &abrt, "GET", u, NULL, 0, 0));
    abrt_body.abort_in_body = true;
    CHECK(start(e.ul, &abrt_body, "GET", u, NULL, 0, 0));
    run_until(&e, &cont.done, 1, 5000);
    run_until(&e, &abrt_body.done, 1, 5000);
    CHECK(abrt_body.done == 1 && abrt_body.res == UP_EABORTED && abrt_body.body_calls == 1);
    run_until(&e, &redir.done, 1, 5000);
    run_until(&e, &abrt.done, 1, 5000);
    CHECK(cont.done == 1 && cont.res == UP_OK && cont.heads == 1 && cont.status == 200);
    CHECK(strcmp(cont.x_final, "yes") == 0 && cont.body && strcmp(cont.body, "done") == 0);
    CHECK(redir.done == 1 && redir.res == UP_OK && redir.status == 302 && redir.heads == 1);
    CHECK(redir.body && strcmp(redir.body, "moved") == 0);
    CHECK(abrt.done == 1 && abrt.res == UP_EABORTED && abrt.body_calls == 0);
    rq_free(&cont);
    rq_free(&redir);
    rq_free(&abrt);
    rq_free(&abrt_body);
    env_close(&e);
}

static void test_pause_resume(void) {
    env e;
    env_open(&e);
    rq q = {0};
    q.pause_every = 256 * 1024;
    q.next_pause = 1;
    uv_timer_init(&e.loop, &q.resume_timer);
    q.resume_timer.data = &q;
    char u[96];
    url(u, sizeof u, "/big");
    double t0 = ts_now();
    CHECK(start(e.ul, &q, "GET", u, NULL, 0, 1000));
    run_until(&e, &q.done, 1, 10000);
    CHECK(q.done == 1 && q.res == UP_OK);
    CHECK(q.body_len == TS_BIG_LEN);
    size_t bad = 0;
    for (size_t i = 0; i < q.body_len && i < TS_BIG_LEN; i++)
        if ((unsigned char)q.body[i] != ts_big_byte(i)) bad++;
    CHECK(bad == 0);
    CHECK(q.calls_while_paused == 0);
    CHECK(q.pauses >= 4);
    /* Each pause lasts 150 ms; the idle timeout (1 s) must not count them. */
    CHECK(q.t_done - t0 >= 0.15 * q.pauses);
    printf("pause/resume: %d pauses, %zu bytes intact, %.0f ms\n", q.pauses, q.body_len,
           (q.t_done - t0) * 1000);
    uv_close((uv_handle_t *)&q.resume_timer, NULL);
    rq_free(&q);
    env_close(&e);
}

static void test_cancel(void) {
    env e;
    env_open(&e);
    rq in_body = {0}, in_head = {0}, outside = {0}, killer = {0}, victim = {0};
    in_body.cancel_in_body = true;
    killer.cancel_other = &victim; /* cancels another request from its on_body */
    in_head.cancel_in_head = true;
    char u[96];
    url(u, sizeof u, "/stream");
    CHECK(start(e.ul, &in_body, "GET", u, NULL, 0, 0));
    url(u, sizeof u, "/big");
    CHECK(start(e.ul, &in_head, "GET", u, NULL, 0, 0));
    url(u, sizeof u, "/stall");
    CHECK(start(e.ul, &outside, "GET", u, NULL, 0, 0));
    double t_victim = ts_now();
    CHECK(start(e.ul, &victim, "GET", u, NULL, 0, 0));
    run_until(&e, &victim.body_calls, 1, 3000);
    /* Two streams to one http host run side by side: the second must not
     * queue behind the first's busy HTTP/1.1 connection (CURLOPT_PIPEWAIT). */
    CHECK(victim.body_calls == 1 && ts_now() - t_victim < 1.0);
    url(u, sizeof u, "/json?killer");
    CHECK(start(e.ul, &killer, "GET", u, NULL, 0, 0));
    run_until(&e, &killer.done, 1, 3000);
    CHECK(killer.res == UP_OK && victim.calls_after_cancel == 0 && victim.done == 0);
    run_until(&e, &outside.body_calls, 1, 3000);
    outside.cancelled = true;
    up_cancel(outside.req);
    run_until(&e, NULL, 0, 800); /* /stream would have finished by now */
    CHECK(in_body.body_calls == 1 && in_body.calls_after_cancel == 0 && in_body.done == 0);
    CHECK(in_head.heads == 1 && in_head.calls_after_cancel == 0 && in_head.done == 0);
    CHECK(outside.calls_after_cancel == 0 && outside.done == 0);
    /* A request started right after still works (the loop is healthy). */
    rq after = {0};
    url(u, sizeof u, "/json");
    CHECK(start(e.ul, &after, "GET", u, NULL, 0, 0));
    run_until(&e, &after.done, 1, 3000);
    CHECK(after.res == UP_OK && after.status == 200);
    rq_free(&in_body);
    rq_free(&in_head);
    rq_free(&outside);
    rq_free(&after);
    rq_free(&killer);
    rq_free(&victim);
    env_close(&e);
}

/* up_start from inside on_head (curl on the stack): the add is deferred. */
static void test_start_in_callback(void) {
    env e;
    env_open(&e);
    rq parent = {0}, child = {0};
    char u[96], cu[96];
    url(u, sizeof u, "/json?parent");
    url(cu, sizeof cu, "/json?child");
    parent.start_in_head = true;
    parent.child = &child;
    parent.child_url = cu;
    CHECK(start(e.ul, &parent, "GET", u, NULL, 0, 0));
    run_until(&e, &parent.done, 1, 3000);
    run_until(&e, &child.done, 1, 3000);
    CHECK(parent.res == UP_OK && child.done == 1 && child.res == UP_OK);
    CHECK(child.body && strcmp(child.body, "{\"path\":\"/json?child\"}") == 0);
    rq_free(&parent);
    rq_free(&child);
    env_close(&e);
}

/* Runs the loop until all n requests are done (or ms pass), then counts
 * those that got {"path":"/json?i=<index>"} and frees their bodies. */
static int wait_json_batch(env *e, rq *qs, int n, int ms) {
    double end = ts_now() + ms / 1000.0;
    int done = 0;
    while (done < n && ts_now() < end) {
        uv_run(&e->loop, UV_RUN_ONCE);
        done = 0;
        for (int i = 0; i < n; i++) done += qs[i].done;
    }
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char want[64];
        snprintf(want, sizeof want, "{\"path\":\"/json?i=%d\"}", i);
        if (qs[i].done == 1 && qs[i].res == UP_OK && qs[i].status == 200 && qs[i].body &&
            strcmp(qs[i].body, want) == 0)
            ok++;
        else
            fprintf(stderr, "request %d: %s %s\n", i, up_result_name(qs[i].res), qs[i].msg);
        rq_free(&qs[i]);
    }
    return ok;
}

static void test_many_and_reuse(void) {
    env e;
    env_open(&e);
    up_loop_set_max_host_connections(e.ul, 6);
    enum { N = 100 };
    static rq qs[N];
    memset(qs, 0, sizeof qs);
    int before = ts_connections(srv);
    double t0 = ts_now();
    for (int i = 0; i < N; i++) {
        char u[96];
        snprintf(u, sizeof u, "%s/json?i=%d", base, i);
        CHECK(start(e.ul, &qs[i], "GET", u, NULL, 0, 0));
    }
    int ok = wait_json_batch(&e, qs, N, 10000);
    int conns = ts_connections(srv) - before;
    CHECK(ok == N);
    CHECK(conns >= 1 && conns <= 6);
    printf("concurrent: %d/%d ok over %d connections in %.0f ms\n", ok, N, conns,
           (ts_now() - t0) * 1000);

    /* Sequential requests, each started in the previous one's on_done. */
    int left = 30;
    rq chain = {0};
    chain.chain_left = &left;
    char u[96];
    url(u, sizeof u, "/json?chain=start");
    before = ts_connections(srv);
    CHECK(start(e.ul, &chain, "GET", u, NULL, 0, 0));
    double end = ts_now() + 10;
    while (left > 0 && ts_now() < end) uv_run(&e.loop, UV_RUN_ONCE);
    CHECK(left == 0 && chain.res == UP_OK);
    conns = ts_connections(srv) - before;
    CHECK(conns == 0); /* all reused from the idle pool */
    printf("sequential: 30 requests, %d new connections\n", conns);
    rq_free(&chain);
    env_close(&e);
}

/* The upstream closes an idle keep-alive connection: the loop must not spin on
 * the socket (it stays watched between transfers, and EOF is level-triggered),
 * and the next request must get a fresh connection. */
static void test_idle_close(void) {
    env e;
    env_open(&e);
    rq a = {0}, b = {0};
    char u[96];
    url(u, sizeof u, "/closeidle");
    CHECK(start(e.ul, &a, "GET", u, NULL, 0, 0));
    run_until(&e, &a.done, 1, 5000);
    CHECK(a.done == 1 && a.res == UP_OK && a.status == 200);
    int before = ts_connections(srv);
    /* 300 ms with the closed connection parked: the 5 ms guard timer alone
     * makes about 60 loop iterations; a spinning readable socket, thousands. */
    int iters = 0;
    double end = ts_now() + 0.3;
    while (ts_now() < end) { uv_run(&e.loop, UV_RUN_ONCE); iters++; }
    CHECK(iters < 1000);
    url(u, sizeof u, "/json?after=close");
    CHECK(start(e.ul, &b, "GET", u, NULL, 0, 0));
    run_until(&e, &b.done, 1, 5000);
    CHECK(b.done == 1 && b.res == UP_OK && b.status == 200);
    CHECK(ts_connections(srv) == before + 1);
    printf("idle close: %d loop iterations in 300 ms, next request on a new connection\n", iters);
    rq_free(&a);
    rq_free(&b);
    env_close(&e);
}

/* up_loop_free with requests in flight: no callback, nothing leaked. */
static void test_free_in_flight(void) {
    env e;
    env_open(&e);
    rq qs[6] = {{0}};
    char u[96];
    for (int i = 0; i < 6; i++) {
        url(u, sizeof u, i % 2 ? "/stall" : "/stream");
        CHECK(start(e.ul, &qs[i], "GET", u, NULL, 0, 0));
    }
    run_until(&e, NULL, 0, 100);
    up_loop_free(e.ul);
    e.ul = up_loop_new(&e.loop); /* env_close frees this one */
    run_until(&e, NULL, 0, 700);
    for (int i = 0; i < 6; i++) {
        CHECK(qs[i].done == 0);
        rq_free(&qs[i]);
    }
    env_close(&e);
}

/* ------------------------------------------------------------------ TLS */

/* Servers run as child processes (ts_spawn): `openssl s_server` (HTTP/1.x
 * over TLS) and tests/upstream/tls_server.js (HTTP/2 or HTTPS/1.1), in
 * tls_dir with the certificates. */
static ts_child kids[3];
static char tls_dir[64];

static void tls_cleanup(void) {
    for (int i = 0; i < 3; i++) ts_child_stop(&kids[i]);
    ts_rmdir(tls_dir);
}

/* Makes a throwaway CA and a server cert for 127.0.0.1 in tls_dir. */
static bool tls_make_certs(void) {
    snprintf(tls_dir, sizeof tls_dir, "/tmp/sluice-up-tls-XXXXXX");
    if (!mkdtemp(tls_dir)) { tls_dir[0] = '\0'; return false; }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "(cd '%s' && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout ca.key -out ca.crt -days 1 -subj /CN=SluiceTestCA && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 && "
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext && "
             "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out srv.crt -days 1 -extfile ext && "
             "printf 'HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nhello tls\\n' "
             "> ok.txt) >/dev/null 2>&1", tls_dir);
    return system(cmd) == 0;
}

static void test_tls(int port) {
    env e;
    env_open(&e);
    char u[96], ca[128];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/ok.txt", port);
    snprintf(ca, sizeof ca, "%s/ca.crt", tls_dir);
    rq untrusted = {0}, trusted = {0};
    up_options o = {.method = "GET", .url = u};
    CHECK((untrusted.req = up_start(e.ul, &o, &callbacks, &untrusted)));
    run_until(&e, &untrusted.done, 1, 5000);
    CHECK(untrusted.done == 1 && untrusted.res == UP_ETLS && untrusted.heads == 0);
    printf("tls without the CA: %s (%s)\n", up_result_name(untrusted.res), untrusted.msg);
    o.ca_file = ca;
    CHECK((trusted.req = up_start(e.ul, &o, &callbacks, &trusted)));
    run_until(&e, &trusted.done, 1, 5000);
    CHECK(trusted.done == 1 && trusted.res == UP_OK && trusted.status == 200);
    CHECK(trusted.body && strcmp(trusted.body, "hello tls\n") == 0);
    printf("tls with the CA: %s, status %d\n", up_result_name(trusted.res), trusted.status);
    rq_free(&untrusted);
    rq_free(&trusted);
    env_close(&e);
}

/* Starts a request with the test CA trusted. */
static up_req *start_ca(up_loop *ul, rq *q, const char *u) {
    char ca[128];
    snprintf(ca, sizeof ca, "%s/ca.crt", tls_dir);
    up_options o = {.method = "GET", .url = u, .ca_file = ca, .timeout_ms = 20000};
    q->ul = ul;
    return q->req = up_start(ul, &o, &callbacks, q);
}

/* HTTP/2 over TLS: the server speaks only h2, so success proves ALPN; many
 * concurrent streams share one connection; pause and cancel work per stream. */
static void test_h2(int port) {
    env e;
    env_open(&e);
    enum { N = 20 };
    rq qs[N], big = {0}, cancelled = {0}, sessions = {0};
    memset(qs, 0, sizeof qs);
    char u[96];
    big.pause_every = 128 * 1024;
    big.next_pause = 1;
    uv_timer_init(&e.loop, &big.resume_timer);
    big.resume_timer.data = &big;
    cancelled.cancel_in_body = true;
    snprintf(u, sizeof u, "https://127.0.0.1:%d/big", port);
    CHECK(start_ca(e.ul, &big, u));
    CHECK(start_ca(e.ul, &cancelled, u));
    for (int i = 0; i < N; i++) {
        snprintf(u, sizeof u, "https://127.0.0.1:%d/json?i=%d", port, i);
        CHECK(start_ca(e.ul, &qs[i], u));
    }
    int ok = wait_json_batch(&e, qs, N, 10000);
    run_until(&e, &big.done, 1, 5000);
    CHECK(ok == N);
    CHECK(big.done == 1 && big.res == UP_OK && big.body_len == TS_BIG_LEN);
    size_t bad = 0;
    for (size_t i = 0; i < big.body_len && i < TS_BIG_LEN; i++)
        if ((unsigned char)big.body[i] != ts_big_byte(i)) bad++;
    /* curl 7.88 keeps delivering what an h2 peer already sent within the
     * stream window after a pause: upstream.c holds it, so fewer, larger
     * deliveries than over HTTP/1.1, but never one while paused. */
    CHECK(bad == 0 && big.calls_while_paused == 0 && big.pauses >= 2);
    CHECK(cancelled.body_calls == 1 && cancelled.calls_after_cancel == 0 && !cancelled.done);
    snprintf(u, sizeof u, "https://127.0.0.1:%d/sessions", port);
    CHECK(start_ca(e.ul, &sessions, u));
    run_until(&e, &sessions.done, 1, 5000);
    CHECK(sessions.res == UP_OK && sessions.body && strcmp(sessions.body, "1") == 0);
    printf("h2: %d/%d streams ok, big body %zu bytes with %d pauses, %s connection(s)\n", ok, N,
           big.body_len, big.pauses, sessions.body ? sessions.body : "?");
    uv_close((uv_handle_t *)&big.resume_timer, NULL);
    rq_free(&big);
    rq_free(&cancelled);
    rq_free(&sessions);
    env_close(&e);
}

/* HTTPS to an HTTP/1.1-only server: requests started together must not wait
 * for one another's connection once ALPN said "no multiplexing". */
static void test_https_h1(int port) {
    env e;
    env_open(&e);
    rq stall = {0}, json = {0};
    char u[96];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/stall", port);
    double t0 = ts_now();
    CHECK(start_ca(e.ul, &stall, u));
    snprintf(u, sizeof u, "https://127.0.0.1:%d/json?i=0", port);
    CHECK(start_ca(e.ul, &json, u));
    run_until(&e, &json.done, 1, 3000);
    run_until(&e, &stall.body_calls, 1, 3000);
    double took = ts_now() - t0;
    CHECK(json.res == UP_OK && json.body && strcmp(json.body, "{\"path\":\"/json?i=0\"}") == 0);
    CHECK(stall.body_calls == 1 && stall.done == 0 && took < 1.5);
    printf("https/1.1: a request beside a stalled stream took %.0f ms\n", took * 1000);
    stall.cancelled = true;
    up_cancel(stall.req);
    rq_free(&stall);
    rq_free(&json);
    env_close(&e);
}

/* The TLS cases, skipped (with a note) when a tool is missing. */
static void test_tls_all(void) {
    if (!tls_make_certs()) {
        printf("tls: cannot make certificates with openssl, TLS cases skipped\n");
        tls_cleanup();
        return;
    }
    char *ossl[] = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", "srv.crt",
                    "-key", "srv.key", "-HTTP", NULL};
    int port = ts_spawn(&kids[0], tls_dir, ossl, "ACCEPT 127.0.0.1:%d");
    if (port) test_tls(port);
    else printf("tls: openssl s_server did not start, skipped\n");
    char script[600];
    char cwd[512];
    snprintf(script, sizeof script, "%s/tests/upstream/tls_server.js",
             getcwd(cwd, sizeof cwd) ? cwd : ".");
    char *node[] = {"node", script, "srv.crt", "srv.key", NULL};
    port = ts_spawn(&kids[1], tls_dir, node, "PORT %d");
    if (port) test_h2(port);
    else printf("h2: node did not start, HTTP/2 cases skipped\n");
    char *node1[] = {"node", script, "srv.crt", "srv.key", "h1", NULL};
    port = ts_spawn(&kids[2], tls_dir, node1, "PORT %d");
    if (port) test_https_h1(port);
    else printf("https/1.1: node did not start, case skipped\n");
    tls_cleanup();
}

/* Killed by the runner's timeout: still remove the temp dir and children
 * (exit() runs the atexit handler; good enough for a test program). */
static void on_term(int sig) {
    (void)sig;
    exit(3);
}

#define RUN(f) (printf("== %s\n", #f), f())

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN); /* as the gateway does: OpenSSL writes may raise it */
    callbacks = (up_callbacks){on_head, on_body, on_done};
    atexit(tls_cleanup);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    srv = ts_start();
    if (!srv) { fprintf(stderr, "cannot start the test server\n"); return 1; }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", ts_port(srv));
    double t0 = ts_now();
    RUN(test_json_and_headers);
    RUN(test_post_echo);
    RUN(test_stream_incremental);
    RUN(test_errors);
    RUN(test_interim_redirect_abort);
    RUN(test_pause_resume);
    RUN(test_cancel);
    RUN(test_start_in_callback);
    RUN(test_many_and_reuse);
    RUN(test_idle_close);
    RUN(test_free_in_flight);
    RUN(test_tls_all);
    ts_stop(srv);
    printf("total %.1f s\n", ts_now() - t0);
    if (failures) { fprintf(stderr, "%d failure(s)\n", failures); return 1; }
    printf("test_upstream: all passed\n");
    return 0;
}
