/*
 * tests/plugin/fuzz_plugin.c - libFuzzer target for the hostile side of the
 * plugin host: a plugin's hook output. The first byte picks the hook, the
 * rest is the output JSON, applied to a sample request/response/chat; then
 * the next hook's input is built from the result (so whatever a plugin
 * wrote must serialize again). Also feeds the base64 decoder.
 */
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin_int.h"

static sj_doc *doc_of(const char *s) { return sj_parse(s, strlen(s), NULL, NULL); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t n;
    free(plg_b64_decode((const char *)data + 1, size - 1, &n));
    sj_doc *out = sj_parse((const char *)data + 1, size - 1, NULL, NULL);
    if (!out) return 0;
    sluice_ctx ctx;
    plg_ctx_init(&ctx, "fuzz");
    sluice_http_request req = {.method = strdup("POST"), .path = strdup("/v1/chat/completions")};
    sluice_map_set(&req.headers, "Content-Type", "application/json");
    sluice_body_set(&req.body, &req.body_len, "{}", 2);
    sluice_http_response resp = {.status_code = 200};
    sj_doc *chunk = doc_of("{\"id\":\"c\",\"choices\":[]}");
    sluice_chat chat = {.request = doc_of("{\"model\":\"a/b\",\"messages\":[],\"top_p\":1}"),
                        .response = doc_of("{\"id\":\"r\"}")};
    bool reported;
    char err[256];
    const sj_val *root = sj_doc_root(out);
    switch (data[0] % 5) {
    case 0: plg_apply_http_pre(root, &ctx, &req, &resp, &reported, err, sizeof err); break;
    case 1: plg_apply_http_post(root, &ctx, &resp, &reported, err, sizeof err); break;
    case 2: plg_apply_chunk(root, &ctx, &chunk, &reported, err, sizeof err); break;
    case 3: plg_apply_pre(root, &ctx, &chat, &reported, err, sizeof err); break;
    default: plg_apply_post(root, &ctx, &chat, &reported, err, sizeof err); break;
    }
    sj_buf b = {0};
    plg_json_http_post_in(&b, &ctx, &req, &resp);
    plg_json_chunk_in(&b, &ctx, &req, chunk);
    plg_json_pre_in(&b, &ctx, &chat);
    plg_json_post_in(&b, &ctx, &chat);
    sj_buf_free(&b);
    sj_doc_free(out);
    sj_doc_free(chunk);
    plg_chat_clear(&chat);
    plg_ctx_clear(&ctx);
    plg_request_clear(&req);
    plg_response_clear(&resp);
    return 0;
}
