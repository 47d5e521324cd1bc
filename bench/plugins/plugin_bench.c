/*
 * bench/plugins/plugin_bench.c - the plugin host's cost per request, in
 * process: loads a plugin set the way the gateway does and runs the hooks of
 * one non-streaming request (http_pre_hook, pre_hook, post_hook,
 * http_post_hook) on a chat request read from a file, over and over.
 *
 *   plugin_bench [--engine interp|aot] [--only pre] [--seconds S] BODY.json [PLUGIN]
 *
 * Without PLUGIN it measures the same request plumbing with no plugin (the
 * baseline). --only pre times pre_hook alone. Prints one line
 * "RESULT us_per_req=... cpu_us_per_req=... iters=..." (CPU time of this
 * single thread; wall clock is noisier on a shared machine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugin/plugin_int.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf) buf[*len] = '\0';
    return buf;
}

static const char response_json[] =
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Order 48213 is with the "
    "regional carrier and should arrive tomorrow.\"},\"finish_reason\":\"stop\"}],"
    "\"usage\":{\"prompt_tokens\":420,\"completion_tokens\":14,\"total_tokens\":434}}";

/* One request through every hook stage; false if a stage did not continue. */
static bool one_request(plg_set *set, const char *body, size_t blen, bool only_pre)
{
    sluice_ctx ctx;
    plg_ctx_init(&ctx, "bench-1");
    sluice_chat chat = {.request = sj_parse(body, blen, NULL, NULL)};
    size_t ran = 0;
    bool ok = true;
    if (only_pre) {
        ok = plg_pre(set, 0, &ctx, &chat, &ran) == PLG_CONTINUE;
        plg_chat_clear(&chat);
        plg_ctx_clear(&ctx);
        return ok;
    }
    sluice_http_request req = {.method = strdup("POST"), .path = strdup("/v1/chat/completions")};
    sluice_map_set(&req.headers, "Content-Type", "application/json");
    sluice_map_set(&req.headers, "Authorization", "Bearer sk-bench");
    sluice_map_set(&req.headers, "User-Agent", "plugin-bench/1");
    sluice_map_set(&req.headers, "Accept", "application/json");
    sluice_body_set(&req.body, &req.body_len, body, blen);
    sluice_http_response resp = {0};
    size_t http_ran = 0;
    ok = plg_http_pre(set, 0, &ctx, &req, &resp, &http_ran) == PLG_CONTINUE &&
         plg_pre(set, 0, &ctx, &chat, &ran) == PLG_CONTINUE;
    if (ok) {
        chat.response = sj_parse(response_json, sizeof response_json - 1, NULL, NULL);
        ok = plg_post(set, 0, &ctx, &chat, ran) == PLG_CONTINUE;
        size_t n = 0;
        char *out = sj_write(sj_doc_root(chat.response), &n);
        plg_response_clear(&resp);
        resp.status_code = 200;
        sluice_map_set(&resp.headers, "Content-Type", "application/json");
        resp.body = (uint8_t *)out;
        resp.body_len = n;
        ok = ok && plg_http_post(set, 0, &ctx, &req, &resp, http_ran) == PLG_CONTINUE;
    }
    plg_chat_clear(&chat);
    plg_response_clear(&resp);
    plg_request_clear(&req);
    plg_ctx_clear(&ctx);
    return ok;
}

int main(int argc, char **argv)
{
    plg_spec s = {.enabled = true, .config_json = "{}"};
    bool only_pre = false;
    double seconds = 1.0;
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "--engine")) s.engine = !strcmp(argv[i + 1], "aot") ? PLG_ENGINE_AOT : PLG_ENGINE_INTERP;
        else if (!strcmp(argv[i], "--only")) only_pre = !strcmp(argv[i + 1], "pre");
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else break;
    }
    if (i >= argc || argc - i > 2 || seconds <= 0 || seconds > 60) {
        fprintf(stderr, "usage: %s [--engine interp|aot] [--only pre] [--seconds S] BODY.json [PLUGIN]\n", argv[0]);
        return 2;
    }
    size_t blen;
    char *body = slurp(argv[i], &blen);
    if (!body) { fprintf(stderr, "cannot read %s\n", argv[i]); return 2; }
    /* The gateway's bench body has a placeholder model. */
    char *m = strstr(body, "\"MODEL\"");
    if (m) { /* "MODEL" -> "mock/m": one byte longer (the buffer has room) */
        memmove(m + 8, m + 7, blen - (size_t)(m + 7 - body) + 1);
        memcpy(m, "\"mock/m\"", 8);
        blen++;
    }
    s.path = s.name = i + 1 < argc ? argv[i + 1] : NULL;
    char err[512];
    plg_set *set = plg_set_load(&s, s.path ? 1 : 0, 1, err, sizeof err);
    if (!set) { fprintf(stderr, "load error: %s\n", err); return 1; }

    for (int w = 0; w < 200; w++)
        if (!one_request(set, body, blen, only_pre)) { fprintf(stderr, "a hook did not continue\n"); return 1; }
    unsigned long iters = 0;
    double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w1;
    do {
        for (int k = 0; k < 50; k++) one_request(set, body, blen, only_pre);
        iters += 50;
        w1 = clock_s(CLOCK_MONOTONIC);
    } while (w1 - w0 < seconds);
    double c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    plg_stats st = {0};
    if (s.path) plg_set_stats(set, 0, &st);
    printf("RESULT us_per_req=%.2f cpu_us_per_req=%.2f iters=%lu body_bytes=%zu aot=%d failures=%llu\n",
           (w1 - w0) * 1e6 / (double)iters, (c1 - c0) * 1e6 / (double)iters, iters, blen, st.aot ? 1 : 0,
           (unsigned long long)st.failures);
    plg_set_free(set);
    free(body);
    return 0;
}
