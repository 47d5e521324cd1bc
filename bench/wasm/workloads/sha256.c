/*
 * sha256.c - 32-bit ALU work (rotates, adds, logic): SHA-256 over 1 MB of
 * xorshift-generated data, a few rounds. Each round rehashes the whole
 * buffer after folding the previous digest into its first bytes, so no round
 * can be skipped.
 *
 * The native build can check this implementation against sha256sum: see
 * bench_selftest() below (run by bench/wasm/run.sh before timing).
 */
#include "rt.h"

#define SHA_DATA_LEN (1u << 20)

typedef struct {
    uint32_t h[8];
    uint8_t block[64];
    uint32_t fill;  /* bytes in block */
    uint64_t total; /* bytes hashed so far */
} sha_ctx;

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t sha_rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

/* One 64-byte block into the chaining state. */
static void sha_compress(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = sha_rotr(w[i - 15], 7) ^ sha_rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = sha_rotr(w[i - 2], 17) ^ sha_rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (sha_rotr(e, 6) ^ sha_rotr(e, 11) ^ sha_rotr(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        uint32_t t2 = (sha_rotr(a, 2) ^ sha_rotr(a, 13) ^ sha_rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha_init(sha_ctx *c) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int i = 0; i < 8; i++) c->h[i] = iv[i];
    c->fill = 0;
    c->total = 0;
}

static void sha_update(sha_ctx *c, const uint8_t *p, size_t n) {
    c->total += n;
    while (n) {
        if (c->fill == 0 && n >= 64) { /* whole blocks straight from the input */
            sha_compress(c->h, p);
            p += 64;
            n -= 64;
            continue;
        }
        size_t take = 64 - c->fill < n ? 64 - c->fill : n;
        memcpy(c->block + c->fill, p, take);
        c->fill += (uint32_t)take;
        p += take;
        n -= take;
        if (c->fill == 64) {
            sha_compress(c->h, c->block);
            c->fill = 0;
        }
    }
}

/* Pads, and writes the 32-byte big-endian digest to out. */
static void sha_final(sha_ctx *c, uint8_t out[32]) {
    uint64_t bits = c->total * 8;
    uint8_t pad[72] = {0x80};
    size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;
    for (int i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha_update(c, pad, padlen + 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

static uint8_t sha_data[SHA_DATA_LEN];

static void sha_generate(void) {
    uint32_t seed = 0x12345678u;
    for (uint32_t i = 0; i < SHA_DATA_LEN; i += 4) {
        uint32_t v = rt_xorshift32(&seed);
        memcpy(sha_data + i, &v, 4);
    }
}

static void sha_digest(const uint8_t *p, size_t n, uint8_t out[32]) {
    sha_ctx c;
    sha_init(&c);
    sha_update(&c, p, n);
    sha_final(&c, out);
}

long long bench(void) {
    const int rounds = BENCH_SIZE(4, 1);
    uint8_t d[32];
    sha_generate();
    uint64_t h = RT_FNV_INIT;
    for (int r = 0; r < rounds; r++) {
        if (r) memcpy(sha_data, d, sizeof d);
        sha_digest(sha_data, SHA_DATA_LEN, d);
        h = rt_fnv1a(h, d, sizeof d);
    }
    return rt_result(h);
}

#ifndef __wasm__
#include <stdio.h>

/* Native only: checks the "abc" test vector of FIPS 180-2, then writes the
 * generated 1 MB to `path` and prints its digest in sha256sum's format, so
 * that the harness can compare with the system's sha256sum. */
int bench_selftest(const char *path) {
    static const uint8_t abc_digest[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    uint8_t d[32];
    sha_digest((const uint8_t *)"abc", 3, d);
    if (memcmp(d, abc_digest, 32) != 0) {
        fprintf(stderr, "sha256 selftest: wrong digest for \"abc\"\n");
        return 1;
    }
    sha_generate();
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t written = fwrite(sha_data, 1, SHA_DATA_LEN, f);
    if (fclose(f) != 0 || written != SHA_DATA_LEN) {
        fprintf(stderr, "%s: write failed\n", path);
        return 1;
    }
    sha_digest(sha_data, SHA_DATA_LEN, d);
    for (int i = 0; i < 32; i++) printf("%02x", d[i]);
    printf("\n");
    return 0;
}
#endif
