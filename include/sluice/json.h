/*
 * sluice/json.h - Sluice's JSON module: a strict RFC 8259 parser, a mutable
 * document and a writer, built for a proxy's hot path.
 *
 * Design in one paragraph: a document (sj_doc) owns one arena; every value,
 * key and decoded string of that document lives in it, so freeing the document
 * is one call and parsing does no per-value malloc. The parser copies the input
 * into the arena once, and strings without escapes are views into that copy.
 * Numbers keep their exact source text, so re-serializing never changes them
 * (a proxy must not turn 18446744073709551615 into 1.8446744073709552e19).
 * Nesting depth is bounded; input is validated as UTF-8 (no lone surrogates).
 *
 * Ownership: a value belongs to the document that created it and lives until
 * sj_doc_free(). A value may be attached (appended / set) at most once, and only
 * inside its own document; use sj_copy() to move data between documents.
 * Documents are not thread-safe; distinct documents may be used concurrently.
 *
 * Prefix: sj_ ("sluice json"), not json_, so that tests can link jansson too.
 */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sj_doc sj_doc;
typedef struct sj_val sj_val;

typedef enum sj_type {
    SJ_NULL = 0,
    SJ_FALSE,
    SJ_TRUE,
    SJ_NUMBER,
    SJ_STRING,
    SJ_ARRAY,
    SJ_OBJECT,
} sj_type;

/* Parse limits. Zero fields take the defaults shown. */
typedef struct sj_parse_opts {
    size_t max_depth; /* nesting of arrays/objects; default 512 */
    size_t max_bytes; /* input size; default 64 MiB */
} sj_parse_opts;

/* Where and why a parse failed. `msg` is a static string. */
typedef struct sj_error {
    size_t offset;   /* byte offset in the input */
    const char *msg; /* e.g. "invalid UTF-8 in string", "trailing comma" */
} sj_error;

/* ---- documents ---------------------------------------------------------- */

/* Parses buf[0..len). Returns a new document the caller frees with
 * sj_doc_free(), or NULL with *err filled (err may be NULL). The input is
 * copied: buf may be freed right after the call. Whitespace around the single
 * top-level value is allowed; anything else after it is an error. */
sj_doc *sj_parse(const char *buf, size_t len, const sj_parse_opts *opts, sj_error *err);

/* An empty document (root NULL) for building values. Caller frees. NULL on OOM. */
sj_doc *sj_doc_new(void);
void sj_doc_free(sj_doc *doc); /* NULL is a no-op */

sj_val *sj_doc_root(const sj_doc *doc);
void sj_doc_set_root(sj_doc *doc, sj_val *root);

/* ---- reading values ----------------------------------------------------- */
/* Every reader accepts NULL and then answers as for a missing value. */

sj_type sj_type_of(const sj_val *v); /* SJ_NULL for a NULL pointer */
bool sj_is_null(const sj_val *v);    /* true for JSON null only (not for NULL pointer) */
bool sj_is_bool(const sj_val *v);
bool sj_is_number(const sj_val *v);
bool sj_is_string(const sj_val *v);
bool sj_is_array(const sj_val *v);
bool sj_is_object(const sj_val *v);

/* true/false values; other types return `dflt`. */
bool sj_bool(const sj_val *v, bool dflt);

/* A string's decoded UTF-8 bytes (may contain NUL; always NUL-terminated at
 * [len] too). NULL if v is not a string. Valid until the document is freed. */
const char *sj_str(const sj_val *v, size_t *len);
/* Where string v came from in the text doc was parsed from, for splicing a new
 * value into the original bytes: input[*start] is its opening quote, input[*end - 1]
 * its closing one. false if doc was not parsed from input (checked by length and by
 * the string's bytes), if v was set after parsing, or if v was written with an
 * escape (its source text is then not simply its bytes in quotes). */
bool sj_str_span(const sj_doc *doc, const sj_val *v, const char *input, size_t input_len, size_t *start,
                 size_t *end);
/* true if v is a string equal to the NUL-terminated s. */
bool sj_str_eq(const sj_val *v, const char *s);

/* Numbers. The exact source (or written) text: */
const char *sj_num_text(const sj_val *v, size_t *len);
/* Conversions; false if v is not a number or the value does not fit exactly
 * (sj_i64 / sj_u64 accept only integers without fraction or exponent ... or
 * with an exponent that keeps them integral, e.g. 1e3). sj_f64 is the nearest
 * double, false for non-numbers or out-of-range (inf) magnitudes. */
bool sj_i64(const sj_val *v, int64_t *out);
bool sj_u64(const sj_val *v, uint64_t *out);
bool sj_f64(const sj_val *v, double *out);

/* Arrays and objects: element count (0 for other types). */
size_t sj_len(const sj_val *v);

/* Iteration over array elements or object members, in document order:
 *     for (sj_val *e = sj_first(arr); e; e = sj_next(e)) ...
 * For an object member, sj_key() gives its key (NULL for array elements). */
sj_val *sj_first(const sj_val *container);
sj_val *sj_next(const sj_val *elem);
const char *sj_key(const sj_val *member, size_t *len);

/* Array element i (O(i)), or NULL. */
sj_val *sj_at(const sj_val *arr, size_t i);
/* Object member by key: the first one with that key, or NULL. */
sj_val *sj_get(const sj_val *obj, const char *key);
sj_val *sj_getn(const sj_val *obj, const char *key, size_t klen);

/* ---- building and editing ----------------------------------------------- */
/* Constructors return a value owned by doc, or NULL on OOM / invalid input. */

sj_val *sj_new_null(sj_doc *doc);
sj_val *sj_new_bool(sj_doc *doc, bool b);
sj_val *sj_new_i64(sj_doc *doc, int64_t n);
sj_val *sj_new_u64(sj_doc *doc, uint64_t n);
sj_val *sj_new_f64(sj_doc *doc, double d); /* NULL for NaN and infinities */
/* A number from text, which must be a valid JSON number (else NULL). Copied. */
sj_val *sj_new_num_text(sj_doc *doc, const char *text, size_t len);
/* A string from UTF-8 bytes, copied; NULL if s is not valid UTF-8. */
sj_val *sj_new_str(sj_doc *doc, const char *s, size_t len);
sj_val *sj_new_cstr(sj_doc *doc, const char *s); /* NUL-terminated */
sj_val *sj_new_arr(sj_doc *doc);
sj_val *sj_new_obj(sj_doc *doc);

/* Appends v (of the same document, not attached elsewhere) to arr. */
bool sj_append(sj_val *arr, sj_val *v);
/* Sets key (copied) to v in obj: replaces the first member with that key in
 * place (keeping its position), else appends. Returns false on OOM/misuse. */
bool sj_set(sj_doc *doc, sj_val *obj, const char *key, sj_val *v);
bool sj_setn(sj_doc *doc, sj_val *obj, const char *key, size_t klen, sj_val *v);
/* Removes every member with that key; returns how many were removed. */
size_t sj_remove(sj_val *obj, const char *key);
/* Removes array element / object member `elem` from its container. */
bool sj_detach(sj_val *container, sj_val *elem);

/* Deep copy of src (from any document) into dst. NULL on OOM. */
sj_val *sj_copy(sj_doc *dst, const sj_val *src);

/* ---- writing ------------------------------------------------------------ */

/* A growable byte buffer, also handy for writing JSON by hand on hot paths
 * (SSE chunks, error bodies) without building a document. Zero-initialize it;
 * release data with sj_buf_free(). Appenders return false on OOM, after which
 * the buffer stays valid but incomplete (and b->oom is set). */
typedef struct sj_buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} sj_buf;

void sj_buf_free(sj_buf *b);
bool sj_buf_reserve(sj_buf *b, size_t extra);
bool sj_buf_raw(sj_buf *b, const char *s, size_t len);   /* verbatim */
bool sj_buf_cstr(sj_buf *b, const char *s);              /* verbatim, NUL-terminated */
bool sj_buf_str(sj_buf *b, const char *s, size_t len);   /* as a quoted, escaped JSON string */
bool sj_buf_i64(sj_buf *b, int64_t n);
bool sj_buf_u64(sj_buf *b, uint64_t n);
/* Serializes v compactly (no whitespace) onto b. */
bool sj_buf_val(sj_buf *b, const sj_val *v);

/* Serializes v compactly into a new NUL-terminated string the caller frees
 * with free(); *len (if non-NULL) gets its length. NULL on OOM. */
char *sj_write(const sj_val *v, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_JSON_H */
