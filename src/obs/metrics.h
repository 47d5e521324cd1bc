/*
 * metrics.h - a metrics registry for a multi-threaded server, rendered in the
 * Prometheus text exposition format (version 0.0.4). Prefix: obs_.
 *
 * Design:
 *  - A metric (counter, gauge or histogram) has a fixed list of label names.
 *    Each distinct tuple of label values is a series. Series are created on
 *    first use and never removed; the number per metric is capped (the
 *    registry's max_series): once full, new tuples all land in one overflow
 *    series whose every label value is "other", so a hostile client sending
 *    random model names cannot grow memory without bound. Label values are
 *    also truncated to OBS_LABEL_MAX bytes.
 *  - Looking a series up takes no lock: the series table is an open-addressing
 *    hash whose slots are published with a release store and never change
 *    after that. Only creating a series takes the metric's mutex.
 *  - Every series holds OBS_SHARDS copies of its values, one per thread shard,
 *    each on its own cache line. A thread picks its shard once (thread-local)
 *    and updates it with relaxed atomics, so worker threads never contend on a
 *    cache line or a lock. A scrape sums the shards. (More threads than shards
 *    share shards; the atomics keep that correct, just slower.)
 */
#ifndef SLUICE_OBS_METRICS_H
#define SLUICE_OBS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/json.h"   /* sj_buf, the output buffer */

#define OBS_SHARDS 16
#define OBS_LABEL_MAX 128       /* bytes kept of a label value */
#define OBS_MAX_LABELS 4
#define OBS_MAX_BUCKETS 24
#define OBS_DEFAULT_MAX_SERIES 1000

typedef enum obs_kind { OBS_COUNTER, OBS_GAUGE, OBS_HISTOGRAM } obs_kind;

typedef struct obs_registry obs_registry;
typedef struct obs_metric obs_metric;
typedef struct obs_series obs_series;

/* A new empty registry; max_series caps the series of each metric (0: the
 * default, 1,000), not counting the overflow series. NULL on OOM.
 * Free with obs_registry_free() once no thread uses it any more. */
obs_registry *obs_registry_new(size_t max_series);
void obs_registry_free(obs_registry *r);

/* Registers a metric (at start-up, before threads use it; not thread-safe
 * against each other). Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* (not starting "__"); histogram bounds strictly
 * increasing and finite (+Inf is implicit). Returns NULL on a bad argument or
 * OOM. The metric belongs to the registry. */
obs_metric *obs_counter_new(obs_registry *r, const char *name, const char *help, int n_labels,
                            const char *const *label_names);
obs_metric *obs_gauge_new(obs_registry *r, const char *name, const char *help, int n_labels,
                          const char *const *label_names);
obs_metric *obs_histogram_new(obs_registry *r, const char *name, const char *help, int n_labels,
                              const char *const *label_names, const double *bounds, int n_bounds);

/* The series for these label values (n_labels of them; NULL reads as "").
 * Lock-free when it exists. Never NULL for a valid metric: on OOM or when the
 * metric is full, the overflow series. Valid as long as the registry. */
obs_series *obs_series_get(obs_metric *m, const char *const *values);

/* Hot-path updates on the calling thread's shard. */
void obs_counter_add(obs_series *s, uint64_t n);
void obs_gauge_add(obs_series *s, int64_t delta);
void obs_histogram_observe(obs_series *s, double v);

/* Sums over shards (for tests and for readers of one value). */
uint64_t obs_counter_value(obs_series *s);
int64_t obs_gauge_value(obs_series *s);
/* count and sum of a histogram; bucket i (cumulative) into buckets[] if non-NULL
 * (n_bounds + 1 entries, the last one +Inf). */
uint64_t obs_histogram_count(obs_series *s, double *sum, uint64_t *buckets);

/* How many series the metric has (including the overflow one if used). */
size_t obs_metric_series_count(obs_metric *m);

/* Appends the whole registry in the text exposition format onto out.
 * Returns false on OOM. Safe to call while other threads update. */
bool obs_registry_render(obs_registry *r, sj_buf *out);

/* The shard index of the calling thread (0..OBS_SHARDS-1), assigned on first call. */
int obs_thread_shard(void);

#endif /* SLUICE_OBS_METRICS_H */
