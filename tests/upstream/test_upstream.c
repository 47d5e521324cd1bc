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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
    bool cancel_in_head, cancel_in_body, abort_in_head, start_in_head;
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
    if (q->cancel_in_body) { q->cancelled = true; up_cancel(q->req); return 0; }
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
    size_t n = 200 * 1024;
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
    rq cont = {0}, redir = {0}, abrt = {0};
    char u[96];
    url(u, sizeof u, "/continue");
    CHECK(start(e.ul, &cont, "GET", u, NULL, 0, 0));
    url(u, sizeof u, "/redirect");
    CHECK(start(e.ul, &redir, "GET", u, NULL, 0, 0));
    abrt.abort_in_head = true;
    url(u, sizeof u, "/big");
    CHECK(start(e.ul, &abrt, "GET", u, NULL, 0, 0));
    run_until(&e, &cont.done, 1, 5000);
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
    rq in_body = {0}, in_head = {0}, outside = {0};
    in_body.cancel_in_body = true;
    in_head.cancel_in_head = true;
    char u[96];
    url(u, sizeof u, "/stream");
    CHECK(start(e.ul, &in_body, "GET", u, NULL, 0, 0));
    url(u, sizeof u, "/big");
    CHECK(start(e.ul, &in_head, "GET", u, NULL, 0, 0));
    url(u, sizeof u, "/stall");
    CHECK(start(e.ul, &outside, "GET", u, NULL, 0, 0));
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
    double end = ts_now() + 10;
    int done = 0;
    while (done < N && ts_now() < end) {
        uv_run(&e.loop, UV_RUN_ONCE);
        done = 0;
        for (int i = 0; i < N; i++) done += qs[i].done;
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        char want[64];
        snprintf(want, sizeof want, "{\"path\":\"/json?i=%d\"}", i);
        if (qs[i].done == 1 && qs[i].res == UP_OK && qs[i].body && strcmp(qs[i].body, want) == 0)
            ok++;
        rq_free(&qs[i]);
    }
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
    end = ts_now() + 10;
    while (left > 0 && ts_now() < end) uv_run(&e.loop, UV_RUN_ONCE);
    CHECK(left == 0 && chain.res == UP_OK);
    conns = ts_connections(srv) - before;
    CHECK(conns == 0); /* all reused from the idle pool */
    printf("sequential: 30 requests, %d new connections\n", conns);
    rq_free(&chain);
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

static pid_t tls_pid;
static char tls_dir[64];

static void tls_cleanup(void) {
    if (tls_pid > 0) {
        kill(tls_pid, SIGTERM);
        waitpid(tls_pid, NULL, 0);
        tls_pid = 0;
    }
    if (tls_dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tls_dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tls_dir);
        tls_dir[0] = '\0';
    }
}

/* Makes a CA and a server cert for 127.0.0.1, starts openssl s_server.
 * Returns its port, or 0 if openssl is not usable. */
static int tls_start(void) {
    snprintf(tls_dir, sizeof tls_dir, "/tmp/sluice-up-tls-XXXXXX");
    if (!mkdtemp(tls_dir)) { tls_dir[0] = '\0'; return 0; }
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
    if (system(cmd) != 0) return 0;
    char out[128];
    snprintf(out, sizeof out, "%s/s_server.out", tls_dir);
    tls_pid = fork();
    if (tls_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        if (!freopen(out, "w", stdout) || !freopen("/dev/null", "w", stderr) ||
            chdir(tls_dir) != 0)
            _exit(127);
        execlp("openssl", "openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", "srv.crt",
               "-key", "srv.key", "-HTTP", (char *)NULL);
        _exit(127);
    }
    /* s_server prints "ACCEPT 127.0.0.1:PORT" once it listens. */
    int port = 0;
    for (int i = 0; i < 500 && !port; i++) {
        usleep(10000);
        FILE *f = fopen(out, "r");
        char line[256];
        while (f && !port && fgets(line, sizeof line, f))
            if (sscanf(line, "ACCEPT 127.0.0.1:%d", &port) != 1) port = 0;
        if (f) fclose(f);
    }
    return port;
}

static void test_tls(void) {
    int port = tls_start();
    if (!port) {
        printf("tls: openssl s_server unavailable, TLS cases skipped\n");
        tls_cleanup();
        return;
    }
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
    tls_cleanup();
}

#define RUN(f) (printf("== %s\n", #f), f())

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    callbacks = (up_callbacks){on_head, on_body, on_done};
    atexit(tls_cleanup);
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
    RUN(test_free_in_flight);
    RUN(test_tls);
    ts_stop(srv);
    printf("total %.1f s\n", ts_now() - t0);
    if (failures) { fprintf(stderr, "%d failure(s)\n", failures); return 1; }
    printf("test_upstream: all passed\n");
    return 0;
}
