/* Optimizer kernels over flat f32 buffers: AdamW (in place), the global L2 norm and clipping.
 * The norm sums fixed 8192-element blocks in double and then the blocks in order, so its bits
 * do not depend on the thread count. */
#include "cpu_internal.h"

#define OPT_CHUNK 8192

typedef struct adamw_ctx {
    const float *g;
    float *p, *m, *v;
    int64_t n;
    float lr, b1, b2, eps, wd, l2, bc1, bc2;
} adamw_ctx;

SEA_CPU_CLONES static void adamw_chunks(void *vctx, int64_t begin, int64_t end, int tid)
{
    const adamw_ctx *c = vctx;
    (void)tid;
    int64_t i0 = begin * OPT_CHUNK, i1 = end * OPT_CHUNK < c->n ? end * OPT_CHUNK : c->n;
    /* Locals and restrict: the four arrays never overlap, and the loop vectorizes only when
     * the compiler knows it (and sqrtf is inlined: see meson.build). */
    const float *restrict gs = c->g;
    float *restrict ps = c->p, *restrict ms = c->m, *restrict vs = c->v;
    const float lr = c->lr, b1 = c->b1, b2 = c->b2, eps = c->eps, wd = c->wd, l2 = c->l2, bc1 = c->bc1, bc2 = c->bc2;
    for (int64_t i = i0; i < i1; i++) {
        float p = ps[i], g = gs[i] + l2 * p;
        float m = b1 * ms[i] + (1.0f - b1) * g;
        float v = b2 * vs[i] + (1.0f - b2) * g * g;
        ms[i] = m;
        vs[i] = v;
        float mhat = m / bc1, vhat = v / bc2;
        ps[i] = p - lr * (mhat / (sqrtf(vhat) + eps) + wd * p);
    }
}

sea_status sea_cpu_adamw(const sea_op *op)
{
    const __typeof__(op->p.adamw) *a = &op->p.adamw;
    adamw_ctx c = {.g = cpu_f32(op->in[0]), .p = cpu_f32(op->out[0]), .m = cpu_f32(op->out[1]), .v = cpu_f32(op->out[2]),
                   .n = cpu_numel(op->in[0]), .lr = a->lr, .b1 = a->beta1, .b2 = a->beta2, .eps = a->eps,
                   .wd = a->weight_decay, .l2 = a->l2,
                   .bc1 = (float)(1.0 - pow(a->beta1, a->step)), .bc2 = (float)(1.0 - pow(a->beta2, a->step))};
    cpu_for((c.n + OPT_CHUNK - 1) / OPT_CHUNK, 2, adamw_chunks, &c);
    return SEA_OK;
}

typedef struct norm_ctx {
    const float *x;
    double *partial;   /* one per block */
    int64_t n;
} norm_ctx;

static void norm_blocks(void *vctx, int64_t begin, int64_t end, int tid)
{
    norm_ctx *c = vctx;
    (void)tid;
    for (int64_t b = begin; b < end; b++) {
        int64_t i0 = b * OPT_CHUNK, i1 = i0 + OPT_CHUNK < c->n ? i0 + OPT_CHUNK : c->n;
        /* eight float lanes over a block of 8192, then double: ~1e-7 relative, vectorizable */
        float s[8] = {0};
        int64_t i = i0;
        for (; i + 8 <= i1; i += 8)
            for (int j = 0; j < 8; j++) s[j] += c->x[i + j] * c->x[i + j];
        for (int j = 0; i < i1; i++, j++) s[j] += c->x[i] * c->x[i];
        double t = 0;
        for (int j = 0; j < 8; j++) t += s[j];
        c->partial[b] = t;
    }
}

sea_status sea_cpu_global_norm(const sea_op *op)
{
    int64_t n = cpu_numel(op->in[0]), blocks = (n + OPT_CHUNK - 1) / OPT_CHUNK;
    double *partial = malloc((size_t)(blocks ? blocks : 1) * sizeof *partial);
    if (!partial) return sea_error(SEA_ERR_OOM, "global_norm: out of host memory on cpu");
    norm_ctx c = {cpu_f32(op->in[0]), partial, n};
    cpu_for(blocks, 2, norm_blocks, &c);
    double s = 0;
    for (int64_t b = 0; b < blocks; b++) s += partial[b];
    free(partial);
    cpu_f32(op->out[0])[0] = (float)sqrt(s);
    return SEA_OK;
}

typedef struct clip_ctx {
    float *g;
    int64_t n;
    float s;
} clip_ctx;

static void clip_chunks(void *vctx, int64_t begin, int64_t end, int tid)
{
    clip_ctx *c = vctx;
    (void)tid;
    int64_t i0 = begin * OPT_CHUNK, i1 = end * OPT_CHUNK < c->n ? end * OPT_CHUNK : c->n;
    for (int64_t i = i0; i < i1; i++) c->g[i] *= c->s;
}

sea_status sea_cpu_clip(const sea_op *op)
{
    float norm = cpu_f32(op->in[0])[0];
    float s = op->p.clip.max_norm / (norm + 1e-6f);
    /* min(1, s); a NaN norm leaves the gradient unchanged: callers check the norm is finite */
    if (!(s < 1.0f)) return SEA_OK;
    clip_ctx c = {cpu_f32(op->out[0]), cpu_numel(op->out[0]), s};
    cpu_for((c.n + OPT_CHUNK - 1) / OPT_CHUNK, 2, clip_chunks, &c);
    return SEA_OK;
}
