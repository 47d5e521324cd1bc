/*
 * test_sse.c - the SSE parser against OpenAI- and Anthropic-style streams,
 * fed whole, byte by byte and split at every boundary, with LF, CR and CRLF
 * line ends; plus the edge cases of the WHATWG rules and the limits.
 */
#include "provider/sse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); failures++; } \
    } while (0)

/* Events are logged as "event|data\n" (data's own '\n' shown as "\\n"). */
typedef struct log {
    char text[16384];
    size_t len;
    int n;
    int stop_at; /* return 7 from the stop_at-th event (1-based); 0 = never */
} log;

static void log_put(log *l, const char *s, size_t n) {
    for (size_t i = 0; i < n && l->len + 3 < sizeof l->text; i++) {
        if (s[i] == '\n') { l->text[l->len++] = '\\'; l->text[l->len++] = 'n'; }
        else l->text[l->len++] = s[i];
    }
    l->text[l->len] = '\0';
}

static int on_event(void *ud, const char *ev, size_t ev_len, const char *data, size_t len) {
    log *l = ud;
    CHECK(ev[ev_len] == '\0'); /* the name is NUL-terminated, the data need not be (fast path) */
    log_put(l, ev, ev_len);
    log_put(l, "|", 1);
    log_put(l, data, len);
    if (l->len + 1 < sizeof l->text) l->text[l->len++] = '\n'; /* raw, not escaped */
    l->text[l->len] = '\0';
    l->n++;
    return l->n == l->stop_at ? 7 : 0;
}

/* Feeds `in` cut at the given offsets; returns the last non-zero sse_feed
 * result (or 0) and fills l. */
static int feed_cuts(const char *in, size_t len, const size_t *cuts, size_t ncuts, log *l,
                     size_t max, bool *pending) {
    memset(l, 0, sizeof(*l));
    sse_parser p;
    sse_init(&p, max, on_event, l);
    size_t at = 0;
    int rc = 0;
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        rc = sse_feed(&p, in + at, end - at);
        at = end;
    }
    bool pend = sse_finish(&p);
    if (pending) *pending = pend;
    sse_free(&p);
    return rc;
}

static int feed_whole(const char *in, log *l, size_t max) {
    return feed_cuts(in, strlen(in), NULL, 0, l, max, NULL);
}

/* Rewrites every "\n" of s as `eol`. Caller frees. */
static char *with_eol(const char *s, const char *eol) {
    size_t el = strlen(eol), n = 0;
    char *out = malloc(strlen(s) * el + 1);
    for (; *s; s++) {
        if (*s == '\n') { memcpy(out + n, eol, el); n += el; }
        else out[n++] = *s;
    }
    out[n] = '\0';
    return out;
}

static uint32_t rng = 12345;
static uint32_t next_rand(void) {
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

/* Every way of cutting must give `expect`. */
static void check_all_splits(const char *name, const char *in, const char *expect) {
    size_t len = strlen(in);
    log l;
    CHECK(feed_whole(in, &l, 1 << 16) == 0);
    if (strcmp(l.text, expect) != 0)
        fprintf(stderr, "%s whole:\n got: %s\nwant: %s\n", name, l.text, expect);
    CHECK(strcmp(l.text, expect) == 0);

    size_t *cuts = malloc((len + 1) * sizeof(size_t));
    for (size_t i = 0; i < len; i++) cuts[i] = i + 1; /* byte by byte */
    CHECK(feed_cuts(in, len, cuts, len, &l, 1 << 16, NULL) == 0);
    CHECK(strcmp(l.text, expect) == 0);

    for (size_t c = 0; c <= len; c++) { /* every 2-split */
        cuts[0] = c;
        feed_cuts(in, len, cuts, 1, &l, 1 << 16, NULL);
        if (strcmp(l.text, expect) != 0) {
            fprintf(stderr, "%s: split at %zu differs\n", name, c);
            failures++;
            break;
        }
    }
    for (int round = 0; round < 300; round++) { /* random multi-splits */
        size_t n = 0, at = 0;
        while (at < len) {
            at += 1 + next_rand() % 12;
            if (at > len) at = len;
            cuts[n++] = at;
        }
        feed_cuts(in, len, cuts, n, &l, 1 << 16, NULL);
        if (strcmp(l.text, expect) != 0) {
            fprintf(stderr, "%s: random split round %d differs\n", name, round);
            failures++;
            break;
        }
    }
    free(cuts);
}

static void check_eols(const char *name, const char *in_lf, const char *expect) {
    static const char *eols[] = {"\n", "\r\n", "\r"};
    for (int i = 0; i < 3; i++) {
        char *in = with_eol(in_lf, eols[i]);
        char label[64];
        snprintf(label, sizeof label, "%s/eol%d", name, i);
        check_all_splits(label, in, expect);
        free(in);
    }
}

static const char OPENAI[] =
    "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"
    ": keep-alive\n\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hé\"}}]}\n\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"llo\"}}]}\n\n"
    "data: [DONE]\n\n";
static const char OPENAI_EXPECT[] =
    "|{\"id\":\"c1\",\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n"
    "|{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hé\"}}]}\n"
    "|{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"llo\"}}]}\n"
    "|[DONE]\n";

static const char ANTHROPIC[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\"}}\n\n"
    "event: ping\ndata: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":2}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
static const char ANTHROPIC_EXPECT[] =
    "message_start|{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\"}}\n"
    "ping|{\"type\": \"ping\"}\n"
    "content_block_delta|{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n"
    "message_delta|{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":2}}\n"
    "message_stop|{\"type\":\"message_stop\"}\n";

/* The WHATWG corner cases. */
static const char EDGES[] =
    "data:no space\n\n"
    "data:  two spaces\n\n"          /* only one space is dropped */
    "data: a\ndata: b\ndata\n\n"      /* joined with \n; bare "data" adds "" */
    "data\n\n"                       /* one empty data line: dispatched, "" */
    "event: lonely\n\n"              /* no data: not dispatched, name reset */
    "id: 7\nretry: 100\nfoo: bar\ndata: x\n\n"
    ": comment: with colon\n"
    "event:e1\ndata: y\n\n"
    "data: after\n\n"                /* event name was reset by the dispatch */
    "event: e2\nevent: e3\ndata: z\n\n"; /* last event: wins */
static const char EDGES_EXPECT[] =
    "|no space\n"
    "| two spaces\n"
    "|a\\nb\\n\n"
    "|\n"
    "|x\n"
    "e1|y\n"
    "|after\n"
    "e3|z\n";

static void check_limits(void) {
    log l;
    /* An event over the limit is an error, sticky on later calls. */
    char big[300];
    memset(big, 'x', sizeof big);
    memcpy(big, "data: ", 6);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\n';
    memset(&l, 0, sizeof l);
    sse_parser p;
    sse_init(&p, 128, on_event, &l);
    CHECK(sse_feed(&p, "data: ok\n\n", 10) == 0);
    CHECK(l.n == 1);
    CHECK(sse_feed(&p, big, sizeof big) == SSE_ERR_TOO_BIG);
    CHECK(sse_feed(&p, "data: ok\n\n", 10) == SSE_ERR_TOO_BIG);
    CHECK(l.n == 1);
    sse_free(&p);

    /* The limit counts joined data across lines, not just one line. */
    memset(&l, 0, sizeof l);
    sse_init(&p, 64, on_event, &l);
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0; i++) rc = sse_feed(&p, "data: 0123456789\n", 17);
    CHECK(rc == SSE_ERR_TOO_BIG);
    CHECK(l.n == 0);
    sse_free(&p);

    /* Exactly at the limit is fine: "data: " + 58 bytes = 64. */
    char exact[67];
    memcpy(exact, "data: ", 6);
    memset(exact + 6, 'y', 58);
    memcpy(exact + 64, "\n\n", 3);
    CHECK(feed_cuts(exact, 66, NULL, 0, &l, 64, NULL) == 0 && l.n == 1);
    CHECK(feed_cuts(exact, 66, NULL, 0, &l, 63, NULL) == SSE_ERR_TOO_BIG && l.n == 0);

    /* Comment lines are not buffered: any length passes. */
    char *cm = malloc(10000);
    cm[0] = ':';
    memset(cm + 1, 'c', 9000);
    strcpy(cm + 9001, "\ndata: after\n\n");
    CHECK(feed_whole(cm, &l, 64) == 0);
    CHECK(strcmp(l.text, "|after\n") == 0);
    free(cm);

    /* Event names: 63 bytes pass, 64 are an error (documented in sse.c). */
    char ev[100];
    snprintf(ev, sizeof ev, "event: %063d\ndata: d\n\n", 0);
    CHECK(feed_whole(ev, &l, 1024) == 0 && l.n == 1);
    snprintf(ev, sizeof ev, "event: %064d\ndata: d\n\n", 0);
    CHECK(feed_whole(ev, &l, 1024) == SSE_ERR_TOO_BIG && l.n == 0);
}

static void check_stop_and_finish(void) {
    log l;
    memset(&l, 0, sizeof l);
    l.stop_at = 2;
    sse_parser p;
    sse_init(&p, 1024, on_event, &l);
    CHECK(sse_feed(&p, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27) == 7);
    CHECK(l.n == 2);
    CHECK(sse_feed(&p, "data: 4\n\n", 9) == 7); /* stopped for good */
    CHECK(l.n == 2);
    sse_free(&p);

    bool pending;
    const char *cases[][2] = {
        {"data: complete\n\n", "0"},
        {"data: half", "1"},             /* unterminated line */
        {"data: x\n", "1"},              /* data without the empty line */
        {"event: e\n", "1"},
        {"data: x\n\n: trailing comment", "0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        feed_cuts(cases[i][0], strlen(cases[i][0]), NULL, 0, &l, 1024, &pending);
        CHECK(pending == (cases[i][1][0] == '1'));
    }
    /* The unterminated event is dropped, not dispatched. */
    feed_cuts("data: a\n\ndata: b\n", 17, NULL, 0, &l, 1024, &pending);
    CHECK(l.n == 1 && pending);
    /* CR at the very end, LF in the next call: one line end, not two. */
    memset(&l, 0, sizeof l);
    sse_init(&p, 1024, on_event, &l);
    CHECK(sse_feed(&p, "data: a\r", 8) == 0);
    CHECK(sse_feed(&p, "\ndata: b\r", 9) == 0);
    CHECK(sse_feed(&p, "\n\r\n", 3) == 0);
    CHECK(l.n == 1 && strcmp(l.text, "|a\\nb\n") == 0);
    sse_free(&p);
}

int main(void) {
    check_eols("openai", OPENAI, OPENAI_EXPECT);
    check_eols("anthropic", ANTHROPIC, ANTHROPIC_EXPECT);
    check_eols("edges", EDGES, EDGES_EXPECT);
    /* Mixed line ends in one stream. */
    check_all_splits("mixed", "data: a\r\ndata: b\rdata: c\n\r\nevent: x\rdata: d\r\r",
                     "|a\\nb\\nc\nx|d\n");
    /* Events the fast path takes whole (event + data, data only) between ones it
     * leaves to the general path (comment, id, two data lines, "data" with no
     * colon, an empty event name), cut everywhere: the same events. */
    check_all_splits("fast", "data: {\"a\":1}\n\nevent: e\ndata: x\n\n:c\ndata: y\n\nid: 3\ndata: z\n\n"
                             "data: p\ndata: q\n\ndata\n\nevent:\ndata:  s\n\ndata:t\n\n",
                     "|{\"a\":1}\ne|x\n|y\n|z\n|p\\nq\n|\n| s\n|t\n");
    check_limits();
    check_stop_and_finish();
    if (failures) { fprintf(stderr, "%d failure(s)\n", failures); return 1; }
    printf("test_sse: all passed\n");
    return 0;
}
