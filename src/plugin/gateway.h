/*
 * src/plugin/gateway.h - the plugin pipeline inside the gateway's chat
 * handler (prefix plg_gw_): turning h2o requests into the plugin structs,
 * running each hook stage at its place, and sending what plugins answer.
 * Each call is a no-op pass-through when no plugins are loaded (pr NULL).
 */
#ifndef SLUICE_PLUGIN_GATEWAY_H
#define SLUICE_PLUGIN_GATEWAY_H

#include "core/config.h"
#include "http/server.h"
#include "plugin/plugin_int.h"

typedef struct plg_gw_req plg_gw_req; /* per request, in the request's pool */

/* Loads cfg's enabled plugins for `workers` worker threads (at start-up,
 * before the server runs). 0, or -1 with a message naming the plugin. */
int plg_gw_load(const cfg_config *cfg, unsigned workers, char *err, size_t errlen);
void plg_gw_unload(void);

/* Runs http_pre_hook. Returns false when the request was answered (a
 * plugin short-circuited, or an on_error=fail plugin failed). Else *out is
 * the request's plugin state (NULL without plugins) and *body the request
 * body to use (the plugins may have replaced it). */
bool plg_gw_begin(srv_request *sr, h2o_iovec_t *body, plg_gw_req **out);

/* An endpoint with its own wire format (the Anthropic drop-in) converts the
 * OpenAI-shaped answer or error ({"error":{...}} when *status >= 400) it is
 * about to send: takes ownership of the malloc'd body, returns the malloc'd
 * body to send (NULL on OOM) with its length in *len; may change *status. */
typedef char *(*plg_gw_conv)(void *ud, int *status, char *body, size_t *len);

/* Installs conv (NULL: none): answers are converted after post_hook (which
 * sees the OpenAI form) and before http_post_hook (which sees what goes on
 * the wire). No-op when pr is NULL: the caller converts itself. */
void plg_gw_set_conv(plg_gw_req *pr, plg_gw_conv conv, void *ud);

/* pre_hook for one attempt, on the request document (edited in place).
 * Returns 0 to go on, 1 when answered (sent), 2 to try the next fallback
 * (an error short-circuit that allows fallbacks, when can_fall_back). */
int plg_gw_pre(plg_gw_req *pr, sj_doc *doc, bool can_fall_back);

/* Headers the plugins added or changed, as "Name: value" lines for the
 * upstream request (valid for the request's lifetime); *n gets the count. */
const char *const *plg_gw_upstream_headers(plg_gw_req *pr, size_t *n);

/* Sends a JSON response / an error after post_hook and http_post_hook.
 * plg_gw_send_json takes ownership of the malloc'd body. */
void plg_gw_send_json(plg_gw_req *pr, srv_request *sr, int status, char *body, size_t len);
void plg_gw_send_error(plg_gw_req *pr, srv_request *sr, int status, const char *type, const char *code,
                       const char *message);

/* http_stream_chunk_hook on one chunk's JSON text. Returns false to drop
 * the chunk; else *data and *len may point at a replacement valid until the
 * next call. */
bool plg_gw_chunk(plg_gw_req *pr, const char **data, size_t *len);

/* The end of a stream: post_hook (plugins whose pre_hook ran, in reverse)
 * on the streamed chat.completion as the client saw it (message = NULL), or
 * on the error that ended it. The response already went out, so only the
 * context and the plugins' side effects count (SPEC §3 step 3; docs/plugins.md). */
void plg_gw_stream_end(plg_gw_req *pr, int status, const char *type, const char *code, const char *message);

#endif /* SLUICE_PLUGIN_GATEWAY_H */
