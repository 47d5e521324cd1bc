/*
 * src/wasm/inline.c - inlining of tiny leaf functions at IR compile time.
 *
 * Compilers leave many one-line helpers as real calls (Rust's dlmalloc: "add
 * two words", "align up", "read the size field"...): in the example plugin
 * half of all calls go to functions of 2 to 8 instructions, each paying a
 * frame push, a return and the argument moves. A call to such a function
 * (a "candidate", below) is compiled as the callee's body inline:
 *
 *  - the callee's parameters become frame slots of the caller: an argument
 *    produced by a trailing `local.get x` or constant is not pushed at all
 *    (the parameter reads local x, or is that constant: the callee cannot
 *    write its parameters, and nothing runs between those instructions and
 *    the body); the other arguments stay where the call would have found
 *    them (operand-stack slots), and the body reads them there;
 *  - the body's own operands sit above, as they would in the callee;
 *  - its result (at most one) is moved down over the kept arguments: with
 *    one kept argument the move is usually fused into the body's last
 *    instruction (`op_SET slot`); with more, a BR to the next instruction
 *    moves it and cuts the stack.
 *
 * Candidates: no declared locals, at most one result and 8 parameters, at
 * most WASM_INLINE_MAX_OPS instructions among local.get, constants, numeric
 * operators, loads/stores, global.get, drop and direct calls, optionally a
 * final `return` (with exactly the results on the stack); no branches, so the
 * body can never observe that it was inlined (a trap is the same trap; only
 * the call depth differs). They are compiled (hence validated) before the
 * other functions; a call is inlined only into code compiled later, so a
 * body is always valid when it is copied, and recursion cannot expand.
 * Inlining nests two levels (trampolines) and is bounded per function by
 * its body size, so hostile modules cannot amplify their code.
 * tests/wasm/inline.wast holds the edge cases.
 */
#include "wasm/compile_int.h"

#define WASM_INLINE_MAX_OPS 16
#define WASM_INLINE_MAX_PARAMS 8
#define WASM_INLINE_DEPTH 2

/* Skips a LEB128 immediate without failing (the compiler validates it). */
static bool skip_leb(const uint8_t **p, const uint8_t *end)
{
    for (int i = 0; i < 10 && *p < end; i++)
        if (!(*(*p)++ & 0x80)) return true;
    return false;
}

/* A LEB128 u32 at *p (false: malformed or too long; the compiler reports it). */
static bool read_leb(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 5 && *p < end; i++) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) { *v = (uint32_t)x; return x <= UINT32_MAX; }
    }
    return false;
}

/* A trampoline: `local.get 0 .. n-1; call g; [local.set x; local.get x;]
 * [return;] end` where g has the same type. Calling it is calling g (its
 * locals cannot be observed), so calls go to g directly. Returns g + 1, or
 * 0. Rust's `__rust_alloc` is one, called for every allocation. */
uint32_t wasm_trampoline_target(const wasm_module *m, const wasm_code *code)
{
    const wasm_functype *ft = &m->types[code->type];
    const uint8_t *p = code->body, *end = p + code->body_len;
    uint32_t ngroups, n, g, x, y;
    if (!read_leb(&p, end, &ngroups) || ngroups > 4) return 0;
    for (uint32_t i = 0; i < ngroups; i++) {
        if (!read_leb(&p, end, &n) || p >= end) return 0;
        p++;
    }
    for (uint32_t j = 0; j < ft->nparams; j++)
        if (p >= end || *p++ != 0x20 || !read_leb(&p, end, &x) || x != j) return 0;
    if (p >= end || *p++ != 0x10 || !read_leb(&p, end, &g) || g >= m->nfuncs) return 0;
    if (end - p > 1 && *p == 0x21) {
        p++;
        if (!read_leb(&p, end, &x) || p >= end || *p++ != 0x20 || !read_leb(&p, end, &y) || x != y) return 0;
    }
    if (end - p > 1 && *p == 0x0f) p++;
    if (end - p != 1 || *p != 0x0b) return 0;
    if (!wasm_functype_eq(ft, &m->types[m->func_types[g]])) return 0;
    return g + 1;
}

bool wasm_inline_candidate(const wasm_module *m, const wasm_code *code)
{
    const wasm_functype *ft = &m->types[code->type];
    if (ft->nparams > WASM_INLINE_MAX_PARAMS || ft->nresults > 1) return false;
    const uint8_t *p = code->body, *end = p + code->body_len;
    if (p >= end || *p++ != 0) return false;      /* declared locals */
    for (unsigned nops = 0; p < end; nops++) {
        uint8_t op = *p++;
        if (op == 0x0b) return p == end && nops > 0;
        if (nops == WASM_INLINE_MAX_OPS) return false;
        bool ok = true;
        if (op == 0x20 || op == 0x23 || op == 0x10 || op == 0x41 || op == 0x42) ok = skip_leb(&p, end);
        else if (op == 0x43 || op == 0x44) { if (end - p < (op == 0x43 ? 4 : 8)) return false; p += op == 0x43 ? 4 : 8; }
        else if (op >= 0x28 && op <= 0x3e) ok = skip_leb(&p, end) && skip_leb(&p, end);
        else if (op == 0x0f) ok = end - p == 1;     /* only as the last instruction */
        else if (!(op == 0x1a || (op >= 0x45 && op <= 0xc4))) return false;
        if (!ok) return false;
    }
    return false;
}

/* The number of trailing local.get/const instructions that push the top `n`
 * values (LOCAL_GET2 counts two), at most n. */
static uint32_t trailing_gets(compiler *c, uint32_t n)
{
    uint32_t got = 0;
    for (int h = c->nhist; got < n && h > 0; h--) {
        int op = c->hist[h - 1].op;
        if (op == OP_LOCAL_GET || op == OP_CONST) got++;
        else if (op == OP_LOCAL_GET2 && n - got >= 2) got += 2;
        else break;
    }
    return got;
}

bool wasm_inline_call(compiler *c, uint32_t fi)
{
    wasm_module *m = c->m;
    if (dead(c) || fi < m->nimported_funcs || c->inl_depth >= WASM_INLINE_DEPTH) return false;
    const wasm_code *g = &m->codes[fi - m->nimported_funcs];
    if (!g->inlinable || c->inl_budget < g->body_len) return false;
    const wasm_functype *ft = &m->types[m->func_types[fi]];
    uint32_t n = ft->nparams, fwd = trailing_gets(c, n), k = n - fwd;
    /* the arguments must have the parameters' types */
    wasm_compile_pop_types(c, ft->params, n);
    wasm_compile_push_types(c, ft->params, n);
    c->inl_budget -= g->body_len;

    /* the runtime slot of the first argument; the kept one stays there */
    wasm_inline_param map[WASM_INLINE_MAX_PARAMS];
    uint32_t rb = c->nlocals + c->nvals - c->hidden - n;
    for (uint32_t i = 0; i < k; i++) map[i] = (wasm_inline_param){rb + i, false};
    for (uint32_t i = n; i > k;) {
        wasm_cell imm = m->ir[H(c, 1).pos + 1];
        if (H(c, 1).op == OP_LOCAL_GET) map[--i] = (wasm_inline_param){imm.u64, false};
        else if (H(c, 1).op == OP_CONST) map[--i] = (wasm_inline_param){imm.u64, true};
        else { map[--i] = (wasm_inline_param){imm.p.b, false}; map[--i] = (wasm_inline_param){imm.p.a, false}; }
        m->ir_len = H(c, 1).pos;
        c->nhist--;
    }
    c->hidden += fwd;

    const wasm_inline_param *saved_map = c->inl_map;
    const wasm_valtype *saved_types = c->inl_types;
    uint32_t saved_n = c->inl_n;
    wasm_reader *saved_r = c->r;
    wasm_reader r = *c->r;
    r.p = g->body;
    r.end = g->body + g->body_len;
    c->r = &r;
    c->inl_map = map; c->inl_types = ft->params; c->inl_n = n;
    c->inl_depth++;
    wasm_read_u32(&r);          /* no local groups */
    for (;;) {
        uint8_t op = wasm_read_u8(&r);
        if (op == 0x0b && r.p == r.end) break;
        if (op == 0x0f && r.end - r.p == 1) continue;   /* final return: as end */
        wasm_compile_instruction(c, op);
    }
    c->inl_depth--;
    c->r = saved_r;
    c->inl_map = saved_map; c->inl_types = saved_types; c->inl_n = saved_n;
    c->hidden -= fwd;

    /* the result (runtime slot rb + k) goes where the call leaves it: rb */
    if (k == 1 && ft->nresults) {
        if (!wasm_fuse_set(c, rb, false)) { emit_op(c, OP_LOCAL_SET); emit_u64(c, rb); }
    } else if (k == 1) {
        emit_op(c, OP_DROP);
    } else if (k > 1) {
        /* a branch to the next instruction moves the result and cuts the stack */
        emit_op(c, OP_BR);
        emit_u64(c, 2);
        emit_pair(c, rb, ft->nresults);
    }
    wasm_compile_pop_types(c, ft->results, ft->nresults);
    wasm_compile_pop_types(c, ft->params, n);
    wasm_compile_push_types(c, ft->results, ft->nresults);
    return true;
}
