/*
 * tests/wasm/fuzz_wasm.c - libFuzzer target for the WebAssembly engine:
 * decode + validate any input; if it loads, instantiate it with stub imports
 * (every imported function returns zeros; memories/tables/globals are
 * host-created) under tight limits, and call each exported function with
 * zero arguments under a short deadline.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/wasm.h"

static wasm_status stub(wasm_instance *caller, const wasm_val *args, wasm_val *results, void *user)
{
    (void)caller; (void)args; (void)results; (void)user;
    return WASM_OK;
}

/* Signature string ("ii>I") of a function type, or false if too long. */
static int sig_of(const wasm_functype *t, char *out, size_t cap)
{
    size_t n = 0;
    if (t->nparams > 16 || t->nresults > 16 || t->nparams + t->nresults + 2 > cap) return 0;
    for (uint32_t i = 0; i < t->nparams + t->nresults; i++) {
        if (i == t->nparams) out[n++] = '>';
        wasm_valtype v = i < t->nparams ? t->params[i] : t->results[i - t->nparams];
        out[n++] = v == WASM_I32 ? 'i' : v == WASM_I64 ? 'I' : v == WASM_F32 ? 'f' : v == WASM_F64 ? 'F' : v == WASM_FUNCREF ? 'r' : 'x';
    }
    if (t->nparams + t->nresults == t->nparams) out[n++] = '>';
    out[n] = 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wasm_error err;
    wasm_module *m = wasm_module_load(data, size, &err);
    if (!m) return 0;
    wasm_imports *imp = wasm_imports_new();
    wasm_memory *mem = wasm_memory_new(1, 2);
    wasm_table *tf = wasm_table_new(WASM_FUNCREF, 4, 8), *tx = wasm_table_new(WASM_EXTERNREF, 4, 8);
    wasm_global *globals[12];
    int ng = 0;
    for (uint32_t i = 0; i < wasm_module_num_imports(m); i++) {
        wasm_port p;
        wasm_module_import(m, i, &p);
        char sig[40];
        if (p.kind == WASM_EXTERN_FUNC && sig_of(p.type, sig, sizeof sig))
            wasm_imports_add_func(imp, p.module, p.name, sig, stub, NULL);
        else if (p.kind == WASM_EXTERN_MEMORY)
            wasm_imports_add_memory(imp, p.module, p.name, mem);
        else if (p.kind == WASM_EXTERN_TABLE) {
            wasm_imports_add_table(imp, p.module, p.name, p.valtype == WASM_FUNCREF ? tf : tx);
        }
    }
    /* globals of exactly the imported type */
    for (uint32_t i = 0; i < wasm_module_num_imports(m) && ng < 12; i++) {
        wasm_port p;
        wasm_module_import(m, i, &p);
        if (p.kind != WASM_EXTERN_GLOBAL) continue;
        wasm_val v;
        memset(&v, 0, sizeof v);
        v.type = p.valtype;
        if ((globals[ng] = wasm_global_new(v, p.mutable_)))
            wasm_imports_add_global(imp, p.module, p.name, globals[ng++]);
    }
    wasm_limits lim = {.max_memory_pages = 16, .max_table_size = 1024, .max_call_depth = 200, .stack_slots = 1 << 14};
    wasm_instance *inst = wasm_instance_new(m, imp, &lim, &err);
    if (inst) {
        wasm_instance_set_timeout_ns(inst, 20 * 1000000ull);
        for (uint32_t i = 0; i < wasm_module_num_exports(m); i++) {
            wasm_port p;
            wasm_module_export(m, i, &p);
            if (p.kind != WASM_EXTERN_FUNC) continue;
            wasm_func *f = wasm_instance_func(inst, p.name);
            if (!f) continue;
            const wasm_functype *t = wasm_func_type(f);
            if (t->nparams > 32 || t->nresults > 32) continue;
            wasm_val args[32], res[32];
            for (uint32_t k = 0; k < t->nparams; k++) {
                memset(&args[k], 0, sizeof args[k]);
                args[k].type = t->params[k];
            }
            wasm_call(inst, f, args, t->nparams, res, t->nresults, &err);
        }
        wasm_instance_free(inst);
    }
    wasm_imports_free(imp);
    for (int k = 0; k < ng; k++) wasm_global_free(globals[k]);
    wasm_table_free(tf);
    wasm_table_free(tx);
    wasm_memory_free(mem);
    wasm_module_free(m);
    return 0;
}
