/*
 * stream_out.h - one SSE response body written to the client as it is
 * produced, with backpressure towards the producer (a provider call). Every
 * streaming endpoint writes through it (via dispatch.c). Prefix: so_.
 *
 * h2o allows one h2o_send() at a time; the next may only follow the
 * generator's proceed(). Bytes produced meanwhile are appended to `pending`
 * (so_buf); `inflight` holds what h2o is writing. Past SO_PAUSE_BYTES pending
 * the producer is paused (its TCP window fills, the upstream slows down) and
 * it is resumed below SO_RESUME_BYTES. Nothing waits for the end: each batch
 * goes out as soon as the previous write completed.
 *
 * Batching: so_flush does not write at once. The writer is queued and all
 * queued writers of the thread are written in the loop's check phase, which
 * runs right after the I/O callbacks of the same loop iteration (or, when
 * queued from a timer, in the prepare phase before the loop waits). So every
 * event parsed from one upstream read (the whole answer, for a fast
 * upstream) leaves in one h2o_send, hence one writev, instead of the first
 * event alone and the rest one iteration later; the first read still goes
 * out in the iteration that received it.
 */
#ifndef SLUICE_CORE_STREAM_OUT_H
#define SLUICE_CORE_STREAM_OUT_H

#include <stdbool.h>

#include "http/server.h"
#include "sluice/json.h"

#define SO_PAUSE_BYTES (256u * 1024)
#define SO_RESUME_BYTES (64u * 1024)

/* What the writer asks of its producer; `ud` is so_init's. */
typedef struct so_hooks {
    void (*pause)(void *ud);  /* too much is pending: stop reading the upstream */
    void (*resume)(void *ud); /* the client caught up */
    void (*stop)(void *ud);   /* the client went away: cancel the producer now */
} so_hooks;

typedef struct so_writer {
    srv_request *sr;
    h2o_generator_t gen;
    const so_hooks *hooks;
    void *ud;
    sj_buf pending, inflight;
    bool started;    /* the 200 and its headers went out (h2o_start_response) */
    bool sending;    /* an h2o_send is outstanding */
    bool ended;      /* so_end: the producer has nothing more */
    bool final_sent;
    bool stopped;    /* the client went away */
    bool paused;
    bool queued;     /* waits in the thread's batch for the check phase */
    struct so_writer *next, *prev; /* that batch (a list per thread) */
} so_writer;

/* Zeroes w for request sr; nothing is sent until the first so_flush. */
void so_init(so_writer *w, srv_request *sr, const so_hooks *hooks, void *ud);

/* Frees the buffers (from the owner's dispose callback). */
void so_free(so_writer *w);

/* Where the producer appends framed bytes before calling so_flush. */
static inline sj_buf *so_buf(so_writer *w) { return &w->pending; }

/* Starts the response on first use (200, text/event-stream: from then on
 * `started` is true), pauses the producer if too much is pending, and has
 * pending bytes handed to h2o in this loop iteration's check phase when no
 * write is outstanding (see "Batching" above). Does nothing once the client
 * went away. */
void so_flush(so_writer *w);

/* The producer is done: what is pending is the last write, which ends the
 * response. */
void so_end(so_writer *w);

#endif /* SLUICE_CORE_STREAM_OUT_H */
