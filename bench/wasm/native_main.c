/*
 * native_main.c - the native side of the WebAssembly benchmark.
 *
 * Linked with one workload (bench/wasm/workloads/<name>.c, built with cc -O2)
 * into $(BUILD)/bench/wasm/native_<name>. It times one call of bench()
 * in-process with CLOCK_MONOTONIC (no process start-up, unlike the wasm CLIs)
 * and prints the checksum the wasm engines must reproduce:
 *
 *     i64:<checksum> ns:<elapsed>
 *
 * `native_<name> --selftest FILE` instead runs the workload's own check, if it
 * has one (bench_selftest, a weak symbol): e.g. sha256 writes its input to
 * FILE and prints its digest so bench/wasm/run.sh can compare with sha256sum.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#endif
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "workloads/rt.h"

/* Optional per-workload check; returns 0 when it passed. */
int bench_selftest(const char *path) __attribute__((weak));

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--selftest") == 0) {
        if (!bench_selftest) {
            printf("no selftest\n");
            return 0;
        }
        return bench_selftest(argv[2]) == 0 ? 0 : 1;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--selftest FILE]\n", argv[0]);
        return 2;
    }
    long long t0 = now_ns();
    long long r = bench();
    long long t1 = now_ns();
    printf("i64:%lld ns:%lld\n", r, t1 - t0);
    return 0;
}
