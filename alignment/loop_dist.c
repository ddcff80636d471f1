/* The SEA loop across MPI ranks (SPMD: every rank of r->team runs the same loop on the same
 * state; r->team is the world, or the actors of a role-split run: loop_roles.c).
 *
 * Per round: each rank samples responses for its contiguous block of the round's prompts
 * (with the global sequence ids, so the same tokens as one process would draw) and computes
 * their features; the blocks are all-gathered in rank order. Rank 0 asks the oracle (once per
 * pair, logged before use) and broadcasts the labels. Every rank then holds the whole round
 * and runs the deterministic parts (ERM predictions, selection, replay buffer, ERM updates)
 * identically: the ERM and its replay buffer are replicated, not communicated, because the
 * inputs and the RNG streams are the same on every rank. The learner is data parallel
 * (learner.c: micro-batches split across ranks, gradients all-reduced). After the step rank
 * 0's policy weights are broadcast in buckets ("sync"; timing/broadcast), which also keeps the
 * replicas bit-identical. Only rank 0 writes files (metrics, checkpoints, oracle log).
 * A checkpoint holds no per-rank state, so a run resumes on any number of ranks. */
#include <stdlib.h>
#include <string.h>

#include "alignment/loop_dist.h"
#include "dist/nccl.h"

void sea_run_split(const sea_run *r, int n, int *lo, int *hi)
{
    int rank = sea_dist_rank(r->team), size = sea_dist_size(r->team);
    *lo = (int)((int64_t)n * rank / size);
    *hi = (int)((int64_t)n * (rank + 1) / size);
}

/* Wire format of one rank's candidates: int32 count, then per candidate: int32 len,
 * f64 logp_sum, int32 text bytes, max_new int32 tokens, the text. */
static size_t wire_size(const sea_candidates *c)
{
    size_t n = 4;
    for (int i = 0; i < c->n; i++)
        n += 4 + 8 + 4 + (size_t)c->max_new * 4 + strlen(c->text[i]);
    return n;
}

static char *put(char *p, const void *v, size_t n)
{
    memcpy(p, v, n);
    return p + n;
}

static const char *get(const char *p, void *v, size_t n)
{
    memcpy(v, p, n);
    return p + n;
}

sea_status sea_run_gather_candidates(sea_run *r, sea_candidates *mine, sea_candidates *all)
{
    if (sea_dist_size(r->team) == 1) {
        *all = *mine;
        memset(mine, 0, sizeof *mine);
        return SEA_OK;
    }
    memset(all, 0, sizeof *all);
    size_t bytes = wire_size(mine);
    char *buf = malloc(bytes), *p = buf;
    if (!buf) return sea_error(SEA_ERR_OOM, "gathering candidates: %zu bytes", bytes);
    int32_t n = mine->n;
    p = put(p, &n, 4);
    for (int i = 0; i < mine->n; i++) {
        int32_t len = mine->lens[i], tl = (int32_t)strlen(mine->text[i]);
        p = put(p, &len, 4);
        p = put(p, &mine->logp_sum[i], 8);
        p = put(p, &tl, 4);
        p = put(p, sea_candidate_tokens(mine, i), (size_t)mine->max_new * 4);
        p = put(p, mine->text[i], (size_t)tl);
    }
    void *got = NULL;
    size_t got_bytes = 0;
    int size = sea_dist_size(r->team);
    size_t *counts = calloc((size_t)size, sizeof *counts);
    sea_status st = counts ? sea_dist_allgather(r->team, buf, bytes, &got, &got_bytes, counts)
                           : sea_error(SEA_ERR_OOM, "gathering candidates");
    free(buf);
    /* Count first, then unpack every rank's block in rank order. */
    int total = 0;
    const char *q = got;
    for (int k = 0; !st && k < size; k++) {
        int32_t m;
        get(q, &m, 4);
        total += m;
        q += counts[k];
    }
    if (!st) {
        all->n = total;
        all->per = mine->per;
        all->max_new = mine->max_new;
        all->tokens = malloc(sizeof(int32_t) * (size_t)(total ? total : 1) * all->max_new);
        all->lens = malloc(sizeof(int) * (size_t)(total ? total : 1));
        all->logp_sum = malloc(sizeof(double) * (size_t)(total ? total : 1));
        all->text = calloc((size_t)(total ? total : 1), sizeof(char *));
        if (!all->tokens || !all->lens || !all->logp_sum || !all->text)
            st = sea_error(SEA_ERR_OOM, "gathering %d candidates", total);
    }
    int at = 0;
    q = got;
    for (int k = 0; !st && k < size; k++) {
        int32_t m;
        q = get(q, &m, 4);
        for (int i = 0; i < m && !st; i++, at++) {
            int32_t len, tl;
            q = get(q, &len, 4);
            q = get(q, &all->logp_sum[at], 8);
            q = get(q, &tl, 4);
            all->lens[at] = len;
            q = get(q, all->tokens + (size_t)at * all->max_new, (size_t)all->max_new * 4);
            all->text[at] = malloc((size_t)tl + 1);
            if (!all->text[at]) {
                st = sea_error(SEA_ERR_OOM, "gathering candidates");
                break;
            }
            q = get(q, all->text[at], (size_t)tl);
            all->text[at][tl] = '\0';
        }
    }
    free(got);
    free(counts);
    sea_candidates_free(mine);
    if (st) sea_candidates_free(all);
    return st;
}

sea_status sea_run_gather_floats(sea_run *r, const float *mine, size_t n_mine, float *all)
{
    if (sea_dist_size(r->team) == 1) {
        if (all != mine) memmove(all, mine, n_mine * sizeof(float));
        return SEA_OK;
    }
    void *got;
    size_t bytes;
    SEA_TRY(sea_dist_allgather(r->team, mine, n_mine * sizeof(float), &got, &bytes, NULL));
    memcpy(all, got, bytes);
    free(got);
    return SEA_OK;
}

sea_status sea_run_share_labels(sea_run *r, int n, double *p, int *win, float *mask, int *n_queried, int *extra,
                                int n_extra)
{
    if (sea_dist_size(r->team) == 1) return SEA_OK;
    /* (p, win, mask) per pair, the query count, extra counters and the label RNG's position. */
    size_t nd = (size_t)3 * n + 2 + (size_t)n_extra;
    double *pack = malloc(sizeof(double) * nd);
    if (!pack) return sea_error(SEA_ERR_OOM, "sharing labels");
    for (int i = 0; i < n; i++) {
        pack[3 * i] = p[i];
        pack[3 * i + 1] = win[i];
        pack[3 * i + 2] = mask[i];
    }
    pack[3 * n] = *n_queried;
    pack[3 * n + 1] = (double)r->rng[RNG_LABEL].counter; /* < 2^53 in any real run */
    for (int j = 0; j < n_extra; j++) pack[3 * n + 2 + j] = extra[j];
    sea_status st = sea_dist_broadcast(r->team, pack, sizeof(double) * nd, 0, 0, NULL);
    if (!st) {
        for (int i = 0; i < n; i++) {
            p[i] = pack[3 * i];
            win[i] = (int)pack[3 * i + 1];
            mask[i] = (float)pack[3 * i + 2];
        }
        *n_queried = (int)pack[3 * n];
        r->rng[RNG_LABEL].counter = (uint64_t)pack[3 * n + 1];
        for (int j = 0; j < n_extra; j++) extra[j] = (int)pack[3 * n + 2 + j];
    }
    free(pack);
    return st;
}

sea_status sea_run_share_double(sea_run *r, double *v)
{
    if (sea_dist_size(r->team) == 1) return SEA_OK;
    return sea_dist_broadcast(r->team, v, sizeof *v, 0, 0, NULL);
}

sea_status sea_run_broadcast_policy(sea_run *r, sea_dist *group, int root, double *seconds)
{
    *seconds = 0;
    if (sea_dist_size(group) == 1) return SEA_OK;
    sea_tensor params, grads;
    SEA_TRY(sea_model_params(r->policy, &params, &grads));
    size_t bytes = sea_tensor_nbytes(&params), bucket = (size_t)r->cfg.broadcast_bucket_mb << 20;
    sea_stream *s = sea_device_stream(sea_model_device(r->policy));
    /* CUDA ranks with NCCL: device to device, in place */
    sea_nccl *nc = group == r->sync ? r->sync_nccl : group == r->team ? sea_learner_nccl(r->learner) : NULL;
    if (nc) {
        double t0 = sea_run_now();
        SEA_TRY(sea_nccl_broadcast(nc, params.buf, params.offset, bytes, root));
        sea_buffer_touch(params.buf);   /* written behind the runtime's back: a bf16 copy refreshes */
        *seconds = sea_run_now() - t0;
        return SEA_OK;
    }
    if (params.buf->host) { /* host memory (cpu): broadcast in place */
        sea_buffer_touch(params.buf);
        return sea_dist_broadcast(group, (char *)params.buf->host + params.offset, bytes, root, bucket, seconds);
    }
    void *host = malloc(bytes);
    if (!host) return sea_error(SEA_ERR_OOM, "weight broadcast: %zu bytes of host memory", bytes);
    bool sender = sea_dist_rank(group) == root;
    sea_status st = sender ? sea_buffer_read(s, params.buf, params.offset, host, bytes) : SEA_OK;
    if (!st) st = sea_dist_broadcast(group, host, bytes, root, bucket, seconds);
    if (!st && !sender) st = sea_buffer_write(s, params.buf, params.offset, host, bytes);
    free(host);
    return st;
}

sea_status sea_run_share_policy(sea_run *r, double *seconds)
{
    return sea_run_broadcast_policy(r, r->team, 0, seconds);
}
