/*
 * log_cost.c - what logging one request costs in CPU, without the gateway
 * around it: obs_request_done() on a typical record, N times on one thread
 * (registered for buffered logging, as a worker is), in four modes: no
 * logging (none), a JSON log line to a file (lines), the SQLite store alone
 * (store: client.log_request_lines false), the line plus the store (both). The
 * time is the process's CPU (getrusage: every thread, so the log writer and
 * the store's writer count) from before the first call to after
 * obs_shutdown() has written everything. On a machine shared with other
 * work this is steadier than any throughput figure.
 *
 * Usage: sluice-obs-log-cost DIR [N [MODE]]   (files are created in DIR;
 *        MODE runs only that mode, e.g. under perf stat)
 * Prints: RESULT mode=none|lines|store|both ns_per_request=X lines=L rows=R
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include "obs/obs.h"

static double cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

static long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int c;
    if (f == NULL)
        return -1;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Rows in the store's database (-1: none or unreadable): fewer than N means
 * the queue was full and rows were dropped, which makes a run look cheaper. */
static long count_rows(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM requests", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static int run(const char *dir, const char *mode, long n)
{
    char logp[512], dbp[512], err[256];
    snprintf(logp, sizeof(logp), "%s/cost-%s.log", dir, mode);
    snprintf(dbp, sizeof(dbp), "%s/cost-%s.db", dir, mode);
    unlink(logp);
    unlink(dbp);
    bool lines = strcmp(mode, "lines") == 0 || strcmp(mode, "both") == 0;
    bool store = strcmp(mode, "store") == 0 || strcmp(mode, "both") == 0;
    obs_config c = {.version = "bench", .log_level = OBS_INFO, .log_file = logp,
                    .log_requests = lines || store, .no_request_lines = !lines, .store_enabled = store,
                    .store_path = dbp};
    obs_record r = {.status = 200, .total_ms = 1.234, .upstream_ms = 0.987, .ttft_ms = -1,
                    .prompt_tokens = 512, .completion_tokens = 12};
    snprintf(r.method, sizeof(r.method), "POST");
    snprintf(r.path, sizeof(r.path), "/v1/chat/completions");
    snprintf(r.provider, sizeof(r.provider), "openai");
    snprintf(r.model, sizeof(r.model), "openai/gpt-4o-mini");
    double t0 = cpu_ns();
    if (obs_init(&c, err, sizeof(err)) != 0) {
        fprintf(stderr, "log_cost: %s\n", err);
        return 1;
    }
    obs_log_thread_start();
    for (long i = 0; i < n; i++) {
        r.ts_ms = obs_now_ms();
        snprintf(r.request_id, sizeof(r.request_id), "%016lx0100%06lx", (unsigned long)i * 0x9e3779b97f4a7c15ul,
                 (unsigned long)i & 0xffffff);
        obs_request_done(&r, "chat");
        /* Every 2,048 requests, wait for the writers: a producer that does
         * nothing but log outruns them, and a full queue drops (which would
         * make the run look cheaper). The store's queue holds 4,096. */
        if ((i & 2047) == 2047)
            obs_sync();
    }
    obs_shutdown();
    double t1 = cpu_ns();
    printf("RESULT mode=%s ns_per_request=%.0f lines=%ld rows=%ld\n", mode, (t1 - t0) / (double)n,
           lines ? count_lines(logp) : 0, store ? count_rows(dbp) : 0);
    unlink(logp);
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[600];
        snprintf(p, sizeof(p), "%s%s", dbp, sfx[i]);
        unlink(p);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [N]\n", argv[0]);
        return 2;
    }
    long n = argc > 2 ? atol(argv[2]) : 200000;
    if (n <= 0)
        n = 200000;
    const char *modes[] = {"none", "lines", "store", "both"};
    for (int i = 0; i < 4; i++)
        if ((argc < 4 || strcmp(argv[3], modes[i]) == 0) && run(argv[1], modes[i], n) != 0)
            return 1;
    return 0;
}
