/*
 * src/wasm/aot/instance.c - compiled instances behind the public API.
 *
 * A compiled instance is an ordinary wasm_instance whose imports were linked
 * by instance.c as usual; only its own functions differ: each exported one is
 * published as a host-style wasm_func whose callback enters the generated
 * code through aot_rt_invoke(). So wasm_call, the interpreter (calling a
 * compiled function it imported) and wasm_imports_add_instance all work
 * without knowing which tier runs a module. Memory 0 is mirrored into the
 * public wasm_memory after every entry and exit; exported globals are
 * copied in before and out after every call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/aot/aot.h"

static void globals_in(aot_ctx *ctx)
{
    for (uint32_t i = 0; i < ctx->nxglobals; i++) {
        aot_export_global *g = &ctx->xglobals[i];
        memcpy(g->storage, &g->pub->val, g->pub->type == WASM_I32 || g->pub->type == WASM_F32 ? 4 : 8);
    }
}

static void globals_out(aot_ctx *ctx)
{
    for (uint32_t i = 0; i < ctx->nxglobals; i++) {
        aot_export_global *g = &ctx->xglobals[i];
        g->pub->val.u64 = 0;
        memcpy(&g->pub->val, g->storage, g->pub->type == WASM_I32 || g->pub->type == WASM_F32 ? 4 : 8);
    }
}

/* The host-function face of a compiled export. */
static wasm_status export_host(wasm_instance *caller, const wasm_val *args, wasm_val *results, void *user)
{
    aot_export_fn *x = user;
    aot_ctx *ctx = x->ctx;
    wasm_instance *inst = ctx->inst;
    unsigned long long slots[WASM_MAX_HOST_ARITY + 1];
    size_t k = (size_t)(x - ctx->xfns);
    const wasm_export_decl *e = &inst->mod->exports[ctx->lib->desc->exports[k].export_index];
    const wasm_functype *t = &inst->mod->types[inst->mod->func_types[e->idx]];
    for (uint32_t i = 0; i < t->nparams; i++) slots[i] = wasm_val_to_slot(args[i]).u64;
    /* A direct wasm_call on this instance set its deadline; a call arriving
     * through another instance's import runs under that caller's deadline. */
    uint64_t deadline = caller ? caller->deadline_ns : inst->deadline_ns;
    inst->msg[0] = 0;
    inst->exit_code = 0;
    globals_in(ctx);
    wasm_status st = aot_rt_invoke(ctx, x->call, slots, deadline);
    globals_out(ctx);
    if (st != WASM_OK) {
        if (caller && caller != inst) return wasm_host_trap(caller, st, inst->exit_code, "%s", inst->msg);
        return st;
    }
    for (uint32_t i = 0; i < t->nresults; i++) {
        wasm_slot s; s.u64 = slots[i];
        results[i] = wasm_slot_to_val(s, t->results[i]);
    }
    return WASM_OK;
}

bool aot_instance_linkable(const wasm_instance *inst)
{
    const wasm_module *m = inst->mod;
    for (uint32_t i = 0; i < m->nimported_mems; i++) {
        const wasm_memory *mem = inst->mems[i];
        if (!mem->aot || !((aot_ctx *)mem->aot)->mem0) return false;
    }
    return true;
}

bool aot_instance_finish(wasm_instance *inst, wasm_error *err)
{
    const wasm_module *m = inst->mod;
    const aot_lib *lib = m->aot;
    const struct sluice_aot_desc *d = lib->desc;
    aot_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) { wasm_set_error(err, WASM_ERR_NOMEM, "out of memory"); return false; }
    inst->aot = ctx;
    ctx->magic = AOT_CTX_MAGIC;
    ctx->inst = inst;
    ctx->lib = lib;
    ctx->max_pages = inst->limits.max_memory_pages;
    ctx->max_table = inst->limits.max_table_size;
    ctx->rt_inst = calloc(1, d->instance_size ? d->instance_size : 1);
    ctx->xfns = calloc(d->nexports + 1, sizeof *ctx->xfns);
    ctx->xglobals = calloc(d->nexports + 1, sizeof *ctx->xglobals);
    if (!ctx->rt_inst || !ctx->xfns || !ctx->xglobals) {
        wasm_set_error(err, WASM_ERR_NOMEM, "out of memory");
        return false;
    }
    if (m->nmems > m->nimported_mems) {
        inst->mem0 = inst->mems[0] = &inst->own_mems[0];
        inst->own_mems[0].aot = ctx;
        /* declared limits, for matching when another instance imports it */
        inst->own_mems[0].has_max = m->mems[m->nimported_mems].has_max;
        inst->own_mems[0].decl_max = m->mems[m->nimported_mems].max;
    } else if (m->nmems) {
        inst->mem0 = inst->mems[0];   /* imported: the exporter's mirror */
    }
    wasm_status st = aot_rt_instantiate(ctx);
    if (st != WASM_OK) {
        wasm_set_error(err, st, "%s", inst->msg[0] ? inst->msg : wasm_status_name(st));
        return false;
    }
    for (uint32_t k = 0; k < d->nexports; k++) {
        const struct sluice_aot_export *x = &d->exports[k];
        const wasm_export_decl *e = &m->exports[x->export_index];
        if (e->kind == WASM_EXTERN_FUNC && e->idx >= m->nimported_funcs) {
            wasm_func *f = &inst->own_funcs[e->idx - m->nimported_funcs];
            f->type = &m->types[m->func_types[e->idx]];
            f->host = export_host;
            f->user = &ctx->xfns[k];
            ctx->xfns[k] = (aot_export_fn){ctx, x->call};
            inst->funcs[e->idx] = f;
        } else if (e->kind == WASM_EXTERN_GLOBAL && e->idx >= m->nimported_globals && x->get) {
            wasm_global *g = &inst->own_globals[e->idx - m->nimported_globals];
            g->type = m->globals[e->idx].type;
            g->mut = m->globals[e->idx].mut;
            inst->globals[e->idx] = g;
            ctx->xglobals[ctx->nxglobals++] = (aot_export_global){g, x->get(ctx->rt_inst)};
        }
    }
    globals_out(ctx);
    aot_rt_sync_memory(ctx);
    return true;
}

void aot_instance_release(wasm_instance *inst)
{
    aot_ctx *ctx = inst->aot;
    if (!ctx) return;
    if (ctx->rt_inst) ctx->lib->desc->free(ctx->rt_inst);
    /* the public memory mirrored our mapping, which is gone now */
    if (inst->own_mems && inst->mod->nmems > inst->mod->nimported_mems) inst->own_mems[0].data = NULL;
    free(ctx->rt_inst);
    free(ctx->xfns);
    free(ctx->xglobals);
    free(ctx);
    inst->aot = NULL;
}

wasm_module *wasm_module_load_engine(const uint8_t *bytes, size_t len, wasm_engine engine, wasm_error *err)
{
    wasm_module *m = wasm_module_load(bytes, len, err);
    if (!m || engine == WASM_ENGINE_INTERP) return m;
    wasm_error e2;
    aot_lib *lib = aot_lib_load(m, &e2);
    if (!lib) {
        if (engine == WASM_ENGINE_AUTO) return m;   /* the interpreter runs it */
        if (err) *err = e2;
        wasm_module_free(m);
        return NULL;
    }
    m->aot = lib;
    return m;
}

/* wasm_memory_grow (host or an interpreted importer) on a compiled
 * instance's memory: grow the reservation in place, then re-mirror. */
int64_t aot_memory_grow(wasm_memory *mem, uint32_t delta)
{
    aot_ctx *ctx = mem->aot;
    if (!ctx->mem0) return -1;
    uint32_t old = ctx->mem0->pages;
    if ((uint64_t)old + delta > ctx->mem0->max_pages) return -1;
    if (aot_rt_grow(ctx->mem0, delta) == (unsigned)-1) return -1;
    aot_rt_sync_memory(ctx);
    return old;
}

bool wasm_module_is_aot(const wasm_module *m) { return m && m->aot; }

wasm_module *wasm_module_compile_aot(const wasm_module *m, wasm_error *err)
{
    /* m's private copy of the binary is immutable after loading, so reading
     * it races with nothing; the new module owns its own decoded state. */
    return wasm_module_load_engine(m->bytes, m->len, WASM_ENGINE_AOT, err);
}
