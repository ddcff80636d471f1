/* The BPE model: one pre-tokenized word -> ids, as HF tokenizers' BPE::merge_word does:
 * characters (with byte fallback / unk), then merges applied lowest rank first (leftmost on
 * ties) using a binary heap and a linked list of symbols, so a long word costs O(n log n). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

typedef struct sym {
    int32_t id;
    int prev, next; /* -1 at the ends */
    bool dead;
} sym;

typedef struct cand {
    int32_t rank;
    int pos;
    int32_t new_id;
} cand;

typedef struct heap {
    cand *v;
    size_t n, cap;
} heap;

static bool cand_less(cand a, cand b) { return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos; }

static bool heap_push(heap *h, cand c)
{
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 32;
        cand *nv = realloc(h->v, nc * sizeof *nv);
        if (!nv) return false;
        h->v = nv;
        h->cap = nc;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_less(c, h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = c;
    return true;
}

static cand heap_pop(heap *h)
{
    cand top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        cand best = last;
        if (l < h->n && cand_less(h->v[l], best)) m = l, best = h->v[l];
        if (r < h->n && cand_less(h->v[r], best)) m = r;
        if (m == i) break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (h->n) h->v[i] = last;
    return top;
}

typedef struct syms {
    sym *v;
    size_t n, cap;
} syms;

static bool syms_add(syms *s, int32_t id)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 32;
        sym *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) return false;
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n] = (sym){id, (int)s->n - 1, -1, false};
    if (s->n) s->v[s->n - 1].next = (int)s->n;
    s->n++;
    return true;
}

static bool ids_append(int32_t **ids, size_t *nids, size_t *cap, int32_t id)
{
    if (*nids == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        int32_t *np = realloc(*ids, nc * sizeof *np);
        if (!np) return false;
        *ids = np;
        *cap = nc;
    }
    (*ids)[(*nids)++] = id;
    return true;
}

/* Characters of the word -> initial symbols (HF's merge_word loop). */
static bool initial_symbols(const sea_tokenizer *t, const char *w, size_t n, syms *s)
{
    size_t plen = t->cont_prefix ? strlen(t->cont_prefix) : 0, slen = t->eow_suffix ? strlen(t->eow_suffix) : 0;
    char stackbuf[64];
    int32_t unk = -1; /* pending unk (fuse_unk merges runs of them) */
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int k = tk_utf8_len((const unsigned char *)w + i, n - i, &cp);
        if (k == 0) k = 1; /* not reached for validated input; keep going byte-wise */
        bool first = i == 0, last = i + (size_t)k == n;
        size_t len = (size_t)k + (first ? 0 : plen) + (last ? slen : 0);
        char *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
        if (!buf) return false;
        size_t o = 0;
        if (!first && plen) memcpy(buf, t->cont_prefix, plen), o = plen;
        memcpy(buf + o, w + i, (size_t)k);
        o += (size_t)k;
        if (last && slen) memcpy(buf + o, t->eow_suffix, slen);
        int32_t id;
        bool ok = true;
        if (tk_strmap_get(&t->vocab, buf, len, &id)) {
            if (unk >= 0) ok = syms_add(s, unk), unk = -1;
            ok = ok && syms_add(s, id);
        } else {
            bool done = false;
            if (t->byte_fallback) {
                bool all = true;
                for (size_t b = 0; b < len; b++)
                    if (t->byte_ids[(unsigned char)buf[b]] < 0) all = false;
                if (all) {
                    /* HF adds byte tokens without flushing a pending unk first. */
                    for (size_t b = 0; b < len && ok; b++) ok = syms_add(s, t->byte_ids[(unsigned char)buf[b]]);
                    done = true;
                }
            }
            if (!done && t->unk_id >= 0) {
                if (unk >= 0 && !t->fuse_unk) ok = syms_add(s, unk);
                unk = t->unk_id;
            }
        }
        if (buf != stackbuf) free(buf);
        if (!ok) return false;
        i += (size_t)k;
    }
    if (unk >= 0 && !syms_add(s, unk)) return false;
    return true;
}

static bool merge_all(const sea_tokenizer *t, syms *s)
{
    heap h = {0};
    bool ok = true;
    for (size_t i = 0; i + 1 < s->n && ok; i++) {
        int32_t rank, nid;
        if (tk_pairmap_get(&t->merges, s->v[i].id, s->v[i + 1].id, &rank, &nid))
            ok = heap_push(&h, (cand){rank, (int)i, nid});
    }
    while (ok && h.n) {
        cand c = heap_pop(&h);
        sym *a = &s->v[c.pos];
        if (a->dead || a->next < 0) continue;
        sym *b = &s->v[a->next];
        int32_t rank, nid;
        /* Stale entry: the pair changed since it was queued. */
        if (!tk_pairmap_get(&t->merges, a->id, b->id, &rank, &nid) || nid != c.new_id) continue;
        a->id = c.new_id;
        b->dead = true;
        a->next = b->next;
        if (b->next >= 0) s->v[b->next].prev = c.pos;
        if (a->prev >= 0 && tk_pairmap_get(&t->merges, s->v[a->prev].id, a->id, &rank, &nid))
            ok = heap_push(&h, (cand){rank, a->prev, nid});
        if (ok && a->next >= 0 && tk_pairmap_get(&t->merges, a->id, s->v[a->next].id, &rank, &nid))
            ok = heap_push(&h, (cand){rank, c.pos, nid});
    }
    free(h.v);
    return ok;
}

sea_status tk_bpe_word(const sea_tokenizer *t, const char *w, size_t n, int32_t **ids, size_t *nids, size_t *cap)
{
    if (n == 0) return SEA_OK;
    if (tk_cache_get((tk_cache *)&t->cache, w, n, ids, nids, cap)) return SEA_OK;
    int32_t id;
    if (t->ignore_merges && tk_strmap_get(&t->vocab, w, n, &id)) {
        if (!ids_append(ids, nids, cap, id)) return sea_error(SEA_ERR_OOM, "%s: out of memory encoding", t->name);
        tk_cache_put((tk_cache *)&t->cache, w, n, &id, 1);
        return SEA_OK;
    }
    syms s = {0};
    bool ok = initial_symbols(t, w, n, &s) && merge_all(t, &s);
    size_t start = *nids;
    for (int i = s.n ? 0 : -1; ok && i >= 0; i = s.v[i].next) ok = ids_append(ids, nids, cap, s.v[i].id);
    free(s.v);
    if (!ok) return sea_error(SEA_ERR_OOM, "%s: out of memory encoding a %zu-byte word", t->name, n);
    tk_cache_put((tk_cache *)&t->cache, w, n, *ids + start, *nids - start);
    return SEA_OK;
}
