/* A matmul with its bias and/or a residual added by cuBLASLt: D = op(Y) op(X) + C + bias in
 * one kernel, where cuBLAS + sea's epilogue kernel take two, and the output is written once
 * in its own dtype instead of an f32 temporary read back by the epilogue.
 *
 * - bias: CUBLASLT_EPILOGUE_BIAS (q, k, v, dense and MLP-down projections).
 * - residual: C = the residual with beta = 1 and D = the output, a separate matrix (the
 *   transformer's x + attn(x) folded into the dense projection, x1 + mlp(x1) into MLP-down).
 *
 * Used for act == NONE when the GEMM is one matrix (not batched), beta is 0, and operands,
 * output, bias and residual share one dtype. Anything else (or pointers not 16-byte
 * aligned), or a cuBLASLt refusal (CUBLAS_STATUS_NOT_SUPPORTED), leaves the work to the
 * two-kernel path: *used = false. SEA_CUDA_LT=0 turns it off (no handle is made:
 * cuda_module.c).
 *
 * Layouts are column-major as in cuda_gemm.c: row-major out (M, N) = x (M, K) y^T is
 * column-major D (N, M) = op(Y) op(X), so cuBLASLt's "rows of D" are sea's output features
 * and the bias (length N) is broadcast along D's columns, as the epilogue specifies. C has
 * D's layout. */
#include "cuda_internal.h"

sea_status sea_cuda_gemm_lt(sea_cuda_stream *cs, const sea_cuda_gemm *g, const void *bias, sea_dtype bias_dt,
                            const void *residual, const char *op, bool *used)
{
    *used = false;
    if (!cs->lt || (!bias && !residual) || g->batch != 1 || g->beta != 0.0f || g->K == 0 || g->ldx || g->ldy ||
        g->ldc || g->xt != g->yt ||
        g->ct != g->xt || (bias && bias_dt != g->ct) || g->M > INT32_MAX || g->N > INT32_MAX || g->K > INT32_MAX)
        return SEA_OK;
    /* 16-byte aligned operands, bias and residual, as cuBLASLt's kernels prefer; a view at an
     * odd offset takes the other path rather than risk a refusal that is not NOT_SUPPORTED. */
    if (((uintptr_t)g->x | (uintptr_t)g->y | (uintptr_t)g->c | (uintptr_t)bias | (uintptr_t)residual) & 15)
        return SEA_OK;
    const float beta = residual ? 1.0f : 0.0f;
    const void *c_in = residual ? residual : g->c;
    const uint64_t m = (uint64_t)g->N, n = (uint64_t)g->M, k = (uint64_t)g->K;
    const cublasOperation_t opy = g->ty ? CUBLAS_OP_T : CUBLAS_OP_N, opx = g->tx ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cudaDataType_t t = sea_cuda_blas_type(g->xt);
    cublasComputeType_t ct = CUBLAS_COMPUTE_32F;
    if (g->xt == SEA_F32 && cs->tf32) ct = CUBLAS_COMPUTE_32F_FAST_TF32;
    cublasLtMatmulDesc_t desc = NULL;
    cublasLtMatrixLayout_t ly = NULL, lx = NULL, ld = NULL;
    const cublasLtEpilogue_t epi = bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    cublasStatus_t s = cublasLtMatmulDescCreate(&desc, ct, CUDA_R_32F);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &opy, sizeof opy);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &opx, sizeof opx);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi);
    if (s == CUBLAS_STATUS_SUCCESS && bias)
        s = cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias);
    /* Stored shapes (column-major): Y is (m, k) or (k, m) transposed; X (k, n) or (n, k). */
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutCreate(&ly, t, g->ty ? k : m, g->ty ? m : k, (int64_t)(g->ty ? k : m));
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutCreate(&lx, t, g->tx ? n : k, g->tx ? k : n, (int64_t)(g->tx ? n : k));
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&ld, t, m, n, (int64_t)m);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmul(cs->lt, desc, &g->alpha, g->y, ly, g->x, lx, &beta, c_in, ld, g->c, ld, NULL, cs->blas_ws,
                           cs->blas_ws_size, cs->stream);
    if (ld) cublasLtMatrixLayoutDestroy(ld);
    if (lx) cublasLtMatrixLayoutDestroy(lx);
    if (ly) cublasLtMatrixLayoutDestroy(ly);
    if (desc) cublasLtMatmulDescDestroy(desc);
    if (s == CUBLAS_STATUS_NOT_SUPPORTED) return SEA_OK; /* the two-kernel path does it */
    if (s != CUBLAS_STATUS_SUCCESS) return sea_cuda_blas_check(s, cs, op);
    *used = true;
    return SEA_OK;
}
