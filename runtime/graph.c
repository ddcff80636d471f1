/* Captured op sequences (see graph.h): the native path hands capture to the backend (CUDA
 * stream capture); the generic path keeps copies of the validated ops and calls the backend's
 * op_forward for each at launch. Both keep the buffers the ops touch alive. */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

/* A recorded op: its tensors are copied (callers pass views on their stack). */
typedef struct graph_op {
    sea_op_kind kind;
    sea_op_params p;
    sea_tensor in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT];
    unsigned has_in, has_out;   /* bit i: in[i] / out[i] present */
} graph_op;

struct sea_graph {
    sea_device *dev;
    void *native;              /* backend graph, or NULL: replay ops[] */
    graph_op *ops;
    int n_ops, cap_ops;
    sea_buffer **bufs;         /* retained; duplicates allowed (one retain each) */
    int n_bufs, cap_bufs;
    sea_buffer **written;      /* outputs: their write generation is bumped per launch */
    int n_written, cap_written;
};

static bool grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap) return true;
    int c = *cap ? *cap * 2 : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

static sea_status keep_buffer(sea_graph *g, sea_buffer *b, bool written)
{
    if (!grow((void **)&g->bufs, &g->cap_bufs, g->n_bufs + 1, sizeof *g->bufs) ||
        (written && !grow((void **)&g->written, &g->cap_written, g->n_written + 1, sizeof *g->written)))
        return sea_error(SEA_ERR_OOM, "graph capture: out of host memory");
    sea_buffer_retain(b);
    g->bufs[g->n_bufs++] = b;
    if (written) g->written[g->n_written++] = b;
    return SEA_OK;
}

void sea_graph_free(sea_graph *g)
{
    if (!g) return;
    if (g->native && g->dev->backend->graph_free) g->dev->backend->graph_free(g->dev, g->native);
    for (int i = 0; i < g->n_bufs; i++) sea_buffer_release(g->bufs[i]);
    free(g->bufs);
    free(g->written);
    free(g->ops);
    free(g);
}

bool sea_graph_capturing(const sea_stream *s) { return s && s->capture; }

sea_status sea_graph_capture_begin(sea_stream *s)
{
    if (!s) return sea_error(SEA_ERR_INVALID, "graph capture: NULL stream");
    if (s->capture) return sea_error(SEA_ERR_INVALID, "%s: the stream is already capturing a graph", sea_device_label(s->dev));
    if (s->tape)
        return sea_error(SEA_ERR_INVALID, "%s: cannot capture a graph while the stream records a tape (training)",
                         sea_device_label(s->dev));
    sea_graph *g = calloc(1, sizeof *g);
    if (!g) return sea_error(SEA_ERR_OOM, "graph capture: out of host memory");
    g->dev = s->dev;
    const struct sea_backend_ops *be = s->dev->backend;
    if (be->graph_begin) {
        sea_status st = be->graph_begin(s);
        if (st) {
            free(g);
            return sea_error_context(st, "%s: starting a graph capture", sea_device_label(s->dev));
        }
    }
    s->capture = g;
    return SEA_OK;
}

void sea_graph_capture_abort(sea_stream *s)
{
    if (!s || !s->capture) return;
    sea_graph *g = s->capture;
    s->capture = NULL;
    const struct sea_backend_ops *be = s->dev->backend;
    if (be->graph_begin) {
        void *native = NULL;
        if (!be->graph_end(s, &native) && native) be->graph_free(s->dev, native);
    }
    sea_graph_free(g);
}

sea_status sea_graph_capture_end(sea_stream *s, sea_graph **out)
{
    *out = NULL;
    if (!s || !s->capture) return sea_error(SEA_ERR_INVALID, "graph capture: the stream is not capturing");
    sea_graph *g = s->capture;
    s->capture = NULL;
    const struct sea_backend_ops *be = s->dev->backend;
    if (be->graph_begin) {
        sea_status st = be->graph_end(s, &g->native);
        if (st) {
            g->native = NULL;
            sea_graph_free(g);
            return sea_error_context(st, "%s: ending a graph capture", sea_device_label(s->dev));
        }
    }
    *out = g;
    return SEA_OK;
}

sea_status sea_graph_record_op(sea_stream *s, const sea_op *op)
{
    sea_graph *g = s->capture;
    for (int i = 0; i < SEA_OP_MAX_IN; i++)
        if (op->in[i] && op->in[i]->buf) SEA_TRY(keep_buffer(g, op->in[i]->buf, false));
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (op->out[j] && op->out[j]->buf) SEA_TRY(keep_buffer(g, op->out[j]->buf, true));
    /* A backend that captures natively holds the work itself: count the op only. */
    if (s->dev->backend->graph_begin) {
        g->n_ops++;
        return SEA_OK;
    }
    if (!grow((void **)&g->ops, &g->cap_ops, g->n_ops + 1, sizeof *g->ops))
        return sea_error(SEA_ERR_OOM, "graph capture: out of host memory for %d ops", g->n_ops + 1);
    graph_op *r = &g->ops[g->n_ops++];
    memset(r, 0, sizeof *r);
    r->kind = op->kind;
    r->p = op->p;
    for (int i = 0; i < SEA_OP_MAX_IN; i++)
        if (op->in[i]) {
            r->in[i] = *op->in[i];
            r->has_in |= 1u << i;
        }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (op->out[j]) {
            r->out[j] = *op->out[j];
            r->has_out |= 1u << j;
        }
    return SEA_OK;
}

sea_status sea_graph_launch(sea_stream *s, sea_graph *g)
{
    if (!s || !g) return sea_error(SEA_ERR_INVALID, "graph launch: NULL %s", s ? "graph" : "stream");
    if (s->dev != g->dev)
        return sea_error(SEA_ERR_DEVICE, "graph launch: captured on %s, launched on %s", sea_device_label(g->dev),
                         sea_device_label(s->dev));
    if (s->capture) return sea_error(SEA_ERR_INVALID, "%s: graph launch on a capturing stream", sea_device_label(s->dev));
    for (int i = 0; i < g->n_written; i++) g->written[i]->writes++;
    const struct sea_backend_ops *be = s->dev->backend;
    if (g->native) return be->graph_launch(s, g->native);
    for (int k = 0; k < g->n_ops; k++) {
        graph_op *r = &g->ops[k];
        sea_op op;
        memset(&op, 0, sizeof op);
        op.kind = r->kind;
        op.p = r->p;
        for (int i = 0; i < SEA_OP_MAX_IN; i++)
            if (r->has_in & (1u << i)) op.in[i] = &r->in[i];
        for (int j = 0; j < SEA_OP_MAX_OUT; j++)
            if (r->has_out & (1u << j)) op.out[j] = &r->out[j];
        sea_status st = be->op_forward(s, &op);
        if (st) return sea_error_context(st, "graph launch: op %d of %d (%s)", k + 1, g->n_ops, sea_op_name(op.kind));
    }
    return SEA_OK;
}

int sea_graph_op_count(const sea_graph *g) { return g ? g->n_ops : 0; }

bool sea_graph_is_native(const sea_graph *g) { return g && g->native; }
