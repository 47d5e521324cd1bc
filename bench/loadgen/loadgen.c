/*
 * sluice-loadgen: the open-loop HTTP/1.1 load generator of `make bench`.
 *
 * Why our own: wrk is closed-loop (a connection sends its next request only
 * when the previous answer arrived), so a slow server slows the load down and
 * its queueing never shows in the latencies ("coordinated omission"). Here
 * request k of a fixed-rate run is due at start + k/rate; it goes out on the
 * first idle keep-alive connection, and its latency is measured from that
 * SCHEDULED time, so time spent waiting for a free connection counts.
 *
 * Modes (one per run):
 *   --rate R         open loop at R requests/s over --connections keep-alive conns
 *   --rate 0         closed loop: each connection sends again as soon as it is answered
 *   --hold           send one request on each connection, print "HOLDING n" once
 *                    every request is written, keep them open for --duration
 *                    (memory at N concurrent open streams)
 *
 * Responses: Content-Length, chunked or close-delimited bodies. With --stream the
 * SSE events ("data:" lines) are counted and the time to the first one is kept.
 *
 * Output: one line "RESULT key=value ..." on stdout (latencies in microseconds).
 * Single-threaded, epoll + timerfd; the whole program is bounded by --duration
 * plus --timeout-ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"

#define LG_MAX_HEAD 16384     /* a response head larger than this is an error */
#define LG_MAX_CONNECTING 256 /* connects in progress at once (accept backlog) */

enum lg_state { LG_IDLE, LG_CONNECTING, LG_SENDING, LG_HEAD, LG_BODY_LEN, LG_BODY_CLOSE,
                LG_CHUNK_SIZE, LG_CHUNK_DATA, LG_CHUNK_CRLF, LG_TRAILER, LG_DEAD };

typedef struct lg_conn {
    int fd;
    enum lg_state state;
    int busy;            /* a request is in flight on it */
    uint64_t sched_ns;   /* when the in-flight request was due */
    uint64_t first_ns;   /* first SSE event seen (0 = none yet) */
    size_t out_off;      /* bytes of the request already written */
    char head[LG_MAX_HEAD];
    size_t head_len;
    uint64_t remain;     /* body or chunk bytes still expected */
    int status;
    int close_after;     /* server said Connection: close / HTTP/1.0 */
    int sse_match;       /* progress through "\ndata:" */
    uint64_t events;     /* SSE events of this response */
    size_t line_len;     /* chunk-size / trailer line length so far */
    int want_out;        /* registered for EPOLLOUT (a partial write is pending) */
} lg_conn;

static struct {
    struct sockaddr_in addr;
    char *req;           /* the whole request, head and body (owned, never freed) */
    size_t req_len;
    double rate;
    int nconn, hold, stream;
    double duration;
    int timeout_ms;
    int epfd, tfd;
    lg_conn *conns;
    uint64_t start_ns, end_ns;
    uint64_t issued;     /* requests handed to a connection */
    uint64_t completed, err_status, err_io, err_timeout, err_stream;
    uint64_t events;
    int connecting, holding_written;
    lg_hist lat, ttfc;
    char first_error[160];
} G;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void note_error(const char *what, int status) {
    if (G.first_error[0]) return;
    if (status) snprintf(G.first_error, sizeof G.first_error, "%s %d", what, status);
    else snprintf(G.first_error, sizeof G.first_error, "%s", what);
}

static void ep_set(lg_conn *c, uint32_t ev, int op) {
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(G.epfd, op, c->fd, &e);
}

/* Opens a non-blocking connection; the slot stays LG_DEAD when that fails. */
static void conn_open(lg_conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { c->state = LG_DEAD; note_error("socket() failed", 0); return; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = connect(c->fd, (struct sockaddr *)&G.addr, sizeof G.addr);
    if (r < 0 && errno != EINPROGRESS) {
        close(c->fd); c->fd = -1; c->state = LG_DEAD; note_error("connect() failed", 0);
        return;
    }
    c->state = LG_CONNECTING;
    c->busy = 0;
    c->want_out = 1;
    G.connecting++;
    ep_set(c, EPOLLOUT, EPOLL_CTL_ADD);
}

/* Drops a connection; an in-flight request on it counts as failed. */
static void conn_fail(lg_conn *c, const char *why, uint64_t *counter) {
    if (c->busy) { (*counter)++; note_error(why, 0); }
    if (c->state == LG_CONNECTING) G.connecting--;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->busy = 0;
    c->state = LG_DEAD;
}

/* Writes what remains of the request; waits for EPOLLOUT on a partial write. */
static void conn_send(lg_conn *c) {
    while (c->out_off < G.req_len) {
        ssize_t n = write(c->fd, G.req + c->out_off, G.req_len - c->out_off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            if (!c->want_out) ep_set(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
            c->want_out = 1;
            return;
        }
        if (n <= 0) { conn_fail(c, "write failed", &G.err_io); return; }
        c->out_off += (size_t)n;
    }
    if (c->want_out) ep_set(c, EPOLLIN, EPOLL_CTL_MOD);  /* one syscall less per request */
    c->want_out = 0;
    c->state = LG_HEAD;
    if (G.hold) G.holding_written++;
}

static void conn_start(lg_conn *c, uint64_t sched) {
    c->busy = 1;
    c->sched_ns = sched;
    c->first_ns = 0;
    c->out_off = 0;
    c->head_len = 0;
    c->status = 0;
    c->close_after = 0;
    c->sse_match = 1;  /* the body starts as if after a newline */
    c->events = 0;
    c->line_len = 0;
    c->state = LG_SENDING;
    G.issued++;
    conn_send(c);
}

/* A whole response arrived: account for it, keep the connection for the next. */
static void conn_done(lg_conn *c) {
    uint64_t t = now_ns();
    c->busy = 0;
    if (c->status < 200 || c->status > 299) {
        G.err_status++;
        note_error("HTTP status", c->status);
    } else if (G.stream && c->events == 0) {
        G.err_stream++;
        note_error("stream without any SSE event", 0);
    } else {
        G.completed++;
        lg_hist_add(&G.lat, t - c->sched_ns);
        if (G.stream) lg_hist_add(&G.ttfc, c->first_ns - c->sched_ns);
        G.events += c->events;
    }
    if (c->close_after) {
        close(c->fd); c->fd = -1; c->state = LG_DEAD;
    } else {
        c->state = LG_IDLE;
    }
}

/* Counts SSE events in body bytes: a line starting with "data:". */
static void body_bytes(lg_conn *c, const char *p, size_t n) {
    static const char pat[] = "\ndata:";
    for (size_t i = 0; i < n; i++) {
        if (p[i] == pat[c->sse_match]) {
            if (++c->sse_match == 6) {
                c->events++;
                if (!c->first_ns) c->first_ns = now_ns();
                c->sse_match = 0;
            }
        } else {
            c->sse_match = p[i] == '\n' ? 1 : 0;
        }
    }
}

/* Parses the response head in c->head; returns 0, or -1 when it is malformed. */
static int parse_head(lg_conn *c) {
    c->head[c->head_len] = '\0';
    if (strncmp(c->head, "HTTP/1.", 7) != 0 || c->head_len < 12) return -1;
    c->status = atoi(c->head + 9);
    c->close_after = c->head[7] == '0';
    int chunked = 0, have_len = 0;
    uint64_t len = 0;
    for (char *line = strstr(c->head, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, "content-length:", 15) == 0) {
            have_len = 1;
            len = strtoull(line + 15, NULL, 10);
        } else if (strncasecmp(line, "transfer-encoding:", 18) == 0) {
            chunked = strstr(line, "chunked") != NULL && strstr(line, "chunked") < strstr(line, "\r\n");
        } else if (strncasecmp(line, "connection:", 11) == 0) {
            char *v = line + 11, *e = strstr(line, "\r\n");
            while (*v == ' ') v++;
            if (strncasecmp(v, "close", 5) == 0 && v < e) c->close_after = 1;
        }
    }
    if (c->status == 204 || c->status == 304) { c->remain = 0; c->state = LG_BODY_LEN; }
    else if (chunked) { c->state = LG_CHUNK_SIZE; c->line_len = 0; c->remain = 0; }
    else if (have_len) { c->state = LG_BODY_LEN; c->remain = len; }
    else { c->state = LG_BODY_CLOSE; c->close_after = 1; }
    return 0;
}

/* Consumes up to c->remain body bytes of p[*i..n); true when none remain. */
static int take_counted(lg_conn *c, const char *p, size_t n, size_t *i) {
    size_t take = n - *i;
    if (take > c->remain) take = (size_t)c->remain;
    body_bytes(c, p + *i, take);
    *i += take;
    c->remain -= take;
    return c->remain == 0;
}

/* Feeds received bytes through the response state machine; bytes after a
 * complete response (the server spoke out of turn) fail the connection. */
static void conn_input(lg_conn *c, const char *p, size_t n) {
    size_t i = 0;
    while (i < n && c->fd >= 0) {
        switch (c->state) {
        case LG_HEAD: {
            size_t take = n - i;
            if (take > LG_MAX_HEAD - 1 - c->head_len) take = LG_MAX_HEAD - 1 - c->head_len;
            memcpy(c->head + c->head_len, p + i, take);
            size_t old = c->head_len;
            c->head_len += take;
            c->head[c->head_len] = '\0';
            char *end = strstr(c->head + (old > 3 ? old - 3 : 0), "\r\n\r\n");
            if (!end) {
                if (c->head_len >= LG_MAX_HEAD - 1) { conn_fail(c, "response head too large", &G.err_io); return; }
                i = n;
                break;
            }
            size_t head_bytes = (size_t)(end + 4 - c->head);
            i += head_bytes - old;
            c->head_len = head_bytes - 2;  /* every header line keeps its CRLF */
            if (parse_head(c) < 0) { conn_fail(c, "malformed response head", &G.err_io); return; }
            if (c->state == LG_BODY_LEN && c->remain == 0) conn_done(c);
            break;
        }
        case LG_BODY_LEN:
            if (take_counted(c, p, n, &i)) conn_done(c);
            break;
        case LG_BODY_CLOSE:
            body_bytes(c, p + i, n - i);
            i = n;
            break;
        case LG_CHUNK_SIZE:
        case LG_TRAILER: {
            char ch = p[i++];
            if (ch == '\n') {
                if (c->state == LG_TRAILER) {
                    if (c->line_len == 0) { conn_done(c); break; }
                } else if (c->remain == 0) {
                    c->state = LG_TRAILER;
                } else {
                    c->state = LG_CHUNK_DATA;
                }
                c->line_len = 0;
            } else if (ch != '\r') {
                if (c->state == LG_CHUNK_SIZE && c->line_len < 16 && ch != ';') {
                    int d = (ch >= '0' && ch <= '9') ? ch - '0'
                          : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                          : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10 : -1;
                    if (d < 0) { conn_fail(c, "bad chunk size", &G.err_io); return; }
                    c->remain = c->remain * 16 + (uint64_t)d;
                } else if (ch == ';') {
                    c->line_len = 1000;  /* extension: ignore the rest of the line */
                }
                c->line_len++;
            }
            break;
        }
        case LG_CHUNK_DATA:
            if (take_counted(c, p, n, &i)) { c->state = LG_CHUNK_CRLF; c->line_len = 0; }
            break;
        case LG_CHUNK_CRLF:
            if (p[i++] == '\n') { c->state = LG_CHUNK_SIZE; c->remain = 0; c->line_len = 0; }
            break;
        default:
            /* Bytes while idle: the server spoke out of turn. */
            conn_fail(c, "unexpected bytes from server", &G.err_io);
            return;
        }
    }
}

static void conn_readable(lg_conn *c) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n > 0) {
            if (G.hold) continue;  /* held streams: nothing to measure in the reply */
            conn_input(c, buf, (size_t)n);
            if (c->fd < 0 || (size_t)n < sizeof buf) return;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        /* EOF or error */
        if (c->state == LG_BODY_CLOSE && n == 0) { c->close_after = 1; conn_done(c); return; }
        conn_fail(c, n == 0 ? "connection closed by server" : "read error", &G.err_io);
        return;
    }
}

static void conn_event(lg_conn *c, uint32_t ev) {
    if (c->state == LG_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        G.connecting--;
        if (err) {  /* counted once per failed attempt: the target is down */
            c->state = LG_IDLE;
            G.err_io++;
            note_error("connect refused", 0);
            conn_fail(c, "connect refused", &G.err_io);
            return;
        }
        c->state = LG_IDLE;
        c->want_out = 0;
        ep_set(c, EPOLLIN, EPOLL_CTL_MOD);
        return;
    }
    if (c->state == LG_SENDING && (ev & EPOLLOUT)) conn_send(c);
    if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) conn_readable(c);
}

/* Hands due requests to idle connections, reopens dead ones, arms the timer for
 * the next due request. */
static void dispatch(uint64_t now) {
    int stop = now >= G.end_ns, idle_left = 0;
    for (int i = 0; i < G.nconn; i++) {
        lg_conn *c = &G.conns[i];
        if (c->state == LG_DEAD && !stop && (!G.hold || c->busy == 0) && G.connecting < LG_MAX_CONNECTING) {
            if (G.hold && c->out_off == G.req_len) continue;  /* held one died: not reopened */
            conn_open(c);
        }
        if (c->state != LG_IDLE || c->busy || stop) continue;
        if (G.hold) {
            if (c->out_off == 0) conn_start(c, now);
            continue;
        }
        if (G.rate <= 0) { conn_start(c, now); continue; }
        uint64_t due = G.start_ns + (uint64_t)((double)G.issued * 1e9 / G.rate);
        if (due > now || due >= G.end_ns) { idle_left = 1; continue; }
        conn_start(c, due);
    }
    /* The timer wakes us for the next due request, but only when a connection is
     * free to take it: with every connection busy (a backlog), the next answer
     * brings us back here, and a timer would only spin and steal CPU from the
     * target on this shared machine. */
    if (G.rate <= 0) return;
    struct itimerspec its = {0};
    if (!stop && idle_left) {
        uint64_t next = G.start_ns + (uint64_t)((double)G.issued * 1e9 / G.rate);
        if (next <= now) next = now + 1000;
        its.it_value.tv_sec = (time_t)(next / 1000000000u);
        its.it_value.tv_nsec = (long)(next % 1000000000u);
    }
    timerfd_settime(G.tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Requests older than --timeout-ms: the connection is dropped. */
static void check_timeouts(uint64_t now) {
    if (G.hold) return;
    for (int i = 0; i < G.nconn; i++) {
        lg_conn *c = &G.conns[i];
        if (c->busy && now - c->sched_ns > (uint64_t)G.timeout_ms * 1000000u)
            conn_fail(c, "request timed out", &G.err_timeout);
    }
}

static int any_busy(void) {
    for (int i = 0; i < G.nconn; i++) if (G.conns[i].busy) return 1;
    return 0;
}

static void usage(void) {
    fprintf(stderr,
        "usage: sluice-loadgen --url http://127.0.0.1:PORT/PATH --body FILE [options]\n"
        "  --model M          replaces \"MODEL\" in the body (default gpt-4o-mini)\n"
        "  -H 'Name: value'   extra request header (repeatable, at most 16)\n"
        "  --rate R           requests/s, open loop (0 = closed loop; default 1000)\n"
        "  --connections N    keep-alive connections (default 64)\n"
        "  --duration S       seconds of load (default 5)\n"
        "  --timeout-ms N     per request (default 5000)\n"
        "  --stream           add \"stream\": true, count SSE events, time to first event\n"
        "  --hold             one request per connection, kept open for --duration\n");
    exit(2);
}

/* Reads the body file, substitutes the model, builds the request bytes. */
static void build_request(const char *path, const char *host, const char *body_file,
                          const char *model, char **hdrs, int nhdrs) {
    FILE *f = fopen(body_file, "rb");
    if (!f) { fprintf(stderr, "sluice-loadgen: cannot open %s\n", body_file); exit(2); }
    static char raw[1 << 20];
    size_t n = fread(raw, 1, sizeof raw - 1, f);
    fclose(f);
    raw[n] = '\0';
    static char body[(1 << 20) + 512];
    char *m = strstr(raw, "\"MODEL\"");
    if (m) snprintf(body, sizeof body, "%.*s\"%s\"%s", (int)(m - raw), raw, model, m + 7);
    else snprintf(body, sizeof body, "%s", raw);
    if (G.stream) {  /* put "stream": true first in the object */
        char *brace = strchr(body, '{');
        if (!brace) { fprintf(stderr, "sluice-loadgen: body is not a JSON object\n"); exit(2); }
        static char tmp[sizeof body + 32];
        snprintf(tmp, sizeof tmp, "%.*s{\"stream\": true, %s", (int)(brace - body), body, brace + 1);
        memcpy(body, tmp, strlen(tmp) + 1);
    }
    size_t blen = strlen(body);
    size_t cap = blen + 4096;
    G.req = malloc(cap);
    if (!G.req) exit(1);
    int off = snprintf(G.req, cap,
        "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
        "Authorization: Bearer sk-bench\r\nContent-Length: %zu\r\n", path, host, blen);
    for (int i = 0; i < nhdrs && (size_t)off < cap - blen - 4; i++)
        off += snprintf(G.req + off, cap - (size_t)off, "%s\r\n", hdrs[i]);
    off += snprintf(G.req + off, cap - (size_t)off, "\r\n");
    memcpy(G.req + off, body, blen);
    G.req_len = (size_t)off + blen;
}

int main(int argc, char **argv) {
    const char *url = NULL, *body_file = NULL, *model = "gpt-4o-mini";
    char *hdrs[16];
    int nhdrs = 0;
    G.rate = 1000; G.nconn = 64; G.duration = 5; G.timeout_ms = 5000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--url") && has) url = argv[++i];
        else if (!strcmp(a, "--body") && has) body_file = argv[++i];
        else if (!strcmp(a, "--model") && has) model = argv[++i];
        else if (!strcmp(a, "-H") && has && nhdrs < 16) hdrs[nhdrs++] = argv[++i];
        else if (!strcmp(a, "--rate") && has) G.rate = atof(argv[++i]);
        else if (!strcmp(a, "--connections") && has) G.nconn = atoi(argv[++i]);
        else if (!strcmp(a, "--duration") && has) G.duration = atof(argv[++i]);
        else if (!strcmp(a, "--timeout-ms") && has) G.timeout_ms = atoi(argv[++i]);
        else if (!strcmp(a, "--stream")) G.stream = 1;
        else if (!strcmp(a, "--hold")) { G.hold = 1; G.rate = 0; }
        else usage();
    }
    if (!url || !body_file || G.nconn < 1 || G.nconn > 200000 || G.duration <= 0 ||
        G.duration > 3600 || G.rate < 0 || G.timeout_ms < 1) usage();

    /* http://A.B.C.D:PORT/path: IPv4 literals only (the bench is loopback-only). */
    char host[64];
    const char *path;
    unsigned port = 80;
    if (strncmp(url, "http://", 7) != 0) usage();
    const char *h = url + 7, *slash = strchr(h, '/');
    path = slash ? slash : "/";
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl == 0 || hl >= sizeof host) usage();
    memcpy(host, h, hl);
    host[hl] = '\0';
    char ip[64];
    snprintf(ip, sizeof ip, "%s", host);
    char *colon = strchr(ip, ':');
    if (colon) { *colon = '\0'; port = (unsigned)atoi(colon + 1); }
    G.addr.sin_family = AF_INET;
    G.addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &G.addr.sin_addr) != 1 || port == 0 || port > 65535) {
        fprintf(stderr, "sluice-loadgen: --url needs an IPv4 literal and a port\n");
        return 2;
    }
    build_request(path, host, body_file, model, hdrs, nhdrs);

    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_TIMERSLACK, 1UL);  /* schedule sends to the microsecond, not 50 µs */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)G.nconn + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    G.epfd = epoll_create1(EPOLL_CLOEXEC);
    G.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    G.conns = calloc((size_t)G.nconn, sizeof *G.conns);
    if (G.epfd < 0 || G.tfd < 0 || !G.conns) { perror("sluice-loadgen"); return 1; }
    struct epoll_event te = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(G.epfd, EPOLL_CTL_ADD, G.tfd, &te);
    for (int i = 0; i < G.nconn; i++) { G.conns[i].fd = -1; G.conns[i].state = LG_DEAD; }

    /* Connections first (not timed), then the clock starts. */
    uint64_t deadline = now_ns() + 10000000000u;
    struct epoll_event evs[512];
    for (;;) {
        uint64_t t = now_ns();
        int idle = 0;
        for (int i = 0; i < G.nconn; i++) {
            lg_conn *c = &G.conns[i];
            if (c->state == LG_DEAD && G.connecting < LG_MAX_CONNECTING) conn_open(c);
            idle += c->state == LG_IDLE;
        }
        if (G.err_io) {  /* nobody listening: say so rather than spin on reconnects */
            fprintf(stderr, "sluice-loadgen: cannot connect to %s: %s\n", url, G.first_error);
            return 1;
        }
        if (idle == G.nconn || t > deadline || G.hold) break;
        int n = epoll_wait(G.epfd, evs, 512, 10);
        for (int i = 0; i < n; i++) if (evs[i].data.ptr) conn_event(evs[i].data.ptr, evs[i].events);
    }
    G.start_ns = now_ns();
    G.end_ns = G.start_ns + (uint64_t)(G.duration * 1e9);
    uint64_t last_check = G.start_ns, hold_announced = 0;
    for (;;) {
        uint64_t t = now_ns();
        dispatch(t);
        if (t - last_check > 100000000u) { check_timeouts(t); last_check = t; }
        if (G.hold && !hold_announced && G.holding_written == G.nconn) {
            printf("HOLDING %d\n", G.nconn);
            fflush(stdout);
            hold_announced = 1;
        }
        if (t >= G.end_ns && (G.hold || !any_busy() ||
                              t > G.end_ns + (uint64_t)G.timeout_ms * 1000000u)) break;
        int n = epoll_wait(G.epfd, evs, 512, G.rate > 0 ? 100 : 10);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr) conn_event(evs[i].data.ptr, evs[i].events);
            else { uint64_t x; if (read(G.tfd, &x, sizeof x) < 0) { /* spurious wake-up */ } }
        }
    }
    uint64_t unfinished = 0;
    for (int i = 0; i < G.nconn; i++) if (G.conns[i].busy && !G.hold) unfinished++;
    double secs = (double)(now_ns() - G.start_ns) / 1e9;
    if (!G.hold && secs > G.duration) secs = G.duration;  /* rate over the load window */
    uint64_t scheduled = G.rate > 0 ? (uint64_t)(G.rate * G.duration) : G.issued;
    uint64_t backlog = scheduled > G.issued ? scheduled - G.issued : 0;
    uint64_t errors = G.err_status + G.err_io + G.err_timeout + G.err_stream + unfinished;
    printf("RESULT mode=%s target_rate=%.0f connections=%d duration=%.2f sent=%llu completed=%llu "
           "errors=%llu err_status=%llu err_io=%llu err_timeout=%llu unfinished=%llu backlog=%llu "
           "rate=%.0f p50=%.0f p99=%.0f p999=%.0f max=%.0f",
           G.hold ? "hold" : G.rate > 0 ? "open" : "closed", G.rate, G.nconn, secs,
           (unsigned long long)G.issued, (unsigned long long)G.completed,
           (unsigned long long)errors, (unsigned long long)G.err_status,
           (unsigned long long)G.err_io, (unsigned long long)G.err_timeout,
           (unsigned long long)unfinished, (unsigned long long)backlog,
           (double)G.completed / secs,
           lg_hist_quantile(&G.lat, 0.50) / 1e3, lg_hist_quantile(&G.lat, 0.99) / 1e3,
           lg_hist_quantile(&G.lat, 0.999) / 1e3, (double)G.lat.max / 1e3);
    if (G.stream)
        printf(" ttfc_p50=%.0f ttfc_p99=%.0f events=%llu events_per_s=%.0f",
               lg_hist_quantile(&G.ttfc, 0.50) / 1e3, lg_hist_quantile(&G.ttfc, 0.99) / 1e3,
               (unsigned long long)G.events, (double)G.events / secs);
    printf("\n");
    if (G.first_error[0]) fprintf(stderr, "sluice-loadgen: first error: %s\n", G.first_error);
    fflush(stdout);
    return 0;
}
