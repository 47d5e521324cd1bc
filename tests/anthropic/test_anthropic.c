/*
 * test_anthropic.c - unit tests of the Anthropic translations, both
 * directions: requests, responses, errors, and the streaming state machines
 * fed event by event and through the SSE parser split at every byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/anthropic_xlate.h"
#include "provider/sse.h"

static int failures;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                            \
        }                                                                          \
    } while (0)

/* Value at a dotted path ("messages.0.content.1.type"; numbers index arrays). */
static const sj_val *at(const sj_val *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, "."))
        v = (*tok >= '0' && *tok <= '9') ? sj_at(v, (size_t)atoi(tok)) : sj_get(v, tok);
    return v;
}

static bool str_at(const sj_val *root, const char *path, const char *want)
{
    const char *s = sj_str(at(root, path), NULL);
    if (s == NULL || strcmp(s, want) != 0) {
        fprintf(stderr, "  %s = %s, want %s\n", path, s ? s : "(not a string)", want);
        return false;
    }
    return true;
}

static int64_t int_at(const sj_val *root, const char *path)
{
    int64_t n = -999;
    sj_i64(at(root, path), &n);
    return n;
}

static sj_doc *parse(const char *s, size_t n)
{
    sj_doc *d = sj_parse(s, n, NULL, NULL);
    if (d == NULL)
        fprintf(stderr, "  not JSON: %.*s\n", (int)n, s);
    return d;
}

/* Translates an OpenAI request text; returns the parsed Anthropic body (or NULL) and the status. */
static sj_doc *fwd_req(const char *oai, int *status, ant_err *err)
{
    sj_doc *in = parse(oai, strlen(oai));
    sj_buf out = {0};
    *status = ant_req_from_openai(sj_doc_root(in), "claude-x", &out, err);
    sj_doc *d = *status == 0 ? parse(out.data, out.len) : NULL;
    sj_buf_free(&out);
    sj_doc_free(in);
    return d;
}

static void test_request_basic(void)
{
    int st;
    ant_err e = {0};
    sj_doc *d = fwd_req("{\"model\":\"a/b\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
                        "{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":\"no emoji\"}]},"
                        "{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"user\",\"content\":\"there\"}],"
                        "\"temperature\":0.5,\"top_p\":1,\"stop\":\"END\",\"user\":\"u-1\",\"stream\":true}",
                        &st, &e);
    CHECK(st == 0 && d);
    const sj_val *r = sj_doc_root(d);
    CHECK(str_at(r, "model", "claude-x"));
    CHECK(str_at(r, "system", "be brief\n\nno emoji"));
    CHECK(int_at(r, "max_tokens") == ANT_DEFAULT_MAX_TOKENS);
    CHECK(sj_len(at(r, "messages")) == 1); /* the two user messages merged */
    CHECK(str_at(r, "messages.0.role", "user"));
    CHECK(sj_len(at(r, "messages.0.content")) == 2);
    CHECK(str_at(r, "messages.0.content.1.text", "there"));
    size_t tl = 0;
    const char *tt = sj_num_text(at(r, "temperature"), &tl);
    CHECK(tt && tl == 3 && memcmp(tt, "0.5", 3) == 0);
    CHECK(int_at(r, "top_p") == 1);
    CHECK(str_at(r, "stop_sequences.0", "END"));
    CHECK(str_at(r, "metadata.user_id", "u-1"));
    CHECK(sj_bool(at(r, "stream"), false));
    sj_doc_free(d);

    /* max_completion_tokens wins over max_tokens; stop arrays copied */
    d = fwd_req("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":7,\"max_completion_tokens\":9,"
                "\"stop\":[\"a\",\"b\"]}", &st, &e);
    r = sj_doc_root(d);
    CHECK(int_at(r, "max_tokens") == 9);
    CHECK(sj_len(at(r, "stop_sequences")) == 2 && str_at(r, "stop_sequences.1", "b"));
    CHECK(at(r, "system") == NULL && at(r, "stream") == NULL && at(r, "metadata") == NULL);
    sj_doc_free(d);
    d = fwd_req("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":7}", &st, &e);
    CHECK(int_at(sj_doc_root(d), "max_tokens") == 7);
    sj_doc_free(d);
}

static void test_request_images(void)
{
    int st;
    ant_err e = {0};
    sj_doc *d = fwd_req("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"what?\"},"
                        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0=\"}},"
                        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x.test/a.jpg\"}}]}]}",
                        &st, &e);
    CHECK(st == 0);
    const sj_val *r = sj_doc_root(d);
    CHECK(str_at(r, "messages.0.content.1.type", "image"));
    CHECK(str_at(r, "messages.0.content.1.source.type", "base64"));
    CHECK(str_at(r, "messages.0.content.1.source.media_type", "image/png"));
    CHECK(str_at(r, "messages.0.content.1.source.data", "iVBORw0="));
    CHECK(str_at(r, "messages.0.content.2.source.type", "url"));
    CHECK(str_at(r, "messages.0.content.2.source.url", "https://x.test/a.jpg"));
    sj_doc_free(d);
    d = fwd_req("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":"
                "\"data:image/png,abc\"}}]}]}", &st, &e);
    CHECK(st == 400 && d == NULL && strstr(e.message, "base64"));
    d = fwd_req("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":"
                "\"ftp://x\"}}]}]}", &st, &e);
    CHECK(st == 400 && e.status == 400);
}

static void test_request_tools(void)
{
    int st;
    ant_err e = {0};
    sj_doc *d = fwd_req(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
        "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"sunny\"},"
        "{\"role\":\"user\",\"content\":\"thanks\"}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"d\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"noargs\"}}],\"tool_choice\":\"required\"}",
        &st, &e);
    CHECK(st == 0);
    const sj_val *r = sj_doc_root(d);
    CHECK(sj_len(at(r, "messages")) == 3);
    CHECK(str_at(r, "messages.1.role", "assistant"));
    CHECK(str_at(r, "messages.1.content.0.type", "tool_use"));
    CHECK(str_at(r, "messages.1.content.0.id", "call_1"));
    CHECK(str_at(r, "messages.1.content.0.name", "get_weather"));
    CHECK(str_at(r, "messages.1.content.0.input.city", "Paris"));
    /* the tool result and the next user text merge into one user message */
    CHECK(str_at(r, "messages.2.role", "user"));
    CHECK(str_at(r, "messages.2.content.0.type", "tool_result"));
    CHECK(str_at(r, "messages.2.content.0.tool_use_id", "call_1"));
    CHECK(str_at(r, "messages.2.content.0.content", "sunny"));
    CHECK(str_at(r, "messages.2.content.1.text", "thanks"));
    CHECK(str_at(r, "tools.0.name", "get_weather"));
    CHECK(str_at(r, "tools.0.description", "d"));
    CHECK(str_at(r, "tools.0.input_schema.properties.city.type", "string"));
    CHECK(str_at(r, "tools.1.input_schema.type", "object"));
    CHECK(str_at(r, "tool_choice.type", "any"));
    sj_doc_free(d);

    static const struct { const char *in, *type, *name; } choices[] = {
        {"\"auto\"", "auto", NULL},
        {"\"none\"", "none", NULL},
        {"{\"type\":\"function\",\"function\":{\"name\":\"f\"}}", "tool", "f"},
    };
    for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
        char req[256];
        snprintf(req, sizeof(req), "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tool_choice\":%s}",
                 choices[i].in);
        d = fwd_req(req, &st, &e);
        CHECK(st == 0 && str_at(sj_doc_root(d), "tool_choice.type", choices[i].type));
        if (choices[i].name)
            CHECK(str_at(sj_doc_root(d), "tool_choice.name", choices[i].name));
        sj_doc_free(d);
    }
    /* invalid arguments JSON -> 400 */
    d = fwd_req("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"function\":{\"name\":\"f\","
                "\"arguments\":\"{not json\"}}]}]}", &st, &e);
    CHECK(st == 400 && d == NULL && strstr(e.message, "arguments") != NULL);
    d = fwd_req("{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", &st, &e);
    CHECK(st == 400);
    d = fwd_req("{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", &st, &e);
    CHECK(st == 400 && strstr(e.message, "tool_call_id"));
    d = fwd_req("{\"messages\":\"no\"}", &st, &e);
    CHECK(st == 400);
}

static sj_doc *fwd_resp(const char *body, int *rc)
{
    sj_buf out = {0};
    ant_err e = {0};
    *rc = ant_resp_to_openai(body, strlen(body), 1700000000, &out, &e);
    sj_doc *d = *rc == 0 ? parse(out.data, out.len) : NULL;
    sj_buf_free(&out);
    return d;
}

static void test_response(void)
{
    int rc;
    sj_doc *d = fwd_resp("{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\","
                         "\"content\":[{\"type\":\"text\",\"text\":\"Hello \"},{\"type\":\"text\",\"text\":\"world\"}],"
                         "\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":10,\"output_tokens\":3}}", &rc);
    const sj_val *r = sj_doc_root(d);
    CHECK(rc == 0);
    CHECK(str_at(r, "id", "msg_1") && str_at(r, "object", "chat.completion") && str_at(r, "model", "claude-x"));
    CHECK(int_at(r, "created") == 1700000000);
    CHECK(str_at(r, "choices.0.message.role", "assistant"));
    CHECK(str_at(r, "choices.0.message.content", "Hello world"));
    CHECK(at(r, "choices.0.message.tool_calls") == NULL);
    CHECK(str_at(r, "choices.0.finish_reason", "stop"));
    CHECK(int_at(r, "usage.prompt_tokens") == 10 && int_at(r, "usage.completion_tokens") == 3 &&
          int_at(r, "usage.total_tokens") == 13);
    sj_doc_free(d);

    d = fwd_resp("{\"id\":\"msg_2\",\"model\":\"m\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":"
                 "\"get_weather\",\"input\":{\"city\":\"Paris\",\"n\":1.50}}],\"stop_reason\":\"tool_use\","
                 "\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}", &rc);
    r = sj_doc_root(d);
    CHECK(rc == 0 && sj_is_null(at(r, "choices.0.message.content")));
    CHECK(str_at(r, "choices.0.message.tool_calls.0.id", "toolu_1"));
    CHECK(str_at(r, "choices.0.message.tool_calls.0.type", "function"));
    CHECK(str_at(r, "choices.0.message.tool_calls.0.function.name", "get_weather"));
    CHECK(str_at(r, "choices.0.message.tool_calls.0.function.arguments", "{\"city\":\"Paris\",\"n\":1.50}"));
    CHECK(str_at(r, "choices.0.finish_reason", "tool_calls"));
    sj_doc_free(d);

    CHECK(strcmp(ant_finish_reason("max_tokens"), "length") == 0);
    CHECK(strcmp(ant_finish_reason("stop_sequence"), "stop") == 0);
    CHECK(strcmp(ant_finish_reason("end_turn"), "stop") == 0);
    CHECK(strcmp(ant_finish_reason("tool_use"), "tool_calls") == 0);
    d = fwd_resp("[1]", &rc);
    CHECK(rc == -1 && d == NULL);
    d = fwd_resp("not json", &rc);
    CHECK(rc == -1 && d == NULL);
}

static void test_errors(void)
{
    static const struct { int http; const char *type; int status; const char *otype; } cases[] = {
        {400, "invalid_request_error", 400, "invalid_request_error"},
        {401, "authentication_error", 401, "authentication_error"},
        {403, "permission_error", 403, "permission_error"},
        {404, "not_found_error", 404, "invalid_request_error"},
        {429, "rate_limit_error", 429, "rate_limit_error"},
        {500, "api_error", 502, "server_error"},
        {529, "overloaded_error", 503, "server_error"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body), "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"boom %zu\"}}",
                 cases[i].type, i);
        ant_err e = {0};
        ant_error_to_openai(cases[i].http, body, strlen(body), &e);
        CHECK(e.status == cases[i].status);
        CHECK(strcmp(e.type, cases[i].otype) == 0);
        CHECK(strcmp(e.code, cases[i].type) == 0);
        char want[32];
        snprintf(want, sizeof(want), "boom %zu", i);
        CHECK(strstr(e.message, want) != NULL);
    }
    ant_err e = {0};
    ant_error_to_openai(529, "<html>", 6, &e);
    CHECK(e.status == 503 && strcmp(e.type, "server_error") == 0);
    ant_error_to_openai(418, NULL, 0, &e);
    CHECK(e.status == 418);
    ant_error_to_openai(500, "", 0, &e);
    CHECK(e.status == 502);
}

/* ---- streaming, provider direction ---------------------------------------------------- */

typedef struct collected {
    sj_buf all;    /* chunks, one per line */
    int n;
} collected;

static void collect(void *ud, const char *json, size_t len)
{
    collected *c = ud;
    sj_buf_raw(&c->all, json, len);
    sj_buf_raw(&c->all, "\n", 1);
    c->n++;
}

static const char ant_events[] =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_s\",\"type\":\"message\","
    "\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n"
    "event: ping\ndata: {\"type\":\"ping\"}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n"
    "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"lo\"}}\r\n\r\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_9\",\"name\":\"f\",\"input\":{}}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"1}\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":7}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

typedef struct sse_ctx {
    ant_stream st;
    collected col;
    int stops, errors, bad;
    ant_err err;
} sse_ctx;

static int on_sse(void *ud, const char *ev, size_t evl, const char *data, size_t len)
{
    sse_ctx *c = ud;
    int rc = ant_stream_event(&c->st, ev, evl, data, len, collect, &c->col, &c->err);
    c->stops += rc == ANT_SE_STOP;
    c->errors += rc == ANT_SE_ERROR;
    c->bad += rc == ANT_SE_BAD;
    return 0;
}

/* Runs the event text through the SSE parser in pieces of `step` bytes
 * (0 = all at once) and returns the chunks as lines. Caller frees. */
static char *run_stream(const char *text, size_t step, sse_ctx *c)
{
    memset(c, 0, sizeof(*c));
    ant_stream_init(&c->st, 42);
    sse_parser p;
    sse_init(&p, 1 << 20, on_sse, c);
    size_t n = strlen(text);
    if (step == 0)
        step = n;
    for (size_t i = 0; i < n; i += step)
        sse_feed(&p, text + i, i + step > n ? n - i : step);
    sse_free(&p);
    ant_stream_free(&c->st);
    sj_buf_raw(&c->col.all, "", 0);
    char *s = strndup(c->col.all.data ? c->col.all.data : "", c->col.all.len);
    sj_buf_free(&c->col.all);
    return s;
}

static void test_stream(void)
{
    sse_ctx c;
    char *whole = run_stream(ant_events, 0, &c);
    CHECK(c.stops == 1 && c.errors == 0 && c.bad == 0);
    CHECK(c.col.n == 7); /* role, Hel, lo, tool start, 2 argument fragments, final */
    /* check each chunk in order */
    const char *want_path[] = {"choices.0.delta.role", "choices.0.delta.content", "choices.0.delta.content",
                               "choices.0.delta.tool_calls.0.function.name",
                               "choices.0.delta.tool_calls.0.function.arguments",
                               "choices.0.delta.tool_calls.0.function.arguments", "choices.0.finish_reason"};
    const char *want_val[] = {"assistant", "Hel", "lo", "f", "{\"a\":", "1}", "tool_calls"};
    char *save = NULL;
    int i = 0;
    for (char *line = strtok_r(whole, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
        sj_doc *d = parse(line, strlen(line));
        const sj_val *r = sj_doc_root(d);
        CHECK(d != NULL);
        CHECK(str_at(r, "object", "chat.completion.chunk") && str_at(r, "id", "msg_s") &&
              str_at(r, "model", "claude-x") && int_at(r, "created") == 42);
        if (i < 7)
            CHECK(str_at(r, want_path[i], want_val[i]));
        if (i == 3) {
            CHECK(str_at(r, "choices.0.delta.tool_calls.0.id", "toolu_9"));
            CHECK(int_at(r, "choices.0.delta.tool_calls.0.index") == 0);
        }
        if (i < 6)
            CHECK(sj_is_null(at(r, "choices.0.finish_reason")) && at(r, "usage") == NULL);
        if (i == 6)
            CHECK(int_at(r, "usage.prompt_tokens") == 12 && int_at(r, "usage.completion_tokens") == 7 &&
                  int_at(r, "usage.total_tokens") == 19);
        sj_doc_free(d);
    }
    CHECK(i == 7);
    /* the same stream split at every byte boundary gives the same chunks */
    char *again = run_stream(ant_events, 0, &c);
    for (size_t step = 1; step < 40; step += 3) {
        char *split = run_stream(ant_events, step, &c);
        CHECK(strcmp(split, again) == 0 && c.stops == 1);
        free(split);
    }
    free(again);
    free(whole);

    /* an error event mid-stream */
    char *s = run_stream("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n"
                         "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                         "\"message\":\"Overloaded\"}}\n\n", 5, &c);
    CHECK(c.errors == 1 && c.err.status == 503 && strstr(c.err.message, "Overloaded"));
    CHECK(strcmp(c.err.code, "overloaded_error") == 0);
    free(s);
    s = run_stream("data: [1,2]\n\ndata: {}\n\n", 0, &c);
    CHECK(c.bad == 2 && c.col.n == 0);
    free(s);
    /* message_stop without message_delta still ends with a finish chunk */
    s = run_stream("data: {\"type\":\"message_stop\"}\n\n", 0, &c);
    CHECK(c.stops == 1 && c.col.n == 1 && strstr(s, "\"finish_reason\":\"stop\""));
    free(s);
}

/* ---- drop-in direction ------------------------------------------------------------------- */

static sj_doc *rev_req(const char *ant, int *st, ant_err *e)
{
    sj_doc *in = parse(ant, strlen(ant));
    sj_doc *out = sj_doc_new();
    *st = ant_req_to_openai(sj_doc_root(in), out, e);
    sj_doc_free(in);
    if (*st) {
        sj_doc_free(out);
        return NULL;
    }
    /* round-trip through text: the output must serialize */
    char *txt = sj_write(sj_doc_root(out), NULL);
    sj_doc_free(out);
    sj_doc *d = parse(txt, strlen(txt));
    free(txt);
    return d;
}

static void test_rev_request(void)
{
    int st;
    ant_err e = {0};
    sj_doc *d = rev_req(
        "{\"model\":\"mock/mock-1\",\"max_tokens\":100,\"system\":[{\"type\":\"text\",\"text\":\"sys\"}],"
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},"
        "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"AAA\"}}]},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"calling\"},{\"type\":\"tool_use\","
        "\"id\":\"toolu_1\",\"name\":\"f\",\"input\":{\"x\":1}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":"
        "[{\"type\":\"text\",\"text\":\"42\"}]},{\"type\":\"text\",\"text\":\"and?\"}]}],"
        "\"stop_sequences\":[\"X\"],\"temperature\":0.2,\"stream\":true,\"metadata\":{\"user_id\":\"u\"},"
        "\"tools\":[{\"name\":\"f\",\"description\":\"d\",\"input_schema\":{\"type\":\"object\"}}],"
        "\"tool_choice\":{\"type\":\"any\",\"disable_parallel_tool_use\":true}}",
        &st, &e);
    CHECK(st == 0 && d);
    const sj_val *r = sj_doc_root(d);
    CHECK(str_at(r, "model", "mock/mock-1") && int_at(r, "max_tokens") == 100);
    CHECK(str_at(r, "messages.0.role", "system") && str_at(r, "messages.0.content", "sys"));
    CHECK(str_at(r, "messages.1.content.0.text", "look"));
    CHECK(str_at(r, "messages.1.content.1.image_url.url", "data:image/png;base64,AAA"));
    CHECK(str_at(r, "messages.2.role", "assistant") && str_at(r, "messages.2.content", "calling"));
    CHECK(str_at(r, "messages.2.tool_calls.0.id", "toolu_1"));
    CHECK(str_at(r, "messages.2.tool_calls.0.function.arguments", "{\"x\":1}"));
    CHECK(str_at(r, "messages.3.role", "tool") && str_at(r, "messages.3.tool_call_id", "toolu_1"));
    CHECK(str_at(r, "messages.3.content", "42"));
    CHECK(str_at(r, "messages.4.role", "user") && str_at(r, "messages.4.content.0.text", "and?"));
    CHECK(str_at(r, "stop.0", "X") && str_at(r, "user", "u") && sj_bool(at(r, "stream"), false));
    CHECK(str_at(r, "tools.0.type", "function") && str_at(r, "tools.0.function.name", "f"));
    CHECK(str_at(r, "tools.0.function.parameters.type", "object"));
    CHECK(str_at(r, "tool_choice", "required") && sj_type_of(at(r, "parallel_tool_calls")) == SJ_FALSE);
    sj_doc_free(d);

    d = rev_req("{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                "\"tool_choice\":{\"type\":\"tool\",\"name\":\"g\"},\"system\":\"plain\"}", &st, &e);
    r = sj_doc_root(d);
    CHECK(st == 0 && str_at(r, "tool_choice.function.name", "g") && str_at(r, "messages.0.content", "plain"));
    CHECK(str_at(r, "messages.1.content", "hi"));
    sj_doc_free(d);
    d = rev_req("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &st, &e);
    CHECK(st == 400 && strstr(e.message, "max_tokens"));
    d = rev_req("{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"system\",\"content\":\"hi\"}]}", &st, &e);
    CHECK(st == 400 && strstr(e.message, "role"));
    d = rev_req("{\"max_tokens\":1,\"messages\":[]}", &st, &e);
    CHECK(st == 400 && strstr(e.message, "model"));
}

static void test_rev_response(void)
{
    const char *body = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                       "\"message\":{\"role\":\"assistant\",\"content\":\"hey\",\"tool_calls\":[{\"id\":\"c1\","
                       "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"q\\\":2}\"}}]},"
                       "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}";
    sj_buf out = {0};
    ant_err e = {0};
    CHECK(ant_resp_from_openai(body, strlen(body), "mock/mock-1", &out, &e) == 0);
    sj_doc *d = parse(out.data, out.len);
    const sj_val *r = sj_doc_root(d);
    CHECK(str_at(r, "id", "msg_chatcmpl-1") && str_at(r, "type", "message") && str_at(r, "role", "assistant"));
    CHECK(str_at(r, "model", "mock/mock-1"));
    CHECK(str_at(r, "content.0.type", "text") && str_at(r, "content.0.text", "hey"));
    CHECK(str_at(r, "content.1.type", "tool_use") && str_at(r, "content.1.id", "c1"));
    CHECK(int_at(r, "content.1.input.q") == 2);
    CHECK(str_at(r, "stop_reason", "tool_use") && sj_is_null(at(r, "stop_sequence")));
    CHECK(int_at(r, "usage.input_tokens") == 5 && int_at(r, "usage.output_tokens") == 6);
    sj_doc_free(d);
    sj_buf_free(&out);
    CHECK(ant_resp_from_openai("{}", 2, "m", &out, &e) == -1 && e.status == 502);
    sj_buf_free(&out);
    CHECK(strcmp(ant_stop_reason("stop"), "end_turn") == 0);
    CHECK(strcmp(ant_stop_reason("length"), "max_tokens") == 0);
    CHECK(strcmp(ant_error_type_for(429), "rate_limit_error") == 0);
    CHECK(strcmp(ant_error_type_for(401), "authentication_error") == 0);
    CHECK(strcmp(ant_error_type_for(503), "overloaded_error") == 0);
    CHECK(strcmp(ant_error_type_for(502), "api_error") == 0);
    CHECK(strcmp(ant_error_type_for(400), "invalid_request_error") == 0);
}

/* Event names in order from Anthropic SSE text. */
static void event_names(const char *sse, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *p = sse; (p = strstr(p, "event: ")) != NULL;) {
        p += 7;
        size_t n = strcspn(p, "\n");
        if (strlen(out) + n + 2 < cap) {
            strncat(out, p, n);
            strcat(out, ",");
        }
    }
}

static void test_rev_stream(void)
{
    const char *chunks[] = {
        "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}",
        "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}",
        "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"}}]}",
        "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"t1\",\"type\":"
        "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}",
        "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
        "\"{\\\"a\\\"\"}}]}}]}",
        "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
        "\":1}\"}}]}}]}",
        "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],"
        "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}",
    };
    ant_rstream s;
    ant_rstream_init(&s, "mock/mock-1", NULL);
    sj_buf out = {0};
    ant_err e = {0};
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
        CHECK(ant_rstream_chunk(&s, chunks[i], strlen(chunks[i]), &out, &e) == 0);
    ant_rstream_finish(&s, &out);
    sj_buf_raw(&out, "", 1);
    char names[1024];
    event_names(out.data, names, sizeof(names));
    CHECK(strcmp(names, "message_start,content_block_start,content_block_delta,content_block_delta,"
                        "content_block_stop,content_block_start,content_block_delta,content_block_delta,"
                        "content_block_stop,message_delta,message_stop,") == 0);
    if (strcmp(names, "") == 0 || failures)
        fprintf(stderr, "  events: %s\n", names);
    /* every data line is JSON; check a few */
    int ndata = 0;
    for (const char *p = out.data; (p = strstr(p, "data: ")) != NULL; ndata++) {
        p += 6;
        size_t n = strcspn(p, "\n");
        sj_doc *d = parse(p, n);
        CHECK(d != NULL);
        const sj_val *r = sj_doc_root(d);
        const char *type = sj_str(at(r, "type"), NULL);
        if (type && strcmp(type, "message_start") == 0)
            CHECK(str_at(r, "message.model", "mock/mock-1") && str_at(r, "message.id", "msg_c"));
        if (type && strcmp(type, "message_delta") == 0)
            CHECK(str_at(r, "delta.stop_reason", "tool_use") && int_at(r, "usage.output_tokens") == 4);
        if (ndata == 5)
            CHECK(str_at(r, "content_block.type", "tool_use") && str_at(r, "content_block.id", "t1") &&
                  int_at(r, "index") == 1);
        if (ndata == 7)
            CHECK(str_at(r, "delta.type", "input_json_delta") && str_at(r, "delta.partial_json", ":1}"));
        sj_doc_free(d);
        p += n;
    }
    CHECK(ndata == 11);
    sj_buf_free(&out);

    /* an error in the middle: an Anthropic error event */
    ant_rstream_init(&s, "m", "x");
    ant_rstream_chunk(&s, chunks[1], strlen(chunks[1]), &out, &e);
    ant_rstream_error(&s, 429, "slow down", &out);
    sj_buf_raw(&out, "", 1);
    CHECK(strstr(out.data, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"") != NULL);
    sj_buf_free(&out);
    CHECK(ant_rstream_chunk(&s, "nope", 4, &out, &e) == -1);
    sj_buf_free(&out);

    /* an OpenAI in-stream error object becomes an Anthropic error event, and ends the stream */
    ant_rstream_init(&s, "m", "x");
    const char *ec = "{\"error\":{\"message\":\"upstream broke\",\"type\":\"server_error\"}}";
    CHECK(ant_rstream_chunk(&s, ec, strlen(ec), &out, &e) == 0);
    ant_rstream_chunk(&s, chunks[1], strlen(chunks[1]), &out, &e);
    ant_rstream_finish(&s, &out);
    sj_buf_raw(&out, "", 1);
    event_names(out.data, names, sizeof(names));
    CHECK(strcmp(names, "message_start,error,") == 0);
    CHECK(strstr(out.data, "\"type\":\"api_error\",\"message\":\"upstream broke\"") != NULL);
    sj_buf_free(&out);
}

int main(void)
{
    test_request_basic();
    test_request_images();
    test_request_tools();
    test_response();
    test_errors();
    test_stream();
    test_rev_request();
    test_rev_response();
    test_rev_stream();
    if (failures) {
        fprintf(stderr, "test_anthropic: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_anthropic: all passed\n");
    return 0;
}
