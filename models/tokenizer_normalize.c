/* Normalizers: applied in order to each piece of text between added tokens. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer_internal.h"

static sea_status unicode_form(const sea_tokenizer *t, tk_norm_kind k, const tk_str *in, tk_str *out)
{
    int opts = UTF8PROC_STABLE;
    if (k == TK_NORM_NFC) opts |= UTF8PROC_COMPOSE;
    if (k == TK_NORM_NFD) opts |= UTF8PROC_DECOMPOSE;
    if (k == TK_NORM_NFKC) opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    if (k == TK_NORM_NFKD) opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)(in->p ? in->p : ""), (utf8proc_ssize_t)in->n, &dst,
                                      (utf8proc_option_t)opts);
    if (n < 0) return sea_error(SEA_ERR_INVALID, "%s: Unicode normalization failed: %s", t->name, utf8proc_errmsg(n));
    tk_str_put(out, (const char *)dst, (size_t)n);
    free(dst);
    return SEA_OK;
}

static void lowercase(const tk_str *in, tk_str *out)
{
    size_t i = 0;
    while (i < in->n) {
        uint32_t cp;
        int k = tk_utf8_len((const unsigned char *)in->p + i, in->n - i, &cp);
        if (!k) {
            tk_str_put(out, in->p + i, 1);
            i++;
            continue;
        }
        char buf[4];
        int m = tk_utf8_encode((uint32_t)utf8proc_tolower((utf8proc_int32_t)cp), buf);
        tk_str_put(out, buf, (size_t)m);
        i += (size_t)k;
    }
}

static void replace_literal(const char *pat, const char *with, const tk_str *in, tk_str *out)
{
    size_t pl = strlen(pat), wl = strlen(with);
    if (pl == 0) {
        tk_str_put(out, in->p, in->n);
        return;
    }
    size_t i = 0;
    while (i < in->n) {
        if (i + pl <= in->n && memcmp(in->p + i, pat, pl) == 0) {
            tk_str_put(out, with, wl);
            i += pl;
        } else {
            tk_str_put(out, in->p + i, 1);
            i++;
        }
    }
}

static sea_status replace_regex(const sea_tokenizer *t, pcre2_code *re, const char *with, const tk_str *in, tk_str *out)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md) return sea_error(SEA_ERR_OOM, "%s: out of memory", t->name);
    size_t pos = 0, wl = strlen(with);
    const char *s = in->p ? in->p : "";
    while (pos <= in->n) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, in->n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc < 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        tk_str_put(out, s + pos, ov[0] - pos);
        tk_str_put(out, with, wl);
        if (ov[1] == ov[0]) {
            /* empty match: copy one character and move on */
            if (ov[1] >= in->n) {
                pos = in->n + 1;
                break;
            }
            uint32_t cp;
            int k = tk_utf8_len((const unsigned char *)s + ov[1], in->n - ov[1], &cp);
            if (k < 1) k = 1;
            tk_str_put(out, s + ov[1], (size_t)k);
            pos = ov[1] + (size_t)k;
        } else pos = ov[1];
    }
    if (pos < in->n) tk_str_put(out, s + pos, in->n - pos);
    pcre2_match_data_free(md);
    return SEA_OK;
}

static void strip(const tk_str *in, bool left, bool right, tk_str *out)
{
    size_t b = 0, e = in->n;
    uint32_t cp;
    while (left && b < e) {
        int k = tk_utf8_len((const unsigned char *)in->p + b, e - b, &cp);
        if (!k || !tk_is_whitespace(cp)) break;
        b += (size_t)k;
    }
    while (right && e > b) {
        size_t s = e - 1;
        while (s > b && ((unsigned char)in->p[s] & 0xC0) == 0x80) s--;
        int k = tk_utf8_len((const unsigned char *)in->p + s, e - s, &cp);
        if (!k || !tk_is_whitespace(cp)) break;
        e = s;
    }
    tk_str_put(out, in->p + b, e - b);
}

sea_status tk_normalize(const sea_tokenizer *t, const char *s, size_t n, tk_str *out)
{
    tk_str cur = {0};
    tk_str_put(&cur, s, n);
    for (size_t i = 0; i < t->n_norms && !cur.oom; i++) {
        const tk_norm *nm = &t->norms[i];
        tk_str next = {0};
        tk_str_put(&next, "", 0);
        sea_status st = SEA_OK;
        switch (nm->kind) {
        case TK_NORM_NFC:
        case TK_NORM_NFD:
        case TK_NORM_NFKC:
        case TK_NORM_NFKD: st = unicode_form(t, nm->kind, &cur, &next); break;
        case TK_NORM_LOWER: lowercase(&cur, &next); break;
        case TK_NORM_PREPEND:
            if (cur.n) tk_str_put(&next, nm->a, strlen(nm->a));
            tk_str_put(&next, cur.p, cur.n);
            break;
        case TK_NORM_REPLACE:
            if (nm->re) st = replace_regex(t, nm->re, nm->b, &cur, &next);
            else replace_literal(nm->a, nm->b, &cur, &next);
            break;
        case TK_NORM_STRIP: strip(&cur, nm->left, nm->right, &next); break;
        }
        tk_str_free(&cur);
        cur = next;
        if (st) {
            tk_str_free(&cur);
            return st;
        }
    }
    if (cur.oom) {
        tk_str_free(&cur);
        return sea_error(SEA_ERR_OOM, "%s: out of memory normalizing", t->name);
    }
    *out = cur;
    return SEA_OK;
}
