/*
 * mock_server.c - connections of one worker: reading, HTTP/1.1 keep-alive and
 * pipelining, executing replies over time (latency, chunk delays, drip) and
 * the ways a connection ends (close, RST, stall).
 *
 * Hot path (keep-alive, small requests): a read lands in the worker's read
 * buffer, every complete request in it is answered into the connection's
 * output buffer, and the whole batch goes out with one uv_try_write. Only the
 * bytes of an incomplete request are copied into the connection, and only an
 * unsent remainder waits in a uv_write, so an idle connection owns no buffer
 * beyond small reusable ones.
 *
 * A connection runs one reply at a time; while it runs (waiting for a timer or
 * for the socket to drain), pipelined requests stay buffered, in order.
 */
#include "mockllm/mock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stop reading when this much unprocessed input piles up behind a reply. */
#define MAX_BACKLOG (256 * 1024)
/* Flush composed output (and wait for the socket) past this size. */
#define OUT_HIGH (64 * 1024)
/* A mid-stream RST comes at least this long after the last chunk, so that the
 * client has read the chunks before its connection is reset. */
#define RESET_GRACE_MS 10
/* After a graceful close, how long to wait for the client's EOF. */
#define LINGER_MS 2000

struct mock_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    mock_worker *w;
    mock_conn *prev, *next; /* the worker's list */
    int handles_open;       /* tcp + timer; freed at 0 */
    bool closing;
    bool wpending;          /* wreq in flight, carrying wbuf */
    bool reading;
    bool in_process;        /* inside process(): no re-entry */
    bool stalled;           /* never answer again */
    bool sent_continue;     /* 100 Continue sent for the current request */
    bool end_pending;       /* the reply ended; its end action waits for the write */
    mock_end end;
    size_t need;            /* bytes needed before re-parsing (0: unknown) */
    sj_buf in;              /* unprocessed input (incomplete/pipelined requests) */
    sj_buf out;             /* composed, not yet handed to the kernel */
    sj_buf wbuf;            /* being written by wreq */
    mock_reply rep;
};

static void conn_close(mock_conn *c);
static void conn_drive(mock_conn *c);
static void conn_resume(mock_conn *c);

/* ---- lifetime ------------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *h) {
    mock_conn *c = h->data;
    if (--c->handles_open > 0) return;
    atomic_fetch_add_explicit(&c->w->stats.closed, 1, memory_order_relaxed);
    sj_buf_free(&c->in);
    sj_buf_free(&c->out);
    sj_buf_free(&c->wbuf);
    mock_reply_free(&c->rep);
    free(c);
}

static void conn_unlink(mock_conn *c) {
    if (c->prev) c->prev->next = c->next;
    else c->w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Closes the connection; with `reset`, with an RST instead of a FIN. */
static void conn_close_how(mock_conn *c, bool reset) {
    if (c->closing) return;
    c->closing = true;
    conn_unlink(c);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    if (reset && uv_tcp_close_reset(&c->tcp, on_handle_closed) == 0) return;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void conn_close(mock_conn *c) { conn_close_how(c, false); }

/* ---- writing ------------------------------------------------------------- */

static void on_write(uv_write_t *req, int status);

/* Hands c->out to the kernel: synchronously when the socket takes it all,
 * else the remainder goes into a uv_write (one at a time). */
static void conn_flush(mock_conn *c) {
    if (c->closing || c->wpending || c->out.len == 0) return;
    if (c->out.oom) {
        conn_close(c);
        return;
    }
    uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == UV_EAGAIN) n = 0;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if ((size_t)n == c->out.len) {
        c->out.len = 0;
        if (c->out.cap > OUT_HIGH * 4) sj_buf_free(&c->out);
        return;
    }
    /* Swap: the unsent bytes travel in wbuf; out is free for more. */
    sj_buf t = c->wbuf;
    c->wbuf = c->out;
    c->out = t;
    c->out.len = 0;
    uv_buf_t rest = uv_buf_init(c->wbuf.data + n, (unsigned)(c->wbuf.len - (size_t)n));
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &rest, 1, on_write) != 0) {
        conn_close(c);
        return;
    }
    c->wpending = true;
}

static void conn_apply_end(mock_conn *c);

static void on_write(uv_write_t *req, int status) {
    mock_conn *c = req->data;
    c->wpending = false;
    if (c->wbuf.cap > OUT_HIGH * 4) sj_buf_free(&c->wbuf);
    else c->wbuf.len = 0;
    if (c->closing) return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    conn_flush(c);
    if (c->wpending || c->closing) return;
    if (c->end_pending) conn_apply_end(c);
    else if (c->rep.active) conn_drive(c);
    else conn_resume(c);
}

/* ---- executing a reply --------------------------------------------------- */

static void on_timer(uv_timer_t *t) {
    mock_conn *c = t->data;
    conn_drive(c);
}

static void on_linger_timeout(uv_timer_t *t) { conn_close(t->data); }

static void wait_ms(mock_conn *c, unsigned ms) {
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* The reply ended: apply its end action once everything is written. */
static void reply_finish(mock_conn *c) {
    c->end = c->rep.end;
    mock_reply_reset(&c->rep);
    /* Inside process() a keep-alive reply just lets the loop go on: the
     * batch of pipelined responses is flushed once, at its end. */
    if (c->end == MOCK_END_KEEP && c->in_process) return;
    c->end_pending = true;
    conn_flush(c);
    if (!c->wpending && !c->closing) conn_apply_end(c);
}

static void conn_apply_end(mock_conn *c) {
    c->end_pending = false;
    switch (c->end) {
    case MOCK_END_KEEP:
        conn_resume(c);
        break;
    case MOCK_END_CLOSE:
        /* Half-close, then swallow what the client still sends until its
         * EOF (or a timeout): closing with unread input would send an RST
         * that can destroy the response in flight (e.g. a 413). */
        c->stalled = true;
        c->in.len = 0;
        c->sreq.data = c;
        if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, NULL) != 0) {
            conn_close(c);
            break;
        }
        uv_timer_start(&c->timer, on_linger_timeout, LINGER_MS, 0);
        conn_resume(c);
        break;
    case MOCK_END_RESET:
        conn_close_how(c, true);
        break;
    case MOCK_END_STALL:
        /* Keep reading (to see the client's EOF) but never answer. */
        c->stalled = true;
        c->in.len = 0;
        conn_resume(c);
        break;
    }
}

/* Advances the running reply as far as it can go without waiting. */
static void conn_drive(mock_conn *c) {
    mock_reply *r = &c->rep;
    while (r->active && !c->closing) {
        if (c->wpending) return; /* on_write calls back */
        if (uv_is_active((uv_handle_t *)&c->timer)) return; /* on_timer will */
        if (!r->latency_done) {
            r->latency_done = true;
            if (r->latency_ms) {
                wait_ms(c, r->latency_ms);
                return;
            }
        }
        if (!r->is_stream) {
            size_t end = r->fixed.len < r->cut_at ? r->fixed.len : r->cut_at;
            if (r->drip_from < end && r->off >= r->drip_from) {
                /* Drip: one body byte per tick. */
                if (r->off < end) sj_buf_raw(&c->out, r->fixed.data + r->off++, 1);
                conn_flush(c);
                if (r->off < end) {
                    wait_ms(c, MOCK_DRIP_MS);
                    return;
                }
            } else {
                size_t upto = r->drip_from < end ? r->drip_from : end;
                if (c->out.len == 0 && r->off == 0 && upto == r->fixed.len) {
                    /* The whole reply goes out as it is: hand the buffer
                     * over instead of copying (32 MiB for the huge fault). */
                    sj_buf t = c->out;
                    c->out = r->fixed;
                    r->fixed = t;
                } else {
                    sj_buf_raw(&c->out, r->fixed.data + r->off, upto - r->off);
                }
                r->off = upto;
                if (upto < end) { /* drip starts after the head */
                    conn_flush(c);
                    wait_ms(c, MOCK_DRIP_MS);
                    return;
                }
            }
            if (r->cut_at != SIZE_MAX && r->end == MOCK_END_RESET && !r->delay_done) {
                /* Let the client read the partial response before the RST. */
                r->delay_done = true;
                conn_flush(c);
                wait_ms(c, RESET_GRACE_MS);
                return;
            }
            reply_finish(c);
            return;
        }
        /* A stream: one step per pass, chunk delay between steps. */
        if (r->step > 0 && !r->delay_done) {
            unsigned d = r->chunk_delay_ms;
            if (mock_stream_at_fault(r) && r->end == MOCK_END_RESET && d < RESET_GRACE_MS)
                d = RESET_GRACE_MS;
            if (d) {
                r->delay_done = true;
                conn_flush(c);
                wait_ms(c, d);
                return;
            }
        }
        r->delay_done = false;
        mock_step_result sr = mock_stream_step(c->w, r, &c->out);
        if (sr != MOCK_STEP_MORE) {
            reply_finish(c);
            return;
        }
        if (c->out.len >= OUT_HIGH) {
            conn_flush(c);
            if (c->wpending) return;
        }
    }
}

/* ---- reading and parsing ------------------------------------------------- */

/* Answers a request that could not be parsed, then closes. */
static void reply_parse_error(mock_conn *c, int status, const char *why) {
    mock_reply *r = &c->rep;
    mock_reply_reset(r);
    r->active = true;
    r->end = MOCK_END_CLOSE;
    mock_error(r, MOCK_PROTO_OPENAI, status, "invalid_request_error", why);
    r->latency_done = true;
    conn_drive(c);
}

/* Answers the complete requests in data[0..len) in order, stopping when a
 * reply must wait. Returns the bytes consumed. */
static size_t process(mock_conn *c, const char *data, size_t len) {
    struct phr_header hdrs[MOCK_MAX_HEADERS];
    size_t off = 0;
    c->in_process = true;
    while (off < len && !c->rep.active && !c->closing && !c->stalled && !c->end_pending) {
        if (c->need && len - off < c->need) break;
        mock_req req;
        mock_parse_out po;
        mock_parse_result pr =
            mock_parse_request(data + off, len - off, &req, hdrs, &c->w->reqbody, &po);
        if (pr == MOCK_PARSE_MORE) {
            c->need = po.total;
            if (po.expect_continue && !c->sent_continue) {
                c->sent_continue = true;
                sj_buf_cstr(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
            }
            break;
        }
        if (pr == MOCK_PARSE_ERROR) {
            reply_parse_error(c, po.status, po.why);
            off = len;
            break;
        }
        off += po.total;
        c->need = 0;
        c->sent_continue = false;
        mock_reply *r = &c->rep;
        r->active = true;
        r->end = req.keep_alive ? MOCK_END_KEEP : MOCK_END_CLOSE;
        mock_route(c->w, &req, r);
        if (c->w->reqbody.cap > OUT_HIGH * 4) sj_buf_free(&c->w->reqbody);
        conn_drive(c);
    }
    c->in_process = false;
    conn_flush(c);
    return off;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    mock_conn *c = h->data;
    *buf = uv_buf_init(c->w->readbuf, sizeof c->w->readbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    mock_conn *c = s->data;
    if (nread < 0) { /* EOF or error: the client is gone (even mid-reply) */
        conn_close(c);
        return;
    }
    if (nread == 0 || c->closing) return;
    if (c->stalled) return; /* a stalled connection swallows everything */
    size_t n = (size_t)nread;
    if (c->in.len == 0 && !c->rep.active && !c->end_pending) {
        /* Fast path: parse straight from the read buffer. */
        size_t used = process(c, buf->base, n);
        if (used < n && !c->closing && !c->stalled) sj_buf_raw(&c->in, buf->base + used, n - used);
    } else {
        sj_buf_raw(&c->in, buf->base, n);
        conn_resume(c);
    }
    if (c->closing) return;
    if (c->in.oom) {
        conn_close(c);
        return;
    }
    /* Backpressure: a client that pipelines faster than we answer waits. */
    if (c->in.len > MAX_BACKLOG && c->rep.active && c->reading) {
        uv_read_stop(s);
        c->reading = false;
    }
}

/* Processes buffered input after a reply ended or more bytes arrived. */
static void conn_resume(mock_conn *c) {
    if (c->closing || c->in_process) return;
    if (!c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
            conn_close(c);
            return;
        }
        c->reading = true;
    }
    if (c->stalled) {
        c->in.len = 0;
        return;
    }
    if (c->in.len == 0 || c->rep.active || c->end_pending) return;
    size_t used = process(c, c->in.data, c->in.len);
    if (c->closing) return;
    if (c->stalled) used = c->in.len;
    memmove(c->in.data, c->in.data + used, c->in.len - used);
    c->in.len -= used;
    if (c->in.len == 0 && c->in.cap > OUT_HIGH * 4) sj_buf_free(&c->in);
}

/* ---- accepting ----------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status) {
    mock_worker *w = server->data;
    if (status < 0 || w->stopping) return;
    mock_conn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->w = w;
    mock_reply_reset(&c->rep);
    uv_tcp_init(&w->loop, &c->tcp);
    uv_timer_init(&w->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    atomic_fetch_add_explicit(&w->stats.accepted, 1, memory_order_relaxed);
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    conn_resume(c);
}

static void on_stop(uv_async_t *a) {
    mock_worker *w = a->data;
    w->stopping = true;
    uv_close((uv_handle_t *)&w->listener, NULL);
    while (w->conns) conn_close(w->conns);
    uv_close((uv_handle_t *)&w->stop, NULL);
}

int mock_worker_init(mock_worker *w) {
    int rc = uv_loop_init(&w->loop);
    if (rc != 0) return rc;
    uv_tcp_init(&w->loop, &w->listener);
    w->listener.data = w;
    rc = uv_async_init(&w->loop, &w->stop, on_stop);
    w->stop.data = w;
    if (rc == 0) rc = uv_tcp_open(&w->listener, w->listen_fd);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&w->listener, 4096, on_connection);
    return rc;
}

void *mock_worker_main(void *arg) {
    mock_worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return NULL;
}
