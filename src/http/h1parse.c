/*
 * h1parse.c - chunked transfer decoding for the native upstream client (see
 * h1parse.h). A byte-at-a-time state machine except inside chunk data, which
 * is handed out as one span: bodies of LLM answers are mostly data, so the
 * per-byte part only sees the few bytes of framing around each chunk.
 */
#include "http/h1parse.h"

enum {
    C_SIZE0,   /* first hex digit of a chunk size */
    C_SIZE,    /* more hex digits, or the end of the number */
    C_EXT,     /* chunk extension: skipped up to the end of the line */
    C_SIZE_LF, /* CR seen after the size line */
    C_DATA,
    C_DATA_CR, /* CRLF after chunk data */
    C_DATA_LF,
    C_TR_BOL,  /* beginning of a trailer line (or of the final empty line) */
    C_TR_LINE,
    C_END_LF,  /* CR of the final empty line seen */
};

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

h1_chunk_rc h1_chunk_step(h1_chunker *c, const char *in, size_t len, size_t *used, const char **data,
                          size_t *dlen) {
    size_t i = 0;
    while (i < len) {
        if (c->state == C_DATA) {
            size_t n = len - i;
            if (n > c->left) n = (size_t)c->left;
            *data = in + i;
            *dlen = n;
            c->left -= n;
            if (c->left == 0) c->state = C_DATA_CR;
            *used = i + n;
            return H1C_DATA;
        }
        char ch = in[i++];
        switch (c->state) {
        case C_SIZE0:
        case C_SIZE: {
            int d = hexval(ch);
            if (d >= 0) {
                /* 15 hex digits: sizes up to 2^60, far beyond any body we accept. */
                if (++c->line > 15) return H1C_ERROR;
                c->left = c->left * 16 + (uint64_t)d;
                c->state = C_SIZE;
                break;
            }
            if (c->state == C_SIZE0) return H1C_ERROR;
            if (ch == ';' || ch == ' ' || ch == '\t') c->state = C_EXT;
            else if (ch == '\r') c->state = C_SIZE_LF;
            else if (ch == '\n') goto size_done;
            else return H1C_ERROR;
            break;
        }
        case C_EXT:
            if (++c->line > H1_CHUNK_LINE_MAX) return H1C_ERROR;
            if (ch == '\r') c->state = C_SIZE_LF;
            else if (ch == '\n') goto size_done;
            break;
        case C_SIZE_LF:
            if (ch != '\n') return H1C_ERROR;
        size_done:
            c->line = 0;
            c->state = c->left == 0 ? C_TR_BOL : C_DATA;
            break;
        case C_DATA_CR:
            if (ch == '\r') c->state = C_DATA_LF;
            else if (ch == '\n') c->state = C_SIZE0;
            else return H1C_ERROR;
            break;
        case C_DATA_LF:
            if (ch != '\n') return H1C_ERROR;
            c->state = C_SIZE0;
            break;
        case C_TR_BOL:
            if (ch == '\r') { c->state = C_END_LF; break; }
            if (ch == '\n') { *used = i; return H1C_DONE; }
            c->state = C_TR_LINE;
            /* fall through */
        case C_TR_LINE:
            if (++c->line > H1_TRAILERS_MAX) return H1C_ERROR;
            if (ch == '\n') c->state = C_TR_BOL;
            break;
        case C_END_LF:
            if (ch != '\n') return H1C_ERROR;
            *used = i;
            return H1C_DONE;
        default:
            return H1C_ERROR;
        }
    }
    *used = len;
    return H1C_MORE;
}
