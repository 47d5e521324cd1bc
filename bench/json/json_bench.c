/*
 * json_bench - parses/s and parse+serialize/s of one JSON file, for the sj_
 * module and for jansson, on one core.
 *
 * Usage: json_bench FILE [SECONDS_PER_ROW]
 * Prints a markdown table. Each row runs for the given time (default 2 s)
 * after a short warm-up; serialize means compact output into a fresh malloc'd
 * string, which both libraries return to the caller.
 */
#include "sluice/json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef int (*bench_fn)(const char *buf, size_t len); /* 0 on success */

static int sj_parse_only(const char *buf, size_t len)
{
    sj_doc *d = sj_parse(buf, len, NULL, NULL);
    sj_doc_free(d);
    return d ? 0 : 1;
}

static int sj_parse_write(const char *buf, size_t len)
{
    sj_doc *d = sj_parse(buf, len, NULL, NULL);
    size_t n;
    char *out = d ? sj_write(sj_doc_root(d), &n) : NULL;
    free(out);
    sj_doc_free(d);
    return out ? 0 : 1;
}

static int jansson_parse_only(const char *buf, size_t len)
{
    json_t *j = json_loadb(buf, len, 0, NULL);
    json_decref(j);
    return j ? 0 : 1;
}

static int jansson_parse_write(const char *buf, size_t len)
{
    json_t *j = json_loadb(buf, len, 0, NULL);
    char *out = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    free(out);
    json_decref(j);
    return out ? 0 : 1;
}

/* Operations per second of fn over `secs` seconds; -1 if fn fails. */
static double rate(bench_fn fn, const char *buf, size_t len, double secs)
{
    for (int i = 0; i < 1000; i++)
        if (fn(buf, len))
            return -1;
    long n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 1000; i++)
            fn(buf, len);
        n += 1000;
        t = now();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [SECONDS_PER_ROW]\n", argv[0]);
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);

    double sp = rate(sj_parse_only, buf, len, secs);
    double sw = rate(sj_parse_write, buf, len, secs);
    double jp = rate(jansson_parse_only, buf, len, secs);
    double jw = rate(jansson_parse_write, buf, len, secs);
    if (sp < 0 || sw < 0 || jp < 0 || jw < 0) {
        fprintf(stderr, "json_bench: a library failed to parse %s\n", argv[1]);
        return 1;
    }
    printf("Input: `%s` (%zu bytes), one core, %.1f s of CPU time per row (rates are per CPU-second).\n\n", argv[1], len, secs);
    printf("| library | parses/s | parse+serialize/s | parse MB/s |\n");
    printf("|---|---:|---:|---:|\n");
    printf("| sluice sj_ | %.0f | %.0f | %.0f |\n", sp, sw, sp * (double)len / 1e6);
    printf("| jansson %s | %.0f | %.0f | %.0f |\n", JANSSON_VERSION, jp, jw, jp * (double)len / 1e6);
    printf("\nsj_ / jansson: parse x%.1f, parse+serialize x%.1f\n", sp / jp, sw / jw);
    return 0;
}
