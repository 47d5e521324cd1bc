/*
 * anthropic_xlate.h - pure translations between the OpenAI chat-completions
 * shapes (Sluice's internal form) and Anthropic's Messages API, in both
 * directions. No network and no event loop here: everything is a function of
 * its input, so it is unit tested and fuzzed directly.
 *
 * Prefix: ant_. Direction "OpenAI -> Anthropic -> OpenAI" serves the
 * `anthropic` provider (anthropic.c); the reverse direction (Anthropic client
 * -> internal form -> Anthropic answer) serves the drop-in endpoint
 * POST /anthropic/v1/messages (core/anthropic_api.c) and lives in
 * anthropic_rev.c. Mapping tables: docs/anthropic.md.
 *
 * Every function that produces JSON appends it to a caller-owned sj_buf (the
 * caller frees it with sj_buf_free). On bad input they return a status and
 * a static-or-formatted message in a caller buffer; they never abort.
 */
#ifndef SLUICE_PROVIDER_ANTHROPIC_XLATE_H
#define SLUICE_PROVIDER_ANTHROPIC_XLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/json.h"

#define ANT_DEFAULT_MAX_TOKENS 4096
#define ANT_VERSION "2023-06-01"

/* An error in OpenAI terms: the HTTP status for the client, the OpenAI error
 * type, a code (the Anthropic error type when there was one) and a message. */
typedef struct ant_err {
    int status;
    char type[48];
    char code[48];
    char message[512];
} ant_err;

/* ---- provider direction: OpenAI request -> Anthropic, Anthropic answers -> OpenAI */

/* Translates the OpenAI chat request `oai` into the body of an Anthropic
 * POST /v1/messages for `model`, appended to out. Returns 0, or 400 with
 * err filled (e.g. tool call arguments that are not JSON). */
int ant_req_from_openai(const sj_val *oai, const char *model, sj_buf *out, ant_err *err);

/* Translates an Anthropic message response into an OpenAI chat.completion
 * (`created` is the Unix time to stamp). Returns 0, or -1 with err filled
 * (502) when the body is not an Anthropic message. */
int ant_resp_to_openai(const char *body, size_t len, long created, sj_buf *out, ant_err *err);

/* Maps an Anthropic error (HTTP status + body {"type":"error","error":{...}})
 * to what the client gets. Works on any body, JSON or not. */
void ant_error_to_openai(int http_status, const char *body, size_t len, ant_err *err);

/* A token count from a usage field: 0 unless a non-negative integer <= 2^53. */
int64_t ant_token_count(const sj_val *v);

/* The OpenAI finish_reason for an Anthropic stop_reason (static; NULL in -> "stop"). */
const char *ant_finish_reason(const char *stop_reason);

/* Streaming: Anthropic SSE events in, OpenAI chat.completion.chunk JSON out.
 * Zero-initialize, set `created`, then feed every event in order. */
typedef void (*ant_emit_fn)(void *ud, const char *json, size_t len);

typedef struct ant_stream {
    long created;
    char id[128];
    char model[128];
    int64_t input_tokens, output_tokens;
    int next_tool;        /* OpenAI tool_calls index of the next tool_use block */
    int cur_tool;         /* index of the open tool_use block, -1 if none */
    bool started;         /* message_start seen */
    bool final_sent;      /* the chunk with finish_reason went out */
    bool stopped;         /* message_stop seen */
    sj_buf scratch;       /* chunk being built; freed by ant_stream_free */
} ant_stream;

enum {
    ANT_SE_OK = 0,     /* consumed (maybe emitted chunks) */
    ANT_SE_STOP = 1,   /* message_stop: the stream is complete */
    ANT_SE_ERROR = 2,  /* an "error" event: err is filled */
    ANT_SE_BAD = -1,   /* not a valid Anthropic event: err is filled */
};

void ant_stream_init(ant_stream *s, long created);
int ant_stream_event(ant_stream *s, const char *event, size_t event_len, const char *data, size_t len,
                     ant_emit_fn emit, void *ud, ant_err *err);
void ant_stream_free(ant_stream *s);

/* ---- drop-in direction (anthropic_rev.c) ----------------------------------------- */

/* Translates an Anthropic Messages request into an OpenAI chat request built
 * in `dst` (its root is set). Returns 0, or 400 with err filled. The model
 * is copied as given ("provider/model"). */
int ant_req_to_openai(const sj_val *ant, sj_doc *dst, ant_err *err);

/* Translates an OpenAI chat.completion into an Anthropic message. -1 with
 * err filled (502) if the body is not a chat.completion. */
int ant_resp_from_openai(const char *body, size_t len, const char *model, sj_buf *out, ant_err *err);

/* The Anthropic stop_reason for an OpenAI finish_reason (static). */
const char *ant_stop_reason(const char *finish_reason);

/* The Anthropic error type for an HTTP status (static). */
const char *ant_error_type_for(int status);

/* Appends {"type":"error","error":{"type":...,"message":...}} to out. */
void ant_error_json(sj_buf *out, int status, const char *message);

/* Streaming: OpenAI chunks in, Anthropic SSE text ("event: X\ndata: {...}\n\n")
 * appended to `out`. Zero-initialize via ant_rstream_init. */
typedef struct ant_rstream {
    char model[256];
    char id[128];
    bool started;         /* message_start written */
    int block;            /* index of the open content block, -1 if none */
    int next_block;
    bool block_is_tool;
    int tool_index;       /* OpenAI tool_calls index of the open tool block */
    char stop_reason[32];
    int64_t input_tokens, output_tokens;
    bool ended;
} ant_rstream;

void ant_rstream_init(ant_rstream *s, const char *model, const char *id);
/* One OpenAI chunk's JSON. Returns 0, or -1 (502 in err) if it is not a chunk. */
int ant_rstream_chunk(ant_rstream *s, const char *json, size_t len, sj_buf *out, ant_err *err);
/* The OpenAI stream ended: closes the open block, message_delta, message_stop. */
void ant_rstream_finish(ant_rstream *s, sj_buf *out);
/* An error after events went out: an Anthropic "error" event. */
void ant_rstream_error(ant_rstream *s, int status, const char *message, sj_buf *out);

#endif /* SLUICE_PROVIDER_ANTHROPIC_XLATE_H */
