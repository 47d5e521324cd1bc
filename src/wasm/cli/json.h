/*
 * src/wasm/cli/json.h - a minimal JSON reader for wast2json output, private
 * to the CLI (the engine must not depend on the gateway's JSON module).
 * A parsed tree is owned by its root: free it with swj_free(root).
 */
#ifndef SLUICE_WASM_CLI_JSON_H
#define SLUICE_WASM_CLI_JSON_H

#include <stddef.h>

typedef enum { SWJ_NULL, SWJ_BOOL, SWJ_NUM, SWJ_STR, SWJ_ARR, SWJ_OBJ } swj_type;

typedef struct swj {
    swj_type type;
    char *str;              /* string value, number text, or NULL */
    size_t len;             /* string length in bytes (strings may hold NUL) */
    char *key;              /* member name when inside an object */
    struct swj *child;      /* first element / member */
    struct swj *next;       /* next sibling */
    int boolean;
} swj;

/* Parses text[0..len); returns the root (caller frees with swj_free) or NULL. */
swj *swj_parse(const char *text, size_t len);
void swj_free(swj *v);
/* Member `key` of an object, or NULL. Borrowed. */
const swj *swj_get(const swj *obj, const char *key);
/* String member or NULL. Borrowed. */
const char *swj_str(const swj *obj, const char *key);

#endif
