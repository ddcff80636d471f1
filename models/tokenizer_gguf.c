/* Tokenizer from GGUF metadata (llama.cpp's tokenizer.ggml.* keys), built into the same
 * structures tokenizer.json produces so encoding follows one code path.
 *   "gpt2":  byte-level BPE; merges from tokenizer.ggml.merges; pre-tokenizer regex chosen by
 *            tokenizer.ggml.pre (Llama-3's for "llama-bpe"/"llama3"/"smaug-bpe", GPT-2's otherwise)
 *   "llama": SentencePiece-style BPE: ▁ for spaces, byte fallback <0xNN>; merges from
 *            tokenizer.ggml.merges when present, otherwise derived from the scores the way HF's
 *            SentencePieceExtractor does (every split of a piece into two vocab pieces, ranked by
 *            the piece's score, higher first). */
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer_internal.h"

enum { GT_NORMAL = 1, GT_UNKNOWN = 2, GT_CONTROL = 3, GT_USER = 4, GT_UNUSED = 5, GT_BYTE = 6 };

typedef struct derived {
    double score;
    int32_t tok, a, b;
} derived;

static int derived_cmp(const void *x, const void *y)
{
    const derived *p = x, *q = y;
    if (p->score != q->score) return p->score > q->score ? -1 : 1;
    if (p->tok != q->tok) return p->tok < q->tok ? -1 : 1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

static sea_status add_added(sea_tokenizer *t, int32_t id, bool special)
{
    tk_added *na = realloc(t->added, (t->n_added + 1) * sizeof *na);
    if (!na) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    t->added = na;
    tk_added *a = &t->added[t->n_added];
    memset(a, 0, sizeof *a);
    a->content = strdup(t->tokens[id]);
    if (!a->content) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    t->n_added++;
    a->len = strlen(a->content);
    a->match = a->content;
    a->match_len = a->len;
    a->id = id;
    a->special = special;
    return SEA_OK;
}

static sea_status merges_from_strings(sea_tokenizer *t, const sea_gguf_kv *m)
{
    if (!tk_pairmap_init(&t->merges, (size_t)m->v.arr.n)) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    tk_str joined = {0};
    for (uint64_t r = 0; r < m->v.arr.n; r++) {
        const char *s = m->v.arr.strs[r].str;
        const char *sp = strchr(s, ' ');
        if (!sp || r > INT32_MAX) {
            tk_str_free(&joined);
            return sea_error(SEA_ERR_FORMAT, "%s: tokenizer.ggml.merges[%llu] '%.64s' is not \"a b\"", t->name,
                             (unsigned long long)r, s);
        }
        int32_t ia, ib, in;
        size_t al = (size_t)(sp - s), bl = strlen(sp + 1);
        joined.n = 0;
        tk_str_put(&joined, s, al);
        tk_str_put(&joined, sp + 1, bl);
        if (joined.oom || !tk_strmap_get(&t->vocab, s, al, &ia) || !tk_strmap_get(&t->vocab, sp + 1, bl, &ib) ||
            !tk_strmap_get(&t->vocab, joined.p, joined.n, &in)) {
            tk_str_free(&joined);
            return sea_error(SEA_ERR_FORMAT, "%s: tokenizer.ggml.merges[%llu] '%.64s' uses or makes a token not in the vocab",
                             t->name, (unsigned long long)r, s);
        }
        if (!tk_pairmap_put(&t->merges, ia, ib, (int32_t)r, in)) {
            tk_str_free(&joined);
            return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        }
    }
    tk_str_free(&joined);
    return SEA_OK;
}

static sea_status merges_from_scores(sea_tokenizer *t, const sea_gguf_kv *scores, const sea_gguf_kv *types)
{
    derived *d = NULL;
    size_t nd = 0, cap = 0;
    for (size_t id = 0; id < t->n_tokens; id++) {
        int64_t ty = types ? sea_gguf_arr_int(types, id) : GT_NORMAL;
        if (ty != GT_NORMAL && ty != GT_USER) continue;
        const char *s = t->tokens[id];
        size_t n = t->token_len[id];
        for (size_t k = 1; k < n; k++) {
            if (((unsigned char)s[k] & 0xC0) == 0x80) continue; /* split at character boundaries */
            int32_t a, b;
            if (!tk_strmap_get(&t->vocab, s, k, &a) || !tk_strmap_get(&t->vocab, s + k, n - k, &b)) continue;
            if (nd == cap) {
                cap = cap ? cap * 2 : 1024;
                derived *nv = realloc(d, cap * sizeof *nv);
                if (!nv) {
                    free(d);
                    return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
                }
                d = nv;
            }
            d[nd++] = (derived){scores ? sea_gguf_arr_float(scores, id) : -(double)id, (int32_t)id, a, b};
        }
    }
    qsort(d, nd, sizeof *d, derived_cmp);
    bool ok = tk_pairmap_init(&t->merges, nd);
    for (size_t i = 0; i < nd && ok; i++) ok = tk_pairmap_put(&t->merges, d[i].a, d[i].b, (int32_t)i, d[i].tok);
    free(d);
    return ok ? SEA_OK : sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
}

static sea_status add_norm(sea_tokenizer *t, tk_norm nm)
{
    tk_norm *nv = realloc(t->norms, (t->n_norms + 1) * sizeof *nv);
    if (!nv) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    t->norms = nv;
    t->norms[t->n_norms++] = nm;
    return SEA_OK;
}

static sea_status add_pre(sea_tokenizer *t, tk_pre p)
{
    tk_pre *nv = realloc(t->pres, (t->n_pres + 1) * sizeof *nv);
    if (!nv) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    t->pres = nv;
    t->pres[t->n_pres++] = p;
    return SEA_OK;
}

static sea_status add_dec(sea_tokenizer *t, tk_dec d)
{
    tk_dec *nv = realloc(t->decs, (t->n_decs + 1) * sizeof *nv);
    if (!nv) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    t->decs = nv;
    t->decs[t->n_decs++] = d;
    t->has_decoder = true;
    return SEA_OK;
}

static sea_status build(sea_tokenizer *t, const sea_gguf *g)
{
    const char *model = sea_gguf_get_str(g, "tokenizer.ggml.model");
    if (!model) return sea_error(SEA_ERR_FORMAT, "%s: missing tokenizer.ggml.model", t->name);
    bool bpe = strcmp(model, "gpt2") == 0, spm = strcmp(model, "llama") == 0;
    if (!bpe && !spm)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: tokenizer.ggml.model '%s' is not supported (gpt2, llama)", t->name, model);
    const sea_gguf_kv *toks = sea_gguf_find_kv(g, "tokenizer.ggml.tokens");
    if (!toks || toks->type != SEA_GGUF_ARRAY || toks->v.arr.type != SEA_GGUF_STRING)
        return sea_error(SEA_ERR_FORMAT, "%s: tokenizer.ggml.tokens must be an array of strings", t->name);
    const sea_gguf_kv *types = sea_gguf_find_kv(g, "tokenizer.ggml.token_type");
    if (types && (types->type != SEA_GGUF_ARRAY || types->v.arr.n != toks->v.arr.n || !types->v.arr.raw))
        return sea_error(SEA_ERR_FORMAT, "%s: tokenizer.ggml.token_type must be an integer array as long as the tokens", t->name);
    const sea_gguf_kv *scores = sea_gguf_find_kv(g, "tokenizer.ggml.scores");
    if (scores && (scores->type != SEA_GGUF_ARRAY || scores->v.arr.n != toks->v.arr.n || !scores->v.arr.raw))
        scores = NULL;
    size_t n = (size_t)toks->v.arr.n;
    if (n == 0 || n > (1u << 24)) return sea_error(SEA_ERR_FORMAT, "%s: %zu tokens", t->name, n);
    t->n_tokens = n;
    t->tokens = calloc(n, sizeof *t->tokens);
    t->token_len = calloc(n, sizeof *t->token_len);
    if (!t->tokens || !t->token_len || !tk_strmap_init(&t->vocab, n)) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    for (size_t i = 0; i < n; i++) {
        const sea_gguf_str *s = &toks->v.arr.strs[i];
        if (strlen(s->str) != s->len) return sea_error(SEA_ERR_FORMAT, "%s: token %zu contains a NUL byte", t->name, i);
        if (!(t->tokens[i] = strdup(s->str))) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        t->token_len[i] = (uint32_t)s->len;
        int32_t prev;
        if (tk_strmap_get(&t->vocab, s->str, s->len, &prev)) continue; /* first id wins, as llama.cpp */
        if (!tk_strmap_put(&t->vocab, t->tokens[i], s->len, (int32_t)i)) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    }
    /* control tokens are special added tokens; user-defined ones are matched in raw text too */
    for (size_t i = 0; types && i < n; i++) {
        int64_t ty = sea_gguf_arr_int(types, i);
        if ((ty == GT_CONTROL || ty == GT_USER || (ty == GT_UNKNOWN && spm)) && t->token_len[i])
            SEA_TRY(add_added(t, (int32_t)i, ty != GT_USER));
    }
    const sea_gguf_kv *merges = sea_gguf_find_kv(g, "tokenizer.ggml.merges");
    if (merges && (merges->type != SEA_GGUF_ARRAY || merges->v.arr.type != SEA_GGUF_STRING))
        return sea_error(SEA_ERR_FORMAT, "%s: tokenizer.ggml.merges must be an array of strings", t->name);
    if (merges) SEA_TRY(merges_from_strings(t, merges));
    else if (bpe) return sea_error(SEA_ERR_FORMAT, "%s: gpt2 tokenizer without tokenizer.ggml.merges", t->name);
    else SEA_TRY(merges_from_scores(t, scores, types));

    int64_t v;
    bool add_bos = spm;
    sea_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &add_bos);
    if (sea_gguf_get_int(g, "tokenizer.ggml.bos_token_id", &v) && v >= 0 && (size_t)v < n) t->bos_id = (int32_t)v;
    if (sea_gguf_get_int(g, "tokenizer.ggml.eos_token_id", &v) && v >= 0 && (size_t)v < n) t->eos_id = (int32_t)v;
    if (sea_gguf_get_int(g, "tokenizer.ggml.padding_token_id", &v) && v >= 0 && (size_t)v < n) t->pad_id = (int32_t)v;
    if (add_bos && t->bos_id >= 0) {
        t->post_pre = malloc(sizeof *t->post_pre);
        if (!t->post_pre) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        t->post_pre[0] = t->bos_id;
        t->n_post_pre = 1;
    }

    if (bpe) {
        /* llama.cpp names the pre-tokenizer; only those whose split is GPT-2's or Llama-3's regex
         * are accepted, so a file never silently splits text differently from its model. */
        const char *pre = sea_gguf_get_str(g, "tokenizer.ggml.pre");
        static const char *const gpt2_like[] = {"default", "gpt-2", "gpt2", "olmo", "phi-2", "stablelm2", "pythia"};
        static const char *const l3_like[] = {"llama-bpe", "llama3", "smaug-bpe"};
        bool l3 = false, known = pre == NULL;
        for (size_t i = 0; pre && i < sizeof l3_like / sizeof l3_like[0]; i++)
            if (strcmp(pre, l3_like[i]) == 0) l3 = known = true;
        for (size_t i = 0; pre && i < sizeof gpt2_like / sizeof gpt2_like[0]; i++)
            if (strcmp(pre, gpt2_like[i]) == 0) known = true;
        if (!known)
            return sea_error(SEA_ERR_UNSUPPORTED,
                             "%s: tokenizer.ggml.pre '%s' is not supported (GPT-2-style: default, gpt-2, olmo, phi-2, "
                             "stablelm2; Llama-3-style: llama-bpe, smaug-bpe); use the model's tokenizer.json instead",
                             t->name, pre);
        tk_pre p = {0};
        if (l3) {
            p.kind = TK_PRE_SPLIT;
            p.behavior = TK_BEH_ISOLATED;
            SEA_TRY(tk_regex_compile(tk_llama3_pattern, strlen(tk_llama3_pattern), t->name, "Llama-3", &p.re));
            SEA_TRY(add_pre(t, p));
            t->ignore_merges = true;
            memset(&p, 0, sizeof p);
            p.kind = TK_PRE_BYTELEVEL;
        } else {
            p.kind = TK_PRE_BYTELEVEL;
            SEA_TRY(tk_regex_compile(tk_gpt2_pattern, strlen(tk_gpt2_pattern), t->name, "GPT-2", &p.re));
        }
        SEA_TRY(add_pre(t, p));
        SEA_TRY(add_dec(t, (tk_dec){.kind = TK_DEC_BYTELEVEL}));
    } else {
        t->byte_fallback = true;
        t->fuse_unk = true;
        if (sea_gguf_get_int(g, "tokenizer.ggml.unknown_token_id", &v) && v >= 0 && (size_t)v < n) t->unk_id = (int32_t)v;
        else tk_strmap_get(&t->vocab, "<unk>", 5, &t->unk_id);
        bool space_prefix = true;
        sea_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &space_prefix);
        tk_norm a = {.kind = TK_NORM_PREPEND, .a = strdup("\xE2\x96\x81")};
        tk_norm b = {.kind = TK_NORM_REPLACE, .a = strdup(" "), .b = strdup("\xE2\x96\x81")};
        if (!a.a || !b.a || !b.b) {
            free(a.a), free(b.a), free(b.b);
            return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        }
        if (space_prefix) SEA_TRY(add_norm(t, a));
        else free(a.a);
        SEA_TRY(add_norm(t, b));
        tk_dec r = {.kind = TK_DEC_REPLACE, .a = strdup("\xE2\x96\x81"), .b = strdup(" ")};
        if (!r.a || !r.b) {
            free(r.a), free(r.b);
            return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        }
        SEA_TRY(add_dec(t, r));
        SEA_TRY(add_dec(t, (tk_dec){.kind = TK_DEC_BYTEFALLBACK}));
        SEA_TRY(add_dec(t, (tk_dec){.kind = TK_DEC_FUSE}));
        if (space_prefix) SEA_TRY(add_dec(t, (tk_dec){.kind = TK_DEC_STRIP, .strip_char = ' ', .start = 1, .stop = 0}));
    }
    SEA_TRY(tk_finish(t));
    tk_index_added(t);
    return SEA_OK;
}

sea_status sea_tokenizer_from_gguf(const struct sea_gguf *g, sea_tokenizer **out)
{
    *out = NULL;
    sea_tokenizer *t = tk_alloc("gguf tokenizer");
    if (!t) return sea_error(SEA_ERR_OOM, "gguf tokenizer: out of memory");
    sea_status st = build(t, g);
    if (st) {
        sea_tokenizer_free(t);
        return st;
    }
    *out = t;
    return SEA_OK;
}
