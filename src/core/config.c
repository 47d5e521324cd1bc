/*
 * config.c - loads config.json (Bifrost field names) into a cfg_config.
 *
 * Errors are precise on purpose: an operator with a 200-line config needs to
 * know which field is wrong, so every message carries the file name and the
 * field path ("providers.openai.keys[0].weight") and what was expected. A
 * wrong type refuses start-up; an unknown field only warns, so that configs
 * written for Bifrost (which has more options) still load.
 */
#include "core/config.h"
#include "http/upstream.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/json.h"

#define CFG_MAX_FILE (16u << 20) /* a config larger than 16 MiB is a mistake */

typedef struct cfg_ctx {
    const char *file;
    FILE *warn;       /* where warnings go; NULL = nowhere */
    char *err;
    size_t errlen;
    char path[512]; /* field path of the value being read */
    size_t plen;
} cfg_ctx;

static int cfg_fail(cfg_ctx *c, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s: %s", c->file, c->plen ? c->path : "(top level)", what);
    return -1;
}

/* Path stack: push returns the old length for pop. */
static size_t cfg_push_key(cfg_ctx *c, const char *key)
{
    size_t old = c->plen;
    int n = snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", key);
    if (n > 0)
        c->plen = old + (size_t)n < sizeof(c->path) ? old + (size_t)n : sizeof(c->path) - 1;
    return old;
}

static size_t cfg_push_index(cfg_ctx *c, size_t i)
{
    size_t old = c->plen;
    int n = snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);
    if (n > 0)
        c->plen = old + (size_t)n < sizeof(c->path) ? old + (size_t)n : sizeof(c->path) - 1;
    return old;
}

static void cfg_pop(cfg_ctx *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

static void cfg_warn_unknown(cfg_ctx *c, const char *key)
{
    if (c->warn == NULL)
        return;
    size_t old = cfg_push_key(c, key);
    fprintf(c->warn, "sluice: warning: %s: %s: unknown field, ignored\n", c->file, c->path);
    cfg_pop(c, old);
}

/* true if key is one of the NULL-terminated names. */
static bool cfg_known(const char *key, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(key, *names) == 0)
            return true;
    return false;
}

/* Checks an object's members: a key given twice is an error (which value
 * would win is a guess, and a guess in a config is a bug); a key not in
 * `known` (when given) is a warning. 0 or -1. */
static int cfg_members(cfg_ctx *c, const sj_val *obj, const char *const *known)
{
    for (sj_val *m = sj_first(obj); m; m = sj_next(m)) {
        size_t klen;
        const char *k = sj_key(m, &klen);
        for (sj_val *p = sj_first(obj); p != m; p = sj_next(p)) {
            size_t plen;
            const char *pk = sj_key(p, &plen);
            if (plen == klen && memcmp(pk, k, klen) == 0)
                return cfg_fail(c, "\"%s\" is given twice", k);
        }
        if (known && !cfg_known(k, known))
            cfg_warn_unknown(c, k);
    }
    return 0;
}

/* Reads a string member (c->path already names it). "env.NAME" is replaced by
 * the variable's value when allow_env. *out is a new malloc'd string. */
static int cfg_string(cfg_ctx *c, const sj_val *v, bool allow_env, char **out)
{
    size_t len;
    const char *s = sj_str(v, &len);
    if (s == NULL)
        return cfg_fail(c, "expected a string");
    if (strlen(s) != len)
        return cfg_fail(c, "string contains a NUL character");
    if (allow_env && strncmp(s, "env.", 4) == 0) {
        const char *val = getenv(s + 4);
        if (s[4] == '\0')
            return cfg_fail(c, "\"env.\" needs a variable name, e.g. \"env.OPENAI_API_KEY\"");
        if (val == NULL)
            return cfg_fail(c, "environment variable %s is not set", s + 4);
        s = val;
    }
    *out = strdup(s);
    return *out ? 0 : cfg_fail(c, "out of memory");
}

static int cfg_number(cfg_ctx *c, const sj_val *v, double min, double max, double *out)
{
    double d;
    if (!sj_is_number(v) || !sj_f64(v, &d))
        return cfg_fail(c, "expected a number");
    if (d < min || d > max)
        return cfg_fail(c, "expected a number between %g and %g", min, max);
    *out = d;
    return 0;
}

static int cfg_integer(cfg_ctx *c, const sj_val *v, long min, long max, long *out)
{
    int64_t n;
    if (!sj_is_number(v) || !sj_i64(v, &n))
        return cfg_fail(c, "expected an integer");
    if (n < min || n > max)
        return cfg_fail(c, "expected an integer between %ld and %ld", min, max);
    *out = (long)n;
    return 0;
}

static int cfg_bool(cfg_ctx *c, const sj_val *v, bool *out)
{
    if (!sj_is_bool(v))
        return cfg_fail(c, "expected true or false");
    *out = sj_bool(v, false);
    return 0;
}

/* Milliseconds: an integer, or a duration string "500ms", "5s", "1.5s", "2m"
 * (as Bifrost's Go side writes them), within [0, max]. */
static int cfg_duration_ms(cfg_ctx *c, const sj_val *v, long max, long *out)
{
    const char *s = sj_str(v, NULL);
    if (s == NULL)
        return cfg_integer(c, v, 0, max, out);
    char *end = NULL;
    double d = (s[0] >= '0' && s[0] <= '9') ? strtod(s, &end) : -1;
    double unit = 0;
    if (end && strcmp(end, "ms") == 0)
        unit = 1;
    else if (end && strcmp(end, "s") == 0)
        unit = 1000;
    else if (end && strcmp(end, "m") == 0)
        unit = 60000;
    if (unit == 0 || !(d * unit <= (double)max))
        return cfg_fail(c, "expected milliseconds (an integer) or a duration such as \"500ms\" or \"5s\", "
                           "at most %ld ms", max);
    *out = (long)(d * unit + 0.5);
    return 0;
}

/* Reads an array of strings into a new malloc'd vector. */
static int cfg_string_array(cfg_ctx *c, const sj_val *v, char ***out, size_t *n_out)
{
    if (!sj_is_array(v))
        return cfg_fail(c, "expected an array of strings");
    size_t n = sj_len(v), i = 0;
    char **arr = calloc(n ? n : 1, sizeof(*arr));
    if (arr == NULL)
        return cfg_fail(c, "out of memory");
    *out = arr;
    *n_out = 0;
    for (sj_val *e = sj_first(v); e; e = sj_next(e), i++) {
        size_t old = cfg_push_index(c, i);
        if (cfg_string(c, e, false, &arr[i]) != 0)
            return -1;
        (*n_out)++;
        cfg_pop(c, old);
    }
    return 0;
}

/* ---- sections -------------------------------------------------------------- */

static int cfg_key_entry(cfg_ctx *c, const sj_val *v, cfg_key *k)
{
    static const char *const known[] = {"name", "value", "models", "weight", "id", NULL};
    if (!sj_is_object(v))
        return cfg_fail(c, "expected an object {\"value\": ..., \"models\": [...], \"weight\": ...}");
    if (cfg_members(c, v, known) != 0)
        return -1;
    k->weight = 1.0;
    for (sj_val *m = sj_first(v); m; m = sj_next(m)) {
        const char *key = sj_key(m, NULL);
        size_t old = cfg_push_key(c, key);
        int rc = 0;
        if (strcmp(key, "name") == 0)
            rc = cfg_string(c, m, false, &k->name);
        else if (strcmp(key, "value") == 0)
            rc = cfg_string(c, m, true, &k->value);
        else if (strcmp(key, "models") == 0)
            rc = cfg_string_array(c, m, &k->models, &k->n_models);
        else if (strcmp(key, "weight") == 0) {
            rc = cfg_number(c, m, 0, 1e9, &k->weight);
            if (rc == 0 && !(k->weight > 0))
                rc = cfg_fail(c, "expected a number greater than 0");
        }
        if (rc != 0)
            return rc;
        cfg_pop(c, old);
    }
    if (k->name == NULL)
        k->name = strdup("");
    if (k->value == NULL)
        k->value = strdup("");
    return (k->name && k->value) ? 0 : cfg_fail(c, "out of memory");
}

static int cfg_extra_headers(cfg_ctx *c, const sj_val *v, cfg_network *net)
{
    if (!sj_is_object(v))
        return cfg_fail(c, "expected an object of header names to string values");
    if (cfg_members(c, v, NULL) != 0)
        return -1;
    net->extra_headers = calloc(sj_len(v) + 1, sizeof(char *));
    if (net->extra_headers == NULL)
        return cfg_fail(c, "out of memory");
    for (sj_val *m = sj_first(v); m; m = sj_next(m)) {
        size_t klen;
        const char *key = sj_key(m, &klen);
        size_t old = cfg_push_key(c, key);
        char *val = NULL;
        if (cfg_string(c, m, true, &val) != 0)
            return -1;
        bool bad = klen == 0 || strpbrk(val, "\r\n") != NULL;
        for (size_t i = 0; i < klen; i++)
            if (key[i] <= ' ' || key[i] == ':' || key[i] == 0x7f)
                bad = true;
        if (bad) {
            free(val);
            return cfg_fail(c, "expected a valid header name and a value without line breaks");
        }
        size_t n = klen + 2 + strlen(val) + 1;
        char *line = malloc(n);
        if (line == NULL) {
            free(val);
            return cfg_fail(c, "out of memory");
        }
        snprintf(line, n, "%s: %s", key, val);
        free(val);
        net->extra_headers[net->n_extra_headers++] = line;
        cfg_pop(c, old);
    }
    return 0;
}

static int cfg_network_config(cfg_ctx *c, const sj_val *v, cfg_network *net)
{
    static const char *const known[] = {"base_url", "default_request_timeout_in_seconds", "max_retries",
                                        "retry_backoff_initial", "retry_backoff_max",
                                        "stream_idle_timeout_in_seconds", "extra_headers", "ca_cert_pem",
                                        "http_client", NULL};
    if (!sj_is_object(v))
        return cfg_fail(c, "expected an object");
    if (cfg_members(c, v, known) != 0)
        return -1;
    for (sj_val *m = sj_first(v); m; m = sj_next(m)) {
        const char *key = sj_key(m, NULL);
        size_t old = cfg_push_key(c, key);
        long n = 0;
        int rc = 0;
        if (strcmp(key, "base_url") == 0) {
            rc = cfg_string(c, m, true, &net->base_url);
            if (rc == 0 && strncmp(net->base_url, "http://", 7) != 0 && strncmp(net->base_url, "https://", 8) != 0)
                rc = cfg_fail(c, "expected an http:// or https:// URL, got \"%s\"", net->base_url);
            if (rc == 0) {
                size_t len = strlen(net->base_url);
                while (len > 0 && net->base_url[len - 1] == '/')
                    net->base_url[--len] = '\0';
            }
        } else if (strcmp(key, "default_request_timeout_in_seconds") == 0) {
            rc = cfg_integer(c, m, 1, 86400, &net->timeout_s);
        } else if (strcmp(key, "stream_idle_timeout_in_seconds") == 0) {
            rc = cfg_integer(c, m, 1, 86400, &net->stream_idle_timeout_s);
        } else if (strcmp(key, "max_retries") == 0) {
            rc = cfg_integer(c, m, 0, 10, &n);
            net->max_retries = (int)n;
        } else if (strcmp(key, "retry_backoff_initial") == 0) {
            rc = cfg_duration_ms(c, m, 600000, &net->backoff_initial_ms);
        } else if (strcmp(key, "retry_backoff_max") == 0) {
            rc = cfg_duration_ms(c, m, 600000, &net->backoff_max_ms);
        } else if (strcmp(key, "extra_headers") == 0) {
            rc = cfg_extra_headers(c, m, net);
        } else if (strcmp(key, "http_client") == 0) {
            char *s = NULL;
            rc = cfg_string(c, m, true, &s);
            if (rc == 0 && strcmp(s, "native") == 0) net->http_client = UP_CLIENT_NATIVE;
            else if (rc == 0 && strcmp(s, "curl") == 0) net->http_client = UP_CLIENT_CURL;
            else if (rc == 0) rc = cfg_fail(c, "expected \"native\" or \"curl\", got \"%s\"", s);
            free(s);
        } else if (strcmp(key, "ca_cert_pem") == 0) {
            /* Caught here rather than as a TLS failure on the first request. */
            rc = cfg_string(c, m, true, &net->ca_cert_pem);
            if (rc == 0 && strstr(net->ca_cert_pem, "-----BEGIN CERTIFICATE-----") == NULL)
                rc = cfg_fail(c, "expected PEM text with a \"-----BEGIN CERTIFICATE-----\" block");
        }
        if (rc != 0)
            return rc;
        cfg_pop(c, old);
    }
    return 0;
}

static void cfg_network_defaults(cfg_network *net)
{
    net->timeout_s = 30;
    net->stream_idle_timeout_s = 60;
    net->max_retries = 0;
    net->backoff_initial_ms = 500;
    net->backoff_max_ms = 5000;
}

static int cfg_provider_entry(cfg_ctx *c, const char *name, const sj_val *v, cfg_provider *p)
{
    static const char *const known[] = {"keys", "network_config", "concurrency_and_buffer_size",
                                        "send_back_raw_response", NULL};
    cfg_network_defaults(&p->net);
    p->name = strdup(name);
    if (p->name == NULL)
        return cfg_fail(c, "out of memory");
    if (!sj_is_object(v))
        return cfg_fail(c, "expected an object {\"keys\": [...], \"network_config\": {...}}");
    if (name[0] == '\0' || strchr(name, '/') != NULL)
        return cfg_fail(c, "a provider name must be non-empty and contain no '/'");
    if (cfg_members(c, v, known) != 0)
        return -1;
    for (sj_val *m = sj_first(v); m; m = sj_next(m)) {
        const char *key = sj_key(m, NULL);
        size_t old = cfg_push_key(c, key);
        if (strcmp(key, "keys") == 0) {
            if (!sj_is_array(m))
                return cfg_fail(c, "expected an array of keys");
            p->keys = calloc(sj_len(m) + 1, sizeof(*p->keys));
            if (p->keys == NULL)
                return cfg_fail(c, "out of memory");
            size_t i = 0;
            for (sj_val *e = sj_first(m); e; e = sj_next(e), i++) {
                size_t o2 = cfg_push_index(c, i);
                p->n_keys++;
                if (cfg_key_entry(c, e, &p->keys[i]) != 0)
                    return -1;
                cfg_pop(c, o2);
            }
        } else if (strcmp(key, "network_config") == 0) {
            if (cfg_network_config(c, m, &p->net) != 0)
                return -1;
        }
        cfg_pop(c, old);
    }
    if (strcmp(name, "mock") == 0) {
        p->family = CFG_FAMILY_MOCK;
    } else if (strcmp(name, "anthropic") == 0) {
        p->family = CFG_FAMILY_ANTHROPIC;
    } else {
        p->family = CFG_FAMILY_OPENAI;
        if (p->net.base_url == NULL) {
            if (strcmp(name, "openai") != 0)
                return cfg_fail(c, "unknown provider; an OpenAI-compatible provider needs "
                                   "network_config.base_url");
            p->net.base_url = strdup("https://api.openai.com");
            if (p->net.base_url == NULL)
                return cfg_fail(c, "out of memory");
        }
    }
    if (p->net.backoff_max_ms < p->net.backoff_initial_ms)
        p->net.backoff_max_ms = p->net.backoff_initial_ms;
    return 0;
}

static int cfg_plugin_entry(cfg_ctx *c, const sj_val *v, cfg_plugin *pl)
{
    static const char *const known[] = {"name", "path", "enabled", "config", "sha256", "on_error",
                                        "max_memory_mb", "timeout_ms", "instances", "engine", NULL};
    if (!sj_is_object(v))
        return cfg_fail(c, "expected an object {\"name\": ..., \"path\": ..., \"enabled\": ...}");
    if (cfg_members(c, v, known) != 0)
        return -1;
    pl->enabled = true;
    for (sj_val *m = sj_first(v); m; m = sj_next(m)) {
        const char *key = sj_key(m, NULL);
        size_t old = cfg_push_key(c, key);
        int rc = 0;
        if (strcmp(key, "name") == 0)
            rc = cfg_string(c, m, false, &pl->name);
        else if (strcmp(key, "path") == 0)
            rc = cfg_string(c, m, false, &pl->path);
        else if (strcmp(key, "enabled") == 0)
            rc = cfg_bool(c, m, &pl->enabled);
        else if (strcmp(key, "config") == 0) {
            pl->config_json = sj_write(m, NULL);
            if (pl->config_json == NULL)
                rc = cfg_fail(c, "out of memory");
        }
        if (rc != 0)
            return rc;
        cfg_pop(c, old);
    }
    if (pl->name == NULL)
        return cfg_fail(c, "missing \"name\"");
    if (pl->path == NULL)
        return cfg_fail(c, "missing \"path\"");
    if (pl->config_json == NULL && (pl->config_json = strdup("{}")) == NULL)
        return cfg_fail(c, "out of memory");
    if ((pl->entry_json = sj_write(v, NULL)) == NULL)
        return cfg_fail(c, "out of memory");
    return 0;
}

/* client.log_level, log_file, enable_logging, log_request_lines,
 * log_retention_days. */
static int cfg_client_logging(cfg_ctx *c, const sj_val *v, cfg_config *out)
{
    static const char *const levels[] = {"debug", "info", "warn", "warning", "error", NULL};
    for (sj_val *m = sj_first(v); m; m = sj_next(m)) {
        const char *key = sj_key(m, NULL);
        size_t old = cfg_push_key(c, key);
        int rc = 0;
        if (strcmp(key, "log_level") == 0) {
            rc = cfg_string(c, m, false, &out->log_level);
            if (rc == 0 && !cfg_known(out->log_level, levels))
                rc = cfg_fail(c, "expected \"debug\", \"info\", \"warn\" or \"error\"");
        } else if (strcmp(key, "log_file") == 0) {
            rc = cfg_string(c, m, false, &out->log_file);
        } else if (strcmp(key, "enable_logging") == 0) {
            rc = cfg_bool(c, m, &out->enable_logging);
        } else if (strcmp(key, "log_request_lines") == 0) {
            rc = cfg_bool(c, m, &out->log_request_lines);
        } else if (strcmp(key, "log_retention_days") == 0) {
            rc = cfg_integer(c, m, 0, 36500, &out->log_retention_days);
        }
        if (rc != 0)
            return -1;
        cfg_pop(c, old);
    }
    return 0;
}

/* "logs_store": {"enabled": true, "type": "sqlite", "config": {"path": "logs.db"}} */
static int cfg_logs_store(cfg_ctx *c, const sj_val *v, cfg_config *out)
{
    static const char *const known[] = {"enabled", "type", "config", NULL};
    static const char *const known_config[] = {"path", NULL};
    if (!sj_is_object(v))
        return cfg_fail(c, "expected an object {\"enabled\": ..., \"type\": \"sqlite\", \"config\": {\"path\": ...}}");
    if (cfg_members(c, v, known) != 0)
        return -1;
    sj_val *m = sj_get(v, "enabled");
    if (m) {
        size_t old = cfg_push_key(c, "enabled");
        if (cfg_bool(c, m, &out->logs_store_enabled) != 0)
            return -1;
        cfg_pop(c, old);
    }
    if ((m = sj_get(v, "type")) != NULL) {
        size_t old = cfg_push_key(c, "type");
        if (!sj_str_eq(m, "sqlite"))
            return cfg_fail(c, "expected \"sqlite\" (the only log store type)");
        cfg_pop(c, old);
    }
    if ((m = sj_get(v, "config")) != NULL) {
        size_t old = cfg_push_key(c, "config");
        if (!sj_is_object(m))
            return cfg_fail(c, "expected an object {\"path\": \"logs.db\"}");
        if (cfg_members(c, m, known_config) != 0)
            return -1;
        sj_val *p = sj_get(m, "path");
        if (p) {
            size_t o2 = cfg_push_key(c, "path");
            if (cfg_string(c, p, false, &out->logs_store_path) != 0)
                return -1;
            if (out->logs_store_path[0] == '\0')
                return cfg_fail(c, "expected a file path");
            cfg_pop(c, o2);
        }
        cfg_pop(c, old);
    }
    return 0;
}

static int cfg_client(cfg_ctx *c, const sj_val *v, cfg_config *out)
{
    static const char *const known[] = {"max_request_body_size_mb", "log_level", "log_file", "enable_logging",
                                        "log_request_lines", "log_retention_days", NULL};
    if (!sj_is_object(v))
        return cfg_fail(c, "expected an object");
    if (cfg_members(c, v, known) != 0)
        return -1;
    sj_val *m = sj_get(v, "max_request_body_size_mb");
    if (m) {
        size_t old = cfg_push_key(c, "max_request_body_size_mb");
        long mb;
        if (cfg_integer(c, m, 1, 1024, &mb) != 0)
            return -1;
        out->max_body_bytes = (size_t)mb << 20;
        cfg_pop(c, old);
    }
    return cfg_client_logging(c, v, out);
}

static int cfg_root(cfg_ctx *c, const sj_val *root, cfg_config *out)
{
    static const char *const known[] = {"providers", "plugins", "client", "logs_store", "$schema", NULL};
    if (!sj_is_object(root))
        return cfg_fail(c, "expected a JSON object at the top level");
    if (cfg_members(c, root, known) != 0)
        return -1;
    sj_val *providers = sj_get(root, "providers");
    if (providers) {
        size_t old = cfg_push_key(c, "providers");
        if (!sj_is_object(providers))
            return cfg_fail(c, "expected an object of provider name to settings");
        out->providers = calloc(sj_len(providers) + 1, sizeof(*out->providers));
        if (out->providers == NULL)
            return cfg_fail(c, "out of memory");
        for (sj_val *m = sj_first(providers); m; m = sj_next(m)) {
            const char *name = sj_key(m, NULL);
            for (size_t i = 0; i < out->n_providers; i++)
                if (strcmp(out->providers[i].name, name) == 0)
                    return cfg_fail(c, "provider \"%s\" is defined twice", name);
            size_t o2 = cfg_push_key(c, name);
            if (cfg_provider_entry(c, name, m, &out->providers[out->n_providers++]) != 0)
                return -1;
            cfg_pop(c, o2);
        }
        cfg_pop(c, old);
    }
    sj_val *plugins = sj_get(root, "plugins");
    if (plugins) {
        size_t old = cfg_push_key(c, "plugins");
        if (!sj_is_array(plugins))
            return cfg_fail(c, "expected an array of plugin entries");
        out->plugins = calloc(sj_len(plugins) + 1, sizeof(*out->plugins));
        if (out->plugins == NULL)
            return cfg_fail(c, "out of memory");
        size_t i = 0;
        for (sj_val *e = sj_first(plugins); e; e = sj_next(e), i++) {
            size_t o2 = cfg_push_index(c, i);
            if (cfg_plugin_entry(c, e, &out->plugins[out->n_plugins++]) != 0)
                return -1;
            cfg_pop(c, o2);
        }
        cfg_pop(c, old);
    }
    sj_val *client = sj_get(root, "client");
    if (client) {
        size_t old = cfg_push_key(c, "client");
        if (cfg_client(c, client, out) != 0)
            return -1;
        cfg_pop(c, old);
    }
    sj_val *store = sj_get(root, "logs_store");
    if (store) {
        size_t old = cfg_push_key(c, "logs_store");
        if (cfg_logs_store(c, store, out) != 0)
            return -1;
        cfg_pop(c, old);
    }
    if (out->n_providers == 0 && c->warn)
        fprintf(c->warn, "sluice: warning: %s: no providers configured; every chat request will get 404\n",
                c->file);
    return 0;
}

/* Reads a whole file (at most CFG_MAX_FILE bytes) into a malloc'd buffer. */
static char *cfg_read_file(cfg_ctx *c, size_t *len)
{
    FILE *f = fopen(c->file, "rb");
    if (f == NULL) {
        snprintf(c->err, c->errlen, "%s: cannot open: %m", c->file);
        return NULL;
    }
    char *buf = malloc(CFG_MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, CFG_MAX_FILE + 1, f) : 0;
    bool bad = buf == NULL || ferror(f) || n > CFG_MAX_FILE;
    fclose(f);
    if (bad) {
        snprintf(c->err, c->errlen, "%s: cannot read (or larger than 16 MiB)", c->file);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int cfg_load_text(const char *name, const char *text, size_t len, FILE *warn, cfg_config *out, char *err,
                  size_t errlen)
{
    cfg_ctx c = {.file = name, .warn = warn, .err = err, .errlen = errlen};
    memset(out, 0, sizeof(*out));
    out->max_body_bytes = (size_t)10 << 20;
    out->enable_logging = true;
    out->log_request_lines = true;
    sj_error perr = {0};
    sj_doc *doc = sj_parse(text, len, NULL, &perr);
    if (doc == NULL) {
        snprintf(err, errlen, "%s: not valid JSON: %s at byte %zu", name, perr.msg ? perr.msg : "error",
                 perr.offset);
        return -1;
    }
    int rc = cfg_root(&c, sj_doc_root(doc), out);
    sj_doc_free(doc);
    if (rc != 0)
        cfg_free(out);
    return rc;
}

int cfg_load(const char *path, cfg_config *out, char *err, size_t errlen)
{
    cfg_ctx c = {.file = path, .err = err, .errlen = errlen};
    memset(out, 0, sizeof(*out));
    size_t len = 0;
    char *text = cfg_read_file(&c, &len);
    if (text == NULL)
        return -1;
    int rc = cfg_load_text(path, text, len, stderr, out, err, errlen);
    free(text);
    return rc;
}

int cfg_default(cfg_config *out)
{
    memset(out, 0, sizeof(*out));
    out->max_body_bytes = (size_t)10 << 20;
    out->enable_logging = true;
    out->log_request_lines = true;
    out->providers = calloc(1, sizeof(*out->providers));
    if (out->providers == NULL || (out->providers[0].name = strdup("mock")) == NULL) {
        cfg_free(out);
        return -1;
    }
    out->n_providers = 1;
    out->providers[0].family = CFG_FAMILY_MOCK;
    cfg_network_defaults(&out->providers[0].net);
    return 0;
}

static void cfg_free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cfg_free(cfg_config *c)
{
    for (size_t i = 0; i < c->n_providers; i++) {
        cfg_provider *p = &c->providers[i];
        for (size_t k = 0; k < p->n_keys; k++) {
            free(p->keys[k].name);
            free(p->keys[k].value);
            cfg_free_strings(p->keys[k].models, p->keys[k].n_models);
        }
        free(p->keys);
        free(p->name);
        free(p->net.base_url);
        free(p->net.ca_cert_pem);
        cfg_free_strings(p->net.extra_headers, p->net.n_extra_headers);
    }
    free(c->providers);
    for (size_t i = 0; i < c->n_plugins; i++) {
        free(c->plugins[i].name);
        free(c->plugins[i].path);
        free(c->plugins[i].config_json);
        free(c->plugins[i].entry_json);
    }
    free(c->plugins);
    free(c->log_level);
    free(c->log_file);
    free(c->logs_store_path);
    memset(c, 0, sizeof(*c));
}

bool cfg_key_matches(const cfg_key *k, const char *model)
{
    if (k->n_models == 0)
        return true;
    for (size_t i = 0; i < k->n_models; i++)
        if (strcmp(k->models[i], "*") == 0 || strcmp(k->models[i], model) == 0)
            return true;
    return false;
}
