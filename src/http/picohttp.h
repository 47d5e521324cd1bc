/*
 * picohttp.h - declarations of picohttpparser, which ships inside libh2o without an
 * installed header: its documented struct and signature (stable across versions).
 * Used by the gateway's framing check (server.c) and by sluice-mockllm.
 */
#ifndef SLUICE_HTTP_PICOHTTP_H
#define SLUICE_HTTP_PICOHTTP_H

#include <stddef.h>

struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);

#endif
