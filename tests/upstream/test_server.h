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
 *   /closeidle      200 "bye" (keep-alive), then the connection is closed 50 ms later
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

/* A server run as a child process. Its stdin is a pipe we hold (closing it
 * tells node servers to exit), its stdout goes to DIR/<argv[0]>.out. */
typedef struct ts_child {
    int pid;     /* 0 = not running */
    int stdin_w;
} ts_child;

/* Starts argv (PATH lookup) in `dir` and waits up to 5 s for a stdout line
 * matching `fmt` (scanf format with one %d: the port). Returns the port, or 0
 * if it did not start (k->pid is then 0 or still to be stopped). */
int ts_spawn(ts_child *k, const char *dir, char *const argv[], const char *fmt);
/* SIGTERM, then SIGKILL after 2 s; waits for it. No-op if not running. */
void ts_child_stop(ts_child *k);
/* rm -rf dir (a mkdtemp directory), then dir[0] = '\0'. No-op if empty. */
void ts_rmdir(char *dir);

#endif
