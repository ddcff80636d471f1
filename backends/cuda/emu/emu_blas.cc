/* cuBLAS's GEMMs on the host, for the CUDA emulator (include/cublas_v2.h): column-major
 * C = alpha op(A) op(B) + beta C, batched with strides, A/B/C each f32, bf16 or f16,
 * products accumulated in f32 (CUBLAS_COMPUTE_32F) and C read only when beta != 0, as
 * cuBLAS documents. Calls go through the stream, so a captured graph replays them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <new>
#include <vector>

#include "dtype.h"
#include "emu_runtime.h"
#include "include/cublasLt.h"
#include "include/cublas_v2.h"

struct sea_emu_blas {
    cudaStream_t stream;
};

namespace {

/* The runtime's conversions (runtime/dtype.c): the bits every backend uses. */
float load(const void *p, cudaDataType t, size_t i)
{
    switch (t) {
    case CUDA_R_32F: return ((const float *)p)[i];
    case CUDA_R_16BF: return sea_bf16_to_f32(((const uint16_t *)p)[i]);
    default: return sea_f16_to_f32(((const uint16_t *)p)[i]);
    }
}

void store(void *p, cudaDataType t, size_t i, float v)
{
    switch (t) {
    case CUDA_R_32F: ((float *)p)[i] = v; break;
    case CUDA_R_16BF: ((uint16_t *)p)[i] = sea_f32_to_bf16(v); break;
    default: ((uint16_t *)p)[i] = sea_f32_to_f16(v); break;
    }
}

bool supported(cudaDataType t) { return t == CUDA_R_32F || t == CUDA_R_16BF || t == CUDA_R_16F; }

struct gemm {
    cublasOperation_t ta, tb;
    int m, n, k;
    float alpha, beta;
    const void *A, *B;
    void *C;
    cudaDataType at, bt, ct;
    int lda, ldb, ldc;
    long long sa, sb, sc;
    int batch;
    const void *bias; /* cuBLASLt's bias epilogue: + bias[i] on row i of C, same dtype as C */
    const void *c_in; /* cuBLASLt: the C read when beta != 0, if not C itself (D = ... + beta C) */
};

/* op(A) as m rows of k and op(B) as n rows of k, converted to f32 once, so every output is
 * one contiguous dot product (summed in order p = 0..k-1, in f32). */
void run(const gemm &g)
{
    std::vector<float> a((size_t)g.m * g.k), bt((size_t)g.n * g.k);
    for (int b = 0; b < g.batch; b++) {
        for (int i = 0; i < g.m; i++)
            for (int p = 0; p < g.k; p++)
                a[(size_t)i * g.k + p] = load(g.A, g.at, (size_t)(b * g.sa) + (g.ta == CUBLAS_OP_N ? (size_t)p * g.lda + i
                                                                                                   : (size_t)i * g.lda + p));
        for (int j = 0; j < g.n; j++)
            for (int p = 0; p < g.k; p++)
                bt[(size_t)j * g.k + p] = load(g.B, g.bt, (size_t)(b * g.sb) + (g.tb == CUBLAS_OP_N ? (size_t)j * g.ldb + p
                                                                                                    : (size_t)p * g.ldb + j));
        for (int j = 0; j < g.n; j++)
            for (int i = 0; i < g.m; i++) {
                const float *x = &a[(size_t)i * g.k], *y = &bt[(size_t)j * g.k];
                float acc = 0.0f;
                for (int p = 0; p < g.k; p++) acc += x[p] * y[p];
                size_t ic = (size_t)(b * g.sc) + (size_t)j * g.ldc + i;
                float c = g.alpha * acc;
                if (g.beta != 0.0f) c += g.beta * load(g.c_in ? g.c_in : g.C, g.ct, ic);
                if (g.bias) c += load(g.bias, g.ct, (size_t)i);
                store(g.C, g.ct, ic, c);
            }
    }
}

cublasStatus_t submit(cudaStream_t stream, const gemm &g, cublasComputeType_t ct)
{
    if (g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0 || (g.ta != CUBLAS_OP_N && g.ta != CUBLAS_OP_T) ||
        (g.tb != CUBLAS_OP_N && g.tb != CUBLAS_OP_T) || g.ldc < (g.m > 1 ? g.m : 1) ||
        g.lda < ((g.ta == CUBLAS_OP_N ? g.m : g.k) > 1 ? (g.ta == CUBLAS_OP_N ? g.m : g.k) : 1) ||
        g.ldb < ((g.tb == CUBLAS_OP_N ? g.k : g.n) > 1 ? (g.tb == CUBLAS_OP_N ? g.k : g.n) : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (!supported(g.at) || !supported(g.bt) || !supported(g.ct) || g.at != g.bt ||
        (ct != CUBLAS_COMPUTE_32F && ct != CUBLAS_COMPUTE_32F_FAST_TF32))
        return CUBLAS_STATUS_NOT_SUPPORTED;
    if (!g.m || !g.n || !g.batch) return CUBLAS_STATUS_SUCCESS;
    cudaError_t e = sea_emu_enqueue(stream, [g]() {
        sea_emu_count_gemm();
        run(g);
        return cudaSuccess;
    });
    return e == cudaSuccess ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_EXECUTION_FAILED;
}

} /* namespace */

extern "C" {

cublasStatus_t cublasCreate(cublasHandle_t *h)
{
    *h = new (std::nothrow) sea_emu_blas();
    return *h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

cublasStatus_t cublasDestroy(cublasHandle_t h)
{
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s)
{
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->stream = s;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t h, void *ws, size_t bytes)
{
    (void)ws;
    (void)bytes;
    return h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t mode)
{
    (void)mode;
    return h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

const char *cublasGetStatusString(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    }
    return "CUBLAS_STATUS_UNKNOWN";
}

cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType Atype, int lda, const void *B,
                            cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc,
                            cublasComputeType_t ct, cublasGemmAlgo_t algo)
{
    (void)algo;
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    gemm g = {ta, tb, m, n, k, *(const float *)alpha, *(const float *)beta, A, B, C, Atype, Btype, Ctype,
              lda, ldb, ldc, 0, 0, 0, 1, nullptr, nullptr};
    return submit(h->stream, g, ct);
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                          int k, const void *alpha, const void *A, cudaDataType Atype, int lda,
                                          long long sA, const void *B, cudaDataType Btype, int ldb, long long sB,
                                          const void *beta, void *C, cudaDataType Ctype, int ldc, long long sC,
                                          int batch, cublasComputeType_t ct, cublasGemmAlgo_t algo)
{
    (void)algo;
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    gemm g = {ta, tb, m, n, k, *(const float *)alpha, *(const float *)beta, A, B, C, Atype, Btype, Ctype,
              lda, ldb, ldc, sA, sB, sC, batch, nullptr, nullptr};
    return submit(h->stream, g, ct);
}

/* ---- cuBLASLt ---- */

struct sea_emu_lt {
    int unused;
};

struct sea_emu_lt_desc {
    cublasComputeType_t ct;
    cublasOperation_t ta, tb;
    cublasLtEpilogue_t epilogue;
    const void *bias;
    cudaDataType bias_type;
    bool bias_type_set;
};

struct sea_emu_lt_layout {
    cudaDataType type;
    uint64_t rows, cols;
    int64_t ld;
};

cublasStatus_t cublasLtCreate(cublasLtHandle_t *h)
{
    *h = new (std::nothrow) sea_emu_lt();
    return *h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t h)
{
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, cublasComputeType_t ct, cudaDataType_t scale_type)
{
    if (scale_type != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
    *d = new (std::nothrow) sea_emu_lt_desc{ct, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_DEFAULT, nullptr, CUDA_R_32F,
                                            false};
    return *d ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d)
{
    delete d;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr,
                                              const void *buf, size_t size)
{
    if (!d || !buf) return CUBLAS_STATUS_INVALID_VALUE;
    switch (attr) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
    case CUBLASLT_MATMUL_DESC_TRANSB: {
        int32_t v;
        if (size != sizeof v) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&v, buf, sizeof v);
        (attr == CUBLASLT_MATMUL_DESC_TRANSA ? d->ta : d->tb) = (cublasOperation_t)v;
        return CUBLAS_STATUS_SUCCESS;
    }
    case CUBLASLT_MATMUL_DESC_EPILOGUE: {
        uint32_t v;
        if (size != sizeof v) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&v, buf, sizeof v);
        if (v != CUBLASLT_EPILOGUE_DEFAULT && v != CUBLASLT_EPILOGUE_BIAS) return CUBLAS_STATUS_NOT_SUPPORTED;
        d->epilogue = (cublasLtEpilogue_t)v;
        return CUBLAS_STATUS_SUCCESS;
    }
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
        if (size != sizeof d->bias) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&d->bias, buf, sizeof d->bias);
        return CUBLAS_STATUS_SUCCESS;
    case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE: {
        int32_t v;
        if (size != sizeof v) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&v, buf, sizeof v);
        d->bias_type = (cudaDataType)v;
        d->bias_type_set = true;
        return CUBLAS_STATUS_SUCCESS;
    }
    }
    return CUBLAS_STATUS_INVALID_VALUE;
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, cudaDataType type, uint64_t rows, uint64_t cols,
                                          int64_t ld)
{
    *l = new (std::nothrow) sea_emu_lt_layout{type, rows, cols, ld};
    return *l ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l)
{
    delete l;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t h, cublasLtMatmulDesc_t desc, const void *alpha, const void *A,
                              cublasLtMatrixLayout_t Adesc, const void *B, cublasLtMatrixLayout_t Bdesc,
                              const void *beta, const void *C, cublasLtMatrixLayout_t Cdesc, void *D,
                              cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t *algo, void *workspace,
                              size_t workspace_bytes, cudaStream_t stream)
{
    (void)algo;
    (void)workspace;
    (void)workspace_bytes;
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!desc || !Adesc || !Bdesc || !Cdesc || !Ddesc) return CUBLAS_STATUS_INVALID_VALUE;
    /* op(A) (m, k), op(B) (k, n), C and D (m, n): the layouts must say so. */
    const uint64_t m = Ddesc->rows, n = Ddesc->cols;
    const uint64_t am = desc->ta == CUBLAS_OP_N ? Adesc->rows : Adesc->cols;
    const uint64_t k = desc->ta == CUBLAS_OP_N ? Adesc->cols : Adesc->rows;
    const uint64_t bk = desc->tb == CUBLAS_OP_N ? Bdesc->rows : Bdesc->cols;
    const uint64_t bn = desc->tb == CUBLAS_OP_N ? Bdesc->cols : Bdesc->rows;
    if (am != m || bk != k || bn != n || Cdesc->rows != m || Cdesc->cols != n || Adesc->ld < (int64_t)Adesc->rows ||
        Bdesc->ld < (int64_t)Bdesc->rows || Ddesc->ld < (int64_t)m || Cdesc->ld != Ddesc->ld || Cdesc->type != Ddesc->type ||
        m > INT32_MAX || n > INT32_MAX || k > INT32_MAX)
        return CUBLAS_STATUS_INVALID_VALUE;
    /* C and D apart (D = A B + C into another matrix, how sea adds a residual): they must not
     * overlap partially, which cuBLASLt does not define either. */
    if (C != D) {
        const size_t es = Ddesc->type == CUDA_R_32F ? 4 : 2, bytes = ((size_t)(n - 1) * (size_t)Ddesc->ld + m) * es;
        const char *c0 = (const char *)C, *d0 = (const char *)D;
        if (c0 < d0 + bytes && d0 < c0 + bytes) return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (desc->epilogue == CUBLASLT_EPILOGUE_BIAS &&
        (!desc->bias || (desc->bias_type_set && desc->bias_type != Ddesc->type)))
        return CUBLAS_STATUS_INVALID_VALUE;
    gemm g = {desc->ta, desc->tb, (int)m, (int)n, (int)k, *(const float *)alpha, *(const float *)beta, A, B, D,
              Adesc->type, Bdesc->type, Ddesc->type, (int)Adesc->ld, (int)Bdesc->ld, (int)Ddesc->ld, 0, 0, 0, 1,
              desc->epilogue == CUBLASLT_EPILOGUE_BIAS ? desc->bias : nullptr, C != D ? C : nullptr};
    return submit(stream, g, desc->ct);
}

} /* extern "C" */
