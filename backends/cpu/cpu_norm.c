/* LayerNorm and RMSNorm over the last dim, forward and backward (llm.c's formulation).
 * dx is computed per row in parallel; dweight/dbias are reduced per column block with rows
 * visited in order, so gradients are deterministic for any thread count.
 * LayerNorm's optional second affine (weight2, bias2 -> y2, op.h) shares the row's mean and
 * rstd; its y2 is computed by the same expression as y, so y's bits do not depend on it. */
#include "cpu_internal.h"

typedef struct norm_ctx {
    const float *x, *w, *b, *g;   /* x, g: (N, D); w, b: (D); g NULL = zero (only g2 given) */
    const float *w2, *b2, *g2;    /* the second affine: w2, b2 (D), g2 (N, D); NULL = none */
    float *y, *y2, *mean, *rstd;  /* y, y2 (N, D); mean, rstd (N) (may be NULL in forward) */
    float *gx, *gw, *gb;
    int64_t N, D;
    float eps;
    bool layer;
} norm_ctx;

/* y = (x - mu) * r * w (+ b) over one row of D. */
static void affine(const float *x, float mu, float r, const float *w, const float *b, int64_t D, float *y)
{
    if (b)
        for (int64_t k = 0; k < D; k++) y[k] = (x[k] - mu) * r * w[k] + b[k];
    else
        for (int64_t k = 0; k < D; k++) y[k] = (x[k] - mu) * r * w[k];
}

static void norm_fwd_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    norm_ctx *c = vctx;
    (void)tid;
    int64_t D = c->D;
    for (int64_t n = begin; n < end; n++) {
        const float *x = c->x + n * D;
        float *y = c->y + n * D;
        float mu = 0;
        if (c->layer) {
            float s[8] = {0};
            int64_t i = 0;
            for (; i + 8 <= D; i += 8)
                for (int j = 0; j < 8; j++) s[j] += x[i + j];
            for (int j = 0; i < D; i++, j++) s[j] += x[i];
            mu = (((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))) / (float)D;
        }
        float v[8] = {0};
        int64_t i = 0;
        for (; i + 8 <= D; i += 8)
            for (int j = 0; j < 8; j++) {
                float d = x[i + j] - mu;
                v[j] += d * d;
            }
        for (int j = 0; i < D; i++, j++) v[j] += (x[i] - mu) * (x[i] - mu);
        float var = (((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]))) / (float)D;
        float r = 1.0f / sqrtf(var + c->eps);
        affine(x, mu, r, c->w, c->b, D, y);
        if (c->y2) affine(x, mu, r, c->w2, c->b2, D, c->y2 + n * D);
        if (c->mean) c->mean[n] = mu;
        if (c->rstd) c->rstd[n] = r;
    }
}

/* dnorm = dy * w (+ dy2 * w2) at row offset o + k, column k: the backward is linear in it, so
 * both affines of a layernorm go through one pass. Exactly g * w when there is no g2. */
static inline float dnorm(const norm_ctx *c, int64_t o, int64_t k)
{
    float dn = c->g ? c->g[o + k] * c->w[k] : 0.0f;
    if (c->g2) dn += c->g2[o + k] * c->w2[k];
    return dn;
}

/* dx for rows [begin, end). */
static void norm_bwd_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    norm_ctx *c = vctx;
    (void)tid;
    int64_t D = c->D;
    for (int64_t n = begin; n < end; n++) {
        const int64_t o = n * D;
        const float *x = c->x + o;
        float *gx = c->gx + o;
        float mu = c->layer ? c->mean[n] : 0.0f, r = c->rstd[n];
        /* sums of dnorm and of dnorm * xhat over the row */
        float s1[8] = {0}, s2[8] = {0};
        int64_t i = 0;
        for (; i + 8 <= D; i += 8)
            for (int j = 0; j < 8; j++) {
                float dn = dnorm(c, o, i + j);
                s1[j] += dn;
                s2[j] += dn * (x[i + j] - mu) * r;
            }
        for (int j = 0; i < D; i++, j++) {
            float dn = dnorm(c, o, i);
            s1[j] += dn;
            s2[j] += dn * (x[i] - mu) * r;
        }
        float m1 = (((s1[0] + s1[4]) + (s1[1] + s1[5])) + ((s1[2] + s1[6]) + (s1[3] + s1[7]))) / (float)D;
        float m2 = (((s2[0] + s2[4]) + (s2[1] + s2[5])) + ((s2[2] + s2[6]) + (s2[3] + s2[7]))) / (float)D;
        if (!c->layer) m1 = 0;   /* RMSNorm has no mean to subtract */
        for (int64_t k = 0; k < D; k++) {
            float xhat = (x[k] - mu) * r;
            gx[k] += (dnorm(c, o, k) - m1 - xhat * m2) * r;
        }
    }
}

/* dweight, dbias for column blocks of 64. */
static void norm_bwd_cols(void *vctx, int64_t begin, int64_t end, int tid)
{
    norm_ctx *c = vctx;
    (void)tid;
    int64_t D = c->D;
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t k0 = blk * 64, k1 = k0 + 64 < D ? k0 + 64 : D;
        float aw[64] = {0}, ab[64] = {0};
        for (int64_t n = 0; n < c->N; n++) {
            const float *x = c->x + n * D, *g = c->g + n * D;
            float mu = c->layer ? c->mean[n] : 0.0f, r = c->rstd[n];
            for (int64_t k = k0; k < k1; k++) {
                aw[k - k0] += g[k] * (x[k] - mu) * r;
                ab[k - k0] += g[k];
            }
        }
        for (int64_t k = k0; k < k1; k++) {
            if (c->gw) c->gw[k] += aw[k - k0];
            if (c->gb) c->gb[k] += ab[k - k0];
        }
    }
}

static int64_t row_chunk(int64_t D) { return cpu_min_items(4 * D); }

/* Optional tensors as f32 pointers (NULL when absent). */
static const float *opt_in(const sea_tensor *t) { return t ? cpu_f32(t) : NULL; }
static float *opt_out(sea_tensor *t) { return t ? cpu_f32(t) : NULL; }

static sea_status norm_forward(const sea_op *op, bool layer)
{
    norm_ctx c = {.x = cpu_f32(op->in[0]), .w = cpu_f32(op->in[1]),
                  .b = layer && op->in[2] ? cpu_f32(op->in[2]) : NULL, .y = cpu_f32(op->out[0]),
                  .w2 = layer ? opt_in(op->in[3]) : NULL, .b2 = layer ? opt_in(op->in[4]) : NULL,
                  .y2 = layer ? opt_out(op->out[3]) : NULL,
                  .mean = layer && op->out[1] ? cpu_f32(op->out[1]) : NULL,
                  .rstd = op->out[layer ? 2 : 1] ? cpu_f32(op->out[layer ? 2 : 1]) : NULL,
                  .N = cpu_rows(op->in[0]), .D = cpu_last(op->in[0]), .eps = op->p.norm.eps, .layer = layer};
    cpu_for(c.N, row_chunk(c.D), norm_fwd_rows, &c);
    return SEA_OK;
}

static sea_status norm_backward(const sea_op *op, bool layer)
{
    /* layernorm's second affine: gout[3] (NULL = zero) with weight2, into gin[3], gin[4] */
    const bool two = layer && op->in[3] && op->gout[3];
    if (!op->gout[0] && !two) return SEA_OK;
    norm_ctx c = {.x = cpu_f32(op->in[0]), .w = cpu_f32(op->in[1]), .g = opt_in(op->gout[0]),
                  .w2 = two ? cpu_f32(op->in[3]) : NULL, .g2 = two ? cpu_f32(op->gout[3]) : NULL,
                  .mean = layer ? cpu_f32(op->out[1]) : NULL, .rstd = cpu_f32(op->out[layer ? 2 : 1]),
                  .gx = opt_out(op->gin[0]), .N = cpu_rows(op->in[0]), .D = cpu_last(op->in[0]), .layer = layer};
    if (c.gx) cpu_for(c.N, row_chunk(c.D), norm_bwd_rows, &c);
    /* weight and bias gradients: one column pass per affine that has a gout */
    for (int a = 0; a < (two ? 2 : 1); a++) {
        int iw = a ? 3 : 1, ib = a ? 4 : 2;
        norm_ctx cc = c;
        cc.g = a ? c.g2 : c.g;
        cc.gw = opt_out(op->gin[iw]);
        cc.gb = layer && op->in[ib] ? opt_out(op->gin[ib]) : NULL;
        if (cc.g && (cc.gw || cc.gb)) cpu_for((c.D + 63) / 64, cpu_min_items(64 * c.N), norm_bwd_cols, &cc);
    }
    return SEA_OK;
}

sea_status sea_cpu_layernorm(const sea_op *op) { return norm_forward(op, true); }
sea_status sea_cpu_layernorm_backward(const sea_op *op) { return norm_backward(op, true); }
sea_status sea_cpu_rmsnorm(const sea_op *op) { return norm_forward(op, false); }
sea_status sea_cpu_rmsnorm_backward(const sea_op *op) { return norm_backward(op, false); }
