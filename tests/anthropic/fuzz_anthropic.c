/*
 * fuzz_anthropic.c - libFuzzer target over the Anthropic translations
 * (anthropic_xlate.c, anthropic_rev.c). The input is run through every
 * direction: as a whole document (requests, responses, errors) and split at
 * newlines into a sequence of stream events / chunks. Nothing may crash or
 * leak, and every JSON the translations produce must parse back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider/anthropic_xlate.h"

/* Aborts (a finding) unless s[0..n) is one valid JSON value. */
static void must_parse(const char *s, size_t n)
{
    sj_doc *d = sj_parse(s ? s : "", s ? n : 0, NULL, NULL);
    if (d == NULL)
        abort();
    sj_doc_free(d);
}

static void check_emit(void *ud, const char *json, size_t len)
{
    (void)ud;
    must_parse(json, len);
}

/* Each "data: " line of Anthropic SSE text must be JSON. */
static void must_be_sse(const sj_buf *b)
{
    const char *p = b->data, *end = b->data + b->len;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n >= 6 && memcmp(p, "data: ", 6) == 0)
            must_parse(p + 6, n - 6);
        p = nl ? nl + 1 : end;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    ant_err err;
    sj_buf out = {0};

    /* whole-document directions */
    sj_doc *doc = sj_parse(in, size, NULL, NULL);
    if (doc) {
        if (ant_req_from_openai(sj_doc_root(doc), "m", &out, &err) == 0)
            must_parse(out.data, out.len);
        out.len = 0;
        sj_doc *oai = sj_doc_new();
        if (ant_req_to_openai(sj_doc_root(doc), oai, &err) == 0) {
            char *txt = sj_write(sj_doc_root(oai), &out.len);
            must_parse(txt, out.len);
            free(txt);
        }
        sj_doc_free(oai);
        sj_doc_free(doc);
    }
    out.len = 0;
    if (ant_resp_to_openai(in, size, 1, &out, &err) == 0)
        must_parse(out.data, out.len);
    out.len = 0;
    if (ant_resp_from_openai(in, size, "p/m\xc3\xa9", &out, &err) == 0)
        must_parse(out.data, out.len);
    ant_error_to_openai(size % 600, in, size, &err);

    /* streams: one event / chunk per line */
    ant_stream st;
    ant_stream_init(&st, 7);
    ant_rstream rs;
    ant_rstream_init(&rs, "p/m", size % 2 ? "x\"y" : NULL);
    out.len = 0;
    for (size_t i = 0; i < size;) {
        const char *nl = memchr(in + i, '\n', size - i);
        size_t n = nl ? (size_t)(nl - (in + i)) : size - i;
        ant_stream_event(&st, "", 0, in + i, n, check_emit, NULL, &err);
        ant_rstream_chunk(&rs, in + i, n, &out, &err);
        i += n + 1;
    }
    if (size % 3 == 0)
        ant_rstream_error(&rs, 500 + (int)(size % 40), "boom", &out);
    ant_rstream_finish(&rs, &out);
    must_be_sse(&out);
    ant_stream_free(&st);
    sj_buf_free(&out);
    return 0;
}
