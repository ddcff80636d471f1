/* Reductions and flat-buffer optimizer kernels: column sums (bias gradients), masked sums,
 * global norm, clip, AdamW. Every reduction has a fixed shape independent of the GPU
 * (fixed chunk sizes and grid sizes), so results are bitwise reproducible. */
#include "cuda_common.cuh"

SEA_CUDA_ABI_UNIT(reduce)

#define THREADS 256
#define COLSUM_CHUNK 64   /* rows per partial sum */

/* partial[b, c, j] = sum of rows [c*CHUNK, (c+1)*CHUNK) of src[b, :, j], in row order. */
__global__ void k_colsum_partial(const void *src, int st, int64_t rows, int64_t cols, int64_t nchunk, float *partial)
{
    int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    int64_t c = blockIdx.y, b = blockIdx.z;
    if (j >= cols) return;
    int64_t r0 = c * COLSUM_CHUNK, r1 = min(rows, r0 + COLSUM_CHUNK);
    const int64_t base = b * rows * cols;
    float s = 0.0f;
    for (int64_t r = r0; r < r1; r++) s += ldf(src, st, base + r * cols + j);
    partial[(b * nchunk + c) * cols + j] = s;
}

__global__ void k_colsum_final(const float *partial, int64_t nchunk, int64_t cols, int64_t batch, void *dst, int dt)
{
    GRID_STRIDE(i, batch * cols)
    {
        int64_t b = i / cols, j = i - b * cols;
        float s = 0.0f;
        for (int64_t c = 0; c < nchunk; c++) s += partial[(b * nchunk + c) * cols + j];
        stf(dst, dt, i, ldf(dst, dt, i) + s);
    }
}

extern "C" sea_status sea_cuda_colsum_acc(sea_cuda_stream *cs, const void *src, sea_dtype sd, int64_t batch,
                                          int64_t rows, int64_t cols, void *dst, sea_dtype dd, const char *op)
{
    if (batch * cols == 0) return SEA_OK;
    int64_t nchunk = (rows + COLSUM_CHUNK - 1) / COLSUM_CHUNK;
    if (nchunk == 0) return SEA_OK;
    size_t bytes = (size_t)(batch * nchunk * cols) * sizeof(float);
    float *partial;
    SEA_TRY(sea_cuda_tmp_alloc(cs, bytes, (void **)&partial));
    dim3 grid((unsigned)((cols + THREADS - 1) / THREADS), (unsigned)nchunk, (unsigned)batch);
    sea_status st = SEA_OK;
    if (nchunk > 65535 || batch > 65535)
        st = sea_error(SEA_ERR_UNSUPPORTED, "%s: %s: column sum over %lld rows x %lld batches is too large",
                       cs->cdev->label, op, (long long)rows, (long long)batch);
    if (!st) {
        k_colsum_partial<<<grid, THREADS, 0, cs->stream>>>(src, sd, rows, cols, nchunk, partial);
        st = sea_cuda_launch_check(cs, op);
    }
    if (!st) {
        k_colsum_final<<<grid_for(batch * cols, THREADS), THREADS, 0, cs->stream>>>(partial, nchunk, cols, batch, dst, dd);
        st = sea_cuda_launch_check(cs, op);
    }
    sea_cuda_tmp_free(cs, partial, bytes);
    return st;
}

/* ---- masked sum / mean: one block per row ---- */
__global__ void k_masked_sum(const void *x, int xt, const float *mask, float *out, int64_t T, bool mean)
{
    __shared__ float red[33];
    int64_t b = blockIdx.x;
    float s = 0.0f, m = 0.0f;
    for (int64_t t = threadIdx.x; t < T; t += blockDim.x) {
        float w = mask[b * T + t];
        s += ldf(x, xt, b * T + t) * w;
        m += w;
    }
    s = block_sum(s, red);
    m = block_sum(m, red);
    if (threadIdx.x == 0) out[b] = mean ? (m != 0.0f ? s / m : 0.0f) : s;
}

__global__ void k_masked_sum_bw(const float *mask, const float *g, void *gx, int gt, int64_t T, bool mean)
{
    __shared__ float red[33];
    int64_t b = blockIdx.x;
    float m = 0.0f;
    if (mean) {
        for (int64_t t = threadIdx.x; t < T; t += blockDim.x) m += mask[b * T + t];
        m = block_sum(m, red);
    }
    float scale = mean ? (m != 0.0f ? g[b] / m : 0.0f) : g[b];
    for (int64_t t = threadIdx.x; t < T; t += blockDim.x) {
        int64_t i = b * T + t;
        stf(gx, gt, i, ldf(gx, gt, i) + scale * mask[i]);
    }
}

extern "C" sea_status sea_cuda_masked_sum_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    int64_t T = last_dim_of(x), B = T ? numel_of(x) / T : 0;
    if (B == 0) return SEA_OK;
    k_masked_sum<<<(unsigned)B, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, (const float *)sea_cuda_ptr(op->in[1]),
                                                          (float *)sea_cuda_ptr(op->out[0]), T, op->p.masked.mean);
    return sea_cuda_launch_check(cs, "masked_sum");
}

extern "C" sea_status sea_cuda_masked_sum_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    if (!op->gin[0] || !op->gout[0]) return SEA_OK;
    int64_t T = last_dim_of(x), B = T ? numel_of(x) / T : 0;
    if (B == 0) return SEA_OK;
    k_masked_sum_bw<<<(unsigned)B, THREADS, 0, cs->stream>>>((const float *)sea_cuda_ptr(op->in[1]),
                                                             (const float *)sea_cuda_ptr(op->gout[0]),
                                                             sea_cuda_ptr(op->gin[0]), op->gin[0]->dtype, T,
                                                             op->p.masked.mean);
    return sea_cuda_launch_check(cs, "masked_sum backward");
}

/* ---- global norm: fixed grid of NORM_BLOCKS partial sums in double, then one block ---- */
#define NORM_BLOCKS 512

__global__ void k_sumsq_partial(const float *x, int64_t n, double *partial)
{
    __shared__ double red[33];
    double s = 0.0;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        double v = x[i];
        s += v * v;
    }
    s = block_sum_d(s, red);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

__global__ void k_sumsq_final(const double *partial, int np, float *out)
{
    __shared__ double red[33];
    double s = 0.0;
    for (int i = threadIdx.x; i < np; i += blockDim.x) s += partial[i];
    s = block_sum_d(s, red);
    if (threadIdx.x == 0) out[0] = (float)sqrt(s);
}

extern "C" sea_status sea_cuda_global_norm_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    int64_t n = numel_of(x);
    double *partial;
    size_t bytes = NORM_BLOCKS * sizeof(double);
    SEA_TRY(sea_cuda_tmp_alloc(cs, bytes, (void **)&partial));
    k_sumsq_partial<<<NORM_BLOCKS, THREADS, 0, cs->stream>>>((const float *)sea_cuda_ptr(x), n, partial);
    sea_status st = sea_cuda_launch_check(cs, "global_norm");
    if (!st) {
        k_sumsq_final<<<1, THREADS, 0, cs->stream>>>(partial, NORM_BLOCKS, (float *)sea_cuda_ptr(op->out[0]));
        st = sea_cuda_launch_check(cs, "global_norm");
    }
    sea_cuda_tmp_free(cs, partial, bytes);
    return st;
}

extern "C" sea_status sea_cuda_global_norm_backward(sea_cuda_stream *cs, const sea_op *op)
{
    (void)op;
    return sea_error(SEA_ERR_INVALID, "%s: global_norm has no backward", cs->cdev->label);
}

/* ---- clip: reads the norm on the device, so no host round trip ---- */
__global__ void k_clip(float *g, int64_t n, const float *norm, float max_norm)
{
    float c = fminf(1.0f, max_norm / (norm[0] + 1e-6f));
    if (c >= 1.0f) return;
    GRID_STRIDE(i, n) g[i] *= c;
}

extern "C" sea_status sea_cuda_clip_forward(sea_cuda_stream *cs, const sea_op *op)
{
    int64_t n = numel_of(op->out[0]);
    if (n == 0) return SEA_OK;
    k_clip<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>((float *)sea_cuda_ptr(op->out[0]), n,
                                                             (const float *)sea_cuda_ptr(op->in[0]), op->p.clip.max_norm);
    return sea_cuda_launch_check(cs, "clip");
}

extern "C" sea_status sea_cuda_clip_backward(sea_cuda_stream *cs, const sea_op *op)
{
    (void)op;
    return sea_error(SEA_ERR_INVALID, "%s: clip has no backward", cs->cdev->label);
}

/* ---- AdamW ---- */
__global__ void k_adamw(const float *grad, float *p, float *m, float *v, int64_t n, float lr, float b1, float b2,
                        float eps, float wd, float l2, float bc1, float bc2)
{
    GRID_STRIDE(i, n)
    {
        float w = p[i];
        float g = grad[i] + l2 * w;
        float mi = b1 * m[i] + (1.0f - b1) * g;
        float vi = b2 * v[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        float mhat = mi / bc1, vhat = vi / bc2;
        p[i] = w - lr * (mhat / (sqrtf(vhat) + eps) + wd * w);
    }
}

extern "C" sea_status sea_cuda_adamw_forward(sea_cuda_stream *cs, const sea_op *op)
{
    int64_t n = numel_of(op->in[0]);
    if (n == 0) return SEA_OK;
    const __typeof__(op->p.adamw) *a = &op->p.adamw;
    float bc1 = (float)(1.0 - pow((double)a->beta1, (double)a->step));
    float bc2 = (float)(1.0 - pow((double)a->beta2, (double)a->step));
    k_adamw<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(
        (const float *)sea_cuda_ptr(op->in[0]), (float *)sea_cuda_ptr(op->out[0]), (float *)sea_cuda_ptr(op->out[1]),
        (float *)sea_cuda_ptr(op->out[2]), n, a->lr, a->beta1, a->beta2, a->eps, a->weight_decay, a->l2, bc1, bc2);
    return sea_cuda_launch_check(cs, "adamw");
}

extern "C" sea_status sea_cuda_adamw_backward(sea_cuda_stream *cs, const sea_op *op)
{
    (void)op;
    return sea_error(SEA_ERR_INVALID, "%s: adamw has no backward", cs->cdev->label);
}
