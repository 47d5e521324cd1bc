/*
 * log.h - structured logs: one JSON object per line, to stderr or a file.
 * Prefix: obs_log.
 *
 * Worker threads buffer their lines (no lock, no syscall per line) and hand
 * the buffer to one writer thread through a bounded queue that drops (and
 * counts) rather than block traffic when the destination is slow; see log.c
 * and docs/observability.md for the policy. Nothing here ever logs an API key
 * or message content: callers pass only what the schema in
 * docs/observability.md lists.
 */
#ifndef SLUICE_OBS_LOG_H
#define SLUICE_OBS_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "obs/metrics.h"
#include "obs/put.h"
#include "obs/store.h"

/* How often a worker's loop hands its buffered lines over (the longest a
 * line waits in a quiet worker). */
#define OBS_LOG_FLUSH_MS 50

typedef enum obs_level { OBS_DEBUG, OBS_INFO, OBS_WARN, OBS_ERROR } obs_level;

/* "debug", "info", "warn" (or "warning"), "error" -> 0; else -1. */
int obs_level_parse(const char *s, obs_level *out);
const char *obs_level_name(obs_level l);

/* Sets the level and the destination: path NULL or "" = stderr, else the
 * file is created/appended; starts the writer thread. 0, or -1 with a message
 * in err. May be called again (what was queued goes to the previous file,
 * which is then closed); not concurrently with logging. */
int obs_log_open(obs_level level, const char *path, char *err, size_t errlen);
/* Hands over every registered thread's buffer, lets the writer finish (at
 * most a few seconds if the destination blocks) and stops it. Call once no
 * thread logs any more (after the workers stopped); later lines are written
 * directly. Registered thread states are released. */
void obs_log_close(void);

/* A worker thread's lines are buffered from now on (until obs_log_close). It
 * must call obs_log_thread_flush() every OBS_LOG_FLUSH_MS and when it stops. */
void obs_log_thread_start(void);
/* Hands the calling thread's buffered lines to the writer (cheap if empty). */
void obs_log_thread_flush(void);
/* Flushes the calling thread and waits until the writer wrote everything
 * queued so far (tests). */
void obs_log_sync(void);
/* Lines dropped (queue full, write error, OOM) since start; each is also
 * added to the counter given to obs_log_count_drops(), if any. */
uint64_t obs_log_dropped(void);
void obs_log_count_drops(obs_series *s);

bool obs_log_enabled(obs_level l);

/* {"ts":...,"level":...,"type":"request", ...the record's fields...} */
void obs_log_request(const obs_record *r);
/* Whether r's line would be written (its level is enabled). */
bool obs_log_request_wanted(const obs_record *r);
/* The same line from r's store row, built by obs_row_build (put.h) with its
 * spans sp: the values are copied, not written again. row NULL: the row
 * could not be built; the line is counted as dropped. */
void obs_log_request_row(const obs_record *r, const char *row, const obs_row_spans *sp);
/* A buffer to build a row in: the calling worker thread's own (reused,
 * freed by obs_log_close), or `fresh` when the thread is not registered, which
 * the caller then frees. */
sj_buf *obs_log_scratch(sj_buf *fresh);

/* {"ts":...,"level":...,"type":"plugin","plugin":name,"msg":line}: a line a
 * plugin printed, tagged with its name (for the plugin host). */
void obs_log_plugin(const char *plugin, obs_level l, const char *line, size_t len);

/* {"ts":...,"level":...,"type":"event","event":event,"msg":formatted}. */
void obs_logf(obs_level l, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* SLUICE_OBS_LOG_H */
