/* The model's own op recording and backward walk.
 *
 * Why not the runtime tape directly: the forward pass reshapes activations between ops
 * ((N, H*hd) from a matmul is (B, T, H, hd) for rope and attention) and a tape that keys
 * gradients on the exact view would see those as different tensors. Here the gradient of a
 * tensor is a fixed function of where it lives: parameters -> the same offsets in the flat
 * gradient buffer, activations -> the same offsets in the arena's mirror chunks. Views of the
 * same memory therefore share their gradient whatever their shape, and the walk calls each
 * op's backward kernel through sea_op_run_backward, exactly as the tape would. */
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"

static bool float_dtype(sea_dtype t) { return t == SEA_F32 || t == SEA_BF16 || t == SEA_F16; }

/* Gradient view of t, or false when t has none (ids, masks, positions, outside memory). */
static bool grad_of(const sea_model *m, const sea_tensor *t, sea_tensor *g)
{
    if (!float_dtype(t->dtype)) return false;
    if (t->buf == m->pbuf) {
        *g = *t;
        g->buf = m->gbuf;
        return true;
    }
    return sea_model_arena_grad(&m->arena, t, g);
}

sea_status sea_model_run(sea_model *m, sea_stream *s, const sea_op *op)
{
    SEA_TRY(sea_op_run(s, op));
    if (!m->recording || !sea_op_has_backward(op->kind)) return SEA_OK;
    if (m->n_rec == m->cap_rec) {
        int cap = m->cap_rec ? 2 * m->cap_rec : 256;
        sea_model_rec *r = realloc(m->rec, (size_t)cap * sizeof *r);
        if (!r) return sea_error(SEA_ERR_OOM, "model: out of host memory recording %s", sea_op_name(op->kind));
        m->rec = r;
        m->cap_rec = cap;
    }
    sea_model_rec *r = &m->rec[m->n_rec++];
    memset(r, 0, sizeof *r);
    r->kind = op->kind;
    r->p = op->p;
    for (int i = 0; i < SEA_OP_MAX_IN; i++)
        if (op->in[i]) {
            r->has_in[i] = true;
            r->in[i] = *op->in[i];
        }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (op->out[j]) {
            r->has_out[j] = true;
            r->out[j] = *op->out[j];
        }
    return SEA_OK;
}

void sea_model_rec_clear(sea_model *m)
{
    m->n_rec = 0;
}

sea_status sea_model_rec_backward(sea_model *m, sea_stream *s)
{
    for (int k = m->n_rec - 1; k >= 0; k--) {
        sea_model_rec *r = &m->rec[k];
        sea_op op;
        memset(&op, 0, sizeof op);
        op.kind = r->kind;
        op.p = r->p;
        sea_tensor gin[SEA_OP_MAX_IN], gout0;
        bool any = false;
        for (int i = 0; i < SEA_OP_MAX_IN; i++) {
            if (!r->has_in[i]) continue;
            op.in[i] = &r->in[i];
            if (grad_of(m, &r->in[i], &gin[i])) {
                op.gin[i] = &gin[i];
                any = true;
            }
        }
        for (int j = 0; j < SEA_OP_MAX_OUT; j++)
            if (r->has_out[j]) op.out[j] = &r->out[j];
        /* Only out[0] carries a gradient; the other outputs are saved statistics. */
        if (!r->has_out[0] || !grad_of(m, &r->out[0], &gout0)) continue;
        op.gout[0] = &gout0;
        if (!any) continue;
        sea_status st = sea_op_run_backward(s, &op);
        if (st) return sea_error_context(st, "model backward, op %d (%s)", k, sea_op_name(r->kind));
    }
    return SEA_OK;
}
