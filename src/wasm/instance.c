/*
 * src/wasm/instance.c - imports sets, linking and instantiation.
 *
 * Instantiation follows the spec's order: resolve and type-check imports,
 * create the functions, tables, memories and globals the module defines,
 * evaluate element segments, apply the active element then data segments
 * (a trap there leaves the writes already done, as the spec says), and run
 * the start function.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/internal.h"

typedef struct import_entry {
    char *module, *name;
    wasm_extern_kind kind;
    void *obj;
    bool owned;                  /* a host function this set created */
} import_entry;

struct wasm_imports {
    import_entry *v;
    size_t n, cap;
    void *state;                 /* e.g. WASI configuration, freed with the set */
    void (*state_free)(void *);
};

/* Returns a new empty set; the caller frees it with wasm_imports_free(). */
wasm_imports *wasm_imports_new(void) { return calloc(1, sizeof(wasm_imports)); }

void wasm_imports_free(wasm_imports *imp)
{
    if (!imp) return;
    for (size_t i = 0; i < imp->n; i++) {
        free(imp->v[i].module);
        free(imp->v[i].name);
        if (imp->v[i].owned) free(imp->v[i].obj);
    }
    if (imp->state_free) imp->state_free(imp->state);
    free(imp->v);
    free(imp);
}

void wasm_imports_set_state(wasm_imports *imp, void *state, void (*state_free)(void *))
{
    if (imp->state_free) imp->state_free(imp->state);
    imp->state = state;
    imp->state_free = state_free;
}

static bool add_entry(wasm_imports *imp, const char *module, const char *name, wasm_extern_kind kind,
                      void *obj, bool owned)
{
    if (!imp || !module || !name || !obj) return false;
    if (imp->n == imp->cap) {
        size_t n = imp->cap ? imp->cap * 2 : 16;
        import_entry *v = realloc(imp->v, n * sizeof *v);
        if (!v) return false;
        imp->v = v;
        imp->cap = n;
    }
    char *m = strdup(module), *nm = strdup(name);
    if (!m || !nm) { free(m); free(nm); return false; }
    imp->v[imp->n++] = (import_entry){m, nm, kind, obj, owned};
    return true;
}

static bool sig_type(char ch, wasm_valtype *t)
{
    switch (ch) {
    case 'i': *t = WASM_I32; return true;
    case 'I': *t = WASM_I64; return true;
    case 'f': *t = WASM_F32; return true;
    case 'F': *t = WASM_F64; return true;
    case 'r': *t = WASM_FUNCREF; return true;
    case 'x': *t = WASM_EXTERNREF; return true;
    default: return false;
    }
}

bool wasm_imports_add_func(wasm_imports *imp, const char *module, const char *name, const char *sig,
                           wasm_host_fn fn, void *user)
{
    if (!sig || !fn) return false;
    wasm_func *f = calloc(1, sizeof *f);
    if (!f) return false;
    const char *gt = strchr(sig, '>');
    size_t np = gt ? (size_t)(gt - sig) : 0, nr = gt ? strlen(gt + 1) : 0;
    bool ok = gt && np <= WASM_MAX_HOST_ARITY && nr <= WASM_MAX_HOST_ARITY;
    for (size_t i = 0; ok && i < np; i++) ok = sig_type(sig[i], &f->sig[i]);
    for (size_t i = 0; ok && i < nr; i++) ok = sig_type(gt[1 + i], &f->sig[WASM_MAX_HOST_ARITY + i]);
    if (!ok) { free(f); return false; }
    f->own_type = (wasm_functype){(uint32_t)np, (uint32_t)nr, f->sig, f->sig + WASM_MAX_HOST_ARITY};
    f->type = &f->own_type;
    f->host = fn;
    f->user = user;
    if (!add_entry(imp, module, name, WASM_EXTERN_FUNC, f, true)) { free(f); return false; }
    return true;
}

bool wasm_imports_add_memory(wasm_imports *imp, const char *module, const char *name, wasm_memory *mem)
{
    return add_entry(imp, module, name, WASM_EXTERN_MEMORY, mem, false);
}
bool wasm_imports_add_table(wasm_imports *imp, const char *module, const char *name, wasm_table *tab)
{
    return add_entry(imp, module, name, WASM_EXTERN_TABLE, tab, false);
}
bool wasm_imports_add_global(wasm_imports *imp, const char *module, const char *name, wasm_global *g)
{
    return add_entry(imp, module, name, WASM_EXTERN_GLOBAL, g, false);
}
bool wasm_imports_add_wasm_func(wasm_imports *imp, const char *module, const char *name, wasm_func *f)
{
    return add_entry(imp, module, name, WASM_EXTERN_FUNC, f, false);
}

static void *export_obj(wasm_instance *inst, const wasm_export_decl *e)
{
    switch (e->kind) {
    case WASM_EXTERN_FUNC: return inst->funcs[e->idx];
    case WASM_EXTERN_TABLE: return inst->tables[e->idx];
    case WASM_EXTERN_MEMORY: return inst->mems[e->idx];
    default: return inst->globals[e->idx];
    }
}

bool wasm_imports_add_instance(wasm_imports *imp, const char *module, wasm_instance *inst)
{
    for (uint32_t i = 0; i < inst->mod->nexports; i++) {
        const wasm_export_decl *e = &inst->mod->exports[i];
        if (!add_entry(imp, module, e->name, e->kind, export_obj(inst, e), false)) return false;
    }
    return true;
}

/* ---- linking ---- */

static bool limits_match(uint32_t size, bool has_max, uint32_t max, const wasm_limits_decl *want)
{
    if (size < want->min) return false;
    if (want->has_max && (!has_max || max > want->max)) return false;
    return true;
}

static bool link_import(wasm_instance *inst, const wasm_import_decl *im, const wasm_imports *imp,
                        uint32_t *counts, wasm_error *err)
{
    const import_entry *e = NULL;
    for (size_t i = imp ? imp->n : 0; i-- > 0;) {
        if (!strcmp(imp->v[i].module, im->module) && !strcmp(imp->v[i].name, im->name)) {
            e = &imp->v[i];
            break;
        }
    }
    if (!e) {
        wasm_set_error(err, WASM_ERR_LINK, "unknown import: import not found: %s.%s", im->module, im->name);
        return false;
    }
    bool ok = e->kind == im->kind;
    if (ok) {
        switch (im->kind) {
        case WASM_EXTERN_FUNC: {
            wasm_func *f = e->obj;
            ok = wasm_functype_eq(f->type, &inst->mod->types[im->type]);
            if (ok) inst->funcs[counts[0]++] = f;
            break;
        }
        case WASM_EXTERN_TABLE: {
            wasm_table *t = e->obj;
            ok = t->elem == im->vt && limits_match(t->size, t->has_max, t->decl_max, &im->lim);
            if (ok) inst->tables[counts[1]++] = t;
            break;
        }
        case WASM_EXTERN_MEMORY: {
            wasm_memory *m = e->obj;
            ok = limits_match(m->pages, m->has_max, m->decl_max, &im->lim);
            if (ok) inst->mems[counts[2]++] = m;
            break;
        }
        case WASM_EXTERN_GLOBAL: {
            wasm_global *g = e->obj;
            ok = g->type == im->vt && g->mut == im->mut;
            if (ok) inst->globals[counts[3]++] = g;
            break;
        }
        }
    }
    if (!ok) wasm_set_error(err, WASM_ERR_LINK, "incompatible import type: %s.%s", im->module, im->name);
    return ok;
}

static wasm_slot eval_const(const wasm_instance *inst, const wasm_const *c)
{
    switch (c->op) {
    case 0x23: return inst->globals[c->idx]->val;
    case 0xd2: return (wasm_slot){.ptr = inst->funcs[c->idx]};
    case 0xd0: return (wasm_slot){.u64 = 0};
    default: return c->value;
    }
}

/* ---- creation ---- */

static uint32_t cap_max(const wasm_limits_decl *l, uint32_t cap)
{
    return l->has_max && l->max < cap ? l->max : cap;
}

static bool init_memory(wasm_memory *m, uint32_t pages, uint32_t max, bool has_max, uint32_t decl_max)
{
    m->pages = pages;
    m->max = max;
    m->has_max = has_max;
    m->decl_max = decl_max;
    m->size = (uint64_t)pages * WASM_PAGE;
    m->data = calloc(m->size ? m->size : 1, 1);
    return m->data != NULL;
}

static bool init_table(wasm_table *t, wasm_valtype elem, uint32_t size, uint32_t max, bool has_max,
                       uint32_t decl_max)
{
    t->elem = elem;
    t->size = size;
    t->max = max;
    t->has_max = has_max;
    t->decl_max = decl_max;
    t->elems = calloc(size ? size : 1, sizeof(void *));
    return t->elems != NULL;
}

static bool define_objects(wasm_instance *inst, wasm_error *err)
{
    const wasm_module *m = inst->mod;
    const wasm_limits *lim = &inst->limits;
    for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++) {
        wasm_func *f = &inst->own_funcs[i - m->nimported_funcs];
        const wasm_code *code = &m->codes[i - m->nimported_funcs];
        f->type = &m->types[code->type];
        f->inst = inst;
        f->code = code;
        f->ir = m->ir + code->entry;
        inst->funcs[i] = f;
    }
    for (uint32_t i = m->nimported_tables; i < m->ntables; i++) {
        const wasm_table_decl *d = &m->tables[i];
        wasm_table *t = &inst->own_tables[i - m->nimported_tables];
        inst->tables[i] = t;
        if (d->lim.min > lim->max_table_size) {
            wasm_set_error(err, WASM_ERR_NOMEM, "table of %u elements exceeds the limit %u", d->lim.min, lim->max_table_size);
            return false;
        }
        if (!init_table(t, d->elem, d->lim.min, cap_max(&d->lim, lim->max_table_size), d->lim.has_max, d->lim.max))
            goto nomem;
    }
    for (uint32_t i = m->nimported_mems; i < m->nmems; i++) {
        const wasm_limits_decl *d = &m->mems[i];
        wasm_memory *mem = &inst->own_mems[i - m->nimported_mems];
        inst->mems[i] = mem;
        if (d->min > lim->max_memory_pages) {
            wasm_set_error(err, WASM_ERR_NOMEM, "memory of %u pages exceeds the limit %u", d->min, lim->max_memory_pages);
            return false;
        }
        if (!init_memory(mem, d->min, cap_max(d, lim->max_memory_pages), d->has_max, d->max)) goto nomem;
    }
    for (uint32_t i = m->nimported_globals; i < m->nglobals; i++) {
        wasm_global *g = &inst->own_globals[i - m->nimported_globals];
        g->type = m->globals[i].type;
        g->mut = m->globals[i].mut;
        g->val = eval_const(inst, &m->globals[i].init);
        inst->globals[i] = g;
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wasm_elem_decl *e = &m->elems[i];
        inst->elem_items[i] = calloc(e->count ? e->count : 1, sizeof(void *));
        if (!inst->elem_items[i]) goto nomem;
        for (uint32_t k = 0; k < e->count; k++) inst->elem_items[i][k] = eval_const(inst, &e->items[k]).ptr;
        inst->elem_len[i] = e->mode == WASM_SEG_PASSIVE ? e->count : 0;
    }
    inst->mem0 = m->nmems ? inst->mems[0] : NULL;
    return true;
nomem:
    wasm_set_error(err, WASM_ERR_NOMEM, "out of memory");
    return false;
}

/* Active segments, then the start function. A trap fails instantiation. */
static bool initialize(wasm_instance *inst, wasm_error *err)
{
    const wasm_module *m = inst->mod;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wasm_elem_decl *e = &m->elems[i];
        if (e->mode != WASM_SEG_ACTIVE) continue;
        uint32_t off = eval_const(inst, &e->offset).u32;
        wasm_table *t = inst->tables[e->table];
        if ((uint64_t)off + e->count > t->size) {
            wasm_set_error(err, WASM_TRAP_TABLE_OOB, "out of bounds table access");
            return false;
        }
        if (e->count) memcpy(t->elems + off, inst->elem_items[i], e->count * sizeof(void *));
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wasm_data_decl *d = &m->datas[i];
        if (d->mode != WASM_SEG_ACTIVE) continue;
        uint32_t off = eval_const(inst, &d->offset).u32;
        wasm_memory *mem = inst->mems[d->mem];
        if ((uint64_t)off + d->len > mem->size) {
            wasm_set_error(err, WASM_TRAP_MEMORY_OOB, "out of bounds memory access");
            return false;
        }
        if (d->len) memcpy(mem->data + off, d->bytes, d->len);
        inst->data_dropped[i] = 1;
    }
    if (m->start >= 0) {
        wasm_status st = wasm_call(inst, inst->funcs[m->start], NULL, 0, NULL, 0, err);
        if (st != WASM_OK) return false;
    }
    return true;
}

wasm_instance *wasm_instance_new(const wasm_module *m, const wasm_imports *imp, const wasm_limits *limits,
                                 wasm_error *err)
{
    wasm_instance *inst = calloc(1, sizeof *inst);
    if (!inst) { wasm_set_error(err, WASM_ERR_NOMEM, "out of memory"); return NULL; }
    inst->mod = m;
    if (limits) inst->limits = *limits;
    wasm_limits *l = &inst->limits;
    if (!l->max_memory_pages || l->max_memory_pages > WASM_MAX_PAGES) l->max_memory_pages = WASM_MAX_PAGES;
    if (!l->max_table_size) l->max_table_size = 1u << 20;
    if (!l->max_call_depth) l->max_call_depth = 10000;
    if (!l->stack_slots) l->stack_slots = 1u << 20;
    if (l->stack_slots < 64) l->stack_slots = 64;
    inst->stack_slots = l->stack_slots;
    inst->timeout_ns = l->timeout_ns;   /* bounds the start function too */
    uint32_t nown_f = m->nfuncs - m->nimported_funcs, nown_t = m->ntables - m->nimported_tables;
    uint32_t nown_m = m->nmems - m->nimported_mems, nown_g = m->nglobals - m->nimported_globals;
    inst->funcs = calloc(m->nfuncs + 1, sizeof(void *));
    inst->own_funcs = calloc(nown_f + 1, sizeof(wasm_func));
    inst->tables = calloc(m->ntables + 1, sizeof(void *));
    inst->own_tables = calloc(nown_t + 1, sizeof(wasm_table));
    inst->mems = calloc(m->nmems + 1, sizeof(void *));
    inst->own_mems = calloc(nown_m + 1, sizeof(wasm_memory));
    inst->globals = calloc(m->nglobals + 1, sizeof(void *));
    inst->own_globals = calloc(nown_g + 1, sizeof(wasm_global));
    inst->elem_items = calloc(m->nelems + 1, sizeof(void **));
    inst->elem_len = calloc(m->nelems + 1, sizeof(uint32_t));
    inst->data_dropped = calloc(m->ndatas + 1, 1);
    inst->stack = calloc(inst->stack_slots, sizeof(wasm_slot));
    inst->frames = calloc((size_t)l->max_call_depth + 2, sizeof(wasm_frame));
    if (!inst->funcs || !inst->own_funcs || !inst->tables || !inst->own_tables || !inst->mems ||
        !inst->own_mems || !inst->globals || !inst->own_globals || !inst->elem_items ||
        !inst->elem_len || !inst->data_dropped || !inst->stack || !inst->frames) {
        wasm_set_error(err, WASM_ERR_NOMEM, "out of memory");
        wasm_instance_free(inst);
        return NULL;
    }
    uint32_t counts[4] = {0, 0, 0, 0};
    for (uint32_t i = 0; i < m->nimports; i++) {
        if (!link_import(inst, &m->imports[i], imp, counts, err)) {
            wasm_instance_free(inst);
            return NULL;
        }
    }
    if (m->aot && aot_instance_linkable(inst)) {   /* compiled: the generated code defines and initializes */
        if (aot_instance_finish(inst, err)) return inst;
        wasm_instance_free(inst);
        return NULL;
    }
    if (!define_objects(inst, err)) {
        wasm_instance_free(inst);
        return NULL;
    }
    if (!initialize(inst, err)) {
        /* Writes done before the trap persist (spec): an imported table may
         * now hold our functions, so the table keeps us until it is freed. */
        if (m->nimported_tables) {
            wasm_table *t = inst->tables[0];
            inst->next_orphan = t->orphans;
            t->orphans = inst;
        } else {
            wasm_instance_free(inst);
        }
        return NULL;
    }
    if (err) { err->status = WASM_OK; err->message[0] = 0; }
    return inst;
}

static void free_orphans(wasm_table *t)
{
    while (t->orphans) {
        wasm_instance *o = t->orphans;
        t->orphans = o->next_orphan;
        wasm_instance_free(o);
    }
}

void wasm_instance_free(wasm_instance *inst)
{
    if (!inst) return;
    aot_instance_release(inst);
    const wasm_module *m = inst->mod;
    if (inst->own_tables)
        for (uint32_t i = 0; i < m->ntables - m->nimported_tables; i++) free_orphans(&inst->own_tables[i]);
    if (inst->own_mems)
        for (uint32_t i = 0; i < m->nmems - m->nimported_mems; i++) free(inst->own_mems[i].data);
    if (inst->own_tables)
        for (uint32_t i = 0; i < m->ntables - m->nimported_tables; i++) free(inst->own_tables[i].elems);
    if (inst->elem_items)
        for (uint32_t i = 0; i < m->nelems; i++) free(inst->elem_items[i]);
    free(inst->funcs); free(inst->own_funcs); free(inst->tables); free(inst->own_tables);
    free(inst->mems); free(inst->own_mems); free(inst->globals); free(inst->own_globals);
    free(inst->elem_items); free(inst->elem_len); free(inst->data_dropped);
    free(inst->stack); free(inst->frames);
    free(inst);
}

static const wasm_export_decl *find_export_len(const wasm_instance *inst, const char *name, size_t len,
                                               wasm_extern_kind kind)
{
    for (uint32_t i = 0; i < inst->mod->nexports; i++) {
        const wasm_export_decl *e = &inst->mod->exports[i];
        if (e->kind == kind && e->name_len == len && !memcmp(e->name, name, len)) return e;
    }
    return NULL;
}

static const wasm_export_decl *find_export(const wasm_instance *inst, const char *name, wasm_extern_kind kind)
{
    return find_export_len(inst, name, strlen(name), kind);
}

wasm_func *wasm_instance_func_len(wasm_instance *inst, const char *name, size_t len)
{
    const wasm_export_decl *e = find_export_len(inst, name, len, WASM_EXTERN_FUNC);
    return e ? inst->funcs[e->idx] : NULL;
}

wasm_func *wasm_instance_func(wasm_instance *inst, const char *name)
{
    const wasm_export_decl *e = find_export(inst, name, WASM_EXTERN_FUNC);
    return e ? inst->funcs[e->idx] : NULL;
}
wasm_memory *wasm_instance_export_memory(wasm_instance *inst, const char *name)
{
    const wasm_export_decl *e = find_export(inst, name, WASM_EXTERN_MEMORY);
    return e ? inst->mems[e->idx] : NULL;
}
wasm_table *wasm_instance_export_table(wasm_instance *inst, const char *name)
{
    const wasm_export_decl *e = find_export(inst, name, WASM_EXTERN_TABLE);
    return e ? inst->tables[e->idx] : NULL;
}
wasm_global *wasm_instance_export_global(wasm_instance *inst, const char *name)
{
    const wasm_export_decl *e = find_export(inst, name, WASM_EXTERN_GLOBAL);
    return e ? inst->globals[e->idx] : NULL;
}

/* Host-created objects: owned by the caller. */
wasm_memory *wasm_memory_new(uint32_t min_pages, uint32_t max_pages)
{
    bool has_max = max_pages != UINT32_MAX;
    if (min_pages > WASM_MAX_PAGES || (has_max && max_pages < min_pages)) return NULL;
    wasm_memory *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    uint32_t cap = has_max && max_pages < WASM_MAX_PAGES ? max_pages : WASM_MAX_PAGES;
    if (!init_memory(m, min_pages, cap, has_max, max_pages)) { free(m); return NULL; }
    return m;
}

void wasm_memory_free(wasm_memory *mem)
{
    if (!mem) return;
    free(mem->data);
    free(mem);
}

wasm_table *wasm_table_new(wasm_valtype elem, uint32_t min, uint32_t max)
{
    bool has_max = max != UINT32_MAX;
    if ((elem != WASM_FUNCREF && elem != WASM_EXTERNREF) || (has_max && max < min) || min > (1u << 24))
        return NULL;
    wasm_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (!init_table(t, elem, min, has_max ? max : (1u << 24), has_max, max)) { free(t); return NULL; }
    return t;
}

void wasm_table_free(wasm_table *t)
{
    if (!t) return;
    free_orphans(t);
    free(t->elems);
    free(t);
}

wasm_global *wasm_global_new(wasm_val init, bool mutable_)
{
    if (!wasm_valtype_ok(init.type)) return NULL;
    wasm_global *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->type = init.type;
    g->mut = mutable_;
    g->val = wasm_val_to_slot(init);
    return g;
}

void wasm_global_free(wasm_global *g) { free(g); }
