/* Row-reduction ops: layernorm, rmsnorm, softmax, log-softmax+gather, cross-entropy,
 * masked sums. Each row is one work-group reducing through local memory in a fixed order. */
#include "ocl.h"

#define T_ARGS(t) cl_mem t##_m = ocl_mem(t); cl_uint t##_o = ocl_off(t)
#define ROW_WG_CAP 256

/* Saved statistics (mean, rstd, lse) may be absent on inference calls: the kernels then
 * write into a scratch buffer instead. `*scratch` collects what to release. */
static sea_status stat_or_scratch(sea_stream *s, const sea_tensor *t, size_t n, cl_mem *m, cl_uint *o, cl_mem *scratch)
{
    if (t) {
        *m = ocl_mem(t);
        *o = ocl_off(t);
        return SEA_OK;
    }
    *o = 0;
    SEA_TRY(ocl_temp_alloc(s, n * sizeof(float), scratch));
    *m = *scratch;
    return SEA_OK;
}

static sea_status release_scratch(sea_stream *s, sea_status st, cl_mem a, cl_mem b)
{
    ocl_temp_free(s, a);
    ocl_temp_free(s, b);
    return st;
}

static cl_uint last_dim(const sea_tensor *t) { return t->ndim ? (cl_uint)t->shape[t->ndim - 1] : 1; }
static cl_uint rows_of(const sea_tensor *t)
{
    cl_uint d = last_dim(t);
    return d ? (cl_uint)(sea_tensor_numel(t) / d) : 0;
}

/* An optional tensor as (buffer, offset, present): absent ones bind `placeholder` (kernels
 * read it only when the flag says so). */
static void opt_arg(const sea_tensor *t, cl_mem placeholder, cl_mem *m, cl_uint *o, cl_int *has)
{
    *m = t ? ocl_mem(t) : placeholder;
    *o = t ? ocl_off(t) : 0;
    *has = t != NULL;
}

/* Weight and bias gradients of one layernorm affine from its output gradient gy: chunked
 * column sums (layernorm_bwd_wb), then the chunks added in order. */
static sea_status ln_affine_grads(sea_stream *s, const sea_op *op, const sea_tensor *gy, sea_tensor *gw, sea_tensor *gb)
{
    const sea_tensor *x = op->in[0], *mean = op->out[1], *rstd = op->out[2];
    T_ARGS(x);
    T_ARGS(mean);
    T_ARGS(rstd);
    T_ARGS(gy);
    cl_uint D = last_dim(x), N = rows_of(x);
    cl_uint rpc = OCL_ROWS_PER_CHUNK, nch = (N + rpc - 1) / rpc;
    if ((!gw && !gb) || nch == 0) return SEA_OK;
    cl_mem part;
    SEA_TRY(ocl_temp_alloc(s, 2 * (size_t)nch * D * sizeof(float), &part));
    sea_status st = OCL_RUN(s, OCL_K_layernorm_bwd_wb, (size_t)nch * D, 0, OA(x_m), OA(x_o), OA(mean_m), OA(mean_o),
                            OA(rstd_m), OA(rstd_o), OA(gy_m), OA(gy_o), OA(part), OA(N), OA(D), OA(rpc), OA(nch));
    if (!st && gw) st = ocl_col_chunks_acc(s, part, 0, ocl_mem(gw), ocl_off(gw), 1, nch, D);
    if (!st && gb) st = ocl_col_chunks_acc(s, part, nch * D, ocl_mem(gb), ocl_off(gb), 1, nch, D);
    ocl_temp_free(s, part);
    return st;
}

/* LayerNorm's backward: gx from both affines' gradients in one pass (op.h), then each
 * affine's weight and bias gradients. */
static sea_status ln_backward(sea_stream *s, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *w = op->in[1], *mean = op->out[1], *rstd = op->out[2];
    const sea_tensor *gy = op->gout[0], *gy2 = op->in[3] ? op->gout[3] : NULL;
    if (!gy && !gy2) return SEA_OK;
    T_ARGS(x);
    T_ARGS(w);
    T_ARGS(mean);
    T_ARGS(rstd);
    cl_uint D = last_dim(x), N = rows_of(x);
    sea_tensor *gx = op->gin[0];
    if (gx) {
        T_ARGS(gx);
        cl_mem gy_m, w2_m, gy2_m;
        cl_uint gy_o, w2_o, gy2_o;
        cl_int has_gy, has_w2, has_gy2;
        opt_arg(gy, x_m, &gy_m, &gy_o, &has_gy);
        opt_arg(gy2 ? op->in[3] : NULL, w_m, &w2_m, &w2_o, &has_w2);
        opt_arg(gy2, x_m, &gy2_m, &gy2_o, &has_gy2);
        size_t wg = ocl_reduce_wg(s, OCL_K_layernorm_bwd_x, ROW_WG_CAP);
        SEA_TRY(OCL_RUN(s, OCL_K_layernorm_bwd_x, N * wg, wg, OA(x_m), OA(x_o), OA(w_m), OA(w_o), OA(mean_m),
                        OA(mean_o), OA(rstd_m), OA(rstd_o), OA(gy_m), OA(gy_o), OA(gx_m), OA(gx_o), OA(D),
                        OA(has_gy), OA(w2_m), OA(w2_o), OA(gy2_m), OA(gy2_o), OA(has_gy2),
                        OA_LOCAL(wg * sizeof(float))));
    }
    if (gy) SEA_TRY(ln_affine_grads(s, op, gy, op->gin[1], op->in[2] ? op->gin[2] : NULL));
    if (gy2) SEA_TRY(ln_affine_grads(s, op, gy2, op->gin[3], op->in[4] ? op->gin[4] : NULL));
    return SEA_OK;
}

sea_status ocl_op_norm(sea_stream *s, const sea_op *op, bool backward)
{
    const sea_tensor *x = op->in[0], *w = op->in[1];
    T_ARGS(x);
    T_ARGS(w);
    cl_uint D = last_dim(x), N = rows_of(x);
    float eps = op->p.norm.eps;
    bool ln = op->kind == SEA_OP_LAYERNORM;
    if (!backward) {
        sea_tensor *y = op->out[0];
        T_ARGS(y);
        if (ln) {
            const sea_tensor *b = op->in[2];
            cl_mem mean_m, rstd_m, sc1 = NULL, sc2 = NULL;
            cl_uint mean_o, rstd_o;
            sea_status st = stat_or_scratch(s, op->out[1], N, &mean_m, &mean_o, &sc1);
            if (!st) st = stat_or_scratch(s, op->out[2], N, &rstd_m, &rstd_o, &sc2);
            if (st) return release_scratch(s, st, sc1, sc2);
            cl_mem b_m, w2_m, b2_m, y2_m;
            cl_uint b_o, w2_o, b2_o, y2_o;
            cl_int has_b, has_w2, has_b2, has_y2;
            opt_arg(b, w_m, &b_m, &b_o, &has_b);
            /* the pair's second affine (op.h): y2 is present exactly when w2 is */
            opt_arg(op->in[3], w_m, &w2_m, &w2_o, &has_w2);
            opt_arg(op->in[4], w_m, &b2_m, &b2_o, &has_b2);
            opt_arg(op->out[3], y_m, &y2_m, &y2_o, &has_y2);
            size_t wg = ocl_reduce_wg(s, OCL_K_layernorm_fwd, ROW_WG_CAP);
            st = OCL_RUN(s, OCL_K_layernorm_fwd, N * wg, wg, OA(x_m), OA(x_o), OA(w_m), OA(w_o), OA(b_m), OA(b_o),
                         OA(has_b), OA(y_m), OA(y_o), OA(mean_m), OA(mean_o), OA(rstd_m), OA(rstd_o), OA(D), OA(eps),
                         OA(w2_m), OA(w2_o), OA(has_w2), OA(b2_m), OA(b2_o), OA(has_b2), OA(y2_m), OA(y2_o),
                         OA_LOCAL(wg * sizeof(float)));
            return release_scratch(s, st, sc1, sc2);
        }
        cl_mem rstd_m, sc = NULL;
        cl_uint rstd_o;
        SEA_TRY(stat_or_scratch(s, op->out[1], N, &rstd_m, &rstd_o, &sc));
        size_t wg = ocl_reduce_wg(s, OCL_K_rmsnorm_fwd, ROW_WG_CAP);
        sea_status st = OCL_RUN(s, OCL_K_rmsnorm_fwd, N * wg, wg, OA(x_m), OA(x_o), OA(w_m), OA(w_o), OA(y_m), OA(y_o),
                                OA(rstd_m), OA(rstd_o), OA(D), OA(eps), OA_LOCAL(wg * sizeof(float)));
        return release_scratch(s, st, sc, NULL);
    }
    if (ln ? !op->out[1] || !op->out[2] : !op->out[1])
        return sea_error(SEA_ERR_INVALID, "%s: %s backward needs the saved statistics (mean/rstd outputs)", ocl_dev(s)->label,
                         sea_op_name(op->kind));
    if (ln) return ln_backward(s, op);
    const sea_tensor *gy = op->gout[0];
    if (!gy) return SEA_OK;
    T_ARGS(gy);
    sea_tensor *gx = op->gin[0], *gw = op->gin[1];
    const sea_tensor *rstd = op->out[1];
    T_ARGS(rstd);
    if (gx) {
        T_ARGS(gx);
        size_t wg = ocl_reduce_wg(s, OCL_K_rmsnorm_bwd_x, ROW_WG_CAP);
        SEA_TRY(OCL_RUN(s, OCL_K_rmsnorm_bwd_x, N * wg, wg, OA(x_m), OA(x_o), OA(w_m), OA(w_o), OA(rstd_m), OA(rstd_o),
                        OA(gy_m), OA(gy_o), OA(gx_m), OA(gx_o), OA(D), OA_LOCAL(wg * sizeof(float))));
    }
    if (!gw) return SEA_OK;
    cl_uint rpc = OCL_ROWS_PER_CHUNK, nch = (N + rpc - 1) / rpc;
    if (nch == 0) return SEA_OK;
    cl_mem part;
    SEA_TRY(ocl_temp_alloc(s, (size_t)nch * D * sizeof(float), &part));
    sea_status st = OCL_RUN(s, OCL_K_rmsnorm_bwd_w, (size_t)nch * D, 0, OA(x_m), OA(x_o), OA(rstd_m), OA(rstd_o),
                            OA(gy_m), OA(gy_o), OA(part), OA(N), OA(D), OA(rpc), OA(nch));
    if (!st) st = ocl_col_chunks_acc(s, part, 0, ocl_mem(gw), ocl_off(gw), 1, nch, D);
    ocl_temp_free(s, part);
    return st;
}

sea_status ocl_op_softmax(sea_stream *s, const sea_op *op, bool backward)
{
    const sea_tensor *x = op->in[0];
    cl_uint D = last_dim(x), N = rows_of(x);
    const sea_tensor *y = op->out[0];
    T_ARGS(y);
    if (!backward) {
        T_ARGS(x);
        size_t wg = ocl_reduce_wg(s, OCL_K_softmax_fwd, ROW_WG_CAP);
        return OCL_RUN(s, OCL_K_softmax_fwd, N * wg, wg, OA(x_m), OA(x_o), OA(y_m), OA(y_o), OA(D),
                       OA_LOCAL(wg * sizeof(float)));
    }
    const sea_tensor *gy = op->gout[0];
    sea_tensor *gx = op->gin[0];
    if (!gy || !gx) return SEA_OK;
    T_ARGS(gy);
    T_ARGS(gx);
    size_t wg = ocl_reduce_wg(s, OCL_K_softmax_bwd, ROW_WG_CAP);
    return OCL_RUN(s, OCL_K_softmax_bwd, N * wg, wg, OA(y_m), OA(y_o), OA(gy_m), OA(gy_o), OA(gx_m), OA(gx_o), OA(D),
                   OA_LOCAL(wg * sizeof(float)));
}

/* Backward of logsoftmax_gather and cross-entropy: gx from the logits, the targets, the saved
 * lse and gout (cross-entropy also averages over the N rows' non-ignored targets). */
static sea_status loss_backward(sea_stream *s, const sea_op *op, cl_uint N, cl_uint V)
{
    const sea_tensor *x = op->in[0], *t = op->in[1], *lse = op->out[1], *go = op->gout[0];
    sea_tensor *gx = op->gin[0];
    if (!lse)
        return sea_error(SEA_ERR_INVALID, "%s: %s backward needs the saved lse (out[1])", ocl_dev(s)->label,
                         sea_op_name(op->kind));
    if (!go || !gx) return SEA_OK;
    T_ARGS(x);
    T_ARGS(t);
    T_ARGS(lse);
    T_ARGS(go);
    T_ARGS(gx);
    if (op->kind == SEA_OP_LOGSOFTMAX_GATHER) {
        size_t wg = ocl_reduce_wg(s, OCL_K_lsm_gather_bwd, ROW_WG_CAP);
        return OCL_RUN(s, OCL_K_lsm_gather_bwd, N * wg, wg, OA(x_m), OA(x_o), OA(t_m), OA(t_o), OA(lse_m), OA(lse_o),
                       OA(go_m), OA(go_o), OA(gx_m), OA(gx_o), OA(V));
    }
    size_t wg = ocl_reduce_wg(s, OCL_K_ce_bwd, ROW_WG_CAP);
    return OCL_RUN(s, OCL_K_ce_bwd, N * wg, wg, OA(x_m), OA(x_o), OA(t_m), OA(t_o), OA(lse_m), OA(lse_o), OA(go_m),
                   OA(go_o), OA(gx_m), OA(gx_o), OA(N), OA(V), OA_LOCAL(wg * sizeof(float)));
}

sea_status ocl_op_loss(sea_stream *s, const sea_op *op, bool backward)
{
    const sea_tensor *x = op->in[0], *t = op->in[1];
    T_ARGS(x);
    T_ARGS(t);
    if (op->kind == SEA_OP_MASKED_SUM) {
        cl_uint T = last_dim(x), B = rows_of(x);
        cl_int mean = op->p.masked.mean;
        const sea_tensor *mask = t;
        T_ARGS(mask);
        if (!backward) {
            sea_tensor *out = op->out[0];
            T_ARGS(out);
            size_t wg = ocl_reduce_wg(s, OCL_K_masked_sum_fwd, ROW_WG_CAP);
            return OCL_RUN(s, OCL_K_masked_sum_fwd, B * wg, wg, OA(x_m), OA(x_o), OA(mask_m), OA(mask_o), OA(out_m),
                           OA(out_o), OA(T), OA(mean), OA_LOCAL(wg * sizeof(float)));
        }
        const sea_tensor *go = op->gout[0];
        sea_tensor *gx = op->gin[0];
        if (!go || !gx) return SEA_OK;
        T_ARGS(go);
        T_ARGS(gx);
        size_t wg = ocl_reduce_wg(s, OCL_K_masked_sum_bwd, ROW_WG_CAP);
        return OCL_RUN(s, OCL_K_masked_sum_bwd, B * wg, wg, OA(mask_m), OA(mask_o), OA(go_m), OA(go_o), OA(gx_m),
                       OA(gx_o), OA(T), OA(mean), OA_LOCAL(wg * sizeof(float)));
    }
    cl_uint V = last_dim(x), N = rows_of(x);
    if (op->kind == SEA_OP_LOGSOFTMAX_GATHER) {
        if (!backward) {
            sea_tensor *lp = op->out[0];
            T_ARGS(lp);
            cl_mem lse_m, sc = NULL;
            cl_uint lse_o;
            SEA_TRY(stat_or_scratch(s, op->out[1], N, &lse_m, &lse_o, &sc));
            size_t wg = ocl_reduce_wg(s, OCL_K_lsm_gather_fwd, ROW_WG_CAP);
            sea_status st = OCL_RUN(s, OCL_K_lsm_gather_fwd, N * wg, wg, OA(x_m), OA(x_o), OA(t_m), OA(t_o), OA(lp_m),
                                    OA(lp_o), OA(lse_m), OA(lse_o), OA(V), OA_LOCAL(wg * sizeof(float)));
            return release_scratch(s, st, sc, NULL);
        }
        return loss_backward(s, op, N, V);
    }
    /* cross-entropy */
    if (!backward) {
        sea_tensor *loss = op->out[0];
        T_ARGS(loss);
        cl_mem nll, lse_m, sc = NULL;
        cl_uint lse_o;
        SEA_TRY(stat_or_scratch(s, op->out[1], N, &lse_m, &lse_o, &sc));
        sea_status ast = ocl_temp_alloc(s, (size_t)N * sizeof(float), &nll);
        if (ast) return release_scratch(s, ast, sc, NULL);
        size_t wg = ocl_reduce_wg(s, OCL_K_ce_rows, ROW_WG_CAP);
        sea_status st = OCL_RUN(s, OCL_K_ce_rows, N * wg, wg, OA(x_m), OA(x_o), OA(t_m), OA(t_o), OA(lse_m), OA(lse_o),
                                OA(nll), OA(V), OA_LOCAL(wg * sizeof(float)));
        size_t wg2 = ocl_reduce_wg(s, OCL_K_ce_final, ROW_WG_CAP);
        if (!st)
            st = OCL_RUN(s, OCL_K_ce_final, wg2, wg2, OA(nll), OA(t_m), OA(t_o), OA(N), OA(loss_m), OA(loss_o),
                         OA_LOCAL(wg2 * sizeof(float)));
        return release_scratch(s, st, nll, sc);
    }
    return loss_backward(s, op, N, V);
}
