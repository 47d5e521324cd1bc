/*
 * log.c - structured JSON log lines (see log.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "obs/log.h"

static atomic_int obs_log_fd = 2;
static atomic_int obs_log_level = OBS_INFO;

int obs_level_parse(const char *s, obs_level *out)
{
    static const struct { const char *name; obs_level l; } t[] = {
        {"debug", OBS_DEBUG}, {"info", OBS_INFO}, {"warn", OBS_WARN}, {"warning", OBS_WARN}, {"error", OBS_ERROR}};
    for (size_t i = 0; s != NULL && i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(s, t[i].name) == 0) {
            *out = t[i].l;
            return 0;
        }
    return -1;
}

const char *obs_level_name(obs_level l)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    return l >= OBS_DEBUG && l <= OBS_ERROR ? names[l] : "info";
}

int obs_log_open(obs_level level, const char *path, char *err, size_t errlen)
{
    int fd = 2;
    if (path != NULL && *path) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open log file %s: %s", path, strerror(errno));
            return -1;
        }
    }
    int old = atomic_exchange(&obs_log_fd, fd);
    if (old > 2)
        close(old);
    atomic_store(&obs_log_level, (int)level);
    return 0;
}

void obs_log_close(void)
{
    int old = atomic_exchange(&obs_log_fd, 2);
    if (old > 2)
        close(old);
}

bool obs_log_enabled(obs_level l)
{
    return (int)l >= atomic_load_explicit(&obs_log_level, memory_order_relaxed);
}

/* Starts a line: {"ts":"2026-01-02T03:04:05.678Z","level":"info","type":TYPE */
static void obs_line_start(sj_buf *b, obs_level l, const char *type)
{
    struct timespec ts;
    struct tm tm;
    char when[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    sj_buf_cstr(b, "{\"ts\":\"");
    sj_buf_cstr(b, when);
    sj_buf_cstr(b, "\",\"level\":\"");
    sj_buf_cstr(b, obs_level_name(l));
    sj_buf_cstr(b, "\",\"type\":\"");
    sj_buf_cstr(b, type);
    sj_buf_raw(b, "\"", 1);
}

/* Ends the line and writes it in one write(2); the buffer is freed. */
static void obs_line_emit(sj_buf *b)
{
    sj_buf_raw(b, "}\n", 2);
    if (!b->oom) {
        ssize_t w = write(atomic_load_explicit(&obs_log_fd, memory_order_relaxed), b->data, b->len);
        (void)w;   /* nowhere to report a failing log */
    }
    sj_buf_free(b);
}

static void obs_field_str(sj_buf *b, const char *key, const char *v)
{
    sj_buf_raw(b, ",\"", 2);
    sj_buf_cstr(b, key);
    sj_buf_raw(b, "\":", 2);
    sj_buf_str(b, v, strlen(v));
}

static void obs_field_i64(sj_buf *b, const char *key, int64_t v)
{
    sj_buf_raw(b, ",\"", 2);
    sj_buf_cstr(b, key);
    sj_buf_raw(b, "\":", 2);
    if (v < 0)
        sj_buf_cstr(b, "null");
    else
        sj_buf_i64(b, v);
}

static void obs_field_ms(sj_buf *b, const char *key, double v)
{
    char num[40];
    snprintf(num, sizeof(num), "%.3f", v);
    sj_buf_raw(b, ",\"", 2);
    sj_buf_cstr(b, key);
    sj_buf_raw(b, "\":", 2);
    sj_buf_cstr(b, v < 0 ? "null" : num);
}

void obs_log_request(const obs_record *r)
{
    obs_level l = r->status >= 500 ? OBS_WARN : OBS_INFO;
    if (!obs_log_enabled(l))
        return;
    sj_buf b = {0};
    obs_line_start(&b, l, "request");
    obs_field_str(&b, "request_id", r->request_id);
    obs_field_str(&b, "method", r->method);
    obs_field_str(&b, "path", r->path);
    obs_field_str(&b, "provider", r->provider);
    obs_field_str(&b, "model", r->model);
    obs_field_i64(&b, "status", r->status);
    sj_buf_cstr(&b, r->stream ? ",\"stream\":true" : ",\"stream\":false");
    obs_field_ms(&b, "total_ms", r->total_ms);
    obs_field_ms(&b, "upstream_ms", r->upstream_ms);
    obs_field_ms(&b, "ttft_ms", r->ttft_ms);
    obs_field_i64(&b, "prompt_tokens", r->prompt_tokens);
    obs_field_i64(&b, "completion_tokens", r->completion_tokens);
    obs_field_i64(&b, "retries", r->retries);
    obs_field_str(&b, "fallback", r->fallback);
    obs_field_str(&b, "error", r->error);
    obs_field_i64(&b, "plugin_errors", r->plugin_errors);
    obs_line_emit(&b);
}

void obs_log_plugin(const char *plugin, obs_level l, const char *line, size_t len)
{
    if (!obs_log_enabled(l))
        return;
    if (len > 4096)
        len = 4096;   /* a plugin must not flood one line */
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    sj_buf b = {0};
    obs_line_start(&b, l, "plugin");
    obs_field_str(&b, "plugin", plugin ? plugin : "");
    sj_buf_cstr(&b, ",\"msg\":");
    sj_buf_str(&b, line, len);
    obs_line_emit(&b);
}

void obs_logf(obs_level l, const char *event, const char *fmt, ...)
{
    if (!obs_log_enabled(l))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sj_buf b = {0};
    obs_line_start(&b, l, "event");
    obs_field_str(&b, "event", event);
    obs_field_str(&b, "msg", msg);
    obs_line_emit(&b);
}
