/*
 * doc.c - reading, building and editing values; deep copy.
 */
#include "json/json_int.h"

/* ---- reading ----------------------------------------------------------- */

sj_type sj_type_of(const sj_val *v)
{
    return v ? (sj_type)v->type : SJ_NULL;
}

bool sj_is_null(const sj_val *v) { return v && v->type == SJ_NULL; }
bool sj_is_bool(const sj_val *v) { return v && (v->type == SJ_TRUE || v->type == SJ_FALSE); }
bool sj_is_number(const sj_val *v) { return v && v->type == SJ_NUMBER; }
bool sj_is_string(const sj_val *v) { return v && v->type == SJ_STRING; }
bool sj_is_array(const sj_val *v) { return v && v->type == SJ_ARRAY; }
bool sj_is_object(const sj_val *v) { return v && v->type == SJ_OBJECT; }

static bool is_container(const sj_val *v)
{
    return v && (v->type == SJ_ARRAY || v->type == SJ_OBJECT);
}

bool sj_bool(const sj_val *v, bool dflt)
{
    if (v && v->type == SJ_TRUE)
        return true;
    if (v && v->type == SJ_FALSE)
        return false;
    return dflt;
}

const char *sj_str(const sj_val *v, size_t *len)
{
    return sj_text_of(v, SJ_STRING, len);
}

bool sj_str_span(const sj_doc *doc, const sj_val *v, const char *input, size_t input_len, size_t *start,
                 size_t *end)
{
    if (!doc || !doc->src || !v || v->type != SJ_STRING || !input || input_len != doc->src_len)
        return false;
    /* The parser decodes strings in place in its copy, so a string it made
     * starts at the same offset as in the input; one set since lives elsewhere
     * in the arena (after the copy), or in another document. */
    const char *p = v->u.s.ptr;
    size_t len = v->u.s.len;
    if (p <= doc->src || p > doc->src + doc->src_len || len > (size_t)(doc->src + doc->src_len - p))
        return false;
    size_t off = (size_t)(p - doc->src);
    if (off + len >= input_len || input[off - 1] != '"' || input[off + len] != '"' ||
        memchr(input + off, '\\', len) != NULL || memcmp(input + off, p, len) != 0)
        return false; /* written with an escape, or not this input */
    *start = off - 1;
    *end = off + len + 1;
    return true;
}

bool sj_str_eq(const sj_val *v, const char *s)
{
    if (!v || v->type != SJ_STRING || !s)
        return false;
    size_t n = strlen(s);
    return n == v->u.s.len && memcmp(v->u.s.ptr, s, n) == 0;
}

size_t sj_len(const sj_val *v)
{
    return is_container(v) ? v->u.c.count : 0;
}

sj_val *sj_first(const sj_val *container)
{
    return is_container(container) ? container->u.c.head : NULL;
}

sj_val *sj_next(const sj_val *elem)
{
    return elem ? elem->next : NULL;
}

const char *sj_key(const sj_val *member, size_t *len)
{
    if (!member || !member->parent || member->parent->type != SJ_OBJECT) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = member->klen;
    return member->key;
}

sj_val *sj_at(const sj_val *arr, size_t i)
{
    if (!arr || arr->type != SJ_ARRAY || i >= arr->u.c.count)
        return NULL;
    sj_val *e = arr->u.c.head;
    while (i--)
        e = e->next;
    return e;
}

static inline bool key_is(const sj_val *m, const char *key, size_t klen)
{
    return m->klen == klen && memcmp(m->key, key, klen) == 0;
}

sj_val *sj_getn(const sj_val *obj, const char *key, size_t klen)
{
    if (!obj || obj->type != SJ_OBJECT || (!key && klen))
        return NULL;
    for (sj_val *m = obj->u.c.head; m; m = m->next)
        if (key_is(m, key, klen))
            return m;
    return NULL;
}

sj_val *sj_get(const sj_val *obj, const char *key)
{
    return key ? sj_getn(obj, key, strlen(key)) : NULL;
}

/* ---- constructors -------------------------------------------------------- */

sj_val *sj_new_null(sj_doc *doc)
{
    return doc ? sj_val_alloc(doc, SJ_NULL) : NULL;
}

sj_val *sj_new_bool(sj_doc *doc, bool b)
{
    return doc ? sj_val_alloc(doc, b ? SJ_TRUE : SJ_FALSE) : NULL;
}

sj_val *sj_new_arr(sj_doc *doc)
{
    return doc ? sj_val_alloc(doc, SJ_ARRAY) : NULL;
}

sj_val *sj_new_obj(sj_doc *doc)
{
    return doc ? sj_val_alloc(doc, SJ_OBJECT) : NULL;
}

sj_val *sj_text_val(sj_doc *doc, sj_type t, const char *s, size_t len)
{
    if (!doc)
        return NULL;
    char *copy = sj_arena_strdup(&doc->arena, s, len);
    sj_val *v = copy ? sj_val_alloc(doc, t) : NULL;
    if (v) {
        v->u.s.ptr = copy;
        v->u.s.len = len;
    }
    return v;
}

/* A string value over a copy of s[0..len), UTF-8 already checked. */
static sj_val *str_from(sj_doc *doc, const char *s, size_t len, uint8_t flags)
{
    sj_val *v = sj_text_val(doc, SJ_STRING, s, len);
    if (v)
        v->flags = flags & SJF_STR_CLEAN;
    return v;
}

sj_val *sj_new_str(sj_doc *doc, const char *s, size_t len)
{
    if (!doc || (!s && len))
        return NULL;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = sj_utf8_seq(u + i, len - i);
        if (!n)
            return NULL;
        i += n;
    }
    return str_from(doc, s ? s : "", len, sj_str_is_clean(s, len) ? SJF_STR_CLEAN : 0);
}

sj_val *sj_new_cstr(sj_doc *doc, const char *s)
{
    return s ? sj_new_str(doc, s, strlen(s)) : NULL;
}

/* ---- editing ------------------------------------------------------------ */

/* true if `anc` is c or one of c's ancestors: attaching anc under c would
 * make a cycle. */
static bool is_ancestor(const sj_val *anc, const sj_val *c)
{
    for (; c; c = c->parent)
        if (c == anc)
            return true;
    return false;
}

/* Can v be linked into container c? */
static bool attachable(const sj_val *c, const sj_val *v)
{
    return v && !v->parent && !is_ancestor(v, c);
}

bool sj_append(sj_val *arr, sj_val *v)
{
    if (!arr || arr->type != SJ_ARRAY || !attachable(arr, v))
        return false;
    v->key = NULL;
    v->klen = 0;
    v->flags &= (uint8_t)~SJF_KEY_CLEAN;
    sj_link_tail(arr, v);
    return true;
}

bool sj_setn(sj_doc *doc, sj_val *obj, const char *key, size_t klen, sj_val *v)
{
    if (!doc || !obj || obj->type != SJ_OBJECT || (!key && klen) || klen > UINT32_MAX ||
        !attachable(obj, v))
        return false;
    sj_val *prev = NULL, *m = obj->u.c.head;
    while (m && !key_is(m, key, klen)) {
        prev = m;
        m = m->next;
    }
    if (m) {
        /* Replace in place: v takes m's slot and reuses its key bytes. */
        v->key = m->key;
        v->klen = m->klen;
        v->flags = (uint8_t)((v->flags & ~SJF_KEY_CLEAN) | (m->flags & SJF_KEY_CLEAN));
        v->parent = obj;
        v->next = m->next;
        if (prev)
            prev->next = v;
        else
            obj->u.c.head = v;
        if (obj->u.c.tail == m)
            obj->u.c.tail = v;
        m->parent = NULL;
        m->next = NULL;
        m->key = NULL;
        m->klen = 0;
        return true;
    }
    char *k = sj_arena_strdup(&doc->arena, key ? key : "", klen);
    if (!k)
        return false;
    v->key = k;
    v->klen = (uint32_t)klen;
    v->flags = (uint8_t)((v->flags & ~SJF_KEY_CLEAN) |
                         (sj_str_is_clean(k, klen) ? SJF_KEY_CLEAN : 0));
    sj_link_tail(obj, v);
    return true;
}

bool sj_set(sj_doc *doc, sj_val *obj, const char *key, sj_val *v)
{
    return key ? sj_setn(doc, obj, key, strlen(key), v) : false;
}

/* Unlinks e (whose predecessor is prev) from container c. */
static void unlink_child(sj_val *c, sj_val *prev, sj_val *e)
{
    if (prev)
        prev->next = e->next;
    else
        c->u.c.head = e->next;
    if (c->u.c.tail == e)
        c->u.c.tail = prev;
    c->u.c.count--;
    e->parent = NULL;
    e->next = NULL;
    e->key = NULL;
    e->klen = 0;
    e->flags &= (uint8_t)~SJF_KEY_CLEAN;
}

size_t sj_remove(sj_val *obj, const char *key)
{
    if (!obj || obj->type != SJ_OBJECT || !key)
        return 0;
    size_t klen = strlen(key), n = 0;
    sj_val *prev = NULL, *m = obj->u.c.head;
    while (m) {
        sj_val *next = m->next;
        if (key_is(m, key, klen)) {
            unlink_child(obj, prev, m);
            n++;
        } else {
            prev = m;
        }
        m = next;
    }
    return n;
}

bool sj_detach(sj_val *container, sj_val *elem)
{
    if (!is_container(container) || !elem || elem->parent != container)
        return false;
    sj_val *prev = NULL, *e = container->u.c.head;
    while (e && e != elem) {
        prev = e;
        e = e->next;
    }
    if (!e)
        return false;
    unlink_child(container, prev, e);
    return true;
}

/* ---- deep copy ------------------------------------------------------------ */

/* A copy of v alone (a container comes out empty), without key. */
static sj_val *clone_node(sj_doc *dst, const sj_val *v)
{
    switch (v->type) {
    case SJ_STRING:
        return str_from(dst, v->u.s.ptr, v->u.s.len, v->flags);
    case SJ_NUMBER:
        return sj_text_val(dst, SJ_NUMBER, v->u.s.ptr, v->u.s.len);
    default:
        return sj_val_alloc(dst, (sj_type)v->type);
    }
}

sj_val *sj_copy(sj_doc *dst, const sj_val *src)
{
    if (!dst || !src)
        return NULL;
    sj_val *root = clone_node(dst, src);
    if (!root || !is_container(src) || !src->u.c.head)
        return root;
    /* Walk src depth-first through parent pointers; d is the copy of s's
     * parent. No recursion, so any depth is fine. */
    const sj_val *s = src->u.c.head;
    sj_val *d = root;
    for (;;) {
        sj_val *n = clone_node(dst, s);
        if (!n)
            return NULL; /* the partial copy stays in the arena */
        if (d->type == SJ_OBJECT) {
            char *k = sj_arena_strdup(&dst->arena, s->key, s->klen);
            if (!k)
                return NULL;
            n->key = k;
            n->klen = s->klen;
            n->flags |= s->flags & SJF_KEY_CLEAN;
        }
        sj_link_tail(d, n);
        if (is_container(s) && s->u.c.head) {
            d = n;
            s = s->u.c.head;
            continue;
        }
        while (!s->next) {
            s = s->parent;
            if (s == src)
                return root;
            d = d->parent;
        }
        s = s->next;
    }
}
