/*
 * src/wasm/aot/shim.c - the per-module C shim compiled together with
 * wasm2c's output into one .so (one translation unit, -fvisibility=hidden,
 * so two modules never see each other's symbols).
 *
 * The shim (1) defines wabt's wasm_rt_* runtime symbols as forwarders to the
 * host's `struct sluice_aot_rt` table, (2) defines every imported function
 * wasm2c names (Z_<module>Z_<name>, the import module's "instance" pointer
 * first: we pass our aot_ctx for all of them) as a forwarder to the engine's
 * import table, so host functions are registered once for both tiers, and (3)
 * wraps every export in a slot-array trampoline the host can call without
 * knowing C signatures. Names are mangled as wasm2c 1.0.32 does: [A-Za-z0-9_]
 * except 'Z' stay, every other byte is Z plus two upper-case hex digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/aot/aot.h"

static void mangle(FILE *o, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned c = *p;
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Y') || (c >= '0' && c <= '9') || c == '_';
        if (keep) fputc((int)c, o);
        else fprintf(o, "Z%02X", c);
    }
}

static const char *ctype(wasm_valtype t)
{
    switch (t) {
    case WASM_I32: return "u32";
    case WASM_I64: return "u64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    case WASM_EXTERNREF: return "wasm_rt_externref_t";
    default: return NULL;
    }
}

static char letter(wasm_valtype t)
{
    return t == WASM_I32 ? 'i' : t == WASM_I64 ? 'j' : t == WASM_F32 ? 'f' : 'd';
}

/* Funcref values would need converting between wasm_func* and wasm2c's
 * funcref struct; multi-value with references has no wasm2c struct name we
 * can predict. Both are refused (the `auto` engine then interprets). */
static bool sig_ok(const wasm_functype *t)
{
    if (t->nparams > WASM_MAX_HOST_ARITY || t->nresults > WASM_MAX_HOST_ARITY) return false;
    for (uint32_t i = 0; i < t->nparams; i++)
        if (!ctype(t->params[i])) return false;
    for (uint32_t i = 0; i < t->nresults; i++)
        if (!ctype(t->results[i]) || (t->nresults > 1 && t->results[i] == WASM_EXTERNREF)) return false;
    return true;
}

bool aot_shim_supported(const wasm_module *m, wasm_error *err)
{
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import_decl *d = &m->imports[i];
        /* wasm2c 1.0.32 declares an import's function and struct member once
         * per import: importing one name twice does not compile */
        for (uint32_t j = 0; j < i; j++) {
            if (!strcmp(m->imports[j].module, d->module) && !strcmp(m->imports[j].name, d->name)) {
                wasm_set_error(err, WASM_ERR_UNSUPPORTED, "aot: unsupported: %s.%s imported twice (wasm2c)",
                               d->module, d->name);
                return false;
            }
        }
        /* an imported memory must belong to a compiled instance (checked at
         * instantiation, else the instance is interpreted: aot_instance_linkable) */
        bool ok = d->kind == WASM_EXTERN_FUNC ? sig_ok(&m->types[d->type])
                : d->kind == WASM_EXTERN_GLOBAL ? d->vt != WASM_FUNCREF : d->kind == WASM_EXTERN_MEMORY;
        if (!ok) {
            wasm_set_error(err, WASM_ERR_UNSUPPORTED, "aot: unsupported: import %s.%s (kind or type)",
                           d->module, d->name);
            return false;
        }
    }
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wasm_export_decl *e = &m->exports[i];
        /* wasm2c's table holds its own funcref structs, which an importing
         * instance could not share (docs/wasm-aot.md) */
        if (e->kind == WASM_EXTERN_TABLE) {
            wasm_set_error(err, WASM_ERR_UNSUPPORTED, "aot: unsupported: exported table %s", e->name);
            return false;
        }
        /* a funcref value would need converting between the tiers' forms */
        if (e->kind == WASM_EXTERN_GLOBAL && m->globals[e->idx].type == WASM_FUNCREF) {
            wasm_set_error(err, WASM_ERR_UNSUPPORTED, "aot: unsupported: exported funcref global %s", e->name);
            return false;
        }
        if (strlen(e->name) != e->name_len) {
            wasm_set_error(err, WASM_ERR_UNSUPPORTED, "aot: unsupported: export name with a NUL byte");
            return false;
        }
        if (e->kind == WASM_EXTERN_FUNC && !sig_ok(&m->types[m->func_types[e->idx]])) {
            wasm_set_error(err, WASM_ERR_UNSUPPORTED, "aot: unsupported: export %s (funcref or over 16 values)", e->name);
            return false;
        }
    }
    return true;
}

static void result_type(FILE *o, const wasm_functype *t)
{
    if (t->nresults == 0) { fputs("void", o); return; }
    if (t->nresults == 1) { fputs(ctype(t->results[0]), o); return; }
    fputs("struct wasm_multi_", o);
    for (uint32_t i = 0; i < t->nresults; i++) fputc(letter(t->results[i]), o);
}

/* Moves a C value to/from a 64-bit slot keeping its bits. */
static void to_slot(FILE *o, wasm_valtype t, const char *dst, const char *src)
{
    if (t == WASM_EXTERNREF) fprintf(o, "  %s = (unsigned long long)(uintptr_t)(%s);\n", dst, src);
    else fprintf(o, "  %s = 0; memcpy(&%s, &(%s), sizeof(%s));\n", dst, dst, src, ctype(t));
}

static void from_slot(FILE *o, wasm_valtype t, const char *dst, const char *src)
{
    if (t == WASM_EXTERNREF) fprintf(o, "  %s = (void *)(uintptr_t)(%s);\n", dst, src);
    else fprintf(o, "  memcpy(&%s, &(%s), sizeof(%s));\n", dst, src, ctype(t));
}

static void write_import(FILE *o, const wasm_module *m, const wasm_import_decl *d, uint32_t fidx)
{
    const wasm_functype *t = &m->types[d->type];
    result_type(o, t);
    fputs(" Z_", o); mangle(o, d->module); fputs("Z_", o); mangle(o, d->name);
    fputs("(struct Z_", o); mangle(o, d->module); fputs("_instance_t *ctx", o);
    for (uint32_t i = 0; i < t->nparams; i++) fprintf(o, ", %s p%u", ctype(t->params[i]), i);
    uint32_t n = t->nparams > t->nresults ? t->nparams : t->nresults;
    fprintf(o, ") {\n  unsigned long long s[%u];\n", n ? n : 1);
    char dst[32], src[32];
    for (uint32_t i = 0; i < t->nparams; i++) {
        snprintf(dst, sizeof dst, "s[%u]", i); snprintf(src, sizeof src, "p%u", i);
        to_slot(o, t->params[i], dst, src);
    }
    fprintf(o, "  RT->call_import(ctx, %uu, s);\n", fidx);
    if (t->nresults == 1) {
        fprintf(o, "  %s r;\n", ctype(t->results[0]));
        from_slot(o, t->results[0], "r", "s[0]");
        fputs("  return r;\n", o);
    } else if (t->nresults > 1) {
        fputs("  ", o); result_type(o, t); fputs(" r;\n", o);
        for (uint32_t i = 0; i < t->nresults; i++) {
            snprintf(dst, sizeof dst, "r.%c%u", letter(t->results[i]), i);
            snprintf(src, sizeof src, "s[%u]", i);
            from_slot(o, t->results[i], dst, src);
        }
        fputs("  return r;\n", o);
    }
    fputs("}\n", o);
}

static void write_export_call(FILE *o, const wasm_module *m, const char *name, uint32_t k,
                              const wasm_export_decl *e)
{
    const wasm_functype *t = &m->types[m->func_types[e->idx]];
    fprintf(o, "static void X_%u(void *inst, unsigned long long *s) {\n", k);
    char dst[32], src[32];
    for (uint32_t i = 0; i < t->nparams; i++) {
        fprintf(o, "  %s a%u;\n", ctype(t->params[i]), i);
        snprintf(dst, sizeof dst, "a%u", i); snprintf(src, sizeof src, "s[%u]", i);
        from_slot(o, t->params[i], dst, src);
    }
    fputs("  ", o);
    if (t->nresults) { result_type(o, t); fputs(" r = ", o); }
    fprintf(o, "Z_%sZ_", name); mangle(o, e->name);
    fputs("(inst", o);
    for (uint32_t i = 0; i < t->nparams; i++) fprintf(o, ", a%u", i);
    fputs(");\n", o);
    if (t->nresults == 1) to_slot(o, t->results[0], "s[0]", "r");
    for (uint32_t i = 0; t->nresults > 1 && i < t->nresults; i++) {
        snprintf(dst, sizeof dst, "s[%u]", i);
        snprintf(src, sizeof src, "r.%c%u", letter(t->results[i]), i);
        to_slot(o, t->results[i], dst, src);
    }
    fputs("}\n", o);
}

/* The runtime forwarders: wasm-rt.h's API on top of RT. */
static const char rt_forwarders[] =
    "static const struct sluice_aot_rt *RT;\n"
    "_Static_assert(sizeof(wasm_rt_memory_t) == 24 && sizeof(wasm_rt_funcref_table_t) == 16, \"wasm-rt layout\");\n"
    "_Static_assert(offsetof(wasm_rt_memory_t, data) == 0, \"SLUICE_BASE reads the first word\");\n"
    "_Static_assert(WASM_RT_TRAP_EXHAUSTION == 8 && WASM_RT_TRAP_CALL_INDIRECT == 6, \"wasm-rt traps\");\n"
    "void wasm_rt_init(void) {}\n"
    "bool wasm_rt_is_initialized(void) { return true; }\n"
    "void wasm_rt_free(void) {}\n"
    "void wasm_rt_trap(wasm_rt_trap_t t) { RT->trap((unsigned)t); __builtin_unreachable(); }\n"
    "const char *wasm_rt_strerror(wasm_rt_trap_t t) { (void)t; return \"trap\"; }\n"
    "uint32_t wasm_rt_register_func_type(uint32_t np, uint32_t nr, ...) {\n"
    "  unsigned ty[512]; va_list ap; va_start(ap, nr);\n"
    "  if (np + nr > 512) RT->trap(0);\n"
    "  for (uint32_t i = 0; i < np + nr; i++) ty[i] = (unsigned)va_arg(ap, int);\n"
    "  va_end(ap); return RT->register_func_type(np, nr, ty);\n"
    "}\n"
    "void wasm_rt_allocate_memory(wasm_rt_memory_t *m, uint32_t i, uint32_t x) { RT->alloc_memory(m, i, x); }\n"
    "uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *m, uint32_t d) { return RT->grow_memory(m, d); }\n"
    "void wasm_rt_free_memory(wasm_rt_memory_t *m) { RT->free_memory(m); }\n"
    "void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *t, uint32_t n, uint32_t x) { RT->alloc_table(t, sizeof(wasm_rt_funcref_t), n, x); }\n"
    "void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t *t, uint32_t n, uint32_t x) { RT->alloc_table(t, sizeof(wasm_rt_externref_t), n, x); }\n"
    "uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t *t, uint32_t d, wasm_rt_funcref_t v) { return RT->grow_table(t, sizeof v, d, &v); }\n"
    "uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t *t, uint32_t d, wasm_rt_externref_t v) { return RT->grow_table(t, sizeof v, d, &v); }\n"
    "void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *t) { RT->free_table(t); }\n"
    "void wasm_rt_free_externref_table(wasm_rt_externref_table_t *t) { RT->free_table(t); }\n";

/* Text substitutions on wasm2c 1.0.32's output (the version is in the
 * cache key, and the patch set's version too: AOT_PATCH_VERSION in cache.c).
 * A pattern that is absent changes nothing, so another wasm2c still works,
 * only slower or with coarser trap kinds.
 *
 * 1. call_indirect: wasm2c raises one trap for every failure; the
 *    interpreter (and the spec) tell an index past the table from a null
 *    entry from a type mismatch. CALL_INDIRECT raises SLUICE_CI_TRAP instead.
 * 2. Loads keep an empty asm on their result so that a load whose value is
 *    dropped still happens (and traps); wasm2c's "r" constraint drags every
 *    f32/f64 load through a general register and back (movq xmm->gpr->xmm
 *    per load: a third of matmul's time). SLUICE_KEEP uses an SSE register
 *    for floats.
 * 3. Every load and store reads the memory's base pointer from the instance
 *    again, because the store before it was a memcpy, which may alias
 *    anything. Our base never moves (8 GiB reservation, grow = mprotect), so
 *    SLUICE_BASE reads it in an asm with no memory operand: the compiler
 *    treats it as a pure function of the memory's address and hoists it out
 *    of loops. SLUICE_LAUNDER after init_memories() keeps any of these reads
 *    from being moved above the allocation (the start function may be
 *    inlined into instantiate).
 * 4. Table helpers (table.init/copy/get/set/fill and element segments)
 *    raise wasm2c's one OOB trap, which is "out of bounds memory access";
 *    inside those helpers (from funcref_table_init to the end of the
 *    table_fill macros) it becomes our table OOB trap. */
static const struct { const char *from, *to; bool all; const char *start, *end; } k_patches[] = {
    {"TRAP(CALL_INDIRECT)", "SLUICE_CI_TRAP(table, x)", false, NULL, NULL},
    {"wasm_asm(\"\" ::\"r\"(result));", "SLUICE_KEEP(result);", true, NULL, NULL},
    {"&mem->data[addr]", "&SLUICE_BASE(mem)[addr]", true, NULL, NULL},
    {"  init_memories(instance);\n", "  init_memories(instance);\n  SLUICE_LAUNDER(instance);\n", true, NULL, NULL},
    {"TRAP(OOB)", "TRAP(SLUICE_TABLE_OOB)", true, "static inline void funcref_table_init(", "DEFINE_TABLE_FILL(externref)"},
};

/* The definitions the patched text uses, written by the shim before it
 * includes the generated file (plain C types only: wasm-rt.h is not in
 * scope yet; the macros expand inside the generated code). */
static const char k_patch_defs[] =
    "#define SLUICE_CI_TRAP(table, x) (wasm_rt_trap((wasm_rt_trap_t)((x) >= (table).size ? 100 : "
    "!(table).data[x].func ? 101 : WASM_RT_TRAP_CALL_INDIRECT)), 0)\n"
    "#define WASM_RT_TRAP_SLUICE_TABLE_OOB ((wasm_rt_trap_t)102)\n"
    "#define SLUICE_LAUNDER(p) __asm__ volatile(\"\" : \"+r\"(p))\n"
    "#if defined(__x86_64__)\n"
    "#define SLUICE_FREG \"x\"\n"
    "#define SLUICE_BASE(m) ({ unsigned char *b_; __asm__(\"mov (%1), %0\" : \"=r\"(b_) : \"r\"(m)); b_; })\n"
    "#elif defined(__aarch64__)\n"
    "#define SLUICE_FREG \"w\"\n"
    "#define SLUICE_BASE(m) ({ unsigned char *b_; __asm__(\"ldr %0, [%1]\" : \"=r\"(b_) : \"r\"(m)); b_; })\n"
    "#else\n"
    "#define SLUICE_FREG \"r\"\n"
    "#define SLUICE_BASE(m) ((m)->data)\n"
    "#endif\n"
    "static inline __attribute__((always_inline)) void sluice_keep_f(float v) { __asm__(\"\" :: SLUICE_FREG(v)); }\n"
    "static inline __attribute__((always_inline)) void sluice_keep_d(double v) { __asm__(\"\" :: SLUICE_FREG(v)); }\n"
    "static inline __attribute__((always_inline)) void sluice_keep_i(unsigned long long v) { __asm__(\"\" :: \"r\"(v)); }\n"
    "#define SLUICE_KEEP(x) _Generic((x), float: sluice_keep_f, double: sluice_keep_d, default: sluice_keep_i)(x)\n";

bool aot_shim_write(FILE *o, const wasm_module *m, const char *name, const char *gen_c, wasm_error *err)
{
    if (!aot_shim_supported(m, err)) return false;
    fputs("/* generated by sluice: shim around wasm2c output */\n#include <stdarg.h>\n#include <stddef.h>\n#include <string.h>\n", o);
    fputs(k_patch_defs, o);   /* used by the patched generated code (see aot_patch_generated) */
    fprintf(o, "#include \"%s\"\n", gen_c);
    fputs(SLUICE_AOT_ABI(SLUICE_AOT_STR), o);
    fputc('\n', o);
    fputs(rt_forwarders, o);
    /* imports; distinct import modules = instantiate's extra arguments */
    uint32_t fidx = 0, gidx = 0, midx = 0, nmods = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import_decl *d = &m->imports[i];
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++) seen = !strcmp(m->imports[j].module, d->module);
        if (!seen) nmods++;
        if (d->kind == WASM_EXTERN_FUNC) {
            write_import(o, m, d, fidx++);
        } else if (d->kind == WASM_EXTERN_GLOBAL) {
            fprintf(o, "%s *Z_", ctype(d->vt)); mangle(o, d->module); fputs("Z_", o); mangle(o, d->name);
            fputs("(struct Z_", o); mangle(o, d->module);
            fprintf(o, "_instance_t *ctx) { return RT->import_global(ctx, %uu); }\n", gidx++);
        } else if (d->kind == WASM_EXTERN_MEMORY) {
            fputs("wasm_rt_memory_t *Z_", o); mangle(o, d->module); fputs("Z_", o); mangle(o, d->name);
            fputs("(struct Z_", o); mangle(o, d->module);
            fprintf(o, "_instance_t *ctx) { return RT->import_memory(ctx, %uu); }\n", midx++);
        }
    }
    fprintf(o, "static void I(void *inst, void *ctx) { Z_%s_instantiate(inst", name);
    for (uint32_t i = 0; i < nmods; i++) fputs(", ctx", o);
    fprintf(o, "); }\nstatic void F(void *inst) { Z_%s_free(inst); }\n", name);
    uint32_t nx = 0;
    for (uint32_t k = 0; k < m->nexports; k++) {
        const wasm_export_decl *e = &m->exports[k];
        if (e->kind == WASM_EXTERN_FUNC) write_export_call(o, m, name, k, e);
        if (e->kind == WASM_EXTERN_MEMORY || (e->kind == WASM_EXTERN_GLOBAL && m->globals[e->idx].type != WASM_FUNCREF)) {
            fprintf(o, "static void *G_%u(void *inst) { return (void *)Z_%sZ_", k, name);
            mangle(o, e->name);
            fputs("(inst); }\n", o);
        }
    }
    fputs("static const struct sluice_aot_export EX[] = {\n", o);
    for (uint32_t k = 0; k < m->nexports; k++) {
        const wasm_export_decl *e = &m->exports[k];
        if (e->kind == WASM_EXTERN_FUNC) fprintf(o, "  {%uu, X_%u, 0},\n", k, k);
        else if (e->kind == WASM_EXTERN_MEMORY || (e->kind == WASM_EXTERN_GLOBAL && m->globals[e->idx].type != WASM_FUNCREF))
            fprintf(o, "  {%uu, 0, G_%u},\n", k, k);
        else continue;
        nx++;
    }
    if (!nx) fputs("  {0, 0, 0},\n", o);
    fprintf(o, "};\nstatic const struct sluice_aot_desc DESC = {%uu, sizeof(Z_%s_instance_t), Z_%s_init_module, I, F, %uu, EX};\n",
            SLUICE_AOT_ABI_VERSION, name, name, nx);
    fputs("__attribute__((visibility(\"default\"))) const struct sluice_aot_desc *sluice_aot_entry(const struct sluice_aot_rt *rt) {\n"
          "  if (rt->version != DESC.version) return 0;\n  RT = rt; return &DESC;\n}\n", o);
    return !ferror(o);
}

/* Replaces `from` by `to` in buf (first or every occurrence), only between
 * the first `start` and the following `end` when those are given (nothing
 * when they are missing); returns the new malloc'd text (buf freed) or NULL. */
static char *substitute(char *buf, const char *from, const char *to, bool all, const char *start, const char *end)
{
    char *out = NULL;
    size_t olen = 0;
    FILE *o = open_memstream(&out, &olen);
    if (!o) { free(buf); return NULL; }
    size_t fl = strlen(from);
    const char *p = buf, *hit, *stop = NULL;
    if (start) {
        const char *a = strstr(buf, start);
        stop = a ? strstr(a, end) : NULL;
        if (!stop) a = stop = buf;   /* region missing: change nothing */
        fwrite(buf, 1, (size_t)(a - buf), o);
        p = a;
    }
    while ((hit = strstr(p, from)) && (!stop || hit + fl <= stop)) {
        fwrite(p, 1, (size_t)(hit - p), o);
        fputs(to, o);
        p = hit + fl;
        if (!all) break;
    }
    fputs(p, o);
    bool ok = fclose(o) == 0;
    free(buf);
    if (!ok) { free(out); return NULL; }
    return out;
}

bool aot_patch_generated(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) { fclose(f); return false; }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, n, mem);
    fclose(f);
    if (fclose(mem) != 0) { free(buf); return false; }
    for (size_t i = 0; buf && i < sizeof k_patches / sizeof k_patches[0]; i++)
        buf = substitute(buf, k_patches[i].from, k_patches[i].to, k_patches[i].all, k_patches[i].start,
                         k_patches[i].end);
    if (!buf) return false;
    f = fopen(path, "wb");
    if (!f) { free(buf); return false; }
    len = strlen(buf);
    bool ok = fwrite(buf, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    free(buf);
    return ok;
}
