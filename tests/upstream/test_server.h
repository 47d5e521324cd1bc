/*
 * test_server.h - a small loopback HTTP/1.1 server for test_upstream: one
 * accept thread plus one thread per connection, blocking sockets, keep-alive.
 *
 * Routes (any method unless said):
 *   /json...        200 {"path":"<path>"} with Content-Length
 *   /headers        200, body = value of the request's X-Test header
 *   POST /echo      200, body = request body; 417 if an Expect header came
 *   /stream         chunked "one\n" "two\n" "three\n", 250 ms apart
 *   /reset          Content-Length: 1000 but 10 bytes, then close
 *   /stall          chunked "x", then nothing until the server stops
 *   /big            TS_BIG_LEN bytes of ts_big_byte(i)
 *   /continue       "100 Continue" interim response, then 200 "done"
 *   /redirect       302 to /json, body "moved"
 */
#ifndef SLUICE_TEST_SERVER_H
#define SLUICE_TEST_SERVER_H

#include <stddef.h>

#define TS_BIG_LEN (1024 * 1024)
static inline unsigned char ts_big_byte(size_t i) { return (unsigned char)(i * 7 + i / 251); }

typedef struct ts_server ts_server;

ts_server *ts_start(void);            /* NULL on failure; stop with ts_stop */
int ts_port(ts_server *s);
int ts_connections(ts_server *s);     /* connections accepted so far */
double ts_stream_last_sent(ts_server *s); /* ts_now() when /stream sent its last chunk */
void ts_stop(ts_server *s);           /* closes everything, joins the threads, frees s */
double ts_now(void);                  /* CLOCK_MONOTONIC seconds */

#endif
