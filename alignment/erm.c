#include "alignment/erm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops.h"

/* RNG stream of the ERM's weight init (other streams belong to sampling and the loop). */
#define ERM_INIT_STREAM 0x45524d31u

struct sea_erm {
    sea_erm_cfg cfg;
    sea_device *dev;
    sea_stream *s;
    int64_t P;                 /* total parameters */
    int64_t off[7];            /* offsets of W1, b1, W2, b2, W3, b3 in the flat buffer; off[6] = P */
    sea_tensor params, grads, m, v, anchors, diff, gtot; /* flat (P) */
    sea_tensor norm;           /* (1) */
    sea_tensor w[6], gw[6];    /* views of params / grads */
    int adam_step;
    /* work tensors sized for `cap` rows */
    int cap;
    sea_tensor x;              /* (cap, d) */
    sea_tensor r;              /* (K, cap) */
    sea_tensor h1, h2;         /* (K, cap, h) */
    sea_tensor gr;             /* (K, cap) */
    float *host_r, *host_gr, *host_x;
};

sea_erm_cfg sea_erm_cfg_default(int d)
{
    sea_erm_cfg c = {.K = 20, .d = d, .h = 128, .lr = 1e-3f, .l2 = 5e-5f, .lambda = 0.5f,
                     .batch = 128, .sgd_steps = 5, .fixed_reg = false, .seed = 42};
    return c;
}

const sea_erm_cfg *sea_erm_config(const sea_erm *e) { return &e->cfg; }
int64_t sea_erm_num_params(const sea_erm *e) { return e->P; }

static void free_work(sea_erm *e)
{
    sea_tensor_free(&e->x);
    sea_tensor_free(&e->r);
    sea_tensor_free(&e->h1);
    sea_tensor_free(&e->h2);
    sea_tensor_free(&e->gr);
    free(e->host_r);
    free(e->host_gr);
    free(e->host_x);
    e->host_r = e->host_gr = e->host_x = NULL;
    e->cap = 0;
}

void sea_erm_free(sea_erm *e)
{
    if (!e) return;
    free_work(e);
    sea_tensor *flat[] = {&e->params, &e->grads, &e->m, &e->v, &e->anchors, &e->diff, &e->gtot, &e->norm};
    for (size_t i = 0; i < sizeof flat / sizeof *flat; i++) sea_tensor_free(flat[i]);
    free(e);
}

/* Make sure work tensors hold at least N rows; views of the first N rows go to the caller. */
static sea_status ensure_work(sea_erm *e, int N)
{
    if (N <= e->cap) return SEA_OK;
    free_work(e);
    int cap = N < 64 ? 64 : N;
    const int K = e->cfg.K, d = e->cfg.d, h = e->cfg.h;
    int64_t sx[2] = {cap, d}, sr[2] = {K, cap}, sh[3] = {K, cap, h};
    SEA_TRY(sea_tensor_alloc(e->dev, SEA_F32, 2, sx, &e->x));
    SEA_TRY(sea_tensor_alloc(e->dev, SEA_F32, 2, sr, &e->r));
    SEA_TRY(sea_tensor_alloc(e->dev, SEA_F32, 3, sh, &e->h1));
    SEA_TRY(sea_tensor_alloc(e->dev, SEA_F32, 3, sh, &e->h2));
    SEA_TRY(sea_tensor_alloc(e->dev, SEA_F32, 2, sr, &e->gr));
    e->host_r = malloc(sizeof(float) * (size_t)K * cap);
    e->host_gr = malloc(sizeof(float) * (size_t)K * cap);
    e->host_x = malloc(sizeof(float) * (size_t)cap * d);
    if (!e->host_r || !e->host_gr || !e->host_x)
        return sea_error(SEA_ERR_OOM, "erm: work buffers for %d rows", cap);
    e->cap = cap;
    return SEA_OK;
}

/* Views of the first N rows: x (N, d), r (K, N), h1/h2 (K, N, h), gr (K, N). Rows of r are
 * K-major, so the N-row view of a (K, cap) buffer is a fresh contiguous tensor over the same
 * memory (the ensemble op wants contiguous tensors). */
static void work_views(sea_erm *e, int N, sea_tensor *x, sea_tensor *r, sea_tensor *h1, sea_tensor *h2,
                       sea_tensor *gr)
{
    const int K = e->cfg.K, d = e->cfg.d, h = e->cfg.h;
    int64_t sx[2] = {N, d}, sr[2] = {K, N}, sh[3] = {K, N, h};
    *x = sea_tensor_make(e->x.buf, e->x.offset, SEA_F32, 2, sx);
    *r = sea_tensor_make(e->r.buf, e->r.offset, SEA_F32, 2, sr);
    if (h1) *h1 = sea_tensor_make(e->h1.buf, e->h1.offset, SEA_F32, 3, sh);
    if (h2) *h2 = sea_tensor_make(e->h2.buf, e->h2.offset, SEA_F32, 3, sh);
    if (gr) *gr = sea_tensor_make(e->gr.buf, e->gr.offset, SEA_F32, 2, sr);
}

sea_status sea_erm_create(sea_device *dev, const sea_erm_cfg *cfg, sea_erm **out)
{
    *out = NULL;
    if (cfg->K < 1 || cfg->d < 1 || cfg->h < 1 || cfg->batch < 1 || cfg->sgd_steps < 0)
        return sea_error(SEA_ERR_INVALID, "erm: K %d, d %d, h %d, batch %d, sgd steps %d", cfg->K,
                         cfg->d, cfg->h, cfg->batch, cfg->sgd_steps);
    sea_erm *e = calloc(1, sizeof *e);
    if (!e) return sea_error(SEA_ERR_OOM, "erm");
    e->cfg = *cfg;
    e->dev = dev;
    e->s = sea_device_stream(dev);
    const int64_t K = cfg->K, d = cfg->d, h = cfg->h;
    int64_t sizes[6] = {K * d * h, K * h, K * h * h, K * h, K * h, K};
    e->off[0] = 0;
    for (int i = 0; i < 6; i++) e->off[i + 1] = e->off[i] + sizes[i];
    e->P = e->off[6];
    int64_t sp[1] = {e->P}, s1[1] = {1};
    sea_status st = SEA_OK;
    sea_tensor *flat[] = {&e->params, &e->grads, &e->m, &e->v, &e->anchors, &e->diff, &e->gtot};
    for (size_t i = 0; i < sizeof flat / sizeof *flat && !st; i++)
        st = sea_tensor_alloc(dev, SEA_F32, 1, sp, flat[i]);
    if (!st) st = sea_tensor_alloc(dev, SEA_F32, 1, s1, &e->norm);
    if (st) {
        sea_erm_free(e);
        return sea_error_context(st, "erm: allocating %lld parameters on %s", (long long)e->P,
                                 sea_device_label(dev));
    }
    int64_t shapes[6][3] = {{K, d, h}, {K, h, 0}, {K, h, h}, {K, h, 0}, {K, h, 0}, {K, 0, 0}};
    int ndims[6] = {3, 2, 3, 2, 2, 1};
    for (int i = 0; i < 6; i++) {
        e->w[i] = sea_tensor_make(e->params.buf, e->params.offset + (size_t)e->off[i] * 4, SEA_F32, ndims[i], shapes[i]);
        e->gw[i] = sea_tensor_make(e->grads.buf, e->grads.offset + (size_t)e->off[i] * 4, SEA_F32, ndims[i], shapes[i]);
    }
    /* Init on the host from the counter RNG: the value of parameter p depends on (seed, p)
     * only, so every device starts from the same ensemble. */
    float *host = malloc(sizeof(float) * (size_t)e->P);
    if (!host) {
        sea_erm_free(e);
        return sea_error(SEA_ERR_OOM, "erm: %lld parameters", (long long)e->P);
    }
    int64_t fan_in[6] = {d, 0, h, 0, h, 0};
    for (int i = 0; i < 6; i++) {
        double sd = fan_in[i] ? 1.0 / (2.0 * sqrt((double)fan_in[i])) : 0.0;
        for (int64_t p = e->off[i]; p < e->off[i + 1]; p++)
            host[p] = sd > 0 ? (float)(sd * sea_rng_normal(cfg->seed, ERM_INIT_STREAM, (uint64_t)p)) : 0.0f;
    }
    st = sea_tensor_write_f32(e->s, &e->params, host);
    if (!st) st = sea_tensor_write_f32(e->s, &e->anchors, host);
    free(host);
    if (!st) st = sea_fill(e->s, &e->m, 0.0);
    if (!st) st = sea_fill(e->s, &e->v, 0.0);
    if (!st) st = sea_fill(e->s, &e->grads, 0.0);
    if (st) {
        sea_erm_free(e);
        return sea_error_context(st, "erm: init");
    }
    *out = e;
    return SEA_OK;
}

static sea_status forward(sea_erm *e, int N, bool save)
{
    sea_tensor x, r, h1, h2;
    work_views(e, N, &x, &r, &h1, &h2, NULL);
    const sea_tensor *w[6] = {&e->w[0], &e->w[1], &e->w[2], &e->w[3], &e->w[4], &e->w[5]};
    SEA_TRY(sea_tensor_write_f32(e->s, &x, e->host_x));
    (void)save; /* the op always needs somewhere to put h1/h2; keeping them costs nothing here */
    SEA_TRY(sea_ensemble_mlp(e->s, &x, w, &r, &h1, &h2));
    return sea_tensor_read_f32(e->s, &r, e->host_r);
}

sea_status sea_erm_predict(sea_erm *e, const float *phi, int N, float *R)
{
    if (N <= 0) return SEA_OK;
    SEA_TRY(ensure_work(e, N));
    memcpy(e->host_x, phi, sizeof(float) * (size_t)N * e->cfg.d);
    SEA_TRY(forward(e, N, false));
    memcpy(R, e->host_r, sizeof(float) * (size_t)N * e->cfg.K);
    return SEA_OK;
}

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x) { return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)); }

/* Loss and total gradient (left in e->diff). */
static sea_status loss_grad(sea_erm *e, const float *phi_pos, const float *phi_neg, const float *mask, int B,
                            int64_t n_queries, sea_erm_stats *stp)
{
    const int K = e->cfg.K, d = e->cfg.d;
    const int N = 2 * B;
    SEA_TRY(ensure_work(e, N));
    /* rows [0, B) = φ+, [B, 2B) = φ− */
    memcpy(e->host_x, phi_pos, sizeof(float) * (size_t)B * d);
    memcpy(e->host_x + (size_t)B * d, phi_neg, sizeof(float) * (size_t)B * d);
    SEA_TRY(forward(e, N, true));

    /* L_bt = mean_{k,b} softplus(−(r+ − r−)) · mask_b, and dL/dr on the host. */
    double bt = 0;
    const double inv = 1.0 / ((double)K * B);
    for (int k = 0; k < K; k++)
        for (int b = 0; b < B; b++) {
            double m = mask[b];
            double z = (double)e->host_r[k * N + b] - e->host_r[k * N + B + b];
            bt += softplus(-z) * m;
            double g = -sigmoid(-z) * m * inv;
            e->host_gr[k * N + b] = (float)g;
            e->host_gr[k * N + B + b] = (float)-g;
        }
    bt *= inv;
    if (!isfinite(bt))
        return sea_error(SEA_ERR_NUMERIC, "erm: BT loss is %g (K %d, batch %d)", bt, K, B);

    sea_tensor x, r, h1, h2, gr;
    work_views(e, N, &x, &r, &h1, &h2, &gr);
    SEA_TRY(sea_tensor_write_f32(e->s, &gr, e->host_gr));
    SEA_TRY(sea_fill(e->s, &e->grads, 0.0));
    sea_op op;
    memset(&op, 0, sizeof op);
    op.kind = SEA_OP_ENSEMBLE_MLP;
    op.in[0] = &x;
    for (int i = 0; i < 6; i++) {
        op.in[i + 1] = &e->w[i];
        op.gin[i + 1] = &e->gw[i];
    }
    op.out[0] = &r;
    op.out[1] = &h1;
    op.out[2] = &h2;
    op.gout[0] = &gr;
    SEA_TRY(sea_op_run_backward(e->s, &op));

    /* Anchor regularizer c · mean_p (Φ − Φ0)², c = λ·B/N (fixed: λ): gradient 2c(Φ − Φ0)/P. */
    double Nq = e->cfg.fixed_reg ? (double)B : (double)(n_queries > 0 ? n_queries : 1);
    double c = e->cfg.lambda * (double)B / Nq;
    SEA_TRY(sea_scale(e->s, &e->anchors, -1.0f, &e->gtot));
    SEA_TRY(sea_add(e->s, &e->params, &e->gtot, &e->diff));
    SEA_TRY(sea_global_norm(e->s, &e->diff, &e->norm));
    float nrm;
    SEA_TRY(sea_tensor_read_f32(e->s, &e->norm, &nrm));
    double reg = c * (double)nrm * nrm / (double)e->P;
    SEA_TRY(sea_scale(e->s, &e->diff, (float)(2.0 * c / (double)e->P), &e->gtot));
    SEA_TRY(sea_add(e->s, &e->grads, &e->gtot, &e->diff));   /* diff = total gradient now */
    if (stp) {
        stp->bt_loss = bt;
        stp->reg_loss = reg;
        stp->loss = bt + reg;
    }
    return SEA_OK;
}

sea_status sea_erm_grad(sea_erm *e, const float *phi_pos, const float *phi_neg, const float *mask, int B,
                        int64_t n_queries, sea_erm_stats *st, float *grad)
{
    SEA_TRY(loss_grad(e, phi_pos, phi_neg, mask, B, n_queries, st));
    if (grad) SEA_TRY(sea_tensor_read_f32(e->s, &e->diff, grad));
    return SEA_OK;
}

sea_status sea_erm_step(sea_erm *e, const float *phi_pos, const float *phi_neg, const float *mask, int B,
                        int64_t n_queries, sea_erm_stats *stp)
{
    SEA_TRY(loss_grad(e, phi_pos, phi_neg, mask, B, n_queries, stp));
    /* L2 5e-5 is coupled (added to the gradient inside the op), as in the reference's Adam. */
    e->adam_step++;
    SEA_TRY(sea_adamw(e->s, &e->params, &e->diff, &e->m, &e->v, e->cfg.lr, 0.9f, 0.999f, 1e-8f, 0.0f,
                      e->cfg.l2, e->adam_step));
    if (stp) stp->steps++;
    return SEA_OK;
}

sea_status sea_erm_update(sea_erm *e, const sea_replay *rb, int64_t n_queries, sea_rng *rng, sea_erm_stats *st)
{
    if (st) memset(st, 0, sizeof *st);
    const int B = e->cfg.batch, d = e->cfg.d;
    if (rb->count < B) return SEA_OK;
    float *pos = malloc(sizeof(float) * (size_t)B * d), *neg = malloc(sizeof(float) * (size_t)B * d);
    float *mask = malloc(sizeof(float) * (size_t)B);
    sea_status s = (pos && neg && mask) ? SEA_OK : sea_error(SEA_ERR_OOM, "erm: batch of %d", B);
    for (int i = 0; i < e->cfg.sgd_steps && !s; i++) {
        s = sea_replay_sample(rb, B, rng, pos, neg, mask);
        if (!s) s = sea_erm_step(e, pos, neg, mask, B, n_queries, st);
    }
    free(pos);
    free(neg);
    free(mask);
    return s;
}

sea_status sea_erm_read_params(sea_erm *e, float *params, float *anchors)
{
    if (params) SEA_TRY(sea_tensor_read_f32(e->s, &e->params, params));
    if (anchors) SEA_TRY(sea_tensor_read_f32(e->s, &e->anchors, anchors));
    return SEA_OK;
}

sea_status sea_erm_write(sea_erm *e, FILE *f)
{
    float *buf = malloc(sizeof(float) * (size_t)e->P);
    if (!buf) return sea_error(SEA_ERR_OOM, "erm checkpoint");
    int32_t hdr[5] = {e->cfg.K, e->cfg.d, e->cfg.h, e->adam_step, 0};
    sea_status st = fwrite(hdr, sizeof hdr, 1, f) == 1 ? SEA_OK : sea_error(SEA_ERR_IO, "erm checkpoint: write");
    sea_tensor *t[] = {&e->params, &e->anchors, &e->m, &e->v};
    for (int i = 0; i < 4 && !st; i++) {
        st = sea_tensor_read_f32(e->s, t[i], buf);
        if (!st && fwrite(buf, sizeof(float), (size_t)e->P, f) != (size_t)e->P)
            st = sea_error(SEA_ERR_IO, "erm checkpoint: write");
    }
    free(buf);
    return st;
}

sea_status sea_erm_read(sea_erm *e, FILE *f)
{
    int32_t hdr[5];
    if (fread(hdr, sizeof hdr, 1, f) != 1) return sea_error(SEA_ERR_FORMAT, "erm checkpoint: truncated");
    if (hdr[0] != e->cfg.K || hdr[1] != e->cfg.d || hdr[2] != e->cfg.h)
        return sea_error(SEA_ERR_FORMAT, "erm checkpoint: K %d d %d h %d, this run has K %d d %d h %d",
                         hdr[0], hdr[1], hdr[2], e->cfg.K, e->cfg.d, e->cfg.h);
    if (hdr[3] < 0) return sea_error(SEA_ERR_FORMAT, "erm checkpoint: Adam step %d (corrupted?)", hdr[3]);
    float *buf = malloc(sizeof(float) * (size_t)e->P);
    if (!buf) return sea_error(SEA_ERR_OOM, "erm checkpoint");
    sea_status st = SEA_OK;
    sea_tensor *t[] = {&e->params, &e->anchors, &e->m, &e->v};
    for (int i = 0; i < 4 && !st; i++) {
        if (fread(buf, sizeof(float), (size_t)e->P, f) != (size_t)e->P)
            st = sea_error(SEA_ERR_FORMAT, "erm checkpoint: truncated");
        else
            st = sea_tensor_write_f32(e->s, t[i], buf);
    }
    free(buf);
    if (!st) e->adam_step = hdr[3];
    return st;
}
