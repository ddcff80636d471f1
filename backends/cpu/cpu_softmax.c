/* Row-wise softmax, fused log-softmax + gather of target log-probs, and cross-entropy.
 * None materializes an (N, V) log-softmax: a row's log-sum-exp is computed once (max, then
 * a sum of exponentials in double, in index order) and reused by the backward pass. */
#include <stdio.h>

#include "cpu_internal.h"

typedef struct sm_ctx {
    const float *x, *y, *g;   /* (N, V) logits / softmax output / gout */
    const int32_t *targets;   /* (N) */
    float *out, *lse, *gx;
    double *row_loss;         /* (N) cross-entropy per row (NAN = ignored) */
    int64_t N, V;
    float gscale;             /* cross-entropy backward: gout / count */
} sm_ctx;

static float row_lse(const float *x, int64_t V)
{
    float m = sea_cpu_max(x, V);
    if (m == -INFINITY) return -INFINITY;
    return m + (float)log(sea_cpu_sum_exp(x, m, V));
}

static void softmax_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    sm_ctx *c = vctx;
    (void)tid;
    for (int64_t n = begin; n < end; n++) {
        const float *x = c->x + n * c->V;
        float *y = c->out + n * c->V;
        float m = sea_cpu_max(x, c->V);
        float inv = (float)(1.0 / sea_cpu_exp_sum(y, x, m, c->V));
        for (int64_t i = 0; i < c->V; i++) y[i] *= inv;
    }
}

static void softmax_bwd_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    sm_ctx *c = vctx;
    (void)tid;
    for (int64_t n = begin; n < end; n++) {
        const float *y = c->y + n * c->V, *g = c->g + n * c->V;
        float *gx = c->gx + n * c->V;
        float d = sea_cpu_dot(g, y, c->V);
        for (int64_t i = 0; i < c->V; i++) gx[i] += y[i] * (g[i] - d);
    }
}

static int64_t rows_per_chunk(int64_t V) { return cpu_min_items(4 * V); }

sea_status sea_cpu_softmax(const sea_op *op)
{
    sm_ctx c = {.x = cpu_f32(op->in[0]), .out = cpu_f32(op->out[0]), .N = cpu_rows(op->in[0]), .V = cpu_last(op->in[0])};
    cpu_for(c.N, rows_per_chunk(c.V), softmax_rows, &c);
    return SEA_OK;
}

sea_status sea_cpu_softmax_backward(const sea_op *op)
{
    if (!op->gin[0] || !op->gout[0]) return SEA_OK;
    sm_ctx c = {.y = cpu_f32(op->out[0]), .g = cpu_f32(op->gout[0]), .gx = cpu_f32(op->gin[0]),
                .N = cpu_rows(op->in[0]), .V = cpu_last(op->in[0])};
    cpu_for(c.N, rows_per_chunk(c.V), softmax_bwd_rows, &c);
    return SEA_OK;
}

/* Targets must lie in [0, V) or be negative (ignored). */
static sea_status check_targets(const sea_op *op, const int32_t *t, int64_t N, int64_t V)
{
    for (int64_t n = 0; n < N; n++)
        if (t[n] >= V)
            return sea_error(SEA_ERR_INVALID, "%s: targets[%lld] = %d is outside [0, %lld) (logits (%lld, %lld) f32) on cpu",
                             sea_op_name(op->kind), (long long)n, t[n], (long long)V, (long long)N, (long long)V);
    return SEA_OK;
}

static void gather_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    sm_ctx *c = vctx;
    (void)tid;
    for (int64_t n = begin; n < end; n++) {
        const float *x = c->x + n * c->V;
        float l = row_lse(x, c->V);
        if (c->lse) c->lse[n] = l;
        int32_t t = c->targets[n];
        if (c->out) c->out[n] = t < 0 ? 0.0f : x[t] - l;
        if (c->row_loss) c->row_loss[n] = t < 0 ? NAN : (double)l - (double)x[t];
    }
}

/* gx[n] += scale_n * (onehot(target) - softmax(x_n)), scale_n = gout[n] or -gscale. */
static void gather_bwd_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    sm_ctx *c = vctx;
    (void)tid;
    for (int64_t n = begin; n < end; n++) {
        int32_t t = c->targets[n];
        if (t < 0) continue;
        float s = c->g ? c->g[n] : -c->gscale;
        if (s == 0) continue;
        const float *x = c->x + n * c->V;
        float *gx = c->gx + n * c->V;
        float l = c->lse[n];
        sea_cpu_axpy_exp(gx, -s, x, l, c->V);
        gx[t] += s;
    }
}

sea_status sea_cpu_logsoftmax_gather(const sea_op *op)
{
    sm_ctx c = {.x = cpu_f32(op->in[0]), .targets = cpu_i32(op->in[1]), .out = cpu_f32(op->out[0]),
                .lse = op->out[1] ? cpu_f32(op->out[1]) : NULL, .N = cpu_rows(op->in[0]), .V = cpu_last(op->in[0])};
    SEA_TRY(check_targets(op, c.targets, c.N, c.V));
    cpu_for(c.N, rows_per_chunk(c.V), gather_rows, &c);
    return SEA_OK;
}

sea_status sea_cpu_logsoftmax_gather_backward(const sea_op *op)
{
    if (!op->gin[0] || !op->gout[0]) return SEA_OK;
    sm_ctx c = {.x = cpu_f32(op->in[0]), .targets = cpu_i32(op->in[1]), .g = cpu_f32(op->gout[0]),
                .lse = cpu_f32(op->out[1]), .gx = cpu_f32(op->gin[0]), .N = cpu_rows(op->in[0]), .V = cpu_last(op->in[0])};
    SEA_TRY(check_targets(op, c.targets, c.N, c.V));
    cpu_for(c.N, rows_per_chunk(c.V), gather_bwd_rows, &c);
    return SEA_OK;
}

sea_status sea_cpu_cross_entropy(const sea_op *op)
{
    int64_t N = cpu_rows(op->in[0]);
    double *row_loss = malloc((size_t)(N ? N : 1) * sizeof *row_loss);
    if (!row_loss) return sea_error(SEA_ERR_OOM, "cross_entropy: out of host memory for %lld rows on cpu", (long long)N);
    sm_ctx c = {.x = cpu_f32(op->in[0]), .targets = cpu_i32(op->in[1]), .lse = op->out[1] ? cpu_f32(op->out[1]) : NULL,
                .row_loss = row_loss, .N = N, .V = cpu_last(op->in[0])};
    sea_status st = check_targets(op, c.targets, c.N, c.V);
    if (!st) {
        cpu_for(c.N, rows_per_chunk(c.V), gather_rows, &c);
        double sum = 0;
        int64_t count = 0;
        for (int64_t n = 0; n < N; n++)
            if (c.targets[n] >= 0) {
                sum += row_loss[n];
                count++;
            }
        cpu_f32(op->out[0])[0] = count ? (float)(sum / (double)count) : 0.0f;
    }
    free(row_loss);
    return st;
}

sea_status sea_cpu_cross_entropy_backward(const sea_op *op)
{
    if (!op->gin[0] || !op->gout[0]) return SEA_OK;
    int64_t N = cpu_rows(op->in[0]), count = 0;
    const int32_t *t = cpu_i32(op->in[1]);
    for (int64_t n = 0; n < N; n++) count += t[n] >= 0;
    if (!count) return SEA_OK;
    sm_ctx c = {.x = cpu_f32(op->in[0]), .targets = t, .lse = cpu_f32(op->out[1]), .gx = cpu_f32(op->gin[0]),
                .N = N, .V = cpu_last(op->in[0]), .gscale = cpu_f32(op->gout[0])[0] / (float)count};
    SEA_TRY(check_targets(op, c.targets, c.N, c.V));
    cpu_for(c.N, rows_per_chunk(c.V), gather_bwd_rows, &c);
    return SEA_OK;
}
