#include "alignment/prompts.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alignment/tasks/arith.h"
#include "models/tokenizer.h"

sea_status sea_codec_open(sea_codec *c, const char *policy_dir, bool builtin)
{
    memset(c, 0, sizeof *c);
    if (builtin) {
        c->eos = SEA_ARITH_EOS;
        c->pad = SEA_ARITH_EOS;
        return SEA_OK;
    }
    SEA_TRY(sea_tokenizer_load(policy_dir, &c->tok));
    c->eos = sea_tokenizer_eos_id(c->tok);
    c->pad = sea_tokenizer_pad_id(c->tok);
    if (c->pad < 0) c->pad = c->eos >= 0 ? c->eos : 0;
    return SEA_OK;
}

void sea_codec_free(sea_codec *c)
{
    if (c->tok) sea_tokenizer_free(c->tok);
    c->tok = NULL;
}

sea_status sea_codec_encode(const sea_codec *c, const char *text, int32_t **ids, int *n)
{
    *ids = NULL;
    *n = 0;
    if (!c->tok) {
        size_t len = strlen(text);
        int32_t *buf = malloc(sizeof(int32_t) * (len + 1));
        if (!buf) return sea_error(SEA_ERR_OOM, "encode");
        int k = sea_arith_encode(text, buf, (int)len + 1);
        if (k < 0) {
            free(buf);
            return sea_error(SEA_ERR_INVALID, "builtin task: text '%.60s' has characters outside the task vocabulary", text);
        }
        *ids = buf;
        *n = k;
        return SEA_OK;
    }
    size_t k = 0;
    SEA_TRY(sea_tokenizer_encode(c->tok, text, strlen(text), true, ids, &k));
    *n = (int)k;
    return SEA_OK;
}

sea_status sea_codec_decode(const sea_codec *c, const int32_t *ids, int n, char **text)
{
    if (!c->tok) {
        char *t = malloc((size_t)n + 1);
        if (!t) return sea_error(SEA_ERR_OOM, "decode");
        sea_arith_decode(ids, n, t, n + 1);
        *text = t;
        return SEA_OK;
    }
    return sea_tokenizer_decode(c->tok, ids, (size_t)n, true, text);
}

void sea_prompt_set_free(sea_prompt_set *ps)
{
    for (int i = 0; i < ps->n; i++) {
        free(ps->items[i].text);
        free(ps->items[i].ids);
        free(ps->items[i].reference);
    }
    free(ps->items);
    ps->items = NULL;
    ps->n = 0;
}

static sea_status add_prompt(sea_prompt_set *ps, int *cap, const char *text, const char *ref, const sea_codec *codec,
                             const char *where)
{
    if (ps->n == *cap) {
        int nc = *cap ? *cap * 2 : 256;
        sea_prompt *ni = realloc(ps->items, sizeof(sea_prompt) * (size_t)nc);
        if (!ni) return sea_error(SEA_ERR_OOM, "prompts: %d", nc);
        ps->items = ni;
        *cap = nc;
    }
    sea_prompt *p = &ps->items[ps->n];
    memset(p, 0, sizeof *p);
    p->text = strdup(text);
    p->reference = ref ? strdup(ref) : NULL;
    if (!p->text || (ref && !p->reference)) return sea_error(SEA_ERR_OOM, "prompts");
    ps->n++;
    sea_status st = sea_codec_encode(codec, text, &p->ids, &p->n_ids);
    if (!st && p->n_ids < 1) st = sea_error(SEA_ERR_FORMAT, "%s: prompt encodes to no tokens", where);
    if (st) return sea_error_context(st, "%s", where);
    return SEA_OK;
}

/* TRL chat form: [{"role": ..., "content": ...}, ...] -> contents joined by newlines. */
static char *chat_text(const cJSON *arr)
{
    size_t len = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, arr) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsString(c)) return NULL;
        len += strlen(c->valuestring) + 1;
    }
    char *out = malloc(len + 1), *o = out;
    if (!out) return NULL;
    *o = '\0';
    cJSON_ArrayForEach(m, arr) {
        const char *s = cJSON_GetObjectItemCaseSensitive(m, "content")->valuestring;
        if (o != out) *o++ = '\n';
        strcpy(o, s);
        o += strlen(s);
    }
    return out;
}

sea_status sea_prompt_parse_line(const char *line, size_t n, const char *input_key, const char *output_key,
                                 const char *where, char **text, char **ref)
{
    *text = *ref = NULL;
    cJSON *o = cJSON_ParseWithLength(line, n);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return sea_error(SEA_ERR_FORMAT, "%s: not a JSON object", where);
    }
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, input_key);
    if (cJSON_IsString(in)) *text = strdup(in->valuestring);
    else if (cJSON_IsArray(in)) *text = chat_text(in);
    sea_status st = SEA_OK;
    if (!*text) {
        st = sea_error(SEA_ERR_FORMAT, "%s: field '%s' missing or not a string / chat message list", where, input_key);
    } else if (output_key && output_key[0]) {
        const cJSON *out = cJSON_GetObjectItemCaseSensitive(o, output_key);
        if (!cJSON_IsString(out))
            st = sea_error(SEA_ERR_FORMAT, "%s: field '%s' (--output-key) missing or not a string", where, output_key);
        else if (!(*ref = strdup(out->valuestring)))
            st = sea_error(SEA_ERR_OOM, "%s", where);
    }
    cJSON_Delete(o);
    if (st) {
        free(*text);
        *text = NULL;
    }
    return st;
}

sea_status sea_prompt_set_load(sea_prompt_set *ps, const char *spec, bool heldout, const char *input_key,
                               const char *output_key, const sea_codec *codec)
{
    memset(ps, 0, sizeof *ps);
    int cap = 0;
    if (!strncmp(spec, "builtin:", 8)) {
        if (strcmp(spec + 8, "arith"))
            return sea_error(SEA_ERR_INVALID, "--prompt-data %s: unknown built-in task (known: arith)", spec);
        sea_arith_task t = sea_arith_default();
        int n = sea_arith_prompts(&t, heldout, NULL, 0);
        char(*buf)[SEA_ARITH_PROMPT_BUF] = malloc(sizeof *buf * (size_t)n);
        if (!buf) return sea_error(SEA_ERR_OOM, "prompts");
        sea_arith_prompts(&t, heldout, buf, n);
        sea_status st = SEA_OK;
        for (int i = 0; i < n && !st; i++) st = add_prompt(ps, &cap, buf[i], NULL, codec, spec);
        free(buf);
        if (st) sea_prompt_set_free(ps);
        return st;
    }
    FILE *f = fopen(spec, "r");
    if (!f) return sea_error(SEA_ERR_IO, "prompt data %s: %s", spec, strerror(errno));
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    int lineno = 0;
    sea_status st = SEA_OK;
    while (!st && (got = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (got == 0 || line[0] == '\n') continue;
        char where[1200];
        snprintf(where, sizeof where, "%s:%d", spec, lineno);
        char *text = NULL, *ref = NULL;
        st = sea_prompt_parse_line(line, (size_t)got, input_key, output_key, where, &text, &ref);
        if (st) break;
        st = add_prompt(ps, &cap, text, ref, codec, where);
        free(text);
        free(ref);
    }
    free(line);
    fclose(f);
    if (!st && ps->n == 0) st = sea_error(SEA_ERR_FORMAT, "prompt data %s: no prompts", spec);
    if (st) sea_prompt_set_free(ps);
    return st;
}

int sea_prompt_set_keep_last(sea_prompt_set *ps, int max_ids)
{
    int cut = 0;
    for (int i = 0; i < ps->n; i++) {
        sea_prompt *p = &ps->items[i];
        if (p->n_ids <= max_ids) continue;
        memmove(p->ids, p->ids + (p->n_ids - max_ids), sizeof(int32_t) * (size_t)max_ids);
        p->n_ids = max_ids;
        cut++;
    }
    return cut;
}
