/*
 * anthropic_xlate.c - OpenAI chat request -> Anthropic Messages request, and
 * Anthropic responses, errors and SSE events -> OpenAI shapes. Pure: see
 * anthropic_xlate.h. Mapping tables: docs/anthropic.md.
 *
 * Requests are built as a fresh sj_doc (values copied out of the client's
 * document with sj_copy) and serialized once; responses are parsed and the
 * OpenAI JSON is written by hand onto an sj_buf, the cheaper path for the
 * per-event streaming case.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/anthropic_xlate.h"

#define ANT_MAX_BODY (64u << 20)

static void ant_fail(ant_err *err, int status, const char *type, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void ant_fail(ant_err *err, int status, const char *type, const char *code, const char *fmt, ...)
{
    if (err == NULL)
        return;
    err->status = status;
    snprintf(err->type, sizeof(err->type), "%s", type);
    snprintf(err->code, sizeof(err->code), "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

/* ---- request: OpenAI -> Anthropic ------------------------------------------------ */

/* Request building context: the output document and the first error. */
typedef struct ant_rb {
    sj_doc *d;
    ant_err *err;
    int status;   /* 0 until the first error */
} ant_rb;

static sj_val *ant_str(ant_rb *b, const char *s, size_t n)
{
    return sj_new_str(b->d, s, n);
}

static void ant_put(ant_rb *b, sj_val *obj, const char *key, sj_val *v)
{
    if (v == NULL || !sj_set(b->d, obj, key, v)) {
        if (b->status == 0)
            ant_fail(b->err, 500, "server_error", NULL, "out of memory");
        b->status = b->status ? b->status : 500;
    }
}

static void ant_bad(ant_rb *b, const char *param, const char *what)
{
    if (b->status == 0) {
        ant_fail(b->err, 400, "invalid_request_error", "invalid_value", "%s: %s", param, what);
        b->status = 400;
    }
}

static sj_val *ant_text_block(ant_rb *b, const char *s, size_t n)
{
    sj_val *o = sj_new_obj(b->d);
    ant_put(b, o, "type", sj_new_cstr(b->d, "text"));
    ant_put(b, o, "text", ant_str(b, s, n));
    return o;
}

/* An OpenAI image_url part -> an Anthropic image block: data: URLs become a
 * base64 source, http(s) URLs a url source. NULL (error set) otherwise. */
static sj_val *ant_image_block(ant_rb *b, const sj_val *part)
{
    const sj_val *iu = sj_get(part, "image_url");
    size_t ulen = 0;
    const char *url = sj_str(sj_is_object(iu) ? sj_get(iu, "url") : iu, &ulen);
    if (url == NULL) {
        ant_bad(b, "image_url", "url must be a string");
        return NULL;
    }
    sj_val *src = sj_new_obj(b->d);
    if (ulen > 5 && memcmp(url, "data:", 5) == 0) {
        const char *comma = memchr(url, ',', ulen);
        const char *semi = comma ? memchr(url + 5, ';', (size_t)(comma - url - 5)) : NULL;
        if (comma == NULL || semi == NULL || (size_t)(comma - semi) != 7 || memcmp(semi, ";base64", 7) != 0 ||
            semi == url + 5) {
            ant_bad(b, "image_url", "a data: URL must be data:<media type>;base64,<data>");
            return NULL;
        }
        ant_put(b, src, "type", sj_new_cstr(b->d, "base64"));
        ant_put(b, src, "media_type", ant_str(b, url + 5, (size_t)(semi - url - 5)));
        ant_put(b, src, "data", ant_str(b, comma + 1, ulen - (size_t)(comma + 1 - url)));
    } else if ((ulen > 7 && memcmp(url, "http://", 7) == 0) || (ulen > 8 && memcmp(url, "https://", 8) == 0)) {
        ant_put(b, src, "type", sj_new_cstr(b->d, "url"));
        ant_put(b, src, "url", ant_str(b, url, ulen));
    } else {
        ant_bad(b, "image_url", "the url must be a data: URL or an http(s) URL");
        return NULL;
    }
    sj_val *o = sj_new_obj(b->d);
    ant_put(b, o, "type", sj_new_cstr(b->d, "image"));
    ant_put(b, o, "source", src);
    return o;
}

/* Appends the blocks of an OpenAI message content (string or parts) to arr.
 * Empty texts are skipped: Anthropic rejects empty text blocks. */
static void ant_content_blocks(ant_rb *b, const sj_val *content, sj_val *arr, bool allow_images)
{
    size_t n;
    const char *s = sj_str(content, &n);
    if (s) {
        if (n > 0)
            sj_append(arr, ant_text_block(b, s, n));
        return;
    }
    for (sj_val *p = sj_first(sj_is_array(content) ? content : NULL); p; p = sj_next(p)) {
        const sj_val *type = sj_get(p, "type");
        if (sj_is_string(p)) {
            s = sj_str(p, &n);
            if (n > 0)
                sj_append(arr, ant_text_block(b, s, n));
        } else if (sj_str_eq(type, "text")) {
            s = sj_str(sj_get(p, "text"), &n);
            if (s == NULL)
                ant_bad(b, "content", "a text part needs a string \"text\"");
            else if (n > 0)
                sj_append(arr, ant_text_block(b, s, n));
        } else if (sj_str_eq(type, "image_url") && allow_images) {
            sj_val *img = ant_image_block(b, p);
            if (img)
                sj_append(arr, img);
        } else {
            ant_bad(b, "content", "unsupported content part (expected text or image_url)");
        }
    }
}

/* Joined text of an OpenAI content (for system and tool messages). */
static void ant_content_text(const sj_val *content, sj_buf *out)
{
    size_t n;
    const char *s = sj_str(content, &n);
    if (s) {
        sj_buf_raw(out, s, n);
        return;
    }
    size_t start = out->len; /* parts of this content join with "\n" */
    for (sj_val *p = sj_first(sj_is_array(content) ? content : NULL); p; p = sj_next(p)) {
        s = sj_str(sj_is_string(p) ? p : sj_get(p, "text"), &n);
        if (s == NULL)
            continue;
        if (out->len > start && n > 0)
            sj_buf_raw(out, "\n", 1);
        sj_buf_raw(out, s, n);
    }
}

/* assistant tool_calls -> tool_use blocks; the arguments text must be JSON. */
static void ant_tool_uses(ant_rb *b, const sj_val *calls, sj_val *arr)
{
    for (sj_val *tc = sj_first(sj_is_array(calls) ? calls : NULL); tc; tc = sj_next(tc)) {
        const sj_val *fn = sj_get(tc, "function");
        size_t idl, nl, al;
        const char *id = sj_str(sj_get(tc, "id"), &idl);
        const char *name = sj_str(sj_get(fn, "name"), &nl);
        const char *args = sj_str(sj_get(fn, "arguments"), &al);
        if (id == NULL || name == NULL) {
            ant_bad(b, "tool_calls", "each tool call needs a string id and function.name");
            return;
        }
        sj_val *input;
        if (args == NULL || al == 0) {
            input = sj_new_obj(b->d);
        } else {
            sj_doc *ad = sj_parse(args, al, NULL, NULL);
            if (ad == NULL || !sj_is_object(sj_doc_root(ad))) {
                sj_doc_free(ad);
                ant_bad(b, "tool_calls", "function.arguments must be a JSON object text");
                return;
            }
            input = sj_copy(b->d, sj_doc_root(ad));
            sj_doc_free(ad);
        }
        sj_val *o = sj_new_obj(b->d);
        ant_put(b, o, "type", sj_new_cstr(b->d, "tool_use"));
        ant_put(b, o, "id", ant_str(b, id, idl));
        ant_put(b, o, "name", ant_str(b, name, nl));
        ant_put(b, o, "input", input);
        sj_append(arr, o);
    }
}

/* Appends blocks as a message of `role`, merged into the previous message
 * when it has the same role (Anthropic requires alternation). */
static void ant_push(ant_rb *b, sj_val *msgs, const char *role, sj_val *blocks)
{
    if (sj_len(blocks) == 0)
        return;
    size_t n = sj_len(msgs);
    sj_val *last = n ? sj_at(msgs, n - 1) : NULL;
    if (last && sj_str_eq(sj_get(last, "role"), role)) {
        sj_val *dst = sj_get(last, "content");
        sj_val *e;
        while ((e = sj_first(blocks)) != NULL) {
            sj_detach(blocks, e);
            sj_append(dst, e);
        }
        return;
    }
    sj_val *m = sj_new_obj(b->d);
    ant_put(b, m, "role", sj_new_cstr(b->d, role));
    ant_put(b, m, "content", blocks);
    sj_append(msgs, m);
}

static void ant_tools(ant_rb *b, const sj_val *tools, sj_val *root)
{
    if (!sj_is_array(tools) || sj_len(tools) == 0)
        return;
    sj_val *arr = sj_new_arr(b->d);
    for (sj_val *t = sj_first(tools); t; t = sj_next(t)) {
        const sj_val *fn = sj_get(t, "function");
        if (!sj_str_eq(sj_get(t, "type"), "function") || !sj_is_string(sj_get(fn, "name"))) {
            ant_bad(b, "tools", "only function tools with a name are supported");
            return;
        }
        sj_val *o = sj_new_obj(b->d);
        ant_put(b, o, "name", sj_copy(b->d, sj_get(fn, "name")));
        if (sj_is_string(sj_get(fn, "description")))
            ant_put(b, o, "description", sj_copy(b->d, sj_get(fn, "description")));
        const sj_val *params = sj_get(fn, "parameters");
        if (sj_is_object(params)) {
            ant_put(b, o, "input_schema", sj_copy(b->d, params));
        } else {
            sj_val *schema = sj_new_obj(b->d);
            ant_put(b, schema, "type", sj_new_cstr(b->d, "object"));
            ant_put(b, o, "input_schema", schema);
        }
        sj_append(arr, o);
    }
    ant_put(b, root, "tools", arr);
}

static void ant_tool_choice(ant_rb *b, const sj_val *tc, sj_val *root)
{
    if (tc == NULL || sj_is_null(tc))
        return;
    sj_val *o = sj_new_obj(b->d);
    if (sj_str_eq(tc, "auto")) {
        ant_put(b, o, "type", sj_new_cstr(b->d, "auto"));
    } else if (sj_str_eq(tc, "none")) {
        ant_put(b, o, "type", sj_new_cstr(b->d, "none"));
    } else if (sj_str_eq(tc, "required")) {
        ant_put(b, o, "type", sj_new_cstr(b->d, "any"));
    } else if (sj_is_object(tc) && sj_is_string(sj_get(sj_get(tc, "function"), "name"))) {
        ant_put(b, o, "type", sj_new_cstr(b->d, "tool"));
        ant_put(b, o, "name", sj_copy(b->d, sj_get(sj_get(tc, "function"), "name")));
    } else {
        ant_bad(b, "tool_choice", "expected \"auto\", \"none\", \"required\" or {\"type\":\"function\",...}");
        return;
    }
    ant_put(b, root, "tool_choice", o);
}

static void ant_messages(ant_rb *b, const sj_val *oai, sj_val *root)
{
    sj_buf sys = {0};
    sj_val *msgs = sj_new_arr(b->d);
    for (sj_val *m = sj_first(sj_get(oai, "messages")); m && b->status == 0; m = sj_next(m)) {
        const sj_val *role = sj_get(m, "role");
        const sj_val *content = sj_get(m, "content");
        sj_val *blocks = sj_new_arr(b->d);
        if (sj_str_eq(role, "system") || sj_str_eq(role, "developer")) {
            if (sys.len > 0)
                sj_buf_raw(&sys, "\n\n", 2);
            ant_content_text(content, &sys);
        } else if (sj_str_eq(role, "user")) {
            ant_content_blocks(b, content, blocks, true);
            ant_push(b, msgs, "user", blocks);
        } else if (sj_str_eq(role, "assistant")) {
            ant_content_blocks(b, content, blocks, false);
            ant_tool_uses(b, sj_get(m, "tool_calls"), blocks);
            ant_push(b, msgs, "assistant", blocks);
        } else if (sj_str_eq(role, "tool")) {
            size_t idl;
            const char *id = sj_str(sj_get(m, "tool_call_id"), &idl);
            if (id == NULL) {
                ant_bad(b, "messages", "a tool message needs a string tool_call_id");
                break;
            }
            sj_buf t = {0};
            ant_content_text(content, &t);
            sj_val *r = sj_new_obj(b->d);
            ant_put(b, r, "type", sj_new_cstr(b->d, "tool_result"));
            ant_put(b, r, "tool_use_id", ant_str(b, id, idl));
            ant_put(b, r, "content", ant_str(b, t.data ? t.data : "", t.len));
            sj_buf_free(&t);
            sj_append(blocks, r);
            ant_push(b, msgs, "user", blocks);
        } else {
            ant_bad(b, "messages", "role must be system, developer, user, assistant or tool");
        }
    }
    if (sys.len > 0)
        ant_put(b, root, "system", ant_str(b, sys.data, sys.len));
    sj_buf_free(&sys);
    ant_put(b, root, "messages", msgs);
}

int ant_req_from_openai(const sj_val *oai, const char *model, sj_buf *out, ant_err *err)
{
    if (!sj_is_object(oai) || !sj_is_array(sj_get(oai, "messages"))) {
        ant_fail(err, 400, "invalid_request_error", "invalid_value", "messages must be an array");
        return 400;
    }
    ant_rb b = {.d = sj_doc_new(), .err = err};
    if (b.d == NULL) {
        ant_fail(err, 500, "server_error", NULL, "out of memory");
        return 500;
    }
    sj_val *root = sj_new_obj(b.d);
    sj_doc_set_root(b.d, root);
    ant_put(&b, root, "model", sj_new_cstr(b.d, model));
    ant_messages(&b, oai, root);

    const sj_val *mt = sj_get(oai, "max_completion_tokens");
    if (!sj_is_number(mt))
        mt = sj_get(oai, "max_tokens");
    ant_put(&b, root, "max_tokens", sj_is_number(mt) ? sj_copy(b.d, mt) : sj_new_i64(b.d, ANT_DEFAULT_MAX_TOKENS));
    static const char *const nums[] = {"temperature", "top_p"};
    for (size_t i = 0; i < 2; i++)
        if (sj_is_number(sj_get(oai, nums[i])))
            ant_put(&b, root, nums[i], sj_copy(b.d, sj_get(oai, nums[i])));
    const sj_val *stop = sj_get(oai, "stop");
    if (sj_is_string(stop)) {
        sj_val *a = sj_new_arr(b.d);
        sj_append(a, sj_copy(b.d, stop));
        ant_put(&b, root, "stop_sequences", a);
    } else if (sj_is_array(stop) && sj_len(stop) > 0) {
        sj_val *a = sj_new_arr(b.d);
        for (sj_val *s = sj_first(stop); s; s = sj_next(s)) {
            if (!sj_is_string(s))
                ant_bad(&b, "stop", "must be a string or an array of strings");
            sj_append(a, sj_copy(b.d, s));
        }
        ant_put(&b, root, "stop_sequences", a);
    }
    if (sj_bool(sj_get(oai, "stream"), false))
        ant_put(&b, root, "stream", sj_new_bool(b.d, true));
    if (sj_is_string(sj_get(oai, "user"))) {
        sj_val *md = sj_new_obj(b.d);
        ant_put(&b, md, "user_id", sj_copy(b.d, sj_get(oai, "user")));
        ant_put(&b, root, "metadata", md);
    }
    ant_tools(&b, sj_get(oai, "tools"), root);
    ant_tool_choice(&b, sj_get(oai, "tool_choice"), root);
    if (b.status == 0 && !sj_buf_val(out, root)) {
        ant_fail(err, 500, "server_error", NULL, "out of memory");
        b.status = 500;
    }
    sj_doc_free(b.d);
    return b.status;
}

/* ---- responses, errors ------------------------------------------------------------ */

const char *ant_finish_reason(const char *stop_reason)
{
    if (stop_reason == NULL)
        return "stop";
    if (strcmp(stop_reason, "max_tokens") == 0)
        return "length";
    if (strcmp(stop_reason, "tool_use") == 0)
        return "tool_calls";
    if (strcmp(stop_reason, "refusal") == 0)
        return "content_filter";
    return "stop"; /* end_turn, stop_sequence, pause_turn */
}

static void ant_usage_json(sj_buf *o, int64_t in, int64_t out)
{
    sj_buf_cstr(o, "\"usage\":{\"prompt_tokens\":");
    sj_buf_i64(o, in);
    sj_buf_cstr(o, ",\"completion_tokens\":");
    sj_buf_i64(o, out);
    sj_buf_cstr(o, ",\"total_tokens\":");
    sj_buf_i64(o, in + out);
    sj_buf_cstr(o, "}");
}

int64_t ant_token_count(const sj_val *v)
{
    int64_t n = 0;
    if (!sj_i64(v, &n) || n < 0 || n > ((int64_t)1 << 53))
        return 0;
    return n;
}

/* Writes a string member, or "" when v is not a string. */
static void ant_str_or_empty(sj_buf *o, const sj_val *v)
{
    size_t n = 0;
    const char *s = sj_str(v, &n);
    sj_buf_str(o, s ? s : "", s ? n : 0);
}

int ant_resp_to_openai(const char *body, size_t len, long created, sj_buf *o, ant_err *err)
{
    sj_doc *d = sj_parse(body, len, NULL, NULL);
    const sj_val *r = sj_doc_root(d);
    const sj_val *content = sj_get(r, "content");
    if (!sj_is_object(r) || !sj_is_array(content)) {
        sj_doc_free(d);
        ant_fail(err, 502, "server_error", "bad_upstream_response",
                 "the Anthropic response is not a message object with a content array");
        return -1;
    }
    sj_buf text = {0};
    bool any_text = false;
    for (sj_val *c = sj_first(content); c; c = sj_next(c))
        if (sj_str_eq(sj_get(c, "type"), "text")) {
            size_t n = 0;
            const char *s = sj_str(sj_get(c, "text"), &n);
            if (s)
                sj_buf_raw(&text, s, n);
            any_text = true;
        }
    sj_buf_cstr(o, "{\"id\":");
    ant_str_or_empty(o, sj_get(r, "id"));
    sj_buf_cstr(o, ",\"object\":\"chat.completion\",\"created\":");
    sj_buf_i64(o, created);
    sj_buf_cstr(o, ",\"model\":");
    ant_str_or_empty(o, sj_get(r, "model"));
    sj_buf_cstr(o, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    if (any_text)
        sj_buf_str(o, text.data ? text.data : "", text.len);
    else
        sj_buf_cstr(o, "null");
    sj_buf_free(&text);
    int ntool = 0;
    for (sj_val *c = sj_first(content); c; c = sj_next(c)) {
        if (!sj_str_eq(sj_get(c, "type"), "tool_use"))
            continue;
        sj_buf_cstr(o, ntool++ ? ",{\"id\":" : ",\"tool_calls\":[{\"id\":");
        ant_str_or_empty(o, sj_get(c, "id"));
        sj_buf_cstr(o, ",\"type\":\"function\",\"function\":{\"name\":");
        ant_str_or_empty(o, sj_get(c, "name"));
        sj_buf_cstr(o, ",\"arguments\":");
        /* the arguments are the input object as JSON text */
        const sj_val *input = sj_get(c, "input");
        char *args = input ? sj_write(input, NULL) : NULL;
        sj_buf_str(o, args ? args : "{}", args ? strlen(args) : 2);
        free(args);
        sj_buf_cstr(o, "}}");
    }
    if (ntool)
        sj_buf_cstr(o, "]");
    sj_buf_cstr(o, "},\"finish_reason\":");
    const char *fr = ant_finish_reason(sj_str(sj_get(r, "stop_reason"), NULL));
    sj_buf_str(o, fr, strlen(fr));
    sj_buf_cstr(o, "}],");
    const sj_val *u = sj_get(r, "usage");
    ant_usage_json(o, ant_token_count(sj_get(u, "input_tokens")), ant_token_count(sj_get(u, "output_tokens")));
    sj_buf_cstr(o, "}");
    sj_doc_free(d);
    if (o->oom) {
        ant_fail(err, 500, "server_error", NULL, "out of memory");
        return -1;
    }
    return 0;
}

/* Anthropic error types and what the client gets. overloaded_error (HTTP 529,
 * a status most clients do not know) becomes 503 so that clients and Sluice's
 * fallbacks treat it as "try again / elsewhere"; api_error becomes 502 (the
 * gateway is fine, its upstream is not). */
static const struct {
    const char *ant_type;
    int status;
    const char *oai_type;
} ant_errmap[] = {
    {"invalid_request_error", 400, "invalid_request_error"},
    {"authentication_error", 401, "authentication_error"},
    {"billing_error", 402, "invalid_request_error"},
    {"permission_error", 403, "permission_error"},
    {"not_found_error", 404, "invalid_request_error"},
    {"request_too_large", 413, "invalid_request_error"},
    {"rate_limit_error", 429, "rate_limit_error"},
    {"api_error", 502, "server_error"},
    {"overloaded_error", 503, "server_error"},
    {"timeout_error", 504, "server_error"},
};

void ant_error_to_openai(int http_status, const char *body, size_t len, ant_err *err)
{
    sj_doc *d = sj_parse(body ? body : "", body ? len : 0, NULL, NULL);
    const sj_val *e = sj_get(sj_doc_root(d), "error");
    const char *atype = sj_str(sj_get(e, "type"), NULL);
    const char *msg = sj_str(sj_get(e, "message"), NULL);
    int status = 0;
    const char *otype = NULL;
    for (size_t i = 0; atype && i < sizeof(ant_errmap) / sizeof(ant_errmap[0]); i++)
        if (strcmp(atype, ant_errmap[i].ant_type) == 0) {
            status = ant_errmap[i].status;
            otype = ant_errmap[i].oai_type;
        }
    if (status == 0) { /* unknown or no type: go by the HTTP status */
        status = http_status ? http_status : 502;
        if (status == 529)
            status = 503;
        else if (status < 400 || status > 599 || (status >= 500 && status != 503 && status != 504))
            status = 502;
        otype = status == 401 ? "authentication_error"
              : status == 403 ? "permission_error"
              : status == 429 ? "rate_limit_error"
              : status >= 500 ? "server_error" : "invalid_request_error";
    }
    if (http_status == 0) /* an in-stream error event */
        ant_fail(err, status, otype, atype, "Anthropic stream error: %.400s", msg ? msg : "(no message)");
    else
        ant_fail(err, status, otype, atype, "Anthropic returned HTTP %d%s%.400s", http_status, msg ? ": " : "",
                 msg ? msg : "");
    sj_doc_free(d);
}

/* ---- streaming: Anthropic events -> OpenAI chunks ------------------------------------ */

void ant_stream_init(ant_stream *s, long created)
{
    memset(s, 0, sizeof(*s));
    s->created = created;
    s->cur_tool = -1;
}

void ant_stream_free(ant_stream *s)
{
    sj_buf_free(&s->scratch);
}

/* Starts a chunk in s->scratch up to the delta object's opening brace. */
static sj_buf *ant_chunk_begin(ant_stream *s)
{
    sj_buf *o = &s->scratch;
    o->len = 0;
    sj_buf_cstr(o, "{\"id\":");
    sj_buf_str(o, s->id, strlen(s->id));
    sj_buf_cstr(o, ",\"object\":\"chat.completion.chunk\",\"created\":");
    sj_buf_i64(o, s->created);
    sj_buf_cstr(o, ",\"model\":");
    sj_buf_str(o, s->model, strlen(s->model));
    sj_buf_cstr(o, ",\"choices\":[{\"index\":0,\"delta\":{");
    return o;
}

static void ant_chunk_end(ant_stream *s, const char *finish, ant_emit_fn emit, void *ud)
{
    sj_buf *o = &s->scratch;
    sj_buf_cstr(o, "},\"finish_reason\":");
    if (finish)
        sj_buf_str(o, finish, strlen(finish));
    else
        sj_buf_cstr(o, "null");
    sj_buf_cstr(o, "}]");
    if (finish) {
        sj_buf_cstr(o, ",");
        ant_usage_json(o, s->input_tokens, s->output_tokens);
    }
    sj_buf_cstr(o, "}");
    if (!o->oom)
        emit(ud, o->data, o->len);
}

static void ant_copy_field(char *dst, size_t cap, const sj_val *v)
{
    size_t n = 0;
    const char *s = sj_str(v, &n);
    if (s == NULL || n >= cap || strlen(s) != n)
        n = 0;
    memcpy(dst, s ? s : "", n);
    dst[n] = '\0';
}

static void ant_final_chunk(ant_stream *s, const char *finish, ant_emit_fn emit, void *ud)
{
    if (s->final_sent)
        return;
    s->final_sent = true;
    ant_chunk_begin(s);
    ant_chunk_end(s, finish, emit, ud);
}

int ant_stream_event(ant_stream *s, const char *event, size_t event_len, const char *data, size_t len,
                     ant_emit_fn emit, void *ud, ant_err *err)
{
    (void)event;
    (void)event_len; /* the data's "type" says the same and is always there */
    sj_doc *d = sj_parse(data, len, NULL, NULL);
    const sj_val *r = sj_doc_root(d);
    const char *type = sj_str(sj_get(r, "type"), NULL);
    int rc = ANT_SE_OK;
    if (!sj_is_object(r) || type == NULL) {
        ant_fail(err, 502, "server_error", "bad_upstream_response",
                 "Anthropic sent an event that is not a JSON object with a type");
        rc = ANT_SE_BAD;
    } else if (strcmp(type, "message_start") == 0) {
        const sj_val *m = sj_get(r, "message");
        ant_copy_field(s->id, sizeof(s->id), sj_get(m, "id"));
        ant_copy_field(s->model, sizeof(s->model), sj_get(m, "model"));
        s->input_tokens = ant_token_count(sj_get(sj_get(m, "usage"), "input_tokens"));
        s->output_tokens = ant_token_count(sj_get(sj_get(m, "usage"), "output_tokens"));
        if (!s->started) {
            s->started = true;
            sj_buf *o = ant_chunk_begin(s);
            sj_buf_cstr(o, "\"role\":\"assistant\",\"content\":\"\"");
            ant_chunk_end(s, NULL, emit, ud);
        }
    } else if (strcmp(type, "content_block_start") == 0) {
        const sj_val *cb = sj_get(r, "content_block");
        s->cur_tool = -1;
        if (sj_str_eq(sj_get(cb, "type"), "tool_use")) {
            s->cur_tool = s->next_tool++;
            sj_buf *o = ant_chunk_begin(s);
            sj_buf_cstr(o, "\"tool_calls\":[{\"index\":");
            sj_buf_i64(o, s->cur_tool);
            sj_buf_cstr(o, ",\"id\":");
            ant_str_or_empty(o, sj_get(cb, "id"));
            sj_buf_cstr(o, ",\"type\":\"function\",\"function\":{\"name\":");
            ant_str_or_empty(o, sj_get(cb, "name"));
            sj_buf_cstr(o, ",\"arguments\":\"\"}}]");
            ant_chunk_end(s, NULL, emit, ud);
        } else if (sj_str_eq(sj_get(cb, "type"), "text")) {
            size_t n = 0;
            const char *t = sj_str(sj_get(cb, "text"), &n);
            if (t && n > 0) { /* a text block may start with text already */
                sj_buf *o = ant_chunk_begin(s);
                sj_buf_cstr(o, "\"content\":");
                sj_buf_str(o, t, n);
                ant_chunk_end(s, NULL, emit, ud);
            }
        }
    } else if (strcmp(type, "content_block_delta") == 0) {
        const sj_val *dl = sj_get(r, "delta");
        size_t n = 0;
        const char *t;
        if (sj_str_eq(sj_get(dl, "type"), "text_delta") && (t = sj_str(sj_get(dl, "text"), &n)) != NULL) {
            sj_buf *o = ant_chunk_begin(s);
            sj_buf_cstr(o, "\"content\":");
            sj_buf_str(o, t, n);
            ant_chunk_end(s, NULL, emit, ud);
        } else if (sj_str_eq(sj_get(dl, "type"), "input_json_delta") && s->cur_tool >= 0 &&
                   (t = sj_str(sj_get(dl, "partial_json"), &n)) != NULL) {
            sj_buf *o = ant_chunk_begin(s);
            sj_buf_cstr(o, "\"tool_calls\":[{\"index\":");
            sj_buf_i64(o, s->cur_tool);
            sj_buf_cstr(o, ",\"function\":{\"arguments\":");
            sj_buf_str(o, t, n);
            sj_buf_cstr(o, "}}]");
            ant_chunk_end(s, NULL, emit, ud);
        } /* thinking / signature / citations deltas have no OpenAI form: dropped */
    } else if (strcmp(type, "content_block_stop") == 0) {
        s->cur_tool = -1;
    } else if (strcmp(type, "message_delta") == 0) {
        const sj_val *u = sj_get(r, "usage");
        if (sj_get(u, "output_tokens"))
            s->output_tokens = ant_token_count(sj_get(u, "output_tokens"));
        if (sj_get(u, "input_tokens"))
            s->input_tokens = ant_token_count(sj_get(u, "input_tokens"));
        const sj_val *sr = sj_get(sj_get(r, "delta"), "stop_reason");
        if (sj_is_string(sr))
            ant_final_chunk(s, ant_finish_reason(sj_str(sr, NULL)), emit, ud);
    } else if (strcmp(type, "message_stop") == 0) {
        ant_final_chunk(s, "stop", emit, ud);
        s->stopped = true;
        rc = ANT_SE_STOP;
    } else if (strcmp(type, "error") == 0) {
        /* an error event carries the same object as an error response */
        ant_error_to_openai(0, data, len, err);
        rc = ANT_SE_ERROR;
    } /* ping and unknown event types are ignored, as Anthropic asks clients to */
    sj_doc_free(d);
    return rc;
}
