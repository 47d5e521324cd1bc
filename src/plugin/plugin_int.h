/*
 * src/plugin/plugin_int.h - Sluice's plugin pipeline (prefix plg_).
 *
 * The gateway loads a plugin set once from the config's "plugins" list and
 * then, per request, runs the hooks through the plg_http_* / plg_pre /
 * plg_post calls below, in the order of SPEC §3 "Order and short-circuits".
 * Each call returns a decision; the data it works on (sluice_* structs of
 * include/sluice/plugin.h) is edited in place.
 *
 * Threads: `worker` (0..workers-1) names the calling worker thread; each
 * worker owns its WASM instances, so the hot path takes no lock (unless an
 * entry asks for fewer instances than there are workers; those share).
 */
#ifndef SLUICE_PLUGIN_INT_H
#define SLUICE_PLUGIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/json.h"
#include "sluice/plugin.h"

/* One "plugins" entry. Strings are borrowed (they must outlive
 * plg_set_load, which copies what it keeps). */
/* Which engine tier runs a WASM plugin (docs/plugins.md "Engine tiers").
 * The zero value is the interpreter so that hand-made specs (tests, the
 * probe) never start a compile; plg_spec_parse defaults to AUTO. */
typedef enum plg_engine {
    PLG_ENGINE_INTERP = 0,  /* the interpreter only */
    PLG_ENGINE_AUTO,        /* interpreter now, compiled code once a background compile is done */
    PLG_ENGINE_AOT,         /* compile at load (a failure fails the load) */
} plg_engine;

typedef struct plg_spec {
    const char *name;
    const char *path;         /* .wasm file, .so file, or http(s) URL */
    const char *sha256;       /* optional hex pin for URLs */
    const char *config_json;  /* "{}" if NULL */
    bool enabled;
    bool fail_closed;         /* "on_error": "fail" */
    uint32_t max_memory_mb;   /* 0: 64 */
    uint32_t timeout_ms;      /* 0: 100 */
    uint32_t instances;       /* 0: one per worker */
    plg_engine engine;        /* "engine": "auto" (default) | "interp" | "aot" */
} plg_spec;

/* Fills *out from a config "plugins" entry (strings borrowed from the
 * document). Returns 0, or -1 with a message naming the field. */
int plg_spec_parse(const sj_val *entry, plg_spec *out, char *err, size_t errlen);

typedef struct plg_set plg_set;

/* Loads every enabled entry (module, imports, one probe instance running
 * init). Returns a set the caller frees with plg_set_free(), or NULL with a
 * message in err naming the plugin. workers >= 1. */
plg_set *plg_set_load(const plg_spec *specs, size_t n, unsigned workers, char *err, size_t errlen);
void plg_set_free(plg_set *set); /* runs `cleanup` on every instance */
size_t plg_set_count(const plg_set *set);
const char *plg_set_name(const plg_set *set, size_t i); /* get_name or entry name */

/* Whether a plugin's own name (get_name(), or a native plugin's `name`) can
 * stand in log lines, metric labels and error messages: 1..64 bytes of
 * printable ASCII. Anything else (control characters that would forge log
 * lines, megabytes, bytes that are not text) is refused and the config
 * entry's name used instead, with a warning. */
#define PLG_NAME_MAX 64
bool plg_name_usable(const char *s, size_t len);

/* Where plugin log lines go (stderr by default); for tests. */
typedef void (*plg_log_fn)(void *user, const char *line);
void plg_set_log(plg_set *set, plg_log_fn fn, void *user);
/* The log of sets loaded from now on (NULL: stderr); for load-time output. */
void plg_log_default(plg_log_fn fn, void *user);

typedef enum plg_decision {
    PLG_CONTINUE = 0,     /* go on with the (possibly changed) data */
    PLG_SHORT_CIRCUIT,    /* a plugin answered: send its response / error */
    PLG_SKIP,             /* stream chunk hook: drop this chunk */
    PLG_FAIL,             /* an "on_error": "fail" plugin failed: answer 500 */
} plg_decision;

/* http_pre_hook in config order. On PLG_SHORT_CIRCUIT, *resp holds the
 * plugin's response. *ran is how many plugins' pre-hooks ran (pass it to
 * plg_http_post so that only those post-hooks run, in reverse). */
plg_decision plg_http_pre(plg_set *set, unsigned worker, sluice_ctx *ctx, sluice_http_request *req,
                          sluice_http_response *resp, size_t *ran);
/* http_post_hook for plugins ran-1..0 (SIZE_MAX: all). */
plg_decision plg_http_post(plg_set *set, unsigned worker, sluice_ctx *ctx, const sluice_http_request *req,
                           sluice_http_response *resp, size_t ran);
/* http_stream_chunk_hook for all plugins in reverse; *chunk may be replaced
 * (the old document freed). PLG_SKIP: drop the chunk. */
plg_decision plg_stream_chunk(plg_set *set, unsigned worker, sluice_ctx *ctx, const sluice_http_request *req,
                              sj_doc **chunk);
/* pre_hook in config order; PLG_SHORT_CIRCUIT with chat->response or
 * chat->error set. *ran as for plg_http_pre. */
plg_decision plg_pre(plg_set *set, unsigned worker, sluice_ctx *ctx, sluice_chat *chat, size_t *ran);
/* post_hook for plugins ran-1..0 (SIZE_MAX: all). */
plg_decision plg_post(plg_set *set, unsigned worker, sluice_ctx *ctx, sluice_chat *chat, size_t ran);

/* Per-plugin counters (for tests and /metrics). */
typedef struct plg_stats {
    uint64_t calls, failures, replaced, skipped_cooldown;
    uint64_t recycled;        /* instances retired near the memory cap */
    bool cooling_down;
    bool aot;                 /* new instances run compiled code */
} plg_stats;
void plg_set_stats(const plg_set *set, size_t i, plg_stats *out);
/* Per-hook observations for metrics (src/obs through plugin/gateway.c; the
 * plugin library itself does not link obs). outcome: a plg_outcome. Called on
 * the worker's thread; must be cheap and thread-safe. */
typedef enum plg_outcome { PLG_OUT_OK = 0, PLG_OUT_ERROR, PLG_OUT_TRAP, PLG_OUT_TIMEOUT } plg_outcome;
typedef struct plg_observer {
    void (*hook)(void *user, const char *plugin, const char *hook, plg_outcome outcome, double seconds);
    void (*recycle)(void *user, const char *plugin); /* an instance was discarded or retired */
    void *user;
} plg_observer;
void plg_set_observer(plg_set *set, const plg_observer *obs);
/* Whether any plugin of the set exports hook h (natives: has the pointer). */
bool plg_set_has_hook(const plg_set *set, int h);

/* Cooldown tuning (defaults 5 failures, 30 s); for tests. */
void plg_set_cooldown(plg_set *set, unsigned failures, uint64_t cooldown_ms);

/* ---- helpers shared by the files of this module ---- */

bool plg_ctx_init(sluice_ctx *c, const char *request_id);
void plg_ctx_clear(sluice_ctx *c);
void plg_request_clear(sluice_http_request *r);
void plg_response_clear(sluice_http_response *r);
void plg_chat_clear(sluice_chat *c); /* frees the three documents, NULLs them */
bool plg_b64_encode(sj_buf *b, const uint8_t *src, size_t len);
uint8_t *plg_b64_decode(const char *s, size_t len, size_t *out_len);

/* A plugin's bytes from a file path or an http(s) URL, checked against the
 * hex sha256 pin when given. Returns malloc'd bytes (caller frees) or NULL
 * with err. */
uint8_t *plg_fetch(const char *path, const char *sha256, size_t *len, char *err, size_t errlen);

/* Hooks, in the order of the hook table. */
typedef enum plg_hook {
    PLG_HOOK_HTTP_PRE = 0, PLG_HOOK_HTTP_POST, PLG_HOOK_STREAM_CHUNK, PLG_HOOK_PRE, PLG_HOOK_POST,
    PLG_NHOOKS
} plg_hook;

/* ---- WASM host (wasm_host.c) ---- */

typedef struct plg_wmod plg_wmod;
typedef struct plg_winst plg_winst;

/* Compiles a plugin and checks its imports and exports. Returns a module the
 * caller frees with plg_wmod_free(), or NULL with err. */
plg_wmod *plg_wmod_load(const char *entry_name, const uint8_t *bytes, size_t len, const char *config_json,
                        uint32_t max_memory_mb, uint32_t timeout_ms, plg_engine engine, plg_log_fn log,
                        void *log_user, char *err, size_t errlen);
void plg_wmod_free(plg_wmod *m); /* cancels a background compile (kills its compiler) */
bool plg_wmod_has(const plg_wmod *m, plg_hook h);
/* True once new instances of m run compiled code. */
bool plg_wmod_is_aot(const plg_wmod *m);
/* A fresh instance: instantiate, `_initialize`, `init(config)`. NULL with err
 * on failure (init's non-zero return included). *name_out (may be NULL) gets
 * a malloc'd get_name() result or NULL. */
plg_winst *plg_winst_new(plg_wmod *m, char **name_out, char *err, size_t errlen);
void plg_winst_free(plg_winst *wi); /* runs cleanup() first */
/* True when wi should be retired before its next call: a compiled form of
 * its module became available (tier-up), or its memory passed 3/4 of the
 * cap (a plugin that leaks by design, recycled before it fails). */
bool plg_winst_outdated(const plg_winst *wi, bool *tier_up);
/* Calls hook h with in[0..len) per SPEC §3. Returns 0 with *out (malloc'd,
 * NUL-terminated, caller frees) and *out_len, or a negative plg_outcome
 * (-PLG_OUT_ERROR: bad output pointer/length, -PLG_OUT_TRAP, -PLG_OUT_TIMEOUT)
 * with err: the instance is then suspect and must be discarded. */
int plg_winst_call(plg_winst *wi, plg_hook h, const char *in, size_t len, char **out, size_t *out_len,
                   char *err, size_t errlen);

/* ---- hook JSON (marshal.c) ---- */

bool plg_json_http_pre_in(sj_buf *b, const sluice_ctx *ctx, const sluice_http_request *req);
bool plg_json_http_post_in(sj_buf *b, const sluice_ctx *ctx, const sluice_http_request *req,
                           const sluice_http_response *resp);
bool plg_json_chunk_in(sj_buf *b, const sluice_ctx *ctx, const sluice_http_request *req, const sj_doc *chunk);
bool plg_json_pre_in(sj_buf *b, const sluice_ctx *ctx, const sluice_chat *chat);
bool plg_json_post_in(sj_buf *b, const sluice_ctx *ctx, const sluice_chat *chat);

/* Applies a hook's parsed output `out` (its root). Returns SLUICE_CONTINUE,
 * SLUICE_RESPOND, SLUICE_SKIP, or SLUICE_HOOK_ERROR with err: the plugin's
 * own error string (reported = true) or a malformed output (reported =
 * false; the instance is then discarded like after a trap). */
sluice_hook_result plg_apply_http_pre(const sj_val *out, sluice_ctx *ctx, sluice_http_request *req,
                                      sluice_http_response *resp, bool *reported, char *err, size_t errlen);
sluice_hook_result plg_apply_http_post(const sj_val *out, sluice_ctx *ctx, sluice_http_response *resp,
                                       bool *reported, char *err, size_t errlen);
sluice_hook_result plg_apply_chunk(const sj_val *out, sluice_ctx *ctx, sj_doc **chunk, bool *reported,
                                   char *err, size_t errlen);
sluice_hook_result plg_apply_pre(const sj_val *out, sluice_ctx *ctx, sluice_chat *chat, bool *reported,
                                 char *err, size_t errlen);
sluice_hook_result plg_apply_post(const sj_val *out, sluice_ctx *ctx, sluice_chat *chat, bool *reported,
                                  char *err, size_t errlen);

#endif /* SLUICE_PLUGIN_INT_H */
