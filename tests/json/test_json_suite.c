/*
 * test_json_suite - JSONTestSuite conformance for the sj_ parser.
 *
 * Every y_ file of $SLUICE_SHARED/json-testsuite/test_parsing must parse,
 * every n_ file must be rejected, i_ files may go either way but must not
 * crash (and follow the policy of i_policy below). For every accepted file, parse -> write -> parse -> write must give
 * the same bytes twice (the writer is deterministic and its output parses).
 */
#include "sluice/json.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file; caller frees. NULL on error. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* parse -> write -> parse -> write; 0 if both writes agree. */
static int round_trip(const char *name, const sj_doc *doc)
{
    size_t l1, l2;
    char *w1 = sj_write(sj_doc_root(doc), &l1);
    sj_error err;
    sj_doc *d2 = w1 ? sj_parse(w1, l1, NULL, &err) : NULL;
    if (!d2) {
        printf("ROUNDTRIP %s: output does not re-parse: %s\n", name, w1 ? err.msg : "oom");
        free(w1);
        return 1;
    }
    char *w2 = sj_write(sj_doc_root(d2), &l2);
    int bad = !w2 || l1 != l2 || memcmp(w1, w2, l1) != 0;
    if (bad)
        printf("ROUNDTRIP %s: second write differs\n  %.*s\n  %.*s\n", name, (int)l1, w1,
               (int)(w2 ? l2 : 0), w2 ? w2 : "");
    free(w1);
    free(w2);
    sj_doc_free(d2);
    return bad;
}

/*
 * Our policy for the implementation-defined i_ files, checked too: every
 * number is accepted (kept as text, whatever its magnitude); ill-formed
 * UTF-8, lone surrogates and non-UTF-8 encodings (BOMs, UTF-16) are rejected.
 * Returns 'y', 'n' or 0 (no policy).
 */
static char i_policy(const char *name)
{
    static const char *reject[] = {"surrogate", "utf-8", "UTF-8", "UTF8", "utf16", "UTF-16",
                                   "overlong", "latin_1", "not_in_unicode_range", "BOM"};
    if (strncmp(name, "i_number_", 9) == 0)
        return 'y';
    for (size_t k = 0; k < sizeof reject / sizeof reject[0]; k++)
        if (strstr(name, reject[k]))
            return 'n';
    return 0;
}

/* s[0..len) without the whitespace outside strings, into out (len bytes). */
static size_t strip_ws(const char *s, size_t len, char *out)
{
    size_t n = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            out[n++] = c;
            if (c == '\\' && i + 1 < len)
                out[n++] = s[++i];
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
            out[n++] = c;
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            out[n++] = c;
        }
    }
    return n;
}

/*
 * test_transform: inputs on which parsers differ in what they output. Ours
 * keeps number text and every duplicate member, so an accepted number_ or
 * object_ file must be written back exactly as it came, minus whitespace.
 * Returns the number of failures.
 */
static int transform_files(const char *base)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/json-testsuite/test_transform", base);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int bad = 0, checked = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (strncmp(name, "number_", 7) != 0 && strncmp(name, "object_", 7) != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t len, wl;
        char *buf = slurp(path, &len);
        sj_doc *doc = buf ? sj_parse(buf, len, NULL, NULL) : NULL;
        char *w = doc ? sj_write(sj_doc_root(doc), &wl) : NULL;
        char *want = buf ? malloc(len + 1) : NULL;
        size_t want_len = want ? strip_ws(buf, len, want) : 0;
        if (!w || wl != want_len || memcmp(w, want, wl) != 0) {
            printf("FAIL transform %s: wrote %s\n", name, w ? w : "(rejected)");
            bad++;
        }
        checked++;
        free(want);
        free(w);
        sj_doc_free(doc);
        free(buf);
    }
    closedir(d);
    printf("transform files preserved: %d of %d\n", checked - bad, checked);
    return bad;
}

int main(void)
{
    const char *shared = getenv("SLUICE_SHARED");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/json-testsuite/test_parsing", shared ? shared : "../shared");
    DIR *d = opendir(dir);
    if (!d) {
        printf("skip: %s not found\n", dir);
        return 77;
    }
    int y_ok = 0, n_ok = 0, i_acc = 0, i_rej = 0, bad = 0, rt_bad = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        char kind = name[0];
        if ((kind != 'y' && kind != 'n' && kind != 'i') || name[1] != '_')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t len;
        char *buf = slurp(path, &len);
        if (!buf) {
            printf("cannot read %s\n", path);
            bad++;
            continue;
        }
        sj_error err;
        sj_doc *doc = sj_parse(buf, len, NULL, &err);
        if (kind == 'y' && !doc) {
            printf("FAIL %s: rejected at %zu: %s\n", name, err.offset, err.msg);
            bad++;
        } else if (kind == 'n' && doc) {
            printf("FAIL %s: accepted\n", name);
            bad++;
        } else if (kind == 'y') {
            y_ok++;
        } else if (kind == 'n') {
            n_ok++;
            if (!err.msg || err.offset > len) {
                printf("FAIL %s: bad error report (offset %zu of %zu)\n", name, err.offset, len);
                bad++;
            }
        } else {
            doc ? i_acc++ : i_rej++;
            char want = i_policy(name);
            if ((want == 'y' && !doc) || (want == 'n' && doc)) {
                printf("FAIL %s: policy says %s, got %s (%s)\n", name,
                       want == 'y' ? "accept" : "reject", doc ? "accepted" : "rejected",
                       doc ? "" : err.msg);
                bad++;
            }
        }
        if (doc)
            rt_bad += round_trip(name, doc);
        sj_doc_free(doc);
        free(buf);
    }
    closedir(d);
    bad += transform_files(shared ? shared : "../shared");
    printf("y accepted: %d, n rejected: %d, i accepted: %d, i rejected: %d\n", y_ok, n_ok, i_acc,
           i_rej);
    printf("violations: %d, round-trip failures: %d\n", bad, rt_bad);
    if (y_ok + n_ok == 0) {
        printf("no test files found in %s\n", dir);
        return 1;
    }
    return bad || rt_bad ? 1 : 0;
}
