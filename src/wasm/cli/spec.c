/*
 * src/wasm/cli/spec.c - `sluice-wasm spec FILE.json`: runs the commands of a
 * wast2json (wabt 1.0.32) script against the engine, with the `spectest`
 * host module, and ends with "N passed, M failed" (skipped count before it).
 *
 * Every module stays alive until the end of the script, because a later
 * module may import what an earlier one exported ("register").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/wasm.h"
#include "wasm/cli/cli.h"
#include "wasm/cli/json.h"

typedef struct named_instance {
    char *name;                  /* "$M" or NULL */
    wasm_instance *inst;
    wasm_module *mod;
} named_instance;

typedef struct spec_run {
    const char *dir;             /* directory of the .json (module files are beside it) */
    wasm_imports *imports;       /* spectest + registered instances */
    named_instance *insts; size_t ninsts, cap;
    wasm_instance *current;
    wasm_limits limits;
    int passed, failed, skipped;
    int aot_fallbacks;           /* --engine aot: modules interpreted instead */
    /* spectest objects */
    wasm_memory *mem;
    wasm_table *table;
    wasm_global *g_i32, *g_i64, *g_f32, *g_f64;
} spec_run;

static wasm_status print_fn(wasm_instance *caller, const wasm_val *args, wasm_val *results, void *user)
{
    (void)caller; (void)args; (void)results; (void)user;
    return WASM_OK;
}

static int setup_spectest(spec_run *s)
{
    wasm_imports *imp = s->imports;
    static const char *const prints[][2] = {
        {"print", ">"}, {"print_i32", "i>"}, {"print_i64", "I>"}, {"print_f32", "f>"},
        {"print_f64", "F>"}, {"print_i32_f32", "if>"}, {"print_f64_f64", "FF>"}};
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++)
        if (!wasm_imports_add_func(imp, "spectest", prints[i][0], prints[i][1], print_fn, NULL)) return -1;
    s->mem = wasm_memory_new(1, 2);
    s->table = wasm_table_new(WASM_FUNCREF, 10, 20);
    s->g_i32 = wasm_global_new(wasm_val_i32(666), false);
    s->g_i64 = wasm_global_new(wasm_val_i64(666), false);
    s->g_f32 = wasm_global_new(wasm_val_f32(666.6f), false);
    s->g_f64 = wasm_global_new(wasm_val_f64(666.6), false);
    if (!s->mem || !s->table || !s->g_i32 || !s->g_i64 || !s->g_f32 || !s->g_f64) return -1;
    if (!wasm_imports_add_memory(imp, "spectest", "memory", s->mem) ||
        !wasm_imports_add_table(imp, "spectest", "table", s->table) ||
        !wasm_imports_add_global(imp, "spectest", "global_i32", s->g_i32) ||
        !wasm_imports_add_global(imp, "spectest", "global_i64", s->g_i64) ||
        !wasm_imports_add_global(imp, "spectest", "global_f32", s->g_f32) ||
        !wasm_imports_add_global(imp, "spectest", "global_f64", s->g_f64))
        return -1;
    return 0;
}

static wasm_module *load_module(spec_run *s, const char *file, wasm_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->dir, file);
    size_t len;
    uint8_t *bytes = swcli_read_file(path, &len);
    if (!bytes) {
        snprintf(err->message, sizeof err->message, "cannot read %.200s", file);
        err->status = WASM_ERR_MALFORMED;
        return NULL;
    }
    wasm_module *m = wasm_module_load_engine(bytes, len, swcli_engine, err);
    if (!m && swcli_engine == WASM_ENGINE_AOT && err->status == WASM_ERR_UNSUPPORTED &&
        !strncmp(err->message, "aot: unsupported", 16)) {
        /* a module the compiled tier refuses (see docs/wasm-aot.md) is
         * interpreted and counted, so the rest of the script still runs */
        s->aot_fallbacks++;
        m = wasm_module_load(bytes, len, err);
    }
    free(bytes);
    return m;
}

static void keep(spec_run *s, const char *name, wasm_module *m, wasm_instance *inst)
{
    if (s->ninsts == s->cap) {
        size_t n = s->cap ? s->cap * 2 : 16;
        named_instance *v = realloc(s->insts, n * sizeof *v);
        if (!v) { fprintf(stderr, "out of memory\n"); exit(2); }
        s->insts = v;
        s->cap = n;
    }
    s->insts[s->ninsts++] = (named_instance){name ? strdup(name) : NULL, inst, m};
}

static wasm_instance *find_instance(spec_run *s, const char *name)
{
    if (!name) return s->current;
    for (size_t i = s->ninsts; i-- > 0;)
        if (s->insts[i].name && !strcmp(s->insts[i].name, name)) return s->insts[i].inst;
    return NULL;
}

/* Converts a wast2json value ({"type","value"}) to a wasm_val. */
static int json_val(const swj *v, wasm_val *out)
{
    const char *type = swj_str(v, "type"), *val = swj_str(v, "value");
    if (!type || !val) return -1;
    uint64_t bits = strtoull(val, NULL, 10);
    memset(out, 0, sizeof *out);
    if (!strcmp(type, "i32")) { out->type = WASM_I32; out->of.i32 = (int32_t)(uint32_t)bits; }
    else if (!strcmp(type, "i64")) { out->type = WASM_I64; out->of.i64 = (int64_t)bits; }
    else if (!strcmp(type, "f32")) { uint32_t b = (uint32_t)bits; out->type = WASM_F32; memcpy(&out->of.f32, &b, 4); }
    else if (!strcmp(type, "f64")) { out->type = WASM_F64; memcpy(&out->of.f64, &bits, 8); }
    else if (!strcmp(type, "externref")) {
        out->type = WASM_EXTERNREF;
        out->of.ref = strcmp(val, "null") ? (void *)(uintptr_t)(bits + 1) : NULL;
    } else if (!strcmp(type, "funcref")) {
        out->type = WASM_FUNCREF;
        out->of.ref = NULL;
        if (strcmp(val, "null")) return -1;
    } else {
        return -1;
    }
    return 0;
}

/* Runs an action; fills results. Returns the call status (or an error). */
static wasm_status do_action(spec_run *s, const swj *action, wasm_val *results, uint32_t *nresults,
                             wasm_error *err)
{
    const char *type = swj_str(action, "type"), *field = swj_str(action, "field");
    wasm_instance *inst = find_instance(s, swj_str(action, "module"));
    *nresults = 0;
    if (!inst || !field || !type) {
        snprintf(err->message, sizeof err->message, "no such module/field");
        return WASM_ERR_ARGS;
    }
    if (!strcmp(type, "get")) {
        wasm_global *g = wasm_instance_export_global(inst, field);
        if (!g) { snprintf(err->message, sizeof err->message, "no global %s", field); return WASM_ERR_ARGS; }
        results[0] = wasm_global_get(g);
        *nresults = 1;
        return WASM_OK;
    }
    const swj *fv = swj_get(action, "field");
    wasm_func *f = wasm_instance_func_len(inst, field, fv->len);
    if (!f) { snprintf(err->message, sizeof err->message, "no function %s", field); return WASM_ERR_ARGS; }
    wasm_val args[64];
    uint32_t nargs = 0;
    const swj *a = swj_get(action, "args");
    for (const swj *v = a ? a->child : NULL; v; v = v->next) {
        if (nargs == 64 || json_val(v, &args[nargs])) {
            snprintf(err->message, sizeof err->message, "unsupported argument");
            return WASM_ERR_ARGS;
        }
        nargs++;
    }
    const wasm_functype *t = wasm_func_type(f);
    if (t->nresults > 64) return WASM_ERR_ARGS;
    *nresults = t->nresults;
    return wasm_call(inst, f, args, nargs, results, t->nresults, err);
}

/* Compares one result with an expected value (NaN patterns included). */
static int match(const wasm_val *got, const swj *exp)
{
    const char *type = swj_str(exp, "type"), *val = swj_str(exp, "value");
    if (!type || !val) return 0;
    if (!strcmp(type, "f32") || !strcmp(type, "f64")) {
        bool f32 = type[1] == '3';
        if ((f32 && got->type != WASM_F32) || (!f32 && got->type != WASM_F64)) return 0;
        uint64_t bits = 0;
        if (f32) { uint32_t b; memcpy(&b, &got->of.f32, 4); bits = b; }
        else memcpy(&bits, &got->of.f64, 8);
        uint64_t exp_mask = f32 ? 0x7f800000u : 0x7ff0000000000000ull;
        uint64_t quiet = f32 ? 0x00400000u : 0x0008000000000000ull;
        uint64_t payload = f32 ? 0x007fffffu : 0x000fffffffffffffull;
        if (!strcmp(val, "nan:canonical")) return (bits & exp_mask) == exp_mask && (bits & payload) == quiet;
        if (!strcmp(val, "nan:arithmetic")) return (bits & exp_mask) == exp_mask && (bits & quiet);
        return bits == strtoull(val, NULL, 10);
    }
    if (!strcmp(type, "funcref") || !strcmp(type, "externref")) {
        wasm_valtype t = type[0] == 'f' ? WASM_FUNCREF : WASM_EXTERNREF;
        if (got->type != t) return 0;
        if (!strcmp(val, "null")) return got->of.ref == NULL;
        if (t == WASM_FUNCREF) return got->of.ref != NULL;
        return got->of.ref == (void *)(uintptr_t)(strtoull(val, NULL, 10) + 1);
    }
    wasm_val want;
    if (json_val(exp, &want) || want.type != got->type) return 0;
    return want.type == WASM_I32 ? want.of.i32 == got->of.i32 : want.of.i64 == got->of.i64;
}

/* The spec's expected trap text starts with our wording of the kind
 * ("uninitialized element 2" for "uninitialized element"). */
static bool trap_text_matches(wasm_status st, const char *text)
{
    const char *name = wasm_status_name(st);
    return !text || !strncmp(text, name, strlen(name));
}

static void fail(spec_run *s, long line, const char *what, const char *detail)
{
    s->failed++;
    if (s->failed <= 30) fprintf(stdout, "FAIL line %ld: %s%s%s\n", line, what, detail ? ": " : "", detail ? detail : "");
}

static void cmd_module(spec_run *s, const swj *cmd, long line)
{
    wasm_error err;
    wasm_module *m = load_module(s, swj_str(cmd, "filename"), &err);
    if (!m) { fail(s, line, "module failed to load", err.message); s->current = NULL; return; }
    wasm_instance *inst = wasm_instance_new(m, s->imports, &s->limits, &err);
    if (!inst) { fail(s, line, "module failed to instantiate", err.message); wasm_module_free(m); s->current = NULL; return; }
    keep(s, swj_str(cmd, "name"), m, inst);
    s->current = inst;
    s->passed++;
}

static void cmd_assert_return(spec_run *s, const swj *cmd, long line)
{
    wasm_val res[64];
    uint32_t n;
    wasm_error err;
    wasm_status st = do_action(s, swj_get(cmd, "action"), res, &n, &err);
    if (st != WASM_OK) { fail(s, line, "assert_return: call failed", err.message); return; }
    const swj *exp = swj_get(cmd, "expected");
    uint32_t i = 0;
    for (const swj *e = exp ? exp->child : NULL; e; e = e->next, i++) {
        if (i >= n || !match(&res[i], e)) {
            char detail[128];
            snprintf(detail, sizeof detail, "result %u differs (got 0x%" PRIx64 ")", i, i < n ? (uint64_t)res[i].of.i64 : 0);
            fail(s, line, "assert_return", detail);
            return;
        }
    }
    if (i != n) { fail(s, line, "assert_return", "result count differs"); return; }
    s->passed++;
}

static void cmd_assert_trap(spec_run *s, const swj *cmd, long line, bool exhaustion)
{
    wasm_val res[64];
    uint32_t n;
    wasm_error err;
    wasm_status st = do_action(s, swj_get(cmd, "action"), res, &n, &err);
    if (!wasm_status_is_trap(st)) { fail(s, line, exhaustion ? "assert_exhaustion: no trap" : "assert_trap: no trap", swj_str(cmd, "text")); return; }
    if (exhaustion && st != WASM_TRAP_STACK_EXHAUSTED) { fail(s, line, "assert_exhaustion: wrong trap", err.message); return; }
    if (!trap_text_matches(st, swj_str(cmd, "text"))) { fail(s, line, "assert_trap: wrong trap", err.message); return; }
    s->passed++;
}

/* assert_invalid / assert_malformed / assert_unlinkable / assert_uninstantiable */
static void cmd_assert_module(spec_run *s, const swj *cmd, long line, const char *type)
{
    const char *mt = swj_str(cmd, "module_type");
    if (mt && strcmp(mt, "binary")) { s->skipped++; return; }
    wasm_error err;
    wasm_module *m = load_module(s, swj_str(cmd, "filename"), &err);
    bool load_only = !strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed");
    if (load_only) {
        if (m) { fail(s, line, type, "module was accepted"); wasm_module_free(m); return; }
        s->passed++;
        return;
    }
    if (!m) { fail(s, line, type, err.message); return; }
    wasm_instance *inst = wasm_instance_new(m, s->imports, &s->limits, &err);
    if (inst) {
        fail(s, line, type, "module was instantiated");
        keep(s, NULL, m, inst);
        return;
    }
    bool want_trap = !strcmp(type, "assert_uninstantiable");
    if (want_trap != wasm_status_is_trap(err.status) ||
        (want_trap && !trap_text_matches(err.status, swj_str(cmd, "text"))))
        fail(s, line, type, err.message);
    else s->passed++;
    /* a failed instantiation may have left functions in shared tables:
     * the module must outlive them */
    keep(s, NULL, m, NULL);
}

int swcli_spec(const char *json_path)
{
    size_t len;
    uint8_t *text = swcli_read_file(json_path, &len);
    if (!text) { fprintf(stderr, "sluice-wasm: cannot read %s\n", json_path); return 2; }
    swj *root = swj_parse((const char *)text, len);
    free(text);
    if (!root) { fprintf(stderr, "sluice-wasm: %s: invalid JSON\n", json_path); return 2; }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", json_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0; else snprintf(dir, sizeof dir, ".");
    spec_run s;
    memset(&s, 0, sizeof s);
    s.dir = dir;
    s.limits.stack_slots = 1u << 13;   /* small: scripts create thousands of instances */
    s.limits.max_call_depth = 2000;
    s.imports = wasm_imports_new();
    if (!s.imports || setup_spectest(&s)) { fprintf(stderr, "sluice-wasm: out of memory\n"); return 2; }
    const swj *cmds = swj_get(root, "commands");
    for (const swj *cmd = cmds ? cmds->child : NULL; cmd; cmd = cmd->next) {
        const char *type = swj_str(cmd, "type");
        const char *ln = swj_str(cmd, "line");
        long line = ln ? strtol(ln, NULL, 10) : 0;
        if (!type) continue;
        if (!strcmp(type, "module")) cmd_module(&s, cmd, line);
        else if (!strcmp(type, "register")) {
            wasm_instance *inst = find_instance(&s, swj_str(cmd, "name"));
            const char *as = swj_str(cmd, "as");
            if (!inst || !as || !wasm_imports_add_instance(s.imports, as, inst)) fail(&s, line, "register", NULL);
        } else if (!strcmp(type, "action")) {
            wasm_val res[64];
            uint32_t n;
            wasm_error err;
            wasm_status st = do_action(&s, swj_get(cmd, "action"), res, &n, &err);
            if (st != WASM_OK) fail(&s, line, "action", err.message); else s.passed++;
        } else if (!strcmp(type, "assert_return")) cmd_assert_return(&s, cmd, line);
        else if (!strcmp(type, "assert_trap")) cmd_assert_trap(&s, cmd, line, false);
        else if (!strcmp(type, "assert_exhaustion")) cmd_assert_trap(&s, cmd, line, true);
        else if (!strncmp(type, "assert_", 7)) cmd_assert_module(&s, cmd, line, type);
        else { s.skipped++; }
    }
    if (s.aot_fallbacks) printf("%d modules interpreted (aot unsupported)\n", s.aot_fallbacks);
    if (s.skipped) printf("%d skipped\n", s.skipped);
    printf("%d passed, %d failed\n", s.passed, s.failed);
    /* the spectest table first: it may keep functions of failed
     * instantiations, whose modules are still alive here */
    wasm_table_free(s.table);
    for (size_t i = 0; i < s.ninsts; i++) {
        wasm_instance_free(s.insts[i].inst);
        wasm_module_free(s.insts[i].mod);
        free(s.insts[i].name);
    }
    free(s.insts);
    wasm_imports_free(s.imports);
    wasm_memory_free(s.mem);
    wasm_global_free(s.g_i32); wasm_global_free(s.g_i64);
    wasm_global_free(s.g_f32); wasm_global_free(s.g_f64);
    swj_free(root);
    return s.failed ? 1 : 0;
}
