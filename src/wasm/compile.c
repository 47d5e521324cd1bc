/*
 * src/wasm/compile.c - validation of a function body fused with its
 * translation to the interpreter's IR (see ops.h).
 *
 * One pass over the body does the spec's type checking (operand stack of
 * value types, control stack of blocks, the polymorphic stack after
 * unconditional branches) and, because every stack height is then known
 * statically, emits branches with their final target, the height to cut the
 * stack to and the number of values to carry. Code after an unconditional
 * branch is validated but not emitted. Forward branches are chained through
 * their own target cells and patched when the block's `end` is reached.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/compile_int.h"

#define T_UNKNOWN 0    /* the polymorphic stack's "any type" */

/* ---- operand and control stacks (validation) ---- */

#define FAIL(c, ...) wasm_fail((c)->r, WASM_ERR_INVALID, __VA_ARGS__)

static void *grow_array(compiler *c, void *p, uint32_t *cap, size_t size)
{
    uint32_t n = *cap ? *cap * 2 : 64;
    void *q = realloc(p, (size_t)n * size);
    if (!q) wasm_fail(c->r, WASM_ERR_NOMEM, "out of memory");
    *cap = n;
    return q;
}

static void push(compiler *c, wasm_valtype t)
{
    if (c->nvals == c->vcap) c->vals = grow_array(c, c->vals, &c->vcap, 1);
    c->vals[c->nvals++] = t;
    if (c->nvals > c->max_height) c->max_height = c->nvals;
}


static wasm_valtype pop(compiler *c)
{
    ctrl *f = top(c);
    if (c->nvals == f->height) {
        if (f->unreachable) return T_UNKNOWN;
        FAIL(c, "type mismatch: operand stack underflow");
    }
    return c->vals[--c->nvals];
}

static wasm_valtype pop_expect(compiler *c, wasm_valtype want)
{
    wasm_valtype got = pop(c);
    if (got != want && got != T_UNKNOWN && want != T_UNKNOWN)
        FAIL(c, "type mismatch: expected 0x%02x, got 0x%02x", want, got);
    return got == T_UNKNOWN ? want : got;
}

static void pop_types(compiler *c, const wasm_valtype *t, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;) pop_expect(c, t[i]);
}

static void push_types(compiler *c, const wasm_valtype *t, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) push(c, t[i]);
}

void wasm_compile_pop_types(compiler *c, const wasm_valtype *t, uint32_t n) { pop_types(c, t, n); }
void wasm_compile_push_types(compiler *c, const wasm_valtype *t, uint32_t n) { push_types(c, t, n); }

static bool is_ref(wasm_valtype t) { return t == WASM_FUNCREF || t == WASM_EXTERNREF; }

static void push_ctrl(compiler *c, uint8_t kind, const wasm_functype *bt)
{
    if (c->nctrl == c->ccap) c->ctrls = grow_array(c, c->ctrls, &c->ccap, sizeof(ctrl));
    bool parent_dead = c->nctrl > 0 && (top(c)->dead || top(c)->unreachable);
    ctrl *f = &c->ctrls[c->nctrl++];
    memset(f, 0, sizeof *f);
    f->dead = parent_dead;
    f->kind = kind;
    f->nparams = bt->nparams; f->params = bt->params;
    f->nresults = bt->nresults; f->results = bt->results;
    f->height = c->nvals;
    push_types(c, bt->params, bt->nparams);
}

/* The values a branch to this frame carries. */
static uint32_t label_arity(const ctrl *f) { return f->kind == K_LOOP ? f->nparams : f->nresults; }
static const wasm_valtype *label_types(const ctrl *f) { return f->kind == K_LOOP ? f->params : f->results; }

static void set_unreachable(compiler *c)
{
    c->nvals = top(c)->height;
    top(c)->unreachable = true;
}

/* ---- emission ---- */





/* Removes the last emitted instruction if it is `op`; returns whether it was. */
static bool take_last(compiler *c, int op)
{
    if (dead(c) || c->nhist < 1 || H(c, 1).op != op) return false;
    c->m->ir_len = H(c, 1).pos;
    c->nhist -= 1;
    return true;
}



/* A target cell for frame f: loops are backward (known now), others are
 * chained for patching at `end`. */
static void emit_target(compiler *c, ctrl *f)
{
    if (dead(c)) return;
    size_t at = emit_cell(c, (wasm_cell){.i64 = 0});
    if (f->kind == K_LOOP) {
        c->m->ir[at].i64 = (int64_t)f->start - (int64_t)at;
    } else {
        c->m->ir[at].u64 = f->chain;
        f->chain = at + 1;
    }
}

static void patch_chain(compiler *c, size_t chain, size_t target)
{
    while (chain) {
        size_t at = chain - 1;
        chain = c->m->ir[at].u64;
        c->m->ir[at].i64 = (int64_t)target - (int64_t)at;
    }
}

static ctrl *label(compiler *c, uint32_t depth)
{
    if (depth >= c->nctrl) FAIL(c, "unknown label %u", depth);
    return &c->ctrls[c->nctrl - 1 - depth];
}


/* Remembers a LOCAL_COPY_JMP for thread_copy_jumps. */
static void note_copy_jmp(compiler *c, size_t pos)
{
    if (c->ncopy_jmps == c->cjcap) {
        uint32_t n = c->cjcap ? 2 * c->cjcap : 16;
        size_t *p = realloc(c->copy_jmps, n * sizeof *p);
        if (!p) wasm_fail(c->r, WASM_ERR_NOMEM, "out of memory");
        c->copy_jmps = p;
        c->cjcap = n;
    }
    c->copy_jmps[c->ncopy_jmps++] = pos;
}

/* A copy y = x that jumps to a copy x = y (or y = x again) skips it: the
 * second copy changes nothing. Compilers emit this for a loop variable
 * (`i' = i + 1 ... i = i'; br` to a block end that starts `i' = i`, shared
 * with the other paths into that block's end). Then, when the jump lands on
 * I32_LT_U_LL_BRNZ (a loop's exit test), the copy takes that branch itself
 * (LOCAL_COPY_LT_U_LL_BR, in the two cells left after the target cell).
 * Run once the function is compiled, when every forward target is patched;
 * the target cell of a branch is always an instruction's first cell. Every
 * jump still goes through JUMP_AT, so a backward one still spends fuel. */
static void thread_copy_jumps(compiler *c)
{
    wasm_cell *ir = c->m->ir;
    for (uint32_t i = 0; i < c->ncopy_jmps; i++) {
        size_t at = c->copy_jmps[i];
        uint32_t x = ir[at + 1].p.a, y = ir[at + 1].p.b;
        wasm_cell *rel = &ir[at + 2];
        const wasm_cell *t = rel + rel->i64;
        if (t->op == c->labels[OP_LOCAL_COPY] &&
            ((t[1].p.a == y && t[1].p.b == x) || (t[1].p.a == x && t[1].p.b == y))) {
            rel->i64 += 2;
            t += 2;
        }
        if (t->op == c->labels[OP_I32_LT_U_LL_BRNZ]) {
            /* t: op {x,y} rel; taken: t + 2 + t[2].rel, not taken: t + 3 */
            const wasm_cell *taken = t + 2 + t[2].i64, *next = t + 3;
            ir[at].op = c->labels[OP_LOCAL_COPY_LT_U_LL_BR];
            ir[at + 2] = t[1];
            ir[at + 3].i64 = taken - &ir[at + 3];
            ir[at + 4].i64 = next - &ir[at + 4];
        }
    }
}

/* Branch code for `br depth` (cond: br_if) at the current stack height,
 * after the condition was popped. */
static void emit_branch(compiler *c, uint32_t depth, bool cond)
{
    if (dead(c)) return;
    ctrl *f = label(c, depth);
    uint32_t arity = label_arity(f);
    uint32_t height = c->nlocals + f->height;
    uint32_t cur = c->nlocals + c->nvals;
    if (f->kind == K_FUNC && !cond) {
        if (!wasm_fuse_return(c)) emit_op(c, OP_RETURN);
        emit_u64(c, arity);
        return;
    }
    if (cur == height + arity) {
        if (cond) {
            /* i32.eqz; br_if  ->  branch unless; then the operand's producer
             * may take the branch in (compare, local.get, some loads) */
            bool z = take_last(c, OP_I32_EQZ);
            if (!wasm_fuse_branch(c, z)) emit_op(c, z ? OP_BR_UNLESS : OP_BR_IF_JMP);
        } else if (c->nhist >= 1 && H(c, 1).op == OP_LOCAL_COPY) {
            /* local.get x; local.set y; br  ->  LOCAL_COPY_JMP {x, y} rel */
            c->m->ir[H(c, 1).pos].op = c->labels[OP_LOCAL_COPY_JMP];
            H(c, 1).op = OP_LOCAL_COPY_JMP;
            note_copy_jmp(c, H(c, 1).pos);
            emit_target(c, f);
            /* room for thread_copy_jumps to make it LOCAL_COPY_LT_U_LL_BR */
            emit_u64(c, 0);
            emit_u64(c, 0);
            return;
        } else {
            emit_op(c, OP_JMP);
        }
        emit_target(c, f);
    } else {
        emit_op(c, cond ? OP_BR_IF : OP_BR);
        emit_target(c, f);
        emit_pair(c, height, arity);
    }
}

/* ---- immediates ---- */

static wasm_functype block_type(compiler *c, wasm_valtype *one)
{
    wasm_functype bt = {0, 0, NULL, NULL};
    wasm_reader *r = c->r;
    if (r->p >= r->end) wasm_fail(r, WASM_ERR_MALFORMED, "unexpected end");
    uint8_t b = *r->p;
    if (b == 0x40) { r->p++; return bt; }
    if (b == WASM_V128) wasm_fail(r, WASM_ERR_UNSUPPORTED, "SIMD (v128) is not supported");
    if (wasm_valtype_ok(b)) {
        r->p++;
        *one = b;
        bt.nresults = 1;
        bt.results = one;
        return bt;
    }
    int64_t idx = wasm_read_s64(r);    /* s33 in the spec */
    if (idx < 0 || idx >= c->m->ntypes) FAIL(c, "unknown type %lld", (long long)idx);
    return c->m->types[idx];
}

static uint32_t memarg(compiler *c, unsigned natural_align)
{
    uint32_t align = wasm_read_u32(c->r);
    uint32_t offset = wasm_read_u32(c->r);
    if (align >= 32) wasm_fail(c->r, WASM_ERR_MALFORMED, "malformed memop flags");
    if (align > natural_align) FAIL(c, "alignment must not be larger than natural");
    if (c->m->nmems == 0) FAIL(c, "unknown memory 0");
    return offset;
}

static void need_memory(compiler *c, uint32_t idx)
{
    if (idx >= c->m->nmems) FAIL(c, "unknown memory %u", idx);
}

static wasm_valtype table_type(compiler *c, uint32_t idx)
{
    if (idx >= c->m->ntables) FAIL(c, "unknown table %u", idx);
    return c->m->tables[idx].elem;
}

static void zero_byte(compiler *c)
{
    if (wasm_read_u8(c->r) != 0) wasm_fail(c->r, WASM_ERR_MALFORMED, "zero byte expected");
}

static void need_datacount(compiler *c, uint32_t seg)
{
    if (!c->m->has_datacount) wasm_fail(c->r, WASM_ERR_MALFORMED, "data count section required");
    if (seg >= c->m->datacount) FAIL(c, "unknown data segment %u", seg);
}

static wasm_valtype letter_type(char t)
{
    switch (t) {
    case 'I': return WASM_I32;
    case 'L': return WASM_I64;
    case 'F': return WASM_F32;
    case 'D': return WASM_F64;
    default: return T_UNKNOWN;
    }
}

/* Type of a numeric instruction indexed by opcode (0x45..0xc4, 0x100..0x107). */
typedef struct numeric_info { int op; wasm_valtype a, b, r; } numeric_info;

static numeric_info table[0x108];
static pthread_once_t numeric_once = PTHREAD_ONCE_INIT;

static void numeric_init(void)
{
#define WASM_X_INFO(code_, name, a_, b_, r_) \
    table[code_] = (numeric_info){OP_##name, letter_type(#a_[0]), letter_type(#b_[0]), letter_type(#r_[0])};
    WASM_NUMERIC_OPS(WASM_X_INFO)
    WASM_SAT_OPS(WASM_X_INFO)
#undef WASM_X_INFO
}

static const numeric_info *numeric(uint32_t code)
{
    pthread_once(&numeric_once, numeric_init);
    return code < 0x108 && table[code].r ? &table[code] : NULL;
}

static void numeric_op(compiler *c, uint32_t code)
{
    const numeric_info *ni = numeric(code);
    if (!ni) wasm_fail(c->r, WASM_ERR_MALFORMED, "illegal opcode 0x%x", code);
    if (ni->b) pop_expect(c, ni->b);
    pop_expect(c, ni->a);
    push(c, ni->r);
    if (wasm_fuse_extend(c, ni->op)) return;
    if (!wasm_fuse_binary(c, ni->op)) emit_op(c, ni->op);
}

typedef struct memop_info { int op; wasm_valtype t; uint8_t align; bool store; } memop_info;

static const memop_info *memop(uint8_t code)
{
    static const memop_info table[] = {
#define WASM_X_MINFO(code_, name, t_, al) [code_ - 0x28] = {OP_##name, 0, al, code_ >= 0x36},
        WASM_MEMORY_OPS(WASM_X_MINFO)
#undef WASM_X_MINFO
    };
    return &table[code - 0x28];
}

static wasm_valtype memop_type(uint8_t code)
{
    switch (code) {
    case 0x29: case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35:
    case 0x37: case 0x3c: case 0x3d: case 0x3e: return WASM_I64;
    case 0x2a: case 0x38: return WASM_F32;
    case 0x2b: case 0x39: return WASM_F64;
    default: return WASM_I32;
    }
}

/* ---- the 0xfc prefix: saturating truncation, bulk memory, tables ---- */

static void prefixed(compiler *c)
{
    wasm_reader *r = c->r;
    wasm_module *m = c->m;
    uint32_t sub = wasm_read_u32(r);
    uint32_t a, b;
    if (sub <= 7) { numeric_op(c, 0x100 + sub); return; }
    switch (sub) {
    case 8:  /* memory.init seg mem */
        a = wasm_read_u32(r);
        zero_byte(c);
        need_memory(c, 0);
        need_datacount(c, a);
        pop_expect(c, WASM_I32); pop_expect(c, WASM_I32); pop_expect(c, WASM_I32);
        emit_op(c, OP_MEMORY_INIT); emit_u64(c, a);
        break;
    case 9:
        a = wasm_read_u32(r);
        need_datacount(c, a);
        emit_op(c, OP_DATA_DROP); emit_u64(c, a);
        break;
    case 10:
        zero_byte(c); zero_byte(c);
        need_memory(c, 0);
        pop_expect(c, WASM_I32); pop_expect(c, WASM_I32); pop_expect(c, WASM_I32);
        emit_op(c, OP_MEMORY_COPY);
        break;
    case 11:
        zero_byte(c);
        need_memory(c, 0);
        pop_expect(c, WASM_I32); pop_expect(c, WASM_I32); pop_expect(c, WASM_I32);
        emit_op(c, OP_MEMORY_FILL);
        break;
    case 12: { /* table.init elem table */
        a = wasm_read_u32(r);
        b = wasm_read_u32(r);
        wasm_valtype t = table_type(c, b);
        if (a >= m->nelems) FAIL(c, "unknown elem segment %u", a);
        if (m->elems[a].type != t) FAIL(c, "type mismatch: table.init segment type");
        pop_expect(c, WASM_I32); pop_expect(c, WASM_I32); pop_expect(c, WASM_I32);
        emit_op(c, OP_TABLE_INIT); emit_pair(c, b, a);
        break;
    }
    case 13:
        a = wasm_read_u32(r);
        if (a >= m->nelems) FAIL(c, "unknown elem segment %u", a);
        emit_op(c, OP_ELEM_DROP); emit_u64(c, a);
        break;
    case 14: { /* table.copy dst src */
        a = wasm_read_u32(r);
        b = wasm_read_u32(r);
        if (table_type(c, a) != table_type(c, b)) FAIL(c, "type mismatch: table.copy");
        pop_expect(c, WASM_I32); pop_expect(c, WASM_I32); pop_expect(c, WASM_I32);
        emit_op(c, OP_TABLE_COPY); emit_pair(c, a, b);
        break;
    }
    case 15: { /* table.grow: init n -> old */
        a = wasm_read_u32(r);
        wasm_valtype t = table_type(c, a);
        pop_expect(c, WASM_I32); pop_expect(c, t);
        push(c, WASM_I32);
        emit_op(c, OP_TABLE_GROW); emit_u64(c, a);
        break;
    }
    case 16:
        a = wasm_read_u32(r);
        table_type(c, a);
        push(c, WASM_I32);
        emit_op(c, OP_TABLE_SIZE); emit_u64(c, a);
        break;
    case 17: { /* table.fill: i val n */
        a = wasm_read_u32(r);
        wasm_valtype t = table_type(c, a);
        pop_expect(c, WASM_I32); pop_expect(c, t); pop_expect(c, WASM_I32);
        emit_op(c, OP_TABLE_FILL); emit_u64(c, a);
        break;
    }
    default: wasm_fail(r, WASM_ERR_MALFORMED, "illegal opcode 0xfc 0x%x", sub);
    }
}

/* ---- control instructions ---- */

static void op_end(compiler *c)
{
    ctrl *f = top(c);
    if (f->kind == K_IF && !wasm_functype_eq(&(wasm_functype){f->nparams, f->nparams, f->params, f->params},
                                              &(wasm_functype){f->nresults, f->nresults, f->results, f->results}))
        FAIL(c, "type mismatch: if without else must leave its parameters");
    pop_types(c, f->results, f->nresults);
    if (c->nvals != f->height) FAIL(c, "type mismatch: values remaining on the stack at end of block");
    if (f->kind == K_FUNC) {
        if (!f->chain && wasm_fuse_return(c)) {    /* no branch lands here */
            emit_u64(c, f->nresults);
            c->nctrl--;
            return;
        }
        /* always present: br_if/br_table to the function label land here */
        size_t at = emit_cell(c, (wasm_cell){.op = c->labels[OP_RETURN]});
        emit_cell(c, (wasm_cell){.u64 = f->nresults});
        patch_chain(c, f->chain, at);
        c->nctrl--;
        return;
    }
    if (f->kind == K_LOOP) wasm_fuse_loop(c, f->start);
    size_t here = c->m->ir_len;
    c->nhist = 0;
    patch_chain(c, f->chain, here);
    if (f->kind == K_IF) patch_chain(c, f->else_cell, here);
    ctrl done = *f;
    c->nctrl--;
    push_types(c, done.results, done.nresults);
}

static void op_else(compiler *c)
{
    ctrl *f = top(c);
    if (f->kind != K_IF) wasm_fail(c->r, WASM_ERR_MALFORMED, "else without if");
    pop_types(c, f->results, f->nresults);
    if (c->nvals != f->height) FAIL(c, "type mismatch: values remaining on the stack at else");
    /* the then-arm jumps over the else-arm */
    if (!dead(c)) {
        emit_op(c, OP_JMP);
        emit_target(c, f);
    }
    patch_chain(c, f->else_cell, c->m->ir_len);
    c->nhist = 0;
    f->else_cell = 0;
    f->kind = K_ELSE;
    f->unreachable = false;
    push_types(c, f->params, f->nparams);
}

static wasm_valtype pop_raw(compiler *c, wasm_valtype want)
{
    wasm_valtype got = pop(c);
    if (got != want && got != T_UNKNOWN && want != T_UNKNOWN)
        FAIL(c, "type mismatch: expected 0x%02x, got 0x%02x", want, got);
    return got;
}

static void op_br_table(compiler *c)
{
    wasm_reader *r = c->r;
    uint32_t n = wasm_read_count(r, 1);
    pop_expect(c, WASM_I32);
    bool was_dead = dead(c);
    if (!was_dead) { emit_op(c, OP_BR_TABLE); emit_u64(c, n); }
    uint32_t arity = 0;
    for (uint32_t i = 0; i <= n; i++) {
        uint32_t depth = wasm_read_u32(r);
        ctrl *f = label(c, depth);
        uint32_t a = label_arity(f);
        if (i == 0) {
            arity = a;
            while (c->scap < arity) c->scratch = grow_array(c, c->scratch, &c->scap, 1);
        } else if (a != arity) {
            FAIL(c, "type mismatch: br_table targets differ in arity");
        }
        /* each target must accept the operands: pop them with its types
         * and push back what was there */
        const wasm_valtype *t = label_types(f);
        for (uint32_t k = a; k-- > 0;) c->scratch[k] = pop_raw(c, t[k]);
        for (uint32_t k = 0; k < a; k++) push(c, c->scratch[k]);
        if (!was_dead) {
            emit_target(c, f);
            emit_pair(c, c->nlocals + f->height, a);
        }
    }
    for (uint32_t k = 0; k < arity; k++) pop(c);
    set_unreachable(c);
}

static void op_call_indirect(compiler *c)
{
    uint32_t ti = wasm_read_u32(c->r);
    uint32_t tab = wasm_read_u32(c->r);
    if (tab >= c->m->ntables) FAIL(c, "unknown table %u", tab);
    if (ti >= c->m->ntypes) FAIL(c, "unknown type %u", ti);
    if (c->m->tables[tab].elem != WASM_FUNCREF) FAIL(c, "type mismatch: call_indirect on a non-funcref table");
    const wasm_functype *ft = &c->m->types[ti];
    pop_expect(c, WASM_I32);
    pop_types(c, ft->params, ft->nparams);
    push_types(c, ft->results, ft->nresults);
    emit_op(c, OP_CALL_INDIRECT);
    emit_pair(c, ti, tab);
}

static void local_op(compiler *c, uint8_t code)
{
    uint32_t i = wasm_read_u32(c->r);
    if (c->inl_map) {
        /* an inlined body: only local.get of a parameter (inline.c) */
        if (code != 0x20 || i >= c->inl_n) FAIL(c, "unknown local %u", i);
        push(c, c->inl_types[i]);
        emit_op(c, c->inl_map[i].is_const ? OP_CONST : OP_LOCAL_GET);
        emit_u64(c, c->inl_map[i].v);
        return;
    }
    if (i >= c->nlocals) FAIL(c, "unknown local %u", i);
    wasm_valtype t = c->locals[i];
    if (code == 0x20) { push(c, t); emit_op(c, OP_LOCAL_GET); }
    else if (code == 0x21) {
        pop_expect(c, t);
        if (wasm_fuse_set(c, i, false)) return;
        if (!dead(c) && c->nhist >= 1 && H(c, 1).op == OP_CONST) {
            /* const k; local.set i  ->  LOCAL_SET_K i k */
            size_t at = H(c, 1).pos;    /* not a pointer: emit_cell may move the code */
            emit_cell(c, c->m->ir[at + 1]);
            c->m->ir[at].op = c->labels[OP_LOCAL_SET_K];
            c->m->ir[at + 1].u64 = i;
            H(c, 1).op = OP_LOCAL_SET_K;
            return;
        }
        if (!dead(c) && c->nhist >= 1 && H(c, 1).op == OP_LOCAL_GET) {
            /* local.get x; local.set i  ->  LOCAL_COPY {x, i} */
            wasm_cell *g = &c->m->ir[H(c, 1).pos];
            uint32_t x = (uint32_t)g[1].u64;
            g[0].op = c->labels[OP_LOCAL_COPY];
            g[1] = (wasm_cell){.p = {x, i}};
            H(c, 1).op = OP_LOCAL_COPY;
            return;
        }
        emit_op(c, OP_LOCAL_SET);
    } else {
        pop_expect(c, t);
        push(c, t);
        if (wasm_fuse_set(c, i, true)) return;
        emit_op(c, OP_LOCAL_TEE);
    }
    emit_u64(c, i);
}

static void global_op(compiler *c, uint8_t code)
{
    uint32_t i = wasm_read_u32(c->r);
    if (i >= c->m->nglobals) FAIL(c, "unknown global %u", i);
    const wasm_global_decl *g = &c->m->globals[i];
    if (code == 0x23) { push(c, g->type); emit_op(c, OP_GLOBAL_GET); }
    else {
        if (!g->mut) FAIL(c, "global is immutable");
        pop_expect(c, g->type);
        if (wasm_fuse_global_set(c, i)) return;
        emit_op(c, OP_GLOBAL_SET);
    }
    emit_u64(c, i);
}

static void const_op(compiler *c, uint8_t code)
{
    wasm_reader *r = c->r;
    wasm_slot v = {.u64 = 0};
    switch (code) {
    case 0x41: v.i32 = wasm_read_s32(r); push(c, WASM_I32); break;
    case 0x42: v.i64 = wasm_read_s64(r); push(c, WASM_I64); break;
    case 0x43:
        if (r->end - r->p < 4) wasm_fail(r, WASM_ERR_MALFORMED, "unexpected end");
        memcpy(&v.u32, r->p, 4); r->p += 4; push(c, WASM_F32); break;
    default:
        if (r->end - r->p < 8) wasm_fail(r, WASM_ERR_MALFORMED, "unexpected end");
        memcpy(&v.u64, r->p, 8); r->p += 8; push(c, WASM_F64); break;
    }
    emit_op(c, OP_CONST);
    emit_u64(c, v.u64);
}

/* One instruction. */
void wasm_compile_instruction(compiler *c, uint8_t code)
{
    wasm_reader *r = c->r;
    wasm_module *m = c->m;
    wasm_valtype one = 0;
    switch (code) {
    case 0x00: emit_op(c, OP_UNREACHABLE); set_unreachable(c); break;
    case 0x01: break;
    case 0x02: case 0x03: case 0x04: {
        wasm_functype bt = block_type(c, &one);
        /* single-result block types point at `one`: keep a stable copy */
        static const wasm_valtype single[256] = {
            [0x7f] = 0x7f, [0x7e] = 0x7e, [0x7d] = 0x7d, [0x7c] = 0x7c, [0x70] = 0x70, [0x6f] = 0x6f};
        if (bt.results == &one) bt.results = &single[one];
        if (code == 0x04) pop_expect(c, WASM_I32);
        pop_types(c, bt.params, bt.nparams);
        bool was_dead = dead(c);
        size_t else_cell = 0;
        if (code == 0x04 && !was_dead) {
            /* i32.eqz; if  ->  skip the then-arm when the operand is non-zero */
            bool z = take_last(c, OP_I32_EQZ);
            if (!wasm_fuse_branch(c, !z)) emit_op(c, z ? OP_BR_IF_JMP : OP_BR_UNLESS);
            else_cell = emit_cell(c, (wasm_cell){.u64 = 0}) + 1;
        }
        /* a loop header is a branch target: nothing fuses across it; its
         * backward branches spend the fuel (no instruction of its own) */
        if (code == 0x03) c->nhist = 0;
        push_ctrl(c, code == 0x02 ? K_BLOCK : code == 0x03 ? K_LOOP : K_IF, &bt);
        top(c)->start = m->ir_len;
        top(c)->else_cell = else_cell;
        break;
    }
    case 0x05: op_else(c); break;
    case 0x0b: op_end(c); break;
    case 0x0c: {
        uint32_t d = wasm_read_u32(r);
        ctrl *f = label(c, d);
        pop_types(c, label_types(f), label_arity(f));
        push_types(c, label_types(f), label_arity(f));
        emit_branch(c, d, false);
        set_unreachable(c);
        break;
    }
    case 0x0d: {
        uint32_t d = wasm_read_u32(r);
        pop_expect(c, WASM_I32);
        ctrl *f = label(c, d);
        pop_types(c, label_types(f), label_arity(f));
        push_types(c, label_types(f), label_arity(f));
        emit_branch(c, d, true);
        break;
    }
    case 0x0e: op_br_table(c); break;
    case 0x0f: {
        ctrl *f = &c->ctrls[0];
        if (c->nvals != f->nresults) c->ret_inexact = true;
        pop_types(c, f->results, f->nresults);
        if (!wasm_fuse_return(c)) emit_op(c, OP_RETURN);
        emit_u64(c, f->nresults);
        set_unreachable(c);
        break;
    }
    case 0x10: {
        uint32_t fi = wasm_read_u32(r);
        if (fi >= m->nfuncs) FAIL(c, "unknown function %u", fi);
        /* a trampoline's target instead (same type; a cycle stops after 4) */
        for (int hop = 0; hop < 4 && fi >= m->nimported_funcs; hop++) {
            uint32_t g1 = m->codes[fi - m->nimported_funcs].alias_plus1;
            if (!g1) break;
            fi = g1 - 1;
        }
        if (wasm_inline_call(c, fi)) break;
        const wasm_functype *ft = &m->types[m->func_types[fi]];
        pop_types(c, ft->params, ft->nparams);
        push_types(c, ft->results, ft->nresults);
        if (fi >= m->nimported_funcs) {
            /* a function of this module: same instance, never a host */
            emit_op(c, OP_CALL_WASM);
            if (!dead(c)) emit_cell(c, (wasm_cell){.ptr = &m->codes[fi - m->nimported_funcs]});
        } else {
            emit_op(c, OP_CALL);
            emit_u64(c, fi);
        }
        break;
    }
    case 0x11: op_call_indirect(c); break;
    case 0x1a: pop(c); emit_op(c, OP_DROP); break;
    case 0x1b: case 0x1c: {
        wasm_valtype want = T_UNKNOWN;
        if (code == 0x1c) {
            uint32_t n = wasm_read_u32(r);
            if (n != 1) FAIL(c, "invalid result arity");
            want = wasm_read_valtype(r);
        }
        pop_expect(c, WASM_I32);
        wasm_valtype t1 = pop_expect(c, want), t2 = pop_expect(c, want);
        if (code == 0x1b && (is_ref(t1) || is_ref(t2))) FAIL(c, "type mismatch: select needs a type for references");
        if (t1 != t2 && t1 != T_UNKNOWN && t2 != T_UNKNOWN) FAIL(c, "type mismatch: select operands differ");
        push(c, t1 != T_UNKNOWN ? t1 : t2);
        emit_op(c, OP_SELECT);
        break;
    }
    case 0x20: case 0x21: case 0x22: local_op(c, code); break;
    case 0x23: case 0x24: global_op(c, code); break;
    case 0x25: case 0x26: {
        uint32_t t = wasm_read_u32(r);
        wasm_valtype et = table_type(c, t);
        if (code == 0x25) { pop_expect(c, WASM_I32); push(c, et); emit_op(c, OP_TABLE_GET); }
        else { pop_expect(c, et); pop_expect(c, WASM_I32); emit_op(c, OP_TABLE_SET); }
        emit_u64(c, t);
        break;
    }
    case 0x3f: case 0x40:
        zero_byte(c);
        need_memory(c, 0);
        if (code == 0x40) pop_expect(c, WASM_I32);
        push(c, WASM_I32);
        emit_op(c, code == 0x3f ? OP_MEMORY_SIZE : OP_MEMORY_GROW);
        break;
    case 0x41: case 0x42: case 0x43: case 0x44: const_op(c, code); break;
    case 0xd0: {
        uint8_t t = wasm_read_u8(r);
        if (t != WASM_FUNCREF && t != WASM_EXTERNREF) wasm_fail(r, WASM_ERR_MALFORMED, "malformed reference type");
        push(c, t);
        emit_op(c, OP_CONST);
        emit_u64(c, 0);
        break;
    }
    case 0xd1: {
        wasm_valtype t = pop(c);
        if (t != T_UNKNOWN && !is_ref(t)) FAIL(c, "type mismatch: ref.is_null needs a reference");
        push(c, WASM_I32);
        emit_op(c, OP_REF_IS_NULL);
        break;
    }
    case 0xd2: {
        uint32_t fi = wasm_read_u32(r);
        if (fi >= m->nfuncs) FAIL(c, "unknown function %u", fi);
        if (!m->func_refs[fi]) FAIL(c, "undeclared function reference");
        push(c, WASM_FUNCREF);
        emit_op(c, OP_REF_FUNC);
        emit_u64(c, fi);
        break;
    }
    case 0xfc: prefixed(c); break;
    case 0xfd: wasm_fail(r, WASM_ERR_UNSUPPORTED, "SIMD (v128) is not supported");
    default:
        if (code >= 0x28 && code <= 0x3e) {
            const memop_info *mi = memop(code);
            uint32_t off = memarg(c, mi->align);
            wasm_valtype t = memop_type(code);
            if (mi->store) { pop_expect(c, t); pop_expect(c, WASM_I32); }
            else { pop_expect(c, WASM_I32); push(c, t); }
            if (!mi->store && wasm_fuse_load(c, mi->op, off)) break;
            if (mi->store && wasm_fuse_store(c, mi->op, off)) break;
            emit_op(c, mi->op);
            emit_u64(c, off);
        } else if (code >= 0x45 && code <= 0xc4) {
            numeric_op(c, code);
        } else {
            wasm_fail(r, WASM_ERR_MALFORMED, "illegal opcode 0x%02x", code);
        }
    }
}

static void compile_body(compiler *c, uint32_t fidx)
{
    wasm_module *m = c->m;
    wasm_reader *r = c->r;
    wasm_code *code = &m->codes[fidx];
    const wasm_functype *ft = &m->types[code->type];
    /* locals: params, then the declared groups */
    uint32_t ngroups = wasm_read_count(r, 2);
    uint64_t total = ft->nparams;
    const uint8_t *save = r->p;
    for (uint32_t g = 0; g < ngroups; g++) {
        total += wasm_read_u32(r);
        wasm_read_valtype(r);
        if (total > WASM_MAX_LOCALS) wasm_fail(r, WASM_ERR_MALFORMED, "too many locals");
    }
    r->p = save;
    c->locals = malloc(total ? total : 1);
    if (!c->locals) wasm_fail(r, WASM_ERR_NOMEM, "out of memory");
    memcpy(c->locals, ft->params, ft->nparams);
    c->nlocals = ft->nparams;
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t n = wasm_read_u32(r);
        wasm_valtype t = wasm_read_valtype(r);
        memset(c->locals + c->nlocals, t, n);
        c->nlocals += n;
    }
    code->nparams = ft->nparams;
    code->nresults = ft->nresults;
    code->nlocals = c->nlocals;
    code->entry = m->ir_len;
    push_ctrl(c, K_FUNC, &(wasm_functype){0, ft->nresults, NULL, ft->results});
    c->inl_budget = 2 * code->body_len + 64;
    while (c->nctrl > 0) wasm_compile_instruction(c, wasm_read_u8(r));
    if (r->p != r->end) wasm_fail(r, WASM_ERR_MALFORMED, "section size mismatch (operators after the final end)");
    thread_copy_jumps(c);
    code->max_height = c->max_height;
    code->frame_slots = (size_t)code->nlocals + code->max_height + 1;
}

void wasm_compile_function(wasm_module *m, uint32_t i, wasm_reader *r)
{
    compiler c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.r = r;
    c.labels = wasm_interp_labels();
    jmp_buf jb, *outer = r->jb;
    r->jb = &jb;
    if (setjmp(jb)) {
        free(c.locals); free(c.vals); free(c.ctrls); free(c.scratch); free(c.copy_jmps);
        longjmp(*outer, 1);
    }
    compile_body(&c, i);
    if (r->p > r->end) wasm_fail(r, WASM_ERR_MALFORMED, "unexpected end");
    m->codes[i].inlinable = m->codes[i].inline_candidate && !c.ret_inexact;
    free(c.locals); free(c.vals); free(c.ctrls); free(c.scratch); free(c.copy_jmps);
    r->jb = outer;
}

bool wasm_functype_eq(const wasm_functype *a, const wasm_functype *b)
{
    return a == b || (a->nparams == b->nparams && a->nresults == b->nresults &&
                      (!a->nparams || !memcmp(a->params, b->params, a->nparams)) &&
                      (!a->nresults || !memcmp(a->results, b->results, a->nresults)));
}
