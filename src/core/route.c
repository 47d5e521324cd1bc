/*
 * route.c - maps method + path to a handler; /health, /v1/models, /metrics, /api/logs.
 */
#include <string.h>

#include "core/anthropic_api.h"
#include "core/gateway.h"
#include "obs/obs.h"
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

/* GET /metrics: the Prometheus text exposition. */
static void gw_metrics(srv_request *sr)
{
    sj_buf b = {0};
    if (!obs_metrics_text(&b)) {
        sj_buf_free(&b);
        gw_send_error(sr, 500, NULL, NULL, NULL, "out of memory");
        return;
    }
    h2o_req_t *req = sr->req;
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; version=0.0.4; charset=utf-8"));
    h2o_send_inline(req, b.data, b.len);   /* copies */
    sj_buf_free(&b);
}

/* GET /api/logs?provider=&model=&status=&since=&limit= (the request log store).
 * The SQLite read runs on this worker's loop: an admin query, bounded by limit. */
static void gw_api_logs(srv_request *sr)
{
    h2o_req_t *req = sr->req;
    const char *qs = "";
    size_t qlen = 0;
    if (req->query_at != SIZE_MAX) {
        qs = req->path.base + req->query_at + 1;
        qlen = req->path.len - req->query_at - 1;
    }
    sj_buf b = {0};
    char err[256];
    int status = obs_api_logs(qs, qlen, &b, err, sizeof(err));
    if (status == 200) {
        gw_send_json_owned(sr, 200, b.data, b.len);
        return;
    }
    sj_buf_free(&b);
    gw_send_error(sr, status, status == 400 ? "invalid_request_error" : NULL,
                  status == 400 ? "invalid_parameter" : NULL, NULL, "%s", err);
}

void gw_route(srv_request *sr)
{
    h2o_req_t *req = sr->req;
    if (gw_path_is(req, "/v1/chat/completions")) {
        sr->endpoint = "chat";
        if (gw_method_is(req, "POST"))
            gw_chat(sr);
        else
            gw_method_not_allowed(sr, "POST");
    } else if (gw_path_is(req, GW_ANT_PATH)) {
        sr->endpoint = GW_ANT_ENDPOINT; /* errors here take Anthropic's shape */
        if (gw_method_is(req, "POST"))
            gw_ant_messages(sr);
        else
            gw_method_not_allowed(sr, "POST");
    } else if (gw_path_is(req, "/v1/models")) {
        sr->endpoint = "models";
        if (gw_method_is(req, "GET"))
            gw_models(sr);
        else
            gw_method_not_allowed(sr, "GET");
    } else if (gw_path_is(req, "/health")) {
        sr->endpoint = "health";
        if (gw_method_is(req, "GET"))
            gw_send_json(sr, 200, H2O_STRLIT("{\"status\":\"ok\"}"));
        else
            gw_method_not_allowed(sr, "GET");
    } else if (gw_path_is(req, "/metrics")) {
        sr->endpoint = "metrics";
        if (gw_method_is(req, "GET"))
            gw_metrics(sr);
        else
            gw_method_not_allowed(sr, "GET");
    } else if (gw_path_is(req, "/api/logs")) {
        sr->endpoint = "logs";
        if (gw_method_is(req, "GET"))
            gw_api_logs(sr);
        else
            gw_method_not_allowed(sr, "GET");
    } else {
        gw_send_error(sr, 404, "invalid_request_error", "unknown_url", NULL, "Invalid URL (%.*s %.*s)",
                      (int)req->method.len, req->method.base, (int)(req->path_normalized.len > 200 ? 200 : req->path_normalized.len),
                      req->path_normalized.base);
    }
}
