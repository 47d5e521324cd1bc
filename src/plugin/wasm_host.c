/*
 * src/plugin/wasm_host.c - runs Bifrost-ABI WebAssembly plugins on Sluice's
 * own engine: import checking and the host imports (WASI subset,
 * AssemblyScript's env.abort/seed/trace), export resolution, instance
 * start-up (_initialize, init), the hook calling protocol of SPEC §3, and
 * the engine tier (interpreter, compiled, or tier-up from one to the other).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "plugin/plugin_int.h"
#include "sluice/wasm.h"

static const char *const hook_exports[PLG_NHOOKS] = {
    "http_pre_hook", "http_post_hook", "http_stream_chunk_hook", "pre_hook", "post_hook",
};

struct plg_wmod {
    char *name;            /* the config entry's name (file path in the probe) */
    /* The tag of log lines once known: get_name()'s value, published by the
     * first instance that asked for it (workers and the compiler thread
     * read it). Until then, the first init's output carries `name`. */
    _Atomic(char *) tag;
    char *config_json;
    wasm_module *module;   /* what was loaded first: interpreted, or compiled for "aot" */
    /* Tier-up ("auto"): a background thread compiles the module and publishes
     * the compiled form here (release); new instances pick it up (acquire).
     * The interpreted module stays alive for the instances made from it. */
    _Atomic(wasm_module *) compiled;
    pthread_t compiler;
    bool compiler_started;
    wasm_aot_job *job;     /* the compile itself (wasm2c + cc children) */
    atomic_bool cancel;    /* set by plg_wmod_free: no publishing, no log */
    uint8_t *bytes;        /* a copy for the compiler thread, freed by it */
    size_t nbytes;
    wasm_imports *imports;
    wasm_limits limits;
    uint64_t timeout_ns;
    uint64_t mem_cap;      /* bytes */
    const char *malloc_name, *free_name; /* the allocator family in use */
    bool free_two_args;
    bool has_hook[PLG_NHOOKS];
    const char *hook_name[PLG_NHOOKS];   /* http_pre_hook or http_intercept */
    plg_log_fn log;
    void *log_user;
};

struct plg_winst {
    plg_wmod *mod;
    const wasm_module *from;   /* the module it was made from (tier-up check) */
    uint64_t start_bytes;      /* memory size after init (recycling check) */
    wasm_instance *inst;
    wasm_func *fmalloc, *ffree, *freset, *fcleanup;
    wasm_func *hooks[PLG_NHOOKS];
};

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void mod_log(plg_wmod *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mod_log(plg_wmod *m, const char *fmt, ...)
{
    char line[1024];
    char *tag = atomic_load_explicit(&m->tag, memory_order_acquire);
    int n = snprintf(line, sizeof line, "plugin %.128s: ", tag ? tag : m->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (m->log) m->log(m->log_user, line);
    else fprintf(stderr, "%s\n", line);
}

/* ---- host imports ---------------------------------------------------------- */

/* WASI fd_write output: one log line per line of output, each tagged, so a
 * plugin cannot write an untagged (forged) line into the gateway's log.
 * Other control characters become '?'; a line keeps its first 900 bytes. */
static void wasi_sink(void *user, int fd, const char *data, size_t len)
{
    plg_wmod *m = user;
    const char *stream = fd == 2 ? "stderr" : "stdout";
    char line[901];
    size_t n = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || data[i] == '\n') {
            while (n > 0 && line[n - 1] == '\r') n--;
            if (n) mod_log(m, "%s: %.*s", stream, (int)n, line);
            n = 0;
        } else if (n < sizeof line - 1) {
            unsigned char c = (unsigned char)data[i];
            line[n++] = (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f ? '?' : (char)c;
        }
    }
}

/* Decodes an AssemblyScript string (UTF-16LE, byte length at ptr-4) into
 * ASCII-ish UTF-8 for a message; non-ASCII code units become '?'. */
static void as_string(wasm_instance *caller, uint32_t ptr, char *dst, size_t cap)
{
    dst[0] = '\0';
    wasm_memory *mem = wasm_instance_memory(caller);
    uint32_t nbytes;
    if (!mem || ptr < 4 || !wasm_memory_read(mem, ptr - 4, &nbytes, 4)) return;
    const uint8_t *p = wasm_memory_ptr(mem, ptr, nbytes);
    if (!p) return;
    size_t n = 0;
    for (uint32_t i = 0; i + 1 < nbytes && n + 1 < cap; i += 2) {
        unsigned cu = p[i] | (unsigned)p[i + 1] << 8;
        dst[n++] = cu >= 0x20 && cu < 0x7f ? (char)cu : '?';
    }
    dst[n] = '\0';
}

static wasm_status env_abort(wasm_instance *caller, const wasm_val *args, wasm_val *results, void *user)
{
    (void)results; (void)user;
    char msg[200], file[200];
    as_string(caller, (uint32_t)args[0].of.i32, msg, sizeof msg);
    as_string(caller, (uint32_t)args[1].of.i32, file, sizeof file);
    return wasm_host_trap(caller, WASM_TRAP_HOST, 0, "abort: %s at %s:%d:%d", msg[0] ? msg : "(no message)",
                          file[0] ? file : "?", args[2].of.i32, args[3].of.i32);
}

static wasm_status env_seed(wasm_instance *caller, const wasm_val *args, wasm_val *results, void *user)
{
    (void)caller; (void)args; (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    results[0].of.f64 = (double)ts.tv_sec * 1e3 + (double)(ts.tv_nsec / 1000000);
    return WASM_OK;
}

static wasm_status env_trace(wasm_instance *caller, const wasm_val *args, wasm_val *results, void *user)
{
    (void)results;
    char msg[200];
    as_string(caller, (uint32_t)args[0].of.i32, msg, sizeof msg);
    mod_log(user, "trace: %s (%d values)", msg, args[1].of.i32);
    return WASM_OK;
}

/* Checks that every import is one the host provides; names the first that
 * is not. */
static bool check_imports(const wasm_module *mod, char *err, size_t errlen)
{
    uint32_t n = wasm_module_num_imports(mod);
    for (uint32_t i = 0; i < n; i++) {
        wasm_port p;
        if (!wasm_module_import(mod, i, &p)) continue;
        bool ok = false;
        if (p.kind == WASM_EXTERN_FUNC && strcmp(p.module, "wasi_snapshot_preview1") == 0) ok = true;
        if (p.kind == WASM_EXTERN_FUNC && strcmp(p.module, "env") == 0 &&
            (strcmp(p.name, "abort") == 0 || strcmp(p.name, "seed") == 0 || strcmp(p.name, "trace") == 0))
            ok = true;
        if (!ok) {
            say(err, errlen, "unsupported import %s.%s", p.module, p.name);
            return false;
        }
    }
    return true;
}

/* Finds export `name` as a function; its type (or NULL). */
static const wasm_functype *export_type(const wasm_module *mod, const char *name)
{
    uint32_t n = wasm_module_num_exports(mod);
    for (uint32_t i = 0; i < n; i++) {
        wasm_port p;
        if (wasm_module_export(mod, i, &p) && p.kind == WASM_EXTERN_FUNC && strcmp(p.name, name) == 0)
            return p.type;
    }
    return NULL;
}

static bool type_is(const wasm_functype *t, const char *params, const char *results)
{
    if (!t || t->nparams != strlen(params) || t->nresults != strlen(results)) return false;
    for (uint32_t i = 0; i < t->nparams; i++)
        if (t->params[i] != (params[i] == 'i' ? WASM_I32 : WASM_I64)) return false;
    for (uint32_t i = 0; i < t->nresults; i++)
        if (t->results[i] != (results[i] == 'i' ? WASM_I32 : WASM_I64)) return false;
    return true;
}

/* Resolves the allocator family and the hooks from the module's exports. */
static bool resolve_exports(plg_wmod *m, char *err, size_t errlen)
{
    if (type_is(export_type(m->module, "plugin_malloc"), "i", "i")) {
        m->malloc_name = "plugin_malloc";
        m->free_name = "plugin_free";
    } else if (type_is(export_type(m->module, "malloc"), "i", "i")) {
        m->malloc_name = "malloc";
        m->free_name = "free";
    } else {
        say(err, errlen, "no allocator: export malloc or plugin_malloc as (i32) -> i32");
        return false;
    }
    const wasm_functype *ft = export_type(m->module, m->free_name);
    if (type_is(ft, "ii", "")) m->free_two_args = true;
    else if (type_is(ft, "i", "")) m->free_two_args = false;
    else if (ft) {
        say(err, errlen, "%s must be (i32) or (i32, i32) with no result", m->free_name);
        return false;
    } else {
        m->free_name = NULL; /* a leaking plugin is allowed: plugin_reset may reclaim */
    }
    for (int h = 0; h < PLG_NHOOKS; h++) {
        const char *name = hook_exports[h];
        const wasm_functype *t = export_type(m->module, name);
        if (!t && h == PLG_HOOK_HTTP_PRE) {
            name = "http_intercept";
            t = export_type(m->module, name);
        }
        if (!t) continue;
        if (!type_is(t, "ii", "I")) {
            say(err, errlen, "export %s must be (i32, i32) -> i64", name);
            return false;
        }
        m->has_hook[h] = true;
        m->hook_name[h] = name;
    }
    return true;
}

/* The one place that asks the engine for a compiled module (blocking: runs
 * wasm2c and cc on a cache miss). */
static wasm_module *load_compiled(const uint8_t *bytes, size_t len, wasm_error *werr)
{
    return wasm_module_load_engine(bytes, len, WASM_ENGINE_AOT, werr);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Tier-up thread: wait for the compile job, load its (now cached) result,
 * then publish it for new instances. plg_wmod_free cancels the job, which
 * kills the compiler's processes, so this returns promptly at shutdown. */
static void *compile_in_background(void *arg)
{
    plg_wmod *m = arg;
    double t0 = mono_s();
    wasm_error werr = {0};
    wasm_module *c = NULL;
    if (wasm_aot_job_wait(m->job, &werr) && !atomic_load(&m->cancel))
        c = load_compiled(m->bytes, m->nbytes, &werr);   /* a cache hit now */
    free(m->bytes);
    m->bytes = NULL;
    if (atomic_load(&m->cancel)) {
        wasm_module_free(c);
    } else if (c) {
        atomic_store_explicit(&m->compiled, c, memory_order_release);
        mod_log(m, "engine: switched to aot (compiled in %.2f s); new instances run native code", mono_s() - t0);
    } else {
        mod_log(m, "engine: stays on the interpreter: %s", werr.message);
    }
    return NULL;
}

plg_wmod *plg_wmod_load(const char *entry_name, const uint8_t *bytes, size_t len, const char *config_json,
                        uint32_t max_memory_mb, uint32_t timeout_ms, plg_engine engine, plg_log_fn log,
                        void *log_user, char *err, size_t errlen)
{
    plg_wmod *m = calloc(1, sizeof *m);
    if (!m) { say(err, errlen, "out of memory"); return NULL; }
    m->log = log;
    m->log_user = log_user;
    m->name = strdup(entry_name ? entry_name : "?");
    m->config_json = strdup(config_json ? config_json : "{}");
    if (!m->name || !m->config_json) { say(err, errlen, "out of memory"); goto fail; }
    if (max_memory_mb == 0) max_memory_mb = 64;
    if (max_memory_mb > 4096) max_memory_mb = 4096;
    m->limits.max_memory_pages = max_memory_mb * 16;
    m->limits.max_call_depth = 2000;
    m->limits.stack_slots = 1u << 18;
    m->mem_cap = (uint64_t)max_memory_mb << 20;
    m->timeout_ns = (uint64_t)(timeout_ms ? timeout_ms : 100) * 1000000u;
    /* The start function runs inside instantiation: bound it like a hook. */
    m->limits.timeout_ns = m->timeout_ns;

    wasm_error werr;
    if (engine == PLG_ENGINE_AOT) {
        m->module = load_compiled(bytes, len, &werr);
        if (!m->module) { say(err, errlen, "engine aot: %s", werr.message); goto fail; }
    } else {
        m->module = wasm_module_load(bytes, len, &werr);
        if (!m->module) { say(err, errlen, "invalid module: %s", werr.message); goto fail; }
    }
    if (!check_imports(m->module, err, errlen) || !resolve_exports(m, err, errlen)) goto fail;

    m->imports = wasm_imports_new();
    wasm_wasi_config wc = {.sink = wasi_sink, .sink_user = m};
    if (!m->imports || !wasm_wasi_add(m->imports, &wc) ||
        !wasm_imports_add_func(m->imports, "env", "abort", "iiii>", env_abort, m) ||
        !wasm_imports_add_func(m->imports, "env", "seed", ">F", env_seed, m) ||
        !wasm_imports_add_func(m->imports, "env", "trace", "iiFFFFF>", env_trace, m)) {
        say(err, errlen, "out of memory");
        goto fail;
    }
    if (engine == PLG_ENGINE_AUTO) {
        /* Only once the module proved valid and linkable: no compile for a
         * plugin that is refused anyway. */
        m->bytes = malloc(len ? len : 1);
        if (!m->bytes) { say(err, errlen, "out of memory"); goto fail; }
        memcpy(m->bytes, bytes, len);
        m->nbytes = len;
        m->job = wasm_aot_compile_async(bytes, len);
        if (m->job && pthread_create(&m->compiler, NULL, compile_in_background, m) == 0) {
            m->compiler_started = true;
        } else {
            free(m->bytes);
            m->bytes = NULL;
            mod_log(m, "engine: no thread for the background compile; staying on the interpreter");
        }
    }
    return m;
fail:
    plg_wmod_free(m);
    return NULL;
}

void plg_wmod_free(plg_wmod *m)
{
    if (!m) return;
    if (m->job) {
        atomic_store(&m->cancel, true);
        wasm_aot_job_cancel(m->job);
    }
    if (m->compiler_started) pthread_join(m->compiler, NULL);
    wasm_aot_job_free(m->job);
    free(m->bytes);
    wasm_module_free(atomic_load(&m->compiled));
    wasm_module_free(m->module);
    wasm_imports_free(m->imports);
    free(m->name);
    free(atomic_load(&m->tag));
    free(m->config_json);
    free(m);
}

bool plg_wmod_has(const plg_wmod *m, plg_hook h) { return m->has_hook[h]; }

bool plg_wmod_is_aot(const plg_wmod *m)
{
    plg_wmod *mm = (plg_wmod *)m;
    return atomic_load_explicit(&mm->compiled, memory_order_acquire) != NULL || wasm_module_is_aot(m->module);
}

/* ---- calls ------------------------------------------------------------------ */

/* Compiled code runs on the worker's own stack, and a recursion without end
 * touches all of it before the guard page stops it: megabytes of RSS that
 * would stay. After such a trap the part below the current frame is dead,
 * so give it back (keeping 64 KiB of margin for signal frames). */
static void release_dead_stack(void)
{
    pthread_attr_t a;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) != 0) return;
    int rc = pthread_attr_getstack(&a, &lo, &size);
    pthread_attr_destroy(&a);
    if (rc != 0) return;
    char here;
    uintptr_t top = ((uintptr_t)&here - (64u << 10)) & ~(uintptr_t)4095;
    uintptr_t bottom = ((uintptr_t)lo + 4095) & ~(uintptr_t)4095;
    if (top > bottom) madvise((void *)bottom, top - bottom, MADV_DONTNEED); /* unmapped parts: ENOMEM, fine */
}

/* Formats a failed call; returns -PLG_OUT_TIMEOUT for a deadline, else
 * -PLG_OUT_TRAP. */
static int call_failed(plg_winst *wi, const char *what, wasm_status st, const wasm_error *we, char *err,
                       size_t errlen)
{
    if (st == WASM_TRAP_STACK_EXHAUSTED && wasm_module_is_aot(wi->from)) release_dead_stack();
    if (st == WASM_TRAP_EXIT)
        say(err, errlen, "%s: proc_exit(%d)", what, we->exit_code);
    else if (st == WASM_TRAP_DEADLINE)
        say(err, errlen, "%s: deadline of %llu ms exceeded", what,
            (unsigned long long)(wi->mod->timeout_ns / 1000000u));
    else
        say(err, errlen, "%s: %s", what, we->message[0] ? we->message : wasm_status_name(st));
    return st == WASM_TRAP_DEADLINE || st == WASM_TRAP_INTERRUPTED ? -PLG_OUT_TIMEOUT : -PLG_OUT_TRAP;
}

/* Copies data into a fresh guest buffer from the plugin's allocator; *ptr. */
static int guest_put(plg_winst *wi, const void *data, size_t len, uint32_t *ptr, char *err, size_t errlen)
{
    if (len > wi->mod->mem_cap) { say(err, errlen, "input larger than the memory cap"); return -PLG_OUT_ERROR; }
    wasm_val arg = wasm_val_i32((int32_t)len), res;
    wasm_error we;
    wasm_status st = wasm_call(wi->inst, wi->fmalloc, &arg, 1, &res, 1, &we);
    if (st != WASM_OK) return call_failed(wi, wi->mod->malloc_name, st, &we, err, errlen);
    *ptr = (uint32_t)res.of.i32;
    /* C's NULL: the allocator failed. Copying to 0 anyway would overwrite
     * the plugin's own data (nothing traps on address 0 in wasm). */
    if (*ptr == 0 && len > 0) {
        say(err, errlen, "%s returned 0 for %zu bytes", wi->mod->malloc_name, len);
        return -PLG_OUT_ERROR;
    }
    if (!wasm_memory_write(wasm_instance_memory(wi->inst), *ptr, data, len)) {
        say(err, errlen, "%s returned an out-of-bounds pointer", wi->mod->malloc_name);
        return -PLG_OUT_ERROR;
    }
    return 0;
}

static int guest_free(plg_winst *wi, uint32_t ptr, uint32_t len, char *err, size_t errlen)
{
    if (!wi->ffree) return 0;
    wasm_val args[2] = {wasm_val_i32((int32_t)ptr), wasm_val_i32((int32_t)len)};
    wasm_error we;
    wasm_status st = wasm_call(wi->inst, wi->ffree, args, wi->mod->free_two_args ? 2 : 1, NULL, 0, &we);
    return st == WASM_OK ? 0 : call_failed(wi, wi->mod->free_name, st, &we, err, errlen);
}

/* Reads a packed ptr<<32|len result into a malloc'd NUL-terminated copy. */
static int guest_get(plg_winst *wi, uint64_t packed, char **out, size_t *out_len, char *err, size_t errlen)
{
    uint32_t ptr = (uint32_t)(packed >> 32), len = (uint32_t)packed;
    if (len > wi->mod->mem_cap) {
        say(err, errlen, "output of %u bytes is larger than the memory cap", len);
        return -PLG_OUT_ERROR;
    }
    const uint8_t *p = wasm_memory_ptr(wasm_instance_memory(wi->inst), ptr, len);
    if (!p) {
        say(err, errlen, "output pointer %u+%u is outside linear memory", ptr, len);
        return -PLG_OUT_ERROR;
    }
    char *copy = malloc((size_t)len + 1);
    if (!copy) { say(err, errlen, "out of memory"); return -PLG_OUT_ERROR; }
    memcpy(copy, p, len);
    copy[len] = '\0';
    *out = copy;
    *out_len = len;
    return 0;
}

plg_winst *plg_winst_new(plg_wmod *m, char **name_out, char *err, size_t errlen)
{
    if (name_out) *name_out = NULL;
    plg_winst *wi = calloc(1, sizeof *wi);
    if (!wi) { say(err, errlen, "out of memory"); return NULL; }
    wi->mod = m;
    wasm_module *c = atomic_load_explicit(&m->compiled, memory_order_acquire);
    wi->from = c ? c : m->module;
    wasm_error we;
    wi->inst = wasm_instance_new(wi->from, m->imports, &m->limits, &we);
    if (!wi->inst) { say(err, errlen, "instantiation failed: %s", we.message); free(wi); return NULL; }
    wasm_instance_set_timeout_ns(wi->inst, m->timeout_ns);
    if (!wasm_instance_memory(wi->inst)) { say(err, errlen, "the module has no linear memory"); goto fail; }
    wi->fmalloc = wasm_instance_func(wi->inst, m->malloc_name);
    wi->ffree = m->free_name ? wasm_instance_func(wi->inst, m->free_name) : NULL;
    if (type_is(export_type(m->module, "plugin_reset"), "", "")) wi->freset = wasm_instance_func(wi->inst, "plugin_reset");
    if (type_is(export_type(m->module, "cleanup"), "", "i")) wi->fcleanup = wasm_instance_func(wi->inst, "cleanup");
    for (int h = 0; h < PLG_NHOOKS; h++)
        if (m->has_hook[h]) wi->hooks[h] = wasm_instance_func(wi->inst, m->hook_name[h]);

    /* A WASI reactor wants _initialize before anything else; a command's
     * _start is never run (it would exit). */
    wasm_func *f = type_is(export_type(m->module, "_initialize"), "", "") ? wasm_instance_func(wi->inst, "_initialize") : NULL;
    wasm_status st;
    if (f && (st = wasm_call(wi->inst, f, NULL, 0, NULL, 0, &we)) != WASM_OK) {
        call_failed(wi, "_initialize", st, &we, err, errlen);
        goto fail;
    }
    if (type_is(export_type(m->module, "init"), "ii", "i")) {
        uint32_t ptr;
        size_t len = strlen(m->config_json);
        if (guest_put(wi, m->config_json, len, &ptr, err, errlen) != 0) goto fail;
        wasm_val args[2] = {wasm_val_i32((int32_t)ptr), wasm_val_i32((int32_t)len)}, res;
        if ((st = wasm_call(wi->inst, wasm_instance_func(wi->inst, "init"), args, 2, &res, 1, &we)) != WASM_OK) {
            call_failed(wi, "init", st, &we, err, errlen);
            goto fail;
        }
        if (res.of.i32 != 0) { say(err, errlen, "init returned %d", res.of.i32); goto fail; }
        if (guest_free(wi, ptr, (uint32_t)len, err, errlen) != 0) goto fail;
    }
    if (name_out && type_is(export_type(m->module, "get_name"), "", "I")) {
        wasm_val res;
        size_t nlen;
        st = wasm_call(wi->inst, wasm_instance_func(wi->inst, "get_name"), NULL, 0, &res, 1, &we);
        if (st != WASM_OK) { call_failed(wi, "get_name", st, &we, err, errlen); goto fail; }
        if (guest_get(wi, (uint64_t)res.of.i64, name_out, &nlen, err, errlen) != 0) goto fail;
        if (!plg_name_usable(*name_out, nlen)) {
            mod_log(m, "get_name() returned %zu bytes that are not a usable name (1..%d printable ASCII "
                    "characters); keeping '%s'", nlen, PLG_NAME_MAX, m->name);
            free(*name_out);
            *name_out = NULL;
        }
        char *tag = *name_out ? strdup(*name_out) : NULL, *none = NULL;
        if (tag && !atomic_compare_exchange_strong(&m->tag, &none, tag)) free(tag);
    }
    wi->start_bytes = wasm_memory_size(wasm_instance_memory(wi->inst));
    return wi;
fail:
    wasm_instance_free(wi->inst);
    free(wi);
    return NULL;
}

void plg_winst_free(plg_winst *wi)
{
    if (!wi) return;
    if (wi->fcleanup) {
        wasm_val res;
        wasm_error we;
        if (wasm_call(wi->inst, wi->fcleanup, NULL, 0, &res, 1, &we) != WASM_OK)
            mod_log(wi->mod, "cleanup failed: %s", we.message);
    }
    wasm_instance_free(wi->inst);
    free(wi);
}

bool plg_winst_outdated(const plg_winst *wi, bool *tier_up)
{
    *tier_up = false;
    wasm_module *c = atomic_load_explicit(&wi->mod->compiled, memory_order_acquire);
    if (c && wi->from != c) {
        *tier_up = true;
        return true;
    }
    /* Grown past 3/4 of the cap since init: retire before it fails. A module
     * that starts that big is left alone (it would be recycled every call). */
    uint64_t now = wasm_memory_size(wasm_instance_memory(wi->inst));
    return now > wi->start_bytes && now > wi->mod->mem_cap / 4 * 3;
}

int plg_winst_call(plg_winst *wi, plg_hook h, const char *in, size_t len, char **out, size_t *out_len,
                   char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    if (!wi->hooks[h]) { say(err, errlen, "hook %s not exported", hook_exports[h]); return -PLG_OUT_ERROR; }
    uint32_t in_ptr;
    int rc = guest_put(wi, in, len, &in_ptr, err, errlen);
    if (rc != 0) return rc;
    wasm_val args[2] = {wasm_val_i32((int32_t)in_ptr), wasm_val_i32((int32_t)len)}, res;
    wasm_error we;
    wasm_status st = wasm_call(wi->inst, wi->hooks[h], args, 2, &res, 1, &we);
    if (st != WASM_OK) return call_failed(wi, wi->mod->hook_name[h], st, &we, err, errlen);
    uint64_t packed = (uint64_t)res.of.i64;
    if ((rc = guest_get(wi, packed, out, out_len, err, errlen)) != 0) return rc;
    if ((rc = guest_free(wi, in_ptr, (uint32_t)len, err, errlen)) != 0 ||
        ((packed >> 32) != 0 && (rc = guest_free(wi, (uint32_t)(packed >> 32), (uint32_t)packed, err, errlen)) != 0))
        goto fail;
    if (wi->freset && (st = wasm_call(wi->inst, wi->freset, NULL, 0, NULL, 0, &we)) != WASM_OK) {
        rc = call_failed(wi, "plugin_reset", st, &we, err, errlen);
        goto fail;
    }
    return 0;
fail:
    free(*out);
    *out = NULL;
    return rc;
}
