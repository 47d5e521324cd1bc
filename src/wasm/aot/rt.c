/*
 * src/wasm/aot/rt.c - Sluice's runtime for wasm2c-generated code.
 *
 * Traps: wasm_rt_trap() and faults longjmp to the innermost aot_rt_invoke()
 * of the thread (thread-local jump buffer). Memories reserve 8 GiB of
 * PROT_NONE address space so that any 32-bit address plus 32-bit offset the
 * generated code forms lands either in the accessible prefix or on a guard
 * page (wasm2c then emits no bounds checks); growing is an mprotect. One
 * SIGSEGV/SIGBUS handler, on a per-thread sigaltstack, turns a fault into a
 * trap only while this thread runs module code, and hands every other fault
 * to the handler that was installed before ours. A fault near the thread's
 * stack bottom is stack exhaustion (wasm2c's signal mode keeps no call-depth
 * counter). Deadlines: one watchdog thread per process scans the threads
 * that are inside a compiled call every millisecond and signals a thread
 * whose deadline passed (or whose call has run for another 5 ms, so that
 * interrupt flags get polled); the handler traps when the deadline passed or
 * an interrupt was requested, but only inside module code: during a host
 * import the trap is deferred to the import's return. Entering and leaving
 * a call therefore makes no system call (no timer to arm, no signal mask to
 * save): see "Deadline / interrupt" in docs/wasm-aot.md.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "wasm/aot/aot.h"

#define AOT_RESERVE (8ull << 30)          /* address space per memory */
#define AOT_ALTSTACK (64u * 1024)
#define AOT_TICK_NS 1000000ull            /* watchdog scan period = deadline precision */
#define AOT_POLL_NS 5000000ull            /* interrupt poll period of a running call */
#define AOT_IDLE_TICKS 100                /* scans without any call before the watchdog sleeps */
#define AOT_STACK_SLACK (256u * 1024)     /* host imports need this much stack */
#define AOT_TIMER_SIG (SIGRTMIN + 3)

/* Per-thread execution state. */
typedef struct aot_thread {
    sigjmp_buf *jb;                 /* innermost invoke; NULL: none */
    volatile sig_atomic_t in_module;/* 1 while generated code runs */
    volatile sig_atomic_t pending;  /* deadline/interrupt seen during an import */
    wasm_status status;             /* trap being delivered */
    aot_ctx *ctx;                   /* innermost running instance */
    _Atomic uint64_t deadline_ns;   /* 0: none; read by the watchdog too */
    _Atomic uint64_t calls;         /* outermost calls begun + ended: odd while in one */
    uintptr_t stack_lo, stack_hi;
    void *altstack;
    /* watchdog bookkeeping, under g_wd_lock */
    struct aot_thread *wd_next;
    pid_t tid;
    bool registered;
    uint64_t wd_seen_calls;         /* the call last seen running */
    uint64_t wd_signalled_ns;       /* its start, or when it was last signalled */
} aot_thread;

static _Thread_local aot_thread t_state;

/* ---- function types: one process-wide registry ---- */

typedef struct aot_functype { unsigned np, nr; unsigned *types; } aot_functype;
static pthread_mutex_t g_types_lock = PTHREAD_MUTEX_INITIALIZER;
static aot_functype *g_types;
static unsigned g_ntypes, g_types_cap;

/* Index 0 is never returned: null funcrefs carry type 0. */
static unsigned rt_register_func_type(unsigned np, unsigned nr, const unsigned *types)
{
    pthread_mutex_lock(&g_types_lock);
    unsigned n = np + nr;
    for (unsigned i = 0; i < g_ntypes; i++) {
        if (g_types[i].np == np && g_types[i].nr == nr && !memcmp(g_types[i].types, types, n * sizeof *types)) {
            pthread_mutex_unlock(&g_types_lock);
            return i + 1;
        }
    }
    if (g_ntypes == g_types_cap) {
        unsigned cap = g_types_cap ? g_types_cap * 2 : 64;
        aot_functype *nt = realloc(g_types, cap * sizeof *nt);
        if (!nt) { pthread_mutex_unlock(&g_types_lock); aot_rt_trap_status(WASM_ERR_NOMEM); }
        g_types = nt; g_types_cap = cap;
    }
    unsigned *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!copy) { pthread_mutex_unlock(&g_types_lock); aot_rt_trap_status(WASM_ERR_NOMEM); }
    memcpy(copy, types, n * sizeof *types);
    g_types[g_ntypes] = (aot_functype){np, nr, copy};
    unsigned id = ++g_ntypes;
    pthread_mutex_unlock(&g_types_lock);
    return id;
}

/* ---- traps ---- */

_Noreturn void aot_rt_trap_status(wasm_status st)
{
    aot_thread *t = &t_state;
    if (!t->jb) abort();            /* generated code outside any invoke */
    t->status = st;
    t->in_module = 0;
    siglongjmp(*t->jb, 1);
}

static void rt_trap(unsigned kind)
{
    static const wasm_status map[] = {
        [AOT_TRAP_NONE] = WASM_TRAP_HOST, [AOT_TRAP_OOB] = WASM_TRAP_MEMORY_OOB,
        [AOT_TRAP_INT_OVERFLOW] = WASM_TRAP_INT_OVERFLOW, [AOT_TRAP_DIV_BY_ZERO] = WASM_TRAP_DIV_ZERO,
        [AOT_TRAP_INVALID_CONVERSION] = WASM_TRAP_INVALID_CONVERSION,
        [AOT_TRAP_UNREACHABLE] = WASM_TRAP_UNREACHABLE,
        [AOT_TRAP_CALL_INDIRECT] = WASM_TRAP_INDIRECT_MISMATCH,
        [AOT_TRAP_UNCAUGHT_EXCEPTION] = WASM_TRAP_HOST, [AOT_TRAP_EXHAUSTION] = WASM_TRAP_STACK_EXHAUSTED,
    };
    if (kind == AOT_TRAP_UNDEFINED_ELEMENT) aot_rt_trap_status(WASM_TRAP_UNDEFINED_ELEMENT);
    if (kind == AOT_TRAP_UNINITIALIZED_ELEMENT) aot_rt_trap_status(WASM_TRAP_UNINITIALIZED_ELEMENT);
    if (kind == AOT_TRAP_TABLE_OOB) aot_rt_trap_status(WASM_TRAP_TABLE_OOB);
    aot_rt_trap_status(kind < sizeof map / sizeof map[0] ? map[kind] : WASM_TRAP_HOST);
}

/* ---- memories ---- */

static void rt_alloc_memory(void *p, unsigned initial, unsigned max)
{
    aot_rt_memory *mem = p;
    aot_ctx *ctx = t_state.ctx;
    uint32_t cap = ctx ? ctx->max_pages : 65535;
    if (cap > 65535) cap = 65535;   /* wasm_rt_memory_t.size is 32 bits */
    if (max > cap) max = cap;
    memset(mem, 0, sizeof *mem);
    if (initial > max) aot_rt_trap_status(WASM_ERR_NOMEM);
    void *base = mmap(NULL, AOT_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) aot_rt_trap_status(WASM_ERR_NOMEM);
    size_t bytes = (size_t)initial * WASM_PAGE;
    if (bytes && mprotect(base, bytes, PROT_READ | PROT_WRITE)) {
        munmap(base, AOT_RESERVE);
        aot_rt_trap_status(WASM_ERR_NOMEM);
    }
    mem->data = base;
    mem->pages = initial;
    mem->max_pages = max;
    mem->size = (uint32_t)bytes;
    if (ctx && !ctx->mem0) ctx->mem0 = mem;
}

static unsigned rt_grow_memory(void *p, unsigned delta)
{
    aot_rt_memory *mem = p;
    uint32_t old = mem->pages;
    if ((uint64_t)old + delta > mem->max_pages) return (unsigned)-1;
    if (delta) {
        sig_atomic_t was = t_state.in_module;
        t_state.in_module = 0;      /* no deadline trap in the middle */
        int rc = mprotect(mem->data + (size_t)old * WASM_PAGE, (size_t)delta * WASM_PAGE, PROT_READ | PROT_WRITE);
        t_state.in_module = was;
        if (rc) return (unsigned)-1;
        mem->pages = old + delta;
        mem->size = mem->pages * WASM_PAGE;
    }
    return old;
}

unsigned aot_rt_grow(aot_rt_memory *mem, unsigned delta) { return rt_grow_memory(mem, delta); }

static void rt_free_memory(void *p)
{
    aot_rt_memory *mem = p;
    if (mem->data) munmap(mem->data, AOT_RESERVE);
    mem->data = NULL;
}

/* ---- tables (funcref: 24-byte elements; externref: 8) ---- */

static void rt_alloc_table(void *p, unsigned esize, unsigned n, unsigned max)
{
    aot_rt_table *t = p;
    aot_ctx *ctx = t_state.ctx;
    uint32_t cap = ctx ? ctx->max_table : (1u << 20);
    if (max > cap) max = cap;
    memset(t, 0, sizeof *t);
    if (n > max) aot_rt_trap_status(WASM_ERR_NOMEM);
    t->data = calloc(n ? n : 1, esize);
    if (!t->data) aot_rt_trap_status(WASM_ERR_NOMEM);
    t->size = n;
    t->max_size = max;
}

static unsigned rt_grow_table(void *p, unsigned esize, unsigned delta, const void *init)
{
    aot_rt_table *t = p;
    uint32_t old = t->size;
    if ((uint64_t)old + delta > t->max_size) return (unsigned)-1;
    if (!delta) return old;
    uint8_t *nd = realloc(t->data, (size_t)(old + delta) * esize);
    if (!nd) return (unsigned)-1;
    for (uint32_t i = old; i < old + delta; i++) memcpy(nd + (size_t)i * esize, init, esize);
    t->data = nd;
    t->size = old + delta;
    return old;
}

static void rt_free_table(void *p)
{
    aot_rt_table *t = p;
    free(t->data);
    t->data = NULL;
}

/* ---- imports ---- */

/* The pointer an import forwarder gets: normally our ctx (we pass it as
 * every import module's "instance"), but a funcref to an imported function,
 * called through a table, carries the generated instance struct instead,
 * whose first field is one of those import-instance pointers, i.e. ctx. */
static aot_ctx *aot_ctx_of(void *p)
{
    aot_ctx *ctx = p;
    return ctx->magic == AOT_CTX_MAGIC ? ctx : *(aot_ctx **)p;
}

/* An imported memory: the exporter's own wasm-rt memory (a compiled
 * instance: aot_instance_linkable checked it), shared as is. */
static void *rt_import_memory(void *ctxp, unsigned midx)
{
    aot_ctx *ctx = aot_ctx_of(ctxp);
    aot_ctx *owner = ctx->inst->mems[midx]->aot;
    if (midx == 0) ctx->mem0 = owner->mem0;
    return owner->mem0;
}

static void rt_call_import(void *ctxp, unsigned fidx, unsigned long long *slots);
static void *rt_import_global(void *ctxp, unsigned iidx)
{
    aot_ctx *ctx = aot_ctx_of(ctxp);
    /* wasm_global keeps its value in a wasm_slot whose first bytes are the
     * value, which is what the generated code reads through this pointer. */
    return &ctx->inst->globals[iidx]->val;
}

/* Runtime calls take locks and call malloc: a deadline tick must not
 * longjmp out of them, so they run with the module-code flag cleared. */
#define OUTSIDE_MODULE(expr) do { sig_atomic_t was_ = t_state.in_module; t_state.in_module = 0; \
                                  expr; t_state.in_module = was_; } while (0)
static unsigned g_register_func_type(unsigned np, unsigned nr, const unsigned *types)
{ unsigned r; OUTSIDE_MODULE(r = rt_register_func_type(np, nr, types)); return r; }
static void g_alloc_memory(void *p, unsigned i, unsigned x) { OUTSIDE_MODULE(rt_alloc_memory(p, i, x)); }
static void g_free_memory(void *p) { OUTSIDE_MODULE(rt_free_memory(p)); }
static void g_alloc_table(void *p, unsigned e, unsigned n, unsigned x) { OUTSIDE_MODULE(rt_alloc_table(p, e, n, x)); }
static unsigned g_grow_table(void *p, unsigned e, unsigned d, const void *init)
{ unsigned r; OUTSIDE_MODULE(r = rt_grow_table(p, e, d, init)); return r; }
static void g_free_table(void *p) { OUTSIDE_MODULE(rt_free_table(p)); }

static const struct sluice_aot_rt g_rt = {
    SLUICE_AOT_ABI_VERSION, rt_trap, g_register_func_type, g_alloc_memory, rt_grow_memory,
    g_free_memory, g_alloc_table, g_grow_table, g_free_table, rt_call_import, rt_import_global, rt_import_memory,
};

/* ---- signals ---- */

static struct sigaction g_old_segv, g_old_bus;
static pthread_once_t g_signals_once = PTHREAD_ONCE_INIT;

static void chain(int sig, siginfo_t *info, void *uc)
{
    struct sigaction *old = sig == SIGSEGV ? &g_old_segv : &g_old_bus;
    if (old->sa_flags & SA_SIGINFO) {
        old->sa_sigaction(sig, info, uc);
    } else if (old->sa_handler == SIG_IGN) {
        return;
    } else if (old->sa_handler == SIG_DFL) {
        /* restore the default action; the faulting instruction re-runs */
        signal(sig, SIG_DFL);
    } else {
        old->sa_handler(sig);
    }
}

static void on_fault(int sig, siginfo_t *info, void *uc)
{
    aot_thread *t = &t_state;
    if (!t->in_module || !t->jb) { chain(sig, info, uc); return; }
    uintptr_t a = (uintptr_t)info->si_addr;
    bool stack = t->stack_lo && a < t->stack_lo + 65536 && a + (1u << 20) >= t->stack_lo;
    t->status = stack ? WASM_TRAP_STACK_EXHAUSTED : WASM_TRAP_MEMORY_OOB;
    t->in_module = 0;
    siglongjmp(*t->jb, 1);
}

/* What should stop this thread's call now: WASM_OK (nothing), an interrupt
 * (not consumed) or the deadline. Async-signal-safe. */
static wasm_status due_status(const aot_thread *t)
{
    if (!t->jb || !t->ctx) return WASM_OK;
    wasm_instance *inst = t->ctx->inst;
    if (atomic_load(&inst->interrupt) || (inst->limits.interrupt && atomic_load(inst->limits.interrupt)))
        return WASM_TRAP_INTERRUPTED;
    uint64_t d = atomic_load_explicit(&t->deadline_ns, memory_order_relaxed);
    return d && wasm_now_ns() >= d ? WASM_TRAP_DEADLINE : WASM_OK;
}

/* The watchdog's signal. It may arrive late (the call it was meant for has
 * ended, another one runs): the state is checked here, on the thread
 * itself, so a stale signal is ignored. */
static void on_tick(int sig, siginfo_t *info, void *uc)
{
    (void)sig; (void)info; (void)uc;
    aot_thread *t = &t_state;
    wasm_status st = due_status(t);
    if (st == WASM_OK) return;
    wasm_instance *inst = t->ctx->inst;
    if (!t->in_module) { t->pending = 1; return; }
    if (st == WASM_TRAP_INTERRUPTED) (void)wasm_interrupt_take(inst);
    t->status = st;
    t->in_module = 0;
    siglongjmp(*t->jb, 1);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
    /* SA_NODEFER and an empty mask: the handler leaves the signal mask as
     * it was, so siglongjmp out of it needs no mask restore and the invoke
     * can use sigsetjmp(jb, 0), which makes no system call. */
    sa.sa_sigaction = on_tick;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK | SA_NODEFER;
    sigaction(AOT_TIMER_SIG, &sa, NULL);
}

/* ---- the watchdog: deadlines and interrupt polls without per-call syscalls ----
 *
 * A thread entering an outermost call bumps its `calls` counter (odd = in a
 * call) and leaves it with another bump; nothing else. The watchdog thread
 * walks the registered threads every AOT_TICK_NS and sends AOT_TIMER_SIG to
 * a thread in a call whose deadline has passed (once per deadline) or whose
 * call has run AOT_POLL_NS since it was last signalled (interrupt flags live
 * in the instance, which the watchdog must not touch: the thread checks
 * them). After AOT_IDLE_TICKS scans without any call it sleeps on a
 * condition variable; the next call wakes it (the only syscall left on the
 * call path, once after an idle period). */

static pthread_mutex_t g_wd_lock = PTHREAD_MUTEX_INITIALIZER;  /* the list */
static aot_thread *g_wd_threads;
static pthread_mutex_t g_wd_sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wd_wake = PTHREAD_COND_INITIALIZER;
static atomic_int g_wd_sleeping;
static atomic_bool g_wd_running;

/* One scan: signals the threads that are due; true if any is in a call. */
static bool wd_scan(bool send)
{
    bool busy = false;
    uint64_t now = wasm_now_ns();
    pthread_mutex_lock(&g_wd_lock);
    for (aot_thread *t = g_wd_threads; t; t = t->wd_next) {
        uint64_t c = atomic_load(&t->calls);
        if (!(c & 1)) continue;
        busy = true;
        if (!send) continue;
        if (c != t->wd_seen_calls) { t->wd_seen_calls = c; t->wd_signalled_ns = now; }
        uint64_t d = atomic_load_explicit(&t->deadline_ns, memory_order_relaxed);
        bool due = (d && now >= d && t->wd_signalled_ns < d) || now - t->wd_signalled_ns >= AOT_POLL_NS;
        if (!due) continue;
        t->wd_signalled_ns = now;
        /* the thread cannot exit meanwhile: it unregisters under this lock */
        tgkill(getpid(), t->tid, AOT_TIMER_SIG);
    }
    pthread_mutex_unlock(&g_wd_lock);
    return busy;
}

static void *wd_main(void *arg)
{
    (void)arg;
    unsigned idle = 0;
    for (;;) {
        idle = wd_scan(true) ? 0 : idle + 1;
        if (idle >= AOT_IDLE_TICKS) {
            idle = 0;
            /* store "sleeping", then look: a thread entering a call bumps
             * its counter, then looks at "sleeping" (both seq_cst), so
             * either we see its call or it sees us asleep and wakes us */
            atomic_store(&g_wd_sleeping, 1);
            if (wd_scan(false)) { atomic_store(&g_wd_sleeping, 0); continue; }
            pthread_mutex_lock(&g_wd_sleep_lock);
            while (atomic_load(&g_wd_sleeping)) pthread_cond_wait(&g_wd_wake, &g_wd_sleep_lock);
            pthread_mutex_unlock(&g_wd_sleep_lock);
            continue;
        }
        struct timespec ts = {0, AOT_TICK_NS};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Started by the first call of the process (and again in a forked child,
 * which has no watchdog). Without one (pthread_create failed) compiled code
 * cannot be stopped by a deadline or an interrupt; imports still can. */
static void wd_start(void)
{
    pthread_mutex_lock(&g_wd_lock);
    if (!atomic_load(&g_wd_running)) {
        /* all signals blocked: process-directed signals go to the host's threads */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256u * 1024);
        pthread_t th;
        if (!pthread_create(&th, &attr, wd_main, NULL)) atomic_store(&g_wd_running, true);
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_mutex_unlock(&g_wd_lock);
}

static void wd_register(aot_thread *t)
{
    pthread_mutex_lock(&g_wd_lock);
    t->tid = gettid();
    t->wd_next = g_wd_threads;
    g_wd_threads = t;
    t->registered = true;
    pthread_mutex_unlock(&g_wd_lock);
}

static void wd_unregister(aot_thread *t)
{
    if (!t->registered) return;
    pthread_mutex_lock(&g_wd_lock);
    for (aot_thread **pp = &g_wd_threads; *pp; pp = &(*pp)->wd_next) {
        if (*pp == t) { *pp = t->wd_next; break; }
    }
    t->registered = false;
    pthread_mutex_unlock(&g_wd_lock);
}

/* The entry half of the protocol above: no syscall unless the watchdog
 * sleeps (or was never started). */
static inline void wd_call_begin(aot_thread *t)
{
    atomic_fetch_add(&t->calls, 1);
    if (!atomic_load_explicit(&g_wd_running, memory_order_relaxed)) wd_start();
    if (atomic_load(&g_wd_sleeping)) {
        pthread_mutex_lock(&g_wd_sleep_lock);
        atomic_store(&g_wd_sleeping, 0);
        pthread_cond_signal(&g_wd_wake);
        pthread_mutex_unlock(&g_wd_sleep_lock);
    }
}

/* fork(): the child has only the forking thread and no watchdog. */
static void wd_prefork(void) { pthread_mutex_lock(&g_wd_lock); }
static void wd_postfork_parent(void) { pthread_mutex_unlock(&g_wd_lock); }
static void wd_postfork_child(void)
{
    pthread_mutex_init(&g_wd_lock, NULL);
    pthread_mutex_init(&g_wd_sleep_lock, NULL);
    pthread_cond_init(&g_wd_wake, NULL);
    atomic_store(&g_wd_sleeping, 0);
    atomic_store(&g_wd_running, false);
    aot_thread *t = &t_state;
    g_wd_threads = NULL;
    if (t->registered) { t->tid = gettid(); t->wd_next = NULL; g_wd_threads = t; }
}

static pthread_key_t g_thread_key;
static void thread_exit(void *p)
{
    (void)p;
    aot_thread *t = &t_state;
    wd_unregister(t);
    if (t->altstack) {
        stack_t ss = {.ss_flags = SS_DISABLE};
        sigaltstack(&ss, NULL);
        free(t->altstack);
        t->altstack = NULL;
    }
}
static void make_key(void)
{
    install_signals();
    pthread_key_create(&g_thread_key, thread_exit);
    pthread_atfork(wd_prefork, wd_postfork_parent, wd_postfork_child);
}

/* First use on a thread: signal stack, stack bounds, timer. */
static void thread_setup(aot_thread *t)
{
    pthread_once(&g_signals_once, make_key);
    if (t->stack_hi) return;
    pthread_attr_t attr;
    if (!pthread_getattr_np(pthread_self(), &attr)) {
        void *lo; size_t sz;
        if (!pthread_attr_getstack(&attr, &lo, &sz)) {
            t->stack_lo = (uintptr_t)lo;
            t->stack_hi = (uintptr_t)lo + sz;
        }
        pthread_attr_destroy(&attr);
    }
    if (!t->stack_hi) t->stack_hi = 1;
    stack_t cur;
    if (!sigaltstack(NULL, &cur) && (cur.ss_flags & SS_DISABLE)) {
        t->altstack = malloc(AOT_ALTSTACK);
        if (t->altstack) {
            stack_t ss = {.ss_sp = t->altstack, .ss_size = AOT_ALTSTACK, .ss_flags = 0};
            if (sigaltstack(&ss, NULL)) { free(t->altstack); t->altstack = NULL; }
        }
    }
    wd_register(t);
    pthread_setspecific(g_thread_key, t);
}

const struct sluice_aot_rt *aot_rt_table_get(void)
{
    pthread_once(&g_signals_once, make_key);
    return &g_rt;
}

/* ---- invoke ---- */

void aot_rt_sync_memory(aot_ctx *ctx)
{
    wasm_memory *m = ctx->inst->mem0;
    if (!ctx->mem0 || !m) return;
    m->data = ctx->mem0->data;
    m->pages = ctx->mem0->pages;
    m->size = (uint64_t)ctx->mem0->pages * WASM_PAGE;
    m->max = ctx->mem0->max_pages;
}

static void take_pending(aot_thread *t);
static wasm_status run_protected(aot_ctx *ctx, void (*fn)(void *, unsigned long long *),
                                 unsigned long long *slots, uint64_t deadline, bool instantiate)
{
    aot_thread *t = &t_state;
    thread_setup(t);
    wasm_instance *inst = ctx->inst;
    /* save the outer state: this may be a nested call through an import */
    sigjmp_buf *outer_jb = t->jb;
    aot_ctx *outer_ctx = t->ctx;
    uint64_t outer_deadline = atomic_load_explicit(&t->deadline_ns, memory_order_relaxed);
    sig_atomic_t outer_in = t->in_module;
    bool top = !outer_jb;
    sigjmp_buf jb;
    wasm_status st = WASM_OK;
    if (top) wd_call_begin(t);
    /* savemask 0: no rt_sigprocmask; our handlers never change the mask */
    if (sigsetjmp(jb, 0)) {
        st = t->status;
        if (!inst->msg[0]) snprintf(inst->msg, sizeof inst->msg, "%s", wasm_status_name(st));
    } else {
        if (top) t->pending = 0;
        t->jb = &jb;
        t->ctx = ctx;
        if (deadline && (!outer_deadline || deadline < outer_deadline))
            atomic_store_explicit(&t->deadline_ns, deadline, memory_order_relaxed);
        if (wasm_interrupt_take(inst)) aot_rt_trap_status(WASM_TRAP_INTERRUPTED);
        /* the handler must see jb and ctx before in_module (compiler barrier) */
        atomic_signal_fence(memory_order_seq_cst);
        t->in_module = 1;
        take_pending(t);            /* a signal during the lines above */
        if (instantiate) ctx->lib->desc->instantiate(ctx->rt_inst, ctx);
        else fn(ctx->rt_inst, slots);
        t->in_module = 0;
        atomic_signal_fence(memory_order_seq_cst);
    }
    t->jb = outer_jb;
    t->ctx = outer_ctx;
    atomic_store_explicit(&t->deadline_ns, outer_deadline, memory_order_relaxed);
    t->in_module = outer_in;
    if (top) atomic_fetch_add_explicit(&t->calls, 1, memory_order_release);
    aot_rt_sync_memory(ctx);
    return st;
}

wasm_status aot_rt_invoke(aot_ctx *ctx, void (*fn)(void *, unsigned long long *), unsigned long long *slots,
                          uint64_t deadline_ns)
{
    return run_protected(ctx, fn, slots, deadline_ns, false);
}

wasm_status aot_rt_instantiate(aot_ctx *ctx)
{
    uint64_t t = ctx->inst->timeout_ns;
    return run_protected(ctx, NULL, NULL, t ? wasm_now_ns() + t : 0, true);
}

void aot_rt_import_begin(void)
{
    aot_thread *t = &t_state;
    t->in_module = 0;
    char probe;
    if (t->stack_lo && (uintptr_t)&probe < t->stack_lo + AOT_STACK_SLACK)
        aot_rt_trap_status(WASM_TRAP_STACK_EXHAUSTED);
    if (t->ctx) aot_rt_sync_memory(t->ctx);
}

/* A signal that came while the thread was outside module code (an import,
 * the runtime, the entry path) left `pending`: trap now if still due. */
static void take_pending(aot_thread *t)
{
    if (t->pending) {
        /* seen during the import; checked again: the signal may have been
         * meant for an inner call (through this import) that has ended */
        t->pending = 0;
        wasm_status st = due_status(t);
        if (st == WASM_TRAP_INTERRUPTED) (void)wasm_interrupt_take(t->ctx->inst);
        if (st != WASM_OK) aot_rt_trap_status(st);
    }
    t->in_module = 1;
}

void aot_rt_import_end(void) { take_pending(&t_state); }

/* An import called by generated code: forwards to the function the public
 * instance linked (host function, interpreted or compiled wasm). */
static void rt_call_import(void *ctxp, unsigned fidx, unsigned long long *slots)
{
    aot_ctx *ctx = aot_ctx_of(ctxp);
    wasm_instance *inst = ctx->inst;
    aot_rt_import_begin();
    wasm_func *f = inst->funcs[fidx];
    const wasm_functype *ty = f->type;
    wasm_val args[WASM_MAX_HOST_ARITY], res[WASM_MAX_HOST_ARITY];
    for (uint32_t i = 0; i < ty->nparams; i++) {
        wasm_slot s; s.u64 = slots[i];
        args[i] = wasm_slot_to_val(s, ty->params[i]);
    }
    wasm_status st;
    if (f->host) {
        for (uint32_t i = 0; i < ty->nresults; i++) { res[i].type = ty->results[i]; res[i].of.i64 = 0; }
        inst->msg[0] = 0;
        st = f->host(inst, args, res, f->user);
        if (st != WASM_OK && !inst->msg[0]) snprintf(inst->msg, sizeof inst->msg, "host function failed");
    } else {
        wasm_error err;
        st = wasm_call(f->inst, f, args, ty->nparams, res, ty->nresults, &err);
        if (st != WASM_OK) {
            snprintf(inst->msg, sizeof inst->msg, "%s", err.message);
            inst->exit_code = err.exit_code;
        }
    }
    if (st != WASM_OK) aot_rt_trap_status(st);
    for (uint32_t i = 0; i < ty->nresults; i++) slots[i] = wasm_val_to_slot(res[i]).u64;
    aot_rt_import_end();
}
