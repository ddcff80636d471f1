#include "alignment/learner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/nccl.h"
#include "runtime/ops.h"

struct sea_learner {
    sea_learner_cfg cfg;
    sea_model *policy, *ref;
    sea_stream *s;
    sea_tensor params, grads;   /* views owned by the model */
    sea_tensor m, v, norm;      /* (P), (P), (1) */
    int step;                   /* optimizer steps taken */
    int bad_in_a_row;
    sea_nccl *nccl;             /* gradient all-reduce on the device (CUDA ranks), else NULL: host MPI */
};

sea_status sea_learner_create(sea_model *policy, sea_model *ref, const sea_learner_cfg *cfg, sea_learner **out)
{
    *out = NULL;
    sea_learner *l = calloc(1, sizeof *l);
    if (!l) return sea_error(SEA_ERR_OOM, "learner");
    l->cfg = *cfg;
    if (l->cfg.micro_pairs <= 0) l->cfg.micro_pairs = 16;
    l->policy = policy;
    l->ref = ref;
    sea_device *dev = sea_model_device(policy);
    l->s = sea_device_stream(dev);
    sea_status st = sea_model_params(policy, &l->params, &l->grads);
    int64_t P = sea_tensor_numel(&l->params), one = 1;
    if (!st) st = sea_tensor_alloc(dev, SEA_F32, 1, &P, &l->m);
    if (!st) st = sea_tensor_alloc(dev, SEA_F32, 1, &P, &l->v);
    if (!st) st = sea_tensor_alloc(dev, SEA_F32, 1, &one, &l->norm);
    if (!st) st = sea_fill(l->s, &l->m, 0.0);
    if (!st) st = sea_fill(l->s, &l->v, 0.0);
    if (!st && sea_dist_size(cfg->dist) > 1) {
        char why[600];
        st = sea_nccl_open(cfg->dist, dev, &l->nccl, why, sizeof why);
        if (!st && why[0]) fprintf(stderr, "sea: %s: gradients all-reduced through host memory\n", why);
    }
    if (st) {
        sea_learner_free(l);
        return sea_error_context(st, "learner: Adam state for %lld parameters", (long long)P);
    }
    *out = l;
    return SEA_OK;
}

void sea_learner_free(sea_learner *l)
{
    if (!l) return;
    sea_tensor_free(&l->m);
    sea_tensor_free(&l->v);
    sea_tensor_free(&l->norm);
    sea_nccl_close(l->nccl);
    free(l);
}

int sea_learner_steps_taken(const sea_learner *l) { return l->step; }
struct sea_nccl *sea_learner_nccl(const sea_learner *l) { return l ? l->nccl : NULL; }

int sea_learner_pair_rank(const sea_learner_cfg *cfg, int pair, int ranks)
{
    int micro = cfg->micro_pairs > 0 ? cfg->micro_pairs : 16;
    return ranks > 1 ? (pair / micro) % ranks : 0;
}

double sea_learner_lr_at(const sea_learner_cfg *c, int step)
{
    int total = c->total_steps > 1 ? c->total_steps : 1;
    int warm = (int)floor(c->warmup_ratio * total + 0.5);
    if (warm < 1) warm = 1;
    double floor_lr = c->floor_ratio * c->lr;
    if (step < warm) return c->lr * (step + 1) / warm;
    double prog = (double)(step - warm) / (total - warm > 0 ? total - warm : 1);
    if (prog > 1) prog = 1;
    return floor_lr + (c->lr - floor_lr) * 0.5 * (1 + cos(M_PI * prog));
}

/* Rows (2n, T): row i = prompt_i + chosen_i, row n+i = prompt_i + rejected_i, right padded;
 * resp_mask marks response tokens. */
typedef struct batch {
    int rows, T;
    int32_t *ids, *valid;
    float *resp;
} batch;

static void batch_free(batch *b)
{
    free(b->ids);
    free(b->valid);
    free(b->resp);
    memset(b, 0, sizeof *b);
}

static sea_status batch_build(batch *b, const int32_t *const *prompts, const int *plens, const int32_t *const *resp,
                              const int *rlens, int rows)
{
    memset(b, 0, sizeof *b);
    int T = 1;
    for (int r = 0; r < rows; r++)
        if (plens[r] + rlens[r] > T) T = plens[r] + rlens[r];
    b->rows = rows;
    b->T = T;
    b->ids = calloc((size_t)rows * T, sizeof(int32_t));
    b->valid = calloc((size_t)rows * T, sizeof(int32_t));
    b->resp = calloc((size_t)rows * T, sizeof(float));
    if (!b->ids || !b->valid || !b->resp) {
        batch_free(b);
        return sea_error(SEA_ERR_OOM, "learner batch (%d, %d)", rows, T);
    }
    for (int r = 0; r < rows; r++) {
        int32_t *row = b->ids + (size_t)r * T;
        memcpy(row, prompts[r], sizeof(int32_t) * plens[r]);
        memcpy(row + plens[r], resp[r], sizeof(int32_t) * rlens[r]);
        for (int t = 0; t < plens[r] + rlens[r]; t++) b->valid[(size_t)r * T + t] = 1;
        for (int t = plens[r]; t < plens[r] + rlens[r]; t++) b->resp[(size_t)r * T + t] = 1;
    }
    return SEA_OK;
}

sea_status sea_sequence_logps(sea_model *m, const int32_t *const *prompts, const int *prompt_lens,
                              const int32_t *const *resp, const int *resp_lens, int n, bool mean, double *out)
{
    sea_stream *s = sea_device_stream(sea_model_device(m));
    const int chunk = 32;
    float buf[32];
    for (int i0 = 0; i0 < n; i0 += chunk) {
        int k = n - i0 < chunk ? n - i0 : chunk;
        batch b;
        SEA_TRY(batch_build(&b, prompts + i0, prompt_lens + i0, resp + i0, resp_lens + i0, k));
        sea_status st = sea_model_forward_logprobs(m, s, b.ids, b.valid, b.resp, b.rows, b.T, false, mean ? NULL : buf,
                                                   mean ? buf : NULL, NULL);
        batch_free(&b);
        if (st) return st;
        for (int i = 0; i < k; i++) out[i0 + i] = buf[i];
    }
    return SEA_OK;
}

/* Log-probs of the 2n sequences of pairs [i0, i0+k) under model m. */
static sea_status pair_rows(const sea_pair *p, int k, batch *b)
{
    const int32_t **pr = malloc(sizeof(int32_t *) * 2 * k), **rs = malloc(sizeof(int32_t *) * 2 * k);
    int *pl = malloc(sizeof(int) * 2 * k), *rl = malloc(sizeof(int) * 2 * k);
    sea_status st = (pr && rs && pl && rl) ? SEA_OK : sea_error(SEA_ERR_OOM, "learner rows");
    if (!st) {
        for (int i = 0; i < k; i++) {
            pr[i] = pr[k + i] = p[i].prompt;
            pl[i] = pl[k + i] = p[i].prompt_len;
            rs[i] = p[i].chosen;
            rl[i] = p[i].chosen_len;
            rs[k + i] = p[i].rejected;
            rl[k + i] = p[i].rejected_len;
        }
        st = batch_build(b, pr, pl, rs, rl, 2 * k);
    }
    free(pr);
    free(rs);
    free(pl);
    free(rl);
    return st;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Data parallel: every rank filled the per-pair values of its own micro-batches (zeros
 * elsewhere) and accumulated their gradients; sum both over ranks so every rank holds the
 * whole round's values and gradient. */
static sea_status share_across_ranks(sea_learner *l, int n, double *pc, double *pr, double *rc, double *rr,
                                     double *sum_c, double *sum_r, bool *nonfinite, double *seconds)
{
    double t0 = wall_s();
    size_t nd = (size_t)6 * n + 1;
    double *pack = malloc(sizeof(double) * nd);
    size_t ng = (size_t)sea_tensor_numel(&l->grads);
    float *g = l->nccl ? NULL : malloc(sizeof(float) * (ng ? ng : 1)); /* the host path's copy */
    sea_status s = pack && (g || l->nccl) ? SEA_OK : sea_error(SEA_ERR_OOM, "learner all-reduce: %zu gradients", ng);
    double *const parts[6] = {pc, pr, rc, rr, sum_c, sum_r};
    if (!s) {
        for (int a = 0; a < 6; a++) memcpy(pack + (size_t)a * n, parts[a], sizeof(double) * (size_t)n);
        pack[6 * (size_t)n] = *nonfinite ? 1.0 : 0.0;
        s = sea_dist_allreduce_sum_f64(l->cfg.dist, pack, nd);
    }
    if (!s) {
        for (int a = 0; a < 6; a++) memcpy(parts[a], pack + (size_t)a * n, sizeof(double) * (size_t)n);
        *nonfinite = pack[6 * (size_t)n] != 0;
        /* gradients: on the device with NCCL (ring order), else through host memory (rank order) */
        if (l->nccl) s = sea_nccl_allreduce_sum(l->nccl, l->grads.buf, l->grads.offset, ng);
        else s = sea_tensor_read_f32(l->s, &l->grads, g);
    }
    if (!s && !l->nccl) s = sea_dist_allreduce_sum(l->cfg.dist, g, ng);
    if (!s && !l->nccl) s = sea_tensor_write_f32(l->s, &l->grads, g);
    free(pack);
    free(g);
    *seconds = wall_s() - t0;
    return s;
}

sea_status sea_learner_step(sea_learner *l, const sea_pair *pairs, int n, sea_learner_stats *out)
{
    sea_learner_stats st;
    memset(&st, 0, sizeof st);
    st.logp_mismatch = NAN;
    const sea_learner_cfg *c = &l->cfg;
    bool mean = sea_pref_algo_uses_mean(c->loss.algo), use_ref = sea_pref_algo_uses_ref(c->loss.algo);
    st.lr = sea_learner_lr_at(c, l->step);
    if (n <= 0) {
        st.skipped = true;
        if (out) *out = st;
        return SEA_OK;
    }
    double *pc = calloc((size_t)n, sizeof(double)), *pr = calloc((size_t)n, sizeof(double));
    double *rc = calloc((size_t)n, sizeof(double)), *rr = calloc((size_t)n, sizeof(double));
    double *dpc = calloc((size_t)n, sizeof(double)), *dpr = calloc((size_t)n, sizeof(double));
    double *sum_c = calloc((size_t)n, sizeof(double)), *sum_r = calloc((size_t)n, sizeof(double));
    float *mask = calloc((size_t)n, sizeof(float));
    sea_status s = (pc && pr && rc && rr && dpc && dpr && mask && sum_c && sum_r) ? SEA_OK
                                                                                   : sea_error(SEA_ERR_OOM, "learner: %d pairs", n);
    for (int i = 0; i < n; i++)
        if (mask) mask[i] = pairs[i].mask;
    int mchunk = c->micro_pairs;
    float *f_sum = malloc(sizeof(float) * 2 * mchunk), *f_mean = malloc(sizeof(float) * 2 * mchunk);
    float *d_sum = malloc(sizeof(float) * 2 * mchunk), *d_mean = malloc(sizeof(float) * 2 * mchunk);
    if (!s && (!f_sum || !f_mean || !d_sum || !d_mean)) s = sea_error(SEA_ERR_OOM, "learner buffers");
    if (!s) s = sea_model_zero_grad(l->policy, l->s);
    bool nonfinite = false;
    const int rank = sea_dist_rank(c->dist), ranks = sea_dist_size(c->dist);
    for (int i0 = 0; i0 < n && !s; i0 += mchunk) {
        int k = n - i0 < mchunk ? n - i0 : mchunk;
        if (sea_learner_pair_rank(c, i0, ranks) != rank) continue; /* another rank's micro-batch */
        batch b;
        s = pair_rows(pairs + i0, k, &b);
        if (s) break;
        if (use_ref) {
            s = sea_model_forward_logprobs(l->ref, l->s, b.ids, b.valid, b.resp, b.rows, b.T, false, f_sum, f_mean, NULL);
            for (int i = 0; i < k && !s; i++) {
                rc[i0 + i] = mean ? f_mean[i] : f_sum[i];
                rr[i0 + i] = mean ? f_mean[k + i] : f_sum[k + i];
            }
        }
        if (!s) s = sea_model_forward_logprobs(l->policy, l->s, b.ids, b.valid, b.resp, b.rows, b.T, true, f_sum, f_mean, NULL);
        if (!s) {
            for (int i = 0; i < k; i++) {
                pc[i0 + i] = mean ? f_mean[i] : f_sum[i];
                pr[i0 + i] = mean ? f_mean[k + i] : f_sum[k + i];
                sum_c[i0 + i] = f_sum[i];
                sum_r[i0 + i] = f_sum[k + i];
            }
            /* derivatives of this chunk's pairs; the loss is a mean over all n pairs */
            sea_status ls = sea_pref_loss(&c->loss, k, pc + i0, pr + i0, use_ref ? rc + i0 : NULL, use_ref ? rr + i0 : NULL,
                                          mask + i0, dpc + i0, dpr + i0, NULL);
            if (ls == SEA_ERR_NUMERIC) {
                nonfinite = true;
                for (int i = 0; i < k; i++) dpc[i0 + i] = dpr[i0 + i] = 0;
            } else if (ls) {
                s = ls;
                batch_free(&b);
                break;
            }
            double scale = (double)k / n;
            for (int i = 0; i < 2 * k; i++) d_sum[i] = d_mean[i] = 0;
            for (int i = 0; i < k; i++) {
                double gc = dpc[i0 + i] * scale, gr = dpr[i0 + i] * scale;
                /* XPO: + alpha * mean log π(y_ref) over the used pairs (summed log-probs) */
                if (pairs[i0 + i].xpo_ref_side && mask[i0 + i] != 0) {
                    int used = 0;
                    for (int q = 0; q < n; q++) used += mask[q] != 0 && pairs[q].xpo_ref_side;
                    double g = c->xpo_alpha / (used ? used : 1);
                    if (pairs[i0 + i].xpo_ref_side == 1) d_sum[i] += (float)g;
                    else d_sum[k + i] += (float)g;
                }
                if (mean) {
                    d_mean[i] = (float)gc;
                    d_mean[k + i] = (float)gr;
                } else {
                    d_sum[i] += (float)gc;
                    d_sum[k + i] += (float)gr;
                }
            }
            s = sea_model_backward_logprobs(l->policy, l->s, d_sum, d_mean);
        }
        batch_free(&b);
    }
    if (!s && ranks > 1) s = share_across_ranks(l, n, pc, pr, rc, rr, sum_c, sum_r, &nonfinite, &st.allreduce_s);
    if (!s) {
        sea_status ls = sea_pref_loss(&c->loss, n, pc, pr, use_ref ? rc : NULL, use_ref ? rr : NULL, mask, NULL, NULL, &st.pref);
        if (ls == SEA_ERR_NUMERIC) nonfinite = true;
        else if (ls) s = ls;
        st.loss = st.pref.loss;
        double xs = 0, mis = 0, kl = 0;
        int xn = 0, mn = 0, kn = 0;
        for (int i = 0; i < n; i++) {
            if (mask[i] == 0) continue;
            if (pairs[i].xpo_ref_side) {
                xs += pairs[i].xpo_ref_side == 1 ? sum_c[i] : sum_r[i];
                xn++;
            }
            if (isfinite(pairs[i].sample_logp_chosen)) { mis += fabs(pairs[i].sample_logp_chosen - sum_c[i]); mn++; }
            if (isfinite(pairs[i].sample_logp_rejected)) { mis += fabs(pairs[i].sample_logp_rejected - sum_r[i]); mn++; }
            if (use_ref && !mean) { kl += (pc[i] - rc[i]) + (pr[i] - rr[i]); kn += 2; }
        }
        if (xn) st.loss += c->xpo_alpha * xs / xn;
        if (mn) st.logp_mismatch = mis / mn;
        st.kl = kn ? kl / kn : 0;
    }
    if (!s) {
        s = sea_global_norm(l->s, &l->grads, &l->norm);
        float nrm = 0;
        if (!s) s = sea_tensor_read_f32(l->s, &l->norm, &nrm);
        st.grad_norm = nrm;
        if (!s && (nonfinite || !isfinite(st.loss) || !isfinite(nrm))) {
            st.skipped = true;
            l->bad_in_a_row++;
            if (l->bad_in_a_row >= c->max_bad_steps)
                s = sea_error(SEA_ERR_NUMERIC,
                              "learner: %d optimizer steps in a row had a non-finite loss (%g) or gradient norm (%g); "
                              "stopping with the last checkpoint intact (lower --learning-rate?)",
                              l->bad_in_a_row, st.loss, (double)nrm);
        } else if (!s) {
            l->bad_in_a_row = 0;
            s = sea_clip(l->s, &l->grads, &l->norm, (float)c->max_norm);
            if (!s) s = sea_adamw(l->s, &l->params, &l->grads, &l->m, &l->v, (float)st.lr, (float)c->beta1, (float)c->beta2,
                                  (float)c->eps, 0.0f, 0.0f, l->step + 1);
            if (!s) l->step++;
        }
    }
    free(pc); free(pr); free(rc); free(rr); free(dpc); free(dpr); free(sum_c); free(sum_r); free(mask);
    free(f_sum); free(f_mean); free(d_sum); free(d_mean);
    if (out) *out = st;
    return s;
}

sea_status sea_learner_write(sea_learner *l, FILE *f)
{
    int64_t P = sea_tensor_numel(&l->m);
    int32_t hdr[4] = {l->step, l->bad_in_a_row, (int32_t)(P & 0x7fffffff), (int32_t)(P >> 31)};
    if (fwrite(hdr, sizeof hdr, 1, f) != 1) return sea_error(SEA_ERR_IO, "learner checkpoint: write");
    float *buf = malloc(sizeof(float) * (size_t)P);
    if (!buf) return sea_error(SEA_ERR_OOM, "learner checkpoint");
    sea_status st = SEA_OK;
    sea_tensor *t[3] = {&l->params, &l->m, &l->v};
    for (int i = 0; i < 3 && !st; i++) {
        st = sea_tensor_read_f32(l->s, t[i], buf);
        if (!st && fwrite(buf, sizeof(float), (size_t)P, f) != (size_t)P) st = sea_error(SEA_ERR_IO, "learner checkpoint: write");
    }
    free(buf);
    return st;
}

/* learner.bin's header {step, bad steps in a row, P mod 2^31, P / 2^31}: every field
 * non-negative (a corrupted file must not shift a negative value) and P the policy's. */
static sea_status check_header(const int32_t hdr[4], int64_t P)
{
    if (hdr[0] < 0 || hdr[1] < 0 || hdr[2] < 0 || hdr[3] < 0)
        return sea_error(SEA_ERR_FORMAT, "learner checkpoint: header {%d, %d, %d, %d} has a negative field (corrupted?)",
                         hdr[0], hdr[1], hdr[2], hdr[3]);
    int64_t Pf = (int64_t)hdr[2] + (int64_t)hdr[3] * 2147483648LL;
    if (Pf != P)
        return sea_error(SEA_ERR_FORMAT, "learner checkpoint: %lld parameters, the policy has %lld", (long long)Pf,
                         (long long)P);
    return SEA_OK;
}

sea_status sea_learner_read(sea_learner *l, FILE *f)
{
    int64_t P = sea_tensor_numel(&l->m);
    int32_t hdr[4];
    if (fread(hdr, sizeof hdr, 1, f) != 1) return sea_error(SEA_ERR_FORMAT, "learner checkpoint: truncated");
    SEA_TRY(check_header(hdr, P));
    l->step = hdr[0];
    l->bad_in_a_row = hdr[1];
    float *buf = malloc(sizeof(float) * (size_t)P);
    if (!buf) return sea_error(SEA_ERR_OOM, "learner checkpoint");
    sea_status st = SEA_OK;
    sea_tensor *t[3] = {&l->params, &l->m, &l->v};
    for (int i = 0; i < 3 && !st; i++) {
        if (fread(buf, sizeof(float), (size_t)P, f) != (size_t)P) st = sea_error(SEA_ERR_FORMAT, "learner checkpoint: truncated");
        else st = sea_tensor_write_f32(l->s, t[i], buf);
    }
    free(buf);
    return st;
}

sea_status sea_learner_read_params(sea_model *policy, FILE *f)
{
    sea_tensor params;
    SEA_TRY(sea_model_params(policy, &params, NULL));
    int64_t P = sea_tensor_numel(&params);
    int32_t hdr[4];
    if (fread(hdr, sizeof hdr, 1, f) != 1) return sea_error(SEA_ERR_FORMAT, "learner checkpoint: truncated");
    SEA_TRY(check_header(hdr, P));
    float *buf = malloc(sizeof(float) * (size_t)P);
    if (!buf) return sea_error(SEA_ERR_OOM, "learner checkpoint");
    sea_status st = fread(buf, sizeof(float), (size_t)P, f) == (size_t)P ? SEA_OK
                                                                       : sea_error(SEA_ERR_FORMAT, "learner checkpoint: truncated");
    if (!st) st = sea_tensor_write_f32(sea_device_stream(sea_model_device(policy)), &params, buf);
    free(buf);
    return st;
}
