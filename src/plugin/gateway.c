/*
 * src/plugin/gateway.c - glue between the gateway's chat handler (h2o
 * requests, provider calls) and the plugin pipeline of pipeline.c. Kept
 * here so that the handler itself only gains a few calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gateway.h"
#include "obs/obs.h"
#include "plugin/gateway.h"

/* d = call (a pipeline stage), adding the hook failures it caused to the
 * request's log record: obs_plugin_hook counts failures per thread and the
 * hooks run synchronously on this one. */
#define PLG_GW_STAGE(pr, d, call)                                                                   \
    do {                                                                                           \
        unsigned f0_ = obs_plugin_failures_here();                                                 \
        d = (call);                                                                                \
        (pr)->sr->obs.plugin_errors += (int)(obs_plugin_failures_here() - f0_);                    \
    } while (0)

static plg_set *gw_plugins; /* set once at start-up, read by every worker */
static bool gw_has[PLG_NHOOKS]; /* whether any plugin has each hook: skip the JSON work if none */

struct plg_gw_req {
    srv_request *sr;
    unsigned worker;
    sluice_ctx ctx;
    sluice_http_request req;
    sluice_map orig_headers;   /* the client's, to tell what plugins added */
    size_t http_ran, pre_ran;  /* how many plugins' pre-hooks ran */
    char **up_headers;         /* "Name: value" lines, malloc'd */
    size_t n_up_headers;
    char *chunk_out;           /* the last replaced stream chunk */
    plg_gw_conv conv;          /* the endpoint's wire format, or NULL */
    void *conv_ud;
    /* A stream as the client saw it, for post_hook at its end: the first
     * chunk's id/created/model, the content deltas (capped), the finish
     * reason and usage. Only kept when a plugin has a post_hook. */
    sj_doc *stream_acc;
    sj_buf stream_text;
    bool stream_truncated;
};

#define PLG_GW_STREAM_TEXT_MAX (1u << 20)

/* Per-hook metrics: the plugin library reports, src/obs counts. */
static void obs_hook_cb(void *user, const char *plugin, const char *hook, plg_outcome outcome, double seconds)
{
    (void)user;
    obs_plugin_hook(plugin, hook, (obs_hook_outcome)outcome, seconds);
}

static void obs_recycle_cb(void *user, const char *plugin)
{
    (void)user;
    obs_plugin_recycle(plugin);
}

int plg_gw_load(const cfg_config *cfg, unsigned workers, char *err, size_t errlen)
{
    if (cfg->n_plugins == 0) return 0;
    plg_spec *specs = calloc(cfg->n_plugins, sizeof *specs);
    sj_doc **docs = calloc(cfg->n_plugins, sizeof *docs);
    int rc = -1;
    if (!specs || !docs) { snprintf(err, errlen, "out of memory"); goto out; }
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        const cfg_plugin *pl = &cfg->plugins[i];
        const char *entry = pl->entry_json ? pl->entry_json : "{}";
        docs[i] = sj_parse(entry, strlen(entry), NULL, NULL);
        if (!docs[i]) { snprintf(err, errlen, "out of memory"); goto out; }
        sj_val *root = sj_doc_root(docs[i]);
        if (!sj_get(root, "path")) sj_set(docs[i], root, "path", sj_new_cstr(docs[i], pl->path));
        if (plg_spec_parse(root, &specs[i], err, errlen) != 0) goto out;
        specs[i].name = pl->name;
        specs[i].path = pl->path;
        specs[i].enabled = pl->enabled;
        specs[i].config_json = pl->config_json;
    }
    gw_plugins = plg_set_load(specs, cfg->n_plugins, workers, err, errlen);
    if (gw_plugins) {
        plg_set_observer(gw_plugins, &(plg_observer){.hook = obs_hook_cb, .recycle = obs_recycle_cb});
        for (int h = 0; h < PLG_NHOOKS; h++) gw_has[h] = plg_set_has_hook(gw_plugins, h);
        for (size_t i = 0; i < plg_set_count(gw_plugins); i++)
            fprintf(stderr, "sluice: plugin %s loaded\n", plg_set_name(gw_plugins, i));
        rc = 0;
    }
out:
    for (size_t i = 0; docs && i < cfg->n_plugins; i++) sj_doc_free(docs[i]);
    free(docs);
    free(specs);
    return rc;
}

void plg_gw_unload(void)
{
    plg_set_free(gw_plugins);
    gw_plugins = NULL;
    memset(gw_has, 0, sizeof gw_has);
}

static void pr_dispose(void *p)
{
    plg_gw_req *pr = p;
    plg_ctx_clear(&pr->ctx);
    plg_request_clear(&pr->req);
    sluice_map_clear(&pr->orig_headers);
    for (size_t i = 0; i < pr->n_up_headers; i++) free(pr->up_headers[i]);
    free(pr->up_headers);
    free(pr->chunk_out);
    sj_doc_free(pr->stream_acc);
    sj_buf_free(&pr->stream_text);
}

static char *dup_iov(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) { memcpy(d, s, len); d[len] = '\0'; }
    return d;
}

/* Fills pr->req from the h2o request; false on OOM. */
static bool from_h2o(plg_gw_req *pr, h2o_req_t *req)
{
    sluice_http_request *r = &pr->req;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    r->method = dup_iov(req->method.base, req->method.len);
    r->path = dup_iov(req->path.base, plen);
    if (!r->method || !r->path) return false;
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        char *name = dup_iov(h->orig_name ? h->orig_name : h->name->base, h->name->len);
        char *value = dup_iov(h->value.base, h->value.len);
        bool ok = name && value && sluice_map_set(&r->headers, name, value) &&
                  sluice_map_set(&pr->orig_headers, name, value);
        free(name);
        free(value);
        if (!ok) return false;
    }
    if (req->query_at != SIZE_MAX) { /* a=1&b=2, without percent-decoding */
        char *q = dup_iov(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
        if (!q) return false;
        char *save = NULL;
        for (char *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (eq) *eq = '\0';
            if (!sluice_map_set(&r->query, kv, eq ? eq + 1 : "")) { free(q); return false; }
        }
        free(q);
    }
    return sluice_body_set(&r->body, &r->body_len, req->entity.base ? req->entity.base : "", req->entity.len);
}

/* Hop-by-hop and framing headers are the server's business, not a plugin's. */
static bool framing_header(const char *name)
{
    return !strcasecmp(name, "content-length") || !strcasecmp(name, "transfer-encoding") ||
           !strcasecmp(name, "connection") || !strcasecmp(name, "x-request-id");
}

/* Sends resp (after http_post_hook for the plugins whose pre-hook ran). */
static void send_response(plg_gw_req *pr, sluice_http_response *resp)
{
    h2o_req_t *req = pr->sr->req;
    plg_decision d;
    PLG_GW_STAGE(pr, d, plg_http_post(gw_plugins, pr->worker, &pr->ctx, &pr->req, resp, pr->http_ran));
    if (d == PLG_FAIL) {
        plg_response_clear(resp);
        gw_send_error(pr->sr, 500, "server_error", "plugin_failed", NULL, "a plugin failed (http_post_hook)");
        return;
    }
    req->res.status = resp->status_code ? resp->status_code : 200;
    req->res.reason = gw_reason(req->res.status);
    for (size_t i = 0; i < resp->headers.count; i++) {
        const sluice_pair *h = &resp->headers.items[i];
        if (framing_header(h->name)) continue;
        size_t nl = strlen(h->name), vl = strlen(h->value);
        /* Pool copies: h2o may write the headers after this call returns. */
        char *orig = h2o_strdup(&req->pool, h->name, nl).base;
        char *name = h2o_strdup(&req->pool, h->name, nl).base;
        h2o_strtolower(name, nl);
        h2o_add_header_by_str(&req->pool, &req->res.headers, name, nl, 1, orig,
                              h2o_strdup(&req->pool, h->value, vl).base, vl);
    }
    req->res.content_length = resp->body_len;
    h2o_send_inline(req, resp->body ? (const char *)resp->body : "", resp->body_len);
    plg_response_clear(resp);
}

bool plg_gw_begin(srv_request *sr, h2o_iovec_t *body, plg_gw_req **out)
{
    *out = NULL;
    if (!gw_plugins || plg_set_count(gw_plugins) == 0) return true;
    h2o_req_t *req = sr->req;
    plg_gw_req *pr = h2o_mem_alloc_shared(&req->pool, sizeof *pr, pr_dispose);
    memset(pr, 0, sizeof *pr);
    pr->sr = sr;
    pr->worker = (unsigned)sr->worker->id;
    if (!plg_ctx_init(&pr->ctx, sr->id) || !from_h2o(pr, req)) {
        gw_send_error(sr, 500, "server_error", NULL, NULL, "out of memory");
        return false;
    }
    sluice_http_response resp = {0};
    plg_decision d;
    PLG_GW_STAGE(pr, d, plg_http_pre(gw_plugins, pr->worker, &pr->ctx, &pr->req, &resp, &pr->http_ran));
    if (d == PLG_SHORT_CIRCUIT) {
        pr->http_ran--; /* the short-circuiting plugin's own post hook does not run */
        send_response(pr, &resp);
        return false;
    }
    plg_response_clear(&resp);
    if (d == PLG_FAIL) {
        gw_send_error(sr, 500, "server_error", "plugin_failed", NULL, "a plugin failed (http_pre_hook)");
        return false;
    }
    *body = h2o_iovec_init(pr->req.body, pr->req.body_len);
    *out = pr;
    return true;
}

void plg_gw_set_conv(plg_gw_req *pr, plg_gw_conv conv, void *ud)
{
    if (!pr) return;
    pr->conv = conv;
    pr->conv_ud = ud;
}

/* The endpoint's conversion of resp's body, if it has one. */
static void convert(plg_gw_req *pr, sluice_http_response *resp)
{
    if (!pr->conv || !resp->body) return;
    size_t len = resp->body_len;
    int status = resp->status_code ? resp->status_code : 200;
    char *out = pr->conv(pr->conv_ud, &status, (char *)resp->body, &len);
    resp->body = (uint8_t *)out;
    resp->body_len = out ? len : 0;
    resp->status_code = out ? status : 500;
}

int plg_gw_pre(plg_gw_req *pr, sj_doc *doc, bool can_fall_back)
{
    if (!pr) return 0;
    sluice_chat chat = {.request = doc};
    plg_decision d;
    PLG_GW_STAGE(pr, d, plg_pre(gw_plugins, pr->worker, &pr->ctx, &chat, &pr->pre_ran));
    chat.request = NULL; /* the caller's */
    if (d == PLG_CONTINUE) return 0;
    if (d == PLG_FAIL) {
        plg_gw_send_error(pr, pr->sr, 500, "server_error", "plugin_failed", "a plugin failed (pre_hook)");
        return 1;
    }
    if (chat.error && !chat.response && can_fall_back &&
        sj_bool(sj_get(sj_doc_root(chat.error), "allow_fallbacks"), true)) {
        plg_chat_clear(&chat);
        return 2;
    }
    /* Short-circuit: post_hook runs for the plugins k..0, then the response goes out. */
    PLG_GW_STAGE(pr, d, plg_post(gw_plugins, pr->worker, &pr->ctx, &chat, pr->pre_ran));
    pr->pre_ran = 0; /* post hooks done */
    if (chat.response) {
        size_t len;
        char *body = sj_write(sj_doc_root(chat.response), &len);
        plg_chat_clear(&chat);
        if (!body) { gw_send_error(pr->sr, 500, "server_error", NULL, NULL, "out of memory"); return 1; }
        sluice_http_response resp = {.status_code = 200};
        sluice_map_set(&resp.headers, "Content-Type", "application/json");
        resp.body = (uint8_t *)body;
        resp.body_len = len;
        convert(pr, &resp);
        send_response(pr, &resp);
        return 1;
    }
    const sj_val *e = sj_doc_root(chat.error);
    int64_t status = 500;
    sj_i64(sj_get(e, "status_code"), &status);
    const sj_val *eo = sj_get(e, "error");
    plg_gw_send_error(NULL, pr->sr, status >= 400 && status <= 599 ? (int)status : 500,
                      sj_str(sj_get(eo, "type"), NULL), sj_str(sj_get(eo, "code"), NULL),
                      sj_str(sj_get(eo, "message"), NULL) ?: "blocked by a plugin");
    plg_chat_clear(&chat);
    return 1;
}

const char *const *plg_gw_upstream_headers(plg_gw_req *pr, size_t *n)
{
    *n = 0;
    if (!pr) return NULL;
    if (!pr->up_headers) {
        pr->up_headers = calloc(pr->req.headers.count + 1, sizeof *pr->up_headers);
        if (!pr->up_headers) return NULL;
        for (size_t i = 0; i < pr->req.headers.count; i++) {
            const sluice_pair *h = &pr->req.headers.items[i];
            const char *was = sluice_map_get(&pr->orig_headers, h->name);
            if ((was && strcmp(was, h->value) == 0) || framing_header(h->name) || !strcasecmp(h->name, "host") ||
                !strcasecmp(h->name, "content-type") || !strcasecmp(h->name, "authorization") ||
                strpbrk(h->name, "\r\n:") || strpbrk(h->value, "\r\n"))
                continue;
            size_t len = strlen(h->name) + strlen(h->value) + 3;
            char *line = malloc(len);
            if (!line) break;
            snprintf(line, len, "%s: %s", h->name, h->value);
            pr->up_headers[pr->n_up_headers++] = line;
        }
    }
    *n = pr->n_up_headers;
    return (const char *const *)pr->up_headers;
}

/* post_hook (for the plugins whose pre_hook ran) then the answer. */
static void finish(plg_gw_req *pr, sluice_chat *chat, int status)
{
    plg_decision d;
    PLG_GW_STAGE(pr, d, plg_post(gw_plugins, pr->worker, &pr->ctx, chat, pr->pre_ran));
    if (d == PLG_FAIL) {
        plg_chat_clear(chat);
        gw_send_error(pr->sr, 500, "server_error", "plugin_failed", NULL, "a plugin failed (post_hook)");
        return;
    }
    sluice_http_response resp = {.status_code = status};
    sluice_map_set(&resp.headers, "Content-Type", "application/json");
    char *body = NULL;
    size_t len = 0;
    if (chat->error) {
        const sj_val *e = sj_doc_root(chat->error);
        int64_t st = status >= 400 ? status : 500;
        sj_i64(sj_get(e, "status_code"), &st);
        resp.status_code = st >= 400 && st <= 599 ? (int)st : 500;
        sj_buf b = {0};
        sj_buf_cstr(&b, "{\"error\":");
        const sj_val *eo = sj_get(e, "error");
        if (eo) sj_buf_val(&b, eo);
        else sj_buf_cstr(&b, "{\"message\":\"error\"}");
        sj_buf_cstr(&b, "}");
        body = b.data;
        len = b.len;
    } else if (chat->response) {
        body = sj_write(sj_doc_root(chat->response), &len);
        if (resp.status_code >= 400) resp.status_code = 200;
    }
    plg_chat_clear(chat);
    resp.body = (uint8_t *)body;
    resp.body_len = len;
    convert(pr, &resp);
    send_response(pr, &resp);
}

void plg_gw_send_json(plg_gw_req *pr, srv_request *sr, int status, char *body, size_t len)
{
    if (!pr) { gw_send_json_owned(sr, status, body, len); return; }
    if (!gw_has[PLG_HOOK_POST]) { /* no post_hook: no need for a document */
        pr->pre_ran = 0;
        sluice_http_response resp = {.status_code = status};
        sluice_map_set(&resp.headers, "Content-Type", "application/json");
        resp.body = (uint8_t *)body;
        resp.body_len = len;
        send_response(pr, &resp);
        return;
    }
    sluice_chat chat = {.response = sj_parse(body, len, NULL, NULL)};
    free(body);
    if (!chat.response) { gw_send_error(sr, 500, "server_error", NULL, NULL, "out of memory"); return; }
    finish(pr, &chat, status);
}

/* A BifrostError document for post_hook; NULL on OOM. */
static sj_doc *error_doc(int status, const char *type, const char *code, const char *message)
{
    sj_buf b = {0};
    gw_error_json(&b, message, type ? type : gw_error_type(status), code, NULL);
    sj_doc *inner = b.oom ? NULL : sj_parse(b.data, b.len, NULL, NULL); /* {"error":{...}} */
    sj_buf_free(&b);
    sj_doc *d = inner ? sj_doc_new() : NULL;
    if (!d) { sj_doc_free(inner); return NULL; }
    sj_val *root = sj_new_obj(d);
    sj_set(d, root, "error", sj_copy(d, sj_get(sj_doc_root(inner), "error")));
    sj_set(d, root, "status_code", sj_new_i64(d, status));
    sj_set(d, root, "allow_fallbacks", sj_new_bool(d, true));
    sj_doc_set_root(d, root);
    sj_doc_free(inner);
    return d;
}

void plg_gw_send_error(plg_gw_req *pr, srv_request *sr, int status, const char *type, const char *code,
                       const char *message)
{
    if (!pr) { gw_send_error(sr, status, type, code, NULL, "%s", message); return; }
    sluice_chat chat = {.error = error_doc(status, type, code, message)};
    if (!chat.error) { gw_send_error(sr, status, type, code, NULL, "%s", message); return; }
    finish(pr, &chat, status);
}

/* Keeps what post_hook will see of a streamed chunk (after the chunk hook). */
static void stream_note(plg_gw_req *pr, const sj_val *chunk)
{
    if (!pr->stream_acc) {
        sj_doc *d = pr->stream_acc = sj_doc_new();
        sj_val *root = d ? sj_new_obj(d) : NULL;
        if (!root) return;
        static const char *const keep[] = {"id", "created", "model", "system_fingerprint"};
        for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
            if (sj_get(chunk, keep[i])) sj_set(d, root, keep[i], sj_copy(d, sj_get(chunk, keep[i])));
        sj_set(d, root, "object", sj_new_cstr(d, "chat.completion"));
        sj_doc_set_root(d, root);
    }
    sj_doc *d = pr->stream_acc;
    sj_val *root = sj_doc_root(d);
    if (!root) return;
    const sj_val *choice = sj_at(sj_get(chunk, "choices"), 0);
    size_t n = 0;
    const char *text = sj_str(sj_get(sj_get(choice, "delta"), "content"), &n);
    if (text && pr->stream_text.len + n <= PLG_GW_STREAM_TEXT_MAX) sj_buf_raw(&pr->stream_text, text, n);
    else if (text) pr->stream_truncated = true;
    const sj_val *fr = sj_get(choice, "finish_reason");
    if (fr && !sj_is_null(fr)) sj_set(d, root, "finish_reason", sj_copy(d, fr));
    const sj_val *usage = sj_get(chunk, "usage");
    if (sj_is_object(usage)) sj_set(d, root, "usage", sj_copy(d, usage));
}

/* The stream's chat.completion as post_hook sees it; NULL on OOM. */
static sj_doc *stream_response(plg_gw_req *pr)
{
    sj_doc *d = pr->stream_acc ? pr->stream_acc : sj_doc_new();
    pr->stream_acc = NULL;
    sj_val *root = d ? sj_doc_root(d) : NULL;
    if (d && !root && (root = sj_new_obj(d))) {
        sj_set(d, root, "object", sj_new_cstr(d, "chat.completion"));
        sj_doc_set_root(d, root);
    }
    if (!root) { sj_doc_free(d); return NULL; }
    sj_val *fr = sj_get(root, "finish_reason");
    sj_val *msg = sj_new_obj(d), *choice = sj_new_obj(d), *choices = sj_new_arr(d);
    sj_set(d, msg, "role", sj_new_cstr(d, "assistant"));
    sj_val *text = sj_new_str(d, pr->stream_text.data ? pr->stream_text.data : "", pr->stream_text.len);
    sj_set(d, msg, "content", text ? text : sj_new_cstr(d, ""));
    sj_set(d, choice, "index", sj_new_i64(d, 0));
    sj_set(d, choice, "message", msg);
    sj_set(d, choice, "finish_reason", fr ? sj_copy(d, fr) : sj_new_null(d));
    sj_append(choices, choice);
    sj_remove(root, "finish_reason");
    sj_set(d, root, "choices", choices);
    if (pr->stream_truncated) sj_set(d, root, "sluice_content_truncated", sj_new_bool(d, true));
    return d;
}

void plg_gw_stream_end(plg_gw_req *pr, int status, const char *type, const char *code, const char *message)
{
    if (!pr || pr->pre_ran == 0) return;
    sluice_chat chat = {0};
    if (message) chat.error = error_doc(status, type, code, message);
    else chat.response = stream_response(pr);
    /* The response is already on the wire: only the plugins' context and
     * side effects count; an on_error=fail failure can only be logged. */
    plg_decision d;
    PLG_GW_STAGE(pr, d, plg_post(gw_plugins, pr->worker, &pr->ctx, &chat, pr->pre_ran));
    if (d == PLG_FAIL)
        fprintf(stderr, "sluice: request %s: post_hook failed after the stream was sent (logged only)\n",
                pr->sr->id);
    pr->pre_ran = 0;
    plg_chat_clear(&chat);
}

bool plg_gw_chunk(plg_gw_req *pr, const char **data, size_t *len)
{
    bool keep = pr && pr->pre_ran && gw_has[PLG_HOOK_POST];
    if (!pr || (!gw_has[PLG_HOOK_STREAM_CHUNK] && !keep)) return true; /* nothing looks at chunks */
    sj_doc *chunk = sj_parse(*data, *len, NULL, NULL);
    if (!chunk || !sj_is_object(sj_doc_root(chunk))) { sj_doc_free(chunk); return true; }
    plg_decision d;
    PLG_GW_STAGE(pr, d, plg_stream_chunk(gw_plugins, pr->worker, &pr->ctx, &pr->req, &chunk));
    if (d == PLG_SKIP) { sj_doc_free(chunk); return false; }
    if (keep) stream_note(pr, sj_doc_root(chunk));
    size_t n = 0;
    char *text = sj_write(sj_doc_root(chunk), &n);
    sj_doc_free(chunk);
    if (text) { /* else (OOM) the original chunk goes out */
        free(pr->chunk_out);
        pr->chunk_out = text;
        *data = text;
        *len = n;
    }
    return true;
}
