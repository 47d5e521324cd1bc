/*
 * test_upstream_mock.c - the upstream client and the SSE parser together
 * against the project's mock provider ($SLUICE_BUILD/sluice-mockllm): real
 * OpenAI and Anthropic streams, faults, a 32 MiB stream under backpressure.
 * Skipped (77) when the mock is not built.
 */
#include "http/upstream.h"
#include "provider/sse.h"
#include "test_server.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); failures++; } \
    } while (0)

static uv_loop_t loop;
static up_loop *ul;
static char base[64];

/* One streamed request and what the SSE parser made of it. */
typedef struct stream {
    up_req *req;
    sse_parser sse;
    int sse_rc;
    int events;
    char first_event[64], last_event[64], last_data[128];
    size_t data_bytes, body_bytes;
    int status, done;
    up_result res;
    char msg[256];
    bool pending_at_end;
    /* backpressure: pause for 20 ms after every pause_every body bytes */
    size_t pause_every, next_pause;
    bool paused;
    int pauses, calls_while_paused;
    uv_timer_t resume;
} stream;

static int on_event(void *ud, const char *ev, size_t ev_len, const char *data, size_t len) {
    stream *s = ud;
    if (s->events++ == 0) snprintf(s->first_event, sizeof s->first_event, "%.*s", (int)ev_len, ev);
    snprintf(s->last_event, sizeof s->last_event, "%.*s", (int)ev_len, ev);
    snprintf(s->last_data, sizeof s->last_data, "%.*s", (int)(len < 100 ? len : 100), data);
    s->data_bytes += len;
    return 0;
}

static int on_head(void *ud, int status, const up_header *h, size_t n) {
    (void)h;
    (void)n;
    ((stream *)ud)->status = status;
    return 0;
}

static void resume_cb(uv_timer_t *t) {
    stream *s = t->data;
    s->paused = false;
    up_resume(s->req);
}

static int on_body(void *ud, const char *data, size_t len) {
    stream *s = ud;
    if (s->paused) s->calls_while_paused++;
    s->body_bytes += len;
    s->sse_rc = sse_feed(&s->sse, data, len);
    if (s->sse_rc) return 1;
    if (s->pause_every && s->body_bytes >= s->next_pause) {
        s->next_pause = s->body_bytes + s->pause_every;
        s->paused = true;
        s->pauses++;
        up_pause(s->req);
        uv_timer_start(&s->resume, resume_cb, 20, 0);
    }
    return 0;
}

static void on_done(void *ud, up_result res, const char *msg) {
    stream *s = ud;
    s->done++;
    s->res = res;
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    s->pending_at_end = sse_finish(&s->sse);
}

static const up_callbacks callbacks = {on_head, on_body, on_done};

static void timer_closed(uv_handle_t *h) {
    h->data = h; /* any non-NULL: closed */
}

/* POSTs `body` to path with the extra headers (NULL-terminated list) and runs
 * the loop until the request ends (at most 20 s). */
static void run_stream(stream *s, const char *path, const char *body, const char *const *extra,
                       long idle_ms) {
    const char *hdrs[12] = {"Content-Type: application/json"};
    size_t n = 1;
    for (; extra && extra[n - 1] && n < 12; n++) hdrs[n] = extra[n - 1];
    char url[128];
    snprintf(url, sizeof url, "%s%s", base, path);
    up_options o = {.method = "POST", .url = url, .headers = hdrs, .n_headers = n,
                    .body = body, .body_len = strlen(body), .idle_timeout_ms = idle_ms,
                    .timeout_ms = 20000};
    sse_init(&s->sse, 1 << 20, on_event, s);
    uv_timer_init(&loop, &s->resume);
    s->resume.data = s;
    s->next_pause = s->pause_every;
    s->req = up_start(ul, &o, &callbacks, s);
    CHECK(s->req != NULL);
    double end = ts_now() + 20;
    while (s->req && !s->done && ts_now() < end) uv_run(&loop, UV_RUN_ONCE);
    /* s lives on the caller's stack: wait until libuv is done with the timer. */
    s->resume.data = NULL;
    uv_close((uv_handle_t *)&s->resume, timer_closed);
    while (!s->resume.data) uv_run(&loop, UV_RUN_ONCE);
    sse_free(&s->sse);
}

static const char OPENAI_BODY[] =
    "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
static const char ANTHROPIC_BODY[] =
    "{\"model\":\"claude-3-5-haiku\",\"max_tokens\":100,\"stream\":true,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

static void test_openai_stream(void) {
    stream s = {0};
    const char *h[] = {"x-mock-words: 50", NULL};
    run_stream(&s, "/v1/chat/completions", OPENAI_BODY, h, 2000);
    CHECK(s.done == 1 && s.res == UP_OK && s.status == 200 && s.sse_rc == 0);
    CHECK(s.events >= 52 && strcmp(s.last_data, "[DONE]") == 0 && !s.pending_at_end);
    printf("openai stream: %d events, last %s\n", s.events, s.last_data);
}

static void test_anthropic_stream(void) {
    stream s = {0};
    const char *h[] = {"x-mock-words: 20", "x-api-key: test", "anthropic-version: 2023-06-01",
                       NULL};
    run_stream(&s, "/v1/messages", ANTHROPIC_BODY, h, 2000);
    CHECK(s.done == 1 && s.res == UP_OK && s.status == 200 && s.sse_rc == 0);
    CHECK(strcmp(s.first_event, "message_start") == 0 && strcmp(s.last_event, "message_stop") == 0);
    CHECK(s.events >= 26 && !s.pending_at_end);
    printf("anthropic stream: %d events, %s ... %s\n", s.events, s.first_event, s.last_event);
}

static void test_faults(void) {
    stream reset = {0}, stall = {0}, limited = {0}, bad = {0};
    const char *hr[] = {"x-mock-fault: reset-mid-stream", NULL};
    run_stream(&reset, "/v1/chat/completions", OPENAI_BODY, hr, 2000);
    CHECK(reset.done == 1 && reset.res == UP_ERESET && reset.status == 200 && reset.events >= 1);
    printf("reset-mid-stream: %s after %d events (%s)\n", up_result_name(reset.res), reset.events,
           reset.msg);

    const char *hs[] = {"x-mock-fault: stall-mid-stream", NULL};
    double t0 = ts_now();
    run_stream(&stall, "/v1/chat/completions", OPENAI_BODY, hs, 300);
    double took = ts_now() - t0;
    CHECK(stall.done == 1 && stall.res == UP_ETIMEOUT && stall.events >= 1);
    CHECK(took >= 0.28 && took < 2.0);
    printf("stall-mid-stream, idle 300 ms: %s after %.0f ms\n", up_result_name(stall.res),
           took * 1000);

    const char *hl[] = {"x-mock-fault: 429", NULL};
    run_stream(&limited, "/v1/chat/completions", OPENAI_BODY, hl, 0);
    CHECK(limited.done == 1 && limited.res == UP_OK && limited.status == 429);

    /* Garbage framing: the parser copes, the transfer completes. */
    const char *hm[] = {"x-mock-fault: malformed-sse", NULL};
    run_stream(&bad, "/v1/chat/completions", OPENAI_BODY, hm, 2000);
    CHECK(bad.done == 1 && bad.res == UP_OK && bad.status == 200 && bad.sse_rc == 0);
}

/* 32 MiB in 512 events of 64 KiB, paused every 4 MiB: nothing lost. */
static void test_huge_with_backpressure(void) {
    stream s = {0};
    s.pause_every = 4 << 20;
    const char *h[] = {"x-mock-fault: huge", NULL};
    double t0 = ts_now();
    run_stream(&s, "/v1/chat/completions", OPENAI_BODY, h, 5000);
    CHECK(s.done == 1 && s.res == UP_OK && s.sse_rc == 0);
    CHECK(s.data_bytes > (32u << 20) && strcmp(s.last_data, "[DONE]") == 0);
    CHECK(s.pauses >= 7 && s.calls_while_paused == 0);
    printf("huge stream: %zu body bytes, %d events, %d pauses, %.0f ms\n", s.body_bytes, s.events,
           s.pauses, (ts_now() - t0) * 1000);
}

/* Non-streamed completions with `conc` in flight at a time, to measure
 * requests per second on one loop and the connections they needed. */
typedef struct bench {
    int started, finished, ok, total;
    const char *url;
    char body[512]; /* last response body (for /mock/stats) */
    size_t len;
} bench;

static void bench_next(bench *b);

static int bench_body(void *ud, const char *data, size_t len) {
    bench *b = ud;
    size_t n = len < sizeof b->body - 1 - b->len ? len : sizeof b->body - 1 - b->len;
    memcpy(b->body + b->len, data, n);
    b->len += n;
    b->body[b->len] = '\0';
    return 0;
}

static void bench_done(void *ud, up_result res, const char *msg) {
    (void)msg;
    bench *b = ud;
    b->finished++;
    if (res == UP_OK) b->ok++;
    if (b->started < b->total) bench_next(b);
}

static void bench_next(bench *b) {
    static const char *hdrs[] = {"Content-Type: application/json"};
    static const up_callbacks cb = {NULL, bench_body, bench_done};
    bool get = strstr(b->url, "/mock/") != NULL;
    up_options o = {.method = get ? "GET" : "POST", .url = b->url, .headers = hdrs,
                    .n_headers = 1, .body = get ? NULL : OPENAI_BODY,
                    .body_len = get ? 0 : strlen(OPENAI_BODY)};
    b->started++;
    b->len = 0;
    if (!up_start(ul, &o, &cb, b)) b->finished++;
}

/* Runs `total` requests to path, `conc` at a time; returns the seconds taken. */
static double bench_run(bench *b, const char *path, int total, int conc) {
    char url[128];
    snprintf(url, sizeof url, "%s%s", base, path);
    *b = (bench){.total = total, .url = url};
    double t0 = ts_now();
    for (int i = 0; i < conc && b->started < total; i++) bench_next(b);
    while (b->finished < total && ts_now() < t0 + 20) uv_run(&loop, UV_RUN_ONCE);
    return ts_now() - t0;
}

/* Parses "connections_accepted":N out of /mock/stats. */
static int mock_connections(void) {
    bench st;
    bench_run(&st, "/mock/stats", 1, 1);
    const char *p = strstr(st.body, "\"connections_accepted\":");
    return p ? atoi(p + 23) : -1;
}

static void test_throughput(void) {
    bench b;
    int before = mock_connections();
    double secs = bench_run(&b, "/v1/chat/completions", 4000, 32);
    int conns = mock_connections() - before;
    CHECK(b.ok == 4000 && before >= 0 && conns >= 1 && conns <= 33);
    printf("throughput: %d/%d completions, 32 in flight, %.0f req/s on one loop, "
           "%d new connections\n", b.ok, b.total, b.total / secs, conns);
}

static char tmp_dir[64];
static ts_child mock;

static void cleanup(void) {
    ts_child_stop(&mock);
    ts_rmdir(tmp_dir);
}

static void on_term(int sig) {
    (void)sig;
    exit(3); /* runs cleanup() */
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    const char *build = getenv("SLUICE_BUILD") ? getenv("SLUICE_BUILD") : "build";
    char bin[1024], cwd[512];
    if (!getcwd(cwd, sizeof cwd)) return 1;
    snprintf(bin, sizeof bin, "%s/%s/sluice-mockllm", build[0] == '/' ? "" : cwd, build);
    if (access(bin, X_OK) != 0) {
        printf("skip: %s not built\n", bin);
        return 77;
    }
    atexit(cleanup);
    signal(SIGTERM, on_term);
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/sluice-up-mock-XXXXXX");
    if (!mkdtemp(tmp_dir)) return 1;
    char *argv[] = {bin, "--listen", "127.0.0.1:0", NULL};
    int port = ts_spawn(&mock, tmp_dir, argv, "sluice-mockllm %*s listening on 127.0.0.1:%d");
    if (!port) { fprintf(stderr, "sluice-mockllm did not start\n"); return 1; }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    uv_loop_init(&loop);
    ul = up_loop_new(&loop);
    test_openai_stream();
    test_anthropic_stream();
    test_faults();
    test_huge_with_backpressure();
    test_throughput();
    up_loop_free(ul);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    if (failures) { fprintf(stderr, "%d failure(s)\n", failures); return 1; }
    printf("test_upstream_mock: all passed\n");
    return 0;
}
