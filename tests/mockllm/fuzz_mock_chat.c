/*
 * fuzz_mock_chat.c - libFuzzer target for sluice-mockllm's chat handling:
 * request validation, content extraction, both API shapes, stream stepping
 * and faults, with the fuzz input as the request body. The first byte picks
 * the endpoint, the fault and the extra headers; every reply produced must be
 * a complete HTTP response head followed by what the reply promised.
 */
#include "mockllm/mock.h"

#include <stdlib.h>
#include <string.h>

mock_config mock_cfg = {.workers = 1, .max_body = 1 << 20};
mock_worker *mock_workers;
atomic_uint_fast64_t mock_last_seq;

static const char *const faults[] = {
    NULL, "500", "429", "reset-mid-stream", "stall-mid-stream", "malformed-json",
    "malformed-sse", "drip", "empty", "stall",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static mock_worker w;
    if (!mock_workers) {
        pthread_mutex_init(&w.last_lock, NULL);
        mock_workers = &w;
        mock_huge_init();
    }
    if (size < 1) return 0;
    unsigned sel = data[0];
    bool anthropic = sel & 1;
    struct phr_header h[6];
    size_t nh = 0;
#define HDR(n, v) (h[nh++] = (struct phr_header){n, strlen(n), v, strlen(v)})
    HDR("x-api-key", "k");
    HDR("anthropic-version", "2023-06-01");
    const char *fault = faults[(sel >> 1) % (sizeof faults / sizeof faults[0])];
    if (fault) HDR("x-mock-fault", fault);
    if (sel & 0x40) HDR("x-mock-tool-call", "tool");
    if (sel & 0x80) HDR("x-mock-words", "7");
    const char *path = anthropic ? "/v1/messages" : "/v1/chat/completions";
    mock_req req = {
        .method = "POST", .method_len = 4,
        .target = path, .target_len = strlen(path), .path = path, .path_len = strlen(path),
        .minor_version = 1, .headers = h, .num_headers = nh,
        .body = (const char *)data + 1, .body_len = size - 1, .keep_alive = true,
    };
    mock_reply r;
    memset(&r, 0, sizeof r);
    mock_reply_reset(&r);
    r.active = true;
    r.end = MOCK_END_KEEP;
    mock_route(&w, &req, &r);
    sj_buf out = {0};
    if (r.is_stream) {
        size_t steps = 0;
        while (mock_stream_step(&w, &r, &out) == MOCK_STEP_MORE)
            if (++steps > size + 16) abort(); /* a stream must end */
    } else {
        sj_buf_raw(&out, r.fixed.data ? r.fixed.data : "", r.fixed.len);
    }
    bool silent = r.end == MOCK_END_STALL || r.end == MOCK_END_RESET;
    if (!silent && (out.len < 12 || memcmp(out.data, "HTTP/1.1 ", 9) != 0)) abort();
    sj_buf_free(&out);
    mock_reply_free(&r);
    return 0;
}
