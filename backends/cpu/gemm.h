/* Single-precision GEMM on the CPU: our own packed, cache-blocked kernel (BLIS/GotoBLAS
 * style) and, when built with it, OpenBLAS.
 *
 * Row-major throughout: op(A) is (M, K), op(B) is (K, N), C is (M, N), with
 *   A: trans_a ? (K, M) with row stride lda : (M, K) with row stride lda
 *   B: trans_b ? (N, K) with row stride ldb : (K, N) with row stride ldb
 * and C = alpha * op(A) * op(B) + beta * C. beta == 0 never reads C (it may hold NaN).
 *
 * Determinism: our kernel partitions work between threads over rows and columns of C only,
 * never over K, and each C element sums its K terms in the same order (KC blocks in order,
 * k ascending within a block) whatever the thread count: the same inputs give the same bits
 * for any number of threads. OpenBLAS gives no such promise. The order does depend on the
 * shape: with trans_b and M <= 8 (decode) the product runs as unpacked dot products (8
 * interleaved partial sums), so a row's bits can differ from the same row in a larger M.
 *
 * Choice of implementation for sea_cpu_sgemm: environment variable SEA_CPU_GEMM =
 * own | openblas (read once, default own). SEA_CPU_GEMM=own-generic forces the portable
 * micro-kernel (for tests and comparisons). */
#ifndef SEA_CPU_GEMM_H
#define SEA_CPU_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sea_config.h"
#include "status.h"
#include "threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sea_cpu_gemm_impl {
    SEA_CPU_GEMM_DEFAULT = 0,   /* SEA_CPU_GEMM from the environment, else own */
    SEA_CPU_GEMM_OWN,           /* own kernel, best micro-kernel the CPU supports */
    SEA_CPU_GEMM_OWN_GENERIC,   /* own kernel, portable micro-kernel */
    SEA_CPU_GEMM_OPENBLAS,      /* cblas_sgemm (SEA_ERR_UNSUPPORTED when not built with it) */
} sea_cpu_gemm_impl;

typedef struct sea_cpu_gemm_opts {
    sea_cpu_gemm_impl impl;
    sea_threadpool *pool;   /* NULL = sea_threadpool_global(); ignored by OpenBLAS */
    int64_t pack_max_bytes; /* 0 = default (16 MiB); tests set it small to cross block edges */
} sea_cpu_gemm_opts;

/* C = alpha * op(A) * op(B) + beta * C with the implementation chosen by SEA_CPU_GEMM.
 * Callers validate shapes; arguments that make no sense (negative sizes, leading
 * dimensions too small) leave C untouched and set sea_last_error(). */
void sea_cpu_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc);

/* Same, with an explicit implementation and pool (opts NULL = defaults). Returns
 * SEA_ERR_INVALID for bad sizes, leading dimensions or NULL matrices, SEA_ERR_UNSUPPORTED
 * for OpenBLAS when the build lacks it (or sizes past its 32-bit ints), SEA_ERR_OOM when
 * the packing buffers cannot be allocated. SEA_CPU_GEMM_OWN on a CPU without AVX2+FMA runs
 * the portable micro-kernel. */
sea_status sea_cpu_sgemm_ex(const sea_cpu_gemm_opts *opts, bool trans_a, bool trans_b,
                            int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                            int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                            int64_t ldc);

#if SEA_HAVE_OPENBLAS
/* cblas_sgemm with the same arguments (OpenBLAS's own threads; not bit-deterministic
 * across thread counts). */
void sea_cpu_sgemm_openblas(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                            float alpha, const float *A, int64_t lda, const float *B, int64_t ldb,
                            float beta, float *C, int64_t ldc);
#endif

/* What `impl` runs on this CPU: "own-avx2", "own-generic" or "openblas";
 * SEA_CPU_GEMM_DEFAULT gives what sea_cpu_sgemm runs. */
const char *sea_cpu_gemm_impl_name(sea_cpu_gemm_impl impl);

/* Whether OpenBLAS was built in (SEA_HAVE_OPENBLAS). */
bool sea_cpu_gemm_have_openblas(void);
/* "OpenBLAS 0.3.21 ... core Haswell, 2 threads" into buf (or "not built"); returns buf. */
const char *sea_cpu_gemm_openblas_info(char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
