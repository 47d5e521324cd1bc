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

#endif /* SLUICE_OBS_PUT_H */
