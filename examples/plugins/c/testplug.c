/*
 * examples/plugins/c/testplug.c - a Bifrost-ABI WASM plugin in freestanding
 * C (clang --target=wasm32, no libc), used by Sluice's plugin tests and as
 * a minimal example of the ABI.
 *
 * Normal behaviour: every hook echoes its whole input JSON into the context
 * (so tests can see exactly what the host sent), http_pre_hook adds the
 * header X-C-Plugin, http_post_hook adds X-C-Post, the stream chunk hook
 * adds "c_plugin":"yes" to each chunk. Trigger words anywhere in the input
 * select other behaviour: short-circuits, a plugin-reported error, and the
 * misbehaviours the sandbox must survive (trigger-loop, -trap, -badptr,
 * -oversize, -oob-read, -oob-write, -hog, -badjson, -exit).
 *
 * Build variants (for the host's allocator handling):
 *   -DPLUGIN_FAMILY  exports plugin_malloc/plugin_free (malloc is a decoy)
 *   -DFREE2          the free function takes (ptr, len)
 *   -DRESET          exports plugin_reset
 *   -DREACTOR        exports _initialize;  -DCOMMAND  exports a trapping _start
 *   -DNAME="..."     the get_name() result
 */
typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned long size_t;

#define EXPORT(n) __attribute__((export_name(n)))
#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))

#ifndef NAME
#define NAME "c-test"
#endif

IMPORT("wasi_snapshot_preview1", "proc_exit") void wasi_proc_exit(u32 code);
IMPORT("wasi_snapshot_preview1", "fd_write") u32 wasi_fd_write(u32 fd, const void *iovs, u32 n, u32 *written);

/* ---- libc bits the compiler may call ---- */

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *o = d;
    const unsigned char *i = s;
    while (n--) *o++ = *i++;
    return d;
}

void *memset(void *d, int c, size_t n)
{
    unsigned char *o = d;
    while (n--) *o++ = (unsigned char)c;
    return d;
}

static size_t slen(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* ---- a bump allocator that resets when nothing is live ---- */

extern unsigned char __heap_base;
static u32 heap_top, live, n_frees, n_resets, n_mallocs, initialized;

static u32 bump(u32 size)
{
    if (!heap_top) heap_top = (u32)(size_t)&__heap_base;
    u32 p = (heap_top + 7) & ~7u;
    u64 end = (u64)p + size;
    u64 have = (u64)__builtin_wasm_memory_size(0) * 65536;
    if (end > have) {
        u64 pages = (end - have + 65535) / 65536;
        if (__builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1) return 0;
    }
    heap_top = (u32)end;
    live++;
    n_mallocs++;
    return p;
}

static void unbump(void)
{
    n_frees++;
    if (live && --live == 0) heap_top = (u32)(size_t)&__heap_base;
}

#ifdef PLUGIN_FAMILY
EXPORT("plugin_malloc") u32 plugin_malloc(u32 size) { return bump(size); }
/* A decoy: the host must prefer plugin_malloc. */
EXPORT("malloc") u32 decoy_malloc(u32 size) { (void)size; return 0xFFFFFFF0u; }
#ifdef FREE2
EXPORT("plugin_free") void plugin_free(u32 p, u32 len) { (void)p; (void)len; unbump(); }
#else
EXPORT("plugin_free") void plugin_free(u32 p) { (void)p; unbump(); }
#endif
#else
EXPORT("malloc") u32 malloc_(u32 size) { return bump(size); }
#ifdef FREE2
EXPORT("free") void free_(u32 p, u32 len) { (void)p; (void)len; unbump(); }
#else
EXPORT("free") void free_(u32 p) { (void)p; unbump(); }
#endif
#endif

#ifdef RESET
EXPORT("plugin_reset") void plugin_reset(void)
{
    n_resets++;
    live = 0;
    heap_top = (u32)(size_t)&__heap_base;
}
#endif

#ifdef REACTOR
EXPORT("_initialize") void initialize(void) { initialized = 1; }
#endif
#ifdef COMMAND
EXPORT("_start") void start(void) { __builtin_trap(); }
#endif

/* ---- output building ---- */

typedef struct out {
    char *p;
    u32 len, cap;
} out;

static void put(out *o, const char *s, u32 n)
{
    for (u32 i = 0; i < n && o->len < o->cap; i++) o->p[o->len++] = s[i];
}
static void puts_(out *o, const char *s) { put(o, s, (u32)slen(s)); }
static void putu(out *o, u32 v)
{
    char b[12];
    int n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) put(o, &b[--n], 1);
}

static out out_new(u32 cap)
{
    out o = {(char *)(size_t)bump(cap), 0, cap};
    return o;
}

static u64 done(out *o) { return (u64)(size_t)o->p << 32 | o->len; }

static u64 reply(const char *s)
{
    out o = out_new((u32)slen(s));
    puts_(&o, s);
    return done(&o);
}

/* ---- tiny JSON scanning ---- */

static int find(const char *h, u32 hl, const char *needle, u32 from)
{
    u32 nl = (u32)slen(needle);
    for (u32 i = from; i + nl <= hl; i++) {
        u32 k = 0;
        while (k < nl && h[i + k] == needle[k]) k++;
        if (k == nl) return (int)i;
    }
    return -1;
}

/* The object value of the first `"key":{` at or after `from`: *start at
 * '{', returns its length (0 if absent). String-aware brace matching. */
static u32 object_at(const char *s, u32 len, const char *key, u32 from, u32 *start)
{
    char pat[40];
    u32 n = 0;
    pat[n++] = '"';
    for (const char *k = key; *k; k++) pat[n++] = *k;
    pat[n++] = '"';
    pat[n++] = ':';
    pat[n++] = '{';
    pat[n] = 0;
    int at = find(s, len, pat, from);
    if (at < 0) return 0;
    u32 i = (u32)at + n - 1, depth = 0;
    int in_str = 0;
    *start = i;
    for (; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
        } else if (c == '"') in_str = 1;
        else if (c == '{') depth++;
        else if (c == '}' && --depth == 0) return i - *start + 1;
    }
    return 0;
}

/* Writes object obj[0..n) with `extra` ("\"k\":v") inserted first. */
static void put_obj_with(out *o, const char *obj, u32 n, const char *extra)
{
    puts_(o, "{");
    puts_(o, extra);
    if (n > 2) { puts_(o, ","); put(o, obj + 1, n - 1); }
    else puts_(o, "}");
}

static void put_counters(out *o)
{
    puts_(o, "\"frees\":");
    putu(o, n_frees);
    puts_(o, ",\"resets\":");
    putu(o, n_resets);
    puts_(o, ",\"initialized\":");
    putu(o, initialized);
}

static int has(const char *in, u32 len, const char *w) { return find(in, len, w, 0) >= 0; }

/* Misbehaviours shared by every hook; returns 1 and sets *r if one fired. */
static int misbehave(const char *in, u32 len, u64 *r)
{
    if (has(in, len, "trigger-loop")) { volatile int x = 1; while (x) {} }
    if (has(in, len, "trigger-trap")) __builtin_trap();
    if (has(in, len, "trigger-badptr")) { *r = (u64)0xFFFFFF00u << 32 | 64; return 1; }
    if (has(in, len, "trigger-oversize")) { *r = 0xFFFFFFF0u; return 1; }
    /* accesses past the end of linear memory (4 GiB - 16 is never mapped for a plugin) */
    if (has(in, len, "trigger-oob-read")) { *r = *(volatile u64 *)(size_t)0xFFFFFFF0u; return 1; }
    if (has(in, len, "trigger-oob-write")) { *(volatile u32 *)(size_t)0xFFFFFFF8u = 7; }
    if (has(in, len, "trigger-hog"))
        for (;;) if (__builtin_wasm_memory_grow(0, 16) == (size_t)-1) __builtin_trap();
    if (has(in, len, "trigger-badjson")) { *r = reply("{not json"); return 1; }
    if (has(in, len, "trigger-exit")) wasi_proc_exit(3);
    return 0;
}

/* ---- the ABI ---- */

static char config_copy[256];

/* "bad_name" in the config: get_name() returns what a hostile plugin might,
 * a name that would forge a log line, or 64 KiB of it (tests the host's check). */
static int bad_name;
static char long_name[65536];

EXPORT("get_name") u64 get_name(void)
{
    if (bad_name == 1) return reply("evil\n{\"forged\":true}");
    if (bad_name == 2) {
        for (u32 i = 0; i < sizeof long_name - 1; i++) long_name[i] = 'n';
        return reply(long_name);
    }
    return reply(NAME);
}

EXPORT("init") int init(const char *cfg, u32 len)
{
    if (find(cfg, len, "fail_init", 0) >= 0) return 7;
    if (find(cfg, len, "bad_name", 0) >= 0) bad_name = find(cfg, len, "long", 0) >= 0 ? 2 : 1;
    u32 n = len < sizeof config_copy - 1 ? len : (u32)sizeof config_copy - 1;
    memcpy(config_copy, cfg, n);
    if (find(cfg, len, "log_hello", 0) >= 0) {
        static const char msg[] = "hello from c-test\n";
        struct { u32 p, l; } iov = {(u32)(size_t)msg, sizeof msg - 1};
        u32 w;
        wasi_fd_write(1, &iov, 1, &w);
    }
    if (find(cfg, len, "log_forge", 0) >= 0) { /* a second line and an escape sequence in one write */
        static const char msg[] = "first\n{\"level\":\"error\",\"forged\":1}\x1b[31m\r\n";
        struct { u32 p, l; } iov = {(u32)(size_t)msg, sizeof msg - 1};
        u32 w;
        wasi_fd_write(2, &iov, 1, &w);
    }
    return 0;
}

EXPORT("cleanup") int cleanup(void) { return 0; }

EXPORT("http_pre_hook") u64 http_pre_hook(const char *in, u32 len)
{
    u64 r;
    if (misbehave(in, len, &r)) return r;
    if (has(in, len, "trigger-error")) return reply("{\"context\":{},\"error\":\"refused by c-test\"}");
    if (has(in, len, "trigger-short"))
        return reply("{\"context\":{\"short\":\"yes\"},\"has_response\":true,\"response\":{\"status_code\":418,"
                     "\"headers\":{\"X-Short\":\"1\",\"Content-Type\":\"text/plain\"},"
                     "\"body\":\"c2hvcnQtY2lyY3VpdGVk\"},\"error\":\"\"}"); /* "short-circuited" */
    out o = out_new(len * 2 + 512);
    puts_(&o, "{\"context\":{\"c_pre_input\":");
    put(&o, in, len);
    puts_(&o, ",\"c_config\":");
    puts_(&o, config_copy[0] ? config_copy : "null");
    puts_(&o, ",");
    put_counters(&o);
    puts_(&o, "},\"request\":{\"headers\":");
    u32 hs, hl = object_at(in, len, "headers", 0, &hs);
    put_obj_with(&o, in + hs, hl, "\"X-C-Plugin\":\"" NAME "\"");
    puts_(&o, "},\"has_response\":false,\"error\":\"\"}");
    return done(&o);
}

EXPORT("http_post_hook") u64 http_post_hook(const char *in, u32 len)
{
    u64 r;
    if (misbehave(in, len, &r)) return r;
    out o = out_new(len * 2 + 256);
    puts_(&o, "{\"context\":{\"c_post_input\":");
    put(&o, in, len);
    puts_(&o, "},\"response\":{\"headers\":");
    int at = find(in, len, "\"response\":{", 0);
    u32 hs = 0, hl = at < 0 ? 0 : object_at(in, len, "headers", (u32)at, &hs);
    put_obj_with(&o, in + hs, hl, "\"X-C-Post\":\"1\"");
    puts_(&o, "},\"error\":\"\"}");
    return done(&o);
}

EXPORT("http_stream_chunk_hook") u64 http_stream_chunk_hook(const char *in, u32 len)
{
    u64 r;
    if (misbehave(in, len, &r)) return r;
    if (has(in, len, "trigger-skip")) return reply("{\"context\":{},\"skip\":true,\"has_chunk\":false,\"error\":\"\"}");
    if (has(in, len, "trigger-b64chunk")) /* {"replaced":true} */
        return reply("{\"context\":{},\"has_chunk\":true,\"chunk\":\"eyJyZXBsYWNlZCI6dHJ1ZX0=\",\"error\":\"\"}");
    out o = out_new(len + 256);
    puts_(&o, "{\"context\":{\"c_chunk_seen\":true},\"has_chunk\":true,\"skip\":false,\"chunk\":");
    u32 cs, cl = object_at(in, len, "chunk", 0, &cs);
    put_obj_with(&o, in + cs, cl, "\"c_plugin\":\"yes\"");
    puts_(&o, ",\"error\":\"\"}");
    return done(&o);
}

EXPORT("pre_hook") u64 pre_hook(const char *in, u32 len)
{
    u64 r;
    if (misbehave(in, len, &r)) return r;
    if (has(in, len, "trigger-chat-short"))
        return reply("{\"context\":{},\"has_short_circuit\":true,\"short_circuit\":{\"response\":{\"chat_response\":"
                     "{\"id\":\"c-short\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
                     "{\"role\":\"assistant\",\"content\":\"from c-test\"},\"finish_reason\":\"stop\"}]}}},\"error\":\"\"}");
    if (has(in, len, "trigger-chat-error"))
        return reply("{\"context\":{},\"has_short_circuit\":true,\"short_circuit\":{\"error\":{\"error\":"
                     "{\"message\":\"blocked by c-test\",\"type\":\"plugin\"},\"status_code\":403,"
                     "\"allow_fallbacks\":false}},\"error\":\"\"}");
    if (has(in, len, "trigger-chat-model"))
        return reply("{\"context\":{},\"request\":{\"provider\":\"mock\",\"model\":\"rewritten\"},\"error\":\"\"}");
    out o = out_new(len + 256);
    puts_(&o, "{\"context\":{\"c_prehook_input\":");
    put(&o, in, len);
    puts_(&o, "},\"has_short_circuit\":false,\"error\":\"\"}");
    return done(&o);
}

EXPORT("post_hook") u64 post_hook(const char *in, u32 len)
{
    u64 r;
    if (misbehave(in, len, &r)) return r;
    if (has(in, len, "trigger-post-error"))
        return reply("{\"context\":{},\"has_error\":true,\"error\":{\"error\":{\"message\":\"turned into an error\","
                     "\"type\":\"plugin\"},\"status_code\":502,\"allow_fallbacks\":false},\"hook_error\":\"\"}");
    out o = out_new(len + 256);
    puts_(&o, "{\"context\":{\"c_posthook_input\":");
    put(&o, in, len);
    puts_(&o, "},\"hook_error\":\"\"}");
    return done(&o);
}
