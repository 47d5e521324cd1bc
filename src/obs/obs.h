/*
 * obs.h - the gateway's observability: its metric set, request logging and
 * the log store, behind calls the request path makes. Prefix: obs_.
 *
 * obs_init() runs once in main() before the server starts; every other call
 * is safe from any thread and cheap (lock-free metric updates on the
 * calling thread's shard; the log store only copies into its queue).
 * Label values come from configuration (provider names) or are bounded by the
 * series cap (model names from clients); never an API key or message text.
 */
#ifndef SLUICE_OBS_OBS_H
#define SLUICE_OBS_OBS_H

#include <stdbool.h>
#include <stddef.h>

#include "obs/log.h"
#include "obs/metrics.h"
#include "obs/store.h"

typedef struct obs_config {
    const char *version;        /* for sluice_build_info */
    obs_level log_level;        /* client.log_level */
    const char *log_file;       /* client.log_file; NULL/"" = stderr */
    bool log_requests;          /* client.enable_logging: a JSON line and a store row per request */
    bool no_request_lines;      /* client.log_request_lines false: store rows only (no line) */
    bool store_enabled;         /* logs_store.enabled */
    const char *store_path;     /* logs_store.config.path */
    int retention_days;         /* client.log_retention_days; 0 = forever */
    size_t max_series;          /* per metric; 0 = 1,000 */
} obs_config;

/* 0, or -1 with a message in err (bad log file, cannot open the store). */
int obs_init(const obs_config *c, char *err, size_t errlen);
/* Waits until every log line handed over so far (and the calling thread's
 * buffered ones) is written and every queued store row committed (tests,
 * benchmarks). */
void obs_sync(void);
/* Flushes and closes the store; after the server has stopped. */
void obs_shutdown(void);

/* A finished request: metrics, the log line and the store row. endpoint is a
 * fixed route name ("chat", "models", "health", "metrics", "logs", "other"). */
void obs_request_done(const obs_record *r, const char *endpoint);

void obs_conn_opened(void);
void obs_conn_closed(void);
void obs_stream_opened(void);
void obs_stream_closed(void);

/* kind: a fixed word such as "timeout", "connect", "http_5xx", "http_429",
 * "bad_response", "stream_idle". */
void obs_upstream_error(const char *provider, const char *kind);
void obs_retry(const char *provider);
/* The error kind for an upstream HTTP status: "http_429", "http_auth"
 * (401/403), "http_4xx", "http_5xx" (static string). */
const char *obs_status_kind(int status);
void obs_fallback(const char *from, const char *to);

/* The plugin host's hooks. hook: "pre_hook", "post_hook"... */
typedef enum obs_hook_outcome { OBS_HOOK_OK, OBS_HOOK_ERROR, OBS_HOOK_TRAP, OBS_HOOK_TIMEOUT } obs_hook_outcome;
void obs_plugin_hook(const char *plugin, const char *hook, obs_hook_outcome outcome, double seconds);
/* How many failed hooks (outcome not OK) obs_plugin_hook saw on the calling
 * thread so far: the plugin gateway takes the difference around a pipeline
 * stage to count one request's plugin_errors. */
unsigned obs_plugin_failures_here(void);
void obs_plugin_recycle(const char *plugin);

/* GET /metrics body. false on OOM. */
bool obs_metrics_text(sj_buf *out);

/* GET /api/logs?qs: appends the JSON body (a result or an OpenAI-style error
 * body is up to the caller: on failure err has the message) and returns the
 * HTTP status: 200, 400 (bad parameters), 404 (no log store), 500. */
int obs_api_logs(const char *qs, size_t len, sj_buf *out, char *err, size_t errlen);

/* The registry (tests). */
obs_registry *obs_gw_registry(void);

#endif /* SLUICE_OBS_OBS_H */
