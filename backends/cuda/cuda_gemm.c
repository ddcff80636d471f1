/* Matmul through cuBLAS, forward and backward.
 *
 * cuBLAS is column-major; a row-major (r, c) matrix is the column-major (c, r) matrix, its
 * transpose. So row-major C = op(X) op(Y) is computed as column-major C^T = op(Y)^T op(X)^T,
 * which needs no data movement: swap the operands and keep the transpose flags.
 * A bias and/or a residual go into one cuBLASLt call (cuda_gemm_lt.c); a bias with an activation runs
 * as a separate epilogue kernel (cuBLASLt's GELU epilogue is the tanh form only, and Pythia
 * uses the erf form). */
#include <limits.h>
#include <stdio.h>

#include "cuda_internal.h"

cudaDataType_t sea_cuda_blas_type(sea_dtype t)
{
    switch (t) {
    case SEA_BF16: return CUDA_R_16BF;
    case SEA_F16: return CUDA_R_16F;
    default: return CUDA_R_32F;
    }
}

sea_status sea_cuda_gemm_run(sea_cuda_stream *cs, const sea_cuda_gemm *g, const char *op)
{
    if (g->M == 0 || g->N == 0 || g->batch == 0) return SEA_OK;
    if (g->M > INT_MAX || g->N > INT_MAX || g->K > INT_MAX || g->batch > INT_MAX || g->ldx > INT_MAX ||
        g->ldy > INT_MAX || g->ldc > INT_MAX)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: %s: matrix dims (%lld, %lld, %lld) x %lld beyond cuBLAS's int range",
                         cs->cdev->label, op, (long long)g->M, (long long)g->N, (long long)g->K, (long long)g->batch);
    if (g->xt != g->yt)
        return sea_error(SEA_ERR_DTYPE, "%s: %s: operands are %s and %s; cuBLAS needs one dtype", cs->cdev->label, op,
                         sea_dtype_name(g->xt), sea_dtype_name(g->yt));
    if (g->K == 0) {
        /* C = beta C: nothing to add when accumulating; zero when overwriting. */
        if (g->beta != 0.0f) return SEA_OK;
        size_t es = sea_dtype_size(g->ct);
        const int64_t ldc = g->ldc ? g->ldc : g->N, rows = ldc == g->N ? 1 : g->M; /* packed: one run */
        const size_t run = (size_t)(ldc == g->N ? g->M * g->N : g->N) * es;
        for (int64_t b = 0; b < g->batch; b++)
            for (int64_t r = 0; r < rows; r++)
                SEA_TRY(sea_cuda_check(cudaMemsetAsync((char *)g->c + (size_t)(b * g->sc + r * ldc) * es, 0, run, cs->stream),
                                       cs, op));
        return SEA_OK;
    }
    int m = (int)g->N, n = (int)g->M, k = (int)g->K;
    cublasOperation_t opy = g->ty ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t opx = g->tx ? CUBLAS_OP_T : CUBLAS_OP_N;
    int ldy = (int)(g->ldy ? g->ldy : g->ty ? g->K : g->N);
    int ldx = (int)(g->ldx ? g->ldx : g->tx ? g->M : g->K);
    int ldc = (int)(g->ldc ? g->ldc : g->N);
    cublasComputeType_t ct = CUBLAS_COMPUTE_32F;
    if (g->xt == SEA_F32 && cs->tf32) ct = CUBLAS_COMPUTE_32F_FAST_TF32;
    const cudaDataType_t ty = sea_cuda_blas_type(g->yt), tx = sea_cuda_blas_type(g->xt), tc = sea_cuda_blas_type(g->ct);
    cublasStatus_t s;
    if (g->batch == 1)
        s = cublasGemmEx(cs->blas, opy, opx, m, n, k, &g->alpha, g->y, ty, ldy, g->x, tx, ldx, &g->beta, g->c, tc, ldc,
                         ct, CUBLAS_GEMM_DEFAULT);
    else
        s = cublasGemmStridedBatchedEx(cs->blas, opy, opx, m, n, k, &g->alpha, g->y, ty, ldy, g->sy, g->x, tx, ldx, g->sx,
                                       &g->beta, g->c, tc, ldc, g->sc, (int)g->batch, ct, CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS) {
        char what[256];
        snprintf(what, sizeof what, "%s: gemm M %lld N %lld K %lld batch %lld (%s x %s -> %s, tx %d ty %d)", op,
                 (long long)g->M, (long long)g->N, (long long)g->K, (long long)g->batch, sea_dtype_name(g->xt),
                 sea_dtype_name(g->yt), sea_dtype_name(g->ct), g->tx, g->ty);
        return sea_cuda_blas_check(s, cs, what);
    }
    return SEA_OK;
}

/* Shapes of one matmul op. */
typedef struct mm_shape {
    int64_t batch, M, N, K;
    bool ta, tb, b_shared;
} mm_shape;

static mm_shape mm_shape_of(const sea_op *op)
{
    const sea_tensor *a = op->in[0], *b = op->in[1];
    mm_shape s;
    int nb = a->ndim - 2;
    s.ta = op->p.matmul.trans_a;
    s.tb = op->p.matmul.trans_b;
    s.batch = 1;
    for (int d = 0; d < nb; d++) s.batch *= a->shape[d];
    s.M = s.ta ? a->shape[nb + 1] : a->shape[nb];
    s.K = s.ta ? a->shape[nb] : a->shape[nb + 1];
    s.N = s.tb ? b->shape[b->ndim - 2] : b->shape[b->ndim - 1];
    s.b_shared = b->ndim == 2;
    return s;
}

sea_status sea_cuda_matmul_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *a = op->in[0], *b = op->in[1], *bias = op->in[2], *res = op->in[3];
    sea_tensor *out = op->out[0], *pre = op->out[1];
    mm_shape s = mm_shape_of(op);
    sea_act act = op->p.matmul.act;
    bool epilogue = bias || res || act != SEA_ACT_NONE;
    sea_cuda_gemm g = {0};
    g.tx = s.ta;
    g.ty = s.tb;
    g.M = s.M;
    g.N = s.N;
    g.K = s.K;
    g.x = sea_cuda_ptr(a);
    g.xt = a->dtype;
    g.sx = s.M * s.K;
    g.y = sea_cuda_ptr(b);
    g.yt = b->dtype;
    g.sy = s.b_shared ? 0 : s.K * s.N;
    g.sc = s.M * s.N;
    g.batch = s.batch;
    g.alpha = 1.0f;
    g.beta = 0.0f;
    if (s.b_shared && !s.ta && s.batch > 1) { /* one tall GEMM instead of a batch */
        g.M = s.batch * s.M;
        g.batch = 1;
    }
    if ((bias || res) && act == SEA_ACT_NONE && !pre) { /* bias and residual in cuBLASLt, if it takes them */
        bool used = false;
        g.c = sea_cuda_ptr(out);
        g.ct = out->dtype;
        SEA_TRY(sea_cuda_gemm_lt(cs, &g, sea_cuda_ptr(bias), bias ? bias->dtype : out->dtype, sea_cuda_ptr(res),
                                 "matmul (cuBLASLt epilogue)", &used));
        if (used) return SEA_OK;
    }
    if (act != SEA_ACT_NONE && !res && out->dtype != SEA_F32 && out->dtype == a->dtype &&
        (!pre || pre->dtype == out->dtype)) {
        /* A 16-bit output with an activation (the GELU MLP's up projection): the GEMM, with its
         * bias in cuBLASLt's epilogue, writes the 16-bit pre-activation straight into pre (or
         * into out when no pre is kept) and one kernel applies the activation from there, in
         * place when there is no pre. The activation then reads the biased value rounded to 16
         * bits, as PyTorch's autocast does (linear, then gelu). Bytes an element: 6 (write 2,
         * read 2, write 2) instead of the f32 temporary's 10-12. */
        void *dst = sea_cuda_ptr(pre ? pre : out);
        bool used = false;
        g.c = dst;
        g.ct = out->dtype;
        if (bias)
            SEA_TRY(sea_cuda_gemm_lt(cs, &g, sea_cuda_ptr(bias), bias->dtype, NULL, "matmul (cuBLASLt bias epilogue)",
                                     &used));
        else {
            SEA_TRY(sea_cuda_gemm_run(cs, &g, "matmul"));
            used = true;
        }
        if (used)
            return sea_cuda_bias_act(cs, dst, out->dtype, NULL, SEA_F32, 0, NULL, SEA_F32, sea_cuda_ptr(out), out->dtype,
                                     s.batch * s.M, s.N, act, "matmul activation");
    }
    void *tmp = NULL;
    size_t tmp_bytes = 0;
    if (!epilogue) {
        g.c = sea_cuda_ptr(out);
        g.ct = out->dtype;
    } else if (out->dtype == SEA_F32) {
        g.c = sea_cuda_ptr(pre ? pre : out);
        g.ct = SEA_F32;
    } else {
        tmp_bytes = (size_t)(s.batch * s.M * s.N) * sizeof(float);
        SEA_TRY(sea_cuda_tmp_alloc(cs, tmp_bytes, &tmp));
        g.c = tmp;
        g.ct = SEA_F32;
    }
    sea_status st = sea_cuda_gemm_run(cs, &g, "matmul");
    if (!st && epilogue)
        st = sea_cuda_bias_act_residual(cs, g.c, g.ct, sea_cuda_ptr(bias), bias ? bias->dtype : SEA_F32, 0,
                                        sea_cuda_ptr(pre), pre ? pre->dtype : SEA_F32, sea_cuda_ptr(res),
                                        res ? res->dtype : SEA_F32, sea_cuda_ptr(out), out->dtype, s.batch * s.M, s.N,
                                        act, "matmul epilogue");
    if (tmp) sea_cuda_tmp_free(cs, tmp, tmp_bytes);
    return st;
}

sea_status sea_cuda_matmul_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *a = op->in[0], *b = op->in[1], *bias = op->in[2];
    const sea_tensor *gy = op->gout[0], *gpre = op->gout[1];
    sea_tensor *ga = op->gin[0], *gb = op->gin[1], *gbias = bias ? op->gin[2] : NULL;
    sea_tensor *gres = op->in[3] ? op->gin[3] : NULL;
    if (gres && gy) { /* the residual's gradient is the output's: gres += gy, as copy's backward */
        sea_op acc = {0};
        acc.kind = SEA_OP_COPY;
        acc.gin[0] = gres;
        acc.gout[0] = gy;
        SEA_TRY(sea_cuda_copy_backward(cs, &acc));
    }
    if ((!gy && !gpre) || (!ga && !gb && !gbias)) return SEA_OK;
    mm_shape s = mm_shape_of(op);
    sea_act act = op->p.matmul.act;
    sea_dtype dt = a->dtype;
    int64_t total = s.batch * s.M * s.N;

    /* dC: gradient at the pre-activation, in a's dtype (cuBLAS operands share one dtype). */
    const void *dc = NULL;
    void *tmp = NULL;
    size_t tmp_bytes = 0;
    sea_status st = SEA_OK;
    /* An f32 output gradient of half-precision operands (mixed precision) is converted too. */
    if (gy && (act != SEA_ACT_NONE || gpre || gy->dtype != dt)) {
        tmp_bytes = (size_t)total * sea_dtype_size(dt);
        SEA_TRY(sea_cuda_tmp_alloc(cs, tmp_bytes, &tmp));
        const sea_tensor *pre = op->out[1];
        st = sea_cuda_act_backward(cs, sea_cuda_ptr(gy), gy->dtype, sea_cuda_ptr(gpre), gpre ? gpre->dtype : SEA_F32,
                                   pre ? sea_cuda_ptr(pre) : sea_cuda_ptr(gy), pre ? pre->dtype : gy->dtype, tmp, dt,
                                   total, act, "matmul backward");
        dc = tmp;
    } else {
        dc = gy ? sea_cuda_ptr(gy) : sea_cuda_ptr(gpre);
    }

    if (!st && ga) {
        sea_cuda_gemm g = {0};
        g.alpha = 1.0f;
        g.beta = 1.0f;
        g.xt = g.yt = dt;
        g.ct = ga->dtype;
        g.c = sea_cuda_ptr(ga);
        g.batch = s.batch;
        if (!s.ta) { /* dA (M, K) = dC (M, N) @ op_b(B)^T */
            g.tx = false;
            g.x = dc;
            g.sx = s.M * s.N;
            g.ty = !s.tb;
            g.y = sea_cuda_ptr(b);
            g.sy = s.b_shared ? 0 : s.K * s.N;
            g.M = s.M;
            g.N = s.K;
            g.K = s.N;
            g.sc = s.M * s.K;
            if (s.b_shared && s.batch > 1) {
                g.M = s.batch * s.M;
                g.batch = 1;
            }
        } else { /* dA stored (K, M) = op_b(B) (K, N) @ dC^T (N, M) */
            g.tx = s.tb;
            g.x = sea_cuda_ptr(b);
            g.sx = s.b_shared ? 0 : s.K * s.N;
            g.ty = true;
            g.y = dc;
            g.sy = s.M * s.N;
            g.M = s.K;
            g.N = s.M;
            g.K = s.N;
            g.sc = s.K * s.M;
        }
        st = sea_cuda_gemm_run(cs, &g, "matmul backward (grad a)");
    }

    if (!st && gb) {
        sea_cuda_gemm g = {0};
        g.alpha = 1.0f;
        g.beta = 1.0f;
        g.xt = g.yt = dt;
        g.ct = gb->dtype;   /* f32 for a bf16 weight's master gradient (op.h) */
        g.c = sea_cuda_ptr(gb);
        if (!s.tb) { /* dB (K, N) = op_a(A)^T (K, M) @ dC (M, N) */
            g.tx = !s.ta;
            g.x = sea_cuda_ptr(a);
            g.ty = false;
            g.y = dc;
            g.M = s.K;
            g.N = s.N;
        } else { /* dB stored (N, K) = dC^T (N, M) @ op_a(A) (M, K) */
            g.tx = true;
            g.x = dc;
            g.ty = s.ta;
            g.y = sea_cuda_ptr(a);
            g.M = s.N;
            g.N = s.K;
        }
        g.K = s.M;
        int64_t sa = s.M * s.K, sdc = s.M * s.N;
        int64_t s_x = s.tb ? sdc : sa, s_y = s.tb ? sa : sdc;
        if (!s.b_shared) {
            g.batch = s.batch;
            g.sx = s_x;
            g.sy = s_y;
            g.sc = s.K * s.N;
            st = sea_cuda_gemm_run(cs, &g, "matmul backward (grad b)");
        } else if (!s.ta) {
            /* Shared B: the sum over the batch is one GEMM over the stacked rows. */
            g.K = s.batch * s.M;
            g.batch = 1;
            st = sea_cuda_gemm_run(cs, &g, "matmul backward (grad b)");
        } else {
            /* Transposed A cannot be stacked: accumulate batch entries in order. */
            g.batch = 1;
            size_t es = sea_dtype_size(dt);
            const char *x0 = g.x, *y0 = g.y;
            for (int64_t i = 0; i < s.batch && !st; i++) {
                g.x = x0 + (size_t)(i * s_x) * es;
                g.y = y0 + (size_t)(i * s_y) * es;
                st = sea_cuda_gemm_run(cs, &g, "matmul backward (grad b)");
            }
        }
    }

    if (!st && gbias)
        st = sea_cuda_colsum_acc(cs, dc, dt, 1, s.batch * s.M, s.N, sea_cuda_ptr(gbias), gbias->dtype,
                                 "matmul backward (grad bias)");
    if (tmp) sea_cuda_tmp_free(cs, tmp, tmp_bytes);
    return st;
}
