/*
 * tests/wasm_aot/test_start_limits.c - the start function runs inside
 * wasm_instance_new, before the caller holds an instance to set a timeout on
 * or to interrupt; wasm_limits.timeout_ns and wasm_limits.interrupt reach it.
 * Checked for both tiers (the compiled one only where wasm2c and cc exist):
 * an endless start function fails the instantiation with a deadline trap or,
 * with the shared flag raised from another thread, an interrupt trap; the
 * limits' timeout also bounds later calls; a raised flag stays raised (each
 * instantiation fails) until the host clears it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sluice/wasm.h"

/* (module (global $g (mut i32) (i32.const 0))
 *   (func $start (loop $l (br_if $l (i32.const 1))))  ;; endless
 *   (start $start)
 *   (func (export "spin") (loop br 0))) */
static const unsigned char k_endless_start[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x03,
    0x02, 0x00, 0x00, 0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b, 0x07, 0x08, 0x01, 0x04, 0x73,
    0x70, 0x69, 0x6e, 0x00, 0x01, 0x08, 0x01, 0x00, 0x0a, 0x13, 0x02, 0x09, 0x00, 0x03, 0x40, 0x41,
    0x01, 0x0d, 0x00, 0x0b, 0x0b, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
};
/* (module (func $start nop) (start $start)
 *   (func (export "spin") (loop br 0))
 *   (func (export "one") (result i32) i32.const 1)) */
static const unsigned char k_quick_start[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x60, 0x00, 0x00, 0x60, 0x00,
    0x01, 0x7f, 0x03, 0x04, 0x03, 0x00, 0x00, 0x01, 0x07, 0x0e, 0x02, 0x04, 0x73, 0x70, 0x69, 0x6e,
    0x00, 0x01, 0x03, 0x6f, 0x6e, 0x65, 0x00, 0x02, 0x08, 0x01, 0x00, 0x0a, 0x12, 0x03, 0x03, 0x00,
    0x01, 0x0b, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, 0x04, 0x00, 0x41, 0x01, 0x0b,
};

static int g_failures;
#define CHECK(cond, ...) do { if (!(cond)) { g_failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static _Atomic int g_flag;
static void *raise_flag(void *arg)
{
    (void)arg;
    usleep(30000);
    g_flag = 1;
    return NULL;
}

static void run_engine(wasm_engine engine, const char *name)
{
    wasm_error err;
    wasm_module *endless = wasm_module_load_engine(k_endless_start, sizeof k_endless_start, engine, &err);
    wasm_module *quick = wasm_module_load_engine(k_quick_start, sizeof k_quick_start, engine, &err);
    CHECK(endless && quick, "%s: load: %s", name, err.message);
    if (!endless || !quick) goto out;
    CHECK(wasm_module_is_aot(endless) == (engine == WASM_ENGINE_AOT), "%s: tier", name);

    /* deadline: the endless start function stops after ~50 ms */
    wasm_limits lim = {.timeout_ns = 50 * 1000000ull};
    double t0 = now_s();
    wasm_instance *in = wasm_instance_new(endless, NULL, &lim, &err);
    double took = now_s() - t0;
    CHECK(!in && err.status == WASM_TRAP_DEADLINE, "%s: endless start with a timeout: %s", name,
          in ? "instantiated" : err.message);
    CHECK(took >= 0.045 && took < 10, "%s: deadline after %.3f s", name, took);
    wasm_instance_free(in);

    /* the shared interrupt flag, raised by another thread during start */
    g_flag = 0;
    wasm_limits lim2 = {.interrupt = &g_flag};
    pthread_t th;
    pthread_create(&th, NULL, raise_flag, NULL);
    in = wasm_instance_new(endless, NULL, &lim2, &err);
    pthread_join(th, NULL);
    CHECK(!in && err.status == WASM_TRAP_INTERRUPTED, "%s: endless start, flag raised: %s", name,
          in ? "instantiated" : err.message);
    wasm_instance_free(in);
    /* still raised: the next instantiation stops too, even a quick start */
    in = wasm_instance_new(quick, NULL, &lim2, &err);
    CHECK(!in && err.status == WASM_TRAP_INTERRUPTED, "%s: flag stays raised: %s", name,
          in ? "instantiated" : err.message);
    wasm_instance_free(in);
    g_flag = 0;
    in = wasm_instance_new(quick, NULL, &lim2, &err);
    CHECK(in, "%s: flag cleared: %s", name, err.message);
    wasm_instance_free(in);

    /* the limits' timeout is the instance's timeout for later calls too */
    in = wasm_instance_new(quick, NULL, &lim, &err);
    CHECK(in, "%s: quick start: %s", name, err.message);
    if (in) {
        wasm_val r;
        wasm_status st = wasm_call(in, wasm_instance_func(in, "spin"), NULL, 0, NULL, 0, &err);
        CHECK(st == WASM_TRAP_DEADLINE, "%s: spin under the limits' timeout: %d", name, st);
        st = wasm_call(in, wasm_instance_func(in, "one"), NULL, 0, &r, 1, &err);
        CHECK(st == WASM_OK && r.of.i32 == 1, "%s: usable after the deadline", name);
    }
    wasm_instance_free(in);
out:
    wasm_module_free(endless);
    wasm_module_free(quick);
}

int main(void)
{
    alarm(60);   /* without the limits reaching the start function it never ends */
    run_engine(WASM_ENGINE_INTERP, "interp");
    bool aot = system("command -v wasm2c >/dev/null 2>&1 && command -v cc >/dev/null 2>&1") == 0;
    if (aot) {
        char cache[4096];
        if (!getenv("SLUICE_AOT_CACHE")) {   /* keep compiled modules in the build tree */
            const char *b = getenv("SLUICE_BUILD");
            snprintf(cache, sizeof cache, "%s/aot-cache", b && *b ? b : "build");
            setenv("SLUICE_AOT_CACHE", cache, 1);
        }
        run_engine(WASM_ENGINE_AOT, "aot");
    }
    if (g_failures) { fprintf(stderr, "%d failures\n", g_failures); return 1; }
    printf("start limits: ok (interp%s)\n", aot ? ", aot" : "; aot skipped: no wasm2c/cc");
    return 0;
}
