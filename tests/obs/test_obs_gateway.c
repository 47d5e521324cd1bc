/*
 * test_obs_gateway.c - the gateway's metric set (src/obs/obs.c) end to end in
 * one process: request records move the right series, the exposition passes
 * the strict checker, the log file gets one JSON line per request, plugin
 * output is tagged, and /api/logs validation answers 400/404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "obs/obs.h"
#include "promcheck.h"

#include "obs_test.h"

static obs_record rec(const char *model, int status, bool stream)
{
    obs_record r;
    memset(&r, 0, sizeof(r));
    strcpy(r.request_id, "req-1");
    strcpy(r.method, "POST");
    strcpy(r.path, "/v1/chat/completions");
    strcpy(r.provider, "mock");
    snprintf(r.model, sizeof(r.model), "%s", model);
    r.status = status;
    r.stream = stream;
    r.total_ms = 120;
    r.upstream_ms = 100;
    r.ttft_ms = stream ? 20 : -1;
    r.prompt_tokens = 7;
    r.completion_tokens = 40;
    return r;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    size_t n = buf ? fread(buf, 1, cap - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

int main(void)
{
    char dir[] = "/tmp/obs_gw_XXXXXX", logpath[256], dbpath[256], err[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(logpath, sizeof(logpath), "%s/sluice.log", dir);
    snprintf(dbpath, sizeof(dbpath), "%s/logs.db", dir);

    obs_config c = {.version = "1.2.3-test", .log_level = OBS_INFO, .log_file = logpath, .log_requests = true,
                    .store_enabled = false, .max_series = 50};
    CHECK(obs_init(&c, err, sizeof(err)) == 0, "init: %s", err);
    sj_buf b = {0};
    CHECK(obs_api_logs("", 0, &b, err, sizeof(err)) == 404, "no store -> 404");
    obs_shutdown();

    c.store_enabled = true;
    c.store_path = dbpath;
    CHECK(obs_init(&c, err, sizeof(err)) == 0, "init with store: %s", err);
    obs_record r = rec("gpt-4o", 200, false);
    obs_request_done(&r, "chat");
    r = rec("gpt-4o", 200, true);
    obs_request_done(&r, "chat");
    r = rec("evil\"model\\\n", 502, false);
    obs_request_done(&r, "chat");
    for (int i = 0; i < 200; i++) {   /* hostile model names: capped */
        char m[32];
        snprintf(m, sizeof(m), "rand-%d", i);
        r = rec(m, 200, false);
        obs_request_done(&r, "chat");
    }
    obs_upstream_error("mock", "timeout");
    obs_retry("mock");
    obs_fallback("openai", "mock");
    unsigned f0 = obs_plugin_failures_here();
    obs_plugin_hook("guard", "pre_hook", OBS_HOOK_OK, 0.0002);
    obs_plugin_hook("guard", "pre_hook", OBS_HOOK_TRAP, 0.001);
    CHECK(obs_plugin_failures_here() - f0 == 1, "this thread's hook failures (a request's plugin_errors)");
    obs_plugin_recycle("guard");
    obs_conn_opened();
    obs_stream_opened();
    obs_stream_closed();
    obs_log_plugin("guard", OBS_INFO, "hello from the plugin\n", 22);
    obs_logf(OBS_DEBUG, "hidden", "not at info level");

    CHECK(obs_metrics_text(&b), "render");
    sj_buf_raw(&b, "", 1);
    if (promcheck(b.data, b.len - 1, err, sizeof(err)) != 0) {
        printf("FAIL: exposition: %s\n%s", err, b.data);
        failures++;
    }
    const char *t = b.data;
    CHECK(promcheck_value(t, "sluice_build_info{version=\"1.2.3-test\"}") == 1, "build info");
    CHECK(promcheck_value(t, "sluice_requests_total{provider=\"mock\",model=\"gpt-4o\",status=\"200\",endpoint=\"chat\"}") == 2,
          "requests by labels");
    CHECK(promcheck_value(t, "sluice_requests_total{provider=\"other\",model=\"other\",status=\"other\",endpoint=\"other\"}") > 100,
          "hostile names overflow into other");
    CHECK(strstr(t, "model=\"evil\\\"model\\\\\\n\"") != NULL, "escaped model label");
    CHECK(promcheck_value(t, "sluice_tokens_total{provider=\"mock\",model=\"gpt-4o\",type=\"completion\"}") == 80,
          "completion tokens");
    CHECK(promcheck_value(t, "sluice_stream_ttft_seconds_count{provider=\"mock\",model=\"gpt-4o\"}") == 1, "ttft");
    CHECK(promcheck_value(t, "sluice_stream_tokens_per_second_count{provider=\"mock\",model=\"gpt-4o\"}") == 1, "tps");
    CHECK(promcheck_value(t, "sluice_upstream_errors_total{provider=\"mock\",kind=\"timeout\"}") == 1, "upstream error");
    CHECK(promcheck_value(t, "sluice_retries_total{provider=\"mock\"}") == 1, "retry");
    CHECK(promcheck_value(t, "sluice_fallbacks_total{from=\"openai\",to=\"mock\"}") == 1, "fallback");
    CHECK(promcheck_value(t, "sluice_plugin_hook_calls_total{plugin=\"guard\",hook=\"pre_hook\"}") == 2, "hook calls");
    CHECK(promcheck_value(t, "sluice_plugin_hook_failures_total{plugin=\"guard\",hook=\"pre_hook\",kind=\"trap\"}") == 1,
          "hook trap");
    CHECK(promcheck_value(t, "sluice_plugin_instance_recycles_total{plugin=\"guard\"}") == 1, "recycle");
    CHECK(promcheck_value(t, "sluice_open_connections") == 1 && promcheck_value(t, "sluice_open_streams") == 0,
          "gauges");
    CHECK(promcheck_value(t, "sluice_log_store_dropped_total") == 0, "no drops");
    sj_buf_free(&b);

    b = (sj_buf){0};
    CHECK(obs_api_logs("limit=abc", 9, &b, err, sizeof(err)) == 400, "bad limit -> 400");
    obs_shutdown();   /* flushes the store */
    CHECK(obs_init(&c, err, sizeof(err)) == 0, "reopen: %s", err);
    CHECK(obs_api_logs("status=502", 10, &b, err, sizeof(err)) == 200, "query: %s", err);
    sj_buf_raw(&b, "", 1);
    CHECK(strstr(b.data, "\"status\":502") && strstr(b.data, "evil\\\"model"), "stored row: %s", b.data);
    sj_buf_free(&b);
    obs_shutdown();

    char *log = slurp(logpath);
    int lines = 0;
    for (char *p = log, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        lines++;
        sj_doc *d = sj_parse(p, (size_t)(nl - p), NULL, NULL);
        CHECK(d != NULL, "log line is not JSON: %.*s", (int)(nl - p), p);
        sj_doc_free(d);
    }
    CHECK(lines == 203 + 1, "log lines %d", lines);
    CHECK(strstr(log, "\"type\":\"plugin\",\"plugin\":\"guard\",\"msg\":\"hello from the plugin\"") != NULL,
          "plugin line tagged");
    CHECK(strstr(log, "not at info level") == NULL, "debug line filtered");
    CHECK(strstr(log, "\"level\":\"warn\",\"type\":\"request\",\"request_id\":\"req-1\"") != NULL, "5xx at warn");
    free(log);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("warning: cannot remove %s\n", dir);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
