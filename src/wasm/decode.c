/*
 * src/wasm/decode.c - binary format decoder: sections into a wasm_module.
 *
 * Every count read from the input is bounded by the bytes that remain (an
 * element takes at least one byte), so no input can make us allocate more
 * than a small multiple of its own size. Errors longjmp out through
 * wasm_fail(), which names the section, the byte offset and the reason; the
 * partially built module is then freed by wasm_module_free(), which copes
 * with any prefix of the construction.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/internal.h"

void wasm_set_error(wasm_error *err, wasm_status st, const char *fmt, ...)
{
    if (!err) return;
    err->status = st;
    err->exit_code = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

_Noreturn void wasm_fail(wasm_reader *r, wasm_status st, const char *fmt, ...)
{
    char reason[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    wasm_set_error(r->err, st, "%s section, offset %zu: %s", r->section ? r->section : "module",
                   (size_t)(r->p - r->base), reason);
    longjmp(*r->jb, 1);
}

uint8_t wasm_read_u8(wasm_reader *r)
{
    if (r->p >= r->end) wasm_fail(r, WASM_ERR_MALFORMED, "unexpected end");
    return *r->p++;
}

/* Unsigned LEB128 of at most `bits` bits; rejects overlong encodings whose
 * unused bits are set and encodings longer than ceil(bits/7) bytes. */
static uint64_t read_uleb(wasm_reader *r, unsigned bits)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint8_t b = wasm_read_u8(r);
        if (shift + 7 >= bits && shift < 64) {
            unsigned used = bits - shift;      /* bits this byte may carry */
            if ((b & 0x80) || (used < 7 && (b & 0x7f) >> used))
                wasm_fail(r, WASM_ERR_MALFORMED, (b & 0x80) ? "integer representation too long"
                                                            : "integer too large");
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
}

static int64_t read_sleb(wasm_reader *r, unsigned bits)
{
    int64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    for (;;) {
        b = wasm_read_u8(r);
        if (shift + 7 >= bits) {
            /* last allowed byte: no continuation, and the unused high bits
             * must all equal the sign bit */
            if (b & 0x80) wasm_fail(r, WASM_ERR_MALFORMED, "integer representation too long");
            unsigned used = bits - shift;      /* 1..7 */
            int8_t sx = (int8_t)(b << 1) >> 1; /* sign-extend 7 bits */
            int64_t hi = sx >> (used - 1);
            if (hi != 0 && hi != -1) wasm_fail(r, WASM_ERR_MALFORMED, "integer too large");
            v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
            shift += 7;
            break;
        }
        v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
        if (!(b & 0x80)) break;
    }
    if (shift < 64 && (b & 0x40)) v |= (int64_t)(~(uint64_t)0 << shift);
    return v;
}

uint32_t wasm_read_u32(wasm_reader *r) { return (uint32_t)read_uleb(r, 32); }
int32_t wasm_read_s32(wasm_reader *r) { return (int32_t)read_sleb(r, 32); }
int64_t wasm_read_s64(wasm_reader *r) { return read_sleb(r, 64); }

uint32_t wasm_read_count(wasm_reader *r, size_t min_elem_size)
{
    uint32_t n = wasm_read_u32(r);
    if (min_elem_size && (uint64_t)n * min_elem_size > (uint64_t)(r->end - r->p))
        wasm_fail(r, WASM_ERR_MALFORMED, "count %u exceeds the remaining bytes (unexpected end)", n);
    return n;
}

bool wasm_valtype_ok(uint8_t t)
{
    return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64 || t == WASM_FUNCREF ||
           t == WASM_EXTERNREF;
}

wasm_valtype wasm_read_valtype(wasm_reader *r)
{
    uint8_t t = wasm_read_u8(r);
    if (t == WASM_V128) wasm_fail(r, WASM_ERR_UNSUPPORTED, "SIMD (v128) is not supported");
    if (!wasm_valtype_ok(t)) wasm_fail(r, WASM_ERR_MALFORMED, "malformed value type 0x%02x", t);
    return t;
}

static wasm_valtype read_reftype(wasm_reader *r)
{
    uint8_t t = wasm_read_u8(r);
    if (t != WASM_FUNCREF && t != WASM_EXTERNREF)
        wasm_fail(r, WASM_ERR_MALFORMED, "malformed reference type 0x%02x", t);
    return t;
}

static void *xcalloc(wasm_reader *r, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) wasm_fail(r, WASM_ERR_NOMEM, "out of memory");
    return p;
}

/* Extends an array of `old` elements to `old + add`, zeroing the new ones. */
static void *xgrow(wasm_reader *r, void *p, size_t old, size_t add, size_t size)
{
    void *q = realloc(p, (old + add ? old + add : 1) * size);
    if (!q) wasm_fail(r, WASM_ERR_NOMEM, "out of memory");
    memset((char *)q + old * size, 0, add * size);
    return q;
}

/* Valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
        else return false;
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += len;
    }
    return true;
}

/* Reads a name into a NUL-terminated heap string (caller: the module owns it). */
static char *read_name_len(wasm_reader *r, uint32_t *len)
{
    uint32_t n = wasm_read_count(r, 1);
    if (len) *len = n;
    if (!utf8_ok(r->p, n)) wasm_fail(r, WASM_ERR_MALFORMED, "malformed UTF-8 encoding");
    char *s = xcalloc(r, (size_t)n + 1, 1);
    memcpy(s, r->p, n);
    r->p += n;
    return s;
}

static char *read_name(wasm_reader *r) { return read_name_len(r, NULL); }

/* Export names are compared as byte strings (they may contain NUL). */
static int cmp_name(const void *a, const void *b)
{
    const wasm_export_decl *x = a, *y = b;
    if (x->name_len != y->name_len) return x->name_len < y->name_len ? -1 : 1;
    return memcmp(x->name, y->name, x->name_len);
}

static wasm_limits_decl read_limits(wasm_reader *r, uint32_t bound, const char *what)
{
    wasm_limits_decl l = {0, 0, false};
    uint8_t flag = wasm_read_u8(r);
    if (flag > 1) wasm_fail(r, WASM_ERR_MALFORMED, "integer too large (limits flag 0x%02x)", flag);
    l.min = wasm_read_u32(r);
    if (flag) { l.has_max = true; l.max = wasm_read_u32(r); }
    if (bound && (l.min > bound || (l.has_max && l.max > bound)))
        wasm_fail(r, WASM_ERR_INVALID, "%s size must be at most %u pages", what, bound);
    if (l.has_max && l.min > l.max)
        wasm_fail(r, WASM_ERR_INVALID, "size minimum must not be greater than maximum");
    return l;
}

static wasm_valtype global_type(const wasm_module *m, uint32_t i, bool *mut)
{
    *mut = m->globals[i].mut;
    return m->globals[i].type;
}

/* Constant expression of type `t` ending with `end`. In 2.0, global.get may
 * name only imported globals, and they must be immutable. */
static wasm_const read_const(wasm_reader *r, wasm_module *m, wasm_valtype t)
{
    wasm_const c;
    memset(&c, 0, sizeof c);
    uint8_t op = wasm_read_u8(r);
    wasm_valtype got;
    c.op = op;
    switch (op) {
    case 0x41: c.value.i64 = 0; c.value.i32 = wasm_read_s32(r); got = WASM_I32; break;
    case 0x42: c.value.i64 = wasm_read_s64(r); got = WASM_I64; break;
    case 0x43:
        if (r->end - r->p < 4) wasm_fail(r, WASM_ERR_MALFORMED, "unexpected end");
        c.value.u64 = 0; memcpy(&c.value.u32, r->p, 4); r->p += 4; got = WASM_F32; break;
    case 0x44:
        if (r->end - r->p < 8) wasm_fail(r, WASM_ERR_MALFORMED, "unexpected end");
        memcpy(&c.value.u64, r->p, 8); r->p += 8; got = WASM_F64; break;
    case 0xd0: got = read_reftype(r); break;
    case 0xd2:
        c.idx = wasm_read_u32(r);
        if (c.idx >= m->nfuncs) wasm_fail(r, WASM_ERR_INVALID, "unknown function %u", c.idx);
        m->func_refs[c.idx] = 1;
        got = WASM_FUNCREF;
        break;
    case 0x23: {
        c.idx = wasm_read_u32(r);
        if (c.idx >= m->nimported_globals) wasm_fail(r, WASM_ERR_INVALID, "unknown global %u", c.idx);
        bool mut;
        got = global_type(m, c.idx, &mut);
        if (mut) wasm_fail(r, WASM_ERR_INVALID, "constant expression required");
        break;
    }
    case 0x0b: wasm_fail(r, WASM_ERR_INVALID, "type mismatch: empty constant expression");
    default:
        if (op == 0x6a || op == 0x6b || op == 0x6c || op == 0x7c || op == 0x7d || op == 0x7e ||
            op == 0x20 || op == 0x01)
            wasm_fail(r, WASM_ERR_INVALID, "constant expression required");
        wasm_fail(r, WASM_ERR_INVALID, "constant expression required (opcode 0x%02x)", op);
    }
    uint8_t end = wasm_read_u8(r);
    if (end != 0x0b) {
        if (end == 0x41 || end == 0x42 || end == 0x43 || end == 0x44 || end == 0x23 || end == 0xd0 ||
            end == 0xd2 || end == 0x6a || end == 0x1a)
            wasm_fail(r, WASM_ERR_INVALID, "type mismatch: constant expression has extra values");
        wasm_fail(r, WASM_ERR_INVALID, "constant expression required");
    }
    if (got != t) wasm_fail(r, WASM_ERR_INVALID, "type mismatch in constant expression");
    return c;
}

static void read_types(wasm_reader *r, wasm_module *m)
{
    uint32_t n = wasm_read_count(r, 3);
    m->types = xcalloc(r, n, sizeof *m->types);
    /* total params+results cannot exceed the section size */
    m->typebuf = xcalloc(r, (size_t)(r->end - r->p), 1);
    size_t used = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t form = wasm_read_u8(r);
        if (form != 0x60) wasm_fail(r, WASM_ERR_MALFORMED, "integer representation too long (function type form 0x%02x)", form);
        wasm_functype *ft = &m->types[i];
        ft->nparams = wasm_read_count(r, 1);
        ft->params = m->typebuf + used;
        for (uint32_t k = 0; k < ft->nparams; k++) m->typebuf[used++] = wasm_read_valtype(r);
        ft->nresults = wasm_read_count(r, 1);
        ft->results = m->typebuf + used;
        for (uint32_t k = 0; k < ft->nresults; k++) m->typebuf[used++] = wasm_read_valtype(r);
        m->ntypes = i + 1;
    }
}

static void read_imports(wasm_reader *r, wasm_module *m)
{
    uint32_t n = wasm_read_count(r, 4);
    m->imports = xcalloc(r, n, sizeof *m->imports);
    for (uint32_t i = 0; i < n; i++) {
        wasm_import_decl *im = &m->imports[i];
        im->module = read_name(r);
        m->nimports = i + 1;
        im->name = read_name(r);
        uint8_t kind = wasm_read_u8(r);
        switch (kind) {
        case 0:
            im->type = wasm_read_u32(r);
            if (im->type >= m->ntypes) wasm_fail(r, WASM_ERR_INVALID, "unknown type %u", im->type);
            m->nimported_funcs++;
            break;
        case 1:
            im->vt = read_reftype(r);
            im->lim = read_limits(r, 0, "table");
            m->nimported_tables++;
            break;
        case 2:
            im->lim = read_limits(r, WASM_MAX_PAGES, "memory");
            m->nimported_mems++;
            break;
        case 3: {
            im->vt = wasm_read_valtype(r);
            uint8_t mut = wasm_read_u8(r);
            if (mut > 1) wasm_fail(r, WASM_ERR_MALFORMED, "malformed mutability");
            im->mut = mut;
            m->nimported_globals++;
            break;
        }
        default: wasm_fail(r, WASM_ERR_MALFORMED, "malformed import kind %u", kind);
        }
        im->kind = (wasm_extern_kind)kind;
    }
}

static void read_functions(wasm_reader *r, wasm_module *m)
{
    uint32_t n = wasm_read_count(r, 1);
    m->func_types = xgrow(r, m->func_types, m->nimported_funcs, n, sizeof *m->func_types);
    m->codes = xcalloc(r, n, sizeof *m->codes);
    m->nfuncs = m->nimported_funcs + n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = wasm_read_u32(r);
        if (t >= m->ntypes) wasm_fail(r, WASM_ERR_INVALID, "unknown type %u", t);
        m->func_types[m->nimported_funcs + i] = t;
        m->codes[i].type = t;
    }
}

static void read_tables(wasm_reader *r, wasm_module *m)
{
    uint32_t n = wasm_read_count(r, 3);
    m->tables = xgrow(r, m->tables, m->nimported_tables, n, sizeof *m->tables);
    m->ntables = m->nimported_tables + n;
    for (uint32_t i = 0; i < n; i++) {
        wasm_table_decl *t = &m->tables[m->nimported_tables + i];
        t->elem = read_reftype(r);
        t->lim = read_limits(r, 0, "table");
    }
}

static void read_memories(wasm_reader *r, wasm_module *m)
{
    uint32_t n = wasm_read_count(r, 2);
    m->mems = xgrow(r, m->mems, m->nimported_mems, n, sizeof *m->mems);
    m->nmems = m->nimported_mems + n;
    for (uint32_t i = 0; i < n; i++)
        m->mems[m->nimported_mems + i] = read_limits(r, WASM_MAX_PAGES, "memory");
    if (m->nmems > 1) wasm_fail(r, WASM_ERR_INVALID, "multiple memories");
}

static void read_globals(wasm_reader *r, wasm_module *m)
{
    uint32_t n = wasm_read_count(r, 3);
    m->globals = xgrow(r, m->globals, m->nimported_globals, n, sizeof *m->globals);
    m->nglobals = m->nimported_globals;
    for (uint32_t i = 0; i < n; i++) {
        wasm_global_decl *g = &m->globals[m->nimported_globals + i];
        g->type = wasm_read_valtype(r);
        uint8_t mut = wasm_read_u8(r);
        if (mut > 1) wasm_fail(r, WASM_ERR_MALFORMED, "malformed mutability");
        g->mut = mut;
        g->init = read_const(r, m, g->type);
        m->nglobals++;
    }
}

static void read_exports(wasm_reader *r, wasm_module *m)
{
    uint32_t n = wasm_read_count(r, 3);
    m->exports = xcalloc(r, n, sizeof *m->exports);
    for (uint32_t i = 0; i < n; i++) {
        wasm_export_decl *e = &m->exports[i];
        e->name = read_name_len(r, &e->name_len);
        m->nexports = i + 1;
        uint8_t kind = wasm_read_u8(r);
        e->idx = wasm_read_u32(r);
        uint32_t limit;
        switch (kind) {
        case 0: limit = m->nfuncs; break;
        case 1: limit = m->ntables; break;
        case 2: limit = m->nmems; break;
        case 3: limit = m->nglobals; break;
        default: wasm_fail(r, WASM_ERR_MALFORMED, "malformed export kind %u", kind);
        }
        if (e->idx >= limit) wasm_fail(r, WASM_ERR_INVALID, "unknown %s %u",
                                       kind == 0 ? "function" : kind == 1 ? "table" : kind == 2 ? "memory" : "global", e->idx);
        if (kind == 0) m->func_refs[e->idx] = 1;
        e->kind = (wasm_extern_kind)kind;
    }
    /* duplicates: sort a copy (O(n log n) on hostile input) */
    wasm_export_decl *sorted = xcalloc(r, n, sizeof *sorted);
    memcpy(sorted, m->exports, (size_t)n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_name);
    bool dup = false;
    for (uint32_t i = 1; i < n && !dup; i++) dup = !cmp_name(&sorted[i - 1], &sorted[i]);
    free(sorted);
    if (dup) wasm_fail(r, WASM_ERR_INVALID, "duplicate export name");
}

static void read_elems(wasm_reader *r, wasm_module *m)
{
    uint32_t n = wasm_read_count(r, 2);
    m->elems = xcalloc(r, n, sizeof *m->elems);
    for (uint32_t i = 0; i < n; i++) {
        wasm_elem_decl *e = &m->elems[i];
        m->nelems = i + 1;
        uint32_t flags = wasm_read_u32(r);
        if (flags > 7) wasm_fail(r, WASM_ERR_MALFORMED, "malformed elements segment kind %u", flags);
        e->mode = (flags & 1) ? ((flags & 2) ? WASM_SEG_DECLARATIVE : WASM_SEG_PASSIVE) : WASM_SEG_ACTIVE;
        e->type = WASM_FUNCREF;
        if (e->mode == WASM_SEG_ACTIVE) {
            if (flags & 2) e->table = wasm_read_u32(r);
            if (e->table >= m->ntables) wasm_fail(r, WASM_ERR_INVALID, "unknown table %u", e->table);
            e->offset = read_const(r, m, WASM_I32);
        }
        bool exprs = flags & 4;
        if (flags & 3) {        /* explicit elemkind / reftype */
            if (exprs) e->type = read_reftype(r);
            else if (wasm_read_u8(r) != 0) wasm_fail(r, WASM_ERR_MALFORMED, "malformed element kind");
        }
        e->count = wasm_read_count(r, 1);
        e->items = xcalloc(r, e->count, sizeof *e->items);
        for (uint32_t k = 0; k < e->count; k++) {
            if (exprs) {
                e->items[k] = read_const(r, m, e->type);
            } else {
                uint32_t f = wasm_read_u32(r);
                if (f >= m->nfuncs) wasm_fail(r, WASM_ERR_INVALID, "unknown function %u", f);
                m->func_refs[f] = 1;
                e->items[k].op = 0xd2;
                e->items[k].idx = f;
            }
        }
        if (e->mode == WASM_SEG_ACTIVE && m->tables[e->table].elem != e->type)
            wasm_fail(r, WASM_ERR_INVALID, "type mismatch: element segment type vs table type");
    }
}

static void read_datas(wasm_reader *r, wasm_module *m)
{
    uint32_t n = wasm_read_count(r, 2);
    if (m->has_datacount && n != m->datacount)
        wasm_fail(r, WASM_ERR_MALFORMED, "data count and data section have inconsistent lengths");
    m->datas = xcalloc(r, n, sizeof *m->datas);
    for (uint32_t i = 0; i < n; i++) {
        wasm_data_decl *d = &m->datas[i];
        m->ndatas = i + 1;
        uint32_t flags = wasm_read_u32(r);
        if (flags > 2) wasm_fail(r, WASM_ERR_MALFORMED, "malformed data segment kind %u", flags);
        d->mode = flags == 1 ? WASM_SEG_PASSIVE : WASM_SEG_ACTIVE;
        if (flags != 1) {
            if (flags == 2) d->mem = wasm_read_u32(r);
            if (d->mem >= m->nmems) wasm_fail(r, WASM_ERR_INVALID, "unknown memory %u", d->mem);
            d->offset = read_const(r, m, WASM_I32);
        }
        d->len = wasm_read_count(r, 1);
        d->bytes = r->p;
        r->p += d->len;
    }
}

static void read_code(wasm_reader *r, wasm_module *m)
{
    uint32_t n = wasm_read_count(r, 1);
    if (n != m->nfuncs - m->nimported_funcs)
        wasm_fail(r, WASM_ERR_MALFORMED, "function and code section have inconsistent lengths");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size = wasm_read_count(r, 1);
        wasm_code *c = &m->codes[i];
        c->body = r->p;
        c->body_len = size;
        c->body_offset = (size_t)(r->p - r->base);
        r->p += size;
    }
}

/* Section ids in their required order (custom sections excepted). */
static int section_rank(uint8_t id)
{
    static const int rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return id <= 12 ? rank[id] : -1;
}

static const char *const section_names[13] = {
    "custom", "type", "import", "function", "table", "memory", "global",
    "export", "start", "element", "code", "data", "data count"};

/* Once the import section is behind us, the index spaces start with the
 * imported entries; later sections append the module's own. */
static void finish_imports(wasm_reader *r, wasm_module *m)
{
    uint32_t fi = 0, ti = 0, mi = 0, gi = 0;
    m->func_types = xcalloc(r, m->nimported_funcs, sizeof *m->func_types);
    m->nfuncs = m->nimported_funcs;
    m->tables = xcalloc(r, m->nimported_tables, sizeof *m->tables);
    m->ntables = m->nimported_tables;
    m->mems = xcalloc(r, m->nimported_mems, sizeof *m->mems);
    m->nmems = m->nimported_mems;
    m->globals = xcalloc(r, m->nimported_globals, sizeof *m->globals);
    m->nglobals = m->nimported_globals;
    for (uint32_t i = 0; i < m->nimports; i++) {
        wasm_import_decl *im = &m->imports[i];
        switch (im->kind) {
        case WASM_EXTERN_FUNC: m->func_types[fi++] = im->type; break;
        case WASM_EXTERN_TABLE: m->tables[ti].elem = im->vt; m->tables[ti++].lim = im->lim; break;
        case WASM_EXTERN_MEMORY: m->mems[mi++] = im->lim; break;
        case WASM_EXTERN_GLOBAL: m->globals[gi].type = im->vt; m->globals[gi++].mut = im->mut; break;
        }
    }
    if (m->nmems > 1) wasm_fail(r, WASM_ERR_INVALID, "multiple memories");
}

static void decode(wasm_reader *r, wasm_module *m)
{
    static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    if (r->end - r->p < 4 || memcmp(r->p, magic, 4)) wasm_fail(r, WASM_ERR_MALFORMED, "magic header not detected");
    if (r->end - r->p < 8 || memcmp(r->p + 4, magic + 4, 4)) wasm_fail(r, WASM_ERR_MALFORMED, "unknown binary version");
    r->p += 8;
    int last = 0;
    bool have_funcs = false, have_code = false, imports_done = false;
    const uint8_t *end = r->end;
    while (r->p < end) {
        r->section = "module";
        uint8_t id = wasm_read_u8(r);
        if (id > 12) wasm_fail(r, WASM_ERR_MALFORMED, "malformed section id %u", id);
        uint32_t size = wasm_read_u32(r);
        if (size > (size_t)(end - r->p)) wasm_fail(r, WASM_ERR_MALFORMED, "section size out of bounds (unexpected end)");
        r->section = section_names[id];
        r->end = r->p + size;
        if (id != 0) {
            if (section_rank(id) <= last) wasm_fail(r, WASM_ERR_MALFORMED, "unexpected section (junk or out of order)");
            last = section_rank(id);
        }
        if (id != 0 && section_rank(id) > 2 && !imports_done) { finish_imports(r, m); imports_done = true; }
        if (id != 0 && section_rank(id) > 3 && !m->func_refs) m->func_refs = xcalloc(r, (size_t)m->nfuncs + 1, 1);
        switch (id) {
        case 0: { char *name = read_name(r); free(name); r->p = r->end; break; }
        case 1: read_types(r, m); break;
        case 2: read_imports(r, m); break;
        case 3: read_functions(r, m); have_funcs = true; break;
        case 4: read_tables(r, m); break;
        case 5: read_memories(r, m); break;
        case 6: read_globals(r, m); break;
        case 7: read_exports(r, m); break;
        case 8: {
            uint32_t f = wasm_read_u32(r);
            if (f >= m->nfuncs) wasm_fail(r, WASM_ERR_INVALID, "unknown function %u", f);
            const wasm_functype *t = &m->types[m->func_types[f]];
            if (t->nparams || t->nresults) wasm_fail(r, WASM_ERR_INVALID, "start function must have type [] -> []");
            m->start = f;
            break;
        }
        case 9: read_elems(r, m); break;
        case 10: read_code(r, m); have_code = true; break;
        case 11: read_datas(r, m); break;
        case 12: m->has_datacount = true; m->datacount = wasm_read_u32(r); break;
        }
        if (r->p != r->end) wasm_fail(r, WASM_ERR_MALFORMED, "section size mismatch");
        r->end = end;
    }
    r->section = "module";
    if (have_funcs != have_code && m->nfuncs != m->nimported_funcs)
        wasm_fail(r, WASM_ERR_MALFORMED, "function and code section have inconsistent lengths");
    if (!have_code && m->nfuncs > m->nimported_funcs)
        wasm_fail(r, WASM_ERR_MALFORMED, "function and code section have inconsistent lengths");
    if (m->has_datacount && m->datacount != m->ndatas)
        wasm_fail(r, WASM_ERR_MALFORMED, "data count and data section have inconsistent lengths");
    if (!imports_done) finish_imports(r, m);
    if (!m->func_refs) m->func_refs = xcalloc(r, (size_t)m->nfuncs + 1, 1);
    r->section = "code";
    /* tiny leaf functions first: calls compiled later may inline them */
    uint32_t ndef = m->nfuncs - m->nimported_funcs;
    for (uint32_t i = 0; i < ndef; i++) {
        m->codes[i].inline_candidate = wasm_inline_candidate(m, &m->codes[i]);
        m->codes[i].alias_plus1 = wasm_trampoline_target(m, &m->codes[i]);
    }
    for (int round = 0; round < 2; round++)
        for (uint32_t i = 0; i < ndef; i++) {
            if (m->codes[i].inline_candidate != (round == 0)) continue;
            wasm_reader body = *r;
            body.p = m->codes[i].body;
            body.end = body.p + m->codes[i].body_len;
            wasm_compile_function(m, i, &body);
        }
    /* the code no longer moves: direct calls (CALL_WASM) jump to it */
    for (uint32_t i = 0; i < ndef; i++) m->codes[i].ir = m->ir + m->codes[i].entry;
}

void wasm_module_free(wasm_module *m)
{
    if (!m) return;
    for (uint32_t i = 0; i < m->nimports; i++) { free(m->imports[i].module); free(m->imports[i].name); }
    for (uint32_t i = 0; i < m->nexports; i++) free(m->exports[i].name);
    for (uint32_t i = 0; i < m->nelems; i++) free(m->elems[i].items);
    free(m->imports); free(m->exports); free(m->elems); free(m->datas);
    free(m->types); free(m->typebuf); free(m->func_types); free(m->tables);
    free(m->mems); free(m->globals); free(m->func_refs); free(m->codes);
    free(m->ir); free(m->bytes);
    aot_lib_free(m->aot);
    free(m);
}

/* Runs the decoder with a landing pad for its errors. */
static bool decode_guarded(wasm_module *m, wasm_error *err)
{
    jmp_buf jb;
    wasm_error local;
    wasm_reader r = {m->bytes, m->bytes + m->len, m->bytes, "module", err ? err : &local, &jb};
    if (setjmp(jb)) return false;
    decode(&r, m);
    return true;
}

wasm_module *wasm_module_load(const uint8_t *bytes, size_t len, wasm_error *err)
{
    wasm_module *m = calloc(1, sizeof *m);
    if (!m || !(m->bytes = malloc(len ? len : 1))) {
        free(m);
        wasm_set_error(err, WASM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(m->bytes, bytes, len);
    m->len = len;
    m->start = -1;
    if (!decode_guarded(m, err)) {
        wasm_module_free(m);
        return NULL;
    }
    if (err) { err->status = WASM_OK; err->message[0] = 0; }
    return m;
}

uint32_t wasm_module_num_imports(const wasm_module *m) { return m->nimports; }
uint32_t wasm_module_num_exports(const wasm_module *m) { return m->nexports; }

bool wasm_module_import(const wasm_module *m, uint32_t i, wasm_port *out)
{
    if (i >= m->nimports) return false;
    const wasm_import_decl *im = &m->imports[i];
    memset(out, 0, sizeof *out);
    out->module = im->module;
    out->name = im->name;
    out->kind = im->kind;
    out->type = im->kind == WASM_EXTERN_FUNC ? &m->types[im->type] : NULL;
    out->valtype = im->vt;
    out->mutable_ = im->mut;
    out->min = im->lim.min;
    out->max = im->lim.has_max ? im->lim.max : UINT32_MAX;
    return true;
}

bool wasm_module_export(const wasm_module *m, uint32_t i, wasm_port *out)
{
    if (i >= m->nexports) return false;
    const wasm_export_decl *e = &m->exports[i];
    memset(out, 0, sizeof *out);
    out->name = e->name;
    out->kind = e->kind;
    switch (e->kind) {
    case WASM_EXTERN_FUNC: out->type = &m->types[m->func_types[e->idx]]; break;
    case WASM_EXTERN_GLOBAL: out->valtype = m->globals[e->idx].type; out->mutable_ = m->globals[e->idx].mut; break;
    case WASM_EXTERN_TABLE:
        out->valtype = m->tables[e->idx].elem;
        out->min = m->tables[e->idx].lim.min;
        out->max = m->tables[e->idx].lim.has_max ? m->tables[e->idx].lim.max : UINT32_MAX;
        break;
    case WASM_EXTERN_MEMORY:
        out->min = m->mems[e->idx].min;
        out->max = m->mems[e->idx].has_max ? m->mems[e->idx].max : UINT32_MAX;
        break;
    }
    return true;
}
