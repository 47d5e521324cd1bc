/*
 * store.c - the SQLite request log store: bounded queue and writer thread.
 * Queries live in store_query.c.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "obs/store_int.h"

/* The writer waits up to this long for a full batch once a record came. */
#define OBS_STORE_LINGER_MS 50

static const char obs_store_schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS requests ("
    " id INTEGER PRIMARY KEY,"
    " ts_ms INTEGER NOT NULL,"
    " request_id TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,"
    " provider TEXT NOT NULL, model TEXT NOT NULL, status INTEGER NOT NULL, stream INTEGER NOT NULL,"
    " total_ms REAL, upstream_ms REAL, ttft_ms REAL,"
    " prompt_tokens INTEGER, completion_tokens INTEGER, retries INTEGER NOT NULL,"
    " fallback TEXT NOT NULL, error TEXT NOT NULL, plugin_errors INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS requests_ts ON requests(ts_ms);";

/* The INSERT's head; each row adds "(?,...,?)" with OBS_STORE_COLS parameters. */
static const char obs_store_insert_head[] =
    "INSERT INTO requests (ts_ms, request_id, method, path, provider, model, status, stream, total_ms,"
    " upstream_ms, ttft_ms, prompt_tokens, completion_tokens, retries, fallback, error, plugin_errors) VALUES ";

int64_t obs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the packed queue -------------------------------------------------------
 *
 * A record is ~750 bytes, mostly unused string room; packed it is its numbers
 * and the strings' used bytes. So the queue holds several times more rows
 * for the same memory, which is what absorbs the writer being descheduled
 * for a while on a busy machine (4 MiB: ~25,000 typical rows, ~0.6 s at
 * 40,000 requests/s). */

typedef struct obs_packed {
    uint32_t len;               /* bytes of this entry, a multiple of 8; 0 = wrap marker */
    int32_t status;
    int64_t ts_ms, prompt_tokens, completion_tokens;
    double total_ms, upstream_ms, ttft_ms;
    int32_t retries, plugin_errors;
    uint8_t stream;
    uint8_t slen[7];            /* the string fields' lengths, in obs_strings order */
} obs_packed;

/* The string fields, with their capacities (each < 256: one length byte). */
#define OBS_STRINGS(r)                                                                                                 \
    {(r)->request_id, (r)->method, (r)->path, (r)->provider, (r)->model, (r)->fallback, (r)->error}
static const size_t obs_string_caps[7] = {
    sizeof(((obs_record *)0)->request_id), sizeof(((obs_record *)0)->method), sizeof(((obs_record *)0)->path),
    sizeof(((obs_record *)0)->provider),   sizeof(((obs_record *)0)->model),  sizeof(((obs_record *)0)->fallback),
    sizeof(((obs_record *)0)->error)};
_Static_assert(sizeof(((obs_record *)0)->error) <= 256 && sizeof(((obs_record *)0)->path) <= 256 &&
                   sizeof(((obs_record *)0)->model) <= 256 && sizeof(((obs_record *)0)->request_id) <= 256,
               "string lengths fit a byte");
_Static_assert(sizeof(obs_packed) % 8 == 0, "entries stay 8-aligned");
/* The longest entry (every string at its longest), rounded up to 8. */
#define OBS_PACKED_MAX ((sizeof(obs_packed) + sizeof(obs_record) + 7) & ~(size_t)7)

static size_t obs_round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Where an entry of len bytes goes, or SIZE_MAX when it does not fit. Sets
 * *wrap when it goes to the start and the end must be marked unused. */
static size_t obs_ring_place(const obs_store *s, size_t len, bool *wrap)
{
    *wrap = false;
    if (s->count == 0)
        return len <= s->bytes ? 0 : SIZE_MAX;   /* empty: offsets were reset to 0 */
    if (s->rtail > s->rhead) {                   /* data in [rhead, rtail) */
        if (s->bytes - s->rtail >= len)
            return s->rtail;
        if (s->rhead >= len) {
            *wrap = true;
            return 0;
        }
        return SIZE_MAX;
    }
    /* Wrapped (data in [rhead, end) and [0, rtail)) or full (rtail == rhead). */
    return s->rhead - s->rtail >= len ? s->rtail : SIZE_MAX;
}

bool obs_ring_push(obs_store *s, const obs_record *r)
{
    const char *str[7] = OBS_STRINGS(r);
    obs_packed h = {.status = r->status, .ts_ms = r->ts_ms, .prompt_tokens = r->prompt_tokens,
                    .completion_tokens = r->completion_tokens, .total_ms = r->total_ms,
                    .upstream_ms = r->upstream_ms, .ttft_ms = r->ttft_ms, .retries = r->retries,
                    .plugin_errors = r->plugin_errors, .stream = r->stream};
    size_t len = sizeof(h);
    for (int i = 0; i < 7; i++) {
        h.slen[i] = (uint8_t)strnlen(str[i], obs_string_caps[i] - 1);
        len += h.slen[i];
    }
    len = obs_round8(len);
    h.len = (uint32_t)len;
    bool wrap;
    size_t at = s->count < s->cap ? obs_ring_place(s, len, &wrap) : SIZE_MAX;
    if (at == SIZE_MAX)
        return false;
    if (wrap)
        memset(s->ring + s->rtail, 0, sizeof(uint32_t));   /* the end is unused: the reader wraps */
    unsigned char *p = s->ring + at;
    memcpy(p, &h, sizeof(h));
    p += sizeof(h);
    for (int i = 0; i < 7; i++) {
        memcpy(p, str[i], h.slen[i]);
        p += h.slen[i];
    }
    s->rtail = at + len;
    if (s->rtail == s->bytes)
        s->rtail = 0;
    s->count++;
    return true;
}

bool obs_store_submit(obs_store *s, const obs_record *r)
{
    pthread_mutex_lock(&s->lock);
    if (!obs_ring_push(s, r)) {
        s->dropped++;
        bool wake = !s->full;   /* a lingering writer must not wait for a batch that cannot fit */
        s->full = true;
        pthread_mutex_unlock(&s->lock);
        if (wake)
            pthread_cond_signal(&s->wake);
        obs_counter_add(s->opt.dropped, 1);
        return false;
    }
    /* Wake the writer only when it may be asleep with nothing to do (the
     * first record) or when a full batch is ready (it lingers meanwhile):
     * not once per request. */
    bool wake = s->count == 1 || s->count == s->opt.batch_max;
    pthread_mutex_unlock(&s->lock);
    if (wake)
        pthread_cond_signal(&s->wake);
    return true;
}

void obs_ring_pop(obs_store *s, obs_record *r)
{
    obs_packed h;
    if (s->rhead == s->bytes)
        s->rhead = 0;
    memcpy(&h.len, s->ring + s->rhead, sizeof(h.len));
    if (h.len == 0)
        s->rhead = 0;   /* the wrap marker: the entry is at the start */
    const unsigned char *p = s->ring + s->rhead;
    memcpy(&h, p, sizeof(h));
    p += sizeof(h);
    *r = (obs_record){.ts_ms = h.ts_ms, .status = h.status, .stream = h.stream, .total_ms = h.total_ms,
                      .upstream_ms = h.upstream_ms, .ttft_ms = h.ttft_ms, .prompt_tokens = h.prompt_tokens,
                      .completion_tokens = h.completion_tokens, .retries = h.retries,
                      .plugin_errors = h.plugin_errors};
    char *str[7] = OBS_STRINGS(r);
    for (int i = 0; i < 7; i++) {
        memcpy(str[i], p, h.slen[i]);
        str[i][h.slen[i]] = '\0';
        p += h.slen[i];
    }
    s->rhead += h.len;
    if (--s->count == 0)
        s->rhead = s->rtail = 0;   /* empty: start over at 0 (see obs_ring_place) */
}

static void obs_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);   /* the batch outlives the step */
}

static void obs_bind_opt_double(sqlite3_stmt *st, int i, double v)
{
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static void obs_bind_opt_int(sqlite3_stmt *st, int i, int64_t v)
{
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

/* Binds r as the row starting at parameter base + 1. Text is bound
 * SQLITE_STATIC: the batch outlives the step. */
static void obs_bind_row(sqlite3_stmt *st, int base, const obs_record *r)
{
    sqlite3_bind_int64(st, base + 1, r->ts_ms);
    obs_bind_text(st, base + 2, r->request_id);
    obs_bind_text(st, base + 3, r->method);
    obs_bind_text(st, base + 4, r->path);
    obs_bind_text(st, base + 5, r->provider);
    obs_bind_text(st, base + 6, r->model);
    sqlite3_bind_int(st, base + 7, r->status);
    sqlite3_bind_int(st, base + 8, r->stream);
    obs_bind_opt_double(st, base + 9, r->total_ms);
    obs_bind_opt_double(st, base + 10, r->upstream_ms);
    obs_bind_opt_double(st, base + 11, r->ttft_ms);
    obs_bind_opt_int(st, base + 12, r->prompt_tokens);
    obs_bind_opt_int(st, base + 13, r->completion_tokens);
    sqlite3_bind_int(st, base + 14, r->retries);
    obs_bind_text(st, base + 15, r->fallback);
    obs_bind_text(st, base + 16, r->error);
    sqlite3_bind_int(st, base + 17, r->plugin_errors);
}

/* Writes n records in one transaction: OBS_STORE_ROWS_PER_INSERT rows per
 * statement, the remainder one by one. A failed batch is reported once and
 * dropped (counted): the writer must keep going, the disk may come back. */
static void obs_store_write_batch(obs_store *s, const obs_record *b, size_t n)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK)
        goto failed;
    for (size_t i = 0; i < n;) {
        size_t k = n - i >= OBS_STORE_ROWS_PER_INSERT ? OBS_STORE_ROWS_PER_INSERT : 1;
        sqlite3_stmt *st = k > 1 ? s->insert_n : s->insert1;
        for (size_t j = 0; j < k; j++)
            obs_bind_row(st, (int)j * OBS_STORE_COLS, &b[i + j]);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            goto failed;
        i += k;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto failed;
    atomic_fetch_add(&s->written, n);
    return;
failed:
    fprintf(stderr, "sluice: logs_store: cannot write %zu rows: %s\n", n, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&s->lock);
    s->dropped += n;
    pthread_mutex_unlock(&s->lock);
    obs_counter_add(s->opt.dropped, n);
}

/* Prepares the INSERT of `rows` rows into *st. SQLITE_OK or an error code. */
static int obs_prepare_insert(sqlite3 *db, int rows, sqlite3_stmt **st)
{
    static const char row[] = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    _Static_assert(sizeof(row) == 2 * OBS_STORE_COLS + 2, "one ? per column");
    char sql[sizeof(obs_store_insert_head) + OBS_STORE_ROWS_PER_INSERT * sizeof(row)];
    size_t len = sizeof(obs_store_insert_head) - 1;
    memcpy(sql, obs_store_insert_head, len);
    for (int i = 0; i < rows; i++) {
        if (i)
            sql[len++] = ',';
        memcpy(sql + len, row, sizeof(row) - 1);
        len += sizeof(row) - 1;
    }
    sql[len] = '\0';
    return sqlite3_prepare_v2(db, sql, (int)len + 1, st, NULL);
}

static void obs_store_retain(obs_store *s)
{
    if (s->opt.retention_days <= 0)
        return;
    int64_t cutoff = obs_now_ms() - (int64_t)s->opt.retention_days * 86400 * 1000;
    sqlite3_bind_int64(s->purge, 1, cutoff);
    if (sqlite3_step(s->purge) != SQLITE_DONE)
        fprintf(stderr, "sluice: logs_store: retention delete failed: %s\n", sqlite3_errmsg(s->db));
    sqlite3_reset(s->purge);
}

static void obs_deadline(struct timespec *ts, uint64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void *obs_store_writer(void *arg)
{
    obs_store *s = arg;
    struct timespec next_retain;
    obs_deadline(&next_retain, 0);   /* one pass at start-up */
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->count == 0 && !s->stopping && !s->retain_requested) {
            if (pthread_cond_timedwait(&s->wake, &s->lock, &next_retain) == ETIMEDOUT)
                s->retain_requested = true;
        }
        if (s->retain_requested) {
            s->retain_requested = false;
            s->busy = true;
            pthread_mutex_unlock(&s->lock);
            obs_store_retain(s);
            obs_deadline(&next_retain, s->opt.retention_every_ms);
            pthread_mutex_lock(&s->lock);
            s->busy = false;
            s->retains_done++;
            pthread_cond_broadcast(&s->idle);
        }
        if (s->count == 0 && s->stopping)
            break;
        /* Linger a little for a fuller batch: one transaction per request
         * would cost more CPU than the request itself at high rates. */
        if (s->count > 0 && s->count < s->opt.batch_max && !s->stopping && s->flushing == 0 && !s->full) {
            struct timespec until;
            obs_deadline(&until, OBS_STORE_LINGER_MS);
            while (s->count < s->opt.batch_max && !s->stopping && s->flushing == 0 && !s->full &&
                   pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT)
                ;
        }
        size_t n = s->count < s->opt.batch_max ? s->count : s->opt.batch_max;
        for (size_t i = 0; i < n; i++)
            obs_ring_pop(s, &s->batch[i]);
        s->full = false;
        if (n == 0)
            continue;
        s->busy = true;
        pthread_mutex_unlock(&s->lock);
        obs_store_write_batch(s, s->batch, n);
        pthread_mutex_lock(&s->lock);
        s->busy = false;
        pthread_cond_broadcast(&s->idle);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Frees everything a store owns once no writer thread runs: shared by a
 * failed open and by obs_store_close. sqlite3 and pthread calls accept the
 * zero/NULL members of a half-built store. */
static void obs_store_release(obs_store *s)
{
    sqlite3_finalize(s->insert1);
    sqlite3_finalize(s->insert_n);
    sqlite3_finalize(s->purge);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->idle);
    free(s->ring);
    free(s->batch);
    free(s->path);
    free(s);
}

obs_store *obs_store_open(const obs_store_options *o, char *err, size_t errlen)
{
    obs_store *s = calloc(1, sizeof(*s));
    if (s == NULL || o->path == NULL || !*o->path) {
        snprintf(err, errlen, "logs_store: %s", s ? "no path" : "out of memory");
        free(s);
        return NULL;
    }
    s->opt = *o;
    s->opt.path = NULL;
    s->path = strdup(o->path);
    s->cap = o->queue_cap ? o->queue_cap : 16384;
    s->bytes = s->cap * OBS_STORE_BYTES_PER_RECORD;
    if (s->bytes < OBS_PACKED_MAX)
        s->bytes = OBS_PACKED_MAX;   /* any record fits an empty queue */
    if (s->opt.batch_max == 0)
        s->opt.batch_max = 256;
    if (s->opt.retention_every_ms == 0)
        s->opt.retention_every_ms = 3600 * 1000;
    s->ring = s->cap <= SIZE_MAX / OBS_STORE_BYTES_PER_RECORD ? malloc(s->bytes) : NULL;
    s->batch = calloc(s->opt.batch_max, sizeof(obs_record));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->idle, NULL);
    char *msg = NULL;
    if (s->path == NULL || s->ring == NULL || s->batch == NULL) {
        snprintf(err, errlen, "logs_store: out of memory");
    } else if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                               NULL) != SQLITE_OK) {
        snprintf(err, errlen, "logs_store: cannot open %s: %s", o->path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
    } else if (sqlite3_busy_timeout(s->db, 5000), sqlite3_exec(s->db, obs_store_schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "logs_store: %s: %s", o->path, msg ? msg : "cannot create the schema");
    } else if (obs_prepare_insert(s->db, 1, &s->insert1) != SQLITE_OK ||
               obs_prepare_insert(s->db, OBS_STORE_ROWS_PER_INSERT, &s->insert_n) != SQLITE_OK ||
               sqlite3_prepare_v2(s->db, "DELETE FROM requests WHERE ts_ms < ?", -1, &s->purge, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "logs_store: %s: %s", o->path, sqlite3_errmsg(s->db));
    } else if (pthread_create(&s->thread, NULL, obs_store_writer, s) != 0) {
        snprintf(err, errlen, "logs_store: cannot start the writer thread");
    } else {
        return s;
    }
    sqlite3_free(msg);
    obs_store_release(s);
    return NULL;
}

void obs_store_flush(obs_store *s)
{
    pthread_mutex_lock(&s->lock);
    s->flushing++;
    pthread_cond_signal(&s->wake);   /* ends a linger */
    while (s->count > 0 || s->busy)
        pthread_cond_wait(&s->idle, &s->lock);
    s->flushing--;
    pthread_mutex_unlock(&s->lock);
}

void obs_store_retain_now(obs_store *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t want = s->retains_done + 1;
    s->retain_requested = true;
    pthread_cond_signal(&s->wake);
    while (s->retains_done < want)
        pthread_cond_wait(&s->idle, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

uint64_t obs_store_dropped(obs_store *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t n = s->dropped;
    pthread_mutex_unlock(&s->lock);
    return n;
}

uint64_t obs_store_written(obs_store *s)
{
    return atomic_load(&s->written);
}

void obs_store_close(obs_store *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    obs_store_release(s);
}
