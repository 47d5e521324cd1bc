/*
 * h1parse.h - HTTP/1.1 response framing for the native upstream client
 * (h1client.c): the response head via picohttpparser (shipped and exported
 * by Debian's libh2o, which has no header for it, so its prototype is
 * declared here), and our own chunked-transfer decoder, which bounds every
 * line it reads (picohttpparser's does not bound extensions or trailers).
 */
#ifndef SLUICE_HTTP_H1PARSE_H
#define SLUICE_HTTP_H1PARSE_H

#include <stddef.h>
#include <stdint.h>

/* picohttpparser's header entry (libh2o 2.2 ABI). */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Returns the head's length in bytes, -1 if malformed (or more headers than
 * *num_headers), -2 if incomplete. Pointers point into buf. */
int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status, const char **msg,
                       size_t *msg_len, struct phr_header *headers, size_t *num_headers, size_t last_len);

#define H1_CHUNK_LINE_MAX 4096        /* a chunk-size line, extensions included */
#define H1_TRAILERS_MAX (64 * 1024)   /* trailer bytes, read and ignored */

typedef struct h1_chunker {
    int state;
    uint64_t left;     /* bytes left in the current chunk (or digits parsed) */
    size_t line;       /* bytes of the current size line / trailer block */
} h1_chunker;

typedef enum h1_chunk_rc {
    H1C_MORE,   /* all input used, the body goes on */
    H1C_DATA,   /* *data, *dlen: body data (inside the input) */
    H1C_DONE,   /* the last chunk and trailers ended; *used bytes belonged to the body */
    H1C_ERROR,  /* malformed or over a bound */
} h1_chunk_rc;

/* Decodes from in[0..len): sets *used to the input bytes consumed. Call
 * again with the rest after H1C_DATA. Zero-copy: *data points into in. */
h1_chunk_rc h1_chunk_step(h1_chunker *c, const char *in, size_t len, size_t *used, const char **data,
                          size_t *dlen);

#endif
