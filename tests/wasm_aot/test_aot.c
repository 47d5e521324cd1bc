/*
 * tests/wasm_aot/test_aot.c - the compiled tier (wasm2c + cc) in one process:
 * several compiled modules, instances on several threads at once, each made
 * to trap (out of bounds, unreachable, stack exhaustion, deadline in an
 * endless loop, deadline during a host import, interrupt from another
 * thread) and shown still usable afterwards, while the other threads' results
 * stay right. Also: the cache (second compile is a hit), the background
 * compile, tier-up (wasm_module_compile_aot on two threads while the
 * interpreted module serves), the memory cap, host imports registered once for both tiers, and
 * that a fault outside module code still kills the process (the signal
 * handler chains). Skips (77) without wasm2c or a C compiler.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sluice/wasm.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_AOT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_AOT_ASAN 1
#endif
#endif
#ifdef TEST_AOT_ASAN
void __sanitizer_set_report_fd(void *fd);
static void test_aot_expected_sanitizer_report(void) { __sanitizer_set_report_fd((void *)(intptr_t)2); }
#else
static void test_aot_expected_sanitizer_report(void) {}
#endif

/* wat2wasm of:
 * (module
 *   (import "env" "add" (func $add (param i32 i32) (result i32)))
 *   (import "env" "slow" (func $slow))
 *   (memory (export "memory") 1)
 *   (func $fib (export "fib") (param i32) (result i32) ...recursive fib...)
 *   (func (export "oob") (result i32) i32.const 0x7fffffff i32.load offset=0x10000)
 *   (func (export "boom") unreachable)
 *   (func $rec (export "rec") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $rec)
 *   (func (export "spin") (loop br 0))
 *   (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
 *   (func (export "addh") (param i32 i32) (result i32) local.get 0 local.get 1 call $add)
 *   (func (export "slowloop") call $slow (loop br 0))
 *   (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
 *   (func (export "tag") (result i32) i32.const 1))
 * TAG_AT is the byte of the last constant: patching it makes distinct modules. */
static const unsigned char k_module[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x18, 0x05, 0x60, 0x02, 0x7f, 0x7f, 0x01,
    0x7f, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x02, 0x7f,
    0x7f, 0x00, 0x02, 0x16, 0x02, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x03,
    0x65, 0x6e, 0x76, 0x04, 0x73, 0x6c, 0x6f, 0x77, 0x00, 0x01, 0x03, 0x0b, 0x0a, 0x02, 0x03, 0x01,
    0x02, 0x01, 0x02, 0x00, 0x01, 0x04, 0x03, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x51, 0x0b, 0x06,
    0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x03, 0x66, 0x69, 0x62, 0x00, 0x02, 0x03, 0x6f,
    0x6f, 0x62, 0x00, 0x03, 0x04, 0x62, 0x6f, 0x6f, 0x6d, 0x00, 0x04, 0x03, 0x72, 0x65, 0x63, 0x00,
    0x05, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x06, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x07, 0x04,
    0x61, 0x64, 0x64, 0x68, 0x00, 0x08, 0x08, 0x73, 0x6c, 0x6f, 0x77, 0x6c, 0x6f, 0x6f, 0x70, 0x00,
    0x09, 0x05, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x00, 0x0a, 0x03, 0x74, 0x61, 0x67, 0x00, 0x0b, 0x0a,
    0x6b, 0x0a, 0x1c, 0x00, 0x20, 0x00, 0x41, 0x02, 0x49, 0x04, 0x7f, 0x20, 0x00, 0x05, 0x20, 0x00,
    0x41, 0x01, 0x6b, 0x10, 0x02, 0x20, 0x00, 0x41, 0x02, 0x6b, 0x10, 0x02, 0x6a, 0x0b, 0x0b, 0x0d,
    0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x07, 0x28, 0x02, 0x80, 0x80, 0x04, 0x0b, 0x03, 0x00, 0x00,
    0x0b, 0x09, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x10, 0x05, 0x0b, 0x07, 0x00, 0x03, 0x40, 0x0c,
    0x00, 0x0b, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b, 0x08, 0x00, 0x20, 0x00, 0x20, 0x01,
    0x10, 0x00, 0x0b, 0x09, 0x00, 0x10, 0x01, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, 0x09, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b, 0x04, 0x00, 0x41, 0x01, 0x0b,
};
#define TAG_AT 266
#define NMODULES 3
#define NTHREADS 4

static int g_failures;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

#define CHECK(cond, ...) do { if (!(cond)) { pthread_mutex_lock(&g_lock); g_failures++; \
    fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
    pthread_mutex_unlock(&g_lock); } } while (0)

/* The runtime's deadline signal (AOT_TIMER_SIG in src/wasm/aot/rt.c). If
 * this drifts from rt.c, the signal's default action kills the test. */
#define AOT_TIMER_SIG (SIGRTMIN + 3)
static _Thread_local int t_raise_in_import;

static wasm_status h_add(wasm_instance *c, const wasm_val *a, wasm_val *r, void *u)
{
    (void)c; (void)u;
    if (t_raise_in_import) pthread_kill(pthread_self(), AOT_TIMER_SIG);
    r[0].of.i32 = a[0].of.i32 + a[1].of.i32;
    return WASM_OK;
}

static wasm_status h_slow(wasm_instance *c, const wasm_val *a, wasm_val *r, void *u)
{
    (void)c; (void)a; (void)r; (void)u;
    struct timespec ts = {0, 80 * 1000 * 1000};
    nanosleep(&ts, NULL);       /* outlives the 30 ms deadline: trap comes after */
    return WASM_OK;
}

static wasm_module *g_mods[NMODULES];
static wasm_imports *g_imp;

static wasm_status call(wasm_instance *in, const char *name, const wasm_val *args, uint32_t n,
                        wasm_val *res, uint32_t nres)
{
    wasm_func *f = wasm_instance_func(in, name);
    if (!f) return WASM_ERR_ARGS;
    wasm_error err;
    return wasm_call(in, f, args, n, res, nres, &err);
}

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    wasm_limits lim = {.max_memory_pages = 3};
    wasm_error err;
    wasm_instance *in = wasm_instance_new(g_mods[id % NMODULES], g_imp, &lim, &err);
    CHECK(in, "instantiate: %s", err.message);
    if (!in) return NULL;
    wasm_val r[1], a[2];
    for (int round = 0; round < 3; round++) {
        a[0] = wasm_val_i32(20 + id);
        CHECK(call(in, "fib", a, 1, r, 1) == WASM_OK && r[0].of.i32 == fib(20 + id), "fib thread %d", id);
        CHECK(call(in, "tag", NULL, 0, r, 1) == WASM_OK && r[0].of.i32 == id % NMODULES + 1, "tag thread %d", id);
        wasm_status st;
        switch ((id + round) % 4) {
        case 0: st = call(in, "oob", NULL, 0, r, 1); CHECK(st == WASM_TRAP_MEMORY_OOB, "oob: %d", st); break;
        case 1: st = call(in, "boom", NULL, 0, NULL, 0); CHECK(st == WASM_TRAP_UNREACHABLE, "boom: %d", st); break;
        case 2: a[0] = wasm_val_i32(0); st = call(in, "rec", a, 1, r, 1);
                CHECK(st == WASM_TRAP_STACK_EXHAUSTED, "rec: %d", st); break;
        default:
            wasm_instance_set_timeout_ns(in, 30 * 1000 * 1000);
            st = call(in, "spin", NULL, 0, NULL, 0);
            CHECK(st == WASM_TRAP_DEADLINE, "spin: %d", st);
            st = call(in, "slowloop", NULL, 0, NULL, 0);
            CHECK(st == WASM_TRAP_DEADLINE, "slowloop: %d", st);
            wasm_instance_set_timeout_ns(in, 0);
            break;
        }
        /* still usable, memory intact */
        a[0] = wasm_val_i32(64); a[1] = wasm_val_i32(id * 1000 + round);
        CHECK(call(in, "store", a, 2, NULL, 0) == WASM_OK, "store");
        int32_t v = 0;
        CHECK(wasm_memory_read(wasm_instance_memory(in), 64, &v, 4) && v == id * 1000 + round, "memory view");
        a[0] = wasm_val_i32(5); a[1] = wasm_val_i32(6);
        CHECK(call(in, "addh", a, 2, r, 1) == WASM_OK && r[0].of.i32 == 11, "host import");
    }
    a[0] = wasm_val_i32(2);
    CHECK(call(in, "grow", a, 1, r, 1) == WASM_OK && r[0].of.i32 == 1, "grow to the cap");
    a[0] = wasm_val_i32(1);
    CHECK(call(in, "grow", a, 1, r, 1) == WASM_OK && r[0].of.i32 == -1, "grow past the cap");
    CHECK(wasm_memory_pages(wasm_instance_memory(in)) == 3, "pages after grow");
    wasm_instance_free(in);
    return NULL;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

/* A spin under a 20 ms deadline traps, and not absurdly late. */
static void check_spin_deadline(wasm_instance *in, const char *what)
{
    wasm_instance_set_timeout_ns(in, 20 * 1000 * 1000);
    uint64_t t0 = now_ms();
    wasm_status st = call(in, "spin", NULL, 0, NULL, 0);
    uint64_t ms = now_ms() - t0;
    CHECK(st == WASM_TRAP_DEADLINE && ms >= 19 && ms < 3000, "%s: spin %d after %llu ms", what, st,
          (unsigned long long)ms);
}

/* The deadline machinery keeps no per-call timer: thousands of short calls
 * with deadlines, then an endless one must still trap; a deadline signal
 * that arrives between calls, or during an import while nothing is due,
 * must not trap anything; an idle pause (the watchdog goes to sleep) must
 * not lose the next deadline. */
static void test_deadline_paths(void)
{
    wasm_error err;
    wasm_instance *in = wasm_instance_new(g_mods[1], g_imp, NULL, &err);
    CHECK(in, "instance: %s", err.message);
    if (!in) return;
    wasm_val r, a[2];
    /* generous deadlines: a preempted short call must not trap on a busy machine */
    wasm_instance_set_timeout_ns(in, 1000ull * 1000 * 1000);
    int bad = 0;
    for (int i = 0; i < 20000; i++) bad += call(in, "tag", NULL, 0, &r, 1) != WASM_OK || r.of.i32 != 2;
    CHECK(!bad, "%d of 20000 short calls failed", bad);
    check_spin_deadline(in, "after many short calls");
    check_spin_deadline(in, "right after a deadline trap");

    /* a call whose 1 ms deadline then passes while the thread is idle (it
     * may trap itself if the thread is preempted: only the next call counts) */
    wasm_instance_set_timeout_ns(in, 1000 * 1000);
    wasm_status st = call(in, "tag", NULL, 0, &r, 1);
    CHECK(st == WASM_OK || st == WASM_TRAP_DEADLINE, "short call under 1 ms: %d", st);
    sleep_ms(5);
    pthread_kill(pthread_self(), AOT_TIMER_SIG);     /* between calls: ignored */
    wasm_instance_set_timeout_ns(in, 0);
    CHECK(call(in, "tag", NULL, 0, &r, 1) == WASM_OK && r.of.i32 == 2, "call after a stray signal");
    a[0] = wasm_val_i32(20);
    CHECK(call(in, "fib", a, 1, &r, 1) == WASM_OK && r.of.i32 == fib(20), "fib after a stray signal");
    /* the signal during an import, nothing due: the call completes */
    t_raise_in_import = 1;
    a[0] = wasm_val_i32(5); a[1] = wasm_val_i32(6);
    CHECK(call(in, "addh", a, 2, &r, 1) == WASM_OK && r.of.i32 == 11, "signal in an import, nothing due");
    wasm_instance_set_timeout_ns(in, 1000ull * 1000 * 1000);
    CHECK(call(in, "addh", a, 2, &r, 1) == WASM_OK && r.of.i32 == 11, "signal in an import, deadline ahead");
    t_raise_in_import = 0;

    sleep_ms(250);      /* longer than the watchdog's idle period */
    check_spin_deadline(in, "after an idle pause");
    wasm_instance_free(in);
}

static void *interrupter(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    wasm_instance_interrupt(arg);
    return NULL;
}

/* Tier-up the way the plugin host does it: compile an interpreted module's
 * compiled twin on a background thread while the interpreted one serves. */
typedef struct { const wasm_module *src; wasm_module *out; wasm_error err; } tierup_arg;
static void *tierup(void *p)
{
    tierup_arg *a = p;
    a->out = wasm_module_compile_aot(a->src, &a->err);
    return NULL;
}

static void test_tierup(const unsigned char *bytes, size_t len)
{
    wasm_error err;
    wasm_module *im = wasm_module_load_engine(bytes, len, WASM_ENGINE_INTERP, &err);
    CHECK(im && !wasm_module_is_aot(im), "tier-up: interp load: %s", err.message);
    if (!im) return;
    tierup_arg a[2] = {{im, NULL, {0}}, {im, NULL, {0}}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, tierup, &a[i]);  /* two at once */
    /* the interpreted module keeps serving meanwhile */
    wasm_instance *ii = wasm_instance_new(im, g_imp, NULL, &err);
    wasm_val args[2] = {wasm_val_i32(20), wasm_val_i32(22)}, r;
    for (int k = 0; k < 50 && ii; k++)
        CHECK(call(ii, "addh", args, 2, &r, 1) == WASM_OK && r.of.i32 == 42, "tier-up: interp serves");
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        CHECK(a[i].out && wasm_module_is_aot(a[i].out), "tier-up %d: %s", i, a[i].err.message);
        wasm_instance *ai = a[i].out ? wasm_instance_new(a[i].out, g_imp, NULL, &err) : NULL;
        CHECK(ai, "tier-up %d: instance: %s", i, err.message);
        if (ai) {
            CHECK(call(ai, "addh", args, 2, &r, 1) == WASM_OK && r.of.i32 == 42, "tier-up: same imports");
            wasm_val n = wasm_val_i32(15);
            CHECK(call(ai, "fib", &n, 1, &r, 1) == WASM_OK && r.of.i32 == 610, "tier-up: fib");
        }
        wasm_instance_free(ai);
        wasm_module_free(a[i].out);
    }
    wasm_instance_free(ii);   /* the source module outlives its twins */
    wasm_module_free(im);
}

/* (module (import "x" "memory" (memory 1))
 *   (func (export "get") (param i32) (result i32) (i32.load (local.get 0)))
 *   (func (export "put") (param i32 i32) (i32.store (local.get 0) (local.get 1)))) */
static const unsigned char k_importer[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x02, 0x7f, 0x7f, 0x00, 0x02, 0x0d, 0x01, 0x01, 0x78, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72,
    0x79, 0x02, 0x00, 0x01, 0x03, 0x03, 0x02, 0x00, 0x01, 0x07, 0x0d, 0x02, 0x03, 0x67, 0x65, 0x74,
    0x00, 0x00, 0x03, 0x70, 0x75, 0x74, 0x00, 0x01, 0x0a, 0x13, 0x02, 0x07, 0x00, 0x20, 0x00, 0x28,
    0x02, 0x00, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b,
};

/* A compiled module importing memory: from a compiled exporter it shares
 * the exporter's memory itself; from the host (no guard region) that
 * instance runs in the interpreter, with the same results. */
static void test_memory_import(wasm_instance *exporter)
{
    wasm_error err;
    wasm_module *m = wasm_module_load_engine(k_importer, sizeof k_importer, WASM_ENGINE_AOT, &err);
    CHECK(m && wasm_module_is_aot(m), "importer load: %s", m ? "" : err.message);
    if (!m) return;
    wasm_val r, a[2];
    wasm_imports *imp = wasm_imports_new();
    wasm_imports_add_instance(imp, "x", exporter);
    wasm_instance *in = wasm_instance_new(m, imp, NULL, &err);
    CHECK(in, "importer of a compiled memory: %s", err.message);
    if (in) {
        a[0] = wasm_val_i32(64); a[1] = wasm_val_i32(77);
        CHECK(call(exporter, "store", a, 2, NULL, 0) == WASM_OK, "exporter store");
        CHECK(call(in, "get", a, 1, &r, 1) == WASM_OK && r.of.i32 == 77, "importer sees the exporter's write");
        a[0] = wasm_val_i32(68); a[1] = wasm_val_i32(5);
        CHECK(call(in, "put", a, 2, NULL, 0) == WASM_OK, "importer store");
        uint8_t *p = wasm_memory_ptr(wasm_instance_memory(exporter), 68, 4);
        CHECK(p && p[0] == 5, "exporter sees the importer's write");
        a[0] = wasm_val_i32(70000);
        CHECK(call(in, "get", a, 1, &r, 1) == WASM_TRAP_MEMORY_OOB, "importer OOB on the shared memory");
    }
    wasm_instance_free(in);
    wasm_imports_free(imp);

    wasm_memory *hm = wasm_memory_new(1, 2);
    imp = wasm_imports_new();
    wasm_imports_add_memory(imp, "x", "memory", hm);
    in = hm ? wasm_instance_new(m, imp, NULL, &err) : NULL;
    CHECK(in, "importer of a host memory: %s", err.message);
    if (in) {
        uint8_t *p = wasm_memory_ptr(hm, 8, 4);
        if (p) memcpy(p, "\x2a\0\0\0", 4);
        a[0] = wasm_val_i32(8);
        CHECK(call(in, "get", a, 1, &r, 1) == WASM_OK && r.of.i32 == 42, "host memory import");
        a[0] = wasm_val_i32(65536);
        CHECK(call(in, "get", a, 1, &r, 1) == WASM_TRAP_MEMORY_OOB, "host memory OOB");
    }
    wasm_instance_free(in);
    wasm_imports_free(imp);
    wasm_memory_free(hm);
    wasm_module_free(m);
}

int main(void)
{
    if (system("command -v wasm2c >/dev/null 2>&1 && command -v cc >/dev/null 2>&1") != 0) {
        printf("skip: wasm2c or cc missing\n");
        return 77;
    }
    /* keep the test's compiled modules in the build tree, not in ~/.cache */
    char cache[4096];
    if (!getenv("SLUICE_AOT_CACHE")) {
        const char *b = getenv("SLUICE_BUILD");
        snprintf(cache, sizeof cache, "%s/aot-cache", b && *b ? b : "build");
        setenv("SLUICE_AOT_CACHE", cache, 1);
    }
    unsigned char bytes[sizeof k_module];
    memcpy(bytes, k_module, sizeof bytes);
    if (bytes[TAG_AT] != 1) { fprintf(stderr, "TAG_AT is stale\n"); return 1; }
    wasm_error err;
    bool hit = false;
    /* a background compile of module 1, then the cache answers */
    bytes[TAG_AT] = 1;
    wasm_aot_job *job = wasm_aot_compile_async(bytes, sizeof bytes);
    CHECK(job, "async compile");
    bool ok = false;
    for (int i = 0; i < 6000 && job && !wasm_aot_job_done(job, &ok, &err); i++) usleep(10000);
    CHECK(job && ok, "async compile finished: %s", err.message);
    wasm_aot_job_free(job);
    CHECK(wasm_aot_compile(bytes, sizeof bytes, &hit, &err) && hit, "second compile is a cache hit");

    g_imp = wasm_imports_new();
    wasm_imports_add_func(g_imp, "env", "add", "ii>i", h_add, NULL);
    wasm_imports_add_func(g_imp, "env", "slow", ">", h_slow, NULL);
    for (int i = 0; i < NMODULES; i++) {
        bytes[TAG_AT] = (unsigned char)(i + 1);
        g_mods[i] = wasm_module_load_engine(bytes, sizeof bytes, WASM_ENGINE_AOT, &err);
        CHECK(g_mods[i] && wasm_module_is_aot(g_mods[i]), "load module %d: %s", i, err.message);
        if (!g_mods[i]) return 1;
    }
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);

    test_deadline_paths();

    /* interrupt from another thread, no deadline set */
    wasm_instance *in = wasm_instance_new(g_mods[0], g_imp, NULL, &err);
    CHECK(in, "instance: %s", err.message);
    pthread_t it;
    pthread_create(&it, NULL, interrupter, in);
    wasm_status st = call(in, "spin", NULL, 0, NULL, 0);
    pthread_join(it, NULL);
    CHECK(st == WASM_TRAP_INTERRUPTED, "interrupt: %d", st);
    wasm_val a = wasm_val_i32(10), r;
    CHECK(call(in, "fib", &a, 1, &r, 1) == WASM_OK && r.of.i32 == 55, "usable after interrupt");

    /* the same module through the interpreter gives the same answers */
    bytes[TAG_AT] = 1;
    wasm_module *im = wasm_module_load_engine(bytes, sizeof bytes, WASM_ENGINE_INTERP, &err);
    wasm_instance *ii = im ? wasm_instance_new(im, g_imp, NULL, &err) : NULL;
    CHECK(ii && !wasm_module_is_aot(im), "interp instance");
    if (ii) {
        wasm_val args[2] = {wasm_val_i32(2), wasm_val_i32(3)};
        CHECK(call(ii, "addh", args, 2, &r, 1) == WASM_OK && r.of.i32 == 5, "interp host import");
    }
    wasm_instance_free(ii);
    wasm_module_free(im);

    test_memory_import(in);
    bytes[TAG_AT] = 7;   /* a module nobody compiled yet in this test */
    test_tierup(bytes, sizeof bytes);

    /* a fault outside module code is not ours: the process still dies */
    printf("forking a child that faults on purpose (a sanitizer report from it is expected)\n");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* Under ASan the expected report goes to stderr, not to the report
         * directory that tests/run.sh treats as a failure. */
        test_aot_expected_sanitizer_report();
        volatile uintptr_t addr = 8;    /* volatile: a real fault at run time */
        *(volatile int *)addr = 1;
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    /* killed by SIGSEGV, or (under ASan, whose handler we chain to) reported */
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) || (WIFEXITED(status) && WEXITSTATUS(status)),
          "host fault not chained (status %d)", status);

    wasm_instance_free(in);
    for (int i = 0; i < NMODULES; i++) wasm_module_free(g_mods[i]);
    wasm_imports_free(g_imp);
    if (g_failures) { fprintf(stderr, "%d failures\n", g_failures); return 1; }
    printf("aot: ok (%d modules, %d threads)\n", NMODULES, NTHREADS);
    return 0;
}
