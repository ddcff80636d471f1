/* Host test of the CUDA backend's matmul and ensemble glue (cuda_gemm.c, cuda_ensemble.c):
 * the row-major to column-major operand swap, transposes, leading dimensions, batch strides,
 * the folding of shared-B batches, every backward GEMM, and explicit leading dimensions. The cuBLAS entry points and the
 * epilogue kernels are replaced here by plain host implementations with cuBLAS's documented
 * column-major semantics, so the glue runs unchanged on host memory and is compared with a
 * float64 reference written directly from op.h. No GPU needed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

/* ---- stand-ins for cuBLAS / CUDA runtime (column-major, as documented) ---- */
static int n_gemm_calls;
/* The C types the glue asked cuBLAS for, and the destination dtypes of the column sums, in
 * call order (the data here is always f32: these check the dtype plumbing only). */
static cudaDataType gemm_ctypes[16];
static sea_dtype colsum_dtypes[16];
static int n_ctypes, n_colsums;

static float ld_cm(const float *a, cublasOperation_t op, int lda, int r, int c)
{
    /* element (r, c) of op(A), A column-major with leading dimension lda */
    return op == CUBLAS_OP_N ? a[(size_t)c * lda + r] : a[(size_t)r * lda + c];
}

static void gemm_cm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha, const float *A, int lda,
                    const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double)ld_cm(A, ta, lda, i, p) * ld_cm(B, tb, ldb, p, j);
            float *c = &C[(size_t)j * ldc + i];
            *c = (float)(alpha * s + (beta != 0.0f ? beta * *c : 0.0));
        }
}

cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType Atype, int lda, const void *B,
                            cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc,
                            cublasComputeType_t ct, cublasGemmAlgo_t algo)
{
    (void)h; (void)Atype; (void)Btype; (void)ct; (void)algo;
    n_gemm_calls++;
    if (n_ctypes < 16) gemm_ctypes[n_ctypes++] = Ctype;
    gemm_cm(ta, tb, m, n, k, *(const float *)alpha, A, lda, B, ldb, *(const float *)beta, C, ldc);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                          int k, const void *alpha, const void *A, cudaDataType Atype, int lda,
                                          long long sA, const void *B, cudaDataType Btype, int ldb, long long sB,
                                          const void *beta, void *C, cudaDataType Ctype, int ldc, long long sC,
                                          int batch, cublasComputeType_t ct, cublasGemmAlgo_t algo)
{
    (void)h; (void)Atype; (void)Btype; (void)Ctype; (void)ct; (void)algo;
    n_gemm_calls++;
    for (int b = 0; b < batch; b++)
        gemm_cm(ta, tb, m, n, k, *(const float *)alpha, (const float *)A + b * sA, lda, (const float *)B + b * sB, ldb,
                *(const float *)beta, (float *)C + b * sC, ldc);
    return CUBLAS_STATUS_SUCCESS;
}

cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t s)
{
    (void)s;
    memset(p, v, n);
    return cudaSuccess;
}

/* The cuBLASLt bias-epilogue path declines here, so this test covers the cuBLAS + epilogue
 * kernel path; cuda_gemm_lt.c is tested on the CUDA emulator (cuda_vs_cpu, model tests). */
sea_status sea_cuda_gemm_lt(sea_cuda_stream *cs, const sea_cuda_gemm *g, const void *bias, sea_dtype bias_dt,
                            const void *residual, const char *op, bool *used)
{
    (void)cs; (void)g; (void)bias; (void)bias_dt; (void)residual; (void)op;
    *used = false;
    return SEA_OK;
}

sea_status sea_cuda_check(cudaError_t e, const sea_cuda_stream *cs, const char *what)
{
    (void)cs;
    return e ? sea_error(SEA_ERR_DEVICE, "%s failed", what) : SEA_OK;
}

sea_status sea_cuda_blas_check(cublasStatus_t e, const sea_cuda_stream *cs, const char *what)
{
    (void)cs;
    return e ? sea_error(SEA_ERR_DEVICE, "%s failed", what) : SEA_OK;
}

sea_status sea_cuda_tmp_alloc(sea_cuda_stream *cs, size_t size, void **out)
{
    (void)cs;
    *out = malloc(size ? size : 1);
    /* poison: glue must not read temporaries before writing them */
    memset(*out, 0xff, size);
    return *out ? SEA_OK : SEA_ERR_OOM;
}

void sea_cuda_tmp_free(sea_cuda_stream *cs, void *p, size_t size)
{
    (void)cs; (void)size;
    free(p);
}

static double act_f(sea_act a, double x)
{
    switch (a) {
    case SEA_ACT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case SEA_ACT_GELU_TANH: return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case SEA_ACT_RELU: return x > 0 ? x : 0;
    case SEA_ACT_SILU: return x / (1 + exp(-x));
    default: return x;
    }
}

static double act_df(sea_act a, double x)
{
    double h = 1e-6;
    if (a == SEA_ACT_RELU) return x > 0;
    if (a == SEA_ACT_NONE) return 1;
    return (act_f(a, x + h) - act_f(a, x - h)) / (2 * h);
}

sea_status sea_cuda_bias_act_residual(sea_cuda_stream *cs, const void *c, sea_dtype cd, const void *bias,
                                      sea_dtype bd, int64_t rows_per_bias, void *pre, sea_dtype pd, const void *res,
                                      sea_dtype rd, void *out, sea_dtype od, int64_t rows, int64_t n, sea_act act,
                                      const char *op)
{
    (void)cs; (void)cd; (void)bd; (void)pd; (void)rd; (void)od; (void)op;
    for (int64_t i = 0; i < rows * n; i++) {
        float v = ((const float *)c)[i];
        if (bias) {
            int64_t row = i / n, col = i % n;
            v += ((const float *)bias)[rows_per_bias ? (row / rows_per_bias) * n + col : col];
        }
        if (pre) ((float *)pre)[i] = v;
        ((float *)out)[i] = (float)act_f(act, v) + (res ? ((const float *)res)[i] : 0.0f);
    }
    return SEA_OK;
}

sea_status sea_cuda_bias_act(sea_cuda_stream *cs, const void *c, sea_dtype cd, const void *bias, sea_dtype bd,
                             int64_t rows_per_bias, void *pre, sea_dtype pd, void *out, sea_dtype od, int64_t rows,
                             int64_t n, sea_act act, const char *op)
{
    return sea_cuda_bias_act_residual(cs, c, cd, bias, bd, rows_per_bias, pre, pd, NULL, SEA_F32, out, od, rows, n, act,
                                      op);
}

/* copy's backward (gin[0] += gout[0]): how the matmul glue passes a residual's gradient. */
sea_status sea_cuda_copy_backward(sea_cuda_stream *cs, const sea_op *op)
{
    (void)cs;
    int64_t n = sea_tensor_numel(op->gin[0]);
    float *g = (float *)((char *)op->gin[0]->buf->handle + op->gin[0]->offset);
    const float *go = (const float *)((char *)op->gout[0]->buf->handle + op->gout[0]->offset);
    for (int64_t i = 0; i < n; i++) g[i] += go[i];
    return SEA_OK;
}

sea_status sea_cuda_act_backward(sea_cuda_stream *cs, const void *gout, sea_dtype gd, const void *gpre, sea_dtype gpd,
                                 const void *pre, sea_dtype pd, void *dpre, sea_dtype dd, int64_t n, sea_act act,
                                 const char *op)
{
    (void)cs; (void)gd; (void)gpd; (void)pd; (void)dd; (void)op;
    for (int64_t i = 0; i < n; i++) {
        float v = (float)(((const float *)gout)[i] * act_df(act, ((const float *)pre)[i]));
        if (gpre) v += ((const float *)gpre)[i];
        ((float *)dpre)[i] = v;
    }
    return SEA_OK;
}

sea_status sea_cuda_colsum_acc(sea_cuda_stream *cs, const void *src, sea_dtype sd, int64_t batch, int64_t rows,
                               int64_t cols, void *dst, sea_dtype dd, const char *op)
{
    (void)cs; (void)sd; (void)op;
    if (n_colsums < 16) colsum_dtypes[n_colsums++] = dd;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t j = 0; j < cols; j++) {
            float s = 0;
            for (int64_t r = 0; r < rows; r++) s += ((const float *)src)[(b * rows + r) * cols + j];
            ((float *)dst)[b * cols + j] += s;
        }
    return SEA_OK;
}

/* ---- host tensors ---- */
static uint64_t rs = 88172645463325252ULL;
static float frand(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0 * 2 - 1);
}

static sea_tensor mk(int nd, int64_t a, int64_t b, int64_t c, int64_t d, bool random)
{
    int64_t sh[4] = {a, b, c, d};
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= sh[i];
    sea_buffer *buf = calloc(1, sizeof *buf);
    buf->size = (size_t)n * 4;
    buf->handle = malloc(buf->size);
    buf->refs = 1;
    float *p = buf->handle;
    for (int64_t i = 0; i < n; i++) p[i] = random ? frand() : 0.0f;
    return sea_tensor_make(buf, 0, SEA_F32, nd, sh);
}

static float *F(const sea_tensor *t) { return (float *)t->buf->handle; }

static int64_t numel(const sea_tensor *t) { return sea_tensor_numel(t); }

static sea_tensor clone(const sea_tensor *t)
{
    sea_tensor c = mk(t->ndim, t->shape[0], t->shape[1], t->shape[2], t->shape[3], false);
    memcpy(F(&c), F(t), (size_t)numel(t) * 4);
    return c;
}

static int failures;

static void expect_close(const char *what, const float *got, const double *ref, int64_t n, double tol)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num += (got[i] - ref[i]) * (got[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    double e = sqrt(num / (den > 0 ? den : 1));
    if (!(e <= tol)) {
        printf("FAIL %s: rel err %.3e\n", what, e);
        failures++;
    }
}

/* ---- matmul vs a reference straight from op.h ---- */
static void test_matmul(int nb, int64_t b0, int64_t M, int64_t K, int64_t N, bool ta, bool tb, bool b_shared,
                        bool bias, sea_act act)
{
    char name[160];
    snprintf(name, sizeof name, "matmul batch %lld M %lld K %lld N %lld ta %d tb %d shared %d bias %d act %d",
             (long long)(nb ? b0 : 1), (long long)M, (long long)K, (long long)N, ta, tb, b_shared, bias, act);
    int64_t B = nb ? b0 : 1;
    sea_tensor A = nb ? (ta ? mk(3, B, K, M, 1, true) : mk(3, B, M, K, 1, true)) : (ta ? mk(2, K, M, 1, 1, true) : mk(2, M, K, 1, 1, true));
    bool bb = nb && !b_shared;
    sea_tensor Bt = bb ? (tb ? mk(3, B, N, K, 1, true) : mk(3, B, K, N, 1, true)) : (tb ? mk(2, N, K, 1, 1, true) : mk(2, K, N, 1, 1, true));
    sea_tensor bi = mk(1, N, 1, 1, 1, true);
    sea_tensor O = nb ? mk(3, B, M, N, 1, false) : mk(2, M, N, 1, 1, false);
    sea_tensor Pre = clone(&O);
    sea_op op;
    memset(&op, 0, sizeof op);
    op.kind = SEA_OP_MATMUL;
    op.in[0] = &A;
    op.in[1] = &Bt;
    op.in[2] = bias ? &bi : NULL;
    op.out[0] = &O;
    op.out[1] = act != SEA_ACT_NONE ? &Pre : NULL;
    op.p.matmul.trans_a = ta;
    op.p.matmul.trans_b = tb;
    op.p.matmul.act = act;
    sea_cuda_device cdev = {0};
    snprintf(cdev.label, sizeof cdev.label, "host-emulated");
    sea_cuda_stream cs = {0};
    cs.cdev = &cdev;
    if (sea_cuda_matmul_forward(&cs, &op)) {
        printf("FAIL %s: forward: %s\n", name, sea_last_error());
        failures++;
        return;
    }
    /* reference */
    const float *a = F(&A), *b = F(&Bt), *bv = F(&bi);
    double *ref = calloc((size_t)(B * M * N), sizeof(double)), *pre = calloc((size_t)(B * M * N), sizeof(double));
#define AEL(bt, i, k) (ta ? a[(bt) * M * K + (k) * M + (i)] : a[(bt) * M * K + (i) * K + (k)])
#define BEL(bt, k, j) (tb ? b[(bb ? (bt) * K * N : 0) + (j) * K + (k)] : b[(bb ? (bt) * K * N : 0) + (k) * N + (j)])
    for (int64_t t = 0; t < B; t++)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = bias ? bv[j] : 0;
                for (int64_t k = 0; k < K; k++) s += (double)AEL(t, i, k) * BEL(t, k, j);
                pre[(t * M + i) * N + j] = s;
                ref[(t * M + i) * N + j] = act_f(act, s);
            }
    expect_close(name, F(&O), ref, B * M * N, 1e-6);
    if (act != SEA_ACT_NONE) expect_close(name, F(&Pre), pre, B * M * N, 1e-6);

    /* backward: gradients start random (the op accumulates) */
    sea_tensor gO = clone(&O), gA = clone(&A), gB = clone(&Bt), gb = clone(&bi);
    for (int64_t i = 0; i < numel(&gO); i++) F(&gO)[i] = frand();
    for (int64_t i = 0; i < numel(&gA); i++) F(&gA)[i] = frand();
    for (int64_t i = 0; i < numel(&gB); i++) F(&gB)[i] = frand();
    double *rA = malloc((size_t)numel(&A) * 8), *rB = malloc((size_t)numel(&Bt) * 8), *rb = malloc((size_t)N * 8);
    for (int64_t i = 0; i < numel(&A); i++) rA[i] = F(&gA)[i];
    for (int64_t i = 0; i < numel(&Bt); i++) rB[i] = F(&gB)[i];
    for (int64_t i = 0; i < N; i++) rb[i] = F(&gb)[i];
    for (int64_t t = 0; t < B; t++)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double d = F(&gO)[(t * M + i) * N + j] * act_df(act, (float)pre[(t * M + i) * N + j]);
                if (bias) rb[j] += d;
                for (int64_t k = 0; k < K; k++) {
                    int64_t ia = ta ? t * M * K + k * M + i : t * M * K + i * K + k;
                    int64_t ib = (bb ? t * K * N : 0) + (tb ? j * K + k : k * N + j);
                    rA[ia] += d * b[ib];
                    rB[ib] += d * a[ia];
                }
            }
    op.gout[0] = &gO;
    op.gin[0] = &gA;
    op.gin[1] = &gB;
    op.gin[2] = bias ? &gb : NULL;
    if (sea_cuda_matmul_backward(&cs, &op)) {
        printf("FAIL %s: backward: %s\n", name, sea_last_error());
        failures++;
        return;
    }
    char n2[200];
    snprintf(n2, sizeof n2, "%s grad a", name);
    expect_close(n2, F(&gA), rA, numel(&A), 1e-5);
    snprintf(n2, sizeof n2, "%s grad b", name);
    expect_close(n2, F(&gB), rB, numel(&Bt), 1e-5);
    if (bias) {
        snprintf(n2, sizeof n2, "%s grad bias", name);
        expect_close(n2, F(&gb), rb, N, 1e-5);
    }
    free(ref); free(pre); free(rA); free(rB); free(rb);
}

/* Mixed precision backward (op.h): bf16 operands and output gradient, the activation's
 * gradient bf16, the weight's and bias's f32. The weight-gradient GEMM must write an f32 C and
 * the bias column sum an f32 destination; the activation-gradient GEMM a bf16 C. (Host data
 * stays f32: the dtypes are labels the glue passes on, which is what is checked.) */
static void test_mixed_wgrad_types(void)
{
    int64_t M = 5, K = 4, N = 3;
    sea_tensor A = mk(2, M, K, 1, 1, true), W = mk(2, N, K, 1, 1, true), bi = mk(1, N, 1, 1, 1, true);
    sea_tensor O = mk(2, M, N, 1, 1, false), gO = mk(2, M, N, 1, 1, true);
    sea_tensor gA = mk(2, M, K, 1, 1, false), gW = mk(2, N, K, 1, 1, false), gb = mk(1, N, 1, 1, 1, false);
    A.dtype = W.dtype = bi.dtype = O.dtype = gO.dtype = gA.dtype = SEA_BF16;
    sea_op op;
    memset(&op, 0, sizeof op);
    op.kind = SEA_OP_MATMUL;
    op.in[0] = &A;
    op.in[1] = &W;
    op.in[2] = &bi;
    op.out[0] = &O;
    op.p.matmul.trans_b = true;
    op.gout[0] = &gO;
    op.gin[0] = &gA;
    op.gin[1] = &gW;
    op.gin[2] = &gb;
    sea_cuda_device cdev = {0};
    sea_cuda_stream cs = {0};
    cs.cdev = &cdev;
    n_ctypes = n_colsums = 0;
    if (sea_cuda_matmul_backward(&cs, &op)) {
        printf("FAIL mixed backward: %s\n", sea_last_error());
        failures++;
        return;
    }
    bool ok = n_ctypes == 2 && gemm_ctypes[0] == CUDA_R_16BF && gemm_ctypes[1] == CUDA_R_32F && n_colsums == 1 &&
              colsum_dtypes[0] == SEA_F32;
    if (!ok) {
        printf("FAIL mixed backward: %d gemms (C types %d, %d; want bf16 for grad a, f32 for grad b), "
               "%d column sums (dtype %d; want f32)\n", n_ctypes, n_ctypes > 0 ? (int)gemm_ctypes[0] : -1,
               n_ctypes > 1 ? (int)gemm_ctypes[1] : -1, n_colsums, n_colsums ? (int)colsum_dtypes[0] : -1);
        failures++;
    }
    /* and the values: gW (N, K) = gO^T A, gA = gO W, gb = colsum gO */
    double rW[12] = {0}, rA[20] = {0}, rb[3] = {0};
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double g = F(&gO)[i * N + j];
            rb[j] += g;
            for (int64_t k = 0; k < K; k++) {
                rW[j * K + k] += g * F(&A)[i * K + k];
                rA[i * K + k] += g * F(&W)[j * K + k];
            }
        }
    expect_close("mixed backward grad a", F(&gA), rA, M * K, 1e-5);
    expect_close("mixed backward grad w (f32)", F(&gW), rW, N * K, 1e-5);
    expect_close("mixed backward grad bias (f32)", F(&gb), rb, N, 1e-5);
}

/* ---- ensemble MLP vs a direct reference ---- */
static void test_ensemble(int64_t N, int64_t d, int64_t K, int64_t h)
{
    sea_tensor x = mk(2, N, d, 1, 1, true), W1 = mk(3, K, d, h, 1, true), b1 = mk(2, K, h, 1, 1, true),
               W2 = mk(3, K, h, h, 1, true), b2 = mk(2, K, h, 1, 1, true), W3 = mk(2, K, h, 1, 1, true),
               b3 = mk(1, K, 1, 1, 1, true), r = mk(2, K, N, 1, 1, false), h1 = mk(3, K, N, h, 1, false),
               h2 = mk(3, K, N, h, 1, false);
    sea_tensor *in[7] = {&x, &W1, &b1, &W2, &b2, &W3, &b3};
    sea_op op;
    memset(&op, 0, sizeof op);
    op.kind = SEA_OP_ENSEMBLE_MLP;
    for (int i = 0; i < 7; i++) op.in[i] = in[i];
    op.out[0] = &r;
    op.out[1] = &h1;
    op.out[2] = &h2;
    sea_cuda_device cdev = {0};
    sea_cuda_stream cs = {0};
    cs.cdev = &cdev;
    if (sea_cuda_ensemble_mlp_forward(&cs, &op)) {
        printf("FAIL ensemble forward: %s\n", sea_last_error());
        failures++;
        return;
    }
    /* reference forward and backward in double, by the chain rule written out */
    double *H1 = calloc((size_t)(K * N * h), 8), *H2 = calloc((size_t)(K * N * h), 8), *R = calloc((size_t)(K * N), 8);
    sea_tensor g[7];
    double *rg[7];
    for (int i = 0; i < 7; i++) {
        g[i] = clone(in[i]);
        rg[i] = malloc((size_t)numel(in[i]) * 8);
        for (int64_t j = 0; j < numel(in[i]); j++) rg[i][j] = F(&g[i])[j] = frand();
    }
    sea_tensor gr = clone(&r);
    for (int64_t j = 0; j < K * N; j++) F(&gr)[j] = frand();
    const float *X = F(&x), *w1 = F(&W1), *B1 = F(&b1), *w2 = F(&W2), *B2 = F(&b2), *w3 = F(&W3), *B3 = F(&b3);
    for (int64_t k = 0; k < K; k++)
        for (int64_t n = 0; n < N; n++) {
            double *a1 = H1 + (k * N + n) * h, *a2 = H2 + (k * N + n) * h;
            for (int64_t j = 0; j < h; j++) {
                double s = B1[k * h + j];
                for (int64_t i = 0; i < d; i++) s += X[n * d + i] * w1[(k * d + i) * h + j];
                a1[j] = s > 0 ? s : 0;
            }
            for (int64_t j = 0; j < h; j++) {
                double s = B2[k * h + j];
                for (int64_t i = 0; i < h; i++) s += a1[i] * w2[(k * h + i) * h + j];
                a2[j] = s > 0 ? s : 0;
            }
            double s = B3[k];
            for (int64_t i = 0; i < h; i++) s += a2[i] * w3[k * h + i];
            R[k * N + n] = s;
            /* backward of this (k, n) */
            double go = F(&gr)[k * N + n];
            rg[6][k] += go;
            double dz2[512], dz1[512];
            for (int64_t i = 0; i < h; i++) {
                rg[5][k * h + i] += go * a2[i];
                dz2[i] = a2[i] > 0 ? go * w3[k * h + i] : 0;
            }
            for (int64_t j = 0; j < h; j++) rg[4][k * h + j] += dz2[j];
            for (int64_t i = 0; i < h; i++) {
                double s1 = 0;
                for (int64_t j = 0; j < h; j++) {
                    rg[3][(k * h + i) * h + j] += a1[i] * dz2[j];
                    s1 += dz2[j] * w2[(k * h + i) * h + j];
                }
                dz1[i] = a1[i] > 0 ? s1 : 0;
            }
            for (int64_t j = 0; j < h; j++) rg[2][k * h + j] += dz1[j];
            for (int64_t i = 0; i < d; i++)
                for (int64_t j = 0; j < h; j++) {
                    rg[1][(k * d + i) * h + j] += X[n * d + i] * dz1[j];
                    rg[0][n * d + i] += dz1[j] * w1[(k * d + i) * h + j];
                }
        }
    expect_close("ensemble r", F(&r), R, K * N, 1e-6);
    expect_close("ensemble h1", F(&h1), H1, K * N * h, 1e-6);
    expect_close("ensemble h2", F(&h2), H2, K * N * h, 1e-6);
    op.gout[0] = &gr;
    for (int i = 0; i < 7; i++) op.gin[i] = &g[i];
    if (sea_cuda_ensemble_mlp_backward(&cs, &op)) {
        printf("FAIL ensemble backward: %s\n", sea_last_error());
        failures++;
        return;
    }
    const char *names[7] = {"ensemble grad x", "ensemble grad W1", "ensemble grad b1", "ensemble grad W2",
                            "ensemble grad b2", "ensemble grad W3", "ensemble grad b3"};
    for (int i = 0; i < 7; i++) expect_close(names[i], F(&g[i]), rg[i], numel(in[i]), 1e-5);
}

/* Explicit leading dimensions (sea_cuda_gemm.ldx/ldy/ldc), as the flash backward's dQ uses
 * them: c += alpha x^T y per batch, x stored (K, M) packed, y and c column blocks of wider
 * rows (ldy W, ldc Wc) at a column offset, batches along the rows' columns; the columns
 * around the block stay as they were. Then K = 0 with beta = 0 zeroes only the block. */
static void test_leading_dims(void)
{
    enum { M = 5, K = 4, N = 3, W = 11, WC = 9, BATCH = 2, OY = 1, OC = 2 };
    float x[BATCH][K][M], y[K][W], c[M][WC];
    double ref[M][WC];
    for (int b = 0; b < BATCH; b++)
        for (int p = 0; p < K; p++)
            for (int i = 0; i < M; i++) x[b][p][i] = (float)((b * 7 + p * 3 + i) % 5) - 2.0f;
    for (int p = 0; p < K; p++)
        for (int j = 0; j < W; j++) y[p][j] = (float)((p * 5 + j) % 7) * 0.25f - 0.5f;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < WC; j++) ref[i][j] = c[i][j] = (float)(i - j) * 0.125f;
    const float alpha = 0.5f;
    for (int b = 0; b < BATCH; b++)
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int p = 0; p < K; p++) s += (double)x[b][p][i] * y[p][OY + b * N + j];
                ref[i][OC + b * N + j] += alpha * s;
            }
    sea_cuda_gemm g = {0};
    g.tx = true;
    g.M = M, g.N = N, g.K = K;
    g.x = x, g.xt = SEA_F32, g.sx = K * M;
    g.y = &y[0][OY], g.yt = SEA_F32, g.sy = N, g.ldy = W;
    g.c = &c[0][OC], g.ct = SEA_F32, g.sc = N, g.ldc = WC;
    g.batch = BATCH, g.alpha = alpha, g.beta = 1.0f;
    sea_cuda_stream cs = {0};
    if (sea_cuda_gemm_run(&cs, &g, "leading dims")) {
        printf("FAIL leading dims: %s\n", sea_last_error());
        failures++;
        return;
    }
    expect_close("leading dims", &c[0][0], &ref[0][0], M * WC, 1e-6);
    g.K = 0, g.beta = 0.0f;
    if (sea_cuda_gemm_run(&cs, &g, "leading dims, K = 0")) {
        printf("FAIL leading dims, K = 0: %s\n", sea_last_error());
        failures++;
        return;
    }
    for (int i = 0; i < M; i++)
        for (int j = OC; j < OC + BATCH * N; j++) ref[i][j] = 0;
    expect_close("leading dims, K = 0", &c[0][0], &ref[0][0], M * WC, 0);
}

int main(void)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            test_matmul(0, 1, 7, 5, 6, ta, tb, true, ta == tb, ta ? SEA_ACT_GELU : SEA_ACT_NONE);
            test_matmul(1, 3, 4, 6, 5, ta, tb, true, true, SEA_ACT_SILU);   /* shared B over a batch */
            test_matmul(1, 3, 4, 6, 5, ta, tb, false, false, SEA_ACT_RELU); /* batched B */
            test_matmul(1, 2, 9, 1, 3, ta, tb, false, true, SEA_ACT_GELU_TANH);
        }
    test_mixed_wgrad_types();
    test_leading_dims();
    test_ensemble(5, 7, 3, 4);
    test_ensemble(1, 3, 1, 1);
    printf("cuda gemm glue (host-emulated cuBLAS): %d gemm calls, %d failures\n", n_gemm_calls, failures);
    return failures ? 1 : 0;
}
