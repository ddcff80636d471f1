/* Encode / decode pipeline and the tokenizer's public API. See tokenizer.h and
 * tokenizer_internal.h for the stages. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer_internal.h"

bool tk_is_alnum(uint32_t cp)
{
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

typedef struct idbuf {
    int32_t *v;
    size_t n, cap;
} idbuf;

static bool id_push(idbuf *b, int32_t id)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        int32_t *nv = realloc(b->v, nc * sizeof *nv);
        if (!nv) return false;
        b->v = nv;
        b->cap = nc;
    }
    b->v[b->n++] = id;
    return true;
}

/* Last code point before byte offset `end` (s[0..end) valid UTF-8). */
static uint32_t cp_before(const char *s, size_t end, size_t *start)
{
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    uint32_t cp = 0;
    tk_utf8_len((const unsigned char *)s + i, end - i, &cp);
    if (start) *start = i;
    return cp;
}

static bool word_char(uint32_t cp) { return tk_is_alnum(cp) || cp == '_'; }

/* Leftmost-longest added-token match at or after `from`, among tokens of this pass. */
void tk_index_added(sea_tokenizer *t)
{
    memset(t->added_first, 0, sizeof t->added_first);
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].match_len) t->added_first[(unsigned char)t->added[i].match[0]] |= t->added[i].normalized ? 2 : 1;
}

static bool find_added(const sea_tokenizer *t, bool normalized_pass, const char *s, size_t n, size_t from,
                       size_t *ms, size_t *me, const tk_added **which)
{
    uint8_t bit = normalized_pass ? 2 : 1;
    for (size_t pos = from; pos < n; pos++) {
        if (!(t->added_first[(unsigned char)s[pos]] & bit)) continue;
        const tk_added *best = NULL;
        for (size_t i = 0; i < t->n_added; i++) {
            const tk_added *a = &t->added[i];
            if (a->normalized != normalized_pass || a->match_len == 0) continue;
            if ((unsigned char)a->match[0] != (unsigned char)s[pos]) continue;
            if (a->match_len > n - pos || memcmp(s + pos, a->match, a->match_len) != 0) continue;
            if (best && best->match_len >= a->match_len) continue;
            if (a->single_word) {
                uint32_t cp;
                bool start_ok = pos == 0 || !word_char(cp_before(s, pos, NULL));
                size_t e = pos + a->match_len;
                bool stop_ok = e == n || (tk_utf8_len((const unsigned char *)s + e, n - e, &cp) && !word_char(cp));
                if (!start_ok || !stop_ok) continue;
            }
            best = a;
        }
        if (best) {
            *ms = pos;
            *me = pos + best->match_len;
            *which = best;
            return true;
        }
    }
    return false;
}

/* Encode one piece of normalized text (no added tokens inside). */
static sea_status encode_words(const sea_tokenizer *t, const char *s, size_t n, bool first, idbuf *out)
{
    tk_pieces words = {0};
    SEA_TRY(tk_pretokenize(t, s, n, first, &words));
    sea_status st = SEA_OK;
    for (size_t i = 0; i < words.n && !st; i++) st = tk_bpe_word(t, words.v[i].s, words.v[i].n, &out->v, &out->n, &out->cap);
    tk_pieces_free(&words);
    return st;
}

/* Split `s` on added tokens of one pass; non-token pieces go to the next stage. */
static sea_status split_added(const sea_tokenizer *t, bool normalized_pass, const char *s, size_t n, bool first,
                              idbuf *out);

static sea_status encode_piece(const sea_tokenizer *t, const char *s, size_t n, bool first, idbuf *out)
{
    /* normalize, then the normalized added tokens, then words */
    tk_str norm = {0};
    SEA_TRY(tk_normalize(t, s, n, &norm));
    sea_status st = split_added(t, true, norm.p ? norm.p : "", norm.n, first, out);
    tk_str_free(&norm);
    return st;
}

static sea_status split_added(const sea_tokenizer *t, bool normalized_pass, const char *s, size_t n, bool first,
                              idbuf *out)
{
    size_t start = 0, pos = 0, ms, me;
    const tk_added *a;
    while (find_added(t, normalized_pass, s, n, pos, &ms, &me, &a)) {
        size_t b = ms, e = me;
        if (a->lstrip)
            while (b > start) {
                size_t cs;
                if (!tk_is_whitespace(cp_before(s, b, &cs))) break;
                b = cs;
            }
        if (a->rstrip)
            while (e < n) {
                uint32_t cp;
                int k = tk_utf8_len((const unsigned char *)s + e, n - e, &cp);
                if (!k || !tk_is_whitespace(cp)) break;
                e += (size_t)k;
            }
        if (b > start) {
            sea_status st = normalized_pass ? encode_words(t, s + start, b - start, first && start == 0, out)
                                            : encode_piece(t, s + start, b - start, first && start == 0, out);
            if (st) return st;
        }
        if (!id_push(out, a->id)) return sea_error(SEA_ERR_OOM, "%s: out of memory encoding", t->name);
        start = pos = e;
    }
    if (start < n || (n == 0 && !normalized_pass)) {
        return normalized_pass ? encode_words(t, s + start, n - start, first && start == 0, out)
                               : encode_piece(t, s + start, n - start, first && start == 0, out);
    }
    return SEA_OK;
}

sea_status sea_tokenizer_encode(const sea_tokenizer *t, const char *text, size_t len, bool add_special, int32_t **ids,
                                size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (!text && len) return sea_error(SEA_ERR_INVALID, "%s: encode: text is NULL", t->name);
    if (!tk_utf8_valid(text, len)) {
        size_t i = 0;
        uint32_t cp;
        while (i < len) {
            int k = tk_utf8_len((const unsigned char *)text + i, len - i, &cp);
            if (!k) break;
            i += (size_t)k;
        }
        return sea_error(SEA_ERR_INVALID, "%s: encode: input is not valid UTF-8 (byte %zu of %zu)", t->name, i, len);
    }
    idbuf out = {0};
    sea_status st = SEA_OK;
    if (add_special)
        for (size_t i = 0; i < t->n_post_pre && !st; i++)
            if (!id_push(&out, t->post_pre[i])) st = sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    if (!st) st = split_added(t, false, text ? text : "", len, true, &out);
    if (add_special)
        for (size_t i = 0; i < t->n_post_post && !st; i++)
            if (!id_push(&out, t->post_post[i])) st = sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    if (st) {
        free(out.v);
        return st;
    }
    *ids = out.v;
    *n = out.n;
    return SEA_OK;
}

sea_status sea_tokenizer_decode(const sea_tokenizer *t, const int32_t *ids, size_t n, bool skip_special, char **text)
{
    *text = NULL;
    char **toks = malloc((n ? n : 1) * sizeof *toks);
    if (!toks) return sea_error(SEA_ERR_OOM, "%s: out of memory decoding %zu ids", t->name, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || (size_t)id >= t->n_tokens || !t->tokens[id]) {
            free(toks);
            return sea_error(SEA_ERR_INVALID, "%s: decode: id %d at position %zu is not in the vocabulary (size %zu)",
                             t->name, id, i, t->n_tokens);
        }
        if (skip_special && t->is_special[id]) continue;
        toks[k++] = t->tokens[id];
    }
    tk_str out = {0};
    sea_status st = tk_decode_tokens(t, toks, k, &out);
    free(toks);
    if (st) {
        tk_str_free(&out);
        return st;
    }
    if (!out.p) tk_str_put(&out, "", 0);
    if (out.oom) {
        tk_str_free(&out);
        return sea_error(SEA_ERR_OOM, "%s: out of memory decoding", t->name);
    }
    *text = out.p;
    return SEA_OK;
}

size_t sea_tokenizer_vocab_size(const sea_tokenizer *t) { return t->n_tokens; }

int32_t sea_tokenizer_token_to_id(const sea_tokenizer *t, const char *token)
{
    if (!token) return -1;
    size_t n = strlen(token);
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].len == n && memcmp(t->added[i].content, token, n) == 0) return t->added[i].id;
    int32_t id;
    return tk_strmap_get(&t->vocab, token, n, &id) ? id : -1;
}

const char *sea_tokenizer_id_to_token(const sea_tokenizer *t, int32_t id)
{
    return id >= 0 && (size_t)id < t->n_tokens ? t->tokens[id] : NULL;
}

bool sea_tokenizer_is_special(const sea_tokenizer *t, int32_t id)
{
    return id >= 0 && (size_t)id < t->n_tokens && t->is_special[id];
}

int32_t sea_tokenizer_bos_id(const sea_tokenizer *t) { return t->bos_id; }
int32_t sea_tokenizer_eos_id(const sea_tokenizer *t) { return t->eos_id; }
int32_t sea_tokenizer_pad_id(const sea_tokenizer *t) { return t->pad_id; }

void sea_tokenizer_set_special_ids(sea_tokenizer *t, int32_t bos, int32_t eos, int32_t pad)
{
    t->bos_id = bos;
    t->eos_id = eos;
    t->pad_id = pad;
}
