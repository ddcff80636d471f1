/* Rotary embedding: inverse frequencies in float64 on the host (llama3 scaling as HF's
 * _compute_llama3_parameters), sent as hi/lo float pairs; rotation in the kernel. */
#include <math.h>
#include <stdlib.h>

#include "ocl.h"

static void inv_freq_table(const sea_op_params *p, int half, cl_float2 *out)
{
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < half; i++) {
        double f = pow((double)p->rope.theta, -2.0 * i / (double)p->rope.rot_dims);
        if (p->rope.scaling == SEA_ROPE_SCALING_LLAMA3) {
            double old_len = p->rope.original_max_pos, factor = p->rope.factor;
            double lo_f = p->rope.low_freq_factor, hi_f = p->rope.high_freq_factor;
            double low_wavelen = old_len / lo_f, high_wavelen = old_len / hi_f;
            double wavelen = 2.0 * pi / f;
            if (wavelen > low_wavelen) f = f / factor;
            else if (!(wavelen < high_wavelen)) {
                double smooth = (old_len / wavelen - lo_f) / (hi_f - lo_f);
                f = (1.0 - smooth) * f / factor + smooth * f;
            }
        }
        float hi = (float)f;
        out[i].s[0] = hi;
        out[i].s[1] = (float)(f - (double)hi);
    }
}

sea_status ocl_op_rope(sea_stream *s, const sea_op *op, bool backward)
{
    const sea_tensor *x = op->in[0], *pos = op->in[1];
    cl_uint B = (cl_uint)x->shape[0], T = (cl_uint)x->shape[1], H = (cl_uint)x->shape[2], hd = (cl_uint)x->shape[3];
    cl_uint rot = (cl_uint)op->p.rope.rot_dims;
    if (rot > hd || rot % 2)
        return sea_error(SEA_ERR_INVALID, "%s: rope: rot_dims %u must be even and <= head dim %u", ocl_dev(s)->label, rot, hd);
    const sea_tensor *src;
    sea_tensor *dst;
    if (!backward) {
        src = x;
        dst = op->out[0];
    } else {
        src = op->gout[0];
        dst = op->gin[0];
        if (!src || !dst) return SEA_OK;
    }
    int half = (int)rot / 2;
    cl_float2 *tab = malloc((size_t)(half ? half : 1) * sizeof *tab);
    if (!tab) return sea_error(SEA_ERR_OOM, "%s: rope: out of host memory", ocl_dev(s)->label);
    inv_freq_table(&op->p, half, tab);
    cl_mem tab_m;
    sea_status st = ocl_temp_upload(s, tab, (size_t)(half ? half : 1) * sizeof *tab, &tab_m);
    free(tab);
    if (st) return st;
    cl_mem s_m = ocl_mem(src), d_m = ocl_mem(dst), p_m = ocl_mem(pos);
    cl_uint s_o = ocl_off(src), d_o = ocl_off(dst), p_o = ocl_off(pos);
    cl_long ssb = src->stride[0], sst = src->stride[1], ssh = src->stride[2];
    cl_long dsb = dst->stride[0], dst_ = dst->stride[1], dsh = dst->stride[2];
    cl_int gptj = op->p.rope.style == SEA_ROPE_GPTJ;
    size_t n = (size_t)B * T * H * (rot / 2 + (hd - rot));
    if (!backward) {
        float sign = 1.0f;
        cl_int acc = 0;
        st = OCL_RUN(s, OCL_K_rope_fwd, n, 0, OA(s_m), OA(s_o), OA(ssb), OA(sst), OA(ssh), OA(d_m), OA(d_o), OA(dsb),
                     OA(dst_), OA(dsh), OA(p_m), OA(p_o), OA(B), OA(T), OA(H), OA(hd), OA(rot), OA(gptj), OA(tab_m),
                     OA(sign), OA(acc));
    } else {
        st = OCL_RUN(s, OCL_K_rope_bwd, n, 0, OA(s_m), OA(s_o), OA(ssb), OA(sst), OA(ssh), OA(d_m), OA(d_o), OA(dsb),
                     OA(dst_), OA(dsh), OA(p_m), OA(p_o), OA(B), OA(T), OA(H), OA(hd), OA(rot), OA(gptj), OA(tab_m));
    }
    ocl_temp_free(s, tab_m);
    return st;
}
