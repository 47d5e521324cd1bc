/*
 * config.h - the gateway's configuration: Bifrost's config.json shape for
 * "providers", "plugins" and "client" (see docs/configuration.md).
 *
 * Prefix: cfg_. A cfg_config is built once at start-up and then only read,
 * by every worker thread, so it needs no locking. Every string in it is owned
 * by it (malloc'd) and freed by cfg_free().
 */
#ifndef SLUICE_CORE_CONFIG_H
#define SLUICE_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct cfg_key {
    char *name;      /* may be "" */
    char *value;     /* the secret, env.NAME already resolved; "" if none */
    char **models;   /* patterns; "*" matches every model; empty = every model */
    size_t n_models;
    double weight;   /* > 0; default 1.0 */
} cfg_key;

typedef struct cfg_network {
    char *base_url;            /* without trailing '/', or NULL */
    long timeout_s;            /* default_request_timeout_in_seconds, default 30 */
    long stream_idle_timeout_s;/* default 60 */
    int max_retries;           /* default 0 */
    long backoff_initial_ms;   /* retry_backoff_initial, default 500 */
    long backoff_max_ms;       /* retry_backoff_max, default 5000 */
    char **extra_headers;      /* "Name: value" lines */
    size_t n_extra_headers;
    char *ca_cert_pem;         /* PEM CA(s) trusted for this provider instead of the system store, or NULL */
    int http_client;           /* up_client (http/upstream.h): "native" | "curl"; 0 = upstream.c decides */
} cfg_network;

typedef enum cfg_family {
    CFG_FAMILY_MOCK,
    CFG_FAMILY_OPENAI,     /* OpenAI or any OpenAI-compatible server */
    CFG_FAMILY_ANTHROPIC,
} cfg_family;

typedef struct cfg_provider {
    char *name;
    cfg_family family;
    cfg_key *keys;
    size_t n_keys;
    cfg_network net;
} cfg_provider;

typedef struct cfg_plugin {
    char *name;
    char *path;
    bool enabled;
    char *config_json;  /* the entry's "config" re-serialized, "{}" if absent */
    char *entry_json;   /* the whole entry re-serialized (sandbox fields: src/plugin) */
} cfg_plugin;

typedef struct cfg_config {
    cfg_provider *providers;
    size_t n_providers;
    cfg_plugin *plugins;
    size_t n_plugins;
    size_t max_body_bytes;   /* client.max_request_body_size_mb, default 10 MiB */
    /* Observability (docs/observability.md). */
    char *log_level;          /* client.log_level: debug|info|warn|error; NULL = info */
    char *log_file;           /* client.log_file; NULL = stderr */
    bool enable_logging;      /* client.enable_logging: a log line + store row per request; default true */
    bool log_request_lines;   /* client.log_request_lines: false = store rows only, no line; default true */
    long log_retention_days;  /* client.log_retention_days; 0 = keep forever */
    bool logs_store_enabled;  /* logs_store.enabled */
    char *logs_store_path;    /* logs_store.config.path; NULL = "logs.db" */
} cfg_config;

/* Loads path into *out (zeroed first). Returns 0, or -1 with a one-line
 * message in err naming the file, the field path and what was expected.
 * Warnings (unknown fields, unsupported plugins) go to stderr. */
int cfg_load(const char *path, cfg_config *out, char *err, size_t errlen);

/* The same from text in memory; `name` stands for the file in messages and
 * warnings go to `warn` (NULL: none). */
int cfg_load_text(const char *name, const char *text, size_t len, FILE *warn, cfg_config *out, char *err,
                  size_t errlen);

/* The built-in default: just the mock provider. 0 or -1 (out of memory). */
int cfg_default(cfg_config *out);

void cfg_free(cfg_config *c);

/* true if key k may serve `model` (its models list is empty, has "*", or the name). */
bool cfg_key_matches(const cfg_key *k, const char *model);

#endif /* SLUICE_CORE_CONFIG_H */
