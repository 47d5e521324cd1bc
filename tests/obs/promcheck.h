/*
 * promcheck.h - a strict checker of the Prometheus text exposition format
 * (0.0.4), for tests: it rejects what a real scraper would reject and a bit
 * more (what our output must never do even if a scraper tolerates it).
 */
#ifndef SLUICE_TESTS_PROMCHECK_H
#define SLUICE_TESTS_PROMCHECK_H

#include <stddef.h>

/* 0 if text is valid, else -1 with "line N: what" in err. Checks: line
 * syntax; metric and label name syntax; label value escapes (only \\ \" \n);
 * HELP/TYPE at most once per family and TYPE before its samples; a family's
 * samples contiguous; sample names fit their TYPE (histogram: _bucket with le,
 * _sum, _count); no duplicate series; no duplicate label in a sample; counters
 * and histogram counts non-negative; histogram buckets non-decreasing with
 * increasing le, a +Inf bucket equal to _count, and _sum present. */
int promcheck(const char *text, size_t len, char *err, size_t errlen);

/* The value of the sample whose name and labels (as written, e.g.
 * `a_total{x="1"}`, no spaces) match exactly; -1 if absent. For tests. */
double promcheck_value(const char *text, const char *series);

#endif
