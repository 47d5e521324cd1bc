/*
 * stream_out.c - the SSE response writer shared by the streaming endpoints
 * (see stream_out.h for the protocol with h2o and the producer).
 */
#include "core/stream_out.h"

#include <string.h>

#include "obs/obs.h"

void so_init(so_writer *w, srv_request *sr, const so_hooks *hooks, void *ud)
{
    memset(w, 0, sizeof(*w));
    w->sr = sr;
    w->hooks = hooks;
    w->ud = ud;
}

void so_free(so_writer *w)
{
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
    so_flush(w);
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
    if (w->sending)
        return;
    if (!w->started)
        so_start(w);
    if (w->pending.len == 0 && !w->ended)
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
