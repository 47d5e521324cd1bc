/*
 * tests/plugin/test_plugin_native.c - native (.so) plugins: loading through
 * sluice_plugin_v1, init with config, each hook on the typed structs, the
 * case-insensitive header API, short-circuit, errors, and a native plugin
 * mixed with a WASM one in the same set (order rules).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin_int.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static char so_path[600], wasm_path[600];
static char logbuf[4096];

static void test_log(void *user, const char *line)
{
    (void)user;
    if (strlen(logbuf) + strlen(line) + 2 < sizeof logbuf) { strcat(logbuf, line); strcat(logbuf, "\n"); }
}

static void make_req(sluice_http_request *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->method = strdup("POST");
    r->path = strdup(path);
    sluice_map_set(&r->headers, "Content-Type", "application/json");
}

int main(void)
{
    const char *b = getenv("SLUICE_BUILD");
    snprintf(so_path, sizeof so_path, "%s/examples/plugins/libnative_example.so", b ? b : "build");
    snprintf(wasm_path, sizeof wasm_path, "%s/examples/plugins/c-test.wasm", b ? b : "build");
    plg_log_default(test_log, NULL);

    /* The map API. */
    sluice_map m = {0};
    CHECK(sluice_map_set(&m, "X-A", "1") && sluice_map_set(&m, "x-a", "2") && m.count == 1);
    CHECK(strcmp(sluice_map_get(&m, "X-a"), "2") == 0 && strcmp(m.items[0].name, "X-A") == 0);
    CHECK(sluice_map_del(&m, "X-A") == 1 && m.count == 0);
    sluice_map_clear(&m);

    char err[512];
    plg_spec s = {.name = "n", .path = so_path, .config_json = "{\"fail_init\":true}", .enabled = true};
    CHECK(plg_set_load(&s, 1, 1, err, sizeof err) == NULL && strstr(err, "init failed"));
    plg_spec bad = {.name = "x", .path = "/nonexistent/libx.so", .enabled = true};
    CHECK(plg_set_load(&bad, 1, 1, err, sizeof err) == NULL && strstr(err, "dlopen"));

    plg_spec both[2] = {
        {.name = "n", .path = so_path, .config_json = "{\"greeting\":\"hello\"}", .enabled = true},
        {.name = "w", .path = wasm_path, .enabled = true},
    };
    plg_set *set = plg_set_load(both, 2, 1, err, sizeof err);
    if (!set) { fprintf(stderr, "load: %s\n", err); return 1; }
    CHECK(strcmp(plg_set_name(set, 0), "native-example") == 0);

    sluice_ctx ctx;
    sluice_http_request req;
    sluice_http_response resp = {0};
    size_t ran;
    plg_ctx_init(&ctx, "n1");
    make_req(&req, "/v1/chat/completions");
    CHECK(plg_http_pre(set, 0, &ctx, &req, &resp, &ran) == PLG_CONTINUE && ran == 2);
    CHECK(strcmp(sluice_map_get(&req.headers, "x-native-plugin") ?: "", "hello") == 0);
    CHECK(sj_str_eq(sluice_ctx_get(&ctx, "native_saw_content_type"), "application/json"));
    /* The WASM plugin after it saw the native plugin's header. */
    const sj_val *seen = sj_get(sj_get(sj_get(sluice_ctx_get(&ctx, "c_pre_input"), "request"), "headers"),
                                "X-Native-Plugin");
    CHECK(sj_str_eq(seen, "hello"));
    CHECK(!sluice_ctx_set_str(&ctx, "request_id", "forged"));
    CHECK(sj_str_eq(sluice_ctx_get(&ctx, "request_id"), "n1"));

    sj_doc *chunk = sj_parse("{\"id\":\"c\"}", 10, NULL, NULL);
    CHECK(plg_stream_chunk(set, 0, &ctx, &req, &chunk) == PLG_CONTINUE);
    CHECK(sj_bool(sj_get(sj_doc_root(chunk), "native"), false));
    CHECK(sj_str_eq(sj_get(sj_doc_root(chunk), "c_plugin"), "yes"));
    sj_doc_free(chunk);

    sluice_chat chat = {.request = sj_parse("{\"model\":\"x/y\",\"messages\":[]}", 29, NULL, NULL)};
    CHECK(plg_pre(set, 0, &ctx, &chat, &ran) == PLG_CONTINUE);
    CHECK(sj_str_eq(sluice_ctx_get(&ctx, "native_model"), "x/y"));
    sj_doc_free(chat.request);
    plg_ctx_clear(&ctx);
    plg_request_clear(&req);

    /* Short-circuit at the native plugin (first): the WASM plugin never runs. */
    plg_ctx_init(&ctx, "n2");
    make_req(&req, "/native-short");
    CHECK(plg_http_pre(set, 0, &ctx, &req, &resp, &ran) == PLG_SHORT_CIRCUIT && ran == 1);
    CHECK(resp.status_code == 200 && resp.body_len == 24);
    CHECK(sluice_ctx_get(&ctx, "c_pre_input") == NULL);
    plg_ctx_clear(&ctx);
    plg_request_clear(&req);
    plg_response_clear(&resp);

    /* A native error: fail-open and logged. */
    plg_ctx_init(&ctx, "n3");
    make_req(&req, "/native-error");
    logbuf[0] = '\0';
    CHECK(plg_http_pre(set, 0, &ctx, &req, &resp, &ran) == PLG_CONTINUE && ran == 2);
    CHECK(strstr(logbuf, "native plugin refuses /native-error") != NULL);
    plg_ctx_clear(&ctx);
    plg_request_clear(&req);
    plg_response_clear(&resp);
    plg_set_free(set);
    if (failures) { fprintf(stderr, "%d checks failed\n", failures); return 1; }
    printf("ok\n");
    return 0;
}
