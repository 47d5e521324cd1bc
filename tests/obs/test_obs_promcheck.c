/*
 * test_obs_promcheck.c - the format checker itself must reject each kind of
 * mistake it claims to catch (otherwise the metrics tests prove nothing).
 */
#include <stdio.h>
#include <string.h>

#include "promcheck.h"

static int failures;

static void expect(int want_ok, const char *text, const char *what)
{
    char err[256] = "";
    int rc = promcheck(text, strlen(text), err, sizeof(err));
    if ((rc == 0) != want_ok) {
        printf("FAIL: %s: checker said %s (%s)\n", what, rc == 0 ? "valid" : "invalid", err);
        failures++;
    } else {
        printf("ok: %s%s%s\n", what, rc ? " -> " : "", rc ? err : "");
    }
}

int main(void)
{
    const char *good =
        "# HELP a_total A \\\\ counter\\n.\n# TYPE a_total counter\n"
        "a_total{x=\"q\\\"\\\\\\n\",y=\"\"} 3\na_total 1\n"
        "# TYPE h histogram\n"
        "h_bucket{le=\"0.1\"} 1\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.6\nh_count 2\n"
        "# TYPE g gauge\ng -2.5e3\n";
    expect(1, good, "a valid document");
    expect(0, "a_total 1", "missing final newline");
    expect(0, "1a 1\n", "bad metric name");
    expect(0, "a{1x=\"v\"} 1\n", "bad label name");
    expect(0, "a{x=\"\\t\"} 1\n", "bad escape in a label value");
    expect(0, "a{x=\"v} 1\n", "unterminated label value");
    expect(0, "a{x=\"v\",x=\"w\"} 1\n", "duplicate label");
    expect(0, "a 1\na 2\n", "duplicate series");
    expect(0, "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", "duplicate series, labels reordered");
    expect(0, "a 1\n# TYPE a counter\n", "TYPE after samples");
    expect(0, "# TYPE a counter\n# TYPE a counter\na 1\n", "second TYPE");
    expect(0, "# TYPE a countr\na 1\n", "unknown TYPE");
    expect(0, "a 1\nb 1\na{x=\"y\"} 1\n", "non-contiguous family");
    expect(0, "a one\n", "bad value");
    expect(0, "a inf\n", "lower-case inf");
    expect(0, "# TYPE a counter\na -1\n", "negative counter");
    expect(0, "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "histogram without +Inf");
    expect(0, "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
           "bucket counts decrease");
    expect(0, "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
           "le not increasing");
    expect(0, "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "+Inf != count");
    expect(0, "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n", "histogram without _sum");
    expect(0, "# TYPE h histogram\nh 2\n", "plain sample in a histogram");
    expect(0, "# TYPE h histogram\nh_bucket 2\nh_sum 1\nh_count 2\n", "bucket without le");
    expect(0, "# HELP a bad \\q escape\na 1\n", "bad HELP escape");
    expect(1, "# just a comment\n\na 1 1700000000000\n", "comment, empty line, timestamp");
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
