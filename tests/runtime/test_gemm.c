/* sea_cpu_sgemm against a float64 reference.
 *
 * Every implementation this build and CPU have (own AVX2, own portable, OpenBLAS) on fresh
 * random inputs: all four transpose combinations, odd sizes, sizes that cross the
 * MR/NR/KC/MC and packing-block edges, leading dimensions larger than the rows (with
 * guard values in the gaps that must survive), beta 0 on a NaN-poisoned C (must not be
 * read), beta 1 and other alpha/beta. Error: ||C - ref||_F / ||ref||_F < 1e-5, and no
 * element beyond its own float32 rounding bound (K * 2^-22 * sum_k |alpha a b| + |beta c|).
 * Also: same bits for 1, 2 and 3 threads; bad arguments rejected without touching C. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/gemm.h"
#include "backends/cpu/gemm_kernel.h"
#include "status.h"
#include "threadpool.h"

static int failures;

#include "tests/test_check.h"

/* xorshift64*: reproducible inputs without libc rand's global state. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static float frand(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * 0x2545f4914f6cdd1dull;
    return (float)((double)(r >> 11) / 9007199254740992.0 * 2.0 - 1.0); /* [-1, 1) */
}

static const float GUARD = 12345.678f;

typedef struct gemm_case {
    bool ta, tb;
    int64_t M, N, K;
    int64_t pad_a, pad_b, pad_c; /* extra elements per row beyond the minimum */
    float alpha, beta;
    int64_t pack_max_bytes;
} gemm_case;

/* Stored (not transposed) shapes: A is (ta ? K : M) rows of (ta ? M : K), similarly B. */
static int64_t a_rows(const gemm_case *c) { return c->ta ? c->K : c->M; }
static int64_t a_cols(const gemm_case *c) { return c->ta ? c->M : c->K; }
static int64_t b_rows(const gemm_case *c) { return c->tb ? c->N : c->K; }
static int64_t b_cols(const gemm_case *c) { return c->tb ? c->K : c->N; }

static void describe(const gemm_case *c, const char *impl, char *buf, size_t n)
{
    snprintf(buf, n, "%s ta=%d tb=%d M=%lld N=%lld K=%lld pads=(%lld,%lld,%lld) alpha=%g beta=%g pack_max=%lld",
             impl, c->ta, c->tb, (long long)c->M, (long long)c->N, (long long)c->K,
             (long long)c->pad_a, (long long)c->pad_b, (long long)c->pad_c, c->alpha, c->beta,
             (long long)c->pack_max_bytes);
}

/* Run one case with one implementation; returns false on failure (and reports it). */
static bool run_case(const gemm_case *c, sea_cpu_gemm_impl impl, sea_threadpool *pool)
{
    char what[256];
    describe(c, sea_cpu_gemm_impl_name(impl), what, sizeof what);
    int64_t lda = a_cols(c) + c->pad_a, ldb = b_cols(c) + c->pad_b, ldc = c->N + c->pad_c;
    size_t na = (size_t)(a_rows(c) * lda), nb = (size_t)(b_rows(c) * ldb), nc = (size_t)(c->M * ldc);
    float *A = malloc((na ? na : 1) * sizeof *A);    /* (a_rows, lda) */
    float *B = malloc((nb ? nb : 1) * sizeof *B);    /* (b_rows, ldb) */
    float *C = malloc((nc ? nc : 1) * sizeof *C);    /* (M, ldc) */
    float *C0 = malloc((nc ? nc : 1) * sizeof *C0);  /* C before the call */
    if (!A || !B || !C || !C0) {
        fprintf(stderr, "out of memory for %s\n", what);
        exit(1);
    }
    /* Gaps between rows hold GUARD: the kernel must neither use nor change them. */
    for (int64_t i = 0; i < a_rows(c); i++)
        for (int64_t j = 0; j < lda; j++) A[i * lda + j] = j < a_cols(c) ? frand() : GUARD;
    for (int64_t i = 0; i < b_rows(c); i++)
        for (int64_t j = 0; j < ldb; j++) B[i * ldb + j] = j < b_cols(c) ? frand() : GUARD;
    for (int64_t i = 0; i < c->M; i++)
        for (int64_t j = 0; j < ldc; j++)
            C0[i * ldc + j] = j >= c->N ? GUARD : c->beta == 0.0f ? NAN : frand();
    memcpy(C, C0, nc * sizeof *C);

    sea_cpu_gemm_opts opts = {.impl = impl, .pool = pool, .pack_max_bytes = c->pack_max_bytes};
    sea_status st = sea_cpu_sgemm_ex(&opts, c->ta, c->tb, c->M, c->N, c->K, c->alpha, A, lda, B,
                                     ldb, c->beta, C, ldc);
    bool ok = true;
    if (st) {
        CHECK(0, "%s: status %s: %s", what, sea_status_name(st), sea_last_error());
        ok = false;
        goto done;
    }
    double err2 = 0, ref2 = 0, worst = 0;
    int64_t bad_i = -1, bad_j = -1;
    for (int64_t i = 0; i < c->M && ok; i++) {
        for (int64_t j = 0; j < ldc; j++) {
            float got = C[i * ldc + j];
            if (j >= c->N) {
                if (memcmp(&got, &GUARD, sizeof got)) {
                    CHECK(0, "%s: C gap (%lld, %lld) changed to %g", what, (long long)i, (long long)j, got);
                    ok = false;
                    break;
                }
                continue;
            }
            double sum = 0, mag = 0;
            for (int64_t k = 0; k < c->K; k++) {
                double a = c->ta ? A[k * lda + i] : A[i * lda + k];
                double b = c->tb ? B[j * ldb + k] : B[k * ldb + j];
                sum += a * b;
                mag += fabs(a * b);
            }
            double ref = (double)c->alpha * sum;
            mag = fabs((double)c->alpha) * mag;
            if (c->beta != 0.0f) {
                ref += (double)c->beta * C0[i * ldc + j];
                mag += fabs((double)c->beta * C0[i * ldc + j]);
            }
            if (!isfinite(got)) {
                CHECK(0, "%s: C(%lld, %lld) = %g is not finite (ref %g)", what, (long long)i,
                      (long long)j, got, ref);
                ok = false;
                break;
            }
            double e = fabs(got - ref);
            double bound = (double)(c->K + 2) * ldexp(1.0, -22) * mag + 1e-30;
            if (e / bound > worst) {
                worst = e / bound;
                bad_i = i;
                bad_j = j;
            }
            err2 += e * e;
            ref2 += ref * ref;
        }
    }
    if (ok && worst > 1.0) {
        CHECK(0, "%s: C(%lld, %lld) off by %.3g times its float32 rounding bound", what,
              (long long)bad_i, (long long)bad_j, worst);
        ok = false;
    }
    double rel = ref2 > 0 ? sqrt(err2 / ref2) : sqrt(err2);
    if (ok && !(rel < 1e-5)) {
        CHECK(0, "%s: relative error %.3g >= 1e-5", what, rel);
        ok = false;
    }
done:
    free(A);
    free(B);
    free(C);
    free(C0);
    return ok;
}

static int n_impls;
static sea_cpu_gemm_impl impls[3];

static void collect_impls(void)
{
    impls[n_impls++] = SEA_CPU_GEMM_OWN;
    if (strcmp(sea_cpu_gemm_impl_name(SEA_CPU_GEMM_OWN), "own-generic") != 0)
        impls[n_impls++] = SEA_CPU_GEMM_OWN_GENERIC;
    if (sea_cpu_gemm_have_openblas()) impls[n_impls++] = SEA_CPU_GEMM_OPENBLAS;
}

static void test_small_sizes(void)
{
    static const int64_t sizes[] = {1, 3, 17, 33, 100};
    int n = (int)(sizeof sizes / sizeof sizes[0]);
    int cases = 0;
    for (int t = 0; t < 4; t++)
        for (int im = 0; im < n; im++)
            for (int in = 0; in < n; in++)
                for (int ik = 0; ik < n; ik++) {
                    gemm_case c = {.ta = t & 1, .tb = t >> 1, .M = sizes[im], .N = sizes[in],
                                   .K = sizes[ik], .alpha = 1.0f, .beta = 0.0f};
                    /* Vary strides and beta over the sweep without multiplying its size. */
                    int v = im + in + ik + t;
                    c.pad_a = v % 3 == 0 ? 0 : 5;
                    c.pad_b = v % 2 == 0 ? 0 : 3;
                    c.pad_c = v % 4 == 1 ? 7 : 0;
                    if (v % 3 == 1) c.beta = 1.0f;
                    if (v % 5 == 2) {
                        c.alpha = -0.75f;
                        c.beta = 0.5f;
                    }
                    for (int i = 0; i < n_impls; i++) run_case(&c, impls[i], NULL);
                    cases++;
                }
    printf("small sizes: %d cases x %d implementations\n", cases, n_impls);
}

static void test_block_edges(void)
{
    /* MC = 144 rows, KC = 256, NR = 16, MR = 6; a small pack cap forces several column
     * and row blocks (and the repacking paths) at sizes a float64 reference can afford. */
    const gemm_case cases[] = {
        {false, false, 150, 70, 300, 0, 0, 0, 1.0f, 0.0f, 0},
        {true, false, 145, 33, 257, 2, 0, 1, 1.0f, 1.0f, 0},
        {false, true, 289, 47, 513, 0, 9, 0, 2.0f, -1.0f, 0},
        {true, true, 97, 130, 255, 1, 1, 1, 1.0f, 0.0f, 0},
        {false, false, 300, 200, 100, 0, 0, 3, 1.0f, 0.0f, 16 << 10},
        {false, true, 301, 161, 77, 4, 0, 0, 1.0f, 1.0f, 8 << 10},
        {true, false, 7, 500, 40, 0, 2, 0, 1.0f, 0.0f, 4 << 10},
        {true, true, 290, 5, 600, 0, 0, 0, 0.5f, 2.0f, 32 << 10},
        {false, false, 160, 40, 50, 0, 0, 0, 1.0f, 0.0f, 4 << 10}, /* 16 spare rows join the block */
        /* few rows against a (N, K) weight: the unpacked dot-product path, K tails 0..7 */
        {false, true, 5, 1000, 77, 0, 3, 2, 1.0f, 0.0f, 0},
        {false, true, 8, 301, 64, 1, 0, 0, 1.0f, 1.0f, 0},
        {true, true, 7, 257, 131, 2, 1, 0, -2.0f, 0.5f, 0},
        {false, true, 6, 2, 3, 0, 0, 0, 1.0f, 0.0f, 0},
        {true, true, 4, 4000, 9, 0, 0, 5, 1.0f, 0.0f, 0},
        {false, true, 9, 100, 513, 0, 0, 0, 1.0f, 0.0f, 0},
        {false, true, 8, 3000, 70, 0, 0, 0, 1.0f, 0.0f, 0}, /* > 1 MFLOP: split over threads */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int j = 0; j < n_impls; j++) run_case(&cases[i], impls[j], NULL);
    printf("block edges: %zu cases\n", sizeof cases / sizeof cases[0]);
}

static void test_degenerate(void)
{
    /* K = 0: C = beta*C; alpha = 0: same, and with beta = 0 the NaN poison must go. */
    const gemm_case cases[] = {
        {false, false, 5, 7, 0, 0, 0, 0, 1.0f, 0.0f, 0},
        {false, false, 5, 7, 0, 0, 0, 2, 1.0f, 0.5f, 0},
        {true, true, 9, 4, 11, 0, 0, 0, 0.0f, 0.0f, 0},
        {false, true, 9, 4, 11, 0, 0, 0, 0.0f, 3.0f, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int j = 0; j < n_impls; j++) run_case(&cases[i], impls[j], NULL);
}

/* The same bits for any thread count: work is split over C, never over K. M = 203 takes
 * the packed path, M = 7 the dot-product path. */
static void test_thread_determinism(int64_t M)
{
    const int64_t N = 211 * (M < 10 ? 20 : 1), K = 301;
    float *A = malloc((size_t)(M * K) * sizeof *A); /* (M, K) */
    float *B = malloc((size_t)(N * K) * sizeof *B); /* (N, K): trans_b */
    float *C[3];                                    /* (M, N) per thread count */
    for (int64_t i = 0; i < M * K; i++) A[i] = frand();
    for (int64_t i = 0; i < N * K; i++) B[i] = frand();
    for (int t = 0; t < 3; t++) {
        sea_threadpool *pool = NULL;
        sea_status st = sea_threadpool_create(t + 1, &pool);
        CHECK(st == SEA_OK, "threadpool_create(%d): %s", t + 1, sea_last_error());
        C[t] = malloc((size_t)(M * N) * sizeof *C[t]);
        for (int64_t i = 0; i < M * N; i++) C[t][i] = 0.25f;
        sea_cpu_gemm_opts opts = {.impl = SEA_CPU_GEMM_OWN, .pool = pool};
        st = sea_cpu_sgemm_ex(&opts, false, true, M, N, K, 1.0f, A, K, B, K, 1.0f, C[t], N);
        CHECK(st == SEA_OK, "sgemm with %d threads: %s", t + 1, sea_last_error());
        sea_threadpool_free(pool);
    }
    CHECK(!memcmp(C[0], C[1], (size_t)(M * N) * sizeof(float)), "M=%lld: 1 and 2 threads differ", (long long)M);
    CHECK(!memcmp(C[0], C[2], (size_t)(M * N) * sizeof(float)), "M=%lld: 1 and 3 threads differ", (long long)M);
    /* and the result is right, not merely repeatable */
    double err2 = 0, ref2 = 0;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0.25;
            for (int64_t k = 0; k < K; k++) s += (double)A[i * K + k] * B[j * K + k];
            err2 += (C[0][i * N + j] - s) * (C[0][i * N + j] - s);
            ref2 += s * s;
        }
    CHECK(sqrt(err2 / ref2) < 1e-5, "threaded result off: relative error %g", sqrt(err2 / ref2));
    for (int t = 0; t < 3; t++) free(C[t]);
    free(A);
    free(B);
}

static void test_bad_arguments(void)
{
    float A[12], B[12], C[12];
    for (int i = 0; i < 12; i++) A[i] = B[i] = C[i] = (float)i;
    sea_status st = sea_cpu_sgemm_ex(NULL, false, false, -1, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    CHECK(st == SEA_ERR_INVALID, "negative M accepted (%s)", sea_status_name(st));
    CHECK(strstr(sea_last_error(), "M=-1") != NULL, "message does not name M: '%s'", sea_last_error());
    /* lda 2 < K 3 for a plain A */
    st = sea_cpu_sgemm_ex(NULL, false, false, 2, 2, 3, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    CHECK(st == SEA_ERR_INVALID, "lda < K accepted (%s)", sea_status_name(st));
    CHECK(strstr(sea_last_error(), "lda=2") != NULL, "message does not name lda: '%s'", sea_last_error());
    /* ldc 1 < N 2 */
    st = sea_cpu_sgemm_ex(NULL, true, true, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 1);
    CHECK(st == SEA_ERR_INVALID, "ldc < N accepted (%s)", sea_status_name(st));
    for (int i = 0; i < 12; i++) CHECK(C[i] == (float)i, "C[%d] changed by a rejected call", i);
    /* the void entry point: same checks, C untouched */
    sea_cpu_sgemm(false, false, 2, 2, 3, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    for (int i = 0; i < 12; i++) CHECK(C[i] == (float)i, "C[%d] changed by sea_cpu_sgemm with bad lda", i);
}

/* The vectorized packers transpose 8x8 blocks and store 8 wide; they must produce the
 * panel layout exactly and never write past it (the next panel may be packed by another
 * thread, before or after). Every K from 1 to 40 hits each tail length several times. */
static void test_packers(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return;
    enum { LD = 70, KMAX = 64 };
    static float src[16 * LD];                       /* (16, LD) */
    static float dst[KMAX * SEA_GEMM_NR + 16];        /* panel + guard */
    for (int i = 0; i < 16 * LD; i++) src[i] = frand();
    for (int64_t K = 1; K <= KMAX; K++) {
        for (int which = 0; which < 2; which++) {
            int width = which ? SEA_GEMM_NR : SEA_GEMM_MR;
            int64_t n = K * width;
            for (int i = 0; i < KMAX * SEA_GEMM_NR + 16; i++) dst[i] = GUARD;
            if (which) sea_gemm_pack_bt_avx2(src, LD, K, dst);
            else sea_gemm_pack_a_avx2(src, LD, K, dst);
            int bad = 0;
            for (int64_t k = 0; k < K; k++)
                for (int r = 0; r < width; r++)
                    bad += dst[k * width + r] != src[r * LD + k];
            for (int64_t i = n; i < KMAX * SEA_GEMM_NR + 16; i++) bad += memcmp(&dst[i], &GUARD, sizeof GUARD) != 0;
            CHECK(!bad, "%s packer, K=%lld: %d wrong or clobbered elements", which ? "B^T" : "A",
                  (long long)K, bad);
        }
    }
#endif
}

int main(void)
{
    collect_impls();
    printf("implementations:");
    for (int i = 0; i < n_impls; i++) printf(" %s", sea_cpu_gemm_impl_name(impls[i]));
    printf(" (default: %s)\n", sea_cpu_gemm_impl_name(SEA_CPU_GEMM_DEFAULT));
    test_small_sizes();
    test_block_edges();
    test_degenerate();
    test_thread_determinism(203);
    test_thread_determinism(7);
    test_bad_arguments();
    test_packers();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("all gemm checks passed\n");
    return 0;
}
