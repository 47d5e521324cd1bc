/*
 * json.c - branchy byte-at-a-time work, the kind a gateway plugin does on
 * every request: parse a ~2 KB OpenAI chat request into a tree, read a few
 * fields, serialize it back, many times.
 *
 * The parser and serializer are deliberately small and self-contained (no
 * libc in the wasm build): strings are decoded (escapes, \u with surrogate
 * pairs, to UTF-8) into an arena and re-escaped on output; numbers keep their
 * validated source text, so no floating-point formatting is involved and
 * the output is byte-identical on every engine.
 */
#include "rt.h"

/* The request every iteration parses: a realistic chat completion body with
 * escapes, non-ASCII text, nested tools and every JSON value type. */
static const char json_input[] =
    "{\"model\": \"gpt-4o-mini\", \"temperature\": 0.7, \"top_p\": 1, \"max_tokens\": 512, "
    "\"stream\": false, \"n\": 1, \"presence_penalty\": -0.25, \"frequency_penalty\": 1.5e-1, "
    "\"user\": \"customer-7731\", \"seed\": null, "
    "\"messages\": ["
    "{\"role\": \"system\", \"content\": \"You are a concise assistant for a logistics company. "
    "Answer in plain English, cite order numbers exactly, and never invent tracking data "
    "that was not given to you.\\nKeep answers under 80 words.\"}, "
    "{\"role\": \"user\", \"content\": \"Where is order 48213? It was due on Tuesday and the "
    "tracking page has not changed since Monday morning.\"}, "
    "{\"role\": \"assistant\", \"content\": \"Order 48213 left the Leeds depot on Monday at 09:12 "
    "and is with the regional carrier. Delays of one day are common on that route after bank "
    "holidays.\"}, "
    "{\"role\": \"user\", \"content\": \"Can you check whether the carrier scanned it at the "
    "\\\"Wakefield hub\\\" and tell me the caf\\u00e9 address they use for pick-ups? \\ud83d\\ude9a\"}, "
    "{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"call_9f2c\", "
    "\"type\": \"function\", \"function\": {\"name\": \"lookup_scan\", \"arguments\": "
    "\"{\\\"order\\\": 48213, \\\"hub\\\": \\\"Wakefield\\\"}\"}}]}, "
    "{\"role\": \"tool\", \"tool_call_id\": \"call_9f2c\", \"content\": \"{\\\"scanned\\\": true, "
    "\\\"at\\\": \\\"2024-03-05T07:41:00Z\\\", \\\"bay\\\": 12}\"}, "
    "{\"role\": \"user\", \"content\": \"Thanks. Also, r\\u00e9sum\\u00e9 of the last three scans "
    "please, as a table with tabs:\\tdate\\tplace\\tstatus.\"}"
    "], "
    "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"lookup_scan\", "
    "\"description\": \"Returns the latest carrier scan of an order at a hub.\", "
    "\"parameters\": {\"type\": \"object\", \"properties\": {\"order\": {\"type\": \"integer\", "
    "\"minimum\": 1, \"maximum\": 99999999}, \"hub\": {\"type\": \"string\", \"enum\": "
    "[\"Leeds\", \"Wakefield\", \"York\", \"Hull\"]}}, \"required\": [\"order\"], "
    "\"additionalProperties\": false}}}, "
    "{\"type\": \"function\", \"function\": {\"name\": \"list_scans\", \"description\": "
    "\"Lists the scans of an order, newest first.\", \"parameters\": {\"type\": \"object\", "
    "\"properties\": {\"order\": {\"type\": \"integer\"}, \"limit\": {\"type\": \"integer\", "
    "\"default\": 3}}, \"required\": [\"order\"]}}}], "
    "\"tool_choice\": \"auto\", \"response_format\": {\"type\": \"text\"}, "
    "\"metadata\": {\"tenant\": \"acme-logistics\", \"trace\": [3, 1, 4, 1, 5, 9, 2, 6], "
    "\"ratio\": 0.000125, \"big\": 12345678901234567890, \"neg\": -42E+3}}";

enum { JT_NULL, JT_FALSE, JT_TRUE, JT_NUMBER, JT_STRING, JT_ARRAY, JT_OBJECT };

/* One value. Object members carry their key; children form a linked list
 * (first `child`, then `next`) so the tree needs no allocation besides the
 * two fixed arenas below. Strings and number text live in json_text. */
typedef struct {
    uint8_t type;
    uint32_t key_off, key_len; /* member name, when the parent is an object */
    uint32_t str_off, str_len; /* decoded string, or number source text */
    uint32_t child, next;      /* node indexes; 0 = none (node 0 is unused) */
} json_node;

#define JSON_MAX_NODES 1024
#define JSON_MAX_TEXT 8192
#define JSON_MAX_DEPTH 64
#define JSON_MAX_OUT 8192

typedef struct {
    const char *p, *end;
    uint32_t nnodes, ntext;
    int failed;
} json_parser;

static json_node json_nodes[JSON_MAX_NODES];
static char json_text[JSON_MAX_TEXT];

static uint32_t json_new_node(json_parser *ps, uint8_t type) {
    if (ps->nnodes >= JSON_MAX_NODES) {
        ps->failed = 1;
        return 0;
    }
    json_node *n = &json_nodes[ps->nnodes];
    n->type = type;
    n->key_off = n->key_len = n->str_off = n->str_len = 0;
    n->child = n->next = 0;
    return ps->nnodes++;
}

static void json_put_text(json_parser *ps, char c) {
    if (ps->ntext >= JSON_MAX_TEXT) {
        ps->failed = 1;
        return;
    }
    json_text[ps->ntext++] = c;
}

static void json_skip_ws(json_parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) ps->p++;
}

static int json_hex4(json_parser *ps, uint32_t *out) {
    if (ps->end - ps->p < 4) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static void json_put_utf8(json_parser *ps, uint32_t cp) {
    if (cp < 0x80) {
        json_put_text(ps, (char)cp);
    } else if (cp < 0x800) {
        json_put_text(ps, (char)(0xc0 | cp >> 6));
        json_put_text(ps, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        json_put_text(ps, (char)(0xe0 | cp >> 12));
        json_put_text(ps, (char)(0x80 | ((cp >> 6) & 0x3f)));
        json_put_text(ps, (char)(0x80 | (cp & 0x3f)));
    } else {
        json_put_text(ps, (char)(0xf0 | cp >> 18));
        json_put_text(ps, (char)(0x80 | ((cp >> 12) & 0x3f)));
        json_put_text(ps, (char)(0x80 | ((cp >> 6) & 0x3f)));
        json_put_text(ps, (char)(0x80 | (cp & 0x3f)));
    }
}

/* Decodes the string at ps->p (just after its opening quote) into the text
 * arena; sets *off and *len. */
static void json_parse_string(json_parser *ps, uint32_t *off, uint32_t *len) {
    *off = ps->ntext;
    while (!ps->failed) {
        if (ps->p >= ps->end) break;
        unsigned char c = (unsigned char)*ps->p++;
        if (c == '"') {
            *len = ps->ntext - *off;
            return;
        }
        if (c < 0x20) break;
        if (c != '\\') {
            json_put_text(ps, (char)c);
            continue;
        }
        if (ps->p >= ps->end) break;
        char e = *ps->p++;
        uint32_t cp;
        switch (e) {
        case '"': case '\\': case '/': json_put_text(ps, e); break;
        case 'b': json_put_text(ps, '\b'); break;
        case 'f': json_put_text(ps, '\f'); break;
        case 'n': json_put_text(ps, '\n'); break;
        case 'r': json_put_text(ps, '\r'); break;
        case 't': json_put_text(ps, '\t'); break;
        case 'u':
            if (!json_hex4(ps, &cp)) goto bad;
            if (cp >= 0xd800 && cp < 0xdc00) { /* high surrogate: a low one must follow */
                uint32_t lo;
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') goto bad;
                ps->p += 2;
                if (!json_hex4(ps, &lo) || lo < 0xdc00 || lo >= 0xe000) goto bad;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                goto bad;
            }
            json_put_utf8(ps, cp);
            break;
        default:
            goto bad;
        }
    }
bad:
    ps->failed = 1;
}

static int json_is_digit(char c) { return c >= '0' && c <= '9'; }

/* Validates a number per the JSON grammar and keeps its text. */
static void json_parse_number(json_parser *ps, json_node *n) {
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (ps->p >= ps->end || !json_is_digit(*ps->p)) goto bad;
    if (*ps->p == '0') ps->p++;
    else while (ps->p < ps->end && json_is_digit(*ps->p)) ps->p++;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (ps->p >= ps->end || !json_is_digit(*ps->p)) goto bad;
        while (ps->p < ps->end && json_is_digit(*ps->p)) ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || !json_is_digit(*ps->p)) goto bad;
        while (ps->p < ps->end && json_is_digit(*ps->p)) ps->p++;
    }
    n->str_off = ps->ntext;
    for (const char *q = s; q < ps->p; q++) json_put_text(ps, *q);
    n->str_len = ps->ntext - n->str_off;
    return;
bad:
    ps->failed = 1;
}

static int json_literal(json_parser *ps, const char *word, uint32_t len) {
    if ((uint32_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0) return 0;
    ps->p += len;
    return 1;
}

/* Parses one value; returns its node (0 on error, with ps->failed set). */
static uint32_t json_parse_value(json_parser *ps, int depth) {
    json_skip_ws(ps);
    if (ps->p >= ps->end || depth > JSON_MAX_DEPTH) {
        ps->failed = 1;
        return 0;
    }
    char c = *ps->p;
    uint32_t id;
    if (c == '{' || c == '[') {
        int is_obj = c == '{';
        id = json_new_node(ps, is_obj ? JT_OBJECT : JT_ARRAY);
        ps->p++;
        json_skip_ws(ps);
        if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) {
            ps->p++;
            return id;
        }
        uint32_t last = 0;
        while (!ps->failed) {
            uint32_t koff = 0, klen = 0;
            if (is_obj) {
                json_skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"') break;
                ps->p++;
                json_parse_string(ps, &koff, &klen);
                json_skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') break;
                ps->p++;
            }
            uint32_t v = json_parse_value(ps, depth + 1);
            if (ps->failed) return 0;
            json_nodes[v].key_off = koff;
            json_nodes[v].key_len = klen;
            if (last) json_nodes[last].next = v;
            else json_nodes[id].child = v;
            last = v;
            json_skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) {
                ps->p++;
                return id;
            }
            break;
        }
        ps->failed = 1;
        return 0;
    }
    if (c == '"') {
        id = json_new_node(ps, JT_STRING);
        ps->p++;
        json_parse_string(ps, &json_nodes[id].str_off, &json_nodes[id].str_len);
    } else if (c == '-' || json_is_digit(c)) {
        id = json_new_node(ps, JT_NUMBER);
        json_parse_number(ps, &json_nodes[id]);
    } else if (json_literal(ps, "true", 4)) {
        id = json_new_node(ps, JT_TRUE);
    } else if (json_literal(ps, "false", 5)) {
        id = json_new_node(ps, JT_FALSE);
    } else if (json_literal(ps, "null", 4)) {
        id = json_new_node(ps, JT_NULL);
    } else {
        ps->failed = 1;
        return 0;
    }
    return ps->failed ? 0 : id;
}

/* Parses a whole document into the arenas (reset first); returns the root
 * node, or 0 if the text is not exactly one valid JSON value. */
static uint32_t json_parse(const char *s, uint32_t len) {
    json_parser ps = {s, s + len, 1, 0, 0};
    uint32_t root = json_parse_value(&ps, 0);
    json_skip_ws(&ps);
    if (ps.failed || ps.p != ps.end) return 0;
    return root;
}

typedef struct {
    char *buf;
    uint32_t len;
    int failed;
} json_out;

static void json_emit(json_out *o, const char *s, uint32_t n) {
    if (o->len + n > JSON_MAX_OUT) {
        o->failed = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void json_emit_string(json_out *o, const char *s, uint32_t n) {
    static const char hex[] = "0123456789abcdef";
    json_emit(o, "\"", 1);
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        switch (c) {
        case '"': esc[1] = '"'; json_emit(o, esc, 2); break;
        case '\\': esc[1] = '\\'; json_emit(o, esc, 2); break;
        case '\n': esc[1] = 'n'; json_emit(o, esc, 2); break;
        case '\r': esc[1] = 'r'; json_emit(o, esc, 2); break;
        case '\t': esc[1] = 't'; json_emit(o, esc, 2); break;
        default:
            if (c < 0x20) {
                esc[1] = 'u';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                json_emit(o, esc, 6);
            } else {
                json_emit(o, (const char *)&s[i], 1);
            }
        }
    }
    json_emit(o, "\"", 1);
}

/* Compact serialization of node `id` and its subtree. */
static void json_serialize(json_out *o, uint32_t id) {
    const json_node *n = &json_nodes[id];
    switch (n->type) {
    case JT_NULL: json_emit(o, "null", 4); break;
    case JT_FALSE: json_emit(o, "false", 5); break;
    case JT_TRUE: json_emit(o, "true", 4); break;
    case JT_NUMBER: json_emit(o, json_text + n->str_off, n->str_len); break;
    case JT_STRING: json_emit_string(o, json_text + n->str_off, n->str_len); break;
    default: {
        int is_obj = n->type == JT_OBJECT;
        json_emit(o, is_obj ? "{" : "[", 1);
        for (uint32_t c = n->child; c; c = json_nodes[c].next) {
            if (c != n->child) json_emit(o, ",", 1);
            if (is_obj) {
                json_emit_string(o, json_text + json_nodes[c].key_off, json_nodes[c].key_len);
                json_emit(o, ":", 1);
            }
            json_serialize(o, c);
        }
        json_emit(o, is_obj ? "}" : "]", 1);
    }
    }
}

/* The member `key` of object node `obj`, or 0. */
static uint32_t json_get(uint32_t obj, const char *key) {
    uint32_t klen = 0;
    while (key[klen]) klen++;
    for (uint32_t c = json_nodes[obj].child; c; c = json_nodes[c].next)
        if (json_nodes[c].key_len == klen && memcmp(json_text + json_nodes[c].key_off, key, klen) == 0) return c;
    return 0;
}

static char json_out_a[JSON_MAX_OUT], json_out_b[JSON_MAX_OUT];

/* Parses `in` and serializes it into `buf`; returns the length, 0 on error.
 * Also folds what a gateway would look at (model name, message count, total
 * content bytes) into *h. */
static uint32_t json_roundtrip(const char *in, uint32_t len, char *buf, uint64_t *h) {
    uint32_t root = json_parse(in, len);
    if (!root) return 0;
    uint32_t model = json_get(root, "model");
    uint32_t msgs = json_get(root, "messages");
    uint64_t nmsg = 0, content = 0;
    if (model) *h = rt_fnv1a(*h, json_text + json_nodes[model].str_off, json_nodes[model].str_len);
    if (msgs)
        for (uint32_t m = json_nodes[msgs].child; m; m = json_nodes[m].next) {
            uint32_t c = json_get(m, "content");
            nmsg++;
            if (c && json_nodes[c].type == JT_STRING) content += json_nodes[c].str_len;
        }
    *h = (*h ^ (nmsg << 32 | content)) * 0x100000001b3ull;
    json_out o = {buf, 0, 0};
    json_serialize(&o, root);
    return o.failed ? 0 : o.len;
}

long long bench(void) {
    const int iters = BENCH_SIZE(3000, 500);
    uint64_t h = RT_FNV_INIT;
    for (int i = 0; i < iters; i++) {
        uint32_t n = json_roundtrip(json_input, sizeof json_input - 1, json_out_a, &h);
        if (!n) return -1;
        h = rt_fnv1a(h ^ (uint64_t)i, json_out_a, n);
        /* Once, check that the output is a fixed point: parsing what we
         * wrote and writing it again gives the very same bytes. */
        if (i == 0) {
            uint64_t unused = 0;
            uint32_t n2 = json_roundtrip(json_out_a, n, json_out_b, &unused);
            if (n2 != n || memcmp(json_out_a, json_out_b, n) != 0) return -2;
        }
    }
    return rt_result(h);
}
