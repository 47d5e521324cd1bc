/*
 * src/wasm/fuse.c - superinstructions: common sequences of WebAssembly
 * operators turned into one IR instruction as the body is compiled
 * (compile.c calls these just before emitting an operator). Each fusion
 * looks back at the last emitted instructions (compiler.hist), never across
 * a branch target, and pops what it replaces. docs/wasm-engine.md lists the
 * forms and tests/wasm/fusion.wast their edge cases.
 */
#include <pthread.h>

#include "wasm/compile_int.h"

/* Fused forms of a binary operator, indexed by its plain op; 0 = none. */
static int fused_forms[OP_COUNT_][3];
/* For a comparison (any form): its [branch-if-nonzero, branch-if-zero] forms (0: none). */
static int branch_forms[OP_COUNT_][2];
/* For a fusible operator in any form: the forms that store into a local
 * (local.set) and store-and-keep (local.tee). */
static int set_forms[OP_COUNT_], tee_forms[OP_COUNT_];
/* For a store-and-keep form (local.tee fused in, the local's index its last
 * immediate cell): the same instruction that only stores (same cells). */
static int untee_forms[OP_COUNT_];
/* Store-and-keep forms that take no operand from the stack (their result is
 * the only value they push). */
static bool tee_no_input[OP_COUNT_];
/* For a load: its form with the address in a local; for a store: its forms
 * with the value in a local [address on the stack, address in a local] and
 * with the address in a local, the value on the stack. */
static int load_local_forms[OP_COUNT_], store_local_forms[OP_COUNT_][3];
/* Instructions that take nothing from the stack, push one value and write
 * no local (a local.get before them still reads the same value after). */
static bool pure_push[OP_COUNT_];
/* For a load: its forms with the address an i32.add [of two locals, of the
 * stack top and a constant]. */
static int load_add_forms[OP_COUNT_][2];
static pthread_once_t fused_once = PTHREAD_ONCE_INIT;

static void fused_init(void)
{
#define WASM_X_FINFO(name, in, out, expr) \
    fused_forms[OP_##name][0] = OP_##name##_LL; fused_forms[OP_##name][1] = OP_##name##_LC; \
    fused_forms[OP_##name][2] = OP_##name##_SC;
    WASM_FUSED_OPS(WASM_X_FINFO)
#undef WASM_X_FINFO
#define WASM_X_AINFO(name, in, out, expr) \
    set_forms[OP_##name##_LL] = OP_##name##_LL_SET; set_forms[OP_##name##_LC] = OP_##name##_LC_SET; \
    set_forms[OP_##name##_SC] = OP_##name##_SC_SET; set_forms[OP_##name] = OP_##name##_SS_SET; \
    tee_forms[OP_##name##_LC] = OP_##name##_LC_TEE; tee_forms[OP_##name] = OP_##name##_SS_TEE; \
    tee_forms[OP_##name##_LL] = OP_##name##_LL_TEE; tee_forms[OP_##name##_SC] = OP_##name##_SC_TEE;
    WASM_FUSED_ARITH(WASM_X_AINFO)
#undef WASM_X_AINFO
#define WASM_X_CINFO(name, in, out, expr) \
    branch_forms[OP_##name##_LL][0] = OP_##name##_LL_BRNZ; branch_forms[OP_##name##_LL][1] = OP_##name##_LL_BRZ; \
    branch_forms[OP_##name##_LC][0] = OP_##name##_LC_BRNZ; branch_forms[OP_##name##_LC][1] = OP_##name##_LC_BRZ; \
    branch_forms[OP_##name##_SC][0] = OP_##name##_SC_BRNZ; branch_forms[OP_##name][0] = OP_##name##_SS_BRNZ;
    WASM_FUSED_CMP(WASM_X_CINFO)
#undef WASM_X_CINFO
#define WASM_X_LINFO(name, ct, field, cast) load_local_forms[OP_##name] = OP_##name##_L;
    WASM_LOAD_IMPL(WASM_X_LINFO)
#undef WASM_X_LINFO
#define WASM_X_HINFO(name, ct, field, cast) \
    set_forms[OP_##name] = OP_##name##_SET; tee_forms[OP_##name] = OP_##name##_TEE; \
    set_forms[OP_##name##_L] = OP_##name##_L_SET; tee_forms[OP_##name##_L] = OP_##name##_L_TEE; \
    load_add_forms[OP_##name][0] = OP_##name##_LLA; load_add_forms[OP_##name][1] = OP_##name##_SCA; \
    set_forms[OP_##name##_LLA] = OP_##name##_LLA_SET; tee_forms[OP_##name##_LLA] = OP_##name##_LLA_TEE;
    WASM_LOAD_HOT(WASM_X_HINFO)
#undef WASM_X_HINFO
#define WASM_X_SINFO(name, ct, field) \
    store_local_forms[OP_##name][0] = OP_##name##_SL; store_local_forms[OP_##name][1] = OP_##name##_LL; \
    store_local_forms[OP_##name][2] = OP_##name##_LS;
    WASM_STORE_IMPL(WASM_X_SINFO)
#undef WASM_X_SINFO
    branch_forms[OP_LOCAL_GET][0] = OP_BR_IF_L; branch_forms[OP_LOCAL_GET][1] = OP_BR_UNLESS_L;
    branch_forms[OP_I32_LOAD_L][0] = OP_I32_LOAD_L_BRNZ; branch_forms[OP_I32_LOAD_L][1] = OP_I32_LOAD_L_BRZ;
    branch_forms[OP_I32_LOAD8_U_SCA][0] = OP_I32_LOAD8_U_SCA_BRNZ;
    branch_forms[OP_I32_AND_SC][0] = OP_I32_AND_SC_BRNZ; branch_forms[OP_I32_AND_SC][1] = OP_I32_AND_SC_BRZ;
    set_forms[OP_I32_LOAD_K] = OP_I32_LOAD_K_SET; tee_forms[OP_I32_LOAD_K] = OP_I32_LOAD_K_TEE;
    set_forms[OP_I32_LOAD_LCA] = OP_I32_LOAD_LCA_SET; tee_forms[OP_I32_LOAD_LCA] = OP_I32_LOAD_LCA_TEE;
    set_forms[OP_I32_EXTEND8_S] = OP_I32_EXTEND8_S_SET; tee_forms[OP_I32_EXTEND8_S] = OP_I32_EXTEND8_S_TEE;
    set_forms[OP_I32_EXTEND16_S] = OP_I32_EXTEND16_S_SET; tee_forms[OP_I32_EXTEND16_S] = OP_I32_EXTEND16_S_TEE;
    for (int i = 0; i < OP_COUNT_; i++)
        if (tee_forms[i]) untee_forms[tee_forms[i]] = set_forms[i];
    untee_forms[OP_LOCAL_TEE] = OP_LOCAL_SET;
#define WASM_X_NINFO(name, in, out, expr) tee_no_input[OP_##name##_LL_TEE] = tee_no_input[OP_##name##_LC_TEE] = true;
    WASM_FUSED_ARITH(WASM_X_NINFO)
#undef WASM_X_NINFO
#define WASM_X_NLINFO(name, ct, field, cast) tee_no_input[OP_##name##_L_TEE] = true;
    WASM_LOAD_HOT(WASM_X_NLINFO)
#undef WASM_X_NLINFO
#define WASM_X_PINFO(name, in, out, expr) pure_push[OP_##name##_LL] = pure_push[OP_##name##_LC] = true;
    WASM_FUSED_OPS(WASM_X_PINFO)
#undef WASM_X_PINFO
#define WASM_X_PLINFO(name, ct, field, cast) pure_push[OP_##name##_L] = true;
    WASM_LOAD_IMPL(WASM_X_PLINFO)
#undef WASM_X_PLINFO
#define WASM_X_PAINFO(name, ct, field, cast) pure_push[OP_##name##_LLA] = true;
    WASM_LOAD_HOT(WASM_X_PAINFO)
#undef WASM_X_PAINFO
    pure_push[OP_CONST] = pure_push[OP_GLOBAL_GET] = true;
    pure_push[OP_I32_LOAD_LCA] = pure_push[OP_I64_LOAD_LCA] = pure_push[OP_I32_LOAD_K] = true;
    tee_no_input[OP_I32_LOAD_K_TEE] = tee_no_input[OP_I32_LOAD_LCA_TEE] = true;
}

/* Two I32_ADD_LC_SET in a row (the pointer bumps of a loop), the last two
 * instructions: one I32_ADD_LC_SET2, the second's three immediates moved
 * over its opcode cell. */
static void merge_add_set(compiler *c)
{
    if (c->nhist < 2 || H(c, 0).op != OP_I32_ADD_LC_SET || H(c, 1).op != OP_I32_ADD_LC_SET) return;
    wasm_cell *ir = c->m->ir;
    size_t p = H(c, 1).pos;
    memmove(ir + p, ir + p + 1, 3 * sizeof *ir);
    c->m->ir_len--;
    c->nhist--;
    ir[H(c, 1).pos].op = c->labels[OP_I32_ADD_LC_SET2];
    H(c, 1).op = OP_I32_ADD_LC_SET2;
}

/* The local a store-and-keep instruction at hist slot h writes, after turning
 * it into its store-only form (the caller reads that local instead of the
 * kept value); -1 if that instruction is not such a form. */
static int64_t untee(compiler *c, int h, size_t end)
{
    int op = H(c, h).op, nop = untee_forms[op];
    if (!nop) return -1;
    c->m->ir[H(c, h).pos].op = c->labels[nop];
    H(c, h).op = nop;
    return (int64_t)c->m->ir[end - 1].u64;
}

/* H(0) is local.get a and H(1) an instruction x that takes nothing from
 * the stack: drops the local.get (x slides down over it) and returns a, for
 * an instruction emitted after x that reads local a itself. */
static uint64_t drop_get_under(compiler *c)
{
    wasm_cell *ir = c->m->ir;
    size_t gpos = H(c, 0).pos, xpos = H(c, 1).pos, n = c->m->ir_len - xpos;
    uint64_t a = ir[gpos + 1].u64;
    int xop = H(c, 1).op;
    memmove(ir + gpos, ir + xpos, n * sizeof *ir);
    c->m->ir_len = gpos + n;
    c->nhist -= 1;
    H(c, 1).op = xop;
    H(c, 1).pos = gpos;
    return a;
}

/* local.get x; local.get y; OP  ->  OP_LL x y
 * local.get x; CONST k; OP       ->  OP_LC x k
 * CONST k; OP                    ->  OP_SC k        (no branch target in between) */
bool wasm_fuse_binary(compiler *c, int op)
{
    pthread_once(&fused_once, fused_init);
    if (dead(c) || !fused_forms[op][0] || c->nhist < 1) return false;
    wasm_cell *ir = c->m->ir;
    int prev = c->nhist >= 2 ? H(c, 0).op : -1, last = H(c, 1).op;
    size_t ppos = c->nhist >= 2 ? H(c, 0).pos : 0, lpos = H(c, 1).pos;
    /* x.tee t; local.get y; OP  ->  x.set t; OP_LL t y (one dispatch fewer) */
    int64_t t;
    if (prev >= 0 && last == OP_LOCAL_GET && (t = untee(c, 0, lpos)) >= 0) {
        uint64_t y = ir[lpos + 1].u64;
        c->m->ir_len = lpos;
        c->nhist -= 1;
        merge_add_set(c);
        emit_op(c, fused_forms[op][0]);
        emit_pair(c, (uint32_t)t, (uint32_t)y);
        return true;
    }
    /* local.get n; x.tee t; OP  ->  x.set t; OP_LL n t, when x takes
     * nothing from the stack and t != n (x writes only t, so n still holds
     * what the local.get read) */
    if (prev == OP_LOCAL_GET && tee_no_input[last] && ir[c->m->ir_len - 1].u64 != ir[ppos + 1].u64) {
        t = untee(c, 1, c->m->ir_len);
        uint64_t n = drop_get_under(c);
        merge_add_set(c);
        emit_op(c, fused_forms[op][0]);
        emit_pair(c, (uint32_t)n, (uint32_t)t);
        return true;
    }
    if (prev == OP_LOCAL_GET && (last == OP_LOCAL_GET || last == OP_CONST)) {
        uint64_t x = ir[ppos + 1].u64, y = ir[lpos + 1].u64;
        c->m->ir_len = ppos;
        c->nhist -= 2;
        if (last == OP_LOCAL_GET) {
            emit_op(c, fused_forms[op][0]);
            emit_pair(c, (uint32_t)x, (uint32_t)y);
        } else {
            emit_op(c, fused_forms[op][1]);
            emit_u64(c, x);
            emit_u64(c, y);
        }
        return true;
    }
    /* (x + k) + k2, (x + k) - k2: one add of k + k2 or k - k2 (exact modulo
     * 2^32); inlined helpers applied to a pointer plus a constant leave these */
    if (last == OP_CONST && (op == OP_I32_ADD || op == OP_I32_SUB) &&
        (prev == OP_I32_ADD_LC || prev == OP_I32_ADD_SC)) {
        uint32_t k2 = (uint32_t)ir[lpos + 1].u64;
        wasm_cell *k = &ir[prev == OP_I32_ADD_LC ? ppos + 2 : ppos + 1];
        k->u64 = (uint32_t)(op == OP_I32_ADD ? (uint32_t)k->u64 + k2 : (uint32_t)k->u64 - k2);
        c->m->ir_len = lpos;
        c->nhist -= 1;
        return true;
    }
    if (last == OP_CONST) {
        uint64_t k = ir[lpos + 1].u64;
        c->m->ir_len = lpos;
        c->nhist -= 1;
        emit_op(c, fused_forms[op][2]);
        emit_u64(c, k);
        return true;
    }
    return false;
}

/* If the last instruction is a fused compare, a local.get or an i32 load with
 * a branching form (its i32 result is what the branch consumes), turns it
 * into that form and returns true; the caller then emits the target cell.
 * `on_zero` selects branch-if-zero. */
/* The newest n instructions (history entries) became one, nop, whose
 * immediates the caller wrote after p: it ends the IR at p + len and is the
 * newest history entry. */
static void fuse_collapse(compiler *c, int n, size_t p, size_t len, int nop)
{
    c->m->ir[p].op = c->labels[nop];
    c->m->ir_len = p + len;
    c->nhist -= n - 1;
    H(c, 1).op = nop;
    H(c, 1).pos = p;
}

/* i32.load8_u (x + y) off, teed to t; sign-extended, teed to u; compared
 * with a constant (lt_s/le_s/gt_s/ge_s) by a branch  ->  one
 * I32_LOAD8_LLA_SXLE/SXGT_BRNZ {x,y} off t u k (u <= k or u > k; lt_s k is
 * le_s k-1, and branching on zero swaps the two). */
static bool fuse_byte_sign_branch(compiler *c, bool on_zero)
{
    if (c->nhist < 3 || H(c, -1).op != OP_I32_LOAD8_U_LLA_TEE || H(c, 0).op != OP_I32_EXTEND8_S_TEE)
        return false;
    int op = H(c, 1).op;
    wasm_cell *ir = c->m->ir;
    int32_t k = (int32_t)ir[H(c, 1).pos + 1].u64;
    bool le;
    if (op == OP_I32_LE_S_SC || op == OP_I32_GT_S_SC) le = op == OP_I32_LE_S_SC;
    else if ((op == OP_I32_LT_S_SC || op == OP_I32_GE_S_SC) && k != INT32_MIN) { le = op == OP_I32_LT_S_SC; k--; }
    else return false;
    if (on_zero) le = !le;
    size_t p = H(c, -1).pos;
    wasm_cell xy = ir[p + 1], off = ir[p + 2], t = ir[p + 3], u = ir[H(c, 0).pos + 1];
    ir[p + 1] = xy; ir[p + 2] = off; ir[p + 3] = t; ir[p + 4] = u;
    ir[p + 5].u64 = (uint32_t)k;
    fuse_collapse(c, 3, p, 6, le ? OP_I32_LOAD8_LLA_SXLE_BRNZ : OP_I32_LOAD8_LLA_SXGT_BRNZ);
    return true;
}

/* i32.add (x + y), teed to t; i32.load8_u off, teed to t2; i32.load8_u
 * off2 (t2 + k) by br_if  ->  one I32_LOAD8_U_LLA_TAB_BRNZ {x,y} t off t2
 * k off2 (a parser's string scan: the byte decides through a table). */
static bool fuse_table_branch(compiler *c, bool on_zero)
{
    if (on_zero || c->nhist < 2 || H(c, 1).op != OP_I32_LOAD8_U_SCA) return false;
    wasm_cell *ir = c->m->ir;
    /* the same without the sum kept: I32_LOAD8_U_LLA_TEE {x,y} off t;
     * I32_LOAD8_U_SCA k off2 by br_if  ->  I32_LOAD8_U_LLA_TEE_TAB_BRNZ
     * {x,y} off t k off2 */
    if (H(c, 0).op == OP_I32_LOAD8_U_LLA_TEE) {
        size_t p = H(c, 0).pos;
        wasm_cell k = ir[H(c, 1).pos + 1], off2 = ir[H(c, 1).pos + 2];
        ir[p + 4] = k;
        ir[p + 5] = off2;
        fuse_collapse(c, 2, p, 6, OP_I32_LOAD8_U_LLA_TEE_TAB_BRNZ);
        return true;
    }
    if (c->nhist < 3 || H(c, -1).op != OP_I32_ADD_LL_TEE || H(c, 0).op != OP_I32_LOAD8_U_TEE) return false;
    size_t p = H(c, -1).pos, q = H(c, 0).pos, r = H(c, 1).pos;
    wasm_cell xy = ir[p + 1], t = ir[p + 2], off = ir[q + 1], t2 = ir[q + 2], k = ir[r + 1], off2 = ir[r + 2];
    ir[p + 1] = xy; ir[p + 2] = t; ir[p + 3] = off; ir[p + 4] = t2; ir[p + 5] = k; ir[p + 6] = off2;
    fuse_collapse(c, 3, p, 7, OP_I32_LOAD8_U_LLA_TAB_BRNZ);
    return true;
}

/* I32_ADD_LC_SET[2]; i32.ne / i32.lt_u of two locals by br_if  ->  one
 * I32_ADD_LC_SET[2]_NE/LT_U_LL_BRNZ (the adds first, then the compare);
 * I32_ADD_LC_SET; i32.add of two locals by br_if  ->
 * I32_ADD_LC_SET_ADD_LL_BRNZ (a negative count running up to zero). */
static bool fuse_add_cmp_branch(compiler *c, bool on_zero)
{
    if (on_zero || c->nhist < 2) return false;
    int add = H(c, 0).op, cmp = H(c, 1).op, nop;
    bool ne = cmp == OP_I32_NE_LL;
    if (cmp == OP_I32_ADD_LL) nop = add == OP_I32_ADD_LC_SET ? OP_I32_ADD_LC_SET_ADD_LL_BRNZ : 0;
    else if (cmp != OP_I32_NE_LL && cmp != OP_I32_LT_U_LL) nop = 0;
    else if (add == OP_I32_ADD_LC_SET) nop = ne ? OP_I32_ADD_LC_SET_NE_LL_BRNZ : OP_I32_ADD_LC_SET_LT_U_LL_BRNZ;
    else if (add == OP_I32_ADD_LC_SET2) nop = ne ? OP_I32_ADD_LC_SET2_NE_LL_BRNZ : OP_I32_ADD_LC_SET2_LT_U_LL_BRNZ;
    else nop = 0;
    if (!nop) return false;
    wasm_cell *ir = c->m->ir;
    size_t p = H(c, 0).pos, q = H(c, 1).pos;
    wasm_cell ab = ir[q + 1];
    ir[p].op = c->labels[nop];
    ir[q] = ab;     /* the compare's operands follow the add's immediates */
    c->m->ir_len = q + 1;
    c->nhist -= 1;
    H(c, 1).op = nop;
    /* after I32_MOVE_L / I32_MOVE8_L: a copy loop in one instruction (the
     * move's four immediates, then the rest) */
    if (nop == OP_I32_ADD_LC_SET2_LT_U_LL_BRNZ && c->nhist >= 2 &&
        (H(c, 0).op == OP_I32_MOVE_L || H(c, 0).op == OP_I32_MOVE8_L)) {
        int mop = H(c, 0).op == OP_I32_MOVE_L ? OP_I32_MOVE_L_SET2_LT_U_LL_BRNZ : OP_I32_MOVE8_L_SET2_LT_U_LL_BRNZ;
        memmove(ir + p, ir + p + 1, (c->m->ir_len - p - 1) * sizeof *ir);
        c->m->ir_len--;
        c->nhist--;
        ir[H(c, 1).pos].op = c->labels[mop];
        H(c, 1).op = mop;
    }
    return true;
}

bool wasm_fuse_branch(compiler *c, bool on_zero)
{
    pthread_once(&fused_once, fused_init);
    if (dead(c) || c->nhist < 1) return false;
    if (fuse_byte_sign_branch(c, on_zero) || fuse_table_branch(c, on_zero) || fuse_add_cmp_branch(c, on_zero))
        return true;
    int op = H(c, 1).op;
    int nop = branch_forms[op][on_zero];
    if (!nop) return false;
    c->m->ir[H(c, 1).pos].op = c->labels[nop];
    H(c, 1).op = nop;
    return true;
}

/* op; local.set x  ->  op_SET ... x  (the last instruction stores its
 * result); with `tee`, op; local.tee x  ->  op_TEE ... x. */
bool wasm_fuse_set(compiler *c, uint32_t local, bool tee)
{
    pthread_once(&fused_once, fused_init);
    if (dead(c) || c->nhist < 1) return false;
    int nop = (tee ? tee_forms : set_forms)[H(c, 1).op];
    if (!nop) return false;
    c->m->ir[H(c, 1).pos].op = c->labels[nop];
    emit_cell(c, (wasm_cell){.u64 = local});
    H(c, 1).op = nop;
    merge_add_set(c);
    return true;
}

/* local.get x; load off  ->  load_L x off */
bool wasm_fuse_load(compiler *c, int load_op, uint32_t off)
{
    pthread_once(&fused_once, fused_init);
    if (dead(c) || c->nhist < 1) return false;
    /* i32.add x y; load off  ->  load_LLA x y off;  i32.add k; load  ->  load_SCA k off */
    int last = H(c, 1).op;
    if ((last == OP_I32_ADD_LL || last == OP_I32_ADD_SC) && load_add_forms[load_op][0]) {
        wasm_cell imm = c->m->ir[H(c, 1).pos + 1];
        c->m->ir_len = H(c, 1).pos;
        c->nhist -= 1;
        emit_op(c, load_add_forms[load_op][last == OP_I32_ADD_SC]);
        emit_cell(c, imm);
        emit_u64(c, off);
        return true;
    }
    /* i32.const a; i32.load off  ->  I32_LOAD_K (a + off, computed here) */
    if (last == OP_CONST && load_op == OP_I32_LOAD) {
        size_t p = H(c, 1).pos;
        c->m->ir[p].op = c->labels[OP_I32_LOAD_K];
        c->m->ir[p + 1].u64 = (uint64_t)(uint32_t)c->m->ir[p + 1].u64 + off;
        H(c, 1).op = OP_I32_LOAD_K;
        return true;
    }
    /* local.get x; i32.const k; i32.add; load off  ->  load_LCA x k off */
    if (last == OP_I32_ADD_LC && (load_op == OP_I32_LOAD || load_op == OP_I64_LOAD)) {
        c->m->ir[H(c, 1).pos].op = c->labels[load_op == OP_I32_LOAD ? OP_I32_LOAD_LCA : OP_I64_LOAD_LCA];
        H(c, 1).op = load_op == OP_I32_LOAD ? OP_I32_LOAD_LCA : OP_I64_LOAD_LCA;
        emit_u64(c, off);
        return true;
    }
    if (H(c, 1).op != OP_LOCAL_GET) return false;
    uint64_t x = c->m->ir[H(c, 1).pos + 1].u64;
    c->m->ir_len = H(c, 1).pos;
    c->nhist -= 1;
    emit_op(c, load_local_forms[load_op]);
    emit_u64(c, x);
    emit_u64(c, off);
    return true;
}

/* The store just emitted (store_LL or store_LS, the last instruction) with
 * the instruction before it: I32_ADD_LC_SET; i32.store_LL  ->
 * I32_ADD_LC_SET_STORE_LL (in that order), and load_L x off; store_LS a
 * off2 of the same width  ->  I32/I64_MOVE_L, I32_MOVE8_L x off a off2;
 * two i32.store_LL  ->  I32_STORE_LL2 (in order). */
static void merge_store(compiler *c)
{
    if (c->nhist < 2) return;
    int prev = H(c, 0).op, st = H(c, 1).op, nop = 0;
    if (prev == OP_I32_ADD_LC_SET && st == OP_I32_STORE_LL) nop = OP_I32_ADD_LC_SET_STORE_LL;
    else if (prev == OP_I32_STORE_LL && st == OP_I32_STORE_LL) nop = OP_I32_STORE_LL2;
    else if (prev == OP_I32_LOAD_L && st == OP_I32_STORE_LS) nop = OP_I32_MOVE_L;
    else if (prev == OP_I64_LOAD_L && st == OP_I64_STORE_LS) nop = OP_I64_MOVE_L;
    else if (prev == OP_I32_LOAD8_U_L && st == OP_I32_STORE8_LS) nop = OP_I32_MOVE8_L;
    else return;
    wasm_cell *ir = c->m->ir;
    size_t p = H(c, 1).pos;
    memmove(ir + p, ir + p + 1, 2 * sizeof *ir);    /* the store's two immediates */
    c->m->ir_len--;
    c->nhist--;
    ir[H(c, 1).pos].op = c->labels[nop];
    H(c, 1).op = nop;
}

/* [local.get a;] local.get v; store off  ->  store_LL a v off / store_SL v off */
bool wasm_fuse_store(compiler *c, int store_op, uint32_t off)
{
    pthread_once(&fused_once, fused_init);
    if (dead(c) || c->nhist < 1) return false;
    wasm_cell *ir = c->m->ir;
    /* local.get a; I32_ADD_LL {x,y}; I32_ADD_SC k; i32.store  ->
     * I32_ADD_LLC_STORE_LS {x,y} k a off (the sum writes no local) */
    if (store_op == OP_I32_STORE && c->nhist >= 3 && H(c, -1).op == OP_LOCAL_GET &&
        H(c, 0).op == OP_I32_ADD_LL && H(c, 1).op == OP_I32_ADD_SC) {
        size_t p = H(c, -1).pos;
        wasm_cell a = ir[p + 1], xy = ir[H(c, 0).pos + 1], k = ir[H(c, 1).pos + 1];
        ir[p + 1] = xy;
        ir[p + 2] = k;
        ir[p + 3] = a;
        ir[p + 4].u64 = off;
        fuse_collapse(c, 3, p, 5, OP_I32_ADD_LLC_STORE_LS);
        return true;
    }
    /* I32_ADD_LC a k2; I64_LOAD_LCA x k off; i64.store off2  ->
     * I64_MOVE_LCA x k off a k2 off2 (the load writes no local: a + k2 is
     * the same after it) */
    if (store_op == OP_I64_STORE && c->nhist >= 2 && H(c, 0).op == OP_I32_ADD_LC && H(c, 1).op == OP_I64_LOAD_LCA) {
        size_t p = H(c, 0).pos, q = H(c, 1).pos;
        wasm_cell a = ir[p + 1], k2 = ir[p + 2], x = ir[q + 1], k = ir[q + 2], o = ir[q + 3];
        ir[p + 1] = x; ir[p + 2] = k; ir[p + 3] = o; ir[p + 4] = a; ir[p + 5] = k2;
        ir[p + 6].u64 = off;
        fuse_collapse(c, 2, p, 7, OP_I64_MOVE_LCA);
        return true;
    }
    /* local.get a; x.tee t; store  ->  x.set t; store_LL a t, when x takes
     * nothing from the stack and t != a (a is read before x runs) */
    if (c->nhist >= 2 && H(c, 0).op == OP_LOCAL_GET && tee_no_input[H(c, 1).op]) {
        if (ir[c->m->ir_len - 1].u64 != ir[H(c, 0).pos + 1].u64) {
            int64_t t = untee(c, 1, c->m->ir_len);
            uint64_t a = drop_get_under(c);
            emit_op(c, store_local_forms[store_op][1]);
            emit_pair(c, (uint32_t)a, (uint32_t)t);
            emit_u64(c, off);
            merge_store(c);
            return true;
        }
    }
    /* local.get a; x; store  ->  x; store_LS a, when x takes nothing from
     * the stack and writes no local (a still holds what local.get read) */
    if (c->nhist >= 2 && H(c, 0).op == OP_LOCAL_GET && pure_push[H(c, 1).op]) {
        uint64_t a = drop_get_under(c);
        emit_op(c, store_local_forms[store_op][2]);
        emit_u64(c, a);
        emit_u64(c, off);
        merge_store(c);
        return true;
    }
    if (H(c, 1).op != OP_LOCAL_GET) return false;
    uint64_t v = ir[H(c, 1).pos + 1].u64;
    /* I32_ADD_LC x k; local.get v; i32.store  ->  I32_STORE_LCA_L x k v off */
    if (store_op == OP_I32_STORE && c->nhist >= 2 && H(c, 0).op == OP_I32_ADD_LC) {
        size_t p = H(c, 0).pos;
        ir[p + 3].u64 = v;
        ir[p + 4].u64 = off;
        fuse_collapse(c, 2, p, 5, OP_I32_STORE_LCA_L);
        return true;
    }
    if (c->nhist >= 2 && H(c, 0).op == OP_LOCAL_GET) {
        uint64_t a = ir[H(c, 0).pos + 1].u64;
        c->m->ir_len = H(c, 0).pos;
        c->nhist -= 2;
        emit_op(c, store_local_forms[store_op][1]);
        emit_pair(c, (uint32_t)a, (uint32_t)v);
        emit_u64(c, off);
        merge_store(c);
        return true;
    } else {
        c->m->ir_len = H(c, 1).pos;
        c->nhist -= 1;
        emit_op(c, store_local_forms[store_op][0]);
        emit_u64(c, v);
    }
    emit_u64(c, off);
    return true;
}

/* global.get g; I32_SUB_SC_TEE k t; global.set h  ->  GLOBAL_I32_SUB_K_TEE
 * {g,h} k t (a function allocating its stack frame), and I32_ADD_LC x k;
 * global.set g  ->  GLOBAL_SET_I32_ADD_LC x k g (releasing it). */
bool wasm_fuse_global_set(compiler *c, uint32_t g)
{
    if (dead(c) || c->nhist < 1) return false;
    wasm_cell *ir = c->m->ir;
    if (H(c, 1).op == OP_I32_ADD_LC) {
        H(c, 1).op = OP_GLOBAL_SET_I32_ADD_LC;
        ir[H(c, 1).pos].op = c->labels[OP_GLOBAL_SET_I32_ADD_LC];
        emit_u64(c, g);
        return true;
    }
    if (c->nhist < 2 || H(c, 1).op != OP_I32_SUB_SC_TEE || H(c, 0).op != OP_GLOBAL_GET) return false;
    size_t p = H(c, 0).pos, q = H(c, 1).pos;
    wasm_cell k = ir[q + 1], t = ir[q + 2];
    ir[p + 1] = (wasm_cell){.p = {(uint32_t)ir[p + 1].u64, g}};
    ir[p + 2] = k;
    ir[p + 3] = t;
    fuse_collapse(c, 2, p, 4, OP_GLOBAL_I32_SUB_K_TEE);
    return true;
}

/* local.get x; return  ->  RETURN_L x, and the stack frame's release before
 * a return  ->  GLOBAL_SET_I32_ADD_LC_RETURN (the caller emits the arity). */
bool wasm_fuse_return(compiler *c)
{
    if (dead(c) || c->nhist < 1) return false;
    int op = H(c, 1).op;
    int nop = op == OP_LOCAL_GET ? OP_RETURN_L : op == OP_GLOBAL_SET_I32_ADD_LC ? OP_GLOBAL_SET_I32_ADD_LC_RETURN : 0;
    if (!nop) return false;
    c->m->ir[H(c, 1).pos].op = c->labels[nop];
    H(c, 1).op = nop;
    return true;
}

/* x << k >> k (arithmetic, same k) is a sign extension from the low bits:
 * compilers without the sign-extension feature emit it for every signed
 * narrow value. SHL_SC k; CONST k; SHR_S  ->  EXTEND (one dispatch, not two). */
bool wasm_fuse_extend(compiler *c, int op)
{
    if (dead(c) || c->nhist < 2 || H(c, 1).op != OP_CONST) return false;
    int shl = op == OP_I32_SHR_S ? OP_I32_SHL_SC : op == OP_I64_SHR_S ? OP_I64_SHL_SC : -1;
    if (H(c, 0).op != shl) return false;
    wasm_cell *ir = c->m->ir;
    uint64_t k = ir[H(c, 1).pos + 1].u64;
    if (ir[H(c, 0).pos + 1].u64 != k) return false;
    int ext = op == OP_I32_SHR_S ? (k == 24 ? OP_I32_EXTEND8_S : k == 16 ? OP_I32_EXTEND16_S : -1)
                                 : (k == 56 ? OP_I64_EXTEND8_S : k == 48 ? OP_I64_EXTEND16_S
                                    : k == 32 ? OP_I64_EXTEND32_S : -1);
    if (ext < 0) return false;
    c->m->ir_len = H(c, 0).pos;
    c->nhist -= 2;
    emit_op(c, ext);
    return true;
}


/* Whether the code from a loop's start begins with exactly the
 * instructions ops[0..n) of lens[k] cells each, the last a branch (its
 * target the last cell) back to the start; what follows it runs when that
 * branch is not taken (compilers put the loop's exit branch there). The
 * body may be longer than the history, so the cells are checked: each
 * opcode where the one before ends. The end of a loop may be unreachable
 * (after that exit branch): what was emitted is what counts. */
static bool loop_is(compiler *c, size_t start, const int *ops, const uint8_t *lens, int n)
{
    wasm_cell *ir = c->m->ir;
    size_t at = start;
    for (int k = 0; k < n; k++) {
        if (at >= c->m->ir_len || ir[at].op != c->labels[ops[k]]) return false;
        at += lens[k];
    }
    return at <= c->m->ir_len && (int64_t)(at - 1) + ir[at - 1].i64 == (int64_t)start;
}

/* Loops in one instruction, at their end. Only the first opcode changes:
 * the handler reads the instructions' immediates where they are (forward
 * targets are patched there later), and a branch into the body still runs
 * the instructions it lands on.
 * - I32_TAB_SCAN_LOOP: I32_LOAD8_U_LLA_TEE_TAB_BRNZ {p,i} off t k off2,
 *   I32_ADD_LLC_STORE_LS {q,i} k2 a off3, I32_ADD_LC_SET_ADD_LL_BRNZ i k3 i
 *   {n,i} (serde_json's string scan: a byte through a table, `self.index =
 *   start + i + 1`, the count). The same i throughout, and t distinct from
 *   every local read: only t and i change, so the handler keeps the others
 *   in registers.
 * - I32_FUNNEL_COPY_LOOP: local.get d, I32_SHR_U_LL, I32_LOAD_L_SET, I32_SHL_LL,
 *   I32_OR, I32_STORE, I32_ADD_LC_SET2_LT_U_LL_BRNZ (`memcpy` between
 *   differently aligned pointers: each word stored is made of two loaded
 *   ones); run in order, every local read where it was.
 * - I32_WORD_PAIR_TEST_LOOP: I32_ADD_LL_TEE, I32_LOAD, I32_LOAD_LCA, I32_OR,
 *   I32_AND_SC_BRNZ, I32_ADD_LC_SET_LT_U_LL_BRNZ (UTF-8 validation's ASCII
 *   test of two words at a time); in order too.
 * - I32_BYTE_LT_S_LOOP: I32_LOAD8_S_LLA, I32_LT_S_SC_BRNZ,
 *   I32_ADD_LC_SET_NE_LL_BRNZ (the same test a byte at a time); in order. */
void wasm_fuse_loop(compiler *c, size_t start)
{
    static const int scan[] = {OP_I32_LOAD8_U_LLA_TEE_TAB_BRNZ, OP_I32_ADD_LLC_STORE_LS, OP_I32_ADD_LC_SET_ADD_LL_BRNZ};
    static const uint8_t scan_len[] = {7, 5, 6};
    static const int funnel[] = {OP_LOCAL_GET, OP_I32_SHR_U_LL, OP_I32_LOAD_L_SET, OP_I32_SHL_LL, OP_I32_OR,
                                 OP_I32_STORE, OP_I32_ADD_LC_SET2_LT_U_LL_BRNZ};
    static const uint8_t funnel_len[] = {2, 2, 4, 2, 1, 2, 9};
    static const int pair[] = {OP_I32_ADD_LL_TEE, OP_I32_LOAD, OP_I32_LOAD_LCA, OP_I32_OR, OP_I32_AND_SC_BRNZ,
                               OP_I32_ADD_LC_SET_LT_U_LL_BRNZ};
    static const uint8_t pair_len[] = {3, 2, 4, 1, 3, 6};
    static const int byte_lt[] = {OP_I32_LOAD8_S_LLA, OP_I32_LT_S_SC_BRNZ, OP_I32_ADD_LC_SET_NE_LL_BRNZ};
    static const uint8_t byte_lt_len[] = {3, 3, 6};
    wasm_cell *s = c->m->ir + start;
    if (loop_is(c, start, funnel, funnel_len, 7)) {
        s[0].op = c->labels[OP_I32_FUNNEL_COPY_LOOP];
        return;
    }
    if (loop_is(c, start, pair, pair_len, 6)) {
        s[0].op = c->labels[OP_I32_WORD_PAIR_TEST_LOOP];
        return;
    }
    if (loop_is(c, start, byte_lt, byte_lt_len, 3)) {
        s[0].op = c->labels[OP_I32_BYTE_LT_S_LOOP];
        return;
    }
    if (!loop_is(c, start, scan, scan_len, 3)) return;
    uint32_t p = s[1].p.a, i = s[1].p.b, t = (uint32_t)s[3].u64, q = s[8].p.a, a = (uint32_t)s[10].u64,
             n = s[16].p.a;
    if (s[8].p.b != i || s[13].u64 != i || s[15].u64 != i || s[16].p.b != i) return;
    const uint32_t only_read[] = {p, q, a, n};
    if (t == i) return;
    for (size_t k = 0; k < sizeof only_read / sizeof only_read[0]; k++)
        if (only_read[k] == t || only_read[k] == i) return;
    s[0].op = c->labels[OP_I32_TAB_SCAN_LOOP];
}
