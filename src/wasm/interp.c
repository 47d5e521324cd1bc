/*
 * src/wasm/interp.c - the direct-threaded interpreter.
 *
 * Code is the IR of compile.c: each instruction is the address of its handler
 * (gcc/clang computed goto) followed by its immediates, so dispatch is one
 * indirect jump with no decoding. State lives in registers: pc, sp (operand
 * stack top), fp (frame base: locals then operands), the current instance and
 * its memory base/size. All frames of a call share the value stack of the
 * instance the call entered through (the "executing" instance, ex); a wasm
 * call only moves fp to the arguments already on the stack, clears the
 * declared locals and pushes a small return record, so calls never allocate
 * and never recurse on the C stack. Host functions are called in place.
 *
 * Deadline/interrupt: a countdown (fuel) decremented at every backward branch
 * (the only way a loop repeats) and call; when it runs out we read the clock
 * and the atomic interrupt flag.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasm/internal.h"
#include "wasm/numeric.h"
#include "wasm/ops.h"

#define FUEL_INTERVAL 2048

uint64_t wasm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static wasm_status check_time(wasm_instance *ex)
{
    if (wasm_interrupt_take(ex)) return wasm_trap(ex, WASM_TRAP_INTERRUPTED, "interrupted");
    if (ex->deadline_ns && wasm_now_ns() >= ex->deadline_ns)
        return wasm_trap(ex, WASM_TRAP_DEADLINE, "deadline exceeded");
    return WASM_OK;
}

/* Calls host function f with its arguments at args[0..nparams); results are
 * written back from args[0]. */
static wasm_status call_host(wasm_instance *ex, wasm_instance *caller, wasm_func *f, wasm_slot *args)
{
    const wasm_functype *t = f->type;
    wasm_val a[WASM_MAX_HOST_ARITY], res[WASM_MAX_HOST_ARITY];
    for (uint32_t i = 0; i < t->nparams; i++) a[i] = wasm_slot_to_val(args[i], t->params[i]);
    for (uint32_t i = 0; i < t->nresults; i++) { res[i].type = t->results[i]; res[i].of.i64 = 0; }
    size_t saved = ex->stack_used;
    /* a re-entrant wasm_call from the host function starts above us */
    ex->stack_used = (size_t)(args + (t->nparams > t->nresults ? t->nparams : t->nresults) - ex->stack);
    if (caller) caller->msg[0] = 0;
    wasm_status st = f->host(caller ? caller : ex, a, res, f->user);
    ex->stack_used = saved;
    if (st != WASM_OK) {
        if (caller && caller != ex) {
            memcpy(ex->msg, caller->msg, sizeof ex->msg);
            ex->exit_code = caller->exit_code;
        }
        if (!ex->msg[0]) wasm_trap(ex, st, "host function failed");
        return st;
    }
    for (uint32_t i = 0; i < t->nresults; i++) args[i] = wasm_val_to_slot(res[i]);
    return WASM_OK;
}

/* ---- bulk memory and table helpers (kept out of the hot loop) ---- */

/* The helpers below return a trap kind; the caller words the message. */
static wasm_status mem_fill(wasm_instance *inst, uint32_t d, uint32_t val, uint32_t n)
{
    wasm_memory *m = inst->mem0;
    if ((uint64_t)d + n > m->size) return WASM_TRAP_MEMORY_OOB;
    if (n) memset(m->data + d, (int)(val & 0xff), n);
    return WASM_OK;
}

static wasm_status mem_copy(wasm_instance *inst, uint32_t d, uint32_t s, uint32_t n)
{
    wasm_memory *m = inst->mem0;
    if ((uint64_t)d + n > m->size || (uint64_t)s + n > m->size)
        return WASM_TRAP_MEMORY_OOB;
    if (n) memmove(m->data + d, m->data + s, n);
    return WASM_OK;
}

static wasm_status mem_init(wasm_instance *inst, uint32_t seg, uint32_t d, uint32_t s, uint32_t n)
{
    wasm_memory *m = inst->mem0;
    const wasm_data_decl *dd = &inst->mod->datas[seg];
    uint64_t len = inst->data_dropped[seg] ? 0 : dd->len;
    if ((uint64_t)s + n > len || (uint64_t)d + n > m->size)
        return WASM_TRAP_MEMORY_OOB;
    if (n) memcpy(m->data + d, dd->bytes + s, n);
    return WASM_OK;
}

static wasm_status table_oob(wasm_instance *inst)
{
    (void)inst;
    return WASM_TRAP_TABLE_OOB;
}

static wasm_status tab_fill(wasm_instance *inst, uint32_t ti, uint32_t i, void *v, uint32_t n)
{
    wasm_table *t = inst->tables[ti];
    if ((uint64_t)i + n > t->size) return table_oob(inst);
    for (uint32_t k = 0; k < n; k++) t->elems[i + k] = v;
    return WASM_OK;
}

static wasm_status tab_copy(wasm_instance *inst, uint32_t di, uint32_t si, uint32_t d, uint32_t s, uint32_t n)
{
    wasm_table *dt = inst->tables[di], *st = inst->tables[si];
    if ((uint64_t)d + n > dt->size || (uint64_t)s + n > st->size) return table_oob(inst);
    if (n) memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof(void *));
    return WASM_OK;
}

static wasm_status tab_init(wasm_instance *inst, uint32_t ti, uint32_t seg, uint32_t d, uint32_t s, uint32_t n)
{
    wasm_table *t = inst->tables[ti];
    if ((uint64_t)s + n > inst->elem_len[seg] || (uint64_t)d + n > t->size) return table_oob(inst);
    if (n) memcpy(t->elems + d, inst->elem_items[seg] + s, (size_t)n * sizeof(void *));
    return WASM_OK;
}

#ifdef WASM_PROFILE_OPS
/* Developer profile (make EXTRA_CFLAGS=-DWASM_PROFILE_OPS): executions per IR
 * cell of one module, dumped to stderr at exit: the hottest operators, pairs
 * of consecutive operators (fusion candidates) and functions. */
#include <stdio.h>
static const wasm_module *prof_mod;
static uint64_t *prof_cnt;
static const wasm_cell *prof_prev;
static uint64_t *prof_pair;   /* OP_COUNT_ x OP_COUNT_ */
static const void *const *prof_labels;
static struct { size_t ir_len; uint32_t nfuncs, nimported_funcs; } prof_shape;
static size_t *prof_entry;
static int16_t *prof_opidx;   /* per cell, lazily: its operator, -1 none */
static uint64_t *prof_calls;  /* per defined function: calls into it */

static int prof_op(const void *addr)
{
    for (int i = 0; i < OP_COUNT_; i++) if (prof_labels[i] == addr) return i;
    return -1;
}

/* End of function f's code: functions are not laid out in index order
 * (inline candidates are compiled first). */
static size_t prof_end(uint32_t f, uint32_t nf)
{
    size_t e = prof_shape.ir_len;
    for (uint32_t g = 0; g < nf; g++)
        if (prof_entry[g] > prof_entry[f] && prof_entry[g] < e) e = prof_entry[g];
    return e;
}

static void prof_dump(void)
{
    if (!prof_mod) return;
    const struct { size_t ir_len; uint32_t nfuncs, nimported_funcs; } *m = (void *)&prof_shape;
    uint64_t per_op[OP_COUNT_] = {0}, total = 0;
    for (size_t i = 0; i < m->ir_len; i++) if (prof_cnt[i]) {
        int op = prof_opidx[i];
        if (op >= 0) { per_op[op] += prof_cnt[i]; total += prof_cnt[i]; }
    }
    fprintf(stderr, "PROF total %llu\n", (unsigned long long)total);
    for (int k = 0; k < 40; k++) {
        int best = -1;
        for (int i = 0; i < OP_COUNT_; i++) if (per_op[i] && (best < 0 || per_op[i] > per_op[best])) best = i;
        if (best < 0) break;
        fprintf(stderr, "PROF op %4d %12llu %5.2f%%\n", best, (unsigned long long)per_op[best], 100.0 * per_op[best] / total);
        per_op[best] = 0;
    }
    for (int k = 0; k < 90; k++) {
        size_t best = 0;
        for (size_t i = 1; i < (size_t)OP_COUNT_ * OP_COUNT_; i++) if (prof_pair[i] > prof_pair[best]) best = i;
        if (!prof_pair[best]) break;
        fprintf(stderr, "PROF pair %4zu %4zu %12llu %5.2f%%\n", best / OP_COUNT_, best % OP_COUNT_,
                (unsigned long long)prof_pair[best], 100.0 * prof_pair[best] / total);
        prof_pair[best] = 0;
    }
    uint32_t nf = m->nfuncs - m->nimported_funcs;
    for (int k = 0; k < 30; k++) {
        uint32_t best = 0;
        for (uint32_t f = 1; f < nf; f++) if (prof_calls[f] > prof_calls[best]) best = f;
        if (!prof_calls[best]) break;
        fprintf(stderr, "PROF calls %u %12llu\n", best + m->nimported_funcs, (unsigned long long)prof_calls[best]);
        prof_calls[best] = 0;
    }
    for (int k = 0; k < 25; k++) {
        uint64_t best = 0; uint32_t bf = 0;
        for (uint32_t f = 0; f < nf; f++) {
            size_t end = prof_end(f, nf);
            uint64_t s = 0;
            for (size_t i = prof_entry[f]; i < end; i++) s += prof_cnt[i];
            if (s > best) { best = s; bf = f; }
        }
        if (!best) break;
        fprintf(stderr, "PROF func %u %12llu %5.2f%%\n", bf + m->nimported_funcs, (unsigned long long)best, 100.0 * best / total);
        size_t end = prof_end(bf, nf);
        for (size_t i = prof_entry[bf]; i < end; i++) prof_cnt[i] = 0;
    }
}

static void prof_hit(const wasm_module *m, const wasm_cell *pc)
{
    if (m != prof_mod) {
        if (prof_mod) return;
        prof_mod = m;
        prof_cnt = calloc(m->ir_len, sizeof *prof_cnt);
        prof_pair = calloc((size_t)OP_COUNT_ * OP_COUNT_, sizeof *prof_pair);
        prof_labels = wasm_interp_labels();
        prof_opidx = malloc(m->ir_len * sizeof *prof_opidx);
        prof_calls = calloc(m->nfuncs, sizeof *prof_calls);
        for (size_t i = 0; i < m->ir_len; i++) prof_opidx[i] = -2;
        prof_shape.ir_len = m->ir_len; prof_shape.nfuncs = m->nfuncs; prof_shape.nimported_funcs = m->nimported_funcs;
        prof_entry = malloc((m->nfuncs + 1) * sizeof *prof_entry);
        for (uint32_t f = 0; f < m->nfuncs - m->nimported_funcs; f++) prof_entry[f] = m->codes[f].entry;
        atexit(prof_dump);
    }
    if (pc < m->ir || pc >= m->ir + m->ir_len) return;
    size_t at = (size_t)(pc - m->ir);
    prof_cnt[at]++;
    if (prof_opidx[at] == -2) prof_opidx[at] = (int16_t)prof_op(pc->op);
    if (prof_prev) {
        int a = prof_opidx[prof_prev - m->ir], b = prof_opidx[at];
        if (a >= 0 && b >= 0) prof_pair[a * OP_COUNT_ + b]++;
    }
    prof_prev = pc;
}
#endif

/* The interpreter proper. With ex == NULL it only returns its label table
 * through *labels_out (compile.c needs the handler addresses). */
static wasm_status run(wasm_instance *ex, wasm_func *entry, wasm_slot *args, const void *const **labels_out)
{
    static const void *const labels[OP_COUNT_] = {
#define WASM_X_LCTL(name) [OP_##name] = &&L_##name,
#define WASM_X_LNUM(code, name, a, b, r) [OP_##name] = &&L_##name,
#define WASM_X_LMEM(code, name, t, al) [OP_##name] = &&L_##name,
        WASM_CONTROL_OPS(WASM_X_LCTL)
        WASM_NUMERIC_OPS(WASM_X_LNUM)
        WASM_SAT_OPS(WASM_X_LNUM)
        WASM_MEMORY_OPS(WASM_X_LMEM)
#define WASM_X_LFUSED(name, in, out, expr) \
        [OP_##name##_LL] = &&L_##name##_LL, [OP_##name##_LC] = &&L_##name##_LC, [OP_##name##_SC] = &&L_##name##_SC,
        WASM_FUSED_OPS(WASM_X_LFUSED)
#define WASM_X_LARITH(name, in, out, expr) \
        [OP_##name##_LL_SET] = &&L_##name##_LL_SET, [OP_##name##_LC_SET] = &&L_##name##_LC_SET, \
        [OP_##name##_SC_SET] = &&L_##name##_SC_SET, [OP_##name##_SS_SET] = &&L_##name##_SS_SET, \
        [OP_##name##_LC_TEE] = &&L_##name##_LC_TEE, [OP_##name##_SS_TEE] = &&L_##name##_SS_TEE, \
        [OP_##name##_LL_TEE] = &&L_##name##_LL_TEE, [OP_##name##_SC_TEE] = &&L_##name##_SC_TEE,
        WASM_FUSED_ARITH(WASM_X_LARITH)
#define WASM_X_LCMP(name, in, out, expr) \
        [OP_##name##_LL_BRNZ] = &&L_##name##_LL_BRNZ, [OP_##name##_LL_BRZ] = &&L_##name##_LL_BRZ, \
        [OP_##name##_LC_BRNZ] = &&L_##name##_LC_BRNZ, [OP_##name##_LC_BRZ] = &&L_##name##_LC_BRZ, \
        [OP_##name##_SC_BRNZ] = &&L_##name##_SC_BRNZ, [OP_##name##_SS_BRNZ] = &&L_##name##_SS_BRNZ,
        WASM_FUSED_CMP(WASM_X_LCMP)
#define WASM_X_LLOADL(name, ct, field, cast) [OP_##name##_L] = &&L_##name##_L,
        WASM_LOAD_IMPL(WASM_X_LLOADL)
#define WASM_X_LLOADH(name, ct, field, cast) [OP_##name##_SET] = &&L_##name##_SET, [OP_##name##_TEE] = &&L_##name##_TEE, \
        [OP_##name##_L_SET] = &&L_##name##_L_SET, [OP_##name##_L_TEE] = &&L_##name##_L_TEE, \
        [OP_##name##_LLA] = &&L_##name##_LLA, [OP_##name##_LLA_SET] = &&L_##name##_LLA_SET, \
        [OP_##name##_LLA_TEE] = &&L_##name##_LLA_TEE, [OP_##name##_SCA] = &&L_##name##_SCA,
        WASM_LOAD_HOT(WASM_X_LLOADH)
#define WASM_X_LSTORE(name, ct, field) [OP_##name##_SL] = &&L_##name##_SL, [OP_##name##_LL] = &&L_##name##_LL, \
        [OP_##name##_LS] = &&L_##name##_LS,
        WASM_STORE_IMPL(WASM_X_LSTORE)
    };
    if (!ex) { *labels_out = labels; return WASM_OK; }
    /* where the entry call's RETURN goes: no test for it in RETURN */
    static const wasm_cell exit_cell[1] = {{.op = &&L_EXIT}};

    const wasm_cell *pc;
    wasm_slot *sp, *fp;
    wasm_instance *cur = entry->inst;
    uint8_t *mem = NULL;
    uint64_t memsize = 0;
    wasm_slot *const stack_end = ex->stack + ex->stack_slots;
    wasm_frame *const frames = ex->frames;
    const uint32_t max_depth = ex->limits.max_call_depth;
    const uint32_t depth0 = ex->depth;
    uint32_t depth = depth0;     /* frames in use; ex->depth is synced around host calls */
    int32_t fuel = ex->fuel;
    wasm_status st = WASM_OK;
    wasm_func *callee;

#ifdef WASM_PROFILE_OPS
#define NEXT() do { prof_hit(cur->mod, pc); goto *(pc++)->op; } while (0)
#else
#define NEXT() goto *(pc++)->op
#endif
#define RELOAD() do { wasm_memory *m0_ = cur->mem0; mem = m0_ ? m0_->data : NULL; \
                      memsize = m0_ ? m0_->size : 0; } while (0)
/* Takes the branch whose relative target is in `cell`. Only branches to a
 * loop header go backwards (rel < 0): that is where loops spend fuel, so a
 * loop iteration costs no dispatch of its own. */
#define JUMP_AT(cell) do { const wasm_cell *c_ = (cell); int64_t r_ = c_->i64; pc = c_ + r_; \
        if (r_ < 0) SPEND_FUEL(); } while (0)
/* One unit of fuel (a backward branch, a call, a loop instruction's next
 * iteration); the clock and the interrupt flag are read when it runs out. */
#define SPEND_FUEL() do { if (__builtin_expect(--fuel <= 0, 0)) { fuel = FUEL_INTERVAL; CHECK(check_time(ex)); } } \
        while (0)
#define TRAP(kind, msg) do { st = wasm_trap(ex, kind, "%s", msg); goto trapped; } while (0)
#define CHECK(expr) do { st = (expr); if (st != WASM_OK) goto trapped; } while (0)
#define CHECK_KIND(expr) do { st = (expr); if (st != WASM_OK) TRAP(st, wasm_status_name(st)); } while (0)

    sp = args + entry->type->nparams;
    pc = NULL;
    fp = NULL;
    callee = entry;
    if (cur) RELOAD();
    goto do_call;

L_UNREACHABLE: TRAP(WASM_TRAP_UNREACHABLE, "unreachable");
L_JMP: JUMP_AT(pc); NEXT();
L_BR: {
    uint32_t h = pc[1].p.a, n = pc[1].p.b;
    wasm_slot *src = sp - n, *dst = fp + h;
    for (uint32_t i = 0; i < n; i++) dst[i] = src[i];
    sp = dst + n;
    JUMP_AT(pc);
    NEXT();
}
L_BR_IF_JMP:
    if ((--sp)->u32) JUMP_AT(pc); else pc++;
    NEXT();
L_BR_IF:
    if ((--sp)->u32) goto L_BR;
    pc += 2;
    NEXT();
L_BR_UNLESS:
    if (!(--sp)->u32) JUMP_AT(pc); else pc++;
    NEXT();
L_BR_TABLE: {
    uint32_t i = (--sp)->u32;
    uint64_t n = pc->u64;
    if (i > n) i = (uint32_t)n;
    const wasm_cell *e = pc + 1 + 2 * (size_t)i;
    uint32_t h = e[1].p.a, k = e[1].p.b;
    wasm_slot *src = sp - k, *dst = fp + h;
    for (uint32_t j = 0; j < k; j++) dst[j] = src[j];
    sp = dst + k;
    JUMP_AT(e);
    NEXT();
}
L_RETURN: {
    uint32_t n = (uint32_t)pc->u64;
    if (n == 1) {           /* the common case, without the loop */
        fp[0] = sp[-1];
    } else {
        wasm_slot *src = sp - n;
        for (uint32_t i = 0; i < n; i++) fp[i] = src[i];
    }
    sp = fp + n;
    wasm_frame *fr = &frames[--depth];
    pc = fr->ret_pc;        /* the entry frame's: exit_cell */
    fp = fr->fp;
    /* same instance: mem/memsize are current (memory.grow reloads them) */
    if (fr->inst != cur) { cur = fr->inst; RELOAD(); }
    NEXT();
}
    /* local.get x or the stack frame's release, then return: one dispatch */
L_RETURN_L: *sp++ = fp[pc->u64]; pc++; goto L_RETURN;
L_GLOBAL_SET_I32_ADD_LC_RETURN:
    cur->globals[pc[2].u64]->val.u64 = (uint32_t)(fp[pc->u64].u32 + (uint32_t)pc[1].u64);
    pc += 3;
    goto L_RETURN;
L_CALL_WASM: {
    /* a function of the executing module: no host, no instance switch */
    const wasm_code *code = pc->ptr;
#ifdef WASM_PROFILE_OPS
    prof_calls[code - prof_mod->codes] += cur->mod == prof_mod;
#endif
    wasm_slot *nfp = sp - code->nparams;
    SPEND_FUEL();
    if (depth >= max_depth || (size_t)(stack_end - nfp) < code->frame_slots)
        TRAP(WASM_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    wasm_frame *fr = &frames[depth++];
    fr->ret_pc = pc + 1;
    fr->fp = fp;
    fr->inst = cur;
    fp = nfp;
    /* two slots at a time: one slot past the locals is still in the frame
     * (frame_slots counts an operand slot more than the deepest stack) */
    for (wasm_slot *z = fp + code->nparams, *e = fp + code->nlocals; z < e; z += 2) { z[0].u64 = 0; z[1].u64 = 0; }
    sp = fp + code->nlocals;
    pc = code->ir;
    NEXT();
}
L_CALL:
    callee = cur->funcs[pc->u64];
    pc++;
do_call: {
    if (--fuel <= 0) { fuel = FUEL_INTERVAL; CHECK(check_time(ex)); }
    if (callee->host) {
        wasm_slot *a = sp - callee->type->nparams;
        if (a + callee->type->nresults > stack_end || depth >= max_depth)
            TRAP(WASM_TRAP_STACK_EXHAUSTED, "call stack exhausted");
        ex->depth = depth + 1;    /* a re-entrant wasm_call stacks its frames above ours */
        ex->fuel = fuel;
        st = call_host(ex, pc ? cur : NULL, callee, a);
        ex->depth = depth;
        if (st != WASM_OK) goto trapped;
        sp = a + callee->type->nresults;
        if (!pc) goto done;
        RELOAD();
        NEXT();
    }
    const wasm_code *code = callee->code;
#ifdef WASM_PROFILE_OPS
    if (callee->inst->mod == prof_mod) prof_calls[code - prof_mod->codes]++;
#endif
    wasm_slot *nfp = sp - code->nparams;
    if (depth >= max_depth || (size_t)(stack_end - nfp) < code->frame_slots)
        TRAP(WASM_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    wasm_frame *fr = &frames[depth++];
    fr->ret_pc = pc ? pc : exit_cell;
    fr->fp = fp;
    fr->inst = cur;
    fp = nfp;
    for (uint32_t i = code->nparams; i < code->nlocals; i++) fp[i].u64 = 0;
    sp = fp + code->nlocals;
    if (callee->inst != cur) { cur = callee->inst; RELOAD(); }
    pc = callee->ir;
    NEXT();
}
L_CALL_INDIRECT: {
    uint32_t ti = pc->p.a, tab = pc->p.b;
    pc++;
    wasm_table *t = cur->tables[tab];
    uint32_t i = (--sp)->u32;
    if (i >= t->size) TRAP(WASM_TRAP_UNDEFINED_ELEMENT, "undefined element");
    callee = t->elems[i];
    if (!callee) TRAP(WASM_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element");
    if (!wasm_functype_eq(callee->type, &cur->mod->types[ti]))
        TRAP(WASM_TRAP_INDIRECT_MISMATCH, "indirect call type mismatch");
    goto do_call;
}
L_DROP: sp--; NEXT();
L_SELECT: {
    uint32_t c = sp[-1].u32;
    sp -= 2;
    if (!c) sp[-1] = sp[0];
    NEXT();
}
L_LOCAL_GET: *sp++ = fp[pc->u64]; pc++; NEXT();
L_LOCAL_SET: fp[pc->u64] = *--sp; pc++; NEXT();
L_LOCAL_TEE: fp[pc->u64] = sp[-1]; pc++; NEXT();
L_LOCAL_COPY: fp[pc->p.b] = fp[pc->p.a]; pc++; NEXT();
L_LOCAL_GET2: sp[0] = fp[pc->p.a]; sp[1] = fp[pc->p.b]; sp += 2; pc++; NEXT();
L_LOCAL_SET_K: fp[pc->u64].u64 = pc[1].u64; pc += 2; NEXT();
L_LOCAL_COPY_JMP: fp[pc->p.b] = fp[pc->p.a]; JUMP_AT(pc + 1); NEXT();
L_I32_ADD_LC_SET2:
    fp[pc[2].u64].u32 = fp[pc->u64].u32 + (uint32_t)pc[1].u64;
    fp[pc[5].u64].u32 = fp[pc[3].u64].u32 + (uint32_t)pc[4].u64;
    pc += 6;
    NEXT();
L_I32_ADD_LC_SET_NE_LL_BRNZ:
    fp[pc[2].u64].u32 = fp[pc->u64].u32 + (uint32_t)pc[1].u64;
    if (fp[pc[3].p.a].u32 != fp[pc[3].p.b].u32) JUMP_AT(pc + 4); else pc += 5;
    NEXT();
L_I32_ADD_LC_SET_LT_U_LL_BRNZ:
    fp[pc[2].u64].u32 = fp[pc->u64].u32 + (uint32_t)pc[1].u64;
    if (fp[pc[3].p.a].u32 < fp[pc[3].p.b].u32) JUMP_AT(pc + 4); else pc += 5;
    NEXT();
L_I32_ADD_LC_SET2_NE_LL_BRNZ:
    fp[pc[2].u64].u32 = fp[pc->u64].u32 + (uint32_t)pc[1].u64;
    fp[pc[5].u64].u32 = fp[pc[3].u64].u32 + (uint32_t)pc[4].u64;
    if (fp[pc[6].p.a].u32 != fp[pc[6].p.b].u32) JUMP_AT(pc + 7); else pc += 8;
    NEXT();
L_I32_ADD_LC_SET2_LT_U_LL_BRNZ:
    fp[pc[2].u64].u32 = fp[pc->u64].u32 + (uint32_t)pc[1].u64;
    fp[pc[5].u64].u32 = fp[pc[3].u64].u32 + (uint32_t)pc[4].u64;
    if (fp[pc[6].p.a].u32 < fp[pc[6].p.b].u32) JUMP_AT(pc + 7); else pc += 8;
    NEXT();
L_LOCAL_COPY_LT_U_LL_BR:
    fp[pc->p.b] = fp[pc->p.a];
    JUMP_AT(fp[pc[1].p.a].u32 < fp[pc[1].p.b].u32 ? pc + 2 : pc + 3);
    NEXT();
L_I32_AND_SC_BRNZ: if ((--sp)->u32 & (uint32_t)pc->u64) JUMP_AT(pc + 1); else pc += 2; NEXT();
L_I32_AND_SC_BRZ: if (!((--sp)->u32 & (uint32_t)pc->u64)) JUMP_AT(pc + 1); else pc += 2; NEXT();
L_BR_IF_L: if (fp[pc->u64].u32) JUMP_AT(pc + 1); else pc += 2; NEXT();
L_BR_UNLESS_L: if (!fp[pc->u64].u32) JUMP_AT(pc + 1); else pc += 2; NEXT();

L_I32_EXTEND8_S_SET: fp[pc->u64].u32 = (uint32_t)(int32_t)(int8_t)(--sp)->u32; pc++; NEXT();
L_I32_EXTEND8_S_TEE: sp[-1].u32 = (uint32_t)(int32_t)(int8_t)sp[-1].u32; fp[pc->u64] = sp[-1]; pc++; NEXT();
L_I32_EXTEND16_S_SET: fp[pc->u64].u32 = (uint32_t)(int32_t)(int16_t)(--sp)->u32; pc++; NEXT();
L_I32_EXTEND16_S_TEE: sp[-1].u32 = (uint32_t)(int32_t)(int16_t)sp[-1].u32; fp[pc->u64] = sp[-1]; pc++; NEXT();
L_GLOBAL_I32_SUB_K_TEE: {
    uint32_t v_ = cur->globals[pc->p.a]->val.u32 - (uint32_t)pc[1].u64;
    fp[pc[2].u64].u64 = v_;
    cur->globals[pc->p.b]->val.u64 = v_;
    pc += 3;
    NEXT();
}
L_GLOBAL_SET_I32_ADD_LC:
    cur->globals[pc[2].u64]->val.u64 = (uint32_t)(fp[pc->u64].u32 + (uint32_t)pc[1].u64);
    pc += 3;
    NEXT();
L_GLOBAL_GET: *sp++ = cur->globals[pc->u64]->val; pc++; NEXT();
L_GLOBAL_SET: cur->globals[pc->u64]->val = *--sp; pc++; NEXT();
L_CONST: (sp++)->u64 = pc->u64; pc++; NEXT();
L_REF_FUNC: (sp++)->ptr = cur->funcs[pc->u64]; pc++; NEXT();
L_REF_IS_NULL: sp[-1].u64 = sp[-1].ptr == NULL; NEXT();
L_TABLE_GET: {
    wasm_table *t = cur->tables[pc->u64];
    pc++;
    uint32_t i = sp[-1].u32;
    if (i >= t->size) TRAP(WASM_TRAP_TABLE_OOB, "out of bounds table access");
    sp[-1].ptr = t->elems[i];
    NEXT();
}
L_TABLE_SET: {
    wasm_table *t = cur->tables[pc->u64];
    pc++;
    sp -= 2;
    uint32_t i = sp[0].u32;
    if (i >= t->size) TRAP(WASM_TRAP_TABLE_OOB, "out of bounds table access");
    t->elems[i] = sp[1].ptr;
    NEXT();
}
L_TABLE_SIZE: (sp++)->u64 = cur->tables[pc->u64]->size; pc++; NEXT();
L_TABLE_GROW: {
    wasm_table *t = cur->tables[pc->u64];
    pc++;
    sp--;
    sp[-1].u64 = (uint32_t)wasm_table_grow_impl(t, sp[0].u32, sp[-1].ptr);
    NEXT();
}
L_TABLE_FILL:
    sp -= 3;
    CHECK_KIND(tab_fill(cur, (uint32_t)pc->u64, sp[0].u32, sp[1].ptr, sp[2].u32));
    pc++;
    NEXT();
L_TABLE_COPY:
    sp -= 3;
    CHECK_KIND(tab_copy(cur, pc->p.a, pc->p.b, sp[0].u32, sp[1].u32, sp[2].u32));
    pc++;
    NEXT();
L_TABLE_INIT:
    sp -= 3;
    CHECK_KIND(tab_init(cur, pc->p.a, pc->p.b, sp[0].u32, sp[1].u32, sp[2].u32));
    pc++;
    NEXT();
L_ELEM_DROP: cur->elem_len[pc->u64] = 0; pc++; NEXT();
L_MEMORY_SIZE: (sp++)->u64 = memsize / WASM_PAGE; NEXT();
L_MEMORY_GROW:
    sp[-1].u64 = (uint32_t)wasm_memory_grow_impl(cur->mem0, sp[-1].u32);
    RELOAD();
    NEXT();
L_MEMORY_FILL:
    sp -= 3;
    CHECK_KIND(mem_fill(cur, sp[0].u32, sp[1].u32, sp[2].u32));
    NEXT();
L_MEMORY_COPY:
    sp -= 3;
    CHECK_KIND(mem_copy(cur, sp[0].u32, sp[1].u32, sp[2].u32));
    NEXT();
L_MEMORY_INIT:
    sp -= 3;
    CHECK_KIND(mem_init(cur, (uint32_t)pc->u64, sp[0].u32, sp[1].u32, sp[2].u32));
    pc++;
    NEXT();
L_DATA_DROP: cur->data_dropped[pc->u64] = 1; pc++; NEXT();

    /* ---- loads and stores: effective address = u32 operand + offset ---- */
#define EA(n) ({ uint64_t ea_ = (uint64_t)sp[-1].u32 + pc->u64; pc++; \
                 if (ea_ + (n) > memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
                 mem + ea_; })
/* mem + base + offset after the bounds check (base: a u32 address) */
#define EA_AT(base, off, n) ({ uint64_t ea_ = (uint64_t)(base) + (off); \
                 if (ea_ + (n) > memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
                 mem + ea_; })
#define LOAD(NAME, CT, FIELD, CAST) \
L_##NAME: { CT v_; memcpy(&v_, EA(sizeof(CT)), sizeof(CT)); sp[-1].FIELD = CAST v_; NEXT(); }
    WASM_LOAD_IMPL(LOAD)
    /* local.get x; load  ->  load from the address in local x */
#define LOAD_L(NAME, CT, FIELD, CAST) \
L_##NAME##_L: { uint64_t ea_ = (uint64_t)fp[pc->u64].u32 + pc[1].u64; pc += 2; \
    if (ea_ + sizeof(CT) > memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
    CT v_; memcpy(&v_, mem + ea_, sizeof(CT)); sp->FIELD = CAST v_; sp++; NEXT(); }
    WASM_LOAD_IMPL(LOAD_L)
    /* ... followed by local.set x / local.tee x: x is the last immediate */
#define LOAD_SET(NAME, CT, FIELD, CAST) \
L_##NAME##_SET: { CT v_; memcpy(&v_, EA(sizeof(CT)), sizeof(CT)); sp--; fp[pc->u64].FIELD = CAST v_; pc++; NEXT(); } \
L_##NAME##_TEE: { CT v_; memcpy(&v_, EA(sizeof(CT)), sizeof(CT)); sp[-1].FIELD = CAST v_; \
    fp[pc->u64] = sp[-1]; pc++; NEXT(); } \
L_##NAME##_L_SET: { uint64_t ea_ = (uint64_t)fp[pc->u64].u32 + pc[1].u64; \
    if (ea_ + sizeof(CT) > memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
    CT v_; memcpy(&v_, mem + ea_, sizeof(CT)); fp[pc[2].u64].FIELD = CAST v_; pc += 3; NEXT(); } \
L_##NAME##_L_TEE: { uint64_t ea_ = (uint64_t)fp[pc->u64].u32 + pc[1].u64; \
    if (ea_ + sizeof(CT) > memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
    CT v_; memcpy(&v_, mem + ea_, sizeof(CT)); sp->FIELD = CAST v_; fp[pc[2].u64] = *sp++; pc += 3; NEXT(); }
    WASM_LOAD_HOT(LOAD_SET)
    /* i32.add (two locals, or stack top + constant) as the address */
#define LOAD_ADD(NAME, CT, FIELD, CAST) \
L_##NAME##_LLA: { CT v_; memcpy(&v_, EA_AT((uint32_t)(fp[pc->p.a].u32 + fp[pc->p.b].u32), pc[1].u64, sizeof(CT)), \
    sizeof(CT)); sp->FIELD = CAST v_; sp++; pc += 2; NEXT(); } \
L_##NAME##_LLA_SET: { CT v_; memcpy(&v_, EA_AT((uint32_t)(fp[pc->p.a].u32 + fp[pc->p.b].u32), pc[1].u64, sizeof(CT)), \
    sizeof(CT)); fp[pc[2].u64].FIELD = CAST v_; pc += 3; NEXT(); } \
L_##NAME##_LLA_TEE: { CT v_; memcpy(&v_, EA_AT((uint32_t)(fp[pc->p.a].u32 + fp[pc->p.b].u32), pc[1].u64, sizeof(CT)), \
    sizeof(CT)); sp->FIELD = CAST v_; fp[pc[2].u64] = *sp++; pc += 3; NEXT(); } \
L_##NAME##_SCA: { CT v_; memcpy(&v_, EA_AT((uint32_t)(sp[-1].u32 + (uint32_t)pc->u64), pc[1].u64, sizeof(CT)), \
    sizeof(CT)); sp[-1].FIELD = CAST v_; pc += 2; NEXT(); }
    WASM_LOAD_HOT(LOAD_ADD)
L_I32_LOAD_K: { uint32_t v_; memcpy(&v_, EA_AT(0, pc->u64, 4), 4); sp->u32 = v_; sp++; pc++; NEXT(); }
L_I32_LOAD_K_SET: { uint32_t v_; memcpy(&v_, EA_AT(0, pc->u64, 4), 4); fp[pc[1].u64].u32 = v_; pc += 2; NEXT(); }
L_I32_LOAD_K_TEE: { uint32_t v_; memcpy(&v_, EA_AT(0, pc->u64, 4), 4); sp->u32 = v_; fp[pc[1].u64] = *sp++; pc += 2;
    NEXT(); }
L_I32_LOAD_LCA_SET: { uint32_t v_;
    memcpy(&v_, EA_AT((uint32_t)(fp[pc->u64].u32 + (uint32_t)pc[1].u64), pc[2].u64, 4), 4);
    fp[pc[3].u64].u32 = v_; pc += 4; NEXT(); }
L_I32_LOAD_LCA_TEE: { uint32_t v_;
    memcpy(&v_, EA_AT((uint32_t)(fp[pc->u64].u32 + (uint32_t)pc[1].u64), pc[2].u64, 4), 4);
    sp->u32 = v_; fp[pc[3].u64] = *sp++; pc += 4; NEXT(); }
L_I32_STORE_LCA_L: { uint32_t v_ = fp[pc[2].u64].u32;
    memcpy(EA_AT((uint32_t)(fp[pc->u64].u32 + (uint32_t)pc[1].u64), pc[3].u64, 4), &v_, 4); pc += 4; NEXT(); }
L_I64_MOVE_LCA: { uint64_t v_;
    memcpy(&v_, EA_AT((uint32_t)(fp[pc->u64].u32 + (uint32_t)pc[1].u64), pc[2].u64, 8), 8);
    memcpy(EA_AT((uint32_t)(fp[pc[3].u64].u32 + (uint32_t)pc[4].u64), pc[5].u64, 8), &v_, 8); pc += 6; NEXT(); }
L_I32_LOAD_LCA: { uint32_t v_; memcpy(&v_, EA_AT((uint32_t)(fp[pc->u64].u32 + (uint32_t)pc[1].u64), pc[2].u64, 4), 4);
    sp->u32 = v_; sp++; pc += 3; NEXT(); }
L_I64_LOAD_LCA: { uint64_t v_; memcpy(&v_, EA_AT((uint32_t)(fp[pc->u64].u32 + (uint32_t)pc[1].u64), pc[2].u64, 8), 8);
    sp->u64 = v_; sp++; pc += 3; NEXT(); }
    /* a loaded value that only decides a branch (br_if / if) */
L_I32_LOAD_L_BRNZ: {
    uint32_t v_;
    memcpy(&v_, EA_AT(fp[pc->u64].u32, pc[1].u64, 4), 4);
    if (v_) JUMP_AT(pc + 2); else pc += 3;
    NEXT();
}
L_I32_LOAD_L_BRZ: {
    uint32_t v_;
    memcpy(&v_, EA_AT(fp[pc->u64].u32, pc[1].u64, 4), 4);
    if (!v_) JUMP_AT(pc + 2); else pc += 3;
    NEXT();
}
L_I32_LOAD8_U_SCA_BRNZ: {
    uint8_t v_;
    memcpy(&v_, EA_AT((uint32_t)((--sp)->u32 + (uint32_t)pc->u64), pc[1].u64, 1), 1);
    if (v_) JUMP_AT(pc + 2); else pc += 3;
    NEXT();
}
    /* the byte loops of UTF-8 validation and of a parser's string scan */
#define LOAD8_SX_BR(NAME, CMP) \
L_##NAME: { uint8_t v_; \
    memcpy(&v_, EA_AT((uint32_t)(fp[pc->p.a].u32 + fp[pc->p.b].u32), pc[1].u64, 1), 1); \
    fp[pc[2].u64].u32 = v_; \
    int32_t s_ = (int8_t)v_; \
    fp[pc[3].u64].i32 = s_; \
    if (s_ CMP (int32_t)pc[4].u64) JUMP_AT(pc + 5); else pc += 6; \
    NEXT(); }
    LOAD8_SX_BR(I32_LOAD8_LLA_SXLE_BRNZ, <=) LOAD8_SX_BR(I32_LOAD8_LLA_SXGT_BRNZ, >)
L_I32_LOAD8_U_LLA_TAB_BRNZ: {
    uint32_t p_ = fp[pc->p.a].u32 + fp[pc->p.b].u32;
    fp[pc[1].u64].u32 = p_;
    uint8_t v_, w_;
    memcpy(&v_, EA_AT(p_, pc[2].u64, 1), 1);
    fp[pc[3].u64].u32 = v_;
    memcpy(&w_, EA_AT((uint32_t)(v_ + (uint32_t)pc[4].u64), pc[5].u64, 1), 1);
    if (w_) JUMP_AT(pc + 6); else pc += 7;
    NEXT();
}
    /* serde_json's string scan, each part alone and as a whole loop (ops.h):
     * the table test (the byte at x+y+off into local t; non-zero when the
     * byte at t+k+off2 is), the store of x+y+k at local a + off, and the
     * count (t = x+k; non-zero while a+b is) */
#define TAB_TEST(P) ({ uint8_t v_, w_; \
    memcpy(&v_, EA_AT((uint32_t)(fp[(P)->p.a].u32 + fp[(P)->p.b].u32), (P)[1].u64, 1), 1); \
    fp[(P)[2].u64].u32 = v_; \
    memcpy(&w_, EA_AT((uint32_t)(v_ + (uint32_t)(P)[3].u64), (P)[4].u64, 1), 1); w_; })
#define ADD_LLC_STORE(P) do { uint32_t s_ = fp[(P)->p.a].u32 + fp[(P)->p.b].u32 + (uint32_t)(P)[1].u64; \
    memcpy(EA_AT(fp[(P)[2].u64].u32, (P)[3].u64, 4), &s_, 4); } while (0)
#define COUNT_UP(P) ({ fp[(P)[2].u64].u32 = fp[(P)->u64].u32 + (uint32_t)(P)[1].u64; \
    (uint32_t)(fp[(P)[3].p.a].u32 + fp[(P)[3].p.b].u32); })
L_I32_LOAD8_U_LLA_TEE_TAB_BRNZ: if (TAB_TEST(pc)) JUMP_AT(pc + 5); else pc += 6; NEXT();
L_I32_ADD_LLC_STORE_LS: ADD_LLC_STORE(pc); pc += 4; NEXT();
L_I32_ADD_LC_SET_ADD_LL_BRNZ: if (COUNT_UP(pc)) JUMP_AT(pc + 4); else pc += 5; NEXT();
    /* the three in a loop, the iterations run here. wasm_fuse_loop checked
     * that only t and the count i are written (cells: ops.h) and that no
     * other local is either: the others stay in registers, and t and i are
     * written back when the loop is left (a trap discards the frame). Each
     * back edge spends fuel as the branch it replaces would. */
L_I32_TAB_SCAN_LOOP: {
    const uint32_t p_ = fp[pc->p.a].u32, tk_ = (uint32_t)pc[3].u64, sum_ = fp[pc[7].p.a].u32 + (uint32_t)pc[8].u64;
    const uint32_t step_ = (uint32_t)pc[13].u64, n_ = fp[pc[15].p.a].u32;
    const uint64_t off_ = pc[1].u64, off2_ = pc[4].u64, sea_ = (uint64_t)fp[pc[9].u64].u32 + pc[10].u64;
    uint32_t i_ = fp[pc->p.b].u32, t_;
    for (;;) {
        uint64_t ea_ = (uint64_t)(uint32_t)(p_ + i_) + off_;
        if (ea_ >= memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access");
        t_ = mem[ea_];
        ea_ = (uint64_t)(uint32_t)(t_ + tk_) + off2_;
        if (ea_ >= memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access");
        if (mem[ea_]) { fp[pc[2].u64].u32 = t_; fp[pc->p.b].u32 = i_; JUMP_AT(pc + 5); break; }
        uint32_t s_ = sum_ + i_;
        if (sea_ + 4 > memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access");
        memcpy(mem + sea_, &s_, 4);
        i_ += step_;
        if (!(uint32_t)(n_ + i_)) { fp[pc[2].u64].u32 = t_; fp[pc->p.b].u32 = i_; pc += 17; break; }
        SPEND_FUEL();
    }
    NEXT();
}
    /* memcpy's funnel loop (ops.h): the seven instructions in order, every
     * local read from its slot; pc: the first's immediates */
L_I32_FUNNEL_COPY_LOOP:
    for (;;) {
        uint32_t d_ = fp[pc->u64].u32, v_ = fp[pc[2].p.a].u32 >> (fp[pc[2].p.b].u32 & 31), w_;
        memcpy(&w_, EA_AT(fp[pc[4].u64].u32, pc[5].u64, 4), 4);
        fp[pc[6].u64].u32 = w_;
        v_ |= fp[pc[8].p.a].u32 << (fp[pc[8].p.b].u32 & 31);
        memcpy(EA_AT(d_, pc[11].u64, 4), &v_, 4);
        fp[pc[15].u64].u32 = fp[pc[13].u64].u32 + (uint32_t)pc[14].u64;
        fp[pc[18].u64].u32 = fp[pc[16].u64].u32 + (uint32_t)pc[17].u64;
        if (fp[pc[19].p.a].u32 >= fp[pc[19].p.b].u32) { pc += 21; break; }
        SPEND_FUEL();
    }
    NEXT();
    /* UTF-8 validation's ASCII test, two words at a time, as a loop (ops.h); in order */
L_I32_WORD_PAIR_TEST_LOOP:
    for (;;) {
        uint32_t p_ = fp[pc->p.a].u32 + fp[pc->p.b].u32, a_, b_;
        fp[pc[1].u64].u32 = p_;
        memcpy(&a_, EA_AT(p_, pc[3].u64, 4), 4);
        memcpy(&b_, EA_AT((uint32_t)(fp[pc[5].u64].u32 + (uint32_t)pc[6].u64), pc[7].u64, 4), 4);
        if ((a_ | b_) & (uint32_t)pc[10].u64) { JUMP_AT(pc + 11); break; }
        fp[pc[15].u64].u32 = fp[pc[13].u64].u32 + (uint32_t)pc[14].u64;
        if (fp[pc[16].p.a].u32 >= fp[pc[16].p.b].u32) { pc += 18; break; }
        SPEND_FUEL();
    }
    NEXT();
    /* the same a byte at a time: a signed byte below k leaves (ops.h) */
L_I32_BYTE_LT_S_LOOP:
    for (;;) {
        int8_t v_;
        memcpy(&v_, EA_AT((uint32_t)(fp[pc->p.a].u32 + fp[pc->p.b].u32), pc[1].u64, 1), 1);
        if ((int32_t)v_ < (int32_t)pc[3].u64) { JUMP_AT(pc + 4); break; }
        fp[pc[8].u64].u32 = fp[pc[6].u64].u32 + (uint32_t)pc[7].u64;
        if (fp[pc[9].p.a].u32 == fp[pc[9].p.b].u32) { pc += 11; break; }
        SPEND_FUEL();
    }
    NEXT();
    /* a load from the address in a local, stored at the address in another */
#define MOVE_L(NAME, CT) \
L_##NAME: { CT v_; memcpy(&v_, EA_AT(fp[pc->u64].u32, pc[1].u64, sizeof(CT)), sizeof(CT)); \
    memcpy(EA_AT(fp[pc[2].u64].u32, pc[3].u64, sizeof(CT)), &v_, sizeof(CT)); pc += 4; NEXT(); }
    MOVE_L(I32_MOVE_L, uint32_t) MOVE_L(I64_MOVE_L, uint64_t) MOVE_L(I32_MOVE8_L, uint8_t)
    /* a copy loop's body and its counters
     * (when the branch goes back to this very instruction, the whole loop:
     * the next iteration runs here, after the fuel its back edge spends) */
#define MOVE_LOOP(NAME, CT) \
L_##NAME: for (;;) { CT v_; memcpy(&v_, EA_AT(fp[pc->u64].u32, pc[1].u64, sizeof(CT)), sizeof(CT)); \
    memcpy(EA_AT(fp[pc[2].u64].u32, pc[3].u64, sizeof(CT)), &v_, sizeof(CT)); \
    fp[pc[6].u64].u32 = fp[pc[4].u64].u32 + (uint32_t)pc[5].u64; \
    fp[pc[9].u64].u32 = fp[pc[7].u64].u32 + (uint32_t)pc[8].u64; \
    if (fp[pc[10].p.a].u32 >= fp[pc[10].p.b].u32) { pc += 12; break; } \
    if (pc + 11 + pc[11].i64 != pc - 1) { JUMP_AT(pc + 11); break; } \
    SPEND_FUEL(); } \
    NEXT();
    MOVE_LOOP(I32_MOVE_L_SET2_LT_U_LL_BRNZ, uint32_t) MOVE_LOOP(I32_MOVE8_L_SET2_LT_U_LL_BRNZ, uint8_t)
L_I32_STORE_LL2: {
    uint32_t v_ = fp[pc->p.b].u32;
    memcpy(EA_AT(fp[pc->p.a].u32, pc[1].u64, 4), &v_, 4);
    v_ = fp[pc[2].p.b].u32;
    memcpy(EA_AT(fp[pc[2].p.a].u32, pc[3].u64, 4), &v_, 4);
    pc += 4;
    NEXT();
}
L_I32_ADD_LC_SET_STORE_LL: {
    fp[pc[2].u64].u32 = fp[pc->u64].u32 + (uint32_t)pc[1].u64;
    uint32_t v_ = fp[pc[3].p.b].u32;
    memcpy(EA_AT(fp[pc[3].p.a].u32, pc[4].u64, 4), &v_, 4);
    pc += 5;
    NEXT();
}
#define STORE(NAME, CT, FIELD) \
L_##NAME: { CT v_ = (CT)sp[-1].FIELD; sp--; memcpy(EA(sizeof(CT)), &v_, sizeof(CT)); sp--; NEXT(); }
    WASM_STORE_IMPL(STORE)
    /* the value in a local (_SL: address on the stack; _LL: address in a local
     * too), or the address in a local and the value on the stack (_LS) */
#define STORE_SL(NAME, CT, FIELD) \
L_##NAME##_SL: { CT v_ = (CT)fp[pc->u64].FIELD; uint64_t ea_ = (uint64_t)(--sp)->u32 + pc[1].u64; pc += 2; \
    if (ea_ + sizeof(CT) > memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
    memcpy(mem + ea_, &v_, sizeof(CT)); NEXT(); } \
L_##NAME##_LL: { CT v_ = (CT)fp[pc->p.b].FIELD; uint64_t ea_ = (uint64_t)fp[pc->p.a].u32 + pc[1].u64; pc += 2; \
    if (ea_ + sizeof(CT) > memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
    memcpy(mem + ea_, &v_, sizeof(CT)); NEXT(); } \
L_##NAME##_LS: { CT v_ = (CT)(--sp)->FIELD; uint64_t ea_ = (uint64_t)fp[pc->u64].u32 + pc[1].u64; pc += 2; \
    if (ea_ + sizeof(CT) > memsize) TRAP(WASM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
    memcpy(mem + ea_, &v_, sizeof(CT)); NEXT(); }
    WASM_STORE_IMPL(STORE_SL)

    /* ---- numeric instructions ---- */
#define UN(NAME, IN, OUT, EXPR) L_##NAME: { __typeof__(sp->IN) a = sp[-1].IN; (void)a; sp[-1].OUT = (EXPR); NEXT(); }
#define BIN(NAME, IN, OUT, EXPR) \
L_##NAME: { __typeof__(sp->IN) a = sp[-2].IN, b = sp[-1].IN; sp--; sp[-1].OUT = (EXPR); NEXT(); }
    UN(I32_EQZ, u32, u64, a == 0)
    BIN(I32_EQ, u32, u64, a == b) BIN(I32_NE, u32, u64, a != b)
    BIN(I32_LT_S, i32, u64, a < b) BIN(I32_LT_U, u32, u64, a < b)
    BIN(I32_GT_S, i32, u64, a > b) BIN(I32_GT_U, u32, u64, a > b)
    BIN(I32_LE_S, i32, u64, a <= b) BIN(I32_LE_U, u32, u64, a <= b)
    BIN(I32_GE_S, i32, u64, a >= b) BIN(I32_GE_U, u32, u64, a >= b)
    UN(I64_EQZ, u64, u64, a == 0)
    BIN(I64_EQ, u64, u64, a == b) BIN(I64_NE, u64, u64, a != b)
    BIN(I64_LT_S, i64, u64, a < b) BIN(I64_LT_U, u64, u64, a < b)
    BIN(I64_GT_S, i64, u64, a > b) BIN(I64_GT_U, u64, u64, a > b)
    BIN(I64_LE_S, i64, u64, a <= b) BIN(I64_LE_U, u64, u64, a <= b)
    BIN(I64_GE_S, i64, u64, a >= b) BIN(I64_GE_U, u64, u64, a >= b)
    BIN(F32_EQ, f32, u64, a == b) BIN(F32_NE, f32, u64, a != b)
    BIN(F32_LT, f32, u64, a < b) BIN(F32_GT, f32, u64, a > b)
    BIN(F32_LE, f32, u64, a <= b) BIN(F32_GE, f32, u64, a >= b)
    BIN(F64_EQ, f64, u64, a == b) BIN(F64_NE, f64, u64, a != b)
    BIN(F64_LT, f64, u64, a < b) BIN(F64_GT, f64, u64, a > b)
    BIN(F64_LE, f64, u64, a <= b) BIN(F64_GE, f64, u64, a >= b)
    UN(I32_CLZ, u32, u64, clz32(a)) UN(I32_CTZ, u32, u64, ctz32(a))
    UN(I32_POPCNT, u32, u64, (uint32_t)__builtin_popcount(a))
    BIN(I32_ADD, u32, u32, a + b) BIN(I32_SUB, u32, u32, a - b) BIN(I32_MUL, u32, u32, a * b)
L_I32_DIV_S: {
    int32_t a = sp[-2].i32, b = sp[-1].i32;
    if (b == 0) TRAP(WASM_TRAP_DIV_ZERO, "integer divide by zero");
    if (a == INT32_MIN && b == -1) TRAP(WASM_TRAP_INT_OVERFLOW, "integer overflow");
    sp--; sp[-1].i32 = a / b; NEXT();
}
L_I32_DIV_U: {
    uint32_t a = sp[-2].u32, b = sp[-1].u32;
    if (b == 0) TRAP(WASM_TRAP_DIV_ZERO, "integer divide by zero");
    sp--; sp[-1].u32 = a / b; NEXT();
}
L_I32_REM_S: {
    int32_t a = sp[-2].i32, b = sp[-1].i32;
    if (b == 0) TRAP(WASM_TRAP_DIV_ZERO, "integer divide by zero");
    sp--; sp[-1].i32 = b == -1 ? 0 : a % b; NEXT();
}
L_I32_REM_U: {
    uint32_t a = sp[-2].u32, b = sp[-1].u32;
    if (b == 0) TRAP(WASM_TRAP_DIV_ZERO, "integer divide by zero");
    sp--; sp[-1].u32 = a % b; NEXT();
}
    BIN(I32_AND, u32, u32, a & b) BIN(I32_OR, u32, u32, a | b) BIN(I32_XOR, u32, u32, a ^ b)
    BIN(I32_SHL, u32, u32, a << (b & 31)) BIN(I32_SHR_U, u32, u32, a >> (b & 31))
    BIN(I32_SHR_S, i32, i32, a >> (b & 31))
    BIN(I32_ROTL, u32, u32, rotl32(a, b)) BIN(I32_ROTR, u32, u32, rotr32(a, b))
    UN(I64_CLZ, u64, u64, clz64(a)) UN(I64_CTZ, u64, u64, ctz64(a))
    UN(I64_POPCNT, u64, u64, (uint64_t)__builtin_popcountll(a))
    BIN(I64_ADD, u64, u64, a + b) BIN(I64_SUB, u64, u64, a - b) BIN(I64_MUL, u64, u64, a * b)
L_I64_DIV_S: {
    int64_t a = sp[-2].i64, b = sp[-1].i64;
    if (b == 0) TRAP(WASM_TRAP_DIV_ZERO, "integer divide by zero");
    if (a == INT64_MIN && b == -1) TRAP(WASM_TRAP_INT_OVERFLOW, "integer overflow");
    sp--; sp[-1].i64 = a / b; NEXT();
}
L_I64_DIV_U: {
    uint64_t a = sp[-2].u64, b = sp[-1].u64;
    if (b == 0) TRAP(WASM_TRAP_DIV_ZERO, "integer divide by zero");
    sp--; sp[-1].u64 = a / b; NEXT();
}
L_I64_REM_S: {
    int64_t a = sp[-2].i64, b = sp[-1].i64;
    if (b == 0) TRAP(WASM_TRAP_DIV_ZERO, "integer divide by zero");
    sp--; sp[-1].i64 = b == -1 ? 0 : a % b; NEXT();
}
L_I64_REM_U: {
    uint64_t a = sp[-2].u64, b = sp[-1].u64;
    if (b == 0) TRAP(WASM_TRAP_DIV_ZERO, "integer divide by zero");
    sp--; sp[-1].u64 = a % b; NEXT();
}
    BIN(I64_AND, u64, u64, a & b) BIN(I64_OR, u64, u64, a | b) BIN(I64_XOR, u64, u64, a ^ b)
    BIN(I64_SHL, u64, u64, a << (b & 63)) BIN(I64_SHR_U, u64, u64, a >> (b & 63))
    BIN(I64_SHR_S, i64, i64, a >> (b & 63))
    BIN(I64_ROTL, u64, u64, rotl64(a, b)) BIN(I64_ROTR, u64, u64, rotr64(a, b))
    UN(F32_ABS, u32, u32, a & 0x7fffffffu) UN(F32_NEG, u32, u32, a ^ 0x80000000u)
    UN(F32_CEIL, f32, f32, a != a ? a + a : ceilf(a)) UN(F32_FLOOR, f32, f32, a != a ? a + a : floorf(a))
    UN(F32_TRUNC, f32, f32, a != a ? a + a : truncf(a)) UN(F32_NEAREST, f32, f32, a != a ? a + a : nearbyintf(a))
    UN(F32_SQRT, f32, f32, sqrtf(a))
    BIN(F32_ADD, f32, f32, a + b) BIN(F32_SUB, f32, f32, a - b)
    BIN(F32_MUL, f32, f32, a * b) BIN(F32_DIV, f32, f32, a / b)
    BIN(F32_MIN, f32, f32, wf32_min(a, b)) BIN(F32_MAX, f32, f32, wf32_max(a, b))
    BIN(F32_COPYSIGN, u32, u32, (a & 0x7fffffffu) | (b & 0x80000000u))
    UN(F64_ABS, u64, u64, a & 0x7fffffffffffffffull) UN(F64_NEG, u64, u64, a ^ 0x8000000000000000ull)
    UN(F64_CEIL, f64, f64, a != a ? a + a : ceil(a)) UN(F64_FLOOR, f64, f64, a != a ? a + a : floor(a))
    UN(F64_TRUNC, f64, f64, a != a ? a + a : trunc(a)) UN(F64_NEAREST, f64, f64, a != a ? a + a : nearbyint(a))
    UN(F64_SQRT, f64, f64, sqrt(a))
    BIN(F64_ADD, f64, f64, a + b) BIN(F64_SUB, f64, f64, a - b)
    BIN(F64_MUL, f64, f64, a * b) BIN(F64_DIV, f64, f64, a / b)
    BIN(F64_MIN, f64, f64, wf64_min(a, b)) BIN(F64_MAX, f64, f64, wf64_max(a, b))
    BIN(F64_COPYSIGN, u64, u64, (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull))
    UN(I32_WRAP_I64, u64, u64, (uint32_t)a)
#define TRUNC(NAME, IN, OUT, CT, RANGE) \
L_##NAME: { double x_ = (double)sp[-1].IN; \
    switch (trunc_check(x_, RANGE)) { \
    case 1: TRAP(WASM_TRAP_INVALID_CONVERSION, "invalid conversion to integer"); \
    case 2: TRAP(WASM_TRAP_INT_OVERFLOW, "integer overflow"); } \
    sp[-1].OUT = (CT)x_; NEXT(); }
    TRUNC(I32_TRUNC_F32_S, f32, i32, int32_t, TR_I32_S)
    TRUNC(I32_TRUNC_F32_U, f32, u32, uint32_t, TR_U32)
    TRUNC(I32_TRUNC_F64_S, f64, i32, int32_t, TR_I32_S)
    TRUNC(I32_TRUNC_F64_U, f64, u32, uint32_t, TR_U32)
    TRUNC(I64_TRUNC_F32_S, f32, i64, int64_t, TR_I64_S)
    TRUNC(I64_TRUNC_F32_U, f32, u64, uint64_t, TR_U64)
    TRUNC(I64_TRUNC_F64_S, f64, i64, int64_t, TR_I64_S)
    TRUNC(I64_TRUNC_F64_U, f64, u64, uint64_t, TR_U64)
    UN(I64_EXTEND_I32_S, i32, i64, (int64_t)a) UN(I64_EXTEND_I32_U, u32, u64, (uint64_t)a)
    UN(F32_CONVERT_I32_S, i32, f32, (float)a) UN(F32_CONVERT_I32_U, u32, f32, (float)a)
    UN(F32_CONVERT_I64_S, i64, f32, (float)a) UN(F32_CONVERT_I64_U, u64, f32, (float)a)
    UN(F32_DEMOTE_F64, f64, f32, (float)a)
    UN(F64_CONVERT_I32_S, i32, f64, (double)a) UN(F64_CONVERT_I32_U, u32, f64, (double)a)
    UN(F64_CONVERT_I64_S, i64, f64, (double)a) UN(F64_CONVERT_I64_U, u64, f64, (double)a)
    UN(F64_PROMOTE_F32, f32, f64, (double)a)
    UN(I32_REINTERPRET_F32, u32, u64, a) UN(I64_REINTERPRET_F64, u64, u64, a)
    UN(F32_REINTERPRET_I32, u32, u64, a) UN(F64_REINTERPRET_I64, u64, u64, a)
    UN(I32_EXTEND8_S, u32, u32, (uint32_t)(int32_t)(int8_t)a)
    UN(I32_EXTEND16_S, u32, u32, (uint32_t)(int32_t)(int16_t)a)
    UN(I64_EXTEND8_S, u64, u64, (uint64_t)(int64_t)(int8_t)a)
    UN(I64_EXTEND16_S, u64, u64, (uint64_t)(int64_t)(int16_t)a)
    UN(I64_EXTEND32_S, u64, u64, (uint64_t)(int64_t)(int32_t)a)
    UN(I32_TRUNC_SAT_F32_S, f32, i32, sat_i32_s(a)) UN(I32_TRUNC_SAT_F32_U, f32, u32, sat_i32_u(a))
    UN(I32_TRUNC_SAT_F64_S, f64, i32, sat_i32_s(a)) UN(I32_TRUNC_SAT_F64_U, f64, u32, sat_i32_u(a))
    UN(I64_TRUNC_SAT_F32_S, f32, i64, sat_i64_s(a)) UN(I64_TRUNC_SAT_F32_U, f32, u64, sat_i64_u(a))
    UN(I64_TRUNC_SAT_F64_S, f64, i64, sat_i64_s(a)) UN(I64_TRUNC_SAT_F64_U, f64, u64, sat_i64_u(a))

    /* ---- superinstructions (see ops.h) ---- */
#define FUSED(NAME, IN, OUT, EXPR) \
L_##NAME##_LL: { __typeof__(sp->IN) a = fp[pc->p.a].IN, b = fp[pc->p.b].IN; pc++; sp->OUT = (EXPR); sp++; NEXT(); } \
L_##NAME##_LC: { wasm_slot k_ = {.u64 = pc[1].u64}; __typeof__(sp->IN) a = fp[pc->u64].IN, b = k_.IN; \
                 pc += 2; sp->OUT = (EXPR); sp++; NEXT(); } \
L_##NAME##_SC: { wasm_slot k_ = {.u64 = pc->u64}; __typeof__(sp->IN) a = sp[-1].IN, b = k_.IN; \
                 pc++; sp[-1].OUT = (EXPR); NEXT(); }
    WASM_FUSED_OPS(FUSED)
#define FUSED_SET(NAME, IN, OUT, EXPR) \
L_##NAME##_LL_SET: { __typeof__(sp->IN) a = fp[pc->p.a].IN, b = fp[pc->p.b].IN; \
                 fp[pc[1].u64].OUT = (EXPR); pc += 2; NEXT(); } \
L_##NAME##_LC_SET: { wasm_slot k_ = {.u64 = pc[1].u64}; __typeof__(sp->IN) a = fp[pc->u64].IN, b = k_.IN; \
                 fp[pc[2].u64].OUT = (EXPR); pc += 3; NEXT(); } \
L_##NAME##_SC_SET: { wasm_slot k_ = {.u64 = pc->u64}; __typeof__(sp->IN) a = sp[-1].IN, b = k_.IN; \
                 sp--; fp[pc[1].u64].OUT = (EXPR); pc += 2; NEXT(); } \
L_##NAME##_SS_SET: { __typeof__(sp->IN) a = sp[-2].IN, b = sp[-1].IN; \
                 sp -= 2; fp[pc->u64].OUT = (EXPR); pc++; NEXT(); } \
L_##NAME##_LC_TEE: { wasm_slot k_ = {.u64 = pc[1].u64}; __typeof__(sp->IN) a = fp[pc->u64].IN, b = k_.IN; \
                 sp->OUT = (EXPR); fp[pc[2].u64] = *sp++; pc += 3; NEXT(); } \
L_##NAME##_SS_TEE: { __typeof__(sp->IN) a = sp[-2].IN, b = sp[-1].IN; \
                 sp--; sp[-1].OUT = (EXPR); fp[pc->u64] = sp[-1]; pc++; NEXT(); } \
L_##NAME##_LL_TEE: { __typeof__(sp->IN) a = fp[pc->p.a].IN, b = fp[pc->p.b].IN; \
                 sp->OUT = (EXPR); fp[pc[1].u64] = *sp++; pc += 2; NEXT(); } \
L_##NAME##_SC_TEE: { wasm_slot k_ = {.u64 = pc->u64}; __typeof__(sp->IN) a = sp[-1].IN, b = k_.IN; \
                 sp[-1].OUT = (EXPR); fp[pc[1].u64] = sp[-1]; pc += 2; NEXT(); }
    WASM_FUSED_ARITH(FUSED_SET)
#define FUSED_BR(NAME, IN, OUT, EXPR) \
L_##NAME##_LL_BRNZ: { __typeof__(sp->IN) a = fp[pc->p.a].IN, b = fp[pc->p.b].IN; \
                 if ((EXPR) != 0) JUMP_AT(pc + 1); else pc += 2; NEXT(); } \
L_##NAME##_LL_BRZ: { __typeof__(sp->IN) a = fp[pc->p.a].IN, b = fp[pc->p.b].IN; \
                 if ((EXPR) == 0) JUMP_AT(pc + 1); else pc += 2; NEXT(); } \
L_##NAME##_LC_BRNZ: { wasm_slot k_ = {.u64 = pc[1].u64}; __typeof__(sp->IN) a = fp[pc->u64].IN, b = k_.IN; \
                 if ((EXPR) != 0) JUMP_AT(pc + 2); else pc += 3; NEXT(); } \
L_##NAME##_LC_BRZ: { wasm_slot k_ = {.u64 = pc[1].u64}; __typeof__(sp->IN) a = fp[pc->u64].IN, b = k_.IN; \
                 if ((EXPR) == 0) JUMP_AT(pc + 2); else pc += 3; NEXT(); } \
L_##NAME##_SC_BRNZ: { wasm_slot k_ = {.u64 = pc->u64}; __typeof__(sp->IN) a = sp[-1].IN, b = k_.IN; \
                 sp--; if ((EXPR) != 0) JUMP_AT(pc + 1); else pc += 2; NEXT(); } \
L_##NAME##_SS_BRNZ: { __typeof__(sp->IN) a = sp[-2].IN, b = sp[-1].IN; \
                 sp -= 2; if ((EXPR) != 0) JUMP_AT(pc); else pc++; NEXT(); }
    WASM_FUSED_CMP(FUSED_BR)

L_EXIT: goto done;
trapped:
    ex->depth = depth0;
    ex->fuel = fuel;
    return st;
done:
    ex->depth = depth;
    ex->fuel = fuel;
    return WASM_OK;
}

const void *const *wasm_interp_labels(void)
{
    const void *const *labels = NULL;
    run(NULL, NULL, NULL, &labels);
    return labels;
}

wasm_status wasm_interp_call(wasm_instance *ex, wasm_func *f, wasm_slot *args)
{
    return run(ex, f, args, NULL);
}
