/*
 * src/plugin/fetch.c - getting a plugin's bytes: a local file, or an
 * http(s) URL downloaded once at start-up with libcurl; an optional sha256
 * pin (hex) is checked with OpenSSL and a mismatch refuses the plugin.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "plugin/plugin_int.h"

#define MAX_PLUGIN_FILE (64u << 20)

typedef struct grow {
    uint8_t *data;
    size_t len, cap;
    bool too_big;
} grow;

static bool grow_add(grow *g, const void *p, size_t n)
{
    if (g->len + n > MAX_PLUGIN_FILE) { g->too_big = true; return false; }
    if (g->len + n > g->cap) {
        size_t cap = g->cap ? g->cap : 1 << 16;
        while (cap < g->len + n) cap *= 2;
        uint8_t *d = realloc(g->data, cap);
        if (!d) return false;
        g->data = d;
        g->cap = cap;
    }
    memcpy(g->data + g->len, p, n);
    g->len += n;
    return true;
}

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    return grow_add(user, p, size * n) ? size * n : 0;
}

static uint8_t *download(const char *url, size_t *len, char *err, size_t errlen)
{
    grow g = {0};
    CURL *c = curl_easy_init();
    if (!c) { snprintf(err, errlen, "curl_easy_init failed"); return NULL; }
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || status != 200) {
        if (g.too_big) snprintf(err, errlen, "download of %s: larger than %u MiB", url, MAX_PLUGIN_FILE >> 20);
        else if (rc != CURLE_OK) snprintf(err, errlen, "download of %s failed: %s", url, cerr[0] ? cerr : curl_easy_strerror(rc));
        else snprintf(err, errlen, "download of %s: HTTP status %ld", url, status);
        free(g.data);
        return NULL;
    }
    *len = g.len;
    return g.data ? g.data : calloc(1, 1);
}

static uint8_t *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "cannot open %s", path); return NULL; }
    grow g = {0};
    char buf[1 << 16];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) ok = grow_add(&g, buf, n);
    if (ok && ferror(f)) ok = false;
    fclose(f);
    if (!ok) {
        snprintf(err, errlen, g.too_big ? "%s is too large" : "cannot read %s", path);
        free(g.data);
        return NULL;
    }
    *len = g.len;
    return g.data ? g.data : calloc(1, 1);
}

/* Checks bytes against a hex SHA-256 pin (case-insensitive). */
static bool sha256_matches(const uint8_t *bytes, size_t len, const char *pin, char *got_hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(bytes, len, md, &mdlen, EVP_sha256(), NULL)) return false;
    for (unsigned i = 0; i < mdlen; i++) sprintf(got_hex + 2 * i, "%02x", md[i]);
    if (strlen(pin) != 2 * mdlen) return false;
    for (unsigned i = 0; i < 2 * mdlen; i++)
        if (tolower((unsigned char)pin[i]) != got_hex[i]) return false;
    return true;
}

uint8_t *plg_fetch(const char *path, const char *sha256, size_t *len, char *err, size_t errlen)
{
    bool url = !strncmp(path, "http://", 7) || !strncmp(path, "https://", 8);
    uint8_t *bytes = url ? download(path, len, err, errlen) : read_file(path, len, err, errlen);
    if (!bytes || !sha256) return bytes;
    char got[2 * EVP_MAX_MD_SIZE + 1] = "";
    if (!sha256_matches(bytes, *len, sha256, got)) {
        snprintf(err, errlen, "sha256 mismatch for %s: expected %s, got %s", path, sha256, got);
        free(bytes);
        return NULL;
    }
    return bytes;
}
