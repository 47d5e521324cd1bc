/*
 * tests/plugin/test_plugin_wasm.c - drives the plugin host directly with the
 * example plugins (examples/plugins/c/testplug.c in its build variants):
 * every hook's JSON in and out (the plugin echoes its input into the
 * context), allocator families and free arities, plugin_reset, get_name,
 * init failure, unknown imports, each sandbox failure, cooldown, workers.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plugin/plugin_int.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static char dir[512];
static char logbuf[16384];
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void test_log(void *user, const char *line)
{
    (void)user;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(logbuf);
    if (n + strlen(line) + 2 < sizeof logbuf) { strcat(logbuf, line); strcat(logbuf, "\n"); }
    else { logbuf[0] = '\0'; }
    pthread_mutex_unlock(&log_mu);
}

static const char *wasm(const char *name)
{
    static char path[8][600];
    static int k;
    k = (k + 1) % 8;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static plg_spec spec(const char *file, const char *config)
{
    plg_spec s = {.name = file, .path = wasm(file), .config_json = config, .enabled = true, .timeout_ms = 200};
    return s;
}

static plg_set *load1(plg_spec s, unsigned workers)
{
    char err[512];
    plg_set *set = plg_set_load(&s, 1, workers, err, sizeof err);
    if (!set) fprintf(stderr, "load %s: %s\n", s.path, err);
    else plg_set_log(set, test_log, NULL);
    return set;
}

static void make_req(sluice_http_request *r, const char *path, const char *body)
{
    memset(r, 0, sizeof *r);
    r->method = strdup("POST");
    r->path = strdup(path);
    sluice_map_set(&r->headers, "Content-Type", "application/json");
    sluice_map_set(&r->headers, "X-Trace", "abc");
    sluice_map_set(&r->query, "q", "1");
    sluice_body_set(&r->body, &r->body_len, body, strlen(body));
}

static sj_doc *parse(const char *s)
{
    sj_doc *d = sj_parse(s, strlen(s), NULL, NULL);
    if (!d) { fprintf(stderr, "bad test JSON %s\n", s); exit(1); }
    return d;
}

/* ctx[key] as a path "a.b.c" into objects. */
static const sj_val *ctx_path(const sluice_ctx *ctx, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const sj_val *v = sj_doc_root(ctx->doc);
    for (char *save, *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) v = sj_get(v, tok);
    return v;
}

static int64_t ctx_int(const sluice_ctx *ctx, const char *path)
{
    int64_t n = -1;
    sj_i64(ctx_path(ctx, path), &n);
    return n;
}

/* One http_pre_hook run with a fresh request; returns the decision. */
static plg_decision http_pre_once(plg_set *set, unsigned worker, const char *path, sluice_ctx *ctx,
                                  sluice_http_request *req, sluice_http_response *resp)
{
    size_t ran;
    plg_ctx_init(ctx, "req-1");
    make_req(req, path, "{\"model\":\"m\"}");
    memset(resp, 0, sizeof *resp);
    return plg_http_pre(set, worker, ctx, req, resp, &ran);
}

static void done_req(sluice_ctx *ctx, sluice_http_request *req, sluice_http_response *resp)
{
    plg_ctx_clear(ctx);
    plg_request_clear(req);
    plg_response_clear(resp);
}

/* http_pre_once when only the decision matters. */
static plg_decision pre_decision(plg_set *set, unsigned worker, const char *path)
{
    sluice_ctx ctx;
    sluice_http_request req;
    sluice_http_response resp;
    plg_decision d = http_pre_once(set, worker, path, &ctx, &req, &resp);
    done_req(&ctx, &req, &resp);
    return d;
}

static void test_http_hooks(void)
{
    plg_set *set = load1(spec("c-test.wasm", "{\"k\":\"v\"}"), 1);
    CHECK(set);
    if (!set) return;
    CHECK(strcmp(plg_set_name(set, 0), "c-test") == 0);
    sluice_ctx ctx;
    sluice_http_request req;
    sluice_http_response resp;
    CHECK(http_pre_once(set, 0, "/v1/chat/completions", &ctx, &req, &resp) == PLG_CONTINUE);
    CHECK(strcmp(sluice_map_get(&req.headers, "x-c-plugin") ?: "", "c-test") == 0);
    CHECK(strcmp(sluice_map_get(&req.headers, "x-trace") ?: "", "abc") == 0);
    CHECK(req.headers.count == 3);
    /* What the plugin received. */
    CHECK(sj_str_eq(ctx_path(&ctx, "c_pre_input.context.request_id"), "req-1"));
    CHECK(sj_str_eq(ctx_path(&ctx, "c_pre_input.request.method"), "POST"));
    CHECK(sj_str_eq(ctx_path(&ctx, "c_pre_input.request.path"), "/v1/chat/completions"));
    CHECK(sj_str_eq(ctx_path(&ctx, "c_pre_input.request.headers.X-Trace"), "abc"));
    CHECK(sj_str_eq(ctx_path(&ctx, "c_pre_input.request.query.q"), "1"));
    CHECK(sj_is_object(ctx_path(&ctx, "c_pre_input.request.path_params")));
    CHECK(sj_str_eq(ctx_path(&ctx, "c_pre_input.request.body"), "eyJtb2RlbCI6Im0ifQ=="));
    CHECK(sj_str_eq(ctx_path(&ctx, "c_config.k"), "v"));
    CHECK(sj_str_eq(ctx_path(&ctx, "request_id"), "req-1"));
    CHECK(ctx_int(&ctx, "frees") == 1); /* init's config buffer */
    done_req(&ctx, &req, &resp);
    /* Second call: the first call's input and output were both freed. */
    CHECK(http_pre_once(set, 0, "/x", &ctx, &req, &resp) == PLG_CONTINUE);
    CHECK(ctx_int(&ctx, "frees") == 3);
    CHECK(ctx_int(&ctx, "resets") == 0);

    /* http_post_hook sees request and response, adds a header. */
    resp.status_code = 201;
    sluice_map_set(&resp.headers, "X-Up", "u");
    sluice_body_set(&resp.body, &resp.body_len, "ok", 2);
    CHECK(plg_http_post(set, 0, &ctx, &req, &resp, SIZE_MAX) == PLG_CONTINUE);
    CHECK(strcmp(sluice_map_get(&resp.headers, "X-C-Post") ?: "", "1") == 0);
    CHECK(strcmp(sluice_map_get(&resp.headers, "x-up") ?: "", "u") == 0);
    CHECK(resp.status_code == 201 && resp.body_len == 2);
    CHECK(ctx_int(&ctx, "c_post_input.response.status_code") == 201);
    CHECK(sj_str_eq(ctx_path(&ctx, "c_post_input.response.body"), "b2s="));
    CHECK(sj_str_eq(ctx_path(&ctx, "c_post_input.request.path"), "/x"));

    /* Stream chunks: modified, skipped, replaced from base64. */
    sj_doc *chunk = parse("{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}");
    CHECK(plg_stream_chunk(set, 0, &ctx, &req, &chunk) == PLG_CONTINUE);
    CHECK(sj_str_eq(sj_get(sj_doc_root(chunk), "c_plugin"), "yes"));
    CHECK(sj_str_eq(sj_get(sj_doc_root(chunk), "id"), "c1"));
    CHECK(sj_bool(ctx_path(&ctx, "c_chunk_seen"), false));
    sj_doc_free(chunk);
    chunk = parse("{\"id\":\"trigger-skip\"}");
    CHECK(plg_stream_chunk(set, 0, &ctx, &req, &chunk) == PLG_SKIP);
    sj_doc_free(chunk);
    chunk = parse("{\"id\":\"trigger-b64chunk\"}");
    CHECK(plg_stream_chunk(set, 0, &ctx, &req, &chunk) == PLG_CONTINUE);
    CHECK(sj_bool(sj_get(sj_doc_root(chunk), "replaced"), false));
    sj_doc_free(chunk);
    done_req(&ctx, &req, &resp);

    /* Short-circuit. */
    CHECK(http_pre_once(set, 0, "/trigger-short", &ctx, &req, &resp) == PLG_SHORT_CIRCUIT);
    CHECK(resp.status_code == 418);
    CHECK(resp.body_len == 15 && memcmp(resp.body, "short-circuited", 15) == 0);
    CHECK(strcmp(sluice_map_get(&resp.headers, "x-short") ?: "", "1") == 0);
    CHECK(sj_str_eq(ctx_path(&ctx, "short"), "yes"));
    done_req(&ctx, &req, &resp);

    /* A plugin-reported error: logged, request goes on unchanged. */
    logbuf[0] = '\0';
    CHECK(http_pre_once(set, 0, "/trigger-error", &ctx, &req, &resp) == PLG_CONTINUE);
    CHECK(strstr(logbuf, "refused by c-test") != NULL);
    CHECK(sluice_map_get(&req.headers, "X-C-Plugin") == NULL);
    done_req(&ctx, &req, &resp);
    plg_set_free(set);
}

static sluice_chat chat_of(const char *json)
{
    sluice_chat c = {.request = parse(json)};
    return c;
}

static void test_llm_hooks(void)
{
    plg_set *set = load1(spec("c-test.wasm", NULL), 1);
    CHECK(set);
    if (!set) return;
    sluice_ctx ctx;
    plg_ctx_init(&ctx, "r2");
    size_t ran;
    sluice_chat chat = chat_of("{\"model\":\"openai/gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                               "\"temperature\":0.2}");
    CHECK(plg_pre(set, 0, &ctx, &chat, &ran) == PLG_CONTINUE && ran == 1);
    CHECK(sj_str_eq(ctx_path(&ctx, "c_prehook_input.request.chat_request.provider"), "openai"));
    CHECK(sj_str_eq(ctx_path(&ctx, "c_prehook_input.request.chat_request.model"), "gpt-4o"));
    CHECK(sj_len(ctx_path(&ctx, "c_prehook_input.request.chat_request.input")) == 1);
    CHECK(sj_is_number(ctx_path(&ctx, "c_prehook_input.request.chat_request.params.temperature")));
    /* Request unchanged when the output has none. */
    CHECK(sj_str_eq(sj_get(sj_doc_root(chat.request), "model"), "openai/gpt-4o"));

    /* post_hook sees the response in the union shape. */
    chat.response = parse("{\"id\":\"resp-1\",\"object\":\"chat.completion\",\"choices\":[]}");
    CHECK(plg_post(set, 0, &ctx, &chat, ran) == PLG_CONTINUE);
    CHECK(sj_str_eq(ctx_path(&ctx, "c_posthook_input.response.chat_response.id"), "resp-1"));
    CHECK(sj_bool(ctx_path(&ctx, "c_posthook_input.has_error"), true) == false);
    CHECK(chat.response && !chat.error);
    plg_chat_clear(&chat);

    chat = chat_of("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"trigger-chat-short\"}]}");
    CHECK(plg_pre(set, 0, &ctx, &chat, &ran) == PLG_SHORT_CIRCUIT);
    CHECK(sj_str_eq(sj_get(sj_doc_root(chat.response), "id"), "c-short"));
    plg_chat_clear(&chat);

    chat = chat_of("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"trigger-chat-error\"}]}");
    CHECK(plg_pre(set, 0, &ctx, &chat, &ran) == PLG_SHORT_CIRCUIT);
    CHECK(!chat.response && chat.error);
    int64_t sc = 0;
    CHECK(sj_i64(sj_get(sj_doc_root(chat.error), "status_code"), &sc) && sc == 403);
    CHECK(sj_bool(sj_get(sj_doc_root(chat.error), "allow_fallbacks"), true) == false);
    plg_chat_clear(&chat);

    chat = chat_of("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"trigger-chat-model\"}],\"top_p\":1}");
    CHECK(plg_pre(set, 0, &ctx, &chat, &ran) == PLG_CONTINUE);
    CHECK(sj_str_eq(sj_get(sj_doc_root(chat.request), "model"), "mock/rewritten"));
    CHECK(sj_len(sj_get(sj_doc_root(chat.request), "messages")) == 1);
    CHECK(sj_get(sj_doc_root(chat.request), "top_p") != NULL);
    plg_chat_clear(&chat);

    chat = chat_of("{\"model\":\"m\",\"messages\":[]}");
    chat.response = parse("{\"id\":\"trigger-post-error\"}");
    CHECK(plg_post(set, 0, &ctx, &chat, SIZE_MAX) == PLG_CONTINUE);
    CHECK(!chat.response && chat.error);
    plg_chat_clear(&chat);
    plg_ctx_clear(&ctx);
    plg_set_free(set);
}

/* plugin_malloc family with 2-arg free, plugin_reset and _initialize. */
static void test_allocators(void)
{
    const char *files[] = {"c-family.wasm", "c-free2.wasm"};
    for (int i = 0; i < 2; i++) {
        plg_set *set = load1(spec(files[i], NULL), 1);
        CHECK(set);
        if (!set) continue;
        sluice_ctx ctx;
        sluice_http_request req;
        sluice_http_response resp;
        for (int k = 0; k < 3; k++) {
            CHECK(http_pre_once(set, 0, "/a", &ctx, &req, &resp) == PLG_CONTINUE);
            CHECK(sluice_map_get(&req.headers, "X-C-Plugin") != NULL);
            CHECK(ctx_int(&ctx, "frees") == 1 + 2 * k);
            CHECK(ctx_int(&ctx, "resets") == (i == 0 ? k : 0));
            CHECK(ctx_int(&ctx, "initialized") == (i == 0));
            done_req(&ctx, &req, &resp);
        }
        CHECK(strcmp(plg_set_name(set, 0), i == 0 ? "c-family" : "c-free2") == 0);
        plg_set_free(set);
    }
}

static void test_load_errors(void)
{
    char err[512] = "";
    plg_spec s = spec("c-test.wasm", "{\"fail_init\":true}");
    CHECK(plg_set_load(&s, 1, 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "init returned 7") != NULL);
    s = spec("c-badimport.wasm", NULL);
    CHECK(plg_set_load(&s, 1, 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "env.mystery") != NULL);
    s = spec("no-such.wasm", NULL);
    CHECK(plg_set_load(&s, 1, 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot open") != NULL);
    /* A WASI command loads without running _start (which traps). */
    plg_set *set = load1(spec("c-command.wasm", NULL), 1);
    CHECK(set);
    plg_set_free(set);
    /* Disabled entries are not loaded at all. */
    s = spec("no-such.wasm", NULL);
    s.enabled = false;
    set = plg_set_load(&s, 1, 1, err, sizeof err);
    CHECK(set && plg_set_count(set) == 0);
    plg_set_free(set);
    /* fd_write goes to the log, tagged. */
    logbuf[0] = '\0';
    s = spec("c-test.wasm", "{\"log_hello\":1}");
    s.name = "hello-entry";
    set = plg_set_load(&s, 1, 1, err, sizeof err);
    CHECK(set);
    CHECK(strstr(logbuf, "plugin hello-entry: stdout: hello from c-test") != NULL);
    /* Once get_name() is known it is the tag: a replacement instance's init
     * (after a trap) logs under "c-test", like the pipeline's own lines. */
    plg_set_log(set, test_log, NULL);
    logbuf[0] = '\0';
    CHECK(pre_decision(set, 0, "/trigger-trap") == PLG_CONTINUE);
    CHECK(pre_decision(set, 0, "/x") == PLG_CONTINUE);
    CHECK(strstr(logbuf, "plugin c-test: hook failed") != NULL);
    CHECK(strstr(logbuf, "plugin c-test: stdout: hello from c-test") != NULL);
    CHECK(strstr(logbuf, "hello-entry") == NULL);
    plg_set_free(set);
    /* Every line of plugin output is tagged; control characters become '?'. */
    logbuf[0] = '\0';
    plg_log_default(test_log, NULL);
    s = spec("c-test.wasm", "{\"log_forge\":1}");
    s.name = "forge-entry";
    set = plg_set_load(&s, 1, 1, err, sizeof err);
    plg_log_default(NULL, NULL);
    CHECK(set);
    CHECK(strstr(logbuf, "plugin forge-entry: stderr: first\nplugin forge-entry: stderr: "
                         "{\"level\":\"error\",\"forged\":1}?[31m\n") != NULL);
    plg_set_free(set);
    /* A get_name() that would forge a log line, or is 64 KiB long, is not
     * taken: the entry's name stays, with a warning saying why. */
    const char *bad[] = {"{\"bad_name\":1}", "{\"bad_name\":\"long\"}"};
    for (int i = 0; i < 2; i++) {
        plg_log_default(test_log, NULL);
        logbuf[0] = '\0';
        s = spec("c-test.wasm", bad[i]);
        s.name = "named-by-config";
        set = plg_set_load(&s, 1, 1, err, sizeof err);
        plg_log_default(NULL, NULL);
        CHECK(set && strcmp(plg_set_name(set, 0), "named-by-config") == 0);
        CHECK(strstr(logbuf, "not a usable name") != NULL);
        CHECK(strstr(logbuf, "forged") == NULL);
        CHECK(strstr(logbuf, "nnnnnnnn") == NULL);
        plg_set_free(set);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_sandbox(void)
{
    const char *triggers[] = {"trigger-loop", "trigger-trap", "trigger-badptr", "trigger-oversize",
                              "trigger-hog", "trigger-badjson", "trigger-exit"};
    const char *expect[] = {"deadline", "unreachable", "outside linear memory", "larger than the memory cap",
                            "unreachable", "invalid JSON", "proc_exit(3)"};
    plg_spec s = spec("c-test.wasm", NULL);
    s.timeout_ms = 200; /* wall clock: an ASan build on a loaded 2-core machine needs room */
    s.max_memory_mb = 4;
    plg_set *set = load1(s, 1);
    CHECK(set);
    if (!set) return;
    plg_set_cooldown(set, 100, 1000);
    for (size_t i = 0; i < sizeof triggers / sizeof *triggers; i++) {
        sluice_ctx ctx;
        sluice_http_request req;
        sluice_http_response resp;
        char path[64];
        snprintf(path, sizeof path, "/%s", triggers[i]);
        logbuf[0] = '\0';
        double t0 = now_s();
        CHECK(http_pre_once(set, 0, path, &ctx, &req, &resp) == PLG_CONTINUE); /* fail-open */
        double took = now_s() - t0;
        CHECK(took < 1.0);
        if (!strstr(logbuf, expect[i]) || !strstr(logbuf, "instance replaced")) {
            fprintf(stderr, "%s: log was: %s\n", triggers[i], logbuf);
            failures++;
        }
        CHECK(sluice_map_get(&req.headers, "X-C-Plugin") == NULL);
        done_req(&ctx, &req, &resp);
        plg_stats st;
        plg_set_stats(set, 0, &st);
        CHECK(st.failures == i + 1);
        /* The next request gets a fresh instance that works. */
        CHECK(http_pre_once(set, 0, "/fine", &ctx, &req, &resp) == PLG_CONTINUE);
        CHECK(sluice_map_get(&req.headers, "X-C-Plugin") != NULL);
        CHECK(ctx_int(&ctx, "frees") == 1); /* fresh: only init's free so far */
        done_req(&ctx, &req, &resp);
        plg_set_stats(set, 0, &st);
        CHECK(st.replaced == i + 1);
        if (i == 0) printf("deadline trap after %.1f ms (timeout 200 ms)\n", took * 1e3);
    }
    plg_set_free(set);

    /* on_error: fail turns a failure into PLG_FAIL. */
    s = spec("c-test.wasm", NULL);
    s.fail_closed = true;
    set = load1(s, 1);
    CHECK(pre_decision(set, 0, "/trigger-trap") == PLG_FAIL);
    CHECK(pre_decision(set, 0, "/trigger-error") == PLG_FAIL);
    plg_set_free(set);
}

static void test_cooldown(void)
{
    plg_set *set = load1(spec("c-test.wasm", NULL), 1);
    CHECK(set);
    if (!set) return;
    plg_set_cooldown(set, 3, 300);
    sluice_ctx ctx;
    sluice_http_request req;
    sluice_http_response resp;
    logbuf[0] = '\0';
    for (int i = 0; i < 3; i++) {
        http_pre_once(set, 0, "/trigger-trap", &ctx, &req, &resp);
        done_req(&ctx, &req, &resp);
    }
    CHECK(strstr(logbuf, "SKIPPED") != NULL);
    plg_stats st;
    plg_set_stats(set, 0, &st);
    CHECK(st.cooling_down);
    CHECK(http_pre_once(set, 0, "/fine", &ctx, &req, &resp) == PLG_CONTINUE);
    CHECK(sluice_map_get(&req.headers, "X-C-Plugin") == NULL); /* skipped */
    done_req(&ctx, &req, &resp);
    plg_set_stats(set, 0, &st);
    CHECK(st.skipped_cooldown == 1);
    usleep(350 * 1000);
    CHECK(http_pre_once(set, 0, "/fine", &ctx, &req, &resp) == PLG_CONTINUE);
    CHECK(sluice_map_get(&req.headers, "X-C-Plugin") != NULL);
    done_req(&ctx, &req, &resp);
    plg_set_free(set);
}

/* Order: two plugins; a short-circuit at the first skips the second's pre
 * and post hooks. */
static void test_order(void)
{
    plg_spec s[2] = {spec("c-test.wasm", NULL), spec("c-family.wasm", NULL)};
    char err[512];
    plg_set *set = plg_set_load(s, 2, 1, err, sizeof err);
    CHECK(set && plg_set_count(set) == 2);
    if (!set) return;
    plg_set_log(set, test_log, NULL);
    sluice_ctx ctx;
    sluice_http_request req;
    sluice_http_response resp;
    size_t ran;
    plg_ctx_init(&ctx, "o");
    make_req(&req, "/trigger-short", "");
    memset(&resp, 0, sizeof resp);
    CHECK(plg_http_pre(set, 0, &ctx, &req, &resp, &ran) == PLG_SHORT_CIRCUIT && ran == 1);
    CHECK(plg_http_post(set, 0, &ctx, &req, &resp, ran) == PLG_CONTINUE);
    CHECK(sluice_map_get(&resp.headers, "X-C-Post") != NULL);
    plg_stats st;
    plg_set_stats(set, 1, &st);
    CHECK(st.calls == 0);
    done_req(&ctx, &req, &resp);
    /* Both run: plugin 2 sees plugin 1's header. */
    plg_ctx_init(&ctx, "o2");
    make_req(&req, "/fine", "");
    CHECK(plg_http_pre(set, 0, &ctx, &req, &resp, &ran) == PLG_CONTINUE && ran == 2);
    CHECK(sj_str_eq(ctx_path(&ctx, "c_pre_input.request.headers.X-C-Plugin"), "c-test"));
    CHECK(strcmp(sluice_map_get(&req.headers, "X-C-Plugin") ?: "", "c-family") == 0);
    done_req(&ctx, &req, &resp);
    plg_set_free(set);
}

/* Workers: each thread uses its own instance, concurrently. */
static plg_set *mt_set;
static void *worker_main(void *arg)
{
    unsigned w = (unsigned)(size_t)arg;
    for (int i = 0; i < 200; i++) {
        sluice_ctx ctx;
        sluice_http_request req;
        sluice_http_response resp;
        if (http_pre_once(mt_set, w, i % 50 == 7 ? "/trigger-trap" : "/ok", &ctx, &req, &resp) != PLG_CONTINUE ||
            (i % 50 != 7 && !sluice_map_get(&req.headers, "X-C-Plugin")))
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
        done_req(&ctx, &req, &resp);
    }
    return NULL;
}

static void test_workers(unsigned instances)
{
    plg_spec s = spec("c-test.wasm", NULL);
    s.instances = instances;
    s.timeout_ms = 5000; /* only the traps may fail, not a slow (ASan, loaded machine) good call */
    mt_set = load1(s, 3);
    CHECK(mt_set);
    if (!mt_set) return;
    plg_set_cooldown(mt_set, 0, 0);
    pthread_t th[3];
    double t0 = now_s();
    for (size_t i = 0; i < 3; i++) pthread_create(&th[i], NULL, worker_main, (void *)i);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    printf("3 workers x 200 http_pre_hook calls (instances=%u): %.1f ms\n", instances, (now_s() - t0) * 1e3);
    plg_stats st;
    plg_set_stats(mt_set, 0, &st);
    CHECK(st.calls == 600 && st.failures == 12);
    plg_set_free(mt_set);
}

/* The observer sees every hook call with its outcome kind, and every
 * instance thrown away; "engine" parses with auto as the default. */
static int obs_counts[4], obs_recycles;
static void obs_hook(void *user, const char *plugin, const char *hook, plg_outcome o, double seconds)
{
    (void)user;
    if (strcmp(plugin, "c-test") == 0 && strcmp(hook, "http_pre_hook") == 0 && seconds >= 0 && o <= PLG_OUT_TIMEOUT)
        obs_counts[o]++;
}
static void obs_recycle(void *user, const char *plugin) { (void)user; (void)plugin; obs_recycles++; }

static void test_observer_and_engine(void)
{
    plg_spec s = spec("c-test.wasm", NULL);
    s.timeout_ms = 20;
    plg_set *set = load1(s, 1);
    if (!set) { failures++; return; }
    plg_set_observer(set, &(plg_observer){.hook = obs_hook, .recycle = obs_recycle});
    static const char *const paths[] = {"/ok", "/trigger-trap", "/trigger-loop", "/trigger-badjson", "/trigger-badptr",
                                        "/ok"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        sluice_ctx ctx;
        sluice_http_request req;
        sluice_http_response resp;
        CHECK(http_pre_once(set, 0, paths[i], &ctx, &req, &resp) == PLG_CONTINUE);
        done_req(&ctx, &req, &resp);
    }
    CHECK(obs_counts[PLG_OUT_OK] == 2);
    CHECK(obs_counts[PLG_OUT_TRAP] == 1);
    CHECK(obs_counts[PLG_OUT_TIMEOUT] == 1);
    CHECK(obs_counts[PLG_OUT_ERROR] == 2);
    CHECK(obs_recycles == 4);
    plg_stats st;
    plg_set_stats(set, 0, &st);
    CHECK(!st.aot && st.failures == 4);
    plg_set_free(set);

    static const struct { const char *json; int rc; plg_engine e; } cases[] = {
        {"{\"path\":\"p.wasm\"}", 0, PLG_ENGINE_AUTO},
        {"{\"path\":\"p.wasm\",\"engine\":\"auto\"}", 0, PLG_ENGINE_AUTO},
        {"{\"path\":\"p.wasm\",\"engine\":\"interp\"}", 0, PLG_ENGINE_INTERP},
        {"{\"path\":\"p.wasm\",\"engine\":\"aot\"}", 0, PLG_ENGINE_AOT},
        {"{\"path\":\"p.wasm\",\"engine\":\"jit\"}", -1, PLG_ENGINE_INTERP},
        {"{\"path\":\"p.wasm\",\"engine\":1}", -1, PLG_ENGINE_INTERP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sj_doc *d = parse(cases[i].json);
        plg_spec out;
        char err[200] = "";
        int rc = plg_spec_parse(sj_doc_root(d), &out, err, sizeof err);
        CHECK(rc == cases[i].rc);
        if (rc == 0) CHECK(out.engine == cases[i].e);
        else CHECK(strstr(err, "engine") != NULL);
        sj_doc_free(d);
    }
}

int main(void)
{
    const char *b = getenv("SLUICE_BUILD");
    snprintf(dir, sizeof dir, "%s/examples/plugins", b ? b : "build");
    plg_log_default(test_log, NULL);
    test_http_hooks();
    test_llm_hooks();
    test_allocators();
    test_load_errors();
    test_sandbox();
    test_cooldown();
    test_order();
    test_observer_and_engine();
    /* Cost of one http_pre_hook round trip (build JSON, call, parse, apply). */
    plg_set *set = load1(spec("c-test.wasm", NULL), 1);
    if (set) {
        double t0 = now_s();
        for (int i = 0; i < 2000; i++) {
            sluice_ctx ctx;
            sluice_http_request req;
            sluice_http_response resp;
            http_pre_once(set, 0, "/v1/chat/completions", &ctx, &req, &resp);
            done_req(&ctx, &req, &resp);
        }
        printf("http_pre_hook round trip: %.1f us per call (2000 calls, one thread)\n", (now_s() - t0) * 1e6 / 2000);
        plg_set_free(set);
    }
    test_workers(0);
    test_workers(1);
    if (failures) { fprintf(stderr, "%d checks failed\n", failures); return 1; }
    printf("ok\n");
    return 0;
}
