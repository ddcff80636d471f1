/* LayerNorm and RMSNorm: one block per row, fixed-order block reductions, two passes over
 * the row (mean, then centred variance: more accurate than E[x^2] - E[x]^2). Weight and
 * bias gradients go through a per-element product and the chunked column sum, so they
 * are deterministic without atomics. LayerNorm's optional second affine (op.h: weight2,
 * bias2 -> y2) rides in the same kernels: one launch and one read of x for both. */
#include "cuda_common.cuh"

SEA_CUDA_ABI_UNIT(norm)

#define THREADS 256

__global__ void k_layernorm(const void *x, int t, const void *w, const void *b, const void *w2, const void *b2,
                            void *y, void *y2, float *mean_out, float *rstd_out, int64_t D, float eps)
{
    __shared__ float red[33];
    int64_t r = blockIdx.x;
    const int64_t base = r * D;
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) s += ldf(x, t, base + j);
    float mean = block_sum(s, red) / (float)D;
    float q = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float d = ldf(x, t, base + j) - mean;
        q += d * d;
    }
    float var = block_sum(q, red) / (float)D;
    float rstd = 1.0f / sqrtf(var + eps); /* correctly rounded, like the CPU reference */
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float xv = ldf(x, t, base + j);
        float v = (xv - mean) * rstd * ldf(w, t, j);
        if (b) v += ldf(b, t, j);
        stf(y, t, base + j, v);
        if (y2) {   /* the same expression as y: y's bits do not depend on the pair */
            float v2 = (xv - mean) * rstd * ldf(w2, t, j);
            if (b2) v2 += ldf(b2, t, j);
            stf(y2, t, base + j, v2);
        }
    }
    if (threadIdx.x == 0) {
        if (mean_out) mean_out[r] = mean;
        if (rstd_out) rstd_out[r] = rstd;
    }
}

extern "C" sea_status sea_cuda_layernorm_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    int64_t D = last_dim_of(x), N = D ? numel_of(x) / D : 0;
    if (N == 0) return SEA_OK;
    k_layernorm<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, sea_cuda_ptr(op->in[1]),
                                                         sea_cuda_ptr(op->in[2]), sea_cuda_ptr(op->in[3]),
                                                         sea_cuda_ptr(op->in[4]), sea_cuda_ptr(op->out[0]),
                                                         sea_cuda_ptr(op->out[3]), (float *)sea_cuda_ptr(op->out[1]),
                                                         (float *)sea_cuda_ptr(op->out[2]), D, op->p.norm.eps);
    return sea_cuda_launch_check(cs, "layernorm");
}

/* dy*w + dy2*w2 at (row offset base, column j); either gradient may be absent (zero).
 * Exactly dy*w without dy2, so the single-affine bits are unchanged. */
__device__ __forceinline__ float ln_dyw(const void *w, const void *w2, int t, const void *dy, const void *dy2, int dyt,
                                        int64_t base, int64_t j)
{
    float gw = dy ? ldf(dy, dyt, base + j) * ldf(w, t, j) : 0.0f;
    if (dy2) gw += ldf(dy2, dyt, base + j) * ldf(w2, t, j);
    return gw;
}

/* dx += rstd * (gw - mean(gw) - xhat * mean(gw*xhat)), gw = dy*w + dy2*w2 (the backward is
 * linear in it: both affines of a pair in one pass); pw = dy * xhat, pw2 = dy2 * xhat (for
 * dw, dw2). dy and dy2 share one dtype (each follows its output, and y, y2 follow x). */
__global__ void k_layernorm_bw(const void *x, int t, const void *w, const void *w2, const void *dy, const void *dy2,
                               int dyt, const float *mean, const float *rstd, void *dx, int dxt, float *pw, float *pw2,
                               int64_t D)
{
    __shared__ float red[33];
    int64_t r = blockIdx.x;
    const int64_t base = r * D;
    float mu = mean[r], rs = rstd[r];
    float s1 = 0.0f, s2 = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float xh = (ldf(x, t, base + j) - mu) * rs;
        float gw = ln_dyw(w, w2, t, dy, dy2, dyt, base, j);
        s1 += gw;
        s2 += gw * xh;
        if (pw) pw[base + j] = ldf(dy, dyt, base + j) * xh;
        if (pw2) pw2[base + j] = ldf(dy2, dyt, base + j) * xh;
    }
    if (!dx) return;
    s1 = block_sum(s1, red) / (float)D;
    s2 = block_sum(s2, red) / (float)D;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float xh = (ldf(x, t, base + j) - mu) * rs;
        float gw = ln_dyw(w, w2, t, dy, dy2, dyt, base, j);
        stf(dx, dxt, base + j, ldf(dx, dxt, base + j) + rs * (gw - s1 - xh * s2));
    }
}

/* gw += colsum(pw), gb += colsum(dy) for one affine (either gradient may be absent). */
static sea_status ln_affine_grads(sea_cuda_stream *cs, const float *pw, const sea_tensor *dy, sea_tensor *gw,
                                  sea_tensor *gb, int64_t N, int64_t D)
{
    if (gw) SEA_TRY(sea_cuda_colsum_acc(cs, pw, SEA_F32, 1, N, D, sea_cuda_ptr(gw), gw->dtype, "layernorm backward"));
    if (gb)
        SEA_TRY(sea_cuda_colsum_acc(cs, sea_cuda_ptr(dy), dy->dtype, 1, N, D, sea_cuda_ptr(gb), gb->dtype,
                                    "layernorm backward"));
    return SEA_OK;
}

extern "C" sea_status sea_cuda_layernorm_backward(sea_cuda_stream *cs, const sea_op *op)
{
    /* dy2: the gradient of the pair's y2 (op.h), NULL = zero like an absent dy */
    const sea_tensor *x = op->in[0], *dy = op->gout[0], *dy2 = op->in[3] ? op->gout[3] : NULL;
    sea_tensor *gx = op->gin[0];
    sea_tensor *gw = dy ? op->gin[1] : NULL, *gb = dy && op->in[2] ? op->gin[2] : NULL;
    sea_tensor *gw2 = dy2 ? op->gin[3] : NULL, *gb2 = dy2 && op->in[4] ? op->gin[4] : NULL;
    if ((!dy && !dy2) || (!gx && !gw && !gb && !gw2 && !gb2)) return SEA_OK;
    int64_t D = last_dim_of(x), N = D ? numel_of(x) / D : 0;
    if (N == 0) return SEA_OK;
    float *pw = NULL, *pw2 = NULL;
    size_t bytes = (size_t)(N * D) * sizeof(float);
    if (gw) SEA_TRY(sea_cuda_tmp_alloc(cs, bytes, (void **)&pw));
    sea_status st = gw2 ? sea_cuda_tmp_alloc(cs, bytes, (void **)&pw2) : SEA_OK;
    if (!st && (gx || pw || pw2)) {
        k_layernorm_bw<<<(unsigned)N, THREADS, 0, cs->stream>>>(
            sea_cuda_ptr(x), x->dtype, sea_cuda_ptr(op->in[1]), sea_cuda_ptr(op->in[3]), sea_cuda_ptr(dy),
            sea_cuda_ptr(dy2), dy ? dy->dtype : dy2->dtype, (const float *)sea_cuda_ptr(op->out[1]),
            (const float *)sea_cuda_ptr(op->out[2]), sea_cuda_ptr(gx), gx ? gx->dtype : SEA_F32, pw, pw2, D);
        st = sea_cuda_launch_check(cs, "layernorm backward");
    }
    if (!st) st = ln_affine_grads(cs, pw, dy, gw, gb, N, D);
    if (!st) st = ln_affine_grads(cs, pw2, dy2, gw2, gb2, N, D);
    if (pw2) sea_cuda_tmp_free(cs, pw2, bytes);
    if (pw) sea_cuda_tmp_free(cs, pw, bytes);
    return st;
}

__global__ void k_rmsnorm(const void *x, int t, const void *w, void *y, float *rstd_out, int64_t D, float eps)
{
    __shared__ float red[33];
    int64_t r = blockIdx.x;
    const int64_t base = r * D;
    float q = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float v = ldf(x, t, base + j);
        q += v * v;
    }
    float ms = block_sum(q, red) / (float)D;
    float rstd = 1.0f / sqrtf(ms + eps);
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x)
        stf(y, t, base + j, ldf(x, t, base + j) * rstd * ldf(w, t, j));
    if (threadIdx.x == 0 && rstd_out) rstd_out[r] = rstd;
}

extern "C" sea_status sea_cuda_rmsnorm_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    int64_t D = last_dim_of(x), N = D ? numel_of(x) / D : 0;
    if (N == 0) return SEA_OK;
    k_rmsnorm<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, sea_cuda_ptr(op->in[1]),
                                                       sea_cuda_ptr(op->out[0]), (float *)sea_cuda_ptr(op->out[1]), D,
                                                       op->p.norm.eps);
    return sea_cuda_launch_check(cs, "rmsnorm");
}

/* dx += rstd * dy*w - x * rstd^3 * mean(dy*w*x); pw = dy * x * rstd (for dw). */
__global__ void k_rmsnorm_bw(const void *x, int t, const void *w, const void *dy, int dyt, const float *rstd, void *dx,
                             int dxt, float *pw, int64_t D)
{
    __shared__ float red[33];
    int64_t r = blockIdx.x;
    const int64_t base = r * D;
    float rs = rstd[r];
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float xv = ldf(x, t, base + j), g = ldf(dy, dyt, base + j);
        s += g * ldf(w, t, j) * xv;
        if (pw) pw[base + j] = g * xv * rs;
    }
    if (!dx) return;
    float c = block_sum(s, red) / (float)D;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float xv = ldf(x, t, base + j), gw = ldf(dy, dyt, base + j) * ldf(w, t, j);
        stf(dx, dxt, base + j, ldf(dx, dxt, base + j) + rs * gw - xv * rs * rs * rs * c);
    }
}

extern "C" sea_status sea_cuda_rmsnorm_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *dy = op->gout[0];
    sea_tensor *gx = op->gin[0], *gw = op->gin[1];
    if (!dy || (!gx && !gw)) return SEA_OK;
    int64_t D = last_dim_of(x), N = D ? numel_of(x) / D : 0;
    if (N == 0) return SEA_OK;
    float *pw = NULL;
    size_t bytes = (size_t)(N * D) * sizeof(float);
    if (gw) SEA_TRY(sea_cuda_tmp_alloc(cs, bytes, (void **)&pw));
    k_rmsnorm_bw<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, sea_cuda_ptr(op->in[1]),
                                                          sea_cuda_ptr(dy), dy->dtype,
                                                          (const float *)sea_cuda_ptr(op->out[1]), sea_cuda_ptr(gx),
                                                          gx ? gx->dtype : SEA_F32, pw, D);
    sea_status st = sea_cuda_launch_check(cs, "rmsnorm backward");
    if (!st && gw) st = sea_cuda_colsum_acc(cs, pw, SEA_F32, 1, N, D, sea_cuda_ptr(gw), gw->dtype, "rmsnorm backward");
    if (pw) sea_cuda_tmp_free(cs, pw, bytes);
    return st;
}
