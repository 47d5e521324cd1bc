/*
 * utf8.c - UTF-8 validation and encoding (RFC 3629, Unicode table 3-7).
 */
#include "json/json_int.h"

/*
 * The well-formed byte sequences, by lead byte:
 *   C2..DF  80..BF
 *   E0      A0..BF 80..BF      (E0 80..9F would be overlong)
 *   E1..EC  80..BF 80..BF
 *   ED      80..9F 80..BF      (ED A0..BF would encode surrogates)
 *   EE..EF  80..BF 80..BF
 *   F0      90..BF 80..BF 80..BF   (overlong below 90)
 *   F1..F3  80..BF 80..BF 80..BF
 *   F4      80..8F 80..BF 80..BF   (above 8F is > U+10FFFF)
 * Each byte is checked before the next is read, so a NUL sentinel after the
 * parser's input stops a truncated sequence safely.
 */
size_t sj_utf8_seq(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    if (c < 0x80)
        return avail ? 1 : 0;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    if (c < 0xE0) {
        if (avail < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        return 2;
    }
    if (avail < 2)
        return 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    if (avail < 3 || (p[2] & 0xC0) != 0x80)
        return 0;
    if (c < 0xF0)
        return 3;
    if (avail < 4 || (p[3] & 0xC0) != 0x80)
        return 0;
    return 4;
}

size_t sj_utf8_put(char *out, uint32_t cp)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

bool sj_str_is_clean(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            return false;
    }
    return true;
}
