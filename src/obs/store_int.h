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

#define OBS_STORE_COLS 17
/* Rows per multi-row INSERT: one statement step for many rows costs less
 * than a step per row (measured in bench/obs/log_cost.c, see
 * docs/observability.md); 16 * 17 parameters stays far below SQLite's
 * limit. */
#define OBS_STORE_ROWS_PER_INSERT 16

struct obs_store {
    obs_store_options opt;     /* opt.path unused: see path */
    char *path;
    sqlite3 *db;               /* the writer thread's connection */
    sqlite3_stmt *insert1;     /* INSERT of one row (a batch's remainder) */
    sqlite3_stmt *insert_n;    /* INSERT of OBS_STORE_ROWS_PER_INSERT rows */
    sqlite3_stmt *purge;
    pthread_t thread;
    pthread_mutex_t lock;      /* guards the ring and the flags below */
    pthread_cond_t wake;       /* -> writer: records, stop or retention */
    pthread_cond_t idle;       /* -> flushers: a batch or retention pass ended */
    obs_record *ring;
    size_t cap, head, count;
    obs_record *batch;         /* the writer's copy of the batch being written */
    bool busy, stopping, retain_requested;
    int flushing;              /* threads in obs_store_flush: no lingering */
    uint64_t retains_done;
    uint64_t dropped;
    _Atomic uint64_t written;
};


#endif
