/* Token sampling: greedy, or top-k / top-p truncation then Gumbel-max with the counter-based
 * RNG (runtime/rng.h), exactly as op.h specifies, so every backend picks the same token.
 *
 * Truncation order follows Hugging Face's warpers: top-k first (ties by lower index), then
 * top-p over the softmax of the surviving logits / T, keeping the smallest highest-probability
 * prefix whose mass reaches top_p (the token that crosses is kept). */
#include <stdio.h>
#include <string.h>

#include "cpu_internal.h"
#include "rng.h"

typedef struct sample_ctx {
    const float *x;         /* (B, V) */
    const int32_t *seq;     /* (B) */
    int32_t *tokens;        /* (B) */
    float *logp;            /* (B) or NULL */
    int64_t V;
    const sea_op_params *p;
    int failed;             /* set when a scratch allocation failed */
    float gumbel_max;       /* largest -log(-log(u)) for u < 1 */
    bool batch_rng;         /* philox_uniform_block agrees with sea_rng_uniform */
} sample_ctx;

/* Uniforms u[j] = sea_rng_uniform(seed, stream, ctr0 + j) for j < n, computed 8 at a time:
 * the same Philox4x32-10 as runtime/rng.c written so the compiler vectorizes across
 * counters. philox_batch_ok() checks it against sea_rng_uniform once per process and the
 * sampler falls back to the scalar function if rng.c ever changes. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
#define UBLOCK 64

static void philox_uniform_scalar(uint64_t seed, uint32_t stream, uint64_t ctr0, int n, float *u)
{
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32) ^ stream;
    for (int j = 0; j < n; j++) {
        uint64_t ctr = ctr0 + (uint64_t)j;
        uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = stream, c3 = 0, a = k0, b = k1;
        for (int r = 0; r < 10; r++) {
            uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ a, n1 = (uint32_t)p1, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ b,
                     n3 = (uint32_t)p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
            a += PHILOX_W0;
            b += PHILOX_W1;
        }
        u[j] = ((float)(c0 >> 9) + 0.5f) * (1.0f / 8388608.0f);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* 32x32 -> 64 products of 8 lanes: (hi, lo) words, as mulhilo in rng.c. */
__attribute__((target("avx2"))) static inline void mulhilo8(__m256i m, __m256i c, __m256i *hi, __m256i *lo)
{
    __m256i even = _mm256_mul_epu32(c, m);                         /* lanes 0, 2, 4, 6 */
    __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);   /* lanes 1, 3, 5, 7 */
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

__attribute__((target("avx2"))) static void philox_uniform_avx2(uint64_t seed, uint32_t stream, uint64_t ctr0, int n,
                                                               float *u)
{
    int j = 0;
    const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
    for (; j + 8 <= n; j += 8) {
        uint32_t lo[8], hi[8];
        for (int k = 0; k < 8; k++) {
            uint64_t ctr = ctr0 + (uint64_t)(j + k);
            lo[k] = (uint32_t)ctr;
            hi[k] = (uint32_t)(ctr >> 32);
        }
        __m256i c0 = _mm256_loadu_si256((const __m256i *)lo), c1 = _mm256_loadu_si256((const __m256i *)hi);
        __m256i c2 = _mm256_set1_epi32((int)stream), c3 = _mm256_setzero_si256();
        uint32_t a = (uint32_t)seed, b = (uint32_t)(seed >> 32) ^ stream;
        for (int r = 0; r < 10; r++) {
            __m256i hi0, lo0, hi1, lo1;
            mulhilo8(m0, c0, &hi0, &lo0);
            mulhilo8(m1, c2, &hi1, &lo1);
            c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)a));
            c1 = lo1;
            c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)b));
            c3 = lo0;
            a += PHILOX_W0;
            b += PHILOX_W1;
        }
        __m256 f = _mm256_cvtepi32_ps(_mm256_srli_epi32(c0, 9));   /* 23 bits: exact */
        f = _mm256_mul_ps(_mm256_add_ps(f, _mm256_set1_ps(0.5f)), _mm256_set1_ps(1.0f / 8388608.0f));
        _mm256_storeu_ps(u + j, f);
    }
    if (j < n) philox_uniform_scalar(seed, stream, ctr0 + (uint64_t)j, n - j, u + j);
}
#endif

static void philox_uniform_block(uint64_t seed, uint32_t stream, uint64_t ctr0, int n, float *u)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2")) {
        philox_uniform_avx2(seed, stream, ctr0, n, u);
        return;
    }
#endif
    philox_uniform_scalar(seed, stream, ctr0, n, u);
}

/* cand[k] = 1 when u[k] reaches exp(-exp(x[k]/T - best)), lowered by a relative 1e-3: below
 * it a uniform cannot lift token k past `best`. Bytes rather than a branch per token so the
 * loop vectorizes; the caller skips 8 tokens at a time where all are 0. */
SEA_CPU_CLONES static void gumbel_candidates(uint8_t *restrict cand, const float *restrict u, const float *restrict x,
                                             float invT, float best, int n)
{
    for (int k = 0; k < n; k++) cand[k] = u[k] >= sea_cpu_vexpf(-sea_cpu_vexpf(x[k] * invT - best)) * 0.999f - 1e-6f;
}

static int batch_state;   /* 0 unknown, 1 matches sea_rng_uniform, -1 does not */

static bool philox_batch_ok(void)
{
    int st = __atomic_load_n(&batch_state, __ATOMIC_RELAXED);
    if (st) return st > 0;
    float u[UBLOCK];
    bool ok = true;
    const uint64_t seeds[3] = {0, 0x123456789abcdefull, ~0ull};
    for (int k = 0; k < 3 && ok; k++) {
        uint64_t ctr0 = (uint64_t)k * 0xfffffff0ull;   /* crosses a 32-bit counter boundary */
        philox_uniform_block(seeds[k], (uint32_t)(k * 77), ctr0, UBLOCK, u);
        for (int j = 0; j < UBLOCK && ok; j++) ok = u[j] == sea_rng_uniform(seeds[k], (uint32_t)(k * 77), ctr0 + (uint64_t)j);
    }
    __atomic_store_n(&batch_state, ok ? 1 : -1, __ATOMIC_RELAXED);
    return ok;
}

/* Order: larger logit first, then lower index. */
static _Thread_local const float *tl_x;
static int by_logit_desc(const void *a, const void *b)
{
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    float xi = tl_x[i], xj = tl_x[j];
    if (xi != xj) return xi > xj ? -1 : 1;
    return (i > j) - (i < j);
}

/* Min-heap on (logit, -index) for top-k selection: the root is the weakest kept token. */
static bool weaker(const float *x, int32_t i, int32_t j) { return x[i] < x[j] || (x[i] == x[j] && i > j); }

static void heap_down(const float *x, int32_t *h, int64_t n, int64_t at)
{
    for (;;) {
        int64_t l = 2 * at + 1, r = l + 1, m = at;
        if (l < n && weaker(x, h[l], h[m])) m = l;
        if (r < n && weaker(x, h[r], h[m])) m = r;
        if (m == at) return;
        int32_t t = h[m];
        h[m] = h[at];
        h[at] = t;
        at = m;
    }
}

/* Kept indices into idx (returns how many). */
static int64_t truncate_row(const float *x, int64_t V, const sea_op_params *p, int32_t *idx)
{
    int64_t n;
    float T = p->sample.temperature;
    if (p->sample.top_k > 0 && p->sample.top_k < V) {
        int64_t k = p->sample.top_k;
        for (int64_t i = 0; i < k; i++) idx[i] = (int32_t)i;
        for (int64_t i = k / 2 - 1; i >= 0; i--) heap_down(x, idx, k, i);
        for (int64_t i = k; i < V; i++)
            if (weaker(x, idx[0], (int32_t)i)) {
                idx[0] = (int32_t)i;
                heap_down(x, idx, k, 0);
            }
        n = k;
    } else {
        for (int64_t i = 0; i < V; i++) idx[i] = (int32_t)i;
        n = V;
    }
    if (p->sample.top_p < 1.0f) {
        /* Only the highest-probability prefix matters: sort a threshold set {x >= m - delta}
         * whose mass already reaches top_p (widening delta until it does). That set is a prefix
         * of the full sorted order, so the cumulative sums, hence the kept set, are the same. */
        double invT = 1.0 / (double)T, m = -INFINITY, z = 0;
        for (int64_t i = 0; i < n; i++) m = x[idx[i]] > m ? x[idx[i]] : m;
        for (int64_t i = 0; i < n; i++) z += exp((x[idx[i]] - m) * invT);
        int64_t cand = n;
        for (double delta = 8.0 * T; delta < 1e4 * T; delta *= 2) {
            int64_t c = 0;
            double mass = 0;
            for (int64_t i = 0; i < n; i++)
                if (x[idx[i]] >= m - delta) {
                    mass += exp((x[idx[i]] - m) * invT) / z;
                    c++;
                }
            if (mass >= p->sample.top_p) {
                /* move the candidates to the front, keeping their relative order */
                int64_t w = 0;
                for (int64_t i = 0; i < n; i++)
                    if (x[idx[i]] >= m - delta) {
                        int32_t t = idx[w];
                        idx[w++] = idx[i];
                        idx[i] = t;
                    }
                cand = c;
                break;
            }
        }
        tl_x = x;
        qsort(idx, (size_t)cand, sizeof *idx, by_logit_desc);
        double cum = 0;
        int64_t keep = cand;
        for (int64_t i = 0; i < cand; i++) {
            cum += exp((x[idx[i]] - m) * invT) / z;
            if (cum >= p->sample.top_p) {
                keep = i + 1;
                break;
            }
        }
        n = keep;
    }
    return n;
}

static void sample_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    sample_ctx *c = vctx;
    (void)tid;
    const sea_op_params *p = c->p;
    int64_t V = c->V;
    bool truncating = p->sample.temperature > 0 && ((p->sample.top_k > 0 && p->sample.top_k < V) || p->sample.top_p < 1.0f);
    int32_t *idx = truncating ? malloc((size_t)V * sizeof *idx) : NULL;
    if (truncating && !idx) {
        __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t b = begin; b < end; b++) {
        const float *x = c->x + b * V;
        int32_t best = 0;
        if (p->sample.temperature == 0) {
            for (int64_t i = 1; i < V; i++)
                if (x[i] > x[best]) best = (int32_t)i;
        } else {
            float invT = 1.0f / p->sample.temperature;
            uint32_t stream = (uint32_t)c->seq[b];
            uint64_t base = (uint64_t)p->sample.step * (uint64_t)V;
            int64_t n = truncating ? truncate_row(x, V, p, idx) : V;
            /* Start from the largest logit's score; a token whose logit/T plus the largest
             * Gumbel noise the RNG can produce stays below the best score cannot win, so its
             * uniform is never drawn. The bound is exact in float arithmetic (monotone). */
            int32_t first = truncating ? idx[0] : 0;
            for (int64_t j = 1; j < n; j++) {
                int32_t i = truncating ? idx[j] : (int32_t)j;
                if (x[i] > x[first] || (x[i] == x[first] && i < first)) first = i;
            }
            best = first;
            float best_score = x[first] * invT - logf(-logf(sea_rng_uniform(p->sample.seed, stream, base + (uint64_t)first)));
            if (!truncating && c->batch_rng) {
                /* blocks of 64 tokens: skip blocks with no candidate, else draw all 64 at once */
                float u[UBLOCK];
                for (int64_t j0 = 0; j0 < n; j0 += UBLOCK) {
                    int m = n - j0 < UBLOCK ? (int)(n - j0) : UBLOCK;
                    float hi = -INFINITY;
                    for (int k = 0; k < m; k++) hi = x[j0 + k] > hi ? x[j0 + k] : hi;
                    if (hi * invT + c->gumbel_max < best_score) continue;
                    philox_uniform_block(p->sample.seed, stream, base + (uint64_t)j0, m, u);
                    /* g = -log(-log u) beats best - x/T only if u >= exp(-exp(x/T - best)): a
                     * vectorized, slightly lowered threshold (so float error never skips a
                     * winner) leaves the two logs to the few tokens that may win */
                    uint8_t cand[UBLOCK];
                    gumbel_candidates(cand, u, x + j0, invT, best_score, m);
                    for (int k = 0; k < m; k++) {
                        if ((k & 7) == 0 && k + 8 <= m) {
                            uint64_t eight;
                            memcpy(&eight, cand + k, sizeof eight);
                            if (!eight) {
                                k += 7;
                                continue;
                            }
                        }
                        int32_t i = (int32_t)(j0 + k);
                        if (i == first || !cand[k] || x[i] * invT + c->gumbel_max < best_score) continue;
                        float score = x[i] * invT - logf(-logf(u[k]));
                        if (score > best_score || (score == best_score && i < best)) {
                            best_score = score;
                            best = i;
                        }
                    }
                }
            } else {
                for (int64_t j = 0; j < n; j++) {
                    int32_t i = truncating ? idx[j] : (int32_t)j;
                    if (i == first || x[i] * invT + c->gumbel_max < best_score) continue;
                    float u = sea_rng_uniform(p->sample.seed, stream, base + (uint64_t)i);
                    float score = x[i] * invT - logf(-logf(u));
                    if (score > best_score || (score == best_score && i < best)) {
                        best_score = score;
                        best = i;
                    }
                }
            }
        }
        c->tokens[b] = best;
        if (c->logp) {
            float m = sea_cpu_max(x, V);
            c->logp[b] = x[best] - (m + (float)log(sea_cpu_sum_exp(x, m, V)));
        }
    }
    free(idx);
}

sea_status sea_cpu_sample(const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    sample_ctx c = {.x = cpu_f32(x), .seq = cpu_i32(op->in[1]), .tokens = cpu_i32(op->out[0]),
                    .logp = op->out[1] ? cpu_f32(op->out[1]) : NULL, .V = x->shape[1], .p = &op->p};
    /* u is at most the largest float below 1 (an RNG returning exactly 1 gives +inf noise,
     * which no bound covers: see the report on rng.c) */
    c.gumbel_max = -logf(-logf(0x1.fffffep-1f));
    c.batch_rng = philox_batch_ok();
    if (c.V == 0) return sea_error(SEA_ERR_SHAPE, "sample: logits (%lld, 0) f32 has no vocabulary on cpu", (long long)x->shape[0]);
    cpu_for(x->shape[0], 1, sample_rows, &c);
    if (c.failed) return sea_error(SEA_ERR_OOM, "sample: out of host memory for a %lld-entry index on cpu", (long long)c.V);
    return SEA_OK;
}
