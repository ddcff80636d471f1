/* bf16/f16 tensors for ops whose kernels compute in f32: every half-width tensor of the op
 * gets a contiguous f32 twin (converted with copy_nd), the f32 kernels run on the twins, and
 * outputs/gradients are rounded back. Costs a round trip of memory traffic, but keeps one
 * f32 kernel per op, and matches the CPU backend (f32 math, results rounded to the dtype). */
#include <stdlib.h>
#include <string.h>

#include "ocl.h"

typedef struct twin {
    sea_buffer buf;   /* wraps a temporary cl_mem */
    sea_tensor t;
} twin;

static bool half_width(const sea_tensor *t) { return t && (t->dtype == SEA_BF16 || t->dtype == SEA_F16); }

/* Convert `src` into `dst` (same shape; any dtypes) through the copy kernel. */
static sea_status convert(sea_stream *s, const sea_tensor *src, sea_tensor *dst)
{
    sea_op c;
    memset(&c, 0, sizeof c);
    c.kind = SEA_OP_COPY;
    c.in[0] = src;
    c.out[0] = dst;
    return ocl_op_copy(s, &c, false);
}

static sea_status make_twin(sea_stream *s, const sea_tensor *t, bool load, twin *w)
{
    memset(w, 0, sizeof *w);
    size_t n = (size_t)sea_tensor_numel(t);
    cl_mem m;
    SEA_TRY(ocl_temp_alloc(s, n * sizeof(float), &m));
    w->buf.dev = s->dev;
    w->buf.size = n * sizeof(float);
    w->buf.handle = m;
    w->buf.refs = 1;
    int64_t shape[SEA_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) shape[i] = t->shape[i];
    w->t = sea_tensor_make(&w->buf, 0, SEA_F32, t->ndim, shape);
    sea_status st = load ? convert(s, t, &w->t) : SEA_OK;
    if (st) ocl_temp_free(s, m); /* the caller only releases twins that were made */
    return st;
}

sea_status ocl_op_via_f32(sea_stream *s, const sea_op *op, bool backward,
                          sea_status (*run)(sea_stream *, const sea_op *, bool))
{
    sea_op f = *op;
    twin in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT], gin[SEA_OP_MAX_IN], gout[SEA_OP_MAX_OUT];
    bool has_in[SEA_OP_MAX_IN] = {0}, has_out[SEA_OP_MAX_OUT] = {0}, has_gin[SEA_OP_MAX_IN] = {0},
         has_gout[SEA_OP_MAX_OUT] = {0};
    sea_status st = SEA_OK;
    for (int i = 0; i < SEA_OP_MAX_IN && !st; i++)
        if (half_width(op->in[i]) && !(st = make_twin(s, op->in[i], true, &in[i]))) {
            has_in[i] = true;
            f.in[i] = &in[i].t;
        }
    /* Outputs are loaded too: in-place ops (and the backward's saved outputs) read them. */
    for (int j = 0; j < SEA_OP_MAX_OUT && !st; j++)
        if (half_width(op->out[j]) && !(st = make_twin(s, op->out[j], true, &out[j]))) {
            has_out[j] = true;
            f.out[j] = &out[j].t;
        }
    if (backward) {
        for (int j = 0; j < SEA_OP_MAX_OUT && !st; j++)
            if (half_width(op->gout[j]) && !(st = make_twin(s, op->gout[j], true, &gout[j]))) {
                has_gout[j] = true;
                f.gout[j] = &gout[j].t;
            }
        for (int i = 0; i < SEA_OP_MAX_IN && !st; i++)
            if (half_width(op->gin[i]) && !(st = make_twin(s, op->gin[i], true, &gin[i]))) {
                has_gin[i] = true;
                f.gin[i] = &gin[i].t;
            }
    }
    if (!st) st = run(s, &f, backward);
    if (!backward)
        for (int j = 0; j < SEA_OP_MAX_OUT && !st; j++)
            if (has_out[j]) st = convert(s, &out[j].t, op->out[j]);
    if (backward)
        for (int i = 0; i < SEA_OP_MAX_IN && !st; i++)
            if (has_gin[i]) st = convert(s, &gin[i].t, op->gin[i]);
    /* Releasing is safe with kernels in flight: OpenCL keeps the memory until they finish. */
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        if (has_in[i]) ocl_temp_free(s, (cl_mem)in[i].buf.handle);
        if (has_gin[i]) ocl_temp_free(s, (cl_mem)gin[i].buf.handle);
    }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        if (has_out[j]) ocl_temp_free(s, (cl_mem)out[j].buf.handle);
        if (has_gout[j]) ocl_temp_free(s, (cl_mem)gout[j].buf.handle);
    }
    return st;
}
