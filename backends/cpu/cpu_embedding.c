/* Embedding gather and its scatter-add backward.
 * The backward splits the work over feature columns, not over ids: every table row is then
 * updated by one thread, visiting ids in order, so repeated ids accumulate deterministically. */
#include <stdio.h>
#include <string.h>

#include "cpu_internal.h"

typedef struct emb_ctx {
    const float *table;   /* (V, D) */
    const int32_t *ids;   /* (N) */
    float *out;           /* (N, D) gather target, or gout (N, D) in backward */
    float *gtable;        /* (V, D) backward */
    int64_t V, D, N;
} emb_ctx;

static void gather_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    emb_ctx *c = vctx;
    (void)tid;
    for (int64_t n = begin; n < end; n++) {
        int32_t id = c->ids[n];
        memcpy(c->out + n * c->D, c->table + (int64_t)id * c->D, (size_t)c->D * sizeof(float));
    }
}

/* Items are blocks of 16 columns. */
static void scatter_cols(void *vctx, int64_t begin, int64_t end, int tid)
{
    emb_ctx *c = vctx;
    (void)tid;
    int64_t d0 = begin * 16, d1 = end * 16 < c->D ? end * 16 : c->D;
    for (int64_t n = 0; n < c->N; n++) {
        int32_t id = c->ids[n];
        if (id < 0 || id >= c->V) continue;
        float *g = c->gtable + (int64_t)id * c->D;
        const float *go = c->out + n * c->D;
        for (int64_t d = d0; d < d1; d++) g[d] += go[d];
    }
}

static sea_status check_ids(const emb_ctx *c)
{
    for (int64_t n = 0; n < c->N; n++)
        if (c->ids[n] < 0 || c->ids[n] >= c->V)
            return sea_error(SEA_ERR_INVALID, "embedding: ids[%lld] = %d is outside [0, %lld) (table (%lld, %lld) f32) on cpu",
                             (long long)n, c->ids[n], (long long)c->V, (long long)c->V, (long long)c->D);
    return SEA_OK;
}

sea_status sea_cpu_embedding(const sea_op *op)
{
    emb_ctx c = {.table = cpu_f32(op->in[0]), .ids = cpu_i32(op->in[1]), .out = cpu_f32(op->out[0]),
                 .V = op->in[0]->shape[0], .D = op->in[0]->shape[1], .N = cpu_numel(op->in[1])};
    SEA_TRY(check_ids(&c));
    cpu_for(c.N, cpu_min_items(c.D), gather_rows, &c);
    return SEA_OK;
}

sea_status sea_cpu_embedding_backward(const sea_op *op)
{
    if (!op->gin[0] || !op->gout[0]) return SEA_OK;
    emb_ctx c = {.table = cpu_f32(op->in[0]), .ids = cpu_i32(op->in[1]), .out = cpu_f32(op->gout[0]),
                 .gtable = cpu_f32(op->gin[0]), .V = op->in[0]->shape[0], .D = op->in[0]->shape[1],
                 .N = cpu_numel(op->in[1])};
    SEA_TRY(check_ids(&c));
    cpu_for((c.D + 15) / 16, cpu_min_items(16 * c.N), scatter_cols, &c);
    return SEA_OK;
}
