/* Elementwise ops: gelu (erf, tanh), silu, relu, scale, swiglu, add and mul with suffix
 * broadcast, and their backward passes. Work is cut into fixed chunks of elements; the
 * broadcast operand's gradient is reduced per column, rows in order (deterministic). */
#include "cpu_internal.h"

#define EW_CHUNK 4096

SEA_CPU_CLONES void sea_cpu_act_rows(sea_act act, float *y, const float *x, int64_t n)
{
    switch (act) {
    case SEA_ACT_GELU: for (int64_t i = 0; i < n; i++) y[i] = sea_cpu_gelu(x[i]); break;
    case SEA_ACT_GELU_TANH: for (int64_t i = 0; i < n; i++) y[i] = sea_cpu_gelu_tanh(x[i]); break;
    case SEA_ACT_RELU: for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0.0f; break;
    case SEA_ACT_SILU: for (int64_t i = 0; i < n; i++) y[i] = sea_cpu_silu(x[i]); break;
    default: for (int64_t i = 0; i < n; i++) y[i] = x[i]; break;
    }
}

/* d act/dx times gout; `acc` selects += (backward into gin) or = (into scratch, whose old
 * contents may be anything: never multiplied, even by 0, since 0 * NaN is NaN). */
#define ACT_GRAD_LOOP(expr)                                             \
    do {                                                                \
        if (accumulate)                                                 \
            for (int64_t i = 0; i < n; i++) g[i] += gout[i] * (expr);   \
        else                                                            \
            for (int64_t i = 0; i < n; i++) g[i] = gout[i] * (expr);    \
    } while (0)

SEA_CPU_CLONES void sea_cpu_act_grad_rows(sea_act act, float *g, const float *gout, const float *x, int64_t n,
                                          bool accumulate)
{
    switch (act) {
    case SEA_ACT_GELU: ACT_GRAD_LOOP(sea_cpu_gelu_grad(x[i])); break;
    case SEA_ACT_GELU_TANH: ACT_GRAD_LOOP(sea_cpu_gelu_tanh_grad(x[i])); break;
    case SEA_ACT_RELU: ACT_GRAD_LOOP(x[i] > 0 ? 1.0f : 0.0f); break;
    case SEA_ACT_SILU: ACT_GRAD_LOOP(sea_cpu_silu_grad(x[i])); break;
    default: ACT_GRAD_LOOP(1.0f); break;
    }
}

static sea_act act_of(const sea_op *op)
{
    switch (op->kind) {
    case SEA_OP_GELU: return op->p.act.approximate ? SEA_ACT_GELU_TANH : SEA_ACT_GELU;
    case SEA_OP_SILU: return SEA_ACT_SILU;
    case SEA_OP_RELU: return SEA_ACT_RELU;
    default: return SEA_ACT_NONE;
    }
}

typedef struct ew_ctx {
    const sea_op *op;
    const float *a, *b, *g;   /* inputs (n) / broadcast b (inner) / gout (n) */
    float *out, *ga, *gb;
    int64_t n, inner;         /* b has `inner` elements, repeated over n / inner rows */
    sea_act act;
    float alpha;
} ew_ctx;

static void unary_fwd(void *vctx, int64_t begin, int64_t end, int tid)
{
    ew_ctx *c = vctx;
    (void)tid;
    int64_t i0 = begin * EW_CHUNK, i1 = end * EW_CHUNK < c->n ? end * EW_CHUNK : c->n;
    if (c->op->kind == SEA_OP_SCALE)
        for (int64_t i = i0; i < i1; i++) c->out[i] = c->alpha * c->a[i];
    else
        sea_cpu_act_rows(c->act, c->out + i0, c->a + i0, i1 - i0);
}

static void unary_bwd(void *vctx, int64_t begin, int64_t end, int tid)
{
    ew_ctx *c = vctx;
    (void)tid;
    int64_t i0 = begin * EW_CHUNK, i1 = end * EW_CHUNK < c->n ? end * EW_CHUNK : c->n;
    if (c->op->kind == SEA_OP_SCALE)
        for (int64_t i = i0; i < i1; i++) c->ga[i] += c->alpha * c->g[i];
    else
        sea_cpu_act_grad_rows(c->act, c->ga + i0, c->g + i0, c->a + i0, i1 - i0, true);
}

static int64_t chunks(int64_t n) { return (n + EW_CHUNK - 1) / EW_CHUNK; }

sea_status sea_cpu_unary(const sea_op *op)
{
    ew_ctx c = {.op = op, .a = cpu_f32(op->in[0]), .out = cpu_f32(op->out[0]), .n = cpu_numel(op->in[0]),
                .act = act_of(op), .alpha = op->p.scale.alpha};
    cpu_for(chunks(c.n), cpu_min_items(EW_CHUNK), unary_fwd, &c);
    return SEA_OK;
}

sea_status sea_cpu_unary_backward(const sea_op *op)
{
    if (!op->gin[0] || !op->gout[0]) return SEA_OK;
    ew_ctx c = {.op = op, .a = cpu_f32(op->in[0]), .g = cpu_f32(op->gout[0]), .ga = cpu_f32(op->gin[0]),
                .n = cpu_numel(op->in[0]), .act = act_of(op), .alpha = op->p.scale.alpha};
    cpu_for(chunks(c.n), cpu_min_items(EW_CHUNK), unary_bwd, &c);
    return SEA_OK;
}

/* ---- swiglu: silu(gate) * up ---- */

static void swiglu_fwd(void *vctx, int64_t begin, int64_t end, int tid)
{
    ew_ctx *c = vctx;
    (void)tid;
    int64_t i0 = begin * EW_CHUNK, i1 = end * EW_CHUNK < c->n ? end * EW_CHUNK : c->n;
    for (int64_t i = i0; i < i1; i++) {
        c->out[i] = sea_cpu_silu(c->a[i]) * c->b[i];
    }
}

static void swiglu_bwd(void *vctx, int64_t begin, int64_t end, int tid)
{
    ew_ctx *c = vctx;
    (void)tid;
    int64_t i0 = begin * EW_CHUNK, i1 = end * EW_CHUNK < c->n ? end * EW_CHUNK : c->n;
    for (int64_t i = i0; i < i1; i++) {
        float x = c->a[i], s = sea_cpu_sigmoid(x), go = c->g[i];
        if (c->ga) c->ga[i] += go * c->b[i] * s * (1.0f + x * (1.0f - s));
        if (c->gb) c->gb[i] += go * x * s;
    }
}

sea_status sea_cpu_swiglu(const sea_op *op)
{
    ew_ctx c = {.op = op, .a = cpu_f32(op->in[0]), .b = cpu_f32(op->in[1]), .out = cpu_f32(op->out[0]),
                .n = cpu_numel(op->in[0])};
    cpu_for(chunks(c.n), cpu_min_items(EW_CHUNK), swiglu_fwd, &c);
    return SEA_OK;
}

sea_status sea_cpu_swiglu_backward(const sea_op *op)
{
    if (!op->gout[0] || (!op->gin[0] && !op->gin[1])) return SEA_OK;
    ew_ctx c = {.op = op, .a = cpu_f32(op->in[0]), .b = cpu_f32(op->in[1]), .g = cpu_f32(op->gout[0]),
                .ga = op->gin[0] ? cpu_f32(op->gin[0]) : NULL, .gb = op->gin[1] ? cpu_f32(op->gin[1]) : NULL,
                .n = cpu_numel(op->in[0])};
    cpu_for(chunks(c.n), cpu_min_items(EW_CHUNK), swiglu_bwd, &c);
    return SEA_OK;
}

/* ---- add / mul with b broadcast over leading dims ---- */

static void binary_fwd(void *vctx, int64_t begin, int64_t end, int tid)
{
    ew_ctx *c = vctx;
    (void)tid;
    bool add = c->op->kind == SEA_OP_ADD;
    if (c->inner == c->n) {
        int64_t i0 = begin * EW_CHUNK, i1 = end * EW_CHUNK < c->n ? end * EW_CHUNK : c->n;
        if (add)
            for (int64_t i = i0; i < i1; i++) c->out[i] = c->a[i] + c->b[i];
        else
            for (int64_t i = i0; i < i1; i++) c->out[i] = c->a[i] * c->b[i];
        return;
    }
    /* items are rows of `inner` elements */
    for (int64_t r = begin; r < end; r++) {
        const float *a = c->a + r * c->inner;
        float *o = c->out + r * c->inner;
        if (add)
            for (int64_t j = 0; j < c->inner; j++) o[j] = a[j] + c->b[j];
        else
            for (int64_t j = 0; j < c->inner; j++) o[j] = a[j] * c->b[j];
    }
}

/* gin[0] elementwise, items as in binary_fwd. */
static void binary_bwd_a(void *vctx, int64_t begin, int64_t end, int tid)
{
    ew_ctx *c = vctx;
    (void)tid;
    bool add = c->op->kind == SEA_OP_ADD;
    int64_t i0, i1;
    if (c->inner == c->n) {
        i0 = begin * EW_CHUNK;
        i1 = end * EW_CHUNK < c->n ? end * EW_CHUNK : c->n;
    } else {
        i0 = begin * c->inner;
        i1 = end * c->inner;
    }
    if (add) {
        for (int64_t i = i0; i < i1; i++) c->ga[i] += c->g[i];
    } else {
        for (int64_t i = i0; i < i1; i++) c->ga[i] += c->g[i] * c->b[i % c->inner];
    }
}

/* gin[1] of a broadcast operand: items are blocks of 64 columns, rows summed in order. */
static void binary_bwd_b(void *vctx, int64_t begin, int64_t end, int tid)
{
    ew_ctx *c = vctx;
    (void)tid;
    bool add = c->op->kind == SEA_OP_ADD;
    int64_t rows = c->n / c->inner;
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t j0 = blk * 64, j1 = j0 + 64 < c->inner ? j0 + 64 : c->inner;
        float acc[64] = {0};
        for (int64_t r = 0; r < rows; r++) {
            const float *g = c->g + r * c->inner, *a = c->a + r * c->inner;
            if (add)
                for (int64_t j = j0; j < j1; j++) acc[j - j0] += g[j];
            else
                for (int64_t j = j0; j < j1; j++) acc[j - j0] += g[j] * a[j];
        }
        for (int64_t j = j0; j < j1; j++) c->gb[j] += acc[j - j0];
    }
}

sea_status sea_cpu_binary(const sea_op *op)
{
    ew_ctx c = {.op = op, .a = cpu_f32(op->in[0]), .b = cpu_f32(op->in[1]), .out = cpu_f32(op->out[0]),
                .n = cpu_numel(op->in[0]), .inner = cpu_numel(op->in[1])};
    if (c.n == 0) return SEA_OK;
    if (c.inner == c.n)
        cpu_for(chunks(c.n), cpu_min_items(EW_CHUNK), binary_fwd, &c);
    else
        cpu_for(c.n / c.inner, cpu_min_items(c.inner), binary_fwd, &c);
    return SEA_OK;
}

sea_status sea_cpu_binary_backward(const sea_op *op)
{
    if (!op->gout[0]) return SEA_OK;
    ew_ctx c = {.op = op, .a = cpu_f32(op->in[0]), .b = cpu_f32(op->in[1]), .g = cpu_f32(op->gout[0]),
                .ga = op->gin[0] ? cpu_f32(op->gin[0]) : NULL, .gb = op->gin[1] ? cpu_f32(op->gin[1]) : NULL,
                .n = cpu_numel(op->in[0]), .inner = cpu_numel(op->in[1])};
    if (c.n == 0) return SEA_OK;
    if (c.ga) {
        if (c.inner == c.n)
            cpu_for(chunks(c.n), cpu_min_items(EW_CHUNK), binary_bwd_a, &c);
        else
            cpu_for(c.n / c.inner, cpu_min_items(c.inner), binary_bwd_a, &c);
    }
    if (c.gb) {
        if (c.inner == c.n) {
            /* same shape: gb is elementwise like ga, with the roles of a and b swapped */
            ew_ctx d = c;
            d.ga = c.gb;
            d.b = c.a;
            cpu_for(chunks(c.n), cpu_min_items(EW_CHUNK), binary_bwd_a, &d);
        } else {
            cpu_for((c.inner + 63) / 64, cpu_min_items(64 * (c.n / c.inner)), binary_bwd_b, &c);
        }
    }
    return SEA_OK;
}
