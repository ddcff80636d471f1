/* AVX2+FMA code of the GEMM: the micro-kernel, the transposing packers and the few-rows
 * dot-product kernel.
 *
 * Micro-kernel: a 6x16 tile of C held in 12 ymm registers. Per k step: two aligned loads
 * of the B panel row, six broadcasts of A, twelve FMAs. Loads (8) stay under the FMA count
 * (12), so the two FMA pipes are the bottleneck, which is the point (~90 GFLOP/s per core
 * on L1-resident panels here, against a 93-98 register-only ceiling).
 * Compiled with target attributes, not -mavx2, so the rest of the library runs on any
 * x86-64; gemm.c calls these only when __builtin_cpu_supports says so. */
#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <math.h>

#include "gemm_kernel.h"

#define SEA_ROW_FMA(i)                                           \
    do {                                                         \
        __m256 ai = _mm256_broadcast_ss(a + (i));                \
        c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);              \
        c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);              \
    } while (0)

#define SEA_ROW_STORE(i)                                                              \
    do {                                                                              \
        float *ci = c + (i) * ldc;                                                    \
        if (read_c) {                                                                 \
            c##i##0 = _mm256_fmadd_ps(va, c##i##0, _mm256_mul_ps(vb, _mm256_loadu_ps(ci))); \
            c##i##1 = _mm256_fmadd_ps(va, c##i##1, _mm256_mul_ps(vb, _mm256_loadu_ps(ci + 8))); \
        } else {                                                                      \
            c##i##0 = _mm256_mul_ps(va, c##i##0);                                     \
            c##i##1 = _mm256_mul_ps(va, c##i##1);                                     \
        }                                                                             \
        _mm256_storeu_ps(ci, c##i##0);                                                \
        _mm256_storeu_ps(ci + 8, c##i##1);                                            \
    } while (0)

#define SEA_ROW_SPILL(i)                                  \
    do {                                                  \
        _mm256_store_ps(t + (i) * 16, c##i##0);           \
        _mm256_store_ps(t + (i) * 16 + 8, c##i##1);       \
    } while (0)

__attribute__((target("avx2,fma")))
void sea_gemm_ukernel_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                           int mr, int nr, float alpha, float beta, bool read_c)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

    /* The C tile is touched only after the loop: start bringing it in now. */
    for (int i = 0; i < mr; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);

#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(b);
        __m256 b1 = _mm256_load_ps(b + 8);
        SEA_ROW_FMA(0);
        SEA_ROW_FMA(1);
        SEA_ROW_FMA(2);
        SEA_ROW_FMA(3);
        SEA_ROW_FMA(4);
        SEA_ROW_FMA(5);
        a += SEA_GEMM_MR;
        b += SEA_GEMM_NR;
    }

    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (mr == SEA_GEMM_MR && nr == SEA_GEMM_NR) {
        SEA_ROW_STORE(0);
        SEA_ROW_STORE(1);
        SEA_ROW_STORE(2);
        SEA_ROW_STORE(3);
        SEA_ROW_STORE(4);
        SEA_ROW_STORE(5);
        return;
    }
    /* Partial tile at the bottom/right edge: same arithmetic, element by element. */
    _Alignas(32) float t[SEA_GEMM_MR * SEA_GEMM_NR];
    SEA_ROW_SPILL(0);
    SEA_ROW_SPILL(1);
    SEA_ROW_SPILL(2);
    SEA_ROW_SPILL(3);
    SEA_ROW_SPILL(4);
    SEA_ROW_SPILL(5);
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        const float *ti = t + i * SEA_GEMM_NR;
        if (read_c)
            for (int j = 0; j < nr; j++) ci[j] = __builtin_fmaf(alpha, ti[j], beta * ci[j]);
        else
            for (int j = 0; j < nr; j++) ci[j] = alpha * ti[j];
    }
}

/* ---- packing: 8x8 transposes ---------------------------------------------------------- */

/* In: r[i] = row i (8 floats). Out: r[j] = column j = (row0[j], ..., row7[j]). */
#define SEA_TRANSPOSE8(r)                                                                   \
    do {                                                                                    \
        __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);    \
        __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);    \
        __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);    \
        __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);    \
        __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));                    \
        __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));                    \
        __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));                    \
        __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));                    \
        __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));                    \
        __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));                    \
        __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));                    \
        __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));                    \
        r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);                                       \
        r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);                                       \
        r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);                                       \
        r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);                                       \
        r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);                                       \
        r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);                                       \
        r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);                                       \
        r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);                                       \
    } while (0)

__attribute__((target("avx2,fma")))
void sea_gemm_pack_a_avx2(const float *src, int64_t lda, int64_t K, float *dst)
{
    int64_t k = 0;
    /* Each column of 6 is stored 8 wide; the 2 extra lanes land on the next k's slots and
     * are overwritten by it. So the vector loop stops while another k follows (k + 8 < K)
     * and never writes past the panel. */
    for (; k + 8 < K; k += 8) {
        __m256 r[8];
        for (int i = 0; i < SEA_GEMM_MR; i++) r[i] = _mm256_loadu_ps(src + i * lda + k);
        r[6] = r[7] = _mm256_setzero_ps();
        SEA_TRANSPOSE8(r);
        for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + (k + j) * SEA_GEMM_MR, r[j]);
    }
    for (; k < K; k++)
        for (int i = 0; i < SEA_GEMM_MR; i++) dst[k * SEA_GEMM_MR + i] = src[i * lda + k];
}

__attribute__((target("avx2,fma")))
void sea_gemm_pack_bt_avx2(const float *src, int64_t ldb, int64_t K, float *dst)
{
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        for (int h = 0; h < 2; h++) {   /* columns 0-7, then 8-15 */
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (h * 8 + i) * ldb + k);
            SEA_TRANSPOSE8(r);
            for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + (k + j) * SEA_GEMM_NR + h * 8, r[j]);
        }
    }
    for (; k < K; k++)
        for (int c = 0; c < SEA_GEMM_NR; c++) dst[k * SEA_GEMM_NR + c] = src[c * ldb + k];
}

/* ---- few rows: dot products against rows of B (no packing) ---------------------------- */

__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v)
{
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

/* Decode streams W from memory once and the hardware prefetcher alone leaves the loop
 * waiting on it (8 rows x 50k x 512: 18 ms -> 12 ms single-threaded with this, 2026-11-28
 * on the dev VM's EPYC): prefetch the rows two 3-column blocks ahead (the next block is
 * usually the next row group re-reading this block's rows from L1). */
#define SEA_DOT_PREFETCH_ROWS 6

/* An (M_, NB_) block of dot products over K: 8 lanes per FMA, the K % 8 tail masked, then
 * one horizontal sum per element. M_ <= 4, NB_ <= 3: at most 12 accumulators + 3 B rows. */
#define SEA_DOT_BLOCK(M_, NB_)                                                              \
    do {                                                                                    \
        __m256 acc[4][3];                                                                   \
        _Pragma("GCC unroll 4") for (int i = 0; i < (M_); i++)                                                      \
            _Pragma("GCC unroll 3") for (int j = 0; j < (NB_); j++) acc[i][j] = _mm256_setzero_ps();                \
        int64_t k = 0;                                                                      \
        for (; k + 8 <= K; k += 8) {                                                        \
            __m256 bv[3];                                                                   \
            _Pragma("GCC unroll 3") for (int j = 0; j < (NB_); j++) {                       \
                _mm_prefetch((const char *)(b + (j + SEA_DOT_PREFETCH_ROWS) * ldb + k), _MM_HINT_T0); \
                bv[j] = _mm256_loadu_ps(b + j * ldb + k);                                   \
            }                                                                               \
            _Pragma("GCC unroll 4") for (int i = 0; i < (M_); i++) {                                                \
                __m256 av = _mm256_loadu_ps(a + i * lda + k);                               \
                _Pragma("GCC unroll 3") for (int j = 0; j < (NB_); j++) acc[i][j] = _mm256_fmadd_ps(av, bv[j], acc[i][j]); \
            }                                                                               \
        }                                                                                   \
        if (k < K) {                                                                        \
            __m256 bv[3];                                                                   \
            _Pragma("GCC unroll 3") for (int j = 0; j < (NB_); j++) bv[j] = _mm256_maskload_ps(b + j * ldb + k, tail); \
            _Pragma("GCC unroll 4") for (int i = 0; i < (M_); i++) {                                                \
                __m256 av = _mm256_maskload_ps(a + i * lda + k, tail);                      \
                _Pragma("GCC unroll 3") for (int j = 0; j < (NB_); j++) acc[i][j] = _mm256_fmadd_ps(av, bv[j], acc[i][j]); \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 4") for (int i = 0; i < (M_); i++)                                                      \
            _Pragma("GCC unroll 3") for (int j = 0; j < (NB_); j++) {                                               \
                float d = hsum256(acc[i][j]);                                               \
                float *cij = c + i * ldc + j;                                               \
                *cij = read_c ? __builtin_fmaf(alpha, d, beta * *cij) : alpha * d;          \
            }                                                                               \
    } while (0)

#define SEA_DOT_COLS(M_)                                               \
    do {                                                               \
        int64_t j = 0;                                                 \
        for (; j + 3 <= n; j += 3, b += 3 * ldb, c += 3) SEA_DOT_BLOCK(M_, 3); \
        for (; j < n; j++, b += ldb, c += 1) SEA_DOT_BLOCK(M_, 1);     \
    } while (0)

__attribute__((target("avx2,fma")))
void sea_gemm_dot_avx2(int m, int64_t n, int64_t K, const float *a, int64_t lda, const float *b,
                       int64_t ldb, float *c, int64_t ldc, float alpha, float beta, bool read_c)
{
    const int64_t r = K % 8;
    const __m256i tail = _mm256_setr_epi32(r > 0 ? -1 : 0, r > 1 ? -1 : 0, r > 2 ? -1 : 0,
                                           r > 3 ? -1 : 0, r > 4 ? -1 : 0, r > 5 ? -1 : 0,
                                           r > 6 ? -1 : 0, 0);
    /* Constant row counts, so each case keeps its accumulators in registers. */
    switch (m) {
    case 1: SEA_DOT_COLS(1); break;
    case 2: SEA_DOT_COLS(2); break;
    case 3: SEA_DOT_COLS(3); break;
    default: SEA_DOT_COLS(4); break;
    }
}

#endif
