/*
 * metrics.c - the sharded metrics registry and its Prometheus text rendering.
 * See metrics.h for the design.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/metrics.h"

#define OBS_CACHE_LINE 64
#define OBS_KEY_MAX (OBS_MAX_LABELS * (OBS_LABEL_MAX + 1))

struct obs_series {
    char *key;              /* the label values, each NUL-terminated, back to back */
    size_t key_len;
    uint64_t hash;
    const struct obs_metric *metric;
    _Atomic uint64_t *cells; /* OBS_SHARDS rows of `stride` cells */
};

struct obs_metric {
    obs_registry *reg;
    obs_kind kind;
    char *name;
    char *help;
    int n_labels;
    char *label_names[OBS_MAX_LABELS];
    double bounds[OBS_MAX_BUCKETS];
    int n_bounds;
    size_t stride;          /* cells per shard row, a whole number of cache lines */
    size_t table_cap;       /* power of two, > 2 * (max_series + 1) */
    _Atomic(obs_series *) *table;
    pthread_mutex_t lock;   /* held only to create a series */
    size_t n_series;        /* guarded by lock */
    obs_metric *next;
};

struct obs_registry {
    size_t max_series;
    obs_metric *first, *last;
};

/* ---- thread shards --------------------------------------------------------- */

static atomic_int obs_next_shard;
static _Thread_local int obs_my_shard = -1;

int obs_thread_shard(void)
{
    if (obs_my_shard < 0)
        obs_my_shard = atomic_fetch_add_explicit(&obs_next_shard, 1, memory_order_relaxed) % OBS_SHARDS;
    return obs_my_shard;
}

/* ---- registry ---------------------------------------------------------------- */

obs_registry *obs_registry_new(size_t max_series)
{
    obs_registry *r = calloc(1, sizeof(*r));
    if (r != NULL)
        r->max_series = max_series ? max_series : OBS_DEFAULT_MAX_SERIES;
    return r;
}

static void obs_series_free(obs_series *s)
{
    if (s == NULL)
        return;
    free(s->key);
    free((void *)s->cells);
    free(s);
}

static void obs_metric_free(obs_metric *m)
{
    if (m->table != NULL)
        for (size_t i = 0; i < m->table_cap; i++)
            obs_series_free(atomic_load_explicit(&m->table[i], memory_order_relaxed));
    free((void *)m->table);
    for (int i = 0; i < m->n_labels; i++)
        free(m->label_names[i]);
    free(m->name);
    free(m->help);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void obs_registry_free(obs_registry *r)
{
    if (r == NULL)
        return;
    for (obs_metric *m = r->first, *next; m != NULL; m = next) {
        next = m->next;
        obs_metric_free(m);
    }
    free(r);
}

static bool obs_valid_name(const char *s, bool colon_ok)
{
    if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  (colon_ok && c == ':');
        if (!ok)
            return false;
    }
    return true;
}

static obs_metric *obs_metric_new(obs_registry *r, obs_kind kind, const char *name, const char *help, int n_labels,
                                  const char *const *label_names, const double *bounds, int n_bounds)
{
    if (r == NULL || !obs_valid_name(name, true) || n_labels < 0 || n_labels > OBS_MAX_LABELS ||
        (n_labels > 0 && label_names == NULL) || n_bounds < 0 || n_bounds > OBS_MAX_BUCKETS)
        return NULL;
    for (int i = 0; i < n_labels; i++)
        if (!obs_valid_name(label_names[i], false) || strncmp(label_names[i], "__", 2) == 0 ||
            (kind == OBS_HISTOGRAM && strcmp(label_names[i], "le") == 0))
            return NULL;
    for (int i = 0; i < n_bounds; i++)
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
            return NULL;
    for (obs_metric *o = r->first; o != NULL; o = o->next)
        if (strcmp(o->name, name) == 0)
            return NULL;   /* duplicate families are invalid exposition */

    obs_metric *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    m->reg = r;
    m->kind = kind;
    m->n_labels = n_labels;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    bool oom = m->name == NULL || m->help == NULL;
    for (int i = 0; i < n_labels; i++)
        oom |= (m->label_names[i] = strdup(label_names[i])) == NULL;
    m->n_bounds = kind == OBS_HISTOGRAM ? n_bounds : 0;
    if (m->n_bounds)
        memcpy(m->bounds, bounds, sizeof(double) * (size_t)n_bounds);
    /* counter/gauge: one cell; histogram: n_bounds + 1 buckets (non-cumulative,
     * the last is +Inf) and the sum (double bits). The count is the buckets' sum,
     * so a scrape always sees +Inf == _count even mid-update. */
    size_t cells = kind == OBS_HISTOGRAM ? (size_t)m->n_bounds + 2 : 1;
    size_t per_line = OBS_CACHE_LINE / sizeof(uint64_t);
    m->stride = (cells + per_line - 1) / per_line * per_line;
    m->table_cap = 16;
    while (m->table_cap < 2 * (r->max_series + 1))
        m->table_cap *= 2;
    m->table = calloc(m->table_cap, sizeof(*m->table));
    if (oom || m->table == NULL) {
        obs_metric_free(m);
        return NULL;
    }
    if (r->last)
        r->last->next = m;
    else
        r->first = m;
    r->last = m;
    return m;
}

obs_metric *obs_counter_new(obs_registry *r, const char *name, const char *help, int n_labels,
                            const char *const *label_names)
{
    return obs_metric_new(r, OBS_COUNTER, name, help, n_labels, label_names, NULL, 0);
}

obs_metric *obs_gauge_new(obs_registry *r, const char *name, const char *help, int n_labels,
                          const char *const *label_names)
{
    return obs_metric_new(r, OBS_GAUGE, name, help, n_labels, label_names, NULL, 0);
}

obs_metric *obs_histogram_new(obs_registry *r, const char *name, const char *help, int n_labels,
                              const char *const *label_names, const double *bounds, int n_bounds)
{
    return obs_metric_new(r, OBS_HISTOGRAM, name, help, n_labels, label_names, bounds, n_bounds);
}

/* ---- series lookup ----------------------------------------------------------- */

/* Appends one label value to key: at most OBS_LABEL_MAX bytes, cut on a UTF-8
 * boundary, invalid UTF-8 bytes (and NUL, impossible here) replaced by '?', so
 * that the exposition is always valid UTF-8. Returns the new length. */
static size_t obs_key_append(char *key, size_t len, const char *v)
{
    const unsigned char *p = (const unsigned char *)(v ? v : "");
    size_t start = len;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = n > 0;
        for (size_t i = 1; ok && i < n; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (n == 2 && *p < 0xC2)
            ok = false;   /* overlong */
        if (!ok)
            n = 1;
        if (len - start + n > OBS_LABEL_MAX)
            break;
        if (ok)
            memcpy(key + len, p, n);
        else
            key[len] = '?';
        len += n;
        p += n;
    }
    key[len++] = '\0';
    return len;
}

static uint64_t obs_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Probes for key; returns the series, or NULL with *slot at the empty slot. */
static obs_series *obs_probe(obs_metric *m, const char *key, size_t key_len, uint64_t h, size_t *slot)
{
    size_t mask = m->table_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        obs_series *s = atomic_load_explicit(&m->table[i], memory_order_acquire);
        if (s == NULL) {
            *slot = i;
            return NULL;
        }
        if (s->hash == h && s->key_len == key_len && memcmp(s->key, key, key_len) == 0)
            return s;
    }
}

/* Creates and publishes a series; the caller holds m->lock and has probed. */
static obs_series *obs_insert(obs_metric *m, const char *key, size_t key_len, uint64_t h, size_t slot)
{
    obs_series *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->key = malloc(key_len);
    s->cells = aligned_alloc(OBS_CACHE_LINE, OBS_SHARDS * m->stride * sizeof(uint64_t));
    if (s->key == NULL || s->cells == NULL) {
        obs_series_free(s);
        return NULL;
    }
    memcpy(s->key, key, key_len);
    s->key_len = key_len;
    s->hash = h;
    s->metric = m;
    for (size_t i = 0; i < OBS_SHARDS * m->stride; i++)
        atomic_init(&s->cells[i], 0);
    atomic_store_explicit(&m->table[slot], s, memory_order_release);
    m->n_series++;
    return s;
}

static obs_series *obs_overflow(obs_metric *m)
{
    char key[OBS_KEY_MAX];
    size_t len = 0;
    for (int i = 0; i < m->n_labels; i++)
        len = obs_key_append(key, len, "other");
    uint64_t h = obs_hash(key, len);
    size_t slot;
    obs_series *s = obs_probe(m, key, len, h, &slot);
    return s ? s : obs_insert(m, key, len, h, slot);   /* the table keeps room for it */
}

obs_series *obs_series_get(obs_metric *m, const char *const *values)
{
    char key[OBS_KEY_MAX];
    size_t len = 0;
    for (int i = 0; i < m->n_labels; i++)
        len = obs_key_append(key, len, values ? values[i] : NULL);
    uint64_t h = obs_hash(key, len);
    size_t slot;
    obs_series *s = obs_probe(m, key, len, h, &slot);
    if (s != NULL)
        return s;
    pthread_mutex_lock(&m->lock);
    s = obs_probe(m, key, len, h, &slot);   /* another thread may have made it */
    if (s == NULL && m->n_series < m->reg->max_series)
        s = obs_insert(m, key, len, h, slot);
    if (s == NULL)
        s = obs_overflow(m);
    pthread_mutex_unlock(&m->lock);
    return s;   /* NULL only if even the overflow series could not be allocated */
}

size_t obs_metric_series_count(obs_metric *m)
{
    pthread_mutex_lock(&m->lock);
    size_t n = m->n_series;
    pthread_mutex_unlock(&m->lock);
    return n;
}

/* ---- updates ----------------------------------------------------------------- */

static _Atomic uint64_t *obs_row(obs_series *s)
{
    return s->cells + (size_t)obs_thread_shard() * s->metric->stride;
}

void obs_counter_add(obs_series *s, uint64_t n)
{
    if (s != NULL)
        atomic_fetch_add_explicit(obs_row(s), n, memory_order_relaxed);
}

void obs_gauge_add(obs_series *s, int64_t delta)
{
    if (s != NULL)
        atomic_fetch_add_explicit(obs_row(s), (uint64_t)delta, memory_order_relaxed);
}

void obs_histogram_observe(obs_series *s, double v)
{
    if (s == NULL || isnan(v))
        return;   /* a NaN would poison _sum forever */
    const obs_metric *m = s->metric;
    int b = 0;
    while (b < m->n_bounds && v > m->bounds[b])
        b++;
    _Atomic uint64_t *row = obs_row(s);
    atomic_fetch_add_explicit(&row[b], 1, memory_order_relaxed);
    /* The sum is a double kept as bits; the row is (almost always) this
     * thread's alone, so the CAS loop does not spin in practice. */
    _Atomic uint64_t *sum = &row[m->n_bounds + 1];
    uint64_t old = atomic_load_explicit(sum, memory_order_relaxed), next;
    do {
        double d;
        memcpy(&d, &old, sizeof(d));
        d += v;
        memcpy(&next, &d, sizeof(next));
    } while (!atomic_compare_exchange_weak_explicit(sum, &old, next, memory_order_relaxed, memory_order_relaxed));
}

/* Sum of cell i over every shard. */
static uint64_t obs_cell_sum(obs_series *s, size_t i)
{
    uint64_t v = 0;
    for (size_t sh = 0; sh < OBS_SHARDS; sh++)
        v += atomic_load_explicit(&s->cells[sh * s->metric->stride + i], memory_order_relaxed);
    return v;
}

uint64_t obs_counter_value(obs_series *s)
{
    return s ? obs_cell_sum(s, 0) : 0;
}

int64_t obs_gauge_value(obs_series *s)
{
    return (int64_t)obs_counter_value(s);   /* two's complement sum of the deltas */
}

uint64_t obs_histogram_count(obs_series *s, double *sum, uint64_t *buckets)
{
    const obs_metric *m = s->metric;
    uint64_t count = 0;
    for (int b = 0; b <= m->n_bounds; b++) {
        count += obs_cell_sum(s, (size_t)b);
        if (buckets)
            buckets[b] = count;
    }
    if (sum) {
        double total = 0;
        for (size_t sh = 0; sh < OBS_SHARDS; sh++) {
            uint64_t bits = atomic_load_explicit(&s->cells[sh * m->stride + (size_t)m->n_bounds + 1],
                                                 memory_order_relaxed);
            double d;
            memcpy(&d, &bits, sizeof(d));
            total += d;
        }
        *sum = total;
    }
    return count;
}

/* ---- text exposition ------------------------------------------------------- */

/* Writes v into buf (>= 32 bytes) the way Prometheus reads it: the shortest
 * form that reads back as the same double; +Inf, -Inf, NaN. */
static const char *obs_fmt_double(char *buf, size_t size, double v)
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

/* HELP text escapes backslash and newline; label values also the double quote. */
static bool obs_put_escaped(sj_buf *out, const char *s, size_t len, bool quote)
{
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep = s[i] == '\\' ? "\\\\" : s[i] == '\n' ? "\\n" : (quote && s[i] == '"') ? "\\\"" : NULL;
        if (rep == NULL)
            continue;
        sj_buf_raw(out, s + from, i - from);
        sj_buf_cstr(out, rep);
        from = i + 1;
    }
    return sj_buf_raw(out, s + from, len - from);
}

/* name{l1="v1",...[,le="bound"]} value\n */
static void obs_put_sample(sj_buf *out, const obs_metric *m, const char *suffix, const obs_series *s,
                           const char *le, const char *value)
{
    sj_buf_cstr(out, m->name);
    sj_buf_cstr(out, suffix);
    if (m->n_labels > 0 || le != NULL) {
        sj_buf_raw(out, "{", 1);
        const char *v = s->key;
        for (int i = 0; i < m->n_labels; i++) {
            size_t vlen = strlen(v);
            if (i)
                sj_buf_raw(out, ",", 1);
            sj_buf_cstr(out, m->label_names[i]);
            sj_buf_raw(out, "=\"", 2);
            obs_put_escaped(out, v, vlen, true);
            sj_buf_raw(out, "\"", 1);
            v += vlen + 1;
        }
        if (le != NULL) {
            sj_buf_cstr(out, m->n_labels ? ",le=\"" : "le=\"");
            sj_buf_cstr(out, le);
            sj_buf_raw(out, "\"", 1);
        }
        sj_buf_raw(out, "}", 1);
    }
    sj_buf_raw(out, " ", 1);
    sj_buf_cstr(out, value);
    sj_buf_raw(out, "\n", 1);
}

static void obs_render_series(sj_buf *out, const obs_metric *m, obs_series *s)
{
    char num[48];
    if (m->kind == OBS_COUNTER) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)obs_counter_value(s));
        obs_put_sample(out, m, "", s, NULL, num);
        return;
    }
    if (m->kind == OBS_GAUGE) {
        snprintf(num, sizeof(num), "%lld", (long long)obs_gauge_value(s));
        obs_put_sample(out, m, "", s, NULL, num);
        return;
    }
    uint64_t buckets[OBS_MAX_BUCKETS + 1];
    double sum;
    uint64_t count = obs_histogram_count(s, &sum, buckets);
    char le[40];
    for (int b = 0; b <= m->n_bounds; b++) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)buckets[b]);
        obs_put_sample(out, m, "_bucket", s, b < m->n_bounds ? obs_fmt_double(le, sizeof(le), m->bounds[b]) : "+Inf",
                       num);
    }
    obs_put_sample(out, m, "_sum", s, NULL, obs_fmt_double(num, sizeof(num), sum));
    snprintf(num, sizeof(num), "%llu", (unsigned long long)count);
    obs_put_sample(out, m, "_count", s, NULL, num);
}

bool obs_registry_render(obs_registry *r, sj_buf *out)
{
    static const char *kinds[] = {"counter", "gauge", "histogram"};
    for (obs_metric *m = r->first; m != NULL; m = m->next) {
        sj_buf_cstr(out, "# HELP ");
        sj_buf_cstr(out, m->name);
        sj_buf_raw(out, " ", 1);
        obs_put_escaped(out, m->help, strlen(m->help), false);
        sj_buf_cstr(out, "\n# TYPE ");
        sj_buf_cstr(out, m->name);
        sj_buf_raw(out, " ", 1);
        sj_buf_cstr(out, kinds[m->kind]);
        sj_buf_raw(out, "\n", 1);
        for (size_t i = 0; i < m->table_cap; i++) {
            obs_series *s = atomic_load_explicit(&m->table[i], memory_order_acquire);
            if (s != NULL)
                obs_render_series(out, m, s);
        }
    }
    return !out->oom;
}
