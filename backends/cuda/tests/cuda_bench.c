/* GPU micro-benchmarks of the CUDA backend through the public op API, at the shapes of the
 * workloads that matter (Pythia-1B: d 2048, 8 heads of 256, V 50304; DPO batches of 8192
 * tokens; batch-64 decoding). Prints one JSON object per line. Each timing is the median of
 * repeats after warm-up calls identical to the timed ones.
 *   sea-cuda-bench [device] [filter] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "ops.h"

static sea_device *dev;
static sea_stream *st;
static const char *filter;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef sea_status (*bench_fn)(void *);

/* Median seconds per call; -1 on failure (message printed). */
static double timeit(const char *name, bench_fn f, void *arg, int reps)
{
    for (int i = 0; i < 2; i++)
        if (f(arg) || sea_stream_sync(st)) goto fail;
    double t[64];
    if (reps > 64) reps = 64;
    for (int i = 0; i < reps; i++) {
        double t0 = now();
        if (f(arg) || sea_stream_sync(st)) goto fail;
        t[i] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmpd);
    return t[reps / 2];
fail:
    printf("{\"bench\": \"%s\", \"error\": \"%s\"}\n", name, sea_last_error());
    fflush(stdout);
    return -1;
}

static sea_tensor T(sea_dtype dt, int nd, int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t sh[4] = {a, b, c, d};
    sea_tensor t;
    memset(&t, 0, sizeof t);
    if (sea_tensor_alloc(dev, dt, nd, sh, &t)) {
        fprintf(stderr, "alloc: %s\n", sea_last_error());
        exit(1);
    }
    /* Random-ish contents without a host round trip of the whole tensor: fill, then a
     * small pattern is enough for timing (values do not change the work). */
    sea_fill(st, &t, dt == SEA_I32 ? 1 : 0.01);
    return t;
}

static bool want(const char *name) { return !filter || strstr(name, filter); }

/* ---- matmul ---- */
typedef struct { sea_tensor a, b, c; bool tb; } mm_arg;
static sea_status mm_run(void *p)
{
    mm_arg *m = p;
    return sea_matmul(st, &m->a, &m->b, NULL, false, m->tb, SEA_ACT_NONE, &m->c, NULL);
}

static void bench_matmul(const char *name, sea_dtype dt, int64_t M, int64_t N, int64_t K, bool tb)
{
    if (!want(name)) return;
    mm_arg m = {T(dt, 2, M, K, 1, 1), tb ? T(dt, 2, N, K, 1, 1) : T(dt, 2, K, N, 1, 1), T(dt, 2, M, N, 1, 1), tb};
    double s = timeit(name, mm_run, &m, 10);
    if (s > 0)
        printf("{\"bench\": \"%s\", \"dtype\": \"%s\", \"M\": %lld, \"N\": %lld, \"K\": %lld, \"ms\": %.3f, \"tflops\": %.1f}\n",
               name, sea_dtype_name(dt), (long long)M, (long long)N, (long long)K, s * 1e3, 2.0 * M * N * K / s / 1e12);
    fflush(stdout);
    sea_tensor_free(&m.a);
    sea_tensor_free(&m.b);
    sea_tensor_free(&m.c);
}

/* ---- attention forward and backward ---- */
typedef struct { sea_tensor q, k, v, o, lse, gq, gk, gv, go; bool bw; int inner; } at_arg;
static sea_status at_one(at_arg *a)
{
    sea_op op;
    memset(&op, 0, sizeof op);
    op.kind = SEA_OP_ATTENTION;
    op.in[0] = &a->q;
    op.in[1] = &a->k;
    op.in[2] = &a->v;
    op.out[0] = &a->o;
    op.out[1] = &a->lse;
    op.p.attn.scale = 1.0f / sqrtf((float)a->q.shape[3]);
    if (!a->bw) return sea_op_run(st, &op);
    op.gin[0] = &a->gq;
    op.gin[1] = &a->gk;
    op.gin[2] = &a->gv;
    op.gout[0] = &a->go;
    return sea_op_run_backward(st, &op);
}

/* `inner` calls per timed sample: a flash call takes ~0.1 ms, close to the launch and sync
 * overhead of one sample. */
static sea_status at_run(void *p)
{
    at_arg *a = p;
    for (int i = 0; i < a->inner; i++) SEA_TRY(at_one(a));
    return SEA_OK;
}

/* Calls per sample so that one sample takes >= ~2 ms. */
static int inner_for(at_arg *a)
{
    a->inner = 1;
    if (at_run(a) || sea_stream_sync(st)) return 1;
    double t0 = now();
    if (at_run(a) || sea_stream_sync(st)) return 1;
    double t = now() - t0;
    int n = t > 0 ? (int)ceil(2e-3 / t) : 50;
    return n < 1 ? 1 : n > 50 ? 50 : n;
}

/* Set an environment variable for one benchmark row (value NULL: leave it); restore_env puts
 * back what was there. */
static char *override_env(const char *var, const char *value)
{
    const char *old = getenv(var);
    char *saved = old ? strdup(old) : NULL;
    if (value) setenv(var, value, 1);
    return saved;
}

static void restore_env(const char *var, const char *value, char *saved)
{
    if (value) {
        if (saved) setenv(var, saved, 1);
        else unsetenv(var);
    }
    free(saved);
}

/* kernel: NULL = the default choice; "basic" or "flash" = SEA_CUDA_ATTN for this run
 * ("flash" fails rather than fall back, so a flash row is always the tensor-core kernels).
 * dq: NULL = the default; "gemm" or "kernel" = SEA_CUDA_FA_DQ (how the flash backward gets dQ). */
static void bench_attention_dq(const char *name, sea_dtype dt, int64_t B, int64_t Tn, int64_t H, int64_t hd,
                               const char *kernel, const char *dq)
{
    if (!want(name)) return;
    char *saved = override_env("SEA_CUDA_ATTN", kernel), *saved_dq = override_env("SEA_CUDA_FA_DQ", dq);
    at_arg a;
    a.q = T(dt, 4, B, Tn, H, hd);
    a.k = T(dt, 4, B, Tn, H, hd);
    a.v = T(dt, 4, B, Tn, H, hd);
    a.o = T(dt, 4, B, Tn, H, hd);
    a.lse = T(SEA_F32, 3, B, H, Tn, 1);
    a.gq = T(dt, 4, B, Tn, H, hd);
    a.gk = T(dt, 4, B, Tn, H, hd);
    a.gv = T(dt, 4, B, Tn, H, hd);
    a.go = T(dt, 4, B, Tn, H, hd);
    a.bw = false;
    a.inner = inner_for(&a);
    int fin = a.inner;
    double f = timeit(name, at_run, &a, 10) / fin;
    a.inner = 1;
    at_run(&a);
    a.bw = true;
    a.inner = f > 0 ? inner_for(&a) : 1;
    int bin = a.inner;
    double b = f > 0 ? timeit(name, at_run, &a, 10) / bin : -1;
    double flops = 2.0 * B * H * (double)Tn * Tn * hd; /* causal half of QK^T and PV */
    if (f > 0 && b > 0)
        printf("{\"bench\": \"%s\", \"kernel\": \"%s\", \"dtype\": \"%s\", \"B\": %lld, \"T\": %lld, \"H\": %lld, "
               "\"hd\": %lld, \"fwd_ms\": %.3f, \"bwd_ms\": %.3f, \"fwd_tflops\": %.2f, \"bwd_tflops\": %.2f, "
               "\"dq\": \"%s\", \"calls_per_sample\": [%d, %d]}\n",
               name, kernel ? kernel : "default", sea_dtype_name(dt), (long long)B, (long long)Tn, (long long)H,
               (long long)hd, f * 1e3, b * 1e3, flops / f / 1e12, 2.5 * flops / b / 1e12, dq ? dq : "default", fin, bin);
    fflush(stdout);
    restore_env("SEA_CUDA_ATTN", kernel, saved);
    restore_env("SEA_CUDA_FA_DQ", dq, saved_dq);
    sea_tensor *all[] = {&a.q, &a.k, &a.v, &a.o, &a.lse, &a.gq, &a.gk, &a.gv, &a.go};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sea_tensor_free(all[i]);
}

static void bench_attention(const char *name, sea_dtype dt, int64_t B, int64_t Tn, int64_t H, int64_t hd,
                            const char *kernel)
{
    bench_attention_dq(name, dt, B, Tn, H, hd, kernel, NULL);
}

/* ---- memory-bound ops: report GB/s of the bytes they must move ---- */
typedef struct { sea_op op; } op_arg;
static sea_status op_run(void *p) { return sea_op_run(st, &((op_arg *)p)->op); }
static sea_status op_run_bw(void *p) { return sea_op_run_backward(st, &((op_arg *)p)->op); }

static void report_bw(const char *name, double s, double bytes)
{
    if (s > 0) printf("{\"bench\": \"%s\", \"ms\": %.3f, \"gb_s\": %.0f}\n", name, s * 1e3, bytes / s / 1e9);
    fflush(stdout);
}

static void bench_memory_ops(void)
{
    if (want("logsoftmax_gather")) {
        int64_t N = 8192, V = 50304;
        sea_tensor x = T(SEA_F32, 2, N, V, 1, 1), t = T(SEA_I32, 1, N, 1, 1, 1), lp = T(SEA_F32, 1, N, 1, 1, 1),
                   lse = T(SEA_F32, 1, N, 1, 1, 1), gx = T(SEA_F32, 2, N, V, 1, 1), g = T(SEA_F32, 1, N, 1, 1, 1);
        op_arg a;
        memset(&a, 0, sizeof a);
        a.op.kind = SEA_OP_LOGSOFTMAX_GATHER;
        a.op.in[0] = &x;
        a.op.in[1] = &t;
        a.op.out[0] = &lp;
        a.op.out[1] = &lse;
        report_bw("logsoftmax_gather_fwd_8192x50304", timeit("logsoftmax_gather", op_run, &a, 10), 4.0 * N * V);
        a.op.gin[0] = &gx;
        a.op.gout[0] = &g;
        report_bw("logsoftmax_gather_bwd_8192x50304", timeit("logsoftmax_gather_bwd", op_run_bw, &a, 10), 12.0 * N * V);
        sea_tensor *all[] = {&x, &t, &lp, &lse, &gx, &g};
        for (size_t i = 0; i < 6; i++) sea_tensor_free(all[i]);
    }
    if (want("layernorm")) {
        int64_t N = 8192, D = 2048;
        sea_tensor x = T(SEA_F32, 2, N, D, 1, 1), w = T(SEA_F32, 1, D, 1, 1, 1), b = T(SEA_F32, 1, D, 1, 1, 1),
                   y = T(SEA_F32, 2, N, D, 1, 1), mu = T(SEA_F32, 1, N, 1, 1, 1), rs = T(SEA_F32, 1, N, 1, 1, 1);
        op_arg a;
        memset(&a, 0, sizeof a);
        a.op.kind = SEA_OP_LAYERNORM;
        a.op.in[0] = &x;
        a.op.in[1] = &w;
        a.op.in[2] = &b;
        a.op.out[0] = &y;
        a.op.out[1] = &mu;
        a.op.out[2] = &rs;
        a.op.p.norm.eps = 1e-5f;
        report_bw("layernorm_fwd_8192x2048", timeit("layernorm", op_run, &a, 20), 8.0 * N * D);
        sea_tensor *all[] = {&x, &w, &b, &y, &mu, &rs};
        for (size_t i = 0; i < 6; i++) sea_tensor_free(all[i]);
    }
    if (want("adamw")) {
        int64_t n = 256LL << 20;
        sea_tensor g = T(SEA_F32, 1, n, 1, 1, 1), p = T(SEA_F32, 1, n, 1, 1, 1), m = T(SEA_F32, 1, n, 1, 1, 1),
                   v = T(SEA_F32, 1, n, 1, 1, 1);
        op_arg a;
        memset(&a, 0, sizeof a);
        a.op.kind = SEA_OP_ADAMW;
        a.op.in[0] = &g;
        a.op.out[0] = &p;
        a.op.out[1] = &m;
        a.op.out[2] = &v;
        a.op.p.adamw.lr = 1e-6f;
        a.op.p.adamw.beta1 = 0.9f;
        a.op.p.adamw.beta2 = 0.999f;
        a.op.p.adamw.eps = 1e-8f;
        a.op.p.adamw.step = 1;
        report_bw("adamw_256M", timeit("adamw", op_run, &a, 10), 28.0 * n);
        sea_tensor *all[] = {&g, &p, &m, &v};
        for (size_t i = 0; i < 4; i++) sea_tensor_free(all[i]);
    }
    /* Decode attention at the sampling benchmark's shape (Pythia-1B, batch 64, 320 keys): f32
     * (the basic kernel), and bf16 with the vectorized kernel and, for comparison, the basic one
     * (SEA_CUDA_DECODE=basic). Bytes: K and V rows read once. The last variant is the same 64
     * sequences and 320 keys each as SEA samples them: 4 prompts x 16 samples, the 256 prompt
     * keys in a shared prefix (one row per prompt) and 64 of each sample's own; its bytes are
     * counted as the others' (every sequence's 320 keys), so the GB/s compare times, while
     * the distinct bytes are 4 x 256 + 64 x 64 rows, 29 % of them. */
    for (int variant = 0; variant < 4; variant++) {
        static const char *const names[4] = {"decode_attention_b64_s320_h8_hd256", "decode_attention_bf16_b64_s320_h8_hd256",
                                             "decode_attention_bf16_basic_b64_s320_h8_hd256",
                                             "decode_attention_bf16_prefix_b64_p4x256_s64_h8_hd256"};
        if (!want("decode_attention") && !want(names[variant])) continue;
        sea_dtype dt = variant ? SEA_BF16 : SEA_F32;
        const bool prefix = variant == 3;
        int64_t B = 64, S = prefix ? 64 : 320, Bp = 4, Sp = prefix ? 256 : 0, H = 8, hd = 256;
        sea_tensor q = T(dt, 3, B, H, hd, 1), kc = T(dt, 4, B, S, H, hd), vc = T(dt, 4, B, S, H, hd),
                   kv = T(SEA_I32, 2, B, S, 1, 1), o = T(dt, 3, B, H, hd, 1), pk = {0}, pv = {0}, pvalid = {0};
        if (prefix) {
            pk = T(dt, 4, Bp, Sp, H, hd);
            pv = T(dt, 4, Bp, Sp, H, hd);
            pvalid = T(SEA_I32, 2, Bp, Sp, 1, 1);
        }
        op_arg a;
        memset(&a, 0, sizeof a);
        a.op.kind = SEA_OP_DECODE_ATTENTION;
        a.op.in[0] = &q;
        a.op.in[1] = &kc;
        a.op.in[2] = &vc;
        a.op.in[3] = &kv;
        if (prefix) {
            a.op.in[4] = &pk;
            a.op.in[5] = &pv;
            a.op.in[6] = &pvalid;
        }
        a.op.out[0] = &o;
        a.op.p.attn.scale = 0.0625f;
        a.op.p.attn.n_keys = (int)S;
        if (variant == 2) setenv("SEA_CUDA_DECODE", "basic", 1);
        report_bw(names[variant], timeit("decode_attention", op_run, &a, 20),
                  2.0 * sea_dtype_size(dt) * B * (Sp + S) * H * hd);
        if (variant == 2) unsetenv("SEA_CUDA_DECODE");
        sea_tensor *all[] = {&q, &kc, &vc, &kv, &o, &pk, &pv, &pvalid};
        for (size_t i = 0; i < 8; i++) sea_tensor_free(all[i]);
    }
    for (int variant = 0; variant < 2; variant++) {
        const char *name = variant ? "sample_top_p_b64_v50304" : "sample_plain_b64_v50304";
        if (!want(name)) continue;
        int64_t B = 64, V = 50304;
        sea_tensor x = T(SEA_F32, 2, B, V, 1, 1), ids = T(SEA_I32, 1, B, 1, 1, 1), tok = T(SEA_I32, 1, B, 1, 1, 1),
                   lp = T(SEA_F32, 1, B, 1, 1, 1);
        op_arg a;
        memset(&a, 0, sizeof a);
        a.op.kind = SEA_OP_SAMPLE;
        a.op.in[0] = &x;
        a.op.in[1] = &ids;
        a.op.out[0] = &tok;
        a.op.out[1] = &lp;
        a.op.p.sample.temperature = 0.7f;
        a.op.p.sample.top_p = variant ? 0.9f : 1.0f;
        a.op.p.sample.seed = 7;
        report_bw(name, timeit(name, op_run, &a, 20), 4.0 * B * V);
        sea_tensor *all[] = {&x, &ids, &tok, &lp};
        for (size_t i = 0; i < 4; i++) sea_tensor_free(all[i]);
    }
}

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "cuda:0";
    filter = argc > 2 ? argv[2] : NULL;
    if (sea_device_open(spec, &dev)) {
        printf("{\"bench\": \"open\", \"skip\": \"%s\"}\n", sea_last_error());
        return 77;
    }
    st = sea_device_stream(dev);
    printf("{\"bench\": \"device\", \"label\": \"%s\"}\n", sea_device_label(dev));
    bench_matmul("matmul_bf16_8192", SEA_BF16, 8192, 8192, 8192, false);
    bench_matmul("matmul_f32_4096", SEA_F32, 4096, 4096, 4096, false);
    bench_matmul("matmul_bf16_pythia1b_mlp_up", SEA_BF16, 8192, 8192, 2048, true);
    bench_matmul("matmul_bf16_pythia1b_logits", SEA_BF16, 8192, 50304, 2048, true);
    /* Attention at the DPO shape (Pythia-1B: 8 heads of 256, 16 sequences of 512): f32, bf16
     * on the fp32 SIMT kernels, bf16 on the tensor-core flash kernels; then flash at hd 64/128. */
    bench_attention("attention_f32_pythia1b", SEA_F32, 16, 512, 8, 256, NULL);
    bench_attention("attention_bf16_pythia1b_basic", SEA_BF16, 16, 512, 8, 256, "basic");
    bench_attention("attention_bf16_pythia1b_flash", SEA_BF16, 16, 512, 8, 256, "flash");
    /* the flash backward's two ways to dQ (cuda_attn_plan.h): check.sh keeps the faster */
    bench_attention_dq("attention_bf16_pythia1b_flash_dq_kernel", SEA_BF16, 16, 512, 8, 256, "flash", "kernel");
    bench_attention_dq("attention_bf16_pythia1b_flash_dq_gemm", SEA_BF16, 16, 512, 8, 256, "flash", "gemm");
    bench_attention("attention_f16_pythia1b_flash", SEA_F16, 16, 512, 8, 256, "flash");
    bench_attention("attention_bf16_hd128_flash", SEA_BF16, 16, 512, 16, 128, "flash");
    bench_attention("attention_bf16_hd64_flash", SEA_BF16, 16, 512, 32, 64, "flash");
    /* Pythia-2.8B's 32 heads of 80: zero-padded onto the hd 128 kernels (TFLOP/s counted at
     * hd 80), next to the fp32 SIMT kernels it would otherwise get */
    bench_attention("attention_bf16_hd80_flash", SEA_BF16, 8, 512, 32, 80, "flash");
    bench_attention("attention_bf16_hd80_basic", SEA_BF16, 8, 512, 32, 80, "basic");
    bench_attention("attention_bf16_t2048_flash", SEA_BF16, 4, 2048, 8, 256, "flash");
    bench_attention("attention_f32_hd64", SEA_F32, 16, 512, 16, 64, NULL);
    bench_memory_ops();
    sea_device_close(dev);
    return 0;
}
