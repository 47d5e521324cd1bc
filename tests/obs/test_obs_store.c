/*
 * test_obs_store.c - the SQLite request log store: many writer threads,
 * queue overflow counted as drops, every field of rows written by the
 * multi-row INSERT, the packed queue wrapping with records of every size,
 * retention, each query filter, and the
 * /api/logs parameter validation.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "obs/put.h"
#include "obs/store.h"
#include "obs/store_int.h"

#include "obs_test.h"

static char dir[] = "/tmp/obs_store_XXXXXX";

static void make_record(obs_record *r, int i, const char *provider, const char *model, int status, int64_t ts_ms)
{
    memset(r, 0, sizeof(*r));
    r->ts_ms = ts_ms;
    snprintf(r->request_id, sizeof(r->request_id), "req-%d", i);
    strcpy(r->method, "POST");
    strcpy(r->path, "/v1/chat/completions");
    snprintf(r->provider, sizeof(r->provider), "%s", provider);
    snprintf(r->model, sizeof(r->model), "%s", model);
    r->status = status;
    r->total_ms = 1.5;
    r->upstream_ms = -1;
    r->ttft_ms = -1;
    r->prompt_tokens = 10;
    r->completion_tokens = -1;
}

/* Number of rows a query returns (-1 on error); the JSON must parse. */
static int query_count(obs_store *s, const char *qs)
{
    obs_query q;
    char err[256];
    if (obs_query_parse(qs, strlen(qs), &q, err, sizeof(err)) != 0) {
        printf("FAIL: query '%s' rejected: %s\n", qs, err);
        failures++;
        return -1;
    }
    sj_buf b = {0};
    int n = -1;
    if (obs_store_query(s, &q, &b, err, sizeof(err)) == 0) {
        sj_doc *d = sj_parse(b.data, b.len, NULL, NULL);
        CHECK(d != NULL, "query output is not JSON");
        if (d)
            n = (int)sj_len(sj_get(sj_doc_root(d), "data"));
        sj_doc_free(d);
    } else {
        printf("FAIL: query '%s': %s\n", qs, err);
        failures++;
    }
    sj_buf_free(&b);
    return n;
}

static obs_store *open_store(const char *name, size_t cap, int retention_days)
{
    char path[256], err[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    obs_store_options o = {.path = path, .queue_cap = cap, .batch_max = 64, .retention_days = retention_days};
    obs_store *s = obs_store_open(&o, err, sizeof(err));
    if (s == NULL)
        printf("FAIL: open %s: %s\n", path, err);
    return s;
}

#define THREADS 4
#define PER_THREAD 2500
static obs_store *mt_store;

static void *mt_submit(void *arg)
{
    long id = (long)arg;
    obs_record r;
    int64_t now = obs_now_ms();
    for (int i = 0; i < PER_THREAD; i++) {
        make_record(&r, (int)id * PER_THREAD + i, id % 2 ? "openai" : "mock", "m", 200, now);
        while (!obs_store_submit(mt_store, &r))
            usleep(100);   /* the test wants every row: retry drops */
    }
    return NULL;
}

static void test_threads_and_filters(void)
{
    obs_store *s = mt_store = open_store("mt.db", 1024, 0);
    if (!s)
        return;
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, mt_submit, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    obs_store_flush(s);
    CHECK(obs_store_written(s) == THREADS * PER_THREAD, "written %llu", (unsigned long long)obs_store_written(s));
    CHECK(query_count(s, "limit=1000") == 1000, "limit=1000");
    CHECK(query_count(s, "") == 100, "default limit");

    /* distinct rows for the filters */
    obs_record r;
    int64_t now = obs_now_ms();
    make_record(&r, 1, "anthropic", "claude-x", 529, now);
    obs_store_submit(s, &r);
    make_record(&r, 2, "anthropic", "claude-y", 200, now - 3600 * 1000);
    obs_store_submit(s, &r);
    make_record(&r, 3, "anthropic", "claude-y", 200, now + 120 * 1000);
    obs_store_submit(s, &r);
    obs_store_flush(s);
    CHECK(query_count(s, "provider=anthropic") == 3, "provider filter");
    CHECK(query_count(s, "model=claude-y") == 2, "model filter");
    CHECK(query_count(s, "status=529") == 1, "status filter");
    CHECK(query_count(s, "provider=anthropic&status=200&model=claude%2Dy") == 2, "combined, escaped");
    char qs[64];
    snprintf(qs, sizeof(qs), "provider=anthropic&since=%lld", (long long)(now / 1000 + 60));
    CHECK(query_count(s, qs) == 1, "since filter");
    CHECK(query_count(s, "provider=mock&limit=3") == 3, "limit with filter");
    CHECK(query_count(s, "provider=nobody") == 0, "no match");
    obs_store_close(s);
}

/* Every request of a batch reads back through the `requests` view with its
 * own values in every column (a column off by one in the writer or the view
 * would shift fields), strings escaped and at their longest included. */
static void test_row_fields(void)
{
    char path[256], err[256];
    snprintf(path, sizeof(path), "%s/fields.db", dir);
    obs_store_options o = {.path = path, .queue_cap = 64, .batch_max = 64};
    obs_store *s = obs_store_open(&o, err, sizeof(err));
    CHECK(s != NULL, "open: %s", err);
    if (!s)
        return;
    enum { N = 37 };
    /* Submitted within the writer's linger (50 ms): one batch of N, or a few
     * batches on a slow machine; both INSERT paths either way. */
    for (int i = 0; i < N; i++) {
        obs_record r;
        make_record(&r, i, i % 2 ? "openai" : "mock", "m", 200 + i, 1000 + i);
        snprintf(r.method, sizeof(r.method), "M%d", i);
        snprintf(r.path, sizeof(r.path), "/p/%d", i);
        snprintf(r.model, sizeof(r.model), "model-%d", i);
        snprintf(r.fallback, sizeof(r.fallback), "fb%d", i);
        snprintf(r.error, sizeof(r.error), "err%d", i);
        if (i == N - 1) {   /* the longest strings a record holds survive the queue */
            memset(r.path, 'p', sizeof(r.path) - 1);
            memset(r.error, 'e', sizeof(r.error) - 1);
        }
        if (i == 7)   /* escapes and UTF-8 survive the JSON */
            snprintf(r.model, sizeof(r.model), "m\"\\\n\xc3\xa9-7");
        r.stream = i % 3 == 0;
        r.total_ms = i + 0.5;
        r.upstream_ms = i % 4 ? i + 0.25 : -1;
        r.ttft_ms = i % 5 ? i + 0.125 : -1;
        r.prompt_tokens = i % 6 ? i * 10 : -1;
        r.completion_tokens = i % 7 ? i * 100 : -1;
        r.retries = i % 3;
        r.plugin_errors = i % 2;
        CHECK(obs_store_submit(s, &r), "submit %d", i);
    }
    obs_store_flush(s);
    CHECK(obs_store_written(s) == N, "written %llu", (unsigned long long)obs_store_written(s));
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rows = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT ts_ms, request_id, method, path, provider, model, status, stream,"
                           " total_ms, coalesce(upstream_ms, -1), coalesce(ttft_ms, -1),"
                           " coalesce(prompt_tokens, -1), coalesce(completion_tokens, -1), retries,"
                           " fallback, error, plugin_errors FROM requests ORDER BY id",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            int i = rows++;
            char want[7][200];
            snprintf(want[0], 200, "req-%d", i);
            snprintf(want[1], 200, "M%d", i);
            snprintf(want[2], 200, "/p/%d", i);
            snprintf(want[3], 200, "%s", i % 2 ? "openai" : "mock");
            snprintf(want[4], 200, i == 7 ? "m\"\\\n\xc3\xa9-7" : "model-%d", i);
            snprintf(want[5], 200, "fb%d", i);
            snprintf(want[6], 200, "err%d", i);
            if (i == N - 1) {
                memset(want[2], 'p', 127);
                want[2][127] = '\0';
                memset(want[6], 'e', 159);
                want[6][159] = '\0';
            }
            const int text_col[7] = {1, 2, 3, 4, 5, 14, 15};
            for (int k = 0; k < 7; k++)
                CHECK(strcmp((const char *)sqlite3_column_text(st, text_col[k]), want[k]) == 0,
                      "row %d column %d: %s", i, text_col[k], sqlite3_column_text(st, text_col[k]));
            CHECK(sqlite3_column_int64(st, 0) == 1000 + i, "row %d ts_ms", i);
            CHECK(sqlite3_column_int(st, 6) == 200 + i, "row %d status", i);
            CHECK(sqlite3_column_int(st, 7) == (i % 3 == 0), "row %d stream", i);
            CHECK(sqlite3_column_double(st, 8) == i + 0.5, "row %d total_ms", i);
            CHECK(sqlite3_column_double(st, 9) == (i % 4 ? i + 0.25 : -1), "row %d upstream_ms", i);
            CHECK(sqlite3_column_double(st, 10) == (i % 5 ? i + 0.125 : -1), "row %d ttft_ms", i);
            CHECK(sqlite3_column_int64(st, 11) == (i % 6 ? i * 10 : -1), "row %d prompt_tokens", i);
            CHECK(sqlite3_column_int64(st, 12) == (i % 7 ? i * 100 : -1), "row %d completion_tokens", i);
            CHECK(sqlite3_column_int(st, 13) == i % 3, "row %d retries", i);
            CHECK(sqlite3_column_int(st, 16) == i % 2, "row %d plugin_errors", i);
        }
    }
    CHECK(rows == N, "rows %d", rows);
    sqlite3_finalize(st);
    sqlite3_close(db);
    obs_store_close(s);
}

/* The packed queue alone (no writer thread), deterministic: records of
 * varying sizes pushed until full, popped a few at a time, pushed again, so
 * every wrap case (an entry ending at the very end, the end left unused and
 * marked) comes round many times; what comes out is what went in, in order,
 * and a full queue refuses rather than overwrites. */
static void ring_record(obs_record *r, int i)
{
    make_record(r, i, "p", "m", 200 + i % 300, 1000 + i);
    size_t plen = (size_t)(i * 37) % sizeof(r->path);
    memset(r->path, 'a' + i % 26, plen);
    r->path[plen] = '\0';
    r->retries = i % 5;
}

/* Whether the row popped (got, ts) is the one record want was queued as. */
static bool same_row(const sj_buf *got, int64_t ts, const obs_record *want)
{
    sj_buf row = {0};
    obs_row_spans sp;
    bool same = obs_row_build(&row, want, &sp) && ts == want->ts_ms && got->len == row.len &&
                memcmp(got->data, row.data, row.len) == 0;
    sj_buf_free(&row);
    return same;
}

static void test_ring(void)
{
    obs_store s = {.cap = 12, .bytes = 2048};
    s.ring = malloc(s.bytes);
    if (s.ring == NULL)
        return;
    int pushed = 0, popped = 0, bad = 0, refused = 0, marked = 0;
    for (int round = 0; round < 400; round++) {
        obs_record r;
        for (;;) {   /* fill up */
            ring_record(&r, pushed);
            size_t before = s.rtail;
            if (!obs_ring_push(&s, &r))
                break;
            pushed++;
            /* went to the start though the end was not reached: a marked wrap */
            marked += s.count > 1 && before != 0 && s.rtail < before && s.rtail != 0;
        }
        refused++;
        for (int k = 0; k < 1 + round % 7 && s.count > 0; k++) {
            obs_record want;
            sj_buf got = {0};
            int64_t ts = obs_ring_pop(&s, &got);
            ring_record(&want, popped++);
            if ((!same_row(&got, ts, &want) || s.count > s.cap) && bad++ < 3)
                printf("FAIL: ring record %d: %.*s\n", popped - 1, (int)got.len, got.data);
            sj_buf_free(&got);
        }
    }
    while (s.count > 0) {
        obs_record want;
        sj_buf got = {0};
        int64_t ts = obs_ring_pop(&s, &got);
        ring_record(&want, popped++);
        bad += !same_row(&got, ts, &want);
        sj_buf_free(&got);
    }
    failures += bad > 0;
    CHECK(pushed == popped && pushed > 1000, "pushed %d popped %d", pushed, popped);
    CHECK(refused == 400, "a full queue refuses");
    CHECK(marked >= 20, "only %d wraps that leave the end unused", marked);
    free(s.ring);
}

static void test_overflow(void)
{
    obs_store *s = open_store("drop.db", 8, 0);
    if (!s)
        return;
    /* Hold the write lock from another connection: the writer blocks in its
     * busy handler, the ring fills, later submits must drop, not wait. */
    sqlite3 *db;
    char path[256];
    snprintf(path, sizeof(path), "%s/drop.db", dir);
    sqlite3_open(path, &db);
    CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, "lock the db");
    obs_record r;
    int accepted = 0;
    for (int i = 0; i < 100; i++) {
        make_record(&r, i, "mock", "m", 200, obs_now_ms());
        accepted += obs_store_submit(s, &r);
        if (i == 0)
            usleep(50000);   /* let the writer take the first batch and block */
    }
    CHECK(accepted <= 9 + 8, "accepted %d while stalled", accepted);
    CHECK(obs_store_dropped(s) == (uint64_t)(100 - accepted), "drops counted: %llu",
          (unsigned long long)obs_store_dropped(s));
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    obs_store_flush(s);
    CHECK(obs_store_written(s) == (uint64_t)accepted, "accepted rows written");
    obs_store_close(s);
}

static void test_retention(void)
{
    obs_store *s = open_store("ret.db", 64, 1);
    if (!s)
        return;
    /* the start-up pass, done now so that it cannot race with the rows below */
    obs_store_retain_now(s);
    obs_record r;
    int64_t now = obs_now_ms();
    /* One batch older than the cutoff throughout, then one that straddles it
     * (a batch is the writer's unit, retention is the request's). */
    for (int i = 0; i < 3; i++) {
        make_record(&r, 100 + i, "mock", "m", 200, now - 5 * 86400 * 1000LL);
        obs_store_submit(s, &r);
    }
    obs_store_flush(s);
    for (int i = 0; i < 10; i++) {
        make_record(&r, i, "mock", "m", 200, i < 4 ? now - 3 * 86400 * 1000LL : now - 3600 * 1000);
        obs_store_submit(s, &r);
    }
    obs_store_flush(s);
    CHECK(query_count(s, "limit=50") == 13, "before retention");
    obs_store_retain_now(s);
    CHECK(query_count(s, "limit=50") == 6, "retention kept the recent rows only");
    obs_store_close(s);
    /* what is left: one batch of the 6 recent requests, its header updated */
    char path[256];
    snprintf(path, sizeof(path), "%s/ret.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*), sum(count), min(first_ts_ms), (SELECT group_concat(request_id)"
                               " FROM requests) FROM request_batches", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        CHECK(sqlite3_column_int(st, 0) == 1 && sqlite3_column_int(st, 1) == 6, "batches %d, counted %d",
              sqlite3_column_int(st, 0), sqlite3_column_int(st, 1));
        CHECK(sqlite3_column_int64(st, 2) == now - 3600 * 1000, "first_ts_ms follows the requests kept");
        CHECK(strcmp((const char *)sqlite3_column_text(st, 3), "req-4,req-5,req-6,req-7,req-8,req-9") == 0,
              "kept in order: %s", sqlite3_column_text(st, 3));
    } else {
        CHECK(0, "read back: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A file written by the first version of the store (a table `requests`,
 * a row per request, and its ts index) is brought to the batches at open:
 * every row kept, in order, with its NULLs; a file from a newer version is
 * refused with a clear message; a batch that is not JSON is skipped by the
 * query, not fatal. */
static void test_migrate(void)
{
    char path[256], err[256];
    snprintf(path, sizeof(path), "%s/v1.db", dir);
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    int rc = sqlite3_exec(
        db,
        "CREATE TABLE requests (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, request_id TEXT NOT NULL,"
        " method TEXT NOT NULL, path TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,"
        " status INTEGER NOT NULL, stream INTEGER NOT NULL, total_ms REAL, upstream_ms REAL, ttft_ms REAL,"
        " prompt_tokens INTEGER, completion_tokens INTEGER, retries INTEGER NOT NULL, fallback TEXT NOT NULL,"
        " error TEXT NOT NULL, plugin_errors INTEGER NOT NULL);"
        "CREATE INDEX requests_ts ON requests(ts_ms);"
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299)"
        " INSERT INTO requests (ts_ms, request_id, method, path, provider, model, status, stream, total_ms,"
        " upstream_ms, ttft_ms, prompt_tokens, completion_tokens, retries, fallback, error, plugin_errors)"
        " SELECT 5000 + i, 'old-' || i, 'POST', '/v1/chat/completions', CASE WHEN i % 2 THEN 'openai' ELSE 'mock' END,"
        " 'm\"' || i, 200 + i % 3, i % 2, i + 0.5, CASE WHEN i % 4 THEN i + 0.25 END, NULL, i, NULL, i % 3, '',"
        " CASE WHEN i = 7 THEN 'upstream_timeout' ELSE '' END, 0 FROM n;",
        NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK(rc == SQLITE_OK, "make a v1 file");
    obs_store_options o = {.path = path, .queue_cap = 64, .batch_max = 128};
    obs_store *s = obs_store_open(&o, err, sizeof(err));
    CHECK(s != NULL, "open v1: %s", err);
    if (!s)
        return;
    CHECK(query_count(s, "limit=1000") == 300, "every v1 row kept");
    CHECK(query_count(s, "provider=openai&status=201&limit=1000") == 50, "v1 rows filter");
    sj_buf b = {0};
    obs_query q;
    obs_query_parse("limit=1", 7, &q, err, sizeof(err));
    CHECK(obs_store_query(s, &q, &b, err, sizeof(err)) == 0 && b.data && strstr(b.data, "\"request_id\":\"old-299\"") &&
              strstr(b.data, "\"model\":\"m\\\"299\"") && strstr(b.data, "\"stream\":true") &&
              strstr(b.data, "\"total_ms\":299.500") && strstr(b.data, "\"ttft_ms\":null") &&
              strstr(b.data, "\"completion_tokens\":null"),
          "newest v1 row: %s", b.data ? b.data : err);
    sj_buf_free(&b);
    obs_store_close(s);

    db = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3_open(path, &db);
    if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM request_batches), (SELECT group_concat(request_id, '')"
                               " FROM (SELECT request_id FROM requests ORDER BY id)) = (SELECT group_concat('old-' ||"
                               " value, '') FROM generate_series(0, 299)), (SELECT error FROM requests WHERE"
                               " request_id = 'old-7'), (SELECT user_version FROM pragma_user_version),"
                               " (SELECT count(*) FROM sqlite_master WHERE name IN ('requests_v1', 'requests_ts'))",
                           -1, &st, NULL) != SQLITE_OK)
        /* generate_series is an extension: fall back to comparing the count and the ends */
        sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM request_batches), (SELECT min(request_id) = 'old-0'"
                               " AND count(*) = 300 FROM requests), (SELECT error FROM requests WHERE"
                               " request_id = 'old-7'), (SELECT user_version FROM pragma_user_version),"
                               " (SELECT count(*) FROM sqlite_master WHERE name IN ('requests_v1', 'requests_ts'))",
                           -1, &st, NULL);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        CHECK(sqlite3_column_int(st, 0) == 3, "300 rows in batches of 128: %d", sqlite3_column_int(st, 0));
        CHECK(sqlite3_column_int(st, 1) == 1, "in id order through the view");
        CHECK(strcmp((const char *)sqlite3_column_text(st, 2), "upstream_timeout") == 0, "a text column kept");
        CHECK(sqlite3_column_int(st, 3) == 2, "user_version 2");
        CHECK(sqlite3_column_int(st, 4) == 0, "the v1 table and index are gone");
    } else {
        CHECK(0, "read the migrated file: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    /* a batch that is not what the writer writes, and a newer version */
    CHECK(sqlite3_exec(db, "INSERT INTO request_batches (first_ts_ms, last_ts_ms, count, rows) VALUES"
                           " (9000, 9000, 2, '[[9000, \"x\"], not json'), (9001, 9001, 1, '[[1,2]]');"
                           "PRAGMA user_version = 3",
                       NULL, NULL, NULL) == SQLITE_OK,
          "write a bad batch");
    sqlite3_close(db);
    err[0] = '\0';
    CHECK(obs_store_open(&o, err, sizeof(err)) == NULL && strstr(err, "newer"), "newer schema: %s", err);
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL);
    sqlite3_close(db);
    s = obs_store_open(&o, err, sizeof(err));
    CHECK(s != NULL, "reopen: %s", err);
    if (s) {
        CHECK(query_count(s, "limit=1000") == 300, "bad batches skipped");
        obs_store_close(s);
    }
}

static void test_parse(void)
{
    static const char *bad[] = {"foo=1", "status=abc", "status=99", "status=600", "limit=0", "limit=1001",
                                "since=-1", "since=1x", "limit=5&limit=6", "model=%zz", "model=%0", "model=a%00b",
                                "provider=" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                "status=+200", "status= 200"};
    obs_query q;
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(obs_query_parse(bad[i], strlen(bad[i]), &q, err, sizeof(err)) == -1, "'%s' accepted", bad[i]);
    const char *good = "provider=openai&model=gpt%2D4o+mini&status=200&since=5&limit=3&";
    CHECK(obs_query_parse(good, strlen(good), &q, err, sizeof(err)) == 0, "good rejected: %s", err);
    CHECK(!strcmp(q.provider, "openai") && !strcmp(q.model, "gpt-4o mini") && q.status == 200 &&
              q.since_ms == 5000 && q.limit == 3,
          "parsed values");
}

static void test_open_error(void)
{
    char err[256] = "";
    obs_store_options o = {.path = "/nonexistent-dir/x/logs.db"};
    CHECK(obs_store_open(&o, err, sizeof(err)) == NULL && strstr(err, "/nonexistent-dir") != NULL,
          "bad path not reported: %s", err);
}

int main(void)
{
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_parse();
    test_open_error();
    test_threads_and_filters();
    test_row_fields();
    test_ring();
    test_overflow();
    test_retention();
    test_migrate();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("warning: cannot remove %s\n", dir);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
