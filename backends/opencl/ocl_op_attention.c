/* Causal attention (forward + backward) and decode attention over a KV cache. */
#include "ocl.h"

#define ATTN_WG_CAP 128
#define ATTN_MAX_DPT 8 /* must match kernels/attention.cl */

sea_status ocl_op_attention(sea_stream *s, const sea_op *op, bool backward)
{
    ocl_device_ctx *d = ocl_dev(s);
    const sea_tensor *q = op->in[0], *k = op->in[1], *v = op->in[2], *kv = op->in[3];
    bool decode = op->kind == SEA_OP_DECODE_ATTENTION;
    cl_uint B = (cl_uint)q->shape[0];
    cl_uint Tq = decode ? 1 : (cl_uint)q->shape[1];
    cl_uint H = (cl_uint)q->shape[decode ? 1 : 2], hd = (cl_uint)q->shape[decode ? 2 : 3];
    cl_uint Sk = (cl_uint)k->shape[1], Hkv = (cl_uint)k->shape[2];
    if (Hkv == 0 || H % Hkv)
        return sea_error(SEA_ERR_SHAPE, "%s: %s: %u query heads not a multiple of %u kv heads", d->label,
                         sea_op_name(op->kind), H, Hkv);
    cl_int coff = decode ? op->p.attn.n_keys - 1 : 0;
    float scale = op->p.attn.scale;
    cl_mem q_m = ocl_mem(q), k_m = ocl_mem(k), v_m = ocl_mem(v), kv_m = kv ? ocl_mem(kv) : q_m;
    cl_uint q_o = ocl_off(q), k_o = ocl_off(k), v_o = ocl_off(v), kv_o = kv ? ocl_off(kv) : 0;
    cl_int has_kv = kv != NULL;

    if (!backward) {
        size_t wg = ocl_reduce_wg(s, OCL_K_attn_fwd, ATTN_WG_CAP);
        if (hd > ATTN_MAX_DPT * wg || (hd + 2 * wg) * sizeof(float) > d->local_mem)
            return sea_error(SEA_ERR_UNSUPPORTED, "%s: %s: head dim %u too large for work-groups of %zu", d->label,
                             sea_op_name(op->kind), hd, wg);
        sea_tensor *out = op->out[0], *lse = decode ? NULL : op->out[1];
        cl_mem o_m = ocl_mem(out), l_m = lse ? ocl_mem(lse) : o_m;
        cl_uint o_o = ocl_off(out), l_o = lse ? ocl_off(lse) : 0;
        cl_int has_lse = lse != NULL;
        /* q's strides in elements: (B, H, hd) with any batch/head strides for decode */
        cl_uint qsb = (cl_uint)q->stride[0], qsh = (cl_uint)q->stride[decode ? 1 : 2];
        if (!decode) qsb = Tq * H * hd, qsh = hd;
        /* decode's shared prefix in[4..6] (absent: the kernel reads none of these) */
        const sea_tensor *pk = decode ? op->in[4] : NULL;
        cl_int has_pre = pk != NULL;
        cl_mem pk_m = pk ? ocl_mem(pk) : q_m, pv_m = pk ? ocl_mem(op->in[5]) : q_m, pkv_m = pk ? ocl_mem(op->in[6]) : q_m;
        cl_uint pk_o = pk ? ocl_off(pk) : 0, pv_o = pk ? ocl_off(op->in[5]) : 0, pkv_o = pk ? ocl_off(op->in[6]) : 0;
        cl_uint Sp = pk ? (cl_uint)pk->shape[1] : 0, pgroup = pk ? B / (cl_uint)pk->shape[0] : 1;
        return OCL_RUN(s, OCL_K_attn_fwd, (size_t)B * H * Tq * wg, wg, OA(q_m), OA(q_o), OA(k_m), OA(k_o), OA(v_m),
                       OA(v_o), OA(kv_m), OA(kv_o), OA(has_kv), OA(o_m), OA(o_o), OA(l_m), OA(l_o), OA(has_lse), OA(Tq),
                       OA(Sk), OA(H), OA(Hkv), OA(hd), OA(coff), OA(scale), OA(qsb), OA(qsh), OA(pk_m), OA(pk_o),
                       OA(pv_m), OA(pv_o), OA(pkv_m), OA(pkv_o), OA(has_pre), OA(Sp), OA(pgroup),
                       OA_LOCAL(hd * sizeof(float)), OA_LOCAL(wg * sizeof(float)), OA_LOCAL(wg * sizeof(float)));
    }

    const sea_tensor *go = op->gout[0], *out = op->out[0], *lse = op->out[1];
    sea_tensor *gq = op->gin[0], *gk = op->gin[1], *gv = op->gin[2];
    if (!go || (!gq && !gk && !gv)) return SEA_OK;
    if (!lse) return sea_error(SEA_ERR_INVALID, "%s: attention backward needs the saved lse (out[1])", d->label);
    cl_uint T = Tq;
    cl_mem go_m = ocl_mem(go), o_m = ocl_mem(out), l_m = ocl_mem(lse);
    cl_uint go_o = ocl_off(go), o_o = ocl_off(out), l_o = ocl_off(lse);
    cl_mem delta;
    SEA_TRY(ocl_temp_alloc(s, (size_t)B * H * T * sizeof(float), &delta));
    sea_status st = OCL_RUN(s, OCL_K_attn_bwd_delta, (size_t)B * T * H, 0, OA(o_m), OA(o_o), OA(go_m), OA(go_o),
                            OA(delta), OA(B), OA(T), OA(H), OA(hd));
    if (!st && gq) {
        size_t wg = ocl_reduce_wg(s, OCL_K_attn_bwd_dq, ATTN_WG_CAP);
        if (hd > ATTN_MAX_DPT * wg) st = sea_error(SEA_ERR_UNSUPPORTED, "%s: attention: head dim %u too large", d->label, hd);
        cl_mem gq_m = ocl_mem(gq);
        cl_uint gq_o = ocl_off(gq);
        if (!st)
            st = OCL_RUN(s, OCL_K_attn_bwd_dq, (size_t)B * H * T * wg, wg, OA(q_m), OA(q_o), OA(k_m), OA(k_o), OA(v_m),
                         OA(v_o), OA(kv_m), OA(kv_o), OA(has_kv), OA(l_m), OA(l_o), OA(delta), OA(go_m), OA(go_o),
                         OA(gq_m), OA(gq_o), OA(T), OA(H), OA(Hkv), OA(hd), OA(scale), OA_LOCAL(hd * sizeof(float)),
                         OA_LOCAL(hd * sizeof(float)), OA_LOCAL(wg * sizeof(float)));
    }
    if (!st && (gk || gv)) {
        size_t wg = ocl_reduce_wg(s, OCL_K_attn_bwd_dkv, ATTN_WG_CAP);
        if (hd > ATTN_MAX_DPT * wg) st = sea_error(SEA_ERR_UNSUPPORTED, "%s: attention: head dim %u too large", d->label, hd);
        cl_int has_gk = gk != NULL, has_gv = gv != NULL;
        cl_mem gk_m = gk ? ocl_mem(gk) : go_m, gv_m = gv ? ocl_mem(gv) : go_m;
        cl_uint gk_o = gk ? ocl_off(gk) : 0, gv_o = gv ? ocl_off(gv) : 0;
        if (!st)
            st = OCL_RUN(s, OCL_K_attn_bwd_dkv, (size_t)B * T * Hkv * wg, wg, OA(q_m), OA(q_o), OA(k_m), OA(k_o),
                         OA(v_m), OA(v_o), OA(kv_m), OA(kv_o), OA(has_kv), OA(l_m), OA(l_o), OA(delta), OA(go_m),
                         OA(go_o), OA(gk_m), OA(gk_o), OA(has_gk), OA(gv_m), OA(gv_o), OA(has_gv), OA(T), OA(H), OA(Hkv),
                         OA(hd), OA(scale), OA_LOCAL(hd * sizeof(float)), OA_LOCAL(hd * sizeof(float)),
                         OA_LOCAL(wg * sizeof(float)), OA_LOCAL(wg * sizeof(float)));
    }
    ocl_temp_free(s, delta);
    return st;
}
