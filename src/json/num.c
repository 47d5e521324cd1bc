/*
 * num.c - numbers: exact integer conversion from the source text, doubles,
 * and number constructors.
 *
 * A number is only ever stored as its JSON text. Conversions read that text
 * on demand, so a proxy that never looks at a number never pays for it and
 * re-serializing reproduces it byte for byte.
 */
#include "json/json_int.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static bool isdig(char c)
{
    return c >= '0' && c <= '9';
}

size_t sj_num_scan(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0') {
        i++;
    } else if (i < len && isdig(s[i])) {
        while (i < len && isdig(s[i]))
            i++;
    } else {
        return 0;
    }
    if (i < len && s[i] == '.') {
        if (i + 1 >= len || !isdig(s[i + 1]))
            return i;
        i++;
        while (i < len && isdig(s[i]))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < len && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < len && isdig(s[j])) {
            while (j < len && isdig(s[j]))
                j++;
            i = j;
        }
    }
    return i;
}

const char *sj_num_text(const sj_val *v, size_t *len)
{
    return sj_text_of(v, SJ_NUMBER, len);
}

/*
 * The exact integer value of a number's text as sign + magnitude, or false
 * when it is not an integer or the magnitude exceeds UINT64_MAX. Works on the
 * decimal digits, never through a double: 12345678901234567891 and 1.5e1 are
 * both exact.
 */
static bool num_to_int(const sj_val *v, bool *neg, uint64_t *mag)
{
    if (!v || v->type != SJ_NUMBER)
        return false;
    const char *s = v->u.s.ptr, *end = s + v->u.s.len;
    *neg = (*s == '-');
    if (*neg)
        s++;
    /* Digits of the integer and fraction parts, as one digit string. */
    const char *ip = s;
    while (s < end && isdig(*s))
        s++;
    const char *ie = s, *fp = s, *fe = s;
    if (s < end && *s == '.') {
        fp = ++s;
        while (s < end && isdig(*s))
            s++;
        fe = s;
    }
    /* Exponent, saturated: anything beyond +-100000 is out of range or zero
     * digits anyway. */
    long exp = 0;
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        bool eneg = false;
        if (*s == '+' || *s == '-')
            eneg = (*s++ == '-');
        while (s < end) {
            if (exp < 100000)
                exp = exp * 10 + (*s - '0');
            s++;
        }
        if (eneg)
            exp = -exp;
    }
    exp -= (long)(fe - fp); /* value = digits * 10^exp */
    /* Drop trailing zeros of the digit string while exp < 0. */
    while (exp < 0) {
        char last;
        if (fe > fp)
            last = fe[-1];
        else if (ie > ip)
            last = ie[-1];
        else
            break;
        if (last != '0')
            return false; /* a non-zero fractional digit */
        if (fe > fp)
            fe--;
        else
            ie--;
        exp++;
    }
    uint64_t m = 0;
    for (int part = 0; part < 2; part++) {
        const char *a = part ? fp : ip, *b = part ? fe : ie;
        for (; a < b; a++) {
            unsigned d = (unsigned)(*a - '0');
            if (m > (UINT64_MAX - d) / 10)
                return false;
            m = m * 10 + d;
        }
    }
    if (exp < 0) /* ran out of digits: the value is 0 */
        m = 0;
    if (m != 0) {
        for (; exp > 0; exp--) {
            if (m > UINT64_MAX / 10)
                return false;
            m *= 10;
        }
    }
    *mag = m;
    return true;
}

bool sj_i64(const sj_val *v, int64_t *out)
{
    bool neg;
    uint64_t m;
    if (!num_to_int(v, &neg, &m))
        return false;
    int64_t r;
    if (neg) {
        if (m > (uint64_t)INT64_MAX + 1)
            return false;
        r = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > (uint64_t)INT64_MAX)
            return false;
        r = (int64_t)m;
    }
    if (out)
        *out = r;
    return true;
}

bool sj_u64(const sj_val *v, uint64_t *out)
{
    bool neg;
    uint64_t m;
    if (!num_to_int(v, &neg, &m))
        return false;
    if (neg && m != 0)
        return false;
    if (out)
        *out = m;
    return true;
}

/* strtod and printf follow LC_NUMERIC; JSON always uses '.', so numbers go
 * through a private "C" locale that nobody's setlocale() can change. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static double parse_double(const char *s)
{
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale)
        return strtod_l(s, NULL, c_locale);
    return strtod(s, NULL);
}

bool sj_f64(const sj_val *v, double *out)
{
    if (!v || v->type != SJ_NUMBER)
        return false;
    char small[128];
    char *tmp = small;
    size_t len = v->u.s.len;
    if (len >= sizeof small) {
        tmp = malloc(len + 1);
        if (!tmp)
            return false;
    }
    memcpy(tmp, v->u.s.ptr, len);
    tmp[len] = '\0';
    double d = parse_double(tmp);
    if (tmp != small)
        free(tmp);
    if (isinf(d))
        return false;
    if (out)
        *out = d;
    return true;
}

sj_val *sj_new_num_text(sj_doc *doc, const char *text, size_t len)
{
    if (!text || len == 0 || sj_num_scan(text, len) != len)
        return NULL;
    return sj_text_val(doc, SJ_NUMBER, text, len);
}

sj_val *sj_new_i64(sj_doc *doc, int64_t n)
{
    char tmp[24];
    int len = snprintf(tmp, sizeof tmp, "%lld", (long long)n);
    return sj_text_val(doc, SJ_NUMBER, tmp, (size_t)len);
}

sj_val *sj_new_u64(sj_doc *doc, uint64_t n)
{
    char tmp[24];
    int len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n);
    return sj_text_val(doc, SJ_NUMBER, tmp, (size_t)len);
}

/* Formats d with the fewest of 15, 16 or 17 significant digits that read
 * back as the same double. Returns the length; tmp needs 32 bytes. */
static int format_double(char *tmp, size_t size, double d)
{
    int len = 0;
    pthread_once(&c_locale_once, c_locale_init);
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(tmp, size, "%.*g", prec, d);
        /* Undo a locale's decimal comma (we cannot pass a locale to
         * snprintf); digits, signs and 'e' are the same in every locale. */
        for (int i = 0; i < len; i++)
            if (!isdig(tmp[i]) && tmp[i] != '-' && tmp[i] != '+' && tmp[i] != 'e')
                tmp[i] = '.';
        if (parse_double(tmp) == d)
            break;
    }
    return len;
}

sj_val *sj_new_f64(sj_doc *doc, double d)
{
    if (!isfinite(d))
        return NULL;
    char tmp[40];
    int len = format_double(tmp, sizeof tmp, d);
    return sj_text_val(doc, SJ_NUMBER, tmp, (size_t)len);
}
