/*
 * promcheck_main.c - `promcheck FILE`: the strict exposition-format checker
 * (promcheck.c) as a command for the end-to-end tests. Exit 0 = valid, 1 =
 * invalid (the reason on stderr), 2 = usage or I/O error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "promcheck.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: promcheck FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "promcheck: %s: too large or out of memory\n", argv[1]);
        return 2;
    }
    char err[512];
    int rc = promcheck(buf, len, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "promcheck: %s: %s\n", argv[1], err);
    free(buf);
    return rc == 0 ? 0 : 1;
}
