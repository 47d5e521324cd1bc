/*
 * src/wasm/aot/cache.c - compiling a module to a shared object and the cache.
 *
 * Key: SHA-256 over the module bytes, the C compiler's and wasm2c's version
 * lines and the shim ABI version, so a compiler upgrade never reuses stale
 * code. Entry: $XDG_CACHE_HOME/sluice/aot/<key>.so (fallback ~/.cache;
 * $SLUICE_AOT_CACHE overrides the directory). A miss runs wasm2c and `cc -O2
 * -shared -fPIC` in a private temporary directory inside the cache directory
 * and renames the result into place, so concurrent compilers and readers only
 * ever see complete files. The compiler is $SLUICE_AOT_CC or `cc`.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wasm/aot/aot.h"

extern char **environ;

/* Part of the cache key (see tool_id_init). No sibling-call optimization:
 * endless recursion must exhaust the stack (a trap), not become a loop.
 * -fsignaling-nans: without it gcc folds x*1.0, x/1.0 and x-0.0 to x, which
 * returns a signaling NaN unquieted where wasm requires an arithmetic NaN
 * (float_exprs.wast). */
#define AOT_CC_FLAGS "-O2", "-fsignaling-nans", "-shared", "-fPIC", "-fvisibility=hidden", "-fno-optimize-sibling-calls", \
                     "-DNDEBUG", "-w"
/* Version of the generated-code patches (shim.c k_patches): part of the key. */
#define AOT_PATCH_VERSION 3u  /* with SLUICE_AOT_ABI_VERSION */
#define AOT_STR2(...) #__VA_ARGS__
#define AOT_STR(...) AOT_STR2(__VA_ARGS__)

static const char *compiler(void)
{
    const char *cc = getenv("SLUICE_AOT_CC");
    return cc && *cc ? cc : "cc";
}

/* The background job whose thread this is (set by job_main), so run() can
 * register its child for wasm_aot_job_cancel; NULL elsewhere. */
static _Thread_local struct wasm_aot_job *t_job;
static bool job_track(struct wasm_aot_job *j, pid_t pid);

/* Runs argv with stdout+stderr to `log` (may be NULL: /dev/null); returns
 * the exit status (-1 if it could not start or was killed). The child leads
 * its own process group, so a cancel reaches cc's own children too. */
static int run(char *const argv[], const char *log)
{
    if (t_job && !job_track(t_job, 0)) return -1;   /* cancelled already */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc) return -1;
    if (t_job) job_track(t_job, pid);   /* kills it at once if cancelled meanwhile */
    /* Wait without reaping first: the pid (and group id) stays ours until
     * the job forgets it, so a cancel can never signal a recycled pid. */
    siginfo_t si;
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR) {}
    if (t_job) job_track(t_job, 0);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* First line of `cmd --version`, into buf (empty if it fails). */
static void version_line(const char *prog, char *buf, size_t cap)
{
    buf[0] = 0;
    char tmpl[] = "/tmp/sluice-aot-ver.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) return;
    close(fd);
    char *argv[] = {(char *)prog, "--version", NULL};
    if (run(argv, tmpl) == 0) {
        FILE *f = fopen(tmpl, "r");
        if (f) {
            if (fgets(buf, (int)cap, f)) buf[strcspn(buf, "\n")] = 0;
            fclose(f);
        }
    }
    unlink(tmpl);
}

/* Where execvp would find prog: PATH searched the same way (a name with a
 * slash is taken as is). Fills buf with the resolved real path. */
static bool find_prog(const char *prog, char *buf, size_t cap)
{
    if (strchr(prog, '/')) {
        char *r = realpath(prog, NULL);
        if (!r) return false;
        int n = snprintf(buf, cap, "%s", r);
        free(r);
        return (size_t)n < cap;
    }
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; ; ) {
        size_t n = strcspn(p, ":");
        char cand[4096];
        if (n && n + strlen(prog) + 2 < sizeof cand) {
            snprintf(cand, sizeof cand, "%.*s/%s", (int)n, p, prog);
            if (access(cand, X_OK) == 0 && find_prog(cand, buf, cap)) return true;
        }
        if (!p[n]) return false;
        p += n + 1;
    }
}

/* "realpath:size:mtime_ns:inode" of prog: changes whenever the binary is
 * replaced (package upgrade, alternatives switch), so it can stand in for
 * the version line, which costs a fork+exec to learn. */
static bool prog_stamp(const char *prog, char *buf, size_t cap)
{
    char real[4096];
    struct stat st;
    if (!find_prog(prog, real, sizeof real) || stat(real, &st)) return false;
    int n = snprintf(buf, cap, "%s:%lld:%lld.%09ld:%llu", real, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
    return n > 0 && (size_t)n < cap;
}

/* The compiler part of the cache key. Running `cc --version` and `wasm2c
 * --version` costs two fork+execs (~10 ms) per process, so the result is
 * remembered in the cache directory as tools-<sha(stamps)>: a process whose
 * compilers are unchanged since the last one learns the id from one small
 * file and runs nothing on a cache hit. */
static pthread_once_t g_tool_once = PTHREAD_ONCE_INIT;
static char g_tool_id[512];
static void tool_id_compute(void)
{
    char cc[240], w2c[64];
    version_line(compiler(), cc, sizeof cc);
    version_line("wasm2c", w2c, sizeof w2c);
    snprintf(g_tool_id, sizeof g_tool_id, "%s|wasm2c %s|abi %u.%u|%s", cc, w2c, SLUICE_AOT_ABI_VERSION, AOT_PATCH_VERSION,
             AOT_STR(AOT_CC_FLAGS));
}

static void tool_id_init(void)
{
    char dir[4000], st_cc[4200], st_w2c[4200], stamps[8500], path[4200];
    if (!wasm_aot_cache_dir(dir, sizeof dir) || !prog_stamp(compiler(), st_cc, sizeof st_cc) ||
        !prog_stamp("wasm2c", st_w2c, sizeof st_w2c)) {
        tool_id_compute();
        return;
    }
    int n = snprintf(stamps, sizeof stamps, "%s|%s|abi %u.%u|%s", st_cc, st_w2c, SLUICE_AOT_ABI_VERSION, AOT_PATCH_VERSION,
                     AOT_STR(AOT_CC_FLAGS));
    uint8_t d[32];
    aot_sha256((const uint8_t *)stamps, (size_t)n, d);
    n = snprintf(path, sizeof path, "%s/tools-", dir);
    for (int i = 0; i < 16; i++) n += snprintf(path + n, sizeof path - (size_t)n, "%02x", d[i]);
    FILE *f = fopen(path, "r");
    if (f) {
        /* first line: the stamps (guards against a hash collision), second: the id */
        char line[8500];
        bool ok = fgets(line, sizeof line, f) && !strncmp(line, stamps, strlen(stamps)) &&
                  line[strlen(stamps)] == '\n' && fgets(g_tool_id, sizeof g_tool_id, f);
        fclose(f);
        g_tool_id[strcspn(g_tool_id, "\n")] = 0;
        if (ok && g_tool_id[0]) return;
    }
    tool_id_compute();
    /* written under a temporary name and renamed: readers see all or nothing */
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return;
    f = fdopen(fd, "w");
    if (!f) { close(fd); unlink(tmp); return; }
    fprintf(f, "%s\n%s\n", stamps, g_tool_id);
    if (fclose(f) != 0 || rename(tmp, path)) unlink(tmp);
}

/* mkdir -p; true if the directory exists afterwards. */
static bool make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        mkdir(path, 0700);
        *p = '/';
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

bool wasm_aot_cache_dir(char *buf, size_t cap)
{
    const char *o = getenv("SLUICE_AOT_CACHE");
    const char *x = getenv("XDG_CACHE_HOME");
    const char *h = getenv("HOME");
    int n;
    if (o && *o) n = snprintf(buf, cap, "%s", o);
    else if (x && *x == '/') n = snprintf(buf, cap, "%s/sluice/aot", x);
    else if (h && *h) n = snprintf(buf, cap, "%s/.cache/sluice/aot", h);
    else return false;
    if (n <= 0 || (size_t)n >= cap || !make_dirs(buf)) return false;
    /* absolute, so the compiler's view does not depend on the cwd */
    char *abs = realpath(buf, NULL);
    if (!abs) return false;
    n = snprintf(buf, cap, "%s", abs);
    free(abs);
    return (size_t)n < cap;
}

/* Cache key (64 hex chars + NUL) of module bytes. */
static void cache_key(const uint8_t *bytes, size_t len, char key[65])
{
    pthread_once(&g_tool_once, tool_id_init);
    size_t tl = strlen(g_tool_id);
    uint8_t *buf = malloc(len + tl);
    uint8_t d[32];
    if (buf) {
        memcpy(buf, bytes, len);
        memcpy(buf + len, g_tool_id, tl);
        aot_sha256(buf, len + tl, d);
        free(buf);
    } else {
        aot_sha256(bytes, len, d);  /* still a valid key, just compiler-blind */
    }
    for (int i = 0; i < 32; i++) snprintf(key + 2 * i, 3, "%02x", d[i]);
}

static bool write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* Last line of a log file into err's message. */
static void log_error(wasm_error *err, const char *what, const char *log)
{
    char line[200] = "", cur[200];
    FILE *f = fopen(log, "r");
    if (f) {
        while (fgets(cur, sizeof cur, f)) if (cur[0] != '\n') memcpy(line, cur, sizeof line);
        fclose(f);
    }
    line[strcspn(line, "\n")] = 0;
    wasm_set_error(err, WASM_ERR_UNSUPPORTED, "aot: %s failed: %s", what, line);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4096];
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p) unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Produces dir/<key>.so for module m. */
static bool compile_into(const wasm_module *m, const char *dir, const char *key, const char *so, wasm_error *err)
{
    char tmp[4096], in[4200], gen[4200], shim[4200], out[4200], log[4200], name[24];
    snprintf(tmp, sizeof tmp, "%s/tmp.XXXXXX", dir);
    if (!mkdtemp(tmp)) { wasm_set_error(err, WASM_ERR_NOMEM, "aot: cannot create a directory in %s", dir); return false; }
    snprintf(in, sizeof in, "%s/m.wasm", tmp);
    snprintf(gen, sizeof gen, "%s/gen.c", tmp);
    snprintf(shim, sizeof shim, "%s/shim.c", tmp);
    snprintf(out, sizeof out, "%s/out.so", tmp);
    snprintf(log, sizeof log, "%s/log", tmp);
    snprintf(name, sizeof name, "m%.16s", key);
    bool ok = false;
    FILE *sf = NULL;
    if (!write_file(in, m->bytes, m->len)) { wasm_set_error(err, WASM_ERR_NOMEM, "aot: cannot write %s", in); goto done; }
    char *w2c[] = {"wasm2c", "-n", name, in, "-o", gen, NULL};
    if (run(w2c, log) != 0) { log_error(err, "wasm2c", log); goto done; }
    if (!aot_patch_generated(gen)) { wasm_set_error(err, WASM_ERR_NOMEM, "aot: cannot rewrite %s", gen); goto done; }
    sf = fopen(shim, "w");
    if (!sf) { wasm_set_error(err, WASM_ERR_NOMEM, "aot: cannot write %s", shim); goto done; }
    bool wrote = aot_shim_write(sf, m, name, "gen.c", err);  /* beside shim.c */
    if (fclose(sf) != 0 || !wrote) {
        if (wrote) wasm_set_error(err, WASM_ERR_NOMEM, "aot: cannot write %s", shim);
        goto done;
    }
    char *cc[] = {(char *)compiler(), AOT_CC_FLAGS, "-o", out, shim, NULL};
    if (run(cc, log) != 0) { log_error(err, "cc", log); goto done; }
    if (rename(out, so)) { wasm_set_error(err, WASM_ERR_NOMEM, "aot: cannot rename into %s", so); goto done; }
    ok = true;
done:
    remove_dir(tmp);
    return ok;
}

/* Fills so_path (cap bytes) with the cached object for m, compiling on a miss. */
static bool ensure_compiled(const wasm_module *m, char *so_path, size_t cap, bool *hit, wasm_error *err)
{
    char dir[4000], key[65];
    if (!aot_shim_supported(m, err)) return false;
    if (!wasm_aot_cache_dir(dir, sizeof dir)) {
        wasm_set_error(err, WASM_ERR_NOMEM, "aot: no cache directory (set XDG_CACHE_HOME or HOME)");
        return false;
    }
    cache_key(m->bytes, m->len, key);
    snprintf(so_path, cap, "%s/%s.so", dir, key);
    *hit = access(so_path, R_OK) == 0;
    return *hit || compile_into(m, dir, key, so_path, err);
}

/* dlopen of an object already loaded (the same module loaded twice, e.g.
 * by two tier-up threads) returns the same handle, whose statics
 * sluice_aot_entry and init_module write: one loader at a time. */
static pthread_mutex_t g_load_lock = PTHREAD_MUTEX_INITIALIZER;

aot_lib *aot_lib_load(const wasm_module *m, wasm_error *err)
{
    char so[4096];
    bool hit;
    if (!ensure_compiled(m, so, sizeof so, &hit, err)) return NULL;
    aot_lib *lib = calloc(1, sizeof *lib);
    if (!lib) { wasm_set_error(err, WASM_ERR_NOMEM, "out of memory"); return NULL; }
    pthread_mutex_lock(&g_load_lock);
    lib->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!lib->dl) {
        wasm_set_error(err, WASM_ERR_UNSUPPORTED, "aot: dlopen: %s", dlerror());
        pthread_mutex_unlock(&g_load_lock);
        free(lib);
        return NULL;
    }
    sluice_aot_entry_fn entry;
    *(void **)&entry = dlsym(lib->dl, SLUICE_AOT_ENTRY);
    lib->desc = entry ? entry(aot_rt_table_get()) : NULL;
    if (lib->desc) lib->desc->init_module();
    pthread_mutex_unlock(&g_load_lock);
    if (!lib->desc) {
        wasm_set_error(err, WASM_ERR_UNSUPPORTED, "aot: %s is not a compatible compiled module", so);
        aot_lib_free(lib);
        return NULL;
    }
    return lib;
}

void aot_lib_free(aot_lib *lib)
{
    if (!lib) return;
    if (lib->dl) dlclose(lib->dl);
    free(lib);
}

/* ---- public: ahead-of-time and background compiles ---- */

bool wasm_aot_compile(const uint8_t *bytes, size_t len, bool *cache_hit, wasm_error *err)
{
    wasm_module *m = wasm_module_load(bytes, len, err);
    if (!m) return false;
    char so[4096];
    bool hit = false;
    bool ok = ensure_compiled(m, so, sizeof so, &hit, err);
    wasm_module_free(m);
    if (cache_hit) *cache_hit = hit;
    return ok;
}

struct wasm_aot_job {
    pthread_t thread;
    uint8_t *bytes;
    size_t len;
    _Atomic bool done;
    bool ok, joined;
    wasm_error err;
    pthread_mutex_t mu;   /* guards child and cancelled */
    pid_t child;          /* the compiler step running now, or 0 */
    bool cancelled;
};

/* Records the running child (0: none); false if the job was cancelled, in
 * which case a child just recorded has been killed. */
static bool job_track(struct wasm_aot_job *j, pid_t pid)
{
    pthread_mutex_lock(&j->mu);
    j->child = pid;
    bool live = !j->cancelled;
    if (!live && pid > 0) kill(-pid, SIGKILL);
    pthread_mutex_unlock(&j->mu);
    return live;
}

static void *job_main(void *p)
{
    wasm_aot_job *j = p;
    /* The tool versions first, outside the cancellable part: a cancelled
     * `cc --version` would leave a wrong cache key for the whole process. */
    pthread_once(&g_tool_once, tool_id_init);
    t_job = j;
    j->ok = wasm_aot_compile(j->bytes, j->len, NULL, &j->err);
    t_job = NULL;
    atomic_store(&j->done, true);
    return NULL;
}

wasm_aot_job *wasm_aot_compile_async(const uint8_t *bytes, size_t len)
{
    wasm_aot_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->bytes = malloc(len ? len : 1);
    if (!j->bytes) { free(j); return NULL; }
    memcpy(j->bytes, bytes, len);
    j->len = len;
    pthread_mutex_init(&j->mu, NULL);
    if (pthread_create(&j->thread, NULL, job_main, j)) {
        pthread_mutex_destroy(&j->mu);
        free(j->bytes);
        free(j);
        return NULL;
    }
    return j;
}

bool wasm_aot_job_done(const wasm_aot_job *j, bool *ok, wasm_error *err)
{
    if (!atomic_load(&((wasm_aot_job *)j)->done)) return false;
    if (ok) *ok = j->ok;
    if (err) *err = j->err;
    return true;
}

bool wasm_aot_job_wait(wasm_aot_job *j, wasm_error *err)
{
    if (!j->joined) pthread_join(j->thread, NULL);
    j->joined = true;
    if (err && !j->ok) *err = j->err;
    return j->ok;
}

void wasm_aot_job_cancel(wasm_aot_job *j)
{
    pthread_mutex_lock(&j->mu);
    j->cancelled = true;
    if (j->child > 0) kill(-j->child, SIGKILL);
    pthread_mutex_unlock(&j->mu);
}

void wasm_aot_job_free(wasm_aot_job *j)
{
    if (!j) return;
    if (!j->joined) pthread_join(j->thread, NULL);
    pthread_mutex_destroy(&j->mu);
    free(j->bytes);
    free(j);
}
