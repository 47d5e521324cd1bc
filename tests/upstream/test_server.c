/*
 * test_server.c - loopback HTTP/1.1 server for test_upstream (see test_server.h).
 * Deliberately simple: blocking I/O, one thread per connection, requests
 * parsed just enough for the routes the tests use.
 */
#include "test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TS_MAX_CONNS 512
#define TS_REQ_MAX (4 * 1024 * 1024)

struct ts_server {
    int lfd, port;
    atomic_bool stop;
    atomic_int nconns;
    _Atomic double stream_last_sent;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_t threads[TS_MAX_CONNS];
    int fds[TS_MAX_CONNS]; /* -1 once closed */
};

typedef struct ts_conn {
    ts_server *s;
    int slot;
} ts_conn;

double ts_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void ts_sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static bool ts_send(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

static bool ts_puts(int fd, const char *str) {
    return ts_send(fd, str, strlen(str));
}

static bool ts_sendf(int fd, const char *fmt, const char *a, size_t alen) {
    char head[512];
    int n = snprintf(head, sizeof head, fmt, alen);
    return n > 0 && ts_send(fd, head, (size_t)n) && (alen == 0 || ts_send(fd, a, alen));
}

/* Sends a complete keep-alive response with a body. */
static bool ts_reply(int fd, int status, const char *body, size_t len) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n", status, len);
    return ts_send(fd, head, (size_t)n) && ts_send(fd, body, len);
}

static bool ts_chunk(int fd, const char *s) {
    char head[32];
    int n = snprintf(head, sizeof head, "%zx\r\n", strlen(s));
    return ts_send(fd, head, (size_t)n) && ts_send(fd, s, strlen(s)) && ts_puts(fd, "\r\n");
}

/* Value of header `name` in the raw request head, or NULL; copied into out. */
static const char *ts_header(const char *head, const char *name, char *out, size_t cap) {
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
        const char *line = l + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ') v++;
            size_t n = strcspn(v, "\r\n");
            if (n >= cap) n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
    }
    return NULL;
}

/* Answers one request; false to close the connection. */
static bool ts_route(ts_server *s, int fd, const char *method, const char *path,
                     const char *head, const char *body, size_t body_len) {
    char val[256];
    if (strncmp(path, "/json", 5) == 0) {
        char b[600];
        int n = snprintf(b, sizeof b, "{\"path\":\"%.500s\"}", path);
        return ts_reply(fd, 200, b, (size_t)n);
    }
    if (strcmp(path, "/closeidle") == 0) { /* a keep-alive answer, then the idle connection is closed */
        bool ok = ts_reply(fd, 200, "bye", 3);
        ts_sleep_ms(50);
        (void)ok;
        return false;
    }
    if (strcmp(path, "/headers") == 0) {
        const char *v = ts_header(head, "X-Test", val, sizeof val);
        return ts_reply(fd, 200, v ? v : "", v ? strlen(v) : 0);
    }
    if (strcmp(path, "/echo") == 0 && strcmp(method, "POST") == 0) {
        if (ts_header(head, "Expect", val, sizeof val)) return ts_reply(fd, 417, "expect", 6);
        return ts_reply(fd, 200, body, body_len);
    }
    if (strcmp(path, "/stream") == 0) {
        if (!ts_puts(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) return false;
        if (!ts_chunk(fd, "one\n")) return false;
        ts_sleep_ms(250);
        if (!ts_chunk(fd, "two\n")) return false;
        ts_sleep_ms(250);
        s->stream_last_sent = ts_now();
        return ts_chunk(fd, "three\n") && ts_puts(fd, "0\r\n\r\n");
    }
    if (strcmp(path, "/reset") == 0) {
        ts_puts(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
        return false;
    }
    if (strcmp(path, "/stall") == 0) {
        if (ts_puts(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) ts_chunk(fd, "x");
        for (int i = 0; i < 500 && !s->stop; i++) ts_sleep_ms(10);
        return false;
    }
    if (strcmp(path, "/big") == 0) {
        char *b = malloc(TS_BIG_LEN);
        for (size_t i = 0; i < TS_BIG_LEN; i++) b[i] = (char)ts_big_byte(i);
        bool ok = ts_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", b, TS_BIG_LEN);
        free(b);
        return ok;
    }
    if (strcmp(path, "/continue") == 0) {
        return ts_puts(fd, "HTTP/1.1 100 Continue\r\n\r\n") &&
               ts_puts(fd, "HTTP/1.1 200 OK\r\nX-Final: yes\r\nContent-Length: 4\r\n\r\ndone");
    }
    if (strcmp(path, "/redirect") == 0) {
        return ts_puts(fd, "HTTP/1.1 302 Found\r\nLocation: /json\r\nContent-Length: 5\r\n\r\nmoved");
    }
    return ts_reply(fd, 404, "no", 2);
}

static void *ts_conn_main(void *arg) {
    ts_conn *c = arg;
    ts_server *s = c->s;
    int fd = s->fds[c->slot];
    char *buf = malloc(TS_REQ_MAX + 1);
    size_t len = 0;
    buf[0] = '\0';
    for (;;) {
        char *end = NULL;
        while (!(end = strstr(buf, "\r\n\r\n"))) { /* read a request head */
            if (len >= TS_REQ_MAX) goto out;
            ssize_t r = recv(fd, buf + len, TS_REQ_MAX - len, 0);
            if (r <= 0) goto out;
            len += (size_t)r;
            buf[len] = '\0';
        }
        size_t head_len = (size_t)(end - buf) + 4;
        char method[16] = "", path[1024] = "", val[32];
        if (sscanf(buf, "%15s %1023s", method, path) != 2) goto out;
        size_t body_len = 0;
        if (ts_header(buf, "Content-Length", val, sizeof val)) body_len = strtoul(val, NULL, 10);
        if (body_len > TS_REQ_MAX - head_len) goto out;
        while (len < head_len + body_len) {
            ssize_t r = recv(fd, buf + len, TS_REQ_MAX - len, 0);
            if (r <= 0) goto out;
            len += (size_t)r;
        }
        buf[head_len - 2] = '\0'; /* the head as a string, for ts_header */
        bool keep = ts_route(s, fd, method, path, buf, buf + head_len, body_len);
        size_t used = head_len + body_len;
        memmove(buf, buf + used, len - used);
        len -= used;
        buf[len] = '\0';
        if (!keep) break;
    }
out:
    free(buf);
    pthread_mutex_lock(&s->mu);
    close(fd);
    s->fds[c->slot] = -1;
    pthread_mutex_unlock(&s->mu);
    free(c);
    return NULL;
}

static void *ts_accept_main(void *arg) {
    ts_server *s = arg;
    while (!s->stop) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        int one = 1; /* no Nagle delay between a head and its body */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int slot = atomic_fetch_add(&s->nconns, 1);
        ts_conn *c = malloc(sizeof *c);
        if (slot >= TS_MAX_CONNS || !c) { close(fd); free(c); continue; }
        c->s = s;
        c->slot = slot;
        s->fds[slot] = fd;
        if (pthread_create(&s->threads[slot], NULL, ts_conn_main, c) != 0) {
            close(fd);
            s->fds[slot] = -1;
            free(c);
            s->threads[slot] = 0;
        }
    }
    return NULL;
}

ts_server *ts_start(void) {
    ts_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    for (int i = 0; i < TS_MAX_CONNS; i++) s->fds[i] = -1;
    pthread_mutex_init(&s->mu, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->lfd, 256) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0) {
        if (s->lfd >= 0) close(s->lfd);
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    if (pthread_create(&s->acceptor, NULL, ts_accept_main, s) != 0) {
        close(s->lfd);
        free(s);
        return NULL;
    }
    return s;
}

int ts_port(ts_server *s) { return s->port; }
int ts_connections(ts_server *s) { return atomic_load(&s->nconns); }
double ts_stream_last_sent(ts_server *s) { return s->stream_last_sent; }

void ts_stop(ts_server *s) {
    s->stop = true;
    pthread_join(s->acceptor, NULL);
    close(s->lfd);
    int n = atomic_load(&s->nconns);
    if (n > TS_MAX_CONNS) n = TS_MAX_CONNS;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < n; i++)
        if (s->fds[i] >= 0) shutdown(s->fds[i], SHUT_RDWR); /* wakes blocked recv */
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < n; i++)
        if (s->threads[i]) pthread_join(s->threads[i], NULL);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ------------------------------------------------------------ child servers */

int ts_spawn(ts_child *k, const char *dir, char *const argv[], const char *fmt) {
    char out[256];
    const char *slash = strrchr(argv[0], '/');
    snprintf(out, sizeof out, "%s/%s.out", dir, slash ? slash + 1 : argv[0]);
    /* Everything that may allocate happens before fork: other threads (the
     * test server, curl's resolver) may hold malloc's lock at that moment,
     * and the child may only make async-signal-safe calls before exec. */
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) return 0;
    int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int nfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    k->pid = ofd >= 0 && nfd >= 0 ? fork() : -1;
    if (k->pid == 0) {
        signal(SIGTERM, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        if (dup2(pfd[0], 0) < 0 || dup2(ofd, 1) < 0 || dup2(nfd, 2) < 0 || chdir(dir) != 0)
            _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pfd[0]);
    if (ofd >= 0) close(ofd);
    if (nfd >= 0) close(nfd);
    k->stdin_w = pfd[1];
    if (k->pid < 0) { close(pfd[1]); k->pid = 0; return 0; }
    int port = 0;
    for (int i = 0; i < 500 && !port; i++) {
        ts_sleep_ms(10);
        FILE *f = fopen(out, "r");
        char line[256];
        while (f && !port && fgets(line, sizeof line, f))
            if (sscanf(line, fmt, &port) != 1) port = 0;
        if (f) fclose(f);
        if (!port && waitpid(k->pid, NULL, WNOHANG) == k->pid) { k->pid = 0; break; }
    }
    return port;
}

void ts_child_stop(ts_child *k) {
    if (k->pid <= 0) return;
    close(k->stdin_w);
    kill(k->pid, SIGTERM);
    for (int waited = 0; waitpid(k->pid, NULL, WNOHANG) == 0; waited++) {
        if (waited == 200) kill(k->pid, SIGKILL);
        ts_sleep_ms(10);
    }
    k->pid = 0;
}

void ts_rmdir(char *dir) {
    if (!dir[0]) return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    dir[0] = '\0';
}
