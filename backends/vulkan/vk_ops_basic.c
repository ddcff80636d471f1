/* Fill, copy/cast, elementwise activations, add/mul/scale with broadcast, embedding,
 * column sums, and the optimizer ops (AdamW, global norm, clip). */
#include <math.h>
#include <string.h>

#include "vk_internal.h"

#define DEV(s) ((vk_dev *)(s)->dev->ctx)

static sea_status check_u32(const char *op, const sea_device *dev, uint64_t n, const char *what)
{
    if (n > 0x7fffffffu)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s on %s: %s %llu exceeds the 2^31 elements one dispatch addresses", op,
                         sea_device_label(dev), what, (unsigned long long)n);
    return SEA_OK;
}

/* Pad a tensor's shape/strides to 4 dims (outermost first) for the strided shaders. */
static void shape4(const sea_tensor *t, uint32_t shape[4], uint32_t stride[4])
{
    int pad = 4 - t->ndim;
    for (int i = 0; i < 4; i++) {
        shape[i] = i < pad ? 1u : (uint32_t)t->shape[i - pad];
        stride[i] = i < pad ? 0u : (uint32_t)t->stride[i - pad];
    }
}

sea_status vk_fill(sea_stream *s, const sea_op *op)
{
    vk_dev *d = DEV(s);
    const sea_tensor *t = op->out[0];
    int64_t n = sea_tensor_numel(t);
    if (n == 0) return SEA_OK;
    SEA_TRY(check_u32("fill", s->dev, (uint64_t)n, "numel"));
    struct {
        uint32_t shape[4], stride[4], off, esize, bits, n;
    } pc;
    vk_binding b;
    SEA_TRY(vk_bind_tensor(d, t, "fill", "out", &b));
    shape4(t, pc.shape, pc.stride);
    double v = op->p.fill.value;
    switch (t->dtype) {
    case SEA_F32: {
        float f = (float)v;
        memcpy(&pc.bits, &f, 4);
        break;
    }
    case SEA_BF16: pc.bits = sea_f32_to_bf16((float)v); break;
    case SEA_F16: pc.bits = sea_f32_to_f16((float)v); break;
    default: pc.bits = (uint32_t)(int32_t)llrint(v); break;
    }
    pc.off = b.elem;
    pc.esize = (uint32_t)sea_dtype_size(t->dtype);
    pc.n = (uint32_t)n;
    uint32_t gx, gy;
    vk_grid_1d(d, (uint64_t)n, 256, &gx, &gy);
    return vk_dispatch(s, VK_SH_FILL, NULL, &b, 1, &pc, sizeof pc, gx, gy, 1);
}

sea_status vk_copy(sea_stream *s, const sea_tensor *in, const sea_tensor *out, bool accumulate, const char *opname)
{
    vk_dev *d = DEV(s);
    int64_t n = sea_tensor_numel(out);
    if (n == 0) return SEA_OK;
    SEA_TRY(check_u32(opname, s->dev, (uint64_t)n, "numel"));
    struct {
        uint32_t shape[4], istride[4], ostride[4], ioff, ooff, idt, odt, acc, n;
    } pc;
    vk_binding b[2];
    SEA_TRY(vk_bind_tensor(d, in, opname, "in", &b[0]));
    SEA_TRY(vk_bind_tensor(d, out, opname, "out", &b[1]));
    uint32_t dummy[4];
    shape4(out, pc.shape, pc.ostride);
    shape4(in, dummy, pc.istride);
    pc.ioff = b[0].elem;
    pc.ooff = b[1].elem;
    pc.idt = (uint32_t)in->dtype;
    pc.odt = (uint32_t)out->dtype;
    pc.acc = accumulate;
    pc.n = (uint32_t)n;
    uint32_t gx, gy;
    vk_grid_1d(d, (uint64_t)n, 256, &gx, &gy);
    return vk_dispatch(s, VK_SH_COPY, NULL, b, 2, &pc, sizeof pc, gx, gy, 1);
}

typedef struct unary_pc {
    uint32_t n, mode, act, acc;
    float alpha;
    uint32_t ox, oy, og, oo;
} unary_pc;

/* One unary.comp dispatch over contiguous f32 tensors (any of x, y, g may be NULL). */
static sea_status unary_run(sea_stream *s, const char *opname, uint32_t mode, uint32_t act, bool acc, float alpha,
                            const sea_tensor *x, const sea_tensor *y, const sea_tensor *g, const sea_tensor *o)
{
    vk_dev *d = DEV(s);
    int64_t n = sea_tensor_numel(o);
    if (n == 0) return SEA_OK;
    SEA_TRY(check_u32(opname, s->dev, (uint64_t)n, "numel"));
    vk_binding b[4] = {{0}};
    const sea_tensor *ts[4] = {x, y, g, o};
    static const char *const names[4] = {"x", "y", "grad", "out"};
    for (int i = 0; i < 4; i++)
        if (ts[i]) SEA_TRY(vk_bind_tensor(d, ts[i], opname, names[i], &b[i]));
    unary_pc pc = {(uint32_t)n, mode, act, acc, alpha, b[0].elem, b[1].elem, b[2].elem, b[3].elem};
    uint32_t gx, gy;
    vk_grid_1d(d, (uint64_t)n, 256, &gx, &gy);
    return vk_dispatch(s, VK_SH_UNARY, NULL, b, 4, &pc, sizeof pc, gx, gy, 1);
}

/* The same over raw bindings (temporaries of matmul / ensemble backward). */
sea_status vk_unary_raw(sea_stream *s, uint32_t mode, uint32_t act, bool acc, float alpha, uint32_t n, vk_binding x,
                        vk_binding g, vk_binding o)
{
    if (n == 0) return SEA_OK;
    vk_binding b[4] = {x, {0}, g, o};
    unary_pc pc = {n, mode, act, acc, alpha, x.elem, 0, g.elem, o.elem};
    uint32_t gx, gy;
    vk_grid_1d(DEV(s), n, 256, &gx, &gy);
    return vk_dispatch(s, VK_SH_UNARY, NULL, b, 4, &pc, sizeof pc, gx, gy, 1);
}

static uint32_t act_of(const sea_op *op)
{
    switch (op->kind) {
    case SEA_OP_GELU: return op->p.act.approximate ? SEA_ACT_GELU_TANH : SEA_ACT_GELU;
    case SEA_OP_SILU: return SEA_ACT_SILU;
    case SEA_OP_RELU: return SEA_ACT_RELU;
    default: return SEA_ACT_NONE;
    }
}

sea_status vk_unary(sea_stream *s, const sea_op *op, bool backward)
{
    const char *name = sea_op_name(op->kind);
    if (!backward) {
        if (op->kind == SEA_OP_SCALE) return unary_run(s, name, 1, 0, false, op->p.scale.alpha, op->in[0], NULL, NULL, op->out[0]);
        if (op->kind == SEA_OP_SWIGLU) return unary_run(s, name, 2, 0, false, 0, op->in[0], op->in[1], NULL, op->out[0]);
        return unary_run(s, name, 0, act_of(op), false, 0, op->in[0], NULL, NULL, op->out[0]);
    }
    const sea_tensor *g = op->gout[0];
    if (!g) return SEA_OK;
    if (op->kind == SEA_OP_SCALE)
        return op->gin[0] ? unary_run(s, name, 4, 0, true, op->p.scale.alpha, NULL, NULL, g, op->gin[0]) : SEA_OK;
    if (op->kind == SEA_OP_SWIGLU) {
        if (op->gin[0]) SEA_TRY(unary_run(s, name, 5, 0, true, 0, op->in[0], op->in[1], g, op->gin[0]));
        if (op->gin[1]) SEA_TRY(unary_run(s, name, 6, 0, true, 0, op->in[0], NULL, g, op->gin[1]));
        return SEA_OK;
    }
    return op->gin[0] ? unary_run(s, name, 3, act_of(op), true, 0, op->in[0], NULL, g, op->gin[0]) : SEA_OK;
}

typedef struct binary_pc {
    uint32_t n, nb, mode, pad, oa, ob, og, oo;
} binary_pc;

static sea_status binary_run(sea_stream *s, const char *opname, uint32_t mode, const sea_tensor *a, const sea_tensor *bt,
                             const sea_tensor *g, const sea_tensor *o, uint64_t nb)
{
    vk_dev *d = DEV(s);
    int64_t n = sea_tensor_numel(o);
    if (n == 0) return SEA_OK;
    SEA_TRY(check_u32(opname, s->dev, (uint64_t)n, "numel"));
    vk_binding b[4] = {{0}};
    const sea_tensor *ts[4] = {a, bt, g, o};
    static const char *const names[4] = {"a", "b", "grad", "out"};
    for (int i = 0; i < 4; i++)
        if (ts[i]) SEA_TRY(vk_bind_tensor(d, ts[i], opname, names[i], &b[i]));
    binary_pc pc = {(uint32_t)n, (uint32_t)(nb ? nb : 1), mode, 0, b[0].elem, b[1].elem, b[2].elem, b[3].elem};
    uint32_t gx, gy;
    vk_grid_1d(d, (uint64_t)n, 256, &gx, &gy);
    return vk_dispatch(s, VK_SH_BINARY, NULL, b, 4, &pc, sizeof pc, gx, gy, 1);
}

sea_status vk_binary(sea_stream *s, const sea_op *op, bool backward)
{
    const char *name = sea_op_name(op->kind);
    const sea_tensor *a = op->in[0], *bt = op->in[1];
    uint64_t n = (uint64_t)sea_tensor_numel(a), nb = (uint64_t)sea_tensor_numel(bt);
    bool mul = op->kind == SEA_OP_MUL;
    if (!backward) return binary_run(s, name, mul ? 1 : 0, a, bt, NULL, op->out[0], nb);
    const sea_tensor *g = op->gout[0];
    if (!g || n == 0) return SEA_OK;
    if (op->gin[0]) SEA_TRY(binary_run(s, name, mul ? 3 : 2, NULL, mul ? bt : NULL, g, op->gin[0], nb));
    if (op->gin[1]) {
        if (nb == n) return binary_run(s, name, mul ? 3 : 2, NULL, mul ? a : NULL, g, op->gin[1], n);
        /* Broadcast: reduce over the leading rows in a fixed order. */
        vk_dev *d = DEV(s);
        vk_binding bg, ba = {0}, bo;
        SEA_TRY(vk_bind_tensor(d, g, name, "grad", &bg));
        if (mul) SEA_TRY(vk_bind_tensor(d, a, name, "a", &ba));
        SEA_TRY(vk_bind_tensor(d, op->gin[1], name, "grad of b", &bo));
        return vk_colsum(s, bg, ba, mul, bo, (uint32_t)(n / nb), (uint32_t)nb, (uint32_t)nb, true);
    }
    return SEA_OK;
}

typedef struct colsum_pc {
    uint32_t rows, cols, sr, sj, sgb, sob, has_a, acc, og, oa, oo;
} colsum_pc;

sea_status vk_colsum_batched(sea_stream *s, vk_binding g, vk_binding a, bool has_a, vk_binding out, uint32_t rows,
                             uint32_t cols, uint32_t sr, uint32_t sj, uint32_t batch, uint32_t sgb, uint32_t sob, bool acc)
{
    if (cols == 0 || batch == 0) return SEA_OK;
    vk_binding b[3] = {g, has_a ? a : (vk_binding){0}, out};
    colsum_pc pc = {rows, cols, sr, sj, sgb, sob, has_a, acc, g.elem, has_a ? a.elem : 0, out.elem};
    return vk_dispatch(s, VK_SH_COLSUM, NULL, b, 3, &pc, sizeof pc, (cols + 63) / 64, batch, 1);
}

sea_status vk_colsum(sea_stream *s, vk_binding g, vk_binding a, bool has_a, vk_binding out, uint32_t rows, uint32_t cols,
                     uint32_t ld, bool accumulate)
{
    return vk_colsum_batched(s, g, a, has_a, out, rows, cols, ld, 1, 1, 0, 0, accumulate);
}

sea_status vk_embedding(sea_stream *s, const sea_op *op, bool backward)
{
    vk_dev *d = DEV(s);
    const sea_tensor *table = op->in[0], *ids = op->in[1];
    uint64_t V = (uint64_t)table->shape[0], D = (uint64_t)table->shape[1], N = (uint64_t)sea_tensor_numel(ids);
    const sea_tensor *tt = backward ? op->gin[0] : table, *o = backward ? op->gout[0] : op->out[0];
    if (!tt || !o || N == 0 || D == 0) return SEA_OK;
    SEA_TRY(check_u32("embedding", s->dev, N * D, "numel"));
    /* Rows of the table per dispatch: all of them, or as many as one binding holds. */
    uint64_t per = V;
    if (V * D * 4 > d->max_range && sea_tensor_is_contiguous(tt)) per = vk_rows_per_binding(d, D * 4);
    if (per == 0) per = 1;
    vk_binding b[3];
    SEA_TRY(vk_bind_tensor(d, ids, "embedding", "ids", &b[1]));
    SEA_TRY(vk_bind_tensor(d, o, "embedding", backward ? "grad of out" : "out", &b[2]));
    for (uint64_t v0 = 0; v0 < V || v0 == 0; v0 += per) {
        uint64_t len = V - v0 < per ? V - v0 : per;
        sea_tensor chunk = *tt;
        if (per < V) SEA_TRY(sea_tensor_slice(tt, 0, (int64_t)v0, (int64_t)len, &chunk));
        SEA_TRY(vk_bind_tensor(d, &chunk, "embedding", backward ? "grad of table" : "table", &b[0]));
        struct {
            uint32_t N, D, V, mode, ot, oi, oo, v0, Vtot;
        } pc = {(uint32_t)N, (uint32_t)D, (uint32_t)len, backward, b[0].elem, b[1].elem, b[2].elem, (uint32_t)v0, (uint32_t)V};
        uint32_t gx, gy;
        vk_grid_1d(d, backward ? D : N * D, 256, &gx, &gy);
        SEA_TRY(vk_dispatch(s, VK_SH_EMBEDDING, NULL, b, 3, &pc, sizeof pc, gx, gy, 1));
        if (V == 0) break;
    }
    return SEA_OK;
}

typedef struct optim_pc {
    uint32_t n, mode, pad0, pad1;
    float lr, b1, b2, eps, wd, l2, bc1, bc2;
    uint32_t oa, ob, oc, od;
} optim_pc;

#define GNORM_CHUNK 4096u

sea_status vk_optim(sea_stream *s, const sea_op *op)
{
    vk_dev *d = DEV(s);
    const char *name = sea_op_name(op->kind);
    optim_pc pc = {0};
    vk_binding b[4] = {{0}};
    uint32_t gx, gy;
    if (op->kind == SEA_OP_ADAMW) {
        int64_t n = sea_tensor_numel(op->in[0]);
        if (n == 0) return SEA_OK;
        SEA_TRY(check_u32(name, s->dev, (uint64_t)n, "numel"));
        SEA_TRY(vk_bind_tensor(d, op->in[0], name, "grad", &b[0]));
        SEA_TRY(vk_bind_tensor(d, op->out[0], name, "param", &b[1]));
        SEA_TRY(vk_bind_tensor(d, op->out[1], name, "m", &b[2]));
        SEA_TRY(vk_bind_tensor(d, op->out[2], name, "v", &b[3]));
        const __typeof__(op->p.adamw) *a = &op->p.adamw;
        pc = (optim_pc){(uint32_t)n, 0, 0, 0, a->lr, a->beta1, a->beta2, a->eps, a->weight_decay, a->l2,
                        (float)(1.0 - pow(a->beta1, a->step)), (float)(1.0 - pow(a->beta2, a->step)),
                        b[0].elem, b[1].elem, b[2].elem, b[3].elem};
        vk_grid_1d(d, (uint64_t)n, d->row_wg, &gx, &gy);
        return vk_dispatch(s, VK_SH_OPTIM, NULL, b, 4, &pc, sizeof pc, gx, gy, 1);
    }
    if (op->kind == SEA_OP_GLOBAL_NORM) {
        /* Stage 1 over chunks of at most one binding (whole 4096-element blocks). */
        int64_t n = sea_tensor_numel(op->in[0]);
        uint32_t chunks = (uint32_t)((n + GNORM_CHUNK - 1) / GNORM_CHUNK);
        vk_alloc part;
        SEA_TRY(vk_temp(s, (VkDeviceSize)(chunks ? chunks : 1) * 4, &part));
        int64_t span = vk_flat_chunk(d, 4);
        for (int64_t s0 = 0; s0 < n; s0 += span) {
            int64_t len = n - s0 < span ? n - s0 : span;
            sea_tensor view;
            SEA_TRY(vk_flat_view(op->in[0], s0, len, &view));
            SEA_TRY(check_u32(name, s->dev, (uint64_t)len, "chunk"));
            SEA_TRY(vk_bind_tensor(d, &view, name, "x", &b[0]));
            b[1] = vk_bind_alloc(&part);
            uint32_t nchunks = (uint32_t)((len + GNORM_CHUNK - 1) / GNORM_CHUNK);
            pc = (optim_pc){.n = (uint32_t)len, .mode = 1, .oa = b[0].elem, .ob = (uint32_t)(s0 / GNORM_CHUNK)};
            vk_grid_1d(d, nchunks, 1, &gx, &gy);
            SEA_TRY(vk_dispatch(s, VK_SH_OPTIM, NULL, b, 2, &pc, sizeof pc, gx, gy, 1));
        }
        vk_binding f[3] = {vk_bind_dummy(d), vk_bind_alloc(&part), {0}};
        SEA_TRY(vk_bind_tensor(d, op->out[0], name, "out", &f[2]));
        pc = (optim_pc){.n = chunks, .mode = 2, .ob = 0, .oc = f[2].elem};
        return vk_dispatch(s, VK_SH_OPTIM, NULL, f, 3, &pc, sizeof pc, 1, 1, 1);
    }
    /* clip */
    int64_t n = sea_tensor_numel(op->out[0]);
    if (n == 0) return SEA_OK;
    SEA_TRY(check_u32(name, s->dev, (uint64_t)n, "numel"));
    SEA_TRY(vk_bind_tensor(d, op->out[0], name, "grad", &b[0]));
    SEA_TRY(vk_bind_tensor(d, op->in[0], name, "norm", &b[1]));
    pc = (optim_pc){.n = (uint32_t)n, .mode = 3, .lr = op->p.clip.max_norm, .oa = b[0].elem, .ob = b[1].elem};
    vk_grid_1d(d, (uint64_t)n, d->row_wg, &gx, &gy);
    return vk_dispatch(s, VK_SH_OPTIM, NULL, b, 2, &pc, sizeof pc, gx, gy, 1);
}
