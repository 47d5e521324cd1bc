/*
 * test_obs_metrics.c - the sharded registry: values, label escaping, series
 * cap with overflow, concurrent updates summed exactly, and every rendering
 * passed through the strict format checker (promcheck.c); obs_request_done
 * (whose series a thread caches) counting each label tuple exactly, across
 * more tuples than the cache holds and across a re-initialisation.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/metrics.h"
#include "obs/obs.h"
#include "promcheck.h"

#include "obs_test.h"

/* Renders r, checks the format; returns the malloc'd text (caller frees). */
static char *render_checked(obs_registry *r)
{
    sj_buf b = {0};
    CHECK(obs_registry_render(r, &b), "render OOM");
    sj_buf_raw(&b, "", 1);   /* NUL-terminate */
    char err[512];
    if (promcheck(b.data, b.len - 1, err, sizeof(err)) != 0) {
        printf("FAIL: exposition rejected: %s\n---\n%s---\n", err, b.data);
        failures++;
    }
    return b.data;
}

static void test_basic_and_escaping(void)
{
    obs_registry *r = obs_registry_new(0);
    const char *ln[] = {"model", "status"};
    obs_metric *c = obs_counter_new(r, "t_requests_total", "Requests \\ with\nnewline.", 2, ln);
    obs_metric *g = obs_gauge_new(r, "t_open", "Open things.", 0, NULL);
    double bounds[] = {0.005, 0.1, 1, 2.5};
    obs_metric *h = obs_histogram_new(r, "t_latency_seconds", "Latency.", 1, ln, bounds, 4);
    CHECK(c && g && h, "registration failed");
    CHECK(obs_counter_new(r, "t_requests_total", "dup", 0, NULL) == NULL, "duplicate name accepted");
    CHECK(obs_counter_new(r, "1bad", "", 0, NULL) == NULL, "bad name accepted");
    const char *bad_label[] = {"__x"};
    CHECK(obs_counter_new(r, "t_x", "", 1, bad_label) == NULL, "reserved label name accepted");
    const char *le[] = {"le"};
    CHECK(obs_histogram_new(r, "t_h2", "", 1, le, bounds, 4) == NULL, "le label accepted on a histogram");
    double unsorted[] = {1, 0.5};
    CHECK(obs_histogram_new(r, "t_h3", "", 0, NULL, unsorted, 2) == NULL, "unsorted bounds accepted");

    const char *v1[] = {"gpt-4o", "200"};
    const char *hostile[] = {"q\"\\\n", "\xff\xfe bad utf8"};
    obs_counter_add(obs_series_get(c, v1), 2);
    obs_counter_add(obs_series_get(c, v1), 3);
    obs_counter_add(obs_series_get(c, hostile), 1);
    CHECK(obs_counter_value(obs_series_get(c, v1)) == 5, "counter sum");
    obs_gauge_add(obs_series_get(g, NULL), 3);
    obs_gauge_add(obs_series_get(g, NULL), -5);
    CHECK(obs_gauge_value(obs_series_get(g, NULL)) == -2, "gauge value");
    const char *hv[] = {"m"};
    obs_series *hs = obs_series_get(h, hv);
    obs_histogram_observe(hs, 0.005);   /* on the bound: le is inclusive */
    obs_histogram_observe(hs, 0.05);
    obs_histogram_observe(hs, 3);
    obs_histogram_observe(hs, NAN);     /* ignored */
    double sum;
    uint64_t buckets[5];
    CHECK(obs_histogram_count(hs, &sum, buckets) == 3, "histogram count");
    CHECK(buckets[0] == 1 && buckets[1] == 2 && buckets[3] == 2 && buckets[4] == 3, "cumulative buckets");
    CHECK(fabs(sum - 3.055) < 1e-9, "histogram sum %g", sum);

    char *text = render_checked(r);
    CHECK(strstr(text, "t_requests_total{model=\"q\\\"\\\\\\n\",status=\"?? bad utf8\"} 1\n") != NULL,
          "escaped label values not found in:\n%s", text);
    CHECK(strstr(text, "# HELP t_requests_total Requests \\\\ with\\nnewline.\n") != NULL, "HELP escaping");
    CHECK(promcheck_value(text, "t_requests_total{model=\"gpt-4o\",status=\"200\"}") == 5, "rendered counter");
    CHECK(promcheck_value(text, "t_latency_seconds_bucket{model=\"m\",le=\"0.005\"}") == 1, "le=0.005 bucket");
    CHECK(promcheck_value(text, "t_latency_seconds_bucket{model=\"m\",le=\"+Inf\"}") == 3, "+Inf bucket");
    CHECK(promcheck_value(text, "t_latency_seconds_count{model=\"m\"}") == 3, "_count");
    CHECK(promcheck_value(text, "t_open") == -2, "gauge rendered");
    free(text);
    obs_registry_free(r);
}

static void test_series_cap(void)
{
    obs_registry *r = obs_registry_new(10);
    const char *ln[] = {"model"};
    obs_metric *c = obs_counter_new(r, "t_cap_total", "Capped.", 1, ln);
    char name[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "model-%d", i);
        const char *v[] = {name};
        obs_counter_add(obs_series_get(c, v), 1);
    }
    CHECK(obs_metric_series_count(c) == 11, "series count %zu, want 10 + overflow", obs_metric_series_count(c));
    const char *other[] = {"other"};
    CHECK(obs_counter_value(obs_series_get(c, other)) == 4990, "overflow holds the rest");
    const char *first[] = {"model-3"};
    CHECK(obs_counter_value(obs_series_get(c, first)) == 1, "early series kept");
    /* a label value longer than OBS_LABEL_MAX is cut, not stored whole */
    char long_v[1000];
    memset(long_v, 'x', sizeof(long_v) - 1);
    long_v[sizeof(long_v) - 1] = '\0';
    obs_registry *r2 = obs_registry_new(0);
    obs_metric *c2 = obs_counter_new(r2, "t_long_total", "", 1, ln);
    const char *lv[] = {long_v};
    obs_counter_add(obs_series_get(c2, lv), 1);
    char *text = render_checked(r2);
    CHECK(strlen(text) < 400, "long label value not truncated");
    free(text);
    free(render_checked(r));
    obs_registry_free(r2);
    obs_registry_free(r);
}

#define THREADS 8
#define ITERS 200000
static obs_metric *mt_c, *mt_h;
static atomic_int mt_done; /* the scraper thread polls it: atomic, not volatile (TSan) */

static void *mt_worker(void *arg)
{
    long id = (long)arg;
    char model[32];
    for (int i = 0; i < ITERS; i++) {
        snprintf(model, sizeof(model), "m%d", i % 7);   /* shared series across threads */
        const char *v[] = {model};
        obs_counter_add(obs_series_get(mt_c, v), 1);
        obs_histogram_observe(obs_series_get(mt_h, v), (double)((i + id) % 100) / 100.0);
    }
    return NULL;
}

static void *mt_scraper(void *arg)
{
    obs_registry *r = arg;
    int n = 0;
    while (!mt_done && n < 200) {   /* scrapes during updates must stay valid */
        free(render_checked(r));
        n++;
    }
    return NULL;
}

static void test_threads(void)
{
    obs_registry *r = obs_registry_new(0);
    const char *ln[] = {"model"};
    double bounds[] = {0.25, 0.5, 0.75};
    mt_c = obs_counter_new(r, "t_mt_total", "Concurrent.", 1, ln);
    mt_h = obs_histogram_new(r, "t_mt_seconds", "Concurrent.", 1, ln, bounds, 3);
    pthread_t t[THREADS], s;
    pthread_create(&s, NULL, mt_scraper, r);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, mt_worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    mt_done = 1;
    pthread_join(s, NULL);
    uint64_t total = 0, hcount = 0;
    for (int m = 0; m < 7; m++) {
        char model[32];
        snprintf(model, sizeof(model), "m%d", m);
        const char *v[] = {model};
        total += obs_counter_value(obs_series_get(mt_c, v));
        hcount += obs_histogram_count(obs_series_get(mt_h, v), NULL, NULL);
    }
    CHECK(total == (uint64_t)THREADS * ITERS, "counter total %llu", (unsigned long long)total);
    CHECK(hcount == (uint64_t)THREADS * ITERS, "histogram count %llu", (unsigned long long)hcount);
    CHECK(obs_metric_series_count(mt_c) == 7, "series made once each");
    free(render_checked(r));
    obs_registry_free(r);
}

/* The value of one sluice_requests_total series in the rendered text, -1 if
 * absent. */
static long requests_value(const char *text, const char *provider, const char *model, int status, const char *ep)
{
    char want[256];
    int n = snprintf(want, sizeof(want), "sluice_requests_total{provider=\"%s\",model=\"%s\",status=\"%d\",endpoint=\"%s\"} ",
                     provider, model, status, ep);
    const char *p = strstr(text, want);
    return p ? atol(p + n) : -1;
}

static void test_request_done_cache(void)
{
    static const char *const providers[] = {"p1", "p2"}, *const models[] = {"m1", "m2", "m3"};
    static const int statuses[] = {200, 400, 429, 500, 502, 503, 1000};
    static const char *const eps[] = {"chat", "models", "health", "metrics", "logs", "other"};
    enum { NP = 2, NM = 3, NS = 7, NE = 6 };
    static long want[NP][NM][NS][NE];
    char err[256];
    for (int round = 0; round < 2; round++) {
        obs_config c = {.version = "t", .log_level = OBS_ERROR};
        CHECK(obs_init(&c, err, sizeof(err)) == 0, "obs_init: %s", err);
        memset(want, 0, sizeof(want));
        /* A walk that changes pair, endpoint and status at different paces
         * (a pair lasts 100 requests, an endpoint 7, the status changes each
         * time), so cached entries are hit, replaced and hit again. */
        for (unsigned i = 0; i < 6000; i++) {
            unsigned pi = i / 300 % NP, mi = i / 100 % NM, si = i % NS, ei = i / 7 % NE;
            obs_record r = {.status = statuses[si], .total_ms = 1, .upstream_ms = -1, .ttft_ms = -1,
                            .prompt_tokens = -1, .completion_tokens = -1};
            strcpy(r.provider, providers[pi]);
            strcpy(r.model, models[mi]);
            char ep[16];
            strcpy(ep, eps[ei]);   /* a copy: the cache must not keep the pointer */
            obs_request_done(&r, ep);
            memset(ep, 'x', sizeof(ep) - 1);
            want[pi][mi][si][ei]++;
        }
        sj_buf b = {0};
        CHECK(obs_metrics_text(&b), "render");
        sj_buf_raw(&b, "", 1);
        int bad = 0;
        for (int pi = 0; pi < NP; pi++)
            for (int mi = 0; mi < NM; mi++)
                for (int si = 0; si < NS; si++)
                    for (int ei = 0; ei < NE; ei++) {
                        long got = requests_value(b.data, providers[pi], models[mi], statuses[si], eps[ei]);
                        long w = want[pi][mi][si][ei] ? want[pi][mi][si][ei] : -1;
                        if (got != w && bad++ < 5)
                            printf("FAIL: round %d %s %s %d %s: %ld, want %ld\n", round, providers[pi], models[mi],
                                   statuses[si], eps[ei], got, w);
                    }
        failures += bad > 0;
        sj_buf_free(&b);
        obs_shutdown();   /* round 2 runs on a new registry: no stale series */
    }
}

int main(void)
{
    test_basic_and_escaping();
    test_series_cap();
    test_threads();
    test_request_done_cache();
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
