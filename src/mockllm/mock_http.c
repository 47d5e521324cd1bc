/*
 * mock_http.c - HTTP/1.1 request parsing (picohttpparser for the head, our
 * own chunked-body decoder) and response heads.
 *
 * Parsing is stateless: a connection calls mock_parse_request on its
 * buffered bytes until it returns OK; each call re-parses from the start,
 * which is cheap because the head is bounded and the caller skips calls until
 * `total` bytes are buffered once the body length is known.
 */
#include "mockllm/mock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool name_is(const struct phr_header *h, const char *name) {
    size_t n = strlen(name);
    return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

const char *mock_req_header(const mock_req *req, const char *name, size_t *len) {
    for (size_t i = 0; i < req->num_headers; i++) {
        if (req->headers[i].name && name_is(&req->headers[i], name)) {
            if (len) *len = req->headers[i].value_len;
            return req->headers[i].value;
        }
    }
    return NULL;
}

bool mock_req_is(const mock_req *req, const char *method, const char *path) {
    size_t ml = strlen(method), pl = strlen(path);
    return req->method_len == ml && memcmp(req->method, method, ml) == 0 &&
           req->path_len == pl && memcmp(req->path, path, pl) == 0;
}

/* Does the comma-separated header value contain `token` (case-insensitive)? */
static bool has_token(const char *v, size_t len, const char *token) {
    size_t tl = strlen(token), i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t start = i;
        while (i < len && v[i] != ',') i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t')) end--;
        if (end - start == tl && strncasecmp(v + start, token, tl) == 0) return true;
    }
    return false;
}

/* Strict decimal: digits only, no sign, no overflow past `max`. */
static bool parse_size(const char *s, size_t len, size_t max, size_t *out) {
    if (len == 0) return false;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        if (v > (max - (size_t)(s[i] - '0')) / 10) return false;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/*
 * Walks a chunked body at b[0..len). Returns 1 when complete (*used = bytes
 * of the encoded body, trailers included), 0 if more bytes are needed, -1 if
 * malformed, -2 if the decoded size exceeds `max`. When `dst` is non-NULL the
 * data is appended to it (second pass, after a complete first pass).
 */
static int chunked_walk(const char *b, size_t len, size_t max, size_t *used, sj_buf *dst) {
    size_t i = 0, total = 0;
    for (;;) {
        /* chunk-size [; extensions] CRLF */
        size_t size = 0;
        int digits = 0, h;
        while (i < len && (h = hexval(b[i])) >= 0) {
            if (++digits > 15) return -1; /* would overflow: hostile */
            size = size * 16 + (size_t)h;
            i++;
        }
        if (i == len) return 0;
        if (digits == 0) return -1;
        /* Skip extensions up to the line end (bounded by the line length). */
        size_t line_start = i;
        while (i < len && b[i] != '\n') {
            if (i - line_start > 1024) return -1;
            i++;
        }
        if (i == len) return 0;
        if (b[i - 1] != '\r') return -1;
        i++;
        if (size == 0) break;
        if (size > max || total > max - size) return -2;
        if (len - i < size + 2) return 0;
        if (b[i + size] != '\r' || b[i + size + 1] != '\n') return -1;
        if (dst) sj_buf_raw(dst, b + i, size);
        total += size;
        i += size + 2;
    }
    /* Trailer fields, then an empty line. */
    for (;;) {
        size_t line_start = i;
        while (i < len && b[i] != '\n') {
            if (i - line_start > MOCK_MAX_HEAD) return -1;
            i++;
        }
        if (i == len) return 0;
        i++;
        if (i - line_start == 2 && b[line_start] == '\r') break;
        if (i - line_start == 1) break; /* bare LF: tolerated */
    }
    *used = i;
    return 1;
}

static mock_parse_result fail(mock_parse_out *out, int status, const char *why) {
    out->status = status;
    out->why = why;
    return MOCK_PARSE_ERROR;
}

mock_parse_result mock_parse_request(const char *buf, size_t len, mock_req *req,
                                     struct phr_header *hdrs, sj_buf *chunk_body,
                                     mock_parse_out *out) {
    memset(out, 0, sizeof *out);
    memset(req, 0, sizeof *req);
    size_t nh = MOCK_MAX_HEADERS;
    int hl = phr_parse_request(buf, len, &req->method, &req->method_len, &req->target,
                               &req->target_len, &req->minor_version, hdrs, &nh, 0);
    if (hl == -2) {
        if (len > MOCK_MAX_HEAD) return fail(out, 431, "request header section too large");
        return MOCK_PARSE_MORE;
    }
    if (hl < 0) return fail(out, 400, "malformed HTTP request");
    if ((size_t)hl > MOCK_MAX_HEAD) return fail(out, 431, "request header section too large");
    req->headers = hdrs;
    req->num_headers = nh;
    req->path = req->target;
    const char *q = memchr(req->target, '?', req->target_len);
    req->path_len = q ? (size_t)(q - req->target) : req->target_len;

    bool have_cl = false, chunked = false, close = false, keep = false, expect = false;
    size_t cl = 0;
    for (size_t i = 0; i < nh; i++) {
        const struct phr_header *h = &hdrs[i];
        if (!h->name) return fail(out, 400, "obsolete header line folding");
        if (name_is(h, "content-length")) {
            size_t v;
            if (!parse_size(h->value, h->value_len, SIZE_MAX / 2, &v))
                return fail(out, 400, "invalid Content-Length");
            if (have_cl && v != cl) return fail(out, 400, "conflicting Content-Length");
            have_cl = true;
            cl = v;
        } else if (name_is(h, "transfer-encoding")) {
            /* Only plain "chunked": codings like gzip are not worth a mock. */
            if (h->value_len != 7 || strncasecmp(h->value, "chunked", 7) != 0)
                return fail(out, 501, "unsupported Transfer-Encoding");
            chunked = true;
        } else if (name_is(h, "connection")) {
            close |= has_token(h->value, h->value_len, "close");
            keep |= has_token(h->value, h->value_len, "keep-alive");
        } else if (name_is(h, "expect")) {
            expect = has_token(h->value, h->value_len, "100-continue");
        }
    }
    if (have_cl && chunked)
        return fail(out, 400, "both Content-Length and Transfer-Encoding");
    req->keep_alive = req->minor_version >= 1 ? !close : (keep && !close);

    size_t head = (size_t)hl;
    if (chunked) {
        size_t used = 0;
        int rc = chunked_walk(buf + head, len - head, mock_cfg.max_body, &used, NULL);
        if (rc == -2) return fail(out, 413, "request body too large");
        if (rc < 0) return fail(out, 400, "malformed chunked request body");
        if (rc == 0) {
            out->head_done = true;
            out->expect_continue = expect;
            return MOCK_PARSE_MORE;
        }
        chunk_body->len = 0;
        chunked_walk(buf + head, len - head, mock_cfg.max_body, &used, chunk_body);
        if (chunk_body->oom) return fail(out, 500, "out of memory");
        req->body = chunk_body->data ? chunk_body->data : "";
        req->body_len = chunk_body->len;
        out->total = head + used;
        return MOCK_PARSE_OK;
    }
    if (cl > mock_cfg.max_body) return fail(out, 413, "request body too large");
    out->total = head + cl;
    if (len < out->total) {
        out->head_done = true;
        out->expect_continue = expect;
        return MOCK_PARSE_MORE;
    }
    req->body = buf + head;
    req->body_len = cl;
    return MOCK_PARSE_OK;
}

/* ---- responses ----------------------------------------------------------- */

static const char *reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

void mock_http_head(sj_buf *out, int status, const char *ctype, const char *extra,
                    long long content_len, bool chunked, bool close) {
    char line[64];
    snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status, reason(status));
    sj_buf_cstr(out, line);
    sj_buf_cstr(out, "Server: sluice-mockllm\r\nContent-Type: ");
    sj_buf_cstr(out, ctype);
    sj_buf_raw(out, "\r\n", 2);
    if (content_len >= 0) {
        sj_buf_cstr(out, "Content-Length: ");
        sj_buf_i64(out, content_len);
        sj_buf_raw(out, "\r\n", 2);
    } else if (chunked) {
        sj_buf_cstr(out, "Transfer-Encoding: chunked\r\n");
    }
    if (close) sj_buf_cstr(out, "Connection: close\r\n");
    if (extra) sj_buf_cstr(out, extra);
    sj_buf_raw(out, "\r\n", 2);
}

void mock_reply_fixed(mock_reply *r, int status, const char *ctype, const char *extra,
                      const char *body, size_t body_len) {
    r->is_stream = false;
    r->fixed.len = 0;
    r->off = 0;
    mock_http_head(&r->fixed, status, ctype, extra, (long long)body_len, false,
                   r->end == MOCK_END_CLOSE);
    sj_buf_raw(&r->fixed, body, body_len);
}

/* Buffers above this are released after the reply instead of kept for reuse. */
#define KEEP_CAP (64 * 1024)

static void buf_trim(sj_buf *b) {
    if (b->cap > KEEP_CAP) sj_buf_free(b);
    else b->len = 0;
    b->oom = false;
}

void mock_reply_reset(mock_reply *r) {
    free(r->st.content.text);
    buf_trim(&r->fixed);
    buf_trim(&r->st.prefix);
    buf_trim(&r->st.model_json);
    buf_trim(&r->st.tool_json);
    sj_buf fixed = r->fixed, prefix = r->st.prefix, model = r->st.model_json;
    sj_buf tool = r->st.tool_json;
    memset(r, 0, sizeof *r);
    r->fixed = fixed;
    r->st.prefix = prefix;
    r->st.model_json = model;
    r->st.tool_json = tool;
    r->drip_from = SIZE_MAX;
    r->cut_at = SIZE_MAX;
    r->stop_after = SIZE_MAX;
}

void mock_reply_free(mock_reply *r) {
    mock_reply_reset(r);
    sj_buf_free(&r->fixed);
    sj_buf_free(&r->st.prefix);
    sj_buf_free(&r->st.model_json);
    sj_buf_free(&r->st.tool_json);
}
