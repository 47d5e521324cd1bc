/*
 * copy.h - a bounded string copy for the per-request hot path.
 *
 * snprintf(dst, cap, "%s", src) was used to fill the fixed-size fields of a
 * request's record (model, provider, request id...): it runs printf's format
 * machinery, several hundred instructions each, a dozen times per proxied
 * request. This does the same (truncate to cap - 1 bytes, always terminate)
 * with strnlen + memcpy.
 */
#ifndef SLUICE_CORE_COPY_H
#define SLUICE_CORE_COPY_H

#include <stddef.h>
#include <string.h>

/* Copies src (NULL counts as "") into dst[cap], truncated, NUL-terminated;
 * cap must be at least 1. Returns the length written. */
static inline size_t gw_copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    return n;
}

#endif
