/*
 * src/plugin/probe.c - sluice-plugin-probe: loads one plugin the way the
 * gateway does and runs one hook on a sample request, printing what came
 * out. For plugin authors ("does my .wasm load here, what does it do?")
 * and for the tests of plugins built by other toolchains.
 *
 *   sluice-plugin-probe [--config JSON] [--path P] [--body B] [--hook H]
 *                       [--timeout-ms N] [--max-memory-mb N]
 *                       [--engine interp|aot|auto] PLUGIN
 *
 * H is http_pre (default), http_post, stream_chunk, pre or post. Prints
 * "name:", "decision:", the resulting headers / chunk / chat documents and
 * "context:" as JSON; plugin log lines go to stderr. Exit 0 when the plugin
 * loaded and the hook ran, 1 on a load failure, 2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin_int.h"

static void print_map(const char *what, const sluice_map *m)
{
    for (size_t i = 0; i < m->count; i++) printf("%s: %s: %s\n", what, m->items[i].name, m->items[i].value);
}

static void print_doc(const char *what, const sj_doc *d)
{
    char *s = d ? sj_write(sj_doc_root(d), NULL) : NULL;
    printf("%s: %s\n", what, s ? s : "null");
    free(s);
}

static sj_doc *parse_or_die(const char *s)
{
    sj_doc *d = sj_parse(s, strlen(s), NULL, NULL);
    if (!d) { fprintf(stderr, "not JSON: %s\n", s); exit(2); }
    return d;
}

int main(int argc, char **argv)
{
    plg_spec s = {.enabled = true, .config_json = "{}"};
    const char *path = "/v1/chat/completions", *hook = "http_pre";
    const char *body = "{\"model\":\"mock/m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "--config")) s.config_json = argv[i + 1];
        else if (!strcmp(argv[i], "--path")) path = argv[i + 1];
        else if (!strcmp(argv[i], "--body")) body = argv[i + 1];
        else if (!strcmp(argv[i], "--hook")) hook = argv[i + 1];
        else if (!strcmp(argv[i], "--timeout-ms")) s.timeout_ms = (uint32_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--max-memory-mb")) s.max_memory_mb = (uint32_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--engine"))
            s.engine = !strcmp(argv[i + 1], "aot") ? PLG_ENGINE_AOT
                       : !strcmp(argv[i + 1], "auto") ? PLG_ENGINE_AUTO : PLG_ENGINE_INTERP;
        else break;
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: %s [--config JSON] [--path P] [--body B] [--hook H] [--timeout-ms N] "
                        "[--max-memory-mb N] [--engine interp|aot|auto] PLUGIN\n", argv[0]);
        return 2;
    }
    s.path = s.name = argv[i];
    char err[512];
    plg_set *set = plg_set_load(&s, 1, 1, err, sizeof err);
    if (!set) { printf("load error: %s\n", err); return 1; }
    printf("name: %s\n", plg_set_name(set, 0));

    sluice_ctx ctx;
    plg_ctx_init(&ctx, "probe-1");
    sluice_http_request req = {.method = strdup("POST"), .path = strdup(path)};
    sluice_map_set(&req.headers, "Content-Type", "application/json");
    sluice_body_set(&req.body, &req.body_len, body, strlen(body));
    sluice_http_response resp = {.status_code = 200};
    sluice_map_set(&resp.headers, "Content-Type", "application/json");
    sluice_body_set(&resp.body, &resp.body_len, body, strlen(body));
    sluice_chat chat = {0};
    sj_doc *chunk = NULL;
    size_t ran;
    plg_decision d;
    if (!strcmp(hook, "http_pre")) {
        d = plg_http_pre(set, 0, &ctx, &req, &resp, &ran);
        print_map(d == PLG_SHORT_CIRCUIT ? "response header" : "request header",
                  d == PLG_SHORT_CIRCUIT ? &resp.headers : &req.headers);
        if (d == PLG_SHORT_CIRCUIT) printf("response: %d %.*s\n", resp.status_code, (int)resp.body_len, resp.body);
    } else if (!strcmp(hook, "http_post")) {
        d = plg_http_post(set, 0, &ctx, &req, &resp, SIZE_MAX);
        print_map("response header", &resp.headers);
    } else if (!strcmp(hook, "stream_chunk")) {
        chunk = parse_or_die(body);
        d = plg_stream_chunk(set, 0, &ctx, &req, &chunk);
        print_doc("chunk", chunk);
    } else if (!strcmp(hook, "pre") || !strcmp(hook, "post")) {
        chat.request = parse_or_die(body);
        if (hook[1] == 'o') chat.response = parse_or_die(body);
        d = hook[1] == 'r' ? plg_pre(set, 0, &ctx, &chat, &ran) : plg_post(set, 0, &ctx, &chat, SIZE_MAX);
        print_doc("chat request", chat.request);
        print_doc("chat response", chat.response);
        print_doc("chat error", chat.error);
    } else {
        fprintf(stderr, "unknown hook %s\n", hook);
        return 2;
    }
    static const char *const names[] = {"continue", "short-circuit", "skip", "fail"};
    printf("decision: %s\n", names[d]);
    print_doc("context", ctx.doc);
    plg_stats st;
    plg_set_stats(set, 0, &st);
    printf("failures: %llu\n", (unsigned long long)st.failures);
    sj_doc_free(chunk);
    plg_chat_clear(&chat);
    plg_ctx_clear(&ctx);
    plg_request_clear(&req);
    plg_response_clear(&resp);
    plg_set_free(set);
    return 0;
}
