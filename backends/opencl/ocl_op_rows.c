/* Row-reduction ops: layernorm, rmsnorm, softmax, log-softmax+gather, cross-entropy,
 * masked sums. Each row is one work-group reducing through local memory in a fixed order. */
#include "ocl.h"

#define T_ARGS(t) cl_mem t##_m = ocl_mem(t); cl_uint t##_o = ocl_off(t)
#define ROW_WG_CAP 256

static cl_uint last_dim(const sea_tensor *t) { return t->ndim ? (cl_uint)t->shape[t->ndim - 1] : 1; }
static cl_uint rows_of(const sea_tensor *t)
{
    cl_uint d = last_dim(t);
    return d ? (cl_uint)(sea_tensor_numel(t) / d) : 0;
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
            sea_tensor *mean = op->out[1], *rstd = op->out[2];
            T_ARGS(mean);
            T_ARGS(rstd);
            cl_int has_b = b != NULL;
            cl_mem b_m = b ? ocl_mem(b) : w_m;
            cl_uint b_o = b ? ocl_off(b) : 0;
            size_t wg = ocl_reduce_wg(s, OCL_K_layernorm_fwd, ROW_WG_CAP);
            return OCL_RUN(s, OCL_K_layernorm_fwd, N * wg, wg, OA(x_m), OA(x_o), OA(w_m), OA(w_o), OA(b_m), OA(b_o),
                           OA(has_b), OA(y_m), OA(y_o), OA(mean_m), OA(mean_o), OA(rstd_m), OA(rstd_o), OA(D), OA(eps),
                           OA_LOCAL(wg * sizeof(float)));
        }
        sea_tensor *rstd = op->out[1];
        T_ARGS(rstd);
        size_t wg = ocl_reduce_wg(s, OCL_K_rmsnorm_fwd, ROW_WG_CAP);
        return OCL_RUN(s, OCL_K_rmsnorm_fwd, N * wg, wg, OA(x_m), OA(x_o), OA(w_m), OA(w_o), OA(y_m), OA(y_o),
                       OA(rstd_m), OA(rstd_o), OA(D), OA(eps), OA_LOCAL(wg * sizeof(float)));
    }
    const sea_tensor *gy = op->gout[0];
    if (!gy) return SEA_OK;
    T_ARGS(gy);
    sea_tensor *gx = op->gin[0], *gw = op->gin[1];
    if (ln) {
        const sea_tensor *mean = op->out[1], *rstd = op->out[2];
        T_ARGS(mean);
        T_ARGS(rstd);
        if (gx) {
            T_ARGS(gx);
            size_t wg = ocl_reduce_wg(s, OCL_K_layernorm_bwd_x, ROW_WG_CAP);
            SEA_TRY(OCL_RUN(s, OCL_K_layernorm_bwd_x, N * wg, wg, OA(x_m), OA(x_o), OA(w_m), OA(w_o), OA(mean_m),
                            OA(mean_o), OA(rstd_m), OA(rstd_o), OA(gy_m), OA(gy_o), OA(gx_m), OA(gx_o), OA(D),
                            OA_LOCAL(wg * sizeof(float))));
        }
        sea_tensor *gb = op->in[2] ? op->gin[2] : NULL;
        cl_int has_gw = gw != NULL, has_gb = gb != NULL;
        if (!has_gw && !has_gb) return SEA_OK;
        cl_mem gw_m = gw ? ocl_mem(gw) : gy_m, gb_m = gb ? ocl_mem(gb) : gy_m;
        cl_uint gw_o = gw ? ocl_off(gw) : 0, gb_o = gb ? ocl_off(gb) : 0;
        return OCL_RUN(s, OCL_K_layernorm_bwd_wb, D, 0, OA(x_m), OA(x_o), OA(mean_m), OA(mean_o), OA(rstd_m),
                       OA(rstd_o), OA(gy_m), OA(gy_o), OA(gw_m), OA(gw_o), OA(has_gw), OA(gb_m), OA(gb_o), OA(has_gb),
                       OA(N), OA(D));
    }
    const sea_tensor *rstd = op->out[1];
    T_ARGS(rstd);
    if (gx) {
        T_ARGS(gx);
        size_t wg = ocl_reduce_wg(s, OCL_K_rmsnorm_bwd_x, ROW_WG_CAP);
        SEA_TRY(OCL_RUN(s, OCL_K_rmsnorm_bwd_x, N * wg, wg, OA(x_m), OA(x_o), OA(w_m), OA(w_o), OA(rstd_m), OA(rstd_o),
                        OA(gy_m), OA(gy_o), OA(gx_m), OA(gx_o), OA(D), OA_LOCAL(wg * sizeof(float))));
    }
    if (!gw) return SEA_OK;
    T_ARGS(gw);
    return OCL_RUN(s, OCL_K_rmsnorm_bwd_w, D, 0, OA(x_m), OA(x_o), OA(rstd_m), OA(rstd_o), OA(gy_m), OA(gy_o),
                   OA(gw_m), OA(gw_o), OA(N), OA(D));
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
        sea_tensor *lse = op->out[1];
        T_ARGS(lse);
        if (!backward) {
            sea_tensor *lp = op->out[0];
            T_ARGS(lp);
            size_t wg = ocl_reduce_wg(s, OCL_K_lsm_gather_fwd, ROW_WG_CAP);
            return OCL_RUN(s, OCL_K_lsm_gather_fwd, N * wg, wg, OA(x_m), OA(x_o), OA(t_m), OA(t_o), OA(lp_m), OA(lp_o),
                           OA(lse_m), OA(lse_o), OA(V), OA_LOCAL(wg * sizeof(float)));
        }
        const sea_tensor *go = op->gout[0];
        sea_tensor *gx = op->gin[0];
        if (!go || !gx) return SEA_OK;
        T_ARGS(go);
        T_ARGS(gx);
        size_t wg = ocl_reduce_wg(s, OCL_K_lsm_gather_bwd, ROW_WG_CAP);
        return OCL_RUN(s, OCL_K_lsm_gather_bwd, N * wg, wg, OA(x_m), OA(x_o), OA(t_m), OA(t_o), OA(lse_m), OA(lse_o),
                       OA(go_m), OA(go_o), OA(gx_m), OA(gx_o), OA(V));
    }
    /* cross-entropy */
    sea_tensor *lse = op->out[1];
    T_ARGS(lse);
    if (!backward) {
        sea_tensor *loss = op->out[0];
        T_ARGS(loss);
        cl_mem nll;
        SEA_TRY(ocl_temp_alloc(s, (size_t)N * sizeof(float), &nll));
        size_t wg = ocl_reduce_wg(s, OCL_K_ce_rows, ROW_WG_CAP);
        sea_status st = OCL_RUN(s, OCL_K_ce_rows, N * wg, wg, OA(x_m), OA(x_o), OA(t_m), OA(t_o), OA(lse_m), OA(lse_o),
                                OA(nll), OA(V), OA_LOCAL(wg * sizeof(float)));
        size_t wg2 = ocl_reduce_wg(s, OCL_K_ce_final, ROW_WG_CAP);
        if (!st)
            st = OCL_RUN(s, OCL_K_ce_final, wg2, wg2, OA(nll), OA(t_m), OA(t_o), OA(N), OA(loss_m), OA(loss_o),
                         OA_LOCAL(wg2 * sizeof(float)));
        clReleaseMemObject(nll);
        return st;
    }
    const sea_tensor *go = op->gout[0];
    sea_tensor *gx = op->gin[0];
    if (!go || !gx) return SEA_OK;
    T_ARGS(go);
    T_ARGS(gx);
    size_t wg = ocl_reduce_wg(s, OCL_K_ce_bwd, ROW_WG_CAP);
    return OCL_RUN(s, OCL_K_ce_bwd, N * wg, wg, OA(x_m), OA(x_o), OA(t_m), OA(t_o), OA(lse_m), OA(lse_o), OA(go_m),
                   OA(go_o), OA(gx_m), OA(gx_o), OA(N), OA(V), OA_LOCAL(wg * sizeof(float)));
}
