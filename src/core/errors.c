/*
 * errors.c - JSON and OpenAI-shaped error responses. On the Anthropic
 * drop-in endpoint (sr->endpoint == GW_ANT_ENDPOINT) every error the gateway
 * itself sends takes Anthropic's shape instead, wherever it comes from
 * (validation, model resolution, plugins), so clients there see one shape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/anthropic_api.h"
#include "core/gateway.h"
#include "provider/anthropic_xlate.h"

const char *gw_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 500 ? "Client Error" : "Server Error";
    }
}

const char *gw_error_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "invalid_request_error";
    case 429: return "rate_limit_error";
    default: return status < 500 ? "invalid_request_error" : "server_error";
    }
}

static void gw_str_or_null(sj_buf *b, const char *s)
{
    if (s)
        sj_buf_str(b, s, strlen(s));
    else
        sj_buf_cstr(b, "null");
}

void gw_error_json(sj_buf *b, const char *message, const char *type, const char *code, const char *param)
{
    sj_buf_cstr(b, "{\"error\":{\"message\":");
    sj_buf_str(b, message, strlen(message));
    sj_buf_cstr(b, ",\"type\":");
    gw_str_or_null(b, type);
    sj_buf_cstr(b, ",\"code\":");
    gw_str_or_null(b, code);
    sj_buf_cstr(b, ",\"param\":");
    gw_str_or_null(b, param);
    sj_buf_cstr(b, "}}");
}

/* Status line and headers of a JSON response of len bytes. */
static void gw_json_head(h2o_req_t *req, int status, size_t len)
{
    req->res.status = status;
    req->res.reason = gw_reason(status);
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
}

void gw_send_json(srv_request *sr, int status, const char *body, size_t len)
{
    gw_json_head(sr->req, status, len);
    h2o_send_inline(sr->req, body, len);
}

/* Frees the body handed to gw_send_json_owned when the request is done. */
static void gw_free_owned(void *p)
{
    free(*(char **)p);
}

void gw_send_json_owned(srv_request *sr, int status, char *body, size_t len)
{
    static h2o_generator_t no_generator = {NULL, NULL};
    h2o_req_t *req = sr->req;
    char **slot = h2o_mem_alloc_shared(&req->pool, sizeof(*slot), gw_free_owned);
    *slot = body;
    gw_json_head(req, status, len);
    h2o_start_response(req, &no_generator);
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

void gw_send_error(srv_request *sr, int status, const char *type, const char *code, const char *param,
                   const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (sr->obs.error[0] == '\0')   /* for the request log: the first error's code */
        snprintf(sr->obs.error, sizeof(sr->obs.error), "%s", code ? code : type ? type : gw_error_type(status));
    sj_buf b = {0};
    if (sr->endpoint != NULL && strcmp(sr->endpoint, GW_ANT_ENDPOINT) == 0) {
        char amsg[sizeof(msg) + 64]; /* Anthropic errors have no param: it leads the message */
        snprintf(amsg, sizeof(amsg), "%s%s%s", param ? param : "", param ? ": " : "", msg);
        ant_error_json(&b, status, amsg);
    } else {
        gw_error_json(&b, msg, type ? type : gw_error_type(status), code, param);
    }
    if (b.oom)
        gw_send_json(sr, 500, H2O_STRLIT("{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\"}}"));
    else
        gw_send_json(sr, status, b.data, b.len);
    sj_buf_free(&b);
}

const char *gw_type_name(const sj_val *v)
{
    switch (sj_type_of(v)) {
    case SJ_NULL: return "null";
    case SJ_FALSE:
    case SJ_TRUE: return "a boolean";
    case SJ_NUMBER: return "a number";
    case SJ_STRING: return "a string";
    case SJ_ARRAY: return "an array";
    case SJ_OBJECT: return "an object";
    }
    return "?";
}
