/*
 * chat.c - POST /v1/chat/completions: validation, then the shared attempt
 * loop (dispatch.c) with the OpenAI wire format: the provider's chunks go out
 * as they are (plus extra_fields.provider), framed as `data: ...` SSE lines,
 * then `data: [DONE]`; errors in OpenAI's shape.
 */
#include <string.h>

#include "core/dispatch.h"

/* ---- the OpenAI wire --------------------------------------------------------------- */

/* Appends a JSON text on one SSE line: an upstream may spread an event over
 * several data: lines (joined with '\n' by the parser); in JSON a line break
 * can only be whitespace, so it becomes a space. */
static void chat_append_one_line(sj_buf *b, const char *data, size_t len)
{
    size_t start = b->len;
    sj_buf_raw(b, data, len);
    if (b->oom || (memchr(data, '\n', len) == NULL && memchr(data, '\r', len) == NULL))
        return;
    for (size_t i = start; i < b->len; i++)
        if (b->data[i] == '\n' || b->data[i] == '\r')
            b->data[i] = ' ';
}

static void chat_wire_chunk(dp_req *d, const char *data, size_t len, sj_buf *b)
{
    sj_buf_raw(b, "data: ", 6);
    /* extra_fields.provider inside the chunk object, as Bifrost does */
    if (!dp_append_provider(d, b, data, len, true, chat_append_one_line))
        chat_append_one_line(b, data, len);
    sj_buf_raw(b, "\n\n", 2);
}

static void chat_wire_done(dp_req *d, sj_buf *b)
{
    (void)d;
    sj_buf_cstr(b, "data: [DONE]\n\n");
}

static void chat_wire_error(dp_req *d, int status, const char *type, const char *code, const char *message,
                            sj_buf *b)
{
    (void)d;
    (void)status;
    sj_buf_cstr(b, "data: ");
    gw_error_json(b, message, type, code, NULL);
    sj_buf_cstr(b, "\n\n");
}

static const dp_wire chat_wire = {
    .chunk = chat_wire_chunk,
    .done = chat_wire_done,
    .stream_error = chat_wire_error,
    .convert = NULL,
};

/* ---- validation ----------------------------------------------------------------- */

/* Checks the fields the gateway itself relies on; the rest is the provider's
 * business and passes through. Sends the error and returns false if bad. */
static bool chat_validate(srv_request *sr, const sj_val *root)
{
    if (!sj_is_object(root)) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_type", NULL,
                      "The request body must be a JSON object, got %s", gw_type_name(root));
        return false;
    }
    sj_val *model = sj_get(root, "model");
    if (model == NULL) {
        gw_send_error(sr, 400, "invalid_request_error", "missing_required_parameter", "model",
                      "model is required (e.g. \"mock/mock-1\" or \"openai/gpt-4o-mini\")");
        return false;
    }
    size_t mlen;
    const char *m = sj_str(model, &mlen);
    if (m == NULL || mlen == 0 || strlen(m) != mlen) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_type", "model",
                      m ? "model must be a non-empty string" : "model must be a string, got %s",
                      gw_type_name(model));
        return false;
    }
    sj_val *msgs = sj_get(root, "messages");
    if (msgs == NULL) {
        gw_send_error(sr, 400, "invalid_request_error", "missing_required_parameter", "messages",
                      "messages is required");
        return false;
    }
    if (!sj_is_array(msgs)) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_type", "messages",
                      "messages must be an array, got %s", gw_type_name(msgs));
        return false;
    }
    if (sj_len(msgs) == 0) {
        gw_send_error(sr, 400, "invalid_request_error", "empty_array", "messages",
                      "messages must contain at least one message");
        return false;
    }
    size_t i = 0;
    /* The parameter's name is only formatted for an error: snprintf for every
     * message cost ~4,500 instructions per 2 KB request. */
    char param[64];
    for (sj_val *msg = sj_first(msgs); msg; msg = sj_next(msg), i++) {
        if (!sj_is_object(msg)) {
            snprintf(param, sizeof(param), "messages[%zu]", i);
            gw_send_error(sr, 400, "invalid_request_error", "invalid_type", param,
                          "%s must be an object, got %s", param, gw_type_name(msg));
            return false;
        }
        if (!sj_is_string(sj_get(msg, "role"))) {
            snprintf(param, sizeof(param), "messages[%zu].role", i);
            gw_send_error(sr, 400, "invalid_request_error", "invalid_type", param, "%s must be a string", param);
            return false;
        }
        sj_val *content = sj_get(msg, "content");
        if (content && !sj_is_string(content) && !sj_is_array(content) && !sj_is_null(content)) {
            snprintf(param, sizeof(param), "messages[%zu].content", i);
            gw_send_error(sr, 400, "invalid_request_error", "invalid_type", param,
                          "%s must be a string, an array of parts or null, got %s", param, gw_type_name(content));
            return false;
        }
    }
    sj_val *stream = sj_get(root, "stream");
    if (stream && !sj_is_bool(stream) && !sj_is_null(stream)) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_type", "stream",
                      "stream must be a boolean, got %s", gw_type_name(stream));
        return false;
    }
    return dp_check_fallbacks(sr, root);
}

void gw_chat(srv_request *sr)
{
    h2o_req_t *req = sr->req;
    h2o_iovec_t body = req->entity;
    plg_gw_req *plg;
    if (!plg_gw_begin(sr, &body, &plg))
        return; /* a plugin answered */
    if (body.base == NULL || body.len == 0) {
        gw_send_error(sr, 400, "invalid_request_error", "empty_body", NULL,
                      "The request body is empty; expected a JSON chat completion request");
        return;
    }
    sj_error perr = {0};
    sj_doc *doc = sj_parse(body.base, body.len, NULL, &perr);
    if (doc == NULL) {
        gw_send_error(sr, 400, "invalid_request_error", "invalid_json", NULL,
                      "The request body is not valid JSON: %s at byte %zu", perr.msg ? perr.msg : "parse error",
                      perr.offset);
        return;
    }
    dp_req *d = dp_new(sr, plg, doc, &chat_wire, NULL); /* owns doc from here on */
    sj_val *root = sj_doc_root(doc);
    if (!chat_validate(sr, root))
        return;
    d->stream = sj_bool(sj_get(root, "stream"), false);
    if (plg == NULL) { /* else a plugin may rewrite the request: no splicing */
        d->raw = body.base;
        d->raw_len = body.len;
    }
    dp_start(d);
}
