/* Running row-wise ops on tensors larger than one storage-buffer binding.
 *
 * A descriptor range may not exceed maxStorageBufferRange (128 MiB on lavapipe), but the
 * logits of a training batch easily do ((1024, 50304) f32 = 206 MB). Ops whose rows are
 * independent (matmul over the rows of A, softmax, log-softmax gather) are therefore split
 * into chunks of rows: each chunk is the same op over row slices of the row-indexed tensors
 * (views, no copies), recorded in order. Tensors that are not row-indexed (the weight B,
 * bias, their gradients) are shared by all chunks; their gradients accumulate (+=) chunk
 * after chunk in a fixed order, so results stay deterministic.
 * What cannot be split this way (a single row or a weight beyond the limit, cross-entropy's
 * global mean) is reported by vk_bind_tensor as SEA_ERR_UNSUPPORTED naming the tensor.
 * SEA_VK_MAX_RANGE (bytes) lowers the limit, so tests exercise this path with small tensors. */
#include <stdio.h>

#include "vk_internal.h"

/* Which tensors of an op are indexed by the op's rows (bit i of in / out / gin / gout). */
typedef struct row_sets {
    unsigned in, out, gin, gout;
} row_sets;

static bool row_sets_of(const sea_op *op, row_sets *r)
{
    switch (op->kind) {
    case SEA_OP_MATMUL:
        /* Rows of A are rows of the output only without trans_a and with a shared B. */
        if (op->p.matmul.trans_a || op->in[1]->ndim != 2) return false;
        /* a and the residual (in[3]) are row-indexed, as are their gradients */
        *r = (row_sets){.in = 9u, .out = 3u, .gin = 9u, .gout = 3u};
        return true;
    case SEA_OP_SOFTMAX:
        *r = (row_sets){.in = 1u, .out = 1u, .gin = 1u, .gout = 1u};
        return true;
    case SEA_OP_LOGSOFTMAX_GATHER:
        *r = (row_sets){.in = 3u, .out = 3u, .gin = 1u, .gout = 1u};
        return true;
    default: return false;
    }
}

/* t viewed as (rows, rest): leading dims merged (t is contiguous). */
static sea_status as_rows(const sea_tensor *t, int64_t rows, sea_tensor *out)
{
    int64_t n = sea_tensor_numel(t);
    int64_t shape[2] = {rows, rows ? n / rows : 0};
    if (t->ndim == 1) return sea_tensor_reshape(t, 1, shape, out);
    return sea_tensor_reshape(t, 2, shape, out);
}

static int64_t op_rows(const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    if (op->kind == SEA_OP_LOGSOFTMAX_GATHER) return sea_tensor_numel(op->in[1]);
    int64_t last = x->ndim ? x->shape[x->ndim - 1] : 1;
    return last ? sea_tensor_numel(x) / last : 0;
}

sea_status vk_run_split(sea_stream *s, const sea_op *op, bool backward, sea_status (*fn)(sea_stream *, const sea_op *, bool),
                        bool *handled)
{
    *handled = false;
    vk_dev *d = s->dev->ctx;
    row_sets rs;
    if (!row_sets_of(op, &rs)) return SEA_OK;
    VkDeviceSize limit = d->max_range;
    int64_t rows = op_rows(op);
    if (rows <= 1) return SEA_OK;
    /* Largest per-row footprint among the row-indexed tensors, and whether anything is too big. */
    size_t row_bytes = 0;
    bool too_big = false;
    const sea_tensor *sets[4][SEA_OP_MAX_IN];
    unsigned masks[4] = {rs.in, rs.out, rs.gin, rs.gout};
    int counts[4] = {SEA_OP_MAX_IN, SEA_OP_MAX_OUT, SEA_OP_MAX_IN, SEA_OP_MAX_OUT};
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        sets[0][i] = op->in[i];
        sets[2][i] = op->gin[i];
    }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        sets[1][j] = op->out[j];
        sets[3][j] = op->gout[j];
    }
    for (int g = 0; g < 4; g++)
        for (int i = 0; i < counts[g]; i++) {
            const sea_tensor *t = sets[g][i];
            if (!t || !(masks[g] >> i & 1u)) continue;
            if (g == 2 && !backward) continue;
            if (g == 3 && !backward) continue;
            size_t nb = sea_tensor_nbytes(t);
            if (nb > limit) too_big = true;
            size_t rb = nb / (size_t)rows;
            if (rb > row_bytes) row_bytes = rb;
        }
    if (!too_big || row_bytes == 0) return SEA_OK;
    int64_t chunk = (int64_t)((limit - 64) / row_bytes);
    if (chunk < 1) return SEA_OK;   /* one row is beyond the limit: vk_bind_tensor reports it */
    *handled = true;
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
        int64_t len = rows - r0 < chunk ? rows - r0 : chunk;
        sea_op sub = *op;
        sea_tensor views[4][SEA_OP_MAX_IN];
        for (int g = 0; g < 4; g++)
            for (int i = 0; i < counts[g]; i++) {
                const sea_tensor *t = sets[g][i];
                if (!t || !(masks[g] >> i & 1u)) continue;
                sea_tensor full;
                SEA_TRY(as_rows(t, rows, &full));
                SEA_TRY(sea_tensor_slice(&full, 0, r0, len, &views[g][i]));
                switch (g) {
                case 0: sub.in[i] = &views[g][i]; break;
                case 1: sub.out[i] = &views[g][i]; break;
                case 2: sub.gin[i] = &views[g][i]; break;
                default: sub.gout[i] = &views[g][i]; break;
                }
            }
        SEA_TRY(fn(s, &sub, backward));
    }
    return SEA_OK;
}

/* Flat (elementwise) ops over contiguous tensors beyond one binding: fill, copy, AdamW and
 * clip run over 1-D chunks of whole multiples of 4096 elements (so the global-norm partial
 * sums keep their device-independent chunking). */
int64_t vk_flat_chunk(const vk_dev *d, size_t elem_size)
{
    int64_t c = (int64_t)vk_rows_per_binding(d, elem_size) / 4096 * 4096;
    return c > 0 ? c : 4096;
}

sea_status vk_flat_view(const sea_tensor *t, int64_t start, int64_t len, sea_tensor *out)
{
    int64_t n = sea_tensor_numel(t);
    sea_tensor flat;
    SEA_TRY(sea_tensor_reshape(t, 1, &n, &flat));
    return sea_tensor_slice(&flat, 0, start, len, out);
}

sea_status vk_run_flat(sea_stream *s, const sea_op *op, sea_status (*fn)(sea_stream *, const sea_op *), bool *handled)
{
    *handled = false;
    vk_dev *d = s->dev->ctx;
    const sea_tensor *lead = op->kind == SEA_OP_ADAMW ? op->in[0] : op->out[0];
    int64_t n = sea_tensor_numel(lead);
    bool big = false, contiguous = true;
    size_t es = 1;
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        const sea_tensor *t = op->in[i];
        if (!t || (op->kind == SEA_OP_CLIP && i == 0)) continue;   /* clip's norm is a scalar */
        big |= sea_tensor_nbytes(t) > d->max_range;
        contiguous &= sea_tensor_is_contiguous(t);
        if (sea_dtype_size(t->dtype) > es) es = sea_dtype_size(t->dtype);
    }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        const sea_tensor *t = op->out[j];
        if (!t) continue;
        big |= sea_tensor_nbytes(t) > d->max_range;
        contiguous &= sea_tensor_is_contiguous(t);
        if (sea_dtype_size(t->dtype) > es) es = sea_dtype_size(t->dtype);
    }
    if (!big || !contiguous) return SEA_OK;
    *handled = true;
    int64_t chunk = vk_flat_chunk(d, es);
    for (int64_t s0 = 0; s0 < n; s0 += chunk) {
        int64_t len = n - s0 < chunk ? n - s0 : chunk;
        sea_op sub = *op;
        sea_tensor vin[SEA_OP_MAX_IN], vout[SEA_OP_MAX_OUT];
        for (int i = 0; i < SEA_OP_MAX_IN; i++) {
            if (!op->in[i] || (op->kind == SEA_OP_CLIP && i == 0)) continue;
            SEA_TRY(vk_flat_view(op->in[i], s0, len, &vin[i]));
            sub.in[i] = &vin[i];
        }
        for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
            if (!op->out[j]) continue;
            SEA_TRY(vk_flat_view(op->out[j], s0, len, &vout[j]));
            sub.out[j] = &vout[j];
        }
        SEA_TRY(fn(s, &sub));
    }
    return SEA_OK;
}
