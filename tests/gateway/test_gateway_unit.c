/*
 * test_gateway_unit.c - unit tests of the gateway's pure parts: config
 * loading (defaults, normalisation, errors), model resolution, the model
 * list, and the mock provider's replies (checked by parsing them back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "provider/provider.h"

static int failures;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                             \
        }                                                                           \
    } while (0)

static int load(const char *text, cfg_config *cfg, char *err, size_t errlen)
{
    return cfg_load_text("t.json", text, strlen(text), NULL, cfg, err, errlen);
}

static void test_config(void)
{
    cfg_config c;
    char err[512];
    CHECK(load("{\"providers\":{\"openai\":{\"keys\":[{\"value\":\"k\"}]},"
               "\"local\":{\"keys\":[],\"network_config\":{\"base_url\":\"http://h:1//\",\"retry_backoff_initial\":900,"
               "\"retry_backoff_max\":100}}}}",
               &c, err, sizeof(err)) == 0);
    CHECK(c.n_providers == 2);
    CHECK(c.max_body_bytes == (size_t)10 << 20);
    CHECK(c.providers[0].family == CFG_FAMILY_OPENAI);
    CHECK(strcmp(c.providers[0].net.base_url, "https://api.openai.com") == 0);
    CHECK(c.providers[0].keys[0].weight == 1.0);
    CHECK(c.providers[0].net.timeout_s == 30 && c.providers[0].net.stream_idle_timeout_s == 60);
    CHECK(strcmp(c.providers[1].net.base_url, "http://h:1") == 0);            /* trailing '/' dropped */
    CHECK(c.providers[1].net.backoff_max_ms == c.providers[1].net.backoff_initial_ms); /* max >= initial */
    cfg_free(&c);
    /* backoffs as duration strings */
    CHECK(load("{\"providers\":{\"l\":{\"keys\":[],\"network_config\":{\"base_url\":\"http://h\","
               "\"retry_backoff_initial\":\"250ms\",\"retry_backoff_max\":\"1.5s\"}}}}",
               &c, err, sizeof(err)) == 0);
    CHECK(c.providers[0].net.backoff_initial_ms == 250 && c.providers[0].net.backoff_max_ms == 1500);
    cfg_free(&c);
    CHECK(load("{\"providers\":{\"l\":{\"keys\":[],\"network_config\":{\"base_url\":\"http://h\","
               "\"retry_backoff_max\":\"2m\"}}}}",
               &c, err, sizeof(err)) == 0);
    CHECK(c.providers[0].net.backoff_max_ms == 120000);
    cfg_free(&c);

    struct {
        const char *text, *want;
    } bad[] = {
        {"[]", "(top level): expected a JSON object"},
        {"{\"providers\":[]}", "providers: expected an object"},
        {"{\"providers\":{\"a/b\":{}}}", "providers.a/b: a provider name"},
        {"{\"providers\":{\"x\":{\"keys\":[{\"weight\":0}],\"network_config\":{\"base_url\":\"http://h\"}}}}",
         "providers.x.keys[0].weight: expected a number greater than 0"},
        {"{\"providers\":{\"x\":{\"keys\":[],\"network_config\":{\"base_url\":\"http://h\",\"max_retries\":1.5}}}}",
         "providers.x.network_config.max_retries: expected an integer"},
        {"{\"providers\":{\"x\":{\"keys\":[],\"network_config\":{\"base_url\":\"http://h\",\"extra_headers\":{\"a b\":\"v\"}}}}}",
         "extra_headers.a b: expected a valid header name"},
        {"{\"providers\":{\"x\":{\"keys\":[],\"network_config\":{\"base_url\":\"http://h\",\"retry_backoff_max\":\"5 s\"}}}}",
         "retry_backoff_max: expected milliseconds (an integer) or a duration such as \"500ms\""},
        {"{\"providers\":{\"x\":{\"keys\":[],\"network_config\":{\"base_url\":\"http://h\",\"retry_backoff_max\":\"11m\"}}}}",
         "at most 600000 ms"},
        {"{\"providers\":{\"x\":{\"keys\":[],\"network_config\":{\"base_url\":\"http://h\",\"retry_backoff_initial\":\"-1s\"}}}}",
         "retry_backoff_initial: expected milliseconds"},
        {"{\"plugins\":[{\"name\":\"p\"}]}", "plugins[0]: missing \"path\""},
        {"{\"plugins\":[{\"name\":\"p\",\"path\":\"x\",\"enabled\":1}]}", "plugins[0].enabled: expected true or false"},
        {"{\"client\":{\"max_request_body_size_mb\":\"10\"}}", "client.max_request_body_size_mb: expected an integer"},
        {"{\"providers\":{\"mock\":{\"keys\":[{\"models\":[\"a\",7]}]}}}", "providers.mock.keys[0].models[1]: expected a string"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        int rc = load(bad[i].text, &c, err, sizeof(err));
        CHECK(rc == -1);
        if (strstr(err, bad[i].want) == NULL || strncmp(err, "t.json: ", 8) != 0) {
            fprintf(stderr, "config %zu: got '%s', want '%s'\n", i, err, bad[i].want);
            failures++;
        }
    }

    cfg_key k = {.n_models = 0};
    CHECK(cfg_key_matches(&k, "anything"));
    char *models[] = {"a", "b"};
    k.models = models;
    k.n_models = 2;
    CHECK(cfg_key_matches(&k, "b") && !cfg_key_matches(&k, "c"));
}

static void test_resolve(void)
{
    cfg_config c;
    char err[512];
    CHECK(load("{\"providers\":{\"mock\":{},\"openai\":{\"keys\":[{\"value\":\"k\",\"models\":[\"gpt-4o\",\"*\"]}]},"
               "\"groq\":{\"keys\":[{\"value\":\"k\",\"models\":[\"meta/llama\",\"gpt-4o\"]}],"
               "\"network_config\":{\"base_url\":\"http://g\"}}}}",
               &c, err, sizeof(err)) == 0);
    const char *m = NULL;
    const cfg_provider *p = prov_resolve(&c, "openai/gpt-4o", &m);
    CHECK(p && strcmp(p->name, "openai") == 0 && strcmp(m, "gpt-4o") == 0);
    p = prov_resolve(&c, "groq/meta/llama", &m);
    CHECK(p && strcmp(p->name, "groq") == 0 && strcmp(m, "meta/llama") == 0);
    p = prov_resolve(&c, "meta/llama", &m); /* "meta" is no provider: looked up in the lists */
    CHECK(p && strcmp(p->name, "groq") == 0 && strcmp(m, "meta/llama") == 0);
    p = prov_resolve(&c, "gpt-4o", &m);     /* the first provider listing it */
    CHECK(p && strcmp(p->name, "openai") == 0);
    CHECK(prov_resolve(&c, "nope/x", &m) == NULL);
    CHECK(prov_resolve(&c, "mock/", &m) == NULL);
    CHECK(prov_resolve(&c, "", &m) == NULL);

    sj_buf b = {0};
    prov_models_json(&c, &b);
    sj_doc *d = sj_parse(b.data, b.len, NULL, NULL);
    CHECK(d != NULL);
    sj_val *data = sj_get(sj_doc_root(d), "data");
    CHECK(sj_len(data) == 4); /* mock/mock-1, openai/gpt-4o, groq/meta/llama, groq/gpt-4o */
    CHECK(sj_str_eq(sj_get(sj_at(data, 0), "id"), "mock/mock-1"));
    CHECK(sj_str_eq(sj_get(sj_at(data, 1), "id"), "openai/gpt-4o"));
    sj_doc_free(d);
    sj_buf_free(&b);
    cfg_free(&c);
}

/* ---- the mock provider, through a recording sink ------------------------ */

typedef struct rec {
    sj_buf chunks_text; /* concatenated delta contents */
    int chunks, responses, errors, dones;
    bool bad_json;
    bool saw_role_first, saw_usage;
    char content[256];
} rec;

static void rec_response(void *ud, int status, const char *body, size_t len)
{
    rec *r = ud;
    r->responses++;
    sj_doc *d = sj_parse(body, len, NULL, NULL);
    if (d == NULL || status != 200) {
        r->bad_json = true;
        return;
    }
    const char *s = sj_str(sj_get(sj_get(sj_at(sj_get(sj_doc_root(d), "choices"), 0), "message"), "content"), NULL);
    snprintf(r->content, sizeof(r->content), "%s", s ? s : "(none)");
    sj_doc_free(d);
}

static void rec_error(void *ud, int status, const char *type, const char *code, const char *message)
{
    (void)status, (void)type, (void)code, (void)message;
    ((rec *)ud)->errors++;
}

static void rec_chunk(void *ud, const char *data, size_t len)
{
    rec *r = ud;
    sj_doc *d = sj_parse(data, len, NULL, NULL);
    if (d == NULL) {
        r->bad_json = true;
        return;
    }
    sj_val *root = sj_doc_root(d);
    sj_val *delta = sj_get(sj_at(sj_get(root, "choices"), 0), "delta");
    if (r->chunks == 0)
        r->saw_role_first = sj_str_eq(sj_get(delta, "role"), "assistant");
    size_t n;
    const char *s = sj_str(sj_get(delta, "content"), &n);
    if (s)
        sj_buf_raw(&r->chunks_text, s, n);
    if (sj_get(root, "usage"))
        r->saw_usage = true;
    r->chunks++;
    sj_doc_free(d);
}

static void rec_done(void *ud)
{
    ((rec *)ud)->dones++;
}

static const prov_sink rec_sink = {rec_response, rec_error, rec_chunk, rec_done};

static void run_mock(const char *body, bool stream, rec *r)
{
    memset(r, 0, sizeof(*r));
    sj_doc *d = sj_parse(body, strlen(body), NULL, NULL);
    cfg_provider p = {.name = "mock", .family = CFG_FAMILY_MOCK};
    prov_request rq = {.provider = &p, .model = "m", .doc = d, .body = sj_doc_root(d), .stream = stream,
                       .request_id = "rid"};
    CHECK(prov_mock_ops.start(&rq, &rec_sink, r) == NULL); /* finishes inside start */
    sj_doc_free(d);
}

static void test_mock(void)
{
    rec r;
    run_mock("{\"messages\":[{\"role\":\"user\",\"content\":\"first\"},{\"role\":\"assistant\",\"content\":\"x\"},"
             "{\"role\":\"user\",\"content\":\"hi \\\"there\\\" \\u00e9\"}]}",
             false, &r);
    CHECK(r.responses == 1 && r.errors == 0 && !r.bad_json);
    CHECK(strcmp(r.content, "echo: hi \"there\" \xc3\xa9") == 0);

    run_mock("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\","
             "\"text\":7},{\"type\":\"image_url\"},{\"type\":\"text\",\"text\":\"b\"}]}]}",
             false, &r);
    CHECK(strcmp(r.content, "echo: a b") == 0);

    run_mock("{\"messages\":[{\"role\":\"system\",\"content\":\"s\"}]}", false, &r);
    CHECK(strcmp(r.content, "echo: ") == 0);

    run_mock("{\"messages\":[{\"role\":\"user\",\"content\":\"one  two three\"}]}", true, &r);
    CHECK(r.dones == 1 && r.errors == 0 && !r.bad_json && r.saw_role_first && r.saw_usage);
    CHECK(r.chunks == 5); /* "echo:", " one", "  two", " three", final */
    CHECK(r.chunks_text.len == strlen("echo: one  two three") &&
          memcmp(r.chunks_text.data, "echo: one  two three", r.chunks_text.len) == 0);
    sj_buf_free(&r.chunks_text);
}

/* prov_redact on msg (a copy) must give `want`. */
static void redact_is(const cfg_provider *p, const cfg_key *used, const char *msg, const char *want)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", msg);
    prov_redact(p, used, buf);
    if (strcmp(buf, want) != 0) {
        fprintf(stderr, "redact: '%s' -> '%s', want '%s'\n", msg, buf, want);
        failures++;
    }
}

static void test_redact(void)
{
    cfg_key keys[2] = {{.name = "", .value = "plain-secret-1"}, {.name = "", .value = "other-configured-2"}};
    cfg_provider p = {.name = "x", .keys = keys, .n_keys = 2};
    cfg_key used = {.name = "", .value = "zz-used-key-zz"};
    redact_is(&p, &used, "bad key zz-used-key-zz!", "bad key ***!");
    redact_is(&p, NULL, "keys plain-secret-1 and other-configured-2", "keys *** and ***");
    redact_is(NULL, NULL, "Incorrect API key provided: sk-proj-abc123*****wxyz.", "Incorrect API key provided: sk-***.");
    redact_is(NULL, NULL, "invalid x-api-key sk-ant-api03-AbC_dEf-123", "invalid x-api-key sk-***");
    redact_is(NULL, NULL, "header was Bearer eyJhbGci.OiJ-IUz_I1 here", "header was Bearer *** here");
    redact_is(NULL, NULL, "got x-api-key: abcdef12, denied", "got x-api-key: ***, denied");
    redact_is(NULL, NULL, "\"authorization\":\"bearer tok_12345\"", "\"authorization\":\"bearer ***\"");
    redact_is(NULL, NULL, "missing Bearer token", "missing Bearer token");
    /* ordinary text stays as it is */
    redact_is(NULL, NULL, "the task-force uses sk-1 and Bearer x", "the task-force uses sk-1 and Bearer x");
    redact_is(&p, NULL, "ask-me: sk-", "ask-me: sk-");
    redact_is(NULL, NULL, "", "");
    cfg_key tiny = {.name = "", .value = "ab"};
    redact_is(NULL, &tiny, "about abba", "about abba"); /* a 2-byte \"key\" would mangle words */
}

int main(void)
{
    test_redact();
    test_config();
    test_resolve();
    test_mock();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("gateway unit tests passed\n");
    return 0;
}
