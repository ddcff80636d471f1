/* Internal to the GEMM files: the register-blocked micro-kernels and their tile shape.
 *
 * The driver (gemm.c) packs op(A) into panels of MR rows, k-major (a[k*MR + r]), and op(B)
 * into panels of NR columns, k-major (b[k*NR + c]), zero-padding partial panels; a
 * micro-kernel multiplies one A panel by one B panel over kc steps, k ascending, and
 * updates the (mr, nr) corner of the C tile. Every kernel shares one packing layout, so
 * the driver does not change with the instruction set. */
#ifndef SEA_CPU_GEMM_KERNEL_H
#define SEA_CPU_GEMM_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "threadpool.h"

/* 6x16: 12 ymm accumulators + 2 for B + 1 broadcast of A fit the 16 AVX2 registers. */
#define SEA_GEMM_MR 6
#define SEA_GEMM_NR 16

/* a: packed (kc, MR); b: packed (kc, NR); c: (mr, nr) with row stride ldc.
 * read_c false: C = alpha*AB (C is not read); true: C = alpha*AB + beta*C, computed as
 * fma(alpha, AB, beta*C) so beta == 1 adds exactly. */
typedef void (*sea_gemm_ukernel_fn)(int64_t kc, const float *a, const float *b, float *c,
                                    int64_t ldc, int mr, int nr, float alpha, float beta,
                                    bool read_c);

void sea_gemm_ukernel_generic(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                              int mr, int nr, float alpha, float beta, bool read_c);
#if defined(__x86_64__) || defined(__i386__)
void sea_gemm_ukernel_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                           int mr, int nr, float alpha, float beta, bool read_c);
#endif

/* Packing of full panels where a plain copy cannot be vectorized: both are transposes.
 * pack_a: dst[k*MR + r] = src[r*lda + k], r < MR, k < K (rows of A -> k-major panel).
 * pack_bt: dst[k*NR + c] = src[c*ldb + k], c < NR, k < K (rows of a (N, K) B -> panel).
 * Neither writes outside dst[0, K*MR) / dst[0, K*NR). */
typedef void (*sea_gemm_pack_fn)(const float *src, int64_t ld, int64_t K, float *dst);
#if defined(__x86_64__) || defined(__i386__)
void sea_gemm_pack_a_avx2(const float *src, int64_t lda, int64_t K, float *dst);
void sea_gemm_pack_bt_avx2(const float *src, int64_t ldb, int64_t K, float *dst);
#endif

/* Few rows times the HF weight layout (decode: x (M, K) . W^T with W (N, K)): dot products
 * of rows, no packing, so W streams from memory once. C[i, j] for i < m (<= SEA_GEMM_DOT_MR),
 * j < n: a (m, K) row stride lda; b (n, K) row stride ldb; c (m, n) row stride ldc.
 * read_c false: C = alpha*dot; true: C = fma(alpha, dot, beta*C). */
#define SEA_GEMM_DOT_MR 4
typedef void (*sea_gemm_dot_fn)(int m, int64_t n, int64_t K, const float *a, int64_t lda,
                                const float *b, int64_t ldb, float *c, int64_t ldc, float alpha,
                                float beta, bool read_c);
void sea_gemm_dot_generic(int m, int64_t n, int64_t K, const float *a, int64_t lda, const float *b,
                          int64_t ldb, float *c, int64_t ldc, float alpha, float beta, bool read_c);
/* The few-rows path (gemm_dot.c): C = alpha*op(A)*B^T + beta*C, B stored (N, K), threads
 * from pool when non-NULL. */
sea_status sea_gemm_dot_run(sea_gemm_dot_fn dot, sea_threadpool *pool, bool trans_a, int64_t M,
                            int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                            const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* The calling thread's packing workspace (gemm.c), grown to nfloats; NULL when out of
 * memory. 64-byte aligned. Valid until the thread's next call. */
float *sea_gemm_workspace(size_t nfloats);

#if defined(__x86_64__) || defined(__i386__)
void sea_gemm_dot_avx2(int m, int64_t n, int64_t K, const float *a, int64_t lda, const float *b,
                       int64_t ldb, float *c, int64_t ldc, float alpha, float beta, bool read_c);
#endif

#endif
