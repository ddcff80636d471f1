/* sea bench, group "gemm": our CPU GEMM against OpenBLAS on the same inputs.
 *
 * FLOPs = 2*M*N*K (one multiply and one add per term; beta = 0). Shapes: squares, and the
 * products of a transformer layer at tiny/pythia-70m-like sizes (256 tokens, d=512, MLP
 * 2048, vocab 4096): forward x W^T (trans_b, HF weight layout), input gradient dY W,
 * weight gradient dY^T X (trans_a), and decode-time products with 1 and 8 rows.
 * OpenBLAS's idle threads spin (sched_yield) for ~0.1 s after each call and would steal
 * the cores from the next measurement, so every own measurement is preceded by a pause. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/cpu/gemm.h"
#include "bench_common.h"

typedef struct gemm_shape {
    int64_t M, N, K;
    bool ta, tb;
    bool quick;   /* part of --quick */
} gemm_shape;

typedef struct gemm_run {
    const gemm_shape *s;
    sea_cpu_gemm_opts opts;
    const float *A, *B;
    float *C;
} gemm_run;

static sea_status gemm_once(void *arg)
{
    gemm_run *r = arg;
    const gemm_shape *s = r->s;
    return sea_cpu_sgemm_ex(&r->opts, s->ta, s->tb, s->M, s->N, s->K, 1.0f, r->A, s->ta ? s->M : s->K,
                            r->B, s->tb ? s->K : s->N, 0.0f, r->C, s->N);
}

static void fill(float *x, size_t n, uint64_t seed)
{
    uint64_t z = seed;
    for (size_t i = 0; i < n; i++) {
        z = z * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(z >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
    }
}

/* OpenBLAS's threads keep spinning ~0.1 s after a call; do not time anything meanwhile. */
static void pause_for_openblas(void) { usleep(150000); }

static sea_status run_gemm(bench_ctx *ctx, const bench_def *def)
{
    const gemm_shape *s = def->arg;
    if (ctx->quick && !s->quick) return SEA_OK;
    if (!ctx->header_printed[0]) {
        bench_print(ctx, "\n%-22s %-3s %6s %6s %6s %10s %10s %7s %9s\n", "gemm (GFLOP/s, median)", "op",
                    "M", "N", "K", "own", "openblas", "ratio", "max diff");
        ctx->header_printed[0] = true;
    }
    size_t na = (size_t)(s->M * s->K), nb = (size_t)(s->K * s->N), nc = (size_t)(s->M * s->N);
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
    float *C1 = malloc(nc * sizeof *C1), *C2 = malloc(nc * sizeof *C2);
    if (!A || !B || !C1 || !C2) {
        free(A), free(B), free(C1), free(C2);
        return sea_error(SEA_ERR_OOM, "bench gemm %s: host memory for M=%lld N=%lld K=%lld", def->name,
                         (long long)s->M, (long long)s->N, (long long)s->K);
    }
    fill(A, na, 1);
    fill(B, nb, 2);
    double flops = 2.0 * (double)s->M * (double)s->N * (double)s->K;

    gemm_run own = {s, {.impl = SEA_CPU_GEMM_OWN}, A, B, C1};
    gemm_run blas = {s, {.impl = SEA_CPU_GEMM_OPENBLAS}, A, B, C2};
    bool have_blas = sea_cpu_gemm_have_openblas();
    /* Interleaved rounds: a shared machine's load changes hit both alike. */
    static bench_series series[2];
    series[0] = (bench_series){.fn = gemm_once, .arg = &own};
    series[1] = (bench_series){.fn = gemm_once, .arg = &blas};
    sea_status st = bench_time_rounds(ctx, ctx->quick ? 1 : 3, series, have_blas ? 2 : 1, pause_for_openblas);
    bench_timing t_own = series[0].t, t_blas = series[1].t;
    double maxdiff = 0;
    if (!st && have_blas) {
        /* A sanity check that both computed the same product (relative to the largest |C|). */
        double cmax = 0;
        for (size_t i = 0; i < nc; i++) {
            double d = fabs((double)C1[i] - C2[i]);
            if (d > maxdiff) maxdiff = d;
            if (fabs(C2[i]) > cmax) cmax = fabs(C2[i]);
        }
        maxdiff = cmax > 0 ? maxdiff / cmax : maxdiff;
    }
    free(A), free(B), free(C1), free(C2);
    if (st) return st;
    /* Both sum K products in float32; 1e-4 of max|C| leaves room for any summation order. */
    if (have_blas && !(maxdiff < 1e-4))
        return sea_error(SEA_ERR_NUMERIC, "bench gemm %s: own and OpenBLAS differ by %.3g of max|C| "
                         "(M=%lld N=%lld K=%lld)", def->name, maxdiff, (long long)s->M,
                         (long long)s->N, (long long)s->K);

    char op[4];
    snprintf(op, sizeof op, "%c%c", s->ta ? 'T' : 'N', s->tb ? 'T' : 'N');
    double g_own = flops / t_own.median_s * 1e-9;
    double g_blas = have_blas ? flops / t_blas.median_s * 1e-9 : 0;
    cJSON *row = bench_row(ctx, def->group, def->name);
    cJSON_AddNumberToObject(row, "M", (double)s->M);
    cJSON_AddNumberToObject(row, "N", (double)s->N);
    cJSON_AddNumberToObject(row, "K", (double)s->K);
    cJSON_AddBoolToObject(row, "trans_a", s->ta);
    cJSON_AddBoolToObject(row, "trans_b", s->tb);
    cJSON_AddNumberToObject(row, "flops", flops);
    cJSON_AddStringToObject(row, "own_impl", sea_cpu_gemm_impl_name(SEA_CPU_GEMM_OWN));
    cJSON_AddNumberToObject(row, "own_gflops", g_own);
    cJSON_AddNumberToObject(row, "own_median_ms", t_own.median_s * 1e3);
    cJSON_AddNumberToObject(row, "own_min_ms", t_own.min_s * 1e3);
    cJSON_AddNumberToObject(row, "own_reps", t_own.reps);
    if (have_blas) {
        cJSON_AddNumberToObject(row, "openblas_gflops", g_blas);
        cJSON_AddNumberToObject(row, "openblas_median_ms", t_blas.median_s * 1e3);
        cJSON_AddNumberToObject(row, "openblas_min_ms", t_blas.min_s * 1e3);
        cJSON_AddNumberToObject(row, "openblas_reps", t_blas.reps);
        cJSON_AddNumberToObject(row, "ratio", g_own / g_blas);
        cJSON_AddNumberToObject(row, "max_rel_diff", maxdiff);
        bench_print(ctx, "%-22s %-3s %6lld %6lld %6lld %10.1f %10.1f %7.2f %9.1e\n", def->name, op,
                    (long long)s->M, (long long)s->N, (long long)s->K, g_own, g_blas, g_own / g_blas, maxdiff);
    } else {
        bench_print(ctx, "%-22s %-3s %6lld %6lld %6lld %10.1f %10s %7s %9s\n", def->name, op,
                    (long long)s->M, (long long)s->N, (long long)s->K, g_own, "-", "-", "-");
    }
    return SEA_OK;
}

/*                                   M     N     K    ta     tb    quick */
static const gemm_shape sq512 = {512, 512, 512, false, false, true};
static const gemm_shape sq1024 = {1024, 1024, 1024, false, false, true};
static const gemm_shape sq2048 = {2048, 2048, 2048, false, false, false};
static const gemm_shape up_fwd = {256, 2048, 512, false, true, true};
static const gemm_shape down_fwd = {256, 512, 2048, false, true, false};
static const gemm_shape up_dx = {256, 512, 2048, false, false, false};
static const gemm_shape up_dw = {2048, 512, 256, true, false, false};
static const gemm_shape vocab_fwd = {256, 4096, 512, false, true, true};
static const gemm_shape vocab_dx = {256, 512, 4096, false, false, true};
static const gemm_shape vocab_dw = {4096, 512, 256, true, false, false};
static const gemm_shape big_vocab = {256, 50304, 512, false, true, false};
static const gemm_shape dec8 = {8, 4096, 512, false, true, true};
static const gemm_shape dec1 = {1, 4096, 512, false, true, false};
static const gemm_shape dec8_big = {8, 50304, 512, false, true, false};

const bench_def bench_gemm_table[] = {
    {"gemm", "square 512", run_gemm, &sq512},
    {"gemm", "square 1024", run_gemm, &sq1024},
    {"gemm", "square 2048", run_gemm, &sq2048},
    {"gemm", "mlp up x.W^T", run_gemm, &up_fwd},
    {"gemm", "mlp down x.W^T", run_gemm, &down_fwd},
    {"gemm", "mlp up dX=dY.W", run_gemm, &up_dx},
    {"gemm", "mlp up dW=dY^T.X", run_gemm, &up_dw},
    {"gemm", "vocab4k x.W^T", run_gemm, &vocab_fwd},
    {"gemm", "vocab4k dX=dY.W", run_gemm, &vocab_dx},
    {"gemm", "vocab4k dW=dY^T.X", run_gemm, &vocab_dw},
    {"gemm", "vocab50k x.W^T", run_gemm, &big_vocab},
    {"gemm", "decode8 vocab4k", run_gemm, &dec8},
    {"gemm", "decode1 vocab4k", run_gemm, &dec1},
    {"gemm", "decode8 vocab50k", run_gemm, &dec8_big},
    {0},
};
