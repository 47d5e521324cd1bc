/*
 * fuzz_obs_query.c - libFuzzer target for GET /api/logs' two parsers of
 * outside input: the query string (from any client) and a stored batch (the
 * database file may have been edited by anyone). The first byte picks which.
 * Whatever the bytes: a parsed query within its bounds or an error message;
 * a batch gives a valid JSON list of at most `limit` entries; no crash, no
 * leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "obs/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    obs_query q;
    char err[256];
    if (data[0] & 1) {
        err[0] = '\0';
        if (obs_query_parse(text, len, &q, err, sizeof(err)) == 0) {
            if (q.limit < 1 || q.limit > OBS_QUERY_MAX_LIMIT || q.status < 0 || q.status > 599 || q.since_ms < 0 ||
                memchr(q.provider, '\0', sizeof(q.provider)) == NULL || memchr(q.model, '\0', sizeof(q.model)) == NULL)
                __builtin_trap();
        } else if (err[0] == '\0') {
            __builtin_trap();   /* an error must say something */
        }
        return 0;
    }
    /* A batch, with a filter from the first byte's other bits. */
    memset(&q, 0, sizeof(q));
    q.limit = 1 + (data[0] >> 1) % 8;
    if (data[0] & 0x40)
        strcpy(q.provider, "openai");
    if (data[0] & 0x80)
        q.status = 200;
    sj_buf out = {0};
    int n = 0;
    sj_buf_raw(&out, "[", 1);
    obs_batch_emit(text, len, &q, &out, &n);
    sj_buf_raw(&out, "]", 1);
    sj_doc *doc = out.oom ? NULL : sj_parse(out.data, out.len, NULL, NULL);
    if (!out.oom && (doc == NULL || n > q.limit || sj_len(sj_doc_root(doc)) != (size_t)n))
        __builtin_trap();
    sj_doc_free(doc);
    sj_buf_free(&out);
    return 0;
}
