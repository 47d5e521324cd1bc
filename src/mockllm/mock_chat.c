/*
 * mock_chat.c - the chat reply shared by the OpenAI and Anthropic endpoints:
 * request validation, the reply's content (echo, generated words or the huge
 * fault) cut into pieces, token counts, and stepping a streamed reply.
 *
 * Pieces: the text is split before every space that follows a non-space, so
 * "echo: a  b" gives "echo:", " a", "  b". Concatenating the pieces gives the
 * text back exactly; their number is the completion token count.
 */
#include "mockllm/mock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- content ------------------------------------------------------------- */

static char huge_block[MOCK_HUGE_BLOCK];

void mock_huge_init(void) {
    for (size_t i = 0; i < sizeof huge_block; i++) huge_block[i] = (char)('a' + i % 26);
}

static const char *const vocab[] = {
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit",
    "sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore", "magna",
};
#define VOCAB_N (sizeof vocab / sizeof vocab[0])

/* End of the piece starting at text[pos]: leading spaces, then non-spaces. */
static size_t piece_end(const char *t, size_t len, size_t pos) {
    while (pos < len && t[pos] == ' ') pos++;
    while (pos < len && t[pos] != ' ') pos++;
    return pos;
}

void mock_content_init_text(mock_content *c, char *owned_text, size_t len) {
    memset(c, 0, sizeof *c);
    c->src = MOCK_SRC_TEXT;
    c->text = owned_text;
    c->text_len = len;
    for (size_t pos = 0; pos < len; pos = piece_end(owned_text, len, pos)) c->pieces++;
}

void mock_content_init_words(mock_content *c, size_t n) {
    memset(c, 0, sizeof *c);
    c->src = MOCK_SRC_WORDS;
    c->pieces = n;
}

void mock_content_init_huge(mock_content *c) {
    memset(c, 0, sizeof *c);
    c->src = MOCK_SRC_HUGE;
    c->pieces = MOCK_HUGE_BLOCKS;
}

bool mock_content_next(mock_content *c, const char **p, size_t *len, char scratch[32]) {
    if (c->next >= c->pieces) return false;
    switch (c->src) {
    case MOCK_SRC_TEXT: {
        size_t end = piece_end(c->text, c->text_len, c->pos);
        *p = c->text + c->pos;
        *len = end - c->pos;
        c->pos = end;
        break;
    }
    case MOCK_SRC_WORDS: {
        int n = snprintf(scratch, 32, "%s%s", c->next ? " " : "", vocab[c->next % VOCAB_N]);
        *p = scratch;
        *len = (size_t)n;
        break;
    }
    case MOCK_SRC_HUGE:
        *p = huge_block;
        *len = sizeof huge_block;
        break;
    }
    c->next++;
    return true;
}

void mock_content_json(const mock_content *c, sj_buf *out) {
    if (c->src == MOCK_SRC_TEXT) {
        sj_buf_str(out, c->text, c->text_len);
        return;
    }
    /* Generated content is plain ASCII letters and spaces: no escaping. */
    mock_content it = *c;
    it.next = 0;
    char scratch[32];
    const char *p;
    size_t len;
    sj_buf_raw(out, "\"", 1);
    if (c->src == MOCK_SRC_HUGE) sj_buf_reserve(out, (size_t)MOCK_HUGE_BLOCK * MOCK_HUGE_BLOCKS + 1);
    while (mock_content_next(&it, &p, &len, scratch)) sj_buf_raw(out, p, len);
    sj_buf_raw(out, "\"", 1);
}

/* ---- reading the request ------------------------------------------------- */

/* Appends the text of a message's content (a string, or an array of parts of
 * which the {"type":"text","text":...} ones count) to out (may be NULL);
 * returns its length in bytes. */
static size_t content_text(const sj_val *content, sj_buf *out) {
    size_t n = 0, len;
    const char *s = sj_str(content, &len);
    if (s) {
        if (out) sj_buf_raw(out, s, len);
        return len;
    }
    for (sj_val *part = sj_is_array(content) ? sj_first(content) : NULL; part;
         part = sj_next(part)) {
        if (!sj_str_eq(sj_get(part, "type"), "text")) continue;
        s = sj_str(sj_get(part, "text"), &len);
        if (!s) continue;
        if (out) sj_buf_raw(out, s, len);
        n += len;
    }
    return n;
}

/* Validation failure: answers 400 (or what `status` says) in the API's shape. */
static bool reject(mock_reply *r, mock_proto proto, int status, const char *type,
                   const char *msg) {
    mock_error(r, proto, status, type, msg);
    return false;
}

/* Checks the request as the real API would; false after answering the error. */
static bool validate(const mock_req *req, mock_proto proto, const sj_doc *doc,
                     const sj_error *perr, mock_reply *r) {
    const char *bad = "invalid_request_error";
    char msg[160];
    if (proto == MOCK_PROTO_ANTHROPIC) {
        if (!mock_req_header(req, "x-api-key", NULL))
            return reject(r, proto, 401, "authentication_error", "x-api-key header is required");
        if (!mock_req_header(req, "anthropic-version", NULL))
            return reject(r, proto, 400, bad, "anthropic-version: header is required");
    }
    if (!doc) {
        snprintf(msg, sizeof msg, "We could not parse the JSON body of your request: %s at byte %zu",
                 perr->msg ? perr->msg : "invalid JSON", perr->offset);
        return reject(r, proto, 400, bad, msg);
    }
    const sj_val *root = sj_doc_root(doc);
    if (!sj_is_object(root)) return reject(r, proto, 400, bad, "the request body must be a JSON object");
    if (!sj_is_string(sj_get(root, "model")))
        return reject(r, proto, 400, bad, proto == MOCK_PROTO_ANTHROPIC ? "model: Field required"
                                                                     : "you must provide a model parameter");
    const sj_val *msgs = sj_get(root, "messages");
    if (!sj_is_array(msgs) || sj_len(msgs) == 0)
        return reject(r, proto, 400, bad,
                      proto == MOCK_PROTO_ANTHROPIC ? "messages: Field required"
                                                    : "'messages' is a required property");
    size_t i = 0;
    for (sj_val *m = sj_first(msgs); m; m = sj_next(m), i++) {
        const sj_val *role = sj_get(m, "role");
        if (!sj_is_object(m) || !sj_is_string(role)) {
            snprintf(msg, sizeof msg, "messages.%zu: each message needs a string 'role'", i);
            return reject(r, proto, 400, bad, msg);
        }
        /* Anthropic takes the system prompt at the top level only. */
        if (proto == MOCK_PROTO_ANTHROPIC && !sj_str_eq(role, "user") && !sj_str_eq(role, "assistant")) {
            snprintf(msg, sizeof msg, "messages.%zu.role: Input should be 'user' or 'assistant'", i);
            return reject(r, proto, 400, bad, msg);
        }
    }
    if (proto == MOCK_PROTO_ANTHROPIC && !sj_is_number(sj_get(root, "max_tokens")))
        return reject(r, proto, 400, bad, "max_tokens: Field required");
    return true;
}

/* ---- the chat endpoints -------------------------------------------------- */

void mock_chat(mock_worker *w, const mock_req *req, mock_proto proto, const mock_opts *o,
               mock_reply *r) {
    sj_error perr = {0};
    sj_doc *doc = sj_parse(req->body ? req->body : "", req->body_len, NULL, &perr);
    mock_last_record(w, req, doc != NULL);
    if (!validate(req, proto, doc, &perr, r)) {
        sj_doc_free(doc);
        return;
    }
    const sj_val *root = sj_doc_root(doc);
    const sj_val *msgs = sj_get(root, "messages");
    mock_stream *st = &r->st;
    st->proto = proto;

    /* Prompt size: every message's text (and Anthropic's system prompt). */
    size_t prompt_bytes = content_text(sj_get(root, "system"), NULL);
    const sj_val *last_user = NULL;
    for (sj_val *m = sj_first(msgs); m; m = sj_next(m)) {
        prompt_bytes += content_text(sj_get(m, "content"), NULL);
        if (sj_str_eq(sj_get(m, "role"), "user")) last_user = m;
    }
    st->prompt_tokens = prompt_bytes / 4 ? prompt_bytes / 4 : 1;

    if (o->fault == MOCK_FAULT_HUGE) {
        mock_content_init_huge(&st->content);
    } else if (o->words && !o->tool) {
        mock_content_init_words(&st->content, o->words);
    } else {
        sj_buf echo = {0};
        if (o->tool) {
            /* A tool call whose arguments carry the user's text:
             * {"text":"<last user message>"} */
            sj_buf user = {0};
            content_text(sj_get(last_user, "content"), &user);
            sj_buf_cstr(&echo, "{\"text\": ");
            sj_buf_str(&echo, user.data ? user.data : "", user.len);
            sj_buf_raw(&echo, "}", 1);
            echo.oom |= user.oom;
            sj_buf_free(&user);
            st->tool = true;
            st->tool_json.len = 0;
            sj_buf_str(&st->tool_json, o->tool, o->tool_len);
        } else {
            sj_buf_cstr(&echo, "echo: ");
            content_text(sj_get(last_user, "content"), &echo);
        }
        if (echo.oom) {
            sj_buf_free(&echo);
            sj_doc_free(doc);
            mock_error(r, proto, 500, "api_error", "out of memory");
            return;
        }
        mock_content_init_text(&st->content, echo.data, echo.len); /* takes echo.data */
    }

    size_t mlen;
    const char *model = sj_str(sj_get(root, "model"), &mlen);
    st->model_json.len = 0;
    sj_buf_str(&st->model_json, model, mlen);
    st->created = (int64_t)time(NULL);
    snprintf(st->id, sizeof st->id, "%s%d-%llu", proto == MOCK_PROTO_ANTHROPIC ? "msg_mock" : "chatcmpl-mock",
             w->index, (unsigned long long)++w->next_id);
    st->include_usage = sj_bool(sj_get(sj_get(root, "stream_options"), "include_usage"), false);
    bool stream = sj_bool(sj_get(root, "stream"), false);
    sj_doc_free(doc);

    st->garbage = o->fault == MOCK_FAULT_MALFORMED_SSE;
    if ((stream || st->garbage) && o->fault != MOCK_FAULT_MALFORMED_JSON) {
        if (proto == MOCK_PROTO_OPENAI) mock_openai_stream_setup(st);
        r->is_stream = true;
        /* HTTP/1.0 has no chunked encoding: the body ends with the connection. */
        r->chunked = req->minor_version >= 1;
        if (!r->chunked) r->end = MOCK_END_CLOSE;
        if (o->fault == MOCK_FAULT_RESET_MID_STREAM || o->fault == MOCK_FAULT_STALL_MID_STREAM) {
            r->stop_after = 2;
            r->end = o->fault == MOCK_FAULT_RESET_MID_STREAM ? MOCK_END_RESET : MOCK_END_STALL;
        }
        if (o->fault == MOCK_FAULT_DRIP || o->fault == MOCK_FAULT_EMPTY) {
            /* Render the whole event stream now, send it as a fixed body. */
            sj_buf *b = &w->body;
            b->len = 0;
            r->chunked = false;
            r->head_sent = true;
            if (o->fault == MOCK_FAULT_DRIP)
                while (mock_stream_step(w, r, b) == MOCK_STEP_MORE) {}
            r->is_stream = false;
            mock_respond_ok(r, o->fault, "text/event-stream", b->data ? b->data : "", b->len);
        }
        return;
    }
    sj_buf *b = &w->body;
    b->len = 0;
    if (proto == MOCK_PROTO_OPENAI) mock_openai_body(st, b);
    else mock_anthropic_body(st, b);
    if (b->oom) {
        mock_error(r, proto, 500, "api_error", "out of memory");
        return;
    }
    mock_respond_ok(r, o->fault, "application/json", b->data, b->len);
    if (b->cap > (size_t)4 << 20) sj_buf_free(b); /* the huge fault's 32 MiB */
}

/* ---- stream stepping ----------------------------------------------------- */

bool mock_stream_at_fault(const mock_reply *r) {
    return r->stop_after != SIZE_MAX &&
           (r->step >= r->stop_after || r->st.content.next >= r->st.content.pieces);
}

/* Appends ev as one HTTP chunk (or raw when not chunked). */
static void frame(const mock_reply *r, const sj_buf *ev, sj_buf *out) {
    if (ev->len == 0) return;
    if (r->chunked) {
        char size[24];
        int n = snprintf(size, sizeof size, "%zx\r\n", ev->len);
        sj_buf_raw(out, size, (size_t)n);
    }
    sj_buf_raw(out, ev->data, ev->len);
    if (r->chunked) sj_buf_raw(out, "\r\n", 2);
}

mock_step_result mock_stream_step(mock_worker *w, mock_reply *r, sj_buf *out) {
    mock_stream *st = &r->st;
    if (mock_stream_at_fault(r)) return MOCK_STEP_FAULT;
    sj_buf *ev = &w->event;
    ev->len = 0;
    bool anthropic = st->proto == MOCK_PROTO_ANTHROPIC;
    if (!r->head_sent) {
        r->head_sent = true;
        mock_http_head(out, 200, "text/event-stream", "Cache-Control: no-cache\r\n", -1, r->chunked,
                       r->end == MOCK_END_CLOSE);
    }
    if (st->garbage) {
        if (anthropic) mock_anthropic_garbage(st, ev);
        else mock_openai_garbage(st, ev);
    } else {
        bool first = r->step == 0;
        if (first && anthropic) mock_anthropic_preamble(st, ev);
        const char *p;
        size_t len;
        char scratch[32];
        if (mock_content_next(&st->content, &p, &len, scratch)) {
            if (anthropic) mock_anthropic_piece(st, p, len, ev);
            else mock_openai_piece(st, p, len, first, ev);
        }
    }
    r->step++;
    /* Without a fault pending, the end goes out with the last piece. */
    bool done = st->garbage || (st->content.next >= st->content.pieces && r->stop_after == SIZE_MAX);
    if (done && !st->garbage) {
        if (anthropic) mock_anthropic_tail(st, ev);
        else mock_openai_tail(st, ev);
    }
    frame(r, ev, out);
    if (done && r->chunked) sj_buf_raw(out, "0\r\n\r\n", 5);
    return done ? MOCK_STEP_DONE : MOCK_STEP_MORE;
}
