/*
 * mock_openai.c - OpenAI chat completion shapes: the chat.completion object
 * and the chat.completion.chunk event stream (with the optional usage chunk
 * of stream_options.include_usage, then "data: [DONE]").
 *
 * Every chunk of a stream starts with the same id/object/created/model
 * fields; they are rendered once into st->prefix.
 */
#include "mockllm/mock.h"

#include <string.h>

static void usage(const mock_stream *st, sj_buf *out) {
    size_t c = st->content.pieces;
    sj_buf_cstr(out, "\"usage\":{\"prompt_tokens\":");
    sj_buf_u64(out, st->prompt_tokens);
    sj_buf_cstr(out, ",\"completion_tokens\":");
    sj_buf_u64(out, c);
    sj_buf_cstr(out, ",\"total_tokens\":");
    sj_buf_u64(out, st->prompt_tokens + c);
    sj_buf_raw(out, "}", 1);
}

/* {"id":...,"object":OBJECT,"created":...,"model":...,"system_fingerprint":...,"choices":[ */
static void head(const mock_stream *st, const char *object, sj_buf *out) {
    sj_buf_cstr(out, "{\"id\":\"");
    sj_buf_cstr(out, st->id);
    sj_buf_cstr(out, "\",\"object\":\"");
    sj_buf_cstr(out, object);
    sj_buf_cstr(out, "\",\"created\":");
    sj_buf_i64(out, st->created);
    sj_buf_cstr(out, ",\"model\":");
    sj_buf_raw(out, st->model_json.data, st->model_json.len);
    sj_buf_cstr(out, ",\"system_fingerprint\":\"fp_mock\",\"choices\":[");
}

/* "tool_calls":[{...,"function":{"name":...,"arguments":  (string follows) */
static void tool_call_start(const mock_stream *st, bool full, sj_buf *out) {
    sj_buf_cstr(out, "\"tool_calls\":[{");
    if (full) {
        sj_buf_cstr(out, "\"index\":0,");
    }
    sj_buf_cstr(out, "\"id\":\"call_");
    sj_buf_cstr(out, st->id);
    sj_buf_cstr(out, "\",\"type\":\"function\",\"function\":{\"name\":");
    sj_buf_raw(out, st->tool_json.data, st->tool_json.len);
    sj_buf_cstr(out, ",\"arguments\":");
}

static const char *finish_reason(const mock_stream *st) {
    return st->tool ? "\"tool_calls\"" : "\"stop\"";
}

void mock_openai_body(const mock_stream *st, sj_buf *out) {
    head(st, "chat.completion", out);
    sj_buf_cstr(out, "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    if (st->tool) {
        sj_buf_cstr(out, "null,");
        tool_call_start(st, false, out);
        mock_content_json(&st->content, out);
        sj_buf_cstr(out, "}}]");
    } else {
        mock_content_json(&st->content, out);
    }
    sj_buf_cstr(out, ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":");
    sj_buf_cstr(out, finish_reason(st));
    sj_buf_cstr(out, "}],");
    usage(st, out);
    sj_buf_raw(out, "}", 1);
}

void mock_openai_stream_setup(mock_stream *st) {
    st->prefix.len = 0;
    head(st, "chat.completion.chunk", &st->prefix);
}

/* data: PREFIX{"index":0,"delta":DELTA,"logprobs":null,"finish_reason":FR}]}  */
static void chunk_start(const mock_stream *st, sj_buf *out) {
    sj_buf_cstr(out, "data: ");
    sj_buf_raw(out, st->prefix.data, st->prefix.len);
}

static void chunk_end(const mock_stream *st, sj_buf *out) {
    /* With include_usage, OpenAI sends "usage":null on every other chunk. */
    sj_buf_cstr(out, st->include_usage ? "],\"usage\":null}\n\n" : "]}\n\n");
}

void mock_openai_piece(const mock_stream *st, const char *p, size_t len, bool first,
                       sj_buf *out) {
    chunk_start(st, out);
    if (st->tool) {
        /* The first chunk names the call; later ones add to its arguments. */
        if (first) {
            sj_buf_cstr(out, "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,");
            tool_call_start(st, true, out);
        } else {
            sj_buf_cstr(out, "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
                             "\"function\":{\"arguments\":");
        }
        sj_buf_str(out, p, len);
        sj_buf_cstr(out, "}}]");
    } else {
        sj_buf_cstr(out, first ? "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":"
                               : "{\"index\":0,\"delta\":{\"content\":");
        sj_buf_str(out, p, len);
    }
    sj_buf_cstr(out, "},\"logprobs\":null,\"finish_reason\":null}");
    chunk_end(st, out);
}

void mock_openai_tail(const mock_stream *st, sj_buf *out) {
    chunk_start(st, out);
    sj_buf_cstr(out, "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":");
    sj_buf_cstr(out, finish_reason(st));
    sj_buf_raw(out, "}", 1);
    chunk_end(st, out);
    if (st->include_usage) {
        chunk_start(st, out);
        sj_buf_cstr(out, "],");
        usage(st, out);
        sj_buf_cstr(out, "}\n\n");
    }
    sj_buf_cstr(out, "data: [DONE]\n\n");
}

void mock_openai_garbage(const mock_stream *st, sj_buf *out) {
    /* A chunk cut mid-JSON, lines that are not JSON, a field that is not
     * SSE, and no [DONE]: what a broken proxy in front of an upstream sends. */
    chunk_start(st, out);
    sj_buf_cstr(out, "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"ech\n\n");
    sj_buf_cstr(out, "data: this is not json}}\n\n");
    sj_buf_cstr(out, "data: {{{{\"\n\n");
    sj_buf_cstr(out, "garbage line without a field name\n\n");
    sj_buf_cstr(out, "data: {\"choices\":[{\"delta\":{\"content\":1e999999}]}\n\n");
}
