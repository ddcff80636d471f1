/* Hash maps of the tokenizer (vocab: string -> id; merges: id pair -> rank, new id) and the
 * word cache. Open addressing with linear probing, load factor <= 1/2. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

bool tk_strmap_init(tk_strmap *m, size_t expect)
{
    memset(m, 0, sizeof *m);
    m->cap = pow2_at_least(expect * 2 + 1);
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->klen = calloc(m->cap, sizeof *m->klen);
    m->vals = calloc(m->cap, sizeof *m->vals);
    return m->keys && m->klen && m->vals;
}

void tk_strmap_free(tk_strmap *m)
{
    free(m->keys);
    free(m->klen);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static bool strmap_grow(tk_strmap *m)
{
    tk_strmap g;
    if (!tk_strmap_init(&g, m->cap)) {
        tk_strmap_free(&g);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) tk_strmap_put(&g, m->keys[i], m->klen[i], m->vals[i]);
    tk_strmap_free(m);
    *m = g;
    return true;
}

bool tk_strmap_put(tk_strmap *m, const char *k, size_t klen, int32_t v)
{
    if ((m->n + 1) * 2 > m->cap && !strmap_grow(m)) return false;
    size_t mask = m->cap - 1, i = hash_bytes(k, klen) & mask;
    while (m->keys[i]) {
        if (m->klen[i] == klen && memcmp(m->keys[i], k, klen) == 0) {
            m->vals[i] = v;
            return true;
        }
        i = (i + 1) & mask;
    }
    m->keys[i] = k;
    m->klen[i] = (uint32_t)klen;
    m->vals[i] = v;
    m->n++;
    return true;
}

bool tk_strmap_get(const tk_strmap *m, const char *k, size_t klen, int32_t *v)
{
    if (!m->cap) return false;
    size_t mask = m->cap - 1, i = hash_bytes(k, klen) & mask;
    while (m->keys[i]) {
        if (m->klen[i] == klen && memcmp(m->keys[i], k, klen) == 0) {
            *v = m->vals[i];
            return true;
        }
        i = (i + 1) & mask;
    }
    return false;
}

bool tk_pairmap_init(tk_pairmap *m, size_t expect)
{
    memset(m, 0, sizeof *m);
    m->cap = pow2_at_least(expect * 2 + 1);
    m->keys = malloc(m->cap * sizeof *m->keys);
    m->rank = malloc(m->cap * sizeof *m->rank);
    m->new_id = malloc(m->cap * sizeof *m->new_id);
    if (!m->keys || !m->rank || !m->new_id) return false;
    memset(m->keys, 0xff, m->cap * sizeof *m->keys);
    return true;
}

void tk_pairmap_free(tk_pairmap *m)
{
    free(m->keys);
    free(m->rank);
    free(m->new_id);
    memset(m, 0, sizeof *m);
}

static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }

bool tk_pairmap_put(tk_pairmap *m, int32_t a, int32_t b, int32_t rank, int32_t new_id)
{
    if ((m->n + 1) * 2 > m->cap) {
        tk_pairmap g;
        if (!tk_pairmap_init(&g, m->cap)) {
            tk_pairmap_free(&g);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i] != UINT64_MAX)
                tk_pairmap_put(&g, (int32_t)(m->keys[i] >> 32), (int32_t)(uint32_t)m->keys[i], m->rank[i], m->new_id[i]);
        tk_pairmap_free(m);
        *m = g;
    }
    uint64_t k = pair_key(a, b);
    size_t mask = m->cap - 1, i = hash_u64(k) & mask;
    while (m->keys[i] != UINT64_MAX) {
        if (m->keys[i] == k) return true; /* first (lowest-rank) definition wins */
        i = (i + 1) & mask;
    }
    m->keys[i] = k;
    m->rank[i] = rank;
    m->new_id[i] = new_id;
    m->n++;
    return true;
}

bool tk_pairmap_get(const tk_pairmap *m, int32_t a, int32_t b, int32_t *rank, int32_t *new_id)
{
    if (!m->cap) return false;
    uint64_t k = pair_key(a, b);
    size_t mask = m->cap - 1, i = hash_u64(k) & mask;
    while (m->keys[i] != UINT64_MAX) {
        if (m->keys[i] == k) {
            *rank = m->rank[i];
            *new_id = m->new_id[i];
            return true;
        }
        i = (i + 1) & mask;
    }
    return false;
}

void tk_cache_init(tk_cache *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
}

void tk_cache_free(tk_cache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        if (c->keys && c->keys[i]) {
            free(c->keys[i]);
            free(c->ids[i]);
        }
    free(c->keys);
    free(c->klen);
    free(c->ids);
    free(c->nids);
    pthread_mutex_destroy(&c->mu);
}

/* The cache holds at most TK_CACHE_MAX words (HF keeps 10000) of at most TK_CACHE_WORD bytes;
 * when full it stops inserting rather than evicting, which keeps lookups lock-short. */
#define TK_CACHE_SLOTS 32768
#define TK_CACHE_MAX 10000
#define TK_CACHE_WORD 256

bool tk_cache_get(tk_cache *c, const char *w, size_t n, int32_t **ids, size_t *nids, size_t *cap)
{
    if (n > TK_CACHE_WORD) return false;
    bool hit = false;
    pthread_mutex_lock(&c->mu);
    if (c->cap) {
        size_t mask = c->cap - 1, i = hash_bytes(w, n) & mask;
        while (c->keys[i]) {
            if (c->klen[i] == n && memcmp(c->keys[i], w, n) == 0) {
                size_t k = c->nids[i];
                if (*nids + k > *cap) {
                    size_t nc = (*cap ? *cap * 2 : 64);
                    while (nc < *nids + k) nc *= 2;
                    int32_t *np = realloc(*ids, nc * sizeof *np);
                    if (!np) break;
                    *ids = np;
                    *cap = nc;
                }
                memcpy(*ids + *nids, c->ids[i], k * sizeof **ids);
                *nids += k;
                hit = true;
                break;
            }
            i = (i + 1) & mask;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void tk_cache_put(tk_cache *c, const char *w, size_t n, const int32_t *ids, size_t nids)
{
    if (n > TK_CACHE_WORD) return;
    pthread_mutex_lock(&c->mu);
    if (!c->cap) {
        c->keys = calloc(TK_CACHE_SLOTS, sizeof *c->keys);
        c->klen = calloc(TK_CACHE_SLOTS, sizeof *c->klen);
        c->ids = calloc(TK_CACHE_SLOTS, sizeof *c->ids);
        c->nids = calloc(TK_CACHE_SLOTS, sizeof *c->nids);
        if (c->keys && c->klen && c->ids && c->nids) c->cap = TK_CACHE_SLOTS;
    }
    if (c->cap && c->n < TK_CACHE_MAX) {
        size_t mask = c->cap - 1, i = hash_bytes(w, n) & mask;
        bool found = false;
        while (c->keys[i]) {
            if (c->klen[i] == n && memcmp(c->keys[i], w, n) == 0) {
                found = true;
                break;
            }
            i = (i + 1) & mask;
        }
        if (!found) {
            char *k = malloc(n + 1);
            int32_t *v = malloc((nids ? nids : 1) * sizeof *v);
            if (k && v) {
                if (n) memcpy(k, w, n);
                k[n] = 0;
                if (nids) memcpy(v, ids, nids * sizeof *v); /* a word may encode to no ids (ids NULL) */
                c->keys[i] = k;
                c->klen[i] = (uint32_t)n;
                c->ids[i] = v;
                c->nids[i] = (uint32_t)nids;
                c->n++;
            } else {
                free(k);
                free(v);
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
}
