/*
 * log.h - structured logs: one JSON object per line, to stderr or a file.
 * Prefix: obs_log.
 *
 * Lines are built in memory and written with a single write(2) on an
 * O_APPEND descriptor, so lines from different threads never interleave and
 * no lock is needed. Nothing here ever logs an API key or message content:
 * callers pass only what the schema in docs/observability.md lists.
 */
#ifndef SLUICE_OBS_LOG_H
#define SLUICE_OBS_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "obs/store.h"

typedef enum obs_level { OBS_DEBUG, OBS_INFO, OBS_WARN, OBS_ERROR } obs_level;

/* "debug", "info", "warn" (or "warning"), "error" -> 0; else -1. */
int obs_level_parse(const char *s, obs_level *out);
const char *obs_level_name(obs_level l);

/* Sets the level and the destination: path NULL or "" = stderr, else the
 * file is created/appended. 0, or -1 with a message in err. May be called
 * again (the previous file is closed); not concurrently with logging. */
int obs_log_open(obs_level level, const char *path, char *err, size_t errlen);
void obs_log_close(void);

bool obs_log_enabled(obs_level l);

/* {"ts":...,"level":...,"type":"request", ...the record's fields...} */
void obs_log_request(const obs_record *r);

/* {"ts":...,"level":...,"type":"plugin","plugin":name,"msg":line}: a line a
 * plugin printed, tagged with its name (for the plugin host). */
void obs_log_plugin(const char *plugin, obs_level l, const char *line, size_t len);

/* {"ts":...,"level":...,"type":"event","event":event,"msg":formatted}. */
void obs_logf(obs_level l, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* SLUICE_OBS_LOG_H */
