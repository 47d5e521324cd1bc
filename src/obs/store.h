/*
 * store.h - the request log store: every request in SQLite, written off the
 * request path. Prefix: obs_store_ / obs_query_.
 *
 * Worker threads hand a request's row (JSON, ~170 bytes for a typical
 * request instead of the record's ~750; built once per request and shared
 * with its log line) to obs_store_submit_row(), which copies it into a
 * bounded byte ring under a short mutex (no I/O, no allocation) or, when the
 * ring is full, drops it and counts the drop: traffic never waits for the
 * disk. One writer thread drains the ring
 * in batches, each batch one transaction and one row (its requests as a JSON
 * array; the view `requests` has a row per request), in WAL mode (readers do
 * not block it). Schema and why: docs/observability.md.
 * The same thread deletes rows older than the retention period periodically.
 * Queries (GET /api/logs) open their own read-only connection.
 */
#ifndef SLUICE_OBS_STORE_H
#define SLUICE_OBS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "obs/metrics.h"
#include "sluice/json.h"

/* One request. Strings are NUL-terminated and truncated to fit; never an API
 * key or message content. Numbers that do not apply are -1. */
typedef struct obs_record {
    int64_t ts_ms;              /* wall clock at the start, ms since the epoch */
    char request_id[80];
    char method[16];
    char path[128];
    char provider[64];          /* who answered ("" if nobody) */
    char model[128];
    int status;
    bool stream;
    double total_ms;            /* time in the gateway, start to last byte */
    double upstream_ms;         /* time waiting on the provider */
    double ttft_ms;             /* streams: time to the first token */
    int64_t prompt_tokens;
    int64_t completion_tokens;
    int retries;
    char fallback[64];          /* provider fallen back to, "" if none */
    char error[160];            /* error kind ("upstream_timeout"...), "" if none */
    int plugin_errors;
} obs_record;

/* Wall clock, ms since the epoch (for obs_record.ts_ms). */
int64_t obs_now_ms(void);

/* Queue bytes per record of queue_cap: a typical row takes ~190 with its header. */
#define OBS_STORE_BYTES_PER_RECORD 256

typedef struct obs_store_options {
    const char *path;           /* SQLite file, created if missing */
    size_t queue_cap;           /* records queued at most; 0: 16384. The queue
                                 * holds OBS_STORE_BYTES_PER_RECORD bytes per
                                 * record (typical rows are smaller; long
                                 * strings take more room) */
    size_t batch_max;           /* requests per transaction and row; 0: 256, at most 65536 */
    int retention_days;         /* 0: keep forever */
    uint64_t retention_every_ms;/* how often to delete old rows; 0: hourly */
    obs_series *dropped;        /* counter bumped per dropped record, or NULL */
} obs_store_options;

typedef struct obs_store obs_store;

/* Opens/creates the database and starts the writer thread. NULL with a
 * message in err on failure. Close with obs_store_close(). */
obs_store *obs_store_open(const obs_store_options *o, char *err, size_t errlen);

/* Queues a copy of the row row[0..len) (obs_row_build, put.h) of a request
 * that started at ts_ms. false (and a counted drop) if the queue is full,
 * or if row is NULL (it could not be built). */
bool obs_store_submit_row(obs_store *s, int64_t ts_ms, const char *row, size_t len);
/* The same from the record (builds its row; tests, one-off callers). */
bool obs_store_submit(obs_store *s, const obs_record *r);

/* Blocks until everything queued so far is committed (tests, shutdown). */
void obs_store_flush(obs_store *s);

/* Runs a retention pass now (as if the period had elapsed) and waits for it. */
void obs_store_retain_now(obs_store *s);

uint64_t obs_store_dropped(obs_store *s);
uint64_t obs_store_written(obs_store *s);

/* Drains the queue, stops the writer and closes the database. NULL is fine. */
void obs_store_close(obs_store *s);

/* A GET /api/logs query. */
#define OBS_QUERY_MAX_LIMIT 1000
typedef struct obs_query {
    char provider[64];          /* "" = any */
    char model[128];            /* "" = any */
    int status;                 /* 0 = any */
    int64_t since_ms;           /* 0 = any; from since= in seconds since the epoch */
    int limit;                  /* 1..OBS_QUERY_MAX_LIMIT, default 100 */
} obs_query;

/* Parses a query string ("provider=x&limit=5", without '?'); percent-escapes
 * and '+' are decoded. 0, or -1 with a message in err (unknown or repeated
 * parameter, value out of range or too long). */
int obs_query_parse(const char *qs, size_t len, obs_query *q, char *err, size_t errlen);

/* Appends {"object":"list","data":[...newest first...]} onto out. 0, or -1
 * with a message in err. Runs on the caller's thread (a read-only connection). */
int obs_store_query(obs_store *s, const obs_query *q, sj_buf *out, char *err, size_t errlen);

#endif /* SLUICE_OBS_STORE_H */
