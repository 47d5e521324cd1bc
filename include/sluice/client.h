/*
 * sluice/client.h - Sluice's provider layer as an in-process C library
 * (libsluice.a / libsluice.so): chat completions from OpenAI, Anthropic or
 * any OpenAI-compatible server, streamed or not, over HTTP or HTTPS, without
 * running the gateway. See docs/client.md.
 *
 * Prefix: sluice_client_. It is the gateway's own code underneath: the same
 * request translation (Anthropic's Messages API both ways), SSE parser,
 * retries with backoff, key redaction in messages, and libcurl client (TLS
 * peers always verified).
 *
 * Threads: a client is used by one thread at a time (it owns a private event
 * loop and connection pool, driven only inside its calls). Different clients
 * are independent and may run on different threads at once. Calls block the
 * calling thread until the answer is complete; callbacks run on that thread,
 * inside the call.
 *
 * Signals: like libcurl with CURLOPT_NOSIGNAL, the library installs no signal
 * handler; a program should ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)).
 */
#ifndef SLUICE_CLIENT_H
#define SLUICE_CLIENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sluice_client sluice_client;

typedef struct sluice_client_options {
    /* "openai", "anthropic", or "custom" (an OpenAI-compatible server at
     * base_url: vLLM, Ollama, Groq, ...). Required. */
    const char *provider;
    /* Default: https://api.openai.com or https://api.anthropic.com; required
     * for "custom". A trailing "/v1" is accepted. */
    const char *base_url;
    const char *model;       /* model for calls that do not name one; may be NULL */
    const char *api_key;     /* NULL or "" = none sent (a local server) */
    /* Extra trust for HTTPS: a PEM CA bundle file, or PEM text (wins over
     * ca_file). Both NULL = the system store. Read at creation. */
    const char *ca_file;
    const char *ca_pem;
    long timeout_s;          /* whole non-streaming call; 0 = 30 (connecting: 10 s, fixed) */
    long stream_idle_timeout_s; /* a stream silent this long fails; 0 = 60 */
    int max_retries;         /* 5xx and network failures before any text arrived; default 0, max 10 */
    const char *const *extra_headers; /* "Name: value" lines sent on every request */
    size_t n_extra_headers;
} sluice_client_options;

/* One chat message. `content` is plain text. */
typedef struct sluice_message {
    const char *role;        /* "system", "user", "assistant" (Anthropic: system is lifted) */
    const char *content;
} sluice_message;

/* Why a call failed. `status` is the HTTP status the gateway would answer:
 * the upstream's own 4xx (400, 401, 403, 404, 429), 502 for an upstream 5xx,
 * a refused connection, a TLS failure or a broken stream, 504 for a timeout;
 * 400 for bad arguments and 499 when the chunk callback asked to stop.
 * `message` is one human-readable line that never contains the API key
 * (an upstream's own status and message are quoted in it). */
typedef struct sluice_error {
    int status;
    char type[64];           /* OpenAI error type, e.g. "authentication_error", "server_error" */
    char code[64];           /* OpenAI error code or "" */
    char message[1024];
} sluice_error;

/* Receives each piece of text as it arrives (not NUL-terminated, valid
 * during the call only). Return 0 to go on, non-zero to stop: the transfer
 * is cancelled and the call fails with status 499. */
typedef int (*sluice_chunk_fn)(void *user, const char *text, size_t len);

/* Receives each raw OpenAI chat.completion.chunk (JSON text, valid during
 * the call only), whichever provider answers. Return as sluice_chunk_fn. */
typedef int (*sluice_json_chunk_fn)(void *user, const char *json, size_t len);

/* Creates a client. NULL on failure, with the reason in *err (if err is not
 * NULL): unknown provider, missing base_url, unreadable ca_file, bad URL.
 * Free with sluice_client_free. */
sluice_client *sluice_client_new(const sluice_client_options *opt, sluice_error *err);

/* Closes the client's connections and frees it. NULL is a no-op. Not from
 * inside one of its own callbacks. */
void sluice_client_free(sluice_client *c);

/* Streams a completion of msgs[0..n) with the client's model: on_chunk (may
 * be NULL) gets each text delta in order. Returns the whole text, NUL-
 * terminated, owned by the caller (free with sluice_free), or NULL with the
 * reason in *err. A failure after some text was delivered also returns NULL
 * (the text already delivered stays delivered; nothing is retried then). */
char *sluice_client_stream_completion(sluice_client *c, const sluice_message *msgs, size_t n,
                                      sluice_chunk_fn on_chunk, void *user, sluice_error *err);

/* The same without streaming (one upstream response, then the text).
 * Returns the text (caller frees with sluice_free) or NULL and *err. An
 * answer made only of tool calls gives "" (use sluice_client_chat_json). */
char *sluice_client_completion(sluice_client *c, const sluice_message *msgs, size_t n, sluice_error *err);

/* Raw variant: `request` is an OpenAI chat request body (JSON text: tools,
 * images, temperature... anything the gateway accepts); "model" may be left
 * out to use the client's. With "stream": true each chunk goes to on_chunk
 * (may be NULL) and the function returns the concatenated text of the
 * deltas; otherwise it returns the whole OpenAI chat.completion JSON (for an
 * Anthropic provider, translated). Caller frees with sluice_free; NULL and
 * *err on failure. */
char *sluice_client_chat_json(sluice_client *c, const char *request, size_t len, sluice_json_chunk_fn on_chunk,
                              void *user, sluice_error *err);

/* Frees memory returned by this library. NULL is a no-op. */
void sluice_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_CLIENT_H */
