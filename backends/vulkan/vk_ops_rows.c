/* Row-wise ops (one workgroup per row, fixed-order reductions): layernorm, rmsnorm, softmax,
 * log-softmax gather, cross-entropy, masked sums, sampling; and rotary embeddings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define DEV(s) ((vk_dev *)(s)->dev->ctx)

static int64_t last_dim(const sea_tensor *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }
static int64_t n_rows(const sea_tensor *t)
{
    int64_t d = last_dim(t);
    return d ? sea_tensor_numel(t) / d : 0;
}

static sea_status rows_fit(const char *op, const sea_device *dev, int64_t rows, int64_t cols)
{
    if ((uint64_t)rows * (uint64_t)(cols ? cols : 1) > 0x7fffffffu)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s on %s: (%lld, %lld) exceeds 2^31 elements", op, sea_device_label(dev),
                         (long long)rows, (long long)cols);
    return SEA_OK;
}

/* norm.comp's push constants: the ten bindings' element offsets among them. */
typedef struct norm_pc {
    uint32_t N, D, mode, flags;
    float eps;
    uint32_t ox, ow, ob, oy, om, orr, ogx, ogb, ow2, ob2;
} norm_pc;

#define NORM_BINDINGS 10

static sea_status norm_dispatch(sea_stream *s, const vk_binding *b, norm_pc *pc, uint64_t groups, uint32_t per_group)
{
    vk_dev *d = DEV(s);
    pc->ox = b[0].elem, pc->ow = b[1].elem, pc->ob = b[2].elem, pc->oy = b[3].elem, pc->om = b[4].elem;
    pc->orr = b[5].elem, pc->ogx = b[6].elem, pc->ogb = b[7].elem, pc->ow2 = b[8].elem, pc->ob2 = b[9].elem;
    uint32_t gx, gy;
    vk_grid_1d(d, groups, per_group, &gx, &gy);
    return vk_dispatch(s, VK_SH_NORM, NULL, b, NORM_BINDINGS, pc, sizeof *pc, gx, gy, 1);
}

/* Weight and bias gradients of one affine (mode 4/5: one invocation per column) from its
 * output gradient g; b[] holds x, mean and rstd already. */
static sea_status norm_affine_grads(sea_stream *s, const char *name, bool ln, const sea_tensor *g, sea_tensor *gw,
                                    sea_tensor *gb, vk_binding *b, norm_pc *pc)
{
    vk_dev *d = DEV(s);
    if (!gw && !gb) return SEA_OK;
    pc->mode = ln ? 4 : 5;
    pc->flags = (gw ? 2u : 0u) | (gb ? 1u : 0u);
    b[3] = b[6] = b[7] = b[8] = b[9] = (vk_binding){0};
    SEA_TRY(vk_bind_tensor(d, g, name, "grad of out", &b[3]));
    if (gw) SEA_TRY(vk_bind_tensor(d, gw, name, "grad of weight", &b[6]));
    if (gb) SEA_TRY(vk_bind_tensor(d, gb, name, "grad of bias", &b[7]));
    return norm_dispatch(s, b, pc, (uint64_t)pc->D, d->row_wg);
}

sea_status vk_norm(sea_stream *s, const sea_op *op, bool backward)
{
    vk_dev *d = DEV(s);
    bool ln = op->kind == SEA_OP_LAYERNORM;
    const char *name = sea_op_name(op->kind);
    const sea_tensor *x = op->in[0];
    int64_t D = last_dim(x), N = n_rows(x);
    if (N == 0 || D == 0) return SEA_OK;
    SEA_TRY(rows_fit(name, s->dev, N, D));
    const sea_tensor *mean = ln ? op->out[1] : NULL, *rstd = ln ? op->out[2] : op->out[1];
    /* a layernorm pair's second affine (op.h); its gradient g2 may be absent (zero) */
    const sea_tensor *w2 = ln ? op->in[3] : NULL, *g2 = w2 && backward ? op->gout[3] : NULL;
    norm_pc pc = {.N = (uint32_t)N, .D = (uint32_t)D, .eps = op->p.norm.eps};
    vk_binding b[NORM_BINDINGS] = {{0}};
    SEA_TRY(vk_bind_tensor(d, x, name, "x", &b[0]));
    SEA_TRY(vk_bind_tensor(d, op->in[1], name, "weight", &b[1]));
    if (ln && op->in[2]) {
        SEA_TRY(vk_bind_tensor(d, op->in[2], name, "bias", &b[2]));
        pc.flags |= 1;
    }
    if (mean) {
        SEA_TRY(vk_bind_tensor(d, mean, name, "mean", &b[4]));
        pc.flags |= 4;
    }
    if (rstd) {
        SEA_TRY(vk_bind_tensor(d, rstd, name, "rstd", &b[5]));
        pc.flags |= 8;
    }
    if (!backward) {
        SEA_TRY(vk_bind_tensor(d, op->out[0], name, "out", &b[3]));
        if (w2) {
            SEA_TRY(vk_bind_tensor(d, w2, name, "weight2", &b[8]));
            SEA_TRY(vk_bind_tensor(d, op->out[3], name, "out2", &b[7]));
            pc.flags |= 16;
            if (op->in[4]) {
                SEA_TRY(vk_bind_tensor(d, op->in[4], name, "bias2", &b[9]));
                pc.flags |= 32;
            }
        }
        pc.mode = ln ? 0 : 1;
        return norm_dispatch(s, b, &pc, (uint64_t)N, 1);
    }
    const sea_tensor *g = op->gout[0];
    if (!g && !g2) return SEA_OK;
    if (op->gin[0]) {
        if (g) SEA_TRY(vk_bind_tensor(d, g, name, "grad of out", &b[3]));
        else pc.flags |= 64;
        if (g2) {
            SEA_TRY(vk_bind_tensor(d, g2, name, "grad of out2", &b[7]));
            SEA_TRY(vk_bind_tensor(d, w2, name, "weight2", &b[8]));
            pc.flags |= 16;
        }
        SEA_TRY(vk_bind_tensor(d, op->gin[0], name, "grad of x", &b[6]));
        pc.mode = ln ? 2 : 3;
        SEA_TRY(norm_dispatch(s, b, &pc, (uint64_t)N, 1));
    }
    if (g) SEA_TRY(norm_affine_grads(s, name, ln, g, op->gin[1], ln && op->in[2] ? op->gin[2] : NULL, b, &pc));
    if (g2) SEA_TRY(norm_affine_grads(s, name, ln, g2, op->gin[3], op->in[4] ? op->gin[4] : NULL, b, &pc));
    return SEA_OK;
}

sea_status vk_softmax(sea_stream *s, const sea_op *op, bool backward)
{
    vk_dev *d = DEV(s);
    const sea_tensor *x = op->in[0];
    int64_t D = last_dim(x), N = n_rows(x);
    if (N == 0 || D == 0) return SEA_OK;
    SEA_TRY(rows_fit("softmax", s->dev, N, D));
    vk_binding b[3] = {{0}};
    if (!backward) {
        SEA_TRY(vk_bind_tensor(d, x, "softmax", "x", &b[0]));
        SEA_TRY(vk_bind_tensor(d, op->out[0], "softmax", "out", &b[2]));
    } else {
        if (!op->gout[0] || !op->gin[0]) return SEA_OK;
        SEA_TRY(vk_bind_tensor(d, op->out[0], "softmax backward", "out", &b[0]));
        SEA_TRY(vk_bind_tensor(d, op->gout[0], "softmax backward", "grad of out", &b[1]));
        SEA_TRY(vk_bind_tensor(d, op->gin[0], "softmax backward", "grad of x", &b[2]));
    }
    struct {
        uint32_t N, D, mode, pad, ox, og, oo;
    } pc = {(uint32_t)N, (uint32_t)D, backward, 0, b[0].elem, b[1].elem, b[2].elem};
    uint32_t gx, gy;
    vk_grid_1d(d, (uint64_t)N, 1, &gx, &gy);
    return vk_dispatch(s, VK_SH_SOFTMAX, NULL, b, 3, &pc, sizeof pc, gx, gy, 1);
}

/* Element offsets of the five logsoftmax.comp bindings into its push constants. */
#define LPC() pc.ox = b[0].elem, pc.ot = b[1].elem, pc.ol = b[2].elem, pc.oo = b[3].elem, pc.og = b[4].elem

sea_status vk_logsoftmax(sea_stream *s, const sea_op *op, bool backward)
{
    vk_dev *d = DEV(s);
    bool ce = op->kind == SEA_OP_CROSS_ENTROPY;
    const char *name = sea_op_name(op->kind);
    const sea_tensor *x = op->in[0];
    int64_t V = last_dim(x), N = n_rows(x);
    SEA_TRY(rows_fit(name, s->dev, N, V));
    struct {
        uint32_t N, V, mode, flags, ox, ot, ol, oo, og;
    } pc = {(uint32_t)N, (uint32_t)V, 0, 0, 0, 0, 0, 0, 0};
    vk_binding b[5] = {{0}};
    SEA_TRY(vk_bind_tensor(d, x, name, "logits", &b[0]));
    SEA_TRY(vk_bind_tensor(d, op->in[1], name, "targets", &b[1]));
    vk_alloc tmp;
    if (op->out[1]) {
        SEA_TRY(vk_bind_tensor(d, op->out[1], name, "lse", &b[2]));
    } else {
        SEA_TRY(vk_temp(s, (VkDeviceSize)(N ? N : 1) * 4, &tmp));
        b[2] = vk_bind_alloc(&tmp);
    }
    uint32_t gx, gy;
    vk_grid_1d(d, (uint64_t)N, 1, &gx, &gy);
    if (!backward) {
        if (op->out[0] && !ce) {
            SEA_TRY(vk_bind_tensor(d, op->out[0], name, "logp", &b[3]));
            pc.flags = 1;
        }
        LPC();
        if (N && V) SEA_TRY(vk_dispatch(s, VK_SH_LOGSOFTMAX, NULL, b, 5, &pc, sizeof pc, gx, gy, 1));
        if (!ce) return SEA_OK;
        SEA_TRY(vk_bind_tensor(d, op->out[0], name, "loss", &b[3]));
        pc.mode = 1;
        pc.flags = 0;
        LPC();
        return vk_dispatch(s, VK_SH_LOGSOFTMAX, NULL, b, 5, &pc, sizeof pc, 1, 1, 1);
    }
    if (!op->gout[0] || !op->gin[0] || N == 0 || V == 0) return SEA_OK;
    SEA_TRY(vk_bind_tensor(d, op->gin[0], name, "grad of logits", &b[3]));
    SEA_TRY(vk_bind_tensor(d, op->gout[0], name, ce ? "grad of loss" : "grad of logp", &b[4]));
    pc.mode = ce ? 3 : 2;
    LPC();
    return vk_dispatch(s, VK_SH_LOGSOFTMAX, NULL, b, 5, &pc, sizeof pc, gx, gy, 1);
}

sea_status vk_masked_sum(sea_stream *s, const sea_op *op, bool backward)
{
    vk_dev *d = DEV(s);
    const sea_tensor *x = op->in[0];
    int64_t B = x->ndim >= 1 ? x->shape[0] : 1;
    int64_t T = B ? sea_tensor_numel(x) / B : 0;
    if (B == 0) return SEA_OK;
    SEA_TRY(rows_fit("masked_sum", s->dev, B, T));
    vk_binding b[4] = {{0}};
    SEA_TRY(vk_bind_tensor(d, x, "masked_sum", "x", &b[0]));
    SEA_TRY(vk_bind_tensor(d, op->in[1], "masked_sum", "mask", &b[1]));
    if (!backward) {
        SEA_TRY(vk_bind_tensor(d, op->out[0], "masked_sum", "out", &b[2]));
    } else {
        if (!op->gout[0] || !op->gin[0] || T == 0) return SEA_OK;
        SEA_TRY(vk_bind_tensor(d, op->gout[0], "masked_sum", "grad of out", &b[2]));
        SEA_TRY(vk_bind_tensor(d, op->gin[0], "masked_sum", "grad of x", &b[3]));
    }
    struct {
        uint32_t B, T, mode, mean, ox, om, oo, ogx;
    } pc = {(uint32_t)B, (uint32_t)T, backward, op->p.masked.mean, b[0].elem, b[1].elem, b[2].elem, b[3].elem};
    uint32_t gx, gy;
    vk_grid_1d(d, (uint64_t)B, 1, &gx, &gy);
    return vk_dispatch(s, VK_SH_MASKED_SUM, NULL, b, 4, &pc, sizeof pc, gx, gy, 1);
}

sea_status vk_sample(sea_stream *s, const sea_op *op)
{
    vk_dev *d = DEV(s);
    const sea_tensor *x = op->in[0];
    int64_t B = x->shape[0], V = x->shape[1];
    if (B == 0) return SEA_OK;
    if (V == 0) return sea_error(SEA_ERR_SHAPE, "sample: logits (%lld, 0) f32 has no vocabulary on %s", (long long)B, d->label);
    SEA_TRY(rows_fit("sample", s->dev, B, V));
    vk_binding b[4] = {{0}};
    SEA_TRY(vk_bind_tensor(d, x, "sample", "logits", &b[0]));
    SEA_TRY(vk_bind_tensor(d, op->in[1], "sample", "seq_ids", &b[1]));
    SEA_TRY(vk_bind_tensor(d, op->out[0], "sample", "tokens", &b[2]));
    if (op->out[1]) SEA_TRY(vk_bind_tensor(d, op->out[1], "sample", "logp", &b[3]));
    const __typeof__(op->p.sample) *p = &op->p.sample;
    struct {
        uint32_t B, V, top_k, flags;
        float temperature, top_p;
        uint32_t seed_lo, seed_hi, step;
        uint32_t ox, os, ot, ol;
    } pc = {(uint32_t)B, (uint32_t)V, p->top_k > 0 ? (uint32_t)p->top_k : 0u, op->out[1] != NULL,
            p->temperature, p->top_p, (uint32_t)p->seed, (uint32_t)(p->seed >> 32), p->step,
            b[0].elem, b[1].elem, b[2].elem, b[3].elem};
    uint32_t gx, gy;
    vk_grid_1d(d, (uint64_t)B, 1, &gx, &gy);
    return vk_dispatch(s, VK_SH_SAMPLE, NULL, b, 4, &pc, sizeof pc, gx, gy, 1);
}

/* Inverse frequencies in float64 (as backends/cpu/cpu_rope.c), uploaded as 64-bit fixed-point
 * fractions of a turn (see shaders/rope.comp); cached per device for the last parameter set
 * (a model uses one). The cache is not locked: streams of one device that run rope with
 * different parameters from different threads at once would race on it. */
static sea_status rope_freqs(sea_stream *s, const sea_op *op, vk_binding *out)
{
    vk_dev *d = DEV(s);
    const __typeof__(op->p.rope) *r = &op->p.rope;
    double key[8] = {r->rot_dims, r->theta, r->scaling, r->factor, r->low_freq_factor, r->high_freq_factor,
                     r->original_max_pos, 0};
    if (!d->rope_valid || memcmp(key, d->rope_key, sizeof key)) {
        int half = r->rot_dims / 2;
        uint32_t *f = malloc((size_t)half * 2 * sizeof *f);
        if (!f) return sea_error(SEA_ERR_OOM, "rope on %s: out of host memory for %d frequencies", d->label, half);
        for (int i = 0; i < half; i++) {
            double v = pow((double)r->theta, -2.0 * i / r->rot_dims);
            if (r->scaling == SEA_ROPE_SCALING_LLAMA3) {
                double old = r->original_max_pos, lf = r->low_freq_factor, hf = r->high_freq_factor;
                double wavelen = 2.0 * M_PI / v;
                if (wavelen > old / lf) {
                    v = v / r->factor;
                } else if (wavelen >= old / hf) {
                    double smooth = (old / wavelen - lf) / (hf - lf);
                    v = (1.0 - smooth) * v / r->factor + smooth * v;
                }
            }
            long double turns = (long double)v / (2.0L * 3.141592653589793238462643383279502884L);
            turns -= floorl(turns);
            long double scaled = turns * 18446744073709551616.0L;
            uint64_t G = scaled >= 18446744073709551615.0L ? UINT64_MAX : (uint64_t)scaled;
            f[2 * i] = (uint32_t)G;
            f[2 * i + 1] = (uint32_t)(G >> 32);
        }
        /* The old table may still be read by recorded work: retire it with the batch. */
        if (d->rope_valid) {
            sea_status st = vk_temp_adopt(s, &d->rope_freq);
            if (st) {
                free(f);
                return st;
            }
        }
        d->rope_valid = false;
        sea_status st = vk_mem_alloc(d, (VkDeviceSize)half * 8, false, &d->rope_freq);
        if (!st) {
            sea_buffer tmp = {.dev = s->dev, .size = (size_t)half * 8, .handle = &d->rope_freq};
            st = vk_buffer_write(s, &tmp, 0, f, (size_t)half * 8);
            if (st) vk_mem_free(d, &d->rope_freq);
        }
        free(f);
        if (st) return st;
        memcpy(d->rope_key, key, sizeof key);
        d->rope_valid = true;
    }
    *out = vk_bind_alloc(&d->rope_freq);
    return SEA_OK;
}

sea_status vk_rope(sea_stream *s, const sea_op *op, bool backward)
{
    vk_dev *d = DEV(s);
    const sea_tensor *x = op->in[0];
    const sea_tensor *src = backward ? op->gout[0] : x, *dst = backward ? op->gin[0] : op->out[0];
    if (!src || !dst) return SEA_OK;
    int64_t n = sea_tensor_numel(x);
    if (n == 0) return SEA_OK;
    SEA_TRY(rows_fit("rope", s->dev, n, 1));
    /* The shader computes each element from its pair's two inputs, one invocation per
     * element: in place (op.h allows out == x) it would read a partner already rotated, so
     * x goes to a temporary first. */
    vk_alloc tmp_alloc;
    sea_buffer tmp_buf;
    sea_tensor tmp;
    if (src->buf == dst->buf && src->offset == dst->offset) {
        SEA_TRY(vk_temp_tensor(s, src->dtype, src->ndim, src->shape, &tmp_buf, &tmp_alloc, &tmp));
        SEA_TRY(vk_copy(s, src, &tmp, false, "rope"));
        src = &tmp;
    }
    vk_binding b[4];
    SEA_TRY(vk_bind_tensor(d, src, "rope", backward ? "grad of out" : "x", &b[0]));
    SEA_TRY(vk_bind_tensor(d, op->in[1], "rope", "positions", &b[1]));
    SEA_TRY(rope_freqs(s, op, &b[2]));
    SEA_TRY(vk_bind_tensor(d, dst, "rope", backward ? "grad of x" : "out", &b[3]));
    struct {
        uint32_t B, T, H, hd, rot, style, acc;
        float sign;
        uint32_t ssb, sst, ssh, sdb, sdt, sdh;
        uint32_t os, op, of, od;
    } pc = {(uint32_t)x->shape[0], (uint32_t)x->shape[1], (uint32_t)x->shape[2], (uint32_t)x->shape[3],
            (uint32_t)op->p.rope.rot_dims, (uint32_t)op->p.rope.style, backward, backward ? -1.0f : 1.0f,
            (uint32_t)src->stride[0], (uint32_t)src->stride[1], (uint32_t)src->stride[2],
            (uint32_t)dst->stride[0], (uint32_t)dst->stride[1], (uint32_t)dst->stride[2],
            b[0].elem, b[1].elem, b[2].elem, b[3].elem};
    uint32_t gx, gy;
    vk_grid_1d(d, (uint64_t)n, 256, &gx, &gy);
    return vk_dispatch(s, VK_SH_ROPE, NULL, b, 4, &pc, sizeof pc, gx, gy, 1);
}
