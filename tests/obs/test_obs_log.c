/*
 * test_obs_log.c - buffered JSON log lines: a worker's lines stay in its
 * buffer until it flushes (no write per line), arrive whole and parseable,
 * a thread that did not register still gets its lines out, every line is
 * written at close, and a destination that blocks (a pipe nobody reads)
 * costs dropped, counted lines, never a stalled caller: what was not
 * dropped arrives once the pipe is read.
 */
#include <fcntl.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "obs/log.h"
#include "obs/put.h"
#include "sluice/json.h"

#include "obs_test.h"

static char dir[] = "/tmp/obs_log_XXXXXX";

static void record(obs_record *r, int i)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->request_id, sizeof(r->request_id), "req-%d", i);
    strcpy(r->method, "POST");
    strcpy(r->path, "/v1/chat/completions");
    strcpy(r->provider, "p\"q");   /* must come out escaped */
    strcpy(r->model, "m\xc3\xa9\xff");   /* UTF-8 kept, the bad byte replaced */
    r->status = 200;
    r->total_ms = 12.3456;
    r->upstream_ms = 0.0004;
    r->ttft_ms = -1;
    r->prompt_tokens = 7;
    r->completion_tokens = -1;
    r->retries = i % 3;
}

static off_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

/* Checks every line of the file parses and is a request line; returns the count. */
static long check_lines(const char *p)
{
    FILE *f = fopen(p, "r");
    char line[4096];
    long n = 0;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        size_t len = strlen(line);
        CHECK(len > 0 && line[len - 1] == '\n', "line %ld not terminated", n);
        sj_error e;
        sj_doc *d = sj_parse(line, len - 1, NULL, &e);
        CHECK(d != NULL, "line %ld is not JSON: %s", n, line);
        if (d) {
            const sj_val *root = sj_doc_root(d);
            CHECK(strcmp(sj_str(sj_get(root, "provider"), NULL), "p\"q") == 0, "provider field");
            double ms = 0;
            CHECK(sj_f64(sj_get(root, "total_ms"), &ms) && ms == 12.346, "total_ms %s", line);
            CHECK(sj_f64(sj_get(root, "upstream_ms"), &ms) && ms == 0, "upstream_ms %s", line);
            CHECK(sj_is_null(sj_get(root, "ttft_ms")), "ttft_ms null");
            CHECK(strcmp(sj_str(sj_get(root, "model"), NULL), "m\xc3\xa9\xef\xbf\xbd") == 0, "model field");
            CHECK(strncmp(sj_str(sj_get(root, "request_id"), NULL), "req-", 4) == 0, "request_id field");
            CHECK(strcmp(sj_str(sj_get(root, "path"), NULL), "/v1/chat/completions") == 0, "path field");
            int64_t v = -1;
            CHECK(sj_i64(sj_get(root, "status"), &v) && v == 200, "status field");
            CHECK(sj_i64(sj_get(root, "prompt_tokens"), &v) && v == 7, "prompt_tokens field");
            CHECK(sj_is_null(sj_get(root, "completion_tokens")), "completion_tokens null");
            CHECK(sj_i64(sj_get(root, "retries"), &v) && v >= 0 && v <= 2, "retries field");
            CHECK(sj_get(root, "stream") != NULL && sj_get(root, "error") != NULL && sj_get(root, "fallback") != NULL &&
                      sj_get(root, "plugin_errors") != NULL,
                  "every field present: %s", line);
            sj_doc_free(d);
        }
        n++;
    }
    fclose(f);
    return n;
}

static void *other_thread(void *arg)
{
    obs_record r;
    record(&r, 1000);
    (void)arg;
    obs_log_request(&r);   /* not registered: queued on its own */
    return NULL;
}

static void test_buffered(void)
{
    char path[256], err[256];
    snprintf(path, sizeof(path), "%s/a.log", dir);
    CHECK(obs_log_open(OBS_INFO, path, err, sizeof(err)) == 0, "open: %s", err);
    obs_log_thread_start();
    obs_record r;
    for (int i = 0; i < 100; i++) {
        record(&r, i);
        obs_log_request(&r);
    }
    usleep(100 * 1000);
    CHECK(file_size(path) == 0, "lines were written before the flush: %lld bytes", (long long)file_size(path));
    obs_log_sync();
    CHECK(check_lines(path) == 100, "after the flush: %ld lines", check_lines(path));

    /* More than a buffer's worth: handed over without a flush. */
    for (int i = 0; i < 1000; i++) {
        record(&r, i);
        obs_log_request(&r);
    }
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
    obs_log_close();   /* what is still buffered is written now */
    CHECK(check_lines(path) == 1101, "after close: %ld lines", check_lines(path));
    CHECK(obs_log_dropped() == 0, "dropped %llu", (unsigned long long)obs_log_dropped());
}

typedef struct reader {
    int fd;
    long lines;
} reader;

static void *read_all(void *arg)
{
    reader *rd = arg;
    char buf[65536];
    ssize_t n;
    while ((n = read(rd->fd, buf, sizeof(buf))) > 0)
        for (ssize_t i = 0; i < n; i++)
            rd->lines += buf[i] == '\n';
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A request's line is made of its store row's values (obs_row_build): every
 * field, in order, exactly; stream (0/1 in the row) as a JSON boolean. */
static void test_line_from_row(void)
{
    char path[256], err[256], line[2048] = "";
    snprintf(path, sizeof(path), "%s/row.log", dir);
    CHECK(obs_log_open(OBS_INFO, path, err, sizeof(err)) == 0, "open: %s", err);
    obs_record r = {.ts_ms = 1764340000123, .status = 503, .stream = true, .total_ms = 1.5, .upstream_ms = -1,
                    .ttft_ms = 0.25, .prompt_tokens = 12, .completion_tokens = 0, .retries = 2, .plugin_errors = 1};
    strcpy(r.request_id, "id-\\1");
    strcpy(r.method, "GET");
    strcpy(r.path, "/v1/x\ty");
    strcpy(r.provider, "openai");
    strcpy(r.model, "openai/gpt-4o-mini-2024");
    strcpy(r.fallback, "anthropic");
    strcpy(r.error, "upstream_timeout");
    obs_log_request(&r);
    obs_log_close();
    FILE *f = fopen(path, "r");
    CHECK(f != NULL && fgets(line, sizeof(line), f) != NULL, "no line");
    if (f)
        fclose(f);
    const char *want = "\"level\":\"warn\",\"type\":\"request\",\"request_id\":\"id-\\\\1\",\"method\":\"GET\","
                       "\"path\":\"/v1/x\\ty\",\"provider\":\"openai\",\"model\":\"openai/gpt-4o-mini-2024\","
                       "\"status\":503,\"stream\":true,\"total_ms\":1.500,\"upstream_ms\":null,\"ttft_ms\":0.250,"
                       "\"prompt_tokens\":12,\"completion_tokens\":0,\"retries\":2,\"fallback\":\"anthropic\","
                       "\"error\":\"upstream_timeout\",\"plugin_errors\":1}\n";
    const char *at = strstr(line, "\"level\"");
    CHECK(at != NULL && strcmp(at, want) == 0, "line from row:\n got %s want %s", line, want);
    sj_buf row = {0};
    obs_row_spans sp;
    CHECK(obs_row_build(&row, &r, &sp), "row");
    const char *want_row = "[1764340000123,\"id-\\\\1\",\"GET\",\"/v1/x\\ty\",\"openai\",\"openai/gpt-4o-mini-2024\",503,1,"
                           "1.500,null,0.250,12,0,2,\"anthropic\",\"upstream_timeout\",1]";
    CHECK(row.len == strlen(want_row) && memcmp(row.data, want_row, row.len) == 0, "row: %.*s", (int)row.len,
          row.data);
    sj_buf_free(&row);
}

static void test_blocked_sink(void)
{
    int p[2];
    char path[64], err[256];
    CHECK(pipe(p) == 0, "pipe");
    snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
    CHECK(obs_log_open(OBS_INFO, path, err, sizeof(err)) == 0, "open the pipe: %s", err);
    close(p[1]);   /* the log's own descriptor is the only writer now */
    obs_log_thread_start();
    uint64_t before = obs_log_dropped();
    obs_record r;
    record(&r, 1);
    long logged = 0;
    double t0 = now_s();
    /* Nobody reads: the pipe fills, the writer blocks, the queue fills, then
     * lines are dropped. About 25k lines fill the queue. */
    while (obs_log_dropped() == before && logged < 200000) {
        obs_log_request(&r);
        logged++;
    }
    for (int i = 0; i < 1000; i++, logged++)
        obs_log_request(&r);
    double took = now_s() - t0;
    uint64_t dropped = obs_log_dropped() - before;
    CHECK(dropped > 0, "nothing dropped after %ld lines", logged);
    CHECK(took < 5, "logging stalled: %.1f s for %ld lines", took, logged);
    reader rd = {.fd = p[0]};
    pthread_t t;
    pthread_create(&t, NULL, read_all, &rd);
    obs_log_close();   /* the writer finishes into the pipe, then the log fd closes */
    pthread_join(t, NULL);
    close(p[0]);
    CHECK(rd.lines + (long)dropped == logged, "read %ld + dropped %llu != logged %ld", rd.lines,
          (unsigned long long)dropped, logged);
    printf("blocked sink: %ld lines logged in %.3f s, %llu dropped, %ld read\n", logged, took,
           (unsigned long long)dropped, rd.lines);
}

/* obs_put_str checks and copies 8 bytes at a time (the last word may
 * overlap), or a byte at a time under 8 bytes: every byte value at every
 * position of every length up to 19 (two words and a tail) must come out
 * exactly as the JSON module's escaping writes it, and nothing may be written
 * past the string's end. */
static void test_put_str(void)
{
    int bad = 0;
    for (int len = 1; len <= 19; len++) {
        for (int c = 1; c < 256 && bad < 3; c++) {
            for (int at = 0; at < len; at++) {
                char v[20];
                memset(v, 'a' + at % 26, (size_t)len);
                v[len] = '\0';
                v[at] = (char)c;
                sj_buf want = {0}, got = {0};
                sj_buf_str(&want, v, (size_t)len);
                sj_buf_reserve(&got, OBS_RECORD_JSON_MAX);
                memset(got.data, 0x5a, OBS_RECORD_JSON_MAX);
                char *p = obs_put_str(&got, got.data, v);
                if (p != NULL)
                    got.len = (size_t)(p - got.data);
                if (p == NULL || got.len != want.len || memcmp(got.data, want.data, want.len) != 0 ||
                    (got.len < OBS_RECORD_JSON_MAX && (unsigned char)got.data[got.len] != 0x5a)) {
                    printf("FAIL: length %d, byte 0x%02x at %d: %.*s vs %.*s\n", len, c, at, (int)got.len,
                           got.data, (int)want.len, want.data);
                    bad++;
                }
                sj_buf_free(&want);
                sj_buf_free(&got);
            }
        }
    }
    sj_buf empty = {0};
    sj_buf_reserve(&empty, OBS_RECORD_JSON_MAX);
    char *e = obs_put_str(&empty, empty.data, "");
    CHECK(e == empty.data + 2 && memcmp(empty.data, "\"\"", 2) == 0, "obs_put_str of an empty string");
    sj_buf_free(&empty);
    failures += bad > 0;
    /* integers: every digit count, both parities, the ends */
    int64_t nums[] = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, 1764340000123, INT64_MAX, -1};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        char got[32], want[32];
        *obs_put_i64(got, nums[i]) = '\0';
        if (nums[i] < 0)
            snprintf(want, sizeof(want), "null");
        else
            snprintf(want, sizeof(want), "%lld", (long long)nums[i]);
        CHECK(strcmp(got, want) == 0, "obs_put_i64: %s, want %s", got, want);
    }
    for (uint64_t pw = 10; pw <= 1000000000000000000ull; pw *= 10) {   /* each side of every digit count */
        for (uint64_t v = pw - 1; v <= pw; v++) {
            char got[32], want[32];
            *obs_put_i64(got, (int64_t)v) = '\0';
            snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
            CHECK(strcmp(got, want) == 0, "obs_put_i64: %s, want %s", got, want);
        }
    }
    for (int64_t v = 0; v < 100000; v += 7) {
        char got[32], want[32];
        *obs_put_i64(got, v) = '\0';
        snprintf(want, sizeof(want), "%lld", (long long)v);
        if (strcmp(got, want) != 0) {
            CHECK(0, "obs_put_i64: %s, want %s", got, want);
            break;
        }
    }
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    test_put_str();
    test_line_from_row();
    test_buffered();
    test_blocked_sink();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
    printf(failures ? "FAILED (%d)\n" : "all passed\n", failures);
    return failures != 0;
}
