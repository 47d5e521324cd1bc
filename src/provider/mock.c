/*
 * mock.c - the built-in "mock" provider: answers without any network, so a
 * new user gets a working gateway with no keys, and tests have a provider
 * whose output is known. The reply is "echo: " + the text of the last user
 * message; streamed, it comes one word per chunk.
 *
 * It finishes inside start() (see provider.h): every sink call happens there.
 */
#include "provider/provider.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Appends the text of the last user message (a string, or the "text" parts
 * of an array, joined by spaces) onto b. */
static void mock_last_user_text(const sj_val *body, sj_buf *b)
{
    const sj_val *last = NULL;
    for (sj_val *m = sj_first(sj_get(body, "messages")); m; m = sj_next(m))
        if (sj_str_eq(sj_get(m, "role"), "user"))
            last = m;
    sj_val *content = sj_get(last, "content");
    size_t len;
    const char *s = sj_str(content, &len);
    if (s) {
        sj_buf_raw(b, s, len);
        return;
    }
    bool first = true;
    for (sj_val *part = sj_first(content); part; part = sj_next(part)) {
        s = sj_str(sj_get(part, "text"), &len);
        if (s == NULL || !sj_str_eq(sj_get(part, "type"), "text"))
            continue;
        if (!first)
            sj_buf_raw(b, " ", 1);
        sj_buf_raw(b, s, len);
        first = false;
    }
}

static size_t mock_count_words(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && (i == 0 || s[i - 1] == ' '))
            n++;
    return n;
}

/* The fields every chat object starts with: id, object, created, model. */
static void mock_head(sj_buf *o, const prov_request *rq, const char *object, long created)
{
    sj_buf_cstr(o, "{\"id\":");
    char id[128];
    snprintf(id, sizeof(id), "chatcmpl-%s", rq->request_id);
    sj_buf_str(o, id, strlen(id));
    sj_buf_cstr(o, ",\"object\":\"");
    sj_buf_cstr(o, object);
    sj_buf_cstr(o, "\",\"created\":");
    sj_buf_i64(o, created);
    sj_buf_cstr(o, ",\"model\":");
    sj_buf_str(o, rq->model, strlen(rq->model));
}

static void mock_usage(sj_buf *o, size_t prompt, size_t completion)
{
    sj_buf_cstr(o, ",\"usage\":{\"prompt_tokens\":");
    sj_buf_u64(o, prompt);
    sj_buf_cstr(o, ",\"completion_tokens\":");
    sj_buf_u64(o, completion);
    sj_buf_cstr(o, ",\"total_tokens\":");
    sj_buf_u64(o, prompt + completion);
    sj_buf_cstr(o, "}");
}

static void mock_stream(const prov_request *rq, const prov_sink *sink, void *ud, const sj_buf *reply,
                        size_t prompt, size_t completion, long created)
{
    sj_buf o = {0};
    size_t i = 0;
    bool first = true;
    while (i < reply->len) {
        /* a word with its leading spaces, so that the chunks concatenate back */
        size_t j = i;
        while (j < reply->len && reply->data[j] == ' ')
            j++;
        while (j < reply->len && reply->data[j] != ' ')
            j++;
        o.len = 0;
        mock_head(&o, rq, "chat.completion.chunk", created);
        sj_buf_cstr(&o, ",\"choices\":[{\"index\":0,\"delta\":{");
        if (first)
            sj_buf_cstr(&o, "\"role\":\"assistant\",");
        sj_buf_cstr(&o, "\"content\":");
        sj_buf_str(&o, reply->data + i, j - i);
        sj_buf_cstr(&o, "},\"finish_reason\":null}]}");
        if (o.oom)
            break;
        sink->chunk(ud, o.data, o.len);
        first = false;
        i = j;
    }
    o.len = 0;
    mock_head(&o, rq, "chat.completion.chunk", created);
    sj_buf_cstr(&o, ",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]");
    mock_usage(&o, prompt, completion);
    sj_buf_cstr(&o, "}");
    if (o.oom)
        sink->error(ud, 500, "server_error", NULL, "out of memory");
    else {
        sink->chunk(ud, o.data, o.len);
        sink->done(ud);
    }
    sj_buf_free(&o);
}

static prov_call *mock_start(const prov_request *rq, const prov_sink *sink, void *ud)
{
    sj_buf reply = {0}, prompt_text = {0};
    sj_buf_cstr(&reply, "echo: ");
    mock_last_user_text(rq->body, &reply);
    mock_last_user_text(rq->body, &prompt_text);
    size_t prompt = mock_count_words(prompt_text.data, prompt_text.len);
    size_t completion = mock_count_words(reply.data, reply.len);
    long created = (long)time(NULL);
    if (reply.oom) {
        sink->error(ud, 500, "server_error", NULL, "out of memory");
    } else if (rq->stream) {
        mock_stream(rq, sink, ud, &reply, prompt, completion, created);
    } else {
        sj_buf o = {0};
        mock_head(&o, rq, "chat.completion", created);
        sj_buf_cstr(&o, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
        sj_buf_str(&o, reply.data, reply.len);
        sj_buf_cstr(&o, "},\"finish_reason\":\"stop\"}]");
        mock_usage(&o, prompt, completion);
        sj_buf_cstr(&o, "}");
        if (o.oom)
            sink->error(ud, 500, "server_error", NULL, "out of memory");
        else
            sink->response(ud, 200, o.data, o.len);
        sj_buf_free(&o);
    }
    sj_buf_free(&reply);
    sj_buf_free(&prompt_text);
    return NULL;
}

/* The mock never returns a live handle, so these are never reached. */
static void mock_noop(prov_call *c)
{
    (void)c;
}

const prov_ops prov_mock_ops = {
    .family = "mock",
    .start = mock_start,
    .pause = mock_noop,
    .resume = mock_noop,
    .cancel = mock_noop,
};
