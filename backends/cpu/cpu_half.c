/* bf16 / f16 on the CPU: every float kernel here computes in f32, so an op with half-precision
 * tensors runs through f32 shadows. Each bf16/f16 tensor of the op (inputs, outputs,
 * gradients) is copied to a contiguous f32 scratch, the f32 kernel runs on the shadows,
 * and what the kernel writes (outputs forward; input gradients, which accumulate, backward)
 * is rounded back to the tensor's dtype (round to nearest even, as the copy op does).
 *
 * Why not native half kernels: x86 CPUs without AVX512-BF16/FP16 have no half arithmetic,
 * so a native kernel would convert on load anyway; shadows keep one set of kernels and
 * give "fp32 accumulation" for free. The cost is the conversion traffic, a few percent of
 * a matmul, and the scratch memory (freed when the op returns). What this buys: models
 * and tests that use bf16 (the CUDA mixed-precision path) run on the CPU, in CI. */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

static bool is_half(const sea_tensor *t) { return t && (t->dtype == SEA_BF16 || t->dtype == SEA_F16); }

/* One shadowed tensor: an f32 contiguous copy living in a host buffer of its own. */
typedef struct shadow {
    const sea_tensor *orig;
    sea_buffer buf;
    sea_tensor t;
} shadow;

static void copy_between(const sea_tensor *src, sea_tensor *dst)
{
    sea_op c;
    memset(&c, 0, sizeof c);
    c.kind = SEA_OP_COPY;
    c.in[0] = src;
    c.out[0] = dst;
    sea_cpu_copy(&c);
}

/* Make the shadow of t (NULL or f32: no shadow, *use = t). load: copy t's values in. */
static sea_status make_shadow(const sea_tensor *t, bool load, shadow *s, const sea_tensor **use)
{
    *use = t;
    if (!is_half(t)) return SEA_OK;
    int64_t n = cpu_numel(t);
    memset(s, 0, sizeof *s);
    s->orig = t;
    s->buf.dev = t->buf->dev;
    s->buf.size = (size_t)(n ? n : 1) * sizeof(float);
    s->buf.host = s->buf.handle = malloc(s->buf.size);
    if (!s->buf.host)
        return sea_error(SEA_ERR_OOM, "cpu: out of host memory for an f32 copy of a %s tensor of %lld elements",
                         sea_dtype_name(t->dtype), (long long)n);
    s->t = *t;
    s->t.buf = &s->buf;
    s->t.offset = 0;
    s->t.dtype = SEA_F32;
    int64_t st = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        s->t.stride[d] = st;
        st *= t->shape[d];
    }
    if (load) copy_between(t, &s->t);
    *use = &s->t;
    return SEA_OK;
}

sea_status sea_cpu_run_half(const sea_op *op, bool backward, sea_status (*kernel)(const sea_op *))
{
    shadow in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT], gin[SEA_OP_MAX_IN], gout[SEA_OP_MAX_OUT];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    memset(gin, 0, sizeof gin);
    memset(gout, 0, sizeof gout);
    sea_op f = *op;
    sea_status st = SEA_OK;
    const sea_tensor *use;
    for (int i = 0; !st && i < SEA_OP_MAX_IN; i++) {
        st = make_shadow(op->in[i], true, &in[i], &use);
        f.in[i] = use;
        /* Gradients accumulate (+=): their current values go in too. */
        if (!st && backward) {
            st = make_shadow(op->gin[i], true, &gin[i], &use);
            f.gin[i] = (sea_tensor *)use;
        }
    }
    for (int j = 0; !st && j < SEA_OP_MAX_OUT; j++) {
        /* Forward outputs are written; backward reads the saved ones. */
        st = make_shadow(op->out[j], backward, &out[j], &use);
        f.out[j] = (sea_tensor *)use;
        if (!st && backward) {
            st = make_shadow(op->gout[j], true, &gout[j], &use);
            f.gout[j] = use;
        }
    }
    if (!st) st = kernel(&f);
    for (int i = 0; !st && i < SEA_OP_MAX_IN; i++)
        if (backward && gin[i].orig) copy_between(&gin[i].t, op->gin[i]);
    for (int j = 0; !st && j < SEA_OP_MAX_OUT; j++)
        if (!backward && out[j].orig) copy_between(&out[j].t, op->out[j]);
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        free(in[i].buf.host);
        free(gin[i].buf.host);
    }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        free(out[j].buf.host);
        free(gout[j].buf.host);
    }
    return st;
}
