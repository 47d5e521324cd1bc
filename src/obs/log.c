/*
 * log.c - structured JSON log lines (see log.h).
 *
 * The cost of one write(2) per request line was measured at 20-40% of the
 * gateway's throughput at 64 connections, so lines go through two stages:
 *
 *  1. Each worker thread appends its lines to its own buffer (no lock, no
 *     syscall). The buffer is handed over when the next line would not fit
 *     (OBS_LOG_BUF_BYTES), when the worker's loop ticks (every
 *     OBS_LOG_FLUSH_MS, from src/http/server.c), and when the worker stops.
 *  2. Handed-over buffers are queued for one writer thread, which writes each
 *     with one write(2). The queue is a lock-free stack and the writer sleeps
 *     on a semaphore, so a worker never waits for a lock the writer (or
 *     another worker) holds: on a busy 2-core machine a lock holder that is
 *     preempted stalls every waiter for a scheduler slice (milliseconds,
 *     seen as 1-6 ms waits under perf trace at 5,000 req/s).
 *     The queue is bounded (OBS_LOG_QUEUE_BYTES): when the
 *     destination is slower than the traffic (a full pipe, a stuck disk), a
 *     buffer that does not fit is dropped and its lines are counted
 *     (sluice_log_lines_dropped_total): traffic never waits for the log.
 *
 * Threads that never called obs_log_thread_start() (the main thread, the log
 * store's writer) queue each line on its own; before obs_log_open() and after
 * obs_log_close() a line is written directly. Only the writer thread writes
 * to the destination while it runs, so lines never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "obs/log.h"
#include "obs/put.h"

#define OBS_LOG_BUF_BYTES (64u * 1024)
#define OBS_LOG_QUEUE_BYTES (8u * 1024 * 1024)
#define OBS_LOG_CLOSE_WAIT_S 5   /* at exit, how long a stuck destination may hold us */

static atomic_int obs_log_fd = 2;
static atomic_int obs_log_level = OBS_INFO;

/* A run of whole lines, handed from a worker to the writer. */
typedef struct obs_log_chunk {
    struct obs_log_chunk *next;
    size_t len, cap;
    uint64_t lines;
    char data[];
} obs_log_chunk;

/* A worker thread's state: the chunk it fills and its line scratch buffer.
 * Owned by the registry below; touched only by its thread (and by
 * obs_log_close once the workers have stopped). */
typedef struct obs_log_thread {
    struct obs_log_thread *next;
    obs_log_chunk *cur;
    sj_buf line;
    sj_buf row;   /* obs_log_scratch */
} obs_log_thread;

static struct {
    pthread_mutex_t mu;         /* the registry, start/stop, and `idle` */
    pthread_cond_t idle;        /* -> waiters: the queue emptied, or the writer ended */
    _Atomic(obs_log_chunk *) pending;  /* pushed by workers, newest first */
    atomic_size_t queued;       /* bytes queued or being written */
    atomic_int enqueuing;       /* workers between the `running` check and the push */
    sem_t wake;                 /* -> writer: chunks queued, or stop */
    bool wake_ready;            /* sem_init done */
    atomic_bool sleeping;       /* the writer is (about to be) in sem_wait */
    atomic_bool running;        /* the writer thread runs */
    atomic_bool stop;
    bool ended;
    pthread_t thread;
    obs_log_thread *threads;    /* every registered worker */
    obs_series *dropped_counter;
    _Atomic uint64_t dropped;   /* lines */
    atomic_uint gen;            /* bumped by obs_log_close: older thread states are gone */
} L = {.mu = PTHREAD_MUTEX_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER};

static _Thread_local obs_log_thread *obs_tl;
static _Thread_local unsigned obs_tl_gen;

/* This thread's state, if it registered since the last close. */
static obs_log_thread *obs_log_me(void)
{
    if (obs_tl != NULL && obs_tl_gen != atomic_load_explicit(&L.gen, memory_order_acquire))
        obs_tl = NULL;   /* freed by obs_log_close: never dereferenced */
    return obs_tl;
}

static void obs_log_drop(uint64_t lines)
{
    atomic_fetch_add_explicit(&L.dropped, lines, memory_order_relaxed);
    if (L.dropped_counter != NULL)
        obs_counter_add(L.dropped_counter, lines);
}

/* write(2) all of it; false on an error (the lines are lost). */
static bool obs_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Takes every pending chunk, oldest first (the stack is newest first).
 * Returns a list the caller owns. */
static obs_log_chunk *obs_log_take(void)
{
    obs_log_chunk *c = atomic_exchange(&L.pending, NULL), *fifo = NULL;
    while (c != NULL) {
        obs_log_chunk *next = c->next;
        c->next = fifo;
        fifo = c;
        c = next;
    }
    return fifo;
}

/* Writes and frees a list from obs_log_take(); returns the bytes it held. */
static size_t obs_log_write_list(obs_log_chunk *c)
{
    size_t done = 0;
    while (c != NULL) {
        obs_log_chunk *next = c->next;
        if (!obs_write_all(atomic_load(&obs_log_fd), c->data, c->len))
            obs_log_drop(c->lines);
        done += c->len;
        free(c);
        c = next;
    }
    return done;
}

static void *obs_log_writer(void *arg)
{
    (void)arg;
    for (;;) {
        obs_log_chunk *c = obs_log_take();
        if (c == NULL) {
            if (atomic_load(&L.stop))
                break;
            /* Announce the sleep, then look again: a worker that pushed
             * before seeing `sleeping` is caught by the second look, one
             * that pushed after it posts the semaphore. */
            atomic_store(&L.sleeping, true);
            if (atomic_load(&L.pending) == NULL && !atomic_load(&L.stop))
                while (sem_wait(&L.wake) != 0 && errno == EINTR)
                    ;
            atomic_store(&L.sleeping, false);
            continue;
        }
        size_t done = obs_log_write_list(c);
        if (atomic_fetch_sub(&L.queued, done) == done) {
            pthread_mutex_lock(&L.mu);   /* a waiter checks `queued` under mu */
            pthread_cond_broadcast(&L.idle);
            pthread_mutex_unlock(&L.mu);
        }
    }
    pthread_mutex_lock(&L.mu);
    L.ended = true;
    pthread_cond_broadcast(&L.idle);
    pthread_mutex_unlock(&L.mu);
    return NULL;
}

/* Queues c for the writer (taking it) without ever blocking, or drops it
 * when the queue is full. With no writer running it is written here. */
static void obs_log_enqueue(obs_log_chunk *c)
{
    atomic_fetch_add(&L.enqueuing, 1);
    if (!atomic_load(&L.running)) {
        atomic_fetch_sub(&L.enqueuing, 1);
        c->next = NULL;
        obs_log_write_list(c);
        return;
    }
    if (atomic_fetch_add(&L.queued, c->len) + c->len > OBS_LOG_QUEUE_BYTES) {
        atomic_fetch_sub(&L.queued, c->len);
        atomic_fetch_sub(&L.enqueuing, 1);
        obs_log_drop(c->lines);
        free(c);
        return;
    }
    c->next = atomic_load(&L.pending);
    while (!atomic_compare_exchange_weak(&L.pending, &c->next, c))
        ;
    atomic_fetch_sub(&L.enqueuing, 1);
    if (atomic_exchange(&L.sleeping, false))
        sem_post(&L.wake);
}

static obs_log_chunk *obs_log_chunk_new(size_t cap)
{
    obs_log_chunk *c = malloc(sizeof(*c) + cap);
    if (c != NULL) {
        c->next = NULL;
        c->len = 0;
        c->cap = cap;
        c->lines = 0;
    }
    return c;
}

/* One finished line (or several, `lines` of them) from the calling thread. */
static void obs_log_put(const char *p, size_t n, uint64_t lines)
{
    obs_log_thread *t = obs_log_me();
    if (!atomic_load_explicit(&L.running, memory_order_relaxed)) {
        if (!obs_write_all(atomic_load_explicit(&obs_log_fd, memory_order_relaxed), p, n))
            obs_log_drop(lines);
        return;
    }
    if (t != NULL && t->cur != NULL && t->cur->len + n > t->cur->cap)
        obs_log_thread_flush();
    if (t == NULL || n > OBS_LOG_BUF_BYTES) {
        obs_log_chunk *c = obs_log_chunk_new(n);   /* a line on its own */
        if (c == NULL) {
            obs_log_drop(lines);
            return;
        }
        memcpy(c->data, p, n);
        c->len = n;
        c->lines = lines;
        obs_log_enqueue(c);
        return;
    }
    if (t->cur == NULL && (t->cur = obs_log_chunk_new(OBS_LOG_BUF_BYTES)) == NULL) {
        obs_log_drop(lines);
        return;
    }
    memcpy(t->cur->data + t->cur->len, p, n);
    t->cur->len += n;
    t->cur->lines += lines;
}

void obs_log_thread_start(void)
{
    if (obs_log_me() != NULL)
        return;
    obs_log_thread *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return;   /* this thread's lines are queued one by one */
    pthread_mutex_lock(&L.mu);
    t->next = L.threads;
    L.threads = t;
    obs_tl_gen = atomic_load(&L.gen);
    pthread_mutex_unlock(&L.mu);
    obs_tl = t;
}

void obs_log_thread_flush(void)
{
    obs_log_thread *t = obs_log_me();
    if (t == NULL || t->cur == NULL || t->cur->len == 0)
        return;
    obs_log_chunk *c = t->cur;
    t->cur = NULL;
    obs_log_enqueue(c);
}

void obs_log_sync(void)
{
    obs_log_thread_flush();
    pthread_mutex_lock(&L.mu);
    while (L.running && L.queued > 0 && !L.ended)
        pthread_cond_wait(&L.idle, &L.mu);
    pthread_mutex_unlock(&L.mu);
}

uint64_t obs_log_dropped(void)
{
    return atomic_load(&L.dropped);
}

void obs_log_count_drops(obs_series *s)
{
    L.dropped_counter = s;
}

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
    obs_log_sync();   /* what was queued goes to the old destination */
    int old = atomic_exchange(&obs_log_fd, fd);
    if (old > 2)
        close(old);
    atomic_store(&obs_log_level, (int)level);
    pthread_mutex_lock(&L.mu);
    if (!L.wake_ready)
        L.wake_ready = sem_init(&L.wake, 0, 0) == 0;
    if (!L.running && L.wake_ready) {
        atomic_store(&L.stop, false);
        L.ended = false;
        if (pthread_create(&L.thread, NULL, obs_log_writer, NULL) == 0) {
            pthread_setname_np(L.thread, "sluice-log");   /* for top -H, perf, /proc/PID/task */
            atomic_store(&L.running, true);
        }   /* else every line is written directly */
    }
    pthread_mutex_unlock(&L.mu);
    return 0;
}

void obs_log_close(void)
{
    pthread_mutex_lock(&L.mu);
    obs_log_thread *threads = L.threads;
    L.threads = NULL;
    pthread_mutex_unlock(&L.mu);
    /* The workers have stopped: hand over what their buffers still hold. */
    for (obs_log_thread *t = threads; t != NULL; t = t->next)
        if (t->cur != NULL) {
            obs_log_chunk *c = t->cur;
            t->cur = NULL;
            if (c->len > 0)
                obs_log_enqueue(c);
            else
                free(c);
        }
    atomic_fetch_add(&L.gen, 1);
    pthread_mutex_lock(&L.mu);
    bool was_running = L.running;
    atomic_store(&L.stop, true);
    if (was_running)
        sem_post(&L.wake);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += OBS_LOG_CLOSE_WAIT_S;
    int rc = 0;
    while (was_running && !L.ended && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&L.idle, &L.mu, &until);
    bool ended = L.ended;
    atomic_store(&L.running, false);
    pthread_mutex_unlock(&L.mu);
    if (was_running && ended) {
        pthread_join(L.thread, NULL);
        /* A line queued while the writer was finishing: from here on every
         * enqueue writes directly, so once none is mid-push, write the rest. */
        while (atomic_load(&L.enqueuing) > 0)
            sched_yield();
        size_t rest = obs_log_write_list(obs_log_take());
        atomic_fetch_sub(&L.queued, rest);
    } else if (was_running) {
        /* The destination blocks: leave the writer to it rather than hang
         * the exit; it owns the chunks it still holds. */
        fprintf(stderr, "sluice: log destination blocked, %zu bytes of log lines abandoned\n",
                atomic_load(&L.queued));
        pthread_detach(L.thread);
    }
    while (threads != NULL) {
        obs_log_thread *next = threads->next;
        sj_buf_free(&threads->line);
        sj_buf_free(&threads->row);
        free(threads);
        threads = next;
    }
    if (ended || !was_running) {
        int old = atomic_exchange(&obs_log_fd, 2);
        if (old > 2)
            close(old);
    }
}

bool obs_log_enabled(obs_level l)
{
    return (int)l >= atomic_load_explicit(&obs_log_level, memory_order_relaxed);
}

/* Starts a line: {"ts":"2026-01-02T03:04:05.678Z","level":"info","type":TYPE
 * Its first 26 bytes, up to the second, are formatted once per second per
 * thread; the rest is copied (strftime and one append per piece cost more
 * than the rest of a request's line). */
static void obs_line_start(sj_buf *b, obs_level l, const char *type)
{
    static _Thread_local time_t last_sec = -1;
    static _Thread_local char head[48];   /* {"ts":"2026-01-02T03:04:05 */
    static _Thread_local size_t head_len;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != last_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        head_len = strftime(head, sizeof(head), "{\"ts\":\"%Y-%m-%dT%H:%M:%S", &tm);
        if (head_len == 0)   /* a year beyond 9999: keep the line valid JSON */
            head_len = (size_t)(OBS_PUT_LIT(head, "{\"ts\":\"9999-12-31T23:59:59") - head);
        last_sec = ts.tv_sec;
    }
    const char *level = obs_level_name(l);
    size_t level_len = strlen(level), type_len = strlen(type);
    if (!sj_buf_reserve(b, head_len + level_len + type_len + 32))
        return;   /* b->oom is set: the line is dropped at emit */
    char *p = b->data + b->len;
    memcpy(p, head, head_len);
    p += head_len;
    int ms = (int)(ts.tv_nsec / 1000000);
    p[0] = '.';
    p[1] = (char)('0' + ms / 100);
    p[2] = (char)('0' + ms / 10 % 10);
    p[3] = (char)('0' + ms % 10);
    p = OBS_PUT_LIT(p + 4, "Z\",\"level\":\"");
    memcpy(p, level, level_len);
    p = OBS_PUT_LIT(p + level_len, "\",\"type\":\"");
    memcpy(p, type, type_len);
    p += type_len;
    *p++ = '"';
    b->len = (size_t)(p - b->data);
}

/* Ends the line and hands it over (see the top of the file); the buffer is
 * freed, or kept for the next line when it is the thread's scratch buffer. */
static void obs_line_emit(sj_buf *b)
{
    sj_buf_raw(b, "}\n", 2);
    if (!b->oom)
        obs_log_put(b->data, b->len, 1);
    else
        obs_log_drop(1);
    obs_log_thread *t = obs_log_me();
    if (t != NULL && b == &t->line)
        b->len = 0;
    else
        sj_buf_free(b);
}

/* A buffer to build a line in: the thread's scratch buffer (no allocation
 * per line) or a fresh one. */
static sj_buf *obs_line_buf(sj_buf *fresh)
{
    obs_log_thread *t = obs_log_me();
    if (t == NULL)
        return fresh;
    t->line.len = 0;
    t->line.oom = false;
    return &t->line;
}

static void obs_field_str(sj_buf *b, const char *key, const char *v)
{
    sj_buf_raw(b, ",\"", 2);
    sj_buf_cstr(b, key);
    sj_buf_raw(b, "\":", 2);
    sj_buf_str(b, v, strlen(v));
}

/* ---- the request line ----------------------------------------------------
 *
 * Made of the request's store row (obs_row_build, put.c), which holds every
 * value already written as JSON: the line puts its keys around them. Built
 * with a plain output pointer into space reserved once (the values' lengths
 * plus the keys), so nothing below checks bounds; an appender call per piece
 * cost twice as much (docs/observability.md). */

/* A request's line is a warning when the gateway answered 5xx. */
static obs_level obs_request_level(const obs_record *r)
{
    return r->status >= 500 ? OBS_WARN : OBS_INFO;
}

bool obs_log_request_wanted(const obs_record *r)
{
    return obs_log_enabled(obs_request_level(r));
}

void obs_log_request_row(const obs_record *r, const char *row, const obs_row_spans *sp)
{
    /* The keys of the row's values (put.h), in their order, each padded to
     * a fixed 24 bytes so that it is copied with a few moves, not a call. */
#define OBS_KEY(k) {",\"" k "\":", sizeof(",\"" k "\":") - 1}
    static const struct {
        char text[24];
        size_t len;
    } keys[OBS_ROW_VALUES] = {OBS_KEY("request_id"),    OBS_KEY("method"),        OBS_KEY("path"),
                              OBS_KEY("provider"),      OBS_KEY("model"),         OBS_KEY("status"),
                              OBS_KEY("stream"),        OBS_KEY("total_ms"),      OBS_KEY("upstream_ms"),
                              OBS_KEY("ttft_ms"),       OBS_KEY("prompt_tokens"), OBS_KEY("completion_tokens"),
                              OBS_KEY("retries"),       OBS_KEY("fallback"),      OBS_KEY("error"),
                              OBS_KEY("plugin_errors")};
#undef OBS_KEY
    obs_level l = obs_request_level(r);
    if (!obs_log_enabled(l))
        return;
    if (row == NULL) {
        obs_log_drop(1);   /* the row could not be built (out of memory) */
        return;
    }
    sj_buf fresh = {0}, *b = obs_line_buf(&fresh);
    obs_line_start(b, l, "request");
    size_t room = 512 + OBS_ROW_SLACK;   /* the keys, "false", the brace, the chunks' overshoot */
    for (int i = 0; i < OBS_ROW_VALUES; i++)
        room += sp->len[i];
    if (!sj_buf_reserve(b, room)) {
        obs_line_emit(b);   /* counts the drop (oom) */
        return;
    }
    char *p = b->data + b->len;
    for (int i = 0; i < OBS_ROW_VALUES; i++) {
        memcpy(p, keys[i].text, sizeof(keys[i].text));
        p += keys[i].len;
        if (i == OBS_ROW_STREAM) {
            p = r->stream ? OBS_PUT_LIT(p, "true") : OBS_PUT_LIT(p, "false");
            continue;
        }
        /* Most values are short: one fixed-size copy (the row has
         * OBS_ROW_SLACK bytes of room past its end, the line too). */
        if (sp->len[i] <= OBS_ROW_SLACK)
            memcpy(p, row + sp->at[i], OBS_ROW_SLACK);
        else
            memcpy(p, row + sp->at[i], sp->len[i]);
        p += sp->len[i];
    }
    b->len = (size_t)(p - b->data);
    obs_line_emit(b);
}

void obs_log_request(const obs_record *r)
{
    if (!obs_log_request_wanted(r))
        return;
    sj_buf row = {0};
    obs_row_spans sp;
    bool ok = obs_row_build(&row, r, &sp);
    obs_log_request_row(r, ok ? row.data : NULL, &sp);
    sj_buf_free(&row);
}

sj_buf *obs_log_scratch(sj_buf *fresh)
{
    obs_log_thread *t = obs_log_me();
    return t != NULL ? &t->row : fresh;
}

void obs_log_plugin(const char *plugin, obs_level l, const char *line, size_t len)
{
    if (!obs_log_enabled(l))
        return;
    if (len > 4096)
        len = 4096;   /* a plugin must not flood one line */
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    sj_buf fresh = {0}, *b = obs_line_buf(&fresh);
    obs_line_start(b, l, "plugin");
    obs_field_str(b, "plugin", plugin ? plugin : "");
    sj_buf_cstr(b, ",\"msg\":");
    sj_buf_str(b, line, len);
    obs_line_emit(b);
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
    sj_buf fresh = {0}, *b = obs_line_buf(&fresh);
    obs_line_start(b, l, "event");
    obs_field_str(b, "event", event);
    obs_field_str(b, "msg", msg);
    obs_line_emit(b);
}
