/* sea bench --ops, group "ops": forward and backward time of single ops through the public
 * op API (validation and dispatch included) on the chosen device, at the sizes of a
 * pythia-70m-like step (8 sequences x 128 tokens, d=512, 8 heads, MLP 2048, vocab 50304;
 * --quick: 4 x 64 tokens, d=256, 4 heads, MLP 1024, vocab 4096).
 *
 * Each time includes a stream sync, so asynchronous backends are measured to completion.
 * Rates: GFLOP/s where the op's arithmetic is the point (matmul, attention), otherwise
 * GB/s of the bytes the op must move at least (inputs read once + outputs written once):
 * compare those with the device's copy bandwidth. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "runtime/ops.h"

typedef struct model_size {
    int64_t B, T, D, H, F, V;
} model_size;

static model_size sizes(const bench_ctx *ctx)
{
    if (ctx->quick) return (model_size){4, 64, 256, 4, 1024, 4096};
    return (model_size){8, 128, 512, 8, 2048, 50304};
}

/* ---- tensors of one benchmark case -------------------------------------------------- */

enum fill_kind { FILL_RANDOM, FILL_ZERO, FILL_INDEX, FILL_ONES_I32, FILL_POSITIONS, FILL_POSITIVE };

#define CASE_MAX_TENSORS 16
typedef struct op_case {
    bench_ctx *ctx;
    sea_stream *s;
    sea_tensor t[CASE_MAX_TENSORS];
    int nt;
    sea_op op;            /* forward; gin/gout set for backward */
    bool backward;
    double fwd_flops, bwd_flops;   /* 0: report GB/s instead */
    double fwd_bytes, bwd_bytes;
    char shape[128];
} op_case;

static uint64_t fill_state = 0x2545f4914f6cdd1dull;
static double next_uniform(void)
{
    fill_state = fill_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(fill_state >> 11) / 9007199254740992.0;
}

/* A new device tensor owned by the case, filled as asked (index fills draw from [0, range)). */
static sea_status case_tensor(op_case *c, sea_dtype dt, int ndim, const int64_t *shape,
                              enum fill_kind fill, int64_t range, sea_tensor **out)
{
    if (c->nt == CASE_MAX_TENSORS) return sea_error(SEA_ERR_INTERNAL, "bench ops: too many tensors");
    sea_tensor *t = &c->t[c->nt];
    SEA_TRY(sea_tensor_alloc(c->ctx->dev, dt, ndim, shape, t));
    c->nt++;
    int64_t n = sea_tensor_numel(t);
    sea_status st = SEA_OK;
    if (dt == SEA_I32) {
        int32_t *h = malloc((size_t)n * sizeof *h);
        if (!h) return sea_error(SEA_ERR_OOM, "bench ops: host buffer of %lld ints", (long long)n);
        int64_t inner = shape[ndim - 1];
        for (int64_t i = 0; i < n; i++)
            h[i] = fill == FILL_INDEX ? (int32_t)(next_uniform() * (double)range)
                 : fill == FILL_POSITIONS ? (int32_t)(i % inner)
                 : fill == FILL_ONES_I32 ? 1 : 0;
        st = sea_tensor_write_i32(c->s, t, h);
        free(h);
    } else {
        float *h = malloc((size_t)n * sizeof *h);
        if (!h) return sea_error(SEA_ERR_OOM, "bench ops: host buffer of %lld floats", (long long)n);
        for (int64_t i = 0; i < n; i++)
            h[i] = fill == FILL_RANDOM ? (float)(next_uniform() * 2.0 - 1.0)
                 : fill == FILL_POSITIVE ? (float)(0.5 + next_uniform())
                 : 0.0f;
        st = sea_tensor_write_f32(c->s, t, h);
        free(h);
    }
    *out = t;
    return st;
}

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})
#define NEW(c, dt, fill, range, out, ...)                                                      \
    SEA_TRY(case_tensor((c), (dt), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
                        SHAPE(__VA_ARGS__), (fill), (range), (out)))

static void case_free(op_case *c)
{
    for (int i = 0; i < c->nt; i++) sea_tensor_free(&c->t[i]);
    c->nt = 0;
}

static double bytes_of(const sea_tensor *t) { return (double)sea_tensor_nbytes(t); }

/* ---- the ops ------------------------------------------------------------------------- */

typedef sea_status (*case_setup_fn)(op_case *c, const model_size *m);
typedef struct op_bench {
    case_setup_fn setup;  /* allocates and fills the tensors, sets the op and its cost */
} op_bench;

static sea_status setup_matmul(op_case *c, const model_size *m)
{
    int64_t N = m->B * m->T;
    sea_tensor *x = NULL, *w = NULL, *bias = NULL, *y = NULL, *gx = NULL, *gw = NULL, *gb = NULL, *gy = NULL;
    NEW(c, SEA_F32, FILL_RANDOM, 0, &x, N, m->D);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &w, m->F, m->D);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &bias, m->F);
    NEW(c, SEA_F32, FILL_ZERO, 0, &y, N, m->F);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gx, N, m->D);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gw, m->F, m->D);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gb, m->F);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &gy, N, m->F);
    c->op = (sea_op){.kind = SEA_OP_MATMUL, .in = {x, w, bias}, .out = {y},
                     .gin = {gx, gw, gb}, .gout = {gy}};
    c->op.p.matmul.trans_b = true;
    c->backward = true;
    c->fwd_flops = 2.0 * N * m->D * m->F;
    c->bwd_flops = 2.0 * c->fwd_flops;
    snprintf(c->shape, sizeof c->shape, "x(%lld,%lld).W^T(%lld,%lld)+b", (long long)N, (long long)m->D,
             (long long)m->F, (long long)m->D);
    return SEA_OK;
}

static sea_status setup_layernorm(op_case *c, const model_size *m)
{
    int64_t N = m->B * m->T;
    sea_tensor *x = NULL, *w = NULL, *b = NULL, *y = NULL, *mean = NULL, *rstd = NULL, *gx = NULL, *gw = NULL, *gb = NULL, *gy = NULL;
    NEW(c, SEA_F32, FILL_RANDOM, 0, &x, N, m->D);
    NEW(c, SEA_F32, FILL_POSITIVE, 0, &w, m->D);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &b, m->D);
    NEW(c, SEA_F32, FILL_ZERO, 0, &y, N, m->D);
    NEW(c, SEA_F32, FILL_ZERO, 0, &mean, N);
    NEW(c, SEA_F32, FILL_ZERO, 0, &rstd, N);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gx, N, m->D);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gw, m->D);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gb, m->D);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &gy, N, m->D);
    c->op = (sea_op){.kind = SEA_OP_LAYERNORM, .in = {x, w, b}, .out = {y, mean, rstd},
                     .gin = {gx, gw, gb}, .gout = {gy}};
    c->op.p.norm.eps = 1e-5f;
    c->backward = true;
    c->fwd_bytes = 2 * bytes_of(x);
    c->bwd_bytes = 3 * bytes_of(x); /* x, gy read; gx written */
    snprintf(c->shape, sizeof c->shape, "(%lld,%lld)", (long long)N, (long long)m->D);
    return SEA_OK;
}

static sea_status setup_softmax(op_case *c, const model_size *m)
{
    /* attention-probability shaped rows: (B*H*T, T) */
    int64_t R = m->B * m->H * m->T;
    sea_tensor *x = NULL, *y = NULL, *gx = NULL, *gy = NULL;
    NEW(c, SEA_F32, FILL_RANDOM, 0, &x, R, m->T);
    NEW(c, SEA_F32, FILL_ZERO, 0, &y, R, m->T);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gx, R, m->T);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &gy, R, m->T);
    c->op = (sea_op){.kind = SEA_OP_SOFTMAX, .in = {x}, .out = {y}, .gin = {gx}, .gout = {gy}};
    c->backward = true;
    c->fwd_bytes = 2 * bytes_of(x);
    c->bwd_bytes = 3 * bytes_of(x);
    snprintf(c->shape, sizeof c->shape, "(%lld,%lld)", (long long)R, (long long)m->T);
    return SEA_OK;
}

static sea_status setup_attention(op_case *c, const model_size *m)
{
    int64_t hd = m->D / m->H;
    sea_tensor *q = NULL, *k = NULL, *v = NULL, *o = NULL, *lse = NULL, *gq = NULL, *gk = NULL, *gv = NULL, *go = NULL;
    NEW(c, SEA_F32, FILL_RANDOM, 0, &q, m->B, m->T, m->H, hd);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &k, m->B, m->T, m->H, hd);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &v, m->B, m->T, m->H, hd);
    NEW(c, SEA_F32, FILL_ZERO, 0, &o, m->B, m->T, m->H, hd);
    NEW(c, SEA_F32, FILL_ZERO, 0, &lse, m->B, m->H, m->T);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gq, m->B, m->T, m->H, hd);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gk, m->B, m->T, m->H, hd);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gv, m->B, m->T, m->H, hd);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &go, m->B, m->T, m->H, hd);
    c->op = (sea_op){.kind = SEA_OP_ATTENTION, .in = {q, k, v, NULL}, .out = {o, lse},
                     .gin = {gq, gk, gv}, .gout = {go}};
    c->op.p.attn.scale = 1.0f / sqrtf((float)hd);
    c->backward = true;
    /* causal: QK^T and PV over half the (T, T) square, 2 FLOPs per term each */
    c->fwd_flops = 2.0 * m->B * m->H * (double)m->T * (double)m->T * hd;
    c->bwd_flops = 2.5 * c->fwd_flops; /* dV, dP, dQ, dK (+ recomputed P) */
    snprintf(c->shape, sizeof c->shape, "B%lld T%lld H%lld hd%lld causal", (long long)m->B, (long long)m->T,
             (long long)m->H, (long long)hd);
    return SEA_OK;
}

static sea_status setup_logsoftmax_gather(op_case *c, const model_size *m)
{
    int64_t N = m->B * m->T;
    sea_tensor *logits = NULL, *tg = NULL, *logp = NULL, *lse = NULL, *glogits = NULL, *glogp = NULL;
    NEW(c, SEA_F32, FILL_RANDOM, 0, &logits, N, m->V);
    NEW(c, SEA_I32, FILL_INDEX, m->V, &tg, N);
    NEW(c, SEA_F32, FILL_ZERO, 0, &logp, N);
    NEW(c, SEA_F32, FILL_ZERO, 0, &lse, N);
    NEW(c, SEA_F32, FILL_ZERO, 0, &glogits, N, m->V);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &glogp, N);
    c->op = (sea_op){.kind = SEA_OP_LOGSOFTMAX_GATHER, .in = {logits, tg}, .out = {logp, lse},
                     .gin = {glogits}, .gout = {glogp}};
    c->backward = true;
    c->fwd_bytes = bytes_of(logits);
    c->bwd_bytes = 3 * bytes_of(logits); /* logits read, glogits read + written (+=) */
    snprintf(c->shape, sizeof c->shape, "(%lld,%lld)", (long long)N, (long long)m->V);
    return SEA_OK;
}

static sea_status setup_gelu(op_case *c, const model_size *m)
{
    int64_t N = m->B * m->T;
    sea_tensor *x = NULL, *y = NULL, *gx = NULL, *gy = NULL;
    NEW(c, SEA_F32, FILL_RANDOM, 0, &x, N, m->F);
    NEW(c, SEA_F32, FILL_ZERO, 0, &y, N, m->F);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gx, N, m->F);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &gy, N, m->F);
    c->op = (sea_op){.kind = SEA_OP_GELU, .in = {x}, .out = {y}, .gin = {gx}, .gout = {gy}};
    c->backward = true;
    c->fwd_bytes = 2 * bytes_of(x);
    c->bwd_bytes = 4 * bytes_of(x); /* x, gy, gx read; gx written */
    snprintf(c->shape, sizeof c->shape, "(%lld,%lld) erf", (long long)N, (long long)m->F);
    return SEA_OK;
}

static sea_status setup_rope(op_case *c, const model_size *m)
{
    int64_t hd = m->D / m->H;
    sea_tensor *x = NULL, *pos = NULL, *y = NULL, *gx = NULL, *gy = NULL;
    NEW(c, SEA_F32, FILL_RANDOM, 0, &x, m->B, m->T, m->H, hd);
    NEW(c, SEA_I32, FILL_POSITIONS, 0, &pos, m->B, m->T);
    NEW(c, SEA_F32, FILL_ZERO, 0, &y, m->B, m->T, m->H, hd);
    NEW(c, SEA_F32, FILL_ZERO, 0, &gx, m->B, m->T, m->H, hd);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &gy, m->B, m->T, m->H, hd);
    c->op = (sea_op){.kind = SEA_OP_ROPE, .in = {x, pos}, .out = {y}, .gin = {gx}, .gout = {gy}};
    c->op.p.rope.rot_dims = (int)(hd / 4); /* pythia: rotary_pct 0.25 */
    c->op.p.rope.theta = 10000.0f;
    c->op.p.rope.style = SEA_ROPE_NEOX;
    c->backward = true;
    c->fwd_bytes = 2 * bytes_of(x);
    c->bwd_bytes = 3 * bytes_of(x);
    snprintf(c->shape, sizeof c->shape, "B%lld T%lld H%lld hd%lld rot%d", (long long)m->B, (long long)m->T,
             (long long)m->H, (long long)hd, c->op.p.rope.rot_dims);
    return SEA_OK;
}

static sea_status setup_decode_attention(op_case *c, const model_size *m)
{
    int64_t hd = m->D / m->H, S = 2 * m->T;
    sea_tensor *q = NULL, *kc = NULL, *vc = NULL, *valid = NULL, *o = NULL;
    NEW(c, SEA_F32, FILL_RANDOM, 0, &q, m->B, m->H, hd);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &kc, m->B, S, m->H, hd);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &vc, m->B, S, m->H, hd);
    NEW(c, SEA_I32, FILL_ONES_I32, 0, &valid, m->B, S);
    NEW(c, SEA_F32, FILL_ZERO, 0, &o, m->B, m->H, hd);
    c->op = (sea_op){.kind = SEA_OP_DECODE_ATTENTION, .in = {q, kc, vc, valid}, .out = {o}};
    c->op.p.attn.scale = 1.0f / sqrtf((float)hd);
    c->op.p.attn.n_keys = (int)S;
    c->fwd_bytes = bytes_of(kc) + bytes_of(vc);
    snprintf(c->shape, sizeof c->shape, "B%lld H%lld hd%lld keys%lld", (long long)m->B, (long long)m->H,
             (long long)hd, (long long)S);
    return SEA_OK;
}

static sea_status setup_sample(op_case *c, const model_size *m)
{
    sea_tensor *logits = NULL, *ids = NULL, *tok = NULL, *logp = NULL;
    NEW(c, SEA_F32, FILL_RANDOM, 0, &logits, m->B, m->V);
    NEW(c, SEA_I32, FILL_POSITIONS, 0, &ids, m->B);
    NEW(c, SEA_I32, FILL_ZERO, 0, &tok, m->B);
    NEW(c, SEA_F32, FILL_ZERO, 0, &logp, m->B);
    c->op = (sea_op){.kind = SEA_OP_SAMPLE, .in = {logits, ids}, .out = {tok, logp}};
    c->op.p.sample.temperature = 0.7f;
    c->op.p.sample.top_p = 0.9f;
    c->op.p.sample.seed = 1;
    c->fwd_bytes = bytes_of(logits);
    snprintf(c->shape, sizeof c->shape, "(%lld,%lld) T0.7 top-p0.9", (long long)m->B, (long long)m->V);
    return SEA_OK;
}

static sea_status setup_adamw(op_case *c, const model_size *m)
{
    /* pythia-70m has ~70M parameters; 16M (4M quick) keeps the run short */
    int64_t n = m->V > 10000 ? 16 << 20 : 4 << 20;
    sea_tensor *p = NULL, *g = NULL, *mm = NULL, *v = NULL;
    NEW(c, SEA_F32, FILL_RANDOM, 0, &p, n);
    NEW(c, SEA_F32, FILL_RANDOM, 0, &g, n);
    NEW(c, SEA_F32, FILL_ZERO, 0, &mm, n);
    NEW(c, SEA_F32, FILL_ZERO, 0, &v, n);
    c->op = (sea_op){.kind = SEA_OP_ADAMW, .in = {g}, .out = {p, mm, v}};
    c->op.p.adamw.lr = 1e-5f;
    c->op.p.adamw.beta1 = 0.9f;
    c->op.p.adamw.beta2 = 0.999f;
    c->op.p.adamw.eps = 1e-8f;
    c->op.p.adamw.weight_decay = 0.01f;
    c->op.p.adamw.step = 1;
    c->fwd_bytes = 7.0 * 4.0 * (double)n; /* read g, p, m, v; write p, m, v */
    snprintf(c->shape, sizeof c->shape, "%lld params", (long long)n);
    return SEA_OK;
}

/* ---- timing one case ------------------------------------------------------------------- */

static sea_status fwd_once(void *arg)
{
    op_case *c = arg;
    SEA_TRY(sea_op_run(c->s, &c->op));
    return sea_stream_sync(c->s);
}

static sea_status bwd_once(void *arg)
{
    op_case *c = arg;
    SEA_TRY(sea_op_run_backward(c->s, &c->op));
    return sea_stream_sync(c->s);
}

static sea_status open_device(bench_ctx *ctx)
{
    if (ctx->dev) return SEA_OK;
    if (ctx->dev_failed) return sea_error(SEA_ERR_DEVICE, "bench ops: device '%s' did not open",
                                          ctx->device_spec ? ctx->device_spec : "(default)");
    sea_status st = sea_device_open(ctx->device_spec, &ctx->dev);
    if (st) {
        ctx->dev_failed = true;
        return st;
    }
    bench_print(ctx, "\nops on %s (median ms; rate = GFLOP/s for matmul/attention, else GB/s moved)\n",
                sea_device_label(ctx->dev));
    bench_print(ctx, "%-20s %-34s %9s %9s %9s %9s\n", "op", "shape", "fwd ms", "rate", "bwd ms", "rate");
    return SEA_OK;
}

void bench_ops_close(bench_ctx *ctx)
{
    if (ctx->dev) sea_device_close(ctx->dev);
    ctx->dev = NULL;
}

static sea_status run_op(bench_ctx *ctx, const bench_def *def)
{
    SEA_TRY(open_device(ctx));
    model_size m = sizes(ctx);
    op_case c = {.ctx = ctx, .s = sea_device_stream(ctx->dev)};
    const op_bench *ob = def->arg;
    sea_status st = ob->setup(&c, &m);
    if (!st) st = sea_stream_sync(c.s);
    bench_timing tf = {0}, tb = {0};
    if (!st) st = bench_time(ctx, fwd_once, &c, &tf);
    if (!st && c.backward) st = bench_time(ctx, bwd_once, &c, &tb);
    case_free(&c);
    if (st) return sea_error_context(st, "%s on %s", def->name, sea_device_label(ctx->dev));

    bool flops = c.fwd_flops > 0;
    double rf = flops ? c.fwd_flops / tf.median_s * 1e-9 : c.fwd_bytes / tf.median_s * 1e-9;
    double rb = c.backward ? (flops ? c.bwd_flops : c.bwd_bytes) / tb.median_s * 1e-9 : 0;
    cJSON *row = bench_row(ctx, def->group, def->name);
    cJSON_AddStringToObject(row, "device", sea_device_label(ctx->dev));
    cJSON_AddStringToObject(row, "shape", c.shape);
    cJSON_AddNumberToObject(row, "fwd_median_ms", tf.median_s * 1e3);
    cJSON_AddNumberToObject(row, "fwd_min_ms", tf.min_s * 1e3);
    cJSON_AddNumberToObject(row, flops ? "fwd_gflops" : "fwd_gbps", rf);
    if (c.backward) {
        cJSON_AddNumberToObject(row, "bwd_median_ms", tb.median_s * 1e3);
        cJSON_AddNumberToObject(row, "bwd_min_ms", tb.min_s * 1e3);
        cJSON_AddNumberToObject(row, flops ? "bwd_gflops" : "bwd_gbps", rb);
        bench_print(ctx, "%-20s %-34s %9.3f %9.1f %9.3f %9.1f\n", def->name, c.shape, tf.median_s * 1e3, rf,
                    tb.median_s * 1e3, rb);
    } else {
        bench_print(ctx, "%-20s %-34s %9.3f %9.1f %9s %9s\n", def->name, c.shape, tf.median_s * 1e3, rf, "-", "-");
    }
    return SEA_OK;
}

#define OP(name, fn) {"ops", name, run_op, &(const op_bench){fn}}
const bench_def bench_ops_table[] = {
    OP("matmul", setup_matmul),
    OP("layernorm", setup_layernorm),
    OP("softmax", setup_softmax),
    OP("attention", setup_attention),
    OP("decode_attention", setup_decode_attention),
    OP("rope", setup_rope),
    OP("gelu", setup_gelu),
    OP("logsoftmax_gather", setup_logsoftmax_gather),
    OP("sample", setup_sample),
    OP("adamw", setup_adamw),
    {0},
};
