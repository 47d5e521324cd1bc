/*
 * test_obs_store.c - the SQLite request log store: many writer threads,
 * queue overflow counted as drops, retention, each query filter, and the
 * /api/logs parameter validation.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    for (int i = 0; i < 10; i++) {
        make_record(&r, i, "mock", "m", 200, i < 4 ? now - 3 * 86400 * 1000LL : now - 3600 * 1000);
        obs_store_submit(s, &r);
    }
    obs_store_flush(s);
    CHECK(query_count(s, "limit=50") == 10, "before retention");
    obs_store_retain_now(s);
    CHECK(query_count(s, "limit=50") == 6, "retention kept the recent rows only");
    obs_store_close(s);
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
    test_overflow();
    test_retention();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("warning: cannot remove %s\n", dir);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
