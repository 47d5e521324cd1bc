/*
 * promcheck.c - strict Prometheus text-format checker (see promcheck.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promcheck.h"

#define PC_MAX_LABELS 16

typedef struct pc_hist {       /* one histogram series (labels without le) */
    char *key;
    double last_le, last_bucket, inf_bucket, count;
    bool has_inf, has_count, has_sum;
} pc_hist;

typedef struct pc_state {
    char *err;
    size_t errlen;
    int line;
    char family[256];          /* family of the samples being read */
    char **seen_families;      /* families whose samples ended (must not return) */
    size_t n_seen;
    char **typed;  char **typed_kind; size_t n_typed;
    char **helped; size_t n_helped;
    char **series; size_t n_series;
    pc_hist *hist; size_t n_hist;
} pc_state;

static int pc_fail(pc_state *st, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(st->err, st->errlen, "line %d: ", st->line);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < st->errlen)
        vsnprintf(st->err + n, st->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static bool pc_name_char(char c, bool first, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
           (!first && c >= '0' && c <= '9');
}

/* Length of a name at s (0 if none). */
static size_t pc_name(const char *s, const char *end, bool colon)
{
    size_t n = 0;
    while (s + n < end && pc_name_char(s[n], n == 0, colon))
        n++;
    return n;
}

static bool pc_value(const char *s, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (!strcmp(buf, "+Inf") || !strcmp(buf, "Inf")) { *out = INFINITY; return true; }
    if (!strcmp(buf, "-Inf")) { *out = -INFINITY; return true; }
    if (!strcmp(buf, "NaN")) { *out = NAN; return true; }
    char *e;
    *out = strtod(buf, &e);
    /* strtod also takes "inf", "nan", hex floats: the format does not */
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789.eE+-", buf[i]))
            return false;
    return *e == '\0';
}

static int pc_find(char **arr, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(arr[i], s) == 0)
            return (int)i;
    return -1;
}

static void pc_push(char ***arr, size_t *n, const char *s)
{
    *arr = realloc(*arr, (*n + 1) * sizeof(char *));
    (*arr)[(*n)++] = strdup(s);
}

static void pc_free_list(char **arr, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(arr[i]);
    free(arr);
}

static const char *pc_type_of(pc_state *st, const char *family)
{
    int i = pc_find(st->typed, st->n_typed, family);
    return i < 0 ? "untyped" : st->typed_kind[i];
}

/* Family of a sample name given the TYPEs seen: strips _bucket/_sum/_count of histograms
 * (and _sum/_count of summaries). *suffix gets the stripped part. */
static void pc_family(pc_state *st, const char *name, char *fam, size_t famlen, const char **suffix)
{
    static const char *sfx[] = {"_bucket", "_sum", "_count"};
    *suffix = "";
    snprintf(fam, famlen, "%s", name);
    for (int k = 0; k < 3; k++) {
        size_t nl = strlen(name), sl = strlen(sfx[k]);
        if (nl <= sl || strcmp(name + nl - sl, sfx[k]) != 0)
            continue;
        char base[256];
        snprintf(base, sizeof(base), "%.*s", (int)(nl - sl), name);
        const char *t = pc_type_of(st, base);
        if (!strcmp(t, "histogram") || (!strcmp(t, "summary") && k > 0)) {
            snprintf(fam, famlen, "%s", base);
            *suffix = sfx[k];
        }
    }
}

static int pc_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int pc_check_hist(pc_state *st)
{
    for (size_t i = 0; i < st->n_hist; i++) {
        pc_hist *h = &st->hist[i];
        if (!h->has_inf)
            return pc_fail(st, "histogram series %s has no le=\"+Inf\" bucket", h->key);
        if (!h->has_count || !h->has_sum)
            return pc_fail(st, "histogram series %s lacks _count or _sum", h->key);
        if (h->inf_bucket != h->count)
            return pc_fail(st, "histogram series %s: +Inf bucket %g != _count %g", h->key, h->inf_bucket, h->count);
    }
    for (size_t i = 0; i < st->n_hist; i++)
        free(st->hist[i].key);
    free(st->hist);
    st->hist = NULL;
    st->n_hist = 0;
    return 0;
}

static pc_hist *pc_hist_get(pc_state *st, const char *key)
{
    for (size_t i = 0; i < st->n_hist; i++)
        if (strcmp(st->hist[i].key, key) == 0)
            return &st->hist[i];
    st->hist = realloc(st->hist, (st->n_hist + 1) * sizeof(pc_hist));
    pc_hist *h = &st->hist[st->n_hist++];
    memset(h, 0, sizeof(*h));
    h->key = strdup(key);
    h->last_le = -INFINITY;
    return h;
}

/* Switches the current family, checking contiguity. */
static int pc_enter_family(pc_state *st, const char *fam)
{
    if (strcmp(st->family, fam) == 0)
        return 0;
    if (pc_check_hist(st) != 0)
        return -1;
    if (pc_find(st->seen_families, st->n_seen, fam) >= 0)
        return pc_fail(st, "samples of family %s are not contiguous", fam);
    if (st->family[0])
        pc_push(&st->seen_families, &st->n_seen, st->family);
    snprintf(st->family, sizeof(st->family), "%s", fam);
    return 0;
}

static int pc_comment(pc_state *st, const char *s, const char *end)
{
    bool help = end - s >= 7 && memcmp(s, "# HELP ", 7) == 0;
    bool type = end - s >= 7 && memcmp(s, "# TYPE ", 7) == 0;
    if (!help && !type)
        return 0;   /* a plain comment */
    s += 7;
    size_t n = pc_name(s, end, true);
    if (n == 0 || n >= 256 || (s + n < end && s[n] != ' ') || (s + n == end && type))
        return pc_fail(st, "bad metric name in %s line", help ? "HELP" : "TYPE");
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)n, s);
    const char *rest = s + n + (s + n < end);
    if (pc_find(st->seen_families, st->n_seen, name) >= 0 || strcmp(st->family, name) == 0)
        return pc_fail(st, "%s for %s after its samples", help ? "HELP" : "TYPE", name);
    if (help) {
        if (pc_find(st->helped, st->n_helped, name) >= 0)
            return pc_fail(st, "second HELP for %s", name);
        for (const char *p = rest; p < end; p++)
            if (*p == '\\' && (p + 1 == end || (p[1] != '\\' && p[1] != 'n')))
                return pc_fail(st, "bad escape in HELP of %s", name);
            else if (*p == '\\')
                p++;
        pc_push(&st->helped, &st->n_helped, name);
        return 0;
    }
    static const char *kinds[] = {"counter", "gauge", "histogram", "summary", "untyped"};
    size_t klen = (size_t)(end - rest);
    int k = 0;
    while (k < 5 && !(strlen(kinds[k]) == klen && memcmp(kinds[k], rest, klen) == 0))
        k++;
    if (k == 5)
        return pc_fail(st, "unknown TYPE '%.*s'", (int)klen, rest);
    if (pc_find(st->typed, st->n_typed, name) >= 0)
        return pc_fail(st, "second TYPE for %s", name);
    pc_push(&st->typed, &st->n_typed, name);
    st->typed_kind = realloc(st->typed_kind, st->n_typed * sizeof(char *));
    st->typed_kind[st->n_typed - 1] = strdup(kinds[k]);
    return 0;
}

static int pc_sample(pc_state *st, const char *s, const char *end)
{
    size_t n = pc_name(s, end, true);
    if (n == 0 || n >= 200)
        return pc_fail(st, "bad metric name");
    char name[256], lname[PC_MAX_LABELS][128], lval[PC_MAX_LABELS][512];
    int nl = 0;
    snprintf(name, sizeof(name), "%.*s", (int)n, s);
    const char *p = s + n;
    if (p < end && *p == '{') {
        p++;
        while (p < end && *p != '}') {
            size_t ln = pc_name(p, end, false);
            if (ln == 0 || ln >= 128)
                return pc_fail(st, "bad label name in %s", name);
            if (nl == PC_MAX_LABELS)
                return pc_fail(st, "too many labels");
            snprintf(lname[nl], 128, "%.*s", (int)ln, p);
            for (int i = 0; i < nl; i++)
                if (!strcmp(lname[i], lname[nl]))
                    return pc_fail(st, "duplicate label %s", lname[nl]);
            p += ln;
            if (end - p < 2 || p[0] != '=' || p[1] != '"')
                return pc_fail(st, "expected =\" after label %s", lname[nl]);
            p += 2;
            size_t vl = 0;
            while (p < end && *p != '"') {
                char c = *p;
                if (c == '\\') {
                    if (p + 1 >= end || (p[1] != '\\' && p[1] != '"' && p[1] != 'n'))
                        return pc_fail(st, "bad escape in value of label %s", lname[nl]);
                    c = p[1] == 'n' ? '\n' : p[1];
                    p++;
                }
                if (vl + 1 >= sizeof(lval[0]))
                    return pc_fail(st, "label value too long");
                lval[nl][vl++] = c;
                p++;
            }
            if (p >= end)
                return pc_fail(st, "unterminated label value");
            lval[nl][vl] = '\0';
            nl++;
            p++;
            if (p < end && *p == ',')
                p++;
            else if (p < end && *p != '}')
                return pc_fail(st, "expected , or } after label value");
        }
        if (p >= end)
            return pc_fail(st, "unterminated label set");
        p++;
    }
    if (p >= end || *p != ' ')
        return pc_fail(st, "expected a space before the value of %s", name);
    p++;
    const char *v = p;
    while (p < end && *p != ' ')
        p++;
    double val;
    if (!pc_value(v, (size_t)(p - v), &val))
        return pc_fail(st, "bad value '%.*s'", (int)(p - v), v);
    if (p < end) {   /* optional timestamp: an integer */
        p++;
        if (p == end || strspn(p, "-0123456789") < (size_t)(end - p))
            return pc_fail(st, "bad timestamp");
    }

    char fam[256];
    const char *suffix;
    pc_family(st, name, fam, sizeof(fam), &suffix);
    if (pc_enter_family(st, fam) != 0)
        return -1;
    const char *type = pc_type_of(st, fam);
    if (!strcmp(type, "histogram") && !*suffix)
        return pc_fail(st, "histogram %s: sample %s is not _bucket/_sum/_count", fam, name);
    if (!strcmp(type, "counter") && !(val >= 0))
        return pc_fail(st, "counter %s is negative or NaN", name);

    /* canonical series key: name + labels sorted by name */
    int order[PC_MAX_LABELS];
    for (int i = 0; i < nl; i++)
        order[i] = i;
    for (int i = 1; i < nl; i++)
        for (int j = i; j > 0 && strcmp(lname[order[j - 1]], lname[order[j]]) > 0; j--) {
            int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
        }
    char key[8192], hkey[8192];
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s", name), hl = 0;
    const char *le = NULL;
    hkey[0] = '\0';
    for (int i = 0; i < nl; i++) {
        int k = order[i];
        kl += (size_t)snprintf(key + kl, sizeof(key) - kl, "\x01%s=%s", lname[k], lval[k]);
        if (!strcmp(lname[k], "le"))
            le = lval[k];
        else
            hl += (size_t)snprintf(hkey + hl, sizeof(hkey) - hl, "\x01%s=%s", lname[k], lval[k]);
        if (kl >= sizeof(key) || hl >= sizeof(hkey))
            return pc_fail(st, "series too long");
    }
    pc_push(&st->series, &st->n_series, key);

    if (strcmp(type, "histogram") != 0)
        return 0;
    pc_hist *h = pc_hist_get(st, hkey);
    if (!strcmp(suffix, "_bucket")) {
        double lev;
        if (le == NULL || !pc_value(le, strlen(le), &lev) || isnan(lev))
            return pc_fail(st, "bucket of %s without a valid le label", fam);
        if (h->has_inf)
            return pc_fail(st, "bucket of %s after its +Inf bucket", fam);
        if (!(lev > h->last_le))
            return pc_fail(st, "buckets of %s not in increasing le order", fam);
        if (val < h->last_bucket || !(val >= 0))
            return pc_fail(st, "bucket counts of %s decrease (%g after %g)", fam, val, h->last_bucket);
        h->last_le = lev;
        h->last_bucket = val;
        if (isinf(lev)) {
            h->has_inf = true;
            h->inf_bucket = val;
        }
    } else if (le != NULL) {
        return pc_fail(st, "%s has an le label", name);
    } else if (!strcmp(suffix, "_count")) {
        if (!(val >= 0))
            return pc_fail(st, "negative _count");
        h->has_count = true;
        h->count = val;
    } else {
        h->has_sum = true;
    }
    return 0;
}

int promcheck(const char *text, size_t len, char *err, size_t errlen)
{
    pc_state st;
    memset(&st, 0, sizeof(st));
    st.err = err;
    st.errlen = errlen;
    int rc = 0;
    if (len > 0 && text[len - 1] != '\n')
        rc = pc_fail(&st, "text does not end with a newline");
    for (size_t i = 0; rc == 0 && i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - text) : len;
        st.line++;
        const char *s = text + i, *end = text + e;
        if (memchr(s, '\0', (size_t)(end - s)) || memchr(s, '\r', (size_t)(end - s)))
            rc = pc_fail(&st, "NUL or CR in line");
        else if (s == end)
            ;   /* empty lines are allowed */
        else if (*s == '#')
            rc = pc_comment(&st, s, end);
        else
            rc = pc_sample(&st, s, end);
        i = e + 1;
    }
    st.line++;
    if (rc == 0)
        rc = pc_check_hist(&st);
    if (rc == 0 && st.n_series > 1) {
        qsort(st.series, st.n_series, sizeof(char *), pc_cmp_str);
        for (size_t i = 1; rc == 0 && i < st.n_series; i++)
            if (!strcmp(st.series[i], st.series[i - 1]))
                rc = pc_fail(&st, "duplicate series %s", st.series[i]);
    }
    for (size_t i = 0; i < st.n_hist; i++)
        free(st.hist[i].key);
    free(st.hist);
    pc_free_list(st.seen_families, st.n_seen);
    pc_free_list(st.typed, st.n_typed);
    pc_free_list(st.typed_kind, st.n_typed);
    pc_free_list(st.helped, st.n_helped);
    pc_free_list(st.series, st.n_series);
    return rc;
}

double promcheck_value(const char *text, const char *series)
{
    size_t sl = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, series, sl) == 0 && p[sl] == ' ')
            return strtod(p + sl + 1, NULL);
    return -1;
}
