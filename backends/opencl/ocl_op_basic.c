/* fill, copy/cast, elementwise activations and arithmetic, AdamW, global norm, clip. */
#include <math.h>
#include <string.h>

#include "ocl.h"

/* Right-align a view's shape/strides to 4 dims (leading dims of size 1). */
static void to4(const sea_tensor *t, cl_int4 *shape, cl_int4 *stride)
{
    int pad = SEA_MAX_DIMS - t->ndim;
    for (int i = 0; i < SEA_MAX_DIMS; i++) {
        int k = i - pad;
        shape->s[i] = k >= 0 ? (cl_int)t->shape[k] : 1;
        stride->s[i] = k >= 0 ? (cl_int)t->stride[k] : 0;
    }
}

static bool fits_u32(const sea_tensor *t)
{
    return sea_tensor_numel(t) < (int64_t)UINT32_MAX && t->offset / sea_dtype_size(t->dtype) < UINT32_MAX;
}

sea_status ocl_op_fill(sea_stream *s, const sea_op *op)
{
    sea_tensor *o = op->out[0];
    if (!fits_u32(o)) return sea_error(SEA_ERR_UNSUPPORTED, "%s: fill: tensor too large for 32-bit indexing", ocl_dev(s)->label);
    double v = op->p.fill.value;
    cl_uint bits = 0;
    cl_int esz = (cl_int)sea_dtype_size(o->dtype);
    switch (o->dtype) {
    case SEA_F32: {
        float f = (float)v;
        memcpy(&bits, &f, 4);
        break;
    }
    case SEA_BF16: bits = sea_f32_to_bf16((float)v); break;
    case SEA_F16: bits = sea_f32_to_f16((float)v); break;
    case SEA_I32: {
        int32_t iv = (int32_t)llrint(v);
        memcpy(&bits, &iv, 4);
        break;
    }
    default: return sea_error(SEA_ERR_DTYPE, "%s: fill: dtype %d", ocl_dev(s)->label, o->dtype);
    }
    cl_int4 shape, stride;
    to4(o, &shape, &stride);
    cl_mem m = ocl_mem(o);
    cl_uint off = ocl_off(o), n = (cl_uint)sea_tensor_numel(o);
    return OCL_RUN(s, OCL_K_fill_nd, n, 0, OA(m), OA(off), OA(esz), OA(bits), OA(shape), OA(stride), OA(n));
}

static sea_status copy_views(sea_stream *s, const sea_tensor *src, sea_tensor *dst, int accumulate)
{
    if (!fits_u32(src) || !fits_u32(dst))
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: copy: tensor too large for 32-bit indexing", ocl_dev(s)->label);
    cl_int4 shape, ss, ds, shape_d;
    to4(src, &shape, &ss);
    to4(dst, &shape_d, &ds);
    cl_mem sm = ocl_mem(src), dm = ocl_mem(dst);
    cl_uint so = ocl_off(src), dof = ocl_off(dst), n = (cl_uint)sea_tensor_numel(src);
    cl_int sdt = src->dtype, ddt = dst->dtype;
    return OCL_RUN(s, OCL_K_copy_nd, n, 0, OA(sm), OA(so), OA(sdt), OA(dm), OA(dof), OA(ddt), OA(accumulate),
                   OA(shape), OA(ss), OA(ds), OA(n));
}

sea_status ocl_op_copy(sea_stream *s, const sea_op *op, bool backward)
{
    if (!backward) return copy_views(s, op->in[0], op->out[0], 0);
    if (!op->gin[0] || !op->gout[0]) return SEA_OK;
    if (op->gin[0]->dtype == SEA_I32 || op->gout[0]->dtype == SEA_I32)
        return sea_error(SEA_ERR_DTYPE, "%s: copy backward: integer gradients", ocl_dev(s)->label);
    return copy_views(s, op->gout[0], op->gin[0], 1);
}

#define T_ARGS(t) cl_mem t##_m = ocl_mem(t); cl_uint t##_o = ocl_off(t)

sea_status ocl_op_elementwise(sea_stream *s, const sea_op *op, bool backward)
{
    const sea_tensor *x = op->in[0];
    cl_uint n = (cl_uint)sea_tensor_numel(x);
    if (!fits_u32(x)) return sea_error(SEA_ERR_UNSUPPORTED, "%s: %s: tensor too large", ocl_dev(s)->label, sea_op_name(op->kind));
    T_ARGS(x);
    /* p is a union: only GELU owns p.act (reading it for other ops reads another member). */
    cl_int approx = op->kind == SEA_OP_GELU && op->p.act.approximate;
    if (!backward) {
        sea_tensor *y = op->out[0];
        T_ARGS(y);
        switch (op->kind) {
        case SEA_OP_GELU: return OCL_RUN(s, OCL_K_gelu_fwd, n, 0, OA(x_m), OA(x_o), OA(y_m), OA(y_o), OA(n), OA(approx));
        case SEA_OP_SILU: return OCL_RUN(s, OCL_K_silu_fwd, n, 0, OA(x_m), OA(x_o), OA(y_m), OA(y_o), OA(n));
        case SEA_OP_RELU: return OCL_RUN(s, OCL_K_relu_fwd, n, 0, OA(x_m), OA(x_o), OA(y_m), OA(y_o), OA(n));
        case SEA_OP_SCALE: {
            float a = op->p.scale.alpha;
            return OCL_RUN(s, OCL_K_scale_fwd, n, 0, OA(x_m), OA(x_o), OA(y_m), OA(y_o), OA(n), OA(a));
        }
        case SEA_OP_SWIGLU: {
            const sea_tensor *u = op->in[1];
            T_ARGS(u);
            return OCL_RUN(s, OCL_K_swiglu_fwd, n, 0, OA(x_m), OA(x_o), OA(u_m), OA(u_o), OA(y_m), OA(y_o), OA(n));
        }
        case SEA_OP_ADD:
        case SEA_OP_MUL: {
            const sea_tensor *b = op->in[1];
            T_ARGS(b);
            cl_uint nb = (cl_uint)sea_tensor_numel(b);
            cl_int mul = op->kind == SEA_OP_MUL;
            return OCL_RUN(s, OCL_K_binary_fwd, n, 0, OA(x_m), OA(x_o), OA(b_m), OA(b_o), OA(y_m), OA(y_o), OA(n),
                           OA(nb), OA(mul));
        }
        default: break;
        }
        return sea_error(SEA_ERR_INTERNAL, "elementwise: op %s", sea_op_name(op->kind));
    }
    const sea_tensor *gy = op->gout[0];
    if (!gy) return SEA_OK;
    T_ARGS(gy);
    sea_tensor *gx = op->gin[0];
    switch (op->kind) {
    case SEA_OP_GELU:
    case SEA_OP_SILU:
    case SEA_OP_RELU: {
        if (!gx) return SEA_OK;
        T_ARGS(gx);
        ocl_kernel_id k = op->kind == SEA_OP_GELU ? OCL_K_gelu_bwd : op->kind == SEA_OP_SILU ? OCL_K_silu_bwd : OCL_K_relu_bwd;
        if (op->kind == SEA_OP_GELU)
            return OCL_RUN(s, k, n, 0, OA(x_m), OA(x_o), OA(gy_m), OA(gy_o), OA(gx_m), OA(gx_o), OA(n), OA(approx));
        return OCL_RUN(s, k, n, 0, OA(x_m), OA(x_o), OA(gy_m), OA(gy_o), OA(gx_m), OA(gx_o), OA(n));
    }
    case SEA_OP_SCALE: {
        if (!gx) return SEA_OK;
        T_ARGS(gx);
        float a = op->p.scale.alpha;
        return OCL_RUN(s, OCL_K_axpy, n, 0, OA(gy_m), OA(gy_o), OA(gx_m), OA(gx_o), OA(n), OA(a));
    }
    case SEA_OP_SWIGLU: {
        const sea_tensor *u = op->in[1];
        T_ARGS(u);
        sea_tensor *gu = op->gin[1];
        cl_int has_gg = gx != NULL, has_gu = gu != NULL;
        if (!has_gg && !has_gu) return SEA_OK;
        cl_mem gg_m = gx ? ocl_mem(gx) : gy_m, gu_m = gu ? ocl_mem(gu) : gy_m;
        cl_uint gg_o = gx ? ocl_off(gx) : 0, gu_o = gu ? ocl_off(gu) : 0;
        return OCL_RUN(s, OCL_K_swiglu_bwd, n, 0, OA(x_m), OA(x_o), OA(u_m), OA(u_o), OA(gy_m), OA(gy_o), OA(gg_m),
                       OA(gg_o), OA(has_gg), OA(gu_m), OA(gu_o), OA(has_gu), OA(n));
    }
    case SEA_OP_ADD:
    case SEA_OP_MUL: {
        const sea_tensor *b = op->in[1];
        T_ARGS(b);
        cl_uint nb = (cl_uint)sea_tensor_numel(b);
        cl_int mul = op->kind == SEA_OP_MUL;
        if (gx) {
            T_ARGS(gx);
            SEA_TRY(OCL_RUN(s, OCL_K_binary_bwd_a, n, 0, OA(gy_m), OA(gy_o), OA(b_m), OA(b_o), OA(gx_m), OA(gx_o), OA(n),
                            OA(nb), OA(mul)));
        }
        sea_tensor *gb = op->gin[1];
        if (!gb) return SEA_OK;
        T_ARGS(gb);
        if (nb == n)
            return OCL_RUN(s, OCL_K_binary_bwd_b_same, n, 0, OA(gy_m), OA(gy_o), OA(x_m), OA(x_o), OA(gb_m), OA(gb_o),
                           OA(n), OA(mul));
        cl_uint rows = nb ? n / nb : 0;
        return OCL_RUN(s, OCL_K_binary_bwd_b_bcast, nb, 0, OA(gy_m), OA(gy_o), OA(x_m), OA(x_o), OA(gb_m), OA(gb_o),
                       OA(rows), OA(nb), OA(mul));
    }
    default: break;
    }
    return sea_error(SEA_ERR_INTERNAL, "elementwise backward: op %s", sea_op_name(op->kind));
}

/* Global norm: a fixed number of chunks (so the summation order depends only on n), each
 * reduced by one work-group, then one group sums the partials. */
#define NORM_GROUPS 64

sea_status ocl_op_optim(sea_stream *s, const sea_op *op)
{
    switch (op->kind) {
    case SEA_OP_ADAMW: {
        const sea_tensor *g = op->in[0];
        sea_tensor *p = op->out[0], *m = op->out[1], *v = op->out[2];
        T_ARGS(g);
        T_ARGS(p);
        T_ARGS(m);
        T_ARGS(v);
        cl_uint n = (cl_uint)sea_tensor_numel(p);
        float lr = op->p.adamw.lr, b1 = op->p.adamw.beta1, b2 = op->p.adamw.beta2, eps = op->p.adamw.eps;
        float wd = op->p.adamw.weight_decay, l2 = op->p.adamw.l2;
        float bc1 = (float)(1.0 - pow((double)b1, (double)op->p.adamw.step));
        float bc2 = (float)(1.0 - pow((double)b2, (double)op->p.adamw.step));
        return OCL_RUN(s, OCL_K_adamw, n, 0, OA(g_m), OA(g_o), OA(p_m), OA(p_o), OA(m_m), OA(m_o), OA(v_m), OA(v_o), OA(n),
                       OA(lr), OA(b1), OA(b2), OA(eps), OA(wd), OA(l2), OA(bc1), OA(bc2));
    }
    case SEA_OP_GLOBAL_NORM: {
        const sea_tensor *x = op->in[0];
        sea_tensor *out = op->out[0];
        T_ARGS(x);
        T_ARGS(out);
        cl_uint n = (cl_uint)sea_tensor_numel(x);
        cl_uint groups = NORM_GROUPS, chunk = (n + groups - 1) / groups;
        size_t wg = ocl_reduce_wg(s, OCL_K_sumsq_partial, 256);
        cl_mem part;
        SEA_TRY(ocl_temp_alloc(s, groups * sizeof(float), &part));
        sea_status st = OCL_RUN(s, OCL_K_sumsq_partial, groups * wg, wg, OA(x_m), OA(x_o), OA(n), OA(chunk), OA(part),
                                OA_LOCAL(wg * sizeof(float)));
        size_t wg2 = ocl_reduce_wg(s, OCL_K_sumsq_final, 64);
        if (!st)
            st = OCL_RUN(s, OCL_K_sumsq_final, wg2, wg2, OA(part), OA(groups), OA(out_m), OA(out_o),
                         OA_LOCAL(wg2 * sizeof(float)));
        ocl_temp_free(s, part);
        return st;
    }
    case SEA_OP_CLIP: {
        const sea_tensor *nrm = op->in[0];
        sea_tensor *g = op->out[0];
        T_ARGS(nrm);
        T_ARGS(g);
        cl_uint n = (cl_uint)sea_tensor_numel(g);
        float mx = op->p.clip.max_norm;
        return OCL_RUN(s, OCL_K_clip, n, 0, OA(nrm_m), OA(nrm_o), OA(g_m), OA(g_o), OA(n), OA(mx));
    }
    default: break;
    }
    return sea_error(SEA_ERR_INTERNAL, "optim: op %s", sea_op_name(op->kind));
}
