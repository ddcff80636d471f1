/* GEMM entry used by the CPU kernels (matmul, ensemble MLP): sea_cpu_sgemm from gemm.h
 * when it is built, with K == 0 handled; plus a deterministic column-sum helper. */
#ifndef SEA_CPU_MATMUL_H
#define SEA_CPU_MATMUL_H

#include <stdbool.h>
#include <stdint.h>

/* Row-major C = alpha op(A) op(B) + beta C, as gemm.h's sea_cpu_sgemm. */
void sea_cpu_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                  const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
void sea_cpu_sgemm_fallback(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                            const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* out (N) += column sums of g (rows, N), rows in order. */
void sea_cpu_colsum_add(const float *g, int64_t rows, int64_t N, float *out);

#endif
