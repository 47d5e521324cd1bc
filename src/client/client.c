/*
 * client.c - the embeddable client (include/sluice/client.h): the gateway's
 * provider layer driven in-process, without the server.
 *
 * Prefix: cl_ (internal), sluice_client_ (public). A client holds a
 * cfg_provider built from its options (exactly what config.c would build
 * for one provider entry), a private libuv loop and an up_loop on it. Each
 * call builds an OpenAI chat request as a JSON document, starts the provider
 * family's prov_ops on the private loop and runs that loop until the sink's
 * terminal callback has run. Nothing runs between calls, but the up_loop
 * (hence keep-alive connections and TLS sessions) survives them.
 */
#include "sluice/client.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/provider.h"

#define CL_MAX_CA_BYTES (4u << 20)  /* a CA bundle file larger than this is refused */
#define CL_MAX_URL 900              /* providers append the path into 1 KiB buffers */

struct sluice_client {
    cfg_provider prov;     /* strings owned by the client */
    cfg_key key;
    char *model;           /* default model or NULL */
    uv_loop_t loop;
    up_loop *up;
    bool busy;             /* a call is running: a nested call is refused */
    unsigned long calls;   /* for request ids */
};

/* One call in progress, on the caller's stack. */
typedef struct cl_call {
    const prov_ops *ops;
    prov_call *pc;
    sluice_chunk_fn on_text;
    sluice_json_chunk_fn on_json;
    void *user;
    sj_buf text;           /* the deltas so far (streaming) */
    sj_buf resp;           /* the response JSON (non-streaming) */
    bool finished;
    bool failed;
    sluice_error e;
} cl_call;

/* ---- errors ----------------------------------------------------------------- */

static void cl_set_error(sluice_error *e, int status, const char *type, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void cl_set_error(sluice_error *e, int status, const char *type, const char *code, const char *fmt, ...)
{
    if (e == NULL)
        return;
    e->status = status;
    snprintf(e->type, sizeof(e->type), "%s", type ? type : "");
    snprintf(e->code, sizeof(e->code), "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

/* ---- creation ----------------------------------------------------------------- */

/* A malloc'd copy of a PEM file, or NULL with *err set. */
static char *cl_read_ca_file(const char *path, sluice_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cl_set_error(err, 400, "invalid_request_error", "bad_option", "ca_file %s: cannot open it", path);
        return NULL;
    }
    char *buf = malloc(CL_MAX_CA_BYTES + 1);
    size_t n = buf ? fread(buf, 1, CL_MAX_CA_BYTES + 1, f) : 0;
    bool bad = ferror(f) != 0;
    fclose(f);
    if (buf == NULL || bad || n > CL_MAX_CA_BYTES) {
        free(buf);
        cl_set_error(err, 400, "invalid_request_error", "bad_option", "ca_file %s: %s", path,
                     bad ? "read error" : "larger than 4 MiB or out of memory");
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* True if s is a header line "Name: value" without line breaks. */
static bool cl_header_ok(const char *s)
{
    const char *colon = s ? strchr(s, ':') : NULL;
    return colon && colon != s && strpbrk(s, "\r\n") == NULL;
}

/* Fills c->prov from the options; 0, or -1 with *err set. */
static int cl_setup(sluice_client *c, const sluice_client_options *o, sluice_error *err)
{
    const char *kind = o->provider ? o->provider : "";
    const char *dflt = NULL;
    if (strcmp(kind, "openai") == 0) {
        c->prov.family = CFG_FAMILY_OPENAI;
        dflt = "https://api.openai.com";
    } else if (strcmp(kind, "anthropic") == 0) {
        c->prov.family = CFG_FAMILY_ANTHROPIC;
        dflt = "https://api.anthropic.com";
    } else if (strcmp(kind, "custom") == 0) {
        c->prov.family = CFG_FAMILY_OPENAI;
    } else {
        cl_set_error(err, 400, "invalid_request_error", "bad_option",
                     "provider must be \"openai\", \"anthropic\" or \"custom\", got \"%.100s\"", kind);
        return -1;
    }
    const char *base = o->base_url && o->base_url[0] ? o->base_url : dflt;
    if (base == NULL) {
        cl_set_error(err, 400, "invalid_request_error", "bad_option", "provider \"custom\" needs a base_url");
        return -1;
    }
    if ((strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) || strlen(base) > CL_MAX_URL ||
        strpbrk(base, " \r\n") != NULL) {
        cl_set_error(err, 400, "invalid_request_error", "bad_option",
                     "base_url must be an http:// or https:// URL of at most %d bytes", CL_MAX_URL);
        return -1;
    }
    if (o->api_key && strpbrk(o->api_key, "\r\n") != NULL) {
        cl_set_error(err, 400, "invalid_request_error", "bad_option", "api_key contains a line break");
        return -1;
    }
    if (o->timeout_s < 0 || o->stream_idle_timeout_s < 0 || o->max_retries < 0 || o->max_retries > 10) {
        cl_set_error(err, 400, "invalid_request_error", "bad_option",
                     "timeouts must be >= 0 and max_retries within 0..10");
        return -1;
    }
    for (size_t i = 0; i < o->n_extra_headers; i++)
        if (!cl_header_ok(o->extra_headers[i])) {
            cl_set_error(err, 400, "invalid_request_error", "bad_option",
                         "extra_headers[%zu] is not a \"Name: value\" line", i);
            return -1;
        }

    cfg_network *n = &c->prov.net;
    c->prov.name = strdup(kind);
    n->base_url = strdup(base);
    if (c->prov.name == NULL || n->base_url == NULL)
        goto oom;
    for (size_t len = strlen(n->base_url); len > 0 && n->base_url[len - 1] == '/';)
        n->base_url[--len] = '\0';
    n->timeout_s = o->timeout_s ? o->timeout_s : 30;
    n->stream_idle_timeout_s = o->stream_idle_timeout_s ? o->stream_idle_timeout_s : 60;
    n->max_retries = o->max_retries;
    n->backoff_initial_ms = 500;
    n->backoff_max_ms = 5000;
    if (o->n_extra_headers) {
        n->extra_headers = calloc(o->n_extra_headers, sizeof(char *));
        if (n->extra_headers == NULL)
            goto oom;
        for (; n->n_extra_headers < o->n_extra_headers; n->n_extra_headers++)
            if ((n->extra_headers[n->n_extra_headers] = strdup(o->extra_headers[n->n_extra_headers])) == NULL)
                goto oom;
    }
    if (o->ca_pem) {
        n->ca_cert_pem = strdup(o->ca_pem);
        if (n->ca_cert_pem == NULL)
            goto oom;
    } else if (o->ca_file && (n->ca_cert_pem = cl_read_ca_file(o->ca_file, err)) == NULL) {
        return -1;
    }
    if (n->ca_cert_pem && strstr(n->ca_cert_pem, "-----BEGIN CERTIFICATE-----") == NULL) {
        cl_set_error(err, 400, "invalid_request_error", "bad_option",
                     "%s holds no \"-----BEGIN CERTIFICATE-----\" block", o->ca_pem ? "ca_pem" : "ca_file");
        return -1;
    }
    /* One key serving every model; none at all for a server without auth. */
    if (o->api_key && o->api_key[0]) {
        c->key.name = strdup("");
        c->key.value = strdup(o->api_key);
        c->key.weight = 1.0;
        if (c->key.name == NULL || c->key.value == NULL)
            goto oom;
        c->prov.keys = &c->key;
        c->prov.n_keys = 1;
    }
    if (o->model && o->model[0] && (c->model = strdup(o->model)) == NULL)
        goto oom;
    return 0;
oom:
    cl_set_error(err, 500, "server_error", NULL, "out of memory");
    return -1;
}

/* Frees what cl_setup allocated (any part of it). */
static void cl_release(sluice_client *c)
{
    cfg_network *n = &c->prov.net;
    free(c->prov.name);
    free(n->base_url);
    for (size_t i = 0; i < n->n_extra_headers; i++)
        free(n->extra_headers[i]);
    free(n->extra_headers);
    free(n->ca_cert_pem);
    free(c->key.name);
    if (c->key.value) /* the secret does not linger in freed memory */
        memset(c->key.value, 0, strlen(c->key.value));
    free(c->key.value);
    free(c->model);
    free(c);
}

sluice_client *sluice_client_new(const sluice_client_options *opt, sluice_error *err)
{
    if (opt == NULL) {
        cl_set_error(err, 400, "invalid_request_error", "bad_option", "no options");
        return NULL;
    }
    sluice_client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        cl_set_error(err, 500, "server_error", NULL, "out of memory");
        return NULL;
    }
    if (cl_setup(c, opt, err) != 0) {
        cl_release(c);
        return NULL;
    }
    if (uv_loop_init(&c->loop) != 0) {
        cl_set_error(err, 500, "server_error", NULL, "cannot create an event loop");
        cl_release(c);
        return NULL;
    }
    if ((c->up = up_loop_new(&c->loop)) == NULL) {
        cl_set_error(err, 500, "server_error", NULL, "cannot create the HTTP client");
        uv_loop_close(&c->loop);
        cl_release(c);
        return NULL;
    }
    return c;
}

void sluice_client_free(sluice_client *c)
{
    if (c == NULL)
        return;
    up_loop_free(c->up);
    uv_run(&c->loop, UV_RUN_DEFAULT); /* lets the closed handles go */
    uv_loop_close(&c->loop);
    cl_release(c);
}

void sluice_free(void *p)
{
    free(p);
}

/* ---- the sink ------------------------------------------------------------------- */

static void cl_on_response(void *ud, int status, const char *body, size_t len)
{
    (void)status;
    cl_call *k = ud;
    sj_buf_raw(&k->resp, body, len);
    k->finished = true;
}

static void cl_on_error(void *ud, int status, const char *type, const char *code, const char *message)
{
    cl_call *k = ud;
    cl_set_error(&k->e, status, type, code, "%s", message);
    k->failed = k->finished = true;
}

/* Stops the call from inside a chunk: the provider cancels its transfer and
 * calls nothing more, so the terminal state is set here. */
static void cl_stop(cl_call *k)
{
    if (k->pc) /* chunks never arrive inside start(), but be safe */
        k->ops->cancel(k->pc);
    k->pc = NULL;
    cl_set_error(&k->e, 499, "invalid_request_error", "cancelled", "stopped by the chunk callback");
    k->failed = k->finished = true;
}

static void cl_on_chunk(void *ud, const char *data, size_t len)
{
    cl_call *k = ud;
    if (k->finished)
        return;
    if (k->on_json && k->on_json(k->user, data, len) != 0) {
        cl_stop(k);
        return;
    }
    /* The providers hand over valid chunk JSON; anything else has no text. */
    sj_doc *doc = sj_parse(data, len, NULL, NULL);
    sj_val *delta = sj_get(sj_at(sj_get(sj_doc_root(doc), "choices"), 0), "delta");
    size_t tl = 0;
    const char *t = sj_str(sj_get(delta, "content"), &tl);
    if (t && tl) {
        sj_buf_raw(&k->text, t, tl);
        if (k->on_text && k->on_text(k->user, t, tl) != 0)
            cl_stop(k);
    }
    sj_doc_free(doc);
}

static void cl_on_done(void *ud)
{
    cl_call *k = ud;
    k->finished = true;
}

static const prov_sink cl_sink = {
    .response = cl_on_response,
    .error = cl_on_error,
    .chunk = cl_on_chunk,
    .done = cl_on_done,
};

/* ---- calls ------------------------------------------------------------------------ */

/* Runs one provider call for the request in doc on the client's loop until
 * it ends. On success the text is in k->text (streaming) or the response in
 * k->resp; 0, or -1 with k->e set. */
static int cl_run(sluice_client *c, cl_call *k, sj_doc *doc)
{
    sj_val *root = sj_doc_root(doc);
    bool stream = sj_bool(sj_get(root, "stream"), false);
    const char *model = sj_str(sj_get(root, "model"), NULL);
    if (model == NULL || model[0] == '\0') {
        model = c->model;
        if (model == NULL) {
            cl_set_error(&k->e, 400, "invalid_request_error", "model_not_found",
                         "no model: set sluice_client_options.model or the request's \"model\"");
            return -1;
        }
        sj_set(doc, root, "model", sj_new_cstr(doc, model));
    }
    char id[64];
    snprintf(id, sizeof(id), "sluice-client-%lu", ++c->calls);
    prov_request rq = {
        .provider = &c->prov,
        .model = model,
        .doc = doc,
        .body = root,
        .stream = stream,
        .request_id = id,
        .loop = &c->loop,
        .up = c->up,
    };
    k->ops = prov_ops_for(&c->prov);
    c->busy = true;
    k->pc = k->ops->start(&rq, &cl_sink, k);
    while (!k->finished) {
        if (uv_run(&c->loop, UV_RUN_ONCE) == 0 && !k->finished) {
            /* nothing left that could finish it: a provider bug, not a hang */
            if (k->pc)
                k->ops->cancel(k->pc);
            cl_set_error(&k->e, 500, "server_error", NULL, "the provider stopped without an answer");
            k->failed = true;
            break;
        }
    }
    uv_run(&c->loop, UV_RUN_NOWAIT); /* the provider frees its call in close callbacks */
    c->busy = false;
    if (!k->failed && (k->text.oom || k->resp.oom))
        cl_set_error(&k->e, 500, "server_error", NULL, "out of memory");
    return k->failed || k->text.oom || k->resp.oom ? -1 : 0;
}

/* Checks the arguments every call shares; 0 or -1 with *err set. */
static int cl_check(sluice_client *c, sluice_error *err)
{
    if (c == NULL) {
        cl_set_error(err, 400, "invalid_request_error", "bad_argument", "no client");
        return -1;
    }
    if (c->busy) {
        cl_set_error(err, 400, "invalid_request_error", "bad_argument",
                     "the client is already in a call (a client serves one call at a time)");
        return -1;
    }
    return 0;
}

/* A NUL-terminated malloc'd copy of b's bytes. */
static char *cl_take(const sj_buf *b, sluice_error *err)
{
    char *s = malloc(b->len + 1);
    if (s == NULL) {
        cl_set_error(err, 500, "server_error", NULL, "out of memory");
        return NULL;
    }
    if (b->len)
        memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    return s;
}

/* The text of choices[0].message.content of a chat.completion. */
static char *cl_response_text(const sj_buf *resp, sluice_error *err)
{
    sj_doc *doc = sj_parse(resp->data ? resp->data : "", resp->len, NULL, NULL);
    sj_val *msg = sj_get(sj_at(sj_get(sj_doc_root(doc), "choices"), 0), "message");
    sj_val *content = sj_get(msg, "content");
    char *out = NULL;
    if (msg == NULL || (content && !sj_is_string(content) && !sj_is_null(content))) {
        cl_set_error(err, 502, "server_error", "upstream_error", "the provider's response has no message text");
    } else {
        size_t len = 0;
        const char *t = sj_str(content, &len); /* null content (tool calls only) = "" */
        sj_buf b = {0};
        sj_buf_raw(&b, t ? t : "", len);
        out = cl_take(&b, err);
        sj_buf_free(&b);
    }
    sj_doc_free(doc);
    return out;
}

/* Finishes a call: the result owned by the caller, or NULL and *err. */
static char *cl_finish(cl_call *k, int rc, bool stream, bool raw, sluice_error *err)
{
    char *out = NULL;
    if (rc != 0) {
        if (err)
            *err = k->e;
    } else if (stream || raw) {
        out = cl_take(stream ? &k->text : &k->resp, err);
    } else {
        out = cl_response_text(&k->resp, err);
    }
    sj_buf_free(&k->text);
    sj_buf_free(&k->resp);
    return out;
}

/* {"model":..., "messages":[{"role","content"}...], "stream":...}; NULL when
 * the messages are unusable (*err set) or out of memory. */
static sj_doc *cl_build(sluice_client *c, const sluice_message *msgs, size_t n, bool stream, sluice_error *err)
{
    if (msgs == NULL || n == 0) {
        cl_set_error(err, 400, "invalid_request_error", "bad_argument", "no messages");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (msgs[i].role == NULL || msgs[i].role[0] == '\0' || msgs[i].content == NULL) {
            cl_set_error(err, 400, "invalid_request_error", "bad_argument",
                         "messages[%zu] needs a role and a content", i);
            return NULL;
        }
    sj_doc *doc = sj_doc_new();
    sj_val *root = doc ? sj_new_obj(doc) : NULL;
    sj_val *arr = doc ? sj_new_arr(doc) : NULL;
    bool ok = root && arr;
    if (ok && c->model)
        ok = sj_set(doc, root, "model", sj_new_cstr(doc, c->model));
    for (size_t i = 0; ok && i < n; i++) {
        sj_val *m = sj_new_obj(doc);
        ok = m && sj_set(doc, m, "role", sj_new_cstr(doc, msgs[i].role)) &&
             sj_set(doc, m, "content", sj_new_cstr(doc, msgs[i].content)) && sj_append(arr, m);
    }
    ok = ok && sj_set(doc, root, "messages", arr) && sj_set(doc, root, "stream", sj_new_bool(doc, stream));
    if (!ok) {
        sj_doc_free(doc);
        cl_set_error(err, 500, "server_error", NULL, "out of memory");
        return NULL;
    }
    sj_doc_set_root(doc, root);
    return doc;
}

/* The two message-array calls. */
static char *cl_messages_call(sluice_client *c, const sluice_message *msgs, size_t n, bool stream,
                              sluice_chunk_fn on_chunk, void *user, sluice_error *err)
{
    if (cl_check(c, err) != 0)
        return NULL;
    sj_doc *doc = cl_build(c, msgs, n, stream, err);
    if (doc == NULL)
        return NULL;
    cl_call k = {.on_text = on_chunk, .user = user};
    int rc = cl_run(c, &k, doc);
    sj_doc_free(doc);
    return cl_finish(&k, rc, stream, false, err);
}

char *sluice_client_stream_completion(sluice_client *c, const sluice_message *msgs, size_t n,
                                      sluice_chunk_fn on_chunk, void *user, sluice_error *err)
{
    return cl_messages_call(c, msgs, n, true, on_chunk, user, err);
}

char *sluice_client_completion(sluice_client *c, const sluice_message *msgs, size_t n, sluice_error *err)
{
    return cl_messages_call(c, msgs, n, false, NULL, NULL, err);
}

char *sluice_client_chat_json(sluice_client *c, const char *request, size_t len, sluice_json_chunk_fn on_chunk,
                              void *user, sluice_error *err)
{
    if (cl_check(c, err) != 0)
        return NULL;
    sj_error pe;
    sj_doc *doc = request ? sj_parse(request, len, NULL, &pe) : NULL;
    if (doc == NULL || !sj_is_object(sj_doc_root(doc))) {
        cl_set_error(err, 400, "invalid_request_error", "invalid_json",
                     "the request is not a JSON object%s%s", doc == NULL && request ? ": " : "",
                     doc == NULL && request ? pe.msg : "");
        sj_doc_free(doc);
        return NULL;
    }
    sj_val *msgs = sj_get(sj_doc_root(doc), "messages");
    if (!sj_is_array(msgs) || sj_len(msgs) == 0) {
        cl_set_error(err, 400, "invalid_request_error", "bad_argument", "\"messages\" must be a non-empty array");
        sj_doc_free(doc);
        return NULL;
    }
    bool stream = sj_bool(sj_get(sj_doc_root(doc), "stream"), false);
    cl_call k = {.on_json = on_chunk, .user = user};
    int rc = cl_run(c, &k, doc);
    sj_doc_free(doc);
    return cl_finish(&k, rc, stream, true, err);
}
