/*
 * src/wasm/api.c - the public API around calls, values, memories, globals and
 * tables, and the wording of traps.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/internal.h"

const char *wasm_status_name(wasm_status s)
{
    switch (s) {
    case WASM_OK: return "ok";
    case WASM_TRAP_UNREACHABLE: return "unreachable";
    case WASM_TRAP_MEMORY_OOB: return "out of bounds memory access";
    case WASM_TRAP_TABLE_OOB: return "out of bounds table access";
    case WASM_TRAP_UNDEFINED_ELEMENT: return "undefined element";
    case WASM_TRAP_UNINITIALIZED_ELEMENT: return "uninitialized element";
    case WASM_TRAP_DIV_ZERO: return "integer divide by zero";
    case WASM_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_TRAP_INDIRECT_MISMATCH: return "indirect call type mismatch";
    case WASM_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case WASM_TRAP_DEADLINE: return "deadline exceeded";
    case WASM_TRAP_INTERRUPTED: return "interrupted";
    case WASM_TRAP_HOST: return "host error";
    case WASM_TRAP_EXIT: return "exit";
    case WASM_ERR_MALFORMED: return "malformed module";
    case WASM_ERR_INVALID: return "invalid module";
    case WASM_ERR_UNSUPPORTED: return "unsupported feature";
    case WASM_ERR_LINK: return "link error";
    case WASM_ERR_ARGS: return "bad arguments";
    case WASM_ERR_NOMEM: return "out of memory";
    }
    return "unknown";
}

wasm_status wasm_trap(wasm_instance *inst, wasm_status kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inst->msg, sizeof inst->msg, fmt, ap);
    va_end(ap);
    return kind;
}

wasm_status wasm_host_trap(wasm_instance *caller, wasm_status kind, int exit_code, const char *fmt, ...)
{
    if (!wasm_status_is_trap(kind)) kind = WASM_TRAP_HOST;
    if (caller) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(caller->msg, sizeof caller->msg, fmt, ap);
        va_end(ap);
        caller->exit_code = exit_code;
    }
    return kind;
}

wasm_slot wasm_val_to_slot(wasm_val v)
{
    wasm_slot s = {.u64 = 0};
    switch (v.type) {
    case WASM_I32: s.u32 = (uint32_t)v.of.i32; break;
    case WASM_I64: s.i64 = v.of.i64; break;
    case WASM_F32: s.f32 = v.of.f32; break;
    case WASM_F64: s.f64 = v.of.f64; break;
    default: s.ptr = v.of.ref; break;
    }
    return s;
}

wasm_val wasm_slot_to_val(wasm_slot s, wasm_valtype t)
{
    wasm_val v;
    v.type = t;
    v.of.i64 = 0;
    switch (t) {
    case WASM_I32: v.of.i32 = s.i32; break;
    case WASM_I64: v.of.i64 = s.i64; break;
    case WASM_F32: v.of.f32 = s.f32; break;
    case WASM_F64: v.of.f64 = s.f64; break;
    default: v.of.ref = s.ptr; break;
    }
    return v;
}

wasm_status wasm_call(wasm_instance *inst, wasm_func *f, const wasm_val *args, uint32_t nargs,
                      wasm_val *results, uint32_t nresults, wasm_error *err)
{
    if (!inst || !f) {
        wasm_set_error(err, WASM_ERR_ARGS, "no instance or function");
        return WASM_ERR_ARGS;
    }
    const wasm_functype *t = f->type;
    if (nargs != t->nparams || nresults != t->nresults) {
        wasm_set_error(err, WASM_ERR_ARGS, "function takes %u arguments and returns %u results", t->nparams, t->nresults);
        return WASM_ERR_ARGS;
    }
    for (uint32_t i = 0; i < nargs; i++) {
        if (args[i].type != t->params[i]) {
            wasm_set_error(err, WASM_ERR_ARGS, "argument %u has the wrong type", i);
            return WASM_ERR_ARGS;
        }
    }
    size_t base = inst->stack_used;
    size_t need = (nargs > nresults ? nargs : nresults) + 1;
    if (base + need > inst->stack_slots) {
        wasm_set_error(err, WASM_TRAP_STACK_EXHAUSTED, "call stack exhausted");
        return WASM_TRAP_STACK_EXHAUSTED;
    }
    wasm_slot *slots = inst->stack + base;
    for (uint32_t i = 0; i < nargs; i++) slots[i] = wasm_val_to_slot(args[i]);
    bool top = inst->depth == 0;
    if (top) {
        inst->deadline_ns = inst->timeout_ns ? wasm_now_ns() + inst->timeout_ns : 0;
        inst->fuel = 1;   /* check a pending interrupt before anything runs */
    }
    inst->msg[0] = 0;
    inst->exit_code = 0;
    wasm_status st = wasm_interp_call(inst, f, slots);
    if (st != WASM_OK) {
        if (err) {
            err->status = st;
            err->exit_code = inst->exit_code;
            snprintf(err->message, sizeof err->message, "%s", inst->msg[0] ? inst->msg : wasm_status_name(st));
        }
        return st;
    }
    for (uint32_t i = 0; i < nresults; i++) results[i] = wasm_slot_to_val(slots[i], t->results[i]);
    if (err) { err->status = WASM_OK; err->message[0] = 0; }
    return WASM_OK;
}

const wasm_functype *wasm_func_type(const wasm_func *f) { return f->type; }
const wasm_module *wasm_instance_module(const wasm_instance *inst) { return inst->mod; }
wasm_memory *wasm_instance_memory(wasm_instance *inst) { return inst->mem0; }
void wasm_instance_set_user(wasm_instance *inst, void *user) { inst->user = user; }
void *wasm_instance_user(const wasm_instance *inst) { return inst->user; }
void wasm_instance_set_timeout_ns(wasm_instance *inst, uint64_t ns) { inst->timeout_ns = ns; }
void wasm_instance_interrupt(wasm_instance *inst) { atomic_store(&inst->interrupt, 1); }

/* ---- memories ---- */

int64_t wasm_memory_grow_impl(wasm_memory *mem, uint32_t delta)
{
    if (mem->aot) return aot_memory_grow(mem, delta);   /* guard-page reservation */
    uint32_t old = mem->pages;
    uint64_t pages = (uint64_t)old + delta;
    if (pages > mem->max) return -1;
    if (delta == 0) return old;
    uint64_t size = pages * WASM_PAGE;
    uint8_t *p = realloc(mem->data, size);
    if (!p) return -1;
    memset(p + mem->size, 0, size - mem->size);
    mem->data = p;
    mem->size = size;
    mem->pages = (uint32_t)pages;
    return old;
}

uint8_t *wasm_memory_data(wasm_memory *mem) { return mem->data; }
uint64_t wasm_memory_size(const wasm_memory *mem) { return mem->size; }
uint32_t wasm_memory_pages(const wasm_memory *mem) { return mem->pages; }
int64_t wasm_memory_grow(wasm_memory *mem, uint32_t delta) { return wasm_memory_grow_impl(mem, delta); }

uint8_t *wasm_memory_ptr(wasm_memory *mem, uint64_t offset, uint64_t len)
{
    if (!mem || offset > mem->size || len > mem->size - offset) return NULL;
    return mem->data + offset;
}

bool wasm_memory_read(const wasm_memory *mem, uint64_t offset, void *dst, size_t len)
{
    if (!mem || offset > mem->size || len > mem->size - offset) return false;
    if (len) memcpy(dst, mem->data + offset, len);
    return true;
}

bool wasm_memory_write(wasm_memory *mem, uint64_t offset, const void *src, size_t len)
{
    if (!mem || offset > mem->size || len > mem->size - offset) return false;
    if (len) memcpy(mem->data + offset, src, len);
    return true;
}

/* ---- globals ---- */

wasm_val wasm_global_get(const wasm_global *g) { return wasm_slot_to_val(g->val, g->type); }
wasm_valtype wasm_global_type(const wasm_global *g) { return g->type; }
bool wasm_global_mutable(const wasm_global *g) { return g->mut; }

bool wasm_global_set(wasm_global *g, wasm_val v)
{
    if (!g->mut || v.type != g->type) return false;
    g->val = wasm_val_to_slot(v);
    return true;
}

/* ---- tables ---- */

int64_t wasm_table_grow_impl(wasm_table *t, uint32_t delta, void *init)
{
    uint32_t old = t->size;
    uint64_t size = (uint64_t)old + delta;
    if (size > t->max) return -1;
    if (delta == 0) return old;
    void **p = realloc(t->elems, size * sizeof(void *));
    if (!p) return -1;
    for (uint64_t i = old; i < size; i++) p[i] = init;
    t->elems = p;
    t->size = (uint32_t)size;
    return old;
}

uint32_t wasm_table_size(const wasm_table *t) { return t->size; }

bool wasm_table_get(const wasm_table *t, uint32_t i, wasm_val *out)
{
    if (i >= t->size) return false;
    out->type = t->elem;
    out->of.ref = t->elems[i];
    return true;
}

bool wasm_table_set(wasm_table *t, uint32_t i, wasm_val v)
{
    if (i >= t->size || v.type != t->elem) return false;
    t->elems[i] = v.of.ref;
    return true;
}
