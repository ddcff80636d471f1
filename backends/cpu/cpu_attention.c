/* Causal self-attention with key padding (training/prefill), its backward, and one-query
 * decode attention over a KV cache.
 *
 * Training/prefill work on blocks of 64 query rows of one head: the scores against the keys
 * they can see are one GEMM, the softmax runs over the block's rows, the output another
 * GEMM (strided views of (B, T, H, hd), no copies). lse is saved; backward recomputes the
 * probabilities from it (p = exp(s - lse)). Decode (one query) uses a plain score row. */
#include <string.h>

#include "cpu_internal.h"
#include "cpu_matmul.h"

typedef struct attn_ctx {
    const float *q, *k, *v;     /* q (B, T, H, hd); k, v (B, S, Hkv, hd) */
    const int32_t *valid;       /* (B, S) or NULL */
    const float *o, *go, *lse;  /* backward: out, gout (B, T, H, hd), lse (B, H, T) */
    float *out, *lse_out;
    float *gq, *gk, *gv;
    int64_t B, T, S, H, Hkv, hd;
    int n_keys;                 /* decode: keys 0..n_keys-1 */
    int64_t qs_b, qs_h;         /* decode: q's batch and head strides (q may be a head slice) */
    const float *pk, *pv;       /* decode: shared prefix (Bp, Sp, Hkv, hd) or NULL */
    const int32_t *pvalid;      /* decode: (Bp, Sp) */
    int64_t Sp, group_b;        /* decode: prefix length; sequences per prefix row (B / Bp) */
    float scale;
    int failed;                 /* a worker could not allocate its scratch */
} attn_ctx;

/* scores[s] = scale * q . k_s for keys s < n (-inf where invalid); returns the max. The dot
 * product is inlined (sea_cpu_dot's order): at decode sizes (hd 64-256) a call per key cost
 * as much as the arithmetic. */
SEA_CPU_CLONES static float decode_scores(float *restrict scores, const float *restrict q, const float *restrict kb,
                                          int64_t kstride, int64_t hd, int64_t n, float scale,
                                          const int32_t *restrict valid)
{
    float m = -INFINITY;
    for (int64_t s = 0; s < n; s++) {
        if (valid && !valid[s]) {
            scores[s] = -INFINITY;
            continue;
        }
        float sc = scale * sea_cpu_dot_inline(q, kb + s * kstride, hd);
        scores[s] = sc;
        if (sc > m) m = sc;
    }
    return m;
}

/* out (hd) = sum_s p_s v_s with p_s = exp(scores[s] - m) (scores[s] == -inf skipped); returns
 * sum_s p_s. */
SEA_CPU_CLONES static double decode_mix(float *restrict out, const float *restrict scores, const float *restrict vb,
                                        int64_t kstride, int64_t hd, int64_t n, float m)
{
    double sum = 0;
    for (int64_t s = 0; s < n; s++) {
        if (scores[s] == -INFINITY) continue;
        float p = expf(scores[s] - m);
        sum += p;
        const float *v = vb + s * kstride;
        for (int64_t d = 0; d < hd; d++) out[d] += p * v[d];
    }
    return sum;
}

/* One decode query of sequence b, kv head kh: the keys of its prefix row (when the op has
 * one) then its own keys [0, n_keys), one softmax over both, as if the prefix row were
 * copied in front of its cache. scores holds Sp + n_keys. Writes the out row. Without a
 * prefix the arithmetic is exactly the prefix-free op's (sum starts at 0). */
static void attend_row(const attn_ctx *c, const float *q, int64_t b, int64_t kh, int64_t n_keys, float *scores,
                       float *out)
{
    int64_t hd = c->hd, kstride = c->Hkv * hd, np = c->pk ? c->Sp : 0;
    const float *kb = c->k + (b * c->S * c->Hkv + kh) * hd;   /* (S, Hkv, hd) at head kh */
    const float *vb = c->v + (b * c->S * c->Hkv + kh) * hd;
    const float *pkb = NULL, *pvb = NULL;                      /* (Sp, Hkv, hd) at head kh */
    float m = -INFINITY;
    if (np) {
        int64_t pb = b / c->group_b;
        pkb = c->pk + (pb * np * c->Hkv + kh) * hd;
        pvb = c->pv + (pb * np * c->Hkv + kh) * hd;
        m = decode_scores(scores, q, pkb, kstride, hd, np, c->scale, c->pvalid + pb * np);
    }
    float m_own = decode_scores(scores + np, q, kb, kstride, hd, n_keys, c->scale, c->valid ? c->valid + b * c->S : NULL);
    if (m_own > m) m = m_own;
    memset(out, 0, (size_t)hd * sizeof(float));
    if (m == -INFINITY) return;   /* no admissible key: zeros */
    double sum = np ? decode_mix(out, scores, pvb, kstride, hd, np, m) : 0;
    sum += decode_mix(out, scores + np, vb, kstride, hd, n_keys, m);
    float inv = (float)(1.0 / sum);
    for (int64_t d = 0; d < hd; d++) out[d] *= inv;
}

/* Query rows per block: the score block (ATTN_QB x T) stays small for long sequences. */
#define ATTN_QB 64

/* Scores of query rows [t0, t1) of head h against keys [0, t1) of kv head kh, as one GEMM:
 * S (nq, nk) = scale * Q (nq, hd) K^T. Rows and columns are strided views of (B, T, H, hd). */
static void score_block(const attn_ctx *c, int64_t b, int64_t h, int64_t kh, int64_t t0, int64_t t1, float *S)
{
    int64_t hd = c->hd, T = c->T;
    const float *Q = c->q + ((b * T + t0) * c->H + h) * hd;
    const float *K = c->k + (b * T * c->Hkv + kh) * hd;
    sea_cpu_gemm(false, true, t1 - t0, t1, hd, c->scale, Q, c->H * hd, K, c->Hkv * hd, 0.0f, S, t1);
}

/* Row t of a score block: keys s <= t that are valid; everything else gets probability 0. */
static bool key_ok(const attn_ctx *c, int64_t b, int64_t s, int64_t t)
{
    return s <= t && (!c->valid || c->valid[b * c->T + s]);
}

/* Items: (b, h). */
static void attn_fwd_heads(void *vctx, int64_t begin, int64_t end, int tid)
{
    attn_ctx *c = vctx;
    (void)tid;
    int64_t T = c->T, hd = c->hd, group = c->H / c->Hkv;
    float *S = malloc((size_t)ATTN_QB * (size_t)(T ? T : 1) * sizeof(float));
    if (!S) {
        __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t r = begin; r < end; r++) {
        int64_t b = r / c->H, h = r % c->H, kh = h / group;
        for (int64_t t0 = 0; t0 < T; t0 += ATTN_QB) {
            int64_t t1 = t0 + ATTN_QB < T ? t0 + ATTN_QB : T, nk = t1;
            score_block(c, b, h, kh, t0, t1, S);
            for (int64_t t = t0; t < t1; t++) {
                float *row = S + (t - t0) * nk;
                float m = -INFINITY;
                for (int64_t s = 0; s < nk; s++) {
                    if (!key_ok(c, b, s, t)) row[s] = -INFINITY;
                    m = row[s] > m ? row[s] : m;
                }
                float l = -INFINITY;
                if (m == -INFINITY) {
                    for (int64_t s = 0; s < nk; s++) row[s] = 0.0f;   /* no admissible key: zeros */
                } else {
                    double z = sea_cpu_exp_sum(row, row, m, nk);      /* masked entries: exp(-inf) = 0 */
                    float inv = (float)(1.0 / z);
                    for (int64_t s = 0; s < nk; s++) row[s] *= inv;
                    l = m + (float)log(z);
                }
                if (c->lse_out) c->lse_out[(b * c->H + h) * T + t] = l;
            }
            /* O (nq, hd) = P (nq, nk) V (nk, hd) */
            sea_cpu_gemm(false, false, t1 - t0, hd, nk, 1.0f, S, nk, c->v + (b * T * c->Hkv + kh) * hd, c->Hkv * hd, 0.0f,
                         c->out + ((b * T + t0) * c->H + h) * hd, c->H * hd);
        }
    }
    free(S);
}

sea_status sea_cpu_attention(const sea_op *op)
{
    const sea_tensor *q = op->in[0], *k = op->in[1];
    attn_ctx c = {.q = cpu_f32(q), .k = cpu_f32(k), .v = cpu_f32(op->in[2]),
                  .valid = op->in[3] ? cpu_i32(op->in[3]) : NULL, .out = cpu_f32(op->out[0]),
                  .lse_out = op->out[1] ? cpu_f32(op->out[1]) : NULL, .B = q->shape[0], .T = q->shape[1],
                  .S = q->shape[1], .H = q->shape[2], .Hkv = k->shape[2], .hd = q->shape[3], .scale = op->p.attn.scale};
    cpu_for(c.B * c.H, 1, attn_fwd_heads, &c);
    if (c.failed)
        return sea_error(SEA_ERR_OOM, "attention: out of host memory for a (%d, %lld) score block on cpu", ATTN_QB, (long long)c.T);
    return SEA_OK;
}

/* Items: (b, kv head): the query heads sharing a kv head run in one thread, so dk/dv
 * accumulate in a fixed order without races. Per query block (scores recomputed):
 *   P = exp(S - lse), dP = dO V^T, dS = P (dP - rowsum(dO * O)) scale,
 *   dQ += dS K, dK += dS^T Q, dV += P^T dO. */
static void attn_bwd_groups(void *vctx, int64_t begin, int64_t end, int tid)
{
    attn_ctx *c = vctx;
    (void)tid;
    int64_t hd = c->hd, T = c->T, H = c->H, group = H / c->Hkv, ldq = H * hd, ldk = c->Hkv * hd;
    size_t blk = (size_t)ATTN_QB * (size_t)(T ? T : 1);
    float *P = malloc(blk * sizeof(float)), *dP = malloc(blk * sizeof(float));
    if (!P || !dP) {
        free(P);
        free(dP);
        __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t r = begin; r < end; r++) {
        int64_t b = r / c->Hkv, kh = r % c->Hkv;
        const float *Kb = c->k + (b * T * c->Hkv + kh) * hd, *Vb = c->v + (b * T * c->Hkv + kh) * hd;
        float *gKb = c->gk ? c->gk + (b * T * c->Hkv + kh) * hd : NULL;
        float *gVb = c->gv ? c->gv + (b * T * c->Hkv + kh) * hd : NULL;
        for (int64_t h = kh * group; h < (kh + 1) * group; h++) {
            for (int64_t t0 = 0; t0 < T; t0 += ATTN_QB) {
                int64_t t1 = t0 + ATTN_QB < T ? t0 + ATTN_QB : T, nq = t1 - t0, nk = t1;
                int64_t row0 = ((b * T + t0) * H + h) * hd;
                score_block(c, b, h, kh, t0, t1, P);
                sea_cpu_gemm(false, true, nq, nk, hd, 1.0f, c->go + row0, ldq, Vb, ldk, 0.0f, dP, nk);
                for (int64_t t = t0; t < t1; t++) {
                    float *p = P + (t - t0) * nk, *dp = dP + (t - t0) * nk;
                    float l = c->lse[(b * H + h) * T + t];
                    const float *o = c->o + ((b * T + t) * H + h) * hd, *go = c->go + ((b * T + t) * H + h) * hd;
                    float D = sea_cpu_dot(go, o, hd);
                    for (int64_t s = 0; s < nk; s++) {
                        bool ok = l != -INFINITY && key_ok(c, b, s, t);
                        float ps = ok ? sea_cpu_vexpf(p[s] - l) : 0.0f;
                        p[s] = ps;
                        dp[s] = ps * (dp[s] - D) * c->scale;
                    }
                }
                if (c->gq) sea_cpu_gemm(false, false, nq, hd, nk, 1.0f, dP, nk, Kb, ldk, 1.0f, c->gq + row0, ldq);
                if (gKb) sea_cpu_gemm(true, false, nk, hd, nq, 1.0f, dP, nk, c->q + row0, ldq, 1.0f, gKb, ldk);
                if (gVb) sea_cpu_gemm(true, false, nk, hd, nq, 1.0f, P, nk, c->go + row0, ldq, 1.0f, gVb, ldk);
            }
        }
    }
    free(P);
    free(dP);
}

sea_status sea_cpu_attention_backward(const sea_op *op)
{
    if (!op->gout[0] || (!op->gin[0] && !op->gin[1] && !op->gin[2])) return SEA_OK;
    const sea_tensor *q = op->in[0], *k = op->in[1];
    attn_ctx c = {.q = cpu_f32(q), .k = cpu_f32(k), .v = cpu_f32(op->in[2]),
                  .valid = op->in[3] ? cpu_i32(op->in[3]) : NULL, .o = cpu_f32(op->out[0]), .lse = cpu_f32(op->out[1]),
                  .go = cpu_f32(op->gout[0]), .gq = op->gin[0] ? cpu_f32(op->gin[0]) : NULL,
                  .gk = op->gin[1] ? cpu_f32(op->gin[1]) : NULL, .gv = op->gin[2] ? cpu_f32(op->gin[2]) : NULL,
                  .B = q->shape[0], .T = q->shape[1], .S = q->shape[1], .H = q->shape[2], .Hkv = k->shape[2],
                  .hd = q->shape[3], .scale = op->p.attn.scale};
    cpu_for(c.B * c.Hkv, 1, attn_bwd_groups, &c);
    if (c.failed)
        return sea_error(SEA_ERR_OOM, "attention backward: out of host memory for (%d, %lld) score blocks on cpu", ATTN_QB,
                         (long long)c.T);
    return SEA_OK;
}

/* Items: (b, h). */
static void decode_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    attn_ctx *c = vctx;
    (void)tid;
    float *scores = malloc((size_t)(c->Sp + c->S + 1) * sizeof(float));
    if (!scores) {
        __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    int64_t group = c->H / c->Hkv;
    for (int64_t r = begin; r < end; r++) {
        int64_t h = r % c->H, b = r / c->H;
        attend_row(c, c->q + b * c->qs_b + h * c->qs_h, b, h / group, c->n_keys, scores, c->out + r * c->hd);
    }
    free(scores);
}

sea_status sea_cpu_decode_attention(const sea_op *op)
{
    const sea_tensor *q = op->in[0], *k = op->in[1];
    attn_ctx c = {.q = cpu_f32(q), .k = cpu_f32(k), .v = cpu_f32(op->in[2]), .valid = cpu_i32(op->in[3]),
                  .out = cpu_f32(op->out[0]), .B = q->shape[0], .H = q->shape[1], .hd = q->shape[2], .S = k->shape[1],
                  .Hkv = k->shape[2], .n_keys = op->p.attn.n_keys, .scale = op->p.attn.scale,
                  .qs_b = q->stride[0], .qs_h = q->stride[1]};
    if (op->in[4]) {
        c.pk = cpu_f32(op->in[4]);
        c.pv = cpu_f32(op->in[5]);
        c.pvalid = cpu_i32(op->in[6]);
        c.Sp = op->in[4]->shape[1];
        c.group_b = c.B / op->in[4]->shape[0];
    }
    cpu_for(c.B * c.H, cpu_min_items(2 * ((int64_t)c.n_keys + c.Sp) * c.hd), decode_rows, &c);
    if (c.failed)
        return sea_error(SEA_ERR_OOM, "decode_attention: out of host memory for %lld keys on cpu", (long long)(c.Sp + c.S));
    return SEA_OK;
}
