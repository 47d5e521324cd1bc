/*
 * test_client.c - the embeddable client (include/sluice/client.h) against a
 * real $SLUICE_BUILD/sluice-mockllm on a loopback port: OpenAI-compatible and
 * Anthropic upstreams, streamed pieces in order and the whole text, the raw
 * JSON variant, errors (401, 500, refused connection, a stream cut midway, a
 * callback that stops), retries counted at the mock, HTTPS through
 * tests/client/tls_proxy.js with a CA made at test time (trusted as PEM text,
 * as a file, and refused without it), and clients on several threads.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sluice/client.h"
#include "../upstream/test_server.h"

static int failures;
#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            failures++;                                                           \
        }                                                                         \
    } while (0)

static char base[64];      /* http://127.0.0.1:<mock> */
static char tls_base[64];  /* https://127.0.0.1:<proxy>, "" when HTTPS cannot run */
static char tmp_dir[64];
static ts_child mock, proxy;

/* ---- helpers ---------------------------------------------------------------- */

static sluice_client *make(const char *provider, const char *url, const char *key, const char *const *hdrs,
                           size_t nh)
{
    sluice_client_options o = {
        .provider = provider, .base_url = url, .model = "m1", .api_key = key,
        .extra_headers = hdrs, .n_extra_headers = nh,
    };
    sluice_error e;
    sluice_client *c = sluice_client_new(&o, &e);
    if (c == NULL)
        fprintf(stderr, "sluice_client_new: %s\n", e.message);
    return c;
}

/* Collects the streamed pieces. */
typedef struct pieces {
    char text[4096];
    size_t len;
    int n;
    char first[64];
    int stop_after;        /* > 0: ask to stop after that many pieces */
} pieces;

static int on_piece(void *user, const char *t, size_t len)
{
    pieces *p = user;
    if (p->n == 0)
        snprintf(p->first, sizeof(p->first), "%.*s", (int)len, t);
    if (p->len + len < sizeof(p->text)) {
        memcpy(p->text + p->len, t, len);
        p->len += len;
        p->text[p->len] = '\0';
    }
    p->n++;
    return p->stop_after > 0 && p->n >= p->stop_after;
}

static size_t on_curl_body(char *d, size_t s, size_t n, void *ud)
{
    strncat((char *)ud, d, s * n < 8000 - strlen(ud) ? s * n : 8000 - strlen(ud) - 1);
    return s * n;
}

/* GET base+path from the mock into out (8000 bytes). */
static void mock_get(const char *path, char *out)
{
    char url[128];
    snprintf(url, sizeof(url), "%s%s", base, path);
    out[0] = '\0';
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_curl_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    CHECK(curl_easy_perform(e) == CURLE_OK);
    curl_easy_cleanup(e);
}

/* A counter of the mock's /mock/stats ("requests_total", "connections_accepted"). */
static long mock_stat(const char *name)
{
    char out[8000], key[64];
    mock_get("/mock/stats", out);
    snprintf(key, sizeof(key), "\"%s\":", name);
    const char *p = strstr(out, key);
    return p ? atol(p + strlen(key)) : -1;
}

/* Checks that the last request the mock received contains every string of want (NULL-ended). */
static void check_last(const char *const want[])
{
    char last[8000];
    mock_get("/mock/last", last);
    for (; *want; want++)
        if (strstr(last, *want) == NULL) {
            fprintf(stderr, "/mock/last lacks %s: %s\n", *want, last);
            failures++;
        }
}

static const sluice_message hello[] = {{"user", "one two three"}};

/* ---- cases -------------------------------------------------------------------- */

static void test_openai(void)
{
    sluice_client *c = make("custom", base, "sk-test-123456", NULL, 0);
    CHECK(c != NULL);
    pieces p = {0};
    sluice_error e;
    char *t = sluice_client_stream_completion(c, hello, 1, on_piece, &p, &e);
    CHECK(t && strcmp(t, "echo: one two three") == 0);
    CHECK(strcmp(p.text, "echo: one two three") == 0); /* pieces in order, nothing lost */
    CHECK(p.n == 4 && strcmp(p.first, "echo:") == 0);  /* one word per chunk */
    sluice_free(t);

    t = sluice_client_completion(c, hello, 1, &e);
    CHECK(t && strcmp(t, "echo: one two three") == 0);
    sluice_free(t);
    check_last((const char *[]){"\"authorization\":\"Bearer sk-test-123456\"",
                                "\"path\":\"/v1/chat/completions\"", "\"model\":\"m1\"", NULL});

    /* Calls on one client keep using the connection its first calls opened:
     * the only new one is the second /mock/stats request's own. */
    long conns = mock_stat("connections_accepted");
    for (int i = 0; i < 3; i++) {
        t = sluice_client_stream_completion(c, hello, 1, NULL, NULL, &e);
        CHECK(t != NULL);
        sluice_free(t);
    }
    CHECK(mock_stat("connections_accepted") - conns == 1);

    /* A trailing /v1 (and /) on the base URL is accepted. */
    sluice_client_free(c);
    char v1[96];
    snprintf(v1, sizeof(v1), "%s/v1/", base);
    c = make("custom", v1, NULL, NULL, 0);
    t = sluice_client_stream_completion(c, hello, 1, NULL, NULL, &e);
    CHECK(t && strcmp(t, "echo: one two three") == 0);
    sluice_free(t);
    sluice_client_free(c);
}

static void test_anthropic(void)
{
    sluice_client *c = make("anthropic", base, "ant-key-42", NULL, 0);
    CHECK(c != NULL);
    sluice_message m[] = {{"system", "be brief"}, {"user", "hi from"}, {"user", "anthropic land"}};
    pieces p = {0};
    sluice_error e;
    char *t = sluice_client_stream_completion(c, m, 3, on_piece, &p, &e);
    /* consecutive user messages are merged; the mock echoes the last one's text */
    CHECK(t && strstr(t, "anthropic land") != NULL && strncmp(t, "echo: ", 6) == 0);
    CHECK(t && strcmp(p.text, t) == 0 && p.n >= 3);
    sluice_free(t);
    check_last((const char *[]){"\"path\":\"/v1/messages\"", "\"x-api-key\":\"ant-key-42\"",
                                "\"anthropic-version\":\"2023-06-01\"", "\"system\":\"be brief\"",
                                "\"max_tokens\":4096", NULL});

    t = sluice_client_completion(c, m, 3, &e);
    CHECK(t && strncmp(t, "echo: ", 6) == 0 && strstr(t, "anthropic land") != NULL);
    sluice_free(t);
    sluice_client_free(c);
}

static int count_json(void *user, const char *json, size_t len)
{
    int *n = user;
    if (len > 0 && json[0] == '{' && memmem(json, len, "chat.completion.chunk", 21) != NULL)
        (*n)++;
    return 0;
}

static void test_raw_json(void)
{
    sluice_client *c = make("anthropic", base, "k", NULL, 0);
    const char *rq = "{\"model\":\"claude-x\",\"temperature\":0.5,\"stream\":true,"
                     "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"raw one\"}]}]}";
    int n = 0;
    sluice_error e;
    char *t = sluice_client_chat_json(c, rq, strlen(rq), count_json, &n, &e);
    CHECK(t && strcmp(t, "echo: raw one") == 0);
    CHECK(n >= 3); /* Anthropic events arrive as OpenAI chunks */
    sluice_free(t);
    check_last((const char *[]){"\"model\":\"claude-x\"", "\"temperature\":0.5", NULL});

    const char *rq2 = "{\"messages\":[{\"role\":\"user\",\"content\":\"whole\"}]}"; /* the client's model */
    t = sluice_client_chat_json(c, rq2, strlen(rq2), NULL, NULL, &e);
    CHECK(t && strstr(t, "\"object\":\"chat.completion\"") && strstr(t, "echo: whole") && strstr(t, "\"m1\""));
    sluice_free(t);

    t = sluice_client_chat_json(c, "{\"messages\":", 12, NULL, NULL, &e);
    CHECK(t == NULL && e.status == 400 && strstr(e.message, "not a JSON object"));
    t = sluice_client_chat_json(c, "{\"messages\":[]}", 15, NULL, NULL, &e);
    CHECK(t == NULL && e.status == 400 && strstr(e.message, "messages"));
    sluice_client_free(c);
}

/* A port that refuses connections: bound, then closed. */
static int refused_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || getsockname(fd, (struct sockaddr *)&a, &al))
        return 1;
    close(fd);
    return ntohs(a.sin_port);
}

static void test_errors(void)
{
    sluice_error e;
    const char *h401[] = {"x-mock-fault: 401"};
    sluice_client *c = make("custom", base, "sk-secret-key-777", h401, 1);
    char *t = sluice_client_stream_completion(c, hello, 1, NULL, NULL, &e);
    CHECK(t == NULL && e.status == 401 && strstr(e.message, "HTTP 401") && strstr(e.message, "Invalid API key"));
    CHECK(strstr(e.message, "sk-secret-key-777") == NULL);
    sluice_client_free(c);

    const char *h500[] = {"x-mock-fault: 500"};
    c = make("custom", base, NULL, h500, 1);
    t = sluice_client_completion(c, hello, 1, &e);
    CHECK(t == NULL && e.status == 502 && strcmp(e.type, "server_error") == 0 && strstr(e.message, "HTTP 500"));
    sluice_client_free(c);

    /* Anthropic's own error shape, translated. */
    c = make("anthropic", base, NULL, NULL, 0); /* no x-api-key: the mock says 401 */
    t = sluice_client_stream_completion(c, hello, 1, NULL, NULL, &e);
    CHECK(t == NULL && e.status == 401 && strcmp(e.type, "authentication_error") == 0);
    sluice_client_free(c);

    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", refused_port());
    c = make("custom", url, NULL, NULL, 0);
    t = sluice_client_stream_completion(c, hello, 1, NULL, NULL, &e);
    CHECK(t == NULL && e.status == 502 && strstr(e.message, "cannot connect"));
    sluice_client_free(c);

    /* Cut after two chunks: the pieces got so far, then the error. */
    const char *hcut[] = {"x-mock-fault: reset-mid-stream"};
    c = make("custom", base, NULL, hcut, 1);
    pieces p = {0};
    t = sluice_client_stream_completion(c, hello, 1, on_piece, &p, &e);
    CHECK(t == NULL && e.status == 502 && p.n == 2 && strcmp(p.text, "echo: one") == 0);
    sluice_client_free(c);

    /* Retries: two 500s, then success; three requests reach the mock. */
    const char *hretry[] = {"x-mock-fault: 500", "x-mock-fail-times: 2", "x-mock-fault-key: client-retry"};
    sluice_client_options o = {.provider = "custom", .base_url = base, .model = "m1", .max_retries = 2,
                               .extra_headers = hretry, .n_extra_headers = 3};
    c = sluice_client_new(&o, &e);
    long before = mock_stat("requests_total");
    t = sluice_client_completion(c, hello, 1, &e);
    CHECK(t && strcmp(t, "echo: one two three") == 0);
    CHECK(mock_stat("requests_total") - before == 3 + 1); /* + the first /mock/stats itself */
    sluice_free(t);
    sluice_client_free(c);

    /* A stream that goes silent: the idle timeout ends it with 504. */
    const char *hstall[] = {"x-mock-fault: stall-mid-stream"};
    o = (sluice_client_options){.provider = "custom", .base_url = base, .model = "m1", .stream_idle_timeout_s = 1,
                                .extra_headers = hstall, .n_extra_headers = 1};
    c = sluice_client_new(&o, &e);
    pieces st = {0};
    double t0 = ts_now();
    t = sluice_client_stream_completion(c, hello, 1, on_piece, &st, &e);
    CHECK(t == NULL && e.status == 504 && st.n == 2 && ts_now() - t0 < 5);
    sluice_client_free(c);

    /* A callback that stops: 499, and the client stays usable. */
    c = make("custom", base, NULL, NULL, 0);
    pieces s = {.stop_after = 2};
    t = sluice_client_stream_completion(c, hello, 1, on_piece, &s, &e);
    CHECK(t == NULL && e.status == 499 && s.n == 2);
    t = sluice_client_stream_completion(c, hello, 1, NULL, NULL, &e);
    CHECK(t && strcmp(t, "echo: one two three") == 0);
    sluice_free(t);
    sluice_client_free(c);
}

/* A call from inside a callback of the same client is refused, not nested. */
static int on_piece_nested(void *user, const char *t, size_t len)
{
    (void)t;
    (void)len;
    sluice_error e;
    char *r = sluice_client_completion(user, hello, 1, &e);
    CHECK(r == NULL && e.status == 400 && strstr(e.message, "already in a call"));
    sluice_free(r);
    return 0;
}

static void test_bad_options(void)
{
    static const struct {
        sluice_client_options o;
        const char *want; /* in the message */
    } bad[] = {
        {{.provider = "gemini"}, "provider"},
        {{.provider = "custom"}, "base_url"},
        {{.provider = "custom", .base_url = "ftp://x"}, "http://"},
        {{.provider = "openai", .ca_pem = "not a certificate"}, "BEGIN CERTIFICATE"},
        {{.provider = "openai", .ca_file = "/nonexistent/ca.pem"}, "cannot open"},
        {{.provider = "openai", .api_key = "a\r\nX-Evil: 1"}, "line break"},
        {{.provider = "openai", .max_retries = 11}, "max_retries"},
    };
    sluice_error e;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sluice_client *c = sluice_client_new(&bad[i].o, &e);
        CHECK(c == NULL && e.status == 400 && strstr(e.message, bad[i].want));
        sluice_client_free(c);
    }
    sluice_client_options o = {.provider = "custom", .base_url = base};
    sluice_client *c = sluice_client_new(&o, &e); /* no model anywhere */
    CHECK(c != NULL);
    CHECK(sluice_client_completion(c, hello, 1, &e) == NULL && e.status == 400 && strstr(e.message, "model"));
    sluice_client_free(c);
    c = make("custom", base, NULL, NULL, 0);
    char *t = sluice_client_stream_completion(c, hello, 1, on_piece_nested, c, &e);
    CHECK(t && strcmp(t, "echo: one two three") == 0);
    sluice_free(t);
    sluice_message no_content[] = {{"user", NULL}};
    CHECK(sluice_client_completion(c, no_content, 1, &e) == NULL && e.status == 400);
    CHECK(sluice_client_completion(c, hello, 0, &e) == NULL && e.status == 400);
    sluice_client_free(c);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b = calloc(1, 65536);
    if (f && b)
        fread(b, 1, 65535, f);
    if (f)
        fclose(f);
    return b;
}

static void test_https(void)
{
    if (!tls_base[0])
        return;
    char ca_path[128];
    snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", tmp_dir);
    char *pem = slurp(ca_path);
    sluice_error e;
    pieces p = {0};

    sluice_client_options o = {.provider = "custom", .base_url = tls_base, .model = "m1", .ca_pem = pem};
    sluice_client *c = sluice_client_new(&o, &e);
    char *t = sluice_client_stream_completion(c, hello, 1, on_piece, &p, &e);
    CHECK(t && strcmp(t, "echo: one two three") == 0 && p.n == 4);
    if (!t)
        fprintf(stderr, "https: %d %s\n", e.status, e.message);
    sluice_free(t);
    sluice_client_free(c);

    o = (sluice_client_options){.provider = "anthropic", .base_url = tls_base, .model = "m1", .api_key = "k",
                                .ca_file = ca_path};
    c = sluice_client_new(&o, &e);
    t = sluice_client_completion(c, hello, 1, &e);
    CHECK(t && strcmp(t, "echo: one two three") == 0);
    sluice_free(t);
    sluice_client_free(c);

    /* Without the CA: the system store does not know it. */
    o = (sluice_client_options){.provider = "custom", .base_url = tls_base, .model = "m1"};
    c = sluice_client_new(&o, &e);
    t = sluice_client_stream_completion(c, hello, 1, NULL, NULL, &e);
    CHECK(t == NULL && e.status == 502 && strstr(e.message, "tls") && strstr(e.message, "certificate"));
    sluice_client_free(c);
    free(pem);
}

/* One client per thread, all at once. */
static void *thread_main(void *arg)
{
    (void)arg;
    sluice_client *c = make("custom", base, NULL, NULL, 0);
    long ok = 0;
    for (int i = 0; i < 20 && c; i++) {
        sluice_error e;
        char *t = (i & 1) ? sluice_client_completion(c, hello, 1, &e)
                          : sluice_client_stream_completion(c, hello, 1, NULL, NULL, &e);
        ok += t && strcmp(t, "echo: one two three") == 0;
        sluice_free(t);
    }
    sluice_client_free(c);
    return (void *)ok;
}

static void test_threads(void)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, thread_main, NULL) == 0);
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        CHECK((long)r == 20);
    }
}

/* ---- main ----------------------------------------------------------------------- */

static void cleanup(void)
{
    ts_child_stop(&proxy);
    ts_child_stop(&mock);
    ts_rmdir(tmp_dir);
}

static void on_term(int sig)
{
    (void)sig;
    exit(3); /* runs cleanup() */
}

/* Certificates and the TLS proxy in front of the mock; false = HTTPS cases skipped. */
static int start_tls(const char *cwd, int mock_port)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s/tests/client/make_certs.sh' '%s'", cwd, tmp_dir);
    if (system(cmd) != 0)
        return 0;
    char script[600], port[16];
    snprintf(script, sizeof(script), "%s/tests/client/tls_proxy.js", cwd);
    snprintf(port, sizeof(port), "%d", mock_port);
    char *argv[] = {"node", script, "srv.crt", "srv.key", port, NULL};
    return ts_spawn(&proxy, tmp_dir, argv, "PORT %d");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    const char *build = getenv("SLUICE_BUILD") ? getenv("SLUICE_BUILD") : "build";
    char bin[1024], cwd[512];
    if (!getcwd(cwd, sizeof(cwd)))
        return 1;
    snprintf(bin, sizeof(bin), "%s/%s/sluice-mockllm", build[0] == '/' ? "" : cwd, build);
    if (access(bin, X_OK) != 0) {
        printf("skip: %s not built\n", bin);
        return 77;
    }
    atexit(cleanup);
    signal(SIGTERM, on_term);
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/sluice-client-XXXXXX");
    if (!mkdtemp(tmp_dir))
        return 1;
    char *argv[] = {bin, "--listen", "127.0.0.1:0", NULL};
    int port = ts_spawn(&mock, tmp_dir, argv, "sluice-mockllm %*s listening on 127.0.0.1:%d");
    if (!port) {
        fprintf(stderr, "sluice-mockllm did not start\n");
        return 1;
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
    int tport = start_tls(cwd, port);
    if (tport)
        snprintf(tls_base, sizeof(tls_base), "https://127.0.0.1:%d", tport);
    else
        printf("https: openssl or node unavailable, HTTPS cases skipped\n");
    curl_global_init(CURL_GLOBAL_DEFAULT);

    test_openai();
    test_anthropic();
    test_raw_json();
    test_errors();
    test_bad_options();
    test_https();
    test_threads();

    curl_global_cleanup();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("test_client: all passed%s\n", tls_base[0] ? "" : " (HTTPS skipped)");
    return 0;
}
