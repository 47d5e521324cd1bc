/*
 * mock_anthropic.c - Anthropic Messages API shapes: the message object and
 * the event stream (message_start, content_block_start, ping,
 * content_block_delta*, content_block_stop, message_delta, message_stop),
 * each event with its "event:" line as the real API sends them.
 */
#include "mockllm/mock.h"

#include <string.h>

static void message_head(const mock_stream *st, sj_buf *out) {
    sj_buf_cstr(out, "{\"id\":\"");
    sj_buf_cstr(out, st->id);
    sj_buf_cstr(out, "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    sj_buf_raw(out, st->model_json.data, st->model_json.len);
}

/* {"type":"tool_use","id":...,"name":...,"input":  (object follows) */
static void tool_use_start(const mock_stream *st, sj_buf *out) {
    sj_buf_cstr(out, "{\"type\":\"tool_use\",\"id\":\"toolu_");
    sj_buf_cstr(out, st->id);
    sj_buf_cstr(out, "\",\"name\":");
    sj_buf_raw(out, st->tool_json.data, st->tool_json.len);
    sj_buf_cstr(out, ",\"input\":");
}

static const char *stop_reason(const mock_stream *st) {
    return st->tool ? "\"tool_use\"" : "\"end_turn\"";
}

void mock_anthropic_body(const mock_stream *st, sj_buf *out) {
    message_head(st, out);
    sj_buf_cstr(out, ",\"content\":[");
    if (st->tool) {
        /* The arguments are JSON text already: the input object itself. */
        tool_use_start(st, out);
        sj_buf_raw(out, st->content.text, st->content.text_len);
    } else {
        sj_buf_cstr(out, "{\"type\":\"text\",\"text\":");
        mock_content_json(&st->content, out);
    }
    sj_buf_cstr(out, "}],\"stop_reason\":");
    sj_buf_cstr(out, stop_reason(st));
    sj_buf_cstr(out, ",\"stop_sequence\":null,\"usage\":{\"input_tokens\":");
    sj_buf_u64(out, st->prompt_tokens);
    sj_buf_cstr(out, ",\"output_tokens\":");
    sj_buf_u64(out, st->content.pieces);
    sj_buf_cstr(out, "}}");
}

static void event(const char *name, sj_buf *out) {
    sj_buf_cstr(out, "event: ");
    sj_buf_cstr(out, name);
    sj_buf_cstr(out, "\ndata: ");
}

void mock_anthropic_preamble(const mock_stream *st, sj_buf *out) {
    event("message_start", out);
    sj_buf_cstr(out, "{\"type\":\"message_start\",\"message\":");
    message_head(st, out);
    sj_buf_cstr(out, ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
                     "\"usage\":{\"input_tokens\":");
    sj_buf_u64(out, st->prompt_tokens);
    sj_buf_cstr(out, ",\"output_tokens\":1}}}\n\n");
    event("content_block_start", out);
    sj_buf_cstr(out, "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":");
    if (st->tool) {
        tool_use_start(st, out);
        sj_buf_cstr(out, "{}}}\n\n");
    } else {
        sj_buf_cstr(out, "{\"type\":\"text\",\"text\":\"\"}}\n\n");
    }
    event("ping", out);
    sj_buf_cstr(out, "{\"type\":\"ping\"}\n\n");
}

void mock_anthropic_piece(const mock_stream *st, const char *p, size_t len, sj_buf *out) {
    event("content_block_delta", out);
    sj_buf_cstr(out, st->tool ? "{\"type\":\"content_block_delta\",\"index\":0,"
                                "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
                              : "{\"type\":\"content_block_delta\",\"index\":0,"
                                "\"delta\":{\"type\":\"text_delta\",\"text\":");
    sj_buf_str(out, p, len);
    sj_buf_cstr(out, "}}\n\n");
}

void mock_anthropic_tail(const mock_stream *st, sj_buf *out) {
    event("content_block_stop", out);
    sj_buf_cstr(out, "{\"type\":\"content_block_stop\",\"index\":0}\n\n");
    event("message_delta", out);
    sj_buf_cstr(out, "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":");
    sj_buf_cstr(out, stop_reason(st));
    sj_buf_cstr(out, ",\"stop_sequence\":null},\"usage\":{\"output_tokens\":");
    sj_buf_u64(out, st->content.pieces);
    sj_buf_cstr(out, "}}\n\n");
    event("message_stop", out);
    sj_buf_cstr(out, "{\"type\":\"message_stop\"}\n\n");
}

void mock_anthropic_garbage(const mock_stream *st, sj_buf *out) {
    /* A valid start, then events whose data is not JSON, an unknown event
     * with a truncated object, and no message_stop. */
    mock_anthropic_preamble(st, out);
    event("content_block_delta", out);
    sj_buf_cstr(out, "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_del\n\n");
    event("content_block_delta", out);
    sj_buf_cstr(out, "this is not json}}\n\n");
    sj_buf_cstr(out, "event: \x01\x02garbage\ndata: {{{{\n\n");
}
