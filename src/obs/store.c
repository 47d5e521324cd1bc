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

#include "obs/put.h"
#include "obs/store_int.h"

/* The writer waits up to this long for a full batch once a record came. */
#define OBS_STORE_LINGER_MS 50

/* Schema version 2 (PRAGMA user_version). A row of request_batches holds
 * one writer batch: its records as a JSON array of arrays, one per request,
 * in the view's column order. One INSERT per batch instead of one per request
 * is what brings the store's CPU per request near the log line's (SQLite's
 * own work per row, ~1.5 us, was most of it; docs/observability.md). The
 * view `requests` gives back a row per request with the columns of version
 * 1, for anyone querying the file with SQL. */
#define OBS_STORE_VERSION 2
static const char obs_store_schema[] =
    "CREATE TABLE IF NOT EXISTS request_batches ("
    " id INTEGER PRIMARY KEY,"          /* write order */
    " first_ts_ms INTEGER NOT NULL,"    /* the smallest ts_ms of its requests */
    " last_ts_ms INTEGER NOT NULL,"     /* the largest */
    " count INTEGER NOT NULL,"
    " rows TEXT NOT NULL);"             /* last: scans by ts read no overflow page */
    "CREATE VIEW IF NOT EXISTS requests AS SELECT"
    " b.id * 65536 + r.key AS id,"
    " r.value->>0 AS ts_ms, r.value->>1 AS request_id, r.value->>2 AS method, r.value->>3 AS path,"
    " r.value->>4 AS provider, r.value->>5 AS model, r.value->>6 AS status, r.value->>7 AS stream,"
    " r.value->>8 AS total_ms, r.value->>9 AS upstream_ms, r.value->>10 AS ttft_ms,"
    " r.value->>11 AS prompt_tokens, r.value->>12 AS completion_tokens, r.value->>13 AS retries,"
    " r.value->>14 AS fallback, r.value->>15 AS error, r.value->>16 AS plugin_errors"
    " FROM request_batches AS b, json_each(b.rows) AS r;";

/* Retention, precise to the request: whole batches older than the cutoff
 * go; a batch that straddles it keeps its newer requests. */
static const char obs_store_purge_split[] =
    "UPDATE request_batches SET (count, first_ts_ms, rows) ="
    " (SELECT count(*), min(r.value->>0), json_group_array(json(r.value))"
    "  FROM json_each(request_batches.rows) AS r WHERE r.value->>0 >= ?1)"
    " WHERE first_ts_ms < ?1 AND last_ts_ms >= ?1";
static const char obs_store_purge[] = "DELETE FROM request_batches WHERE last_ts_ms < ?1";

int64_t obs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the queue ---------------------------------------------------------------
 *
 * An entry is a request's row as the store keeps it (JSON, ~170 bytes for a
 * typical request, built by the worker with obs_row_build: the same bytes
 * its log line is made of) behind a small header. Entries sit back to back
 * in a byte ring (4 MiB: ~25,000 typical rows, ~0.6 s at 40,000 requests/s,
 * which absorbs the writer being descheduled for a while on a busy machine);
 * an entry never wraps, a 0 length word marks the unused end. */

typedef struct obs_entry {
    uint32_t len;               /* bytes of this entry, a multiple of 8; 0 = wrap marker */
    uint32_t text_len;          /* bytes of the row that follows */
    int64_t ts_ms;
} obs_entry;
_Static_assert(sizeof(obs_entry) % 8 == 0, "entries stay 8-aligned");

/* The longest entry: a row with every string at its longest, all escaped. */
#define OBS_ENTRY_MAX ((sizeof(obs_entry) + OBS_RECORD_JSON_MAX + 7) & ~(size_t)7)

/* The string fields of a record, with their capacities (the v1 migration). */
#define OBS_STRINGS(r)                                                                                                 \
    {(r)->request_id, (r)->method, (r)->path, (r)->provider, (r)->model, (r)->fallback, (r)->error}
static const size_t obs_string_caps[7] = {
    sizeof(((obs_record *)0)->request_id), sizeof(((obs_record *)0)->method), sizeof(((obs_record *)0)->path),
    sizeof(((obs_record *)0)->provider),   sizeof(((obs_record *)0)->model),  sizeof(((obs_record *)0)->fallback),
    sizeof(((obs_record *)0)->error)};

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

/* Queues the row text[0..len) of a request that started at ts_ms; false when
 * it does not fit. The caller holds s->lock. */
static bool obs_ring_put(obs_store *s, int64_t ts_ms, const char *text, size_t len)
{
    bool wrap;
    size_t need = (sizeof(obs_entry) + len + 7) & ~(size_t)7;
    size_t at = s->count < s->cap && need <= OBS_ENTRY_MAX ? obs_ring_place(s, need, &wrap) : SIZE_MAX;
    if (at == SIZE_MAX)
        return false;
    if (wrap)
        memset(s->ring + s->rtail, 0, sizeof(uint32_t));   /* the end is unused: the reader wraps */
    obs_entry h = {.len = (uint32_t)need, .text_len = (uint32_t)len, .ts_ms = ts_ms};
    memcpy(s->ring + at, &h, sizeof(h));
    memcpy(s->ring + at + sizeof(h), text, len);
    s->rtail = at + need;
    if (s->rtail == s->bytes)
        s->rtail = 0;
    s->count++;
    return true;
}

/* Removes the oldest entry; its header goes to *h, and the returned pointer
 * to its row stays valid while the caller holds s->lock (nothing is queued
 * over it meanwhile). s->count must be > 0. */
static const char *obs_ring_take(obs_store *s, obs_entry *h)
{
    if (s->rhead == s->bytes)
        s->rhead = 0;
    memcpy(h, s->ring + s->rhead, sizeof(*h));
    if (h->len == 0) {
        s->rhead = 0;   /* the wrap marker: the entry is at the start */
        memcpy(h, s->ring, sizeof(*h));
    }
    const char *text = (const char *)s->ring + s->rhead + sizeof(*h);
    s->rhead += h->len;
    if (--s->count == 0)
        s->rhead = s->rtail = 0;   /* empty: start over at 0 (see obs_ring_place) */
    return text;
}

bool obs_ring_push(obs_store *s, const obs_record *r)
{
    sj_buf row = {0};
    obs_row_spans sp;
    bool ok = obs_row_build(&row, r, &sp) && obs_ring_put(s, r->ts_ms, row.data, row.len);
    sj_buf_free(&row);
    return ok;
}

int64_t obs_ring_pop(obs_store *s, sj_buf *out)
{
    obs_entry h;
    const char *text = obs_ring_take(s, &h);
    sj_buf_raw(out, text, h.text_len);
    return h.ts_ms;
}

bool obs_store_submit_row(obs_store *s, int64_t ts_ms, const char *row, size_t len)
{
    pthread_mutex_lock(&s->lock);
    if (row == NULL || !obs_ring_put(s, ts_ms, row, len)) {
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

bool obs_store_submit(obs_store *s, const obs_record *r)
{
    sj_buf row = {0};
    obs_row_spans sp;
    bool built = obs_row_build(&row, r, &sp);
    bool ok = obs_store_submit_row(s, r->ts_ms, built ? row.data : NULL, row.len);
    sj_buf_free(&row);
    return ok;
}

/* A batch row is built in s->rows: obs_batch_begin, obs_batch_add per
 * request, obs_batch_insert. */
static void obs_batch_begin(obs_store *s)
{
    s->rows.len = 0;
    s->rows.oom = false;
    s->first_ts = INT64_MAX;
    s->last_ts = INT64_MIN;
    s->in_batch = 0;
    sj_buf_raw(&s->rows, "[", 1);
}

/* Adds one request's row; false when out of memory. */
static bool obs_batch_add(obs_store *s, int64_t ts, const char *row, size_t len)
{
    if ((s->in_batch && !sj_buf_raw(&s->rows, ",", 1)) || !sj_buf_raw(&s->rows, row, len))
        return false;
    s->first_ts = ts < s->first_ts ? ts : s->first_ts;
    s->last_ts = ts > s->last_ts ? ts : s->last_ts;
    s->in_batch++;
    return true;
}

/* Inserts the batch built as one request_batches row, inside the caller's
 * transaction. SQLITE_DONE, or an SQLite error code (SQLITE_NOMEM when the
 * row could not be built). */
static int obs_batch_insert(obs_store *s)
{
    if (!sj_buf_raw(&s->rows, "]", 1))
        return SQLITE_NOMEM;
    sqlite3_bind_int64(s->insert, 1, s->first_ts);
    sqlite3_bind_int64(s->insert, 2, s->last_ts);
    sqlite3_bind_int64(s->insert, 3, (int64_t)s->in_batch);
    sqlite3_bind_text(s->insert, 4, s->rows.data, (int)s->rows.len, SQLITE_STATIC);   /* rows outlives the step */
    int rc = sqlite3_step(s->insert);
    sqlite3_reset(s->insert);
    sqlite3_clear_bindings(s->insert);
    return rc;
}

/* Writes the batch of n requests the writer took into s->rows (built is
 * false when that ran out of memory) in one transaction, as one row. A
 * failed batch is reported once and dropped (counted): the writer must keep
 * going, the disk may come back. */
static void obs_store_write_batch(obs_store *s, size_t n, bool built)
{
    char *msg = NULL;
    int rc = SQLITE_NOMEM;
    if (!built)
        goto failed;
    rc = SQLITE_OK;
    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK)
        goto failed;
    if ((rc = obs_batch_insert(s)) != SQLITE_DONE)
        goto failed;
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto failed;
    atomic_fetch_add(&s->written, n);
    return;
failed:
    fprintf(stderr, "sluice: logs_store: cannot write %zu rows: %s\n", n,
            msg ? msg : rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&s->lock);
    s->dropped += n;
    pthread_mutex_unlock(&s->lock);
    obs_counter_add(s->opt.dropped, n);
}

static void obs_store_retain(obs_store *s)
{
    if (s->opt.retention_days <= 0)
        return;
    int64_t cutoff = obs_now_ms() - (int64_t)s->opt.retention_days * 86400 * 1000;
    int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *st[2] = {s->purge_split, s->purge};
    for (int i = 0; i < 2 && rc == SQLITE_OK; i++) {
        sqlite3_bind_int64(st[i], 1, cutoff);
        rc = sqlite3_step(st[i]) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(st[i]);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "sluice: logs_store: retention delete failed: %s\n", sqlite3_errmsg(s->db));
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

/* One integer from a query (0 when it returns no row). */
static int obs_sql_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    *out = 0;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void obs_col_text(sqlite3_stmt *st, int c, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, c);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* Moves the rows of a version-1 table (renamed requests_v1: a row per
 * request) into batches, in id order, then drops it. Runs inside the
 * caller's transaction. SQLITE_OK or an error code. */
static int obs_store_migrate_v1(obs_store *s)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT ts_ms, request_id, method, path, provider, model, status, stream, total_ms,"
                                " upstream_ms, ttft_ms, prompt_tokens, completion_tokens, retries, fallback, error,"
                                " plugin_errors FROM requests_v1 ORDER BY id",
                                -1, &st, NULL);
    obs_record one, *r = &one;
    sj_buf row = {0};
    obs_row_spans sp;
    obs_batch_begin(s);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        r->ts_ms = sqlite3_column_int64(st, 0);
        char *text[7] = OBS_STRINGS(r);
        const int tcol[7] = {1, 2, 3, 4, 5, 14, 15};   /* their columns in the SELECT */
        for (int i = 0; i < 7; i++)
            obs_col_text(st, tcol[i], text[i], obs_string_caps[i]);
        r->status = sqlite3_column_int(st, 6);
        r->stream = sqlite3_column_int(st, 7) != 0;
        double *ms[3] = {&r->total_ms, &r->upstream_ms, &r->ttft_ms};
        for (int i = 0; i < 3; i++)
            *ms[i] = sqlite3_column_type(st, 8 + i) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 8 + i);
        r->prompt_tokens = sqlite3_column_type(st, 11) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 11);
        r->completion_tokens = sqlite3_column_type(st, 12) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 12);
        r->retries = sqlite3_column_int(st, 13);
        r->plugin_errors = sqlite3_column_int(st, 16);
        rc = obs_row_build(&row, r, &sp) && obs_batch_add(s, r->ts_ms, row.data, row.len) ? SQLITE_OK : SQLITE_NOMEM;
        if (rc == SQLITE_OK && s->in_batch == s->opt.batch_max) {
            rc = obs_batch_insert(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            obs_batch_begin(s);
        }
    }
    if (rc == SQLITE_DONE)
        rc = s->in_batch == 0 || obs_batch_insert(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_finalize(st);
    sj_buf_free(&row);
    return rc == SQLITE_OK ? sqlite3_exec(s->db, "DROP TABLE requests_v1", NULL, NULL, NULL) : rc;
}

/* Creates the schema, or brings an older file to it. 0, or -1 with a
 * message in err. */
static int obs_store_schema_init(obs_store *s, char *err, size_t errlen)
{
    int64_t version = 0, v1 = 0;
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; BEGIN IMMEDIATE", NULL, NULL,
                          &msg);
    if (rc == SQLITE_OK)
        rc = obs_sql_int(s->db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = obs_sql_int(s->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'requests'", &v1);
    if (rc == SQLITE_OK && version > OBS_STORE_VERSION) {
        snprintf(err, errlen, "logs_store: %s: schema version %lld is newer than this Sluice's (%d)", s->path,
                 (long long)version, OBS_STORE_VERSION);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (rc == SQLITE_OK && v1)
        rc = sqlite3_exec(s->db, "ALTER TABLE requests RENAME TO requests_v1", NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, obs_store_schema, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db, "INSERT INTO request_batches (first_ts_ms, last_ts_ms, count, rows)"
                                       " VALUES (?, ?, ?, ?)", -1, &s->insert, NULL);
    if (rc == SQLITE_OK && v1)
        rc = obs_store_migrate_v1(s);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA user_version = 2; COMMIT", NULL, NULL, &msg);
    _Static_assert(OBS_STORE_VERSION == 2, "the PRAGMA above");
    if (rc == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "logs_store: %s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
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
        /* The batch's rows are copied out under the lock (a memcpy each:
         * the workers built them) and written after. */
        size_t n = s->count < s->opt.batch_max ? s->count : s->opt.batch_max;
        bool built = true;
        obs_batch_begin(s);
        for (size_t i = 0; i < n; i++) {
            obs_entry h;
            const char *row = obs_ring_take(s, &h);
            built = built && obs_batch_add(s, h.ts_ms, row, h.text_len);
        }
        s->full = false;
        if (n == 0)
            continue;
        s->busy = true;
        pthread_mutex_unlock(&s->lock);
        obs_store_write_batch(s, n, built);
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
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->purge_split);
    sqlite3_finalize(s->purge);
    sj_buf_free(&s->rows);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->idle);
    free(s->ring);
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
    if (s->bytes < OBS_ENTRY_MAX)
        s->bytes = OBS_ENTRY_MAX;   /* any record fits an empty queue */
    if (s->opt.batch_max == 0)
        s->opt.batch_max = 256;
    if (s->opt.batch_max > 65536)
        s->opt.batch_max = 65536;   /* the view numbers a batch's requests below 65536 */
    if (s->opt.retention_every_ms == 0)
        s->opt.retention_every_ms = 3600 * 1000;
    s->ring = s->cap <= SIZE_MAX / OBS_STORE_BYTES_PER_RECORD ? malloc(s->bytes) : NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->idle, NULL);
    if (s->path == NULL || s->ring == NULL) {
        snprintf(err, errlen, "logs_store: out of memory");
    } else if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                               NULL) != SQLITE_OK) {
        snprintf(err, errlen, "logs_store: cannot open %s: %s", o->path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
    } else if (sqlite3_busy_timeout(s->db, 5000), obs_store_schema_init(s, err, errlen) != 0) {
        /* err is set */
    } else if (sqlite3_prepare_v2(s->db, obs_store_purge_split, -1, &s->purge_split, NULL) != SQLITE_OK ||
               sqlite3_prepare_v2(s->db, obs_store_purge, -1, &s->purge, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "logs_store: %s: %s", o->path, sqlite3_errmsg(s->db));
    } else if (pthread_create(&s->thread, NULL, obs_store_writer, s) != 0) {
        snprintf(err, errlen, "logs_store: cannot start the writer thread");
    } else {
        pthread_setname_np(s->thread, "sluice-store");   /* for top -H, perf, /proc/PID/task */
        return s;
    }
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
