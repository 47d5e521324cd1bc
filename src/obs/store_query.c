/*
 * store_query.c - GET /api/logs: query-string validation and the read-only
 * query of the request log store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/store_int.h"

static int obs_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes s[0..len) into out (size cap). -1 if malformed, too long or
 * it decodes to a NUL or a control character. */
static int obs_url_decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = obs_hex(s[i + 1]), lo = obs_hex(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* Parses a decimal integer in [min, max] from the whole of s. */
static bool obs_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (*s == '\0' || strlen(s) > 18)
        return false;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || v < min || v > max || (*s != '-' && (*s < '0' || *s > '9')))
        return false;
    *out = v;
    return true;
}

int obs_query_parse(const char *qs, size_t len, obs_query *q, char *err, size_t errlen)
{
    memset(q, 0, sizeof(*q));
    q->limit = 100;
    unsigned seen = 0;
    static const char *names[] = {"provider", "model", "status", "since", "limit"};
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(qs + i, '&', len - i);
        size_t e = amp ? (size_t)(amp - qs) : len;
        const char *p = qs + i, *eq = memchr(p, '=', e - i);
        size_t klen = eq ? (size_t)(eq - p) : e - i;
        i = e + 1;
        if (klen == 0 && !eq)
            continue;   /* "a=1&&b=2" */
        int k = 0;
        while (k < 5 && !(strlen(names[k]) == klen && memcmp(names[k], p, klen) == 0))
            k++;
        if (k == 5) {
            snprintf(err, errlen, "unknown query parameter '%.*s' (use provider, model, status, since, limit)",
                     (int)(klen > 40 ? 40 : klen), p);
            return -1;
        }
        if (seen & (1u << k)) {
            snprintf(err, errlen, "query parameter '%s' given twice", names[k]);
            return -1;
        }
        seen |= 1u << k;
        char val[160];
        const char *v = eq ? eq + 1 : p + klen;
        size_t vlen = (size_t)(qs + e - v);
        if (obs_url_decode(v, vlen, val, sizeof(val)) != 0) {
            snprintf(err, errlen, "query parameter '%s': bad escape, control character or too long", names[k]);
            return -1;
        }
        long long n;
        switch (k) {
        case 0:
        case 1: {
            char *dst = k == 0 ? q->provider : q->model;
            size_t cap = k == 0 ? sizeof(q->provider) : sizeof(q->model);
            if (strlen(val) >= cap) {
                snprintf(err, errlen, "query parameter '%s' is too long (max %zu bytes)", names[k], cap - 1);
                return -1;
            }
            strcpy(dst, val);
            break;
        }
        case 2:
            if (!obs_parse_int(val, 100, 599, &n)) {
                snprintf(err, errlen, "status must be an HTTP status code (100-599)");
                return -1;
            }
            q->status = (int)n;
            break;
        case 3:
            if (!obs_parse_int(val, 0, 100000000000LL, &n)) {
                snprintf(err, errlen, "since must be a Unix time in seconds");
                return -1;
            }
            q->since_ms = n * 1000;
            break;
        default:
            if (!obs_parse_int(val, 1, OBS_QUERY_MAX_LIMIT, &n)) {
                snprintf(err, errlen, "limit must be an integer from 1 to %d", OBS_QUERY_MAX_LIMIT);
                return -1;
            }
            q->limit = (int)n;
        }
    }
    return 0;
}

/* Batches newest first, from the first one that may hold a request at or
 * after since: the requests are filtered here, newest first too, so the
 * walk stops once `limit` matched (no sort of the whole table). */
static const char obs_query_sql[] =
    "SELECT rows FROM request_batches WHERE last_ts_ms >= ?1 ORDER BY id DESC";

/* The columns of a stored request, in its JSON array (store.c). */
static const char *const obs_cols[] = {"ts_ms",       "request_id",    "method",        "path",      "provider", "model",
                                       "status",      "stream",        "total_ms",      "upstream_ms", "ttft_ms",
                                       "prompt_tokens", "completion_tokens", "retries", "fallback",  "error",
                                       "plugin_errors"};
#define OBS_NCOLS (sizeof(obs_cols) / sizeof(obs_cols[0]))

/* Whether stored request v (an array of OBS_NCOLS) passes q's filters. */
static bool obs_row_matches(sj_val *const *col, const obs_query *q)
{
    int64_t ts = 0, status = 0;
    return sj_i64(col[0], &ts) && ts >= q->since_ms && (!q->provider[0] || sj_str_eq(col[4], q->provider)) &&
           (!q->model[0] || sj_str_eq(col[5], q->model)) &&
           (!q->status || (sj_i64(col[6], &status) && status == q->status));
}

/* One stored request as a JSON object; stream (stored 0/1) as a boolean. */
static void obs_row_json(sj_val *const *col, sj_buf *out)
{
    sj_buf_raw(out, "{", 1);
    for (size_t c = 0; c < OBS_NCOLS; c++) {
        if (c)
            sj_buf_raw(out, ",", 1);
        sj_buf_str(out, obs_cols[c], strlen(obs_cols[c]));
        sj_buf_raw(out, ":", 1);
        if (c == 7) {
            int64_t v = 0;
            sj_buf_cstr(out, sj_i64(col[c], &v) && v ? "true" : "false");
        } else {
            sj_buf_val(out, col[c]);
        }
    }
    sj_buf_raw(out, "}", 1);
}

void obs_batch_emit(const char *text, size_t len, const obs_query *q, sj_buf *out, int *n)
{
    sj_doc *doc = sj_parse(text, len, NULL, NULL);
    sj_val *arr = sj_doc_root(doc);
    size_t count = sj_len(arr);
    sj_val **rows = sj_is_array(arr) && count ? malloc(count * sizeof(*rows)) : NULL;
    if (rows != NULL) {
        size_t i = 0;
        for (sj_val *e = sj_first(arr); e; e = sj_next(e))
            rows[i++] = e;
        while (i-- > 0 && *n < q->limit) {
            sj_val *col[OBS_NCOLS];
            size_t c = 0;
            for (sj_val *e = sj_is_array(rows[i]) && sj_len(rows[i]) == OBS_NCOLS ? sj_first(rows[i]) : NULL; e;
                 e = sj_next(e))
                col[c++] = e;
            if (c != OBS_NCOLS || !obs_row_matches(col, q))
                continue;
            if ((*n)++)
                sj_buf_raw(out, ",", 1);
            obs_row_json(col, out);
        }
    }
    free(rows);
    sj_doc_free(doc);
}

int obs_store_query(obs_store *s, const obs_query *q, sj_buf *out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, 1000) != SQLITE_OK ||
        sqlite3_prepare_v2(db, obs_query_sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "log store unavailable: %s", db ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    obs_query lq = *q;
    if (lq.limit <= 0 || lq.limit > OBS_QUERY_MAX_LIMIT)
        lq.limit = 100;
    sqlite3_bind_int64(st, 1, lq.since_ms);
    sj_buf_cstr(out, "{\"object\":\"list\",\"data\":[");
    int step, n = 0;
    while (n < lq.limit && (step = sqlite3_step(st)) == SQLITE_ROW)
        obs_batch_emit((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), &lq, out, &n);
    if (n < lq.limit && step != SQLITE_DONE) {
        snprintf(err, errlen, "log store query failed: %s", sqlite3_errmsg(db));
        goto done;
    }
    sj_buf_cstr(out, "]}");
    rc = out->oom ? -1 : 0;
    if (out->oom)
        snprintf(err, errlen, "out of memory");
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
