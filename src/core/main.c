/*
 * main.c - the `sluice` binary: command line, configuration, then the server.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gateway.h"
#include "obs/obs.h"
#include "plugin/gateway.h"

#define SLUICE_VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: sluice [--config FILE] [--listen HOST:PORT] [--workers N]\n"
            "\n"
            "Sluice, an OpenAI-compatible AI gateway.\n"
            "\n"
            "  --config FILE       Bifrost-style config.json (default: built-in, mock provider only)\n"
            "  --listen HOST:PORT  numeric address to listen on (default 127.0.0.1:8080; IPv6 as [::1]:8080)\n"
            "  --workers N         worker threads, each with its own event loop (default: number of cores)\n"
            "  --help              this text\n"
            "  --version           print the version\n");
}

/* Splits "HOST:PORT" / "[V6]:PORT" into host (written into buf) and port. */
static int parse_listen(const char *s, char *buf, size_t cap, int *port)
{
    const char *colon;
    const char *host = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        host = s + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= cap)
        return -1;
    memcpy(buf, host, hlen);
    buf[hlen] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    const char *listen = "127.0.0.1:8080";
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = ncpu > 0 ? (int)ncpu : 1;

    /* Block SIGTERM/SIGINT before any thread exists (log writer, store
     * writer, plugin compilers, workers): threads inherit the mask, so only
     * the server's sigwait() ever takes them. A thread created with them
     * unblocked would let a second SIGTERM during the drain kill the process
     * with the default action instead of being ignored. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    /* Big blocks come and go all the time: upstream bodies of up to tens of
     * MiB, plugin linear memories and value stacks. A fixed mmap threshold
     * keeps every such block mmap'd and returned to the system when freed.
     * glibc's default raises the threshold after the first free of a big
     * block, after which they are carved from the heap arenas and the RSS
     * never comes back (+75 MB in tests/plugin/test_hostile_load.sh, +37 MB
     * after one round of 32 MiB responses in test_fault_baseline.sh). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("sluice %s\n", SLUICE_VERSION);
            return 0;
        } else if (strcmp(a, "--config") == 0 && has_value) {
            config_path = argv[++i];
        } else if (strcmp(a, "--listen") == 0 && has_value) {
            listen = argv[++i];
        } else if (strcmp(a, "--workers") == 0 && has_value) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || n < 1 || n > 256) {
                fprintf(stderr, "sluice: --workers: expected an integer between 1 and 256, got '%s'\n", argv[i]);
                return 2;
            }
            workers = (int)n;
        } else {
            fprintf(stderr, "sluice: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }

    srv_options opt = {.workers = workers, .req_timeout_ms = 10000, .shutdown_grace_ms = 10000};
    char host[256];
    if (parse_listen(listen, host, sizeof(host), &opt.port) != 0) {
        fprintf(stderr, "sluice: --listen: expected HOST:PORT (e.g. 127.0.0.1:8080), got '%s'\n", listen);
        return 2;
    }
    opt.host = host;

    static cfg_config cfg; /* lives until exit: workers read it */
    char err[1024];
    if (config_path) {
        if (cfg_load(config_path, &cfg, err, sizeof(err)) != 0) {
            fprintf(stderr, "sluice: config error: %s\n", err);
            return 2;
        }
    } else if (cfg_default(&cfg) != 0) {
        fprintf(stderr, "sluice: out of memory\n");
        return 1;
    }
    gw_cfg = &cfg;
    opt.max_body_bytes = cfg.max_body_bytes;
    obs_config oc = {.version = SLUICE_VERSION, .log_level = OBS_INFO, .log_file = cfg.log_file,
                     .log_requests = cfg.enable_logging,
                     .no_request_lines = !cfg.log_request_lines, .store_enabled = cfg.logs_store_enabled,
                     .store_path = cfg.logs_store_path ? cfg.logs_store_path : "logs.db",
                     .retention_days = (int)cfg.log_retention_days};
    if (cfg.log_level)
        obs_level_parse(cfg.log_level, &oc.log_level);   /* validated by the config loader */
    if (obs_init(&oc, err, sizeof(err)) != 0) {
        fprintf(stderr, "sluice: %s\n", err);
        obs_shutdown();
        cfg_free(&cfg);
        return 1;
    }
    if (plg_gw_load(&cfg, (unsigned)workers, err, sizeof(err)) != 0) {
        fprintf(stderr, "sluice: %s\n", err);
        obs_shutdown();
        cfg_free(&cfg);
        return 2;
    }
    int rc = srv_run(&opt);
    plg_gw_unload();
    obs_shutdown();   /* drains the log store queue */
    cfg_free(&cfg);
    return rc;
}
