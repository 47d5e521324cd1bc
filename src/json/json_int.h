/*
 * json_int.h - internals shared by the files of the JSON module (not public).
 *
 * Memory model: a document owns a chain of arena blocks. The document struct
 * itself lives in the first block, so sj_doc_free() is a walk over the chain.
 * Values are never freed one by one: a detached or replaced value simply
 * stays in the arena until the document goes.
 *
 * Tree shape: containers keep a singly linked list of children with a tail
 * pointer and a count (O(1) append, order preserved). Every value knows its
 * parent, which lets the parser, the writer and sj_copy walk trees of any
 * depth without recursion or an explicit stack, and lets sj_append refuse to
 * create cycles.
 */
#ifndef SLUICE_JSON_INT_H
#define SLUICE_JSON_INT_H

#include "sluice/json.h"

#include <stdint.h>
#include <string.h>

/* sj_val.flags */
enum {
    SJF_STR_CLEAN = 1, /* string bytes need no escaping when written */
    SJF_KEY_CLEAN = 2, /* same for the member key */
};

struct sj_val {
    sj_val *next;    /* next sibling in the parent container */
    sj_val *parent;  /* container holding this value, NULL if unattached */
    const char *key; /* member key (NUL-terminated) when parent is an object */
    uint32_t klen;   /* keys are limited to 4 GiB - 1, see sj_setn / parser */
    uint8_t type;    /* sj_type */
    uint8_t flags;   /* SJF_* */
    union {
        struct {
            const char *ptr; /* string bytes (NUL at [len]) or number text */
            size_t len;
        } s;
        struct {
            sj_val *head, *tail;
            size_t count;
        } c;
    } u;
};

typedef struct sj_block {
    struct sj_block *prev; /* older block, NULL for the first */
    size_t size;           /* usable bytes after the header */
} sj_block;

typedef struct sj_arena {
    char *cur, *end;   /* free space in the newest block */
    sj_block *newest;  /* chain through ->prev */
    size_t next_size;  /* size of the next block we will ask malloc for */
} sj_arena;

struct sj_doc {
    sj_arena arena;
    sj_val *root;
    const char *src; /* sj_parse's copy of the input (NULL for sj_doc_new), for sj_str_span */
    size_t src_len;
};

#define SJ_ALIGN 8u
/* Bytes readable past the end of parser input: lets the string scanner load
 * 16 bytes at a time without bounds checks. */
#define SJ_PAD 16u

/* Slow path of sj_arena_alloc: a new block. NULL on OOM. */
void *sj_arena_grow(sj_arena *a, size_t n);

/* Returns n bytes (8-aligned) owned by the arena; NULL on OOM. */
static inline void *sj_arena_alloc(sj_arena *a, size_t n)
{
    n = (n + (SJ_ALIGN - 1)) & ~(size_t)(SJ_ALIGN - 1);
    if ((size_t)(a->end - a->cur) >= n) {
        void *p = a->cur;
        a->cur += n;
        return p;
    }
    return sj_arena_grow(a, n);
}

/* A document whose first block has room for `first` bytes besides the doc
 * struct. Caller frees with sj_doc_free(). NULL on OOM. */
sj_doc *sj_doc_create(size_t first);

/* Copies len bytes into the arena and NUL-terminates them. NULL on OOM. */
char *sj_arena_strdup(sj_arena *a, const char *s, size_t len);

/* A fresh, unattached value of type t. NULL on OOM. */
static inline sj_val *sj_val_alloc(sj_doc *doc, sj_type t)
{
    sj_val *v = sj_arena_alloc(&doc->arena, sizeof *v);
    if (v) {
        memset(v, 0, sizeof *v);
        v->type = (uint8_t)t;
    }
    return v;
}

/* The bytes of a string or number v if it has type t, else NULL (and 0). */
static inline const char *sj_text_of(const sj_val *v, sj_type t, size_t *len)
{
    bool ok = v && v->type == t;
    if (len)
        *len = ok ? v->u.s.len : 0;
    return ok ? v->u.s.ptr : NULL;
}

/* A new unattached string or number (type t) over a copy of s[0..len),
 * NUL-terminated; contents are not checked. NULL on OOM or NULL doc. */
sj_val *sj_text_val(sj_doc *doc, sj_type t, const char *s, size_t len);

/* Links v (unattached) at the end of container c. */
static inline void sj_link_tail(sj_val *c, sj_val *v)
{
    v->parent = c;
    v->next = NULL;
    if (c->u.c.tail)
        c->u.c.tail->next = v;
    else
        c->u.c.head = v;
    c->u.c.tail = v;
    c->u.c.count++;
}

/* ---- utf8.c ---- */

/* Length (1..4) of the well-formed UTF-8 sequence at p, reading at most
 * `avail` bytes, or 0 if it is ill-formed (overlong, surrogate, > U+10FFFF,
 * truncated, stray continuation byte). */
size_t sj_utf8_seq(const unsigned char *p, size_t avail);
/* Writes code point cp (<= 0x10FFFF, not a surrogate) as UTF-8; returns 1..4. */
size_t sj_utf8_put(char *out, uint32_t cp);
/* true if s[0..len) needs no escaping in a JSON string: no '"', '\\' or
 * control characters (does not check UTF-8 validity). */
bool sj_str_is_clean(const char *s, size_t len);

/* ---- num.c ---- */

/* Length of the longest valid JSON number prefix of s[0..len), 0 if none. */
size_t sj_num_scan(const char *s, size_t len);

#endif
