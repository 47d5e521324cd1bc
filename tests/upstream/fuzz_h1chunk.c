/*
 * fuzz_h1chunk.c - libFuzzer target: the native client's chunked decoder
 * (src/http/h1parse.c) must decode the same body and reach the same verdict
 * whether the input arrives whole or cut at arbitrary points, never read
 * outside its input, and never hand out more data than it was given.
 *
 * Input layout: byte 0 seeds the cut positions, the rest is the body.
 */
#include "http/h1parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes in pieces of 1..step bytes (step 0 = whole); returns the verdict
 * (H1C_MORE/DONE/ERROR) and the decoded bytes in out. */
static int decode(const uint8_t *in, size_t len, unsigned seed, char *out, size_t *out_len) {
    h1_chunker c = {0};
    size_t pos = 0;
    *out_len = 0;
    while (pos < len) {
        size_t piece = seed ? 1 + (seed = seed * 1103515245u + 12345u) % 7 : len - pos;
        if (piece > len - pos) piece = len - pos;
        const char *p = (const char *)in + pos;
        size_t left = piece;
        while (left > 0) {
            size_t used = 0, dlen = 0;
            const char *d = NULL;
            h1_chunk_rc rc = h1_chunk_step(&c, p, left, &used, &d, &dlen);
            if (used > left) abort();
            if (rc == H1C_ERROR) return H1C_ERROR;
            if (rc == H1C_DATA) {
                if (d < p || d + dlen > p + used) abort();
                memcpy(out + *out_len, d, dlen);
                *out_len += dlen;
            }
            if (rc == H1C_DONE) return H1C_DONE;
            p += used;
            left -= used;
        }
        pos += piece;
    }
    return H1C_MORE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned seed = data[0] | 1u;
    data++;
    size--;
    char *a = malloc(size + 1), *b = malloc(size + 1);
    size_t alen, blen;
    int ra = decode(data, size, 0, a, &alen);
    int rb = decode(data, size, seed, b, &blen);
    /* An error found later in the whole input may come after data that the
     * cut run already handed out: compare only when neither failed. */
    if (ra != H1C_ERROR && rb != H1C_ERROR && (ra != rb || alen != blen || memcmp(a, b, alen) != 0)) abort();
    if ((ra == H1C_ERROR) != (rb == H1C_ERROR)) abort();
    free(a);
    free(b);
    return 0;
}
