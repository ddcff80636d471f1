/* tokenizer.json -> sea_tokenizer. Every unsupported component is an error naming it, so a
 * tokenizer that loads encodes as HF does. */
#include <stdlib.h>
#include <string.h>

#include "hf_config.h"
#include "json_util.h"
#include "tokenizer_internal.h"

/* GPT-2's split pattern and Llama-3's (also used by tokenizers' ByteLevel with use_regex). */
const char tk_gpt2_pattern[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char tk_llama3_pattern[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* Bounds on what a file may ask for, so malformed input cannot demand huge allocations. */
#define TK_MAX_VOCAB (1 << 24)
#define TK_MAX_DEPTH 8

sea_status tk_regex_compile(const char *pattern, size_t len, const char *name, const char *what, pcre2_code **out)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF | PCRE2_UCP, &err, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return sea_error(SEA_ERR_FORMAT, "%s: %s regex does not compile at offset %zu: %s", name, what, (size_t)off,
                         (const char *)msg);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* best effort: falls back to the interpreter */
    *out = re;
    return SEA_OK;
}

sea_tokenizer *tk_alloc(const char *name)
{
    sea_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->name = strdup(name ? name : "tokenizer");
    if (!t->name) {
        free(t);
        return NULL;
    }
    t->unk_id = t->bos_id = t->eos_id = t->pad_id = -1;
    for (int i = 0; i < 256; i++) t->byte_ids[i] = -1;
    tk_cache_init(&t->cache);
    tk_byte_map_init();
    return t;
}

void tk_free_parts(sea_tokenizer *t)
{
    for (size_t i = 0; i < t->n_tokens; i++) free(t->tokens ? t->tokens[i] : NULL);
    free(t->tokens);
    free(t->token_len);
    tk_strmap_free(&t->vocab);
    tk_pairmap_free(&t->merges);
    free(t->cont_prefix);
    free(t->eow_suffix);
    for (size_t i = 0; i < t->n_added; i++) free(t->added[i].content);
    free(t->added);
    free(t->is_special);
    for (size_t i = 0; i < t->n_norms; i++) {
        free(t->norms[i].a);
        free(t->norms[i].b);
        if (t->norms[i].re) pcre2_code_free(t->norms[i].re);
    }
    free(t->norms);
    for (size_t i = 0; i < t->n_pres; i++) {
        if (t->pres[i].re) pcre2_code_free(t->pres[i].re);
        free(t->pres[i].literal);
    }
    free(t->pres);
    for (size_t i = 0; i < t->n_decs; i++) {
        free(t->decs[i].a);
        free(t->decs[i].b);
    }
    free(t->decs);
    free(t->post_pre);
    free(t->post_post);
    tk_cache_free(&t->cache);
    free(t->name);
}

void sea_tokenizer_free(sea_tokenizer *t)
{
    if (!t) return;
    tk_free_parts(t);
    free(t);
}

static const char *jtype(const cJSON *o)
{
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    return cJSON_IsString(ty) ? ty->valuestring : NULL;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static bool jbool(const cJSON *o, const char *key, bool dflt)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsBool(it) ? cJSON_IsTrue(it) : dflt;
}

static char *dupstr(const char *s) { return strdup(s ? s : ""); }

/* {"String": "x"} or {"Regex": "x"} */
static sea_status pattern(const sea_tokenizer *t, const cJSON *o, const char *what, char **literal, pcre2_code **re)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    const char *s = jstr(p, "String"), *r = jstr(p, "Regex");
    if (s) {
        *literal = strdup(s);
        return *literal ? SEA_OK : sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    }
    if (r) return tk_regex_compile(r, strlen(r), t->name, what, re);
    return sea_error(SEA_ERR_FORMAT, "%s: %s needs pattern {\"String\": ...} or {\"Regex\": ...}", t->name, what);
}

#define GROW(arr, n)                                                              \
    do {                                                                          \
        void *np_ = realloc((arr), ((n) + 1) * sizeof *(arr));                     \
        if (!np_) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);   \
        (arr) = np_;                                                              \
        memset(&(arr)[(n)], 0, sizeof *(arr));                                    \
    } while (0)

static sea_status load_normalizer(sea_tokenizer *t, const cJSON *o, int depth)
{
    if (!o || cJSON_IsNull(o)) return SEA_OK;
    const char *ty = jtype(o);
    if (!ty) return sea_error(SEA_ERR_FORMAT, "%s: normalizer without a 'type'", t->name);
    if (depth > TK_MAX_DEPTH) return sea_error(SEA_ERR_FORMAT, "%s: normalizers nested too deeply", t->name);
    if (strcmp(ty, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "normalizers");
        if (!cJSON_IsArray(list)) return sea_error(SEA_ERR_FORMAT, "%s: normalizer Sequence needs 'normalizers'", t->name);
        for (const cJSON *e = list->child; e; e = e->next) SEA_TRY(load_normalizer(t, e, depth + 1));
        return SEA_OK;
    }
    tk_norm nm = {0};
    if (strcmp(ty, "NFC") == 0) nm.kind = TK_NORM_NFC;
    else if (strcmp(ty, "NFD") == 0) nm.kind = TK_NORM_NFD;
    else if (strcmp(ty, "NFKC") == 0) nm.kind = TK_NORM_NFKC;
    else if (strcmp(ty, "NFKD") == 0) nm.kind = TK_NORM_NFKD;
    else if (strcmp(ty, "Lowercase") == 0) nm.kind = TK_NORM_LOWER;
    else if (strcmp(ty, "Prepend") == 0) {
        nm.kind = TK_NORM_PREPEND;
        const char *p = jstr(o, "prepend");
        if (!p) return sea_error(SEA_ERR_FORMAT, "%s: normalizer Prepend needs 'prepend'", t->name);
        nm.a = dupstr(p);
    } else if (strcmp(ty, "Replace") == 0) {
        nm.kind = TK_NORM_REPLACE;
        const char *c = jstr(o, "content");
        if (!c) return sea_error(SEA_ERR_FORMAT, "%s: normalizer Replace needs 'content'", t->name);
        SEA_TRY(pattern(t, o, "normalizer Replace", &nm.a, &nm.re));
        nm.b = dupstr(c);
    } else if (strcmp(ty, "Strip") == 0) {
        nm.kind = TK_NORM_STRIP;
        nm.left = jbool(o, "strip_left", true);
        nm.right = jbool(o, "strip_right", true);
    } else
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: normalizer type '%s' is not supported", t->name, ty);
    GROW(t->norms, t->n_norms);
    t->norms[t->n_norms++] = nm;
    if ((nm.kind == TK_NORM_PREPEND || nm.kind == TK_NORM_REPLACE) && !nm.b && !nm.a && !nm.re)
        return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    return SEA_OK;
}

static sea_status behavior(const sea_tokenizer *t, const char *b, tk_behavior *out)
{
    if (!b) return sea_error(SEA_ERR_FORMAT, "%s: pre_tokenizer Split needs 'behavior'", t->name);
    if (strcmp(b, "Removed") == 0) *out = TK_BEH_REMOVED;
    else if (strcmp(b, "Isolated") == 0) *out = TK_BEH_ISOLATED;
    else if (strcmp(b, "MergedWithPrevious") == 0) *out = TK_BEH_MERGED_PREV;
    else if (strcmp(b, "MergedWithNext") == 0) *out = TK_BEH_MERGED_NEXT;
    else if (strcmp(b, "Contiguous") == 0) *out = TK_BEH_CONTIGUOUS;
    else return sea_error(SEA_ERR_FORMAT, "%s: unknown split behavior '%s'", t->name, b);
    return SEA_OK;
}

static sea_status metaspace_fields(const sea_tokenizer *t, const cJSON *o, char repl[8], tk_prepend *prep)
{
    const char *r = jstr(o, "replacement");
    if (!r) r = "\xE2\x96\x81"; /* ▁ */
    uint32_t cp;
    int k = tk_utf8_len((const unsigned char *)r, strlen(r), &cp);
    if (k == 0 || (size_t)k != strlen(r))
        return sea_error(SEA_ERR_FORMAT, "%s: Metaspace replacement must be one character", t->name);
    memcpy(repl, r, (size_t)k);
    repl[k] = 0;
    const char *ps = jstr(o, "prepend_scheme");
    if (ps) {
        if (strcmp(ps, "always") == 0) *prep = TK_PREPEND_ALWAYS;
        else if (strcmp(ps, "first") == 0) *prep = TK_PREPEND_FIRST;
        else if (strcmp(ps, "never") == 0) *prep = TK_PREPEND_NEVER;
        else return sea_error(SEA_ERR_FORMAT, "%s: unknown Metaspace prepend_scheme '%s'", t->name, ps);
    } else *prep = jbool(o, "add_prefix_space", true) ? TK_PREPEND_ALWAYS : TK_PREPEND_NEVER;
    return SEA_OK;
}

static sea_status load_pretok(sea_tokenizer *t, const cJSON *o, int depth)
{
    if (!o || cJSON_IsNull(o)) return SEA_OK;
    const char *ty = jtype(o);
    if (!ty) return sea_error(SEA_ERR_FORMAT, "%s: pre_tokenizer without a 'type'", t->name);
    if (depth > TK_MAX_DEPTH) return sea_error(SEA_ERR_FORMAT, "%s: pre_tokenizers nested too deeply", t->name);
    if (strcmp(ty, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "pretokenizers");
        if (!cJSON_IsArray(list)) return sea_error(SEA_ERR_FORMAT, "%s: pre_tokenizer Sequence needs 'pretokenizers'", t->name);
        for (const cJSON *e = list->child; e; e = e->next) SEA_TRY(load_pretok(t, e, depth + 1));
        return SEA_OK;
    }
    GROW(t->pres, t->n_pres);
    tk_pre *p = &t->pres[t->n_pres++]; /* counted now so a failure below still frees it */
    if (strcmp(ty, "ByteLevel") == 0) {
        p->kind = TK_PRE_BYTELEVEL;
        p->add_prefix_space = jbool(o, "add_prefix_space", true);
        if (jbool(o, "use_regex", true))
            SEA_TRY(tk_regex_compile(tk_gpt2_pattern, strlen(tk_gpt2_pattern), t->name, "ByteLevel", &p->re));
    } else if (strcmp(ty, "Split") == 0) {
        p->kind = TK_PRE_SPLIT;
        SEA_TRY(pattern(t, o, "pre_tokenizer Split", &p->literal, &p->re));
        if (p->literal) p->literal_len = strlen(p->literal);
        SEA_TRY(behavior(t, jstr(o, "behavior"), &p->behavior));
        p->invert = jbool(o, "invert", false);
    } else if (strcmp(ty, "Metaspace") == 0) {
        p->kind = TK_PRE_METASPACE;
        SEA_TRY(metaspace_fields(t, o, p->replacement, &p->prepend));
        p->split = jbool(o, "split", true);
    } else if (strcmp(ty, "Digits") == 0) {
        p->kind = TK_PRE_DIGITS;
        p->individual = jbool(o, "individual_digits", false);
    } else if (strcmp(ty, "Whitespace") == 0) {
        p->kind = TK_PRE_WHITESPACE;
        /* Rust regex's \w (Alphabetic, marks, decimal digits, connector punctuation, joiners):
         * PCRE2 10.42's \w lacks the marks, so spell the class out. */
        static const char ws[] = "[\\p{L}\\p{Nl}\\p{Nd}\\p{M}\\p{Pc}\\x{200C}\\x{200D}]+|"
                                 "[^\\p{L}\\p{Nl}\\p{Nd}\\p{M}\\p{Pc}\\x{200C}\\x{200D}\\s]+";
        SEA_TRY(tk_regex_compile(ws, strlen(ws), t->name, "Whitespace", &p->re));
    } else if (strcmp(ty, "WhitespaceSplit") == 0) {
        p->kind = TK_PRE_WHITESPACE_SPLIT;
    } else {
        t->n_pres--;
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: pre_tokenizer type '%s' is not supported", t->name, ty);
    }
    return SEA_OK;
}

static sea_status load_decoder(sea_tokenizer *t, const cJSON *o, int depth)
{
    if (!o || cJSON_IsNull(o)) return SEA_OK;
    t->has_decoder = true;
    const char *ty = jtype(o);
    if (!ty) return sea_error(SEA_ERR_FORMAT, "%s: decoder without a 'type'", t->name);
    if (depth > TK_MAX_DEPTH) return sea_error(SEA_ERR_FORMAT, "%s: decoders nested too deeply", t->name);
    if (strcmp(ty, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "decoders");
        if (!cJSON_IsArray(list)) return sea_error(SEA_ERR_FORMAT, "%s: decoder Sequence needs 'decoders'", t->name);
        for (const cJSON *e = list->child; e; e = e->next) SEA_TRY(load_decoder(t, e, depth + 1));
        return SEA_OK;
    }
    GROW(t->decs, t->n_decs);
    tk_dec *d = &t->decs[t->n_decs++];
    if (strcmp(ty, "ByteLevel") == 0) d->kind = TK_DEC_BYTELEVEL;
    else if (strcmp(ty, "ByteFallback") == 0) d->kind = TK_DEC_BYTEFALLBACK;
    else if (strcmp(ty, "Fuse") == 0) d->kind = TK_DEC_FUSE;
    else if (strcmp(ty, "Metaspace") == 0) {
        d->kind = TK_DEC_METASPACE;
        char repl[8];
        tk_prepend prep;
        SEA_TRY(metaspace_fields(t, o, repl, &prep));
        d->a = dupstr(repl);
        d->prepend = prep != TK_PREPEND_NEVER;
    } else if (strcmp(ty, "Replace") == 0) {
        d->kind = TK_DEC_REPLACE;
        pcre2_code *re = NULL;
        const char *c = jstr(o, "content");
        if (!c) return sea_error(SEA_ERR_FORMAT, "%s: decoder Replace needs 'content'", t->name);
        SEA_TRY(pattern(t, o, "decoder Replace", &d->a, &re));
        if (re) {
            pcre2_code_free(re);
            return sea_error(SEA_ERR_UNSUPPORTED, "%s: decoder Replace with a Regex pattern is not supported", t->name);
        }
        d->b = dupstr(c);
    } else if (strcmp(ty, "Strip") == 0) {
        d->kind = TK_DEC_STRIP;
        const char *c = jstr(o, "content");
        uint32_t cp = ' ';
        if (c && (!tk_utf8_len((const unsigned char *)c, strlen(c), &cp)))
            return sea_error(SEA_ERR_FORMAT, "%s: decoder Strip content must be one character", t->name);
        d->strip_char = cp;
        int64_t v = 0;
        SEA_TRY(sea_json_int(o, "start", t->name, &v, NULL));
        d->start = v < 0 ? 0 : v > 1000 ? 1000 : (int)v;
        v = 0;
        SEA_TRY(sea_json_int(o, "stop", t->name, &v, NULL));
        d->stop = v < 0 ? 0 : v > 1000 ? 1000 : (int)v;
    } else if (strcmp(ty, "BPEDecoder") == 0) {
        d->kind = TK_DEC_BPE;
        const char *s = jstr(o, "suffix");
        d->a = dupstr(s ? s : "</w>");
    } else {
        t->n_decs--;
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: decoder type '%s' is not supported", t->name, ty);
    }
    return SEA_OK;
}

static sea_status add_post(sea_tokenizer *t, const int32_t *pre, size_t npre, const int32_t *post, size_t npost)
{
    int32_t *np = malloc((t->n_post_pre + npre + 1) * sizeof *np);
    int32_t *nq = malloc((t->n_post_post + npost + 1) * sizeof *nq);
    if (!np || !nq) {
        free(np);
        free(nq);
        return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    }
    /* A later processor wraps the result of the earlier ones. */
    memcpy(np, pre, npre * sizeof *np);
    if (t->n_post_pre) memcpy(np + npre, t->post_pre, t->n_post_pre * sizeof *np);
    if (t->n_post_post) memcpy(nq, t->post_post, t->n_post_post * sizeof *nq);
    memcpy(nq + t->n_post_post, post, npost * sizeof *nq);
    free(t->post_pre);
    free(t->post_post);
    t->post_pre = np;
    t->post_post = nq;
    t->n_post_pre += npre;
    t->n_post_post += npost;
    return SEA_OK;
}

static sea_status pair_token(const sea_tokenizer *t, const cJSON *o, const char *key, int32_t *id)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, key);
    int64_t v;
    if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) != 2 || !sea_json_is_int(p->child->next, 0, INT32_MAX, &v))
        return sea_error(SEA_ERR_FORMAT, "%s: post_processor field '%s' must be [token, id]", t->name, key);
    *id = (int32_t)v;
    return SEA_OK;
}

static sea_status load_post(sea_tokenizer *t, const cJSON *o, int depth)
{
    if (!o || cJSON_IsNull(o)) return SEA_OK;
    const char *ty = jtype(o);
    if (!ty) return sea_error(SEA_ERR_FORMAT, "%s: post_processor without a 'type'", t->name);
    if (depth > TK_MAX_DEPTH) return sea_error(SEA_ERR_FORMAT, "%s: post_processors nested too deeply", t->name);
    if (strcmp(ty, "ByteLevel") == 0) return SEA_OK; /* only adjusts offsets */
    if (strcmp(ty, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "processors");
        if (!cJSON_IsArray(list)) return sea_error(SEA_ERR_FORMAT, "%s: post_processor Sequence needs 'processors'", t->name);
        for (const cJSON *e = list->child; e; e = e->next) SEA_TRY(load_post(t, e, depth + 1));
        return SEA_OK;
    }
    if (strcmp(ty, "RobertaProcessing") == 0 || strcmp(ty, "BertProcessing") == 0) {
        int32_t cls, sep;
        SEA_TRY(pair_token(t, o, "cls", &cls));
        SEA_TRY(pair_token(t, o, "sep", &sep));
        return add_post(t, &cls, 1, &sep, 1);
    }
    if (strcmp(ty, "TemplateProcessing") != 0)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: post_processor type '%s' is not supported", t->name, ty);
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(o, "single");
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(o, "special_tokens");
    if (!cJSON_IsArray(single)) return sea_error(SEA_ERR_FORMAT, "%s: TemplateProcessing needs 'single'", t->name);
    int32_t pre[64], post[64];
    size_t npre = 0, npost = 0;
    bool seen_seq = false;
    for (const cJSON *e = single->child; e; e = e->next) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(e, "SpecialToken");
        if (cJSON_GetObjectItemCaseSensitive(e, "Sequence")) {
            if (seen_seq) return sea_error(SEA_ERR_UNSUPPORTED, "%s: TemplateProcessing 'single' repeats the sequence", t->name);
            seen_seq = true;
            continue;
        }
        const char *name = jstr(sp, "id");
        if (!name) return sea_error(SEA_ERR_FORMAT, "%s: TemplateProcessing piece must be SpecialToken or Sequence", t->name);
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(specials, name);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(def, "ids");
        if (!cJSON_IsArray(ids))
            return sea_error(SEA_ERR_FORMAT, "%s: TemplateProcessing special token '%s' not defined in special_tokens", t->name, name);
        for (const cJSON *id = ids->child; id; id = id->next) {
            int64_t v;
            if (!sea_json_is_int(id, 0, INT32_MAX, &v))
                return sea_error(SEA_ERR_FORMAT, "%s: TemplateProcessing special token '%s' has a bad id", t->name, name);
            if ((seen_seq ? npost : npre) >= 64)
                return sea_error(SEA_ERR_FORMAT, "%s: TemplateProcessing template too long", t->name);
            if (seen_seq) post[npost++] = (int32_t)v;
            else pre[npre++] = (int32_t)v;
        }
    }
    return add_post(t, pre, npre, post, npost);
}

static sea_status load_added(sea_tokenizer *t, const cJSON *arr)
{
    if (!arr || cJSON_IsNull(arr)) return SEA_OK;
    if (!cJSON_IsArray(arr)) return sea_error(SEA_ERR_FORMAT, "%s: 'added_tokens' must be a list", t->name);
    int i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        int64_t id;
        const char *content = jstr(e, "content");
        if (!content || !*content || !sea_json_is_int(cJSON_GetObjectItemCaseSensitive(e, "id"), 0, TK_MAX_VOCAB - 1, &id))
            return sea_error(SEA_ERR_FORMAT, "%s: added_tokens[%d] needs a non-empty 'content' and an 'id' in [0, %d)",
                             t->name, i, TK_MAX_VOCAB);
        GROW(t->added, t->n_added);
        tk_added *a = &t->added[t->n_added++];
        a->content = strdup(content);
        if (!a->content) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        a->len = strlen(content);
        a->id = (int32_t)id;
        a->special = jbool(e, "special", false);
        a->lstrip = jbool(e, "lstrip", false);
        a->rstrip = jbool(e, "rstrip", false);
        a->single_word = jbool(e, "single_word", false);
        a->normalized = jbool(e, "normalized", !a->special);
    }
    return SEA_OK;
}

static sea_status load_model(sea_tokenizer *t, const cJSON *m)
{
    if (!cJSON_IsObject(m)) return sea_error(SEA_ERR_FORMAT, "%s: missing object 'model'", t->name);
    const char *ty = jtype(m);
    if (ty && strcmp(ty, "BPE") != 0)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: model type '%s' is not supported (only BPE)", t->name, ty);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(m, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(m, "merges");
    if (!cJSON_IsObject(vocab)) return sea_error(SEA_ERR_FORMAT, "%s: model.vocab must be an object", t->name);
    if (merges && !cJSON_IsNull(merges) && !cJSON_IsArray(merges))
        return sea_error(SEA_ERR_FORMAT, "%s: model.merges must be a list", t->name);
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(m, "dropout");
    if (cJSON_IsNumber(dropout) && dropout->valuedouble > 0)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: BPE dropout is not supported (non-deterministic)", t->name);
    t->fuse_unk = jbool(m, "fuse_unk", false);
    t->byte_fallback = jbool(m, "byte_fallback", false);
    t->ignore_merges = jbool(m, "ignore_merges", false);
    const char *cp = jstr(m, "continuing_subword_prefix"), *sfx = jstr(m, "end_of_word_suffix");
    if (cp && *cp && !(t->cont_prefix = strdup(cp))) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    if (sfx && *sfx && !(t->eow_suffix = strdup(sfx))) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);

    /* vocab: ids must be unique; the table is sized by the largest id */
    size_t count = (size_t)cJSON_GetArraySize(vocab);
    int64_t max_id = -1;
    for (const cJSON *e = vocab->child; e; e = e->next) {
        int64_t id;
        if (!sea_json_is_int(e, 0, TK_MAX_VOCAB - 1, &id))
            return sea_error(SEA_ERR_FORMAT, "%s: model.vocab['%.64s'] must be an id in [0, %d)", t->name, e->string, TK_MAX_VOCAB);
        if (id > max_id) max_id = id;
    }
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].id > max_id) max_id = t->added[i].id;
    if ((size_t)(max_id + 1) > 2 * (count + t->n_added) + 65536)
        return sea_error(SEA_ERR_FORMAT, "%s: ids up to %lld for %zu tokens: table too sparse", t->name, (long long)max_id,
                         count + t->n_added);
    t->n_tokens = (size_t)(max_id + 1);
    t->tokens = calloc(t->n_tokens ? t->n_tokens : 1, sizeof *t->tokens);
    t->token_len = calloc(t->n_tokens ? t->n_tokens : 1, sizeof *t->token_len);
    if (!t->tokens || !t->token_len || !tk_strmap_init(&t->vocab, count))
        return sea_error(SEA_ERR_OOM, "%s: out of memory for %zu tokens", t->name, t->n_tokens);
    for (const cJSON *e = vocab->child; e; e = e->next) {
        int32_t id = (int32_t)e->valuedouble;
        if (t->tokens[id])
            return sea_error(SEA_ERR_FORMAT, "%s: model.vocab id %d is used by both '%.64s' and '%.64s'", t->name, id,
                             t->tokens[id], e->string);
        size_t len = strlen(e->string);
        int32_t other;
        if (tk_strmap_get(&t->vocab, e->string, len, &other))
            return sea_error(SEA_ERR_FORMAT, "%s: model.vocab has token '%.64s' twice", t->name, e->string);
        if (!(t->tokens[id] = strdup(e->string))) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        t->token_len[id] = (uint32_t)len;
        if (!tk_strmap_put(&t->vocab, t->tokens[id], len, id)) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    }
    const char *unk = jstr(m, "unk_token");
    if (unk && !tk_strmap_get(&t->vocab, unk, strlen(unk), &t->unk_id)) t->unk_id = -1;

    /* merges: rank = position; merged token must be in the vocab */
    size_t nm = merges ? (size_t)cJSON_GetArraySize(merges) : 0;
    if (!tk_pairmap_init(&t->merges, nm)) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    size_t plen = t->cont_prefix ? strlen(t->cont_prefix) : 0;
    int32_t rank = 0;
    tk_str joined = {0};
    for (const cJSON *e = merges ? merges->child : NULL; e; e = e->next, rank++) {
        const char *a, *b;
        size_t al, bl;
        if (cJSON_IsString(e)) {
            const char *sp = strchr(e->valuestring, ' ');
            if (!sp || strchr(sp + 1, ' ')) {
                tk_str_free(&joined);
                return sea_error(SEA_ERR_FORMAT, "%s: merge %d '%.64s' is not \"a b\"", t->name, rank, e->valuestring);
            }
            a = e->valuestring;
            al = (size_t)(sp - a);
            b = sp + 1;
            bl = strlen(b);
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) &&
                   cJSON_IsString(e->child->next)) {
            a = e->child->valuestring;
            b = e->child->next->valuestring;
            al = strlen(a);
            bl = strlen(b);
        } else {
            tk_str_free(&joined);
            return sea_error(SEA_ERR_FORMAT, "%s: merge %d must be \"a b\" or [\"a\", \"b\"]", t->name, rank);
        }
        int32_t ia, ib, inew;
        joined.n = 0;
        tk_str_put(&joined, a, al);
        /* the right part loses its continuing-subword prefix when merged */
        size_t skip = (plen && bl >= plen && memcmp(b, t->cont_prefix, plen) == 0) ? plen : 0;
        tk_str_put(&joined, b + skip, bl - skip);
        if (joined.oom) {
            tk_str_free(&joined);
            return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        }
        if (!tk_strmap_get(&t->vocab, a, al, &ia) || !tk_strmap_get(&t->vocab, b, bl, &ib)) {
            tk_str_free(&joined);
            return sea_error(SEA_ERR_FORMAT, "%s: merge %d ('%.*s' '%.*s') uses a token not in the vocab", t->name, rank,
                             (int)(al > 64 ? 64 : al), a, (int)(bl > 64 ? 64 : bl), b);
        }
        if (!tk_strmap_get(&t->vocab, joined.p, joined.n, &inew)) {
            tk_str_free(&joined);
            return sea_error(SEA_ERR_FORMAT, "%s: merge %d ('%.*s' '%.*s') makes a token not in the vocab", t->name, rank,
                             (int)(al > 64 ? 64 : al), a, (int)(bl > 64 ? 64 : bl), b);
        }
        if (!tk_pairmap_put(&t->merges, ia, ib, rank, inew)) {
            tk_str_free(&joined);
            return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        }
    }
    tk_str_free(&joined);
    return SEA_OK;
}

sea_status tk_finish(sea_tokenizer *t)
{
    /* byte-fallback tokens */
    char buf[8];
    for (int b = 0; b < 256; b++) {
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        int32_t id;
        if (tk_strmap_get(&t->vocab, buf, 6, &id)) t->byte_ids[b] = id;
    }
    /* added tokens not in the model vocab get their content as the token string */
    t->is_special = calloc(t->n_tokens ? t->n_tokens : 1, sizeof *t->is_special);
    if (!t->is_special) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    for (size_t i = 0; i < t->n_added; i++) {
        tk_added *a = &t->added[i];
        if ((size_t)a->id >= t->n_tokens) return sea_error(SEA_ERR_INTERNAL, "%s: added token id out of range", t->name);
        if (!t->tokens[a->id] || strcmp(t->tokens[a->id], a->content) != 0) {
            /* HF's id_to_token prefers the added vocabulary */
            char *c = strdup(a->content);
            if (!c) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
            int32_t vid;
            /* keep a vocab key alive: only replace strings that the vocab map does not borrow */
            if (t->tokens[a->id] && tk_strmap_get(&t->vocab, t->tokens[a->id], t->token_len[a->id], &vid) && vid == a->id) {
                free(c);
            } else {
                free(t->tokens[a->id]);
                t->tokens[a->id] = c;
                t->token_len[a->id] = (uint32_t)a->len;
            }
        }
        if (a->special) t->is_special[a->id] = true;
    }
    return SEA_OK;
}

/* Normalized added tokens are matched against normalized text: store their normalized form. */
static sea_status normalize_added(sea_tokenizer *t)
{
    for (size_t i = 0; i < t->n_added; i++) {
        tk_added *a = &t->added[i];
        a->match = a->content;
        a->match_len = a->len;
        if (!a->normalized || !t->n_norms) continue;
        tk_str s = {0};
        SEA_TRY(tk_normalize(t, a->content, a->len, &s));
        if (!s.n) {
            tk_str_free(&s);
            continue;
        }
        /* keep the original content for id_to_token: store the match form after a NUL */
        char *both = malloc(a->len + 1 + s.n + 1);
        if (!both) {
            tk_str_free(&s);
            return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        }
        memcpy(both, a->content, a->len + 1);
        memcpy(both + a->len + 1, s.p, s.n + 1);
        free(a->content);
        a->content = both;
        a->match = both + a->len + 1;
        a->match_len = s.n;
        tk_str_free(&s);
    }
    return SEA_OK;
}

static void special_from_config(sea_tokenizer *t, const char *dir)
{
    char *p = sea_path_join(dir, "tokenizer_config.json");
    char *text = NULL;
    size_t len;
    if (p && sea_file_exists(p) && sea_file_read(p, &text, &len) == SEA_OK) {
        sea_hf_config c;
        memset(&c, 0, sizeof c);
        if (sea_hf_config_parse_tokenizer_config(text, len, p, &c) == SEA_OK) {
            if (c.bos_token[0]) t->bos_id = sea_tokenizer_token_to_id(t, c.bos_token);
            if (c.eos_token[0]) t->eos_id = sea_tokenizer_token_to_id(t, c.eos_token);
            if (c.pad_token[0]) t->pad_id = sea_tokenizer_token_to_id(t, c.pad_token);
        }
        sea_error_clear();
    }
    free(text);
    free(p);
}

static void default_specials(sea_tokenizer *t)
{
    if (t->bos_id < 0 && t->n_post_pre == 1) t->bos_id = t->post_pre[0];
    static const char *const eos_names[] = {"</s>", "<|endoftext|>", "<|end_of_text|>", "<|eot_id|>", "<eos>"};
    for (size_t i = 0; t->eos_id < 0 && i < sizeof eos_names / sizeof eos_names[0]; i++)
        t->eos_id = sea_tokenizer_token_to_id(t, eos_names[i]);
    static const char *const bos_names[] = {"<s>", "<|begin_of_text|>", "<bos>"};
    for (size_t i = 0; t->bos_id < 0 && i < sizeof bos_names / sizeof bos_names[0]; i++)
        t->bos_id = sea_tokenizer_token_to_id(t, bos_names[i]);
}

sea_status sea_tokenizer_load_json(const char *json, size_t len, const char *name, sea_tokenizer **out)
{
    *out = NULL;
    cJSON *root;
    SEA_TRY(sea_json_parse(json, len, name, &root));
    sea_tokenizer *t = tk_alloc(name);
    if (!t) {
        cJSON_Delete(root);
        return sea_error(SEA_ERR_OOM, "%s: out of memory", name);
    }
    sea_status st = cJSON_IsObject(root) ? SEA_OK : sea_error(SEA_ERR_FORMAT, "%s: not a JSON object", name);
    if (!st) st = load_added(t, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"));
    if (!st) st = load_model(t, cJSON_GetObjectItemCaseSensitive(root, "model"));
    if (!st) st = load_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), 0);
    if (!st) st = load_pretok(t, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), 0);
    if (!st) st = load_decoder(t, cJSON_GetObjectItemCaseSensitive(root, "decoder"), 0);
    if (!st) st = load_post(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), 0);
    if (!st) st = tk_finish(t);
    if (!st) st = normalize_added(t);
    if (!st) tk_index_added(t);
    cJSON_Delete(root);
    if (st) {
        sea_tokenizer_free(t);
        return st;
    }
    default_specials(t);
    *out = t;
    return SEA_OK;
}

sea_status sea_tokenizer_load(const char *path, sea_tokenizer **out)
{
    *out = NULL;
    bool dir = sea_path_is_dir(path);
    char *file = dir ? sea_path_join(path, "tokenizer.json") : strdup(path);
    char *d = dir ? strdup(path) : sea_path_dirname(path);
    char *text = NULL;
    size_t len = 0;
    sea_status st = (!file || !d) ? sea_error(SEA_ERR_OOM, "%s: out of memory", path) : SEA_OK;
    if (!st) st = sea_file_read(file, &text, &len);
    if (!st) st = sea_tokenizer_load_json(text, len, file, out);
    if (!st) {
        int32_t bos = (*out)->bos_id;
        (*out)->bos_id = -1;
        special_from_config(*out, d);
        if ((*out)->bos_id < 0) (*out)->bos_id = bos;
        default_specials(*out);
    }
    free(text);
    free(file);
    free(d);
    return st;
}
