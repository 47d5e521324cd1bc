/*
 * src/wasm/aot/abi.h - the contract between the engine and a compiled module
 * (.so). The same text is compiled into the host and pasted into every
 * generated shim (SLUICE_AOT_ABI(SLUICE_AOT_STR)), so the two cannot drift.
 * Only plain C types: the host never includes wabt's wasm-rt.h.
 *
 * Direction host -> .so: `struct sluice_aot_rt`, a table of the runtime
 * functions the generated code needs (the shim defines the wasm_rt_* symbols
 * as hidden forwarders to it, so no -rdynamic and no symbol clashes).
 * Direction .so -> host: `struct sluice_aot_desc` from sluice_aot_entry().
 * Values cross as 64-bit slots (f32/f64 by their bits).
 */
#ifndef SLUICE_WASM_AOT_ABI_H
#define SLUICE_WASM_AOT_ABI_H

#define SLUICE_AOT_ABI_VERSION 2u

#define SLUICE_AOT_ABI(X) X(                                                          \
struct sluice_aot_rt {                                                                \
    unsigned version;                                                                 \
    void (*trap)(unsigned kind);                                                      \
    unsigned (*register_func_type)(unsigned nparams, unsigned nresults,               \
                                   const unsigned *types);                            \
    void (*alloc_memory)(void *mem, unsigned initial, unsigned max);                  \
    unsigned (*grow_memory)(void *mem, unsigned delta);                               \
    void (*free_memory)(void *mem);                                                   \
    void (*alloc_table)(void *tab, unsigned elem_size, unsigned n, unsigned max);     \
    unsigned (*grow_table)(void *tab, unsigned elem_size, unsigned delta,             \
                           const void *init);                                         \
    void (*free_table)(void *tab);                                                    \
    void (*call_import)(void *ctx, unsigned func_index, unsigned long long *slots);   \
    void *(*import_global)(void *ctx, unsigned import_index);                         \
    void *(*import_memory)(void *ctx, unsigned import_index);                         \
};                                                                                    \
struct sluice_aot_export {                                                            \
    unsigned export_index;                                                            \
    void (*call)(void *inst, unsigned long long *slots);                              \
    void *(*get)(void *inst);                                                         \
};                                                                                    \
struct sluice_aot_desc {                                                              \
    unsigned version;                                                                 \
    unsigned long instance_size;                                                      \
    void (*init_module)(void);                                                        \
    void (*instantiate)(void *inst, void *ctx);                                       \
    void (*free)(void *inst);                                                         \
    unsigned nexports;                                                                \
    const struct sluice_aot_export *exports;                                          \
};                                                                                    \
)
#define SLUICE_AOT_EXPAND(...) __VA_ARGS__
#define SLUICE_AOT_STR(...) #__VA_ARGS__

SLUICE_AOT_ABI(SLUICE_AOT_EXPAND)

/* The one symbol a compiled module exports. */
typedef const struct sluice_aot_desc *(*sluice_aot_entry_fn)(const struct sluice_aot_rt *rt);
#define SLUICE_AOT_ENTRY "sluice_aot_entry"

/* wasm-rt.h's trap and type enums, as numbers (checked against the header in
 * the shim with _Static_assert). */
enum { AOT_TRAP_NONE, AOT_TRAP_OOB, AOT_TRAP_INT_OVERFLOW, AOT_TRAP_DIV_BY_ZERO,
       AOT_TRAP_INVALID_CONVERSION, AOT_TRAP_UNREACHABLE, AOT_TRAP_CALL_INDIRECT,
       AOT_TRAP_UNCAUGHT_EXCEPTION, AOT_TRAP_EXHAUSTION,
       /* ours: call_indirect's one trap split the interpreter's way (the
        * generated CALL_INDIRECT macro is patched to raise these) */
       AOT_TRAP_UNDEFINED_ELEMENT = 100, AOT_TRAP_UNINITIALIZED_ELEMENT = 101,
       /* ours: OOB raised inside wasm2c's table helpers (patched, shim.c) */
       AOT_TRAP_TABLE_OOB = 102 };

#endif
