/*
 * src/wasm/aot/aot.h - the ahead-of-time tier (wasm2c + cc), internal.
 *
 *   rt.c        our implementation of wasm2c's runtime API (traps, guard-page
 *               memories, tables, function types, SIGSEGV/SIGBUS handler,
 *               deadline watchdog thread)
 *   shim.c      generates the per-module C shim around wasm2c's output
 *   cache.c     SHA-256, the on-disk cache, running wasm2c and cc, dlopen,
 *               background compiles
 *   instance.c  AOT instances behind the public wasm_instance API
 */
#ifndef SLUICE_WASM_AOT_H
#define SLUICE_WASM_AOT_H

#include <stdint.h>
#include <stdio.h>

#include "wasm/internal.h"
#include "wasm/aot/abi.h"

/* Layouts of wasm-rt.h's memory and table structs (asserted in the shim). */
typedef struct aot_rt_memory {
    uint8_t *data;
    uint32_t pages, max_pages;
    uint32_t size;
} aot_rt_memory;

typedef struct aot_rt_table {
    void *data;
    uint32_t max_size;
    uint32_t size;
} aot_rt_table;

/* A loaded compiled module: one per wasm_module (dlclose at free). */
typedef struct aot_lib {
    void *dl;
    const struct sluice_aot_desc *desc;
} aot_lib;

/* Per-instance state: the `ctx` every import sees. */
#define AOT_CTX_MAGIC 0x534c55494345414full   /* "SLUICEAO" */
typedef struct aot_ctx {
    uint64_t magic;               /* AOT_CTX_MAGIC: see aot_ctx_of() in rt.c */
    wasm_instance *inst;          /* the public instance */
    const aot_lib *lib;
    void *rt_inst;                /* wasm2c's instance struct (instance_size bytes) */
    aot_rt_memory *mem0;          /* its memory 0, recorded at allocation, or NULL */
    uint32_t max_pages, max_table;
    struct aot_export_fn *xfns;   /* one per desc->exports entry */
    struct aot_export_global *xglobals; uint32_t nxglobals;
} aot_ctx;

/* A compiled export seen through the public API as a host function. */
typedef struct aot_export_fn {
    aot_ctx *ctx;
    void (*call)(void *, unsigned long long *);
} aot_export_fn;

/* An exported global: the public wasm_global is a copy kept in step with the
 * generated code's storage around every call. */
typedef struct aot_export_global {
    wasm_global *pub;
    void *storage;
} aot_export_global;

/* ---- rt.c ---- */
const struct sluice_aot_rt *aot_rt_table_get(void);
/* Runs fn(rt_inst, slots) as module code with trap recovery and the
 * instance's deadline/interrupt; returns WASM_OK or the trap kind (message in
 * ctx->inst->msg). Re-entrant (nested through imports). */
wasm_status aot_rt_invoke(aot_ctx *ctx, void (*fn)(void *, unsigned long long *),
                          unsigned long long *slots, uint64_t deadline_ns);
/* Runs desc->instantiate under the same protection. */
wasm_status aot_rt_instantiate(aot_ctx *ctx);
/* Brackets a host import: module code is not running in between; a deadline
 * that expired meanwhile traps at aot_rt_import_end. */
void aot_rt_import_begin(void);
void aot_rt_import_end(void);
_Noreturn void aot_rt_trap_status(wasm_status st);
/* wasm_rt_grow_memory for the host side: old page count or (unsigned)-1. */
unsigned aot_rt_grow(aot_rt_memory *mem, unsigned delta);
/* Copies memory 0's current view into the public wasm_memory. */
void aot_rt_sync_memory(aot_ctx *ctx);

/* ---- shim.c ---- */
/* Writes the shim C source for module m (wasm2c name `name`, generated file
 * `gen_c`) to `out`. Returns false with *err when the module uses something
 * the AOT tier does not support (funcref across the boundary, imported
 * memories or tables). */
bool aot_shim_write(FILE *out, const wasm_module *m, const char *name, const char *gen_c,
                    wasm_error *err);
/* Patches wasm2c's output file in place (call_indirect trap kinds). */
bool aot_patch_generated(const char *path);
/* Checks the same conditions without writing. */
bool aot_shim_supported(const wasm_module *m, wasm_error *err);

/* ---- cache.c ---- */
void aot_sha256(const uint8_t *data, size_t len, uint8_t out[32]);
/* Compiles (or finds in the cache) and loads the module; returns a lib the
 * caller frees with aot_lib_free, or NULL with *err. */
aot_lib *aot_lib_load(const wasm_module *m, wasm_error *err);
void aot_lib_free(aot_lib *lib);

/* ---- instance.c ---- */
/* Completes wasm_instance_new for a compiled module once imports are linked
 * (inst->funcs/globals hold them): instantiates the generated code (running
 * the start function) and publishes the exports. On failure the caller
 * frees inst with wasm_instance_free. */
bool aot_instance_finish(wasm_instance *inst, wasm_error *err);
/* Frees the compiled side of inst (called first by wasm_instance_free). */
void aot_instance_release(wasm_instance *inst);

#endif
