/* The portable micro-kernel: plain C over a 6x16 accumulator array, written so compilers
 * vectorize it for whatever the baseline instruction set is. Used on CPUs without AVX2+FMA
 * and by tests as an independent second path through the same driver. */
#include <math.h>

#include "gemm_kernel.h"

void sea_gemm_ukernel_generic(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                              int mr, int nr, float alpha, float beta, bool read_c)
{
    float acc[SEA_GEMM_MR][SEA_GEMM_NR] = {{0}};
    for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < SEA_GEMM_MR; i++) {
            float ai = a[i];
            for (int j = 0; j < SEA_GEMM_NR; j++) acc[i][j] += ai * b[j];
        }
        a += SEA_GEMM_MR;
        b += SEA_GEMM_NR;
    }
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        if (read_c)
            for (int j = 0; j < nr; j++) ci[j] = alpha * acc[i][j] + beta * ci[j];
        else
            for (int j = 0; j < nr; j++) ci[j] = alpha * acc[i][j];
    }
}

void sea_gemm_dot_generic(int m, int64_t n, int64_t K, const float *a, int64_t lda, const float *b,
                          int64_t ldb, float *c, int64_t ldc, float alpha, float beta, bool read_c)
{
    for (int i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            /* 8 interleaved partial sums, as the vector kernels, so compilers can vectorize. */
            float part[8] = {0};
            const float *ai = a + i * lda, *bj = b + j * ldb;
            int64_t k = 0;
            for (; k + 8 <= K; k += 8)
                for (int l = 0; l < 8; l++) part[l] += ai[k + l] * bj[k + l];
            for (int l = 0; k + l < K; l++) part[l] += ai[k + l] * bj[k + l];
            float d = ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
            float *cij = c + i * ldc + j;
            *cij = read_c ? alpha * d + beta * *cij : alpha * d;
        }
}
