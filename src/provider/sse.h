/*
 * sse.h - incremental parser for text/event-stream (Server-Sent Events) as
 * sent by upstream providers (OpenAI "data:" lines, Anthropic "event:" +
 * "data:" pairs).
 *
 * Bytes may arrive split anywhere (mid-line, mid-UTF-8, mid-CRLF); the parser
 * buffers at most max_event_bytes of one event and reports an error past that.
 * Follows the WHATWG event-stream rules: lines end in LF, CR or CRLF; ":" lines
 * are comments; multiple data lines join with "\n"; an empty line dispatches;
 * one leading space after the colon is dropped; events with no data are not
 * dispatched.
 */
#ifndef SLUICE_PROVIDER_SSE_H
#define SLUICE_PROVIDER_SSE_H

#include <stdbool.h>
#include <stddef.h>

/* One complete event. `event` is "" when no event: field was given, and is
 * NUL-terminated; `data` is not (it may point into sse_feed's input). Both
 * are valid during the callback only. Return 0 to go on, non-zero to stop (the
 * value is returned by sse_feed). */
typedef int (*sse_event_fn)(void *ud, const char *event, size_t event_len,
                            const char *data, size_t data_len);

typedef struct sse_parser {
    sse_event_fn on_event;
    void *ud;
    size_t max_event_bytes;
    /* private */
    char *buf;       /* current line + pending data, malloc'd */
    size_t len, cap;
    size_t data_len; /* bytes of joined data so far */
    char event[64];
    size_t event_len;
    bool has_data;
    bool last_was_cr;
    bool failed;
    int error;       /* the value returned since `failed` was set */
    bool skip_line;  /* inside a comment line, which is not buffered */
} sse_parser;

#define SSE_ERR_TOO_BIG (-1) /* an event exceeded max_event_bytes */
#define SSE_ERR_NOMEM   (-2)

void sse_init(sse_parser *p, size_t max_event_bytes, sse_event_fn on_event, void *ud);
/* Feeds bytes; returns 0, an SSE_ERR_*, or the callback's non-zero value.
 * After an error the parser refuses further input with the same error. */
int sse_feed(sse_parser *p, const char *data, size_t len);
/* End of stream: dispatches nothing (an unterminated event is dropped, as the
 * standard says) and returns true if bytes of an incomplete event were pending. */
bool sse_finish(sse_parser *p);
void sse_free(sse_parser *p);

#endif /* SLUICE_PROVIDER_SSE_H */
