/*
 * anthropic_rev.c - the drop-in direction: an Anthropic Messages request from
 * a client -> the internal OpenAI form, and OpenAI responses and chunks ->
 * Anthropic messages and SSE events. Pure: see anthropic_xlate.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/anthropic_xlate.h"

/* Building context for the OpenAI document, with the first error. */
typedef struct rev_b {
    sj_doc *d;
    ant_err *err;
    int status;
} rev_b;

static void rev_bad(rev_b *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rev_bad(rev_b *b, const char *fmt, ...)
{
    if (b->status != 0)
        return;
    b->status = 400;
    if (b->err == NULL)
        return;
    b->err->status = 400;
    snprintf(b->err->type, sizeof(b->err->type), "invalid_request_error");
    b->err->code[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err->message, sizeof(b->err->message), fmt, ap);
    va_end(ap);
}

static void rev_put(rev_b *b, sj_val *obj, const char *key, sj_val *v)
{
    if (v == NULL || !sj_set(b->d, obj, key, v)) {
        rev_bad(b, "out of memory");
        if (b->err)
            b->err->status = 500;
        b->status = 500;
    }
}

static sj_val *rev_str(rev_b *b, const char *s, size_t n)
{
    return sj_new_str(b->d, s, n);
}

/* Joined text of an Anthropic content: a string or text blocks. */
static void rev_text(const sj_val *content, sj_buf *out)
{
    size_t n;
    const char *s = sj_str(content, &n);
    if (s) {
        sj_buf_raw(out, s, n);
        return;
    }
    size_t start = out->len;
    for (sj_val *c = sj_first(sj_is_array(content) ? content : NULL); c; c = sj_next(c))
        if (sj_str_eq(sj_get(c, "type"), "text") && (s = sj_str(sj_get(c, "text"), &n)) != NULL) {
            if (out->len > start)
                sj_buf_raw(out, "\n", 1);
            sj_buf_raw(out, s, n);
        }
}

static sj_val *rev_msg(rev_b *b, const char *role)
{
    sj_val *m = sj_new_obj(b->d);
    rev_put(b, m, "role", sj_new_cstr(b->d, role));
    return m;
}

/* An Anthropic image block -> an OpenAI image_url part. */
static sj_val *rev_image(rev_b *b, const sj_val *blk)
{
    const sj_val *src = sj_get(blk, "source");
    sj_buf url = {0};
    size_t n, mn;
    const char *s;
    if (sj_str_eq(sj_get(src, "type"), "base64") && (s = sj_str(sj_get(src, "data"), &n)) != NULL &&
        sj_str(sj_get(src, "media_type"), &mn) != NULL) {
        sj_buf_cstr(&url, "data:");
        sj_buf_raw(&url, sj_str(sj_get(src, "media_type"), NULL), mn);
        sj_buf_cstr(&url, ";base64,");
        sj_buf_raw(&url, s, n);
    } else if (sj_str_eq(sj_get(src, "type"), "url") && (s = sj_str(sj_get(src, "url"), &n)) != NULL) {
        sj_buf_raw(&url, s, n);
    } else {
        rev_bad(b, "an image block needs a base64 source (media_type, data) or a url source");
        return NULL;
    }
    sj_val *iu = sj_new_obj(b->d);
    rev_put(b, iu, "url", rev_str(b, url.data ? url.data : "", url.len));
    sj_buf_free(&url);
    sj_val *part = sj_new_obj(b->d);
    rev_put(b, part, "type", sj_new_cstr(b->d, "image_url"));
    rev_put(b, part, "image_url", iu);
    return part;
}

/* One user message: tool_result blocks become "tool" messages (first, since
 * they answer the previous assistant turn), the rest one user message. */
static void rev_user(rev_b *b, const sj_val *content, sj_val *msgs)
{
    if (sj_is_string(content)) {
        sj_val *m = rev_msg(b, "user");
        rev_put(b, m, "content", sj_copy(b->d, content));
        sj_append(msgs, m);
        return;
    }
    sj_val *parts = sj_new_arr(b->d);
    for (sj_val *c = sj_first(content); c && b->status == 0; c = sj_next(c)) {
        const sj_val *type = sj_get(c, "type");
        if (sj_str_eq(type, "text")) {
            if (!sj_is_string(sj_get(c, "text"))) {
                rev_bad(b, "messages: a text block needs a string \"text\"");
                break;
            }
            sj_val *p = sj_new_obj(b->d);
            rev_put(b, p, "type", sj_new_cstr(b->d, "text"));
            rev_put(b, p, "text", sj_copy(b->d, sj_get(c, "text")));
            sj_append(parts, p);
        } else if (sj_str_eq(type, "image")) {
            sj_val *p = rev_image(b, c);
            if (p)
                sj_append(parts, p);
        } else if (sj_str_eq(type, "tool_result")) {
            if (!sj_is_string(sj_get(c, "tool_use_id"))) {
                rev_bad(b, "messages: a tool_result block needs a string tool_use_id");
                break;
            }
            sj_buf t = {0};
            rev_text(sj_get(c, "content"), &t);
            sj_val *m = rev_msg(b, "tool");
            rev_put(b, m, "tool_call_id", sj_copy(b->d, sj_get(c, "tool_use_id")));
            rev_put(b, m, "content", rev_str(b, t.data ? t.data : "", t.len));
            sj_buf_free(&t);
            sj_append(msgs, m);
        } else {
            rev_bad(b, "messages: unsupported content block type in a user message (text, image, tool_result)");
        }
    }
    if (sj_len(parts) > 0) {
        sj_val *m = rev_msg(b, "user");
        rev_put(b, m, "content", parts);
        sj_append(msgs, m);
    }
}

static void rev_assistant(rev_b *b, const sj_val *content, sj_val *msgs)
{
    sj_val *m = rev_msg(b, "assistant");
    if (sj_is_string(content)) {
        rev_put(b, m, "content", sj_copy(b->d, content));
        sj_append(msgs, m);
        return;
    }
    sj_buf text = {0};
    sj_val *calls = sj_new_arr(b->d);
    for (sj_val *c = sj_first(content); c && b->status == 0; c = sj_next(c)) {
        const sj_val *type = sj_get(c, "type");
        size_t n;
        const char *s;
        if (sj_str_eq(type, "text") && (s = sj_str(sj_get(c, "text"), &n)) != NULL) {
            sj_buf_raw(&text, s, n);
        } else if (sj_str_eq(type, "tool_use")) {
            if (!sj_is_string(sj_get(c, "id")) || !sj_is_string(sj_get(c, "name"))) {
                rev_bad(b, "messages: a tool_use block needs a string id and name");
                break;
            }
            const sj_val *input = sj_get(c, "input");
            char *args = input ? sj_write(input, &n) : NULL;
            sj_val *fn = sj_new_obj(b->d);
            rev_put(b, fn, "name", sj_copy(b->d, sj_get(c, "name")));
            rev_put(b, fn, "arguments", args ? rev_str(b, args, n) : sj_new_cstr(b->d, "{}"));
            free(args);
            sj_val *tc = sj_new_obj(b->d);
            rev_put(b, tc, "id", sj_copy(b->d, sj_get(c, "id")));
            rev_put(b, tc, "type", sj_new_cstr(b->d, "function"));
            rev_put(b, tc, "function", fn);
            sj_append(calls, tc);
        } /* thinking and redacted_thinking blocks have no OpenAI form */
    }
    rev_put(b, m, "content", text.len || sj_len(calls) == 0 ? rev_str(b, text.data ? text.data : "", text.len)
                                                            : sj_new_null(b->d));
    sj_buf_free(&text);
    if (sj_len(calls) > 0)
        rev_put(b, m, "tool_calls", calls);
    sj_append(msgs, m);
}

static void rev_tools(rev_b *b, const sj_val *ant, sj_val *root)
{
    const sj_val *tools = sj_get(ant, "tools");
    if (sj_is_array(tools) && sj_len(tools) > 0) {
        sj_val *arr = sj_new_arr(b->d);
        for (sj_val *t = sj_first(tools); t; t = sj_next(t)) {
            if (!sj_is_string(sj_get(t, "name")) || (sj_get(t, "type") && !sj_str_eq(sj_get(t, "type"), "custom"))) {
                rev_bad(b, "tools: only custom tools (name, description, input_schema) are supported");
                return;
            }
            sj_val *fn = sj_new_obj(b->d);
            rev_put(b, fn, "name", sj_copy(b->d, sj_get(t, "name")));
            if (sj_is_string(sj_get(t, "description")))
                rev_put(b, fn, "description", sj_copy(b->d, sj_get(t, "description")));
            if (sj_is_object(sj_get(t, "input_schema")))
                rev_put(b, fn, "parameters", sj_copy(b->d, sj_get(t, "input_schema")));
            sj_val *o = sj_new_obj(b->d);
            rev_put(b, o, "type", sj_new_cstr(b->d, "function"));
            rev_put(b, o, "function", fn);
            sj_append(arr, o);
        }
        rev_put(b, root, "tools", arr);
    }
    const sj_val *tc = sj_get(ant, "tool_choice");
    if (!sj_is_object(tc))
        return;
    const sj_val *type = sj_get(tc, "type");
    if (sj_str_eq(type, "auto")) {
        rev_put(b, root, "tool_choice", sj_new_cstr(b->d, "auto"));
    } else if (sj_str_eq(type, "any")) {
        rev_put(b, root, "tool_choice", sj_new_cstr(b->d, "required"));
    } else if (sj_str_eq(type, "none")) {
        rev_put(b, root, "tool_choice", sj_new_cstr(b->d, "none"));
    } else if (sj_str_eq(type, "tool") && sj_is_string(sj_get(tc, "name"))) {
        sj_val *fn = sj_new_obj(b->d);
        rev_put(b, fn, "name", sj_copy(b->d, sj_get(tc, "name")));
        sj_val *o = sj_new_obj(b->d);
        rev_put(b, o, "type", sj_new_cstr(b->d, "function"));
        rev_put(b, o, "function", fn);
        rev_put(b, root, "tool_choice", o);
    } else {
        rev_bad(b, "tool_choice: type must be auto, any, none or tool (with a name)");
        return;
    }
    if (sj_bool(sj_get(tc, "disable_parallel_tool_use"), false))
        rev_put(b, root, "parallel_tool_calls", sj_new_bool(b->d, false));
}

int ant_req_to_openai(const sj_val *ant, sj_doc *dst, ant_err *err)
{
    rev_b b = {.d = dst, .err = err};
    if (!sj_is_object(ant)) {
        rev_bad(&b, "the request body must be a JSON object");
        return b.status;
    }
    if (!sj_is_string(sj_get(ant, "model")))
        rev_bad(&b, "model: Field required (a string such as \"provider/model\")");
    else if (!sj_is_number(sj_get(ant, "max_tokens")))
        rev_bad(&b, "max_tokens: Field required (a number)");
    else if (!sj_is_array(sj_get(ant, "messages")) || sj_len(sj_get(ant, "messages")) == 0)
        rev_bad(&b, "messages: Field required (a non-empty array)");
    if (b.status)
        return b.status;
    sj_val *root = sj_new_obj(dst);
    sj_doc_set_root(dst, root);
    rev_put(&b, root, "model", sj_copy(dst, sj_get(ant, "model")));
    sj_val *msgs = sj_new_arr(dst);
    const sj_val *sys = sj_get(ant, "system");
    if (sys && !sj_is_null(sys)) {
        sj_buf t = {0};
        rev_text(sys, &t);
        if (t.len > 0) {
            sj_val *m = rev_msg(&b, "system");
            rev_put(&b, m, "content", rev_str(&b, t.data, t.len));
            sj_append(msgs, m);
        }
        sj_buf_free(&t);
    }
    size_t i = 0;
    for (sj_val *m = sj_first(sj_get(ant, "messages")); m && b.status == 0; m = sj_next(m), i++) {
        const sj_val *role = sj_get(m, "role");
        const sj_val *content = sj_get(m, "content");
        if (!sj_is_string(content) && !sj_is_array(content))
            rev_bad(&b, "messages[%zu].content: must be a string or an array of content blocks", i);
        else if (sj_str_eq(role, "user"))
            rev_user(&b, content, msgs);
        else if (sj_str_eq(role, "assistant"))
            rev_assistant(&b, content, msgs);
        else
            rev_bad(&b, "messages[%zu].role: must be \"user\" or \"assistant\"", i);
    }
    rev_put(&b, root, "messages", msgs);
    rev_put(&b, root, "max_tokens", sj_copy(dst, sj_get(ant, "max_tokens")));
    static const char *const nums[] = {"temperature", "top_p"};
    for (size_t k = 0; k < 2; k++)
        if (sj_is_number(sj_get(ant, nums[k])))
            rev_put(&b, root, nums[k], sj_copy(dst, sj_get(ant, nums[k])));
    if (sj_is_array(sj_get(ant, "stop_sequences")) && sj_len(sj_get(ant, "stop_sequences")) > 0)
        rev_put(&b, root, "stop", sj_copy(dst, sj_get(ant, "stop_sequences")));
    if (sj_bool(sj_get(ant, "stream"), false))
        rev_put(&b, root, "stream", sj_new_bool(dst, true));
    if (sj_is_string(sj_get(sj_get(ant, "metadata"), "user_id")))
        rev_put(&b, root, "user", sj_copy(dst, sj_get(sj_get(ant, "metadata"), "user_id")));
    rev_tools(&b, ant, root);
    return b.status;
}

/* ---- responses and errors ------------------------------------------------------------ */

const char *ant_stop_reason(const char *finish_reason)
{
    if (finish_reason == NULL)
        return "end_turn";
    if (strcmp(finish_reason, "length") == 0)
        return "max_tokens";
    if (strcmp(finish_reason, "tool_calls") == 0 || strcmp(finish_reason, "function_call") == 0)
        return "tool_use";
    if (strcmp(finish_reason, "content_filter") == 0)
        return "refusal";
    return "end_turn";
}

const char *ant_error_type_for(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    case 504: return "timeout_error";
    default: return status < 500 ? "invalid_request_error" : "api_error";
    }
}

void ant_error_json(sj_buf *out, int status, const char *message)
{
    const char *t = ant_error_type_for(status);
    sj_buf_cstr(out, "{\"type\":\"error\",\"error\":{\"type\":");
    sj_buf_str(out, t, strlen(t));
    sj_buf_cstr(out, ",\"message\":");
    sj_buf_str(out, message, strlen(message));
    sj_buf_cstr(out, "}}");
}

/* A provider answer the drop-in endpoint cannot translate: 502 api_error. */
static void rev_bad_upstream(ant_err *err, const char *message)
{
    if (err == NULL)
        return;
    err->status = 502;
    snprintf(err->type, sizeof(err->type), "api_error");
    snprintf(err->code, sizeof(err->code), "bad_upstream_response");
    snprintf(err->message, sizeof(err->message), "%s", message);
}

/* A tool_use block's input: the arguments text parsed, {} when it is not a
 * JSON object (an upstream model may emit broken arguments). */
static void rev_input(sj_buf *o, const char *args, size_t n)
{
    sj_doc *a = args ? sj_parse(args, n, NULL, NULL) : NULL;
    if (sj_is_object(sj_doc_root(a)))
        sj_buf_val(o, sj_doc_root(a));
    else
        sj_buf_cstr(o, "{}");
    sj_doc_free(a);
}

static void rev_usage(sj_buf *o, int64_t in, int64_t out)
{
    sj_buf_cstr(o, "\"usage\":{\"input_tokens\":");
    sj_buf_i64(o, in);
    sj_buf_cstr(o, ",\"output_tokens\":");
    sj_buf_i64(o, out);
    sj_buf_cstr(o, "}");
}

/* Writes a "msg_..." id made of the upstream id's [A-Za-z0-9_-] bytes (so
 * that an id never carries anything odd into the client's JSON). */
static void rev_id(sj_buf *o, const char *id)
{
    char tmp[160];
    size_t n = 0;
    if (id == NULL || strncmp(id, "msg_", 4) != 0) {
        memcpy(tmp, "msg_", 4);
        n = 4;
    }
    for (; id && *id && n < sizeof(tmp) - 1; id++)
        if ((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') || (*id >= '0' && *id <= '9') || *id == '_' ||
            *id == '-')
            tmp[n++] = *id;
    if (n == 4 && memcmp(tmp, "msg_", 4) == 0) {
        memcpy(tmp + 4, "sluice", 6);
        n += 6;
    }
    sj_buf_str(o, tmp, n);
}

/* Copies a NUL-terminated string into dst, cut at a UTF-8 character boundary. */
static void rev_copy_utf8(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int ant_resp_from_openai(const char *body, size_t len, const char *model, sj_buf *o, ant_err *err)
{
    sj_doc *d = sj_parse(body, len, NULL, NULL);
    const sj_val *r = sj_doc_root(d);
    const sj_val *msg = sj_get(sj_at(sj_get(r, "choices"), 0), "message");
    if (!sj_is_object(msg)) {
        sj_doc_free(d);
        rev_bad_upstream(err, "the provider's response is not a chat.completion");
        return -1;
    }
    sj_buf_cstr(o, "{\"id\":");
    rev_id(o, sj_str(sj_get(r, "id"), NULL));
    sj_buf_cstr(o, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    sj_buf_str(o, model, strlen(model));
    sj_buf_cstr(o, ",\"content\":[");
    bool first = true;
    size_t n;
    const char *text = sj_str(sj_get(msg, "content"), &n);
    if (text && n > 0) {
        sj_buf_cstr(o, "{\"type\":\"text\",\"text\":");
        sj_buf_str(o, text, n);
        sj_buf_cstr(o, "}");
        first = false;
    }
    for (sj_val *tc = sj_first(sj_get(msg, "tool_calls")); tc; tc = sj_next(tc)) {
        const sj_val *fn = sj_get(tc, "function");
        const char *s;
        sj_buf_cstr(o, first ? "{\"type\":\"tool_use\",\"id\":" : ",{\"type\":\"tool_use\",\"id\":");
        first = false;
        s = sj_str(sj_get(tc, "id"), &n);
        sj_buf_str(o, s ? s : "", s ? n : 0);
        sj_buf_cstr(o, ",\"name\":");
        s = sj_str(sj_get(fn, "name"), &n);
        sj_buf_str(o, s ? s : "", s ? n : 0);
        sj_buf_cstr(o, ",\"input\":");
        s = sj_str(sj_get(fn, "arguments"), &n);
        rev_input(o, s, n);
        sj_buf_cstr(o, "}");
    }
    sj_buf_cstr(o, "],\"stop_reason\":");
    const char *sr = ant_stop_reason(sj_str(sj_get(sj_at(sj_get(r, "choices"), 0), "finish_reason"), NULL));
    sj_buf_str(o, sr, strlen(sr));
    sj_buf_cstr(o, ",\"stop_sequence\":null,");
    const sj_val *u = sj_get(r, "usage");
    rev_usage(o, ant_token_count(sj_get(u, "prompt_tokens")), ant_token_count(sj_get(u, "completion_tokens")));
    sj_buf_cstr(o, "}");
    sj_doc_free(d);
    return 0;
}

/* ---- streaming: OpenAI chunks -> Anthropic events ---------------------------------------- */

void ant_rstream_init(ant_rstream *s, const char *model, const char *id)
{
    memset(s, 0, sizeof(*s));
    rev_copy_utf8(s->model, sizeof(s->model), model);
    rev_copy_utf8(s->id, sizeof(s->id), id ? id : "");
    s->block = -1;
}

/* Starts an SSE event: "event: NAME\ndata: " (the caller writes the JSON). */
static void rev_ev(sj_buf *o, const char *name)
{
    sj_buf_cstr(o, "event: ");
    sj_buf_cstr(o, name);
    sj_buf_cstr(o, "\ndata: ");
}

static void rev_start(ant_rstream *s, sj_buf *o)
{
    if (s->started)
        return;
    s->started = true;
    rev_ev(o, "message_start");
    sj_buf_cstr(o, "{\"type\":\"message_start\",\"message\":{\"id\":");
    rev_id(o, s->id);
    sj_buf_cstr(o, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    sj_buf_str(o, s->model, strlen(s->model));
    sj_buf_cstr(o, ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,");
    rev_usage(o, s->input_tokens, 0);
    sj_buf_cstr(o, "}}\n\n");
}

static void rev_close_block(ant_rstream *s, sj_buf *o)
{
    if (s->block < 0)
        return;
    rev_ev(o, "content_block_stop");
    sj_buf_cstr(o, "{\"type\":\"content_block_stop\",\"index\":");
    sj_buf_i64(o, s->block);
    sj_buf_cstr(o, "}\n\n");
    s->block = -1;
}

/* content_block_start up to the content_block object (caller closes it). */
static void rev_open_block(ant_rstream *s, sj_buf *o)
{
    rev_close_block(s, o);
    s->block = s->next_block++;
    rev_ev(o, "content_block_start");
    sj_buf_cstr(o, "{\"type\":\"content_block_start\",\"index\":");
    sj_buf_i64(o, s->block);
    sj_buf_cstr(o, ",\"content_block\":");
}

static void rev_delta(ant_rstream *s, sj_buf *o, const char *dtype, const char *field, const char *t, size_t n)
{
    rev_ev(o, "content_block_delta");
    sj_buf_cstr(o, "{\"type\":\"content_block_delta\",\"index\":");
    sj_buf_i64(o, s->block);
    sj_buf_cstr(o, ",\"delta\":{\"type\":\"");
    sj_buf_cstr(o, dtype);
    sj_buf_cstr(o, "\",\"");
    sj_buf_cstr(o, field);
    sj_buf_cstr(o, "\":");
    sj_buf_str(o, t, n);
    sj_buf_cstr(o, "}}\n\n");
}

static void rev_tool_delta(ant_rstream *s, const sj_val *tc, sj_buf *o)
{
    int64_t idx = 0;
    if (!sj_i64(sj_get(tc, "index"), &idx) || idx < 0 || idx > 1000000)
        idx = 0;
    const sj_val *fn = sj_get(tc, "function");
    size_t n;
    const char *s2;
    if (s->block < 0 || !s->block_is_tool || s->tool_index != (int)idx || sj_is_string(sj_get(tc, "id"))) {
        rev_open_block(s, o);
        s->block_is_tool = true;
        s->tool_index = (int)idx;
        sj_buf_cstr(o, "{\"type\":\"tool_use\",\"id\":");
        s2 = sj_str(sj_get(tc, "id"), &n);
        sj_buf_str(o, s2 ? s2 : "", s2 ? n : 0);
        sj_buf_cstr(o, ",\"name\":");
        s2 = sj_str(sj_get(fn, "name"), &n);
        sj_buf_str(o, s2 ? s2 : "", s2 ? n : 0);
        sj_buf_cstr(o, ",\"input\":{}}}\n\n");
    }
    s2 = sj_str(sj_get(fn, "arguments"), &n);
    if (s2 && n > 0)
        rev_delta(s, o, "input_json_delta", "partial_json", s2, n);
}

int ant_rstream_chunk(ant_rstream *s, const char *json, size_t len, sj_buf *o, ant_err *err)
{
    sj_doc *d = sj_parse(json, len, NULL, NULL);
    const sj_val *r = sj_doc_root(d);
    if (!sj_is_object(r)) {
        sj_doc_free(d);
        rev_bad_upstream(err, "the provider sent a chunk that is not a JSON object");
        return -1;
    }
    const sj_val *perr = sj_get(r, "error");
    if (sj_is_object(perr) && !s->ended) {
        /* an OpenAI-compatible upstream reporting a failure inside its stream */
        const char *m = sj_str(sj_get(perr, "message"), NULL);
        rev_start(s, o);
        ant_rstream_error(s, 502, m ? m : "the provider reported an error in its stream", o);
        sj_doc_free(d);
        return 0;
    }
    if (s->ended) { /* nothing may follow message_stop or an error event */
        sj_doc_free(d);
        return 0;
    }
    const sj_val *u = sj_get(r, "usage");
    if (sj_is_object(u)) {
        s->input_tokens = ant_token_count(sj_get(u, "prompt_tokens"));
        s->output_tokens = ant_token_count(sj_get(u, "completion_tokens"));
    }
    if (s->id[0] == '\0' && sj_is_string(sj_get(r, "id")))
        rev_copy_utf8(s->id, sizeof(s->id), sj_str(sj_get(r, "id"), NULL));
    rev_start(s, o);
    const sj_val *ch = sj_at(sj_get(r, "choices"), 0);
    const sj_val *delta = sj_get(ch, "delta");
    size_t n;
    const char *t = sj_str(sj_get(delta, "content"), &n);
    if (t && n > 0) {
        if (s->block < 0 || s->block_is_tool) {
            rev_open_block(s, o);
            s->block_is_tool = false;
            sj_buf_cstr(o, "{\"type\":\"text\",\"text\":\"\"}}\n\n");
        }
        rev_delta(s, o, "text_delta", "text", t, n);
    }
    for (sj_val *tc = sj_first(sj_get(delta, "tool_calls")); tc; tc = sj_next(tc))
        rev_tool_delta(s, tc, o);
    const char *fr = sj_str(sj_get(ch, "finish_reason"), NULL);
    if (fr)
        snprintf(s->stop_reason, sizeof(s->stop_reason), "%s", ant_stop_reason(fr));
    sj_doc_free(d);
    return 0;
}

void ant_rstream_finish(ant_rstream *s, sj_buf *o)
{
    if (s->ended)
        return;
    s->ended = true;
    rev_start(s, o);
    rev_close_block(s, o);
    rev_ev(o, "message_delta");
    sj_buf_cstr(o, "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":");
    const char *sr = s->stop_reason[0] ? s->stop_reason : "end_turn";
    sj_buf_str(o, sr, strlen(sr));
    sj_buf_cstr(o, ",\"stop_sequence\":null},");
    rev_usage(o, s->input_tokens, s->output_tokens);
    sj_buf_cstr(o, "}\n\n");
    rev_ev(o, "message_stop");
    sj_buf_cstr(o, "{\"type\":\"message_stop\"}\n\n");
}

void ant_rstream_error(ant_rstream *s, int status, const char *message, sj_buf *o)
{
    s->ended = true;
    rev_ev(o, "error");
    ant_error_json(o, status, message);
    sj_buf_cstr(o, "\n\n");
}
