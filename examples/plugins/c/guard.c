/*
 * examples/plugins/c/guard.c - an HTTP-level guard in freestanding C (no
 * libc), written with the header-only SDK (examples/plugins/sdk).
 *
 *   clang --target=wasm32 -O2 -nostdlib -ffreestanding -Wl,--no-entry \
 *         -Iexamples/plugins/sdk -o c-guard.wasm examples/plugins/c/guard.c
 *
 * config: {"header": "x-team", "model_alias": "fast", "model_target": "up/gpt-4o"}
 *
 * http_pre_hook: a request under /v1/ without the configured header is
 *   answered 401 right away (an OpenAI-shaped authentication error). Otherwise
 *   the team (the header's value) goes into the context, the header itself is
 *   removed and X-Team-Verified added in its place, X-Plugin-Trail gets
 *   ",c-guard" appended (to show the order of plugins), and a body whose
 *   "model" is the alias is rewritten to the target model.
 * http_post_hook: reads the team back from the context and puts it in the
 *   response header X-Team; appends "c-guard" to X-Post-Trail.
 */
#define SP_PLUGIN_NAME "c-guard"
#include "sluice_plugin_sdk.h"

static sp_str cfg_header = {"x-team", 6};
static char cfg_alias[64], cfg_target[128];

SP_INIT(cfg)
{
    char b[64];
    int n = sp_json_str_copy(sp_json_get(cfg, "header"), b, sizeof b);
    if (n > 0) cfg_header = sp_str_dup(sp_cstr(b)); /* kept: allocated in init */
    sp_json_str_copy(sp_json_get(cfg, "model_alias"), cfg_alias, sizeof cfg_alias);
    sp_json_str_copy(sp_json_get(cfg, "model_target"), cfg_target, sizeof cfg_target);
    return 0;
}

/* Appends "name":"value" to a header object being written; `first` tracks commas. */
static void put_header(sp_out *out, int *first, sp_str raw_key, sp_str json_value)
{
    if (!*first) sp_out_cstr(out, ",");
    *first = 0;
    sp_out_cstr(out, "\"");
    sp_out_span(out, raw_key);
    sp_out_cstr(out, "\":");
    sp_out_span(out, json_value);
}

/* Writes headers minus `drop`, with `trail` (a header name) getting ",name"
 * appended (or set to "name"), plus one extra header when extra_key.n. */
static void put_headers(sp_out *out, sp_str headers, const char *drop, const char *trail,
                        sp_str extra_key, sp_str extra_value)
{
    sp_iter it = sp_iter_of(headers);
    sp_str k, v;
    int first = 1, trailed = 0;
    char buf[512];
    sp_out_cstr(out, "{");
    while (sp_next(&it, &k, &v)) {
        if (drop && sp_key_eq(k, drop, 1)) continue;
        if (sp_key_eq(k, trail, 1)) {
            int n = sp_json_str_copy(v, buf, sizeof buf - sizeof SP_PLUGIN_NAME - 1);
            if (n < 0) continue;
            sp_out o2 = {0, 0, 0, 0};
            sp_out_raw(&o2, buf, (sp_u32)n);
            sp_out_cstr(&o2, "," SP_PLUGIN_NAME);
            sp_out q = {0, 0, 0, 0};
            sp_out_str(&q, o2.p, o2.len);
            sp_str qs = {q.p, q.len};
            put_header(out, &first, k, qs);
            sp_out_release(&q);
            sp_out_release(&o2);
            trailed = 1;
            continue;
        }
        put_header(out, &first, k, v);
    }
    if (!trailed) put_header(out, &first, sp_cstr(trail), sp_cstr("\"" SP_PLUGIN_NAME "\""));
    if (extra_key.n) put_header(out, &first, extra_key, extra_value);
    sp_out_cstr(out, "}");
}

static int starts_with(sp_str json_string, const char *prefix)
{
    char b[512];
    int n = sp_json_str_copy(json_string, b, sizeof b);
    sp_u32 pn = sp_cstrlen(prefix);
    return n >= 0 && (sp_u32)n >= pn && memcmp(b, prefix, pn) == 0;
}

static void deny(sp_out *out)
{
    char header[64];
    sp_u32 hn = cfg_header.n < sizeof header - 1 ? cfg_header.n : (sp_u32)sizeof header - 1;
    memcpy(header, cfg_header.p, hn);
    header[hn] = 0;
    sp_out body = {0, 0, 0, 0};
    sp_out_cstr(&body, "{\"error\":{\"message\":");
    sp_out q = {0, 0, 0, 0};
    sp_out_cstr(&q, "missing header ");
    sp_out_cstr(&q, header);
    sp_out_str(&body, q.p, q.len);
    sp_out_release(&q);
    sp_out_cstr(&body, ",\"type\":\"authentication_error\",\"code\":\"missing_team\",\"param\":null}}");
    sp_out_cstr(out, "{\"context\":{\"c_guard\":\"denied\"},\"has_response\":true,\"response\":{\"status_code\":401,"
                     "\"headers\":{\"Content-Type\":\"application/json\",\"WWW-Authenticate\":\"Team\"},\"body\":");
    sp_out_b64(out, body.p, body.len);
    sp_out_release(&body);
    sp_out_cstr(out, "},\"error\":\"\"}");
}

SP_HOOK(http_pre_hook, in, out)
{
    sp_str req = sp_json_get(in, "request"), headers = sp_json_get(req, "headers");
    if (!starts_with(sp_json_get(req, "path"), "/v1/")) {
        sp_out_cstr(out, "{\"context\":{},\"has_response\":false,\"error\":\"\"}");
        return;
    }
    char header[64];
    sp_u32 hn = cfg_header.n < sizeof header - 1 ? cfg_header.n : (sp_u32)sizeof header - 1;
    memcpy(header, cfg_header.p, hn);
    header[hn] = 0;
    sp_str team = sp_json_get_ci(headers, header);
    if (!sp_json_is_str(team) || team.n == 2) {
        deny(out);
        return;
    }
    sp_out_cstr(out, "{\"context\":{\"team\":");
    sp_out_span(out, team);
    sp_out_cstr(out, ",\"c_guard\":\"passed\"},\"request\":{\"headers\":");
    put_headers(out, headers, header, "X-Plugin-Trail", sp_cstr("X-Team-Verified"), team);

    /* The body: rewrite "model": alias -> target, keeping every other byte. */
    sp_u32 blen;
    char *body = cfg_alias[0] ? sp_b64_decode(sp_json_get(req, "body"), &blen) : 0;
    sp_str b = {body, body ? blen : 0}, model = sp_json_get(b, "model");
    if (model.n && sp_json_str_eq(model, cfg_alias)) {
        sp_out nb = {0, 0, 0, 0};
        sp_out_raw(&nb, b.p, (sp_u32)(model.p - b.p));
        sp_out_qcstr(&nb, cfg_target);
        sp_out_raw(&nb, model.p + model.n, (sp_u32)(b.p + b.n - (model.p + model.n)));
        sp_out_cstr(out, ",\"body\":");
        sp_out_b64(out, nb.p, nb.len);
        sp_out_release(&nb);
    }
    sp_release(body);
    sp_out_cstr(out, "},\"has_response\":false,\"error\":\"\"}");
}

SP_HOOK(http_post_hook, in, out)
{
    sp_str team = sp_json_path(in, "context.team");
    sp_str headers = sp_json_path(in, "response.headers");
    sp_out_cstr(out, "{\"context\":{},\"response\":{\"headers\":");
    put_headers(out, headers, 0, "X-Post-Trail", team.n ? sp_cstr("X-Team") : sp_cstr(""), team);
    sp_out_cstr(out, "},\"error\":\"\"}");
}
