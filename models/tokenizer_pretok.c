/* Pre-tokenizers: split normalized text into words, each pre-tokenizer applied to every piece
 * produced by the previous one (HF's PreTokenizedString::split). The split behaviours follow
 * tokenizers' NormalizedString::split exactly, including how consecutive matches group. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer_internal.h"

void tk_pieces_push(tk_pieces *p, const char *s, size_t n, bool first)
{
    if (p->oom) return;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        tk_piece *nv = realloc(p->v, nc * sizeof *nv);
        if (!nv) {
            p->oom = true;
            return;
        }
        p->v = nv;
        p->cap = nc;
    }
    char *c = malloc(n + 1);
    if (!c) {
        p->oom = true;
        return;
    }
    if (n) memcpy(c, s, n);
    c[n] = 0;
    p->v[p->n++] = (tk_piece){c, n, first};
}

void tk_pieces_free(tk_pieces *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->v[i].s);
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* (start, end, is_match) spans covering a piece, as Pattern::find_matches returns them. */
typedef struct span {
    size_t s, e;
    bool m;
} span;
typedef struct spans {
    span *v;
    size_t n, cap;
    bool oom;
} spans;

static void spans_push(spans *sp, size_t s, size_t e, bool m)
{
    if (sp->oom) return;
    if (sp->n == sp->cap) {
        size_t nc = sp->cap ? sp->cap * 2 : 16;
        span *nv = realloc(sp->v, nc * sizeof *nv);
        if (!nv) {
            sp->oom = true;
            return;
        }
        sp->v = nv;
        sp->cap = nc;
    }
    sp->v[sp->n++] = (span){s, e, m};
}

static size_t char_len_at(const char *s, size_t n, size_t i)
{
    uint32_t cp;
    int k = tk_utf8_len((const unsigned char *)s + i, n - i, &cp);
    return k > 0 ? (size_t)k : 1;
}

static sea_status regex_matches(const sea_tokenizer *t, pcre2_code *re, const char *s, size_t n, spans *sp)
{
    if (n == 0) {
        spans_push(sp, 0, 0, false);
        return SEA_OK;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    size_t prev = 0, pos = 0;
    while (pos <= n) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            pcre2_match_data_free(md);
            return sea_error(SEA_ERR_INTERNAL, "%s: regex match failed (PCRE2 error %d)", t->name, rc);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (prev != ms) spans_push(sp, prev, ms, false);
        spans_push(sp, ms, me, true);
        prev = me;
        if (me == ms) {
            if (me >= n) break;
            pos = me + char_len_at(s, n, me);
        } else pos = me;
    }
    if (prev != n) spans_push(sp, prev, n, false);
    pcre2_match_data_free(md);
    return sp->oom ? sea_error(SEA_ERR_OOM, "%s: out of memory", t->name) : SEA_OK;
}

static void literal_matches(const char *pat, size_t pl, const char *s, size_t n, spans *sp)
{
    if (n == 0) {
        spans_push(sp, 0, 0, false);
        return;
    }
    size_t prev = 0, i = 0;
    while (pl && i + pl <= n) {
        if (memcmp(s + i, pat, pl) == 0) {
            if (prev != i) spans_push(sp, prev, i, false);
            spans_push(sp, i, i + pl, true);
            i += pl;
            prev = i;
        } else i++;
    }
    if (prev != n) spans_push(sp, prev, n, false);
}

/* Each character for which pred() holds is its own match (individual) or runs are (contiguous
 * is handled by the behavior). */
static void char_class_matches(const char *s, size_t n, bool (*pred)(uint32_t), bool runs, spans *sp)
{
    if (n == 0) {
        spans_push(sp, 0, 0, false);
        return;
    }
    size_t prev = 0, i = 0;
    while (i < n) {
        uint32_t cp = 0;
        int k = tk_utf8_len((const unsigned char *)s + i, n - i, &cp);
        size_t kk = k > 0 ? (size_t)k : 1;
        if (k > 0 && pred(cp)) {
            size_t e = i + kk;
            while (runs && e < n) {
                int k2 = tk_utf8_len((const unsigned char *)s + e, n - e, &cp);
                if (k2 <= 0 || !pred(cp)) break;
                e += (size_t)k2;
            }
            if (prev != i) spans_push(sp, prev, i, false);
            spans_push(sp, i, e, true);
            prev = i = e;
        } else i += kk;
    }
    if (prev != n) spans_push(sp, prev, n, false);
}

static bool is_numeric(uint32_t cp)
{
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

/* Apply a behavior to spans and push the resulting pieces (NormalizedString::split). */
static void apply_behavior(spans *sp, tk_behavior beh, bool invert, const tk_piece *in, tk_pieces *out)
{
    if (invert)
        for (size_t i = 0; i < sp->n; i++) sp->v[i].m = !sp->v[i].m;
    /* Result spans: (s, e, remove) */
    spans r = {0};
    bool prev_match = false;
    switch (beh) {
    case TK_BEH_ISOLATED:
        for (size_t i = 0; i < sp->n; i++) spans_push(&r, sp->v[i].s, sp->v[i].e, false);
        break;
    case TK_BEH_REMOVED:
        for (size_t i = 0; i < sp->n; i++) spans_push(&r, sp->v[i].s, sp->v[i].e, sp->v[i].m);
        break;
    case TK_BEH_CONTIGUOUS:
        for (size_t i = 0; i < sp->n; i++) {
            if (sp->v[i].m == prev_match && r.n) r.v[r.n - 1].e = sp->v[i].e;
            else spans_push(&r, sp->v[i].s, sp->v[i].e, false);
            prev_match = sp->v[i].m;
        }
        break;
    case TK_BEH_MERGED_PREV:
        for (size_t i = 0; i < sp->n; i++) {
            if (sp->v[i].m && !prev_match && r.n) r.v[r.n - 1].e = sp->v[i].e;
            else spans_push(&r, sp->v[i].s, sp->v[i].e, false);
            prev_match = sp->v[i].m;
        }
        break;
    case TK_BEH_MERGED_NEXT:
        for (size_t j = sp->n; j-- > 0;) {
            if (sp->v[j].m && !prev_match && r.n) r.v[r.n - 1].s = sp->v[j].s;
            else spans_push(&r, sp->v[j].s, sp->v[j].e, false);
            prev_match = sp->v[j].m;
        }
        for (size_t a = 0, b = r.n ? r.n - 1 : 0; a < b; a++, b--) {
            span tmp = r.v[a];
            r.v[a] = r.v[b];
            r.v[b] = tmp;
        }
        break;
    }
    if (r.oom) out->oom = true;
    for (size_t i = 0; i < r.n; i++)
        if (!r.v[i].m && r.v[i].e > r.v[i].s)
            tk_pieces_push(out, in->s + r.v[i].s, r.v[i].e - r.v[i].s, in->first && r.v[i].s == 0);
    free(r.v);
}

static bool is_ws(uint32_t cp) { return tk_is_whitespace(cp); }

/* One pre-tokenizer over one piece. */
static sea_status pre_one(const sea_tokenizer *t, const tk_pre *p, const tk_piece *in, tk_pieces *out)
{
    spans sp = {0};
    sea_status st = SEA_OK;
    switch (p->kind) {
    case TK_PRE_SPLIT:
        if (p->re) st = regex_matches(t, p->re, in->s, in->n, &sp);
        else literal_matches(p->literal, p->literal_len, in->s, in->n, &sp);
        if (!st) apply_behavior(&sp, p->behavior, p->invert, in, out);
        break;
    case TK_PRE_DIGITS:
        char_class_matches(in->s, in->n, is_numeric, !p->individual, &sp);
        apply_behavior(&sp, p->individual ? TK_BEH_ISOLATED : TK_BEH_CONTIGUOUS, false, in, out);
        break;
    case TK_PRE_WHITESPACE:
        st = regex_matches(t, p->re, in->s, in->n, &sp);
        if (!st) apply_behavior(&sp, TK_BEH_REMOVED, true, in, out);
        break;
    case TK_PRE_WHITESPACE_SPLIT:
        char_class_matches(in->s, in->n, is_ws, false, &sp);
        apply_behavior(&sp, TK_BEH_REMOVED, false, in, out);
        break;
    case TK_PRE_METASPACE: {
        tk_str s = {0};
        size_t rl = strlen(p->replacement);
        for (size_t i = 0; i < in->n; i++) {
            if (in->s[i] == ' ') tk_str_put(&s, p->replacement, rl);
            else tk_str_putc(&s, in->s[i]);
        }
        tk_str_put(&s, "", 0);
        bool starts = s.n >= rl && memcmp(s.p, p->replacement, rl) == 0;
        bool prepend = !starts && (p->prepend == TK_PREPEND_ALWAYS || (p->prepend == TK_PREPEND_FIRST && in->first));
        tk_str full = {0};
        if (prepend) tk_str_put(&full, p->replacement, rl);
        tk_str_put(&full, s.p, s.n);
        tk_str_free(&s);
        if (full.oom) {
            tk_str_free(&full);
            return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        }
        tk_piece np = {full.p, full.n, in->first};
        if (p->split) {
            literal_matches(p->replacement, rl, np.s, np.n, &sp);
            apply_behavior(&sp, TK_BEH_MERGED_NEXT, false, &np, out);
        } else if (np.n) tk_pieces_push(out, np.s, np.n, np.first);
        tk_str_free(&full);
        break;
    }
    case TK_PRE_BYTELEVEL: {
        tk_str s = {0};
        if (p->add_prefix_space && (in->n == 0 || in->s[0] != ' ')) tk_str_putc(&s, ' ');
        tk_str_put(&s, in->s, in->n);
        if (s.oom) {
            tk_str_free(&s);
            return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
        }
        tk_piece np = {s.p, s.n, in->first};
        tk_pieces words = {0};
        if (p->re) {
            st = regex_matches(t, p->re, np.s, np.n, &sp);
            if (!st) apply_behavior(&sp, TK_BEH_ISOLATED, false, &np, &words);
        } else if (np.n) tk_pieces_push(&words, np.s, np.n, np.first);
        tk_str_free(&s);
        /* bytes -> printable stand-ins */
        for (size_t w = 0; w < words.n && !st; w++) {
            tk_str m = {0};
            for (size_t i = 0; i < words.v[w].n; i++) {
                unsigned char b = (unsigned char)words.v[w].s[i];
                tk_str_put(&m, tk_byte_char[b], tk_byte_char_len[b]);
            }
            if (m.n) tk_pieces_push(out, m.p, m.n, words.v[w].first);
            if (m.oom) out->oom = true;
            tk_str_free(&m);
        }
        if (words.oom) out->oom = true;
        tk_pieces_free(&words);
        break;
    }
    }
    if (sp.oom) out->oom = true;
    free(sp.v);
    return st;
}

sea_status tk_pretokenize(const sea_tokenizer *t, const char *s, size_t n, bool first, tk_pieces *out)
{
    tk_pieces cur = {0};
    tk_pieces_push(&cur, s, n, first);
    for (size_t i = 0; i < t->n_pres; i++) {
        tk_pieces next = {0};
        for (size_t j = 0; j < cur.n; j++) {
            sea_status st = pre_one(t, &t->pres[i], &cur.v[j], &next);
            if (st) {
                tk_pieces_free(&cur);
                tk_pieces_free(&next);
                return st;
            }
        }
        bool oom = cur.oom || next.oom;
        tk_pieces_free(&cur);
        cur = next;
        if (oom) {
            tk_pieces_free(&cur);
            return sea_error(SEA_ERR_OOM, "%s: out of memory pre-tokenizing", t->name);
        }
    }
    *out = cur;
    return SEA_OK;
}
