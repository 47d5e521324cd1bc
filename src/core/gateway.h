/*
 * gateway.h - the request side of the gateway: routing, the chat-completions
 * handler and OpenAI-shaped responses. Prefix: gw_.
 *
 * gw_cfg is set once by main() before the server starts and only read after
 * that (by every worker thread).
 */
#ifndef SLUICE_CORE_GATEWAY_H
#define SLUICE_CORE_GATEWAY_H

#include <stdarg.h>

#include "core/config.h"
#include "http/server.h"
#include "sluice/json.h"

extern const cfg_config *gw_cfg;

/* POST /v1/chat/completions */
void gw_chat(srv_request *sr);

/* Appends {"error":{"message","type","code","param"}} onto b; code and param
 * may be NULL (written as null). */
void gw_error_json(sj_buf *b, const char *message, const char *type, const char *code, const char *param);

/* Sends a complete JSON response (the body is copied). */
void gw_send_json(srv_request *sr, int status, const char *body, size_t len);

/* The same without a copy: takes ownership of a malloc'd body, freed with the request. */
void gw_send_json_owned(srv_request *sr, int status, char *body, size_t len);

/* Sends an OpenAI-shaped error (Anthropic-shaped on the Anthropic endpoint,
 * see errors.c); the message is printf-formatted. */
void gw_send_error(srv_request *sr, int status, const char *type, const char *code, const char *param,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The reason phrase for a status ("Not Found"). */
const char *gw_reason(int status);

/* The OpenAI error type that fits an HTTP status. */
const char *gw_error_type(int status);

/* "a string", "an array", ... for error messages about a JSON value's type. */
const char *gw_type_name(const sj_val *v);

#endif /* SLUICE_CORE_GATEWAY_H */
