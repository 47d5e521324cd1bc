/*
 * tests/plugin/test_plugin_fetch.c - plugins from http:// URLs: a tiny
 * loopback HTTP server (a thread here) serves the example plugin; loading
 * works, a matching sha256 pin works (also on a local path), a wrong pin or
 * a 404 refuses the plugin with a clear message.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "plugin/plugin_int.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static uint8_t *file_bytes;
static size_t file_len;
static int listen_fd;

/* Serves connections until the listening socket is shut down: GET
 * /plugin.wasm answers the file, anything else 404. */
static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) return NULL;
        char req[2048];
        ssize_t n = read(fd, req, sizeof req - 1);
        req[n > 0 ? n : 0] = '\0';
        char head[256];
        if (strncmp(req, "GET /plugin.wasm ", 17) == 0) {
            int h = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", file_len);
            if (write(fd, head, (size_t)h) < 0 || write(fd, file_bytes, file_len) < 0) perror("write");
        } else {
            int h = snprintf(head, sizeof head, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            if (write(fd, head, (size_t)h) < 0) perror("write");
        }
        close(fd);
    }
}

int main(void)
{
    const char *b = getenv("SLUICE_BUILD");
    char path[600];
    snprintf(path, sizeof path, "%s/examples/plugins/c-test.wasm", b ? b : "build");
    char err[512];
    file_bytes = plg_fetch(path, NULL, &file_len, err, sizeof err);
    if (!file_bytes) { fprintf(stderr, "%s\n", err); return 1; }
    unsigned char md[32];
    unsigned mdlen;
    EVP_Digest(file_bytes, file_len, md, &mdlen, EVP_sha256(), NULL);
    char hex[65];
    for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02X", md[i]);

    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) || listen(listen_fd, 8) ||
        getsockname(listen_fd, (struct sockaddr *)&sa, &sl)) { perror("listen"); return 1; }
    pthread_t th;
    pthread_create(&th, NULL, serve, NULL);
    char url[128], url404[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/plugin.wasm", ntohs(sa.sin_port));
    snprintf(url404, sizeof url404, "http://127.0.0.1:%d/missing.wasm", ntohs(sa.sin_port));

    plg_spec s = {.name = "u", .path = url, .enabled = true};
    plg_set *set = plg_set_load(&s, 1, 1, err, sizeof err);
    CHECK(set && strcmp(plg_set_name(set, 0), "c-test") == 0);
    plg_set_free(set);
    s.sha256 = hex; /* upper case accepted */
    set = plg_set_load(&s, 1, 1, err, sizeof err);
    CHECK(set);
    plg_set_free(set);
    char wrong[65];
    memcpy(wrong, hex, 65);
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    s.sha256 = wrong;
    CHECK(plg_set_load(&s, 1, 1, err, sizeof err) == NULL && strstr(err, "sha256 mismatch"));
    printf("%s\n", err);
    s.path = path; /* the pin applies to local files too */
    CHECK(plg_set_load(&s, 1, 1, err, sizeof err) == NULL && strstr(err, "sha256 mismatch"));
    s.sha256 = NULL;
    s.path = url404;
    CHECK(plg_set_load(&s, 1, 1, err, sizeof err) == NULL && strstr(err, "HTTP status 404"));
    printf("%s\n", err);

    shutdown(listen_fd, SHUT_RDWR);
    close(listen_fd);
    pthread_join(th, NULL);
    free(file_bytes);
    if (failures) { fprintf(stderr, "%d checks failed\n", failures); return 1; }
    printf("ok\n");
    return 0;
}
