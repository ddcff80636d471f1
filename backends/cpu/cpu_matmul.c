/* Matmul with optional transposes, up to two batch dims, bias, a fused activation and a residual, and
 * its backward. The products go to the GEMM in gemm.h (packed kernel or OpenBLAS); this
 * file only arranges batches, the bias/activation epilogue and the gradient products.
 * Gradients of a B shared across the batch accumulate batch by batch in order. */
#include <string.h>

#include "cpu_internal.h"
#include "cpu_matmul.h"

#if __has_include("gemm.h")
#include "gemm.h"
#define CPU_SGEMM sea_cpu_sgemm
#else
#define CPU_SGEMM sea_cpu_sgemm_fallback
#endif

/* Plain loops, used only when the GEMM of gemm.h is not part of the build. */
void sea_cpu_sgemm_fallback(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                            const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (beta == 0)
            memset(c, 0, (size_t)N * sizeof(float));
        else
            for (int64_t j = 0; j < N; j++) c[j] *= beta;
        for (int64_t k = 0; k < K; k++) {
            float a = alpha * (ta ? A[k * lda + i] : A[i * lda + k]);
            if (!tb) {
                const float *b = B + k * ldb;
                for (int64_t j = 0; j < N; j++) c[j] += a * b[j];
            } else {
                for (int64_t j = 0; j < N; j++) c[j] += a * B[j * ldb + k];
            }
        }
    }
}

void sea_cpu_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                  const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        /* nothing to multiply: C = beta C */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0 ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    CPU_SGEMM(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

typedef struct mm_dims {
    int64_t batch, M, N, K, lda, ldb, sa, sb, sc;   /* sa/sb/sc: elements between batches */
    bool ta, tb;
} mm_dims;

static mm_dims dims_of(const sea_op *op)
{
    const sea_tensor *a = op->in[0], *b = op->in[1];
    mm_dims d;
    int nb = a->ndim - 2, bo = b->ndim - 2;
    d.ta = op->p.matmul.trans_a;
    d.tb = op->p.matmul.trans_b;
    d.batch = 1;
    for (int i = 0; i < nb; i++) d.batch *= a->shape[i];
    d.M = d.ta ? a->shape[nb + 1] : a->shape[nb];
    d.K = d.ta ? a->shape[nb] : a->shape[nb + 1];
    d.N = d.tb ? b->shape[bo] : b->shape[bo + 1];
    d.lda = d.ta ? d.M : d.K;
    d.ldb = d.tb ? d.K : d.N;
    d.sa = d.M * d.K;
    d.sb = b->ndim > 2 ? d.K * d.N : 0;
    d.sc = d.M * d.N;
    return d;
}

typedef struct epi_ctx {
    float *c, *pre, *out;   /* c: the GEMM result (== pre or out) */
    const float *bias;
    const float *res;       /* residual added last (act NONE, no pre: c == out) */
    const float *g, *g1;    /* backward: gout, gout of preact (may be NULL) */
    float *gpre;
    int64_t N;
    sea_act act;
} epi_ctx;

static void epilogue_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    epi_ctx *e = vctx;
    (void)tid;
    for (int64_t r = begin; r < end; r++) {
        float *c = e->c + r * e->N, *out = e->out + r * e->N, *pre = e->pre ? e->pre + r * e->N : NULL;
        if (e->bias)
            for (int64_t j = 0; j < e->N; j++) c[j] += e->bias[j];   /* c is pre when pre is saved */
        if (e->act != SEA_ACT_NONE)
            sea_cpu_act_rows(e->act, out, pre ? pre : c, e->N);
        else if (pre)
            for (int64_t j = 0; j < e->N; j++) out[j] = pre[j];
        if (e->res) sea_cpu_axpy(out, 1.0f, e->res + r * e->N, e->N);   /* after the bias, as a separate add */
    }
}

sea_status sea_cpu_matmul(const sea_op *op)
{
    mm_dims d = dims_of(op);
    const float *A = cpu_f32(op->in[0]), *B = cpu_f32(op->in[1]);
    float *out = cpu_f32(op->out[0]), *pre = op->out[1] ? cpu_f32(op->out[1]) : NULL;
    float *C = pre ? pre : out;
    for (int64_t i = 0; i < d.batch; i++)
        sea_cpu_gemm(d.ta, d.tb, d.M, d.N, d.K, 1.0f, A + i * d.sa, d.lda, B + i * d.sb, d.ldb, 0.0f, C + i * d.sc, d.N);
    const float *bias = op->in[2] ? cpu_f32(op->in[2]) : NULL, *res = op->in[3] ? cpu_f32(op->in[3]) : NULL;
    if (bias || pre || res || op->p.matmul.act != SEA_ACT_NONE) {
        epi_ctx e = {.c = C, .pre = pre, .out = out, .bias = bias, .res = res, .N = d.N, .act = op->p.matmul.act};
        cpu_for(d.batch * d.M, cpu_min_items(d.N), epilogue_rows, &e);
    }
    return SEA_OK;
}

static void gpre_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    epi_ctx *e = vctx;
    (void)tid;
    for (int64_t r = begin; r < end; r++) {
        float *gp = e->gpre + r * e->N;
        if (e->g)
            sea_cpu_act_grad_rows(e->act, gp, e->g + r * e->N, e->pre ? e->pre + r * e->N : e->g + r * e->N, e->N, false);
        else
            for (int64_t j = 0; j < e->N; j++) gp[j] = 0.0f;
        if (e->g1)
            for (int64_t j = 0; j < e->N; j++) gp[j] += e->g1[r * e->N + j];
    }
}

typedef struct colsum_ctx {
    const float *g;   /* (rows, N) */
    float *out;       /* (N) += column sums */
    int64_t rows, N;
} colsum_ctx;

/* Column blocks of 64, rows in order. */
static void colsum_blocks(void *vctx, int64_t begin, int64_t end, int tid)
{
    colsum_ctx *c = vctx;
    (void)tid;
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t j0 = blk * 64, j1 = j0 + 64 < c->N ? j0 + 64 : c->N;
        float acc[64] = {0};
        for (int64_t r = 0; r < c->rows; r++)
            for (int64_t j = j0; j < j1; j++) acc[j - j0] += c->g[r * c->N + j];
        for (int64_t j = j0; j < j1; j++) c->out[j] += acc[j - j0];
    }
}

void sea_cpu_colsum_add(const float *g, int64_t rows, int64_t N, float *out)
{
    colsum_ctx c = {g, out, rows, N};
    cpu_for((N + 63) / 64, cpu_min_items(64 * rows), colsum_blocks, &c);
}

sea_status sea_cpu_matmul_backward(const sea_op *op)
{
    const sea_tensor *go0 = op->gout[0], *go1 = op->out[1] ? op->gout[1] : NULL;
    if (!go0 && !go1) return SEA_OK;
    mm_dims d = dims_of(op);
    sea_act act = op->p.matmul.act;
    float *gpre = NULL, *tmp = NULL;
    if (act == SEA_ACT_NONE && !go1) {
        gpre = cpu_f32(go0);
    } else {
        tmp = malloc((size_t)(d.batch * d.sc) * sizeof(float) + 1);
        if (!tmp)
            return sea_error(SEA_ERR_OOM, "matmul backward: out of host memory for a (%lld, %lld, %lld) gradient on cpu",
                             (long long)d.batch, (long long)d.M, (long long)d.N);
        epi_ctx e = {.pre = op->out[1] ? cpu_f32(op->out[1]) : NULL, .g = go0 ? cpu_f32(go0) : NULL,
                     .g1 = go1 ? cpu_f32(go1) : NULL, .gpre = tmp, .N = d.N, .act = act};
        cpu_for(d.batch * d.M, cpu_min_items(d.N), gpre_rows, &e);
        gpre = tmp;
    }
    const float *A = cpu_f32(op->in[0]), *B = cpu_f32(op->in[1]);
    float *gA = op->gin[0] ? cpu_f32(op->gin[0]) : NULL, *gB = op->gin[1] ? cpu_f32(op->gin[1]) : NULL;
    float *gbias = op->gin[2] && op->in[2] ? cpu_f32(op->gin[2]) : NULL;
    int64_t M = d.M, N = d.N, K = d.K;
    for (int64_t i = 0; i < d.batch; i++) {
        const float *G = gpre + i * d.sc, *Ai = A + i * d.sa, *Bi = B + i * d.sb;
        if (gA) {
            float *gAi = gA + i * d.sa;
            if (!d.ta) /* gA (M, K) += G (M, N) op(B)^T */
                sea_cpu_gemm(false, !d.tb, M, K, N, 1.0f, G, N, Bi, d.tb ? K : N, 1.0f, gAi, K);
            else       /* gA (K, M) += op(B) (K, N) G^T */
                sea_cpu_gemm(d.tb, true, K, M, N, 1.0f, Bi, d.tb ? K : N, G, N, 1.0f, gAi, M);
        }
        if (gB) {
            float *gBi = gB + i * d.sb;
            if (!d.tb) /* gB (K, N) += op(A)^T G */
                sea_cpu_gemm(!d.ta, false, K, N, M, 1.0f, Ai, d.ta ? M : K, G, N, 1.0f, gBi, N);
            else       /* gB (N, K) += G^T op(A) */
                sea_cpu_gemm(true, d.ta, N, K, M, 1.0f, G, N, Ai, d.ta ? M : K, 1.0f, gBi, K);
        }
    }
    if (gbias) sea_cpu_colsum_add(gpre, d.batch * M, N, gbias);
    if (op->gin[3] && op->in[3] && go0)   /* the residual passes its gradient through */
        sea_cpu_axpy(cpu_f32(op->gin[3]), 1.0f, cpu_f32(go0), d.batch * d.sc);
    free(tmp);
    return SEA_OK;
}
