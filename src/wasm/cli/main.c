/*
 * src/wasm/cli/main.c - the sluice-wasm command line tool.
 *
 *   sluice-wasm run FILE.wasm EXPORT [ARG...]   args typed i32:5 i64:-1 f32:1.5 f64:2
 *   sluice-wasm spec FILE.json                  run a wast2json script
 *   options right after run/spec: --engine interp|aot|auto, --time (run: the
 *   call's wall time on stderr as "time-ns:N", start-up and instantiation
 *   excluded, so it compares with a native in-process timing)
 *
 * Exit status: 0 ok, 1 trap (message on stderr), 2 load/validation/usage error;
 * a WASI program that calls proc_exit(n) exits with n.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/wasm.h"
#include "wasm/cli/cli.h"

uint8_t *swcli_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            if (cap >= (256u << 20)) { free(buf); buf = NULL; errno = EFBIG; break; }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf && ferror(f)) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) *len = n;
    return buf;
}

static void sink(void *user, int fd, const char *data, size_t len)
{
    (void)user;
    fwrite(data, 1, len, fd == 2 ? stderr : stdout);
}

/* Parses "i32:5" into a value of the expected type. */
static int parse_arg(const char *s, wasm_valtype want, wasm_val *out)
{
    const char *colon = strchr(s, ':');
    if (!colon) return -1;
    size_t tl = (size_t)(colon - s);
    const char *v = colon + 1;
    char *end;
    errno = 0;
    if (tl == 3 && !strncmp(s, "i32", 3) && want == WASM_I32) {
        long long x = strtoll(v, &end, 0);
        if (x < INT32_MIN || x > UINT32_MAX) return -1;
        *out = wasm_val_i32((int32_t)(uint32_t)x);
    } else if (tl == 3 && !strncmp(s, "i64", 3) && want == WASM_I64) {
        long long x = strtoll(v, &end, 0);
        if (errno == ERANGE) { unsigned long long u = strtoull(v, &end, 0); x = (long long)u; errno = 0; }
        *out = wasm_val_i64(x);
    } else if (tl == 3 && !strncmp(s, "f32", 3) && want == WASM_F32) {
        *out = wasm_val_f32(strtof(v, &end));
    } else if (tl == 3 && !strncmp(s, "f64", 3) && want == WASM_F64) {
        *out = wasm_val_f64(strtod(v, &end));
    } else {
        return -1;
    }
    return (*v && !*end && errno != ERANGE) ? 0 : -1;
}

static void print_val(const wasm_val *v)
{
    switch (v->type) {
    case WASM_I32: printf("i32:%" PRId32 "\n", v->of.i32); break;
    case WASM_I64: printf("i64:%" PRId64 "\n", v->of.i64); break;
    case WASM_F32: printf("f32:%.17g\n", (double)v->of.f32); break;
    case WASM_F64: printf("f64:%.17g\n", v->of.f64); break;
    case WASM_FUNCREF: printf("funcref:%s\n", v->of.func ? "func" : "null"); break;
    default: printf("externref:%s\n", v->of.ref ? "ref" : "null"); break;
    }
}

static bool swcli_time;   /* --time */

static int cmd_run(int argc, char **argv)
{
    const char *path = argv[0], *name = argv[1];
    size_t len;
    uint8_t *bytes = swcli_read_file(path, &len);
    if (!bytes) { fprintf(stderr, "sluice-wasm: %s: %s\n", path, strerror(errno)); return 2; }
    wasm_error err;
    wasm_module *m = wasm_module_load_engine(bytes, len, swcli_engine, &err);
    free(bytes);
    if (!m) { fprintf(stderr, "sluice-wasm: %s: %s\n", path, err.message); return 2; }
    int rc = 2;
    wasm_imports *imp = wasm_imports_new();
    const char *wargv[] = {path};
    wasm_wasi_config cfg = {sink, NULL, 1, wargv, 0, NULL};
    wasm_instance *inst = NULL;
    if (!imp || !wasm_wasi_add(imp, &cfg)) { fprintf(stderr, "sluice-wasm: out of memory\n"); goto out; }
    inst = wasm_instance_new(m, imp, NULL, &err);
    if (!inst) {
        if (err.status == WASM_TRAP_EXIT) { rc = err.exit_code; goto out; }
        fprintf(stderr, "%s%s: %s\n", wasm_status_is_trap(err.status) ? "trap: " : "sluice-wasm: ",
                wasm_status_name(err.status), err.message);
        rc = wasm_status_is_trap(err.status) ? 1 : 2;
        goto out;
    }
    wasm_func *f = wasm_instance_func(inst, name);
    if (!f) { fprintf(stderr, "sluice-wasm: no exported function '%s'\n", name); goto out; }
    const wasm_functype *t = wasm_func_type(f);
    if ((uint32_t)(argc - 2) != t->nparams) {
        fprintf(stderr, "sluice-wasm: '%s' takes %u arguments, %d given\n", name, t->nparams, argc - 2);
        goto out;
    }
    wasm_val args[64], res[64];
    if (t->nparams > 64 || t->nresults > 64) { fprintf(stderr, "sluice-wasm: too many parameters\n"); goto out; }
    for (uint32_t i = 0; i < t->nparams; i++) {
        if (parse_arg(argv[2 + i], t->params[i], &args[i])) {
            fprintf(stderr, "sluice-wasm: bad argument '%s' (parameter %u has type 0x%02x)\n", argv[2 + i], i, t->params[i]);
            goto out;
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wasm_status st = wasm_call(inst, f, args, t->nparams, res, t->nresults, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (swcli_time)
        fprintf(stderr, "time-ns:%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec));
    if (st == WASM_TRAP_EXIT) { fflush(stdout); rc = err.exit_code; goto out; }
    if (st != WASM_OK) {
        fflush(stdout);
        fprintf(stderr, "trap: %s: %s\n", wasm_status_name(st), err.message);
        rc = 1;
        goto out;
    }
    for (uint32_t i = 0; i < t->nresults; i++) print_val(&res[i]);
    rc = 0;
out:
    wasm_instance_free(inst);
    wasm_imports_free(imp);
    wasm_module_free(m);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: sluice-wasm run FILE.wasm EXPORT [i32:N|i64:N|f32:X|f64:X ...]\n"
                    "       sluice-wasm spec FILE.json\n"
                    "       sluice-wasm compile FILE.wasm...   (fill the AOT cache)\n"
                    "run and spec take --engine interp|aot|auto and run --time right after the subcommand\n");
}

wasm_engine swcli_engine = WASM_ENGINE_INTERP;

static int cmd_compile(int argc, char **argv)
{
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        size_t len;
        uint8_t *bytes = swcli_read_file(argv[i], &len);
        if (!bytes) { fprintf(stderr, "sluice-wasm: %s: %s\n", argv[i], strerror(errno)); rc = 2; continue; }
        wasm_error err;
        bool hit = false;
        if (wasm_aot_compile(bytes, len, &hit, &err)) printf("%s: %s\n", argv[i], hit ? "cached" : "compiled");
        else { fprintf(stderr, "sluice-wasm: %s: %s\n", argv[i], err.message); rc = 2; }
        free(bytes);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "compile")) return cmd_compile(argc - 2, argv + 2);
    /* options between the subcommand and its arguments: shift them out */
    while (argc >= 3 && !strncmp(argv[2], "--", 2)) {
        int used = 1;
        if (!strcmp(argv[2], "--time")) {
            swcli_time = true;
        } else if (!strcmp(argv[2], "--engine") && argc >= 4) {
            const char *e = argv[3];
            if (!strcmp(e, "aot")) swcli_engine = WASM_ENGINE_AOT;
            else if (!strcmp(e, "auto")) swcli_engine = WASM_ENGINE_AUTO;
            else if (!strcmp(e, "interp")) swcli_engine = WASM_ENGINE_INTERP;
            else { usage(); return 2; }
            used = 2;
        } else {
            usage();
            return 2;
        }
        argv[2 + used - 1] = argv[1];
        argc -= used;
        argv += used;
    }
    if (argc >= 4 && !strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
    if (argc == 3 && !strcmp(argv[1], "spec")) return swcli_spec(argv[2]);
    usage();
    return 2;
}
