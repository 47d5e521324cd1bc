/*
 * examples/plugins/c-wasi/policy.c - an LLM-level policy plugin in C with
 * Debian's wasi-libc, built as a WASI reactor (the host calls _initialize,
 * which runs libc's constructors, before init), on the header-only SDK.
 *
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 \
 *         -Iexamples/plugins/sdk -o c-policy.wasm examples/plugins/c-wasi/policy.c
 *
 * config: {"mock_model": "canned", "mock_reply": "...", "limited_model": "scarce",
 *          "limit": 1, "mark": "checked", "drop_word": "from", "upper": true}
 *
 * pre_hook:  a request for mock_model (as "model" or "provider/model") is
 *   answered by the plugin (a canned chat.completion, the provider is never
 *   called); requests for limited_model beyond `limit` per instance get an
 *   OpenAI-shaped 429 rate_limit_error (allow_fallbacks false).
 * post_hook: marks every successful response: a top-level field
 *   "sluice_policy": {"mark": <mark>, "team": <context "team" if set>}.
 * http_stream_chunk_hook: drops chunks whose delta content, without spaces,
 *   is drop_word, and upper-cases the content of the others when "upper".
 * init prints one line on stderr (the gateway log shows it, tagged).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SP_PLUGIN_NAME "c-policy"
#include "sluice_plugin_sdk.h"

static struct {
    char mock_model[128], mock_reply[512], limited_model[128], mark[64], drop_word[64];
    long limit;
    int upper;
} cfg;
static long limited_seen; /* per instance: the host replaces instances on failures */

/* Copies string member `key` of obj into dst (unchanged when absent). */
static void cfg_str(sp_str obj, const char *key, char *dst, size_t cap)
{
    sp_str v = sp_json_get(obj, key);
    if (v.n && sp_json_str_copy(v, dst, (sp_u32)cap) < 0) dst[0] = 0;
}

SP_INIT(c)
{
    snprintf(cfg.mock_reply, sizeof cfg.mock_reply, "canned answer from c-policy");
    snprintf(cfg.mark, sizeof cfg.mark, "checked");
    cfg_str(c, "mock_model", cfg.mock_model, sizeof cfg.mock_model);
    cfg_str(c, "mock_reply", cfg.mock_reply, sizeof cfg.mock_reply);
    cfg_str(c, "limited_model", cfg.limited_model, sizeof cfg.limited_model);
    cfg_str(c, "mark", cfg.mark, sizeof cfg.mark);
    cfg_str(c, "drop_word", cfg.drop_word, sizeof cfg.drop_word);
    sp_str limit = sp_json_get(c, "limit");
    cfg.limit = limit.n ? strtol(limit.p, NULL, 10) : 10;
    cfg.upper = sp_json_true(sp_json_get(c, "upper"));
    fprintf(stderr, "c-policy: mock_model=%s limited_model=%s limit=%ld\n", cfg.mock_model, cfg.limited_model,
            cfg.limit);
    return 0;
}

/* 1 if the request's provider/model names `want` (either "model" or "provider/model"). */
static int model_is(sp_str chat, const char *want)
{
    char provider[128], model[256], full[400];
    if (!want[0] || sp_json_str_copy(sp_json_get(chat, "model"), model, sizeof model) < 0) return 0;
    if (sp_json_str_copy(sp_json_get(chat, "provider"), provider, sizeof provider) < 0) provider[0] = 0;
    snprintf(full, sizeof full, "%s/%s", provider, model);
    return strcmp(model, want) == 0 || strcmp(full, want) == 0;
}

SP_HOOK(pre_hook, in, out)
{
    sp_str chat = sp_json_path(in, "request.chat_request"), model = sp_json_get(chat, "model");
    if (model_is(chat, cfg.mock_model)) {
        sp_out_cstr(out, "{\"context\":{\"c_policy\":\"mocked\"},\"has_short_circuit\":true,\"short_circuit\":"
                         "{\"response\":{\"chat_response\":{\"id\":\"chatcmpl-c-policy\",\"object\":\"chat.completion\","
                         "\"created\":0,\"model\":");
        sp_out_span(out, model);
        sp_out_cstr(out, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
        sp_out_qcstr(out, cfg.mock_reply);
        sp_out_cstr(out, "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,"
                         "\"total_tokens\":0}}}},\"error\":\"\"}");
        return;
    }
    if (model_is(chat, cfg.limited_model) && ++limited_seen > cfg.limit) {
        char msg[300];
        snprintf(msg, sizeof msg, "rate limit of %ld requests reached for %s", cfg.limit, cfg.limited_model);
        sp_out_cstr(out, "{\"context\":{\"c_policy\":\"limited\"},\"has_short_circuit\":true,\"short_circuit\":"
                         "{\"error\":{\"error\":{\"message\":");
        sp_out_qcstr(out, msg);
        sp_out_cstr(out, ",\"type\":\"rate_limit_error\",\"code\":\"rate_limited\",\"param\":null},"
                         "\"status_code\":429,\"allow_fallbacks\":false}},\"error\":\"\"}");
        return;
    }
    sp_out_cstr(out, "{\"context\":{\"c_policy\":\"passed\"},\"has_short_circuit\":false,\"error\":\"\"}");
}

SP_HOOK(post_hook, in, out)
{
    sp_str resp = sp_json_path(in, "response.chat_response"), team = sp_json_path(in, "context.team");
    if (sp_json_true(sp_json_get(in, "has_error")) || !sp_json_is_obj(resp)) {
        sp_out_cstr(out, "{\"context\":{},\"hook_error\":\"\"}"); /* errors pass unchanged */
        return;
    }
    /* The response object with one member inserted first. */
    sp_out_cstr(out, "{\"context\":{},\"response\":{\"chat_response\":{\"sluice_policy\":{\"mark\":");
    sp_out_qcstr(out, cfg.mark);
    sp_out_cstr(out, ",\"team\":");
    sp_out_span(out, team.n ? team : sp_cstr("null"));
    sp_out_cstr(out, "}");
    sp_iter it = sp_iter_of(resp);
    sp_str k, v;
    while (sp_next(&it, &k, &v)) {
        if (sp_key_eq(k, "sluice_policy", 0)) continue;
        sp_out_cstr(out, ",\"");
        sp_out_span(out, k);
        sp_out_cstr(out, "\":");
        sp_out_span(out, v);
    }
    sp_out_cstr(out, "}},\"has_error\":false,\"hook_error\":\"\"}");
}

SP_HOOK(http_stream_chunk_hook, in, out)
{
    sp_str chunk = sp_json_get(in, "chunk");
    sp_str content = sp_json_path(sp_json_at(sp_json_get(chunk, "choices"), 0), "delta.content");
    char text[1024];
    int n = sp_json_str_copy(content, text, sizeof text);
    if (n > 0 && cfg.drop_word[0]) {
        const char *t = text;
        while (isspace((unsigned char)*t)) t++;
        if (strcmp(t, cfg.drop_word) == 0) {
            sp_out_cstr(out, "{\"context\":{\"c_policy_dropped\":true},\"skip\":true,\"has_chunk\":false,\"error\":\"\"}");
            return;
        }
    }
    if (n <= 0 || !cfg.upper) {
        sp_out_cstr(out, "{\"context\":{},\"skip\":false,\"has_chunk\":false,\"error\":\"\"}"); /* unchanged */
        return;
    }
    for (int i = 0; i < n; i++) text[i] = (char)toupper((unsigned char)text[i]);
    /* The chunk with the content string replaced, every other byte kept. */
    sp_out_cstr(out, "{\"context\":{},\"skip\":false,\"has_chunk\":true,\"chunk\":");
    sp_out_raw(out, chunk.p, (sp_u32)(content.p - chunk.p));
    sp_out_str(out, text, (sp_u32)n);
    sp_out_raw(out, content.p + content.n, (sp_u32)(chunk.p + chunk.n - (content.p + content.n)));
    sp_out_cstr(out, ",\"error\":\"\"}");
}
