/*
 * examples/plugins/native-c/example.c - a native Sluice plugin (SPEC §4).
 *
 * Build: cc -shared -fPIC -Iinclude -o libnative_example.so example.c
 * (the sluice_* and sj_* functions it calls are resolved from the gateway
 * binary when it loads the plugin).
 *
 * Behaviour: http_pre_hook adds "X-Native-Plugin: <greeting>" (greeting from
 * the config, default "hi") and answers 200 itself for paths containing
 * "native-short"; the stream chunk hook tags chunks with "native": true;
 * pre_hook records the model in the context; post_hook counts responses.
 * Like the other examples it appends its name to the request header
 * X-Plugin-Trail (http_pre_hook) and to the response header X-Post-Trail
 * (http_post_hook), which shows the order plugins run in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/plugin.h"

static const char plugin_name[] = "native-example";

typedef struct state {
    char greeting[64];
    unsigned long responses;
} state;

static int ex_init(const char *config_json, size_t len, void **out)
{
    state *st = calloc(1, sizeof *st);
    if (!st) return -1;
    snprintf(st->greeting, sizeof st->greeting, "hi");
    sj_doc *cfg = sj_parse(config_json, len, NULL, NULL);
    const char *g = sj_str(sj_get(sj_doc_root(cfg), "greeting"), NULL);
    if (g) snprintf(st->greeting, sizeof st->greeting, "%s", g);
    bool fail = sj_bool(sj_get(sj_doc_root(cfg), "fail_init"), false);
    sj_doc_free(cfg);
    if (fail) { free(st); return 1; }
    *out = st;
    return 0;
}

/* Appends ",native-example" to header `name` of m (or sets it). */
static bool append_trail(sluice_map *m, const char *name)
{
    const char *old = sluice_map_get(m, name);
    char v[512];
    snprintf(v, sizeof v, "%s%s%s", old ? old : "", old ? "," : "", plugin_name);
    return sluice_map_set(m, name, v);
}

static sluice_hook_result ex_http_pre(void *sv, sluice_ctx *ctx, sluice_http_request *req,
                                      sluice_http_response *resp, char *err, size_t errlen)
{
    state *st = sv;
    if (req->path && strstr(req->path, "native-error")) {
        snprintf(err, errlen, "native plugin refuses %s", req->path);
        return SLUICE_HOOK_ERROR;
    }
    if (req->path && strstr(req->path, "native-short")) {
        static const char body[] = "{\"answered_by\":\"native\"}";
        resp->status_code = 200;
        if (!sluice_map_set(&resp->headers, "Content-Type", "application/json") ||
            !sluice_body_set(&resp->body, &resp->body_len, body, sizeof body - 1))
            return SLUICE_HOOK_ERROR;
        return SLUICE_RESPOND;
    }
    const char *ct = sluice_map_get(&req->headers, "content-type");
    sluice_ctx_set_str(ctx, "native_saw_content_type", ct ? ct : "");
    return sluice_map_set(&req->headers, "X-Native-Plugin", st->greeting) && append_trail(&req->headers, "X-Plugin-Trail")
               ? SLUICE_CONTINUE
               : SLUICE_HOOK_ERROR;
}

static sluice_hook_result ex_http_post(void *sv, sluice_ctx *ctx, const sluice_http_request *req,
                                       sluice_http_response *resp, char *err, size_t errlen)
{
    (void)sv; (void)ctx; (void)req; (void)err; (void)errlen;
    return append_trail(&resp->headers, "X-Post-Trail") ? SLUICE_CONTINUE : SLUICE_HOOK_ERROR;
}

static sluice_hook_result ex_chunk(void *sv, sluice_ctx *ctx, const sluice_http_request *req, sj_doc **chunk,
                                   char *err, size_t errlen)
{
    (void)sv; (void)ctx; (void)req; (void)err; (void)errlen;
    sj_val *t = sj_new_bool(*chunk, true);
    return t && sj_set(*chunk, sj_doc_root(*chunk), "native", t) ? SLUICE_CONTINUE : SLUICE_HOOK_ERROR;
}

static sluice_hook_result ex_pre(void *sv, sluice_ctx *ctx, sluice_chat *chat, char *err, size_t errlen)
{
    (void)sv; (void)err; (void)errlen;
    const sj_val *model = sj_get(sj_doc_root(chat->request), "model");
    if (model) sluice_ctx_set(ctx, "native_model", model);
    return SLUICE_CONTINUE;
}

static sluice_hook_result ex_post(void *sv, sluice_ctx *ctx, sluice_chat *chat, char *err, size_t errlen)
{
    (void)ctx; (void)chat; (void)err; (void)errlen;
    ((state *)sv)->responses++;
    return SLUICE_CONTINUE;
}

static void ex_cleanup(void *sv) { free(sv); }

static const struct sluice_plugin plugin = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = plugin_name,
    .init = ex_init,
    .http_pre_hook = ex_http_pre,
    .http_post_hook = ex_http_post,
    .http_stream_chunk_hook = ex_chunk,
    .pre_hook = ex_pre,
    .post_hook = ex_post,
    .cleanup = ex_cleanup,
};

const struct sluice_plugin *sluice_plugin_v1(void) { return &plugin; }
