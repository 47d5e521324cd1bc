/*
 * bench/plugins/passthru.c - the cheapest Bifrost-ABI plugin that still does
 * the whole protocol: it exports every hook, each of which answers "{}"
 * (nothing changed) from a buffer of its own allocator. What it costs per
 * request is the host's overhead (marshalling, copies, calls), not the
 * plugin's. Freestanding C: clang --target=wasm32 -nostdlib.
 */
typedef unsigned int u32;
typedef unsigned long long u64;

#define EXPORT(n) __attribute__((export_name(n)))

/* A bump allocator that starts over whenever nothing is live: the host
 * frees the input and the output after every hook. */
extern unsigned char __heap_base;
static u32 top, live;

EXPORT("malloc") u32 pt_malloc(u32 size)
{
    if (!top) top = (u32)(unsigned long)&__heap_base;
    u32 p = (top + 7) & ~7u;
    u64 end = (u64)p + size;
    u64 have = (u64)__builtin_wasm_memory_size(0) * 65536;
    if (end > have && __builtin_wasm_memory_grow(0, (unsigned long)((end - have + 65535) / 65536)) == (unsigned long)-1)
        return 0;
    top = (u32)end;
    live++;
    return p;
}

EXPORT("free") void pt_free(u32 ptr)
{
    if (ptr && live && --live == 0) top = 0;
}

static u64 empty_object(void)
{
    unsigned char *p = (unsigned char *)(unsigned long)pt_malloc(2);
    if (!p) return 0;
    p[0] = '{';
    p[1] = '}';
    return (u64)(unsigned long)p << 32 | 2;
}

EXPORT("http_pre_hook") u64 http_pre_hook(u32 p, u32 n) { (void)p; (void)n; return empty_object(); }
EXPORT("http_post_hook") u64 http_post_hook(u32 p, u32 n) { (void)p; (void)n; return empty_object(); }
EXPORT("http_stream_chunk_hook") u64 http_stream_chunk_hook(u32 p, u32 n) { (void)p; (void)n; return empty_object(); }
EXPORT("pre_hook") u64 pre_hook(u32 p, u32 n) { (void)p; (void)n; return empty_object(); }
EXPORT("post_hook") u64 post_hook(u32 p, u32 n) { (void)p; (void)n; return empty_object(); }
