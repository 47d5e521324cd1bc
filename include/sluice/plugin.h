/*
 * sluice/plugin.h - the data a Sluice plugin hook sees, and the native (C
 * shared object) plugin ABI.
 *
 * The same typed structs carry a request through the gateway's plugin
 * pipeline whether the plugin is WebAssembly (the host turns them into the
 * hook JSON of SPEC §3) or a native .so (which gets them directly).
 *
 * Native plugins: build a shared object exporting
 *
 *     const struct sluice_plugin *sluice_plugin_v1(void);
 *
 * returning a static struct with abi_version = SLUICE_PLUGIN_ABI_VERSION, a
 * name and any subset of the hooks. Point a config "plugins" entry's `path`
 * at the file (the name must end in ".so"). The helper functions declared
 * below (sluice_map_*, sluice_ctx_*, sluice_body_set) live in the gateway
 * binary, which exports them to the plugins it loads.
 *
 * Ownership: every string and body in these structs is malloc'd and owned by
 * the struct; a hook changes them only through the helpers (or by freeing
 * and replacing a pointer with malloc'd memory of its own).
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_PLUGIN_ABI_VERSION 1

/* A string map (headers, query, path parameters). Names keep the client's
 * casing; lookups compare case-insensitively. */
typedef struct sluice_pair {
    char *name;
    char *value;
} sluice_pair;

typedef struct sluice_map {
    sluice_pair *items;
    size_t count, cap;
} sluice_map;

/* The value of `name` (case-insensitive), or NULL. Borrowed from the map. */
const char *sluice_map_get(const sluice_map *m, const char *name);
/* Sets name to value (both copied), replacing the first entry with that name
 * (case-insensitive) or appending. Returns false on OOM. */
bool sluice_map_set(sluice_map *m, const char *name, const char *value);
/* Removes every entry with that name; returns how many. */
size_t sluice_map_del(sluice_map *m, const char *name);
void sluice_map_clear(sluice_map *m);

typedef struct sluice_http_request {
    char *method;
    char *path;
    sluice_map headers;
    sluice_map query;
    sluice_map path_params;
    uint8_t *body;
    size_t body_len;
} sluice_http_request;

typedef struct sluice_http_response {
    int status_code;
    sluice_map headers;
    uint8_t *body;
    size_t body_len;
} sluice_http_response;

/* Replaces *body with a copy of data[0..len). Returns false on OOM. */
bool sluice_body_set(uint8_t **body, size_t *body_len, const void *data, size_t len);

/* The per-request context: a flat JSON object {"request_id": ..., ...}. */
typedef struct sluice_ctx {
    sj_doc *doc; /* root is an object */
} sluice_ctx;

/* A context value (borrowed), or NULL. */
const sj_val *sluice_ctx_get(const sluice_ctx *c, const char *key);
/* A string value (borrowed), or NULL if absent or not a string. */
const char *sluice_ctx_get_str(const sluice_ctx *c, const char *key);
/* Sets key to a copy of v (from any document). "request_id" cannot be set.
 * Returns false on OOM or for request_id. */
bool sluice_ctx_set(sluice_ctx *c, const char *key, const sj_val *v);
bool sluice_ctx_set_str(sluice_ctx *c, const char *key, const char *value);

/* What a hook decided. */
typedef enum sluice_hook_result {
    SLUICE_CONTINUE = 0,  /* go on (the hook may have changed its inputs) */
    SLUICE_RESPOND = 1,   /* short-circuit: *resp / short-circuit response set */
    SLUICE_SKIP = 2,      /* stream chunk only: drop this chunk */
    SLUICE_HOOK_ERROR = 3 /* the hook failed: `err` holds a message */
} sluice_hook_result;

/* LLM-level data as JSON documents (OpenAI chat shapes). A hook may edit the
 * document in place or replace *doc with a new one it made with sj_* (the
 * old one is then the hook's to free). */
typedef struct sluice_chat {
    sj_doc *request;     /* {"model","messages",...} */
    sj_doc *response;    /* OpenAI chat.completion, or NULL */
    sj_doc *error;       /* BifrostError shape, or NULL */
} sluice_chat;

/* The plugin. Every hook gets the context; `err` (errlen bytes) takes a
 * message when the hook returns SLUICE_HOOK_ERROR. */
struct sluice_plugin {
    uint32_t abi_version;               /* SLUICE_PLUGIN_ABI_VERSION */
    const char *name;
    /* config_json: the entry's "config" ("{}" if absent). Non-zero = load
     * failure. *state is passed to every hook. */
    int (*init)(const char *config_json, size_t len, void **state);
    /* May edit req, or fill resp and return SLUICE_RESPOND. */
    sluice_hook_result (*http_pre_hook)(void *state, sluice_ctx *ctx, sluice_http_request *req,
                                        sluice_http_response *resp, char *err, size_t errlen);
    /* May edit resp. */
    sluice_hook_result (*http_post_hook)(void *state, sluice_ctx *ctx, const sluice_http_request *req,
                                         sluice_http_response *resp, char *err, size_t errlen);
    /* *chunk is one streamed chunk (JSON object); may edit or replace it, or
     * return SLUICE_SKIP. */
    sluice_hook_result (*http_stream_chunk_hook)(void *state, sluice_ctx *ctx, const sluice_http_request *req,
                                                 sj_doc **chunk, char *err, size_t errlen);
    /* May edit chat->request; SLUICE_RESPOND with chat->response or
     * chat->error set short-circuits. */
    sluice_hook_result (*pre_hook)(void *state, sluice_ctx *ctx, sluice_chat *chat, char *err, size_t errlen);
    /* May replace chat->response / chat->error. */
    sluice_hook_result (*post_hook)(void *state, sluice_ctx *ctx, sluice_chat *chat, char *err, size_t errlen);
    void (*cleanup)(void *state);
};

typedef const struct sluice_plugin *(*sluice_plugin_v1_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_PLUGIN_H */
