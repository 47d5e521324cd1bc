/*
 * mock_main.c - sluice-mockllm's entry point: options, listening sockets (one
 * per worker, SO_REUSEPORT when there are several, so the kernel spreads the
 * connections), worker threads, and a clean stop on SIGINT / SIGTERM.
 *
 * The address actually bound is printed on stdout ("listening on
 * 127.0.0.1:PORT"), so that tests can ask for port 0 and read the port.
 */
#include "mockllm/mock.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

mock_config mock_cfg = {
    .latency_ms = 0,
    .chunk_delay_ms = 0,
    .workers = 1,
    .max_body = 16u << 20,
};
mock_worker *mock_workers;
atomic_uint_fast64_t mock_last_seq;

static void usage(FILE *f) {
    fputs("usage: sluice-mockllm [options]\n"
          "A mock OpenAI / Anthropic upstream for tests and benchmarks.\n"
          "\n"
          "  --listen HOST:PORT      address to listen on (default 127.0.0.1:9090;\n"
          "                          port 0 picks a free port, printed on stdout)\n"
          "  --latency-ms N          delay before each response / first chunk (default 0)\n"
          "  --chunk-delay-ms N      delay between stream chunks (default 0)\n"
          "  --workers N             threads, one event loop each (default 1)\n"
          "  --max-body-bytes N      larger request bodies get 413 (default 16777216)\n"
          "  --help, --version\n"
          "\n"
          "Per request: x-mock-latency-ms, x-mock-chunk-delay-ms, x-mock-words N,\n"
          "x-mock-fault KIND, x-mock-fail-times N, x-mock-fault-key K (docs/mockllm.md).\n",
          f);
}

static unsigned long opt_num(const char *name, const char *v, unsigned long max) {
    char *end;
    errno = 0;
    unsigned long n = v ? strtoul(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || n > max || v[0] == '-') {
        fprintf(stderr, "sluice-mockllm: %s needs an integer from 0 to %lu\n", name, max);
        exit(2);
    }
    return n;
}

/* Parses HOST:PORT or [V6HOST]:PORT into addr. */
static bool parse_listen(const char *s, struct sockaddr_storage *addr) {
    char host[256];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host) return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535) return false;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)addr) == 0;
    }
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)addr) == 0;
}

/* A listening socket on addr; with `reuseport` several may share the port. */
static int listen_socket(struct sockaddr_storage *addr, bool reuseport) {
    socklen_t alen = addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                 : sizeof(struct sockaddr_in);
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) goto fail;
    if (bind(fd, (struct sockaddr *)addr, alen) != 0) goto fail;
    if (listen(fd, 4096) != 0) goto fail;
    /* Port 0: the later sockets must share the port the first one got. */
    if (getsockname(fd, (struct sockaddr *)addr, &alen) != 0) goto fail;
    return fd;
fail: {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}
}

static void walk_close(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void on_signal(uv_signal_t *s, int signum) {
    (void)signum;
    for (unsigned i = 0; i < mock_cfg.workers; i++) uv_async_send(&mock_workers[i].stop);
    /* Closing both signal handles lets the main loop end. */
    uv_walk(s->loop, walk_close, NULL);
}

int main(int argc, char **argv) {
    const char *listen_addr = "127.0.0.1:9090";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("sluice-mockllm %s\n", MOCK_VERSION);
            return 0;
        } else if (!strcmp(a, "--listen") && v) {
            listen_addr = v;
            i++;
        } else if (!strcmp(a, "--latency-ms")) {
            mock_cfg.latency_ms = (unsigned)opt_num(a, v, MOCK_MAX_DELAY_MS);
            i++;
        } else if (!strcmp(a, "--chunk-delay-ms")) {
            mock_cfg.chunk_delay_ms = (unsigned)opt_num(a, v, MOCK_MAX_DELAY_MS);
            i++;
        } else if (!strcmp(a, "--workers")) {
            mock_cfg.workers = (unsigned)opt_num(a, v, 256);
            if (mock_cfg.workers == 0) mock_cfg.workers = 1;
            i++;
        } else if (!strcmp(a, "--max-body-bytes")) {
            mock_cfg.max_body = opt_num(a, v, 1ul << 30);
            i++;
        } else {
            fprintf(stderr, "sluice-mockllm: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    if (!parse_listen(listen_addr, &addr)) {
        fprintf(stderr, "sluice-mockllm: --listen wants HOST:PORT (IP literal), got '%s'\n",
                listen_addr);
        return 2;
    }

    /* 10,000 open streams need as many descriptors: take the hard limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    mock_huge_init();

    mock_workers = calloc(mock_cfg.workers, sizeof *mock_workers);
    if (!mock_workers) {
        fprintf(stderr, "sluice-mockllm: out of memory\n");
        return 1;
    }
    bool reuseport = mock_cfg.workers > 1;
    for (unsigned i = 0; i < mock_cfg.workers; i++) {
        mock_worker *w = &mock_workers[i];
        w->index = (int)i;
        pthread_mutex_init(&w->last_lock, NULL);
        w->listen_fd = listen_socket(&addr, reuseport);
        if (w->listen_fd < 0) {
            fprintf(stderr, "sluice-mockllm: cannot listen on %s: %s\n", listen_addr,
                    strerror(errno));
            return 1;
        }
        int rc = mock_worker_init(w);
        if (rc != 0) {
            fprintf(stderr, "sluice-mockllm: worker %u: %s\n", i, uv_strerror(rc));
            return 1;
        }
    }
    char host[64] = "?";
    int port = 0;
    if (addr.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&addr, host, sizeof host);
        port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    } else {
        uv_ip4_name((struct sockaddr_in *)&addr, host, sizeof host);
        port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
    }

    /* Signals are watched by the main thread's own loop. */
    uv_loop_t main_loop;
    uv_loop_init(&main_loop);
    uv_signal_t sigint, sigterm;
    uv_signal_init(&main_loop, &sigint);
    uv_signal_init(&main_loop, &sigterm);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_signal_start(&sigterm, on_signal, SIGTERM);

    for (unsigned i = 0; i < mock_cfg.workers; i++) {
        if (pthread_create(&mock_workers[i].thread, NULL, mock_worker_main, &mock_workers[i]) != 0) {
            fprintf(stderr, "sluice-mockllm: cannot start worker threads\n");
            return 1;
        }
    }
    printf("sluice-mockllm %s listening on %s%s%s:%d (%u worker%s)\n", MOCK_VERSION,
           addr.ss_family == AF_INET6 ? "[" : "", host, addr.ss_family == AF_INET6 ? "]" : "",
           port, mock_cfg.workers, mock_cfg.workers == 1 ? "" : "s");
    fflush(stdout);

    uv_run(&main_loop, UV_RUN_DEFAULT);
    for (unsigned i = 0; i < mock_cfg.workers; i++) {
        mock_worker *w = &mock_workers[i];
        pthread_join(w->thread, NULL);
        /* Anything still open (none expected) must be closed before the loop. */
        uv_walk(&w->loop, walk_close, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
        sj_buf_free(&w->body);
        sj_buf_free(&w->event);
        sj_buf_free(&w->reqbody);
        sj_buf_free(&w->last_json);
        pthread_mutex_destroy(&w->last_lock);
    }
    uv_loop_close(&main_loop);
    free(mock_workers);
    mock_faults_free();
    fprintf(stderr, "sluice-mockllm: stopped\n");
    return 0;
}
