/*
 * sse.c - incremental text/event-stream parser (see sse.h for the contract).
 *
 * Buffer layout: p->buf holds the joined data of the event being built
 * (p->data_len bytes) immediately followed by the line being read
 * (p->len - p->data_len bytes). When a "data" line completes, its value is
 * moved down to sit right after the data already joined, so an event never
 * needs more memory than its own bytes plus one line, and the limit
 * max_event_bytes bounds both together.
 *
 * Decisions beyond the WHATWG rules:
 *  - An "event:" name longer than SSE_EVENT_MAX (63 bytes) is an error
 *    (SSE_ERR_TOO_BIG), not truncated: a truncated name could be mistaken for
 *    another event type, and no provider sends names that long.
 *  - Comment lines (":...") are skipped as they stream by and never buffered,
 *    so keep-alive comments of any length cost nothing. Other lines (unknown
 *    fields, "id", "retry") are buffered while read and count toward the limit.
 *  - "id" and "retry" are ignored: the gateway never reconnects a stream.
 *  - A callback's non-zero value stops the parser like an error: the rest of
 *    that sse_feed call is dropped and later calls return the same value.
 *  - The data handed to the callback is not NUL-terminated (the common
 *    single-line event is passed straight from the caller's input).
 *  - A leading UTF-8 byte order mark is not stripped (providers never send one);
 *    it would make the first field name unknown.
 */
#include "provider/sse.h"

#include <stdlib.h>
#include <string.h>

#define SSE_EVENT_MAX (sizeof(((sse_parser *)0)->event) - 1)

void sse_init(sse_parser *p, size_t max_event_bytes, sse_event_fn on_event, void *ud) {
    memset(p, 0, sizeof(*p));
    p->on_event = on_event;
    p->ud = ud;
    p->max_event_bytes = max_event_bytes;
}

void sse_free(sse_parser *p) {
    free(p->buf);
    p->buf = NULL;
    p->len = p->cap = p->data_len = 0;
}

/* Marks the parser failed with `err` and returns it. */
static int sse_fail(sse_parser *p, int err) {
    p->failed = true;
    p->error = err;
    return err;
}

/* Makes room for `extra` more bytes plus a terminating NUL. */
static int sse_reserve(sse_parser *p, size_t extra) {
    size_t need = p->len + extra + 1;
    if (need <= p->cap) return 0;
    size_t cap = p->cap ? p->cap : 256;
    while (cap < need) cap *= 2;
    char *nb = realloc(p->buf, cap);
    if (!nb) return SSE_ERR_NOMEM;
    p->buf = nb;
    p->cap = cap;
    return 0;
}

/* Forgets the event being built (after a dispatch or an empty event). */
static void sse_reset_event(sse_parser *p) {
    p->len = p->data_len = 0;
    p->has_data = false;
    p->event_len = 0;
    p->event[0] = '\0';
}

/* An empty line: dispatches the pending event if it has data. */
static int sse_dispatch(sse_parser *p) {
    int rc = 0;
    if (p->has_data && p->on_event) {
        p->buf[p->data_len] = '\0'; /* reserve() always left room for it */
        rc = p->on_event(p->ud, p->event, p->event_len, p->buf, p->data_len);
    }
    sse_reset_event(p);
    return rc;
}

/* A complete non-empty, non-comment line sits at buf + data_len. */
static int sse_field(sse_parser *p) {
    char *line = p->buf + p->data_len;
    size_t line_len = p->len - p->data_len;
    char *colon = memchr(line, ':', line_len);
    size_t name_len = colon ? (size_t)(colon - line) : line_len;
    char *value = colon ? colon + 1 : line + line_len;
    size_t value_len = (size_t)(line + line_len - value);
    if (value_len > 0 && value[0] == ' ') { value++; value_len--; }

    if (name_len == 4 && memcmp(line, "data", 4) == 0) {
        /* Join: "\n" between data lines, then move the value down over the
         * field name. memmove because the regions may overlap. */
        size_t at = p->data_len;
        if (p->has_data) p->buf[at++] = '\n';
        memmove(p->buf + at, value, value_len);
        p->data_len = at + value_len;
        p->has_data = true;
    } else if (name_len == 5 && memcmp(line, "event", 5) == 0) {
        if (value_len > SSE_EVENT_MAX) return SSE_ERR_TOO_BIG;
        memcpy(p->event, value, value_len);
        p->event[value_len] = '\0';
        p->event_len = value_len;
    }
    /* Anything else (id, retry, unknown fields) is ignored. */
    p->len = p->data_len;
    return 0;
}

/* A line ended (LF, CR or CRLF seen). */
static int sse_line_end(sse_parser *p) {
    if (p->skip_line) { p->skip_line = false; return 0; }
    if (p->len == p->data_len) return sse_dispatch(p);
    return sse_field(p);
}

/* Appends part of a line, enforcing the size limit. */
static int sse_append(sse_parser *p, const char *s, size_t n) {
    if (n == 0 || p->skip_line) return 0;
    if (p->len == p->data_len && s[0] == ':') { p->skip_line = true; return 0; }
    if (n > p->max_event_bytes || p->len > p->max_event_bytes - n) return SSE_ERR_TOO_BIG;
    int rc = sse_reserve(p, n);
    if (rc) return rc;
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    return 0;
}

/* A "name:" line in [s, e), without its LF: the value after the colon and its
 * one optional space, or NULL if the line is not that field. */
static const char *sse_value_of(const char *s, const char *e, const char *name, size_t n) {
    if ((size_t)(e - s) <= n || memcmp(s, name, n) != 0 || s[n] != ':') return NULL;
    s += n + 1;
    return s < e && *s == ' ' ? s + 1 : s;
}

/* The common case, without copying: at an event boundary with nothing
 * buffered, an event that lies whole in the input as an optional "event:"
 * line, one "data:" line and an empty line, all ending in LF, is dispatched
 * straight from the input (one memchr per line instead of a byte loop and
 * two copies). Anything else (CR, comments, several data lines, other
 * fields, an event cut by the read, a line over the limit) returns 0 and goes
 * the general way, which gives the same events and errors. Returns the bytes
 * consumed; *rc is the callback's value. */
static size_t sse_fast(sse_parser *p, const char *data, const char *end, int *rc) {
    const char *at = data, *nl = memchr(at, '\n', (size_t)(end - at));
    if (!nl || memchr(at, '\r', (size_t)(nl - at))) return 0;
    const char *ev = sse_value_of(at, nl, "event", 5);
    size_t ev_len = 0;
    if (ev) {
        ev_len = (size_t)(nl - ev);
        if (ev_len > SSE_EVENT_MAX || (size_t)(nl - at) > p->max_event_bytes) return 0;
        at = nl + 1;
        if (at >= end || !(nl = memchr(at, '\n', (size_t)(end - at))) || memchr(at, '\r', (size_t)(nl - at)))
            return 0;
    }
    const char *val = sse_value_of(at, nl, "data", 4);
    if (!val || (size_t)(nl - at) > p->max_event_bytes || nl + 1 >= end || nl[1] != '\n') return 0;
    if (ev) {
        memcpy(p->event, ev, ev_len);
        p->event[ev_len] = '\0';
    }
    *rc = p->on_event ? p->on_event(p->ud, ev ? p->event : "", ev_len, val, (size_t)(nl - val)) : 0;
    p->event_len = 0;
    p->event[0] = '\0';
    return (size_t)(nl + 2 - data);
}

int sse_feed(sse_parser *p, const char *data, size_t len) {
    if (p->failed) return p->error;
    const char *end = data + len;
    while (data < end) {
        /* The LF of a CRLF whose CR ended the previous line (possibly in the
         * previous sse_feed call) ends nothing. */
        if (p->last_was_cr) {
            p->last_was_cr = false;
            if (*data == '\n') { data++; continue; }
        }
        if (p->len == 0 && !p->has_data && p->event_len == 0 && !p->skip_line) {
            int rc = 0;
            size_t used = sse_fast(p, data, end, &rc);
            if (rc) return sse_fail(p, rc);
            if (used) { data += used; continue; }
        }
        const char *eol = data;
        while (eol < end && *eol != '\n' && *eol != '\r') eol++;
        int rc = sse_append(p, data, (size_t)(eol - data));
        if (rc) return sse_fail(p, rc);
        if (eol == end) break;
        p->last_was_cr = (*eol == '\r');
        data = eol + 1;
        rc = sse_line_end(p);
        if (rc) return sse_fail(p, rc);
    }
    return 0;
}

bool sse_finish(sse_parser *p) {
    bool pending = p->has_data || p->event_len > 0 || p->len > p->data_len;
    sse_reset_event(p);
    p->last_was_cr = false;
    p->skip_line = false;
    return pending;
}
