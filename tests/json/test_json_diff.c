/*
 * test_json_diff - differential test of the sj_ parser against jansson.
 *
 * Inputs: every file of $SLUICE_SHARED/json-testsuite/test_parsing, plus
 * random documents from a fixed seed (nested objects and arrays, strings with
 * escapes, surrogate pairs and raw multibyte UTF-8, integers and reals) and
 * mutants of them (one byte replaced, deleted or inserted), which are mostly
 * invalid. Both parsers must agree on accept/reject, accepted inputs must
 * give equal trees, and jansson must read sj's output as the same tree.
 *
 * Documented differences (jansson 2.14 with JSON_DECODE_ANY|JSON_ALLOW_NUL),
 * counted and printed but not failures:
 *   - integers outside long long ("too big integer") and reals that overflow
 *     a double ("real number overflow"): jansson refuses them; sj keeps the
 *     number's text, which is the point of its design;
 *   - object keys containing \u0000: jansson refuses them, RFC 8259 allows;
 *   - nesting deeper than sj's default limit of 512 (jansson allows 2048);
 *   - a NUL byte after a complete value: jansson stops reading there and
 *     accepts, sj rejects trailing data as RFC 8259 requires.
 * Duplicate keys: jansson keeps the last value, sj keeps every member, so the
 * comparison uses the last sj member with each key.
 */
#include "sluice/json.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int violations, accepted_both, rejected_both, allowed_diffs;

static bool equal(const sj_val *s, const json_t *j);

/* The last member of sj object o with key k (jansson's "last wins"). */
static const sj_val *last_member(const sj_val *o, const char *k, size_t kl)
{
    const sj_val *found = NULL;
    for (const sj_val *m = sj_first(o); m; m = sj_next(m)) {
        size_t ml;
        const char *mk = sj_key(m, &ml);
        if (ml == kl && memcmp(mk, k, kl) == 0)
            found = m;
    }
    return found;
}

static bool equal_objects(const sj_val *s, const json_t *j)
{
    size_t distinct = 0;
    for (const sj_val *m = sj_first(s); m; m = sj_next(m)) {
        size_t kl;
        const char *k = sj_key(m, &kl);
        if (last_member(s, k, kl) != m)
            continue; /* a later duplicate holds the value */
        distinct++;
        const json_t *jv = json_object_getn(j, k, kl);
        if (!jv || !equal(m, jv))
            return false;
    }
    return distinct == json_object_size(j);
}

static bool equal(const sj_val *s, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_NULL: return sj_is_null(s);
    case JSON_TRUE: return sj_type_of(s) == SJ_TRUE;
    case JSON_FALSE: return sj_type_of(s) == SJ_FALSE;
    case JSON_INTEGER: {
        int64_t i;
        return sj_i64(s, &i) && i == json_integer_value(j);
    }
    case JSON_REAL: {
        double d;
        return sj_f64(s, &d) && d == json_real_value(j);
    }
    case JSON_STRING: {
        size_t len;
        const char *str = sj_str(s, &len);
        return str && len == json_string_length(j) && memcmp(str, json_string_value(j), len) == 0;
    }
    case JSON_ARRAY: {
        if (!sj_is_array(s) || sj_len(s) != json_array_size(j))
            return false;
        size_t i = 0;
        for (const sj_val *e = sj_first(s); e; e = sj_next(e), i++)
            if (!equal(e, json_array_get(j, i)))
                return false;
        return true;
    }
    case JSON_OBJECT:
        return sj_is_object(s) && equal_objects(s, j);
    }
    return false;
}

/* A difference we accept (see the header comment)? */
static bool allowed(const char *buf, size_t len, const sj_doc *sd, const sj_error *se,
                    const json_t *jd, const json_error_t *je)
{
    const char *why = NULL;
    if (sd && !jd && (strstr(je->text, "too big") || strstr(je->text, "overflow") ||
                      strstr(je->text, "NUL byte in object key")))
        why = je->text;
    else if (!sd && jd && strcmp(se->msg, "nesting too deep") == 0)
        why = se->msg;
    else if (!sd && jd && memchr(buf, 0, len) && strstr(se->msg, "after the JSON value"))
        why = "jansson stops at a NUL byte after the value";
    if (why && getenv("JSON_DIFF_VERBOSE"))
        printf("allowed: %s: %.*s\n", why, (int)(len > 80 ? 80 : len), buf);
    return why != NULL;
}

static void compare(const char *name, const char *buf, size_t len)
{
    sj_error se;
    json_error_t je;
    sj_doc *sd = sj_parse(buf, len, NULL, &se);
    json_t *jd = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (sd && jd) {
        accepted_both++;
        if (!equal(sj_doc_root(sd), jd)) {
            printf("VALUE MISMATCH %s: %.*s\n", name, (int)(len > 200 ? 200 : len), buf);
            violations++;
        }
        /* sj's output must read back in jansson as the same tree. */
        size_t wl;
        char *w = sj_write(sj_doc_root(sd), &wl);
        json_t *jw = w ? json_loadb(w, wl, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je) : NULL;
        if (!jw || !equal(sj_doc_root(sd), jw)) {
            printf("WRITER MISMATCH %s: jansson %s sj output %.*s\n", name,
                   jw ? "reads a different tree from" : "rejects", (int)(wl > 200 ? 200 : wl), w);
            violations++;
        }
        json_decref(jw);
        free(w);
    } else if (!sd && !jd) {
        rejected_both++;
    } else if (allowed(buf, len, sd, &se, jd, &je)) {
        allowed_diffs++;
    } else {
        printf("ACCEPT MISMATCH %s: sj %s (%s), jansson %s (%s): %.*s\n", name,
               sd ? "accepts" : "rejects", sd ? "" : se.msg, jd ? "accepts" : "rejects",
               jd ? "" : je.text, (int)(len > 200 ? 200 : len), buf);
        violations++;
    }
    sj_doc_free(sd);
    json_decref(jd);
}

/* ---- the test-suite files ---- */

static int suite_files(void)
{
    const char *shared = getenv("SLUICE_SHARED");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/json-testsuite/test_parsing", shared ? shared : "../shared");
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        static char buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        compare(de->d_name, buf, len);
        n++;
    }
    closedir(d);
    return n;
}

/* ---- generated documents ---- */

static uint64_t rng_state = 0x5eed5eed12345678u;

static uint32_t rnd(uint32_t n) /* uniform-ish in [0, n) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)((rng_state >> 11) % n);
}

static void gen_ws(sj_buf *b)
{
    static const char ws[] = " \t\n\r";
    if (rnd(4) == 0)
        sj_buf_raw(b, &ws[rnd(4)], 1);
}

/* Keys rarely get \u0000 (jansson refuses those, which would hide the rest
 * of the document from the value comparison). */
static void gen_string(sj_buf *b, bool key)
{
    static const char *pieces[] = {
        "a", "Z", "hello", " ", "/", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\b", "\\f", "\\r",
        "\\u0041", "\\u00e9", "\\u20AC", "\\ud83d\\ude00", "\\u0000", "\\u001f", "\xc3\xa9",
        "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe6\x97\xa5\xe6\x9c\xac", "\x7f", "'", "{}[],:",
    };
    sj_buf_raw(b, "\"", 1);
    for (uint32_t n = rnd(8); n; n--) {
        const char *p = pieces[rnd(sizeof pieces / sizeof pieces[0])];
        if (key && strcmp(p, "\\u0000") == 0 && rnd(20))
            p = "k";
        sj_buf_cstr(b, p);
    }
    sj_buf_raw(b, "\"", 1);
}

static void gen_number(sj_buf *b)
{
    char tmp[64];
    switch (rnd(5)) {
    case 0:
        snprintf(tmp, sizeof tmp, "%d", (int)rnd(2000) - 1000);
        break;
    case 1:
        snprintf(tmp, sizeof tmp, "%lld", (long long)((uint64_t)rnd(1u << 31) << 32 | rnd(1u << 31)) *
                                              (rnd(2) ? 1 : -1));
        break;
    case 2:
        snprintf(tmp, sizeof tmp, "%s%u.%u", rnd(2) ? "-" : "", rnd(100000), rnd(1000000));
        break;
    case 3:
        snprintf(tmp, sizeof tmp, "%u%s%c%s%u", rnd(1000), rnd(2) ? ".5" : "", rnd(2) ? 'e' : 'E',
                 rnd(2) ? "-" : (rnd(2) ? "+" : ""), rnd(300));
        break;
    default:
        snprintf(tmp, sizeof tmp, "%s0.%03u", rnd(2) ? "-" : "", rnd(1000));
    }
    sj_buf_cstr(b, tmp);
}

static void gen_value(sj_buf *b, int depth)
{
    uint32_t kind = depth > 6 ? 3 + rnd(5) : rnd(8);
    gen_ws(b);
    switch (kind) {
    case 0:
    case 1: {
        sj_buf_raw(b, "[", 1);
        for (uint32_t n = rnd(5), i = 0; i < n; i++) {
            if (i)
                sj_buf_raw(b, ",", 1);
            gen_value(b, depth + 1);
        }
        gen_ws(b);
        sj_buf_raw(b, "]", 1);
        break;
    }
    case 2: {
        sj_buf_raw(b, "{", 1);
        for (uint32_t n = rnd(5), i = 0; i < n; i++) {
            if (i)
                sj_buf_raw(b, ",", 1);
            gen_ws(b);
            gen_string(b, true); /* duplicate keys happen, on purpose */
            gen_ws(b);
            sj_buf_raw(b, ":", 1);
            gen_value(b, depth + 1);
        }
        gen_ws(b);
        sj_buf_raw(b, "}", 1);
        break;
    }
    case 3:
    case 4: gen_string(b, false); break;
    case 5: gen_number(b); break;
    case 6: sj_buf_cstr(b, rnd(2) ? "true" : "false"); break;
    default: sj_buf_cstr(b, "null");
    }
    gen_ws(b);
}

/* One byte replaced, deleted or inserted. */
static size_t mutate(char *out, const char *in, size_t len)
{
    static const char alphabet[] = "{}[],:\"\\0123456789-+.eEtfnu \t\n\x01\x7f\x80\xbf\xc3\xed\xff";
    size_t pos = len ? rnd((uint32_t)len) : 0;
    char c = alphabet[rnd(sizeof alphabet - 1)];
    memcpy(out, in, len);
    switch (rnd(3)) {
    case 0:
        if (len)
            out[pos] = c;
        return len;
    case 1:
        if (!len)
            return 0;
        memmove(out + pos, out + pos + 1, len - pos - 1);
        return len - 1;
    default:
        memmove(out + pos + 1, out + pos, len - pos);
        out[pos] = c;
        return len + 1;
    }
}

int main(void)
{
    int files = suite_files();
    if (files < 0) {
        printf("skip: json-testsuite not found under $SLUICE_SHARED\n");
        return 77;
    }
    int docs = 4000;
    for (int i = 0; i < docs; i++) {
        sj_buf b = {0};
        gen_value(&b, 0);
        char name[32];
        snprintf(name, sizeof name, "gen#%d", i);
        compare(name, b.data, b.len);
        char *m = malloc(b.len + 1);
        for (int k = 0; k < 4 && m; k++) {
            size_t ml = mutate(m, b.data, b.len);
            snprintf(name, sizeof name, "gen#%d/mutant%d", i, k);
            compare(name, m, ml);
        }
        free(m);
        sj_buf_free(&b);
    }
    printf("suite files: %d, generated: %d (+%d mutants)\n", files, docs, docs * 4);
    printf("accepted by both: %d, rejected by both: %d, documented differences: %d\n",
           accepted_both, rejected_both, allowed_diffs);
    printf("violations: %d\n", violations);
    return violations ? 1 : 0;
}
