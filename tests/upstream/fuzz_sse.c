/*
 * fuzz_sse.c - libFuzzer target: the SSE parser must give the same events and
 * the same final result whether the input arrives whole or cut into pieces.
 *
 * Input layout: byte 0 picks the event size limit, bytes 1-2 seed the cut
 * positions, the rest is the stream.
 */
#include "provider/sse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A growing record of "event\0data\0" for every dispatched event. */
typedef struct trace {
    char *buf;
    size_t len, cap;
} trace;

static void trace_put(trace *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1) cap *= 2;
        t->buf = realloc(t->buf, cap);
        if (!t->buf) abort();
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->buf[t->len + n] = '\0';
    t->len += n + 1;
}

static int on_event(void *ud, const char *ev, size_t ev_len, const char *data, size_t len) {
    trace *t = ud;
    trace_put(t, ev, ev_len);
    trace_put(t, data, len);
    return 0;
}

/* Feeds `in` in pieces chosen by `seed` (seed 0 = whole); returns the result. */
static int run(const uint8_t *in, size_t len, size_t max, uint32_t seed, trace *t, bool *pend) {
    sse_parser p;
    sse_init(&p, max, on_event, t);
    int rc = 0;
    size_t at = 0;
    while (at < len && rc == 0) {
        size_t n = len - at;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            size_t step = 1 + (seed >> 16) % 17;
            if (step < n) n = step;
        }
        rc = sse_feed(&p, (const char *)in + at, n);
        at += n;
    }
    *pend = sse_finish(&p);
    sse_free(&p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    size_t max = 8 + (size_t)data[0] * 4;
    uint32_t seed = ((uint32_t)data[1] << 8 | data[2]) | 1;
    trace whole = {0}, cut = {0};
    bool pw, pc;
    int rw = run(data + 3, size - 3, max, 0, &whole, &pw);
    int rc = run(data + 3, size - 3, max, seed, &cut, &pc);
    if (rw != rc || whole.len != cut.len ||
        (whole.len && memcmp(whole.buf, cut.buf, whole.len) != 0) || (rw == 0 && pw != pc))
        abort();
    free(whole.buf);
    free(cut.buf);
    return 0;
}
