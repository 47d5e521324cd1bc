/*
 * tests/wasm/test_wasm_api.c - unit tests of the embedding API
 * (include/sluice/wasm.h): host functions, traps and reuse, limits,
 * memory.grow cap, deadline, interrupt from another thread, memory/global
 * helpers, link and load errors, WASI, concurrent instances.
 *
 * The modules are tests/wasm/{api,wasi}.wat, assembled by the build into
 * $SLUICE_BUILD/tests/wasm/.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sluice/wasm.h"

static int failures;
#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)

static uint8_t *read_file(const char *name, size_t *len)
{
    char path[1024];
    const char *build = getenv("SLUICE_BUILD");
    snprintf(path, sizeof path, "%s/tests/wasm/%s", build ? build : "build", name);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(1); }
    static uint8_t buf[1 << 16];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    uint8_t *copy = malloc(*len);
    memcpy(copy, buf, *len);
    return copy;
}

static wasm_module *load(const char *name)
{
    size_t len;
    uint8_t *bytes = read_file(name, &len);
    wasm_error err;
    wasm_module *m = wasm_module_load(bytes, len, &err);
    free(bytes);
    if (!m) { fprintf(stderr, "load %s: %s\n", name, err.message); exit(1); }
    return m;
}

static int add_calls;

static wasm_status host_add(wasm_instance *caller, const wasm_val *args, wasm_val *results, void *user)
{
    (void)caller;
    add_calls += *(int *)user;
    results[0].of.i32 = args[0].of.i32 + args[1].of.i32;
    return WASM_OK;
}

static wasm_status host_fail(wasm_instance *caller, const wasm_val *args, wasm_val *results, void *user)
{
    (void)results; (void)user;
    if (args[0].of.i32 == 0) return WASM_OK;
    return wasm_host_trap(caller, WASM_TRAP_HOST, 0, "abort: code %d", args[0].of.i32);
}

static wasm_imports *api_imports(int *one)
{
    wasm_imports *imp = wasm_imports_new();
    CHECK(wasm_imports_add_func(imp, "env", "add", "ii>i", host_add, one));
    CHECK(wasm_imports_add_func(imp, "env", "fail", "i>", host_fail, NULL));
    CHECK(!wasm_imports_add_func(imp, "env", "bad", "q>i", host_fail, NULL));
    return imp;
}

static wasm_status call1(wasm_instance *inst, const char *name, const wasm_val *args, uint32_t nargs,
                         wasm_val *res, uint32_t nres, wasm_error *err)
{
    wasm_func *f = wasm_instance_func(inst, name);
    CHECK(f != NULL);
    return wasm_call(inst, f, args, nargs, res, nres, err);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_host_and_traps(wasm_module *m, wasm_imports *imp)
{
    wasm_error err;
    wasm_limits lim = {.max_memory_pages = 3};
    wasm_instance *inst = wasm_instance_new(m, imp, &lim, &err);
    CHECK(inst != NULL);
    if (!inst) return;
    wasm_val args[2] = {wasm_val_i32(40), wasm_val_i32(1)}, res[3];
    add_calls = 0;
    CHECK(call1(inst, "call_add", args, 2, res, 1, &err) == WASM_OK);
    CHECK(res[0].type == WASM_I32 && res[0].of.i32 == 42 && add_calls == 1);

    /* host trap, with its message; the instance stays usable */
    wasm_val a1 = wasm_val_i32(5);
    CHECK(call1(inst, "call_fail", &a1, 1, res, 1, &err) == WASM_TRAP_HOST);
    CHECK(strstr(err.message, "abort: code 5") != NULL);
    a1 = wasm_val_i32(0);
    CHECK(call1(inst, "call_fail", &a1, 1, res, 1, &err) == WASM_OK && res[0].of.i32 == 99);

    /* arithmetic trap, then reuse */
    args[0] = wasm_val_i32(6); args[1] = wasm_val_i32(0);
    CHECK(call1(inst, "div", args, 2, res, 1, &err) == WASM_TRAP_DIV_ZERO);
    args[1] = wasm_val_i32(3);
    CHECK(call1(inst, "div", args, 2, res, 1, &err) == WASM_OK && res[0].of.i32 == 2);

    /* stack exhaustion, then reuse */
    a1 = wasm_val_i32(0);
    CHECK(call1(inst, "recurse", &a1, 1, res, 1, &err) == WASM_TRAP_STACK_EXHAUSTED);
    CHECK(call1(inst, "call_add", (wasm_val[]){wasm_val_i32(1), wasm_val_i32(2)}, 2, res, 1, &err) == WASM_OK &&
          res[0].of.i32 == 4);

    /* wrong argument types / counts */
    CHECK(call1(inst, "div", (wasm_val[]){wasm_val_i64(1), wasm_val_i32(1)}, 2, res, 1, &err) == WASM_ERR_ARGS);
    CHECK(call1(inst, "div", args, 1, res, 1, &err) == WASM_ERR_ARGS);

    /* memory.grow is capped by the instance limit (3 pages) below the declared max (10) */
    wasm_memory *mem = wasm_instance_export_memory(inst, "mem");
    CHECK(mem && wasm_memory_pages(mem) == 1 && wasm_instance_memory(inst) == mem);
    a1 = wasm_val_i32(1);
    CHECK(call1(inst, "grow", &a1, 1, res, 1, &err) == WASM_OK && res[0].of.i32 == 1);
    CHECK(call1(inst, "grow", &a1, 1, res, 1, &err) == WASM_OK && res[0].of.i32 == 2);
    CHECK(call1(inst, "grow", &a1, 1, res, 1, &err) == WASM_OK && res[0].of.i32 == -1);
    CHECK(wasm_memory_size(mem) == 3 * 65536);

    /* memory helpers and out-of-bounds accesses */
    uint32_t v = 0xdeadbeef;
    CHECK(wasm_memory_write(mem, 100, &v, 4));
    a1 = wasm_val_i32(100);
    CHECK(call1(inst, "load", &a1, 1, res, 1, &err) == WASM_OK && (uint32_t)res[0].of.i32 == 0xdeadbeef);
    CHECK(!wasm_memory_write(mem, wasm_memory_size(mem) - 2, &v, 4));
    CHECK(!wasm_memory_read(mem, UINT64_MAX - 1, &v, 4));
    CHECK(wasm_memory_ptr(mem, 0, wasm_memory_size(mem)) == wasm_memory_data(mem));
    CHECK(wasm_memory_ptr(mem, 1, wasm_memory_size(mem)) == NULL);
    args[0] = wasm_val_i32(3 * 65536 - 2); args[1] = wasm_val_i32(1);
    CHECK(call1(inst, "store", args, 2, res, 0, &err) == WASM_TRAP_MEMORY_OOB);
    CHECK(strstr(err.message, "out of bounds") != NULL);

    /* globals */
    wasm_global *g = wasm_instance_export_global(inst, "counter");
    CHECK(g && wasm_global_get(g).of.i32 == 7 && wasm_global_mutable(g));
    CHECK(call1(inst, "bump", NULL, 0, res, 1, &err) == WASM_OK && res[0].of.i32 == 8);
    CHECK(wasm_global_set(g, wasm_val_i32(100)) && !wasm_global_set(g, wasm_val_i64(1)));
    CHECK(call1(inst, "bump", NULL, 0, res, 1, &err) == WASM_OK && res[0].of.i32 == 101);

    /* multi-value results and tables */
    a1 = wasm_val_i32(-3);
    CHECK(call1(inst, "multi", &a1, 1, res, 3, &err) == WASM_OK);
    CHECK(res[0].of.i32 == -3 && res[1].type == WASM_I64 && res[1].of.i64 == -3 && res[2].of.f64 == -3.0);
    wasm_table *t = wasm_instance_export_table(inst, "tab");
    wasm_val tv;
    CHECK(t && wasm_table_size(t) == 2 && wasm_table_get(t, 1, &tv) && tv.of.func == NULL);
    CHECK(wasm_table_set(t, 0, (wasm_val){.type = WASM_FUNCREF, .of.func = wasm_instance_func(inst, "fib")}));
    CHECK(!wasm_table_get(t, 2, &tv));
    wasm_instance_free(inst);
}

static void test_deadline(wasm_module *m, wasm_imports *imp)
{
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, imp, NULL, &err);
    CHECK(inst != NULL);
    if (!inst) return;
    wasm_instance_set_timeout_ns(inst, 50 * 1000000ull);
    /* plain br, and back-edges fused into other instructions */
    static const char *const loops[] = {"loop", "loop_copy", "loop_cmp"};
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        double t0 = now_s();
        CHECK(call1(inst, loops[i], NULL, 0, NULL, 0, &err) == WASM_TRAP_DEADLINE);
        double dt = now_s() - t0;
        CHECK(dt >= 0.045 && dt < 1.0);
    }
    /* the deadline is per call: a short call right after succeeds */
    wasm_val a = wasm_val_i64(10), r;
    CHECK(call1(inst, "fib", &a, 1, &r, 1, &err) == WASM_OK && r.of.i64 == 55);
    wasm_instance_free(inst);
}

/* A loop fused into one instruction (scan.wat) still meets the deadline:
 * its handler iterates inside itself and must spend fuel as it goes. The
 * scan would otherwise trap out of bounds only after 2^28 bytes. */
static void test_deadline_fused_loop(void)
{
    wasm_module *m = load("scan.wasm");
    CHECK(m != NULL);
    if (!m) return;
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, NULL, NULL, &err);
    CHECK(inst != NULL);
    if (inst) {
        wasm_instance_set_timeout_ns(inst, 50 * 1000000ull);
        wasm_val a[3] = {wasm_val_i32(0), wasm_val_i32(0), wasm_val_i32(0)}, r;
        double t0 = now_s();
        CHECK(call1(inst, "scan", a, 3, &r, 1, &err) == WASM_TRAP_DEADLINE);
        double dt = now_s() - t0;
        CHECK(dt >= 0.045 && dt < 1.0);
        /* with a count that ends it, the same loop answers */
        a[2] = wasm_val_i32(4096);
        CHECK(call1(inst, "scan", a, 3, &r, 1, &err) == WASM_OK && r.of.i32 == 4096);
        wasm_instance_free(inst);
    }
    wasm_module_free(m);
}

static void *interrupter(void *p)
{
    usleep(50 * 1000);
    wasm_instance_interrupt(p);
    return NULL;
}

static void test_interrupt(wasm_module *m, wasm_imports *imp)
{
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, imp, NULL, &err);
    CHECK(inst != NULL);
    if (!inst) return;
    pthread_t th;
    double t0 = now_s();
    pthread_create(&th, NULL, interrupter, inst);
    CHECK(call1(inst, "loop", NULL, 0, NULL, 0, &err) == WASM_TRAP_INTERRUPTED);
    pthread_join(th, NULL);
    CHECK(now_s() - t0 < 2.0);
    /* consumed: the next call runs normally */
    wasm_val a = wasm_val_i64(12), r;
    CHECK(call1(inst, "fib", &a, 1, &r, 1, &err) == WASM_OK && r.of.i64 == 144);
    wasm_instance_free(inst);
}

typedef struct fib_job { wasm_module *m; wasm_imports *imp; int64_t result; } fib_job;

static void *run_fib(void *p)
{
    fib_job *job = p;
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(job->m, job->imp, NULL, &err);
    if (!inst) return NULL;
    wasm_val a = wasm_val_i64(22), r;
    if (wasm_call(inst, wasm_instance_func(inst, "fib"), &a, 1, &r, 1, &err) == WASM_OK) job->result = r.of.i64;
    wasm_instance_free(inst);
    return NULL;
}

static void test_threads(wasm_module *m, wasm_imports *imp)
{
    fib_job jobs[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        jobs[i] = (fib_job){m, imp, -1};
        pthread_create(&th[i], NULL, run_fib, &jobs[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].result == 17711);
    }
}

static void test_errors(wasm_module *m)
{
    wasm_error err;
    /* imports not found: names module.name */
    wasm_instance *inst = wasm_instance_new(m, NULL, NULL, &err);
    CHECK(inst == NULL && err.status == WASM_ERR_LINK && strstr(err.message, "env.add"));
    /* wrong signature */
    wasm_imports *imp = wasm_imports_new();
    wasm_imports_add_func(imp, "env", "add", "i>i", host_add, NULL);
    inst = wasm_instance_new(m, imp, NULL, &err);
    CHECK(inst == NULL && err.status == WASM_ERR_LINK && strstr(err.message, "incompatible"));
    wasm_imports_free(imp);

    static const uint8_t garbage[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 0xff, 0xff};
    CHECK(wasm_module_load(garbage, sizeof garbage, &err) == NULL && err.status == WASM_ERR_MALFORMED);
    CHECK(strstr(err.message, "offset") != NULL);
    static const uint8_t simd[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 1, 0x7b, 0};
    CHECK(wasm_module_load(simd, sizeof simd, &err) == NULL && err.status == WASM_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "SIMD") != NULL && strstr(err.message, "type section") != NULL);
    /* invalid: i32.add on an empty stack */
    static const uint8_t invalid[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
                                      10, 5, 1, 3, 0, 0x6a, 0x0b};
    CHECK(wasm_module_load(invalid, sizeof invalid, &err) == NULL && err.status == WASM_ERR_INVALID);
    CHECK(strstr(err.message, "code section") != NULL);
    CHECK(wasm_module_num_imports(m) == 2 && wasm_module_num_exports(m) > 5);
    wasm_port port;
    CHECK(wasm_module_import(m, 0, &port) && !strcmp(port.module, "env") && port.type->nparams == 2);
}

static char captured[64];
static void sink(void *user, int fd, const char *data, size_t len)
{
    (void)user;
    if (fd == 1 && len < sizeof captured - strlen(captured)) strncat(captured, data, len);
}

static void test_wasi(void)
{
    wasm_module *m = load("wasi.wasm");
    wasm_imports *imp = wasm_imports_new();
    wasm_wasi_config cfg = {.sink = sink};
    CHECK(wasm_wasi_add(imp, &cfg));
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, imp, NULL, &err);
    CHECK(inst != NULL);
    if (inst) {
        CHECK(call1(inst, "_start", NULL, 0, NULL, 0, &err) == WASM_TRAP_EXIT);
        CHECK(err.status == WASM_TRAP_EXIT && err.exit_code == 3);
        CHECK(!strcmp(captured, "hello wasi\n"));
        wasm_instance_free(inst);
    }
    wasm_imports_free(imp);
    wasm_module_free(m);
}

int main(void)
{
    wasm_module *m = load("api.wasm");
    int one = 1;
    wasm_imports *imp = api_imports(&one);
    test_host_and_traps(m, imp);
    test_deadline(m, imp);
    test_deadline_fused_loop();
    test_interrupt(m, imp);
    test_threads(m, imp);
    test_errors(m);
    test_wasi();
    wasm_imports_free(imp);
    wasm_module_free(m);
    if (failures) { fprintf(stderr, "%d checks failed\n", failures); return 1; }
    printf("test_wasm_api: all checks passed\n");
    return 0;
}
