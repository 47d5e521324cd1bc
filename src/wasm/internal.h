/*
 * src/wasm/internal.h - data structures shared by the engine's files.
 *
 *   decode.c    binary format -> wasm_module (sections, limits, segments)
 *   compile.c   per-function validation fused with translation to IR
 *   ops.h       the IR instruction set and its superinstructions
 *   interp.c    the direct-threaded interpreter over that IR
 *   numeric.h   the arithmetic semantics the interpreter inlines
 *   instance.c  linking, instantiation, segments, exports
 *   api.c       the public API around values, memories, tables, calls
 *   wasi.c      WASI preview1 host functions
 */
#ifndef SLUICE_WASM_INTERNAL_H
#define SLUICE_WASM_INTERNAL_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/wasm.h"

#define WASM_PAGE 65536u
#define WASM_MAX_PAGES 65536u
#define WASM_MAX_LOCALS 50000u      /* per function, params included */
#define WASM_MAX_HOST_ARITY 16u

/* One operand-stack or local slot: every value fits in 64 bits. References
 * are pointers (wasm_func* for funcref, host pointer for externref); null is 0. */
typedef union wasm_slot {
    uint64_t u64;
    int64_t i64;
    uint32_t u32;
    int32_t i32;
    float f32;
    double f64;
    void *ptr;
} wasm_slot;

/* One cell of translated code: an opcode (label address of its handler) or
 * an immediate. Branch targets are cell offsets relative to the branching
 * instruction's first cell, so the buffer can grow while being written. */
typedef union wasm_cell {
    const void *op;
    uint64_t u64;
    int64_t i64;
    struct { uint32_t a, b; } p;
    void *ptr;
} wasm_cell;

/* A constant expression (global initializers, segment offsets, element items). */
typedef struct wasm_const {
    uint8_t op;         /* 0x41/42/43/44 const, 0x23 global.get, 0xd0 ref.null, 0xd2 ref.func */
    uint32_t idx;       /* global.get / ref.func index */
    wasm_slot value;    /* constants */
} wasm_const;

typedef struct wasm_limits_decl {
    uint32_t min, max;
    bool has_max;
} wasm_limits_decl;

typedef struct wasm_import_decl {
    char *module, *name;
    wasm_extern_kind kind;
    uint32_t type;               /* func: type index */
    wasm_valtype vt;             /* table: elem type; global: value type */
    bool mut;                    /* global */
    wasm_limits_decl lim;        /* table / memory */
} wasm_import_decl;

typedef struct wasm_table_decl { wasm_valtype elem; wasm_limits_decl lim; } wasm_table_decl;
typedef struct wasm_global_decl { wasm_valtype type; bool mut; wasm_const init; } wasm_global_decl;
typedef struct wasm_export_decl { char *name; uint32_t name_len; wasm_extern_kind kind; uint32_t idx; } wasm_export_decl;

enum { WASM_SEG_ACTIVE, WASM_SEG_PASSIVE, WASM_SEG_DECLARATIVE };

typedef struct wasm_elem_decl {
    int mode;
    uint32_t table;
    wasm_const offset;
    wasm_valtype type;
    uint32_t count;
    wasm_const *items;
} wasm_elem_decl;

typedef struct wasm_data_decl {
    int mode;
    uint32_t mem;
    wasm_const offset;
    const uint8_t *bytes;        /* into wasm_module.bytes */
    uint32_t len;
} wasm_data_decl;

/* A defined function after translation. */
typedef struct wasm_code {
    uint32_t type;
    uint32_t nparams, nresults;
    uint32_t nlocals;            /* params + declared locals */
    uint32_t max_height;         /* operand stack high-water mark above the locals */
    size_t frame_slots;          /* nlocals + max_height + 1: checked once per call */
    size_t entry;                /* offset of its first cell in wasm_module.ir */
    const wasm_cell *ir;         /* that cell, once every function is compiled */
    bool inline_candidate;       /* tiny leaf (inline.c): compiled first */
    bool inlinable;              /* candidate, compiled: calls to it are inlined */
    uint32_t alias_plus1;        /* a trampoline to function alias_plus1 - 1 of the
                                  * same type: calls go there (0: none; inline.c) */
    const uint8_t *body;         /* body bytes (after the size), during compile */
    size_t body_len;
    size_t body_offset;          /* file offset, for messages */
} wasm_code;

struct wasm_module {
    uint8_t *bytes;              /* private copy of the binary */
    size_t len;
    wasm_functype *types; uint32_t ntypes;
    wasm_valtype *typebuf;       /* storage of all params/results */
    wasm_import_decl *imports; uint32_t nimports;
    uint32_t *func_types; uint32_t nfuncs, nimported_funcs;
    wasm_table_decl *tables; uint32_t ntables, nimported_tables;
    wasm_limits_decl *mems; uint32_t nmems, nimported_mems;
    wasm_global_decl *globals; uint32_t nglobals, nimported_globals;
    wasm_export_decl *exports; uint32_t nexports;
    int64_t start;               /* -1: none */
    wasm_elem_decl *elems; uint32_t nelems;
    wasm_data_decl *datas; uint32_t ndatas;
    bool has_datacount; uint32_t datacount;
    uint8_t *func_refs;          /* functions that ref.func may name (C.refs) */
    wasm_code *codes;            /* nfuncs - nimported_funcs */
    wasm_cell *ir; size_t ir_len, ir_cap;
    struct aot_lib *aot;         /* compiled tier (src/wasm/aot/), or NULL */
};

/* ---- runtime objects ---- */

struct wasm_func {
    const wasm_functype *type;
    wasm_instance *inst;         /* defining instance; NULL for host functions */
    const wasm_code *code;       /* wasm functions */
    const wasm_cell *ir;         /* first cell of its code */
    wasm_host_fn host;           /* host functions */
    void *user;
    wasm_valtype sig[2 * WASM_MAX_HOST_ARITY];  /* host functions own their type */
    wasm_functype own_type;
};

struct wasm_memory {
    uint8_t *data;
    uint64_t size;               /* bytes = pages * 64 KiB */
    uint32_t pages, max;         /* max already includes the instance cap */
    uint32_t decl_max;           /* as declared (for import matching) */
    bool has_max;
    struct aot_ctx *aot;         /* mirror of a compiled instance's memory, or NULL */
};

struct wasm_table {
    wasm_valtype elem;
    uint32_t size, max;          /* max already includes the instance cap */
    uint32_t decl_max;
    bool has_max;
    void **elems;
    wasm_instance *orphans;      /* failed instantiations whose functions we hold */
};

struct wasm_global {
    wasm_valtype type;
    bool mut;
    wasm_slot val;
};

/* A frame of the call stack (the values live in the value stack). */
typedef struct wasm_frame {
    const wasm_cell *ret_pc;
    wasm_slot *fp;
    wasm_instance *inst;         /* the caller's instance */
} wasm_frame;

struct wasm_instance {
    const wasm_module *mod;
    wasm_func **funcs;           /* all functions, imported first */
    wasm_func *own_funcs;
    wasm_table **tables; wasm_table *own_tables;
    wasm_memory **mems; wasm_memory *own_mems;
    wasm_global **globals; wasm_global *own_globals;
    wasm_memory *mem0;           /* mems[0] or NULL: what the interpreter uses */
    void ***elem_items;          /* per element segment: its references */
    uint32_t *elem_len;          /* 0 once dropped */
    uint8_t *data_dropped;
    wasm_limits limits;
    /* execution state: one value stack and frame stack per instance */
    wasm_slot *stack; size_t stack_slots;
    wasm_frame *frames;
    size_t stack_used;           /* slots in use by outer (re-entered) calls */
    uint32_t depth;              /* frames in use */
    uint64_t timeout_ns;
    uint64_t deadline_ns;        /* 0: none (for the current top-level call) */
    int32_t fuel;                /* back-edges until the next clock check */
    atomic_int interrupt;
    int exit_code;
    char msg[256];
    void *user;
    wasm_instance *next_orphan;
    struct aot_ctx *aot;         /* compiled tier state, or NULL */
};

/* True when a call on inst must stop with WASM_TRAP_INTERRUPTED: consumes a
 * wasm_instance_interrupt() request; the limits' shared flag stays set. */
static inline bool wasm_interrupt_take(wasm_instance *inst)
{
    if (atomic_load_explicit(&inst->interrupt, memory_order_relaxed)) {
        atomic_store(&inst->interrupt, 0);
        return true;
    }
    return inst->limits.interrupt && atomic_load_explicit(inst->limits.interrupt, memory_order_relaxed);
}

/* ---- shared helpers ---- */

/* Reader for the binary format. Errors longjmp to `jb` after formatting
 * `err` (section, offset, reason). */
typedef struct wasm_reader {
    const uint8_t *p, *end, *base;
    const char *section;
    wasm_error *err;
    jmp_buf *jb;
} wasm_reader;

_Noreturn void wasm_fail(wasm_reader *r, wasm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint8_t wasm_read_u8(wasm_reader *r);
uint32_t wasm_read_u32(wasm_reader *r);
int32_t wasm_read_s32(wasm_reader *r);
int64_t wasm_read_s64(wasm_reader *r);
uint32_t wasm_read_count(wasm_reader *r, size_t min_elem_size);
bool wasm_valtype_ok(uint8_t t);
wasm_valtype wasm_read_valtype(wasm_reader *r);

/* Translates function `i` (index among defined functions); errors longjmp. */
void wasm_compile_function(wasm_module *m, uint32_t i, wasm_reader *r);
/* Whether calls to a defined function may be compiled inline (inline.c);
 * such functions are compiled before the others. */
bool wasm_inline_candidate(const wasm_module *m, const wasm_code *code);
/* A trampoline's callee (same type) + 1, or 0: calls go there (inline.c). */
uint32_t wasm_trampoline_target(const wasm_module *m, const wasm_code *code);
/* Table of handler addresses, indexed by enum wasm_op (see ops.h). */
const void *const *wasm_interp_labels(void);

bool wasm_functype_eq(const wasm_functype *a, const wasm_functype *b);
/* Runs f with its args at inst->stack[inst->stack_used..]; results land there. */
wasm_status wasm_interp_call(wasm_instance *inst, wasm_func *f, wasm_slot *args);
uint64_t wasm_now_ns(void);
wasm_status wasm_trap(wasm_instance *inst, wasm_status kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void wasm_set_error(wasm_error *err, wasm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int64_t wasm_memory_grow_impl(wasm_memory *mem, uint32_t delta);
int64_t wasm_table_grow_impl(wasm_table *t, uint32_t delta, void *init);
wasm_slot wasm_val_to_slot(wasm_val v);
/* Attaches state freed with the imports set (one per set; used by wasi.c). */
void wasm_imports_set_state(wasm_imports *imp, void *state, void (*state_free)(void *));
wasm_val wasm_slot_to_val(wasm_slot s, wasm_valtype t);

/* The compiled tier's hooks (src/wasm/aot/aot.h). */
void aot_lib_free(struct aot_lib *lib);
bool aot_instance_finish(wasm_instance *inst, wasm_error *err);
/* False when a compiled module's linked imports cannot be served to its
 * generated code (an imported memory not owned by a compiled instance): that
 * instance is then interpreted. */
bool aot_instance_linkable(const wasm_instance *inst);
void aot_instance_release(wasm_instance *inst);
int64_t aot_memory_grow(wasm_memory *mem, uint32_t delta);

#endif
