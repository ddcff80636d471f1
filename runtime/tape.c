/* The autograd tape: recorded ops (with copies of their tensor views) and a table of tensors
 * that require gradients, keyed by view identity. */
#include "tape.h"

#include <stdlib.h>
#include <string.h>

#include "ops.h"

struct recorded_op {
    sea_op op;                          /* pointers below point into this record */
    sea_tensor in[SEA_OP_MAX_IN];
    sea_tensor out[SEA_OP_MAX_OUT];
};

struct grad_entry {
    sea_tensor key;       /* the view that requires a gradient */
    sea_tensor grad;      /* buf == NULL until needed */
    bool watched;         /* grad is the caller's (not freed by reset) */
};

struct sea_tape {
    sea_device *dev;
    struct recorded_op *ops;  /* (n_ops) */
    size_t n_ops, cap_ops;
    struct grad_entry *grads; /* (n_grads) */
    size_t n_grads, cap_grads;
};

static bool same_view(const sea_tensor *a, const sea_tensor *b)
{
    if (a->buf != b->buf || a->offset != b->offset || a->dtype != b->dtype || a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i] || (a->shape[i] > 1 && a->stride[i] != b->stride[i])) return false;
    return true;
}

/* Byte range [lo, hi) that a view touches (assumes non-negative strides, as views here have). */
static void view_range(const sea_tensor *x, size_t *lo, size_t *hi)
{
    size_t last = 0;
    for (int i = 0; i < x->ndim; i++)
        if (x->shape[i] > 0) last += (size_t)((x->shape[i] - 1) * x->stride[i]);
    *lo = x->offset;
    *hi = x->offset + (last + 1) * sea_dtype_size(x->dtype);
}

/* x lies inside the contiguous tensor `key` (a reshape, a slice, a strided view of it): the
 * forward code takes such views freely ((B, T, C) -> (B*T, C); q, k, v out of a fused qkv). */
static bool within(const sea_tensor *key, const sea_tensor *x)
{
    if (key->buf != x->buf || key->dtype != x->dtype || !sea_tensor_is_contiguous(key)) return false;
    size_t klo, khi, xlo, xhi;
    view_range(key, &klo, &khi);
    view_range(x, &xlo, &xhi);
    return xlo >= klo && xhi <= khi && (xlo - klo) % sea_dtype_size(x->dtype) == 0;
}

static struct grad_entry *find_entry(const sea_tape *t, const sea_tensor *x)
{
    if (!x) return NULL;
    /* Newest first: a view re-registered later shadows older records of the same memory. */
    for (size_t i = t->n_grads; i-- > 0;)
        if (same_view(&t->grads[i].key, x)) return &t->grads[i];
    for (size_t i = t->n_grads; i-- > 0;)
        if (within(&t->grads[i].key, x)) return &t->grads[i];
    return NULL;
}

/* The part of the entry's gradient that corresponds to the view x of its key: the gradient is
 * laid out like the (contiguous) key, so x's element offset and strides carry over. */
static sea_status grad_as(const struct grad_entry *e, const sea_tensor *x, sea_tensor *out)
{
    char a[96], b[96];
    if (same_view(&e->key, x)) {
        *out = e->grad;
        return SEA_OK;
    }
    if (!sea_tensor_is_contiguous(&e->grad))
        return sea_error(SEA_ERR_SHAPE, "tape: a view %s of %s needs a gradient, but the watched gradient is not contiguous",
                         sea_tensor_describe(x, a, sizeof a), sea_tensor_describe(&e->key, b, sizeof b));
    size_t elem = (x->offset - e->key.offset) / sea_dtype_size(x->dtype);
    *out = *x;
    out->buf = e->grad.buf;
    out->dtype = e->grad.dtype;
    out->offset = e->grad.offset + elem * sea_dtype_size(e->grad.dtype);
    return SEA_OK;
}

static sea_status add_entry(sea_tape *t, const sea_tensor *key, const sea_tensor *grad, bool watched)
{
    if (t->n_grads == t->cap_grads) {
        size_t cap = t->cap_grads ? 2 * t->cap_grads : 64;
        struct grad_entry *g = realloc(t->grads, cap * sizeof *g);
        if (!g) return sea_error(SEA_ERR_OOM, "tape: out of host memory");
        t->grads = g;
        t->cap_grads = cap;
    }
    struct grad_entry *e = &t->grads[t->n_grads++];
    memset(e, 0, sizeof *e);
    e->key = *key;
    if (grad) e->grad = *grad;
    e->watched = watched;
    return SEA_OK;
}

sea_status sea_tape_create(sea_device *dev, sea_tape **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return sea_error(SEA_ERR_OOM, "tape: out of host memory");
    (*out)->dev = dev;
    return SEA_OK;
}

static void free_intermediates(sea_tape *t)
{
    size_t kept = 0;
    for (size_t i = 0; i < t->n_grads; i++) {
        if (t->grads[i].watched) {
            t->grads[kept++] = t->grads[i];
        } else {
            sea_tensor_free(&t->grads[i].grad);
        }
    }
    t->n_grads = kept;
}

void sea_tape_reset(sea_tape *t)
{
    if (!t) return;
    t->n_ops = 0;
    free_intermediates(t);
}

void sea_tape_free(sea_tape *t)
{
    if (!t) return;
    sea_tape_reset(t);
    free(t->ops);
    free(t->grads);
    free(t);
}

void sea_tape_begin(sea_tape *t, sea_stream *s) { s->tape = t; }
void sea_tape_end(sea_stream *s) { s->tape = NULL; }

sea_status sea_tape_watch(sea_tape *t, const sea_tensor *param, sea_tensor *grad)
{
    char a[96], b[96];
    if (!sea_tensor_same_shape(param, grad))
        return sea_error(SEA_ERR_SHAPE, "tape_watch: parameter %s and gradient %s differ in shape",
                         sea_tensor_describe(param, a, sizeof a), sea_tensor_describe(grad, b, sizeof b));
    struct grad_entry *e = find_entry(t, param);
    if (e) {
        e->grad = *grad;
        e->watched = true;
        return SEA_OK;
    }
    return add_entry(t, param, grad, true);
}

bool sea_tape_requires_grad(const sea_tape *t, const sea_tensor *x) { return find_entry(t, x) != NULL; }

static bool is_float(sea_dtype d) { return d != SEA_I32; }

sea_status sea_tape_record(sea_tape *t, const sea_op *op)
{
    if (!sea_op_has_backward(op->kind)) return SEA_OK;
    bool needed = false;
    for (int i = 0; i < SEA_OP_MAX_IN; i++)
        if (op->in[i] && is_float(op->in[i]->dtype) && find_entry(t, op->in[i])) needed = true;
    if (!needed) return SEA_OK;
    if (t->n_ops == t->cap_ops) {
        size_t cap = t->cap_ops ? 2 * t->cap_ops : 64;
        struct recorded_op *r = realloc(t->ops, cap * sizeof *r);
        if (!r) return sea_error(SEA_ERR_OOM, "tape: out of host memory");
        t->ops = r;
        t->cap_ops = cap;
    }
    struct recorded_op *r = &t->ops[t->n_ops++];
    memset(r, 0, sizeof *r);
    r->op.kind = op->kind;
    r->op.p = op->p;
    for (int i = 0; i < SEA_OP_MAX_IN; i++)
        if (op->in[i]) {
            r->in[i] = *op->in[i];
            r->op.in[i] = &r->in[i];
        }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (op->out[j]) {
            r->out[j] = *op->out[j];
            r->op.out[j] = &r->out[j];
            if (is_float(op->out[j]->dtype) && !find_entry(t, op->out[j])) SEA_TRY(add_entry(t, op->out[j], NULL, false));
        }
    return SEA_OK;
}

size_t sea_tape_size(const sea_tape *t) { return t->n_ops; }

/* Allocate (zeroed) the gradient of an entry on first use. */
static sea_status materialize(sea_tape *t, sea_stream *s, struct grad_entry *e)
{
    if (e->grad.buf) return SEA_OK;
    SEA_TRY(sea_tensor_alloc(s->dev, SEA_F32, e->key.ndim, e->key.shape, &e->grad));
    return sea_fill(s, &e->grad, 0.0);
}

sea_status sea_tape_seed(sea_tape *t, sea_stream *s, const sea_tensor *out, const sea_tensor *gout)
{
    char d[96];
    struct grad_entry *e = find_entry(t, out);
    if (!e)
        return sea_error(SEA_ERR_INVALID, "tape_seed: %s was not produced by a recorded op (nothing to differentiate)",
                         sea_tensor_describe(out, d, sizeof d));
    struct sea_tape *saved = s->tape;
    s->tape = NULL;
    sea_status st = materialize(t, s, e);
    sea_tensor g;
    if (!st) st = grad_as(e, out, &g);
    if (!st) st = sea_add(s, &g, gout, &g);
    s->tape = saved;
    return st;
}

sea_status sea_tape_backward_seeded(sea_tape *t, sea_stream *s)
{
    struct sea_tape *saved = s->tape;
    s->tape = NULL; /* backward kernels are never recorded */
    sea_status st = SEA_OK;
    for (size_t k = t->n_ops; k-- > 0 && !st;) {
        sea_op op = t->ops[k].op;
        sea_tensor gout_views[SEA_OP_MAX_OUT], gin_views[SEA_OP_MAX_IN];
        bool any = false;
        for (int j = 0; j < SEA_OP_MAX_OUT && !st; j++) {
            struct grad_entry *e = op.out[j] ? find_entry(t, op.out[j]) : NULL;
            op.gout[j] = NULL;
            if (!e || !e->grad.buf) continue;
            st = grad_as(e, op.out[j], &gout_views[j]);
            op.gout[j] = &gout_views[j];
            any = true;
        }
        if (!any || st) continue;
        for (int i = 0; i < SEA_OP_MAX_IN && !st; i++) {
            op.gin[i] = NULL;
            if (!op.in[i] || !is_float(op.in[i]->dtype)) continue;
            struct grad_entry *e = find_entry(t, op.in[i]);
            if (!e) continue;
            st = materialize(t, s, e);
            if (!st) st = grad_as(e, op.in[i], &gin_views[i]);
            op.gin[i] = &gin_views[i];
        }
        if (!st) st = sea_op_run_backward(s, &op);
        if (st) sea_error_context(st, "backward of recorded op %zu (%s)", k, sea_op_name(op.kind));
    }
    s->tape = saved;
    return st;
}

sea_status sea_tape_backward(sea_tape *t, sea_stream *s, const sea_tensor *out, const sea_tensor *gout)
{
    SEA_TRY(sea_tape_seed(t, s, out, gout));
    return sea_tape_backward_seeded(t, s);
}

const sea_tensor *sea_tape_grad(const sea_tape *t, const sea_tensor *x)
{
    struct grad_entry *e = find_entry(t, x);
    return e && e->grad.buf ? &e->grad : NULL;
}
