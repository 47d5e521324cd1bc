/*
 * h1client.h - native HTTP/1.1 keep-alive client for cleartext upstreams,
 * behind the up_ interface (upstream.h): up_start hands http:// requests to
 * h1_start when the native client is selected (see upstream.c's dispatch),
 * and up_pause/up_resume/up_cancel route by the request's tag.
 *
 * Same contract as upstream.h (callbacks, timeouts, results); the
 * differences are documented in docs/upstream-h1.md. One h1_loop per libuv
 * loop, no locks.
 */
#ifndef SLUICE_HTTP_H1CLIENT_H
#define SLUICE_HTTP_H1CLIENT_H

#include <stdbool.h>

#include "http/upstream.h"

/* First member of every native request, so that an up_req pointer tells
 * which client owns it (curl's up_req starts with a zero tag). */
#define H1_REQ_TAG 0x48317631u

typedef struct h1_loop h1_loop;
typedef struct h1_req h1_req;

h1_loop *h1_loop_new(uv_loop_t *loop);     /* NULL on failure */
void h1_loop_free(h1_loop *hl);            /* cancels leftovers silently; run the loop afterwards */
void h1_loop_set_max_host_connections(h1_loop *hl, long n);

/* True if the native client can take this URL: http:// with an IP literal
 * host (names go to curl, which resolves them without blocking the loop). */
bool h1_url_ok(const char *url);

/* As up_start; NULL on immediate failure, no callback then. */
h1_req *h1_start(h1_loop *hl, const up_options *opt, const up_callbacks *cb, void *ud);
void h1_pause(h1_req *r);
void h1_resume(h1_req *r);
void h1_cancel(h1_req *r);

#endif
