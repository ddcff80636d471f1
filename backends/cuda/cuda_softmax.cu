/* Softmax, fused log-softmax + gather, cross-entropy: one block per row, a single pass with
 * a per-thread online (max, sum) pair merged in a fixed order, so the (N, V) log-softmax is
 * never materialized (V = 50k-128k for LLM vocabularies). */
#include "cuda_common.cuh"

SEA_CUDA_ABI_UNIT(softmax)

#define THREADS 512

__global__ void __launch_bounds__(THREADS) k_softmax(const void *x, int t, void *y, int yt, int64_t V)
{
    __shared__ float red[33];
    int64_t base = (int64_t)blockIdx.x * V;
    float lse = row_lse(x, t, base, V, red);
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) stf(y, yt, base + j, expf(ldf(x, t, base + j) - lse));
}

extern "C" sea_status sea_cuda_softmax_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    int64_t V = last_dim_of(x), N = V ? numel_of(x) / V : 0;
    if (N == 0) return SEA_OK;
    k_softmax<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, sea_cuda_ptr(op->out[0]),
                                                       op->out[0]->dtype, V);
    return sea_cuda_launch_check(cs, "softmax");
}

__global__ void __launch_bounds__(THREADS) k_softmax_bw(const void *y, int t, const void *g, int gt, void *gx, int gxt, int64_t V)
{
    __shared__ float red[33];
    int64_t base = (int64_t)blockIdx.x * V;
    float d = 0.0f;
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) d += ldf(g, gt, base + j) * ldf(y, t, base + j);
    d = block_sum(d, red);
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
        int64_t i = base + j;
        stf(gx, gxt, i, ldf(gx, gxt, i) + ldf(y, t, i) * (ldf(g, gt, i) - d));
    }
}

extern "C" sea_status sea_cuda_softmax_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *y = op->out[0], *g = op->gout[0];
    sea_tensor *gx = op->gin[0];
    if (!g || !gx) return SEA_OK;
    int64_t V = last_dim_of(y), N = V ? numel_of(y) / V : 0;
    if (N == 0) return SEA_OK;
    k_softmax_bw<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(y), y->dtype, sea_cuda_ptr(g), g->dtype,
                                                          sea_cuda_ptr(gx), gx->dtype, V);
    return sea_cuda_launch_check(cs, "softmax backward");
}

/* logp[n] = x[n, target] - lse[n] (0 for ignored targets); nll[n] = -logp, valid[n]. */
__global__ void __launch_bounds__(THREADS) k_lsm_gather(const void *x, int t, const int32_t *targets, int64_t V, float *logp, float *lse_out,
                             float *nll, float *valid)
{
    __shared__ float red[33];
    int64_t n = blockIdx.x, base = n * V;
    float lse = row_lse(x, t, base, V, red);
    if (threadIdx.x == 0) {
        int32_t tg = targets[n];
        bool ok = tg >= 0 && tg < V;
        float lp = ok ? ldf(x, t, base + tg) - lse : 0.0f;
        if (logp) logp[n] = lp;
        if (lse_out) lse_out[n] = lse;
        if (nll) nll[n] = -lp;
        if (valid) valid[n] = ok ? 1.0f : 0.0f;
    }
}

/* gx[n, v] += coef * (onehot - softmax), coef = gout[n] (gather) or gscale[0] / count (CE). */
__global__ void __launch_bounds__(THREADS) k_lsm_gather_bw(const void *x, int t, const int32_t *targets, const float *lse, const float *gout,
                                const float *ce_scale, void *gx, int gxt, int64_t V)
{
    int64_t n = blockIdx.x, base = n * V;
    int32_t tg = targets[n];
    if (tg < 0 || tg >= V) return;
    float coef = ce_scale ? -ce_scale[0] : gout[n];
    float l = lse[n];
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
        int64_t i = base + j;
        float p = expf(ldf(x, t, i) - l);
        float d = (j == tg ? 1.0f : 0.0f) - p;
        stf(gx, gxt, i, ldf(gx, gxt, i) + coef * d);
    }
}

extern "C" sea_status sea_cuda_logsoftmax_gather_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    int64_t V = last_dim_of(x), N = V ? numel_of(x) / V : 0;
    if (N == 0) return SEA_OK;
    k_lsm_gather<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype,
                                                          (const int32_t *)sea_cuda_ptr(op->in[1]), V,
                                                          (float *)sea_cuda_ptr(op->out[0]),
                                                          (float *)sea_cuda_ptr(op->out[1]), NULL, NULL);
    return sea_cuda_launch_check(cs, "logsoftmax_gather");
}

extern "C" sea_status sea_cuda_logsoftmax_gather_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *g = op->gout[0];
    sea_tensor *gx = op->gin[0];
    if (!g || !gx) return SEA_OK;
    int64_t V = last_dim_of(x), N = V ? numel_of(x) / V : 0;
    if (N == 0) return SEA_OK;
    k_lsm_gather_bw<<<(unsigned)N, THREADS, 0, cs->stream>>>(
        sea_cuda_ptr(x), x->dtype, (const int32_t *)sea_cuda_ptr(op->in[1]), (const float *)sea_cuda_ptr(op->out[1]),
        (const float *)sea_cuda_ptr(g), NULL, sea_cuda_ptr(gx), gx->dtype, V);
    return sea_cuda_launch_check(cs, "logsoftmax_gather backward");
}

/* loss = sum(nll) / count (0 if count is 0); scale_out = gout / count for backward. */
__global__ void __launch_bounds__(1024) k_ce_final(const float *nll, const float *valid, int64_t N, float *loss, const float *gout,
                           float *scale_out)
{
    __shared__ float red[33];
    float s = 0.0f, c = 0.0f;
    for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
        if (nll) s += nll[i];
        c += valid[i];
    }
    if (nll) s = block_sum(s, red);
    c = block_sum(c, red);
    if (threadIdx.x == 0) {
        if (loss) loss[0] = c > 0.0f ? s / c : 0.0f;
        if (scale_out) scale_out[0] = c > 0.0f ? gout[0] / c : 0.0f;
    }
}

__global__ void k_valid(const int32_t *targets, int64_t N, int64_t V, float *valid)
{
    GRID_STRIDE(i, N) valid[i] = (targets[i] >= 0 && targets[i] < V) ? 1.0f : 0.0f;
}

extern "C" sea_status sea_cuda_cross_entropy_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    int64_t V = last_dim_of(x), N = V ? numel_of(x) / V : 0;
    if (N == 0) return sea_cuda_check(cudaMemsetAsync(sea_cuda_ptr(op->out[0]), 0, 4, cs->stream), cs, "cross_entropy");
    float *tmp;
    size_t bytes = (size_t)(2 * N) * sizeof(float);
    SEA_TRY(sea_cuda_tmp_alloc(cs, bytes, (void **)&tmp));
    k_lsm_gather<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype,
                                                          (const int32_t *)sea_cuda_ptr(op->in[1]), V, NULL,
                                                          (float *)sea_cuda_ptr(op->out[1]), tmp, tmp + N);
    sea_status st = sea_cuda_launch_check(cs, "cross_entropy");
    if (!st) {
        k_ce_final<<<1, 1024, 0, cs->stream>>>(tmp, tmp + N, N, (float *)sea_cuda_ptr(op->out[0]), NULL, NULL);
        st = sea_cuda_launch_check(cs, "cross_entropy");
    }
    sea_cuda_tmp_free(cs, tmp, bytes);
    return st;
}

extern "C" sea_status sea_cuda_cross_entropy_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *g = op->gout[0];
    sea_tensor *gx = op->gin[0];
    if (!g || !gx) return SEA_OK;
    int64_t V = last_dim_of(x), N = V ? numel_of(x) / V : 0;
    if (N == 0) return SEA_OK;
    const int32_t *targets = (const int32_t *)sea_cuda_ptr(op->in[1]);
    float *tmp;
    size_t bytes = (size_t)(N + 1) * sizeof(float);
    SEA_TRY(sea_cuda_tmp_alloc(cs, bytes, (void **)&tmp));
    k_valid<<<grid_for(N, 256), 256, 0, cs->stream>>>(targets, N, V, tmp + 1);
    sea_status st = sea_cuda_launch_check(cs, "cross_entropy backward");
    if (!st) {
        k_ce_final<<<1, 1024, 0, cs->stream>>>(NULL, tmp + 1, N, NULL, (const float *)sea_cuda_ptr(g), tmp);
        st = sea_cuda_launch_check(cs, "cross_entropy backward");
    }
    if (!st) {
        /* d loss / d x[n, v] = (softmax - onehot) / count: coef = -gout/count on (onehot - softmax). */
        k_lsm_gather_bw<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, targets,
                                                                 (const float *)sea_cuda_ptr(op->out[1]), NULL, tmp,
                                                                 sea_cuda_ptr(gx), gx->dtype, V);
        st = sea_cuda_launch_check(cs, "cross_entropy backward");
    }
    sea_cuda_tmp_free(cs, tmp, bytes);
    return st;
}
