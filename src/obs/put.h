/*
 * put.h - the fast JSON writers behind a request's log line (log.c) and its
 * log store row (store.c). Prefix: obs_put_.
 *
 * They write at a raw pointer into an sj_buf whose room the caller reserved
 * beforehand (OBS_RECORD_JSON_MAX per record), so nothing checks bounds per
 * byte: snprintf and the sj_buf appenders cost several times more
 * (docs/observability.md).
 */
#ifndef SLUICE_OBS_PUT_H
#define SLUICE_OBS_PUT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "obs/store.h"
#include "sluice/json.h"

/* The room one record's fields take in JSON at worst: every string escaped
 * (6 bytes per byte: \u00XX), plus keys, numbers and a timestamp. */
#define OBS_RECORD_JSON_MAX (6 * sizeof(obs_record) + 1024)

/* Copies a string literal to p; the new end. */
#define OBS_PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* v as a quoted JSON string at p (b->data <= p, room reserved). Printable
 * ASCII is copied as it goes; a string with anything else (a byte to escape,
 * non-ASCII to check as UTF-8) is redone by sj_buf_str, after which another
 * OBS_RECORD_JSON_MAX is reserved. Returns the new end (b->data may have
 * moved), or NULL when out of memory (b->oom is set). */
char *obs_put_str(sj_buf *b, char *p, const char *v);
/* The same for the len bytes at v (no terminator needed). */
char *obs_put_strn(sj_buf *b, char *p, const char *v, size_t len);

/* A non-negative integer, or null for a negative one (not applicable). */
char *obs_put_i64(char *p, int64_t v);

/* A duration in ms with three decimals, or null for a negative one. */
char *obs_put_ms(char *p, double v);

/* A request's values after its start time, in the order of the store's row
 * (and of the request log line's keys, log.c). */
#define OBS_ROW_VALUES 16
#define OBS_ROW_STREAM 6   /* stream: 0/1 in the row, false/true in the line */
typedef struct obs_row_spans {
    uint32_t at[OBS_ROW_VALUES];   /* offset of the value from the buffer's data */
    uint32_t len[OBS_ROW_VALUES];
} obs_row_spans;

/* Bytes of room a built row has past its end: a reader may copy any value
 * as one chunk of this size. */
#define OBS_ROW_SLACK 32

/* Replaces b's content with r as a store row,
 * [ts_ms,"request_id","method","path","provider","model",status,stream,
 *  total_ms,upstream_ms,ttft_ms,prompt_tokens,completion_tokens,retries,
 *  "fallback","error",plugin_errors]
 * and sets sp to where each value after ts_ms is, so that the log line is
 * built from the same bytes (every string is checked and escaped once per
 * request, not once for the line and again for the row). b keeps
 * OBS_ROW_SLACK bytes of room past the row. false when out of memory. */
bool obs_row_build(sj_buf *b, const obs_record *r, obs_row_spans *sp);

#endif /* SLUICE_OBS_PUT_H */
