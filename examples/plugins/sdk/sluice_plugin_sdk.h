/*
 * sluice_plugin_sdk.h - a header-only SDK for writing Sluice / Bifrost WASM
 * plugins in C. Include it in exactly one .c file (it defines the ABI exports).
 *
 * Two build modes, chosen by the target:
 *   freestanding  clang --target=wasm32 -nostdlib -Wl,--no-entry
 *                 The SDK brings memcpy/memset/memmove/memcmp (the compiler
 *                 emits calls to them) and a bump allocator over __heap_base
 *                 that plugin_reset() rewinds after every hook, down to what
 *                 init() kept (so a plugin never leaks, by construction).
 *   wasi-libc     clang --target=wasm32-wasi -mexec-model=reactor
 *                 (__wasi__ is defined): plugin_malloc/plugin_free are the
 *                 libc malloc/free, and the whole of libc is usable.
 *
 * What a plugin writes:
 *
 *   #define SP_PLUGIN_NAME "my-plugin"
 *   #include "sluice_plugin_sdk.h"
 *   SP_INIT(cfg) { ...read cfg (the entry's "config" JSON)...; return 0; }
 *   SP_HOOK(http_pre_hook, in, out) { sp_out_cstr(out, "{\"context\":{}}"); }
 *
 * SP_HOOK(name, in, out) exports `name` with the ABI's (ptr, len) -> u64
 * signature; `in` is the input JSON as an sp_str, and whatever the body
 * appends to `out` is returned (packed ptr << 32 | len). A hook that writes
 * nothing returns an empty output, which the host counts as a failure.
 *
 * JSON input is read in place, without a parse tree: sp_json_get() and
 * friends return sp_str spans of the raw JSON text of a value. They never
 * read outside the span they are given, whatever its content. Strings are
 * compared and copied unescaped with sp_json_str_eq() / sp_json_str_copy().
 *
 * Memory: the buffer a hook returns is freed by the host. Temporary buffers
 * (sp_b64_decode, an sp_out of your own) go back with sp_release() /
 * sp_out_release(): needed with wasi-libc's malloc, a no-op freestanding
 * (plugin_reset() rewinds the bump allocator after every call).
 */
#ifndef SLUICE_PLUGIN_SDK_H
#define SLUICE_PLUGIN_SDK_H

typedef unsigned int sp_u32;
typedef unsigned long long sp_u64;
typedef __SIZE_TYPE__ sp_size;
/* Helpers a plugin may not use: no -Wunused-function for them. */
#define SP_FN static __attribute__((unused))

#define SP_EXPORT(n) __attribute__((export_name(n)))
#define SP_IMPORT(m, n) __attribute__((import_module(m), import_name(n)))

/* A span of bytes: a JSON value inside the input, or any text. */
typedef struct sp_str {
    const char *p;
    sp_u32 n;
} sp_str;

/* ------------------------------------------------------------------ memory */

#if defined(__wasi__) && !defined(SP_FREESTANDING)
#include <stdlib.h>
#include <string.h>

SP_FN void *sp_alloc(sp_u32 n) { return malloc(n ? n : 1); }
SP_FN void *sp_realloc(void *p, sp_u32 old, sp_u32 n) { (void)old; return realloc(p, n ? n : 1); }
SP_FN void sp_keep(void) {}
/* Gives back memory from sp_alloc (a no-op for the bump allocator). */
SP_FN void sp_release(void *p) { free(p); }
/* Traps when out of memory: the host would take 0 as an address. */
SP_EXPORT("plugin_malloc") sp_u32 plugin_malloc(sp_u32 n)
{
    void *p = sp_alloc(n);
    if (!p) __builtin_trap();
    return (sp_u32)(sp_size)p;
}
SP_EXPORT("plugin_free") void plugin_free(sp_u32 p) { free((void *)(sp_size)p); }
#define sp_memcpy memcpy
#else
void *memcpy(void *d, const void *s, sp_size n)
{
    unsigned char *o = d;
    const unsigned char *i = s;
    while (n--) *o++ = *i++;
    return d;
}
void *memmove(void *d, const void *s, sp_size n)
{
    unsigned char *o = d;
    const unsigned char *i = s;
    if (o < i) while (n--) *o++ = *i++;
    else while (n--) o[n] = i[n];
    return d;
}
void *memset(void *d, int c, sp_size n)
{
    unsigned char *o = d;
    while (n--) *o++ = (unsigned char)c;
    return d;
}
int memcmp(const void *a, const void *b, sp_size n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
    return 0;
}
#define sp_memcpy memcpy

extern unsigned char __heap_base;
static sp_u32 sp_heap_top, sp_heap_floor;

/* Bump allocation, growing linear memory as needed; 0 when it cannot. */
SP_FN void *sp_alloc(sp_u32 n)
{
    if (!sp_heap_top) sp_heap_top = sp_heap_floor = (sp_u32)(sp_size)&__heap_base;
    sp_u32 p = (sp_heap_top + 7) & ~7u;
    sp_u64 end = (sp_u64)p + n, have = (sp_u64)__builtin_wasm_memory_size(0) * 65536;
    if (end > 0xFFFFFFFFull) return 0;
    if (end > have && __builtin_wasm_memory_grow(0, (sp_size)((end - have + 65535) / 65536)) == (sp_size)-1)
        return 0;
    sp_heap_top = (sp_u32)end;
    return (void *)(sp_size)p;
}
SP_FN void *sp_realloc(void *old, sp_u32 old_n, sp_u32 n)
{
    void *p = sp_alloc(n);
    if (p && old) memcpy(p, old, old_n < n ? old_n : n);
    return p;
}
SP_FN void sp_release(void *p) { (void)p; } /* plugin_reset() reclaims everything */
/* Everything allocated so far survives plugin_reset() (called after init). */
SP_FN void sp_keep(void) { sp_alloc(0); sp_heap_floor = sp_heap_top; }
/* Traps when out of memory: the host would take 0 as an address. */
SP_EXPORT("plugin_malloc") sp_u32 plugin_malloc(sp_u32 n)
{
    void *p = sp_alloc(n);
    if (!p) __builtin_trap();
    return (sp_u32)(sp_size)p;
}
SP_EXPORT("plugin_free") void plugin_free(sp_u32 p) { (void)p; }
SP_EXPORT("plugin_reset") void plugin_reset(void) { if (sp_heap_floor) sp_heap_top = sp_heap_floor; }
#endif

SP_FN sp_u32 sp_cstrlen(const char *s)
{
    sp_u32 n = 0;
    while (s[n]) n++;
    return n;
}
SP_FN sp_str sp_cstr(const char *s) { sp_str r = {s, sp_cstrlen(s)}; return r; }
SP_FN int sp_str_eq(sp_str a, sp_str b) { return a.n == b.n && memcmp(a.p, b.p, a.n) == 0; }
SP_FN int sp_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
/* A copy of s in plugin memory (kept when called from init). */
SP_FN sp_str sp_str_dup(sp_str s)
{
    char *p = sp_alloc(s.n + 1);
    sp_str r = {p, 0};
    if (p) { sp_memcpy(p, s.p, s.n); p[s.n] = 0; r.n = s.n; }
    return r;
}

/* ------------------------------------------------------------ output buffer */

/* A growing output; on allocation failure it stops growing and `oom` is set
 * (the hook then returns an empty output, which the host reports). */
typedef struct sp_out {
    char *p;
    sp_u32 len, cap;
    int oom;
} sp_out;

SP_FN void sp_out_raw(sp_out *o, const char *s, sp_u32 n)
{
    if (o->oom) return;
    if (o->cap - o->len < n) {
        sp_u32 cap = o->cap ? o->cap : 256;
        while (cap - o->len < n) {
            if (cap > 0x7FFFFFFFu) { o->oom = 1; return; }
            cap *= 2;
        }
        char *p = sp_realloc(o->p, o->len, cap);
        if (!p) { o->oom = 1; return; }
        o->p = p;
        o->cap = cap;
    }
    sp_memcpy(o->p + o->len, s, n);
    o->len += n;
}
/* Frees a temporary output (not the one a hook returns: the host frees it). */
SP_FN void sp_out_release(sp_out *o) { sp_release(o->p); o->p = 0; o->len = o->cap = 0; }
SP_FN void sp_out_cstr(sp_out *o, const char *s) { sp_out_raw(o, s, sp_cstrlen(s)); }
SP_FN void sp_out_span(sp_out *o, sp_str s) { sp_out_raw(o, s.p, s.n); }
SP_FN void sp_out_u64(sp_out *o, sp_u64 v)
{
    char b[20];
    int n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) sp_out_raw(o, &b[--n], 1);
}
/* s[0..n) as a quoted JSON string. */
SP_FN void sp_out_str(sp_out *o, const char *s, sp_u32 n)
{
    static const char hex[] = "0123456789abcdef";
    sp_out_raw(o, "\"", 1);
    for (sp_u32 i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { char e[2] = {'\\', (char)c}; sp_out_raw(o, e, 2); }
        else if (c < 0x20) { char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]}; sp_out_raw(o, e, 6); }
        else sp_out_raw(o, (const char *)&c, 1);
    }
    sp_out_raw(o, "\"", 1);
}
SP_FN void sp_out_qcstr(sp_out *o, const char *s) { sp_out_str(o, s, sp_cstrlen(s)); }
/* data[0..n) as a quoted standard base64 string (HTTP bodies). */
SP_FN void sp_out_b64(sp_out *o, const char *data, sp_u32 n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *d = (const unsigned char *)data;
    sp_out_raw(o, "\"", 1);
    for (sp_u32 i = 0; i < n; i += 3) {
        sp_u32 v = (sp_u32)d[i] << 16 | (i + 1 < n ? (sp_u32)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        char q[4] = {a[v >> 18], a[(v >> 12) & 63], i + 1 < n ? a[(v >> 6) & 63] : '=', i + 2 < n ? a[v & 63] : '='};
        sp_out_raw(o, q, 4);
    }
    sp_out_raw(o, "\"", 1);
}

/* ------------------------------------------------------------- JSON reading */

SP_FN sp_u32 sp_ws(sp_str s, sp_u32 i)
{
    while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == '\n' || s.p[i] == '\r')) i++;
    return i;
}

/* The end (exclusive) of the JSON value starting at s.p[i]; s.n if cut. */
SP_FN sp_u32 sp_skip(sp_str s, sp_u32 i)
{
    if (i >= s.n) return s.n;
    if (s.p[i] == '"') {
        for (i++; i < s.n; i++) {
            if (s.p[i] == '\\') i++;
            else if (s.p[i] == '"') return i + 1;
        }
        return s.n;
    }
    if (s.p[i] == '{' || s.p[i] == '[') {
        sp_u32 depth = 0;
        for (; i < s.n; i++) {
            char c = s.p[i];
            if (c == '"') { i = sp_skip(s, i) - 1; continue; }
            if (c == '{' || c == '[') depth++;
            else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
        }
        return s.n;
    }
    while (i < s.n && s.p[i] != ',' && s.p[i] != '}' && s.p[i] != ']' && s.p[i] != ' ' && s.p[i] != '\n' &&
           s.p[i] != '\t' && s.p[i] != '\r')
        i++;
    return i;
}

/* Iterates an object's members or an array's elements. */
typedef struct sp_iter {
    sp_str v;
    sp_u32 i;
} sp_iter;

SP_FN sp_iter sp_iter_of(sp_str container) { sp_iter it = {container, 1}; return it; }

/* Next member: *key = the raw key without quotes (escapes kept; for arrays
 * it is empty), *val = the value's span. Returns 0 at the end. */
SP_FN int sp_next(sp_iter *it, sp_str *key, sp_str *val)
{
    sp_str s = it->v;
    if (s.n < 2 || (s.p[0] != '{' && s.p[0] != '[')) return 0;
    sp_u32 i = sp_ws(s, it->i);
    if (i < s.n && s.p[i] == ',') i = sp_ws(s, i + 1);
    if (i >= s.n || s.p[i] == '}' || s.p[i] == ']') return 0;
    key->p = s.p + i;
    key->n = 0;
    if (s.p[0] == '{') {
        sp_u32 e = sp_skip(s, i);
        if (e - i < 2) return 0;
        key->p = s.p + i + 1;
        key->n = e - i - 2;
        i = sp_ws(s, e);
        if (i >= s.n || s.p[i] != ':') return 0;
        i = sp_ws(s, i + 1);
    }
    sp_u32 e = sp_skip(s, i);
    if (e <= i) return 0;
    val->p = s.p + i;
    val->n = e - i;
    it->i = e;
    return 1;
}

SP_FN int sp_key_eq(sp_str k, const char *name, int nocase)
{
    sp_u32 i = 0;
    for (; i < k.n && name[i]; i++)
        if (nocase ? sp_lower(k.p[i]) != sp_lower(name[i]) : k.p[i] != name[i]) return 0;
    return i == k.n && !name[i];
}

SP_FN sp_str sp_get_(sp_str obj, const char *key, int nocase)
{
    sp_iter it = sp_iter_of(obj);
    sp_str k, v, none = {0, 0};
    if (!obj.n || obj.p[0] != '{') return none;
    while (sp_next(&it, &k, &v))
        if (sp_key_eq(k, key, nocase)) return v;
    return none;
}
/* The value of obj's member `key` (n == 0 when absent or obj is no object). */
SP_FN sp_str sp_json_get(sp_str obj, const char *key) { return sp_get_(obj, key, 0); }
/* Same, with an ASCII case-insensitive key (HTTP header maps). */
SP_FN sp_str sp_json_get_ci(sp_str obj, const char *key) { return sp_get_(obj, key, 1); }
/* Follows a dot-separated path of keys: "request.chat_request.model". */
SP_FN sp_str sp_json_path(sp_str v, const char *path)
{
    char key[64];
    while (*path && v.n) {
        sp_u32 n = 0;
        while (*path && *path != '.' && n < sizeof key - 1) key[n++] = *path++;
        key[n] = 0;
        if (*path == '.') path++;
        v = sp_json_get(v, key);
    }
    return v;
}
/* Element i of an array (n == 0 when absent). */
SP_FN sp_str sp_json_at(sp_str arr, sp_u32 index)
{
    sp_iter it = sp_iter_of(arr);
    sp_str k, v, none = {0, 0};
    if (!arr.n || arr.p[0] != '[') return none;
    while (sp_next(&it, &k, &v))
        if (index-- == 0) return v;
    return none;
}

SP_FN int sp_json_is_str(sp_str v) { return v.n >= 2 && v.p[0] == '"'; }
SP_FN int sp_json_is_obj(sp_str v) { return v.n >= 2 && v.p[0] == '{'; }
SP_FN int sp_json_true(sp_str v) { return v.n == 4 && memcmp(v.p, "true", 4) == 0; }

SP_FN int sp_hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Unescapes the JSON string v into dst[0..cap) (NUL-terminated when it
 * fits). Returns the unescaped length, or -1 if v is not a string or the
 * result (plus its NUL) does not fit. \uXXXX becomes UTF-8 (surrogate pairs
 * are kept as two 3-byte sequences: good enough for comparing ASCII). */
SP_FN int sp_json_str_copy(sp_str v, char *dst, sp_u32 cap)
{
    if (!sp_json_is_str(v) || !cap) return -1;
    sp_u32 n = 0;
    for (sp_u32 i = 1; i + 1 < v.n; i++) {
        unsigned c = (unsigned char)v.p[i];
        if (c == '\\' && i + 2 < v.n) {
            c = (unsigned char)v.p[++i];
            if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
            else if (c == 'r') c = '\r';
            else if (c == 'b') c = '\b';
            else if (c == 'f') c = '\f';
            else if (c == 'u' && i + 4 < v.n) {
                int h[4] = {sp_hexval(v.p[i + 1]), sp_hexval(v.p[i + 2]), sp_hexval(v.p[i + 3]), sp_hexval(v.p[i + 4])};
                if ((h[0] | h[1] | h[2] | h[3]) < 0) return -1;
                c = (unsigned)(h[0] << 12 | h[1] << 8 | h[2] << 4 | h[3]);
                i += 4;
                char u[3];
                sp_u32 k = 0;
                if (c < 0x80) u[k++] = (char)c;
                else if (c < 0x800) { u[k++] = (char)(0xC0 | c >> 6); u[k++] = (char)(0x80 | (c & 63)); }
                else { u[k++] = (char)(0xE0 | c >> 12); u[k++] = (char)(0x80 | ((c >> 6) & 63)); u[k++] = (char)(0x80 | (c & 63)); }
                if (cap - n <= k) return -1;
                for (sp_u32 j = 0; j < k; j++) dst[n++] = u[j];
                continue;
            }
        }
        if (cap - n <= 1) return -1;
        dst[n++] = (char)c;
    }
    dst[n] = 0;
    return (int)n;
}

/* 1 if the JSON string v unescapes to exactly s (short strings: < 256 bytes). */
SP_FN int sp_json_str_eq(sp_str v, const char *s)
{
    char b[256];
    int n = sp_json_str_copy(v, b, sizeof b);
    return n >= 0 && (sp_u32)n == sp_cstrlen(s) && memcmp(b, s, (sp_size)n) == 0;
}

/* Decodes the quoted base64 string v into a fresh buffer (sp_release it);
 * *len its length. Returns 0 for an invalid string (a missing/null body
 * decodes to len 0). */
SP_FN char *sp_b64_decode(sp_str v, sp_u32 *len)
{
    *len = 0;
    if (!sp_json_is_str(v)) return sp_alloc(1);
    char *d = sp_alloc(v.n);
    sp_u32 acc = 0, bits = 0, n = 0;
    if (!d) return 0;
    for (sp_u32 i = 1; i + 1 < v.n; i++) {
        char c = v.p[i];
        int x = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
              : c == '+' ? 62 : c == '/' ? 63 : -1;
        if (c == '=') break;
        if (x < 0) return 0;
        acc = acc << 6 | (sp_u32)x;
        if ((bits += 6) >= 8) { bits -= 8; d[n++] = (char)(acc >> bits); }
    }
    *len = n;
    return d;
}

/* ------------------------------------------------------------ ABI exports */

#ifndef SP_PLUGIN_NAME
#define SP_PLUGIN_NAME "c-plugin"
#endif

SP_FN sp_u64 sp_pack(const void *p, sp_u32 n) { return (sp_u64)(sp_size)p << 32 | n; }
SP_FN sp_u64 sp_out_pack(sp_out *o) { return o->oom ? 0 : sp_pack(o->p, o->len); }

SP_EXPORT("get_name") sp_u64 get_name(void)
{
    sp_out o = {0, 0, 0, 0};
    sp_out_cstr(&o, SP_PLUGIN_NAME);
    return sp_out_pack(&o);
}

SP_EXPORT("cleanup") int cleanup(void) { return 0; }

#define SP_INIT(cfg)                                                                \
    static int sp_init_(sp_str cfg);                                                \
    SP_EXPORT("init") int init(sp_u32 p, sp_u32 n)                                  \
    {                                                                               \
        sp_str c = {(const char *)(sp_size)p, n};                                   \
        int r = sp_init_(c);                                                        \
        sp_keep();                                                                  \
        return r;                                                                   \
    }                                                                               \
    static int sp_init_(sp_str cfg)

#define SP_HOOK(name, in, out)                                                      \
    static void sp_hook_##name(sp_str in, sp_out *out);                             \
    SP_EXPORT(#name) sp_u64 name(sp_u32 p, sp_u32 n)                                \
    {                                                                               \
        sp_str i = {(const char *)(sp_size)p, n};                                   \
        sp_out o = {0, 0, 0, 0};                                                    \
        sp_hook_##name(i, &o);                                                      \
        return sp_out_pack(&o);                                                     \
    }                                                                               \
    static void sp_hook_##name(sp_str in, sp_out *out)

#endif
