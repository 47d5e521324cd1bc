/*
 * fuzz_json - libFuzzer target for the sj_ JSON module.
 *
 * Arbitrary bytes go to the parser. When accepted: write, re-parse, write
 * again and require identical output; deep-copy and require the same output;
 * check number conversions against each other; apply edits and require the
 * result to stay valid JSON. Independently, sj_buf_str on the raw bytes must
 * always produce a JSON string that parses back.
 */
#include "sluice/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                          \
    do {                                                                    \
        if (!(c)) {                                                         \
            fprintf(stderr, "fuzz_json: %s:%d: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* Integer and double views of one number must agree: both are the correctly
 * rounded value of the same decimal text. */
static void check_number(const sj_val *v)
{
    int64_t i;
    uint64_t u;
    double d;
    bool fok = sj_f64(v, &d);
    if (sj_i64(v, &i))
        REQUIRE(fok && d == (double)i);
    if (sj_u64(v, &u))
        REQUIRE(fok && d == (double)u);
}

/* Visits every value without recursion (parent pointers are internal, so
 * walk with an explicit stack bounded by the parser's depth limit). */
static void walk(const sj_val *root)
{
    const sj_val *stack[600];
    size_t n = 0;
    stack[n++] = root;
    while (n) {
        const sj_val *v = stack[--n];
        if (sj_is_number(v))
            check_number(v);
        size_t count = 0;
        for (const sj_val *e = sj_first(v); e; e = sj_next(e)) {
            count++;
            if (sj_is_object(v)) {
                size_t kl, gl;
                const char *k = sj_key(e, &kl);
                const sj_val *g = k ? sj_getn(v, k, kl) : NULL;
                REQUIRE(g && sj_key(g, &gl) && gl == kl && memcmp(sj_key(g, NULL), k, kl) == 0);
            }
            if ((sj_is_array(e) || sj_is_object(e)) && n < 600)
                stack[n++] = e;
            else if (sj_is_number(e))
                check_number(e);
        }
        REQUIRE(count == sj_len(v));
    }
}

/* Writes v, re-parses, writes again: returns the first output (malloc'd). */
static char *stable_write(const sj_val *v, size_t *len)
{
    char *w1 = sj_write(v, len);
    REQUIRE(w1);
    sj_error err;
    sj_parse_opts big = {.max_depth = 100000};
    sj_doc *d = sj_parse(w1, *len, &big, &err);
    if (!d)
        fprintf(stderr, "re-parse failed at %zu: %s\n%.*s\n", err.offset, err.msg, (int)*len, w1);
    REQUIRE(d);
    size_t l2;
    char *w2 = sj_write(sj_doc_root(d), &l2);
    REQUIRE(w2 && l2 == *len && memcmp(w1, w2, l2) == 0);
    free(w2);
    sj_doc_free(d);
    return w1;
}

static void edit(sj_doc *doc, const uint8_t *data, size_t size)
{
    sj_val *r = sj_doc_root(doc);
    if (sj_is_object(r)) {
        size_t kl;
        const char *k = sj_first(r) ? sj_key(sj_first(r), &kl) : NULL;
        sj_val *s = sj_new_str(doc, (const char *)data, size);
        if (!s)
            s = sj_new_f64(doc, (double)size / 3);
        REQUIRE(sj_set(doc, r, "fuzz", s));
        if (k) {
            sj_val *n = sj_new_u64(doc, size);
            REQUIRE(sj_setn(doc, r, k, kl, n));
            REQUIRE(sj_getn(r, k, kl) == n);
        }
        sj_remove(r, "fuzz");
    } else if (sj_is_array(r)) {
        sj_val *e = sj_first(r);
        if (e) {
            REQUIRE(sj_detach(r, e));
            REQUIRE(sj_append(r, e));
        }
        REQUIRE(sj_append(r, sj_copy(doc, r)));
    }
    size_t len;
    free(stable_write(r, &len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Any bytes as a JSON string: always valid JSON. */
    sj_buf b = {0};
    REQUIRE(sj_buf_str(&b, (const char *)data, size));
    sj_doc *sd = sj_parse(b.data, b.len, NULL, NULL);
    REQUIRE(sd && sj_is_string(sj_doc_root(sd)));
    sj_doc_free(sd);
    sj_buf_free(&b);

    sj_parse_opts opts = {.max_depth = size & 1 ? 512 : 8};
    sj_error err;
    sj_doc *doc = sj_parse((const char *)data, size, &opts, &err);

    /* The number grammar of sj_new_num_text and of the parser agree. */
    sj_doc *nd = sj_doc_new();
    REQUIRE(nd);
    bool num_ok = sj_new_num_text(nd, (const char *)data, size) != NULL;
    bool bare = size && data[0] != ' ' && data[size - 1] != ' ' && data[0] != '\n' &&
                data[size - 1] != '\n' && data[0] != '\t' && data[size - 1] != '\t' &&
                data[0] != '\r' && data[size - 1] != '\r';
    if (bare)
        REQUIRE(num_ok == (doc && sj_is_number(sj_doc_root(doc))));
    sj_doc_free(nd);
    if (!doc) {
        REQUIRE(err.msg && err.offset <= size);
        return 0;
    }
    walk(sj_doc_root(doc));
    size_t l1, l2;
    char *w1 = stable_write(sj_doc_root(doc), &l1);
    sj_doc *cd = sj_doc_new();
    REQUIRE(cd);
    char *w2 = sj_write(sj_copy(cd, sj_doc_root(doc)), &l2);
    REQUIRE(w2 && l1 == l2 && memcmp(w1, w2, l1) == 0);
    free(w1);
    free(w2);
    sj_doc_free(cd);
    edit(doc, data, size);
    sj_doc_free(doc);
    return 0;
}
