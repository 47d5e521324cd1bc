/*
 * src/wasm/compile_int.h - what compile.c (validation + IR emission) and
 * fuse.c (superinstructions) share: the compiler's state and the emitters.
 * Internal to the engine.
 */
#ifndef SLUICE_WASM_COMPILE_INT_H
#define SLUICE_WASM_COMPILE_INT_H

#include <stdlib.h>
#include <string.h>

#include "wasm/internal.h"
#include "wasm/ops.h"

enum { K_BLOCK, K_LOOP, K_IF, K_ELSE, K_FUNC };

typedef struct ctrl {
    uint8_t kind;
    bool unreachable;         /* stack polymorphic after br/return/unreachable */
    bool dead;                /* the whole frame is unreachable code: emit nothing */
    uint32_t nparams, nresults;
    const wasm_valtype *params, *results;
    uint32_t height;          /* operand stack height at entry, params excluded */
    size_t start;             /* loop: cell index branches jump to */
    size_t chain;             /* forward branches to patch at end: cell index + 1 */
    size_t else_cell;         /* if: the BR_UNLESS target cell */
} ctrl;

/* An inlined callee's parameter: a frame slot, or a constant argument. */
typedef struct wasm_inline_param { uint64_t v; bool is_const; } wasm_inline_param;

typedef struct compiler {
    wasm_module *m;
    wasm_reader *r;
    const void *const *labels;
    wasm_valtype *locals; uint32_t nlocals;
    wasm_valtype *vals; uint32_t nvals, vcap;
    ctrl *ctrls; uint32_t nctrl, ccap;
    uint32_t max_height;
    wasm_valtype *scratch; uint32_t scap;   /* br_table operand types */
    /* the last emitted instructions (H(c, 1) the last, H(c, 0) the one
     * before), for superinstructions; emptied at every branch target so
     * that nothing is fused across one; a fusion pops what it replaces */
    struct { int op; size_t pos; } hist[4];
    int nhist;
    /* inlining (inline.c): while a callee's body is compiled into this
     * function, its local i is frame slot inl_map[i] (type inl_types[i]);
     * `hidden` operand-stack values are validated but were never pushed at
     * run time (arguments read from the caller's locals) */
    const struct wasm_inline_param *inl_map; const wasm_valtype *inl_types; uint32_t inl_n;
    uint32_t hidden;
    int inl_depth;
    size_t inl_budget;        /* body bytes still allowed to be inlined */
    bool ret_inexact;         /* a `return` with extra values below the results */
    /* LOCAL_COPY_JMP cells, for jump threading once every target is known */
    size_t *copy_jmps; uint32_t ncopy_jmps, cjcap;
} compiler;

/* ---- emitting IR (the emitters do nothing in unreachable code) ---- */

static inline ctrl *top(compiler *c) { return &c->ctrls[c->nctrl - 1]; }

#define H(c, k) ((c)->hist[(c)->nhist - 2 + (k)])

static inline bool dead(compiler *c) { return top(c)->unreachable || top(c)->dead; }

static inline size_t emit_cell(compiler *c, wasm_cell v)
{
    wasm_module *m = c->m;
    if (m->ir_len == m->ir_cap) {
        size_t n = m->ir_cap ? m->ir_cap * 2 : 1024;
        wasm_cell *p = realloc(m->ir, n * sizeof *p);
        if (!p) wasm_fail(c->r, WASM_ERR_NOMEM, "out of memory");
        m->ir = p;
        m->ir_cap = n;
    }
    m->ir[m->ir_len] = v;
    return m->ir_len++;
}

static inline void emit_op(compiler *c, int op)
{
    if (dead(c)) return;
    if (op != OP_LOCAL_GET && op != OP_CONST && c->nhist >= 2 &&
        H(c, 0).op == OP_LOCAL_GET && H(c, 1).op == OP_LOCAL_GET) {
        /* the operator about to follow declined to fuse them (and later
         * fusions only look at what follows it): local.get x; local.get y
         * -> LOCAL_GET2 {x, y} */
        wasm_cell *ir = c->m->ir;
        size_t p = H(c, 0).pos;
        uint32_t x = (uint32_t)ir[p + 1].u64, y = (uint32_t)ir[H(c, 1).pos + 1].u64;
        ir[p].op = c->labels[OP_LOCAL_GET2];
        ir[p + 1] = (wasm_cell){.p = {x, y}};
        c->m->ir_len = p + 2;
        c->nhist--;
        H(c, 1).op = OP_LOCAL_GET2;
    }
    size_t pos = emit_cell(c, (wasm_cell){.op = c->labels[op]});
    if (c->nhist == 4) { memmove(c->hist, c->hist + 1, 3 * sizeof c->hist[0]); c->nhist = 3; }
    c->hist[c->nhist].op = op;
    c->hist[c->nhist].pos = pos;
    c->nhist++;
}

static inline void emit_u64(compiler *c, uint64_t v)
{
    if (!dead(c)) emit_cell(c, (wasm_cell){.u64 = v});
}

static inline void emit_pair(compiler *c, uint32_t a, uint32_t b)
{
    if (!dead(c)) emit_cell(c, (wasm_cell){.p = {a, b}});
}

/* ---- superinstructions (fuse.c): each looks at the last emitted
 * instructions and, when they and the operator about to be emitted form a
 * fused instruction, rewrites them and returns true (the caller emits
 * nothing more); false leaves the IR alone. ---- */

bool wasm_fuse_binary(compiler *c, int op);                 /* local/const operands into a binary op */
bool wasm_fuse_branch(compiler *c, bool on_zero);           /* a fused compare into br_if */
bool wasm_fuse_set(compiler *c, uint32_t local, bool tee);  /* local.set/tee into the last op */
bool wasm_fuse_load(compiler *c, int load_op, uint32_t off);   /* the address from a local or an add */
bool wasm_fuse_store(compiler *c, int store_op, uint32_t off); /* address and value from locals */
bool wasm_fuse_global_set(compiler *c, uint32_t g);        /* the stack pointer's update */
bool wasm_fuse_return(compiler *c);                         /* the last op into a return */
bool wasm_fuse_extend(compiler *c, int op);                 /* shl k; shr_s k -> sign extension */
void wasm_fuse_loop(compiler *c, size_t start);             /* a whole loop at its end */

/* compile.c, for inline.c */
void wasm_compile_instruction(compiler *c, uint8_t code);
void wasm_compile_pop_types(compiler *c, const wasm_valtype *t, uint32_t n);
void wasm_compile_push_types(compiler *c, const wasm_valtype *t, uint32_t n);
/* Compiles `call fi` as fi's body when fi is inlinable; false: not done. */
bool wasm_inline_call(compiler *c, uint32_t fi);

#endif
