/*
 * route.c - maps method + path to a handler; /health and /v1/models.
 */
#include <string.h>

#include "core/gateway.h"
#include "provider/provider.h"

const cfg_config *gw_cfg;

static bool gw_path_is(h2o_req_t *req, const char *path)
{
    return h2o_memis(req->path_normalized.base, req->path_normalized.len, path, strlen(path));
}

static bool gw_method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static void gw_method_not_allowed(srv_request *sr, const char *allow)
{
    h2o_add_header(&sr->req->pool, &sr->req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, strlen(allow));
    gw_send_error(sr, 405, "invalid_request_error", "method_not_allowed", NULL, "Method %.*s not allowed for %.*s; use %s",
                  (int)sr->req->method.len, sr->req->method.base, (int)sr->req->path_normalized.len,
                  sr->req->path_normalized.base, allow);
}

static void gw_models(srv_request *sr)
{
    sj_buf b = {0};
    prov_models_json(gw_cfg, &b);
    if (b.oom)
        gw_send_error(sr, 500, NULL, NULL, NULL, "out of memory");
    else
        gw_send_json(sr, 200, b.data, b.len);
    sj_buf_free(&b);
}

void gw_route(srv_request *sr)
{
    h2o_req_t *req = sr->req;
    if (gw_path_is(req, "/v1/chat/completions")) {
        if (gw_method_is(req, "POST"))
            gw_chat(sr);
        else
            gw_method_not_allowed(sr, "POST");
    } else if (gw_path_is(req, "/v1/models")) {
        if (gw_method_is(req, "GET"))
            gw_models(sr);
        else
            gw_method_not_allowed(sr, "GET");
    } else if (gw_path_is(req, "/health")) {
        if (gw_method_is(req, "GET"))
            gw_send_json(sr, 200, H2O_STRLIT("{\"status\":\"ok\"}"));
        else
            gw_method_not_allowed(sr, "GET");
    } else {
        gw_send_error(sr, 404, "invalid_request_error", "unknown_url", NULL, "Invalid URL (%.*s %.*s)",
                      (int)req->method.len, req->method.base, (int)(req->path_normalized.len > 200 ? 200 : req->path_normalized.len),
                      req->path_normalized.base);
    }
}
