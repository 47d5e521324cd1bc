/*
 * src/plugin/pipeline.c - the plugin set: loading the config entries (WASM
 * modules or native .so files), the per-worker instance pool, failure
 * accounting (replace the instance; cool a plugin down after repeated
 * failures) and the hook order of SPEC §3.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugin/plugin_int.h"

/* One instance slot. Workers map onto slots worker % nslots; a slot is
 * locked only when several workers share it. */
typedef struct plg_slot {
    plg_winst *wi;
    pthread_mutex_t mu;
} plg_slot;

typedef struct plg_plugin {
    char *name;               /* get_name() or the entry's name */
    bool fail_closed;
    plg_wmod *wmod;           /* WASM, or */
    void *dl;                 /* native: dlopen handle, */
    const struct sluice_plugin *native;
    void *native_state;
    plg_slot *slots;
    size_t nslots;
    bool shared_slots;
    _Atomic unsigned consecutive_failures;
    _Atomic uint64_t cooldown_until_ms;
    _Atomic uint64_t calls, failures, replaced, skipped, recycled;
} plg_plugin;

struct plg_set {
    plg_plugin *plugins;
    size_t n;
    unsigned workers;
    unsigned max_failures;
    uint64_t cooldown_ms;
    plg_log_fn log;
    void *log_user;
    plg_observer obs;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool plg_name_usable(const char *s, size_t len)
{
    if (len == 0 || len > PLG_NAME_MAX) return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) return false;
    return true;
}

static void set_log(plg_set *set, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_log(plg_set *set, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (set->log) set->log(set->log_user, line);
    else fprintf(stderr, "%s\n", line);
}

void plg_set_log(plg_set *set, plg_log_fn fn, void *user)
{
    set->log = fn;
    set->log_user = user;
}

static plg_log_fn default_log;
static void *default_log_user;

void plg_log_default(plg_log_fn fn, void *user)
{
    default_log = fn;
    default_log_user = user;
}

void plg_set_observer(plg_set *set, const plg_observer *obs)
{
    set->obs = obs ? *obs : (plg_observer){0};
}

void plg_set_cooldown(plg_set *set, unsigned failures, uint64_t cooldown_ms)
{
    set->max_failures = failures;
    set->cooldown_ms = cooldown_ms;
}

/* ---- config entries ------------------------------------------------------------ */

static int u32_field(const sj_val *entry, const char *key, uint32_t *out, char *err, size_t errlen)
{
    const sj_val *v = sj_get(entry, key);
    int64_t n;
    if (!v || sj_is_null(v)) return 0;
    if (!sj_i64(v, &n) || n <= 0 || n > 1000000) {
        snprintf(err, errlen, "plugins[].%s: expected a positive integer", key);
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

int plg_spec_parse(const sj_val *entry, plg_spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->enabled = true;
    if (!sj_is_object(entry)) { snprintf(err, errlen, "plugins[]: expected an object"); return -1; }
    out->name = sj_str(sj_get(entry, "name"), NULL);
    out->path = sj_str(sj_get(entry, "path"), NULL);
    if (!out->path) { snprintf(err, errlen, "plugins[].path: expected a string"); return -1; }
    out->sha256 = sj_str(sj_get(entry, "sha256"), NULL);
    out->enabled = sj_bool(sj_get(entry, "enabled"), true);
    out->fail_closed = sj_str_eq(sj_get(entry, "on_error"), "fail");
    const sj_val *engine = sj_get(entry, "engine");
    out->engine = PLG_ENGINE_AUTO;
    if (engine && !sj_is_null(engine)) {
        if (sj_str_eq(engine, "interp")) out->engine = PLG_ENGINE_INTERP;
        else if (sj_str_eq(engine, "aot")) out->engine = PLG_ENGINE_AOT;
        else if (!sj_str_eq(engine, "auto")) {
            snprintf(err, errlen, "plugins[].engine: expected \"auto\", \"interp\" or \"aot\"");
            return -1;
        }
    }
    if (u32_field(entry, "max_memory_mb", &out->max_memory_mb, err, errlen) ||
        u32_field(entry, "timeout_ms", &out->timeout_ms, err, errlen) ||
        u32_field(entry, "instances", &out->instances, err, errlen))
        return -1;
    return 0;
}

/* ---- loading -------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int load_native(plg_set *set, plg_plugin *p, const plg_spec *s, char *err, size_t errlen)
{
    p->dl = dlopen(s->path, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl) { snprintf(err, errlen, "dlopen: %s", dlerror()); return -1; }
    sluice_plugin_v1_fn fn;
    *(void **)&fn = dlsym(p->dl, "sluice_plugin_v1");
    p->native = fn ? fn() : NULL;
    if (!p->native || p->native->abi_version != SLUICE_PLUGIN_ABI_VERSION) {
        snprintf(err, errlen, "%s: no sluice_plugin_v1 of ABI version %d", s->path, SLUICE_PLUGIN_ABI_VERSION);
        return -1;
    }
    const char *cfg = s->config_json ? s->config_json : "{}";
    if (p->native->init && p->native->init(cfg, strlen(cfg), &p->native_state) != 0) {
        snprintf(err, errlen, "init failed");
        p->native = NULL; /* no cleanup after a failed init */
        return -1;
    }
    const char *own = p->native->name;
    if (own && !plg_name_usable(own, strnlen(own, PLG_NAME_MAX + 1))) {
        set_log(set, "plugin %s: its name is not usable (1..%d printable ASCII characters); keeping '%s'",
                p->name, PLG_NAME_MAX, p->name);
        own = NULL;
    }
    if (own) {
        free(p->name);
        p->name = strdup(own);
    }
    return p->name ? 0 : -1;
}

static int load_wasm(plg_set *set, plg_plugin *p, const plg_spec *s, char *err, size_t errlen)
{
    size_t len;
    uint8_t *bytes = plg_fetch(s->path, s->sha256, &len, err, errlen);
    if (!bytes) return -1;
    p->wmod = plg_wmod_load(p->name, bytes, len, s->config_json, s->max_memory_mb, s->timeout_ms, s->engine,
                            set->log, set->log_user, err, errlen);
    free(bytes);
    if (!p->wmod) return -1;
    /* The probe instance: proves init succeeds, and serves slot 0. */
    char *name = NULL;
    p->slots[0].wi = plg_winst_new(p->wmod, &name, err, errlen);
    if (!p->slots[0].wi) return -1;
    if (name) { free(p->name); p->name = name; } /* checked by plg_winst_new */
    return 0;
}

static void plugin_free(plg_plugin *p)
{
    for (size_t i = 0; p->slots && i < p->nslots; i++) {
        plg_winst_free(p->slots[i].wi);
        pthread_mutex_destroy(&p->slots[i].mu);
    }
    free(p->slots);
    plg_wmod_free(p->wmod);
    if (p->native && p->native->cleanup) p->native->cleanup(p->native_state);
    if (p->dl) dlclose(p->dl);
    free(p->name);
}

plg_set *plg_set_load(const plg_spec *specs, size_t n, unsigned workers, char *err, size_t errlen)
{
    plg_set *set = calloc(1, sizeof *set);
    if (!set || !(set->plugins = calloc(n ? n : 1, sizeof *set->plugins))) {
        free(set);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    set->workers = workers ? workers : 1;
    set->max_failures = 5;
    set->cooldown_ms = 30000;
    set->log = default_log;
    set->log_user = default_log_user;
    for (size_t i = 0; i < n; i++) {
        const plg_spec *s = &specs[i];
        if (!s->enabled) continue;
        plg_plugin *p = &set->plugins[set->n++];
        char why[400] = "out of memory";
        p->name = strdup(s->name ? s->name : s->path);
        p->fail_closed = s->fail_closed;
        p->nslots = s->instances && s->instances < set->workers ? s->instances : set->workers;
        p->shared_slots = p->nslots < set->workers;
        p->slots = calloc(p->nslots, sizeof *p->slots);
        for (size_t k = 0; p->slots && k < p->nslots; k++) pthread_mutex_init(&p->slots[k].mu, NULL);
        int rc = !p->name || !p->slots ? -1
                 : ends_with(s->path, ".so") ? load_native(set, p, s, why, sizeof why)
                                             : load_wasm(set, p, s, why, sizeof why);
        if (rc != 0) {
            snprintf(err, errlen, "plugin %s (%s): %s", s->name ? s->name : "?", s->path, why);
            plg_set_free(set);
            return NULL;
        }
    }
    return set;
}

void plg_set_free(plg_set *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) plugin_free(&set->plugins[i]);
    free(set->plugins);
    free(set);
}

size_t plg_set_count(const plg_set *set) { return set ? set->n : 0; }
const char *plg_set_name(const plg_set *set, size_t i) { return i < set->n ? set->plugins[i].name : NULL; }

void plg_set_stats(const plg_set *set, size_t i, plg_stats *out)
{
    const plg_plugin *p = &set->plugins[i];
    out->calls = p->calls;
    out->failures = p->failures;
    out->replaced = p->replaced;
    out->skipped_cooldown = p->skipped;
    out->recycled = p->recycled;
    out->cooling_down = p->cooldown_until_ms > now_ms();
    out->aot = p->wmod && plg_wmod_is_aot(p->wmod);
}

bool plg_set_has_hook(const plg_set *set, int h)
{
    for (size_t i = 0; set && i < set->n; i++) {
        const plg_plugin *p = &set->plugins[i];
        if (p->wmod && plg_wmod_has(p->wmod, (plg_hook)h)) return true;
        if (p->native) {
            const struct sluice_plugin *np = p->native;
            const void *fns[PLG_NHOOKS] = {(const void *)np->http_pre_hook, (const void *)np->http_post_hook,
                                           (const void *)np->http_stream_chunk_hook, (const void *)np->pre_hook,
                                           (const void *)np->post_hook};
            if (h >= 0 && h < PLG_NHOOKS && fns[h]) return true;
        }
    }
    return false;
}

/* ---- running one hook -------------------------------------------------------------- */

/* Whether plugin p may run now (not cooling down). */
static bool available(plg_set *set, plg_plugin *p)
{
    uint64_t until = atomic_load(&p->cooldown_until_ms);
    if (until == 0) return true;
    if (now_ms() < until) { p->skipped++; return false; }
    atomic_store(&p->cooldown_until_ms, 0);
    set_log(set, "plugin %s: cooldown over, running it again", p->name);
    return true;
}

/* Counts a sandbox failure; after max_failures in a row, cools down. */
static void note_failure(plg_set *set, plg_plugin *p)
{
    p->failures++;
    unsigned n = atomic_fetch_add(&p->consecutive_failures, 1) + 1;
    if (set->max_failures && n >= set->max_failures) {
        atomic_store(&p->consecutive_failures, 0);
        atomic_store(&p->cooldown_until_ms, now_ms() + set->cooldown_ms);
        set_log(set, "plugin %s: %u consecutive failures, SKIPPED for %llu ms", p->name, n,
                (unsigned long long)set->cooldown_ms);
    }
}

static void note_recycle(plg_set *set, plg_plugin *p)
{
    if (set->obs.recycle) set->obs.recycle(set->obs.user, p->name);
}

/* Runs WASM hook h of p with input in[0..len); returns the parsed output
 * (caller frees) or NULL after a sandbox failure (logged, instance
 * discarded, failure counted, *outcome says which kind). */
static sj_doc *run_wasm(plg_set *set, plg_plugin *p, unsigned worker, plg_hook h, const sj_buf *in,
                        plg_outcome *outcome)
{
    plg_slot *slot = &p->slots[worker % p->nslots];
    char err[512] = "";
    char *out = NULL;
    size_t out_len = 0;
    sj_doc *doc = NULL;
    bool tier_up = false, retired = false;
    *outcome = PLG_OUT_ERROR;
    if (p->shared_slots) pthread_mutex_lock(&slot->mu);
    /* Between calls only: an instance is wholly one tier, and a call never
     * sees its instance replaced under it. */
    if (slot->wi && plg_winst_outdated(slot->wi, &tier_up)) {
        plg_winst_free(slot->wi);
        slot->wi = NULL;
        retired = !tier_up;
    }
    if (!slot->wi) {
        slot->wi = plg_winst_new(p->wmod, NULL, err, sizeof err);
        if (slot->wi && !tier_up && !retired) p->replaced++;
    }
    int rc = slot->wi ? plg_winst_call(slot->wi, h, in->data, in->len, &out, &out_len, err, sizeof err)
                      : -PLG_OUT_ERROR;
    if (rc == 0) {
        sj_error je;
        doc = sj_parse(out, out_len, NULL, &je);
        if (!doc) snprintf(err, sizeof err, "invalid JSON output at byte %zu: %s", je.offset, je.msg);
        free(out);
    } else {
        *outcome = (plg_outcome)-rc;
    }
    if (!doc) {
        /* Discard the suspect instance; the next call gets a fresh one. */
        plg_winst_free(slot->wi);
        slot->wi = NULL;
    }
    if (p->shared_slots) pthread_mutex_unlock(&slot->mu);
    if (retired) {
        p->recycled++;
        note_recycle(set, p);
    }
    if (!doc) {
        set_log(set, "plugin %s: hook failed, instance replaced: %s", p->name, err);
        note_failure(set, p);
        note_recycle(set, p);
    } else {
        *outcome = PLG_OUT_OK;
        atomic_store(&p->consecutive_failures, 0);
    }
    return doc;
}

/* The hook-specific parts: build the input, apply the output, or call the
 * native function. */
typedef struct hook_call {
    plg_hook hook;
    sluice_ctx *ctx;
    sluice_http_request *req;
    sluice_http_response *resp;
    sj_doc **chunk;
    sluice_chat *chat;
} hook_call;

static bool build_input(sj_buf *b, const hook_call *c)
{
    switch (c->hook) {
    case PLG_HOOK_HTTP_PRE: return plg_json_http_pre_in(b, c->ctx, c->req);
    case PLG_HOOK_HTTP_POST: return plg_json_http_post_in(b, c->ctx, c->req, c->resp);
    case PLG_HOOK_STREAM_CHUNK: return plg_json_chunk_in(b, c->ctx, c->req, *c->chunk);
    case PLG_HOOK_PRE: return plg_json_pre_in(b, c->ctx, c->chat);
    default: return plg_json_post_in(b, c->ctx, c->chat);
    }
}

static sluice_hook_result apply_output(const sj_val *out, const hook_call *c, bool *reported, char *err, size_t n)
{
    switch (c->hook) {
    case PLG_HOOK_HTTP_PRE: return plg_apply_http_pre(out, c->ctx, c->req, c->resp, reported, err, n);
    case PLG_HOOK_HTTP_POST: return plg_apply_http_post(out, c->ctx, c->resp, reported, err, n);
    case PLG_HOOK_STREAM_CHUNK: return plg_apply_chunk(out, c->ctx, c->chunk, reported, err, n);
    case PLG_HOOK_PRE: return plg_apply_pre(out, c->ctx, c->chat, reported, err, n);
    default: return plg_apply_post(out, c->ctx, c->chat, reported, err, n);
    }
}

static sluice_hook_result call_native(plg_plugin *p, const hook_call *c, char *err, size_t n)
{
    const struct sluice_plugin *np = p->native;
    void *st = p->native_state;
    switch (c->hook) {
    case PLG_HOOK_HTTP_PRE:
        return np->http_pre_hook ? np->http_pre_hook(st, c->ctx, c->req, c->resp, err, n) : SLUICE_CONTINUE;
    case PLG_HOOK_HTTP_POST:
        return np->http_post_hook ? np->http_post_hook(st, c->ctx, c->req, c->resp, err, n) : SLUICE_CONTINUE;
    case PLG_HOOK_STREAM_CHUNK:
        return np->http_stream_chunk_hook ? np->http_stream_chunk_hook(st, c->ctx, c->req, c->chunk, err, n)
                                          : SLUICE_CONTINUE;
    case PLG_HOOK_PRE: return np->pre_hook ? np->pre_hook(st, c->ctx, c->chat, err, n) : SLUICE_CONTINUE;
    default: return np->post_hook ? np->post_hook(st, c->ctx, c->chat, err, n) : SLUICE_CONTINUE;
    }
}

static const char *const hook_names[PLG_NHOOKS] = {
    "http_pre_hook", "http_post_hook", "http_stream_chunk_hook", "pre_hook", "post_hook",
};

static sluice_hook_result run_hook_timed(plg_set *set, plg_plugin *p, unsigned worker, const hook_call *c,
                                         plg_outcome *outcome);

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one plugin's hook, reporting it to the observer (if any). */
static sluice_hook_result run_hook(plg_set *set, plg_plugin *p, unsigned worker, const hook_call *c)
{
    if (!available(set, p)) return SLUICE_CONTINUE;
    if (p->wmod && !plg_wmod_has(p->wmod, c->hook)) return SLUICE_CONTINUE;
    if (!set->obs.hook) {
        plg_outcome o;
        return run_hook_timed(set, p, worker, c, &o);
    }
    plg_outcome o = PLG_OUT_OK;
    double t0 = mono_s();
    sluice_hook_result r = run_hook_timed(set, p, worker, c, &o);
    set->obs.hook(set->obs.user, p->name, hook_names[c->hook], o, mono_s() - t0);
    return r;
}

/* Runs one plugin's hook. Errors are logged here; the return value is the
 * hook's decision with errors mapped to CONTINUE (fail-open) or to
 * SLUICE_HOOK_ERROR for an on_error=fail plugin. */
static sluice_hook_result run_hook_timed(plg_set *set, plg_plugin *p, unsigned worker, const hook_call *c,
                                         plg_outcome *outcome)
{
    char err[512] = "";
    sluice_hook_result r;
    *outcome = PLG_OUT_OK;
    p->calls++;
    if (p->native) {
        r = call_native(p, c, err, sizeof err);
        if (r == SLUICE_HOOK_ERROR) {
            *outcome = PLG_OUT_ERROR;
            set_log(set, "plugin %s: %s: %s", p->name, hook_names[c->hook], err);
        }
    } else {
        sj_buf in = {0};
        if (!build_input(&in, c)) {
            sj_buf_free(&in);
            *outcome = PLG_OUT_ERROR;
            set_log(set, "plugin %s: out of memory building hook input", p->name);
            return p->fail_closed ? SLUICE_HOOK_ERROR : SLUICE_CONTINUE;
        }
        sj_doc *out = run_wasm(set, p, worker, c->hook, &in, outcome);
        sj_buf_free(&in);
        if (!out) return p->fail_closed ? SLUICE_HOOK_ERROR : SLUICE_CONTINUE;
        bool reported = true;
        r = apply_output(sj_doc_root(out), c, &reported, err, sizeof err);
        sj_doc_free(out);
        if (r == SLUICE_HOOK_ERROR) {
            *outcome = PLG_OUT_ERROR;
            set_log(set, "plugin %s: %s: %s", p->name, hook_names[c->hook], err);
            if (!reported) {
                /* Malformed output counts as misbehaviour, like a trap. */
                plg_slot *slot = &p->slots[worker % p->nslots];
                if (p->shared_slots) pthread_mutex_lock(&slot->mu);
                plg_winst_free(slot->wi);
                slot->wi = NULL;
                if (p->shared_slots) pthread_mutex_unlock(&slot->mu);
                note_failure(set, p);
                note_recycle(set, p);
            }
        }
    }
    if (r == SLUICE_HOOK_ERROR && !p->fail_closed) return SLUICE_CONTINUE;
    return r;
}

/* ---- the pipeline ---------------------------------------------------------------------- */

static plg_decision decide(sluice_hook_result r)
{
    return r == SLUICE_RESPOND ? PLG_SHORT_CIRCUIT : r == SLUICE_SKIP ? PLG_SKIP
           : r == SLUICE_HOOK_ERROR ? PLG_FAIL : PLG_CONTINUE;
}

/* Runs hook c->hook forward over all plugins, stopping at the first that
 * does not continue; *ran counts the plugins whose hook ran. */
static plg_decision run_forward(plg_set *set, unsigned worker, const hook_call *c, size_t *ran)
{
    *ran = 0;
    for (size_t i = 0; set && i < set->n; i++) {
        *ran = i + 1;
        sluice_hook_result r = run_hook(set, &set->plugins[i], worker, c);
        if (r != SLUICE_CONTINUE) return decide(r);
    }
    return PLG_CONTINUE;
}

/* Runs the hook for plugins from-1..0. */
static plg_decision run_reverse(plg_set *set, unsigned worker, const hook_call *c, size_t from)
{
    if (!set) return PLG_CONTINUE;
    if (from > set->n) from = set->n;
    for (size_t i = from; i-- > 0;) {
        sluice_hook_result r = run_hook(set, &set->plugins[i], worker, c);
        if (r == SLUICE_HOOK_ERROR || r == SLUICE_SKIP) return decide(r);
    }
    return PLG_CONTINUE;
}

plg_decision plg_http_pre(plg_set *set, unsigned worker, sluice_ctx *ctx, sluice_http_request *req,
                          sluice_http_response *resp, size_t *ran)
{
    hook_call c = {.hook = PLG_HOOK_HTTP_PRE, .ctx = ctx, .req = req, .resp = resp};
    return run_forward(set, worker, &c, ran);
}

plg_decision plg_http_post(plg_set *set, unsigned worker, sluice_ctx *ctx, const sluice_http_request *req,
                           sluice_http_response *resp, size_t ran)
{
    hook_call c = {.hook = PLG_HOOK_HTTP_POST, .ctx = ctx, .req = (sluice_http_request *)req, .resp = resp};
    return run_reverse(set, worker, &c, ran);
}

plg_decision plg_stream_chunk(plg_set *set, unsigned worker, sluice_ctx *ctx, const sluice_http_request *req,
                              sj_doc **chunk)
{
    hook_call c = {.hook = PLG_HOOK_STREAM_CHUNK, .ctx = ctx, .req = (sluice_http_request *)req, .chunk = chunk};
    return run_reverse(set, worker, &c, SIZE_MAX);
}

plg_decision plg_pre(plg_set *set, unsigned worker, sluice_ctx *ctx, sluice_chat *chat, size_t *ran)
{
    hook_call c = {.hook = PLG_HOOK_PRE, .ctx = ctx, .chat = chat};
    return run_forward(set, worker, &c, ran);
}

plg_decision plg_post(plg_set *set, unsigned worker, sluice_ctx *ctx, sluice_chat *chat, size_t ran)
{
    hook_call c = {.hook = PLG_HOOK_POST, .ctx = ctx, .chat = chat};
    return run_reverse(set, worker, &c, ran);
}
