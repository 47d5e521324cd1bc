/*
 * arena.c - the bump allocator behind every document.
 *
 * A parse costs one malloc in the common case: the document struct, the copy
 * of the input and the first values share the first block. Later blocks
 * double in size (up to a cap) so a large document costs O(log n) mallocs.
 */
#include "json/json_int.h"

#include <stdlib.h>

#define SJ_BLOCK_MIN 1024u
#define SJ_BLOCK_MAX (4u << 20)

static size_t hdr_size(void)
{
    return (sizeof(sj_block) + (SJ_ALIGN - 1)) & ~(size_t)(SJ_ALIGN - 1);
}

void *sj_arena_grow(sj_arena *a, size_t n)
{
    size_t size = a->next_size < SJ_BLOCK_MIN ? SJ_BLOCK_MIN : a->next_size;
    if (size < n)
        size = n;
    if (size > SIZE_MAX - hdr_size())
        return NULL;
    sj_block *b = malloc(hdr_size() + size);
    if (!b)
        return NULL;
    b->prev = a->newest;
    b->size = size;
    a->newest = b;
    a->cur = (char *)b + hdr_size() + n;
    a->end = (char *)b + hdr_size() + size;
    if (a->next_size < SJ_BLOCK_MAX)
        a->next_size = a->next_size ? a->next_size * 2 : SJ_BLOCK_MIN;
    return (char *)b + hdr_size();
}

char *sj_arena_strdup(sj_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = sj_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

sj_doc *sj_doc_create(size_t first)
{
    size_t dsz = (sizeof(sj_doc) + (SJ_ALIGN - 1)) & ~(size_t)(SJ_ALIGN - 1);
    if (first > SIZE_MAX - dsz - hdr_size())
        return NULL;
    sj_block *b = malloc(hdr_size() + dsz + first);
    if (!b)
        return NULL;
    b->prev = NULL;
    b->size = dsz + first;
    sj_doc *doc = (sj_doc *)((char *)b + hdr_size());
    doc->root = NULL;
    doc->src = NULL;
    doc->src_len = 0;
    doc->arena.newest = b;
    doc->arena.cur = (char *)doc + dsz;
    doc->arena.end = doc->arena.cur + first;
    doc->arena.next_size = first * 2 < SJ_BLOCK_MAX ? first * 2 : SJ_BLOCK_MAX;
    return doc;
}

sj_doc *sj_doc_new(void)
{
    return sj_doc_create(2048);
}

void sj_doc_free(sj_doc *doc)
{
    if (!doc)
        return;
    /* The doc struct lives in the oldest block: read the chain first. */
    sj_block *b = doc->arena.newest;
    while (b) {
        sj_block *prev = b->prev;
        free(b);
        b = prev;
    }
}

sj_val *sj_doc_root(const sj_doc *doc)
{
    return doc ? doc->root : NULL;
}

void sj_doc_set_root(sj_doc *doc, sj_val *root)
{
    if (doc)
        doc->root = root;
}
