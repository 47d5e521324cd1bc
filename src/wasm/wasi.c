/*
 * src/wasm/wasi.c - WASI preview1 (wasi_snapshot_preview1) as an optional
 * import set: enough for wasi-libc programs and plugins to print, read the
 * clock and random bytes, see their (caller-supplied) args and environment
 * and exit. There is no filesystem and no sockets: those calls answer
 * EBADF/ENOSYS. Every guest pointer is bounds-checked; a bad one gives EFAULT.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "wasm/internal.h"

enum { W_ESUCCESS = 0, W_EBADF = 8, W_EFAULT = 21, W_EINVAL = 28, W_ENOSYS = 52 };

/* Configuration copied at wasm_wasi_add() time; owned by the imports set. */
typedef struct wasi_state {
    wasm_wasi_sink sink;
    void *sink_user;
    int argc, envc;
    char **argv, **envv;
} wasi_state;

static void free_strings(char **v, int n)
{
    if (!v) return;
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void state_free(void *p)
{
    wasi_state *s = p;
    if (!s) return;
    free_strings(s->argv, s->argc);
    free_strings(s->envv, s->envc);
    free(s);
}

/* Returns a heap copy of v[0..n) (caller frees with free_strings), or NULL. */
static char **copy_strings(const char *const *v, int n)
{
    char **out = calloc((size_t)(n > 0 ? n : 1), sizeof *out);
    if (!out) return NULL;
    for (int i = 0; i < n; i++) {
        if (!(out[i] = strdup(v[i] ? v[i] : ""))) { free_strings(out, i); return NULL; }
    }
    return out;
}

static bool put_u32(wasm_memory *m, uint32_t at, uint32_t v) { return wasm_memory_write(m, at, &v, 4); }
static bool put_u64(wasm_memory *m, uint32_t at, uint64_t v) { return wasm_memory_write(m, at, &v, 8); }

static wasm_val *ret(wasm_val *results, int32_t errno_)
{
    results[0].of.i32 = errno_;
    return results;
}

static wasm_status wasi_fd_write(wasm_instance *caller, const wasm_val *a, wasm_val *r, void *user)
{
    wasi_state *s = user;
    int32_t fd = a[0].of.i32;
    uint32_t iovs = (uint32_t)a[1].of.i32, n = (uint32_t)a[2].of.i32, out = (uint32_t)a[3].of.i32;
    wasm_memory *m = wasm_instance_memory(caller);
    if (fd != 1 && fd != 2) { ret(r, W_EBADF); return WASM_OK; }
    if (!m) { ret(r, W_EFAULT); return WASM_OK; }
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t iov[2];
        if (!wasm_memory_read(m, (uint64_t)iovs + 8ull * i, iov, 8)) { ret(r, W_EFAULT); return WASM_OK; }
        const uint8_t *p = wasm_memory_ptr(m, iov[0], iov[1]);
        if (!p) { ret(r, W_EFAULT); return WASM_OK; }
        if (s->sink && iov[1]) s->sink(s->sink_user, fd, (const char *)p, iov[1]);
        total += iov[1];
    }
    ret(r, put_u32(m, out, (uint32_t)total) ? W_ESUCCESS : W_EFAULT);
    return WASM_OK;
}

static wasm_status wasi_fd_read(wasm_instance *caller, const wasm_val *a, wasm_val *r, void *user)
{
    (void)user;
    /* stdin is always at end of file */
    if (a[0].of.i32 != 0) { ret(r, W_EBADF); return WASM_OK; }
    ret(r, put_u32(wasm_instance_memory(caller), (uint32_t)a[3].of.i32, 0) ? W_ESUCCESS : W_EFAULT);
    return WASM_OK;
}

static wasm_status wasi_fd_fdstat_get(wasm_instance *caller, const wasm_val *a, wasm_val *r, void *user)
{
    (void)user;
    if (a[0].of.i32 < 0 || a[0].of.i32 > 2) { ret(r, W_EBADF); return WASM_OK; }
    uint8_t st[24];
    memset(st, 0, sizeof st);
    st[0] = 2;                          /* character device */
    uint64_t rights = a[0].of.i32 == 0 ? 2 : 64;   /* fd_read / fd_write */
    memcpy(st + 8, &rights, 8);
    ret(r, wasm_memory_write(wasm_instance_memory(caller), (uint32_t)a[1].of.i32, st, sizeof st) ? W_ESUCCESS : W_EFAULT);
    return WASM_OK;
}

static wasm_status wasi_proc_exit(wasm_instance *caller, const wasm_val *a, wasm_val *r, void *user)
{
    (void)r; (void)user;
    return wasm_host_trap(caller, WASM_TRAP_EXIT, a[0].of.i32, "proc_exit(%d)", a[0].of.i32);
}

static clockid_t wasi_clock(int32_t id, bool *ok)
{
    *ok = true;
    switch (id) {
    case 0: return CLOCK_REALTIME;
    case 1: return CLOCK_MONOTONIC;
    case 2: return CLOCK_PROCESS_CPUTIME_ID;
    case 3: return CLOCK_THREAD_CPUTIME_ID;
    default: *ok = false; return CLOCK_MONOTONIC;
    }
}

static wasm_status wasi_clock_time_get(wasm_instance *caller, const wasm_val *a, wasm_val *r, void *user)
{
    (void)user;
    bool ok;
    clockid_t id = wasi_clock(a[0].of.i32, &ok);
    struct timespec ts;
    if (!ok || clock_gettime(id, &ts)) { ret(r, W_EINVAL); return WASM_OK; }
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    ret(r, put_u64(wasm_instance_memory(caller), (uint32_t)a[2].of.i32, ns) ? W_ESUCCESS : W_EFAULT);
    return WASM_OK;
}

static wasm_status wasi_clock_res_get(wasm_instance *caller, const wasm_val *a, wasm_val *r, void *user)
{
    (void)user;
    bool ok;
    clockid_t id = wasi_clock(a[0].of.i32, &ok);
    struct timespec ts;
    if (!ok || clock_getres(id, &ts)) { ret(r, W_EINVAL); return WASM_OK; }
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    ret(r, put_u64(wasm_instance_memory(caller), (uint32_t)a[1].of.i32, ns) ? W_ESUCCESS : W_EFAULT);
    return WASM_OK;
}

static wasm_status wasi_random_get(wasm_instance *caller, const wasm_val *a, wasm_val *r, void *user)
{
    (void)user;
    uint8_t *p = wasm_memory_ptr(wasm_instance_memory(caller), (uint32_t)a[0].of.i32, (uint32_t)a[1].of.i32);
    if (!p) { ret(r, W_EFAULT); return WASM_OK; }
    size_t len = (uint32_t)a[1].of.i32, done = 0;
    while (done < len) {
        ssize_t got = getrandom(p + done, len - done, 0);
        if (got <= 0) { ret(r, W_ENOSYS); return WASM_OK; }
        done += (size_t)got;
    }
    ret(r, W_ESUCCESS);
    return WASM_OK;
}

/* args_sizes_get / environ_sizes_get: count and total bytes with NULs. */
static void strings_sizes(wasm_instance *caller, const wasm_val *a, wasm_val *r, char **v, int n)
{
    uint64_t bytes = 0;
    for (int i = 0; i < n; i++) bytes += strlen(v[i]) + 1;
    wasm_memory *m = wasm_instance_memory(caller);
    bool ok = put_u32(m, (uint32_t)a[0].of.i32, (uint32_t)n) && put_u32(m, (uint32_t)a[1].of.i32, (uint32_t)bytes);
    ret(r, ok ? W_ESUCCESS : W_EFAULT);
}

/* args_get / environ_get: pointer array at a[0], string bytes at a[1]. */
static void strings_get(wasm_instance *caller, const wasm_val *a, wasm_val *r, char **v, int n)
{
    wasm_memory *m = wasm_instance_memory(caller);
    uint64_t ptrs = (uint32_t)a[0].of.i32, buf = (uint32_t)a[1].of.i32;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        if (buf > UINT32_MAX || !put_u32(m, (uint32_t)(ptrs + 4ull * (unsigned)i), (uint32_t)buf) ||
            !wasm_memory_write(m, buf, v[i], len)) {
            ret(r, W_EFAULT);
            return;
        }
        buf += len;
    }
    ret(r, W_ESUCCESS);
}

static wasm_status wasi_args_sizes_get(wasm_instance *c, const wasm_val *a, wasm_val *r, void *u)
{
    wasi_state *s = u;
    strings_sizes(c, a, r, s->argv, s->argc);
    return WASM_OK;
}
static wasm_status wasi_args_get(wasm_instance *c, const wasm_val *a, wasm_val *r, void *u)
{
    wasi_state *s = u;
    strings_get(c, a, r, s->argv, s->argc);
    return WASM_OK;
}
static wasm_status wasi_environ_sizes_get(wasm_instance *c, const wasm_val *a, wasm_val *r, void *u)
{
    wasi_state *s = u;
    strings_sizes(c, a, r, s->envv, s->envc);
    return WASM_OK;
}
static wasm_status wasi_environ_get(wasm_instance *c, const wasm_val *a, wasm_val *r, void *u)
{
    wasi_state *s = u;
    strings_get(c, a, r, s->envv, s->envc);
    return WASM_OK;
}

/* Every other function: a fixed errno, carried in the user pointer. */
static wasm_status wasi_errno(wasm_instance *c, const wasm_val *a, wasm_val *r, void *u)
{
    (void)c; (void)a;
    ret(r, (int32_t)(intptr_t)u);
    return WASM_OK;
}

static wasm_status wasi_proc_raise(wasm_instance *c, const wasm_val *a, wasm_val *r, void *u)
{
    (void)r; (void)u;
    return wasm_host_trap(c, WASM_TRAP_HOST, 0, "proc_raise(%d)", a[0].of.i32);
}

typedef struct wasi_fn { const char *name, *sig; wasm_host_fn fn; int errno_; } wasi_fn;

static const wasi_fn wasi_fns[] = {
    {"fd_write", "iiii>i", wasi_fd_write, -1},
    {"fd_read", "iiii>i", wasi_fd_read, -1},
    {"fd_fdstat_get", "ii>i", wasi_fd_fdstat_get, -1},
    {"proc_exit", "i>", wasi_proc_exit, -1},
    {"proc_raise", "i>i", wasi_proc_raise, -1},
    {"clock_time_get", "iIi>i", wasi_clock_time_get, -1},
    {"clock_res_get", "ii>i", wasi_clock_res_get, -1},
    {"random_get", "ii>i", wasi_random_get, -1},
    {"args_sizes_get", "ii>i", wasi_args_sizes_get, -1},
    {"args_get", "ii>i", wasi_args_get, -1},
    {"environ_sizes_get", "ii>i", wasi_environ_sizes_get, -1},
    {"environ_get", "ii>i", wasi_environ_get, -1},
    {"sched_yield", ">i", wasi_errno, W_ESUCCESS},
    {"fd_close", "i>i", wasi_errno, W_EBADF},
    {"fd_seek", "iIii>i", wasi_errno, W_EBADF},
    {"fd_tell", "ii>i", wasi_errno, W_EBADF},
    {"fd_sync", "i>i", wasi_errno, W_EBADF},
    {"fd_datasync", "i>i", wasi_errno, W_EBADF},
    {"fd_advise", "iIIi>i", wasi_errno, W_EBADF},
    {"fd_allocate", "iII>i", wasi_errno, W_EBADF},
    {"fd_pread", "iiiIi>i", wasi_errno, W_EBADF},
    {"fd_pwrite", "iiiIi>i", wasi_errno, W_EBADF},
    {"fd_readdir", "iiiIi>i", wasi_errno, W_EBADF},
    {"fd_renumber", "ii>i", wasi_errno, W_EBADF},
    {"fd_prestat_get", "ii>i", wasi_errno, W_EBADF},
    {"fd_prestat_dir_name", "iii>i", wasi_errno, W_EBADF},
    {"fd_fdstat_set_flags", "ii>i", wasi_errno, W_EBADF},
    {"fd_fdstat_set_rights", "iII>i", wasi_errno, W_EBADF},
    {"fd_filestat_get", "ii>i", wasi_errno, W_EBADF},
    {"fd_filestat_set_size", "iI>i", wasi_errno, W_EBADF},
    {"fd_filestat_set_times", "iIIi>i", wasi_errno, W_EBADF},
    {"path_open", "iiiiiIIii>i", wasi_errno, W_ENOSYS},
    {"path_filestat_get", "iiiii>i", wasi_errno, W_ENOSYS},
    {"path_filestat_set_times", "iiiiIIi>i", wasi_errno, W_ENOSYS},
    {"path_create_directory", "iii>i", wasi_errno, W_ENOSYS},
    {"path_remove_directory", "iii>i", wasi_errno, W_ENOSYS},
    {"path_unlink_file", "iii>i", wasi_errno, W_ENOSYS},
    {"path_rename", "iiiiii>i", wasi_errno, W_ENOSYS},
    {"path_link", "iiiiiii>i", wasi_errno, W_ENOSYS},
    {"path_readlink", "iiiiii>i", wasi_errno, W_ENOSYS},
    {"path_symlink", "iiiii>i", wasi_errno, W_ENOSYS},
    {"poll_oneoff", "iiii>i", wasi_errno, W_ENOSYS},
    {"sock_accept", "iii>i", wasi_errno, W_ENOSYS},
    {"sock_recv", "iiiiii>i", wasi_errno, W_ENOSYS},
    {"sock_send", "iiiii>i", wasi_errno, W_ENOSYS},
    {"sock_shutdown", "ii>i", wasi_errno, W_ENOSYS},
};

bool wasm_wasi_add(wasm_imports *imp, const wasm_wasi_config *cfg)
{
    wasi_state *s = calloc(1, sizeof *s);
    if (!imp || !s) { free(s); return false; }
    if (cfg) {
        s->sink = cfg->sink;
        s->sink_user = cfg->sink_user;
        s->argc = cfg->argv && cfg->argc > 0 ? cfg->argc : 0;
        s->envc = cfg->envv && cfg->envc > 0 ? cfg->envc : 0;
    }
    s->argv = copy_strings(cfg ? cfg->argv : NULL, s->argc);
    s->envv = copy_strings(cfg ? cfg->envv : NULL, s->envc);
    if (!s->argv || !s->envv) { state_free(s); return false; }
    wasm_imports_set_state(imp, s, state_free);
    for (size_t i = 0; i < sizeof wasi_fns / sizeof wasi_fns[0]; i++) {
        const wasi_fn *f = &wasi_fns[i];
        void *user = f->errno_ >= 0 ? (void *)(intptr_t)f->errno_ : s;
        if (!wasm_imports_add_func(imp, "wasi_snapshot_preview1", f->name, f->sig, f->fn, user)) return false;
    }
    return true;
}
