/*
 * mock.h - sluice-mockllm, a mock OpenAI / Anthropic upstream for tests and
 * benchmarks, with fault injection driven by request headers.
 *
 * Layout:
 *   mock_main.c       options, listeners (SO_REUSEPORT), worker threads, signals
 *   mock_server.c     connections: HTTP/1.1 parsing, keep-alive, pipelining,
 *                     writes with backpressure, timers, executing a mock_reply
 *   mock_http.c       request parsing helpers (picohttpparser, chunked bodies)
 *                     and response heads
 *   mock_route.c      routing, /health, /v1/models, /mock/last, /mock/stats
 *   mock_faults.c     x-mock-* headers, fault injection, the fail-times table
 *   mock_chat.c       the chat reply common to both APIs: reply content,
 *                     token counts, stream stepping
 *   mock_openai.c     OpenAI chat.completion / chat.completion.chunk shapes
 *   mock_anthropic.c  Anthropic message / event-stream shapes
 *
 * Threading: every worker thread owns one libuv loop, one listener and its
 * connections; nothing of a connection is shared. The only shared state is
 * the configuration (read-only after start-up), the per-worker counters (read
 * by /mock/stats with relaxed atomics), each worker's "last request" record
 * (its own mutex) and the fail-times table (one mutex).
 */
#ifndef SLUICE_MOCK_H
#define SLUICE_MOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sluice/json.h"

#define MOCK_VERSION "0.1.0"

/* Limits on hostile input. */
#define MOCK_MAX_HEAD     (64 * 1024)   /* request line + headers */
#define MOCK_MAX_HEADERS  100
#define MOCK_MAX_WORDS    1000000       /* x-mock-words */
#define MOCK_MAX_DELAY_MS 600000        /* latency / chunk delay: 10 minutes */
#define MOCK_DRIP_MS      50            /* the drip fault: one byte per 50 ms */
#define MOCK_HUGE_BLOCK   (64 * 1024)   /* the huge fault: 512 blocks of 64 KiB */
#define MOCK_HUGE_BLOCKS  512

#include "http/picohttp.h"   /* phr_parse_request (inside libh2o) */

/* ---- configuration (set once in main, read-only afterwards) -------------- */

typedef struct mock_config {
    unsigned latency_ms;     /* --latency-ms */
    unsigned chunk_delay_ms; /* --chunk-delay-ms */
    unsigned workers;        /* --workers */
    size_t max_body;         /* --max-body-bytes: larger requests get 413 */
} mock_config;

extern mock_config mock_cfg;

/* ---- statistics ---------------------------------------------------------- */

/* Paths counted separately by /mock/stats; the rest go to "other". */
typedef enum mock_path {
    MOCK_PATH_CHAT,     /* /v1/chat/completions */
    MOCK_PATH_MESSAGES, /* /v1/messages */
    MOCK_PATH_MODELS,   /* /v1/models */
    MOCK_PATH_HEALTH,   /* /health */
    MOCK_PATH_MOCK,     /* /mock/... */
    MOCK_PATH_OTHER,
    MOCK_PATH_COUNT
} mock_path;

/* Per-worker counters: written by the owning worker only, summed by whichever
 * worker serves /mock/stats (hence atomics, relaxed: counters, not sync). */
typedef struct mock_stats {
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t per_path[MOCK_PATH_COUNT];
    atomic_uint_fast64_t accepted;
    atomic_uint_fast64_t closed;
} mock_stats;

/* ---- workers ------------------------------------------------------------- */

typedef struct mock_conn mock_conn;

typedef struct mock_worker {
    int index;
    int listen_fd; /* created by main, adopted by the worker's loop */
    pthread_t thread;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stop; /* main asks the worker to shut down */
    bool stopping;
    mock_conn *conns; /* open connections (for shutdown) */
    uint64_t next_id; /* for response ids */
    /* Scratch buffers, reused request after request (one thread: no races). */
    char readbuf[64 * 1024]; /* every read lands here first */
    sj_buf body;             /* a response body being composed */
    sj_buf event;            /* one stream step being composed */
    sj_buf reqbody;          /* a decoded chunked request body */
    mock_stats stats;
    /* The last chat request this worker saw, as /mock/last's JSON. */
    pthread_mutex_t last_lock;
    uint64_t last_seq; /* global order (mock_last_seq), 0 = none */
    sj_buf last_json;
} mock_worker;

extern mock_worker *mock_workers; /* mock_cfg.workers of them */
extern atomic_uint_fast64_t mock_last_seq;

/* ---- a parsed request ---------------------------------------------------- */

/* Everything points into the connection's input (or the worker's reqbody)
 * and is valid only while the request is being routed. */
typedef struct mock_req {
    const char *method;
    size_t method_len;
    const char *target; /* as received, query included */
    size_t target_len;
    const char *path; /* target without the query */
    size_t path_len;
    int minor_version;
    const struct phr_header *headers;
    size_t num_headers;
    const char *body;
    size_t body_len;
    bool keep_alive;
} mock_req;

/* The value of header `name` (lowercase ASCII; matched case-insensitively),
 * or NULL. With several, the first. */
const char *mock_req_header(const mock_req *req, const char *name, size_t *len);
bool mock_req_is(const mock_req *req, const char *method, const char *path);

/* ---- replies ------------------------------------------------------------- */

/* What happens to the connection once a reply has been written. */
typedef enum mock_end {
    MOCK_END_KEEP,  /* keep-alive: next request */
    MOCK_END_CLOSE, /* graceful close */
    MOCK_END_RESET, /* close with RST (SO_LINGER 0) */
    MOCK_END_STALL, /* never answer again; close when the client does */
} mock_end;

typedef enum mock_proto { MOCK_PROTO_OPENAI, MOCK_PROTO_ANTHROPIC } mock_proto;

/* Where the reply's text comes from. */
typedef enum mock_src {
    MOCK_SRC_TEXT,  /* "echo: <last user message>" */
    MOCK_SRC_WORDS, /* x-mock-words N generated words */
    MOCK_SRC_HUGE,  /* the huge fault: 32 MiB of letters in 64 KiB pieces */
} mock_src;

/* A reply's content, consumed piece by piece (one piece per stream chunk). */
typedef struct mock_content {
    mock_src src;
    char *text; /* MOCK_SRC_TEXT: owned copy, freed by mock_reply_reset */
    size_t text_len;
    size_t pieces; /* number of pieces = completion tokens */
    size_t next;   /* index of the next piece */
    size_t pos;    /* MOCK_SRC_TEXT: byte offset of the next piece */
} mock_content;

/* A streamed chat reply: everything needed to produce its events later, with
 * owned copies (the request is gone by then). */
typedef struct mock_stream {
    mock_proto proto;
    mock_content content;
    bool include_usage;  /* OpenAI stream_options.include_usage */
    bool garbage;        /* the malformed-sse fault */
    bool tool;           /* x-mock-tool-call: the content is the tool's
                            arguments (JSON), streamed in pieces */
    sj_buf tool_json;    /* the tool's name as a JSON string (quoted) */
    size_t prompt_tokens;
    sj_buf prefix;       /* OpenAI: the constant start of every chunk's JSON;
                            Anthropic: the message id, model as JSON */
    sj_buf model_json;   /* the model as a JSON string (quoted) */
    char id[48];
    int64_t created;
} mock_stream;

/* One reply being executed on a connection. Reused from request to request
 * (buffers keep their capacity unless large). */
typedef struct mock_reply {
    bool active;
    bool is_stream;
    mock_end end;
    unsigned latency_ms;     /* before the first byte */
    unsigned chunk_delay_ms; /* between stream steps */
    /* A fixed reply: the whole response (head + body) in `fixed`. */
    sj_buf fixed;
    size_t off;       /* bytes of `fixed` already queued */
    size_t drip_from; /* drip fault: body starts here; SIZE_MAX: no drip */
    size_t cut_at;    /* mid-stream faults: send only this much; SIZE_MAX: all */
    /* A streamed reply. */
    mock_stream st;
    bool chunked;     /* HTTP/1.1 chunked framing (else raw body, close) */
    bool head_sent;
    size_t step;       /* steps sent so far */
    size_t stop_after; /* mid-stream faults: stop after this many steps */
    /* Execution state (mock_server.c). */
    bool latency_done;
    bool delay_done;
} mock_reply;

/* Frees what the reply owns beyond its reusable buffers and marks it idle.
 * Large buffers are released so that a huge reply does not pin memory. */
void mock_reply_reset(mock_reply *r);
void mock_reply_free(mock_reply *r); /* everything, for connection close */

/* Composes a complete fixed reply: head with Content-Length, then body.
 * `extra` holds additional header lines ("Name: value\r\n"...) or NULL. */
void mock_reply_fixed(mock_reply *r, int status, const char *ctype, const char *extra,
                      const char *body, size_t body_len);

/* Writes an HTTP/1.1 response head. content_len < 0: chunked (when `chunked`)
 * or no length (close-delimited). */
void mock_http_head(sj_buf *out, int status, const char *ctype, const char *extra,
                    long long content_len, bool chunked, bool close);

/* ---- request parsing (mock_http.c) --------------------------------------- */

typedef enum mock_parse_result {
    MOCK_PARSE_OK,
    MOCK_PARSE_MORE,  /* incomplete; *need (if non-zero) is the total needed */
    MOCK_PARSE_ERROR, /* *status and *why tell what to answer, then close */
} mock_parse_result;

typedef struct mock_parse_out {
    size_t total;          /* bytes of the request (MOCK_PARSE_OK), or needed */
    bool expect_continue;  /* MORE with headers complete and Expect: 100-continue */
    bool head_done;        /* MORE: headers complete */
    int status;            /* MOCK_PARSE_ERROR */
    const char *why;       /* MOCK_PARSE_ERROR: static message */
} mock_parse_out;

/* Parses one request at buf[0..len). Headers go into `hdrs` (MOCK_MAX_HEADERS),
 * a chunked body is decoded into `chunk_body`. */
mock_parse_result mock_parse_request(const char *buf, size_t len, mock_req *req,
                                     struct phr_header *hdrs, sj_buf *chunk_body,
                                     mock_parse_out *out);

/* ---- routing, faults, chat ----------------------------------------------- */

/* Handles one request: fills `r` (which the server then executes). */
void mock_route(mock_worker *w, const mock_req *req, mock_reply *r);

typedef enum mock_fault {
    MOCK_FAULT_NONE = 0,
    MOCK_FAULT_500,
    MOCK_FAULT_429,
    MOCK_FAULT_401,
    MOCK_FAULT_400,
    MOCK_FAULT_503,
    MOCK_FAULT_RESET_BEFORE_HEADERS,
    MOCK_FAULT_RESET_MID_STREAM,
    MOCK_FAULT_STALL,
    MOCK_FAULT_STALL_MID_STREAM,
    MOCK_FAULT_MALFORMED_JSON,
    MOCK_FAULT_MALFORMED_SSE,
    MOCK_FAULT_HUGE,
    MOCK_FAULT_DRIP,
    MOCK_FAULT_EMPTY,
    MOCK_FAULT_401_ECHO_KEY,
} mock_fault;

/* Per-request settings read from x-mock-* headers. */
typedef struct mock_opts {
    mock_fault fault;   /* after the fail-times rule */
    unsigned latency_ms;
    unsigned chunk_delay_ms;
    size_t words;       /* x-mock-words; 0 = echo */
    const char *tool;   /* x-mock-tool-call: reply with a call to this tool */
    size_t tool_len;
} mock_opts;

/* Reads the x-mock-* headers. false with *why (static) on a bad value. */
bool mock_opts_read(const mock_req *req, mock_opts *o, const char **why);
/* Clears the fail-times table. */
void mock_faults_reset(void);
void mock_faults_free(void);

/* Answers an error in the API's shape (OpenAI or Anthropic). */
void mock_error(mock_reply *r, mock_proto proto, int status, const char *type,
                const char *message);
/* Answers a status fault (500, 429, ...) in the API's shape. */
void mock_fault_status(mock_reply *r, mock_proto proto, mock_fault f);
bool mock_fault_is_status(mock_fault f);
/* Applies the body faults (empty, malformed-json, drip, mid-stream) to a
 * successful fixed reply and composes it. */
void mock_respond_ok(mock_reply *r, mock_fault f, const char *ctype, const char *body,
                     size_t len);

/* The chat endpoints. */
void mock_chat(mock_worker *w, const mock_req *req, mock_proto proto, const mock_opts *o,
               mock_reply *r);
/* Records req (and its body, raw, valid JSON or not) as /mock/last. */
void mock_last_record(mock_worker *w, const mock_req *req, bool body_is_json);

/* Content pieces. */
void mock_content_init_text(mock_content *c, char *owned_text, size_t len);
void mock_content_init_words(mock_content *c, size_t n);
void mock_content_init_huge(mock_content *c);
/* The next piece, or false at the end. *p may point into `scratch` (32 bytes)
 * or static storage. */
bool mock_content_next(mock_content *c, const char **p, size_t *len, char scratch[32]);
/* The whole content as a quoted JSON string. */
void mock_content_json(const mock_content *c, sj_buf *out);
void mock_huge_init(void);

/* Stream stepping: writes the next step (head first, HTTP chunk framing) of r
 * onto out. */
typedef enum mock_step_result {
    MOCK_STEP_MORE,  /* more steps follow */
    MOCK_STEP_DONE,  /* the stream's end was written */
    MOCK_STEP_FAULT, /* mid-stream fault point reached: nothing written */
} mock_step_result;
mock_step_result mock_stream_step(mock_worker *w, mock_reply *r, sj_buf *out);
/* true if the next step is the mid-stream fault point. */
bool mock_stream_at_fault(const mock_reply *r);

/* API shapes (mock_openai.c, mock_anthropic.c). */
void mock_openai_body(const mock_stream *st, sj_buf *out);
void mock_openai_stream_setup(mock_stream *st);
void mock_openai_piece(const mock_stream *st, const char *p, size_t len, bool first,
                       sj_buf *out);
void mock_openai_tail(const mock_stream *st, sj_buf *out);
void mock_openai_garbage(const mock_stream *st, sj_buf *out);

void mock_anthropic_body(const mock_stream *st, sj_buf *out);
void mock_anthropic_preamble(const mock_stream *st, sj_buf *out);
void mock_anthropic_piece(const mock_stream *st, const char *p, size_t len, sj_buf *out);
void mock_anthropic_tail(const mock_stream *st, sj_buf *out);
void mock_anthropic_garbage(const mock_stream *st, sj_buf *out);

/* ---- server (mock_server.c) ---------------------------------------------- */

/* Sets up w's loop, listener (adopting w->listen_fd) and stop handle; 0 or a
 * libuv error. Called before the thread starts. */
int mock_worker_init(mock_worker *w);
/* Runs worker w's loop until w->stop is signalled; the thread entry point. */
void *mock_worker_main(void *arg);

#endif /* SLUICE_MOCK_H */
