/*
 * fuzz_mock_http.c - libFuzzer target for sluice-mockllm's request parser
 * (mock_parse_request: picohttpparser head, Content-Length / chunked bodies,
 * limits). Checks that whatever it accepts lies within the input.
 */
#include "mockllm/mock.h"

#include <stdlib.h>
#include <string.h>

mock_config mock_cfg = {.workers = 1, .max_body = 1 << 16};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct phr_header hdrs[MOCK_MAX_HEADERS];
    mock_req req;
    mock_parse_out po;
    sj_buf body = {0};
    const char *buf = (const char *)data;
    mock_parse_result r = mock_parse_request(buf, size, &req, hdrs, &body, &po);
    if (r == MOCK_PARSE_OK) {
        if (po.total > size) abort();
        bool in_input = req.body >= buf && req.body + req.body_len <= buf + size;
        bool in_decoded = body.data && req.body == body.data && req.body_len == body.len;
        if (req.body_len && !in_input && !in_decoded) abort();
        if (req.body_len > mock_cfg.max_body) abort();
        if (req.path_len > req.target_len) abort();
        (void)mock_req_header(&req, "content-type", NULL);
    } else if (r == MOCK_PARSE_ERROR) {
        if (po.status < 400 || !po.why) abort();
    }
    sj_buf_free(&body);
    return 0;
}
