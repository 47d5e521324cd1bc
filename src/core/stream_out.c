/*
 * stream_out.c - the SSE response writer shared by the streaming endpoints
 * (see stream_out.h for the protocol with h2o and the producer).
 */
#include "core/stream_out.h"

#include <string.h>

#include "obs/obs.h"

/* The writers of this thread waiting to be written. Each worker thread owns
 * one loop, so one pair of handles per thread, unreferenced (they never keep
 * the loop alive) and only started while writers wait: the check handle
 * writes what the I/O callbacks of this iteration queued; the prepare handle
 * what timers and deferred callbacks queued (a resumed upstream, an idle
 * timeout's error event), before the loop blocks in poll: a check handle
 * alone does not stop the poll from blocking. */
static _Thread_local struct {
    uv_check_t check;
    uv_prepare_t prepare;
    uv_loop_t *loop; /* the loop the handles were initialised on, NULL before */
    so_writer *head;
} so_batch;

static void so_unqueue(so_writer *w)
{
    if (!w->queued)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        so_batch.head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->next = w->prev = NULL;
    w->queued = false;
}

static void so_send(so_writer *w);

static void so_drain(void)
{
    /* Pop one at a time: a send may end another writer's request. */
    while (so_batch.head) {
        so_writer *w = so_batch.head;
        so_unqueue(w);
        so_send(w);
    }
    uv_check_stop(&so_batch.check);
    uv_prepare_stop(&so_batch.prepare);
}

static void so_on_check(uv_check_t *c)
{
    (void)c;
    so_drain();
}

static void so_on_prepare(uv_prepare_t *p)
{
    (void)p;
    so_drain();
}

/* Queues w for the check phase; false if that is not possible (a loop other
 * than the one this thread's handle serves), and the caller sends now. */
static bool so_queue(so_writer *w)
{
    uv_loop_t *loop = &w->sr->worker->loop;
    if (so_batch.loop == NULL) {
        /* Both inits only record the loop: they cannot fail. */
        uv_check_init(loop, &so_batch.check);
        uv_prepare_init(loop, &so_batch.prepare);
        uv_unref((uv_handle_t *)&so_batch.check);
        uv_unref((uv_handle_t *)&so_batch.prepare);
        so_batch.loop = loop;
    }
    if (so_batch.loop != loop)
        return false;
    if (w->queued)
        return true;
    if (so_batch.head == NULL) {
        uv_check_start(&so_batch.check, so_on_check);
        uv_prepare_start(&so_batch.prepare, so_on_prepare);
    }
    w->next = so_batch.head;
    if (w->next)
        w->next->prev = w;
    so_batch.head = w;
    w->queued = true;
    return true;
}

void so_init(so_writer *w, srv_request *sr, const so_hooks *hooks, void *ud)
{
    memset(w, 0, sizeof(*w));
    w->sr = sr;
    w->hooks = hooks;
    w->ud = ud;
}

void so_free(so_writer *w)
{
    so_unqueue(w);
    if (w->started)
        obs_stream_closed();
    w->started = false;
    sj_buf_free(&w->pending);
    sj_buf_free(&w->inflight);
}

static void so_on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    so_writer *w = H2O_STRUCT_FROM_MEMBER(so_writer, gen, gen);
    w->sending = false;
    w->inflight.len = 0;
    if (w->paused && !w->ended && w->pending.len < SO_RESUME_BYTES) {
        w->paused = false;
        w->hooks->resume(w->ud);
    }
    /* Not queued: what accumulated while h2o wrote goes out now. */
    so_unqueue(w);
    so_send(w);
}

static void so_on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    so_writer *w = H2O_STRUCT_FROM_MEMBER(so_writer, gen, gen);
    w->stopped = true;
    w->hooks->stop(w->ud);
}

static void so_start(so_writer *w)
{
    h2o_req_t *req = w->sr->req;
    w->started = true;
    obs_stream_opened();
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/event-stream"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    w->gen.proceed = so_on_proceed;
    w->gen.stop = so_on_stop;
    h2o_start_response(req, &w->gen);
}

void so_flush(so_writer *w)
{
    if (w->final_sent || w->stopped)
        return;
    if (!w->paused && !w->ended && w->pending.len > SO_PAUSE_BYTES) {
        w->paused = true;
        w->hooks->pause(w->ud);
    }
    if (!w->started)
        so_start(w);
    if (w->sending || (w->pending.len == 0 && !w->ended))
        return;
    if (!so_queue(w))
        so_send(w);
}

/* Hands what is pending to h2o if no write is outstanding. */
static void so_send(so_writer *w)
{
    if (w->final_sent || w->stopped || w->sending || (w->pending.len == 0 && !w->ended))
        return;
    sj_buf tmp = w->inflight;
    w->inflight = w->pending;
    w->pending = tmp;
    w->pending.len = 0;
    h2o_iovec_t buf = h2o_iovec_init(w->inflight.data, w->inflight.len);
    w->sending = true;
    w->final_sent = w->ended;
    h2o_send(w->sr->req, &buf, buf.len ? 1 : 0, w->ended ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

void so_end(so_writer *w)
{
    w->ended = true;
    so_flush(w);
}
