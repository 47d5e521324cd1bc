/*
 * sluice/wasm.h - Sluice's WebAssembly 2.0 engine (interpreter), usable on its
 * own: it depends on libc, libm and pthread only, never on gateway code.
 *
 * Supported: the 2.0 core (MVP, mutable-global import/export, sign extension,
 * non-trapping float-to-int, multi-value, bulk memory, reference types).
 * SIMD (v128) is not: a module that uses it is rejected at load time.
 *
 * Life cycle:
 *   wasm_module_load()     decode + fully validate + translate to internal code
 *   wasm_imports_new()     what the host offers: host functions, memories,
 *                          tables, globals, or another instance's exports
 *   wasm_instance_new()    link imports, allocate memory/tables/globals, run
 *                          the start function, with per-instance limits
 *   wasm_instance_func()   look up an export, then wasm_call() it
 *
 * Ownership: every object returned by a *_new / *_load function belongs to the
 * caller and is released by the matching *_free. Pointers returned by lookups
 * (exports, memories, types, names) are borrowed from the object they came
 * from and live as long as it does. A module must outlive its instances; an
 * imports set, and host-created memories/tables/globals, must outlive the
 * instances that were linked with them; an instance whose exports another
 * instance imported must outlive that instance. When instantiation fails
 * after writing into an imported table (the spec keeps such writes), the
 * half-made instance is kept alive by that table and freed with it, so its
 * module must outlive the table too.
 *
 * Threads: a module is immutable after loading and may be instantiated from
 * several threads at once. An instance (with everything it imports from other
 * instances) must be used by one thread at a time; different threads may run
 * different, independent instances concurrently. wasm_instance_interrupt() is
 * the one call that is safe from any thread at any time.
 *
 * Prefix: wasm_ for every public name.
 */
#ifndef SLUICE_WASM_H
#define SLUICE_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- values ---------------------------------------------------------- */

/* Value types, with their binary-format codes. */
typedef uint8_t wasm_valtype;
#define WASM_I32       ((wasm_valtype)0x7f)
#define WASM_I64       ((wasm_valtype)0x7e)
#define WASM_F32       ((wasm_valtype)0x7d)
#define WASM_F64       ((wasm_valtype)0x7c)
#define WASM_V128      ((wasm_valtype)0x7b) /* never accepted; named for messages */
#define WASM_FUNCREF   ((wasm_valtype)0x70)
#define WASM_EXTERNREF ((wasm_valtype)0x6f)

typedef struct wasm_func wasm_func;         /* a function (wasm or host) */
typedef struct wasm_memory wasm_memory;     /* a linear memory */
typedef struct wasm_table wasm_table;       /* a table of references */
typedef struct wasm_global wasm_global;     /* a global variable */
typedef struct wasm_module wasm_module;     /* a validated, translated module */
typedef struct wasm_instance wasm_instance; /* an instantiated module */
typedef struct wasm_imports wasm_imports;   /* what the host offers to link */

/* A typed value. funcref: `func` (NULL = null); externref: `ref`, an opaque
 * host pointer (NULL = null). f32/f64 keep their exact bits (NaN payloads). */
typedef struct wasm_val {
    wasm_valtype type;
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        wasm_func *func;
        void *ref;
    } of;
} wasm_val;

static inline wasm_val wasm_val_i32(int32_t v) { wasm_val r; r.type = WASM_I32; r.of.i64 = 0; r.of.i32 = v; return r; }
static inline wasm_val wasm_val_i64(int64_t v) { wasm_val r; r.type = WASM_I64; r.of.i64 = v; return r; }
static inline wasm_val wasm_val_f32(float v) { wasm_val r; r.type = WASM_F32; r.of.i64 = 0; r.of.f32 = v; return r; }
static inline wasm_val wasm_val_f64(double v) { wasm_val r; r.type = WASM_F64; r.of.f64 = v; return r; }

/* A function signature. The arrays are borrowed from the module or host
 * function that owns the type. */
typedef struct wasm_functype {
    uint32_t nparams, nresults;
    const wasm_valtype *params;
    const wasm_valtype *results;
} wasm_functype;

/* ---- status, traps and errors ---------------------------------------- */

typedef enum wasm_status {
    WASM_OK = 0,
    /* traps: a call (or the start function) stopped */
    WASM_TRAP_UNREACHABLE,            /* `unreachable` executed */
    WASM_TRAP_MEMORY_OOB,             /* out-of-bounds memory access */
    WASM_TRAP_TABLE_OOB,              /* out-of-bounds table access */
    WASM_TRAP_UNDEFINED_ELEMENT,      /* call_indirect index past the table */
    WASM_TRAP_UNINITIALIZED_ELEMENT,  /* call_indirect on a null entry */
    WASM_TRAP_DIV_ZERO,               /* integer divide by zero */
    WASM_TRAP_INT_OVERFLOW,           /* integer overflow (div, trunc) */
    WASM_TRAP_INVALID_CONVERSION,     /* NaN to integer */
    WASM_TRAP_INDIRECT_MISMATCH,      /* call_indirect signature mismatch */
    WASM_TRAP_STACK_EXHAUSTED,        /* value stack or call depth limit */
    WASM_TRAP_DEADLINE,               /* the per-call time limit passed */
    WASM_TRAP_INTERRUPTED,            /* wasm_instance_interrupt() */
    WASM_TRAP_HOST,                   /* a host function failed */
    WASM_TRAP_EXIT,                   /* WASI proc_exit: see exit_code */
    /* errors: nothing ran */
    WASM_ERR_MALFORMED = 100,         /* binary cannot be decoded */
    WASM_ERR_INVALID,                 /* decoded but fails validation */
    WASM_ERR_UNSUPPORTED,             /* valid but uses SIMD */
    WASM_ERR_LINK,                    /* missing or mismatched import */
    WASM_ERR_ARGS,                    /* wrong argument/result count or types */
    WASM_ERR_NOMEM,                   /* allocation failed / limit exceeded */
} wasm_status;

/* True for the trap kinds (a call ran and stopped abnormally). */
static inline bool wasm_status_is_trap(wasm_status s) { return s > WASM_OK && s < WASM_ERR_MALFORMED; }

/* Short fixed name of a status ("unreachable", "out of bounds memory access",
 * ...); a static string. */
const char *wasm_status_name(wasm_status s);

/* Filled by every call that can fail. `message` is for humans: for load
 * errors it names the section, the byte offset and the reason. */
typedef struct wasm_error {
    wasm_status status;
    int exit_code;          /* WASM_TRAP_EXIT only */
    char message[256];
} wasm_error;

/* ---- modules --------------------------------------------------------- */

/* Decodes and validates `bytes` (copied as needed; the caller keeps them).
 * Returns a module the caller frees with wasm_module_free(), or NULL with
 * *err filled (err may be NULL). */
wasm_module *wasm_module_load(const uint8_t *bytes, size_t len, wasm_error *err);
void wasm_module_free(wasm_module *m);

typedef enum wasm_extern_kind {
    WASM_EXTERN_FUNC = 0, WASM_EXTERN_TABLE = 1, WASM_EXTERN_MEMORY = 2, WASM_EXTERN_GLOBAL = 3
} wasm_extern_kind;

/* Import / export introspection; strings are borrowed from the module. For a
 * function, `type` is its signature (NULL for other kinds). */
typedef struct wasm_port {
    const char *module;     /* imports only */
    const char *name;
    wasm_extern_kind kind;
    const wasm_functype *type;
    wasm_valtype valtype;   /* global: its type; table: its element type */
    bool mutable_;          /* global */
    uint32_t min, max;      /* table/memory limits (max UINT32_MAX if none) */
} wasm_port;
uint32_t wasm_module_num_imports(const wasm_module *m);
uint32_t wasm_module_num_exports(const wasm_module *m);
bool wasm_module_import(const wasm_module *m, uint32_t i, wasm_port *out);
bool wasm_module_export(const wasm_module *m, uint32_t i, wasm_port *out);

/* ---- host imports ---------------------------------------------------- */

/* A host function. `caller` is the instance whose code made the call (use it
 * to reach its memory). Read args[0..nparams), write results[0..nresults)
 * (types pre-set). Return WASM_OK, or a trap via wasm_host_trap(). */
typedef wasm_status (*wasm_host_fn)(wasm_instance *caller, const wasm_val *args,
                                    wasm_val *results, void *user);

/* Records a trap message on `caller` and returns `kind` (normally
 * WASM_TRAP_HOST, or WASM_TRAP_EXIT with exit_code) for the callback to return. */
wasm_status wasm_host_trap(wasm_instance *caller, wasm_status kind, int exit_code,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Returns a new, empty imports set (caller frees with wasm_imports_free). */
wasm_imports *wasm_imports_new(void);
void wasm_imports_free(wasm_imports *imp);

/* Adds host function module.name with signature `sig`, written as
 * "params>results" with one letter per type: i=i32 I=i64 f=f32 F=f64
 * r=funcref x=externref; e.g. "ii>i", ">", "iiii>i". At most 16 params and
 * 16 results. Names are copied. Returns false on a bad signature or OOM. */
bool wasm_imports_add_func(wasm_imports *imp, const char *module, const char *name,
                           const char *sig, wasm_host_fn fn, void *user);
/* Adds an existing object (host-created or another instance's export). */
bool wasm_imports_add_memory(wasm_imports *imp, const char *module, const char *name, wasm_memory *mem);
bool wasm_imports_add_table(wasm_imports *imp, const char *module, const char *name, wasm_table *tab);
bool wasm_imports_add_global(wasm_imports *imp, const char *module, const char *name, wasm_global *g);
bool wasm_imports_add_wasm_func(wasm_imports *imp, const char *module, const char *name, wasm_func *f);
/* Adds every export of `inst` under module name `module` (the spec's
 * "register"). */
bool wasm_imports_add_instance(wasm_imports *imp, const char *module, wasm_instance *inst);

/* Host-created objects, owned by the caller (free after every instance that
 * imports them). max = UINT32_MAX for "no maximum". */
wasm_memory *wasm_memory_new(uint32_t min_pages, uint32_t max_pages);
void wasm_memory_free(wasm_memory *mem);
wasm_table *wasm_table_new(wasm_valtype elem, uint32_t min, uint32_t max);
void wasm_table_free(wasm_table *t);
wasm_global *wasm_global_new(wasm_val init, bool mutable_);
void wasm_global_free(wasm_global *g);

/* ---- instances ------------------------------------------------------- */

/* Per-instance limits; a zero field takes the default (in brackets). */
typedef struct wasm_limits {
    uint32_t max_memory_pages;  /* cap on every memory this instance defines [65536] */
    uint32_t max_table_size;    /* cap on every table it defines [1<<20] */
    uint32_t max_call_depth;    /* nested wasm calls [10000] */
    uint32_t stack_slots;       /* value stack, 8-byte slots [1<<20] */
    /* The instance's initial wasm_instance_set_timeout_ns value, so that it
     * also bounds the start function, which runs inside wasm_instance_new
     * (trap WASM_TRAP_DEADLINE fails the instantiation) [0 = none]. */
    uint64_t timeout_ns;
    /* Optional interrupt flag shared with the host (e.g. one per plugin or
     * per process for shutdown): while *interrupt is nonzero, every call on
     * the instance, the start function included, stops with
     * WASM_TRAP_INTERRUPTED at its next check. Never cleared by the engine
     * (unlike wasm_instance_interrupt's one-shot request); must outlive the
     * instance. [NULL] */
    const _Atomic int *interrupt;
} wasm_limits;

/* Links `imp` (may be NULL when the module imports nothing), allocates the
 * instance and runs the start function. Returns an instance the caller frees
 * with wasm_instance_free(), or NULL with *err: WASM_ERR_LINK for an import
 * that is missing ("import not found: env.f") or mismatched, a trap status if
 * initialization trapped. `limits` may be NULL. */
wasm_instance *wasm_instance_new(const wasm_module *m, const wasm_imports *imp,
                                 const wasm_limits *limits, wasm_error *err);
void wasm_instance_free(wasm_instance *inst);

const wasm_module *wasm_instance_module(const wasm_instance *inst);

/* Export lookups by name: borrowed pointers, NULL if absent or another kind. */
wasm_func *wasm_instance_func(wasm_instance *inst, const char *name);
wasm_memory *wasm_instance_export_memory(wasm_instance *inst, const char *name);
wasm_table *wasm_instance_export_table(wasm_instance *inst, const char *name);
wasm_global *wasm_instance_export_global(wasm_instance *inst, const char *name);
/* The same for names that may contain NUL bytes. */
wasm_func *wasm_instance_func_len(wasm_instance *inst, const char *name, size_t len);
/* Memory 0 (imported or defined), or NULL: what host functions use. */
wasm_memory *wasm_instance_memory(wasm_instance *inst);

/* User pointer attached to an instance (e.g. the plugin it belongs to). */
void wasm_instance_set_user(wasm_instance *inst, void *user);
void *wasm_instance_user(const wasm_instance *inst);

/* Time limit for each following top-level wasm_call (0 = none), measured on
 * CLOCK_MONOTONIC; checked at loop back-edges and calls. */
void wasm_instance_set_timeout_ns(wasm_instance *inst, uint64_t ns);
/* Asks a running (or the next) call to stop with WASM_TRAP_INTERRUPTED. Safe
 * from any thread. The request is consumed by the trap it causes. */
void wasm_instance_interrupt(wasm_instance *inst);

/* Calls `f` with `nargs` typed arguments; results go to results[0..nresults).
 * The counts and argument types must match f's signature (else
 * WASM_ERR_ARGS). Returns WASM_OK or a trap kind; *err (may be NULL) gets
 * the message. After a trap the instance remains usable (memory and globals
 * keep whatever the code wrote before trapping). Re-entrant from host
 * functions on the same thread. */
wasm_status wasm_call(wasm_instance *inst, wasm_func *f, const wasm_val *args, uint32_t nargs,
                      wasm_val *results, uint32_t nresults, wasm_error *err);

/* The signature of a function (borrowed). */
const wasm_functype *wasm_func_type(const wasm_func *f);

/* ---- memories, globals, tables ---------------------------------------- */

/* Base pointer and size in bytes. Both change when memory grows: re-read
 * them after any call into wasm code. */
uint8_t *wasm_memory_data(wasm_memory *mem);
uint64_t wasm_memory_size(const wasm_memory *mem);
uint32_t wasm_memory_pages(const wasm_memory *mem);
/* Grows by `delta` pages; returns the old page count or -1 (over max/cap). */
int64_t wasm_memory_grow(wasm_memory *mem, uint32_t delta);
/* Bounds-checked copies; return false (and copy nothing) when
 * [offset, offset+len) is not inside the memory. */
bool wasm_memory_read(const wasm_memory *mem, uint64_t offset, void *dst, size_t len);
bool wasm_memory_write(wasm_memory *mem, uint64_t offset, const void *src, size_t len);
/* Returns a pointer to [offset, offset+len) if inside the memory, else NULL.
 * Valid until the memory grows. */
uint8_t *wasm_memory_ptr(wasm_memory *mem, uint64_t offset, uint64_t len);

wasm_val wasm_global_get(const wasm_global *g);
/* Fails on a type mismatch or an immutable global. */
bool wasm_global_set(wasm_global *g, wasm_val v);
wasm_valtype wasm_global_type(const wasm_global *g);
bool wasm_global_mutable(const wasm_global *g);

uint32_t wasm_table_size(const wasm_table *t);
bool wasm_table_get(const wasm_table *t, uint32_t i, wasm_val *out);
bool wasm_table_set(wasm_table *t, uint32_t i, wasm_val v);

/* ---- WASI preview1 (optional import set, src/wasm/wasi.c) ----------------- */

/* Where fd 1 and fd 2 output goes; `fd` is 1 or 2. */
typedef void (*wasm_wasi_sink)(void *user, int fd, const char *data, size_t len);

typedef struct wasm_wasi_config {
    wasm_wasi_sink sink;      /* NULL: output discarded */
    void *sink_user;
    int argc;                 /* args_get: argv[0..argc) (copied at add time) */
    const char *const *argv;
    int envc;                 /* environ_get: "K=V" strings */
    const char *const *envv;
} wasm_wasi_config;

/* Adds the wasi_snapshot_preview1 functions to `imp`: fd_write (fds 1/2 to
 * the sink), proc_exit (trap WASM_TRAP_EXIT with the code), clock_time_get,
 * clock_res_get, random_get, args_*, environ_*, sched_yield; the rest of the
 * commonly imported functions return ENOSYS or EBADF. The config strings are
 * copied into state owned by `imp`. Returns false on OOM. */
bool wasm_wasi_add(wasm_imports *imp, const wasm_wasi_config *cfg);

/* ---- engine choice and the compiled tier (src/wasm/aot, docs/wasm-aot.md) ---- */

/* INTERP: the interpreter. AOT: wasm2c + cc, cached as a shared object under
 * $XDG_CACHE_HOME/sluice/aot (fails with WASM_ERR_UNSUPPORTED, "aot: ...",
 * when the module or the toolchain cannot be compiled). AUTO: AOT when
 * possible, else the interpreter. Everything after loading (imports,
 * instances, calls, limits, deadlines, traps) is the same for both tiers. */
typedef enum wasm_engine { WASM_ENGINE_INTERP = 0, WASM_ENGINE_AOT, WASM_ENGINE_AUTO } wasm_engine;
wasm_module *wasm_module_load_engine(const uint8_t *bytes, size_t len, wasm_engine engine, wasm_error *err);
/* True if instances of m run compiled code. */
bool wasm_module_is_aot(const wasm_module *m);
/* Tier-up: a new, compiled module with the same code as m (any tier),
 * compiling on a cache miss (seconds: call it from a background thread) and
 * loading the cached object. The caller frees it with wasm_module_free();
 * m is untouched and stays usable. Instantiate it with the same
 * wasm_imports (wasm_instance_new) as m: the imports, limits, deadlines and
 * traps behave the same. Thread-safe: m may be instantiated and called on
 * other threads meanwhile, and several compiles may run at once. NULL with
 * *err (WASM_ERR_UNSUPPORTED "aot: ...") when the module or the toolchain
 * cannot be compiled; then keep using m. */
wasm_module *wasm_module_compile_aot(const wasm_module *m, wasm_error *err);
/* Fills the cache (compiles unless cached); *cache_hit (may be NULL) says
 * whether it was already there. */
bool wasm_aot_compile(const uint8_t *bytes, size_t len, bool *cache_hit, wasm_error *err);
/* The cache directory (created); false if there is none. */
bool wasm_aot_cache_dir(char *buf, size_t cap);
/* Background compile for tier-up: start, poll, free (free waits for it).
 * The bytes are copied. Once done and ok, wasm_module_load_engine(AOT) of
 * the same bytes is a cache hit. */
typedef struct wasm_aot_job wasm_aot_job;
wasm_aot_job *wasm_aot_compile_async(const uint8_t *bytes, size_t len);
bool wasm_aot_job_done(const wasm_aot_job *j, bool *ok, wasm_error *err);
/* Blocks until the job is done; its result (*err on failure; may be NULL).
 * One thread at a time; wasm_aot_job_free still frees it. */
bool wasm_aot_job_wait(wasm_aot_job *j, wasm_error *err);
/* Stops the job soon (any thread, any time before free): kills the compiler
 * step running now (its whole process group) and starts no other; the job
 * then ends failed. Its temporary directory is removed and nothing enters
 * the cache (entries only appear by rename of a complete file). */
void wasm_aot_job_cancel(wasm_aot_job *j);
void wasm_aot_job_free(wasm_aot_job *j);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_WASM_H */
