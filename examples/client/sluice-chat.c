/*
 * sluice-chat - streams one chat completion to stdout with libsluice
 * (include/sluice/client.h). See examples/client/README.md.
 *
 *   sluice-chat --provider anthropic --model claude-3-5-haiku-latest "Say hi"
 *   sluice-chat --base-url http://127.0.0.1:11434 --model llama3 "Say hi"
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/client.h"

#define MAX_PROMPT (1u << 20)
#define MAX_HEADERS 16

static void usage(FILE *f)
{
    fputs("usage: sluice-chat [options] [PROMPT...]   (no PROMPT: read it from stdin)\n"
          "  --provider openai|anthropic|custom  default: custom with --base-url, else openai\n"
          "  --base-url URL        an OpenAI-compatible server (or the provider's own URL)\n"
          "  --model NAME          model to ask\n"
          "  --api-key KEY         default: $SLUICE_API_KEY, else $OPENAI_API_KEY / $ANTHROPIC_API_KEY\n"
          "  --system TEXT         a system message first\n"
          "  --ca-file FILE        PEM CA bundle to trust for HTTPS (besides nothing else)\n"
          "  --header 'N: v'       extra request header (repeatable)\n"
          "  --timeout SECONDS     for --no-stream; also the stream idle timeout\n"
          "  --no-stream           one response instead of a stream\n",
          f);
}

/* Prints each piece as it arrives: that is the point of streaming. */
static int on_chunk(void *user, const char *text, size_t len)
{
    (*(size_t *)user)++;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

/* The prompt from the arguments (joined by spaces) or from stdin; malloc'd. */
static char *read_prompt(int argc, char **argv, int i)
{
    char *p = calloc(1, MAX_PROMPT + 1);
    if (p == NULL)
        return NULL;
    size_t n = 0;
    if (i >= argc) {
        n = fread(p, 1, MAX_PROMPT, stdin);
    } else {
        for (; i < argc; i++) {
            size_t l = strlen(argv[i]);
            if (n + l + 1 > MAX_PROMPT)
                break;
            if (n)
                p[n++] = ' ';
            memcpy(p + n, argv[i], l);
            n += l;
        }
    }
    p[n] = '\0';
    return p;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* the library installs no signal handler */
    sluice_client_options o = {0};
    const char *system = NULL, *headers[MAX_HEADERS];
    int stream = 1, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--no-stream") == 0) {
            stream = 0;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "sluice-chat: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--provider") == 0)
            o.provider = v;
        else if (strcmp(a, "--base-url") == 0)
            o.base_url = v;
        else if (strcmp(a, "--model") == 0)
            o.model = v;
        else if (strcmp(a, "--api-key") == 0)
            o.api_key = v;
        else if (strcmp(a, "--system") == 0)
            system = v;
        else if (strcmp(a, "--ca-file") == 0)
            o.ca_file = v;
        else if (strcmp(a, "--timeout") == 0)
            o.timeout_s = o.stream_idle_timeout_s = atol(v);
        else if (strcmp(a, "--header") == 0 && o.n_extra_headers < MAX_HEADERS)
            headers[o.n_extra_headers++] = v;
        else {
            usage(stderr);
            return 2;
        }
    }
    o.extra_headers = headers;
    if (o.provider == NULL)
        o.provider = o.base_url ? "custom" : "openai";
    if (o.api_key == NULL)
        o.api_key = getenv("SLUICE_API_KEY");
    if (o.api_key == NULL)
        o.api_key = getenv(strcmp(o.provider, "anthropic") == 0 ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");

    sluice_error err;
    sluice_client *c = sluice_client_new(&o, &err);
    if (c == NULL) {
        fprintf(stderr, "sluice-chat: %s\n", err.message);
        return 2;
    }
    char *prompt = read_prompt(argc, argv, i);
    sluice_message msgs[2];
    size_t n = 0;
    if (system)
        msgs[n++] = (sluice_message){"system", system};
    msgs[n++] = (sluice_message){"user", prompt ? prompt : ""};
    size_t pieces = 0;
    char *text = stream ? sluice_client_stream_completion(c, msgs, n, on_chunk, &pieces, &err)
                        : sluice_client_completion(c, msgs, n, &err);
    int rc = 0;
    if (text == NULL) {
        if (pieces)
            putchar('\n');
        fprintf(stderr, "sluice-chat: error %d (%s): %s\n", err.status, err.type, err.message);
        rc = 1;
    } else {
        if (!stream)
            fputs(text, stdout);
        putchar('\n');
    }
    sluice_free(text);
    free(prompt);
    sluice_client_free(c);
    return rc;
}
