/*
 * store_int.h - the log store's internals, shared by store.c (writer) and
 * store_query.c (GET /api/logs).
 */
#ifndef SLUICE_OBS_STORE_INT_H
#define SLUICE_OBS_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "obs/store.h"

struct obs_store {
    obs_store_options opt;     /* opt.path unused: see path */
    char *path;
    sqlite3 *db;               /* the writer thread's connection */
    sqlite3_stmt *insert;      /* INSERT of one batch */
    sqlite3_stmt *purge_split, *purge;   /* retention */
    sj_buf rows;               /* the writer's batch as JSON, reused */
    pthread_t thread;
    pthread_mutex_t lock;      /* guards the ring and the flags below */
    pthread_cond_t wake;       /* -> writer: records, stop or retention */
    pthread_cond_t idle;       /* -> flushers: a batch or retention pass ended */
    /* The queue: requests' rows (obs_row_build) back to back in a byte
     * ring; an entry never wraps (a 0 length word marks the unused end). */
    unsigned char *ring;
    size_t cap;                /* records at most */
    size_t bytes;              /* ring size, a multiple of 8 */
    size_t rhead, rtail;       /* read and write offsets */
    size_t count;              /* records queued */
    size_t in_batch;           /* records in the batch row being built (rows) */
    int64_t first_ts, last_ts; /* their smallest and largest ts_ms */
    bool busy, stopping, retain_requested;
    bool full;                 /* a record was dropped since the last batch: no lingering */
    int flushing;              /* threads in obs_store_flush: no lingering */
    uint64_t retains_done;
    uint64_t dropped;
    _Atomic uint64_t written;
};

/* The queue one request at a time (store.c), for the tests; the caller
 * holds s->lock. push: queues r's row, false when it does not fit (count or
 * bytes). pop: appends the oldest row to out and returns its ts_ms;
 * s->count must be > 0. */
bool obs_ring_push(obs_store *s, const obs_record *r);
int64_t obs_ring_pop(obs_store *s, sj_buf *out);

/* GET /api/logs over one stored batch (store_query.c; for the fuzz target
 * too): appends the requests of the batch text[0..len) that match q to out,
 * newest (last) first, each preceded by a comma unless it is the first
 * (*n == 0), while *n < q->limit; *n counts them. A batch that is not what
 * the writer writes (the file is outside input too: it may have been edited)
 * is skipped with its requests, row by row. */
void obs_batch_emit(const char *text, size_t len, const obs_query *q, sj_buf *out, int *n);

#endif
