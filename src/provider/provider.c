/*
 * provider.c - model-name resolution and the model list shared by all
 * provider families.
 */
#include "provider/provider.h"
#include "obs/obs.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const prov_ops *prov_ops_for(const cfg_provider *p)
{
    switch (p->family) {
    case CFG_FAMILY_MOCK:
        return &prov_mock_ops;
    case CFG_FAMILY_OPENAI:
        return &prov_openai_ops;
    case CFG_FAMILY_ANTHROPIC:
        return &prov_anthropic_ops;
    }
    return NULL;
}

static bool prov_lists_model(const cfg_provider *p, const char *model)
{
    for (size_t k = 0; k < p->n_keys; k++)
        for (size_t i = 0; i < p->keys[k].n_models; i++)
            if (strcmp(p->keys[k].models[i], model) == 0)
                return true;
    return false;
}

const cfg_provider *prov_resolve(const cfg_config *cfg, const char *name, const char **model)
{
    const char *slash = strchr(name, '/');
    if (slash != NULL && slash[1] != '\0') {
        size_t plen = (size_t)(slash - name);
        for (size_t i = 0; i < cfg->n_providers; i++) {
            const cfg_provider *p = &cfg->providers[i];
            if (strlen(p->name) == plen && memcmp(p->name, name, plen) == 0) {
                *model = slash + 1;
                return p;
            }
        }
    }
    /* Not prefixed by a provider: "gpt-4o-mini" or "meta-llama/Llama-3" listed by a key. */
    for (size_t i = 0; i < cfg->n_providers; i++)
        if (name[0] != '\0' && prov_lists_model(&cfg->providers[i], name)) {
            *model = name;
            return &cfg->providers[i];
        }
    return NULL;
}

static void prov_model_entry(sj_buf *b, bool *first, const char *prov, const char *model, long created)
{
    sj_buf_cstr(b, *first ? "{\"id\":" : ",{\"id\":");
    *first = false;
    size_t plen = strlen(prov), mlen = strlen(model);
    char id[512];
    if (plen + 1 + mlen >= sizeof(id))
        return;
    memcpy(id, prov, plen);
    id[plen] = '/';
    memcpy(id + plen + 1, model, mlen + 1);
    sj_buf_str(b, id, plen + 1 + mlen);
    sj_buf_cstr(b, ",\"object\":\"model\",\"created\":");
    sj_buf_i64(b, created);
    sj_buf_cstr(b, ",\"owned_by\":");
    sj_buf_str(b, prov, plen);
    sj_buf_cstr(b, "}");
}

void prov_models_json(const cfg_config *cfg, sj_buf *b)
{
    long created = (long)time(NULL);
    bool first = true;
    sj_buf_cstr(b, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < cfg->n_providers; i++) {
        const cfg_provider *p = &cfg->providers[i];
        if (p->family == CFG_FAMILY_MOCK) {
            prov_model_entry(b, &first, p->name, "mock-1", created);
            continue;
        }
        for (size_t k = 0; k < p->n_keys; k++)
            for (size_t m = 0; m < p->keys[k].n_models; m++) {
                const char *model = p->keys[k].models[m];
                bool dup = strcmp(model, "*") == 0;
                /* the same model under several keys is listed once */
                for (size_t k2 = 0; k2 <= k && !dup; k2++)
                    for (size_t m2 = 0; m2 < p->keys[k2].n_models && !dup; m2++) {
                        if (k2 == k && m2 >= m)
                            break;
                        dup = strcmp(p->keys[k2].models[m2], model) == 0;
                    }
                if (!dup)
                    prov_model_entry(b, &first, p->name, model, created);
            }
    }
    sj_buf_cstr(b, "]}");
}

/* ---- attempt policy ------------------------------------------------------------ */

double prov_rand01(uint64_t *rng)
{
    /* xorshift64*: plenty for jitter and weighted key choice */
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;
    return (double)((*rng * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

static bool prov_key_eligible(const cfg_provider *p, size_t i, const char *model,
                              const bool tried[PROV_MAX_TRIED_KEYS])
{
    return (i >= PROV_MAX_TRIED_KEYS || !tried[i]) && cfg_key_matches(&p->keys[i], model);
}

bool prov_pick_key(const cfg_provider *p, const char *model, bool tried[PROV_MAX_TRIED_KEYS],
                   uint64_t *rng, const cfg_key **out)
{
    *out = NULL;
    if (p->n_keys == 0)
        return true;
    double total = 0;
    for (size_t i = 0; i < p->n_keys; i++)
        if (prov_key_eligible(p, i, model, tried))
            total += p->keys[i].weight;
    if (total <= 0)
        return false;
    double r = prov_rand01(rng) * total;
    size_t pick = p->n_keys;
    for (size_t i = 0; i < p->n_keys; i++) {
        if (!prov_key_eligible(p, i, model, tried))
            continue;
        pick = i; /* the last eligible key absorbs rounding at the top end */
        if (r < p->keys[i].weight)
            break;
        r -= p->keys[i].weight;
    }
    if (pick < PROV_MAX_TRIED_KEYS)
        tried[pick] = true;
    *out = &p->keys[pick];
    return true;
}

uint64_t prov_backoff_ms(const cfg_network *n, int attempt, uint64_t *rng)
{
    double delay = (double)n->backoff_initial_ms;
    for (int i = 0; i < attempt && delay < (double)n->backoff_max_ms; i++)
        delay *= 2;
    if (delay > (double)n->backoff_max_ms)
        delay = (double)n->backoff_max_ms;
    return (uint64_t)(delay * (0.8 + 0.4 * prov_rand01(rng)));
}

bool prov_all_keys_dead(const cfg_provider *p, const cfg_key *used, int status, const char *model,
                        const char *detail, char *msg, size_t cap)
{
    /* One key: the upstream's 401/403 is relayed as any 4xx is (an in-process
     * client with its own key wants exactly that); several: they were all
     * tried, and the summary says so. */
    if (used == NULL || p->n_keys < 2 || (status != 401 && status != 403))
        return false;
    snprintf(msg, cap,
             "provider %s: every API key configured for model '%.200s' was refused by the upstream (last: HTTP %d%s%s); "
             "check the keys in the configuration",
             p->name, model, status, detail[0] ? ": " : "", detail);
    prov_redact(p, used, msg);
    return true;
}

/* ---- redaction ------------------------------------------------------------------ */

/* Replaces every occurrence of `secret` in msg by "***" (secrets shorter than
 * 4 bytes are not masked: they would mangle ordinary words). */
static void prov_mask(char *msg, const char *secret)
{
    size_t sl = strlen(secret);
    if (sl < 4)
        return;
    for (char *p; (p = strstr(msg, secret)) != NULL;) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + sl, strlen(p + sl) + 1);
    }
}

static bool prov_token_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '*' || ch == '.' || ch == '~' || ch == '+' || ch == '/' || ch == '=';
}

/* Masks the token that follows each `prefix` (matched case-insensitively and
 * only at a word start): prefix + "***", when the token is at least `min`
 * bytes (min >= 3, so that the text never grows). A trailing '.' is sentence punctuation, not part of the token. */
static void prov_mask_after(char *msg, const char *prefix, size_t min)
{
    size_t pl = strlen(prefix);
    for (char *p = msg; (p = strcasestr(p, prefix)) != NULL;) {
        if (p > msg && (prov_token_char(p[-1]) && p[-1] != '.')) {
            p += pl;
            continue;
        }
        char *s = p + pl, *e = s;
        while (prov_token_char(*e))
            e++;
        while (e > s && e[-1] == '.')
            e--;
        bool masked = (size_t)(e - s) >= min;
        if (masked) {
            memcpy(s, "***", 3);
            memmove(s + 3, e, strlen(e) + 1);
        }
        p = masked ? s + 3 : e;
    }
}

void prov_redact(const cfg_provider *p, const cfg_key *used, char *msg)
{
    if (used)
        prov_mask(msg, used->value);
    for (size_t i = 0; p && i < p->n_keys; i++)
        prov_mask(msg, p->keys[i].value);
    prov_mask_after(msg, "sk-", 4);     /* OpenAI (and sk-ant-... Anthropic) keys, masked ones too */
    prov_mask_after(msg, "Bearer ", 8); /* an Authorization value echoed back (not "Bearer token") */
    prov_mask_after(msg, "x-api-key: ", 8);
}

void prov_note_result(const cfg_provider *p, up_result res, int status)
{
    if (res != UP_OK && res != UP_EABORTED)
        obs_upstream_error(p->name, up_result_name(res));
    else if (res == UP_OK && (status < 200 || status >= 300))
        obs_upstream_error(p->name, obs_status_kind(status));
}

void prov_note_retry(const cfg_provider *p, int *per_request)
{
    obs_retry(p->name);
    if (per_request != NULL)
        (*per_request)++;
}
