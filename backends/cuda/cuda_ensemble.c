/* K independent MLPs (d -> h -> ReLU -> h -> ReLU -> 1) over shared inputs: every layer is one
 * strided-batched cuBLAS GEMM over the K heads (x is shared: batch stride 0), followed by the
 * bias + ReLU epilogue. Backward sums over the heads for dx in head order (deterministic). */
#include "cuda_internal.h"

static sea_cuda_gemm gemm(bool tx, const void *x, int64_t sx, bool ty, const void *y, int64_t sy, void *c, int64_t sc,
                          int64_t M, int64_t N, int64_t K, int64_t batch, float beta)
{
    sea_cuda_gemm g = {0};
    g.tx = tx;
    g.x = x;
    g.sx = sx;
    g.ty = ty;
    g.y = y;
    g.sy = sy;
    g.c = c;
    g.sc = sc;
    g.xt = g.yt = g.ct = SEA_F32;
    g.M = M;
    g.N = N;
    g.K = K;
    g.batch = batch;
    g.alpha = 1.0f;
    g.beta = beta;
    return g;
}

sea_status sea_cuda_ensemble_mlp_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *W1 = op->in[1];
    int64_t N = x->shape[0], d = x->shape[1], K = W1->shape[0], h = W1->shape[2];
    const char *name = "ensemble_mlp";
    void *tmp = NULL;
    size_t tmp_bytes = 0;
    float *h1 = sea_cuda_ptr(op->out[1]), *h2 = sea_cuda_ptr(op->out[2]);
    size_t act_bytes = (size_t)(K * N * h) * sizeof(float);
    if (!h1 || !h2) {
        tmp_bytes = 2 * act_bytes;
        SEA_TRY(sea_cuda_tmp_alloc(cs, tmp_bytes, &tmp));
        if (!h1) h1 = tmp;
        if (!h2) h2 = (float *)((char *)tmp + act_bytes);
    }
    sea_cuda_gemm g = gemm(false, sea_cuda_ptr(x), 0, false, sea_cuda_ptr(W1), d * h, h1, N * h, N, h, d, K, 0.0f);
    sea_status st = sea_cuda_gemm_run(cs, &g, name);
    if (!st)
        st = sea_cuda_bias_act(cs, h1, SEA_F32, sea_cuda_ptr(op->in[2]), SEA_F32, N, NULL, SEA_F32, h1, SEA_F32, K * N, h,
                               SEA_ACT_RELU, name);
    if (!st) {
        g = gemm(false, h1, N * h, false, sea_cuda_ptr(op->in[3]), h * h, h2, N * h, N, h, h, K, 0.0f);
        st = sea_cuda_gemm_run(cs, &g, name);
    }
    if (!st)
        st = sea_cuda_bias_act(cs, h2, SEA_F32, sea_cuda_ptr(op->in[4]), SEA_F32, N, NULL, SEA_F32, h2, SEA_F32, K * N, h,
                               SEA_ACT_RELU, name);
    void *r = sea_cuda_ptr(op->out[0]);
    if (!st) { /* r_k (N, 1) = h2_k (N, h) @ W3_k (h, 1) */
        g = gemm(false, h2, N * h, false, sea_cuda_ptr(op->in[5]), h, r, N, N, 1, h, K, 0.0f);
        st = sea_cuda_gemm_run(cs, &g, name);
    }
    if (!st)
        st = sea_cuda_bias_act(cs, r, SEA_F32, sea_cuda_ptr(op->in[6]), SEA_F32, N, NULL, SEA_F32, r, SEA_F32, K * N, 1,
                               SEA_ACT_NONE, name);
    if (tmp) sea_cuda_tmp_free(cs, tmp, tmp_bytes);
    return st;
}

/* Gradients of the saved activations (gout[1], gout[2]) are not propagated: they are saved
 * for backward, not used downstream. */
sea_status sea_cuda_ensemble_mlp_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *W1 = op->in[1], *gr = op->gout[0];
    bool any = false;
    for (int i = 0; i < 7; i++) any |= op->gin[i] != NULL;
    if (!gr || !any) return SEA_OK;
    const char *name = "ensemble_mlp backward";
    int64_t N = x->shape[0], d = x->shape[1], K = W1->shape[0], h = W1->shape[2];
    const float *h1 = sea_cuda_ptr(op->out[1]), *h2 = sea_cuda_ptr(op->out[2]);
    const void *W2 = sea_cuda_ptr(op->in[3]), *W3 = sea_cuda_ptr(op->in[5]);
    const void *g = sea_cuda_ptr(gr);
    size_t act_bytes = (size_t)(K * N * h) * sizeof(float);
    void *tmp;
    SEA_TRY(sea_cuda_tmp_alloc(cs, 2 * act_bytes, &tmp));
    float *dz2 = tmp, *dz1 = (float *)((char *)tmp + act_bytes);
    sea_status st = SEA_OK;
    sea_cuda_gemm m;
    /* layer 3: r = h2 W3 + b3 */
    if (op->gin[6]) st = sea_cuda_colsum_acc(cs, g, SEA_F32, K, N, 1, sea_cuda_ptr(op->gin[6]), SEA_F32, name);
    if (!st && op->gin[5]) {
        m = gemm(true, h2, N * h, false, g, N, sea_cuda_ptr(op->gin[5]), h, h, 1, N, K, 1.0f);
        st = sea_cuda_gemm_run(cs, &m, name);
    }
    if (!st) { /* dh2 (N, h) = gr_k (N, 1) @ W3_k^T (1, h), then the ReLU mask */
        m = gemm(false, g, N, false, W3, h, dz2, N * h, N, h, 1, K, 0.0f);
        st = sea_cuda_gemm_run(cs, &m, name);
    }
    if (!st) st = sea_cuda_act_backward(cs, dz2, SEA_F32, NULL, SEA_F32, h2, SEA_F32, dz2, SEA_F32, K * N * h, SEA_ACT_RELU, name);
    /* layer 2: h2 = relu(h1 W2 + b2) */
    if (!st && op->gin[4]) st = sea_cuda_colsum_acc(cs, dz2, SEA_F32, K, N, h, sea_cuda_ptr(op->gin[4]), SEA_F32, name);
    if (!st && op->gin[3]) {
        m = gemm(true, h1, N * h, false, dz2, N * h, sea_cuda_ptr(op->gin[3]), h * h, h, h, N, K, 1.0f);
        st = sea_cuda_gemm_run(cs, &m, name);
    }
    if (!st) { /* dh1 = dz2 @ W2^T */
        m = gemm(false, dz2, N * h, true, W2, h * h, dz1, N * h, N, h, h, K, 0.0f);
        st = sea_cuda_gemm_run(cs, &m, name);
    }
    if (!st) st = sea_cuda_act_backward(cs, dz1, SEA_F32, NULL, SEA_F32, h1, SEA_F32, dz1, SEA_F32, K * N * h, SEA_ACT_RELU, name);
    /* layer 1: h1 = relu(x W1 + b1) */
    if (!st && op->gin[2]) st = sea_cuda_colsum_acc(cs, dz1, SEA_F32, K, N, h, sea_cuda_ptr(op->gin[2]), SEA_F32, name);
    if (!st && op->gin[1]) {
        m = gemm(true, sea_cuda_ptr(x), 0, false, dz1, N * h, sea_cuda_ptr(op->gin[1]), d * h, d, h, N, K, 1.0f);
        st = sea_cuda_gemm_run(cs, &m, name);
    }
    for (int64_t k = 0; !st && op->gin[0] && k < K; k++) { /* dx += dz1_k @ W1_k^T, heads in order */
        m = gemm(false, dz1 + k * N * h, 0, true, (const float *)sea_cuda_ptr(W1) + k * d * h, 0, sea_cuda_ptr(op->gin[0]), 0,
                 N, d, h, 1, 1.0f);
        st = sea_cuda_gemm_run(cs, &m, name);
    }
    sea_cuda_tmp_free(cs, tmp, 2 * act_bytes);
    return st;
}
