/* The model's own op recording and backward walk.
 *
 * Why not the runtime tape directly: the forward pass reshapes activations between ops
 * ((N, H*hd) from a matmul is (B, T, H, hd) for rope and attention) and a tape that keys
 * gradients on the exact view would see those as different tensors. Here the gradient of a
 * tensor is a fixed function of where it lives: parameters -> the same offsets in the flat
 * gradient buffer, activations -> the same offsets in the gradient of the arena allocation
 * (span) they lie in. Views of the same memory therefore share their gradient whatever their
 * shape, and the walk calls each op's backward kernel through sea_op_run_backward, exactly as
 * the tape would.
 *
 * Activation gradients exist only while they can be nonzero and still be read: a span gets
 * its gradient (zeroed, from the gradient pool) when the walk first writes into it, i.e. at
 * the last op that consumed it, and gives it back after the lowest-numbered op that touches
 * it, which is the op that produced it. Ops whose output never received a gradient are
 * skipped. Peak gradient memory is then the widest cut of the walk (in a transformer: the
 * residual stream plus one branch, and the logits' gradient at the head) instead of a mirror
 * of every activation.
 *
 * Recompute: a checkpointed block is one record (layer >= 0). When the walk reaches it, the
 * block runs forward again from its kept input with recording on (its ops are appended after
 * the main recording and its intermediates come from the arena after a mark), that segment
 * is walked, and both are given back. The same kernels in the same order on the same inputs
 * give the same bits, so gradients equal those without recompute exactly (tests/models).
 * A chunk of a chunked LM head (sea_model_set_head_chunk_bytes) is replayed the same way:
 * its logits are computed again from its kept hidden rows, recorded and walked.
 *
 * bf16 compute (model_precision.c): weights read from the bf16 copy accumulate their
 * gradients in f32, at the same element offsets of the f32 gradient buffer: the backward
 * kernels take an f32 gradient for a bf16 weight, so no bf16 mirror and no rounding. */
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"

static bool float_dtype(sea_dtype t) { return t == SEA_F32 || t == SEA_BF16 || t == SEA_F16; }

/* The arena span a float tensor lies in, or -1. */
static int span_of(const sea_model *m, const sea_tensor *t)
{
    if (!float_dtype(t->dtype)) return -1;
    return sea_model_arena_find(m->arena, t);
}

static sea_status rec_append(sea_model *m, const char *what, sea_model_rec **out)
{
    if (m->n_rec == m->cap_rec) {
        int cap = m->cap_rec ? 2 * m->cap_rec : 256;
        sea_model_rec *r = realloc(m->rec, (size_t)cap * sizeof *r);
        if (!r) return sea_error(SEA_ERR_OOM, "model: out of host memory recording %s", what);
        m->rec = r;
        m->cap_rec = cap;
    }
    sea_model_rec *r = &m->rec[m->n_rec++];
    memset(r, 0, sizeof *r);
    r->layer = SEA_MODEL_REC_OP;
    *out = r;
    return SEA_OK;
}

/* Whether output j of a record carries a gradient: out[0], and a layernorm pair's second
 * output out[3] (op.h); the others are saved statistics. */
static bool rec_grad_out(const sea_model_rec *r, int j)
{
    return j == 0 || (r->layer == SEA_MODEL_REC_OP && r->kind == SEA_OP_LAYERNORM && j == 3);
}

/* Note the spans record k touches: the first toucher of each, and whether it produces one. */
static void rec_touch(sea_model *m, sea_model_rec *r, int k)
{
    sea_model_span *sp = m->arena->span;
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        r->span_in[i] = r->has_in[i] ? span_of(m, &r->in[i]) : -1;
        if (r->span_in[i] >= 0 && sp[r->span_in[i]].first_rec < 0) sp[r->span_in[i]].first_rec = k;
    }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        int id = r->has_out[j] && rec_grad_out(r, j) ? span_of(m, &r->out[j]) : -1;
        r->span_out[j] = id;
        if (id < 0) continue;
        if (sp[id].first_rec < 0) sp[id].first_rec = k;
        sp[id].produced = true;
    }
}

sea_status sea_model_run(sea_model *m, sea_stream *s, const sea_op *op)
{
    SEA_TRY(sea_op_run(s, op));
    return sea_model_record(m, op);
}

sea_status sea_model_record(sea_model *m, const sea_op *op)
{
    if (!m->recording || !sea_op_has_backward(op->kind)) return SEA_OK;
    sea_model_rec *r = NULL;
    SEA_TRY(rec_append(m, sea_op_name(op->kind), &r));
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
    rec_touch(m, r, m->n_rec - 1);
    return SEA_OK;
}

sea_status sea_model_rec_block(sea_model *m, int layer, const sea_tensor *x, const sea_tensor *pos,
                               const sea_tensor *key_valid, const sea_tensor *y)
{
    sea_model_rec *r = NULL;
    SEA_TRY(rec_append(m, "a checkpointed block", &r));
    r->layer = layer;
    r->has_in[0] = r->has_in[1] = r->has_out[0] = true;
    r->in[0] = *x;
    r->in[1] = *pos;
    if (key_valid) {
        r->has_in[2] = true;
        r->in[2] = *key_valid;
    }
    r->out[0] = *y;
    rec_touch(m, r, m->n_rec - 1);
    return SEA_OK;
}

sea_status sea_model_rec_head(sea_model *m, const sea_tensor *h, const sea_tensor *targets,
                              const sea_tensor *logp, const sea_tensor *lse)
{
    sea_model_rec *r = NULL;
    SEA_TRY(rec_append(m, "an LM-head chunk", &r));
    r->layer = SEA_MODEL_REC_HEAD;
    r->kind = SEA_OP_LOGSOFTMAX_GATHER;
    r->has_in[0] = r->has_in[1] = r->has_out[0] = r->has_out[1] = true;
    r->in[0] = *h;
    r->in[1] = *targets;
    r->out[0] = *logp;
    r->out[1] = *lse;
    rec_touch(m, r, m->n_rec - 1);
    return SEA_OK;
}

void sea_model_rec_clear(sea_model *m)
{
    m->n_rec = 0;
}

/* ---- gradient lifetimes ---- */

/* t's gradient: the same view into its span's gradient. */
static sea_tensor grad_view(const sea_model_span *sp, const sea_tensor *t)
{
    sea_tensor g = *t;
    g.buf = sp->gbuf;
    g.offset = sp->goff + (t->offset - sp->off);
    return g;
}

static sea_status make_live(sea_model *m, sea_stream *s, int id)
{
    sea_model_span *sp = &m->arena->span[id];
    if (sp->gbuf) return SEA_OK;
    SEA_TRY(sea_model_gpool_alloc(&m->gpool, sp->bytes, &sp->gbuf, &sp->goff));
    /* Backward kernels accumulate (+=), so a gradient starts at zero; all-zero bits are zero
     * in every float dtype, so the span is filled as f32 whatever it holds. */
    int64_t n = (int64_t)(sp->bytes / sizeof(float));
    sea_tensor z = sea_tensor_make(sp->gbuf, sp->goff, SEA_F32, 1, &n);
    return sea_fill(s, &z, 0.0);
}

static sea_status retire(sea_model *m, int id)
{
    sea_model_span *sp = &m->arena->span[id];
    if (!sp->gbuf) return SEA_OK;
    sea_status st = sea_model_gpool_put(&m->gpool, sp->gbuf, sp->goff, sp->bytes);
    sp->gbuf = NULL;
    return st;
}

/* After record k: give back the gradients nothing before k can touch. */
static sea_status retire_after(sea_model *m, const sea_model_rec *r, int k)
{
    for (int i = 0; i < SEA_OP_MAX_IN; i++)
        if (r->span_in[i] >= 0 && m->arena->span[r->span_in[i]].first_rec == k) SEA_TRY(retire(m, r->span_in[i]));
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (r->span_out[j] >= 0 && m->arena->span[r->span_out[j]].first_rec == k) SEA_TRY(retire(m, r->span_out[j]));
    return SEA_OK;
}

/* ---- the walk ---- */

static sea_status walk(sea_model *m, sea_stream *s, int hi, int lo);

/* Whether a gradient reached output j of r (its span has gradient memory). */
static bool out_has_grad(const sea_model *m, const sea_model_rec *r, int j)
{
    return r->span_out[j] >= 0 && m->arena->span[r->span_out[j]].gbuf;
}

static sea_status backward_op(sea_model *m, sea_stream *s, const sea_model_rec *r)
{
    bool reached = false;
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) reached = reached || out_has_grad(m, r, j);
    if (!reached) return SEA_OK;   /* no gradient reached it */
    sea_op op;
    memset(&op, 0, sizeof op);
    op.kind = r->kind;
    op.p = r->p;
    sea_tensor gin[SEA_OP_MAX_IN];
    bool any = false;
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        if (!r->has_in[i]) continue;
        op.in[i] = &r->in[i];
        int id = r->span_in[i];
        if (r->in[i].buf == m->pbuf && float_dtype(r->in[i].dtype)) {
            gin[i] = r->in[i];
            gin[i].buf = m->gbuf;
        } else if (m->cbuf && r->in[i].buf == m->cbuf) {
            /* bf16 weights: straight into the f32 gradient of their master, same element
             * offsets (op.h lets a weight's gradient be f32 when the weight is bf16). */
            gin[i] = r->in[i];
            gin[i].buf = m->gbuf;
            gin[i].dtype = SEA_F32;
            gin[i].offset = r->in[i].offset / sea_dtype_size(r->in[i].dtype) * sizeof(float);
        } else if (id >= 0 && m->arena->span[id].produced) {
            SEA_TRY(make_live(m, s, id));
            gin[i] = grad_view(&m->arena->span[id], &r->in[i]);
        } else {
            continue;   /* ids, masks, positions, inputs no recorded op produced */
        }
        op.gin[i] = &gin[i];
        any = true;
    }
    if (!any) return SEA_OK;
    /* The outputs that carry a gradient (rec_grad_out) pass it where one arrived (an absent
     * gout is zero); the others are saved statistics. */
    sea_tensor out[SEA_OP_MAX_OUT], gout[SEA_OP_MAX_OUT];
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        if (!r->has_out[j]) continue;
        out[j] = r->out[j];
        op.out[j] = &out[j];
        if (!out_has_grad(m, r, j)) continue;
        gout[j] = grad_view(&m->arena->span[r->span_out[j]], &r->out[j]);
        op.gout[j] = &gout[j];
    }
    /* An op that ran in place (rope: out is its input, op.h; a matmul whose residual is its
     * output, model_forward.c) has one gradient view for that input and output. */
    int ii = -1, jj = -1;
    for (int j = 0; j < SEA_OP_MAX_OUT && ii < 0; j++)
        for (int i = 0; op.gout[j] && i < SEA_OP_MAX_IN && ii < 0; i++)
            if (op.gin[i] && gin[i].buf == gout[j].buf && gin[i].offset == gout[j].offset) ii = i, jj = j;
    if (ii < 0) return sea_op_run_backward(s, &op);
    if (r->kind == SEA_OP_MATMUL && ii == 3) {
        /* The residual's gradient is the output's, already where it belongs: the backward runs
         * without the residual (dX, dW and the bias read only gout). */
        op.in[3] = NULL;
        op.gin[3] = NULL;
        return sea_op_run_backward(s, &op);
    }
    /* Otherwise the backward accumulates gin += f(gout): gout goes aside to a pool block first
     * and gin starts from zero. */
    size_t abytes = sea_tensor_nbytes(&gout[jj]), aoff;
    sea_buffer *ab;
    SEA_TRY(sea_model_gpool_alloc(&m->gpool, abytes, &ab, &aoff));
    sea_tensor aside = sea_tensor_make(ab, aoff, gout[jj].dtype, gout[jj].ndim, gout[jj].shape);
    sea_status st = sea_copy(s, &gout[jj], &aside);
    if (!st) st = sea_fill(s, &gin[ii], 0.0);
    op.gout[jj] = &aside;
    if (!st) st = sea_op_run_backward(s, &op);
    sea_status st2 = sea_model_gpool_put(&m->gpool, ab, aoff, abytes);
    return st ? st : st2;
}

/* After a segment was recorded again from mark mk (records n0..): walk it (unless st already
 * failed), then give back its gradients, records and arena tensors. */
static sea_status finish_segment(sea_model *m, sea_stream *s, sea_status st, const sea_model_arena_mark *mk, int n0)
{
    if (!st) st = walk(m, s, m->n_rec, n0);
    /* Every intermediate's gradient is back already unless an error cut the walk short. */
    for (int i = mk->n_span; i < m->arena->n_span; i++) {
        sea_status st2 = retire(m, i);
        if (!st) st = st2;
    }
    m->n_rec = n0;
    sea_model_arena_release(m->arena, mk);
    return st;
}

/* A checkpointed block: run it forward again, recorded, walk that, give it all back. */
static sea_status replay_block(sea_model *m, sea_stream *s, const sea_model_rec *r)
{
    if (!out_has_grad(m, r, 0)) return SEA_OK;
    sea_model_arena_mark mk = sea_model_arena_get_mark(m->arena);
    int n0 = m->n_rec;
    sea_model_pass ps = {.B = (int)r->in[1].shape[0], .T = (int)r->in[1].shape[1], .pos = &r->in[1],
                         .key_valid = r->has_in[2] ? &r->in[2] : NULL, .train = true};
    /* The block writes its output where the first forward put it: that span holds the
     * gradient arriving from above (and the values are the same bits again). */
    sea_tensor y = r->out[0];
    m->recording = true;
    sea_status st = sea_model_block(m, s, &ps, r->layer, &r->in[0], &y);
    m->recording = false;
    /* The output's gradient is dead once the block's last op (the first in the segment to
     * touch it) is back-propagated, as without recompute; nothing before the block reads it. */
    int y_id = r->span_out[0];
    for (int k = n0; !st && k < m->n_rec; k++) {
        const sea_model_rec *q = &m->rec[k];
        bool touches = false;
        for (int j = 0; j < SEA_OP_MAX_OUT; j++) touches = touches || q->span_out[j] == y_id;
        for (int i = 0; i < SEA_OP_MAX_IN; i++) touches = touches || q->span_in[i] == y_id;
        if (touches) {
            m->arena->span[y_id].first_rec = k;
            break;
        }
    }
    st = finish_segment(m, s, st, &mk, n0);
    return st ? sea_error_context(st, "recomputed layer %d", r->layer) : SEA_OK;
}

/* A chunk of a chunked LM head: its logits again, recorded, walked, given back. The
 * log-probs' span keeps its gradient (seeded for all chunks) until the walk reaches the
 * first chunk's record; the hidden rows' gradient accumulates over the chunks. */
static sea_status replay_head(sea_model *m, sea_stream *s, const sea_model_rec *r)
{
    if (!out_has_grad(m, r, 0)) return SEA_OK;
    sea_model_arena_mark mk = sea_model_arena_get_mark(m->arena);
    int n0 = m->n_rec;
    m->recording = true;
    sea_status st = sea_model_head_logprobs(m, s, &r->in[0], &r->in[1], &r->out[0], &r->out[1]);
    m->recording = false;
    st = finish_segment(m, s, st, &mk, n0);
    return st ? sea_error_context(st, "recomputed LM-head rows (%lld)", (long long)r->in[0].shape[0]) : SEA_OK;
}

static sea_status walk(sea_model *m, sea_stream *s, int hi, int lo)
{
    for (int k = hi - 1; k >= lo; k--) {
        /* By value: replaying a block appends records, which may move the array. */
        sea_model_rec r = m->rec[k];
        sea_status st = r.layer >= 0                    ? replay_block(m, s, &r)
                        : r.layer == SEA_MODEL_REC_HEAD ? replay_head(m, s, &r)
                                                        : backward_op(m, s, &r);
        if (!st) st = retire_after(m, &r, k);
        if (st)
            return r.layer != SEA_MODEL_REC_OP
                       ? st
                       : sea_error_context(st, "model backward, op %d (%s)", k, sea_op_name(r.kind));
    }
    return SEA_OK;
}

sea_status sea_model_grad_seed(sea_model *m, sea_stream *s, const sea_tensor *t, const float *seed)
{
    /* Gradients left by a walk an error stopped point into the pool that is reset here. */
    for (int i = 0; i < m->arena->n_span; i++) m->arena->span[i].gbuf = NULL;
    SEA_TRY(sea_model_gpool_reset(&m->gpool));
    int id = span_of(m, t);
    if (id < 0 || !m->arena->span[id].produced)
        return sea_error(SEA_ERR_INTERNAL, "model backward: the seeded tensor was not recorded");
    SEA_TRY(make_live(m, s, id));
    sea_tensor g = grad_view(&m->arena->span[id], t);
    return sea_tensor_write_f32(s, &g, seed);
}

sea_status sea_model_rec_backward(sea_model *m, sea_stream *s)
{
    return walk(m, s, m->n_rec, 0);
}
