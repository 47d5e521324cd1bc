/*
 * obs.c - the gateway's metric set and the glue between the request path,
 * the logs and the log store (see obs.h).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "obs/obs.h"

/* Latency buckets (seconds): gateway overhead is sub-millisecond to a few ms,
 * upstream calls are tens of ms to minutes. */
static const double obs_overhead_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,   0.025,   0.05,   0.1,   0.25,   1};
static const double obs_upstream_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
static const double obs_tps_bounds[] = {1, 5, 10, 20, 50, 100, 200, 500, 1000, 5000};
static const double obs_hook_bounds[] = {0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1};

/* Bumped by every obs_init: series cached by threads (below) from an older
 * registry are stale. */
static atomic_uint obs_gen;

static struct {
    obs_registry *reg;
    obs_metric *requests, *overhead, *upstream, *ttft, *tps, *tokens, *up_errors, *retries, *fallbacks;
    obs_metric *hook_calls, *hook_failures, *hook_latency, *recycles;
    obs_series *conns, *streams, *store_dropped, *lines_dropped;
    bool log_requests;
    bool no_request_lines;
    obs_store *store;
} obs;

obs_registry *obs_gw_registry(void)
{
    return obs.reg;
}

#define OBS_LABELS(...) (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), (const char *[]){__VA_ARGS__}
#define OBS_BOUNDS(b) b, (int)(sizeof(b) / sizeof(b[0]))

static int obs_make_metrics(const char *version)
{
    obs_registry *r = obs.reg;
    obs_metric *info = obs_gauge_new(r, "sluice_build_info", "Build information; the value is always 1.",
                                     OBS_LABELS("version"));
    obs.requests = obs_counter_new(r, "sluice_requests_total", "HTTP requests answered, by route and outcome.",
                                   OBS_LABELS("provider", "model", "status", "endpoint"));
    obs.overhead = obs_histogram_new(r, "sluice_gateway_overhead_seconds",
                                     "Time spent in the gateway itself (total minus upstream).",
                                     OBS_LABELS("endpoint"), OBS_BOUNDS(obs_overhead_bounds));
    obs.upstream = obs_histogram_new(r, "sluice_upstream_duration_seconds", "Time waiting on the provider.",
                                     OBS_LABELS("provider"), OBS_BOUNDS(obs_upstream_bounds));
    obs.ttft = obs_histogram_new(r, "sluice_stream_ttft_seconds", "Streams: time to the first token.",
                                 OBS_LABELS("provider", "model"), OBS_BOUNDS(obs_upstream_bounds));
    obs.tps = obs_histogram_new(r, "sluice_stream_tokens_per_second",
                                "Streams: completion tokens per second after the first token.",
                                OBS_LABELS("provider", "model"), OBS_BOUNDS(obs_tps_bounds));
    obs.tokens = obs_counter_new(r, "sluice_tokens_total", "Tokens reported by providers.",
                                 OBS_LABELS("provider", "model", "type"));
    obs.up_errors = obs_counter_new(r, "sluice_upstream_errors_total", "Failed provider calls, by kind.",
                                    OBS_LABELS("provider", "kind"));
    obs.retries = obs_counter_new(r, "sluice_retries_total", "Provider calls retried.", OBS_LABELS("provider"));
    obs.fallbacks = obs_counter_new(r, "sluice_fallbacks_total", "Requests moved to a fallback provider.",
                                    OBS_LABELS("from", "to"));
    obs.hook_calls = obs_counter_new(r, "sluice_plugin_hook_calls_total", "Plugin hook invocations.",
                                     OBS_LABELS("plugin", "hook"));
    obs.hook_failures = obs_counter_new(r, "sluice_plugin_hook_failures_total",
                                        "Plugin hook invocations that failed, by kind (error, trap, timeout).",
                                        OBS_LABELS("plugin", "hook", "kind"));
    obs.hook_latency = obs_histogram_new(r, "sluice_plugin_hook_duration_seconds", "Plugin hook run time.",
                                         OBS_LABELS("plugin", "hook"), OBS_BOUNDS(obs_hook_bounds));
    obs.recycles = obs_counter_new(r, "sluice_plugin_instance_recycles_total",
                                   "Plugin instances thrown away and re-created (after a trap or a limit).",
                                   OBS_LABELS("plugin"));
    obs_metric *conns = obs_gauge_new(r, "sluice_open_connections", "Client connections open.", 0, NULL);
    obs_metric *streams = obs_gauge_new(r, "sluice_open_streams", "Streaming responses in progress.", 0, NULL);
    obs_metric *dropped = obs_counter_new(r, "sluice_log_store_dropped_total",
                                          "Request log rows dropped because the store's queue was full or a write failed.",
                                          0, NULL);
    obs_metric *ldropped = obs_counter_new(r, "sluice_log_lines_dropped_total",
                                           "Log lines dropped because the log writer's queue was full or a write failed.",
                                           0, NULL);
    if (!info || !ldropped || !obs.requests || !obs.overhead || !obs.upstream || !obs.ttft || !obs.tps || !obs.tokens ||
        !obs.up_errors || !obs.retries || !obs.fallbacks || !obs.hook_calls || !obs.hook_failures ||
        !obs.hook_latency || !obs.recycles || !conns || !streams || !dropped)
        return -1;
    const char *v[] = {version ? version : "unknown"};
    obs_gauge_add(obs_series_get(info, v), 1);
    obs.conns = obs_series_get(conns, NULL);
    obs.streams = obs_series_get(streams, NULL);
    obs.store_dropped = obs_series_get(dropped, NULL);
    obs.lines_dropped = obs_series_get(ldropped, NULL);
    return 0;
}

int obs_init(const obs_config *c, char *err, size_t errlen)
{
    memset(&obs, 0, sizeof(obs));
    /* Series cached by threads belong to the previous registry; 0 means
     * empty, so skip it on wrap-around. */
    if (atomic_fetch_add(&obs_gen, 1) + 1 == 0)
        atomic_fetch_add(&obs_gen, 1);
    obs.reg = obs_registry_new(c->max_series);
    if (obs.reg == NULL || obs_make_metrics(c->version) != 0) {
        snprintf(err, errlen, "observability: out of memory");
        return -1;
    }
    if (obs_log_open(c->log_level, c->log_file, err, errlen) != 0)
        return -1;
    obs_log_count_drops(obs.lines_dropped);
    obs.log_requests = c->log_requests;
    obs.no_request_lines = c->no_request_lines;
    if (c->store_enabled) {
        obs_store_options o = {.path = c->store_path, .retention_days = c->retention_days,
                               .dropped = obs.store_dropped};
        obs.store = obs_store_open(&o, err, errlen);
        if (obs.store == NULL)
            return -1;
    }
    return 0;
}

void obs_sync(void)
{
    obs_log_sync();
    if (obs.store != NULL)
        obs_store_flush(obs.store);
}

void obs_shutdown(void)
{
    obs_store_close(obs.store);
    obs.store = NULL;
    obs_log_close();
    obs_log_count_drops(NULL);
    obs_registry_free(obs.reg);
    memset(&obs, 0, sizeof(obs));
}

/* ---- the per-thread series cache -------------------------------------------
 *
 * A worker's requests mostly carry the same few label tuples, and finding a
 * series means building its key (UTF-8 checked) and hashing it: about 4,000
 * instructions for the five lookups of one request (callgrind, see
 * docs/observability.md). So each thread remembers the series of the last
 * (provider, model) pair it saw, and for that pair the request counters of a
 * few (status, endpoint) pairs and the overhead histograms of a few
 * endpoints. A lookup is then a few string compares. The cache holds series
 * pointers only; it is valid while the registry that made them lives, which
 * obs_gen tells (bumped by every obs_init). Equal label values always give
 * the same series (the overflow one included: series are never removed), so
 * a cached pointer is exactly what obs_series_get would return. */

#define OBS_CACHE_SLOTS 4
#define OBS_CACHE_EP 16   /* endpoint names kept (longer ones are not cached) */

typedef struct obs_cache {
    unsigned gen;                   /* obs_gen when filled; 0 = empty */
    char provider[sizeof(((obs_record *)0)->provider)];
    char model[sizeof(((obs_record *)0)->model)];
    obs_series *upstream, *ttft, *tps, *prompt, *completion;   /* NULL = not looked up yet */
    struct { int status; char endpoint[OBS_CACHE_EP]; obs_series *s; } req[OBS_CACHE_SLOTS];
    struct { char endpoint[OBS_CACHE_EP]; obs_series *s; } over[OBS_CACHE_SLOTS];
    unsigned req_next, over_next;   /* round-robin replacement */
} obs_cache;

static _Thread_local obs_cache obs_tl_cache;

/* The calling thread's cache, emptied if it belongs to an older registry or
 * to another (provider, model) pair. */
static obs_cache *obs_cache_for(const obs_record *r)
{
    obs_cache *c = &obs_tl_cache;
    unsigned gen = atomic_load_explicit(&obs_gen, memory_order_relaxed);
    if (c->gen == gen && strcmp(c->provider, r->provider) == 0 && strcmp(c->model, r->model) == 0)
        return c;
    bool same_gen = c->gen == gen;
    obs_cache keep = same_gen ? *c : (obs_cache){0};
    memset(c, 0, sizeof(*c));
    c->gen = gen;
    if (same_gen) {   /* the overhead histograms do not depend on the pair */
        memcpy(c->over, keep.over, sizeof(c->over));
        c->over_next = keep.over_next;
    }
    snprintf(c->provider, sizeof(c->provider), "%s", r->provider);
    snprintf(c->model, sizeof(c->model), "%s", r->model);
    return c;
}

/* *slot, looked up with labels the first time. */
static obs_series *obs_cached(obs_series **slot, obs_metric *m, const char *const *labels)
{
    if (*slot == NULL)
        *slot = obs_series_get(m, labels);
    return *slot;
}

/* Remembers endpoint in dst (a copy: the caller's string may not outlive
 * the cache); false if it is too long to cache. */
static bool obs_keep_endpoint(char dst[OBS_CACHE_EP], const char *endpoint)
{
    size_t n = strlen(endpoint);
    if (n >= OBS_CACHE_EP)
        return false;
    memcpy(dst, endpoint, n + 1);
    return true;
}

static obs_series *obs_requests_series(obs_cache *c, const obs_record *r, const char *endpoint)
{
    for (int i = 0; i < OBS_CACHE_SLOTS; i++)
        if (c->req[i].s != NULL && c->req[i].status == r->status && strcmp(c->req[i].endpoint, endpoint) == 0)
            return c->req[i].s;
    /* The status label: three digits by hand for every real HTTP status,
     * printf only for anything odd. */
    char status[12];
    if (r->status >= 100 && r->status <= 999) {
        status[0] = (char)('0' + r->status / 100);
        status[1] = (char)('0' + r->status / 10 % 10);
        status[2] = (char)('0' + r->status % 10);
        status[3] = '\0';
    } else {
        snprintf(status, sizeof(status), "%d", r->status);
    }
    const char *labels[] = {r->provider, r->model, status, endpoint};
    obs_series *s = obs_series_get(obs.requests, labels);
    unsigned i = c->req_next % OBS_CACHE_SLOTS;
    if (s != NULL && obs_keep_endpoint(c->req[i].endpoint, endpoint)) {
        c->req[i].status = r->status;
        c->req[i].s = s;
        c->req_next++;
    }
    return s;
}

static obs_series *obs_overhead_series(obs_cache *c, const char *endpoint)
{
    for (int i = 0; i < OBS_CACHE_SLOTS; i++)
        if (c->over[i].s != NULL && strcmp(c->over[i].endpoint, endpoint) == 0)
            return c->over[i].s;
    obs_series *s = obs_series_get(obs.overhead, &endpoint);
    unsigned i = c->over_next % OBS_CACHE_SLOTS;
    if (s != NULL && obs_keep_endpoint(c->over[i].endpoint, endpoint)) {
        c->over[i].s = s;
        c->over_next++;
    }
    return s;
}

/* The request's log line and store row, from one row built once: the line is
 * made of the row's values (obs_log_request_row), the store queues it. */
static void obs_log_and_store(const obs_record *r)
{
    bool line = !obs.no_request_lines && obs_log_request_wanted(r);
    if (!line && obs.store == NULL)
        return;
    sj_buf fresh = {0}, *row = obs_log_scratch(&fresh);
    obs_row_spans sp;
    bool built = obs_row_build(row, r, &sp);
    if (line)
        obs_log_request_row(r, built ? row->data : NULL, &sp);
    if (obs.store != NULL)
        obs_store_submit_row(obs.store, r->ts_ms, built ? row->data : NULL, row->len);
    if (row == &fresh)
        sj_buf_free(&fresh);
}

void obs_request_done(const obs_record *r, const char *endpoint)
{
    if (obs.reg == NULL)
        return;   /* not initialized (unit tests of other modules) */
    obs_cache *c = obs_cache_for(r);
    obs_counter_add(obs_requests_series(c, r, endpoint), 1);
    double total_s = r->total_ms / 1000, up_s = r->upstream_ms >= 0 ? r->upstream_ms / 1000 : 0;
    if (r->total_ms >= 0)
        obs_histogram_observe(obs_overhead_series(c, endpoint), total_s > up_s ? total_s - up_s : 0);
    const char *pm[] = {r->provider, r->model, NULL};
    if (r->upstream_ms >= 0)
        obs_histogram_observe(obs_cached(&c->upstream, obs.upstream, pm), up_s);
    if (r->stream && r->ttft_ms >= 0) {
        obs_histogram_observe(obs_cached(&c->ttft, obs.ttft, pm), r->ttft_ms / 1000);
        double gen_s = (r->upstream_ms - r->ttft_ms) / 1000;
        if (r->completion_tokens > 0 && gen_s > 0)
            obs_histogram_observe(obs_cached(&c->tps, obs.tps, pm), (double)r->completion_tokens / gen_s);
    }
    if (r->prompt_tokens > 0) {
        pm[2] = "prompt";
        obs_counter_add(obs_cached(&c->prompt, obs.tokens, pm), (uint64_t)r->prompt_tokens);
    }
    if (r->completion_tokens > 0) {
        pm[2] = "completion";
        obs_counter_add(obs_cached(&c->completion, obs.tokens, pm), (uint64_t)r->completion_tokens);
    }
    if (obs.log_requests)
        obs_log_and_store(r);
}

void obs_conn_opened(void) { obs_gauge_add(obs.conns, 1); }
void obs_conn_closed(void) { obs_gauge_add(obs.conns, -1); }
void obs_stream_opened(void) { obs_gauge_add(obs.streams, 1); }
void obs_stream_closed(void) { obs_gauge_add(obs.streams, -1); }

void obs_upstream_error(const char *provider, const char *kind)
{
    if (obs.reg != NULL)
        obs_counter_add(obs_series_get(obs.up_errors, (const char *[]){provider, kind}), 1);
}

const char *obs_status_kind(int status)
{
    if (status == 429)
        return "http_429";
    if (status == 401 || status == 403)
        return "http_auth";
    return status >= 500 ? "http_5xx" : "http_4xx";
}

void obs_retry(const char *provider)
{
    if (obs.reg != NULL)
        obs_counter_add(obs_series_get(obs.retries, &provider), 1);
}

void obs_fallback(const char *from, const char *to)
{
    if (obs.reg != NULL)
        obs_counter_add(obs_series_get(obs.fallbacks, (const char *[]){from, to}), 1);
}

static _Thread_local unsigned obs_tl_hook_failures;

unsigned obs_plugin_failures_here(void)
{
    return obs_tl_hook_failures;
}

void obs_plugin_hook(const char *plugin, const char *hook, obs_hook_outcome outcome, double seconds)
{
    static const char *kinds[] = {"ok", "error", "trap", "timeout"};
    if (outcome != OBS_HOOK_OK)
        obs_tl_hook_failures++;   /* before the check: a request counts its failures without metrics too */
    if (obs.reg == NULL)
        return;
    const char *l[] = {plugin, hook, NULL};
    obs_counter_add(obs_series_get(obs.hook_calls, l), 1);
    obs_histogram_observe(obs_series_get(obs.hook_latency, l), seconds);
    if (outcome != OBS_HOOK_OK && outcome <= OBS_HOOK_TIMEOUT) {
        l[2] = kinds[outcome];
        obs_counter_add(obs_series_get(obs.hook_failures, l), 1);
    }
}

void obs_plugin_recycle(const char *plugin)
{
    if (obs.reg != NULL)
        obs_counter_add(obs_series_get(obs.recycles, &plugin), 1);
}

bool obs_metrics_text(sj_buf *out)
{
    return obs.reg != NULL && obs_registry_render(obs.reg, out);
}

int obs_api_logs(const char *qs, size_t len, sj_buf *out, char *err, size_t errlen)
{
    obs_query q;
    if (obs.store == NULL) {
        snprintf(err, errlen, "the request log store is not enabled (logs_store in the configuration)");
        return 404;
    }
    if (obs_query_parse(qs, len, &q, err, errlen) != 0)
        return 400;
    return obs_store_query(obs.store, &q, out, err, errlen) == 0 ? 200 : 500;
}
