/* Decoders: a chain of token-list -> token-list steps, then concatenation (HF decode_chain). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

typedef struct toks {
    char **v;
    size_t n, cap;
    bool oom;
} toks;

static void toks_push_own(toks *t, char *s)
{
    if (!s) {
        t->oom = true;
        return;
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **nv = realloc(t->v, nc * sizeof *nv);
        if (!nv) {
            free(s);
            t->oom = true;
            return;
        }
        t->v = nv;
        t->cap = nc;
    }
    t->v[t->n++] = s;
}

static void toks_push(toks *t, const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = 0;
    }
    toks_push_own(t, c);
}

static void toks_free(toks *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->v[i]);
    free(t->v);
    memset(t, 0, sizeof *t);
}

static void push_str(toks *t, tk_str *s)
{
    if (s->oom) t->oom = true;
    toks_push(t, s->p ? s->p : "", s->n);
    tk_str_free(s);
}

/* ByteLevel: each token's characters back to bytes (a token with a character outside the map
 * is taken as its own UTF-8 bytes), all joined, then lossy UTF-8. */
static void dec_bytelevel(const toks *in, toks *out)
{
    tk_str bytes = {0};
    for (size_t i = 0; i < in->n; i++) {
        const char *s = in->v[i];
        size_t n = strlen(s), start = bytes.n;
        bool all = true;
        for (size_t j = 0; j < n;) {
            uint32_t cp;
            int k = tk_utf8_len((const unsigned char *)s + j, n - j, &cp);
            int b = k ? tk_char_byte(cp) : -1;
            if (b < 0) {
                all = false;
                break;
            }
            tk_str_putc(&bytes, (char)b);
            j += (size_t)k;
        }
        if (!all) {
            bytes.n = start;
            tk_str_put(&bytes, s, n);
        }
    }
    tk_str o = {0};
    tk_str_put(&o, "", 0);
    tk_utf8_lossy(&o, (const unsigned char *)(bytes.p ? bytes.p : ""), bytes.n);
    if (bytes.oom) o.oom = true;
    tk_str_free(&bytes);
    push_str(out, &o);
}

static void replace_all(const char *s, const char *pat, const char *with, tk_str *o)
{
    size_t n = strlen(s), pl = strlen(pat), wl = strlen(with);
    tk_str_put(o, "", 0);
    for (size_t i = 0; i < n;) {
        if (pl && i + pl <= n && memcmp(s + i, pat, pl) == 0) {
            tk_str_put(o, with, wl);
            i += pl;
        } else tk_str_putc(o, s[i++]);
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void flush_bytes(tk_str *pending, toks *out)
{
    if (!pending->n) return;
    if (tk_utf8_valid(pending->p, pending->n)) toks_push(out, pending->p, pending->n);
    else
        for (size_t i = 0; i < pending->n; i++) toks_push(out, "\xEF\xBF\xBD", 3);
    pending->n = 0;
}

static void dec_bytefallback(const toks *in, toks *out)
{
    tk_str pending = {0};
    for (size_t i = 0; i < in->n; i++) {
        const char *s = in->v[i];
        int hi, lo;
        if (strlen(s) == 6 && memcmp(s, "<0x", 3) == 0 && s[5] == '>' && (hi = hexval(s[3])) >= 0 &&
            (lo = hexval(s[4])) >= 0)
            tk_str_putc(&pending, (char)(hi * 16 + lo));
        else {
            flush_bytes(&pending, out);
            toks_push(out, s, strlen(s));
        }
    }
    flush_bytes(&pending, out);
    if (pending.oom) out->oom = true;
    tk_str_free(&pending);
}

static void dec_strip(const tk_dec *d, const toks *in, toks *out)
{
    char c[4];
    size_t cl = (size_t)tk_utf8_encode(d->strip_char, c);
    for (size_t i = 0; i < in->n; i++) {
        const char *s = in->v[i];
        size_t b = 0, e = strlen(s);
        for (int k = 0; k < d->start && e - b >= cl && memcmp(s + b, c, cl) == 0; k++) b += cl;
        for (int k = 0; k < d->stop && e - b >= cl && memcmp(s + e - cl, c, cl) == 0; k++) e -= cl;
        toks_push(out, s + b, e - b);
    }
}

static void dec_metaspace(const tk_dec *d, const toks *in, toks *out)
{
    size_t rl = strlen(d->a);
    for (size_t i = 0; i < in->n; i++) {
        tk_str o = {0};
        tk_str_put(&o, "", 0);
        const char *s = in->v[i];
        size_t n = strlen(s);
        for (size_t j = 0; j < n;) {
            if (rl && j + rl <= n && memcmp(s + j, d->a, rl) == 0) {
                if (!(i == 0 && d->prepend)) tk_str_putc(&o, ' ');
                j += rl;
            } else tk_str_putc(&o, s[j++]);
        }
        push_str(out, &o);
    }
}

sea_status tk_decode_tokens(const sea_tokenizer *t, char **tokens, size_t n, tk_str *out)
{
    toks cur = {0};
    for (size_t i = 0; i < n; i++) toks_push(&cur, tokens[i], strlen(tokens[i]));
    if (!t->has_decoder) {
        /* No decoder: HF joins tokens with spaces. */
        for (size_t i = 0; i < cur.n; i++) {
            if (i) tk_str_putc(out, ' ');
            tk_str_put(out, cur.v[i], strlen(cur.v[i]));
        }
        tk_str_put(out, "", 0);
        bool oom = cur.oom || out->oom;
        toks_free(&cur);
        return oom ? sea_error(SEA_ERR_OOM, "%s: out of memory decoding", t->name) : SEA_OK;
    }
    for (size_t k = 0; k < t->n_decs && !cur.oom; k++) {
        const tk_dec *d = &t->decs[k];
        toks next = {0};
        switch (d->kind) {
        case TK_DEC_BYTELEVEL: dec_bytelevel(&cur, &next); break;
        case TK_DEC_METASPACE: dec_metaspace(d, &cur, &next); break;
        case TK_DEC_REPLACE:
            for (size_t i = 0; i < cur.n; i++) {
                tk_str o = {0};
                replace_all(cur.v[i], d->a, d->b, &o);
                push_str(&next, &o);
            }
            break;
        case TK_DEC_BYTEFALLBACK: dec_bytefallback(&cur, &next); break;
        case TK_DEC_FUSE: {
            tk_str o = {0};
            tk_str_put(&o, "", 0);
            for (size_t i = 0; i < cur.n; i++) tk_str_put(&o, cur.v[i], strlen(cur.v[i]));
            push_str(&next, &o);
            break;
        }
        case TK_DEC_STRIP: dec_strip(d, &cur, &next); break;
        case TK_DEC_BPE:
            for (size_t i = 0; i < cur.n; i++) {
                tk_str o = {0};
                replace_all(cur.v[i], d->a, i + 1 == cur.n ? "" : " ", &o);
                push_str(&next, &o);
            }
            break;
        }
        if (cur.oom) next.oom = true;
        toks_free(&cur);
        cur = next;
    }
    for (size_t i = 0; i < cur.n; i++) tk_str_put(out, cur.v[i], strlen(cur.v[i]));
    tk_str_put(out, "", 0);
    bool oom = cur.oom || out->oom;
    toks_free(&cur);
    return oom ? sea_error(SEA_ERR_OOM, "%s: out of memory decoding", t->name) : SEA_OK;
}
